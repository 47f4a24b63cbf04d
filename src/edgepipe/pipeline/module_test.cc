#include "edgepipe/pipeline/module.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::pipeline {
namespace {

using ::testing::HasSubstr;

std::string TestModule(const std::string& name) {
  return std::string(EDGEPIPE_TEST_MODULE_DIR) + "/" + name + ".so";
}

TEST(ModuleTest, OpensAModuleAndCallsItsFunction) {
  Result<std::unique_ptr<Module>> m = Module::Open(TestModule("test_module_good"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->path(), TestModule("test_module_good"));
  int (*add)(int, int) = nullptr;
  ASSERT_EQ((*m)->FindFunction("edgepipe_test_add", &add), Status::Ok());
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add(2, 3), 5);
  EXPECT_EQ(add(-7, 3), -4);
  EXPECT_EQ((*m)->CheckAbiVersion("edgepipe_test_abi_version", 1), Status::Ok());
}

TEST(ModuleTest, OpeningTwiceGivesTheSameCode) {
  Result<std::unique_ptr<Module>> a = Module::Open(TestModule("test_module_good"));
  Result<std::unique_ptr<Module>> b = Module::Open(TestModule("test_module_good"));
  ASSERT_TRUE(a.ok() && b.ok());
  Result<void*> fa = (*a)->FindSymbol("edgepipe_test_add");
  Result<void*> fb = (*b)->FindSymbol("edgepipe_test_add");
  ASSERT_TRUE(fa.ok() && fb.ok());
  EXPECT_EQ(*fa, *fb);
  a->reset();  // dropping one keeps the code loaded (RTLD_NODELETE)
  int (*add)(int, int) = reinterpret_cast<int (*)(int, int)>(*fb);
  EXPECT_EQ(add(1, 1), 2);
}

TEST(ModuleTest, MissingFileIsNotFoundNamingThePath) {
  TempDir tmp;
  const std::string path = tmp.Join("no_such_module.so");
  Result<std::unique_ptr<Module>> m = Module::Open(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(m.status().message(), HasSubstr(path));
}

TEST(ModuleTest, NotASharedLibraryIsInvalidArgumentWithTheLoadersReason) {
  TempDir tmp;
  const std::string path = tmp.Join("text.so");
  ASSERT_EQ(WriteFileAtomic(path, "this is not an ELF file\n"), Status::Ok());
  Result<std::unique_ptr<Module>> m = Module::Open(path);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr(path));
  EXPECT_THAT(m.status().message(), HasSubstr("cannot load module"));

  Result<std::unique_ptr<Module>> dir = Module::Open(tmp.path());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(dir.status().message(), HasSubstr("folder"));
}

TEST(ModuleTest, MissingSymbolIsNotFoundNamingModuleAndSymbol) {
  Result<std::unique_ptr<Module>> m = Module::Open(TestModule("test_module_good"));
  ASSERT_TRUE(m.ok()) << m.status();
  Result<void*> sym = (*m)->FindSymbol("edgepipe_run_fn_v1");
  ASSERT_FALSE(sym.ok());
  EXPECT_EQ(sym.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(sym.status().message(), HasSubstr("test_module_good.so"));
  EXPECT_THAT(sym.status().message(), HasSubstr("\"edgepipe_run_fn_v1\""));

  // A module built without the ABI version symbol.
  Result<std::unique_ptr<Module>> no_abi = Module::Open(TestModule("test_module_no_abi"));
  ASSERT_TRUE(no_abi.ok()) << no_abi.status();
  Status abi = (*no_abi)->CheckAbiVersion("edgepipe_test_abi_version", 1);
  EXPECT_EQ(abi.code(), StatusCode::kNotFound);
  EXPECT_THAT(abi.message(), HasSubstr("edgepipe_test_abi_version"));
}

TEST(ModuleTest, AbiMismatchIsFailedPreconditionNamingBothVersions) {
  Result<std::unique_ptr<Module>> m = Module::Open(TestModule("test_module_wrong_abi"));
  ASSERT_TRUE(m.ok()) << m.status();
  Status abi = (*m)->CheckAbiVersion("edgepipe_test_abi_version", 1);
  EXPECT_EQ(abi.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(abi.message(), HasSubstr("test_module_wrong_abi.so"));
  EXPECT_THAT(abi.message(), HasSubstr("version 99"));
  EXPECT_THAT(abi.message(), HasSubstr("expects version 1"));
  EXPECT_THAT(abi.message(), HasSubstr("rebuild"));
}

}  // namespace
}  // namespace edgepipe::pipeline
