// Reading and extracting examples for the Evaluator: the records come in
// chunks of consecutive examples (ExampleReader), and each chunk is parsed
// once (Extractor) into what the evaluation needs and nothing more: the
// label, the example weight, the values of the slice features and the model
// input features.
//
//   ASSIGN_OR_RETURN(auto reader, ExampleReader::Open("pipeline/ExampleGen/examples/7"));
//   ASSIGN_OR_RETURN(Extractor ex, Extractor::Create(spec));
//   ExampleChunk chunk;
//   while (true) {
//     ASSIGN_OR_RETURN(bool more, reader->Next(256, &chunk));
//     if (!more) break;
//     ASSIGN_OR_RETURN(ExtractedChunk got, ex.Extract(chunk));
//   }
//
// Errors name the file and the example's index in it (from 0), e.g.
//   eval.tfrecord.gz: example 17: label "image_class" is missing
// A slice feature that an example lacks is not an error: its value list is
// empty and the slicer reports the example as missing from that slice.
//
// Thread safety: an ExampleReader and an Extractor are each used by one
// thread at a time; an Extractor is cheap to copy (one per thread).
#ifndef EDGEPIPE_EVAL_EXTRACT_H_
#define EDGEPIPE_EVAL_EXTRACT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::eval {

// The TFRecord files of `path`: a file (TFRecord, gzip or not) is itself; a
// folder holding `Split-<split>` (an Examples artifact) gives that split's
// files; any other folder gives its files (sorted; names starting with '.'
// or '_' skipped). NotFound naming the path (and the splits present, for an
// artifact without the split) when nothing is found.
Result<std::vector<std::string>> ResolveExampleFiles(const std::string& path,
                                                     const std::string& split = "eval",
                                                     Env* env = Env::Default());

// Consecutive records of one file. ExampleReader fills `views` (no copy of
// the records: they point into the reader's buffer blocks, which `blocks`
// keeps alive); a chunk built by hand fills `records` instead. record(i)
// reads either.
struct ExampleChunk {
  std::string file;                          // the file they come from
  int64_t first_index = 0;                   // global index of records[0] over all files
  int64_t first_in_file = 0;                 // index of records[0] within `file`
  std::vector<std::string> records;          // owned records (when views is empty)
  std::vector<std::string_view> views = {};  // records as views into `blocks`
  std::vector<data::TFRecordBlock> blocks = {};
  // Set by ExampleReader with defer_data_crc: the views' data crcs are not
  // checked yet; `offsets` are the records' byte offsets in `file`
  // (uncompressed when `gzip`) for the message.
  bool crc_pending = false;
  bool gzip = false;
  std::vector<uint64_t> offsets = {};

  int64_t size() const {
    return static_cast<int64_t>(views.empty() ? records.size() : views.size());
  }
  std::string_view record(int64_t i) const {
    return views.empty() ? std::string_view(records[static_cast<size_t>(i)])
                         : views[static_cast<size_t>(i)];
  }
  // Checks the data crcs left pending (no-op otherwise) and clears
  // crc_pending: the first mismatch is the DataLoss TFRecordReader gives
  // ("x.tfrecord: record 17 at byte 40960: data crc mismatch: ...").
  // Thread-safe for distinct chunks; meant to run outside the reader's lock.
  Status VerifyDataCrcs();
};

struct ExampleReaderOptions {
  std::string split = "eval";  // for Examples artifacts
  Env* env = Env::Default();   // borrowed
  // Leave the records' data crcs to ExampleChunk::VerifyDataCrcs (which
  // Extractor::Extract calls), so that a reader shared under a lock only
  // frames records. Framing errors (length crc, truncation) still come
  // from Next.
  bool defer_data_crc = false;
  // Bytes per read buffer block (records larger than this get a larger one).
  size_t block_size = size_t{1} << 20;
};

