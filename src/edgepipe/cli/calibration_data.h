// Calibration (representative) data for `edgepipe convert --quantize int8`,
// read from files named on the command line. A spec is one of:
//   - a TFRecord file, or a shard pattern (data/tfrecord.h MatchFiles), of
//     tf.Examples (ExampleGen's output, gzip or not): every signature input
//     is the float or int64 feature of the same name, holding exactly the
//     input's per-row element count (int64 values become float32);
//   - NAME=FILE.npy: rows [N, ...per-row dims] for signature input NAME
//     (float32, or an integer dtype converted to float32); FILE.npy alone
//     when the signature has a single input.
// Specs of one kind only: TFRecords (read in order, as one sequence) or
// .npy files (one per signature input, all with the same N).
#ifndef EDGEPIPE_CLI_CALIBRATION_DATA_H_
#define EDGEPIPE_CLI_CALIBRATION_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/model/signature_runner.h"

namespace edgepipe::cli {

struct CalibrationOptions {
  int64_t max_rows = 100;   // rows (examples) read; <= 0: all of them
  int64_t batch_rows = 16;  // rows per returned batch (> 0)
};

// Reads the rows `specs` name for `signature`'s inputs and returns them as
// batches keyed by signature input name (float32 [n, ...per-row dims], n <=
// batch_rows), the form TFLiteRewriterOptions::representative_dataset
// takes. Errors (InvalidArgument, NotFound, DataLoss) name the file, the
// record or row where it applies, the input and the rule, e.g.
//   "train.gz: record 3: feature "image_floats" has 10 values; input
//   "image_floats" needs 784 (shape [784])".
// No rows at all is an error. Reads files through `env` (not owned).
Result<std::vector<model::NamedArrays>> ReadCalibrationData(const std::vector<std::string>& specs,
                                                            const model::Signature& signature,
                                                            const CalibrationOptions& options,
                                                            Env* env = Env::Default());

}  // namespace edgepipe::cli

#endif  // EDGEPIPE_CLI_CALIBRATION_DATA_H_
