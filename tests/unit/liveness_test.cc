// Unit tests for the precise stack maps: the IR slot-effect table
// (runtime/liveness.h) and the maps compileModule builds from it, exact map
// by map on small modules written for one shape each (loops and back edges,
// branch kinds, select, operand-stack values across calls, allocation
// operands, function entry), plus properties over every test and corpus
// module: precise within conservative, only reference slots, and the
// deliberately broken back-edge mode never finding more than the real one.
#include "runtime/liveness.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "runtime/compile.h"
#include "runtime/decode.h"
#include "runtime/validate.h"
#include "text/wat.h"

namespace slabfuzz {
namespace {

// One module decoded, validated and compiled (with `options`).
struct Compiled {
  std::unique_ptr<TypeStore> store = std::make_unique<TypeStore>();
  std::shared_ptr<Module> module;
  std::unique_ptr<ModuleTypes> types;
  std::shared_ptr<const CompiledModule> code;

  static Compiled fromBytes(const std::vector<uint8_t>& bytes, const CompileOptions& options = {}) {
    Compiled c;
    auto decoded = decodeModule(bytes);
    EXPECT_TRUE(decoded.ok()) << (decoded.ok() ? "" : decoded.error().toString());
    if (!decoded.ok()) return c;
    c.module = std::make_shared<Module>(std::move(decoded).value());
    auto types = validateModule(*c.module, *c.store);
    EXPECT_TRUE(types.ok()) << (types.ok() ? "" : types.error().toString());
    if (!types.ok()) return c;
    c.types = std::make_unique<ModuleTypes>(std::move(types).value());
    c.code = compileModule(*c.module, *c.types, options);
    return c;
  }
  static Compiled fromWat(std::string_view text, const CompileOptions& options = {}) {
    auto bytes = assembleWat(text);
    EXPECT_TRUE(bytes.ok()) << (bytes.ok() ? "" : bytes.error().toString());
    if (!bytes.ok()) return {};
    return fromBytes(bytes.value(), options);
  }

