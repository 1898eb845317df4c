// Demo ERP database generator: a SQLite file modelled on a Brazilian
// municipal tax system (Tributos -> Portal do Gestor), one table per service.
//
// Operation: `services()` describes the 22 services (table, Protheus-style
//   columns, references between services). `generate()` overwrites a SQLite
//   file with deterministic rows for the selected services (one transaction
//   per service, journal off during the load, the (S_T_A_M_P_, R_E_C_N_O_)
//   index built after the inserts). `mutate()` updates, inserts and
//   soft-deletes random rows with fresh stamps (some deliberately "late") and
//   reports exactly what it did. Every table has R_E_C_N_O_ INTEGER PRIMARY
//   KEY, S_T_A_M_P_ TEXT 'YYYY-MM-DD HH:MM:SS.fff' UTC, D_E_L_E_T_ CHAR(1).
//   Amounts are TEXT with exact digits, dates CHAR(8) 'YYYYMMDD' (blank =
//   8 spaces), CHAR codes are padded with trailing spaces, booleans are the
//   Protheus logical 'T'/'F'. See docs/demo-database.md.
// Concurrency: the functions are reentrant; two of them must not work on the
//   same file at once (generate deletes and recreates it). mutate() waits up
//   to 5 s for a lock held by a reader (the file is left in WAL mode, so a
//   running stampede keeps reading while mutate writes).
// Limitations: row content is a function of (seed, service, R_E_C_N_O_,
//   reference sizes, `until`); stamps of generate() end at `until` (default
//   now - 10 min) and mutate() stamps use the wall clock, so stamps differ
//   between runs unless `until` is fixed. Small services hold at most
//   99,999,999 rows, large ones 999,999,999,999 (code widths).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stampede::demogen {

enum class errc {
  bad_options = 1,   // invalid scale/rows/service ids/counts: the caller's input
  missing_database,  // mutate on a file that does not exist
  missing_table,     // mutate on a service whose table is not in the file
  sqlite_failure,    // SQLite refused an operation (disk full, corrupt file...)
  io_failure,        // filesystem operation failed (cannot remove/create)
};
std::string_view to_string(errc e);

/// Every failure of this module; what() says what is wrong and what to do.
struct error : std::runtime_error {
  error(errc c, const std::string& message) : std::runtime_error(message), code(c) {}
  errc code;
};

/// How a column's values are produced (generator detail, exposed for tests
/// and for writing mappings).
enum class column_kind : std::uint8_t {
  code,          // this row's own code: R_E_C_N_O_ zero-padded to 6+ digits, CHAR padded
  ref,           // code of a row of service `ref` (ref == 0: the service chosen by `origin`)
  origin,        // which credit a payment settles: "IPTU"/"ISS"/"ALV", chooses the ref target
  taxpayer_name, // person or company name (per row: 30% companies)
  person_type,   // 'F' (pessoa física) / 'J' (jurídica), consistent with taxpayer_name
  document,      // CPF (11 digits + 3 spaces) or CNPJ (14 digits) in CHAR(14)
  company,       // company name; may contain quotes
  street,        // street name without its type ("São João")
  district,      // district name
  city,          // city name (accents)
  activity,      // economic activity description (CNAE-like)
  revenue,       // tax revenue description
  memo,          // free text with quotes, tabs, newlines; often NULL
  complement,    // address complement; often NULL
  house_number,  // "123" or "S/N"
  email,         // e-mail; sometimes NULL
  postal,        // CEP, 8 digits
  law,           // "Lei nº 1.234/2019"
  service_item,  // LC 116 item "07.02"
  agency,        // bank branch "1234-5"
  month,         // competence month CHAR(6) 'YYYYMM'
  choice,        // one of `choices` (padded to width when width > 0)
  decimal,       // TEXT with exactly `scale` decimals, in [min, max] units of 10^-scale
  integer,       // INTEGER in [min, max]
  date,          // CHAR(8) 'YYYYMMDD', years [min, max]; nullable: 8 spaces sometimes
  datetime,      // 'YYYY-MM-DD HH:MM:SS' within the last two years; nullable: NULL sometimes
  flag,          // CHAR(1) 'T' / 'F'
};

