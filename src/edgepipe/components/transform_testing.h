// Test helpers for the transform tests (header-only; not library API).
#ifndef EDGEPIPE_COMPONENTS_TRANSFORM_TESTING_H_
#define EDGEPIPE_COMPONENTS_TRANSFORM_TESTING_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "edgepipe/components/transform_graph.h"
#include "edgepipe/data/dataset.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"

namespace edgepipe::components::testing {

// One raw record of the tests' small data set: x (float), n (int64),
// city (string), v (float[3]).
struct Row {
  float x = 0;
  int64_t n = 0;
  std::string city;
  std::vector<float> v = {0, 0, 0};
};

inline std::string Serialize(const Row& r) {
  tf::Example ex;
  data::SetFloats(&ex, "x", std::vector<float>{r.x});
  data::SetInt64s(&ex, "n", std::vector<int64_t>{r.n});
  data::SetBytes(&ex, "city", std::vector<std::string>{r.city});
  data::SetFloats(&ex, "v", r.v);
  return data::SerializeDeterministic(ex);
}

inline std::vector<data::FeatureSpec> RawSpecs() {
  return {data::FeatureSpec::Float32("x"), data::FeatureSpec::Int64("n"),
          data::FeatureSpec::String("city"), data::FeatureSpec::Float32("v", {3})};
}

inline std::vector<std::string> SerializeAll(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows) out.push_back(Serialize(r));
  return out;
}

// A dataset of the rows parsed by `specs`, in batches of `batch` records.
inline std::unique_ptr<data::Dataset> RowDataset(const std::vector<Row>& rows,
                                                 std::vector<data::FeatureSpec> specs = RawSpecs(),
                                                 int64_t batch = 3) {
  auto ds = data::NewExampleDataset(std::make_unique<data::MemoryRecordSource>(SerializeAll(rows)),
                                    std::move(specs), {.batch_size = batch});
  EXPECT_TRUE(ds.ok()) << ds.status();
  return ds.ok() ? std::move(*ds) : nullptr;
}

// All rows as one batch.
inline data::Batch RowBatch(const std::vector<Row>& rows,
                            std::vector<data::FeatureSpec> specs = RawSpecs()) {
  auto b = data::ParseExamples(SerializeAll(rows), specs);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? std::move(*b) : data::Batch{};
}

// The small data set: x = 1..n-ish values, cities with known frequencies.
inline std::vector<Row> SmallRows() {
  return {
      {1.0f, 10, "b", {0, 1, 2}},  {2.0f, 20, "a", {3, 4, 5}}, {4.0f, 30, "c", {6, 7, 8}},
      {-3.0f, 40, "a", {1, 1, 1}}, {8.5f, 50, "b", {2, 2, 2}}, {0.5f, 60, "a", {9, 9, 9}},
      {2.5f, 70, "d", {4, 4, 4}},
  };
}

}  // namespace edgepipe::components::testing

#endif  // EDGEPIPE_COMPONENTS_TRANSFORM_TESTING_H_
