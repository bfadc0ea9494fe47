// Unit tests for the decoder (runtime/decode.h): every section, types, the
// immediates of instructions, block structure, LEB128 and UTF-8 edge cases,
// counts against remaining bytes, out-of-scope features, and robustness
// against truncated and mutated input.
#include "runtime/decode.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/binary_reader.h"
#include "runtime/leb128.h"
#include "tests/support/wasm_bytes.h"

namespace slabfuzz {
namespace {

using test::Bytes;

// --- Helpers ------------------------------------------------------------------

Result<Module> decode(const Bytes& b, const DecodeOptions& options = {}) {
  return decodeModule(b.data(), options);
}

// The type section with one type: (func).
Bytes voidTypeSection() {
  return Bytes().section(1, Bytes{0x01, 0x60, 0x00, 0x00});
}

// A module with the type (func), one function of that type whose body is
// `locals` then `instrs` (which must end with 0x0B), and `before_code`
// inserted between the function and code sections.
Bytes oneFunction(const Bytes& instrs, const Bytes& before_code = {},
                  const Bytes& locals = Bytes{0x00}) {
  Bytes body;
  body.raw(locals).raw(instrs);
  Bytes code;
  code.u32(1).u32(body.size()).raw(body);
  return Bytes::header()
      .raw(voidTypeSection())
      .section(3, Bytes{0x01, 0x00})
      .raw(before_code)
      .section(10, code);
}

testing::AssertionResult failsWith(const Result<Module>& r, ErrorCode code,
                                   std::string_view message_prefix = {}) {
  if (r.ok()) return testing::AssertionFailure() << "decoded without error";
  const Error& e = r.error();
  if (e.code != code || e.message.rfind(message_prefix, 0) != 0) {
    return testing::AssertionFailure()
           << "got [" << slugOf(e.code) << "] " << e.toString() << ", expected [" << slugOf(code)
           << "] " << message_prefix << "...";
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult unsupported(const Result<Module>& r, std::string_view feature) {
  return failsWith(r, ErrorCode::UnsupportedFeature,
                   std::string("unsupported feature: ") + std::string(feature));
}

// The body of the single defined function, which must decode.
std::vector<Instr> bodyOf(const Bytes& instrs, const Bytes& before_code = {}) {
  Result<Module> r = decode(oneFunction(instrs, before_code));
  EXPECT_TRUE(r.ok()) << r.error().toString();
  if (!r.ok() || r->functions.empty()) return {};
  return r->functions[0].body;
}

uint32_t heapBits(HeapType ht) {
  return ht.bits();
}
uint32_t abstractBits(HeapType::Abstract a) {
  return HeapType::abstract(a).bits();
}

// --- Header -------------------------------------------------------------------

TEST(DecodeHeader, MinimalModule) {
  Result<Module> r = decode(Bytes::header());
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_TRUE(r->types.empty());
  EXPECT_TRUE(r->functions.empty());
}

TEST(DecodeHeader, TruncatedHeaderIsUnexpectedEnd) {
  EXPECT_TRUE(failsWith(decode(Bytes{}), ErrorCode::UnexpectedEnd, "unexpected end"));
  EXPECT_TRUE(failsWith(decode(Bytes{0x00, 0x61, 0x73}), ErrorCode::UnexpectedEnd));
  EXPECT_TRUE(failsWith(decode(Bytes{0x00, 0x61, 0x73, 0x6D, 0x01}), ErrorCode::UnexpectedEnd));
}

TEST(DecodeHeader, BadMagicAndVersion) {
  Result<Module> magic = decode(Bytes{0x00, 0x41, 0x53, 0x4D, 0x01, 0x00, 0x00, 0x00});
  EXPECT_TRUE(failsWith(magic, ErrorCode::BadMagic, "magic header not detected"));
  EXPECT_EQ(magic.error().offset, 0u);
  Result<Module> version = decode(Bytes{0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00});
  EXPECT_TRUE(failsWith(version, ErrorCode::BadVersion, "unknown binary version"));
  EXPECT_EQ(version.error().offset, 4u);
  EXPECT_EQ(version.error().category(), ErrorCategory::Malformed);
}

TEST(DecodeHeader, ModuleTooLargeIsRejectedUpFront) {
  // A span claiming more than kMaxModuleSize; never read, only measured.
  std::vector<uint8_t> tiny = Bytes::header().data();
  std::span<const uint8_t> huge(tiny.data(), kMaxModuleSize + 1);
  EXPECT_TRUE(failsWith(decodeModule(huge), ErrorCode::TooMany, "module too large"));
}

// --- Section framing ----------------------------------------------------------

TEST(DecodeSections, UnknownSectionId) {
  Result<Module> r = decode(Bytes::header().raw({0x0E, 0x01, 0x00}));
  EXPECT_TRUE(failsWith(r, ErrorCode::UnknownSection, "malformed section id"));
  EXPECT_EQ(r.error().offset, 8u);
}

TEST(DecodeSections, TagSectionIsUnsupportedExceptions) {
  EXPECT_TRUE(unsupported(decode(Bytes::header().raw({0x0D, 0x01, 0x00})), "exceptions"));
}

TEST(DecodeSections, SizeBeyondEndIsOutOfBounds) {
  Result<Module> r = decode(Bytes::header().raw({0x01, 0x05, 0x00}));
  EXPECT_TRUE(failsWith(r, ErrorCode::UnexpectedEnd, "length out of bounds"));
  EXPECT_EQ(r.error().offset, 9u);  // the size field
}

TEST(DecodeSections, SizeMismatch) {
  // Type section of 2 bytes whose contents (count 0) take 1.
  Result<Module> r = decode(Bytes::header().raw({0x01, 0x02, 0x00, 0x00}));
  EXPECT_TRUE(failsWith(r, ErrorCode::SectionSizeMismatch, "section size mismatch"));
  EXPECT_EQ(r.error().offset, 11u);
}

TEST(DecodeSections, DuplicateAndOutOfOrder) {
  EXPECT_TRUE(failsWith(decode(Bytes::header().raw({0x01, 0x01, 0x00, 0x01, 0x01, 0x00})),
                        ErrorCode::SectionOrder, "unexpected content after last section"));
  EXPECT_TRUE(failsWith(decode(Bytes::header().raw({0x03, 0x01, 0x00, 0x02, 0x01, 0x00})),
                        ErrorCode::SectionOrder));
  // Code (10) after data (11).
  EXPECT_TRUE(failsWith(decode(Bytes::header().raw({0x0B, 0x01, 0x00, 0x0A, 0x01, 0x00})),
                        ErrorCode::SectionOrder));
  // Element (9) after data count (12) is out of order; data count before code is fine.
  EXPECT_TRUE(failsWith(decode(Bytes::header().raw({0x0C, 0x01, 0x00, 0x09, 0x01, 0x00})),
                        ErrorCode::SectionOrder));
  EXPECT_TRUE(
      decode(Bytes::header().raw({0x09, 0x01, 0x00, 0x0C, 0x01, 0x00, 0x0A, 0x01, 0x00})).ok());
}

TEST(DecodeSections, CustomSectionsAnywhereWithPayload) {
  Bytes custom;
  custom.name("hello").raw({0xDE, 0xAD});
  Bytes m = Bytes::header()
                .section(0, custom)
                .raw(voidTypeSection())
                .section(0, custom)
                .section(3, Bytes{0x00})
                .section(0, Bytes().name(""));
  Result<Module> r = decode(m);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->customs.size(), 3u);
  EXPECT_EQ(r->customs[0].name, "hello");
  EXPECT_EQ(r->customs[0].payload, (std::vector<uint8_t>{0xDE, 0xAD}));
  EXPECT_EQ(r->customs[0].offset, 8u + 2 + 6);  // id, size, name
  EXPECT_EQ(r->customs[2].name, "");
  EXPECT_TRUE(r->customs[2].payload.empty());

  DecodeOptions no_payloads;
  no_payloads.keep_custom_payloads = false;
  Result<Module> r2 = decode(m, no_payloads);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->customs.size(), 3u);
  EXPECT_TRUE(r2->customs[0].payload.empty());
}

TEST(DecodeSections, CustomSectionNameMustBeUtf8) {
  Bytes custom;
  custom.u32(2).raw({0xC0, 0x80});  // overlong NUL
  EXPECT_TRUE(failsWith(decode(Bytes::header().section(0, custom)), ErrorCode::MalformedUtf8,
                        "malformed UTF-8 encoding"));
}

TEST(DecodeSections, FunctionAndCodeCountsMustMatch) {
  // Function section without code section.
  EXPECT_TRUE(
      failsWith(decode(Bytes::header().raw(voidTypeSection()).section(3, Bytes{0x01, 0x00})),
                ErrorCode::CountMismatch, "function and code section have inconsistent lengths"));
  // Code section without function section.
  EXPECT_TRUE(failsWith(decode(Bytes::header().section(10, Bytes{0x01, 0x02, 0x00, 0x0B})),
                        ErrorCode::CountMismatch));
  // Two declared, one body.
  EXPECT_TRUE(failsWith(decode(Bytes::header()
                                   .raw(voidTypeSection())
                                   .section(3, Bytes{0x02, 0x00, 0x00})
                                   .section(10, Bytes{0x01, 0x02, 0x00, 0x0B})),
                        ErrorCode::CountMismatch));
  // Zero and absent are the same.
  EXPECT_TRUE(decode(Bytes::header().section(3, Bytes{0x00})).ok());
  EXPECT_TRUE(decode(Bytes::header().section(10, Bytes{0x00})).ok());
}

// --- Types --------------------------------------------------------------------

TEST(DecodeTypes, FunctionStructArray) {
  Bytes types;
  types.u32(3)
      .raw({0x60, 0x02, 0x7F, 0x7E, 0x01, 0x7D})              // (func (param i32 i64) (result f32))
      .raw({0x5F, 0x03, 0x78, 0x01, 0x77, 0x00, 0x7C, 0x01})  // (struct (mut i8) i16 (mut f64))
      .raw({0x5E, 0x63, 0x00, 0x00});                         // (array (ref null 0))
  Result<Module> r = decode(Bytes::header().section(1, types));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->types.size(), 3u);
  ASSERT_EQ(r->rec_groups.size(), 3u);

