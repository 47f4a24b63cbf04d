// A read-only view of a serialized tf.Example's features straight from the
// protobuf wire format, without building protobuf objects: the Extractor's
// fast path (decoding ~3 KB of floats per MNIST example through
// google::protobuf costs more than copying them).
//
// It accepts only the plain encoding every writer produces: one `features`
// field, map entries with at most one key and one value, Features with at
// most one list, FloatList / Int64List values packed in one field, BytesList
// values as separate fields. Anything else (unknown or repeated fields that
// protobuf would merge, unpacked numbers, malformed bytes) makes Parse return
// false, and the caller must parse the record with protobuf instead, which
// keeps protobuf's semantics for those cases. Find also refuses (returns
// false) a key present twice (protobuf: the last one wins).
//
// Views borrow the record's bytes: the record must outlive them. Not
// thread-safe (reuses its entry vector); one per thread.
#ifndef EDGEPIPE_EVAL_EXAMPLE_WIRE_H_
#define EDGEPIPE_EVAL_EXAMPLE_WIRE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgepipe::eval {

struct WireFeature {
  enum class Kind { kNone, kBytes, kFloat, kInt64 };
  Kind kind = Kind::kNone;  // kNone: a Feature with no list set
  int64_t count = 0;        // number of values
  std::string_view values;  // kFloat: count * 4 bytes little-endian;
                            // kInt64: packed varints; kBytes: the list body

  // Value i (0 <= i < count) as float, as tf::Feature would give it
  // (int64 values converted with static_cast<float>).
  void Floats(float* out) const;    // count values; kFloat or kInt64 only
  void Int64s(int64_t* out) const;  // count values; kInt64 only
  // Appends the values as text: int64 decimal, float %g, bytes as is.
  void AppendText(std::vector<std::string>* out) const;
};

class WireExample {
 public:
  // Reads the record's feature entries; false when it is outside the
  // accepted subset (see above) or malformed.
  bool Parse(std::string_view record);
  // Sets *out to the feature `name` (null when absent). False when the key
  // occurs more than once.
  bool Find(std::string_view name, const WireFeature** out) const;

 private:
  std::vector<std::pair<std::string_view, WireFeature>> entries_;
};

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_EXAMPLE_WIRE_H_
