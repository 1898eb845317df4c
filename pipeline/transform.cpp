#include "pipeline/transform.hpp"

#include "pipeline/hash.hpp"
#include "pipeline/json_writer.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

namespace stampede {

namespace {

enum class conv { value, null, bad };

constexpr std::size_t kCellSlack = 48;  // per-cell bound beyond 6 * input bytes

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

inline std::string_view rtrim(std::string_view s) {
  // CHAR columns are often mostly padding: drop 8 spaces at a time first.
  constexpr std::uint64_t spaces = 0x2020202020202020ULL;
  while (s.size() >= 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + s.size() - 8, 8);
    if (x != spaces) break;
    s.remove_suffix(8);
  }
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}
inline std::string_view trim(std::string_view s) {
  s = rtrim(s);
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  return s;
}

inline char* put(char* d, std::string_view s) {
  std::memcpy(d, s.data(), s.size());
  return d + s.size();
}

inline bool all_digits(std::string_view s) {
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

inline int num2(const char* p) { return (p[0] - '0') * 10 + (p[1] - '0'); }
inline int num4(const char* p) { return num2(p) * 100 + num2(p + 2); }

inline int days_in_month(int y, int m) {
  static constexpr int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return dim[m - 1];
}

// Validates "YYYYMMDD" (compact) or "YYYY-MM-DD" (dashed) at p; writes YYYY-MM-DD.
inline const char* check_date(const char* y, const char* m, const char* d) {
  const int yy = num4(y), mm = num2(m), dd = num2(d);
  if (yy < 1) return "year must be 0001..9999";
  if (mm < 1 || mm > 12) return "month must be 01..12";
  if (dd < 1 || dd > days_in_month(yy, mm)) return "day out of range for the month";
  return nullptr;
}

inline char* write_date(char* d, const char* y, const char* m, const char* dd) {
  std::memcpy(d, y, 4);
  d[4] = '-';
  std::memcpy(d + 5, m, 2);
  d[7] = '-';
  std::memcpy(d + 8, dd, 2);
  return d + 10;
}

conv conv_string(std::string_view s, bool trim_it, char*& d) {
  if (trim_it) s = rtrim(s);
  *d++ = '"';
  d = json_escape_to(d, s);
  *d++ = '"';
  return conv::value;
}

conv conv_integer(std::string_view s, char*& d, const char*& why) {
  s = trim(s);
  if (s.empty()) return conv::null;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !all_digits(s)) {
    why = "not an integer (expected optional sign and digits)";
    return conv::bad;
  }
  while (s.size() > 1 && s[0] == '0') s.remove_prefix(1);
  if (s == "0") neg = false;
  if (s.size() > 19 || (s.size() == 19 && s > (neg ? "9223372036854775808" : "9223372036854775807"))) {
    why = "integer outside the 64-bit range";
    return conv::bad;
  }
  if (neg) *d++ = '-';
  d = put(d, s);
  return conv::value;
}

conv conv_decimal(std::string_view s, char*& d, const char*& why) {
  s = trim(s);
  if (s.empty()) return conv::null;
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  const std::size_t dot = s.find('.');
  std::string_view ip = s.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (ip.empty() || !all_digits(ip) || (dot != std::string_view::npos && (fp.empty() || !all_digits(fp)))) {
    why = "not a decimal (expected -?digits(.digits)?)";
    return conv::bad;
  }
  while (ip.size() > 1 && ip[0] == '0') ip.remove_prefix(1);
  if (neg) *d++ = '-';
  d = put(d, ip);
  if (dot != std::string_view::npos) {
    *d++ = '.';
    d = put(d, fp);
  }
  return conv::value;
}

conv conv_date(std::string_view s, char*& d, const char*& why) {
  s = trim(s);
  if (s.empty()) return conv::null;
  const char *y, *m, *dd;
  if (s.size() == 8 && all_digits(s)) {
    y = s.data(); m = y + 4; dd = y + 6;
  } else if (s.size() == 10 && s[4] == '-' && s[7] == '-' && all_digits(s.substr(0, 4)) &&
             all_digits(s.substr(5, 2)) && all_digits(s.substr(8, 2))) {
    y = s.data(); m = y + 5; dd = y + 8;
  } else {
    why = "not a date (expected YYYYMMDD or YYYY-MM-DD)";
    return conv::bad;
  }
  if ((why = check_date(y, m, dd))) return conv::bad;
  *d++ = '"';
  d = write_date(d, y, m, dd);
  *d++ = '"';
  return conv::value;
}

conv conv_datetime(std::string_view s, std::string_view tz, char*& d, const char*& why) {
  s = trim(s);
  if (s.empty()) return conv::null;
  // YYYY-MM-DD?HH:MM:SS[.f{1,9}]
  //  0123456789012345678
  const bool shape = s.size() >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == ' ' || s[10] == 'T') &&
                     s[13] == ':' && s[16] == ':' && all_digits(s.substr(0, 4)) &&
                     all_digits(s.substr(5, 2)) && all_digits(s.substr(8, 2)) &&
                     all_digits(s.substr(11, 2)) && all_digits(s.substr(14, 2)) &&
                     all_digits(s.substr(17, 2)) &&
                     (s.size() == 19 || (s[19] == '.' && s.size() >= 21 && s.size() <= 29 &&
                                         all_digits(s.substr(20))));
  if (!shape) {
    why = "not a datetime (expected YYYY-MM-DD HH:MM:SS[.fff] or YYYY-MM-DDTHH:MM:SS)";
    return conv::bad;
  }
  const char* p = s.data();
  if ((why = check_date(p, p + 5, p + 8))) return conv::bad;
  if (num2(p + 11) > 23 || num2(p + 14) > 59 || num2(p + 17) > 59) {
    why = "time out of range (HH 00..23, MM 00..59, SS 00..59)";
    return conv::bad;
  }
  *d++ = '"';
  std::memcpy(d, p, s.size());
  d[10] = 'T';
  d += s.size();
  d = put(d, tz);
  *d++ = '"';
  return conv::value;
}

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

