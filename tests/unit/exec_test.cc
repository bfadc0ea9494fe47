// Unit tests for the engine core: compile (slot IR, stack maps), exec (the
// interpreter: numerics, control, calls, tail calls, limits, memory, tables,
// GC) and instantiate (linking, segments, host functions).
// Test modules are .wat texts in tests/unit/data/exec/ with their .wasm
// beside them (rebuilt by gen.sh with the pinned Binaryen).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "heap/reference_heap.h"
#include "runtime/compile.h"
#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/instantiate.h"
#include "runtime/validate.h"
#include "tests/support/wasm_bytes.h"

#if defined(__SANITIZE_ADDRESS__)
#define SLABFUZZ_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLABFUZZ_TEST_ASAN 1
#endif
#endif
#ifndef SLABFUZZ_TEST_ASAN
#define SLABFUZZ_TEST_ASAN 0
#endif

namespace slabfuzz {
namespace {

using test::Bytes;

std::vector<uint8_t> readData(const std::string& name) {
  std::string path = std::string(SLABFUZZ_GOLDEN_DIR) + "/../unit/data/exec/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Value I32(int32_t v) { return Value::i32(v); }
Value I64(int64_t v) { return Value::i64(v); }
Value F32(float v) { return Value::f32(v); }
Value F64(double v) { return Value::f64(v); }

// One store, one executor, one instance of a module.
class Engine {
 public:
  explicit Engine(RunLimits limits = {})
      : store_([](const TypeStore& t) { return std::make_unique<ReferenceHeap>(t); }),
        exec_(store_, limits) {}

  Store& store() { return store_; }
  Executor& exec() { return exec_; }

  Result<Instance*, InstantiationFailure> tryLoad(std::span<const uint8_t> bytes,
                                                  const ImportResolver& imports = {}) {
    auto decoded = decodeModule(bytes);
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().toString());
    auto module = std::make_shared<Module>(std::move(decoded).value());
    auto types = validateModule(*module, store_.types);
    EXPECT_TRUE(types.ok()) << (types.ok() ? "" : types.error().toString());
    return instantiate(exec_, module, std::move(types).value(), imports);
  }
  Instance* load(const std::string& file, const ImportResolver& imports = {}) {
    auto inst = tryLoad(readData(file), imports);
    EXPECT_TRUE(inst.ok()) << (inst.ok() ? "" : inst.error().message);
    inst_ = inst.ok() ? inst.value() : nullptr;
    return inst_;
  }

  Outcome call(const std::string& name, std::vector<Value> args = {}) {
    const ExternVal* e = inst_ ? inst_->findExport(name) : nullptr;
    if (!e || e->kind != ExternKind::Func) {
      ADD_FAILURE() << "no exported function " << name;
      return Outcome::trapped(TrapKind::HostTrap);
    }
    return exec_.invoke(e->func, args);
  }
  Value one(const std::string& name, std::vector<Value> args = {}) {
    Outcome o = call(name, std::move(args));
    EXPECT_TRUE(o.ok()) << name << ": " << (o.kind == Outcome::Kind::Trapped ? trapMessage(o.trap) : "out of fuel");
    EXPECT_EQ(o.results.size(), 1u) << name;
    return o.results.empty() ? Value() : o.results[0];
  }
  TrapKind trapOf(const std::string& name, std::vector<Value> args = {}) {
    Outcome o = call(name, std::move(args));
    EXPECT_EQ(o.kind, Outcome::Kind::Trapped) << name;
    return o.trap;
  }
  Instance* instance() { return inst_; }

 private:
  Store store_;
  Executor exec_;
  Instance* inst_ = nullptr;
};

// --- Numerics ---------------------------------------------------------------

TEST(ExecNumeric, IntegerDivisionTraps) {
  Engine e;
  e.load("numeric.wasm");
  EXPECT_EQ(e.one("i32.div_s", {I32(-7), I32(2)}).i32(), -3);
  EXPECT_EQ(e.trapOf("i32.div_s", {I32(1), I32(0)}), TrapKind::IntegerDivideByZero);
  EXPECT_EQ(e.trapOf("i32.div_s", {I32(INT32_MIN), I32(-1)}), TrapKind::IntegerOverflow);
  EXPECT_EQ(e.one("i32.rem_s", {I32(INT32_MIN), I32(-1)}).i32(), 0);
  EXPECT_EQ(e.one("i32.rem_s", {I32(-7), I32(2)}).i32(), -1);
  EXPECT_EQ(e.trapOf("i32.rem_u", {I32(1), I32(0)}), TrapKind::IntegerDivideByZero);
  EXPECT_EQ(e.one("i32.div_u", {I32(-1), I32(2)}).u32(), 0x7FFFFFFFu);
  EXPECT_EQ(e.trapOf("i64.div_s", {I64(INT64_MIN), I64(-1)}), TrapKind::IntegerOverflow);
  EXPECT_EQ(e.one("i64.rem_s", {I64(INT64_MIN), I64(-1)}).i64(), 0);
}

TEST(ExecNumeric, IntegerOps) {
  Engine e;
  e.load("numeric.wasm");
  EXPECT_EQ(e.one("i32.add_imm", {I32(3)}).i32(), -4);
  EXPECT_EQ(e.one("i64.add_imm", {I64(3)}).i64(), -4);
  EXPECT_EQ(e.one("i64.add_big", {I64(1)}).i64(), 0x100000001);
  EXPECT_EQ(e.one("i32.shl", {I32(1), I32(33)}).i32(), 2);
  EXPECT_EQ(e.one("i32.shr_s", {I32(-8), I32(1)}).i32(), -4);
  EXPECT_EQ(e.one("i32.rotl", {I32(0x80000001), I32(1)}).u32(), 3u);
  EXPECT_EQ(e.one("i64.rotr", {I64(1), I64(1)}).u64(), 0x8000000000000000ull);
  EXPECT_EQ(e.one("i32.clz", {I32(0)}).i32(), 32);
  EXPECT_EQ(e.one("i64.ctz", {I64(0)}).i64(), 64);
  EXPECT_EQ(e.one("i32.popcnt", {I32(-1)}).i32(), 32);
  EXPECT_EQ(e.one("i32.lt_s", {I32(-1), I32(0)}).i32(), 1);
  EXPECT_EQ(e.one("i32.lt_u", {I32(-1), I32(0)}).i32(), 0);
  EXPECT_EQ(e.one("i64.extend8_s", {I64(0x80)}).i64(), -128);
  EXPECT_EQ(e.one("i64.extend_i32_s", {I32(-1)}).i64(), -1);
  EXPECT_EQ(e.one("i64.extend_i32_u", {I32(-1)}).i64(), 0xFFFFFFFF);
  EXPECT_EQ(e.one("i32.wrap_i64", {I64(0x1FFFFFFFFll)}).i32(), -1);
  // An i32 result is stored zero-extended.
  EXPECT_EQ(e.one("i32.wrap_i64", {I64(-1)}).u64(), 0xFFFFFFFFull);
  EXPECT_EQ(e.one("tee_old", {I32(5)}).i32(), -10);
}

TEST(ExecNumeric, TruncationTrapsAndSaturation) {
  Engine e;
  e.load("numeric.wasm");
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(e.trapOf("i32.trunc_f32_s", {F32(nan)}), TrapKind::InvalidConversion);
  EXPECT_EQ(e.trapOf("i32.trunc_f32_s", {F32(2147483648.0f)}), TrapKind::IntegerOverflow);
  EXPECT_EQ(e.one("i32.trunc_f32_s", {F32(-2147483648.0f)}).i32(), INT32_MIN);
  EXPECT_EQ(e.one("i32.trunc_f32_s", {F32(-1.9f)}).i32(), -1);
  EXPECT_EQ(e.one("i32.trunc_f64_u", {F64(-0.9)}).i32(), 0);
  EXPECT_EQ(e.trapOf("i32.trunc_f64_u", {F64(-1.0)}), TrapKind::IntegerOverflow);
  EXPECT_EQ(e.one("i32.trunc_f64_u", {F64(4294967295.9)}).u32(), 0xFFFFFFFFu);
  EXPECT_EQ(e.trapOf("i32.trunc_f64_u", {F64(4294967296.0)}), TrapKind::IntegerOverflow);
  EXPECT_EQ(e.one("i64.trunc_f64_s", {F64(-9223372036854775808.0)}).i64(), INT64_MIN);
  EXPECT_EQ(e.trapOf("i64.trunc_f64_s", {F64(9223372036854775808.0)}), TrapKind::IntegerOverflow);
  EXPECT_EQ(e.one("i32.trunc_sat_f32_s", {F32(nan)}).i32(), 0);
  EXPECT_EQ(e.one("i32.trunc_sat_f32_s", {F32(-1e30f)}).i32(), INT32_MIN);
  EXPECT_EQ(e.one("i32.trunc_sat_f32_s", {F32(1e30f)}).i32(), INT32_MAX);
  EXPECT_EQ(e.one("i64.trunc_sat_f64_u", {F64(-5.0)}).u64(), 0u);
  EXPECT_EQ(e.one("i64.trunc_sat_f64_u", {F64(1e300)}).u64(), UINT64_MAX);
}

TEST(ExecNumeric, FloatEdgeCases) {
  Engine e;
  e.load("numeric.wasm");
  Value r = e.one("f32.min", {F32(0.0f), F32(-0.0f)});
  EXPECT_TRUE(std::signbit(r.f32()));
  r = e.one("f64.max", {F64(-0.0), F64(0.0)});
  EXPECT_FALSE(std::signbit(r.f64()));
  EXPECT_TRUE(std::isnan(e.one("f32.min", {F32(std::nanf("")), F32(1.0f)}).f32()));
  EXPECT_TRUE(std::isnan(e.one("f64.max", {F64(1.0), F64(std::nan(""))}).f64()));
  EXPECT_EQ(e.one("f64.nearest", {F64(2.5)}).f64(), 2.0);
  EXPECT_EQ(e.one("f64.nearest", {F64(-3.5)}).f64(), -4.0);
  EXPECT_TRUE(std::signbit(e.one("f64.nearest", {F64(-0.4)}).f64()));
  // Sign operations keep NaN payloads bit for bit.
  Value snan = Value::f32Bits(0x7FA00001u);
  EXPECT_EQ(e.one("f32.neg", {snan}).f32Bits(), 0xFFA00001u);
  EXPECT_EQ(e.one("f32.copysign", {snan, F32(-1.0f)}).f32Bits(), 0xFFA00001u);
  EXPECT_EQ(e.one("f64.abs", {Value::f64Bits(0xFFF0000000000001ull)}).f64Bits(),
            0x7FF0000000000001ull);
  EXPECT_EQ(e.one("f32.add", {F32(1.5f), F32(2.25f)}).f32(), 3.75f);
  EXPECT_EQ(e.one("f32.convert_i64_u", {I64(-1)}).f32(), 18446744073709551616.0f);
  EXPECT_EQ(e.one("f32.demote_f64", {F64(1e300)}).f32(), std::numeric_limits<float>::infinity());
}

TEST(ExecNumeric, LcgLoop) {
  Engine e;
  e.load("numeric.wasm");
  uint32_t x = 1;
  for (int i = 0; i < 1000; ++i) x = x * 1103515245u + 12345u;
  EXPECT_EQ(e.one("lcg", {I32(1000)}).u32(), x);
}

// --- Control flow -------------------------------------------------------------

TEST(ExecControl, BrTable) {
  Engine e;
  e.load("control.wasm");
  EXPECT_EQ(e.one("switch", {I32(0)}).i32(), 100);
  EXPECT_EQ(e.one("switch", {I32(1)}).i32(), 101);
  EXPECT_EQ(e.one("switch", {I32(2)}).i32(), 102);
  EXPECT_EQ(e.one("switch", {I32(3)}).i32(), 103);
  EXPECT_EQ(e.one("switch", {I32(-1)}).i32(), 103);  // default
  EXPECT_EQ(e.one("switch_value", {I32(0)}).i32(), 1010);
  EXPECT_EQ(e.one("switch_value", {I32(1)}).i32(), 1005);
  EXPECT_EQ(e.one("switch_value", {I32(7)}).i32(), 1005);
}

TEST(ExecControl, BlocksIfSelectLoops) {
  Engine e;
  e.load("control.wasm");
  EXPECT_EQ(e.one("if_else", {I32(5)}).i32(), 1);
  EXPECT_EQ(e.one("if_else", {I32(0)}).i32(), 2);
  EXPECT_EQ(e.one("select", {I32(1), I32(2), I32(0)}).i32(), 2);
  EXPECT_EQ(e.one("select", {I32(1), I32(2), I32(9)}).i32(), 1);
  EXPECT_EQ(e.one("sum_to", {I32(100)}).i64(), 5050);
  EXPECT_EQ(e.one("br_if_value", {I32(1)}).i32(), 11);
  EXPECT_EQ(e.one("br_if_value", {I32(0)}).i32(), 12);
  EXPECT_EQ(e.one("nested_return", {I32(1)}).i32(), 42);
  EXPECT_EQ(e.one("nested_return", {I32(0)}).i32(), 7);
  EXPECT_EQ(e.one("dead_code").i32(), 5);
  Outcome o = e.call("multi", {I32(1), I32(2)});
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o.results.size(), 2u);
  EXPECT_EQ(o.results[0].i32(), 2);
  EXPECT_EQ(o.results[1].i32(), 1);
  EXPECT_EQ(e.trapOf("unreachable"), TrapKind::Unreachable);
}

// A loop with a parameter (multi-value block types, spec 3.3.8 "loop"):
// counts its iterations in local 1. Built by hand: Binaryen's text reader
// lowers block parameters.
TEST(ExecControl, LoopWithParameter) {
  Engine e;
  Bytes types;
  types.u32(1).raw({kCodeFunc, 1, kCodeI32, 1, kCodeI32});
  Bytes funcs;
  funcs.u32(1).u32(0);
  Bytes exports;
  exports.u32(1).name("count").raw({0x00, 0x00});
  Bytes body;
  body.raw({0x01, 0x01, kCodeI32});                          // one i32 local
  body.raw({0x20, 0x00, 0x03, 0x00});                        // local.get 0; loop (type 0)
  body.raw({0x20, 0x01, 0x41, 0x01, 0x6A, 0x21, 0x01});      //   local 1 += 1
  body.raw({0x41, 0x01, 0x6B, 0x22, 0x00, 0x20, 0x00});      //   param - 1, tee 0, get 0
  body.raw({0x0D, 0x00, 0x0B});                              //   br_if 0 (with the value); end
  body.raw({0x1A, 0x20, 0x01, 0x0B});                        // drop; local.get 1; end
  Bytes code;
  code.u32(1).u32(body.size()).raw(body);
  Bytes m = Bytes::header();
  m.section(1, types).section(3, funcs).section(7, exports).section(10, code);
  auto inst = e.tryLoad(m.data());
  ASSERT_TRUE(inst.ok()) << inst.error().message;
  Outcome o = e.exec().invoke(inst.value()->findExport("count")->func,
                              std::vector<Value>{Value::i32(5)});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 5);
  // A wrong number of arguments is refused, not read past.
  EXPECT_EQ(e.exec().invoke(inst.value()->findExport("count")->func, {}).kind,
            Outcome::Kind::Trapped);
}

