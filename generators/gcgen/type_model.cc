// Type section generation and the type model (see type_model.h).
#include "generators/gcgen/type_model.h"

#include <algorithm>

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

ValType absRef(HT::Abstract a, bool nullable) {
  return ValType::ref(HT::abstract(a), nullable);
}

void addSingleton(Module& m, CompositeType ct) {
  SubType st;
  st.final = true;
  st.composite = std::move(ct);
  st.rec_group = static_cast<uint32_t>(m.rec_groups.size());
  m.rec_groups.push_back({static_cast<uint32_t>(m.types.size()), 1});
  m.types.push_back(std::move(st));
}

CompositeType funcOf(std::vector<ValType> params, std::vector<ValType> results) {
  CompositeType ct;
  ct.kind = CompositeKind::Func;
  ct.func.params = std::move(params);
  ct.func.results = std::move(results);
  return ct;
}

// Draws the types of one rec group [first, first + count).
class GroupGen {
 public:
  GroupGen(Choices& c, const GenParams& p, Module& m, uint32_t first, uint32_t count)
      : c_(c), p_(p), m_(m), first_(first), end_(first + count) {}

  // A reference type that a value of type `self` may hold: concrete types
  // later than `self` (itself included) only nullable (see type_model.h).
  ValType refType(uint32_t self) {
    static constexpr HT::Abstract kAbstract[] = {HT::Any,    HT::Eq,      HT::I31,    HT::Struct,
                                                 HT::Array,  HT::Func,    HT::Extern, HT::None,
                                                 HT::NoFunc, HT::NoExtern};
    bool nullable = !c_.oneIn(3);
    if (c_.oneIn(3)) {
      HT::Abstract a = kAbstract[c_.upTo(std::size(kAbstract) - 1)];
      // Leaf-less abstract types are only held nullable.
      if (a == HT::Struct || a == HT::Array || a == HT::None || a == HT::NoFunc ||
          a == HT::NoExtern) {
        nullable = true;
      }
      return absRef(a, nullable);
    }
    uint32_t t = kFirstRandomType + c_.upTo(end_ - 1 - kFirstRandomType);
    if (t >= self) nullable = true;
    return ValType::ref(HT::index(t), nullable);
  }

  ValType storageType(uint32_t self) {
    static constexpr uint32_t kWeights[] = {2, 2, 4, 2, 1, 1, 5};
    switch (c_.weighted(kWeights)) {
      case 0: return ValType::i32();
      case 1: return ValType::i8();
      case 2: return refType(self);
      case 3: return ValType::i16();
      case 4: return ValType::f32();
      case 5: return ValType::f64();
      default: return ValType::i64();
    }
  }
  ValType valueType(uint32_t self) {
    ValType t = storageType(self);
    return t.isPacked() ? ValType::i32() : t;
  }

  void run() {
    for (uint32_t t = first_; t < end_; ++t) m_.types.push_back(make(t));
  }

