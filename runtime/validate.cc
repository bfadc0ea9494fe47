// Validator; see validate.h for the contract.
// Spec references are to the WebAssembly 3.0 core specification, chapter 3
// ("Validation"), and its appendix "Validation Algorithm", whose operand
// stack / control stack design the body checker follows: one reused vector of
// value types, one of control frames, no allocation or hashing per
// instruction. Instructions with a fixed numeric signature (the Sig column of
// opcodes.def) are typed by one table lookup; the rest have a handler each.
#include "runtime/validate.h"

#include <fmt/format.h>

#include <optional>
#include <span>
#include <string_view>
#include <unordered_set>

namespace slabfuzz {
namespace {

// The unknown operand of a polymorphic stack (appendix: `Bot`): what a pop
// below an unreachable frame's height yields. It matches every type.
constexpr ValType kBot = ValType::fromBits(0xF);
// A reference popped as `Bot` (appendix: pop_ref): non-null, bottom heap type.
constexpr ValType kRefBot = ValType::ref(kBottomHeapType, false);

constexpr ValType kI32 = ValType::i32();
constexpr ValType ref(HeapType::Abstract a, bool nullable) {
  return ValType::ref(HeapType::abstract(a), nullable);
}

// ---------------------------------------------------------------------------
// Fixed signatures, expanded from sigs.def: params and results of at most
// three values each, indexed by `Sig`.
// ---------------------------------------------------------------------------

struct TypeList {
  uint8_t size = 0;
  ValType types[3] = {};
  std::span<const ValType> span() const { return {types, size}; }
};
struct FixedSig {
  TypeList params, results;
};

namespace sig_letters {
constexpr ValType I32 = ValType::i32(), I64 = ValType::i64(), F32 = ValType::f32(),
                  F64 = ValType::f64();
template <typename... T>
constexpr TypeList list(T... ts) {
  TypeList l;
  ((l.types[l.size++] = ts), ...);
  return l;
}
constexpr FixedSig kFixedSigs[] = {
#define WASM_SIG(Name, Params, Results) FixedSig{list Params, list Results},
#include "runtime/sigs.def"
};
}  // namespace sig_letters
using sig_letters::kFixedSigs;
static_assert(std::size(kFixedSigs) == static_cast<size_t>(Sig::Special));

// Per opcode, its Sig and ImmKind: a local copy of two opcodes.def columns so
// the hot loop reads them without a call.
constexpr Sig kOpSig[] = {
#define WASM_OP(Name, Prefix, Code, Imm, Sig_, Text) Sig::Sig_,
#include "runtime/opcodes.def"
};
constexpr ImmKind kOpImm[] = {
#define WASM_OP(Name, Prefix, Code, Imm, Sig_, Text) ImmKind::Imm,
#include "runtime/opcodes.def"
};
static_assert(std::size(kOpSig) == kOpcodeCount && std::size(kOpImm) == kOpcodeCount);
Sig sigOf(Opcode op) {
  return kOpSig[static_cast<size_t>(op)];
}
ImmKind immOf(Opcode op) {
  return kOpImm[static_cast<size_t>(op)];
}

// ---------------------------------------------------------------------------
// Module environment shared by all checks: the module, its canonical types,
// the declared function references, and printing with names.
// ---------------------------------------------------------------------------

// Prints types for messages, with type names from the name section ($node)
// where present, else type indices ($3).
class TypeNamer {
 public:
  explicit TypeNamer(const Module& m) : m_(m) {}

  std::string heap(HeapType ht) const {
    if (ht == kBottomHeapType) return "bot";
    if (ht.isAbstract()) return ht.toString();
    auto it = m_.names.types.find(ht.index());
    if (it != m_.names.types.end()) return "$" + it->second;
    return fmt::format("${}", ht.index());
  }
  std::string val(ValType t) const {
    if (t == kBot) return "bot";
    if (!t.isRef()) return t.toString();
    HeapType ht = t.heapType();
    if (ht.isAbstract() && ht != kBottomHeapType) return t.toString();  // anyref, (ref func)
    return fmt::format("(ref {}{})", t.nullable() ? "null " : "", heap(ht));
  }
  std::string list(std::span<const ValType> ts) const {
    std::string s = "[";
    for (size_t i = 0; i < ts.size(); ++i) {
      if (i) s += ' ';
      s += val(ts[i]);
    }
    return s + "]";
  }

 private:
  const Module& m_;
};

// "func $name" from the name section, else "func 12".
std::string funcContext(const Module& m, uint32_t index) {
  auto it = m.names.functions.find(index);
  if (it != m.names.functions.end()) return "func $" + it->second;
  return fmt::format("func {}", index);
}

struct ModuleEnv {
  const Module& m;
  const ModuleTypes& types;
  // C.refs (spec 3.4.x "Modules"): functions named outside function bodies
  // (exports, global/table initialisers, element and data segments), the
  // only ones `ref.func` may name inside a body.
  std::vector<uint8_t> declared;
  TypeNamer names{m};
};

// ---------------------------------------------------------------------------
// Body checker: types one function body, or one constant expression.
// ---------------------------------------------------------------------------

class BodyChecker {
 public:
  explicit BodyChecker(const ModuleEnv& env) : env_(env), m_(env.m), types_(env.types) {}

  // Defined function `defined_index` (index into Module::functions).
  Status checkFunction(uint32_t defined_index);
  // A constant expression of type `expected` (spec 3.4.x "Constant
  // expressions"), seeing globals [0, visible_globals). No context set.
  Status checkConstExpr(const ConstExpr& expr, ValType expected, uint32_t visible_globals);

 private:
  // A block's type: params and results, pointing into the module's function
  // types, or `single` for a one-result value block type.
  struct BlockSig {
    const ValType* params = nullptr;
    uint32_t nparams = 0;
    const ValType* results = nullptr;  // nullptr: `single` when nresults == 1
    uint32_t nresults = 0;
    ValType single;
  };
  // A control frame (appendix: ctrl_frame). `op` is Block, Loop, If, Else,
  // or Nop for the function body / a constant expression.
  struct Frame {
    Opcode op = Opcode::Nop;
    bool unreachable = false;
    uint32_t height = 0;       // operand stack height at entry
    uint32_t init_height = 0;  // init_stack_ height at entry
    BlockSig sig;
  };
  static std::span<const ValType> paramsOf(const Frame& f) { return {f.sig.params, f.sig.nparams}; }
  static std::span<const ValType> resultsOf(const Frame& f) {
    if (f.sig.results) return {f.sig.results, f.sig.nresults};
    return {&f.sig.single, f.sig.nresults};
  }
  // A branch to a loop goes to its start, to any other block to its end.
  static std::span<const ValType> labelTypes(const Frame& f) {
    return f.op == Opcode::Loop ? paramsOf(f) : resultsOf(f);
  }

  void reset();
  bool run(std::span<const Instr> instrs);
  bool step(const Instr& in);

  // Errors: the first one wins; every check returns false after it.
  [[gnu::cold, gnu::noinline]] bool fail(ErrorCode code, std::string message) {
    error_ = makeError(code, offset_, std::move(message));
    return false;
  }
  [[gnu::cold, gnu::noinline]] bool mismatch(ValType expected, ValType actual) {
    return fail(ErrorCode::TypeMismatch,
                fmt::format("type mismatch: expected {}, got {}", env_.names.val(expected),
                            env_.names.val(actual)));
  }
  [[gnu::cold, gnu::noinline]] bool missing(std::string_view expected) {
    return fail(ErrorCode::TypeMismatch,
                fmt::format("type mismatch: expected {}, got nothing", expected));
  }

  // Operand stack (appendix: push_val, pop_val, pop_vals...).
  void push(ValType t) { stack_.push_back(t); }
  void pushTypes(std::span<const ValType> ts) {
    for (ValType t : ts) stack_.push_back(t);  // spans are short: cheaper than insert
  }
  bool pop(ValType expected);
  bool popAny(ValType& out);
  bool popRef(ValType& out);
  bool popTypes(std::span<const ValType> ts);
  // Checks the top values against `ts` without popping (br_table targets).
  bool peekTypes(std::span<const ValType> ts);
  bool isSubtype(ValType a, ValType b) const { return a == kBot || types_.isSubtype(a, b); }

