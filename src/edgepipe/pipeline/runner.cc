#include "edgepipe/pipeline/runner.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include "edgepipe/core/thread_pool.h"
#include "edgepipe/pipeline/cache.h"
#include "edgepipe/pipeline/metadata_store.h"

namespace edgepipe::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A node of the validated plan.
struct PlanNode {
  const NodeData* data = nullptr;
  Params params;             // resolved
  std::vector<size_t> deps;  // producers (indices into Plan::nodes), unique
  std::vector<size_t> dependents;
};

struct Plan {
  std::vector<PlanNode> nodes;  // in the pipeline's order
  std::vector<size_t> order;    // topological
};

bool ValidId(std::string_view id) {
  if (id.empty() || id == "." || id == "..") return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Keys(const std::vector<ChannelSpec>& channels) {
  std::string out;
  for (const ChannelSpec& c : channels) out += (out.empty() ? "" : ", ") + c.key;
  return out.empty() ? "none" : out;
}

Result<Plan> BuildPlan(const Pipeline& p) {
  const std::string where = "pipeline \"" + p.name + "\"";
  Plan plan;
  std::map<const NodeData*, size_t> index;
  std::set<std::string, std::less<>> ids;
  for (const Node& node : p.components) {
    const NodeData* d = node.data().get();
    if (d == nullptr) return Status::InvalidArgument(where + ": a component is empty");
    if (!ValidId(d->id)) {
      return Status::InvalidArgument(where + ": component id \"" + d->id +
                                     "\" must be non-empty and use only letters, digits, '.', "
                                     "'_' and '-' (it names a folder)");
    }
    if (!ids.insert(d->id).second) {
      return Status::InvalidArgument(where + ": component id \"" + d->id +
                                     "\" is used twice; give one a different WithId()");
    }
    if (!d->make_executor) {
      return Status::InvalidArgument(d->id + ": component has no executor factory");
    }
    index[d] = plan.nodes.size();
    plan.nodes.push_back(PlanNode{d, {}, {}, {}});
  }
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    PlanNode& n = plan.nodes[i];
    const NodeData& d = *n.data;
    for (const auto& [key, channel] : d.inputs) {
      const ChannelSpec* in = nullptr;
      for (const ChannelSpec& c : d.spec.inputs) {
        if (c.key == key) in = &c;
      }
      if (in == nullptr) {
        return Status::InvalidArgument(d.id + ": \"" + key + "\" is not an input of " +
                                       d.spec.type + " (inputs: " + Keys(d.spec.inputs) + ")");
      }
      auto it = index.find(channel.producer.get());
      if (channel.producer == nullptr || it == index.end()) {
        return Status::InvalidArgument(
            d.id + ": input \"" + key + "\" comes from component \"" +
            (channel.producer ? channel.producer->id : std::string("(none)")) +
            "\", which is not a component of " + where);
      }
      const NodeData& producer = *channel.producer;
      const ChannelSpec* out = nullptr;
      for (const ChannelSpec& c : producer.spec.outputs) {
        if (c.key == channel.key) out = &c;
      }
      if (out == nullptr) {
        return Status::InvalidArgument(d.id + ": input \"" + key + "\": " + producer.id +
                                       " has no output \"" + channel.key +
                                       "\" (outputs: " + Keys(producer.spec.outputs) + ")");
      }
      if (out->type != in->type) {
        return Status::InvalidArgument(d.id + ": input \"" + key + "\" must be " + in->type +
                                       ", but " + producer.id + ".outputs[\"" + channel.key +
                                       "\"] is " + out->type);
      }
      if (it->second == i) {
        return Status::InvalidArgument(d.id + ": input \"" + key + "\" is its own output");
      }
      bool seen = false;
      for (size_t dep : n.deps) seen = seen || dep == it->second;
      if (!seen) n.deps.push_back(it->second);
    }
    for (const ChannelSpec& c : d.spec.inputs) {
      if (!c.optional && d.inputs.find(c.key) == d.inputs.end()) {
        return Status::InvalidArgument(d.id + ": required input \"" + c.key + "\" (" + c.type +
                                       ") is not connected");
      }
    }
    ASSIGN_OR_RETURN(n.params, ResolveParams(d.spec, d.params, d.id));
  }
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    for (size_t dep : plan.nodes[i].deps) plan.nodes[dep].dependents.push_back(i);
  }
  // Kahn's algorithm, ties broken by the pipeline's order.
  std::vector<size_t> remaining(plan.nodes.size());
  for (size_t i = 0; i < plan.nodes.size(); ++i) remaining[i] = plan.nodes[i].deps.size();
  std::vector<bool> placed(plan.nodes.size(), false);
  while (plan.order.size() < plan.nodes.size()) {
    bool progress = false;
    for (size_t i = 0; i < plan.nodes.size(); ++i) {
      if (placed[i] || remaining[i] != 0) continue;
      placed[i] = true;
      progress = true;
      plan.order.push_back(i);
      for (size_t dep : plan.nodes[i].dependents) --remaining[dep];
    }
    if (!progress) {
      std::string cycle;
      for (size_t i = 0; i < plan.nodes.size(); ++i) {
        if (!placed[i]) cycle += (cycle.empty() ? "" : ", ") + plan.nodes[i].data->id;
      }
      return Status::InvalidArgument(where + ": components form a cycle: " + cycle);
    }
  }
  return plan;
}

