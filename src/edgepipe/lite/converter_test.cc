// The converter: every lowering, checked by running the written file in our
// interpreter against the native model's own Call (not the converter's
// validator), on the guide's MNIST MLP, a small CNN with batch-norm variants,
// a two-input model and small models for each remaining layer; a tiny model
// whose output is computed by hand; and every unsupported case.
#include "edgepipe/lite/converter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/converter_testing.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/model/layer_factory.h"
#include "edgepipe/model/test_models.h"

// The checks below walk FlatBuffers accessors of models that Model has
// verified; GCC's -Wnull-dereference cannot see that the optional fields
// exist (the converter writes every one of them).
#pragma GCC diagnostic ignored "-Wnull-dereference"

namespace edgepipe::lite {
namespace {

namespace L = nn::layers;
using ::testing::HasSubstr;
using testing::MakeCnn;
using testing::RandomizeBatchNorms;
using BOp = tflite::BuiltinOperator;
using Act = tflite::ActivationFunctionType;

struct Loaded {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Interpreter> interp;
};

Loaded LoadFile(const std::string& bytes) {
  Loaded l;
  auto m = Model::FromBytes(bytes, "converted");
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return l;
  l.model = std::shared_ptr<const Model>(std::move(*m));
  auto in = Interpreter::Create(l.model, BuiltinOpResolver());
  EXPECT_TRUE(in.ok()) << in.status();
  if (in.ok()) l.interp = std::move(*in);
  return l;
}

// Builtin codes of the file's operators, in order.
std::vector<BOp> Ops(const Model& m) {
  std::vector<BOp> out;
  const auto* ops = m.subgraph(0).operators();
  for (flatbuffers::uoffset_t i = 0; ops && i < ops->size(); ++i) {
    out.push_back(static_cast<BOp>(m.OpCode(0, static_cast<int>(i))));
  }
  return out;
}

std::vector<int32_t> Vec(const flatbuffers::Vector<int32_t>* v) {
  return v ? std::vector<int32_t>(v->begin(), v->end()) : std::vector<int32_t>{};
}

// Runs the file on `inputs` (by signature input name, batch N) and returns
// its outputs in file order.
std::vector<Array> RunFile(const Conversion& c, const std::map<std::string, Array>& inputs) {
  Loaded l = LoadFile(c.tflite);
  std::vector<Array> outs;
  if (!l.interp) return outs;
  for (const auto& [name, a] : inputs) {
    const int i = l.interp->FindInput("serving_default_" + name + ":0");
    EXPECT_GE(i, 0) << name;
    if (i < 0) return outs;
    EXPECT_TRUE(l.interp->ResizeInput(i, {a.shape().begin(), a.shape().end()}).ok());
  }
  EXPECT_TRUE(l.interp->AllocateTensors().ok());
  for (const auto& [name, a] : inputs) {
    Status s = l.interp->SetInput(l.interp->FindInput("serving_default_" + name + ":0"), a);
    EXPECT_TRUE(s.ok()) << s;
  }
  Status s = l.interp->Invoke();
  EXPECT_TRUE(s.ok()) << s;
  for (int k = 0; k < l.interp->num_outputs(); ++k) {
    auto o = l.interp->GetOutput(k);
    EXPECT_TRUE(o.ok());
    if (o.ok()) outs.push_back(std::move(*o));
  }
  return outs;
}

// Float within 1e-5 relative to the output's scale (max |want|, at least 1).
::testing::AssertionResult Close(const Array& got, const Array& want, double rel = 1e-5) {
  if (got.shape() != want.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << ShapeToString(got.shape()) << " vs " << ShapeToString(want.shape());
  }
  double scale = 1.0, worst = 0.0;
  for (float v : want.data<float>()) scale = std::max(scale, std::fabs(static_cast<double>(v)));
  for (size_t i = 0; i < want.data<float>().size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(got.data<float>()[i]) -
                                      static_cast<double>(want.data<float>()[i])));
  }
  if (!(worst <= rel * scale)) {
    return ::testing::AssertionFailure()
           << "max |diff| " << worst << " > " << rel << " x " << scale;
  }
  return ::testing::AssertionSuccess();
}

