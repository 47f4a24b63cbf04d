// examples/penguin end to end (quick: 344 rows): `edgepipe run` of the
// pipeline library into a temp root, then checks the metadata store and the
// artifacts: 11 executions complete; ExampleGen kept the CSV's "NA" values
// missing; both models blessed with accuracy >= 0.9 on the eval split, whose
// slices by island, by sex and by island x sex each add up to the split's
// size; both models pushed (the lite one as a .tflite file); a rerun is
// fully cached.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/eval/writers.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature_runner.h"
#include "edgepipe/pipeline/metadata_store.h"

namespace edgepipe {
namespace {

using pipeline::ExecutionRecord;
using pipeline::ExecutionState;
using ::testing::HasSubstr;

constexpr int kComponents = 11;
constexpr int64_t kCsvRows = 344;
constexpr int64_t kCsvMissingSex = 11;  // "NA" in penguins.csv's sex column
constexpr int64_t kCsvMissingBill = 2;  // "NA" in bill_length_mm

struct ShellRun {
  int exit_code = -1;
  std::string output;
};

ShellRun Shell(const std::string& cmd, const std::string& out_file) {
  ShellRun r;
  const int status = std::system((cmd + " > " + out_file + " 2>&1").c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

class Store {
 public:
  explicit Store(const std::string& root) {
    auto store = pipeline::MetadataStore::Open(JoinPath(root, "metadata.sqlite"),
                                               {.create_if_missing = false});
    EXPECT_TRUE(store.ok()) << store.status();
    if (store.ok()) store_ = std::move(*store);
  }
  std::vector<ExecutionRecord> Executions() {
    if (!store_) return {};
    auto all = store_->GetExecutions();
    EXPECT_TRUE(all.ok()) << all.status();
    return all.ok() ? *all : std::vector<ExecutionRecord>{};
  }
  pipeline::ArtifactMap Outputs(int64_t execution_id) {
    if (!store_) return {};
    auto out = store_->GetExecutionArtifacts(execution_id, pipeline::EventType::kOutput);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : pipeline::ArtifactMap{};
  }

 private:
  std::unique_ptr<pipeline::MetadataStore> store_;
};

std::string Uri(const std::string& root, const std::string& uri) {
  return !uri.empty() && uri[0] == '/' ? uri : JoinPath(root, uri);
}

// Every record of the train and eval splits of the Examples folder `dir`.
std::vector<tf::Example> ReadExamples(const std::string& dir) {
  std::vector<tf::Example> out;
  for (const char* split : {"train", "eval"}) {
    auto files = data::MatchFiles(JoinPath(dir, std::string("Split-") + split + "/*"));
    EXPECT_TRUE(files.ok()) << files.status();
    if (!files.ok() || files->empty()) continue;
    auto reader = data::TFRecordFileSetReader::Open(*files);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) continue;
    std::string record;
    for (;;) {
      auto more = (*reader)->Next(&record);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      tf::Example ex;
      EXPECT_TRUE(ex.ParseFromString(record));
      out.push_back(std::move(ex));
    }
  }
  return out;
}

TEST(ExamplesPenguinTest, RunsSlicesBlessesPushesAndCaches) {
  TempDir tmp;
  const std::string root = tmp.Join("pipeline");
  const std::string cli = EDGEPIPE_CLI_PATH;
  // 500 steps instead of 2000: the same accuracy here, and quick under ASan.
  const std::string run =
      "EDGEPIPE_PENGUIN_TRAIN_STEPS=500 EDGEPIPE_PENGUIN_SERVING=" + tmp.Join("serving") + " " +
      cli + " run " + EDGEPIPE_PENGUIN_PIPELINE_SO + " --root " + root;
  ShellRun first = Shell(run, tmp.Join("run1.log"));
  ASSERT_EQ(first.exit_code, 0) << first.output;

  Store store(root);
  std::vector<ExecutionRecord> execs = store.Executions();
  ASSERT_EQ(execs.size(), static_cast<size_t>(kComponents)) << first.output;
  std::map<std::string, ExecutionRecord> by_id;
  for (const ExecutionRecord& e : execs) {
    EXPECT_EQ(e.state, ExecutionState::kComplete) << e.component_id << ": " << e.error;
    by_id[e.component_id] = e;
  }
  for (const char* id :
       {"ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "Transform",
        "Trainer.penguin", "Trainer.penguin_lite", "Evaluator.penguin", "Evaluator.penguin_lite",
        "Pusher.penguin", "Pusher.penguin_lite"}) {
    ASSERT_EQ(by_id.count(id), 1u) << id;
  }

  // ExampleGen: every row, "NA" left out of the example (not defaulted).
  pipeline::ArtifactMap gen = store.Outputs(by_id["ExampleGen"].id);
  ASSERT_EQ(gen["examples"].size(), 1u);
  std::vector<tf::Example> raw = ReadExamples(Uri(root, gen["examples"][0].uri));
  ASSERT_EQ(static_cast<int64_t>(raw.size()), kCsvRows);
  int64_t no_sex = 0, no_bill = 0;
  for (const tf::Example& ex : raw) {
    no_sex += ex.features().feature().count("sex") == 0 ? 1 : 0;
    no_bill += ex.features().feature().count("bill_length_mm") == 0 ? 1 : 0;
  }
  EXPECT_EQ(no_sex, kCsvMissingSex);
  EXPECT_EQ(no_bill, kCsvMissingBill);

  // The Transform's eval split: the examples the Evaluators read.
  pipeline::ArtifactMap tf_out = store.Outputs(by_id["Transform"].id);
  ASSERT_EQ(tf_out["transformed_examples"].size(), 1u);
  const std::string xf_dir = Uri(root, tf_out["transformed_examples"][0].uri);
  auto summary_text = ReadFileToString(JoinPath(xf_dir, "transform.json"));
  ASSERT_TRUE(summary_text.ok()) << summary_text.status();
  const nlohmann::json summary = nlohmann::json::parse(*summary_text);
  int64_t eval_count = -1, total = 0;
  for (const auto& s : summary.at("splits")) {
    total += s.at("count").get<int64_t>();
    if (s.at("name") == "eval") eval_count = s.at("count").get<int64_t>();
  }
  EXPECT_EQ(total, kCsvRows);  // the rows with missing values were transformed too
  ASSERT_GT(eval_count, 60);   // a third of 344, give or take the hash
  ASSERT_LT(eval_count, 170);
  // A missing measurement became ~0 after the z-score (the mean imputed).
  int64_t imputed = 0;
  float imputed_bill = NAN;  // the raw value the Transform filled in
  for (const tf::Example& ex : ReadExamples(xf_dir)) {
    const auto& f = ex.features().feature();
    ASSERT_EQ(f.count("bill_length_mm_xf"), 1u);
    ASSERT_EQ(f.count("species_xf"), 1u);
    const float z = f.at("bill_length_mm_xf").float_list().value(0);
    EXPECT_LT(std::abs(z), 5.0f);
    if (std::abs(z) < 1e-4f) {
      ++imputed;
      imputed_bill = f.at("bill_length_mm").float_list().value(0);
    }
  }
  EXPECT_GE(imputed, kCsvMissingBill);
  ASSERT_FALSE(std::isnan(imputed_bill));

  for (const std::string model : {"penguin", "penguin_lite"}) {
    SCOPED_TRACE(model);
    pipeline::ArtifactMap ev = store.Outputs(by_id["Evaluator." + model].id);
    ASSERT_EQ(ev["blessing"].size(), 1u);
    EXPECT_EQ(std::get<int64_t>(ev["blessing"][0].properties.at("blessed")), 1);
    auto result = eval::ReadEvalResult(Uri(root, ev["evaluation"][0].uri));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->num_examples, eval_count);
    EXPECT_EQ(result->models.at(0).model_type, model == "penguin" ? "native" : "tf_lite");
    ASSERT_FALSE(result->slices.empty());
    EXPECT_TRUE(result->slices[0].slice.features.empty());  // overall first
    double accuracy = -1;
    for (const auto& [key, value] : result->slices[0].metrics) {
      if (key.name == "sparse_categorical_accuracy") accuracy = value.value;
    }
    EXPECT_GE(accuracy, 0.9);
    EXPECT_LE(accuracy, 1.0);

    // Per slicing spec: the slices' example counts add up to the split.
    std::map<std::string, double> sums;
    std::set<std::string> islands, sexes;
    for (const eval::SliceResult& s : result->slices) {
      if (s.slice.features.empty()) continue;
      std::string spec;
      for (const auto& [feature, value] : s.slice.features) {
        spec += (spec.empty() ? "" : "x") + feature;
        if (feature == "island") islands.insert(value);
        if (feature == "sex") sexes.insert(value);
      }
      sums[spec] += s.example_count;
      EXPECT_GT(s.example_count, 0) << s.slice.ToString();
    }
    EXPECT_EQ(sums.size(), 3u);
    EXPECT_EQ(sums["island"], static_cast<double>(eval_count));
    EXPECT_EQ(sums["sex"], static_cast<double>(eval_count));
    EXPECT_EQ(sums["islandxsex"], static_cast<double>(eval_count));
    EXPECT_EQ(islands, (std::set<std::string>{"Biscoe", "Dream", "Torgersen"}));
    EXPECT_TRUE(sexes.count("female") && sexes.count("male"));

    pipeline::ArtifactMap pushed = store.Outputs(by_id["Pusher." + model].id);
    ASSERT_EQ(pushed["pushed_model"].size(), 1u);
    const pipeline::Properties& p = pushed["pushed_model"][0].properties;
    EXPECT_EQ(std::get<int64_t>(p.at("pushed")), 1);
    const std::string dest = std::get<std::string>(p.at("pushed_destination"));
    EXPECT_THAT(dest, HasSubstr(tmp.Join("serving/" + model)));
    EXPECT_TRUE(Env::Default()->IsDirectory(dest)) << dest;
    if (model == "penguin_lite") {
      EXPECT_TRUE(Env::Default()->Exists(JoinPath(dest, "tflite")));
    } else {
      // The served model reads raw examples; a missing measurement is the
      // value the Transform imputed for training (no skew).
      auto loaded = model::Load(dest);
      ASSERT_TRUE(loaded.ok()) << loaded.status();
      auto runner = model::SignatureRunner::Create(*loaded, "serving_default");
      ASSERT_TRUE(runner.ok()) << runner.status();
      tf::Example complete = raw[0];
      for (const tf::Example& ex : raw) {
        if (ex.features().feature().count("bill_length_mm")) complete = ex;
      }
      tf::Example missing = complete, filled = complete;
      missing.mutable_features()->mutable_feature()->erase("bill_length_mm");
      (*filled.mutable_features()->mutable_feature())["bill_length_mm"]
          .mutable_float_list()
          ->set_value(0, imputed_bill);
      const std::vector<std::string> batch = {
          complete.SerializeAsString(), missing.SerializeAsString(), filled.SerializeAsString()};
      auto out = runner->Run(batch);
      ASSERT_TRUE(out.ok()) << out.status();
      ASSERT_EQ(out->size(), 1u);
      const Array& logits = out->begin()->second;
      ASSERT_EQ(logits.num_elements(), 9);
      auto v = logits.data<float>();
      for (int k = 0; k < 3; ++k) {
        EXPECT_NEAR(v[3 + k], v[6 + k], 1e-4) << k;  // missing == imputed mean
      }
      EXPECT_NE(imputed_bill,
                complete.features().feature().at("bill_length_mm").float_list().value(0));
    }
  }

  // A rerun changes nothing: every component is cached.
  ShellRun second = Shell(run, tmp.Join("run2.log"));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  execs = store.Executions();
  ASSERT_EQ(execs.size(), static_cast<size_t>(2 * kComponents));
  int cached = 0;
  for (const ExecutionRecord& e : execs) {
    if (e.id > by_id["Pusher.penguin_lite"].id && e.id > by_id["Pusher.penguin"].id) {
      EXPECT_EQ(e.state, ExecutionState::kCached) << e.component_id;
      cached += e.state == ExecutionState::kCached ? 1 : 0;
    }
  }
  EXPECT_EQ(cached, kComponents);
}

}  // namespace
}  // namespace edgepipe
