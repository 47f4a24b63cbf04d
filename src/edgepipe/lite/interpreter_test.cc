#include "edgepipe/lite/interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "edgepipe/lite/elementwise.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

std::unique_ptr<Interpreter> Make(const std::string& file) {
  auto m = Model::Load(Fixture(file));
  EXPECT_TRUE(m.ok()) << m.status();
  auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), BuiltinOpResolver());
  EXPECT_TRUE(in.ok()) << in.status();
  return std::move(*in);
}

// hello_world float computed by hand from the weights in the file: three
// FULLY_CONNECTED layers with their fused activations. Independent of the
// kernels and of the LiteRT harness.
TEST(InterpreterTest, HelloWorldFloatMatchesHandComputation) {
  auto m2 = Model::Load(Fixture("hello_world_float.tflite"));
  ASSERT_TRUE(m2.ok());
  std::shared_ptr<const Model> shared(std::move(*m2));
  auto interp = Interpreter::Create(shared, BuiltinOpResolver());
  ASSERT_TRUE(interp.ok());
  ASSERT_TRUE((*interp)->AllocateTensors().ok());
  const tflite::SubGraph& g = shared->subgraph(0);
  const auto* fb_ops = g.operators();
  const auto* fb_tensors = g.tensors();
  ASSERT_NE(fb_ops, nullptr);
  ASSERT_NE(fb_tensors, nullptr);
  for (float x : {-2.5f, 0.0f, 0.7f, 1.5f, 3.1f}) {
    std::vector<float> act = {x};
    for (uint32_t o = 0; o < fb_ops->size(); ++o) {
      const tflite::Operator& op = *fb_ops->Get(o);
      const auto* op_inputs = op.inputs();
      const auto* fc_opts = op.builtin_options_as_FullyConnectedOptions();
      ASSERT_NE(op_inputs, nullptr);
      ASSERT_NE(fc_opts, nullptr);
      ASSERT_EQ(shared->OpCode(0, static_cast<int>(o)),
                static_cast<int32_t>(tflite::BuiltinOperator::FULLY_CONNECTED));
      const int w = op_inputs->Get(1);
      const int b = op_inputs->Get(2);
      const auto* wshape = fb_tensors->Get(static_cast<uint32_t>(w))->shape();
      ASSERT_NE(wshape, nullptr);
      const int units = wshape->Get(0);
      const int depth = wshape->Get(1);
      ASSERT_EQ(depth, static_cast<int>(act.size()));
      const auto* wd = reinterpret_cast<const float*>(shared->TensorData(0, w).data());
      const auto* bd = reinterpret_cast<const float*>(shared->TensorData(0, b).data());
      std::vector<float> next(static_cast<size_t>(units));
      for (int u = 0; u < units; ++u) {
        double acc = bd[u];
        for (int d = 0; d < depth; ++d)
          acc += static_cast<double>(wd[u * depth + d]) * act[static_cast<size_t>(d)];
        if (fc_opts->fused_activation_function() == tflite::ActivationFunctionType::RELU) {
          acc = std::max(acc, 0.0);
        }
        next[static_cast<size_t>(u)] = static_cast<float>(acc);
      }
      act = next;
    }
    ASSERT_EQ(act.size(), 1u);
    auto span = (*interp)->mutable_input_data(0);
    ASSERT_TRUE(span.ok());
    std::memcpy(span->data(), &x, sizeof x);
    ASSERT_TRUE((*interp)->Invoke().ok());
    const float ours = (*interp)->output(0).as<float>()[0];
    EXPECT_NEAR(ours, act[0], 1e-5 * std::max(1.0f, std::fabs(act[0]))) << "x=" << x;
    // The model approximates sin(x) on [0, 2 pi].
    if (x > 0 && x < 6.28f) {
      EXPECT_NEAR(ours, std::sin(x), 0.2) << "x=" << x;
    }
  }
}

TEST(InterpreterTest, LifecycleMisuseIsFailedPrecondition) {
  auto in = Make("hello_world_int8.tflite");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->state(), Interpreter::State::kCreated);
  EXPECT_EQ(in->Invoke().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(in->mutable_input_data(0).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(in->AllocateTensors().ok());
  EXPECT_EQ(in->state(), Interpreter::State::kAllocated);
  EXPECT_EQ(in->Invoke().code(), StatusCode::kFailedPrecondition);  // input not set
  ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({1, 1}, std::vector<int8_t>{3})).ok());
  EXPECT_EQ(in->state(), Interpreter::State::kInvokable);
  EXPECT_TRUE(in->Invoke().ok());
  // Wrong dtype or shape is refused.
  EXPECT_FALSE(in->SetInput(0, *Array::FromVector<float>({1, 1}, std::vector<float>{3})).ok());
  ASSERT_TRUE(in->ResizeInput(0, {4, 1}).ok());
  EXPECT_EQ(in->state(), Interpreter::State::kCreated);
  EXPECT_EQ(in->Invoke().code(), StatusCode::kFailedPrecondition);
}

