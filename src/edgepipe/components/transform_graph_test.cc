#include "edgepipe/components/transform_graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/components/transform_testing.h"
#include "edgepipe/core/hash.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::components {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::RawSpecs;
using testing::Row;
using testing::RowBatch;
using testing::RowDataset;
using testing::SmallRows;

// Traces `fn` and analyzes it over `rows`.
TransformGraph Analyzed(const PreprocessingFn& fn, const std::vector<Row>& rows) {
  auto g = TransformGraph::Trace(fn, RawSpecs());
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return {};
  auto ds = RowDataset(rows);
  Status s = g->Analyze(*ds);
  EXPECT_TRUE(s.ok()) << s;
  return std::move(*g);
}

std::vector<float> Floats(const data::Batch& b, const std::string& name) {
  auto a = b.GetArray(name);
  EXPECT_TRUE(a.ok()) << a.status();
  if (!a.ok() || (*a)->dtype() != DType::kFloat32) return {};
  auto d = (*a)->data<float>();
  return {d.begin(), d.end()};
}

std::vector<int64_t> Ints(const data::Batch& b, const std::string& name) {
  auto a = b.GetArray(name);
  EXPECT_TRUE(a.ok()) << a.status();
  if (!a.ok() || (*a)->dtype() != DType::kInt64) return {};
  auto d = (*a)->data<int64_t>();
  return {d.begin(), d.end()};
}

const TransformNode& OutputNode(const TransformGraph& g, const std::string& name) {
  for (const TransformOutput& o : g.outputs()) {
    if (o.name == name) return g.nodes()[static_cast<size_t>(o.node)];
  }
  ADD_FAILURE() << "no output " << name;
  static TransformNode none;
  return none;
}

TEST(TransformGraphTest, ScaleByMinMaxMatchesHandComputation) {
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"x01", tft::ScaleTo01(in["x"])}, {"x_pm", tft::ScaleByMinMax(in["x"], -1, 1)}};
      },
      SmallRows());
  // x: 1, 2, 4, -3, 8.5, 0.5, 2.5 -> min -3, max 8.5.
  const TransformNode& n = OutputNode(g, "x01");
  EXPECT_EQ(n.stat_a, -3.0);
  EXPECT_EQ(n.stat_b, 8.5);
  EXPECT_EQ(n.count, 7);
  auto out = g.Apply(RowBatch(SmallRows()));
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<float> x01 = Floats(*out, "x01"), xpm = Floats(*out, "x_pm");
  ASSERT_EQ(x01.size(), 7u);
  const std::vector<Row> rows = SmallRows();
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_NEAR(x01[i], (rows[i].x + 3.0) / 11.5, 1e-6) << i;
    EXPECT_NEAR(xpm[i], (rows[i].x + 3.0) / 11.5 * 2 - 1, 1e-6) << i;
  }
  EXPECT_NEAR(x01[3], 0.0, 1e-6);  // the minimum
  EXPECT_NEAR(x01[4], 1.0, 1e-6);  // the maximum
}

TEST(TransformGraphTest, ZScoreMatchesHandComputationOverAllValues) {
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"v_z", tft::ScaleToZScore(in["v"])}, {"n_z", tft::ScaleToZScore(in["n"])}};
      },
      SmallRows());
  // n = 10..70: mean 40, population variance 400.
  const TransformNode& nz = OutputNode(g, "n_z");
  EXPECT_DOUBLE_EQ(nz.stat_a, 40.0);
  EXPECT_NEAR(nz.stat_b, 400.0, 1e-9);
  // v: all 21 values reduce together (reduce_instance_dims).
  double sum = 0, sq = 0;
  for (const Row& r : SmallRows()) {
    for (float v : r.v) sum += v;
  }
  const double mean = sum / 21;
  for (const Row& r : SmallRows()) {
    for (float v : r.v) sq += (v - mean) * (v - mean);
  }
  const double var = sq / 21;
  const TransformNode& vz = OutputNode(g, "v_z");
  EXPECT_NEAR(vz.stat_a, mean, 1e-12);
  EXPECT_NEAR(vz.stat_b, var, 1e-9);
  EXPECT_EQ(vz.count, 21);
  auto out = g.Apply(RowBatch(SmallRows()));
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<float> v = Floats(*out, "v_z");
  ASSERT_EQ(v.size(), 21u);
  EXPECT_NEAR(v[0], (0 - mean) / std::sqrt(var), 1e-5);
  EXPECT_NEAR(v[17], (9 - mean) / std::sqrt(var), 1e-5);
  EXPECT_THAT(Floats(*out, "n_z"),
              ::testing::Pointwise(::testing::FloatNear(1e-6),
                                   std::vector<float>{-1.5f, -1.0f, -0.5f, 0, 0.5f, 1.0f, 1.5f}));
}

