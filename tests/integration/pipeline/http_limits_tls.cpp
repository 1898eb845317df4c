// max_response_bytes with real HTTP (a raw socket server streaming a huge
// answer), memory afterwards, and TLS against a private CA (openssl makes
// the CA and the certificate, `openssl s_server` serves them).
#include "http_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace stampede;
using namespace stampede::test;

namespace {

/// Answers every connection with 200 and `bytes` of body ('x'), with or
/// without Content-Length (then the end is the connection's close).
class huge_server {
public:
  huge_server(std::uint64_t bytes, bool content_length) : bytes_(bytes), cl_(content_length) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 8) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    th_ = std::thread([this] { serve(); });
  }
  ~huge_server() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    th_.join();
  }
  std::uint16_t port() const { return port_; }
  int served() const { return served_; }

private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[65536];
      (void)::recv(c, buf, sizeof buf, 0);  // the request (small)
      std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";
      head += cl_ ? "Content-Length: " + std::to_string(bytes_) + "\r\n" : "Connection: close\r\n";
      head += "\r\n";
      ::send(c, head.data(), head.size(), MSG_NOSIGNAL);
      std::string chunk(1 << 20, 'x');
      for (std::uint64_t sent = 0; sent < bytes_ && !stop_;) {
        auto n = ::send(c, chunk.data(), std::min<std::uint64_t>(chunk.size(), bytes_ - sent), MSG_NOSIGNAL);
        if (n <= 0) break;  // the client gave up (limit reached)
        sent += static_cast<std::uint64_t>(n);
      }
      ++served_;
      ::close(c);
    }
  }
  std::uint64_t bytes_;
  bool cl_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> served_{0};
  std::thread th_;
};

http_response get(http_client& c, http_request rq) {
  auto p = std::make_shared<std::promise<http_response>>();
  auto f = p->get_future();
  REQUIRE(c.submit(std::move(rq), [p](http_response r) { p->set_value(std::move(r)); }));
  REQUIRE(f.wait_for(std::chrono::seconds(60)) == std::future_status::ready);
  return f.get();
}

/// Peak resident memory (VmHWM) of this process in bytes, after resetting
/// it to the current RSS when `reset`.
std::uint64_t peak_rss(bool reset = false) {
  if (reset) std::ofstream("/proc/self/clear_refs") << "5";
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

int sh(const std::string& cmd) {
  int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST_CASE("an answer beyond max_response_bytes is cut off and its memory is not kept",
          "[integration][http][limits]") {
  http_client client;
  for (bool content_length : {true, false}) {
    INFO("Content-Length announced: " << content_length);
    huge_server srv(500ull << 20, content_length);  // 500 MB
    const auto before = peak_rss(/*reset=*/true);
    http_request rq;
    rq.url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/big";
    rq.max_response_bytes = 4u << 20;
    auto r = get(client, rq);
    CHECK(r.too_large);
    CHECK(r.status == 200);
    CHECK(r.body.empty());
    CHECK(r.body.capacity() < 1024);
    CHECK_THAT(r.error, Catch::Contains("longer than max_response_bytes (4194304 bytes)"));
    // Bounded: nowhere near the 500 MB answer.
    CHECK(peak_rss() - before < (64ull << 20));
  }
  client.stop();
}

TEST_CASE("a sync batch answered beyond max_response_bytes fails at the target level, saying so",
          "[integration][http][limits]") {
  huge_server srv(64ull << 20, true);
  http_client client;
  auto t = make_target(srv.port(), target_protocol::sync_batch);
  t.max_response_bytes = 1u << 20;
  t.request_attempts = 2;
  driver d(t, client, 5);
  auto r = send_and_wait(d, make_batch(5, "a", 3, record_op::create));
  REQUIRE(r.target);
  CHECK(r.outcomes.empty());  // records untouched
  CHECK(r.target->cls == failure_class::exhausted);
  CHECK_THAT(r.target->reason, Catch::Contains("max_response_bytes (1048576 bytes)"));
  client.stop();
}

TEST_CASE("tls.ca_file and tls.ca_dir trust a private CA, without them the TLS failure says why",
          "[integration][http][tls]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("stampede-tls-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "cas");
  const std::string d = dir.string();
  // A private CA and a server certificate for 127.0.0.1 signed by it.
  REQUIRE(sh("cd " + d + " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem "
             "-days 2 -subj /CN=stampede-test-ca >/dev/null 2>&1") == 0);
  REQUIRE(sh("cd " + d + " && openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr "
             "-subj /CN=127.0.0.1 >/dev/null 2>&1") == 0);
  std::ofstream(dir / "ext.cnf") << "subjectAltName=IP:127.0.0.1\n";
  REQUIRE(sh("cd " + d + " && openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
             "-CAcreateserial -out srv.pem -days 2 -extfile ext.cnf >/dev/null 2>&1") == 0);
  REQUIRE(sh("cp " + d + "/ca.pem " + d + "/cas/ && openssl rehash " + d + "/cas >/dev/null 2>&1") == 0);
  // `openssl s_server -HTTP` answers GET /FILE with FILE's bytes (a whole response).
  std::ofstream(dir / "ok.json", std::ios::binary)
      << "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"ok\"}";
  int port = 0;
  {
    huge_server probe(0, true);  // a free port: take it, then hand it to s_server
    port = probe.port();
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::chdir(d.c_str());
    std::string p = std::to_string(port);
    ::execlp("openssl", "openssl", "s_server", "-quiet", "-HTTP", "-accept", p.c_str(), "-cert",
             "srv.pem", "-key", "srv.key", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  http_client client;
  http_request rq;
  rq.url = "https://127.0.0.1:" + std::to_string(port) + "/ok.json";
  http_response plain;
  for (int i = 0; i < 100; ++i) {  // until s_server listens
    plain = get(client, rq);
    if (plain.error.find("onnect") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Not trusted by default: curl's reason, not just "SSL peer certificate ... not OK".
  CHECK(plain.status == 0);
  CHECK_THAT(plain.error, Catch::Contains("SSL certificate problem"));
  rq.ca_file = d + "/ca.pem";
  auto with_file = get(client, rq);
  CHECK(with_file.status == 200);
  CHECK(with_file.body == "{\"status\":\"ok\"}");
  rq.ca_file.clear();
  rq.ca_dir = d + "/cas";
  auto with_dir = get(client, rq);
  CHECK(with_dir.status == 200);

  // Through a target: the failure is target-level with curl's reason.
  auto t = make_target(static_cast<std::uint16_t>(port), target_protocol::sync_batch);
  t.base_url = "https://127.0.0.1:" + std::to_string(port);
  t.request_attempts = 1;
  driver drv(t, client, 9);
  auto r = send_and_wait(drv, make_batch(9, "a", 2, record_op::create));
  REQUIRE(r.target);
  CHECK(r.outcomes.empty());
  CHECK(r.target->cls == failure_class::unreachable);
  CHECK_THAT(r.target->reason, Catch::Contains("SSL certificate problem"));
  client.stop();
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  fs::remove_all(dir);
}
