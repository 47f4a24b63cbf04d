#include "edgepipe/core/file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp_.path().empty()); }
  std::vector<std::string> Entries(const std::string& dir) {
    Result<std::vector<std::string>> r = Env::Default()->ListDir(dir);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<std::string>{};
  }
  std::string Read(const std::string& path) {
    Result<std::string> r = ReadFileToString(path);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.value_or("<error>");
  }
  TempDir tmp_;
};

TEST_F(FileTest, WriteFileAtomicWritesContentAndLeavesNoTemp) {
  const std::string path = tmp_.Join("a.txt");
  ASSERT_TRUE(WriteFileAtomic(path, "hello\n").ok());
  EXPECT_EQ(Read(path), "hello\n");
  ASSERT_TRUE(WriteFileAtomic(path, std::string(3 << 20, 'x')).ok());  // > the write buffer
  EXPECT_EQ(Read(path), std::string(3 << 20, 'x'));
  ASSERT_TRUE(WriteFileAtomic(path, "").ok());
  EXPECT_EQ(Read(path), "");
  EXPECT_THAT(Entries(tmp_.path()), ElementsAre("a.txt"));
}

TEST_F(FileTest, WriteFileAtomicFailureKeepsOldFileAndRemovesTemp) {
  const std::string path = tmp_.Join("model.json");
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  FaultEnv env;
  for (FaultEnv::Op op : {FaultEnv::Op::kOpenForWrite, FaultEnv::Op::kAppend, FaultEnv::Op::kSync,
                          FaultEnv::Op::kClose, FaultEnv::Op::kRename}) {
    SCOPED_TRACE(FaultEnv::OpName(op));
    env.FailNth(op, 1);
    Status s = WriteFileAtomic(path, "new contents", &env);
    EXPECT_EQ(s.code(), StatusCode::kIoError);
    EXPECT_THAT(s.message(), HasSubstr("injected"));
    EXPECT_EQ(Read(path), "old");
    EXPECT_THAT(Entries(tmp_.path()), ElementsAre("model.json"));
  }
  // Disk full.
  env.SetWriteByteLimit(4);
  EXPECT_FALSE(WriteFileAtomic(path, "new contents", &env).ok());
  EXPECT_EQ(Read(path), "old");
  EXPECT_THAT(Entries(tmp_.path()), ElementsAre("model.json"));
  // And the env still works once the faults are gone.
  env.SetWriteByteLimit(1 << 20);
  ASSERT_TRUE(WriteFileAtomic(path, "new", &env).ok());
  EXPECT_EQ(Read(path), "new");
}

TEST_F(FileTest, WriteFileAtomicIntoMissingFolderFails) {
  Status s = WriteFileAtomic(tmp_.Join("no/such/dir/f.txt"), "x");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("no/such/dir"));
}

TEST_F(FileTest, ReadFileToStringMissingIsNotFoundNamingThePath) {
  const std::string path = tmp_.Join("missing.bin");
  Result<std::string> r = ReadFileToString(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST_F(FileTest, ReadFileToStringOnADirectoryFails) {
  Result<std::string> r = ReadFileToString(tmp_.path());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("is a directory"));
}

TEST_F(FileTest, ReadFileToStringSurvivesShortReadsAndReportsReadErrors) {
  const std::string path = tmp_.Join("data.bin");
  std::string content;
  for (int i = 0; i < 100000; ++i) content += static_cast<char>(i * 7);
  ASSERT_TRUE(WriteFileAtomic(path, content).ok());
  FaultEnv env;
  env.SetMaxReadChunk(7);
  Result<std::string> r = ReadFileToString(path, &env);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, content);
  EXPECT_GT(env.calls(FaultEnv::Op::kRead), 100000 / 7);

  env.FailNth(FaultEnv::Op::kRead, 3);
  r = ReadFileToString(path, &env);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_THAT(r.status().message(), HasSubstr(path));
}

TEST_F(FileTest, AtomicDirCommitRenamesIntoPlace) {
  const std::string final_path = tmp_.Join("out/Split-train");
  Result<std::unique_ptr<AtomicDir>> dir = AtomicDir::Create(final_path, false);
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string temp = (*dir)->temp_path();
  EXPECT_NE(temp, final_path);
  EXPECT_TRUE(Env::Default()->IsDirectory(temp));
  EXPECT_FALSE(Env::Default()->Exists(final_path));
  ASSERT_TRUE(WriteFileAtomic(JoinPath(temp, "data.tfrecord"), "records").ok());
  ASSERT_TRUE((*dir)->Commit().ok());
  EXPECT_EQ((*dir)->Commit().code(), StatusCode::kFailedPrecondition);
  dir->reset();  // destroying after commit removes nothing
  EXPECT_EQ(Read(JoinPath(final_path, "data.tfrecord")), "records");
  EXPECT_FALSE(Env::Default()->Exists(temp));
  EXPECT_THAT(Entries(tmp_.Join("out")), ElementsAre("Split-train"));
}

