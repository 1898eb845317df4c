// epoll HTTP/1.1 server loop of stampede-target (see server.hpp).
#include "tools/target/lib/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>

#include "tools/target/lib/app.hpp"
#include "tools/target/lib/http.hpp"
#include "tools/target/lib/json_out.hpp"

namespace stampede::target {

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::uint64_t listen_id = 0, wake_id = 1, inbox_id = 2;
constexpr std::size_t read_chunk = 64 * 1024;
constexpr std::size_t padding = simdjson::SIMDJSON_PADDING;

/// Growable byte buffer whose storage always has `padding` spare bytes.
struct buffer {
  std::unique_ptr<char[]> p;
  std::size_t len = 0, cap = 0;
  void reserve(std::size_t n) {
    if (n + padding <= cap) return;
    std::size_t c = std::max(n + padding, cap * 2);
    auto q = std::make_unique<char[]>(c);
    if (len) std::memcpy(q.get(), p.get(), len);
    p = std::move(q);
    cap = c;
  }
  void consume(std::size_t n) {
    if (n < len) std::memmove(p.get(), p.get() + n, len - n);
    len -= n;
  }
};

struct conn {
  int fd = -1;
  std::uint64_t id = 0;
  buffer in;
  std::string out;
  std::size_t out_off = 0;
  bool eof = false;          // peer finished sending
  bool closing = false;      // close once `out` is flushed
  bool waiting = false;      // a delayed answer is pending
  bool sent_continue = false;
  bool keep_alive = true;
  http_response pending;     // the delayed answer
};

struct timer {
  clock_type::time_point at;
  std::uint64_t id;
  bool operator>(const timer& o) const { return at > o.at; }
};

std::string errno_text(int e) { return std::strerror(e); }

/// Connections handed to a worker by the one that accepted them (round robin,
/// so connections spread over the workers; EPOLLEXCLUSIVE alone tends to wake
/// the same worker every time).
struct inbox {
  std::mutex mu;
  std::vector<int> fds;
  int efd = -1;
};

}  // namespace

struct server::impl {
  options opts;
  std::unique_ptr<app> a;
  int listen_fd = -1;
  int wake_fd = -1;
  std::uint16_t bound_port = 0;
  std::vector<std::thread> workers;
  std::vector<std::unique_ptr<inbox>> inboxes;
  std::atomic<std::uint64_t> next_worker{0};
  std::atomic<bool> stopping{false};
  std::mutex life_mu;
  bool running = false;

  void worker_loop(int ep, std::size_t index);
};

namespace {

class worker {
public:
  worker(int ep, int listen_fd, app& a, std::atomic<bool>& stopping,
         std::vector<std::unique_ptr<inbox>>& inboxes, std::size_t index,
         std::atomic<std::uint64_t>& next_worker)
      : ep_(ep),
        listen_fd_(listen_fd),
        app_(a),
        stopping_(stopping),
        inboxes_(inboxes),
        index_(index),
        next_worker_(next_worker) {}

  ~worker() {
    for (auto& [id, c] : conns_) ::close(c->fd);
    std::lock_guard lk(inboxes_[index_]->mu);
    for (int fd : inboxes_[index_]->fds) ::close(fd);
    inboxes_[index_]->fds.clear();
  }

