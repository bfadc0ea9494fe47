// The Binaryen lane's throughput (bench/binaryen-lane): translate-to-fuzz and
// optimisation modules/s through a BinaryenLane of K workers on one route,
// over seeds 0..N-1 (inputs and pipelines as `slabfuzz ttf` draws them).
// Prints one JSON object; the script compares routes and worker counts.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "generators/binaryen/lane.h"
#include "generators/binaryen/pipeline.h"
#include "tools/gen_input.h"

int main(int argc, char** argv) {
  using namespace slabfuzz;
  using namespace slabfuzz::binaryen;
  using Clock = std::chrono::steady_clock;
  CLI::App app{"Binaryen lane throughput"};
  int count = 40, workers = 1, warmup = 20;
  size_t size = 4000;
  std::string route = "reuse", optimize_route;
  app.add_option("--count", count, "modules")->capture_default_str();
  app.add_option("--workers", workers, "worker processes")->capture_default_str();
  app.add_option("--size", size, "input bytes per seed")->capture_default_str();
  app.add_option("--warmup", warmup, "untimed modules per worker first (V8 tiers wasm-opt up)")
      ->capture_default_str();
  app.add_option("--route", route, "reuse | fresh | spawn")->capture_default_str();
  app.add_option("--optimize-route", optimize_route, "the optimize route if different");
  CLI11_PARSE(app, argc, argv);

  LaneOptions o;
  o.workers = workers;
  o.route = route;
  o.optimize_route = optimize_route;
  auto t_start = Clock::now();
  auto lane = BinaryenLane::start(o);
  if (!lane.ok()) {
    fmt::print(stderr, "binaryen_lane_bench: {}\n", lane.error().message);
    return 2;
  }
  double start_s = std::chrono::duration<double>(Clock::now() - t_start).count();
  std::vector<TtfJob> jobs;
  std::vector<Pipeline> pipelines;
  for (int s = 0; s < count; ++s) {
    // The same derivation as tools/ttf_cmd.cc's pipelineFor.
    pipelines.push_back(drawPipeline(seedInput(s ^ 0x70697065'6c696e65ull, 16)));
    jobs.push_back({seedInput(s, size), pipelines.back().closed_world, true});
  }
  // Warm-up: seeds past the measured ones, through both operations, so that
  // every worker's V8 has tiered up the code the measurement runs.
  if (warmup > 0) {
    std::vector<TtfJob> warm;
    std::vector<OptimizeJob> warm_opt;
    for (int i = 0; i < warmup * workers; ++i) {
      uint64_t s = 1'000'000 + i;
      Pipeline p = drawPipeline(seedInput(s ^ 0x70697065'6c696e65ull, 16));
      warm.push_back({seedInput(s, size), p.closed_world, true});
      warm_opt.push_back({{}, p});
    }
    LaneBatch wa = lane.value()->translateToFuzz(std::span<const TtfJob>(warm));
    for (size_t i = 0; i < warm.size(); ++i)
      if (wa.results[i].ok()) warm_opt[i].module = wa.results[i].value();
    std::erase_if(warm_opt, [](const OptimizeJob& j) { return j.module.empty(); });
    (void)lane.value()->optimize(warm_opt);
  }
  auto t0 = Clock::now();
  LaneBatch a = lane.value()->translateToFuzz(std::span<const TtfJob>(jobs));
  auto t1 = Clock::now();
  std::vector<OptimizeJob> opt;
  std::vector<size_t> sizes;
  int failed = 0;
  for (int i = 0; i < count; ++i) {
    if (!a.results[i].ok()) {
      ++failed;
      continue;
    }
    sizes.push_back(a.results[i].value().size());
    opt.push_back({a.results[i].value(), pipelines[i]});
  }
  auto t2 = Clock::now();
  LaneBatch b = lane.value()->optimize(opt);
  auto t3 = Clock::now();
  for (const LaneResult& r : b.results) failed += r.ok() ? 0 : 1;
  std::sort(sizes.begin(), sizes.end());
  double ttf_s = std::chrono::duration<double>(t1 - t0).count();
  double opt_s = std::chrono::duration<double>(t3 - t2).count();
  nlohmann::json j = {
      {"route", route},
      {"optimize_route", optimize_route.empty() ? route : optimize_route},
      {"workers", workers},
      {"count", count},
      {"input_bytes", size},
      {"warmup_per_worker", warmup},
      {"start_seconds", start_s},
      {"ttf_modules_per_s", ttf_s > 0 ? count / ttf_s : 0},
      {"optimize_modules_per_s", opt_s > 0 ? static_cast<double>(opt.size()) / opt_s : 0},
      {"median_module_bytes", sizes.empty() ? 0 : sizes[sizes.size() / 2]},
      {"failed", failed},
      {"restarts", a.restarts.size() + b.restarts.size()},
  };
  fmt::print("{}\n", j.dump());
  return failed ? 1 : 0;
}
