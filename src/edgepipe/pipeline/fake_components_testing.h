// Tiny components for the pipeline layer's tests: "Concat" reads data.txt of
// each input artifact, appends its `suffix` parameter and writes the result
// to its output's data.txt. Knobs: `fail` (1 = write a partial output, then
// fail), `sleep_ms`, `hold_file` (wait while that file exists), `marker`
// (a file written when Do() starts), `module` (an is_file parameter).
// Every Do() is recorded in a process-wide Trace. Test-only.
#ifndef EDGEPIPE_PIPELINE_FAKE_COMPONENTS_TESTING_H_
#define EDGEPIPE_PIPELINE_FAKE_COMPONENTS_TESTING_H_

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::pipeline::testing {

// Starts and ends of executions, in order, and the peak concurrency.
struct Trace {
  std::mutex mu;
  std::vector<std::string> events;  // "start:<id>", "end:<id>"
  int running = 0;
  int max_running = 0;

  void Start(const std::string& id) {
    std::lock_guard lock(mu);
    events.push_back("start:" + id);
    max_running = std::max(max_running, ++running);
  }
  void End(const std::string& id) {
    std::lock_guard lock(mu);
    events.push_back("end:" + id);
    --running;
  }
  void Clear() {
    std::lock_guard lock(mu);
    events.clear();
    running = max_running = 0;
  }
  // Index of an event, or -1.
  int IndexOf(const std::string& event) {
    std::lock_guard lock(mu);
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i] == event) return static_cast<int>(i);
    }
    return -1;
  }
  int Count(const std::string& prefix) {
    std::lock_guard lock(mu);
    int n = 0;
    for (const std::string& e : events) n += e.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
};

inline Trace& GlobalTrace() {
  static Trace* trace = new Trace();
  return *trace;
}

inline ComponentSpec ConcatSpec(int num_inputs, std::string version = "1") {
  ComponentSpec spec;
  spec.type = "Concat";
  spec.executor_version = std::move(version);
  spec.params = {
      {"suffix", ParamType::kString, false, Value(std::string()), false},
      {"fail", ParamType::kInt, false, Value(int64_t{0}), false},
      {"sleep_ms", ParamType::kInt, false, Value(int64_t{0}), false},
      {"hold_file", ParamType::kString, false, Value(std::string()), false},
      {"marker", ParamType::kString, false, Value(std::string()), false},
      {"module", ParamType::kString, false, Value(std::string()), true},
      {"weight", ParamType::kDouble, false, Value(1.0), false},
  };
  for (int i = 0; i < num_inputs; ++i) {
    spec.inputs.push_back({"in" + std::to_string(i), std::string(artifact_type::kExamples), false});
  }
  spec.outputs.push_back({"out", std::string(artifact_type::kExamples), false});
  return spec;
}

class ConcatExecutor : public Executor {
 public:
  Status Do(ExecutionContext& ctx) override {
    GlobalTrace().Start(ctx.component_id);
    Status s = Work(ctx);
    GlobalTrace().End(ctx.component_id);
    return s;
  }

 private:
  static Status Work(ExecutionContext& ctx) {
    const std::string marker = std::get<std::string>(ctx.params.at("marker"));
    if (!marker.empty()) RETURN_IF_ERROR(WriteFileAtomic(marker, "started", ctx.env));
    const int64_t sleep_ms = std::get<int64_t>(ctx.params.at("sleep_ms"));
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
    const std::string hold = std::get<std::string>(ctx.params.at("hold_file"));
    while (!hold.empty() && ctx.env->Exists(hold)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::string data;
    for (const auto& [key, list] : ctx.inputs) {
      for (const Artifact& a : list) {
        ASSIGN_OR_RETURN(std::string part, ReadFileToString(JoinPath(a.uri, "data.txt"), ctx.env));
        data += part;
      }
    }
    data += std::get<std::string>(ctx.params.at("suffix"));
    Artifact& out = ctx.outputs.at("out").at(0);
    if (ctx.progress) ctx.progress(0.5, "halfway");
    if (std::get<int64_t>(ctx.params.at("fail")) != 0) {
      RETURN_IF_ERROR(WriteFileAtomic(JoinPath(out.uri, "partial.txt"), data, ctx.env));
      return Status::InvalidArgument("data.txt: suffix \"" +
                                     std::get<std::string>(ctx.params.at("suffix")) +
                                     "\": told to fail");
    }
    RETURN_IF_ERROR(WriteFileAtomic(JoinPath(out.uri, "data.txt"), data, ctx.env));
    out.properties["bytes"] = static_cast<int64_t>(data.size());
    return Status::Ok();
  }
};

// A Concat node with the given inputs (in0, in1, ... in order).
inline Node Concat(const std::string& id, const std::vector<Channel>& inputs, Params params = {},
                   std::string version = "1") {
  std::map<std::string, Channel, std::less<>> in;
  for (size_t i = 0; i < inputs.size(); ++i) in["in" + std::to_string(i)] = inputs[i];
  Node node(
      ConcatSpec(static_cast<int>(inputs.size()), std::move(version)),
      [] { return std::make_unique<ConcatExecutor>(); }, std::move(params), std::move(in));
  node.WithId(id);
  return node;
}

}  // namespace edgepipe::pipeline::testing

#endif  // EDGEPIPE_PIPELINE_FAKE_COMPONENTS_TESTING_H_
