// Structural equality of two `Module`s, for the encoder's round trip and the
// generators' tests. Owns: what "the same module" means for a Module value.
// Does not own: type equivalence (runtime/types.h): equality here is
// syntactic, index for index. Contract: byte offsets (Instr::offset, every
// `offset` field, func_decl_offsets, memory_offsets, start_offset,
// Function::body_offset/body_size) are ignored; so are immediate fields an
// opcode's ImmKind does not use, the layout of Function::extra (br_table
// targets are compared as resolved lists), fields that a definition's kind or
// mode makes meaningless (an import's table type when it imports a function,
// a passive segment's table), and the payload of the first `name` custom
// section, whose meaning is compared as Module::names instead.
#pragma once

#include <string>

#include "runtime/module.h"

namespace slabfuzz {

// True when `a` and `b` hold the same module. Otherwise, when
// `first_difference` is non-null, it receives where they first differ, as a
// path and the two values: "functions[2].body[7].a: 3 vs 4".
bool modulesEqual(const Module& a, const Module& b, std::string* first_difference = nullptr);

}  // namespace slabfuzz
