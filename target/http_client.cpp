#include "target/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_set>

namespace stampede {
namespace {

using clock = std::chrono::steady_clock;

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensure_curl_global() {
  static curl_global g;  // thread-safe once; never cleaned up (process lifetime)
  (void)g;
}

struct transfer {
  http_request req;
  http_client::completion done;
  http_response resp;
  curl_slist* headers = nullptr;
  CURL* easy = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
};

struct timer {
  clock::time_point at;
  std::uint64_t seq;
  std::function<void()> fn;
};
struct timer_later {
  bool operator()(const timer& a, const timer& b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Padding left after a body so simdjson can parse it in place (no copy).
constexpr std::size_t body_padding = 64;

size_t on_body(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<transfer*>(user);
  const std::size_t n = size * nmemb;
  std::string& body = t->resp.body;
  const std::uint64_t limit = t->req.max_response_bytes;
  if (limit && body.size() + n > limit) {
    t->resp.too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  if (body.empty() && t->easy) {  // one allocation of the announced size
    curl_off_t announced = -1;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
    if (announced > 0) {
      std::uint64_t want = static_cast<std::uint64_t>(announced);
      if (limit) want = std::min(want, limit);
      body.reserve(static_cast<std::size_t>(want) + body_padding);
    }
  }
  if (body.capacity() < body.size() + n + body_padding)
    body.reserve(std::max(body.size() + n + body_padding, body.capacity() * 2));
  body.append(ptr, n);
  return n;
}

size_t on_header(char* ptr, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<transfer*>(user);
  std::string_view line(ptr, size * nmemb);
  if (line.starts_with("HTTP/")) {  // a new response (e.g. after 100 Continue)
    t->resp.retry_after.reset();
    return line.size();
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  if (iequals(trim(line.substr(0, colon)), "retry-after")) {
    auto v = trim(line.substr(colon + 1));
    long long secs = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
    if (ec == std::errc{} && p == v.data() + v.size() && secs >= 0 && secs < 86400LL * 365)
      t->resp.retry_after = std::chrono::duration_cast<duration>(std::chrono::seconds(secs));
  }
  return line.size();
}

}  // namespace

struct http_client::impl {
  http_client_options opt;
  CURLM* multi = nullptr;
  std::thread thread;

  // Shared with callers (guarded by mu).
  mutable std::mutex mu;
  std::condition_variable idle_cv;
  std::deque<std::unique_ptr<transfer>> incoming;
  std::vector<timer> incoming_timers;
  bool stopping = false;
  std::uint64_t pending = 0;  // submitted-not-completed requests + timers not yet run
  std::atomic<std::uint64_t> submitted{0}, completed{0}, transport_errors{0}, active_n{0}, timers_n{0};

  // Client thread only.
  std::unordered_set<transfer*> active;
  std::priority_queue<timer, std::vector<timer>, timer_later> timers;
  std::uint64_t timer_seq = 0;
  std::vector<CURL*> pool;

  CURL* take_easy() {
    if (!pool.empty()) {
      CURL* e = pool.back();
      pool.pop_back();
      curl_easy_reset(e);
      return e;
    }
    return curl_easy_init();
  }
  void give_easy(CURL* e) {
    if (pool.size() < opt.pool_easy) pool.push_back(e);
    else curl_easy_cleanup(e);
  }

  void finish_one() {
    std::lock_guard lk(mu);
    if (pending > 0) --pending;
    if (pending == 0) idle_cv.notify_all();
  }

  void complete(std::unique_ptr<transfer> t) {
    if (t->resp.status == 0) transport_errors.fetch_add(1, std::memory_order_relaxed);
    completed.fetch_add(1, std::memory_order_relaxed);
    auto done = std::move(t->done);
    http_response r = std::move(t->resp);
    t.reset();
    if (done) done(std::move(r));
    finish_one();
  }

  void fail(std::unique_ptr<transfer> t, std::string msg, bool cancelled = false) {
    t->resp.status = 0;
    t->resp.body.clear();
    t->resp.error = std::move(msg);
    t->resp.cancelled = cancelled;
    complete(std::move(t));
  }

  void start_transfer(std::unique_ptr<transfer> t) {
    CURL* e = take_easy();
    if (!e) return fail(std::move(t), "curl_easy_init failed (out of memory?)");
    t->easy = e;
    const auto& rq = t->req;
    curl_easy_setopt(e, CURLOPT_URL, rq.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(rq.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(rq.timeout.count()));
    curl_easy_setopt(e, CURLOPT_USERAGENT, opt.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    if (rq.max_response_bytes)
      curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(rq.max_response_bytes));
    if (!rq.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, rq.ca_file.c_str());
    if (!rq.ca_dir.empty()) curl_easy_setopt(e, CURLOPT_CAPATH, rq.ca_dir.c_str());
    if (rq.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
      if (rq.method == "POST") curl_easy_setopt(e, CURLOPT_POST, 1L);
      else curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, rq.method.c_str());
      if (rq.method != "DELETE" || !rq.body.empty()) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(rq.body.size()));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq.body.data());
      }
    }
    curl_slist* h = nullptr;
    bool ok = true;
    auto add = [&](const std::string& line) {
      curl_slist* n = curl_slist_append(h, line.c_str());
      if (!n) ok = false;
      else h = n;
    };
    add("Expect:");  // no 100-continue round trip
    for (const auto& [k, v] : rq.headers) add(k + ": " + v);
    t->headers = h;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    if (!ok) {
      cleanup_transfer(*t);
      return fail(std::move(t), "out of memory building request headers");
    }
    if (curl_multi_add_handle(multi, e) != CURLM_OK) {
      cleanup_transfer(*t);
      return fail(std::move(t), "curl_multi_add_handle failed");
    }
    active.insert(t.release());
    active_n.store(active.size(), std::memory_order_relaxed);
  }

