// The on-disk cache of answers from slow tools (Binaryen and V8 through the
// Node worker, WABT's wat2wasm through a subprocess), so that a second run
// over the same texts costs file reads only.
// Owns: the directory's layout (one file per answer, named by a 128-bit hash
// of its key plus an extension), atomic writes, and the format of conversion
// entries. Does not own: what goes into a key (each tool's client builds its
// own, naming the tool, its version and its settings) or running any tool.
// Contract: entries are written atomically (a temporary file unique to the
// process and the write, then rename), so a killed run or two concurrent
// runs leave no torn entries. A cache that cannot be written only costs speed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slabfuzz {

// A converter's answer for one text: bytes, or its error message.
struct Conversion {
  bool ok = false;
  std::vector<uint8_t> wasm;
  std::string error;
};

class DiskCache {
 public:
  // Creates `dir` if it is missing. Empty: no cache (every read misses and
  // writes are dropped).
  explicit DiskCache(std::string dir);

  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }

  // The entry for `key` with this extension (".wasm", ".err", ".v8", ...).
  std::optional<std::string> read(std::string_view key, std::string_view extension) const;
  void write(std::string_view key, std::string_view extension, std::string_view contents);

  // A conversion is stored as <hash>.wasm (the bytes) or <hash>.err (the
  // message), so a text that failed once is not tried again either.
  std::optional<Conversion> readConversion(std::string_view key) const;
  void writeConversion(std::string_view key, const Conversion& conversion);

 private:
  std::string path(std::string_view key, std::string_view extension) const;

  std::string dir_;
};

}  // namespace slabfuzz
