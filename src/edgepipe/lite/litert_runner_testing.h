// Test-only: runs a .tflite file in Google's LiteRT (npm @litertjs/core,
// WASM, CPU, one thread) under Node via tests/interop/run_litert.mjs. Only
// test binaries include this (they define EDGEPIPE_SOURCE_DIR). The
// mechanics are shared with tfjs-tflite's: interop_runner_testing.h.
#ifndef EDGEPIPE_LITE_LITERT_RUNNER_TESTING_H_
#define EDGEPIPE_LITE_LITERT_RUNNER_TESTING_H_

#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/interop_runner_testing.h"

namespace edgepipe::lite::testing {

inline InteropHarness LiteRtHarness() { return {"run_litert.mjs", "LiteRT"}; }

// Runs `model` (a path) in LiteRT on `inputs` (signature order); returns its
// outputs in signature order. `run` distinguishes files within `dir`.
inline Result<std::vector<Array>> RunLiteRt(const std::string& model,
                                            const std::vector<Array>& inputs, const TempDir& dir,
                                            int run) {
  return RunInHarness(LiteRtHarness(), model, inputs, dir, run);
}

struct LiteRtJob {
  std::string model;          // path of the .tflite file
  std::vector<Array> inputs;  // in signature order
};

// Runs every job in one Node process (run_litert.mjs --jobs). Returns, per
// job, its outputs in signature order or the error LiteRT reported. Fails as
// a whole only when the harness itself cannot run.
inline Result<std::vector<Result<std::vector<Array>>>> RunLiteRtJobs(
    const std::vector<LiteRtJob>& jobs, const TempDir& dir) {
  std::vector<InteropJob> all;
  all.reserve(jobs.size());
  for (const LiteRtJob& j : jobs) all.push_back(InteropJob{j.model, j.inputs, 1, {}});
  return RunJobsInHarness(LiteRtHarness(), all, dir);
}

}  // namespace edgepipe::lite::testing

#endif  // EDGEPIPE_LITE_LITERT_RUNNER_TESTING_H_
