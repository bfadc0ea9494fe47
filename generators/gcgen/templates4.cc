// The cast-probe template: ref.test, ref.cast and br_on_cast(_fail) of null,
// i31 and object values against abstract and concrete targets, nullable and
// not, each answer logged (wasmtime 10171: the null-or-i31 fast path of a
// type test answering wrongly); objects tested against their twins, types
// of the same structure in another rec group (TypeModel::twins; WAMR 3292:
// a cast that compares structure only). Our configurations share the type
// tests, so these answers are checked by the comparison with V8 and
// Binaryen.
// Owns: that template. Does not own: the twins (type_model.cc).
// Contract: valid by construction; a ref.cast is emitted only where the
// correct answer is success (null to a nullable target, an i31 to i31, eq
// or any, an object to its own type or an abstract supertype), so a correct
// engine never traps here.
#include "generators/gcgen/body_gen.h"

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

enum class Subject { Null, I31, Object };

class CastProbe {
 public:
  explicit CastProbe(BodyGen& g) : g_(g), tm_(g.tm()) {}

  void run() {
    const uint32_t probes = g_.c().inRange(2, 6);
    for (uint32_t i = 0; i < probes; ++i) probe();
    g_.settle({});
    g_.ctx().stats.templates["cast-probe"]++;
  }

 private:
  // Pushes the subject; sets kind_, and obj_/twin_ for objects.
  void subject() {
    static constexpr uint32_t kWeights[] = {3, 3, 4};
    kind_ = static_cast<Subject>(g_.c().weighted(kWeights));
    twin_ = -1;
    switch (kind_) {
      case Subject::Null: {
        // null at a static type of the any hierarchy: a bottom, abstract
        // or concrete one.
        static constexpr HT::Abstract kNulls[] = {HT::None,   HT::Any,   HT::Eq,
                                                  HT::Struct, HT::Array, HT::I31};
        HeapType h = HT::abstract(kNulls[g_.c().upTo(std::size(kNulls) - 1)]);
        if (g_.c().oneIn(3)) h = HT::index(concrete());
        g_.emit(Opcode::RefNull, h.bits());
        g_.push(ValType::ref(h, true));
        g_.countShape("cast-probe:null");
        break;
      }
      case Subject::I31:
        g_.makeI32(1);
        g_.emit(Opcode::RefI31);
        g_.pop();
        g_.push(ValType::ref(HT::abstract(HT::I31), false));
        g_.countRow("ref.i31");
        g_.countShape("cast-probe:i31");
        break;
      case Subject::Object: {
        const auto twins = tm_.twins();
        if (!twins.empty() && !g_.c().oneIn(4)) {
          const auto& [a, b] = twins[g_.c().upTo(static_cast<uint32_t>(twins.size() - 1))];
          const bool first = g_.c().flip();
          obj_ = first ? a : b;
          twin_ = static_cast<int32_t>(first ? b : a);
        } else {
          obj_ = concrete();
        }
        // Exactly obj_ (a leaf allocation), so the cast to it holds.
        g_.makeValue(ValType::ref(HT::index(obj_), false), g_.ctx().p.max_value_depth);
        break;
      }
    }
    // Often through an anyref or eqref local, so that only the run-time
    // test can tell.
    if (g_.c().flip()) {
      const ValType eq = ValType::ref(HT::abstract(HT::Eq), true);
      const bool in_eq = tm_.isSubtype(g_.top(), eq) && g_.c().flip();
      const ValType slot = in_eq ? eq : ValType::ref(HT::abstract(HT::Any), true);
      const uint32_t l = g_.temp(slot);
      g_.localSet(l);
      g_.localGet(l);
    }
  }

  uint32_t concrete() {
    const bool s = tm_.arrays().empty() || (!tm_.structs().empty() && g_.c().flip());
    return s ? g_.c().pick(tm_.structs()) : g_.c().pick(tm_.arrays());
  }

