// The Transform component: registry, raw spec inference, RunTransform, the
// executor and the DSL node.
#include "edgepipe/components/transform.h"

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "edgepipe/components/schema_gen.h"
#include "edgepipe/components/trainer_module.h"
#include "edgepipe/core/build_id.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/nn/dataset_input.h"
#include "edgepipe/pipeline/module.h"

namespace edgepipe::components {

namespace {

struct Registered {
  PreprocessingFn fn;
  const void* code = nullptr;  // an address in the object holding the code
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Registered, std::less<>> fns;
};

Registry& GetRegistry() {
  static Registry* r = new Registry();
  return *r;
}

// The record files of split `split` in the Examples folder `examples`.
Result<std::vector<std::string>> SplitFiles(const std::string& examples, const std::string& split,
                                            Env* env) {
  const std::string dir = JoinPath(examples, "Split-" + split);
  if (!env->IsDirectory(dir)) {
    return Status::NotFound(dir + ": examples have no split \"" + split + "\"");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  std::vector<std::string> files;
  for (const std::string& n : names) {
    if (!n.empty() && n[0] != '.') files.push_back(JoinPath(dir, n));
  }
  return files;
}

// Writes the rows of a transformed batch as tf.Examples.
Status WriteBatch(const data::Batch& batch, const std::vector<data::FeatureSpec>& specs,
                  data::TFRecordWriter& writer) {
  for (int64_t r = 0; r < batch.size; ++r) {
    tf::Example ex;
    for (const data::FeatureSpec& s : specs) {
      int64_t per = 1;
      for (int64_t d : s.shape) per *= d;
      const size_t begin = static_cast<size_t>(r * per), count = static_cast<size_t>(per);
      if (s.type == data::FeatureType::kString) {
        ASSIGN_OR_RETURN(const std::vector<std::string>* v, batch.GetStrings(s.name));
        data::SetBytes(&ex, s.name, std::span<const std::string>(*v).subspan(begin, count));
      } else {
        ASSIGN_OR_RETURN(const Array* a, batch.GetArray(s.name));
        if (s.type == data::FeatureType::kInt64) {
          data::SetInt64s(&ex, s.name, a->data<int64_t>().subspan(begin, count));
        } else {
          data::SetFloats(&ex, s.name, a->data<float>().subspan(begin, count));
        }
      }
    }
    RETURN_IF_ERROR(writer.Write(data::SerializeDeterministic(ex)));
  }
  return Status::Ok();
}

// Transforms one split into <out>/Split-<split>/data_tfrecord-00000-of-00001.gz.
Result<int64_t> TransformSplit(const TransformGraph& graph, const std::string& examples,
                               const std::string& split, const TransformOptions& options,
                               Env* env) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, SplitFiles(examples, split, env));
  const std::string dir = JoinPath(options.transformed_examples, "Split-" + split);
  RETURN_IF_ERROR(env->CreateDirs(dir));
  data::TFRecordWriterOptions wopts;
  wopts.gzip_level = options.gzip_level;
  ASSIGN_OR_RETURN(auto writer, data::TFRecordWriter::Open(
                                    JoinPath(dir, "data_tfrecord-00000-of-00001.gz"), wopts, env));
  const std::vector<data::FeatureSpec> out_specs = graph.TransformedFeatureSpecs();
  int64_t count = 0;
  if (!files.empty()) {
    ASSIGN_OR_RETURN(auto source, nn::NewTFRecordSource(files, {}, env));
    ASSIGN_OR_RETURN(auto dataset,
                     data::NewExampleDataset(std::move(source), graph.UsedRawFeatureSpecs(),
                                             {.batch_size = options.batch_size}));
    for (;;) {
      auto next = dataset->Next();
      if (!next.ok()) {
        return Status(next.status().code(), "Split-" + split + ": " + next.status().message());
      }
      if (!*next) break;
      auto out = graph.Apply(**next);
      if (!out.ok()) {
        return Status(out.status().code(), "Split-" + split + ": records " + std::to_string(count) +
                                               "..: " + out.status().message());
      }
      RETURN_IF_ERROR(WriteBatch(*out, out_specs, *writer));
      count += (*next)->size;
    }
  }
  RETURN_IF_ERROR(writer->Close());
  return count;
}

std::string JsonList(const std::vector<std::string>& v) { return nlohmann::json(v).dump(); }

}  // namespace

