#include "engine/requests.hpp"

#include "pipeline/schedule.hpp"

#include "pipeline/json_writer.hpp"
#include "pipeline/stamp.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <random>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sstream>
#include <system_error>
#include <unistd.h>

namespace stampede {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kVersion = 1;

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

[[noreturn]] void bad(const std::string& what) { throw request_error(what); }

std::string_view scope_name(resend_scope s) {
  switch (s) {
    case resend_scope::error: return "error";
    case resend_scope::cancelled: return "cancelled";
    case resend_scope::keys: break;
  }
  return "keys";
}

/// "YYYY-MM-DD[ HH:MM:SS[.fff]]" -> "YYYY-MM-DD HH:MM:SS.fff"; throws request_error.
std::string normalize_stamp(const std::string& s, const char* field) {
  if (auto v = parse_stamp(s)) {
    // "YYYY-MM-DD HH:MM:SS.fff" (UTC), or .ffffff when the stamp has finer
    // digits (PostgreSQL's microseconds): a row at exactly --to stays inside.
    stamp_layout l;
    if (auto given = layout_of(s); given && given->fraction_digits > 3)
      l.fraction_digits = 6;
    return format_stamp(*v, l);
  }
  bad(fmt::format("{}: '{}' is not a stamp; use \"YYYY-MM-DD HH:MM:SS[.fff]\" (UTC, like the "
                  "source's S_T_A_M_P_; ISO 8601 with T and a zone also works), e.g. "
                  "\"2024-05-01 00:00:00\"",
                  field, s));
}

void write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t off = 0;
  while (off < data.size()) {
    auto n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      throw std::system_error(errno, std::generic_category(), "write " + path);
    }
    off += static_cast<std::size_t>(n);
  }
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw std::system_error(errno, std::generic_category(), "open " + dir.string());
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    throw std::system_error(err, std::generic_category(), "fsync " + dir.string());
}

/// "20240501T120000123Z-<16 hex>.json": sorts by time.
std::string request_file_name(std::int64_t ms) {
  using namespace std::chrono;
  sys_time<milliseconds> t{milliseconds{ms}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<milliseconds> tod{t - day};
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          static_cast<std::uint64_t>(::getpid()) << 32 ^
                                          static_cast<std::uint64_t>(ms)};
  return fmt::format("{:04d}{:02d}{:02d}T{:02d}{:02d}{:02d}{:03d}Z-{:016x}.json", int(ymd.year()),
                     unsigned(ymd.month()), unsigned(ymd.day()), tod.hours().count(),
                     tod.minutes().count(), tod.seconds().count(), tod.subseconds().count(),
                     rng());
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in)
    throw std::system_error(errno, std::generic_category(), "read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string position(const service_state& st) {
  if (st.checkpoint_stamp.empty())
    return "the start";
  return fmt::format("{} #{}", st.checkpoint_stamp, st.checkpoint_recno);
}

