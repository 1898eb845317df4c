// The audit; see audit.hpp.
#include "engine/audit.hpp"

#include "engine/requests.hpp"
#include "pipeline/json_writer.hpp"
#include "pipeline/transform.hpp"

#include <fmt/format.h>

#include <chrono>
#include <unordered_map>

namespace stampede {

namespace {

constexpr auto op_delete = static_cast<std::uint8_t>(record_op::del);

/// Delivered as a live record: the target holds it.
bool delivered_alive(const ledger_entry& e) {
  return e.last_op != op_delete && (e.status == record_status::success || !e.remote_id.empty());
}

} // namespace

auditor::auditor(const config& cfg, const service_config& svc, state_store& store, source& src)
  : cfg_(cfg), svc_(svc), store_(store), src_(src) {}

audit_report auditor::run(const audit_options& o) {
  const auto t0 = std::chrono::steady_clock::now();
  audit_report rep;
  rep.service = svc_.id;
  const service_state state = store_.load_state(svc_.id);
  rep.checkpoint = state.checkpoint_stamp;
  auto keep = [&](std::vector<std::string>& into, const std::string& key) {
    const auto kept = rep.missing_keys.size() + rep.changed_keys.size() + rep.deleted_keys.size();
    if (kept < o.max_keys)
      into.push_back(key);
    else
      rep.keys_truncated = true;
  };

  // Pass 1: source -> ledger, in keyset pages over the whole table.
  const transformer tf(svc_, cfg_.target_of(svc_), cfg_.source);
  page_query q;
  static_cast<table_spec&>(q) = spec_of(cfg_.source, svc_);
  q.columns = tf.columns();
  q.limit = std::max<std::uint32_t>(1, o.range_rows);
  row_page page;
  page.service = svc_.id;
  for (;;) {
    src_.read_page(q, page);
    const bool read_none = page.rows.empty();
    keep_own_rows(page, cfg_.shard);  // --shard: the other shards' rows are not this ledger's
    page.force = true;  // every row rendered, so every row has its hash
    if (!page.rows.empty()) {
      std::vector<std::string_view> keys;
      keys.reserve(page.rows.size());
      for (const auto& r : page.rows)
        keys.emplace_back(r.key);
      auto prior = store_.get_many(svc_.id, keys);
      for (std::size_t i = 0; i < prior.size(); ++i)
        page.rows[i].prior = std::move(prior[i]);
      std::unordered_map<std::string_view, std::uint64_t> hash;
      std::unordered_map<std::string_view, bool> rejected;
      const auto batches = tf.run(page);
      for (const auto& b : batches) {
        for (const auto& rec : b->records)
          hash.emplace(rec.key, rec.content_hash);
        for (const auto& e : b->record_errors)
          rejected.emplace(e.key, true);
      }
      for (const auto& row : page.rows) {
        ++rep.source_rows;
        if (rep.checkpoint.empty() || row.stamp > rep.checkpoint) {
          ++rep.ahead;
          continue;
        }
        if (rejected.count(row.key)) {
          ++rep.unmappable;
          continue;
        }
        auto h = hash.find(row.key);
        if (h == hash.end()) {  // a soft delete never delivered, or already deleted
          ++rep.in_sync;
          continue;
        }
        if (!row.prior) {
          ++rep.missing;
          keep(rep.missing_keys, row.key);
        } else if (row.prior->content_hash != h->second &&
                   (row.prior->status == record_status::success ||
                    row.prior->status == record_status::cancelled)) {
          ++rep.changed;
          keep(rep.changed_keys, row.key);
        } else {
          ++rep.in_sync;
        }
      }
    }
    if (page.last || read_none)
      break;
    q.after = page.next;  // page.end stops before rows whose stamp is not a date-time
  }

  // Pass 2: ledger -> source, in key ranges: records the target holds whose
  // row is gone from the source.
  std::vector<std::string> chunk;
  chunk.reserve(q.limit);
  row_page scratch;
  auto check_chunk = [&] {
    if (chunk.empty())
      return;
    for (const auto& gone : src_.read_by_keys(q, chunk, scratch)) {
      ++rep.deleted;
      keep(rep.deleted_keys, gone);
    }
    chunk.clear();
  };
  store_.scan(svc_.id, [&](std::string_view key, const ledger_entry& e) {
    ++rep.ledger_entries;
    if (delivered_alive(e))
      chunk.emplace_back(key);
    if (chunk.size() >= q.limit)
      check_chunk();
    return true;
  });
  check_chunk();
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

std::optional<request> repair_request(const audit_report& r, const std::string& by) {
  if (r.missing_keys.empty() && r.changed_keys.empty())
    return std::nullopt;
  request q;
  q.kind = request_kind::resend;
  q.service = r.service;
  q.by = by;
  q.scope = resend_scope::keys;
  q.create_missing = true;
  q.keys = r.missing_keys;
  q.keys.insert(q.keys.end(), r.changed_keys.begin(), r.changed_keys.end());
  return q;
}

std::string render(const audit_report& r, std::size_t list_keys) {
  auto list = [&](const std::vector<std::string>& keys) {
    std::string out;
    for (std::size_t i = 0; i < keys.size() && i < list_keys; ++i)
      out += (i ? ", " : "") + keys[i];
    if (keys.size() > list_keys)
      out += ", ...";
    return out;
  };
  std::string out = fmt::format(
    "service {}: {} source rows, {} ledger entries, checkpoint {}; drift {}: {} missing from "
    "the ledger, {} changed without a delivery, {} deleted from the source without a soft "
    "delete ({} in sync, {} after the checkpoint, {} rejected by the mapping) in {:.2f}s\n",
    r.service, r.source_rows, r.ledger_entries, r.checkpoint.empty() ? "none" : r.checkpoint,
    r.drift(), r.missing, r.changed, r.deleted, r.in_sync, r.ahead, r.unmappable, r.seconds);
  if (r.missing)
    out += fmt::format("  missing: {}\n", list(r.missing_keys));
  if (r.changed)
    out += fmt::format("  changed: {}\n", list(r.changed_keys));
  if (r.deleted)
    out += fmt::format("  deleted: {}\n", list(r.deleted_keys));
  return out;
}

std::string to_json(const audit_report& r, std::size_t list_keys) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("service");
  w.uinteger(r.service);
  w.key("checkpoint");
  w.string(r.checkpoint);
  w.key("source_rows");
  w.uinteger(r.source_rows);
  w.key("ledger_entries");
  w.uinteger(r.ledger_entries);
  w.key("in_sync");
  w.uinteger(r.in_sync);
  w.key("ahead");
  w.uinteger(r.ahead);
  w.key("unmappable");
  w.uinteger(r.unmappable);
  w.key("drift");
  w.uinteger(r.drift());
  w.key("missing");
  w.uinteger(r.missing);
  w.key("changed");
  w.uinteger(r.changed);
  w.key("deleted");
  w.uinteger(r.deleted);
  auto keys = [&](const char* name, const std::vector<std::string>& v) {
    w.key(name);
    w.begin_array();
    for (std::size_t i = 0; i < v.size() && i < list_keys; ++i)
      w.string(v[i]);
    w.end_array();
  };
  keys("missing_keys", r.missing_keys);
  keys("changed_keys", r.changed_keys);
  keys("deleted_keys", r.deleted_keys);
  w.key("seconds");
  w.number(r.seconds);
  w.end_object();
  return out;
}

std::string to_prometheus(const audit_report& r, std::int64_t now_unix_s) {
  std::string o;
  o += "# HELP stampede_audit_drift_records Rows the last audit found out of step with the ledger.\n";
  o += "# TYPE stampede_audit_drift_records gauge\n";
  for (auto [kind, n] : {std::pair{"missing", r.missing}, {"changed", r.changed}, {"deleted", r.deleted}})
    o += fmt::format("stampede_audit_drift_records{{service=\"{}\",kind=\"{}\"}} {}\n", r.service,
                     kind, n);
  o += "# HELP stampede_audit_rows Source rows the last audit read.\n";
  o += "# TYPE stampede_audit_rows gauge\n";
  o += fmt::format("stampede_audit_rows{{service=\"{}\"}} {}\n", r.service, r.source_rows);
  o += "# HELP stampede_audit_seconds Duration of the last audit.\n";
  o += "# TYPE stampede_audit_seconds gauge\n";
  o += fmt::format("stampede_audit_seconds{{service=\"{}\"}} {:.3f}\n", r.service, r.seconds);
  o += "# HELP stampede_audit_timestamp_seconds When the last audit ended (unix time).\n";
  o += "# TYPE stampede_audit_timestamp_seconds gauge\n";
  o += fmt::format("stampede_audit_timestamp_seconds{{service=\"{}\"}} {}\n", r.service, now_unix_s);
  return o;
}

} // namespace stampede