TEST(ExecInstantiate, StartFunctionTrap) {
  Engine e;
  // (module (func unreachable) (start 0))
  Bytes types;
  types.u32(1).raw({kCodeFunc, 0, 0});
  Bytes funcs;
  funcs.u32(1).u32(0);
  Bytes start;
  start.u32(0);
  Bytes code;
  code.u32(1).u32(3).raw({0x00, 0x00, 0x0B});
  Bytes m = Bytes::header();
  m.section(1, types).section(3, funcs).section(8, start).section(10, code);
  auto r = e.tryLoad(m.data());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, InstantiationFailure::Kind::Trapped);
  EXPECT_EQ(r.error().trap, TrapKind::Unreachable);
}

TEST(ExecLimits, FuelEndsInfiniteLoop) {
  RunLimits limits;
  limits.fuel = 100000;
  Engine e(limits);
  e.load("control.wasm");
  Outcome o = e.call("infinite");
  EXPECT_EQ(o.kind, Outcome::Kind::OutOfFuel);
  EXPECT_GE(e.exec().fuelUsed(), 100000u);
  // Fuel is spent across calls: the next call runs out at once.
  EXPECT_EQ(e.call("if_else", {I32(1)}).kind, Outcome::Kind::OutOfFuel);
}

// --- Calls -------------------------------------------------------------------