struct column_def {
  std::string name;              // "CT_CODIGO"
  std::string sql_type;          // "CHAR(10)", "VARCHAR(80)", "TEXT", "INTEGER"
  column_kind kind = column_kind::choice;
  std::string field;             // suggested output field (camelCase, dots nest)
  std::uint32_t width = 0;       // CHAR width: values are padded to it; 0 = not padded
  std::uint32_t ref = 0;         // kind::ref: referenced service id
  bool nullable = false;         // may be NULL (dates: may be blank)
  std::uint32_t null_percent = 0;  // nullable: % of NULL/blank values (0 = the kind's default)
  bool mutable_ = false;         // mutate() may change it
  std::int64_t min = 0;          // integer/decimal (units)/date (years) range
  std::int64_t max = 0;
  std::uint32_t precision = 0;   // decimal: DECIMAL(precision, scale) it stands for
  std::uint32_t scale = 0;
  std::vector<std::string> choices;  // kind::choice / origin
};

/// "string" | "integer" | "decimal" | "date" | "datetime" | "boolean": the
/// mapping type that fits the column.
std::string_view field_type_of(const column_def& c);

struct service_def {
  std::uint32_t id = 0;          // 1..22
  std::string name;              // "taxpayers"
  std::string table;             // "CONTRIBUINTES"
  bool large = false;            // services 19..22: ~100x the rows
  std::string title;             // Portuguese name in Tributos: "Contribuintes"
  std::vector<column_def> columns;  // business columns; the first is the code.
                                    // D_E_L_E_T_, R_E_C_N_O_, S_T_A_M_P_ follow.
};

/// The 22 services, ordered by id (services()[i].id == i + 1).
const std::vector<service_def>& services();
/// nullptr when id is not 1..22.
const service_def* find_service(std::uint32_t id);
/// Rows generate() writes for `s` at `scale`: 240 * scale (small) or
/// 24,000 * scale (large), rounded, at least 1.
std::uint64_t planned_rows(const service_def& s, double scale);
/// `CREATE TABLE` statement of a service.
std::string create_table_sql(const service_def& s);
/// Name of the stamp index: "<TABLE>_STAMP".
std::string stamp_index_name(const service_def& s);

struct generate_options {
  std::string path;
  double scale = 1.0;
  std::uint64_t seed = 42;
  std::vector<std::uint32_t> only;          // empty = all 22
  std::optional<std::uint64_t> rows;        // exact row count for each selected service (benchmarks)
  std::function<void(std::uint32_t service, std::uint64_t done, std::uint64_t total)> progress;
  // Newest stamp (ms since the Unix epoch, UTC); default: now - 10 minutes.
  // Stamps spread over the two years before it. Fix it for byte-identical runs.
  std::optional<std::int64_t> until_ms;
};

struct generate_result {
  std::map<std::uint32_t, std::uint64_t> rows;  // service id -> rows written
  double seconds = 0;
};

/// Overwrites `path` (creating its parent directory). Throws demogen::error.
generate_result generate(const generate_options&);

struct mutate_options {
  std::string path;
  std::uint64_t count = 100;                 // operations: updates + inserts + deletes
  double late_share = 0.1;                   // share of operations with the OLDER stamp
  std::chrono::milliseconds late_by{30000};  // late stamp = now - late_by
  std::uint64_t seed = 7;
  std::vector<std::uint32_t> only;           // empty = every service table in the file
  double update_share = 0.7;                 // split of `count`; inserts get the rest
  double delete_share = 0.1;
};

struct mutate_report {
  struct per_service {
    std::vector<std::int64_t> updated, inserted, deleted, late;  // R_E_C_N_O_s; late ⊆ the others
  };
  std::map<std::uint32_t, per_service> services;  // only services that changed
  std::string late_stamp;                         // the stamp of every late row
  std::string to_json() const;
};

/// Changes `count` rows of an existing file in one transaction. Throws
/// demogen::error (missing_database when the file does not exist).
mutate_report mutate(const mutate_options&);

}  // namespace stampede::demogen
