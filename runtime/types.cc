// Canonical types and subtyping; see types.h for the contract.
#include "runtime/types.h"

#include <fmt/format.h>

namespace slabfuzz {

// ---------------------------------------------------------------------------
// Abstract heap types (spec 3.3.x "Heap types"):
//   any ⊇ eq ⊇ {i31, struct, array} ⊇ none,  func ⊇ nofunc,  extern ⊇ noextern.
// ---------------------------------------------------------------------------

HeapType abstractTop(HeapType::Abstract a) {
  switch (a) {
    case HeapType::Any:
    case HeapType::Eq:
    case HeapType::I31:
    case HeapType::Struct:
    case HeapType::Array:
    case HeapType::None: return HeapType::abstract(HeapType::Any);
    case HeapType::Func:
    case HeapType::NoFunc: return HeapType::abstract(HeapType::Func);
    case HeapType::Extern:
    case HeapType::NoExtern: return HeapType::abstract(HeapType::Extern);
    case HeapType::Exn:
    case HeapType::NoExn: return HeapType::abstract(HeapType::Exn);
  }
  return kBottomHeapType;
}

HeapType abstractBottom(HeapType::Abstract a) {
  HeapType top = abstractTop(a);
  if (top == kBottomHeapType) return top;
  switch (top.abstractKind()) {
    case HeapType::Any: return HeapType::abstract(HeapType::None);
    case HeapType::Func: return HeapType::abstract(HeapType::NoFunc);
    case HeapType::Extern: return HeapType::abstract(HeapType::NoExtern);
    case HeapType::Exn: return HeapType::abstract(HeapType::NoExn);
    default: return kBottomHeapType;
  }
}

namespace {

// a <: b between two abstract heap types, neither of them bottom.
bool abstractSubtype(HeapType::Abstract a, HeapType::Abstract b) {
  if (a == b) return true;
  switch (a) {
    case HeapType::None:
      return b == HeapType::Any || b == HeapType::Eq || b == HeapType::I31 ||
             b == HeapType::Struct || b == HeapType::Array;
    case HeapType::I31:
    case HeapType::Struct:
    case HeapType::Array: return b == HeapType::Eq || b == HeapType::Any;
    case HeapType::Eq: return b == HeapType::Any;
    case HeapType::NoFunc: return b == HeapType::Func;
    case HeapType::NoExtern: return b == HeapType::Extern;
    case HeapType::NoExn: return b == HeapType::Exn;
    default: return false;
  }
}

// A concrete type of kind `k` <: abstract heap type b.
bool concreteBelowAbstract(CompositeKind k, HeapType::Abstract b) {
  switch (b) {
    case HeapType::Any:
    case HeapType::Eq: return k != CompositeKind::Func;
    case HeapType::Struct: return k == CompositeKind::Struct;
    case HeapType::Array: return k == CompositeKind::Array;
    case HeapType::Func: return k == CompositeKind::Func;
    default: return false;
  }
}

// Abstract heap type a <: a concrete type of kind `k`: only the bottoms.
bool abstractBelowConcrete(HeapType::Abstract a, CompositeKind k) {
  if (a == HeapType::None) return k != CompositeKind::Func;
  if (a == HeapType::NoFunc) return k == CompositeKind::Func;
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// TypeStore: interning
// ---------------------------------------------------------------------------

size_t TypeStore::KeyHash::operator()(const std::vector<uint32_t>& key) const noexcept {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over 32-bit words
  for (uint32_t w : key) {
    h ^= w;
    h *= 0x100000001b3ull;
  }
  return static_cast<size_t>(h ^ (h >> 29));
}

namespace {

// Builds the structural key of a rec group (spec 3.2.x "Recursive types",
// "closed" form): a reference to a type inside the group is recorded by its
// position in the group, a reference to an earlier type by its canonical id,
// so that two groups get equal keys iff they are iso-recursively equivalent.
class GroupKeyWriter {
 public:
  GroupKeyWriter(const RecGroup& group, std::span<const CanonTypeId> earlier,
                 std::vector<uint32_t>& out)
      : group_(group), earlier_(earlier), out_(out) {}

  void writeGroup(const Module& module) {
    out_.push_back(group_.count);
    for (uint32_t i = group_.first; i < group_.first + group_.count; ++i) {
      writeSubType(module.types[i]);
    }
  }

 private:
  enum Tag : uint32_t { kInGroup = 1, kEarlier = 2 };
  static constexpr uint32_t kMutBit = 0x40;  // unused bit of ValType's low byte

  void writeIndex(uint32_t index) {
    if (index >= group_.first) {
      out_.push_back(kInGroup << 8);
      out_.push_back(index - group_.first);
    } else {
      out_.push_back(kEarlier << 8);
      out_.push_back(earlier_[index]);
    }
  }
  // Two words per value type. Numbers and abstract references keep their
  // bits (bit 31 set for abstract refs, bits 8-30 clear for numbers), so they
  // never collide with the tagged concrete forms.
  void writeVal(ValType t, bool mut) {
    uint32_t flags = mut ? kMutBit : 0;
    if (t.isRef() && t.heapType().isIndex()) {
      uint32_t index = t.heapType().index();
      bool in_group = index >= group_.first;
      out_.push_back((t.bits() & 0xFF) | flags | ((in_group ? kInGroup : kEarlier) << 8));
      out_.push_back(in_group ? index - group_.first : earlier_[index]);
    } else {
      out_.push_back(t.bits() | flags);
      out_.push_back(0);
    }
  }
  void writeSubType(const SubType& st) {
    const CompositeType& ct = st.composite;
    bool has_super = !st.supertypes.empty();
    out_.push_back(static_cast<uint32_t>(ct.kind) | (st.final ? 4u : 0u) | (has_super ? 8u : 0u));
    if (has_super) writeIndex(st.supertypes[0]);
    if (ct.kind == CompositeKind::Func) {
      out_.push_back(static_cast<uint32_t>(ct.func.params.size()));
      out_.push_back(static_cast<uint32_t>(ct.func.results.size()));
      for (ValType t : ct.func.params) writeVal(t, false);
      for (ValType t : ct.func.results) writeVal(t, false);
    } else {
      out_.push_back(static_cast<uint32_t>(ct.fields.size()));
      for (const FieldType& f : ct.fields) writeVal(f.type, f.mut);
    }
  }

  const RecGroup& group_;
  std::span<const CanonTypeId> earlier_;
  std::vector<uint32_t>& out_;
};

}  // namespace

CanonTypeId TypeStore::intern(const Module& module, const RecGroup& group,
                              std::span<const CanonTypeId> earlier) {
  std::vector<uint32_t>& key = scratch_key_;  // reused: no allocation per lookup
  key.clear();
  GroupKeyWriter(group, earlier, key).writeGroup(module);
  auto found = index_.find(key);
  if (found != index_.end()) return groups_[found->second].first;
  if (types_.size() + group.count > kMaxCanonTypes) return kNoCanonType;

  const CanonTypeId base = static_cast<CanonTypeId>(types_.size());
  const uint32_t group_id = static_cast<uint32_t>(groups_.size());
  // Closes a module-space type over this group: in-group references become
  // the ids being assigned now, earlier ones their known ids.
  auto close = [&](ValType t) {
    if (!t.isRef() || !t.heapType().isIndex()) return t;
    uint32_t index = t.heapType().index();
    CanonTypeId id = index >= group.first ? base + (index - group.first) : earlier[index];
    return ValType::ref(HeapType::index(id), t.nullable());
  };

  for (uint32_t i = 0; i < group.count; ++i) {
    const SubType& st = module.types[group.first + i];
    Entry e;
    e.kind = st.composite.kind;
    e.final = st.final;
    e.group = group_id;
    e.index_in_group = i;
    if (!st.supertypes.empty()) {
      uint32_t s = st.supertypes[0];
      e.super = s >= group.first ? base + (s - group.first) : earlier[s];
      e.depth = types_[e.super].depth + 1;
    }
    // Chain: the super's chain followed by this type.
    e.chain = static_cast<uint32_t>(chains_.size());
    if (e.super != kNoCanonType) {
      const Entry& sup = types_[e.super];
      for (uint32_t d = 0; d <= sup.depth; ++d) chains_.push_back(chains_[sup.chain + d]);
    }
    chains_.push_back(base + i);
    if (e.kind == CompositeKind::Func) {
      e.first = static_cast<uint32_t>(vals_.size());
      e.nparams = static_cast<uint32_t>(st.composite.func.params.size());
      e.count = e.nparams + static_cast<uint32_t>(st.composite.func.results.size());
      for (ValType t : st.composite.func.params) vals_.push_back(close(t));
      for (ValType t : st.composite.func.results) vals_.push_back(close(t));
    } else {
      e.first = static_cast<uint32_t>(fields_.size());
      e.count = static_cast<uint32_t>(st.composite.fields.size());
      for (const FieldType& f : st.composite.fields) fields_.push_back({close(f.type), f.mut});
    }
    types_.push_back(e);
  }
  groups_.push_back({base, group.count});
  index_.emplace(key, group_id);
  return base;
}

std::span<const ValType> TypeStore::params(CanonTypeId id) const {
  const Entry& e = types_[id];
  return {vals_.data() + e.first, e.nparams};
}

std::span<const ValType> TypeStore::results(CanonTypeId id) const {
  const Entry& e = types_[id];
  return {vals_.data() + e.first + e.nparams, e.count - e.nparams};
}

std::span<const FieldType> TypeStore::fields(CanonTypeId id) const {
  const Entry& e = types_[id];
  if (e.kind == CompositeKind::Func) return {};
  return {fields_.data() + e.first, e.count};
}

// ---------------------------------------------------------------------------
// TypeStore: matching (spec 3.3)
// ---------------------------------------------------------------------------

bool TypeStore::isHeapSubtype(HeapType a, HeapType b) const {
  if (a == b || a == kBottomHeapType) return true;
  if (b == kBottomHeapType) return false;
  if (a.isIndex()) {
    if (b.isIndex()) return isSubtype(a.index(), b.index());
    return concreteBelowAbstract(kind(a.index()), b.abstractKind());
  }
  if (b.isIndex()) return abstractBelowConcrete(a.abstractKind(), kind(b.index()));
  return abstractSubtype(a.abstractKind(), b.abstractKind());
}

bool TypeStore::isSubtype(ValType a, ValType b) const {
  if (a == b) return true;
  if (!a.isRef() || !b.isRef()) return false;  // numbers match only themselves
  if (a.nullable() && !b.nullable()) return false;
  return isHeapSubtype(a.heapType(), b.heapType());
}

bool TypeStore::isStorageSubtype(ValType a, ValType b) const {
  if (a.isPacked() || b.isPacked()) return a == b;
  return isSubtype(a, b);
}

bool TypeStore::isFieldSubtype(FieldType a, FieldType b) const {
  if (a.mut != b.mut) return false;
  // Mutable fields are invariant: a <: b and b <: a, i.e. the same
  // canonical type.
  if (a.mut) return a.type == b.type;
  return isStorageSubtype(a.type, b.type);
}

bool TypeStore::compositeMatches(CanonTypeId a, CanonTypeId b) const {
  if (kind(a) != kind(b)) return false;
  if (kind(a) == CompositeKind::Func) {
    auto pa = params(a), pb = params(b), ra = results(a), rb = results(b);
    if (pa.size() != pb.size() || ra.size() != rb.size()) return false;
    for (size_t i = 0; i < pa.size(); ++i) {
      if (!isSubtype(pb[i], pa[i])) return false;  // contravariant
    }
    for (size_t i = 0; i < ra.size(); ++i) {
      if (!isSubtype(ra[i], rb[i])) return false;  // covariant
    }
    return true;
  }
  auto fa = fields(a), fb = fields(b);
  if (kind(a) == CompositeKind::Array && (fa.size() != 1 || fb.size() != 1)) return false;
  if (fa.size() < fb.size()) return false;  // struct: width subtyping
  for (size_t i = 0; i < fb.size(); ++i) {
    if (!isFieldSubtype(fa[i], fb[i])) return false;
  }
  return true;
}

HeapType TypeStore::top(HeapType ht) const {
  if (ht.isIndex()) {
    return HeapType::abstract(kind(ht.index()) == CompositeKind::Func ? HeapType::Func
                                                                      : HeapType::Any);
  }
  if (ht == kBottomHeapType) return ht;
  return abstractTop(ht.abstractKind());
}

HeapType TypeStore::bottom(HeapType ht) const {
  HeapType t = top(ht);
  return t == kBottomHeapType ? t : abstractBottom(t.abstractKind());
}

HeapType ModuleTypes::top(HeapType ht) const {
  if (ht.isIndex()) {
    return HeapType::abstract(kind(ht.index()) == CompositeKind::Func ? HeapType::Func
                                                                      : HeapType::Any);
  }
  if (ht == kBottomHeapType) return ht;
  return abstractTop(ht.abstractKind());
}

HeapType ModuleTypes::bottom(HeapType ht) const {
  HeapType t = top(ht);
  return t == kBottomHeapType ? t : abstractBottom(t.abstractKind());
}

// ---------------------------------------------------------------------------
// Validation of the type section (spec 3.2.x "Recursive types", "Sub types")
// ---------------------------------------------------------------------------

namespace {

class TypeSectionChecker {
 public:
  TypeSectionChecker(const Module& module, TypeStore& store, std::vector<CanonTypeId>& canon)
      : m_(module), store_(store), canon_(canon) {
    depth_.resize(module.types.size(), 0);
  }

  Status run() {
    uint32_t next = 0;
    for (const RecGroup& g : m_.rec_groups) {
      if (g.first != next || g.count > m_.types.size() - g.first) {
        uint32_t at = g.first < m_.types.size() ? m_.types[g.first].offset : 0;
        return fail(ErrorCode::InvalidRecGroup, at, g.first,
                    "rec groups do not tile the type index space");
      }
      next = g.first + g.count;
      if (Status s = checkGroup(g); !s.ok()) return s;
    }
    if (next != m_.types.size()) {
      return fail(ErrorCode::InvalidRecGroup, m_.types.empty() ? 0 : m_.types[next].offset, next,
                  "type is in no rec group");
    }
    return {};
  }

 private:
  static Error withContext(Error e, uint32_t index) {
    e.context = fmt::format("type {}", index);
    return e;
  }
  Status fail(ErrorCode code, uint32_t offset, uint32_t index, std::string message) {
    return withContext(makeError(code, offset, std::move(message)), index);
  }

  Status checkGroup(const RecGroup& g) {
    const uint32_t end = g.first + g.count;
    for (uint32_t i = g.first; i < end; ++i) {
      if (Status s = checkScope(i, end); !s.ok()) return s;
    }
    CanonTypeId base = store_.intern(m_, g, canon_);
    if (base == kNoCanonType) {
      return fail(ErrorCode::InvalidOther, m_.types[g.first].offset, g.first,
                  "too many distinct types in the type store");
    }
    for (uint32_t i = 0; i < g.count; ++i) canon_.push_back(base + i);
    for (uint32_t i = g.first; i < end; ++i) {
      if (Status s = checkSuper(i); !s.ok()) return s;
    }
    return {};
  }

  // A value type used in type i may name any type of its own group or an
  // earlier one (index < end).
  Status checkVal(uint32_t i, uint32_t end, ValType t, bool field) {
    const SubType& st = m_.types[i];
    if (!t.isNum() && !t.isRef() && !t.isPacked()) {
      return fail(ErrorCode::UnsupportedFeature, st.offset, i,
                  fmt::format("value type {} is not supported", t.toString()));
    }
    if (t.isPacked() && !field) {
      return fail(ErrorCode::InvalidOther, st.offset, i,
                  fmt::format("packed type {} outside a field", t.toString()));
    }
    if (t.isRef() && t.heapType().isIndex() && t.heapType().index() >= end) {
      return fail(ErrorCode::UnknownIndex, st.offset, i,
                  fmt::format("unknown type {}", t.heapType().index()));
    }
    return {};
  }

  Status checkScope(uint32_t i, uint32_t end) {
    const SubType& st = m_.types[i];
    const CompositeType& ct = st.composite;
    if (ct.kind == CompositeKind::Func) {
      for (ValType t : ct.func.params) {
        if (Status s = checkVal(i, end, t, false); !s.ok()) return s;
      }
      for (ValType t : ct.func.results) {
        if (Status s = checkVal(i, end, t, false); !s.ok()) return s;
      }
    } else {
      if (ct.kind == CompositeKind::Array && ct.fields.size() != 1) {
        return fail(ErrorCode::InvalidOther, st.offset, i, "array type must have one field");
      }
      for (const FieldType& f : ct.fields) {
        if (Status s = checkVal(i, end, f.type, true); !s.ok()) return s;
      }
    }
    if (st.supertypes.empty()) return {};
    if (st.supertypes.size() > 1) {
      return fail(ErrorCode::InvalidSubtype, st.offset, i,
                  fmt::format("type {} has more than one supertype", i));
    }
    uint32_t s = st.supertypes[0];
    if (s >= m_.types.size()) {
      return fail(ErrorCode::UnknownIndex, st.offset, i, fmt::format("unknown type {}", s));
    }
    if (s >= i) {
      return fail(ErrorCode::InvalidSubtype, st.offset, i,
                  fmt::format("forward use of type {} in sub type definition", s));
    }
    depth_[i] = depth_[s] + 1;
    if (depth_[i] > kMaxSubtypingDepth) {
      return fail(ErrorCode::InvalidSubtype, st.offset, i,
                  fmt::format("subtyping depth of type {} exceeds {}", i, kMaxSubtypingDepth));
    }
    return {};
  }

  // Spec 3.2.x "Sub types": the supertype is not final and the subtype's
  // composite type matches it.
  Status checkSuper(uint32_t i) {
    const SubType& st = m_.types[i];
    if (st.supertypes.empty()) return {};
    uint32_t s = st.supertypes[0];
    if (store_.isFinal(canon_[s])) {
      return fail(
          ErrorCode::InvalidSubtype, st.offset, i,
          fmt::format("sub type {} does not match super type {}: super type is final", i, s));
    }
    if (!store_.compositeMatches(canon_[i], canon_[s])) {
      return fail(ErrorCode::InvalidSubtype, st.offset, i,
                  fmt::format("sub type {} does not match super type {}", i, s));
    }
    return {};
  }

  const Module& m_;
  TypeStore& store_;
  std::vector<CanonTypeId>& canon_;
  std::vector<uint32_t> depth_;
};

}  // namespace

Result<ModuleTypes> canonicalizeTypes(const Module& module, TypeStore& store) {
  ModuleTypes out;
  out.module_ = &module;
  out.store_ = &store;
  out.canon_.reserve(module.types.size());
  TypeSectionChecker checker(module, store, out.canon_);
  if (Status s = checker.run(); !s.ok()) return s.takeError();
  return out;
}

}  // namespace slabfuzz
