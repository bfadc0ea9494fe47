// Module-level decoding: header, section order and sizes, and every
// section's contents (spec 5.5). Instruction sequences are read by
// decode_expr.cc, the name section by decode_names.cc, single values and
// types by binary_reader.h.
#include "runtime/decode.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "runtime/binary_format.h"
#include "runtime/binary_reader.h"
#include "runtime/decode_expr.h"
#include "runtime/decode_names.h"

namespace slabfuzz {

namespace {

using namespace binary;  // section ids

// Rank of each non-custom section in the required order (spec 5.5.16):
// data count (12) sits between element (9) and code (10), and the tag
// section (13) between memory and global.
uint8_t sectionRank(uint8_t id) {
  switch (id) {
    case kTypeSection: return 1;
    case kImportSection: return 2;
    case kFunctionSection: return 3;
    case kTableSection: return 4;
    case kMemorySection: return 5;
    case kTagSection: return 6;
    case kGlobalSection: return 7;
    case kExportSection: return 8;
    case kStartSection: return 9;
    case kElemSection: return 10;
    case kDataCountSection: return 11;
    case kCodeSection: return 12;
    case kDataSection: return 13;
    default: return 0;
  }
}

const char* sectionName(uint8_t id) {
  switch (id) {
    case kCustomSection: return "custom";
    case kTypeSection: return "type";
    case kImportSection: return "import";
    case kFunctionSection: return "function";
    case kTableSection: return "table";
    case kMemorySection: return "memory";
    case kGlobalSection: return "global";
    case kExportSection: return "export";
    case kStartSection: return "start";
    case kElemSection: return "element";
    case kCodeSection: return "code";
    case kDataSection: return "data";
    case kDataCountSection: return "data count";
    case kTagSection: return "tag";
    default: return "unknown";
  }
}

constexpr uint32_t kAnyCount = std::numeric_limits<uint32_t>::max();
constexpr uint8_t kMagic[4] = {0x00, 0x61, 0x73, 0x6D};  // "\0asm"
constexpr uint8_t kVersion[4] = {0x01, 0x00, 0x00, 0x00};

// Budget of declared locals over the whole module. Each function may declare
// up to kMaxLocals, but a 5-byte body can declare 50000 of them; without a
// module-wide budget a small input could expand into gigabytes of locals
// (DESIGN.md: no input may allocate without bound). Valid modules stay far
// below it: the base covers twenty functions at the per-function limit.
constexpr uint64_t kLocalsBudgetBase = uint64_t{20} * kMaxLocals;
constexpr uint64_t kLocalsBudgetPerByte = 16;

class ModuleDecoder {
 public:
  ModuleDecoder(std::span<const uint8_t> bytes, const DecodeOptions& options)
      : bytes_(bytes),
        options_(options),
        r_(bytes),
        expr_(r_),
        locals_budget_(kLocalsBudgetBase + kLocalsBudgetPerByte * bytes.size()) {}

  Result<Module> decode();

 private:
  // Header and section framing.
  bool readHeader();
  bool readSections();
  bool readSectionContents(uint8_t id);
  bool checkCountsAtEnd();

  // Sections, in order.
  bool readTypeSection();
  bool readRecGroup();
  bool readSubType(uint32_t group);
  bool readCompositeType(CompositeType& out);
  bool readFuncType(FuncType& out);
  bool readFieldType(FieldType& out);
  bool readImportSection();
  bool readImport(Import& imp);
  bool readFunctionSection();
  bool readTableSection();
  bool readTableType(TableType& out);
  bool readMemoryType(MemoryType& out);
  bool readLimits(Limits& out, bool is_memory);
  bool readMemorySection();
  bool readGlobalSection();
  bool readGlobalType(GlobalType& out);
  bool readMutability(bool& out);
  bool readExportSection();
  bool readStartSection();
  bool readElemSection();
  bool readElemSegment(ElemSegment& seg);
  bool readFuncIndexItems(ElemSegment& seg);
  bool readExprItems(ElemSegment& seg);
  bool readDataCountSection();
  bool readCodeSection();
  bool readCode(Function& fn);
  bool readLocals(Function& fn);
  bool readDataSection();
  bool readDataSegment(DataSegment& seg);
  bool readCustomSection();

