// Input readers of ExampleGen: each turns one input partition (an IDX
// image/label pair, a CSV file, a set of TFRecord files) into a stream of
// serialized tf.Examples. Serialization is deterministic (map keys sorted), so
// the hash split of a record never changes between runs.
//
// Not thread-safe; a source may use the default thread pool internally.
#ifndef EDGEPIPE_COMPONENTS_EXAMPLE_SOURCES_H_
#define EDGEPIPE_COMPONENTS_EXAMPLE_SOURCES_H_

#include <memory>
#include <string>
#include <vector>

#include "edgepipe/components/example_gen.h"
#include "edgepipe/core/file.h"

namespace edgepipe::components {

class ExampleSource {
 public:
  virtual ~ExampleSource() = default;
  // Writes up to `max` serialized tf.Examples into `out`, which is resized
  // to the count returned (0 at the end); existing strings are overwritten so
  // their memory is reused from chunk to chunk.
  virtual Result<size_t> Next(size_t max, std::vector<std::string>* out) = 0;
  // Total number of records, or -1 when unknown before reading.
  virtual int64_t size_hint() const = 0;
};

struct Partition {
  std::string name;  // the split name it keeps with keep_input_splits
  std::unique_ptr<ExampleSource> source;
};

struct SourceOptions {
  std::vector<std::string> csv_missing_values = {"", "NA"};
};

// Finds the partitions of `input` (see ExampleGenOptions::input). Names:
// the IDX prefix / CSV file stem / Split-* suffix; "t10k" and "test" become
// "eval". Errors name the path and what was expected there.
Result<std::vector<Partition>> OpenPartitions(const std::string& input, InputFormat format,
                                              const SourceOptions& options, Env* env);

// The record files of a folder of TFRecord shards, sorted: every plain file
// except hidden ones ('.', '_') and JSON sidecars (example_gen.json).
Result<std::vector<std::string>> ListExampleFiles(const std::string& dir, Env* env);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_EXAMPLE_SOURCES_H_