applied_request apply_resend(state_store& store, const request& r, service_state st,
                             std::int64_t now_ms, std::size_t chunk) {
  applied_request out;
  out.req = r;
  const std::string message = fmt::format("resend requested by {}", r.by);
  state_changes ch;
  auto flush = [&] {
    store.apply(r.service, ch, st, /*sync=*/true);
    ch = state_changes{};
  };
  auto add = [&](std::string_view key, ledger_entry e, bool is_new = false) {
    auto& from = st.counts[static_cast<std::size_t>(e.status)];
    if (from > 0 && !is_new)
      --from;
    ++st.counts[static_cast<std::size_t>(record_status::pending)];
    e.status = record_status::pending;
    e.attempts = 0;
    e.generation += 1;
    e.changed_by = r.by;
    e.batch_id.clear();
    e.updated_ms = now_ms;
    log_item it;
    it.time_ms = now_ms;
    it.status = record_status::pending;
    it.op = e.last_op;
    it.attempt = 0;
    it.message = message;
    it.by = r.by;
    ch.items.push_back({std::string(key), e.items, std::move(it)});
    e.items += 1;
    ch.resend.emplace_back(std::string(key), 0);
    ch.ledger.emplace_back(std::string(key), std::move(e));
    ++out.changed;
    if (ch.ledger.size() >= chunk)
      flush();
  };

  std::string what;
  if (r.scope == resend_scope::keys) {
    std::vector<std::string> keys = r.keys;
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::vector<std::string_view> views(keys.begin(), keys.end());
    auto found = store.get_many(r.service, views);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!found[i] && r.create_missing) {
        // Never delivered: a Pending entry with no content hash and no
        // remote id, so the resend re-reads the row and sends it as a create.
        ledger_entry e;
        e.created_ms = now_ms;
        add(keys[i], std::move(e), /*is_new=*/true);
      } else if (!found[i])
        out.unknown_keys.push_back(keys[i]);
      else if (found[i]->status == record_status::pending && !found[i]->batch_id.empty())
        out.in_flight_keys.push_back(keys[i]);
      else
        add(keys[i], std::move(*found[i]));
    }
    what = keys.size() == 1 ? fmt::format("key {}", keys[0])
                            : fmt::format("{} keys", keys.size());
  } else {
    const auto want = r.scope == resend_scope::error ? record_status::error
                                                     : record_status::cancelled;
    store.scan(r.service, [&](std::string_view key, const ledger_entry& e) {
      if (e.status == want)
        add(key, e);
      return true;
    });
    what = fmt::format("every {} record", r.scope == resend_scope::error ? "Error" : "Cancelled");
  }
  std::string text = fmt::format("resend of {} requested by {}: {} record(s) queued", what, r.by,
                                 out.changed);
  if (!out.unknown_keys.empty())
    text += fmt::format(", {} unknown key(s)", out.unknown_keys.size());
  if (!out.in_flight_keys.empty())
    text += fmt::format(", {} awaiting an async batch result (skipped)",
                        out.in_flight_keys.size());
  ch.events.push_back(service_event{now_ms, r.by, text});
  flush();
  out.summary = fmt::format("service {}: {}", r.service, text);
  return out;
}

} // namespace

std::string_view to_string(request_kind k) {
  switch (k) {
    case request_kind::resend: return "resend";
    case request_kind::checkpoint_set: return "checkpoint_set";
    case request_kind::replay: return "replay";
  }
  return "?";
}

std::string to_json(const request& r) {
  std::string out;
  json_writer w(out);
  w.begin_object();
  w.key("version"); w.uinteger(kVersion);
  w.key("kind"); w.string(to_string(r.kind));
  w.key("service"); w.uinteger(r.service);
  w.key("by"); w.string(r.by);
  w.key("created_ms"); w.integer(r.created_ms);
  switch (r.kind) {
    case request_kind::resend:
      if (r.scope == resend_scope::keys) {
        w.key("keys");
        w.begin_array();
        for (const auto& k : r.keys)
          w.string(k);
        w.end_array();
        if (r.create_missing) {
          w.key("create_missing"); w.boolean(true);
        }
      } else {
        w.key("status"); w.string(scope_name(r.scope));
      }
      break;
    case request_kind::checkpoint_set:
      w.key("to"); w.string(r.to);
      w.key("recno"); w.integer(r.recno);
      break;
    case request_kind::replay:
      w.key("from"); w.string(r.from);
      w.key("to"); w.string(r.to);
      break;
  }
  w.end_object();
  out += '\n';
  return out;
}

