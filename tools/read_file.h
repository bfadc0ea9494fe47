// Reading an input file for the command line, with every failure a value:
// missing file, directory, unreadable, or larger than the caller's cap. Never
// reads more than the cap, so a huge file cannot exhaust memory. Module
// files may be text: `readModuleFile` assembles a .wat (detected by content,
// text/wat.h `looksLikeWat`) into binary module bytes.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "runtime/error.h"

namespace slabfuzz {

struct FileError {
  std::string message;  // "no such file", "is a directory", ...
};

std::variant<std::vector<uint8_t>, FileError> readFileCapped(const std::string& path,
                                                             uint64_t max_bytes);

// A module file: binary bytes as read, or a text module assembled (text is
// detected by content: the first character outside white space and
// comments is '('). Text that does not assemble is the assembler's Error
// (MalformedText, or UnsupportedFeature for a feature out of scope), which
// callers report like a decoding error.
std::variant<std::vector<uint8_t>, FileError, Error> readModuleFile(const std::string& path,
                                                                    uint64_t max_bytes);

}  // namespace slabfuzz
