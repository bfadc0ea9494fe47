// Unit tests for heap/reference_heap.h: ids, types, packed truncation,
// reference fields, bulk operations, limits as traps, stats, and the loud
// stop on ids that are not the heap's (a runtime bug, never a module's).
#include "heap/reference_heap.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "runtime/decode.h"
#include "tests/support/wasm_bytes.h"

namespace slabfuzz {
namespace {

using test::Bytes;

// Types 0..4: struct {i8 mut, i16 mut, i32, i64 mut, f64, funcref mut},
// array i8 mut, array i16 mut, array (ref null any) mut, array i64 mut.
Bytes typesModule() {
  Bytes types;
  types.u32(5);
  types.raw({kCodeStruct, 6, kCodeI8, 1, kCodeI16, 1, kCodeI32, 0, kCodeI64, 1, kCodeF64, 0,
             kCodeRefNull, HeapType::Func, 1});
  types.raw({kCodeArray, kCodeI8, 1});
  types.raw({kCodeArray, kCodeI16, 1});
  types.raw({kCodeArray, kCodeRefNull, HeapType::Any, 1});
  types.raw({kCodeArray, kCodeI64, 1});
  Bytes m = Bytes::header();
  return m.section(1, types);
}

class ReferenceHeapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto decoded = decodeModule(typesModule().data());
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    module_ = std::make_unique<Module>(std::move(decoded).value());
    auto types = canonicalizeTypes(*module_, store_);
    ASSERT_TRUE(types.ok()) << types.error().toString();
    for (uint32_t i = 0; i < 5; ++i) ids_.push_back(types->canon(i));
  }
  CanonTypeId structT() const { return ids_[0]; }
  CanonTypeId i8Array() const { return ids_[1]; }
  CanonTypeId i16Array() const { return ids_[2]; }
  CanonTypeId refArray() const { return ids_[3]; }
  CanonTypeId i64Array() const { return ids_[4]; }

  TypeStore store_;
  std::unique_ptr<Module> module_;
  std::vector<CanonTypeId> ids_;
};

std::vector<Value> structFields() {
  return {Value::i32(0x1FF), Value::i32(-1),   Value::i32(-7),
          Value::i64(-2),    Value::f64(-0.0), Value::ref(Ref::func(3))};
}

TEST_F(ReferenceHeapTest, IdsCountUpFromOneAndRecordTypes) {
  ReferenceHeap heap(store_);
  auto a = heap.newStruct(structT(), structFields());
  auto b = heap.newArray(i8Array(), 3, Value::i32(1));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(a.value().isObject());
  EXPECT_EQ(a.value().heapId(), 1u);
  EXPECT_EQ(b.value().heapId(), 2u);
  EXPECT_EQ(heap.typeOf(a.value()), structT());
  EXPECT_EQ(heap.typeOf(b.value()), i8Array());
}

TEST_F(ReferenceHeapTest, StructFieldsKeepValuesAndTruncatePacked) {
  ReferenceHeap heap(store_);
  Ref s = heap.newStruct(structT(), structFields()).value();
  EXPECT_EQ(heap.structGet(s, 0).bits(), 0xFFu);    // low 8 bits, zero-extended
  EXPECT_EQ(heap.structGet(s, 1).bits(), 0xFFFFu);  // low 16 bits
  EXPECT_EQ(heap.structGet(s, 2).i32(), -7);
  EXPECT_EQ(heap.structGet(s, 3).i64(), -2);
  EXPECT_EQ(heap.structGet(s, 4).f64Bits(), Value::f64(-0.0).f64Bits());  // sign kept
  EXPECT_EQ(heap.structGet(s, 5).ref(), Ref::func(3));
  heap.structSet(s, 0, Value::i32(0x12345678));
  EXPECT_EQ(heap.structGet(s, 0).bits(), 0x78u);
  heap.structSet(s, 5, Value::ref(Ref::null()));
  EXPECT_TRUE(heap.structGet(s, 5).ref().isNull());
}

TEST_F(ReferenceHeapTest, NaNPayloadsSurvive) {
  ReferenceHeap heap(store_);
  std::vector<Value> f = structFields();
  f[4] = Value::f64Bits(0x7FF0000000000001ull);  // signalling NaN payload
  Ref s = heap.newStruct(structT(), f).value();
  EXPECT_EQ(heap.structGet(s, 4).f64Bits(), 0x7FF0000000000001ull);
}

