// The extractor: reads keyset pages of one service from the source.
//
// Operation: on `run`, opens the source (on its own thread), takes the
//   cycle's bounds from plan_bounds (pipeline/cycle_bounds.hpp: checkpoint
//   minus the lookback, source clock minus the safety delay and below the
//   oldest open transaction), then reads pages of
//   `page_size` rows, attaches each row's prior ledger entry (one MultiGet per
//   page) and hands them round-robin to the transformers, keeping at most
//   `window` pages unanswered. Before the first keyset page it hands on the
//   side pages (source/side_reader.hpp: async batches of earlier cycles to
//   poll, replay ranges, the due resend queue), which never move the
//   checkpoint. With `--shard k/N` (config::shard) every page keeps only
//   shard k's rows (pipeline/shard.hpp) before its ledger lookup; the
//   page's end still moves the checkpoint, and an initial load expects
//   1/N of the rows counted. Replies to `run` with its final counters
//   (extractor_status: pages, rows, stopped) once the last page has been
//   accepted. Errors: errc::source_failed (open, count, read, ledger lookup),
//   errc::bad_config, or the transformer's error.
// Concurrency: spawn detached: read_page and MultiGet block.
// Limitations: one cycle per actor; spawn a new extractor per cycle.
#pragma once

#include "actors/interfaces.hpp"
#include "metrics/probes.hpp"
#include "pipeline/config.hpp"
#include "source/side_reader.hpp"
#include "source/source.hpp"
#include "storage/ledger.hpp"

#include <memory>
#include <string>
#include <vector>

namespace stampede {

struct extractor_config {
  const config* cfg = nullptr;
  const service_config* service = nullptr;
  std::vector<std::string> columns;            // the transformer's columns()
  std::vector<transformer_actor> transformers;
  state_store* store = nullptr;
  service_state start;                         // state at cycle start
  bool initial_load = false;                   // no lookback; count rows for ETA
  std::uint32_t window = 4;                    // K
  std::shared_ptr<extractor_probe> probe;      // optional
  bool ledger_empty = false;                   // fresh initial load: no prior entries to look up
  std::size_t max_resend = 100000;             // resend-queue keys read per cycle
  /// Validates; returns an error message or "".
  std::string validate() const;
};

struct extractor_state {
  static inline const char* name = "extractor";
  extractor_config cfg;
  std::unique_ptr<source> src;
  std::unique_ptr<side_reader> side;           // resumed batches, replays, resends (first)
  bool side_done = false;
  page_query query;
  std::uint64_t next_seq = 0;
  std::uint64_t outstanding = 0;
  std::uint64_t max_outstanding = 0;
  std::uint64_t rows_read = 0;
  std::uint64_t rows_expected = 0;             // initial load only (0 = unknown)
  std::size_t next_transformer = 0;
  bool finished = false;                        // last page read, or stopped
  bool stopped = false;
  bool started = false;
  std::string bounds_note;                     // plan_bounds' note
  std::string error;
  caf::typed_response_promise<extractor_status> done;
  extractor_status status() const;
};

extractor_actor::behavior_type
extractor(extractor_actor::stateful_pointer<extractor_state> self, extractor_config cfg);

} // namespace stampede