// Converts `m` by a tensor signature over its inputs and checks every output
// against model.Call on `rounds` random batches of `batch` rows.
Conversion CheckAgainstNative(const nn::Model& m, int rounds = 3, int64_t batch = 4) {
  std::vector<model::TensorSpec> specs;
  const auto names = m.input_names();
  const auto shapes = m.input_shapes();
  for (size_t i = 0; i < names.size(); ++i) specs.push_back({names[i], DType::kFloat32, shapes[i]});
  auto c = ConvertModel(m, model::TensorSignature("serving_default", specs));
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return {};
  const std::vector<std::string> out_names = model::OutputNames(m);
  EXPECT_EQ(c->output_names, out_names);
  for (int r = 0; r < rounds; ++r) {
    std::map<std::string, Array> by_name;
    std::vector<Array> ordered;
    for (size_t i = 0; i < names.size(); ++i) {
      std::vector<int64_t> s = shapes[i];
      s[0] = batch;
      Array a = model::testing::RandomArray(s, static_cast<uint32_t>(100 * r + i));
      for (float& v : a.data<float>()) v *= 3.0f;
      by_name.emplace(names[i], a);
      ordered.push_back(a);
    }
    std::vector<Array> want = model::testing::CallModel(m, ordered);
    std::vector<Array> got = RunFile(*c, by_name);
    EXPECT_EQ(got.size(), want.size());
    for (size_t k = 0; k < std::min(got.size(), want.size()); ++k) {
      EXPECT_TRUE(Close(got[k], want[k])) << "output " << out_names[k] << " round " << r;
    }
  }
  return std::move(*c);
}

void SetWeight(nn::Layer* l, std::string_view name, std::vector<float> values) {
  ASSERT_NE(l, nullptr);
  nn::Weight* w = l->FindWeight(name);
  ASSERT_NE(w, nullptr) << name;
  ASSERT_EQ(static_cast<size_t>(w->var.value().size()), values.size()) << name;
  std::copy(values.begin(), values.end(), w->var.mutable_value().data());
}

TEST(ConverterTest, TinyDenseReluComputedByHand) {
  nn::Sequential m("tiny");
  ASSERT_TRUE(m.Add(L::InputLayer({2}, "x")).ok());
  ASSERT_TRUE(m.Add(L::Dense(2, {.activation = "relu", .name = "fc"})).ok());
  // kernel [in=2, units=2] = [[1, 2], [3, -4]], bias [0.5, -0.5].
  SetWeight(m.GetLayer("fc"), "kernel", {1, 2, 3, -4});
  SetWeight(m.GetLayer("fc"), "bias", {0.5f, -0.5f});
  auto c =
      ConvertModel(m, model::TensorSignature("serving_default", {{"x", DType::kFloat32, {-1, 2}}}));
  ASSERT_TRUE(c.ok()) << c.status();
  Array x = *Array::FromVector<float>({2, 2}, std::vector<float>{1, 1, -1, 0.5f});
  std::vector<Array> out = RunFile(*c, {{"x", x}});
  ASSERT_EQ(out.size(), 1u);
  // Row 0: [1+3, 2-4] + bias = [4.5, -2.5] -> relu [4.5, 0].
  // Row 1: [-1+1.5, -2-2] + bias = [1, -4.5] -> relu [1, 0].
  EXPECT_THAT(out[0].data<float>(), ::testing::ElementsAre(4.5f, 0.0f, 1.0f, 0.0f));

  Loaded l = LoadFile(c->tflite);
  ASSERT_TRUE(l.model);
  EXPECT_EQ(Ops(*l.model), std::vector<BOp>{BOp::FULLY_CONNECTED});
  const auto* op = l.model->subgraph(0).operators()->Get(0);
  EXPECT_EQ(op->builtin_options_as_FullyConnectedOptions()->fused_activation_function(), Act::RELU);
  // The filter is the kernel transposed: [units, in].
  auto w = l.model->TensorData(0, op->inputs()->Get(1));
  std::vector<float> filter(4);
  ASSERT_EQ(w.size(), 16u);
  std::memcpy(filter.data(), w.data(), 16);
  EXPECT_THAT(filter, ::testing::ElementsAre(1, 3, 2, -4));
}

