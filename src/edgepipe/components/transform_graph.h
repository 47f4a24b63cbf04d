// The Transform graph: a user preprocessing_fn over feature columns (TFX's
// tf.Transform), its full-pass analyzers, and the serialized artifact.
//
//   std::map<std::string, Column> Preprocess(const Inputs& in) {
//     return {{"image_floats", tft::ScaleByMinMax(in["image_floats"])},
//             {"x2", in["x"] * 2 + 1},
//             {"city_id", tft::ComputeAndApplyVocabulary(in["city"])},
//             {"image_class", in["image_class"]}};
//   }
//   ASSIGN_OR_RETURN(TransformGraph g, TransformGraph::Trace(Preprocess, raw_specs));
//   RETURN_IF_ERROR(g.Analyze(*train_dataset));      // full passes over the train split
//   ASSIGN_OR_RETURN(data::Batch out, g.Apply(raw_batch));
//   RETURN_IF_ERROR(SaveTransformGraph(g, dir));      // <dir>/transform_graph.json
//   ASSIGN_OR_RETURN(TransformGraph same, LoadTransformGraph(dir));
//
// Semantics (all analyzers reduce over every value of the column, TFT's
// reduce_instance_dims=True):
//  - numeric ops compute in float32; int64 inputs are converted to float32.
//  - ScaleByMinMax(x, lo, hi) = x * s + o with s = (hi - lo) / (max - min),
//    o = lo - min * s; when max == min (a constant column) s = 0 and
//    o = (lo + hi) / 2. ScaleTo01(x) = ScaleByMinMax(x, 0, 1).
//  - ScaleToZScore(x) = x * s + o with s = 1 / std, o = -mean / std, std the
//    population standard deviation; when std == 0, s = 1 and o = -mean.
//    (s and o are computed in double and rounded to float once, so the
//    same float MUL + ADD runs in Apply, in the native model and in TFLite.)
//  - ComputeAndApplyVocabulary: strings (or int64 as decimal strings) ->
//    int64 index into the vocabulary sorted by frequency, descending, ties by
//    the token's bytes, descending (TFT's order); top_k and
//    frequency_threshold cut it; unknown tokens map to vocab_size +
//    Fingerprint64(token) % num_oov_buckets, or to default_value when
//    num_oov_buckets is 0.
//  - Bucketize(x, k): k - 1 boundaries b_i = sorted_values[floor(i * n / k)]
//    (exact quantiles of the n values, duplicates dropped); the output is the
//    number of boundaries <= x (int64 in [0, k-1]).
//  - Clip(x, lo, hi), x + y, x - y, x * y, x / y on columns of equal shape,
//    and x + c, c * x, x / c, -x ... with a constant (kept as one "affine"
//    node x * scale + offset).
//
// Thread safety: a TransformGraph is a plain value; const methods may run
// concurrently. Columns and Inputs are used during one Trace on one thread.
#ifndef EDGEPIPE_COMPONENTS_TRANSFORM_GRAPH_H_
#define EDGEPIPE_COMPONENTS_TRANSFORM_GRAPH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/dataset.h"
#include "edgepipe/data/feature_spec.h"

