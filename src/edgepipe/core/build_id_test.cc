#include "edgepipe/core/build_id.h"

#include <gtest/gtest.h>

#include <cstring>

namespace edgepipe {
namespace {

int LocalFunction() { return 42; }

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(BuildIdTest, ExecutableHasAHexBuildId) {
  auto id = BuildIdOf(reinterpret_cast<const void*>(&LocalFunction));
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_GE(id->size(), 16u);
  EXPECT_EQ(id->size() % 2, 0u);
  EXPECT_TRUE(IsLowerHex(*id)) << *id;
  // Stable: the same object, asked twice or through another of its addresses.
  static const int kData = 7;
  auto again = BuildIdOf(&kData);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(*again, *id);
}

TEST(BuildIdTest, OtherObjectsHaveOtherIds) {
  auto ours = BuildIdOf(reinterpret_cast<const void*>(&LocalFunction));
  // libc's strlen lives in another loaded object.
  auto libc = BuildIdOf(reinterpret_cast<const void*>(&std::strlen));
  ASSERT_TRUE(ours.ok());
  if (!libc.ok()) {
    // A libc without a build id says so, naming the object.
    EXPECT_EQ(libc.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(libc.status().message().find("build id"), std::string::npos);
    return;
  }
  EXPECT_NE(*libc, *ours);
}

TEST(BuildIdTest, UnmappedAddressIsNotFound) {
  auto id = BuildIdOf(reinterpret_cast<const void*>(uintptr_t{16}));
  EXPECT_EQ(id.status().code(), StatusCode::kNotFound);
  EXPECT_NE(id.status().message().find("no loaded object"), std::string::npos);
}

}  // namespace
}  // namespace edgepipe
