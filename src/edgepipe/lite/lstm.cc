// UNIDIRECTIONAL_SEQUENCE_LSTM, float32 (TFLite's float LSTM kernel).
//
// Inputs (TFLite's order; "opt" may be omitted, index -1):
//   0 input [batch, time, n_input] ([time, batch, n_input] when time_major)
//   1-4 input_to_{input(opt), forget, cell, output}_weights [n_cell, n_input]
//   5-8 recurrent_to_{input(opt), forget, cell, output}_weights
//       [n_cell, n_output]
//   9-11 cell_to_{input, forget, output}_weights (peephole, opt) [n_cell]
//   12-15 {input(opt), forget, cell, output}_gate_bias [n_cell]
//   16 projection_weights (opt) [n_output, n_cell]; 17 projection_bias (opt)
//   18 output_state [batch, n_output], 19 cell_state [batch, n_cell]: both
//      variable tensors, carried across time steps and across Invoke calls
//   20-23 layer-norm coefficients (opt; not supported)
// Output: [batch, time, n_output] (time-major like the input).
//
// Per step, with act the fused activation (usually TANH), sigma the
// logistic function, h the output state and c the cell state:
//   i = sigma(b_i + W_i x + R_i h + w_ci * c)   (CIFG, no input gate: 1 - f)
//   f = sigma(b_f + W_f x + R_f h + w_cf * c)
//   g = act(b_c + W_c x + R_c h)
//   c = f * c + i * g, clipped to +-cell_clip when cell_clip > 0
//   o = sigma(b_o + W_o x + R_o h + w_co * c)
//   h = o * act(c); with projection h = P h + p_b, clipped to +-proj_clip
// summed in that order, as TFLite's reference does.
#include <algorithm>
#include <cmath>
#include <vector>

