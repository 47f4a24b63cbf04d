// Per-op proof against Google's LiteRT: single-op models written with
// ModelBuilder run in our interpreter and in LiteRT (tests/interop/
// run_litert.mjs) on random inputs; integer outputs must be equal, float
// outputs within 1e-5 relative.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>

#include "edgepipe/core/file.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/litert_runner_testing.h"
#include "edgepipe/lite/model_builder.h"

namespace edgepipe::lite {
namespace {

using Act = tflite::ActivationFunctionType;
using Op = tflite::BuiltinOperator;
using TT = tflite::TensorType;
using tflite::Padding;

QuantParams Q(float scale, int32_t zp) { return QuantParams{{scale}, {zp}, 0}; }

// Per-channel symmetric quantization along `axis`, scales spread over
// [lo, hi].
QuantParams PerChannel(int channels, int axis, float lo, float hi) {
  QuantParams q;
  q.axis = axis;
  for (int c = 0; c < channels; ++c) {
    q.scale.push_back(lo + (hi - lo) * static_cast<float>(c) / static_cast<float>(channels));
    q.zero_point.push_back(0);
  }
  return q;
}

std::vector<int8_t> RandI8(size_t n, std::mt19937& rng, int lo = -127, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}
std::vector<int32_t> RandI32(size_t n, std::mt19937& rng, int lo, int hi) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = d(rng);
  return v;
}
std::vector<float> RandF(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

Array RandomInput(const Tensor& t, std::mt19937& rng) {
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  if (t.type == TT::FLOAT32) {
    Array a = *Array::Zeros(DType::kFloat32, shape);
    std::uniform_real_distribution<float> d(-3.0f, 3.0f);
    for (float& v : a.data<float>()) v = d(rng);
    return a;
  }
  Array a = *Array::Zeros(DType::kInt8, shape);
  std::uniform_int_distribution<int> d(-128, 127);
  for (int8_t& v : a.data<int8_t>()) v = static_cast<int8_t>(d(rng));
  return a;
}

using BuildFn = std::function<void(ModelBuilder&, std::mt19937&)>;

// One single-op model. With `litert_rejects`, both runtimes must refuse it.
struct OpCase {
  std::string name;
  BuildFn build;
  bool litert_rejects = false;
};

std::vector<OpCase>& Registry() {
  static std::vector<OpCase> cases;
  return cases;
}

struct Registrar {
  Registrar(std::string name, BuildFn build, bool rejects = false) {
    Registry().push_back({std::move(name), std::move(build), rejects});
  }
};

constexpr int kRuns = 2;  // random inputs per model

// Per case and run: our outputs (or our error) and LiteRT's.
struct CaseResult {
  Status ours_status = Status::Ok();
  std::vector<std::vector<Array>> ours;  // [run][output]
  std::vector<Result<std::vector<Array>>> theirs;
};

// Builds every registered model, runs it in our interpreter (LiteRT
// arithmetic) and, in one Node process, in LiteRT. Computed once.
const std::map<std::string, CaseResult>& Results() {
  static const auto* results = [] {
    auto* r = new std::map<std::string, CaseResult>();
    static TempDir dir;
    std::vector<testing::LiteRtJob> jobs;
    std::vector<std::pair<std::string, int>> job_of;
    for (const OpCase& c : Registry()) {
      CaseResult& cr = (*r)[c.name];
      std::mt19937 rng(42);
      ModelBuilder b;
      c.build(b, rng);
      auto bytes = b.Finish();
      if (!bytes.ok()) {
        cr.ours_status = bytes.status();
        continue;
      }
      const std::string path = dir.Join(c.name + ".tflite");
      if (Status st = WriteFileAtomic(path, *bytes); !st.ok()) {
        cr.ours_status = st;
        continue;
      }
      // Our run; the inputs are generated from the model's input tensors.
      auto run_ours = [&]() -> Status {
        ASSIGN_OR_RETURN(auto model, Model::FromBytes(*bytes, c.name));
        ASSIGN_OR_RETURN(
            auto in, Interpreter::Create(std::shared_ptr<const Model>(std::move(model)),
                                         BuiltinOpResolver(), {.arithmetic = Arithmetic::kLiteRt}));
        RETURN_IF_ERROR(in->AllocateTensors());
        for (int run = 0; run < kRuns; ++run) {
          testing::LiteRtJob job{path, {}};
          for (int i = 0; i < in->num_inputs(); ++i) {
            job.inputs.push_back(RandomInput(in->input(i), rng));
            RETURN_IF_ERROR(in->SetInput(i, job.inputs.back()));
          }
          RETURN_IF_ERROR(in->Invoke());
          std::vector<Array> outs;
          for (int k = 0; k < in->num_outputs(); ++k) {
            ASSIGN_OR_RETURN(Array o, in->GetOutput(k));
            outs.push_back(std::move(o));
          }
          cr.ours.push_back(std::move(outs));
          jobs.push_back(std::move(job));
          job_of.emplace_back(c.name, run);
        }
        return Status::Ok();
      };
      cr.ours_status = run_ours();
      if (!cr.ours_status.ok() && c.litert_rejects) {
        // Still ask LiteRT, on random inputs of the declared shapes.
        auto model = Model::FromBytes(*bytes, c.name);
        if (!model.ok()) continue;
        auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*model)),
                                      BuiltinOpResolver());
        if (!in.ok()) continue;
        testing::LiteRtJob job{path, {}};
        for (int i = 0; i < (*in)->num_inputs(); ++i) {
          job.inputs.push_back(RandomInput((*in)->input(i), rng));
        }
        jobs.push_back(std::move(job));
        job_of.emplace_back(c.name, 0);
      }
    }
    auto theirs = testing::RunLiteRtJobs(jobs, dir);
    for (size_t j = 0; j < jobs.size(); ++j) {
      CaseResult& cr = (*r)[job_of[j].first];
      if (!theirs.ok()) {
        cr.theirs.push_back(theirs.status());
      } else {
        cr.theirs.push_back(std::move((*theirs)[j]));
      }
    }
    return r;
  }();
  return *results;
}

