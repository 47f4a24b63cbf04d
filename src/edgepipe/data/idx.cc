#include "edgepipe/data/idx.h"

#include <bit>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "edgepipe/data/compression.h"

namespace edgepipe::data {
namespace {

// Headers that claim more than this are read into a growing staging buffer
// first, so that a corrupt header cannot make us allocate gigabytes for a
// small file.
constexpr uint64_t kDirectReadLimit = uint64_t{64} << 20;
constexpr size_t kChunk = size_t{1} << 20;

std::string Hex(unsigned v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  s += kDigits[(v >> 4) & 0xf];
  s += kDigits[v & 0xf];
  return s;
}

bool KnownType(uint8_t code) {
  switch (code) {
    case 0x08:
    case 0x09:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x0E:
      return true;
    default:
      return false;
  }
}

DType ArrayDTypeFor(IdxType t) {
  switch (t) {
    case IdxType::kUInt8:
      return DType::kUInt8;
    case IdxType::kInt8:
      return DType::kInt8;
    case IdxType::kInt16:
    case IdxType::kInt32:
      return DType::kInt32;
    case IdxType::kFloat32:
    case IdxType::kFloat64:
      return DType::kFloat32;
  }
  return DType::kUInt8;
}

// Reads until `n` bytes or end of file; returns the count read.
Result<size_t> ReadFull(ReadableFile& file, char* dst, size_t n) {
  size_t have = 0;
  while (have < n) {
    ASSIGN_OR_RETURN(size_t got, file.Read(dst + have, n - have));
    if (got == 0) break;
    have += got;
  }
  return have;
}

uint32_t LoadBe32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

inline uint16_t ToBigEndian(uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap16(v);
  return v;
}
inline uint32_t ToBigEndian(uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap32(v);
  return v;
}
inline uint64_t ToBigEndian(uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(v);
  return v;
}

// Loads a big-endian U from unaligned memory. (Swapping is its own inverse.)
template <typename U>
U LoadBe(const char* p) {
  U v;
  std::memcpy(&v, p, sizeof(U));
  return ToBigEndian(v);
}

// Converts `n` big-endian elements of `type` at `src` into host-order
// elements of ArrayDTypeFor(type) at `dst`. `src` may equal `dst` when the
// two element sizes are equal.
void ConvertFromBigEndian(IdxType type, const char* src, void* dst, size_t n) {
  switch (type) {
    case IdxType::kUInt8:
    case IdxType::kInt8:
      if (src != dst) std::memcpy(dst, src, n);
      return;
    case IdxType::kInt16: {
      auto* out = static_cast<int32_t*>(dst);
      for (size_t i = 0; i < n; ++i) {
        out[i] = static_cast<int16_t>(LoadBe<uint16_t>(src + 2 * i));
      }
      return;
    }
    case IdxType::kInt32:
    case IdxType::kFloat32: {
      auto* out = static_cast<char*>(dst);
      for (size_t i = 0; i < n; ++i) {
        const uint32_t v = LoadBe<uint32_t>(src + 4 * i);
        std::memcpy(out + 4 * i, &v, 4);
      }
      return;
    }
    case IdxType::kFloat64: {
      auto* out = static_cast<float*>(dst);
      for (size_t i = 0; i < n; ++i) {
        out[i] = static_cast<float>(std::bit_cast<double>(LoadBe<uint64_t>(src + 8 * i)));
      }
      return;
    }
  }
}

Status CheckAtEnd(ReadableFile& file, const std::string& path, uint64_t data_bytes,
                  const std::string& dims) {
  uint64_t extra = 0;
  std::vector<char> buf(4096);
  while (true) {
    ASSIGN_OR_RETURN(size_t got, file.Read(buf.data(), buf.size()));
    if (got == 0) break;
    extra += got;
  }
  if (extra != 0) {
    return Status::DataLoss(
        path + ": " + std::to_string(extra) + " trailing bytes after the data (dims " + dims +
        " imply " + std::to_string(data_bytes) + " data bytes); an IDX file must end there");
  }
  return Status::Ok();
}

Status WriteAll(WritableFile& out, const Array& array, IdxType type) {
  const int rank = array.rank();
  std::string header(4 + 4 * static_cast<size_t>(rank), '\0');
  header[2] = static_cast<char>(type);
  header[3] = static_cast<char>(rank);
  for (int i = 0; i < rank; ++i) {
    const auto d = static_cast<uint32_t>(array.dim(i));
    for (int b = 0; b < 4; ++b) {
      header[4 + 4 * static_cast<size_t>(i) + static_cast<size_t>(b)] =
          static_cast<char>((d >> (24 - 8 * b)) & 0xff);
    }
  }
  RETURN_IF_ERROR(out.Append(header));
  const char* data = static_cast<const char*>(array.raw_data());
  const size_t bytes = array.num_bytes();
  if (IdxTypeSize(type) == 1) {
    if (bytes > 0) RETURN_IF_ERROR(out.Append(std::string_view(data, bytes)));
    return Status::Ok();
  }
  // 4-byte types: swap into a chunk buffer.
  std::vector<char> chunk(kChunk);
  for (size_t off = 0; off < bytes; off += kChunk) {
    const size_t take = std::min(kChunk, bytes - off);
    for (size_t i = 0; i < take; i += 4) {
      const uint32_t v = LoadBe<uint32_t>(data + off + i);
      std::memcpy(chunk.data() + i, &v, 4);
    }
    RETURN_IF_ERROR(out.Append(std::string_view(chunk.data(), take)));
  }
  return Status::Ok();
}

}  // namespace

std::string_view IdxTypeName(IdxType type) {
  switch (type) {
    case IdxType::kUInt8:
      return "ubyte";
    case IdxType::kInt8:
      return "sbyte";
    case IdxType::kInt16:
      return "short";
    case IdxType::kInt32:
      return "int";
    case IdxType::kFloat32:
      return "float";
    case IdxType::kFloat64:
      return "double";
  }
  return "unknown";
}

size_t IdxTypeSize(IdxType type) {
  switch (type) {
    case IdxType::kUInt8:
    case IdxType::kInt8:
      return 1;
    case IdxType::kInt16:
      return 2;
    case IdxType::kInt32:
    case IdxType::kFloat32:
      return 4;
    case IdxType::kFloat64:
      return 8;
  }
  return 1;
}

Result<IdxArray> ReadIdx(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> file, OpenMaybeGzip(path, env));
  unsigned char head[4];
  ASSIGN_OR_RETURN(size_t got, ReadFull(*file, reinterpret_cast<char*>(head), 4));
  if (got < 4) {
    return Status::DataLoss(path + ": file has " + std::to_string(got) +
                            " bytes, an IDX header needs at least 4");
  }
  if (head[0] != 0 || head[1] != 0) {
    return Status::InvalidArgument(path + ": bad IDX magic: first two bytes are " + Hex(head[0]) +
                                   " " + Hex(head[1]) + ", must be 0x00 0x00");
  }
  if (!KnownType(head[2])) {
    return Status::InvalidArgument(
        path + ": unknown IDX element type code " + Hex(head[2]) +
        " (known: 0x08 ubyte, 0x09 sbyte, 0x0b short, 0x0c int, 0x0d float, 0x0e double)");
  }
  const auto type = static_cast<IdxType>(head[2]);
  const int rank = head[3];
  if (rank == 0 || rank > kMaxIdxRank) {
    return Status::InvalidArgument(path + ": IDX header declares " + std::to_string(rank) +
                                   " dimensions, must be 1.." + std::to_string(kMaxIdxRank));
  }
  std::vector<unsigned char> dim_bytes(4 * static_cast<size_t>(rank));
  ASSIGN_OR_RETURN(got,
                   ReadFull(*file, reinterpret_cast<char*>(dim_bytes.data()), dim_bytes.size()));
  if (got < dim_bytes.size()) {
    return Status::DataLoss(path + ": IDX header declares " + std::to_string(rank) +
                            " dimensions (" + std::to_string(dim_bytes.size()) +
                            " bytes) but the file ends after " + std::to_string(got) + " of them");
  }
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (size_t i = 0; i < shape.size(); ++i) shape[i] = LoadBe32(&dim_bytes[4 * i]);
  const std::string dims = ShapeToString(shape);