TEST(ExecCalls, RecursionAndMultiValue) {
  Engine e;
  e.load("calls.wasm");
  EXPECT_EQ(e.one("fib", {I32(20)}).i32(), 6765);
  EXPECT_EQ(e.one("swap_sum").i64(), 43);
}

TEST(ExecCalls, TailCallsRunInConstantStack) {
  RunLimits limits;
  limits.max_call_depth = 1000;
  Engine e(limits);
  e.load("calls.wasm");
  EXPECT_EQ(e.one("count", {I32(100000), I64(0)}).i64(), 100000);
  EXPECT_EQ(e.one("ping", {I32(100001)}).i32(), 77);  // return_call_indirect / _ref
}

TEST(ExecCalls, DeepRecursionTrapsAtTheLimit) {
  Engine e;  // max_call_depth 10000
  e.load("calls.wasm");
  EXPECT_EQ(e.one("deep", {I32(5000)}).i32(), 5000);
  EXPECT_EQ(e.trapOf("deep", {I32(100000)}), TrapKind::CallStackExhausted);
  // The executor is usable after the trap.
  EXPECT_EQ(e.one("deep", {I32(10)}).i32(), 10);
}

TEST(ExecCalls, CallIndirectTypeChecks) {
  Engine e;
  e.load("calls.wasm");
  EXPECT_EQ(e.one("call_indirect_ii", {I32(21), I32(0)}).i32(), 42);
  // $sub_fn's type is a subtype of $sup: it matches $sup, not $ii.
  EXPECT_EQ(e.one("call_indirect_sup", {I32(1), I32(1)}).i32(), 2);
  EXPECT_EQ(e.trapOf("call_indirect_ii", {I32(1), I32(1)}), TrapKind::IndirectCallTypeMismatch);
  EXPECT_EQ(e.trapOf("call_indirect_sup", {I32(1), I32(0)}), TrapKind::IndirectCallTypeMismatch);
  EXPECT_EQ(e.trapOf("call_indirect_ii", {I32(1), I32(2)}), TrapKind::IndirectCallTypeMismatch);
  EXPECT_EQ(e.trapOf("call_indirect_ii", {I32(1), I32(3)}), TrapKind::UninitializedElement);
  EXPECT_EQ(e.trapOf("call_indirect_ii", {I32(1), I32(8)}), TrapKind::UndefinedElement);
  EXPECT_EQ(e.one("call_ref", {I32(4)}).i32(), 8);
  EXPECT_EQ(e.trapOf("call_ref_null", {I32(4)}), TrapKind::NullFunctionReference);
}

