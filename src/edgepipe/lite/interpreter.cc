#include "edgepipe/lite/interpreter.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "edgepipe/lite/memory_planner.h"

namespace edgepipe::lite {
namespace {

constexpr size_t kArenaAlignment = 64;

const char* StateName(Interpreter::State s) {
  switch (s) {
    case Interpreter::State::kCreated:
      return "created";
    case Interpreter::State::kAllocated:
      return "allocated";
    case Interpreter::State::kInvokable:
      return "invokable";
  }
  return "?";
}

bool SameQuant(const Tensor& a, const Tensor& b) {
  return a.quant->scale == b.quant->scale && a.quant->zero_point == b.quant->zero_point;
}

// The spatial paddings {top, bottom, left, right} of PAD op `pad` when it can
// be folded into a conv (see InterpreterOptions::fold_pad), else false.
bool FoldablePad(const KernelContext& pad, KernelContext::FoldedPad* fp) {
  if (pad.num_inputs() != 2 || pad.num_outputs() != 1) return false;
  const Tensor* in = pad.inputs[0];
  const Tensor* paddings = pad.inputs[1];
  const Tensor* out = pad.outputs[0];
  if (in == nullptr || paddings == nullptr || !paddings->is_const || paddings->data == nullptr) {
    return false;
  }
  if (in->rank() != 4 || paddings->num_elements() != 8) return false;
  if (in->type != out->type || !SameQuant(*in, *out)) return false;
  if (in->type != tflite::TensorType::INT8 && in->type != tflite::TensorType::UINT8) return false;
  int64_t v[8];
  for (int i = 0; i < 8; ++i) {
    if (paddings->type == tflite::TensorType::INT32) {
      v[i] = paddings->as<int32_t>()[i];
    } else if (paddings->type == tflite::TensorType::INT64) {
      v[i] = paddings->as<int64_t>()[i];
    } else {
      return false;
    }
    if (v[i] < 0 || v[i] > (1 << 20)) return false;
  }
  if (v[0] != 0 || v[1] != 0 || v[6] != 0 || v[7] != 0) return false;
  *fp = {static_cast<int>(v[2]), static_cast<int>(v[3]), static_cast<int>(v[4]),
         static_cast<int>(v[5])};
  return true;
}

}  // namespace

Result<std::unique_ptr<Interpreter>> Interpreter::Create(std::shared_ptr<const Model> model,
                                                         const OpResolver& resolver,
                                                         InterpreterOptions options) {
  std::unique_ptr<Interpreter> in(new Interpreter());
  in->model_ = std::move(model);
  const Model& m = *in->model_;
  const tflite::SubGraph& sg = m.subgraph(0);
  const auto err = [&](std::string msg) {
    return Status::InvalidArgument(fmt::format("{}: {}", m.name(), msg));
  };
  const auto* fb_tensors = sg.tensors();
  const int num_tensors = fb_tensors ? static_cast<int>(fb_tensors->size()) : 0;
  in->tensors_.resize(static_cast<size_t>(num_tensors));
  for (int t = 0; fb_tensors && t < num_tensors; ++t) {
    const tflite::Tensor& ft = *fb_tensors->Get(static_cast<flatbuffers::uoffset_t>(t));
    Tensor& rt = in->tensors_[static_cast<size_t>(t)];
    rt.index = t;
    rt.name = ft.name() ? ft.name()->str() : "";
    rt.type = ft.type();
    if (ft.shape()) rt.shape.assign(ft.shape()->begin(), ft.shape()->end());
    rt.quant = &m.TensorQuant(0, t);
    rt.bytes = static_cast<size_t>(rt.num_elements()) * TensorTypeSize(rt.type);
    const auto data = m.TensorData(0, t);
    if (!data.empty()) {
      rt.is_const = true;
      // Kernels only read constants; the arena is the only memory written.
      rt.data = const_cast<uint8_t*>(data.data());
    }
    if (ft.is_variable()) {
      // State: written by the ops that own it, never constant. Initial data
      // in the file is ignored (TFLite resets variables to zero too).
      rt.is_variable = true;
      rt.is_const = false;
      rt.data = nullptr;
      if (TensorTypeSize(rt.type) == 0) {
        return Status::Unimplemented(fmt::format("{}: variable tensor {} \"{}\" has type {}",
                                                 m.name(), t, rt.name, TensorTypeName(rt.type)));
      }
    }
  }
  if (sg.inputs()) in->inputs_.assign(sg.inputs()->begin(), sg.inputs()->end());
  if (sg.outputs()) in->outputs_.assign(sg.outputs()->begin(), sg.outputs()->end());
  in->input_set_.assign(in->inputs_.size(), false);
  for (int i : in->inputs_) {
    if (in->tensors_[static_cast<size_t>(i)].is_const) {
      return err(fmt::format("graph input tensor {} is a constant", i));
    }
  }
  // Which tensors hold a value before each op: constants and graph inputs.
  std::vector<bool> written(static_cast<size_t>(num_tensors), false);
  for (int t = 0; t < num_tensors; ++t) {
    const Tensor& rt = in->tensors_[static_cast<size_t>(t)];
    written[static_cast<size_t>(t)] = rt.is_const || rt.is_variable;
  }
  for (int i : in->inputs_) written[static_cast<size_t>(i)] = true;
  const auto* fb_ops = sg.operators();
  const int num_ops = fb_ops ? static_cast<int>(fb_ops->size()) : 0;
  in->ops_.reserve(static_cast<size_t>(num_ops));
  for (int o = 0; fb_ops && o < num_ops; ++o) {
    const tflite::Operator* op = fb_ops->Get(static_cast<flatbuffers::uoffset_t>(o));
    const int32_t code = m.OpCode(0, o);
    const tflite::OperatorCode& oc = *m.fb().operator_codes()->Get(op->opcode_index());
    std::string name = BuiltinOperatorName(code);
    if (code == static_cast<int32_t>(tflite::BuiltinOperator::CUSTOM)) {
      name = fmt::format("CUSTOM \"{}\"", oc.custom_code() ? oc.custom_code()->str() : "");
    }
    const KernelRegistration* reg = resolver.Find(code);
    if (reg == nullptr || code == static_cast<int32_t>(tflite::BuiltinOperator::CUSTOM)) {
      return Status::Unimplemented(
          fmt::format("{}: operator {} is {} (code {}), which has no registered kernel", m.name(),
                      o, name, code));
    }
    KernelContext& ctx = in->ops_.emplace_back(o, name, op, options.arithmetic);
    if (op->inputs()) {
      for (int32_t t : *op->inputs()) {
        if (t < 0) {
          ctx.inputs.push_back(nullptr);
          continue;
        }
        if (!written[static_cast<size_t>(t)]) {
          return err(fmt::format("operator {} ({}) reads tensor {} \"{}\" before any op writes it",
                                 o, name, t, in->tensors_[static_cast<size_t>(t)].name));
        }
        ctx.inputs.push_back(&in->tensors_[static_cast<size_t>(t)]);
      }
    }
    if (op->outputs()) {
      for (int32_t t : *op->outputs()) {
        if (written[static_cast<size_t>(t)]) {
          return err(fmt::format(
              "operator {} ({}) writes tensor {} \"{}\", which is a constant, a graph input or "
              "written by an earlier op",
              o, name, t, in->tensors_[static_cast<size_t>(t)].name));
        }
        written[static_cast<size_t>(t)] = true;
        ctx.outputs.push_back(&in->tensors_[static_cast<size_t>(t)]);
      }
    }
    in->kernels_.push_back(*reg);
  }
  for (int t : in->outputs_) {
    if (!written[static_cast<size_t>(t)]) {
      return err(fmt::format("graph output tensor {} is never written", t));
    }
  }
  in->folded_.assign(in->ops_.size(), false);
  if (options.fold_pad) in->FoldPads();
  return in;
}

void Interpreter::FoldPads() {
  const int pad_code = static_cast<int32_t>(tflite::BuiltinOperator::PAD);
  const int conv_code = static_cast<int32_t>(tflite::BuiltinOperator::CONV_2D);
  const int dw_code = static_cast<int32_t>(tflite::BuiltinOperator::DEPTHWISE_CONV_2D);
  // Readers of each tensor: (op, input slot).
  std::vector<std::vector<std::pair<int, int>>> readers(tensors_.size());
  for (size_t o = 0; o < ops_.size(); ++o) {
    for (size_t i = 0; i < ops_[o].inputs.size(); ++i) {
      if (const Tensor* t = ops_[o].inputs[i]) {
        readers[static_cast<size_t>(t->index)].emplace_back(static_cast<int>(o),
                                                            static_cast<int>(i));
      }
    }
  }
  for (size_t o = 0; o < ops_.size(); ++o) {
    if (model_->OpCode(0, static_cast<int>(o)) != pad_code) continue;
    KernelContext::FoldedPad fp;
    if (!FoldablePad(ops_[o], &fp)) continue;
    const Tensor* out = ops_[o].outputs[0];
    if (std::find(outputs_.begin(), outputs_.end(), out->index) != outputs_.end()) continue;
    const auto& r = readers[static_cast<size_t>(out->index)];
    if (r.size() != 1 || r[0].second != 0) continue;
    const size_t c = static_cast<size_t>(r[0].first);
    const int code = model_->OpCode(0, static_cast<int>(c));
    if ((code != conv_code && code != dw_code) || !kernels_[c].folds_input_pad) continue;
    KernelContext& conv = ops_[c];
    if (conv.num_inputs() < 2 || conv.inputs[1] == nullptr || conv.inputs[1]->type != out->type) {
      continue;  // hybrid or mixed types
    }
    conv.inputs[0] = ops_[o].inputs[0];
    conv.folded_pad = fp;
    folded_[o] = true;
  }
}

int Interpreter::num_folded_ops() const {
  return static_cast<int>(std::count(folded_.begin(), folded_.end(), true));
}

int Interpreter::FindInput(std::string_view name) const {
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (tensors_[static_cast<size_t>(inputs_[i])].name == name) return static_cast<int>(i);
  }
  return -1;
}

