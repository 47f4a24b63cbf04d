#include "edgepipe/components/example_gen.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "edgepipe/core/array.h"
#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/idx.h"
#include "edgepipe/data/tfrecord.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace edgepipe::components {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ExampleGenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("example_gen_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes an IDX pair <prefix>-images-idx3-ubyte / -labels-idx1-ubyte of
  // `n` random 4x3 images; returns the images and labels.
  std::pair<std::vector<uint8_t>, std::vector<uint8_t>> WriteIdxPair(const std::string& prefix,
                                                                     int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> pixels(static_cast<size_t>(n) * 12);
    std::vector<uint8_t> labels(static_cast<size_t>(n));
    for (auto& p : pixels) p = static_cast<uint8_t>(rng());
    for (auto& l : labels) l = static_cast<uint8_t>(rng() % 10);
    auto images = Array::FromVector<uint8_t>({n, 4, 3}, pixels);
    auto lab = Array::FromVector<uint8_t>({n}, labels);
    EXPECT_TRUE(images.ok() && lab.ok());
    EXPECT_TRUE(data::WriteIdx(Path(prefix + "-images-idx3-ubyte"), *images).ok());
    EXPECT_TRUE(data::WriteIdx(Path(prefix + "-labels-idx1-ubyte.gz"), *lab).ok());
    return {pixels, labels};
  }

  fs::path dir_;
};

std::vector<std::string> ReadSplit(const std::string& examples, const std::string& split) {
  std::vector<std::string> records;
  fs::path dir = fs::path(examples) / ("Split-" + split);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    auto reader = data::TFRecordReader::Open(f);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return records;
    std::string rec;
    while (true) {
      auto more = (*reader)->Next(&rec);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      records.push_back(rec);
    }
  }
  return records;
}

std::string Deterministic(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

TEST_F(ExampleGenTest, IdxSplitsTwoToOneAndKeepsEveryImage) {
  const int n = 3000;
  auto [pixels, labels] = WriteIdxPair("digits", n, 1);
  ExampleGenOptions o;
  o.input = dir_.string();
  o.format = InputFormat::kIdx;
  o.output = Path("out");
  o.show_progress = false;
  auto summary = RunExampleGen(o);
  ASSERT_TRUE(summary.ok()) << summary.status();
  ASSERT_EQ(summary->splits.size(), 2u);
  EXPECT_EQ(summary->splits[0].name, "train");
  EXPECT_EQ(summary->splits[1].name, "eval");
  EXPECT_EQ(summary->total(), n);
  // eval gets 1/3 of the records: binomial sd = sqrt(3000 * 1/3 * 2/3) ~ 26.
  EXPECT_NEAR(static_cast<double>(summary->splits[1].count), n / 3.0, 4 * 26.0);

  // Every image appears exactly once, with the TFX MNIST scaling and its label.
  std::multiset<std::string> expected;
  for (int i = 0; i < n; ++i) {
    tf::Example ex;
    auto& fmap = *ex.mutable_features()->mutable_feature();
    auto* floats = fmap["image_floats"].mutable_float_list();
    for (int p = 0; p < 12; ++p) {
      floats->add_value(static_cast<float>(pixels[static_cast<size_t>(i * 12 + p)] / 255.0 - 0.5));
    }
    fmap["image_class"].mutable_int64_list()->add_value(labels[static_cast<size_t>(i)]);
    expected.insert(Deterministic(ex));
  }
  std::multiset<std::string> got;
  for (const char* split : {"train", "eval"}) {
    auto recs = ReadSplit(o.output, split);
    EXPECT_EQ(static_cast<int64_t>(recs.size()),
              summary->splits[split == std::string("train") ? 0 : 1].count);
    got.insert(recs.begin(), recs.end());
  }
  // Our hand-written wire encoding equals protobuf's deterministic serialization.
  EXPECT_TRUE(got == expected);
  EXPECT_TRUE(fs::exists(Path("out/example_gen.json")));
  // No temp folders are left beside the output.
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST_F(ExampleGenTest, DeterministicAcrossRunsAndShardCounts) {
  WriteIdxPair("digits", 500, 2);
  ExampleGenOptions o;
  o.input = dir_.string();
  o.format = InputFormat::kIdx;
  o.show_progress = false;
  o.output = Path("a");
  ASSERT_TRUE(RunExampleGen(o).ok());
  o.output = Path("b");
  ASSERT_TRUE(RunExampleGen(o).ok());
  o.output = Path("c");
  o.num_shards = 3;
  ASSERT_TRUE(RunExampleGen(o).ok());
  for (const char* split : {"train", "eval"}) {
    auto a = ReadSplit(Path("a"), split);
    EXPECT_EQ(a, ReadSplit(Path("b"), split));
    auto c = ReadSplit(Path("c"), split);
    EXPECT_EQ(std::multiset<std::string>(a.begin(), a.end()),
              std::multiset<std::string>(c.begin(), c.end()));
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(Path("c/Split-train")), fs::directory_iterator()),
            3);
}

TEST_F(ExampleGenTest, ConfigurableSplitsAndRatios) {
  WriteIdxPair("digits", 2000, 3);
  ExampleGenOptions o;
  o.input = dir_.string();
  o.format = InputFormat::kIdx;
  o.show_progress = false;
  o.output = Path("out");
  auto splits = ParseSplitConfig("train:8,validation:1,test:1");
  ASSERT_TRUE(splits.ok()) << splits.status();
  o.splits = *splits;
  auto s = RunExampleGen(o);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->splits.size(), 3u);
  EXPECT_EQ(s->splits[2].name, "test");
  // sd of a 1/10 share of 2000 ~ 13.4.
  EXPECT_NEAR(static_cast<double>(s->splits[0].count), 1600, 4 * 17.9);
  EXPECT_NEAR(static_cast<double>(s->splits[1].count), 200, 4 * 13.4);
  EXPECT_TRUE(fs::is_directory(Path("out/Split-validation")));
}

