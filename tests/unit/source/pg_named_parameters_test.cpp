// pg_named_parameters: the write-back statement's :names become $n for
// PostgreSQL, outside literals, quoted names, comments, dollar quotes and casts.
#include "source/postgres/postgres_writer.hpp"

#include <catch2/catch.hpp>

using namespace stampede;

TEST_CASE("pg_named_parameters numbers names by first appearance and reuses them",
          "[postgres][writeback]") {
  std::vector<std::string> names;
  CHECK(pg_named_parameters("UPDATE \"SA1010\" SET \"A1_IDERP\" = :id, \"A1_X\" = :id "
                            "WHERE \"R_E_C_N_O_\" = :key",
                            names) ==
        "UPDATE \"SA1010\" SET \"A1_IDERP\" = $1, \"A1_X\" = $1 WHERE \"R_E_C_N_O_\" = $2");
  CHECK(names == std::vector<std::string>{"id", "key"});
}

TEST_CASE("pg_named_parameters leaves casts, literals, quoted names, comments and dollar quotes "
          "alone",
          "[postgres][writeback]") {
  std::vector<std::string> names;
  const std::string sql =
      "UPDATE t SET a = :id::text, b = ':nope', \"c:nope\" = 'it''s :nope' -- :nope\n"
      ", d = $q$ :nope $q$ /* :nope */ WHERE k = :key_1";
  CHECK(pg_named_parameters(sql, names) ==
        "UPDATE t SET a = $1::text, b = ':nope', \"c:nope\" = 'it''s :nope' -- :nope\n"
        ", d = $q$ :nope $q$ /* :nope */ WHERE k = $2");
  CHECK(names == std::vector<std::string>{"id", "key_1"});
}

TEST_CASE("pg_named_parameters reports positional parameters as ?", "[postgres][writeback]") {
  std::vector<std::string> names;
  CHECK(pg_named_parameters("UPDATE t SET a = $1 WHERE k = :key", names) ==
        "UPDATE t SET a = $1 WHERE k = $2");
  CHECK(names == std::vector<std::string>{"?", "key"});
}
