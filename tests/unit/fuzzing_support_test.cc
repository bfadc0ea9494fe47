// Unit tests for runtime/host/fuzzing_support.h without Node: a hand-made
// module run through FuzzingSupport::runExports, its log compared with what
// `wasm-opt --fuzz-exec-before` (Binaryen 132) printed for the same module.
// tests/cli/run_vs_binaryen_test.sh compares against Binaryen live.
#include "runtime/host/fuzzing_support.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "heap/reference_heap.h"
#include "runtime/decode.h"
#include "runtime/validate.h"
#include "tests/support/wasm_bytes.h"

namespace slabfuzz {
namespace {

using test::Bytes;

Bytes body(std::initializer_list<uint8_t> code) {
  Bytes b{0x00};  // no locals
  b.raw(code);
  Bytes sized;
  sized.u32(b.size()).raw(b);
  return sized;
}

// Imports log-i64, call-export-catch, log-i32 and the synthesised global
// "__fuzz_import" "extern$"; exports a (logs two i64s), b (call-export-catch
// of a bad and a good index), c (returns the imported externref).
Bytes moduleBytes() {
  Bytes m = Bytes::header();
  Bytes types;
  types.u32(5)
      .raw({kCodeFunc, 1, kCodeI64, 0})
      .raw({kCodeFunc, 1, kCodeI32, 1, kCodeI32})
      .raw({kCodeFunc, 1, kCodeI32, 0})
      .raw({kCodeFunc, 0, 0})
      .raw({kCodeFunc, 0, 1, 0x6F});
  m.section(1, types);
  Bytes imports;
  imports.u32(4);
  imports.name("fuzzing-support").name("log-i64").raw({0x00, 0});
  imports.name("fuzzing-support").name("call-export-catch").raw({0x00, 1});
  imports.name("fuzzing-support").name("log-i32").raw({0x00, 2});
  imports.name("__fuzz_import").name("extern$").raw({0x03, 0x6F, 0x00});
  m.section(2, imports);
  m.section(3, Bytes{3, 3, 3, 4});
  Bytes exports;
  exports.u32(3);
  exports.name("a").raw({0x00, 3});
  exports.name("b").raw({0x00, 4});
  exports.name("c").raw({0x00, 5});
  m.section(7, exports);
  Bytes a_code{0x42};
  a_code.s64(-1).raw({0x10, 0x00, 0x42}).s64(0x123456789).raw({0x10, 0x00, 0x0B});
  Bytes a_body{0x00};
  a_body.raw(a_code);
  Bytes code;
  code.u32(3);
  code.u32(a_body.size()).raw(a_body);
  code.raw(body({0x41, 0xE3, 0x00, 0x10, 0x01, 0x10, 0x02,     // log(call-export-catch(99))
                 0x41, 0x00, 0x10, 0x01, 0x10, 0x02, 0x0B}));  // log(call-export-catch(0))
  code.raw(body({0x23, 0x00, 0x0B}));
  m.section(10, code);
  return m;
}

// Decodes, validates and instantiates `bytes` on the reference heap with the
// fuzzing-support host, and calls every export as Binaryen's harness does.
void runAllExports(const Bytes& bytes, std::vector<std::string>& log, FuzzExecSummary& summary) {
  auto decoded = decodeModule(bytes.data());
  ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
  auto module = std::make_shared<const Module>(std::move(decoded).value());
  Store store([](const TypeStore& t) { return std::make_unique<ReferenceHeap>(t); });
  auto types = validateModule(*module, store.types);
  ASSERT_TRUE(types.ok()) << types.error().toString();
  Executor exec(store, RunLimits{});
  FuzzingSupport fuzzing(store, [&](std::string_view line) { log.emplace_back(line); });
  auto inst = instantiate(exec, module, std::move(types).value(), fuzzing.resolver());
  ASSERT_TRUE(inst.ok()) << inst.error().message;
  fuzzing.setInstance(inst.value());
  summary = fuzzing.runExports(exec);
}

TEST(FuzzingSupport, RunsExportsAsBinaryenDoes) {
  std::vector<std::string> log;
  FuzzExecSummary summary;
  ASSERT_NO_FATAL_FAILURE(runAllExports(moduleBytes(), log, summary));
  std::vector<std::string> want = {
      "[fuzz-exec] export a",
      "[LoggingExternalInterface logging -1 -1]",
      "[LoggingExternalInterface logging 591751049 1]",
      "[fuzz-exec] export b",
      "[LoggingExternalInterface logging 1]",
      "[LoggingExternalInterface logging -1 -1]",
      "[LoggingExternalInterface logging 591751049 1]",
      "[LoggingExternalInterface logging 0]",
      "[fuzz-exec] export c",
      "[fuzz-exec] note result: c => externref(105)",
  };
  EXPECT_EQ(log, want);
  EXPECT_EQ(summary.exports_called, 3u);
  EXPECT_EQ(summary.traps, 0u);
  EXPECT_FALSE(summary.inconclusive);
}

// A module that exports the imported call-export itself: calling export 0
// calls call-export(0), which calls export 0 again, natively and without a
// single wasm frame in between. That must end as call-stack exhaustion (a
// resource limit), not as a native stack overflow (this runs under ASan in
// the dev build).
TEST(FuzzingSupport, AnExportedCallExportThatCallsItselfExhaustsTheCallStack) {
  Bytes m = Bytes::header();
  Bytes types;
  types.u32(2).raw({kCodeFunc, 2, kCodeI32, kCodeI32, 0}).raw({kCodeFunc, 0, 0});
  m.section(1, types);
  Bytes imports;
  imports.u32(1).name("fuzzing-support").name("call-export").raw({0x00, 0});
  m.section(2, imports);
  m.section(3, Bytes{1, 1});
  Bytes exports;
  exports.u32(2).name("ce").raw({0x00, 0}).name("f").raw({0x00, 1});
  m.section(7, exports);
  Bytes code;
  code.u32(1).raw(body({0x41, 0x00, 0x41, 0x00, 0x10, 0x00, 0x0B}));  // call-export(0, 0)
  m.section(10, code);

  std::vector<std::string> log;
  FuzzExecSummary summary;
  ASSERT_NO_FATAL_FAILURE(runAllExports(m, log, summary));
  std::string exhausted = FuzzingSupport::describeFailure(Outcome::trapped(TrapKind::CallStackExhausted));
  std::vector<std::string> want = {"[fuzz-exec] export ce", exhausted};
  ASSERT_GE(log.size(), 2u);
  EXPECT_EQ(std::vector<std::string>(log.begin(), log.begin() + 2), want);
  EXPECT_TRUE(summary.inconclusive);
}

TEST(FuzzingSupport, DescribesFailures) {
  EXPECT_EQ(FuzzingSupport::describeFailure(Outcome::trapped(TrapKind::Unreachable)),
            "[trap unreachable]");
  EXPECT_EQ(FuzzingSupport::describeFailure(
                Outcome::trapped(TrapKind::HostTrap, std::string(kJsExceptionDetail))),
            "[exception thrown: imported-js-tag jserror]");
  EXPECT_EQ(FuzzingSupport::describeFailure(Outcome::trapped(TrapKind::CallStackExhausted)),
            "[host limit call stack exhausted]");
  EXPECT_EQ(FuzzingSupport::describeFailure(Outcome::outOfFuel()), "[out of fuel]");
}

}  // namespace
}  // namespace slabfuzz
