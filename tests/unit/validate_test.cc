// Unit tests for runtime/validate.h: for a spread of instructions and
// module-level rules, a valid case and an invalid one with the expected
// ErrorCode, offset, message and context. Modules are written as bytes with
// the small builder below, decoded, then validated.
#include "runtime/validate.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "runtime/decode.h"
#include "tests/support/wasm_bytes.h"

namespace slabfuzz {
namespace {

using test::Bytes;
using test::funcT;
using test::vec;

// --- encoders --------------------------------------------------------------

constexpr uint8_t I32 = kCodeI32, I64 = kCodeI64, F32 = kCodeF32, F64 = kCodeF64;
constexpr uint8_t ANYREF = HeapType::Any, EQREF = HeapType::Eq, FUNCREF = HeapType::Func,
                  EXTERNREF = HeapType::Extern, STRUCTREF = HeapType::Struct, NONE = HeapType::None,
                  NOFUNC = HeapType::NoFunc;

Bytes vt(uint8_t code) {
  return Bytes{code};
}
// (ref null? $index) and (ref null? <abstract>).
Bytes refT(uint32_t index, bool nullable) {
  Bytes b{nullable ? kCodeRefNull : kCodeRef};
  return b.s64(index);
}
Bytes refA(uint8_t abstract, bool nullable) {
  return Bytes{nullable ? kCodeRefNull : kCodeRef, abstract};
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes b;
  for (const Bytes& p : parts) b.raw(p);
  return b;
}
Bytes field(const Bytes& storage, bool mut) {
  return cat({storage, Bytes{static_cast<uint8_t>(mut)}});
}
Bytes structT(std::initializer_list<Bytes> fields) {
  return cat({Bytes{kCodeStruct}, vec(fields)});
}
Bytes arrayT(const Bytes& f) {
  return cat({Bytes{kCodeArray}, f});
}
Bytes sub(std::initializer_list<uint32_t> supers, const Bytes& comp) {
  Bytes b{kCodeSub};
  b.u32(supers.size());
  for (uint32_t s : supers) b.u32(s);
  return b.raw(comp);
}

// Instructions.
Bytes i32c(int64_t v) {
  return Bytes{0x41}.s64(v);
}
Bytes i64c(int64_t v) {
  return Bytes{0x42}.s64(v);
}
Bytes op(uint8_t code) {
  return Bytes{code};
}
Bytes op1(uint8_t code, uint32_t imm) {
  return Bytes{code}.u32(imm);
}
Bytes gc(uint32_t code) {
  return Bytes{0xFB}.u32(code);
}
Bytes gc1(uint32_t code, uint32_t a) {
  return gc(code).u32(a);
}
Bytes gc2(uint32_t code, uint32_t a, uint32_t b) {
  return gc(code).u32(a).u32(b);
}
Bytes fc1(uint32_t code, uint32_t a) {
  return Bytes{0xFC}.u32(code).u32(a);
}
// A heap type immediate: an abstract code (0x69-0x74) as its byte, anything
// else as a type index (the tests keep type indices small).
Bytes heap(uint32_t ht) {
  if (HeapType::isAbstractCode(static_cast<uint8_t>(ht)) && ht <= 0xFF) {
    return Bytes{static_cast<uint8_t>(ht)};
  }
  return Bytes{}.s64(ht);
}
Bytes heapOp(uint8_t code, uint32_t ht) {
  return cat({Bytes{code}, heap(ht)});
}  // ref.null
Bytes gcHeap(uint32_t code, uint32_t ht) {
  return cat({gc(code), heap(ht)});
}  // ref.test/cast
// br_on_cast(_fail) l ht1 ht2 with nullability flags.
Bytes brOnCast(bool fail, uint32_t label, uint32_t ht1, bool null1, uint32_t ht2, bool null2) {
  Bytes b = gc(fail ? 25 : 24);
  b.u8(static_cast<uint8_t>((null1 ? 1 : 0) | (null2 ? 2 : 0))).u32(label);
  return cat({b, heap(ht1), heap(ht2)});
}
constexpr uint8_t UNREACHABLE = 0x00, BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0B,
                  BR = 0x0C, BR_IF = 0x0D, BR_TABLE = 0x0E, RETURN = 0x0F, CALL = 0x10,
                  CALL_INDIRECT = 0x11, RETURN_CALL = 0x12, CALL_REF = 0x14, RETURN_CALL_REF = 0x15,
                  DROP = 0x1A, SELECT = 0x1B, SELECT_T = 0x1C, LOCAL_GET = 0x20, LOCAL_SET = 0x21,
                  LOCAL_TEE = 0x22, GLOBAL_GET = 0x23, GLOBAL_SET = 0x24, I32_LOAD = 0x28,
                  I32_ADD = 0x6A, REF_NULL = 0xD0, REF_IS_NULL = 0xD1, REF_FUNC = 0xD2,
                  REF_EQ = 0xD3, REF_AS_NON_NULL = 0xD4, BR_ON_NULL = 0xD5, BR_ON_NON_NULL = 0xD6;
constexpr uint8_t kVoid = kCodeEmptyBlock;

// --- module builder --------------------------------------------------------

// Collects definitions and writes sections in order; remembers where each
// function's code starts so tests can name instruction offsets.
class ModuleBuilder {
 public:
  // A type section entry (a subtype or a rec group); returns its index
  // (assuming one type per entry).
  uint32_t type(const Bytes& entry) {
    types_.push_back(entry);
    return static_cast<uint32_t>(types_.size() - 1);
  }
  void importFunc(uint32_t type_index) {
    imports_.push_back(cat({Bytes{}.name("m").name("f"), Bytes{0x00}.u32(type_index)}));
    ++imported_funcs_;
  }
  void importGlobal(const Bytes& valtype, bool mut) {
    imports_.push_back(
        cat({Bytes{}.name("m").name("g"), Bytes{0x03}, valtype, Bytes{static_cast<uint8_t>(mut)}}));
  }
  // A defined function; `code` excludes the final `end`. Returns its index.
  uint32_t func(uint32_t type_index, std::initializer_list<Bytes> locals, const Bytes& code,
                std::string name = "") {
    funcs_.push_back({type_index, vec(locals), code});
    uint32_t index = imported_funcs_ + static_cast<uint32_t>(funcs_.size() - 1);
    if (!name.empty()) names_.push_back({index, name});
    return index;
  }
  void table(const Bytes& entry) { tables_.push_back(entry); }
  void memory(uint32_t min, std::optional<uint32_t> max = {}) {
    memories_.push_back(max ? Bytes{0x01}.u32(min).u32(*max) : Bytes{0x00}.u32(min));
  }
  void global(const Bytes& valtype, bool mut, const Bytes& init) {
    globals_.push_back(cat({valtype, Bytes{static_cast<uint8_t>(mut)}, init, Bytes{END}}));
  }
  void exportFunc(std::string_view name, uint32_t index) {
    exports_.push_back(Bytes{}.name(name).u8(0x00).u32(index));
  }
  void start(uint32_t index) { start_ = index; }
  void elem(const Bytes& entry) { elems_.push_back(entry); }
  void data(const Bytes& entry) { datas_.push_back(entry); }
  void dataCount(uint32_t n) { data_count_ = n; }
  void typeName(uint32_t index, std::string name) { type_names_.push_back({index, name}); }

