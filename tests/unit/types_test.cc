// Unit tests for runtime/types.h: iso-recursive canonicalisation, subtyping
// (abstract hierarchies, declared chains, nullability, fields), and the
// validation of type sections. Modules are written as bytes and decoded.
#include "runtime/types.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <optional>

#include "runtime/decode.h"
#include "tests/support/wasm_bytes.h"

namespace slabfuzz {
namespace {

using test::Bytes;
using test::funcT;
using test::vec;

// --- encoders for the type section (spec 5.3.x) ----------------------------

Bytes num(uint8_t code) {
  return Bytes{code};
}
Bytes i32() {
  return num(kCodeI32);
}
Bytes i64() {
  return num(kCodeI64);
}
Bytes i8() {
  return num(kCodeI8);
}
Bytes refIdx(uint32_t index, bool nullable) {
  Bytes b;
  b.u8(nullable ? kCodeRefNull : kCodeRef).s64(index);
  return b;
}
Bytes refAbs(HeapType::Abstract a, bool nullable) {
  return Bytes{nullable ? kCodeRefNull : kCodeRef, static_cast<uint8_t>(a)};
}

Bytes field(const Bytes& storage, bool mut) {
  Bytes b;
  b.raw(storage).u8(mut ? 1 : 0);
  return b;
}
Bytes structT(std::initializer_list<Bytes> fields) {
  Bytes b{kCodeStruct};
  return b.raw(vec(fields));
}
Bytes arrayT(const Bytes& f) {
  Bytes b{kCodeArray};
  return b.raw(f);
}
// `sub` / `sub final` with optional supertype.
Bytes sub(std::initializer_list<uint32_t> supers, const Bytes& comp, bool final = false) {
  Bytes b{final ? kCodeSubFinal : kCodeSub};
  b.u32(supers.size());
  for (uint32_t s : supers) b.u32(s);
  return b.raw(comp);
}
Bytes rec(std::initializer_list<Bytes> subtypes) {
  Bytes b{kCodeRec};
  return b.raw(vec(subtypes));
}

// A module with just a type section of the given rec types.
Bytes typeModule(std::initializer_list<Bytes> rectypes) {
  Bytes m = Bytes::header();
  return m.section(1, vec(rectypes));
}

// Decodes and canonicalises; owns the Module the ModuleTypes points into.
struct Canon {
  std::unique_ptr<Module> module;
  std::optional<ModuleTypes> types;
  std::optional<Error> error;
};

Canon canonicalize(const Bytes& bytes, TypeStore& store) {
  Canon c;
  auto decoded = decodeModule(bytes.data());
  if (!decoded.ok()) {
    ADD_FAILURE() << "decode failed: " << decoded.error().toString();
    c.error = decoded.error();
    return c;
  }
  c.module = std::make_unique<Module>(std::move(decoded).value());
  auto types = canonicalizeTypes(*c.module, store);
  if (types.ok()) {
    c.types = std::move(types).value();
  } else {
    c.error = types.error();
  }
  return c;
}

Canon valid(const Bytes& bytes, TypeStore& store) {
  Canon c = canonicalize(bytes, store);
  EXPECT_TRUE(c.types.has_value()) << (c.error ? c.error->toString() : "");
  return c;
}

HeapType abs(HeapType::Abstract a) {
  return HeapType::abstract(a);
}

// --- canonicalisation ------------------------------------------------------

TEST(TypesCanon, IdenticalGroupsInOneModuleShareIds) {
  TypeStore store;
  Canon c = valid(typeModule({structT({field(i32(), false)}), structT({field(i32(), false)}),
                              structT({field(i32(), true)})}),
                  store);
  ASSERT_TRUE(c.types);
  EXPECT_EQ(c.types->canon(0), c.types->canon(1));
  EXPECT_NE(c.types->canon(0), c.types->canon(2));  // mutability differs
  EXPECT_EQ(store.size(), 2u);
}

TEST(TypesCanon, IdenticalGroupsAcrossModulesShareIds) {
  TypeStore store;
  // A: $0 = struct i32, $1 = struct (ref $0).
  Canon a =
      valid(typeModule({structT({field(i32(), false)}), structT({field(refIdx(0, false), false)})}),
            store);
  // B: an unrelated type first, then the same two.
  Canon b = valid(typeModule({arrayT(field(i8(), true)), structT({field(i32(), false)}),
                              structT({field(refIdx(1, false), false)})}),
                  store);
  ASSERT_TRUE(a.types && b.types);
  EXPECT_EQ(a.types->canon(0), b.types->canon(1));
  EXPECT_EQ(a.types->canon(1), b.types->canon(2));
  EXPECT_NE(b.types->canon(0), b.types->canon(1));
}

TEST(TypesCanon, OrderInsideARecGroupMatters) {
  TypeStore store;
  Canon a = valid(
      typeModule({rec({structT({field(i32(), false)}), structT({field(i64(), false)})})}), store);
  Canon b = valid(
      typeModule({rec({structT({field(i64(), false)}), structT({field(i32(), false)})})}), store);
  ASSERT_TRUE(a.types && b.types);
  // struct i32 at position 0 in one group, position 1 in the other.
  EXPECT_NE(a.types->canon(0), b.types->canon(1));
  EXPECT_NE(a.types->canon(1), b.types->canon(0));
  EXPECT_EQ(store.groupCount(), 2u);
}

TEST(TypesCanon, RecGroupIsNotTheSameAsSingletons) {
  TypeStore store;
  // (rec (struct)) (rec (struct)) vs (rec (struct) (struct)).
  Canon c = valid(typeModule({structT({}), rec({structT({}), structT({})})}), store);
  ASSERT_TRUE(c.types);
  EXPECT_NE(c.types->canon(0), c.types->canon(1));
  EXPECT_NE(c.types->canon(1), c.types->canon(2));
  EXPECT_EQ(store.groupOf(c.types->canon(1)), store.groupOf(c.types->canon(2)));
}

TEST(TypesCanon, RecursiveReferences) {
  TypeStore store;
  // $0 = (rec (struct (ref null $0))), $1 = the same, $2/$3 a mutually
  // recursive pair, $4/$5 the same pair again, $6/$7 the pair with the
  // references swapped (not equivalent: $6 refers to itself).
  Canon c =
      valid(typeModule({structT({field(refIdx(0, true), false)}),
                        structT({field(refIdx(1, true), false)}),
                        rec({structT({field(refIdx(3, true), false)}),
                             structT({field(refIdx(2, true), false), field(i32(), false)})}),
                        rec({structT({field(refIdx(5, true), false)}),
                             structT({field(refIdx(4, true), false), field(i32(), false)})}),
                        rec({structT({field(refIdx(6, true), false)}),
                             structT({field(refIdx(6, true), false), field(i32(), false)})})}),
            store);
  ASSERT_TRUE(c.types);
  const ModuleTypes& t = *c.types;
  EXPECT_EQ(t.canon(0), t.canon(1));
  EXPECT_EQ(t.canon(2), t.canon(4));
  EXPECT_EQ(t.canon(3), t.canon(5));
  EXPECT_NE(t.canon(2), t.canon(6));
  EXPECT_NE(t.canon(3), t.canon(7));
  // The canonical field type refers to the canonical id.
  ASSERT_EQ(store.fields(t.canon(2)).size(), 1u);
  EXPECT_EQ(store.fields(t.canon(2))[0].type, ValType::ref(HeapType::index(t.canon(3)), true));
}

TEST(TypesCanon, SupertypeAndFinalityArePartOfIdentity) {
  TypeStore store;
  Canon c = valid(typeModule({sub({}, structT({})), sub({0}, structT({})), sub({0}, structT({})),
                              sub({0}, structT({}), true), structT({})}),
                  store);
  ASSERT_TRUE(c.types);
  const ModuleTypes& t = *c.types;
  EXPECT_EQ(t.canon(1), t.canon(2));
  EXPECT_NE(t.canon(1), t.canon(3));  // final differs
  EXPECT_NE(t.canon(0), t.canon(1));  // supertype differs
  EXPECT_NE(t.canon(0), t.canon(4));  // bare = final
}

// --- subtyping -------------------------------------------------------------

TEST(TypesSubtype, AbstractHierarchies) {
  TypeStore store;
  auto sub = [&](HeapType::Abstract a, HeapType::Abstract b) {
    return store.isHeapSubtype(abs(a), abs(b));
  };
  using H = HeapType;
  EXPECT_TRUE(sub(H::None, H::I31));
  EXPECT_TRUE(sub(H::I31, H::Eq));
  EXPECT_TRUE(sub(H::Struct, H::Eq));
  EXPECT_TRUE(sub(H::Array, H::Any));
  EXPECT_TRUE(sub(H::Eq, H::Any));
  EXPECT_TRUE(sub(H::None, H::Any));
  EXPECT_TRUE(sub(H::NoFunc, H::Func));
  EXPECT_TRUE(sub(H::NoExtern, H::Extern));
  EXPECT_FALSE(sub(H::Any, H::Eq));
  EXPECT_FALSE(sub(H::Struct, H::Array));
  EXPECT_FALSE(sub(H::I31, H::Struct));
  EXPECT_FALSE(sub(H::Func, H::Any));
  EXPECT_FALSE(sub(H::Extern, H::Any));
  EXPECT_FALSE(sub(H::None, H::Func));
  EXPECT_FALSE(sub(H::NoFunc, H::Any));
  EXPECT_FALSE(sub(H::NoExtern, H::NoFunc));
  EXPECT_TRUE(store.isHeapSubtype(kBottomHeapType, abs(H::NoExtern)));
  EXPECT_FALSE(store.isHeapSubtype(abs(H::None), kBottomHeapType));

  EXPECT_EQ(store.top(abs(H::I31)), abs(H::Any));
  EXPECT_EQ(store.top(abs(H::NoFunc)), abs(H::Func));
  EXPECT_EQ(store.bottom(abs(H::Extern)), abs(H::NoExtern));
  EXPECT_EQ(store.bottom(abs(H::Struct)), abs(H::None));
}

TEST(TypesSubtype, ValueTypesAndNullability) {
  TypeStore store;
  ValType anyref = ValType::ref(abs(HeapType::Any), true);
  ValType eq_nn = ValType::ref(abs(HeapType::Eq), false);
  ValType eqref = ValType::ref(abs(HeapType::Eq), true);
  EXPECT_TRUE(store.isSubtype(eq_nn, anyref));
  EXPECT_TRUE(store.isSubtype(eq_nn, eqref));
  EXPECT_FALSE(store.isSubtype(eqref, eq_nn));
  EXPECT_FALSE(store.isSubtype(ValType::i32(), ValType::i64()));
  EXPECT_FALSE(store.isSubtype(ValType::i32(), anyref));
  EXPECT_TRUE(store.isSubtype(ValType::f64(), ValType::f64()));
}

TEST(TypesSubtype, DeclaredChains) {
  TypeStore store;
  // $0 = sub struct {i32}; $1 = sub $0 struct {i32, i64}; $2 = sub $1 (same
  // plus a field); $3 = sub $0 struct {i32} (a sibling); $4 = func; $5 array.
  Canon c = valid(
      typeModule({sub({}, structT({field(i32(), false)})),
                  sub({0}, structT({field(i32(), false), field(i64(), false)})),
                  sub({1}, structT({field(i32(), false), field(i64(), false), field(i8(), true)})),
                  sub({0}, structT({field(i32(), false)})), funcT({}, {}),
                  arrayT(field(i32(), true))}),
      store);
  ASSERT_TRUE(c.types);
  const ModuleTypes& t = *c.types;
  auto h = [](uint32_t i) { return HeapType::index(i); };
  EXPECT_TRUE(t.isHeapSubtype(h(2), h(1)));
  EXPECT_TRUE(t.isHeapSubtype(h(2), h(0)));
  EXPECT_TRUE(t.isHeapSubtype(h(1), h(0)));
  EXPECT_FALSE(t.isHeapSubtype(h(0), h(1)));
  EXPECT_FALSE(t.isHeapSubtype(h(3), h(1)));
  EXPECT_FALSE(t.isHeapSubtype(h(1), h(3)));
  EXPECT_EQ(store.depth(t.canon(2)), 2u);
  EXPECT_EQ(store.supertype(t.canon(2)), t.canon(1));

  EXPECT_TRUE(t.isHeapSubtype(h(2), abs(HeapType::Struct)));
  EXPECT_TRUE(t.isHeapSubtype(h(2), abs(HeapType::Eq)));
  EXPECT_TRUE(t.isHeapSubtype(h(2), abs(HeapType::Any)));
  EXPECT_FALSE(t.isHeapSubtype(h(2), abs(HeapType::Array)));
  EXPECT_TRUE(t.isHeapSubtype(abs(HeapType::None), h(2)));
  EXPECT_FALSE(t.isHeapSubtype(abs(HeapType::Struct), h(0)));
  EXPECT_TRUE(t.isHeapSubtype(h(4), abs(HeapType::Func)));
  EXPECT_FALSE(t.isHeapSubtype(h(4), abs(HeapType::Any)));
  EXPECT_TRUE(t.isHeapSubtype(abs(HeapType::NoFunc), h(4)));
  EXPECT_FALSE(t.isHeapSubtype(abs(HeapType::None), h(4)));
  EXPECT_TRUE(t.isHeapSubtype(h(5), abs(HeapType::Array)));
  EXPECT_EQ(t.top(h(4)), abs(HeapType::Func));
  EXPECT_EQ(t.top(h(5)), abs(HeapType::Any));

  EXPECT_TRUE(t.isSubtype(ValType::ref(h(2), false), ValType::ref(h(0), true)));
  EXPECT_FALSE(t.isSubtype(ValType::ref(h(2), true), ValType::ref(h(0), false)));
}

TEST(TypesSubtype, ChainsMatchAcrossModules) {
  TypeStore store;
  Bytes bytes = typeModule({sub({}, structT({})), sub({0}, structT({field(i32(), false)}))});
  Canon a = valid(bytes, store);
  Canon b = valid(bytes, store);
  ASSERT_TRUE(a.types && b.types);
  EXPECT_TRUE(store.isSubtype(b.types->canon(1), a.types->canon(0)));
  EXPECT_FALSE(store.isSubtype(a.types->canon(0), b.types->canon(1)));
}

TEST(TypesSubtype, FieldAndCompositeMatching) {
  TypeStore store;
  // Valid refinements: immutable field covariance, struct width, func
  // contravariant params / covariant results, array immutable covariance.
  Canon c = valid(
      typeModule({
          sub({}, structT({field(refAbs(HeapType::Any, true), false)})),                       // 0
          sub({0}, structT({field(refAbs(HeapType::Eq, false), false), field(i32(), true)})),  // 1
          sub({}, funcT({refAbs(HeapType::Eq, true)}, {refAbs(HeapType::Any, true)})),         // 2
          sub({2}, funcT({refAbs(HeapType::Any, true)}, {refAbs(HeapType::Eq, false)})),       // 3
          sub({}, arrayT(field(refAbs(HeapType::Any, true), false))),                          // 4
          sub({4}, arrayT(field(refIdx(1, false), false))),                                    // 5
      }),
      store);
  ASSERT_TRUE(c.types);
  EXPECT_TRUE(store.compositeMatches(c.types->canon(1), c.types->canon(0)));
  EXPECT_TRUE(store.compositeMatches(c.types->canon(3), c.types->canon(2)));
  EXPECT_FALSE(store.compositeMatches(c.types->canon(2), c.types->canon(3)));
  EXPECT_TRUE(store.compositeMatches(c.types->canon(5), c.types->canon(4)));

  ValType eqref = ValType::ref(abs(HeapType::Eq), true);
  ValType anyref = ValType::ref(abs(HeapType::Any), true);
  EXPECT_TRUE(store.isFieldSubtype({eqref, false}, {anyref, false}));
  EXPECT_FALSE(store.isFieldSubtype({eqref, true}, {anyref, true}));  // invariant
  EXPECT_TRUE(store.isFieldSubtype({anyref, true}, {anyref, true}));
  EXPECT_FALSE(store.isFieldSubtype({anyref, false}, {anyref, true}));
  EXPECT_FALSE(store.isFieldSubtype({ValType::i8(), false}, {ValType::i32(), false}));
  EXPECT_TRUE(store.isFieldSubtype({ValType::i8(), false}, {ValType::i8(), false}));
}

TEST(TypesSubtype, Defaultability) {
  EXPECT_TRUE(isDefaultable(ValType::i32()));
  EXPECT_TRUE(isDefaultable(ValType::i8()));
  EXPECT_TRUE(isDefaultable(ValType::ref(abs(HeapType::Any), true)));
  EXPECT_FALSE(isDefaultable(ValType::ref(abs(HeapType::Any), false)));
  EXPECT_FALSE(isDefaultable(ValType::ref(HeapType::index(0), false)));
}

// --- invalid type sections -------------------------------------------------

struct Rejection {
  ErrorCode code;
  std::string message;
  std::string context;
};

Rejection reject(const Bytes& bytes) {
  TypeStore store;
  Canon c = canonicalize(bytes, store);
  EXPECT_FALSE(c.types.has_value());
  if (!c.error) return {ErrorCode::InvalidOther, "(accepted)", ""};
  return {c.error->code, c.error->message, c.error->context};
}

TEST(TypesInvalid, SupertypeIsFinal) {
  Rejection r = reject(typeModule({funcT({}, {}), sub({0}, funcT({}, {}))}));
  EXPECT_EQ(r.code, ErrorCode::InvalidSubtype);
  EXPECT_EQ(r.message, "sub type 1 does not match super type 0: super type is final");
  EXPECT_EQ(r.context, "type 1");
  r = reject(
      typeModule({sub({}, structT({})), sub({0}, structT({}), true), sub({1}, structT({}))}));
  EXPECT_EQ(r.code, ErrorCode::InvalidSubtype);
  EXPECT_EQ(r.context, "type 2");
}

TEST(TypesInvalid, KindAndStructureMismatch) {
  EXPECT_EQ(
      reject(typeModule({sub({}, arrayT(field(i32(), false))), sub({0}, structT({}))})).message,
      "sub type 1 does not match super type 0");
  EXPECT_EQ(reject(typeModule({sub({}, structT({})), sub({0}, funcT({}, {}))})).code,
            ErrorCode::InvalidSubtype);
  // Mutable fields are invariant.
  EXPECT_EQ(reject(typeModule({sub({}, structT({field(refAbs(HeapType::Any, true), true)})),
                               sub({0}, structT({field(refAbs(HeapType::Eq, true), true)}))}))
                .code,
            ErrorCode::InvalidSubtype);
  // Mutability must agree.
  EXPECT_EQ(reject(typeModule({sub({}, arrayT(field(i32(), true))),
                               sub({0}, arrayT(field(i32(), false)))}))
                .code,
            ErrorCode::InvalidSubtype);
  // A struct subtype cannot drop fields.
  EXPECT_EQ(
      reject(typeModule({sub({}, structT({field(i32(), false)})), sub({0}, structT({}))})).code,
      ErrorCode::InvalidSubtype);
  // Params are contravariant.
  EXPECT_EQ(reject(typeModule({sub({}, funcT({refAbs(HeapType::Any, true)}, {})),
                               sub({0}, funcT({refAbs(HeapType::Eq, true)}, {}))}))
                .code,
            ErrorCode::InvalidSubtype);
  // Different arity.
  EXPECT_EQ(reject(typeModule({sub({}, funcT({}, {})), sub({0}, funcT({i32()}, {}))})).code,
            ErrorCode::InvalidSubtype);
}

TEST(TypesInvalid, ForwardAndUnknownReferences) {
  // A field naming a type of a later group.
  Rejection r = reject(typeModule({structT({field(refIdx(1, true), false)}), structT({})}));
  EXPECT_EQ(r.code, ErrorCode::UnknownIndex);
  EXPECT_EQ(r.message, "unknown type 1");
  EXPECT_EQ(r.context, "type 0");
  // ... allowed inside the group.
  TypeStore store;
  valid(typeModule({rec({structT({field(refIdx(1, true), false)}), structT({})})}), store);
  // A supertype declared later in the same group.
  r = reject(typeModule({rec({sub({1}, structT({})), sub({}, structT({}))})}));
  EXPECT_EQ(r.code, ErrorCode::InvalidSubtype);
  EXPECT_EQ(r.message, "forward use of type 1 in sub type definition");
  // A supertype out of range.
  r = reject(typeModule({sub({5}, structT({}))}));
  EXPECT_EQ(r.code, ErrorCode::UnknownIndex);
  EXPECT_EQ(r.message, "unknown type 5");
  // More than one supertype.
  r = reject(typeModule({sub({}, structT({})), sub({}, structT({})), sub({0, 1}, structT({}))}));
  EXPECT_EQ(r.code, ErrorCode::InvalidSubtype);
}

TEST(TypesInvalid, SubtypingDepthLimit) {
  // $0 = sub struct; $i = sub $(i-1) struct: depth($i) = i.
  auto chain = [](uint32_t n) {
    Bytes payload;
    payload.u32(n);
    payload.raw(sub({}, structT({})));
    for (uint32_t i = 1; i < n; ++i) payload.raw(sub({i - 1}, structT({})));
    Bytes m = Bytes::header();
    return m.section(1, payload);
  };
  TypeStore store;
  Canon ok = valid(chain(kMaxSubtypingDepth + 1), store);
  ASSERT_TRUE(ok.types);
  EXPECT_EQ(store.depth(ok.types->canon(kMaxSubtypingDepth)), kMaxSubtypingDepth);
  EXPECT_TRUE(store.isSubtype(ok.types->canon(kMaxSubtypingDepth), ok.types->canon(0)));
  Rejection r = reject(chain(kMaxSubtypingDepth + 2));
  EXPECT_EQ(r.code, ErrorCode::InvalidSubtype);
  EXPECT_EQ(r.context, fmt::format("type {}", kMaxSubtypingDepth + 1));
}

}  // namespace
}  // namespace slabfuzz