// Integer outputs equal; float within 1e-5 relative.
void ExpectSame(const Array& ours, const Array& ref, const std::string& what) {
  ASSERT_EQ(ours.dtype(), ref.dtype()) << what;
  ASSERT_EQ(ours.num_elements(), ref.num_elements()) << what;
  int mismatches = 0, max_diff = 0;
  std::string first;
  auto note = [&](size_t i, double x, double y) {
    if (mismatches++ < 4) {
      first += " [" + std::to_string(i) + "] " + std::to_string(x) + " vs " + std::to_string(y);
    }
  };
  if (ref.dtype() == DType::kFloat32) {
    auto x = ours.data<float>();
    auto y = ref.data<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (!(std::fabs(x[i] - y[i]) <= 1e-5f * std::max(1.0f, std::fabs(y[i])))) note(i, x[i], y[i]);
    }
  } else {
    ASSERT_EQ(ref.dtype(), DType::kInt8) << what;
    auto x = ours.data<int8_t>();
    auto y = ref.data<int8_t>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] != y[i]) {
        max_diff = std::max(max_diff, std::abs(x[i] - y[i]));
        note(i, x[i], y[i]);
      }
    }
  }
  EXPECT_EQ(mismatches, 0) << what << ": " << mismatches << " of " << ref.num_elements()
                           << " differ (max " << max_diff << "); ours vs LiteRT:" << first;
}

class LiteRtOps : public ::testing::TestWithParam<std::string> {};

TEST_P(LiteRtOps, SameAsLiteRt) {
  const std::string& name = GetParam();
  const OpCase& c = *std::find_if(Registry().begin(), Registry().end(),
                                  [&](const OpCase& x) { return x.name == name; });
  const CaseResult& r = Results().at(name);
  if (c.litert_rejects) {
    EXPECT_FALSE(r.ours_status.ok()) << name << ": we run a model LiteRT refuses";
    ASSERT_EQ(r.theirs.size(), 1u) << name;
    EXPECT_FALSE(r.theirs[0].ok()) << name << ": LiteRT ran it";
    return;
  }
  ASSERT_TRUE(r.ours_status.ok()) << r.ours_status;
  ASSERT_EQ(r.theirs.size(), r.ours.size());
  ASSERT_EQ(r.ours.size(), static_cast<size_t>(kRuns));
  for (size_t run = 0; run < r.ours.size(); ++run) {
    ASSERT_TRUE(r.theirs[run].ok()) << r.theirs[run].status();
    ASSERT_EQ(r.theirs[run]->size(), r.ours[run].size());
    for (size_t k = 0; k < r.ours[run].size(); ++k) {
      ExpectSame(r.ours[run][k], (*r.theirs[run])[k], name + " run " + std::to_string(run));
    }
  }
}

