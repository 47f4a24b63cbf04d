// UNIDIRECTIONAL_SEQUENCE_LSTM (float32): a one-cell LSTM computed by hand
// over time steps and Invoke calls, batch/time layouts, CIFG, peephole,
// projection and clipping against a direct transcription of the equations,
// errors for unsupported variants, and trained_lstm.tflite end to end.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model_builder.h"

namespace edgepipe::lite {
namespace {

using ::testing::HasSubstr;
using TT = tflite::TensorType;

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

Result<std::unique_ptr<Interpreter>> Make(const std::string& bytes) {
  ASSIGN_OR_RETURN(auto model, Model::FromBytes(bytes, "lstm.tflite"));
  ASSIGN_OR_RETURN(auto in, Interpreter::Create(std::move(model), BuiltinOpResolver()));
  RETURN_IF_ERROR(in->AllocateTensors());
  return in;
}

std::vector<float> Step(Interpreter& in, const std::vector<float>& x) {
  auto dst = in.mutable_input_data(0);
  EXPECT_TRUE(dst.ok()) << dst.status();
  EXPECT_EQ(dst->size(), x.size() * sizeof(float));
  std::memcpy(dst->data(), x.data(), dst->size());
  const Status s = in.Invoke();
  EXPECT_TRUE(s.ok()) << s;
  const Tensor& y = in.output(0);
  return std::vector<float>(y.as<float>(), y.as<float>() + y.num_elements());
}

double Sig(double x) { return 1 / (1 + std::exp(-x)); }

// An LSTM's parameters; empty vectors are omitted inputs.
struct LstmSpec {
  int batch = 1, time = 1, n_input = 1, n_cell = 1, n_output = 1;
  bool time_major = false;
  float cell_clip = 0, proj_clip = 0;
  std::vector<float> w[4], r[4], peep[3], bias[4], proj, proj_bias;
  std::vector<float> layer_norm;  // input 20 if set (unsupported)
  TT weight_type = TT::FLOAT32;
};

std::string BuildLstm(const LstmSpec& s) {
  ModelBuilder b;
  std::vector<int32_t> in_shape = s.time_major ? std::vector<int32_t>{s.time, s.batch, s.n_input}
                                               : std::vector<int32_t>{s.batch, s.time, s.n_input};
  std::vector<int32_t> inputs(24, -1);
  inputs[0] = b.AddInput("x", TT::FLOAT32, in_shape);
  const auto add = [&](int slot, const std::vector<float>& v, std::vector<int32_t> shape) {
    if (v.empty()) return;
    if (s.weight_type == TT::INT8 && slot >= 1 && slot <= 8) {
      inputs[static_cast<size_t>(slot)] =
          b.AddConstant(fmt::format("t{}", slot), TT::INT8, std::move(shape),
                        std::vector<int8_t>(v.size(), 1), QuantParams{{0.5f}, {0}, 0});
      return;
    }
    inputs[static_cast<size_t>(slot)] =
        b.AddConstant(fmt::format("t{}", slot), TT::FLOAT32, std::move(shape), v);
  };
  for (int k = 0; k < 4; ++k) {
    add(1 + k, s.w[k], {s.n_cell, s.n_input});
    add(5 + k, s.r[k], {s.n_cell, s.n_output});
    add(12 + k, s.bias[k], {s.n_cell});
  }
  for (int k = 0; k < 3; ++k) add(9 + k, s.peep[k], {s.n_cell});
  add(16, s.proj, {s.n_output, s.n_cell});
  add(17, s.proj_bias, {s.n_output});
  add(20, s.layer_norm, {s.n_cell});
  inputs[18] = b.AddVariable("h", TT::FLOAT32, {s.batch, s.n_output});
  inputs[19] = b.AddVariable("c", TT::FLOAT32, {s.batch, s.n_cell});
  const std::vector<int32_t> out_shape = s.time_major
                                             ? std::vector<int32_t>{s.time, s.batch, s.n_output}
                                             : std::vector<int32_t>{s.batch, s.time, s.n_output};
  int y = b.AddTensor("y", TT::FLOAT32, out_shape);
  b.AddOperator(tflite::BuiltinOperator::UNIDIRECTIONAL_SEQUENCE_LSTM, inputs, {y},
                UnidirectionalSequenceLstmOpts(tflite::ActivationFunctionType::TANH, s.cell_clip,
                                               s.proj_clip, s.time_major));
  b.AddOutput("y", y);
  auto bytes = b.Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return *bytes;
}

// One cell, one input: W = [i 1, f 1, c 2, o 0], R = [0.5, 0, 0, 0],
// biases 0, x = 1 at every step. By hand:
//   step 1: i = f = sig(1), g = tanh(2), c1 = sig(1) tanh(2), o = 1/2,
//           h1 = tanh(c1) / 2
//   step 2: i = sig(1 + h1 / 2), f = sig(1), c2 = f c1 + i tanh(2),
//           h2 = tanh(c2) / 2
TEST(LstmTest, OneCellByHandAcrossStepsAndInvokes) {
  LstmSpec s;
  s.time = 2;
  s.w[0] = {1};
  s.w[1] = {1};
  s.w[2] = {2};
  s.w[3] = {0};
  s.r[0] = {0.5f};
  s.r[1] = s.r[2] = s.r[3] = {0};
  s.bias[0] = s.bias[1] = s.bias[2] = s.bias[3] = {0};
  auto in = Make(BuildLstm(s));
  ASSERT_TRUE(in.ok()) << in.status();
  const double c1 = Sig(1) * std::tanh(2.0);
  const double h1 = std::tanh(c1) / 2;
  const double c2 = Sig(1) * c1 + Sig(1 + h1 / 2) * std::tanh(2.0);
  const double h2 = std::tanh(c2) / 2;
  const std::vector<float> y = Step(**in, {1, 1});
  ASSERT_EQ(y.size(), 2u);
  EXPECT_NEAR(y[0], h1, 1e-6);
  EXPECT_NEAR(y[1], h2, 1e-6);
  // The state carries into the next Invoke: its first step continues from
  // (h2, c2).
  const double c3 = Sig(1) * c2 + Sig(1 + h2 / 2) * std::tanh(2.0);
  const std::vector<float> y2 = Step(**in, {1, 1});
  EXPECT_NEAR(y2[0], std::tanh(c3) / 2, 1e-6);
  // The variable tensors hold h and c after the last step.
  for (const Tensor& t : (*in)->tensors()) {
    if (t.name == "h") {
      ASSERT_TRUE(t.is_variable);
      EXPECT_EQ(t.as<float>()[0], y2[1]);
    }
    if (t.name == "c") {
      ASSERT_TRUE(t.is_variable);
      EXPECT_NEAR(t.as<float>()[0], Sig(1) * c3 + Sig(1 + std::tanh(c3) / 4) * std::tanh(2.0),
                  1e-6);
    }
  }
  ASSERT_TRUE((*in)->ResetVariableTensors().ok());
  EXPECT_EQ(Step(**in, {1, 1}), y);
}

// A direct transcription of the LSTM equations (double precision) for any
// spec: the reference the kernel is held to (1e-5).
std::vector<double> Reference(const LstmSpec& s, const std::vector<float>& x) {
  const int nc = s.n_cell, no = s.n_output, ni = s.n_input;
  std::vector<double> y(static_cast<size_t>(s.batch * s.time * no));
  for (int b = 0; b < s.batch; ++b) {
    std::vector<double> h(static_cast<size_t>(no), 0), c(static_cast<size_t>(nc), 0);
    for (int t = 0; t < s.time; ++t) {
      const int row = s.time_major ? t * s.batch + b : b * s.time + t;
      const float* xt = x.data() + row * ni;
      std::vector<double> gate[4];
      for (int k = 0; k < 4; ++k) {
        gate[k].assign(static_cast<size_t>(nc), 0);
        if (s.w[k].empty()) continue;
        for (int j = 0; j < nc; ++j) {
          double a = s.bias[k].empty() ? 0 : s.bias[k][static_cast<size_t>(j)];
          for (int q = 0; q < ni; ++q) a += s.w[k][static_cast<size_t>(j * ni + q)] * xt[q];
          for (int q = 0; q < no; ++q)
            a += s.r[k][static_cast<size_t>(j * no + q)] * h[static_cast<size_t>(q)];
          gate[k][static_cast<size_t>(j)] = a;
        }
      }
      std::vector<double> hid(static_cast<size_t>(nc));
      for (int j = 0; j < nc; ++j) {
        const size_t u = static_cast<size_t>(j);
        const double peep_i = s.peep[0].empty() ? 0 : s.peep[0][u] * c[u];
        const double peep_f = s.peep[1].empty() ? 0 : s.peep[1][u] * c[u];
        const double f = Sig(gate[1][u] + peep_f);
        const double i = s.w[0].empty() ? 1 - f : Sig(gate[0][u] + peep_i);
        c[u] = f * c[u] + i * std::tanh(gate[2][u]);
        if (s.cell_clip > 0) c[u] = std::clamp<double>(c[u], -s.cell_clip, s.cell_clip);
        const double peep_o = s.peep[2].empty() ? 0 : s.peep[2][u] * c[u];
        hid[u] = Sig(gate[3][u] + peep_o) * std::tanh(c[u]);
      }
      for (int q = 0; q < no; ++q) {
        double v = hid[static_cast<size_t>(q % nc)];
        if (!s.proj.empty()) {
          v = s.proj_bias.empty() ? 0 : s.proj_bias[static_cast<size_t>(q)];
          for (int j = 0; j < nc; ++j)
            v += s.proj[static_cast<size_t>(q * nc + j)] * hid[static_cast<size_t>(j)];
          if (s.proj_clip > 0) v = std::clamp<double>(v, -s.proj_clip, s.proj_clip);
        }
        h[static_cast<size_t>(q)] = v;
        y[static_cast<size_t>(row * no + q)] = v;
      }
    }
  }
  return y;
}

std::vector<float> Randoms(size_t n, std::mt19937& rng, float scale = 1) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

LstmSpec RandomSpec(std::mt19937& rng, bool cifg, bool peephole, bool projection) {
  LstmSpec s;
  s.batch = 2;
  s.time = 3;
  s.n_input = 3;
  s.n_cell = 4;
  s.n_output = projection ? 2 : 4;
  const size_t nc = 4, ni = 3, no = static_cast<size_t>(s.n_output);
  for (int k = cifg ? 1 : 0; k < 4; ++k) {
    s.w[k] = Randoms(nc * ni, rng);
    s.r[k] = Randoms(nc * no, rng);
    s.bias[k] = Randoms(nc, rng);
  }
  if (peephole) {
    for (int k = cifg ? 1 : 0; k < 3; ++k) s.peep[k] = Randoms(nc, rng);
  }
  if (projection) {
    s.proj = Randoms(no * nc, rng);
    s.proj_bias = Randoms(no, rng);
  }
  return s;
}

void ExpectMatchesReference(const LstmSpec& s, std::mt19937& rng) {
  auto in = Make(BuildLstm(s));
  ASSERT_TRUE(in.ok()) << in.status();
  const std::vector<float> x =
      Randoms(static_cast<size_t>(s.batch * s.time * s.n_input), rng, 2.0f);
  const std::vector<float> y = Step(**in, x);
  const std::vector<double> want = Reference(s, x);
  ASSERT_EQ(y.size(), want.size());
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], want[i], 1e-5) << "element " << i;
}

