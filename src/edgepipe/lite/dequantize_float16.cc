// DEQUANTIZE of FLOAT16 constants to FLOAT32 (how TFLite's float16
// quantization feeds weights to float kernels): exact widening, see
// float16.h. RegisterDequantizeWithFloat16() sends int8/uint8 inputs to the
// kernel of quantize.cc.
#include "edgepipe/lite/float16.h"
#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {
namespace {

bool IsFloat16(const KernelContext& ctx) {
  const Tensor* in = ctx.input(0);
  return in && in->type == tflite::TensorType::FLOAT16;
}

Status PrepareFloat16(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(1, 1, 1));
  RETURN_IF_ERROR(ctx.CheckType(ctx.output(0), "output", {tflite::TensorType::FLOAT32}));
  return ctx.SetShape(ctx.output(0), ctx.input(0)->shape);
}

Status EvalFloat16(KernelContext& ctx) {
  const Tensor* in = ctx.input(0);
  float* out = ctx.output(0)->as<float>();
  const uint16_t* h = in->as<uint16_t>();
  const int64_t n = in->num_elements();
  for (int64_t i = 0; i < n; ++i) out[i] = Float16ToFloat(h[i]);
  return Status::Ok();
}

Status Prepare(KernelContext& ctx) {
  return IsFloat16(ctx) ? PrepareFloat16(ctx) : RegisterDequantize().prepare(ctx);
}
Status Eval(KernelContext& ctx) {
  return IsFloat16(ctx) ? EvalFloat16(ctx) : RegisterDequantize().eval(ctx);
}

}  // namespace

KernelRegistration RegisterDequantizeWithFloat16() { return {Prepare, Eval}; }

}  // namespace edgepipe::lite
