// User modules: shared libraries (a Trainer's run_fn, a Transform's
// preprocessing_fn, a pipeline definition) loaded at run time with dlopen.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Module> m, Module::Open("mnist_module.so"));
//   RETURN_IF_ERROR(m->CheckAbiVersion("edgepipe_run_fn_abi_version", 1));
//   RunFnEntry* run = nullptr;
//   RETURN_IF_ERROR(m->FindFunction("edgepipe_run_fn_v1", &run));
//
// A module compiled against edgepipe's static libraries carries its own copy
// of the code it uses. A host executable linked with ENABLE_EXPORTS
// (-rdynamic) exports its copy, and the module's references bind to it, so
// process-wide registrations (protobuf descriptors) happen once; edgepipe's
// own executables that load modules are linked that way.
//
// Modules are opened with RTLD_NOW (every symbol resolved up front, so a
// missing one fails here and names itself) and RTLD_LOCAL, and are never
// unloaded (RTLD_NODELETE): code they registered (static initialisers,
// protobuf descriptors, function pointers handed out) stays valid for the
// life of the process. Opening the same path twice returns the library
// already loaded, even if the file changed since: give a rebuilt module a
// new path (the Trainer names its builds by content hash).
//
// Thread safety: Open and the lookups are thread-safe (the dynamic loader
// serialises them); a Module is an immutable value after Open.
#ifndef EDGEPIPE_PIPELINE_MODULE_H_
#define EDGEPIPE_PIPELINE_MODULE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"

namespace edgepipe::pipeline {

class Module {
 public:
  // Loads the shared library at `path` (a path, not a library name: it is
  // never searched on LD_LIBRARY_PATH; a name without '/' is taken relative
  // to the working directory). Errors name the path: NotFound when it does
  // not exist, InvalidArgument when it is a folder or not a loadable shared
  // library (with the loader's reason: wrong ELF class, undefined symbol, ...).
  static Result<std::unique_ptr<Module>> Open(const std::string& path, Env* env = Env::Default());

  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& path() const { return path_; }

  // The address of the exported symbol `name`. NotFound naming the module
  // and the symbol when it does not export it.
  Result<void*> FindSymbol(const std::string& name) const;

  // FindSymbol as a function pointer, stored in *fn on success:
  //   int64_t (*abi)() = nullptr;
  //   RETURN_IF_ERROR(module->FindFunction("abi", &abi));
  // The caller states the function's type; nothing checks it.
  template <typename Fn>
  Status FindFunction(const std::string& name, Fn** fn) const {
    ASSIGN_OR_RETURN(void* sym, FindSymbol(name));
    *fn = reinterpret_cast<Fn*>(sym);
    return Status::Ok();
  }

  // Calls the exported `int64_t symbol()` and checks it returns `expected`.
  // NotFound when the symbol is missing; FailedPrecondition naming the
  // module, both versions and the fix (rebuild against this edgepipe) when
  // they differ.
  Status CheckAbiVersion(const std::string& symbol, int64_t expected) const;

 private:
  Module(std::string path, void* handle) : path_(std::move(path)), handle_(handle) {}
  std::string path_;
  void* handle_;  // from dlopen; never closed (see the file comment)
};

}  // namespace edgepipe::pipeline

// Put once, at namespace scope, in the main program of every program that
// loads modules: under AddressSanitizer, a module carries its own instrumented
// copy of the edgepipe code it uses, whose globals bind to the program's copy
// (ENABLE_EXPORTS); ASan's ODR check would report those identical definitions
// twice, so the macro turns that check off (and does nothing without ASan).
#if defined(__SANITIZE_ADDRESS__)
#define EDGEPIPE_ALLOW_MODULE_GLOBALS()                                                          \
  extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options() { \
    return "detect_odr_violation=0";                                                             \
  }
#else
#define EDGEPIPE_ALLOW_MODULE_GLOBALS()
#endif

#endif  // EDGEPIPE_PIPELINE_MODULE_H_