__attribute__((noinline)) Status RegisterPreprocessingFn(std::string name, PreprocessingFn fn) {
  if (name.empty() || !fn) {
    return Status::InvalidArgument("preprocessing_fn registration needs a name and a function");
  }
  // The code's object: a plain function's own address, else (a lambda or
  // functor) the caller's, i.e. the executable or module that registers it.
  using Plain = std::map<std::string, Column> (*)(const Inputs&);
  const void* code = __builtin_extract_return_addr(__builtin_return_address(0));
  if (const Plain* plain = fn.target<Plain>(); plain != nullptr && *plain != nullptr) {
    code = reinterpret_cast<const void*>(*plain);
  }
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.fns.emplace(name, Registered{std::move(fn), code}).second) {
    return Status::AlreadyExists("preprocessing_fn \"" + name + "\" is already registered");
  }
  return Status::Ok();
}

Result<PreprocessingFn> FindPreprocessingFn(std::string_view name) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.fns.find(name);
  if (it != r.fns.end()) return it->second.fn;
  std::string names;
  for (const auto& [n, f] : r.fns) names += (names.empty() ? "" : ", ") + n;
  return Status::NotFound("preprocessing_fn \"" + std::string(name) +
                          "\" is not registered (registered: " + (names.empty() ? "none" : names) +
                          ")");
}

Result<std::string> PreprocessingFnFingerprint(std::string_view name) {
  const void* code = nullptr;
  {
    Registry& r = GetRegistry();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.fns.find(name);
    if (it != r.fns.end()) code = it->second.code;
  }
  if (code == nullptr) {
    // The NotFound that lists the registered names.
    RETURN_IF_ERROR(FindPreprocessingFn(name).status());
  }
  Result<std::string> id = BuildIdOf(code);
  if (!id.ok()) {
    return id.status().WithContext("preprocessing_fn \"" + std::string(name) + "\"");
  }
  return "build-id:" + *id;
}

Result<PreprocessingFn> LoadPreprocessingFn(const std::string& module_file, Env* env) {
  std::string library = module_file;
  if (IsModuleSource(module_file)) {
    ASSIGN_OR_RETURN(library, BuildModule(module_file, DefaultModuleBuildOptions(), env));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<pipeline::Module> module, pipeline::Module::Open(library, env));
  RETURN_IF_ERROR(
      module->CheckAbiVersion(kPreprocessingFnAbiVersionSymbol, kPreprocessingFnAbiVersion));
  PreprocessingFnEntry* entry = nullptr;
  RETURN_IF_ERROR(module->FindFunction(kPreprocessingFnSymbol, &entry));
  // The library stays loaded for the life of the process (pipeline/module.h).
  return PreprocessingFn([entry, module_file](const Inputs& in) {
    std::map<std::string, Column> out;
    Status s;
    entry(&in, &out, &s);
    if (!s.ok()) in.Error(module_file + ": " + s.message());
    return out;
  });
}

