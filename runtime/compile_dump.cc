// dumpIR: the compiled IR as text, for `slabfuzz run --dump-ir` and tests.
// Owns only printing; the encoding is compile.h's and ir.def's.
#include <fmt/format.h>

#include "runtime/compile.h"

namespace slabfuzz {

namespace {

// How dumpIR prints each op's operands (the Fmt column of ir.def).
enum class IrFmt : uint8_t {
  None, Jump, CondJump, CmpJump, CmpImmJump, Cast, BrTable, Call, CallInd, D, DS, DSS, DSI,
  DK32, DK64, Select, DIdx, Load, Store, Base, BaseIdx, BaseIdx2, Idx, DSTable, BaseTable,
  DTable, CastD, BaseType, BaseTypeN, Field
};
constexpr IrFmt kIrFmt[] = {
#define IR_OP(Name, Fmt) IrFmt::Fmt,
#define IR_UNARY(Name, In, Out, expr) IrFmt::DS,
#define IR_BINARY(Name, In, Out, expr) IrFmt::DSS, IrFmt::DSI,
#define IR_BINARY_NOIMM(Name, In, Out, expr) IrFmt::DSS,
#define IR_BRCMP(Name, In, expr) IrFmt::CmpJump, IrFmt::CmpImmJump,
#include "runtime/ir.def"
};
static_assert(std::size(kIrFmt) == kIrOpCount);

}  // namespace

std::string dumpIR(const CompiledModule& code, uint32_t func_index, const Module& module) {
  if (func_index < code.num_imported_funcs ||
      func_index - code.num_imported_funcs >= code.funcs.size()) {
    return fmt::format("func {}: imported or unknown\n", func_index);
  }
  const CompiledFunction& f = code.funcs[func_index - code.num_imported_funcs];
  std::string s;
  auto name = module.names.functions.find(func_index);
  s += fmt::format("func {}{}: params {}, results {}, locals {}, frame {} slots\n", func_index,
                   name != module.names.functions.end() ? " $" + name->second : "",
                   f.num_params, f.num_results, f.num_locals, f.frame_size);
  auto slot = [&](uint32_t v) {
    return v < f.num_locals ? fmt::format("L{}", v) : fmt::format("s{}", v - f.num_locals);
  };
  // Both maps at `pc` (the entry maps for a pc that is no safepoint).
  auto maps = [&](uint32_t pc) {
    std::string m;
    for (StackMapMode mode : {StackMapMode::Precise, StackMapMode::Conservative}) {
      m += mode == StackMapMode::Precise ? "live {" : "} all {";
      bool first = true;
      f.maps.forEachSlot(pc, mode, [&](uint32_t i) {
        m += (first ? "" : " ") + slot(i);
        first = false;
      });
    }
    return m + "}";
  };
  s += fmt::format("  entry {}\n", maps(UINT32_MAX));
  for (uint32_t pc = 0; pc < f.code.size(); ++pc) {
    const IrInstr& in = f.code[pc];
    std::string_view n = irOpName(in.op);
    auto ht = [&](uint32_t bits) {
      return fmt::format("{}{}", in.x ? "null " : "", HeapType::fromBits(bits).toString());
    };
    std::string line;
    switch (kIrFmt[static_cast<size_t>(in.op)]) {
      case IrFmt::None: line = std::string(n); break;
      case IrFmt::Jump: line = fmt::format("{} @{}", n, in.c); break;
      case IrFmt::CondJump: line = fmt::format("{} {} @{}", n, slot(in.a), in.c); break;
      case IrFmt::CmpJump: line = fmt::format("{} {} {} @{}", n, slot(in.a), slot(in.b), in.c); break;
      case IrFmt::CmpImmJump:
        line = fmt::format("{} {} {} @{}", n, slot(in.a), static_cast<int32_t>(in.b), in.c);
        break;
      case IrFmt::Cast: line = fmt::format("{} {} {} @{}", n, slot(in.a), ht(in.b), in.c); break;
      case IrFmt::BrTable: {
        line = fmt::format("{} {} [", n, slot(in.a));
        for (uint32_t i = 0; i <= in.c; ++i) {
          line += fmt::format("{}@{}", i ? " " : "", f.br_tables[in.b + i]);
        }
        line += "]";
        break;
      }
      case IrFmt::Call:
        if (in.op == IrOp::Call || in.op == IrOp::ReturnCall) {
          line = fmt::format("{} func {} args@{}", n, in.a, slot(in.b));
        } else {
          line = fmt::format("{} args@{} ({}) ref {}", n, slot(in.b), in.a, slot(in.b + in.a));
        }
        break;
      case IrFmt::CallInd:
        line = fmt::format("{} table {} type #{} args@{} index {}", n, in.c, in.a, slot(in.b),
                           slot(in.b + in.x));
        break;
      case IrFmt::D: line = fmt::format("{} = {}", slot(in.a), n); break;
      case IrFmt::DS: line = fmt::format("{} = {} {}", slot(in.a), n, slot(in.b)); break;
      case IrFmt::DSS:
        line = fmt::format("{} = {} {} {}", slot(in.a), n, slot(in.b), slot(in.c));
        break;
      case IrFmt::DSI:
        line = fmt::format("{} = {} {} {}", slot(in.a), n, slot(in.b), static_cast<int32_t>(in.c));
        break;
      case IrFmt::DK32: line = fmt::format("{} = {} {}", slot(in.a), n, in.b); break;
      case IrFmt::DK64:
        line = fmt::format("{} = {} 0x{:x}", slot(in.a), n, (uint64_t{in.c} << 32) | in.b);
        break;
      case IrFmt::Select:
        line = fmt::format("{} = {} {} {} {}", slot(in.a), n, slot(in.a), slot(in.b), slot(in.c));
        break;
      case IrFmt::DIdx:
        line = in.op == IrOp::GlobalSet ? fmt::format("{} {} = {}", n, in.b, slot(in.a))
                                        : fmt::format("{} = {} {}", slot(in.a), n, in.b);
        break;
      case IrFmt::Load:
        line = fmt::format("{} = {} [{} + {}]", slot(in.a), n, slot(in.b), in.c);
        break;
      case IrFmt::Store:
        line = fmt::format("{} [{} + {}] = {}", n, slot(in.a), in.c, slot(in.b));
        break;
      case IrFmt::Base: line = fmt::format("{} args@{}", n, slot(in.a)); break;
      case IrFmt::BaseIdx: line = fmt::format("{} args@{} {}", n, slot(in.a), in.b); break;
      case IrFmt::BaseIdx2:
        line = fmt::format("{} args@{} {} {}", n, slot(in.a), in.b, in.c);
        break;
      case IrFmt::Idx: line = fmt::format("{} {}", n, in.a); break;
      case IrFmt::DSTable:
        line = fmt::format("{} = {} table {} [{}]", slot(in.a), n, in.c, slot(in.b));
        break;
      case IrFmt::BaseTable: line = fmt::format("{} table {} args@{}", n, in.c, slot(in.a)); break;
      case IrFmt::DTable: line = fmt::format("{} = {} table {}", slot(in.a), n, in.c); break;
      case IrFmt::CastD:
        line = fmt::format("{} = {} {} {}", slot(in.a), n, slot(in.b), ht(in.c));
        break;
      case IrFmt::BaseType: line = fmt::format("{} = {} #{} args@{}", slot(in.a), n, in.b, slot(in.a)); break;
      case IrFmt::BaseTypeN:
        line = fmt::format("{} = {} #{} {} args@{}", slot(in.a), n, in.b, in.c, slot(in.a));
        break;
      case IrFmt::Field:
        if (in.op == IrOp::StructSet) {
          line = fmt::format("{} {}.{} = {}", n, slot(in.a), in.c, slot(in.b));
        } else {
          line = fmt::format("{} = {} {}.{}{}", slot(in.a), n, slot(in.b), in.c,
                             in.x ? fmt::format(" s{}", in.x) : "");
        }
        break;
    }
    s += fmt::format("  {:4}: {}", pc, line);
    if (isSafepoint(in.op)) s += "    ; safepoint " + maps(pc);
    s += "\n";
  }
  return s;
}

}  // namespace slabfuzz
