// Canonical types and subtyping (spec 3.2 "Types", 3.3 "Matching").
// Owns: iso-recursive canonicalisation of rec groups into a `TypeStore`,
// canonical type ids, declared supertype chains, the abstract heap type
// hierarchies, value/field/composite subtyping, defaultability, and the
// validation of a module's type section. Does not own: the typing of
// instructions (validate.h) or the binary format (decode.h).
// Contract: two module type indices denote equivalent types (spec 3.3.x,
// "Type Equivalence") exactly when they map to the same `CanonTypeId`, in the
// same or in different modules sharing one `TypeStore`; `A <: B` between
// concrete types is one array lookup on A's supertype chain.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "runtime/error.h"
#include "runtime/module.h"
#include "runtime/valtype.h"

namespace slabfuzz {

// Identity of a canonical (closed, iso-recursive) defined type in a
// TypeStore. Small and dense: index into the store.
using CanonTypeId = uint32_t;
inline constexpr CanonTypeId kNoCanonType = ~CanonTypeId{0};

// Canonical ids live in the 23-bit index field of `HeapType` when a value
// type is expressed in canonical space, so a store holds at most this many.
inline constexpr uint32_t kMaxCanonTypes = HeapType::kAbstractFlag - 1;

// The heap type below every other (spec 3.3, algorithm appendix: `bot`): the
// heap type of a reference popped from a polymorphic (unreachable) stack.
// Never appears in a module, only in the validator's operand stack.
inline constexpr HeapType kBottomHeapType = HeapType::fromBits(HeapType::kAbstractFlag | 0xFF);

// A value is defaultable when it has a default (zero or null): numbers,
// packed storage types, nullable references (spec 3.2, "Defaultable types").
constexpr bool isDefaultable(ValType t) {
  return !t.isRef() || t.nullable();
}

// The top / bottom of an abstract heap type's hierarchy (any/func/extern and
// none/nofunc/noextern). Concrete types need their composite kind: use
// TypeStore::top / ModuleTypes::top.
HeapType abstractTop(HeapType::Abstract a);
HeapType abstractBottom(HeapType::Abstract a);

// Interned canonical rec groups, shareable by several modules (so that an
// import of one module can be matched against an export of another).
// Value types stored here are in *canonical space*: a concrete heap type's
// index is a CanonTypeId, never a module type index.
// Not thread-safe; one store per thread of validation.
class TypeStore {
 public:
  TypeStore() = default;
  TypeStore(const TypeStore&) = delete;
  TypeStore& operator=(const TypeStore&) = delete;

  // Interns rec group `group` of `module`, whose earlier types already have
  // canonical ids `earlier` (earlier.size() == group.first). The group must be
  // well-scoped (every type index < group.first + group.count, every declared
  // supertype earlier than its subtype, at most one each, depth within
  // kMaxSubtypingDepth): `canonicalizeTypes` checks that first.
  // Returns the id of the group's first type (ids are consecutive), or
  // kNoCanonType when the store is full.
  CanonTypeId intern(const Module& module, const RecGroup& group,
                     std::span<const CanonTypeId> earlier);

  size_t size() const { return types_.size(); }
  size_t groupCount() const { return groups_.size(); }

  CompositeKind kind(CanonTypeId id) const { return types_[id].kind; }
  bool isFinal(CanonTypeId id) const { return types_[id].final; }
  // The declared supertype, or kNoCanonType.
  CanonTypeId supertype(CanonTypeId id) const { return types_[id].super; }
  // Number of declared supertypes above `id` (0 for a root).
  uint32_t depth(CanonTypeId id) const { return types_[id].depth; }
  // Canonical rec group of `id` and its position in it.
  uint32_t groupOf(CanonTypeId id) const { return types_[id].group; }
  uint32_t indexInGroup(CanonTypeId id) const { return types_[id].index_in_group; }

  // Canonical-space structure of a type.
  std::span<const ValType> params(CanonTypeId id) const;    // Func
  std::span<const ValType> results(CanonTypeId id) const;   // Func
  std::span<const FieldType> fields(CanonTypeId id) const;  // Struct; Array: one

  // a <: b between defined types: b is on a's declared supertype chain
  // (spec 3.3.x "Defined types"). O(1).
  bool isSubtype(CanonTypeId a, CanonTypeId b) const {
    const Entry& ea = types_[a];
    uint32_t db = types_[b].depth;
    return db <= ea.depth && chains_[ea.chain + db] == b;
  }

  // Subtyping in canonical space (spec 3.3 "Matching"), bottom included.
  bool isHeapSubtype(HeapType a, HeapType b) const;
  bool isSubtype(ValType a, ValType b) const;
  // Storage types: packed types match only themselves.
  bool isStorageSubtype(ValType a, ValType b) const;
  // Field types: same mutability; immutable fields covariant, mutable ones
  // invariant (spec 3.3.x "Field types").
  bool isFieldSubtype(FieldType a, FieldType b) const;
  // Does composite type a match composite type b (spec 3.3.x "Composite
  // types")? func: contravariant params, covariant results; struct: b's
  // fields are a prefix of a's; array: field subtyping. Kinds must agree.
  bool compositeMatches(CanonTypeId a, CanonTypeId b) const;

