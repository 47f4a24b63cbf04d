#include "edgepipe/eval/model_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "edgepipe/data/example_util.h"
#include "edgepipe/eval/input_quantize.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/schema.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature_runner.h"
#include "edgepipe/nn/autodiff.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::eval {
namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Common bookkeeping: identity and latency. The first timed call is a
// warm-up (tensor allocation, filter packing, first page faults) and counts
// only when no other call follows it.
class RunnerBase : public ModelRunner {
 public:
  ModelInfo info() const override {
    ModelInfo m = info_;
    if (calls_ > 0) {
      m.latency_ms = 1e3 * seconds_ / static_cast<double>(calls_);
      m.latency_batch = rows_ / calls_;
    } else if (warm_) {
      m.latency_ms = 1e3 * first_seconds_;
      m.latency_batch = first_rows_;
    }
    return m;
  }
  const std::vector<data::FeatureSpec>& input_features() const override { return features_; }
  int num_outputs() const override { return num_outputs_; }

 protected:
  void Timed(double seconds, int64_t rows) {
    if (!warm_) {
      warm_ = true;
      first_seconds_ = seconds;
      first_rows_ = rows;
      return;
    }
    seconds_ += seconds;
    rows_ += rows;
    ++calls_;
  }
  Status Error(const std::string& message) const {
    return Status::InvalidArgument("model \"" + info_.name + "\" (" + info_.path + "): " + message);
  }

  ModelInfo info_;
  std::vector<data::FeatureSpec> features_;
  int num_outputs_ = 0;
  int64_t batch_size_ = 256;
  // Resets the latency figures (after a probe run).
  void ResetTiming() {
    warm_ = false;
    first_seconds_ = 0;
    first_rows_ = 0;
    seconds_ = 0;
    rows_ = 0;
    calls_ = 0;
  }

  bool warm_ = false;
  double first_seconds_ = 0;
  int64_t first_rows_ = 0;
  double seconds_ = 0;
  int64_t rows_ = 0;
  int64_t calls_ = 0;
};

// ---------------------------------------------------------------- native

Result<int64_t> FolderBytes(const std::string& dir, Env* env) {
  int64_t total = 0;
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  for (const std::string& n : names) {
    const std::string p = JoinPath(dir, n);
    if (env->IsDirectory(p)) {
      ASSIGN_OR_RETURN(int64_t sub, FolderBytes(p, env));
      total += sub;
    } else {
      ASSIGN_OR_RETURN(uint64_t size, env->FileSize(p));
      total += static_cast<int64_t>(size);
    }
  }
  return total;
}