  uint32_t funcIndex(const std::string& name) const {
    for (const Export& e : module->exports) {
      if (e.name == name && e.kind == ExternKind::Func) return e.index;
    }
    ADD_FAILURE() << "no export " << name;
    return module->num_imported_funcs;
  }
  const CompiledFunction& func(const std::string& name) const {
    return code->funcs[funcIndex(name) - module->num_imported_funcs];
  }
  std::string dump(const std::string& name) const {
    return dumpIR(*code, funcIndex(name), *module);
  }
};

// The IR index of the `nth` instruction with op `op` (0-based).
uint32_t pcOf(const CompiledFunction& f, IrOp op, int nth = 0) {
  for (uint32_t pc = 0; pc < f.code.size(); ++pc) {
    if (f.code[pc].op == op && nth-- == 0) return pc;
  }
  ADD_FAILURE() << "no " << irOpName(op);
  return UINT32_MAX;
}

// A map as dumpIR writes it: "L0 L2 s1".
std::string mapText(const CompiledFunction& f, uint32_t pc, StackMapMode mode) {
  std::string s;
  f.maps.forEachSlot(pc, mode, [&](uint32_t slot) {
    if (!s.empty()) s += ' ';
    s += slot < f.num_locals ? "L" + std::to_string(slot)
                             : "s" + std::to_string(slot - f.num_locals);
  });
  return s;
}
std::string live(const CompiledFunction& f, uint32_t pc) {
  return mapText(f, pc, StackMapMode::Precise);
}
std::string all(const CompiledFunction& f, uint32_t pc) {
  return mapText(f, pc, StackMapMode::Conservative);
}
constexpr uint32_t kEntry = UINT32_MAX;  // no safepoint: the entry map

// --- The slot-effect table ---------------------------------------------------

TEST(LivenessEffects, OperandRangesOfSlotRangeOps) {
  // struct.new with 3 fields at slot 7: reads 7..9, writes 7, held.
  IrEffects e = irEffects({IrOp::StructNew, 0, 7, 2, 3}, 0);
  EXPECT_EQ(e.reads[0].first, 7u);
  EXPECT_EQ(e.reads[0].count, 3u);
  EXPECT_EQ(e.writes.first, 7u);
  EXPECT_EQ(e.writes.count, 1u);
  EXPECT_TRUE(e.reads_held_at_safepoint);
  // select: a = c ? a : b reads all three.
  e = irEffects({IrOp::Select, 0, 4, 5, 6}, 0);
  EXPECT_TRUE(e.reads[0].has(4) || e.reads[1].has(4) || e.reads[2].has(4));
  EXPECT_TRUE(e.reads[0].has(5) || e.reads[1].has(5) || e.reads[2].has(5));
  EXPECT_TRUE(e.reads[0].has(6) || e.reads[1].has(6) || e.reads[2].has(6));
  EXPECT_TRUE(e.writes.has(4));
  // call_ref with 2 arguments at 10: reads 10, 11 and the funcref at 12,
  // writes its 3 results at 10..12, holds nothing in the caller's map.
  e = irEffects({IrOp::CallRef, 0, 2, 10, 0}, 0, CallShape{2, 3});
  EXPECT_EQ(e.reads[0].first, 10u);
  EXPECT_EQ(e.reads[0].count, 3u);
  EXPECT_EQ(e.writes.first, 10u);
  EXPECT_EQ(e.writes.count, 3u);
  EXPECT_FALSE(e.reads_held_at_safepoint);
  // call_indirect with 1 argument: the argument and the index.
  e = irEffects({IrOp::CallIndirect, 1, 0, 8, 0}, 0, CallShape{1, 0});
  EXPECT_EQ(e.reads[0].count, 2u);
  EXPECT_EQ(e.writes.count, 0u);
  // A tail call leaves; return reads the results.
  EXPECT_EQ(irEffects({IrOp::ReturnCall, 0, 0, 3, 0}, 0, CallShape{2, 1}).flow, IrFlow::Exit);
  e = irEffects({IrOp::Return, 0, 0, 0, 0}, 2);
  EXPECT_EQ(e.flow, IrFlow::Exit);
  EXPECT_EQ(e.reads[0].count, 2u);
  // array.copy reads 5 slots; fused compare-and-branch reads both slots.
  EXPECT_EQ(irEffects({IrOp::ArrayCopy, 0, 3, 0, 0}, 0).reads[0].count, 5u);
  e = irEffects({IrOp::BrIfI32LtS, 0, 1, 2, 9}, 0);
  EXPECT_EQ(e.flow, IrFlow::Branch);
  EXPECT_TRUE(e.reads[0].has(1) && e.reads[1].has(2));
  e = irEffects({IrOp::BrIfI32LtSImm, 0, 1, 2, 9}, 0);
  EXPECT_TRUE(e.reads[0].has(1) && e.reads[1].count == 0);  // b is an immediate
  EXPECT_EQ(irEffects({IrOp::BrTable, 0, 1, 0, 3}, 0).flow, IrFlow::Table);
  EXPECT_EQ(irEffects({IrOp::BrOnCast, 0, 1, 0, 3}, 0).flow, IrFlow::Branch);
}

// Every op the compiler can emit has an effect row (the switch is
// exhaustive at compile time); the safepoints are exactly the calls (not
// held) and the allocations (held).
TEST(LivenessEffects, SafepointsHoldReadsExactlyForAllocations) {
  for (size_t i = 0; i < kIrOpCount; ++i) {
    IrOp op = static_cast<IrOp>(i);
    if (!isSafepoint(op)) continue;
    bool call = op == IrOp::Call || op == IrOp::CallIndirect || op == IrOp::CallRef ||
                op == IrOp::ReturnCall || op == IrOp::ReturnCallIndirect ||
                op == IrOp::ReturnCallRef;
    EXPECT_EQ(irEffects({op, 0, 1, 2, 3}, 0, CallShape{1, 1}).reads_held_at_safepoint, !call)
        << irOpName(op);
  }
}

// --- Exact maps ----------------------------------------------------------------

constexpr std::string_view kTypes = R"(
  (type $s (struct (field i32)))
  (type $pair (struct (field (ref null $s)) (field (ref null $s))))
  (type $arr (array (mut i32)))
  (type $refs (array (ref null $s)))
  (func $f)
)";

std::string mod(std::string_view body) {
  return "(module " + std::string(kTypes) + std::string(body) + ")";
}

TEST(LivenessMaps, LiveAfterCallInMapDeadOneNot) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "t") (param $a (ref null $s)) (param $b (ref null $s)) (result i32)
      (call $f)
      (struct.get $s 0 (local.get $a))))"));
  const CompiledFunction& f = c.func("t");
  uint32_t call = pcOf(f, IrOp::Call);
  EXPECT_EQ(live(f, call), "L0") << c.dump("t");
  EXPECT_EQ(all(f, call), "L0 L1");
  EXPECT_TRUE(f.maps.contains(call, StackMapMode::Precise, 0));
  EXPECT_FALSE(f.maps.contains(call, StackMapMode::Precise, 1));
  EXPECT_TRUE(f.maps.contains(call, StackMapMode::Conservative, 1));
  EXPECT_NE(c.dump("t").find("safepoint live {L0} all {L0 L1}"), std::string::npos) << c.dump("t");
}

