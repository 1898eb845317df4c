// demogen::mutate(): the report matches what happened in the database.
#include "tests/unit/demogen/helpers.hpp"
#include "tools/demogen/lib/timefmt.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace demogen_test;
namespace dg = stampede::demogen;

namespace {

void make(const std::string& path, double scale, std::vector<std::uint32_t> only = {}) {
  dg::generate_options o;
  o.path = path;
  o.scale = scale;
  o.only = std::move(only);
  dg::generate(o);
}

// Column index of a name in a snapshot row ('\x1f'-separated, SELECT * order).
std::vector<std::string> split(const std::string& row) {
  std::vector<std::string> out(1);
  for (char c : row) {
    if (c == '\x1f')
      out.emplace_back();
    else
      out.back() += c;
  }
  return out;
}

}  // namespace

TEST_CASE("mutate: report matches the database") {
  temp_db t;
  make(t.path(), 0.2);  // 48 rows per small service, 4800 per large one
  std::map<std::string, std::map<std::int64_t, std::string>> before;
  {
    dg::sqlite_db db(t.path(), false);
    for (const auto& s : dg::services()) before[s.table] = snapshot(db, s.table);
  }
  dg::mutate_options o;
  o.path = t.path();
  o.count = 200;
  o.seed = 11;
  const auto started = dg::format_stamp(dg::now_ms());
  const auto rep = dg::mutate(o);
  const auto ended = dg::format_stamp(dg::now_ms() + 1);

  std::size_t upd = 0, ins = 0, del = 0, late = 0;
  for (const auto& [id, p] : rep.services) {
    upd += p.updated.size();
    ins += p.inserted.size();
    del += p.deleted.size();
    late += p.late.size();
  }
  CHECK(upd + ins + del == 200);
  CHECK(upd == 140);
  CHECK(del == 20);
  CHECK(ins == 40);
  CHECK(late == 20);
  REQUIRE(dg::parse_stamp(rep.late_stamp));
  CHECK(*dg::parse_stamp(rep.late_stamp) ==
        Approx(*dg::parse_stamp(started) - 30000).margin(2000));

  dg::sqlite_db db(t.path(), false);
  std::set<std::string> fresh_stamps_multi;
  std::map<std::string, int> fresh_stamp_count;
  for (const auto& s : dg::services()) {
    INFO(s.table);
    const auto after = snapshot(db, s.table);
    const auto& old = before[s.table];
    const auto it = rep.services.find(s.id);
    const dg::mutate_report::per_service none;
    const auto& p = it == rep.services.end() ? none : it->second;
    const std::set<std::int64_t> late_set(p.late.begin(), p.late.end());
    std::set<std::int64_t> touched;
    const std::size_t ncol = s.columns.size();  // business cols, then D_E_L_E_T_, R_E_C_N_O_, S_T_A_M_P_

    auto check_stamp = [&](std::int64_t recno, const std::vector<std::string>& now_row,
                           const std::vector<std::string>* was) {
      const auto& st = now_row[ncol + 2];
      if (late_set.count(recno)) {
        CHECK(st == rep.late_stamp);
      } else {
        CHECK(st >= started);
        CHECK(st <= ended);
        ++fresh_stamp_count[std::to_string(s.id) + st];
      }
      if (was) CHECK(st > (*was)[ncol + 2]);
    };
    for (auto r : p.updated) {
      INFO("updated " << r);
      REQUIRE(old.count(r));
      REQUIRE(after.count(r));
      const auto a = split(after.at(r)), b = split(old.at(r));
      CHECK(a[ncol] == " ");
      bool content_changed = false;
      for (std::size_t c = 0; c < ncol; ++c) content_changed |= a[c] != b[c];
      CHECK(content_changed);
      CHECK(a[0] == b[0]);  // the code (key) stays
      check_stamp(r, a, &b);
      touched.insert(r);
    }
    for (auto r : p.deleted) {
      INFO("deleted " << r);
      REQUIRE(after.count(r));
      const auto a = split(after.at(r)), b = split(old.at(r));
      CHECK(b[ncol] == " ");
      CHECK(a[ncol] == "*");
      for (std::size_t c = 0; c < ncol; ++c) CHECK(a[c] == b[c]);
      check_stamp(r, a, &b);
      touched.insert(r);
    }
    const std::int64_t old_max = old.empty() ? 0 : old.rbegin()->first;
    for (auto r : p.inserted) {
      INFO("inserted " << r);
      CHECK(r > old_max);
      REQUIRE(after.count(r));
      const auto a = split(after.at(r));
      CHECK(a[ncol] == " ");
      check_stamp(r, a, nullptr);
      touched.insert(r);
    }
    CHECK(touched.size() == p.updated.size() + p.deleted.size() + p.inserted.size());
    for (auto r : p.late) CHECK(touched.count(r));
    CHECK(after.size() == old.size() + p.inserted.size());
    for (const auto& [r, row] : old)
      if (!touched.count(r)) CHECK(after.at(r) == row);
  }
  int max_share = 0;
  for (const auto& [st, n] : fresh_stamp_count) max_share = std::max(max_share, n);
  CHECK(max_share >= 2);  // several rows share one fresh stamp

  // References of inserted rows resolve too.
  CHECK(count(db, "SELECT COUNT(*) FROM CREDITOS_IPTU WHERE CI_CONTRIB NOT IN "
                  "(SELECT CT_CODIGO FROM CONTRIBUINTES)") == 0);
  CHECK(count(db, "SELECT COUNT(*) FROM IMOVEIS WHERE IM_CONTRIB NOT IN "
                  "(SELECT CT_CODIGO FROM CONTRIBUINTES)") == 0);

  // JSON report names the totals and the lists.
  const auto json = rep.to_json();
  CHECK(json.find("\"count\": 200") != std::string::npos);
  CHECK(json.find("\"late\": 20,") != std::string::npos);
  CHECK(json.find("\"late_stamp\": \"" + rep.late_stamp + "\"") != std::string::npos);
  const auto& any = *rep.services.begin();
  CHECK(json.find("\"" + std::to_string(any.first) + "\": {\"name\"") != std::string::npos);
}