TEST(InterpreterTest, ResizeBatchReplansAndKeepsPerRowResults) {
  auto in = Make("hello_world_int8.tflite");
  ASSERT_TRUE(in->AllocateTensors().ok());
  const size_t arena1 = in->arena_bytes();
  std::vector<int8_t> xs = {-128, -50, 0, 90};
  std::vector<int8_t> single;
  for (int8_t x : xs) {
    ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({1, 1}, std::vector<int8_t>{x})).ok());
    ASSERT_TRUE(in->Invoke().ok());
    single.push_back(in->output(0).as<int8_t>()[0]);
  }
  ASSERT_TRUE(in->ResizeInput(0, {4, 1}).ok());
  ASSERT_TRUE(in->AllocateTensors().ok());
  EXPECT_GE(in->arena_bytes(), arena1);  // 64-byte aligned: tiny tensors may still fit
  ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({4, 1}, xs)).ok());
  ASSERT_TRUE(in->Invoke().ok());
  ASSERT_EQ(in->output(0).shape, (std::vector<int32_t>{4, 1}));
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(in->output(0).as<int8_t>()[i], single[i]);
}

// Large batch, then a smaller one, then the large one again: the arena block
// is allocated once (same address, capacity of the largest plan) and every
// row's result matches the single-example run.
TEST(InterpreterTest, SmallerBatchReusesTheArena) {
  auto in = Make("hello_world_int8.tflite");
  std::vector<int8_t> single;
  ASSERT_TRUE(in->AllocateTensors().ok());
  for (int x = -128; x < 128; x += 3) {
    ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>(
                                    {1, 1}, std::vector<int8_t>{static_cast<int8_t>(x)}))
                    .ok());
    ASSERT_TRUE(in->Invoke().ok());
    single.push_back(in->output(0).as<int8_t>()[0]);
  }
  const auto run = [&](int32_t n) {
    ASSERT_TRUE(in->ResizeInput(0, {n, 1}).ok());
    ASSERT_TRUE(in->AllocateTensors().ok());
    std::vector<int8_t> xs;
    for (int i = 0; i < n; ++i) xs.push_back(static_cast<int8_t>(-128 + 3 * i));
    ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({n, 1}, xs)).ok());
    ASSERT_TRUE(in->Invoke().ok());
    ASSERT_EQ(in->output(0).shape, (std::vector<int32_t>{n, 1}));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(in->output(0).as<int8_t>()[i], single[static_cast<size_t>(i)]) << "n " << n;
    }
  };
  // The arena's start: the planner puts the largest buffer at offset 0.
  const auto arena_start = [&] {
    const uint8_t* lo = nullptr;
    for (const Tensor& t : in->tensors()) {
      if (!t.is_const && t.data != nullptr && (lo == nullptr || t.data < lo)) lo = t.data;
    }
    return lo;
  };
  run(80);
  const uint8_t* block = arena_start();
  const size_t big = in->arena_bytes();
  const size_t capacity = in->arena_capacity();
  EXPECT_GE(capacity, big);
  run(5);
  EXPECT_LT(in->arena_bytes(), big);
  EXPECT_EQ(in->arena_capacity(), capacity);
  EXPECT_EQ(arena_start(), block);
  run(80);
  EXPECT_EQ(in->arena_capacity(), capacity);
  EXPECT_EQ(arena_start(), block);
  run(85);  // larger: grows
  EXPECT_GE(in->arena_capacity(), in->arena_bytes());
}

TEST(InterpreterTest, ArenaSharesMemoryBetweenDisjointLifetimes) {
  auto in = Make("mobilenet_v2_quantized_1x3x224x224.tflite");
  ASSERT_TRUE(in->AllocateTensors().ok());
  EXPECT_LT(in->arena_bytes() * 4, in->unshared_bytes());
}