TEST(TransformGraphTest, ConstantColumnsGetDocumentedFallbacks) {
  std::vector<Row> rows = SmallRows();
  for (Row& r : rows) r.x = 3.0f;
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"mm", tft::ScaleByMinMax(in["x"], 2, 4)}, {"z", tft::ScaleToZScore(in["x"])}};
      },
      rows);
  auto out = g.Apply(RowBatch(rows));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Floats(*out, "mm")[0], 3.0f);  // midpoint of [2, 4]
  EXPECT_EQ(Floats(*out, "z")[0], 0.0f);   // x - mean
}

TEST(TransformGraphTest, VocabularyIsFrequencyOrderedWithTiesDescending) {
  // city: b a c a b a d -> a 3, b 2, then c and d once each: d before c.
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {
            {"city_id", tft::ComputeAndApplyVocabulary(in["city"])},
            {"top2", tft::ComputeAndApplyVocabulary(in["city"], {.top_k = 2})},
            {"oov", tft::ComputeAndApplyVocabulary(in["city"], {.top_k = 1, .num_oov_buckets = 3})},
            {"freq2", tft::ComputeAndApplyVocabulary(
                          in["city"], {.frequency_threshold = 2, .default_value = 99})},
            {"n_id", tft::ComputeAndApplyVocabulary(in["n"], {.top_k = 3})}};
      },
      SmallRows());
  EXPECT_THAT(OutputNode(g, "city_id").vocabulary, ElementsAre("a", "b", "d", "c"));
  EXPECT_THAT(OutputNode(g, "freq2").vocabulary, ElementsAre("a", "b"));
  // int64 tokens, all once: descending as decimal strings.
  EXPECT_THAT(OutputNode(g, "n_id").vocabulary, ElementsAre("70", "60", "50"));
  auto out = g.Apply(RowBatch(SmallRows()));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Ints(*out, "city_id"), ElementsAre(1, 0, 3, 0, 1, 0, 2));
  EXPECT_THAT(Ints(*out, "top2"), ElementsAre(1, 0, -1, 0, 1, 0, -1));
  EXPECT_THAT(Ints(*out, "freq2"), ElementsAre(1, 0, 99, 0, 1, 0, 99));
  const int64_t b_oov = 1 + static_cast<int64_t>(Fingerprint64("b") % 3);
  const int64_t c_oov = 1 + static_cast<int64_t>(Fingerprint64("c") % 3);
  EXPECT_EQ(Ints(*out, "oov")[0], b_oov);
  EXPECT_EQ(Ints(*out, "oov")[1], 0);
  EXPECT_EQ(Ints(*out, "oov")[2], c_oov);
  EXPECT_THAT(Ints(*out, "n_id"), ElementsAre(-1, -1, -1, -1, 2, 1, 0));
}

TEST(TransformGraphTest, BucketizeUsesExactQuantiles) {
  std::vector<Row> rows;
  for (int i = 0; i < 100; ++i) rows.push_back({static_cast<float>(99 - i), i, "a", {0, 0, 0}});
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"xb", tft::Bucketize(in["x"], 4)}, {"one", tft::Bucketize(in["x"], 1)}};
      },
      rows);
  EXPECT_THAT(OutputNode(g, "xb").boundaries, ElementsAre(25.0f, 50.0f, 75.0f));
  EXPECT_TRUE(OutputNode(g, "one").boundaries.empty());
  std::vector<Row> probe = {{-7, 0, "a"},    {24.5f, 0, "a"}, {25, 0, "a"},
                            {74.9f, 0, "a"}, {75, 0, "a"},    {1e6f, 0, "a"}};
  auto out = g.Apply(RowBatch(probe));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(Ints(*out, "xb"), ElementsAre(0, 0, 1, 2, 3, 3));
  EXPECT_THAT(Ints(*out, "one"), ElementsAre(0, 0, 0, 0, 0, 0));
}

