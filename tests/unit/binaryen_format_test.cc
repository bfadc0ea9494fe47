// Unit tests for runtime/host/binaryen_format.h. Every expectation below is
// what `wasm-opt --fuzz-exec-before` (Binaryen 132) printed for the same
// value when logged through fuzzing-support.
#include "runtime/host/binaryen_format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <random>
#include <cstdint>

namespace slabfuzz {
namespace {

TEST(BinaryenFormat, F64) {
  EXPECT_EQ(formatBinaryenF64(0.1), "0.1");
  EXPECT_EQ(formatBinaryenF64(-0.0), "-0");
  EXPECT_EQ(formatBinaryenF64(0.0), "0");
  EXPECT_EQ(formatBinaryenF64(std::bit_cast<double>(0x7FF8000000000000ull)), "nan:0x8000000000000");
  EXPECT_EQ(formatBinaryenF64(std::bit_cast<double>(0x7FF8000000000008ull)), "nan:0x8000000000008");
  EXPECT_EQ(formatBinaryenF64(std::bit_cast<double>(0xFFF8000000000000ull)),
            "-nan:0x8000000000000");
  EXPECT_EQ(formatBinaryenF64(1e300), "1.e+300");
  EXPECT_EQ(formatBinaryenF64(1e21), "1e21");
  EXPECT_EQ(formatBinaryenF64(1e-7), "1e-07");
  EXPECT_EQ(formatBinaryenF64(123456789012.0), "123456789012");
  EXPECT_EQ(formatBinaryenF64(5e-324), "5e-324");
  EXPECT_EQ(formatBinaryenF64(1000), "1e3");
  EXPECT_EQ(formatBinaryenF64(100), "100");
  EXPECT_EQ(formatBinaryenF64(123000), "123e3");
  EXPECT_EQ(formatBinaryenF64(1e19), "1e19");
  EXPECT_EQ(formatBinaryenF64(18446744073709551616.0), "18446744073709551615");
  EXPECT_EQ(formatBinaryenF64(1e22), "1e22");
  EXPECT_EQ(formatBinaryenF64(0.5), "0.5");
  EXPECT_EQ(formatBinaryenF64(-0.5), "-0.5");
  EXPECT_EQ(formatBinaryenF64(1.5e-5), "0.000015");
  EXPECT_EQ(formatBinaryenF64(123.456), "123.456");
  EXPECT_EQ(formatBinaryenF64(-1e-300), "-1e-300");
  EXPECT_EQ(formatBinaryenF64(2.2250738585072014e-308), "2.2250738585072014e-308");
  EXPECT_EQ(formatBinaryenF64(1.7976931348623157e308), "1797693134862315708145274e284");
  EXPECT_EQ(formatBinaryenF64(4503599627370496.5), "4503599627370496");
  EXPECT_EQ(formatBinaryenF64(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(formatBinaryenF64(0.599), "0.599");
  EXPECT_EQ(formatBinaryenF64(8589934592.0), "8589934592");
  EXPECT_EQ(formatBinaryenF64(-std::numeric_limits<double>::infinity()), "-inf");
}

// The precision search starts at the shortest round trip's precision; it
// must pick exactly what the search from 0 picks, across magnitudes (fixed
// and scientific candidates both), f32 values and awkward digit strings.
TEST(BinaryenFormat, ShortcutMatchesExhaustiveSearch) {
  std::mt19937_64 rng(20261127);
  auto check = [](double d) {
    ASSERT_EQ(formatBinaryenF64(d), formatBinaryenF64Exhaustive(d)) << std::hexfloat << d;
  };
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double d = std::bit_cast<double>(bits);
    if (std::isfinite(d)) check(d);
    // Magnitudes where fixed notation competes: 1e-20 .. 1e20.
    double m = std::ldexp(static_cast<double>(bits >> 11), -53) * std::pow(10.0, static_cast<int>(bits % 41) - 20);
    check(m);
    check(static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits))));
  }
  for (double d : {0.1, 0.3, 1.0 / 3, 2.0 / 3, 9.95, 0.095, 99.999999999999, 1e-5, 1.5e-5, 123.456,
                   4503599627370496.5, 0.30000000000000004, 5e-324, 1e-19, 9.999999999999999e-20})
    check(d);
}

TEST(BinaryenFormat, F32) {
  EXPECT_EQ(formatBinaryenF32(0.1f), "0.10000000149011612");
  EXPECT_EQ(formatBinaryenF32(-0.0f), "-0");
  EXPECT_EQ(formatBinaryenF32(std::bit_cast<float>(0x7FC00000u)), "nan:0x400000");
  EXPECT_EQ(formatBinaryenF32(std::bit_cast<float>(0xFF801234u)), "-nan:0x1234");
  EXPECT_EQ(formatBinaryenF32(std::numeric_limits<float>::infinity()), "inf");
  EXPECT_EQ(formatBinaryenF32(1e20f), "100000002004087734272");
  EXPECT_EQ(formatBinaryenF32(1e-7f), "1.0000000116860974e-07");
  EXPECT_EQ(formatBinaryenF32(123456789.0f), "123456792");
  EXPECT_EQ(formatBinaryenF32(3.0f), "3");
}

TEST(BinaryenFormat, Values) {
  const ValType any = ValType::ref(HeapType::abstract(HeapType::Any), true);
  const ValType ext = ValType::ref(HeapType::abstract(HeapType::Extern), true);
  EXPECT_EQ(formatBinaryenValue(Value::i32(-1), ValType::i32()), "-1");
  EXPECT_EQ(formatBinaryenValue(Value::i64(562949953421312), ValType::i64()), "562949953421312");
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::null()), any), "null");
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::i31(static_cast<uint32_t>(-7))), any),
            "i31ref(-7)");
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::object(1)), any), "object(null)");
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::func(0)), any), "function");
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::host(105)), ext), "externref(105)");
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::host(kJsErrorPayload)), ext), "jserror");
  // Externalised internal references print as what they are.
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::i31(9)), ext), "i31ref(9)");
  EXPECT_EQ(formatBinaryenValue(Value::ref(Ref::object(3)), ext), "object(null)");
}

}  // namespace
}  // namespace slabfuzz
