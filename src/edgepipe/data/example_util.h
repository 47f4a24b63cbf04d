// Helpers to build, read and print tf.Example messages (example.proto).
//
// Thread safety: the functions are pure; they may run concurrently on
// distinct messages (or on one message that nobody mutates).
#ifndef EDGEPIPE_DATA_EXAMPLE_UTIL_H_
#define EDGEPIPE_DATA_EXAMPLE_UTIL_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/data/example.pb.h"

namespace edgepipe::data {

// Set feature `name` of `ex` to the given values, replacing any previous
// feature of that name (whatever its kind).
void SetFloats(tf::Example* ex, std::string_view name, std::span<const float> values);
void SetInt64s(tf::Example* ex, std::string_view name, std::span<const int64_t> values);
void SetBytes(tf::Example* ex, std::string_view name, std::span<const std::string> values);
void SetBytes(tf::Example* ex, std::string_view name, std::span<const std::string_view> values);

// The feature named `name`; the pointer lives as long as `ex` is unchanged.
// NotFound naming the available features (sorted) when absent:
//   `feature "label" not found; available: image_class, image_floats`.
Result<const tf::Feature*> GetFeature(const tf::Example& ex, std::string_view name);

// The values of a feature of the given kind, as a view into `ex`.
// NotFound when absent, InvalidArgument when it holds another kind
// (`feature "image_class" is int64, expected float`).
Result<std::span<const float>> GetFloats(const tf::Example& ex, std::string_view name);
Result<std::span<const int64_t>> GetInt64s(const tf::Example& ex, std::string_view name);
// Bytes values are not contiguous: views into each string instead.
Result<std::vector<std::string_view>> GetBytes(const tf::Example& ex, std::string_view name);

// "float", "int64", "bytes" or "empty" (no kind set).
std::string_view FeatureKindName(const tf::Feature& feature);

// Serializes with map entries in sorted key order (protobuf's deterministic
// mode), so equal messages give equal bytes: what TensorFlow writes for the
// fixture, and what cache keys and byte-stable outputs need. Plain
// SerializeToString orders map entries arbitrarily.
std::string SerializeDeterministic(const tf::Example& ex);

struct ExampleFormatOptions {
  // Lists longer than 2 * edge_values show the first and last edge_values.
  int edge_values = 3;
  // Bytes values longer than this are cut, with "..." after the quote.
  int max_bytes_chars = 40;
};

// One line per feature, in sorted name order, e.g.
//   image_class: int64[1] = [9]
//   image_floats: float[784] = [-0.5, -0.5, -0.5, ..., -0.5, -0.5, 0.1]
//   name: bytes[1] = ["seven\n"]
// Floats are printed in their shortest round-trip form; bytes as C-escaped
// quoted strings. Each line ends in '\n'.
std::string FormatExample(const tf::Example& ex, const ExampleFormatOptions& options = {});

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_EXAMPLE_UTIL_H_