// A reference defined before a loop, read at the top of the loop body and
// nowhere after the loop: at a call later in the body it is live only
// through the back edge (wasmtime 9071/10397).
constexpr std::string_view kBackEdge = R"(
    (func (export "t") (param $n i32) (result i32) (local $r (ref null $s)) (local $acc i32)
      (local.set $r (struct.new $s (i32.const 7)))
      (loop $l
        (local.set $acc (i32.add (local.get $acc) (struct.get $s 0 (local.get $r))))
        (call $f)
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $acc)))";

TEST(LivenessMaps, ReferenceLiveOnlyAcrossBackEdge) {
  Compiled c = Compiled::fromWat(mod(kBackEdge));
  const CompiledFunction& f = c.func("t");
  uint32_t call = pcOf(f, IrOp::Call);
  EXPECT_EQ(live(f, call), "L1") << c.dump("t");
  EXPECT_EQ(all(f, call), "L1");
}

TEST(LivenessMaps, IgnoringBackEdgesDropsIt) {
  CompileOptions broken;
  broken.liveness_ignores_back_edges = true;
  Compiled c = Compiled::fromWat(mod(kBackEdge), broken);
  const CompiledFunction& f = c.func("t");
  uint32_t call = pcOf(f, IrOp::Call);
  EXPECT_EQ(live(f, call), "") << c.dump("t");
  EXPECT_EQ(all(f, call), "L1");  // the conservative map does not depend on liveness
}

// The seed bug's shape (wasmtime 10397): an outer loop with an allocation
// and a call_ref through a struct field, an inner loop writing the array
// through a ref.cast with br_if back; $a is read only in the inner loop.
constexpr std::string_view kSeed = R"(
  (type $cb (func (param i32) (result i32)))
  (type $holder (struct (field $f (ref $cb))))
  (func $inc (type $cb) (i32.add (local.get 0) (i32.const 1)))
  (elem declare func $inc)
  (func (export "t") (result i32)
    (local $a (ref null $arr)) (local $h (ref null $holder)) (local $i i32) (local $j i32)
    (local $acc i32)
    (local.set $h (struct.new $holder (ref.func $inc)))
    (local.set $a (array.new $arr (i32.const 0) (i32.const 8)))
    (loop $outer
      (local.set $j (i32.const 0))
      (loop $inner
        (array.set $arr (ref.cast (ref $arr) (local.get $a)) (local.get $j) (local.get $i))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 8))))
      (local.set $acc (call_ref $cb (local.get $acc) (struct.get $holder $f (local.get $h))))
      (drop (array.new $arr (i32.const 1) (i32.const 4)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $outer (i32.lt_u (local.get $i) (i32.const 4))))
    (local.get $acc)))";

TEST(LivenessMaps, NestedLoopsSeedBugShape) {
  Compiled c = Compiled::fromWat(mod(kSeed));
  const CompiledFunction& f = c.func("t");
  uint32_t call = pcOf(f, IrOp::CallRef);
  uint32_t alloc = pcOf(f, IrOp::ArrayNew, 1);  // the one in the outer loop
  ASSERT_LT(call, alloc) << c.dump("t");
  EXPECT_EQ(live(f, call), "L0 L1") << c.dump("t");
  EXPECT_EQ(live(f, alloc), "L0 L1") << c.dump("t");
  // Before the loop: at the first array.new, $h is live (read in the loop)
  // and $a is about to be written.
  EXPECT_EQ(live(f, pcOf(f, IrOp::ArrayNew, 0)), "L1") << c.dump("t");

  CompileOptions broken;
  broken.liveness_ignores_back_edges = true;
  Compiled b = Compiled::fromWat(mod(kSeed), broken);
  const CompiledFunction& g = b.func("t");
  EXPECT_EQ(live(g, pcOf(g, IrOp::CallRef)), "") << b.dump("t");
  EXPECT_EQ(live(g, pcOf(g, IrOp::ArrayNew, 1)), "") << b.dump("t");
  EXPECT_EQ(all(g, pcOf(g, IrOp::CallRef)), "L0 L1");
}

