// Bad input for the loader, the interpreter's graph checks and the kernels'
// Prepare: hand-made malformed models (one rule broken at a time), every
// truncation of the fixtures, and seeded random byte flips of each fixture's
// graph tables. Whatever the bytes, load -> create -> allocate -> invoke
// must return an error naming the file (and the tensor/op, value and rule for
// the rules below) and never crash; run it under ASan/UBSan too.
//
// What model_test.cc already covers is not repeated: person_detect's per-axis
// rule, the identifier check, truncations of hello_world_int8 in steps of 7,
// 300 random 4-byte corruptions of micro_speech (load only).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model.h"

namespace edgepipe::lite {
namespace {

namespace fb = flatbuffers;
using ::testing::AllOf;
using ::testing::HasSubstr;
using tflite::BuiltinOperator;
using tflite::TensorType;

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

// ---- a model writer that checks nothing, so that tests can break any rule.

struct RawTensor {
  std::vector<int32_t> shape;
  TensorType type = TensorType::FLOAT32;
  uint32_t buffer = 0;
  std::string name;
  std::vector<float> scale;
  std::vector<int64_t> zero_point;
  int quantized_dimension = 0;
};
struct RawBuffer {
  std::vector<uint8_t> data;
  uint64_t offset = 0;  // > 1: external
  uint64_t size = 0;
};
struct RawOp {
  uint32_t opcode_index = 0;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};
struct RawSignatureEntry {
  std::string name;
  uint32_t tensor = 0;
};
struct RawModel {
  std::vector<int32_t> opcodes;  // builtin codes
  std::vector<RawBuffer> buffers;
  std::vector<RawTensor> tensors;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  std::vector<RawOp> ops;
  bool has_subgraph = true;
  bool has_signature = true;
  uint32_t signature_subgraph = 0;
  std::vector<RawSignatureEntry> sig_inputs;
  std::vector<RawSignatureEntry> sig_outputs;

