// `stampede --version`: this build and the libraries it runs with (what a bug
// report needs). STAMPEDE_VERSION and STAMPEDE_BUILD_TYPE come from CMake for
// this file only, so a version bump recompiles one file.
#include "tools/stampede/commands.hpp"

#include <caf/config.hpp>
#include <curl/curl.h>
#include <fmt/format.h>
#include <rocksdb/version.h>
#include <simdjson.h>
#include <sqlite3.h>

namespace stampede::cli {

std::string version_number() { return STAMPEDE_VERSION; }

std::string version_text() {
  const auto* curl = curl_version_info(CURLVERSION_NOW);
  return fmt::format("stampede {} ({} build)\n"
                     "libraries: CAF {}.{}.{}, RocksDB {}.{}.{}, SQLite {}, libcurl {}, simdjson {}.{}.{}",
                     STAMPEDE_VERSION, STAMPEDE_BUILD_TYPE[0] ? STAMPEDE_BUILD_TYPE : "default",
                     CAF_VERSION / 10000, CAF_VERSION / 100 % 100, CAF_VERSION % 100, ROCKSDB_MAJOR,
                     ROCKSDB_MINOR, ROCKSDB_PATCH, sqlite3_libversion(), curl ? curl->version : "?",
                     int(simdjson::SIMDJSON_VERSION_MAJOR), int(simdjson::SIMDJSON_VERSION_MINOR),
                     int(simdjson::SIMDJSON_VERSION_REVISION));
}

} // namespace stampede::cli