  // Control stack (appendix: push_ctrl, pop_ctrl, unreachable).
  void pushFrame(Opcode op, const BlockSig& sig);
  void setUnreachable() {
    Frame& f = ctrls_.back();
    stack_.resize(f.height);
    f.unreachable = true;
  }
  bool checkFrameEnd(const Frame& f);
  void resetInits(uint32_t height);

  // Immediates: index lookups with "unknown ..." errors.
  bool checkValType(ValType t);
  bool checkHeapType(HeapType ht);
  bool typeAt(uint32_t x);
  bool funcTypeAt(uint32_t x, const FuncType*& out);
  bool structAt(uint32_t x, const std::vector<FieldType>*& out);
  bool fieldAt(uint32_t x, uint32_t y, const FieldType*& out);
  bool arrayAt(uint32_t x, const FieldType*& out);
  bool funcAt(uint32_t x, const FuncType*& out);
  bool tableAt(uint32_t x, const TableType*& out);
  bool memoryAt(uint32_t x);
  bool globalAt(uint32_t x, const GlobalType*& out);
  bool localAt(uint32_t x);
  bool dataAt(uint32_t x);
  bool elemAt(uint32_t x, ValType& out);
  bool labelAt(uint32_t depth, const Frame*& out);
  bool readBlockType(const Instr& in, BlockSig& sig);
  bool checkImmediates(const Instr& in);
  bool checkMemArg(const Instr& in, uint32_t natural);

  // Instruction groups. The handlers of less frequent instructions stay out
  // of line (noinline) so that the hot loop's frame stays small.
  bool fixedSig(const Instr& in);
  bool enterBlock(const Instr& in);
  bool onElse();
  bool onEnd();
  bool branch(const Instr& in);
  [[gnu::noinline]] bool brTable(const Instr& in);
  [[gnu::noinline]] bool brOnNull(const Instr& in);
  [[gnu::noinline]] bool brOnCast(const Instr& in);
  [[gnu::noinline]] bool call(const Instr& in);
  bool checkTailResults(const FuncType& callee);
  [[gnu::noinline]] bool select(const Instr& in);
  bool local(const Instr& in);
  bool global(const Instr& in);
  [[gnu::noinline]] bool table(const Instr& in);
  [[gnu::noinline]] bool reference(const Instr& in);
  [[gnu::noinline]] bool structOp(const Instr& in);
  [[gnu::noinline]] bool arrayOp(const Instr& in);
  [[gnu::noinline]] bool arrayBulk(const Instr& in);
  [[gnu::noinline]] bool castOp(const Instr& in);
  bool isConstInstr(const Instr& in);

  const ModuleEnv& env_;
  const Module& m_;
  const ModuleTypes& types_;

