// `slabfuzz faults`: the fault zoo (heap/faults.def) as a user reads it:
// each injectable bug's name, where it lives, the real bug it models, what
// it breaks, and which signature kinds name its class.
// Owns: printing the table (text or JSON). Does not own: the faults or
// their selection (heap/faults.h; `--fault` is the top-level option).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "heap/faults.h"
#include "tools/commands.h"

namespace slabfuzz::cli {

void addFaultsCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "faults",
      "List the injectable faults (the bug zoo): name, where, the real bug each models. "
      "Activate one with --fault NAME or SLABFUZZ_FAULT in a build with SLABFUZZ_FAULTS=ON.");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "one JSON array with every column");
  cmd->callback([exit_code, json] {
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const FaultInfo& f : kFaults) {
        out.push_back({{"name", f.name},
                       {"where", f.where},
                       {"models", f.models},
                       {"expect", f.expect},
                       {"what", f.what},
                       {"built", kFaultsBuilt}});
      }
      fmt::print("{}\n", out.dump(2));
    } else {
      fmt::print("{} faults{}:\n", kFaultCount,
                 kFaultsBuilt ? "" : " (this build has none compiled in: SLABFUZZ_FAULTS=OFF)");
      for (const FaultInfo& f : kFaults) {
        fmt::print("\n{} [{}]\n  models: {}\n  {}\n  named by: {}\n", f.name, f.where, f.models,
                   f.what, f.expect);
      }
    }
    *exit_code = kExitOk;
  });
}

}  // namespace slabfuzz::cli
