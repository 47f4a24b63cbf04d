#include "edgepipe/components/transform_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/components/transform_testing.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/lite/converter.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/core_layers.h"

namespace edgepipe::components {
namespace {

namespace L = nn::layers;
using ::testing::HasSubstr;
using testing::RawSpecs;
using testing::Row;
using testing::RowBatch;
using testing::RowDataset;
using testing::SmallRows;

// z-score of v [3], and a scalar mixing min-max, int64 z-score, sub and clip.
std::map<std::string, Column> NumericFn(const Inputs& in) {
  return {{"v_z", tft::ScaleToZScore(in["v"])},
          {"x_t", tft::Clip(tft::ScaleTo01(in["x"]) * 3 - tft::ScaleToZScore(in["n"]), -1, 2)},
          {"label", in["n"]}};
}

TransformGraph AnalyzedGraph(const PreprocessingFn& fn) {
  auto g = TransformGraph::Trace(fn, RawSpecs());
  EXPECT_TRUE(g.ok()) << g.status();
  if (!g.ok()) return {};
  auto ds = RowDataset(SmallRows());
  EXPECT_TRUE(g->Analyze(*ds).ok());
  return std::move(*g);
}

// Inputs v_z [3] and x_t [1] -> concat -> Dense(5, relu) -> Dense(2).
nn::Model SmallModel() {
  auto v = nn::Input({3}, "v_z");
  auto x = nn::Input({1}, "x_t");
  auto h = nn::Apply(L::Concatenate(), {*v, *x});
  h = nn::Apply(L::Dense(5, {.activation = "relu"}), {*h});
  auto out = nn::Apply(L::Dense(2, {.name = "logits"}), {*h});
  auto m = nn::Model::Create({*v, *x}, {*out}, "small", /*seed=*/7);
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(*m);
}

nn::Var AsVar(const Array& a, std::vector<int64_t> shape) {
  Array copy = a;
  EXPECT_TRUE(copy.Reshape(std::move(shape)).ok());
  auto t = nn::Tensor::FromArray(copy);
  EXPECT_TRUE(t.ok()) << t.status();
  return nn::Var::Constant(std::move(*t));
}

Array ToFloatArray(const Array& a) {
  if (a.dtype() == DType::kFloat32) return a;
  Array out = *Array::Zeros(DType::kFloat32, a.shape());
  for (size_t i = 0; i < out.data<float>().size(); ++i) {
    out.data<float>()[i] = static_cast<float>(a.data<int64_t>()[i]);
  }
  return out;
}

// The model's output 0 on inputs given by name.
std::vector<float> RunNative(const nn::Model& m, const std::map<std::string, Array>& by_name) {
  std::vector<nn::Var> inputs;
  const auto names = m.input_names();
  const auto shapes = m.input_shapes();
  const int64_t n = by_name.begin()->second.dim(0);
  for (size_t i = 0; i < names.size(); ++i) {
    std::vector<int64_t> shape = shapes[i];
    shape[0] = n;
    inputs.push_back(AsVar(ToFloatArray(by_name.at(names[i])), shape));
  }
  auto out = m.Call(inputs, {});
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  auto s = (*out)[0].value().span();
  return {s.begin(), s.end()};
}

std::vector<float> RunTflite(const std::string& bytes, const std::map<std::string, Array>& raw) {
  auto model = lite::Model::FromBytes(bytes, "transform+model");
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return {};
  auto interp = lite::Interpreter::Create(std::shared_ptr<const lite::Model>(std::move(*model)),
                                          lite::BuiltinOpResolver());
  EXPECT_TRUE(interp.ok()) << interp.status();
  if (!interp.ok()) return {};
  lite::Interpreter& in = **interp;
  for (const auto& [name, a] : raw) {
    const int i = in.FindInput("serving_default_" + name + ":0");
    EXPECT_GE(i, 0) << name;
    if (i < 0) return {};
    EXPECT_TRUE(in.ResizeInput(i, {a.shape().begin(), a.shape().end()}).ok());
  }
  EXPECT_TRUE(in.AllocateTensors().ok());
  for (const auto& [name, a] : raw) {
    Status s = in.SetInput(in.FindInput("serving_default_" + name + ":0"), ToFloatArray(a));
    EXPECT_TRUE(s.ok()) << s;
  }
  Status s = in.Invoke();
  EXPECT_TRUE(s.ok()) << s;
  auto o = in.GetOutput(0);
  EXPECT_TRUE(o.ok()) << o.status();
  if (!o.ok()) return {};
  auto d = o->data<float>();
  return {d.begin(), d.end()};
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(static_cast<double>(want[i]))))
        << "element " << i;
  }
}