  // Helpers.
  bool readConstExpr(ConstExpr& out) { return expr_.decodeConstExpr(out); }
  bool checkTotal(uint64_t total, uint32_t limit, const char* what, uint32_t at);
  void setItem(const char* kind, uint32_t index) {
    item_kind_ = kind;
    item_index_ = index;
  }
  std::string describeItem() const;

  std::span<const uint8_t> bytes_;
  DecodeOptions options_;
  BinaryReader r_;
  ExprDecoder expr_;
  Module m_;

  uint32_t declared_functions_ = 0;  // length of the function section
  bool saw_code_section_ = false;
  bool saw_data_section_ = false;
  bool parsed_names_ = false;
  uint64_t locals_budget_;
  const uint8_t* section_end_ = nullptr;
  std::vector<std::pair<uint32_t, ValType>> local_entries_;  // reused per body

  // What is being read, for Error::context ("func 3", "global 1", ...).
  const char* item_kind_ = nullptr;
  uint32_t item_index_ = 0;
};

Result<Module> ModuleDecoder::decode() {
  if (bytes_.size() > kMaxModuleSize) {
    return makeError(
        ErrorCode::TooMany, 0,
        fmt::format("module too large: {} bytes (limit {})", bytes_.size(), kMaxModuleSize));
  }
  if (readHeader() && readSections() && checkCountsAtEnd()) return std::move(m_);
  Error error = r_.mutableError();
  error.context = describeItem();
  return error;
}

std::string ModuleDecoder::describeItem() const {
  if (item_kind_ == nullptr) return {};
  if (std::string_view(item_kind_) == "func") {
    auto it = m_.names.functions.find(item_index_);
    if (it != m_.names.functions.end()) return fmt::format("func ${}", it->second);
    if (options_.parse_names && section_end_ != nullptr) {
      auto name = findFunctionName(bytes_, section_end_ - bytes_.data(), item_index_);
      if (name) return fmt::format("func ${}", *name);
    }
  }
  return fmt::format("{} {}", item_kind_, item_index_);
}

bool ModuleDecoder::checkTotal(uint64_t total, uint32_t limit, const char* what, uint32_t at) {
  if (total <= limit) return true;
  return r_.fail(ErrorCode::TooMany, at,
                 fmt::format("too many {}: {} (limit {})", what, total, limit));
}

// --- Header and sections (spec 5.5.2, 5.5.16) -----------------------------

bool ModuleDecoder::readHeader() {
  const uint8_t* magic;
  if (r_.remaining() < 4) return r_.unexpectedEnd();
  if (!r_.readBytes(4, magic)) return false;
  if (!std::equal(magic, magic + 4, kMagic)) {
    return r_.fail(ErrorCode::BadMagic, 0, "magic header not detected");
  }
  const uint8_t* version;
  if (r_.remaining() < 4) return r_.unexpectedEnd();
  if (!r_.readBytes(4, version)) return false;
  if (!std::equal(version, version + 4, kVersion)) {
    return r_.fail(ErrorCode::BadVersion, 4,
                   fmt::format("unknown binary version 0x{:02x}{:02x}{:02x}{:02x}", version[3],
                               version[2], version[1], version[0]));
  }
  return true;
}

bool ModuleDecoder::readSections() {
  uint8_t last_rank = 0;
  uint8_t last_id = 0;
  while (!r_.atEnd()) {
    setItem(nullptr, 0);
    const uint32_t id_offset = r_.offset();
    uint8_t id;
    if (!r_.readU8(id)) return false;
    if (id > kTagSection) {
      return r_.fail(ErrorCode::UnknownSection, id_offset,
                     fmt::format("malformed section id {}", id));
    }
    if (id == kTagSection) return r_.unsupported(id_offset, feature::kExceptions);
    const uint32_t size_offset = r_.offset();
    uint32_t size;
    if (!r_.readU32(size)) return false;
    if (size > r_.remaining()) {
      return r_.fail(ErrorCode::UnexpectedEnd, size_offset,
                     fmt::format("length out of bounds: {} section of {} bytes, {}",
                                 sectionName(id), size, r_.remainingText()));
    }
    if (id != kCustomSection) {
      // Each non-custom section at most once, in the prescribed order.
      const uint8_t rank = sectionRank(id);
      if (rank <= last_rank) {
        return r_.fail(ErrorCode::SectionOrder, id_offset,
                       fmt::format("unexpected content after last section: {} section after {} "
                                   "section",
                                   sectionName(id), sectionName(last_id)));
      }
      last_rank = rank;
      last_id = id;
    }
    const uint8_t* outer_end = r_.narrow(size);
    section_end_ = r_.end();
    if (!readSectionContents(id)) return false;
    setItem(nullptr, 0);
    if (!r_.atEnd()) {
      return r_.fail(ErrorCode::SectionSizeMismatch, r_.offset(),
                     fmt::format("section size mismatch: {} section of {} bytes, {} unread",
                                 sectionName(id), size, r_.remainingText()));
    }
    r_.restore(outer_end);
  }
  setItem(nullptr, 0);
  return true;
}

bool ModuleDecoder::readSectionContents(uint8_t id) {
  switch (id) {
    case kCustomSection: return readCustomSection();
    case kTypeSection: return readTypeSection();
    case kImportSection: return readImportSection();
    case kFunctionSection: return readFunctionSection();
    case kTableSection: return readTableSection();
    case kMemorySection: return readMemorySection();
    case kGlobalSection: return readGlobalSection();
    case kExportSection: return readExportSection();
    case kStartSection: return readStartSection();
    case kElemSection: return readElemSection();
    case kDataCountSection: return readDataCountSection();
    case kCodeSection: return readCodeSection();
    case kDataSection: return readDataSection();
    default: return r_.unsupported(r_.offset(), feature::kExceptions);
  }
}

// The function and code sections must have the same length, and the data
// count (when present) must equal the number of data segments, also when
// the later section is missing altogether (spec 5.5.16).
bool ModuleDecoder::checkCountsAtEnd() {
  if (!saw_code_section_ && declared_functions_ != 0) {
    return r_.fail(ErrorCode::CountMismatch, r_.offset(),
                   fmt::format("function and code section have inconsistent lengths: function "
                               "section declares {}, no code section",
                               declared_functions_));
  }
  if (m_.data_count && !saw_data_section_ && *m_.data_count != 0) {
    return r_.fail(ErrorCode::CountMismatch, r_.offset(),
                   fmt::format("data count and data section have inconsistent lengths: data "
                               "count section says {}, no data section",
                               *m_.data_count));
  }
  return true;
}

// --- Types (spec 5.5.4, 5.3) ----------------------------------------------

bool ModuleDecoder::readTypeSection() {
  uint32_t count;
  if (!r_.readCount(count, kMaxTypes, "types")) return false;
  m_.rec_groups.reserve(count);
  m_.types.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (!readRecGroup()) return false;
  }
  return true;
}

// rectype ::= 0x4E vec(subtype) | subtype
bool ModuleDecoder::readRecGroup() {
  const uint32_t at = r_.offset();
  const auto group = static_cast<uint32_t>(m_.rec_groups.size());
  const auto first = static_cast<uint32_t>(m_.types.size());
  uint8_t b;
  if (!r_.peekU8(b)) return r_.unexpectedEnd();
  uint32_t count = 1;
  if (b == kCodeRec) {
    r_.skipTo(r_.pos() + 1);
    if (!r_.readCount(count, kMaxTypes, "types in a rec group")) return false;
  }
  if (!checkTotal(uint64_t{first} + count, kMaxTypes, "types", at)) return false;
  m_.rec_groups.push_back(RecGroup{first, count});
  for (uint32_t i = 0; i < count; ++i) {
    if (!readSubType(group)) return false;
  }
  return true;
}

// subtype ::= 0x50 vec(typeidx) comptype | 0x4F vec(typeidx) comptype | comptype
bool ModuleDecoder::readSubType(uint32_t group) {
  setItem("type", static_cast<uint32_t>(m_.types.size()));
  SubType st;
  st.offset = r_.offset();
  st.rec_group = group;
  uint8_t b;
  if (!r_.peekU8(b)) return r_.unexpectedEnd();
  if (b == kCodeSub || b == kCodeSubFinal) {
    r_.skipTo(r_.pos() + 1);
    st.final = b == kCodeSubFinal;
    uint32_t count;
    if (!r_.readCount(count, kAnyCount, "supertypes")) return false;
    st.supertypes.resize(count);
    for (uint32_t& super : st.supertypes) {
      if (!r_.readU32(super)) return false;
    }
  }
  if (!readCompositeType(st.composite)) return false;
  m_.types.push_back(std::move(st));
  return true;
}

// comptype ::= 0x5E arraytype | 0x5F structtype | 0x60 functype
bool ModuleDecoder::readCompositeType(CompositeType& out) {
  const uint32_t at = r_.offset();
  uint8_t form;
  if (!r_.readU8(form)) return false;
  switch (form) {
    case kCodeFunc: out.kind = CompositeKind::Func; return readFuncType(out.func);
    case kCodeStruct: {
      out.kind = CompositeKind::Struct;
      uint32_t count;
      if (!r_.readCount(count, kMaxStructFields, "struct fields")) return false;
      out.fields.resize(count);
      for (FieldType& field : out.fields) {
        if (!readFieldType(field)) return false;
      }
      return true;
    }
    case kCodeArray:
      out.kind = CompositeKind::Array;
      out.fields.resize(1);
      return readFieldType(out.fields[0]);
    case kCodeCont: return r_.unsupported(at, feature::kStackSwitching);
    case kCodeShared: return r_.unsupported(at, feature::kSharedEverything);
    default:
      return r_.fail(ErrorCode::MalformedType, at,
                     fmt::format("malformed composite type 0x{:02x}", form));
  }
}

bool ModuleDecoder::readFuncType(FuncType& out) {
  uint32_t count;
  if (!r_.readCount(count, kMaxParams, "params")) return false;
  out.params.resize(count);
  for (ValType& t : out.params) {
    if (!r_.readValType(t)) return false;
  }
  if (!r_.readCount(count, kMaxResults, "results")) return false;
  out.results.resize(count);
  for (ValType& t : out.results) {
    if (!r_.readValType(t)) return false;
  }
  return true;
}

bool ModuleDecoder::readFieldType(FieldType& out) {
  return r_.readStorageType(out.type) && readMutability(out.mut);
}

// mut ::= 0x00 (const) | 0x01 (var)
bool ModuleDecoder::readMutability(bool& out) {
  const uint32_t at = r_.offset();
  uint8_t b;
  if (!r_.readU8(b)) return false;
  if (b > 1) {
    return r_.fail(ErrorCode::MalformedFlags, at, fmt::format("malformed mutability 0x{:02x}", b));
  }
  out = b == 1;
  return true;
}

// --- Imports and the index spaces (spec 5.5.5) ---------------------------

bool ModuleDecoder::readImportSection() {
  uint32_t count;
  if (!r_.readCount(count, kMaxImports, "imports")) return false;
  m_.imports.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    setItem("import", i);
    Import imp;
    if (!readImport(imp)) return false;
    m_.imports.push_back(std::move(imp));
  }
  return true;
}

