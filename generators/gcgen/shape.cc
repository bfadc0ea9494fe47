// The seed-bug shape detector (see shape.h).
#include "generators/gcgen/shape.h"

#include <vector>

namespace slabfuzz::gcgen {

namespace {

bool isCast(Opcode op) {
  return op == Opcode::RefCast || op == Opcode::RefCastNull || op == Opcode::RefTest ||
         op == Opcode::RefTestNull || op == Opcode::BrOnCast || op == Opcode::BrOnCastFail;
}

// A safepoint in the seed bug's sense: a call (the host's included) or an
// allocation.
bool isSafepoint(Opcode op) {
  switch (op) {
    case Opcode::Call:
    case Opcode::CallRef:
    case Opcode::CallIndirect:
    case Opcode::StructNew:
    case Opcode::StructNewDefault:
    case Opcode::ArrayNew:
    case Opcode::ArrayNewDefault:
    case Opcode::ArrayNewFixed:
    case Opcode::ArrayNewData:
    case Opcode::ArrayNewElem: return true;
    default: return false;
  }
}

bool isRefLocal(const Module& m, const Function& f, uint32_t x) {
  const FuncType& sig = m.types[f.type_index].composite.func;
  if (x < sig.params.size()) return sig.params[x].isRef();
  x -= static_cast<uint32_t>(sig.params.size());
  return x < f.locals.size() && f.locals[x].isRef();
}

// Is local x carried around loop [begin, end]: written in it, and read
// before its first write?
bool carried(const Function& f, uint32_t begin, uint32_t end, uint32_t x) {
  bool written = false, read_first = false, seen = false;
  for (uint32_t i = begin + 1; i < end; ++i) {
    const Instr& in = f.body[i];
    if (in.a != x) continue;
    if (in.op == Opcode::LocalGet) {
      if (!seen) read_first = true;
      seen = true;
    } else if (in.op == Opcode::LocalSet || in.op == Opcode::LocalTee) {
      written = true;
      seen = true;
    }
  }
  return written && read_first;
}

}  // namespace

bool hasSeedShape(const Module& m, const Function& f) {
  const auto& body = f.body;
  for (uint32_t outer = 0; outer < body.size(); ++outer) {
    if (body[outer].op != Opcode::Loop) continue;
    const uint32_t outer_end = body[outer].c;
    for (uint32_t inner = outer + 1; inner < outer_end; ++inner) {
      if (body[inner].op != Opcode::Loop) continue;
      const uint32_t inner_end = body[inner].c;
      bool safepoint = false;
      for (uint32_t i = outer + 1; i < outer_end && !safepoint; ++i) {
        if (i == inner) i = inner_end;
        safepoint = isSafepoint(body[i].op);
      }
      if (!safepoint) continue;
      for (uint32_t i = inner + 2; i < inner_end; ++i) {
        const Instr& get = body[i - 1];
        if (!isCast(body[i].op) || get.op != Opcode::LocalGet) continue;
        if (isRefLocal(m, f, get.a) && carried(f, outer, outer_end, get.a)) return true;
      }
    }
  }
  return false;
}

}  // namespace slabfuzz::gcgen