TEST(LstmTest, FullGatesBatchMajorAndTimeMajor) {
  std::mt19937 rng(1);
  LstmSpec s = RandomSpec(rng, false, false, false);
  ExpectMatchesReference(s, rng);
  s.time_major = true;
  ExpectMatchesReference(s, rng);
}

TEST(LstmTest, CifgPeepholeProjectionAndClipping) {
  std::mt19937 rng(2);
  ExpectMatchesReference(RandomSpec(rng, true, false, false), rng);
  ExpectMatchesReference(RandomSpec(rng, false, true, false), rng);
  ExpectMatchesReference(RandomSpec(rng, true, true, true), rng);
  LstmSpec clipped = RandomSpec(rng, false, true, true);
  clipped.cell_clip = 0.3f;
  clipped.proj_clip = 0.2f;
  ExpectMatchesReference(clipped, rng);
}

TEST(LstmTest, UnsupportedVariantsNameOpAndRule) {
  std::mt19937 rng(3);
  LstmSpec ln = RandomSpec(rng, false, false, false);
  ln.layer_norm = Randoms(4, rng);
  auto a = Make(BuildLstm(ln));
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(a.status().message(), HasSubstr("operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM)"));
  EXPECT_THAT(a.status().message(), HasSubstr("layer-norm"));

  LstmSpec hybrid = RandomSpec(rng, false, false, false);
  hybrid.weight_type = TT::INT8;
  auto b = Make(BuildLstm(hybrid));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(b.status().message(), HasSubstr("only float32 LSTM"));

  LstmSpec half_peephole = RandomSpec(rng, false, true, false);
  half_peephole.peep[2].clear();
  auto c = Make(BuildLstm(half_peephole));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("peephole"));
}

