// Templates: whole code shapes the generator favours, beside what the rows
// produce one instruction at a time. This increment has the seed-bug shape
// (DESIGN.md; corpus/regress/seed-loop-carried-ref.wat): nested bounded
// loops; the outer one allocates and then calls (call_ref through a struct
// field or a table, call_indirect, a direct call, a host import: `gc`,
// call-export(-catch), table-set, a log; or another allocation) while the
// only copy of a reference is a loop-carried local (non-nullable half the
// time); the inner one writes
// through a ref.cast of that local to its own type, a supertype, a subtype
// or an unrelated type (the last two guarded by ref.test), or a br_on_cast.
#include <algorithm>

#include "generators/gcgen/body_gen.h"

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

// Turns a value of type t (a field or element just read) into an i32.
void toI32(BodyGen& g, ValType t) {
  switch (t.kind()) {
    case ValKind::I64: g.emit(Opcode::I32WrapI64); break;
    case ValKind::F32: g.emit(Opcode::I32ReinterpretF32); break;
    case ValKind::F64:
      g.emit(Opcode::I64ReinterpretF64);
      g.emit(Opcode::I32WrapI64);
      break;
    case ValKind::Ref: g.emit(Opcode::RefIsNull); break;
    default: break;
  }
  g.pop();
  g.push(ValType::i32());
}

class SeedLoop {
 public:
  explicit SeedLoop(BodyGen& g) : g_(g), tm_(g.tm()) {}

  void run() {
    chooseTypes();
    const HeapType carried = chooseCarriedType();
    // Sometimes a non-nullable local (set here, before the loops), as a
    // compiler would keep a never-null loop-carried value.
    a_ = g_.newLocal(ValType::ref(carried, false), g_.c().flip());
    g_.reserve(a_);
    sum_ = g_.newLocal(ValType::i32());
    g_.reserve(sum_);
    allocate();
    g_.localSet(a_);
    const GenParams& p = g_.ctx().p;
    g_.boundedLoop(g_.c().inRange(2, std::max<uint32_t>(2, p.max_loop_iterations)), [&](uint32_t) {
      // The previous iteration's object, read through a cast:
      // the use that keeps the local live around the back edge.
      g_.localGet(sum_);
      castCarried(type_);
      read(type_);
      g_.emit(Opcode::I32Add);
      g_.pop();
      g_.localSet(sum_);
      // Allocation in the outer loop.
      allocate();
      g_.localSet(a_);
      const uint32_t inner_max = std::min(p.max_loop_iterations, length());
      g_.boundedLoop(g_.c().inRange(1, std::max<uint32_t>(1, inner_max)),
                     [&](uint32_t j) { innerBody(j); });
      safepoint();
      g_.localGet(sum_);
      g_.logValue(ValType::i32());
    });
    g_.localGet(sum_);
    g_.logValue(ValType::i32());
    g_.ctx().stats.templates["seed-loop"]++;
  }

 private:
  uint32_t length() const { return std::max<uint32_t>(1, g_.ctx().p.template_array_length); }

  // The allocated type: an array with a mutable element, or a struct with a
  // mutable field (the field written is chosen here too).
  void chooseTypes() {
    std::vector<uint32_t> arrays, structs;
    for (uint32_t t : tm_.arrays()) {
      if (tm_.fields(t)[0].mut) arrays.push_back(t);
    }
    for (uint32_t t : tm_.structs()) {
      for (const FieldType& f : tm_.fields(t)) {
        if (f.mut) {
          structs.push_back(t);
          break;
        }
      }
    }
    is_struct_ = !structs.empty() && (arrays.empty() || g_.c().oneIn(3));
    // Often a type in a subtype chain, so that the inner loop's casts to a
    // supertype or a subtype have targets.
    std::vector<uint32_t> chained;
    for (uint32_t t : is_struct_ ? structs : arrays) {
      if (!tm_.def(t).supertypes.empty() || tm_.subtypesOf(t).size() > 1) chained.push_back(t);
    }
    const auto& pool = !chained.empty() && g_.c().flip() ? chained : is_struct_ ? structs : arrays;
    type_ = pool[g_.c().upTo(static_cast<uint32_t>(pool.size() - 1))];
    if (is_struct_) {
      // A mutable field, often one the supertype has too (so that a cast
      // to the supertype can write it).
      std::vector<uint32_t> muts, inherited;
      const auto& fs = tm_.fields(type_);
      const size_t super_fields =
          tm_.def(type_).supertypes.empty() ? 0 : tm_.fields(tm_.def(type_).supertypes[0]).size();
      for (uint32_t i = 0; i < fs.size(); ++i) {
        if (fs[i].mut) muts.push_back(i);
        if (fs[i].mut && i < super_fields) inherited.push_back(i);
      }
      if (!inherited.empty() && g_.c().flip()) muts = inherited;
      field_ = muts[g_.c().upTo(static_cast<uint32_t>(muts.size() - 1))];
    }
  }