TEST_F(FileTest, AtomicDirWithoutCommitRemovesTemp) {
  const std::string final_path = tmp_.Join("model");
  std::string temp;
  {
    Result<std::unique_ptr<AtomicDir>> dir = AtomicDir::Create(final_path, false);
    ASSERT_TRUE(dir.ok()) << dir.status();
    temp = (*dir)->temp_path();
    ASSERT_TRUE(Env::Default()->CreateDirs(JoinPath(temp, "sub/deeper")).ok());
    ASSERT_TRUE(WriteFileAtomic(JoinPath(temp, "sub/w.bin"), "w").ok());
  }
  EXPECT_FALSE(Env::Default()->Exists(temp));
  EXPECT_FALSE(Env::Default()->Exists(final_path));
  EXPECT_THAT(Entries(tmp_.path()), IsEmpty());
}

TEST_F(FileTest, AtomicDirExistingWithoutOverwriteIsAlreadyExists) {
  const std::string final_path = tmp_.Join("model");
  ASSERT_TRUE(Env::Default()->CreateDirs(final_path).ok());
  Result<std::unique_ptr<AtomicDir>> dir = AtomicDir::Create(final_path, false);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(dir.status().message(), HasSubstr(final_path));
  EXPECT_THAT(Entries(tmp_.path()), ElementsAre("model"));
}

TEST_F(FileTest, AtomicDirFinalAppearingWhileWritingIsAlreadyExists) {
  const std::string final_path = tmp_.Join("model");
  Result<std::unique_ptr<AtomicDir>> dir = AtomicDir::Create(final_path, false);
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(Env::Default()->CreateDirs(final_path).ok());
  EXPECT_EQ((*dir)->Commit().code(), StatusCode::kAlreadyExists);
  dir->reset();
  EXPECT_THAT(Entries(tmp_.path()), ElementsAre("model"));
}

TEST_F(FileTest, AtomicDirOverwriteReplacesOldFolder) {
  const std::string final_path = tmp_.Join("model");
  ASSERT_TRUE(Env::Default()->CreateDirs(final_path).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(final_path, "old.txt"), "old").ok());
  Result<std::unique_ptr<AtomicDir>> dir = AtomicDir::Create(final_path, true);
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_TRUE(WriteFileAtomic(JoinPath((*dir)->temp_path(), "new.txt"), "new").ok());
  ASSERT_TRUE((*dir)->Commit().ok());
  dir->reset();
  EXPECT_THAT(Entries(final_path), ElementsAre("new.txt"));
  EXPECT_THAT(Entries(tmp_.path()), ElementsAre("model"));
}

TEST_F(FileTest, AtomicDirOverwriteFailingRenameKeepsOldFolder) {
  const std::string final_path = tmp_.Join("model");
  ASSERT_TRUE(Env::Default()->CreateDirs(final_path).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(final_path, "old.txt"), "old").ok());
  FaultEnv env;
  {
    Result<std::unique_ptr<AtomicDir>> dir = AtomicDir::Create(final_path, true, &env);
    ASSERT_TRUE(dir.ok()) << dir.status();
    ASSERT_TRUE(WriteFileAtomic(JoinPath((*dir)->temp_path(), "new.txt"), "new").ok());
    // First rename moves the old folder aside, the second (temp -> final) fails.
    env.FailNth(FaultEnv::Op::kRename, 2);
    EXPECT_EQ((*dir)->Commit().code(), StatusCode::kIoError);
  }
  EXPECT_THAT(Entries(final_path), ElementsAre("old.txt"));
  EXPECT_THAT(Entries(tmp_.path()), ElementsAre("model"));
}

TEST(PathTest, JoinPath) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("a", "/b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "/b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(JoinPath("a", ""), "a");
  EXPECT_EQ(JoinPath("/", "b"), "/b");
  EXPECT_EQ(JoinPath("/root/x", "y/z.txt"), "/root/x/y/z.txt");
}

TEST(PathTest, BasenameAndDirname) {
  EXPECT_EQ(Basename("dir/file.txt"), "file.txt");
  EXPECT_EQ(Basename("file.txt"), "file.txt");
  EXPECT_EQ(Basename("/a/b/"), "b");
  EXPECT_EQ(Basename("/"), "/");
  EXPECT_EQ(Dirname("dir/file.txt"), "dir");
  EXPECT_EQ(Dirname("/a/b/c"), "/a/b");
  EXPECT_EQ(Dirname("/a"), "/");
  EXPECT_EQ(Dirname("file"), ".");
  EXPECT_EQ(Dirname("a/b/"), "a");
}

TEST(PathTest, TempSiblingPathsAreUniqueSiblings) {
  std::string a = TempSiblingPath("out/model/");
  std::string b = TempSiblingPath("out/model");
  EXPECT_NE(a, b);
  EXPECT_EQ(Dirname(a), "out");
  EXPECT_THAT(std::string(Basename(a)), ::testing::StartsWith("model.tmp-"));
}

}  // namespace
}  // namespace edgepipe
