// Tests that need the pinned reference engines (scripts/setup installs them
// from npm): skip with the reason when node or Binaryen's wasm-opt is absent.
// The including test defines SLABFUZZ_BINARYEN_WASM_OPT (its CMakeLists).
#pragma once

#include <unistd.h>

#include <string>

namespace slabfuzz::test {

// False, with `*why` saying what is missing, unless `node` and Binaryen's
// wasm-opt are both there.
inline bool havePinnedEngines(const std::string& node, std::string* why) {
  for (const std::string& p : {node, std::string(SLABFUZZ_BINARYEN_WASM_OPT)}) {
    if (access(p.c_str(), R_OK) != 0) {
      *why = "skipped: " + p + " is absent (run scripts/setup to install the pinned node and Binaryen)";
      return false;
    }
  }
  return true;
}

}  // namespace slabfuzz::test

// GTEST_SKIP()s the current test, with the reason, without the engines.
#define SLABFUZZ_REQUIRE_PINNED_ENGINES(node)                                   \
  do {                                                                          \
    std::string why_;                                                           \
    if (!::slabfuzz::test::havePinnedEngines((node), &why_)) GTEST_SKIP() << why_; \
  } while (0)