bool ModuleDecoder::readImport(Import& imp) {
  imp.offset = r_.offset();
  if (!r_.readName(imp.module) || !r_.readName(imp.name)) return false;
  const uint32_t at = r_.offset();
  uint8_t kind;
  if (!r_.readU8(kind)) return false;
  switch (kind) {
    case 0x00:
      imp.kind = ExternKind::Func;
      if (!r_.readU32(imp.func_type)) return false;
      m_.func_types.push_back(imp.func_type);
      ++m_.num_imported_funcs;
      return checkTotal(m_.func_types.size(), kMaxFunctions, "functions", at);
    case 0x01:
      imp.kind = ExternKind::Table;
      if (!readTableType(imp.table)) return false;
      m_.table_types.push_back(imp.table);
      ++m_.num_imported_tables;
      return checkTotal(m_.table_types.size(), kMaxTables, "tables", at);
    case 0x02:
      imp.kind = ExternKind::Memory;
      if (!readMemoryType(imp.memory)) return false;
      m_.memory_types.push_back(imp.memory);
      ++m_.num_imported_memories;
      return true;
    case 0x03:
      imp.kind = ExternKind::Global;
      if (!readGlobalType(imp.global)) return false;
      m_.global_types.push_back(imp.global);
      ++m_.num_imported_globals;
      return checkTotal(m_.global_types.size(), kMaxGlobals, "globals", at);
    case 0x04: return r_.unsupported(at, feature::kExceptions);  // tag
    default:
      return r_.fail(ErrorCode::MalformedFlags, at,
                     fmt::format("malformed import kind 0x{:02x}", kind));
  }
}

