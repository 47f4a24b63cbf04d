#include "edgepipe/components/schema_gen.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "edgepipe/components/component_util.h"
#include "edgepipe/components/statistics_gen.h"

namespace edgepipe::components {
namespace {

constexpr char kSchemaFile[] = "schema.pbtxt";

const tfmd::CommonStatistics& Common(const tfmd::FeatureNameStatistics& f) {
  if (f.has_num_stats()) return f.num_stats().common_stats();
  if (f.has_string_stats()) return f.string_stats().common_stats();
  if (f.has_bytes_stats()) return f.bytes_stats().common_stats();
  return tfmd::CommonStatistics::default_instance();
}

tfmd::FeatureType SchemaType(tfmd::FeatureNameStatistics::Type t) {
  switch (t) {
    case tfmd::FeatureNameStatistics::INT:
      return tfmd::INT;
    case tfmd::FeatureNameStatistics::FLOAT:
      return tfmd::FLOAT;
    case tfmd::FeatureNameStatistics::STRING:
    case tfmd::FeatureNameStatistics::BYTES:
      return tfmd::BYTES;
    default:
      return tfmd::TYPE_UNKNOWN;
  }
}

// The distinct values of a STRING feature when all of them are known (the
// rank histogram holds every distinct value) and there are at most `max`.
std::optional<std::set<std::string>> StringDomainValues(const tfmd::FeatureNameStatistics& f,
                                                        int max) {
  if (f.type() != tfmd::FeatureNameStatistics::STRING || !f.has_string_stats()) {
    return std::nullopt;
  }
  const auto& s = f.string_stats();
  if (s.unique() == 0 || s.unique() > static_cast<uint64_t>(std::max(0, max)) ||
      static_cast<uint64_t>(s.rank_histogram().buckets_size()) != s.unique()) {
    return std::nullopt;
  }
  std::set<std::string> values;
  for (const auto& b : s.rank_histogram().buckets()) values.insert(b.label());
  return values;
}

tfmd::StringDomain* FindDomain(tfmd::Schema* schema, std::string_view name) {
  for (auto& d : *schema->mutable_string_domain()) {
    if (d.name() == name) return &d;
  }
  return nullptr;
}

void SetShapeOrValueCount(const tfmd::CommonStatistics& c, bool required,
                          const SchemaInferenceOptions& options, tfmd::Feature* feature) {
  bool fixed = c.num_non_missing() > 0 && c.min_num_values() == c.max_num_values();
  if (options.infer_feature_shape && required && fixed && c.min_num_values() > 0) {
    feature->mutable_shape()->add_dim()->set_size(static_cast<int64_t>(c.min_num_values()));
  } else if (fixed) {
    feature->mutable_value_count()->set_min(static_cast<int64_t>(c.min_num_values()));
    feature->mutable_value_count()->set_max(static_cast<int64_t>(c.max_num_values()));
  } else if (c.min_num_values() >= 1) {
    feature->mutable_value_count()->set_min(1);
  } else {
    feature->mutable_value_count();  // no limits
  }
}

tfmd::Feature InferFeature(const tfmd::FeatureNameStatistics& f, uint64_t num_examples,
                           const SchemaInferenceOptions& options, tfmd::Schema* schema) {
  tfmd::Feature feature;
  feature.set_name(f.name());
  feature.set_type(SchemaType(f.type()));
  const tfmd::CommonStatistics& c = Common(f);
  bool required = num_examples > 0 && c.num_missing() == 0;
  if (required) feature.mutable_presence()->set_min_fraction(1.0);
  feature.mutable_presence()->set_min_count(1);
  SetShapeOrValueCount(c, required, options, &feature);
  if (auto values = StringDomainValues(f, options.max_string_domain_size)) {
    tfmd::StringDomain* d = schema->add_string_domain();
    d->set_name(f.name());
    for (const std::string& v : *values) d->add_value(v);
    feature.set_domain(f.name());
  }
  return feature;
}

// Relaxes `feature` so that the statistics `f` conform.
void RelaxFeature(const tfmd::FeatureNameStatistics& f, uint64_t num_examples,
                  const SchemaInferenceOptions& options, tfmd::Feature* feature,
                  tfmd::Schema* schema) {
  const tfmd::CommonStatistics& c = Common(f);
  bool required = num_examples > 0 && c.num_missing() == 0;
  if (!required && feature->has_presence()) feature->mutable_presence()->clear_min_fraction();
  // Value counts: the union of both.
  tfmd::Feature relaxed;
  SetShapeOrValueCount(c, required, options, &relaxed);
  bool same_shape = feature->has_shape() && relaxed.has_shape() &&
                    feature->shape().SerializeAsString() == relaxed.shape().SerializeAsString();
  if (!same_shape) {
    int64_t lo_a = 0, hi_a = -1, lo_b = static_cast<int64_t>(c.min_num_values()),
            hi_b = static_cast<int64_t>(c.max_num_values());
    if (feature->has_shape()) {
      int64_t n = 1;
      for (const auto& d : feature->shape().dim()) n *= d.size();
      lo_a = hi_a = n;
    } else if (feature->has_value_count()) {
      lo_a = feature->value_count().has_min() ? feature->value_count().min() : 0;
      hi_a = feature->value_count().has_max() ? feature->value_count().max() : -1;
    }
    tfmd::ValueCount* vc = feature->mutable_value_count();  // clears shape
    int64_t lo = std::min(lo_a, lo_b);
    if (lo > 0) {
      vc->set_min(lo);
    } else {
      vc->clear_min();
    }
    if (hi_a >= 0) {
      vc->set_max(std::max(hi_a, hi_b));
    } else {
      vc->clear_max();
    }
  }
  // Domains: add the new values.
  if (feature->has_domain()) {
    tfmd::StringDomain* d = FindDomain(schema, feature->domain());
    auto values = StringDomainValues(f, options.max_string_domain_size);
    if (d != nullptr && values) {
      std::set<std::string> all(d->value().begin(), d->value().end());
      all.insert(values->begin(), values->end());
      if (all.size() <= static_cast<size_t>(options.max_string_domain_size)) {
        d->clear_value();
        for (const std::string& v : all) d->add_value(v);
        return;
      }
    }
    // Too many values, or not all known: drop the domain.
    feature->clear_domain();
    auto* domains = schema->mutable_string_domain();
    for (int i = 0; i < domains->size(); ++i) {
      if (domains->Get(i).name() == f.name()) {
        domains->DeleteSubrange(i, 1);
        break;
      }
    }
  }
}

// Collects text-format parse errors with their line and column.
class ErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) {
      first_ = "line " + std::to_string(line + 1) + " column " + std::to_string(column + 1) + ": " +
               message;
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

tfmd::Schema InferSchema(const tfmd::DatasetFeatureStatistics& stats,
                         const SchemaInferenceOptions& options) {
  tfmd::Schema schema;
  for (const auto& f : stats.features()) {
    *schema.add_feature() = InferFeature(f, stats.num_examples(), options, &schema);
  }
  return schema;
}

Status UpdateSchema(const tfmd::DatasetFeatureStatistics& stats,
                    const SchemaInferenceOptions& options, tfmd::Schema* schema) {
  std::set<std::string> seen;
  for (const auto& f : stats.features()) {
    seen.insert(f.name());
    tfmd::Feature* feature = nullptr;
    for (auto& sf : *schema->mutable_feature()) {
      if (sf.name() == f.name()) feature = &sf;
    }
    if (feature == nullptr) {
      // New in this split: not required (the other splits lack it).
      tfmd::Feature added = InferFeature(f, stats.num_examples(), options, schema);
      added.mutable_presence()->clear_min_fraction();
      *schema->add_feature() = std::move(added);
      continue;
    }
    tfmd::FeatureType type = SchemaType(f.type());
    if (feature->type() != type) {
      return Status::InvalidArgument(
          "feature \"" + f.name() + "\": type " + tfmd::FeatureType_Name(type) + " in split \"" +
          stats.name() + "\", " + tfmd::FeatureType_Name(feature->type()) + " in the schema");
    }
    RelaxFeature(f, stats.num_examples(), options, feature, schema);
  }
  // Features this split lacks are no longer required.
  for (auto& sf : *schema->mutable_feature()) {
    if (!seen.contains(sf.name()) && sf.has_presence()) sf.mutable_presence()->clear_min_fraction();
  }
  return Status::Ok();
}

Result<tfmd::Schema> ReadSchema(const std::string& path, Env* env) {
  std::string file = env->IsDirectory(path) ? JoinPath(path, kSchemaFile) : path;
  if (!env->Exists(file)) return Status::NotFound(file + ": schema file does not exist");
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(file, env));
  tfmd::Schema schema;
  google::protobuf::TextFormat::Parser parser;
  ErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &schema)) {
    return Status::InvalidArgument(file + ": not a Schema in text format: " + errors.first());
  }
  return schema;
}

