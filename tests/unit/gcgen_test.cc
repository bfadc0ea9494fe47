// gcgen (generators/gcgen): every module validates, the same bytes give the
// same module, modules run alike on the reference heap and on the slab heap
// with a collection at every safepoint, and the seed-bug shape is common.
// Prints the figures the issue asks for (validity, traps, fuel, seed-shape
// share, modules/s); only validity, determinism, agreement and the
// seed-shape share are asserted.
#include "generators/gcgen/gcgen.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "generators/encode.h"
#include "generators/module_equal.h"
#include "oracle/config.h"
#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/host/fuzzing_support.h"
#include "runtime/instantiate.h"
#include "runtime/validate.h"

namespace slabfuzz {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The input for a seed: 2000-4000 bytes, and every 50th seed a tiny one
// (every 100th empty), so that exhausted inputs are exercised too.
std::vector<uint8_t> inputFor(uint64_t seed) {
  uint64_t state = seed;
  size_t size = 2000 + splitmix64(state) % 2001;
  if (seed % 100 == 0) {
    size = 0;
  } else if (seed % 50 == 0) {
    size = seed % 17;
  }
  std::vector<uint8_t> out(size);
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = splitmix64(state);
    for (size_t k = 0; k < 8 && i + k < size; ++k) out[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return out;
}

// A compact fingerprint of everything generation decides (not offsets).
std::vector<uint32_t> fingerprint(const Module& m) {
  std::vector<uint32_t> out;
  for (const SubType& t : m.types) {
    out.push_back(static_cast<uint32_t>(t.composite.kind) | (t.final ? 0x100 : 0));
    for (uint32_t s : t.supertypes) out.push_back(s);
    for (const FieldType& f : t.composite.fields)
      out.push_back(f.type.bits() ^ (f.mut ? 1u << 31 : 0));
    for (ValType v : t.composite.func.params) out.push_back(v.bits());
    for (ValType v : t.composite.func.results) out.push_back(~v.bits());
  }
  for (const RecGroup& g : m.rec_groups) out.push_back(g.first * 1000 + g.count);
  for (const Global& g : m.globals) {
    out.push_back(g.type.type.bits());
    for (const Instr& i : g.init.instrs) out.push_back(i.a);
  }
  for (const Function& f : m.functions) {
    out.push_back(f.type_index);
    for (ValType l : f.locals) out.push_back(l.bits());
    for (const Instr& i : f.body) {
      for (uint32_t v : {static_cast<uint32_t>(i.op), i.a, i.b, i.c, i.d}) out.push_back(v);
    }
  }
  for (const Export& e : m.exports) out.push_back(e.index);
  return out;
}

// The instructions before a validation error (offsets of generated
// instructions are their positions in the body), for the failure message.
std::string dumpAround(const Module& m, const Error& e) {
  unsigned func = 0;
  if (std::sscanf(e.context.c_str(), "func %u", &func) != 1 || func < m.num_imported_funcs)
    return {};
  const Function& f = m.functions[func - m.num_imported_funcs];
  std::string out;
  const size_t end = std::min<size_t>(e.offset + 1, f.body.size());
  for (size_t i = end > 12 ? end - 12 : 0; i < end; ++i) {
    const Instr& in = f.body[i];
    out += "  " + std::to_string(i) + ": " + std::string(opcodeName(in.op)) + " " +
           std::to_string(in.a) + " " + std::to_string(in.b) + "\n";
  }
  return out;
}

constexpr const char* kTemplates[] = {"seed-loop",     "redefined-local",
                                      "ref-through-select-and-blocks", "bulk-near-gc",
                                      "subtype-reads", "block-params"};

TEST(Gcgen, EmptyAndTinyInputsGiveValidModules) {
  for (const std::vector<uint8_t>& in :
       {std::vector<uint8_t>{}, std::vector<uint8_t>{0}, std::vector<uint8_t>{0xFF},
        std::vector<uint8_t>(64, 0xFF), std::vector<uint8_t>(64, 0)}) {
    Module m = gcgen::generateModule(in);
    Status s = validateModule(m);
    EXPECT_TRUE(s.ok()) << in.size() << " bytes: " << (s.ok() ? "" : s.error().toString());
    EXPECT_FALSE(m.exports.empty());
  }
}

TEST(Gcgen, TwoThousandSeedsAreValidAndOftenHaveTheSeedShape) {
  constexpr uint32_t kSeeds = 2000;
  uint32_t valid = 0, shapes = 0;
  uint64_t instructions = 0;
  std::string first_error;
  double gen_seconds = 0;
  std::map<std::string, uint64_t> rows;
  std::map<std::string, uint32_t> template_modules;  // modules with the template
  std::map<std::string, uint32_t> shape_modules;     // modules with the shape
  for (uint32_t seed = 0; seed < kSeeds; ++seed) {
    const std::vector<uint8_t> in = inputFor(seed);
    gcgen::GenStats stats;
    auto t0 = std::chrono::steady_clock::now();
    Module m = gcgen::generateModule(in, {}, &stats);
    gen_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Status s = validateModule(m);
    if (s.ok()) {
      ++valid;
    } else if (first_error.empty()) {
      first_error = "seed " + std::to_string(seed) + ": " + s.error().toString() + "\n" +
                    dumpAround(m, s.error());
    }
    shapes += stats.seed_shape ? 1 : 0;
    instructions += stats.instructions;
    for (const auto& [name, n] : stats.rows) rows[name] += n;
    for (const auto& [name, n] : stats.templates) template_modules[name] += n > 0 ? 1 : 0;
    for (const auto& [name, n] : stats.shapes) shape_modules[name] += n > 0 ? 1 : 0;
  }
  const double share = static_cast<double>(shapes) / kSeeds;
  std::printf(
      "[gcgen] %u/%u valid; seed-bug shape in %.1f%%; %.0f instructions/module; "
      "%.0f modules/s (generation only, this build)\n",
      valid, kSeeds, 100.0 * share, static_cast<double>(instructions) / kSeeds,
      kSeeds / gen_seconds);
  std::string mix;
  for (const auto& [name, n] : rows) mix += " " + name + "=" + std::to_string(n);
  std::printf("[gcgen] row mix:%s\n", mix.c_str());
  std::string tshares;
  for (const auto& [name, n] : template_modules) {
    tshares += " " + name + "=" + std::to_string(100.0 * n / kSeeds).substr(0, 4) + "%";
  }
  std::printf("[gcgen] modules with each template:%s\n", tshares.c_str());
  std::string sshares;
  for (const gcgen::ShapeInfo& sh : gcgen::favouredShapes()) {
    const uint32_t n = shape_modules[std::string(sh.name)];
    sshares += " " + std::string(sh.name) + "=" + std::to_string(100.0 * n / kSeeds).substr(0, 4) + "%";
  }
  std::printf("[gcgen] modules with each favoured shape:%s\n", sshares.c_str());
  EXPECT_EQ(valid, kSeeds) << first_error;
  EXPECT_GE(share, 0.20);
  // Every template appears in a fair share of the modules.
  for (const char* name : kTemplates) {
    EXPECT_GE(template_modules[name], kSeeds / 20) << name;
  }
  // Every favoured shape is generated, and counted where --stats reads it.
  for (const gcgen::ShapeInfo& sh : gcgen::favouredShapes()) {
    EXPECT_GE(shape_modules[std::string(sh.name)], kSeeds / 100) << sh.name;
  }
}

// Validity must not depend on the defaults: larger and smaller limits too.
TEST(Gcgen, OtherParamsStayValid) {
  gcgen::GenParams big;
  big.max_rec_groups = 12;
  big.max_rec_group_size = 6;
  big.max_struct_fields = 10;
  big.max_body_instrs = 2000;
  big.max_nesting = 6;
  big.max_value_depth = 5;
  gcgen::GenParams small;
  small.max_rec_groups = 1;
  small.max_rec_group_size = 1;
  small.max_locals = 0;
  small.max_body_instrs = 10;
  small.max_nesting = 0;
  small.max_value_depth = 0;
  small.max_loop_iterations = 1;
  small.template_array_length = 0;
  small.swarm_disable_one_in = 1;
  for (const gcgen::GenParams& p : {big, small}) {
    for (uint32_t seed = 0; seed < 150; ++seed) {
      Module m = gcgen::generateModule(inputFor(50000 + seed), p);
      Status s = validateModule(m);
      ASSERT_TRUE(s.ok()) << "seed " << seed << ": " << s.error().toString() << "\n"
                          << dumpAround(m, s.error());
    }
  }
}

TEST(Gcgen, SameBytesSameModule) {
  for (uint32_t seed = 0; seed < 100; ++seed) {
    const std::vector<uint8_t> in = inputFor(seed * 7 + 1);
    Module a = gcgen::generateModule(in);
    Module b = gcgen::generateModule(in);
    EXPECT_EQ(fingerprint(a), fingerprint(b)) << "seed " << seed;
  }
}

// What `slabfuzz gen` writes must read back as the same module: tables,
// passive segments with GC constant expressions and br_table targets
// included.
TEST(Gcgen, ModulesSurviveTheEncoderRoundTrip) {
  for (uint32_t seed = 0; seed < 200; ++seed) {
    const Module m = gcgen::generateModule(inputFor(30000 + seed));
    const std::vector<uint8_t> bytes = encodeModule(m);
    auto back = decodeModule(bytes);
    ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << back.error().toString();
    std::string diff;
    EXPECT_TRUE(modulesEqual(m, back.value(), &diff)) << "seed " << seed << ": " << diff;
  }
}

struct GenRun {
  std::vector<std::string> log;
  FuzzExecSummary summary;
  bool instantiated = false;
  double run_seconds = 0;
  uint64_t fuel = 0;
};

GenRun runIn(const std::shared_ptr<const Module>& module, const char* config_name) {
  GenRun out;
  auto config = parseEngineConfig(config_name);
  EXPECT_TRUE(config.ok());
  if (!config.ok()) return out;
  Store store(makeHeapFactory(config.value()));
  RunLimits limits;
  limits.fuel = 1000000;
  Executor exec(store, withConfig(limits, config.value()));
  FuzzingSupport fuzzing(store, [&](std::string_view l) { out.log.emplace_back(l); });
  auto types = validateModule(*module, store.types);
  EXPECT_TRUE(types.ok());
  if (!types.ok()) return out;
  auto inst = instantiate(exec, module, std::move(types).value(), fuzzing.resolver());
  EXPECT_TRUE(inst.ok()) << inst.error().message;
  if (!inst.ok()) return out;
  out.instantiated = true;
  fuzzing.setInstance(inst.value());
  auto t0 = std::chrono::steady_clock::now();
  out.summary = fuzzing.runExports(exec);
  out.run_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.fuel = exec.fuelUsed();
  return out;
}

TEST(Gcgen, ModulesRunAlikeOnReferenceAndZealHeaps) {
  constexpr uint32_t kSeeds = 120;
  // A budget below the default keeps the collection-at-every-safepoint runs
  // within the unit tests' time (the trap share at the default budget is
  // `slabfuzz run`'s to measure).
  gcgen::GenParams params;
  params.budget = 60;
  uint32_t exports = 0, traps = 0, inconclusive = 0;
  std::map<std::string, uint32_t> trap_kinds;
  double run_seconds[2] = {0, 0};
  uint64_t fuel = 0;
  for (uint32_t seed = 0; seed < kSeeds; ++seed) {
    auto module =
        std::make_shared<const Module>(gcgen::generateModule(inputFor(10000 + seed), params));
    GenRun ref = runIn(module, "ref");
    GenRun zeal = runIn(module, "slab-zeal");
    ASSERT_TRUE(ref.instantiated && zeal.instantiated) << "seed " << seed;
    EXPECT_FALSE(ref.summary.violation)
        << "seed " << seed << ": " << ref.summary.violation->describe();
    EXPECT_FALSE(zeal.summary.violation)
        << "seed " << seed << ": " << zeal.summary.violation->describe();
    EXPECT_EQ(ref.log, zeal.log) << "seed " << seed;
    for (const std::string& line : ref.log) {
      if (line.rfind("[trap", 0) == 0) trap_kinds[line]++;
    }
    exports += ref.summary.exports_called;
    run_seconds[0] += ref.run_seconds;
    run_seconds[1] += zeal.run_seconds;
    fuel += ref.fuel;
    traps += ref.summary.traps;
    inconclusive += ref.summary.inconclusive ? 1 : 0;
  }
  std::printf(
      "[gcgen] %u modules, %u export calls: %.1f%% trapped; %u modules ran out of fuel "
      "(or another resource) before the end\n",
      kSeeds, exports, 100.0 * traps / std::max<uint32_t>(1, exports), inconclusive);
  std::printf("[gcgen] %.0f steps/module; running took %.1f s (ref) and %.1f s (slab-zeal)\n",
              static_cast<double>(fuel) / kSeeds, run_seconds[0], run_seconds[1]);
  for (const auto& [line, n] : trap_kinds) std::printf("[gcgen]   %u x %s\n", n, line.c_str());
  EXPECT_LE(inconclusive, kSeeds / 50);
}

// For each template and some shapes, modules that contain it (a few each,
// none shared with another's, the tiny inputs skipped) run without a violation and
// log alike on the reference heap, the zeal heap and the conservative one.
// A smaller budget keeps the collection-at-every-safepoint runs short.
TEST(Gcgen, EachTemplateRunsAlikeUnderZealAndConservative) {
  constexpr uint32_t kPerTemplate = 2;
  gcgen::GenParams params;
  params.budget = 40;
  std::vector<bool> used(400, false);
  // The templates, then shapes that rows and templates make together:
  // host calls that re-enter an export or go through the exported table,
  // references around a loop's back edge as parameters, non-nullable
  // locals, tail calls in loops.
  std::vector<std::string> wanted(std::begin(kTemplates), std::end(kTemplates));
  for (const char* shape : {"call-export", "host-table", "loop-ref-param", "non-null-local",
                            "return_call*-in-loop"}) {
    wanted.push_back(std::string("shape:") + shape);
  }
  for (const std::string& want : wanted) {
    const bool is_shape = want.starts_with("shape:");
    const std::string name = is_shape ? want.substr(6) : want;
    uint32_t found = 0;
    for (uint32_t k = 0; k < used.size() && found < kPerTemplate; ++k) {
      const uint32_t seed = 20000 + k;
      if (used[k] || seed % 50 == 0) continue;
      gcgen::GenStats stats;
      auto module =
          std::make_shared<const Module>(gcgen::generateModule(inputFor(seed), params, &stats));
      if ((is_shape ? stats.shapes[name] : stats.templates[name]) == 0) continue;
      used[k] = true;
      ++found;
      GenRun ref = runIn(module, "ref");
      ASSERT_TRUE(ref.instantiated) << name << " seed " << seed;
      EXPECT_FALSE(ref.summary.violation) << name << " seed " << seed;
      for (const char* config : {"slab-zeal", "slab-conservative"}) {
        GenRun other = runIn(module, config);
        ASSERT_TRUE(other.instantiated) << name << " seed " << seed << " " << config;
        EXPECT_FALSE(other.summary.violation) << name << " seed " << seed << " " << config << ": "
                                              << other.summary.violation->describe();
        EXPECT_EQ(ref.log, other.log) << name << " seed " << seed << " " << config;
      }
    }
    EXPECT_EQ(found, kPerTemplate) << name;
  }
}

}  // namespace
}  // namespace slabfuzz