 private:
  // Is earlier type s declared a subtype of index h (h itself included)?
  bool declaredSub(uint32_t s, uint32_t h) const {
    for (;;) {
      if (s == h) return true;
      if (m_.types[s].supertypes.empty()) return false;
      s = m_.types[s].supertypes[0];
    }
  }
  // A subtype of reference type v for a type being defined at index t:
  // concrete candidates are earlier random types only (so non-nullable
  // ones stay constructible, see type_model.h), abstract ones keep the
  // leaf-less ones nullable.
  ValType narrow(ValType v, uint32_t t) {
    const HT h = v.heapType();
    std::vector<HT> cands;
    auto earlierOfKind = [&](CompositeKind k) {
      for (uint32_t s = kFirstRandomType; s < t; ++s) {
        if (m_.types[s].composite.kind == k) cands.push_back(HT::index(s));
      }
    };
    if (h.isIndex()) {
      for (uint32_t s = kFirstRandomType; s < t; ++s) {
        if (declaredSub(s, h.index())) cands.push_back(HT::index(s));
      }
    } else {
      switch (h.abstractKind()) {
        case HT::Any: cands.push_back(HT::abstract(HT::Eq)); [[fallthrough]];
        case HT::Eq:
          cands.push_back(HT::abstract(HT::I31));
          earlierOfKind(CompositeKind::Struct);
          earlierOfKind(CompositeKind::Array);
          break;
        case HT::Struct: earlierOfKind(CompositeKind::Struct); break;
        case HT::Array: earlierOfKind(CompositeKind::Array); break;
        case HT::Func: earlierOfKind(CompositeKind::Func); break;
        default: break;
      }
    }
    if (cands.empty()) {
      // Only the nullability can narrow: to non-null where values exist
      // without this type (an earlier type, or an abstract one with leaves).
      const bool leaf = h.isIndex() ? h.index() < t
                                    : h.abstractKind() == HT::Any || h.abstractKind() == HT::Eq ||
                                          h.abstractKind() == HT::I31 ||
                                          h.abstractKind() == HT::Func ||
                                          h.abstractKind() == HT::Extern;
      return leaf ? v.asNullable(false) : v;
    }
    const HT n = cands[c_.upTo(static_cast<uint32_t>(cands.size() - 1))];
    // Non-null only where the old type was or the new one has leaf values.
    const bool leafless =
        n.isAbstract() && (n.abstractKind() == HT::Struct || n.abstractKind() == HT::Array);
    const bool nullable = v.nullable() && (leafless || !c_.oneIn(3));
    return ValType::ref(n, nullable);
  }
  // A supertype of reference type v (in a type defined at index t):
  // nullable, or its declared supertype, or an abstract one above it. Types
  // from t on are not defined yet: those only become nullable.
  ValType widen(ValType v, uint32_t t) {
    const HT h = v.heapType();
    if (c_.flip() || (h.isIndex() && h.index() >= t)) return v.asNullable(true);
    if (h.isIndex()) {
      const SubType& d = m_.types[h.index()];
      if (!d.supertypes.empty() && c_.flip()) return ValType::ref(HT::index(d.supertypes[0]), true);
      switch (d.composite.kind) {
        case CompositeKind::Func: return ValType::ref(HT::abstract(HT::Func), true);
        default: return ValType::ref(HT::abstract(c_.flip() ? HT::Eq : HT::Any), true);
      }
    }
    switch (h.abstractKind()) {
      case HT::I31:
      case HT::Struct:
      case HT::Array: return ValType::ref(HT::abstract(c_.flip() ? HT::Eq : HT::Any), true);
      case HT::Eq: return ValType::ref(HT::abstract(HT::Any), true);
      case HT::None: return ValType::ref(HT::abstract(HT::Any), true);
      case HT::NoFunc: return ValType::ref(HT::abstract(HT::Func), true);
      case HT::NoExtern: return ValType::ref(HT::abstract(HT::Extern), true);
      default: return v.asNullable(true);
    }
  }

