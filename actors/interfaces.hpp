// Every typed actor interface of stampede, in one place.
//
// Operation: per service and cycle, the supervisor spawns
//     extractor -> transformer xN -> sender -> reconciler
//   Each arrow is a request whose response means "accepted downstream"; an
//   upstream stage keeps at most K (engine.queue_batches) of them unanswered,
//   so no mailbox grows without bound and a slow target slows the extractor.
// Concurrency: extractor and reconciler are spawned `detached` (their own
//   threads) because they block on SQLite and RocksDB; transformer and sender
//   are scheduled (CPU only; HTTP runs on http_client's own thread).
// Limitations: CAF 0.17 atoms are at most 10 characters.
#pragma once

#include "pipeline/record.hpp"

#include <caf/all.hpp>

#include <cstdint>
#include <memory>

namespace stampede {

using page_ptr = std::shared_ptr<row_page>;
using batch_ptr = std::shared_ptr<send_batch>;
using result_ptr = std::shared_ptr<batch_result>;

using run_atom = caf::atom_constant<caf::atom("run")>;
using pull_atom = caf::atom_constant<caf::atom("pull")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using result_atom = caf::atom_constant<caf::atom("result")>;

/// Persists outcomes and moves the checkpoint (detached: RocksDB writes).
using reconciler_actor = caf::typed_actor<
  // Persists one batch's outcomes and, when a page prefix completes, the new
  // checkpoint, in one WriteBatch. Replies with the records persisted.
  caf::replies_to<result_ptr>::with<std::uint64_t>,
  // Replies once all pages with seq < n are durable, after a synced commit of
  // the service state; `initial_done` marks the initial load complete.
  // The reply is the cycle summary.
  caf::replies_to<flush_atom, std::uint64_t, bool>::with<caf::settings>,
  // Counts, checkpoint, pages waiting.
  caf::replies_to<status_atom>::with<caf::settings>>;

/// Sends batches to the target with at most `in_flight` at once.
using sender_actor = caf::typed_actor<
  // Takes a batch; replies when it has entered the in-flight window (so a
  // full window holds the transformer back).
  caf::replies_to<batch_ptr>::with<std::uint64_t>,
  // Internal: a batch's outcome, posted from the HTTP thread.
  caf::reacts_to<result_atom, result_ptr>,
  // Counts, in flight, waiting.
  caf::replies_to<status_atom>::with<caf::settings>>;

/// Turns pages into batches (mapping -> JSON, op decision, skip unchanged).
using transformer_actor = caf::typed_actor<
  // Takes a page; replies when every batch made from it has been accepted
  // by the sender.
  caf::replies_to<page_ptr>::with<std::uint64_t>,
  // Counts and batches waiting for the sender.
  caf::replies_to<status_atom>::with<caf::settings>>;

/// Reads keyset pages from the source (detached: blocking database I/O).
using extractor_actor = caf::typed_actor<
  // Runs this cycle's extraction; replies with the number of pages handed
  // to transformers once the last one has been accepted (or after stop).
  caf::replies_to<run_atom>::with<std::uint64_t>,
  // Internal: read the next page if the window allows.
  caf::reacts_to<pull_atom>,
  // Stop reading (SIGTERM); pages already read still complete.
  caf::reacts_to<stop_atom>,
  // Rows read, rows expected, pages outstanding, upper bound.
  caf::replies_to<status_atom>::with<caf::settings>>;

} // namespace stampede

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::page_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::result_ptr)