  void cleanup_transfer(transfer& t) {
    if (t.easy) {
      give_easy(t.easy);
      t.easy = nullptr;
    }
    if (t.headers) {
      curl_slist_free_all(t.headers);
      t.headers = nullptr;
    }
  }

  void harvest() {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
      if (m->msg != CURLMSG_DONE) continue;
      CURL* e = m->easy_handle;
      CURLcode rc = m->data.result;
      transfer* raw = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, &raw);
      curl_multi_remove_handle(multi, e);
      std::unique_ptr<transfer> t(raw);
      active.erase(raw);
      active_n.store(active.size(), std::memory_order_relaxed);
      if (rc == CURLE_FILESIZE_EXCEEDED ||
          (rc == CURLE_WRITE_ERROR && t->resp.too_large)) {
        long code = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        t->resp.status = static_cast<int>(code);
        t->resp.too_large = true;
        t->resp.error = "answer longer than max_response_bytes (" +
                        std::to_string(t->req.max_response_bytes) + " bytes); it was not read";
        std::string().swap(t->resp.body);  // its memory back at once
      } else if (rc == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        t->resp.status = static_cast<int>(code);
      } else {
        t->resp.status = 0;
        t->resp.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        // curl's detailed reason when it gave one ("SSL certificate
        // problem: unable to get local issuer certificate").
        t->resp.error = t->errbuf[0] ? std::string(t->errbuf) : std::string(curl_easy_strerror(rc));
        // Conservative: once the transfer began on a connection, the target
        // may have received (and applied) the request.
        long req_size = 0;
        curl_off_t pretransfer = 0;
        curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &req_size);
        curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
        t->resp.sent = req_size > 0 || pretransfer > 0;
        t->resp.body.clear();
      }
      cleanup_transfer(*t);
      complete(std::move(t));
    }
  }

  void run_timers() {
    auto now = clock::now();
    while (!timers.empty() && timers.top().at <= now) {
      auto fn = std::move(const_cast<timer&>(timers.top()).fn);
      timers.pop();
      timers_n.store(timers.size(), std::memory_order_relaxed);
      if (fn) fn();
      finish_one();
    }
  }

  void loop() {
    for (;;) {
      std::deque<std::unique_ptr<transfer>> batch;
      std::vector<timer> new_timers;
      bool stop_now;
      {
        std::lock_guard lk(mu);
        batch.swap(incoming);
        new_timers.swap(incoming_timers);
        stop_now = stopping;
      }
      if (stop_now) {
        for (auto& t : batch) fail(std::move(t), "cancelled: http client stopped", true);
        cancel_all();
        return;
      }
      for (auto& tm : new_timers) {
        tm.seq = timer_seq++;
        timers.push(std::move(tm));
      }
      timers_n.store(timers.size(), std::memory_order_relaxed);
      for (auto& t : batch) start_transfer(std::move(t));
      int running = 0;
      curl_multi_perform(multi, &running);
      harvest();
      run_timers();

      long wait_ms = 1000;
      long ct = -1;
      curl_multi_timeout(multi, &ct);
      if (ct >= 0) wait_ms = std::min(wait_ms, ct);
      if (!timers.empty()) {
        auto d = std::chrono::duration_cast<std::chrono::milliseconds>(timers.top().at - clock::now()).count();
        wait_ms = std::min<long>(wait_ms, std::max<long>(0, static_cast<long>(d)));
      }
      {
        std::lock_guard lk(mu);
        if (!incoming.empty() || !incoming_timers.empty() || stopping) wait_ms = 0;
      }
      if (wait_ms > 0) curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait_ms), nullptr);
    }
  }

  void cancel_all() {
    for (transfer* raw : std::vector<transfer*>(active.begin(), active.end())) {
      curl_multi_remove_handle(multi, raw->easy);
      std::unique_ptr<transfer> t(raw);
      cleanup_transfer(*t);
      fail(std::move(t), "cancelled: http client stopped", true);
    }
    active.clear();
    active_n.store(0);
    // Completions above may have queued more work; fail/drop it too.
    for (;;) {
      std::deque<std::unique_ptr<transfer>> batch;
      std::vector<timer> new_timers;
      {
        std::lock_guard lk(mu);
        batch.swap(incoming);
        new_timers.swap(incoming_timers);
        if (batch.empty() && new_timers.empty()) break;
      }
      for (auto& t : batch) fail(std::move(t), "cancelled: http client stopped", true);
      for (std::size_t i = 0; i < new_timers.size(); ++i) finish_one();
    }
    while (!timers.empty()) {
      timers.pop();
      finish_one();
    }
    timers_n.store(0);
  }
};

