// Fuzz target: raw wasm bytes -> decode -> the reference heap and one or
// two slab configurations (chosen by a hash of the bytes) -> verdict, with
// the heap verifier and digest after every export call. Bytes that do not
// decode, validate or link are cheap rejections, not findings; fuel and the
// oracle's other limits keep looping or allocating modules short
// (inconclusive).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzzers/warm_up.h"
#include "oracle/fuzz_check.h"

// The oracle's once-per-process state, made before fuzzing starts
// (fuzzers/warm_up.h): AFL++ stability.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  slabfuzz::warmUpDiffOracle();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slabfuzz;
  auto input = decodeInput(std::span<const uint8_t>(data, size));
  if (!input.ok()) return 0;
  fuzzCheck(input.value(), choiceFromBytes(data, size), FuzzCheckOptions{});
  return 0;
}
