// The assembler's shared state, internal to text/: the module being built
// from the S-expression tree (index spaces with their ids, type definitions,
// implicit types) and the parsers over it, split by concern across
// types.cc (value/heap/composite types, typeuse), instr.cc (instructions,
// block types, constant expressions) and module.cc (module fields,
// abbreviations, sections, the entry point).
// Does not own: tokens (lexer.h) or literals (numbers.h).
// Contract: every parser either consumes well-formed text and appends the
// binary to a `Bytes`, or throws WatError at the offending node.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "generators/byte_writer.h"
#include "text/lexer.h"

namespace slabfuzz::wat {

// A cursor over the elements of a list.
class Cursor {
 public:
  Cursor(const Node& list, size_t at) : list_(list), at_(at) {}
  bool done() const { return at_ >= list_.kids.size(); }
  const Node& peek() const { return list_.kids[at_]; }
  const Node* peekOrNull() const { return done() ? nullptr : &list_.kids[at_]; }
  // The next element; at the end, malformed ("expected WHAT").
  const Node& next(std::string_view what);
  bool atKeyword(std::string_view k) const { return !done() && peek().isKeyword(k); }
  bool atList(std::string_view head) const { return !done() && peek().isList(head); }
  bool atIndex() const { return !done() && peek().isIndex(); }
  // Malformed unless every element has been read.
  void expectEnd() const;
  const Node& list() const { return list_; }
  size_t position() const { return at_; }

 private:
  const Node& list_;
  size_t at_;
};

// An index space with its identifiers (spec 6.6.2 "Contexts").
struct Space {
  const char* what = "";
  std::map<std::string, uint32_t> ids;
  uint32_t count = 0;
  Space() = default;
  explicit Space(const char* w) : what(w) {}
  // Appends one entry; `id` (may be null) names it. Duplicates are malformed.
  uint32_t add(const Node* id);
};

// A value or storage type as the binary writes it.
struct VT {
  uint8_t code = 0x7F;      // 0x7F..0x77 for numbers/packed, 0x63/0x64 for references
  bool heap_index = false;  // references: heap type is a type index
  uint32_t heap = 0;        // references: the index, or the abstract code
  bool operator==(const VT&) const = default;
  bool isRef() const { return code == 0x63 || code == 0x64; }
};

struct FieldT {
  VT type;
  bool mut = false;
  bool operator==(const FieldT&) const = default;
};

enum class Comp : uint8_t { Func, Struct, Array };

struct TypeDef {
  const Node* node = nullptr;  // the (type ...) form; null for an implicit type
  const Node* id = nullptr;
  bool final = true;
  std::vector<uint32_t> supers;
  Comp comp = Comp::Func;
  std::vector<VT> params, results;
  std::vector<FieldT> fields;
  std::map<std::string, uint32_t> field_ids;
  bool singleton = true;  // alone in its rec group
};

struct RecDef {
  uint32_t first = 0, count = 0;
  bool explicit_rec = false;  // written `(rec ...)`
};

// A typeuse resolved (spec 6.6.3 "Type Uses").
struct TypeUse {
  uint32_t index = 0;
  uint32_t num_params = 0;
  std::vector<const Node*> param_ids;  // inline parameters' ids (null when unnamed)
};

class Assembler {
 public:
  std::vector<uint8_t> assemble(const std::vector<Node>& top);

  // --- types.cc ---
  std::optional<VT> tryValType(const Node& n);
  VT valType(Cursor& c);
  VT refType(const Node& n);
  VT storageType(const Node& n);
  // A heap type: `heap_index` set for a type index; else an abstract code.
  void heapType(const Node& n, bool& heap_index, uint32_t& heap);
  FieldT fieldType(const Node& n);
  uint32_t typeIndex(const Node& n);
  void defineTypes();
  void defineType(const Node& type_form, uint32_t index);
  // `(type x)? (param ...)* (result ...)*`; `names` allows `(param $x t)`.
  TypeUse typeUse(Cursor& c, bool names);
  // The params and results of `(param ...)* (result ...)*`.
  void paramsResults(Cursor& c, bool names, std::vector<VT>& params, std::vector<VT>& results,
                     std::vector<const Node*>* ids);
  uint32_t implicitType(const std::vector<VT>& params, const std::vector<VT>& results);
  void writeValType(Bytes& out, const VT& t) const;
  void writeHeapType(Bytes& out, bool heap_index, uint32_t heap) const;
  void writeTypeSection(Bytes& out) const;

  // --- instr.cc ---
  struct FuncCtx {
    Space locals;
    std::vector<std::string> labels;  // innermost last; "" for an unnamed label
  };
  // Instructions until the end of `c` or a flat `end`/`else` (left unread).
  void instrs(Cursor& c, Bytes& out, FuncCtx& f);
  void folded(const Node& list, Bytes& out, FuncCtx& f);
  // One plain (non-block) instruction whose name is `head`; immediates from `c`.
  void plain(const Node& head, Cursor& c, Bytes& out, FuncCtx& f);
  void blockType(Cursor& c, Bytes& out);
  // A constant expression's instructions, then `end`.
  void constExpr(Cursor& c, Bytes& out);
  uint32_t labelIndex(const Node& n, FuncCtx& f);

  // --- module.cc ---
  uint32_t resolve(const Node& n, Space& space);

  // The module being built.
  std::vector<TypeDef> types;
  std::vector<RecDef> recs;
  std::vector<const Node*> type_forms;  // per type: its (type ...) form
  Space type_space{"type"}, func_space{"function"}, table_space{"table"}, memory_space{"memory"},
      global_space{"global"}, elem_space{"elem segment"}, data_space{"data segment"};
  bool needs_data_count = false;
  uint32_t num_imported_funcs = 0;
};

}  // namespace slabfuzz::wat