TEST(ConverterTest, MnistMlpFromSavedModelNamesShapesAndOutputs) {
  TempDir tmp;
  nn::Sequential mlp = model::testing::MakeMlp(3);
  const std::string dir = tmp.Join("temp");
  ASSERT_TRUE(model::Save(mlp, dir,
                          std::vector<model::Signature>{model::TensorSignature(
                              "serving_default", {{"image_floats", DType::kFloat32, {-1, 784}}})})
                  .ok());
  auto loaded = model::Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto c = ConvertSavedModel(*loaded);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->passes.activations_fused, 0);  // Dense(relu) fuses while lowering
  Loaded l = LoadFile(c->tflite);
  ASSERT_TRUE(l.model);
  EXPECT_EQ(Ops(*l.model),
            (std::vector<BOp>{BOp::FULLY_CONNECTED, BOp::FULLY_CONNECTED, BOp::FULLY_CONNECTED}));
  const tflite::SubGraph& sg = l.model->subgraph(0);
  const auto* in = sg.tensors()->Get(static_cast<flatbuffers::uoffset_t>(sg.inputs()->Get(0)));
  EXPECT_EQ(in->name()->str(), "serving_default_image_floats:0");
  EXPECT_EQ(Vec(in->shape()), (std::vector<int32_t>{1, 784}));
  EXPECT_EQ(Vec(in->shape_signature()), (std::vector<int32_t>{-1, 784}));
  const auto* out = sg.tensors()->Get(static_cast<flatbuffers::uoffset_t>(sg.outputs()->Get(0)));
  EXPECT_EQ(out->name()->str(), "StatefulPartitionedCall:0");
  EXPECT_EQ(Vec(out->shape()), (std::vector<int32_t>{1, 10}));
  EXPECT_EQ(Vec(out->shape_signature()), (std::vector<int32_t>{-1, 10}));
  const auto* def = l.model->fb().signature_defs()->Get(0);
  EXPECT_EQ(def->signature_key()->str(), "serving_default");
  EXPECT_EQ(def->inputs()->Get(0)->name()->str(), "image_floats");
  EXPECT_EQ(def->outputs()->Get(0)->name()->str(), "dense_2");
  for (int k = 0; k < 2; ++k) {
    const auto* op = sg.operators()->Get(static_cast<flatbuffers::uoffset_t>(k));
    EXPECT_EQ(op->builtin_options_as_FullyConnectedOptions()->fused_activation_function(),
              Act::RELU);
  }
  // Against the loaded model's own Call, batch 1 (the static shape) and 5.
  for (int64_t n : {1, 5}) {
    Array x = model::testing::RandomArray({n, 784}, static_cast<uint32_t>(n));
    std::vector<Array> want = model::testing::CallModel(*loaded->model, {x});
    std::vector<Array> got = RunFile(*c, {{"image_floats", x}});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(Close(got[0], want[0]));
  }
  // Unknown signature key.
  auto missing = ConvertSavedModel(*loaded, {.signature_key = "nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("\"nope\""));
  EXPECT_THAT(missing.status().message(), HasSubstr("serving_default"));
}

TEST(ConverterTest, SmallCnnWithBatchNormVariants) {
  nn::Model m = MakeCnn(5);
  RandomizeBatchNorms(m, 9);
  Conversion c = CheckAgainstNative(m);
  EXPECT_EQ(c.passes.batch_norms_folded, 2);
  EXPECT_EQ(c.passes.batch_norms_lowered, 1);
  EXPECT_EQ(c.passes.activations_fused, 2);  // ReLU into conv, ReLU6 into depthwise
  Loaded l = LoadFile(c.tflite);
  ASSERT_TRUE(l.model);
  const std::vector<BOp> ops = Ops(*l.model);
  EXPECT_EQ(ops.front(), BOp::MUL);  // Rescaling: the file takes raw pixels
  EXPECT_EQ(std::count(ops.begin(), ops.end(), BOp::RELU), 0);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), BOp::RELU6), 0);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), BOp::MEAN), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), BOp::RESHAPE), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), BOp::MAX_POOL_2D), 1);
  EXPECT_EQ(std::count(ops.begin(), ops.end(), BOp::AVERAGE_POOL_2D), 1);
  // Rescaling MUL, the unfolded BN's MUL (center=false: no ADD).
  EXPECT_EQ(std::count(ops.begin(), ops.end(), BOp::MUL), 2);
}