// --- Functions, tables, memories, globals (spec 5.5.6 - 5.5.9) -----------

bool ModuleDecoder::readFunctionSection() {
  const uint32_t at = r_.offset();
  uint32_t count;
  if (!r_.readCount(count, kAnyCount, "functions")) return false;
  if (!checkTotal(uint64_t{m_.num_imported_funcs} + count, kMaxFunctions, "functions", at)) {
    return false;
  }
  declared_functions_ = count;
  m_.func_types.reserve(m_.func_types.size() + count);
  m_.func_decl_offsets.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t type_index;
    m_.func_decl_offsets.push_back(static_cast<uint32_t>(r_.offset()));
    if (!r_.readU32(type_index)) return false;
    m_.func_types.push_back(type_index);
  }
  return true;
}

// table ::= tabletype | 0x40 0x00 tabletype expr
bool ModuleDecoder::readTableSection() {
  const uint32_t at = r_.offset();
  uint32_t count;
  if (!r_.readCount(count, kAnyCount, "tables")) return false;
  if (!checkTotal(uint64_t{m_.num_imported_tables} + count, kMaxTables, "tables", at)) return false;
  m_.tables.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    setItem("table", m_.num_imported_tables + i);
    Table table;
    table.offset = r_.offset();
    uint8_t b;
    if (!r_.peekU8(b)) return r_.unexpectedEnd();
    if (b == 0x40) {
      r_.skipTo(r_.pos() + 1);
      const uint32_t zero_at = r_.offset();
      uint8_t zero;
      if (!r_.readU8(zero)) return false;
      if (zero != 0) return r_.fail(ErrorCode::ZeroByteExpected, zero_at, "zero byte expected");
      table.init.emplace();
      if (!readTableType(table.type) || !readConstExpr(*table.init)) return false;
    } else if (!readTableType(table.type)) {
      return false;
    }
    m_.table_types.push_back(table.type);
    m_.tables.push_back(std::move(table));
  }
  return true;
}