Status WriteSchema(const tfmd::Schema& schema, const std::string& path, Env* env) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(schema, &text)) {
    return Status::Internal(path + ": could not print the schema");
  }
  return WriteFileAtomic(path, text, env);
}

Result<SchemaGenSummary> RunSchemaGen(const SchemaGenOptions& options, Env* env) {
  ASSIGN_OR_RETURN(std::vector<std::string> splits, ListSplits(options.statistics, env));
  std::erase_if(splits, [&](const std::string& s) {
    return std::find(options.exclude_splits.begin(), options.exclude_splits.end(), s) !=
           options.exclude_splits.end();
  });
  if (splits.empty()) {
    return Status::NotFound(options.statistics + ": no Split-* statistics to infer a schema from");
  }
  // Train first when present, as TFX's schema comes from the training data.
  auto train = std::find(splits.begin(), splits.end(), "train");
  if (train != splits.end()) std::rotate(splits.begin(), train, train + 1);
  tfmd::Schema schema;
  for (size_t i = 0; i < splits.size(); ++i) {
    ASSIGN_OR_RETURN(auto list, ReadStatistics(options.statistics, splits[i], env));
    const tfmd::DatasetFeatureStatistics& stats = list.datasets(0);
    if (i == 0) {
      schema = InferSchema(stats, options.inference);
    } else {
      RETURN_IF_ERROR(UpdateSchema(stats, options.inference, &schema));
    }
  }
  RETURN_IF_ERROR(env->CreateDirs(options.output));
  SchemaGenSummary summary;
  summary.schema_path = JoinPath(options.output, kSchemaFile);
  summary.num_features = schema.feature_size();
  RETURN_IF_ERROR(WriteSchema(schema, summary.schema_path, env));
  return summary;
}

