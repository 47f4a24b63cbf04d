// DatasetFeed: the BatchFeed over a data::Dataset, as Keras' model.fit(dataset)
// with a TFX input_fn: each model input takes the batch feature of the same
// name, the labels are the feature `label_key`.
//
// Every numeric feature converts to float32 for the model; the labels keep
// their dtype (int64 class ids from tf.Example). Features the model does not
// use are ignored. Errors (InvalidArgument) name the model, the input or
// label and what the batch holds:
//   model "mnist": input "image_floats" is not a feature of the batch
//       (model inputs: image_floats; batch features: image_class, pixels)
//   model "mnist": input "image_floats" expects shape (None, 784), feature
//       "image_floats" is float32 [40, 28, 28]
//   label "image_class" is not a feature of the batch (batch features: ...)
//
// Ownership: the dataset is borrowed and must outlive the feed.
// Thread safety: none.
#ifndef EDGEPIPE_NN_DATASET_FEED_H_
#define EDGEPIPE_NN_DATASET_FEED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgepipe/data/dataset.h"
#include "edgepipe/nn/batching.h"
#include "edgepipe/nn/tensor.h"

namespace edgepipe::nn {

class DatasetFeed final : public BatchFeed {
 public:
  // `input_names` / `input_shapes`: the model's inputs (model-level shapes,
  // batch dim first). An empty `label_key` feeds no labels (Predict).
  DatasetFeed(data::Dataset* dataset, std::string model_name, std::vector<std::string> input_names,
              std::vector<Shape> input_shapes, std::string label_key);

  // Resets the dataset (data::Dataset::Reset).
  Status Restart() override;
  int64_t BatchesPerPass() const override { return -1; }
  // Pulls one Batch and maps it; first_example counts the examples of the
  // batches before it since the last Restart().
  Result<bool> Next(FeedBatch* batch) override;

 private:
  data::Dataset* dataset_;
  std::string model_name_;
  std::vector<std::string> input_names_;
  std::vector<Shape> input_shapes_;
  std::string label_key_;
  int64_t examples_ = 0;
};

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_DATASET_FEED_H_
