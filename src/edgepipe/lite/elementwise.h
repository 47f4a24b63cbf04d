// Paths of the int8/uint8 ADD / SUB kernel (elementwise.cc; RegisterAdd and
// RegisterSub are declared in op_resolver.h).
//
// Same-shape int8/uint8 ADD / SUB in Arithmetic::kReference (mobilenet's
// residual adds) run a vector loop, bit-exact with TFLite's reference
// (quant_simd.h): path 2 AVX-512 F/BW/VL, path 1 AVX2, path 0 portable
// scalar; broadcasting ones, MUL and kLiteRt ADD run the scalar loop.
#ifndef EDGEPIPE_LITE_ELEMENTWISE_H_
#define EDGEPIPE_LITE_ELEMENTWISE_H_

namespace edgepipe::lite {

// The best path this CPU runs (0, 1 or 2).
int ElementwiseQuantBestPath();
// Test hook: forces path min(path, best) for later Evals (-1: best, the
// default). Not thread-safe: call while no interpreter runs.
void SetElementwiseQuantPathForTesting(int path);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_ELEMENTWISE_H_
