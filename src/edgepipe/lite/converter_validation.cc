#include "edgepipe/lite/converter_validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <random>

#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", v);
  return buf;
}

// Signature name -> graph input/output position, from the file's SignatureDef.
struct SignatureIo {
  std::map<std::string, int> inputs, outputs;
};

Result<SignatureIo> FindSignatureIo(const Model& m, const std::string& key) {
  const auto* defs = m.fb().signature_defs();
  const tflite::SignatureDef* def = nullptr;
  for (flatbuffers::uoffset_t i = 0; defs && i < defs->size(); ++i) {
    const auto* d = defs->Get(i);
    if (d->signature_key() && d->signature_key()->str() == key) def = d;
  }
  if (def == nullptr) {
    return Status::InvalidArgument(m.name() + ": no SignatureDef \"" + key + "\"");
  }
  const tflite::SubGraph& sg = m.subgraph(0);
  auto position = [](const flatbuffers::Vector<int32_t>* io, uint32_t t) {
    for (flatbuffers::uoffset_t i = 0; io && i < io->size(); ++i) {
      if (static_cast<uint32_t>(io->Get(i)) == t) return static_cast<int>(i);
    }
    return -1;
  };
  SignatureIo out;
  for (const auto* side : {def->inputs(), def->outputs()}) {
    const bool in = side == def->inputs();
    for (flatbuffers::uoffset_t i = 0; side && i < side->size(); ++i) {
      const auto* tm = side->Get(i);
      const std::string name = tm->name() ? tm->name()->str() : "";
      const int pos = position(in ? sg.inputs() : sg.outputs(), tm->tensor_index());
      if (pos < 0) {
        return Status::InvalidArgument(m.name() + ": signature " + (in ? "input" : "output") +
                                       " \"" + name + "\" maps to tensor " +
                                       std::to_string(tm->tensor_index()) + ", not a graph " +
                                       (in ? "input" : "output"));
      }
      (in ? out.inputs : out.outputs)[name] = pos;
    }
  }
  return out;
}

}  // namespace

std::string ValidationReport::ToString() const {
  std::string s = std::to_string(samples) + " samples: max |diff| " + Num(max_abs_diff);
  if (!worst_output.empty()) s += " on \"" + worst_output + "\"";
  s += " (outputs up to " + Num(max_abs_reference) + ")";
  if (top1_compared > 0) {
    char pct[32];
    std::snprintf(pct, sizeof(pct), "%.1f%%", 100.0 * top1_agreement());
    s += "; top-1 agreement " + std::to_string(top1_agree) + "/" + std::to_string(top1_compared) +
         " (" + pct + ")";
  }
  return s;
}

Result<model::NamedArrays> RandomSignatureInputs(const model::Signature& signature, int64_t n,
                                                 uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  model::NamedArrays out;
  // [n, dims[skip:]...]
  auto add = [&](const std::string& name, const std::vector<int64_t>& dims, size_t skip) -> Status {
    std::vector<int64_t> shape;
    shape.reserve(dims.size() + 1);
    shape.push_back(n);
    for (size_t i = skip; i < dims.size(); ++i) shape.push_back(dims[i]);
    ASSIGN_OR_RETURN(Array a, Array::Zeros(DType::kFloat32, std::move(shape)));
    for (float& v : a.data<float>()) v = dist(gen);
    out.emplace(name, std::move(a));
    return Status::Ok();
  };
  if (signature.kind == model::SignatureKind::kTensors) {
    for (const model::TensorSpec& t : signature.inputs) {
      RETURN_IF_ERROR(add(t.name, t.shape, 1));
    }
  } else {
    for (const data::FeatureSpec& f : signature.features) {
      if (f.type == data::FeatureType::kString) {
        return Status::InvalidArgument("signature \"" + signature.name + "\": feature \"" + f.name +
                                       "\" is a string feature: no random numeric input");
      }
      RETURN_IF_ERROR(add(f.name, f.shape, 0));
    }
  }
  return out;
}

