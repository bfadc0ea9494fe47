// "Make a value of type T": the routine every row and template uses to get an
// operand, so that each instruction's operands exist by construction.
// Terminates: past GenParams::max_value_depth only leaf forms are used
// (constants, ref.null, ref.i31, ref.func, and the exact type's allocation,
// whose non-nullable fields name earlier types: see type_model.h).
#include <algorithm>

#include "generators/gcgen/body_gen.h"
#include "runtime/storage_bytes.h"

namespace slabfuzz::gcgen {

namespace {
using HT = HeapType;
}  // namespace

void BodyGen::makeValue(ValType t, uint32_t depth) {
  if (t.isRef()) {
    makeRef(t, depth);
  } else {
    makeNum(t.unpacked(), depth);
  }
}

// A local or global whose type fits, read without a trap: the k-th of the
// fitting locals then globals (counted first, so nothing is allocated on
// this path, which every value takes).
bool BodyGen::tryLocalOrGlobal(ValType t) {
  auto localFits = [&](uint32_t i) {
    const ValType lt = locals_[i];
    if (!readable(i)) return false;  // a non-nullable local before its set
    return ctx_.tm.isSubtype(lt, t) ||
           (lt.isRef() && knownNonNull(i) && ctx_.tm.isSubtype(lt.asNullable(false), t));
  };
  auto globalFits = [&](uint32_t g) { return ctx_.tm.isSubtype(ctx_.m.global_types[g].type, t); };
  const auto num_globals = static_cast<uint32_t>(ctx_.m.global_types.size());
  uint32_t locals = 0, globals = 0;
  for (uint32_t i = 0; i < numLocals(); ++i) locals += localFits(i) ? 1 : 0;
  for (uint32_t g = 1; g < num_globals; ++g) globals += globalFits(g) ? 1 : 0;
  const uint32_t n = locals + globals;
  if (n == 0) return false;
  uint32_t k = c().upTo(n - 1);
  if (k < locals) {
    uint32_t i = 0;
    for (;; ++i) {
      if (localFits(i) && k-- == 0) break;
    }
    localGet(i);
    if (!ctx_.tm.isSubtype(locals_[i], t)) {
      // Known non-null: the cast to non-null cannot trap here.
      emit(Opcode::RefAsNonNull);
      push(pop().asNullable(false));
      countRow("ref.as_non_null");
    }
    countRow("local.get");
    return true;
  }
  k -= locals;
  uint32_t g = 1;
  for (;; ++g) {
    if (globalFits(g) && k-- == 0) break;
  }
  emit(Opcode::GlobalGet, g);
  push(ctx_.m.global_types[g].type);
  countRow("global.get");
  return true;
}

void BodyGen::makeNum(ValType t, uint32_t depth) {
  const bool leaf = depth >= ctx_.p.max_value_depth || full();
  if (!leaf && c().oneIn(3) && tryLocalOrGlobal(t)) return;
  switch (t.kind()) {
    case ValKind::I32: {
      if (!leaf) {
        switch (c().upTo(7)) {
          case 0: {  // arithmetic on two made values
            static constexpr Opcode kOps[] = {Opcode::I32Add, Opcode::I32Sub, Opcode::I32Mul,
                                              Opcode::I32Xor, Opcode::I32And, Opcode::I32Shl,
                                              Opcode::I32LtS, Opcode::I32Eq};
            makeI32(depth + 1);
            makeI32(depth + 1);
            emit(kOps[c().upTo(std::size(kOps) - 1)]);
            pop();
            countRow("i32.binop");
            return;
          }
          case 1: {  // the length of an array
            if (tm().arrays().empty()) break;
            const uint32_t a = c().pick(tm().arrays());
            makeValue(ValType::ref(HT::index(a), false), depth + 1);
            emit(Opcode::ArrayLen);
            pop();
            push(ValType::i32());
            countRow("array.len");
            return;
          }
          case 2: {  // an i31's value
            makeValue(ValType::ref(HT::abstract(HT::I31), false), depth + 1);
            const bool s = c().flip();
            emit(s ? Opcode::I31GetS : Opcode::I31GetU);
            pop();
            push(ValType::i32());
            countRow(s ? "i31.get_s" : "i31.get_u");
            return;
          }
          case 3: {  // a struct's numeric field
            std::vector<std::pair<uint32_t, uint32_t>> cands;
            for (uint32_t s : tm().structs()) {
              const auto& fs = tm().fields(s);
              for (uint32_t i = 0; i < fs.size(); ++i) {
                if (fs[i].type.unpacked() == ValType::i32()) cands.push_back({s, i});
              }
            }
            if (cands.empty()) break;
            auto [s, i] = cands[c().upTo(static_cast<uint32_t>(cands.size() - 1))];
            makeValue(ValType::ref(HT::index(s), false), depth + 1);
            const ValType ft = tm().fields(s)[i].type;
            const Opcode op = !ft.isPacked() ? Opcode::StructGet
                              : c().flip()   ? Opcode::StructGetS
                                             : Opcode::StructGetU;
            emit(op, s, i);
            pop();
            push(ValType::i32());
            countRow(opcodeName(op));
            return;
          }
          case 4: {  // ref.eq of two eq values
            const ValType eq = ValType::ref(HT::abstract(HT::Eq), true);
            makeValue(eq, depth + 1);
            makeValue(eq, depth + 1);
            emit(Opcode::RefEq);
            pop();
            pop();
            push(ValType::i32());
            countRow("ref.eq");
            return;
          }
          default: break;
        }
      }
      constI32(static_cast<int32_t>(c().upTo(1) ? c().upTo(0xFFFFFFFF) : c().upTo(16)));
      countRow("i32.const");
      return;
    }
    case ValKind::I64:
      if (!leaf && c().oneIn(3)) {
        makeI32(depth + 1);
        emit(c().flip() ? Opcode::I64ExtendI32S : Opcode::I64ExtendI32U);
        pop();
        push(ValType::i64());
        countRow("i64.extend_i32");
        return;
      }
      if (!leaf && c().oneIn(3)) {
        static constexpr Opcode kOps[] = {Opcode::I64Add, Opcode::I64Sub, Opcode::I64Mul,
                                          Opcode::I64Or, Opcode::I64Rotl};
        makeValue(ValType::i64(), depth + 1);
        makeValue(ValType::i64(), depth + 1);
        emit(kOps[c().upTo(std::size(kOps) - 1)]);
        pop();
        countRow("i64.binop");
        return;
      }
      {
        const uint64_t v = c().flip()
                               ? (uint64_t{c().upTo(0xFFFFFFFF)} << 32) | c().upTo(0xFFFFFFFF)
                               : c().upTo(100);
        emit(Opcode::I64Const, static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32));
        push(ValType::i64());
        countRow("i64.const");
      }
      return;
    case ValKind::F32:
      // Values that survive every engine's NaN handling unchanged.
      emit(Opcode::F32Const, 0x3F800000u + c().upTo(0xFFFF));
      push(ValType::f32());
      return;
    case ValKind::F64:
      emit(Opcode::F64Const, c().upTo(0xFFFF), 0x3FF00000u);
      push(ValType::f64());
      return;
    default: constI32(0); return;
  }
}

