// oracle/stub_import: a function import replaced by a function of the
// module's own. The property that matters: on a correct runtime, replacing
// slabfuzz's `gc` import (a collection, invisible in the log) changes
// nothing a log shows, and the module stays valid and round-trips.
#include "oracle/stub_import.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "generators/encode.h"
#include "generators/gcgen/gcgen.h"
#include "oracle/config.h"
#include "oracle/run.h"
#include "runtime/decode.h"
#include "runtime/validate.h"

namespace slabfuzz {
namespace {

std::vector<uint8_t> seedBytes(uint64_t seed, size_t n) {
  std::vector<uint8_t> out(n);
  uint64_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x += 0x9E3779B97F4A7C15ull;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    out[i] = static_cast<uint8_t>(z ^ (z >> 31));
  }
  return out;
}

bool importsGc(const Module& m) {
  for (const Import& i : m.imports) {
    if (i.module == "fuzzing-support" && i.name == "gc") return true;
  }
  return false;
}

ExecutionLog runOn(const Module& m, const std::string& config) {
  OurRunOptions o;
  auto c = parseEngineConfig(config);
  EXPECT_TRUE(c.ok());
  o.config = std::move(c).value();
  o.limits.digest_after_call = false;  // the stub allocates nothing, but keep logs plain
  std::vector<uint8_t> bytes = encodeModule(m);
  ModuleInput in;
  in.wasm = bytes;
  in.module = std::make_shared<const Module>(m);
  return runOurs(in, o);
}

TEST(StubImport, GcStubChangesNoLogOfGeneratedModules) {
  int with_gc = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE(seed);
    Module m = gcgen::generateModule(seedBytes(seed, 2000));
    if (!importsGc(m)) continue;
    ++with_gc;
    int replaced = 0;
    Module stubbed = stubFunctionImports(m, "fuzzing-support", "gc", &replaced);
    EXPECT_EQ(replaced, 1);
    EXPECT_FALSE(importsGc(stubbed));
    EXPECT_EQ(stubbed.functions.size(), m.functions.size() + 1);
    auto valid = validateModule(stubbed);
    ASSERT_TRUE(valid.ok()) << valid.error().toString();
    // Through bytes and back, as an external engine would read it.
    auto decoded = decodeModule(encodeModule(stubbed));
    ASSERT_TRUE(decoded.ok());
    for (const char* config : {"ref", "slab-zeal"}) {
      ExecutionLog a = runOn(m, config), b = runOn(stubbed, config);
      EXPECT_EQ(a.status, b.status) << config;
      EXPECT_EQ(a.lines, b.lines) << config;
    }
  }
  EXPECT_GE(with_gc, 20) << "too few generated modules import gc for the test to mean much";
}

TEST(StubImport, NoMatchingImportLeavesTheModuleAlone) {
  Module m = gcgen::generateModule(seedBytes(7, 2000));
  int replaced = -1;
  Module same = stubFunctionImports(m, "fuzzing-support", "no-such-import", &replaced);
  EXPECT_EQ(replaced, 0);
  EXPECT_EQ(encodeModule(same), encodeModule(m));
}

// The cross-check lane hands the engines modules our validator refused (a
// validation difference is a finding too): stubbing must not read past
// its tables on them. An index out of range stays out of range.
TEST(StubImport, InvalidModulesAreLeftInvalidNotOverrun) {
  int tried = 0;
  for (uint64_t seed = 0; seed < 40 && tried < 5; ++seed) {
    Module m = gcgen::generateModule(seedBytes(seed, 2000));
    if (!importsGc(m)) continue;
    ++tried;
    const auto total = static_cast<uint32_t>(m.func_types.size());
    // A call to a function that does not exist, an export of one, and a
    // start function out of range.
    Instr bad;
    bad.op = Opcode::Call;
    bad.a = total + 40;
    ASSERT_FALSE(m.functions.empty());
    m.functions[0].body.insert(m.functions[0].body.begin(), bad);
    Export e;
    e.name = "ghost";
    e.kind = ExternKind::Func;
    e.index = total + 7;
    m.exports.push_back(e);
    m.start = total + 9;
    int replaced = 0;
    Module stubbed = stubFunctionImports(m, "fuzzing-support", "gc", &replaced);
    EXPECT_EQ(replaced, 1);
    EXPECT_EQ(stubbed.functions[0].body[0].a, total + 40);
    EXPECT_EQ(stubbed.exports.back().index, total + 7);
    EXPECT_EQ(stubbed.start, std::optional<uint32_t>(total + 9));
    EXPECT_FALSE(validateModule(stubbed).ok());
  }
  EXPECT_EQ(tried, 5);
  // An import whose type is not there: nothing to build a stub from.
  Module m = gcgen::generateModule(seedBytes(3, 2000));
  for (Import& i : m.imports)
    if (i.kind == ExternKind::Func) i.func_type = static_cast<uint32_t>(m.types.size()) + 3;
  int replaced = -1;
  Module same = stubFunctionImports(m, "fuzzing-support", "gc", &replaced);
  EXPECT_EQ(replaced, 0);
  EXPECT_EQ(same.imports.size(), m.imports.size());
}

}  // namespace
}  // namespace slabfuzz
