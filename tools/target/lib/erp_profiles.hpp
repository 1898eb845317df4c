// stampede-target profiles of two Brazilian ERP integration APIs, each under
// its own path prefix (docs/target.md, "Smartlink profile" and "Senior SET
// profile"; modelled on the vendors' manuals, see there).
//
// Operation: `link_profile` plays TOTVS Smartlink Behavior Sharing under
//   /link/: POST setup (a tenant's subscriptions and requeueCountMax), POST
//   send/{type}/LinkProxy (a {"header":{type,tenantId},"data":{..}} message,
//   accepted with a message id and consumed at once by an emulated RM
//   consumer: *Inc* types create a record, *Alt* types update one, keyed by
//   data[keyField], default "IdLan"; a consumer failure requeues the message
//   requeueCountMax times, then it is "dead"), and GET queue / records /
//   setup / _stats for tests. `set_profile` plays Senior's GravarClientes web
//   service as the CRM's SET integration calls it, under /set/: POST clientes
//   (a batch of customers) answers {"retornosClientes":[..]} positionally,
//   `"erro":""` on success, codCli stable per customer; GET clientes / _stats.
//   Both have POST _config {"fail_next":N} (the next N posts answer 503 and
//   keep nothing). `app` rolls the faults and checks auth first.
// Concurrency: thread-safe; each profile serialises its requests under one
//   mutex (tests and demos, not benchmarks). `handle` uses the caller's
//   per-thread DOM parser.
// Limitations: in memory only (not in the state file); `clear` (POST /reset)
//   forgets everything. The Smartlink queue keeps the last `max_messages`
//   messages. The tenant of a setup is its body's "tenantId" (real Smartlink
//   takes it from the token), "default" if absent.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "tools/target/lib/http.hpp"

namespace stampede::target {

class link_profile {
public:
  static constexpr std::size_t max_messages = 100000;

  /// `rest`: the path after "/link/". `echo` is appended to error messages.
  void handle(std::string_view rest, const http_request& req, http_response& res,
              simdjson::dom::parser& parser, std::string_view echo);
  void clear();

private:
  struct record {
    std::uint64_t version = 0;
    std::string data;  // the last applied message's data, minified
    std::string created_by, updated_by;  // message ids
  };
  struct tenant {
    bool has_setup = false;
    std::vector<std::string> subscriptions;  // sorted, unique
    std::uint64_t requeue_count_max = 10;
    std::string key_field = "IdLan";
    std::uint64_t setups = 0, setup_changes = 0;
    // (entity, key) -> record; entity = the type up to "Inc"/"Alt" ("FinLan")
    std::map<std::pair<std::string, std::string>, record> records;
    std::map<std::string, std::uint64_t, std::less<>> next_key;  // per entity
  };
  struct message {
    std::string id, tenant, type, op, key, status, error;
    std::uint64_t requeues = 0;
  };
  struct counters {
    std::uint64_t setups = 0, setup_changes = 0, sends = 0, accepted = 0, consumed = 0, dead = 0,
                  creates = 0, updates = 0, rejected = 0, unsubscribed = 0, failed = 0;
  };

  void setup(const http_request& req, http_response& res, simdjson::dom::parser& parser,
             std::string_view echo);
  void send(std::string_view type, const http_request& req, http_response& res,
            simdjson::dom::parser& parser, std::string_view echo);
  void consume(tenant& t, message& m, simdjson::dom::object data);
  std::string setup_json(std::string_view name, const tenant& t) const;
  std::string next_message_id();

  std::mutex mu_;
  std::map<std::string, tenant, std::less<>> tenants_;
  std::deque<message> queue_;
  counters c_;
  std::uint64_t fail_next_ = 0;
  std::uint64_t id_seq_ = 0;
};

class set_profile {
public:
  /// `rest`: the path after "/set/". `echo` is appended to error messages.
  void handle(std::string_view rest, const http_request& req, http_response& res,
              simdjson::dom::parser& parser, std::string_view echo);
  void clear();

private:
  struct cliente {
    std::string id, cod_fil, data;  // data: the last accepted element, minified
    std::uint64_t version = 0;
  };
  struct counters {
    std::uint64_t requests = 0, clientes = 0, creates = 0, updates = 0, errors = 0, rejected = 0,
                  failed = 0;
  };

  void gravar(const http_request& req, http_response& res, simdjson::dom::parser& parser,
              std::string_view echo);

  std::mutex mu_;
  std::map<std::uint64_t, cliente> by_cod_;               // codCli -> customer
  std::map<std::string, std::uint64_t, std::less<>> by_id_;  // CRM id -> codCli
  std::uint64_t next_cod_ = 1;
  std::uint64_t fail_next_ = 0;
  counters c_;
};

}  // namespace stampede::target
