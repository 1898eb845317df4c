// End-to-end helpers: run the real binaries, talk to the reference target.
#pragma once

#include <catch2/catch.hpp>
#include <curl/curl.h>
#include <fcntl.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace e2e {

namespace fs = std::filesystem;

inline std::string bin(const std::string& rel) {
  return std::string(STAMPEDE_BINARY_DIR) + "/" + rel;
}

struct cmd_result {
  int rc = -1;
  std::string out;  // stdout + stderr
};

/// Runs a command line through /bin/sh, capturing stdout and stderr.
inline cmd_result run(const std::string& cmdline) {
  cmd_result r;
  FILE* p = ::popen((cmdline + " 2>&1").c_str(), "r");
  if (!p)
    throw std::runtime_error("popen failed: " + cmdline);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    r.out.append(buf, n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "stampede-e2e-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

/// A child process running `args[0]` with stdout and stderr in `log`.
/// The destructor SIGKILLs and reaps it if it still runs.
class child {
public:
  child(const std::vector<std::string>& args, const fs::path& log) : log_(log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<std::string> copy = args;
      std::vector<char*> argv;
      for (auto& a : copy)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait(std::chrono::seconds(30));
    }
  }
  pid_t pid() const { return pid_; }
  /// True while it has not exited (reaps it when it has).
  bool running() {
    if (done_)
      return false;
    reap(WNOHANG);
    return !done_;
  }
  void signal(int sig) {
    if (!done_)
      ::kill(pid_, sig);
  }
  /// Waits up to `timeout` for the exit; false if it still runs.
  bool wait(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() >= until)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  /// Exit code, or 128 + signal; -1 while running.
  int rc() const { return rc_; }
  bool killed_by(int sig) const { return done_ && rc_ == 128 + sig; }
  /// Peak resident set size in KiB (valid once it exited).
  long max_rss_kb() const { return max_rss_kb_; }
  std::string output() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

private:
  void reap(int flags) {
    int st = 0;
    struct rusage ru {};
    pid_t r = ::wait4(pid_, &st, flags, &ru);
    if (r == pid_) {
      done_ = true;
      rc_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      max_rss_kb_ = ru.ru_maxrss;
    }
  }
  fs::path log_;
  pid_t pid_ = -1;
  bool done_ = false;
  int rc_ = -1;
  long max_rss_kb_ = 0;
};

/// The real stampede-target binary on a free loopback port. `stop` and
/// `start` take it down and bring it back on the same port; with
/// `--state-file` among the flags it keeps its records across that.
class target_process {
public:
  explicit target_process(const fs::path& dir, const std::vector<std::string>& extra = {})
    : dir_(dir), extra_(extra) {
    start();
  }
  ~target_process() { stop(); }
  void start() {
    auto port_file = dir_ / "target.port";
    std::error_code ec;
    fs::remove(port_file, ec);
    std::vector<std::string> args{bin("tools/target/stampede-target"), "--listen",
                                  "127.0.0.1:" + std::to_string(port_), "--port-file",
                                  port_file.string()};
    args.insert(args.end(), extra_.begin(), extra_.end());
    proc_ = std::make_unique<child>(args, "/dev/null");
    int port = 0;
    for (int i = 0; i < 400 && port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      std::ifstream in(port_file);
      int p = 0;
      if (in >> p)
        port = p;
      if (!proc_->running())
        break;
    }
    if (port == 0)
      throw std::runtime_error("stampede-target did not start");
    port_ = port;
  }
  /// SIGTERM and wait (the state file, if any, is saved).
  void stop() {
    if (!proc_)
      return;
    proc_->signal(SIGTERM);
    proc_->wait(std::chrono::seconds(30));
    proc_.reset();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
  fs::path dir_;
  std::vector<std::string> extra_;
  std::unique_ptr<child> proc_;
  int port_ = 0;
};

inline std::string http(const std::string& method, const std::string& url,
                        const std::string& body = "") {
  CURL* c = curl_easy_init();
  std::string out;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty())
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
                   +[](char* p, std::size_t s, std::size_t n, void* ud) -> std::size_t {
                     static_cast<std::string*>(ud)->append(p, s * n);
                     return s * n;
                   });
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
  auto rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("http: ") + curl_easy_strerror(rc));
  return out;
}

/// Counters of the target's /stats, per service.
struct svc_stats {
  std::uint64_t creates = 0, updates = 0, deletes = 0, duplicates = 0, replays = 0,
                record_errors = 0, unchanged_updates = 0, live_keys = 0, records = 0;
};

struct stats {
  std::uint64_t requests = 0, records = 0, creates = 0, updates = 0, deletes = 0, duplicates = 0,
                replays = 0, unchanged_updates = 0;
  std::uint64_t fault_5xx = 0, fault_429 = 0, fault_dropped = 0, fault_malformed = 0;
  std::map<std::uint32_t, svc_stats> services;
};