inline bool ieq(std::string_view a, std::string_view lower_b) {
  if (a.size() != lower_b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower_b[i]) return false;
  return true;
}

conv conv_boolean(std::string_view s, char*& d, const char*& why) {
  s = trim(s);
  if (s.empty()) return conv::null;
  bool v;
  if (s.size() == 1) {
    switch (lower(s[0])) {
      case '1': case 't': case 's': case 'y': v = true; break;
      case '0': case 'f': case 'n': v = false; break;
      default: why = "not a boolean (expected 1/T/S/Y/true or 0/F/N/false)"; return conv::bad;
    }
  } else if (ieq(s, "true")) {
    v = true;
  } else if (ieq(s, "false")) {
    v = false;
  } else {
    why = "not a boolean (expected 1/T/S/Y/true or 0/F/N/false)";
    return conv::bad;
  }
  d = put(d, v ? std::string_view("true") : std::string_view("false"));
  return conv::value;
}

// Writes the JSON of a non-NULL cell at d (room: 6 * in.size() + kCellSlack).
inline conv convert_cell(field_type t, bool trim_it, std::string_view tz, std::string_view in,
                         char*& d, const char*& why) {
  switch (t) {
    case field_type::string: return conv_string(in, trim_it, d);
    case field_type::integer: return conv_integer(in, d, why);
    case field_type::decimal: return conv_decimal(in, d, why);
    case field_type::date: return conv_date(in, d, why);
    case field_type::datetime: return conv_datetime(in, tz, d, why);
    case field_type::boolean: return conv_boolean(in, d, why);
  }
  why = "unknown field type";
  return conv::bad;
}

std::string_view type_name(field_type t) {
  switch (t) {
    case field_type::string: return "string";
    case field_type::integer: return "integer";
    case field_type::decimal: return "decimal";
    case field_type::date: return "date";
    case field_type::datetime: return "datetime";
    case field_type::boolean: return "boolean";
  }
  return "?";
}

// A value quoted for an error message: escaped, at most ~64 bytes.
std::string shown(std::string_view v) {
  std::string out = "'";
  const bool cut = v.size() > 64;
  json_escape_append(out, v.substr(0, 64));
  out += cut ? "...'" : "'";
  return out;
}

