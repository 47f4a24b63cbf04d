// A verified, read-only TFLite model held in memory.
//
// Loading never trusts the file: the FlatBuffers verifier checks the
// structure, then our own checks (model.cc, "rules") check what the verifier
// cannot: indices in range, buffer sizes against shape x element size, shapes
// that overflow, quantization arrays that match their tensor, misaligned
// constant data. After a successful load every accessor below may be used
// without further checks.
#ifndef EDGEPIPE_LITE_MODEL_H_
#define EDGEPIPE_LITE_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/lite/schema.h"

namespace edgepipe::lite {

// Affine quantization of one tensor: real = scale * (q - zero_point), per
// tensor (one entry) or per slice along `axis` (one entry per slice).
struct QuantParams {
  std::vector<float> scale;
  std::vector<int32_t> zero_point;
  int axis = 0;

  bool empty() const { return scale.empty(); }
  bool per_tensor() const { return scale.size() == 1; }
};

class Model {
 public:
  // Verifies `bytes` (the whole .tflite file); `name` is used in messages.
  // Errors: DataLoss for a malformed file, InvalidArgument for a well-formed
  // file that breaks a rule, Unimplemented for features we do not support
  // (sparse tensors).
  static Result<std::unique_ptr<Model>> FromBytes(std::string_view bytes, std::string name);
  // Reads and verifies the file at `path` through `env`.
  static Result<std::unique_ptr<Model>> Load(const std::string& path, Env* env = Env::Default());

  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const std::string& name() const { return name_; }
  // The flatbuffer root; valid for the lifetime of this Model.
  const tflite::Model& fb() const { return *root_; }
  // Subgraph i (0 <= i < number of subgraphs, at least 1).
  const tflite::SubGraph& subgraph(int i) const;
  size_t file_size() const { return size_; }
  const uint8_t* file_data() const { return data_.get(); }

  // Constant data of tensor `tensor` of subgraph `subgraph` (empty when the
  // tensor has no data). Aligned to its element size.
  std::span<const uint8_t> TensorData(int subgraph, int tensor) const;
  // Quantization of a tensor (empty when it has none).
  const QuantParams& TensorQuant(int subgraph, int tensor) const;
  // Operator code (EffectiveBuiltinCode) of operator `op` of `subgraph`.
  int32_t OpCode(int subgraph, int op) const;

 private:
  Model() = default;
  Status Check();

  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::string name_;
  std::unique_ptr<uint8_t, Free> data_;  // 16-byte aligned copy of the file
  size_t size_ = 0;
  const tflite::Model* root_ = nullptr;
  // Per buffer: its data span (inline or external).
  std::vector<std::span<const uint8_t>> buffers_;
  // Per subgraph, per tensor.
  std::vector<std::vector<QuantParams>> quant_;
};

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_MODEL_H_
