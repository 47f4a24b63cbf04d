#include "edgepipe/cli/commands.h"

#include <cstdio>

namespace edgepipe::cli {

int CommandRegistry::Run() {
  if (!action_) return kExitUsage;
  Status s = action_();
  if (s.ok()) return kExitOk;
  std::fprintf(stderr, "edgepipe: error: %s\n", s.ToString().c_str());
  return kExitError;
}

}  // namespace edgepipe::cli
