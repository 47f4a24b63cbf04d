// edgepipe: the command-line entry point. Results go to stdout, logs and
// progress to stderr. Exit codes: 0 success, 1 error, 2 usage error, 3 an
// evaluation whose thresholds failed (edgepipe evaluate).
#include <CLI/CLI.hpp>
#include <cstdio>

#include "edgepipe/cli/commands.h"
#include "edgepipe/pipeline/module.h"

// Modules loaded here bind to this program's copy of edgepipe (pipeline/module.h).
EDGEPIPE_ALLOW_MODULE_GLOBALS()

int main(int argc, char** argv) {
  CLI::App app{"edgepipe: TFX-style pipelines for models that ship to devices, in native C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "edgepipe 0.1.0");
  edgepipe::cli::CommandRegistry registry;
  edgepipe::cli::RegisterExampleGenCommand(app, registry);
  edgepipe::cli::RegisterExamplesCommand(app, registry);
  edgepipe::cli::RegisterLiteCommand(app, registry);
  edgepipe::cli::RegisterConvertCommand(app, registry);
  edgepipe::cli::RegisterEvaluateCommand(app, registry);
  edgepipe::cli::RegisterPipelineCommands(app, registry);
  edgepipe::cli::RegisterStatsCommands(app, registry);
  edgepipe::cli::RegisterCompareCommand(app, registry);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : edgepipe::cli::kExitUsage;
  }
  return registry.Run();
}
