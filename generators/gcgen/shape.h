// Recognising favoured shapes in a finished module, for GenStats (whatever
// produced them: a template or the rows). Owns: the definition of each
// shape below and the list of every shape `slabfuzz gen --stats` reports
// (favouredShapes, gcgen.h). Does not own: generating them (templates*.cc,
// rows.cc), nor the shapes only the generator can tell (a cast's relation
// to the object it reads), which BodyGen::countShape records at emission.
// Contract: judged syntactically over Instr block-structure indices (c =
// the matching End); deterministic; linear in the body size, so stats cost
// little beside generation.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "generators/gcgen/name_counter.h"
#include "runtime/module.h"

namespace slabfuzz::gcgen {

// The seed-bug shape: true when some loop L1 contains a loop L2 with a cast
// (ref.cast, ref.test, br_on_cast(_fail)) of `local.get x`, x is a
// reference local written inside L1 whose first access in L1 is a read (so
// its value is carried around L1's back edge), and L1 holds, outside L2, a
// call or an allocation at which that value is live.
bool hasSeedShape(const Module& m, const Function& f);

// Counts every occurrence of each syntactic shape of favouredShapes() in m
// (alloc-outer+cast-inner and seed-bug: once per module at most).
void detectShapes(const Module& m, NameCounter& shapes);

}  // namespace slabfuzz::gcgen