inline stats get_stats(const std::string& base) {
  auto body = http("GET", base + "/stats");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body);
  stats s;
  auto u = [](simdjson::dom::element e, const char* k) -> std::uint64_t {
    std::uint64_t v = 0;
    if (e[k].get(v) != simdjson::SUCCESS)
      return 0;
    return v;
  };
  s.requests = u(doc, "requests");
  s.records = u(doc, "records");
  s.creates = u(doc, "creates");
  s.updates = u(doc, "updates");
  s.deletes = u(doc, "deletes");
  s.duplicates = u(doc, "duplicates");
  s.replays = u(doc, "replays");
  s.unchanged_updates = u(doc, "unchanged_updates");
  simdjson::dom::element f;
  if (doc["faults"].get(f) == simdjson::SUCCESS) {
    s.fault_5xx = u(f, "5xx");
    s.fault_429 = u(f, "429");
    s.fault_dropped = u(f, "dropped");
    s.fault_malformed = u(f, "malformed");
  }
  simdjson::dom::object svcs;
  if (doc["services"].get(svcs) == simdjson::SUCCESS) {
    for (auto [k, v] : svcs) {
      svc_stats x;
      x.creates = u(v, "creates");
      x.updates = u(v, "updates");
      x.deletes = u(v, "deletes");
      x.duplicates = u(v, "duplicates");
      x.replays = u(v, "replays");
      x.record_errors = u(v, "record_errors");
      x.unchanged_updates = u(v, "unchanged_updates");
      x.live_keys = u(v, "live_keys");
      x.records = u(v, "records");
      s.services[static_cast<std::uint32_t>(std::stoul(std::string(k)))] = x;
    }
  }
  return s;
}

/// One record as the target holds it (GET /services/{id}/keys).
struct target_record {
  std::string id;
  std::uint64_t version = 0;
  bool deleted = false;
  std::string data;  // minified JSON
  friend bool operator==(const target_record&, const target_record&) = default;
};

/// Every record of `service` at the target, by key.
inline std::map<std::string, target_record> target_records(const std::string& base,
                                                           std::uint32_t service) {
  auto body = http("GET", base + "/services/" + std::to_string(service) + "/keys");
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(body);
  std::map<std::string, target_record> out;
  for (auto r : doc["records"].get_array()) {
    target_record t;
    t.id = std::string(std::string_view(r["id"]));
    t.version = std::uint64_t(r["version"]);
    t.deleted = bool(r["deleted"]);
    t.data = simdjson::minify(r["data"]);
    out.emplace(std::string(std::string_view(r["key"])), std::move(t));
  }
  return out;
}

/// Runs one SQL query returning a single integer.
inline std::int64_t sql_int(const fs::path& db, const std::string& q) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    throw std::runtime_error("open " + db.string());
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, q.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    std::string err = sqlite3_errmsg(h);
    sqlite3_close(h);
    throw std::runtime_error(err + ": " + q);
  }
  std::int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

inline void sql_exec(const fs::path& db, const std::string& q) {
  sqlite3* h = nullptr;
  if (sqlite3_open(db.c_str(), &h) != SQLITE_OK)
    throw std::runtime_error("open " + db.string());
  char* err = nullptr;
  if (sqlite3_exec(h, q.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string e = err ? err : "?";
    sqlite3_free(err);
    sqlite3_close(h);
    throw std::runtime_error(e + ": " + q);
  }
  sqlite3_close(h);
}

inline std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Replaces the first occurrence of `from` in a file (it must be there).
inline void replace_in_file(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = read_file(file);
  auto pos = text.find(from);
  if (pos == std::string::npos)
    throw std::runtime_error("\"" + from + "\" is not in " + file.string());
  text.replace(pos, from.size(), to);
  std::ofstream(file) << text;
}

/// Every byte of every regular file under `dir` (state files, grep for secrets).
inline std::string bytes_under(const fs::path& dir) {
  std::string all;
  for (auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file()) all += read_file(f.path());
  return all;
}

/// examples/demo.toml with some `key = value` lines replaced.
inline std::string demo_config(const std::map<std::string, std::string>& set) {
  std::string text = read_file(fs::path(STAMPEDE_SOURCE_DIR) / "examples/demo.toml");
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    for (auto& [k, v] : set) {
      auto pos = line.find_first_not_of(' ');
      if (pos != std::string::npos && line.compare(pos, k.size() + 1, k + " ") == 0)
        line = k + " = " + v;
    }
    out += line + "\n";
  }
  return out;
}

/// What `stampede-demo-db mutate --report` says it changed, per service.
struct mutation {
  std::map<std::uint32_t, std::vector<std::int64_t>> updated, inserted, deleted, late;
  std::string late_stamp;
  std::uint64_t total(const std::map<std::uint32_t, std::vector<std::int64_t>>& m) const {
    std::uint64_t n = 0;
    for (auto& [_, v] : m)
      n += v.size();
    return n;
  }
};

