#include "edgepipe/components/example_validator.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <utility>

#include "edgepipe/components/component_util.h"
#include "edgepipe/components/schema_gen.h"
#include "edgepipe/components/statistics_gen.h"

namespace edgepipe::components {
namespace {

constexpr char kAnomaliesFile[] = "anomalies.pbtxt";
using Type = tfmd::AnomalyInfo::Type;

const tfmd::CommonStatistics& Common(const tfmd::FeatureNameStatistics& f) {
  if (f.has_num_stats()) return f.num_stats().common_stats();
  if (f.has_string_stats()) return f.string_stats().common_stats();
  if (f.has_bytes_stats()) return f.bytes_stats().common_stats();
  return tfmd::CommonStatistics::default_instance();
}

std::string_view StatsTypeName(tfmd::FeatureNameStatistics::Type t) {
  switch (t) {
    case tfmd::FeatureNameStatistics::INT:
      return "INT";
    case tfmd::FeatureNameStatistics::FLOAT:
      return "FLOAT";
    case tfmd::FeatureNameStatistics::STRING:
      return "STRING";
    case tfmd::FeatureNameStatistics::BYTES:
      return "BYTES";
    default:
      return "STRUCT";
  }
}

bool TypeMatches(tfmd::FeatureType schema, tfmd::FeatureNameStatistics::Type stats) {
  switch (schema) {
    case tfmd::INT:
      return stats == tfmd::FeatureNameStatistics::INT;
    case tfmd::FLOAT:
      return stats == tfmd::FeatureNameStatistics::FLOAT;
    case tfmd::BYTES:
      return stats == tfmd::FeatureNameStatistics::STRING ||
             stats == tfmd::FeatureNameStatistics::BYTES;
    default:
      return true;  // no type constraint
  }
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// Adds a reason to the feature's AnomalyInfo.
void AddReason(tfmd::Anomalies* out, const std::string& feature, Type type,
               std::string short_description, std::string description) {
  tfmd::AnomalyInfo& info = (*out->mutable_anomaly_info())[feature];
  info.set_severity(tfmd::AnomalyInfo::ERROR);
  tfmd::AnomalyInfo::Reason* r = info.add_reason();
  r->set_type(type);
  r->set_short_description(short_description);
  r->set_description(description);
  if (info.reason_size() == 1) {
    info.set_short_description(short_description);
    info.set_description(description);
  } else {
    info.set_short_description("Multiple errors");
    info.set_description(info.description() + " " + description);
  }
}

void CheckPresence(const tfmd::Feature& sf, const tfmd::CommonStatistics& c, uint64_t num_examples,
                   tfmd::Anomalies* out) {
  if (!sf.has_presence()) return;
  const auto& p = sf.presence();
  if (p.has_min_fraction() && num_examples > 0) {
    double fraction = static_cast<double>(c.num_non_missing()) / static_cast<double>(num_examples);
    if (fraction < p.min_fraction()) {
      AddReason(out, sf.name(), tfmd::AnomalyInfo::FEATURE_TYPE_LOW_FRACTION_PRESENT,
                "Column dropped",
                "The feature was present in fewer examples than expected: fraction " +
                    Num(fraction) + " < min_fraction " + Num(p.min_fraction()) + ".");
    }
  }
  if (p.has_min_count() && static_cast<int64_t>(c.num_non_missing()) < p.min_count()) {
    AddReason(out, sf.name(), tfmd::AnomalyInfo::FEATURE_TYPE_LOW_NUMBER_PRESENT, "Column dropped",
              "The feature was present in fewer examples than expected: " +
                  std::to_string(c.num_non_missing()) + " < min_count " +
                  std::to_string(p.min_count()) + ".");
  }
}

void CheckValueCount(const tfmd::Feature& sf, const tfmd::CommonStatistics& c,
                     tfmd::Anomalies* out) {
  if (c.num_non_missing() == 0) return;
  std::optional<int64_t> lo, hi;
  if (sf.has_shape()) {
    int64_t n = 1;
    for (const auto& d : sf.shape().dim()) n *= d.size();
    lo = hi = n;
  } else if (sf.has_value_count()) {
    if (sf.value_count().has_min()) lo = sf.value_count().min();
    if (sf.value_count().has_max()) hi = sf.value_count().max();
  }
  auto min_nv = static_cast<int64_t>(c.min_num_values());
  auto max_nv = static_cast<int64_t>(c.max_num_values());
  if (lo && min_nv < *lo) {
    AddReason(out, sf.name(), tfmd::AnomalyInfo::FEATURE_TYPE_LOW_NUMBER_VALUES, "Missing values",
              "Some examples have fewer values than expected: " + std::to_string(min_nv) + " < " +
                  std::to_string(*lo) + ".");
  }
  if (hi && max_nv > *hi) {
    AddReason(out, sf.name(), tfmd::AnomalyInfo::FEATURE_TYPE_HIGH_NUMBER_VALUES,
              "Superfluous values",
              "Some examples have more values than expected: " + std::to_string(max_nv) + " > " +
                  std::to_string(*hi) + ".");
  }
}

const tfmd::StringDomain* DomainOf(const tfmd::Feature& sf, const tfmd::Schema& schema) {
  if (sf.has_string_domain()) return &sf.string_domain();
  if (sf.has_domain()) {
    for (const auto& d : schema.string_domain()) {
      if (d.name() == sf.domain()) return &d;
    }
  }
  return nullptr;
}

void CheckDomain(const tfmd::Feature& sf, const tfmd::FeatureNameStatistics& f,
                 const tfmd::Schema& schema, tfmd::Anomalies* out) {
  if (const tfmd::StringDomain* d = DomainOf(sf, schema); d != nullptr && f.has_string_stats()) {
    std::set<std::string_view> allowed(d->value().begin(), d->value().end());
    std::vector<std::string> unexpected;
    // Every distinct value is in the rank histogram (up to its size), else
    // at least the top values are.
    const auto& s = f.string_stats();
    auto check = [&](const std::string& v) {
      if (!allowed.contains(v) &&
          std::find(unexpected.begin(), unexpected.end(), v) == unexpected.end()) {
        unexpected.push_back(v);
      }
    };
    for (const auto& b : s.rank_histogram().buckets()) check(b.label());
    for (const auto& tv : s.top_values()) check(tv.value());
    if (!unexpected.empty()) {
      std::sort(unexpected.begin(), unexpected.end());
      std::string list;
      for (size_t i = 0; i < unexpected.size() && i < 10; ++i) {
        list += (i ? ", " : "") + std::string("\"") + unexpected[i] + "\"";
      }
      if (unexpected.size() > 10) list += ", ...";
      AddReason(out, sf.name(), tfmd::AnomalyInfo::ENUM_TYPE_UNEXPECTED_STRING_VALUES,
                "Unexpected string values",
                "Examples contain values missing from the schema: " + list + ".");
    }
  }
  if (!f.has_num_stats()) return;
  const auto& n = f.num_stats();
  if (sf.has_int_domain()) {
    const auto& d = sf.int_domain();
    if (d.has_min() && n.min() < static_cast<double>(d.min())) {
      AddReason(
          out, sf.name(), tfmd::AnomalyInfo::INT_TYPE_SMALL_INT, "Out-of-range values",
          "Unexpectedly small value: " + Num(n.min()) + " < min " + std::to_string(d.min()) + ".");
    }
    if (d.has_max() && n.max() > static_cast<double>(d.max())) {
      AddReason(
          out, sf.name(), tfmd::AnomalyInfo::INT_TYPE_BIG_INT, "Out-of-range values",
          "Unexpectedly large value: " + Num(n.max()) + " > max " + std::to_string(d.max()) + ".");
    }
  }
  if (sf.has_float_domain()) {
    const auto& d = sf.float_domain();
    if (d.has_min() && n.min() < d.min()) {
      AddReason(out, sf.name(), tfmd::AnomalyInfo::FLOAT_TYPE_SMALL_FLOAT, "Out-of-range values",
                "Unexpectedly low value: " + Num(n.min()) + " < min " + Num(d.min()) + ".");
    }
    if (d.has_max() && n.max() > d.max()) {
      AddReason(out, sf.name(), tfmd::AnomalyInfo::FLOAT_TYPE_BIG_FLOAT, "Out-of-range values",
                "Unexpectedly high value: " + Num(n.max()) + " > max " + Num(d.max()) + ".");
    }
  }
}

bool IsRequired(const tfmd::Feature& sf) {
  return sf.has_presence() &&
         ((sf.presence().has_min_count() && sf.presence().min_count() > 0) ||
          (sf.presence().has_min_fraction() && sf.presence().min_fraction() > 0));
}

}  // namespace

tfmd::Anomalies ValidateStatistics(const tfmd::DatasetFeatureStatistics& stats,
                                   const tfmd::Schema& schema) {
  tfmd::Anomalies out;
  *out.mutable_baseline() = schema;
  if (stats.num_examples() == 0) {
    out.set_data_missing(true);
    return out;
  }
  std::map<std::string_view, const tfmd::FeatureNameStatistics*> by_name;
  for (const auto& f : stats.features()) by_name[f.name()] = &f;
  std::set<std::string_view> in_schema;
  for (const tfmd::Feature& sf : schema.feature()) {
    in_schema.insert(sf.name());
    auto it = by_name.find(sf.name());
    if (it == by_name.end()) {
      if (IsRequired(sf)) {
        AddReason(&out, sf.name(), tfmd::AnomalyInfo::SCHEMA_MISSING_COLUMN, "Column dropped",
                  "The feature was present in fewer examples than expected: it is in none of " +
                      std::to_string(stats.num_examples()) + ".");
      }
      continue;
    }
    const tfmd::FeatureNameStatistics& f = *it->second;
    const tfmd::CommonStatistics& c = Common(f);
    if (sf.has_type() && !TypeMatches(sf.type(), f.type())) {
      AddReason(&out, sf.name(), tfmd::AnomalyInfo::UNEXPECTED_DATA_TYPE, "Unexpected data type",
                "Expected data of type: " + tfmd::FeatureType_Name(sf.type()) + " but got " +
                    std::string(StatsTypeName(f.type())) + ".");
      continue;  // value checks make no sense on the wrong type
    }
    CheckPresence(sf, c, stats.num_examples(), &out);
    CheckValueCount(sf, c, &out);
    CheckDomain(sf, f, schema, &out);
  }
  for (const auto& f : stats.features()) {
    if (!in_schema.contains(f.name())) {
      AddReason(&out, f.name(), tfmd::AnomalyInfo::SCHEMA_NEW_COLUMN, "New column",
                "New column (column in data but not in schema).");
    }
  }
  return out;
}

int ExampleValidatorSummary::total_anomalies() const {
  int n = 0;
  for (const auto& s : splits) n += s.num_anomalies;
  return n;
}

Result<ExampleValidatorSummary> RunExampleValidator(const ExampleValidatorOptions& options,
                                                    Env* env) {
  ASSIGN_OR_RETURN(tfmd::Schema schema, ReadSchema(options.schema, env));
  ASSIGN_OR_RETURN(std::vector<std::string> splits, ListSplits(options.statistics, env));
  std::erase_if(splits, [&](const std::string& s) {
    return std::find(options.exclude_splits.begin(), options.exclude_splits.end(), s) !=
           options.exclude_splits.end();
  });
  ExampleValidatorSummary summary;
  RETURN_IF_ERROR(env->CreateDirs(options.output));
  for (const std::string& split : splits) {
    ASSIGN_OR_RETURN(auto list, ReadStatistics(options.statistics, split, env));
    tfmd::Anomalies anomalies = ValidateStatistics(list.datasets(0), schema);
    std::string dir = SplitDir(options.output, split);
    RETURN_IF_ERROR(env->CreateDirs(dir));
    std::string text;
    google::protobuf::TextFormat::PrintToString(anomalies, &text);
    RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, kAnomaliesFile), text, env));
    SplitAnomalies sa;
    sa.split = split;
    std::map<std::string, const tfmd::AnomalyInfo*> sorted;
    for (const auto& [name, info] : anomalies.anomaly_info()) sorted[name] = &info;
    for (const auto& [name, info] : sorted) {
      for (const auto& r : info->reason()) sa.lines.push_back(name + ": " + r.short_description());
    }
    sa.num_anomalies = static_cast<int>(sorted.size()) + (anomalies.data_missing() ? 1 : 0);
    if (anomalies.data_missing()) sa.lines.push_back("(split): no examples");
    summary.splits.push_back(std::move(sa));
  }
  return summary;
}

