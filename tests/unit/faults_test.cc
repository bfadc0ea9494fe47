// Unit tests for the fault zoo (heap/faults.h, heap/faults.def): selection
// and its errors, the table itself, and each heap fault caught by the heap's
// own checks in a direct scenario (the detection tests over generated
// modules are tests/faults/detect_test.sh). In a build without the zoo the
// fault scenarios report themselves skipped.
#include "heap/faults.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "heap/slab_heap.h"
#include "runtime/decode.h"
#include "tests/support/wasm_bytes.h"

namespace slabfuzz {
namespace {

using test::Bytes;

// Activates one fault for a scope; the process's fault is "none" again after.
class FaultScope {
 public:
  explicit FaultScope(std::string_view name) {
    resetFaultCanaries();
    error_ = selectFault(name);
  }
  ~FaultScope() { (void)selectFault("none"); }
  const std::optional<std::string>& error() const { return error_; }

 private:
  std::optional<std::string> error_;
};

#define REQUIRE_FAULTS()                                                          \
  do {                                                                            \
    if (!kFaultsBuilt) GTEST_SKIP() << "skipped: this build has SLABFUZZ_FAULTS=OFF"; \
  } while (0)

TEST(FaultTable, NamesAreDistinctAndEveryColumnIsFilled) {
  std::set<std::string_view> names;
  for (const FaultInfo& f : kFaults) {
    EXPECT_TRUE(names.insert(f.name).second) << f.name;
    EXPECT_FALSE(f.models.empty()) << f.name;
    EXPECT_FALSE(f.expect.empty()) << f.name;
    EXPECT_FALSE(f.what.empty()) << f.name;
    EXPECT_TRUE(f.where == "compile" || f.where == "exec" || f.where == "types" || f.where == "heap")
        << f.name << ": " << f.where;
    EXPECT_EQ(faultByName(f.name), &f);
  }
  EXPECT_GE(kFaultCount, 14u);
}

TEST(FaultTable, ExpectMatchesPrefixesAndWholeKinds) {
  FaultInfo info{Fault::None, "x", "heap", "m", "slab-id:,diff:result", "w"};
  EXPECT_TRUE(faultExpects(info, "slab-id:stale-generation"));
  EXPECT_TRUE(faultExpects(info, "slab-id:stale-generation at struct.get [mutator]"));
  EXPECT_TRUE(faultExpects(info, "diff:result"));
  EXPECT_TRUE(faultExpects(info, "diff:result [mutator]"));
  EXPECT_FALSE(faultExpects(info, "diff:log"));
  EXPECT_FALSE(faultExpects(info, "diff:result:extra [mutator]"));
  EXPECT_FALSE(faultExpects(info, "heap-verify:live + free == capacity"));
}

TEST(FaultTable, BucketsSplitFromTheEnd) {
  BucketParts p = splitBucket("slab-id:stale-generation at array.set [mark]");
  EXPECT_EQ(p.kind, "slab-id:stale-generation");
  EXPECT_EQ(p.instruction, "array.set");
  EXPECT_EQ(p.phase, "mark");
  // heap-verify's kind holds its invariant, spaces and all.
  p = splitBucket("heap-verify:live + free == capacity [verify]");
  EXPECT_EQ(p.kind, "heap-verify:live + free == capacity");
  EXPECT_EQ(p.instruction, "");
  EXPECT_EQ(p.phase, "verify");
  p = splitBucket("diff:trap");
  EXPECT_EQ(p.kind, "diff:trap");
  EXPECT_EQ(p.instruction, "");
  EXPECT_EQ(p.phase, "");
}

// An entry's `at` and `in` clauses: a finding of the right kind at another
// instruction or in another phase is not the fault's, and a bucket that
// names no instruction cannot satisfy an `at`.
TEST(FaultTable, ExpectNarrowsToInstructionsAndPhases) {
  FaultInfo info{Fault::None, "x", "heap", "m",
                 "slab-id: at array.new|array.new_default in mutator,heap-verify: in verify", "w"};
  EXPECT_TRUE(faultExpects(info, "slab-id:out-of-bounds at array.new [mutator]"));
  EXPECT_TRUE(faultExpects(info, "slab-id:bad-slab at array.new_default [mutator]"));
  EXPECT_FALSE(faultExpects(info, "slab-id:out-of-bounds at array.get [mutator]"));
  EXPECT_FALSE(faultExpects(info, "slab-id:out-of-bounds at array.new [mark]"));
  EXPECT_FALSE(faultExpects(info, "slab-id:out-of-bounds [mutator]"));
  EXPECT_TRUE(faultExpects(info, "heap-verify:free list acyclic [verify]"));
  EXPECT_FALSE(faultExpects(info, "heap-verify:free list acyclic [sweep]"));
  EXPECT_FALSE(faultExpects(info, "diff:log [mutator]"));
}

// The campaign's "first finding names the fault's class" (summary.json,
// bench/detect-faults): a wrong bucket fails; so does the right bucket from
// a run in which the fault changed nothing (the harness's own noise), and
// one whose input still gives a finding with the fault off.
TEST(FaultTable, AFindingOfTheFaultNeedsItsClassItsCanaryAndTheFault) {
  const FaultInfo* cast = faultByName("cast-rejects-subtype");
  ASSERT_NE(cast, nullptr);
  EXPECT_TRUE(findingOfFault(*cast, "diff:trap [mutator]", true, true));
  // A deliberately wrong bucket: a slab-id violation is not a cast fault's.
  EXPECT_FALSE(findingOfFault(*cast, "slab-id:stale-generation at struct.get [mutator]", true, true));
  EXPECT_FALSE(findingOfFault(*cast, "diff:status:ours-rejects:unlinkable [link]", true, true));
  // The right bucket, but the fault did not trigger, or nobody could say.
  EXPECT_FALSE(findingOfFault(*cast, "diff:trap [mutator]", false, true));
  EXPECT_FALSE(findingOfFault(*cast, "diff:trap [mutator]", std::nullopt, true));
  // The right bucket and the canary, but the input fails without the fault
  // too (or the replay without it could not run).
  EXPECT_FALSE(findingOfFault(*cast, "diff:trap [mutator]", true, false));
  EXPECT_FALSE(findingOfFault(*cast, "diff:trap [mutator]", true, std::nullopt));
  const FaultInfo* loop = faultByName("loop-back-edge-liveness");
  ASSERT_NE(loop, nullptr);
  EXPECT_TRUE(findingOfFault(*loop, "slab-id:different-slab at array.set [mutator]", true, true));
  EXPECT_FALSE(findingOfFault(*loop, "ref-divergence:binaryen:log [mutator]", true, true));
  EXPECT_FALSE(findingOfFault(*loop, "sanitizer:SEGV [mutator]", true, true));
}

TEST(FaultSelection, UnknownNamesAreErrorsThatListTheFaults) {
  auto err = selectFault("no-such-fault");
  ASSERT_TRUE(err.has_value());
  EXPECT_NE(err->find("unknown fault 'no-such-fault'"), std::string::npos);
  EXPECT_NE(err->find("loop-back-edge-liveness"), std::string::npos);
  EXPECT_EQ(activeFault(), Fault::None);
}

TEST(FaultSelection, NoneClearsAndANameActivatesInFaultBuilds) {
  {
    FaultScope scope("generation-not-bumped");
    if (kFaultsBuilt) {
      EXPECT_FALSE(scope.error().has_value());
      EXPECT_EQ(activeFault(), Fault::GenerationNotBumped);
      EXPECT_TRUE(faultActive(Fault::GenerationNotBumped));
      EXPECT_FALSE(faultActive(Fault::FreeListDoublePush));
    } else {
      ASSERT_TRUE(scope.error().has_value());
      EXPECT_NE(scope.error()->find("SLABFUZZ_FAULTS=ON"), std::string::npos);
      EXPECT_EQ(activeFault(), Fault::None);
    }
  }
  EXPECT_EQ(activeFault(), Fault::None);
  EXPECT_FALSE(faultActive(Fault::GenerationNotBumped));
}

// --- Heap faults, each caught by the heap's own checks ------------------------------------

// Types: 0 node (struct (field (ref null 0)) (field i32)), 1 i64 array,
// 2 holder of a funcref (struct (field (mut funcref))).
Bytes typesModule() {
  Bytes types;
  types.u32(3);
  types.raw({kCodeStruct, 2, kCodeRefNull, 0, 1, kCodeI32, 1});
  types.raw({kCodeArray, kCodeI64, 1});
  types.raw({kCodeStruct, 1, kCodeRefNull, HeapType::Func, 1});
  Bytes m = Bytes::header();
  return m.section(1, types);
}

class VecRoots final : public RootSource {
 public:
  void forEachRoot(RootVisitor& v) override {
    for (Ref& r : refs) v.visit(r);
  }
  std::vector<Ref> refs;
};

class HeapFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto decoded = decodeModule(typesModule().data());
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    module_ = std::make_unique<Module>(std::move(decoded).value());
    auto types = canonicalizeTypes(*module_, store_);
    ASSERT_TRUE(types.ok()) << types.error().toString();
    for (uint32_t i = 0; i < 3; ++i) ids_.push_back(types->canon(i));
  }
  static SlabHeapConfig config() {
    SlabHeapConfig c;
    c.verify_after_gc = false;  // the tests call verify() themselves
    return c;
  }
  Ref node(Heap& h, int32_t v) {
    Value f[] = {Value::ref(Ref::null()), Value::i32(v)};
    return h.newStruct(ids_[0], f).value();
  }
  // Allocates `n` nodes, keeps every other one, collects, and returns
  // whether the verifier is happy (`invariant` gets what it names if not).
  bool churn(SlabHeap& heap, int n, std::string* invariant) {
    VecRoots roots;
    for (int i = 0; i < n; ++i) {
      Ref r = node(heap, i);
      if (i % 2 == 0) roots.refs.push_back(r);
    }
    heap.collect(roots);
    bool ok = heap.verify(roots);
    if (!ok && heap.violation()) *invariant = heap.violation()->invariant;
    return ok;
  }
  TypeStore store_;
  std::unique_ptr<Module> module_;
  std::vector<CanonTypeId> ids_;
};