TEST(InterpreterTest, UnknownOpNamesOpAndIndex) {
  OpResolver partial;
  partial.Add(tflite::BuiltinOperator::RESHAPE, RegisterReshape());
  auto m = Model::Load(Fixture("micro_speech_quantized.tflite"));
  ASSERT_TRUE(m.ok());
  auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), partial);
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(in.status().message().find("operator 1 is DEPTHWISE_CONV_2D"), std::string::npos)
      << in.status();
}

// ---- PAD folding (InterpreterOptions::fold_pad) and the PAD kernel ----

std::unique_ptr<Interpreter> FromBytes(const std::string& bytes, bool fold_pad) {
  auto m = Model::FromBytes(bytes, "test.tflite");
  EXPECT_TRUE(m.ok()) << m.status();
  InterpreterOptions o;
  o.fold_pad = fold_pad;
  auto in =
      Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), BuiltinOpResolver(), o);
  EXPECT_TRUE(in.ok()) << in.status();
  return std::move(*in);
}

// Runs `bytes` on input bytes `x` with and without folding; returns the
// outputs (all of them, concatenated) and the number of folded ops.
std::pair<std::vector<uint8_t>, int> RunPadGraph(const std::string& bytes,
                                                 const std::vector<uint8_t>& x, bool fold) {
  auto in = FromBytes(bytes, fold);
  if (!in) return {};
  EXPECT_TRUE(in->AllocateTensors().ok());
  auto dst = in->mutable_input_data(0);
  EXPECT_TRUE(dst.ok());
  EXPECT_EQ(dst->size(), x.size());
  std::memcpy(dst->data(), x.data(), x.size());
  const Status st = in->Invoke();
  EXPECT_TRUE(st.ok()) << st;
  std::vector<uint8_t> out;
  for (int i = 0; i < in->num_outputs(); ++i) {
    out.insert(out.end(), in->output(i).data, in->output(i).data + in->output(i).bytes);
  }
  return {out, in->num_folded_ops()};
}

