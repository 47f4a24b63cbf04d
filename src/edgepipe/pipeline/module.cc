#include "edgepipe/pipeline/module.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace edgepipe::pipeline {
namespace {

// dlerror() is per thread, but dlopen/dlsym and the dlerror() that follows
// must not interleave with another thread's on some libcs; one lock keeps
// the message with its call.
std::mutex& LoaderMutex() {
  static std::mutex* mu = new std::mutex;
  return *mu;
}

std::string LastDlError() {
  const char* err = dlerror();
  return err ? std::string(err) : std::string("unknown reason");
}

}  // namespace

Result<std::unique_ptr<Module>> Module::Open(const std::string& path, Env* env) {
  if (path.empty()) return Status::InvalidArgument("module path is empty");
  if (!env->Exists(path)) {
    return Status::NotFound(path + ": module file does not exist");
  }
  if (env->IsDirectory(path)) {
    return Status::InvalidArgument(path + ": module is a folder, not a shared library");
  }
  // dlopen searches the library path for names without '/': never do that.
  const std::string load_path = path.find('/') == std::string::npos ? "./" + path : path;
  void* handle = nullptr;
  std::string error;
  {
    std::lock_guard<std::mutex> lock(LoaderMutex());
    dlerror();  // clear a stale message
    handle = dlopen(load_path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (handle == nullptr) error = LastDlError();
  }
  if (handle == nullptr) {
    return Status::InvalidArgument(path + ": cannot load module as a shared library: " + error);
  }
  return std::unique_ptr<Module>(new Module(path, handle));
}

Module::~Module() {
  // RTLD_NODELETE keeps the code mapped anyway; dropping our reference is
  // still right so that the loader's count is balanced.
  if (handle_ != nullptr) dlclose(handle_);
}

Result<void*> Module::FindSymbol(const std::string& name) const {
  std::lock_guard<std::mutex> lock(LoaderMutex());
  dlerror();
  void* sym = dlsym(handle_, name.c_str());
  if (sym == nullptr) {
    const std::string reason = LastDlError();
    return Status::NotFound(path_ + ": module does not export symbol \"" + name + "\" (" + reason +
                            ")");
  }
  return sym;
}

Status Module::CheckAbiVersion(const std::string& symbol, int64_t expected) const {
  int64_t (*fn)() = nullptr;
  RETURN_IF_ERROR(FindFunction(symbol, &fn));
  const int64_t got = fn();
  if (got != expected) {
    return Status::FailedPrecondition(
        path_ + ": module was built for ABI version " + std::to_string(got) + " (" + symbol +
        "), this edgepipe expects version " + std::to_string(expected) +
        ": rebuild the module against the installed edgepipe");
  }
  return Status::Ok();
}

}  // namespace edgepipe::pipeline