TEST_F(HeapFaultTest, WithoutAFaultTheSameScenariosVerify) {
  SlabHeap heap(store_, HeapLimits{}, config());
  std::string invariant;
  EXPECT_TRUE(churn(heap, 64, &invariant)) << invariant;
}

TEST_F(HeapFaultTest, GenerationNotBumpedBreaksGenerationsCountFrees) {
  REQUIRE_FAULTS();
  FaultScope scope("generation-not-bumped");
  SlabHeap heap(store_, HeapLimits{}, config());
  std::string invariant;
  EXPECT_FALSE(churn(heap, 64, &invariant));
  EXPECT_EQ(invariant, "generations count frees");
  EXPECT_GT(faultTriggered(Fault::GenerationNotBumped), 0u);
}

TEST_F(HeapFaultTest, FreeListDoublePushIsADuplicateOnTheFreeList) {
  REQUIRE_FAULTS();
  FaultScope scope("free-list-double-push");
  SlabHeap heap(store_, HeapLimits{}, config());
  // Nodes 0..63 with the even ones kept: node 63, the last slot handed
  // out, dies and goes on the free list twice.
  std::string invariant;
  EXPECT_FALSE(churn(heap, 64, &invariant));
  EXPECT_EQ(invariant, "free list holds no duplicates");
  EXPECT_EQ(faultTriggered(Fault::FreeListDoublePush), 1u);
}

