// stampede configuration: the in-memory form of one TOML file.
//
// Operation: `load_config(path)` reads the file, interpolates `${VAR}` and
//   `${VAR:-default}` from the environment in every string value, validates
//   every key (unknown keys are rejected) and returns a fully defaulted
//   `Config`. Every key is documented in docs/configuration.md.
//   Problems are all collected into one config_error, in file order, each
//   with file:line:column and a key path like `services[3].fields[2].type`
//   (array indexes 0-based in file order). Secrets (auth.value,
//   auth.client_secret) never appear in diagnostics.
// Concurrency: a `Config` is immutable after loading; share it by const&.
// Limitations: time zones are fixed UTC offsets ("-03:00", "UTC"); IANA
//   names are not resolved (GCC 12 has no std::chrono tzdb). Brazil has had no
//   DST since 2019, so a fixed offset is exact for the municipal domain.
#pragma once

#include "pipeline/shard.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace stampede {

using duration = std::chrono::milliseconds;

/// One validation problem, pointing into the file.
struct config_diagnostic {
  std::string file;
  int line = 0;          // 1-based; 0 when the problem has no position (missing key)
  int column = 0;        // 1-based; 0 when unknown
  std::string key_path;  // e.g. "targets.portal.auth.client_id"
  std::string message;   // what is wrong / what was expected
  std::string hint;      // what to do about it

  /// "file:line:column: key_path: message (hint)"
  std::string to_string() const;
};

/// Thrown by load_config; carries every problem found, not just the first.
struct config_error : std::runtime_error {
  explicit config_error(std::vector<config_diagnostic> ds);
  std::vector<config_diagnostic> diagnostics;
};

enum class source_kind { sqlite, postgres };

struct source_config {
  source_kind kind = source_kind::sqlite;
  std::string path;                 // sqlite: database file (must exist)
  std::string dsn;                  // postgres: libpq connection string or URI
  std::string stamp_column = "S_T_A_M_P_";
  std::string recno_column = "R_E_C_N_O_";
  std::string deleted_column = "D_E_L_E_T_";  // "" = the tables have no soft deletes
  std::string deleted_value = "*";  // deleted_column equal to this (trailing spaces ignored)
  std::uint32_t page_size = 5000;   // rows per keyset page
  duration safety_delay{2000};      // upper bound = source clock - safety_delay
  duration lookback{600000};        // re-read window behind the checkpoint
  int utc_offset_minutes = 0;       // "timezone": "-03:00" -> -180; "UTC" -> 0
  int line = 0, col = 0;            // where source.path (postgres: .dsn) or [source] is; 0 = none
};

struct state_config {
  std::string dir = "state";        // RocksDB state directory (created if missing)
};

struct engine_config {
  std::uint32_t queue_batches = 4;  // K: max batches waiting on any edge
  std::uint32_t transformers = 2;   // transformer actors per service
  duration drain_timeout{30000};    // SIGTERM: max time to drain in-flight work
  std::string log_level = "info";   // trace|debug|info|warn|error
};

enum class journal_payloads { none, failures, all };

/// The delivery journal behind `stampede log` ([journal]).
struct journal_config {
  journal_payloads payloads = journal_payloads::failures;  // which attempts keep sent/received
  std::uint32_t payload_max_bytes = 4096;  // each of sent / received, per item
  std::uint32_t max_items = 20;            // log items kept per record (older ones dropped)
};

struct metrics_config {
  std::string listen;               // "127.0.0.1:9464"; empty disables the exporter
};

/// `[web]`: the web monitor served on metrics.listen (web/pages.hpp).
struct web_config {
  bool show_payloads = false;       // record pages show the payloads sent and received
  std::string admin_token;          // secret (>= 16 chars); "" = no resend / run-now actions
};

enum class target_protocol { async_batch, sync_batch, rest };
enum class payload_format { records, envelope };
enum class auth_kind { none, static_key, oauth2 };

