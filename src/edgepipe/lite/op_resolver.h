// Maps TFLite builtin operator codes to kernels. Registration is explicit:
// only ops added with Add() run; an unknown op fails Interpreter::Create with
// an error naming the op and its index. Not thread-safe while being filled;
// read-only use afterwards is.
#ifndef EDGEPIPE_LITE_OP_RESOLVER_H_
#define EDGEPIPE_LITE_OP_RESOLVER_H_

#include <cstdint>
#include <map>

#include "edgepipe/lite/kernel.h"

namespace edgepipe::lite {

class OpResolver {
 public:
  // Registers `reg` for builtin `op` (replacing an earlier one).
  void Add(tflite::BuiltinOperator op, KernelRegistration reg) {
    kernels_[static_cast<int32_t>(op)] = reg;
  }
  // The kernel for `code`, or null.
  const KernelRegistration* Find(int32_t code) const {
    auto it = kernels_.find(code);
    return it == kernels_.end() ? nullptr : &it->second;
  }

 private:
  std::map<int32_t, KernelRegistration> kernels_;
};

// Every reference kernel edgepipe has (float32, int8 and uint8 where TFLite
// has them).
OpResolver BuiltinOpResolver();

// Registration functions, one per kernel file.
KernelRegistration RegisterFullyConnected();
KernelRegistration RegisterConv2D();
KernelRegistration RegisterDepthwiseConv2D();
KernelRegistration RegisterMaxPool2D();
KernelRegistration RegisterAveragePool2D();
KernelRegistration RegisterMean();
KernelRegistration RegisterReshape();
KernelRegistration RegisterSoftmax();
KernelRegistration RegisterLogistic();
KernelRegistration RegisterTanh();
KernelRegistration RegisterRelu();
KernelRegistration RegisterRelu6();
KernelRegistration RegisterAdd();
KernelRegistration RegisterSub();
KernelRegistration RegisterMul();
KernelRegistration RegisterConcatenation();
KernelRegistration RegisterPad();
KernelRegistration RegisterTranspose();
KernelRegistration RegisterQuantize();
KernelRegistration RegisterDequantize();
// Stateful sequence ops (their state inputs are variable tensors): SVDF
// float32 and full-integer int8 (int16 weights_time and state), svdf.cc;
// UNIDIRECTIONAL_SEQUENCE_LSTM float32, lstm.cc.
KernelRegistration RegisterSvdf();
KernelRegistration RegisterUnidirectionalSequenceLstm();
// The kernels above plus TFLite's hybrid kernels (float input, int8 weights:
// hybrid_fully_connected.cc, hybrid_conv.cc) and FLOAT16 -> FLOAT32
// DEQUANTIZE (dequantize_float16.cc); BuiltinOpResolver registers these.
KernelRegistration RegisterFullyConnectedWithHybrid();
KernelRegistration RegisterConv2DWithHybrid();
KernelRegistration RegisterDepthwiseConv2DWithHybrid();
KernelRegistration RegisterDequantizeWithFloat16();

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_OP_RESOLVER_H_