namespace {

// A float sample as the input tensor takes it: int8/uint8 inputs (a
// quantized file's integer I/O) get round-to-nearest and clamping with the
// tensor's scale and zero point; other inputs are passed as they are.
Result<Array> QuantizeForInput(const Tensor& t, const Array& a) {
  const bool i8 = t.type == tflite::TensorType::INT8;
  if (!i8 && t.type != tflite::TensorType::UINT8) return a;
  if (a.dtype() != DType::kFloat32 || t.scale() <= 0.0f) {
    return Status::InvalidArgument("tflite: input \"" + t.name +
                                   "\" is quantized; samples must be float32 and the tensor "
                                   "must have a positive scale");
  }
  ASSIGN_OR_RETURN(Array q, Array::Uninitialized(i8 ? DType::kInt8 : DType::kUInt8, a.shape()));
  const double lo = i8 ? -128.0 : 0.0, hi = i8 ? 127.0 : 255.0;
  auto src = a.data<float>();
  for (size_t i = 0; i < src.size(); ++i) {
    const double v = std::clamp(
        std::nearbyint(static_cast<double>(src[i]) / t.scale()) + t.zero_point(), lo, hi);
    if (i8) {
      q.data<int8_t>()[i] = static_cast<int8_t>(v);
    } else {
      q.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    }
  }
  return q;
}

// int8/uint8 outputs as float (scale * (q - zero_point)); others unchanged.
Result<Array> DequantizeOutput(const Tensor& t, const Array& a) {
  if (a.dtype() != DType::kInt8 && a.dtype() != DType::kUInt8) return a;
  ASSIGN_OR_RETURN(Array f, Array::Uninitialized(DType::kFloat32, a.shape()));
  auto out = f.data<float>();
  for (size_t i = 0; i < out.size(); ++i) {
    const int32_t q = a.dtype() == DType::kInt8 ? a.data<int8_t>()[i] : a.data<uint8_t>()[i];
    out[i] = t.scale() * static_cast<float>(q - t.zero_point());
  }
  return f;
}

}  // namespace