/// auth.kind = "static": one header on every request.
struct static_key_auth {
  std::string header = "Authorization";
  std::string value;                // secret: never logged; usually "Bearer ${INTEGRACAO_PORTAL}"
};

/// auth.kind = "oauth2": client credentials (RFC 6749 4.4).
struct oauth2_auth {
  std::string token_url;
  std::string client_id;
  std::string client_secret;        // secret: never logged
  std::string scope;
  std::string audience;             // `audience` form field ("" = none)
  std::vector<std::pair<std::string, std::string>> form;  // other form fields
  bool client_secret_basic = false; // credentials in HTTP Basic, not the form
};

/// `[targets.NAME.auth]`: the kind and one config struct per kind; each auth
/// provider (target/auth.hpp) reads only its own.
struct auth_config : static_key_auth, oauth2_auth {
  auth_kind kind = auth_kind::none;
};

/// HTTP Basic credentials of an OAuth2 client (RFC 6749 2.3.1): base64 of
/// form-encoded id ":" form-encoded secret. A secret: the redactor knows it.
std::string basic_credentials(const oauth2_auth& a);

/// Which error field decides that a record failed (response.error_rule).
enum class error_rule {
  first_present,   // the first listed field that is present, non-null and not blank
  first_decides,   // only the first listed field decides; the others add detail to the message
};

/// What a 2xx answer proves (response.acknowledge).
enum class acknowledge_mode {
  records,  // per-record results (batches) / the record's answer (per record): the default
  status,   // any 2xx accepts the whole request: no per-record results, no returned values
};

/// A value the target returns for a record (response.returns): kept in the
/// ledger, shown in the log monitor, usable as {name} in later requests and
/// as :name in write-back. The one named "id" is the remote id.
struct returned_field {
  std::string name;                  // "rev"
  std::string pointer;               // JSON pointer relative to the record's result: "/rev"
};

/// How per-record results are found in a response (sync/async batches).
struct response_mapping {
  std::string results = "/results";  // JSON pointer to the results array ("" = root)
  std::string key_field = "key";     // field echoing the record key; "" = positional
  std::string id_field = "id";       // JSON pointer (relative to a result) of the remote id
                                     // ("" = the target returns none); with `returns`: its "id"
  std::vector<std::string> error_fields{"/error/message", "/error/code", "/error"};
                                     // JSON pointers; error_rule says which one decides
  error_rule rule = error_rule::first_present;
  acknowledge_mode acknowledge = acknowledge_mode::records;
  std::vector<returned_field> returns;  // values kept besides the id (never "id" itself)
  bool keep_success_answers = false;  // not a key: set from [journal] payloads = "all"
};

/// The shape of one record in a batch body (request.record).
enum class record_shape {
  wrapped,  // {"key":..,"op":..,"idempotencyKey":..,"data":{..}}: today's default
  flat,     // the mapped fields themselves, the key in request.key_field
};

/// What a delete does (request.delete).
enum class delete_mode {
  send,   // as the protocol says: op "delete", DELETE paths.record_id, a flat record with the marker
  skip,   // nothing is sent; the delete is recorded as done ("not sent: request.delete = skip")
  mark,   // sent as an update whose data carries delete_field = delete_value
};

/// `[targets.NAME.request]`: the body of batch requests, per-record methods,
/// deletes and the batch-level idempotency header (docs/targets.md).
struct request_template {
  std::string wrap = "records";      // member holding the records array; "" = the body is the array
  std::vector<std::pair<std::string, std::string>> body_fields;  // constant members beside it:
                                     // name -> JSON text (wrap != "" only)
  record_shape shape = record_shape::wrapped;
  std::string key_field = "_id";     // flat: the member carrying the record key ("" = none)
  std::vector<std::pair<std::string, std::string>> fields;  // members added to every record:
                                     // name -> template ("{rev}"); a record for which a
                                     // placeholder has no value yet goes without that member
  delete_mode on_delete = delete_mode::send;
  std::string delete_field = "_deleted";  // flat deletes and `mark`: this member...
  std::string delete_value = "true";      // ...set to this JSON value
  std::string method_create = "POST";     // per-record requests (rest, envelope)
  std::string method_update = "PUT";
  std::string method_delete = "DELETE";
  std::string batch_idempotency_header;   // one key for the whole batch request ("" = none)
};

