// TransformGraph: tracing a preprocessing_fn, validating nodes, Apply.
// Analysis lives in transform_analyze.cc, JSON in transform_graph_json.cc.
#include "edgepipe/components/transform_graph.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <unordered_map>
#include <utility>

#include "edgepipe/components/transform_internal.h"
#include "edgepipe/core/hash.h"

namespace edgepipe::components {

namespace {

constexpr std::array<std::pair<TransformOp, std::string_view>, 11> kOpNames = {{
    {TransformOp::kInput, "input"},
    {TransformOp::kAffine, "affine"},
    {TransformOp::kAdd, "add"},
    {TransformOp::kSub, "sub"},
    {TransformOp::kMul, "mul"},
    {TransformOp::kDiv, "div"},
    {TransformOp::kClip, "clip"},
    {TransformOp::kScaleByMinMax, "scale_by_min_max"},
    {TransformOp::kScaleToZScore, "scale_to_z_score"},
    {TransformOp::kVocabulary, "compute_and_apply_vocabulary"},
    {TransformOp::kBucketize, "bucketize"},
}};

size_t Arity(TransformOp op) {
  switch (op) {
    case TransformOp::kInput:
      return 0;
    case TransformOp::kAdd:
    case TransformOp::kSub:
    case TransformOp::kMul:
    case TransformOp::kDiv:
      return 2;
    default:
      return 1;
  }
}

bool IsNumeric(data::FeatureType t) { return t != data::FeatureType::kString; }

}  // namespace

std::string_view TransformOpName(TransformOp op) {
  for (const auto& [o, name] : kOpNames) {
    if (o == op) return name;
  }
  return "unknown";
}

Result<TransformOp> ParseTransformOp(std::string_view name) {
  for (const auto& [o, n] : kOpNames) {
    if (n == name) return o;
  }
  std::string known;
  for (const auto& [o, n] : kOpNames) known += (known.empty() ? "" : ", ") + std::string(n);
  return Status::InvalidArgument("unknown transform op \"" + std::string(name) +
                                 "\" (known: " + known + ")");
}

bool IsAnalyzer(TransformOp op) {
  return op == TransformOp::kScaleByMinMax || op == TransformOp::kScaleToZScore ||
         op == TransformOp::kVocabulary || op == TransformOp::kBucketize;
}

std::string DescribeNode(const std::vector<TransformNode>& nodes, int index) {
  const TransformNode& n = nodes[static_cast<size_t>(index)];
  if (n.op == TransformOp::kInput) return "\"" + n.feature + "\"";
  return "the output of " + std::string(TransformOpName(n.op));
}

Status InferNode(const std::vector<data::FeatureSpec>& raw, const std::vector<TransformNode>& nodes,
                 int index, TransformNode& n) {
  const std::string op(TransformOpName(n.op));
  if (n.inputs.size() != Arity(n.op)) {
    return Status::InvalidArgument(op + ": takes " + std::to_string(Arity(n.op)) +
                                   " input(s), got " + std::to_string(n.inputs.size()));
  }
  for (int in : n.inputs) {
    if (in < 0 || in >= index) {
      return Status::InvalidArgument(op + ": input node " + std::to_string(in) +
                                     " is not an earlier node (node " + std::to_string(index) +
                                     ")");
    }
  }
  auto in = [&](size_t k) -> const TransformNode& {
    return nodes[static_cast<size_t>(n.inputs[k])];
  };
  auto require_numeric = [&](size_t k) -> Status {
    if (!IsNumeric(in(k).type)) {
      return Status::InvalidArgument(op + ": input " + DescribeNode(nodes, n.inputs[k]) +
                                     " is a string column; it needs a numeric one");
    }
    return Status::Ok();
  };
  switch (n.op) {
    case TransformOp::kInput: {
      auto it = std::find_if(raw.begin(), raw.end(),
                             [&](const data::FeatureSpec& s) { return s.name == n.feature; });
      if (it == raw.end()) {
        std::string names;
        for (const auto& s : raw) names += (names.empty() ? "" : ", ") + s.name;
        return Status::InvalidArgument("feature \"" + n.feature +
                                       "\" is not a raw feature (raw features: " + names + ")");
      }
      n.type = it->type;
      n.shape = it->shape;
      return Status::Ok();
    }
    case TransformOp::kAdd:
    case TransformOp::kSub:
    case TransformOp::kMul:
    case TransformOp::kDiv:
      RETURN_IF_ERROR(require_numeric(0));
      RETURN_IF_ERROR(require_numeric(1));
      if (in(0).shape != in(1).shape) {
        return Status::InvalidArgument(op + ": inputs " + DescribeNode(nodes, n.inputs[0]) + " " +
                                       ShapeToString(in(0).shape) + " and " +
                                       DescribeNode(nodes, n.inputs[1]) + " " +
                                       ShapeToString(in(1).shape) + " must have equal shapes");
      }
      n.type = data::FeatureType::kFloat32;
      n.shape = in(0).shape;
      return Status::Ok();
    case TransformOp::kClip:
      if (n.lo && n.hi && !(*n.lo <= *n.hi)) {
        return Status::InvalidArgument(op + ": lower bound " + std::to_string(*n.lo) +
                                       " must not exceed upper bound " + std::to_string(*n.hi));
      }
      [[fallthrough]];
    case TransformOp::kAffine:
    case TransformOp::kScaleToZScore:
      RETURN_IF_ERROR(require_numeric(0));
      n.type = data::FeatureType::kFloat32;
      n.shape = in(0).shape;
      return Status::Ok();
    case TransformOp::kScaleByMinMax:
      RETURN_IF_ERROR(require_numeric(0));
      if (!n.lo || !n.hi || !(*n.lo < *n.hi)) {
        return Status::InvalidArgument(op + ": output_min must be below output_max");
      }
      n.type = data::FeatureType::kFloat32;
      n.shape = in(0).shape;
      return Status::Ok();
    case TransformOp::kVocabulary:
      if (in(0).type == data::FeatureType::kFloat32) {
        return Status::InvalidArgument(op + ": input " + DescribeNode(nodes, n.inputs[0]) +
                                       " is a float column; it needs strings or int64");
      }
      if (n.top_k < -1 || n.top_k == 0 || n.frequency_threshold < 0 || n.num_oov_buckets < 0) {
        return Status::InvalidArgument(op +
                                       ": top_k must be -1 or positive, frequency_threshold "
                                       "and num_oov_buckets non-negative");
      }
      n.type = data::FeatureType::kInt64;
      n.shape = in(0).shape;
      return Status::Ok();
    case TransformOp::kBucketize:
      RETURN_IF_ERROR(require_numeric(0));
      if (n.num_buckets < 1) {
        return Status::InvalidArgument(op + ": num_buckets " + std::to_string(n.num_buckets) +
                                       " must be at least 1");
      }
      n.type = data::FeatureType::kInt64;
      n.shape = in(0).shape;
      return Status::Ok();
  }
  return Status::InvalidArgument("unknown transform op");
}

// ---- tracing ----------------------------------------------------------------

Column TraceState::Add(TransformNode n) {
  if (!error.ok()) return Column(self(), -1);
  Status s = InferNode(raw, nodes, static_cast<int>(nodes.size()), n);
  if (!s.ok()) return Fail(std::move(s));
  nodes.push_back(std::move(n));
  return Column(self(), static_cast<int>(nodes.size()) - 1);
}

Column TraceState::Fail(Status s) {
  if (error.ok()) error = Status::InvalidArgument("preprocessing_fn: " + s.message());
  return Column(self(), -1);
}

bool Column::ok() const { return state_ != nullptr && node_ >= 0; }

namespace {

// The state of a unary op's input, or nullptr when it carries an error
// (recorded in its state) or is an empty Column.
TraceState* StateOf(const Column& x) { return x.ok() ? x.state().get() : nullptr; }

Column Unary(const Column& x, TransformNode n) {
  if (x.state() == nullptr) return Column();
  if (!x.ok()) return x;
  n.inputs = {x.node()};
  return x.state()->Add(std::move(n));
}

Column Binary(const Column& x, const Column& y, TransformOp op) {
  if (x.state() == nullptr || y.state() == nullptr) return Column();
  if (x.state() != y.state()) {
    return x.state()->Fail(Status::InvalidArgument(std::string(TransformOpName(op)) +
                                                   ": columns come from different traces"));
  }
  if (!x.ok()) return x;
  if (!y.ok()) return y;
  TransformNode n;
  n.op = op;
  n.inputs = {x.node(), y.node()};
  return x.state()->Add(std::move(n));
}

Column Affine(const Column& x, double scale, double offset) {
  TransformNode n;
  n.op = TransformOp::kAffine;
  n.scale = scale;
  n.offset = offset;
  return Unary(x, std::move(n));
}

}  // namespace

Column operator+(const Column& x, const Column& y) { return Binary(x, y, TransformOp::kAdd); }
Column operator-(const Column& x, const Column& y) { return Binary(x, y, TransformOp::kSub); }
Column operator*(const Column& x, const Column& y) { return Binary(x, y, TransformOp::kMul); }
Column operator/(const Column& x, const Column& y) { return Binary(x, y, TransformOp::kDiv); }
Column operator+(const Column& x, double c) { return Affine(x, 1.0, c); }
Column operator+(double c, const Column& x) { return Affine(x, 1.0, c); }
Column operator-(const Column& x, double c) { return Affine(x, 1.0, -c); }
Column operator-(double c, const Column& x) { return Affine(x, -1.0, c); }
Column operator*(const Column& x, double c) { return Affine(x, c, 0.0); }
Column operator*(double c, const Column& x) { return Affine(x, c, 0.0); }
Column operator/(const Column& x, double c) {
  if (c == 0.0 && StateOf(x) != nullptr) {
    return x.state()->Fail(Status::InvalidArgument("affine: division by the constant 0"));
  }
  return Affine(x, 1.0 / c, 0.0);
}
Column operator-(const Column& x) { return Affine(x, -1.0, 0.0); }

Column Inputs::operator[](std::string_view name) const {
  TransformNode n;
  n.op = TransformOp::kInput;
  n.feature = std::string(name);
  return state_->Add(std::move(n));
}

Column Inputs::Error(std::string message) const {
  return state_->Fail(Status::InvalidArgument(std::move(message)));
}

namespace tft {

Column ScaleByMinMax(const Column& x, double output_min, double output_max) {
  TransformNode n;
  n.op = TransformOp::kScaleByMinMax;
  n.lo = output_min;
  n.hi = output_max;
  return Unary(x, std::move(n));
}

Column ScaleTo01(const Column& x) { return ScaleByMinMax(x, 0.0, 1.0); }

Column ScaleToZScore(const Column& x) {
  TransformNode n;
  n.op = TransformOp::kScaleToZScore;
  return Unary(x, std::move(n));
}

Column ComputeAndApplyVocabulary(const Column& x, const VocabularyOptions& options) {
  TransformNode n;
  n.op = TransformOp::kVocabulary;
  n.top_k = options.top_k;
  n.frequency_threshold = options.frequency_threshold;
  n.num_oov_buckets = options.num_oov_buckets;
  n.default_value = options.default_value;
  return Unary(x, std::move(n));
}

Column Bucketize(const Column& x, int64_t num_buckets) {
  TransformNode n;
  n.op = TransformOp::kBucketize;
  n.num_buckets = num_buckets;
  return Unary(x, std::move(n));
}

Column Clip(const Column& x, std::optional<double> lo, std::optional<double> hi) {
  TransformNode n;
  n.op = TransformOp::kClip;
  n.lo = lo;
  n.hi = hi;
  return Unary(x, std::move(n));
}

}  // namespace tft

Result<TransformGraph> TransformGraph::Trace(const PreprocessingFn& fn,
                                             std::vector<data::FeatureSpec> raw_features) {
  RETURN_IF_ERROR(data::ValidateFeatureSpecs(raw_features));
  auto state = std::make_shared<TraceState>();
  state->raw = raw_features;
  state->weak_self = state;
  std::map<std::string, Column> out = fn(Inputs(state));
  RETURN_IF_ERROR(state->error);
  if (out.empty()) {
    return Status::InvalidArgument("preprocessing_fn: returned no outputs");
  }
  std::vector<TransformOutput> outputs;
  for (const auto& [name, column] : out) {
    if (name.empty()) return Status::InvalidArgument("preprocessing_fn: an output has no name");
    if (column.state() != state || !column.ok()) {
      return Status::InvalidArgument("preprocessing_fn: output \"" + name +
                                     "\" is not a column of this trace");
    }
    outputs.push_back({name, column.node()});
  }
  // Keep only the nodes the outputs reach, renumbered in order.
  std::vector<TransformNode>& nodes = state->nodes;
  std::vector<bool> live(nodes.size(), false);
  for (const TransformOutput& o : outputs) live[static_cast<size_t>(o.node)] = true;
  for (size_t i = nodes.size(); i-- > 0;) {
    if (!live[i]) continue;
    for (int in : nodes[i].inputs) live[static_cast<size_t>(in)] = true;
  }
  std::vector<int> remap(nodes.size(), -1);
  std::vector<TransformNode> kept;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!live[i]) continue;
    TransformNode n = std::move(nodes[i]);
    for (int& in : n.inputs) in = remap[static_cast<size_t>(in)];
    remap[i] = static_cast<int>(kept.size());
    kept.push_back(std::move(n));
  }
  for (TransformOutput& o : outputs) o.node = remap[static_cast<size_t>(o.node)];
  return FromParts(std::move(raw_features), std::move(kept), std::move(outputs),
                   "preprocessing_fn");
}

