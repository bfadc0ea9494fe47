// The decoded module: plain data handed from the decoder to the validator and
// every later stage. Owns: the shape of a module (types, imports, index
// spaces, definitions, segments, function bodies as `Instr` vectors, names).
// Does not own: any judgement of validity (validate.h) or canonical type
// identity (types.h). Contract: a `Module` produced by `decodeModule` is
// well-formed (every byte parsed, block structure balanced) but may be invalid.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/instr.h"
#include "runtime/valtype.h"

namespace slabfuzz {

enum class ExternKind : uint8_t { Func = 0, Table = 1, Memory = 2, Global = 3, Tag = 4 };
enum class CompositeKind : uint8_t { Func, Struct, Array };
enum class SegmentMode : uint8_t { Active, Passive, Declarative };

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
};

struct FuncType {
  std::vector<ValType> params;
  std::vector<ValType> results;
};

struct FieldType {
  ValType type;  // may be packed (I8, I16)
  bool mut = false;
};

struct CompositeType {
  CompositeKind kind = CompositeKind::Func;
  FuncType func;                  // kind == Func
  std::vector<FieldType> fields;  // kind == Struct; kind == Array: exactly one
};

// One entry of the type index space: a (sub)type inside a rec group.
struct SubType {
  bool final = true;                 // a bare composite type is final
  std::vector<uint32_t> supertypes;  // as encoded; validation allows at most one
  CompositeType composite;
  uint32_t rec_group = 0;            // index into Module::rec_groups
  uint32_t offset = 0;
};

struct RecGroup {
  uint32_t first = 0;  // first type index of the group
  uint32_t count = 0;  // number of types (0 for an empty `rec`)
};

struct TableType {
  ValType elem = ValType::ref(HeapType::abstract(HeapType::Func), true);
  Limits limits;
};

struct MemoryType {
  Limits limits;  // in 64 KiB pages
};

struct GlobalType {
  ValType type;
  bool mut = false;
};

// A constant expression: its instructions without the terminating End.
struct ConstExpr {
  std::vector<Instr> instrs;
  uint32_t offset = 0;
};

struct Import {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t func_type = 0;  // kind == Func: type index
  TableType table;         // kind == Table
  MemoryType memory;       // kind == Memory
  GlobalType global;       // kind == Global
  uint32_t offset = 0;
};

struct Export {
  std::string name;
  ExternKind kind = ExternKind::Func;
  uint32_t index = 0;
  uint32_t offset = 0;
};

struct Table {
  TableType type;
  std::optional<ConstExpr> init;  // the 0x40 0x00 form with an initialiser
  uint32_t offset = 0;
};

struct Global {
  GlobalType type;
  ConstExpr init;
  uint32_t offset = 0;
};

struct ElemSegment {
  SegmentMode mode = SegmentMode::Passive;
  uint32_t table = 0;              // Active only
  ConstExpr table_offset;          // Active only
  ValType type = ValType::ref(HeapType::abstract(HeapType::Func), false);
  // Each item as a constant expression; the function-index encodings are
  // stored as a single `ref.func` whose offset is the index's byte offset.
  std::vector<ConstExpr> items;
  uint32_t offset = 0;
};

struct DataSegment {
  SegmentMode mode = SegmentMode::Passive;  // never Declarative
  uint32_t memory = 0;                      // Active only
  ConstExpr memory_offset;                  // Active only
  std::vector<uint8_t> bytes;
  uint32_t offset = 0;
};

// A defined function: its declared locals (parameters excluded) and body.
struct Function {
  uint32_t type_index = 0;
  std::vector<ValType> locals;
  std::vector<Instr> body;     // ends with the function's final End
  std::vector<uint32_t> extra; // out-of-line immediates (br_table targets)
  uint32_t body_offset = 0;    // offset of the body's size field
  uint32_t body_size = 0;
};

struct CustomSection {
  std::string name;
  uint32_t offset = 0;  // offset of the payload after the name
  std::vector<uint8_t> payload;
};

// From the `name` custom section; parsed leniently (a broken name section
// is ignored, as the spec asks), used only for diagnostics and printing.
struct Names {
  std::optional<std::string> module;
  std::map<uint32_t, std::string> functions, types, tables, memories, globals, elems, datas;
  std::map<uint32_t, std::map<uint32_t, std::string>> locals, labels, fields;
};

struct Module {
  std::vector<SubType> types;
  std::vector<RecGroup> rec_groups;
  std::vector<Import> imports;

  // Index spaces, imports first. Each vector covers the whole space; the
  // definitions below start at index num_imported_*.
  std::vector<uint32_t> func_types;  // type index of every function
  std::vector<TableType> table_types;
  std::vector<MemoryType> memory_types;
  std::vector<GlobalType> global_types;
  uint32_t num_imported_funcs = 0;
  uint32_t num_imported_tables = 0;
  uint32_t num_imported_memories = 0;
  uint32_t num_imported_globals = 0;

  // Offsets for diagnostics about definitions that have no struct of their
  // own: each defined function's type index in the function section, and
  // each defined memory's limits in the memory section.
  std::vector<uint32_t> func_decl_offsets;
  std::vector<uint32_t> memory_offsets;

  std::vector<Function> functions;  // defined functions only
  std::vector<Table> tables;        // defined tables only
  std::vector<Global> globals;      // defined globals only
  std::vector<Export> exports;
  std::optional<uint32_t> start;
  uint32_t start_offset = 0;
  std::vector<ElemSegment> elems;
  std::optional<uint32_t> data_count;
  std::vector<DataSegment> datas;
  std::vector<CustomSection> customs;
  Names names;
};

}  // namespace slabfuzz