  Bytes build() {
    Bytes m = Bytes::header();
    section(m, 1, types_);
    section(m, 2, imports_);
    Bytes fsec;
    fsec.u32(funcs_.size());
    for (const Fn& f : funcs_) fsec.u32(f.type);
    if (!funcs_.empty()) m.section(3, fsec);
    section(m, 4, tables_);
    section(m, 5, memories_);
    section(m, 6, globals_);
    section(m, 7, exports_);
    if (start_) m.section(8, Bytes{}.u32(*start_));
    section(m, 9, elems_);
    if (data_count_) m.section(12, Bytes{}.u32(*data_count_));
    if (!funcs_.empty()) buildCode(m);
    section(m, 11, datas_);
    if (!names_.empty() || !type_names_.empty()) buildNames(m);
    return m;
  }
  // Offset of byte `k` of defined function `f`'s code (valid after build).
  uint32_t at(uint32_t f, uint32_t k = 0) const { return code_starts_[f] + k; }

 private:
  struct Fn {
    uint32_t type;
    Bytes locals, code;
  };
  static void section(Bytes& m, uint8_t id, const std::vector<Bytes>& entries) {
    if (entries.empty()) return;
    Bytes payload;
    payload.u32(entries.size());
    for (const Bytes& e : entries) payload.raw(e);
    m.section(id, payload);
  }
  static uint32_t lebSize(size_t v) { return static_cast<uint32_t>(Bytes{}.u32(v).size()); }
  void buildCode(Bytes& m) {
    Bytes payload;
    payload.u32(funcs_.size());
    std::vector<uint32_t> rel;
    for (const Fn& f : funcs_) {
      Bytes body = cat({f.locals, f.code, Bytes{END}});
      payload.u32(body.size());
      rel.push_back(static_cast<uint32_t>(payload.size() + f.locals.size()));
      payload.raw(body);
    }
    uint32_t base = static_cast<uint32_t>(m.size()) + 1 + lebSize(payload.size());
    code_starts_.clear();
    for (uint32_t r : rel) code_starts_.push_back(base + r);
    m.section(10, payload);
  }
  void buildNames(Bytes& m) {
    Bytes payload;
    payload.name("name");
    auto subsection = [&](uint8_t id, const std::vector<std::pair<uint32_t, std::string>>& map) {
      if (map.empty()) return;
      Bytes s;
      s.u32(map.size());
      for (const auto& [index, name] : map) s.u32(index).name(name);
      payload.section(id, s);
    };
    subsection(1, names_);
    subsection(4, type_names_);
    m.section(0, payload);
  }

  std::vector<Bytes> types_, imports_, tables_, memories_, globals_, exports_, elems_, datas_;
  std::vector<Fn> funcs_;
  std::vector<std::pair<uint32_t, std::string>> names_, type_names_;
  std::optional<uint32_t> start_, data_count_;
  uint32_t imported_funcs_ = 0;
  std::vector<uint32_t> code_starts_;
};

// --- checking --------------------------------------------------------------

Status validateBytes(const Bytes& bytes) {
  auto decoded = decodeModule(bytes.data());
  if (!decoded.ok()) {
    ADD_FAILURE() << "decode failed: " << decoded.error().toString();
    return decoded.takeError();
  }
  return validateModule(decoded.value());
}

void expectValid(const Bytes& bytes) {
  Status s = validateBytes(bytes);
  EXPECT_TRUE(s.ok()) << s.error().toString();
}

// Expects an error with this code and offset; returns it for more checks.
Error expectInvalid(const Bytes& bytes, ErrorCode code, uint32_t offset) {
  Status s = validateBytes(bytes);
  if (s.ok()) {
    ADD_FAILURE() << "accepted an invalid module";
    return Error{};
  }
  Error e = s.error();
  EXPECT_EQ(slugOf(e.code), slugOf(code)) << e.toString();
  EXPECT_EQ(e.offset, offset) << e.toString();
  EXPECT_EQ(e.category(), ErrorCategory::Invalid) << e.toString();
  return e;
}

// A module with one function of type [params] -> [results] and the given
// locals and code; `b` gives access to offsets.
struct OneFunc {
  ModuleBuilder b;
  Bytes bytes;
};
OneFunc oneFunc(std::initializer_list<Bytes> params, std::initializer_list<Bytes> results,
                std::initializer_list<Bytes> locals, const Bytes& code) {
  OneFunc f;
  uint32_t t = f.b.type(funcT(params, results));
  f.b.func(t, locals, code);
  f.bytes = f.b.build();
  return f;
}
Bytes local(uint32_t n, const Bytes& t) {
  return cat({Bytes{}.u32(n), t});
}

// --- numeric instructions and the operand stack ----------------------------

TEST(ValidateNumeric, FixedSignatures) {
  expectValid(oneFunc({}, {vt(I32)}, {}, cat({i32c(1), i32c(2), op(I32_ADD)})).bytes);
  expectValid(oneFunc({vt(F64)}, {vt(I64)}, {},
                      cat({op1(LOCAL_GET, 0), Bytes{0xFC, 0x06}}))  // i64.trunc_sat_f64_s
                  .bytes);
  // i32.add over an i64.
  OneFunc f = oneFunc({}, {vt(I32)}, {}, cat({i32c(1), i64c(2), op(I32_ADD)}));
  Error e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 4));
  EXPECT_EQ(e.message, "type mismatch: expected i32, got i64");
  EXPECT_EQ(e.context, "func 0");
}

