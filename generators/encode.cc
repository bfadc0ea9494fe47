// The binary encoder (spec 5.5, the inverse of runtime/decode.cc). Sections
// are written in the order the decoder requires (spec 5.5.16); instructions
// through the same opcodes.def table the decoder expands, so an opcode row
// added there is encoded here with no further change unless it brings a new
// ImmKind.
#include "generators/encode.h"

#include <span>

#include "generators/byte_writer.h"
#include "runtime/binary_format.h"
#include "runtime/decode.h"

namespace slabfuzz {

namespace {

using namespace binary;  // section and name subsection ids

constexpr uint8_t kCodeEnd = 0x0B;

// Instructions that index the data segments from a function body, which
// makes the data count section mandatory (spec 5.5.16).
bool needsDataCount(Opcode op) {
  return op == Opcode::MemoryInit || op == Opcode::DataDrop || op == Opcode::ArrayNewData ||
         op == Opcode::ArrayInitData;
}

const ValType kFuncRef = ValType::ref(HeapType::abstract(HeapType::Func), false);
const ValType kNullableFuncRef = ValType::ref(HeapType::abstract(HeapType::Func), true);

// --- Types (spec 5.3) ------------------------------------------------------

void writeHeapType(Bytes& out, HeapType ht) {
  if (ht.isAbstract()) {
    out.u8(ht.abstractKind());
  } else {
    out.s64(ht.index());  // s33, non-negative
  }
}

// Value and storage types. A nullable abstract reference uses its one-byte
// shorthand (spec 5.3.5), which the decoder reads back as the same ValType.
void writeValType(Bytes& out, ValType t) {
  switch (t.kind()) {
    case ValKind::I32: out.u8(kCodeI32); return;
    case ValKind::I64: out.u8(kCodeI64); return;
    case ValKind::F32: out.u8(kCodeF32); return;
    case ValKind::F64: out.u8(kCodeF64); return;
    case ValKind::V128: out.u8(kCodeV128); return;
    case ValKind::I8: out.u8(kCodeI8); return;
    case ValKind::I16: out.u8(kCodeI16); return;
    case ValKind::Ref:
      if (t.nullable() && t.heapType().isAbstract()) {
        out.u8(t.heapType().abstractKind());
        return;
      }
      out.u8(t.nullable() ? kCodeRefNull : kCodeRef);
      writeHeapType(out, t.heapType());
      return;
  }
}

// limits ::= 0x00 min | 0x01 min max (memory64 and shared flags are out of scope).
void writeLimits(Bytes& out, const Limits& limits) {
  out.u8(limits.max ? 0x01 : 0x00);
  out.u32(limits.min);
  if (limits.max) out.u32(*limits.max);
}

void writeTableType(Bytes& out, const TableType& t) {
  writeValType(out, t.elem);
  writeLimits(out, t.limits);
}

void writeGlobalType(Bytes& out, const GlobalType& t) {
  writeValType(out, t.type);
  out.u8(t.mut ? 0x01 : 0x00);
}

void writeFieldType(Bytes& out, const FieldType& f) {
  writeValType(out, f.type);
  out.u8(f.mut ? 0x01 : 0x00);
}

void writeValTypes(Bytes& out, const std::vector<ValType>& types) {
  out.u32(types.size());
  for (ValType t : types) writeValType(out, t);
}

// subtype ::= 0x50 vec(typeidx) comptype | 0x4F vec(typeidx) comptype | comptype
// (spec 5.3.9): `final` with no supertypes is the bare form.
void writeSubType(Bytes& out, const SubType& st) {
  if (!st.final || !st.supertypes.empty()) {
    out.u8(st.final ? kCodeSubFinal : kCodeSub);
    out.u32(st.supertypes.size());
    for (uint32_t super : st.supertypes) out.u32(super);
  }
  const CompositeType& c = st.composite;
  switch (c.kind) {
    case CompositeKind::Func:
      out.u8(kCodeFunc);
      writeValTypes(out, c.func.params);
      writeValTypes(out, c.func.results);
      return;
    case CompositeKind::Struct:
      out.u8(kCodeStruct);
      out.u32(c.fields.size());
      for (const FieldType& f : c.fields) writeFieldType(out, f);
      return;
    case CompositeKind::Array:
      out.u8(kCodeArray);
      writeFieldType(out, c.fields.empty() ? FieldType{} : c.fields[0]);
      return;
  }
}

// --- Instructions (spec 5.4) -------------------------------------------------

void writeMemArg(Bytes& out, const Instr& ins) {
  // Wasm 3.0 (5.4.6): bit 6 of the alignment field announces a memory index.
  if (ins.d != 0) {
    out.u32(ins.a | 64u);
    out.u32(ins.d);
  } else {
    out.u32(ins.a);
  }
  out.u32(ins.memOffset());
}

void writeBlockType(Bytes& out, const Instr& ins) {
  switch (static_cast<BlockTypeKind>(ins.a)) {
    case BlockTypeKind::Empty: out.u8(kCodeEmptyBlock); return;
    case BlockTypeKind::Value: writeValType(out, ValType::fromBits(ins.b)); return;
    case BlockTypeKind::TypeIndex: out.s64(ins.b); return;  // s33, non-negative
  }
  out.u8(kCodeEmptyBlock);
}

// One instruction: opcode (prefix, then a LEB128 sub-opcode), immediates as
// instr.h lays them out. Else and End are instructions of the body, so block
// structure needs nothing beyond writing them in order.
void writeInstr(Bytes& out, const Instr& ins, const std::vector<uint32_t>& extra) {
  const auto index = static_cast<size_t>(ins.op);
  if (index >= kOpcodeCount) return;
  const OpcodeInfo& row = opcodeInfo(ins.op);
  if (row.prefix != 0) {
    out.u8(row.prefix);
    out.u32(row.code);
  } else {
    out.u8(static_cast<uint8_t>(row.code));
  }
  switch (row.imm) {
    case ImmKind::None: return;
    case ImmKind::BlockType: writeBlockType(out, ins); return;
    case ImmKind::Label:
    case ImmKind::Func:
    case ImmKind::Type:
    case ImmKind::Local:
    case ImmKind::Global:
    case ImmKind::Table:
    case ImmKind::Data:
    case ImmKind::Elem:
    case ImmKind::MemIdx: out.u32(ins.a); return;
    case ImmKind::CallIndirect:  // typeidx tableidx
    case ImmKind::TypeField:
    case ImmKind::TypeCount:
    case ImmKind::TypeData:
    case ImmKind::TypeElem:
    case ImmKind::TypeType:
    case ImmKind::MemInit:    // dataidx memidx
    case ImmKind::MemCopy:    // destination source
    case ImmKind::TableInit:  // elemidx tableidx
    case ImmKind::TableCopy:  // destination source
      out.u32(ins.a);
      out.u32(ins.b);
      return;
    case ImmKind::BrTable:
      out.u32(ins.b);
      for (uint32_t i = 0; i < ins.b; ++i) {
        const uint64_t at = uint64_t{ins.a} + i;
        out.u32(at < extra.size() ? extra[at] : 0);
      }
      out.u32(ins.c);
      return;
    case ImmKind::MemArg1:
    case ImmKind::MemArg2:
    case ImmKind::MemArg4:
    case ImmKind::MemArg8: writeMemArg(out, ins); return;
    case ImmKind::I32: out.s64(static_cast<int32_t>(ins.a)); return;
    case ImmKind::I64: out.s64(static_cast<int64_t>(ins.u64())); return;
    case ImmKind::F32: out.fixed32(ins.a); return;
    case ImmKind::F64: out.fixed64(ins.u64()); return;
    case ImmKind::SelectT:
      // Instr keeps the first type only (validation requires exactly one);
      // a longer vector is written with that type repeated.
      out.u32(ins.a);
      for (uint32_t i = 0; i < ins.a; ++i) writeValType(out, ValType::fromBits(ins.b));
      return;
    case ImmKind::HeapType: writeHeapType(out, HeapType::fromBits(ins.a)); return;
    case ImmKind::BrOnCast:  // castflags:u8 label ht1 ht2 (spec 5.4.2)
      out.u8(static_cast<uint8_t>(ins.d));
      out.u32(ins.a);
      writeHeapType(out, HeapType::fromBits(ins.b));
      writeHeapType(out, HeapType::fromBits(ins.c));
      return;
  }
}

// A constant expression holds its instructions without the final End.
void writeConstExpr(Bytes& out, const ConstExpr& expr) {
  static const std::vector<uint32_t> kNoExtra;
  for (const Instr& ins : expr.instrs) writeInstr(out, ins, kNoExtra);
  out.u8(kCodeEnd);
}

// --- Names (spec 7.4) ---------------------------------------------------------

void writeNameMap(Bytes& out, const std::map<uint32_t, std::string>& names) {
  out.u32(names.size());
  for (const auto& [index, name] : names) {
    out.u32(index);
    out.name(name);
  }
}

void writeIndirectNameMap(Bytes& out,
                          const std::map<uint32_t, std::map<uint32_t, std::string>>& names) {
  out.u32(names.size());
  for (const auto& [index, inner] : names) {
    out.u32(index);
    writeNameMap(out, inner);
  }
}

// Subsections in increasing id, empty ones left out.
Bytes encodeNames(const Names& names) {
  Bytes out;
  auto sub = [&out](uint8_t id, const Bytes& payload) { out.section(id, payload); };
  if (names.module) {
    Bytes b;
    b.name(*names.module);
    sub(kModuleNames, b);
  }
  auto map = [&](uint8_t id, const std::map<uint32_t, std::string>& m) {
    if (m.empty()) return;
    Bytes b;
    writeNameMap(b, m);
    sub(id, b);
  };
  auto indirect = [&](uint8_t id, const std::map<uint32_t, std::map<uint32_t, std::string>>& m) {
    if (m.empty()) return;
    Bytes b;
    writeIndirectNameMap(b, m);
    sub(id, b);
  };
  map(kFunctionNames, names.functions);
  indirect(kLocalNames, names.locals);
  indirect(kLabelNames, names.labels);
  map(kTypeNames, names.types);
  map(kTableNames, names.tables);
  map(kMemoryNames, names.memories);
  map(kGlobalNames, names.globals);
  map(kElemNames, names.elems);
  map(kDataNames, names.datas);
  indirect(kFieldNames, names.fields);
  return out;
}

bool namesEmpty(const Names& n) {
  return !n.module && n.functions.empty() && n.types.empty() && n.tables.empty() &&
         n.memories.empty() && n.globals.empty() && n.elems.empty() && n.datas.empty() &&
         n.locals.empty() && n.labels.empty() && n.fields.empty();
}

bool namesSame(const Names& a, const Names& b) {
  return a.module == b.module && a.functions == b.functions && a.types == b.types &&
         a.tables == b.tables && a.memories == b.memories && a.globals == b.globals &&
         a.elems == b.elems && a.datas == b.datas && a.locals == b.locals && a.labels == b.labels &&
         a.fields == b.fields;
}

// What the decoder reads from a name section payload, asked of the decoder
// itself (through a module holding only that section) so that the two can
// never disagree about a payload.
Names namesIn(const std::vector<uint8_t>& payload) {
  Bytes probe;
  probe.raw(std::string_view("\0asm\1\0\0\0", 8));
  Bytes section;
  section.name("name");
  section.raw(payload);
  probe.section(kCustomSection, section);
  DecodeOptions options;
  options.keep_custom_payloads = false;
  auto decoded = decodeModule(probe.data(), options);
  return decoded.ok() ? std::move(decoded.value().names) : Names{};
}

// --- Module ---------------------------------------------------------------------

class Encoder {
 public:
  explicit Encoder(const Module& m) : m_(m) {}

