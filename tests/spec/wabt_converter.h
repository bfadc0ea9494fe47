// WABT's wat2wasm as the spec runner's second text-to-binary converter, for
// the texts Binaryen refuses. Binaryen type-checks while it parses, so it
// refuses most ill-typed function bodies ("popping from empty stack");
// wat2wasm --no-check writes them as written, and the error reaches our
// validator. WABT 1.0.32 reads little of the GC and function-references text
// format, so it is a fallback, never the first choice.
// Owns: finding wat2wasm and its version, one conversion per subprocess
// under a time limit, and the cache keys of its answers. Does not own:
// judging the bytes (spec_common.h) or the cache layout (disk_cache.h).
// Contract: an entry is keyed by wabt's version, the flags and the text.
// Only answers wat2wasm gave by exiting are cached; a timeout or a crash
// may not recur, so it is reported for this run only.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/spec/disk_cache.h"
#include "runtime/error.h"

namespace slabfuzz {

struct WabtOptions {
  // wat2wasm's path, or a bare name looked up in $PATH. Defaults to "wat2wasm".
  std::string program = "wat2wasm";
  // Cache directory; sharing the Node worker's is fine (keys never collide).
  // Empty: no cache. Defaults to empty.
  std::string cache_dir;
  // Longest one conversion may take; wat2wasm is then killed and the text
  // counted as refused. Defaults to 10 s.
  int timeout_ms = 10'000;
};

class WabtConverter {
 public:
  // The flags of every conversion: every feature wat2wasm knows, and no
  // validation, so that an invalid module is written, not refused.
  static const std::vector<std::string>& flags();

  // Finds wat2wasm and asks its version. The error is one line for the
  // user: not found, or found but not working.
  static Result<std::unique_ptr<WabtConverter>, std::string> start(WabtOptions options);

  WabtConverter(const WabtConverter&) = delete;
  WabtConverter& operator=(const WabtConverter&) = delete;
  ~WabtConverter();  // removes its scratch directory

  const std::string& program() const { return program_; }  // the resolved path
  const std::string& version() const { return version_; }  // "1.0.32"

  // Converts one text. wat2wasm's refusal, crash or timeout is a Conversion
  // that is not ok, whose error starts with wat2wasm's first message
  // ("line:column: error: ...", the position in the text).
  Conversion convert(std::string_view text);

  struct Stats {
    size_t cache_hits = 0;
    size_t runs = 0;  // wat2wasm processes started for conversions
  };
  const Stats& stats() const { return stats_; }

 private:
  WabtConverter(std::string program, std::string version, std::string scratch_dir,
                WabtOptions options);

  std::string program_;
  std::string version_;
  std::string scratch_dir_;  // private to this converter: the input and output files
  DiskCache cache_;
  int timeout_ms_;
  Stats stats_;
};

}  // namespace slabfuzz