// Serializes log lines from worker threads.
class Log {
 public:
  explicit Log(FILE* out) : out_(out) {}
  void Line(const std::string& line) {
    if (out_ == nullptr) return;
    std::lock_guard lock(mu_);
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }

 private:
  FILE* out_;
  std::mutex mu_;
};

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2fs", s);
  return buf;
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0) return false;
  if (pid == static_cast<int64_t>(::getpid())) return true;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

// Marks executions left RUNNING by dead processes FAILED, their outputs
// ABANDONED, and removes their unpublished folders.
Status RecoverAbandoned(MetadataStore& store, Env* env, Log& log) {
  ASSIGN_OR_RETURN(std::vector<ExecutionRecord> unfinished, store.GetUnfinishedExecutions());
  for (ExecutionRecord& e : unfinished) {
    if (ProcessAlive(e.pid)) continue;
    ASSIGN_OR_RETURN(std::vector<Event> events, store.GetEventsByExecution(e.id));
    std::vector<ArtifactRecord> outputs;
    for (const Event& ev : events) {
      if (ev.type != EventType::kOutput) continue;
      ASSIGN_OR_RETURN(ArtifactRecord r, store.GetArtifact(ev.artifact_id));
      if (r.state == ArtifactState::kPending) outputs.push_back(std::move(r));
    }
    for (const ArtifactRecord& r : outputs) {
      RETURN_IF_ERROR(env->RemoveAll(r.artifact.uri + ".tmp"));
      RETURN_IF_ERROR(env->RemoveAll(r.artifact.uri));
    }
    e.state = ExecutionState::kFailed;
    e.end_time_ms = NowMillis();
    e.error = "abandoned: process " + std::to_string(e.pid) + " ended while running it";
    Status tx = store.Transaction([&]() -> Status {
      for (const ArtifactRecord& r : outputs) {
        RETURN_IF_ERROR(store.UpdateArtifact(r.artifact, ArtifactState::kAbandoned));
      }
      return store.UpdateExecution(e);
    });
    RETURN_IF_ERROR(tx);
    log.Line(e.component_id + ": execution " + std::to_string(e.id) + " of process " +
             std::to_string(e.pid) + " was abandoned; marked FAILED");
  }
  return Status::Ok();
}

std::string DefaultRunId() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ-%d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ms), static_cast<int>(::getpid()));
  return buf;
}

// Everything one run shares between the coordinator and the workers.
struct RunState {
  const Pipeline* pipeline = nullptr;
  const Plan* plan = nullptr;
  std::string root;  // absolute
  MetadataStore* store = nullptr;
  Env* env = nullptr;
  bool cache = true;
  int64_t pipeline_context = 0;
  int64_t run_context = 0;
  Log* log = nullptr;
  std::vector<NodeResult> results;  // by plan index
};

