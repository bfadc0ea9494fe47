// Tests of the text-format assembler (text/): the lexer's edge cases,
// numeric literals (f32 rounding, NaN payloads, ranges), abbreviations
// against hand-written bytes, error positions, and a round trip of every
// committed .wat against our decoder and validator and, where Binaryen's
// .wasm sits beside it, against the same function bodies.
#include "text/wat.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/decode.h"
#include "runtime/validate.h"
#include "tests/support/wasm_bytes.h"
#include "text/numbers.h"

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;
using test::Bytes;
using test::funcT;
using test::vec;

std::vector<uint8_t> assemble(std::string_view text) {
  auto r = assembleWat(text);
  EXPECT_TRUE(r.ok()) << text << "\n" << (r.ok() ? "" : r.error().toString());
  return r.ok() ? r.value() : std::vector<uint8_t>{};
}

bool malformed(std::string_view text) {
  auto r = assembleWat(text);
  return !r.ok() && r.error().category() == ErrorCategory::Malformed;
}

bool validates(std::string_view text) {
  auto r = assembleWat(text);
  if (!r.ok()) return false;
  auto m = decodeModule(r.value());
  return m.ok() && validateModule(m.value()).ok();
}

Bytes module(std::initializer_list<Bytes> sections) {
  Bytes b = Bytes::header();
  for (const Bytes& s : sections) b.raw(s);
  return b;
}

Bytes section(uint8_t id, const Bytes& payload) {
  Bytes b;
  return b.section(id, payload);
}

// --- lexer -----------------------------------------------------------------------

TEST(WatLexer, CommentsNestAndLineCommentsEndAtLoneCr) {
  EXPECT_TRUE(validates("(module (; a (; nested ;) b ;) (func))"));
  // A lone CR ends a line comment: the `(func)` after it is read.
  auto bytes = assemble("(module ;; comment\r(func))");
  EXPECT_EQ(bytes, module({section(1, vec({funcT({}, {})})), section(3, vec({Bytes{0x00}})),
                           section(10, vec({Bytes{0x02, 0x00, 0x0B}}))})
                       .data());
  EXPECT_TRUE(malformed("(module (; unclosed"));
  EXPECT_TRUE(malformed("(module (func)"));
}

TEST(WatLexer, AnnotationsAreSkippedAnywhere) {
  EXPECT_EQ(assemble("(module (@a x (y) \"s\") (func (@b) (@c 1 2)))"),
            assemble("(module (func))"));
  EXPECT_TRUE(validates("(@x)(module)"));
  EXPECT_TRUE(malformed("(module (@ x))"));      // empty annotation id
  EXPECT_TRUE(malformed("(module (@a \x01))"));  // control character
}

TEST(WatLexer, ReservedTokensAreRejected) {
  EXPECT_TRUE(malformed("(module (func (drop (i32.const0))))"));
  EXPECT_TRUE(malformed("(module (func br 0drop))"));
  EXPECT_TRUE(malformed("(module (data\"a\"))"));
  EXPECT_TRUE(malformed("(module (func (i32.const 0x) drop))"));
  EXPECT_TRUE(malformed("(module (func (i32.const 1_) drop))"));
  EXPECT_TRUE(malformed("(module (func (i32.const 1__0) drop))"));
  EXPECT_TRUE(malformed("(module (func $))"));
}

TEST(WatLexer, StringIdsEqualPlainIds) {
  EXPECT_EQ(assemble("(module (func $\"f\") (export \"e\" (func $f)))"),
            assemble("(module (func $f) (export \"e\" (func 0)))"));
  EXPECT_TRUE(malformed("(module (func $\"\"))"));
}

