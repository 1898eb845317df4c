// Per-service source options (issue 7): columns, soft deletes, keys, where
// with params, query. Parsing, defaults and every error with its position.
#include "helpers.hpp"

using namespace stampede;
using namespace stampede::test;

TEST_CASE("per-service columns default to the source's and can be set per service",
          "[config][source_options]") {
  auto c = parse_config(base_config, "test.toml");
  const auto& d = c.services.at(0);
  CHECK_FALSE(d.stamp_column);
  CHECK_FALSE(d.recno_column);
  CHECK_FALSE(d.deleted_column);
  CHECK_FALSE(d.deleted_value);
  CHECK(c.source.deleted_value == "*");
  CHECK(d.trim_key);
  CHECK(d.key_columns.empty());
  CHECK(d.where.empty());
  CHECK(d.query.empty());

  c = parse_config(with_service_key("stamp_column = \"UPDATED_AT\"\nrecno_column = \"ID\"\n"
                                    "deleted_column = \"IS_DEL\"\ndeleted_value = \"Y\"\n"
                                    "trim_key = false"),
                   "test.toml");
  const auto& s = c.services.at(0);
  CHECK(s.stamp_column == "UPDATED_AT");
  CHECK(s.recno_column == "ID");
  CHECK(s.deleted_column == "IS_DEL");
  CHECK(s.deleted_value == "Y");
  CHECK_FALSE(s.trim_key);
  CHECK(s.key_column == "ID");  // the key defaults to the service's own recno column
}

TEST_CASE("deleted_column = \"\" means no soft deletes, per service and in [source]",
          "[config][source_options]") {
  auto c = parse_config(with_service_key("deleted_column = \"\""), "test.toml");
  REQUIRE(c.services.at(0).deleted_column);
  CHECK(c.services.at(0).deleted_column->empty());
  c = parse_config(with_source_key("deleted_column = \"\"\ndeleted_value = \"S\""), "test.toml");
  CHECK(c.source.deleted_column.empty());
  CHECK(c.source.deleted_value == "S");
  expect_error(with_service_key("deleted_value = \"\""), "services[0].deleted_value",
               "\"\"", "must not be empty", "deleted_column = \"\"");
  expect_error(with_service_key("deleted_column = \"D-E\""), "services[0].deleted_column",
               "\"D-E\"", "not a plain SQL identifier");
  expect_error(with_service_key("stamp_column = \"S T\""), "services[0].stamp_column",
               "\"S T\"", "not a plain SQL identifier");
}

TEST_CASE("key_columns: a composite key, exclusive with key_column", "[config][source_options]") {
  auto c = parse_config(with_service_key("key_columns = [\"A1_FILIAL\", \"A1_COD\"]"),
                        "test.toml");
  const auto& s = c.services.at(0);
  CHECK(s.key_columns == std::vector<std::string>{"A1_FILIAL", "A1_COD"});
  CHECK(s.key_column == "A1_FILIAL|A1_COD");  // for display

  std::string text = with_service_key("key_column = \"A1_COD\"\nkey_columns = [\"A1_FILIAL\", \"A1_COD\"]");
  expect_error(text, "services[0].key_columns", "[\"A1_FILIAL\"", "mutually exclusive");
  expect_error(with_service_key("key_columns = [\"A1_COD\"]"), "services[0].key_columns",
               "[\"A1_COD\"]", "at least two columns", "key_column");
  expect_error(with_service_key("key_columns = [\"A1_COD\", \"A1_COD\"]"),
               "services[0].key_columns[1]", "\"A1_COD\"]", "appears twice");
  expect_error(with_service_key("key_columns = [\"A1_COD\", \"X Y\"]"),
               "services[0].key_columns[1]", "\"X Y\"", "not a plain SQL identifier");
  expect_error(with_service_key("key_columns = \"A1_COD\""), "services[0].key_columns",
               "\"A1_COD\"", "expected an array of column names");
}

