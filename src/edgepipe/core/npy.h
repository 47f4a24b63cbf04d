// NumPy .npy files for edgepipe::Array.
//
// Format (numpy.lib.format, version 1.0; 2.0 and 3.0 headers are read too):
//   "\x93NUMPY", major, minor, header length (uint16 LE for 1.0, uint32 LE for
//   2.0/3.0), then the header: a Python dict literal
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//   padded with spaces and ended by '\n', then the raw elements in C order.
//
// Supported dtypes: float32 '<f4', int8 '|i1', uint8 '|u1', int32 '<i4',
// int64 '<i8', bool '|b1'. Big-endian files ('>f4', '>i4', '>i8') are read
// and byte-swapped to native order. Other dtypes (e.g. float64) and
// fortran_order True are errors naming the file and the rule.
//
// Writing produces exactly what numpy.save writes (numpy >= 1.24): version
// 1.0, sorted keys, the header padded with spaces for in-place growth of the
// first axis (21 digits) and so that the data starts at a multiple of 64
// bytes; version 2.0 only if the header would not fit in 65535 bytes.
//
// All functions are thread-safe (no shared state).
#ifndef EDGEPIPE_CORE_NPY_H_
#define EDGEPIPE_CORE_NPY_H_

#include <string>
#include <string_view>

#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"

namespace edgepipe {

// Parses a whole .npy file held in memory. `name_for_errors` (usually the
// path) prefixes every error message. Trailing bytes after the data are an
// error.
Result<Array> ParseNpy(std::string_view bytes, std::string_view name_for_errors);

// Reads a .npy file through `env`, checking the header against the file size
// before allocating.
Result<Array> ReadNpy(const std::string& path, Env* env = Env::Default());

// The bytes numpy.save would write for `array`.
std::string SerializeNpy(const Array& array);

// Writes `array` to `path` atomically (WriteFileAtomic).
Status WriteNpy(const std::string& path, const Array& array, Env* env = Env::Default());

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_NPY_H_
