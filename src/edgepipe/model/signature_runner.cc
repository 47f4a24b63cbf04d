#include "edgepipe/model/signature_runner.h"

#include "edgepipe/nn/autodiff.h"

namespace edgepipe::model {

Result<SignatureRunner> SignatureRunner::Create(const LoadedModel& model, std::string_view name) {
  const Signature* sig = model.FindSignature(name);
  if (sig == nullptr || model.model == nullptr) {
    std::string known;
    for (const Signature& s : model.signatures) known += (known.empty() ? "" : ", ") + s.name;
    return Status::NotFound("signature \"" + std::string(name) + "\" is not in the model (has: " +
                            (known.empty() ? std::string("none") : known) + ")");
  }
  return Create(*model.model, *sig);
}

Result<SignatureRunner> SignatureRunner::Create(const nn::Model& model, Signature signature) {
  RETURN_IF_ERROR(ValidateSignature(signature, model));
  SignatureRunner r(model, std::move(signature));
  if (r.signature_.kind == SignatureKind::kExamples) {
    ASSIGN_OR_RETURN(data::ExampleParser p, data::ExampleParser::Create(r.signature_.features));
    r.parser_.emplace(std::move(p));
  }
  return r;
}

Status SignatureRunner::Error(const std::string& message) const {
  return Status::InvalidArgument("signature \"" + signature_.name + "\": " + message);
}

Result<NamedArrays> SignatureRunner::Run(std::span<const std::string> serialized_examples) {
  if (signature_.kind != SignatureKind::kExamples) {
    return Error("takes named tensors, not serialized examples");
  }
  Result<data::Batch> batch = parser_->Parse(serialized_examples);
  if (!batch.ok()) return Error(batch.status().message());
  std::map<std::string, const Array*> by_name;
  for (const data::FeatureSpec& f : signature_.features) {
    ASSIGN_OR_RETURN(const Array* a, batch->GetArray(f.name));
    by_name[f.name] = a;
  }
  return Execute(by_name, static_cast<int64_t>(serialized_examples.size()));
}

Result<NamedArrays> SignatureRunner::Run(const NamedArrays& inputs) {
  if (signature_.kind != SignatureKind::kTensors) {
    return Error("takes serialized tf.Examples, not named tensors");
  }
  for (const auto& [name, a] : inputs) {
    bool known = false;
    for (const TensorSpec& t : signature_.inputs) known = known || t.name == name;
    if (!known) return Error("input \"" + name + "\" is not in the signature");
  }
  std::map<std::string, const Array*> by_name;
  int64_t batch = -1;
  for (const TensorSpec& t : signature_.inputs) {
    auto it = inputs.find(t.name);
    if (it == inputs.end()) return Error("input \"" + t.name + "\" is missing");
    const Array& a = it->second;
    if (a.dtype() != t.dtype) {
      return Error("input \"" + t.name + "\" has dtype " + std::string(DTypeName(a.dtype())) +
                   ", signature needs " + std::string(DTypeName(t.dtype)));
    }
    bool ok = a.rank() == static_cast<int>(t.shape.size());
    for (size_t d = 0; ok && d < t.shape.size(); ++d) {
      ok = t.shape[d] == -1 || t.shape[d] == a.shape()[d];
    }
    if (!ok) {
      return Error("input \"" + t.name + "\" has shape " + ShapeToString(a.shape()) +
                   ", signature needs " + ShapeToString(t.shape));
    }
    if (batch >= 0 && a.dim(0) != batch) {
      return Error("input \"" + t.name + "\" has batch size " + std::to_string(a.dim(0)) +
                   ", other inputs " + std::to_string(batch));
    }
    batch = a.dim(0);
    by_name[t.name] = &a;
  }
  return Execute(by_name, batch);
}

Result<NamedArrays> SignatureRunner::Execute(const std::map<std::string, const Array*>& by_name,
                                             int64_t batch) {
  const std::vector<std::string> out_names = OutputNames(*model_);
  const std::vector<nn::Shape> out_shapes = model_->output_shapes();
  NamedArrays out;
  if (batch == 0) {
    for (size_t k = 0; k < out_names.size(); ++k) {
      nn::Shape s = out_shapes[k];
      s[0] = 0;
      ASSIGN_OR_RETURN(out[out_names[k]], Array::Zeros(DType::kFloat32, s));
    }
    return out;
  }
  const std::vector<std::string> in_names = model_->input_names();
  const std::vector<nn::Shape> in_shapes = model_->input_shapes();
  std::vector<nn::Var> feeds;
  for (size_t i = 0; i < in_names.size(); ++i) {
    ASSIGN_OR_RETURN(nn::Tensor t, nn::Tensor::FromArray(*by_name.at(in_names[i])));
    nn::Shape s = in_shapes[i];
    s[0] = batch;
    if (nn::ShapeSize(s) != t.size()) {
      return Error("input \"" + in_names[i] + "\" has " + std::to_string(t.size()) +
                   " values, model needs " + ShapeToString(s));
    }
    feeds.push_back(nn::Var::Constant(t.Reshaped(s)));
  }
  nn::NoGradGuard no_grad;
  nn::CallContext ctx;
  ctx.training = false;
  ASSIGN_OR_RETURN(std::vector<nn::Var> results, model_->Call(feeds, ctx));
  for (size_t k = 0; k < results.size(); ++k) out[out_names[k]] = results[k].value().ToArray();
  return out;
}

}  // namespace edgepipe::model