TEST(LivenessMaps, BrTableEveryTargetCounts) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "t") (param $k i32) (param $x (ref null $s)) (param $y (ref null $s))
          (param $z (ref null $s)) (param $w (ref null $s)) (result i32)
      (call $f)
      (block $b2 (block $b1 (block $b0
        (br_table $b0 $b1 $b2 $b1 (local.get $k)))
        (return (struct.get $s 0 (local.get $x))))
        (return (struct.get $s 0 (local.get $y))))
      (struct.get $s 0 (local.get $w))))"));
  const CompiledFunction& f = c.func("t");
  uint32_t call = pcOf(f, IrOp::Call);
  EXPECT_EQ(live(f, call), "L1 L2 L4") << c.dump("t");
  EXPECT_EQ(all(f, call), "L1 L2 L3 L4");
}

TEST(LivenessMaps, BrOnNullBothWays) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "t") (param $r (ref null $s)) (param $x (ref null $s)) (param $y (ref null $s))
          (param $z (ref null $s)) (result i32)
      (call $f)
      (block $null
        (drop (br_on_null $null (local.get $r)))
        (return (struct.get $s 0 (local.get $y))))
      (struct.get $s 0 (local.get $x))))"));
  const CompiledFunction& f = c.func("t");
  EXPECT_EQ(live(f, pcOf(f, IrOp::Call)), "L0 L1 L2") << c.dump("t");
}

TEST(LivenessMaps, BrOnNonNullBothWays) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "t") (param $r (ref null $s)) (param $x (ref null $s)) (param $y (ref null $s))
          (param $z (ref null $s)) (result i32)
      (call $f)
      (block $nn (result (ref $s))
        (br_on_non_null $nn (local.get $r))
        (return (struct.get $s 0 (local.get $x))))
      (struct.get $s 0)
      (struct.get $s 0 (local.get $y))
      (i32.add)))"));
  const CompiledFunction& f = c.func("t");
  EXPECT_EQ(live(f, pcOf(f, IrOp::Call)), "L0 L1 L2") << c.dump("t");
}

TEST(LivenessMaps, BrOnCastAndCastFailTargets) {
  for (std::string_view op : {"br_on_cast", "br_on_cast_fail"}) {
    Compiled c = Compiled::fromWat(mod(std::string(R"(
      (func (export "t") (param $r anyref) (param $x (ref null $s)) (param $y (ref null $s))
            (param $z (ref null $s)) (result i32)
        (call $f)
        (block $out (result anyref)
          (drop ()") + std::string(op) +
                                       R"( $out anyref (ref $s) (local.get $r)))
          (return (struct.get $s 0 (local.get $x))))
        (drop)
        (struct.get $s 0 (local.get $y))))"));
    const CompiledFunction& f = c.func("t");
    EXPECT_EQ(live(f, pcOf(f, IrOp::Call)), "L0 L1 L2") << op << "\n" << c.dump("t");
  }
}

TEST(LivenessMaps, SelectReadsBothValuesAndCarriesTheResult) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "before") (param $c i32) (param $x (ref null $s)) (param $y (ref null $s))
          (param $z (ref null $s)) (result i32)
      (call $f)
      (struct.get $s 0 (select (result (ref null $s)) (local.get $x) (local.get $y) (local.get $c))))
    (func (export "across") (param $c i32) (param $x (ref null $s)) (param $y (ref null $s))
          (result i32)
      (select (result (ref null $s)) (local.get $x) (local.get $y) (local.get $c))
      (call $f)
      (struct.get $s 0)))"));
  const CompiledFunction& f = c.func("before");
  EXPECT_EQ(live(f, pcOf(f, IrOp::Call)), "L1 L2") << c.dump("before");
  // The selected reference waits on the operand stack (s0) across the call;
  // the locals it came from are dead (wasmtime 12862).
  const CompiledFunction& g = c.func("across");
  uint32_t call = pcOf(g, IrOp::Call);
  EXPECT_EQ(live(g, call), "s0") << c.dump("across");
  EXPECT_EQ(all(g, call), "L1 L2 s0");
}