int Interpreter::FindOutput(std::string_view name) const {
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (tensors_[static_cast<size_t>(outputs_[i])].name == name) return static_cast<int>(i);
  }
  return -1;
}

Status Interpreter::ResizeInput(int i, std::vector<int32_t> shape) {
  if (i < 0 || i >= num_inputs()) {
    return Status::OutOfRange(fmt::format("input {} out of range [0, {})", i, num_inputs()));
  }
  Tensor& t = tensors_[static_cast<size_t>(inputs_[static_cast<size_t>(i)])];
  if (shape.size() != t.shape.size()) {
    return Status::InvalidArgument(fmt::format("input {} \"{}\": new rank {} differs from rank {}",
                                               i, t.name, shape.size(), t.shape.size()));
  }
  int64_t n = 1;
  for (int32_t d : shape) {
    if (d < 1) {
      return Status::InvalidArgument(
          fmt::format("input {} \"{}\": dimension {} must be >= 1", i, t.name, d));
    }
    n *= d;
    if (n > (int64_t{1} << 31) / 16) {
      return Status::InvalidArgument(fmt::format("input {} \"{}\": shape too large", i, t.name));
    }
  }
  t.shape = std::move(shape);
  t.bytes = static_cast<size_t>(n) * TensorTypeSize(t.type);
  state_ = State::kCreated;
  return Status::Ok();
}

