#include "edgepipe/components/example_gen_component.h"

#include <utility>

#include "edgepipe/components/component_util.h"
#include "edgepipe/components/example_gen.h"

namespace edgepipe::components {
namespace {

class ExampleGenExecutor : public pipeline::Executor {
 public:
  Status Do(pipeline::ExecutionContext& context) override { return DoImpl(context); }

 private:
  Status DoImpl(pipeline::ExecutionContext& context) {
    Env* env = context.env;
    ASSIGN_OR_RETURN(pipeline::Artifact * out, SingleOutput(context, "examples"));
    ExampleGenOptions options;
    ASSIGN_OR_RETURN(options.input, StringParam(context, "input_base"));
    if (!env->Exists(options.input)) {
      return Status::NotFound("input_base " + options.input + " does not exist");
    }
    ASSIGN_OR_RETURN(std::string format, StringParamOr(context, "input_format", "tfrecord"));
    ASSIGN_OR_RETURN(options.format, ParseInputFormat(format));
    ASSIGN_OR_RETURN(std::string splits, StringParamOr(context, "splits", "train:2,eval:1"));
    ASSIGN_OR_RETURN(options.splits, ParseSplitConfig(splits));
    ASSIGN_OR_RETURN(int64_t keep, IntParamOr(context, "keep_input_splits", 0));
    ASSIGN_OR_RETURN(int64_t shards, IntParamOr(context, "num_shards", 0));
    ASSIGN_OR_RETURN(int64_t level, IntParamOr(context, "gzip_level", 1));
    if (shards < 0 || shards > 100000) {
      return Status::InvalidArgument("parameter \"num_shards\" is " + std::to_string(shards) +
                                     ", expected 0 (automatic) to 100000");
    }
    if (level < 0 || level > 9) {
      return Status::InvalidArgument("parameter \"gzip_level\" is " + std::to_string(level) +
                                     ", expected 0 to 9");
    }
    options.keep_input_splits = keep != 0;
    options.num_shards = static_cast<int>(shards);
    options.gzip_level = static_cast<int>(level);
    options.output = out->uri;
    options.overwrite = true;  // the runner made the (empty) output folder
    options.show_progress = false;
    if (context.progress) context.progress(-1, "reading " + options.input);
    ASSIGN_OR_RETURN(ExampleGenSummary summary, RunExampleGen(options, env));
    std::vector<std::string> names;
    for (const SplitSummary& s : summary.splits) names.push_back(s.name);
    out->properties["split_names"] = SplitNamesJson(names);
    out->properties["span"] = int64_t{0};
    return Status::Ok();
  }
};

}  // namespace

const pipeline::ComponentSpec& ExampleGenSpec() {
  static const pipeline::ComponentSpec* spec = [] {
    auto* s = new pipeline::ComponentSpec;
    s->type = "ExampleGen";
    s->params = {
        // is_file: the data's content is part of the cache key (header).
        {"input_base", pipeline::ParamType::kString, true, std::nullopt, /*is_file=*/true},
        {"input_format", pipeline::ParamType::kString, false,
         pipeline::Value{std::string("tfrecord")}},
        {"splits", pipeline::ParamType::kString, false,
         pipeline::Value{std::string("train:2,eval:1")}},
        {"keep_input_splits", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{0}}},
        {"num_shards", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{0}}},
        {"gzip_level", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{1}}},
    };
    s->outputs = {{"examples", std::string(pipeline::artifact_type::kExamples), false}};
    return s;
  }();
  return *spec;
}

std::unique_ptr<pipeline::Executor> MakeExampleGenExecutor() {
  return std::make_unique<ExampleGenExecutor>();
}

pipeline::Node ExampleGen(std::string input_base, std::string input_format,
                          pipeline::Params params) {
  params["input_base"] = std::move(input_base);
  params["input_format"] = std::move(input_format);
  return pipeline::Node(ExampleGenSpec(), MakeExampleGenExecutor, std::move(params), {});
}

}  // namespace edgepipe::components
