// SVDF: a rank-r factorised 1-D convolution over time with a state that
// persists across Invoke calls (TFLite's SVDF, as in keyword spotting).
//
// Inputs: 0 input [batch, input_size], 1 weights_feature [filters,
// input_size], 2 weights_time [filters, memory], 3 bias [units] (optional),
// 4 state [batch, memory * filters] (a variable tensor). Output [batch,
// units] with units = filters / rank.
//
// Per step: the state shifts left by one (oldest activation dropped); the
// newest slot of each filter gets weights_feature . input; each filter's
// memory is dotted with its weights_time row; `rank` consecutive filters sum
// into one unit; plus bias; then the fused activation.
//
// float32: everything in float. int8 (TFLite's full-integer SVDF): int8
// input and weights_feature, int16 weights_time and state, int32 bias, int8
// output; the feature product is requantized into the int16 state with
// input_scale * feature_scale / state_scale, the time product + bias into
// the output with state_scale * time_scale / output_scale (both scale
// products computed in float, then widened to double, as TFLite does), bit
// for bit TFLite's reference integer arithmetic. int8 requires activation
// RELU (TFLite's own rule) and a symmetric (zero point 0) state.
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

constexpr int kInput = 0;
constexpr int kWeightsFeature = 1;
constexpr int kWeightsTime = 2;
constexpr int kBias = 3;
constexpr int kState = 4;

struct SvdfDims {
  int batch = 0;
  int input_size = 0;
  int filters = 0;
  int memory = 0;
  int rank = 0;
  int units = 0;
};

struct SvdfState : KernelState {
  SvdfDims d;
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE;
  // int8: requantization of the feature product into the state (1) and of
  // the time product into the output (2).
  int32_t mult1 = 0;
  int shift1 = 0;
  int32_t mult2 = 0;
  int shift2 = 0;
  int32_t input_zp = 0;
  int32_t output_zp = 0;
  std::vector<float> scratch_f;    // [batch, filters]
  std::vector<int32_t> scratch_i;  // [batch, filters]
};

float ApplyActivation(float x, tflite::ActivationFunctionType act) {
  using A = tflite::ActivationFunctionType;
  switch (act) {
    case A::RELU:
      return std::max(0.0f, x);
    case A::RELU_N1_TO_1:
      return std::clamp(x, -1.0f, 1.0f);
    case A::RELU6:
      return std::clamp(x, 0.0f, 6.0f);
    case A::TANH:
      return std::tanh(x);
    case A::SIGN_BIT:
      return std::signbit(x) ? 1.0f : 0.0f;
    default:
      return x;
  }
}

// Shifts every filter's memory left by one slot (the whole state buffer
// moves; each filter's newest slot is overwritten next).
template <typename T>
void ShiftState(T* state, int64_t n) {
  if (n > 1) std::copy(state + 1, state + n, state);
}

void SvdfFloat(const SvdfDims& d, tflite::ActivationFunctionType act, const float* input,
               const float* wf, const float* wt, const float* bias, float* state, float* scratch,
               float* output) {
  const int64_t per_batch = int64_t{d.memory} * d.filters;
  ShiftState(state, per_batch * d.batch);
  for (int b = 0; b < d.batch; ++b) {
    const float* x = input + int64_t{b} * d.input_size;
    float* s = state + b * per_batch;
    for (int f = 0; f < d.filters; ++f) {
      const float* w = wf + int64_t{f} * d.input_size;
      float acc = 0;
      for (int k = 0; k < d.input_size; ++k) acc += w[k] * x[k];
      s[int64_t{f} * d.memory + d.memory - 1] = acc;
    }
    float* sc = scratch + int64_t{b} * d.filters;
    for (int f = 0; f < d.filters; ++f) {
      const float* m = s + int64_t{f} * d.memory;
      const float* w = wt + int64_t{f} * d.memory;
      float acc = 0;
      for (int j = 0; j < d.memory; ++j) acc += m[j] * w[j];
      sc[f] = acc;
    }
    float* y = output + int64_t{b} * d.units;
    for (int u = 0; u < d.units; ++u) {
      float acc = bias ? bias[u] : 0.0f;
      for (int r = 0; r < d.rank; ++r) acc += sc[int64_t{u} * d.rank + r];
      y[u] = ApplyActivation(acc, act);
    }
  }
}

