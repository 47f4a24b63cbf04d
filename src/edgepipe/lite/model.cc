#include "edgepipe/lite/model.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "flatbuffers/flatbuffers.h"

namespace edgepipe::lite {
namespace {

// Largest tensor we accept: 2^31 - 1 bytes, as TFLite's int32 sizes imply.
constexpr uint64_t kMaxTensorBytes = (uint64_t{1} << 31) - 1;
constexpr int kMaxRank = 8;

template <typename T>
size_t Size(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

std::string TensorLabel(int subgraph, int index, const tflite::Tensor& t) {
  return fmt::format("subgraph {} tensor {} \"{}\"", subgraph, index,
                     t.name() ? t.name()->string_view() : std::string_view());
}

}  // namespace

Result<std::unique_ptr<Model>> Model::Load(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, env));
  return FromBytes(bytes, path);
}

Result<std::unique_ptr<Model>> Model::FromBytes(std::string_view bytes, std::string name) {
  std::unique_ptr<Model> model(new Model());
  model->name_ = std::move(name);
  if (bytes.size() < 8) {
    return Status::DataLoss(
        fmt::format("{}: {} bytes is too short for a TFLite file", model->name_, bytes.size()));
  }
  if (bytes.size() >= (uint64_t{1} << 32)) {
    return Status::Unimplemented(
        fmt::format("{}: files of 4 GiB or more are not supported", model->name_));
  }
  const size_t alloc = (bytes.size() + 15) / 16 * 16;
  model->data_.reset(static_cast<uint8_t*>(std::aligned_alloc(16, alloc)));
  if (!model->data_) return Status::Internal(fmt::format("{}: out of memory", model->name_));
  std::memcpy(model->data_.get(), bytes.data(), bytes.size());
  model->size_ = bytes.size();
  if (!tflite::ModelBufferHasIdentifier(model->data_.get())) {
    return Status::DataLoss(fmt::format("{}: file identifier is \"{}\", expected \"TFL3\"",
                                        model->name_, std::string(bytes.substr(4, 4))));
  }
  // The verifier checks offsets, sizes, alignment and nesting of everything in
  // our schema subset (unknown fields and union members are skipped).
  flatbuffers::Verifier verifier(model->data_.get(), model->size_,
                                 /*max_depth=*/64, /*max_tables=*/10'000'000);
  if (!tflite::VerifyModelBuffer(verifier)) {
    return Status::DataLoss(
        fmt::format("{}: not a valid TFLite flatbuffer (verifier failed)", model->name_));
  }
  model->root_ = tflite::GetModel(model->data_.get());
  RETURN_IF_ERROR(model->Check());
  return model;
}