TEST(WatLexer, StringEscapesAndUtf8) {
  auto bytes =
      assemble("(module (memory 1) (data (i32.const 0) \"\\t\\n\\r\\\"\\'\\\\\\41\\u{1F600}\"))");
  const std::string expected = "\t\n\r\"'\\A\xF0\x9F\x98\x80";
  std::string tail(bytes.end() - expected.size(), bytes.end());
  EXPECT_EQ(tail, expected);
  EXPECT_TRUE(malformed("(module (export \"\\ff\" (func 0)) (func))"));         // names are UTF-8
  EXPECT_TRUE(validates("(module (memory 1) (data (i32.const 0) \"\\ff\"))"));  // data is bytes
  EXPECT_TRUE(malformed("(module (data \"\\u{D800}\"))"));
  EXPECT_TRUE(malformed("(module (data \"\\q\"))"));
  EXPECT_TRUE(malformed("(module (data \"\xC3\x28\"))"));  // invalid UTF-8 in the source
}

// --- numbers ---------------------------------------------------------------------

TEST(WatNumbers, IntegerRanges) {
  using wat::parseInt;
  EXPECT_EQ(parseInt("0xffff_ffff", 32), 0xFFFFFFFFu);
  EXPECT_EQ(parseInt("-0x8000_0000", 32), 0x80000000u);
  EXPECT_EQ(parseInt("-1", 32), 0xFFFFFFFFu);
  EXPECT_EQ(parseInt("4294967295", 32), 0xFFFFFFFFu);
  EXPECT_FALSE(parseInt("4294967296", 32));
  EXPECT_FALSE(parseInt("-0x8000_0001", 32));
  EXPECT_FALSE(parseInt("+0x8000_0000", 32));  // a signed literal is in signed range
  EXPECT_EQ(parseInt("0xffff_ffff_ffff_ffff", 64), ~uint64_t{0});
  EXPECT_FALSE(parseInt("18446744073709551616", 64));
  EXPECT_FALSE(parseInt("_1", 32));
  EXPECT_FALSE(parseInt("1_", 32));
  EXPECT_FALSE(wat::parseUnsigned("-1", 32));
}

TEST(WatNumbers, F32RoundsCorrectlyNotThroughF64) {
  using wat::parseF32;
  // 1 + 2^-24 is halfway between two f32s: ties to even.
  EXPECT_EQ(parseF32("0x1.000001p0"), 0x3F800000u);
  // A hair above halfway rounds up; through f64 it would first round to
  // exactly halfway and then down to 1.0.
  EXPECT_EQ(parseF32("0x1.00000100000000001p0"), 0x3F800001u);
  EXPECT_EQ(parseF32("1.00000005960464477539062500001"), 0x3F800001u);
  EXPECT_EQ(parseF32("1.000000059604644775390625"), 0x3F800000u);
  EXPECT_EQ(parseF32("0x1p-149"), 0x00000001u);
  EXPECT_EQ(parseF32("-0x0p+0"), 0x80000000u);
  EXPECT_EQ(parseF32("1_000.5e-3"), parseF32("1.0005"));
  EXPECT_EQ(parseF32("3.4028235e38"), 0x7F7FFFFFu);
  EXPECT_FALSE(parseF32("3.4028236e38"));  // rounds to infinity: out of range
  EXPECT_FALSE(parseF32("0x1p128"));
  EXPECT_EQ(parseF32("1."), 0x3F800000u);
  EXPECT_FALSE(parseF32("1.e"));
  EXPECT_FALSE(parseF32(".5"));
}

TEST(WatNumbers, InfinityAndNanPayloads) {
  using wat::parseF32;
  using wat::parseF64;
  EXPECT_EQ(parseF32("inf"), 0x7F800000u);
  EXPECT_EQ(parseF32("-inf"), 0xFF800000u);
  EXPECT_EQ(parseF32("nan"), 0x7FC00000u);
  EXPECT_EQ(parseF32("-nan"), 0xFFC00000u);
  EXPECT_EQ(parseF32("nan:0x200000"), 0x7FA00000u);
  EXPECT_EQ(parseF32("+nan:0x1"), 0x7F800001u);
  EXPECT_FALSE(parseF32("nan:0x0"));
  EXPECT_FALSE(parseF32("nan:0x80_0000"));
  EXPECT_EQ(parseF64("nan:0xf_ffff_ffff_ffff"), 0x7FFFFFFFFFFFFFFFu);
  EXPECT_FALSE(parseF64("nan:0x10_0000_0000_0000"));
  EXPECT_EQ(parseF64("-0x1.fffffffffffffp1023"), 0xFFEFFFFFFFFFFFFFu);
}

