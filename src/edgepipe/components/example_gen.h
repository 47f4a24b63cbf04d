// ExampleGen: ingests raw data into an Examples artifact, as TFX does.
//
// Output layout (the TFX layout):
//   <output>/Split-<name>/data_tfrecord-<i>-of-<n>.gz   gzip TFRecord of tf.Example
//   <output>/example_gen.json                          splits, counts, source, options
// The output folder is built in a temp sibling and renamed into place at the
// end, so a failure leaves no partial artifact.
//
// Records are split by a deterministic hash (Fingerprint64 of the serialized
// tf.Example) into hash buckets: record -> bucket = hash % total_buckets ->
// the split owning that bucket (splits own consecutive buckets in the order
// given). Default: train 2, eval 1 (a 2:1 split). With keep_input_splits an
// input that is already split (train/t10k IDX pairs, several CSV files,
// Split-* folders) keeps its partitions as splits.
#ifndef EDGEPIPE_COMPONENTS_EXAMPLE_GEN_H_
#define EDGEPIPE_COMPONENTS_EXAMPLE_GEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"

namespace edgepipe::components {

enum class InputFormat { kIdx, kCsv, kTFRecord };
Result<InputFormat> ParseInputFormat(std::string_view name);  // "idx" | "csv" | "tfrecord"

struct SplitConfig {
  std::string name;
  int hash_buckets = 1;
};

// Parses "train:2,eval:1".
Result<std::vector<SplitConfig>> ParseSplitConfig(std::string_view spec);

struct ExampleGenOptions {
  // A file or a folder. IDX: a folder of <prefix>-images-idx3-ubyte[.gz] and
  // <prefix>-labels-idx1-ubyte[.gz] pairs, or one images file whose labels
  // file sits beside it. CSV: a .csv file or a folder of them. TFRecord: a
  // file, a folder of files, or an Examples artifact (Split-* folders).
  std::string input;
  InputFormat format = InputFormat::kTFRecord;
  std::string output;
  std::vector<SplitConfig> splits = {{"train", 2}, {"eval", 1}};
  // Keep the input's own partitions as splits (t10k and test become eval).
  bool keep_input_splits = false;
  // Shards per split; 0 picks one per worker thread for large splits.
  int num_shards = 0;
  // gzip level of the shards (see data/compression.h): 1 = ISA-L igzip's
  // fastest; 6 = what TFX/TensorFlow write by default, smaller but ~5x slower.
  int gzip_level = 1;
  bool overwrite = false;
  // CSV cells that mean "missing" (the feature is left out of the example).
  std::vector<std::string> csv_missing_values = {"", "NA"};
  // Show a progress display on stderr.
  bool show_progress = true;
};

struct SplitSummary {
  std::string name;
  int64_t count = 0;
  int num_shards = 0;
  uint64_t bytes = 0;  // compressed bytes on disk
};

struct ExampleGenSummary {
  std::string output;
  std::vector<SplitSummary> splits;
  int64_t total() const;
};

// Runs ExampleGen. Errors name the input file, the record or line and what was
// expected; on error no output folder is left.
Result<ExampleGenSummary> RunExampleGen(const ExampleGenOptions& options,
                                        Env* env = Env::Default());

// IDX images are written as feature `image_floats` (float_list, 784 values,
// float(pixel / 255.0 - 0.5) computed in double: the exact values of TFX's
// MNIST example data, in [-0.5, 0.5]) and `image_class` (int64_list, 1 value).
float ScaleMnistPixel(uint8_t pixel);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_EXAMPLE_GEN_H_