TEST(TransformGraphTest, ElementwiseMathAndClip) {
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        Column x = in["x"];
        Column n = in["n"];
        return {{"a", x * 2 + 1},
                {"b", 10 - x / 4},
                {"c", x - n},
                {"d", x * n},
                {"e", n / (x + 10)},
                {"f", -x},
                {"g", tft::Clip(x, 0, 3)},
                {"h", tft::Clip(x, std::nullopt, 2)},
                {"n", n}};
      },
      SmallRows());
  auto out = g.Apply(RowBatch(SmallRows()));
  ASSERT_TRUE(out.ok()) << out.status();
  const std::vector<Row> rows = SmallRows();
  for (size_t i = 0; i < rows.size(); ++i) {
    const float x = rows[i].x, n = static_cast<float>(rows[i].n);
    EXPECT_FLOAT_EQ(Floats(*out, "a")[i], x * 2 + 1);
    EXPECT_FLOAT_EQ(Floats(*out, "b")[i], 10 - x / 4);
    EXPECT_FLOAT_EQ(Floats(*out, "c")[i], x - n);
    EXPECT_FLOAT_EQ(Floats(*out, "d")[i], x * n);
    EXPECT_FLOAT_EQ(Floats(*out, "e")[i], n / (x + 10));
    EXPECT_FLOAT_EQ(Floats(*out, "f")[i], -x);
    EXPECT_FLOAT_EQ(Floats(*out, "g")[i], std::clamp(x, 0.0f, 3.0f));
    EXPECT_FLOAT_EQ(Floats(*out, "h")[i], std::min(x, 2.0f));
  }
  // A pass-through int64 column stays int64.
  EXPECT_THAT(Ints(*out, "n"), ElementsAre(10, 20, 30, 40, 50, 60, 70));
  // No analyzer: Apply works without Analyze, too.
  EXPECT_TRUE(g.analyzed());
}

TEST(TransformGraphTest, NestedAnalyzersTakeOnePassPerLevel) {
  class CountingDataset : public data::Dataset {
   public:
    explicit CountingDataset(std::unique_ptr<data::Dataset> in) : in_(std::move(in)) {}
    Result<std::optional<data::Batch>> Next() override { return in_->Next(); }
    Status Reset() override {
      ++resets;
      return in_->Reset();
    }
    int resets = 0;

   private:
    std::unique_ptr<data::Dataset> in_;
  };
  auto g = TransformGraph::Trace(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"zz", tft::ScaleToZScore(tft::ScaleByMinMax(in["x"]) * 3)},
                {"x01", tft::ScaleTo01(in["x"])}};
      },
      RawSpecs());
  ASSERT_TRUE(g.ok()) << g.status();
  CountingDataset ds(RowDataset(SmallRows()));
  ASSERT_TRUE(g->Analyze(ds).ok());
  EXPECT_EQ(ds.resets, 2);
  auto out = g->Apply(RowBatch(SmallRows()));
  ASSERT_TRUE(out.ok()) << out.status();
  // z-scores of an affine image of x are x's own z-scores.
  double mean = 0, var = 0;
  for (const Row& r : SmallRows()) mean += r.x / 7.0;
  for (const Row& r : SmallRows()) var += (r.x - mean) * (r.x - mean) / 7.0;
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_NEAR(Floats(*out, "zz")[i], (SmallRows()[i].x - mean) / std::sqrt(var), 1e-5);
  }
}

TEST(TransformGraphTest, JsonRoundTripKeepsGraphAndResults) {
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"x01", tft::ScaleTo01(in["x"])},
                {"z", tft::ScaleToZScore(in["v"]) * 2 - 1},
                {"city", tft::ComputeAndApplyVocabulary(in["city"], {.num_oov_buckets = 2})},
                {"xb", tft::Bucketize(in["x"], 3)},
                {"clip", tft::Clip(in["x"], -1, std::nullopt)},
                {"raw_city", in["city"]},
                {"n", in["n"]}};
      },
      SmallRows());
  TempDir dir;
  ASSERT_TRUE(SaveTransformGraph(g, dir.path()).ok());
  auto loaded = LoadTransformGraph(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(TransformGraphToJson(*loaded), TransformGraphToJson(g));
  const data::Batch raw = RowBatch(SmallRows());
  auto a = g.Apply(raw);
  auto b = loaded->Apply(raw);
  ASSERT_TRUE(a.ok() && b.ok());
  for (const auto& [name, arr] : a->arrays) {
    ASSERT_TRUE(b->arrays.count(name)) << name;
    ASSERT_EQ(arr.num_bytes(), b->arrays.at(name).num_bytes()) << name;
    EXPECT_EQ(0, std::memcmp(arr.raw_data(), b->arrays.at(name).raw_data(), arr.num_bytes()))
        << name;
  }
  EXPECT_EQ(a->strings, b->strings);
  EXPECT_THAT(b->strings.at("raw_city"), ElementsAre("b", "a", "c", "a", "b", "a", "d"));
}

TEST(TransformGraphTest, NonUtf8TokensRoundTrip) {
  std::vector<Row> rows = SmallRows();
  rows[0].city = std::string("\xff\xfe\x00z", 4);
  rows[1].city = "caf\xc3\xa9";
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"c", tft::ComputeAndApplyVocabulary(in["city"])}};
      },
      rows);
  auto loaded = TransformGraphFromJson(TransformGraphToJson(g), "t.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(OutputNode(*loaded, "c").vocabulary, OutputNode(g, "c").vocabulary);
  EXPECT_THAT(TransformGraphToJson(g), HasSubstr("\"hex\": \"fffe007a\""));
}

// ---- errors -------------------------------------------------------------------