  std::vector<ValType> stack_;
  std::vector<Frame> ctrls_;
  std::vector<ValType> locals_;
  std::vector<uint8_t> local_init_;   // per local: 1 when initialised
  std::vector<uint32_t> init_stack_;  // locals initialised in open blocks
  std::span<const uint32_t> extra_;   // br_table targets of the function
  std::span<const ValType> results_;  // the function's results (return)
  uint32_t offset_ = 0;               // offset of the instruction being checked
  bool const_mode_ = false;
  uint32_t visible_globals_ = 0;
  std::optional<Error> error_;
};

// --- operand stack ---------------------------------------------------------

bool BodyChecker::pop(ValType expected) {
  const Frame& f = ctrls_.back();
  if (stack_.size() == f.height) {
    return f.unreachable || missing(env_.names.val(expected));
  }
  ValType actual = stack_.back();
  stack_.pop_back();
  if (actual == expected || isSubtype(actual, expected)) return true;
  return mismatch(expected, actual);
}

bool BodyChecker::popAny(ValType& out) {
  const Frame& f = ctrls_.back();
  if (stack_.size() == f.height) {
    out = kBot;
    return f.unreachable || missing("a value");
  }
  out = stack_.back();
  stack_.pop_back();
  return true;
}

bool BodyChecker::popRef(ValType& out) {
  ValType t;
  if (!popAny(t)) return false;
  if (t == kBot) {
    out = kRefBot;
    return true;
  }
  if (!t.isRef()) {
    return fail(ErrorCode::TypeMismatch,
                fmt::format("type mismatch: expected a reference, got {}", env_.names.val(t)));
  }
  out = t;
  return true;
}

bool BodyChecker::popTypes(std::span<const ValType> ts) {
  for (size_t i = ts.size(); i-- > 0;) {
    if (!pop(ts[i])) return false;
  }
  return true;
}

bool BodyChecker::peekTypes(std::span<const ValType> ts) {
  const Frame& f = ctrls_.back();
  size_t available = stack_.size() - f.height;
  for (size_t i = 0; i < ts.size(); ++i) {
    ValType expected = ts[ts.size() - 1 - i];
    if (i >= available) {
      if (f.unreachable) return true;  // the rest are Bot
      return missing(env_.names.val(expected));
    }
    ValType actual = stack_[stack_.size() - 1 - i];
    if (!isSubtype(actual, expected)) return mismatch(expected, actual);
  }
  return true;
}

// --- control stack ---------------------------------------------------------

void BodyChecker::pushFrame(Opcode op, const BlockSig& sig) {
  Frame f;
  f.op = op;
  f.height = static_cast<uint32_t>(stack_.size());
  f.init_height = static_cast<uint32_t>(init_stack_.size());
  f.sig = sig;
  ctrls_.push_back(f);
}

// The frame's results are on the stack, and nothing else above its height.
bool BodyChecker::checkFrameEnd(const Frame& f) {
  if (!popTypes(resultsOf(f))) return false;
  if (stack_.size() != f.height) {
    return fail(
        ErrorCode::TypeMismatch,
        fmt::format(
            "type mismatch: extra value {} at end of {}", env_.names.val(stack_.back()),
            ctrls_.size() == 1 ? (const_mode_ ? "constant expression" : "function") : "block"));
  }
  return true;
}

// Spec 3.3.x "Local initialisation": a local.set of a non-defaultable local
// holds until the end of the enclosing block.
void BodyChecker::resetInits(uint32_t height) {
  while (init_stack_.size() > height) {
    local_init_[init_stack_.back()] = 0;
    init_stack_.pop_back();
  }
}

// --- immediates ------------------------------------------------------------

bool BodyChecker::typeAt(uint32_t x) {
  if (x < types_.size()) return true;
  return fail(ErrorCode::UnknownIndex, fmt::format("unknown type {}", x));
}

bool BodyChecker::checkHeapType(HeapType ht) {
  if (ht.isIndex()) return typeAt(ht.index());
  if (ht.abstractKind() == HeapType::Exn || ht.abstractKind() == HeapType::NoExn) {
    return fail(ErrorCode::UnsupportedFeature, "exception references are not supported");
  }
  return true;
}

bool BodyChecker::checkValType(ValType t) {
  if (t.isRef()) return checkHeapType(t.heapType());
  if (t.isNum()) return true;
  return fail(ErrorCode::UnsupportedFeature,
              fmt::format("value type {} is not supported here", t.toString()));
}

bool BodyChecker::funcTypeAt(uint32_t x, const FuncType*& out) {
  if (!typeAt(x)) return false;
  if (!types_.isFunc(x)) {
    return fail(ErrorCode::TypeMismatch, fmt::format("type mismatch: {} is not a function type",
                                                     env_.names.heap(HeapType::index(x))));
  }
  out = &types_.funcType(x);
  return true;
}

bool BodyChecker::structAt(uint32_t x, const std::vector<FieldType>*& out) {
  if (!typeAt(x)) return false;
  if (!types_.isStruct(x)) {
    return fail(ErrorCode::TypeMismatch, fmt::format("type mismatch: {} is not a struct type",
                                                     env_.names.heap(HeapType::index(x))));
  }
  out = &types_.fields(x);
  return true;
}

bool BodyChecker::fieldAt(uint32_t x, uint32_t y, const FieldType*& out) {
  const std::vector<FieldType>* fields = nullptr;
  if (!structAt(x, fields)) return false;
  if (y >= fields->size()) return fail(ErrorCode::UnknownIndex, fmt::format("unknown field {}", y));
  out = &(*fields)[y];
  return true;
}

bool BodyChecker::arrayAt(uint32_t x, const FieldType*& out) {
  if (!typeAt(x)) return false;
  if (!types_.isArray(x)) {
    return fail(ErrorCode::TypeMismatch, fmt::format("type mismatch: {} is not an array type",
                                                     env_.names.heap(HeapType::index(x))));
  }
  out = &types_.fields(x)[0];
  return true;
}

bool BodyChecker::funcAt(uint32_t x, const FuncType*& out) {
  if (x >= m_.func_types.size())
    return fail(ErrorCode::UnknownIndex, fmt::format("unknown function {}", x));
  out = &types_.funcType(m_.func_types[x]);
  return true;
}

bool BodyChecker::tableAt(uint32_t x, const TableType*& out) {
  if (x >= m_.table_types.size())
    return fail(ErrorCode::UnknownIndex, fmt::format("unknown table {}", x));
  out = &m_.table_types[x];
  return true;
}

bool BodyChecker::memoryAt(uint32_t x) {
  if (x < m_.memory_types.size()) return true;
  return fail(ErrorCode::UnknownIndex, fmt::format("unknown memory {}", x));
}

bool BodyChecker::globalAt(uint32_t x, const GlobalType*& out) {
  uint32_t visible = const_mode_ ? visible_globals_ : static_cast<uint32_t>(m_.global_types.size());
  if (x >= visible) return fail(ErrorCode::UnknownIndex, fmt::format("unknown global {}", x));
  out = &m_.global_types[x];
  return true;
}

bool BodyChecker::localAt(uint32_t x) {
  if (x < locals_.size()) return true;
  return fail(ErrorCode::UnknownIndex, fmt::format("unknown local {}", x));
}

// Data indices in code need the data count section (spec 5.5.x "Data Count
// Section"): memory.init, data.drop, array.new_data, array.init_data.
bool BodyChecker::dataAt(uint32_t x) {
  if (!m_.data_count) return fail(ErrorCode::DataCountRequired, "data count section required");
  if (x < m_.datas.size()) return true;
  return fail(ErrorCode::UnknownIndex, fmt::format("unknown data segment {}", x));
}

bool BodyChecker::elemAt(uint32_t x, ValType& out) {
  if (x >= m_.elems.size())
    return fail(ErrorCode::UnknownIndex, fmt::format("unknown elem segment {}", x));
  out = m_.elems[x].type;
  return true;
}

bool BodyChecker::labelAt(uint32_t depth, const Frame*& out) {
  if (depth >= ctrls_.size())
    return fail(ErrorCode::UnknownIndex, fmt::format("unknown label {}", depth));
  out = &ctrls_[ctrls_.size() - 1 - depth];
  return true;
}

bool BodyChecker::readBlockType(const Instr& in, BlockSig& sig) {
  switch (static_cast<BlockTypeKind>(in.a)) {
    case BlockTypeKind::Empty: return true;
    case BlockTypeKind::Value: {
      ValType t = ValType::fromBits(in.b);
      if (!checkValType(t)) return false;
      sig.single = t;
      sig.nresults = 1;
      return true;
    }
    case BlockTypeKind::TypeIndex: {
      const FuncType* ft = nullptr;
      if (!funcTypeAt(in.b, ft)) return false;
      sig.params = ft->params.data();
      sig.nparams = static_cast<uint32_t>(ft->params.size());
      sig.results = ft->results.data();
      sig.nresults = static_cast<uint32_t>(ft->results.size());
      return true;
    }
  }
  return fail(ErrorCode::InvalidOther, "malformed block type");
}

// Memory immediates (spec 3.4.x "Memory instructions"): the memory exists,
// 2^align <= the access's natural size, and the offset fits a 32-bit memory.
bool BodyChecker::checkMemArg(const Instr& in, uint32_t natural) {
  if (!memoryAt(in.d)) return false;
  if (in.a >= 32 || (1u << in.a) > natural) {
    return fail(ErrorCode::InvalidAlignment, "alignment must not be larger than natural");
  }
  if (in.c != 0) return fail(ErrorCode::InvalidOther, "offset out of range");
  return true;
}

// The index immediates of fixed-signature instructions.
bool BodyChecker::checkImmediates(const Instr& in) {
  ValType unused;
  switch (immOf(in.op)) {
    case ImmKind::MemArg1: return checkMemArg(in, 1);
    case ImmKind::MemArg2: return checkMemArg(in, 2);
    case ImmKind::MemArg4: return checkMemArg(in, 4);
    case ImmKind::MemArg8: return checkMemArg(in, 8);
    case ImmKind::MemIdx: return memoryAt(in.a);
    case ImmKind::MemInit: return memoryAt(in.b) && dataAt(in.a);
    case ImmKind::MemCopy: return memoryAt(in.a) && memoryAt(in.b);
    case ImmKind::Data: return dataAt(in.a);
    case ImmKind::Elem: return elemAt(in.a, unused);
    default: return true;
  }
}

// --- instructions ----------------------------------------------------------

// Numeric, memory and bulk-memory instructions: [params] -> [results] from
// sigs.def, after their immediates are checked.
bool BodyChecker::fixedSig(const Instr& in) {
  const FixedSig& sig = kFixedSigs[static_cast<size_t>(sigOf(in.op))];
  if (!checkImmediates(in)) return false;
  if (!popTypes(sig.params.span())) return false;
  pushTypes(sig.results.span());
  return true;
}

// block/loop/if bt: [t1*] -> [t2*] (spec 3.4.x "Control instructions").
bool BodyChecker::enterBlock(const Instr& in) {
  BlockSig sig;
  if (!readBlockType(in, sig)) return false;
  if (in.op == Opcode::If && !pop(kI32)) return false;
  std::span<const ValType> params{sig.params, sig.nparams};
  if (!popTypes(params)) return false;
  pushFrame(in.op, sig);
  pushTypes(params);
  return true;
}

bool BodyChecker::onElse() {
  Frame& f = ctrls_.back();
  if (f.op != Opcode::If) return fail(ErrorCode::InvalidOther, "else without a matching if");
  if (!checkFrameEnd(f)) return false;
  resetInits(f.init_height);
  f.op = Opcode::Else;
  f.unreachable = false;
  pushTypes(paramsOf(f));
  return true;
}

bool BodyChecker::onEnd() {
  Frame& f = ctrls_.back();
  if (!checkFrameEnd(f)) return false;
  if (f.op == Opcode::If) {
    // An if without else has an empty else branch, which must turn the
    // params into the results: [t1*] <: [t2*].
    f.unreachable = false;
    pushTypes(paramsOf(f));
    if (!checkFrameEnd(f)) return false;
  }
  resetInits(f.init_height);
  Frame done = f;
  ctrls_.pop_back();
  if (!ctrls_.empty()) pushTypes(resultsOf(done));
  return true;
}

bool BodyChecker::branch(const Instr& in) {
  const Frame* target = nullptr;
  if (!labelAt(in.a, target)) return false;
  std::span<const ValType> lt = labelTypes(*target);
  if (in.op == Opcode::Br) {
    if (!popTypes(lt)) return false;
    setUnreachable();
    return true;
  }
  // br_if l: [t* i32] -> [t*], the label's types pushed back.
  if (!pop(kI32) || !popTypes(lt)) return false;
  pushTypes(lt);
  return true;
}

// br_table l* l_N: every target has the default's arity and accepts the
// operands (appendix: checked per target against the same values).
bool BodyChecker::brTable(const Instr& in) {
  if (!pop(kI32)) return false;
  if (static_cast<uint64_t>(in.a) + in.b > extra_.size()) {
    return fail(ErrorCode::InvalidOther, "malformed br_table immediate");
  }
  const Frame* def = nullptr;
  if (!labelAt(in.c, def)) return false;
  const size_t arity = labelTypes(*def).size();
  for (uint32_t i = 0; i < in.b; ++i) {
    const Frame* target = nullptr;
    if (!labelAt(extra_[in.a + i], target)) return false;
    std::span<const ValType> lt = labelTypes(*target);
    if (lt.size() != arity) {
      return fail(ErrorCode::TypeMismatch,
                  fmt::format("type mismatch: br_table target {} has arity {}, default has {}",
                              extra_[in.a + i], lt.size(), arity));
    }
    if (!peekTypes(lt)) return false;
  }
  if (!popTypes(labelTypes(*def))) return false;
  setUnreachable();
  return true;
}

// br_on_null l: [t* (ref null ht)] -> [t* (ref ht)];
// br_on_non_null l: [t* (ref null ht)] -> [t*], the label being [t* (ref ht)].
bool BodyChecker::brOnNull(const Instr& in) {
  const Frame* target = nullptr;
  if (!labelAt(in.a, target)) return false;
  std::span<const ValType> lt = labelTypes(*target);
  ValType r;
  if (!popRef(r)) return false;
  ValType non_null = ValType::ref(r.heapType(), false);
  if (in.op == Opcode::BrOnNull) {
    if (!popTypes(lt)) return false;
    pushTypes(lt);
    push(non_null);
    return true;
  }
  if (lt.empty()) {
    return fail(ErrorCode::TypeMismatch,
                "type mismatch: br_on_non_null needs a label ending in a reference, got []");
  }
  if (!isSubtype(non_null, lt.back())) return mismatch(lt.back(), non_null);
  std::span<const ValType> prefix = lt.first(lt.size() - 1);
  if (!popTypes(prefix)) return false;
  pushTypes(prefix);
  return true;
}

// br_on_cast(_fail) l rt1 rt2 (spec 3.4.x): rt2 <: rt1; the value that
// branches (rt2, or rt1 \ rt2 for _fail) must match the label's last type;
// [t* rt1] -> [t* rt1\rt2] (br_on_cast) or [t* rt2] (br_on_cast_fail).
bool BodyChecker::brOnCast(const Instr& in) {
  HeapType h1 = HeapType::fromBits(in.b), h2 = HeapType::fromBits(in.c);
  if (!checkHeapType(h1) || !checkHeapType(h2)) return false;
  ValType rt1 = ValType::ref(h1, (in.d & 1) != 0);
  ValType rt2 = ValType::ref(h2, (in.d & 2) != 0);
  if (!types_.isSubtype(rt2, rt1)) {
    return fail(ErrorCode::TypeMismatch,
                fmt::format("type mismatch: cast target {} is not a subtype of source {}",
                            env_.names.val(rt2), env_.names.val(rt1)));
  }
  // rt1 \ rt2: what is left when the cast fails.
  ValType diff = ValType::ref(h1, rt1.nullable() && !rt2.nullable());
  const Frame* target = nullptr;
  if (!labelAt(in.a, target)) return false;
  std::span<const ValType> lt = labelTypes(*target);
  ValType to_label = in.op == Opcode::BrOnCast ? rt2 : diff;
  if (lt.empty()) {
    return fail(ErrorCode::TypeMismatch,
                fmt::format("type mismatch: expected a label ending in {}, got []",
                            env_.names.val(to_label)));
  }
  if (!isSubtype(to_label, lt.back())) return mismatch(lt.back(), to_label);
  if (!pop(rt1)) return false;
  std::span<const ValType> prefix = lt.first(lt.size() - 1);
  if (!popTypes(prefix)) return false;
  pushTypes(prefix);
  push(in.op == Opcode::BrOnCast ? diff : rt2);
  return true;
}

// Tail calls (spec 3.4.x): the callee's results must match the caller's.
bool BodyChecker::checkTailResults(const FuncType& callee) {
  bool ok = callee.results.size() == results_.size();
  for (size_t i = 0; ok && i < results_.size(); ++i) ok = isSubtype(callee.results[i], results_[i]);
  if (ok) return true;
  return fail(ErrorCode::TypeMismatch,
              fmt::format("type mismatch: tail call returns {} but the function returns {}",
                          env_.names.list(callee.results), env_.names.list(results_)));
}

bool BodyChecker::call(const Instr& in) {
  const FuncType* ft = nullptr;
  switch (in.op) {
    case Opcode::Call:
    case Opcode::ReturnCall:
      if (!funcAt(in.a, ft)) return false;
      break;
    case Opcode::CallIndirect:
    case Opcode::ReturnCallIndirect: {
      const TableType* tt = nullptr;
      if (!tableAt(in.b, tt)) return false;
      if (!types_.isSubtype(tt->elem, ref(HeapType::Func, true))) {
        return fail(
            ErrorCode::TypeMismatch,
            fmt::format("type mismatch: call_indirect needs a table of funcref, table {} has {}",
                        in.b, env_.names.val(tt->elem)));
      }
      if (!funcTypeAt(in.a, ft) || !pop(kI32)) return false;
      break;
    }
    default:  // call_ref, return_call_ref $t: the callee is a (ref null $t)
      if (!funcTypeAt(in.a, ft)) return false;
      if (!pop(ValType::ref(HeapType::index(in.a), true))) return false;
      break;
  }
  if (!popTypes(ft->params)) return false;
  bool tail = in.op == Opcode::ReturnCall || in.op == Opcode::ReturnCallIndirect ||
              in.op == Opcode::ReturnCallRef;
  if (!tail) {
    pushTypes(ft->results);
    return true;
  }
  if (!checkTailResults(*ft)) return false;
  setUnreachable();
  return true;
}

// select: untyped only on numeric operands of one type (appendix); select t:
// exactly one type.
bool BodyChecker::select(const Instr& in) {
  if (in.op == Opcode::SelectT) {
    if (in.a != 1) return fail(ErrorCode::InvalidArity, "invalid result arity");
    ValType t = ValType::fromBits(in.b);
    if (!checkValType(t) || !pop(kI32) || !pop(t) || !pop(t)) return false;
    push(t);
    return true;
  }
  ValType t1, t2;
  if (!pop(kI32) || !popAny(t1) || !popAny(t2)) return false;
  for (ValType t : {t1, t2}) {
    if (t != kBot && !t.isNum()) {
      return fail(ErrorCode::TypeMismatch,
                  fmt::format("type mismatch: select without a type needs numeric operands, got {}",
                              env_.names.val(t)));
    }
  }
  if (t1 != t2 && t1 != kBot && t2 != kBot) return mismatch(t1, t2);
  push(t1 == kBot ? t2 : t1);
  return true;
}

bool BodyChecker::local(const Instr& in) {
  const uint32_t x = in.a;
  if (!localAt(x)) return false;
  const ValType t = locals_[x];
  if (in.op == Opcode::LocalGet) {
    if (!local_init_[x])
      return fail(ErrorCode::UninitializedLocal, fmt::format("uninitialized local {}", x));
    push(t);
    return true;
  }
  if (!pop(t)) return false;
  if (!local_init_[x]) {
    local_init_[x] = 1;
    init_stack_.push_back(x);
  }
  if (in.op == Opcode::LocalTee) push(t);
  return true;
}

bool BodyChecker::global(const Instr& in) {
  const GlobalType* gt = nullptr;
  if (!globalAt(in.a, gt)) return false;
  if (in.op == Opcode::GlobalGet) {
    if (const_mode_ && gt->mut) {
      return fail(ErrorCode::ConstantRequired, "constant expression required");
    }
    push(gt->type);
    return true;
  }
  if (!gt->mut) return fail(ErrorCode::ImmutableGlobal, "immutable global");
  return pop(gt->type);
}

bool BodyChecker::table(const Instr& in) {
  const TableType* tt = nullptr;
  switch (in.op) {
    case Opcode::TableGet:
      if (!tableAt(in.a, tt) || !pop(kI32)) return false;
      push(tt->elem);
      return true;
    case Opcode::TableSet: return tableAt(in.a, tt) && pop(tt->elem) && pop(kI32);
    case Opcode::TableSize:
      if (!tableAt(in.a, tt)) return false;
      push(kI32);
      return true;
    case Opcode::TableGrow:
      if (!tableAt(in.a, tt) || !pop(kI32) || !pop(tt->elem)) return false;
      push(kI32);
      return true;
    case Opcode::TableFill: return tableAt(in.a, tt) && pop(kI32) && pop(tt->elem) && pop(kI32);
    case Opcode::TableCopy: {  // a = destination, b = source
      const TableType* src = nullptr;
      if (!tableAt(in.a, tt) || !tableAt(in.b, src)) return false;
      if (!types_.isSubtype(src->elem, tt->elem)) {
        return fail(ErrorCode::TypeMismatch,
                    fmt::format("type mismatch: source table element type {} does not match "
                                "destination table element type {}",
                                env_.names.val(src->elem), env_.names.val(tt->elem)));
      }
      return pop(kI32) && pop(kI32) && pop(kI32);
    }
    case Opcode::TableInit: {  // a = element segment, b = table
      ValType et;
      if (!tableAt(in.b, tt) || !elemAt(in.a, et)) return false;
      if (!types_.isSubtype(et, tt->elem)) {
        return fail(ErrorCode::TypeMismatch,
                    fmt::format("type mismatch: element segment type {} does not match table "
                                "element type {}",
                                env_.names.val(et), env_.names.val(tt->elem)));
      }
      return pop(kI32) && pop(kI32) && pop(kI32);
    }
    default: return fail(ErrorCode::InvalidOther, "not a table instruction");
  }
}

bool BodyChecker::reference(const Instr& in) {
  ValType r;
  switch (in.op) {
    case Opcode::RefNull: {
      HeapType ht = HeapType::fromBits(in.a);
      if (!checkHeapType(ht)) return false;
      push(ValType::ref(ht, true));
      return true;
    }
    case Opcode::RefIsNull:
      if (!popRef(r)) return false;
      push(kI32);
      return true;
    case Opcode::RefAsNonNull:
      if (!popRef(r)) return false;
      push(ValType::ref(r.heapType(), false));
      return true;
    case Opcode::RefEq:
      if (!pop(ref(HeapType::Eq, true)) || !pop(ref(HeapType::Eq, true))) return false;
      push(kI32);
      return true;
    case Opcode::RefFunc: {
      const FuncType* ft = nullptr;
      if (!funcAt(in.a, ft)) return false;
      // Spec 3.4.x: in a function body, x must be in C.refs.
      if (!const_mode_ && !env_.declared[in.a]) {
        return fail(ErrorCode::UndeclaredFuncRef, "undeclared function reference");
      }
      push(ValType::ref(HeapType::index(m_.func_types[in.a]), false));
      return true;
    }
    case Opcode::RefI31:
      if (!pop(kI32)) return false;
      push(ref(HeapType::I31, false));
      return true;
    case Opcode::I31GetS:
    case Opcode::I31GetU:
      if (!pop(ref(HeapType::I31, true))) return false;
      push(kI32);
      return true;
    case Opcode::AnyConvertExtern:
    case Opcode::ExternConvertAny: {
      // Nullability is preserved: [(ref null? extern)] -> [(ref null? any)]
      // and back.
      bool internalize = in.op == Opcode::AnyConvertExtern;
      ValType from = ref(internalize ? HeapType::Extern : HeapType::Any, true);
      if (!popRef(r)) return false;
      if (!isSubtype(r, from)) return mismatch(from, r);
      push(ref(internalize ? HeapType::Any : HeapType::Extern, r.nullable()));
      return true;
    }
    default: return fail(ErrorCode::InvalidOther, "not a reference instruction");
  }
}

// ref.test / ref.cast rt: the operand is any reference in rt's hierarchy,
// [(ref null top(rt))] -> [i32] / [rt].
bool BodyChecker::castOp(const Instr& in) {
  HeapType ht = HeapType::fromBits(in.a);
  if (!checkHeapType(ht)) return false;
  if (!pop(ValType::ref(types_.top(ht), true))) return false;
  if (in.op == Opcode::RefTest || in.op == Opcode::RefTestNull) {
    push(kI32);
  } else {
    push(ValType::ref(ht, in.op == Opcode::RefCastNull));
  }
  return true;
}

bool BodyChecker::structOp(const Instr& in) {
  const uint32_t x = in.a;
  const ValType self = ValType::ref(HeapType::index(x), false);
  const ValType self_null = ValType::ref(HeapType::index(x), true);
  const std::vector<FieldType>* fields = nullptr;
  const FieldType* field = nullptr;
  switch (in.op) {
    case Opcode::StructNew:
      if (!structAt(x, fields)) return false;
      for (size_t i = fields->size(); i-- > 0;) {
        if (!pop((*fields)[i].type.unpacked())) return false;
      }
      push(self);
      return true;
    case Opcode::StructNewDefault:
      if (!structAt(x, fields)) return false;
      for (const FieldType& f : *fields) {
        if (!isDefaultable(f.type)) {
          return fail(ErrorCode::NonDefaultable,
                      fmt::format("field type {} is not defaultable", env_.names.val(f.type)));
        }
      }
      push(self);
      return true;
    case Opcode::StructGet:
    case Opcode::StructGetS:
    case Opcode::StructGetU:
      if (!fieldAt(x, in.b, field)) return false;
      // Packed fields need the _s/_u forms, and only they (spec 3.4.x).
      if (field->type.isPacked() != (in.op != Opcode::StructGet)) {
        return fail(ErrorCode::InvalidPacking,
                    field->type.isPacked() ? "field is packed" : "field is unpacked");
      }
      if (!pop(self_null)) return false;
      push(field->type.unpacked());
      return true;
    case Opcode::StructSet:
      if (!fieldAt(x, in.b, field)) return false;
      if (!field->mut) return fail(ErrorCode::ImmutableField, "immutable field");
      return pop(field->type.unpacked()) && pop(self_null);
    default: return fail(ErrorCode::InvalidOther, "not a struct instruction");
  }
}

bool BodyChecker::arrayOp(const Instr& in) {
  const uint32_t x = in.a;
  const ValType self = ValType::ref(HeapType::index(x), false);
  const ValType self_null = ValType::ref(HeapType::index(x), true);
  const FieldType* field = nullptr;
  if (in.op == Opcode::ArrayLen) {
    if (!pop(ref(HeapType::Array, true))) return false;
    push(kI32);
    return true;
  }
  if (!arrayAt(x, field)) return false;
  const ValType elem = field->type.unpacked();
  switch (in.op) {
    case Opcode::ArrayNew:
      if (!pop(kI32) || !pop(elem)) return false;
      push(self);
      return true;
    case Opcode::ArrayNewDefault:
      if (!isDefaultable(field->type)) {
        return fail(ErrorCode::NonDefaultable,
                    fmt::format("array type {} is not defaultable", env_.names.val(field->type)));
      }
      if (!pop(kI32)) return false;
      push(self);
      return true;
    case Opcode::ArrayNewFixed:
      if (in.b > kMaxArrayNewFixed) {
        return fail(ErrorCode::InvalidOther,
                    fmt::format("array.new_fixed of {} operands exceeds the limit of {}", in.b,
                                kMaxArrayNewFixed));
      }
      for (uint32_t i = 0; i < in.b; ++i) {
        if (!pop(elem)) return false;
      }
      push(self);
      return true;
    case Opcode::ArrayGet:
    case Opcode::ArrayGetS:
    case Opcode::ArrayGetU:
      if (field->type.isPacked() != (in.op != Opcode::ArrayGet)) {
        return fail(ErrorCode::InvalidPacking,
                    field->type.isPacked() ? "array is packed" : "array is unpacked");
      }
      if (!pop(kI32) || !pop(self_null)) return false;
      push(elem);
      return true;
    case Opcode::ArraySet:
      if (!field->mut) return fail(ErrorCode::ImmutableField, "immutable array");
      return pop(elem) && pop(kI32) && pop(self_null);
    case Opcode::ArrayFill:
      if (!field->mut) return fail(ErrorCode::ImmutableField, "immutable array");
      return pop(kI32) && pop(elem) && pop(kI32) && pop(self_null);
    default: return arrayBulk(in);
  }
}

// array.new_data/_elem, array.copy, array.init_data/_elem.
bool BodyChecker::arrayBulk(const Instr& in) {
  const uint32_t x = in.a;
  const ValType self = ValType::ref(HeapType::index(x), false);
  const ValType self_null = ValType::ref(HeapType::index(x), true);
  const FieldType* field = nullptr;
  if (!arrayAt(x, field)) return false;
  const bool init = in.op == Opcode::ArrayInitData || in.op == Opcode::ArrayInitElem ||
                    in.op == Opcode::ArrayCopy;
  if (init && !field->mut) return fail(ErrorCode::ImmutableField, "immutable array");
  switch (in.op) {
    case Opcode::ArrayNewData:
    case Opcode::ArrayInitData:
      // Bytes become numbers: the element type must not be a reference.
      if (field->type.isRef()) {
        return fail(ErrorCode::TypeMismatch, "array type is not numeric or vector");
      }
      if (!dataAt(in.b)) return false;
      break;
    case Opcode::ArrayNewElem:
    case Opcode::ArrayInitElem: {
      ValType et;
      if (!elemAt(in.b, et)) return false;
      if (!isSubtype(et, field->type)) {
        return fail(ErrorCode::TypeMismatch,
                    fmt::format("type mismatch: element segment type {} does not match array "
                                "element type {}",
                                env_.names.val(et), env_.names.val(field->type)));
      }
      break;
    }
    case Opcode::ArrayCopy: {  // a = destination type, b = source type
      const FieldType* src = nullptr;
      if (!arrayAt(in.b, src)) return false;
      if (!types_.isStorageSubtype(src->type, field->type)) {
        return fail(ErrorCode::TypeMismatch, "array types do not match");
      }
      return pop(kI32) && pop(kI32) && pop(ValType::ref(HeapType::index(in.b), true)) &&
             pop(kI32) && pop(self_null);
    }
    default: return fail(ErrorCode::InvalidOther, "not an array instruction");
  }
  if (in.op == Opcode::ArrayNewData || in.op == Opcode::ArrayNewElem) {
    if (!pop(kI32) || !pop(kI32)) return false;
    push(self);
    return true;
  }
  return pop(kI32) && pop(kI32) && pop(kI32) && pop(self_null);
}

// Spec 3.4.x "Constant expressions" (3.0: extended constants and GC).
bool BodyChecker::isConstInstr(const Instr& in) {
  switch (in.op) {
    case Opcode::I32Const:
    case Opcode::I64Const:
    case Opcode::F32Const:
    case Opcode::F64Const:
    case Opcode::I32Add:
    case Opcode::I32Sub:
    case Opcode::I32Mul:
    case Opcode::I64Add:
    case Opcode::I64Sub:
    case Opcode::I64Mul:
    case Opcode::RefNull:
    case Opcode::RefFunc:
    case Opcode::RefI31:
    case Opcode::StructNew:
    case Opcode::StructNewDefault:
    case Opcode::ArrayNew:
    case Opcode::ArrayNewDefault:
    case Opcode::ArrayNewFixed:
    case Opcode::AnyConvertExtern:
    case Opcode::ExternConvertAny:
    case Opcode::GlobalGet:  // of an immutable global: checked in global()
      return true;
    default: return false;
  }
}

bool BodyChecker::step(const Instr& in) {
  offset_ = in.offset;
  if (const_mode_ && !isConstInstr(in)) {
    return fail(ErrorCode::ConstantRequired, "constant expression required");
  }
  switch (in.op) {
    case Opcode::Unreachable: setUnreachable(); return true;
    case Opcode::Block:
    case Opcode::Loop:
    case Opcode::If: return enterBlock(in);
    case Opcode::Else: return onElse();
    case Opcode::End: return onEnd();
    case Opcode::Br:
    case Opcode::BrIf: return branch(in);
    case Opcode::BrTable: return brTable(in);
    case Opcode::BrOnNull:
    case Opcode::BrOnNonNull: return brOnNull(in);
    case Opcode::BrOnCast:
    case Opcode::BrOnCastFail: return brOnCast(in);
    case Opcode::Return:
      if (!popTypes(results_)) return false;
      setUnreachable();
      return true;
    case Opcode::Call:
    case Opcode::CallIndirect:
    case Opcode::ReturnCall:
    case Opcode::ReturnCallIndirect:
    case Opcode::CallRef:
    case Opcode::ReturnCallRef: return call(in);
    case Opcode::Drop: {
      ValType t;
      return popAny(t);
    }
    case Opcode::Select:
    case Opcode::SelectT: return select(in);
    case Opcode::LocalGet:
    case Opcode::LocalSet:
    case Opcode::LocalTee: return local(in);
    case Opcode::GlobalGet:
    case Opcode::GlobalSet: return global(in);
    case Opcode::TableGet:
    case Opcode::TableSet:
    case Opcode::TableSize:
    case Opcode::TableGrow:
    case Opcode::TableFill:
    case Opcode::TableCopy:
    case Opcode::TableInit: return table(in);
    case Opcode::RefNull:
    case Opcode::RefIsNull:
    case Opcode::RefFunc:
    case Opcode::RefEq:
    case Opcode::RefAsNonNull:
    case Opcode::RefI31:
    case Opcode::I31GetS:
    case Opcode::I31GetU:
    case Opcode::AnyConvertExtern:
    case Opcode::ExternConvertAny: return reference(in);
    case Opcode::RefTest:
    case Opcode::RefTestNull:
    case Opcode::RefCast:
    case Opcode::RefCastNull: return castOp(in);
    case Opcode::StructNew:
    case Opcode::StructNewDefault:
    case Opcode::StructGet:
    case Opcode::StructGetS:
    case Opcode::StructGetU:
    case Opcode::StructSet: return structOp(in);
    case Opcode::ArrayNew:
    case Opcode::ArrayNewDefault:
    case Opcode::ArrayNewFixed:
    case Opcode::ArrayNewData:
    case Opcode::ArrayNewElem:
    case Opcode::ArrayGet:
    case Opcode::ArrayGetS:
    case Opcode::ArrayGetU:
    case Opcode::ArraySet:
    case Opcode::ArrayLen:
    case Opcode::ArrayFill:
    case Opcode::ArrayCopy:
    case Opcode::ArrayInitData:
    case Opcode::ArrayInitElem: return arrayOp(in);
    default:
      if (sigOf(in.op) == Sig::Special) {
        return fail(ErrorCode::InvalidOther,
                    fmt::format("no typing rule for {}", opcodeName(in.op)));
      }
      return fixedSig(in);
  }
}

void BodyChecker::reset() {
  stack_.clear();
  ctrls_.clear();
  init_stack_.clear();
  error_.reset();
}

bool BodyChecker::run(std::span<const Instr> instrs) {
  for (const Instr& in : instrs) {
    if (ctrls_.empty()) {
      offset_ = in.offset;
      return fail(ErrorCode::InvalidOther, "instructions after the end of the function");
    }
    if (!step(in)) return false;
  }
  return true;
}

Status BodyChecker::checkFunction(uint32_t defined_index) {
  const Function& f = m_.functions[defined_index];
  const uint32_t func_index = m_.num_imported_funcs + defined_index;
  const FuncType& ft = types_.funcType(m_.func_types[func_index]);
  reset();
  const_mode_ = false;
  offset_ = f.body_offset;
  extra_ = f.extra;
  results_ = ft.results;

  // Locals: parameters (initialised) then declared locals; non-defaultable
  // ones start uninitialised (spec 3.4.x "Functions").
  locals_.assign(ft.params.begin(), ft.params.end());
  locals_.insert(locals_.end(), f.locals.begin(), f.locals.end());
  local_init_.assign(locals_.size(), 1);
  bool ok = true;
  for (size_t i = ft.params.size(); ok && i < locals_.size(); ++i) {
    ok = checkValType(locals_[i]);
    local_init_[i] = isDefaultable(locals_[i]) ? 1 : 0;
  }

  BlockSig sig;
  sig.results = ft.results.data();
  sig.nresults = static_cast<uint32_t>(ft.results.size());
  pushFrame(Opcode::Nop, sig);
  ok = ok && run(f.body);
  if (ok && !ctrls_.empty()) {
    offset_ = f.body_offset + f.body_size;
    ok = fail(ErrorCode::InvalidOther, "function body must end with end");
  }
  if (ok) return {};
  Error e = std::move(*error_);
  e.context = funcContext(m_, func_index);
  return e;
}

Status BodyChecker::checkConstExpr(const ConstExpr& expr, ValType expected,
                                   uint32_t visible_globals) {
  reset();
  const_mode_ = true;
  visible_globals_ = visible_globals;
  extra_ = {};
  results_ = {};
  locals_.clear();
  local_init_.clear();
  BlockSig sig;
  sig.single = expected;
  sig.nresults = 1;
  pushFrame(Opcode::Nop, sig);
  bool ok = run(expr.instrs);
  if (ok) {
    offset_ = expr.offset;
    ok = checkFrameEnd(ctrls_.back());
  }
  if (ok) return {};
  return std::move(*error_);
}

// ---------------------------------------------------------------------------
// Module checker (spec 3.4.x "Modules"): definitions in order, then bodies.
// ---------------------------------------------------------------------------

class ModuleChecker {
 public:
  ModuleChecker(const Module& m, TypeStore& store) : m_(m), store_(store) {}
  Result<ModuleTypes> run();

