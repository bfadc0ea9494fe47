// The WebAssembly text format assembler: one module's text in, its binary out.
// Owns: turning `(module ...)` text (or a bare list of module fields, as
// wat2wasm accepts) into module bytes, for the in-scope features (DESIGN.md
// "Scope"). Does not own: validation. A module that is well-formed text but
// invalid (a type error, an index out of range written as a number) is
// encoded as written, so that our validator judges it.
// Contract: malformed text is an Error (category Malformed) whose message
// starts with "LINE:COLUMN: "; text using an out-of-scope feature is an Error
// with code UnsupportedFeature whose message starts with "unsupported
// feature: ". Nothing crashes, whatever the input.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/error.h"

namespace slabfuzz {

// Assembles one module (spec 6, "Text Format").
Result<std::vector<uint8_t>> assembleWat(std::string_view text);

// True when `bytes` looks like text rather than a binary module: the first
// character that is neither white space nor inside a comment is '('.
bool looksLikeWat(std::span<const uint8_t> bytes);

}  // namespace slabfuzz