  std::vector<uint8_t> run() {
    out_.raw(std::string_view("\0asm\1\0\0\0", 8));
    typeSection();
    importSection();
    functionSection();
    tableSection();
    memorySection();
    globalSection();
    exportSection();
    startSection();
    elemSection();
    dataCountSection();
    codeSection();
    dataSection();
    customSections();
    return std::move(out_.data());
  }

 private:
  void section(uint8_t id, const Bytes& payload) { out_.section(id, payload); }

  // rectype ::= 0x4E vec(subtype) | subtype (spec 5.3.10). A group of one
  // is written bare: the spec defines the two as the same rec group.
  void typeSection() {
    if (m_.types.empty() && m_.rec_groups.empty()) return;
    Bytes b;
    if (!m_.rec_groups.empty()) {
      b.u32(m_.rec_groups.size());
      for (const RecGroup& g : m_.rec_groups) {
        if (g.count != 1) {
          b.u8(kCodeRec);
          b.u32(g.count);
        }
        for (uint32_t i = 0; i < g.count && g.first + i < m_.types.size(); ++i) {
          writeSubType(b, m_.types[g.first + i]);
        }
      }
    } else {
      // A Module built without rec_groups: group runs of equal rec_group.
      std::vector<std::pair<size_t, size_t>> groups;  // first, count
      for (size_t i = 0; i < m_.types.size(); ++i) {
        if (i == 0 || m_.types[i].rec_group != m_.types[i - 1].rec_group) groups.push_back({i, 0});
        ++groups.back().second;
      }
      b.u32(groups.size());
      for (const auto& [first, count] : groups) {
        if (count != 1) {
          b.u8(kCodeRec);
          b.u32(count);
        }
        for (size_t i = 0; i < count; ++i) writeSubType(b, m_.types[first + i]);
      }
    }
    section(kTypeSection, b);
  }

