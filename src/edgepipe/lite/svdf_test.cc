// SVDF: float and int8 single-op models with hand-computed outputs over
// several steps (the state carries between Invoke calls), the variable
// tensor lifecycle, error messages, and the keyword_scrambled fixture
// (QUANTIZE int16 -> int8, SVDF x7, FULLY_CONNECTED, SOFTMAX int8 -> int16,
// QUANTIZE int16 -> int32) end to end.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model_builder.h"

namespace edgepipe::lite {
namespace {

using ::testing::HasSubstr;
using TT = tflite::TensorType;
using Act = tflite::ActivationFunctionType;

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

Result<std::unique_ptr<Interpreter>> Make(const std::string& bytes) {
  ASSIGN_OR_RETURN(auto model, Model::FromBytes(bytes, "svdf.tflite"));
  ASSIGN_OR_RETURN(auto in, Interpreter::Create(std::move(model), BuiltinOpResolver()));
  RETURN_IF_ERROR(in->AllocateTensors());
  return in;
}

// Sets input 0 to `x` (In elements), invokes, returns output 0 (Out elements).
template <typename Out, typename In = Out>
std::vector<Out> Step(Interpreter& in, const std::vector<In>& x) {
  auto dst = in.mutable_input_data(0);
  EXPECT_TRUE(dst.ok()) << dst.status();
  EXPECT_EQ(dst->size(), x.size() * sizeof(In));
  std::memcpy(dst->data(), x.data(), dst->size());
  const Status s = in.Invoke();
  EXPECT_TRUE(s.ok()) << s;
  const Tensor& y = in.output(0);
  return std::vector<Out>(y.as<Out>(), y.as<Out>() + y.num_elements());
}

// Float SVDF: input_size 2, 2 filters, memory 2. State slots per filter are
// [older, newer]; weights_time rows weigh them the same way.
//   weights_feature [[1, 2], [3, -1]], weights_time [[1, 10], [2, 0.5]]
std::string FloatSvdf(int rank, std::vector<float> bias, Act act, bool variable_state = true) {
  ModelBuilder b;
  const int units = 2 / rank;
  int x = b.AddInput("x", TT::FLOAT32, {1, 2});
  int wf = b.AddConstant("wf", TT::FLOAT32, {2, 2}, std::vector<float>{1, 2, 3, -1});
  int wt = b.AddConstant("wt", TT::FLOAT32, {2, 2}, std::vector<float>{1, 10, 2, 0.5f});
  int bi = bias.empty() ? -1 : b.AddConstant("b", TT::FLOAT32, {units}, bias);
  int st = variable_state ? b.AddVariable("state", TT::FLOAT32, {1, 4})
                          : b.AddInput("state", TT::FLOAT32, {1, 4});
  int y = b.AddTensor("y", TT::FLOAT32, {1, units});
  b.AddOperator(tflite::BuiltinOperator::SVDF, {x, wf, wt, bi, st}, {y}, SvdfOpts(rank, act));
  b.AddOutput("y", y);
  auto bytes = b.Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return *bytes;
}

TEST(SvdfTest, FloatRank1HandComputedOverSteps) {
  auto in = Make(FloatSvdf(1, {0.5f, -1}, Act::NONE));
  ASSERT_TRUE(in.ok()) << in.status();
  // Step 1, x = [1, 1]: features [3, 2]; memories [0, 3], [0, 2];
  // time products [30, 1]; + bias.
  EXPECT_EQ(Step<float>(**in, {1, 1}), (std::vector<float>{30.5f, 0}));
  // Step 2, x = [2, 0]: features [2, 6]; memories [3, 2], [2, 6];
  // time products [3 + 20, 4 + 3].
  EXPECT_EQ(Step<float>(**in, {2, 0}), (std::vector<float>{23.5f, 6}));
  // The state tensor holds the memories.
  const Tensor& state = (*in)->tensors()[4];
  ASSERT_TRUE(state.is_variable);
  EXPECT_EQ(std::vector<float>(state.as<float>(), state.as<float>() + 4),
            (std::vector<float>{3, 2, 2, 6}));
  // Resetting the state gives step 1's output again.
  ASSERT_TRUE((*in)->ResetVariableTensors().ok());
  EXPECT_EQ(Step<float>(**in, {1, 1}), (std::vector<float>{30.5f, 0}));
}

TEST(SvdfTest, FloatRank2SumsFiltersAndAppliesRelu) {
  // One unit = both filters: step 1 gives 30 + 1 + bias.
  auto in = Make(FloatSvdf(2, {-40}, Act::RELU));
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(Step<float>(**in, {1, 1}), (std::vector<float>{0}));  // relu(31 - 40)
  EXPECT_EQ(Step<float>(**in, {2, 0}), (std::vector<float>{0}));  // relu(23 + 7 - 40)
  // Step 3, x = [5, 1]: features [7, 14]; memories [2, 7], [6, 14]; time
  // products 2 + 70 and 12 + 7: 91 - 40.
  EXPECT_EQ(Step<float>(**in, {5, 1}), (std::vector<float>{51}));
}

// int8 SVDF: input scale 0.5 zero point -1; weights_feature scale 0.25;
// state int16 scale 0.125 (so input -> state is x 1.0); weights_time int16
// scale 0.5; output scale 0.125 zero point -128 (state -> output is x 0.5).
//   weights_feature [[1, 2], [3, -1]], weights_time [[1, 10], [2, 3]],
//   bias (int32, added raw) [4, -2]
std::string Int8Svdf(Act act = Act::RELU, int32_t state_zp = 0) {
  ModelBuilder b;
  int x = b.AddInput("x", TT::INT8, {1, 2}, QuantParams{{0.5f}, {-1}, 0});
  int wf = b.AddConstant("wf", TT::INT8, {2, 2}, std::vector<int8_t>{1, 2, 3, -1},
                         QuantParams{{0.25f}, {0}, 0});
  int wt = b.AddConstant("wt", TT::INT16, {2, 2}, std::vector<int16_t>{1, 10, 2, 3},
                         QuantParams{{0.5f}, {0}, 0});
  int bi = b.AddConstant("b", TT::INT32, {2}, std::vector<int32_t>{4, -2},
                         QuantParams{{0.0625f}, {0}, 0});
  int st = b.AddVariable("state", TT::INT16, {1, 4}, QuantParams{{0.125f}, {state_zp}, 0});
  int y = b.AddTensor("y", TT::INT8, {1, 2}, QuantParams{{0.125f}, {-128}, 0});
  b.AddOperator(tflite::BuiltinOperator::SVDF, {x, wf, wt, bi, st}, {y}, SvdfOpts(1, act));
  b.AddOutput("y", y);
  auto bytes = b.Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return *bytes;
}

TEST(SvdfTest, Int8HandComputedOverSteps) {
  auto in = Make(Int8Svdf());
  ASSERT_TRUE(in.ok()) << in.status();
  // Step 1, x = [1, 3] (centred [2, 4]): features [10, 2] into the state;
  // time products [100, 6]; + bias [104, 4]; x 0.5 = [52, 2]; - 128.
  EXPECT_EQ(Step<int8_t>(**in, {1, 3}), (std::vector<int8_t>{-76, -126}));
  // Step 2, x = [-1, 0] (centred [0, 1]): features [2, -1]; memories
  // [10, 2], [2, -1]; time [10 + 20, 4 - 3]; + bias [34, -1]; x 0.5 =
  // [17, -0.5 -> 0 (TFLite rounds the tie up)]; - 128.
  EXPECT_EQ(Step<int8_t>(**in, {-1, 0}), (std::vector<int8_t>{-111, -128}));
  // Step 3, x = [5, -3] (centred [6, -2]): features [2, 20]; memories
  // [2, 2], [-1, 20]; time [22, -2 + 60]; + bias [26, 56]; x 0.5; - 128.
  EXPECT_EQ(Step<int8_t>(**in, {5, -3}), (std::vector<int8_t>{-115, -100}));
  const Tensor& state = (*in)->tensors()[4];
  EXPECT_EQ(std::vector<int16_t>(state.as<int16_t>(), state.as<int16_t>() + 4),
            (std::vector<int16_t>{2, 2, -1, 20}));
}

TEST(SvdfTest, Int8OutputClampsToInt8Range) {
  auto in = Make(Int8Svdf());
  ASSERT_TRUE(in.ok()) << in.status();
  // x = [127, 127] (centred 128): features [384, 256] fit int16; time
  // products [3840, 768]; x 0.5 + bias: far above 127 - (-128): clamps.
  EXPECT_EQ(Step<int8_t>(**in, {127, 127}), (std::vector<int8_t>{127, 127}));
  // x = [-128, 127] (centred [-127, 128]): features [129, -509]; memories
  // [384, 129], [256, -509]; unit 0: (1674 + 4) x 0.5 -> 127; unit 1:
  // (512 - 1527 - 2) x 0.5 = -508.5 -> -128.
  EXPECT_EQ(Step<int8_t>(**in, {-128, 127}), (std::vector<int8_t>{127, -128}));
}

TEST(SvdfTest, RejectsWhatTfliteRejects) {
  auto no_relu = Make(Int8Svdf(Act::NONE));
  ASSERT_FALSE(no_relu.ok());
  EXPECT_EQ(no_relu.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(no_relu.status().message(), HasSubstr("operator 0 (SVDF)"));
  EXPECT_THAT(no_relu.status().message(), HasSubstr("RELU"));

  auto asym_state = Make(Int8Svdf(Act::RELU, 3));
  ASSERT_FALSE(asym_state.ok());
  EXPECT_THAT(asym_state.status().message(), HasSubstr("zero point 3 must be 0"));

  auto not_variable = Make(FloatSvdf(1, {}, Act::NONE, /*variable_state=*/false));
  ASSERT_FALSE(not_variable.ok());
  EXPECT_THAT(not_variable.status().message(), HasSubstr("must be a variable tensor"));

  // 2 filters cannot split into rank-3 units.
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {1, 2});
  int wf = b.AddConstant("wf", TT::FLOAT32, {2, 2}, std::vector<float>{1, 2, 3, 4});
  int wt = b.AddConstant("wt", TT::FLOAT32, {2, 2}, std::vector<float>{1, 2, 3, 4});
  int st = b.AddVariable("state", TT::FLOAT32, {1, 4});
  int y = b.AddTensor("y", TT::FLOAT32, {1, 2});
  b.AddOperator(tflite::BuiltinOperator::SVDF, {x, wf, wt, -1, st}, {y}, SvdfOpts(3));
  b.AddOutput("y", y);
  auto bad_rank = Make(*b.Finish());
  ASSERT_FALSE(bad_rank.ok());
  EXPECT_THAT(bad_rank.status().message(), HasSubstr("rank 3 must be positive and divide"));
}

// Variable tensors live outside the shared arena: two SVDFs in a chain keep
// separate states, and AllocateTensors resets them.
TEST(SvdfTest, VariableTensorsAreNotSharedAndAllocateResetsThem) {
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {1, 2});
  int wf = b.AddConstant("wf", TT::FLOAT32, {2, 2}, std::vector<float>{1, 2, 3, -1});
  int wt = b.AddConstant("wt", TT::FLOAT32, {2, 2}, std::vector<float>{1, 10, 2, 0.5f});
  int s1 = b.AddVariable("s1", TT::FLOAT32, {1, 4});
  int s2 = b.AddVariable("s2", TT::FLOAT32, {1, 4});
  int h = b.AddTensor("h", TT::FLOAT32, {1, 2});
  int y = b.AddTensor("y", TT::FLOAT32, {1, 2});
  b.AddOperator(tflite::BuiltinOperator::SVDF, {x, wf, wt, -1, s1}, {h}, SvdfOpts(1));
  b.AddOperator(tflite::BuiltinOperator::SVDF, {h, wf, wt, -1, s2}, {y}, SvdfOpts(1));
  b.AddOutput("y", y);
  auto in = Make(*b.Finish());
  ASSERT_TRUE(in.ok()) << in.status();
  const Tensor& t1 = (*in)->tensors()[static_cast<size_t>(s1)];
  const Tensor& t2 = (*in)->tensors()[static_cast<size_t>(s2)];
  const Tensor& th = (*in)->tensors()[static_cast<size_t>(h)];
  ASSERT_NE(t1.data, t2.data);
  // Neither state overlaps the other or the arena's tensors.
  for (const Tensor* t : {&t2, &th}) {
    EXPECT_TRUE(t1.data + t1.bytes <= t->data || t->data + t->bytes <= t1.data);
  }
  // Step 1, x = [1, 1]: h = [30, 1]; second SVDF: features [32, 89],
  // time products [320, 44.5].
  EXPECT_EQ(Step<float>(**in, {1, 1}), (std::vector<float>{320, 44.5f}));
  const std::vector<float> after_one = Step<float>(**in, {1, 1});
  EXPECT_NE(after_one, (std::vector<float>{320, 44.5f}));  // state carried
  ASSERT_TRUE((*in)->AllocateTensors().ok());
  EXPECT_EQ(Step<float>(**in, {1, 1}), (std::vector<float>{320, 44.5f}));
  EXPECT_EQ(Step<float>(**in, {1, 1}), after_one);
}

// keyword_scrambled.tflite: int16 [1, 96] -> int32 [1, 2] probabilities
// (quantized with scale 1/32767). Random inputs; the outputs are
// probabilities summing to one, deterministic across interpreters, the
// state carries between steps, and a reset replays the first step.
TEST(SvdfTest, KeywordScrambledFixtureRunsStatefully) {
  auto model = Model::Load(Fixture("keyword_scrambled.tflite"));
  ASSERT_TRUE(model.ok()) << model.status();
  std::shared_ptr<const Model> m = std::move(*model);
  auto a = Interpreter::Create(m, BuiltinOpResolver());
  auto b = Interpreter::Create(m, BuiltinOpResolver());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*a)->AllocateTensors().ok());
  ASSERT_TRUE((*b)->AllocateTensors().ok());
  ASSERT_EQ((*a)->output(0).type, TT::INT32);
  ASSERT_EQ((*a)->output(0).shape, (std::vector<int32_t>{1, 2}));
  std::mt19937 rng(4);
  std::uniform_int_distribution<int> d(-32768, 32767);
  std::vector<std::vector<int16_t>> steps(6, std::vector<int16_t>(96));
  for (auto& s : steps)
    for (int16_t& v : s) v = static_cast<int16_t>(d(rng));
  steps[1] = steps[0];  // same input, different state
  std::vector<std::vector<int32_t>> outs;
  for (const auto& s : steps) {
    const std::vector<int32_t> ya = Step<int32_t, int16_t>(**a, s);
    EXPECT_EQ((Step<int32_t, int16_t>(**b, s)), ya);
    ASSERT_EQ(ya.size(), 2u);
    // Two probabilities in units of 1/32767 (int16 softmax output halved).
    EXPECT_GE(ya[0], 0);
    EXPECT_GE(ya[1], 0);
    EXPECT_NEAR(ya[0] + ya[1], 32767, 4);
    outs.push_back(ya);
  }
  // Some state is non-zero (every SVDF's state is variable tensor 4, 12, ...).
  const Tensor& state = (*a)->tensors()[4];
  ASSERT_TRUE(state.is_variable);
  bool any = false;
  for (int64_t i = 0; i < state.num_elements(); ++i) any |= state.as<int16_t>()[i] != 0;
  EXPECT_TRUE(any);
  ASSERT_TRUE((*a)->ResetVariableTensors().ok());
  EXPECT_EQ((Step<int32_t, int16_t>(**a, steps[0])), outs[0]);
}

}  // namespace
}  // namespace edgepipe::lite