class NativeRunner final : public RunnerBase {
 public:
  // `size_bytes` >= 0: the folder's size, already known (Clone).
  static Result<std::unique_ptr<ModelRunner>> Open(const ModelSpec& spec, const std::string& path,
                                                   const ModelRunnerOptions& options,
                                                   int64_t size_bytes = -1) {
    auto r = std::unique_ptr<NativeRunner>(new NativeRunner());
    r->spec_ = spec;
    r->options_ = options;
    r->batch_size_ = options.batch_size;
    r->info_.name = spec.name();
    r->info_.model_type = "native";
    r->info_.is_baseline = spec.is_baseline();
    std::string dir = path;
    Env* env = options.env;
    if (!env->Exists(JoinPath(dir, model::kSavedModelJsonName)) &&
        env->Exists(JoinPath(JoinPath(dir, "Format-Serving"), model::kSavedModelJsonName))) {
      dir = JoinPath(dir, "Format-Serving");
    }
    r->info_.path = dir;
    Result<model::LoadedModel> loaded = model::Load(dir, env);
    if (!loaded.ok()) {
      return loaded.status().WithContext("model \"" + spec.name() + "\" at " + path);
    }
    r->model_ = std::make_unique<model::LoadedModel>(std::move(*loaded));
    const std::string sig_name =
        spec.signature_name().empty() ? "serving_default" : spec.signature_name();
    Result<model::SignatureRunner> sr = model::SignatureRunner::Create(*r->model_, sig_name);
    if (!sr.ok()) return r->Error(sr.status().message());
    r->runner_.emplace(std::move(*sr));
    const model::Signature& sig = r->runner_->signature();
    if (sig.kind == model::SignatureKind::kTensors) {
      for (const model::TensorSpec& t : sig.inputs) {
        std::vector<int64_t> shape(t.shape.begin() + (t.shape.empty() ? 0 : 1), t.shape.end());
        if (t.dtype == DType::kFloat32) {
          r->features_.push_back(data::FeatureSpec::Float32(t.name, shape));
        } else if (t.dtype == DType::kInt64) {
          r->features_.push_back(data::FeatureSpec::Int64(t.name, shape));
        } else {
          return r->Error(
              fmt::format("input \"{}\" has dtype {}; only float32 and int64 inputs "
                          "can be fed from tf.Example features",
                          t.name, DTypeName(t.dtype)));
        }
      }
    }
    // The output: prediction_key, or the only one.
    const std::vector<std::string>& outs = r->model_->output_names;
    if (!spec.prediction_key().empty()) {
      if (std::find(outs.begin(), outs.end(), spec.prediction_key()) == outs.end()) {
        return r->Error("prediction_key \"" + spec.prediction_key() +
                        "\" names no output (outputs: " + JoinNames(outs) + ")");
      }
      r->output_ = spec.prediction_key();
    } else if (outs.size() == 1) {
      r->output_ = outs[0];
    } else {
      return r->Error("has several outputs (" + JoinNames(outs) +
                      "); set prediction_key to choose one");
    }
    // The direct path of kTensors signatures (RunTensors): model inputs in
    // the model's order, each fed from the signature input of its name.
    if (sig.kind == model::SignatureKind::kTensors) {
      const nn::Model& net = *r->model_->model;
      r->in_names_ = net.input_names();
      const std::vector<nn::Shape> shapes = net.input_shapes();
      for (size_t i = 0; i < r->in_names_.size(); ++i) {
        auto t =
            std::find_if(sig.inputs.begin(), sig.inputs.end(),
                         [&](const model::TensorSpec& x) { return x.name == r->in_names_[i]; });
        if (t == sig.inputs.end() || shapes[i].empty()) {
          return r->Error("model input \"" + r->in_names_[i] + "\" is not a signature input");
        }
        r->in_row_shapes_.emplace_back(shapes[i].begin() + 1, shapes[i].end());
        r->in_dtypes_.push_back(t->dtype);
      }
      r->direct_ =
          std::all_of(r->in_row_shapes_.begin(), r->in_row_shapes_.end(), [](const nn::Shape& s) {
            return std::all_of(s.begin(), s.end(), [](int64_t d) { return d >= 0; });
          });
      const std::vector<std::string> all = model::OutputNames(net);
      auto o = std::find(all.begin(), all.end(), r->output_);
      if (o == all.end()) return r->Error("output \"" + r->output_ + "\" is not a model output");
      r->output_index_ = static_cast<size_t>(o - all.begin());
    }
    if (size_bytes >= 0) {
      r->info_.size_bytes = size_bytes;
    } else {
      ASSIGN_OR_RETURN(r->info_.size_bytes, FolderBytes(dir, env));
    }
    // Output width: run one empty batch ([0, ...] outputs).
    r->num_outputs_ = -1;
    return std::unique_ptr<ModelRunner>(std::move(r));
  }

  bool needs_serialized() const override {
    return runner_->signature().kind == model::SignatureKind::kExamples;
  }
  std::vector<std::string> input_names() const override {
    std::vector<std::string> names;
    const model::Signature& sig = runner_->signature();
    for (const auto& f : sig.features) names.push_back(f.name);
    for (const auto& t : sig.inputs) names.push_back(t.name);
    return names;
  }
  int num_outputs() const override { return num_outputs_ < 0 ? 0 : num_outputs_; }