  const SubType& f = r->types[0];
  EXPECT_TRUE(f.final);
  EXPECT_TRUE(f.supertypes.empty());
  EXPECT_EQ(f.composite.kind, CompositeKind::Func);
  EXPECT_EQ(f.composite.func.params, (std::vector<ValType>{ValType::i32(), ValType::i64()}));
  EXPECT_EQ(f.composite.func.results, (std::vector<ValType>{ValType::f32()}));
  EXPECT_EQ(f.offset, 11u);

  const CompositeType& s = r->types[1].composite;
  EXPECT_EQ(s.kind, CompositeKind::Struct);
  ASSERT_EQ(s.fields.size(), 3u);
  EXPECT_EQ(s.fields[0].type, ValType::i8());
  EXPECT_TRUE(s.fields[0].mut);
  EXPECT_EQ(s.fields[1].type, ValType::i16());
  EXPECT_FALSE(s.fields[1].mut);
  EXPECT_EQ(s.fields[2].type, ValType::f64());

  const CompositeType& a = r->types[2].composite;
  EXPECT_EQ(a.kind, CompositeKind::Array);
  ASSERT_EQ(a.fields.size(), 1u);
  EXPECT_EQ(a.fields[0].type, ValType::ref(HeapType::index(0), true));
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r->types[i].rec_group, i);
    EXPECT_EQ(r->rec_groups[i].first, i);
    EXPECT_EQ(r->rec_groups[i].count, 1u);
  }
}

TEST(DecodeTypes, RecGroupsAndSubtypes) {
  Bytes types;
  types.u32(3)
      .raw({0x4E, 0x02,                                // rec of two
            0x50, 0x00, 0x5F, 0x01, 0x64, 0x01, 0x00,  //   (sub (struct (ref 1)))
            0x4F, 0x01, 0x00, 0x5F, 0x00})             //   (sub final 0 (struct))
      .raw({0x4E, 0x00})                               // empty rec
      .raw({0x50, 0x01, 0x00, 0x60, 0x00, 0x00});      // (sub 0 (func)), a group of its own
  Result<Module> r = decode(Bytes::header().section(1, types));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->types.size(), 3u);
  ASSERT_EQ(r->rec_groups.size(), 3u);
  EXPECT_EQ(r->rec_groups[0].first, 0u);
  EXPECT_EQ(r->rec_groups[0].count, 2u);
  EXPECT_EQ(r->rec_groups[1].first, 2u);
  EXPECT_EQ(r->rec_groups[1].count, 0u);
  EXPECT_EQ(r->rec_groups[2].first, 2u);
  EXPECT_EQ(r->rec_groups[2].count, 1u);

  EXPECT_FALSE(r->types[0].final);
  EXPECT_TRUE(r->types[0].supertypes.empty());
  EXPECT_EQ(r->types[0].rec_group, 0u);
  EXPECT_EQ(r->types[0].composite.fields[0].type, ValType::ref(HeapType::index(1), false));
  EXPECT_TRUE(r->types[1].final);
  EXPECT_EQ(r->types[1].supertypes, std::vector<uint32_t>{0});
  EXPECT_EQ(r->types[1].rec_group, 0u);
  EXPECT_FALSE(r->types[2].final);
  EXPECT_EQ(r->types[2].rec_group, 2u);
}

TEST(DecodeTypes, AllReferenceTypeForms) {
  // Every abstract shorthand, then (ref ht) and (ref null ht) forms.
  Bytes params;
  const uint8_t abstracts[] = {0x73, 0x72, 0x71, 0x70, 0x6F, 0x6E, 0x6D, 0x6C, 0x6B, 0x6A};
  params.u32(std::size(abstracts) + 3);
  for (uint8_t a : abstracts) params.u8(a);
  params.raw({0x64, 0x6E, 0x63, 0x6C, 0x64, 0x00});
  Bytes types;
  types.u32(1).u8(0x60).raw(params).u8(0x00);
  Result<Module> r = decode(Bytes::header().section(1, types));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  const auto& p = r->types[0].composite.func.params;
  ASSERT_EQ(p.size(), std::size(abstracts) + 3);
  for (size_t i = 0; i < std::size(abstracts); ++i) {
    EXPECT_EQ(p[i], ValType::ref(HeapType::abstract(static_cast<HeapType::Abstract>(abstracts[i])),
                                 true));
  }
  EXPECT_EQ(p[10], ValType::ref(HeapType::abstract(HeapType::Any), false));
  EXPECT_EQ(p[11], ValType::ref(HeapType::abstract(HeapType::I31), true));
  EXPECT_EQ(p[12], ValType::ref(HeapType::index(0), false));
}

TEST(DecodeTypes, MalformedTypes) {
  auto withType = [](std::initializer_list<uint8_t> t) {
    Bytes types;
    types.u32(1).raw(t);
    return decode(Bytes::header().section(1, types));
  };
  EXPECT_TRUE(failsWith(withType({0x40, 0x00, 0x00}), ErrorCode::MalformedType,
                        "malformed composite type 0x40"));
  EXPECT_TRUE(failsWith(withType({0x60, 0x01, 0x40, 0x00}), ErrorCode::MalformedType,
                        "malformed value type 0x40"));
  EXPECT_TRUE(
      failsWith(withType({0x5E, 0x78, 0x02}), ErrorCode::MalformedFlags, "malformed mutability"));
  EXPECT_TRUE(failsWith(withType({0x5E, 0x64, 0x60, 0x00}), ErrorCode::MalformedType,
                        "malformed heap type"));
  // i8 is a storage type, not a value type.
  EXPECT_TRUE(failsWith(withType({0x60, 0x01, 0x78, 0x00}), ErrorCode::MalformedType));
  // A nested rec is not a subtype.
  EXPECT_TRUE(failsWith(withType({0x4E, 0x01, 0x4E, 0x00}), ErrorCode::MalformedType));
  // A type index no module can have cannot be represented: unknown type.
  Result<Module> huge = withType({0x5E, 0x63, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00});
  EXPECT_TRUE(failsWith(huge, ErrorCode::UnknownIndex, "unknown type 268435456"));
  EXPECT_EQ(huge.error().category(), ErrorCategory::Invalid);
}

TEST(DecodeTypes, OutOfScopeTypesAreUnsupported) {
  auto withType = [](std::initializer_list<uint8_t> t) {
    Bytes types;
    types.u32(1).raw(t);
    return decode(Bytes::header().section(1, types));
  };
  EXPECT_TRUE(unsupported(withType({0x60, 0x01, 0x7B, 0x00}), "SIMD (v128)"));
  EXPECT_TRUE(unsupported(withType({0x5D, 0x00}), "stack switching"));
  EXPECT_TRUE(unsupported(withType({0x65, 0x5F, 0x00}), "shared-everything threads"));
  EXPECT_TRUE(unsupported(withType({0x60, 0x01, 0x69, 0x00}), "exceptions"));        // exnref
  EXPECT_TRUE(unsupported(withType({0x60, 0x01, 0x63, 0x74, 0x00}), "exceptions"));  // noexn
  EXPECT_TRUE(
      unsupported(withType({0x60, 0x01, 0x64, 0x65, 0x6E, 0x00}), "shared-everything threads"));
}

// --- Imports, index spaces ----------------------------------------------------

TEST(DecodeImports, AllKindsFillIndexSpaces) {
  Bytes imports;
  imports.u32(4);
  imports.name("m").name("f").u8(0x00).u32(0);
  imports.name("m").name("t").u8(0x01).raw({0x6F, 0x01, 0x01, 0x02});  // externref 1..2
  imports.name("m").name("mem").u8(0x02).raw({0x00, 0x01});
  imports.name("m").name("g").u8(0x03).raw({0x7E, 0x01});
  Bytes m = Bytes::header()
                .raw(voidTypeSection())
                .section(2, imports)
                .section(3, Bytes{0x01, 0x00})
                .section(4, Bytes{0x01, 0x70, 0x00, 0x05})
                .section(6, Bytes{0x01, 0x7F, 0x00, 0x41, 0x07, 0x0B})
                .section(10, Bytes{0x01, 0x02, 0x00, 0x0B});
  Result<Module> r = decode(m);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->imports.size(), 4u);
  EXPECT_EQ(r->imports[0].module, "m");
  EXPECT_EQ(r->imports[0].name, "f");
  EXPECT_EQ(r->imports[0].kind, ExternKind::Func);
  EXPECT_EQ(r->imports[1].kind, ExternKind::Table);
  EXPECT_EQ(r->imports[1].table.elem, ValType::ref(HeapType::abstract(HeapType::Extern), true));
  EXPECT_EQ(r->imports[1].table.limits.min, 1u);
  EXPECT_EQ(r->imports[1].table.limits.max, std::optional<uint64_t>(2));
  EXPECT_EQ(r->imports[2].memory.limits.min, 1u);
  EXPECT_FALSE(r->imports[2].memory.limits.max.has_value());
  EXPECT_EQ(r->imports[3].global.type, ValType::i64());
  EXPECT_TRUE(r->imports[3].global.mut);

  EXPECT_EQ(r->func_types, (std::vector<uint32_t>{0, 0}));
  EXPECT_EQ(r->num_imported_funcs, 1u);
  ASSERT_EQ(r->table_types.size(), 2u);
  EXPECT_EQ(r->num_imported_tables, 1u);
  EXPECT_EQ(r->table_types[1].limits.min, 5u);
  EXPECT_EQ(r->tables.size(), 1u);
  EXPECT_EQ(r->memory_types.size(), 1u);
  EXPECT_EQ(r->num_imported_memories, 1u);
  ASSERT_EQ(r->global_types.size(), 2u);
  EXPECT_EQ(r->num_imported_globals, 1u);
  EXPECT_EQ(r->global_types[1].type, ValType::i32());
  ASSERT_EQ(r->globals.size(), 1u);
  ASSERT_EQ(r->globals[0].init.instrs.size(), 1u);  // no End
  EXPECT_EQ(r->globals[0].init.instrs[0].op, Opcode::I32Const);
  EXPECT_EQ(r->globals[0].init.instrs[0].a, 7u);
  EXPECT_EQ(r->functions.size(), 1u);
}