TEST(ValidateNumeric, MissingAndExtraOperands) {
  OneFunc f = oneFunc({}, {vt(I32)}, {}, cat({i32c(1), op(I32_ADD)}));
  Error e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 2));
  EXPECT_EQ(e.message, "type mismatch: expected i32, got nothing");
  // An extra value at the end of the function, reported at its `end`.
  f = oneFunc({}, {}, {}, i32c(7));
  e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 2));
  EXPECT_EQ(e.message, "type mismatch: extra value i32 at end of function");
  // Missing result.
  f = oneFunc({}, {vt(F32)}, {}, Bytes{});
  e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 0));
  EXPECT_EQ(e.message, "type mismatch: expected f32, got nothing");
}

TEST(ValidatePolymorphic, UnreachableMakesTheStackPolymorphic) {
  // unreachable; i32.add: both operands are Bot.
  expectValid(oneFunc({}, {vt(I32)}, {}, cat({op(UNREACHABLE), op(I32_ADD)})).bytes);
  // ... but a known operand is still checked.
  OneFunc f = oneFunc({}, {vt(I32)}, {}, cat({op(UNREACHABLE), i64c(0), op(I32_ADD)}));
  expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 3));
  // br / return also end reachability; the block's results come from Bot.
  expectValid(oneFunc({}, {vt(I64)}, {},
                      cat({Bytes{BLOCK, I64}, i64c(1), op1(BR, 0), op(I32_ADD), op(DROP), op(END)}))
                  .bytes);
  expectValid(oneFunc({}, {vt(I32)}, {}, cat({i32c(1), op(RETURN), op(SELECT)})).bytes);
  // Values pushed after unreachable must still match the frame's results.
  f = oneFunc({}, {vt(I32)}, {}, cat({op(UNREACHABLE), i64c(0)}));
  expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 3));
  // ref.as_non_null of Bot gives (ref bot): a reference, not an i32.
  f = oneFunc({}, {vt(I32)}, {}, cat({op(UNREACHABLE), op(REF_AS_NON_NULL), op(I32_ADD)}));
  Error e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 2));
  EXPECT_EQ(e.message, "type mismatch: expected i32, got (ref bot)");
  // Untyped select on two Bots is fine; on a Bot and a reference it is not.
  expectValid(oneFunc({}, {vt(I32)}, {}, cat({op(UNREACHABLE), op(SELECT)})).bytes);
  f = oneFunc({}, {}, {},
              cat({op(UNREACHABLE), heapOp(REF_NULL, FUNCREF), i32c(1), op(SELECT), op(DROP)}));
  expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 5));
}

TEST(ValidateParametric, Select) {
  expectValid(oneFunc({}, {vt(F64)}, {},
                      cat({Bytes{0x44, 0, 0, 0, 0, 0, 0, 0, 0}, Bytes{0x44, 0, 0, 0, 0, 0, 0, 0, 0},
                           i32c(0), op(SELECT)}))
                  .bytes);
  // Typed select on references.
  expectValid(oneFunc({}, {refA(FUNCREF, true)}, {},
                      cat({heapOp(REF_NULL, FUNCREF), heapOp(REF_NULL, NOFUNC), i32c(0),
                           Bytes{SELECT_T, 0x01, kCodeRefNull, FUNCREF}}))
                  .bytes);
  // Untyped select on references.
  OneFunc f =
      oneFunc({}, {refA(FUNCREF, true)}, {},
              cat({heapOp(REF_NULL, FUNCREF), heapOp(REF_NULL, FUNCREF), i32c(0), op(SELECT)}));
  Error e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 6));
  EXPECT_EQ(e.message, "type mismatch: select without a type needs numeric operands, got funcref");
  // Mismatched numeric operands.
  f = oneFunc({}, {vt(I32)}, {}, cat({i32c(0), i64c(0), i32c(0), op(SELECT)}));
  expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 6));
  // A typed select must name exactly one type.
  f = oneFunc({}, {vt(I32)}, {}, cat({i32c(0), i32c(0), i32c(0), Bytes{SELECT_T, 0x02, I32, I32}}));
  e = expectInvalid(f.bytes, ErrorCode::InvalidArity, f.b.at(0, 6));
  EXPECT_EQ(e.message, "invalid result arity");
}

// --- locals and globals ----------------------------------------------------

TEST(ValidateLocals, IndicesAndTypes) {
  expectValid(oneFunc({vt(I32)}, {vt(I64)}, {local(1, vt(I64))},
                      cat({op1(LOCAL_GET, 1), op1(LOCAL_TEE, 1)}))
                  .bytes);
  OneFunc f = oneFunc({vt(I32)}, {}, {local(2, vt(I64))}, cat({op1(LOCAL_GET, 7), op(DROP)}));
  Error e = expectInvalid(f.bytes, ErrorCode::UnknownIndex, f.b.at(0));
  EXPECT_EQ(e.message, "unknown local 7");
  f = oneFunc({vt(I32)}, {}, {}, cat({i64c(0), op1(LOCAL_SET, 0)}));
  expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 2));
}

TEST(ValidateLocals, NonDefaultableInitialisation) {
  // (param $p (ref extern)) (local $x (ref extern)): local 1.
  auto build = [](const Bytes& code) {
    return oneFunc({refA(EXTERNREF, false)}, {}, {local(1, refA(EXTERNREF, false))}, code);
  };
  // get before set.
  OneFunc f = build(cat({op1(LOCAL_GET, 1), op(DROP)}));
  Error e = expectInvalid(f.bytes, ErrorCode::UninitializedLocal, f.b.at(0));
  EXPECT_EQ(e.message, "uninitialized local 1");
  // set, then get in the same block: fine; parameters are initialised.
  expectValid(
      build(cat({op1(LOCAL_GET, 0), op1(LOCAL_SET, 1), op1(LOCAL_GET, 1), op(DROP)})).bytes);
  // set inside a block does not outlive it.
  f = build(cat({Bytes{BLOCK, kVoid}, op1(LOCAL_GET, 0), op1(LOCAL_SET, 1), op1(LOCAL_GET, 1),
                 op(DROP), op(END), op1(LOCAL_GET, 1), op(DROP)}));
  expectInvalid(f.bytes, ErrorCode::UninitializedLocal, f.b.at(0, 10));
  // set in `then` does not reach `else`.
  f = build(cat({i32c(0), Bytes{IF, kVoid}, op1(LOCAL_GET, 0), op1(LOCAL_SET, 1), op(ELSE),
                 op1(LOCAL_GET, 1), op(DROP), op(END)}));
  expectInvalid(f.bytes, ErrorCode::UninitializedLocal, f.b.at(0, 9));
  // local.tee initialises too; a nullable local needs nothing.
  expectValid(
      build(cat({op1(LOCAL_GET, 0), op1(LOCAL_TEE, 1), op(DROP), op1(LOCAL_GET, 1), op(DROP)}))
          .bytes);
  expectValid(
      oneFunc({}, {}, {local(1, refA(EXTERNREF, true))}, cat({op1(LOCAL_GET, 0), op(DROP)})).bytes);
}