  std::string Write() const {
    fb::FlatBufferBuilder b;
    std::vector<fb::Offset<tflite::Buffer>> bufs;
    for (const RawBuffer& buf : buffers) {
      b.ForceVectorAlignment(buf.data.size(), 1, 16);
      auto data = buf.data.empty() ? 0 : b.CreateVector(buf.data);
      bufs.push_back(tflite::CreateBuffer(b, data, buf.offset, buf.size));
    }
    std::vector<fb::Offset<tflite::Tensor>> ts;
    for (const RawTensor& t : tensors) {
      fb::Offset<tflite::QuantizationParameters> q = 0;
      if (!t.scale.empty() || !t.zero_point.empty()) {
        q = tflite::CreateQuantizationParameters(
            b, 0, 0, b.CreateVector(t.scale), b.CreateVector(t.zero_point),
            tflite::QuantizationDetails::NONE, 0, t.quantized_dimension);
      }
      ts.push_back(tflite::CreateTensor(b, b.CreateVector(t.shape), t.type, t.buffer,
                                        b.CreateString(t.name), q));
    }
    std::vector<fb::Offset<tflite::Operator>> os;
    for (const RawOp& o : ops) {
      auto opts = tflite::CreateFullyConnectedOptions(b).Union();
      os.push_back(tflite::CreateOperator(b, o.opcode_index, b.CreateVector(o.inputs),
                                          b.CreateVector(o.outputs),
                                          tflite::BuiltinOptions::FullyConnectedOptions, opts));
    }
    std::vector<fb::Offset<tflite::OperatorCode>> codes;
    for (int32_t c : opcodes) {
      codes.push_back(tflite::CreateOperatorCode(b, static_cast<int8_t>(std::min(c, 127)), 0, 1,
                                                 static_cast<BuiltinOperator>(c)));
    }
    std::vector<fb::Offset<tflite::SubGraph>> subgraphs;
    if (has_subgraph) {
      subgraphs.push_back(tflite::CreateSubGraph(b, b.CreateVector(ts), b.CreateVector(inputs),
                                                 b.CreateVector(outputs), b.CreateVector(os),
                                                 b.CreateString("main")));
    }
    std::vector<fb::Offset<tflite::SignatureDef>> sigs;
    if (has_signature) {
      const auto maps = [&](const std::vector<RawSignatureEntry>& entries) {
        std::vector<fb::Offset<tflite::TensorMap>> v;
        for (const auto& e : entries) {
          v.push_back(tflite::CreateTensorMap(b, b.CreateString(e.name), e.tensor));
        }
        return b.CreateVector(v);
      };
      auto in = maps(sig_inputs);
      auto out = maps(sig_outputs);
      sigs.push_back(tflite::CreateSignatureDef(b, in, out, b.CreateString("serving_default"),
                                                signature_subgraph));
    }
    auto model = tflite::CreateModel(b, 3, b.CreateVector(codes), b.CreateVector(subgraphs),
                                     b.CreateString("raw"), b.CreateVector(bufs), 0, 0,
                                     b.CreateVector(sigs));
    tflite::FinishModelBuffer(b, model);
    return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  }
};

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

// y[1,3] = FULLY_CONNECTED(x[1,4], w[3,4], b[3]): a valid model each test
// breaks in one place.
RawModel ValidFc() {
  RawModel m;
  m.opcodes = {static_cast<int32_t>(BuiltinOperator::FULLY_CONNECTED)};
  m.buffers.resize(3);
  m.buffers[1].data = Bytes(std::vector<float>{1, 2, 3, 4, 0, 1, 0, 1, -1, 0, 0, 0});
  m.buffers[2].data = Bytes(std::vector<float>{0.5f, -0.5f, 2});
  const auto tensor = [](std::vector<int32_t> shape, uint32_t buffer, std::string name) {
    RawTensor t;
    t.shape = std::move(shape);
    t.buffer = buffer;
    t.name = std::move(name);
    return t;
  };
  m.tensors = {tensor({1, 4}, 0, "x"), tensor({3, 4}, 1, "w"), tensor({3}, 2, "b"),
               tensor({1, 3}, 0, "y")};
  m.inputs = {0};
  m.outputs = {3};
  m.ops = {{0, {0, 1, 2}, {3}}};
  m.sig_inputs = {{"x", 0}};
  m.sig_outputs = {{"y", 3}};
  return m;
}

// The first failing stage's status of load -> create -> allocate -> set
// inputs -> invoke, or OK. Inputs get `fill` bytes (float inputs 0.25).
Status RunAll(std::string_view bytes, const std::string& name, bool invoke = true) {
  ASSIGN_OR_RETURN(std::unique_ptr<Model> m, Model::FromBytes(bytes, name));
  std::shared_ptr<const Model> shared(std::move(m));
  ASSIGN_OR_RETURN(auto in, Interpreter::Create(shared, BuiltinOpResolver()));
  RETURN_IF_ERROR(in->AllocateTensors());
  if (!invoke) return Status::Ok();
  for (int i = 0; i < in->num_inputs(); ++i) {
    ASSIGN_OR_RETURN(std::span<uint8_t> data, in->mutable_input_data(i));
    if (in->input(i).type == TensorType::FLOAT32) {
      const float v = 0.25f;
      for (size_t k = 0; k + 4 <= data.size(); k += 4) std::memcpy(data.data() + k, &v, 4);
    } else {
      for (size_t k = 0; k < data.size(); ++k) data[k] = static_cast<uint8_t>(k * 37);
    }
  }
  return in->Invoke();
}

TEST(ModelFuzzTest, ValidRawModelRunsAndComputesWxPlusB) {
  const std::string bytes = ValidFc().Write();
  auto m = Model::FromBytes(bytes, "fc.tflite");
  ASSERT_TRUE(m.ok()) << m.status();
  auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), BuiltinOpResolver());
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_TRUE((*in)->AllocateTensors().ok());
  auto x = Array::FromVector<float>({1, 4}, std::vector<float>{1, 1, 2, 3});
  ASSERT_TRUE(x.ok());
  ASSERT_TRUE((*in)->SetInput(0, *x).ok());
  ASSERT_TRUE((*in)->Invoke().ok());
  const float* y = (*in)->output(0).as<float>();
  EXPECT_FLOAT_EQ(y[0], 1 + 2 + 6 + 12 + 0.5f);
  EXPECT_FLOAT_EQ(y[1], 0 + 1 + 0 + 3 - 0.5f);
  EXPECT_FLOAT_EQ(y[2], -1 + 2);
}

