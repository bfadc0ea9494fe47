#include "runtime/host/binaryen_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <string_view>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace slabfuzz {
namespace {

// printf's "%.*e" / "%.*f" of `d`. std::to_chars with a precision is
// specified to print exactly what printf does (both correctly rounded) and
// costs a fraction of it; `via_printf` takes printf itself (the plain
// search, which the tests hold the fast one against).
std::string printDouble(bool scientific, int precision, double d, bool via_printf) {
  char buf[512];
  if (via_printf) {
    std::snprintf(buf, sizeof buf, scientific ? "%.*e" : "%.*f", precision, d);
    return buf;
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d,
                                 scientific ? std::chars_format::scientific : std::chars_format::fixed,
                                 precision);
  (void)ec;  // 512 bytes hold any double with at most 18 decimals
  return std::string(buf, end);
}

// What strtod reads from `s` (correctly rounded either way).
double readDouble(const std::string& s, bool via_strtod) {
  if (via_strtod) return std::strtod(s.c_str(), nullptr);
  double d = 0;
  std::from_chars(s.data(), s.data() + s.size(), d);
  return d;
}

// "12345000" -> "12345e3": a run of at least three trailing zeros becomes an
// exponent. Digits past the 25th are dropped as if they were zeros (a double
// has no more significant digits than that), so huge integers print short.
void compressTrailingZeros(std::string& s) {
  size_t end = s.size() - 1;
  size_t t = end;
  while (t > 0 && (s[t] == '0' || t > 24)) --t;
  size_t dropped = end - t;
  if (dropped >= 3) {
    s.resize(t + 1);
    s += 'e';
    s += std::to_string(dropped);
  }
}

// "1.500000e+01" -> "1.5e+01", "1.000000e+300" -> "1.e+300", "0.25" -> ".25".
void stripZerosAroundDot(std::string& s, size_t dot) {
  size_t last = dot;
  while (last + 1 < s.size() && s[last + 1] >= '0' && s[last + 1] <= '9') ++last;
  size_t first_zero = last + 1;
  while (first_zero > dot + 1 && s[first_zero - 1] == '0') --first_zero;
  s.erase(first_zero, last + 1 - first_zero);
  size_t lead = 0;
  while (lead < s.size() && s[lead] == '0') ++lead;
  s.erase(0, lead);
}

// The shortest decimal that reads back as `d` (finite, positive), as
// d.ddd x 10^exponent with `digits` significant digits.
struct Shortest {
  int digits = 1;
  int exponent = 0;
};
Shortest shortestOf(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  (void)ec;  // 64 bytes hold any double
  std::string_view text(buf, static_cast<size_t>(end - buf));
  size_t e = text.find('e');
  Shortest out;
  out.digits = static_cast<int>(e == 1 ? 1 : e - 1);  // "d" or "d.ddd"
  std::from_chars(text.data() + e + (text[e + 1] == '+' ? 2 : 1), end, out.exponent);
  return out;
}

// Binaryen prints doubles through the asm.js printer of Emscripten's optimiser
// (cashew's numToString): a fixed and a scientific candidate, each at the
// smallest precision that reads back exactly, tidied, and the more exact (or,
// when equally exact, the strictly shorter scientific) one wins.
// `exhaustive` searches precisions from 0, as Binaryen does (the test of the
// shortcut; see binaryen_format.h).
std::string formatPositive(double d, bool exhaustive) {
  const bool integer = std::trunc(d) == d;
  const Shortest shortest = integer || exhaustive ? Shortest{1, 0} : shortestOf(d);
  constexpr double kTwo64 = 18446744073709551616.0;
  std::string text[2];
  double error[2];
  for (int sci = 0; sci <= 1; ++sci) {
    std::string s;
    if (!integer) {
      // No precision below the shortest round trip's can read back, so the
      // search starts there (the same result as starting at 0, without
      // a dozen failed prints per number).
      const int from =
          exhaustive ? 0 : sci ? shortest.digits - 1 : shortest.digits - shortest.exponent - 1;
      for (int precision = std::clamp(from, 0, 18);
           precision <= 18; ++precision) {
        s = printDouble(sci, precision, d, exhaustive);
        if (readDouble(s, exhaustive) == d) break;
      }
    } else if (d <= kTwo64) {
      // Integers that fit 64 bits print as such, both ways (2^64 itself
      // saturates, as Binaryen's toUInteger64 does).
      uint64_t u = d >= kTwo64 ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(d);
      s = std::to_string(u);
    } else {
      s = sci ? printDouble(true, 6, d, exhaustive) : printDouble(false, 0, d, exhaustive);
    }
    error[sci] = std::fabs(readDouble(s, exhaustive) - d);
    size_t dot = s.find('.');
    if (dot != std::string::npos) {
      stripZerosAroundDot(s, dot);
    } else if (!integer || !sci) {
      compressTrailingZeros(s);
    }
    text[sci] = std::move(s);
  }
  if (error[0] == error[1]) return text[1].size() < text[0].size() ? text[1] : text[0];
  return error[1] < error[0] ? text[1] : text[0];
}

std::string formatF64(double d, bool exhaustive) {
  uint64_t bits = std::bit_cast<uint64_t>(d);
  bool negative = (bits >> 63) != 0;
  if (std::isnan(d)) {
    uint64_t payload = bits & 0x000FFFFFFFFFFFFFull;
    return fmt::format("{}nan:0x{:x}", negative ? "-" : "", payload);
  }
  if (d == 0) return negative ? "-0" : "0";
  if (std::isinf(d)) return negative ? "-inf" : "inf";
  std::string s = formatPositive(std::fabs(d), exhaustive);
  // Binaryen puts back a leading zero before a bare '.'.
  if (s[0] == '.') s.insert(0, 1, '0');
  return negative ? "-" + s : s;
}

}  // namespace

std::string formatBinaryenF64(double d) { return formatF64(d, false); }
std::string formatBinaryenF64Exhaustive(double d) { return formatF64(d, true); }

std::string formatBinaryenF32(float f) {
  uint32_t bits = std::bit_cast<uint32_t>(f);
  if (std::isnan(f)) {
    return fmt::format("{}nan:0x{:x}", (bits >> 31) ? "-" : "", bits & 0x7FFFFFu);
  }
  return formatBinaryenF64(static_cast<double>(f));
}

std::string formatBinaryenValue(Value value, ValType type) {
  switch (type.kind()) {
    case ValKind::I32:
    case ValKind::I8:
    case ValKind::I16: return std::to_string(value.i32());
    case ValKind::I64: return std::to_string(value.i64());
    case ValKind::F32: return formatBinaryenF32(value.f32());
    case ValKind::F64: return formatBinaryenF64(value.f64());
    case ValKind::V128: return "v128";  // out of scope; never reached by a valid module here
    case ValKind::Ref: break;
  }
  // References print by what JS could see of them: the bits say which kind
  // of reference it is, whatever its static type (an externalised i31 is an
  // i31ref, an externalised struct an object).
  Ref r = value.ref();
  if (r.isNull()) return "null";
  if (r.isI31()) return fmt::format("i31ref({})", r.i31Signed());
  if (r.isFunc()) return "function";
  if (r.isHost()) {
    if (r.hostPayload() == kJsErrorPayload) return "jserror";
    return fmt::format("externref({})", r.hostPayload());
  }
  // A GC object; its JS prototype is always null without custom descriptors.
  return "object(null)";
}

}  // namespace slabfuzz