// Records the execution's events and contexts (inside a transaction).
Status RecordLinks(RunState& rs, int64_t execution_id, const ArtifactMap& artifacts,
                   EventType type) {
  for (const auto& [key, list] : artifacts) {
    for (size_t i = 0; i < list.size(); ++i) {
      Event ev;
      ev.artifact_id = list[i].id;
      ev.execution_id = execution_id;
      ev.type = type;
      ev.key = key;
      ev.index = static_cast<int>(i);
      RETURN_IF_ERROR(rs.store->PutEvent(ev).status());
      if (type == EventType::kOutput) {
        RETURN_IF_ERROR(rs.store->Attribute(rs.pipeline_context, list[i].id));
        RETURN_IF_ERROR(rs.store->Attribute(rs.run_context, list[i].id));
      }
    }
  }
  RETURN_IF_ERROR(rs.store->Associate(rs.pipeline_context, execution_id));
  return rs.store->Associate(rs.run_context, execution_id);
}

ExecutionRecord NewExecution(const NodeData& d, const Params& params, ExecutionState state,
                             const std::string& cache_key) {
  ExecutionRecord e;
  e.component_id = d.id;
  e.component_type = d.spec.type;
  e.parameters = params;
  e.state = state;
  e.start_time_ms = NowMillis();
  e.cache_key = cache_key;
  e.pid = ::getpid();
  return e;
}

// Runs the executor of a RUNNING execution with staged outputs; publishes on
// success. Returns the executor's (or publishing's) error.
Status ExecuteAndPublish(RunState& rs, const PlanNode& n, ExecutionRecord& e,
                         const ArtifactMap& inputs, ArtifactMap& outputs) {
  const NodeData& d = *n.data;
  ExecutionContext ctx;
  ctx.component_id = d.id;
  ctx.execution_id = e.id;
  ctx.pipeline_root = rs.root;
  ctx.inputs = inputs;
  ctx.params = n.params;
  ctx.env = rs.env;
  ctx.outputs = outputs;
  for (auto& [key, list] : ctx.outputs) {
    for (Artifact& a : list) {
      a.uri += ".tmp";
      RETURN_IF_ERROR(rs.env->RemoveAll(a.uri));
      RETURN_IF_ERROR(rs.env->CreateDirs(a.uri));
    }
  }
  // The first report is shown at once, later ones at most once a second.
  auto last = std::make_shared<Clock::time_point>(Clock::now() - std::chrono::seconds(10));
  auto progress_mu = std::make_shared<std::mutex>();
  Log* log = rs.log;
  std::string id = d.id;
  ctx.progress = [log, id, last, progress_mu](double fraction, std::string_view what) {
    std::lock_guard lock(*progress_mu);
    if (SecondsSince(*last) < 1.0 && fraction < 1.0) return;
    *last = Clock::now();
    std::string line = id + ": ";
    if (fraction >= 0) line += std::to_string(static_cast<int>(fraction * 100 + 0.5)) + "% ";
    line += what;
    log->Line(line);
  };
  std::unique_ptr<Executor> executor = d.make_executor();
  if (executor == nullptr) return Status::Internal("the executor factory returned null");
  Status s;
  try {
    s = executor->Do(ctx);
  } catch (const std::exception& ex) {
    s = Status::Internal(std::string("executor threw: ") + ex.what());
  } catch (...) {
    s = Status::Internal("executor threw a non-standard exception");
  }
  RETURN_IF_ERROR(s);
  // Publish: each staged folder must still be there; rename it into place.
  for (auto& [key, list] : outputs) {
    auto staged = ctx.outputs.find(key);
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string staging = list[i].uri + ".tmp";
      if (!rs.env->IsDirectory(staging)) {
        return Status::DataLoss("output \"" + key + "\": staging folder " + staging +
                                " disappeared during Do()");
      }
      if (staged != ctx.outputs.end() && i < staged->second.size()) {
        list[i].properties = staged->second[i].properties;
      }
      RETURN_IF_ERROR(rs.env->RemoveAll(list[i].uri));
      RETURN_IF_ERROR(rs.env->Rename(staging, list[i].uri));
      RETURN_IF_ERROR(rs.env->SyncDir(Dirname(list[i].uri)));
    }
  }
  e.state = ExecutionState::kComplete;
  e.end_time_ms = NowMillis();
  return rs.store->Transaction([&]() -> Status {
    for (const auto& [key, list] : outputs) {
      for (const Artifact& a : list) {
        RETURN_IF_ERROR(rs.store->UpdateArtifact(a, ArtifactState::kLive));
      }
    }
    return rs.store->UpdateExecution(e);
  });
}