// Random int8/uint8 graphs PAD -> CONV_2D / DEPTHWISE_CONV_2D (sometimes
// not foldable: a second reader of the PAD's output, a channel padding, a
// PAD output that is a graph output): folded and unfolded runs must give
// the same bytes, and the fold must happen exactly when allowed. The
// unfolded run goes through the PAD kernel, so this checks it as well.
TEST(InterpreterTest, FoldedPadMatchesUnfoldedOnRandomGraphs) {
  using TT = tflite::TensorType;
  using Op = tflite::BuiltinOperator;
  std::mt19937 rng(77);
  int folded_cases = 0, unfolded_cases = 0;
  for (int iter = 0; iter < 40; ++iter) {
    const bool u8 = iter % 3 == 2;
    const TT type = u8 ? TT::UINT8 : TT::INT8;
    const bool depthwise = (rng() & 1) != 0;
    const int n = 1 + static_cast<int>(rng() % 2), h = 1 + static_cast<int>(rng() % 9),
              w = 1 + static_cast<int>(rng() % 9), c = 1 + static_cast<int>(rng() % 20);
    const int pt = static_cast<int>(rng() % 3), pb = static_cast<int>(rng() % 3),
              pl = static_cast<int>(rng() % 3), pr = static_cast<int>(rng() % 3);
    const int blocker = static_cast<int>(rng() % 6);  // 0: 2nd reader, 1: channel pad, 2: output
    const int k = 1 + static_cast<int>(rng() % 3), stride = 1 + static_cast<int>(rng() % 2);
    const bool same = (rng() & 1) != 0;
    const int ph = h + pt + pb, pw = w + pl + pr;
    if (!same && (ph < k || pw < k)) continue;
    const int zp = u8 ? static_cast<int>(rng() % 256) : static_cast<int>(rng() % 256) - 128;
    const QuantParams aq{{0.05f}, {zp}, 0};
    ModelBuilder b;
    const int x = b.AddInput("x", type, {n, h, w, c}, aq);
    const int pc = blocker == 1 ? 1 : 0;
    const int pads =
        b.AddConstant("pads", TT::INT32, {4, 2}, std::vector<int32_t>{0, 0, pt, pb, pl, pr, 0, pc});
    const int padded = b.AddTensor("padded", type, {n, ph, pw, c + pc}, aq);
    b.AddOperator(Op::PAD, {x, pads}, {padded}, PadOpts());
    const int cin = c + pc;
    const int cout = depthwise ? cin : 1 + static_cast<int>(rng() % 12);
    std::uniform_int_distribution<int> wd(u8 ? 0 : -127, u8 ? 255 : 127);
    std::vector<uint8_t> wbytes(static_cast<size_t>(cout) * k * k * (depthwise ? 1 : cin));
    for (uint8_t& v : wbytes) v = static_cast<uint8_t>(wd(rng));
    const bool per_channel = !u8 && (rng() & 1) != 0;
    QuantParams wq;
    for (int i = 0; i < (per_channel ? cout : 1); ++i) {
      wq.scale.push_back(0.01f + 0.001f * static_cast<float>(i % 7));
      wq.zero_point.push_back(u8 ? 128 : 0);
    }
    wq.axis = depthwise ? 3 : 0;
    const int wt = b.AddConstant(
        "w", type,
        depthwise ? std::vector<int32_t>{1, k, k, cout} : std::vector<int32_t>{cout, k, k, cin},
        std::span<const uint8_t>(wbytes), wq);
    std::vector<int32_t> bias(static_cast<size_t>(cout));
    for (int32_t& v : bias) v = static_cast<int32_t>(rng() % 2001) - 1000;
    QuantParams bq;
    for (float s : wq.scale) {
      bq.scale.push_back(s * 0.05f);
      bq.zero_point.push_back(0);
    }
    const int bt = b.AddConstant("b", TT::INT32, {cout}, bias, bq);
    const int oh = same ? (ph + stride - 1) / stride : (ph - k + stride) / stride;
    const int ow = same ? (pw + stride - 1) / stride : (pw - k + stride) / stride;
    const QuantParams oq{{0.1f + 0.05f * static_cast<float>(iter % 4)}, {u8 ? 120 : -3}, 0};
    const int y = b.AddTensor("y", type, {n, oh, ow, cout}, oq);
    const tflite::Padding padding = same ? tflite::Padding::SAME : tflite::Padding::VALID;
    const auto act = (rng() & 1) != 0 ? tflite::ActivationFunctionType::RELU6
                                      : tflite::ActivationFunctionType::NONE;
    if (depthwise) {
      b.AddOperator(Op::DEPTHWISE_CONV_2D, {padded, wt, bt}, {y},
                    DepthwiseConv2DOpts(padding, stride, stride, 1, act));
    } else {
      b.AddOperator(Op::CONV_2D, {padded, wt, bt}, {y}, Conv2DOpts(padding, stride, stride, act));
    }
    b.AddOutput("y", y);
    if (blocker == 0) {
      const int y2 = b.AddTensor("y2", type, {n, ph, pw, cin}, aq);
      b.AddOperator(Op::RELU, {padded}, {y2});
      b.AddOutput("y2", y2);
    } else if (blocker == 2) {
      b.AddOutput("padded", padded);
    }
    auto bytes = b.Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    std::vector<uint8_t> input(static_cast<size_t>(n) * h * w * c);
    for (uint8_t& v : input) v = static_cast<uint8_t>(rng());
    const auto [unfolded, n0] = RunPadGraph(*bytes, input, false);
    const auto [folded, n1] = RunPadGraph(*bytes, input, true);
    EXPECT_EQ(n0, 0);
    const bool foldable = blocker > 2;
    EXPECT_EQ(n1, foldable ? 1 : 0) << "iter " << iter << " blocker " << blocker;
    (foldable ? folded_cases : unfolded_cases)++;
    ASSERT_EQ(folded.size(), unfolded.size());
    ASSERT_FALSE(folded.empty());
    for (size_t i = 0; i < folded.size(); ++i) {
      ASSERT_EQ(folded[i], unfolded[i])
          << "iter " << iter << " byte " << i << " pads " << pt << "," << pb << "," << pl << ","
          << pr << " k " << k << " stride " << stride << " same " << same;
    }
  }
  EXPECT_GT(folded_cases, 10);
  EXPECT_GT(unfolded_cases, 5);
}