  // The top of `ht`'s hierarchy (any, func or extern).
  HeapType top(HeapType ht) const;
  HeapType bottom(HeapType ht) const;

 private:
  struct Entry {
    CompositeKind kind = CompositeKind::Func;
    bool final = true;
    CanonTypeId super = kNoCanonType;
    uint32_t depth = 0;
    uint32_t chain = 0;  // chains_[chain + d] = ancestor at depth d
    uint32_t group = 0;
    uint32_t index_in_group = 0;
    uint32_t first = 0;    // Func: vals_[first..) params then results;
    uint32_t count = 0;    //   otherwise fields_[first, first + count)
    uint32_t nparams = 0;  // Func only
  };
  struct Group {
    CanonTypeId first;
    uint32_t count;
  };
  struct KeyHash {
    size_t operator()(const std::vector<uint32_t>& key) const noexcept;
  };

  std::vector<Entry> types_;
  std::vector<CanonTypeId> chains_;
  std::vector<ValType> vals_;
  std::vector<FieldType> fields_;
  std::vector<Group> groups_;
  // Structural key of a rec group (refs inside the group relative, refs out
  // of it canonical) -> index into groups_.
  std::unordered_map<std::vector<uint32_t>, uint32_t, KeyHash> index_;
  std::vector<uint32_t> scratch_key_;
};

// One module's view of a TypeStore: the canonical id of each of its type
// indices, and subtyping on value types in *module space* (concrete heap
// types are module type indices). Holds pointers to the module and the
// store, which must outlive it.
class ModuleTypes {
 public:
  ModuleTypes() = default;

  const Module& module() const { return *module_; }
  const TypeStore& store() const { return *store_; }
  uint32_t size() const { return static_cast<uint32_t>(canon_.size()); }
  CanonTypeId canon(uint32_t index) const { return canon_[index]; }
  std::span<const CanonTypeId> canonIds() const { return canon_; }

  // Module-space definition of a type index (< size()).
  const SubType& def(uint32_t index) const { return module_->types[index]; }
  CompositeKind kind(uint32_t index) const { return module_->types[index].composite.kind; }
  bool isFunc(uint32_t index) const { return index < size() && kind(index) == CompositeKind::Func; }
  bool isStruct(uint32_t index) const {
    return index < size() && kind(index) == CompositeKind::Struct;
  }
  bool isArray(uint32_t index) const {
    return index < size() && kind(index) == CompositeKind::Array;
  }
  const FuncType& funcType(uint32_t index) const { return module_->types[index].composite.func; }
  const std::vector<FieldType>& fields(uint32_t index) const {
    return module_->types[index].composite.fields;
  }

  // Module space -> canonical space (indices must be < size()).
  HeapType toCanon(HeapType ht) const {
    return ht.isIndex() ? HeapType::index(canon_[ht.index()]) : ht;
  }
  ValType toCanon(ValType t) const {
    return t.isRef() && t.heapType().isIndex() ? ValType::ref(toCanon(t.heapType()), t.nullable())
                                               : t;
  }

  // Subtyping on module-space types, O(1) in the common case.
  bool isHeapSubtype(HeapType a, HeapType b) const {
    return a == b || store_->isHeapSubtype(toCanon(a), toCanon(b));
  }
  bool isSubtype(ValType a, ValType b) const {
    return a == b || store_->isSubtype(toCanon(a), toCanon(b));
  }
  bool isStorageSubtype(ValType a, ValType b) const {
    return a == b || store_->isStorageSubtype(toCanon(a), toCanon(b));
  }
  // Type equivalence: same canonical type.
  bool equal(ValType a, ValType b) const { return toCanon(a) == toCanon(b); }
  HeapType top(HeapType ht) const;
  HeapType bottom(HeapType ht) const;

 private:
  friend Result<ModuleTypes> canonicalizeTypes(const Module& module, TypeStore& store);
  const Module* module_ = nullptr;
  const TypeStore* store_ = nullptr;
  std::vector<CanonTypeId> canon_;
};

// Validates `module`'s type section (spec 3.2.x "Recursive types", "Sub
// types") and interns its rec groups in `store`. Checks, per type: every
// type index in range (referring into its own group or earlier ones), at most
// one supertype, declared before the subtype, not final, of the same kind,
// structurally matched (compositeMatches), depth <= kMaxSubtypingDepth.
// Errors have the type's offset and context "type N".
[[nodiscard]] Result<ModuleTypes> canonicalizeTypes(const Module& module, TypeStore& store);

}  // namespace slabfuzz