Result<TransformGraph> TransformGraph::FromParts(std::vector<data::FeatureSpec> raw_features,
                                                 std::vector<TransformNode> nodes,
                                                 std::vector<TransformOutput> outputs,
                                                 std::string_view where) {
  const std::string w(where);
  if (Status s = data::ValidateFeatureSpecs(raw_features); !s.ok()) {
    return Status::InvalidArgument(w + ": raw features: " + s.message());
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (Status s = InferNode(raw_features, nodes, static_cast<int>(i), nodes[i]); !s.ok()) {
      return Status::InvalidArgument(w + ": node " + std::to_string(i) + ": " + s.message());
    }
    const TransformNode& n = nodes[i];
    if (n.analyzed && n.op == TransformOp::kBucketize &&
        !std::is_sorted(n.boundaries.begin(), n.boundaries.end())) {
      return Status::InvalidArgument(w + ": node " + std::to_string(i) +
                                     ": bucketize boundaries must be ascending");
    }
  }
  std::set<std::string, std::less<>> names;
  for (const TransformOutput& o : outputs) {
    if (o.name.empty() || !names.insert(o.name).second) {
      return Status::InvalidArgument(w + ": output names must be non-empty and unique (\"" +
                                     o.name + "\")");
    }
    if (o.node < 0 || static_cast<size_t>(o.node) >= nodes.size()) {
      return Status::InvalidArgument(w + ": output \"" + o.name + "\" names node " +
                                     std::to_string(o.node) + " of " +
                                     std::to_string(nodes.size()));
    }
  }
  std::sort(outputs.begin(), outputs.end(),
            [](const TransformOutput& a, const TransformOutput& b) { return a.name < b.name; });
  TransformGraph g;
  g.raw_features_ = std::move(raw_features);
  g.nodes_ = std::move(nodes);
  g.outputs_ = std::move(outputs);
  g.RebuildIndex();
  return g;
}