// --- abbreviations against hand-written bytes ------------------------------------

TEST(WatAbbreviations, InlineExportAndParams) {
  auto got = assemble(
      "(module (func $f (export \"f\") (param $x i32) (result i32) (local i64 i64) local.get $x))");
  Bytes body{0x01, 0x02, 0x7E, 0x20, 0x00, 0x0B};
  Bytes code;
  code.u32(body.size()).raw(body);
  // The ids go to the name section: function names (1) and local names (2).
  Bytes names;
  names.name("name")
      .raw(section(1, vec({Bytes{0x00}.name("f")})))
      .raw(section(2, vec({Bytes{0x00}.raw(vec({Bytes{0x00}.name("x")}))})));
  EXPECT_EQ(got, module({section(1, vec({funcT({Bytes{0x7F}}, {Bytes{0x7F}})})),
                         section(3, vec({Bytes{0x00}})),
                         section(7, vec({Bytes{}.name("f").raw({0x00, 0x00})})),
                         section(10, vec({code})), section(0, names)})
                     .data());
}

TEST(WatAbbreviations, InlineImportAppendsImplicitType) {
  auto got = assemble("(module (type (func (param i32))) (func (import \"m\" \"n\") (param i64)))");
  EXPECT_EQ(got, module({section(1, vec({funcT({Bytes{0x7F}}, {}), funcT({Bytes{0x7E}}, {})})),
                         section(2, vec({Bytes{}.name("m").name("n").raw({0x00, 0x01})}))})
                     .data());
  EXPECT_TRUE(malformed("(module (func) (import \"m\" \"n\" (func)))"));  // import after definition
  EXPECT_TRUE(malformed("(module (func (import \"m\" \"n\") (export \"e\")))"));
}

TEST(WatAbbreviations, ImplicitTypeMatchesOnlyFinalSingletons) {
  // (type (func)) is (rec (type (sub final (func)))): reused.
  auto r = decodeModule(assemble("(module (type (func)) (func))"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().types.size(), 1u);
  // A non-final type is not reused: a new type is appended at the end.
  auto appended = decodeModule(assemble("(module (type (sub (func))) (func))"));
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(appended.value().types.size(), 2u);
  EXPECT_EQ(appended.value().func_types[0], 1u);
  // Neither is a member of a larger rec group.
  auto rec = decodeModule(assemble("(module (rec (type (func)) (type (struct))) (func))"));
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec.value().func_types[0], 2u);
}

TEST(WatAbbreviations, TableWithInlineElemAndMemoryWithInlineData) {
  auto got = assemble("(module (table funcref (elem $f $f)) (memory (data \"ab\")) (func $f))");
  auto m = decodeModule(got);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m.value().table_types[0].limits.min, 2u);
  EXPECT_EQ(m.value().table_types[0].limits.max, 2u);
  EXPECT_EQ(m.value().memory_types[0].limits.min, 1u);
  ASSERT_EQ(m.value().elems.size(), 1u);
  EXPECT_EQ(m.value().elems[0].items.size(), 2u);
  ASSERT_EQ(m.value().datas.size(), 1u);
  EXPECT_EQ(m.value().datas[0].bytes.size(), 2u);
  EXPECT_TRUE(validateModule(m.value()).ok());
}

