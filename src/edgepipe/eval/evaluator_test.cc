// The Evaluator end to end on a small classifier: the native model and its
// float TFLite rewrite score the same (accuracy computed here independently)
// with flip rate 0; the int8 rewrite differs a little; slices, missing slice
// features, min_slice_size, weights, threading; thresholds pass and fail;
// bad input from issue 5's list.
#include "edgepipe/eval/evaluator.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/config.h"
#include "edgepipe/eval/eval_testing.h"
#include "edgepipe/eval/extract.h"
#include "edgepipe/nn/parallel.h"

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kExamples = 90;

EvalConfig Config(const std::string& text) {
  auto c = ParseEvalConfig(text, "test.pbtxt");
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *c : EvalConfig();
}

const MetricValue* Find(const SliceResult& s, const std::string& name, const std::string& model) {
  auto it = s.metrics.find(MetricKey{name, model, "", false});
  return it == s.metrics.end() ? nullptr : &it->second;
}

double Value(const SliceResult& s, const std::string& name, const std::string& model) {
  const MetricValue* v = Find(s, name, model);
  EXPECT_NE(v, nullptr) << name << " of " << model << " in " << s.slice.ToString();
  return v == nullptr ? std::nan("") : v->value;
}

const SliceResult* Slice(const EvalResult& r, const SliceKey& key) {
  for (const SliceResult& s : r.slices) {
    if (s.slice == key) return &s;
  }
  return nullptr;
}

class EvaluatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    models_ = new testing::Models(testing::MakeModels(tmp_->path()));
    // An Examples artifact: Split-eval in two files, Split-train elsewhere.
    examples_ = new std::string(tmp_->Join("examples"));
    testing::WriteExamples(JoinPath(*examples_, "Split-eval/data-00.gz"), 0, 50);
    testing::WriteExamples(JoinPath(*examples_, "Split-eval/data-01.gz"), 50, kExamples - 50);
    testing::WriteExamples(JoinPath(*examples_, "Split-train/data-00.gz"), 1000, 5);
    // Independent reference: the native model's Predict on the same rows.
    auto loaded = model::Load(models_->native);
    ASSERT_TRUE(loaded.ok());
    auto x = Array::Zeros(DType::kFloat32, {kExamples, testing::kFeatures});
    ASSERT_TRUE(x.ok());
    for (int64_t i = 0; i < kExamples; ++i) {
      const std::vector<float> f = testing::FeaturesOf(i);
      std::copy(f.begin(), f.end(), x->data<float>().begin() + i * testing::kFeatures);
    }
    auto p = loaded->model->Predict(*x, 32);
    ASSERT_TRUE(p.ok());
    const Array pa = p->ToArray();
    correct_ = new std::vector<bool>();
    for (int64_t i = 0; i < kExamples; ++i) {
      int best = 0;
      for (int c = 1; c < testing::kClasses; ++c) {
        if (pa.data<float>()[static_cast<size_t>(i * testing::kClasses + c)] >
            pa.data<float>()[static_cast<size_t>(i * testing::kClasses + best)]) {
          best = c;
        }
      }
      correct_->push_back(best == testing::LabelOf(testing::FeaturesOf(i)));
    }
  }
  static void TearDownTestSuite() {
    delete correct_;
    delete examples_;
    delete models_;
    delete tmp_;
  }
  // Accuracy over the examples that `in` selects.
  static double Accuracy(const std::function<bool(int64_t)>& in) {
    double n = 0, ok = 0;
    for (int64_t i = 0; i < kExamples; ++i) {
      if (!in(i)) continue;
      ++n;
      ok += (*correct_)[static_cast<size_t>(i)];
    }
    return ok / n;
  }
  static EvaluateOptions Quiet(EvalStats* stats = nullptr, int threads = 2) {
    EvaluateOptions o;
    o.batch_size = 16;
    o.num_threads = threads;
    o.progress = false;
    o.stats = stats;
    return o;
  }

  static TempDir* tmp_;
  static testing::Models* models_;
  static std::string* examples_;
  static std::vector<bool>* correct_;
};
TempDir* EvaluatorTest::tmp_ = nullptr;
testing::Models* EvaluatorTest::models_ = nullptr;
std::string* EvaluatorTest::examples_ = nullptr;
std::vector<bool>* EvaluatorTest::correct_ = nullptr;