  Status Run(const ModelInputBatch& batch, std::vector<float>* predictions) override {
    predictions->clear();
    if (direct_) return RunTensors(batch, predictions);
    if (needs_serialized() && static_cast<int64_t>(batch.serialized.size()) != batch.size) {
      return Error("needs the serialized examples");
    }
    if (!needs_serialized() && batch.features == nullptr) return Error("needs parsed features");
    for (int64_t begin = 0; begin < batch.size; begin += batch_size_) {
      const int64_t n = std::min(batch_size_, batch.size - begin);
      const double t0 = Now();
      Result<model::NamedArrays> out = model::NamedArrays();
      if (needs_serialized()) {
        out = runner_->Run(
            batch.serialized.subspan(static_cast<size_t>(begin), static_cast<size_t>(n)));
      } else {
        model::NamedArrays inputs;
        for (const data::FeatureSpec& f : features_) {
          ASSIGN_OR_RETURN(const Array* a, batch.features->GetArray(f.name));
          std::vector<int64_t> shape = a->shape();
          shape[0] = n;
          ASSIGN_OR_RETURN(Array part, Array::Uninitialized(a->dtype(), shape));
          const size_t row = a->num_bytes() / static_cast<size_t>(std::max<int64_t>(a->dim(0), 1));
          std::memcpy(part.raw_data(),
                      static_cast<const char*>(a->raw_data()) + static_cast<size_t>(begin) * row,
                      static_cast<size_t>(n) * row);
          inputs.emplace(f.name, std::move(part));
        }
        out = runner_->Run(inputs);
      }
      if (!out.ok()) return Error(out.status().message());
      auto it = out->find(output_);
      if (it == out->end()) return Error("output \"" + output_ + "\" missing from the run");
      const Array& a = it->second;
      if (a.dtype() != DType::kFloat32 || a.rank() < 1 || a.dim(0) != n) {
        return Error("output \"" + output_ + "\" is not float32 [N, ...]");
      }
      RETURN_IF_ERROR(Append(a.data<float>(), n, predictions));
      Timed(Now() - t0, n);
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<ModelRunner>> Clone() const override {
    ASSIGN_OR_RETURN(auto r, Open(spec_, info_.path, options_, info_.size_bytes));
    auto* native = static_cast<NativeRunner*>(r.get());
    native->num_outputs_ = num_outputs_;
    return r;
  }

  // kTensors signatures: the features go straight into the model's input
  // tensors (one copy, rows [begin, begin + n) of the feature arrays) and the
  // selected output straight into *predictions, as SignatureRunner::Run
  // computes them (same layers, inference mode) without its two extra
  // copies per input (Array, then Tensor) and per output.
  Status RunTensors(const ModelInputBatch& batch, std::vector<float>* predictions) {
    if (batch.features == nullptr) return Error("needs parsed features");
    const nn::Model& net = *model_->model;
    std::vector<const Array*> arrays;
    for (size_t i = 0; i < in_names_.size(); ++i) {
      ASSIGN_OR_RETURN(const Array* a, batch.features->GetArray(in_names_[i]));
      const int64_t row = nn::ShapeSize(in_row_shapes_[i]);
      if (a->dtype() != in_dtypes_[i] || a->rank() < 1 || a->dim(0) != batch.size ||
          a->num_elements() != batch.size * row) {
        return Error(
            fmt::format("input \"{}\" has dtype {} and shape {}; the signature needs {} "
                        "with {} values per example",
                        in_names_[i], DTypeName(a->dtype()), ShapeToString(a->shape()),
                        DTypeName(in_dtypes_[i]), row));
      }
      arrays.push_back(a);
    }
    for (int64_t begin = 0; begin < batch.size; begin += batch_size_) {
      const int64_t n = std::min(batch_size_, batch.size - begin);
      const double t0 = Now();
      std::vector<nn::Var> feeds;
      for (size_t i = 0; i < arrays.size(); ++i) {
        const nn::Shape& row_shape = in_row_shapes_[i];
        nn::Shape shape(row_shape.size() + 1, n);
        std::copy(row_shape.begin(), row_shape.end(), shape.begin() + 1);
        const int64_t row = nn::ShapeSize(row_shape);
        nn::Tensor t = nn::Tensor::Empty(shape);
        if (arrays[i]->dtype() == DType::kFloat32) {
          if (t.size() > 0) {
            std::memcpy(t.data(), arrays[i]->data<float>().data() + begin * row,
                        static_cast<size_t>(t.size()) * sizeof(float));
          }
        } else {
          const int64_t* src = arrays[i]->data<int64_t>().data() + begin * row;
          for (int64_t j = 0; j < t.size(); ++j) t.data()[j] = static_cast<float>(src[j]);
        }
        feeds.push_back(nn::Var::Constant(std::move(t)));
      }
      nn::NoGradGuard no_grad;
      nn::CallContext ctx;
      ctx.training = false;
      Result<std::vector<nn::Var>> results = net.Call(feeds, ctx);
      if (!results.ok()) return Error(results.status().message());
      if (output_index_ >= results->size()) {
        return Error("output \"" + output_ + "\" missing from the run");
      }
      const nn::Tensor& o = (*results)[output_index_].value();
      if (o.rank() < 1 || o.dim(0) != n) {
        return Error("output \"" + output_ + "\" is not float32 [N, ...]");
      }
      RETURN_IF_ERROR(Append(o.span(), n, predictions));
      Timed(Now() - t0, n);
    }
    return Status::Ok();
  }

  // Appends n rows of output values, learning / checking the width.
  Status Append(std::span<const float> values, int64_t n, std::vector<float>* predictions) {
    const int k = static_cast<int>(n == 0 ? 0 : static_cast<int64_t>(values.size()) / n);
    if (num_outputs_ < 0) num_outputs_ = k;
    if (k != num_outputs_) {
      return Error(fmt::format("output width changed from {} to {}", num_outputs_, k));
    }
    predictions->insert(predictions->end(), values.begin(), values.end());
    return Status::Ok();
  }

  // Learns the output width by running one example's worth of zeros.
  Status Probe() {
    if (num_outputs_ >= 0) return Status::Ok();
    std::vector<float> out;
    if (needs_serialized()) {
      // One example of zeros for the signature's feature specs.
      tf::Example ex;
      for (const data::FeatureSpec& f : runner_->signature().features) {
        int64_t count = 1;
        for (int64_t d : f.shape) count *= d;
        if (f.type == data::FeatureType::kInt64) {
          data::SetInt64s(&ex, f.name, std::vector<int64_t>(static_cast<size_t>(count), 0));
        } else if (f.type == data::FeatureType::kFloat32) {
          data::SetFloats(&ex, f.name, std::vector<float>(static_cast<size_t>(count), 0.0f));
        }
      }
      const std::string record = ex.SerializeAsString();
      RETURN_IF_ERROR(Run({.size = 1, .serialized = {&record, 1}}, &out));
      ResetTiming();
      return Status::Ok();
    }
    data::Batch zeros;
    zeros.size = 1;
    for (const data::FeatureSpec& f : features_) {
      std::vector<int64_t> shape = {1};
      shape.insert(shape.end(), f.shape.begin(), f.shape.end());
      ASSIGN_OR_RETURN(Array a, Array::Zeros(f.type == data::FeatureType::kInt64 ? DType::kInt64
                                                                                 : DType::kFloat32,
                                             shape));
      zeros.arrays.emplace(f.name, std::move(a));
    }
    RETURN_IF_ERROR(Run({.size = 1, .serialized = {}, .features = &zeros}, &out));
    ResetTiming();
    return Status::Ok();
  }

 private:
  NativeRunner() = default;
  ModelSpec spec_;
  ModelRunnerOptions options_;
  std::unique_ptr<model::LoadedModel> model_;  // stable address for the runner
  std::optional<model::SignatureRunner> runner_;
  std::string output_;
  // kTensors: the model's inputs (names, per-example shapes, signature
  // dtypes) and the selected output's index among OutputNames.
  std::vector<std::string> in_names_;
  std::vector<nn::Shape> in_row_shapes_;
  std::vector<DType> in_dtypes_;
  size_t output_index_ = 0;
  bool direct_ = false;  // RunTensors applies (kTensors, fixed example shapes)
};

// ---------------------------------------------------------------- tflite

bool IsQuantized(tflite::TensorType t) {
  return t == tflite::TensorType::INT8 || t == tflite::TensorType::UINT8;
}

class LiteRunner final : public RunnerBase {
 public:
  static Result<std::unique_ptr<ModelRunner>> Open(const ModelSpec& spec, const std::string& path,
                                                   const ModelRunnerOptions& options) {
    Env* env = options.env;
    std::string file = path;
    if (env->IsDirectory(path)) {
      const std::string direct = JoinPath(path, options.tflite_filename);
      const std::string serving =
          JoinPath(JoinPath(path, "Format-Serving"), options.tflite_filename);
      if (env->Exists(direct)) {
        file = direct;
      } else if (env->Exists(serving)) {
        file = serving;
      } else {
        return Status::NotFound("model \"" + spec.name() + "\": no TFLite file " + direct + " or " +
                                serving);
      }
    } else if (!env->Exists(path)) {
      return Status::NotFound("model \"" + spec.name() + "\": " + path + " does not exist");
    }
    Result<std::unique_ptr<lite::Model>> m = lite::Model::Load(file, env);
    if (!m.ok()) return m.status().WithContext("model \"" + spec.name() + "\"");
    std::shared_ptr<const lite::Model> shared(std::move(*m));
    return Create(spec, file, std::move(shared), options);
  }

  static Result<std::unique_ptr<ModelRunner>> Create(const ModelSpec& spec, const std::string& file,
                                                     std::shared_ptr<const lite::Model> m,
                                                     const ModelRunnerOptions& options) {
    auto r = std::unique_ptr<LiteRunner>(new LiteRunner());
    r->spec_ = spec;
    r->options_ = options;
    r->batch_size_ = options.batch_size;
    r->info_.name = spec.name();
    r->info_.model_type = "tf_lite";
    r->info_.is_baseline = spec.is_baseline();
    r->info_.path = file;
    r->info_.size_bytes = static_cast<int64_t>(m->file_size());
    r->model_ = m;
    Result<std::unique_ptr<lite::Interpreter>> in =
        lite::Interpreter::Create(m, lite::BuiltinOpResolver());
    if (!in.ok()) return r->Error(in.status().message());
    r->interp_ = std::move(*in);
    lite::Interpreter& interp = *r->interp_;
    for (int i = 0; i < interp.num_inputs(); ++i) {
      const lite::Tensor& t = interp.input(i);
      if (t.rank() < 1) return r->Error("input \"" + t.name + "\" has no batch dimension");
      std::vector<int64_t> shape(t.shape.begin() + 1, t.shape.end());
      const std::string feature = FeatureNameOfInput(t.name);
      switch (t.type) {
        case tflite::TensorType::FLOAT32:
        case tflite::TensorType::INT8:
        case tflite::TensorType::UINT8:
          r->features_.push_back(data::FeatureSpec::Float32(feature, shape));
          break;
        case tflite::TensorType::INT32:
        case tflite::TensorType::INT64:
          r->features_.push_back(data::FeatureSpec::Int64(feature, shape));
          break;
        default:
          return r->Error("input \"" + t.name + "\" has type " + lite::TensorTypeName(t.type) +
                          ", which tf.Example features cannot feed");
      }
      if (IsQuantized(t.type) && !(t.scale() > 0)) {
        return r->Error("quantized input \"" + t.name + "\" has no positive scale");
      }
    }
    // The output.
    std::vector<std::string> outs;
    for (int i = 0; i < interp.num_outputs(); ++i) outs.push_back(interp.output(i).name);
    if (!spec.prediction_key().empty()) {
      r->output_ = -1;
      for (int i = 0; i < interp.num_outputs(); ++i) {
        if (outs[static_cast<size_t>(i)] == spec.prediction_key() ||
            FeatureNameOfInput(outs[static_cast<size_t>(i)]) == spec.prediction_key()) {
          r->output_ = i;
        }
      }
      if (r->output_ < 0) {
        return r->Error("prediction_key \"" + spec.prediction_key() +
                        "\" names no output (outputs: " + JoinNames(outs) + ")");
      }
    } else if (outs.size() == 1) {
      r->output_ = 0;
    } else {
      return r->Error("has several outputs (" + JoinNames(outs) +
                      "); set prediction_key to choose one");
    }
    const lite::Tensor& o = interp.output(r->output_);
    if (o.type != tflite::TensorType::FLOAT32 && !IsQuantized(o.type)) {
      return r->Error("output \"" + o.name + "\" has type " + lite::TensorTypeName(o.type) +
                      "; float32, int8 or uint8 expected");
    }
    if (o.rank() < 1) return r->Error("output \"" + o.name + "\" has no batch dimension");
    int64_t k = 1;
    for (int d = 1; d < o.rank(); ++d) k *= o.dim(d);
    r->num_outputs_ = static_cast<int>(k);
    return std::unique_ptr<ModelRunner>(std::move(r));
  }

  bool needs_serialized() const override { return false; }
  std::vector<std::string> input_names() const override {
    std::vector<std::string> names;
    for (int i = 0; i < interp_->num_inputs(); ++i) names.push_back(interp_->input(i).name);
    return names;
  }

  Status Run(const ModelInputBatch& batch, std::vector<float>* predictions) override {
    predictions->resize(static_cast<size_t>(batch.size) * static_cast<size_t>(num_outputs_));
    if (batch.size > 0 && batch.features == nullptr) return Error("needs parsed features");
    std::vector<const Array*> inputs;
    for (const data::FeatureSpec& f : features_) {
      ASSIGN_OR_RETURN(const Array* a, batch.features->GetArray(f.name));
      if (a->rank() < 1 || a->dim(0) != batch.size) {
        return Error("feature \"" + f.name + "\" does not have the batch's rows");
      }
      inputs.push_back(a);
    }
    for (int64_t begin = 0; begin < batch.size; begin += batch_size_) {
      const int64_t n = std::min(batch_size_, batch.size - begin);
      const double t0 = Now();
      RETURN_IF_ERROR(Resize(n));
      for (int i = 0; i < interp_->num_inputs(); ++i) {
        RETURN_IF_ERROR(Fill(i, *inputs[static_cast<size_t>(i)], begin, n));
      }
      Status s = interp_->Invoke();
      if (!s.ok()) return Error(s.message());
      ReadOutput(predictions->data() + begin * num_outputs_, n);
      Timed(Now() - t0, n);
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<ModelRunner>> Clone() const override {
    return Create(spec_, info_.path, model_, options_);
  }

 private:
  LiteRunner() = default;

  Status Resize(int64_t n) {
    if (n == allocated_batch_) return Status::Ok();
    for (int i = 0; i < interp_->num_inputs(); ++i) {
      std::vector<int32_t> shape = interp_->input(i).shape;
      shape[0] = static_cast<int32_t>(n);
      Status s = interp_->ResizeInput(i, shape);
      if (!s.ok()) return Error(s.message());
    }
    Status s = interp_->AllocateTensors();
    if (!s.ok()) return Error(fmt::format("batch of {}: {}", n, s.message()));
    const lite::Tensor& o = interp_->output(output_);
    if (o.rank() < 1 || o.dim(0) != n || o.num_elements() != n * num_outputs_) {
      return Error(fmt::format("output \"{}\" does not have {} rows of {} values after resizing",
                               o.name, n, num_outputs_));
    }
    allocated_batch_ = n;
    return Status::Ok();
  }

  // Copies rows [begin, begin + n) of `a` into input i, converting.
  Status Fill(int i, const Array& a, int64_t begin, int64_t n) {
    const lite::Tensor& t = interp_->input(i);
    ASSIGN_OR_RETURN(std::span<uint8_t> dst, interp_->mutable_input_data(i));
    const int64_t row = a.num_elements() / std::max<int64_t>(a.dim(0), 1);
    const int64_t count = n * row;
    if (static_cast<int64_t>(dst.size()) !=
        count * static_cast<int64_t>(lite::TensorTypeSize(t.type))) {
      return Error("input \"" + t.name + "\": feature size does not match the tensor");
    }
    if (a.dtype() == DType::kFloat32) {
      const float* src = a.data<float>().data() + begin * row;
      switch (t.type) {
        case tflite::TensorType::FLOAT32:
          std::memcpy(dst.data(), src, static_cast<size_t>(count) * sizeof(float));
          break;
        case tflite::TensorType::INT8:
          QuantizeFloats(src, count, t.scale(), t.zero_point(),
                         reinterpret_cast<int8_t*>(dst.data()));
          break;
        case tflite::TensorType::UINT8:
          QuantizeFloats(src, count, t.scale(), t.zero_point(), dst.data());
          break;
        default:
          return Error("input \"" + t.name + "\": float feature for a non-float tensor");
      }
    } else {
      const int64_t* src = a.data<int64_t>().data() + begin * row;
      if (t.type == tflite::TensorType::INT64) {
        std::memcpy(dst.data(), src, static_cast<size_t>(count) * sizeof(int64_t));
      } else if (t.type == tflite::TensorType::INT32) {
        auto* d = reinterpret_cast<int32_t*>(dst.data());
        for (int64_t j = 0; j < count; ++j) {
          if (src[j] < INT32_MIN || src[j] > INT32_MAX) {
            return Error(fmt::format("input \"{}\": value {} does not fit int32", t.name, src[j]));
          }
          d[j] = static_cast<int32_t>(src[j]);
        }
      } else {
        return Error("input \"" + t.name + "\": int64 feature for a non-integer tensor");
      }
    }
    return Status::Ok();
  }

  void ReadOutput(float* out, int64_t n) const {
    const lite::Tensor& o = interp_->output(output_);
    const int64_t count = n * num_outputs_;
    if (o.type == tflite::TensorType::FLOAT32) {
      std::memcpy(out, o.as<float>(), static_cast<size_t>(count) * sizeof(float));
      return;
    }
    const float scale = o.scale();
    const int32_t zp = o.zero_point();
    if (o.type == tflite::TensorType::INT8) {
      const int8_t* q = o.as<int8_t>();
      for (int64_t j = 0; j < count; ++j) out[j] = scale * static_cast<float>(q[j] - zp);
    } else {
      const uint8_t* q = o.as<uint8_t>();
      for (int64_t j = 0; j < count; ++j) out[j] = scale * static_cast<float>(q[j] - zp);
    }
  }

  ModelSpec spec_;
  ModelRunnerOptions options_;
  std::shared_ptr<const lite::Model> model_;
  std::unique_ptr<lite::Interpreter> interp_;
  int output_ = 0;
  int64_t allocated_batch_ = -1;
};

}  // namespace

Status ModelRunner::CheckFeatures(std::span<const std::string> available) const {
  const std::vector<std::string> inputs = input_names();
  for (const data::FeatureSpec& f : input_features()) {
    if (std::find(available.begin(), available.end(), f.name) != available.end()) continue;
    // The model input this feature feeds (same name, or a TFLite tensor name).
    std::string input = f.name;
    for (const std::string& in : inputs) {
      if (FeatureNameOfInput(in) == f.name) input = in;
    }
    const ModelInfo m = info();
    return Status::InvalidArgument(
        "model \"" + m.name + "\": input \"" + input + "\" needs feature \"" + f.name +
        "\", not in the examples (model inputs: " + JoinNames(inputs) +
        "; available features: " + JoinNames({available.begin(), available.end()}) + ")");
  }
  return Status::Ok();
}

Result<std::string> RunnerModelType(std::string_view model_type) {
  if (model_type.empty() || model_type == "native" || model_type == "tf_keras") {
    return std::string("native");
  }
  if (model_type == "tf_lite") return std::string("tf_lite");
  return Status::InvalidArgument("model_type \"" + std::string(model_type) +
                                 "\" is not supported (native, tf_keras, tf_lite)");
}

Result<std::unique_ptr<ModelRunner>> OpenModel(const ModelSpec& spec, const std::string& path,
                                               const ModelRunnerOptions& options) {
  if (options.batch_size < 1) {
    return Status::InvalidArgument(
        fmt::format("model runner batch_size {} must be >= 1", options.batch_size));
  }
  ASSIGN_OR_RETURN(std::string type, RunnerModelType(spec.model_type()));
  if (type == "tf_lite") return LiteRunner::Open(spec, path, options);
  ASSIGN_OR_RETURN(auto r, NativeRunner::Open(spec, path, options));
  RETURN_IF_ERROR(static_cast<NativeRunner*>(r.get())->Probe());
  return r;
}

std::string FeatureNameOfInput(std::string_view name) {
  constexpr std::string_view kPrefix = "serving_default_";
  if (name.starts_with(kPrefix)) name.remove_prefix(kPrefix.size());
  const size_t colon = name.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < name.size() &&
      std::all_of(name.begin() + static_cast<std::ptrdiff_t>(colon) + 1, name.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    name = name.substr(0, colon);
  }
  return std::string(name);
}

}  // namespace edgepipe::eval
