// The comparable set (DESIGN.md "Oracle"): whether a module can be given to
// an external engine on equal terms, so that a difference between its run
// and ours means something.
// Owns: the rule. A module is comparable with V8 and Binaryen when every
// import is one their hosts and ours provide alike: a fuzzing-support
// function of the ABI with exactly the ABI's type (a final function type
// alone in its rec group), or an immutable externref or (ref extern) global
// from any other module (all three hosts synthesise the same value).
// Anything else is linked differently by each host (Binaryen's interpreter
// stubs any import, V8's JS glue accepts any signature, ours refuses), so
// its runs would differ on correct engines. Does not own: the ABI
// (runtime/host/fuzzing_support.h), rejections for limits or features
// (ExecutionLog::rejection; compare.h turns those into NotComparable).
// Contract: a pure function of the decoded module; the reason names the
// first import that is out.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "runtime/module.h"

namespace slabfuzz {

// Why `module` is not comparable with the external engine `engine`, or
// nothing when it is. Our own configurations are comparable with each
// other always (the same host).
std::optional<std::string> notComparableWith(std::string_view engine, const Module& module);

}  // namespace slabfuzz