#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {
namespace {

enum : int {
  kInput = 0,
  kInputToInput = 1,
  kInputToForget = 2,
  kInputToCell = 3,
  kInputToOutput = 4,
  kRecurrentToInput = 5,
  kRecurrentToForget = 6,
  kRecurrentToCell = 7,
  kRecurrentToOutput = 8,
  kCellToInput = 9,
  kCellToForget = 10,
  kCellToOutput = 11,
  kInputGateBias = 12,
  kForgetGateBias = 13,
  kCellGateBias = 14,
  kOutputGateBias = 15,
  kProjectionWeights = 16,
  kProjectionBias = 17,
  kOutputState = 18,
  kCellState = 19,
  kInputLayerNorm = 20,
};

const char* const kInputNames[] = {"input",
                                   "input_to_input_weights",
                                   "input_to_forget_weights",
                                   "input_to_cell_weights",
                                   "input_to_output_weights",
                                   "recurrent_to_input_weights",
                                   "recurrent_to_forget_weights",
                                   "recurrent_to_cell_weights",
                                   "recurrent_to_output_weights",
                                   "cell_to_input_weights",
                                   "cell_to_forget_weights",
                                   "cell_to_output_weights",
                                   "input_gate_bias",
                                   "forget_gate_bias",
                                   "cell_gate_bias",
                                   "output_gate_bias",
                                   "projection_weights",
                                   "projection_bias",
                                   "output_state",
                                   "cell_state",
                                   "input_layer_norm_coefficients",
                                   "forget_layer_norm_coefficients",
                                   "cell_layer_norm_coefficients",
                                   "output_layer_norm_coefficients"};

struct LstmState : KernelState {
  int batch = 0;
  int time = 0;
  int n_input = 0;
  int n_cell = 0;
  int n_output = 0;
  bool time_major = false;
  bool cifg = false;
  bool peephole = false;
  bool projection = false;
  float cell_clip = 0;
  float proj_clip = 0;
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType::TANH;
  // Scratch: four gates [4, n_cell] and the pre-projection output [n_cell].
  std::vector<float> gates;
  std::vector<float> hidden;
};

float Activation(float x, tflite::ActivationFunctionType act) {
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
    default:
      return x;
  }
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// acc[r] += M[r, :] . v for an [rows, cols] row-major M.
void MatVecAccumulate(const float* m, int rows, int cols, const float* v, float* acc) {
  for (int r = 0; r < rows; ++r) {
    const float* row = m + int64_t{r} * cols;
    float dot = 0;
    for (int k = 0; k < cols; ++k) dot += row[k] * v[k];
    acc[r] += dot;
  }
}

struct LstmWeights {
  const float* w[4] = {};     // input-to-gate (i, f, c, o); w[0] null for CIFG
  const float* r[4] = {};     // recurrent-to-gate
  const float* peep[3] = {};  // cell-to-gate (i, f, o); null without peephole
  const float* bias[4] = {};
  const float* proj = nullptr;
  const float* proj_bias = nullptr;
};

// One time step for one batch row: x [n_input], h [n_output] and c [n_cell]
// updated in place, y [n_output] the step's output.
void LstmStep(const LstmState& s, const LstmWeights& w, const float* x, float* h, float* c,
              float* gates, float* hidden, float* y) {
  const int n = s.n_cell;
  float* gi = gates;
  float* gf = gates + n;
  float* gc = gates + 2 * n;
  float* go = gates + 3 * n;
  float* g[4] = {gi, gf, gc, go};
  for (int k = 0; k < 4; ++k) {
    if (k == 0 && s.cifg) continue;
    if (w.bias[k]) {
      std::copy(w.bias[k], w.bias[k] + n, g[k]);
    } else {
      std::fill(g[k], g[k] + n, 0.0f);
    }
    MatVecAccumulate(w.w[k], n, s.n_input, x, g[k]);
    MatVecAccumulate(w.r[k], n, s.n_output, h, g[k]);
  }
  if (!s.cifg) {
    if (w.peep[0]) {
      for (int j = 0; j < n; ++j) gi[j] += w.peep[0][j] * c[j];
    }
    for (int j = 0; j < n; ++j) gi[j] = Sigmoid(gi[j]);
  }
  if (w.peep[1]) {
    for (int j = 0; j < n; ++j) gf[j] += w.peep[1][j] * c[j];
  }
  for (int j = 0; j < n; ++j) gf[j] = Sigmoid(gf[j]);
  for (int j = 0; j < n; ++j) gc[j] = Activation(gc[j], s.act);
  for (int j = 0; j < n; ++j) {
    const float in_gate = s.cifg ? 1.0f - gf[j] : gi[j];
    float cell = gf[j] * c[j] + in_gate * gc[j];
    if (s.cell_clip > 0) cell = std::clamp(cell, -s.cell_clip, s.cell_clip);
    c[j] = cell;
  }
  if (w.peep[2]) {
    for (int j = 0; j < n; ++j) go[j] += w.peep[2][j] * c[j];
  }
  for (int j = 0; j < n; ++j) go[j] = Sigmoid(go[j]);
  for (int j = 0; j < n; ++j) hidden[j] = go[j] * Activation(c[j], s.act);
  if (s.projection) {
    for (int j = 0; j < s.n_output; ++j) y[j] = w.proj_bias ? w.proj_bias[j] : 0.0f;
    MatVecAccumulate(w.proj, s.n_output, n, hidden, y);
    if (s.proj_clip > 0) {
      for (int j = 0; j < s.n_output; ++j) y[j] = std::clamp(y[j], -s.proj_clip, s.proj_clip);
    }
  } else {
    std::copy(hidden, hidden + n, y);
  }
  std::copy(y, y + s.n_output, h);
}

const float* Data(const KernelContext& ctx, int i) {
  const Tensor* t = ctx.input(i);
  return t ? t->as<float>() : nullptr;
}

Status CheckDims(const KernelContext& ctx, int i, std::initializer_list<int32_t> want,
                 bool required) {
  const Tensor* t = ctx.input(i);
  if (t == nullptr) {
    if (required) return ctx.Error("input {} ({}) is missing", i, kInputNames[i]);
    return Status::Ok();
  }
  RETURN_IF_ERROR(ctx.CheckType(t, kInputNames[i], {tflite::TensorType::FLOAT32}));
  const std::vector<int32_t> w(want);
  if (t->shape != w) {
    std::string have;
    for (int32_t d : t->shape) have += (have.empty() ? "" : ", ") + std::to_string(d);
    std::string expect;
    for (int32_t d : w) expect += (expect.empty() ? "" : ", ") + std::to_string(d);
    return ctx.Error("input {} ({}) \"{}\" has shape [{}], expected [{}]", i, kInputNames[i],
                     t->name, have, expect);
  }
  return Status::Ok();
}

Status Prepare(KernelContext& ctx) {
  if (ctx.num_inputs() != 20 && ctx.num_inputs() != 24) {
    return ctx.Error("has {} inputs, expected 20 or 24", ctx.num_inputs());
  }
  if (ctx.num_outputs() != 1) return ctx.Error("has {} outputs, expected 1", ctx.num_outputs());
  const auto* opts =
      ctx.op() ? ctx.op()->builtin_options_as_UnidirectionalSequenceLSTMOptions() : nullptr;
  if (opts == nullptr) return ctx.Error("has no UnidirectionalSequenceLSTMOptions");
  auto s = std::make_unique<LstmState>();
  s->act = opts->fused_activation_function();
  s->cell_clip = opts->cell_clip();
  s->proj_clip = opts->proj_clip();
  s->time_major = opts->time_major();
  using A = tflite::ActivationFunctionType;
  if (s->act != A::NONE && s->act != A::RELU && s->act != A::RELU_N1_TO_1 && s->act != A::RELU6 &&
      s->act != A::TANH) {
    return ctx.Unsupported("fused activation {} is not supported", static_cast<int>(s->act));
  }
  if (opts->diagonal_recurrent_tensors()) {
    return ctx.Unsupported("diagonal_recurrent_tensors is not supported");
  }
  if (!(s->cell_clip >= 0) || !(s->proj_clip >= 0)) {
    return ctx.Error("cell_clip {} and proj_clip {} must be >= 0", s->cell_clip, s->proj_clip);
  }
  for (int i = kInputLayerNorm; i < ctx.num_inputs(); ++i) {
    if (ctx.input(i) != nullptr) {
      return ctx.Unsupported("layer-norm LSTM (input {}, {}) is not supported", i, kInputNames[i]);
    }
  }
  Tensor* input = ctx.input(kInput);
  RETURN_IF_ERROR(ctx.CheckType(input, "input", {tflite::TensorType::FLOAT32}));
  if (input->rank() != 3) return ctx.Error("input must have rank 3, has {}", input->rank());
  s->batch = input->dim(s->time_major ? 1 : 0);
  s->time = input->dim(s->time_major ? 0 : 1);
  s->n_input = input->dim(2);
  const Tensor* to_output = ctx.input(kInputToOutput);
  const Tensor* rec_output = ctx.input(kRecurrentToOutput);
  if (to_output == nullptr || to_output->rank() != 2) {
    return ctx.Error("input 4 (input_to_output_weights) must be present with rank 2");
  }
  if (rec_output == nullptr || rec_output->rank() != 2) {
    return ctx.Error("input 8 (recurrent_to_output_weights) must be present with rank 2");
  }
  const int n_cell = s->n_cell = to_output->dim(0);
  const int n_output = s->n_output = rec_output->dim(1);
  const int n_input = s->n_input;
  // Float weights only: int8 weights would be TFLite's hybrid or integer LSTM.
  for (int i = kInputToInput; i <= kProjectionBias; ++i) {
    const Tensor* t = ctx.input(i);
    if (t != nullptr && t->type != tflite::TensorType::FLOAT32) {
      return ctx.Unsupported("input {} ({}) \"{}\" has type {}; only float32 LSTM is supported", i,
                             kInputNames[i], t->name, TensorTypeName(t->type));
    }
  }
  s->cifg = ctx.input(kInputToInput) == nullptr;
  if (s->cifg != (ctx.input(kRecurrentToInput) == nullptr) ||
      (s->cifg && ctx.input(kInputGateBias) != nullptr)) {
    return ctx.Error(
        "input gate: input_to_input_weights, recurrent_to_input_weights and input_gate_bias "
        "must be all present or (CIFG) all omitted");
  }
  for (int i : {kInputToInput, kInputToForget, kInputToCell, kInputToOutput}) {
    RETURN_IF_ERROR(CheckDims(ctx, i, {n_cell, n_input}, i != kInputToInput));
  }
  for (int i : {kRecurrentToInput, kRecurrentToForget, kRecurrentToCell, kRecurrentToOutput}) {
    RETURN_IF_ERROR(CheckDims(ctx, i, {n_cell, n_output}, i != kRecurrentToInput));
  }
  for (int i : {kInputGateBias, kForgetGateBias, kCellGateBias, kOutputGateBias}) {
    RETURN_IF_ERROR(CheckDims(ctx, i, {n_cell}, i != kInputGateBias));
  }
  s->peephole = ctx.input(kCellToForget) != nullptr;
  if (s->peephole != (ctx.input(kCellToOutput) != nullptr) ||
      (!s->cifg && s->peephole != (ctx.input(kCellToInput) != nullptr)) ||
      (s->cifg && ctx.input(kCellToInput) != nullptr)) {
    return ctx.Error("peephole weights (inputs 9-11) must be all present or all omitted");
  }
  for (int i : {kCellToInput, kCellToForget, kCellToOutput}) {
    RETURN_IF_ERROR(CheckDims(ctx, i, {n_cell}, false));
  }
  s->projection = ctx.input(kProjectionWeights) != nullptr;
  RETURN_IF_ERROR(CheckDims(ctx, kProjectionWeights, {n_output, n_cell}, false));
  RETURN_IF_ERROR(CheckDims(ctx, kProjectionBias, {n_output}, false));
  if (!s->projection && ctx.input(kProjectionBias) != nullptr) {
    return ctx.Error("projection_bias without projection_weights");
  }
  if (!s->projection && n_output != n_cell) {
    return ctx.Error("without projection the output size {} must equal the cell size {}", n_output,
                     n_cell);
  }
  for (int i : {kOutputState, kCellState}) {
    const Tensor* t = ctx.input(i);
    if (t == nullptr) return ctx.Error("input {} ({}) is missing", i, kInputNames[i]);
    if (!t->is_variable) {
      return ctx.Error("input {} ({}) \"{}\" must be a variable tensor", i, kInputNames[i],
                       t->name);
    }
  }
  RETURN_IF_ERROR(CheckDims(ctx, kOutputState, {s->batch, n_output}, true));
  RETURN_IF_ERROR(CheckDims(ctx, kCellState, {s->batch, n_cell}, true));
  Tensor* output = ctx.output(0);
  RETURN_IF_ERROR(ctx.CheckType(output, "output", {tflite::TensorType::FLOAT32}));
  std::vector<int32_t> out_shape = input->shape;
  out_shape[2] = n_output;
  RETURN_IF_ERROR(ctx.SetShape(output, std::move(out_shape)));
  s->gates.assign(4 * static_cast<size_t>(n_cell), 0.0f);
  s->hidden.assign(static_cast<size_t>(n_cell), 0.0f);
  ctx.set_state(std::move(s));
  return Status::Ok();
}

Status Eval(KernelContext& ctx) {
  LstmState& s = *ctx.state<LstmState>();
  LstmWeights w;
  for (int k = 0; k < 4; ++k) {
    w.w[k] = Data(ctx, kInputToInput + k);
    w.r[k] = Data(ctx, kRecurrentToInput + k);
    w.bias[k] = Data(ctx, kInputGateBias + k);
  }
  for (int k = 0; k < 3; ++k) w.peep[k] = Data(ctx, kCellToInput + k);
  w.proj = Data(ctx, kProjectionWeights);
  w.proj_bias = Data(ctx, kProjectionBias);
  const float* x = ctx.input(kInput)->as<float>();
  float* h = ctx.input(kOutputState)->as<float>();
  float* c = ctx.input(kCellState)->as<float>();
  float* y = ctx.output(0)->as<float>();
  for (int b = 0; b < s.batch; ++b) {
    for (int t = 0; t < s.time; ++t) {
      // Row of (b, t): batch-major [batch, time, .] or time-major [time, batch, .].
      const int64_t row = s.time_major ? int64_t{t} * s.batch + b : int64_t{b} * s.time + t;
      LstmStep(s, w, x + row * s.n_input, h + int64_t{b} * s.n_output, c + int64_t{b} * s.n_cell,
               s.gates.data(), s.hidden.data(), y + row * s.n_output);
    }
  }
  return Status::Ok();
}

}  // namespace

KernelRegistration RegisterUnidirectionalSequenceLstm() { return {Prepare, Eval}; }

}  // namespace edgepipe::lite