// --- the component ---------------------------------------------------------

namespace {

class SchemaGenExecutor : public pipeline::Executor {
 public:
  Status Do(pipeline::ExecutionContext& context) override { return DoImpl(context); }

 private:
  Status DoImpl(pipeline::ExecutionContext& context) {
    Env* env = context.env;
    ASSIGN_OR_RETURN(const pipeline::Artifact* stats, SingleInput(context, "statistics", env));
    ASSIGN_OR_RETURN(pipeline::Artifact * out, SingleOutput(context, "schema"));
    SchemaGenOptions options;
    options.statistics = stats->uri;
    options.output = out->uri;
    ASSIGN_OR_RETURN(std::string exclude, StringParamOr(context, "exclude_splits", "[]"));
    ASSIGN_OR_RETURN(options.exclude_splits, ParseSplitNamesJson(exclude));
    ASSIGN_OR_RETURN(int64_t shape, IntParamOr(context, "infer_feature_shape", 1));
    ASSIGN_OR_RETURN(int64_t domain, IntParamOr(context, "max_string_domain_size", 100));
    options.inference.infer_feature_shape = shape != 0;
    options.inference.max_string_domain_size =
        static_cast<int>(std::clamp<int64_t>(domain, 0, 1000000));
    return RunSchemaGen(options, env).status();
  }
};

}  // namespace

const pipeline::ComponentSpec& SchemaGenSpec() {
  static const pipeline::ComponentSpec* spec = [] {
    auto* s = new pipeline::ComponentSpec;
    s->type = "SchemaGen";
    s->params = {
        {"infer_feature_shape", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{1}}},
        {"exclude_splits", pipeline::ParamType::kString, false, pipeline::Value{std::string("[]")}},
        {"max_string_domain_size", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{100}}},
    };
    s->inputs = {{"statistics", std::string(pipeline::artifact_type::kExampleStatistics), false}};
    s->outputs = {{"schema", std::string(pipeline::artifact_type::kSchema), false}};
    return s;
  }();
  return *spec;
}

std::unique_ptr<pipeline::Executor> MakeSchemaGenExecutor() {
  return std::make_unique<SchemaGenExecutor>();
}

pipeline::Node SchemaGen(pipeline::Channel statistics, pipeline::Params params) {
  return pipeline::Node(SchemaGenSpec(), MakeSchemaGenExecutor, std::move(params),
                        {{"statistics", std::move(statistics)}});
}

}  // namespace edgepipe::components