TEST(ExecCalls, HostFunctionsAndReentry) {
  Engine e;
  // (import "host" "twice" (func (param i32) (result i32))) and an export
  // that calls it: built by hand so the import order is exact.
  Bytes types;
  types.u32(1).raw({kCodeFunc, 1, kCodeI32, 1, kCodeI32});
  Bytes imports;
  imports.u32(1).name("host").name("twice").raw({0x00, 0x00});
  Bytes funcs;
  funcs.u32(1).u32(0);
  Bytes exports;
  exports.u32(2).name("run").raw({0x00, 0x01}).name("inc").raw({0x00, 0x01});
  Bytes body;
  body.raw({0x00, 0x20, 0x00, 0x10, 0x00, 0x41, 0x01, 0x6A, 0x0B});  // call 0 (local 0) + 1
  Bytes code;
  code.u32(1).u32(body.size()).raw(body);
  Bytes m = Bytes::header();
  m.section(1, types).section(2, imports).section(3, funcs).section(7, exports).section(10, code);

  ValType i32 = ValType::i32();
  CanonTypeId t = e.store().internFuncType(std::span(&i32, 1), std::span(&i32, 1));
  int depth = 0;
  Instance* self = nullptr;
  FuncAddr host = e.store().addHostFunction(
      t,
      [&](Executor& ex, std::span<const Value> args) -> Outcome {
        // Re-enter wasm a few times: run(n) = host(n) + 1, host(n) = run(n - 1) * 2.
        if (args[0].i32() <= 0) return Outcome::returned({Value::i32(0)});
        ++depth;
        const ExternVal* run = self->findExport("run");
        Outcome o = ex.invoke(run->func, std::vector<Value>{Value::i32(args[0].i32() - 1)});
        if (!o.ok()) return o;
        return Outcome::returned({Value::i32(static_cast<int32_t>(o.results[0].u32() * 2u))});
      },
      "host.twice");
  auto inst = e.tryLoad(m.data(), [&](std::string_view mod, std::string_view name)
                                      -> std::optional<ExternVal> {
    if (mod == "host" && name == "twice") return ExternVal{ExternKind::Func, host, {}, {}, {}};
    return std::nullopt;
  });
  ASSERT_TRUE(inst.ok()) << inst.error().message;
  self = inst.value();
  const ExternVal* run = inst.value()->findExport("run");
  Outcome o = e.exec().invoke(run->func, std::vector<Value>{Value::i32(3)});
  ASSERT_TRUE(o.ok());
  // run(0) = 1, run(1) = 3, run(2) = 7, run(3) = 15
  EXPECT_EQ(o.results[0].i32(), 15);
  EXPECT_EQ(depth, 3);

  // Deeper than Binaryen's fuzz modules guard their own host recursion (100):
  // each level is one host -> wasm entry and must count once, not twice.
  // run(n) = 2^(n+1) - 1, all ones in i32 for n >= 31.
  o = e.exec().invoke(run->func, std::vector<Value>{Value::i32(200)});
#if defined(__OPTIMIZE__) || !SLABFUZZ_TEST_ASAN
  ASSERT_TRUE(o.ok()) << trapMessage(o.trap);
  EXPECT_EQ(o.results[0].i32(), -1);
#else
  // An unoptimised ASan build spends about 100 KiB of native stack per
  // entry, so the native stack guard ends this as exhaustion (a resource
  // limit, inconclusive for the oracle) before kMaxReentry does.
  if (!o.ok()) EXPECT_EQ(o.trap, TrapKind::CallStackExhausted);
#endif
  // Unbounded host recursion ends as call-stack exhaustion, not a native
  // stack overflow (this runs under ASan in the dev build).
  o = e.exec().invoke(run->func, std::vector<Value>{Value::i32(100000)});
  ASSERT_EQ(o.kind, Outcome::Kind::Trapped);
  EXPECT_EQ(o.trap, TrapKind::CallStackExhausted);

  // Unknown and mistyped imports.
  auto missing = e.tryLoad(m.data(), [](std::string_view, std::string_view) {
    return std::optional<ExternVal>();
  });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, InstantiationFailure::Kind::Unlinkable);
  EXPECT_NE(missing.error().message.find("unknown import"), std::string::npos);
  CanonTypeId other = e.store().internFuncType({}, {});
  FuncAddr wrong = e.store().addHostFunction(
      other, [](Executor&, std::span<const Value>) { return Outcome::returned({}); }, "wrong");
  auto mistyped = e.tryLoad(m.data(), [&](std::string_view, std::string_view) {
    return std::optional<ExternVal>(ExternVal{ExternKind::Func, wrong, {}, {}, {}});
  });
  ASSERT_FALSE(mistyped.ok());
  EXPECT_NE(mistyped.error().message.find("incompatible import type"), std::string::npos);
}

