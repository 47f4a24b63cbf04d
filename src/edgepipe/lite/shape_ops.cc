// Ops that move data without arithmetic: RESHAPE, TRANSPOSE, PAD,
// CONCATENATION. Quantized inputs and outputs must share quantization.
#include <algorithm>
#include <array>
#include <cstring>

#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {
namespace {

// Reads a constant int32 tensor (shape, permutation, paddings).
Status ConstInts(const KernelContext& ctx, const Tensor* t, std::string_view what,
                 std::vector<int32_t>* out) {
  if (t == nullptr) return ctx.Error("{} is missing", what);
  if (!t->is_const) return ctx.Unsupported("{} \"{}\" must be a constant", what, t->name);
  if (t->type == tflite::TensorType::INT32) {
    out->assign(t->as<int32_t>(), t->as<int32_t>() + t->num_elements());
  } else if (t->type == tflite::TensorType::INT64) {
    out->clear();
    for (int64_t i = 0; i < t->num_elements(); ++i)
      out->push_back(static_cast<int32_t>(t->as<int64_t>()[i]));
  } else {
    return ctx.Error("{} \"{}\" must be int32 or int64", what, t->name);
  }
  return Status::Ok();
}

Status CheckSameQuant(const KernelContext& ctx, const Tensor& in, const Tensor& out) {
  if (in.type != out.type) {
    return ctx.Error("output type {} differs from input type {}", TensorTypeName(out.type),
                     TensorTypeName(in.type));
  }
  if (in.type == tflite::TensorType::INT8 || in.type == tflite::TensorType::UINT8) {
    if (in.scale() != out.scale() || in.zero_point() != out.zero_point()) {
      return ctx.Unsupported("input and output quantization differ ({}, {} vs {}, {})", in.scale(),
                             in.zero_point(), out.scale(), out.zero_point());
    }
  }
  return Status::Ok();
}

// ---- RESHAPE ----
Status PrepareReshape(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(1, 2, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  std::vector<int32_t> shape;
  const Tensor* shape_t = ctx.input(1);
  const auto* opts = ctx.op() ? ctx.op()->builtin_options_as_ReshapeOptions() : nullptr;
  if (shape_t && !(shape_t->rank() == 1 && shape_t->dim(0) == 0 && !shape_t->is_const)) {
    RETURN_IF_ERROR(ConstInts(ctx, shape_t, "shape", &shape));
  } else if (opts && opts->new_shape()) {
    shape.assign(opts->new_shape()->begin(), opts->new_shape()->end());
  } else {
    shape = out->shape;
  }
  int64_t known = 1;
  int unknown = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (unknown >= 0) return ctx.Error("new shape has more than one -1");
      unknown = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return ctx.Error("new shape dimension {} is {}", i, shape[i]);
    } else {
      known *= shape[i];
    }
  }
  const int64_t n = in->num_elements();
  if (unknown >= 0) {
    if (known == 0 || n % known != 0) return ctx.Error("cannot infer -1 for {} elements", n);
    shape[static_cast<size_t>(unknown)] = static_cast<int32_t>(n / known);
    known = n;
  }
  if (known != n) return ctx.Error("new shape has {} elements, input has {}", known, n);
  RETURN_IF_ERROR(CheckSameQuant(ctx, *in, *out));
  return ctx.SetShape(out, std::move(shape));
}

Status EvalCopy(KernelContext& ctx) {
  std::memmove(ctx.output(0)->data, ctx.input(0)->data, ctx.output(0)->bytes);
  return Status::Ok();
}

// ---- TRANSPOSE ----
struct TransposeState : KernelState {
  std::vector<int32_t> perm;
};