// One broken rule per case: the stage that must reject it and the words the
// message must contain (file, thing, value, rule).
struct BrokenCase {
  std::string what;
  RawModel model;
  StatusCode code;  // kOk: any error code
  std::vector<std::string> words;
};

std::vector<BrokenCase> BrokenCases() {
  std::vector<BrokenCase> cases;
  const auto add = [&](std::string what, auto mutate, StatusCode code,
                       std::vector<std::string> words) {
    RawModel m = ValidFc();
    mutate(m);
    cases.push_back({std::move(what), std::move(m), code, std::move(words)});
  };
  const auto kInvalid = StatusCode::kInvalidArgument;
  add("op input index", [](RawModel& m) { m.ops[0].inputs[1] = 7; }, kInvalid,
      {"operator 0 input 1", "tensor index 7", "out of range [0, 4)"});
  add("op output index", [](RawModel& m) { m.ops[0].outputs[0] = -3; }, kInvalid,
      {"operator 0 output 0", "tensor index -3"});
  add("subgraph input index", [](RawModel& m) { m.inputs = {4}; }, kInvalid,
      {"subgraph 0 input 0", "tensor index 4"});
  add("subgraph output index", [](RawModel& m) { m.outputs = {99}; }, kInvalid,
      {"subgraph 0 output 0", "tensor index 99"});
  add("signature tensor index", [](RawModel& m) { m.sig_outputs[0].tensor = 12; }, kInvalid,
      {"signature 0 tensor \"y\"", "tensor_index 12"});
  add("signature subgraph", [](RawModel& m) { m.signature_subgraph = 2; }, kInvalid,
      {"subgraph_index 2", "out of range [0, 1)"});
  add("buffer index", [](RawModel& m) { m.tensors[1].buffer = 9; }, kInvalid,
      {"tensor 1 \"w\"", "buffer index 9", "out of range [0, 3)"});
  add("opcode index", [](RawModel& m) { m.ops[0].opcode_index = 5; }, kInvalid,
      {"operator 0", "opcode_index 5", "out of range [0, 1)"});
  add("buffer smaller than tensor", [](RawModel& m) { m.buffers[1].data.resize(44); }, kInvalid,
      {"tensor 1 \"w\"", "holds 44 bytes", "needs", "48 bytes"});
  add("buffer larger than tensor", [](RawModel& m) { m.buffers[2].data.resize(16); }, kInvalid,
      {"tensor 2 \"b\"", "holds 16 bytes", "12 bytes"});
  add("byte size overflows",
      [](RawModel& m) {
        m.tensors[3].shape = {65536, 65536, 65536};
      },
      kInvalid, {"tensor 3 \"y\"", "shape overflows"});
  add("byte size overflows int32 only by element size",
      [](RawModel& m) {
        m.tensors[3].shape = {1 << 28, 2};
      },
      kInvalid, {"tensor 3 \"y\"", "shape overflows", "2147483647 bytes"});
  add("negative dimension",
      [](RawModel& m) {
        m.tensors[0].shape = {1, -4};
      },
      kInvalid, {"tensor 0 \"x\"", "dimension 1 is -4", "must be >= 0"});
  add("rank too large", [](RawModel& m) { m.tensors[0].shape.assign(9, 1); }, kInvalid,
      {"tensor 0 \"x\"", "rank 9", "maximum 8"});
  add("scale and zero point counts",
      [](RawModel& m) {
        m.tensors[0].scale = {0.5f, 0.25f};
        m.tensors[0].zero_point = {0};
      },
      kInvalid, {"tensor 0 \"x\"", "2 scales but 1 zero points"});
  add("negative scale",
      [](RawModel& m) {
        m.tensors[0].scale = {-0.5f};
        m.tensors[0].zero_point = {0};
      },
      kInvalid, {"tensor 0 \"x\"", "scale[0] = -0.5", "finite and >= 0"});
  add("NaN scale",
      [](RawModel& m) {
        m.tensors[0].scale = {std::nanf("")};
        m.tensors[0].zero_point = {0};
      },
      kInvalid, {"tensor 0 \"x\"", "finite"});
  add("zero point beyond int32",
      [](RawModel& m) {
        m.tensors[0].scale = {1};
        m.tensors[0].zero_point = {int64_t{1} << 40};
      },
      kInvalid, {"tensor 0 \"x\"", "zero_point[0] = 1099511627776", "int32"});
  add("int8 zero point outside int8",
      [](RawModel& m) {
        m.tensors[0].type = TensorType::INT8;
        m.tensors[0].scale = {0.5f};
        m.tensors[0].zero_point = {-2147483647};
      },
      kInvalid, {"tensor 0 \"x\"", "zero_point[0] = -2147483647", "int8 range [-128, 127]"});
  add("uint8 zero point outside uint8",
      [](RawModel& m) {
        m.tensors[3].type = TensorType::UINT8;
        m.tensors[3].scale = {0.5f};
        m.tensors[3].zero_point = {256};
      },
      kInvalid, {"tensor 3 \"y\"", "zero_point[0] = 256", "uint8 range [0, 255]"});
  add("per-axis count vs dimension",
      [](RawModel& m) {
        m.tensors[1].scale = {1, 1};
        m.tensors[1].zero_point = {0, 0};
      },
      kInvalid, {"tensor 1 \"w\"", "2 scales but dimension 0 has size 3"});
  add("external buffer outside the file",
      [](RawModel& m) {
        m.buffers[2].data.clear();
        m.buffers[2].offset = 1 << 20;
        m.buffers[2].size = 12;
      },
      kInvalid, {"buffer 2", "outside the", "byte file"});
  add("no subgraphs",
      [](RawModel& m) {
        m.has_subgraph = false;
        m.has_signature = false;
      },
      kInvalid, {"no subgraphs"});
  add("constant of a type without element size",
      [](RawModel& m) { m.tensors[2].type = TensorType::STRING; }, StatusCode::kUnimplemented,
      {"tensor 2 \"b\"", "constant data of type"});
  // Interpreter::Create: graph rules and op support.
  add("unsupported op",
      [](RawModel& m) { m.opcodes[0] = static_cast<int32_t>(BuiltinOperator::LSTM); },
      StatusCode::kUnimplemented, {"operator 0 is LSTM", "no registered kernel"});
  add("op code outside the enum", [](RawModel& m) { m.opcodes[0] = 4000; },
      StatusCode::kUnimplemented, {"operator 0", "code 4000", "no registered kernel"});
  add("output never written", [](RawModel& m) { m.ops.clear(); }, kInvalid,
      {"graph output tensor 3 is never written"});
  add("op reads an unwritten tensor", [](RawModel& m) { m.inputs.clear(); }, kInvalid,
      {"operator 0 (FULLY_CONNECTED) reads tensor 0 \"x\" before any op writes it"});
  add("op writes a constant", [](RawModel& m) { m.ops[0].outputs = {1}; }, kInvalid,
      {"operator 0 (FULLY_CONNECTED) writes tensor 1 \"w\"", "constant"});
  add("graph input is a constant",
      [](RawModel& m) {
        m.inputs = {0, 2};
      },
      kInvalid, {"graph input tensor 2 is a constant"});
  // Kernel Prepare (AllocateTensors): types and shapes.
  add("unsupported dtype",
      [](RawModel& m) {
        m.tensors[0].type = TensorType::COMPLEX64;
        m.tensors[3].type = TensorType::COMPLEX64;
      },
      StatusCode::kOk, {"FULLY_CONNECTED", "complex64"});
  add("inner dimensions disagree",
      [](RawModel& m) {
        m.tensors[0].shape = {1, 5};
      },
      StatusCode::kOk, {"operator 0 (FULLY_CONNECTED)", "5", "4"});
  return cases;
}

