// Binaryen's printing of values, as `wasm-opt --fuzz-exec` (version 132)
// writes them in its logs: src/wasm/literal.cpp's printDouble/printFloat and
// execution-results.h's printValue. Facts about an output format, written
// here from their observed behaviour so that our logs compare line for line.
// Owns: number and reference rendering. Does not own: the log lines around
// them (fuzzing_support.h) or normalisation for comparisons (oracle/).
// Contract: pure functions of the bits; NaN payloads and -0 are kept.
#pragma once

#include <cstdint>
#include <string>

#include "runtime/valtype.h"
#include "runtime/value.h"

namespace slabfuzz {

// The externref payload of the exception fuzzing-support throws; printed as
// "jserror".
inline constexpr uint64_t kJsErrorPayload = 0xbad;

// A double: "-0", "nan:0x8000000000000", "-inf", and otherwise the shortest
// of a fixed and a scientific rendering that reads back exactly, tidied:
// "0.1", "1e-07", "1e3", "123e3", "1.e+300", "0.000015".
std::string formatBinaryenF64(double d);
// The same text by the plain search: every precision from 0 up, printed by
// printf and read back by strtod, where formatBinaryenF64 starts at the
// shortest round trip's precision (none below it can read back) and uses
// std::to_chars / std::from_chars. Slow; the unit tests compare the two.
std::string formatBinaryenF64Exhaustive(double d);
// An f32: NaNs with their 23-bit payload ("nan:0x400000"), everything else
// as the double it is ("0.10000000149011612").
std::string formatBinaryenF32(float f);
// One value of (canonical) type `type` as printValue prints it: numbers in
// full (i64 as one number), references as null, i31ref(N), externref(N),
// jserror, function, or object(null) (no JS prototypes without custom
// descriptors).
std::string formatBinaryenValue(Value value, ValType type);

}  // namespace slabfuzz
