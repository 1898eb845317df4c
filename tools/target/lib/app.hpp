// stampede-target request handling: routing, endpoints, faults, auth, stats.
//
// Operation: `app::handle` turns one parsed HTTP request into a response
//   (see docs/target.md for every endpoint). /services/ requests are counted,
//   rolled for faults (drop, 503, 429, malformed, in that order, then latency),
//   authenticated, then dispatched. /couchdb/, /hooks/, /link/ and /set/
//   requests (the profiles, profiles.hpp and erp_profiles.hpp) go through
//   the same faults and auth, then to their profile. Batch bodies are parsed completely with
//   simdjson On-Demand before any record is applied, so a malformed body
//   changes nothing.
// Concurrency: thread-safe; each worker thread passes its own `worker_ctx`
//   (parsers and scratch buffers are not shared).
// Limitations: async batch results are kept for the newest 10,000 batches;
//   older batch ids answer 404.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <simdjson.h>

#include "tools/target/lib/auth.hpp"
#include "tools/target/lib/erp_profiles.hpp"
#include "tools/target/lib/http.hpp"
#include "tools/target/lib/profiles.hpp"
#include "tools/target/lib/rules.hpp"
#include "tools/target/lib/server.hpp"
#include "tools/target/lib/stats.hpp"
#include "tools/target/lib/store.hpp"

namespace stampede::target {

/// Per-thread parsing state.
struct worker_ctx {
  simdjson::ondemand::parser od;
  simdjson::dom::parser dom;
  struct parsed_record {
    record_op op;
    errc pre_error = errc::ok;  // bad_request found while parsing
    std::string_view pre_message;
  };
  std::vector<parsed_record> recs;
};

/// Throws std::invalid_argument if a rate is outside [0,1], a duration is
/// negative or a validation rule is malformed.
void check_faults(const faults& f);
/// The fault set as the JSON object accepted by POST /faults.
std::string faults_json(const faults& f);

class app {
public:
  static constexpr std::size_t max_kept_batches = 10000;

  /// Throws std::invalid_argument on bad options (auth mode, missing secrets, faults).
  explicit app(const options& o);

  void handle(const http_request& req, http_response& res, worker_ctx& ctx);

  void set_faults(const faults& f);
  faults current_faults() const;
  std::string stats_json() const { return stats_.to_json(); }
  void reset();
  /// Loads options.state_file if set and present; throws std::runtime_error.
  void load_state();
  /// Saves options.state_file if set; throws std::runtime_error.
  void save_state() const;

private:
  struct fault_state {
    faults f;
    std::vector<rule> rules;
  };
  struct batch {
    std::uint32_t service = 0;
    std::chrono::steady_clock::time_point ready;
    std::string results;  // the JSON array
  };

  std::shared_ptr<const fault_state> fault_snapshot() const;
  double roll();

  /// Rolls the faults (drop, 503, 429, malformed with `malformed_body`) and
  /// checks auth; false when `res` already is the answer.
  bool admit(const http_request& req, http_response& res, const fault_state& fs,
             std::string_view malformed_body);
  void handle_services(const http_request& req, http_response& res, worker_ctx& ctx);
  /// /couchdb/, /hooks/, /link/, /set/: faults and auth as for /services/, then the profile.
  template <class Profile>
  void handle_profile(Profile& p, std::size_t prefix_len, std::string_view malformed_body,
                      const http_request& req, http_response& res, worker_ctx& ctx);
  void post_faults(const http_request& req, http_response& res, worker_ctx& ctx);
  /// Parses and applies a batch body; false (and `res` set to 400) on a bad body.
  bool run_batch(std::uint32_t service, const http_request& req, http_response& res,
                 worker_ctx& ctx, const fault_state& fs, std::string& results);
  void rest_record(std::uint32_t service, op_kind op, std::string_view remote,
                   const http_request& req, http_response& res, worker_ctx& ctx,
                   const fault_state& fs);
  void message(std::uint32_t service, const http_request& req, http_response& res,
               worker_ctx& ctx, const fault_state& fs);
  void get_key(std::uint32_t service, std::string_view key, http_response& res);
  void get_keys(std::uint32_t service, http_response& res);
  void get_batch(std::uint32_t service, std::string_view id, http_response& res);

  /// --echo-credentials: what error messages append for this request ("" = off).
  std::string echo_of(const http_request& req);

  options opts_;
  std::mutex echo_mu_;
  std::string last_token_form_;  // --echo-credentials: the latest POST /oauth/token body
  authenticator auth_;
  stats stats_;
  store store_;
  couch_profile couch_;
  hook_profile hooks_;
  link_profile link_;
  set_profile set_;

  mutable std::mutex faults_mu_;
  std::shared_ptr<const fault_state> faults_;
  std::atomic<std::uint64_t> rng_{0};

  std::mutex batches_mu_;
  std::unordered_map<std::uint64_t, batch> batches_;
  std::deque<std::uint64_t> batch_order_;
  std::atomic<std::uint64_t> next_batch_{1};
};

}  // namespace stampede::target