TEST(ModelFuzzTest, EachBrokenRuleIsRejectedWithANamedError) {
  for (const BrokenCase& c : BrokenCases()) {
    SCOPED_TRACE(c.what);
    const std::string name = "broken.tflite";
    const Status s = RunAll(c.model.Write(), name);
    ASSERT_FALSE(s.ok());
    if (c.code != StatusCode::kOk) {
      EXPECT_EQ(s.code(), c.code) << s;
    }
    EXPECT_THAT(s.message(), HasSubstr(name));
    for (const std::string& w : c.words) EXPECT_THAT(s.message(), HasSubstr(w));
  }
}

// Prefixes of every fixture (see the step below) fail
// to load, with an error naming the file, and nothing crashes.
TEST(ModelFuzzTest, TruncatedFixturesAreRejected) {
  for (const char* f :
       {"hello_world_float.tflite", "hello_world_int8.tflite", "micro_speech_quantized.tflite",
        "keyword_scrambled.tflite", "trained_lstm.tflite", "person_detect.tflite",
        "mobilenet_v2_quantized_1x3x224x224.tflite"}) {
    SCOPED_TRACE(f);
    auto bytes = ReadFileToString(Fixture(f));
    ASSERT_TRUE(bytes.ok());
    // Every length of the 3 KB models; about 2000 lengths of the others (100
    // of the 4 MB mobilenet: each try copies the prefix).
    const size_t n_bytes = bytes->size();
    const size_t step = n_bytes <= 4000 ? 1 : n_bytes / (n_bytes > 1'000'000 ? 100 : 2000);
    int loaded = 0;
    for (size_t n = 0; n < bytes->size(); n += step) {
      const Status s = RunAll(std::string_view(*bytes).substr(0, n), "cut.tflite", false);
      if (s.ok()) {
        ++loaded;
      } else if (s.message().find("cut.tflite") == std::string::npos) {
        ADD_FAILURE() << "length " << n << ": " << s;
      }
    }
    EXPECT_EQ(loaded, 0);
  }
}

