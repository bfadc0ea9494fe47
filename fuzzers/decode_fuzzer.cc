// Fuzz target: bytes -> decode -> validate.
// The contract under test: no input, however malformed, crashes, hangs,
// leaks or allocates without bound, and every rejection carries an error
// whose offset lies inside the input (or at its end).
#include <cstddef>
#include <cstdint>
#include <span>

#include "runtime/decode.h"
#include "runtime/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto module = slabfuzz::decodeModule(bytes);
  if (!module.ok()) {
    if (module.error().offset > size) __builtin_trap();  // an offset outside the input is a bug
    return 0;
  }
  slabfuzz::Status status = slabfuzz::validateModule(module.value());
  if (!status.ok() && status.error().offset > size) __builtin_trap();
  return 0;
}
