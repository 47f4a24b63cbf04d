// Quantized LOGISTIC and TANH (int8 and uint8) against Google's LiteRT
// (tests/interop/run_litert.mjs): single-op models fed every one of the 256
// input values, under several input quantizations, must give LiteRT's
// outputs exactly. A hand check against double-precision math guards
// against a harness that feeds both runtimes the same wrong bytes. Then the
// quantizer: float models with FULLY_CONNECTED -> LOGISTIC / TANH quantized
// to full integer get TFLite's fixed output quantization and run exactly as
// in LiteRT.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <ostream>
#include <random>

#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/converter.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/litert_runner_testing.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/quantizer.h"
#include "edgepipe/lite/quantizer_testing.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/core_layers.h"

// Models read here were built by us and verified on load; GCC's
// -Wnull-dereference cannot see that the flatbuffer fields exist.
#pragma GCC diagnostic ignored "-Wnull-dereference"

namespace edgepipe::lite {
namespace {

using Op = tflite::BuiltinOperator;
using TT = tflite::TensorType;
using Act = tflite::ActivationFunctionType;

QuantParams Q(float scale, int32_t zp) { return QuantParams{{scale}, {zp}, 0}; }

// One single-op case: `op` on a [1, 256] tensor of `type` with input
// quantization (in_scale, in_zp) and TFLite's output quantization.
struct OpCase {
  std::string name;
  Op op;
  TT type;
  float in_scale;
  int32_t in_zp;
};

// gtest prints parameters by name, not as bytes.
void PrintTo(const OpCase& c, std::ostream* os) { *os << c.name; }

// TFLite's output quantization: LOGISTIC 1/256 with zp -128 (int8) or 0
// (uint8); TANH 1/128 with zp 0 (int8) or 128 (uint8).
QuantParams OutputQuant(Op op, TT type) {
  if (op == Op::LOGISTIC) return Q(1.0f / 256.0f, type == TT::INT8 ? -128 : 0);
  return Q(1.0f / 128.0f, type == TT::INT8 ? 0 : 128);
}

std::vector<OpCase> OpCases() {
  std::vector<OpCase> cases;
  // Scales from fine (the table spans a small part of the curve) to coarse
  // (most inputs saturate), zero points off center.
  const struct {
    const char* tag;
    float scale;
    int32_t zp_int8;
  } quants[] = {{"fine", 0.0123f, -7}, {"mid", 0.05f, 3}, {"coarse", 0.173f, 21}, {"sat", 1.0f, 0}};
  for (Op op : {Op::LOGISTIC, Op::TANH}) {
    for (TT type : {TT::INT8, TT::UINT8}) {
      for (const auto& q : quants) {
        cases.push_back({std::string(op == Op::LOGISTIC ? "logistic" : "tanh") +
                             (type == TT::INT8 ? "_i8_" : "_u8_") + q.tag,
                         op, type, q.scale, type == TT::INT8 ? q.zp_int8 : q.zp_int8 + 128});
      }
    }
  }
  return cases;
}

Result<std::string> BuildOp(const OpCase& c) {
  ModelBuilder b;
  int x = b.AddInput("x", c.type, {1, 256}, Q(c.in_scale, c.in_zp));
  int y = b.AddTensor("y", c.type, {1, 256}, OutputQuant(c.op, c.type));
  b.AddOperator(c.op, {x}, {y});
  b.AddOutput("y", y);
  return b.Finish();
}

// Every value of the type, once, in a shuffled order (so that an
// index-for-value mix-up in a harness would show).
Array AllValues(TT type, uint32_t seed) {
  std::vector<int> values(256);
  for (int i = 0; i < 256; ++i) values[static_cast<size_t>(i)] = i;
  std::mt19937 rng(seed);
  std::shuffle(values.begin(), values.end(), rng);
  if (type == TT::INT8) {
    Array a = *Array::Zeros(DType::kInt8, {1, 256});
    for (size_t i = 0; i < 256; ++i) a.data<int8_t>()[i] = static_cast<int8_t>(values[i] - 128);
    return a;
  }
  Array a = *Array::Zeros(DType::kUInt8, {1, 256});
  for (size_t i = 0; i < 256; ++i) a.data<uint8_t>()[i] = static_cast<uint8_t>(values[i]);
  return a;
}

std::vector<int32_t> Ints(const Array& a) {
  std::vector<int32_t> v;
  if (a.dtype() == DType::kInt8) {
    for (int8_t x : a.data<int8_t>()) v.push_back(x);
  } else if (a.dtype() == DType::kUInt8) {
    for (uint8_t x : a.data<uint8_t>()) v.push_back(x);
  }
  return v;
}

// A float model: x [2, 16] -> FC 12 -> LOGISTIC ("sigmoid") and -> FC 8 ->
// TANH ("tanh"); the tanh branch feeds on the sigmoid output through another
// FC so that a quantized LOGISTIC output is also an FC input.
Result<std::string> BuildSigmoidTanhMlp(uint32_t seed) {
  std::mt19937 rng(seed);
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {2, 16});
  auto dense = [&](int in, int n_in, int n_out, const std::string& name) {
    int w = b.AddConstant(name + "/kernel", TT::FLOAT32, {n_out, n_in},
                          testing::Uniform(static_cast<size_t>(n_in * n_out), 1.5f, rng));
    int bias = b.AddConstant(name + "/bias", TT::FLOAT32, {n_out},
                             testing::Uniform(static_cast<size_t>(n_out), 0.5f, rng));
    int y = b.AddTensor(name + "/out", TT::FLOAT32, {2, n_out});
    b.AddOperator(Op::FULLY_CONNECTED, {in, w, bias}, {y}, FullyConnectedOpts(Act::NONE));
    return y;
  };
  int h = dense(x, 16, 12, "dense_0");
  int s = b.AddTensor("sigmoid", TT::FLOAT32, {2, 12});
  b.AddOperator(Op::LOGISTIC, {h}, {s});
  int h2 = dense(s, 12, 8, "dense_1");
  int t = b.AddTensor("tanh", TT::FLOAT32, {2, 8});
  b.AddOperator(Op::TANH, {h2}, {t});
  b.AddOutput("sigmoid", s);
  b.AddOutput("tanh", t);
  return b.Finish();
}

RepresentativeDataset Calibration(int n, uint32_t seed) {
  auto rng = std::make_shared<std::mt19937>(seed);
  auto left = std::make_shared<int>(n);
  return [=](std::map<std::string, Array>* in) -> Result<bool> {
    if ((*left)-- <= 0) return false;
    (*in)["x"] = testing::RandomFloats({2, 16}, *rng, -2.0f, 2.0f);
    return true;
  };
}

// Keras-style Dense layers with sigmoid and tanh activations through the
// converter (Dense -> FULLY_CONNECTED + LOGISTIC / TANH), then quantized to
// full integer with int8 I/O.
Result<std::string> ConvertedDenseSigmoidTanh() {
  namespace L = nn::layers;
  nn::Sequential m("sigmoid_tanh", 4);
  RETURN_IF_ERROR(m.Add(L::InputLayer({16}, "x")));
  RETURN_IF_ERROR(m.Add(L::Dense(12, {.activation = "sigmoid"})));
  RETURN_IF_ERROR(m.Add(L::Dense(8, {.activation = "tanh"})));
  RETURN_IF_ERROR(m.Add(L::Dense(3)));
  ASSIGN_OR_RETURN(Conversion c,
                   ConvertModel(m, model::TensorSignature("serving_default",
                                                          {{"x", DType::kFloat32, {-1, 16}}})));
  auto rng = std::make_shared<std::mt19937>(8);
  auto left = std::make_shared<int>(16);
  RepresentativeDataset data = [=](std::map<std::string, Array>* in) -> Result<bool> {
    if ((*left)-- <= 0) return false;
    (*in)["x"] = testing::RandomFloats({1, 16}, *rng, -2.0f, 2.0f);
    return true;
  };
  return QuantizeModel(c.tflite,
                       {.mode = QuantizationMode::kFullInteger,
                        .inference_input_type = InferenceType::kInt8,
                        .inference_output_type = InferenceType::kInt8},
                       &data);
}

struct MlpCase {
  std::string name;
  InferenceType io;
};
void PrintTo(const MlpCase& c, std::ostream* os) { *os << c.name; }

const MlpCase kMlpCases[] = {{"mlp_float_io", InferenceType::kFloat32},
                             {"mlp_int8_io", InferenceType::kInt8},
                             {"mlp_uint8_io", InferenceType::kUInt8},
                             {"converted_dense_sigmoid_tanh", InferenceType::kInt8}};

Result<std::string> QuantizedMlp(InferenceType io) {
  ASSIGN_OR_RETURN(std::string f, BuildSigmoidTanhMlp(7));
  RepresentativeDataset data = Calibration(16, 3);
  return QuantizeModel(f,
                       {.mode = QuantizationMode::kFullInteger,
                        .inference_input_type = io,
                        .inference_output_type = io},
                       &data);
}

// Graph input `t` of a quantized MLP: floats in [-2, 2] or every integer
// value spread over the rows.
Array MlpInput(const Tensor& t, std::mt19937& rng) {
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  if (t.type == TT::FLOAT32) return testing::RandomFloats(shape, rng, -2.0f, 2.0f);
  std::uniform_int_distribution<int> d(0, 255);
  if (t.type == TT::UINT8) {
    Array a = *Array::Zeros(DType::kUInt8, shape);
    for (uint8_t& v : a.data<uint8_t>()) v = static_cast<uint8_t>(d(rng));
    return a;
  }
  Array a = *Array::Zeros(DType::kInt8, shape);
  for (int8_t& v : a.data<int8_t>()) v = static_cast<int8_t>(d(rng) - 128);
  return a;
}

struct Outcome {
  Status ours_status = Status::Ok();
  std::vector<Array> inputs;  // one per run (single-input models)
  std::vector<std::vector<Array>> ours;
  std::vector<Result<std::vector<Array>>> theirs;
};

constexpr int kRuns = 3;

// Runs every case in our interpreter and, in one Node process, in LiteRT.
const std::map<std::string, Outcome>& Results() {
  static const auto* results = [] {
    auto* r = new std::map<std::string, Outcome>();
    static TempDir dir;
    std::vector<testing::LiteRtJob> jobs;
    std::vector<std::string> job_case;
    std::mt19937 rng(11);
    auto add = [&](const std::string& name, const Result<std::string>& bytes, bool all_values,
                   TT type) {
      Outcome& o = (*r)[name];
      auto run = [&]() -> Status {
        if (!bytes.ok()) return bytes.status();
        const std::string path = dir.Join(name + ".tflite");
        RETURN_IF_ERROR(WriteFileAtomic(path, *bytes));
        ASSIGN_OR_RETURN(auto model, Model::FromBytes(*bytes, name));
        ASSIGN_OR_RETURN(
            auto in, Interpreter::Create(std::shared_ptr<const Model>(std::move(model)),
                                         BuiltinOpResolver(), {.arithmetic = Arithmetic::kLiteRt}));
        RETURN_IF_ERROR(in->AllocateTensors());
        for (int k = 0; k < kRuns; ++k) {
          Array x =
              all_values ? AllValues(type, static_cast<uint32_t>(k)) : MlpInput(in->input(0), rng);
          RETURN_IF_ERROR(in->SetInput(0, x));
          RETURN_IF_ERROR(in->Invoke());
          std::vector<Array> outs;
          for (int j = 0; j < in->num_outputs(); ++j) {
            ASSIGN_OR_RETURN(Array y, in->GetOutput(j));
            outs.push_back(std::move(y));
          }
          o.ours.push_back(std::move(outs));
          o.inputs.push_back(x);
          jobs.push_back({path, {std::move(x)}});
          job_case.push_back(name);
        }
        return Status::Ok();
      };
      o.ours_status = run();
    };
    for (const OpCase& c : OpCases()) add(c.name, BuildOp(c), true, c.type);
    for (const MlpCase& c : kMlpCases) {
      add(c.name,
          c.name == "converted_dense_sigmoid_tanh" ? ConvertedDenseSigmoidTanh()
                                                   : QuantizedMlp(c.io),
          false, TT::FLOAT32);
    }
    auto theirs = testing::RunLiteRtJobs(jobs, dir);
    for (size_t j = 0; j < jobs.size(); ++j) {
      Outcome& o = (*r)[job_case[j]];
      if (!theirs.ok()) {
        o.theirs.push_back(theirs.status());
      } else {
        o.theirs.push_back(std::move((*theirs)[j]));
      }
    }
    return r;
  }();
  return *results;
}

// Integer outputs equal; float outputs within 1e-5 relative.
void ExpectSame(const Array& ours, const Array& ref, const std::string& what) {
  ASSERT_EQ(ours.dtype(), ref.dtype()) << what;
  ASSERT_EQ(ours.shape(), ref.shape()) << what;
  int bad = 0;
  std::string first;
  auto note = [&](size_t i, double x, double y) {
    if (bad++ < 4) {
      first += " [" + std::to_string(i) + "] " + std::to_string(x) + " vs " + std::to_string(y);
    }
  };
  if (ref.dtype() == DType::kFloat32) {
    const auto x = ours.data<float>();
    const auto y = ref.data<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (!(std::fabs(x[i] - y[i]) <= 1e-5f * std::max(1.0f, std::fabs(y[i])))) note(i, x[i], y[i]);
    }
  } else {
    const std::vector<int32_t> x = Ints(ours), y = Ints(ref);
    ASSERT_EQ(x.size(), y.size()) << what << ": not an 8-bit output";
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] != y[i]) note(i, x[i], y[i]);
    }
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " differ; ours vs LiteRT:" << first;
}