Status TraceError(const PreprocessingFn& fn) {
  auto g = TransformGraph::Trace(fn, RawSpecs());
  return g.ok() ? Status::Ok() : g.status();
}

TEST(TransformGraphTest, UnknownFeatureIsNamed) {
  Status s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"y", tft::ScaleTo01(in["nope"] * 2)}};
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("feature \"nope\" is not a raw feature"));
  EXPECT_THAT(s.message(), HasSubstr("x, n, city, v"));
}

TEST(TransformGraphTest, VocabularyOnMissingFeatureIsNamed) {
  Status s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"id", tft::ComputeAndApplyVocabulary(in["country"])}};
  });
  EXPECT_THAT(s.message(), HasSubstr("feature \"country\" is not a raw feature"));
}

TEST(TransformGraphTest, StringIntoNumericOpIsNamed) {
  Status s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"z", tft::ScaleToZScore(in["city"])}};
  });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(),
              HasSubstr("scale_to_z_score: input \"city\" is a string column; it needs a numeric"));
  s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"z", in["x"] + in["city"]}};
  });
  EXPECT_THAT(s.message(), HasSubstr("add: input \"city\" is a string column"));
  s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"z", tft::ComputeAndApplyVocabulary(in["x"])}};
  });
  EXPECT_THAT(s.message(), HasSubstr("is a float column; it needs strings or int64"));
}

TEST(TransformGraphTest, ShapeAndParameterErrors) {
  Status s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"z", in["x"] + in["v"]}};
  });
  EXPECT_THAT(s.message(), HasSubstr("must have equal shapes"));
  s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"z", tft::Bucketize(in["x"], 0)}};
  });
  EXPECT_THAT(s.message(), HasSubstr("num_buckets 0 must be at least 1"));
  s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"z", tft::ScaleByMinMax(in["x"], 1, 1)}};
  });
  EXPECT_THAT(s.message(), HasSubstr("output_min must be below output_max"));
  s = TraceError([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"z", in["x"] / 0.0}};
  });
  EXPECT_THAT(s.message(), HasSubstr("division by the constant 0"));
  s = TraceError([](const Inputs&) -> std::map<std::string, Column> { return {}; });
  EXPECT_THAT(s.message(), HasSubstr("returned no outputs"));
}

TEST(TransformGraphTest, EmptyAnalysisDataFails) {
  auto g = TransformGraph::Trace(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"x", tft::ScaleTo01(in["x"])}};
      },
      RawSpecs());
  ASSERT_TRUE(g.ok());
  auto ds = RowDataset({});
  Status s = g->Analyze(*ds);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("analysis data is empty"));
  // Unanalyzed: Apply and Save refuse.
  auto out = g->Apply(RowBatch(SmallRows()));
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(out.status().message(), HasSubstr("scale_by_min_max"));
  TempDir dir;
  EXPECT_EQ(SaveTransformGraph(*g, dir.path()).code(), StatusCode::kFailedPrecondition);
}

TEST(TransformGraphTest, BadArtifactsAreNamed) {
  TempDir dir;
  auto missing = LoadTransformGraph(dir.path());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto bad = TransformGraphFromJson("{", "g.json");
  EXPECT_THAT(bad.status().message(), HasSubstr("g.json: not valid JSON"));
  auto newer = TransformGraphFromJson(
      R"({"format": "edgepipe.transform_graph", "format_version": 7, "raw_features": [],)"
      R"( "nodes": [], "outputs": []})",
      "g.json");
  EXPECT_EQ(newer.status().code(), StatusCode::kUnimplemented);
  auto bad_input = TransformGraphFromJson(
      R"({"format": "edgepipe.transform_graph", "format_version": 1,)"
      R"( "raw_features": [{"name": "x", "type": "float32", "shape": []}],)"
      R"( "nodes": [{"op": "affine", "inputs": [3], "scale": 1, "offset": 0}],)"
      R"( "outputs": [{"name": "y", "node": 0}]})",
      "g.json");
  EXPECT_THAT(bad_input.status().message(), HasSubstr("g.json: node 0"));
  EXPECT_THAT(bad_input.status().message(), HasSubstr("not an earlier node"));
}

TEST(TransformGraphTest, ApplyChecksRawShapes) {
  TransformGraph g = Analyzed(
      [](const Inputs& in) -> std::map<std::string, Column> {
        return {{"v", in["v"] * 2}};
      },
      SmallRows());
  data::Batch b = RowBatch(SmallRows());
  b.arrays.at("v") = *Array::Zeros(DType::kFloat32, {7, 4});
  auto out = g.Apply(b);
  EXPECT_THAT(out.status().message(), HasSubstr("feature \"v\" is float32 [7, 4]"));
  b.arrays.erase("v");
  EXPECT_EQ(g.Apply(b).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgepipe::components