// Sums are formed in 64 bits and stored as TFLite stores them (int32, which
// wraps on overflow there; the conversion here is modular too).
void SvdfInt8(const SvdfDims& d, const SvdfState& q, const int8_t* input, const int8_t* wf,
              const int16_t* wt, const int32_t* bias, int16_t* state, int32_t* scratch,
              int8_t* output) {
  const int64_t per_batch = int64_t{d.memory} * d.filters;
  ShiftState(state, per_batch * d.batch);
  for (int b = 0; b < d.batch; ++b) {
    const int8_t* x = input + int64_t{b} * d.input_size;
    int16_t* s = state + b * per_batch;
    for (int f = 0; f < d.filters; ++f) {
      const int8_t* w = wf + int64_t{f} * d.input_size;
      int64_t acc = 0;
      for (int k = 0; k < d.input_size; ++k) acc += int64_t{w[k]} * (int32_t{x[k]} - q.input_zp);
      const int32_t v = MultiplyByQuantizedMultiplier(static_cast<int32_t>(acc), q.mult1, q.shift1);
      s[int64_t{f} * d.memory + d.memory - 1] =
          static_cast<int16_t>(std::clamp<int32_t>(v, -32768, 32767));
    }
    int32_t* sc = scratch + int64_t{b} * d.filters;
    for (int f = 0; f < d.filters; ++f) {
      const int16_t* m = s + int64_t{f} * d.memory;
      const int16_t* w = wt + int64_t{f} * d.memory;
      int64_t acc = 0;
      for (int j = 0; j < d.memory; ++j) acc += int64_t{m[j]} * w[j];
      sc[f] = static_cast<int32_t>(acc);
    }
    int8_t* y = output + int64_t{b} * d.units;
    for (int u = 0; u < d.units; ++u) {
      int64_t acc = bias ? bias[u] : 0;
      for (int r = 0; r < d.rank; ++r) acc += sc[int64_t{u} * d.rank + r];
      const int32_t v =
          MultiplyByQuantizedMultiplier(static_cast<int32_t>(acc), q.mult2, q.shift2) + q.output_zp;
      y[u] = static_cast<int8_t>(std::clamp<int32_t>(v, -128, 127));
    }
  }
}

Status CheckShape(const KernelContext& ctx, const Tensor& t, std::string_view what,
                  std::initializer_list<int32_t> want) {
  const std::vector<int32_t> w(want);
  if (t.shape != w) {
    return ctx.Error("{} \"{}\" has shape [{}], expected [{}]", what, t.name,
                     fmt::join(t.shape, ", "), fmt::join(w, ", "));
  }
  return Status::Ok();
}