inline void put_le(std::string& b, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void idempotency_bytes(std::string& b, std::uint32_t service, std::string_view key,
                       std::uint64_t hash, record_op op, std::uint32_t generation) {
  b.clear();
  put_le(b, service, 4);
  put_le(b, key.size(), 4);
  b.append(key);
  put_le(b, hash, 8);
  b.push_back(static_cast<char>(op));
  if (generation != 0) put_le(b, generation, 4);  // generation 0 keeps the 0.1 keys
}

} // namespace

transform_errc convert_value(field_type type, bool trim_it, int utc_offset_minutes,
                             std::string_view in, std::string& out, std::string& why) {
  const std::string tz = utc_offset_suffix(utc_offset_minutes);
  std::string buf(json_escape_bound(in.size()) + kCellSlack, '\0');
  char* d = buf.data();
  const char* w = nullptr;
  switch (convert_cell(type, trim_it, tz, in, d, w)) {
    case conv::value: out.append(buf.data(), static_cast<std::size_t>(d - buf.data())); return transform_errc::ok;
    case conv::null: out.append("null"); return transform_errc::ok;
    case conv::bad: break;
  }
  why = w ? w : "bad value";
  return transform_errc::bad_value;
}

std::uint64_t content_hash(std::string_view data_json, bool deleted) {
  std::string b;
  b.reserve(data_json.size() + 1);
  b.append(data_json);
  b.push_back(deleted ? '\x01' : '\x00');
  return xxh64(b);
}

std::string idempotency_key(std::uint32_t service, std::string_view key, std::uint64_t hash,
                            record_op op, std::uint32_t generation) {
  std::string b;
  idempotency_bytes(b, service, key, hash, op, generation);
  return hex64(xxh64(b));
}

std::string utc_offset_suffix(int m) {
  if (m == 0) return "Z";
  const char sign = m < 0 ? '-' : '+';
  const int a = m < 0 ? -m : m;
  std::string s(6, '0');
  s[0] = sign;
  s[1] = char('0' + a / 600);
  s[2] = char('0' + (a / 60) % 10);
  s[3] = ':';
  s[4] = char('0' + (a % 60) / 10);
  s[5] = char('0' + a % 10);
  return s;
}

// ---------------------------------------------------------------------------

struct transformer::step {
  std::string literal;   // fragment written before the value (commas, keys, braces)
  std::uint32_t lit_off = 0, lit_len = 0;  // the same fragment inside literal_pool_
  std::uint32_t col = 0; // index into columns_
  field_type type = field_type::string;
  bool trim = true;
  bool nullable = true;
  std::string name;      // output field name (for errors)
  std::string column;    // source column (for errors)
};

transformer::~transformer() = default;
transformer::transformer(transformer&&) noexcept = default;
transformer& transformer::operator=(transformer&&) noexcept = default;

namespace {

struct node {
  std::string seg;
  int field = -1;             // leaf: index into fields
  std::vector<node> children; // object
};

std::vector<std::string_view> split_name(std::string_view name) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string quoted_key(std::string_view seg) {
  std::string k;
  json_quote_append(k, seg);
  k.push_back(':');
  return k;
}

} // namespace