// --- elementwise ---------------------------------------------------------

void Binary(ModelBuilder& b, Op op, OpOptions opts, TT type, std::vector<int32_t> shape_a,
            std::vector<int32_t> shape_b, QuantParams qa, QuantParams qb, QuantParams qo) {
  int a = b.AddInput("a", type, shape_a, qa);
  int c = b.AddInput("b", type, shape_b, qb);
  std::vector<int32_t> out_shape = shape_a.size() >= shape_b.size() ? shape_a : shape_b;
  for (size_t i = 0; i < out_shape.size() && shape_a.size() == shape_b.size(); ++i) {
    out_shape[i] = std::max(shape_a[i], shape_b[i]);
  }
  int y = b.AddTensor("y", type, out_shape, qo);
  b.AddOperator(op, {a, c}, {y}, std::move(opts));
  b.AddOutput("y", y);
}

const Registrar kAddInt8DifferentScales("add_i8", [](ModelBuilder& b, std::mt19937&) {
  Binary(b, Op::ADD, AddOpts(), TT::INT8, {1, 8, 8, 16}, {1, 8, 8, 16}, Q(0.05f, -3), Q(0.11f, 7),
         Q(0.13f, 2));
});
const Registrar kAddFloatRelu6("add_f32", [](ModelBuilder& b, std::mt19937&) {
  Binary(b, Op::ADD, AddOpts(Act::RELU6), TT::FLOAT32, {2, 5, 7}, {2, 5, 7}, {}, {}, {});
});
const Registrar kSubInt8("sub_i8", [](ModelBuilder& b, std::mt19937&) {
  Binary(b, Op::SUB, SubOpts(), TT::INT8, {1, 6, 6, 8}, {1, 6, 6, 8}, Q(0.07f, 4), Q(0.03f, -9),
         Q(0.09f, -1));
});
const Registrar kSubFloat("sub_f32", [](ModelBuilder& b, std::mt19937&) {
  Binary(b, Op::SUB, SubOpts(), TT::FLOAT32, {3, 11}, {3, 11}, {}, {}, {});
});
const Registrar kMulInt8("mul_i8", [](ModelBuilder& b, std::mt19937&) {
  Binary(b, Op::MUL, MulOpts(), TT::INT8, {1, 6, 6, 8}, {1, 6, 6, 8}, Q(0.04f, 3), Q(0.06f, -2),
         Q(0.02f, 5));
});
const Registrar kMulFloat("mul_f32", [](ModelBuilder& b, std::mt19937&) {
  Binary(b, Op::MUL, MulOpts(), TT::FLOAT32, {3, 11}, {3, 11}, {}, {}, {});
});

// --- convolutions ----------------------------------------------------------

struct ConvCase {
  int h, w, cin, cout, k, stride;
  Padding padding;
  Act act;
};

int OutSize(int in, int k, int stride, Padding p) {
  return p == Padding::SAME ? (in + stride - 1) / stride : (in - k + stride) / stride;
}

