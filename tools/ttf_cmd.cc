// `slabfuzz ttf`: the Binaryen lane (generators/binaryen) from the command line.
// Owns: turning seeds into translate-to-fuzz inputs (tools/gen_input.h) and
// pipeline bytes, batching seeds through the worker pool, the metamorphic
// report over a seed range, and writing modules and reproducer bundles
// atomically (tools/atomic_write.h). Does not own: the workers, the pass
// table or the verdicts (their library).
// Contract: the same seed and --size always give the same module and the same
// pipeline; no clock decides an output (time is measured for modules/s only);
// a finding's bundle is written whole or not at all and never replaces an
// earlier one.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "generators/binaryen/lane.h"
#include "generators/binaryen/metamorphic.h"
#include "generators/binaryen/pipeline.h"
#include "oracle/config.h"
#include "tools/atomic_write.h"
#include "tools/commands.h"
#include "tools/gen_input.h"
#include "tools/seed_range.h"

namespace slabfuzz::cli {
namespace {

using namespace slabfuzz::binaryen;
using json = nlohmann::json;

// A finding (a difference, a heap violation, or a module our validator and
// Binaryen disagree on): the project's finding status, as `slabfuzz run`.

struct TtfOptions {
  std::optional<uint64_t> seed;
  std::string seeds;
  size_t size = 4000;
  std::string out;
  std::string opt_out;
  bool optimize = false;
  bool force = false;
  bool metamorphic = false;
  bool keep_nans = false;
  bool json = false;
  std::string out_dir = "ttf-findings";
  bool out_dir_given = false;
  int workers = 1;
  int batch = 0;
  size_t max_passes = kDefaultMaxPasses;
  std::string config = "ref";
  uint64_t fuel = FuzzExecLimits{}.fuel;
  std::string node = LaneOptions::defaultNode();
  std::string script = LaneOptions::defaultScript();
  std::string route = "reuse";
  int timeout_ms = LaneOptions{}.timeout_ms;
};

// The pipeline of seed N is drawn from bytes of its own stream, so it does
// not depend on --size.
constexpr uint64_t kPipelineSalt = 0x70697065'6c696e65ull;  // "pipeline"
Pipeline pipelineFor(uint64_t seed, size_t max_passes) {
  return drawPipeline(seedInput(seed ^ kPipelineSalt, 16), max_passes);
}

Result<std::unique_ptr<BinaryenLane>, LaneError> startLane(const TtfOptions& opts, int workers) {
  LaneOptions lo;
  lo.node = opts.node;
  lo.script = opts.script;
  lo.workers = workers;
  lo.route = opts.route;
  lo.timeout_ms = opts.timeout_ms;
  return BinaryenLane::start(std::move(lo));
}

// The default path of the optimised variant: out.wasm -> out.opt.wasm.
std::string optimisedPath(const std::string& out) {
  std::filesystem::path p(out);
  if (p.extension() == ".wasm") return p.replace_extension(".opt.wasm").string();
  return out + ".opt.wasm";
}

int writeOne(const TtfOptions& opts) {
  auto lane = startLane(opts, 1);
  if (!lane.ok()) {
    fmt::print(stderr, "error: {}\n", lane.error().message);
    return kExitUsage;
  }
  Pipeline p = pipelineFor(*opts.seed, opts.max_passes);
  std::vector<TtfJob> inputs{{seedInput(*opts.seed, opts.size), p.closed_world, !opts.keep_nans}};
  LaneBatch a = lane.value()->translateToFuzz(std::span<const TtfJob>(inputs));
  for (const WorkerRestart& r : a.restarts)
    fmt::print(stderr, "warning: Binaryen worker {} restarted: {}\n", r.worker, r.reason);
  if (!a.results[0].ok()) {
    fmt::print(stderr, "error: translate-to-fuzz failed: {}\n", a.results[0].error().message);
    return kExitRejected;
  }
  if (auto err = writeAtomically(opts.out, a.results[0].value(), opts.force)) {
    fmt::print(stderr, "error: {}\n", *err);
    return kExitUsage;
  }
  if (!opts.optimize) return kExitOk;
  fmt::print("pipeline: {}\n", p.toString());
  std::vector<OptimizeJob> jobs{{a.results[0].value(), p}};
  LaneBatch b = lane.value()->optimize(jobs);
  for (const WorkerRestart& r : b.restarts)
    fmt::print(stderr, "warning: Binaryen worker {} restarted: {}\n", r.worker, r.reason);
  if (!b.results[0].ok()) {
    fmt::print(stderr, "error: optimisation failed: {}\n", b.results[0].error().message);
    return kExitRejected;
  }
  std::string path = opts.opt_out.empty() ? optimisedPath(opts.out) : opts.opt_out;
  if (auto err = writeAtomically(path, b.results[0].value(), opts.force)) {
    fmt::print(stderr, "error: {}\n", *err);
    return kExitUsage;
  }
  return kExitOk;
}

// --seeds A..B --out-dir DIR without --metamorphic: DIR/seed-N.wasm for each
// seed, as `--seed N -o` writes it, through one pool of workers.
int writeMany(const TtfOptions& opts, uint64_t first, uint64_t last) {
  std::error_code ec;
  if (!std::filesystem::is_directory(opts.out_dir, ec) &&
      !std::filesystem::create_directories(opts.out_dir, ec)) {
    fmt::print(stderr, "error: --out-dir {}: {}\n", opts.out_dir, ec ? ec.message() : "not a directory");
    return kExitUsage;
  }
  auto lane = startLane(opts, opts.workers);
  if (!lane.ok()) {
    fmt::print(stderr, "error: {}\n", lane.error().message);
    return kExitUsage;
  }
  const size_t batch = opts.batch > 0 ? static_cast<size_t>(opts.batch)
                                      : static_cast<size_t>(8 * opts.workers);
  uint64_t written = 0, failed = 0, io_errors = 0;
  for (uint64_t start = first;; start += batch) {
    const uint64_t end = std::min<uint64_t>(last, start + batch - 1);
    std::vector<TtfJob> inputs;
    for (uint64_t s = start;; ++s) {
      inputs.push_back({seedInput(s, opts.size), pipelineFor(s, opts.max_passes).closed_world,
                        !opts.keep_nans});
      if (s == end) break;
    }
    LaneBatch a = lane.value()->translateToFuzz(std::span<const TtfJob>(inputs));
    for (const WorkerRestart& r : a.restarts)
      fmt::print(stderr, "warning: Binaryen worker {} restarted: {}\n", r.worker, r.reason);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const uint64_t seed = start + i;
      if (!a.results[i].ok()) {
        ++failed;
        fmt::print(stderr, "error: seed {}: translate-to-fuzz failed: {}\n", seed,
                   a.results[i].error().message);
        continue;
      }
      std::string path = fmt::format("{}/seed-{}.wasm", opts.out_dir, seed);
      if (auto err = writeAtomically(path, a.results[i].value(), opts.force)) {
        ++io_errors;
        fmt::print(stderr, "error: {}\n", *err);
        continue;
      }
      ++written;
    }
    if (end == last) break;
  }
  fmt::print("{} module(s) written to {}, {} failed, {} not written\n", written, opts.out_dir, failed,
             io_errors);
  if (io_errors) return kExitUsage;
  return failed ? kExitRejected : kExitOk;
}

struct Counts {
  uint64_t modules = 0, ttf_failed = 0, valid = 0, optimize_failed = 0, agree = 0,
           inconclusive = 0, differ = 0, invalid_a = 0, invalid_b = 0, violation = 0;
};

// A reproducer bundle for seed `seed`: the two modules, the pipeline with the
// commands that rebuild and rerun them, both logs and the verdict.
std::optional<std::string> writeBundle(const TtfOptions& opts, uint64_t seed,
                                       const std::vector<uint8_t>& a,
                                       const std::vector<uint8_t>* b, const Pipeline& p,
                                       const MetamorphicVerdict& v, std::string* dir) {
  std::vector<NamedFile> files;
  files.emplace_back("A.wasm", a);
  if (b) files.emplace_back("B.wasm", *b);
  std::string how = fmt::format(
      "{}\n# A: slabfuzz ttf --seed {} --size {} --max-passes {}{} -o A.wasm\n"
      "# B: node wasm-opt A.wasm {} {} -o B.wasm\n"
      "# run: slabfuzz run --config {} --fuel {} A.wasm (and B.wasm)\n",
      p.toString(), seed, opts.size, opts.max_passes, opts.keep_nans ? " --keep-nans" : "", [] {
        std::string f;
        for (std::string_view s : runtimeFeatureFlags()) f += (f.empty() ? "" : " ") + std::string(s);
        return f;
      }(), p.toString(), opts.config, opts.fuel);
  files.emplace_back("pipeline.txt", textBytes(how));
  files.emplace_back("A.log", textBytes(joinLines(v.a.log)));
  if (b) files.emplace_back("B.log", textBytes(joinLines(v.b.log)));
  std::string verdict = fmt::format("{}\n{}\n", verdictName(v.kind), v.detail);
  files.emplace_back("verdict.txt", textBytes(verdict));
  return writeDirectoryAtomically(opts.out_dir, fmt::format("seed-{}", seed), files, dir);
}

int metamorphic(const TtfOptions& opts, uint64_t first, uint64_t last) {
  using Clock = std::chrono::steady_clock;
  auto config = parseEngineConfig(opts.config);
  if (!config.ok()) {
    fmt::print(stderr, "{}\n", config.error());
    return kExitUsage;
  }
  auto lane = startLane(opts, opts.workers);
  if (!lane.ok()) {
    fmt::print(stderr, "error: {}\n", lane.error().message);
    return kExitUsage;
  }
  FuzzExecLimits limits;
  limits.fuel = opts.fuel;
  const size_t batch = opts.batch > 0 ? static_cast<size_t>(opts.batch)
                                      : static_cast<size_t>(8 * opts.workers);
  Counts c;
  json findings = json::array(), errors = json::array(), restarts = json::array();
  bool io_error = false;
  const auto t0 = Clock::now();
  double lane_s = 0;
  for (uint64_t start = first;; start += batch) {
    const uint64_t end = std::min<uint64_t>(last, start + batch - 1);
    std::vector<uint64_t> seeds;
    std::vector<Pipeline> pipelines;
    std::vector<TtfJob> inputs;
    for (uint64_t s = start;; ++s) {
      seeds.push_back(s);
      pipelines.push_back(pipelineFor(s, opts.max_passes));
      inputs.push_back({seedInput(s, opts.size), pipelines.back().closed_world, !opts.keep_nans});
      if (s == end) break;
    }
    auto l0 = Clock::now();
    LaneBatch a = lane.value()->translateToFuzz(std::span<const TtfJob>(inputs));
    std::vector<OptimizeJob> jobs;
    std::vector<size_t> job_of(seeds.size(), SIZE_MAX);
    for (size_t i = 0; i < seeds.size(); ++i) {
      if (!a.results[i].ok()) continue;
      job_of[i] = jobs.size();
      jobs.push_back({a.results[i].value(), pipelines[i]});
    }
    LaneBatch b = lane.value()->optimize(jobs);
    lane_s += std::chrono::duration<double>(Clock::now() - l0).count();
    for (const LaneBatch* lb : {&a, &b})
      for (const WorkerRestart& r : lb->restarts)
        restarts.push_back({{"worker", r.worker}, {"reason", r.reason}});

    for (size_t i = 0; i < seeds.size(); ++i) {
      const uint64_t seed = seeds[i];
      ++c.modules;
      if (!a.results[i].ok()) {
        ++c.ttf_failed;
        errors.push_back({{"seed", seed}, {"stage", "ttf"}, {"error", a.results[i].error().message}});
        continue;
      }
      const std::vector<uint8_t>& mod_a = a.results[i].value();
      const OptimizeJob& job = jobs[job_of[i]];
      const LaneResult& rb = b.results[job_of[i]];
      MetamorphicVerdict v;
      if (!rb.ok()) {
        // Binaryen refused to optimise: still check that A is valid here.
        v.a = runFuzzExec(mod_a, config.value(), limits);
        if (v.a.status == FuzzExecRun::Status::Rejected) {
          v.kind = MetamorphicVerdict::Kind::InvalidA;
          v.detail = v.a.message;
        } else {
          ++c.valid;
          ++c.optimize_failed;
          errors.push_back({{"seed", seed},
                            {"stage", "optimize"},
                            {"pipeline", job.pipeline.toString()},
                            {"error", rb.error().message}});
          continue;
        }
      } else {
        v = compareVariants(mod_a, rb.value(), config.value(), limits);
      }
      using K = MetamorphicVerdict::Kind;
      if (v.kind != K::InvalidA) ++c.valid;
      switch (v.kind) {
        case K::Agree: ++c.agree; continue;
        case K::Inconclusive: ++c.inconclusive; continue;
        case K::Differ: ++c.differ; break;
        case K::InvalidA: ++c.invalid_a; break;
        case K::InvalidB: ++c.invalid_b; break;
        case K::Violation: ++c.violation; break;
      }
      std::string dir;
      auto err = writeBundle(opts, seed, mod_a, rb.ok() ? &rb.value() : nullptr, job.pipeline, v,
                             &dir);
      if (err) {
        io_error = true;
        fmt::print(stderr, "error: {}\n", *err);
      }
      findings.push_back({{"seed", seed},
                          {"kind", verdictName(v.kind)},
                          {"pipeline", job.pipeline.toString()},
                          {"detail", v.detail},
                          {"dir", dir}});
      if (!opts.json) {
        fmt::print("FINDING seed {}: {} ({}) pipeline: {}{}\n", seed, verdictName(v.kind), v.detail,
                   job.pipeline.toString(), dir.empty() ? "" : "; written to " + dir);
      }
    }
    if (end == last) break;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rate = secs > 0 ? static_cast<double>(c.modules) / secs : 0;
  const double lane_rate = lane_s > 0 ? static_cast<double>(c.modules) / lane_s : 0;
  if (opts.json) {
    json j = {{"seeds", {first, last}},
              {"input_bytes", opts.size},
              {"config", opts.config},
              {"workers", opts.workers},
              {"binaryen", lane.value()->hello().value("binaryen", "")},
              {"modules", c.modules},
              {"ttf_failed", c.ttf_failed},
              {"valid", c.valid},
              {"optimize_failed", c.optimize_failed},
              {"agree", c.agree},
              {"inconclusive", c.inconclusive},
              {"differ", c.differ},
              {"invalid_a", c.invalid_a},
              {"invalid_b", c.invalid_b},
              {"violation", c.violation},
              {"seconds", secs},
              {"modules_per_s", rate},
              {"lane_modules_per_s", lane_rate},
              {"findings", findings},
              {"errors", errors},
              {"restarts", restarts}};
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print(
        "ttf metamorphic seeds {}..{} ({}-byte inputs, config {}, {} worker(s)):\n"
        "  modules {}, valid (our validator) {}, agree {}, inconclusive {}, differ {}\n"
        "  invalid A {}, invalid B {}, heap violations {}, ttf failed {}, optimiser refused {}\n"
        "  worker restarts {}; {:.1f} modules/s end to end ({:.1f} modules/s in the lane)\n",
        first, last, opts.size, opts.config, opts.workers, c.modules, c.valid, c.agree,
        c.inconclusive, c.differ, c.invalid_a, c.invalid_b, c.violation, c.ttf_failed,
        c.optimize_failed, restarts.size(), rate, lane_rate);
    for (const json& e : errors)
      fmt::print("  error seed {} ({}): {}\n", e["seed"].get<uint64_t>(),
                 e["stage"].get<std::string>(), e["error"].get<std::string>().substr(0, 300));
    for (const json& r : restarts)
      fmt::print("  restart of worker {}: {}\n", r["worker"].get<int>(),
                 r["reason"].get<std::string>().substr(0, 300));
  }
  if (c.differ + c.invalid_a + c.invalid_b + c.violation > 0) return kExitFinding;
  if (io_error) return kExitUsage;
  if (c.ttf_failed > 0) return kExitRejected;
  return kExitOk;
}

int run(const TtfOptions& opts) {
  if (opts.workers < 1 || opts.workers > 64) {
    fmt::print(stderr, "error: --workers wants 1..64, got {}\n", opts.workers);
    return kExitUsage;
  }
  if (opts.max_passes < 1) {
    fmt::print(stderr, "error: --max-passes wants at least 1\n");
    return kExitUsage;
  }
  if (opts.size == 0 || opts.size > (size_t{64} << 20)) {
    fmt::print(stderr, "error: --size wants 1..67108864 bytes\n");
    return kExitUsage;
  }
  if (opts.route != "reuse" && opts.route != "fresh" && opts.route != "spawn") {
    fmt::print(stderr, "error: --route wants reuse, fresh or spawn\n");
    return kExitUsage;
  }
  if (opts.metamorphic) {
    if (opts.seeds.empty()) {
      fmt::print(stderr, "error: --metamorphic needs --seeds A..B\n");
      return kExitUsage;
    }
    auto range = parseSeedRange(opts.seeds);
    if (!range) {
      fmt::print(stderr, "error: --seeds wants A..B with A <= B (e.g. 0..99), got \"{}\"\n",
                 opts.seeds);
      return kExitUsage;
    }
    return metamorphic(opts, range->first, range->second);
  }
  if (!opts.seeds.empty()) {
    auto range = parseSeedRange(opts.seeds);
    if (!range) {
      fmt::print(stderr, "error: --seeds wants A..B with A <= B (e.g. 0..99), got \"{}\"\n",
                 opts.seeds);
      return kExitUsage;
    }
    if (!opts.out_dir_given) {
      fmt::print(stderr, "error: --seeds needs --out-dir DIR (or --metamorphic)\n");
      return kExitUsage;
    }
    return writeMany(opts, range->first, range->second);
  }
  if (!opts.seed) {
    fmt::print(stderr, "error: give --seed N -o FILE, or --seeds A..B --metamorphic\n");
    return kExitUsage;
  }
  if (opts.out.empty()) {
    fmt::print(stderr, "error: -o FILE is required\n");
    return kExitUsage;
  }
  return writeOne(opts);
}

}  // namespace

void addTtfCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<TtfOptions>();
  CLI::App* cmd = app.add_subcommand(
      "ttf",
      "Binaryen's translate-to-fuzz (wasm-opt -ttf) and optimiser through long-lived\n"
      "workers (scripts/js/binaryen_worker.mjs on the pinned node).\n"
      "  ttf --seed N [--size B] -o OUT.wasm [--optimize]   one module; --optimize also\n"
      "      writes OUT.opt.wasm through the seed's pipeline and prints the pipeline\n"
      "  ttf --seeds A..B --out-dir DIR [--workers K]   DIR/seed-N.wasm for each seed,\n"
      "      as --seed N -o writes it (never replacing a file without --force)\n"
      "  ttf --seeds A..B --metamorphic [--workers K] [--json] [--out-dir DIR]\n"
      "      each seed's module A and its optimised B run on our runtime (every export,\n"
      "      --fuzz-exec log); the logs must agree. Counts, modules/s, and for each\n"
      "      finding a bundle DIR/seed-N (A.wasm, B.wasm, pipeline.txt, A.log, B.log,\n"
      "      verdict.txt), written atomically, never replacing an earlier one.\n"
      "Seed N's input is B bytes of splitmix64 from state N (tools/gen_input.h); its\n"
      "pipeline is drawn from 16 bytes of the stream of N xor \"pipeline\"\n"
      "(generators/binaryen/pipeline.h), and when that pipeline runs in Binaryen's\n"
      "closed world, A is generated for it (-ttf --closed-world), as Binaryen's own\n"
      "fuzzer does. A is instrumented with --denan (NaNs become 0: an arithmetic\n"
      "NaN's sign is nondeterministic) unless --keep-nans. Features: the runtime's\n"
      "scope only.\n"
      "Exit status: 0 done, every seed agreed or was inconclusive; 1 translate-to-fuzz\n"
      "failed on a seed; 2 usage error, no node or worker, or unwritable output;\n"
      "4 finding: logs differ, a heap violation, or a module Binaryen made that our\n"
      "validator refuses.");
  cmd->add_option("--seed", opts->seed, "seed of the input bytes");
  cmd->add_option("--seeds", opts->seeds, "inclusive seed range A..B (--out-dir or --metamorphic)");
  cmd->add_option("--size", opts->size, "input bytes per seed")->capture_default_str();
  cmd->add_option("-o,--output", opts->out, "output module file");
  cmd->add_flag("--optimize", opts->optimize, "also write the optimised variant");
  cmd->add_option("--opt-output", opts->opt_out, "file for the optimised variant (default OUT.opt.wasm)");
  cmd->add_flag("--force", opts->force, "replace existing output files");
  cmd->add_flag("--keep-nans", opts->keep_nans, "do not instrument A with --denan");
  cmd->add_flag("--metamorphic", opts->metamorphic, "compare A and optimised B over --seeds");
  cmd->add_flag("--json", opts->json, "--metamorphic report as JSON");
  cmd->add_option("--out-dir", opts->out_dir,
                  "--seeds without --metamorphic: directory for the modules; with it: for finding "
                  "bundles")
      ->capture_default_str()
      ->each([opts](const std::string&) { opts->out_dir_given = true; });
  cmd->add_option("--workers", opts->workers, "worker processes")->capture_default_str();
  cmd->add_option("--batch", opts->batch, "seeds per batch (default 8 per worker)");
  cmd->add_option("--max-passes", opts->max_passes, "longest pipeline")->capture_default_str();
  std::string configs;
  for (const EngineConfigName& n : engineConfigNames())
    configs += fmt::format("\n  {:<18} {}", n.name, n.meaning);
  cmd->add_option("--config", opts->config, "engine configuration of both runs:" + configs)
      ->capture_default_str();
  cmd->add_option("--fuel", opts->fuel, "steps per run before it is inconclusive")
      ->capture_default_str();
  cmd->add_option("--node", opts->node, "node binary")->capture_default_str();
  cmd->add_option("--worker-script", opts->script, "the Binaryen worker")->capture_default_str();
  cmd->add_option("--route", opts->route, "how the worker runs wasm-opt: reuse, fresh, spawn")
      ->capture_default_str();
  cmd->add_option("--timeout-ms", opts->timeout_ms, "longest wait for one worker answer")
      ->capture_default_str();
  cmd->callback([opts, exit_code] { *exit_code = run(*opts); });
}

}  // namespace slabfuzz::cli