struct envelope_config {
  std::string tenant_id;             // header.tenantId
  std::string type_create = "{service}.IncDataCommand";  // templates: {service} {key} {op}
  std::string type_update = "{service}.AltDataCommand";
  std::string type_delete = "{service}.ExcDataCommand";
  /// The members of `header`, exactly (name -> template; {type} is the
  /// message type); empty = type, tenantId and key.
  std::vector<std::pair<std::string, std::string>> header;
};

/// `[services.envelope]`: a service's own message types (Smartlink's
/// FinLanIncDataCommand); unset ones are the target's.
struct service_envelope {
  std::optional<std::string> type_create, type_update, type_delete;
};

/// `[[targets.NAME.setup]]`: a request sent before the target's first batch
/// of a worker's life, and again only when it changed since the last one that
/// succeeded (its hash is kept in the state store): Smartlink's POST
/// /link/setup with the subscriptions. A failure is target-level.
struct setup_request {
  std::string method = "POST";
  std::string path;                  // relative to base_url; no placeholders
  std::string body;                  // JSON text (validated at load); "" = no body
  int line = 0, col = 0;             // position of this table in the file
};

/// `[targets.NAME.async]`: where an async API puts the batch id and status.
struct async_config {
  std::string batch_id;              // pointer in the submit answer; "" = /batchId, else /id
  std::string status = "/status";    // pointer in the poll answer
  std::vector<std::string> done{"done"};  // status values meaning "results are in"
  std::vector<std::string> failed;   // values meaning the batch failed: a retryable error per record
};

struct target_paths {
  std::string batch = "/services/{service}/batches";              // async submit
  std::string batch_status = "/services/{service}/batches/{batch}";  // async poll
  std::string sync = "/services/{service}/sync";                  // sync batch
  std::string record = "/services/{service}/records";             // REST create (POST)
  std::string record_id = "/services/{service}/records/{id}";     // REST update/delete
  std::string message = "/services/{service}/messages";           // envelope messages
};

/// [targets.NAME.tls]: which CAs an https:// target (and its token URL) is
/// verified against. Verification is always on; empty = the system's CAs.
struct tls_config {
  std::string ca_file;               // PEM bundle of the CA(s) to trust
  std::string ca_dir;                // directory of CA certificates, hashed (openssl rehash)
};

struct target_config {
  std::string name;                  // the table key under [targets.NAME]
  std::string base_url;              // "http://127.0.0.1:8787"
  target_protocol protocol = target_protocol::async_batch;
  payload_format format = payload_format::records;
  target_paths paths;
  std::uint32_t batch_records = 1000;   // a batch closes at this many records...
  std::uint64_t batch_bytes = 4u << 20; // ...or at this many body bytes
  std::uint64_t max_record_bytes = 4u << 20;   // a record's JSON data beyond this is a record error
  std::uint64_t max_response_bytes = 16u << 20; // an answer beyond this is not read (target-level)
  std::uint32_t in_flight = 4;          // concurrent requests/batches
  duration connect_timeout{5000};
  duration request_timeout{30000};
  duration poll_interval{200};          // async: longest wait between polls (starts at 5ms, doubles)
  duration poll_timeout{600000};        // async: stop polling a still-processing batch after this
  std::uint32_t breaker_failures = 3;   // consecutive target-level failures that open the breaker
  duration breaker_cooldown{30000};     // open breaker: wait before one batch probes the target
  std::uint32_t max_attempts = 5;       // deliveries of a record, then Cancelled;
                                        // 0 = no automatic resend (manual only)
  std::uint32_t request_attempts = 5;   // tries of one HTTP request (retries included)
  duration resend_backoff{60000};       // resend queue: first resend after this, doubling...
  duration resend_backoff_max{3600000}; // ...up to this
  duration retry_backoff_base{200};
  duration retry_backoff_max{10000};
  std::string idempotency_header = "Idempotency-Key"; // per-record REST; "" = off
  std::string idempotency_field = "idempotencyKey";   // in batch records; "" = off
  auth_config auth;
  tls_config tls;
  response_mapping response;
  request_template request;
  async_config async;
  envelope_config envelope;
  std::vector<setup_request> setup;
};

