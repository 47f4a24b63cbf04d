// libFuzzer target for the TFLite loader and everything that trusts it:
// Model::FromBytes -> InspectText/InspectJson -> Interpreter::Create ->
// AllocateTensors -> Invoke (and a batch resize + re-plan + Invoke).
// Any input must give OK or an error whose message names the file; a crash,
// a sanitizer report or an unnamed error is a finding.
//
// Build and run: `make fuzz` (cmake --preset fuzz; clang with
// -fsanitize=fuzzer,address,undefined), seeded with the fixtures.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/lite/inspect.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model.h"

namespace {

using edgepipe::Status;
using edgepipe::lite::Interpreter;
using edgepipe::lite::Model;

constexpr const char* kName = "fuzz.tflite";
// Models needing more activation memory than this are loaded and planned
// but not run: the fuzzer hunts bugs, not slow big inputs.
constexpr size_t kMaxRunBytes = size_t{64} << 20;

void Check(const Status& s) {
  if (!s.ok() && s.message().find(kName) == std::string::npos) {
    std::fprintf(stderr, "error without the file name: %s\n", s.ToString().c_str());
    __builtin_trap();
  }
}

// Deterministic input bytes: small finite floats, any integers.
void FillInputs(Interpreter& in) {
  for (int i = 0; i < in.num_inputs(); ++i) {
    auto data = in.mutable_input_data(i);
    if (!data.ok()) return Check(data.status());
    if (in.input(i).type == tflite::TensorType::FLOAT32) {
      for (size_t k = 0; k + 4 <= data->size(); k += 4) {
        const float v = static_cast<float>(static_cast<int>(k % 17) - 8) * 0.125f;
        std::memcpy(data->data() + k, &v, 4);
      }
    } else {
      for (size_t k = 0; k < data->size(); ++k) (*data)[k] = static_cast<uint8_t>(k * 131 + 7);
    }
  }
}

size_t ActivationBytes(const Interpreter& in) {
  size_t n = 0;
  for (const auto& t : in.tensors()) n += t.is_const ? 0 : t.bytes;
  return n;
}

void AllocateAndRun(Interpreter& in) {
  if (ActivationBytes(in) > kMaxRunBytes) return;
  const Status alloc = in.AllocateTensors();
  Check(alloc);
  if (!alloc.ok() || in.arena_bytes() > kMaxRunBytes || ActivationBytes(in) > kMaxRunBytes) return;
  FillInputs(in);
  Check(in.Invoke());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const edgepipe::lite::OpResolver resolver = edgepipe::lite::BuiltinOpResolver();
  auto model = Model::FromBytes(std::string_view(reinterpret_cast<const char*>(data), size), kName);
  if (!model.ok()) {
    Check(model.status());
    return 0;
  }
  std::shared_ptr<const Model> shared(std::move(*model));
  // Inspection must cope with anything the loader accepts.
  if (edgepipe::lite::InspectText(*shared).empty()) __builtin_trap();
  if (edgepipe::lite::InspectJson(*shared).empty()) __builtin_trap();
  auto in = Interpreter::Create(shared, resolver);
  if (!in.ok()) {
    Check(in.status());
    return 0;
  }
  AllocateAndRun(**in);
  // Batch 2 on the first input (re-plans the arena).
  if ((*in)->num_inputs() > 0 && (*in)->input(0).rank() > 0) {
    std::vector<int32_t> shape = (*in)->input(0).shape;
    shape[0] = 2;
    const Status s = (*in)->ResizeInput(0, shape);
    if (s.ok()) AllocateAndRun(**in);
  }
  return 0;
}
