// Service dependencies (`after = [1, 2]`, the Senior SET manual's DEPENDENTE /
// DEPENDE_DE): which services must finish before another one starts.
//
// Operation: a `service_graph` holds, per service id, the ids it runs after.
//   - `problems()` finds what makes the graph unusable: an id that names no
//     service, a service listed twice, and cycles, each with its path of ids
//     ("1 -> 3 -> 1"; a service after itself is "4 -> 4"). Config loading
//     turns them into config errors at the `after` key.
//   - `order(ids)` gives a subset of the services in dependency order, ties
//     by id (Kahn's algorithm on a min-heap): dependencies outside the subset
//     are ignored (`run --once --services 5` runs 5 even when it is after 2).
//   - `blocker(id, ids, failed)` is the first dependency of `id` inside the
//     subset `ids`, by id, for which `failed(dep)` is true: the dependency
//     that holds `id` back. The engine calls a dependency failed when its
//     cycle failed or it was itself held back, so a failure holds its whole
//     chain of dependents.
// Concurrency: immutable after construction; share by const&.
// Limitations: `order` on a graph with a cycle still returns every id
//   (the cycle's members last, by id); a loaded config never has one.
#pragma once

#include "pipeline/config.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stampede {

struct dependency_problem {
  enum class kind { unknown_id, duplicate, cycle } k = kind::unknown_id;
  std::uint32_t service = 0;          // the service whose `after` has the problem
  std::size_t index = 0;              // position in that service's `after` list
  std::uint32_t id = 0;               // unknown_id / duplicate: the id named
  std::vector<std::uint32_t> path;    // cycle: service, ..., service (first == last)

  /// "service 7 is not defined", "lists service 2 twice",
  /// "dependency cycle: 1 -> 3 -> 1".
  std::string message() const;
};

/// "1 -> 3 -> 1"
std::string format_path(const std::vector<std::uint32_t>& path);

class service_graph {
public:
  /// id -> the ids it runs after (in the order written).
  explicit service_graph(std::map<std::uint32_t, std::vector<std::uint32_t>> after);
  /// From configured services (their `after` lists).
  explicit service_graph(const std::vector<service_config>& services);
  explicit service_graph(const std::vector<const service_config*>& services);

  /// Unknown ids and duplicates in list order of services (by id), then
  /// every cycle found once (each reported at its smallest id).
  std::vector<dependency_problem> problems() const;

  /// `ids` in dependency order, ties by id; ids not in the graph keep no
  /// dependencies.
  std::vector<std::uint32_t> order(std::vector<std::uint32_t> ids) const;

  /// The ids `id` runs after (empty when none or unknown).
  const std::vector<std::uint32_t>& after(std::uint32_t id) const;

  /// The dependency of `id` (inside `ids`) that holds it back: the smallest
  /// id for which `failed` is true; nullopt when none does.
  std::optional<std::uint32_t> blocker(std::uint32_t id, const std::vector<std::uint32_t>& ids,
                                       const std::function<bool(std::uint32_t)>& failed) const;

private:
  std::map<std::uint32_t, std::vector<std::uint32_t>> after_;
};

} // namespace stampede