  // The local's declared type: the allocated type, a declared supertype, or
  // an abstract one, so that reads need the cast.
  HeapType chooseCarriedType() {
    std::vector<HeapType> opts;
    for (uint32_t s = type_;;) {
      opts.push_back(HT::index(s));
      if (tm_.def(s).supertypes.empty()) break;
      s = tm_.def(s).supertypes[0];
    }
    opts.push_back(HT::abstract(is_struct_ ? HT::Struct : HT::Array));
    opts.push_back(HT::abstract(HT::Eq));
    opts.push_back(HT::abstract(HT::Any));
    return opts[g_.c().upTo(static_cast<uint32_t>(opts.size() - 1))];
  }

  FieldType target() const { return tm_.fields(type_)[is_struct_ ? field_ : 0]; }

  // Exactly type_ (not a subtype), so the casts to it and its supertypes hold.
  void allocate() {
    const auto& fs = tm_.fields(type_);
    if (is_struct_) {
      for (const FieldType& f : fs) g_.makeValue(f.type.unpacked(), 1);
      for (size_t i = 0; i < fs.size(); ++i) g_.pop();
      g_.emit(Opcode::StructNew, type_);
    } else {
      g_.makeValue(fs[0].type.unpacked(), 1);
      g_.constI32(static_cast<int32_t>(length()));
      g_.emit(Opcode::ArrayNew, type_);
      g_.pop();
      g_.pop();
    }
    g_.push(ValType::ref(HT::index(type_), false));
    g_.countRow(is_struct_ ? "struct.new" : "array.new");
  }

  void castCarried(uint32_t to) {
    g_.localGet(a_);
    g_.emit(Opcode::RefCast, HT::index(to).bits());
    g_.pop();
    g_.push(ValType::ref(HT::index(to), false));
    g_.countRow("ref.cast");
  }

  // Reads the target field/element of the (ref to) on the stack as an i32.
  void read(uint32_t to) {
    const FieldType f = tm_.fields(to)[is_struct_ ? field_ : 0];
    const Opcode plain = is_struct_ ? Opcode::StructGet : Opcode::ArrayGet;
    const Opcode op = !f.type.isPacked() ? plain
                      : is_struct_       ? Opcode::StructGetU
                                         : Opcode::ArrayGetS;
    if (is_struct_) {
      g_.emit(op, to, field_);
    } else {
      g_.constI32(static_cast<int32_t>(length() - 1));
      g_.emit(op, to);
      g_.pop();
    }
    g_.pop();
    g_.push(f.type.unpacked());
    g_.countRow(opcodeName(op));
    toI32(g_, f.type.unpacked());
  }

  // Writes at index j (arrays) through the (ref to) on the stack.
  void write(uint32_t to, uint32_t j) {
    const FieldType f = tm_.fields(to)[is_struct_ ? field_ : 0];
    if (!is_struct_) g_.localGet(j);
    const ValType v = f.type.unpacked();
    if (v == ValType::i32()) {
      g_.localGet(j);
      g_.localGet(sum_);
      g_.emit(Opcode::I32Add);
      g_.pop();
    } else {
      // References allocate inside the inner loop too.
      g_.makeValue(v, 1);
    }
    if (is_struct_) {
      g_.emit(Opcode::StructSet, to, field_);
      g_.pop();
      g_.pop();
    } else {
      g_.emit(Opcode::ArraySet, to);
      g_.pop();
      g_.pop();
      g_.pop();
    }
    g_.countRow(is_struct_ ? "struct.set" : "array.set");
  }

  // Types a cast may name whose target field is the written one.
  bool sameTarget(uint32_t t) const {
    const auto& fs = tm_.fields(t);
    const uint32_t i = is_struct_ ? field_ : 0;
    return i < fs.size() && fs[i].mut && fs[i].type == target().type;
  }