TEST(DecodeImports, BadKindsAndNames) {
  auto withImport = [](const Bytes& imp) {
    return decode(Bytes::header().section(2, Bytes().u32(1).raw(imp)));
  };
  EXPECT_TRUE(failsWith(withImport(Bytes().name("a").name("b").u8(0x05)), ErrorCode::MalformedFlags,
                        "malformed import kind 0x05"));
  EXPECT_TRUE(
      unsupported(withImport(Bytes().name("a").name("b").raw({0x04, 0x00, 0x00})), "exceptions"));
  EXPECT_TRUE(failsWith(withImport(Bytes().u32(1).u8(0xFF).name("b").raw({0x00, 0x00})),
                        ErrorCode::MalformedUtf8));
  EXPECT_TRUE(failsWith(withImport(Bytes().name("a").u32(3).raw({0xED, 0xA0, 0x80, 0x00, 0x00})),
                        ErrorCode::MalformedUtf8));  // a surrogate
  EXPECT_TRUE(failsWith(withImport(Bytes().name("a").name("b").raw({0x03, 0x7F, 0x02})),
                        ErrorCode::MalformedFlags, "malformed mutability"));
}

// --- Tables, memories, limits -------------------------------------------------

TEST(DecodeTables, PlainAndInitialisedForms) {
  Bytes tables;
  tables.u32(2)
      .raw({0x70, 0x01, 0x00, 0x0A})                                 // funcref 0..10
      .raw({0x40, 0x00, 0x64, 0x70, 0x00, 0x01, 0xD2, 0x00, 0x0B});  // (ref func) 1, ref.func 0
  Result<Module> r = decode(oneFunction(Bytes{0x0B}, Bytes().section(4, tables)));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->tables.size(), 2u);
  EXPECT_FALSE(r->tables[0].init.has_value());
  EXPECT_EQ(r->tables[0].type.limits.max, std::optional<uint64_t>(10));
  ASSERT_TRUE(r->tables[1].init.has_value());
  EXPECT_EQ(r->tables[1].type.elem, ValType::ref(HeapType::abstract(HeapType::Func), false));
  ASSERT_EQ(r->tables[1].init->instrs.size(), 1u);
  EXPECT_EQ(r->tables[1].init->instrs[0].op, Opcode::RefFunc);
  EXPECT_EQ(r->table_types.size(), 2u);

  EXPECT_TRUE(
      failsWith(decode(Bytes::header().section(4, Bytes{0x01, 0x40, 0x01, 0x70, 0x00, 0x00})),
                ErrorCode::ZeroByteExpected, "zero byte expected"));
  EXPECT_TRUE(failsWith(decode(Bytes::header().section(4, Bytes{0x01, 0x7F, 0x00, 0x00})),
                        ErrorCode::MalformedType, "malformed reference type"));
}

TEST(DecodeTables, LimitsFlags) {
  auto memory = [](std::initializer_list<uint8_t> mt) {
    return decode(Bytes::header().section(5, Bytes().u32(1).raw(mt)));
  };
  auto table = [](std::initializer_list<uint8_t> lim) {
    return decode(Bytes::header().section(4, Bytes().u32(1).u8(0x70).raw(lim)));
  };
  EXPECT_TRUE(memory({0x00, 0x00}).ok());
  EXPECT_TRUE(memory({0x01, 0x00, 0x01}).ok());
  EXPECT_TRUE(unsupported(memory({0x02, 0x00}), "threads"));
  EXPECT_TRUE(unsupported(memory({0x03, 0x00, 0x01}), "threads"));
  EXPECT_TRUE(unsupported(memory({0x04, 0x00}), "memory64"));
  EXPECT_TRUE(unsupported(memory({0x07, 0x00, 0x01}), "memory64"));
  EXPECT_TRUE(failsWith(memory({0x08, 0x00}), ErrorCode::MalformedFlags, "malformed limits flags"));
  EXPECT_TRUE(failsWith(memory({0x81, 0x00}), ErrorCode::MalformedFlags));  // a byte, not a LEB
  EXPECT_TRUE(unsupported(table({0x04, 0x00}), "memory64"));
  EXPECT_TRUE(failsWith(table({0x02, 0x00}), ErrorCode::MalformedFlags));
  EXPECT_TRUE(failsWith(table({0x08, 0x00}), ErrorCode::MalformedFlags));

  // Limits are u64 in Wasm 3.0; the range is the validator's business.
  Result<Module> big = memory({0x01, 0x80, 0x80, 0x80, 0x80, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  ASSERT_TRUE(big.ok()) << big.error().toString();
  EXPECT_EQ(big->memory_types[0].limits.min, uint64_t{1} << 32);
  EXPECT_EQ(big->memory_types[0].limits.max, std::optional<uint64_t>(UINT64_MAX));
}

// --- Globals, exports, start --------------------------------------------------

TEST(DecodeGlobals, ExtendedConstantExpression) {
  Bytes globals;
  globals.u32(1).raw({0x7F, 0x01, 0x41, 0x02, 0x41, 0x03, 0x6A, 0x0B});  // (mut i32) 2 + 3
  Result<Module> r = decode(Bytes::header().section(6, globals));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  const ConstExpr& init = r->globals[0].init;
  ASSERT_EQ(init.instrs.size(), 3u);
  EXPECT_EQ(init.instrs[2].op, Opcode::I32Add);
  EXPECT_EQ(init.offset, 13u);
  EXPECT_EQ(r->globals[0].offset, 11u);
  EXPECT_TRUE(r->globals[0].type.mut);
  // Missing End runs into the end of the section.
  EXPECT_TRUE(failsWith(decode(Bytes::header().section(6, Bytes{0x01, 0x7F, 0x00, 0x41, 0x00})),
                        ErrorCode::UnexpectedEnd));
}

TEST(DecodeExports, KindsAndStart) {
  Bytes exports;
  exports.u32(4);
  exports.name("f").u8(0x00).u32(0);
  exports.name("t").u8(0x01).u32(1);
  exports.name("m").u8(0x02).u32(0);
  exports.name("g").u8(0x03).u32(300);
  Result<Module> r =
      decode(oneFunction(Bytes{0x0B}, Bytes().section(7, exports).section(8, Bytes{0x00})));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->exports.size(), 4u);
  EXPECT_EQ(r->exports[1].kind, ExternKind::Table);
  EXPECT_EQ(r->exports[3].kind, ExternKind::Global);
  EXPECT_EQ(r->exports[3].index, 300u);
  EXPECT_EQ(r->start, std::optional<uint32_t>(0));

  auto withExport = [](std::initializer_list<uint8_t> e) {
    return decode(Bytes::header().section(7, Bytes().u32(1).name("x").raw(e)));
  };
  EXPECT_TRUE(unsupported(withExport({0x04, 0x00}), "exceptions"));
  EXPECT_TRUE(
      failsWith(withExport({0x05, 0x00}), ErrorCode::MalformedFlags, "malformed export kind"));
}

// --- Element and data segments --------------------------------------------------

TEST(DecodeSegments, AllEightElementEncodings) {
  Bytes prefix = Bytes::header()
                     .raw(voidTypeSection())
                     .section(3, Bytes{0x02, 0x00, 0x00})
                     .section(4, Bytes{0x02, 0x70, 0x00, 0x02, 0x70, 0x00, 0x02});
  Bytes elems;
  elems.u32(8)
      .raw({0x00, 0x41, 0x00, 0x0B, 0x02, 0x00, 0x01})              // active, table 0, funcs
      .raw({0x01, 0x00, 0x01, 0x00})                                // passive, elemkind, funcs
      .raw({0x02, 0x01, 0x41, 0x00, 0x0B, 0x00, 0x01, 0x01})        // active, table 1, funcs
      .raw({0x03, 0x00, 0x01, 0x00})                                // declarative, funcs
      .raw({0x04, 0x41, 0x00, 0x0B, 0x01, 0xD2, 0x00, 0x0B})        // active, table 0, exprs
      .raw({0x05, 0x70, 0x02, 0xD2, 0x00, 0x0B, 0xD0, 0x70, 0x0B})  // passive, funcref, exprs
      .raw({0x06, 0x01, 0x41, 0x00, 0x0B, 0x64, 0x70, 0x01, 0xD2, 0x01, 0x0B})  // table 1
      .raw({0x07, 0x63, 0x6E, 0x01, 0xD0, 0x6E, 0x0B});  // declarative anyref
  Bytes m = prefix;
  m.section(9, elems).section(10, Bytes{0x02, 0x02, 0x00, 0x0B, 0x02, 0x00, 0x0B});
  Result<Module> r = decode(m);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  ASSERT_EQ(r->elems.size(), 8u);
  const ValType ref_func = ValType::ref(HeapType::abstract(HeapType::Func), false);
  const ValType funcref = ValType::ref(HeapType::abstract(HeapType::Func), true);
  const SegmentMode modes[] = {
      SegmentMode::Active, SegmentMode::Passive, SegmentMode::Active, SegmentMode::Declarative,
      SegmentMode::Active, SegmentMode::Passive, SegmentMode::Active, SegmentMode::Declarative};
  const uint32_t tables[] = {0, 0, 1, 0, 0, 0, 1, 0};
  const ValType types[] = {
      ref_func, ref_func, ref_func, ref_func,
      funcref,  funcref,  ref_func, ValType::ref(HeapType::abstract(HeapType::Any), true)};
  const size_t counts[] = {2, 1, 1, 1, 1, 2, 1, 1};
  for (size_t i = 0; i < 8; ++i) {
    SCOPED_TRACE(i);
    const ElemSegment& seg = r->elems[i];
    EXPECT_EQ(seg.mode, modes[i]);
    EXPECT_EQ(seg.table, tables[i]);
    EXPECT_EQ(seg.type, types[i]);
    EXPECT_EQ(seg.items.size(), counts[i]);
    if (seg.mode == SegmentMode::Active) {
      ASSERT_EQ(seg.table_offset.instrs.size(), 1u);
      EXPECT_EQ(seg.table_offset.instrs[0].op, Opcode::I32Const);
    }
  }
  // Function indices become `ref.func` located at the index byte.
  const uint32_t seg0 = static_cast<uint32_t>(prefix.size()) + 3;  // id, size, count
  EXPECT_EQ(r->elems[0].offset, seg0);
  ASSERT_EQ(r->elems[0].items[1].instrs.size(), 1u);
  EXPECT_EQ(r->elems[0].items[1].instrs[0].op, Opcode::RefFunc);
  EXPECT_EQ(r->elems[0].items[1].instrs[0].a, 1u);
  EXPECT_EQ(r->elems[0].items[1].instrs[0].offset, seg0 + 6);
  EXPECT_EQ(r->elems[0].items[1].offset, seg0 + 6);
  EXPECT_EQ(r->elems[5].items[1].instrs[0].op, Opcode::RefNull);

  auto withElem = [&](std::initializer_list<uint8_t> seg) {
    Bytes e;
    e.u32(1).raw(seg);
    return decode(Bytes::header().section(9, e));
  };
  EXPECT_TRUE(failsWith(withElem({0x08, 0x00}), ErrorCode::MalformedFlags,
                        "malformed elements segment kind"));
  EXPECT_TRUE(
      failsWith(withElem({0x01, 0x01, 0x00}), ErrorCode::MalformedFlags, "malformed element kind"));
  EXPECT_TRUE(failsWith(withElem({0x05, 0x7F, 0x00}), ErrorCode::MalformedType,
                        "malformed reference type"));
  EXPECT_TRUE(failsWith(withElem({0x05, 0x70, 0x01, 0xF3, 0x00, 0x0B}), ErrorCode::UnknownOpcode,
                        "illegal opcode 0xf3"));
}

TEST(DecodeSegments, DataEncodingsAndDataCount) {
  Bytes datas;
  datas.u32(3)
      .raw({0x00, 0x41, 0x00, 0x0B, 0x02, 0xAA, 0xBB})  // active, memory 0
      .raw({0x01, 0x01, 0xCC})                          // passive
      .raw({0x02, 0x01, 0x41, 0x08, 0x0B, 0x00});       // active, explicit memory 1
  Result<Module> r = decode(Bytes::header()
                                .section(5, Bytes{0x01, 0x00, 0x01})
                                .section(12, Bytes{0x03})
                                .section(11, datas));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->data_count, std::optional<uint32_t>(3));
  ASSERT_EQ(r->datas.size(), 3u);
  EXPECT_EQ(r->datas[0].mode, SegmentMode::Active);
  EXPECT_EQ(r->datas[0].bytes, (std::vector<uint8_t>{0xAA, 0xBB}));
  EXPECT_EQ(r->datas[1].mode, SegmentMode::Passive);
  EXPECT_EQ(r->datas[1].bytes, std::vector<uint8_t>{0xCC});
  EXPECT_EQ(r->datas[2].memory, 1u);  // kept for the validator ("unknown memory 1")
  EXPECT_EQ(r->datas[2].memory_offset.instrs[0].a, 8u);

  auto withData = [](const Bytes& pre, std::initializer_list<uint8_t> data) {
    return decode(
        Bytes::header().section(5, Bytes{0x01, 0x00, 0x01}).raw(pre).section(11, Bytes(data)));
  };
  EXPECT_TRUE(failsWith(withData(Bytes().section(12, Bytes{0x02}), {0x01, 0x01, 0x00}),
                        ErrorCode::CountMismatch,
                        "data count and data section have inconsistent lengths"));
  EXPECT_TRUE(
      failsWith(decode(Bytes::header().section(12, Bytes{0x01})), ErrorCode::CountMismatch));
  EXPECT_TRUE(decode(Bytes::header().section(12, Bytes{0x00})).ok());
  EXPECT_TRUE(failsWith(withData({}, {0x01, 0x03, 0x00}), ErrorCode::MalformedFlags,
                        "malformed data segment kind"));
  EXPECT_TRUE(failsWith(withData({}, {0x01, 0x01, 0x05, 0xAA}), ErrorCode::UnexpectedEnd,
                        "length out of bounds"));
}