TEST_F(ExampleGenTest, KeepsInputSplitsAsGiven) {
  WriteIdxPair("train", 120, 4);
  WriteIdxPair("t10k", 30, 5);
  ExampleGenOptions o;
  o.input = dir_.string();
  o.format = InputFormat::kIdx;
  o.keep_input_splits = true;
  o.show_progress = false;
  o.output = Path("out");
  auto s = RunExampleGen(o);
  ASSERT_TRUE(s.ok()) << s.status();
  std::map<std::string, int64_t> counts;
  for (const auto& sp : s->splits) counts[sp.name] = sp.count;
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"eval", 30}, {"train", 120}}));
  EXPECT_EQ(ReadSplit(Path("out"), "eval").size(), 30u);
}

TEST(ExampleGenScaling, MatchesTheTfxMnistFixtureExactly) {
  // Every value of TensorFlow's mnist.tfrecord is one of our 256 scaled pixels,
  // and together they use all 256.
  std::set<float> ours;
  for (int p = 0; p < 256; ++p) ours.insert(ScaleMnistPixel(static_cast<uint8_t>(p)));
  ASSERT_EQ(ours.size(), 256u);
  auto reader =
      data::TFRecordReader::Open(std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tfx/mnist.tfrecord");
  ASSERT_TRUE(reader.ok()) << reader.status();
  std::set<float> seen;
  std::string rec;
  int records = 0;
  while (true) {
    auto more = (*reader)->Next(&rec);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    ++records;
    tf::Example ex;
    ASSERT_TRUE(ex.ParseFromString(rec));
    for (float v : ex.features().feature().at("image_floats").float_list().value()) {
      ASSERT_TRUE(ours.count(v)) << "fixture value " << v << " is not a scaled pixel";
      seen.insert(v);
    }
  }
  EXPECT_EQ(records, 1000);
  EXPECT_EQ(seen.size(), 256u);
}

TEST_F(ExampleGenTest, ImportsTFRecordUnchanged) {
  const std::string fixture = std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tfx/mnist.tfrecord";
  ExampleGenOptions o;
  o.input = fixture;
  o.format = InputFormat::kTFRecord;
  o.show_progress = false;
  o.output = Path("out");
  auto s = RunExampleGen(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->total(), 1000);
  std::multiset<std::string> got;
  for (const char* split : {"train", "eval"}) {
    auto recs = ReadSplit(o.output, split);
    got.insert(recs.begin(), recs.end());
  }
  std::multiset<std::string> want;
  auto reader = data::TFRecordReader::Open(fixture);
  ASSERT_TRUE(reader.ok());
  std::string rec;
  while (*(*reader)->Next(&rec)) want.insert(rec);
  EXPECT_TRUE(got == want);

  // Re-importing our own output with its splits kept gives the same splits.
  o.input = Path("out");
  o.output = Path("again");
  o.keep_input_splits = true;
  auto again = RunExampleGen(o);
  ASSERT_TRUE(again.ok()) << again.status();
  for (const char* split : {"train", "eval"}) {
    auto a = ReadSplit(Path("again"), split);
    auto b = ReadSplit(Path("out"), split);
    EXPECT_EQ(a.size(), b.size());
    EXPECT_TRUE(std::multiset<std::string>(a.begin(), a.end()) ==
                std::multiset<std::string>(b.begin(), b.end()));
  }
}

TEST_F(ExampleGenTest, CsvLeavesMissingValuesOut) {
  ASSERT_TRUE(WriteFileAtomic(Path("p.csv"),
                              "species,island,bill,mass,sex\n"
                              "Adelie,Torgersen,39.1,3750,male\n"
                              "Adelie,Torgersen,NA,,NA\n"
                              "Gentoo,\"Biscoe, north\",46.5,4500,female\n")
                  .ok());
  ExampleGenOptions o;
  o.input = Path("p.csv");
  o.format = InputFormat::kCsv;
  o.show_progress = false;
  o.output = Path("out");
  o.splits = {{"all", 1}};
  auto s = RunExampleGen(o);
  ASSERT_TRUE(s.ok()) << s.status();
  auto recs = ReadSplit(Path("out"), "all");
  ASSERT_EQ(recs.size(), 3u);
  int with_missing = 0;
  for (const std::string& r : recs) {
    tf::Example ex;
    ASSERT_TRUE(ex.ParseFromString(r));
    const auto& f = ex.features().feature();
    if (f.count("bill") == 0) {
      ++with_missing;
      EXPECT_EQ(f.count("mass"), 0u);
      EXPECT_EQ(f.count("sex"), 0u);
      EXPECT_EQ(f.at("island").bytes_list().value(0), "Torgersen");
    } else {
      EXPECT_EQ(f.at("bill").float_list().value_size(), 1);
      EXPECT_EQ(f.at("mass").int64_list().value_size(), 1);
    }
    if (f.at("species").bytes_list().value(0) == "Gentoo") {
      EXPECT_EQ(f.at("island").bytes_list().value(0), "Biscoe, north");
      EXPECT_FLOAT_EQ(f.at("bill").float_list().value(0), 46.5f);
      EXPECT_EQ(f.at("mass").int64_list().value(0), 4500);
    }
  }
  EXPECT_EQ(with_missing, 1);
}

TEST_F(ExampleGenTest, BadCsvRowFailsWithLineAndLeavesNoOutput) {
  ASSERT_TRUE(WriteFileAtomic(Path("bad.csv"), "a,b\n1,2\n3,4,5\n").ok());
  ExampleGenOptions o;
  o.input = Path("bad.csv");
  o.format = InputFormat::kCsv;
  o.show_progress = false;
  o.output = Path("out");
  auto s = RunExampleGen(o);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("bad.csv"));
  EXPECT_THAT(s.status().message(), HasSubstr("line 3"));
  EXPECT_FALSE(fs::exists(Path("out")));
}