  void importSection() {
    if (m_.imports.empty()) return;
    Bytes b;
    b.u32(m_.imports.size());
    for (const Import& imp : m_.imports) {
      b.name(imp.module);
      b.name(imp.name);
      b.u8(static_cast<uint8_t>(imp.kind));
      switch (imp.kind) {
        case ExternKind::Func: b.u32(imp.func_type); break;
        case ExternKind::Table: writeTableType(b, imp.table); break;
        case ExternKind::Memory: writeLimits(b, imp.memory.limits); break;
        case ExternKind::Global: writeGlobalType(b, imp.global); break;
        case ExternKind::Tag: break;  // out of scope: never decoded
      }
    }
    section(kImportSection, b);
  }

  // The type of each defined function comes from the index space
  // (func_types), falling back to Function::type_index for a Module whose
  // index space was not filled in.
  void functionSection() {
    if (m_.functions.empty()) return;
    Bytes b;
    b.u32(m_.functions.size());
    for (size_t i = 0; i < m_.functions.size(); ++i) {
      const size_t index = m_.num_imported_funcs + i;
      b.u32(index < m_.func_types.size() ? m_.func_types[index] : m_.functions[i].type_index);
    }
    section(kFunctionSection, b);
  }

  // table ::= tabletype | 0x40 0x00 tabletype expr (spec 5.5.7)
  void tableSection() {
    if (m_.tables.empty()) return;
    Bytes b;
    b.u32(m_.tables.size());
    for (const Table& t : m_.tables) {
      if (t.init) {
        b.u8(0x40);
        b.u8(0x00);
        writeTableType(b, t.type);
        writeConstExpr(b, *t.init);
      } else {
        writeTableType(b, t.type);
      }
    }
    section(kTableSection, b);
  }

