// The edgepipe subcommands. Each Register* function adds a CLI11 subcommand
// whose callback stores the action to run; main() runs it after parsing.
#ifndef EDGEPIPE_CLI_COMMANDS_H_
#define EDGEPIPE_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>

#include "edgepipe/core/status.h"

namespace edgepipe::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
// `edgepipe evaluate`: the evaluation ran, and a threshold failed.
inline constexpr int kExitValidationFailed = 3;

class CommandRegistry {
 public:
  // Sets the action of the subcommand that was parsed; success exits 0.
  void Set(std::function<Status()> action);
  // For commands with more than one successful outcome: the action returns
  // the exit code to use (e.g. kExitValidationFailed), or an error (exit 1).
  void SetWithExitCode(std::function<Result<int>()> action) { action_ = std::move(action); }
  // Runs it; prints "edgepipe: error: ..." on stderr on failure.
  int Run();

 private:
  std::function<Result<int>()> action_;
};

void RegisterExampleGenCommand(CLI::App& app, CommandRegistry& registry);
void RegisterExamplesCommand(CLI::App& app, CommandRegistry& registry);
void RegisterLiteCommand(CLI::App& app, CommandRegistry& registry);
void RegisterConvertCommand(CLI::App& app, CommandRegistry& registry);
void RegisterEvaluateCommand(CLI::App& app, CommandRegistry& registry);
// run, runs list, artifacts list|show, lineage (pipeline_commands.cc).
void RegisterPipelineCommands(CLI::App& app, CommandRegistry& registry);
// `stats show`, `schema show`, `anomalies show`.
void RegisterStatsCommands(CLI::App& app, CommandRegistry& registry);
// `compare`: two Evaluator components of a run side by side (compare_command.cc).
void RegisterCompareCommand(CLI::App& app, CommandRegistry& registry);

}  // namespace edgepipe::cli

#endif  // EDGEPIPE_CLI_COMMANDS_H_