void ExpectSameAsLiteRt(const std::string& name) {
  const Outcome& o = Results().at(name);
  ASSERT_TRUE(o.ours_status.ok()) << name << ": " << o.ours_status;
  ASSERT_EQ(o.ours.size(), static_cast<size_t>(kRuns));
  ASSERT_EQ(o.theirs.size(), o.ours.size());
  for (size_t k = 0; k < o.ours.size(); ++k) {
    ASSERT_TRUE(o.theirs[k].ok()) << name << ": " << o.theirs[k].status();
    ASSERT_EQ(o.theirs[k]->size(), o.ours[k].size()) << name;
    for (size_t j = 0; j < o.ours[k].size(); ++j) {
      ExpectSame(o.ours[k][j], (*o.theirs[k])[j],
                 name + " run " + std::to_string(k) + " output " + std::to_string(j));
    }
  }
}

class ActivationsInLiteRt : public ::testing::TestWithParam<OpCase> {};

TEST_P(ActivationsInLiteRt, EveryInputValueSameAsLiteRt) { ExpectSameAsLiteRt(GetParam().name); }

// Our outputs against f computed in double: within one step everywhere,
// exact where the double result is not within 1e-3 of a rounding tie, and
// f(0) (input == zero point) lands exactly on its known value.
TEST_P(ActivationsInLiteRt, MatchesDoublePrecisionMath) {
  const OpCase& c = GetParam();
  const Outcome& o = Results().at(c.name);
  ASSERT_TRUE(o.ours_status.ok()) << o.ours_status;
  const QuantParams oq = OutputQuant(c.op, c.type);
  const int lo = c.type == TT::INT8 ? -128 : 0, hi = lo + 255;
  int checked = 0, exact = 0;
  for (size_t k = 0; k < o.ours.size(); ++k) {
    const std::vector<int32_t> in = Ints(o.inputs[k]), out = Ints(o.ours[k][0]);
    ASSERT_EQ(in.size(), 256u);
    for (size_t i = 0; i < in.size(); ++i) {
      const double x = static_cast<double>(c.in_scale) * (in[i] - c.in_zp);
      const double f = c.op == Op::LOGISTIC ? 1.0 / (1.0 + std::exp(-x)) : std::tanh(x);
      const double scaled = f / static_cast<double>(oq.scale[0]) + oq.zero_point[0];
      const double want =
          std::clamp(std::round(scaled), static_cast<double>(lo), static_cast<double>(hi));
      ASSERT_LE(std::fabs(out[i] - want), 1.0) << c.name << " input " << in[i];
      const double frac = scaled - std::floor(scaled);
      if (std::fabs(frac - 0.5) > 1e-3 || want == lo || want == hi) {
        EXPECT_EQ(out[i], want) << c.name << " input " << in[i] << " x " << x;
        ++exact;
      }
      if (in[i] == c.in_zp) {
        // logistic(0) = 1/2 is 128 steps above the zero point; tanh(0) = 0.
        EXPECT_EQ(out[i], oq.zero_point[0] + (c.op == Op::LOGISTIC ? 128 : 0)) << c.name;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 256 * kRuns);
  EXPECT_GT(exact, 250 * kRuns);
}

INSTANTIATE_TEST_SUITE_P(All, ActivationsInLiteRt, ::testing::ValuesIn(OpCases()),
                         [](const ::testing::TestParamInfo<OpCase>& p) { return p.param.name; });

TEST(QuantizedActivations, LogisticRejectsAnOutputScaleOtherThanOneOver256) {
  ModelBuilder b;
  int x = b.AddInput("x", TT::INT8, {1, 4}, Q(0.1f, 0));
  int y = b.AddTensor("y", TT::INT8, {1, 4}, Q(1.0f / 128.0f, -128));
  b.AddOperator(Op::LOGISTIC, {x}, {y});
  b.AddOutput("y", y);
  auto bytes = b.Finish();
  ASSERT_TRUE(bytes.ok());
  auto model = Model::FromBytes(*bytes, "bad_logistic");
  ASSERT_TRUE(model.ok());
  auto in =
      Interpreter::Create(std::shared_ptr<const Model>(std::move(*model)), BuiltinOpResolver());
  Status st = in.ok() ? (*in)->AllocateTensors() : in.status();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("LOGISTIC"), std::string::npos) << st;
  EXPECT_NE(st.ToString().find("1/256"), std::string::npos) << st;
}

int FindTensor(const Model& m, const std::string& name) {
  const auto* ts = m.subgraph(0).tensors();
  for (flatbuffers::uoffset_t t = 0; t < ts->size(); ++t) {
    if (ts->Get(t)->name() && ts->Get(t)->name()->str() == name) return static_cast<int>(t);
  }
  return -1;
}
TT TensorType(const Model& m, int t) {
  return m.subgraph(0).tensors()->Get(static_cast<flatbuffers::uoffset_t>(t))->type();
}

// Scales that would make the table's float math overflow are refused.
TEST(QuantizedActivations, TanhRejectsNonFiniteScales) {
  for (const auto& [in_scale, out_scale] :
       {std::pair{std::numeric_limits<float>::infinity(), 1.0f / 128.0f},
        std::pair{0.1f, std::numeric_limits<float>::denorm_min()}}) {
    ModelBuilder b;
    int x = b.AddInput("x", TT::INT8, {1, 4}, Q(in_scale, 0));
    int y = b.AddTensor("y", TT::INT8, {1, 4}, Q(out_scale, 0));
    b.AddOperator(Op::TANH, {x}, {y});
    b.AddOutput("y", y);
    auto bytes = b.Finish();
    ASSERT_TRUE(bytes.ok());
    auto model = Model::FromBytes(*bytes, "bad_tanh");
    if (!model.ok()) continue;  // the loader may refuse it first
    auto in =
        Interpreter::Create(std::shared_ptr<const Model>(std::move(*model)), BuiltinOpResolver());
    Status st = in.ok() ? (*in)->AllocateTensors() : in.status();
    EXPECT_FALSE(st.ok()) << in_scale << " " << out_scale;
  }
}

// The quantizer gives LOGISTIC and TANH outputs TFLite's fixed
// quantization, and the quantized model tracks the float one.
TEST(QuantizedActivations, QuantizerUsesFixedOutputQuantization) {
  auto f = BuildSigmoidTanhMlp(7);
  ASSERT_TRUE(f.ok()) << f.status();
  auto q = QuantizedMlp(InferenceType::kInt8);
  ASSERT_TRUE(q.ok()) << q.status();
  auto m = Model::FromBytes(*q, "quantized");
  ASSERT_TRUE(m.ok()) << m.status();
  for (const std::string name : {"sigmoid", "tanh"}) {
    const int t = FindTensor(**m, name);
    ASSERT_GE(t, 0) << name;
    EXPECT_EQ(TensorType(**m, t), TT::INT8) << name;
    const QuantParams& qp = (*m)->TensorQuant(0, t);
    ASSERT_EQ(qp.scale.size(), 1u) << name;
    EXPECT_EQ(qp.scale[0], name == "sigmoid" ? 1.0f / 256.0f : 1.0f / 128.0f) << name;
    EXPECT_EQ(qp.zero_point[0], name == "sigmoid" ? -128 : 0) << name;
  }
  // Float I/O model against the float model: within a few output steps.
  auto qf = QuantizedMlp(InferenceType::kFloat32);
  ASSERT_TRUE(qf.ok()) << qf.status();
  std::mt19937 rng(5);
  for (int k = 0; k < 4; ++k) {
    Array x = testing::RandomFloats({2, 16}, rng, -2.0f, 2.0f);
    auto ref = testing::RunOurs(*f, {x});
    auto got = testing::RunOurs(*qf, {x});
    ASSERT_TRUE(ref.ok() && got.ok());
    for (size_t j = 0; j < 2; ++j) {
      const auto a = (*ref)[j].data<float>();
      const auto b = (*got)[j].data<float>();
      ASSERT_EQ(a.size(), b.size());
      float max_diff = 0;
      for (size_t i = 0; i < a.size(); ++i) max_diff = std::max(max_diff, std::fabs(a[i] - b[i]));
      EXPECT_LT(max_diff, 0.06f) << "output " << j;  // steps are 1/256 and 1/128
      EXPECT_GT(max_diff, 0.0f) << "output " << j << ": not quantized?";
    }
  }
}

// The converter lowers Dense(sigmoid / tanh) to FULLY_CONNECTED + LOGISTIC /
// TANH and the quantizer makes all of it int8.
TEST(QuantizedActivations, ConvertedDenseSigmoidTanhIsFullInteger) {
  auto q = ConvertedDenseSigmoidTanh();
  ASSERT_TRUE(q.ok()) << q.status();
  auto m = Model::FromBytes(*q, "converted");
  ASSERT_TRUE(m.ok()) << m.status();
  const tflite::SubGraph& g = (*m)->subgraph(0);
  int logistic = 0, tanh = 0;
  for (flatbuffers::uoffset_t o = 0; o < g.operators()->size(); ++o) {
    const tflite::Operator* op = g.operators()->Get(o);
    const Op code = static_cast<Op>((*m)->OpCode(0, static_cast<int>(o)));
    if (code != Op::LOGISTIC && code != Op::TANH) continue;
    (code == Op::LOGISTIC ? logistic : tanh)++;
    const int in = op->inputs()->Get(0), out = op->outputs()->Get(0);
    EXPECT_EQ(TensorType(**m, in), TT::INT8);
    EXPECT_EQ(TensorType(**m, out), TT::INT8);
    EXPECT_EQ((*m)->TensorQuant(0, out).scale[0],
              code == Op::LOGISTIC ? 1.0f / 256.0f : 1.0f / 128.0f);
  }
  EXPECT_EQ(logistic, 1);
  EXPECT_EQ(tanh, 1);
}

class QuantizedMlpInLiteRt : public ::testing::TestWithParam<MlpCase> {};

TEST_P(QuantizedMlpInLiteRt, SameAsLiteRt) { ExpectSameAsLiteRt(GetParam().name); }

INSTANTIATE_TEST_SUITE_P(All, QuantizedMlpInLiteRt, ::testing::ValuesIn(kMlpCases),
                         [](const ::testing::TestParamInfo<MlpCase>& p) { return p.param.name; });

}  // namespace
}  // namespace edgepipe::lite