TEST(ConverterTest, TwoInputModelAddBatchNormConcatSoftmax) {
  nn::Model m = model::testing::MakeTwoInputModel(4);
  RandomizeBatchNorms(m, 3);
  Conversion c = CheckAgainstNative(m);
  EXPECT_EQ(c.passes.batch_norms_lowered, 1);  // after Add: MUL + ADD
  EXPECT_EQ(c.input_names, (std::vector<std::string>{"a", "b"}));
  Loaded l = LoadFile(c.tflite);
  ASSERT_TRUE(l.model);
  const std::vector<BOp> ops = Ops(*l.model);
  for (BOp want : {BOp::TANH, BOp::CONCATENATION, BOp::SOFTMAX, BOp::ADD, BOp::MUL}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), want), ops.end()) << static_cast<int>(want);
  }
  EXPECT_EQ(l.interp->num_outputs(), 2);
}

// Normalization (adapted), Reshape, a Dense on rank 3 with sigmoid, Dropout,
// Flatten, an Activation("relu6") after a RESHAPE, Dense(tanh).
nn::Model MakeMisc() {
  auto x = nn::Input({12}, "features");
  auto h = nn::Apply(L::Normalization("norm"), {*x});
  h = nn::Apply(L::Reshape({3, 4}), {*h});
  h = nn::Apply(L::Dense(5, {.activation = "sigmoid"}), {*h});  // on rank 3
  h = nn::Apply(L::Dropout(0.5f), {*h});
  h = nn::Apply(L::Flatten(), {*h});
  h = nn::Apply(L::Activation("relu6"), {*h});
  auto out = nn::Apply(L::Dense(2, {.activation = "tanh"}), {*h});
  auto m = nn::Model::Create({*x}, {*out}, "misc", 2);
  EXPECT_TRUE(m.ok()) << m.status();
  // Adapted once built, so that the statistics are in its weights (an
  // adapt before the build reaches the weights only at the first Call).
  auto data = model::testing::RandomArray({64, 12}, 5);
  for (size_t i = 0; i < data.data<float>().size(); ++i) {
    data.data<float>()[i] = data.data<float>()[i] * static_cast<float>(i % 12) + 4.0f;
  }
  auto* norm = dynamic_cast<L::Normalization*>(m->GetLayer("norm"));
  EXPECT_NE(norm, nullptr);
  if (norm) {
    EXPECT_TRUE(norm->Adapt(data).ok());
  }
  return std::move(*m);
}

TEST(ConverterTest, NormalizationReshapeSigmoidAndRank3Dense) {
  nn::Model misc = MakeMisc();
  auto* m = &misc;
  Conversion c = CheckAgainstNative(*m);
  Loaded l = LoadFile(c.tflite);
  ASSERT_TRUE(l.model);
  const std::vector<BOp> ops = Ops(*l.model);
  ASSERT_GE(ops.size(), 2u);
  EXPECT_EQ(ops[0], BOp::MUL);  // Normalization: raw features in
  EXPECT_EQ(ops[1], BOp::ADD);
  EXPECT_NE(std::find(ops.begin(), ops.end(), BOp::LOGISTIC), ops.end());
  EXPECT_NE(std::find(ops.begin(), ops.end(), BOp::RELU6), ops.end());  // after RESHAPE: unfused
  EXPECT_NE(std::find(ops.begin(), ops.end(), BOp::TANH), ops.end());
}

TEST(ConverterTest, ExampleSignatureBecomesPerFeatureTensors) {
  nn::Sequential mlp = model::testing::MakeMlp(8);
  // The feature is 28x28 per record, the model input 784: a RESHAPE feeds it.
  model::Signature sig = model::ExampleSignature(
      "serving_default", {data::FeatureSpec::Float32("image_floats", {28, 28})});
  auto c = ConvertModel(mlp, sig);
  ASSERT_TRUE(c.ok()) << c.status();
  Loaded l = LoadFile(c->tflite);
  ASSERT_TRUE(l.model);
  EXPECT_EQ(Ops(*l.model).front(), BOp::RESHAPE);
  EXPECT_EQ(l.interp->input(0).shape, (std::vector<int32_t>{1, 28, 28}));
  Array x = model::testing::RandomArray({3, 28, 28}, 4);
  Array flat = x;
  ASSERT_TRUE(flat.Reshape({3, 784}).ok());
  std::vector<Array> want = model::testing::CallModel(mlp, {flat});
  std::vector<Array> got = RunFile(*c, {{"image_floats", x}});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(Close(got[0], want[0]));

  auto strings = ConvertModel(
      mlp, model::ExampleSignature("s", {data::FeatureSpec::String("image_floats", {784})}));
  EXPECT_FALSE(strings.ok());
}