  // Element and byte counts, with overflow checks (each dim is < 2^32, so
  // eight of them can overflow 64 bits).
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count)) {
      return Status::InvalidArgument(path + ": IDX dims " + dims +
                                     " have an element count that overflows 64 bits");
    }
  }
  uint64_t data_bytes = 0;
  if (__builtin_mul_overflow(count, uint64_t{IdxTypeSize(type)}, &data_bytes) ||
      data_bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
      data_bytes > std::numeric_limits<size_t>::max() / 2) {
    return Status::InvalidArgument(path + ": IDX dims " + dims + " of " +
                                   std::string(IdxTypeName(type)) +
                                   " need more bytes than this machine can address");
  }
  const auto short_file = [&](uint64_t found) {
    return Status::DataLoss(path + ": expected " + std::to_string(data_bytes) +
                            " data bytes for dims " + dims + " of " +
                            std::string(IdxTypeName(type)) + ", found " + std::to_string(found));
  };

  IdxArray out;
  out.file_type = type;
  const DType dtype = ArrayDTypeFor(type);
  const bool same_size = DTypeSize(dtype) == IdxTypeSize(type);
  if (same_size && data_bytes <= kDirectReadLimit) {
    ASSIGN_OR_RETURN(out.array, Array::Uninitialized(dtype, shape));
    char* dst = static_cast<char*>(out.array.raw_data());
    ASSIGN_OR_RETURN(got, ReadFull(*file, dst, data_bytes));
    if (got < data_bytes) return short_file(got);
    RETURN_IF_ERROR(CheckAtEnd(*file, path, data_bytes, dims));
    ConvertFromBigEndian(type, dst, dst, count);
    return out;
  }
  // Staging path: grow the buffer only as data actually arrives.
  std::string staging;
  while (staging.size() < data_bytes) {
    const size_t old = staging.size();
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(data_bytes - old, std::max<uint64_t>(kChunk, old)));  // geometric growth
    staging.resize(old + want);
    ASSIGN_OR_RETURN(got, ReadFull(*file, staging.data() + old, want));
    staging.resize(old + got);
    if (got < want) return short_file(staging.size());
  }
  RETURN_IF_ERROR(CheckAtEnd(*file, path, data_bytes, dims));
  ASSIGN_OR_RETURN(out.array, Array::Uninitialized(dtype, shape));
  ConvertFromBigEndian(type, staging.data(), out.array.raw_data(), count);
  return out;
}

