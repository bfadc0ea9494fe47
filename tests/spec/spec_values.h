// Constants and expected results of the spec test script language, against
// slabfuzz's runtime values.
// Owns: reading `(i32.const 1)`, `(f32.const nan:0x200000)`, `(ref.null any)`,
// `(ref.extern 3)` as Values, and matching results against expectations,
// NaN patterns (nan:canonical, nan:arithmetic), reference patterns
// (ref.null, ref.extern N, ref.host N, ref.func, ref.struct, ref.array,
// ref.i31, ref.eq, ref.any) and `either`. Does not own: the script reader
// (wast.h) or running anything (spec_run.cc).
// Contract: malformed or out-of-scope constants (v128) are reported as
// values, never a crash.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "heap/heap.h"
#include "runtime/value.h"
#include "tests/spec/wast.h"

namespace slabfuzz::spec {

// The number literals of the text format (spec 6.3.1): signs, `_`
// separators, 0x hex, hex floats, inf, nan and nan:0xPAYLOAD.
std::optional<uint32_t> parseI32(std::string_view text);
std::optional<uint64_t> parseI64(std::string_view text);
std::optional<uint32_t> parseF32Bits(std::string_view text);
std::optional<uint64_t> parseF64Bits(std::string_view text);

// An action argument: `(i32.const 1)`, `(ref.null func)`, `(ref.extern 7)`
// (a host reference with payload 7), `(ref.host 7)`. v128 and anything else
// give an error message.
struct ArgValue {
  Value value;
  std::string error;          // non-empty: not usable
  bool out_of_scope = false;  // v128
};
ArgValue parseArg(const wast::Sexpr& arg);

// Does `actual` match the expected result `expected`? `heap` tells structs
// from arrays. `why` receives a readable rendering of the expectation when
// the answer is no. Returns nullopt when the expectation is out of scope
// (v128) or not understood (then `why` says what).
std::optional<bool> matches(const wast::Sexpr& expected, Value actual, const Heap& heap,
                            std::string* why);

// A result as text for failure messages: "i32:42", "f64:0x7ff8000000000000",
// "ref:null", "ref:i31(5)", "ref:func(3)", "ref:extern(7)", "ref:object(2)".
std::string describe(Value v, const wast::Sexpr& expected);

}  // namespace slabfuzz::spec