TEST_F(ReferenceHeapTest, ArraysFillGetSetAndTruncate) {
  ReferenceHeap heap(store_);
  Ref a = heap.newArray(i16Array(), 4, Value::i32(0x12345)).value();
  EXPECT_EQ(heap.arrayLength(a), 4u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(heap.arrayGet(a, i).bits(), 0x2345u);
  heap.arraySet(a, 2, Value::i32(-1));
  EXPECT_EQ(heap.arrayGet(a, 2).bits(), 0xFFFFu);
  heap.arrayFill(a, 1, Value::i32(7), 2);
  EXPECT_EQ(heap.arrayGet(a, 0).bits(), 0x2345u);
  EXPECT_EQ(heap.arrayGet(a, 1).bits(), 7u);
  EXPECT_EQ(heap.arrayGet(a, 2).bits(), 7u);
  EXPECT_EQ(heap.arrayGet(a, 3).bits(), 0x2345u);
}

TEST_F(ReferenceHeapTest, NewArrayFromKeepsOrder) {
  ReferenceHeap heap(store_);
  std::vector<Value> elems = {Value::ref(Ref::i31(5)), Value::ref(Ref::null()),
                              Value::ref(Ref::host(9))};
  Ref a = heap.newArrayFrom(refArray(), elems).value();
  ASSERT_EQ(heap.arrayLength(a), 3u);
  EXPECT_EQ(heap.arrayGet(a, 0).ref(), Ref::i31(5));
  EXPECT_TRUE(heap.arrayGet(a, 1).ref().isNull());
  EXPECT_EQ(heap.arrayGet(a, 2).ref(), Ref::host(9));
  Ref empty = heap.newArrayFrom(refArray(), {}).value();
  EXPECT_EQ(heap.arrayLength(empty), 0u);
}

TEST_F(ReferenceHeapTest, ArrayCopyHandlesOverlapBothWays) {
  ReferenceHeap heap(store_);
  std::vector<Value> init;
  for (int i = 0; i < 6; ++i) init.push_back(Value::i64(i));
  Ref a = heap.newArrayFrom(i64Array(), init).value();
  heap.arrayCopy(a, 1, a, 0, 4);  // forward overlap: 0 0 1 2 3 5
  std::vector<int64_t> want = {0, 0, 1, 2, 3, 5};
  for (uint32_t i = 0; i < 6; ++i) EXPECT_EQ(heap.arrayGet(a, i).i64(), want[i]) << i;
  heap.arrayCopy(a, 0, a, 2, 4);  // backward overlap: 1 2 3 5 3 5
  want = {1, 2, 3, 5, 3, 5};
  for (uint32_t i = 0; i < 6; ++i) EXPECT_EQ(heap.arrayGet(a, i).i64(), want[i]) << i;
  Ref b = heap.newArray(i64Array(), 2, Value::i64(-1)).value();
  heap.arrayCopy(b, 0, a, 4, 2);
  EXPECT_EQ(heap.arrayGet(b, 0).i64(), 3);
  EXPECT_EQ(heap.arrayGet(b, 1).i64(), 5);
  heap.arrayCopy(b, 2, a, 6, 0);  // empty copy at the end is fine
}

TEST_F(ReferenceHeapTest, LimitsAreTraps) {
  HeapLimits limits;
  limits.max_bytes = 1000;
  limits.max_array_length = 100;
  ReferenceHeap heap(store_, limits);
  auto too_long = heap.newArray(i8Array(), 101, Value());
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error(), TrapKind::ArrayTooLarge);
  auto huge = heap.newArray(i64Array(), UINT32_MAX, Value());
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error(), TrapKind::ArrayTooLarge);
  // 100 i64 elements = 800 bytes + header fits once, not twice.
  ASSERT_TRUE(heap.newArray(i64Array(), 100, Value()).ok());
  auto second = heap.newArray(i64Array(), 100, Value());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error(), TrapKind::HeapExhausted);
  EXPECT_EQ(heap.stats().live_bytes, ReferenceHeap::kHeaderBytes + 800);
}

TEST_F(ReferenceHeapTest, Stats) {
  ReferenceHeap heap(store_);
  (void)heap.newStruct(structT(), structFields());
  (void)heap.newArray(i8Array(), 10, Value());
  HeapStats s = heap.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.live_objects, 2u);
  // struct: 1 + 2 + 4 + 8 + 8 + 8 bytes of fields; array: 10 bytes.
  EXPECT_EQ(s.live_bytes, 2 * ReferenceHeap::kHeaderBytes + 31 + 10);
  EXPECT_EQ(s.collections, 0u);
}

using ReferenceHeapDeathTest = ReferenceHeapTest;

TEST_F(ReferenceHeapDeathTest, ForeignIdsAreRuntimeBugs) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ReferenceHeap heap(store_);
  Ref s = heap.newStruct(structT(), structFields()).value();
  EXPECT_DEATH((void)heap.typeOf(Ref::object(2)), "id names no object of this heap");
  EXPECT_DEATH((void)heap.typeOf(Ref::i31(1)), "not a heap object reference");
  EXPECT_DEATH((void)heap.arrayLength(s), "is a struct, not an array");
  EXPECT_DEATH((void)heap.structGet(s, 6), "field 6 out of range");
}

}  // namespace
}  // namespace slabfuzz