TEST(LivenessMaps, OldValueOfRedefinedLocalOnStackAcrossCall) {
  // local.get $x, then $x is redefined: the old value is materialised into
  // s0 and is what the struct.get after the call reads (wasmtime 13449).
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "t") (param $x (ref null $s)) (result i32)
      (local.get $x)
      (local.set $x (ref.null $s))
      (call $f)
      (struct.get $s 0)))"));
  const CompiledFunction& f = c.func("t");
  uint32_t call = pcOf(f, IrOp::Call);
  EXPECT_EQ(live(f, call), "s0") << c.dump("t");
  EXPECT_EQ(all(f, call), "L0 s0");
}

TEST(LivenessMaps, CallArgumentsBelongToTheCallee) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func $g (param (ref null $s)) (param (ref null $s)))
    (func (export "t") (param $x (ref null $s)) (param $y (ref null $s)) (result i32)
      (local.get $y)
      (call $g (local.get $x) (local.get $x))
      (struct.get $s 0)))"));
  const CompiledFunction& f = c.func("t");
  uint32_t call = pcOf(f, IrOp::Call);
  // s0 ($y's value) stays in this frame; s1, s2 are the callee's arguments.
  EXPECT_EQ(live(f, call), "s0") << c.dump("t");
  EXPECT_EQ(all(f, call), "L0 L1 s0");
}

TEST(LivenessMaps, AllocationOperandsAreHeld) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "pair") (param $x (ref null $s)) (param $y (ref null $s)) (result anyref)
      (struct.new $pair (local.get $x) (local.get $y)))
    (func (export "fixed") (param $x (ref null $s)) (param $y (ref null $s)) (result anyref)
      (array.new_fixed $refs 3 (local.get $x) (local.get $y) (local.get $x)))
    (func (export "new") (param $x (ref null $s)) (param $n i32) (result anyref)
      (array.new $refs (local.get $x) (local.get $n))))"));
  const CompiledFunction& p = c.func("pair");
  uint32_t at = pcOf(p, IrOp::StructNew);
  EXPECT_EQ(live(p, at), "s0 s1") << c.dump("pair");
  EXPECT_EQ(all(p, at), "L0 L1 s0 s1");
  const CompiledFunction& fx = c.func("fixed");
  EXPECT_EQ(live(fx, pcOf(fx, IrOp::ArrayNewFixed)), "s0 s1 s2") << c.dump("fixed");
  const CompiledFunction& n = c.func("new");
  EXPECT_EQ(live(n, pcOf(n, IrOp::ArrayNew)), "s0") << c.dump("new");  // s1 is the i32 length
}

TEST(LivenessMaps, FunctionEntry) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func (export "t") (param $x (ref null $s)) (param $y (ref null $s)) (param $k i32)
          (result i32) (local $z (ref null $s))
      (local.set $y (local.get $z))
      (call $f)
      (i32.add (struct.get $s 0 (local.get $x)) (struct.get $s 0 (local.get $y)))))"));
  const CompiledFunction& f = c.func("t");
  // $y is written before it is read; $z is read first but is no parameter
  // (null on entry).
  EXPECT_EQ(live(f, kEntry), "L0") << c.dump("t");
  EXPECT_EQ(all(f, kEntry), "L0 L1 L3");
  EXPECT_EQ(live(f, pcOf(f, IrOp::Call)), "L0 L1");
  EXPECT_NE(c.dump("t").find("entry live {L0} all {L0 L1 L3}"), std::string::npos) << c.dump("t");
}

