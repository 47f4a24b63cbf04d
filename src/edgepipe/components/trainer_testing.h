// Test helpers for the Trainer tests: a tiny, learnable stand-in for the
// MNIST Examples artifact. Digit c has image_floats -0.5 everywhere except
// pixels [78c, 78c + 78), which are 0.5, plus seeded noise in [-0.1, 0.1];
// image_class is c. A few dozen training steps of the guide's MLP separate
// the classes. Header-only; not installed.
#ifndef EDGEPIPE_COMPONENTS_TRAINER_TESTING_H_
#define EDGEPIPE_COMPONENTS_TRAINER_TESTING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::components::trainer_testing {

// The serialized tf.Example of synthetic digit number `index`, label index % 10.
inline std::string SyntheticDigit(int64_t index) {
  const int64_t label = index % 10;
  uint64_t state = static_cast<uint64_t>(index) * 6364136223846793005ull + 1442695040888963407ull;
  std::vector<float> pixels(784);
  for (size_t i = 0; i < pixels.size(); ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const float noise = static_cast<float>((state >> 40) % 2001) / 10000.0f - 0.1f;
    const bool on = static_cast<int64_t>(i) / 78 == label;
    pixels[i] = (on ? 0.5f : -0.5f) + noise;
  }
  tf::Example ex;
  data::SetFloats(&ex, "image_floats", pixels);
  const int64_t labels[1] = {label};
  data::SetInt64s(&ex, "image_class", labels);
  return data::SerializeDeterministic(ex);
}

// Writes an Examples artifact at `dir`: Split-train (train examples) and
// Split-eval (eval examples), one gzip TFRecord shard each, the layout of
// ExampleGen.
inline Status WriteSyntheticExamples(const std::string& dir, int64_t train, int64_t eval) {
  int64_t index = 0;
  for (const auto& [split, count] : {std::pair<std::string, int64_t>{"train", train},
                                     std::pair<std::string, int64_t>{"eval", eval}}) {
    const std::string split_dir = JoinPath(dir, "Split-" + split);
    RETURN_IF_ERROR(Env::Default()->CreateDirs(split_dir));
    ASSIGN_OR_RETURN(auto writer, data::TFRecordWriter::Open(
                                      JoinPath(split_dir, "data_tfrecord-00000-of-00001.gz"),
                                      {.gzip_level = 1}));
    for (int64_t i = 0; i < count; ++i) RETURN_IF_ERROR(writer->Write(SyntheticDigit(index++)));
    RETURN_IF_ERROR(writer->Close());
  }
  return Status::Ok();
}

}  // namespace edgepipe::components::trainer_testing

#endif  // EDGEPIPE_COMPONENTS_TRAINER_TESTING_H_