http_client::http_client(http_client_options o) : p_(std::make_unique<impl>()) {
  ensure_curl_global();
  p_->opt = std::move(o);
  p_->multi = curl_multi_init();
  if (!p_->multi) throw std::runtime_error("http_client: curl_multi_init failed (out of memory?)");
  curl_multi_setopt(p_->multi, CURLMOPT_MAXCONNECTS, p_->opt.max_connections);
  p_->thread = std::thread([this] { p_->loop(); });
}

http_client::~http_client() {
  stop();
  for (CURL* e : p_->pool) curl_easy_cleanup(e);
  if (p_->multi) curl_multi_cleanup(p_->multi);
}

bool http_client::submit(http_request req, completion done) {
  auto t = std::make_unique<transfer>();
  t->req = std::move(req);
  t->done = std::move(done);
  {
    std::lock_guard lk(p_->mu);
    if (p_->stopping) return false;
    p_->incoming.push_back(std::move(t));
    ++p_->pending;
  }
  p_->submitted.fetch_add(1, std::memory_order_relaxed);
  curl_multi_wakeup(p_->multi);
  return true;
}

bool http_client::schedule(duration delay, std::function<void()> fn) {
  {
    std::lock_guard lk(p_->mu);
    if (p_->stopping) return false;
    p_->incoming_timers.push_back(timer{clock::now() + delay, 0, std::move(fn)});
    ++p_->pending;
  }
  curl_multi_wakeup(p_->multi);
  return true;
}

bool http_client::drain(duration limit) {
  std::unique_lock lk(p_->mu);
  return p_->idle_cv.wait_for(lk, limit, [&] { return p_->pending == 0 || p_->stopping; }) &&
         p_->pending == 0;
}

void http_client::stop() {
  {
    std::lock_guard lk(p_->mu);
    if (p_->stopping && !p_->thread.joinable()) return;
    p_->stopping = true;
  }
  p_->idle_cv.notify_all();
  curl_multi_wakeup(p_->multi);
  if (p_->thread.joinable()) {
    if (std::this_thread::get_id() == p_->thread.get_id())
      throw std::logic_error("http_client::stop() called on the client thread");
    p_->thread.join();
  }
}

bool http_client::on_client_thread() const {
  return std::this_thread::get_id() == p_->thread.get_id();
}

http_client_stats http_client::stats() const {
  http_client_stats s;
  s.submitted = p_->submitted.load(std::memory_order_relaxed);
  s.completed = p_->completed.load(std::memory_order_relaxed);
  s.transport_errors = p_->transport_errors.load(std::memory_order_relaxed);
  s.active = p_->active_n.load(std::memory_order_relaxed);
  s.timers = p_->timers_n.load(std::memory_order_relaxed);
  return s;
}

}  // namespace stampede