TEST_F(ExampleGenTest, CorruptTFRecordFailsAndLeavesNoOutput) {
  const std::string fixture = std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tfx/mnist.tfrecord";
  auto bytes = ReadFileToString(fixture);
  ASSERT_TRUE(bytes.ok());
  std::string damaged = *bytes;
  damaged[200 * 3203 + 100] ^= 0x40;  // inside the data of a record near 200
  ASSERT_TRUE(WriteFileAtomic(Path("bad.tfrecord"), damaged).ok());
  ExampleGenOptions o;
  o.input = Path("bad.tfrecord");
  o.format = InputFormat::kTFRecord;
  o.show_progress = false;
  o.output = Path("out");
  auto s = RunExampleGen(o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.status().message(), HasSubstr("bad.tfrecord"));
  EXPECT_THAT(s.status().message(), HasSubstr("crc"));
  EXPECT_FALSE(fs::exists(Path("out")));
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

TEST_F(ExampleGenTest, RefusesToReplaceOutputUnlessAsked) {
  WriteIdxPair("digits", 50, 6);
  ExampleGenOptions o;
  o.input = dir_.string();
  o.format = InputFormat::kIdx;
  o.show_progress = false;
  o.output = Path("out");
  ASSERT_TRUE(RunExampleGen(o).ok());
  auto again = RunExampleGen(o);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  o.overwrite = true;
  EXPECT_TRUE(RunExampleGen(o).ok());
}

TEST_F(ExampleGenTest, BadInputsAreClearErrors) {
  ExampleGenOptions o;
  o.format = InputFormat::kIdx;
  o.show_progress = false;
  o.output = Path("out");
  o.input = Path("nowhere");
  auto missing = RunExampleGen(o);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nowhere"));

  // Images without labels.
  auto images = Array::Zeros(DType::kUInt8, {2, 2, 2});
  ASSERT_TRUE(data::WriteIdx(Path("x-images-idx3-ubyte"), *images).ok());
  o.input = dir_.string();
  auto no_labels = RunExampleGen(o);
  ASSERT_FALSE(no_labels.ok());
  EXPECT_THAT(no_labels.status().message(), HasSubstr("x-labels-idx1-ubyte"));

  // Wrong IDX magic.
  ASSERT_TRUE(WriteFileAtomic(Path("x-labels-idx1-ubyte"),
                              std::string("\x01\x02\x08\x01", 4) + std::string(4, '\0'))
                  .ok());
  auto bad_magic = RunExampleGen(o);
  ASSERT_FALSE(bad_magic.ok());
  EXPECT_THAT(bad_magic.status().message(), HasSubstr("x-labels-idx1-ubyte"));
  EXPECT_FALSE(fs::exists(Path("out")));

  EXPECT_FALSE(ParseSplitConfig("train:2,eval").ok());
  EXPECT_FALSE(ParseSplitConfig("train:0").ok());
  EXPECT_FALSE(ParseSplitConfig("a:1,a:2").ok());
  EXPECT_THAT(ParseSplitConfig("train:x").status().message(), HasSubstr("\"x\""));
  EXPECT_FALSE(ParseInputFormat("parquet").ok());
}

TEST_F(ExampleGenTest, FullDiskOrFailedRenameLeavesNoArtifact) {
  WriteIdxPair("digits", 3000, 8);
  ExampleGenOptions o;
  o.input = dir_.string();
  o.format = InputFormat::kIdx;
  o.show_progress = false;
  o.output = Path("out");
  {
    FaultEnv env;
    env.SetWriteByteLimit(10000);  // the disk fills up while shards are written
    auto s = RunExampleGen(o, &env);
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.status().message(), HasSubstr("data_tfrecord-"));
  }
  {
    FaultEnv env;
    env.FailNth(FaultEnv::Op::kRename, 1);  // the final rename into place fails
    auto s = RunExampleGen(o, &env);
    ASSERT_FALSE(s.ok());
  }
  EXPECT_FALSE(fs::exists(Path("out")));
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
  // With a healthy disk the same run succeeds.
  EXPECT_TRUE(RunExampleGen(o).ok());
}

}  // namespace
}  // namespace edgepipe::components
