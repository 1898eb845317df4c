#include "pipeline/service_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <queue>
#include <set>

namespace stampede {

std::string format_path(const std::vector<std::uint32_t>& path) {
  std::string s;
  for (std::size_t i = 0; i < path.size(); ++i)
    s += (i ? " -> " : "") + std::to_string(path[i]);
  return s;
}

std::string dependency_problem::message() const {
  switch (k) {
    case kind::unknown_id:
      return fmt::format("service {} is not defined", id);
    case kind::duplicate:
      return fmt::format("lists service {} twice", id);
    case kind::cycle:
      return fmt::format("dependency cycle: {}", format_path(path));
  }
  return {};
}

service_graph::service_graph(std::map<std::uint32_t, std::vector<std::uint32_t>> after)
  : after_(std::move(after)) {
}

service_graph::service_graph(const std::vector<service_config>& services) {
  for (const auto& s : services)
    after_[s.id] = s.after;
}

service_graph::service_graph(const std::vector<const service_config*>& services) {
  for (const auto* s : services)
    after_[s->id] = s->after;
}

const std::vector<std::uint32_t>& service_graph::after(std::uint32_t id) const {
  static const std::vector<std::uint32_t> none;
  auto it = after_.find(id);
  return it == after_.end() ? none : it->second;
}

std::vector<dependency_problem> service_graph::problems() const {
  std::vector<dependency_problem> out;
  for (const auto& [id, deps] : after_) {
    std::set<std::uint32_t> seen;
    for (std::size_t i = 0; i < deps.size(); ++i) {
      dependency_problem p;
      p.service = id;
      p.index = i;
      p.id = deps[i];
      if (!after_.count(deps[i])) {
        p.k = dependency_problem::kind::unknown_id;
        out.push_back(p);
      } else if (!seen.insert(deps[i]).second) {
        p.k = dependency_problem::kind::duplicate;
        out.push_back(p);
      }
    }
  }
  // Depth-first over ids in ascending order; a back edge closes a cycle,
  // whose path is the part of the stack from the node it points to.
  enum class colour { white, grey, black };
  std::map<std::uint32_t, colour> c;
  std::vector<std::uint32_t> stack;
  std::set<std::vector<std::uint32_t>> cycles;  // rotated to start at the smallest id
  std::function<void(std::uint32_t)> visit = [&](std::uint32_t v) {
    c[v] = colour::grey;
    stack.push_back(v);
    const auto& deps = after(v);
    for (std::size_t i = 0; i < deps.size(); ++i) {
      const auto w = deps[i];
      if (!after_.count(w))
        continue;
      if (c[w] == colour::grey) {
        auto from = std::find(stack.begin(), stack.end(), w);
        std::vector<std::uint32_t> cyc(from, stack.end());
        std::rotate(cyc.begin(), std::min_element(cyc.begin(), cyc.end()), cyc.end());
        if (cycles.insert(cyc).second) {
          dependency_problem p;
          p.k = dependency_problem::kind::cycle;
          p.service = cyc.front();
          p.path = cyc;
          p.path.push_back(cyc.front());
          // Point at the edge leaving the first service of the path.
          const auto& first = after(cyc.front());
          const auto next = p.path[1];
          p.index = static_cast<std::size_t>(
            std::find(first.begin(), first.end(), next) - first.begin());
          p.id = next;
          out.push_back(std::move(p));
        }
      } else if (c[w] == colour::white) {
        visit(w);
      }
    }
    stack.pop_back();
    c[v] = colour::black;
  };
  for (const auto& [id, _] : after_)
    c[id] = colour::white;
  for (const auto& [id, _] : after_)
    if (c[id] == colour::white)
      visit(id);
  return out;
}

std::vector<std::uint32_t> service_graph::order(std::vector<std::uint32_t> ids) const {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  const std::set<std::uint32_t> in(ids.begin(), ids.end());
  // Kahn: count each selected id's selected dependencies; release the
  // smallest ready id first.
  std::map<std::uint32_t, std::size_t> waiting;
  std::map<std::uint32_t, std::vector<std::uint32_t>> dependents;
  for (auto id : ids) {
    std::set<std::uint32_t> deps;
    for (auto d : after(id))
      if (in.count(d) && d != id)
        deps.insert(d);
    waiting[id] = deps.size();
    for (auto d : deps)
      dependents[d].push_back(id);
  }
  std::priority_queue<std::uint32_t, std::vector<std::uint32_t>, std::greater<>> ready;
  for (auto id : ids)
    if (waiting[id] == 0)
      ready.push(id);
  std::vector<std::uint32_t> out;
  std::set<std::uint32_t> placed;
  while (!ready.empty()) {
    const auto id = ready.top();
    ready.pop();
    out.push_back(id);
    placed.insert(id);
    for (auto d : dependents[id])
      if (--waiting[d] == 0)
        ready.push(d);
  }
  for (auto id : ids)  // members of a cycle (never in a loaded config)
    if (!placed.count(id))
      out.push_back(id);
  return out;
}

std::optional<std::uint32_t>
service_graph::blocker(std::uint32_t id, const std::vector<std::uint32_t>& ids,
                       const std::function<bool(std::uint32_t)>& failed) const {
  std::optional<std::uint32_t> best;
  for (auto d : after(id))
    if (d != id && std::find(ids.begin(), ids.end(), d) != ids.end() && failed(d) &&
        (!best || d < *best))
      best = d;
  return best;
}

} // namespace stampede