// --- Memory -------------------------------------------------------------------

TEST(ExecMemory, LoadsStoresAndBounds) {
  Engine e;
  e.load("memory.wasm");
  EXPECT_EQ(e.one("load8_u", {I32(16)}).i32(), 'h');
  e.call("store", {I32(0), I32(-2)});
  EXPECT_EQ(e.one("load8_u", {I32(0)}).i32(), 0xFE);
  EXPECT_EQ(e.one("load8_s", {I32(0)}).i32(), -2);
  EXPECT_EQ(e.one("load_off", {I32(65528)}).i32(), 0);
  EXPECT_EQ(e.trapOf("load_off", {I32(65529)}), TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(e.trapOf("load_off", {I32(-1)}), TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(e.trapOf("i64.load", {I32(65529)}), TrapKind::MemoryOutOfBounds);
  e.call("store16", {I32(100), I64(0x12345)});
  EXPECT_EQ(e.one("i64.load", {I32(100)}).i64(), 0x2345);
}

TEST(ExecMemory, GrowAndBulk) {
  RunLimits limits;
  limits.max_memory_pages = 2;
  Engine e(limits);
  e.load("memory.wasm");
  EXPECT_EQ(e.one("size").i32(), 1);
  EXPECT_EQ(e.one("grow", {I32(1)}).i32(), 1);
  EXPECT_EQ(e.one("grow", {I32(1)}).i32(), -1);  // RunLimits caps at 2 (type max is 3)
  EXPECT_EQ(e.one("size").i32(), 2);
  e.call("fill", {I32(200), I32(7), I32(3)});
  EXPECT_EQ(e.one("load8_u", {I32(202)}).i32(), 7);
  EXPECT_EQ(e.trapOf("fill", {I32(131070), I32(7), I32(3)}), TrapKind::MemoryOutOfBounds);
  e.call("copy", {I32(201), I32(200), I32(3)});  // overlapping
  EXPECT_EQ(e.one("load8_u", {I32(203)}).i32(), 7);
  e.call("init", {I32(300), I32(1), I32(3)});
  EXPECT_EQ(e.one("load8_u", {I32(300)}).i32(), 2);
  EXPECT_EQ(e.trapOf("init", {I32(300), I32(2), I32(3)}), TrapKind::MemoryOutOfBounds);
  e.call("drop");
  EXPECT_EQ(e.trapOf("init", {I32(300), I32(0), I32(1)}), TrapKind::MemoryOutOfBounds);
  EXPECT_TRUE(e.call("init", {I32(300), I32(0), I32(0)}).ok());
}

// --- Tables -------------------------------------------------------------------

TEST(ExecTables, GrowInitCopyFill) {
  Engine e;
  e.load("tables.wasm");
  EXPECT_EQ(e.one("size").i32(), 4);
  EXPECT_EQ(e.one("grow", {I32(2)}).i32(), 4);
  EXPECT_EQ(e.one("grow", {I32(5)}).i32(), -1);  // max 10
  EXPECT_EQ(e.one("is_null", {I32(0)}).i32(), 1);
  EXPECT_TRUE(e.call("init", {I32(0), I32(0), I32(2)}).ok());
  EXPECT_EQ(e.one("call", {I32(1)}).i32(), 2);
  EXPECT_EQ(e.trapOf("init", {I32(5), I32(0), I32(2)}), TrapKind::TableOutOfBounds);
  e.call("drop");
  EXPECT_EQ(e.trapOf("init", {I32(0), I32(0), I32(1)}), TrapKind::TableOutOfBounds);
  EXPECT_TRUE(e.call("copy", {I32(2), I32(0), I32(2)}).ok());
  EXPECT_EQ(e.one("call", {I32(2)}).i32(), 1);
  EXPECT_TRUE(e.call("fill", {I32(4), I32(2)}).ok());
  EXPECT_EQ(e.one("call", {I32(5)}).i32(), 2);
  EXPECT_EQ(e.trapOf("fill", {I32(5), I32(2)}), TrapKind::TableOutOfBounds);
  EXPECT_EQ(e.trapOf("is_null", {I32(6)}), TrapKind::TableOutOfBounds);
  EXPECT_TRUE(e.call("set_extern", {I32(1), Value::ref(Ref::host(77))}).ok());
  EXPECT_EQ(e.one("get_extern", {I32(1)}).ref(), Ref::host(77));
}

TEST(ExecInstantiate, ActiveSegmentOutOfBounds) {
  Engine e;
  // (module (memory 1) (data (i32.const 65535) "ab"))
  Bytes mem;
  mem.u32(1).raw({0x00, 0x01});
  Bytes data;
  data.u32(1).raw({0x00, 0x41}).s64(65535).raw({0x0B}).name("ab");
  Bytes m = Bytes::header();
  m.section(5, mem).section(11, data);
  auto r = e.tryLoad(m.data());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, InstantiationFailure::Kind::Trapped);
  EXPECT_EQ(r.error().message, "out of bounds memory access");
}

// --- GC -------------------------------------------------------------------------

TEST(ExecGc, StructsAndPackedFields) {
  Engine e;
  e.load("gc.wasm");
  EXPECT_EQ(e.one("point_sum", {I32(1), I32(2)}).i32(), 103);
  EXPECT_EQ(e.one("global_point").i32(), 4);
  Outcome o = e.call("packed", {I32(0xFFFF)});
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o.results.size(), 4u);
  EXPECT_EQ(o.results[0].i32(), -1);
  EXPECT_EQ(o.results[1].i32(), 255);
  EXPECT_EQ(o.results[2].i32(), -1);
  EXPECT_EQ(o.results[3].i32(), 65535);
  EXPECT_EQ(e.trapOf("null_struct"), TrapKind::NullStructReference);
}