TEST(DecodeSegments, DataIndicesInCodeNeedDataCount) {
  const Bytes memory = Bytes().section(5, Bytes{0x01, 0x00, 0x01});
  const Bytes uses[] = {
      Bytes{0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xFC, 0x08, 0x00, 0x00, 0x0B},  // memory.init
      Bytes{0xFC, 0x09, 0x00, 0x0B},                                            // data.drop
      Bytes{0x41, 0x00, 0x41, 0x00, 0xFB, 0x09, 0x00, 0x00, 0x1A, 0x0B},        // array.new_data
      Bytes{0xFB, 0x12, 0x00, 0x00, 0x0B},                                      // array.init_data
  };
  for (const Bytes& use : uses) {
    Result<Module> without = decode(oneFunction(use, memory));
    EXPECT_TRUE(failsWith(without, ErrorCode::DataCountRequired, "data count section required"));
    Bytes with = memory;
    with.section(12, Bytes{0x00});
    Result<Module> r = decode(oneFunction(use, with));
    EXPECT_TRUE(r.ok()) << r.error().toString();
  }
}

// --- Code: locals and bodies --------------------------------------------------

TEST(DecodeCode, LocalsExpand) {
  Result<Module> r =
      decode(oneFunction(Bytes{0x0B}, {}, Bytes{0x03, 0x02, 0x7F, 0x00, 0x7E, 0x01, 0x63, 0x6E}));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->functions[0].locals,
            (std::vector<ValType>{ValType::i32(), ValType::i32(),
                                  ValType::ref(HeapType::abstract(HeapType::Any), true)}));
}

TEST(DecodeCode, TooManyLocalsFailsWithoutAllocating) {
  // 50000 is the limit, inclusive.
  Result<Module> at_limit =
      decode(oneFunction(Bytes{0x0B}, {}, Bytes().u32(1).u32(kMaxLocals).u8(0x7F)));
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().toString();
  EXPECT_EQ(at_limit->functions[0].locals.size(), kMaxLocals);
  EXPECT_TRUE(
      failsWith(decode(oneFunction(Bytes{0x0B}, {}, Bytes().u32(1).u32(kMaxLocals + 1).u8(0x7F))),
                ErrorCode::TooMany, "too many locals"));
  // Spread over entries, and absurd counts: the total is checked before expansion.
  EXPECT_TRUE(failsWith(
      decode(oneFunction(Bytes{0x0B}, {}, Bytes().u32(2).u32(30000).u8(0x7F).u32(30000).u8(0x7E))),
      ErrorCode::TooMany, "too many locals"));
  EXPECT_TRUE(
      failsWith(decode(oneFunction(Bytes{0x0B}, {}, Bytes().u32(1).u32(0xFFFFFFFF).u8(0x7F))),
                ErrorCode::TooMany, "too many locals"));
  // More local entries than bytes.
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x0B}, {}, Bytes().u32(0xFFFFFFFF))),
                        ErrorCode::UnexpectedEnd, "length out of bounds"));
}

TEST(DecodeCode, LocalsBudgetBoundsTheWholeModule) {
  // Many tiny bodies, each at the per-function limit: the module-wide budget
  // stops the expansion long before memory runs out.
  const uint32_t n = 64;
  Bytes funcs;
  funcs.u32(n);
  Bytes code;
  code.u32(n);
  Bytes body;
  body.u32(1).u32(kMaxLocals).u8(0x7F).u8(0x0B);
  for (uint32_t i = 0; i < n; ++i) {
    funcs.u8(0x00);
    code.u32(body.size()).raw(body);
  }
  Result<Module> r =
      decode(Bytes::header().raw(voidTypeSection()).section(3, funcs).section(10, code));
  EXPECT_TRUE(failsWith(r, ErrorCode::TooMany, "too many locals in the module"));
}

