// The binary encoder: `Module` -> bytes, the inverse of runtime/decode.h.
// Owns: choosing an encoding for everything a Module holds (section order,
// rec groups, element segment forms, the data count section, the name
// section) and writing every instruction through opcodes.def. Does not own:
// validity (an invalid Module is written as it stands, so that the validator
// judges it) or how the Module was built (decoder, generator or by hand).
// Contract: for any Module the decoder produced, decodeModule(encodeModule(m))
// is modulesEqual (generators/module_equal.h) to m, and encoding is
// idempotent: encodeModule(decode(encodeModule(m))) == encodeModule(m).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/module.h"

namespace slabfuzz {

// Writes `m` as a binary module (spec 5.5). Choices where the binary format
// allows several spellings of the same Module:
//  - every LEB128 is minimal; a nullable abstract reference type uses its
//    one-byte shorthand (`funcref`); a rec group of one type is written bare;
//    a final type with no supertypes is written as its bare composite type;
//  - empty sections are left out; locals are grouped in runs of one type;
//  - an element segment uses function indices when its type is (ref func),
//    every item is a lone `ref.func` and it is declarative or active on
//    table 0 (flags 0 and 3: Binaryen reads the elemkind of flags 1 and 2 as
//    nullable), expressions otherwise, and the implicit-table forms (flags
//    0 and 4) when they can express it;
//  - the data count section is written when m.data_count is set, or, when it
//    is not, if a body uses memory.init, data.drop, array.new_data or
//    array.init_data (then with datas.size(): the round trip adds it);
//  - custom sections are written last, in order (their original position
//    relative to other sections is not part of a Module). The first `name`
//    section is written from m.names: its recorded payload verbatim when
//    that payload parses to exactly m.names, a fresh encoding otherwise (and
//    a fresh one is appended when m.names is non-empty but no `name` custom
//    section is recorded).
std::vector<uint8_t> encodeModule(const Module& m);

}  // namespace slabfuzz
