// Writing outputs so that a reader never sees half of one and nothing is
// overwritten by accident: modules (`slabfuzz gen`, `slabfuzz ttf`) and
// finding directories (reproducer bundles).
// Owns: the temporary-then-publish dance. Does not own: what is written.
// Contract: on success the file or directory appeared whole, at once; on
// failure nothing is left behind (no temporary files) and the message says
// why. Without `force`, an existing target is never replaced: link(2) and
// renameat2(RENAME_NOREPLACE) refuse atomically, with no check-then-write race.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace slabfuzz::cli {

// Writes `bytes` to `path` through a temporary file in the same directory.
// Returns an error message, or nothing on success.
std::optional<std::string> writeAtomically(const std::string& path,
                                           const std::vector<uint8_t>& bytes, bool force);

// A file of a bundle: its name inside the directory and its contents.
using NamedFile = std::pair<std::string, std::vector<uint8_t>>;

// Text as a bundle file's contents.
inline std::vector<uint8_t> textBytes(const std::string& s) { return {s.begin(), s.end()}; }
// Lines, each ended by a newline.
inline std::string joinLines(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

// Creates the directory `parent/name` holding `files`, built under a
// temporary name and renamed into place. If `name` is taken, `name.1`,
// `name.2`, ... are tried (an earlier finding is never replaced). On success
// *created receives the directory's path.
std::optional<std::string> writeDirectoryAtomically(const std::string& parent,
                                                    const std::string& name,
                                                    const std::vector<NamedFile>& files,
                                                    std::string* created);

}  // namespace slabfuzz::cli