  void innerBody(uint32_t j) {
    std::vector<uint32_t> supers, subs, unrelated;
    for (uint32_t s = type_; !tm_.def(s).supertypes.empty();) {
      s = tm_.def(s).supertypes[0];
      if (sameTarget(s)) supers.push_back(s);
    }
    for (uint32_t s : tm_.subtypesOf(type_)) {
      if (s != type_ && sameTarget(s)) subs.push_back(s);
    }
    for (uint32_t u : is_struct_ ? tm_.structs() : tm_.arrays()) {
      if (u != type_ && !tm_.isHeapSubtype(HT::index(u), HT::index(type_)) &&
          !tm_.isHeapSubtype(HT::index(type_), HT::index(u)) && tm_.fields(u).size() > 0 &&
          (is_struct_ ? field_ < tm_.fields(u).size() : true) &&
          tm_.fields(u)[is_struct_ ? field_ : 0].mut) {
        unrelated.push_back(u);
      }
    }
    switch (g_.c().upTo(5)) {
      case 1:  // a supertype (or the type itself when it has none)
        if (!supers.empty()) {
          const uint32_t s = supers[g_.c().upTo(static_cast<uint32_t>(supers.size() - 1))];
          castCarried(s);
          write(s, j);
          g_.countShape("inner-cast:supertype");
          break;
        }
        [[fallthrough]];
      default:  // the allocated type itself, as in the seed bug
        castCarried(type_);
        write(type_, j);
        g_.countShape("inner-cast:same");
        break;
      case 2:  // a subtype: the test fails on this object, and the cast is skipped
      case 3:  // an unrelated type: likewise
      {
        const bool sub = g_.c().flip() && !subs.empty();
        const auto& pool = sub ? subs : unrelated;
        const uint32_t t =
            pool.empty() ? type_ : pool[g_.c().upTo(static_cast<uint32_t>(pool.size() - 1))];
        g_.countShape(pool.empty() ? "inner-cast:same"
                      : sub        ? "inner-cast:subtype"
                                   : "inner-cast:unrelated");
        g_.localGet(a_);
        g_.emit(Opcode::RefTest, HT::index(t).bits());
        g_.pop();
        g_.push(ValType::i32());
        g_.countRow("ref.test");
        g_.open(Opcode::If, std::nullopt);
        castCarried(t);
        write(t, j);
        g_.close();
        break;
      }
      case 4: {  // br_on_cast to the allocated type; the fall-through makes one
        const ValType to = ValType::ref(HT::index(type_), false);
        const ValType from = g_.localType(a_);
        g_.open(Opcode::Block, to);
        g_.localGet(a_);
        // The source's nullability is the local's (a non-nullable local's
        // fall-through value stays non-nullable).
        g_.emit(Opcode::BrOnCast, 0, from.heapType().bits(), HT::index(type_).bits(),
                from.nullable() ? 1u : 0u);
        g_.countShape("inner-cast:br_on_cast");
        g_.pop();
        g_.push(from);
        g_.countRow("br_on_cast");
        g_.consumeTop();
        allocate();
        g_.close();
        write(type_, j);
        break;
      }
    }
    if (g_.c().oneIn(3)) g_.statements(g_.c().upTo(2));
  }

  // The call or allocation at which the carried reference is live (its
  // only copy in the local a_): each counted as the shape it makes.
  void safepoint() {
    switch (g_.c().upTo(7)) {
      case 0: {  // call_ref through a struct field, as in the seed bug
        const uint32_t box = g_.c().pick(tm_.boxes());
        const auto& fs = tm_.fields(box);
        uint32_t i = 0;
        while (!(fs[i].type.isRef() && fs[i].type.heapType().isIndex() &&
                 tm_.isFunc(fs[i].type.heapType().index()))) {
          ++i;
        }
        const uint32_t ft = fs[i].type.heapType().index();
        const FuncType& sig = tm_.sig(ft);
        for (ValType p : sig.params) g_.makeValue(p, 1);
        g_.makeValue(ValType::ref(HT::index(box), false), 1);
        g_.emit(Opcode::StructGet, box, i);
        g_.pop();
        if (fs[i].type.nullable()) nonNullFuncref(g_, ft);
        g_.emit(Opcode::CallRef, ft);
        for (size_t k = 0; k < sig.params.size(); ++k) g_.pop();
        for (ValType r : sig.results) g_.push(r);
        g_.countRow("call_ref");
        g_.countShape("call_ref:struct-field");
        g_.countShape("carried-ref-across:call_ref");
        break;
      }
      case 1: {  // a direct call
        const std::vector<uint32_t> defined = g_.directCallees();
        if (!defined.empty()) {
          const uint32_t f = defined[g_.c().upTo(static_cast<uint32_t>(defined.size() - 1))];
          for (ValType p : tm_.sig(g_.ctx().m.func_types[f]).params) g_.makeValue(p, 1);
          g_.call(f);
          g_.countRow("call");
          g_.countShape("carried-ref-across:call");
          break;
        }
        [[fallthrough]];
      }
      case 2:  // a collection now
        g_.call(kGcImport);
        g_.countRow("gc");
        g_.countShape("carried-ref-across:host");
        break;
      case 3:  // call_ref through a table, guarded
        callRefThroughTable(g_);
        g_.countShape("carried-ref-across:call_ref");
        break;
      case 4:  // call_indirect
        callIndirect(g_);
        g_.countShape("carried-ref-across:call_indirect");
        break;
      case 5:  // another host call: call-export(-catch), table-set or a log
        if (!callExport(g_)) {
          if (g_.c().flip()) {
            hostTableSet(g_);
          } else {
            g_.localGet(sum_);
            g_.logValue(ValType::i32());
          }
        }
        g_.countShape("carried-ref-across:host");
        break;
      default:  // another allocation of the same type, kept observable
        allocate();
        g_.consumeTop();
        g_.countShape("carried-ref-across:alloc");
        break;
    }
    g_.settle({});
  }

  BodyGen& g_;
  const TypeModel& tm_;
  bool is_struct_ = false;
  uint32_t type_ = 0, field_ = 0;
  uint32_t a_ = 0, sum_ = 0;
};

}  // namespace

void runSeedLoopTemplate(BodyGen& g) {
  SeedLoop(g).run();
}

}  // namespace slabfuzz::gcgen