constexpr char kTwoModels[] = R"(
  model_specs { name: "full" model_type: "tf_keras" label_key: "label" }
  model_specs { name: "lite" model_type: "tf_lite" label_key: "label" }
  slicing_specs {}
  slicing_specs { feature_keys: "group" }
  metrics_specs {
    metrics { class_name: "ExampleCount" }
    metrics { class_name: "SparseCategoricalAccuracy"
      threshold { value_threshold { lower_bound { value: 0.0 } } } }
  }
)";

TEST_F(EvaluatorTest, NativeAndItsFloatRewriteScoreTheSame) {
  EvalStats stats;
  auto r = Evaluate(Config(kTwoModels), {{"full", models_->native}, {"lite", models_->lite_float}},
                    *examples_, Quiet(&stats));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->num_examples, kExamples);
  ASSERT_EQ(r->models.size(), 2u);
  EXPECT_EQ(r->models[0].model_type, "native");
  EXPECT_EQ(r->models[1].model_type, "tf_lite");
  EXPECT_GT(r->models[1].latency_ms, 0.0);
  ASSERT_FALSE(r->slices.empty());
  const SliceResult& overall = r->slices[0];
  EXPECT_TRUE(overall.slice.overall());
  EXPECT_EQ(overall.example_count, kExamples);
  const double want = Accuracy([](int64_t) { return true; });
  EXPECT_DOUBLE_EQ(Value(overall, "sparse_categorical_accuracy", "full"), want);
  EXPECT_DOUBLE_EQ(Value(overall, "sparse_categorical_accuracy", "lite"), want);
  EXPECT_EQ(Value(overall, "example_count", "lite"), kExamples);
  // Diff metrics: added for the second model only.
  EXPECT_EQ(Value(overall, "flip_rate", "lite"), 0.0);
  EXPECT_LT(Value(overall, "max_abs_prediction_diff", "lite"), 1e-4);
  EXPECT_EQ(Find(overall, "flip_rate", "full"), nullptr);

  // Slices by group: a = even, b = odd, none when i % 7 == 3.
  for (const std::string g : {"a", "b"}) {
    const SliceResult* s = Slice(*r, SliceKey{{{"group", g}}});
    ASSERT_NE(s, nullptr) << g;
    auto in = [&](int64_t i) { return testing::HasGroup(i) && testing::GroupOf(i) == g; };
    double n = 0;
    for (int64_t i = 0; i < kExamples; ++i) n += in(i);
    EXPECT_EQ(s->example_count, n);
    EXPECT_DOUBLE_EQ(Value(*s, "sparse_categorical_accuracy", "lite"), Accuracy(in));
  }
  EXPECT_EQ(r->slices.size(), 3u);
  int64_t missing = 0;
  for (int64_t i = 0; i < kExamples; ++i) missing += !testing::HasGroup(i);
  ASSERT_EQ(stats.missing_by_spec.size(), 1u);
  EXPECT_EQ(stats.missing_by_spec[0].second, missing);
  EXPECT_THAT(r->validation.notes,
              ::testing::Contains(HasSubstr(std::to_string(missing) + " of 90 examples lack")));
  EXPECT_TRUE(r->validation.ok);
  EXPECT_THAT(r->eval_config_text, HasSubstr("tf_lite"));
}

