#include "source/writer.hpp"

#include "source/postgres/postgres_writer.hpp"
#include "source/source.hpp"
#include "source/sqlite/sqlite_writer.hpp"

namespace stampede {

namespace {

struct opened_writer {
  std::unique_ptr<writeback_sink> sink;
  std::vector<std::string> parameters;  // the statement's names, in bind order
};

template <class Writer>
opened_writer opened(std::unique_ptr<Writer> w) {
  std::vector<std::string> names = w->parameters();
  return {std::move(w), std::move(names)};
}

opened_writer open_kind(const config& cfg, const service_config& svc, bool read_only) {
  if (cfg.source.kind == source_kind::postgres)
    return opened(std::make_unique<postgres_writer>(cfg.source.dsn, svc.writeback->sql, read_only));
  return opened(std::make_unique<sqlite_writer>(cfg.source.path, svc.writeback->sql, read_only));
}

} // namespace

std::shared_ptr<writeback_runner> open_writeback(const config& cfg, const service_config& svc) {
  if (!svc.writeback)
    return nullptr;
  auto w = open_kind(cfg, svc, /*read_only=*/false);
  writeback_plan plan(svc, w.parameters);
  return std::make_shared<writeback_runner>(std::move(plan), std::move(w.sink));
}

std::vector<config_diagnostic> check_writeback(const config& cfg, const service_config& svc) {
  std::vector<config_diagnostic> out;
  if (!svc.writeback)
    return out;
  const std::string path = "services[" + std::to_string(svc.file_index) + "].writeback.sql";
  try {
    auto w = open_kind(cfg, svc, /*read_only=*/true);
    for (const auto& name : w.parameters)
      if (name == "?" || name.empty())
        out.push_back({cfg.file, svc.writeback->line, svc.writeback->col, path,
                       "positional parameters (?) cannot be bound",
                       "name every parameter: :id, :key, a mapped field or a member of the "
                       "target's answer"});
  } catch (const source_error& e) {
    out.push_back({cfg.file, svc.writeback->line, svc.writeback->col, path, e.what(),
                   "fix the statement; `:id`, `:key`, mapped fields (dots as _) and members of "
                   "the target's answer are bound by name"});
  }
  return out;
}

} // namespace stampede
