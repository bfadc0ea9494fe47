// gcgen_diff throughput: inputs/s of the differential target's work on one
// core, beside references timed in the same process (bench/diff-speed).
// Modes: `gen` (generateModule only: the generator's share), `run`
// (generate + one run in --config, verifier and digest on; `ref` by
// default), and `diff` (what fuzzers/gcgen_diff.cc does per input:
// generate, the input-chosen comparison, the verdict). With --broken-maps,
// `run` compiles with liveness ignoring loop back edges (the seed bug's
// class, compile.h) and counts the runs that end in a heap violation: how
// often, and how cheaply, a configuration catches that bug (bench/detect-rate).
// Inputs are tools/gen_input.h's seed bytes, as `slabfuzz gen --seed` uses
// them. A figure, not a test.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "generators/gcgen/gcgen.h"
#include "oracle/fuzz_check.h"
#include "oracle/run.h"
#include "tools/gen_input.h"

namespace slabfuzz {
namespace {

uint32_t choiceOf(std::span<const uint8_t> in) {
  uint32_t choice = 0;
  for (size_t i = 0; i < std::min<size_t>(in.size(), 4); ++i) choice |= uint32_t{in[i]} << (8 * i);
  return choice;
}

}  // namespace
}  // namespace slabfuzz

int main(int argc, char** argv) {
  using namespace slabfuzz;
  CLI::App app{"gcgen_diff throughput (bench/diff-speed)"};
  std::string mode = "diff";
  uint64_t first = 0, count = 2000;
  size_t size = 1000;
  std::string config = "ref";
  app.add_option("--mode", mode, "gen | run | diff")->check(CLI::IsMember({"gen", "run", "diff"}));
  app.add_option("--first", first, "first seed");
  app.add_option("--count", count, "inputs");
  app.add_option("--size", size, "bytes per input");
  app.add_option("--config", config, "the configuration of mode run (default ref)");
  gcgen::GenParams params;
  app.add_option("--budget", params.budget, "gcgen's loop and call budget per export call");
  app.add_option("--max-loop-iterations", params.max_loop_iterations, "gcgen's loop bound");
  bool broken_maps = false;
  app.add_flag("--broken-maps", broken_maps, "mode run: stack maps that miss back-edge liveness");
  CLI11_PARSE(app, argc, argv);

  std::vector<std::vector<uint8_t>> inputs;
  for (uint64_t s = first; s < first + count; ++s) inputs.push_back(seedInput(s, size));
  OurRunOptions ref;
  auto parsed = parseEngineConfig(config);
  if (!parsed.ok()) {
    fmt::print(stderr, "diff_bench: {}\n", parsed.error());
    return 2;
  }
  ref.config = std::move(parsed).value();
  ref.compile.liveness_ignores_back_edges = broken_maps;
  uint64_t inconclusive = 0, lines = 0, violations = 0;
  auto start = std::chrono::steady_clock::now();
  for (const std::vector<uint8_t>& in : inputs) {
    std::span<const uint8_t> bytes(in);
    size_t head = std::min<size_t>(bytes.size(), 4);
    auto module = std::make_shared<const Module>(gcgen::generateModule(bytes.subspan(head), params));
    if (mode == "gen") continue;
    ModuleInput input{{}, module};
    if (mode == "run") {
      ExecutionLog log = runOurs(input, ref);
      lines += log.lines.size();
      inconclusive += log.status == ExecutionLog::Status::Inconclusive;
      violations += log.status == ExecutionLog::Status::Violation;
      continue;
    }
    FuzzCheckOptions options;
    options.rejection_is_finding = true;
    Verdict v = fuzzCheck(input, choiceOf(bytes), options);
    inconclusive += v.kind == Verdict::Kind::AgreeUpToLimit;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{{\"mode\": \"{}\", \"inputs\": {}, \"input_bytes\": {}, \"seconds\": {:.4f}, "
             "\"execs_per_s\": {:.1f}, \"inconclusive\": {}, \"log_lines\": {}, \"violations\": {}}}\n",
             mode == "run" ? config : mode, count, size, secs, static_cast<double>(count) / secs,
             inconclusive, lines, violations);
  return 0;
}
