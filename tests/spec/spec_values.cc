#include "tests/spec/spec_values.h"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdlib>

namespace slabfuzz::spec {
namespace {

// The text without `_` separators; nullopt if one is misplaced.
std::string stripUnderscores(std::string_view text) {
  std::string s;
  for (char c : text)
    if (c != '_') s += c;
  return s;
}

// Sign and magnitude of an integer literal, the magnitude up to 2^64 - 1.
struct IntLit {
  bool negative = false;
  uint64_t magnitude = 0;
};
std::optional<IntLit> parseIntLit(std::string_view text) {
  std::string s = stripUnderscores(text);
  IntLit lit;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) lit.negative = s[i++] == '-';
  unsigned base = 10;
  if (s.size() - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
    base = 16;
    i += 2;
  }
  if (i >= s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    unsigned d;
    char c = s[i];
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return std::nullopt;
    if (__builtin_mul_overflow(lit.magnitude, uint64_t{base}, &lit.magnitude) ||
        __builtin_add_overflow(lit.magnitude, uint64_t{d}, &lit.magnitude))
      return std::nullopt;
  }
  return lit;
}

// NaN and infinity spellings; `payload_bits` is 23 or 52. Returns nullopt
// when `s` is an ordinary number.
std::optional<uint64_t> parseSpecialFloat(const std::string& s, int payload_bits,
                                          int exponent_bits) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string_view rest(s.data() + i, s.size() - i);
  const uint64_t sign = negative ? uint64_t{1} << (payload_bits + exponent_bits) : 0;
  const uint64_t exp_all = ((uint64_t{1} << exponent_bits) - 1) << payload_bits;
  if (rest == "inf") return sign | exp_all;
  if (rest == "nan") return sign | exp_all | (uint64_t{1} << (payload_bits - 1));
  if (rest.starts_with("nan:0x")) {
    auto payload = parseIntLit(rest.substr(4));
    if (!payload || payload->magnitude == 0 || payload->magnitude >> payload_bits) return 0;
    return sign | exp_all | payload->magnitude;
  }
  return std::nullopt;
}

std::string headOf(const wast::Sexpr& e) {
  return e.kind == wast::Sexpr::Kind::List && !e.items.empty() ? e.items[0].text : e.text;
}

}  // namespace

std::optional<uint32_t> parseI32(std::string_view text) {
  auto lit = parseIntLit(text);
  if (!lit) return std::nullopt;
  if (lit->negative ? lit->magnitude > 0x80000000ull : lit->magnitude > 0xFFFFFFFFull)
    return std::nullopt;
  return static_cast<uint32_t>(lit->negative ? 0 - lit->magnitude : lit->magnitude);
}

std::optional<uint64_t> parseI64(std::string_view text) {
  auto lit = parseIntLit(text);
  if (!lit) return std::nullopt;
  if (lit->negative && lit->magnitude > 0x8000000000000000ull) return std::nullopt;
  return lit->negative ? 0 - lit->magnitude : lit->magnitude;
}

std::optional<uint32_t> parseF32Bits(std::string_view text) {
  std::string s = stripUnderscores(text);
  if (auto special = parseSpecialFloat(s, 23, 8)) {
    if (*special == 0) return std::nullopt;
    return static_cast<uint32_t>(*special);
  }
  char* end = nullptr;
  // strtof rounds decimal and hex literals to nearest-even, as the text
  // format asks; out-of-range literals are malformed, not infinities.
  float f = std::strtof(s.c_str(), &end);
  if (s.empty() || *end || std::isinf(f) || std::isnan(f)) return std::nullopt;
  return std::bit_cast<uint32_t>(f);
}

std::optional<uint64_t> parseF64Bits(std::string_view text) {
  std::string s = stripUnderscores(text);
  if (auto special = parseSpecialFloat(s, 52, 11)) {
    if (*special == 0) return std::nullopt;
    return *special;
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || *end || std::isinf(d) || std::isnan(d)) return std::nullopt;
  return std::bit_cast<uint64_t>(d);
}

ArgValue parseArg(const wast::Sexpr& arg) {
  ArgValue out;
  const std::string head = headOf(arg);
  if (arg.kind != wast::Sexpr::Kind::List || arg.items.empty()) {
    out.error = "not a constant: " + arg.toString();
    return out;
  }
  auto operand = [&]() -> std::optional<std::string> {
    if (arg.items.size() != 2 || arg.items[1].kind != wast::Sexpr::Kind::Atom) return std::nullopt;
    return arg.items[1].text;
  };
  if (head == "v128.const") {
    out.out_of_scope = true;
    out.error = "v128 (SIMD is out of scope)";
    return out;
  }
  if (head == "ref.null") {
    out.value = Value::ref(Ref::null());
    return out;
  }
  std::optional<std::string> text = operand();
  if (!text) {
    out.error = "cannot read the constant " + arg.toString();
    return out;
  }
  if (head == "i32.const") {
    if (auto v = parseI32(*text))
      out.value = Value::i32(static_cast<int32_t>(*v));
    else
      out.error = "bad i32 literal " + *text;
  } else if (head == "i64.const") {
    if (auto v = parseI64(*text))
      out.value = Value::i64(static_cast<int64_t>(*v));
    else
      out.error = "bad i64 literal " + *text;
  } else if (head == "f32.const") {
    if (auto v = parseF32Bits(*text))
      out.value = Value::f32Bits(*v);
    else
      out.error = "bad f32 literal " + *text;
  } else if (head == "f64.const") {
    if (auto v = parseF64Bits(*text))
      out.value = Value::f64Bits(*v);
    else
      out.error = "bad f64 literal " + *text;
  } else if (head == "ref.extern" || head == "ref.host") {
    // The host's references: payload N, distinct from every wasm reference.
    if (auto v = parseI64(*text))
      out.value = Value::ref(Ref::host(*v));
    else
      out.error = "bad reference payload " + *text;
  } else {
    out.error = "unknown constant " + arg.toString();
  }
  return out;
}

