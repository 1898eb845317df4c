// bench_target_bench: throughput of stampede-target's batch endpoints.
//
// Starts the target in-process on 127.0.0.1:0 (or uses --url), then keeps
// --connections keep-alive connections busy with pre-built 1000-record batches
// (~250 bytes of data per record, distinct keys) through curl multi, for
// --seconds or --batches. Prints records/s, requests/s and CPU seconds
// (process total; client = the curl thread; server = the rest).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include "tools/target/lib/server.hpp"

namespace {

double cpu_seconds_process() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double cpu_seconds_thread() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

constexpr int key_digits = 12;

/// One in-flight request: its body and the offsets of every key's digits.
struct slot {
  CURL* easy = nullptr;
  std::string body;
  std::vector<std::size_t> key_pos;
  std::string response;
};

void build_body(slot& s, int records, bool with_idem) {
  s.body = "{\"records\":[";
  for (int i = 0; i < records; ++i) {
    if (i) s.body.push_back(',');
    s.body.append("{\"key\":\"k");
    s.key_pos.push_back(s.body.size());
    s.body.append(key_digits, '0');
    s.body.append("\",\"op\":\"create\",");
    if (with_idem) {
      s.body.append("\"idempotencyKey\":\"i");
      s.key_pos.push_back(s.body.size());
      s.body.append(key_digits, '0');
      s.body.append("\",");
    }
    s.body.append(
        "\"data\":{\"name\":\"Empresa Exemplo de Comercio Ltda\",\"cnpj\":\"12345678000199\","
        "\"address\":{\"street\":\"Avenida Paulista, 1578 - Bela Vista\",\"city\":\"Sao Paulo\","
        "\"state\":\"SP\",\"zip\":\"01310200\"},\"amount\":123456.78,\"active\":true,"
        "\"updated\":\"2024-05-01 12:34:56.789\",\"notes\":\"cliente desde 2019\"}}");
  }
  s.body.append("]}");
}

void stamp_keys(slot& s, std::uint64_t& next_key, bool with_idem) {
  const std::size_t per = with_idem ? 2 : 1;
  for (std::size_t i = 0; i < s.key_pos.size(); i += per) {
    std::uint64_t v = next_key++;
    char digits[key_digits];
    for (int d = key_digits - 1; d >= 0; --d) {
      digits[d] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    for (std::size_t j = 0; j < per; ++j) std::memcpy(&s.body[s.key_pos[i + j]], digits, key_digits);
  }
}

std::size_t on_write(char* p, std::size_t sz, std::size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, sz * n);
  return sz * n;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bench_target_bench: records/s of stampede-target batch endpoints"};
  std::string url, endpoint = "sync";
  int connections = 4, records = 1000;
  unsigned server_threads = 2;
  double seconds = 5;
  long max_batches = 0;
  bool idem = false;
  cli.add_option("--url", url, "target base URL (default: start one in-process)");
  cli.add_option("--endpoint", endpoint, "sync | batches")->check(CLI::IsMember({"sync", "batches"}))->capture_default_str();
  cli.add_option("--connections", connections, "keep-alive connections")->capture_default_str();
  cli.add_option("--records", records, "records per batch")->capture_default_str();
  cli.add_option("--seconds", seconds, "run time")->capture_default_str();
  cli.add_option("--batches", max_batches, "stop after this many batches (0 = use --seconds)");
  cli.add_option("--server-threads", server_threads, "in-process server worker threads")->capture_default_str();
  cli.add_flag("--idempotency", idem, "give every record an idempotencyKey");
  CLI11_PARSE(cli, argc, argv);

  std::unique_ptr<stampede::target::server> srv;
  if (url.empty()) {
    stampede::target::options o;
    o.threads = server_threads;
    srv = std::make_unique<stampede::target::server>(o);
    srv->start();
    url = "http://127.0.0.1:" + std::to_string(srv->port());
  }
  const std::string full = url + "/services/19/" + endpoint;
  const long expect = endpoint == "sync" ? 200 : 202;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_slist* hdrs = curl_slist_append(nullptr, "Content-Type: application/json");
  hdrs = curl_slist_append(hdrs, "Expect:");
  std::vector<slot> slots(static_cast<std::size_t>(connections));
  std::uint64_t next_key = 1;
  for (auto& s : slots) {
    build_body(s, records, idem);
    s.easy = curl_easy_init();
    curl_easy_setopt(s.easy, CURLOPT_URL, full.c_str());
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.body.data());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(s.body.size()));
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(s.easy, CURLOPT_WRITEDATA, &s.response);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    curl_easy_setopt(s.easy, CURLOPT_TCP_NODELAY, 1L);
  }
  std::printf("target %s, %d connections, %d records/batch, %zu bytes/batch\n", full.c_str(),
              connections, records, slots[0].body.size());

  const double cpu0 = cpu_seconds_process(), tcpu0 = cpu_seconds_thread();
  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + std::chrono::duration<double>(seconds);
  long sent = 0, done = 0, failed = 0;
  auto launch = [&](slot& s) {
    stamp_keys(s, next_key, idem);
    s.response.clear();
    curl_multi_add_handle(multi, s.easy);
    ++sent;
  };
  for (auto& s : slots) {
    if (max_batches && sent >= max_batches) break;
    launch(s);
  }
  int running = 1;
  while (done + failed < sent) {
    curl_multi_perform(multi, &running);
    int q = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &q)) {
      if (m->msg != CURLMSG_DONE) continue;
      slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&s));
      long code = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      if (m->data.result == CURLE_OK && code == expect) {
        ++done;
      } else {
        ++failed;
        std::fprintf(stderr, "request failed: curl %d, HTTP %ld: %.200s\n",
                     static_cast<int>(m->data.result), code, s->response.c_str());
      }
      curl_multi_remove_handle(multi, m->easy_handle);
      const bool more = max_batches ? sent < max_batches
                                    : std::chrono::steady_clock::now() < deadline;
      if (more && failed == 0) launch(*s);
    }
    if (done + failed < sent) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds_process() - cpu0, ccpu = cpu_seconds_thread() - tcpu0;
  const double recs = static_cast<double>(done) * records;
  std::printf("batches ok %ld, failed %ld, wall %.2f s\n", done, failed, wall);
  std::printf("records/s %.0f\nrequests/s %.0f\n", recs / wall, static_cast<double>(done) / wall);
  std::printf("cpu seconds: process %.2f (client thread %.2f, server %.2f)\n", cpu, ccpu,
              cpu - ccpu);
  if (srv) std::printf("stats %.300s\n", srv->stats_json().c_str());
  for (auto& s : slots) curl_easy_cleanup(s.easy);
  curl_slist_free_all(hdrs);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return failed == 0 ? 0 : 1;
}