request parse_request(std::string_view json) {
  using namespace simdjson;
  dom::parser parser;
  dom::element doc;
  padded_string text(json);
  if (auto err = parser.parse(text).get(doc))
    bad(std::string("not JSON: ") + error_message(err));
  dom::object o;
  if (doc.get(o))
    bad("not a JSON object");
  auto str = [&](const char* k, bool required) -> std::string {
    std::string_view v;
    auto e = o[k];
    if (e.error() == NO_SUCH_FIELD) {
      if (required)
        bad(fmt::format("missing field '{}'", k));
      return {};
    }
    if (e.get(v))
      bad(fmt::format("field '{}' must be a string", k));
    return std::string(v);
  };
  auto i64 = [&](const char* k, bool required) -> std::int64_t {
    std::int64_t v = 0;
    auto e = o[k];
    if (e.error() == NO_SUCH_FIELD) {
      if (required)
        bad(fmt::format("missing field '{}'", k));
      return 0;
    }
    if (e.get(v))
      bad(fmt::format("field '{}' must be an integer", k));
    return v;
  };
  if (i64("version", true) != static_cast<std::int64_t>(kVersion))
    bad(fmt::format("unsupported version (this stampede reads version {})", kVersion));
  request r;
  auto kind = str("kind", true);
  if (kind == "resend")
    r.kind = request_kind::resend;
  else if (kind == "checkpoint_set")
    r.kind = request_kind::checkpoint_set;
  else if (kind == "replay")
    r.kind = request_kind::replay;
  else
    bad(fmt::format("unknown kind '{}' (resend, checkpoint_set, replay)", kind));
  auto svc = i64("service", true);
  if (svc < 1 || svc > 65535)
    bad(fmt::format("service {} is out of range 1..65535", svc));
  r.service = static_cast<std::uint32_t>(svc);
  r.by = str("by", true);
  r.created_ms = i64("created_ms", false);
  switch (r.kind) {
    case request_kind::resend: {
      auto keys = o["keys"];
      auto status = str("status", false);
      if ((keys.error() != NO_SUCH_FIELD) == !status.empty())
        bad("a resend needs exactly one of 'keys' and 'status'");
      if (!status.empty()) {
        if (status == "error")
          r.scope = resend_scope::error;
        else if (status == "cancelled")
          r.scope = resend_scope::cancelled;
        else
          bad(fmt::format("status '{}': a resend takes error or cancelled", status));
      } else {
        dom::array a;
        if (keys.get(a))
          bad("field 'keys' must be an array of strings");
        r.scope = resend_scope::keys;
        for (auto k : a) {
          std::string_view v;
          if (k.get(v))
            bad("field 'keys' must be an array of strings");
          r.keys.emplace_back(v);
        }
        if (auto cm = o["create_missing"]; cm.error() != NO_SUCH_FIELD && cm.get(r.create_missing))
          bad("field 'create_missing' must be true or false");
      }
      break;
    }
    case request_kind::checkpoint_set:
      r.to = str("to", true);
      r.recno = i64("recno", false);
      break;
    case request_kind::replay:
      r.from = str("from", true);
      r.to = str("to", true);
      break;
  }
  return r;
}

void validate(request& r, const config& cfg) {
  if (!cfg.find_service(r.service)) {
    std::string known;
    for (const auto& s : cfg.services)
      known += (known.empty() ? "" : ",") + std::to_string(s.id);
    bad(fmt::format("service {} is not in {} (configured: {})", r.service, cfg.file, known));
  }
  if (r.by.empty())
    bad("'by' is empty: say who asks (--by NAME)");
  switch (r.kind) {
    case request_kind::resend:
      if (r.scope == resend_scope::keys && r.keys.empty())
        bad("a resend by key needs at least one key (--key K)");
      for (const auto& k : r.keys)
        if (k.empty())
          bad("a record key is empty");
      break;
    case request_kind::checkpoint_set:
      r.to = normalize_stamp(r.to, "--to");
      if (r.recno < 0)
        bad("recno must be >= 0");
      break;
    case request_kind::replay:
      r.from = normalize_stamp(r.from, "--from");
      r.to = normalize_stamp(r.to, "--to");
      if (*parse_stamp(r.to) < *parse_stamp(r.from))  // by time: 3 and 6 digits may mix
        bad(fmt::format("--from {} is after --to {}: the range is empty", r.from, r.to));
      break;
  }
}

std::string requests_dir(const std::string& state_dir) {
  return (fs::path(state_dir) / "requests").string();
}

std::string write_request(const std::string& state_dir, const request& r) {
  fs::path dir = requests_dir(state_dir);
  fs::create_directories(dir);
  const std::string text = to_json(r);
  fs::path final_path, tmp;
  int fd = -1;
  for (int tries = 0; fd < 0; ++tries) {
    auto name = request_file_name(r.created_ms ? r.created_ms : now_unix_ms());
    final_path = dir / name;
    tmp = dir / (".tmp-" + name);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || tries > 8))
      throw std::system_error(errno, std::generic_category(), "create " + tmp.string());
  }
  try {
    write_all(fd, text, tmp.string());
    if (::fsync(fd) != 0)
      throw std::system_error(errno, std::generic_category(), "fsync " + tmp.string());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "rename " + final_path.string());
  }
  fsync_dir(dir);
  return final_path.string();
}

