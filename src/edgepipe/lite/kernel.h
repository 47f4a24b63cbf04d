// What a kernel sees: runtime tensors, the operator being run, and the
// registration (prepare + eval) that the op resolver maps an op code to.
//
// Contract for kernels: Prepare runs during Interpreter::AllocateTensors,
// before memory is planned. It checks input types, shapes and quantization,
// sets every output's shape (SetShape) and precomputes what Eval needs
// (quantized multipliers, padding) in a KernelState. Tensor data of
// non-constant tensors is not available in Prepare. Eval runs during Invoke,
// must not allocate, and only writes its outputs. Errors name the op and
// the rule (KernelContext::Error).
#ifndef EDGEPIPE_LITE_KERNEL_H_
#define EDGEPIPE_LITE_KERNEL_H_

#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/schema.h"

namespace edgepipe::lite {

// A tensor as the interpreter runs it. `data` points into the arena (or the
// model's constant data, then `is_const`); it is null before allocation.
struct Tensor {
  int index = -1;
  std::string name;
  tflite::TensorType type = tflite::TensorType::FLOAT32;
  std::vector<int32_t> shape;
  const QuantParams* quant = nullptr;  // never null; may be empty()
  uint8_t* data = nullptr;
  size_t bytes = 0;  // num_elements() * element size
  bool is_const = false;
  // A variable tensor (TFLite `is_variable`: recurrent state such as SVDF's
  // or LSTM's). It lives outside the shared arena, is reset by
  // Interpreter::AllocateTensors / ResetVariableTensors and keeps its value
  // across Invoke calls; kernels read and update it in place.
  bool is_variable = false;

  int rank() const { return static_cast<int>(shape.size()); }
  int32_t dim(int i) const { return shape[static_cast<size_t>(i < 0 ? i + rank() : i)]; }
  int64_t num_elements() const {
    int64_t n = 1;
    for (int32_t d : shape) n *= d;
    return n;
  }
  template <typename T>
  T* as() {
    return reinterpret_cast<T*>(data);
  }
  template <typename T>
  const T* as() const {
    return reinterpret_cast<const T*>(data);
  }
  float scale() const { return quant->scale.empty() ? 0.0f : quant->scale[0]; }
  int32_t zero_point() const { return quant->zero_point.empty() ? 0 : quant->zero_point[0]; }
};

// How quantized kernels requantize.
//   kReference: TFLite's reference integer arithmetic (gemmlowp fixed-point
//     multipliers, ties away from zero), bit for bit.
//   kLiteRt: what Google's LiteRT computes for the ops it runs through
//     XNNPACK (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, MUL int8): the
//     int32 accumulator times a float scale (input_scale * filter_scale /
//     output_scale, in float) in float, rounded to nearest even, plus the
//     output zero point, clamped. QUANTIZE int8 -> int8 (and uint8 -> uint8)
//     follows XNNPACK's convert (a Q8 multiplier, see quantize.cc); hybrid
//     FULLY_CONNECTED always quantizes its input asymmetrically. Other ops
//     are the same in both modes.
enum class Arithmetic { kReference, kLiteRt };

// Per-op data a kernel computes in Prepare and reads in Eval.
struct KernelState {
  virtual ~KernelState() = default;
};

class KernelContext {
 public:
  KernelContext(int op_index, std::string op_name, const tflite::Operator* op,
                Arithmetic arithmetic = Arithmetic::kReference)
      : op_index_(op_index), op_name_(std::move(op_name)), op_(op), arithmetic_(arithmetic) {}

  Arithmetic arithmetic() const { return arithmetic_; }

  int op_index() const { return op_index_; }
  const std::string& op_name() const { return op_name_; }
  // The flatbuffer operator (options are read from it); may be null for ops
  // built without a model.
  const tflite::Operator* op() const { return op_; }

  int num_inputs() const { return static_cast<int>(inputs.size()); }
  int num_outputs() const { return static_cast<int>(outputs.size()); }
  // Input i, or null when the op omits it (index -1) or has fewer inputs.
  // (Defined out of line: keeps GCC's -Wnull-dereference from flagging every
  // required input, which Prepare has already checked.)
  Tensor* input(int i) const;
  Tensor* output(int i) const { return outputs[static_cast<size_t>(i)]; }

  // Status::InvalidArgument "operator <i> (<NAME>): <message>".
  template <typename... Args>
  Status Error(fmt::format_string<Args...> f, Args&&... args) const {
    return Status::InvalidArgument(fmt::format("operator {} ({}): {}", op_index_, op_name_,
                                               fmt::format(f, std::forward<Args>(args)...)));
  }
  template <typename... Args>
  Status Unsupported(fmt::format_string<Args...> f, Args&&... args) const {
    return Status::Unimplemented(fmt::format("operator {} ({}): {}", op_index_, op_name_,
                                             fmt::format(f, std::forward<Args>(args)...)));
  }

