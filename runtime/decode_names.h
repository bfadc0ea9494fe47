// The `name` custom section (spec 7.4.1, extended name section) for the
// decoder. Internal to runtime/: decode.cc is the only caller.
// Owns: reading module, function, local, label, type, table, memory, global,
// elem, data and field names. Does not own: where the section may appear or
// whether it is parsed at all (decode.cc, DecodeOptions::parse_names).
// Contract: all or nothing; a broken name section changes nothing and is
// never an error (spec: custom section contents must not invalidate a module).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "runtime/module.h"

namespace slabfuzz {

// Parses the payload of a `name` section (after its name). On success fills
// `out` and returns true; on any malformation returns false, `out` untouched.
bool parseNameSection(std::span<const uint8_t> payload, Names& out);

// Looks for a `name` section among the sections that start at `from` (a
// section boundary in `module`) and returns the name of function `index`.
// Used only to give an error a readable context; never fails.
std::optional<std::string> findFunctionName(std::span<const uint8_t> module, size_t from,
                                            uint32_t index);

}  // namespace slabfuzz
