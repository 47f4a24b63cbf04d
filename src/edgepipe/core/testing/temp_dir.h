// TempDir: a fresh folder under $TEST_TMPDIR (or /tmp) for one test, removed
// with its contents when destroyed. Header-only test helper.
#ifndef EDGEPIPE_CORE_TESTING_TEMP_DIR_H_
#define EDGEPIPE_CORE_TESTING_TEMP_DIR_H_

#include <cstdlib>
#include <string>

#include "edgepipe/core/file.h"

namespace edgepipe {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/edgepipe-test-XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    path_ = made ? std::string(made) : std::string();
  }
  ~TempDir() {
    if (!path_.empty()) Env::Default()->RemoveAll(path_).IgnoreError();
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty when the folder could not be created.
  const std::string& path() const { return path_; }
  std::string Join(std::string_view name) const { return JoinPath(path_, name); }

 private:
  std::string path_;
};

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_TESTING_TEMP_DIR_H_