// tabletype ::= reftype limits
bool ModuleDecoder::readTableType(TableType& out) {
  return r_.readRefType(out.elem) && readLimits(out.limits, /*is_memory=*/false);
}

bool ModuleDecoder::readMemoryType(MemoryType& out) {
  return readLimits(out.limits, /*is_memory=*/true);
}

// limits ::= 0x00 n:u64 | 0x01 n:u64 m:u64   (Wasm 3.0 reads both as u64
// and leaves the range to validation). The flag is a byte, not a LEB128.
// Flags 0x02/0x03 (shared memory) belong to threads, 0x04-0x07 (64-bit
// addresses) to memory64.
bool ModuleDecoder::readLimits(Limits& out, bool is_memory) {
  const uint32_t at = r_.offset();
  uint8_t flags;
  if (!r_.readU8(flags)) return false;
  if (flags > 1) {
    if (is_memory && (flags == 0x02 || flags == 0x03)) return r_.unsupported(at, feature::kThreads);
    if (flags >= 0x04 && flags <= (is_memory ? 0x07 : 0x05)) {
      return r_.unsupported(at, feature::kMemory64);
    }
    return r_.fail(ErrorCode::MalformedFlags, at,
                   fmt::format("malformed limits flags 0x{:02x}", flags));
  }
  if (!r_.readU64(out.min)) return false;
  if (flags == 1) {
    uint64_t max;
    if (!r_.readU64(max)) return false;
    out.max = max;
  }
  return true;
}

