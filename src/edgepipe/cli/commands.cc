#include "edgepipe/cli/commands.h"

#include <cstdio>

namespace edgepipe::cli {

void CommandRegistry::Set(std::function<Status()> action) {
  action_ = [action = std::move(action)]() -> Result<int> {
    RETURN_IF_ERROR(action());
    return kExitOk;
  };
}

int CommandRegistry::Run() {
  if (!action_) return kExitUsage;
  Result<int> code = action_();
  if (code.ok()) return *code;
  std::fprintf(stderr, "edgepipe: error: %s\n", code.status().ToString().c_str());
  return kExitError;
}

}  // namespace edgepipe::cli