// The PAD kernel against an index-by-index loop: random ranks 1-4,
// paddings on any axes (some none), int8 (pad = zero point) and float32.
TEST(InterpreterTest, PadKernelMatchesIndexLoop) {
  using TT = tflite::TensorType;
  std::mt19937 rng(5);
  for (int iter = 0; iter < 30; ++iter) {
    const bool f32 = iter % 2 == 1;
    const int rank = 1 + static_cast<int>(rng() % 4);
    std::vector<int32_t> in_shape, out_shape, pads;
    for (int d = 0; d < rank; ++d) {
      in_shape.push_back(1 + static_cast<int>(rng() % 5));
      const bool padded = rng() % 3 != 0;
      pads.push_back(padded ? static_cast<int32_t>(rng() % 3) : 0);
      pads.push_back(padded ? static_cast<int32_t>(rng() % 3) : 0);
      out_shape.push_back(in_shape.back() + pads[pads.size() - 2] + pads.back());
    }
    const int zp = static_cast<int>(rng() % 200) - 100;
    const QuantParams q = f32 ? QuantParams{} : QuantParams{{0.5f}, {zp}, 0};
    const TT type = f32 ? TT::FLOAT32 : TT::INT8;
    ModelBuilder b;
    const int x = b.AddInput("x", type, in_shape, q);
    const int p = b.AddConstant("p", TT::INT32, {rank, 2}, pads);
    const int y = b.AddTensor("y", type, out_shape, q);
    b.AddOperator(tflite::BuiltinOperator::PAD, {x, p}, {y}, PadOpts());
    b.AddOutput("y", y);
    auto bytes = b.Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    const size_t elem = f32 ? 4 : 1;
    size_t in_n = 1, out_n = 1;
    for (int d = 0; d < rank; ++d) {
      in_n *= static_cast<size_t>(in_shape[static_cast<size_t>(d)]);
      out_n *= static_cast<size_t>(out_shape[static_cast<size_t>(d)]);
    }
    std::vector<uint8_t> input(in_n * elem);
    for (size_t i = 0; i < in_n; ++i) {
      if (f32) {
        const float v = static_cast<float>(rng() % 1000) - 500.0f;
        std::memcpy(&input[i * 4], &v, 4);
      } else {
        input[i] = static_cast<uint8_t>(rng());
      }
    }
    std::vector<uint8_t> want(out_n * elem);
    for (size_t o = 0; o < out_n; ++o) {
      size_t rem = o, src = 0, stride = 1;
      bool inside = true;
      for (int d = rank - 1; d >= 0; --d) {
        const size_t od = static_cast<size_t>(out_shape[static_cast<size_t>(d)]);
        const int64_t i = static_cast<int64_t>(rem % od) - pads[static_cast<size_t>(2 * d)];
        rem /= od;
        if (i < 0 || i >= in_shape[static_cast<size_t>(d)]) inside = false;
        src += static_cast<size_t>(std::max<int64_t>(i, 0)) * stride;
        stride *= static_cast<size_t>(in_shape[static_cast<size_t>(d)]);
      }
      if (inside) {
        std::memcpy(&want[o * elem], &input[src * elem], elem);
      } else if (f32) {
        std::memset(&want[o * elem], 0, elem);
      } else {
        want[o] = static_cast<uint8_t>(static_cast<int8_t>(zp));
      }
    }
    const auto [got, folded] = RunPadGraph(*bytes, input, true);
    EXPECT_EQ(folded, 0);
    ASSERT_EQ(got, want) << "iter " << iter << " rank " << rank;
  }
}

// The TRANSPOSE kernel against an index-by-index loop: random ranks 1-5,
// random permutations, 1- and 4-byte elements.
TEST(InterpreterTest, TransposeKernelMatchesIndexLoop) {
  using TT = tflite::TensorType;
  std::mt19937 rng(9);
  for (int iter = 0; iter < 30; ++iter) {
    const bool f32 = iter % 2 == 1;
    const int rank = 1 + static_cast<int>(rng() % 5);
    std::vector<int32_t> in_shape, perm(static_cast<size_t>(rank)), out_shape;
    for (int d = 0; d < rank; ++d) in_shape.push_back(1 + static_cast<int>(rng() % 5));
    for (int d = 0; d < rank; ++d) perm[static_cast<size_t>(d)] = d;
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int d = 0; d < rank; ++d) {
      out_shape.push_back(in_shape[static_cast<size_t>(perm[static_cast<size_t>(d)])]);
    }
    const QuantParams q = f32 ? QuantParams{} : QuantParams{{0.5f}, {3}, 0};
    const TT type = f32 ? TT::FLOAT32 : TT::INT8;
    ModelBuilder b;
    const int x = b.AddInput("x", type, in_shape, q);
    const int p = b.AddConstant("perm", TT::INT32, {rank}, perm);
    const int y = b.AddTensor("y", type, out_shape, q);
    b.AddOperator(tflite::BuiltinOperator::TRANSPOSE, {x, p}, {y}, TransposeOpts());
    b.AddOutput("y", y);
    auto bytes = b.Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    const size_t elem = f32 ? 4 : 1;
    size_t n = 1;
    for (int32_t d : in_shape) n *= static_cast<size_t>(d);
    std::vector<uint8_t> input(n * elem);
    for (uint8_t& v : input) v = static_cast<uint8_t>(rng());
    std::vector<uint8_t> want(n * elem);
    for (size_t o = 0; o < n; ++o) {
      // Output index -> input index: input axis perm[d] = output coordinate d.
      std::vector<size_t> in_idx(static_cast<size_t>(rank));
      size_t rem = o;
      for (int d = rank - 1; d >= 0; --d) {
        const size_t od = static_cast<size_t>(out_shape[static_cast<size_t>(d)]);
        in_idx[static_cast<size_t>(perm[static_cast<size_t>(d)])] = rem % od;
        rem /= od;
      }
      size_t src = 0;
      for (int d = 0; d < rank; ++d) {
        src = src * static_cast<size_t>(in_shape[static_cast<size_t>(d)]) +
              in_idx[static_cast<size_t>(d)];
      }
      std::memcpy(&want[o * elem], &input[src * elem], elem);
    }
    const auto [got, folded] = RunPadGraph(*bytes, input, true);
    EXPECT_EQ(folded, 0);
    ASSERT_EQ(got, want) << "iter " << iter << " rank " << rank;
  }
}