bool ModuleDecoder::readMemorySection() {
  uint32_t count;
  if (!r_.readCount(count, kAnyCount, "memories")) return false;
  m_.memory_types.reserve(m_.memory_types.size() + count);
  for (uint32_t i = 0; i < count; ++i) {
    setItem("memory", m_.num_imported_memories + i);
    m_.memory_offsets.push_back(static_cast<uint32_t>(r_.offset()));
    MemoryType mt;
    if (!readMemoryType(mt)) return false;
    m_.memory_types.push_back(mt);
  }
  return true;
}

bool ModuleDecoder::readGlobalSection() {
  const uint32_t at = r_.offset();
  uint32_t count;
  if (!r_.readCount(count, kAnyCount, "globals")) return false;
  if (!checkTotal(uint64_t{m_.num_imported_globals} + count, kMaxGlobals, "globals", at)) {
    return false;
  }
  m_.globals.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    setItem("global", m_.num_imported_globals + i);
    Global global;
    global.offset = r_.offset();
    if (!readGlobalType(global.type) || !readConstExpr(global.init)) return false;
    m_.global_types.push_back(global.type);
    m_.globals.push_back(std::move(global));
  }
  return true;
}

// globaltype ::= valtype mut
bool ModuleDecoder::readGlobalType(GlobalType& out) {
  return r_.readValType(out.type) && readMutability(out.mut);
}

// --- Exports, start (spec 5.5.10, 5.5.11) ---------------------------------

bool ModuleDecoder::readExportSection() {
  uint32_t count;
  if (!r_.readCount(count, kMaxExports, "exports")) return false;
  m_.exports.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    setItem("export", i);
    Export exp;
    exp.offset = r_.offset();
    if (!r_.readName(exp.name)) return false;
    const uint32_t at = r_.offset();
    uint8_t kind;
    if (!r_.readU8(kind)) return false;
    if (kind == 0x04) return r_.unsupported(at, feature::kExceptions);  // tag
    if (kind > 0x03) {
      return r_.fail(ErrorCode::MalformedFlags, at,
                     fmt::format("malformed export kind 0x{:02x}", kind));
    }
    exp.kind = static_cast<ExternKind>(kind);
    if (!r_.readU32(exp.index)) return false;
    m_.exports.push_back(std::move(exp));
  }
  return true;
}

bool ModuleDecoder::readStartSection() {
  m_.start_offset = r_.offset();
  uint32_t index;
  if (!r_.readU32(index)) return false;
  m_.start = index;
  return true;
}

// --- Element segments (spec 5.5.12) ----------------------------------------
//
// The flags are a bit field: bit 0 passive or declarative, bit 1 an explicit
// table index (active) or declarative (otherwise), bit 2 expressions and a
// reference type instead of function indices and an element kind.

bool ModuleDecoder::readElemSection() {
  uint32_t count;
  if (!r_.readCount(count, kMaxSegments, "element segments")) return false;
  m_.elems.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    setItem("elem", i);
    ElemSegment seg;
    if (!readElemSegment(seg)) return false;
    m_.elems.push_back(std::move(seg));
  }
  return true;
}