TEST(ValidateGlobals, GetSetAndMutability) {
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {}));
  b.global(vt(I32), false, i32c(1));  // 0: immutable
  b.global(vt(I32), true, i32c(2));   // 1: mutable
  b.func(t, {}, cat({op1(GLOBAL_GET, 0), op1(GLOBAL_SET, 1)}));
  b.func(t, {}, cat({i32c(3), op1(GLOBAL_SET, 0)}));
  Error e = expectInvalid(b.build(), ErrorCode::ImmutableGlobal, b.at(1, 2));
  EXPECT_EQ(e.message, "immutable global");
  EXPECT_EQ(e.context, "func 1");

  OneFunc f = oneFunc({}, {}, {}, cat({op1(GLOBAL_GET, 3), op(DROP)}));
  e = expectInvalid(f.bytes, ErrorCode::UnknownIndex, f.b.at(0));
  EXPECT_EQ(e.message, "unknown global 3");
}

// --- control ---------------------------------------------------------------

TEST(ValidateControl, BlockTypesAndLabels) {
  ModuleBuilder b;
  uint32_t t_ii_l = b.type(funcT({vt(I32), vt(I32)}, {vt(I64)}));
  uint32_t t_v_l = b.type(funcT({}, {vt(I64)}));
  // block (type [i32 i32] -> [i64]) consuming two i32s.
  b.func(t_v_l, {},
         cat({i32c(1), i32c(2), Bytes{BLOCK}.s64(t_ii_l), op(I32_ADD),
              Bytes{0xAC} /*i64.extend_i32_s*/, op(END)}));
  // loop with params: a branch to it carries the params.
  b.func(t_v_l, {}, cat({i32c(1), i32c(2), Bytes{LOOP}.s64(t_ii_l), op1(BR, 0), op(END)}));
  expectValid(b.build());

  // br to a loop with the loop's *result* type is wrong.
  ModuleBuilder c;
  uint32_t t_i_l = c.type(funcT({vt(I32)}, {vt(I64)}));
  uint32_t t2 = c.type(funcT({}, {vt(I64)}));
  c.func(t2, {}, cat({i32c(1), Bytes{LOOP}.s64(t_i_l), op(DROP), i64c(0), op1(BR, 0), op(END)}));
  expectInvalid(c.build(), ErrorCode::TypeMismatch, c.at(0, 7));

  OneFunc f = oneFunc({}, {}, {}, cat({Bytes{BLOCK, kVoid}, op1(BR, 2), op(END)}));
  Error e = expectInvalid(f.bytes, ErrorCode::UnknownIndex, f.b.at(0, 2));
  EXPECT_EQ(e.message, "unknown label 2");
}

TEST(ValidateControl, IfWithoutElse) {
  // if [i32] -> [i32] without else passes its param through: fine.
  ModuleBuilder b;
  uint32_t t_i_i = b.type(funcT({vt(I32)}, {vt(I32)}));
  b.func(t_i_i, {}, cat({op1(LOCAL_GET, 0), i32c(1), Bytes{IF}.s64(t_i_i), op(END)}));
  expectValid(b.build());
  // if [] -> [i32] without else cannot produce its result.
  OneFunc f = oneFunc({}, {vt(I32)}, {}, cat({i32c(1), Bytes{IF, I32}, i32c(2), op(END)}));
  expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 6));
}

TEST(ValidateControl, BrIfAndBrTable) {
  expectValid(
      oneFunc({}, {vt(I32)}, {}, cat({Bytes{BLOCK, I32}, i32c(1), i32c(0), op1(BR_IF, 0), op(END)}))
          .bytes);
  // br_table with targets of different arities.
  OneFunc f = oneFunc({}, {vt(I32)}, {},
                      cat({Bytes{BLOCK, I32}, Bytes{BLOCK, kVoid}, i32c(1), i32c(0),
                           Bytes{BR_TABLE, 0x01, 0x00, 0x01}, op(END), i32c(0), op(END)}));
  Error e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 8));
  EXPECT_EQ(e.message, "type mismatch: br_table target 0 has arity 0, default has 1");
  // br_table in unreachable code: targets checked against Bot.
  expectValid(
      oneFunc({}, {vt(I32)}, {},
              cat({Bytes{BLOCK, I32}, op(UNREACHABLE), Bytes{BR_TABLE, 0x01, 0x00, 0x01}, op(END)}))
          .bytes);
}

TEST(ValidateControl, BrOnNullAndNonNull) {
  ModuleBuilder b;
  uint32_t s = b.type(structT({}));
  uint32_t t = b.type(funcT({refT(s, true)}, {refT(s, false)}));
  // block; local.get 0; br_on_null 0; return; end; unreachable
  b.func(t, {},
         cat({Bytes{BLOCK, kVoid}, op1(LOCAL_GET, 0), op1(BR_ON_NULL, 0), op(RETURN), op(END),
              op(UNREACHABLE)}));
  // block (result (ref $s)); local.get 0; br_on_non_null 0; unreachable; end
  b.func(t, {},
         cat({Bytes{BLOCK}.raw(refT(s, false)), op1(LOCAL_GET, 0), op1(BR_ON_NON_NULL, 0),
              op(UNREACHABLE), op(END)}));
  expectValid(b.build());

  // br_on_non_null to a label without values.
  ModuleBuilder c;
  uint32_t s2 = c.type(structT({}));
  uint32_t t2 = c.type(funcT({refT(s2, true)}, {}));
  c.func(t2, {}, cat({Bytes{BLOCK, kVoid}, op1(LOCAL_GET, 0), op1(BR_ON_NON_NULL, 0), op(END)}));
  expectInvalid(c.build(), ErrorCode::TypeMismatch, c.at(0, 4));
}