inline mutation read_report(const fs::path& p) {
  simdjson::dom::parser parser;
  auto text = read_file(p);
  simdjson::dom::element doc = parser.parse(text);
  mutation m;
  std::string_view ls;
  if (doc["late_stamp"].get(ls) == simdjson::SUCCESS)
    m.late_stamp = std::string(ls);
  for (auto [k, v] : doc["services"].get_object()) {
    auto id = static_cast<std::uint32_t>(std::stoul(std::string(k)));
    auto list = [&](const char* name, auto& into) {
      simdjson::dom::array a;
      if (v[name].get(a) == simdjson::SUCCESS)
        for (auto x : a)
          into[id].push_back(int64_t(x));
    };
    list("updated", m.updated);
    list("inserted", m.inserted);
    list("deleted", m.deleted);
    list("late", m.late);
  }
  return m;
}

/// A test environment: demo database, target, config, state dir.
struct world {
  temp_dir tmp;
  fs::path db, state, cfg;
  std::unique_ptr<target_process> target;

  explicit world(double scale, const std::map<std::string, std::string>& cfg_set = {},
                 const std::vector<std::string>& target_flags = {}) {
    db = tmp.path / "erp.db";
    state = tmp.path / "state";
    cfg = tmp.path / "stampede.toml";
    std::ofstream(cfg) << demo_config(cfg_set);
    auto g = run(bin("tools/demogen/stampede-demo-db") + " generate --out " + db.string() +
                 " --scale " + std::to_string(scale));
    if (g.rc != 0)
      throw std::runtime_error("generate failed: " + g.out);
    target = std::make_unique<target_process>(tmp.path, target_flags);
    ::setenv("STAMPEDE_DEMO_DB", db.c_str(), 1);
    ::setenv("STAMPEDE_STATE_DIR", state.c_str(), 1);
    ::setenv("STAMPEDE_TARGET_URL", target->url().c_str(), 1);
    ::setenv("STAMPEDE_METRICS_LISTEN", "127.0.0.1:0", 1);
  }

  cmd_result stampede(const std::string& args) {
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string() +
               " --progress never");
  }
  cmd_result stampede_plain(const std::string& args) {
    return run(bin("tools/stampede/stampede") + " " + args + " -c " + cfg.string());
  }
  /// `stampede ARGS... -c CFG --progress never` as a child process, output
  /// appended to `log`.
  std::unique_ptr<child> stampede_child(std::vector<std::string> args, const fs::path& log) {
    args.insert(args.begin(), bin("tools/stampede/stampede"));
    args.insert(args.end(), {"-c", cfg.string(), "--progress", "never"});
    return std::make_unique<child>(args, log);
  }
  cmd_result mutate(const std::string& args, const fs::path& report) {
    return run(bin("tools/demogen/stampede-demo-db") + " mutate --db " + db.string() + " " + args +
               " --report " + report.string());
  }
  /// Records of `service` in `status` per `stampede log --json` (exit 0
  /// asserted by the caller's expectations: -1 when the command failed);
  /// the first one's message into `first_message`.
  std::int64_t logged(std::uint32_t service, const std::string& status,
                      std::string* first_message = nullptr) {
    auto r = stampede_plain("log --json --limit 1000000 --service " + std::to_string(service) +
                            " --status " + status);
    if (r.rc != 0)
      return -1;
    std::int64_t n = 0;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"status\":\"" + status + "\"") == std::string::npos)
        continue;
      if (n++ == 0 && first_message) {
        simdjson::dom::parser p;
        std::string_view m;
        if (p.parse(line)["message"].get(m) == simdjson::SUCCESS)
          *first_message = std::string(m);
      }
    }
    return n;
  }
  std::int64_t live_rows(const std::string& table) const {
    return sql_int(db, "SELECT COUNT(*) FROM " + table + " WHERE D_E_L_E_T_ <> '*'");
  }
};


/// How often `what` occurs in `text`.
inline std::uint64_t count_of(const std::string& text, const std::string& what) {
  std::uint64_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

/// Starts `stampede run --services 1,2` (continuous) and waits until its web
/// monitor reports both initial loads complete and no cycle running; returns
/// the monitor's base URL ("http://127.0.0.1:PORT").
inline std::string start_worker(world& w, const fs::path& log, std::unique_ptr<child>& worker) {
  worker = w.stampede_child({"run", "--services", "1,2"}, log);
  std::string base;
  for (int i = 0; i < 400 && base.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto text = read_file(log);
    const auto at = text.find("web monitor on http://");
    if (at != std::string::npos)
      base = text.substr(at + 15, text.find("/ (health", at) - at - 15);
  }
  INFO(read_file(log));
  REQUIRE_FALSE(base.empty());
  bool loaded = false;
  for (int i = 0; i < 600 && !loaded; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto s = http("GET", base + "/api/status");
    loaded = count_of(s, "\"initial_load\":\"complete\"") == 2 && count_of(s, "\"running\":true") == 0;
  }
  REQUIRE(loaded);
  return base;
}

} // namespace e2e