TEST(WatAbbreviations, GcInstructions) {
  // struct.get with field names, ref.test with a nullable type, br_on_cast flags.
  auto got = assemble(R"((module
    (type $p (struct (field $x i32) (field $y (mut i64))))
    (func (param (ref null $p)) (result i64)
      (struct.get $p $y (local.get 0)))
    (func (param anyref) (result i32) (ref.test (ref null $p) (local.get 0)))
    (func (param anyref) (result anyref)
      (block $l (result anyref) (br_on_cast $l anyref (ref $p) (local.get 0))))))");
  auto m = decodeModule(got);
  ASSERT_TRUE(m.ok()) << m.error().toString();
  EXPECT_TRUE(validateModule(m.value()).ok());
  const auto& get = m.value().functions[0].body;
  EXPECT_EQ(get[1].op, Opcode::StructGet);
  EXPECT_EQ(get[1].b, 1u);  // $y
  EXPECT_EQ(m.value().functions[1].body[1].op, Opcode::RefTestNull);
  EXPECT_EQ(m.value().functions[2].body[2].op, Opcode::BrOnCast);
  EXPECT_EQ(m.value().functions[2].body[2].d, 1u);  // source nullable, target not
}

TEST(WatAbbreviations, InvalidModulesAreEncodedAsWritten) {
  // A type error and an out-of-range index: assembled, and the validator says no.
  for (const char* text : {"(module (func (result i32) (i64.const 0)))", "(module (func (call 7)))",
                           "(module (func (local.get 3)))"}) {
    auto r = assembleWat(text);
    ASSERT_TRUE(r.ok()) << text;
    auto m = decodeModule(r.value());
    ASSERT_TRUE(m.ok()) << text;
    EXPECT_FALSE(validateModule(m.value()).ok()) << text;
  }
}

// --- errors ------------------------------------------------------------------------

TEST(WatErrors, MalformedTextNamesLineAndColumn) {
  auto r = assembleWat("(module\n  (func\n    (i32.const 0x1_0000_0000) drop))");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().category(), ErrorCategory::Malformed);
  EXPECT_TRUE(r.error().message.starts_with("3:16: ")) << r.error().message;
  auto u = assembleWat("(module\n (func (drop (i32.add2))))");
  ASSERT_FALSE(u.ok());
  EXPECT_TRUE(u.error().message.starts_with("2:15: unknown operator")) << u.error().message;
}

TEST(WatErrors, StrictGrammar) {
  EXPECT_TRUE(malformed("(module (func $f) (func $f))"));       // duplicate id
  EXPECT_TRUE(malformed("(module (func (block $a end $b)))"));  // mismatched label
  EXPECT_TRUE(malformed("(module (func (result i32) (param i32) unreachable))"));  // order
  EXPECT_TRUE(malformed("(module (memory 1) (func (drop (i32.load align=3 (i32.const 0)))))"));
  EXPECT_TRUE(malformed("(module (type $t (func)) (func (type $t) (param i32)))"));
  EXPECT_TRUE(malformed("(module (func (call_indirect (param $x i32) (i32.const 0))))"));
  EXPECT_TRUE(malformed("(module (start 0) (start 0) (func))"));
  EXPECT_TRUE(malformed("(module (func (br $nowhere)))"));
  EXPECT_TRUE(malformed("(module (type $s (struct (field $a i32) (field $a i32))))"));
}

TEST(WatErrors, OutOfScopeFeaturesAreUnsupported) {
  for (const char* text :
       {"(module (func (param v128)))", "(module (func (drop (i32x4.splat (i32.const 0)))))",
        "(module (tag))", "(module (func (try_table)))", "(module (memory i64 1))",
        "(module (memory 1) (memory 1))", "(module (memory 1 1 shared))"}) {
    auto r = assembleWat(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, ErrorCode::UnsupportedFeature) << text;
    EXPECT_TRUE(r.error().message.starts_with("unsupported feature: ")) << r.error().message;
  }
}

TEST(WatInput, BinaryAndQuoteForms) {
  EXPECT_EQ(assemble("(module $m binary \"\\00asm\" \"\\01\\00\\00\\00\")"),
            Bytes::header().data());
  EXPECT_EQ(assemble("(module quote \"(func)\")"), assemble("(module (func))"));
  EXPECT_EQ(assemble("(func) (export \"f\" (func 0))"),
            assemble("(module (func) (export \"f\" (func 0)))"));
}