Status Prepare(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(5, 5, 1));
  using T = tflite::TensorType;
  Tensor* input = ctx.input(kInput);
  Tensor* wf = ctx.input(kWeightsFeature);
  Tensor* wt = ctx.input(kWeightsTime);
  Tensor* bias = ctx.input(kBias);
  Tensor* state = ctx.input(kState);
  Tensor* output = ctx.output(0);
  RETURN_IF_ERROR(ctx.CheckType(input, "input", {T::FLOAT32, T::INT8}));
  RETURN_IF_ERROR(ctx.CheckType(wf, "weights_feature", {T::FLOAT32, T::INT8}));
  RETURN_IF_ERROR(ctx.CheckType(wt, "weights_time", {T::FLOAT32, T::INT16}));
  if (state == nullptr) return ctx.Error("state (input 4) is missing");
  if (!state->is_variable) {
    return ctx.Error("state \"{}\" (input 4) must be a variable tensor", state->name);
  }
  auto s = std::make_unique<SvdfState>();
  const auto* opts = ctx.op() ? ctx.op()->builtin_options_as_SVDFOptions() : nullptr;
  if (opts == nullptr) return ctx.Error("has no SVDFOptions");
  s->act = opts->fused_activation_function();
  SvdfDims& d = s->d;
  d.rank = opts->rank();
  if (input->rank() != 2) return ctx.Error("input must have rank 2, has {}", input->rank());
  if (wf->rank() != 2) return ctx.Error("weights_feature must have rank 2, has {}", wf->rank());
  if (wt->rank() != 2) return ctx.Error("weights_time must have rank 2, has {}", wt->rank());
  d.batch = input->dim(0);
  d.input_size = input->dim(1);
  d.filters = wf->dim(0);
  d.memory = wt->dim(1);
  if (d.rank <= 0 || d.filters % d.rank != 0) {
    return ctx.Error("rank {} must be positive and divide the {} filters", d.rank, d.filters);
  }
  if (d.memory < 1) return ctx.Error("weights_time memory size {} must be >= 1", d.memory);
  d.units = d.filters / d.rank;
  RETURN_IF_ERROR(CheckShape(ctx, *wf, "weights_feature", {d.filters, d.input_size}));
  RETURN_IF_ERROR(CheckShape(ctx, *wt, "weights_time", {d.filters, d.memory}));
  if (int64_t{d.memory} * d.filters > std::numeric_limits<int32_t>::max()) {
    return ctx.Error("state size {} x {} overflows", d.memory, d.filters);
  }
  RETURN_IF_ERROR(CheckShape(ctx, *state, "state", {d.batch, d.memory * d.filters}));
  if (bias != nullptr) RETURN_IF_ERROR(CheckShape(ctx, *bias, "bias", {d.units}));

  if (input->type == T::FLOAT32) {
    if (wf->type != T::FLOAT32) {
      return ctx.Unsupported(
          "hybrid SVDF (float32 input, {} weights_feature \"{}\") is not supported",
          TensorTypeName(wf->type), wf->name);
    }
    RETURN_IF_ERROR(ctx.CheckType(wt, "weights_time", {T::FLOAT32}));
    RETURN_IF_ERROR(ctx.CheckType(state, "state", {T::FLOAT32}));
    RETURN_IF_ERROR(ctx.CheckType(output, "output", {T::FLOAT32}));
    if (bias != nullptr) RETURN_IF_ERROR(ctx.CheckType(bias, "bias", {T::FLOAT32}));
    using A = tflite::ActivationFunctionType;
    if (s->act != A::NONE && s->act != A::RELU && s->act != A::RELU_N1_TO_1 && s->act != A::RELU6 &&
        s->act != A::TANH && s->act != A::SIGN_BIT) {
      return ctx.Unsupported("fused activation {} is not supported", static_cast<int>(s->act));
    }
    s->scratch_f.assign(static_cast<size_t>(d.batch) * static_cast<size_t>(d.filters), 0.0f);
  } else {
    // Full integer: int8 in/out, int8 feature weights, int16 time weights
    // and state, int32 bias.
    RETURN_IF_ERROR(ctx.CheckType(wf, "weights_feature", {T::INT8}));
    RETURN_IF_ERROR(ctx.CheckType(wt, "weights_time", {T::INT16}));
    RETURN_IF_ERROR(ctx.CheckType(state, "state", {T::INT16}));
    RETURN_IF_ERROR(ctx.CheckType(output, "output", {T::INT8}));
    if (bias != nullptr) RETURN_IF_ERROR(ctx.CheckType(bias, "bias", {T::INT32}));
    if (s->act != tflite::ActivationFunctionType::RELU) {
      return ctx.Unsupported("int8 SVDF needs fused activation RELU (TFLite's rule), has {}",
                             static_cast<int>(s->act));
    }
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *input, "input"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *wf, "weights_feature"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *wt, "weights_time"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *state, "state"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *output, "output"));
    if (state->zero_point() != 0) {
      return ctx.Error("state \"{}\" zero point {} must be 0 (int16 state is symmetric)",
                       state->name, state->zero_point());
    }
    // The products in float, then widened (TFLite computes them this way).
    const float scale1 = input->scale() * wf->scale() / state->scale();
    const float scale2 = state->scale() * wt->scale() / output->scale();
    QuantizeMultiplier(static_cast<double>(scale1), &s->mult1, &s->shift1);
    QuantizeMultiplier(static_cast<double>(scale2), &s->mult2, &s->shift2);
    s->input_zp = input->zero_point();
    s->output_zp = output->zero_point();
    s->scratch_i.assign(static_cast<size_t>(d.batch) * static_cast<size_t>(d.filters), 0);
  }
  RETURN_IF_ERROR(ctx.SetShape(output, {d.batch, d.units}));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

Status Eval(KernelContext& ctx) {
  SvdfState& s = *ctx.state<SvdfState>();
  const Tensor* input = ctx.input(kInput);
  const Tensor* wf = ctx.input(kWeightsFeature);
  const Tensor* wt = ctx.input(kWeightsTime);
  const Tensor* bias = ctx.input(kBias);
  Tensor* state = ctx.input(kState);
  Tensor* output = ctx.output(0);
  if (input->type == tflite::TensorType::FLOAT32) {
    SvdfFloat(s.d, s.act, input->as<float>(), wf->as<float>(), wt->as<float>(),
              bias ? bias->as<float>() : nullptr, state->as<float>(), s.scratch_f.data(),
              output->as<float>());
  } else {
    SvdfInt8(s.d, s, input->as<int8_t>(), wf->as<int8_t>(), wt->as<int16_t>(),
             bias ? bias->as<int32_t>() : nullptr, state->as<int16_t>(), s.scratch_i.data(),
             output->as<int8_t>());
  }
  return Status::Ok();
}

}  // namespace

KernelRegistration RegisterSvdf() { return {Prepare, Eval}; }

}  // namespace edgepipe::lite
