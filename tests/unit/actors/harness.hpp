// Test harness for the actor pipeline under CAF's deterministic test_coordinator.
//
// Operation: `pipeline_fixture` builds a real SQLite table (Protheus columns),
//   a real state_store in a temp dir, a config, and spawns the real
//   reconciler, sender, transformers and extractor, all *scheduled* on the
//   testing scheduler (no detached threads). The sender's batch_starter is a
//   "slow target": it only stores (batch, done); the test releases stored
//   batches with `release()` and the done callback anon_sends the outcome back
//   to the sender. The actors come from the same `spawn_pipeline` and
//   `spawn_driver` the cycle runner uses (actors/pipeline.hpp), scheduled
//   (detached = false); the driver's reports land in `out`. `step()` runs one job (one message);
//   `run_until_idle(check)` steps until no job is left, calling `check` after
//   every step.
//   `test_world` is the table, config and store without actors (cycle tests
//   on a real actor system use it).
// Concurrency: everything runs on the test thread.
// Limitations: actor state is read directly through stateful_actor casts and
//   is only valid while the actor is alive.
#pragma once

#include "actors/errc.hpp"
#include "actors/extractor.hpp"
#include "actors/interfaces.hpp"
#include "actors/pipeline.hpp"
#include "actors/reconciler.hpp"
#include "actors/sender.hpp"
#include "actors/transformer.hpp"
#include "pipeline/config.hpp"
#include "pipeline/transform.hpp"
#include "storage/ledger.hpp"

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace stampede::actortest {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    static std::atomic<int> counter{0};
    path = std::filesystem::temp_directory_path() /
           ("stampede-actortest-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline void sql_exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  INFO(msg);
  REQUIRE(rc == SQLITE_OK);
}

/// The row at 0-based `index` in (stamp, recno) order; -1 = the last row.
inline keyset_pos row_at(const std::string& db_path, const std::string& table,
                         std::int64_t index) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  const std::string sql =
    index < 0 ? "SELECT S_T_A_M_P_, R_E_C_N_O_ FROM " + table +
                  " ORDER BY S_T_A_M_P_ DESC, R_E_C_N_O_ DESC LIMIT 1"
              : "SELECT S_T_A_M_P_, R_E_C_N_O_ FROM " + table +
                  " ORDER BY S_T_A_M_P_, R_E_C_N_O_ LIMIT 1 OFFSET " + std::to_string(index);
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  keyset_pos p;
  if (sqlite3_step(st) == SQLITE_ROW) {
    p.stamp = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    p.recno = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return p;
}

struct fixture_params {
  std::uint32_t rows = 2010;
  std::uint32_t page_size = 25;
  std::uint32_t batch_records = 10;
  std::uint32_t K = 4;             // engine.queue_batches
  std::uint32_t W = 4;             // target in_flight
  std::uint32_t transformers = 2;
  std::uint32_t max_attempts = 5;
};

/// A batch the slow target holds, with the sender's completion callback.
struct held_batch {
  batch_ptr batch;
  std::function<void(batch_result)> done;
};

/// Replies the driver actor saw.
struct driver_out {
  bool ran = false;
  std::uint64_t pages = 0;
  extractor_status extracted;
  bool flushed = false;
  cycle_summary summary;
  std::string error;
  caf::error err;
};

template <class State, class Handle>
State& state_of(const Handle& h) {
  auto* p = dynamic_cast<typename Handle::template stateful_pointer<State>>(
    caf::actor_cast<caf::abstract_actor*>(h));
  REQUIRE(p != nullptr);
  return p->state;
}

inline caf::actor_system_config& testing_config(caf::actor_system_config& c) {
  c.set("scheduler.policy", caf::atom("testing"));
  register_errors(c);
  return c;
}

/// The world a pipeline works on: a real SQLite table (Protheus columns), a
/// config and a real state_store in a temp dir. No actor system.
struct test_world {
  static constexpr std::uint32_t service_id = 7;

  explicit test_world(fixture_params params) : p(params) {
    make_table();
    last = row_at(db_path, "SA1010", -1);
    make_config();
    store = state_store::open(dir.file("state"));
  }

  fixture_params p;
  temp_dir dir;
  std::string db_path = dir.file("erp.db");
  keyset_pos last;                    // last row in (stamp, recno) order
  config cfg;
  std::shared_ptr<const transformer> tf;
  std::unique_ptr<state_store> store;

private:
  void make_table() {
    // Stamps advance one second every two rows (ties in the keyset), and
    // R_E_C_N_O_ is a permutation of 1..rows (not in stamp order).
    REQUIRE(p.rows % 7919 != 0);
    sql_exec(db_path,
             "CREATE TABLE SA1010 (A1_COD TEXT, A1_NOME TEXT, A1_QTD INTEGER, S_T_A_M_P_ TEXT, "
             "R_E_C_N_O_ INTEGER PRIMARY KEY, D_E_L_E_T_ TEXT NOT NULL DEFAULT ' ');"
             "CREATE INDEX SA1010_STAMP ON SA1010 (S_T_A_M_P_, R_E_C_N_O_);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
               std::to_string(p.rows) +
               ") INSERT INTO SA1010 (A1_COD, A1_NOME, A1_QTD, S_T_A_M_P_, R_E_C_N_O_, D_E_L_E_T_) "
               "SELECT printf('C%06d', i), 'client ' || i || '    ', i * 3, "
               "strftime('%Y-%m-%d %H:%M:%S', '2024-01-01 00:00:00', '+' || (i / 2) || ' seconds') "
               "|| '.250', ((i * 7919) % " +
               std::to_string(p.rows) + ") + 1, ' ' FROM n;");
  }

  void make_config() {
    cfg.file = "actortest.toml";
    cfg.source.path = db_path;
    cfg.source.page_size = p.page_size;
    cfg.engine.queue_batches = p.K;
    cfg.engine.transformers = p.transformers;
    target_config tgt;
    tgt.name = "portal";
    tgt.base_url = "http://127.0.0.1:9";
    tgt.protocol = target_protocol::sync_batch;
    tgt.batch_records = p.batch_records;
    tgt.in_flight = p.W;
    tgt.max_attempts = p.max_attempts;
    cfg.targets.emplace("portal", tgt);
    service_config svc;
    svc.id = service_id;
    svc.name = "clients";
    svc.table = "SA1010";
    svc.target = "portal";
    for (auto [name, column, type] : {std::tuple{"code", "A1_COD", field_type::string},
                                      std::tuple{"name", "A1_NOME", field_type::string},
                                      std::tuple{"qty", "A1_QTD", field_type::integer}}) {
      field_mapping f;
      f.name = name;
      f.column = column;
      f.type = type;
      svc.fields.push_back(f);
    }
    cfg.services.push_back(svc);
    tf = std::make_shared<const transformer>(cfg.services[0], cfg.targets.at("portal"), cfg.source);
  }

};

class pipeline_fixture : public test_world {
public:
  explicit pipeline_fixture(fixture_params params)
    : test_world(params), sys(testing_config(sys_cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    spawn_pipeline();
  }

  ~pipeline_fixture() {
    // Drop the stored callbacks (they hold strong sender handles), then stop
    // every actor and let the coordinator process the exits.
    held->clear();
    caf::anon_send_exit(drv, caf::exit_reason::user_shutdown);
    handles.exit_all(caf::exit_reason::user_shutdown);
    sched.run();
  }

  pipeline_fixture(const pipeline_fixture&) = delete;
  pipeline_fixture& operator=(const pipeline_fixture&) = delete;

  /// Spawns the driver: run the extractor, then flush every page it produced.
  /// `initial_load` is what the driver tells the flush (false after a stop).
  void start(bool initial_load = true) {
    auto obs = std::make_shared<driver_observer>();
    auto o = out;
    obs->extracted = [o](const extractor_status& s) {
      o->ran = true;
      o->pages = s.pages;
      o->extracted = s;
    };
    obs->flushed = [o](const cycle_summary& s) {
      o->flushed = true;
      o->summary = s;
    };
    obs->failed = [o](const caf::error& e, bool during_flush) {
      o->err = e;
      o->error = std::string(during_flush ? "flush: " : "run: ") + render(e);
    };
    drv = spawn_driver(sys, handles, initial_load, std::move(obs));
  }

  bool step() { return sched.try_run_once(); }

  /// Steps until no job is left, calling check() after every step.
  std::size_t run_until_idle(const std::function<void()>& check) {
    std::size_t n = 0;
    while (step()) {
      ++n;
      check();
      REQUIRE(n < 10'000'000);
    }
    return n;
  }

  /// Completes up to `n` held batches (oldest first); records for which
  /// `fails` returns true get ok = false. Returns how many were released.
  std::size_t release(std::size_t n, const std::function<bool(const out_record&)>& fails = {}) {
    std::size_t k = 0;
    while (k < n && !held->empty()) {
      held_batch h = std::move(held->front());
      held->pop_front();
      batch_result r;
      r.batch = h.batch;
      r.http_status = 200;
      r.http_attempts = 1;
      for (const auto& x : h.batch->records) {
        record_outcome o;
        if (fails && fails(x)) {
          o.error = "HTTP 422: rejected " + x.key;
          o.http_status = 422;
        } else {
          o.ok = true;
          o.remote_id = "r-" + x.key;
          o.http_status = 200;
        }
        r.outcomes.push_back(std::move(o));
      }
      h.done(std::move(r));
      ++released;
      ++k;
    }
    return k;
  }

  /// Completes the oldest held batch as a target-level failure (nothing
  /// reached the target; its records stay untouched). False when none is held.
  bool release_target_failure(failure_class cls = failure_class::unreachable) {
    if (held->empty())
      return false;
    held_batch h = std::move(held->front());
    held->pop_front();
    batch_result r;
    r.batch = h.batch;
    r.target = target_failure{cls, "connection refused", 0, "http://127.0.0.1:9/sync"};
    h.done(std::move(r));
    ++released;
    return true;
  }

  /// The status a stage answers (asked by a helper actor, run to idle).
  actor_status ask_status(const status_api& h) {
    auto got = std::make_shared<std::optional<actor_status>>();
    sys.spawn(asker, h, got);
    run_until_idle([] {});
    REQUIRE(got->has_value());
    return **got;
  }

  static void asker(caf::event_based_actor* self, status_api h,
                    std::shared_ptr<std::optional<actor_status>> got) {
    self->request(h, caf::infinite, status_atom::value).then([=](actor_status& s) {
      *got = std::move(s);
    });
  }

  extractor_state& ex_state() { return state_of<extractor_state>(ex); }
  sender_state& snd_state() { return state_of<sender_state>(snd); }
  transformer_state& tf_state(std::size_t i) { return state_of<transformer_state>(tfs.at(i)); }
  reconciler_state& rec_state() { return state_of<reconciler_state>(rec); }

  /// Batches a full page splits into.
  std::uint32_t batches_per_page() const {
    return (p.page_size + p.batch_records - 1) / p.batch_records;
  }
  /// Pages the extractor reads: full pages, then one short (maybe empty) last page.
  std::uint64_t expected_pages() const { return p.rows / p.page_size + 1; }
  /// Batches of the whole cycle.
  std::uint64_t expected_batches() const {
    const std::uint32_t tail = p.rows % p.page_size;
    return std::uint64_t{p.rows / p.page_size} * batches_per_page() +
           (tail == 0 ? 1 : (tail + p.batch_records - 1) / p.batch_records);
  }

  std::shared_ptr<std::deque<held_batch>> held = std::make_shared<std::deque<held_batch>>();
  std::uint64_t released = 0;
  std::shared_ptr<driver_out> out = std::make_shared<driver_out>();

  caf::actor_system_config sys_cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  pipeline_handles handles;
  reconciler_actor rec;
  sender_actor snd;
  std::vector<transformer_actor> tfs;
  extractor_actor ex;
  caf::actor drv;

private:
  void spawn_pipeline() {
    const service_state start = store->load_state(service_id);
    pipeline_params pp;
    pp.cfg = &cfg;
    pp.service = &cfg.services[0];
    pp.store = store.get();
    pp.start = start;
    pp.initial_load = !start.initial_load_complete;
    pp.tf = tf;
    auto h = held;
    pp.start_batch = [h](batch_ptr b, std::function<void(batch_result)> done, submitted_fn) {
      h->push_back(held_batch{std::move(b), std::move(done)});
    };
    pp.detached = false;  // everything on the test coordinator
    handles = stampede::spawn_pipeline(sys, pp);
    rec = handles.rec;
    snd = handles.snd;
    tfs = handles.tfs;
    ex = handles.ex;
  }
};

} // namespace stampede::actortest