TEST_F(EvaluatorTest, ThreadsAndBatchSizesDoNotChangeTheResult) {
  auto one = Evaluate(Config(kTwoModels), {{"full", models_->native}, {"lite", models_->lite_int8}},
                      *examples_, Quiet(nullptr, 1));
  EvaluateOptions o = Quiet(nullptr, 2);
  o.batch_size = 7;
  auto two = Evaluate(Config(kTwoModels), {{"full", models_->native}, {"lite", models_->lite_int8}},
                      *examples_, o);
  ASSERT_TRUE(one.ok() && two.ok());
  ASSERT_EQ(one->slices.size(), two->slices.size());
  for (size_t s = 0; s < one->slices.size(); ++s) {
    EXPECT_EQ(one->slices[s].slice, two->slices[s].slice);
    EXPECT_EQ(one->slices[s].example_count, two->slices[s].example_count);
    for (const auto& [key, v] : one->slices[s].metrics) {
      auto it = two->slices[s].metrics.find(key);
      ASSERT_NE(it, two->slices[s].metrics.end()) << key.name;
      EXPECT_NEAR(v.value, it->second.value, 1e-9) << key.name;
    }
  }
}

// Several workers with a native model run as nn::ParallelFor tasks when nn
// has the threads (native GEMMs inline), else on the ThreadPool: both give
// the one-worker result.
TEST_F(EvaluatorTest, WorkersOnNnTasksOrOnTheThreadPoolAgree) {
  const std::vector<ModelSource> models = {{"full", models_->native}, {"lite", models_->lite_int8}};
  auto one = Evaluate(Config(kTwoModels), models, *examples_, Quiet(nullptr, 1));
  ASSERT_TRUE(one.ok()) << one.status();
  const int saved = nn::NumThreads();
  for (int nn_threads : {3, 1}) {
    SCOPED_TRACE(nn_threads == 3 ? "nn::ParallelFor tasks" : "ThreadPool");
    nn::SetNumThreads(nn_threads);
    EvaluateOptions o = Quiet(nullptr, 3);
    o.batch_size = 5;
    auto many = Evaluate(Config(kTwoModels), models, *examples_, o);
    ASSERT_TRUE(many.ok()) << many.status();
    ASSERT_EQ(one->slices.size(), many->slices.size());
    for (size_t s = 0; s < one->slices.size(); ++s) {
      EXPECT_EQ(one->slices[s].example_count, many->slices[s].example_count);
      for (const auto& [key, v] : one->slices[s].metrics) {
        EXPECT_NEAR(v.value, many->slices[s].metrics.at(key).value, 1e-9) << key.name;
      }
    }
  }
  nn::SetNumThreads(saved);
}

// A record whose data crc does not match fails the evaluation with the
// TFRecord reader's message (checked by the workers, outside the lock).
TEST_F(EvaluatorTest, CorruptRecordIsDataLoss) {
  const std::string bad = tmp_->Join("corrupt.tfrecord");
  testing::WriteExamples(bad, 0, 40);
  uint64_t offset = 0;  // of record 20
  {
    auto reader = data::TFRecordReader::Open(bad);
    ASSERT_TRUE(reader.ok());
    std::string record;
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(*(*reader)->Next(&record));
    offset = (*reader)->offset();
  }
  auto bytes = ReadFileToString(bad);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  (*bytes)[offset + data::kTFRecordHeaderSize + 3] ^= 0x10;

  ASSERT_TRUE(WriteFileAtomic(bad, *bytes).ok());
  for (int threads : {1, 2}) {
    auto r = Evaluate(Config(kTwoModels), {{"full", models_->native}, {"lite", models_->lite_int8}},
                      bad, Quiet(nullptr, threads));
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(r.status().message(), HasSubstr("corrupt.tfrecord: record 20 at byte " +
                                                std::to_string(offset) + ": data crc mismatch"));
  }
}