TEST(DecodeCode, BodySizeAndEnd) {
  // The body ends before its final End.
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x41, 0x01, 0x1A})), ErrorCode::MalformedBody,
                        "END opcode expected"));
  // Bytes after the final End.
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x0B, 0x01})), ErrorCode::SectionSizeMismatch));
  // An unclosed block.
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x02, 0x40, 0x0B})), ErrorCode::MalformedBody,
                        "END opcode expected"));
  // A body size beyond the section.
  EXPECT_TRUE(failsWith(decode(Bytes::header()
                                   .raw(voidTypeSection())
                                   .section(3, Bytes{0x01, 0x00})
                                   .section(10, Bytes{0x01, 0x7F, 0x00, 0x0B})),
                        ErrorCode::UnexpectedEnd, "length out of bounds"));
  // else outside an if, and a second else.
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x05, 0x0B})), ErrorCode::MalformedBody,
                        "else without matching if"));
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x02, 0x40, 0x05, 0x0B, 0x0B})),
                        ErrorCode::MalformedBody));
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x41, 0x00, 0x04, 0x40, 0x05, 0x05, 0x0B, 0x0B})),
                        ErrorCode::MalformedBody));
}

TEST(DecodeCode, FunctionBodyOffsetsAndContext) {
  Result<Module> r = decode(oneFunction(Bytes{0x01, 0x0B}));
  ASSERT_TRUE(r.ok());
  const Function& fn = r->functions[0];
  EXPECT_EQ(fn.type_index, 0u);
  EXPECT_EQ(fn.body_size, 3u);
  EXPECT_EQ(fn.body_offset, 8u + 6 + 4 + 3);  // header, types, functions, code id/size/count
  EXPECT_EQ(fn.body[0].offset, fn.body_offset + 2);

  Result<Module> bad = decode(oneFunction(Bytes{0xFF, 0x0B}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().context, "func 0");
  EXPECT_EQ(bad.error().offset, fn.body_offset + 2);
}

// --- Instructions ----------------------------------------------------------------

TEST(DecodeInstr, BlockStructureIndices) {
  std::vector<Instr> b = bodyOf(Bytes{
      0x02, 0x40,  //  0 block
      0x03, 0x7F,  //  1   loop (result i32)
      0x41, 0x01,  //  2     i32.const 1
      0x04, 0x40,  //  3     if
      0x01,        //  4       nop
      0x05,        //  5     else
      0x01,        //  6       nop
      0x0B,        //  7     end
      0x41, 0x00,  //  8     i32.const 0
      0x0B,        //  9   end
      0x1A,        // 10   drop
      0x0B,        // 11 end
      0x41, 0x00,  // 12 i32.const 0
      0x04, 0x40,  // 13 if
      0x0B,        // 14 end
      0x0B,        // 15 end (function)
  });
  ASSERT_EQ(b.size(), 16u);
  EXPECT_EQ(b[0].op, Opcode::Block);
  EXPECT_EQ(b[0].a, static_cast<uint32_t>(BlockTypeKind::Empty));
  EXPECT_EQ(b[0].c, 11u);
  EXPECT_EQ(b[1].op, Opcode::Loop);
  EXPECT_EQ(b[1].a, static_cast<uint32_t>(BlockTypeKind::Value));
  EXPECT_EQ(b[1].b, ValType::i32().bits());
  EXPECT_EQ(b[1].c, 9u);
  EXPECT_EQ(b[3].c, 7u);
  EXPECT_EQ(b[3].d, 5u);
  EXPECT_EQ(b[5].op, Opcode::Else);
  EXPECT_EQ(b[13].c, 14u);
  EXPECT_EQ(b[13].d, 14u);  // no else
  EXPECT_EQ(b[15].op, Opcode::End);
}

TEST(DecodeInstr, BlockTypes) {
  std::vector<Instr> b = bodyOf(Bytes{0x02, 0x01, 0x0B,        // block (type 1)
                                      0x02, 0x63, 0x6E, 0x0B,  // block (result anyref)
                                      0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B,  // type 2^32-1
                                      0x0B});
  ASSERT_EQ(b.size(), 7u);
  EXPECT_EQ(b[0].a, static_cast<uint32_t>(BlockTypeKind::TypeIndex));
  EXPECT_EQ(b[0].b, 1u);
  EXPECT_EQ(b[2].a, static_cast<uint32_t>(BlockTypeKind::Value));
  EXPECT_EQ(b[2].b, ValType::ref(HeapType::abstract(HeapType::Any), true).bits());
  EXPECT_EQ(b[4].a, static_cast<uint32_t>(BlockTypeKind::TypeIndex));
  EXPECT_EQ(b[4].b, 0xFFFFFFFFu);
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0x02, 0x60, 0x0B, 0x0B})),
                        ErrorCode::MalformedType, "malformed block type"));
  EXPECT_TRUE(unsupported(decode(oneFunction(Bytes{0x02, 0x7B, 0x0B, 0x0B})), "SIMD (v128)"));
}

TEST(DecodeInstr, BranchesCallsVariables) {
  std::vector<Instr> b =
      bodyOf(Bytes{0x0E, 0x03, 0x00, 0x01, 0x02, 0x00,  // br_table 0 1 2 default 0
                   0x0E, 0x01, 0x05, 0x07,              // br_table 5 default 7
                   0x0C, 0x02,                          // br 2
                   0x11, 0x02, 0x01,                    // call_indirect type 2 table 1
                   0x13, 0x03, 0x80, 0x01,              // return_call_indirect type 3 table 128
                   0x10, 0x04,                          // call 4
                   0x14, 0x05,                          // call_ref 5
                   0xD5, 0x01, 0xD6, 0x02,              // br_on_null 1, br_on_non_null 2
                   0x20, 0x03, 0x24, 0x04, 0x25, 0x05,  // local.get 3, global.set 4, table.get 5
                   0x1C, 0x02, 0x7F, 0x7E,              // select (result i32 i64)
                   0x0B});
  ASSERT_EQ(b.size(), 14u);
  Result<Module> r =
      decode(oneFunction(Bytes{0x0E, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0E, 0x01, 0x05, 0x07, 0x0B}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->functions[0].extra, (std::vector<uint32_t>{0, 1, 2, 5}));
  EXPECT_EQ(b[0].a, 0u);
  EXPECT_EQ(b[0].b, 3u);
  EXPECT_EQ(b[0].c, 0u);
  EXPECT_EQ(b[1].a, 3u);
  EXPECT_EQ(b[1].b, 1u);
  EXPECT_EQ(b[1].c, 7u);
  EXPECT_EQ(b[2].a, 2u);
  EXPECT_EQ(b[3].op, Opcode::CallIndirect);
  EXPECT_EQ(b[3].a, 2u);
  EXPECT_EQ(b[3].b, 1u);
  EXPECT_EQ(b[4].b, 128u);
  EXPECT_EQ(b[5].a, 4u);
  EXPECT_EQ(b[6].op, Opcode::CallRef);
  EXPECT_EQ(b[6].a, 5u);
  EXPECT_EQ(b[7].op, Opcode::BrOnNull);
  EXPECT_EQ(b[8].a, 2u);
  EXPECT_EQ(b[9].a, 3u);
  EXPECT_EQ(b[10].a, 4u);
  EXPECT_EQ(b[11].a, 5u);
  EXPECT_EQ(b[12].op, Opcode::SelectT);
  EXPECT_EQ(b[12].a, 2u);
  EXPECT_EQ(b[12].b, ValType::i32().bits());
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes().u8(0x0E).u32(0xFFFFFFFF).u8(0x0B))),
                        ErrorCode::UnexpectedEnd, "length out of bounds"));
}

TEST(DecodeInstr, Constants) {
  std::vector<Instr> b = bodyOf(Bytes{
      0x41, 0x7F,                                                        // i32.const -1
      0x41, 0x80, 0x80, 0x80, 0x80, 0x78,                                // i32.const INT32_MIN
      0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x07,                                // i32.const INT32_MAX
      0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F,  // i64.const INT64_MIN
      0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,  // i64.const INT64_MAX
      0x43, 0x00, 0x00, 0x80, 0x3F,                                      // f32.const 1
      0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F,              // f64.const 1
      0x41, 0x80, 0x80, 0x80, 0x80, 0x00,                                // i32.const 0, not minimal
      0x0B});
  ASSERT_EQ(b.size(), 9u);
  EXPECT_EQ(b[0].a, 0xFFFFFFFFu);
  EXPECT_EQ(b[1].a, 0x80000000u);
  EXPECT_EQ(b[2].a, 0x7FFFFFFFu);
  EXPECT_EQ(b[3].u64(), 0x8000000000000000u);
  EXPECT_EQ(b[4].u64(), 0x7FFFFFFFFFFFFFFFu);
  EXPECT_EQ(b[5].a, 0x3F800000u);
  EXPECT_EQ(b[6].u64(), 0x3FF0000000000000u);
  EXPECT_EQ(b[7].a, 0u);
}

