// Test-only: runs .tflite files in an official TFLite runtime under Node,
// through a harness script in tests/interop/ (run_litert.mjs for LiteRT,
// run_tfjs_tflite.mjs for tfjs-tflite) that reads inputs and writes outputs
// as .npy files. Shared by litert_runner_testing.h and
// tfjs_runner_testing.h. Only test binaries include this (they define
// EDGEPIPE_SOURCE_DIR). Node comes from PATH, the npm packages from the
// source tree's node_modules (scripts/setup.sh); when either is missing the
// call fails with a message saying so.
#ifndef EDGEPIPE_LITE_INTEROP_RUNNER_TESTING_H_
#define EDGEPIPE_LITE_INTEROP_RUNNER_TESTING_H_

#include <sys/wait.h>

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

// One harness script and the runtime's name for messages.
struct InteropHarness {
  std::string script;   // file name in tests/interop/, e.g. "run_litert.mjs"
  std::string runtime;  // e.g. "LiteRT"
};

// One model run. With steps > 1 (stateful models) `inputs` holds `steps`
// groups of the model's inputs, invoked in order in one interpreter.
// `input_files`, when not empty, replaces `inputs` by ready .npy files (for
// dtypes Array has not, e.g. int16).
struct InteropJob {
  std::string model;          // path of the .tflite file
  std::vector<Array> inputs;  // in the model's input order
  int steps = 1;
  std::vector<std::string> input_files;
};

// Runs `cmd` (stdout/stderr already redirected, stderr to `log`); a missing
// node or a failing harness becomes an Internal error naming the runtime.
inline Status RunHarnessCommand(const InteropHarness& h, const std::string& cmd,
                                const std::string& log) {
  const int rc = std::system(cmd.c_str());
  if (rc == 0) return Status::Ok();
  if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 127) {
    return Status::Internal(h.runtime + " harness: `node` not found on PATH (Node 20 is needed; " +
                            "scripts/setup.sh installs nodejs): " + cmd);
  }
  const std::string text = ReadTextFile(log);
  if (text.find("Cannot find module") != std::string::npos ||
      text.find("Cannot find package") != std::string::npos ||
      text.find("ERR_MODULE_NOT_FOUND") != std::string::npos) {
    return Status::Internal(h.runtime + " harness: an npm package is missing from " +
                            std::string(EDGEPIPE_SOURCE_DIR) +
                            "/node_modules (run scripts/setup.sh, which runs npm ci): " + text);
  }
  return Status::Internal(h.runtime + " harness failed: " + cmd + "\n" + text);
}

inline std::string HarnessCommand(const InteropHarness& h) {
  return "node '" + std::string(EDGEPIPE_SOURCE_DIR) + "/tests/interop/" + h.script + "'";
}

// Reads out/output_<k>.npy for k = 0, 1, ... until one is missing.
inline Result<std::vector<Array>> ReadHarnessOutputs(const std::string& out) {
  std::vector<Array> outs;
  for (int k = 0;; ++k) {
    const std::string p = out + "/output_" + std::to_string(k) + ".npy";
    if (!Env::Default()->Exists(p)) break;
    ASSIGN_OR_RETURN(Array a, ReadNpy(p));
    outs.push_back(std::move(a));
  }
  return outs;
}

// Runs `model` once on `inputs`; returns its outputs in the model's order.
// `run` distinguishes files within `dir`.
inline Result<std::vector<Array>> RunInHarness(const InteropHarness& h, const std::string& model,
                                               const std::vector<Array>& inputs, const TempDir& dir,
                                               int run) {
  const std::string tag = std::to_string(run);
  std::string cmd = HarnessCommand(h) + " '" + model + "' '" + dir.Join("out" + tag) + "'";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string path = dir.Join("in" + tag + "_" + std::to_string(i) + ".npy");
    RETURN_IF_ERROR(WriteNpy(path, inputs[i]));
    cmd += " '" + path + "'";
  }
  const std::string log = dir.Join("log" + tag + ".txt");
  cmd += " > '" + dir.Join("stdout" + tag + ".txt") + "' 2> '" + log + "'";
  RETURN_IF_ERROR(RunHarnessCommand(h, cmd, log));
  return ReadHarnessOutputs(dir.Join("out" + tag));
}

// Runs every job in one Node process (--jobs). Returns, per job, its outputs
// (step-major for steps > 1: step s output k at s * num_outputs + k) or the
// error the runtime reported. Fails as a whole only when the harness itself
// cannot run.
inline Result<std::vector<Result<std::vector<Array>>>> RunJobsInHarness(
    const InteropHarness& h, const std::vector<InteropJob>& jobs, const TempDir& dir) {
  std::string lines;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const std::string tag = "job" + std::to_string(j);
    if (jobs[j].steps != 1) lines += "steps=" + std::to_string(jobs[j].steps) + "\t";
    lines += jobs[j].model + "\t" + dir.Join(tag);
    for (size_t i = 0; i < jobs[j].inputs.size(); ++i) {
      const std::string path = dir.Join(tag + "_in" + std::to_string(i) + ".npy");
      RETURN_IF_ERROR(WriteNpy(path, jobs[j].inputs[i]));
      lines += "\t" + path;
    }
    for (const std::string& path : jobs[j].input_files) lines += "\t" + path;
    lines += "\n";
  }
  const std::string list = dir.Join("jobs.txt");
  RETURN_IF_ERROR(WriteFileAtomic(list, lines));
  const std::string log = dir.Join("jobs_log.txt");
  const std::string cmd = HarnessCommand(h) + " --jobs '" + list + "' > '" +
                          dir.Join("jobs_stdout.txt") + "' 2> '" + log + "'";
  RETURN_IF_ERROR(RunHarnessCommand(h, cmd, log));
  std::vector<Result<std::vector<Array>>> results;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const std::string out = dir.Join("job" + std::to_string(j));
    if (Env::Default()->Exists(out + "/error.txt")) {
      results.push_back(Status::Internal(ReadTextFile(out + "/error.txt")));
      continue;
    }
    std::vector<Array> outs;
    Status st = Status::Ok();
    for (int s = 0; s < jobs[j].steps && st.ok(); ++s) {
      auto step = ReadHarnessOutputs(jobs[j].steps == 1 ? out : out + "/step" + std::to_string(s));
      if (!step.ok()) {
        st = step.status();
      } else if (step->empty()) {
        st = Status::Internal(jobs[j].model + ": " + h.runtime + " wrote no outputs for step " +
                              std::to_string(s));
      } else {
        for (Array& a : *step) outs.push_back(std::move(a));
      }
    }
    if (!st.ok()) {
      results.push_back(st);
    } else {
      results.push_back(std::move(outs));
    }
  }
  return results;
}

}  // namespace edgepipe::lite::testing

#endif  // EDGEPIPE_LITE_INTEROP_RUNNER_TESTING_H_
