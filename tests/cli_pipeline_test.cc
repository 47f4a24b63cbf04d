// End-to-end tests of `edgepipe run` (a pipeline .so), `runs list`,
// `artifacts list|show` and `lineage`: stdout, stderr and exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "edgepipe/pipeline/metadata_store.h"

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

// The fields of the line of `table` whose first field is `first`.
std::vector<std::string> Row(const std::string& table, const std::string& first) {
  std::istringstream lines(table);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::vector<std::string> fields;
    std::string f;
    while (in >> f) fields.push_back(f);
    if (!fields.empty() && fields[0] == first) return fields;
  }
  return {};
}

class CliPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cli_pipeline_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    root_ = (dir_ / "root").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun Edgepipe(const std::string& args, const std::string& env = "") {
    std::string cmd = env + " EDGEPIPE_TEST_ROOT=" + root_ + " " + std::string(EDGEPIPE_CLI_PATH) +
                      " " + args + " >" + (dir_ / "stdout").string() + " 2>" +
                      (dir_ / "stderr").string();
    int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(dir_ / "stdout");
    r.err = Slurp(dir_ / "stderr");
    return r;
  }

  std::string So() const { return EDGEPIPE_TEST_PIPELINE_SO; }
  std::string Meta() const { return " --metadata " + root_ + "/metadata.sqlite"; }

  fs::path dir_;
  std::string root_;
};

TEST_F(CliPipelineTest, RunsAPipelineLibraryThenServesTheRerunFromCache) {
  CliRun r = Edgepipe("run " + So());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* id : {"A", "B", "C", "D"}) {
    auto row = Row(r.out, id);
    ASSERT_GE(row.size(), 5u) << id << "\n" << r.out;
    EXPECT_EQ(row[1], "ran") << id;
  }
  // Progress and times on stderr, results on stdout.
  EXPECT_THAT(r.err, HasSubstr("C: done in "));
  EXPECT_THAT(r.out, Not(HasSubstr("done in")));
  const std::string c_out = Row(r.out, "C")[4];  // out=<id>:<uri>
  const std::string c_uri = c_out.substr(c_out.find(':') + 1);
  EXPECT_EQ(Slurp(fs::path(c_uri) / "data.txt"), "abc");

  CliRun again = Edgepipe("run " + So());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  for (const char* id : {"A", "B", "C", "D"}) EXPECT_EQ(Row(again.out, id)[1], "cached") << id;

  // Changing B's parameter reruns B and C only.
  CliRun changed = Edgepipe("run " + So(), "EDGEPIPE_TEST_B_SUFFIX=X");
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(Row(changed.out, "A")[1], "cached");
  EXPECT_EQ(Row(changed.out, "B")[1], "ran");
  EXPECT_EQ(Row(changed.out, "C")[1], "ran");
  EXPECT_EQ(Row(changed.out, "D")[1], "cached");

  CliRun forced = Edgepipe("run " + So() + " --no-cache --max-parallelism 1");
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(Row(forced.out, "A")[1], "ran");

  CliRun runs = Edgepipe("runs list" + Meta());
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  int run_rows = 0;
  std::istringstream lines(runs.out);
  std::string line;
  while (std::getline(lines, line)) run_rows += line.find("clitest") != std::string::npos;
  EXPECT_EQ(run_rows, 4) << runs.out;

  auto store = edgepipe::pipeline::MetadataStore::Open(root_ + "/metadata.sqlite");
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->CheckConsistency().ok());
}