TEST(ExecGc, Arrays) {
  Engine e;
  e.load("gc.wasm");
  EXPECT_EQ(e.one("array_sum", {I32(4)}).i32(), 10 + 3 + 3 + 3);
  EXPECT_EQ(e.trapOf("array_oob", {I32(2)}), TrapKind::ArrayOutOfBounds);
  EXPECT_EQ(e.one("array_new", {I32(1000)}).i32(), 1000);
  Outcome o = e.call("array_data");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), -1);
  EXPECT_EQ(o.results[1].i32(), 255);
  EXPECT_EQ(e.trapOf("array_data_oob"), TrapKind::MemoryOutOfBounds);
  EXPECT_EQ(e.one("array_elem").i32(), 6);
  EXPECT_EQ(e.one("array_fill_copy").i32(), 47);
  EXPECT_EQ(e.one("array_init").i32(), 3);
  EXPECT_EQ(e.one("global_array").i32(), 3);
  TrapKind big = e.trapOf("huge_array");
  EXPECT_TRUE(big == TrapKind::ArrayTooLarge || big == TrapKind::HeapExhausted);
}

TEST(ExecGc, I31AndRefEq) {
  Engine e;
  e.load("gc.wasm");
  Outcome o = e.call("i31", {I32(-1)});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), -1);
  EXPECT_EQ(o.results[1].i32(), 0x7FFFFFFF);
  EXPECT_EQ(e.trapOf("i31_null"), TrapKind::NullI31Reference);
  o = e.call("ref_eq");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 1);
  EXPECT_EQ(o.results[1].i32(), 0);
  EXPECT_EQ(o.results[2].i32(), 1);
}

