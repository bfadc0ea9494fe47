// Numeric helpers with the spec's exact edge cases (spec 4.3.2-4.3.4):
// float min/max (NaN propagation, -0 < +0), truncation ranges for the
// trapping and saturating conversions. Owns nothing else; the interpreter
// and constant folding share these.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace slabfuzz::num {

// fmin/fmax: a NaN operand gives a NaN (quieted, payload kept where the
// hardware keeps it: an arithmetic NaN, as the spec allows); -0 < +0.
template <typename F>
inline F fmin(F x, F y) {
  if (std::isnan(x) || std::isnan(y)) return x + y;
  if (x == y) return std::signbit(x) ? x : y;  // min(-0, +0) = -0
  return x < y ? x : y;
}
template <typename F>
inline F fmax(F x, F y) {
  if (std::isnan(x) || std::isnan(y)) return x + y;
  if (x == y) return std::signbit(x) ? y : x;  // max(-0, +0) = +0
  return x > y ? x : y;
}

// Exclusive bounds on the float value for trunc to I (spec 4.3.4 trunc):
// the result of truncation must lie in I's range. Computed in double, which
// holds every f32 exactly and every bound below exactly.
template <typename I>
constexpr double truncLower() {
  if constexpr (std::is_unsigned_v<I>) return -1.0;
  else if constexpr (sizeof(I) == 4) return -2147483649.0;
  else return -9223372036854777856.0;  // next double below -2^63
}
template <typename I>
constexpr double truncUpper() {
  if constexpr (sizeof(I) == 4) return std::is_unsigned_v<I> ? 4294967296.0 : 2147483648.0;
  else return std::is_unsigned_v<I> ? 18446744073709551616.0 : 9223372036854775808.0;
}

enum class TruncResult : uint8_t { Ok, NaN, Overflow };

// trunc (trapping form): NaN -> invalid conversion, out of range -> overflow.
template <typename I, typename F>
inline TruncResult truncChecked(F x, I& out) {
  if (std::isnan(x)) return TruncResult::NaN;
  double d = static_cast<double>(x);
  if (!(d > truncLower<I>() && d < truncUpper<I>())) return TruncResult::Overflow;
  out = static_cast<I>(d);
  return TruncResult::Ok;
}

// trunc_sat: NaN -> 0, clamped to I's range (spec 4.3.4 trunc_sat).
template <typename I, typename F>
inline I truncSat(F x) {
  if (std::isnan(x)) return 0;
  double d = static_cast<double>(x);
  if (!(d > truncLower<I>())) return std::numeric_limits<I>::min();
  if (!(d < truncUpper<I>())) return std::numeric_limits<I>::max();
  return static_cast<I>(d);
}

}  // namespace slabfuzz::num