bool ModuleDecoder::readElemSegment(ElemSegment& seg) {
  seg.offset = r_.offset();
  uint32_t flags;
  if (!r_.readU32(flags)) return false;
  if (flags > 7) {
    return r_.fail(ErrorCode::MalformedFlags, seg.offset,
                   fmt::format("malformed elements segment kind {}", flags));
  }
  const bool passive_or_declarative = (flags & 1) != 0;
  const bool explicit_table_or_declarative = (flags & 2) != 0;
  const bool uses_exprs = (flags & 4) != 0;
  if (passive_or_declarative) {
    seg.mode = explicit_table_or_declarative ? SegmentMode::Declarative : SegmentMode::Passive;
  } else {
    seg.mode = SegmentMode::Active;
    if (explicit_table_or_declarative && !r_.readU32(seg.table)) return false;
    if (!readConstExpr(seg.table_offset)) return false;
  }
  // Flags 0 and 4 imply the type; the others spell it out.
  const bool explicit_type = (flags & 3) != 0;
  if (!uses_exprs) {
    seg.type = ValType::ref(HeapType::abstract(HeapType::Func), false);
    if (explicit_type) {
      const uint32_t at = r_.offset();
      uint8_t elemkind;
      if (!r_.readU8(elemkind)) return false;
      if (elemkind != 0x00) {
        return r_.fail(ErrorCode::MalformedFlags, at,
                       fmt::format("malformed element kind 0x{:02x}", elemkind));
      }
    }
    return readFuncIndexItems(seg);
  }
  seg.type = ValType::ref(HeapType::abstract(HeapType::Func), true);
  if (explicit_type && !r_.readRefType(seg.type)) return false;
  return readExprItems(seg);
}

// Function indices become one-instruction `ref.func` expressions located at
// the index, so later stages see one item form only.
bool ModuleDecoder::readFuncIndexItems(ElemSegment& seg) {
  uint32_t count;
  if (!r_.readCount(count, kAnyCount, "elements")) return false;
  seg.items.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Instr ref_func;
    ref_func.op = Opcode::RefFunc;
    ref_func.offset = r_.offset();
    if (!r_.readU32(ref_func.a)) return false;
    ConstExpr item;
    item.offset = ref_func.offset;
    item.instrs.push_back(ref_func);
    seg.items.push_back(std::move(item));
  }
  return true;
}

bool ModuleDecoder::readExprItems(ElemSegment& seg) {
  uint32_t count;
  if (!r_.readCount(count, kAnyCount, "elements")) return false;
  seg.items.resize(count);
  for (ConstExpr& item : seg.items) {
    if (!readConstExpr(item)) return false;
  }
  return true;
}

// --- Data count, code (spec 5.5.13, 5.5.15) --------------------------------

bool ModuleDecoder::readDataCountSection() {
  uint32_t count;
  if (!r_.readU32(count)) return false;
  m_.data_count = count;
  return true;
}

bool ModuleDecoder::readCodeSection() {
  const uint32_t at = r_.offset();
  uint32_t count;
  if (!r_.readU32(count)) return false;
  saw_code_section_ = true;
  if (count != declared_functions_) {
    return r_.fail(ErrorCode::CountMismatch, at,
                   fmt::format("function and code section have inconsistent lengths: function "
                               "section declares {}, code section has {}",
                               declared_functions_, count));
  }
  // The function section's length was checked against its own bytes; the
  // bodies must fit here too (each takes at least one byte).
  if (count > r_.remaining()) {
    return r_.fail(ErrorCode::UnexpectedEnd, at,
                   fmt::format("length out of bounds: {} function bodies declared, {}", count,
                               r_.remainingText()));
  }
  m_.functions.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint32_t func_index = m_.num_imported_funcs + i;
    setItem("func", func_index);
    Function& fn = m_.functions[i];
    fn.type_index = m_.func_types[func_index];
    if (!readCode(fn)) return false;
  }
  return true;
}

// code ::= size:u32 func, with size == |func|   (spec 5.5.13)
bool ModuleDecoder::readCode(Function& fn) {
  fn.body_offset = r_.offset();
  if (!r_.readU32(fn.body_size)) return false;
  if (fn.body_size > r_.remaining()) {
    return r_.fail(ErrorCode::UnexpectedEnd, fn.body_offset,
                   fmt::format("length out of bounds: function body of {} bytes, {}", fn.body_size,
                               r_.remainingText()));
  }
  if (fn.body_size > kMaxFunctionSize) {
    return r_.fail(ErrorCode::TooMany, fn.body_offset,
                   fmt::format("function body too large: {} bytes (limit {})", fn.body_size,
                               kMaxFunctionSize));
  }
  const uint8_t* outer_end = r_.narrow(fn.body_size);
  if (!readLocals(fn) || !expr_.decodeBody(m_.data_count.has_value(), fn.body, fn.extra)) {
    return false;
  }
  r_.restore(outer_end);
  return true;
}