void Conv(ModelBuilder& b, std::mt19937& rng, const ConvCase& c, TT type, bool depthwise) {
  const float in_scale = 0.02f;
  const int oh = OutSize(c.h, c.k, c.stride, c.padding);
  const int ow = OutSize(c.w, c.k, c.stride, c.padding);
  const int cout = depthwise ? c.cin : c.cout;
  std::vector<int32_t> wshape = depthwise ? std::vector<int32_t>{1, c.k, c.k, c.cin}
                                          : std::vector<int32_t>{c.cout, c.k, c.k, c.cin};
  size_t wn = 1;
  for (int32_t d : wshape) wn *= static_cast<size_t>(d);
  int x, w, bias, y;
  if (type == TT::INT8) {
    QuantParams wq = PerChannel(cout, depthwise ? 3 : 0, 0.002f, 0.01f);
    QuantParams bq = wq;
    bq.axis = 0;
    for (float& s : bq.scale) s *= in_scale;
    x = b.AddInput("x", type, {1, c.h, c.w, c.cin}, Q(in_scale, -5));
    w = b.AddConstant("w", type, wshape, RandI8(wn, rng), wq);
    bias = b.AddConstant("bias", TT::INT32, {cout},
                         RandI32(static_cast<size_t>(cout), rng, -3000, 3000), bq);
    y = b.AddTensor("y", type, {1, oh, ow, cout}, Q(0.03f, -10));
  } else {
    x = b.AddInput("x", type, {1, c.h, c.w, c.cin});
    w = b.AddConstant("w", type, wshape, RandF(wn, rng));
    bias = b.AddConstant("bias", type, {cout}, RandF(static_cast<size_t>(cout), rng));
    y = b.AddTensor("y", type, {1, oh, ow, cout});
  }
  if (depthwise) {
    b.AddOperator(Op::DEPTHWISE_CONV_2D, {x, w, bias}, {y},
                  DepthwiseConv2DOpts(c.padding, c.stride, c.stride, 1, c.act));
  } else {
    b.AddOperator(Op::CONV_2D, {x, w, bias}, {y}, Conv2DOpts(c.padding, c.stride, c.stride, c.act));
  }
  b.AddOutput("y", y);
}

const Registrar kConv2DInt8SameStride2Relu6("conv_i8_same", [](ModelBuilder& b, std::mt19937& rng) {
  Conv(b, rng, {9, 9, 8, 16, 3, 2, Padding::SAME, Act::RELU6}, TT::INT8, false);
});
const Registrar kConv2DInt8Valid("conv_i8_valid", [](ModelBuilder& b, std::mt19937& rng) {
  Conv(b, rng, {8, 7, 5, 6, 3, 1, Padding::VALID, Act::NONE}, TT::INT8, false);
});
const Registrar kConv2DInt8Pointwise("conv_i8_1x1", [](ModelBuilder& b, std::mt19937& rng) {
  Conv(b, rng, {6, 6, 16, 24, 1, 1, Padding::SAME, Act::NONE}, TT::INT8, false);
});
const Registrar kConv2DFloat("conv_f32", [](ModelBuilder& b, std::mt19937& rng) {
  Conv(b, rng, {9, 9, 4, 8, 3, 2, Padding::SAME, Act::RELU6}, TT::FLOAT32, false);
});
const Registrar kDepthwiseInt8SameRelu6("dw_i8_same", [](ModelBuilder& b, std::mt19937& rng) {
  Conv(b, rng, {8, 8, 16, 0, 3, 1, Padding::SAME, Act::RELU6}, TT::INT8, true);
});
const Registrar kDepthwiseInt8ValidStride2("dw_i8_valid", [](ModelBuilder& b, std::mt19937& rng) {
  Conv(b, rng, {9, 9, 8, 0, 3, 2, Padding::VALID, Act::NONE}, TT::INT8, true);
});
const Registrar kDepthwiseFloat("dw_f32", [](ModelBuilder& b, std::mt19937& rng) {
  Conv(b, rng, {8, 8, 6, 0, 3, 2, Padding::SAME, Act::NONE}, TT::FLOAT32, true);
});

