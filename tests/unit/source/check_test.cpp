// check_source: config services against a live SQLite source.
#include "../config/helpers.hpp"

#include "source/check.hpp"

#include <filesystem>

using namespace stampede;
using namespace stampede::test;

namespace {

std::string config_for(const std::string& db) {
  return R"([source]
path = ")" + db + R"("

[targets.portal]
base_url = "http://127.0.0.1:8787"

[[services]]
id = 2
name = "products"
table = "SB1010"
target = "portal"

[[services.fields]]
name = "code"
column = "B1_COD"

[[services]]
id = 1
name = "taxpayers"
table = "SA1010"
target = "portal"
key_column = "A1_COD"

[[services.fields]]
name = "code"
column = "A1_COD"

[[services.fields]]
name = "name"
column = "A1_NOME"
)";
}

void make_db(const std::string& path) {
  sql_exec(path,
           "CREATE TABLE SA1010 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT, "
           "A1_COD TEXT, A1_NOME TEXT);"
           "CREATE INDEX SA1010_S ON SA1010(S_T_A_M_P_, R_E_C_N_O_);"
           "INSERT INTO SA1010 VALUES (1, '2024-01-01 00:00:00.000', ' ', '001', 'ACME');"
           "CREATE TABLE SB1010 (R_E_C_N_O_ INTEGER, S_T_A_M_P_ TEXT, D_E_L_E_T_ TEXT, "
           "B1_COD TEXT);"
           "CREATE INDEX SB1010_S ON SB1010(s_t_a_m_p_);");
}

} // namespace

TEST_CASE("check passes on a matching database", "[check]") {
  temp_dir dir;
  std::string db = dir.file("erp.db");
  make_db(db);
  config c = parse_config(config_for(db), "c.toml");
  check_report r = check_source(c);
  INFO(to_string(r));
  CHECK(r.ok());
  CHECK(r.errors.empty());
  CHECK(r.warnings.empty());
  REQUIRE(r.info.size() == 4);
  CHECK_THAT(r.info[1], Catch::Contains("service 1 (taxpayers): table SA1010"));
  CHECK_THAT(r.info[1], Catch::Contains("1 rows"));
  CHECK_THAT(r.info[2], Catch::Contains("S_T_A_M_P_ sampled 1 rows (oldest and newest): "
                                        "YYYY-MM-DD HH:MM:SS.fff (1)"));
  CHECK_THAT(to_string(r), Catch::Contains("info: source: SQLite"));
}

TEST_CASE("check samples the stamp column and says which formats it found", "[check][stamp]") {
  temp_dir dir;
  std::string db = dir.file("erp.db");
  make_db(db);
  sql_exec(db, "INSERT INTO SA1010 VALUES (2, '2024-01-02T10:00:00Z', ' ', '002', 'B');"
               "INSERT INTO SA1010 VALUES (3, '01/02/2024', ' ', '003', 'C');"
               "INSERT INTO SA1010 VALUES (4, NULL, ' ', '004', 'D');");
  check_report r = check_source(parse_config(config_for(db), "c.toml"));
  const std::string all = to_string(r);
  INFO(all);
  CHECK(r.ok());  // warnings only: the rows become record errors, nothing stops
  CHECK_THAT(all, Catch::Contains("YYYY-MM-DD HH:MM:SS.fff (1)"));
  CHECK_THAT(all, Catch::Contains("YYYY-MM-DDTHH:MM:SSZ (1)"));
  CHECK_THAT(all, Catch::Contains("NULL (1)"));
  CHECK_THAT(all, Catch::Contains("unreadable (1)"));
  CHECK_THAT(all, Catch::Contains("2 sampled S_T_A_M_P_ values are not date-times"));
  CHECK_THAT(all, Catch::Contains("\"01/02/2024\""));
  CHECK_THAT(all, Catch::Contains("never move the checkpoint"));
  CHECK_THAT(all, Catch::Contains("mixes 2 layouts"));
}

TEST_CASE("check reports missing tables and columns at their config lines", "[check]") {
  temp_dir dir;
  std::string db = dir.file("erp.db");
  make_db(db);
  std::string text = config_for(db);
  text = edit(text, "table = \"SB1010\"", "table = \"SB9999\"");
  text = edit(text, "column = \"A1_NOME\"", "column = \"A1_NOM\"");
  text = edit(text, "key_column = \"A1_COD\"", "key_column = \"A1_KEY\"");
  config c = parse_config(text, "c.toml");
  check_report r = check_source(c);
  INFO(to_string(r));
  REQUIRE(r.errors.size() == 3);
  CHECK_FALSE(r.ok());

  auto find = [&](const std::string& key) {
    for (const auto& d : r.errors)
      if (d.key_path == key) return d;
    FAIL("no error for " << key);
    return config_diagnostic{};
  };
  auto t = find("services[0].table");
  CHECK(t.file == "c.toml");
  CHECK(t.line == pos_of(text, "[[services]]").line);
  CHECK_THAT(t.message, Catch::Contains("table SB9999 does not exist"));

  auto k = find("services[1].key_column");
  CHECK(k.line == pos_of(text, "[[services]]", 2).line);
  CHECK_THAT(k.message, Catch::Contains("column `A1_KEY` does not exist in table SA1010"));

  auto col = find("services[1].fields[1].column");
  CHECK(col.line == pos_of(text, "[[services.fields]]", 3).line);
  CHECK_THAT(col.message, Catch::Contains("`A1_NOM`"));
  CHECK(col.hint == "did you mean `A1_NOME`?");
}