TEST(DecodeInstr, MemoryImmediates) {
  const Bytes memory = Bytes().section(5, Bytes{0x01, 0x00, 0x01});
  std::vector<Instr> b =
      bodyOf(Bytes{0x28, 0x02, 0x10,        // i32.load align=4 offset=16
                   0x29, 0x43, 0x00, 0x08,  // i64.load, memidx 0 form
                   0x29, 0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                   0xFF, 0xFF, 0xFF, 0xFF, 0x01,              // offset 2^64-1
                   0x36, 0x1F, 0x80, 0x80, 0x80, 0x80, 0x10,  // align 2^31, offset 2^32
                   0x3F, 0x00, 0x40, 0x80, 0x00,              // memory.size, memory.grow
                   0xFC, 0x0B, 0x00, 0xFC, 0x0A, 0x00, 0x00,  // memory.fill, memory.copy
                   0x0B},
             memory);
  ASSERT_EQ(b.size(), 9u);
  EXPECT_EQ(b[0].a, 2u);
  EXPECT_EQ(b[0].memOffset(), 16u);
  EXPECT_EQ(b[0].d, 0u);
  EXPECT_EQ(b[1].a, 3u);
  EXPECT_EQ(b[1].memOffset(), 8u);
  EXPECT_EQ(b[2].b, 0xFFFFFFFFu);
  EXPECT_EQ(b[2].c, 0xFFFFFFFFu);
  EXPECT_EQ(b[3].a, 31u);  // "alignment too large" is the validator's
  EXPECT_EQ(b[3].b, 0u);
  EXPECT_EQ(b[3].c, 1u);
  EXPECT_EQ(b[4].op, Opcode::MemorySize);
  EXPECT_EQ(b[5].op, Opcode::MemoryGrow);
  EXPECT_EQ(b[6].op, Opcode::MemoryFill);
  EXPECT_EQ(b[7].op, Opcode::MemoryCopy);

  auto body = [&](std::initializer_list<uint8_t> bytes) {
    return decode(oneFunction(Bytes(bytes), memory));
  };
  EXPECT_TRUE(failsWith(body({0x28, 0x80, 0x01, 0x00, 0x0B}), ErrorCode::MalformedFlags,
                        "malformed memop flags"));
  EXPECT_TRUE(unsupported(body({0x28, 0x40, 0x01, 0x00, 0x0B}), "multi-memory"));
  EXPECT_TRUE(unsupported(body({0x3F, 0x01, 0x0B}), "multi-memory"));
  EXPECT_TRUE(unsupported(body({0x40, 0x02, 0x0B}), "multi-memory"));
  EXPECT_TRUE(unsupported(body({0xFC, 0x0B, 0x01, 0x0B}), "multi-memory"));
  EXPECT_TRUE(unsupported(body({0xFC, 0x0A, 0x00, 0x01, 0x0B}), "multi-memory"));
  Bytes with_count = memory;
  with_count.section(12, Bytes{0x00});
  EXPECT_TRUE(unsupported(decode(oneFunction(Bytes{0xFC, 0x08, 0x00, 0x01, 0x0B}, with_count)),
                          "multi-memory"));
}

TEST(DecodeInstr, GcImmediates) {
  std::vector<Instr> b = bodyOf(
      Bytes{0xFB, 0x00, 0x01,                    //  0 struct.new 1
            0xFB, 0x02, 0x01, 0x02,              //  1 struct.get 1 2
            0xFB, 0x08, 0x03, 0x04,              //  2 array.new_fixed 3 4
            0xFB, 0x0A, 0x03, 0x05,              //  3 array.new_elem 3 5
            0xFB, 0x11, 0x03, 0x06,              //  4 array.copy 3 6
            0xFB, 0x14, 0x6C,                    //  5 ref.test i31
            0xFB, 0x15, 0x07,                    //  6 ref.test null 7
            0xFB, 0x16, 0x6E,                    //  7 ref.cast any
            0xFB, 0x17, 0x73,                    //  8 ref.cast null nofunc
            0xFB, 0x18, 0x01, 0x02, 0x6E, 0x03,  //  9 br_on_cast 2 (ref null any) (ref 3)
            0xFB, 0x19, 0x02, 0x00, 0x6D, 0x6C,  // 10 br_on_cast_fail 0 (ref eq) (ref null i31)
            0xFB, 0x1A, 0xFB, 0x1B,              // 11, 12 any.convert_extern, extern.convert_any
            0xFB, 0x1C, 0xFB, 0x1D, 0xFB, 0x1E,  // 13..15 ref.i31, i31.get_s, i31.get_u
            0xD0, 0x70, 0xD0, 0x02,              // 16, 17 ref.null func, ref.null 2
            0xD2, 0x00, 0xD3, 0xD4,              // 18..20 ref.func 0, ref.eq, ref.as_non_null
            0xFB, 0x0F,                          // 21 array.len
            0x0B});
  ASSERT_EQ(b.size(), 23u);
  EXPECT_EQ(b[0].op, Opcode::StructNew);
  EXPECT_EQ(b[0].a, 1u);
  EXPECT_EQ(b[1].op, Opcode::StructGet);
  EXPECT_EQ(b[1].a, 1u);
  EXPECT_EQ(b[1].b, 2u);
  EXPECT_EQ(b[2].op, Opcode::ArrayNewFixed);
  EXPECT_EQ(b[2].b, 4u);
  EXPECT_EQ(b[3].b, 5u);
  EXPECT_EQ(b[4].op, Opcode::ArrayCopy);
  EXPECT_EQ(b[4].a, 3u);
  EXPECT_EQ(b[4].b, 6u);
  EXPECT_EQ(b[5].op, Opcode::RefTest);
  EXPECT_EQ(b[5].a, abstractBits(HeapType::I31));
  EXPECT_EQ(b[6].op, Opcode::RefTestNull);
  EXPECT_EQ(b[6].a, heapBits(HeapType::index(7)));
  EXPECT_EQ(b[8].op, Opcode::RefCastNull);
  EXPECT_EQ(b[8].a, abstractBits(HeapType::NoFunc));
  EXPECT_EQ(b[9].op, Opcode::BrOnCast);
  EXPECT_EQ(b[9].a, 2u);
  EXPECT_EQ(b[9].b, abstractBits(HeapType::Any));
  EXPECT_EQ(b[9].c, heapBits(HeapType::index(3)));
  EXPECT_EQ(b[9].d, 1u);
  EXPECT_EQ(b[10].op, Opcode::BrOnCastFail);
  EXPECT_EQ(b[10].d, 2u);
  EXPECT_EQ(b[10].c, abstractBits(HeapType::I31));
  EXPECT_EQ(b[11].op, Opcode::AnyConvertExtern);
  EXPECT_EQ(b[12].op, Opcode::ExternConvertAny);
  EXPECT_EQ(b[15].op, Opcode::I31GetU);
  EXPECT_EQ(b[16].a, abstractBits(HeapType::Func));
  EXPECT_EQ(b[17].a, heapBits(HeapType::index(2)));
  EXPECT_EQ(b[18].op, Opcode::RefFunc);
  EXPECT_EQ(b[21].op, Opcode::ArrayLen);

  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0xFB, 0x18, 0x04, 0x00, 0x6E, 0x6E, 0x0B})),
                        ErrorCode::MalformedFlags, "malformed cast flags"));
  EXPECT_TRUE(unsupported(decode(oneFunction(Bytes{0xFB, 0x14, 0x69, 0x0B})), "exceptions"));
}

TEST(DecodeInstr, PrefixedSubOpcodesAreLeb) {
  std::vector<Instr> b = bodyOf(Bytes{0xFC, 0x80, 0x00,                    // i32.trunc_sat_f32_s
                                      0xFC, 0x87, 0x80, 0x80, 0x80, 0x00,  // i64.trunc_sat_f64_u
                                      0xFC, 0x10, 0x00,                    // table.size 0
                                      0xFC, 0x0E, 0x01, 0x02,              // table.copy 1 2
                                      0xFC, 0x0C, 0x03, 0x04,              // table.init 3 4
                                      0x0B});
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(b[0].op, Opcode::I32TruncSatF32S);
  EXPECT_EQ(b[1].op, Opcode::I64TruncSatF64U);
  EXPECT_EQ(b[2].op, Opcode::TableSize);
  EXPECT_EQ(b[3].a, 1u);
  EXPECT_EQ(b[3].b, 2u);
  EXPECT_EQ(b[4].op, Opcode::TableInit);
  EXPECT_EQ(b[4].a, 3u);
  EXPECT_EQ(b[4].b, 4u);
  EXPECT_TRUE(failsWith(decode(oneFunction(Bytes{0xFC, 0x87, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0B})),
                        ErrorCode::IntegerTooLong));
}

TEST(DecodeInstr, IllegalAndOutOfScopeOpcodes) {
  auto body = [](std::initializer_list<uint8_t> bytes) {
    return decode(oneFunction(Bytes(bytes)));
  };
  EXPECT_TRUE(failsWith(body({0xFF, 0x0B}), ErrorCode::UnknownOpcode, "illegal opcode 0xff"));
  EXPECT_TRUE(failsWith(body({0x27, 0x0B}), ErrorCode::UnknownOpcode, "illegal opcode 0x27"));
  EXPECT_TRUE(
      failsWith(body({0xFB, 0x7F, 0x0B}), ErrorCode::UnknownOpcode, "illegal opcode 0xfb 0x7f"));
  EXPECT_TRUE(
      failsWith(body({0xFC, 0x12, 0x0B}), ErrorCode::UnknownOpcode, "illegal opcode 0xfc 0x12"));
  EXPECT_TRUE(
      failsWith(body({0xFC, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B}), ErrorCode::UnknownOpcode));
  EXPECT_TRUE(unsupported(body({0xFD, 0x0C, 0x0B}), "SIMD (v128)"));
  EXPECT_TRUE(unsupported(body({0xFE, 0x00, 0x0B}), "threads"));
  for (uint8_t op : {0x06, 0x07, 0x08, 0x09, 0x0A, 0x18, 0x19, 0x1F}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(unsupported(body({op, 0x00, 0x0B}), "exceptions"));
  }
  for (uint8_t op = 0xE0; op <= 0xE6; ++op) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(unsupported(body({op, 0x00, 0x0B}), "stack switching"));
  }
  Result<Module> r = body({0x01, 0xFD, 0x0B});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::Unsupported);
}

// --- LEB128 -------------------------------------------------------------------

