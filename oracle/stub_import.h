// Turning a function import into a function of the module's own, for an
// engine that does not provide it: Binaryen's interpreter aborts on an
// import of `fuzzing-support` it does not know, such as slabfuzz's own `gc`
// (a collection now), so a module that imports it is given to Binaryen with
// the import replaced by a function that does nothing.
// Owns: the rewrite of the function index space (the import's index moves
// to the end; every later function moves down by one) in code, constant
// expressions, element segments, exports, the start function and the names.
// Does not own: deciding which imports an engine lacks (its caller).
// Contract: the result is a valid module when the input is; the stub
// returns each result type's default value (zero, or null) and traps with
// `unreachable` only when a result type has no default (a non-nullable
// reference). Every other function behaves as before.
#pragma once

#include <string_view>

#include "runtime/module.h"

namespace slabfuzz {

// `m` with every function import named module.name replaced as above (none
// is fine: `m` comes back unchanged). Counts the imports replaced in
// `*replaced` when given.
Module stubFunctionImports(Module m, std::string_view module, std::string_view name,
                           int* replaced = nullptr);

}  // namespace slabfuzz