TEST_CASE("check reports missing stamp/recno/deleted columns", "[check]") {
  temp_dir dir;
  std::string db = dir.file("erp.db");
  make_db(db);
  sql_exec(db, "CREATE TABLE SC (R_E_C_N_O_ INTEGER, X TEXT);");
  std::string text = edit(config_for(db), "table = \"SB1010\"", "table = \"SC\"");
  text = edit(text, "column = \"B1_COD\"", "column = \"X\"");
  check_report r = check_source(parse_config(text, "c.toml"));
  INFO(to_string(r));
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].key_path == "source.stamp_column");
  CHECK(r.errors[1].key_path == "source.deleted_column");
  CHECK(r.errors[0].line == pos_of(text, "[[services]]").line);
}

TEST_CASE("check warns when the stamp column has no index", "[check]") {
  temp_dir dir;
  std::string db = dir.file("erp.db");
  make_db(db);
  sql_exec(db, "DROP INDEX SA1010_S;");
  std::string text = config_for(db);
  check_report r = check_source(parse_config(text, "c.toml"));
  INFO(to_string(r));
  CHECK(r.errors.empty());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].key_path == "services[1].table");
  CHECK(r.warnings[0].line == pos_of(text, "[[services]]", 2).line);
  CHECK_THAT(r.warnings[0].message, Catch::Contains("no index"));
  CHECK_THAT(r.warnings[0].hint,
             Catch::Contains("CREATE INDEX IF NOT EXISTS \"SA1010_stamp\" ON \"SA1010\"("
                             "\"S_T_A_M_P_\", \"R_E_C_N_O_\")"));
}

TEST_CASE("check reports a missing database file and does not create it", "[check]") {
  temp_dir dir;
  std::string db = dir.file("absent.db");
  std::string text = config_for(db);
  check_report r = check_source(parse_config(text, "c.toml"));
  REQUIRE(r.errors.size() == 1);
  const auto& d = r.errors[0];
  CHECK(d.key_path == "source.path");
  CHECK(d.line == 2);
  CHECK_THAT(d.message, Catch::Contains(db));
  CHECK_THAT(d.message, Catch::Contains("does not exist"));
  CHECK_THAT(d.hint, Catch::Contains("stampede demo"));
  CHECK_THAT(d.hint, Catch::Contains("stampede-demo-db generate --out " + db));
  CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("check uses a service's own columns, runs its where and its query", "[check][source_options]") {
  temp_dir dir;
  std::string db = dir.file("erp.db");
  make_db(db);
  sql_exec(db, "CREATE TABLE CUST (ID INTEGER, UPDATED TEXT, CODE TEXT, B1_COD TEXT);"
               "CREATE INDEX CUST_U ON CUST(UPDATED, ID);");
  // Service 2 on CUST with its own columns and no soft deletes: clean, index found.
  std::string text = edit(config_for(db), "table = \"SB1010\"",
                          "table = \"CUST\"\nstamp_column = \"UPDATED\"\nrecno_column = \"ID\"\n"
                          "deleted_column = \"\"\nkey_column = \"CODE\"");
  check_report r = check_source(parse_config(text, "c.toml"));
  INFO(to_string(r));
  CHECK(r.ok());
  CHECK(r.warnings.empty());

  // A misspelled own column: at the service's key, with the closest name.
  std::string bad = edit(text, "stamp_column = \"UPDATED\"", "stamp_column = \"UPDATD\"");
  r = check_source(parse_config(bad, "c.toml"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors[0].key_path == "services[0].stamp_column");
  CHECK(r.errors[0].hint == "did you mean `UPDATED`?");
  // ...and the index advice names the service's columns.
  bad = edit(text, "stamp_column = \"UPDATED\"", "stamp_column = \"CODE\"");
  r = check_source(parse_config(bad, "c.toml"));
  REQUIRE(r.warnings.size() >= 1);
  CHECK_THAT(r.warnings[0].hint, Catch::Contains("\"CUST\"(\"CODE\", \"ID\")"));

  // A where on a column the table lacks: at the where's line, the database's message.
  bad = edit(text, "key_column = \"CODE\"",
             "key_column = \"CODE\"\nwhere = \"BRANCH = :b\"\nparams = { b = \"01\" }");
  r = check_source(parse_config(bad, "c.toml"));
  INFO(to_string(r));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key_path == "services[0].where");
  CHECK(r.errors[0].line == pos_of(bad, "where = ").line);
  CHECK_THAT(r.errors[0].message, Catch::Contains("no such column: BRANCH"));

  // A query: its result's columns count; without the stamp column it is an error.
  bad = edit(text, "table = \"CUST\"\nstamp_column = \"UPDATED\"",
             "query = \"SELECT ID, CODE, B1_COD FROM CUST\"\nstamp_column = \"UPDATED\"");
  r = check_source(parse_config(bad, "c.toml"));
  INFO(to_string(r));
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].key_path == "services[0].stamp_column");
  CHECK_THAT(r.errors[0].message,
             Catch::Contains("column `UPDATED` does not exist in the query's result"));
  bad = edit(bad, "SELECT ID, CODE", "SELECT ID, UPDATED, CODE");
  r = check_source(parse_config(bad, "c.toml"));
  INFO(to_string(r));
  CHECK(r.ok());
  CHECK_THAT(to_string(r), Catch::Contains("service 2 (products): query, 1 fields, 4 columns"));
}
