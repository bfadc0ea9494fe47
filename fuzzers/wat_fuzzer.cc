// Fuzz target: text -> assembleWat -> (when it assembles) decode -> validate.
// The contract under test: no text, however malformed, crashes, hangs or
// leaks the assembler; a rejection is an Error whose offset lies inside the
// text; and what the assembler accepts is a module our decoder reads (the
// assembler writes every section it emits in well-formed binary).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "runtime/decode.h"
#include "runtime/validate.h"
#include "text/wat.h"

// Builds the assembler's lazily made tables (the instruction-name map of
// text/instr.cc) before fuzzing starts. Under AFL++ this runs once, before
// the fork server forks, so every persistent child starts with them built;
// otherwise the first input to name an instruction after each (re)fork
// covers a few hundred edges that no later run does, and afl-fuzz reads them
// as instability (about 4% of this target's edges).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)slabfuzz::assembleWat("(module (func (result i32) i32.const 0))");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bytes = slabfuzz::assembleWat(text);
  if (!bytes.ok()) {
    if (bytes.error().offset > size) __builtin_trap();  // an offset outside the text is a bug
    return 0;
  }
  auto module = slabfuzz::decodeModule(std::span<const uint8_t>(bytes.value()));
  if (!module.ok()) return 0;  // e.g. a `(module binary ...)` form: bytes as written
  slabfuzz::Status status = slabfuzz::validateModule(module.value());
  (void)status;
  return 0;
}
