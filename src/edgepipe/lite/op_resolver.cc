#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {

OpResolver BuiltinOpResolver() {
  using Op = tflite::BuiltinOperator;
  OpResolver r;
  r.Add(Op::FULLY_CONNECTED, RegisterFullyConnectedWithHybrid());
  r.Add(Op::CONV_2D, RegisterConv2DWithHybrid());
  r.Add(Op::DEPTHWISE_CONV_2D, RegisterDepthwiseConv2DWithHybrid());
  r.Add(Op::MAX_POOL_2D, RegisterMaxPool2D());
  r.Add(Op::AVERAGE_POOL_2D, RegisterAveragePool2D());
  r.Add(Op::MEAN, RegisterMean());
  r.Add(Op::RESHAPE, RegisterReshape());
  r.Add(Op::SOFTMAX, RegisterSoftmax());
  r.Add(Op::LOGISTIC, RegisterLogistic());
  r.Add(Op::TANH, RegisterTanh());
  r.Add(Op::RELU, RegisterRelu());
  r.Add(Op::RELU6, RegisterRelu6());
  r.Add(Op::ADD, RegisterAdd());
  r.Add(Op::SUB, RegisterSub());
  r.Add(Op::MUL, RegisterMul());
  r.Add(Op::CONCATENATION, RegisterConcatenation());
  r.Add(Op::PAD, RegisterPad());
  r.Add(Op::TRANSPOSE, RegisterTranspose());
  r.Add(Op::QUANTIZE, RegisterQuantize());
  r.Add(Op::DEQUANTIZE, RegisterDequantizeWithFloat16());
  r.Add(Op::SVDF, RegisterSvdf());
  r.Add(Op::UNIDIRECTIONAL_SEQUENCE_LSTM, RegisterUnidirectionalSequenceLstm());
  return r;
}

}  // namespace edgepipe::lite
