// Subcommands of the `slabfuzz` command line. Each registers its options on
// the CLI11 app and returns the exit code its callback will produce.
#pragma once

#include <CLI/CLI.hpp>

namespace slabfuzz::cli {

// Exit codes shared by every subcommand.
inline constexpr int kExitOk = 0;        // everything as asked
inline constexpr int kExitRejected = 1;  // an input was invalid, malformed or unsupported
inline constexpr int kExitUsage = 2;     // bad usage or an input that could not be read
inline constexpr int kExitFinding = 4;   // diff, ttf, triage: a finding

// Registers `validate`; *exit_code receives the result when it runs.
void addValidateCommand(CLI::App& app, int* exit_code);
// Registers `run`; exit codes 0-2 as above, 3 when a resource limit made a
// run inconclusive (see its --help).
void addRunCommand(CLI::App& app, int* exit_code);
// Registers `gen` (gcgen from the command line); exit codes 0-2 as above.
void addGenCommand(CLI::App& app, int* exit_code);
// Registers `ttf` (the Binaryen lane); exit codes 0-2 as above, 4 a finding.
void addTtfCommand(CLI::App& app, int* exit_code);
// Registers `diff` (our configurations compared by hand); exit codes 0-2 as
// above, 3 inconclusive, 4 a finding.
void addDiffCommand(CLI::App& app, int* exit_code);
// Registers `xrun` (external reference engines: V8, Binaryen); exit codes
// 0-2 as above, 3 when a run was inconclusive.
void addXrunCommand(CLI::App& app, int* exit_code);
// Registers `faults` (the fault zoo: names, what each models, and the
// canaries of a run); exit codes 0-2 as above.
void addFaultsCommand(CLI::App& app, int* exit_code);
// Registers `hunt` (the fault zoo's deterministic detection loop); exit 0
// detected, 1 not detected within the budget, 2 usage.
void addHuntCommand(CLI::App& app, int* exit_code);
void addLaneCommand(CLI::App& app, int* exit_code);
// Registers `triage` (findings grouped by signature bucket); exit codes 0-2
// as above, 4 when there are findings.
void addTriageCommand(CLI::App& app, int* exit_code);

// Registers `reduce` (a finding shrunk while it keeps its bucket); exit
// codes 0 reduced, 1 the finding does not reproduce, 2 usage.
void addReduceCommand(CLI::App& app, int* exit_code);
// Registers `campaign` (build, fuzz, triage, reduce, report); exit 0 no
// findings, 1 findings, 2 usage or set-up error.
void addCampaignCommand(CLI::App& app, int* exit_code);

}  // namespace slabfuzz::cli