  void memorySection() {
    if (m_.memory_types.size() <= m_.num_imported_memories) return;
    Bytes b;
    b.u32(m_.memory_types.size() - m_.num_imported_memories);
    for (size_t i = m_.num_imported_memories; i < m_.memory_types.size(); ++i) {
      writeLimits(b, m_.memory_types[i].limits);
    }
    section(kMemorySection, b);
  }

  void globalSection() {
    if (m_.globals.empty()) return;
    Bytes b;
    b.u32(m_.globals.size());
    for (const Global& g : m_.globals) {
      writeGlobalType(b, g.type);
      writeConstExpr(b, g.init);
    }
    section(kGlobalSection, b);
  }

  void exportSection() {
    if (m_.exports.empty()) return;
    Bytes b;
    b.u32(m_.exports.size());
    for (const Export& e : m_.exports) {
      b.name(e.name);
      b.u8(static_cast<uint8_t>(e.kind));
      b.u32(e.index);
    }
    section(kExportSection, b);
  }

  void startSection() {
    if (!m_.start) return;
    Bytes b;
    b.u32(*m_.start);
    section(kStartSection, b);
  }

  // Element segments (spec 5.5.12). The flags are a bit field: bit 0
  // passive/declarative, bit 1 explicit table (active) or declarative,
  // bit 2 expressions. A Module keeps no flags, only what they mean, so the
  // most compact form that says the same is chosen:
  //   function indices (flags 0-3) when the type is (ref func) and every
  //   item is a lone ref.func (exactly what flags 0-3 decode to), except
  //   for passive segments and active ones naming their table: Binaryen
  //   132 reads elemkind 0x00 as the nullable funcref, so an
  //   array.new_elem of (array (ref func)) from such a segment would be
  //   refused there; the expression form with its explicit type says the
  //   same to every reader;
  //   the implicit table 0 (flags 0 and 4) when flag 0's implied type
  //   (ref func) or flag 4's (ref null func) is the segment's.
  void elemSection() {
    if (m_.elems.empty()) return;
    Bytes b;
    b.u32(m_.elems.size());
    for (const ElemSegment& seg : m_.elems) writeElemSegment(b, seg);
    section(kElemSection, b);
  }

