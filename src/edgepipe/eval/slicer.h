// Slicing (TFMA's SlicingSpec / CrossSlicingSpec): which slices each example
// belongs to.
//
//   SlicingSpec {}                               -> the overall slice
//   SlicingSpec { feature_keys: "island" }       -> one slice per value of island
//   SlicingSpec { feature_values { key: "sex" value: "male" } }
//                                                -> examples whose sex is male
//   CrossSlicingSpec { baseline_spec, slicing_specs } -> the cross product of
//       the baseline spec's slices with each listed spec's slices
// A feature with several values puts the example into one slice per value
// (the cross product over several keys). A SliceKey's features are sorted by
// feature name. An example that lacks a feature a spec reads is in none of
// that spec's slices and is counted as missing for the spec (never given a
// default value). No slicing spec at all means the overall slice only.
//
// Thread safety: a Slicer is immutable after Create; Assign may run
// concurrently on distinct outputs.
#ifndef EDGEPIPE_EVAL_SLICER_H_
#define EDGEPIPE_EVAL_SLICER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/eval/eval_config.pb.h"
#include "edgepipe/eval/extract.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

// The slices of one chunk: rows (indices into the chunk) per slice, and per
// spec the number of examples that lacked one of its features.
struct ChunkSlices {
  bool has_overall = false;                       // every row is in the overall slice
  std::map<SliceKey, std::vector<int32_t>> rows;  // non-overall slices, rows ascending
  std::vector<int64_t> missing;                   // per Slicer::spec_names()
};

class Slicer {
 public:
  // From config.slicing_specs and config.cross_slicing_specs.
  // InvalidArgument for an empty feature key or a cross spec whose baseline
  // and spec read the same feature.
  static Result<Slicer> Create(const EvalConfig& config);

  // Every feature a spec reads, sorted, unique (ExtractSpec::slice_keys).
  const std::vector<std::string>& feature_keys() const { return feature_keys_; }
  // One name per spec that reads features, for messages:
  // "slicing_specs[1] (island)", "cross_slicing_specs[0] (island x sex)".
  const std::vector<std::string>& spec_names() const { return spec_names_; }

  // Index (into spec_names()) of the first spec whose slices have exactly
  // the features of `slice`, or -1 (the overall slice, or none).
  int SpecIndexOf(const SliceKey& slice) const;

  // The slices of the chunk's rows. `chunk.slice_values` must be ordered as
  // feature_keys().
  void Assign(const ExtractedChunk& chunk, ChunkSlices* out) const;

 private:
  // One spec in canonical form: the features it reads, each with an optional
  // required value.
  struct Part {
    int key = 0;  // index into feature_keys_
    bool has_value = false;
    std::string value;
  };
  struct Spec {
    std::vector<Part> parts;  // sorted by feature name
  };
  Slicer() = default;
  std::vector<std::string> feature_keys_;
  bool overall_ = false;
  std::vector<Spec> specs_;  // specs with parts (overall excluded)
  std::vector<std::string> spec_names_;
};

// Drops from `slices` (overall excepted) those with fewer than
// `min_slice_size` examples; returns their keys and counts, in order.
std::vector<std::pair<SliceKey, double>> DropSmallSlices(std::vector<SliceResult>* slices,
                                                         int64_t min_slice_size);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_SLICER_H_
