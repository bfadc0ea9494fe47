// Engines as the oracle sees them: something that turns a module into an
// ExecutionLog. Our own configurations are engines; external ones (V8,
// Binaryen's interpreter; names `v8` and `binaryen`) plug in through the
// same interface from a factory the caller passes, so this file needs no
// worker processes.
// Owns: the Engine interface, parsing an engine list ("ref,slab-zeal"), the
// input-chosen default comparison of the fuzz targets, and running a set of
// engines into a verdict. Does not own: running our runtime (run.h), the
// external engines (oracle/external.h) or comparing (compare.h).
// Contract: engines are deterministic (the same module gives the same log);
// an engine name nobody can provide is an error that says so, never a
// silent skip.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/compare.h"
#include "oracle/execution_log.h"
#include "oracle/run.h"
#include "runtime/error.h"

namespace slabfuzz {

class Engine {
 public:
  virtual ~Engine() = default;
  // The name in logs and reports ("slab-random:7", "v8").
  virtual const std::string& name() const = 0;
  // Runs every export of the module as Binaryen's --fuzz-exec does. Our own
  // engines set ExecutionLog::ours.
  virtual ExecutionLog run(const ModuleInput& input) = 0;
};

// One of our configurations (config.h) with the oracle's limits.
class OurEngine final : public Engine {
 public:
  explicit OurEngine(OurRunOptions options) : options_(std::move(options)) {}
  const std::string& name() const override { return options_.config.name; }
  ExecutionLog run(const ModuleInput& input) override { return runOurs(input, options_); }
  const OurRunOptions& options() const { return options_; }

 private:
  OurRunOptions options_;
};

// Names of engines that are not ours.
inline constexpr std::string_view kExternalEngineNames[] = {"v8", "binaryen"};
bool isExternalEngineName(std::string_view name);

// Makes an external engine by name, or says why it cannot.
using ExternalEngineFactory =
    std::function<Result<std::unique_ptr<Engine>, std::string>(std::string_view name)>;

// Parses a comma-separated list of engine names: our configurations
// (parseEngineConfig) and, through `external`, `v8` and `binaryen`. At least
// two names, none twice. Without a factory an external name is an error
// that says it is not available yet. Our configurations compile with
// `compile` (a deliberately broken mode checks that the harness notices).
Result<std::vector<std::unique_ptr<Engine>>, std::string> makeEngines(
    std::string_view list, const OracleLimits& limits = {},
    const ExternalEngineFactory& external = nullptr, const CompileOptions& compile = {});

// The fuzz targets' default comparison, chosen by `choice` (input bytes):
// "ref" first, then one slab configuration drawn with weights (engine.cc),
// and in one case of sixteen a second, different one; slab-random's seed
// and slab-alloc's N (1..8) come from `choice` too. Deterministic: the same
// choice gives the same names.
std::vector<std::string> defaultComparison(uint32_t choice);

// What one differential run produced.
struct DiffOutcome {
  std::vector<ExecutionLog> logs;  // in engine order, less the engines not run
  Verdict verdict;
  // "ENGINE: why" for each external engine the module is not comparable
  // with (comparable.h): not run.
  std::vector<std::string> not_comparable;
};

// Runs each engine on the module and judges the logs (compare.h). An
// external engine is not given a module outside its comparable set
// (comparable.h); when fewer than two engines are left the verdict is
// NotComparable.
DiffOutcome runDifferential(std::span<const std::unique_ptr<Engine>> engines,
                            const ModuleInput& input);

}  // namespace slabfuzz