// trained_lstm.tflite: float [1, 28, 28] -> LSTM(20) -> RESHAPE ->
// FULLY_CONNECTED -> SOFTMAX [1, 10].
TEST(LstmTest, TrainedLstmFixtureRunsStatefully) {
  auto model = Model::Load(Fixture("trained_lstm.tflite"));
  ASSERT_TRUE(model.ok()) << model.status();
  std::shared_ptr<const Model> m = std::move(*model);
  auto a = Interpreter::Create(m, BuiltinOpResolver());
  auto b = Interpreter::Create(m, BuiltinOpResolver());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*a)->AllocateTensors().ok());
  ASSERT_TRUE((*b)->AllocateTensors().ok());
  ASSERT_EQ((*a)->output(0).shape, (std::vector<int32_t>{1, 10}));
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(0.0f, 1.0f);
  std::vector<float> x(28 * 28);
  for (float& v : x) v = d(rng);
  const std::vector<float> y1 = Step(**a, x);
  EXPECT_EQ(Step(**b, x), y1);  // deterministic
  double sum = 0;
  for (float p : y1) {
    EXPECT_GE(p, 0.0f);
    sum += p;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
  // The same input again starts from the carried state: a different answer.
  const std::vector<float> y2 = Step(**a, x);
  EXPECT_NE(y2, y1);
  ASSERT_TRUE((*a)->ResetVariableTensors().ok());
  EXPECT_EQ(Step(**a, x), y1);
}

}  // namespace
}  // namespace edgepipe::lite