bool TransformGraph::analyzed() const {
  return std::all_of(nodes_.begin(), nodes_.end(),
                     [](const TransformNode& n) { return !IsAnalyzer(n.op) || n.analyzed; });
}

std::vector<data::FeatureSpec> TransformGraph::UsedRawFeatureSpecs() const {
  std::vector<data::FeatureSpec> out;
  for (const data::FeatureSpec& s : raw_features_) {
    for (const TransformNode& n : nodes_) {
      if (n.op == TransformOp::kInput && n.feature == s.name) {
        out.push_back(s);
        break;
      }
    }
  }
  return out;
}

std::vector<data::FeatureSpec> TransformGraph::TransformedFeatureSpecs() const {
  std::vector<data::FeatureSpec> out;
  for (const TransformOutput& o : outputs_) {
    const TransformNode& n = nodes_[static_cast<size_t>(o.node)];
    data::FeatureSpec s;
    s.name = o.name;
    s.type = n.type;
    s.shape = n.shape;
    out.push_back(std::move(s));
  }
  return out;
}

// ---- evaluation -------------------------------------------------------------

namespace {

Result<Array> ToFloat(const ColumnValue& v) {
  if (v.array.dtype() == DType::kFloat32) return v.array;
  ASSIGN_OR_RETURN(Array out, Array::Uninitialized(DType::kFloat32, v.array.shape()));
  auto src = v.array.data<int64_t>();
  auto dst = out.data<float>();
  for (size_t i = 0; i < src.size(); ++i) dst[i] = static_cast<float>(src[i]);
  return out;
}

template <typename F>
Result<Array> MapFloat(const ColumnValue& x, F f) {
  ASSIGN_OR_RETURN(Array a, ToFloat(x));
  for (float& v : a.data<float>()) v = f(v);
  return a;
}

std::string TokenOf(const ColumnValue& x, size_t i) {
  if (x.is_string) return x.strings[i];
  return std::to_string(x.array.data<int64_t>()[i]);
}

}  // namespace

