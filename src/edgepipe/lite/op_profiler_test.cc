// Interpreter::set_profiler: one OnOp call per op per Invoke, in order, with
// non-negative times; off by default.
#include "edgepipe/lite/op_profiler.h"

#include <gtest/gtest.h>

#include <cstring>

#include "edgepipe/lite/interpreter.h"

namespace edgepipe::lite {
namespace {

class RecordingProfiler : public OpProfiler {
 public:
  void OnOp(int op_index, int64_t ns) override {
    order.push_back(op_index);
    if (ns < 0) negative = true;
  }
  std::vector<int> order;
  bool negative = false;
};

std::unique_ptr<Interpreter> Make(std::shared_ptr<const Model>* keep) {
  auto m = Model::Load(std::string(EDGEPIPE_SHARED_DIR) +
                       "/fixtures/tflite/micro_speech_quantized.tflite");
  EXPECT_TRUE(m.ok()) << m.status();
  *keep = std::shared_ptr<const Model>(std::move(*m));
  auto in = Interpreter::Create(*keep, BuiltinOpResolver());
  EXPECT_TRUE(in.ok()) << in.status();
  return std::move(*in);
}

TEST(OpProfilerTest, CalledOncePerOpInOrder) {
  std::shared_ptr<const Model> model;
  auto in = Make(&model);
  ASSERT_EQ(in->num_ops(), 4);
  EXPECT_EQ(in->op_name(1), "DEPTHWISE_CONV_2D");
  ASSERT_TRUE(in->AllocateTensors().ok());
  auto span = in->mutable_input_data(0);
  ASSERT_TRUE(span.ok());
  std::memset(span->data(), 3, span->size());
  RecordingProfiler rec;
  ASSERT_TRUE(in->Invoke().ok());
  EXPECT_TRUE(rec.order.empty());  // not attached yet
  in->set_profiler(&rec);
  ASSERT_TRUE(in->Invoke().ok());
  ASSERT_TRUE(in->Invoke().ok());
  EXPECT_EQ(rec.order, (std::vector<int>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_FALSE(rec.negative);
  in->set_profiler(nullptr);
  ASSERT_TRUE(in->Invoke().ok());
  EXPECT_EQ(rec.order.size(), 8u);
}

TEST(OpProfilerTest, TimeProfilerSumsPerOp) {
  std::shared_ptr<const Model> model;
  auto in = Make(&model);
  ASSERT_TRUE(in->AllocateTensors().ok());
  auto span = in->mutable_input_data(0);
  ASSERT_TRUE(span.ok());
  std::memset(span->data(), 1, span->size());
  OpTimeProfiler prof(in->num_ops());
  in->set_profiler(&prof);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(in->Invoke().ok());
  int64_t sum = 0;
  for (int o = 0; o < prof.num_ops(); ++o) {
    EXPECT_EQ(prof.calls(o), 5) << o;
    EXPECT_GE(prof.total_ns(o), 0);
    sum += prof.total_ns(o);
  }
  EXPECT_EQ(prof.sum_ns(), sum);
  EXPECT_GT(sum, 0);
  // The depthwise conv does far more work than the reshape.
  EXPECT_GT(prof.total_ns(1), prof.total_ns(0));
  prof.OnOp(99, 5);  // out of range: ignored
  prof.Reset();
  EXPECT_EQ(prof.sum_ns(), 0);
  EXPECT_EQ(prof.calls(2), 0);
  // Arena bounds are known after AllocateTensors.
  EXPECT_GT(in->arena_lower_bound(), 0u);
  EXPECT_GE(in->arena_bytes(), in->arena_lower_bound());
  EXPECT_LE(in->arena_bytes(), in->unshared_bytes() + 64 * in->tensors().size());
}

}  // namespace
}  // namespace edgepipe::lite