std::vector<std::string> pending_request_files(const std::string& state_dir) {
  std::vector<std::string> out;
  fs::path dir = requests_dir(state_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto name = e.path().filename().string();
    if (name.empty() || name[0] == '.' || e.path().extension() != ".json")
      continue;
    if (!e.is_regular_file(ec))
      continue;
    out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

applied_request apply_request(state_store& store, const request& r, std::int64_t now_ms,
                              std::size_t apply_chunk) {
  service_state st = store.load_state(r.service);
  if (r.kind == request_kind::resend)
    return apply_resend(store, r, std::move(st), now_ms, std::max<std::size_t>(apply_chunk, 1));
  applied_request out;
  out.req = r;
  out.changed = 1;
  state_changes ch;
  std::string text;
  if (r.kind == request_kind::checkpoint_set) {
    text = fmt::format("checkpoint set from {} to {} #{} by {}", position(st), r.to, r.recno, r.by);
    st.checkpoint_stamp = r.to;
    st.checkpoint_recno = r.recno;
  } else {
    std::uint32_t gen = static_cast<std::uint32_t>(now_ms / 1000);
    for (const auto& x : st.replays)
      gen = std::max(gen, x.generation + 1);
    st.replays.push_back(replay_range{r.from, r.to, gen, r.by});
    text = fmt::format("replay of stamps {} .. {} requested by {} (generation {})", r.from, r.to,
                       r.by, gen);
  }
  ch.events.push_back(service_event{now_ms, r.by, text});
  store.apply(r.service, ch, st, /*sync=*/true);
  out.summary = fmt::format("service {}: {}", r.service, text);
  return out;
}

std::vector<applied_request> apply_pending_requests(state_store& store,
                                                    const std::string& state_dir,
                                                    const config& cfg,
                                                    std::optional<std::uint32_t> only_service,
                                                    bool log_lines) {
  std::vector<applied_request> out;
  for (const auto& file : pending_request_files(state_dir)) {
    std::string text;
    try {
      text = read_text(file);
    } catch (const std::system_error&) {
      if (!fs::exists(file))
        continue;  // applied and removed by someone else meanwhile
      throw;
    }
    request r;
    std::string problem;
    try {
      r = parse_request(text);
      if (only_service && r.service != *only_service)
        continue;
      validate(r, cfg);
    } catch (const request_error& e) {
      problem = e.what();
    }
    if (!problem.empty()) {
      fs::path rejected = fs::path(requests_dir(state_dir)) / "rejected";
      fs::create_directories(rejected);
      auto name = fs::path(file).filename();
      std::ofstream(rejected / (name.string() + ".reason")) << problem << "\n";
      fs::rename(file, rejected / name);
      fsync_dir(fs::path(file).parent_path());
      if (log_lines)
        spdlog::warn("request {} rejected: {}; moved to {}", name.string(), problem,
                     (rejected / name).string());
      applied_request a;
      a.file = file;
      a.req = r;
      a.rejected = true;
      a.error = problem;
      a.summary = fmt::format("request {} rejected: {}", name.string(), problem);
      out.push_back(std::move(a));
      continue;
    }
    auto a = apply_request(store, r, now_unix_ms());
    a.file = file;
    fs::remove(file);  // only after the commit above
    fsync_dir(fs::path(file).parent_path());
    if (log_lines)
      spdlog::info("{}", a.summary);
    out.push_back(std::move(a));
  }
  return out;
}

submit_result submit_request(const std::string& state_dir, const config& cfg, request r) {
  validate(r, cfg);
  if (r.created_ms == 0)
    r.created_ms = now_unix_ms();
  submit_result out;
  out.file = write_request(state_dir, r);
  std::unique_ptr<state_store> store;
  try {
    store = state_store::open(state_dir, /*read_only=*/false);
  } catch (const store_error& e) {
    if (e.code != store_errc::locked)
      throw;
    out.queued = true;
    return out;
  }
  for (auto& a : apply_pending_requests(*store, state_dir, cfg, std::nullopt, /*log_lines=*/false)) {
    if (a.file == out.file)
      out.mine = std::move(a);
    else
      out.others.push_back(std::move(a));
  }
  return out;
}

std::vector<applied_request> resend_scheduler::tick(state_store& store, std::int64_t now_ms) {
  std::vector<applied_request> out;
  for (const auto& svc : cfg_.services) {
    if (!svc.resend_when)
      continue;
    auto it = std::find_if(due_.begin(), due_.end(), [&](const auto& d) { return d.first == svc.id; });
    const auto next = next_due(*svc.resend_when, now_ms, cfg_.source.utc_offset_minutes);
    if (it == due_.end()) {
      due_.emplace_back(svc.id, next);
      continue;
    }
    if (it->second > now_ms)
      continue;
    it->second = next;
    request r;
    r.kind = request_kind::resend;
    r.service = svc.id;
    r.scope = resend_scope::error;
    r.by = "resend_schedule";
    r.created_ms = now_ms;
    out.push_back(apply_request(store, r, now_ms));
  }
  return out;
}

} // namespace stampede