// Same-shape int8/uint8 ADD and SUB (the vector loops, each path this CPU
// has) against the same op with input 1 given one rank less, which
// broadcasts and so runs the scalar reference loop.
TEST(InterpreterTest, SameShapeQuantAddSubEveryPathMatchesBroadcastLoop) {
  using TT = tflite::TensorType;
  std::mt19937 rng(21);
  std::printf("same-shape ADD/SUB paths 0..%d run\n", ElementwiseQuantBestPath());
  int nontrivial = 0;
  for (int iter = 0; iter < 24; ++iter) {
    const bool u8 = iter % 3 == 2;
    const bool sub = iter % 4 == 3;
    const TT type = u8 ? TT::UINT8 : TT::INT8;
    const int h = 1 + static_cast<int>(rng() % 6), w = 1 + static_cast<int>(rng() % 7),
              c = 1 + static_cast<int>(rng() % 40);
    std::uniform_real_distribution<float> scale(0.01f, 0.5f);
    const auto zp = [&] {
      return u8 ? static_cast<int>(rng() % 256) : static_cast<int>(rng() % 256) - 128;
    };
    const QuantParams qa{{scale(rng)}, {zp()}, 0}, qb{{scale(rng)}, {zp()}, 0},
        qo{{scale(rng)}, {zp()}, 0};
    const auto act = iter % 2 == 0 ? tflite::ActivationFunctionType::RELU6
                                   : tflite::ActivationFunctionType::NONE;
    std::vector<uint8_t> zbytes(static_cast<size_t>(h * w * c));
    for (uint8_t& v : zbytes) v = static_cast<uint8_t>(rng());
    std::string graphs[2];
    for (int g = 0; g < 2; ++g) {
      ModelBuilder b;
      const int x = b.AddInput("x", type, {1, h, w, c}, qa);
      const int z = b.AddConstant(
          "z", type, g == 0 ? std::vector<int32_t>{1, h, w, c} : std::vector<int32_t>{h, w, c},
          zbytes, qb);
      const int y = b.AddTensor("y", type, {1, h, w, c}, qo);
      b.AddOperator(sub ? tflite::BuiltinOperator::SUB : tflite::BuiltinOperator::ADD, {x, z}, {y},
                    sub ? SubOpts(act) : AddOpts(act));
      b.AddOutput("y", y);
      auto bytes = b.Finish();
      ASSERT_TRUE(bytes.ok()) << bytes.status();
      graphs[g] = *bytes;
    }
    std::vector<uint8_t> input(static_cast<size_t>(h * w * c));
    for (uint8_t& v : input) v = static_cast<uint8_t>(rng());
    const auto [want, f0] = RunPadGraph(graphs[1], input, true);
    ASSERT_FALSE(want.empty());
    for (int path = 0; path <= ElementwiseQuantBestPath(); ++path) {
      SetElementwiseQuantPathForTesting(path);
      const auto [got, f1] = RunPadGraph(graphs[0], input, true);
      SetElementwiseQuantPathForTesting(-1);
      ASSERT_EQ(got, want) << "path " << path << " iter " << iter << " " << h << "x" << w << "x"
                           << c;
    }
    for (uint8_t v : want) nontrivial += v != want[0];
  }
  EXPECT_GT(nontrivial, 200);
}