namespace edgepipe::components {

enum class TransformOp : uint8_t {
  kInput,          // a raw feature
  kAffine,         // x * scale + offset (constants)
  kAdd,            // x + y
  kSub,            // x - y
  kMul,            // x * y
  kDiv,            // x / y
  kClip,           // min(max(x, lo), hi)
  kScaleByMinMax,  // analyzer: min, max
  kScaleToZScore,  // analyzer: mean, var
  kVocabulary,     // analyzer: vocabulary
  kBucketize,      // analyzer: quantile boundaries
};

// The JSON spelling: "input", "affine", "add", "sub", "mul", "div", "clip",
// "scale_by_min_max", "scale_to_z_score", "compute_and_apply_vocabulary",
// "bucketize".
std::string_view TransformOpName(TransformOp op);
Result<TransformOp> ParseTransformOp(std::string_view name);
// True for the ops that need a full pass (analyzers).
bool IsAnalyzer(TransformOp op);

// One node of the graph. Which fields matter depends on `op`.
struct TransformNode {
  TransformOp op = TransformOp::kInput;
  std::vector<int> inputs;                               // indices of earlier nodes
  std::string feature;                                   // kInput: the raw feature's name
  data::FeatureType type = data::FeatureType::kFloat32;  // output type
  std::vector<int64_t> shape;                            // per-record output shape
  // Parameters given in the preprocessing_fn.
  double scale = 1, offset = 0;     // kAffine
  std::optional<double> lo, hi;     // kClip bounds; kScaleByMinMax output range
  int64_t top_k = -1;               // kVocabulary: -1 = all
  int64_t frequency_threshold = 0;  // kVocabulary
  int64_t num_oov_buckets = 0;      // kVocabulary
  int64_t default_value = -1;       // kVocabulary, when num_oov_buckets == 0
  int64_t num_buckets = 0;          // kBucketize
  // Analyzer results, set by Analyze (or loaded).
  bool analyzed = false;
  double stat_a = 0, stat_b = 0;                // min/max or mean/var, for reports
  int64_t count = 0;                            // values seen by the analyzer
  float applied_scale = 1, applied_offset = 0;  // kScaleByMinMax, kScaleToZScore
  std::vector<std::string> vocabulary;          // kVocabulary, index order
  std::vector<float> boundaries;                // kBucketize, ascending
};

struct TransformOutput {
  std::string name;  // the transformed feature's name
  int node = -1;
};

// --- the preprocessing_fn DSL ----------------------------------------------

struct TraceState;  // the graph under construction (transform_graph.cc)

// A column expression. Operations on a column that carries an error (an
// unknown feature, a string into a numeric op) yield columns carrying that
// error; Trace reports the first one.
class Column {
 public:
  Column() = default;
  bool ok() const;

  friend Column operator+(const Column& x, const Column& y);
  friend Column operator-(const Column& x, const Column& y);
  friend Column operator*(const Column& x, const Column& y);
  friend Column operator/(const Column& x, const Column& y);
  friend Column operator+(const Column& x, double c);
  friend Column operator+(double c, const Column& x);
  friend Column operator-(const Column& x, double c);
  friend Column operator-(double c, const Column& x);
  friend Column operator*(const Column& x, double c);
  friend Column operator*(double c, const Column& x);
  friend Column operator/(const Column& x, double c);
  friend Column operator-(const Column& x);

  // Internal: the state and node index (tft:: functions use them).
  Column(std::shared_ptr<TraceState> state, int node) : state_(std::move(state)), node_(node) {}
  const std::shared_ptr<TraceState>& state() const { return state_; }
  int node() const { return node_; }

 private:
  std::shared_ptr<TraceState> state_;
  int node_ = -1;
};

// The raw features a preprocessing_fn reads: in["image_floats"].
class Inputs {
 public:
  explicit Inputs(std::shared_ptr<TraceState> state) : state_(std::move(state)) {}
  // The raw feature `name`; an unknown name gives an error column.
  Column operator[](std::string_view name) const;
  // Fails the trace with `message` (Trace returns InvalidArgument
  // "preprocessing_fn: <message>" unless an error came first); returns an
  // error column.
  Column Error(std::string message) const;

 private:
  std::shared_ptr<TraceState> state_;
};

// TFX's preprocessing_fn: transformed features by name. A raw feature passed
// through (e.g. the label) must be returned to be kept.
using PreprocessingFn = std::function<std::map<std::string, Column>(const Inputs&)>;

struct VocabularyOptions {
  int64_t top_k = -1;               // keep the top_k most frequent; -1 = all
  int64_t frequency_threshold = 0;  // drop tokens seen fewer times
  int64_t num_oov_buckets = 0;
  int64_t default_value = -1;  // index of unknown tokens when num_oov_buckets == 0
};

// TFT's analyzers and mappers (see the semantics at the top).
namespace tft {
Column ScaleByMinMax(const Column& x, double output_min = 0.0, double output_max = 1.0);
Column ScaleTo01(const Column& x);
Column ScaleToZScore(const Column& x);
Column ComputeAndApplyVocabulary(const Column& x, const VocabularyOptions& options = {});
Column Bucketize(const Column& x, int64_t num_buckets);
// Either bound may be absent.
Column Clip(const Column& x, std::optional<double> lo, std::optional<double> hi);
}  // namespace tft

// --- the graph ---------------------------------------------------------------

class TransformGraph {
 public:
  TransformGraph() = default;

