// The runtime's side of the heap contract: the roots it shows a collecting
// heap (frames and the store's globals, tables, segments and host roots),
// heap violations as an outcome that stops the run and names the site, the
// fuzzing host's gc import, and Executor::invoke's reference argument check.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/host/fuzzing_support.h"
#include "runtime/instantiate.h"
#include "runtime/validate.h"
#include "tests/support/forwarding_heap.h"

namespace slabfuzz {
namespace {

using test::ForwardingHeap;

std::vector<uint8_t> readData(const std::string& name) {
  std::string path = std::string(SLABFUZZ_GOLDEN_DIR) + "/../unit/data/exec/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing " << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// heap_roots.wasm instantiated over a ForwardingHeap with fuzzing-support.
class HeapRoots : public ::testing::Test {
 protected:
  void SetUp() override {
    auto decoded = decodeModule(readData("heap_roots.wasm"));
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    auto module = std::make_shared<Module>(std::move(decoded).value());
    auto types = validateModule(*module, store.types);
    ASSERT_TRUE(types.ok()) << types.error().toString();
    auto inst = instantiate(exec, module, std::move(types).value(), fuzzing.resolver());
    ASSERT_TRUE(inst.ok()) << inst.error().message;
    instance = inst.value();
    fuzzing.setInstance(instance);
  }
  ForwardingHeap& heap() { return static_cast<ForwardingHeap&>(*store.heap); }
  FuncAddr fn(const std::string& name) { return instance->findExport(name)->func; }
  // The i32 field of every struct among the roots the heap was last shown.
  std::vector<int32_t> rootCells() {
    std::vector<int32_t> out;
    for (Ref r : heap().last_roots) {
      if (r.isObject() && store.types.kind(heap().typeOf(r)) == CompositeKind::Struct)
        out.push_back(heap().structGet(r, 0).i32());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Store store{[](const TypeStore& t) { return std::make_unique<ForwardingHeap>(t); }};
  Executor exec{store, {}};
  std::vector<std::string> lines;
  FuzzingSupport fuzzing{store, [this](std::string_view l) { lines.emplace_back(l); }};
  Instance* instance = nullptr;
};

TEST_F(HeapRoots, StoreRootsReachTheHeap) {
  // At alloc's struct.new, the frame holds nothing: the global (11), the
  // table element (22) and the passive segment's item (33) are the roots.
  Outcome o = exec.invoke(fn("alloc"), {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(rootCells(), (std::vector<int32_t>{11, 22, 33}));
  o = exec.invoke(fn("read"), {});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 66);
}

TEST_F(HeapRoots, HostRootsAreRoots) {
  Result<Ref, TrapKind> cell = store.heap->newStruct(
      heap().typeOf(store.globals.back().value.ref()), std::vector<Value>{Value::i32(44)});
  ASSERT_TRUE(cell.ok());
  store.host_roots.push_back(cell.value());
  ASSERT_TRUE(exec.invoke(fn("alloc"), {}).ok());
  EXPECT_EQ(rootCells(), (std::vector<int32_t>{11, 22, 33, 44}));
  store.host_roots.clear();
  ASSERT_TRUE(exec.invoke(fn("alloc"), {}).ok());
  EXPECT_EQ(rootCells(), (std::vector<int32_t>{11, 22, 33}));
}

TEST_F(HeapRoots, GcImportCollects) {
  ASSERT_EQ(heap().collections, 0u);
  ASSERT_TRUE(exec.invoke(fn("collect"), {}).ok());
  EXPECT_EQ(heap().collections, 1u);
  EXPECT_EQ(rootCells(), (std::vector<int32_t>{11, 22, 33}));
}

TEST_F(HeapRoots, ViolationStopsTheRunAndNamesTheSite) {
  HeapViolation v;
  v.kind = HeapViolationKind::StaleGeneration;
  v.operation = "structGet";
  heap().failNextStructAccess(v);
  Outcome o = exec.invoke(fn("read"), {});
  ASSERT_EQ(o.kind, Outcome::Kind::Violation);
  ASSERT_TRUE(o.violation);
  EXPECT_EQ(o.violation->signatureKind(), "slab-id:stale-generation");
  // The first struct.get is in $cellv, called by read.
  EXPECT_NE(o.violation->site.find("StructGet"), std::string::npos) << o.violation->site;
  EXPECT_NE(o.violation->describe().find("stale-generation"), std::string::npos);
  // The run unwound: the next call runs (and sees the same, first, violation).
  EXPECT_EQ(exec.invoke(fn("alloc"), {}).kind, Outcome::Kind::Violation);
  store.heap->clearViolation();
  EXPECT_TRUE(exec.invoke(fn("alloc"), {}).ok());
}

TEST_F(HeapRoots, ViolationEndsFuzzExec) {
  HeapViolation v;
  v.kind = HeapViolationKind::DifferentSlab;
  heap().failNextStructAccess(v);
  FuzzExecSummary s = fuzzing.runExports(exec);
  ASSERT_TRUE(s.violation);
  EXPECT_EQ(s.violation->kind, HeapViolationKind::DifferentSlab);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind(std::string(kSlabfuzzLinePrefix) + " heap violation slab-id:different-slab", 0), 0u)
      << lines.back();
  EXPECT_NE(v.describe().find("id from different slab"), std::string::npos);
}

TEST_F(HeapRoots, VerifyAfterEveryExportCall) {
  fuzzing.setVerifyAfterCall(true);
  FuzzExecSummary s = fuzzing.runExports(exec);
  ASSERT_FALSE(s.violation);
  // Every function export was followed by a verification (take_cell's
  // non-defaultable parameter means it is not called).
  EXPECT_EQ(heap().verifications, s.exports_called - 1);
  HeapViolation v;
  v.kind = HeapViolationKind::Verify;
  v.invariant = "live + free == capacity";
  heap().failVerify(v);
  lines.clear();
  s = fuzzing.runExports(exec);
  ASSERT_TRUE(s.violation);
  EXPECT_EQ(s.violation->signatureKind(), "heap-verify:live + free == capacity");
  EXPECT_EQ(s.violation->site, "after the call of export alloc");
  EXPECT_EQ(s.exports_called, 1u);  // the run stopped at the first observation
}

TEST_F(HeapRoots, InvokeChecksReferenceArguments) {
  // A null for (ref $cell), a function for anyref, a cell for (ref $cell).
  Outcome o = exec.invoke(fn("take_cell"), std::vector<Value>{Value::ref(Ref::null())});
  EXPECT_EQ(o.kind, Outcome::Kind::Trapped);
  EXPECT_EQ(o.trap, TrapKind::HostTrap);
  EXPECT_NE(o.detail.find("argument 0"), std::string::npos) << o.detail;
  o = exec.invoke(fn("take_any"), std::vector<Value>{Value::ref(Ref::func(fn("alloc")))});
  EXPECT_EQ(o.kind, Outcome::Kind::Trapped);
  Ref cell = store.globals.back().value.ref();
  o = exec.invoke(fn("take_cell"), std::vector<Value>{Value::ref(cell)});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 11);
  o = exec.invoke(fn("take_any"), std::vector<Value>{Value::ref(Ref::null())});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.results[0].i32(), 1);
}

}  // namespace
}  // namespace slabfuzz