Result<tfmd::Anomalies> ReadAnomalies(const std::string& artifact_dir, std::string_view split,
                                      Env* env) {
  std::string path = JoinPath(SplitDir(artifact_dir, split), kAnomaliesFile);
  if (!env->Exists(path)) return Status::NotFound(path + ": anomalies file does not exist");
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, env));
  tfmd::Anomalies a;
  if (!google::protobuf::TextFormat::ParseFromString(text, &a)) {
    return Status::DataLoss(path + ": not an Anomalies message in text format");
  }
  return a;
}

// --- the component ---------------------------------------------------------

namespace {

class ExampleValidatorExecutor : public pipeline::Executor {
 public:
  Status Do(pipeline::ExecutionContext& context) override { return DoImpl(context); }

 private:
  Status DoImpl(pipeline::ExecutionContext& context) {
    Env* env = context.env;
    ASSIGN_OR_RETURN(const pipeline::Artifact* stats, SingleInput(context, "statistics", env));
    ASSIGN_OR_RETURN(const pipeline::Artifact* schema, SingleInput(context, "schema", env));
    ASSIGN_OR_RETURN(pipeline::Artifact * out, SingleOutput(context, "anomalies"));
    ExampleValidatorOptions options;
    options.statistics = stats->uri;
    options.schema = schema->uri;
    options.output = out->uri;
    ASSIGN_OR_RETURN(std::string exclude, StringParamOr(context, "exclude_splits", "[]"));
    ASSIGN_OR_RETURN(options.exclude_splits, ParseSplitNamesJson(exclude));
    ASSIGN_OR_RETURN(int64_t fail, IntParamOr(context, "fail_on_anomalies", 0));
    ASSIGN_OR_RETURN(ExampleValidatorSummary summary, RunExampleValidator(options, env));
    std::vector<std::string> names;
    std::string all;
    for (const auto& s : summary.splits) {
      names.push_back(s.split);
      for (const auto& line : s.lines) all += (all.empty() ? "" : "; ") + s.split + "/" + line;
    }
    out->properties["split_names"] = SplitNamesJson(names);
    out->properties["num_anomalies"] = int64_t{summary.total_anomalies()};
    if (fail != 0 && summary.total_anomalies() > 0) {
      return Status::FailedPrecondition(std::to_string(summary.total_anomalies()) +
                                        " anomalies found (fail_on_anomalies is set): " + all);
    }
    return Status::Ok();
  }
};

}  // namespace

const pipeline::ComponentSpec& ExampleValidatorSpec() {
  static const pipeline::ComponentSpec* spec = [] {
    auto* s = new pipeline::ComponentSpec;
    s->type = "ExampleValidator";
    s->params = {
        {"exclude_splits", pipeline::ParamType::kString, false, pipeline::Value{std::string("[]")}},
        {"fail_on_anomalies", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{0}}},
    };
    s->inputs = {{"statistics", std::string(pipeline::artifact_type::kExampleStatistics), false},
                 {"schema", std::string(pipeline::artifact_type::kSchema), false}};
    s->outputs = {{"anomalies", std::string(pipeline::artifact_type::kExampleAnomalies), false}};
    return s;
  }();
  return *spec;
}

std::unique_ptr<pipeline::Executor> MakeExampleValidatorExecutor() {
  return std::make_unique<ExampleValidatorExecutor>();
}

pipeline::Node ExampleValidator(pipeline::Channel statistics, pipeline::Channel schema,
                                pipeline::Params params) {
  return pipeline::Node(ExampleValidatorSpec(), MakeExampleValidatorExecutor, std::move(params),
                        {{"statistics", std::move(statistics)}, {"schema", std::move(schema)}});
}

}  // namespace edgepipe::components