  // Checks the op has between min and max inputs/outputs (omitted ones count).
  Status CheckArity(int min_inputs, int max_inputs, int outputs_expected) const;
  // Error unless input/output i exists and has one of `types`.
  Status CheckType(const Tensor* t, std::string_view what,
                   std::initializer_list<tflite::TensorType> types) const;
  // Sets `t`'s shape (an output's) and its byte size.
  Status SetShape(Tensor* t, std::vector<int32_t> shape) const;

  template <typename T>
  T* state() const {
    return static_cast<T*>(state_.get());
  }
  void set_state(std::unique_ptr<KernelState> s) { state_ = std::move(s); }

  std::vector<Tensor*> inputs;
  std::vector<Tensor*> outputs;

  // Spatial padding the interpreter folded into this op from a PAD that fed
  // input 0 (Interpreter, InterpreterOptions::fold_pad): input 0 is then the
  // PAD's input, and the op must behave as if it were padded by these many
  // rows/columns (NHWC axes 1 and 2) of the input zero point. Only set for
  // ops whose registration has folds_input_pad; all zero otherwise.
  struct FoldedPad {
    int top = 0, bottom = 0, left = 0, right = 0;
  };
  FoldedPad folded_pad;

 private:
  int op_index_;
  std::string op_name_;
  const tflite::Operator* op_;
  Arithmetic arithmetic_;
  std::unique_ptr<KernelState> state_;
};

struct KernelRegistration {
  Status (*prepare)(KernelContext& ctx) = nullptr;
  Status (*eval)(KernelContext& ctx) = nullptr;
  // The kernel honours KernelContext::folded_pad for int8/uint8 (non-hybrid)
  // inputs, so the interpreter may fold a preceding zero-point PAD into it.
  bool folds_input_pad = false;
};

// ---- helpers shared by kernels (kernel_util.cc) ----

// Output range [min, max] of a fused activation for float outputs.
Status FloatActivationRange(const KernelContext& ctx, tflite::ActivationFunctionType act,
                            float* min, float* max);
// Output range of a fused activation for a quantized output (TFLite's
// CalculateActivationRangeQuantized: the activation bounds quantized with
// the output's scale and zero point, clipped to the type's range).
Status QuantizedActivationRange(const KernelContext& ctx, tflite::ActivationFunctionType act,
                                const Tensor& output, int32_t* min, int32_t* max);
// Checks `t` is per-tensor quantized with a positive scale.
Status CheckPerTensorQuant(const KernelContext& ctx, const Tensor& t, std::string_view what);

// SAME/VALID output size and leading padding (TFLite's ComputePadding...).
struct Padding1D {
  int out = 0;
  int before = 0;
};
Padding1D ComputePadding(tflite::Padding padding, int in, int filter, int stride, int dilation);

// Index of `dims` (row-major) for broadcasting: strides with 0 on size-1 axes.
std::vector<int64_t> BroadcastStrides(std::span<const int32_t> in_shape,
                                      std::span<const int32_t> out_shape);

}  // namespace edgepipe::lite

namespace edgepipe::lite {

// Requantization of a convolution-like op (FULLY_CONNECTED, CONV_2D,
// DEPTHWISE_CONV_2D): per output channel, the multiplier for
// input_scale * filter_scale[c] / output_scale (computed in double, as
// TFLite does), plus the offsets and output range.
struct ConvQuant {
  std::vector<int32_t> multiplier;
  std::vector<int> shift;
  int32_t input_offset = 0;   // -input zero point
  int32_t filter_offset = 0;  // -filter zero point (0 for int8)
  int32_t output_offset = 0;  // output zero point
  int32_t act_min = 0;
  int32_t act_max = 0;
  // Arithmetic::kLiteRt only: per channel, the float requantization scale
  // (empty in kReference mode).
  std::vector<float> fp32_scale;

  // Maps accumulator `acc` (bias included) of channel `c` to the output
  // value, clamped to [act_min, act_max], in the mode Prepare chose.
  int32_t Requantize(int32_t acc, size_t c) const;
};
Status PrepareConvQuant(const KernelContext& ctx, const Tensor& input, const Tensor& filter,
                        const Tensor* bias, const Tensor& output, int channels,
                        int filter_channel_axis, tflite::ActivationFunctionType act, ConvQuant* q);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_KERNEL_H_
