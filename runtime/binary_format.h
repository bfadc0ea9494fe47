// Ids of the binary format that both the decoder and the encoder speak
// (spec 5.5 "Modules", and the extended name section of spec 7.4.1).
// Owns: the numbers only. Does not own: reading (decode*.cc) or writing
// (generators/encode.cc) them.
#pragma once

#include <cstdint>

namespace slabfuzz::binary {

enum SectionId : uint8_t {
  kCustomSection = 0,
  kTypeSection = 1,
  kImportSection = 2,
  kFunctionSection = 3,
  kTableSection = 4,
  kMemorySection = 5,
  kGlobalSection = 6,
  kExportSection = 7,
  kStartSection = 8,
  kElemSection = 9,
  kCodeSection = 10,
  kDataSection = 11,
  kDataCountSection = 12,
  kTagSection = 13,  // exception handling: out of scope
};

// Subsection ids of the extended name section.
enum NameSubsection : uint8_t {
  kModuleNames = 0,
  kFunctionNames = 1,
  kLocalNames = 2,
  kLabelNames = 3,
  kTypeNames = 4,
  kTableNames = 5,
  kMemoryNames = 6,
  kGlobalNames = 7,
  kElemNames = 8,
  kDataNames = 9,
  kFieldNames = 10,
};

}  // namespace slabfuzz::binary