Result<ValidationReport> CompareWithNative(const nn::Model& model,
                                           const model::Signature& signature,
                                           std::string_view tflite_bytes,
                                           std::span<const model::NamedArrays> samples) {
  // The native side runs over tensors; an examples signature's features are
  // reshaped to the model inputs they feed.
  model::Signature tensor_sig = signature;
  std::map<std::string, std::vector<int64_t>> model_shape;
  {
    const auto names = model.input_names();
    const auto shapes = model.input_shapes();
    for (size_t i = 0; i < names.size(); ++i) model_shape[names[i]] = shapes[i];
  }
  if (signature.kind == model::SignatureKind::kExamples) {
    std::vector<model::TensorSpec> specs;
    for (const data::FeatureSpec& f : signature.features) {
      auto it = model_shape.find(f.name);
      if (it == model_shape.end()) {
        return Status::InvalidArgument("signature \"" + signature.name + "\": feature \"" + f.name +
                                       "\" is not a model input");
      }
      std::vector<int64_t> s = it->second;
      s[0] = -1;
      specs.push_back({f.name, DType::kFloat32, s});
    }
    tensor_sig = model::TensorSignature(signature.name, std::move(specs));
  }
  ASSIGN_OR_RETURN(model::SignatureRunner runner,
                   model::SignatureRunner::Create(model, tensor_sig));

  ASSIGN_OR_RETURN(std::unique_ptr<Model> loaded, Model::FromBytes(tflite_bytes, "tflite"));
  std::shared_ptr<const Model> file(std::move(loaded));
  ASSIGN_OR_RETURN(SignatureIo io, FindSignatureIo(*file, signature.name));
  ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interp,
                   Interpreter::Create(file, BuiltinOpResolver()));

  ValidationReport r;
  for (const model::NamedArrays& batch : samples) {
    if (batch.empty()) continue;
    const int64_t n = batch.begin()->second.rank() > 0 ? batch.begin()->second.dim(0) : 0;
    model::NamedArrays native_in;
    for (const auto& [name, a] : batch) {
      auto pos = io.inputs.find(name);
      if (pos == io.inputs.end()) {
        return Status::InvalidArgument("tflite: signature \"" + signature.name +
                                       "\" has no input \"" + name + "\"");
      }
      Array copy = a;
      if (signature.kind == model::SignatureKind::kExamples && model_shape.count(name)) {
        std::vector<int64_t> s = model_shape[name];
        s[0] = n;
        RETURN_IF_ERROR(copy.Reshape(s));
      }
      native_in.emplace(name, std::move(copy));
      std::vector<int32_t> shape(a.shape().begin(), a.shape().end());
      RETURN_IF_ERROR(interp->ResizeInput(pos->second, shape));
    }
    ASSIGN_OR_RETURN(model::NamedArrays want, runner.Run(native_in));
    RETURN_IF_ERROR(interp->AllocateTensors());
    for (const auto& [name, a] : batch) {
      ASSIGN_OR_RETURN(Array fed, QuantizeForInput(interp->input(io.inputs[name]), a));
      RETURN_IF_ERROR(interp->SetInput(io.inputs[name], fed));
    }
    RETURN_IF_ERROR(interp->Invoke());
    for (const auto& [name, ref] : want) {
      auto pos = io.outputs.find(name);
      if (pos == io.outputs.end()) {
        return Status::InvalidArgument("tflite: signature \"" + signature.name +
                                       "\" has no output \"" + name + "\"");
      }
      ASSIGN_OR_RETURN(Array raw, interp->GetOutput(pos->second));
      ASSIGN_OR_RETURN(Array got, DequantizeOutput(interp->output(pos->second), raw));
      if (got.shape() != ref.shape() || got.dtype() != DType::kFloat32) {
        return Status::InvalidArgument("tflite: output \"" + name + "\" has shape " +
                                       ShapeToString(got.shape()) + ", the native model " +
                                       ShapeToString(ref.shape()));
      }
      auto g = got.data<float>();
      auto w = ref.data<float>();
      for (size_t i = 0; i < w.size(); ++i) {
        const double d = std::fabs(static_cast<double>(g[i]) - static_cast<double>(w[i]));
        r.max_abs_reference = std::max(r.max_abs_reference, std::fabs(static_cast<double>(w[i])));
        if (d > r.max_abs_diff || std::isnan(d)) {
          r.max_abs_diff = std::isnan(d) ? INFINITY : d;
          r.worst_output = name;
        }
      }
      if (ref.rank() == 2 && ref.dim(1) >= 2) {
        const int64_t k = ref.dim(1);
        for (int64_t row = 0; row < ref.dim(0); ++row) {
          const float* gr = g.data() + row * k;
          const float* wr = w.data() + row * k;
          ++r.top1_compared;
          if (std::max_element(gr, gr + k) - gr == std::max_element(wr, wr + k) - wr) {
            ++r.top1_agree;
          }
        }
      }
    }
    r.samples += n;
  }
  return r;
}

Status CheckFloatConversion(const ValidationReport& report, std::string_view what,
                            double tolerance) {
  const double limit = tolerance * std::max(1.0, report.max_abs_reference);
  if (!(report.max_abs_diff <= limit)) {
    return Status::FailedPrecondition(
        std::string(what) + ": float conversion differs from the native model by " +
        Num(report.max_abs_diff) + " on output \"" + report.worst_output + "\" over " +
        std::to_string(report.samples) + " samples; the limit is " + Num(tolerance) +
        " x max(1, largest output " + Num(report.max_abs_reference) + ")");
  }
  return Status::Ok();
}

}  // namespace edgepipe::lite
