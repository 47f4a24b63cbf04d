// examples/fashion_mnist (issue 6): the small CNN on Fashion-MNIST, rewritten
// to four TFLite models (float32, dynamic-range, float16, full-int8) that one
// Evaluator compares with the native model, as a pipeline library `edgepipe
// run` loads:
//
//   edgepipe run build/release/examples/fashion_mnist_pipeline.so
//   edgepipe compare --root out/fashion_mnist/pipeline --evaluators Evaluator
//   (or: make fashion_mnist)
//
// ExampleGen (Debian's dataset-fashion-mnist gzip IDX files, the dataset's own
// train/t10k split kept as train/eval) -> StatisticsGen -> SchemaGen ->
// ExampleValidator -> Transform (pixels scaled to [0, 1]) -> Trainer (the
// CNN on the raw examples through the Transform graph; run_fn saves the
// native model and the four rewrites into Format-Serving,
// fashion_mnist_module.cc) -> Evaluator (five model_specs in one pass over
// the 10,000 test images: native first, so the flip rate of every rewrite is
// against it; SparseCategoricalAccuracy >= 0.7 for each) -> Pusher: 8
// components.
//
// The module libraries and the data folder are compiled in (absolute paths
// of this build, examples/CMakeLists.txt). The environment tunes a run:
//   EDGEPIPE_FMNIST_ROOT         pipeline root (default out/fashion_mnist/pipeline;
//                                `edgepipe run --root` overrides both)
//   EDGEPIPE_FMNIST_DATA         the IDX folder (default /usr/share/datasets/fashion-mnist)
//   EDGEPIPE_FMNIST_TRAIN_STEPS  Trainer steps of batch 64 (default 1876: 2 epochs
//                                over the 60,000 training images)
//   EDGEPIPE_FMNIST_SERVING      Pusher destination (default serving_model next to
//                                the root: out/fashion_mnist/serving_model)
#include <cstdlib>
#include <map>
#include <string>

#include "edgepipe/components/evaluator_component.h"
#include "edgepipe/components/example_gen_component.h"
#include "edgepipe/components/example_validator.h"
#include "edgepipe/components/pusher.h"
#include "edgepipe/components/schema_gen.h"
#include "edgepipe/components/statistics_gen.h"
#include "edgepipe/components/trainer.h"
#include "edgepipe/components/transform.h"
#include "edgepipe/core/file.h"
#include "edgepipe/pipeline/registry.h"
#include "fashion_mnist_model.h"

namespace {

using edgepipe::Result;
using edgepipe::Status;
using edgepipe::pipeline::Node;
using edgepipe::pipeline::Pipeline;
namespace c = edgepipe::components;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// Five model_specs: the native model, then the rewrites (kLiteVariants), each
// held to the same accuracy floor.
std::string EvalConfig() {
  std::string config =
      "model_specs { name: \"native\" label_key: \"image_class\" model_type: \"tf_keras\" }\n";
  for (const fashion_mnist::LiteVariant& v : fashion_mnist::kLiteVariants) {
    config += "model_specs { name: \"" + std::string(v.name) +
              "\" label_key: \"image_class\" model_type: \"tf_lite\" }\n";
  }
  return config +
         "slicing_specs {}\n"
         "metrics_specs {\n"
         "  metrics {\n"
         "    class_name: \"SparseCategoricalAccuracy\"\n"
         "    threshold { value_threshold { lower_bound { value: 0.7 } } }\n"
         "  }\n"
         "}\n";
}

Result<Pipeline> MakeFashionMnistPipeline() {
  const std::string root = EnvOr("EDGEPIPE_FMNIST_ROOT", "out/fashion_mnist/pipeline");
  const std::string data = EnvOr("EDGEPIPE_FMNIST_DATA", EDGEPIPE_FMNIST_DATA_DIR);
  const std::string steps_text = EnvOr("EDGEPIPE_FMNIST_TRAIN_STEPS", "1876");
  char* end = nullptr;
  const long long steps = std::strtoll(steps_text.c_str(), &end, 10);
  if (end == steps_text.c_str() || *end != '\0' || steps <= 0) {
    return Status::InvalidArgument("EDGEPIPE_FMNIST_TRAIN_STEPS is \"" + steps_text +
                                   "\", expected a positive integer");
  }
  const std::string serving = EnvOr("EDGEPIPE_FMNIST_SERVING",
                                    edgepipe::JoinPath(edgepipe::Dirname(root), "serving_model"));

  Node example_gen = c::ExampleGen(data, "idx", {{"keep_input_splits", int64_t{1}}});
  Node statistics_gen = c::StatisticsGen(example_gen.outputs()["examples"]);
  Node schema_gen = c::SchemaGen(statistics_gen.outputs()["statistics"]);
  Node example_validator =
      c::ExampleValidator(statistics_gen.outputs()["statistics"], schema_gen.outputs()["schema"]);
  Node transform = c::TransformWithModule(
      example_gen.outputs()["examples"], schema_gen.outputs()["schema"], EDGEPIPE_FMNIST_TRANSFORM);
  // Raw examples + the graph: the module applies the Transform to training
  // batches and calibrates the int8 rewrite on raw images (what it serves).
  Node trainer = c::Trainer({.examples = example_gen.outputs()["examples"],
                             .schema = schema_gen.outputs()["schema"],
                             .transform_graph = transform.outputs()["transform_graph"],
                             .module_file = EDGEPIPE_FMNIST_MODULE,
                             .train_steps = steps,
                             .eval_steps = 0});
  std::map<std::string, std::string> files;
  for (const fashion_mnist::LiteVariant& v : fashion_mnist::kLiteVariants) files[v.name] = v.file;
  Node evaluator = c::Evaluator({.examples = example_gen.outputs()["examples"],
                                 .model = trainer.outputs()["model"],
                                 .eval_config = EvalConfig(),
                                 .model_files = files});
  Node pusher = c::Pusher(trainer.outputs()["model"], evaluator.outputs()["blessing"],
                          edgepipe::JoinPath(serving, "fashion_mnist"));

  return Pipeline{"fashion_mnist",
                  root,
                  {example_gen, statistics_gen, schema_gen, example_validator, transform, trainer,
                   evaluator, pusher},
                  /*enable_cache=*/true,
                  ""};
}

}  // namespace

EDGEPIPE_PIPELINE_V1(MakeFashionMnistPipeline)