TEST(ValidateControl, BrOnCast) {
  ModuleBuilder b;
  uint32_t a = b.type(sub({}, structT({})));
  uint32_t s = b.type(sub({a}, structT({field(vt(I32), false)})));
  uint32_t t = b.type(funcT({refA(ANYREF, true)}, {refT(s, false)}));
  // block (result (ref $s)) (br_on_cast 0 anyref (ref $s) (local.get 0)) drop unreachable end
  b.func(t, {},
         cat({Bytes{BLOCK}.raw(refT(s, false)), op1(LOCAL_GET, 0),
              brOnCast(false, 0, ANYREF, true, s, false), op(DROP), op(UNREACHABLE), op(END)}));
  // br_on_cast_fail: the label gets anyref \ (ref $s) = anyref; fallthrough (ref $s).
  uint32_t t2 = b.type(funcT({refA(ANYREF, true)}, {refA(ANYREF, true)}));
  b.func(t2, {},
         cat({Bytes{BLOCK}.raw(refA(ANYREF, true)), op1(LOCAL_GET, 0),
              brOnCast(true, 0, ANYREF, true, s, false), gc2(2, s, 0), op(DROP), op(UNREACHABLE),
              op(END)}));
  expectValid(b.build());

  // The target must be a subtype of the source.
  ModuleBuilder c;
  uint32_t t3 = c.type(funcT({}, {refA(ANYREF, true)}));
  c.func(t3, {}, cat({op(UNREACHABLE), brOnCast(false, 0, EQREF, true, ANYREF, true)}));
  Error e = expectInvalid(c.build(), ErrorCode::TypeMismatch, c.at(0, 1));
  EXPECT_EQ(e.message, "type mismatch: cast target anyref is not a subtype of source eqref");

  // The cast type must match the label: (ref null $s) does not fit (ref $s).
  ModuleBuilder d;
  uint32_t a2 = d.type(sub({}, structT({})));
  uint32_t t4 = d.type(funcT({refA(ANYREF, false)}, {refT(a2, false)}));
  d.func(t4, {},
         cat({Bytes{BLOCK}.raw(refA(ANYREF, false)), op1(LOCAL_GET, 0),
              brOnCast(false, 1, ANYREF, true, a2, true), op(END), op(UNREACHABLE)}));
  e = expectInvalid(d.build(), ErrorCode::TypeMismatch, d.at(0, 5));
  EXPECT_EQ(e.message, "type mismatch: expected (ref $0), got (ref null $0)");

  // WebAssembly/gc#516: the label's prefix types, not the operands', flow on.
  ModuleBuilder g;
  uint32_t ft = g.type(funcT({}, {}));
  uint32_t fa = g.type(funcT({refT(ft, true)}, {refA(FUNCREF, true)}));
  uint32_t fb = g.type(funcT({refA(FUNCREF, true)}, {refA(FUNCREF, true), refA(FUNCREF, true)}));
  g.func(fa, {}, op1(LOCAL_GET, 0));
  g.func(fb, {},
         cat({heapOp(REF_NULL, ft), op1(LOCAL_GET, 0), brOnCast(false, 0, FUNCREF, true, ft, false),
              op(DROP), op1(CALL, 0), op1(LOCAL_GET, 0)}));
  expectInvalid(g.build(), ErrorCode::TypeMismatch, g.at(1, 11));
}

// --- calls -----------------------------------------------------------------

TEST(ValidateCalls, DirectIndirectAndRef) {
  ModuleBuilder b;
  uint32_t t_i_i = b.type(funcT({vt(I32)}, {vt(I32)}));
  b.table(cat({refA(FUNCREF, true), Bytes{0x00, 0x01}}));
  b.elem(cat({Bytes{0x03, 0x00}, vec({Bytes{0x00}})}));  // elem declare func 0
  b.func(t_i_i, {},
         cat({op1(LOCAL_GET, 0), op1(CALL, 0), i32c(0), Bytes{CALL_INDIRECT}.u32(t_i_i).u32(0),
              op1(REF_FUNC, 0), op1(CALL_REF, t_i_i)}));
  expectValid(b.build());

  OneFunc f = oneFunc({}, {}, {}, cat({op1(CALL, 5)}));
  Error e = expectInvalid(f.bytes, ErrorCode::UnknownIndex, f.b.at(0));
  EXPECT_EQ(e.message, "unknown function 5");

  // call_indirect through an externref table.
  ModuleBuilder c;
  uint32_t t = c.type(funcT({}, {}));
  c.table(cat({refA(EXTERNREF, true), Bytes{0x00, 0x01}}));
  c.func(t, {}, cat({i32c(0), Bytes{CALL_INDIRECT}.u32(t).u32(0)}));
  expectInvalid(c.build(), ErrorCode::TypeMismatch, c.at(0, 2));

  // call_ref with a funcref operand (needs (ref null $t)).
  ModuleBuilder d;
  uint32_t t2 = d.type(funcT({}, {}));
  uint32_t t3 = d.type(funcT({refA(FUNCREF, true)}, {}));
  d.func(t3, {}, cat({op1(LOCAL_GET, 0), op1(CALL_REF, t2)}));
  e = expectInvalid(d.build(), ErrorCode::TypeMismatch, d.at(0, 2));
  EXPECT_EQ(e.message, "type mismatch: expected (ref null $0), got funcref");
}

TEST(ValidateCalls, TailCallResults) {
  ModuleBuilder b;
  uint32_t t_l = b.type(funcT({}, {vt(I64)}));
  uint32_t t_i = b.type(funcT({}, {vt(I32)}));
  b.func(t_l, {}, i64c(1));
  b.func(t_l, {}, cat({op1(RETURN_CALL, 0), op(DROP)}));  // unreachable after
  b.func(t_i, {}, op1(RETURN_CALL, 0));
  Error e = expectInvalid(b.build(), ErrorCode::TypeMismatch, b.at(2));
  EXPECT_EQ(e.message, "type mismatch: tail call returns [i64] but the function returns [i32]");
  EXPECT_EQ(e.context, "func 2");

  // return_call_ref: result subtyping (ref $s) <: anyref is fine.
  ModuleBuilder c;
  uint32_t s = c.type(structT({}));
  uint32_t ts = c.type(funcT({}, {refT(s, false)}));
  uint32_t ta = c.type(funcT({refT(ts, false)}, {refA(ANYREF, true)}));
  c.func(ta, {}, cat({op1(LOCAL_GET, 0), op1(RETURN_CALL_REF, ts)}));
  expectValid(c.build());
}

