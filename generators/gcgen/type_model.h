// gcgen's types: generating a module's type section, and the type-level model
// the body generator queries (struct/array/func types, subtypes of T, fields
// of T, subtyping between value types).
// Owns: which rec groups, subtype chains and field types a module gets, and
// the fixed signatures of the fuzzing-support imports and the entry
// functions. Does not own: canonicalisation or subtyping rules, which it
// takes from runtime/types.h so that the generator and the validator agree.
// Contract: every generated type is constructible by makeValue: a
// non-nullable reference in a type names only an earlier type or an abstract
// type with a leaf value (any, eq, i31, func, extern), so building a value
// never needs itself.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "generators/gcgen/choices.h"
#include "generators/gcgen/gcgen.h"
#include "runtime/module.h"
#include "runtime/types.h"

namespace slabfuzz::gcgen {

// The fixed types at the start of every module, one singleton rec group each
// (so that they are canonically the host functions' types).
enum FixedType : uint32_t {
  kTypeLogI32,
  kTypeLogI64,
  kTypeLogF32,
  kTypeLogF64,
  kTypeLogAnyref,
  kTypeLogFuncref,
  kTypeLogExternref,
  kTypeVoid,     // the `gc` import: [] -> []
  kTypeCallRef,  // the `call-ref` import: [funcref, i32] -> []
  kTypeCallExport,       // `call-export`: [i32, i32] -> []
  kTypeCallExportCatch,  // `call-export-catch`: [i32] -> [i32]
  kTypeTableGet,         // `table-get`: [i32] -> [funcref]
  kTypeTableSet,         // `table-set`: [i32, funcref] -> []
  kTypeEntry,    // exported entry functions: [] -> [i32]
  kFirstRandomType,
};

// Appends the fixed types, random rec groups, sometimes a twin (a random
// struct or array type copied into a rec group of another shape: see
// TypeModel::twins) and, when the random ones lack them, fallback types (a mutable array, a struct holding a typed funcref,
// a function type with a reference parameter for typed blocks and loops).
void generateTypes(Choices& c, const GenParams& params, Module& m);

// Queries on a finished type section. Holds a TypeStore of its own; the
// module must outlive the model and keep its types unchanged.
class TypeModel {
 public:
  explicit TypeModel(const Module& m);
  bool ok() const { return ok_; }

  const SubType& def(uint32_t t) const { return m_.types[t]; }
  const std::vector<FieldType>& fields(uint32_t t) const { return m_.types[t].composite.fields; }
  const FuncType& sig(uint32_t t) const { return m_.types[t].composite.func; }
  bool isStruct(uint32_t t) const { return kindOf(t) == CompositeKind::Struct; }
  bool isArray(uint32_t t) const { return kindOf(t) == CompositeKind::Array; }
  bool isFunc(uint32_t t) const { return kindOf(t) == CompositeKind::Func; }

  // Random and fallback types of each kind (fixed types excluded).
  std::span<const uint32_t> structs() const { return structs_; }
  std::span<const uint32_t> arrays() const { return arrays_; }
  std::span<const uint32_t> funcs() const { return funcs_; }
  // Declared subtypes of t, t included (transitively), in index order.
  std::span<const uint32_t> subtypesOf(uint32_t t) const { return subs_[t]; }
  // Struct types with a field holding a typed function reference.
  std::span<const uint32_t> boxes() const { return boxes_; }
  // Pairs of struct or array types with the same fields (types and
  // mutability) that are not subtypes of each other: the same structure in
  // different rec groups (generateTypes adds one pair in some modules).
  std::span<const std::pair<uint32_t, uint32_t>> twins() const { return twins_; }

  bool isSubtype(ValType a, ValType b) const { return types_.isSubtype(a, b); }
  bool isHeapSubtype(HeapType a, HeapType b) const { return types_.isHeapSubtype(a, b); }
  // any, func or extern.
  HeapType top(HeapType ht) const;
  // none, nofunc or noextern.
  HeapType bottom(HeapType ht) const;

 private:
  CompositeKind kindOf(uint32_t t) const { return m_.types[t].composite.kind; }

  const Module& m_;
  std::unique_ptr<TypeStore> store_;
  ModuleTypes types_;
  bool ok_ = false;
  std::vector<uint32_t> structs_, arrays_, funcs_, boxes_;
  std::vector<std::pair<uint32_t, uint32_t>> twins_;
  std::vector<std::vector<uint32_t>> subs_;
};

}  // namespace slabfuzz::gcgen