// Float and int32 ADD / SUB / MUL on random broadcasting shapes (an input of
// lower rank, size-1 axes anywhere, the innermost axis included) equal an
// explicit numpy-style index loop, bit for bit (one rounding per element).
TEST(InterpreterTest, FloatAndInt32BroadcastMatchIndexLoop) {
  using TT = tflite::TensorType;
  using Op = tflite::BuiltinOperator;
  std::mt19937 rng(5);
  int broadcast_inner = 0, broadcast_outer = 0;
  for (int iter = 0; iter < 60; ++iter) {
    const bool i32 = iter % 5 == 4;
    const TT type = i32 ? TT::INT32 : TT::FLOAT32;
    const int kind = iter % 3;  // ADD, SUB, MUL
    const int rank = 1 + static_cast<int>(rng() % 4);
    std::vector<int32_t> shape(static_cast<size_t>(rank));
    for (int32_t& d : shape) d = 1 + static_cast<int32_t>(rng() % 6);
    // Each input keeps or drops (size 1) each axis; input 1 may lose leading axes.
    std::vector<int32_t> sa = shape, sb = shape;
    for (int d = 0; d < rank; ++d) {
      if (rng() % 3 == 0) sa[static_cast<size_t>(d)] = 1;
      if (rng() % 3 == 0) sb[static_cast<size_t>(d)] = 1;
    }
    const int drop = static_cast<int>(rng() % static_cast<unsigned>(rank));
    sb.erase(sb.begin(), sb.begin() + drop);
    std::vector<int32_t> so(static_cast<size_t>(rank));
    for (int d = 0; d < rank; ++d) {
      const int32_t db = d < drop ? 1 : sb[static_cast<size_t>(d - drop)];
      so[static_cast<size_t>(d)] = std::max(sa[static_cast<size_t>(d)], db);
    }
    const auto count = [](const std::vector<int32_t>& v) {
      int64_t n = 1;
      for (int32_t d : v) n *= d;
      return n;
    };
    const int64_t na = count(sa), nb = count(sb), no = count(so);
    const int32_t inner_a = sa.back(), inner_b = drop == rank ? 1 : sb.back();
    (inner_a != inner_b ? broadcast_inner : broadcast_outer)++;
    std::vector<float> fa(static_cast<size_t>(na)), fb(static_cast<size_t>(nb));
    std::vector<int32_t> ia(static_cast<size_t>(na)), ib(static_cast<size_t>(nb));
    std::uniform_real_distribution<float> u(-4.0f, 4.0f);
    for (size_t i = 0; i < fa.size(); ++i) {
      fa[i] = u(rng);
      ia[i] = static_cast<int32_t>(rng());
    }
    for (size_t i = 0; i < fb.size(); ++i) {
      fb[i] = u(rng);
      ib[i] = static_cast<int32_t>(rng());
    }
    const auto act = !i32 && iter % 2 == 0 ? tflite::ActivationFunctionType::RELU6
                                           : tflite::ActivationFunctionType::NONE;
    ModelBuilder b;
    const int x = b.AddInput("x", type, sa);
    const int z = i32 ? b.AddConstant("z", type, sb, ib) : b.AddConstant("z", type, sb, fb);
    const int y = b.AddTensor("y", type, so);
    const Op op = kind == 0 ? Op::ADD : kind == 1 ? Op::SUB : Op::MUL;
    b.AddOperator(op, {x, z}, {y},
                  kind == 0   ? AddOpts(act)
                  : kind == 1 ? SubOpts(act)
                              : MulOpts(act));
    b.AddOutput("y", y);
    auto bytes = b.Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    std::vector<uint8_t> input(static_cast<size_t>(na) * 4);
    std::memcpy(input.data(), i32 ? static_cast<const void*>(ia.data()) : fa.data(), input.size());
    const auto [got, folded] = RunPadGraph(*bytes, input, false);
    ASSERT_EQ(got.size(), static_cast<size_t>(no) * 4) << "iter " << iter;
    // The index loop: output index -> each input's index (size-1 axes read 0).
    std::vector<int32_t> idx(static_cast<size_t>(rank), 0);
    for (int64_t o = 0; o < no; ++o) {
      int64_t ka = 0, kb = 0;
      for (int d = 0; d < rank; ++d) {
        const size_t du = static_cast<size_t>(d);
        ka = ka * sa[du] + (sa[du] == 1 ? 0 : idx[du]);
        if (d >= drop) {
          const int32_t db = sb[static_cast<size_t>(d - drop)];
          kb = kb * db + (db == 1 ? 0 : idx[du]);
        }
      }
      if (i32) {
        const auto ua = static_cast<uint32_t>(ia[static_cast<size_t>(ka)]);
        const auto ub = static_cast<uint32_t>(ib[static_cast<size_t>(kb)]);
        const auto want = static_cast<int32_t>(kind == 0 ? ua + ub : kind == 1 ? ua - ub : ua * ub);
        int32_t v;
        std::memcpy(&v, got.data() + o * 4, 4);
        ASSERT_EQ(v, want) << "iter " << iter << " element " << o;
      } else {
        const float a = fa[static_cast<size_t>(ka)], c = fb[static_cast<size_t>(kb)];
        float want = kind == 0 ? a + c : kind == 1 ? a - c : a * c;
        if (act == tflite::ActivationFunctionType::RELU6) want = std::clamp(want, 0.0f, 6.0f);
        float v;
        std::memcpy(&v, got.data() + o * 4, 4);
        ASSERT_EQ(v, want) << "iter " << iter << " element " << o;
      }
      for (int d = rank - 1; d >= 0; --d) {
        if (++idx[static_cast<size_t>(d)] < so[static_cast<size_t>(d)]) break;
        idx[static_cast<size_t>(d)] = 0;
      }
    }
  }
  EXPECT_GT(broadcast_inner, 5);
  EXPECT_GT(broadcast_outer, 5);
}