Status Model::Check() {
  const auto& m = *root_;
  const auto err = [&](std::string msg) {
    return Status::InvalidArgument(fmt::format("{}: {}", name_, msg));
  };
  // Buffers: inline data, or external [offset, offset + size) in the file.
  const size_t num_buffers = Size(m.buffers());
  buffers_.resize(num_buffers);
  for (size_t b = 0; b < num_buffers; ++b) {
    const tflite::Buffer* buf = m.buffers()->Get(static_cast<flatbuffers::uoffset_t>(b));
    if (buf->offset() > 1) {
      if (buf->data() && buf->data()->size() > 0) {
        return err(fmt::format("buffer {} has both inline data and an offset", b));
      }
      if (buf->offset() > size_ || buf->size() > size_ - buf->offset()) {
        return err(fmt::format("buffer {}: external data [{}, +{}) lies outside the {}-byte file",
                               b, buf->offset(), buf->size(), size_));
      }
      buffers_[b] = {data_.get() + buf->offset(), static_cast<size_t>(buf->size())};
    } else if (buf->data()) {
      buffers_[b] = {buf->data()->data(), buf->data()->size()};
    }
  }
  // Operator codes.
  const size_t num_codes = Size(m.operator_codes());
  const size_t num_subgraphs = Size(m.subgraphs());
  if (num_subgraphs == 0) return err("model has no subgraphs");
  quant_.resize(num_subgraphs);
  for (size_t s = 0; s < num_subgraphs; ++s) {
    const tflite::SubGraph& sg = *m.subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(s));
    const int si = static_cast<int>(s);
    const size_t num_tensors = Size(sg.tensors());
    auto& quant = quant_[s];
    quant.resize(num_tensors);
    for (size_t t = 0; t < num_tensors; ++t) {
      const tflite::Tensor& tensor = *sg.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
      const std::string label = TensorLabel(si, static_cast<int>(t), tensor);
      if (tensor.sparsity()) {
        return Status::Unimplemented(
            fmt::format("{}: {}: sparse tensors are not supported", name_, label));
      }
      const size_t rank = Size(tensor.shape());
      if (rank > kMaxRank) {
        return err(fmt::format("{}: rank {} exceeds the maximum {}", label, rank, kMaxRank));
      }
      uint64_t elements = 1;
      bool overflow = false;
      for (size_t d = 0; d < rank; ++d) {
        const int32_t dim = tensor.shape()->Get(static_cast<flatbuffers::uoffset_t>(d));
        if (dim < 0) {
          return err(fmt::format("{}: dimension {} is {}, must be >= 0", label, d, dim));
        }
        elements *= static_cast<uint64_t>(dim);
        if (elements > kMaxTensorBytes) overflow = true;
      }
      const size_t elem_size = TensorTypeSize(tensor.type());
      if (overflow || elements * std::max<size_t>(elem_size, 1) > kMaxTensorBytes) {
        return err(fmt::format("{}: shape overflows: more than {} bytes", label, kMaxTensorBytes));
      }
      if (tensor.buffer() >= num_buffers && !(tensor.buffer() == 0 && num_buffers == 0)) {
        return err(fmt::format("{}: buffer index {} out of range [0, {})", label, tensor.buffer(),
                               num_buffers));
      }
      if (num_buffers > 0) {
        const auto data = buffers_[tensor.buffer()];
        if (!data.empty()) {
          if (elem_size == 0) {
            return Status::Unimplemented(fmt::format("{}: {}: constant data of type {}", name_,
                                                     label, TensorTypeName(tensor.type())));
          }
          if (data.size() != elements * elem_size) {
            return err(
                fmt::format("{}: buffer {} holds {} bytes, shape x {} needs {} x {} = {} bytes",
                            label, tensor.buffer(), data.size(), TensorTypeName(tensor.type()),
                            elements, elem_size, elements * elem_size));
          }
          if (reinterpret_cast<uintptr_t>(data.data()) % elem_size != 0) {
            return err(fmt::format("{}: buffer {} data is not aligned to its {}-byte elements",
                                   label, tensor.buffer(), elem_size));
          }
        }
      }
      // Quantization: scale and zero_point of equal length; several entries
      // mean per-axis quantization along quantized_dimension, which must be
      // an axis of the tensor with that many slices.
      if (const tflite::QuantizationParameters* q = tensor.quantization()) {
        const size_t n = Size(q->scale());
        const size_t nz = Size(q->zero_point());
        if (n > 0 || nz > 0) {
          if (n != nz) {
            return err(
                fmt::format("{}: quantization has {} scales but {} zero points", label, n, nz));
          }
          QuantParams& qp = quant[t];
          qp.axis = q->quantized_dimension();
          for (size_t i = 0; i < n; ++i) {
            const float scale = q->scale()->Get(static_cast<flatbuffers::uoffset_t>(i));
            const int64_t zp = q->zero_point()->Get(static_cast<flatbuffers::uoffset_t>(i));
            if (!std::isfinite(scale) || scale < 0) {
              return err(fmt::format("{}: quantization scale[{}] = {} must be finite and >= 0",
                                     label, i, scale));
            }
            if (zp < std::numeric_limits<int32_t>::min() ||
                zp > std::numeric_limits<int32_t>::max()) {
              return err(
                  fmt::format("{}: zero_point[{}] = {} does not fit in int32", label, i, zp));
            }
            // A zero point is a value of the quantized type (TFLite's rule;
            // kernels add it to values of that type without overflow checks).
            int64_t zp_min = std::numeric_limits<int32_t>::min();
            int64_t zp_max = std::numeric_limits<int32_t>::max();
            if (tensor.type() == tflite::TensorType::INT8) {
              zp_min = -128, zp_max = 127;
            } else if (tensor.type() == tflite::TensorType::UINT8) {
              zp_min = 0, zp_max = 255;
            } else if (tensor.type() == tflite::TensorType::INT16) {
              zp_min = -32768, zp_max = 32767;
            }
            if (zp < zp_min || zp > zp_max) {
              return err(fmt::format("{}: zero_point[{}] = {} is outside the {} range [{}, {}]",
                                     label, i, zp, TensorTypeName(tensor.type()), zp_min, zp_max));
            }
            qp.scale.push_back(scale);
            qp.zero_point.push_back(static_cast<int32_t>(zp));
          }
          if (n > 1) {
            if (qp.axis < 0 || static_cast<size_t>(qp.axis) >= rank) {
              return err(
                  fmt::format("{}: per-axis quantization ({} scales) names quantized_dimension {}, "
                              "which is not an axis of this rank-{} tensor",
                              label, n, qp.axis, rank));
            }
            const int32_t slices =
                tensor.shape()->Get(static_cast<flatbuffers::uoffset_t>(qp.axis));
            if (static_cast<size_t>(slices) != n) {
              return err(fmt::format(
                  "{}: per-axis quantization has {} scales but dimension {} has size {}", label, n,
                  qp.axis, slices));
            }
          }
        }
      }
    }
    const auto check_index_list = [&](const flatbuffers::Vector<int32_t>* list,
                                      const std::string& what, bool allow_omitted) -> Status {
      for (size_t i = 0; i < Size(list); ++i) {
        const int32_t idx = list->Get(static_cast<flatbuffers::uoffset_t>(i));
        if (allow_omitted && idx == -1) continue;
        if (idx < 0 || static_cast<size_t>(idx) >= num_tensors) {
          return err(fmt::format("{} {}: tensor index {} out of range [0, {})", what, i, idx,
                                 num_tensors));
        }
      }
      return Status::Ok();
    };
    RETURN_IF_ERROR(check_index_list(sg.inputs(), fmt::format("subgraph {} input", s), false));
    RETURN_IF_ERROR(check_index_list(sg.outputs(), fmt::format("subgraph {} output", s), false));
    for (size_t o = 0; o < Size(sg.operators()); ++o) {
      const tflite::Operator& op = *sg.operators()->Get(static_cast<flatbuffers::uoffset_t>(o));
      if (op.opcode_index() >= num_codes) {
        return err(fmt::format("subgraph {} operator {}: opcode_index {} out of range [0, {})", s,
                               o, op.opcode_index(), num_codes));
      }
      RETURN_IF_ERROR(
          check_index_list(op.inputs(), fmt::format("subgraph {} operator {} input", s, o), true));
      RETURN_IF_ERROR(check_index_list(op.outputs(),
                                       fmt::format("subgraph {} operator {} output", s, o), false));
    }
  }
  // Signatures.
  for (size_t i = 0; i < Size(m.signature_defs()); ++i) {
    const tflite::SignatureDef& sig =
        *m.signature_defs()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (sig.subgraph_index() >= num_subgraphs) {
      return err(fmt::format("signature {}: subgraph_index {} out of range [0, {})", i,
                             sig.subgraph_index(), num_subgraphs));
    }
    const size_t num_tensors = Size(m.subgraphs()->Get(sig.subgraph_index())->tensors());
    for (const auto* list : {sig.inputs(), sig.outputs()}) {
      for (size_t j = 0; j < Size(list); ++j) {
        const tflite::TensorMap& tm = *list->Get(static_cast<flatbuffers::uoffset_t>(j));
        if (tm.tensor_index() >= num_tensors) {
          return err(fmt::format("signature {} tensor \"{}\": tensor_index {} out of range [0, {})",
                                 i, tm.name() ? tm.name()->string_view() : "", tm.tensor_index(),
                                 num_tensors));
        }
      }
    }
  }
  return Status::Ok();
}

const tflite::SubGraph& Model::subgraph(int i) const {
  return *root_->subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(i));
}

std::span<const uint8_t> Model::TensorData(int subgraph, int tensor) const {
  const auto* t = root_->subgraphs()
                      ->Get(static_cast<flatbuffers::uoffset_t>(subgraph))
                      ->tensors()
                      ->Get(static_cast<flatbuffers::uoffset_t>(tensor));
  if (buffers_.empty()) return {};
  return buffers_[t->buffer()];
}

const QuantParams& Model::TensorQuant(int subgraph, int tensor) const {
  return quant_[static_cast<size_t>(subgraph)][static_cast<size_t>(tensor)];
}

int32_t Model::OpCode(int subgraph, int op) const {
  const auto* o = root_->subgraphs()
                      ->Get(static_cast<flatbuffers::uoffset_t>(subgraph))
                      ->operators()
                      ->Get(static_cast<flatbuffers::uoffset_t>(op));
  return EffectiveBuiltinCode(*root_->operator_codes()->Get(o->opcode_index()));
}

}  // namespace edgepipe::lite