TEST(ExecGc, CastsOnEveryKindOfReference) {
  Engine e;
  e.load("gc.wasm");
  // Bits: 0 anyref(null ok), 1 any, 2 eq, 3 i31, 4 struct, 5 array, 6 $point,
  // 7 $point3, 8 none.
  EXPECT_EQ(e.one("test_bits", {I32(0)}).i32(), 0b000000001);  // null
  EXPECT_EQ(e.one("test_bits", {I32(1)}).i32(), 0b000001111);  // i31
  EXPECT_EQ(e.one("test_bits", {I32(2)}).i32(), 0b001010111);  // $point
  EXPECT_EQ(e.one("test_bits", {I32(3)}).i32(), 0b011010111);  // $point3 <: $point
  EXPECT_EQ(e.one("test_bits", {I32(4)}).i32(), 0b000100111);  // $ints
  EXPECT_EQ(e.one("cast", {I32(3)}).i32(), 2);
  EXPECT_EQ(e.trapOf("cast", {I32(4)}), TrapKind::CastFailure);
  EXPECT_EQ(e.trapOf("cast", {I32(0)}), TrapKind::CastFailure);
  EXPECT_EQ(e.one("br_on_cast", {I32(2)}).i32(), 1);
  EXPECT_EQ(e.one("br_on_cast", {I32(1)}).i32(), -1);
  EXPECT_EQ(e.one("br_on_cast_fail", {I32(3)}).i32(), 2);
  EXPECT_EQ(e.one("br_on_cast_fail", {I32(0)}).i32(), -2);
  EXPECT_EQ(e.one("br_on_null", {I32(0)}).i32(), 99);
  EXPECT_EQ(e.one("br_on_null", {I32(1)}).i32(), 0);
  EXPECT_EQ(e.one("br_on_non_null", {I32(0)}).i32(), 99);
  EXPECT_EQ(e.one("br_on_non_null", {I32(2)}).i32(), 1);
  EXPECT_EQ(e.one("extern_roundtrip", {I32(3)}).i32(), 1);
  EXPECT_EQ(e.one("extern_roundtrip", {I32(1)}).i32(), 0);
  // Host references (externref) and function references.
  Outcome o = e.call("extern_test", {Value::ref(Ref::host(5))});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 1);
  EXPECT_EQ(o.results[1].i32(), 1);
  EXPECT_EQ(o.results[2].i32(), 0);
  o = e.call("extern_test", {Value::ref(Ref::null())});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 0);
  o = e.call("func_test");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 1);
  EXPECT_EQ(o.results[1].i32(), 1);
  EXPECT_EQ(o.results[2].i32(), 0);
  EXPECT_EQ(e.one("as_non_null", {I32(2)}).i32(), 0);
  EXPECT_EQ(e.trapOf("as_non_null", {I32(0)}), TrapKind::NullReference);
}

// --- Stack maps -------------------------------------------------------------------

// A heap that records every safepoint and the roots it is shown.
class RecordingHeap final : public Heap {
 public:
  explicit RecordingHeap(const TypeStore& types) : Heap(types), inner_(types) {}
  Result<Ref, TrapKind> newStruct(CanonTypeId t, std::span<const Value> f) override {
    return inner_.newStruct(t, f);
  }
  Result<Ref, TrapKind> newArray(CanonTypeId t, uint32_t n, Value v) override {
    return inner_.newArray(t, n, v);
  }
  Result<Ref, TrapKind> newArrayFrom(CanonTypeId t, std::span<const Value> e) override {
    return inner_.newArrayFrom(t, e);
  }
  CanonTypeId typeOf(Ref o) const override { return inner_.typeOf(o); }
  Value structGet(Ref o, uint32_t f) const override { return inner_.structGet(o, f); }
  void structSet(Ref o, uint32_t f, Value v) override { inner_.structSet(o, f, v); }
  uint32_t arrayLength(Ref o) const override { return inner_.arrayLength(o); }
  Value arrayGet(Ref o, uint32_t i) const override { return inner_.arrayGet(o, i); }
  void arraySet(Ref o, uint32_t i, Value v) override { inner_.arraySet(o, i, v); }
  void arrayFill(Ref o, uint32_t d, Value v, uint32_t n) override { inner_.arrayFill(o, d, v, n); }
  void arrayCopy(Ref d, uint32_t dd, Ref s, uint32_t ss, uint32_t n) override {
    inner_.arrayCopy(d, dd, s, ss, n);
  }
  HeapStats stats() const override { return inner_.stats(); }

  void safepoint(RootSource& roots) override {
    ++safepoints;
    struct Collect : RootVisitor {
      std::vector<Ref>* out;
      void visit(Ref& r) override { out->push_back(r); }
    } c;
    c.out = &last_roots;
    last_roots.clear();
    roots.forEachRoot(c);
    max_roots = std::max(max_roots, last_roots.size());
    for (Ref r : last_roots) {
      if (r.isObject()) ++object_roots;
    }
  }
  size_t safepoints = 0;
  size_t max_roots = 0;
  size_t object_roots = 0;
  std::vector<Ref> last_roots;

 private:
  ReferenceHeap inner_;
};

