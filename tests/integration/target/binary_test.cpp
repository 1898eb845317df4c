// The real stampede-target binary: --listen 127.0.0.1:0 --port-file, SIGTERM -> exit 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/integration/target/target_test_util.hpp"

using namespace target_test;

namespace {

const std::string binary = std::string(STAMPEDE_BINARY_DIR) + "/tools/target/stampede-target";

pid_t spawn(const std::vector<std::string>& args, const std::string& out_path) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(out_path.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 500; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST_CASE("stampede-target binary: port file, requests, SIGTERM exits 0", "[target][binary]") {
  const std::string dir = std::string(STAMPEDE_BINARY_DIR);
  const std::string port_file = dir + "/target_bin_test.port", out = dir + "/target_bin_test.out";
  std::remove(port_file.c_str());
  setenv("TARGET_TEST_KEY", "bin-key", 1);
  pid_t pid = spawn({"--listen", "127.0.0.1:0", "--port-file", port_file, "--auth", "static",
                     "--static-key-env", "TARGET_TEST_KEY", "--threads", "1"},
                    out);
  REQUIRE(pid > 0);
  std::string port;
  for (int i = 0; i < 250 && port.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    port = slurp(port_file);
  }
  REQUIRE_FALSE(port.empty());
  while (!port.empty() && port.back() == '\n') port.pop_back();
  const std::string base = "http://127.0.0.1:" + port;
  CHECK(http("GET", base + "/health").status == 200);
  const std::string body = R"({"records":[{"key":"a","op":"create","data":{}}]})";
  CHECK(http("POST", base + "/services/1/sync", body).status == 401);
  CHECK(http("POST", base + "/services/1/sync", body, {"Authorization: Bearer bin-key"}).status == 200);
  CHECK(json(http("GET", base + "/stats").body).num("/creates") == 1);
  kill(pid, SIGTERM);
  CHECK(wait_exit(pid) == 0);
  const std::string printed = slurp(out);
  CHECK(printed == "stampede-target listening on http://127.0.0.1:" + port + "\n");
  CHECK(printed.find("bin-key") == std::string::npos);
}

TEST_CASE("stampede-target binary: bad flags exit 2 with a message", "[target][binary]") {
  const std::string out = std::string(STAMPEDE_BINARY_DIR) + "/target_bin_bad.out";
  CHECK(wait_exit(spawn({"--fail-rate", "3"}, out)) == 2);
  CHECK(slurp(out).find("fail-rate") != std::string::npos);
  CHECK(wait_exit(spawn({"--listen", "nonsense"}, out)) == 2);
  CHECK(slurp(out).find("--listen") != std::string::npos);
  CHECK(wait_exit(spawn({"--auth", "static", "--static-key-env", "SURELY_UNSET_VAR_X"}, out)) == 2);
  CHECK(wait_exit(spawn({"--validate", "x:bogus"}, out)) == 2);
  CHECK(wait_exit(spawn({"--help"}, out)) == 0);
  CHECK(slurp(out).find("Examples") != std::string::npos);
}