// mobilenet_v2 (its stride-2 convs read PADs): every PAD folds, outputs equal.
TEST(InterpreterTest, MobilenetFoldedPadsMatchUnfolded) {
  auto m = Model::Load(Fixture("mobilenet_v2_quantized_1x3x224x224.tflite"));
  ASSERT_TRUE(m.ok()) << m.status();
  std::shared_ptr<const Model> shared(std::move(*m));
  std::vector<std::vector<uint8_t>> outs;
  int folded = 0, pads = 0;
  for (bool fold : {false, true}) {
    InterpreterOptions o;
    o.fold_pad = fold;
    auto in = Interpreter::Create(shared, BuiltinOpResolver(), o);
    ASSERT_TRUE(in.ok()) << in.status();
    ASSERT_TRUE((*in)->AllocateTensors().ok());
    auto x = (*in)->mutable_input_data(0);
    ASSERT_TRUE(x.ok());
    std::mt19937 rng(3);
    for (uint8_t& v : *x) v = static_cast<uint8_t>(rng());
    ASSERT_TRUE((*in)->Invoke().ok());
    const Tensor& y = (*in)->output(0);
    outs.emplace_back(y.data, y.data + y.bytes);
    if (fold) {
      folded = (*in)->num_folded_ops();
      for (int i = 0; i < (*in)->num_ops(); ++i) pads += (*in)->op_name(i) == "PAD";
    }
  }
  EXPECT_GT(pads, 0);
  EXPECT_EQ(folded, pads);
  EXPECT_EQ(outs[0], outs[1]);
}

// Known values of the fixed-point helpers (computed from their definitions).
TEST(QuantMathTest, KnownValues) {
  int32_t q = 0;
  int shift = 0;
  QuantizeMultiplier(0.5, &q, &shift);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 0);
  QuantizeMultiplier(1.0, &q, &shift);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 1);
  EXPECT_EQ(RoundingDivideByPOT(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(RoundingDivideByPOT(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(RoundingDivideByPOT(-4, 1), -2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(100, 1 << 30, 0), 50);
  // exp(0) = 1; exp(-1) in Q0.31 from a Q5.26 input.
  EXPECT_EQ(ExpOnNegativeValues(0, 5), INT32_MAX);
  EXPECT_NEAR(ExpOnNegativeValues(-(1 << 26), 5) / 2147483648.0, std::exp(-1.0), 1e-6);
  EXPECT_NEAR(ExpOnNegativeValues(-(5 << 26) / 2, 5) / 2147483648.0, std::exp(-2.5), 1e-6);
  // 1 / (1 + x) for x = 0.5.
  EXPECT_NEAR(OneOverOnePlusX(1 << 30) / 2147483648.0, 1 / 1.5, 1e-6);
  // The exp(-2^k) constants of the barrel shifter are round(exp(-2^k) * 2^31).
  for (int k = -2; k <= 4; ++k) {
    const int32_t a = -static_cast<int32_t>(std::ldexp(1.0, 26 + k));
    EXPECT_NEAR(ExpOnNegativeValues(a, 5) / 2147483648.0, std::exp(-std::ldexp(1.0, k)), 1e-6) << k;
  }
}

}  // namespace
}  // namespace edgepipe::lite
