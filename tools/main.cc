// slabfuzz: the command line. Subcommands live one per file (tools/*_cmd.cc).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "heap/faults.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"slabfuzz: differential fuzzing harness for WebAssembly GC engines"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "slabfuzz 0.1.0");
  int exit_code = slabfuzz::cli::kExitOk;
  // One injectable fault for the whole process (heap/faults.h), before or
  // after the subcommand's name; SLABFUZZ_FAULT gives the default.
  if (auto err = slabfuzz::selectFaultFromEnvironment()) {
    fmt::print(stderr, "error: {}\n", *err);
    return slabfuzz::cli::kExitUsage;
  }
  app.fallthrough();
  app.add_option_function<std::string>(
         "--fault",
         [](const std::string& name) {
           if (auto err = slabfuzz::selectFault(name)) throw CLI::ValidationError("--fault", *err);
         },
         "activate one injected bug of the fault zoo (builds with SLABFUZZ_FAULTS=ON; "
         "`slabfuzz faults` lists them); default $SLABFUZZ_FAULT")
      ->type_name("NAME");
  slabfuzz::cli::addValidateCommand(app, &exit_code);
  slabfuzz::cli::addRunCommand(app, &exit_code);
  slabfuzz::cli::addGenCommand(app, &exit_code);
  slabfuzz::cli::addTtfCommand(app, &exit_code);
  slabfuzz::cli::addDiffCommand(app, &exit_code);
  slabfuzz::cli::addXrunCommand(app, &exit_code);
  slabfuzz::cli::addFaultsCommand(app, &exit_code);
  slabfuzz::cli::addHuntCommand(app, &exit_code);
  slabfuzz::cli::addLaneCommand(app, &exit_code);
  slabfuzz::cli::addReduceCommand(app, &exit_code);
  slabfuzz::cli::addTriageCommand(app, &exit_code);
  slabfuzz::cli::addCampaignCommand(app, &exit_code);
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
  // The canaries of the active fault: whether its code ran and whether it
  // changed what the engine did (heap/faults.h). The campaign runs the
  // runtime only in child processes, which print their own.
  const bool runs_children = app.got_subcommand("campaign");
  if (slabfuzz::Fault f = slabfuzz::activeFault(); f != slabfuzz::Fault::None && !runs_children) {
    fmt::print(stderr, "fault {}: reached {}, triggered {}\n", slabfuzz::faultName(f),
               slabfuzz::faultReached(f), slabfuzz::faultTriggered(f));
  }
  return exit_code;
}
