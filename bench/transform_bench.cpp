// Transform throughput: a synthetic 19-column page (mixed types, CHAR padding,
// accents, nested objects, a constant) of 5000 rows, run() repeatedly over
// 1M rows (all creates: the full render + hash + batch path).
// Usage: bench_transform_bench [total_rows=1000000] [page_rows=5000]
#include "pipeline/transform.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <string>

using namespace stampede;

namespace {

field_mapping col(const char* name, const char* column, field_type t) {
  field_mapping f;
  f.name = name;
  f.column = column;
  f.type = t;
  return f;
}

std::string pad(std::string s, std::size_t n) {
  s.resize(std::max(n, s.size()), ' ');
  return s;
}

} // namespace

int main(int argc, char** argv) {
  const std::size_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const std::size_t page_rows = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5000;

  service_config svc;
  svc.id = 1;
  svc.name = "bench";
  using ft = field_type;
  svc.fields = {
      col("id", "R_E_C_N_O_", ft::integer),      col("branch", "A1_FILIAL", ft::string),
      col("code", "A1_COD", ft::string),         col("store", "A1_LOJA", ft::string),
      col("name", "A1_NOME", ft::string),        col("tradeName", "A1_NREDUZ", ft::string),
      col("personType", "A1_PESSOA", ft::string), col("document", "A1_CGC", ft::string),
      col("address.street", "A1_END", ft::string), col("address.district", "A1_BAIRRO", ft::string),
      col("address.city", "A1_MUN", ft::string), col("address.state", "A1_EST", ft::string),
      col("address.zip", "A1_CEP", ft::string),  col("creditLimit", "A1_LC", ft::decimal),
      col("balance", "A1_SALDUP", ft::decimal),  col("riskScore", "A1_RISCO", ft::integer),
      col("firstPurchase", "A1_PRICOM", ft::date), col("updatedAt", "A1_ALTER", ft::datetime),
      col("blocked", "A1_MSBLQL", ft::boolean),
  };
  field_mapping origin;
  origin.name = "origin";
  origin.value = "protheus";
  svc.fields.push_back(origin);

  target_config tgt;
  tgt.name = "bench";
  source_config src;
  src.utc_offset_minutes = -180;
  transformer tr(svc, tgt, src);
  const std::size_t ncol = tr.columns().size();

  row_page page;
  page.service = svc.id;
  page.columns = std::make_shared<const std::vector<std::string>>(tr.columns());
  const char* names[] = {"JOSE DA SILVA", "MARIA APARECIDA DOS SANTOS", "JO\xC3\x83O CONCEI\xC3\x87\xC3\x83O",
                         "PREFEITURA MUNICIPAL", "ANA \"BIA\" SOUZA"};
  for (std::size_t r = 0; r < page_rows; ++r) {
    const std::string cells[] = {
        std::to_string(r + 1),
        "01",
        pad(std::to_string(100000 + r), 9),
        "01",
        pad(names[r % 5], 40),
        pad(names[(r + 1) % 5], 20),
        r % 3 ? "F" : "J",
        pad(std::to_string(10000000000ULL + r * 7919), 14),
        pad("RUA DAS FLORES, " + std::to_string(r % 900), 40),
        pad("CENTRO", 30),
        pad("S\xC3\x83O PAULO", 25),
        "SP",
        "01001000",
        std::to_string(r * 13 % 100000) + ".50",
        "-" + std::to_string(r % 977) + ".07",
        std::to_string(r % 5),
        r % 10 ? "20" + std::to_string(10 + r % 14) + "0" + std::to_string(1 + r % 9) + "15" : "        ",
        "2024-03-01 13:45:" + std::to_string(10 + r % 50) + ".123",
        r % 2 ? "1" : "2",
    };
    for (std::size_t c = 0; c < ncol; ++c) {
      row_page::cell cell;
      cell.off = static_cast<std::uint32_t>(page.arena.size());
      cell.len = static_cast<std::uint32_t>(cells[c].size());
      cell.null = false;
      page.arena += cells[c];
      page.cells.push_back(cell);
    }
    row_page::row_meta m;
    m.key = std::to_string(r + 1);
    m.stamp = "2024-03-01 16:45:00.000";
    m.recno = static_cast<std::int64_t>(r + 1);
    page.rows.push_back(std::move(m));
  }
  // boolean column: "2" is invalid -> check that errors stay rare in this bench
  for (std::size_t r = 0; r < page_rows; ++r) {
    auto& cell = page.cells[r * ncol + ncol - 1];
    page.arena[cell.off] = r % 2 ? '1' : 'N';
  }

  std::size_t rows = 0, records = 0, errors = 0, bytes = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  while (rows < total) {
    page.seq++;
    for (const auto& b : tr.run(page)) {
      records += b->records.size();
      errors += b->record_errors.size();
      bytes += b->bytes();
    }
    rows += page.size();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  std::printf("transform: %zu rows (%zu columns, page %zu) in %.3f s wall, %.3f s CPU\n", rows, ncol,
              page_rows, secs, cpu);
  std::printf("  per CPU second (one core): %.0f rows/s, %.1f ns/row\n", rows / cpu,
              cpu * 1e9 / static_cast<double>(rows));
  std::printf("  wall clock (shared machine):\n");
  std::printf("  %.0f rows/s, %.1f ns/row, %.1f MB/s of data JSON, %.0f bytes/record\n", rows / secs,
              secs * 1e9 / static_cast<double>(rows), static_cast<double>(bytes) / secs / 1e6,
              records ? static_cast<double>(bytes) / static_cast<double>(records) : 0.0);
  std::printf("  records=%zu errors=%zu\n", records, errors);
  return errors == 0 && records == rows ? 0 : 1;
}
