// Fuzz target: bytes -> gcgen -> module -> the reference heap and one or
// two slab configurations (chosen by the first four bytes) -> verdict, with
// the heap verifier and digest after every export call. The main target:
// every finding kind of oracle/findings.def can end here, each through its
// own abort function. gcgen's modules are valid by contract, so a module
// every configuration refuses is a finding too (gen:invalid-module).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "fuzzers/warm_up.h"
#include "generators/gcgen/gcgen.h"
#include "oracle/fuzz_check.h"

// The oracle's once-per-process state, made before fuzzing starts
// (fuzzers/warm_up.h): AFL++ stability.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  slabfuzz::warmUpDiffOracle();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slabfuzz;
  // Four bytes pick the comparison (and slab-random's seed); the rest is
  // the generator's. Short inputs read as zeros: still a valid choice.
  uint32_t choice = 0;
  const size_t head = std::min<size_t>(size, 4);
  for (size_t i = 0; i < head; ++i) choice |= uint32_t{data[i]} << (8 * i);
  ModuleInput input;
  input.module = std::make_shared<const Module>(
      gcgen::generateModule(std::span<const uint8_t>(data + head, size - head)));
  FuzzCheckOptions options;
  options.rejection_is_finding = true;
  fuzzCheck(input, choice, options);
  return 0;
}