  // A target heap type: the twin most often for an object that has one,
  // else an abstract type of the any hierarchy or a concrete one.
  HeapType target() {
    if (twin_ >= 0 && !g_.c().oneIn(3)) {
      g_.countShape("cast-probe:twin");
      return HT::index(static_cast<uint32_t>(twin_));
    }
    static constexpr HT::Abstract kTargets[] = {HT::Any,   HT::Eq,   HT::I31,
                                                HT::Struct, HT::Array, HT::None};
    if (g_.c().flip()) return HT::abstract(kTargets[g_.c().upTo(std::size(kTargets) - 1)]);
    if (kind_ == Subject::Object && g_.c().flip()) return HT::index(obj_);
    return HT::index(concrete());
  }

  // Does a cast of the subject to (ref null? h) hold in a correct engine?
  bool castHolds(HeapType h, bool nullable) const {
    switch (kind_) {
      case Subject::Null: return nullable;
      case Subject::I31:
        return h.isAbstract() && (h.abstractKind() == HT::I31 || h.abstractKind() == HT::Eq ||
                                  h.abstractKind() == HT::Any);
      case Subject::Object:
        if (h.isIndex()) return h.index() == obj_;
        switch (h.abstractKind()) {
          case HT::Any:
          case HT::Eq: return true;
          case HT::Struct: return tm_.isStruct(obj_);
          case HT::Array: return tm_.isArray(obj_);
          default: return false;
        }
    }
    return false;
  }

  void probe() {
    subject();
    const ValType from = g_.top();
    const HeapType h = target();
    const bool nullable = g_.c().flip();
    const ValType to = ValType::ref(h, nullable);
    const uint32_t op = g_.c().upTo(4);
    if (op == 3 && castHolds(h, nullable)) {
      g_.emit(nullable ? Opcode::RefCastNull : Opcode::RefCast, h.bits());
      g_.pop();
      g_.push(to);
      g_.countRow("ref.cast");
      if (kind_ == Subject::I31 && h == HT::abstract(HT::I31) && !nullable) {
        g_.emit(Opcode::I31GetS);
      } else {
        g_.emit(Opcode::RefIsNull);
      }
      g_.pop();
      g_.push(ValType::i32());
    } else if (op >= 1 && op <= 2 && g_.nesting() <= g_.ctx().p.max_nesting) {
      branchProbe(op == 1, from, h, nullable);
    } else {
      g_.emit(nullable ? Opcode::RefTestNull : Opcode::RefTest, h.bits());
      g_.pop();
      g_.push(ValType::i32());
      g_.countRow("ref.test");
    }
    g_.logValue(ValType::i32());
  }

  // flag = 1; block (result L) subject; br_on_cast(_fail) 0 from to; drop;
  // flag = 0; ref.null; end; drop; flag (on the stack): which way it went.
  void branchProbe(bool on_cast, ValType from, HeapType h, bool nullable) {
    const ValType any = ValType::ref(HT::abstract(HT::Any), true);
    const uint32_t flag = g_.temp(ValType::i32());
    const uint32_t subj = g_.temp(from.isRef() ? from.asNullable(true) : any);
    g_.localSet(subj);
    g_.constI32(1);
    g_.localSet(flag);
    const ValType label = on_cast ? ValType::ref(h, true) : any;
    g_.open(Opcode::Block, label);
    g_.localGet(subj);
    g_.emit(on_cast ? Opcode::BrOnCast : Opcode::BrOnCastFail, 0, HT::abstract(HT::Any).bits(),
            h.bits(), 1u | (nullable ? 2u : 0u));
    g_.pop();
    // What falls through: the value at the target type (br_on_cast_fail)
    // or at the source minus the target (br_on_cast).
    g_.push(on_cast ? ValType::ref(HT::abstract(HT::Any), !nullable) : ValType::ref(h, nullable));
    g_.countRow(on_cast ? "br_on_cast" : "br_on_cast_fail");
    g_.emit(Opcode::Drop);
    g_.pop();
    g_.constI32(0);
    g_.localSet(flag);
    g_.emit(Opcode::RefNull, label.heapType().bits());
    g_.push(label);
    g_.close();
    g_.emit(Opcode::Drop);
    g_.pop();
    g_.localGet(flag);
  }

  BodyGen& g_;
  const TypeModel& tm_;
  Subject kind_ = Subject::Null;
  uint32_t obj_ = 0;
  int32_t twin_ = -1;
};

}  // namespace

void runCastProbeTemplate(BodyGen& g) {
  CastProbe(g).run();
}

}  // namespace slabfuzz::gcgen
