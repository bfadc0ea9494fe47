// Numeric literals of the text format (spec 6.3.1).
// Owns: the syntax of integer and float tokens (decimal and hex, `_`
// between digits, signs, `inf`, `nan`, `nan:0x...`) and their exact
// conversion: integers to N bits with the signed/unsigned ranges of spec
// 6.3.1, floats correctly rounded straight to f32 or f64 (never through
// f64 for f32). Does not own: deciding which literal an instruction needs.
// Contract: the `parse*` functions return nullopt for a token that is not a
// literal of that type or whose value is out of range.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace slabfuzz::wat {

// True when `token` is a number token of any kind (integer or float syntax).
bool isNumberSyntax(std::string_view token);

// uN: an unsigned literal (decimal or hex, no sign) below 2^bits.
std::optional<uint64_t> parseUnsigned(std::string_view token, int bits);
// iN: unsigned literals up to 2^bits - 1, signed ones in
// [-2^(bits-1), 2^(bits-1) - 1]; the result is the two's complement bits.
std::optional<uint64_t> parseInt(std::string_view token, int bits);
// fN: the IEEE bit pattern.
std::optional<uint32_t> parseF32(std::string_view token);
std::optional<uint64_t> parseF64(std::string_view token);

}  // namespace slabfuzz::wat