 private:
  static Error at(ErrorCode code, uint32_t offset, std::string message, std::string context) {
    Error e = makeError(code, offset, std::move(message));
    e.context = std::move(context);
    return e;
  }
  Status checkShape() const;
  Status checkValType(ValType t, uint32_t offset, const std::string& context) const;
  Status checkFuncTypeIndex(uint32_t x, uint32_t offset, const std::string& context) const;
  Status checkLimits(const Limits& l, uint64_t bound, const char* bound_message, uint32_t offset,
                     const std::string& context) const;
  Status checkTableType(const TableType& t, uint32_t offset, const std::string& context) const;
  Status checkMemoryType(const MemoryType& t, uint32_t offset, const std::string& context) const;
  Status checkImports() const;
  Status checkFunctionTypes() const;
  Status checkTables(BodyChecker& body) const;
  Status checkMemories() const;
  Status checkGlobals(BodyChecker& body) const;
  Status checkElems(BodyChecker& body) const;
  Status checkDatas(BodyChecker& body) const;
  Status checkStart() const;
  Status checkExports() const;
  Status checkBodies(BodyChecker& body) const;
  std::vector<uint8_t> declaredFuncs() const;
  Status constExpr(BodyChecker& body, const ConstExpr& e, ValType t, uint32_t visible,
                   std::string context) const {
    Status s = body.checkConstExpr(e, t, visible);
    if (s.ok()) return s;
    Error err = s.takeError();
    err.context = std::move(context);
    return err;
  }
  uint32_t allGlobals() const { return static_cast<uint32_t>(m_.global_types.size()); }

