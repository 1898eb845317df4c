// End-to-end helpers: run the real binaries, talk to the reference target.
#pragma once

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
#include <sstream>
#include <stdexcept>
#include <string>
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

/// The real stampede-target binary on a free loopback port.
class target_process {
public:
  explicit target_process(const fs::path& dir, const std::vector<std::string>& extra = {}) {
    auto port_file = dir / "target.port";
    std::vector<std::string> args{bin("tools/target/stampede-target"), "--listen", "127.0.0.1:0",
                                  "--port-file", port_file.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      std::ifstream in(port_file);
      int p = 0;
      if (in >> p)
        port_ = p;
    }
    if (port_ == 0)
      throw std::runtime_error("stampede-target did not start");
  }
  ~target_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int st;
      ::waitpid(pid_, &st, 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
  pid_t pid_ = -1;
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
                record_errors = 0, live_keys = 0;
};

struct stats {
  std::uint64_t creates = 0, updates = 0, deletes = 0, duplicates = 0, replays = 0;
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
  s.creates = u(doc, "creates");
  s.updates = u(doc, "updates");
  s.deletes = u(doc, "deletes");
  s.duplicates = u(doc, "duplicates");
  s.replays = u(doc, "replays");
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
      x.live_keys = u(v, "live_keys");
      s.services[static_cast<std::uint32_t>(std::stoul(std::string(k)))] = x;
    }
  }
  return s;
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
  cmd_result mutate(const std::string& args, const fs::path& report) {
    return run(bin("tools/demogen/stampede-demo-db") + " mutate --db " + db.string() + " " + args +
               " --report " + report.string());
  }
  std::int64_t live_rows(const std::string& table) const {
    return sql_int(db, "SELECT COUNT(*) FROM " + table + " WHERE D_E_L_E_T_ <> '*'");
  }
};

} // namespace e2e