TEST_CASE("where with params: every parameter given and used", "[config][source_options]") {
  auto c = parse_config(
      with_service_key("where = \"A1_FILIAL = :filial AND A1_TIPO <> :tipo\"\n"
                       "params = { filial = \"01\", tipo = 5 }"),
      "test.toml");
  const auto& s = c.services.at(0);
  CHECK(s.where == "A1_FILIAL = :filial AND A1_TIPO <> :tipo");
  REQUIRE(s.params.size() == 2);
  CHECK(s.params[0] == std::pair<std::string, std::string>{"filial", "01"});
  CHECK(s.params[1] == std::pair<std::string, std::string>{"tipo", "5"});
  CHECK(s.where_line == pos_of(with_service_key("where = \"A1"), "where = ").line);

  // A parameter the where uses without a value: at the where, naming it.
  std::string text = with_service_key("where = \"A1_FILIAL = :filial\"\nparams = { filal = \"01\" }");
  auto ds = errors_of(text);
  auto d = diag_for(ds, "services[0].where");
  CHECK(d.file == "test.toml");
  CHECK(d.line == pos_of(text, "where = ").line);
  CHECK(d.column == pos_of(text, "\"A1_FILIAL = :filial\"").column);
  CHECK_THAT(d.message, Catch::Contains("parameter :filial has no value in `params`"));
  CHECK_THAT(d.hint, Catch::Contains("did you mean :filal?"));
  // ...and the unused one at its own key.
  auto u = diag_for(ds, "services[0].params.filal");
  CHECK(u.line == pos_of(text, "filal = ").line);
  CHECK(u.column == pos_of(text, "filal = ").column);
  CHECK_THAT(u.message, Catch::Contains("parameter `filal` is not used in `where`"));
  CHECK_THAT(u.hint, Catch::Contains("did you mean `filial`?"));

  expect_error(with_service_key("where = \"A1_FILIAL = :filial\""), "services[0].where",
               "\"A1_FILIAL", "parameter :filial has no value", "params = { filial");
  expect_error(with_service_key("params = { filial = \"01\" }"), "services[0].params.filial",
               "filial =", "not used in `where` (there is none)");
  expect_error(with_service_key("where = \"\""), "services[0].where", "\"\"", "must not be empty");
  expect_error(with_service_key("where = \"A = :a\"\nparams = { a = [1] }"),
               "services[0].params.a", "[1]", "expected a string (or an integer)");
  // A literal or a cast is not a parameter.
  c = parse_config(with_service_key("where = \"A1_NOME <> ':x' AND A1_COD::text = :c\"\n"
                                    "params = { c = \"1\" }"),
                   "test.toml");
  CHECK(c.services.at(0).params.size() == 1);
}

TEST_CASE("query instead of table", "[config][source_options]") {
  std::string text = edit(base_config, "table = \"SA1010\"",
                          "query = \"\"\"\nSELECT A.*, B.X FROM A JOIN B ON B.K = A.K\"\"\"");
  auto c = parse_config(text, "test.toml");
  CHECK(c.services.at(0).table.empty());
  CHECK_THAT(c.services.at(0).query, Catch::StartsWith("SELECT A.*"));
  CHECK(c.services.at(0).query_line == pos_of(text, "query = ").line);

  expect_error(with_service_key("query = \"SELECT * FROM SA1010\""), "services[0].query",
               "\"SELECT * FROM SA1010\"", "`table` and `query` are mutually exclusive");
  expect_error(edit(base_config, "table = \"SA1010\"", "query = \"UPDATE SA1010 SET X = 1\""),
               "services[0].query", "\"UPDATE", "is not a SELECT");
  expect_error(edit(base_config, "table = \"SA1010\"", "query = \"SELECT 1; DROP TABLE SA1010\""),
               "services[0].query", "\"SELECT 1;", "without `;`");
  auto ds = errors_of(edit(base_config, "table = \"SA1010\"\n", ""));
  CHECK_THAT(diag_for(ds, "services[0].table").hint, Catch::Contains("query"));
}