  SubType make(uint32_t t) {
    SubType st;
    st.rec_group = static_cast<uint32_t>(m_.rec_groups.size());
    st.offset = 0;
    static constexpr uint32_t kKindWeights[] = {5, 3, 2};
    size_t kind = c_.weighted(kKindWeights);
    const CompositeKind want = kind == 0   ? CompositeKind::Struct
                               : kind == 1 ? CompositeKind::Array
                                           : CompositeKind::Func;
    // A supertype: an earlier non-final type of the same kind.
    std::vector<uint32_t> supers;
    for (uint32_t s = kFirstRandomType; s < t; ++s) {
      if (!m_.types[s].final && m_.types[s].composite.kind == want) supers.push_back(s);
    }
    const SubType* super = nullptr;
    // Arrays whose immutable element is a reference can have subtypes that
    // narrow it: such supertypes are preferred half the time.
    std::vector<uint32_t> narrowable;
    for (uint32_t s : supers) {
      const auto& fs = m_.types[s].composite.fields;
      if (want == CompositeKind::Array && !fs[0].mut && fs[0].type.isRef()) narrowable.push_back(s);
    }
    if (!narrowable.empty() && c_.flip()) supers = narrowable;
    if (!supers.empty() && !c_.oneIn(3)) {
      uint32_t s = supers[c_.upTo(static_cast<uint32_t>(supers.size() - 1))];
      st.supertypes.push_back(s);
      super = &m_.types[s];
    }
    st.final = c_.oneIn(4);
    st.composite.kind = want;
    switch (want) {
      case CompositeKind::Struct: {
        // A subtype repeats its supertype's fields (width subtyping) and adds some.
        if (super) {
          st.composite.fields = super->composite.fields;
          // Immutable reference fields may narrow (covariant fields).
          for (FieldType& f : st.composite.fields) {
            if (!f.mut && f.type.isRef() && c_.oneIn(3)) f.type = narrow(f.type, t);
          }
        }
        uint32_t extra = c_.upTo(p_.max_struct_fields);
        for (uint32_t i = 0; i < extra && st.composite.fields.size() < p_.max_struct_fields; ++i) {
          st.composite.fields.push_back({storageType(t), !c_.oneIn(3)});
        }
        break;
      }
      case CompositeKind::Array:
        if (super) {
          st.composite.fields = super->composite.fields;
          // An immutable reference element may narrow (array subtype
          // chains whose element types get more precise).
          FieldType& f = st.composite.fields[0];
          if (!f.mut && f.type.isRef() && !c_.oneIn(3)) f.type = narrow(f.type, t);
        } else {
          const ValType e = storageType(t);
          // Reference elements are immutable more often (covariant arrays).
          st.composite.fields.push_back({e, !c_.oneIn(e.isRef() ? 2 : 4)});
        }
        break;
      case CompositeKind::Func:
        if (super) {
          // Parameters may widen, results narrow.
          st.composite.func = super->composite.func;
          for (ValType& v : st.composite.func.params) {
            if (v.isRef() && c_.oneIn(3)) v = widen(v, t);
          }
          for (ValType& v : st.composite.func.results) {
            if (v.isRef() && c_.oneIn(3)) v = narrow(v, t);
          }
        } else {
          uint32_t np = c_.upTo(p_.max_params), nr = c_.upTo(p_.max_results);
          for (uint32_t i = 0; i < np; ++i) st.composite.func.params.push_back(valueType(t));
          for (uint32_t i = 0; i < nr; ++i) st.composite.func.results.push_back(valueType(t));
        }
        break;
    }
    return st;
  }

  Choices& c_;
  const GenParams& p_;
  Module& m_;
  uint32_t first_, end_;
};

// WAMR 3292: a copy of a random struct or array type (its fields,
// finality and supertype) in a rec group that differs from the original's:
// a group of two with a one-field filler struct before or after it, or,
// when the original shares its group, a group of its own. The two types
// have one structure and are still distinct (iso-recursive types compare
// whole rec groups), so casts between them fail.
void addTwin(Choices& c, Module& m) {
  std::vector<uint32_t> cands;
  for (uint32_t t = kFirstRandomType; t < m.types.size(); ++t) {
    if (m.types[t].composite.kind != CompositeKind::Func) cands.push_back(t);
  }
  if (cands.empty()) return;
  const uint32_t s = cands[c.upTo(static_cast<uint32_t>(cands.size() - 1))];
  SubType twin = m.types[s];
  const uint32_t first = static_cast<uint32_t>(m.types.size());
  const uint32_t group_of_s = m.types[s].rec_group;
  const bool shared = group_of_s < m.rec_groups.size() && m.rec_groups[group_of_s].count > 1;
  if (shared && c.flip()) {
    m.types.push_back(std::move(twin));
    m.rec_groups.push_back({first, 1});
    return;
  }
  SubType filler;
  filler.final = true;
  filler.composite.kind = CompositeKind::Struct;
  static constexpr ValType (*kFillers[])() = {ValType::i32, ValType::i64, ValType::f32};
  filler.composite.fields.push_back({kFillers[c.upTo(2)](), c.flip()});
  if (c.flip()) {
    m.types.push_back(std::move(twin));
    m.types.push_back(std::move(filler));
  } else {
    m.types.push_back(std::move(filler));
    m.types.push_back(std::move(twin));
  }
  m.rec_groups.push_back({first, 2});
}

}  // namespace

