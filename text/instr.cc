// Instructions in the text format (spec 6.5): plain and block instructions,
// flat and folded, with labels, block types, memargs and every immediate
// layout of runtime/opcodes.def; and constant expressions. See assembler.h.
#include "runtime/instr.h"

#include <fmt/format.h>

#include <string_view>
#include <unordered_map>

#include "text/assembler.h"
#include "text/numbers.h"

namespace slabfuzz::wat {
namespace {

struct OpRow {
  uint8_t prefix;
  uint32_t code;
  ImmKind imm;
};

// Text name -> encoding, from the instruction table. Where two rows share a
// name (select, ref.test, ref.cast) the first wins and the immediate decides
// between them (see Assembler::plain).
const std::unordered_map<std::string_view, OpRow>& opTable() {
  static const auto* table = [] {
    auto* t = new std::unordered_map<std::string_view, OpRow>();
#define WASM_OP(Name, Prefix, Code, Imm, Sig, Text) \
  t->emplace(Text, OpRow{Prefix, Code, ImmKind::Imm});
#include "runtime/opcodes.def"
    return t;
  }();
  return *table;
}

void writeOp(Bytes& out, uint8_t prefix, uint32_t code) {
  if (prefix) {
    out.u8(prefix);
    out.u32(code);
  } else {
    out.u8(static_cast<uint8_t>(code));
  }
}

// Out-of-scope instructions are recognised by name so that a module using
// them is "unsupported", not malformed.
void rejectOutOfScopeOp(const Node& n) {
  std::string_view k = n.text;
  // No instruction name has '/' or ':': those are pre-standard spellings
  // (obsolete-keywords.wast), malformed whatever their feature.
  if (k.find_first_of("/:") != std::string_view::npos) return;
  for (std::string_view p : {"v128.", "i8x16.", "i16x8.", "i32x4.", "i64x2.", "f32x4.", "f64x2."})
    if (k.starts_with(p)) unsupportedAt(n, "SIMD");
  if (k.find(".atomic.") != std::string_view::npos || k.starts_with("memory.atomic") ||
      k == "atomic.fence")
    unsupportedAt(n, "threads");
  for (std::string_view e :
       {"try", "try_table", "throw", "throw_ref", "rethrow", "delegate", "catch", "catch_all"})
    if (k == e) unsupportedAt(n, "exceptions");
  for (std::string_view s :
       {"cont.new", "cont.bind", "resume", "resume_throw", "suspend", "switch"})
    if (k == s) unsupportedAt(n, "stack switching");
}

// Flat blocks recurse here without nesting in the tree; this bounds the
// recursion on hostile input (the lexer bounds list nesting likewise).
constexpr size_t kMaxNesting = 2000;

bool isBlockOp(std::string_view k) {
  return k == "block" || k == "loop" || k == "if";
}

uint8_t blockOpcode(std::string_view k) {
  return k == "block" ? 0x02 : k == "loop" ? 0x03 : 0x04;
}

// The natural alignment of a memory access in bytes.
uint32_t naturalAlign(ImmKind k) {
  switch (k) {
    case ImmKind::MemArg1: return 1;
    case ImmKind::MemArg2: return 2;
    case ImmKind::MemArg4: return 4;
    default: return 8;
  }
}

}  // namespace

uint32_t Assembler::labelIndex(const Node& n, FuncCtx& f) {
  if (n.kind == Node::Kind::Num) {
    auto v = parseUnsigned(n.text, 32);
    if (!v) failAt(n, "malformed label index");
    return static_cast<uint32_t>(*v);
  }
  if (n.kind == Node::Kind::Id) {
    for (size_t i = f.labels.size(); i-- > 0;)
      if (f.labels[i] == n.text) return static_cast<uint32_t>(f.labels.size() - 1 - i);
    failAt(n, fmt::format("unknown label ${}", n.text));
  }
  failAt(n, "expected a label");
}

void Assembler::blockType(Cursor& c, Bytes& out) {
  if (c.atList("type")) {
    TypeUse use = typeUse(c, false);
    out.s64(use.index);  // s33
    return;
  }
  std::vector<VT> params, results;
  paramsResults(c, false, params, results, nullptr);
  if (params.empty() && results.empty()) {
    out.u8(0x40);
  } else if (params.empty() && results.size() == 1) {
    writeValType(out, results[0]);
  } else {
    out.s64(implicitType(params, results));
  }
}

void Assembler::instrs(Cursor& c, Bytes& out, FuncCtx& f) {
  while (!c.done()) {
    const Node& n = c.peek();
    if (n.isList()) {
      c.next("an instruction");
      folded(n, out, f);
      continue;
    }
    if (n.kind != Node::Kind::Keyword) failAt(n, "unexpected token (unknown operator)");
    if (n.text == "end" || n.text == "else") return;
    c.next("an instruction");
    if (!isBlockOp(n.text)) {
      plain(n, c, out, f);
      continue;
    }
    // block label? blocktype instr* (else label? instr*)? end label? (spec 6.5.2)
    if (f.labels.size() >= kMaxNesting) failAt(n, "blocks nested too deeply");
    std::string label;
    if (!c.done() && c.peek().kind == Node::Kind::Id) label = c.next("label").text;
    out.u8(blockOpcode(n.text));
    blockType(c, out);
    f.labels.push_back(label);
    instrs(c, out, f);
    // An id after `else` or `end` must repeat the block's label (spec 6.5.2).
    auto closingLabel = [&] {
      if (!c.done() && c.peek().kind == Node::Kind::Id) {
        const Node& id = c.next("label");
        if (id.text != label) failAt(id, "mismatching label");
      }
    };
    if (n.text == "if" && c.atKeyword("else")) {
      c.next("else");
      closingLabel();
      out.u8(0x05);
      instrs(c, out, f);
    }
    if (!c.atKeyword("end")) {
      if (c.done()) failAt(n, "missing `end`");
      failAt(c.peek(), "unexpected token");
    }
    c.next("end");
    closingLabel();
    f.labels.pop_back();
    out.u8(0x0B);
  }
}

void Assembler::folded(const Node& list, Bytes& out, FuncCtx& f) {
  if (list.kids.empty()) failAt(list, "empty instruction");
  const Node& head = list.kids[0];
  if (head.kind != Node::Kind::Keyword) failAt(head, "unexpected token (unknown operator)");
  Cursor c(list, 1);
  if (!isBlockOp(head.text)) {
    Bytes op;
    plain(head, c, op, f);
    while (!c.done()) {
      const Node& operand = c.next("an operand");
      if (!operand.isList()) failAt(operand, "unexpected token");
      folded(operand, out, f);
    }
    out.raw(op);
    return;
  }
  std::string label;
  if (!c.done() && c.peek().kind == Node::Kind::Id) label = c.next("label").text;
  Bytes bt;
  blockType(c, bt);
  if (head.text != "if") {
    out.u8(blockOpcode(head.text));
    out.raw(bt);
    f.labels.push_back(label);
    instrs(c, out, f);
    c.expectEnd();
    f.labels.pop_back();
    out.u8(0x0B);
    return;
  }
  // (if label? blocktype foldedinstr* (then instr*) (else instr*)?)
  while (!c.done() && c.peek().isList() && !c.atList("then")) folded(c.next("condition"), out, f);
  if (!c.atList("then")) failAt(c.done() ? list : c.peek(), "expected `(then ...)`");
  out.u8(0x04);
  out.raw(bt);
  f.labels.push_back(label);
  Cursor then_c(c.next("then"), 1);
  instrs(then_c, out, f);
  then_c.expectEnd();
  if (c.atList("else")) {
    Cursor else_c(c.next("else"), 1);
    out.u8(0x05);
    instrs(else_c, out, f);
    else_c.expectEnd();
  }
  c.expectEnd();
  f.labels.pop_back();
  out.u8(0x0B);
}

void Assembler::plain(const Node& head, Cursor& c, Bytes& out, FuncCtx& f) {
  auto it = opTable().find(head.text);
  if (it == opTable().end()) {
    rejectOutOfScopeOp(head);
    failAt(head, fmt::format("unknown operator `{}`", head.text));
  }
  OpRow op = it->second;
  Bytes imm;
  auto next = [&](const char* what) -> const Node& { return c.next(what); };
  auto memoryIndex = [&]() {
    if (!c.atIndex()) return;
    const Node& m = next("a memory index");
    if (resolve(m, memory_space) != 0) unsupportedAt(m, "multiple memories");
  };
  auto optionalIndex = [&](Space& space) -> uint32_t {
    return c.atIndex() ? resolve(next("an index"), space) : 0;
  };
  auto number = [&](const char* what) -> const Node& {
    const Node& n = next(what);
    if (n.kind != Node::Kind::Num) failAt(n, fmt::format("expected {}", what));
    return n;
  };

  switch (op.imm) {
    case ImmKind::None:
      if (head.text == "select" && c.atList("result")) {
        // select (result t*)*: the typed form 0x1C (spec 6.5.4).
        std::vector<VT> types_out;
        while (c.atList("result")) {
          Cursor rc(next("result"), 1);
          while (!rc.done()) types_out.push_back(valType(rc));
        }
        op.code = 0x1C;
        imm.u32(types_out.size());
        for (const VT& t : types_out) writeValType(imm, t);
      }
      break;
    case ImmKind::BlockType: failAt(head, "unexpected block instruction");
    case ImmKind::Label: imm.u32(labelIndex(next("a label"), f)); break;
    case ImmKind::BrTable: {
      std::vector<uint32_t> targets;
      while (c.atIndex()) targets.push_back(labelIndex(next("a label"), f));
      if (targets.empty()) failAt(c.done() ? head : c.peek(), "expected a label");
      imm.u32(targets.size() - 1);
      for (uint32_t t : targets) imm.u32(t);
      break;
    }
    case ImmKind::Func: imm.u32(resolve(next("a function index"), func_space)); break;
    case ImmKind::CallIndirect: {
      uint32_t table = optionalIndex(table_space);
      TypeUse use = typeUse(c, false);
      imm.u32(use.index);
      imm.u32(table);
      break;
    }
    case ImmKind::Type: imm.u32(typeIndex(next("a type index"))); break;
    case ImmKind::SelectT: break;  // reached only through "select" above
    case ImmKind::Local: imm.u32(resolve(next("a local index"), f.locals)); break;
    case ImmKind::Global: imm.u32(resolve(next("a global index"), global_space)); break;
    case ImmKind::Table: imm.u32(optionalIndex(table_space)); break;
    case ImmKind::Data:
      needs_data_count = true;
      imm.u32(resolve(next("a data index"), data_space));
      break;
    case ImmKind::Elem: imm.u32(resolve(next("an elem index"), elem_space)); break;
    case ImmKind::MemArg1:
    case ImmKind::MemArg2:
    case ImmKind::MemArg4:
    case ImmKind::MemArg8: {
      memoryIndex();
      uint64_t offset = 0;
      uint64_t align = naturalAlign(op.imm);
      if (!c.done() && c.peek().kind == Node::Kind::Keyword &&
          c.peek().text.starts_with("offset=")) {
        const Node& n = next("offset");
        auto v = parseUnsigned(std::string_view(n.text).substr(7), 64);
        if (!v) failAt(n, "malformed offset (i64 constant out of range)");
        offset = *v;
      }
      if (!c.done() && c.peek().kind == Node::Kind::Keyword &&
          c.peek().text.starts_with("align=")) {
        const Node& n = next("align");
        auto v = parseUnsigned(std::string_view(n.text).substr(6), 64);
        // The alignment must be a power of two (spec 6.5.7 memarg); its
        // size against the natural one is the validator's business.
        if (!v || *v == 0 || (*v & (*v - 1)) != 0) failAt(n, "alignment must be a power of two");
        align = *v;
      }
      imm.u32(static_cast<uint32_t>(__builtin_ctzll(align)));
      imm.u32(offset);
      break;
    }
    case ImmKind::MemIdx:
      memoryIndex();
      imm.u8(0x00);
      break;
    case ImmKind::I32: {
      const Node& n = number("an i32 literal");
      auto v = parseInt(n.text, 32);
      if (!v) failAt(n, "constant out of range (i32 constant)");
      imm.s64(static_cast<int32_t>(static_cast<uint32_t>(*v)));
      break;
    }
    case ImmKind::I64: {
      const Node& n = number("an i64 literal");
      auto v = parseInt(n.text, 64);
      if (!v) failAt(n, "constant out of range (i64 constant)");
      imm.s64(static_cast<int64_t>(*v));
      break;
    }
    case ImmKind::F32: {
      const Node& n = number("an f32 literal");
      auto v = parseF32(n.text);
      if (!v) failAt(n, "constant out of range (f32 constant)");
      imm.fixed32(*v);
      break;
    }
    case ImmKind::F64: {
      const Node& n = number("an f64 literal");
      auto v = parseF64(n.text);
      if (!v) failAt(n, "constant out of range (f64 constant)");
      imm.fixed64(*v);
      break;
    }
    case ImmKind::HeapType: {
      if (head.text == "ref.null") {
        bool idx = false;
        uint32_t heap = 0;
        heapType(next("a heap type"), idx, heap);
        writeHeapType(imm, idx, heap);
      } else {
        // ref.test / ref.cast: the reference type picks the opcode (spec 6.5.5).
        VT t = refType(next("a reference type"));
        if (t.code == 0x63) ++op.code;
        writeHeapType(imm, t.heap_index, t.heap);
      }
      break;
    }
    case ImmKind::TypeField: {
      uint32_t type = typeIndex(next("a type index"));
      const Node& field = next("a field index");
      if (field.kind == Node::Kind::Id) {
        if (type >= types.size()) failAt(field, fmt::format("unknown field ${}", field.text));
        auto fi = types[type].field_ids.find(field.text);
        if (fi == types[type].field_ids.end())
          failAt(field, fmt::format("unknown field ${}", field.text));
        imm.u32(type);
        imm.u32(fi->second);
      } else {
        auto v = field.kind == Node::Kind::Num ? parseUnsigned(field.text, 32) : std::nullopt;
        if (!v) failAt(field, "expected a field index");
        imm.u32(type);
        imm.u32(*v);
      }
      break;
    }
    case ImmKind::TypeCount: {
      imm.u32(typeIndex(next("a type index")));
      const Node& n = number("an operand count");
      auto v = parseUnsigned(n.text, 32);
      if (!v) failAt(n, "malformed operand count");
      imm.u32(*v);
      break;
    }
    case ImmKind::TypeData:
      needs_data_count = true;
      imm.u32(typeIndex(next("a type index")));
      imm.u32(resolve(next("a data index"), data_space));
      break;
    case ImmKind::TypeElem:
      imm.u32(typeIndex(next("a type index")));
      imm.u32(resolve(next("an elem index"), elem_space));
      break;
    case ImmKind::TypeType:
      imm.u32(typeIndex(next("a type index")));
      imm.u32(typeIndex(next("a type index")));
      break;
    case ImmKind::BrOnCast: {
      uint32_t label = labelIndex(next("a label"), f);
      VT from = refType(next("a reference type"));
      VT to = refType(next("a reference type"));
      imm.u8(static_cast<uint8_t>((from.code == 0x63 ? 1 : 0) | (to.code == 0x63 ? 2 : 0)));
      imm.u32(label);
      writeHeapType(imm, from.heap_index, from.heap);
      writeHeapType(imm, to.heap_index, to.heap);
      break;
    }
    case ImmKind::MemInit: {
      // memory.init memidx? dataidx
      needs_data_count = true;
      const Node& first = next("a data index");
      if (c.atIndex()) {
        if (resolve(first, memory_space) != 0) unsupportedAt(first, "multiple memories");
        imm.u32(resolve(next("a data index"), data_space));
      } else {
        imm.u32(resolve(first, data_space));
      }
      imm.u8(0x00);
      break;
    }
    case ImmKind::MemCopy:
      if (c.atIndex()) {
        memoryIndex();
        if (!c.atIndex()) failAt(c.done() ? head : c.peek(), "expected a memory index");
        memoryIndex();
      }
      imm.u8(0x00);
      imm.u8(0x00);
      break;
    case ImmKind::TableInit: {
      // table.init tableidx? elemidx; the binary has the elem index first.
      const Node& first = next("an elem index");
      if (c.atIndex()) {
        uint32_t table = resolve(first, table_space);
        imm.u32(resolve(next("an elem index"), elem_space));
        imm.u32(table);
      } else {
        imm.u32(resolve(first, elem_space));
        imm.u32(0);
      }
      break;
    }
    case ImmKind::TableCopy:
      if (c.atIndex()) {
        imm.u32(resolve(next("a table index"), table_space));
        imm.u32(resolve(next("a table index"), table_space));
      } else {
        imm.u32(0);
        imm.u32(0);
      }
      break;
  }
  writeOp(out, op.prefix, op.code);
  out.raw(imm);
}

void Assembler::constExpr(Cursor& c, Bytes& out) {
  FuncCtx f;
  instrs(c, out, f);
  if (!c.done()) failAt(c.peek(), "unexpected token");
  out.u8(0x0B);
}

}  // namespace slabfuzz::wat
