// A counter of names for GenStats, cheap enough to run on every row.
// Owns: counting occurrences of names that live in static storage (row
// names, string literals, opcodeName results), keyed by their address, and
// folding them into GenStats' maps by name. Does not own: what is counted.
// Contract: add() never allocates and compares no strings; fold() adds each
// name's total to the map once (one name at two addresses, e.g. the same
// literal in two files, is summed there). A name must outlive the counter.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace slabfuzz::gcgen {

class NameCounter {
 public:
  void add(std::string_view name, uint32_t times = 1) {
    const auto key = reinterpret_cast<uintptr_t>(name.data());
    size_t h = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 55);  // kSlots = 2^9
    for (size_t probes = 0; probes < kSlots; ++probes, h = (h + 1) & (kSlots - 1)) {
      Slot& s = slots_[h];
      if (s.name.data() == name.data() && s.name.size() == name.size()) {
        s.n += times;
        return;
      }
      if (s.name.data() == nullptr) {
        s.name = name;
        s.n = times;
        return;
      }
    }
    overflow_[std::string(name)] += times;  // not reached with a few hundred names
  }
  void fold(std::map<std::string, uint32_t>& out) const {
    for (const Slot& s : slots_) {
      if (s.n != 0) out[std::string(s.name)] += s.n;
    }
    for (const auto& [name, n] : overflow_) out[name] += n;
  }

 private:
  static constexpr size_t kSlots = 512;
  struct Slot {
    std::string_view name;
    uint32_t n = 0;
  };
  std::array<Slot, kSlots> slots_{};
  std::map<std::string, uint32_t> overflow_;
};

}  // namespace slabfuzz::gcgen