TEST_F(EvaluatorTest, Int8RewriteDiffersALittle) {
  auto r = Evaluate(Config(kTwoModels), {{"full", models_->native}, {"lite", models_->lite_int8}},
                    *examples_, Quiet());
  ASSERT_TRUE(r.ok()) << r.status();
  const SliceResult& overall = r->slices[0];
  const double mean = Value(overall, "mean_abs_prediction_diff", "lite");
  EXPECT_GT(mean, 0.0);
  EXPECT_LT(mean, 0.1);
  EXPECT_LE(Value(overall, "flip_rate", "lite"), 0.1);
  EXPECT_NEAR(Value(overall, "sparse_categorical_accuracy", "lite"),
              Value(overall, "sparse_categorical_accuracy", "full"), 0.1);
  EXPECT_LT(r->models[1].size_bytes, r->models[0].size_bytes);
}

TEST_F(EvaluatorTest, ThresholdsPassAndFail) {
  const double acc = Accuracy([](int64_t) { return true; });
  const std::string cfg = R"(
    model_specs { model_type: "tf_lite" label_key: "label" }
    metrics_specs { metrics { class_name: "SparseCategoricalAccuracy"
      threshold { value_threshold { lower_bound { value: )";
  auto pass = Evaluate(Config(cfg + std::to_string(acc - 0.01) + " } } } } }"),
                       {{"m", models_->lite_float}}, *examples_, Quiet());
  ASSERT_TRUE(pass.ok()) << pass.status();
  EXPECT_TRUE(pass->validation.ok);
  auto fail = Evaluate(Config(cfg + std::to_string(acc + 0.01) + " } } } } }"),
                       {{"m", models_->lite_float}}, *examples_, Quiet());
  ASSERT_TRUE(fail.ok()) << fail.status();
  EXPECT_FALSE(fail->validation.ok);
  ASSERT_EQ(fail->validation.failures.size(), 1u);
  EXPECT_EQ(fail->validation.failures[0].metric.name, "sparse_categorical_accuracy");
  EXPECT_DOUBLE_EQ(fail->validation.failures[0].value, acc);
}

TEST_F(EvaluatorTest, WeightsAndMinSliceSize) {
  EvalStats stats;
  auto r = Evaluate(Config(R"(
    model_specs { label_key: "label" example_weight_key: "weight" }
    slicing_specs {}
    slicing_specs { feature_keys: "group" }
    slicing_specs { feature_values { key: "group" value: "a" } }
    metrics_specs { metrics { class_name: "WeightedExampleCount" } }
    options { min_slice_size { value: 39 } }
  )"),
                    {{"m", models_->native}}, *examples_, Quiet(&stats));
  ASSERT_TRUE(r.ok()) << r.status();
  double w = 0, wa = 0;
  int64_t na = 0, nb = 0;
  for (int64_t i = 0; i < kExamples; ++i) {
    w += 1 + i % 3;
    if (testing::HasGroup(i) && testing::GroupOf(i) == "a") wa += 1 + i % 3, ++na;
    if (testing::HasGroup(i) && testing::GroupOf(i) == "b") ++nb;
  }
  ASSERT_GE(na, 39);
  ASSERT_LT(nb, 39);
  EXPECT_DOUBLE_EQ(Value(r->slices[0], "weighted_example_count", ""), w);
  const SliceResult* a = Slice(*r, SliceKey{{{"group", "a"}}});
  ASSERT_NE(a, nullptr);
  EXPECT_DOUBLE_EQ(Value(*a, "weighted_example_count", ""), wa);
  EXPECT_EQ(Slice(*r, SliceKey{{{"group", "b"}}}), nullptr);  // dropped, listed
  ASSERT_EQ(stats.dropped_slices.size(), 1u);
  EXPECT_EQ(stats.dropped_slices[0].first, (SliceKey{{{"group", "b"}}}));
  EXPECT_EQ(stats.dropped_slices[0].second, nb);
  EXPECT_THAT(r->validation.notes, ::testing::Contains(HasSubstr("slice group:b dropped")));
}

TEST_F(EvaluatorTest, BadInputIsAClearError) {
  const std::vector<ModelSource> lite = {{"m", models_->lite_int8}};
  // Label out of range for a 3-class model.
  const std::string bad = tmp_->Join("bad_label.tfrecord");
  {
    auto w = data::TFRecordWriter::Open(bad);
    ASSERT_TRUE(w.ok());
    for (int64_t i = 0; i < 4; ++i) {
      tf::Example e;
      ASSERT_TRUE(e.ParseFromString(testing::MakeExample(i)));
      const int64_t label = i == 2 ? 7 : 1;
      data::SetInt64s(&e, "label", std::span<const int64_t>(&label, 1));
      ASSERT_TRUE((*w)->Write(data::SerializeDeterministic(e)).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  const EvalConfig one = Config(R"(
    model_specs { model_type: "tf_lite" label_key: "label" }
    metrics_specs { metrics { class_name: "SparseCategoricalAccuracy" } })");
  auto r = Evaluate(one, lite, bad, Quiet());
  EXPECT_EQ(r.status().code(), StatusCode::kOutOfRange);
  EXPECT_THAT(r.status().message(),
              HasSubstr("bad_label.tfrecord: example 2: label \"label\" is 7"));

  // Label missing.
  EvalConfig other_label = one;
  other_label.mutable_model_specs(0)->set_label_key("species");
  r = Evaluate(other_label, lite, *examples_, Quiet());
  EXPECT_THAT(r.status().message(), HasSubstr("example 0: label \"species\" is missing"));
  // Every chunk is bad: with several workers racing, the error reported is
  // still the first chunk's (file order), never the one that failed first.
  for (int rep = 0; rep < 20; ++rep) {
    EvaluateOptions o = Quiet(nullptr, 2);
    o.batch_size = 4;
    r = Evaluate(other_label, lite, *examples_, o);
    ASSERT_THAT(r.status().message(), HasSubstr("example 0: label \"species\" is missing"))
        << "repetition " << rep;
  }

  // Model input not among the features.
  const std::string renamed = tmp_->Join("renamed.tfrecord");
  {
    auto w = data::TFRecordWriter::Open(renamed);
    ASSERT_TRUE(w.ok());
    tf::Example e;
    ASSERT_TRUE(e.ParseFromString(testing::MakeExample(0)));
    (*e.mutable_features()->mutable_feature())["pixels"] = e.features().feature().at("x");
    e.mutable_features()->mutable_feature()->erase("x");
    ASSERT_TRUE((*w)->Write(data::SerializeDeterministic(e)).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  r = Evaluate(one, lite, renamed, Quiet());
  EXPECT_THAT(r.status().message(), HasSubstr("needs feature \"x\""));
  EXPECT_THAT(r.status().message(), HasSubstr("available features: group, label, pixels, weight"));

  // A threshold on a metric that is not computed.
  // (Built without ParseEvalConfig: Evaluate itself must reject it.)
  EvalConfig auc;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
    model_specs { model_type: "tf_lite" label_key: "label" }
    metrics_specs { metrics { class_name: "ExampleCount" }
                    thresholds { key: "auc" value { value_threshold { lower_bound { value: 0.5 } } } } })",
                                                            &auc));
  auto t = Evaluate(auc, lite, *examples_, Quiet());
  EXPECT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("auc"));

  // Models and specs must pair up.
  auto unpaired = Evaluate(Config(kTwoModels), {{"full", models_->native}}, *examples_, Quiet());
  EXPECT_THAT(unpaired.status().message(), HasSubstr("model_specs \"lite\" has no model"));
  auto stranger = Evaluate(
      Config(kTwoModels),
      {{"full", models_->native}, {"lite", models_->lite_float}, {"extra", models_->lite_float}},
      *examples_, Quiet());
  EXPECT_THAT(stranger.status().message(), HasSubstr("model \"extra\" has no model_specs"));
  // No eval split.
  EXPECT_EQ(Evaluate(one, lite, *examples_,
                     [] {
                       EvaluateOptions o = Quiet();
                       o.split = "test";
                       return o;
                     }())
                .status()
                .code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgepipe::eval