// --- memory and tables -----------------------------------------------------

TEST(ValidateMemory, AlignmentOffsetAndMemoryIndex) {
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {vt(I32)}));
  b.memory(1);
  b.func(t, {}, cat({i32c(0), Bytes{I32_LOAD, 0x02, 0x00}}));
  b.func(t, {}, cat({i32c(0), Bytes{I32_LOAD, 0x03, 0x00}}));  // align 8 > 4
  Error e = expectInvalid(b.build(), ErrorCode::InvalidAlignment, b.at(1, 2));
  EXPECT_EQ(e.message, "alignment must not be larger than natural");

  OneFunc f = oneFunc({}, {vt(I32)}, {}, cat({i32c(0), Bytes{I32_LOAD, 0x02, 0x00}}));
  e = expectInvalid(f.bytes, ErrorCode::UnknownIndex, f.b.at(0, 2));
  EXPECT_EQ(e.message, "unknown memory 0");
}

TEST(ValidateTables, ElementTypes) {
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {}));
  b.table(cat({refA(FUNCREF, true), Bytes{0x00, 0x01}}));    // 0: funcref
  b.table(cat({refA(EXTERNREF, true), Bytes{0x00, 0x01}}));  // 1: externref
  b.func(t, {},
         cat({i32c(0), i32c(0), op1(0x25, 0), Bytes{0x26, 0x00},  // table.set 0 (table.get 0)
              i32c(0), i32c(0), i32c(0), fc1(14, 0).u32(0)}));    // table.copy 0 0
  expectValid(b.build());
  ModuleBuilder c;
  uint32_t t2 = c.type(funcT({}, {}));
  c.table(cat({refA(FUNCREF, true), Bytes{0x00, 0x01}}));
  c.table(cat({refA(EXTERNREF, true), Bytes{0x00, 0x01}}));
  c.func(t2, {}, cat({i32c(0), i32c(0), i32c(0), fc1(14, 0).u32(1)}));  // copy extern -> func
  expectInvalid(c.build(), ErrorCode::TypeMismatch, c.at(0, 6));
}

// --- references and GC -----------------------------------------------------

TEST(ValidateRefs, DeclaredFunctionReferences) {
  // ref.func of an undeclared function.
  OneFunc f = oneFunc({}, {}, {}, cat({op1(REF_FUNC, 0), op(DROP)}));
  Error e = expectInvalid(f.bytes, ErrorCode::UndeclaredFuncRef, f.b.at(0));
  EXPECT_EQ(e.message, "undeclared function reference");
  // Declared by an export, a global initialiser or an element segment.
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {}));
  b.func(t, {},
         cat({op1(REF_FUNC, 0), op(DROP), op1(REF_FUNC, 1), op(DROP), op1(REF_FUNC, 2), op(DROP)}));
  b.func(t, {}, Bytes{});
  b.func(t, {}, Bytes{});
  b.exportFunc("f", 0);
  b.global(refA(FUNCREF, true), false, op1(REF_FUNC, 1));
  b.elem(cat({Bytes{0x03, 0x00}, vec({Bytes{0x02}})}));
  expectValid(b.build());
}

TEST(ValidateRefs, NullEqAndConversions) {
  expectValid(
      oneFunc({}, {vt(I32)}, {}, cat({heapOp(REF_NULL, EQREF), heapOp(REF_NULL, NONE), op(REF_EQ)}))
          .bytes);
  OneFunc f = oneFunc({}, {vt(I32)}, {},
                      cat({heapOp(REF_NULL, FUNCREF), heapOp(REF_NULL, EQREF), op(REF_EQ)}));
  Error e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 4));
  EXPECT_EQ(e.message, "type mismatch: expected eqref, got funcref");
  // any.convert_extern keeps nullability: (ref extern) -> (ref any).
  expectValid(
      oneFunc({refA(EXTERNREF, false)}, {refA(ANYREF, false)}, {}, cat({op1(LOCAL_GET, 0), gc(26)}))
          .bytes);
  f = oneFunc({refA(EXTERNREF, true)}, {refA(ANYREF, false)}, {}, cat({op1(LOCAL_GET, 0), gc(26)}));
  e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 4));
  EXPECT_EQ(e.message, "type mismatch: expected (ref any), got anyref");
  // ref.is_null of a number.
  f = oneFunc({}, {vt(I32)}, {}, cat({i32c(0), op(REF_IS_NULL)}));
  e = expectInvalid(f.bytes, ErrorCode::TypeMismatch, f.b.at(0, 2));
  EXPECT_EQ(e.message, "type mismatch: expected a reference, got i32");
  // i31.
  expectValid(oneFunc({}, {vt(I32)}, {}, cat({i32c(5), gc(28), gc(30)})).bytes);
}

TEST(ValidateRefs, TestAndCast) {
  ModuleBuilder b;
  uint32_t s = b.type(structT({}));
  uint32_t t = b.type(funcT({refA(ANYREF, true)}, {refT(s, true)}));
  b.func(t, {},
         cat({op1(LOCAL_GET, 0), gcHeap(20, s), op(DROP), op1(LOCAL_GET, 0), gcHeap(23, s)}));
  expectValid(b.build());
  // ref.cast to a func type from anyref: different hierarchies.
  ModuleBuilder c;
  uint32_t ft = c.type(funcT({}, {}));
  uint32_t t2 = c.type(funcT({refA(ANYREF, true)}, {}));
  c.func(t2, {}, cat({op1(LOCAL_GET, 0), gcHeap(22, ft), op(DROP)}));
  Error e = expectInvalid(c.build(), ErrorCode::TypeMismatch, c.at(0, 2));
  EXPECT_EQ(e.message, "type mismatch: expected funcref, got anyref");
}

