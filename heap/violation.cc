// Readable reports of heap violations; see violation.h. (The names,
// meanings and signature kind are inline in the header: the runtime uses
// them without linking the heap library.)
#include "heap/violation.h"

#include <fmt/format.h>

namespace slabfuzz {
namespace {

// What to do next, by kind (CONVENTIONS.md rule 11). Only commands and
// options that exist are named.
std::string_view nextStep(HeapViolationKind kind) {
  switch (kind) {
    case HeapViolationKind::ForeignHeap:
      return "a reference crossed from one heap to another: check which heap made the value "
             "(host-held values, oracle roots)";
    case HeapViolationKind::Verify:
      return "the invariant above broke; rerun under a slab-heap configuration with zeal at every "
             "safepoint (`slabfuzz run --config`, listed by `slabfuzz run --help`) to stop at the "
             "first collection after the cause";
    default:
      return "a reference outlived its object (most often a root missing from a stack map); "
             "rerun under a slab-heap configuration with zeal at every safepoint (`slabfuzz run "
             "--config`, listed by `slabfuzz run --help`) so that the object is freed at once";
  }
}

}  // namespace

std::string HeapViolation::describe() const {
  std::string out = fmt::format("{}: {}\n", signatureKind(), heapViolationMeaning(kind));
  if (kind == HeapViolationKind::Verify && !invariant.empty())
    out += fmt::format("  invariant  {}\n", invariant);
  if (id.raw != 0) {
    out +=
        fmt::format("  id         0x{:x} = heap {} slab {} (identity {}) slot {} generation {}\n",
                    id.raw, id.heap_tag, id.slab, id.slab_identity, id.slot, id.generation);
  }
  if (!now_holds.empty()) out += fmt::format("  now        {}\n", now_holds);
  if (!expected.empty()) out += fmt::format("  expected   {}\n", expected);
  if (!operation.empty())
    out += fmt::format("  during     {} ({} phase, after {} collection(s))\n", operation,
                       heapPhaseName(phase), gc_cycle);
  if (!site.empty()) out += fmt::format("  at         {}\n", site);
  out += fmt::format("  next       {}\n", nextStep(kind));
  return out;
}

}  // namespace slabfuzz