// Runs one component whose producers all succeeded. Thread-safe per node.
NodeResult RunNode(RunState& rs, size_t index) {
  const Clock::time_point start = Clock::now();
  const PlanNode& n = rs.plan->nodes[index];
  const NodeData& d = *n.data;
  NodeResult r;
  r.component_id = d.id;
  auto fail = [&](const Status& s) {
    r.status = NodeStatus::kFailed;
    r.error = s.WithContext(d.id);
    r.seconds = SecondsSince(start);
    r.outputs.clear();
    rs.log->Line(d.id + ": FAILED after " + FormatSeconds(r.seconds) + ": " + s.message());
    return r;
  };
  ArtifactMap inputs;
  for (const auto& [key, channel] : d.inputs) {
    size_t producer = 0;
    for (size_t dep : n.deps) {
      if (rs.plan->nodes[dep].data == channel.producer.get()) producer = dep;
    }
    const NodeResult& pr = rs.results[producer];
    auto it = pr.outputs.find(channel.key);
    if (it == pr.outputs.end()) {
      return fail(Status::NotFound("input \"" + key + "\": " + channel.producer->id +
                                   " produced no \"" + channel.key + "\""));
    }
    inputs[key] = it->second;
  }
  for (const auto& [key, list] : inputs) {
    for (const Artifact& a : list) {
      if (!rs.env->IsDirectory(a.uri)) {
        return fail(Status::NotFound("input \"" + key + "\" (artifact " + std::to_string(a.id) +
                                     "): folder " + a.uri + " is missing"));
      }
    }
  }
  auto key = ComputeCacheKey(d.spec, d.id, n.params, inputs, rs.env);
  if (!key.ok()) return fail(key.status());

  if (rs.cache) {
    auto hit = LookupCache(*rs.store, *key, rs.env);
    if (!hit.ok()) return fail(hit.status());
    if (hit->has_value()) {
      CacheHit& h = **hit;
      ExecutionRecord e = NewExecution(d, n.params, ExecutionState::kCached, *key);
      e.cached_from = h.execution_id;
      e.end_time_ms = NowMillis();
      Status s = rs.store->Transaction([&]() -> Status {
        ASSIGN_OR_RETURN(e.id, rs.store->PutExecution(e));
        RETURN_IF_ERROR(RecordLinks(rs, e.id, inputs, EventType::kInput));
        return RecordLinks(rs, e.id, h.outputs, EventType::kOutput);
      });
      if (!s.ok()) return fail(s);
      r.status = NodeStatus::kCached;
      r.execution_id = e.id;
      r.outputs = std::move(h.outputs);
      r.seconds = SecondsSince(start);
      rs.log->Line(d.id + ": cached (execution " + std::to_string(e.id) + " reuses execution " +
                   std::to_string(h.execution_id) + ")");
      return r;
    }
  }

  ExecutionRecord e = NewExecution(d, n.params, ExecutionState::kRunning, *key);
  ArtifactMap outputs;
  Status s = rs.store->Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(e.id, rs.store->PutExecution(e));
    for (const ChannelSpec& out : d.spec.outputs) {
      Artifact a;
      a.type = out.type;
      a.uri = JoinPath(JoinPath(JoinPath(rs.root, d.id), out.key), std::to_string(e.id));
      ASSIGN_OR_RETURN(a.id, rs.store->PutArtifact(a, ArtifactState::kPending));
      outputs[out.key].push_back(std::move(a));
    }
    RETURN_IF_ERROR(RecordLinks(rs, e.id, inputs, EventType::kInput));
    return RecordLinks(rs, e.id, outputs, EventType::kOutput);
  });
  if (!s.ok()) return fail(s);
  r.execution_id = e.id;
  rs.log->Line(d.id + ": running (execution " + std::to_string(e.id) + ")");
  s = ExecuteAndPublish(rs, n, e, inputs, outputs);
  if (!s.ok()) {
    // Nothing of a failed execution stays published.
    for (const auto& [k, list] : outputs) {
      for (const Artifact& a : list) {
        rs.env->RemoveAll(a.uri + ".tmp").IgnoreError();
        rs.env->RemoveAll(a.uri).IgnoreError();
      }
    }
    e.state = ExecutionState::kFailed;
    e.end_time_ms = NowMillis();
    e.error = s.ToString();
    Status rec = rs.store->Transaction([&]() -> Status {
      for (const auto& [k, list] : outputs) {
        for (const Artifact& a : list) {
          RETURN_IF_ERROR(rs.store->UpdateArtifact(a, ArtifactState::kAbandoned));
        }
      }
      return rs.store->UpdateExecution(e);
    });
    if (!rec.ok()) {
      rs.log->Line(d.id + ": could not record the failure: " + rec.ToString());
    }
    return fail(s);
  }
  r.status = NodeStatus::kRan;
  r.outputs = std::move(outputs);
  r.seconds = SecondsSince(start);
  rs.log->Line(d.id + ": done in " + FormatSeconds(r.seconds));
  return r;
}

