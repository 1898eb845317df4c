// Every typed actor interface of stampede, in one place.
//
// Operation: per service and cycle, `spawn_pipeline` (actors/pipeline.hpp)
//   spawns
//     extractor -> transformer xN -> sender -> reconciler
//   Each arrow is a request whose response means "accepted downstream"; an
//   upstream stage keeps at most K (engine.queue_batches) of them unanswered,
//   so no mailbox grows without bound and a slow target slows the extractor.
//   Every actor extends `status_api`: `status` answers an `actor_status`
//   holding that stage's typed counters (no string keys).
// Concurrency: extractor and reconciler are spawned `detached` (their own
//   threads) because they block on SQLite and RocksDB; transformer and sender
//   are scheduled (CPU only; HTTP runs on http_client's own thread).
// Limitations: CAF 0.17 atoms are at most 10 characters. The status and
//   summary structs are local-only message types (never serialized).
#pragma once

#include "pipeline/reconcile.hpp"
#include "pipeline/record.hpp"

#include <caf/all.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

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
using submit_atom = caf::atom_constant<caf::atom("submitted")>;

/// Starts polling an async batch once its id is durable (send_driver).
using persisted_fn = std::function<void()>;

/// The extractor's counters; also its final answer to `run`.
struct extractor_status {
  std::uint64_t rows_read = 0;
  std::uint64_t rows_expected = 0;     // initial load only (0 = unknown)
  std::uint64_t pages = 0;             // pages read (= handed to transformers)
  std::uint64_t outstanding = 0;       // pages not yet accepted by a transformer
  std::uint64_t max_outstanding = 0;
  bool finished = false;               // last page read, stopped, or failed
  bool stopped = false;                // a stop request ended the reading
  std::string upper;                   // the cycle's upper stamp bound
  std::string bounds_note;             // plan_bounds' note (pipeline/cycle_bounds.hpp)
  std::string error;
};

struct transformer_status {
  std::uint64_t pages = 0, batches = 0, records = 0;
  std::uint64_t queued = 0;            // batches waiting for the sender
  std::uint64_t outstanding = 0;       // batches sent, not yet accepted
  std::uint64_t max_outstanding = 0;
};

struct sender_status {
  std::uint64_t batches = 0, records = 0, failed_records = 0;
  std::uint64_t in_flight = 0;         // batches started, outcome not yet durable
  std::uint64_t in_flight_records = 0; // records of those batches
  std::uint64_t max_in_flight = 0;
  std::uint64_t waiting = 0;           // batches accepted later (window full)
  std::uint64_t max_waiting = 0;
};

/// What a cycle did and where it left the service: the reconciler's answer
/// to `flush` and the core of its status.
struct cycle_summary {
  cycle_counts counts;                 // this cycle
  std::string checkpoint_stamp;
  std::int64_t checkpoint_recno = 0;
  bool initial_load_complete = false;
  std::array<std::uint64_t, 4> records{};  // service_state::counts: records by record_status
};

struct reconciler_status {
  cycle_summary summary;
  std::uint64_t commits = 0;
  double commit_seconds = 0;
  std::uint64_t complete_pages = 0;    // contiguous pages durable from seq 0 (the checkpoint)
  std::uint64_t settled_pages = 0;     // pages whose every part was applied (failed or not)
  std::string error;
};

/// The answer of every actor to `status`.
struct actor_status {
  std::uint32_t service = 0;
  std::variant<std::monostate, extractor_status, transformer_status, sender_status,
               reconciler_status>
    stage;
  /// The stage's counters, or nullptr when this is another stage.
  template <class T>
  const T* as() const {
    return std::get_if<T>(&stage);
  }
  /// "extractor", "transformer", "sender", "reconciler" ("" = none).
  std::string_view stage_name() const;
};

/// The status interface every actor extends.
using status_api = caf::typed_actor<caf::replies_to<status_atom>::with<actor_status>>;

/// Persists outcomes and moves the checkpoint (detached: RocksDB writes).
using reconciler_actor = caf::typed_actor<
  // Persists one batch's outcomes and, when a page prefix completes, the new
  // checkpoint, in one WriteBatch. Replies with the records persisted.
  caf::replies_to<result_ptr>::with<std::uint64_t>,
  // Replies once all pages with seq < n are durable, after a synced commit of
  // the service state; `initial_done` marks the initial load complete (only
  // when no batch failed at the target level). The reply is the summary.
  caf::replies_to<flush_atom, std::uint64_t, bool>::with<cycle_summary>,
  // An async batch was accepted under this id: stores it with its records
  // (the "batches" family) before polling starts. Replies when written.
  caf::replies_to<submit_atom, batch_ptr, std::string>::with<bool>>::extend_with<status_api>;

/// Sends batches to the target with at most `in_flight` at once.
using sender_actor = caf::typed_actor<
  // Takes a batch; replies when it has entered the in-flight window (so a
  // full window holds the transformer back).
  caf::replies_to<batch_ptr>::with<std::uint64_t>,
  // Internal: a batch's outcome, posted from the HTTP thread.
  caf::reacts_to<result_atom, result_ptr>,
  // Internal: an async batch's id, posted from the HTTP thread; polling
  // starts (persisted_fn) once the reconciler has stored it.
  caf::reacts_to<submit_atom, batch_ptr, std::string, persisted_fn>>::extend_with<status_api>;

/// Turns pages into batches (mapping -> JSON, op decision, skip unchanged).
using transformer_actor = caf::typed_actor<
  // Takes a page; replies when every batch made from it has been accepted
  // by the sender.
  caf::replies_to<page_ptr>::with<std::uint64_t>>::extend_with<status_api>;

/// Reads keyset pages from the source (detached: blocking database I/O).
using extractor_actor = caf::typed_actor<
  // Runs this cycle's extraction; replies with the final counters (pages
  // handed to transformers, stopped or not) once the last page has been
  // accepted (or after a stop).
  caf::replies_to<run_atom>::with<extractor_status>,
  // Internal: read the next page if the window allows.
  caf::reacts_to<pull_atom>,
  // Stop reading (SIGTERM); pages already read still complete.
  caf::reacts_to<stop_atom>>::extend_with<status_api>;

} // namespace stampede

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::page_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::result_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::extractor_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::cycle_summary)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::actor_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(stampede::persisted_fn)
