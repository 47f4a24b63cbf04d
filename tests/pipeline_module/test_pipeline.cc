// A pipeline shared library for cli_pipeline_test: `edgepipe run` loads it
// through edgepipe_pipeline_v1. Its components are the pipeline layer's fake
// Concat components (A -> B -> C, A -> D). The environment tunes it:
// EDGEPIPE_TEST_B_SUFFIX (B's suffix), EDGEPIPE_TEST_B_FAIL=1 (B fails),
// EDGEPIPE_TEST_ROOT (the pipeline root).
#include <cstdlib>
#include <string>

#include "edgepipe/pipeline/fake_components_testing.h"
#include "edgepipe/pipeline/registry.h"

namespace {

using edgepipe::Result;
using edgepipe::pipeline::Node;
using edgepipe::pipeline::Pipeline;
using edgepipe::pipeline::testing::Concat;

std::string Env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

Result<Pipeline> MakePipeline() {
  Node a = Concat("A", {}, {{"suffix", std::string("a")}});
  Node b = Concat("B", {a.outputs()["out"]},
                  {{"suffix", Env("EDGEPIPE_TEST_B_SUFFIX", "b")},
                   {"fail", int64_t{Env("EDGEPIPE_TEST_B_FAIL", "0") == "1" ? 1 : 0}}});
  Node c = Concat("C", {b.outputs()["out"]}, {{"suffix", std::string("c")}});
  Node d = Concat("D", {a.outputs()["out"]}, {{"suffix", std::string("d")}});
  return Pipeline{
      "clitest", Env("EDGEPIPE_TEST_ROOT", "/tmp/edgepipe_clitest"), {a, b, c, d}, true, ""};
}

}  // namespace

EDGEPIPE_PIPELINE_V1(MakePipeline)
