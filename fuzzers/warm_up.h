// One fixed module run through the differential oracle before fuzzing starts
// (from LLVMFuzzerInitialize in gcgen_diff.cc and wasm_diff.cc), so that the
// runtime's and oracle's once-per-process state exists before the first
// input: the stack floor of runtime/exec.cc (made at the first host
// re-entry), function-local statics of import matching and of fuzzCheck.
// Why: AFL++ forks its persistent children after LLVMFuzzerInitialize, so
// without this each (re)forked child's first input to reach that state
// covers edges that no later run of it does, and afl-fuzz reads them as
// instability. The module must stay clean in every configuration (the
// corpus replay tests run this too); a finding here aborts at start-up. It
// counts as one run in the verdict counts printed at exit.
#pragma once

#include <cstdint>
#include <span>

#include "oracle/fuzz_check.h"

namespace slabfuzz {

inline void warmUpDiffOracle() {
  // (module
  //   (import "fuzzing-support" "call-export" (func $call_export (param i32 i32)))
  //   (func (export "outer") (call $call_export (i32.const 1) (i32.const 0)))
  //   (func (export "inner")))
  static constexpr uint8_t kModule[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x02, 0x60, 0x02,
      0x7f, 0x7f, 0x00, 0x60, 0x00, 0x00, 0x02, 0x1f, 0x01, 0x0f, 0x66, 0x75, 0x7a,
      0x7a, 0x69, 0x6e, 0x67, 0x2d, 0x73, 0x75, 0x70, 0x70, 0x6f, 0x72, 0x74, 0x0b,
      0x63, 0x61, 0x6c, 0x6c, 0x2d, 0x65, 0x78, 0x70, 0x6f, 0x72, 0x74, 0x00, 0x00,
      0x03, 0x03, 0x02, 0x01, 0x01, 0x07, 0x11, 0x02, 0x05, 0x6f, 0x75, 0x74, 0x65,
      0x72, 0x00, 0x01, 0x05, 0x69, 0x6e, 0x6e, 0x65, 0x72, 0x00, 0x02, 0x0a, 0x0d,
      0x02, 0x08, 0x00, 0x41, 0x01, 0x41, 0x00, 0x10, 0x00, 0x0b, 0x02, 0x00, 0x0b};
  auto input = decodeInput(std::span<const uint8_t>(kModule));
  if (input.ok()) fuzzCheck(input.value(), 0, FuzzCheckOptions{});
}

}  // namespace slabfuzz