TEST(DecodeLeb, UnsignedBounds) {
  auto u32 = [](std::initializer_list<uint8_t> bytes, uint64_t& out) {
    std::vector<uint8_t> v(bytes);
    const uint8_t* p = v.data();
    return leb::readUnsigned<32>(p, v.data() + v.size(), out);
  };
  uint64_t v = 0;
  EXPECT_EQ(u32({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, v), leb::Status::Ok);
  EXPECT_EQ(v, 0xFFFFFFFFu);
  EXPECT_EQ(u32({0x80, 0x80, 0x80, 0x80, 0x00}, v), leb::Status::Ok);
  EXPECT_EQ(v, 0u);
  EXPECT_EQ(u32({0xFF, 0xFF, 0xFF, 0xFF, 0x1F}, v), leb::Status::TooLarge);
  EXPECT_EQ(u32({0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, v), leb::Status::TooLong);
  EXPECT_EQ(u32({0x80, 0x80, 0x80, 0x80, 0xF0, 0x00}, v), leb::Status::TooLarge);  // checked first
  EXPECT_EQ(u32({0x80, 0x80}, v), leb::Status::End);

  std::vector<uint8_t> max64 = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
  const uint8_t* p = max64.data();
  ASSERT_EQ(leb::readUnsigned<64>(p, max64.data() + max64.size(), v), leb::Status::Ok);
  EXPECT_EQ(v, UINT64_MAX);
  max64.back() = 0x02;
  p = max64.data();
  EXPECT_EQ(leb::readUnsigned<64>(p, max64.data() + max64.size(), v), leb::Status::TooLarge);
}

TEST(DecodeLeb, SignedBounds) {
  auto s = [](auto bits, std::initializer_list<uint8_t> bytes, int64_t& out) {
    std::vector<uint8_t> v(bytes);
    const uint8_t* p = v.data();
    return leb::readSigned<decltype(bits)::value>(p, v.data() + v.size(), out);
  };
  using S32 = std::integral_constant<int, 32>;
  using S33 = std::integral_constant<int, 33>;
  using S64 = std::integral_constant<int, 64>;
  int64_t v = 0;
  EXPECT_EQ(s(S32{}, {0x80, 0x80, 0x80, 0x80, 0x78}, v), leb::Status::Ok);
  EXPECT_EQ(v, INT32_MIN);
  EXPECT_EQ(s(S32{}, {0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, v), leb::Status::Ok);
  EXPECT_EQ(v, -1);
  EXPECT_EQ(s(S32{}, {0x80, 0x80, 0x80, 0x80, 0x70}, v), leb::Status::TooLarge);
  EXPECT_EQ(s(S32{}, {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, v), leb::Status::TooLarge);
  EXPECT_EQ(s(S32{}, {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F}, v), leb::Status::TooLong);
  EXPECT_EQ(s(S33{}, {0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, v), leb::Status::Ok);
  EXPECT_EQ(v, 0xFFFFFFFF);
  EXPECT_EQ(s(S33{}, {0x80, 0x80, 0x80, 0x80, 0x70}, v), leb::Status::Ok);
  EXPECT_EQ(v, -(int64_t{1} << 32));
  EXPECT_EQ(s(S33{}, {0x80, 0x80, 0x80, 0x80, 0x20}, v), leb::Status::TooLarge);
  EXPECT_EQ(s(S64{}, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F}, v),
            leb::Status::Ok);
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_EQ(s(S64{}, {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, v),
            leb::Status::TooLarge);
  EXPECT_EQ(s(S64{}, {0x7F}, v), leb::Status::Ok);
  EXPECT_EQ(v, -1);
  EXPECT_EQ(s(S64{}, {0x3F}, v), leb::Status::Ok);
  EXPECT_EQ(v, 63);
}

TEST(DecodeLeb, ErrorsInModules) {
  // A u32 index that is too large and one that is too long.
  Result<Module> large = decode(oneFunction(Bytes{0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0x0B}));
  EXPECT_TRUE(failsWith(large, ErrorCode::IntegerTooLarge, "integer too large"));
  Result<Module> ok = decode(oneFunction(Bytes{0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->functions[0].body[0].a, 0xFFFFFFFFu);
  Result<Module> long_ = decode(oneFunction(Bytes{0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0B}));
  EXPECT_TRUE(failsWith(long_, ErrorCode::IntegerTooLong, "integer representation too long"));
  EXPECT_EQ(long_.error().category(), ErrorCategory::Malformed);
  // The offset is the byte where the problem shows.
  const uint32_t body_start = 8 + 6 + 4 + 3 + 2;
  EXPECT_EQ(large.error().offset, body_start + 5);
  EXPECT_EQ(long_.error().offset, body_start + 6);
  // A section size that is too long.
  EXPECT_TRUE(failsWith(decode(Bytes::header().raw({0x00, 0x83, 0x80, 0x80, 0x80, 0x80, 0x00})),
                        ErrorCode::IntegerTooLong));
}

// --- UTF-8 --------------------------------------------------------------------

TEST(DecodeUtf8, WellFormedSequences) {
  auto valid = [](std::initializer_list<uint8_t> bytes) {
    std::vector<uint8_t> v(bytes);
    return isValidUtf8(v.data(), v.size());
  };
  EXPECT_TRUE(valid({}));
  EXPECT_TRUE(valid({'a', 'b', 0x00, 0x7F}));
  EXPECT_TRUE(valid({0xC2, 0x80}));              // U+0080
  EXPECT_TRUE(valid({0xDF, 0xBF}));              // U+07FF
  EXPECT_TRUE(valid({0xE0, 0xA0, 0x80}));        // U+0800
  EXPECT_TRUE(valid({0xED, 0x9F, 0xBF}));        // U+D7FF
  EXPECT_TRUE(valid({0xEE, 0x80, 0x80}));        // U+E000
  EXPECT_TRUE(valid({0xEF, 0xBB, 0xBF}));        // BOM
  EXPECT_TRUE(valid({0xF0, 0x90, 0x80, 0x80}));  // U+10000
  EXPECT_TRUE(valid({0xF4, 0x8F, 0xBF, 0xBF}));  // U+10FFFF

  EXPECT_FALSE(valid({0x80}));                    // stray continuation
  EXPECT_FALSE(valid({0xC0, 0x80}));              // overlong NUL
  EXPECT_FALSE(valid({0xC1, 0xBF}));              // overlong
  EXPECT_FALSE(valid({0xE0, 0x9F, 0xBF}));        // overlong
  EXPECT_FALSE(valid({0xED, 0xA0, 0x80}));        // surrogate U+D800
  EXPECT_FALSE(valid({0xF0, 0x8F, 0xBF, 0xBF}));  // overlong
  EXPECT_FALSE(valid({0xF4, 0x90, 0x80, 0x80}));  // above U+10FFFF
  EXPECT_FALSE(valid({0xF5, 0x80, 0x80, 0x80}));
  EXPECT_FALSE(valid({0xFF}));
  EXPECT_FALSE(valid({0xE2, 0x82}));  // truncated
  EXPECT_FALSE(valid({0xC2, 0x41}));  // bad continuation
}

TEST(DecodeUtf8, ExportNamesAreChecked) {
  Bytes exports;
  exports.u32(1).u32(2).raw({0xE2, 0x82}).raw({0x00, 0x00});
  Result<Module> r = decode(oneFunction(Bytes{0x0B}, Bytes().section(7, exports)));
  EXPECT_TRUE(failsWith(r, ErrorCode::MalformedUtf8, "malformed UTF-8 encoding"));
}

// --- Counts against remaining bytes ---------------------------------------------

// Each count is checked against the bytes left before anything is
// allocated: a count of 2^32-1 that were reserved or expanded would abort
// under ASan (allocation-size-too-big) or exhaust memory.
TEST(DecodeCounts, HugeDeclaredCountsFailFast) {
  const Bytes huge = Bytes().u32(0xFFFFFFFF);
  // Every vector a section starts with.
  for (uint8_t id : {1, 2, 3, 4, 5, 6, 7, 9, 11}) {
    SCOPED_TRACE(static_cast<int>(id));
    Result<Module> r = decode(Bytes::header().section(id, huge));
    EXPECT_TRUE(failsWith(r, ErrorCode::UnexpectedEnd, "length out of bounds"));
  }
  // Inside types: a rec group, params, struct fields, supertypes.
  for (Bytes t : {Bytes{0x4E}, Bytes{0x60}, Bytes{0x5F}, Bytes{0x50}}) {
    Result<Module> r = decode(Bytes::header().section(1, Bytes{0x01}.raw(t).raw(huge)));
    EXPECT_TRUE(failsWith(r, ErrorCode::UnexpectedEnd, "length out of bounds"));
  }
  // Element items, data bytes, names, select types.
  EXPECT_TRUE(failsWith(decode(Bytes::header().section(9, Bytes{0x01, 0x01, 0x00}.raw(huge))),
                        ErrorCode::UnexpectedEnd));
  EXPECT_TRUE(failsWith(decode(Bytes::header().section(11, Bytes{0x01, 0x01}.raw(huge))),
                        ErrorCode::UnexpectedEnd));
  EXPECT_TRUE(failsWith(decode(Bytes::header().section(0, huge)), ErrorCode::UnexpectedEnd));
  EXPECT_TRUE(
      failsWith(decode(oneFunction(Bytes{0x1C}.raw(huge).u8(0x0B))), ErrorCode::UnexpectedEnd));
  // A 40-byte module declaring 2^32-1 functions and bodies.
  Bytes m = Bytes::header().raw(voidTypeSection()).section(3, Bytes().u32(0xFFFFFFFF).u8(0x00));
  EXPECT_LT(m.size(), 40u);
  EXPECT_TRUE(failsWith(decode(m), ErrorCode::UnexpectedEnd));
}

TEST(DecodeCounts, ImplementationLimitsAreMalformed) {
  // kMaxStructFields + 1 fields of one i32 each: within the bytes, over the limit.
  Bytes fields;
  fields.u32(1).u8(0x5F).u32(kMaxStructFields + 1);
  for (uint32_t i = 0; i <= kMaxStructFields; ++i) fields.raw({0x7F, 0x00});
  Result<Module> r = decode(Bytes::header().section(1, fields));
  EXPECT_TRUE(failsWith(r, ErrorCode::TooMany, "too many struct fields"));
  EXPECT_EQ(r.error().category(), ErrorCategory::Malformed);

  Bytes params;
  params.u32(1).u8(0x60).u32(kMaxParams + 1);
  for (uint32_t i = 0; i <= kMaxParams; ++i) params.u8(0x7F);
  params.u8(0x00);
  EXPECT_TRUE(
      failsWith(decode(Bytes::header().section(1, params)), ErrorCode::TooMany, "too many params"));
}

// --- Names --------------------------------------------------------------------

Bytes subsection(uint8_t id, const Bytes& content) {
  return Bytes().section(id, content);
}

Bytes nameSection(const Bytes& subsections) {
  Bytes payload;
  payload.name("name").raw(subsections);
  return Bytes().section(0, payload);
}

TEST(DecodeNames, AllSubsections) {
  Bytes subs;
  subs.raw(subsection(0, Bytes().name("mod")));
  subs.raw(subsection(1, Bytes().u32(1).u32(0).name("main")));
  subs.raw(subsection(2, Bytes().u32(1).u32(0).u32(2).u32(0).name("x").u32(1).name("y")));
  subs.raw(subsection(3, Bytes().u32(1).u32(0).u32(1).u32(0).name("outer")));
  subs.raw(subsection(4, Bytes().u32(1).u32(0).name("sig")));
  subs.raw(subsection(5, Bytes().u32(1).u32(0).name("tab")));
  subs.raw(subsection(6, Bytes().u32(1).u32(0).name("mem")));
  subs.raw(subsection(7, Bytes().u32(1).u32(2).name("glob")));
  subs.raw(subsection(8, Bytes().u32(1).u32(0).name("seg")));
  subs.raw(subsection(9, Bytes().u32(1).u32(1).name("dat")));
  subs.raw(subsection(10, Bytes().u32(1).u32(0).u32(1).u32(3).name("fld")));
  subs.raw(subsection(11, Bytes().u32(1).u32(0).name("tag")));  // tags: skipped
  Result<Module> r = decode(oneFunction(Bytes{0x0B}).raw(nameSection(subs)));
  ASSERT_TRUE(r.ok()) << r.error().toString();
  const Names& n = r->names;
  EXPECT_EQ(n.module, std::optional<std::string>("mod"));
  EXPECT_EQ(n.functions.at(0), "main");
  EXPECT_EQ(n.locals.at(0).at(1), "y");
  EXPECT_EQ(n.labels.at(0).at(0), "outer");
  EXPECT_EQ(n.types.at(0), "sig");
  EXPECT_EQ(n.tables.at(0), "tab");
  EXPECT_EQ(n.memories.at(0), "mem");
  EXPECT_EQ(n.globals.at(2), "glob");
  EXPECT_EQ(n.elems.at(0), "seg");
  EXPECT_EQ(n.datas.at(1), "dat");
  EXPECT_EQ(n.fields.at(0).at(3), "fld");
  ASSERT_EQ(r->customs.size(), 1u);
  EXPECT_EQ(r->customs[0].name, "name");

  DecodeOptions no_names;
  no_names.parse_names = false;
  Result<Module> r2 = decode(oneFunction(Bytes{0x0B}).raw(nameSection(subs)), no_names);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->names.functions.empty());
}

TEST(DecodeNames, BrokenNameSectionIsIgnored) {
  const Bytes broken[] = {
      subsection(1, Bytes().u32(2).u32(0).name("f")),           // count beyond contents
      subsection(1, Bytes().u32(1).u32(0).name("f").u8(0x00)),  // trailing byte
      subsection(1, Bytes().u32(1).u32(0).u32(1).u8(0xFF)),     // bad UTF-8
      Bytes().raw(subsection(1, Bytes{0x00})).raw(subsection(0, Bytes().name("m"))),  // order
      Bytes{0x01, 0x7F},  // size beyond the section
  };
  for (const Bytes& subs : broken) {
    Result<Module> r = decode(oneFunction(Bytes{0x0B}).raw(nameSection(subs)));
    ASSERT_TRUE(r.ok()) << r.error().toString();
    EXPECT_TRUE(r->names.functions.empty());
    EXPECT_FALSE(r->names.module.has_value());
  }
}

TEST(DecodeNames, ErrorContextUsesFunctionName) {
  Bytes imports;
  imports.u32(1).name("m").name("f").u8(0x00).u32(0);
  Bytes m = Bytes::header()
                .raw(voidTypeSection())
                .section(2, imports)
                .section(3, Bytes{0x01, 0x00})
                .section(10, Bytes{0x01, 0x03, 0x00, 0xFF, 0x0B});
  Result<Module> plain = decode(m);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().context, "func 1");  // imports come first in the index space
  Result<Module> named =
      decode(m.raw(nameSection(subsection(1, Bytes().u32(1).u32(1).name("check")))));
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.error().context, "func $check");
  EXPECT_NE(named.error().toString().find("func $check"), std::string::npos);
}

// --- Robustness -----------------------------------------------------------------

// A module using most sections, with the offsets of its section boundaries.
struct RichModule {
  Bytes bytes;
  std::set<size_t> valid_prefixes;  // lengths at which a prefix is a whole module
};

RichModule richModule() {
  RichModule m;
  m.bytes = Bytes::header();
  m.valid_prefixes.insert(m.bytes.size());
  Bytes types;
  types.u32(3)
      .raw({0x4E, 0x02, 0x50, 0x00, 0x5F, 0x01, 0x63, 0x01, 0x01, 0x4F, 0x01, 0x00, 0x5F, 0x01,
            0x63, 0x00, 0x01})
      .raw({0x5E, 0x78, 0x01})
      .raw({0x60, 0x01, 0x7F, 0x01, 0x63, 0x6E});
  m.bytes.section(1, types);
  m.valid_prefixes.insert(m.bytes.size());
  Bytes imports;
  imports.u32(1).name("env").name("g").raw({0x03, 0x7F, 0x00});
  m.bytes.section(2, imports);
  m.valid_prefixes.insert(m.bytes.size());
  m.bytes.section(3, Bytes{0x02, 0x03, 0x03});
  m.bytes.section(4, Bytes{0x01, 0x70, 0x00, 0x02});
  m.bytes.section(5, Bytes{0x01, 0x01, 0x01, 0x02});
  m.bytes.section(6, Bytes{0x01, 0x63, 0x6E, 0x01, 0xD0, 0x6E, 0x0B});
  m.bytes.section(7, Bytes().u32(1).name("run").u8(0x00).u32(0));
  m.bytes.section(9, Bytes{0x01, 0x00, 0x41, 0x00, 0x0B, 0x02, 0x00, 0x01});
  m.bytes.section(12, Bytes{0x01});
  Bytes body0;
  body0.raw({0x01, 0x02, 0x7F, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x04, 0x40, 0x0C,
             0x01, 0x05, 0x0C, 0x02, 0x0B, 0x0B, 0x0B, 0x41, 0x00, 0xFB, 0x07, 0x01,
             0xFB, 0x16, 0x6A, 0x1A, 0x28, 0x02, 0x04, 0x1A, 0xD0, 0x6E, 0x0B});
  Bytes body1;
  body1.raw({0x00, 0x0E, 0x02, 0x00, 0x01, 0x00, 0xFC, 0x09, 0x00, 0xD0, 0x6E, 0x0B});
  m.bytes.section(10, Bytes().u32(2).u32(body0.size()).raw(body0).u32(body1.size()).raw(body1));
  m.bytes.section(11, Bytes{0x01, 0x01, 0x03, 0x61, 0x62, 0x63});
  m.valid_prefixes.insert(m.bytes.size());
  Bytes names;
  names.name("name").raw(subsection(1, Bytes().u32(1).u32(1).name("run")));
  m.bytes.section(0, names);
  return m;
}

TEST(DecodeRobustness, RichModuleDecodes) {
  RichModule m = richModule();
  Result<Module> r = decode(m.bytes);
  ASSERT_TRUE(r.ok()) << r.error().toString();
  EXPECT_EQ(r->types.size(), 4u);
  EXPECT_EQ(r->functions.size(), 2u);
  EXPECT_EQ(r->names.functions.at(1), "run");
}

TEST(DecodeRobustness, EveryTruncationIsAnError) {
  RichModule m = richModule();
  const std::vector<uint8_t>& full = m.bytes.data();
  for (size_t len = 0; len < full.size(); ++len) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
    Result<Module> r = decodeModule(prefix);
    if (m.valid_prefixes.count(len) != 0) {
      EXPECT_TRUE(r.ok()) << "prefix " << len << ": " << r.error().toString();
      continue;
    }
    ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes decoded";
    EXPECT_LE(r.error().offset, len) << r.error().toString();
    EXPECT_EQ(r.error().category(), ErrorCategory::Malformed) << r.error().toString();
  }
}

TEST(DecodeRobustness, MutatedBytesNeverCrash) {
  const std::vector<uint8_t> full = richModule().bytes.data();
  size_t errors = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    const std::initializer_list<uint8_t> values = {
        0x00, 0x01, 0x0B, 0x40, 0x7F, 0x80, 0xFF, static_cast<uint8_t>(full[i] ^ 0x01)};
    for (uint8_t value : values) {
      std::vector<uint8_t> mutated = full;
      mutated[i] = value;
      Result<Module> r = decodeModule(mutated);
      if (!r.ok()) {
        ++errors;
        EXPECT_LE(r.error().offset, mutated.size());
        EXPECT_FALSE(r.error().message.empty());
      }
    }
  }
  EXPECT_GT(errors, 0u);
}

}  // namespace
}  // namespace slabfuzz