  static bool usesFuncIndices(const ElemSegment& seg) {
    if (seg.type != kFuncRef) return false;
    if (seg.mode == SegmentMode::Passive) return false;
    if (seg.mode == SegmentMode::Active && seg.table != 0) return false;
    for (const ConstExpr& item : seg.items) {
      if (item.instrs.size() != 1 || item.instrs[0].op != Opcode::RefFunc) return false;
    }
    return true;
  }

  static void writeElemSegment(Bytes& b, const ElemSegment& seg) {
    const bool indices = usesFuncIndices(seg);
    uint32_t flags = indices ? 0 : 4;
    switch (seg.mode) {
      case SegmentMode::Active: {
        const bool implicit = seg.table == 0 && (indices || seg.type == kNullableFuncRef);
        if (!implicit) flags |= 2;
        break;
      }
      case SegmentMode::Passive: flags |= 1; break;
      case SegmentMode::Declarative: flags |= 3; break;
    }
    b.u32(flags);
    if (seg.mode == SegmentMode::Active) {
      if (flags & 2) b.u32(seg.table);
      writeConstExpr(b, seg.table_offset);
    }
    const bool explicit_type = (flags & 3) != 0;
    if (indices) {
      if (explicit_type) b.u8(0x00);  // elemkind funcref
      b.u32(seg.items.size());
      for (const ConstExpr& item : seg.items) b.u32(item.instrs[0].a);
      return;
    }
    if (explicit_type) writeValType(b, seg.type);
    b.u32(seg.items.size());
    for (const ConstExpr& item : seg.items) writeConstExpr(b, item);
  }

  void dataCountSection() {
    std::optional<uint32_t> count = m_.data_count;
    if (!count) {
      for (const Function& fn : m_.functions) {
        for (const Instr& ins : fn.body) {
          if (needsDataCount(ins.op)) count = static_cast<uint32_t>(m_.datas.size());
        }
      }
    }
    if (!count) return;
    Bytes b;
    b.u32(*count);
    section(kDataCountSection, b);
  }

  // code ::= size:u32 (locals:vec(n:u32 t:valtype) expr) (spec 5.5.13),
  // locals in runs of one type.
  void codeSection() {
    if (m_.functions.empty()) return;
    Bytes b;
    b.u32(m_.functions.size());
    for (const Function& fn : m_.functions) {
      Bytes body;
      std::vector<std::pair<uint32_t, ValType>> runs;
      for (ValType t : fn.locals) {
        if (runs.empty() || runs.back().second != t) runs.emplace_back(0, t);
        ++runs.back().first;
      }
      body.u32(runs.size());
      for (const auto& [n, t] : runs) {
        body.u32(n);
        writeValType(body, t);
      }
      for (const Instr& ins : fn.body) writeInstr(body, ins, fn.extra);
      b.u32(body.size());
      b.raw(body);
    }
    section(kCodeSection, b);
  }

  // data ::= 0 expr vec(byte) | 1 vec(byte) | 2 memidx expr vec(byte)
  void dataSection() {
    if (m_.datas.empty()) return;
    Bytes b;
    b.u32(m_.datas.size());
    for (const DataSegment& seg : m_.datas) {
      if (seg.mode != SegmentMode::Active) {
        b.u32(1);
      } else if (seg.memory == 0) {
        b.u32(0);
        writeConstExpr(b, seg.memory_offset);
      } else {
        b.u32(2);
        b.u32(seg.memory);
        writeConstExpr(b, seg.memory_offset);
      }
      b.u32(seg.bytes.size());
      b.raw(seg.bytes);
    }
    section(kDataSection, b);
  }

  void customSections() {
    bool wrote_names = false;
    for (const CustomSection& custom : m_.customs) {
      Bytes b;
      b.name(custom.name);
      if (custom.name == "name" && !wrote_names) {
        wrote_names = true;
        // Only the first name section counts (decode.cc). Its payload is
        // kept when it says exactly what m.names says (a broken one, which
        // the decoder ignores, says nothing), so that bytes survive.
        if (namesSame(namesIn(custom.payload), m_.names)) {
          b.raw(custom.payload);
        } else {
          b.raw(encodeNames(m_.names));
        }
      } else {
        b.raw(custom.payload);
      }
      section(kCustomSection, b);
    }
    if (!wrote_names && !namesEmpty(m_.names)) {
      Bytes b;
      b.name("name");
      b.raw(encodeNames(m_.names));
      section(kCustomSection, b);
    }
  }

  const Module& m_;
  Bytes out_;
};

}  // namespace

std::vector<uint8_t> encodeModule(const Module& m) {
  Encoder encoder(m);
  return encoder.run();
}

}  // namespace slabfuzz
