// Fixed-length feature specs (like tf.io.FixedLenFeature), the Batch they
// produce, and the parser from serialized tf.Example records to a Batch.
#ifndef EDGEPIPE_DATA_FEATURE_SPEC_H_
#define EDGEPIPE_DATA_FEATURE_SPEC_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"

namespace edgepipe::data {

// The value type of a feature; matches the tf.Example list kinds.
enum class FeatureType : uint8_t {
  kFloat32,  // float_list -> Array float32
  kInt64,    // int64_list -> Array int64
  kString,   // bytes_list -> std::vector<std::string>
};

// "float32", "int64", "string".
std::string_view FeatureTypeName(FeatureType type);

// A feature with a fixed number of values per record.
struct FeatureSpec {
  std::string name;
  FeatureType type = FeatureType::kFloat32;
  // Per-record shape; {} is a scalar (one value). A record must hold exactly
  // NumElements(shape) values, row-major.
  std::vector<int64_t> shape;
  // When false, a record without the feature is an error. When true, the
  // default of `type` is used: either one value (repeated to fill the shape)
  // or NumElements(shape) values. The defaults of other types stay empty.
  bool has_default = false;
  std::vector<float> default_float;
  std::vector<int64_t> default_int64;
  std::vector<std::string> default_string;

  static FeatureSpec Float32(std::string name, std::vector<int64_t> shape = {});
  static FeatureSpec Int64(std::string name, std::vector<int64_t> shape = {});
  static FeatureSpec String(std::string name, std::vector<int64_t> shape = {});
  // Returns a copy with a default (type must match, else ValidateFeatureSpecs fails).
  FeatureSpec WithDefault(std::vector<float> values) const;
  FeatureSpec WithDefault(std::vector<int64_t> values) const;
  FeatureSpec WithDefault(std::vector<std::string> values) const;
};

// Checks names (non-empty, unique), dims (non-negative, no overflow) and
// defaults (type and count). Errors name the feature and the rule.
Status ValidateFeatureSpecs(std::span<const FeatureSpec> specs);

// A batch of records, one column per feature. Numeric features are Arrays of
// shape [size, ...spec.shape]; string features are flat row-major vectors of
// size * NumElements(spec.shape) strings. A Batch is a plain value.
struct Batch {
  int64_t size = 0;  // number of records
  std::map<std::string, Array, std::less<>> arrays;
  std::map<std::string, std::vector<std::string>, std::less<>> strings;

  // The numeric column `name`; NotFound naming the feature when absent.
  Result<const Array*> GetArray(std::string_view name) const;
  Result<Array*> GetMutableArray(std::string_view name);
  // The string column `name`; NotFound naming the feature when absent.
  Result<const std::vector<std::string>*> GetStrings(std::string_view name) const;
};

// Parses serialized tf.Example records into Batches by a fixed set of specs.
// Values are copied straight from the parsed lists into the output columns.
// Not thread-safe (it reuses a scratch arena); use one parser per thread.
class ExampleParser {
 public:
  // Validates `specs` (see ValidateFeatureSpecs).
  static Result<ExampleParser> Create(std::vector<FeatureSpec> specs);

  // Parses `serialized` into a Batch of serialized.size() records. Features
  // not named by a spec are ignored. Errors (InvalidArgument) name the record
  // as `first_index` + its position, the feature and the rule:
  //   "record 12: feature image_floats has 783 values, spec needs 784"
  //   "record 3: feature label is float_list, spec needs int64 (int64_list)"
  //   "record 5: feature label is missing and its spec has no default"
  //   "record 7: not a valid serialized tf.Example"
  Result<Batch> Parse(std::span<const std::string> serialized, int64_t first_index = 0);

  const std::vector<FeatureSpec>& specs() const { return specs_; }

 private:
  ExampleParser() = default;
  std::vector<FeatureSpec> specs_;
  std::vector<int64_t> elements_;  // NumElements(shape) per spec
  std::vector<char> scratch_;      // initial arena block, reused across records
};

// One-shot convenience: validates `specs` and parses `serialized`.
Result<Batch> ParseExamples(std::span<const std::string> serialized,
                            std::span<const FeatureSpec> specs);

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_FEATURE_SPEC_H_
