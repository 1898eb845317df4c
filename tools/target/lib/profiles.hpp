// stampede-target profiles: API shapes other than /services/, each under its
// own path prefix (docs/target.md, "CouchDB profile" and "Webhook profile").
//
// Operation: `couch_profile` emulates CouchDB's `_bulk_docs` API under
//   /couchdb/: in-memory databases of documents with revisions
//   ("<generation>-<32 hex>", a hash of the id, the previous rev, the deleted
//   flag and the body), create / update / delete / conflict / not_found per
//   document, answered as CouchDB does (a JSON array, errors as
//   {"error","reason"}). `hook_profile` plays webhooks under /hooks/ that take
//   a whole batch and answer with a status only (204, empty 200, 202, or a
//   non-JSON 200), keeping what they received (record keys with counts, the
//   last body, the batch idempotency headers) for tests to inspect. `app`
//   rolls the faults and checks auth first, then calls `handle` with the path
//   after the prefix. A bulk body is parsed completely before anything is
//   applied, so a malformed body (400) changes nothing.
// Concurrency: thread-safe. Each profile keeps its table of databases / hooks
//   under one mutex and each database / hook under its own; a _bulk_docs
//   request holds its database's lock while it applies, so concurrent bulks on
//   one database serialise (and one on another database does not wait).
//   `handle` uses the caller's per-thread DOM parser.
// Limitations: in memory only (not in the state file); `clear` (POST /reset)
//   forgets everything. Documents are std::map nodes (for tests and demos,
//   not for the 10M-record benchmarks). CouchDB: only the current revision is
//   known (no revision tree, no new_edits=false, no attachments, no
//   _changes), `_id` is required (no generated ids), a POST to an unknown
//   database creates it. Hooks: the last body is kept up to 64 KiB.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "tools/target/lib/http.hpp"

namespace stampede::target {

class couch_profile {
public:
  /// `rest`: the path after "/couchdb/". `echo` (--echo-credentials) is
  /// appended to every error reason.
  void handle(std::string_view rest, const http_request& req, http_response& res,
              simdjson::dom::parser& parser, std::string_view echo);
  void clear();

private:
  struct doc {
    std::uint64_t gen = 0;
    std::string rev;
    bool deleted = false;
    std::string members;  // compact JSON members without _id/_rev/_deleted, no braces
  };
  struct counters {
    std::uint64_t requests = 0, docs = 0, creates = 0, updates = 0, deletes = 0, conflicts = 0,
                  not_found = 0, bad_request = 0;
  };
  struct db {
    std::mutex mu;
    std::map<std::string, doc, std::less<>> docs;
    counters c;
  };

  std::shared_ptr<db> find(std::string_view name, bool create, bool* created = nullptr);
  void bulk_docs(std::string_view name, const http_request& req, http_response& res,
                 simdjson::dom::parser& parser, std::string_view echo);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<db>, std::less<>> dbs_;
};

class hook_profile {
public:
  static constexpr std::size_t max_kept_body = 64 * 1024;

  /// `rest`: the path after "/hooks/". `echo` is appended to error messages.
  void handle(std::string_view rest, const http_request& req, http_response& res,
              simdjson::dom::parser& parser, std::string_view echo);
  void clear();

private:
  enum class answer : std::uint8_t { no_content, empty200, accepted, malformed200 };
  struct hook {
    std::mutex mu;
    answer mode = answer::no_content;
    std::uint64_t fail_next = 0;
    std::uint64_t requests = 0, records = 0, unkeyed = 0, failed = 0, rejected = 0;
    std::map<std::string, std::uint64_t, std::less<>> keys;  // key -> times received
    std::string last_body;  // capped at max_kept_body
    std::uint64_t last_body_bytes = 0;
    std::string idempotency_key, batch_idempotency_key;  // of the last kept post
  };

  std::shared_ptr<hook> find(std::string_view name, bool create);
  void receive(hook& h, std::string_view name, const http_request& req, http_response& res,
               simdjson::dom::parser& parser, std::string_view echo);
  void configure(hook& h, const http_request& req, http_response& res,
                 simdjson::dom::parser& parser, std::string_view echo);
  static std::string config_json(const hook& h);
  static std::string state_json(const hook& h);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<hook>, std::less<>> hooks_;
};

}  // namespace stampede::target
