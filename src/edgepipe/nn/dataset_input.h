// Training input from TFRecord files in one call: TFX's
//   _input_fn(file_pattern, data_accessor, schema/feature_specs, label_key, batch_size)
// as an edgepipe function.
//
//   ASSIGN_OR_RETURN(auto train, MakeInputDataset(
//       {args.train_files}, {FeatureSpec::Float32("image_floats", {784}),
//                            FeatureSpec::Int64("image_class")},
//       "image_class", {.batch_size = 40}));
//   ASSIGN_OR_RETURN(History h, model.Fit(*train, {.label_key = "image_class",
//                                                  .steps_per_epoch = 5000}));
//
// The records are re-read from disk on every pass (nothing is cached), so a
// repeated dataset costs one shuffle buffer of memory, not the data set.
// Thread safety: the returned objects are used from one thread at a time.
#ifndef EDGEPIPE_NN_DATASET_INPUT_H_
#define EDGEPIPE_NN_DATASET_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/data/dataset.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::nn {

// The records of TFRecord files (plain or gzip, detected per file), in the
// order of `paths`; Reset() reopens the first file. NotFound for an empty
// list or a missing file (checked here, up front); read errors come from
// Next() as TFRecordReader reports them (file, record, byte offset). `env` is
// borrowed and must outlive the source.
Result<std::unique_ptr<data::RecordSource>> NewTFRecordSource(
    std::vector<std::string> paths, const data::TFRecordReaderOptions& options = {},
    Env* env = Env::Default());

// Options of MakeInputDataset; the defaults are those of TFX's
// TensorFlowDatasetOptions (shuffle buffer 10,000, repeat forever).
struct InputDatasetOptions {
  int64_t batch_size = 32;
  // Records held by the shuffle buffer; 0 keeps the files' order.
  size_t shuffle_buffer = 10000;
  uint64_t seed = 0;
  // Passes over the files; -1 repeats forever (then Fit with steps_per_epoch).
  int64_t num_epochs = -1;
  // Drop a final short batch (only matters when num_epochs ends the stream).
  bool drop_remainder = false;
  Env* env = Env::Default();  // borrowed
};

// A dataset of parsed, shuffled, repeated batches over the files matching
// `file_patterns` (each a path whose last component may hold * ? [...], e.g.
// "<examples>/Split-train/*"; the matches of all patterns, each pattern's
// sorted, duplicates dropped). `label_key` must name one of `specs`: the batches
// carry it along with the features, for Fit's DatasetFitOptions::label_key.
// Errors: NotFound when a pattern matches nothing; InvalidArgument for bad
// specs, a label_key not among them, batch_size < 1 or num_epochs < -1.
Result<std::unique_ptr<data::Dataset>> MakeInputDataset(
    const std::vector<std::string>& file_patterns, std::vector<data::FeatureSpec> specs,
    std::string_view label_key, const InputDatasetOptions& options = {});

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_DATASET_INPUT_H_