transformer::transformer(const service_config& svc, const target_config& tgt,
                         const source_config& src)
    : service_(svc.id) {
  service_label_ = "service " + std::to_string(svc.id) + " '" + svc.name + "'";
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(service_label_ + ": " + what);
  };
  const auto fail_field = [&](const field_mapping& f, const std::string& what) {
    fail("field '" + f.name + "': " + what);
  };
  if (svc.fields.empty()) fail("no fields mapped (add at least one [[services.fields]] entry)");
  if (tgt.batch_records == 0) fail("target '" + tgt.name + "': batch_records must be at least 1");
  if (tgt.batch_bytes == 0) fail("target '" + tgt.name + "': batch_bytes must be at least 1");
  if (src.utc_offset_minutes <= -24 * 60 || src.utc_offset_minutes >= 24 * 60)
    fail("source time zone offset " + std::to_string(src.utc_offset_minutes) +
         " minutes is out of range (-23:59..+23:59)");
  batch_records_ = tgt.batch_records;
  batch_bytes_ = tgt.batch_bytes;
  max_record_bytes_ = tgt.max_record_bytes;
  target_name_ = tgt.name;
  tz_suffix_ = utc_offset_suffix(src.utc_offset_minutes);

  // Build the object tree, validating names.
  node root;
  for (std::size_t i = 0; i < svc.fields.size(); ++i) {
    const field_mapping& f = svc.fields[i];
    if (f.name.empty()) fail("field #" + std::to_string(i + 1) + " has an empty name");
    const auto parts = split_name(f.name);
    for (auto p : parts)
      if (p.empty()) fail_field(f, "empty path segment in dotted name (use 'a.b', not 'a..b', '.a' or 'a.')");
    if (f.value && !f.column.empty())
      fail_field(f, "sets both `column` ('" + f.column + "') and `value`; keep only one");
    if (!f.value && f.column.empty()) fail_field(f, "needs a `column` or a constant `value`");
    node* cur = &root;
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const bool leaf = k + 1 == parts.size();
      auto it = std::find_if(cur->children.begin(), cur->children.end(),
                             [&](const node& n) { return n.seg == parts[k]; });
      if (it == cur->children.end()) {
        cur->children.push_back(node{std::string(parts[k]), leaf ? int(i) : -1, {}});
        cur = &cur->children.back();
        continue;
      }
      if (leaf) {
        if (it->field >= 0) fail_field(f, "duplicate output field name");
        fail_field(f, "'" + f.name + "' is already an object (fields nested under it exist)");
      }
      if (it->field >= 0)
        fail_field(f, "'" + std::string(parts[k]) + "' is already mapped as a plain field ('" +
                          svc.fields[std::size_t(it->field)].name + "'), it cannot also be an object");
      cur = &*it;
    }
  }

  // Columns in first-use order of the configured fields (not of the tree).
  for (const field_mapping& f : svc.fields)
    if (!f.value && std::find(columns_.begin(), columns_.end(), f.column) == columns_.end())
      columns_.push_back(f.column);

  // Flatten the tree into literal fragments + cell steps; constants are inlined.
  std::string lit = "{";
  const auto emit = [&](auto&& self, const node& obj) -> void {
    bool first = true;
    for (const node& n : obj.children) {
      if (!first) lit.push_back(',');
      first = false;
      lit += quoted_key(n.seg);
      if (n.field < 0) {
        lit.push_back('{');
        self(self, n);
        lit.push_back('}');
        continue;
      }
      const field_mapping& f = svc.fields[std::size_t(n.field)];
      if (f.value) {
        std::string json, why;
        if (convert_value(f.type, f.trim, src.utc_offset_minutes, *f.value, json, why) !=
            transform_errc::ok)
          fail_field(f, "constant value " + shown(*f.value) + " is not a valid " +
                            std::string(type_name(f.type)) + ": " + why);
        if (json == "null" && !f.nullable)
          fail_field(f, "constant value is blank (null) but nullable = false");
        lit += json;
        continue;
      }
      const auto c = std::find(columns_.begin(), columns_.end(), f.column);
      step s;
      s.literal = std::move(lit);
      lit.clear();
      s.col = static_cast<std::uint32_t>(c - columns_.begin());
      s.type = f.type;
      s.trim = f.trim;
      s.nullable = f.nullable;
      s.name = f.name;
      s.column = f.column;
      steps_.push_back(std::move(s));
    }
  };
  emit(emit, root);
  lit.push_back('}');
  tail_ = std::move(lit);

  fixed_bound_ = tail_.size() + 1;  // + the deleted-flag byte hashed after the data
  col_uses_.assign(columns_.size(), 0);
  for (step& s : steps_) {
    ++col_uses_[s.col];
    fixed_bound_ += s.literal.size() + kCellSlack;
    s.lit_off = static_cast<std::uint32_t>(literal_pool_.size());
    s.lit_len = static_cast<std::uint32_t>(s.literal.size());
    literal_pool_ += s.literal;
  }
  literal_pool_.append(16, '\0');  // short fragments are copied 16 bytes at a time
}

