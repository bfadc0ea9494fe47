// Slot liveness over the slot IR; see liveness.h for the contract.
//
// Classic backward data-flow on basic blocks: gen = slots a block reads
// before writing them, kill = slots it writes, live-in = gen | (live-out &
// ~kill), live-out = union of the successors' live-in, iterated with a
// worklist until nothing changes (loops need several rounds: what the top
// of a loop body reads is live at the bottom, across the back edge, and so
// across every call in between: the shape of wasmtime issues 9071/10397).
// Sets are bitsets over the tracked slots only (the compiler tracks the
// slots that ever hold a reference), so a function with many numeric slots
// costs nothing extra; when blocks x words would take too much memory the
// slots are done in windows of words, each window an independent problem
// (liveness of one slot never depends on another's).
#include "runtime/liveness.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "heap/faults.h"

namespace slabfuzz {

namespace {
SlotRange one(uint32_t slot) {
  return {slot, 1};
}
SlotRange range(uint32_t first, uint32_t count) {
  return {first, count};
}
}  // namespace

// The one table of IR slot effects. Every row of ir.def has a case: the
// switch has no default and -Wswitch is an error here, so a new row that is
// not described here does not compile (a silent "reads nothing" would drop
// its operands from the stack maps).
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wswitch"
IrEffects irEffects(const IrInstr& in, uint32_t num_results, CallShape call) {
  IrEffects e;
  e.reads_held_at_safepoint = true;
  auto reads = [&](SlotRange r0, SlotRange r1 = {}, SlotRange r2 = {}) { e.reads = {r0, r1, r2}; };
  switch (in.op) {
    // --- a = op(b) -------------------------------------------------------
#define IR_UNARY(Name, In, Out, expr) case IrOp::Name:
#define IR_BINARY(Name, In, Out, expr) case IrOp::Name##Imm:
#include "runtime/ir.def"
    case IrOp::Copy:
    case IrOp::I32TruncF32S:
    case IrOp::I32TruncF32U:
    case IrOp::I32TruncF64S:
    case IrOp::I32TruncF64U:
    case IrOp::I64TruncF32S:
    case IrOp::I64TruncF32U:
    case IrOp::I64TruncF64S:
    case IrOp::I64TruncF64U:
    case IrOp::I32Load:
    case IrOp::I64Load:
    case IrOp::F32Load:
    case IrOp::F64Load:
    case IrOp::I32Load8S:
    case IrOp::I32Load8U:
    case IrOp::I32Load16S:
    case IrOp::I32Load16U:
    case IrOp::I64Load8S:
    case IrOp::I64Load8U:
    case IrOp::I64Load16S:
    case IrOp::I64Load16U:
    case IrOp::I64Load32S:
    case IrOp::I64Load32U:
    case IrOp::MemoryGrow:
    case IrOp::TableGet:  // a = table c [b]
    case IrOp::RefIsNull:
    case IrOp::RefAsNonNull:
    case IrOp::RefTest:  // a = ref b matches heap type c
    case IrOp::RefCast:
    case IrOp::RefI31:
    case IrOp::I31GetS:
    case IrOp::I31GetU:
    case IrOp::StructGet:  // a = field c of struct b
    case IrOp::ArrayLen:
      reads(one(in.b));
      e.writes = one(in.a);
      return e;

      // --- a = op(b, c) ----------------------------------------------------
#define IR_BINARY(Name, In, Out, expr) case IrOp::Name:
#define IR_BINARY_NOIMM(Name, In, Out, expr) case IrOp::Name:
#include "runtime/ir.def"
    case IrOp::I32DivS:
    case IrOp::I32DivU:
    case IrOp::I32RemS:
    case IrOp::I32RemU:
    case IrOp::I64DivS:
    case IrOp::I64DivU:
    case IrOp::I64RemS:
    case IrOp::I64RemU:
    case IrOp::RefEq:
    case IrOp::ArrayGet:  // a = array b [c]
      reads(one(in.b), one(in.c));
      e.writes = one(in.a);
      return e;

    // --- a = constant or state; reads no slot ----------------------------
    case IrOp::Const32:
    case IrOp::Const64:
    case IrOp::GlobalGet:
    case IrOp::MemorySize:
    case IrOp::TableSize:
    case IrOp::RefFunc: e.writes = one(in.a); return e;

    // --- a = (c != 0) ? a : b: a conditional write, so a is read ---------
    case IrOp::Select:
      reads(one(in.a), one(in.b), one(in.c));
      e.writes = one(in.a);
      return e;

    // --- Reads a, writes nothing -----------------------------------------
    case IrOp::GlobalSet: reads(one(in.a)); return e;

    // --- Reads a and b (stores: address a, value b; struct.set: object a,
    // value b) ------------------------------------------------------------
    case IrOp::I32Store:
    case IrOp::I64Store:
    case IrOp::F32Store:
    case IrOp::F64Store:
    case IrOp::I32Store8:
    case IrOp::I32Store16:
    case IrOp::I64Store8:
    case IrOp::I64Store16:
    case IrOp::I64Store32:
    case IrOp::StructSet: reads(one(in.a), one(in.b)); return e;

    // --- Operands in consecutive slots from a ----------------------------
    case IrOp::MemoryFill:  // (d, value, n)
    case IrOp::MemoryCopy:  // (d, s, n)
    case IrOp::MemoryInit:  // (d, s, n)
    case IrOp::TableFill:   // (i, value, n)
    case IrOp::TableCopy:   // (d, s, n)
    case IrOp::TableInit:   // (d, s, n)
    case IrOp::ArraySet:    // (array, index, value)
      reads(range(in.a, 3));
      return e;
    case IrOp::TableSet: reads(range(in.a, 2)); return e;  // (index, value)
    case IrOp::TableGrow:                                  // (init, n) -> old size at a
      reads(range(in.a, 2));
      e.writes = one(in.a);
      return e;
    case IrOp::ArrayFill:      // (array, offset, value, n)
    case IrOp::ArrayInitData:  // (array, d, s, n)
    case IrOp::ArrayInitElem: reads(range(in.a, 4)); return e;
    case IrOp::ArrayCopy:  // (dst, d, src, s, n); a safepoint that holds both arrays
      reads(range(in.a, 5));
      // Fault zoo (array-copy-unrooted): the operands count as used up
      // before the collection, as a call's do.
      if (faultActive(Fault::ArrayCopyUnrooted)) e.reads_held_at_safepoint = false;
      return e;

    // --- Allocations: operands from a, the new reference to a. The
    // collection runs before the object exists, so the operands are held.
    case IrOp::StructNew:      // c fields
    case IrOp::ArrayNewFixed:  // c elements
      reads(range(in.a, in.c));
      e.writes = one(in.a);
      return e;
    case IrOp::StructNewDefault: e.writes = one(in.a); return e;
    case IrOp::ArrayNew:      // (init, len)
    case IrOp::ArrayNewData:  // (offset, len)
    case IrOp::ArrayNewElem:  // (offset, len)
      reads(range(in.a, 2));
      e.writes = one(in.a);
      return e;
    case IrOp::ArrayNewDefault:  // (len)
      reads(one(in.a));
      e.writes = one(in.a);
      return e;

    // --- Calls: arguments at b, results written back at b ----------------
    case IrOp::Call:
    case IrOp::ReturnCall: reads(range(in.b, call.params)); break;
    case IrOp::CallIndirect:  // x arguments, then the table index
    case IrOp::ReturnCallIndirect: reads(range(in.b, uint32_t{in.x} + 1)); break;
    case IrOp::CallRef:  // a arguments, then the funcref
    case IrOp::ReturnCallRef: reads(range(in.b, in.a + 1)); break;

    // --- Control ---------------------------------------------------------
    case IrOp::Nop:
    case IrOp::DataDrop:
    case IrOp::ElemDrop: return e;
    case IrOp::Unreachable: e.flow = IrFlow::Exit; return e;
    case IrOp::Jump: e.flow = IrFlow::Jump; return e;
    case IrOp::BrTable:  // on slot a
      e.flow = IrFlow::Table;
      reads(one(in.a));
      return e;
#define IR_BRCMP(Name, In, expr) case IrOp::BrIf##Name##Imm:
#include "runtime/ir.def"
    case IrOp::BrIf:
    case IrOp::BrUnless:
    case IrOp::BrIfEqz:
    case IrOp::BrOnNull:
    case IrOp::BrOnNonNull:
    case IrOp::BrOnCast:  // b is a heap type, not a slot
    case IrOp::BrOnCastFail:
      e.flow = IrFlow::Branch;
      reads(one(in.a));
      return e;
#define IR_BRCMP(Name, In, expr) case IrOp::BrIf##Name:
#include "runtime/ir.def"
      e.flow = IrFlow::Branch;
      reads(one(in.a), one(in.b));
      return e;
    case IrOp::Return:
      e.flow = IrFlow::Exit;
      reads(range(0, num_results));
      return e;

    case IrOp::Count_: return e;  // not an instruction
  }
  // Calls (the only rows that break out of the switch).
  e.reads_held_at_safepoint = false;
  if (in.op == IrOp::ReturnCall || in.op == IrOp::ReturnCallIndirect ||
      in.op == IrOp::ReturnCallRef) {
    e.flow = IrFlow::Exit;
  } else {
    e.writes = range(in.b, call.results);
  }
  return e;
}
#pragma GCC diagnostic pop

namespace {

constexpr uint32_t kNone = UINT32_MAX;
// Scratch budget of one liveness problem, in 64-bit words: past it the
// tracked slots are done in windows (see the file comment).
constexpr uint64_t kScratchWords = uint64_t{1} << 22;

[[noreturn]] void liveness_bug(const char* what, uint32_t pc) {
  std::fprintf(stderr, "slabfuzz: liveness: %s at IR %u (a compiler bug)\n", what, pc);
  std::abort();
}

// The function's basic blocks and their edges (CSR lists).
struct Cfg {
  std::vector<uint32_t> start;  // block b is [start[b], start[b + 1])
  std::vector<uint32_t> succ_at, succ;
  std::vector<uint32_t> pred_at, pred;
  uint32_t blocks() const { return static_cast<uint32_t>(start.size() - 1); }
};

Cfg buildCfg(const LivenessInput& in, const std::vector<IrEffects>& fx) {
  const uint32_t n = static_cast<uint32_t>(in.code.size());
  auto forEachTarget = [&](uint32_t pc, auto&& f) {
    const IrInstr& ins = in.code[pc];
    switch (fx[pc].flow) {
      case IrFlow::Next: f(pc + 1); break;
      case IrFlow::Jump: f(ins.c); break;
      case IrFlow::Branch:
        f(ins.c);
        f(pc + 1);
        break;
      case IrFlow::Table:
        for (uint32_t i = 0; i <= ins.c; ++i) f(in.br_tables[ins.b + i]);
        break;
      case IrFlow::Exit: break;
    }
  };
  // Leaders: pc 0, every target, every instruction after a control transfer.
  std::vector<uint8_t> leader(n + 1, 0);
  leader[0] = 1;
  for (uint32_t pc = 0; pc < n; ++pc) {
    if (fx[pc].flow == IrFlow::Next) continue;
    leader[pc + 1] = 1;
    forEachTarget(pc, [&](uint32_t t) {
      // The compiler never jumps past the end or falls off it (the body
      // ends in a return or a terminator); such an edge would be dropped.
      if (t >= n) liveness_bug("control leaves the code", pc);
      leader[t] = 1;
    });
  }
  if (n > 0 && fx[n - 1].flow == IrFlow::Next) liveness_bug("falls off the end", n - 1);
  Cfg g;
  std::vector<uint32_t> block_of(n, 0);
  for (uint32_t pc = 0; pc < n; ++pc) {
    if (leader[pc]) g.start.push_back(pc);
    block_of[pc] = static_cast<uint32_t>(g.start.size() - 1);
  }
  g.start.push_back(n);
  const uint32_t nb = g.blocks();
  // Successors: of each block's last instruction, deduplicated (a br_table
  // lists the same target many times). Backward edges are dropped in the
  // deliberately broken mode.
  g.succ_at.assign(nb + 1, 0);
  std::vector<uint32_t> pred_count(nb, 0);
  for (uint32_t b = 0; b < nb; ++b) {
    uint32_t last = g.start[b + 1] - 1;
    size_t first = g.succ.size();
    forEachTarget(last, [&](uint32_t t) {
      if (t >= n) return;
      uint32_t s = block_of[t];
      if (in.ignore_back_edges && s <= b) return;
      if (std::find(g.succ.begin() + static_cast<ptrdiff_t>(first), g.succ.end(), s) !=
          g.succ.end()) {
        return;
      }
      g.succ.push_back(s);
      ++pred_count[s];
    });
    g.succ_at[b + 1] = static_cast<uint32_t>(g.succ.size());
  }
  g.pred_at.assign(nb + 1, 0);
  for (uint32_t b = 0; b < nb; ++b) g.pred_at[b + 1] = g.pred_at[b] + pred_count[b];
  g.pred.resize(g.pred_at[nb]);
  std::vector<uint32_t> fill(g.pred_at.begin(), g.pred_at.end() - 1);
  for (uint32_t b = 0; b < nb; ++b) {
    for (uint32_t i = g.succ_at[b]; i < g.succ_at[b + 1]; ++i) g.pred[fill[g.succ[i]]++] = b;
  }
  return g;
}

}  // namespace

LiveSets computeLiveness(const LivenessInput& in) {
  LiveSets out;
  const uint32_t words = static_cast<uint32_t>((in.tracked.size() + 63) / 64);
  out.words = words;
  out.across.assign(in.safepoints.size() * words, 0);
  out.entry.assign(words, 0);
  const uint32_t n = static_cast<uint32_t>(in.code.size());
  if (n == 0 || words == 0) return out;

  std::vector<IrEffects> fx(n);
  {
    size_t k = 0;
    for (uint32_t pc = 0; pc < n; ++pc) {
      CallShape shape;
      if (k < in.calls.size() && in.calls[k].pc == pc) shape = in.calls[k++].shape;
      fx[pc] = irEffects(in.code[pc], in.num_results, shape);
    }
  }
  const Cfg g = buildCfg(in, fx);
  const uint32_t nb = g.blocks();

  // Slot -> index among the tracked slots.
  std::vector<uint32_t> index(in.tracked.back() + 1, kNone);
  for (uint32_t i = 0; i < in.tracked.size(); ++i) index[in.tracked[i]] = i;

  const uint64_t per_word = std::max<uint64_t>(1, uint64_t{3} * nb);
  const uint32_t window =
      static_cast<uint32_t>(std::clamp<uint64_t>(kScratchWords / per_word, 1, words));
  std::vector<uint64_t> gen, kill, live_in, live, tmp;
  std::vector<uint32_t> work;
  std::vector<uint8_t> queued;
  for (uint32_t w0 = 0; w0 < words; w0 += window) {
    const uint32_t K = std::min(window, words - w0);
    const uint32_t lo = w0 * 64, hi = (w0 + K) * 64;  // tracked indices of this window
    // Applies `f(word, mask)` to the bits of range `r` inside the window.
    auto eachBit = [&](SlotRange r, auto&& f) {
      for (uint32_t s = r.first, e = r.first + r.count; s < e && s < index.size(); ++s) {
        uint32_t t = index[s];
        if (t == kNone || t < lo || t >= hi) continue;
        t -= lo;
        f(t / 64, uint64_t{1} << (t % 64));
      }
    };
    // live = (live & ~writes) | reads, for one instruction.
    auto transfer = [&](const IrEffects& e, uint64_t* set) {
      eachBit(e.writes, [&](uint32_t w, uint64_t m) { set[w] &= ~m; });
      for (const SlotRange& r : e.reads) eachBit(r, [&](uint32_t w, uint64_t m) { set[w] |= m; });
    };

    gen.assign(size_t{nb} * K, 0);
    kill.assign(size_t{nb} * K, 0);
    live_in.assign(size_t{nb} * K, 0);
    for (uint32_t b = 0; b < nb; ++b) {
      uint64_t* gb = &gen[size_t{b} * K];
      uint64_t* kb = &kill[size_t{b} * K];
      for (uint32_t pc = g.start[b + 1]; pc-- > g.start[b];) {
        eachBit(fx[pc].writes, [&](uint32_t w, uint64_t m) {
          kb[w] |= m;
          gb[w] &= ~m;
        });
        for (const SlotRange& r : fx[pc].reads) {
          eachBit(r, [&](uint32_t w, uint64_t m) { gb[w] |= m; });
        }
      }
    }
    // live-out of block b into `dst`.
    auto liveOut = [&](uint32_t b, uint64_t* dst) {
      std::fill(dst, dst + K, 0);
      for (uint32_t i = g.succ_at[b]; i < g.succ_at[b + 1]; ++i) {
        const uint64_t* s = &live_in[size_t{g.succ[i]} * K];
        for (uint32_t w = 0; w < K; ++w) dst[w] |= s[w];
      }
    };
    // Worklist, last block first: a backward problem converges fastest
    // when successors are done before their predecessors.
    work.clear();
    queued.assign(nb, 1);
    for (uint32_t b = 0; b < nb; ++b) work.push_back(b);
    tmp.assign(K, 0);
    while (!work.empty()) {
      uint32_t b = work.back();
      work.pop_back();
      queued[b] = 0;
      liveOut(b, tmp.data());
      uint64_t* in_b = &live_in[size_t{b} * K];
      const uint64_t* gb = &gen[size_t{b} * K];
      const uint64_t* kb = &kill[size_t{b} * K];
      bool changed = false;
      for (uint32_t w = 0; w < K; ++w) {
        uint64_t v = gb[w] | (tmp[w] & ~kb[w]);
        changed |= v != in_b[w];
        in_b[w] = v;
      }
      if (!changed) continue;
      for (uint32_t i = g.pred_at[b]; i < g.pred_at[b + 1]; ++i) {
        uint32_t p = g.pred[i];
        if (!queued[p]) {
          queued[p] = 1;
          work.push_back(p);
        }
      }
    }

    // The fixed point reached, walk each block backward once more to read
    // off the sets at its safepoints.
    live.assign(K, 0);
    for (uint32_t b = 0; b < nb; ++b) {
      auto first = std::lower_bound(in.safepoints.begin(), in.safepoints.end(), g.start[b]);
      auto last = std::lower_bound(first, in.safepoints.end(), g.start[b + 1]);
      if (first == last) continue;
      liveOut(b, live.data());
      auto sp = last;
      for (uint32_t pc = g.start[b + 1]; pc-- > g.start[b];) {
        const IrEffects& e = fx[pc];
        if (sp != first && *(sp - 1) == pc) {
          --sp;
          uint64_t* dst = &out.across[static_cast<size_t>(sp - in.safepoints.begin()) * words + w0];
          std::copy_n(live.data(), K, dst);
          eachBit(e.writes, [&](uint32_t w, uint64_t m) { dst[w] &= ~m; });
          if (e.reads_held_at_safepoint) {
            for (const SlotRange& r : e.reads) {
              eachBit(r, [&](uint32_t w, uint64_t m) { dst[w] |= m; });
            }
          }
        }
        transfer(e, live.data());
      }
    }
    std::copy_n(live_in.begin(), K, out.entry.begin() + w0);
  }
  return out;
}

}  // namespace slabfuzz