// locals ::= vec(n:u32 t:valtype). The total is checked before anything is
// expanded, entry by entry, so that a count of 2^32-1 costs nothing.
bool ModuleDecoder::readLocals(Function& fn) {
  uint32_t entries;
  if (!r_.readCount(entries, kAnyCount, "local entries")) return false;
  local_entries_.clear();
  uint64_t total = 0;
  for (uint32_t i = 0; i < entries; ++i) {
    const uint32_t at = r_.offset();
    uint32_t n;
    ValType t;
    if (!r_.readU32(n)) return false;
    total += n;
    if (total > kMaxLocals) {
      return r_.fail(ErrorCode::TooMany, at,
                     fmt::format("too many locals: at least {} (limit {})", total, kMaxLocals));
    }
    if (!r_.readValType(t)) return false;
    local_entries_.emplace_back(n, t);
  }
  if (total > locals_budget_) {
    return r_.fail(ErrorCode::TooMany, fn.body_offset,
                   fmt::format("too many locals in the module: the budget for a {}-byte module "
                               "is exhausted",
                               bytes_.size()));
  }
  locals_budget_ -= total;
  fn.locals.reserve(total);
  for (const auto& [n, t] : local_entries_) fn.locals.insert(fn.locals.end(), n, t);
  return true;
}

// --- Data (spec 5.5.14) ---------------------------------------------------

bool ModuleDecoder::readDataSection() {
  const uint32_t at = r_.offset();
  uint32_t count;
  if (!r_.readCount(count, kMaxSegments, "data segments")) return false;
  saw_data_section_ = true;
  if (m_.data_count && *m_.data_count != count) {
    return r_.fail(ErrorCode::CountMismatch, at,
                   fmt::format("data count and data section have inconsistent lengths: data "
                               "count section says {}, data section has {}",
                               *m_.data_count, count));
  }
  m_.datas.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    setItem("data", i);
    if (!readDataSegment(m_.datas[i])) return false;
  }
  return true;
}

// data ::= 0 expr vec(byte) | 1 vec(byte) | 2 memidx expr vec(byte)
bool ModuleDecoder::readDataSegment(DataSegment& seg) {
  seg.offset = r_.offset();
  uint32_t flags;
  if (!r_.readU32(flags)) return false;
  switch (flags) {
    case 0:
      seg.mode = SegmentMode::Active;
      if (!readConstExpr(seg.memory_offset)) return false;
      break;
    case 1: seg.mode = SegmentMode::Passive; break;
    case 2:
      // A nonzero memory index is kept: "unknown memory" is the validator's.
      seg.mode = SegmentMode::Active;
      if (!r_.readU32(seg.memory) || !readConstExpr(seg.memory_offset)) return false;
      break;
    default:
      return r_.fail(ErrorCode::MalformedFlags, seg.offset,
                     fmt::format("malformed data segment kind {}", flags));
  }
  uint32_t size;
  const uint8_t* bytes;
  if (!r_.readU32(size) || !r_.readBytes(size, bytes)) return false;
  seg.bytes.assign(bytes, bytes + size);
  return true;
}

// --- Custom sections (spec 5.5.3) -------------------------------------------

bool ModuleDecoder::readCustomSection() {
  CustomSection custom;
  if (!r_.readName(custom.name)) return false;
  custom.offset = r_.offset();
  std::span<const uint8_t> payload(r_.pos(), r_.remaining());
  if (options_.keep_custom_payloads) custom.payload.assign(payload.begin(), payload.end());
  // Only the first name section counts; a broken one is ignored.
  if (custom.name == "name" && options_.parse_names && !parsed_names_) {
    parsed_names_ = true;
    parseNameSection(payload, m_.names);
  }
  m_.customs.push_back(std::move(custom));
  r_.skipTo(r_.end());
  return true;
}

}  // namespace

Result<Module> decodeModule(std::span<const uint8_t> bytes, const DecodeOptions& options) {
  ModuleDecoder decoder(bytes, options);
  return decoder.decode();
}

}  // namespace slabfuzz