enum class field_type { string, integer, decimal, date, datetime, boolean };

struct field_mapping {
  std::string name;                  // output field; dots nest: "address.city"
  std::string column;                // source column (empty when `value` is set)
  std::optional<std::string> value;  // constant (string) instead of a column
  field_type type = field_type::string;
  bool trim = true;                  // trim CHAR padding (trailing spaces) on strings
  bool nullable = true;              // false: NULL becomes a record error
  int line = 0, col = 0;             // position of this field's table in the file; 0 = none
};

struct schedule {
  enum class kind { always, interval, daily } k = kind::interval;
  duration every{900000};            // interval: "every 15m"
  duration offset{0};                // interval: "every 15m offset 5m"
  int daily_minutes = 0;             // daily: "daily 08:00" -> 480 (source time zone)
};

enum class writeback_on { create, always };

/// `[services.writeback]`: the SQL_UPDATE run after a delivery (pipeline/writeback.hpp).
struct writeback_config {
  std::string sql;                   // "UPDATE SA1010 SET A1_IDERP = :id WHERE R_E_C_N_O_ = :key"
  writeback_on on = writeback_on::create;  // create: after creates; always: creates and updates
  int line = 0, col = 0;             // position of the `sql` key in the file; 0 = none
};

struct service_config {
  std::uint32_t id = 0;              // 1..65535, unique; initial loads run in id order
  std::string name;                  // "taxpayers"
  std::string table;                 // source table ("" when `query` is set)
  std::string target;                // a key of [targets]
  std::string key_column;            // record key; default source.recno_column (with
                                     // key_columns: their names joined by "|", for display)
  // Per-service source options (docs/configuration.md); nullopt = [source]'s.
  std::optional<std::string> stamp_column, recno_column;
  std::optional<std::string> deleted_column;  // "" = this table has no soft deletes
  std::optional<std::string> deleted_value;
  std::vector<std::string> key_columns;  // composite key (2+ columns), instead of key_column
  bool trim_key = true;              // trailing spaces (CHAR padding) dropped from key values
  std::string where;                 // extra condition with :name parameters
  std::vector<std::pair<std::string, std::string>> params;  // name -> value for `where`
  std::string query;                 // a SELECT paged as a subquery, instead of `table`
  int where_line = 0, where_col = 0; // position of `where` (`query`: query_line/col); 0 = none
  int query_line = 0, query_col = 0;
  schedule when;                     // "schedule" key
  std::optional<schedule> resend_when; // "resend_schedule": resend every Error record (continuous)
  std::vector<field_mapping> fields;
  std::vector<std::uint32_t> after;  // "after": ids of services whose cycle runs first
                                     // (DEPENDE_DE); see pipeline/service_graph.hpp
  std::vector<std::pair<int, int>> after_at;  // (line, column) of each `after` element
  std::optional<writeback_config> writeback;  // [services.writeback]; source opened read-write
  service_envelope envelope;         // [services.envelope]: message types of this service
  int line = 0, col = 0;             // position of this [[services]] table in the file; 0 = none
  std::uint32_t file_index = 0;      // 0-based order among [[services]] in the file (key paths)
};