TEST_F(HeapFaultTest, SideTableSlabReleasedLeavesADeadEntryInTheIndex) {
  REQUIRE_FAULTS();
  FaultScope scope("side-table-slab-released");
  SlabHeap heap(store_, HeapLimits{}, config());
  Value f[] = {Value::ref(Ref::func(5))};
  ASSERT_TRUE(heap.newStruct(ids_[2], f).ok());
  VecRoots none;
  heap.collect(none);  // the holder dies, and its side entry with it
  EXPECT_GT(faultTriggered(Fault::SideTableSlabReleased), 0u);
  EXPECT_FALSE(heap.verify(none));
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->invariant, "side entries == interned entries");
}

TEST_F(HeapFaultTest, RefWriteSkipsSideTableIsAnIdThatDoesNotResolve) {
  REQUIRE_FAULTS();
  FaultScope scope("ref-write-skips-side-table");
  SlabHeap heap(store_, HeapLimits{}, config());
  Value f[] = {Value::ref(Ref::null())};
  Ref holder = heap.newStruct(ids_[2], f).value();
  heap.structSet(holder, 0, Value::ref(Ref::func(5)));
  EXPECT_EQ(faultTriggered(Fault::RefWriteSkipsSideTable), 1u);
  (void)heap.structGet(holder, 0);
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_NE(heap.violation()->kind, HeapViolationKind::Verify);
}

TEST_F(HeapFaultTest, ArrayNewLengthOverflowWrapsTheSizeInsteadOfTrapping) {
  REQUIRE_FAULTS();
  constexpr uint32_t kHuge = 0x20000001;  // 8-byte elements: 2^32 + 8 bytes
  {
    SlabHeap heap(store_, HeapLimits{}, config());
    auto r = heap.newArray(ids_[1], kHuge, Value::i64(0));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), TrapKind::ArrayTooLarge);
  }
  FaultScope scope("array-new-length-overflow");
  SlabHeap heap(store_, HeapLimits{}, config());
  auto r = heap.newArray(ids_[1], kHuge, Value::i64(0));
  ASSERT_TRUE(r.ok());  // a small slot whose header claims 2^29 + 1 elements
  EXPECT_EQ(heap.arrayLength(r.value()), kHuge);
  EXPECT_EQ(faultTriggered(Fault::ArrayNewLengthOverflow), 1u);
}

}  // namespace
}  // namespace slabfuzz
