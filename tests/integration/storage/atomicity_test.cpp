// Crash atomicity of state_store::commit: a child process commits pages in a
// loop and is SIGKILLed at a random moment; the parent reopens the store and
// checks that the checkpoint never runs ahead of the ledger entries it covers
// (and that no entry of an uncommitted page leaked in).
//
// The child is this test executable itself (fork + exec /proc/self/exe running
// the hidden test case below), so it starts with a clean RocksDB state instead
// of inheriting thread pools from a forked multi-threaded parent.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>

#include "storage/ledger.hpp"
#include "tests/integration/storage/temp_dir.hpp"

extern char** environ;

using namespace stampede;

namespace {

constexpr std::uint32_t service_id = 42;
constexpr const char* child_test_name = "storage atomicity child";

std::string page_key(std::int64_t page, int j) {
  return "p" + std::to_string(page) + "-" + std::to_string(j);
}

ledger_entry page_entry(std::int64_t page, int j, std::size_t pad) {
  ledger_entry e;
  e.content_hash = static_cast<std::uint64_t>(page) * 1'000'003u + static_cast<std::uint64_t>(j);
  e.remote_id = "remote-" + std::to_string(page) + "-" + std::to_string(j);
  e.status = record_status::success;
  e.attempts = 1;
  e.last_stamp = "2024-06-11 10:00:00.000";
  e.updated_ms = page;
  e.last_error = std::string(pad, 'e');
  return e;
}

int env_int(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : -1;
}

struct variant {
  int page_entries;
  std::size_t pad;
};

void run_crash_test(const variant& v) {
  stampede::test::temp_dir tmp;
  const std::string dir = tmp.sub("state");

  int ready[2];
  REQUIRE(::pipe(ready) == 0);

  // Everything the child needs is prepared before fork (only async-signal-safe
  // calls between fork and exec).
  std::vector<std::string> env_strings{
      "STAMPEDE_ATOMICITY_DIR=" + dir,
      "STAMPEDE_ATOMICITY_PAGE=" + std::to_string(v.page_entries),
      "STAMPEDE_ATOMICITY_PAD=" + std::to_string(v.pad),
      "STAMPEDE_ATOMICITY_READY_FD=" + std::to_string(ready[1]),
  };
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string exe = "/proc/self/exe";
  std::string name = child_test_name;
  char* argv[] = {exe.data(), name.data(), nullptr};

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(ready[0]);
    const int devnull = ::open("/dev/null", O_WRONLY);
    if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
    ::execve(exe.c_str(), argv, envp.data());
    ::_exit(127);
  }
  ::close(ready[1]);

  // Wait until the child has committed its first page.
  pollfd pfd{ready[0], POLLIN, 0};
  const int pr = ::poll(&pfd, 1, 60'000);
  char byte = 0;
  const bool got_ready = pr == 1 && ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  if (!got_ready) {
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    FAIL("child never reported its first commit (wait status " << st << ")");
  }

  const unsigned seed = std::random_device{}();
  std::cout << "atomicity test: page_entries=" << v.page_entries << " kill-delay seed=" << seed << "\n";
  std::mt19937 rng(seed);
  const int delay_ms = std::uniform_int_distribution<int>(1, 250)(rng);
  CAPTURE(seed, delay_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  REQUIRE(::kill(pid, SIGKILL) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  auto store = state_store::open(dir);
  const std::int64_t c = store->load_state(service_id).checkpoint_recno;
  std::cout << "atomicity test: checkpoint after SIGKILL = page " << c << "\n";
  CAPTURE(c);
  REQUIRE(c >= 1);

  std::vector<std::string> owned;
  std::vector<std::string_view> keys;
  auto page_keys = [&](std::int64_t page) {
    owned.clear();
    for (int j = 0; j < v.page_entries; ++j) owned.push_back(page_key(page, j));
    keys.assign(owned.begin(), owned.end());
    return keys;
  };
  // Every entry of every page <= c exists with the content of that page.
  for (std::int64_t p = 1; p <= c; ++p) {
    const auto got = store->get_many(service_id, page_keys(p));
    for (int j = 0; j < v.page_entries; ++j) {
      if (!got[static_cast<std::size_t>(j)] ||
          got[static_cast<std::size_t>(j)]->content_hash != page_entry(p, j, 0).content_hash)
        FAIL("entry " << page_key(p, j) << " of committed page " << p << " is missing or wrong");
    }
  }
  // No entry of page c+1 exists: it was in the same batch as checkpoint c+1.
  const auto next = store->get_many(service_id, page_keys(c + 1));
  for (const auto& e : next) REQUIRE_FALSE(e.has_value());
  // And nothing else: exactly c full pages.
  std::uint64_t total = 0;
  store->scan(service_id, [&](std::string_view, const ledger_entry&) { return ++total, true; });
  REQUIRE(total == static_cast<std::uint64_t>(c) * static_cast<std::uint64_t>(v.page_entries));
}

} // namespace

// Hidden ([.]): only run by run_crash_test in a child process; never returns there.
TEST_CASE("storage atomicity child", "[.][atomicity_child]") {
  const char* dir = std::getenv("STAMPEDE_ATOMICITY_DIR");
  const int page_entries = env_int("STAMPEDE_ATOMICITY_PAGE");
  const int pad = env_int("STAMPEDE_ATOMICITY_PAD");
  const int ready_fd = env_int("STAMPEDE_ATOMICITY_READY_FD");
  if (!dir || page_entries <= 0 || pad < 0 || ready_fd < 0) {
    SUCCEED("not started by the atomicity test: nothing to do");
    return;
  }
  auto store = state_store::open(dir);
  std::vector<std::pair<std::string, ledger_entry>> updates;
  for (std::int64_t page = 1;; ++page) {
    updates.clear();
    for (int j = 0; j < page_entries; ++j)
      updates.emplace_back(page_key(page, j), page_entry(page, j, static_cast<std::size_t>(pad)));
    service_state st;
    st.checkpoint_recno = page;
    st.checkpoint_stamp = "page " + std::to_string(page);
    store->commit(service_id, updates, st, false);
    if (page == 1) {
      const char one = '1';
      if (::write(ready_fd, &one, 1) != 1) std::_Exit(3);
      ::close(ready_fd);
    }
  }
}

TEST_CASE("state store: SIGKILL during commits never leaves the checkpoint ahead of the ledger",
          "[state_store][atomicity]") {
  run_crash_test({100, 0});
}

TEST_CASE("state store: SIGKILL atomicity with large batches (multi-block WAL records)",
          "[state_store][atomicity]") {
  run_crash_test({2000, 300});
}