Status Interpreter::AllocateTensors() {
  state_ = State::kCreated;
  for (size_t o = 0; o < ops_.size(); ++o) {
    RETURN_IF_ERROR(kernels_[o].prepare(ops_[o]).WithContext(model_->name()));
  }
  // Lifetimes in op steps: graph inputs from -1, graph outputs to the end.
  const int num_ops = static_cast<int>(ops_.size());
  std::vector<int> first(tensors_.size(), -2);
  std::vector<int> last(tensors_.size(), -2);
  for (int i : inputs_) first[static_cast<size_t>(i)] = last[static_cast<size_t>(i)] = -1;
  for (int o = 0; o < num_ops; ++o) {
    if (folded_[static_cast<size_t>(o)]) continue;
    for (Tensor* t : ops_[static_cast<size_t>(o)].inputs) {
      if (t && !t->is_const) last[static_cast<size_t>(t->index)] = o;
    }
    for (Tensor* t : ops_[static_cast<size_t>(o)].outputs) {
      first[static_cast<size_t>(t->index)] = o;
      last[static_cast<size_t>(t->index)] = std::max(last[static_cast<size_t>(t->index)], o);
    }
  }
  for (int i : outputs_) last[static_cast<size_t>(i)] = num_ops;
  std::vector<BufferRequest> requests;
  std::vector<int> request_tensor;
  for (size_t t = 0; t < tensors_.size(); ++t) {
    if (tensors_[t].is_const || tensors_[t].is_variable || first[t] == -2) continue;
    if (TensorTypeSize(tensors_[t].type) == 0) {
      return Status::Unimplemented(fmt::format("{}: tensor {} \"{}\" has type {}", model_->name(),
                                               t, tensors_[t].name,
                                               TensorTypeName(tensors_[t].type)));
    }
    requests.push_back({tensors_[t].bytes, first[t], std::max(first[t], last[t])});
    request_tensor.push_back(static_cast<int>(t));
  }
  const MemoryPlan plan = PlanMemory(requests, kArenaAlignment);
  // The arena only grows: a plan that fits the current block (a smaller batch
  // after a larger one) reuses it, without allocating or touching new pages.
  const size_t want = std::max<size_t>(plan.arena_bytes, kArenaAlignment);
  if (!arena_ || want > arena_capacity_) {
    arena_.reset();
    arena_capacity_ = 0;
    arena_.reset(static_cast<uint8_t*>(std::aligned_alloc(kArenaAlignment, want)));
    if (!arena_)
      return Status::Internal(
          fmt::format("{}: cannot allocate {} arena bytes", model_->name(), plan.arena_bytes));
    arena_capacity_ = want;
  }
  arena_bytes_ = plan.arena_bytes;
  arena_lower_bound_ = ArenaLowerBound(requests, kArenaAlignment);
  for (size_t r = 0; r < requests.size(); ++r) {
    tensors_[static_cast<size_t>(request_tensor[r])].data = arena_.get() + plan.offsets[r];
  }
  variables_.clear();
  for (Tensor& t : tensors_) {
    if (!t.is_variable) continue;
    uint8_t* p = static_cast<uint8_t*>(std::aligned_alloc(
        kArenaAlignment,
        (std::max<size_t>(t.bytes, 1) + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment));
    if (p == nullptr) {
      return Status::Internal(fmt::format("{}: cannot allocate {} bytes for variable tensor {}",
                                          model_->name(), t.bytes, t.index));
    }
    variables_.emplace_back(p);
    t.data = p;
  }
  ResetVariables();
  std::fill(input_set_.begin(), input_set_.end(), false);
  state_ = inputs_.empty() ? State::kInvokable : State::kAllocated;
  return Status::Ok();
}

void Interpreter::ResetVariables() {
  for (Tensor& t : tensors_) {
    if (!t.is_variable || t.data == nullptr) continue;
    const int value = t.type == tflite::TensorType::INT8 ? t.zero_point() : 0;
    std::memset(t.data, value, t.bytes);
  }
}

Status Interpreter::ResetVariableTensors() {
  if (state_ == State::kCreated) {
    return Status::FailedPrecondition(
        fmt::format("{}: ResetVariableTensors before AllocateTensors", model_->name()));
  }
  ResetVariables();
  return Status::Ok();
}

Result<std::span<uint8_t>> Interpreter::mutable_input_data(int i) {
  if (state_ == State::kCreated) {
    return Status::FailedPrecondition(
        fmt::format("{}: input data requested before AllocateTensors", model_->name()));
  }
  if (i < 0 || i >= num_inputs()) {
    return Status::OutOfRange(fmt::format("input {} out of range [0, {})", i, num_inputs()));
  }
  Tensor& t = tensors_[static_cast<size_t>(inputs_[static_cast<size_t>(i)])];
  input_set_[static_cast<size_t>(i)] = true;
  if (std::all_of(input_set_.begin(), input_set_.end(), [](bool b) { return b; })) {
    state_ = State::kInvokable;
  }
  return std::span<uint8_t>(t.data, t.bytes);
}

Status Interpreter::SetInput(int i, const Array& value) {
  if (state_ == State::kCreated) {
    return Status::FailedPrecondition(
        fmt::format("{}: SetInput before AllocateTensors", model_->name()));
  }
  if (i < 0 || i >= num_inputs()) {
    return Status::OutOfRange(fmt::format("input {} out of range [0, {})", i, num_inputs()));
  }
  const Tensor& t = input(i);
  ASSIGN_OR_RETURN(DType dtype, ArrayDTypeOf(t.type));
  std::vector<int64_t> want(t.shape.begin(), t.shape.end());
  if (value.dtype() != dtype || value.shape() != want) {
    return Status::InvalidArgument(
        fmt::format("input {} \"{}\": got {}{}, expected {}{}", i, t.name, DTypeName(value.dtype()),
                    ShapeToString(value.shape()), DTypeName(dtype), ShapeToString(want)));
  }
  ASSIGN_OR_RETURN(std::span<uint8_t> dst, mutable_input_data(i));
  std::memcpy(dst.data(), value.raw_data(), dst.size());
  return Status::Ok();
}

Status Interpreter::Invoke() {
  if (state_ != State::kInvokable) {
    std::string missing;
    for (size_t i = 0; i < input_set_.size(); ++i) {
      if (!input_set_[i]) missing += fmt::format("{}{}", missing.empty() ? "" : ", ", i);
    }
    return Status::FailedPrecondition(
        fmt::format("{}: Invoke in state {}; needs AllocateTensors and every input set (unset: {})",
                    model_->name(), StateName(state_), missing));
  }
  if (profiler_ != nullptr) {
    using Clock = std::chrono::steady_clock;
    for (size_t o = 0; o < ops_.size(); ++o) {
      if (folded_[o]) continue;
      const Clock::time_point start = Clock::now();
      RETURN_IF_ERROR(kernels_[o].eval(ops_[o]).WithContext(model_->name()));
      profiler_->OnOp(
          static_cast<int>(o),
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
    }
    return Status::Ok();
  }
  for (size_t o = 0; o < ops_.size(); ++o) {
    if (folded_[o]) continue;
    RETURN_IF_ERROR(kernels_[o].eval(ops_[o]).WithContext(model_->name()));
  }
  return Status::Ok();
}

Result<Array> Interpreter::GetOutput(int i) const {
  if (state_ == State::kCreated) {
    return Status::FailedPrecondition(
        fmt::format("{}: GetOutput before AllocateTensors", model_->name()));
  }
  if (i < 0 || i >= num_outputs()) {
    return Status::OutOfRange(fmt::format("output {} out of range [0, {})", i, num_outputs()));
  }
  const Tensor& t = output(i);
  ASSIGN_OR_RETURN(DType dtype, ArrayDTypeOf(t.type));
  ASSIGN_OR_RETURN(Array a,
                   Array::Zeros(dtype, std::vector<int64_t>(t.shape.begin(), t.shape.end())));
  std::memcpy(a.raw_data(), t.data, a.num_bytes());
  return a;
}

size_t Interpreter::unshared_bytes() const {
  size_t total = 0;
  for (const Tensor& t : tensors_) {
    if (!t.is_const) total += t.bytes;
  }
  return total;
}

}  // namespace edgepipe::lite