class ExampleReader {
 public:
  static Result<std::unique_ptr<ExampleReader>> Open(const std::string& path,
                                                     const ExampleReaderOptions& options = {});
  const std::vector<std::string>& files() const { return files_; }
  // Fills `chunk` with up to `max_records` (>= 1) next records as views
  // (chunk->records cleared; the chunk's earlier blocks are released),
  // never spanning two files; returns false (chunk empty) after the last
  // record. TFRecord errors (DataLoss naming the file, record and byte) are
  // returned.
  Result<bool> Next(int64_t max_records, ExampleChunk* chunk);
  int64_t records_read() const { return next_index_; }

 private:
  ExampleReader(std::vector<std::string> files, const ExampleReaderOptions& options)
      : files_(std::move(files)), options_(options) {}
  std::vector<std::string> files_;
  ExampleReaderOptions options_;
  size_t file_ = 0;
  int64_t next_index_ = 0;
  int64_t in_file_ = 0;
  std::unique_ptr<data::TFRecordReader> reader_;
};

// What to extract from each example.
struct ExtractSpec {
  std::string label_key;           // required; int64 or float values
  std::string example_weight_key;  // optional; one int64 or float value
  // Number of classes when labels are class ids (K > 1 outputs): a label
  // must then be an integer in [0, num_classes). 0: not checked.
  int num_classes = 0;
  std::vector<std::string> slice_keys;      // features the slicer reads
  std::vector<data::FeatureSpec> features;  // model inputs, fixed length
  bool keep_serialized = false;             // keep the records (native kExamples)
  // Read records with the wire-format fast path (example_wire.h) where it
  // applies; false: always through protobuf. Same results either way.
  bool fast_parse = true;
};

// A parsed chunk. Rows are the chunk's examples in order.
struct ExtractedChunk {
  int64_t size = 0;
  std::string file;
  int64_t first_in_file = 0;
  std::vector<int64_t> example_ids;  // global example indices
  // size * label_width values; label_width is the label's value count (1 for
  // class ids / binary labels, K for one-hot), equal for every example.
  std::vector<float> labels;
  int label_width = 1;
  std::vector<float> weights;  // size values; empty when no weight key
  // Model inputs: ExtractSpec::features as numeric Arrays [size, ...shape]
  // (int64 features as int64; float as float32).
  data::Batch features;
  // slice_values[k][i]: the values of slice_keys[k] in example i as text
  // (int64 decimal, float %g, bytes as is), duplicates removed; empty when
  // the example lacks the feature (or its list is empty).
  std::vector<std::vector<std::vector<std::string>>> slice_values;
  std::vector<std::string> records;  // when keep_serialized (moved from the chunk)
};

class Extractor {
 public:
  // InvalidArgument for an empty label_key or bad feature specs.
  static Result<Extractor> Create(ExtractSpec spec);
  const ExtractSpec& spec() const { return spec_; }

  // Parses every record of `chunk` (moved from when keep_serialized), after
  // checking pending data crcs (ExampleChunk::VerifyDataCrcs). Errors
  // (InvalidArgument / DataLoss) name chunk.file and the example's index in
  // it: not a tf.Example; label missing, of bytes kind, with a count
  // different from earlier examples, or out of range; weight missing, not a
  // single number, or negative; a model feature missing or of the wrong
  // count.
  Result<ExtractedChunk> Extract(ExampleChunk&& chunk);
  // As above, into `*out`, reusing its buffers (feature arrays of the same
  // shape, label / id / slice value vectors): a worker passing the same
  // `out` for every chunk allocates nothing per chunk in steady state. On
  // error *out is unspecified.
  Status Extract(ExampleChunk&& chunk, ExtractedChunk* out);

 private:
  explicit Extractor(ExtractSpec spec) : spec_(std::move(spec)) {}
  ExtractSpec spec_;
  int label_width_ = 0;            // learned from the first example
  std::vector<int64_t> elements_;  // per feature: values per example (scratch)
  std::vector<void*> dst_;         // per feature: the output array (scratch)
};

// The feature names of one serialized tf.Example, sorted (for messages and
// ModelRunner::CheckFeatures). InvalidArgument when it does not parse.
Result<std::vector<std::string>> FeatureNamesOf(std::string_view serialized);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_EXTRACT_H_