TEST_F(CliPipelineTest, FailedComponentExitsOneNamingItOthersComplete) {
  CliRun r = Edgepipe("run " + So(), "EDGEPIPE_TEST_B_FAIL=1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("edgepipe: error: InvalidArgument: B: "));
  EXPECT_THAT(r.err, HasSubstr("told to fail"));
  EXPECT_EQ(Row(r.out, "B")[1], "failed");
  EXPECT_EQ(Row(r.out, "C")[1], "skipped");
  EXPECT_EQ(Row(r.out, "D")[1], "ran");
  CliRun runs = Edgepipe("runs list --root " + root_);
  ASSERT_EQ(runs.exit_code, 0) << runs.err;
  // EXECS RAN CACHED FAILED SKIPPED RUNNING after the name, pipeline, date, time.
  std::istringstream lines(runs.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  std::istringstream fields(row);
  std::string run, pipe, date, time;
  int execs, ran, cached, failed, skipped, running;
  ASSERT_TRUE(fields >> run >> pipe >> date >> time >> execs >> ran >> cached >> failed >>
              skipped >> running)
      << runs.out;
  EXPECT_EQ(pipe, "clitest");
  EXPECT_EQ(execs, 4);
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(skipped, 1);
  EXPECT_EQ(running, 0);
}

TEST_F(CliPipelineTest, ArtifactsListShowAndLineage) {
  ASSERT_EQ(Edgepipe("run " + So()).exit_code, 0);
  CliRun list = Edgepipe("artifacts list" + Meta());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  // Four Examples artifacts (ids 1..4), each with its producer.
  int rows = 0;
  std::string c_id;
  for (int id = 1; id <= 8; ++id) {
    auto row = Row(list.out, std::to_string(id));
    if (row.empty()) continue;
    ++rows;
    EXPECT_EQ(row[1], "Examples");
    EXPECT_EQ(row[2], "LIVE");
    if (row[3].rfind("C#", 0) == 0) c_id = row[0];
  }
  EXPECT_EQ(rows, 4) << list.out;
  ASSERT_FALSE(c_id.empty()) << list.out;
  CliRun typed = Edgepipe("artifacts list --type Model" + Meta());
  ASSERT_EQ(typed.exit_code, 0);
  EXPECT_TRUE(Row(typed.out, "1").empty()) << typed.out;

  CliRun show = Edgepipe("artifacts show " + c_id + Meta());
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr("type:     Examples"));
  EXPECT_THAT(show.out, HasSubstr("uri:      " + fs::absolute(root_).string() + "/C/out/"));
  EXPECT_THAT(show.out, HasSubstr("bytes: 3"));  // "abc"
  EXPECT_THAT(show.out, HasSubstr("producer: execution "));
  EXPECT_THAT(show.out, HasSubstr(" C (Concat) COMPLETE"));

  CliRun lineage = Edgepipe("lineage " + c_id + Meta());
  ASSERT_EQ(lineage.exit_code, 0) << lineage.err;
  // C <- B <- A, in that order, each with its execution.
  const size_t c = lineage.out.find(" C (Concat)");
  const size_t b = lineage.out.find(" B (Concat)");
  const size_t a = lineage.out.find(" A (Concat)");
  ASSERT_NE(c, std::string::npos) << lineage.out;
  ASSERT_NE(b, std::string::npos) << lineage.out;
  ASSERT_NE(a, std::string::npos) << lineage.out;
  EXPECT_LT(c, b);
  EXPECT_LT(b, a);
  EXPECT_THAT(lineage.out, HasSubstr("used by: none"));

  // A's output: produced by A, used by B and D.
  CliRun a_lineage = Edgepipe("lineage 1" + Meta());
  ASSERT_EQ(a_lineage.exit_code, 0) << a_lineage.err;
  const std::string used = a_lineage.out.substr(a_lineage.out.find("used by:"));
  EXPECT_THAT(used, HasSubstr(" B (Concat) COMPLETE as input in0"));
  EXPECT_THAT(used, HasSubstr(" D (Concat) COMPLETE as input in0"));

  CliRun missing = Edgepipe("artifacts show 999" + Meta());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no artifact with id 999"));
}

TEST_F(CliPipelineTest, BadPipelinesAndStoresGiveClearErrors) {
  CliRun unknown = Edgepipe("run no_such_pipeline");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no pipeline named \"no_such_pipeline\""));

  CliRun missing_so = Edgepipe("run " + (dir_ / "missing.so").string());
  EXPECT_EQ(missing_so.exit_code, 1);
  EXPECT_THAT(missing_so.err, HasSubstr("missing.so: no such pipeline library"));

  CliRun no_symbol = Edgepipe(std::string("run ") + EDGEPIPE_TEST_NO_ENTRY_SO);
  EXPECT_EQ(no_symbol.exit_code, 1);
  EXPECT_THAT(no_symbol.err, HasSubstr("exports no edgepipe_pipeline_v1"));

  const std::string text = (dir_ / "text.so").string();
  std::ofstream(text) << "not an ELF file";
  CliRun not_elf = Edgepipe("run " + text);
  EXPECT_EQ(not_elf.exit_code, 1);
  EXPECT_THAT(not_elf.err, HasSubstr("text.so: cannot load the pipeline library"));

  const std::string bogus = (dir_ / "bogus.sqlite").string();
  std::ofstream(bogus) << std::string(2048, 'z');
  CliRun not_store = Edgepipe("artifacts list --metadata " + bogus);
  EXPECT_EQ(not_store.exit_code, 1);
  EXPECT_THAT(not_store.err, HasSubstr(bogus + ": not an edgepipe metadata store"));

  CliRun no_store = Edgepipe("runs list --metadata " + (dir_ / "none.sqlite").string());
  EXPECT_EQ(no_store.exit_code, 1);
  EXPECT_THAT(no_store.err, HasSubstr("none.sqlite: no such metadata store"));
  EXPECT_FALSE(fs::exists(dir_ / "none.sqlite"));

  CliRun usage = Edgepipe("lineage");
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
