#include "generators/binaryen/pipeline.h"

#include <algorithm>
#include <array>

namespace slabfuzz::binaryen {
namespace {

// GC-relevant passes first (the list), then the general ones they
// interact with, then the optimisation levels, each of which is a whole
// pipeline of its own. Every name checked against `wasm-opt --help`
// (Binaryen 132); the worker refuses names it does not list.
constexpr std::array kRows{
    PassRow{"--gufa"},
    PassRow{"--type-ssa"},
    PassRow{"--type-merging", true},
    PassRow{"--heap2local"},
    PassRow{"--optimize-casts"},
    PassRow{"--cfp", true},
    PassRow{"--gto", true},
    PassRow{"--unsubtyping"},
    PassRow{"--remove-unused-module-elements"},
    PassRow{"--simplify-locals"},
    PassRow{"--precompute"},
    PassRow{"--local-subtyping"},
    PassRow{"--signature-refining"},
    PassRow{"--abstract-type-refining", true},
    PassRow{"--minimize-rec-groups"},
    PassRow{"--type-refining", true},
    PassRow{"--global-refining"},
    PassRow{"--signature-pruning", true},
    PassRow{"--gsi"},
    PassRow{"--gufa-optimizing"},
    PassRow{"--optimize-instructions"},
    PassRow{"--precompute-propagate"},
    PassRow{"--inlining-optimizing"},
    PassRow{"--dae-optimizing"},
    PassRow{"--coalesce-locals"},
    PassRow{"--vacuum"},
    PassRow{"--merge-blocks"},
    PassRow{"--remove-unused-brs"},
    PassRow{"--code-folding"},
    PassRow{"--local-cse"},
    PassRow{"--simplify-globals-optimizing"},
    PassRow{"--once-reduction"},
    PassRow{"--directize"},
    PassRow{"--remove-unused-types"},
    PassRow{"-O0"},
    PassRow{"-O1"},
    PassRow{"-O2"},
    PassRow{"-O3"},
    PassRow{"-Os"},
    PassRow{"-Oz"},
};

// Bytes in order; past the end, zeros (the simplest choice).
class ByteStream {
 public:
  explicit ByteStream(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint32_t next16() {
    uint32_t lo = next(), hi = next();
    return lo | (hi << 8);
  }
  uint8_t next() { return pos_ < bytes_.size() ? bytes_[pos_++] : 0; }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

}  // namespace

std::span<const PassRow> pipelinePasses() {
  return kRows;
}

std::vector<std::string> Pipeline::args() const {
  std::vector<std::string> out;
  if (closed_world) out.emplace_back("--closed-world");
  out.insert(out.end(), passes.begin(), passes.end());
  return out;
}

std::string Pipeline::toString() const {
  std::string s;
  for (const std::string& a : args()) s += (s.empty() ? "" : " ") + a;
  return s;
}

Pipeline drawPipeline(std::span<const uint8_t> bytes, size_t max_passes) {
  ByteStream in(bytes);
  Pipeline p;
  max_passes = std::max<size_t>(max_passes, 1);
  size_t count = 1 + in.next() % max_passes;
  p.closed_world = (in.next() & 1) != 0;
  for (size_t i = 0; i < count; ++i) {
    const PassRow& row = kRows[in.next16() % kRows.size()];
    p.passes.emplace_back(row.flag);
    p.closed_world = p.closed_world || row.needs_closed_world;
  }
  return p;
}

}  // namespace slabfuzz::binaryen