Status WriteIdx(const std::string& path, const Array& array, Env* env) {
  IdxType type;
  switch (array.dtype()) {
    case DType::kUInt8:
      type = IdxType::kUInt8;
      break;
    case DType::kInt8:
      type = IdxType::kInt8;
      break;
    case DType::kInt32:
      type = IdxType::kInt32;
      break;
    case DType::kFloat32:
      type = IdxType::kFloat32;
      break;
    default:
      return Status::InvalidArgument(path + ": cannot write dtype " +
                                     std::string(DTypeName(array.dtype())) +
                                     " as IDX (supported: uint8, int8, int32, float32)");
  }
  if (array.rank() == 0 || array.rank() > kMaxIdxRank) {
    return Status::InvalidArgument(path + ": cannot write a rank-" + std::to_string(array.rank()) +
                                   " array as IDX, rank must be 1.." + std::to_string(kMaxIdxRank));
  }
  for (int64_t d : array.shape()) {
    if (d > int64_t{std::numeric_limits<uint32_t>::max()}) {
      return Status::InvalidArgument(path + ": dim " + std::to_string(d) + " of shape " +
                                     ShapeToString(array.shape()) +
                                     " does not fit an IDX uint32 dimension");
    }
  }
  const std::string tmp = TempSiblingPath(path);
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->OpenForWrite(tmp));
  const bool gzip = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  if (gzip) file = NewGzipWritableFile(std::move(file), 6);
  Status s = WriteAll(*file, array, type);
  if (s.ok()) s = file->Sync();
  Status c = file->Close();
  if (s.ok()) s = c;
  if (s.ok()) s = env->Rename(tmp, path);
  if (!s.ok()) env->RemoveFile(tmp).IgnoreError();
  return s;
}

Result<IdxImagesAndLabels> ReadIdxImagesAndLabels(const std::string& images_path,
                                                  const std::string& labels_path, Env* env) {
  ASSIGN_OR_RETURN(IdxArray images, ReadIdx(images_path, env));
  ASSIGN_OR_RETURN(IdxArray labels, ReadIdx(labels_path, env));
  if (images.file_type != IdxType::kUInt8 || images.array.rank() != 3) {
    return Status::InvalidArgument(images_path + ": images file holds " +
                                   std::string(IdxTypeName(images.file_type)) + " dims " +
                                   ShapeToString(images.array.shape()) +
                                   ", expected ubyte with 3 dims [count, rows, cols]");
  }
  if (labels.file_type != IdxType::kUInt8 || labels.array.rank() != 1) {
    return Status::InvalidArgument(
        labels_path + ": labels file holds " + std::string(IdxTypeName(labels.file_type)) +
        " dims " + ShapeToString(labels.array.shape()) + ", expected ubyte with 1 dim [count]");
  }
  if (images.array.dim(0) != labels.array.dim(0)) {
    return Status::InvalidArgument(images_path + " / " + labels_path + ": images file has " +
                                   std::to_string(images.array.dim(0)) +
                                   " items but labels file has " +
                                   std::to_string(labels.array.dim(0)));
  }
  return IdxImagesAndLabels{std::move(images.array), std::move(labels.array)};
}

}  // namespace edgepipe::data
