// stampede-target: command-line front end of the reference HTTP target.
// Parses flags (CLI11), starts stampede::target::server, prints one
// "listening" line, and stops cleanly on SIGTERM/SIGINT (exit 0).
// Exit codes: 0 clean stop, 1 runtime failure (e.g. port in use), 2 bad flags.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "tools/target/lib/server.hpp"

namespace {

constexpr const char* examples = R"(
Examples:
  stampede-target --listen 127.0.0.1:8787
  stampede-target --listen 127.0.0.1:0 --port-file /tmp/target.port --threads 2
  TARGET_KEY=s3cret stampede-target --auth static --static-key-env TARGET_KEY
  CLIENT_SECRET=s3cret stampede-target --auth oauth2 --client-id demo \
      --client-secret-env CLIENT_SECRET --token-ttl 600
  stampede-target --fail-rate 0.05 --rate-limit-rate 0.05 --retry-after 2 \
      --latency-ms 20 --batch-delay-ms 500 --validate cnpj:digits --validate name:nonempty

Runtime control: POST /faults {"fail_rate":0.1}, POST /reset, GET /stats, GET /health.
Always served besides /services/ (faults and auth apply to them too):
  /couchdb/{db}/...  CouchDB-style API: POST _bulk_docs, GET _all_docs, GET {docid}, PUT {db}
  /hooks/{name}      webhook: POST a batch (204 by default), GET what it kept, POST _config
  /link/...          TOTVS Smartlink: POST setup, POST send/{type}/LinkProxy, GET queue, records/{tenant}
  /set/clientes      Senior CRM SET (GravarClientes): POST a batch -> retornosClientes, GET the customers
See docs/target.md for every endpoint.)";

bool split_listen(const std::string& s, std::string& host, std::uint16_t& port) {
  std::string p;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find("]:");
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (host.empty() || p.empty() || p.size() > 5) return false;
  unsigned long v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

int usage_error(const std::string& msg) {
  std::cerr << "stampede-target: " << msg << "\n(run 'stampede-target --help' for usage)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"stampede-target: reference HTTP/1.1 target (plays the remote platform for demos, "
               "tests and benchmarks)"};
  cli.footer(examples);
  stampede::target::options o;
  std::string listen = "127.0.0.1:8787";
  std::string static_key_env, client_secret_env, port_file;
  cli.add_option("--listen", listen, "HOST:PORT to listen on (port 0 = pick one)")
      ->capture_default_str();
  cli.add_option("--threads", o.threads, "worker threads")->capture_default_str()->check(CLI::Range(1u, 256u));
  cli.add_option("--auth", o.auth, "none | static | oauth2")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "static", "oauth2"}));
  cli.add_option("--static-key-env", static_key_env,
                 "auth=static: name of the environment variable holding the bearer key");
  cli.add_option("--client-id", o.client_id, "auth=oauth2: expected client_id");
  cli.add_option("--client-secret-env", client_secret_env,
                 "auth=oauth2: name of the environment variable holding the client secret");
  cli.add_option("--token-ttl", o.token_ttl_s, "auth=oauth2: token lifetime in seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  auto& f = o.f;
  cli.add_option("--fail-rate", f.fail_rate, "share of /services/ requests answered 503")
      ->check(CLI::Range(0.0, 1.0));
  cli.add_option("--rate-limit-rate", f.rate_limit_rate, "share answered 429 with Retry-After")
      ->check(CLI::Range(0.0, 1.0));
  cli.add_option("--retry-after", f.retry_after_s, "Retry-After seconds sent with 429")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--latency-ms", f.latency_ms, "latency added to every /services/ answer")
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--drop-rate", f.drop_rate, "share of requests whose connection is closed unanswered")
      ->check(CLI::Range(0.0, 1.0));
  cli.add_option("--malformed-rate", f.malformed_rate, "share answered 200 with invalid JSON")
      ->check(CLI::Range(0.0, 1.0));
  cli.add_option("--batch-delay-ms", f.batch_delay_ms, "async batches stay 'processing' this long")
      ->check(CLI::NonNegativeNumber);
  cli.add_option("--validate", f.validate,
                 "per-record rule FIELD:RULE, RULE = nonempty | digits | maxlen=N (repeatable)");
  cli.add_option("--seed", f.seed, "fault PRNG seed")->capture_default_str();
  cli.add_option("--state-file", o.state_file, "load state at start, save at stop");
  cli.add_option("--port-file", port_file, "write the bound port to this file");
  cli.add_flag("--echo-credentials", o.echo_credentials,
               "test aid: every error answer echoes the Authorization header and the latest "
               "token request body (to test that clients redact them)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);  // --help
    return usage_error(e.what());
  }
  if (!split_listen(listen, o.host, o.port)) {
    return usage_error("--listen must be HOST:PORT (e.g. 127.0.0.1:8787 or [::1]:0), got '" +
                       listen + "'");
  }
  if (!static_key_env.empty()) {
    const char* v = std::getenv(static_key_env.c_str());
    if (!v || !*v) return usage_error("environment variable " + static_key_env + " (from --static-key-env) is not set or empty");
    o.static_key = v;
  }
  if (!client_secret_env.empty()) {
    const char* v = std::getenv(client_secret_env.c_str());
    if (!v || !*v) return usage_error("environment variable " + client_secret_env + " (from --client-secret-env) is not set or empty");
    o.client_secret = v;
  }
  if (o.auth == "static" && o.static_key.empty()) {
    return usage_error("--auth static needs --static-key-env VAR");
  }
  if (o.auth == "oauth2" && (o.client_id.empty() || o.client_secret.empty())) {
    return usage_error("--auth oauth2 needs --client-id and --client-secret-env VAR");
  }

  // Block the stop signals in every thread; main waits for them with sigwait.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::unique_ptr<stampede::target::server> srv;
  try {
    srv = std::make_unique<stampede::target::server>(o);
  } catch (const std::invalid_argument& e) {
    return usage_error(e.what());
  }
  try {
    srv->start();
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    {
      std::ofstream pf(tmp, std::ios::trunc);
      pf << srv->port() << "\n";
      if (!pf) {
        std::cerr << "stampede-target: cannot write --port-file '" << port_file << "'\n";
        srv->stop();
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), port_file.c_str()) != 0) {
      std::cerr << "stampede-target: cannot write --port-file '" << port_file << "'\n";
      srv->stop();
      return 1;
    }
  }
  const bool v6 = o.host.find(':') != std::string::npos;
  std::printf("stampede-target listening on http://%s%s%s:%u\n", v6 ? "[" : "", o.host.c_str(),
              v6 ? "]" : "", static_cast<unsigned>(srv->port()));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&set, &sig);
  srv->stop();
  return 0;
}
