// A tiny shared library for module_test, compiled in three variants
// (tests/test_modules.cmake): with EDGEPIPE_TEST_ABI_VERSION 1 (good), 99
// (ABI mismatch), and without the version symbol.
#include <cstdint>

extern "C" {

#ifdef EDGEPIPE_TEST_ABI_VERSION
__attribute__((visibility("default"))) int64_t edgepipe_test_abi_version() {
  return EDGEPIPE_TEST_ABI_VERSION;
}
#endif

__attribute__((visibility("default"))) int edgepipe_test_add(int a, int b) { return a + b; }

}  // extern "C"