  void run() {
    epoll_event evs[128];
    while (!stopping_.load(std::memory_order_acquire)) {
      int timeout = -1;
      if (!timers_.empty()) {
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(timers_.top().at - clock_type::now())
                      .count();
        timeout = static_cast<int>(std::max<long long>(0, ms));
      }
      int n = ::epoll_wait(ep_, evs, 128, timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::fprintf(stderr, "stampede-target: epoll_wait failed: %s\n", errno_text(errno).c_str());
        return;
      }
      for (int i = 0; i < n; ++i) {
        const std::uint64_t id = evs[i].data.u64;
        if (id == wake_id) continue;  // the loop condition sees `stopping`
        if (id == listen_id) {
          accept_all();
          continue;
        }
        if (id == inbox_id) {
          take_inbox();
          continue;
        }
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        conn* c = it->second.get();
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
          if (!on_readable(c)) continue;
        }
        if (evs[i].events & EPOLLOUT) flush(c);
      }
      fire_timers();
    }
  }

private:
  void accept_all() {
    while (true) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        // EAGAIN: another worker took it. EMFILE & co: drop this round, retry on next event.
        return;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      const std::size_t target = next_worker_.fetch_add(1) % inboxes_.size();
      if (target == index_) {
        adopt(fd);
      } else {
        auto& box = *inboxes_[target];
        {
          std::lock_guard lk(box.mu);
          box.fds.push_back(fd);
        }
        std::uint64_t v = 1;
        (void)!::write(box.efd, &v, sizeof v);
      }
    }
  }

  void take_inbox() {
    auto& box = *inboxes_[index_];
    std::uint64_t v;
    (void)!::read(box.efd, &v, sizeof v);
    std::vector<int> fds;
    {
      std::lock_guard lk(box.mu);
      fds.swap(box.fds);
    }
    for (int fd : fds) adopt(fd);
  }

  void adopt(int fd) {
    {
      auto c = std::make_unique<conn>();
      c->fd = fd;
      c->id = next_id_++;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.u64 = c->id;
      if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        return;
      }
      conns_.emplace(c->id, std::move(c));
    }
  }

  void close_conn(conn* c) {
    ::close(c->fd);  // also removes it from the epoll set
    conns_.erase(c->id);
  }

  // Reads everything available, then processes. False if the connection was closed.
  bool on_readable(conn* c) {
    while (!c->eof) {
      c->in.reserve(c->in.len + read_chunk);
      ssize_t r = ::recv(c->fd, c->in.p.get() + c->in.len, c->in.cap - padding - c->in.len, 0);
      if (r > 0) {
        c->in.len += static_cast<std::size_t>(r);
        continue;
      }
      if (r == 0) {
        c->eof = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_conn(c);
      return false;
    }
    return process(c);
  }

  void queue(conn* c, const http_response& res) {
    frame_response(res, c->keep_alive, c->out);
    if (!c->keep_alive || res.close) c->closing = true;
  }

  void fail(conn* c, int status, std::string_view code, std::string_view msg) {
    http_response res;
    res.status = status;
    res.body = json_error(code, msg);
    res.close = true;
    queue(c, res);
  }

  // Handles every complete request in the buffer. False if the connection was closed.
  bool process(conn* c) {
    while (!c->waiting && !c->closing) {
      http_request req;
      std::size_t head_len = 0;
      std::string err;
      auto st = parse_head(std::string_view(c->in.p.get(), c->in.len), req, head_len, err);
      if (st == head_status::incomplete) break;
      if (st == head_status::too_large) {
        fail(c, 431, "bad_request", "request head larger than 64 KiB");
        break;
      }
      if (st == head_status::bad) {
        fail(c, 400, "bad_request", err);
        break;
      }
      c->keep_alive = req.keep_alive;
      if (req.chunked) {
        fail(c, 411, "length_required",
             "chunked request bodies are not supported; send Content-Length");
        break;
      }
      if (req.content_length > max_body_bytes) {
        fail(c, 413, "too_large", "request body larger than 256 MiB");
        break;
      }
      const std::size_t total = head_len + req.content_length;
      if (c->in.len < total) {
        if (req.expect_continue && !c->sent_continue) {
          c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
          c->sent_continue = true;
        }
        if (c->in.cap < total + padding) {
          c->in.reserve(total);  // invalidates `req`; it is parsed again when complete
          if (!c->eof) {         // data may be waiting that did not fit before (edge-triggered)
            flush(c);
            return on_readable(c);
          }
        }
        break;
      }
      req.body = c->in.p.get() + head_len;
      req.body_padding = c->in.cap - total;
      http_response res;
      app_.handle(req, res, ctx_);
      c->in.consume(total);
      c->sent_continue = false;
      if (res.delay_ms > 0) {
        c->waiting = true;
        c->pending = std::move(res);
        timers_.push(timer{clock_type::now() + std::chrono::milliseconds(c->pending.delay_ms), c->id});
        break;
      }
      if (res.drop) {
        close_conn(c);
        return false;
      }
      queue(c, res);
    }
    if (c->eof && !c->waiting && c->out.size() == c->out_off) {
      close_conn(c);
      return false;
    }
    return flush(c);
  }

  // Writes what it can. False if the connection was closed.
  bool flush(conn* c) {
    while (c->out_off < c->out.size()) {
      ssize_t w = ::send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
      if (w > 0) {
        c->out_off += static_cast<std::size_t>(w);
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      close_conn(c);
      return false;
    }
    c->out.clear();
    c->out_off = 0;
    if (c->closing || (c->eof && !c->waiting)) {
      close_conn(c);
      return false;
    }
    return true;
  }

  void fire_timers() {
    const auto now = clock_type::now();
    while (!timers_.empty() && timers_.top().at <= now) {
      const auto id = timers_.top().id;
      timers_.pop();
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      conn* c = it->second.get();
      c->waiting = false;
      http_response res = std::move(c->pending);
      if (res.drop) {
        close_conn(c);
        continue;
      }
      queue(c, res);
      if (!flush(c)) continue;
      process(c);
    }
  }

  int ep_;
  int listen_fd_;
  app& app_;
  std::atomic<bool>& stopping_;
  std::vector<std::unique_ptr<inbox>>& inboxes_;
  std::size_t index_;
  std::atomic<std::uint64_t>& next_worker_;
  worker_ctx ctx_;
  std::uint64_t next_id_ = 3;
  std::unordered_map<std::uint64_t, std::unique_ptr<conn>> conns_;
  std::priority_queue<timer, std::vector<timer>, std::greater<timer>> timers_;
};

}  // namespace