void generateTypes(Choices& c, const GenParams& params, Module& m) {
  addSingleton(m, funcOf({ValType::i32()}, {}));
  addSingleton(m, funcOf({ValType::i64()}, {}));
  addSingleton(m, funcOf({ValType::f32()}, {}));
  addSingleton(m, funcOf({ValType::f64()}, {}));
  addSingleton(m, funcOf({absRef(HT::Any, true)}, {}));
  addSingleton(m, funcOf({absRef(HT::Func, true)}, {}));
  addSingleton(m, funcOf({absRef(HT::Extern, true)}, {}));
  addSingleton(m, funcOf({}, {}));
  addSingleton(m, funcOf({absRef(HT::Func, true), ValType::i32()}, {}));
  addSingleton(m, funcOf({ValType::i32(), ValType::i32()}, {}));
  addSingleton(m, funcOf({ValType::i32()}, {ValType::i32()}));
  addSingleton(m, funcOf({ValType::i32()}, {absRef(HT::Func, true)}));
  addSingleton(m, funcOf({ValType::i32(), absRef(HT::Func, true)}, {}));
  addSingleton(m, funcOf({}, {ValType::i32()}));

  const uint32_t groups = c.upTo(params.max_rec_groups);
  for (uint32_t g = 0; g < groups; ++g) {
    const uint32_t first = static_cast<uint32_t>(m.types.size());
    const uint32_t count = c.inRange(1, params.max_rec_group_size);
    GroupGen(c, params, m, first, count).run();
    m.rec_groups.push_back({first, count});
  }
  if (params.twin_one_in != 0 && c.oneIn(params.twin_one_in)) addTwin(c, m);

  // Fallbacks so that the templates always have what they need: an array
  // with a mutable element, and a struct whose field holds a typed funcref.
  bool has_mut_array = false, has_box = false;
  for (uint32_t t = kFirstRandomType; t < m.types.size(); ++t) {
    const CompositeType& ct = m.types[t].composite;
    if (ct.kind == CompositeKind::Array && ct.fields[0].mut) has_mut_array = true;
    if (ct.kind != CompositeKind::Struct) continue;
    for (const FieldType& f : ct.fields) {
      if (f.type.isRef() && f.type.heapType().isIndex() &&
          m.types[f.type.heapType().index()].composite.kind == CompositeKind::Func) {
        has_box = true;
      }
    }
  }
  if (!has_mut_array) {
    CompositeType ct;
    ct.kind = CompositeKind::Array;
    ct.fields.push_back({ValType::i32(), true});
    addSingleton(m, std::move(ct));
    m.types.back().final = false;
  }
  if (!has_box) {
    const uint32_t first = static_cast<uint32_t>(m.types.size());
    const uint32_t group = static_cast<uint32_t>(m.rec_groups.size());
    SubType step;
    step.final = false;
    step.rec_group = group;
    step.composite = funcOf({ValType::i32()}, {ValType::i32()});
    SubType box;
    box.final = false;
    box.rec_group = group;
    box.composite.kind = CompositeKind::Struct;
    box.composite.fields.push_back({ValType::ref(HT::index(first), false), false});
    box.composite.fields.push_back({ValType::i32(), true});
    m.types.push_back(std::move(step));
    m.types.push_back(std::move(box));
    m.rec_groups.push_back({first, 2});
  }
  // A function type with a reference parameter and result (typed blocks
  // and loops carry references on the operand stack through it): [(ref
  // $a) i32] -> [(ref null $a)] for the first mutable array $a.
  bool has_ref_param = false;
  uint32_t first_mut_array = 0;
  for (uint32_t t = static_cast<uint32_t>(m.types.size()); t-- > kFirstRandomType;) {
    const CompositeType& ct = m.types[t].composite;
    if (ct.kind == CompositeKind::Array && ct.fields[0].mut) first_mut_array = t;
    if (ct.kind != CompositeKind::Func) continue;
    for (ValType v : ct.func.params) has_ref_param = has_ref_param || v.isRef();
  }
  if (!has_ref_param) {
    addSingleton(m, funcOf({ValType::ref(HT::index(first_mut_array), false), ValType::i32()},
                           {ValType::ref(HT::index(first_mut_array), true)}));
  }
  // Offsets are for diagnostics only; positions keep them distinct.
  for (uint32_t t = 0; t < m.types.size(); ++t) {
    m.types[t].offset = t;
    uint32_t g = m.types[t].rec_group;
    (void)g;
  }
  for (uint32_t g = 0; g < m.rec_groups.size(); ++g) {
    for (uint32_t i = 0; i < m.rec_groups[g].count; ++i) {
      m.types[m.rec_groups[g].first + i].rec_group = g;
    }
  }
}