// Byte ranges of a model file that hold buffer data.
std::vector<std::pair<size_t, size_t>> BufferRanges(const Model& m) {
  std::vector<std::pair<size_t, size_t>> r;
  const auto* buffers = m.fb().buffers();
  for (uint32_t b = 0; buffers && b < buffers->size(); ++b) {
    const tflite::Buffer* buf = buffers->Get(b);
    if (buf->offset() > 1) {
      r.emplace_back(buf->offset(), buf->offset() + buf->size());
    } else if (buf->data() && buf->data()->size() > 0) {
      const size_t begin = static_cast<size_t>(buf->data()->data() - m.file_data());
      r.emplace_back(begin, begin + buf->data()->size());
    }
  }
  return r;
}

// Seeded random flips of 1-4 bytes in each fixture's graph tables (outside
// the weights, where flips only change numbers): every stage either succeeds
// or fails with an error naming the file; nothing crashes or reads out of
// bounds. The 300M-MAC mobilenet is only invoked when it still loads with
// few flips... and at most a few times (sanitizer builds are slow).
TEST(ModelFuzzTest, RandomByteFlipsOfEachFixtureNeverCrash) {
  std::mt19937 rng(20240611);
  for (const char* f :
       {"hello_world_float.tflite", "hello_world_int8.tflite", "micro_speech_quantized.tflite",
        "keyword_scrambled.tflite", "trained_lstm.tflite", "person_detect.tflite",
        "mobilenet_v2_quantized_1x3x224x224.tflite"}) {
    SCOPED_TRACE(f);
    auto bytes = ReadFileToString(Fixture(f));
    ASSERT_TRUE(bytes.ok());
    auto original = Model::FromBytes(*bytes, f);
    // person_detect is rejected as is; its flips still exercise the loader.
    std::vector<std::pair<size_t, size_t>> weights;
    if (original.ok()) weights = BufferRanges(**original);
    std::vector<size_t> positions;
    for (size_t p = 8; p < bytes->size(); ++p) {
      bool in_weights = false;
      for (const auto& [b, e] : weights) in_weights |= p >= b && p < e;
      if (!in_weights) positions.push_back(p);
    }
    ASSERT_FALSE(positions.empty());
    const bool big = bytes->size() > 1'000'000;
    const int trials = big ? 60 : 400;
    int invoked = 0;
    int ok = 0;
    for (int t = 0; t < trials; ++t) {
      std::string b = *bytes;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) {
        b[positions[rng() % positions.size()]] ^= static_cast<char>(1 + rng() % 255);
      }
      const bool invoke = !big || invoked < 2;
      const Status s = RunAll(b, "flip.tflite", invoke);
      if (s.ok()) {
        ++ok;
        invoked += invoke ? 1 : 0;
      } else {
        EXPECT_THAT(s.message(), HasSubstr("flip.tflite")) << "trial " << t << ": " << s;
      }
    }
    std::printf("%s: %d of %d flipped files ran\n", f, ok, trials);
  }
}

}  // namespace
}  // namespace edgepipe::lite
