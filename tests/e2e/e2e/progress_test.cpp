// End to end: the progress display of `run --progress always` (not a tty: a
// line every 5 s) counts records with a durable outcome, not rows read: with a
// slow target the extractor reads ahead of delivery, and the display must
// show the delivered count (and an ETA for the rest), never the rows read.
#include "e2e_support.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace e2e;

TEST_CASE("progress: done counts delivered records behind the rows read, with an ETA") {
  // Sync batches of 8 rows, one at a time, each answered after 900 ms: about
  // 6 s for 48 rows while pages of 8 are read up to queue_batches ahead.
  world w(0.2,
          {{"protocol", "\"sync_batch\""},
           {"batch_records", "8"},
           {"page_size", "8"},
           {"in_flight", "1"},
           {"queue_batches", "4"},
           {"safety_delay", "\"100ms\""}},
          {"--latency-ms", "900"});
  const auto rows = w.live_rows("CONTRIBUINTES");
  REQUIRE(rows >= 40);
  auto r = run(bin("tools/stampede/stampede") + " run --once --services 1 --progress always -c " +
               w.cfg.string());
  INFO(r.out);
  REQUIRE(r.rc == 0);
  static const std::regex line(
      R"(service  1 taxpayers +initial load +(\d+)/(\d+) done +\S+/s +(\d+) read +\d+ in flight(  ETA (\d+)s)?)");
  int lines = 0, behind = 0, with_eta = 0;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), line); it != std::sregex_iterator();
       ++it) {
    ++lines;
    const auto done = std::stoll((*it)[1]), expected = std::stoll((*it)[2]),
               read = std::stoll((*it)[3]);
    CHECK(done <= read);
    CHECK(done <= expected);
    CHECK(expected >= rows);  // the rows counted at the start of the load
    if (done < read) ++behind;
    if ((*it)[4].matched) {
      ++with_eta;
      CHECK(done < expected);
    }
  }
  CHECK(lines >= 1);
  CHECK(behind >= 1);   // delivery lags reading: the display shows delivery
  CHECK(with_eta >= 1);
  CHECK(get_stats(w.target->url()).services[1].creates == static_cast<std::uint64_t>(rows));
}
