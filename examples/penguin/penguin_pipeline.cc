// examples/penguin: the Palmer penguins (344 birds, 3 species; "NA" marks a
// missing measurement or sex) classified from four body measurements, a
// native model and its TFLite rewrite side by side, evaluated overall and
// sliced by island, sex and island x sex. A pipeline library `edgepipe run`
// loads:
//
//   edgepipe run build/release/examples/penguin_pipeline.so [--root out/penguin/pipeline]
//
// ExampleGen (CSV; missing values stay missing) -> StatisticsGen ->
// SchemaGen -> ExampleValidator -> Transform (penguin_transform.cc: z-scores,
// missing measurements imputed with the train split's mean, species ->
// vocabulary id) -> Trainer.penguin (native, serving signature over
// serialized tf.Example of the raw measurements) and Trainer.penguin_lite
// (TFLite rewrite) -> Evaluator.penguin / Evaluator.penguin_lite
// (SparseCategoricalAccuracy >= 0.9, on the Transform's eval examples: they
// hold the int label, the raw measurements with missing ones imputed, island
// and sex) -> Pusher.penguin / Pusher.penguin_lite: 11 components.
//
// The module libraries and the CSV path are compiled in (absolute paths of
// this build, examples/CMakeLists.txt). The environment tunes a run:
//   EDGEPIPE_PENGUIN_ROOT         pipeline root (default out/penguin/pipeline;
//                                 `edgepipe run --root` overrides both)
//   EDGEPIPE_PENGUIN_DATA         the CSV file (default: the build's
//                                 data/penguins/penguins.csv)
//   EDGEPIPE_PENGUIN_TRAIN_STEPS  Trainer steps (default 2000, batches of 16)
//   EDGEPIPE_PENGUIN_SERVING      Pusher destination (default serving_model
//                                 next to the root)
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

// Overall, by island, by sex, by island x sex; the lite one differs only by
// model_type.
std::string EvalConfig(const std::string& model_type) {
  return "model_specs { label_key: \"species_xf\" model_type: \"" + model_type +
         "\" }\n"
         "slicing_specs {}\n"
         "slicing_specs { feature_keys: \"island\" }\n"
         "slicing_specs { feature_keys: \"sex\" }\n"
         "slicing_specs { feature_keys: \"island\" feature_keys: \"sex\" }\n"
         "metrics_specs {\n"
         "  metrics {\n"
         "    class_name: \"SparseCategoricalAccuracy\"\n"
         "    threshold { value_threshold { lower_bound { value: 0.9 } } }\n"
         "  }\n"
         "}\n";
}

Result<Pipeline> MakePenguinPipeline() {
  const std::string root = EnvOr("EDGEPIPE_PENGUIN_ROOT", "out/penguin/pipeline");
  const std::string data = EnvOr("EDGEPIPE_PENGUIN_DATA", EDGEPIPE_PENGUIN_CSV);
  const std::string steps_text = EnvOr("EDGEPIPE_PENGUIN_TRAIN_STEPS", "2000");
  char* end = nullptr;
  const long long steps = std::strtoll(steps_text.c_str(), &end, 10);
  if (end == steps_text.c_str() || *end != '\0' || steps <= 0) {
    return Status::InvalidArgument("EDGEPIPE_PENGUIN_TRAIN_STEPS is \"" + steps_text +
                                   "\", expected a positive integer");
  }
  const std::string serving = EnvOr("EDGEPIPE_PENGUIN_SERVING",
                                    edgepipe::JoinPath(edgepipe::Dirname(root), "serving_model"));

  Node example_gen = c::ExampleGen(data, "csv");
  Node statistics_gen = c::StatisticsGen(example_gen.outputs()["examples"]);
  Node schema_gen = c::SchemaGen(statistics_gen.outputs()["statistics"]);
  Node example_validator =
      c::ExampleValidator(statistics_gen.outputs()["statistics"], schema_gen.outputs()["schema"]);
  Node transform =
      c::TransformWithModule(example_gen.outputs()["examples"], schema_gen.outputs()["schema"],
                             EDGEPIPE_PENGUIN_TRANSFORM);

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
  Node trainer_native = trainer(EDGEPIPE_PENGUIN_MODULE, "Trainer.penguin");
  Node trainer_lite = trainer(EDGEPIPE_PENGUIN_LITE_MODULE, "Trainer.penguin_lite");

  auto evaluator = [&](const Node& t, const char* model_type, const char* id) {
    // The Transform's examples: the int label (the raw one is a string) and
    // the raw measurements the served models read (they carry the Transform).
    Node e = c::Evaluator({.examples = transform.outputs()["transformed_examples"],
                           .model = t.outputs()["model"],
                           .eval_config = EvalConfig(model_type)});
    e.WithId(id);
    return e;
  };
  Node evaluator_native = evaluator(trainer_native, "tf_keras", "Evaluator.penguin");
  Node evaluator_lite = evaluator(trainer_lite, "tf_lite", "Evaluator.penguin_lite");

  auto pusher = [&](const Node& t, const Node& e, const char* name, const char* id) {
    Node p =
        c::Pusher(t.outputs()["model"], e.outputs()["blessing"], edgepipe::JoinPath(serving, name));
    p.WithId(id);
    return p;
  };
  Node pusher_native = pusher(trainer_native, evaluator_native, "penguin", "Pusher.penguin");
  Node pusher_lite = pusher(trainer_lite, evaluator_lite, "penguin_lite", "Pusher.penguin_lite");

  return Pipeline{
      "penguin",
      root,
      {example_gen, statistics_gen, schema_gen, example_validator, transform, trainer_native,
       trainer_lite, evaluator_native, evaluator_lite, pusher_native, pusher_lite},
      /*enable_cache=*/true,
      ""};
}

}  // namespace

EDGEPIPE_PIPELINE_V1(MakePenguinPipeline)
