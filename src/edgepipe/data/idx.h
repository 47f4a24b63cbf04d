// IDX files: the format of the MNIST and Fashion-MNIST distributions.
//
// Layout (all integers big-endian):
//   bytes 0-1  zero
//   byte  2    element type: 0x08 ubyte, 0x09 sbyte, 0x0B short (int16),
//              0x0C int (int32), 0x0D float (float32), 0x0E double (float64)
//   byte  3    number of dimensions (1..kMaxIdxRank accepted here)
//   then one uint32 per dimension, then the elements, row-major, big-endian.
// A file may be gzip-compressed (detected from its first bytes, not its name).
//
// Thread safety: the functions are reentrant; distinct calls may run on
// distinct threads.
#ifndef EDGEPIPE_DATA_IDX_H_
#define EDGEPIPE_DATA_IDX_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"

namespace edgepipe::data {

// The element type byte of an IDX file.
enum class IdxType : uint8_t {
  kUInt8 = 0x08,
  kInt8 = 0x09,
  kInt16 = 0x0B,
  kInt32 = 0x0C,
  kFloat32 = 0x0D,
  kFloat64 = 0x0E,
};

// "ubyte", "sbyte", "short", "int", "float", "double".
std::string_view IdxTypeName(IdxType type);
// Size in bytes of one element as stored in the file.
size_t IdxTypeSize(IdxType type);

// The largest number of dimensions accepted. The format allows 255; real
// files have 1..4; anything above this is treated as a corrupt header.
inline constexpr int kMaxIdxRank = 8;

// An IDX file's contents. `array` has the file's dims as its shape and holds
// the elements in host order, converted to the Array dtype:
//   ubyte -> uint8, sbyte -> int8, int -> int32, float -> float32 (exact);
//   short -> int32 (widened, exact); double -> float32 (rounded to nearest).
// `file_type` records what the file held.
struct IdxArray {
  IdxType file_type = IdxType::kUInt8;
  Array array;
};

// Reads a whole IDX file (plain or gzip). Errors name the file, the value and
// the rule: a nonzero magic, an unknown type code, a dims count of 0 or above
// kMaxIdxRank, a dim product that overflows, a file shorter than its dims
// imply ("expected 47040000 data bytes, found 1000") or longer (trailing
// bytes). Memory: the result plus, for a header claiming more than 64 MiB or a
// type needing conversion, a staging buffer the size of the data read.
Result<IdxArray> ReadIdx(const std::string& path, Env* env = Env::Default());

// Writes `array` as an IDX file, atomically (a temp sibling renamed into
// place). Supported dtypes: uint8 (ubyte), int8 (sbyte), int32 (int),
// float32 (float); other dtypes and rank 0 or > kMaxIdxRank are
// InvalidArgument, as is a dim above 2^32-1. When `path` ends in ".gz" the
// file is gzip-compressed.
Status WriteIdx(const std::string& path, const Array& array, Env* env = Env::Default());

// An images/labels pair as distributed for (Fashion-)MNIST.
struct IdxImagesAndLabels {
  Array images;  // uint8 [count, rows, cols]
  Array labels;  // uint8 [count]
};

// Reads both files and validates the pair: images must be rank-3 ubyte,
// labels rank-1 ubyte, with equal counts ("images file has 60000 items but
// labels file has 59999").
Result<IdxImagesAndLabels> ReadIdxImagesAndLabels(const std::string& images_path,
                                                  const std::string& labels_path,
                                                  Env* env = Env::Default());

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_IDX_H_
