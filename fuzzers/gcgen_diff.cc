// Fuzz target: bytes -> gcgen -> module -> the reference heap and one or
// two slab configurations (chosen by the first four bytes) -> verdict, with
// the heap verifier and digest after every export call. The main target:
// every finding kind of oracle/findings.def can end here, each through its
// own abort function. gcgen's modules are valid by contract, so a module
// every configuration refuses is a finding too (gen:invalid-module).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzzers/targets.h"
#include "fuzzers/warm_up.h"

// The fault under test, if any (SLABFUZZ_FAULT), then the oracle's
// once-per-process state, made before fuzzing starts (fuzzers/warm_up.h):
// AFL++ stability.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  slabfuzz::selectTargetFaultOrDie();
  slabfuzz::warmUpDiffOracle();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slabfuzz;
  // The input layout (fuzzers/targets.h): four bytes of comparison choice,
  // then gcgen's bytes.
  TargetRun run = gcgenDiffRun(std::span<const uint8_t>(data, size));
  fuzzCheck(run.input, run.choice, run.options);
  return 0;
}
