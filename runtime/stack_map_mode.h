// Which stack maps the collector's root scan uses (DESIGN.md "Heap").
// Owns: the choice only. The maps themselves are the compiler's product
// (runtime/compile.h); the executor picks one kind per run (RunLimits).
#pragma once

#include <cstdint>
#include <string_view>

namespace slabfuzz {

enum class StackMapMode : uint8_t {
  // The reference slots that are live at the safepoint (backward liveness
  // over the function's control-flow graph): what a compiling engine keeps.
  Precise,
  // Every slot that holds a reference at the safepoint, live or not.
  Conservative,
};

constexpr std::string_view stackMapModeName(StackMapMode m) {
  return m == StackMapMode::Precise ? "precise" : "conservative";
}

}  // namespace slabfuzz
