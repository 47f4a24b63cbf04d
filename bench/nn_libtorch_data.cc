#include "bench/nn_libtorch_data.h"

#include <cstring>
#include <vector>

#include "edgepipe/components/example_gen.h"
#include "edgepipe/components/example_sources.h"
#include "edgepipe/core/hash.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/data/idx.h"
#include "edgepipe/nn/random.h"

namespace edgepipe::bench {
namespace {

// Appends the parsed image_floats / image_class of `records` to the vectors.
Status AppendParsed(const std::vector<std::string>& records, std::vector<float>* x,
                    std::vector<int64_t>* y) {
  if (records.empty()) return Status::Ok();
  static const std::vector<data::FeatureSpec> kSpecs = {
      data::FeatureSpec::Float32("image_floats", {784}), data::FeatureSpec::Int64("image_class")};
  ASSIGN_OR_RETURN(data::Batch batch, data::ParseExamples(records, kSpecs));
  ASSIGN_OR_RETURN(const Array* images, batch.GetArray("image_floats"));
  ASSIGN_OR_RETURN(const Array* labels, batch.GetArray("image_class"));
  x->insert(x->end(), images->data<float>().begin(), images->data<float>().end());
  y->insert(y->end(), labels->data<int64_t>().begin(), labels->data<int64_t>().end());
  return Status::Ok();
}

Result<LabeledImages> FromVectors(const std::vector<float>& x, const std::vector<int64_t>& y) {
  const auto n = static_cast<int64_t>(y.size());
  LabeledImages out;
  ASSIGN_OR_RETURN(out.x, Array::FromVector<float>({n, 784}, x));
  ASSIGN_OR_RETURN(out.y, Array::FromVector<int64_t>({n}, y));
  return out;
}

Result<LabeledImages> ReadFashion(const std::string& images, const std::string& labels) {
  ASSIGN_OR_RETURN(data::IdxImagesAndLabels idx, data::ReadIdxImagesAndLabels(images, labels));
  const int64_t n = idx.labels.dim(0);
  const int64_t pixels = idx.images.num_elements() / n;
  if (pixels != 784) {
    return Status::InvalidArgument(images + ": images have " + std::to_string(pixels) +
                                   " pixels, the benchmark models need 784 (28x28)");
  }
  LabeledImages out;
  ASSIGN_OR_RETURN(out.x, Array::Uninitialized(DType::kFloat32, {n, 784}));
  ASSIGN_OR_RETURN(out.y, Array::Uninitialized(DType::kInt64, {n}));
  auto src = idx.images.data<uint8_t>();
  auto dst = out.x.data<float>();
  for (size_t i = 0; i < src.size(); ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
  auto lsrc = idx.labels.data<uint8_t>();
  auto ldst = out.y.data<int64_t>();
  for (size_t i = 0; i < lsrc.size(); ++i) ldst[i] = lsrc[i];
  return out;
}

}  // namespace

Result<LabeledImages> SyntheticImages(int64_t n, uint64_t seed) {
  LabeledImages out;
  ASSIGN_OR_RETURN(out.x, Array::Uninitialized(DType::kFloat32, {n, 784}));
  ASSIGN_OR_RETURN(out.y, Array::Uninitialized(DType::kInt64, {n}));
  nn::Rng rng(seed);
  for (float& v : out.x.data<float>()) v = rng.Uniform();
  for (int64_t& v : out.y.data<int64_t>()) v = static_cast<int64_t>(rng.Below(10));
  return out;
}

Result<TrainTest> LoadMnistExampleGenSplit(const std::string& idx_dir) {
  // ExampleGen's default split: train 2 buckets, eval 1; a record goes to
  // bucket Fingerprint64(serialized) % 3 (components/example_gen.h).
  ASSIGN_OR_RETURN(
      std::vector<components::Partition> parts,
      components::OpenPartitions(idx_dir, components::InputFormat::kIdx, {}, Env::Default()));
  std::vector<float> train_x, test_x;
  std::vector<int64_t> train_y, test_y;
  std::vector<std::string> chunk, train_records, test_records;
  for (components::Partition& part : parts) {
    while (true) {
      ASSIGN_OR_RETURN(size_t n, part.source->Next(4096, &chunk));
      if (n == 0) break;
      train_records.clear();
      test_records.clear();
      for (size_t i = 0; i < n; ++i) {
        (Fingerprint64(chunk[i]) % 3 < 2 ? train_records : test_records).push_back(chunk[i]);
      }
      RETURN_IF_ERROR(AppendParsed(train_records, &train_x, &train_y));
      RETURN_IF_ERROR(AppendParsed(test_records, &test_x, &test_y));
    }
  }
  if (train_y.empty() || test_y.empty()) {
    return Status::InvalidArgument(idx_dir + ": no MNIST records in one of the splits (train " +
                                   std::to_string(train_y.size()) + ", eval " +
                                   std::to_string(test_y.size()) + ")");
  }
  TrainTest out;
  ASSIGN_OR_RETURN(out.train, FromVectors(train_x, train_y));
  ASSIGN_OR_RETURN(out.test, FromVectors(test_x, test_y));
  return out;
}

Result<TrainTest> LoadFashionMnist(const std::string& dir) {
  TrainTest out;
  ASSIGN_OR_RETURN(out.train, ReadFashion(dir + "/train-images-idx3-ubyte.gz",
                                          dir + "/train-labels-idx1-ubyte.gz"));
  ASSIGN_OR_RETURN(out.test, ReadFashion(dir + "/t10k-images-idx3-ubyte.gz",
                                         dir + "/t10k-labels-idx1-ubyte.gz"));
  return out;
}

Status ToImageShape(LabeledImages* data) { return data->x.Reshape({data->x.dim(0), 28, 28, 1}); }

}  // namespace edgepipe::bench