  const Module& m_;
  TypeStore& store_;
  const ModuleTypes* types_ = nullptr;
};

#define SLABFUZZ_TRY(expr)              \
  do {                                  \
    if (Status s_ = (expr); !s_.ok()) { \
      return s_.takeError();            \
    }                                   \
  } while (0)

Result<ModuleTypes> ModuleChecker::run() {
  SLABFUZZ_TRY(checkShape());
  Result<ModuleTypes> types = canonicalizeTypes(m_, store_);
  if (!types.ok()) return types.takeError();
  types_ = &types.value();
  SLABFUZZ_TRY(checkImports());
  SLABFUZZ_TRY(checkFunctionTypes());

  // In section order. Constant expressions see the globals defined before
  // them (spec 3.4.x "Modules"): table initialisers the imported ones, each
  // global the imported and earlier ones, segments all of them.
  ModuleEnv env{m_, *types_, declaredFuncs()};
  BodyChecker body(env);
  SLABFUZZ_TRY(checkTables(body));
  SLABFUZZ_TRY(checkMemories());
  SLABFUZZ_TRY(checkGlobals(body));
  SLABFUZZ_TRY(checkExports());
  SLABFUZZ_TRY(checkStart());
  SLABFUZZ_TRY(checkElems(body));
  SLABFUZZ_TRY(checkDatas(body));
  SLABFUZZ_TRY(checkBodies(body));
  return types;
}

// The index spaces agree with the definitions (guaranteed by the decoder;
// checked so that a hand-built Module cannot make the validator read out of
// bounds).
Status ModuleChecker::checkShape() const {
  bool ok = m_.func_types.size() == size_t{m_.num_imported_funcs} + m_.functions.size() &&
            m_.table_types.size() == size_t{m_.num_imported_tables} + m_.tables.size() &&
            m_.memory_types.size() >= m_.num_imported_memories &&
            m_.global_types.size() == size_t{m_.num_imported_globals} + m_.globals.size();
  if (ok) return {};
  return makeError(ErrorCode::InvalidOther, 0, "index spaces do not match the definitions");
}

Status ModuleChecker::checkValType(ValType t, uint32_t offset, const std::string& context) const {
  if (t.isRef()) {
    HeapType ht = t.heapType();
    if (ht.isIndex() && ht.index() >= types_->size()) {
      return at(ErrorCode::UnknownIndex, offset, fmt::format("unknown type {}", ht.index()),
                context);
    }
    if (ht.isAbstract() &&
        (ht.abstractKind() == HeapType::Exn || ht.abstractKind() == HeapType::NoExn)) {
      return at(ErrorCode::UnsupportedFeature, offset, "exception references are not supported",
                context);
    }
    return {};
  }
  if (t.isNum()) return {};
  return at(ErrorCode::UnsupportedFeature, offset,
            fmt::format("value type {} is not supported here", t.toString()), context);
}

Status ModuleChecker::checkFuncTypeIndex(uint32_t x, uint32_t offset,
                                         const std::string& context) const {
  if (x >= types_->size()) {
    return at(ErrorCode::UnknownIndex, offset, fmt::format("unknown type {}", x), context);
  }
  if (!types_->isFunc(x)) {
    return at(ErrorCode::TypeMismatch, offset,
              fmt::format("type mismatch: type {} is not a function type", x), context);
  }
  return {};
}

// Spec 3.2.x "Limits": min and max within the bound, min <= max.
Status ModuleChecker::checkLimits(const Limits& l, uint64_t bound, const char* bound_message,
                                  uint32_t offset, const std::string& context) const {
  if (l.min > bound || (l.max && *l.max > bound)) {
    return at(ErrorCode::InvalidLimits, offset, bound_message, context);
  }
  if (l.max && l.min > *l.max) {
    return at(ErrorCode::InvalidLimits, offset, "size minimum must not be greater than maximum",
              context);
  }
  return {};
}

Status ModuleChecker::checkTableType(const TableType& t, uint32_t offset,
                                     const std::string& context) const {
  SLABFUZZ_TRY(
      checkLimits(t.limits, 0xFFFFFFFFu, "table size must be at most 2^32-1", offset, context));
  if (!t.elem.isRef()) {
    return at(ErrorCode::TypeMismatch, offset,
              "type mismatch: table element type must be a reference", context);
  }
  return checkValType(t.elem, offset, context);
}

Status ModuleChecker::checkMemoryType(const MemoryType& t, uint32_t offset,
                                      const std::string& context) const {
  return checkLimits(t.limits, kMaxMemoryPages, "memory size must be at most 65536 pages (4GiB)",
                     offset, context);
}

Status ModuleChecker::checkImports() const {
  for (size_t i = 0; i < m_.imports.size(); ++i) {
    const Import& im = m_.imports[i];
    std::string context = fmt::format("import {}", i);
    switch (im.kind) {
      case ExternKind::Func:
        SLABFUZZ_TRY(checkFuncTypeIndex(im.func_type, im.offset, context));
        break;
      case ExternKind::Table: SLABFUZZ_TRY(checkTableType(im.table, im.offset, context)); break;
      case ExternKind::Memory: SLABFUZZ_TRY(checkMemoryType(im.memory, im.offset, context)); break;
      case ExternKind::Global:
        SLABFUZZ_TRY(checkValType(im.global.type, im.offset, context));
        break;
      case ExternKind::Tag:
        return at(ErrorCode::UnsupportedFeature, im.offset, "tags are not supported", context);
    }
  }
  return {};
}

// Every function's type index names a function type; defined functions are
// reported at their body's offset (the function section keeps none).
Status ModuleChecker::checkFunctionTypes() const {
  uint32_t import_func = 0;
  for (const Import& im : m_.imports) {
    if (im.kind != ExternKind::Func) continue;
    if (import_func < m_.num_imported_funcs && m_.func_types[import_func] != im.func_type) {
      return at(ErrorCode::InvalidOther, im.offset,
                "import does not match the function index space",
                fmt::format("func {}", import_func));
    }
    ++import_func;
  }
  for (size_t j = 0; j < m_.functions.size(); ++j) {
    uint32_t index = m_.num_imported_funcs + static_cast<uint32_t>(j);
    uint32_t offset =
        j < m_.func_decl_offsets.size() ? m_.func_decl_offsets[j] : m_.functions[j].body_offset;
    SLABFUZZ_TRY(checkFuncTypeIndex(m_.func_types[index], offset, funcContext(m_, index)));
  }
  return {};
}

Status ModuleChecker::checkMemories() const {
  // Where defined memory i was declared (0 for hand-built modules without offsets).
  auto definedAt = [&](size_t i) -> uint32_t {
    size_t d = i - m_.num_imported_memories;
    return d < m_.memory_offsets.size() ? m_.memory_offsets[d] : 0;
  };
  if (m_.memory_types.size() > 1) {
    // The second memory is the first one too many: an import or a definition.
    uint32_t offset = 0;
    if (m_.num_imported_memories < 2) {
      offset = definedAt(1);
    } else {
      int seen = 0;
      for (const Import& im : m_.imports)
        if (im.kind == ExternKind::Memory && ++seen == 2) offset = im.offset;
    }
    return makeError(ErrorCode::UnsupportedFeature, offset, "multiple memories are not supported");
  }
  for (size_t i = m_.num_imported_memories; i < m_.memory_types.size(); ++i) {
    SLABFUZZ_TRY(checkMemoryType(m_.memory_types[i], definedAt(i), fmt::format("memory {}", i)));
  }
  return {};
}

Status ModuleChecker::checkGlobals(BodyChecker& body) const {
  for (size_t j = 0; j < m_.globals.size(); ++j) {
    const Global& g = m_.globals[j];
    uint32_t index = m_.num_imported_globals + static_cast<uint32_t>(j);
    std::string context = fmt::format("global {}", index);
    SLABFUZZ_TRY(checkValType(g.type.type, g.offset, context));
    SLABFUZZ_TRY(constExpr(body, g.init, g.type.type, index, std::move(context)));
  }
  return {};
}

// Spec 3.4.x "Tables": a table without an initialiser is filled with null,
// so its element type must be nullable.
Status ModuleChecker::checkTables(BodyChecker& body) const {
  for (size_t j = 0; j < m_.tables.size(); ++j) {
    const Table& t = m_.tables[j];
    std::string context = fmt::format("table {}", m_.num_imported_tables + j);
    SLABFUZZ_TRY(checkTableType(t.type, t.offset, context));
    if (t.init) {
      SLABFUZZ_TRY(
          constExpr(body, *t.init, t.type.elem, m_.num_imported_globals, std::move(context)));
    } else if (!t.type.elem.nullable()) {
      return at(ErrorCode::TypeMismatch, t.offset,
                fmt::format("type mismatch: table of non-nullable {} needs an initializer",
                            TypeNamer(m_).val(t.type.elem)),
                context);
    }
  }
  return {};
}

Status ModuleChecker::checkElems(BodyChecker& body) const {
  TypeNamer names(m_);
  for (size_t i = 0; i < m_.elems.size(); ++i) {
    const ElemSegment& e = m_.elems[i];
    std::string context = fmt::format("elem {}", i);
    if (!e.type.isRef()) {
      return at(ErrorCode::TypeMismatch, e.offset,
                "type mismatch: element segment type must be a reference", context);
    }
    SLABFUZZ_TRY(checkValType(e.type, e.offset, context));
    for (const ConstExpr& item : e.items) {
      SLABFUZZ_TRY(constExpr(body, item, e.type, allGlobals(), context));
    }
    if (e.mode != SegmentMode::Active) continue;
    if (e.table >= m_.table_types.size()) {
      return at(ErrorCode::UnknownIndex, e.offset, fmt::format("unknown table {}", e.table),
                context);
    }
    ValType table_elem = m_.table_types[e.table].elem;
    if (!types_->isSubtype(e.type, table_elem)) {
      return at(ErrorCode::TypeMismatch, e.offset,
                fmt::format("type mismatch: element segment type {} does not match table element "
                            "type {}",
                            names.val(e.type), names.val(table_elem)),
                context);
    }
    SLABFUZZ_TRY(constExpr(body, e.table_offset, kI32, allGlobals(), context));
  }
  return {};
}

Status ModuleChecker::checkDatas(BodyChecker& body) const {
  for (size_t i = 0; i < m_.datas.size(); ++i) {
    const DataSegment& d = m_.datas[i];
    if (d.mode != SegmentMode::Active) continue;
    std::string context = fmt::format("data {}", i);
    if (d.memory >= m_.memory_types.size()) {
      return at(ErrorCode::UnknownIndex, d.offset, fmt::format("unknown memory {}", d.memory),
                context);
    }
    SLABFUZZ_TRY(constExpr(body, d.memory_offset, kI32, allGlobals(), std::move(context)));
  }
  return {};
}

// Spec 3.4.x "Start function": type [] -> [].
Status ModuleChecker::checkStart() const {
  if (!m_.start) return {};
  uint32_t x = *m_.start;
  if (x >= m_.func_types.size()) {
    return at(ErrorCode::UnknownIndex, m_.start_offset, fmt::format("unknown function {}", x),
              "start");
  }
  const FuncType& ft = types_->funcType(m_.func_types[x]);
  if (!ft.params.empty() || !ft.results.empty()) {
    return at(ErrorCode::InvalidStart, m_.start_offset,
              "start function must not have parameters or results", "start");
  }
  return {};
}

// Spec 3.4.x "Exports": the index exists; names are unique.
Status ModuleChecker::checkExports() const {
  std::unordered_set<std::string_view> names;
  names.reserve(m_.exports.size());
  for (size_t i = 0; i < m_.exports.size(); ++i) {
    const Export& ex = m_.exports[i];
    std::string context = fmt::format("export {}", i);
    const char* what = nullptr;
    size_t count = 0;
    switch (ex.kind) {
      case ExternKind::Func:
        what = "function";
        count = m_.func_types.size();
        break;
      case ExternKind::Table:
        what = "table";
        count = m_.table_types.size();
        break;
      case ExternKind::Memory:
        what = "memory";
        count = m_.memory_types.size();
        break;
      case ExternKind::Global:
        what = "global";
        count = m_.global_types.size();
        break;
      case ExternKind::Tag:
        return at(ErrorCode::UnsupportedFeature, ex.offset, "tags are not supported", context);
    }
    if (ex.index >= count) {
      return at(ErrorCode::UnknownIndex, ex.offset, fmt::format("unknown {} {}", what, ex.index),
                context);
    }
    if (!names.insert(ex.name).second) {
      return at(ErrorCode::DuplicateExport, ex.offset,
                fmt::format("duplicate export name \"{}\"", ex.name), context);
    }
  }
  return {};
}

// C.refs: every function index named in the module outside function bodies
// and the start section (spec 3.4.x "Modules").
std::vector<uint8_t> ModuleChecker::declaredFuncs() const {
  std::vector<uint8_t> declared(m_.func_types.size(), 0);
  auto scan = [&](const ConstExpr& e) {
    for (const Instr& in : e.instrs) {
      if (in.op == Opcode::RefFunc && in.a < declared.size()) declared[in.a] = 1;
    }
  };
  for (const Export& ex : m_.exports) {
    if (ex.kind == ExternKind::Func && ex.index < declared.size()) declared[ex.index] = 1;
  }
  for (const Global& g : m_.globals) scan(g.init);
  for (const Table& t : m_.tables) {
    if (t.init) scan(*t.init);
  }
  for (const ElemSegment& e : m_.elems) {
    scan(e.table_offset);
    for (const ConstExpr& item : e.items) scan(item);
  }
  for (const DataSegment& d : m_.datas) scan(d.memory_offset);
  return declared;
}

Status ModuleChecker::checkBodies(BodyChecker& body) const {
  for (uint32_t j = 0; j < m_.functions.size(); ++j) SLABFUZZ_TRY(body.checkFunction(j));
  return {};
}

#undef SLABFUZZ_TRY

}  // namespace

Result<ModuleTypes> validateModule(const Module& module, TypeStore& store) {
  return ModuleChecker(module, store).run();
}

Status validateModule(const Module& module) {
  TypeStore store;
  Result<ModuleTypes> types = validateModule(module, store);
  if (!types.ok()) return types.takeError();
  return {};
}

}  // namespace slabfuzz