const Registrar kFullyConnectedInt8("fc_i8", [](ModelBuilder& b, std::mt19937& rng) {
  const float in_scale = 0.05f, w_scale = 0.004f;
  int x = b.AddInput("x", TT::INT8, {2, 32}, Q(in_scale, 3));
  int w = b.AddConstant("w", TT::INT8, {10, 32}, RandI8(320, rng), Q(w_scale, 0));
  int bias = b.AddConstant("bias", TT::INT32, {10}, RandI32(10, rng, -2000, 2000),
                           Q(in_scale * w_scale, 0));
  int y = b.AddTensor("y", TT::INT8, {2, 10}, Q(0.1f, -4));
  b.AddOperator(Op::FULLY_CONNECTED, {x, w, bias}, {y}, FullyConnectedOpts(Act::RELU));
  b.AddOutput("y", y);
});
const Registrar kFullyConnectedFloat("fc_f32", [](ModelBuilder& b, std::mt19937& rng) {
  int x = b.AddInput("x", TT::FLOAT32, {3, 20});
  int w = b.AddConstant("w", TT::FLOAT32, {7, 20}, RandF(140, rng));
  int bias = b.AddConstant("bias", TT::FLOAT32, {7}, RandF(7, rng));
  int y = b.AddTensor("y", TT::FLOAT32, {3, 7});
  b.AddOperator(Op::FULLY_CONNECTED, {x, w, bias}, {y}, FullyConnectedOpts());
  b.AddOutput("y", y);
});

// --- reductions, pooling, shape ops -------------------------------------

void Mean(ModelBuilder& b, TT type, QuantParams qi, QuantParams qo) {
  int x = b.AddInput("x", type, {1, 7, 7, 64}, qi);
  int axes = b.AddConstant("axes", TT::INT32, {2}, std::vector<int32_t>{1, 2});
  int y = b.AddTensor("y", type, {1, 1, 1, 64}, qo);
  b.AddOperator(Op::MEAN, {x, axes}, {y}, ReducerOpts(true));
  b.AddOutput("y", y);
}
const Registrar kMeanInt8SameScale("mean_i8_same", [](ModelBuilder& b, std::mt19937&) {
  Mean(b, TT::INT8, Q(0.02f, -128), Q(0.02f, -128));
});
const Registrar kMeanInt8DifferentScales("mean_i8_diff", [](ModelBuilder& b, std::mt19937&) {
  Mean(b, TT::INT8, Q(0.05f, -7), Q(0.02f, 9));
});
const Registrar kMeanFloat("mean_f32",
                           [](ModelBuilder& b, std::mt19937&) { Mean(b, TT::FLOAT32, {}, {}); });

void Pool(ModelBuilder& b, Op op, TT type, Padding p, int k, int stride) {
  QuantParams q = type == TT::INT8 ? Q(0.04f, -6) : QuantParams{};
  int x = b.AddInput("x", type, {1, 9, 9, 5}, q);
  const int o = OutSize(9, k, stride, p);
  int y = b.AddTensor("y", type, {1, o, o, 5}, q);
  b.AddOperator(op, {x}, {y}, Pool2DOpts(p, stride, stride, k, k));
  b.AddOutput("y", y);
}
const Registrar kMaxPoolInt8("maxpool_i8", [](ModelBuilder& b, std::mt19937&) {
  Pool(b, Op::MAX_POOL_2D, TT::INT8, Padding::SAME, 3, 2);
});
const Registrar kMaxPoolFloat("maxpool_f32", [](ModelBuilder& b, std::mt19937&) {
  Pool(b, Op::MAX_POOL_2D, TT::FLOAT32, Padding::VALID, 2, 2);
});
const Registrar kAveragePoolInt8("avgpool_i8", [](ModelBuilder& b, std::mt19937&) {
  Pool(b, Op::AVERAGE_POOL_2D, TT::INT8, Padding::SAME, 3, 2);
});
const Registrar kAveragePoolFloat("avgpool_f32", [](ModelBuilder& b, std::mt19937&) {
  Pool(b, Op::AVERAGE_POOL_2D, TT::FLOAT32, Padding::SAME, 3, 1);
});

void Pad(ModelBuilder& b, TT type) {
  QuantParams q = type == TT::INT8 ? Q(0.03f, -20) : QuantParams{};
  int x = b.AddInput("x", type, {1, 5, 6, 3}, q);
  int pads = b.AddConstant("pads", TT::INT32, {4, 2}, std::vector<int32_t>{0, 0, 1, 2, 2, 1, 0, 1});
  int y = b.AddTensor("y", type, {1, 8, 9, 4}, q);
  b.AddOperator(Op::PAD, {x, pads}, {y}, PadOpts());
  b.AddOutput("y", y);
}
const Registrar kPadInt8("pad_i8", [](ModelBuilder& b, std::mt19937&) { Pad(b, TT::INT8); });
const Registrar kPadFloat("pad_f32", [](ModelBuilder& b, std::mt19937&) { Pad(b, TT::FLOAT32); });