void BodyGen::refFunc(HeapType ht) {
  std::vector<uint32_t> cands;
  for (uint32_t f : ctx_.callable) {
    if (ctx_.tm.isHeapSubtype(HT::index(ctx_.m.func_types[f]), ht)) cands.push_back(f);
  }
  // Every function type has a function (module_gen.cc), so cands is only
  // empty for a bottom type, which has no values.
  if (cands.empty()) {
    emit(Opcode::RefNull, ht.bits());
    emit(Opcode::RefAsNonNull);
    push(ValType::ref(ht, false));
    return;
  }
  const uint32_t f = cands[c().upTo(static_cast<uint32_t>(cands.size() - 1))];
  emit(Opcode::RefFunc, f);
  push(ValType::ref(HT::index(ctx_.m.func_types[f]), false));
  countRow("ref.func");
}

void BodyGen::newStruct(uint32_t type, uint32_t depth) {
  const auto& fs = tm().fields(type);
  const bool defaultable =
      std::all_of(fs.begin(), fs.end(), [](const FieldType& f) { return isDefaultable(f.type); });
  if (defaultable && c().oneIn(4)) {
    emit(Opcode::StructNewDefault, type);
    countRow("struct.new_default");
  } else {
    for (const FieldType& f : fs) makeValue(f.type.unpacked(), depth + 1);
    for (size_t i = 0; i < fs.size(); ++i) pop();
    emit(Opcode::StructNew, type);
    countRow("struct.new");
  }
  push(ValType::ref(HT::index(type), false));
}

namespace {


}  // namespace

// array.new_elem / array.new_data in bounds of the module's segment (see
// ModuleCtx), when one fits the type: false otherwise.
bool BodyGen::segmentArray(uint32_t type) {
  const ValType elem = tm().fields(type)[0].type;
  const bool from_elem = elem.isRef() && ctx_.array_elem_seg[type] >= 0;
  const bool from_data = !elem.isRef() && ctx_.data_len > 0;
  if (!from_elem && !from_data) return false;
  const uint32_t z = storageBytes(elem);
  const uint32_t units = from_elem ? ctx_.elem_seg_len : ctx_.data_len / z;
  const uint32_t len = c().upTo(units);
  const uint32_t off = c().upTo(units - len);
  constI32(static_cast<int32_t>(from_elem ? off : off * z));
  constI32(static_cast<int32_t>(len));
  const Opcode op = from_elem ? Opcode::ArrayNewElem : Opcode::ArrayNewData;
  emit(op, type, from_elem ? static_cast<uint32_t>(ctx_.array_elem_seg[type]) : 0);
  pop();
  pop();
  push(ValType::ref(HT::index(type), false));
  countRow(opcodeName(op));
  return true;
}