TEST_CASE("mutate: only the selected services, custom split and late settings") {
  temp_db t;
  make(t.path(), 0.05, {1, 19});
  dg::mutate_options o;
  o.path = t.path();
  o.count = 50;
  o.only = {19};
  o.update_share = 0.5;
  o.delete_share = 0.5;
  o.late_share = 0.0;
  const auto rep = dg::mutate(o);
  REQUIRE(rep.services.size() == 1);
  const auto& p = rep.services.at(19);
  CHECK(p.updated.size() == 25);
  CHECK(p.deleted.size() == 25);
  CHECK(p.inserted.empty());
  CHECK(p.late.empty());

  // Running again changes other rows (seed mixed with the file's state).
  o.late_share = 1.0;
  o.late_by = std::chrono::milliseconds(120000);
  const auto rep2 = dg::mutate(o);
  const auto& p2 = rep2.services.at(19);
  CHECK(p2.updated != p.updated);
  CHECK(p2.late.size() == 50);
  dg::sqlite_db db(t.path(), false);
  for (auto r : p2.late)
    CHECK(text(db, "SELECT S_T_A_M_P_ FROM CREDITOS_IPTU WHERE R_E_C_N_O_ = " +
                       std::to_string(r)) == rep2.late_stamp);
}

TEST_CASE("mutate: inserts into a table whose referenced tables are absent copy used codes") {
  temp_db t;
  make(t.path(), 0.05, {19});
  std::set<std::string> used;
  {
    dg::sqlite_db db(t.path(), false);
    for (const auto& v : rows(db, "SELECT CI_CONTRIB FROM CREDITOS_IPTU")) used.insert(v);
  }
  dg::mutate_options o;
  o.path = t.path();
  o.count = 30;
  o.update_share = 0;
  o.delete_share = 0;
  const auto rep = dg::mutate(o);
  REQUIRE(rep.services.at(19).inserted.size() == 30);
  dg::sqlite_db db(t.path(), false);
  for (auto r : rep.services.at(19).inserted) {
    const auto v = text(db, "SELECT CI_CONTRIB FROM CREDITOS_IPTU WHERE R_E_C_N_O_ = " +
                                std::to_string(r));
    CHECK(used.count(v));
  }
}

TEST_CASE("mutate: clear errors for a missing file, a missing table and bad shares") {
  temp_db t;
  dg::mutate_options o;
  o.path = t.path();
  try {
    dg::mutate(o);
    FAIL("mutate on a missing file must throw");
  } catch (const dg::error& e) {
    CHECK(e.code == dg::errc::missing_database);
    const std::string m = e.what();
    CHECK(m.find(t.path()) != std::string::npos);
    CHECK(m.find("generate") != std::string::npos);
  }
  CHECK_FALSE(std::filesystem::exists(t.path()));

  make(t.path(), 0.01, {19});
  o.only = {1};
  try {
    dg::mutate(o);
    FAIL("mutate on an absent table must throw");
  } catch (const dg::error& e) {
    CHECK(e.code == dg::errc::missing_table);
    CHECK(std::string(e.what()).find("CONTRIBUINTES") != std::string::npos);
  }
  o.only = {};
  o.late_share = 1.5;
  try {
    dg::mutate(o);
    FAIL("late_share 1.5 must throw");
  } catch (const dg::error& e) {
    CHECK(e.code == dg::errc::bad_options);
  }
}