  // Runs `fn` once over columns of `raw_features` (numeric or string, any
  // fixed shape) and records the graph. Errors (InvalidArgument) name the op
  // and the rule, e.g. `preprocessing_fn: feature "foo" is not a raw feature
  // (raw features: x, y)`, `scale_to_z_score: input "city" is a string
  // column; it needs a numeric one`, or an output without a name.
  static Result<TransformGraph> Trace(const PreprocessingFn& fn,
                                      std::vector<data::FeatureSpec> raw_features);
  // A graph from its parts (the loader); validates node order, inputs and
  // types. `where` prefixes errors.
  static Result<TransformGraph> FromParts(std::vector<data::FeatureSpec> raw_features,
                                          std::vector<TransformNode> nodes,
                                          std::vector<TransformOutput> outputs,
                                          std::string_view where);

  // Full passes over `train` (batches of raw features parsed by
  // raw_features(); Reset() before each pass): one pass per level of nested
  // analyzers (an analyzer over another analyzer's output needs that one
  // first). FailedPrecondition when a pass yields no records ("analysis
  // data is empty"); InvalidArgument when a vocabulary comes out empty.
  Status Analyze(data::Dataset& train);
  bool analyzed() const;

  // The transformed features of a batch of raw features (which must hold
  // every raw feature the outputs use, with the traced shapes). Numeric
  // outputs are float32 or int64 arrays [N, ...shape], string outputs string
  // columns. FailedPrecondition before Analyze when analyzers are used.
  Result<data::Batch> Apply(const data::Batch& raw) const;

  // Parse specs of the raw features the outputs use, and of the outputs
  // (for reading transformed examples with nn::MakeInputDataset).
  std::vector<data::FeatureSpec> UsedRawFeatureSpecs() const;
  std::vector<data::FeatureSpec> TransformedFeatureSpecs() const;

  const std::vector<data::FeatureSpec>& raw_features() const { return raw_features_; }
  const std::vector<TransformNode>& nodes() const { return nodes_; }
  const std::vector<TransformOutput>& outputs() const { return outputs_; }

 private:
  void RebuildIndex();  // vocab_index_ from the analyzed vocabularies
  std::vector<data::FeatureSpec> raw_features_;
  std::vector<TransformNode> nodes_;
  std::vector<TransformOutput> outputs_;  // sorted by name
  // Token -> index per vocabulary node; shared by copies (immutable).
  std::shared_ptr<const std::map<int, std::unordered_map<std::string, int64_t>>> vocab_index_;
};

// The artifact: <dir>/transform_graph.json (docs/formats.md, "TransformGraph").
inline constexpr std::string_view kTransformGraphFormat = "edgepipe.transform_graph";
inline constexpr int64_t kTransformGraphFormatVersion = 1;
inline constexpr std::string_view kTransformGraphJsonName = "transform_graph.json";

// JSON text of the graph (byte-stable for equal graphs).
std::string TransformGraphToJson(const TransformGraph& graph);
// Parses TransformGraphToJson's output; `where` (a file name) prefixes errors.
Result<TransformGraph> TransformGraphFromJson(std::string_view text, std::string_view where);
// Writes <dir>/transform_graph.json atomically (dir is created). The graph
// must be analyzed (FailedPrecondition otherwise).
Status SaveTransformGraph(const TransformGraph& graph, const std::string& dir,
                          Env* env = Env::Default());
// Reads <dir>/transform_graph.json: NotFound when absent; errors name the file.
Result<TransformGraph> LoadTransformGraph(const std::string& dir, Env* env = Env::Default());

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_TRANSFORM_GRAPH_H_
