// gcgen's function bodies: the builder that emits `Instr`s while tracking the
// operand stack, control frames and locals, and the generator state shared by
// the value maker (values.cc), the row table (rows.cc) and the templates
// (templates.cc). Internal to gcgen.
// Owns: validity by construction of one body (every instruction is emitted
// only when the tracked stack types allow it; Instr c/d block-structure
// indices are filled exactly as runtime/decode_expr.cc fills them).
// Does not own: module-level structure (module_gen.cc) or the type section.
// Contract: after run(), the Function validates against its type, and every
// loop is bounded by a counter and by the module's budget global.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "generators/gcgen/choices.h"
#include "generators/gcgen/gcgen.h"
#include "generators/gcgen/name_counter.h"
#include "generators/gcgen/type_model.h"
#include "runtime/module.h"

namespace slabfuzz::gcgen {

// Function indices of the fuzzing-support imports (one per fixed type).
enum ImportFunc : uint32_t {
  kLogI32,
  kLogI64,
  kLogF32,
  kLogF64,
  kLogAnyref,
  kLogFuncref,
  kLogExternref,
  kGcImport,
  kCallRefImport,  // Binaryen's call-ref: calls a funcref as JS would
  // Binaryen's call-export(index, rethrow) and call-export-catch(index):
  // call an export as JS would. Only entry functions call them, and only
  // exports before their own (see ModuleCtx::entry_first), so that the
  // call graph stays acyclic although each entry resets the budget.
  kCallExport,
  kCallExportCatch,
  // Binaryen's table-get(i) / table-set(i, funcref) on the table exported
  // as "table" (kHostTable); an index out of range throws in JS.
  kTableGetImport,
  kTableSetImport,
  kNumImports,
};
// Global 0: the budget (Binaryen's hang limit), reset by each entry function.
inline constexpr uint32_t kBudgetGlobal = 0;

// What every body of one module shares.
struct ModuleCtx {
  Module& m;
  const TypeModel& tm;
  Choices& c;
  const GenParams& p;
  GenStats& stats;
  // Rows and generator-told shapes, folded into stats at the end.
  NameCounter& row_counts;
  NameCounter& shape_counts;
  std::vector<uint32_t> callable;         // functions a body may call or ref.func
  std::vector<bool> row_enabled;          // swarm: rows.cc's table, by index
  bool huge_arrays = false;               // swarm: the array.huge row may fire
  std::vector<uint32_t> template_weight;  // kTemplate* order
  // Passive segments for the bulk templates (module_gen.cc): for each type
  // index, the element segment whose type fits that array's element type
  // (-1: none), the element segments' length, and the passive data
  // segment's length (0: none; its index is 0).
  std::vector<int32_t> array_elem_seg;
  uint32_t elem_seg_len = 0;
  uint32_t data_len = 0;
  // Table kFuncTable (funcref) holds these functions, slot by slot (an
  // active element segment fills it; nothing writes it afterwards), so a
  // call_indirect's callee is known. Table kAnyTable (anyref, at least
  // kAnyTableMin slots, at most 64) is the table rows' to read and write.
  std::vector<uint32_t> table_funcs;
  // Table kHostTable (funcref, exported as "table", table_funcs.size()
  // slots, filled like kFuncTable) is the table-get/-set imports' and
  // the rows may write it: what it holds is only known as a funcref, so
  // every call through it is guarded by ref.test.
  // The exported entry functions are [entry_first, entry_first + entries),
  // exported in that order as export indices 0.. (the table comes last).
  uint32_t entry_first = 0;
  uint32_t entries = 0;
};
inline constexpr uint32_t kFuncTable = 0;
inline constexpr uint32_t kAnyTable = 1;
inline constexpr uint32_t kHostTable = 2;
inline constexpr uint32_t kAnyTableMin = 4;

// Templates, in ModuleCtx::template_weight order.
enum TemplateKind : uint32_t {
  kTemplateSeedLoop,
  kTemplateRedefinedLocal,
  kTemplateRefSelectBlocks,
  kTemplateBulkNearGc,
  kTemplateSubtypeReads,
  kTemplateBlockParams,
  kTemplateCastProbe,
  kNumTemplates,
};

class BodyGen {
 public:
  BodyGen(ModuleCtx& ctx, uint32_t func_index, bool entry);
  void run();

