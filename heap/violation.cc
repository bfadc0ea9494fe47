// Readable reports of heap violations; see violation.h.
#include "heap/violation.h"

#include <fmt/format.h>

namespace slabfuzz {

std::string HeapViolation::describe() const {
  std::string out = fmt::format("{}: {}\n", signatureKind(), heapViolationMeaning(kind));
  if (id.raw != 0) {
    out += fmt::format("  id      0x{:x} = heap {} slab {} (identity {}) slot {} generation {}\n",
                       id.raw, id.heap_tag, id.slab, id.slab_identity, id.slot, id.generation);
  }
  if (!now_holds.empty()) out += fmt::format("  now     {}\n", now_holds);
  if (!expected.empty()) out += fmt::format("  expected {}\n", expected);
  if (!operation.empty()) out += fmt::format("  during  {} ({} phase, after {} collection(s))\n",
                                             operation, heapPhaseName(phase), gc_cycle);
  if (!site.empty()) out += fmt::format("  at      {}\n", site);
  return out;
}

}  // namespace slabfuzz
