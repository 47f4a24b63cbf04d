// Components as the runner sees them: a ComponentSpec (typed parameters,
// input and output channels, executor version), an Executor that does the
// work on artifact folders, and the DSL node a pipeline is built from (TFX's
// `StatisticsGen(examples=example_gen.outputs['examples']).with_id(...)`).
//
// Artifacts are immutable folders at
//   <pipeline_root>/<component_id>/<output_key>/<execution_id>/
// The runner creates each output folder (empty) before Do() and publishes it
// only after Do() succeeded; an executor writes only inside its outputs'
// folders and never modifies its inputs.
#ifndef EDGEPIPE_PIPELINE_COMPONENT_H_
#define EDGEPIPE_PIPELINE_COMPONENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"

namespace edgepipe::pipeline {

// TFX's artifact type names.
namespace artifact_type {
inline constexpr std::string_view kExamples = "Examples";
inline constexpr std::string_view kExampleStatistics = "ExampleStatistics";
inline constexpr std::string_view kSchema = "Schema";
inline constexpr std::string_view kExampleAnomalies = "ExampleAnomalies";
inline constexpr std::string_view kTransformGraph = "TransformGraph";
inline constexpr std::string_view kModel = "Model";
inline constexpr std::string_view kModelRun = "ModelRun";
inline constexpr std::string_view kModelEvaluation = "ModelEvaluation";
inline constexpr std::string_view kModelBlessing = "ModelBlessing";
inline constexpr std::string_view kPushedModel = "PushedModel";
}  // namespace artifact_type

// Artifact and execution property values. bool is not a separate kind:
// booleans are int 0/1, as in ML Metadata.
using Value = std::variant<int64_t, double, std::string>;
using Properties = std::map<std::string, Value, std::less<>>;

struct Artifact {
  int64_t id = 0;         // metadata store id; 0 until published
  std::string type;       // an artifact_type name
  std::string uri;        // the artifact's folder (absolute or root-relative)
  Properties properties;  // e.g. "split_names" = "[\"train\",\"eval\"]", "blessed" = 1
};

// Artifacts by channel key ("examples", "schema", ...).
using ArtifactMap = std::map<std::string, std::vector<Artifact>, std::less<>>;

// Component parameters (TFX's exec_properties).
enum class ParamType { kInt, kDouble, kString };
using Params = std::map<std::string, Value, std::less<>>;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kString;
  bool required = false;
  std::optional<Value> default_value;
  // A path to a file (e.g. a Trainer module) whose CONTENT is part of the
  // cache key, not just its name.
  bool is_file = false;
};

struct ChannelSpec {
  std::string key;   // "examples"
  std::string type;  // an artifact_type name
  bool optional = false;
};

struct ComponentSpec {
  std::string type;  // "StatisticsGen"
  std::vector<ParamSpec> params;
  std::vector<ChannelSpec> inputs;
  std::vector<ChannelSpec> outputs;
  // Bumped when the executor's output for the same inputs changes; part of
  // the cache key.
  std::string executor_version = "1";
  // Optional extra cache-key material computed from the resolved params when
  // the key is computed (cache.h), for what the params name but do not hold:
  // e.g. Transform's fingerprint of the code behind a preprocessing_fn name.
  // Must be deterministic and thread-safe; an error fails the execution.
  std::function<Result<std::string>(const Params& params)> cache_fingerprint;
};

// Checks `params` against `spec`: unknown names, wrong types, missing required
// ones. Errors name the component id, the parameter, its value and type.
Status ValidateParams(const ComponentSpec& spec, const Params& params,
                      std::string_view component_id);

// ValidateParams after filling in defaults and widening int values of double
// parameters to double: the parameters an executor sees.
Result<Params> ResolveParams(const ComponentSpec& spec, const Params& params,
                             std::string_view component_id);

// "int" | "double" | "string".
std::string_view ParamTypeName(ParamType type);

// What an executor gets. Output artifacts have their type and uri set and
// their folder exists and is empty; the executor may set output properties.
// The runner (runner.h) hands out a staging folder as the output uri
// (`<final uri>.tmp`) and renames it to the final uri after Do() succeeded,
// so an executor must not write its own output uri into its files.
struct ExecutionContext {
  std::string component_id;  // "Trainer.mnist_lite"
  int64_t execution_id = 0;
  std::string pipeline_root;
  ArtifactMap inputs;
  ArtifactMap outputs;
  Params params;  // validated, defaults filled in
  Env* env = Env::Default();
  // Progress for long work; fraction in [0, 1] or < 0 when unknown. May be
  // empty; set by the runner. Thread-safe to call from the executor's thread.
  std::function<void(double fraction, std::string_view what)> progress;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Does the work. On error the runner discards the output folders; the
  // message should name the input file/feature/value that caused it (the
  // runner adds the component id).
  virtual Status Do(ExecutionContext& context) = 0;
};

using ExecutorFactory = std::function<std::unique_ptr<Executor>()>;

// --- the DSL ---------------------------------------------------------------

class Node;

// An output of a node, used as an input of another.
struct Channel {
  std::shared_ptr<const struct NodeData> producer;
  std::string key;   // the producer's output key
  std::string type;  // artifact type
};

struct NodeData {
  std::string id;  // defaults to spec.type; WithId() changes it
  ComponentSpec spec;
  ExecutorFactory make_executor;
  Params params;
  std::map<std::string, Channel, std::less<>> inputs;  // by input key
};

// A component instance in a pipeline. Copies share the same node (like a
// Python object reference), so `outputs()` taken before or after WithId()
// refer to the same node.
class Node {
 public:
  Node(ComponentSpec spec, ExecutorFactory make_executor, Params params,
       std::map<std::string, Channel, std::less<>> inputs);

  // Sets the component id (TFX's with_id), e.g. "Trainer.mnist_lite".
  Node& WithId(std::string id);
  const std::string& id() const { return data_->id; }
  const ComponentSpec& spec() const { return data_->spec; }
  const std::shared_ptr<NodeData>& data() const { return data_; }

  // The output channels by key (TFX's `.outputs['model']`). An unknown key
  // is a programming error caught by the runner's validation (the channel's
  // type is then empty).
  class Outputs {
   public:
    explicit Outputs(std::shared_ptr<const NodeData> node) : node_(std::move(node)) {}
    Channel operator[](std::string_view key) const;

   private:
    std::shared_ptr<const NodeData> node_;
  };
  Outputs outputs() const { return Outputs(data_); }

 private:
  std::shared_ptr<NodeData> data_;
};

}  // namespace edgepipe::pipeline

#endif  // EDGEPIPE_PIPELINE_COMPONENT_H_