Result<std::vector<ColumnValue>> EvaluateNodes(const TransformGraph& g, const data::Batch& raw,
                                               const std::vector<int>& wanted,
                                               const VocabIndex& vocab) {
  const std::vector<TransformNode>& nodes = g.nodes();
  std::vector<bool> need(nodes.size(), false);
  for (int w : wanted) need[static_cast<size_t>(w)] = true;
  for (size_t i = nodes.size(); i-- > 0;) {
    if (!need[i]) continue;
    for (int in : nodes[i].inputs) need[static_cast<size_t>(in)] = true;
  }
  std::vector<ColumnValue> values(nodes.size());
  const int64_t batch = raw.size;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!need[i]) continue;
    const TransformNode& n = nodes[i];
    const std::string op(TransformOpName(n.op));
    if (IsAnalyzer(n.op) && !n.analyzed) {
      return Status::FailedPrecondition(op + " (node " + std::to_string(i) +
                                        "): not analyzed yet; run Analyze first");
    }
    ColumnValue& out = values[i];
    auto in = [&](size_t k) -> const ColumnValue& {
      return values[static_cast<size_t>(n.inputs[k])];
    };
    switch (n.op) {
      case TransformOp::kInput: {
        std::vector<int64_t> shape = {batch};
        shape.insert(shape.end(), n.shape.begin(), n.shape.end());
        ASSIGN_OR_RETURN(int64_t count, NumElements(shape));
        if (n.type == data::FeatureType::kString) {
          ASSIGN_OR_RETURN(const std::vector<std::string>* s, raw.GetStrings(n.feature));
          if (static_cast<int64_t>(s->size()) != count) {
            return Status::InvalidArgument("feature \"" + n.feature + "\" has " +
                                           std::to_string(s->size()) + " strings, expected " +
                                           std::to_string(count));
          }
          out.is_string = true;
          out.strings = *s;
        } else {
          ASSIGN_OR_RETURN(const Array* a, raw.GetArray(n.feature));
          const DType want = n.type == data::FeatureType::kInt64 ? DType::kInt64 : DType::kFloat32;
          if (a->dtype() != want || a->shape() != shape) {
            return Status::InvalidArgument(
                "feature \"" + n.feature + "\" is " + std::string(DTypeName(a->dtype())) + " " +
                ShapeToString(a->shape()) + ", the graph was traced with " +
                std::string(DTypeName(want)) + " " + ShapeToString(shape));
          }
          out.array = *a;
        }
        break;
      }
      case TransformOp::kAffine: {
        const float s = static_cast<float>(n.scale), o = static_cast<float>(n.offset);
        ASSIGN_OR_RETURN(out.array, MapFloat(in(0), [s, o](float v) { return v * s + o; }));
        break;
      }
      case TransformOp::kScaleByMinMax:
      case TransformOp::kScaleToZScore: {
        const float s = n.applied_scale, o = n.applied_offset;
        ASSIGN_OR_RETURN(out.array, MapFloat(in(0), [s, o](float v) { return v * s + o; }));
        break;
      }
      case TransformOp::kClip: {
        const float lo = n.lo ? static_cast<float>(*n.lo) : -INFINITY;
        const float hi = n.hi ? static_cast<float>(*n.hi) : INFINITY;
        ASSIGN_OR_RETURN(out.array, MapFloat(in(0), [lo, hi](float v) {
                           return std::min(std::max(v, lo), hi);
                         }));
        break;
      }
      case TransformOp::kAdd:
      case TransformOp::kSub:
      case TransformOp::kMul:
      case TransformOp::kDiv: {
        ASSIGN_OR_RETURN(out.array, ToFloat(in(0)));
        ASSIGN_OR_RETURN(Array y, ToFloat(in(1)));
        auto a = out.array.data<float>();
        auto b = y.data<float>();
        for (size_t k = 0; k < a.size(); ++k) {
          switch (n.op) {
            case TransformOp::kAdd:
              a[k] = a[k] + b[k];
              break;
            case TransformOp::kSub:
              a[k] = a[k] - b[k];
              break;
            case TransformOp::kMul:
              a[k] = a[k] * b[k];
              break;
            default:
              a[k] = a[k] / b[k];
              break;
          }
        }
        break;
      }
      case TransformOp::kVocabulary: {
        const ColumnValue& x = in(0);
        const size_t count =
            x.is_string ? x.strings.size() : static_cast<size_t>(x.array.num_elements());
        std::vector<int64_t> shape = {batch};
        shape.insert(shape.end(), n.shape.begin(), n.shape.end());
        ASSIGN_OR_RETURN(out.array, Array::Uninitialized(DType::kInt64, shape));
        auto dst = out.array.data<int64_t>();
        auto it_index = vocab.find(static_cast<int>(i));
        if (it_index == vocab.end()) {
          return Status::Internal(op + " (node " + std::to_string(i) + "): no vocabulary index");
        }
        const auto& index = it_index->second;
        const int64_t size = static_cast<int64_t>(n.vocabulary.size());
        for (size_t k = 0; k < count; ++k) {
          const std::string token = TokenOf(x, k);
          auto it = index.find(token);
          if (it != index.end()) {
            dst[k] = it->second;
          } else if (n.num_oov_buckets > 0) {
            dst[k] = size + static_cast<int64_t>(Fingerprint64(token) %
                                                 static_cast<uint64_t>(n.num_oov_buckets));
          } else {
            dst[k] = n.default_value;
          }
        }
        break;
      }
      case TransformOp::kBucketize: {
        ASSIGN_OR_RETURN(Array x, ToFloat(in(0)));
        ASSIGN_OR_RETURN(out.array, Array::Uninitialized(DType::kInt64, x.shape()));
        auto src = x.data<float>();
        auto dst = out.array.data<int64_t>();
        for (size_t k = 0; k < src.size(); ++k) {
          dst[k] = std::upper_bound(n.boundaries.begin(), n.boundaries.end(), src[k]) -
                   n.boundaries.begin();
        }
        break;
      }
    }
  }
  return values;
}