// Records a component skipped because `upstream` failed or was skipped.
NodeResult SkipNode(RunState& rs, size_t index, const std::string& upstream) {
  const PlanNode& n = rs.plan->nodes[index];
  NodeResult r;
  r.component_id = n.data->id;
  r.status = NodeStatus::kSkipped;
  r.error = Status::Cancelled(n.data->id + ": skipped because " + upstream + " did not complete");
  ExecutionRecord e = NewExecution(*n.data, n.params, ExecutionState::kCanceled, "");
  e.end_time_ms = e.start_time_ms;
  e.error = r.error.message();
  Status s = rs.store->Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(e.id, rs.store->PutExecution(e));
    return RecordLinks(rs, e.id, {}, EventType::kInput);
  });
  if (s.ok()) r.execution_id = e.id;
  rs.log->Line(n.data->id + ": skipped (" + upstream + " did not complete)");
  return r;
}

}  // namespace

std::string_view NodeStatusName(NodeStatus s) {
  switch (s) {
    case NodeStatus::kRan:
      return "ran";
    case NodeStatus::kCached:
      return "cached";
    case NodeStatus::kFailed:
      return "failed";
    case NodeStatus::kSkipped:
      return "skipped";
  }
  return "?";
}

Status RunSummary::status() const {
  for (const NodeResult& n : nodes) {
    if (n.status == NodeStatus::kFailed) return n.error;
  }
  for (const NodeResult& n : nodes) {
    if (n.status == NodeStatus::kSkipped) return n.error;
  }
  return Status::Ok();
}

const NodeResult* RunSummary::Find(std::string_view component_id) const {
  for (const NodeResult& n : nodes) {
    if (n.component_id == component_id) return &n;
  }
  return nullptr;
}

Status ValidatePipeline(const Pipeline& pipeline) { return BuildPlan(pipeline).status(); }

