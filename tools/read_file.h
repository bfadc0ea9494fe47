// Reading an input file for the command line, with every failure a value:
// missing file, directory, unreadable, or larger than the caller's cap. Never
// reads more than the cap, so a huge file cannot exhaust memory.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace slabfuzz {

struct FileError {
  std::string message;  // "no such file", "is a directory", ...
};

std::variant<std::vector<uint8_t>, FileError> readFileCapped(const std::string& path,
                                                             uint64_t max_bytes);

}  // namespace slabfuzz
