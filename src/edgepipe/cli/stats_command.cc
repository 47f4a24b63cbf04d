// edgepipe stats show DIR [--split NAME]
// edgepipe schema show DIR|FILE
// edgepipe anomalies show DIR [--split NAME]
// and, without a pipeline (TFDV-style):
// edgepipe stats gen EXAMPLES_DIR OUTPUT_DIR
// edgepipe schema infer STATISTICS_DIR OUTPUT_DIR [--no-shape]
// edgepipe anomalies check STATISTICS_DIR SCHEMA OUTPUT_DIR
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

struct RunFlags {
  std::string a, b, c;
  bool no_shape = false;
};

Status GenStats(const RunFlags& f) {
  components::StatisticsGenOptions options;
  options.examples = f.a;
  options.output = f.b;
  ASSIGN_OR_RETURN(auto summary, components::RunStatisticsGen(options));
  for (size_t i = 0; i < summary.splits.size(); ++i) {
    std::printf("%s: %lld examples -> %s\n", summary.splits[i].c_str(),
                static_cast<long long>(summary.num_examples[i]),
                JoinPath(components::SplitDir(f.b, summary.splits[i]), "FeatureStats.pb").c_str());
  }
  return Status::Ok();
}

Status InferSchema(const RunFlags& f) {
  components::SchemaGenOptions options;
  options.statistics = f.a;
  options.output = f.b;
  options.inference.infer_feature_shape = !f.no_shape;
  ASSIGN_OR_RETURN(auto summary, components::RunSchemaGen(options));
  std::printf("%d features -> %s\n", summary.num_features, summary.schema_path.c_str());
  return Status::Ok();
}

Status CheckAnomalies(const RunFlags& f) {
  components::ExampleValidatorOptions options;
  options.statistics = f.a;
  options.schema = f.b;
  options.output = f.c;
  ASSIGN_OR_RETURN(auto summary, components::RunExampleValidator(options));
  for (const auto& s : summary.splits) {
    std::printf("== split %s: %d anomalies\n", s.split.c_str(), s.num_anomalies);
    for (const auto& line : s.lines) std::printf("  %s\n", line.c_str());
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
  auto flags = std::make_shared<RunFlags>();
  AddShow(app, registry, "stats", "Look at ExampleStatistics artifacts",
          "Summarize the statistics of each split", "ExampleStatistics folder", true, ShowStats);
  AddShow(app, registry, "schema", "Look at Schema artifacts", "Summarize a schema",
          "Schema folder or schema.pbtxt", false, ShowSchema);
  AddShow(app, registry, "anomalies", "Look at ExampleAnomalies artifacts",
          "List the anomalies of each split", "ExampleAnomalies folder", true, ShowAnomalies);

  CLI::App* gen = app.get_subcommand("stats")->add_subcommand(
      "gen", "Compute statistics of an Examples folder (StatisticsGen without a pipeline)");
  gen->add_option("examples", flags->a, "Examples folder")->required();
  gen->add_option("output", flags->b, "ExampleStatistics folder to write")->required();
  gen->callback([flags, &registry] { registry.Set([flags] { return GenStats(*flags); }); });

  CLI::App* infer = app.get_subcommand("schema")->add_subcommand(
      "infer", "Infer a schema from statistics (SchemaGen without a pipeline)");
  infer->add_option("statistics", flags->a, "ExampleStatistics folder")->required();
  infer->add_option("output", flags->b, "Schema folder to write")->required();
  infer->add_flag("--no-shape", flags->no_shape, "value counts instead of fixed shapes");
  infer->callback([flags, &registry] { registry.Set([flags] { return InferSchema(*flags); }); });

  CLI::App* check =
      app.get_subcommand("anomalies")
          ->add_subcommand(
              "check",
              "Validate statistics against a schema (ExampleValidator without a pipeline)");
  check->add_option("statistics", flags->a, "ExampleStatistics folder")->required();
  check->add_option("schema", flags->b, "Schema folder or schema.pbtxt")->required();
  check->add_option("output", flags->c, "ExampleAnomalies folder to write")->required();
  check->callback([flags, &registry] { registry.Set([flags] { return CheckAnomalies(*flags); }); });
}

}  // namespace edgepipe::cli