TEST(LivenessMaps, ReturnCallKeepsNothing) {
  Compiled c = Compiled::fromWat(mod(R"(
    (func $g (param (ref null $s)) (result i32) (i32.const 0))
    (func (export "t") (param $x (ref null $s)) (param $y (ref null $s)) (result i32)
      (return_call $g (local.get $y))))"));
  const CompiledFunction& f = c.func("t");
  uint32_t at = pcOf(f, IrOp::ReturnCall);
  EXPECT_EQ(live(f, at), "") << c.dump("t");
  EXPECT_EQ(all(f, at), "L0 L1");
}

TEST(LivenessMaps, BudgetExceededFailsCleanly) {
  CompileOptions tiny;
  tiny.max_stack_map_words = 4;
  Compiled c = Compiled::fromWat(mod(kSeed), tiny);
  ASSERT_TRUE(c.code);
  EXPECT_NE(c.code->error.find("stack maps exceed 4 words"), std::string::npos) << c.code->error;
  EXPECT_TRUE(c.code->funcs.empty());
}

// --- Properties over every module at hand ------------------------------------------

std::vector<std::filesystem::path> moduleFiles() {
  std::vector<std::filesystem::path> out;
  std::filesystem::path root =
      std::filesystem::path(SLABFUZZ_GOLDEN_DIR).parent_path().parent_path();
  for (const char* dir : {"tests/unit/data/exec", "corpus/decode", "corpus/regress"}) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(root / dir, ec)) {
      if (e.path().extension() == ".wasm") out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(LivenessProperties, PreciseWithinConservativeOnlyReferences) {
  std::vector<std::filesystem::path> files = moduleFiles();
  ASSERT_GE(files.size(), 10u);
  size_t maps = 0, strictly_smaller = 0, broken_smaller = 0;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in),
                               std::istreambuf_iterator<char>()};
    auto decoded = decodeModule(bytes);
    if (!decoded.ok()) continue;  // corpus/decode holds some invalid inputs on purpose
    TypeStore store;
    auto types = validateModule(decoded.value(), store);
    if (!types.ok()) continue;
    const Module& m = decoded.value();
    auto code = compileModule(m, types.value());
    CompileOptions broken_opts;
    broken_opts.liveness_ignores_back_edges = true;
    auto broken = compileModule(m, types.value(), broken_opts);
    ASSERT_TRUE(code->error.empty()) << path;
    for (uint32_t i = 0; i < m.functions.size(); ++i) {
      const CompiledFunction& f = code->funcs[i];
      const CompiledFunction& bf = broken->funcs[i];
      const FuncType& ft = types.value().funcType(m.functions[i].type_index);
      std::vector<ValType> locals = ft.params;
      locals.insert(locals.end(), m.functions[i].locals.begin(), m.functions[i].locals.end());
      std::vector<uint32_t> pcs = f.maps.safepoints;
      pcs.push_back(kEntry);
      for (uint32_t pc : pcs) {
        ++maps;
        std::string where = path.filename().string() + " func " +
                            std::to_string(i + m.num_imported_funcs) + " pc " + std::to_string(pc);
        size_t precise = 0, conservative = 0;
        f.maps.forEachSlot(pc, StackMapMode::Precise, [&](uint32_t s) {
          ++precise;
          EXPECT_TRUE(f.maps.contains(pc, StackMapMode::Conservative, s)) << where << " slot " << s;
          EXPECT_LT(s, f.frame_size) << where;
          if (s < f.num_locals) EXPECT_TRUE(locals[s].isRef()) << where << " slot " << s;
          if (pc == kEntry) EXPECT_LT(s, f.num_params) << where;
        });
        f.maps.forEachSlot(pc, StackMapMode::Conservative, [&](uint32_t s) {
          ++conservative;
          if (s < f.num_locals) EXPECT_TRUE(locals[s].isRef()) << where << " slot " << s;
        });
        for (uint32_t l = 0; l < f.num_locals; ++l) {
          EXPECT_EQ(f.maps.contains(pc, StackMapMode::Conservative, l), locals[l].isRef()) << where;
        }
        strictly_smaller += precise < conservative;
        // Fewer edges can only make fewer slots live.
        size_t in_broken = 0;
        bf.maps.forEachSlot(pc, StackMapMode::Precise, [&](uint32_t s) {
          ++in_broken;
          EXPECT_TRUE(f.maps.contains(pc, StackMapMode::Precise, s)) << where << " slot " << s;
        });
        broken_smaller += in_broken < precise;
      }
    }
  }
  EXPECT_GT(maps, 100u);
  EXPECT_GT(strictly_smaller, 0u);  // liveness does remove dead references
  EXPECT_GT(broken_smaller, 0u);    // and the corpus has back-edge-only references
}

}  // namespace
}  // namespace slabfuzz