VocabIndex BuildVocabIndex(const std::vector<TransformNode>& nodes) {
  VocabIndex index;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const TransformNode& n = nodes[i];
    if (n.op != TransformOp::kVocabulary || !n.analyzed) continue;
    auto& m = index[static_cast<int>(i)];
    for (size_t k = 0; k < n.vocabulary.size(); ++k) {
      m.emplace(n.vocabulary[k], static_cast<int64_t>(k));
    }
  }
  return index;
}

Result<data::Batch> TransformGraph::Apply(const data::Batch& raw) const {
  std::vector<int> wanted;
  for (const TransformOutput& o : outputs_) wanted.push_back(o.node);
  static const VocabIndex kEmpty;
  ASSIGN_OR_RETURN(std::vector<ColumnValue> values,
                   EvaluateNodes(*this, raw, wanted, vocab_index_ ? *vocab_index_ : kEmpty));
  return CollectOutputs(*this, raw.size, std::move(values));
}

data::Batch CollectOutputs(const TransformGraph& g, int64_t size, std::vector<ColumnValue> values) {
  data::Batch out;
  out.size = size;
  for (const TransformOutput& o : g.outputs()) {
    // An output may share a node with another output: copy, don't move.
    const ColumnValue& v = values[static_cast<size_t>(o.node)];
    if (v.is_string) {
      out.strings[o.name] = v.strings;
    } else {
      out.arrays[o.name] = v.array;
    }
  }
  return out;
}

void TransformGraph::RebuildIndex() {
  vocab_index_ = std::make_shared<const VocabIndex>(BuildVocabIndex(nodes_));
}

}  // namespace edgepipe::components
