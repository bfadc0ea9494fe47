// Normalisation of execution logs before comparison (DESIGN.md "Oracle").
// Owns: what two logs may differ in and still agree: NaN payloads and signs
// (the spec leaves them nondeterministic; optimisers fold them), trap
// wording (engines word traps differently; where a call traps still
// counts), and our own lines when the other side is not ours. References
// need nothing here: the printer already writes only what is observable
// (null, i31ref(N), object, function, externref(N); binaryen_format.h).
// Does not own: the lines (fuzzing_support.h) or the verdict (compare.h).
// Contract: pure functions; normalising twice changes nothing.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slabfuzz {

struct NormaliseOptions {
  // Keep the message of "[trap <message>]" lines (between our own
  // configurations, which word traps alike). Defaults to true.
  bool keep_trap_messages = true;
  // Keep kSlabfuzzLinePrefix lines (only when both sides are ours).
  // Defaults to true.
  bool keep_slabfuzz_lines = true;
  // Where trap messages are not kept, write "[trap <class>]" (trap_class.h)
  // instead of "[trap]". Defaults to false.
  bool trap_classes = false;
};

// Every value token "nan", "-nan", "nan:0x...", "-nan:0x..." becomes "nan".
// Only tokens count (a name such as "banana" is left alone), and only in
// value positions: after " => " in a result line, anywhere in other lines.
std::string canonicalNans(std::string_view line);

std::vector<std::string> normaliseLog(std::span<const std::string> lines,
                                      const NormaliseOptions& options = {});

}  // namespace slabfuzz
