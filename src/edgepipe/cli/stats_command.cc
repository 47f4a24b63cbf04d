// edgepipe stats show DIR [--split NAME]
// edgepipe schema show DIR|FILE
// edgepipe anomalies show DIR [--split NAME]
// Readable summaries of ExampleStatistics, Schema and ExampleAnomalies
// artifacts (see docs/formats.md "Statistics, schema, anomalies").
#include <cstdio>
#include <memory>
#include <string>

#include "edgepipe/cli/commands.h"
#include "edgepipe/components/component_util.h"
#include "edgepipe/components/data_report.h"
#include "edgepipe/components/example_validator.h"
#include "edgepipe/components/schema_gen.h"
#include "edgepipe/components/statistics_gen.h"

namespace edgepipe::cli {
namespace {

struct ShowFlags {
  std::string path;
  std::string split;
};

// The splits of `dir` to show: all, or the one asked for.
Result<std::vector<std::string>> SelectSplits(const ShowFlags& f) {
  ASSIGN_OR_RETURN(std::vector<std::string> splits, components::ListSplits(f.path));
  if (splits.empty()) return Status::NotFound(f.path + ": no Split-* folders");
  if (f.split.empty()) return splits;
  for (const std::string& s : splits) {
    if (s == f.split) return std::vector<std::string>{s};
  }
  std::string have;
  for (const std::string& s : splits) have += (have.empty() ? "" : ", ") + s;
  return Status::NotFound(f.path + ": no split \"" + f.split + "\" (splits: " + have + ")");
}

Status ShowStats(const ShowFlags& f) {
  ASSIGN_OR_RETURN(auto splits, SelectSplits(f));
  for (size_t i = 0; i < splits.size(); ++i) {
    ASSIGN_OR_RETURN(auto list, components::ReadStatistics(f.path, splits[i]));
    std::printf("%s%s", i ? "\n" : "", components::FormatStatistics(list.datasets(0)).c_str());
  }
  return Status::Ok();
}

Status ShowSchema(const ShowFlags& f) {
  ASSIGN_OR_RETURN(auto schema, components::ReadSchema(f.path));
  std::printf("%s", components::FormatSchema(schema).c_str());
  return Status::Ok();
}

Status ShowAnomalies(const ShowFlags& f) {
  ASSIGN_OR_RETURN(auto splits, SelectSplits(f));
  for (const std::string& split : splits) {
    ASSIGN_OR_RETURN(auto anomalies, components::ReadAnomalies(f.path, split));
    std::printf("== split %s\n%s", split.c_str(), components::FormatAnomalies(anomalies).c_str());
  }
  return Status::Ok();
}

void AddShow(CLI::App& app, CommandRegistry& registry, const char* name, const char* help,
             const char* show_help, const char* path_help, bool with_split,
             Status (*run)(const ShowFlags&)) {
  CLI::App* cmd = app.add_subcommand(name, help);
  cmd->require_subcommand(1);
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* show = cmd->add_subcommand("show", show_help);
  show->add_option("path", flags->path, path_help)->required();
  if (with_split) show->add_option("--split", flags->split, "only this split");
  show->callback([flags, run, &registry] { registry.Set([flags, run] { return run(*flags); }); });
}

}  // namespace

void RegisterStatsCommands(CLI::App& app, CommandRegistry& registry) {
  AddShow(app, registry, "stats", "Look at ExampleStatistics artifacts",
          "Summarize the statistics of each split", "ExampleStatistics folder", true, ShowStats);
  AddShow(app, registry, "schema", "Look at Schema artifacts", "Summarize a schema",
          "Schema folder or schema.pbtxt", false, ShowSchema);
  AddShow(app, registry, "anomalies", "Look at ExampleAnomalies artifacts",
          "List the anomalies of each split", "ExampleAnomalies folder", true, ShowAnomalies);
}

}  // namespace edgepipe::cli
