// Traps as values: `TrapKind` from traps.def, its message and whether it
// reports an exhausted resource. Does not own: decode/validation errors
// (error.h) or findings (oracle/); the four outcomes never mix.
#pragma once

#include <cstdint>
#include <string_view>

namespace slabfuzz {

enum class TrapKind : uint8_t {
#define WASM_TRAP(Name, Resource, Message) Name,
#include "runtime/traps.def"
};

std::string_view trapMessage(TrapKind kind);
// Call depth, heap or memory caps of this implementation: inconclusive for
// the oracle, never a mismatch.
bool isResourceTrap(TrapKind kind);

}  // namespace slabfuzz
