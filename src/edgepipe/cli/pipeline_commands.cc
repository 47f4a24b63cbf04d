// edgepipe run PIPELINE [--root DIR] [--metadata PATH] [--no-cache] [--max-parallelism N]
// edgepipe runs list                 (--metadata PATH | --root DIR)
// edgepipe artifacts list [--type T] (--metadata PATH | --root DIR)
// edgepipe artifacts show ID         (--metadata PATH | --root DIR)
// edgepipe lineage ID                (--metadata PATH | --root DIR)
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "edgepipe/cli/commands.h"
#include "edgepipe/pipeline/metadata_store.h"
#include "edgepipe/pipeline/registry.h"
#include "edgepipe/pipeline/runner.h"

namespace edgepipe::cli {
namespace {

using pipeline::ArtifactRecord;
using pipeline::ExecutionRecord;
using pipeline::MetadataStore;

struct StoreFlags {
  std::string metadata;
  std::string root;
};

struct RunFlags {
  std::string pipeline;
  StoreFlags store;
  bool no_cache = false;
  int max_parallelism = 0;
};

struct QueryFlags {
  StoreFlags store;
  std::string type;
  int64_t id = 0;
  int depth = 32;
};

void AddStoreOptions(CLI::App* cmd, StoreFlags& f) {
  cmd->add_option("--metadata", f.metadata, "metadata store file (default <root>/metadata.sqlite)");
  cmd->add_option("--root", f.root, "pipeline root");
}

Result<std::unique_ptr<MetadataStore>> OpenStore(const StoreFlags& f) {
  std::string path = f.metadata;
  if (path.empty() && !f.root.empty()) path = JoinPath(f.root, "metadata.sqlite");
  if (path.empty()) return Status::InvalidArgument("give --metadata PATH or --root DIR");
  return MetadataStore::Open(path, {.create_if_missing = false});
}

std::string FormatTime(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string FormatValue(const pipeline::Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", *d);
    return buf;
  }
  return std::get<std::string>(v);
}

std::string Describe(const ExecutionRecord& e) {
  std::string s = "execution " + std::to_string(e.id) + " " + e.component_id + " (" +
                  e.component_type + ") " + std::string(pipeline::ExecutionStateName(e.state));
  if (e.state == pipeline::ExecutionState::kCached) {
    s += " from execution " + std::to_string(e.cached_from);
  }
  return s;
}

std::string Describe(const ArtifactRecord& a) {
  return "artifact " + std::to_string(a.artifact.id) + " " + a.artifact.type + " " +
         a.artifact.uri + " [" + std::string(pipeline::ArtifactStateName(a.state)) + "]";
}

// --- run ---------------------------------------------------------------------

Status RunRun(const RunFlags& f) {
  ASSIGN_OR_RETURN(pipeline::Pipeline p, pipeline::ResolvePipeline(f.pipeline));
  if (!f.store.root.empty()) p.root = f.store.root;
  if (!f.store.metadata.empty()) p.metadata_path = f.store.metadata;
  pipeline::RunOptions o;
  o.disable_cache = f.no_cache;
  o.max_parallelism = f.max_parallelism;
  ASSIGN_OR_RETURN(pipeline::RunSummary s, pipeline::RunPipeline(p, o));
  std::printf("pipeline %s  run %s  %.2fs\n", s.pipeline_name.c_str(), s.run_id.c_str(), s.seconds);
  std::printf("%-28s %-8s %9s %8s  %s\n", "COMPONENT", "STATUS", "EXECUTION", "SECONDS", "OUTPUTS");
  for (const pipeline::NodeResult& n : s.nodes) {
    std::string outputs;
    for (const auto& [key, list] : n.outputs) {
      for (const pipeline::Artifact& a : list) {
        outputs += (outputs.empty() ? "" : " ") + key + "=" + std::to_string(a.id) + ":" + a.uri;
      }
    }
    std::printf("%-28s %-8s %9lld %8.2f  %s\n", n.component_id.c_str(),
                std::string(pipeline::NodeStatusName(n.status)).c_str(),
                static_cast<long long>(n.execution_id), n.seconds, outputs.c_str());
  }
  std::fflush(stdout);
  return s.status();
}

// --- runs list -----------------------------------------------------------------

Status RunRunsList(const QueryFlags& f) {
  ASSIGN_OR_RETURN(auto store, OpenStore(f.store));
  ASSIGN_OR_RETURN(auto runs, store->GetContexts(pipeline::kRunContext));
  std::printf("%-34s %-16s %-19s %5s %4s %6s %6s %7s %7s\n", "RUN", "PIPELINE", "STARTED (UTC)",
              "EXECS", "RAN", "CACHED", "FAILED", "SKIPPED", "RUNNING");
  for (const pipeline::Context& run : runs) {
    std::string pipeline_name = "-";
    if (run.parent_id != 0) {
      auto parent = store->GetContext(run.parent_id);
      if (parent.ok()) pipeline_name = parent->name;
    }
    ASSIGN_OR_RETURN(auto execs, store->GetExecutionsByContext(run.id));
    std::map<pipeline::ExecutionState, int> n;
    for (const ExecutionRecord& e : execs) ++n[e.state];
    std::printf("%-34s %-16s %-19s %5zu %4d %6d %6d %7d %7d\n", run.name.c_str(),
                pipeline_name.c_str(), FormatTime(run.create_time_ms).c_str(), execs.size(),
                n[pipeline::ExecutionState::kComplete], n[pipeline::ExecutionState::kCached],
                n[pipeline::ExecutionState::kFailed], n[pipeline::ExecutionState::kCanceled],
                n[pipeline::ExecutionState::kRunning] + n[pipeline::ExecutionState::kNew]);
  }
  return Status::Ok();
}

// --- artifacts ---------------------------------------------------------------

Status RunArtifactsList(const QueryFlags& f) {
  ASSIGN_OR_RETURN(auto store, OpenStore(f.store));
  ASSIGN_OR_RETURN(auto artifacts, store->GetArtifacts(f.type));
  std::printf("%6s %-18s %-10s %-28s %s\n", "ID", "TYPE", "STATE", "PRODUCER", "URI");
  for (const ArtifactRecord& a : artifacts) {
    auto producer = store->GetProducer(a.artifact.id);
    std::string by = producer.ok() ? producer->component_id + "#" + std::to_string(producer->id)
                                   : std::string("-");
    std::printf("%6lld %-18s %-10s %-28s %s\n", static_cast<long long>(a.artifact.id),
                a.artifact.type.c_str(), std::string(pipeline::ArtifactStateName(a.state)).c_str(),
                by.c_str(), a.artifact.uri.c_str());
  }
  return Status::Ok();
}

Status RunArtifactsShow(const QueryFlags& f) {
  ASSIGN_OR_RETURN(auto store, OpenStore(f.store));
  ASSIGN_OR_RETURN(ArtifactRecord a, store->GetArtifact(f.id));
  std::printf("artifact %lld\n", static_cast<long long>(a.artifact.id));
  std::printf("  type:     %s\n", a.artifact.type.c_str());
  std::printf("  uri:      %s\n", a.artifact.uri.c_str());
  std::printf("  state:    %s\n", std::string(pipeline::ArtifactStateName(a.state)).c_str());
  std::printf("  created:  %s UTC\n", FormatTime(a.create_time_ms).c_str());
  std::printf("  properties:%s\n", a.artifact.properties.empty() ? " none" : "");
  for (const auto& [name, value] : a.artifact.properties) {
    std::printf("    %s: %s\n", name.c_str(), FormatValue(value).c_str());
  }
  auto producer = store->GetProducer(a.artifact.id);
  std::printf("  producer: %s\n", producer.ok() ? Describe(*producer).c_str() : "none");
  ASSIGN_OR_RETURN(auto consumers, store->GetConsumers(a.artifact.id));
  std::printf("  consumers:%s\n", consumers.empty() ? " none" : "");
  for (const ExecutionRecord& e : consumers) std::printf("    %s\n", Describe(e).c_str());
  return Status::Ok();
}

// --- lineage -------------------------------------------------------------------

// Prints the artifact, the execution that produced it and, recursively, that
// execution's inputs. `seen` stops repeats (an input shared by two branches
// is expanded once).
Status PrintUpstream(MetadataStore& store, int64_t artifact_id, int indent, int depth,
                     std::set<int64_t>& seen) {
  ASSIGN_OR_RETURN(ArtifactRecord a, store.GetArtifact(artifact_id));
  const std::string pad(static_cast<size_t>(indent), ' ');
  std::printf("%s%s\n", pad.c_str(), Describe(a).c_str());
  auto producer = store.GetProducer(artifact_id);
  if (!producer.ok()) {
    if (producer.status().code() == StatusCode::kNotFound) return Status::Ok();
    return producer.status();
  }
  std::printf("%s  <- %s\n", pad.c_str(), Describe(*producer).c_str());
  if (!seen.insert(producer->id).second) {
    std::printf("%s     (inputs shown above)\n", pad.c_str());
    return Status::Ok();
  }
  if (depth <= 0) {
    std::printf("%s     ...\n", pad.c_str());
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto inputs,
                   store.GetExecutionArtifacts(producer->id, pipeline::EventType::kInput));
  for (const auto& [key, list] : inputs) {
    for (const pipeline::Artifact& in : list) {
      std::printf("%s     %s:\n", pad.c_str(), key.c_str());
      RETURN_IF_ERROR(PrintUpstream(store, in.id, indent + 7, depth - 1, seen));
    }
  }
  return Status::Ok();
}

Status RunLineage(const QueryFlags& f) {
  ASSIGN_OR_RETURN(auto store, OpenStore(f.store));
  std::printf("produced by:\n");
  std::set<int64_t> seen;
  RETURN_IF_ERROR(PrintUpstream(*store, f.id, 2, f.depth, seen));
  ASSIGN_OR_RETURN(auto events, store->GetEventsByArtifact(f.id));
  std::vector<pipeline::Event> uses;
  for (const pipeline::Event& ev : events) {
    if (ev.type == pipeline::EventType::kInput) uses.push_back(ev);
  }
  std::printf("used by:%s\n", uses.empty() ? " none" : "");
  for (const pipeline::Event& ev : uses) {
    ASSIGN_OR_RETURN(ExecutionRecord e, store->GetExecution(ev.execution_id));
    std::printf("  %s as input %s\n", Describe(e).c_str(), ev.key.c_str());
    ASSIGN_OR_RETURN(auto outputs,
                     store->GetExecutionArtifacts(e.id, pipeline::EventType::kOutput));
    for (const auto& [key, list] : outputs) {
      for (const pipeline::Artifact& out : list) {
        std::printf("    -> %s: artifact %lld %s %s\n", key.c_str(), static_cast<long long>(out.id),
                    out.type.c_str(), out.uri.c_str());
      }
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterPipelineCommands(CLI::App& app, CommandRegistry& registry) {
  auto run_flags = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand(
      "run", "Run a pipeline: a built-in pipeline's name or the path of a pipeline .so");
  run->add_option("pipeline", run_flags->pipeline, "pipeline name or path/to/pipeline.so")
      ->required();
  AddStoreOptions(run, run_flags->store);
  run->add_flag("--no-cache", run_flags->no_cache, "run every component, even unchanged ones");
  run->add_option("--max-parallelism", run_flags->max_parallelism,
                  "components run at once at most (default: machine threads)");
  run->callback(
      [run_flags, &registry] { registry.Set([run_flags] { return RunRun(*run_flags); }); });

  CLI::App* runs = app.add_subcommand("runs", "Pipeline runs recorded in a metadata store");
  runs->require_subcommand(1);
  auto runs_flags = std::make_shared<QueryFlags>();
  CLI::App* runs_list = runs->add_subcommand("list", "List runs with their execution counts");
  AddStoreOptions(runs_list, runs_flags->store);
  runs_list->callback(
      [runs_flags, &registry] { registry.Set([runs_flags] { return RunRunsList(*runs_flags); }); });

  CLI::App* artifacts = app.add_subcommand("artifacts", "Artifacts recorded in a metadata store");
  artifacts->require_subcommand(1);
  auto list_flags = std::make_shared<QueryFlags>();
  CLI::App* list = artifacts->add_subcommand("list", "List artifacts");
  AddStoreOptions(list, list_flags->store);
  list->add_option("--type", list_flags->type, "only this artifact type (e.g. Model)");
  list->callback([list_flags, &registry] {
    registry.Set([list_flags] { return RunArtifactsList(*list_flags); });
  });
  auto show_flags = std::make_shared<QueryFlags>();
  CLI::App* show = artifacts->add_subcommand(
      "show", "Show an artifact: type, uri, properties, producer, consumers");
  show->add_option("id", show_flags->id, "artifact id")->required();
  AddStoreOptions(show, show_flags->store);
  show->callback([show_flags, &registry] {
    registry.Set([show_flags] { return RunArtifactsShow(*show_flags); });
  });

  auto lineage_flags = std::make_shared<QueryFlags>();
  CLI::App* lineage = app.add_subcommand(
      "lineage", "What produced an artifact (recursively, with inputs) and what used it");
  lineage->add_option("id", lineage_flags->id, "artifact id")->required();
  AddStoreOptions(lineage, lineage_flags->store);
  lineage->add_option("--depth", lineage_flags->depth, "levels of producers to show")
      ->capture_default_str();
  lineage->callback([lineage_flags, &registry] {
    registry.Set([lineage_flags] { return RunLineage(*lineage_flags); });
  });
}

}  // namespace edgepipe::cli
