// Validator: `Module` -> valid or the first validation Error (spec 3).
// Owns: module-level rules (imports, exports, globals, tables, memories,
// segments, start, constant expressions) and the typing of every function
// body. Does not own: the binary format (decode.h) or type canonicalisation
// and subtyping (types.h), which it uses. Contract: errors carry the offset
// of the offending instruction or definition and a context naming the
// function (by name-section name where present).
#pragma once

#include "runtime/error.h"
#include "runtime/module.h"
#include "runtime/types.h"

namespace slabfuzz {

[[nodiscard]] Status validateModule(const Module& module);

// Validates `module`, interning its rec groups in `store` (which may be
// shared with other modules, so that their canonical type ids compare).
// On success, returns the module's view of its canonical types for the
// stages after validation (casts compare CanonTypeIds). The result points
// into `module` and `store`, which must outlive it.
[[nodiscard]] Result<ModuleTypes> validateModule(const Module& module, TypeStore& store);

}  // namespace slabfuzz