void Transpose(ModelBuilder& b, TT type) {
  QuantParams q = type == TT::INT8 ? Q(0.03f, 4) : QuantParams{};
  int x = b.AddInput("x", type, {1, 3, 5, 4}, q);
  int perm = b.AddConstant("perm", TT::INT32, {4}, std::vector<int32_t>{0, 2, 3, 1});
  int y = b.AddTensor("y", type, {1, 5, 4, 3}, q);
  b.AddOperator(Op::TRANSPOSE, {x, perm}, {y}, TransposeOpts());
  b.AddOutput("y", y);
}
const Registrar kTransposeInt8("transpose_i8",
                               [](ModelBuilder& b, std::mt19937&) { Transpose(b, TT::INT8); });
const Registrar kTransposeFloat("transpose_f32",
                                [](ModelBuilder& b, std::mt19937&) { Transpose(b, TT::FLOAT32); });

void Concat(ModelBuilder& b, TT type, QuantParams qa, QuantParams qb, QuantParams qo) {
  int a = b.AddInput("a", type, {1, 4, 4, 3}, qa);
  int c = b.AddInput("b", type, {1, 4, 4, 5}, qb);
  int y = b.AddTensor("y", type, {1, 4, 4, 8}, qo);
  b.AddOperator(Op::CONCATENATION, {a, c}, {y}, ConcatenationOpts(3));
  b.AddOutput("y", y);
}
const Registrar kConcatenationInt8SameScale("concat_i8_same", [](ModelBuilder& b, std::mt19937&) {
  Concat(b, TT::INT8, Q(0.05f, 1), Q(0.05f, 1), Q(0.05f, 1));
});
const Registrar kConcatenationInt8DifferentScales(
    "concat_i8_diff",
    [](ModelBuilder& b, std::mt19937&) {
      Concat(b, TT::INT8, Q(0.05f, 1), Q(0.08f, -3), Q(0.07f, 2));
    },
    /*rejects=*/true);
const Registrar kConcatenationFloat("concat_f32", [](ModelBuilder& b, std::mt19937&) {
  Concat(b, TT::FLOAT32, {}, {}, {});
});

const Registrar kQuantize("quantize", [](ModelBuilder& b, std::mt19937&) {
  int x = b.AddInput("x", TT::FLOAT32, {4, 50});
  int y = b.AddTensor("y", TT::INT8, {4, 50}, Q(0.023f, -11));
  b.AddOperator(Op::QUANTIZE, {x}, {y}, QuantizeOpts());
  b.AddOutput("y", y);
});
const Registrar kDequantize("dequantize", [](ModelBuilder& b, std::mt19937&) {
  int x = b.AddInput("x", TT::INT8, {4, 50}, Q(0.023f, -11));
  int y = b.AddTensor("y", TT::FLOAT32, {4, 50});
  b.AddOperator(Op::DEQUANTIZE, {x}, {y}, DequantizeOpts());
  b.AddOutput("y", y);
});

const Registrar kSoftmaxInt8("softmax_i8", [](ModelBuilder& b, std::mt19937&) {
  int x = b.AddInput("x", TT::INT8, {3, 40}, Q(0.1f, -5));
  int y = b.AddTensor("y", TT::INT8, {3, 40}, Q(1.0f / 256.0f, -128));
  b.AddOperator(Op::SOFTMAX, {x}, {y}, SoftmaxOpts(1.0f));
  b.AddOutput("y", y);
});
const Registrar kSoftmaxFloat("softmax_f32", [](ModelBuilder& b, std::mt19937&) {
  int x = b.AddInput("x", TT::FLOAT32, {3, 40});
  int y = b.AddTensor("y", TT::FLOAT32, {3, 40});
  b.AddOperator(Op::SOFTMAX, {x}, {y}, SoftmaxOpts(1.0f));
  b.AddOutput("y", y);
});

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const OpCase& c : Registry()) names.push_back(c.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Ops, LiteRtOps, ::testing::ValuesIn(CaseNames()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

}  // namespace
}  // namespace edgepipe::lite
