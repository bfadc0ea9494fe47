// Unit tests for spec_values.h: text-format number literals, action
// arguments, and the result patterns of assert_return.
#include "tests/spec/spec_values.h"

#include <gtest/gtest.h>

#include <bit>

#include "heap/reference_heap.h"

namespace slabfuzz::spec {
namespace {

wast::Sexpr parse1(const std::string& text) {
  // An assert_return whose single expected result is `text`.
  auto script = wast::parseScript("(assert_return (invoke \"f\") " + text + ")");
  EXPECT_TRUE(script.ok());
  return script.value().commands.at(0).results.at(0);
}

TEST(SpecValues, Integers) {
  EXPECT_EQ(parseI32("0"), 0u);
  EXPECT_EQ(parseI32("-1"), 0xFFFFFFFFu);
  EXPECT_EQ(parseI32("0xffff_ffff"), 0xFFFFFFFFu);
  EXPECT_EQ(parseI32("-0x8000_0000"), 0x80000000u);
  EXPECT_EQ(parseI32("4294967296"), std::nullopt);
  EXPECT_EQ(parseI32("-2147483649"), std::nullopt);
  EXPECT_EQ(parseI32("1x"), std::nullopt);
  EXPECT_EQ(parseI64("-9223372036854775808"), 0x8000000000000000ull);
  EXPECT_EQ(parseI64("18446744073709551615"), ~0ull);
  EXPECT_EQ(parseI64("18446744073709551616"), std::nullopt);
}

TEST(SpecValues, Floats) {
  EXPECT_EQ(parseF32Bits("0x1p-149"), 1u);
  EXPECT_EQ(parseF32Bits("-0"), 0x80000000u);
  EXPECT_EQ(parseF32Bits("nan"), 0x7FC00000u);
  EXPECT_EQ(parseF32Bits("-nan:0x200000"), 0xFFA00000u);
  EXPECT_EQ(parseF32Bits("inf"), 0x7F800000u);
  EXPECT_EQ(parseF32Bits("1e39"), std::nullopt);          // out of range is malformed
  EXPECT_EQ(parseF32Bits("nan:0x800000"), std::nullopt);  // payload too wide
  EXPECT_EQ(parseF64Bits("0x1.fffffffffffffp+1023"), 0x7FEFFFFFFFFFFFFFull);
  EXPECT_EQ(parseF64Bits("-0x0.0000000000000p-1022"), 0x8000000000000000ull);
  EXPECT_EQ(parseF64Bits("nan:0x4"), 0x7FF0000000000004ull);
  EXPECT_EQ(parseF64Bits("1_000.5"), std::bit_cast<uint64_t>(1000.5));
}

TEST(SpecValues, Arguments) {
  EXPECT_EQ(parseArg(parse1("(i32.const -3)")).value.i32(), -3);
  EXPECT_TRUE(parseArg(parse1("(ref.null any)")).value.ref().isNull());
  EXPECT_EQ(parseArg(parse1("(ref.extern 7)")).value.ref(), Ref::host(7));
  EXPECT_EQ(parseArg(parse1("(ref.host 7)")).value.ref(), Ref::host(7));
  ArgValue simd = parseArg(parse1("(v128.const i32x4 0 0 0 0)"));
  EXPECT_TRUE(simd.out_of_scope);
  EXPECT_FALSE(parseArg(parse1("(i32.const x)")).error.empty());
}

TEST(SpecValues, Patterns) {
  TypeStore types;
  ReferenceHeap heap(types);
  std::string why;
  auto m = [&](const std::string& expected, Value v) {
    return matches(parse1(expected), v, heap, &why);
  };
  EXPECT_EQ(m("(i32.const -1)", Value::i32(-1)), true);
  EXPECT_EQ(m("(i32.const 1)", Value::i32(2)), false);
  EXPECT_EQ(m("(f32.const nan:canonical)", Value::f32Bits(0xFFC00000u)), true);
  EXPECT_EQ(m("(f32.const nan:canonical)", Value::f32Bits(0x7FC00001u)), false);
  EXPECT_EQ(m("(f32.const nan:arithmetic)", Value::f32Bits(0x7FC00001u)), true);
  EXPECT_EQ(m("(f32.const nan:arithmetic)", Value::f32Bits(0x7F800001u)), false);
  EXPECT_EQ(m("(f64.const nan:canonical)", Value::f64Bits(0x7FF8000000000000ull)), true);
  EXPECT_EQ(m("(f64.const -0)", Value::f64(0.0)), false);  // bits, not ==
  EXPECT_EQ(m("(ref.null func)", Value::ref(Ref::null())), true);
  EXPECT_EQ(m("(ref.extern 3)", Value::ref(Ref::host(3))), true);
  EXPECT_EQ(m("(ref.extern 3)", Value::ref(Ref::host(4))), false);
  EXPECT_EQ(m("(ref.extern)", Value::ref(Ref::i31(1))), true);  // any non-null externref
  EXPECT_EQ(m("(ref.func)", Value::ref(Ref::func(2))), true);
  EXPECT_EQ(m("(ref.i31)", Value::ref(Ref::i31(2))), true);
  EXPECT_EQ(m("(ref.eq)", Value::ref(Ref::i31(2))), true);
  EXPECT_EQ(m("(ref.eq)", Value::ref(Ref::host(2))), false);
  EXPECT_EQ(m("(either (i32.const 1) (i32.const 2))", Value::i32(2)), true);
  EXPECT_EQ(m("(either (i32.const 1) (i32.const 2))", Value::i32(3)), false);
  EXPECT_EQ(m("(v128.const i32x4 0 0 0 0)", Value()), std::nullopt);
}

}  // namespace
}  // namespace slabfuzz::spec
