// Instantiation (spec 4.5.4): linking imports, allocating a module's
// functions, tables, memories and globals in a Store, evaluating constant
// expressions, initialising segments, running the start function.
// Owns: linking rules (import matching with subtyping), the order of
// initialisation, and its failures. Does not own: validation (done before,
// it yields the ModuleTypes passed in) or executing code (exec.h).
// Contract: failure is a value, one of: unlinkable (an import is missing or
// does not match), a trap during initialisation or the start function, out
// of fuel, or a heap violation in the start function. A failed instantiation may leave allocated (unreachable)
// instances in the store, as the spec allows.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/compile.h"
#include "runtime/exec.h"
#include "runtime/store.h"

namespace slabfuzz {

// Finds the value for an import, or nothing when there is none.
using ImportResolver =
    std::function<std::optional<ExternVal>(std::string_view module, std::string_view name)>;

struct InstantiationFailure {
  // Violation: the start function's run found a heap violation (a finding).
  enum class Kind : uint8_t { Unlinkable, Trapped, OutOfFuel, Violation };
  Kind kind = Kind::Unlinkable;
  std::string message;  // "unknown import", "incompatible import type", trap text
  TrapKind trap = TrapKind::Unreachable;  // Trapped
  std::shared_ptr<const HeapViolation> violation;  // Violation
  std::string detail;  // Trapped: the trap's detail (Outcome::detail), e.g. a host exception's
};

// `module` must have been validated against `executor.store().types`, giving
// `types`. Compiles its functions (runtime/compile.h, with `compile`),
// links, initialises. `code`, when given, is used instead of compiling: it
// must be compileModule's output for the same module under the same
// canonical type ids (the caller checks; the oracle shares one compilation
// among the configurations of a comparison).
Result<Instance*, InstantiationFailure> instantiate(
    Executor& executor, std::shared_ptr<const Module> module, ModuleTypes types,
    const ImportResolver& imports, const CompileOptions& compile = {},
    std::shared_ptr<const CompiledModule> code = nullptr);

}  // namespace slabfuzz