TEST(TransformModelTest, TfliteOfTransformPlusModelOnRawEqualsModelOnTransformed) {
  const TransformGraph g = AnalyzedGraph(NumericFn);
  const nn::Model model = SmallModel();
  // Some rows beyond the analysis data, so the clip bounds are exercised.
  std::vector<Row> rows = SmallRows();
  rows.push_back({20.0f, -5, "x", {-4, 30, 0.25f}});
  rows.push_back({-9.0f, 200, "y", {1, 2, 3}});
  const data::Batch raw = RowBatch(rows);
  auto transformed = g.Apply(raw);
  ASSERT_TRUE(transformed.ok()) << transformed.status();
  const std::vector<float> want =
      RunNative(model, {transformed->arrays.begin(), transformed->arrays.end()});
  ASSERT_EQ(want.size(), rows.size() * 2);

  auto combined = WithTransform(g, model);
  ASSERT_TRUE(combined.ok()) << combined.status();
  EXPECT_THAT(combined->input_names(), ::testing::UnorderedElementsAre("v", "x", "n"));
  // The native combined model on raw features: the same function.
  std::map<std::string, Array> raw_arrays(raw.arrays.begin(), raw.arrays.end());
  ExpectClose(RunNative(*combined, raw_arrays), want, 1e-5);

  // Its TFLite conversion over a signature of RAW features.
  auto specs = RawServingSpecs(g, *combined);
  ASSERT_TRUE(specs.ok()) << specs.status();
  auto conv = lite::ConvertModel(*combined, model::ExampleSignature("serving_default", *specs));
  ASSERT_TRUE(conv.ok()) << conv.status();
  ExpectClose(RunTflite(conv->tflite, raw_arrays), want, 1e-5);

  // The original model is unchanged (its weights were copied, not moved).
  ExpectClose(RunNative(model, {transformed->arrays.begin(), transformed->arrays.end()}), want, 0);
}

TEST(TransformModelTest, SavedServingModelCarriesTheTransform) {
  const TransformGraph g = AnalyzedGraph(NumericFn);
  const nn::Model model = SmallModel();
  auto combined = WithTransform(g, model);
  ASSERT_TRUE(combined.ok()) << combined.status();
  auto specs = RawServingSpecs(g, *combined);
  ASSERT_TRUE(specs.ok());
  TempDir dir;
  const std::vector<model::Signature> sigs = {model::ExampleSignature("serving_default", *specs)};
  ASSERT_TRUE(model::Save(*combined, dir.Join("serving"), sigs).ok());
  auto loaded = model::Load(dir.Join("serving"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const data::Batch raw = RowBatch(SmallRows());
  auto transformed = g.Apply(raw);
  ASSERT_TRUE(transformed.ok());
  ExpectClose(RunNative(*loaded->model, {raw.arrays.begin(), raw.arrays.end()}),
              RunNative(model, {transformed->arrays.begin(), transformed->arrays.end()}), 1e-5);
}

TEST(TransformModelTest, OpsWithoutLayerFormAreNamed) {
  const TransformGraph g = AnalyzedGraph([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"v_z", tft::ScaleToZScore(in["v"])},
            {"x_t", tft::ComputeAndApplyVocabulary(in["city"])}};
  });
  auto combined = WithTransform(g, SmallModel());
  EXPECT_EQ(combined.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(combined.status().message(),
              HasSubstr("transform output \"x_t\": op compute_and_apply_vocabulary"));
  const TransformGraph b = AnalyzedGraph([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"v_z", in["v"]}, {"x_t", tft::Bucketize(in["x"], 3)}};
  });
  EXPECT_THAT(WithTransform(b, SmallModel()).status().message(), HasSubstr("op bucketize"));
  const TransformGraph m = AnalyzedGraph([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"v_z", in["v"] * in["v"]}, {"x_t", in["x"]}};
  });
  EXPECT_THAT(WithTransform(m, SmallModel()).status().message(), HasSubstr("op mul"));
  const TransformGraph w = AnalyzedGraph([](const Inputs& in) -> std::map<std::string, Column> {
    return {{"v_z", in["x"]}, {"x_t", in["x"]}};
  });
  EXPECT_THAT(WithTransform(w, SmallModel()).status().message(),
              HasSubstr("transform output \"v_z\" has 1 values per example"));
}

TEST(TransformModelTest, TransformedInputDatasetAppliesTheGraph) {
  const TransformGraph g = AnalyzedGraph(NumericFn);
  TempDir dir;
  {
    auto w = data::TFRecordWriter::Open(dir.Join("raw.gz"));
    ASSERT_TRUE(w.ok());
    for (const std::string& r : testing::SerializeAll(SmallRows())) {
      ASSERT_TRUE((*w)->Write(r).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto ds = MakeTransformedInputDataset({dir.Join("*.gz")}, g, "label",
                                        {.batch_size = 4, .shuffle_buffer = 0, .num_epochs = 1});
  ASSERT_TRUE(ds.ok()) << ds.status();
  auto want = g.Apply(RowBatch(SmallRows()));
  ASSERT_TRUE(want.ok());
  std::vector<float> got_x;
  std::vector<int64_t> got_label;
  for (;;) {
    auto b = (*ds)->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    if (!*b) break;
    auto x = (*b)->GetArray("x_t");
    auto l = (*b)->GetArray("label");
    ASSERT_TRUE(x.ok() && l.ok());
    for (float v : (*x)->data<float>()) got_x.push_back(v);
    for (int64_t v : (*l)->data<int64_t>()) got_label.push_back(v);
  }
  auto wx = want->arrays.at("x_t").data<float>();
  EXPECT_EQ(got_x, std::vector<float>(wx.begin(), wx.end()));
  EXPECT_THAT(got_label, ::testing::ElementsAre(10, 20, 30, 40, 50, 60, 70));

  auto bad = MakeTransformedInputDataset({dir.Join("*.gz")}, g, "image_class");
  EXPECT_THAT(bad.status().message(), HasSubstr("label \"image_class\" is not an output"));
}

}  // namespace
}  // namespace edgepipe::components
