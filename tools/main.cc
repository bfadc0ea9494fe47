// slabfuzz: the command line. Subcommands live one per file (tools/*_cmd.cc).
#include <CLI/CLI.hpp>

#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"slabfuzz: differential fuzzing harness for WebAssembly GC engines"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "slabfuzz 0.1.0");
  int exit_code = slabfuzz::cli::kExitOk;
  slabfuzz::cli::addValidateCommand(app, &exit_code);
  slabfuzz::cli::addRunCommand(app, &exit_code);
  slabfuzz::cli::addGenCommand(app, &exit_code);
  slabfuzz::cli::addTtfCommand(app, &exit_code);
  slabfuzz::cli::addDiffCommand(app, &exit_code);
  slabfuzz::cli::addXrunCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return slabfuzz::cli::kExitUsage;
  }
  return exit_code;
}
