#include "runtime/decode_expr.h"

#include <fmt/format.h>

#include <array>
#include <limits>

namespace slabfuzz {

namespace {

// --- Opcode lookup, expanded from opcodes.def ----------------------------

// Entries of the lookup tables: an Opcode, or one of these markers for
// bytes that are not rows of opcodes.def.
enum Marker : uint16_t {
  kIllegal = 0xFFFF,
  kPrefixGc = 0xFFFE,       // 0xFB: GC, sub-opcode follows
  kPrefixMisc = 0xFFFD,     // 0xFC: saturating/bulk/table, sub-opcode follows
  kPrefixSimd = 0xFFFC,     // 0xFD: out of scope
  kPrefixThreads = 0xFFFB,  // 0xFE: out of scope
  kExceptionsOp = 0xFFFA,   // try, catch, throw, ..., try_table: out of scope
  kStackSwitchOp = 0xFFF9,  // cont.new .. switch (0xE0-0xE6): out of scope
};
static_assert(kOpcodeCount < kStackSwitchOp);

constexpr size_t kPrefixedTableSize = 64;

struct OpcodeTables {
  std::array<uint16_t, 256> single{};
  std::array<uint16_t, kPrefixedTableSize> gc{};    // 0xFB sub-opcodes
  std::array<uint16_t, kPrefixedTableSize> misc{};  // 0xFC sub-opcodes
  std::array<ImmKind, kOpcodeCount> imm{};
  // Opcodes the decode loop must look at beyond their immediates: block
  // structure, and data indices that need the data count section.
  std::array<bool, kOpcodeCount> structural{};
};

struct OpcodeRow {
  uint8_t prefix;
  uint32_t code;
  ImmKind imm;
};

constexpr OpcodeRow kRows[] = {
#define WASM_OP(Name, Prefix, Code, Imm, Sig, Text) {Prefix, Code, ImmKind::Imm},
#include "runtime/opcodes.def"
};
static_assert(std::size(kRows) == kOpcodeCount);

constexpr OpcodeTables buildOpcodeTables() {
  OpcodeTables t;
  t.single.fill(kIllegal);
  t.gc.fill(kIllegal);
  t.misc.fill(kIllegal);
  for (size_t i = 0; i < kOpcodeCount; ++i) {
    const OpcodeRow& row = kRows[i];
    const auto op = static_cast<uint16_t>(i);
    t.imm[i] = row.imm;
    // An out-of-range code stops constant evaluation: a compile error.
    if (row.prefix == 0) t.single.at(row.code) = op;
    if (row.prefix == 0xFB) t.gc.at(row.code) = op;
    if (row.prefix == 0xFC) t.misc.at(row.code) = op;
  }
  for (Opcode op :
       {Opcode::Block, Opcode::Loop, Opcode::If, Opcode::Else, Opcode::End, Opcode::MemoryInit,
        Opcode::DataDrop, Opcode::ArrayNewData, Opcode::ArrayInitData}) {
    t.structural[static_cast<size_t>(op)] = true;
  }
  t.single[0xFB] = kPrefixGc;
  t.single[0xFC] = kPrefixMisc;
  t.single[0xFD] = kPrefixSimd;
  t.single[0xFE] = kPrefixThreads;
  // Exception handling, legacy and current (try 0x06, catch 0x07, throw 0x08,
  // rethrow 0x09, throw_ref 0x0A, delegate 0x18, catch_all 0x19, try_table 0x1F).
  for (uint8_t code : {0x06, 0x07, 0x08, 0x09, 0x0A, 0x18, 0x19, 0x1F})
    t.single[code] = kExceptionsOp;
  // Stack switching: cont.new, cont.bind, suspend, resume, resume_throw, switch, ...
  for (unsigned code = 0xE0; code <= 0xE6; ++code) t.single[code] = kStackSwitchOp;
  return t;
}

constexpr OpcodeTables kOpcodes = buildOpcodeTables();

constexpr ImmKind immOf(Opcode op) {
  return kOpcodes.imm[static_cast<size_t>(op)];
}

bool needsDataCount(Opcode op) {
  return op == Opcode::MemoryInit || op == Opcode::DataDrop || op == Opcode::ArrayNewData ||
         op == Opcode::ArrayInitData;
}

// First bytes that start a value type in a block type (spec 5.4.1): number,
// vector and reference types (including those we reject as out of scope).
bool startsValType(uint8_t b) {
  return (b >= kCodeV128 && b <= kCodeI32) || b == kCodeRef || b == kCodeRefNull ||
         HeapType::isAbstractCode(b) || b == kCodeShared;
}

void setU64(Instr& ins, uint64_t v) {
  ins.a = static_cast<uint32_t>(v);
  ins.b = static_cast<uint32_t>(v >> 32);
}

}  // namespace

bool ExprDecoder::decodeBody(bool has_data_count, std::vector<Instr>& body,
                             std::vector<uint32_t>& extra) {
  has_data_count_ = has_data_count;
  // Most instructions take two or three bytes; this saves most regrowth
  // without holding much more than the input's size.
  body.reserve(r_.remaining() / 2 + 1);
  return decode(Mode::Body, body, extra);
}

bool ExprDecoder::decodeConstExpr(ConstExpr& out) {
  out.offset = r_.offset();
  scratch_extra_.clear();
  return decode(Mode::ConstExpr, out.instrs, scratch_extra_);
}

// expr ::= instr* 0x0B, where block, loop and if nest their own instr* and
// end (spec 5.4.1). The stack of open blocks lets each End find its opener.
// Hot loop: each instruction is built in place; only the opcodes marked
// `structural` (block structure, data indices) take the slow path.
bool ExprDecoder::decode(Mode mode, std::vector<Instr>& out, std::vector<uint32_t>& extra) {
  open_blocks_.clear();
  for (;;) {
    if (r_.atEnd()) {
      if (mode == Mode::ConstExpr) return r_.unexpectedEnd();
      return r_.fail(ErrorCode::MalformedBody, r_.offset(), "END opcode expected");
    }
    const auto index = static_cast<uint32_t>(out.size());
    Instr& ins = out.emplace_back();
    ins.offset = r_.offset();
    const uint8_t byte = *r_.pos();
    r_.skipTo(r_.pos() + 1);
    const uint16_t entry = kOpcodes.single[byte];
    if (entry < kOpcodeCount) {
      ins.op = static_cast<Opcode>(entry);
    } else if (!readOtherOpcode(byte, entry, ins)) {
      return false;
    }
    if (immOf(ins.op) != ImmKind::None && !readImmediates(ins, extra)) return false;
    if (!kOpcodes.structural[static_cast<size_t>(ins.op)]) continue;
    bool done = false;
    if (!trackStructure(mode, out, index, done)) return false;
    if (done) return true;
  }
}

// Block structure and the data count rule for out[index], just decoded.
// Sets `done` when out[index] is the End that closes the whole sequence.
bool ExprDecoder::trackStructure(Mode mode, std::vector<Instr>& out, uint32_t index, bool& done) {
  const Instr& ins = out[index];
  switch (ins.op) {
    case Opcode::Block:
    case Opcode::Loop:
    case Opcode::If: open_blocks_.push_back(index); return true;
    case Opcode::Else: {
      // Only directly inside an `if` that has no `else` yet; d == 0 means
      // "no else" while the if is open (an else always follows its if).
      if (open_blocks_.empty() || out[open_blocks_.back()].op != Opcode::If ||
          out[open_blocks_.back()].d != 0) {
        return r_.fail(ErrorCode::MalformedBody, ins.offset, "else without matching if");
      }
      out[open_blocks_.back()].d = index;
      return true;
    }
    case Opcode::End: {
      if (open_blocks_.empty()) {  // the End that closes the whole sequence
        done = true;
        if (mode == Mode::ConstExpr) {
          out.pop_back();  // ConstExpr holds the instructions without their End
          return true;
        }
        if (!r_.atEnd()) {
          return r_.fail(ErrorCode::SectionSizeMismatch, r_.offset(),
                         "section size mismatch: function body continues after its final end");
        }
        return true;
      }
      Instr& opener = out[open_blocks_.back()];
      open_blocks_.pop_back();
      opener.c = index;
      if (opener.op == Opcode::If && opener.d == 0) opener.d = index;
      return true;
    }
    default:
      if (mode == Mode::Body && !has_data_count_ && needsDataCount(ins.op)) {
        return r_.fail(ErrorCode::DataCountRequired, ins.offset, "data count section required");
      }
      return true;
  }
}

// Everything that is not a row of the single-byte table: the 0xFB and 0xFC
// prefixes, out-of-scope opcodes and illegal bytes. `byte` is consumed.
bool ExprDecoder::readOtherOpcode(uint8_t byte, uint16_t entry, Instr& ins) {
  const uint32_t at = ins.offset;
  switch (entry) {
    case kPrefixGc:
    case kPrefixMisc: {
      // Prefixed sub-opcodes are u32 LEB128 (spec 5.4): 0xFC 0x80 0x00 is 0xFC 0.
      uint32_t sub;
      if (!r_.readU32(sub)) return false;
      const auto& table = entry == kPrefixGc ? kOpcodes.gc : kOpcodes.misc;
      const uint16_t op = sub < table.size() ? table[sub] : uint16_t{kIllegal};
      if (op == kIllegal) {
        return r_.fail(ErrorCode::UnknownOpcode, at,
                       fmt::format("illegal opcode 0x{:02x} 0x{:x}", byte, sub));
      }
      ins.op = static_cast<Opcode>(op);
      return true;
    }
    case kPrefixSimd: return r_.unsupported(at, feature::kSimd);
    case kPrefixThreads: return r_.unsupported(at, feature::kThreads);
    case kExceptionsOp: return r_.unsupported(at, feature::kExceptions);
    case kStackSwitchOp: return r_.unsupported(at, feature::kStackSwitching);
    default:
      return r_.fail(ErrorCode::UnknownOpcode, at, fmt::format("illegal opcode 0x{:02x}", byte));
  }
}

// Reads the immediates of ins.op into a/b/c/d as instr.h lays them out.
bool ExprDecoder::readImmediates(Instr& ins, std::vector<uint32_t>& extra) {
  switch (immOf(ins.op)) {
    case ImmKind::None: return true;
    case ImmKind::BlockType: return readBlockType(ins);
    case ImmKind::Label:
    case ImmKind::Func:
    case ImmKind::Type:
    case ImmKind::Local:
    case ImmKind::Global:
    case ImmKind::Table:
    case ImmKind::Data:
    case ImmKind::Elem: return r_.readU32(ins.a);
    case ImmKind::CallIndirect:  // typeidx then tableidx (a u32 since reference types)
    case ImmKind::TypeField:
    case ImmKind::TypeCount:
    case ImmKind::TypeData:
    case ImmKind::TypeElem:
    case ImmKind::TypeType:
    case ImmKind::TableInit:  // elemidx then tableidx
    case ImmKind::TableCopy:  // destination then source
      return r_.readU32(ins.a) && r_.readU32(ins.b);
    case ImmKind::BrTable: return readBrTable(ins, extra);
    case ImmKind::MemArg1:
    case ImmKind::MemArg2:
    case ImmKind::MemArg4:
    case ImmKind::MemArg8: return readMemArg(ins);
    case ImmKind::MemIdx: return readMemoryIndex(ins.a);
    case ImmKind::MemInit: return r_.readU32(ins.a) && readMemoryIndex(ins.b);
    case ImmKind::MemCopy: return readMemoryIndex(ins.a) && readMemoryIndex(ins.b);
    case ImmKind::I32: {
      int32_t v;
      if (!r_.readS32(v)) return false;
      ins.a = static_cast<uint32_t>(v);
      return true;
    }
    case ImmKind::I64: {
      int64_t v;
      if (!r_.readS64(v)) return false;
      setU64(ins, static_cast<uint64_t>(v));
      return true;
    }
    case ImmKind::F32: return r_.readFixed32(ins.a);
    case ImmKind::F64: {
      uint64_t bits;
      if (!r_.readFixed64(bits)) return false;
      setU64(ins, bits);
      return true;
    }
    case ImmKind::SelectT: return readSelectTypes(ins);
    case ImmKind::HeapType: {
      HeapType ht;
      if (!r_.readHeapType(ht)) return false;
      ins.a = ht.bits();
      return true;
    }
    case ImmKind::BrOnCast: return readBrOnCast(ins);
  }
  return r_.fail(ErrorCode::UnknownOpcode, ins.offset, "illegal opcode");
}

// blocktype ::= 0x40 | valtype | s33 (>= 0, a type index)   (spec 5.4.1)
bool ExprDecoder::readBlockType(Instr& ins) {
  uint8_t b;
  if (!r_.peekU8(b)) return r_.unexpectedEnd();
  if (b == kCodeEmptyBlock) {
    r_.skipTo(r_.pos() + 1);
    ins.a = static_cast<uint32_t>(BlockTypeKind::Empty);
    return true;
  }
  if (startsValType(b)) {
    ValType t;
    if (!r_.readValType(t)) return false;
    ins.a = static_cast<uint32_t>(BlockTypeKind::Value);
    ins.b = t.bits();
    return true;
  }
  const uint32_t at = r_.offset();
  int64_t index;
  if (!r_.readS33(index)) return false;
  if (index < 0) {
    return r_.fail(ErrorCode::MalformedType, at, fmt::format("malformed block type 0x{:02x}", b));
  }
  ins.a = static_cast<uint32_t>(BlockTypeKind::TypeIndex);
  ins.b = static_cast<uint32_t>(index);  // s33 >= 0 fits in 32 bits
  return true;
}

// memarg ::= n:u32 m:u64            if n < 2^6   (memory 0, alignment 2^n)
//          | n:u32 x:memidx m:u64   if 2^6 <= n < 2^7   (Wasm 3.0, 5.4.6)
bool ExprDecoder::readMemArg(Instr& ins) {
  const uint32_t at = r_.offset();
  uint32_t flags;
  if (!r_.readU32(flags)) return false;
  if (flags >= 128) {
    return r_.fail(ErrorCode::MalformedFlags, at,
                   fmt::format("malformed memop flags 0x{:x}", flags));
  }
  uint32_t memory = 0;
  if (flags >= 64) {
    flags -= 64;
    if (!readMemoryIndex(memory)) return false;
  }
  uint64_t offset;
  if (!r_.readU64(offset)) return false;  // the validator checks the range
  ins.a = flags;
  ins.b = static_cast<uint32_t>(offset);
  ins.c = static_cast<uint32_t>(offset >> 32);
  ins.d = memory;
  return true;
}

// A memory index (u32 since multi-memory; a zero byte in the MVP). Memory 0
// is the only one in scope.
bool ExprDecoder::readMemoryIndex(uint32_t& out) {
  const uint32_t at = r_.offset();
  if (!r_.readU32(out)) return false;
  if (out != 0) return r_.unsupported(at, feature::kMultiMemory);
  return true;
}

// br_table l*:vec(labelidx) l_N:labelidx; the targets go to Function::extra.
bool ExprDecoder::readBrTable(Instr& ins, std::vector<uint32_t>& extra) {
  uint32_t count;
  if (!r_.readCount(count, kMaxBrTableTargets, "br_table targets")) return false;
  ins.a = static_cast<uint32_t>(extra.size());
  ins.b = count;
  extra.reserve(extra.size() + count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t depth;
    if (!r_.readU32(depth)) return false;
    extra.push_back(depth);
  }
  return r_.readU32(ins.c);
}

// select t*: every type is read; the validator checks that there is one.
bool ExprDecoder::readSelectTypes(Instr& ins) {
  uint32_t count;
  if (!r_.readCount(count, std::numeric_limits<uint32_t>::max(), "select types")) return false;
  ins.a = count;
  for (uint32_t i = 0; i < count; ++i) {
    ValType t;
    if (!r_.readValType(t)) return false;
    if (i == 0) ins.b = t.bits();
  }
  return true;
}

// br_on_cast(_fail) castflags:u8 l:labelidx ht1:heaptype ht2:heaptype, where
// bit 0 makes ht1 nullable and bit 1 makes ht2 nullable (spec 5.4.2).
bool ExprDecoder::readBrOnCast(Instr& ins) {
  const uint32_t at = r_.offset();
  uint8_t flags;
  if (!r_.readU8(flags)) return false;
  if ((flags & ~3u) != 0) {
    return r_.fail(ErrorCode::MalformedFlags, at,
                   fmt::format("malformed cast flags 0x{:02x}", flags));
  }
  HeapType source, target;
  if (!r_.readU32(ins.a) || !r_.readHeapType(source) || !r_.readHeapType(target)) return false;
  ins.b = source.bits();
  ins.c = target.bits();
  ins.d = flags;
  return true;
}

}  // namespace slabfuzz