std::optional<bool> matches(const wast::Sexpr& expected, Value actual, const Heap& heap,
                            std::string* why) {
  *why = expected.toString();
  if (expected.kind != wast::Sexpr::Kind::List || expected.items.empty()) return std::nullopt;
  const std::string head = headOf(expected);
  if (head == "either") {
    bool any_understood = false;
    for (size_t i = 1; i < expected.items.size(); ++i) {
      std::string ignored;
      std::optional<bool> m = matches(expected.items[i], actual, heap, &ignored);
      if (m && *m) return true;
      any_understood |= m.has_value();
    }
    *why = expected.toString();
    return any_understood ? std::optional<bool>(false) : std::nullopt;
  }
  if (head == "v128.const") return std::nullopt;
  const Ref r = actual.ref();
  const bool has_operand = expected.items.size() >= 2;
  const std::string operand = has_operand ? expected.items[1].text : "";
  if (head == "ref.null") return r.isNull();
  if (head == "ref.extern" || head == "ref.host") {
    if (!has_operand) return !r.isNull();  // any non-null externref
    auto payload = parseI64(operand);
    if (!payload) return std::nullopt;
    return r.isHost() && r.hostPayload() == *payload;
  }
  if (head == "ref.func") return r.isFunc();
  if (head == "ref.i31") return r.isI31();
  if (head == "ref.struct" || head == "ref.array") {
    if (!r.isObject()) return false;
    CompositeKind want = head == "ref.struct" ? CompositeKind::Struct : CompositeKind::Array;
    return heap.types().kind(heap.typeOf(r)) == want;
  }
  if (head == "ref.eq") return r.isI31() || r.isObject();
  if (head == "ref.any") return !r.isNull() && !r.isFunc();
  if (!has_operand) return std::nullopt;
  if (head == "i32.const") {
    auto v = parseI32(operand);
    if (!v) return std::nullopt;
    return actual.u32() == *v && actual.u64() >> 32 == 0;
  }
  if (head == "i64.const") {
    auto v = parseI64(operand);
    if (!v) return std::nullopt;
    return actual.u64() == *v;
  }
  if (head == "f32.const") {
    const uint32_t bits = actual.f32Bits();
    const bool is_nan = (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x7FFFFFu) != 0;
    // nan:canonical is the quiet NaN with no other payload bit, either sign;
    // nan:arithmetic any quiet NaN (spec 4.3.3 "NaN propagation").
    if (operand == "nan:canonical") return (bits & 0x7FFFFFFFu) == 0x7FC00000u;
    if (operand == "nan:arithmetic") return is_nan && (bits & 0x00400000u) != 0;
    auto v = parseF32Bits(operand);
    if (!v) return std::nullopt;
    return bits == *v;
  }
  if (head == "f64.const") {
    const uint64_t bits = actual.f64Bits();
    const uint64_t exp = 0x7FF0000000000000ull, frac = 0x000FFFFFFFFFFFFFull;
    const bool is_nan = (bits & exp) == exp && (bits & frac) != 0;
    if (operand == "nan:canonical") return (bits & ~(uint64_t{1} << 63)) == 0x7FF8000000000000ull;
    if (operand == "nan:arithmetic") return is_nan && (bits & 0x0008000000000000ull) != 0;
    auto v = parseF64Bits(operand);
    if (!v) return std::nullopt;
    return bits == *v;
  }
  return std::nullopt;
}

std::string describe(Value v, const wast::Sexpr& expected) {
  const std::string head =
      headOf(expected.isList("either") && expected.items.size() > 1 ? expected.items[1] : expected);
  if (head == "i32.const") return fmt::format("i32:{}", v.i32());
  if (head == "i64.const") return fmt::format("i64:{}", v.i64());
  if (head == "f32.const") return fmt::format("f32:{} (0x{:08x})", v.f32(), v.f32Bits());
  if (head == "f64.const") return fmt::format("f64:{} (0x{:016x})", v.f64(), v.f64Bits());
  Ref r = v.ref();
  if (r.isNull()) return "ref:null";
  if (r.isI31()) return fmt::format("ref:i31({})", r.i31Signed());
  if (r.isFunc()) return fmt::format("ref:func({})", r.funcAddr());
  if (r.isHost()) return fmt::format("ref:extern({})", r.hostPayload());
  return fmt::format("ref:object({})", r.heapId());
}

}  // namespace slabfuzz::spec