Result<RunSummary> RunPipeline(const Pipeline& pipeline, const RunOptions& options) {
  const Clock::time_point start = Clock::now();
  if (pipeline.name.empty()) return Status::InvalidArgument("pipeline: name is empty");
  if (pipeline.root.empty()) {
    return Status::InvalidArgument("pipeline \"" + pipeline.name + "\": root is empty");
  }
  ASSIGN_OR_RETURN(Plan plan, BuildPlan(pipeline));
  Env* env = options.env != nullptr ? options.env : Env::Default();
  std::error_code ec;
  const std::string root = std::filesystem::absolute(pipeline.root, ec).lexically_normal().string();
  if (ec) return Status::IoError(pipeline.root + ": " + ec.message());
  RETURN_IF_ERROR(env->CreateDirs(root));
  ASSIGN_OR_RETURN(auto store, MetadataStore::Open(MetadataPathOf(pipeline)));
  Log log(options.log);
  RETURN_IF_ERROR(RecoverAbandoned(*store, env, log));

  RunSummary summary;
  summary.pipeline_name = pipeline.name;
  summary.run_id = options.run_id.empty() ? DefaultRunId() : options.run_id;
  RunState rs;
  rs.pipeline = &pipeline;
  rs.plan = &plan;
  rs.root = root;
  rs.store = store.get();
  rs.env = env;
  rs.cache = pipeline.enable_cache && !options.disable_cache;
  rs.log = &log;
  rs.results.resize(plan.nodes.size());
  ASSIGN_OR_RETURN(rs.pipeline_context, store->PutContext(kPipelineContext, pipeline.name));
  ASSIGN_OR_RETURN(rs.run_context,
                   store->PutContext(kRunContext, summary.run_id, rs.pipeline_context));
  summary.run_context_id = rs.run_context;
  log.Line("pipeline \"" + pipeline.name + "\": run " + summary.run_id + ", " +
           std::to_string(plan.nodes.size()) + " components, cache " + (rs.cache ? "on" : "off"));

  const int threads =
      options.max_parallelism > 0 ? options.max_parallelism : ThreadPool::MachineThreads();
  std::mutex mu;
  std::condition_variable cv;
  std::deque<size_t> finished;  // guarded by mu
  std::vector<size_t> waiting(plan.nodes.size());
  for (size_t i = 0; i < plan.nodes.size(); ++i) waiting[i] = plan.nodes[i].deps.size();
  size_t done = 0;
  {
    ThreadPool pool(threads);
    auto launch = [&](size_t i) {
      pool.Schedule([&, i] {
        NodeResult r = RunNode(rs, i);
        std::lock_guard lock(mu);
        rs.results[i] = std::move(r);
        finished.push_back(i);
        cv.notify_one();
      });
    };
    for (size_t i : plan.order) {
      if (waiting[i] == 0) launch(i);
    }
    // Completes `i`: releases its dependents, skipping those of a failed one.
    std::deque<size_t> completions;
    while (done < plan.nodes.size()) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !finished.empty(); });
        completions.insert(completions.end(), finished.begin(), finished.end());
        finished.clear();
      }
      while (!completions.empty()) {
        const size_t i = completions.front();
        completions.pop_front();
        ++done;
        for (size_t dep : plan.nodes[i].dependents) {
          if (--waiting[dep] != 0) continue;
          std::string bad;
          for (size_t up : plan.nodes[dep].deps) {
            const NodeStatus st = rs.results[up].status;
            if (bad.empty() && st != NodeStatus::kRan && st != NodeStatus::kCached) {
              bad = plan.nodes[up].data->id;
            }
          }
          if (bad.empty()) {
            launch(dep);
          } else {
            rs.results[dep] = SkipNode(rs, dep, bad);
            completions.push_back(dep);
          }
        }
      }
    }
  }
  for (size_t i : plan.order) summary.nodes.push_back(std::move(rs.results[i]));
  summary.seconds = SecondsSince(start);
  int counts[4] = {0, 0, 0, 0};
  for (const NodeResult& n : summary.nodes) ++counts[static_cast<int>(n.status)];
  log.Line("pipeline \"" + pipeline.name + "\": " + std::to_string(counts[0]) + " ran, " +
           std::to_string(counts[1]) + " cached, " + std::to_string(counts[2]) + " failed, " +
           std::to_string(counts[3]) + " skipped in " + FormatSeconds(summary.seconds));
  return summary;
}

}  // namespace edgepipe::pipeline