TEST(ValidateGc, StructInstructions) {
  ModuleBuilder b;
  // $node = struct { (mut i32), i8, (mut (ref null $node)) }
  uint32_t node = b.type(
      structT({field(vt(I32), true), field(vt(kCodeI8), false), field(refT(0, true), true)}));
  b.typeName(node, "node");
  uint32_t t = b.type(funcT({refT(node, true)}, {vt(I32)}));
  b.func(t, {},
         cat({i32c(1), i32c(2), heapOp(REF_NULL, node), gc1(0, node), op(DROP),  // struct.new
              gc1(1, node), op(DROP),                                            // new_default
              op1(LOCAL_GET, 0), i32c(3), gc2(5, node, 0),                       // struct.set
              op1(LOCAL_GET, 0), gc2(3, node, 1), op(DROP),                      // get_s
              op1(LOCAL_GET, 0), gc2(2, node, 0)}));                             // get
  expectValid(b.build());

  auto one = [](const Bytes& code) {
    ModuleBuilder m;
    uint32_t n = m.type(
        structT({field(vt(I32), true), field(vt(kCodeI8), false), field(refT(0, false), true)}));
    m.typeName(n, "node");
    uint32_t ty = m.type(funcT({refT(n, true)}, {}));
    m.func(ty, {}, code);
    Bytes bytes = m.build();
    return std::make_pair(bytes, m.at(0, 2));  // offset after local.get 0
  };
  auto [packed, at1] = one(cat({op1(LOCAL_GET, 0), gc2(2, 0, 1), op(DROP)}));
  Error e = expectInvalid(packed, ErrorCode::InvalidPacking, at1);
  EXPECT_EQ(e.message, "field is packed");
  auto [unpacked, at2] = one(cat({op1(LOCAL_GET, 0), gc2(4, 0, 0), op(DROP)}));
  expectInvalid(unpacked, ErrorCode::InvalidPacking, at2);
  auto [immutable, at3] = one(cat({op1(LOCAL_GET, 0), i32c(1), gc2(5, 0, 1)}));
  e = expectInvalid(immutable, ErrorCode::ImmutableField, at3 + 2);
  EXPECT_EQ(e.message, "immutable field");
  auto [nodefault, at4] = one(cat({op1(LOCAL_GET, 0), op(DROP), gc1(1, 0), op(DROP)}));
  e = expectInvalid(nodefault, ErrorCode::NonDefaultable, at4 + 1);
  EXPECT_EQ(e.message, "field type (ref $node) is not defaultable");
  auto [nofield, at5] = one(cat({op1(LOCAL_GET, 0), gc2(2, 0, 3), op(DROP)}));
  e = expectInvalid(nofield, ErrorCode::UnknownIndex, at5);
  EXPECT_EQ(e.message, "unknown field 3");
  auto [wrongref, at6] = one(cat({heapOp(REF_NULL, STRUCTREF), gc2(2, 0, 0), op(DROP)}));
  e = expectInvalid(wrongref, ErrorCode::TypeMismatch, at6);
  EXPECT_EQ(e.message, "type mismatch: expected (ref null $node), got structref");
}

TEST(ValidateGc, ArrayInstructions) {
  ModuleBuilder b;
  uint32_t bytes_t = b.type(arrayT(field(vt(kCodeI8), true)));       // 0: (mut i8)
  uint32_t ro = b.type(arrayT(field(vt(kCodeI8), false)));           // 1: i8
  uint32_t refs = b.type(arrayT(field(refA(FUNCREF, true), true)));  // 2: (mut funcref)
  uint32_t t = b.type(funcT({}, {vt(I32)}));
  b.dataCount(1);
  b.data(cat({Bytes{0x01}, Bytes{}.u32(3), Bytes{1, 2, 3}}));  // passive data
  b.elem(
      cat({Bytes{0x05, kCodeRefNull, FUNCREF}, vec({cat({heapOp(REF_NULL, FUNCREF), op(END)})})}));
  b.func(t, {}, cat({i32c(7),          i32c(3),         gc1(6, bytes_t),
                     op(DROP),  // array.new
                     i32c(1),          i32c(2),         gc2(8, ro, 2),
                     op(DROP),  // array.new_fixed
                     i32c(0),          i32c(3),         gc2(9, bytes_t, 0),
                     op(DROP),  // array.new_data
                     i32c(0),          i32c(1),         gc2(10, refs, 0),
                     op(DROP),  // array.new_elem
                     i32c(3),          gc1(7, bytes_t), i32c(0),
                     gc1(12, bytes_t), op(DROP),                    // get_s
                     i32c(3),          gc1(7, bytes_t), gc(15)}));  // array.len
  expectValid(b.build());

  auto one = [](const Bytes& code) {
    ModuleBuilder m;
    m.type(arrayT(field(vt(kCodeI8), true)));
    m.type(arrayT(field(vt(kCodeI8), false)));
    m.type(arrayT(field(refA(FUNCREF, true), true)));
    m.type(arrayT(field(vt(kCodeI16), true)));
    uint32_t ty = m.type(funcT({refT(0, true), refT(1, true), refT(2, true)}, {}));
    m.dataCount(1);
    m.data(cat({Bytes{0x01}, Bytes{}.u32(1), Bytes{9}}));
    m.elem(cat({Bytes{0x05, kCodeRefNull, EXTERNREF}, vec({})}));
    m.func(ty, {}, code);
    Bytes bytes = m.build();
    return std::make_pair(bytes, m.at(0));
  };
  // array.set on an immutable array.
  auto [a, at] = one(cat({op1(LOCAL_GET, 1), i32c(0), i32c(0), gc1(14, 1)}));
  Error e = expectInvalid(a, ErrorCode::ImmutableField, at + 6);
  EXPECT_EQ(e.message, "immutable array");
  // array.copy from i16 into i8.
  std::tie(a, at) =
      one(cat({op1(LOCAL_GET, 0), i32c(0), heapOp(REF_NULL, 3), i32c(0), i32c(0), gc2(17, 0, 3)}));
  e = expectInvalid(a, ErrorCode::TypeMismatch, at + 10);
  EXPECT_EQ(e.message, "array types do not match");
  // array.new_data of a reference array.
  std::tie(a, at) = one(cat({i32c(0), i32c(0), gc2(9, 2, 0), op(DROP)}));
  e = expectInvalid(a, ErrorCode::TypeMismatch, at + 4);
  EXPECT_EQ(e.message, "array type is not numeric or vector");
  // array.init_elem with an externref segment into a funcref array.
  std::tie(a, at) = one(cat({op1(LOCAL_GET, 2), i32c(0), i32c(0), i32c(0), gc2(19, 2, 0)}));
  e = expectInvalid(a, ErrorCode::TypeMismatch, at + 8);
  EXPECT_EQ(
      e.message,
      "type mismatch: element segment type externref does not match array element type funcref");
  // array.get on a packed array.
  std::tie(a, at) = one(cat({op1(LOCAL_GET, 0), i32c(0), gc1(11, 0), op(DROP)}));
  e = expectInvalid(a, ErrorCode::InvalidPacking, at + 4);
  EXPECT_EQ(e.message, "array is packed");
  // array.new_default of a non-defaultable element type.
  ModuleBuilder m;
  uint32_t nn = m.type(arrayT(field(refA(ANYREF, false), true)));
  uint32_t ty = m.type(funcT({}, {}));
  m.func(ty, {}, cat({i32c(1), gc1(7, nn), op(DROP)}));
  e = expectInvalid(m.build(), ErrorCode::NonDefaultable, m.at(0, 2));
  EXPECT_EQ(e.message, "array type (ref any) is not defaultable");
}