TEST(ExecStackMaps, MapsHoldExactlyTheReferenceSlots) {
  Engine e;
  auto bytes = readData("gc.wasm");
  auto decoded = decodeModule(bytes);
  ASSERT_TRUE(decoded.ok());
  auto module = std::make_shared<Module>(std::move(decoded).value());
  TypeStore store;
  auto types = validateModule(*module, store);
  ASSERT_TRUE(types.ok());
  auto code = compileModule(*module, types.value());
  // Every function: every conservative map holds exactly the reference-typed
  // locals among the locals, and every precise map is a subset of it.
  bool saw_ref_local = false;
  for (uint32_t i = 0; i < module->functions.size(); ++i) {
    const Function& fn = module->functions[i];
    const CompiledFunction& cf = code->funcs[i];
    const FuncType& ft = types.value().funcType(fn.type_index);
    std::vector<ValType> locals = ft.params;
    locals.insert(locals.end(), fn.locals.begin(), fn.locals.end());
    ASSERT_EQ((cf.maps.safepoints.size() + 1) * 2 * cf.maps.words, cf.maps.bits.size());
    for (uint32_t sp : cf.maps.safepoints) {
      ASSERT_LT(sp, cf.code.size());
      EXPECT_TRUE(isSafepoint(cf.code[sp].op)) << dumpIR(*code, i, *module);
      for (uint32_t l = 0; l < locals.size(); ++l) {
        EXPECT_EQ(cf.maps.contains(sp, StackMapMode::Conservative, l), locals[l].isRef())
            << "local " << l;
        if (cf.maps.contains(sp, StackMapMode::Precise, l)) EXPECT_TRUE(locals[l].isRef()) << l;
        saw_ref_local |= locals[l].isRef();
      }
    }
    // Every safepoint instruction has a map.
    for (uint32_t pc = 0; pc < cf.code.size(); ++pc) {
      if (isSafepoint(cf.code[pc].op)) {
        EXPECT_TRUE(std::binary_search(cf.maps.safepoints.begin(), cf.maps.safepoints.end(), pc));
      }
    }
  }
  EXPECT_TRUE(saw_ref_local);
  // point_sum: (param i32 i32) (local $p (ref null $point)): the struct.new
  // safepoint's conservative map has exactly slot 2 among the locals, plus
  // no operand refs (its operands are i32s); $p is written by the
  // allocation's result, so it is not live there.
  uint32_t point_sum = 0;
  for (const Export& ex : module->exports) {
    if (ex.name == "point_sum") point_sum = ex.index - module->num_imported_funcs;
  }
  const CompiledFunction& ps = code->funcs[point_sum];
  ASSERT_FALSE(ps.maps.safepoints.empty());
  for (uint32_t s = 0; s < ps.frame_size; ++s) {
    EXPECT_EQ(ps.maps.contains(ps.maps.safepoints[0], StackMapMode::Conservative, s), s == 2) << s;
  }
  // test_bits (param $k i32) (local $r anyref): at its call to $make the
  // conservative map is exactly {$r}; the i32 argument, now the callee's, is
  // not in it.
  uint32_t test_bits = 0;
  for (const Export& ex : module->exports) {
    if (ex.name == "test_bits") test_bits = ex.index - module->num_imported_funcs;
  }
  const CompiledFunction& tb = code->funcs[test_bits];
  bool saw_call = false;
  for (uint32_t pc = 0; pc < tb.code.size(); ++pc) {
    if (tb.code[pc].op != IrOp::Call) continue;
    saw_call = true;
    for (uint32_t s = 0; s < tb.frame_size; ++s) {
      EXPECT_EQ(tb.maps.contains(pc, StackMapMode::Conservative, s), s == 1) << s;
    }
  }
  EXPECT_TRUE(saw_call);
  std::string ir = dumpIR(*code, point_sum + module->num_imported_funcs, *module);
  EXPECT_NE(ir.find("StructNew"), std::string::npos) << ir;
  EXPECT_NE(ir.find("safepoint live {} all {L2}"), std::string::npos) << ir;
}

TEST(ExecStackMaps, SafepointHookSeesLiveObjects) {
  Store store([](const TypeStore& t) { return std::make_unique<RecordingHeap>(t); });
  Executor exec(store, {});
  auto decoded = decodeModule(readData("gc.wasm"));
  ASSERT_TRUE(decoded.ok());
  auto module = std::make_shared<Module>(std::move(decoded).value());
  auto types = validateModule(*module, store.types);
  ASSERT_TRUE(types.ok());
  auto inst = instantiate(exec, module, std::move(types).value(), {});
  ASSERT_TRUE(inst.ok());
  auto& heap = static_cast<RecordingHeap&>(*store.heap);
  Outcome o = exec.invoke(inst.value()->findExport("array_fill_copy")->func, {});
  ASSERT_TRUE(o.ok());
  EXPECT_GE(heap.safepoints, 2u);
  // At the second allocation, $a (an object) is a root.
  EXPECT_GE(heap.object_roots, 1u);
  // A call passes through the callee's entry safepoint with its arguments.
  o = exec.invoke(inst.value()->findExport("test_bits")->func,
                  std::vector<Value>{Value::i32(2)});
  ASSERT_TRUE(o.ok());
}

}  // namespace
}  // namespace slabfuzz