std::vector<std::shared_ptr<send_batch>> transformer::run(const row_page& page) const {
  if (page.service != service_)
    throw std::invalid_argument(service_label_ + ": got a page of service " +
                                std::to_string(page.service));
  if (page.resume) {
    // An async batch of an earlier cycle: polled as it is, a page of its own.
    auto b = page.resume;
    b->service = service_;
    b->page_seq = page.seq;
    b->part = 0;
    b->parts = 1;
    b->page_end = keyset_pos{};
    b->detached = true;
    return {b};
  }
  const std::size_t ncol = columns_.size();
  if (!page.columns || *page.columns != columns_)
    throw std::invalid_argument(service_label_ +
                                ": page columns differ from transformer::columns() (the source must "
                                "select exactly those columns in that order)");
  const std::size_t nrows = page.rows.size();
  if (page.cells.size() != nrows * ncol)
    throw std::invalid_argument(service_label_ + ": page has " + std::to_string(page.cells.size()) +
                                " cells for " + std::to_string(nrows) + " rows of " +
                                std::to_string(ncol) + " columns");

  std::vector<std::shared_ptr<send_batch>> batches;
  std::size_t rendered_bytes = 0, rendered_rows = 0;  // for arena reserve estimates
  const auto open_batch = [&](std::size_t remaining) {
    auto b = std::make_shared<send_batch>();
    const std::size_t n = std::min<std::size_t>(batch_records_, remaining);
    b->records.reserve(n);
    const std::size_t per = rendered_rows ? rendered_bytes / rendered_rows + 8 : 256;
    b->arena.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(batch_bytes_, per * n)));
    batches.push_back(std::move(b));
    return batches.back().get();
  };
  send_batch* cur = open_batch(nrows);
  for (const auto& [key, prior] : page.gone)
    cur->record_errors.push_back(record_error{
        key,
        service_label_ + (is_label_key(key)
                              ? ": the row had no key and cannot be read again by it; once its "
                                "key column is filled it goes out under its key"
                              : ": the row is no longer in the source (a resend by key found none)"),
        prior});

  // The render buffer is sized for the worst case (every byte escaped as
  // \u00XX) but never initialised: only the bytes really written are backed
  // by memory, so a 20 MB cell costs about 20 MB here, not 6 x 2 x 20 MB.
  std::size_t scratch_size = fixed_bound_ + 1024;
  std::unique_ptr<char[]> scratch(new char[scratch_size]);
  std::string id_bytes;
  const char* const arena = page.arena.data();

  for (std::size_t r = 0; r < nrows; ++r) {
    const row_page::row_meta& m = page.rows[r];
    const ledger_entry* prior = m.prior ? &*m.prior : nullptr;
    constexpr std::uint8_t op_delete = static_cast<std::uint8_t>(record_op::del);
    if (!m.problem.empty()) {  // a stamp that is not a date-time, a NULL or empty key
      cur->record_errors.push_back(record_error{m.key, service_label_ + ": " + m.problem, m.prior});
      continue;
    }

    if (m.deleted && !(prior && prior->last_op != op_delete &&
                       (prior->status == record_status::success || !prior->remote_id.empty()))) {
      ++cur->skipped_deleted;  // never delivered, or already deleted
      continue;
    }

    const row_page::cell* cells = page.cells.data() + r * ncol;
    std::size_t bound = fixed_bound_;
    for (std::size_t c = 0; c < ncol; ++c) bound += col_uses_[c] * json_escape_bound(cells[c].len);
    if (scratch_size < bound) {
      scratch_size = std::max(bound, scratch_size * 2);
      scratch.reset(new char[scratch_size]);
    }

    char* const b0 = scratch.get();
    char* d = b0;
    const step* bad = nullptr;
    const char* why = nullptr;
    const char* const pool = literal_pool_.data();
    for (const step& s : steps_) {
      // Fragments <= 16 bytes: one fixed-size copy (the pool is padded and the
      // scratch bound has kCellSlack >= 16 per step).
      if (s.lit_len <= 16) std::memcpy(d, pool + s.lit_off, 16);
      else std::memcpy(d, pool + s.lit_off, s.lit_len);
      d += s.lit_len;
      const row_page::cell& cell = cells[s.col];
      if (cell.null) {
        if (!s.nullable) {
          bad = &s;
          why = "NULL but the field is not nullable";
          break;
        }
        d = put(d, "null");
        continue;
      }
      char* const before = d;
      const conv res = convert_cell(s.type, s.trim, tz_suffix_,
                                    std::string_view(arena + cell.off, cell.len), d, why);
      if (res == conv::value) continue;
      if (res == conv::null && s.nullable) {
        d = put(before, "null");
        continue;
      }
      if (res == conv::null) why = "blank (null) but the field is not nullable";
      bad = &s;
      break;
    }
    if (bad) {
      const row_page::cell& cell = cells[bad->col];
      cur->record_errors.emplace_back(
          m.key, "field '" + bad->name + "' (column " + bad->column + ", " +
                     std::string(type_name(bad->type)) + "): " + why + "; value " +
                     (cell.null ? std::string("NULL")
                                : shown(std::string_view(arena + cell.off, cell.len))),
          m.prior);
      continue;
    }
    d = put(d, tail_);
    const std::size_t len = static_cast<std::size_t>(d - b0);
    if (len > max_record_bytes_) {
      cur->record_errors.emplace_back(
          m.key, service_label_ + ": the record's data is " + std::to_string(len) +
                     " bytes, more than targets." + target_name_ + ".max_record_bytes (" +
                     std::to_string(max_record_bytes_) + "); it was not sent",
          m.prior);
      continue;
    }
    *d = m.deleted ? '\x01' : '\x00';
    const std::uint64_t hash = xxh64(b0, len + 1);
    rendered_bytes += len;
    ++rendered_rows;

    record_op op;
    if (m.deleted) {
      op = record_op::del;
    } else {
      // Unchanged and settled, its result awaited from an async batch (a
      // later cycle polls it), or in Error: the resend queue owns it (with
      // its backoff and max_attempts), not the lookback. A resend or replay
      // page (detached) sends it; a replay (force) even when settled.
      if (!page.force && prior && prior->content_hash == hash &&
          (prior->status == record_status::success || prior->status == record_status::cancelled ||
           (prior->status == record_status::error && !page.detached) ||
           (prior->status == record_status::pending && !prior->batch_id.empty()))) {
        ++cur->skipped_unchanged;
        continue;
      }
      op = (prior && prior->last_op != op_delete &&
            (!prior->remote_id.empty() || prior->status == record_status::success))
               ? record_op::update
               : record_op::create;
    }

    if (!cur->records.empty() &&
        (cur->records.size() >= batch_records_ || cur->arena.size() + len > batch_bytes_))
      cur = open_batch(nrows - r);

    out_record& o = cur->records.emplace_back();
    o.key = m.key;
    o.op = op;
    o.content_hash = hash;
    if (op != record_op::create && prior) {
      o.remote_id = prior->remote_id;
      o.returned = prior->returned;
    }
    o.stamp = m.stamp;
    o.recno = m.recno;
    o.attempts = (prior && prior->content_hash == hash) ? prior->attempts : 0;
    o.prior_status = prior ? static_cast<std::int8_t>(prior->status) : std::int8_t{-1};
    o.items = prior ? prior->items : 0;
    o.created_ms = prior ? prior->created_ms : 0;
    // A replay always goes out under a key the record never used before.
    o.generation = page.force ? std::max(page.generation, prior ? prior->generation + 1 : 0u)
                              : (prior ? prior->generation : 0u);
    idempotency_bytes(id_bytes, service_, m.key, hash, op, o.generation);
    o.idempotency_key.resize(16);
    hex64_to(xxh64(id_bytes), o.idempotency_key.data());
    o.data_off = static_cast<std::uint32_t>(cur->arena.size());
    o.data_len = static_cast<std::uint32_t>(len);
    cur->arena.append(b0, len);
  }

  const auto parts = static_cast<std::uint32_t>(batches.size());
  for (std::uint32_t i = 0; i < parts; ++i) {
    send_batch& b = *batches[i];
    b.service = service_;
    b.page_seq = page.seq;
    b.part = i;
    b.parts = parts;
    b.page_end = page.end;
    b.detached = page.detached;
  }
  return batches;
}

} // namespace stampede