Result<std::vector<data::FeatureSpec>> InferRawFeatureSpecs(const std::vector<std::string>& files,
                                                            int64_t max_records, Env* env) {
  if (files.empty()) return Status::FailedPrecondition("raw feature specs: no record files");
  ASSIGN_OR_RETURN(auto reader, data::TFRecordFileSetReader::Open(files, {}, env));
  struct Seen {
    data::FeatureType type;
    int64_t count;
    int64_t records = 0;
  };
  std::map<std::string, Seen> seen;
  int64_t records = 0;
  std::string record;
  tf::Example ex;
  while (max_records == 0 || records < max_records) {
    ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    if (!ex.ParseFromString(record)) {
      return Status::DataLoss(files[std::min(reader->file_index(), files.size() - 1)] +
                              ": record " + std::to_string(records) +
                              ": not a valid serialized tf.Example");
    }
    for (const auto& [name, f] : ex.features().feature()) {
      data::FeatureType type;
      int64_t count;
      if (f.has_float_list()) {
        type = data::FeatureType::kFloat32;
        count = f.float_list().value_size();
      } else if (f.has_int64_list()) {
        type = data::FeatureType::kInt64;
        count = f.int64_list().value_size();
      } else if (f.has_bytes_list()) {
        type = data::FeatureType::kString;
        count = f.bytes_list().value_size();
      } else {
        continue;  // an empty feature says nothing about its kind
      }
      auto [it, inserted] = seen.emplace(name, Seen{type, count});
      ++it->second.records;
    }
    ++records;
  }
  if (records == 0) {
    return Status::FailedPrecondition(files.front() + ": the split has no records");
  }
  std::vector<data::FeatureSpec> specs;
  for (const auto& [name, s] : seen) {
    data::FeatureSpec spec;
    spec.name = name;
    spec.type = s.type;
    if (s.count != 1) spec.shape = {s.count};
    // Missing in some records: filled with 0 / "" (TFX's _fill_in_missing).
    if (s.records < records && s.count == 1) {
      spec.has_default = true;
      if (s.type == data::FeatureType::kFloat32) spec.default_float = {0.0f};
      if (s.type == data::FeatureType::kInt64) spec.default_int64 = {0};
      if (s.type == data::FeatureType::kString) spec.default_string = {""};
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

Status CheckRawFeaturesAgainstSchema(const std::vector<data::FeatureSpec>& used,
                                     const tfmd::Schema& schema, std::string_view schema_name) {
  std::map<std::string_view, const tfmd::Feature*> by_name;
  for (const tfmd::Feature& f : schema.feature()) by_name.emplace(f.name(), &f);
  for (const data::FeatureSpec& spec : used) {
    auto it = by_name.find(spec.name);
    if (it == by_name.end()) {
      return Status::FailedPrecondition(std::string(schema_name) + ": feature \"" + spec.name +
                                        "\" is read by the preprocessing_fn but is not in the "
                                        "schema");
    }
    const tfmd::Feature& f = *it->second;
    tfmd::FeatureType want = tfmd::TYPE_UNKNOWN;
    switch (spec.type) {
      case data::FeatureType::kFloat32:
        want = tfmd::FLOAT;
        break;
      case data::FeatureType::kInt64:
        want = tfmd::INT;
        break;
      case data::FeatureType::kString:
        want = tfmd::BYTES;
        break;
    }
    if (f.has_type() && f.type() != tfmd::TYPE_UNKNOWN && f.type() != want) {
      return Status::FailedPrecondition(
          std::string(schema_name) + ": feature \"" + spec.name + "\" has type " +
          tfmd::FeatureType_Name(f.type()) + " in the schema but the examples hold " +
          std::string(data::FeatureTypeName(spec.type)) + " values (schema type " +
          tfmd::FeatureType_Name(want) + ")");
    }
    if (f.has_shape()) {
      int64_t schema_count = 1, spec_count = 1;
      for (const auto& d : f.shape().dim()) schema_count *= d.size();
      for (int64_t d : spec.shape) spec_count *= d;
      if (schema_count != spec_count) {
        return Status::FailedPrecondition(std::string(schema_name) + ": feature \"" + spec.name +
                                          "\" has " + std::to_string(schema_count) +
                                          " values per example in the schema's shape but " +
                                          std::to_string(spec_count) + " in the examples");
      }
    }
  }
  return Status::Ok();
}

Result<TransformSummary> RunTransform(const PreprocessingFn& fn, const TransformOptions& options,
                                      Env* env) {
  if (!env->IsDirectory(options.examples)) {
    return Status::NotFound(options.examples + ": examples folder does not exist");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> entries, env->ListDir(options.examples));
  std::vector<std::string> splits;
  for (const std::string& e : entries) {
    if (e.rfind("Split-", 0) == 0 && env->IsDirectory(JoinPath(options.examples, e))) {
      splits.push_back(e.substr(6));
    }
  }
  if (splits.empty()) {
    return Status::NotFound(options.examples + ": no Split-* folders (not an Examples artifact)");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> train,
                   SplitFiles(options.examples, options.analyze_split, env));
  const std::string train_dir = JoinPath(options.examples, "Split-" + options.analyze_split);
  std::vector<data::FeatureSpec> raw = options.raw_features;
  if (raw.empty()) {
    if (train.empty()) {
      return Status::FailedPrecondition(train_dir + ": the analyze split has no records");
    }
    auto inferred = InferRawFeatureSpecs(train, 0, env);
    if (!inferred.ok()) {
      return Status(inferred.status().code(), train_dir + ": " + inferred.status().message());
    }
    raw = std::move(*inferred);
    // Missing numbers: the analyze split's mean, not 0 (transform_impute.cc).
    std::vector<std::string> others;
    for (const std::string& split : splits) {
      if (split == options.analyze_split) continue;
      ASSIGN_OR_RETURN(std::vector<std::string> files, SplitFiles(options.examples, split, env));
      others.insert(others.end(), files.begin(), files.end());
    }
    if (Status s = ImputeMissingWithMeans(train, others, raw, env); !s.ok()) {
      return Status(s.code(), train_dir + ": " + s.message());
    }
  }
  ASSIGN_OR_RETURN(TransformGraph graph, TransformGraph::Trace(fn, std::move(raw)));
  if (!options.schema.empty()) {
    ASSIGN_OR_RETURN(tfmd::Schema schema, ReadSchema(options.schema, env));
    RETURN_IF_ERROR(
        CheckRawFeaturesAgainstSchema(graph.UsedRawFeatureSpecs(), schema, options.schema));
  }
  {
    if (train.empty()) {
      return Status::FailedPrecondition(train_dir + ": the analyze split has no records");
    }
    ASSIGN_OR_RETURN(auto source, nn::NewTFRecordSource(train, {}, env));
    ASSIGN_OR_RETURN(auto dataset,
                     data::NewExampleDataset(std::move(source), graph.UsedRawFeatureSpecs(),
                                             {.batch_size = options.batch_size}));
    if (Status s = graph.Analyze(*dataset); !s.ok()) {
      return Status(s.code(), train_dir + ": " + s.message());
    }
  }
  RETURN_IF_ERROR(SaveTransformGraph(graph, options.transform_graph, env));
  TransformSummary summary;
  nlohmann::json split_json = nlohmann::json::array();
  for (const std::string& split : splits) {
    ASSIGN_OR_RETURN(int64_t n, TransformSplit(graph, options.examples, split, options, env));
    summary.splits.push_back(split);
    summary.counts.push_back(n);
    split_json.push_back({{"name", split}, {"count", n}, {"shards", 1}});
  }
  nlohmann::json j = {{"component", "Transform"},
                      {"examples", options.examples},
                      {"analyze_split", options.analyze_split},
                      {"splits", split_json}};
  RETURN_IF_ERROR(WriteFileAtomic(JoinPath(options.transformed_examples, "transform.json"),
                                  j.dump(2) + "\n", env));
  return summary;
}

// ---- the component -----------------------------------------------------------

pipeline::ComponentSpec TransformSpec() {
  pipeline::ComponentSpec spec;
  spec.type = "Transform";
  spec.params = {
      {.name = "preprocessing_fn", .type = pipeline::ParamType::kString, .default_value = ""},
      {.name = "module_file",
       .type = pipeline::ParamType::kString,
       .default_value = "",
       .is_file = true},
      {.name = "analyze_split", .type = pipeline::ParamType::kString, .default_value = "train"},
  };
  spec.inputs = {{"examples", std::string(pipeline::artifact_type::kExamples), false},
                 {"schema", std::string(pipeline::artifact_type::kSchema), true}};
  spec.outputs = {{"transform_graph", std::string(pipeline::artifact_type::kTransformGraph), false},
                  {"transformed_examples", std::string(pipeline::artifact_type::kExamples), false}};
  spec.executor_version = "1";
  // A preprocessing_fn named in the params: the build id of the executable
  // or module holding its code (a module_file is hashed by content already).
  spec.cache_fingerprint = [](const pipeline::Params& params) -> Result<std::string> {
    auto it = params.find("preprocessing_fn");
    const std::string* name = it == params.end() ? nullptr : std::get_if<std::string>(&it->second);
    if (name == nullptr || name->empty()) return std::string();
    return PreprocessingFnFingerprint(*name);
  };
  return spec;
}

namespace {

std::string StringParam(const pipeline::Params& params, std::string_view name) {
  auto it = params.find(name);
  if (it == params.end()) return "";
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return "";
}

Result<std::string> SingleUri(const pipeline::ArtifactMap& map, std::string_view key) {
  auto it = map.find(key);
  if (it == map.end() || it->second.size() != 1) {
    return Status::InvalidArgument("Transform: needs exactly one \"" + std::string(key) +
                                   "\" artifact");
  }
  return it->second.front().uri;
}

class TransformExecutor final : public pipeline::Executor {
 public:
  Status Do(pipeline::ExecutionContext& context) override {
    const std::string fn_name = StringParam(context.params, "preprocessing_fn");
    const std::string module = StringParam(context.params, "module_file");
    if (!module.empty() && !fn_name.empty()) {
      return Status::InvalidArgument("Transform: set preprocessing_fn \"" + fn_name +
                                     "\" or module_file \"" + module + "\", not both");
    }
    PreprocessingFn fn;
    if (!module.empty()) {
      ASSIGN_OR_RETURN(fn, LoadPreprocessingFn(module, context.env));
    } else if (fn_name.empty()) {
      return Status::InvalidArgument(
          "Transform: set the preprocessing_fn or module_file parameter");
    } else {
      ASSIGN_OR_RETURN(fn, FindPreprocessingFn(fn_name));
    }
    TransformOptions options;
    ASSIGN_OR_RETURN(options.examples, SingleUri(context.inputs, "examples"));
    ASSIGN_OR_RETURN(options.transform_graph, SingleUri(context.outputs, "transform_graph"));
    ASSIGN_OR_RETURN(options.transformed_examples,
                     SingleUri(context.outputs, "transformed_examples"));
    if (auto it = context.inputs.find("schema");
        it != context.inputs.end() && !it->second.empty()) {
      ASSIGN_OR_RETURN(options.schema, SingleUri(context.inputs, "schema"));
    }
    options.analyze_split = StringParam(context.params, "analyze_split");
    if (options.analyze_split.empty()) options.analyze_split = "train";
    if (context.progress) context.progress(-1, "analyzing and transforming");
    ASSIGN_OR_RETURN(TransformSummary summary, RunTransform(fn, options, context.env));
    auto& out = context.outputs.find("transformed_examples")->second.front();
    out.properties["split_names"] = JsonList(summary.splits);
    if (context.progress) context.progress(1, "done");
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<pipeline::Executor> NewTransformExecutor() {
  return std::make_unique<TransformExecutor>();
}

namespace {

pipeline::Node MakeTransformNode(const pipeline::Channel& examples,
                                 const std::optional<pipeline::Channel>& schema,
                                 std::string fn_name, std::string module_file) {
  std::map<std::string, pipeline::Channel, std::less<>> inputs = {{"examples", examples}};
  if (schema) inputs.emplace("schema", *schema);
  pipeline::Params params = {{"preprocessing_fn", std::move(fn_name)},
                             {"module_file", std::move(module_file)},
                             {"analyze_split", std::string("train")}};
  return pipeline::Node(TransformSpec(), NewTransformExecutor, std::move(params),
                        std::move(inputs));
}

}  // namespace

pipeline::Node Transform(const pipeline::Channel& examples,
                         const std::optional<pipeline::Channel>& schema,
                         std::string preprocessing_fn_name) {
  return MakeTransformNode(examples, schema, std::move(preprocessing_fn_name), "");
}

pipeline::Node TransformWithModule(const pipeline::Channel& examples,
                                   const std::optional<pipeline::Channel>& schema,
                                   std::string module_file) {
  return MakeTransformNode(examples, schema, "", std::move(module_file));
}

}  // namespace edgepipe::components