// --- module-level rules ----------------------------------------------------

TEST(ValidateModule, ConstantExpressions) {
  // Extended constants and GC allocation in initialisers.
  ModuleBuilder b;
  uint32_t s = b.type(structT({field(vt(I32), false)}));
  b.importGlobal(vt(I32), false);                                             // global 0
  b.global(vt(I32), false, cat({op1(GLOBAL_GET, 0), i32c(2), op(I32_ADD)}));  // 1
  b.global(refT(s, false), false, cat({op1(GLOBAL_GET, 1), gc1(0, s)}));      // 2
  b.global(refA(ANYREF, true), false, cat({i32c(1), gc(28)}));                // 3: ref.i31
  expectValid(b.build());

  // Not a constant instruction.
  ModuleBuilder c;
  c.global(vt(I32), false, cat({i32c(1), Bytes{0x67}}));  // i32.clz
  Error e = expectInvalid(c.build(), ErrorCode::ConstantRequired, 0x0f);
  EXPECT_EQ(e.message, "constant expression required");
  EXPECT_EQ(e.context, "global 0");

  // global.get of a mutable global.
  ModuleBuilder d;
  d.importGlobal(vt(I32), true);
  d.global(vt(I32), false, op1(GLOBAL_GET, 0));
  expectInvalid(d.build(), ErrorCode::ConstantRequired, 0x17);

  // global.get of a later global.
  ModuleBuilder g;
  g.global(vt(I32), false, op1(GLOBAL_GET, 1));
  g.global(vt(I32), false, i32c(0));
  e = expectInvalid(g.build(), ErrorCode::UnknownIndex, 0x0d);
  EXPECT_EQ(e.message, "unknown global 1");

  // Wrong type: reported at the start of the expression.
  ModuleBuilder h;
  h.global(vt(I64), false, i32c(0));
  e = expectInvalid(h.build(), ErrorCode::TypeMismatch, 0x0d);
  EXPECT_EQ(e.message, "type mismatch: expected i64, got i32");
}

TEST(ValidateModule, TablesNeedInitialisersForNonNullableElements) {
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {}));
  b.func(t, {}, Bytes{});
  b.table(cat({Bytes{0x40, 0x00}, refT(t, false), Bytes{0x00, 0x01}, op1(REF_FUNC, 0), op(END)}));
  expectValid(b.build());
  ModuleBuilder c;
  c.table(cat({refA(FUNCREF, false), Bytes{0x00, 0x01}}));
  Error e = expectInvalid(c.build(), ErrorCode::TypeMismatch, 0x0b);
  EXPECT_EQ(e.message, "type mismatch: table of non-nullable (ref func) needs an initializer");
  EXPECT_EQ(e.context, "table 0");
}

TEST(ValidateModule, StartFunction) {
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {}));
  b.func(t, {}, Bytes{});
  b.start(0);
  expectValid(b.build());
  ModuleBuilder c;
  uint32_t t2 = c.type(funcT({vt(I32)}, {}));
  c.func(t2, {}, Bytes{});
  c.start(0);
  Bytes bytes = c.build();
  Status s = validateBytes(bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::InvalidStart);
  EXPECT_EQ(s.error().message, "start function must not have parameters or results");
}

TEST(ValidateModule, Exports) {
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {}));
  b.func(t, {}, Bytes{});
  b.exportFunc("f", 0);
  b.exportFunc("f", 0);
  Status s = validateBytes(b.build());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::DuplicateExport);
  EXPECT_EQ(s.error().message, "duplicate export name \"f\"");
  EXPECT_EQ(s.error().context, "export 1");
}

TEST(ValidateModule, MemoryLimits) {
  ModuleBuilder b;
  b.memory(2, 1);
  Status s = validateBytes(b.build());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::InvalidLimits);
  EXPECT_EQ(s.error().message, "size minimum must not be greater than maximum");
  ModuleBuilder c;
  c.memory(65537);
  s = validateBytes(c.build());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "memory size must be at most 65536 pages (4GiB)");
  ModuleBuilder d;
  d.memory(0, 65536);
  expectValid(d.build());
}

TEST(ValidateModule, ElementSegmentMatchesTable) {
  ModuleBuilder b;
  b.table(cat({refA(EXTERNREF, true), Bytes{0x00, 0x01}}));
  // Active, table 0, offset i32.const 0, funcref items: none.
  b.elem(cat({Bytes{0x00}, i32c(0), op(END), vec({})}));
  Status s = validateBytes(b.build());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::TypeMismatch);
  EXPECT_EQ(s.error().context, "elem 0");
}

TEST(ValidateModule, ContextUsesFunctionNames) {
  ModuleBuilder b;
  uint32_t t = b.type(funcT({}, {}));
  b.func(t, {}, Bytes{});
  b.func(t, {}, i32c(1), "check");
  Error e = expectInvalid(b.build(), ErrorCode::TypeMismatch, b.at(1, 2));
  EXPECT_EQ(e.context, "func $check");
  EXPECT_EQ(e.toString(),
            fmt::format(
                "type mismatch: extra value i32 at end of function (at offset {:#x}, func $check)",
                b.at(1, 2)));
}

TEST(ValidateModule, SharedTypeStoreAcrossModules) {
  ModuleBuilder b;
  uint32_t s = b.type(structT({field(vt(I32), true)}));
  b.type(funcT({refT(s, true)}, {}));
  Bytes bytes = b.build();
  auto m1 = decodeModule(bytes.data());
  auto m2 = decodeModule(bytes.data());
  ASSERT_TRUE(m1.ok() && m2.ok());
  TypeStore store;
  auto t1 = validateModule(m1.value(), store);
  auto t2 = validateModule(m2.value(), store);
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_EQ(t1->canon(0), t2->canon(0));
  EXPECT_EQ(t1->canon(1), t2->canon(1));
  EXPECT_EQ(store.size(), 2u);
}

}  // namespace
}  // namespace slabfuzz
