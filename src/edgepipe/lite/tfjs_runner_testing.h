// Test-only: runs a .tflite file in TensorFlow.js's TFLite runtime (npm
// @tensorflow/tfjs-tflite: TFLite's C++ interpreter with its XNNPACK delegate
// built to WASM, one thread) under Node via tests/interop/run_tfjs_tflite.mjs.
// Unlike LiteRT's JS it runs models with variable tensors (SVDF, LSTM state)
// and takes int8/uint8/int16/int32/float32 inputs and outputs. Only test
// binaries include this (they define EDGEPIPE_SOURCE_DIR).
#ifndef EDGEPIPE_LITE_TFJS_RUNNER_TESTING_H_
#define EDGEPIPE_LITE_TFJS_RUNNER_TESTING_H_

#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/interop_runner_testing.h"

namespace edgepipe::lite::testing {

inline InteropHarness TfjsTfliteHarness() { return {"run_tfjs_tflite.mjs", "tfjs-tflite"}; }

// Runs `model` (a path) once in tfjs-tflite on `inputs` (the model's input
// order); returns its outputs in the model's output order. `run`
// distinguishes files within `dir`.
inline Result<std::vector<Array>> RunTfjsTflite(const std::string& model,
                                                const std::vector<Array>& inputs,
                                                const TempDir& dir, int run) {
  return RunInHarness(TfjsTfliteHarness(), model, inputs, dir, run);
}

// Runs every job in one Node process (run_tfjs_tflite.mjs --jobs), each job
// in a fresh interpreter. Returns, per job, its outputs (step-major when
// steps > 1) or the error tfjs-tflite reported; fails as a whole only when
// the harness itself cannot run (no node, no npm package).
inline Result<std::vector<Result<std::vector<Array>>>> RunTfjsTfliteJobs(
    const std::vector<InteropJob>& jobs, const TempDir& dir) {
  return RunJobsInHarness(TfjsTfliteHarness(), jobs, dir);
}

}  // namespace edgepipe::lite::testing

#endif  // EDGEPIPE_LITE_TFJS_RUNNER_TESTING_H_