Status PrepareTranspose(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 2, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  auto s = std::make_unique<TransposeState>();
  RETURN_IF_ERROR(ConstInts(ctx, ctx.input(1), "perm", &s->perm));
  if (static_cast<int>(s->perm.size()) != in->rank()) {
    return ctx.Error("perm has {} entries for a rank-{} input", s->perm.size(), in->rank());
  }
  if (in->rank() > 8) return ctx.Unsupported("input rank {} > 8", in->rank());
  std::vector<bool> seen(s->perm.size(), false);
  std::vector<int32_t> shape;
  for (int32_t p : s->perm) {
    if (p < 0 || p >= in->rank() || seen[static_cast<size_t>(p)]) {
      return ctx.Error("perm is not a permutation of 0..{}", in->rank() - 1);
    }
    seen[static_cast<size_t>(p)] = true;
    shape.push_back(in->dim(p));
  }
  RETURN_IF_ERROR(CheckSameQuant(ctx, *in, *out));
  RETURN_IF_ERROR(ctx.SetShape(out, std::move(shape)));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

// Copies `in` to `out` (dims `out_dims`, `rank` >= 2) where output axis d
// steps the input by `strides[d]` elements: the two innermost output axes
// run as plain loops, the outer ones through an index odometer.
template <typename E>
void TransposeLoop(const E* in, E* out, const std::array<int64_t, 8>& strides,
                   const std::array<int64_t, 8>& out_dims, int rank) {
  const int64_t n1 = out_dims[static_cast<size_t>(rank - 2)];
  const int64_t n0 = out_dims[static_cast<size_t>(rank - 1)];
  const int64_t s1 = strides[static_cast<size_t>(rank - 2)];
  const int64_t s0 = strides[static_cast<size_t>(rank - 1)];
  int64_t outer = 1;
  for (int d = 0; d < rank - 2; ++d) outer *= out_dims[static_cast<size_t>(d)];
  std::array<int64_t, 8> idx{};
  for (int64_t o = 0; o < outer; ++o) {
    int64_t base = 0;
    for (int d = 0; d < rank - 2; ++d) {
      base += idx[static_cast<size_t>(d)] * strides[static_cast<size_t>(d)];
    }
    for (int64_t j = 0; j < n1; ++j) {
      const E* src = in + base + j * s1;
      for (int64_t i = 0; i < n0; ++i) out[i] = src[i * s0];
      out += n0;
    }
    for (int d = rank - 3; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < out_dims[static_cast<size_t>(d)]) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
}

Status EvalTranspose(KernelContext& ctx) {
  const auto& perm = ctx.state<TransposeState>()->perm;
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  const int rank = in->rank();
  const size_t elem = TensorTypeSize(in->type);
  if (rank < 2 || out->num_elements() == 0) {
    std::memcpy(out->data, in->data, out->bytes);  // rank <= 1: the identity
    return Status::Ok();
  }
  std::array<int64_t, 8> in_strides{};
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    in_strides[static_cast<size_t>(i)] = stride;
    stride *= in->dim(i);
  }
  // Input stride of each output axis.
  std::array<int64_t, 8> strides{}, dims{};
  for (int d = 0; d < rank; ++d) {
    strides[static_cast<size_t>(d)] = in_strides[static_cast<size_t>(perm[static_cast<size_t>(d)])];
    dims[static_cast<size_t>(d)] = out->dim(d);
  }
  switch (elem) {
    case 1:
      TransposeLoop(in->as<uint8_t>(), out->as<uint8_t>(), strides, dims, rank);
      break;
    case 2:
      TransposeLoop(in->as<uint16_t>(), out->as<uint16_t>(), strides, dims, rank);
      break;
    case 4:
      TransposeLoop(in->as<uint32_t>(), out->as<uint32_t>(), strides, dims, rank);
      break;
    case 8:
      TransposeLoop(in->as<uint64_t>(), out->as<uint64_t>(), strides, dims, rank);
      break;
    default:
      return ctx.Unsupported("element size {}", elem);
  }
  return Status::Ok();
}

// ---- PAD ----
struct PadState : KernelState {
  std::vector<int32_t> before;
  uint8_t pad_byte[4] = {0, 0, 0, 0};
};

Status PreparePad(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 2, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  auto s = std::make_unique<PadState>();
  std::vector<int32_t> pads;
  RETURN_IF_ERROR(ConstInts(ctx, ctx.input(1), "paddings", &pads));
  if (in->rank() > 8) return ctx.Unsupported("input rank {} > 8", in->rank());
  if (static_cast<int>(pads.size()) != 2 * in->rank()) {
    return ctx.Error("paddings has {} values, expected {} x 2", pads.size(), in->rank());
  }
  std::vector<int32_t> shape;
  for (int d = 0; d < in->rank(); ++d) {
    const int32_t b = pads[static_cast<size_t>(2 * d)];
    const int32_t a = pads[static_cast<size_t>(2 * d + 1)];
    if (b < 0 || a < 0) return ctx.Error("negative padding on axis {}", d);
    s->before.push_back(b);
    shape.push_back(in->dim(d) + b + a);
  }
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(in, "input", {T::FLOAT32, T::INT8, T::UINT8, T::INT32}));
  RETURN_IF_ERROR(CheckSameQuant(ctx, *in, *out));
  if (in->type == T::INT8)
    s->pad_byte[0] = static_cast<uint8_t>(static_cast<int8_t>(out->zero_point()));
  if (in->type == T::UINT8) s->pad_byte[0] = static_cast<uint8_t>(out->zero_point());
  RETURN_IF_ERROR(ctx.SetShape(out, std::move(shape)));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

Status EvalPad(KernelContext& ctx) {
  const PadState& s = *ctx.state<PadState>();
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  const size_t elem = TensorTypeSize(in->type);
  // The pad value's bytes are all equal (one byte for int8/uint8, zero for
  // wider types), so borders are memset.
  const int pad = s.pad_byte[0];
  const int rank = in->rank();
  // Axes [inner_axis, rank) are not padded: they form contiguous blocks of
  // `inner` elements in both tensors. Axis `a` = inner_axis - 1 is the last
  // padded one: each output row along it is [before | input row | after].
  int inner_axis = rank;
  while (inner_axis > 0 && in->dim(inner_axis - 1) == out->dim(inner_axis - 1)) --inner_axis;
  if (inner_axis == 0 || in->num_elements() == 0) {
    if (in->num_elements() == 0) {
      std::memset(out->data, pad, out->bytes);
    } else {
      std::memcpy(out->data, in->data, out->bytes);
    }
    return Status::Ok();
  }
  const int a = inner_axis - 1;
  size_t inner = elem;
  for (int d = inner_axis; d < rank; ++d) inner *= static_cast<size_t>(in->dim(d));
  const size_t before = static_cast<size_t>(s.before[static_cast<size_t>(a)]) * inner;
  const size_t copy = static_cast<size_t>(in->dim(a)) * inner;
  const size_t out_row = static_cast<size_t>(out->dim(a)) * inner;
  const size_t after = out_row - before - copy;
  int64_t rows = 1;
  for (int d = 0; d < a; ++d) rows *= out->dim(d);
  std::array<int64_t, 8> idx{};  // output index over axes [0, a)
  uint8_t* dst = out->data;
  for (int64_t r = 0; r < rows; ++r, dst += out_row) {
    bool inside = true;
    int64_t src_row = 0;
    for (int d = 0; d < a; ++d) {
      const int64_t i = idx[static_cast<size_t>(d)] - s.before[static_cast<size_t>(d)];
      if (i < 0 || i >= in->dim(d)) {
        inside = false;
        break;
      }
      src_row = src_row * in->dim(d) + i;
    }
    if (inside) {
      std::memset(dst, pad, before);
      std::memcpy(dst + before, in->data + static_cast<size_t>(src_row) * copy, copy);
      std::memset(dst + before + copy, pad, after);
    } else {
      std::memset(dst, pad, out_row);
    }
    for (int d = a - 1; d >= 0; --d) {
      if (++idx[static_cast<size_t>(d)] < out->dim(d)) break;
      idx[static_cast<size_t>(d)] = 0;
    }
  }
  return Status::Ok();
}

// ---- CONCATENATION ----
struct ConcatState : KernelState {
  int axis = 0;
};

Status PrepareConcat(KernelContext& ctx) {
  if (ctx.num_inputs() < 1 || ctx.num_outputs() != 1)
    return ctx.Error("needs inputs and one output");
  Tensor* out = ctx.output(0);
  const Tensor* first = ctx.input(0);
  if (!first) return ctx.Error("input 0 is missing");
  auto s = std::make_unique<ConcatState>();
  const auto* o = ctx.op() ? ctx.op()->builtin_options_as_ConcatenationOptions() : nullptr;
  int axis = o ? o->axis() : 0;
  if (o && o->fused_activation_function() != tflite::ActivationFunctionType::NONE) {
    return ctx.Unsupported("fused activation on CONCATENATION");
  }
  if (axis < 0) axis += first->rank();
  if (axis < 0 || axis >= first->rank()) return ctx.Error("axis {} out of range", axis);
  std::vector<int32_t> shape = first->shape;
  shape[static_cast<size_t>(axis)] = 0;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (!t || t->rank() != first->rank()) return ctx.Error("input {} rank mismatch", i);
    for (int d = 0; d < t->rank(); ++d) {
      if (d != axis && t->dim(d) != first->dim(d))
        return ctx.Error("input {} dim {} mismatch", i, d);
    }
    RETURN_IF_ERROR(CheckSameQuant(ctx, *t, *out));
    shape[static_cast<size_t>(axis)] += t->dim(axis);
  }
  s->axis = axis;
  RETURN_IF_ERROR(ctx.SetShape(out, std::move(shape)));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

Status EvalConcat(KernelContext& ctx) {
  const int axis = ctx.state<ConcatState>()->axis;
  Tensor* out = ctx.output(0);
  const size_t elem = TensorTypeSize(out->type);
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= out->dim(d);
  int64_t inner = 1;
  for (int d = axis + 1; d < out->rank(); ++d) inner *= out->dim(d);
  uint8_t* dst = out->data;
  for (int64_t o = 0; o < outer; ++o) {
    for (int i = 0; i < ctx.num_inputs(); ++i) {
      const Tensor* t = ctx.input(i);
      const size_t chunk = static_cast<size_t>(t->dim(axis) * inner) * elem;
      std::memcpy(dst, t->data + static_cast<size_t>(o) * chunk, chunk);
      dst += chunk;
    }
  }
  return Status::Ok();
}

}  // namespace

KernelRegistration RegisterReshape() { return {PrepareReshape, EvalCopy}; }
KernelRegistration RegisterTranspose() { return {PrepareTranspose, EvalTranspose}; }
KernelRegistration RegisterPad() { return {PreparePad, EvalPad}; }
KernelRegistration RegisterConcatenation() { return {PrepareConcat, EvalConcat}; }

}  // namespace edgepipe::lite
