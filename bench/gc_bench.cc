// gc_bench: one allocation-heavy workload under one engine configuration,
// timed, with the heap's counters and the GC pause distribution, printed as
// one JSON line for bench/gc-heap. A figure, not a test (CONVENTIONS.md rule
// 16): the exit status never depends on time.
// Owns: loading a workload (no imports), timing its calls, timing each
// collection through SlabHeapConfig::observer, reading peak RSS. Does not
// own: the heaps, the configurations (oracle/config.h), the comparison
// across engines and the table (bench/gc-heap).
// Contract: one configuration per process, since peak RSS (ru_maxrss) is the
// process's. Every call gets a fresh store: the reference heap never frees,
// so with one store repeats would pile up garbage and each call would measure
// a bigger heap than the one before; a fresh store makes calls alike and
// makes peak RSS the peak of one call. Exit 0 ran, 1 the module failed
// (rejected, trapped, violation), 2 usage or unreadable file.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "heap/slab_heap.h"
#include "oracle/config.h"
#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/instantiate.h"
#include "runtime/store.h"
#include "runtime/validate.h"

namespace slabfuzz {
namespace {

using Clock = std::chrono::steady_clock;

// Times each collection and samples live bytes at its start (the high-water
// mark between collections, since objects are freed only by a collection).
// The heap reads no clock; this observer, owned here, does.
class PauseTimer final : public GcObserver {
 public:
  const Heap* heap = nullptr;
  std::vector<double> pauses_us;
  uint64_t peak_live_bytes = 0;

  void collectionStarted() override {
    if (heap) peak_live_bytes = std::max(peak_live_bytes, heap->stats().live_bytes);
    start_ = Clock::now();
  }
  void collectionFinished() override {
    pauses_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start_).count());
  }

 private:
  Clock::time_point start_;
};

// The value at quantile q of sorted xs (nearest rank), 0 for none.
double quantile(const std::vector<double>& xs, double q) {
  if (xs.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(xs.size() - 1) + 0.5);
  return xs[std::min(i, xs.size() - 1)];
}

int fail(const std::string& what) {
  std::fprintf(stderr, "gc_bench: %s\n", what.c_str());
  return 1;
}

struct Options {
  std::string config = "slab";
  std::string file;
  std::string export_name = "run";
  uint32_t repeat = 1;
  uint64_t max_heap = HeapLimits{}.max_bytes;
};

int runBench(const Options& opts) {
  auto config = parseEngineConfig(opts.config);
  if (!config.ok()) {
    std::fprintf(stderr, "gc_bench: %s\n", config.error().c_str());
    return 2;
  }
  std::ifstream in(opts.file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "gc_bench: cannot read %s\n", opts.file.c_str());
    return 2;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  auto decoded = decodeModule(bytes);
  if (!decoded.ok()) return fail(opts.file + ": " + decoded.error().toString());
  auto module = std::make_shared<const Module>(std::move(decoded).value());

  PauseTimer timer;
  EngineConfig engine = config.value();
  engine.slab.observer = &timer;  // read only by the slab heap
  HeapLimits limits;
  limits.max_bytes = opts.max_heap;

  std::vector<double> call_s;
  std::string result;
  HeapStats heap_stats;
  SlabHeapStats slab_stats;
  for (uint32_t i = 0; i < opts.repeat; ++i) {
    Store store(makeHeapFactory(engine, limits));
    timer.heap = store.heap.get();
    auto types = validateModule(*module, store.types);
    if (!types.ok()) return fail(opts.file + ": " + types.error().toString());
    Executor exec(store, withConfig(RunLimits{}, engine));
    ImportResolver none = [](std::string_view, std::string_view) {
      return std::optional<ExternVal>{};
    };
    auto inst = instantiate(exec, module, std::move(types).value(), none);
    if (!inst.ok()) return fail(opts.file + ": instantiation failed: " + inst.error().message);
    const ExternVal* ext = inst.value()->findExport(opts.export_name);
    if (!ext || ext->kind != ExternKind::Func)
      return fail(opts.file + ": no exported function " + opts.export_name);
    auto result_types = store.types.results(store.funcs[ext->func].type);
    if (!store.types.params(store.funcs[ext->func].type).empty() || result_types.size() != 1)
      return fail(opts.export_name + " must take nothing and return one i32 or i64");

    auto t0 = Clock::now();
    Outcome o = exec.invoke(ext->func, {});
    call_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (!o.ok())
      return fail(opts.file + ": " + opts.export_name +
                  " did not return (trap, fuel or violation)");
    std::string r = result_types[0].kind() == ValKind::I64 ? std::to_string(o.results[0].i64())
                                                           : std::to_string(o.results[0].i32());
    if (!result.empty() && r != result) return fail("results differ between repeats");
    result = r;
    // Counters of the last call (every call does the same work).
    heap_stats = store.heap->stats();
    timer.peak_live_bytes = std::max(timer.peak_live_bytes, heap_stats.live_bytes);
    if (auto* slab = dynamic_cast<const SlabHeap*>(store.heap.get()))
      slab_stats = slab->slabStats();
    timer.heap = nullptr;
  }

  std::sort(call_s.begin(), call_s.end());
  std::vector<double> pauses = timer.pauses_us;
  std::sort(pauses.begin(), pauses.end());
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);  // ru_maxrss: KiB on Linux

  nlohmann::ordered_json j;
  j["config"] = opts.config;
  j["file"] = opts.file;
  j["export"] = opts.export_name;
  j["max_heap_bytes"] = opts.max_heap;
  j["repeat"] = opts.repeat;
  j["result"] = result;
  j["call_s"] = quantile(call_s, 0.5);
  j["collections"] = heap_stats.collections;
  j["allocations"] = heap_stats.allocations;
  j["objects_freed"] = slab_stats.objects_freed;
  j["slabs_created"] = slab_stats.slabs_created;
  j["slabs_released"] = slab_stats.slabs_released;
  j["peak_live_bytes"] = timer.peak_live_bytes;
  j["peak_rss_kib"] = usage.ru_maxrss;
  // Pauses over all repeats.
  j["pauses"] = {{"count", pauses.size()},
                 {"p50_us", quantile(pauses, 0.5)},
                 {"p90_us", quantile(pauses, 0.9)},
                 {"p99_us", quantile(pauses, 0.99)},
                 {"max_us", pauses.empty() ? 0.0 : pauses.back()}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace slabfuzz

int main(int argc, char** argv) {
  slabfuzz::Options opts;
  CLI::App app{"Times one GC workload under one engine configuration; prints one JSON line."};
  app.add_option("--config", opts.config, "engine configuration (oracle/config.h), e.g. ref, slab");
  app.add_option("--export", opts.export_name, "export to call (no parameters, one result)");
  app.add_option("--repeat", opts.repeat, "calls, each on a fresh store; the median is printed")
      ->check(CLI::PositiveNumber);
  app.add_option("--max-heap", opts.max_heap, "HeapLimits::max_bytes (bytes; default 1 GiB)");
  app.add_option("file", opts.file, "workload .wasm (no imports)")->required();
  CLI11_PARSE(app, argc, argv);
  return slabfuzz::runBench(opts);
}
