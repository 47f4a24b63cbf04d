// Test-only: runs a .tflite file in Google's LiteRT (npm @litertjs/core,
// WASM, CPU, one thread) under Node via tests/interop/run_litert.mjs. Only
// test binaries include this (they define EDGEPIPE_SOURCE_DIR).
#ifndef EDGEPIPE_LITE_LITERT_RUNNER_TESTING_H_
#define EDGEPIPE_LITE_LITERT_RUNNER_TESTING_H_

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/npy.h"
#include "edgepipe/core/status.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::lite::testing {

inline std::string ReadTextFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `model` (a path) in LiteRT on `inputs` (signature order); returns its
// outputs in signature order. `run` distinguishes files within `dir`.
inline Result<std::vector<Array>> RunLiteRt(const std::string& model,
                                            const std::vector<Array>& inputs, const TempDir& dir,
                                            int run) {
  const std::string tag = std::to_string(run);
  std::string cmd = "node " + std::string(EDGEPIPE_SOURCE_DIR) + "/tests/interop/run_litert.mjs '" +
                    model + "' '" + dir.Join("out" + tag) + "'";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string path = dir.Join("in" + tag + "_" + std::to_string(i) + ".npy");
    RETURN_IF_ERROR(WriteNpy(path, inputs[i]));
    cmd += " '" + path + "'";
  }
  const std::string log = dir.Join("log" + tag + ".txt");
  cmd += " > '" + dir.Join("stdout" + tag + ".txt") + "' 2> '" + log + "'";
  if (std::system(cmd.c_str()) != 0) {
    return Status::Internal("LiteRT harness failed: " + cmd + "\n" + ReadTextFile(log));
  }
  std::vector<Array> outs;
  for (int k = 0;; ++k) {
    const std::string p = dir.Join("out" + tag + "/output_" + std::to_string(k) + ".npy");
    if (!Env::Default()->Exists(p)) break;
    ASSIGN_OR_RETURN(Array a, ReadNpy(p));
    outs.push_back(std::move(a));
  }
  return outs;
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
  std::string lines;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const std::string tag = "job" + std::to_string(j);
    lines += jobs[j].model + "\t" + dir.Join(tag);
    for (size_t i = 0; i < jobs[j].inputs.size(); ++i) {
      const std::string path = dir.Join(tag + "_in" + std::to_string(i) + ".npy");
      RETURN_IF_ERROR(WriteNpy(path, jobs[j].inputs[i]));
      lines += "\t" + path;
    }
    lines += "\n";
  }
  const std::string list = dir.Join("jobs.txt");
  RETURN_IF_ERROR(WriteFileAtomic(list, lines));
  const std::string log = dir.Join("jobs_log.txt");
  const std::string cmd = "node " + std::string(EDGEPIPE_SOURCE_DIR) +
                          "/tests/interop/run_litert.mjs --jobs '" + list + "' > '" +
                          dir.Join("jobs_stdout.txt") + "' 2> '" + log + "'";
  if (std::system(cmd.c_str()) != 0) {
    return Status::Internal("LiteRT harness failed: " + cmd + "\n" + ReadTextFile(log));
  }
  std::vector<Result<std::vector<Array>>> results;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const std::string out = dir.Join("job" + std::to_string(j));
    if (Env::Default()->Exists(out + "/error.txt")) {
      results.push_back(Status::Internal(ReadTextFile(out + "/error.txt")));
      continue;
    }
    std::vector<Array> outs;
    Status st = Status::Ok();
    for (int k = 0;; ++k) {
      const std::string p = out + "/output_" + std::to_string(k) + ".npy";
      if (!Env::Default()->Exists(p)) break;
      auto a = ReadNpy(p);
      if (!a.ok()) {
        st = a.status();
        break;
      }
      outs.push_back(std::move(*a));
    }
    if (!st.ok()) {
      results.push_back(st);
    } else if (outs.empty()) {
      results.push_back(Status::Internal(jobs[j].model + ": LiteRT wrote no outputs"));
    } else {
      results.push_back(std::move(outs));
    }
  }
  return results;
}

}  // namespace edgepipe::lite::testing

#endif  // EDGEPIPE_LITE_LITERT_RUNNER_TESTING_H_