// A layer class the converter has never heard of.
class Cube : public nn::Layer {
 public:
  Cube() : nn::Layer("cube") {}
  std::string_view type() const override { return "Cube"; }
  std::string_view default_name() const override { return "cube"; }
  Result<nn::Var> Call(std::span<const nn::Var> inputs, const nn::CallContext&) override {
    return inputs[0];
  }

 protected:
  Result<nn::Shape> DoBuild(const std::vector<nn::Shape>& s) override { return s[0]; }
};

TEST(ConverterTest, UnsupportedCasesFailNamingTheLayerAndRule) {
  auto sig = [](int64_t n) {
    return model::TensorSignature("serving_default", {{"x", DType::kFloat32, {-1, n}}});
  };
  {  // Unknown layer class.
    auto x = nn::Input({4}, "x");
    auto h = nn::ApplyLayer(std::make_shared<Cube>(), {*x});
    auto o = nn::Apply(L::Dense(2), {*h});
    auto m = nn::Model::Create({*x}, {*o}, "m");
    ASSERT_TRUE(m.ok()) << m.status();
    auto c = ConvertModel(*m, sig(4));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kUnimplemented);
    EXPECT_THAT(c.status().message(), HasSubstr("Cube \"cube\""));
    EXPECT_THAT(c.status().message(), HasSubstr("no TFLite lowering"));
  }
  {  // An output that is the input unchanged (only a Dropout between).
    nn::Sequential m("drop");
    ASSERT_TRUE(m.Add(L::InputLayer({4}, "x")).ok());
    ASSERT_TRUE(m.Add(L::Dropout(0.1f)).ok());
    auto c = ConvertModel(m, sig(4));
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(c.status().message(), HasSubstr("is the input \"x\" unchanged"));
  }
  {  // Two outputs that are one tensor at inference.
    auto x = nn::Input({4}, "x");
    auto d = nn::Apply(L::Dense(3, {.name = "d"}), {*x});
    auto drop = nn::Apply(L::Dropout(0.2f, "drop"), {*d});
    auto m = nn::Model::Create({*x}, {*d, *drop}, "m");
    ASSERT_TRUE(m.ok()) << m.status();
    auto c = ConvertModel(*m, sig(4));
    ASSERT_FALSE(c.ok());
    EXPECT_THAT(c.status().message(), HasSubstr("same tensor"));
  }
  {  // A signature that does not fit the model.
    nn::Sequential m = model::testing::MakeMlp();
    auto c = ConvertModel(m, sig(5));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  }
  {  // A string feature.
    nn::Sequential m = model::testing::MakeMlp();
    auto c =
        ConvertModel(m, model::ExampleSignature(
                            "serving_default", {data::FeatureSpec::String("image_floats", {784})}));
    ASSERT_FALSE(c.ok());
  }
}

// The models above, together, hold every layer class the saved-model
// factory knows, and each converts and matches the native model.
TEST(ConverterTest, TestedModelsCoverEveryFactoryLayerClass) {
  std::vector<nn::Model> models;
  models.push_back(model::testing::MakeMlp(1));
  models.push_back(MakeCnn(2));
  models.push_back(model::testing::MakeTwoInputModel(3));
  models.push_back(MakeMisc());
  std::set<std::string> seen;
  for (const nn::Model& m : models) {
    for (nn::Layer* l : m.layers()) seen.insert(std::string(l->type()));
    CheckAgainstNative(m, 1, 2);
  }
  for (const std::string& cls : model::KnownLayerClasses()) {
    EXPECT_TRUE(seen.count(cls)) << cls << " is not exercised by a conversion test";
  }
  EXPECT_EQ(model::KnownLayerClasses().size(), 18u);
}

}  // namespace
}  // namespace edgepipe::lite