TypeModel::TypeModel(const Module& m) : m_(m), store_(std::make_unique<TypeStore>()) {
  auto r = canonicalizeTypes(m, *store_);
  if (!r.ok()) return;
  types_ = std::move(r).value();
  ok_ = true;
  const uint32_t n = static_cast<uint32_t>(m.types.size());
  subs_.resize(n);
  for (uint32_t t = 0; t < n; ++t) {
    // Declared chains: walk up from t, adding t to each ancestor's list.
    for (uint32_t s = t;;) {
      subs_[s].push_back(t);
      if (m.types[s].supertypes.empty()) break;
      s = m.types[s].supertypes[0];
    }
  }
  for (uint32_t t = kFirstRandomType; t < n; ++t) {
    switch (kindOf(t)) {
      case CompositeKind::Struct: {
        structs_.push_back(t);
        for (const FieldType& f : fields(t)) {
          if (f.type.isRef() && f.type.heapType().isIndex() && isFunc(f.type.heapType().index())) {
            boxes_.push_back(t);
            break;
          }
        }
        break;
      }
      case CompositeKind::Array: arrays_.push_back(t); break;
      case CompositeKind::Func: funcs_.push_back(t); break;
    }
  }
  // Twins: one structure, unrelated types (different rec groups).
  auto sameFields = [&](uint32_t a, uint32_t b) {
    const auto& fa = fields(a);
    const auto& fb = fields(b);
    if (fa.size() != fb.size()) return false;
    for (size_t i = 0; i < fa.size(); ++i) {
      if (fa[i].type != fb[i].type || fa[i].mut != fb[i].mut) return false;
    }
    return true;
  };
  for (const auto* kind : {&structs_, &arrays_}) {
    for (size_t i = 0; i < kind->size(); ++i) {
      for (size_t j = i + 1; j < kind->size(); ++j) {
        const uint32_t a = (*kind)[i], b = (*kind)[j];
        if (sameFields(a, b) && !isHeapSubtype(HT::index(a), HT::index(b)) &&
            !isHeapSubtype(HT::index(b), HT::index(a))) {
          twins_.push_back({a, b});
        }
      }
    }
  }
}

HeapType TypeModel::top(HeapType ht) const {
  if (ht.isIndex()) return HT::abstract(isFunc(ht.index()) ? HT::Func : HT::Any);
  switch (ht.abstractKind()) {
    case HT::Func:
    case HT::NoFunc: return HT::abstract(HT::Func);
    case HT::Extern:
    case HT::NoExtern: return HT::abstract(HT::Extern);
    default: return HT::abstract(HT::Any);
  }
}

HeapType TypeModel::bottom(HeapType ht) const {
  HeapType t = top(ht);
  if (t == HT::abstract(HT::Func)) return HT::abstract(HT::NoFunc);
  if (t == HT::abstract(HT::Extern)) return HT::abstract(HT::NoExtern);
  return HT::abstract(HT::None);
}

}  // namespace slabfuzz::gcgen