  // --- The builder -------------------------------------------------------
  void emit(Opcode op, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0, uint32_t d = 0);
  void push(ValType t) { stack_.push_back(t); }
  ValType pop() {
    ValType t = stack_.back();
    stack_.pop_back();
    return t;
  }
  // The i-th value from the top (0 = top); only when depthAvail() > i.
  ValType top(size_t i = 0) const { return stack_[stack_.size() - 1 - i]; }
  // Values above the innermost frame's base.
  size_t depthAvail() const { return stack_.size() - ctrls_.back().height; }
  // Block, Loop or If (If pops its i32 condition first) with no parameters
  // and at most one result.
  void open(Opcode op, std::optional<ValType> result);
  // Block, Loop or If typed by function type `type`: its parameters (on the
  // stack, below an If's condition) become the frame's first values.
  void openTyped(Opcode op, uint32_t type);
  void elseBranch();
  void close();
  size_t nesting() const { return ctrls_.size(); }
  bool full() const { return f_.body.size() >= ctx_.p.max_body_instrs; }

  // A new local of type t. References are declared nullable unless
  // keep_non_null: a non-nullable local must be set before each read in
  // the same block or an enclosing one (spec 3.4.x), which knownNonNull
  // tracks exactly as the validator does.
  uint32_t newLocal(ValType t, bool keep_non_null = false);
  bool canAddLocal() const { return f_.locals.size() < ctx_.p.max_locals; }
  ValType localType(uint32_t i) const { return locals_[i]; }
  uint32_t numLocals() const { return static_cast<uint32_t>(locals_.size()); }
  void localGet(uint32_t i);
  void localSet(uint32_t i);
  void localTee(uint32_t i);
  // Is local i known to hold a non-null reference here (set from a
  // non-nullable value in this scope or an enclosing one)?
  bool knownNonNull(uint32_t i) const;
  // Records a reference set of local i (local.set/tee of a value of type v).
  void noteRefSet(uint32_t i, ValType v);
  // May local i be read here? Not a non-nullable local before its set.
  bool readable(uint32_t i) const {
    return !locals_[i].isRef() || locals_[i].nullable() || nonnull_[i] != 0;
  }
  // A local for a temporary of type t: a free (unreserved) one of the same
  // type, or a new one. Reserved locals (loop counters, a template's
  // loop-carried references) are never reused by rows.
  uint32_t temp(ValType t);
  void reserve(uint32_t i) { reserved_[i] = 1; }
  bool isReserved(uint32_t i) const { return reserved_[i] != 0; }

  // --- Generation --------------------------------------------------------
  // Leaves one value whose type is a subtype of t on the stack.
  void makeValue(ValType t, uint32_t depth = 0);
  // Consumes the top value observably (a log call, or a local or global).
  void consumeTop();
  // Makes the values above the frame base exactly `results`.
  void settle(std::span<const ValType> results);
  // Up to n statements drawn from the row table.
  void statements(uint32_t n);
  // A bounded loop: counter reset, body, latch (counter < bound, budget > 0).
  // The body callback runs inside the loop, given the counter's local.
  template <typename Body>
  void boundedLoop(uint32_t bound, Body&& body);
  void loopLatch(uint32_t counter, uint32_t bound);
  // Logs a value of type t already on the stack.
  void logValue(ValType t);
  // A fresh i32 made of what the body already holds, or a constant.
  void makeI32(uint32_t depth = 0) { makeValue(ValType::i32(), depth); }
  void constI32(int32_t v) {
    emit(Opcode::I32Const, static_cast<uint32_t>(v));
    push(ValType::i32());
  }
  void call(uint32_t func);  // args must be on the stack
  // Defined functions a direct call may go to: later internal ones, and
  // every internal one from an entry function (internal functions never
  // call entries), so the direct call graph is acyclic; only call_ref and
  // the tables can recurse, bounded by the budget.
  std::vector<uint32_t> directCallees() const;
  // Pushes min(array.len a, array.len b) for array locals a and b (the
  // in-bounds length of an array.copy between them).
  void minArrayLen(uint32_t a, uint32_t b);
  // Appends br_table targets to Function::extra; returns the first's index.
  uint32_t addExtra(std::span<const uint32_t> targets) {
    const auto at = static_cast<uint32_t>(f_.extra.size());
    f_.extra.insert(f_.extra.end(), targets.begin(), targets.end());
    return at;
  }

  ModuleCtx& ctx() { return ctx_; }
  const ModuleCtx& ctx() const { return ctx_; }
  Choices& c() { return ctx_.c; }
  const TypeModel& tm() const { return ctx_.tm; }
  uint32_t loopDepth() const { return loop_depth_; }
  uint32_t funcIndex() const { return func_index_; }
  // name: static storage (a literal, a row's name, opcodeName).
  void countRow(std::string_view name) { ctx_.row_counts.add(name); }
  // A favoured shape only the generator can tell (a cast's relation to the
  // object, what a call goes through), for GenStats::shapes.
  void countShape(std::string_view name) { ctx_.shape_counts.add(name); }
  bool isEntry() const { return entry_; }