TEST(WatInput, LooksLikeWat) {
  auto is = [](std::string_view s) {
    return looksLikeWat({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  };
  EXPECT_TRUE(is("  ;; c\n (; b ;) (module)"));
  EXPECT_FALSE(is(std::string_view("\0asm\1\0\0\0", 8)));
  EXPECT_FALSE(is("   "));
}

// --- round trip of the committed texts ---------------------------------------------

fs::path sourceDir() {
  return fs::path(__FILE__).parent_path().parent_path().parent_path();
}

std::string readText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<uint8_t> readBytes(const fs::path& p) {
  std::string s = readText(p);
  return {s.begin(), s.end()};
}

std::vector<std::string> computing(const std::vector<Instr>& body) {
  std::vector<std::string> out;
  for (size_t k = 0; k < body.size(); ++k) {
    const Instr& i = body[k];
    // Binaryen drops dead code after an unconditional transfer: skip to
    // the End or Else that closes the current block, on both sides.
    if (i.op == Opcode::Br || i.op == Opcode::BrTable || i.op == Opcode::Return ||
        i.op == Opcode::Unreachable || i.op == Opcode::ReturnCall ||
        i.op == Opcode::ReturnCallRef || i.op == Opcode::ReturnCallIndirect) {
      if (i.op != Opcode::Br && i.op != Opcode::Unreachable) out.emplace_back(opcodeName(i.op));
      int depth = 0;
      while (k + 1 < body.size()) {
        Opcode next = body[k + 1].op;
        if (next == Opcode::Block || next == Opcode::Loop || next == Opcode::If) ++depth;
        if (next == Opcode::End || next == Opcode::Else) {
          if (depth == 0) break;
          if (next == Opcode::End) --depth;
        }
        ++k;
      }
      continue;
    }
    switch (i.op) {
      case Opcode::Block:
      case Opcode::End:
      case Opcode::Nop:
      case Opcode::Unreachable:
      case Opcode::Drop:
      case Opcode::LocalGet:
      case Opcode::LocalSet:
      case Opcode::LocalTee:
      case Opcode::Br: break;
      default: out.emplace_back(opcodeName(i.op));
    }
  }
  return out;
}

TEST(WatRoundTrip, CommittedTextsMatchBinaryen) {
  std::vector<fs::path> wats;
  for (const char* dir : {"corpus/decode", "tests/unit/data/exec", "corpus/wat"}) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(sourceDir() / dir, ec))
      if (e.path().extension() == ".wat") wats.push_back(e.path());
  }
  std::sort(wats.begin(), wats.end());
  ASSERT_FALSE(wats.empty()) << "no .wat under " << sourceDir();
  for (const fs::path& wat : wats) {
    SCOPED_TRACE(wat.string());
    auto ours = assembleWat(readText(wat));
    ASSERT_TRUE(ours.ok()) << ours.error().toString();
    auto m = decodeModule(ours.value());
    ASSERT_TRUE(m.ok()) << m.error().toString();
    Status valid = validateModule(m.value());
    ASSERT_TRUE(valid.ok()) << valid.error().toString();
    fs::path wasm = wat;
    wasm.replace_extension(".wasm");
    if (!fs::exists(wasm)) continue;
    auto theirs = decodeModule(readBytes(wasm));
    ASSERT_TRUE(theirs.ok()) << theirs.error().toString();
    // The same instruction sequences, function by function. Binaryen's
    // writer is not literal (it drops unused blocks, moves dead drops,
    // lowers multi-value through locals, adds `unreachable` after code that
    // cannot fall through), so what is compared is the sequence of
    // instructions that compute something: block structure, locals and
    // stack shuffling are left out.
    ASSERT_EQ(m.value().functions.size(), theirs.value().functions.size());
    for (size_t f = 0; f < m.value().functions.size(); ++f) {
      EXPECT_EQ(computing(m.value().functions[f].body), computing(theirs.value().functions[f].body))
          << "function " << f;
    }
  }
}

}  // namespace
}  // namespace slabfuzz
