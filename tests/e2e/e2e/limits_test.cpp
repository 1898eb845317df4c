// End to end: a record beyond max_record_bytes is a record error shown by
// `stampede log`; a 20 MB cell costs memory proportional to it, not ~15x
// (peak RSS of the worker measured with wait4).
#include "e2e_support.hpp"

#include <catch2/catch.hpp>
#include <sys/resource.h>

using namespace e2e;

namespace {

struct measured {
  int rc = -1;
  std::string out;
  std::uint64_t peak_rss = 0;  // bytes
};

/// `stampede ARGS -c CFG` with its peak resident memory (rusage of the child).
measured run_measured(world& w, const std::string& args) {
  auto log = w.tmp.path / "measured.log";
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // ASan keeps freed memory in a quarantine (256 MB by default): bound it,
    // so the peak measures what the worker holds, not what ASan holds back.
    std::string asan = ::getenv("ASAN_OPTIONS") ? ::getenv("ASAN_OPTIONS") : "";
    asan += std::string(asan.empty() ? "" : ":") + "quarantine_size_mb=8";
    ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
    std::string cmd = bin("tools/stampede/stampede") + " " + args + " -c " + w.cfg.string() +
                      " --progress never";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  measured m;
  int st = 0;
  rusage ru{};
  ::wait4(pid, &st, 0, &ru);
  m.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  m.out = read_file(log);
  m.peak_rss = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  return m;
}

}  // namespace

TEST_CASE("a 20 MB cell: beyond max_record_bytes a record error in `stampede log`, within it "
          "delivered with memory proportional to its size") {
  world w(0.01, {{"lookback", "\"0s\""}, {"safety_delay", "\"0s\""}});
  auto base = run_measured(w, "run --once --services 1");
  INFO(base.out);
  REQUIRE(base.rc == 0);

  // One taxpayer gets a 20 MB e-mail (as a careless ERP row might).
  const auto key = std::to_string(
      sql_int(w.db, "SELECT MIN(R_E_C_N_O_) FROM CONTRIBUINTES WHERE D_E_L_E_T_ <> '*'"));
  sql_exec(w.db, "UPDATE CONTRIBUINTES SET CT_EMAIL = replace(hex(zeroblob(10000000)), '0', 'a'), "
                 "S_T_A_M_P_ = strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 minute') "
                 "WHERE R_E_C_N_O_ = " + key);
  const auto updates_before = get_stats(w.target->url()).services[1].updates;

  // Default max_record_bytes (4 MiB): a record error, visible in the log.
  auto r1 = w.stampede("run --once --services 1");
  INFO(r1.out);
  CHECK(r1.rc == 4);
  auto lg = w.stampede_plain("log --service 1 --status error --json");
  INFO(lg.out);
  CHECK(lg.out.find("\"key\":\"" + key + "\"") != std::string::npos);
  CHECK(lg.out.find("more than targets.portal.max_record_bytes (4194304)") != std::string::npos);
  CHECK(get_stats(w.target->url()).services[1].updates == updates_before);  // never sent

  // Raised to 64 MiB and resent: delivered; the worker's peak grows by a few
  // copies of the cell (page, record, request body), not 15 of them.
  {
    std::string text = read_file(w.cfg);
    auto at = text.find("[targets.portal]\n");
    REQUIRE(at != std::string::npos);
    text.insert(at + 17, "max_record_bytes = 67108864\n");
    std::ofstream(w.cfg) << text;
  }
  auto rs = w.stampede_plain("resend --service 1 --key " + key);
  INFO(rs.out);
  REQUIRE(rs.rc == 0);
  auto big = run_measured(w, "run --once --services 1");
  INFO(big.out);
  CHECK(big.rc == 0);
  CHECK(get_stats(w.target->url()).services[1].updates == updates_before + 1);
  INFO("peak RSS: initial load " << base.peak_rss / 1048576 << " MiB, 20 MB cell "
                                 << big.peak_rss / 1048576 << " MiB");
  CHECK(big.peak_rss < base.peak_rss + (160ull << 20));
}
