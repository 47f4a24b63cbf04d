// End-to-end tests of the edgepipe command line: the main job's ExampleGen on
// the MNIST digits installed by scripts/setup.sh, `examples head`, and the
// exit codes and messages users see.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The examples column of a split's row in the examplegen table, or -1.
int SplitCount(const std::string& table, const std::string& split) {
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    int count = -1;
    if (fields >> name >> count && name == split) return count;
  }
  return -1;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cli_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun Edgepipe(const std::string& args) {
    std::string cmd = std::string(EDGEPIPE_CLI_PATH) + " " + args + " >" +
                      (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string();
    int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(dir_ / "stdout");
    r.err = Slurp(dir_ / "stderr");
    return r;
  }

  fs::path dir_;
};

TEST_F(CliTest, ExampleGenOnMnistDigitsPrintsSplitCounts) {
  const std::string mnist = std::string(EDGEPIPE_DATA_DIR) + "/mnist";
  ASSERT_TRUE(fs::exists(mnist + "/mnist-images-idx3-ubyte"))
      << mnist << " is missing: run scripts/setup.sh";
  const std::string out = (dir_ / "examples").string();
  CliRun r = Edgepipe("examplegen --input " + mnist + " --format idx --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ExampleGen: 10000 examples"));
  const int train = SplitCount(r.out, "train");
  const int eval = SplitCount(r.out, "eval");
  EXPECT_EQ(train + eval, 10000);
  EXPECT_NEAR(eval, 10000 / 3.0, 4 * 47.2);  // binomial sd of a 1/3 share of 10,000
  EXPECT_TRUE(fs::is_directory(out + "/Split-train"));
  EXPECT_TRUE(fs::is_directory(out + "/Split-eval"));

  CliRun head = Edgepipe("examples head " + out + " -n 2 --split eval");
  ASSERT_EQ(head.exit_code, 0) << head.err;
  EXPECT_THAT(head.out, HasSubstr("image_floats: float[784]"));
  EXPECT_THAT(head.out, HasSubstr("image_class: int64[1]"));
  EXPECT_THAT(head.out, Not(HasSubstr("Split-train")));

  // A second run into the same folder is refused unless --overwrite.
  CliRun again = Edgepipe("examplegen --input " + mnist + " --format idx --output " + out);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("--overwrite"));
}

TEST_F(CliTest, HeadReadsTensorFlowWrittenFile) {
  CliRun r = Edgepipe("examples head " + std::string(EDGEPIPE_SHARED_DIR) +
                      "/fixtures/tfx/mnist.tfrecord -n 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("image_class: int64[1] = [9]"));
}

TEST_F(CliTest, ErrorsAndUsage) {
  CliRun help = Edgepipe("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("examplegen"));

  CliRun usage = Edgepipe("examplegen --input x");
  EXPECT_EQ(usage.exit_code, 2);

  CliRun bad_format = Edgepipe("examplegen --input x --format parquet --output y");
  EXPECT_EQ(bad_format.exit_code, 2);

  std::ofstream(dir_ / "bad.csv") << "a,b\n1,2\n\"3,4\n";
  CliRun bad_csv = Edgepipe("examplegen --input " + (dir_ / "bad.csv").string() +
                            " --format csv --output " + (dir_ / "out").string());
  EXPECT_EQ(bad_csv.exit_code, 1);
  EXPECT_THAT(bad_csv.err, HasSubstr("bad.csv"));
  EXPECT_THAT(bad_csv.err, HasSubstr("line 3"));
  EXPECT_FALSE(fs::exists(dir_ / "out"));

  CliRun missing = Edgepipe("examples head " + (dir_ / "nothing").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nothing"));
}

}  // namespace
