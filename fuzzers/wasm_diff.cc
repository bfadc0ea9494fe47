// Fuzz target: raw wasm bytes -> decode -> the reference heap and one or
// two slab configurations (chosen by a hash of the bytes) -> verdict, with
// the heap verifier and digest after every export call. Bytes that do not
// decode, validate or link are cheap rejections, not findings; fuel and the
// oracle's other limits keep looping or allocating modules short
// (inconclusive).
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
  auto run = wasmDiffRun(std::span<const uint8_t>(data, size));
  if (!run) return 0;
  fuzzCheck(run->input, run->choice, run->options);
  return 0;
}
