// Recognising the seed-bug shape in a finished body, for GenStats (whatever
// produced it: the template or the rows). Owns: the definition below. Does
// not own: generating it (templates.cc).
// Contract: true when some loop L1 contains a loop L2 with a cast (ref.cast,
// ref.test, br_on_cast(_fail)) of `local.get x`, x is a reference local
// written inside L1 whose first access in L1 is a read (so its value is
// carried around L1's back edge), and L1 holds, outside L2, a call or an
// allocation at which that value is live. Judged syntactically over Instr
// block-structure indices (c = the matching End).
#pragma once

#include "runtime/module.h"

namespace slabfuzz::gcgen {

bool hasSeedShape(const Module& m, const Function& f);

}  // namespace slabfuzz::gcgen