void server::impl::worker_loop(int ep, std::size_t index) {
  {
    worker w(ep, listen_fd, *a, stopping, inboxes, index, next_worker);
    w.run();
  }
  ::close(ep);
}

server::server(options o) : p_(std::make_unique<impl>()) {
  if (o.threads == 0) throw std::invalid_argument("threads must be >= 1");
  p_->opts = o;
  p_->a = std::make_unique<app>(o);
}

server::~server() { stop(); }

void server::start() {
  std::lock_guard lk(p_->life_mu);
  if (p_->running) throw std::runtime_error("stampede-target: server already started");
  auto& o = p_->opts;
  p_->a->load_state();

  const std::string where = o.host + ":" + std::to_string(o.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string port_s = std::to_string(o.port);
  int gai = ::getaddrinfo(o.host.empty() ? nullptr : o.host.c_str(), port_s.c_str(), &hints, &res);
  if (gai != 0) {
    throw std::runtime_error("stampede-target: cannot resolve listen host '" + o.host +
                             "': " + ::gai_strerror(gai) + " (use an IP address such as 127.0.0.1)");
  }
  int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    throw std::runtime_error("stampede-target: socket() failed: " + errno_text(errno));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 1024) != 0) {
    const int e = errno;
    ::freeaddrinfo(res);
    ::close(fd);
    throw std::runtime_error("stampede-target: cannot listen on " + where + ": " + errno_text(e) +
                             (e == EADDRINUSE ? " (another process holds the port; pick another "
                                                "port or use port 0)"
                                              : ""));
  }
  ::freeaddrinfo(res);
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &sl);
  p_->bound_port = ss.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  p_->listen_fd = fd;
  p_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  p_->stopping.store(false);
  p_->inboxes.clear();
  for (unsigned i = 0; i < o.threads; ++i) {
    p_->inboxes.push_back(std::make_unique<inbox>());
    p_->inboxes.back()->efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  }
  for (unsigned i = 0; i < o.threads; ++i) {
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.u64 = listen_id;
    bool ok = ep >= 0 && ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
    epoll_event wv{};
    wv.events = EPOLLIN;
    wv.data.u64 = wake_id;
    ok = ok && ::epoll_ctl(ep, EPOLL_CTL_ADD, p_->wake_fd, &wv) == 0;
    epoll_event iv{};
    iv.events = EPOLLIN;
    iv.data.u64 = inbox_id;
    ok = ok && ::epoll_ctl(ep, EPOLL_CTL_ADD, p_->inboxes[i]->efd, &iv) == 0;
    if (!ok) {
      const int e = errno;
      if (ep >= 0) ::close(ep);
      p_->running = true;  // let stop() clean up the workers already started
      p_->life_mu.unlock();
      stop();
      p_->life_mu.lock();
      throw std::runtime_error("stampede-target: epoll setup failed: " + errno_text(e));
    }
    p_->workers.emplace_back([this, ep, i] { p_->worker_loop(ep, i); });
  }
  p_->running = true;
}

std::uint16_t server::port() const { return p_->bound_port; }

void server::stop() {
  std::lock_guard lk(p_->life_mu);
  if (!p_->running) return;
  p_->running = false;
  p_->stopping.store(true, std::memory_order_release);
  std::uint64_t one = 1;
  if (p_->wake_fd >= 0) (void)!::write(p_->wake_fd, &one, sizeof one);
  for (auto& t : p_->workers) t.join();
  p_->workers.clear();
  if (p_->listen_fd >= 0) ::close(p_->listen_fd);
  if (p_->wake_fd >= 0) ::close(p_->wake_fd);
  p_->listen_fd = p_->wake_fd = -1;
  for (auto& b : p_->inboxes) {  // workers joined: nobody hands over connections any more
    for (int fd : b->fds) ::close(fd);
    ::close(b->efd);
  }
  p_->inboxes.clear();
  try {
    p_->a->save_state();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
  }
}

void server::set_faults(const faults& f) { p_->a->set_faults(f); }
std::string server::stats_json() const { return p_->a->stats_json(); }
void server::reset() { p_->a->reset(); }

}  // namespace stampede::target
