// The Trainer's module handling: building a module source file into a shared
// library against the installed edgepipe, and loading its run_fn.
//
// A module file is either
//  - a shared library (.so) exporting EDGEPIPE_RUN_FN, loaded as is, or
//  - a C++ source file (.cc, .cpp, .cxx) that BuildModule compiles: a
//    generated CMakeLists.txt (find_package(edgepipe REQUIRED), one MODULE
//    library linking edgepipe::edgepipe) is configured and built with cmake
//    in <build_root>/<content hash>/. A later build of the same content and
//    options reuses the library, so an unchanged module is built once.
//
// Thread safety: the functions are thread-safe for distinct build roots; two
// processes building the same content at once each build in their own temp
// folder and the first to finish publishes it (rename).
#ifndef EDGEPIPE_COMPONENTS_TRAINER_MODULE_H_
#define EDGEPIPE_COMPONENTS_TRAINER_MODULE_H_

#include <memory>
#include <string>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/module.h"

namespace edgepipe::components {

struct ModuleBuildOptions {
  // CMAKE_PREFIX_PATH entries where find_package(edgepipe) looks (the
  // `cmake --install` prefix). DefaultModuleBuildOptions() fills in
  // $EDGEPIPE_PREFIX (':'-separated) and the install prefix this edgepipe
  // was configured with; cmake also honours $CMAKE_PREFIX_PATH.
  std::vector<std::string> prefix_path;
  // Extra arguments for the configure step, e.g. "-DCMAKE_CXX_FLAGS=-fsanitize=address".
  // Part of the build's cache key.
  std::vector<std::string> cmake_args;
  // Folder holding the cached builds; empty: $TMPDIR (or /tmp)/edgepipe-modules.
  std::string build_root;
  std::string cmake = "cmake";  // the cmake executable
  int jobs = 2;                 // parallel compile jobs
};

// Options from the environment, as described above.
ModuleBuildOptions DefaultModuleBuildOptions();

// True when `path` names a C++ source file (.cc, .cpp, .cxx, .c++).
bool IsModuleSource(std::string_view path);

// Builds the C++ source file `source` into a shared library and returns its
// path (<build_root>/<hash>/lib/module.so). The hash covers the source's
// content, its folder's path (local #include "x.h" files are found there),
// the options and kRunFnAbiVersion. Errors name the source: NotFound when it
// is missing; FailedPrecondition when cmake cannot run or configure (e.g.
// edgepipe is not installed under the prefix path: the message says how to
// install it); InvalidArgument when the module does not compile or link,
// with the tail of the build log (the compiler's errors) in the message.
// The full log stays in <build_root>/<hash>.failed/build.log.
Result<std::string> BuildModule(const std::string& source, const ModuleBuildOptions& options,
                                Env* env = Env::Default());

// The shared library for `module_file`: itself when it is a library,
// BuildModule's output when it is a source file. InvalidArgument for other
// file kinds; NotFound when it does not exist.
Result<std::string> ResolveModuleLibrary(const std::string& module_file,
                                         const ModuleBuildOptions& options,
                                         Env* env = Env::Default());

// A loaded run_fn. The module stays loaded for the life of the process
// (pipeline::Module), so the object may be copied and dropped freely.
struct LoadedRunFn {
  std::shared_ptr<const pipeline::Module> module;
  RunFnEntry* entry = nullptr;

  // Calls run_fn(args). Thread safety: as the module's run_fn.
  Status Run(const FnArgs& args) const;
};

// Opens the library and finds run_fn: errors name the library and say what
// is wrong: not found, not loadable, no EDGEPIPE_RUN_FN (no ABI version
// symbol), an ABI version other than kRunFnAbiVersion, or no run_fn entry.
Result<LoadedRunFn> LoadRunFn(const std::string& library_path, Env* env = Env::Default());

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_TRAINER_MODULE_H_