uint32_t BodyGen::hugeArrayLength(uint32_t type) {
  const uint32_t z = storageBytes(tm().fields(type)[0].type);
  // Mostly just past 2^32 / z, so that a byte size computed in 32 bits
  // wraps to a few bytes (exactly 2^32 / z wraps to none); sometimes just
  // below, which only a length limit refuses. One-byte elements cannot
  // wrap: the largest lengths.
  const uint64_t wrap = (uint64_t{1} << 32) / z;
  if (z == 1) return 0xFFFFFFFFu - c().upTo(7);
  if (c().oneIn(8)) return static_cast<uint32_t>(wrap - 1 - c().upTo(7));
  return static_cast<uint32_t>(wrap + c().upTo(7));
}

void BodyGen::newArray(uint32_t type, uint32_t depth) {
  const ValType elem = tm().fields(type)[0].type;
  // One array in six from a segment where one fits: as an operand it often
  // stays on the stack while later operands allocate.
  if (c().oneIn(6) && segmentArray(type)) return;
  switch (isDefaultable(elem) ? c().upTo(2) : 1 + c().upTo(1)) {
    case 0:
      constI32(static_cast<int32_t>(c().upTo(8)));
      emit(Opcode::ArrayNewDefault, type);
      pop();
      countRow("array.new_default");
      break;
    case 1:
      makeValue(elem.unpacked(), depth + 1);
      constI32(static_cast<int32_t>(1 + c().upTo(7)));
      emit(Opcode::ArrayNew, type);
      pop();
      pop();
      countRow("array.new");
      break;
    default: {
      const uint32_t n = c().upTo(4);
      for (uint32_t i = 0; i < n; ++i) makeValue(elem.unpacked(), depth + 1);
      for (uint32_t i = 0; i < n; ++i) pop();
      emit(Opcode::ArrayNewFixed, type, n);
      countRow("array.new_fixed");
      break;
    }
  }
  push(ValType::ref(HT::index(type), false));
}

void BodyGen::makeRef(ValType t, uint32_t depth) {
  const HeapType ht = t.heapType();
  const bool leaf = depth >= ctx_.p.max_value_depth || full();
  // At the leaves a nullable reference is null unless a non-null leaf
  // exists that allocates nothing (i31, ref.func, an extern of an i31):
  // null funcrefs would make most call_refs trap.
  bool cheap_leaf = false;
  if (ht.isIndex()) {
    cheap_leaf = tm().isFunc(ht.index());
  } else {
    switch (ht.abstractKind()) {
      case HT::Any:
      case HT::Eq:
      case HT::I31:
      case HT::Func:
      case HT::Extern: cheap_leaf = true; break;
      default: break;
    }
  }
  if (t.nullable() && ((leaf && !cheap_leaf) || c().oneIn(10))) {
    emit(Opcode::RefNull, ht.bits());
    push(ValType::ref(ht, true));
    countRow("ref.null");
    return;
  }
  if (!leaf && c().oneIn(3) && tryLocalOrGlobal(t)) return;
  if (ht.isIndex()) {
    uint32_t type = ht.index();
    // A subtype's value where the supertype is asked for (a struct read
    // through its supertype's fields), except at the leaves.
    if (!leaf && c().flip()) type = c().pick(tm().subtypesOf(type));
    if (type != ht.index()) countShape("subtype-object-as-supertype");
    if (tm().isStruct(type)) {
      newStruct(type, depth);
    } else if (tm().isArray(type)) {
      newArray(type, depth);
    } else {
      refFunc(HT::index(type));
    }
    return;
  }
  switch (ht.abstractKind()) {
    case HT::Func: refFunc(ht); return;
    case HT::Extern:
      // extern.convert_any of an internal value: externs round-trip.
      makeRef(ValType::ref(HT::abstract(HT::Any), t.nullable()), depth + 1);
      emit(Opcode::ExternConvertAny);
      push(ValType::ref(HT::abstract(HT::Extern), pop().nullable()));
      countRow("extern.convert_any");
      return;
    case HT::Any:
    case HT::Eq:
      if (!leaf && !c().oneIn(3)) {
        const bool s = c().flip();
        std::span<const uint32_t> pool = s ? tm().structs() : tm().arrays();
        if (!pool.empty()) {
          makeRef(ValType::ref(HT::index(c().pick(pool)), false), depth + 1);
          return;
        }
      }
      [[fallthrough]];
    case HT::I31:
      if (ht.abstractKind() != HT::I31) countShape("i31-in-anyref/eqref");
      makeI32(depth + 1);
      emit(Opcode::RefI31);
      pop();
      push(ValType::ref(HT::abstract(HT::I31), false));
      countRow("ref.i31");
      return;
    case HT::Struct:
      newStruct(
          tm().structs()[leaf ? 0 : c().upTo(static_cast<uint32_t>(tm().structs().size() - 1))],
          depth);
      return;
    case HT::Array:
      newArray(tm().arrays()[leaf ? 0 : c().upTo(static_cast<uint32_t>(tm().arrays().size() - 1))],
               depth);
      return;
    default:
      // Bottom types: only null (a non-null bottom is never asked for).
      emit(Opcode::RefNull, ht.bits());
      push(ValType::ref(ht, true));
      if (!t.nullable()) {
        emit(Opcode::RefAsNonNull);
        push(pop().asNullable(false));
      }
      return;
  }
}

}  // namespace slabfuzz::gcgen
