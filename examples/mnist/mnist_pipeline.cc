// examples/mnist: the TFX MNIST guide's pipeline (native Keras and TFLite
// models side by side), as a pipeline library `edgepipe run` loads:
//
//   edgepipe run build/release/examples/mnist_pipeline.so [--root out/mnist/pipeline]
//
// ExampleGen (data/mnist IDX, 10,000 digits) -> StatisticsGen -> SchemaGen ->
// ExampleValidator -> Transform (image_floats scaled with scale_by_min_max) ->
// Trainer.mnist (serving signature over serialized tf.Example) and
// Trainer.mnist_lite (signature over image_floats [-1, 784], TFLite rewriter)
// -> Evaluator.mnist / Evaluator.mnist_lite (SparseCategoricalAccuracy >= 0.8)
// -> Pusher.mnist / Pusher.mnist_lite: 11 components.
//
// The module libraries and the data folder are compiled in (absolute paths
// of this build, examples/CMakeLists.txt). The environment tunes a run:
//   EDGEPIPE_MNIST_ROOT         pipeline root (default out/mnist/pipeline;
//                               `edgepipe run --root` overrides both)
//   EDGEPIPE_MNIST_DATA         the IDX folder (default: the build's data/mnist)
//   EDGEPIPE_MNIST_TRAIN_STEPS  Trainer steps (default 5000)
//   EDGEPIPE_MNIST_SERVING      Pusher destination (default serving_model next to
//                               the root: out/mnist/serving_model)
#include <cstdlib>
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

// The guide's eval config; the lite one differs only by model_type.
std::string EvalConfig(const std::string& model_type) {
  return "model_specs { label_key: \"image_class\" model_type: \"" + model_type +
         "\" }\n"
         "slicing_specs {}\n"
         "metrics_specs {\n"
         "  metrics {\n"
         "    class_name: \"SparseCategoricalAccuracy\"\n"
         "    threshold { value_threshold { lower_bound { value: 0.8 } } }\n"
         "  }\n"
         "}\n";
}

Result<Pipeline> MakeMnistPipeline() {
  const std::string root = EnvOr("EDGEPIPE_MNIST_ROOT", "out/mnist/pipeline");
  const std::string data = EnvOr("EDGEPIPE_MNIST_DATA", EDGEPIPE_MNIST_DATA_DIR);
  const std::string steps_text = EnvOr("EDGEPIPE_MNIST_TRAIN_STEPS", "5000");
  char* end = nullptr;
  const long long steps = std::strtoll(steps_text.c_str(), &end, 10);
  if (end == steps_text.c_str() || *end != '\0' || steps <= 0) {
    return Status::InvalidArgument("EDGEPIPE_MNIST_TRAIN_STEPS is \"" + steps_text +
                                   "\", expected a positive integer");
  }
  const std::string serving =
      EnvOr("EDGEPIPE_MNIST_SERVING", edgepipe::JoinPath(edgepipe::Dirname(root), "serving_model"));

  Node example_gen = c::ExampleGen(data, "idx");
  Node statistics_gen = c::StatisticsGen(example_gen.outputs()["examples"]);
  Node schema_gen = c::SchemaGen(statistics_gen.outputs()["statistics"]);
  Node example_validator =
      c::ExampleValidator(statistics_gen.outputs()["statistics"], schema_gen.outputs()["schema"]);
  Node transform = c::TransformWithModule(example_gen.outputs()["examples"],
                                          schema_gen.outputs()["schema"], EDGEPIPE_MNIST_TRANSFORM);

  auto trainer = [&](const char* module, const char* id) {
    Node t = c::Trainer({.examples = transform.outputs()["transformed_examples"],
                         .schema = schema_gen.outputs()["schema"],
                         .transform_graph = transform.outputs()["transform_graph"],
                         .module_file = module,
                         .train_steps = steps,
                         .eval_steps = 0});
    t.WithId(id);
    return t;
  };
  Node trainer_native = trainer(EDGEPIPE_MNIST_MODULE, "Trainer.mnist");
  Node trainer_lite = trainer(EDGEPIPE_MNIST_LITE_MODULE, "Trainer.mnist_lite");

  auto evaluator = [&](const Node& t, const char* model_type, const char* id) {
    // Raw examples: the served models carry the Transform (mnist_model.h).
    Node e = c::Evaluator({.examples = example_gen.outputs()["examples"],
                           .model = t.outputs()["model"],
                           .eval_config = EvalConfig(model_type)});
    e.WithId(id);
    return e;
  };
  Node evaluator_native = evaluator(trainer_native, "tf_keras", "Evaluator.mnist");
  Node evaluator_lite = evaluator(trainer_lite, "tf_lite", "Evaluator.mnist_lite");

  auto pusher = [&](const Node& t, const Node& e, const char* name, const char* id) {
    Node p =
        c::Pusher(t.outputs()["model"], e.outputs()["blessing"], edgepipe::JoinPath(serving, name));
    p.WithId(id);
    return p;
  };
  Node pusher_native = pusher(trainer_native, evaluator_native, "mnist", "Pusher.mnist");
  Node pusher_lite = pusher(trainer_lite, evaluator_lite, "mnist_lite", "Pusher.mnist_lite");

  return Pipeline{
      "mnist",
      root,
      {example_gen, statistics_gen, schema_gen, example_validator, transform, trainer_native,
       trainer_lite, evaluator_native, evaluator_lite, pusher_native, pusher_lite},
      /*enable_cache=*/true,
      ""};
}

}  // namespace

EDGEPIPE_PIPELINE_V1(MakeMnistPipeline)