  // The function's frames, outermost first, for label choices.
  struct Ctrl {
    Opcode op;
    std::optional<ValType> result;
    int32_t type;  // openTyped's function type, -1 for open's frames
    size_t height;
    uint32_t at;                   // index of the opener in the body
    std::vector<uint8_t> nonnull;  // known-non-null locals on entry
  };
  const std::vector<Ctrl>& ctrls() const { return ctrls_; }
  // The types a branch to frame i (outermost = 0, the function) carries.
  std::vector<ValType> labelTypes(size_t i) const;

 private:
  void makeRef(ValType t, uint32_t depth);
  void makeNum(ValType t, uint32_t depth);
  bool tryLocalOrGlobal(ValType t);
  void newStruct(uint32_t type, uint32_t depth);
  void newArray(uint32_t type, uint32_t depth);
  void refFunc(HeapType ht);
  bool tailCall();

 public:
  // array.new_elem / array.new_data of array type `type`, in bounds of the
  // module's segment for it (values.cc); false, emitting nothing, when no
  // segment fits its element type.
  bool segmentArray(uint32_t type);
  // A length whose byte size overflows 32 bits for `type`'s elements (just
  // past 2^32 / size, sometimes just below; the largest for bytes), which
  // correct engines refuse (array too large).
  uint32_t hugeArrayLength(uint32_t type);
  // Tail calls (func_builder.cc): the table slots whose function fits this
  // function's results, and a tail call to one of them (the return_call
  // row uses them inside an if, in loops too).
  std::vector<uint32_t> tailSlots() const;
  void emitTailCall(std::span<const uint32_t> slots);

 private:

  ModuleCtx& ctx_;
  uint32_t func_index_;
  bool entry_;
  Function& f_;
  std::vector<ValType> locals_;  // params then declared locals
  uint32_t num_params_ = 0;
  std::vector<uint8_t> nonnull_;
  std::vector<uint8_t> reserved_;
  std::vector<ValType> stack_;
  std::vector<Ctrl> ctrls_;
  std::vector<ValType> results_;  // the function's
  uint32_t loop_depth_ = 0;

  friend void runSeedLoopTemplate(BodyGen& g);
};

template <typename Body>
void BodyGen::boundedLoop(uint32_t bound, Body&& body) {
  const uint32_t counter = newLocal(ValType::i32());
  reserve(counter);
  constI32(0);
  localSet(counter);
  open(Opcode::Loop, std::nullopt);
  body(counter);
  settle({});
  loopLatch(counter, bound);
  close();
}

// rows.cc: the row table's size and names (for swarm settings and stats).
size_t rowCount();
void drawSwarm(ModuleCtx& ctx);
// rows.cc: turns the (ref null ft) that the caller has just emitted (but
// not pushed) into a (ref ft) without a trap; the caller's call_ref pops it.
void nonNullFuncref(BodyGen& g, uint32_t ft);
// templates.cc: the seed-bug template.
void runSeedLoopTemplate(BodyGen& g);
// templates2.cc: the other favoured shapes (issue 5), each counting itself
// in GenStats::templates.
void runRedefinedLocalTemplate(BodyGen& g);
void runRefSelectBlocksTemplate(BodyGen& g);
void runBulkNearGcTemplate(BodyGen& g);
void runSubtypeReadsTemplate(BodyGen& g);
// templates3.cc: block and loop parameters (a reference carried around a
// loop on the operand stack), non-nullable locals.
void runBlockParamsTemplate(BodyGen& g);
// templates4.cc: ref.test / ref.cast / br_on_cast(_fail) of null, i31 and
// objects against abstract and concrete targets (twins among them), each
// answer logged.
void runCastProbeTemplate(BodyGen& g);
// rows.cc, shared with the templates (each counts its rows and shapes):
// call_indirect through kFuncTable (no trap: its contents are known);
// call_ref through a funcref table (table.get of kFuncTable or kHostTable,
// or the table-get import), guarded by ref.test in a typed if whose else
// arm makes the results; call-export(-catch) of export 0 (entry functions
// after the first only: false elsewhere); the table-set import.
void callIndirect(BodyGen& g);
// rows.cc: an array whose byte size overflows 32 bits, its length and last
// element logged (the array.huge row; the end of the last entry function in
// a module with ModuleCtx::huge_arrays).
void hugeArray(BodyGen& g);
void callRefThroughTable(BodyGen& g);
bool callExport(BodyGen& g);
void hostTableSet(BodyGen& g);
// templates2.cc, shared: a safepoint (a call to a later function, the gc
// import, or a logged allocation), and a logged read of the (ref [null] t)
// on top (t a struct or array type; arrays in bounds, empty ones skipped).
void templateSafepoint(BodyGen& g);
void readAndLog(BodyGen& g, uint32_t t);
// Runs template k (a TemplateKind).
void runTemplate(BodyGen& g, uint32_t k);

}  // namespace slabfuzz::gcgen
