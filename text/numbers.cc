// Numeric literals of the text format (spec 6.3.1): see numbers.h.
#include "text/numbers.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

namespace slabfuzz::wat {
namespace {

bool isDigit(char c, bool hex) {
  if (c >= '0' && c <= '9') return true;
  return hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
}

// num / hexnum: digit ('_'? digit)*. Returns the end, or npos when there
// is no digit at `i` or an underscore is not between two digits.
size_t digitsEnd(std::string_view s, size_t i, bool hex) {
  if (i >= s.size() || !isDigit(s[i], hex)) return std::string_view::npos;
  ++i;
  while (i < s.size()) {
    if (isDigit(s[i], hex)) {
      ++i;
    } else if (s[i] == '_' && i + 1 < s.size() && isDigit(s[i + 1], hex)) {
      i += 2;
    } else {
      break;
    }
  }
  return i;
}

size_t skipSign(std::string_view s) {
  return !s.empty() && (s[0] == '+' || s[0] == '-') ? 1 : 0;
}

// The magnitude part of a float (after the sign), without inf/nan.
bool isFloatMagnitude(std::string_view s) {
  const bool hex = s.size() > 2 && s[0] == '0' && s[1] == 'x';
  size_t i = digitsEnd(s, hex ? 2 : 0, hex);
  if (i == std::string_view::npos) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (i < s.size() && isDigit(s[i], hex)) {
      i = digitsEnd(s, i, hex);
      if (i == std::string_view::npos) return false;
    }
  }
  if (i < s.size() && (hex ? (s[i] == 'p' || s[i] == 'P') : (s[i] == 'e' || s[i] == 'E'))) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    i = digitsEnd(s, i, false);
    if (i == std::string_view::npos) return false;
  }
  return i == s.size();
}

bool isIntMagnitude(std::string_view s) {
  const bool hex = s.size() > 2 && s[0] == '0' && s[1] == 'x';
  return digitsEnd(s, hex ? 2 : 0, hex) == s.size();
}

// The value of an integer magnitude, or nullopt past 2^64 - 1.
std::optional<uint64_t> magnitude(std::string_view s) {
  if (!isIntMagnitude(s)) return std::nullopt;
  const bool hex = s.size() > 2 && s[0] == '0' && s[1] == 'x';
  const uint64_t base = hex ? 16 : 10;
  uint64_t v = 0;
  for (size_t i = hex ? 2 : 0; i < s.size(); ++i) {
    if (s[i] == '_') continue;
    char c = s[i];
    uint64_t d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (v > (UINT64_MAX - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

std::string withoutUnderscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// Shared float parsing: the bit pattern of a `Bits`-wide IEEE float.
template <typename F, typename U, int MantBits, int Bits>
std::optional<U> parseFloat(std::string_view token) {
  const size_t sign_len = skipSign(token);
  const bool negative = sign_len == 1 && token[0] == '-';
  std::string_view mag = token.substr(sign_len);
  const U sign_bit = negative ? (U{1} << (Bits - 1)) : 0;
  const U exp_all = ((U{1} << (Bits - 1 - MantBits)) - 1) << MantBits;
  if (mag == "inf") return sign_bit | exp_all;
  if (mag == "nan") return sign_bit | exp_all | (U{1} << (MantBits - 1));  // canonical NaN
  if (mag.starts_with("nan:0x")) {
    std::optional<uint64_t> payload = magnitude(mag.substr(4));
    // The payload must be non-zero and fit the significand (spec 6.3.1).
    if (!payload || *payload == 0 || *payload >= (uint64_t{1} << MantBits)) return std::nullopt;
    return sign_bit | exp_all | static_cast<U>(*payload);
  }
  if (!isFloatMagnitude(mag)) return std::nullopt;
  // strtof/strtod round correctly (glibc converts exactly, decimal and hex
  // alike), and strtof rounds straight to binary32, never through binary64.
  std::string clean = withoutUnderscores(token);
  errno = 0;
  char* end = nullptr;
  F value;
  if constexpr (Bits == 32) {
    value = std::strtof(clean.c_str(), &end);
  } else {
    value = std::strtod(clean.c_str(), &end);
  }
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  if (std::isinf(value)) return std::nullopt;  // rounds past the largest finite value
  U bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

}  // namespace

bool isNumberSyntax(std::string_view token) {
  std::string_view mag = token.substr(skipSign(token));
  if (mag == "inf" || mag == "nan") return true;
  if (mag.starts_with("nan:0x")) return isIntMagnitude(mag.substr(4));
  return isFloatMagnitude(mag);
}

std::optional<uint64_t> parseUnsigned(std::string_view token, int bits) {
  std::optional<uint64_t> v = magnitude(token);
  if (!v) return std::nullopt;
  if (bits < 64 && *v >= (uint64_t{1} << bits)) return std::nullopt;
  return v;
}

std::optional<uint64_t> parseInt(std::string_view token, int bits) {
  const size_t sign_len = skipSign(token);
  if (sign_len == 0) return parseUnsigned(token, bits);
  std::optional<uint64_t> v = magnitude(token.substr(1));
  if (!v) return std::nullopt;
  const uint64_t limit = uint64_t{1} << (bits - 1);  // 2^(N-1)
  const uint64_t mask = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  if (token[0] == '-') {
    if (*v > limit) return std::nullopt;
    return (~*v + 1) & mask;
  }
  if (*v >= limit) return std::nullopt;
  return *v;
}

std::optional<uint32_t> parseF32(std::string_view token) {
  return parseFloat<float, uint32_t, 23, 32>(token);
}

std::optional<uint64_t> parseF64(std::string_view token) {
  return parseFloat<double, uint64_t, 52, 64>(token);
}

}  // namespace slabfuzz::wat
