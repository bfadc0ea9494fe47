// Decoder: bytes -> `Module` (runtime/module.h).
// Owns: the binary format (spec 5): header, sections and their order, LEB128
// with exact bounds, every instruction's immediates, block structure, the
// name section. Does not own: validation (validate.h); a decoded module may
// still be invalid. Contract: any input yields a Module or an Error with a
// byte offset; nothing crashes, hangs, or allocates more than a small
// multiple of the input's size (counts are checked against remaining bytes
// before anything is reserved).
#pragma once

#include <cstdint>
#include <span>

#include "runtime/error.h"
#include "runtime/module.h"

namespace slabfuzz {

struct DecodeOptions {
  // Keep the payload bytes of custom sections in Module::customs.
  // Defaults to true.
  bool keep_custom_payloads = true;
  // Parse the `name` section into Module::names (errors in it are ignored).
  // Defaults to true.
  bool parse_names = true;
};

// Largest module the decoder accepts (offsets are 32-bit). Defaults to 1 GiB.
inline constexpr uint64_t kMaxModuleSize = uint64_t{1} << 30;

[[nodiscard]] Result<Module> decodeModule(std::span<const uint8_t> bytes,
                                          const DecodeOptions& options = {});

}  // namespace slabfuzz
