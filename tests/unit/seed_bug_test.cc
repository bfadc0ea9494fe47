// The seed bug end to end (issue 10397's shape, corpus/regress): the module
// runs clean, with the reference heap's log, in every engine configuration;
// and when root finding is broken on purpose (stack maps that ignore loop
// back edges, CompileOptions::liveness_ignores_back_edges) the slab heap
// reports the freed-and-reused array as different-slab or stale-generation.
// This is the test that proves the harness's eyes see.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "oracle/config.h"
#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/host/fuzzing_support.h"
#include "runtime/instantiate.h"
#include "runtime/validate.h"

namespace slabfuzz {
namespace {

std::vector<uint8_t> readRegress(const std::string& name) {
  std::string path = std::string(SLABFUZZ_GOLDEN_DIR) + "/../../corpus/regress/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct RunResult {
  std::vector<std::string> log;
  FuzzExecSummary summary;
  HeapStats stats;
};

// Binaryen's --fuzz-exec over the module in one configuration.
RunResult runModule(const std::string& file, const std::string& config_name,
                    const CompileOptions& compile = {}) {
  RunResult out;
  auto config = parseEngineConfig(config_name);
  EXPECT_TRUE(config.ok()) << config_name;
  if (!config.ok()) return out;
  Store store(makeHeapFactory(config.value()));
  Executor exec(store, withConfig(RunLimits{}, config.value()));
  FuzzingSupport fuzzing(store, [&](std::string_view l) { out.log.emplace_back(l); });
  auto decoded = decodeModule(readRegress(file));
  EXPECT_TRUE(decoded.ok());
  if (!decoded.ok()) return out;
  auto module = std::make_shared<Module>(std::move(decoded).value());
  auto types = validateModule(*module, store.types);
  EXPECT_TRUE(types.ok());
  if (!types.ok()) return out;
  auto inst = instantiate(exec, module, std::move(types).value(), fuzzing.resolver(), compile);
  EXPECT_TRUE(inst.ok());
  if (!inst.ok()) return out;
  fuzzing.setInstance(inst.value());
  out.summary = fuzzing.runExports(exec);
  out.stats = store.heap->stats();
  return out;
}

constexpr const char* kSeed = "seed-loop-carried-ref.wasm";

TEST(SeedBug, RunsCleanInEveryConfiguration) {
  RunResult ref = runModule(kSeed, "ref");
  ASSERT_FALSE(ref.summary.violation);
  ASSERT_FALSE(ref.log.empty());
  EXPECT_EQ(ref.log.back(), "[fuzz-exec] note result: run => 4268");
  for (const EngineConfigName& n : engineConfigNames()) {
    RunResult r = runModule(kSeed, std::string(n.name));
    EXPECT_FALSE(r.summary.violation) << n.name << ": " << r.summary.violation->describe();
    EXPECT_EQ(r.log, ref.log) << n.name;
    if (n.name != "ref" && n.name != "slab") {
      // Forced collections did happen: the run proves something.
      EXPECT_GT(r.stats.collections, 5u) << n.name;
    }
  }
}

TEST(SeedBug, BrokenStackMapsAreSeen) {
  CompileOptions broken;
  broken.liveness_ignores_back_edges = true;
  // The reference heap never frees: broken maps change nothing there.
  RunResult ref = runModule(kSeed, "ref", broken);
  EXPECT_FALSE(ref.summary.violation);
  EXPECT_EQ(ref.log.back(), "[fuzz-exec] note result: run => 4268");
  // Collecting at every safepoint frees the array at the call_ref; the
  // garbage array takes its slot (or, with tiny slabs, its slab's index),
  // and the next iteration's ref.cast names a reused slot.
  for (const char* name : {"slab-zeal", "slab-small"}) {
    RunResult r = runModule(kSeed, name, broken);
    ASSERT_TRUE(r.summary.violation) << name << " did not see the lost reference";
    HeapViolationKind k = r.summary.violation->kind;
    EXPECT_TRUE(k == HeapViolationKind::DifferentSlab || k == HeapViolationKind::StaleGeneration)
        << name << ": " << r.summary.violation->describe();
    EXPECT_NE(r.summary.violation->site.find("$run"), std::string::npos)
        << r.summary.violation->site;
    EXPECT_EQ(r.log.back().rfind(std::string(kSlabfuzzLinePrefix) + " heap violation slab-id:", 0), 0u)
        << r.log.back();
  }
  // Tiny slabs release the freed array's slab and reuse its index: the
  // wasmtime panic's own words.
  RunResult small = runModule(kSeed, "slab-small", broken);
  ASSERT_TRUE(small.summary.violation);
  EXPECT_EQ(small.summary.violation->kind, HeapViolationKind::DifferentSlab)
      << small.summary.violation->describe();
  EXPECT_NE(small.summary.violation->describe().find("id from different slab"), std::string::npos);
  // Conservative maps do not depend on liveness: the same broken compile
  // runs clean there, which is why the oracle runs both.
  RunResult conservative = runModule(kSeed, "slab-conservative", broken);
  EXPECT_FALSE(conservative.summary.violation);
  EXPECT_EQ(conservative.log, ref.log);
}

}  // namespace
}  // namespace slabfuzz