struct config {
  std::string file;                  // path it was loaded from
  source_config source;
  state_config state;
  engine_config engine;
  journal_config journal;
  metrics_config metrics;
  web_config web;
  std::map<std::string, target_config> targets;
  std::vector<service_config> services;  // sorted by id
  /// Not a TOML key: `--shard k/N` of the command line (pipeline/shard.hpp);
  /// the extractor and the audit keep only this shard's rows.
  shard_spec shard;

  const service_config* find_service(std::uint32_t id) const;
  const target_config& target_of(const service_config& s) const;
};

/// The shortest `[web] admin_token` accepted (it guards resends and runs).
inline constexpr std::size_t web_admin_token_min_length = 16;

/// The largest config file load_config reads.
inline constexpr std::uint64_t max_config_bytes = 4u << 20;

/// Warnings about a valid config: credentials sent over plain http:// to a
/// host that is not the loopback (auth.value / a token / the client secret
/// readable on the network), user:password in a URL.
std::vector<config_diagnostic> config_warnings(const config& c);

/// Reads, interpolates and validates a config file: a regular file (not a
/// FIFO or device) of at most max_config_bytes. Throws config_error.
config load_config(const std::string& path);

/// Same, from text (tests); `file` names it in diagnostics.
config parse_config(std::string_view text, const std::string& file);

/// The longest duration any parser accepts (36500d, about 100 years): time
/// arithmetic on it (stamps, now - d in nanoseconds) cannot overflow. Config
/// keys have tighter ranges of their own (docs/configuration.md).
inline constexpr duration max_duration{36500LL * 86'400'000};

enum class duration_syntax { ok, malformed, too_long };

/// "500ms", "2s", "15m", "1h", "1d", "1h30m" -> `out`; too_long beyond max_duration.
duration_syntax parse_duration(std::string_view s, duration& out);

/// The same; nullopt on bad input or beyond max_duration.
std::optional<duration> parse_duration(std::string_view s);

/// The shortest exact spelling: 86400000ms -> "1d", 90000ms -> "90s", 0 -> "0ms".
std::string format_duration(duration d);

/// "always" | "every 15m" | "every 15m offset 5m" | "daily 08:00"
std::optional<schedule> parse_schedule(std::string_view s);

/// Bounds of ${...} interpolation: hostile nesting cannot exhaust the stack,
/// repeated references cannot exhaust memory.
inline constexpr int max_interpolation_depth = 16;
inline constexpr std::size_t max_interpolated_bytes = 1u << 20;

/// The outcome of interpolating one string.
struct interpolation {
  std::optional<std::string> value;  // set on success
  std::string missing;               // failure: the unset variable without a default
  std::string problem;               // failure: malformed, nested too deep or too long
  std::vector<std::string> empty;    // variables (or their defaults) that gave ""
};

/// Replaces ${VAR} and ${VAR:-default}; "$$" is a literal "$". As in the
/// shell, `:-` also applies when VAR is set but empty; the default may itself
/// contain ${...} (at most max_interpolation_depth levels in all).
interpolation interpolate(std::string_view in);

/// Replaces ${VAR} and ${VAR:-default}. Missing VAR without default: returns
/// nullopt and sets `missing` to its name. "$$" is a literal "$".
/// As in the shell, `:-` also applies when VAR is set but empty; the default
/// may itself contain ${...}. A malformed reference (unterminated "${", bad
/// variable name) returns nullopt with `missing` left empty.
std::optional<std::string> interpolate_env(std::string_view in, std::string& missing);

/// "UTC" | "Z" | "+HH:MM" | "-HH:MM" -> minutes east of UTC; nullopt on bad input.
std::optional<int> parse_utc_offset(std::string_view s);

/// The candidate closest to `word` by edit distance, or "" when none is close
/// enough to be a plausible typo (used for "did you mean ...?" hints).
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);

} // namespace stampede
