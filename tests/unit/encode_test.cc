// Tests of the binary encoder (generators/encode.h) and modulesEqual
// (generators/module_equal.h): the round trip decode -> encode -> decode over
// every committed .wasm and every module of the spec suite our decoder
// accepts, with the validator's verdict unchanged and the encoding
// idempotent; and hand-written modules for the encodings where the binary
// format offers a choice (element segment forms, rec groups, block
// structure, large memarg offsets, the data count section, names).
#include "generators/encode.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "generators/byte_writer.h"
#include "generators/module_equal.h"
#include "runtime/binary_reader.h"
#include "runtime/decode.h"
#include "runtime/validate.h"
#include "tests/spec/wast.h"
#include "text/wat.h"

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;

fs::path sourceDir() {
  return fs::path(SLABFUZZ_GOLDEN_DIR).parent_path().parent_path();
}

std::vector<uint8_t> readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// "valid", or the validator's error code and message (offsets differ between
// the two encodings, so they are left out).
std::string verdict(const Module& m) {
  Status s = validateModule(m);
  if (s.ok()) return "valid";
  return std::to_string(static_cast<int>(s.error().code)) + ": " + s.error().message;
}

// decode -> encode -> decode, compared; the verdict kept; encoding idempotent.
// Returns false (with a gtest failure) on any difference; `decoded` tells
// whether the original decoded at all (a module the decoder rejects is not
// the encoder's business).
bool roundTrip(std::span<const uint8_t> bytes, const std::string& label, bool* decoded = nullptr) {
  auto original = decodeModule(bytes);
  if (decoded != nullptr) *decoded = original.ok();
  if (!original.ok()) return true;
  const std::vector<uint8_t> encoded = encodeModule(original.value());
  auto again = decodeModule(encoded);
  if (!again.ok()) {
    ADD_FAILURE() << label << ": re-encoded module does not decode: " << again.error().toString();
    return false;
  }
  std::string diff;
  if (!modulesEqual(original.value(), again.value(), &diff)) {
    ADD_FAILURE() << label << ": round trip differs at " << diff;
    return false;
  }
  const std::string before = verdict(original.value());
  const std::string after = verdict(again.value());
  if (before != after) {
    ADD_FAILURE() << label << ": verdict changed from \"" << before << "\" to \"" << after << "\"";
    return false;
  }
  if (encodeModule(again.value()) != encoded) {
    ADD_FAILURE() << label << ": encoding is not idempotent";
    return false;
  }
  return true;
}

Module decodeOk(std::span<const uint8_t> bytes) {
  auto m = decodeModule(bytes);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().toString());
  return m.ok() ? std::move(m.value()) : Module{};
}

std::vector<uint8_t> assemble(std::string_view text) {
  auto r = assembleWat(text);
  EXPECT_TRUE(r.ok()) << text << "\n" << (r.ok() ? "" : r.error().toString());
  return r.ok() ? r.value() : std::vector<uint8_t>{};
}

// The payload of the first section with `id` in a binary module, or empty.
std::vector<uint8_t> sectionPayload(const std::vector<uint8_t>& module, uint8_t id) {
  BinaryReader r(module);
  const uint8_t* skip;
  if (!r.readBytes(8, skip)) return {};
  while (!r.atEnd()) {
    uint8_t sid;
    uint32_t size;
    const uint8_t* payload;
    if (!r.readU8(sid) || !r.readU32(size) || !r.readBytes(size, payload)) return {};
    if (sid == id) return {payload, payload + size};
  }
  return {};
}

// --- Round trips over committed modules ----------------------------------------

// Every committed .wasm, and every committed .wat through the assembler.
TEST(EncodeRoundTrip, CorpusAndExecData) {
  int binaries = 0, texts = 0;
  for (const fs::path& dir : {sourceDir() / "corpus", sourceDir() / "tests/unit/data/exec"}) {
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      std::vector<uint8_t> bytes;
      if (entry.path().extension() == ".wasm") {
        bytes = readFile(entry.path());
        ++binaries;
      } else if (entry.path().extension() == ".wat") {
        const auto text = readFile(entry.path());
        bytes = assemble(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
        ++texts;
      } else {
        continue;
      }
      bool decoded = false;
      EXPECT_TRUE(roundTrip(bytes, entry.path().string(), &decoded));
      EXPECT_TRUE(decoded) << entry.path() << " no longer decodes";
    }
  }
  EXPECT_GE(binaries, 14);
  std::printf("round-tripped %d committed .wasm and %d assembled .wat modules\n", binaries, texts);
}

fs::path specDir() {
  if (const char* env = std::getenv("SLABFUZZ_SPEC_DIR")) return env;
  return sourceDir().parent_path() / "shared" / "spec-tests";
}

// Every module form in every .wast of the suite (modules inside assertions
// included: an invalid module must stay invalid, with the same message).
TEST(EncodeRoundTrip, SpecSuite) {
  const fs::path dir = specDir();
  if (!fs::is_directory(dir)) {
    std::printf("skipped: spec suite not found at %s (set SLABFUZZ_SPEC_DIR)\n",
                dir.string().c_str());
    GTEST_SKIP() << "spec suite not found at " << dir;
  }
  int scripts = 0, forms = 0, round_tripped = 0, not_decoded = 0, not_assembled = 0,
      not_assembled_unsupported = 0, malformed_text = 0, valid = 0;
  int failures = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".wast") continue;
    auto script = wast::parseScriptFile(entry.path().string());
    if (!script.ok()) continue;
    ++scripts;
    for (const wast::Command& cmd : script.value().commands) {
      if (!cmd.module) continue;
      ++forms;
      std::vector<uint8_t> bytes;
      if (cmd.module->form == wast::ModuleForm::Binary) {
        bytes = cmd.module->bytes;
      } else {
        auto assembled = assembleWat(cmd.module->wat());
        if (!assembled.ok()) {
          if (assembled.error().code == ErrorCode::UnsupportedFeature) {
            ++not_assembled_unsupported;
          } else if (cmd.kind == wast::CommandKind::AssertMalformed) {
            ++malformed_text;
          } else {
            ++not_assembled;
            if (std::getenv("SLABFUZZ_ENCODE_VERBOSE") != nullptr) {
              std::printf("not assembled: %s:%u: %s\n", entry.path().filename().c_str(), cmd.line,
                          assembled.error().toString().c_str());
            }
          }
          continue;
        }
        bytes = std::move(assembled.value());
      }
      const std::string label = entry.path().filename().string() + ":" + std::to_string(cmd.line);
      bool decoded = false;
      if (!roundTrip(bytes, label, &decoded)) {
        if (++failures > 20) FAIL() << "too many failures";
      }
      if (decoded) {
        ++round_tripped;
        if (auto m = decodeModule(bytes); m.ok() && validateModule(m.value()).ok()) ++valid;
      } else {
        ++not_decoded;
      }
    }
  }
  std::printf(
      "spec suite: %d scripts, %d module forms, %d round-tripped (%d of them valid), %d rejected "
      "by the decoder; not assembled: %d assert_malformed texts, %d with an unsupported "
      "feature, %d others (SLABFUZZ_ENCODE_VERBOSE=1 lists them)\n",
      scripts, forms, round_tripped, valid, not_decoded, malformed_text, not_assembled_unsupported,
      not_assembled);
  EXPECT_GT(round_tripped, 1000);
}

// --- Hand-written cases ------------------------------------------------------------

// The element segment encodings (spec 5.5.12) the encoder writes: each
// module below holds one segment and the encoder must pick exactly the
// expected flags. Flags 1 and 2 (function indices with an elemkind) are
// never written: Binaryen 132 reads elemkind 0x00 as the nullable funcref,
// so passive and explicit-table (ref func) segments take the expression
// form with their type (flags 5 and 6), which every reader agrees on.
// Decoding all eight forms is EveryInputFlagRoundTrips' job.
TEST(EncodeElem, ChosenForms) {
  const std::string prelude =
      "(type $ft (func)) (func $f) (table $t0 2 funcref) (table $t1 2 funcref) ";
  const struct {
    uint32_t flags;
    std::string elem;
  } cases[] = {
      {0, "(elem (i32.const 0) func $f $f)"},
      {5, "(elem func $f)"},
      {6, "(elem (table $t1) (i32.const 0) func $f)"},
      {3, "(elem declare func $f)"},
      {4, "(elem (i32.const 0) funcref (ref.null func) (ref.func $f))"},
      {5, "(elem funcref (ref.null func))"},
      {6, "(elem (table $t1) (i32.const 1) funcref (ref.null func))"},
      {7, "(elem declare (ref $ft) (ref.func $f))"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.elem);
    const auto bytes = assemble("(module " + prelude + c.elem + ")");
    const Module m = decodeOk(bytes);
    ASSERT_EQ(m.elems.size(), 1u);
    const auto encoded = encodeModule(m);
    const auto payload = sectionPayload(encoded, 9);
    ASSERT_GE(payload.size(), 2u);
    EXPECT_EQ(payload[0], 1);  // one segment
    EXPECT_EQ(payload[1], c.flags);
    EXPECT_TRUE(roundTrip(bytes, c.elem));
    EXPECT_TRUE(validateModule(decodeOk(encoded)).ok());
  }
}

// The same eight forms as input bytes, including spellings the encoder
// would not choose (an explicit table 0, an explicit (ref func) type over
// ref.func expressions): each decodes to a Module the encoder writes in its
// own form, which decodes to the same Module.
TEST(EncodeElem, EveryInputFlagRoundTrips) {
  const struct {
    std::vector<uint8_t> segment;
    uint8_t chosen;
  } cases[] = {
      {{0x00, 0x41, 0x00, 0x0B, 0x01, 0x00}, 0},
      {{0x01, 0x00, 0x01, 0x00}, 5},
      {{0x02, 0x00, 0x41, 0x00, 0x0B, 0x00, 0x01, 0x00}, 0},  // explicit table 0
      {{0x02, 0x01, 0x41, 0x00, 0x0B, 0x00, 0x01, 0x00}, 6},
      {{0x03, 0x00, 0x01, 0x00}, 3},
      {{0x04, 0x41, 0x00, 0x0B, 0x01, 0xD2, 0x00, 0x0B}, 4},
      {{0x05, 0x64, 0x70, 0x01, 0xD2, 0x00, 0x0B}, 5},  // passive (ref func): kept as exprs
      {{0x06, 0x00, 0x41, 0x00, 0x0B, 0x70, 0x01, 0xD0, 0x70, 0x0B}, 4},
      {{0x06, 0x01, 0x41, 0x01, 0x0B, 0x70, 0x01, 0xD0, 0x70, 0x0B}, 6},
      {{0x07, 0x70, 0x01, 0xD2, 0x00, 0x0B}, 7},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "input flags " << int{c.segment[0]});
    slabfuzz::Bytes module;
    module.raw(std::string_view("\0asm\1\0\0\0", 8));
    slabfuzz::Bytes types, funcs, tables, elems, code;
    types.raw(std::string_view("\x01\x60\x00\x00", 4));
    funcs.raw(std::string_view("\x01\x00", 2));
    tables.raw(std::string_view("\x02\x70\x00\x02\x70\x00\x02", 7));
    elems.u8(1);
    elems.raw(c.segment);
    code.raw(std::string_view("\x01\x02\x00\x0B", 4));
    module.section(1, types);
    module.section(3, funcs);
    module.section(4, tables);
    module.section(9, elems);
    module.section(10, code);
    const Module m = decodeOk(module.data());
    EXPECT_TRUE(validateModule(m).ok()) << validateModule(m).error().toString();
    const auto payload = sectionPayload(encodeModule(m), 9);
    ASSERT_GE(payload.size(), 2u);
    EXPECT_EQ(payload[1], c.chosen);
    EXPECT_TRUE(roundTrip(module.data(), "elem input"));
  }
}

// A segment built by hand with an expression item that is a lone ref.func
// but typed (ref null func) must keep the expression form, or the type
// would change on the way back.
TEST(EncodeElem, KeepsTypeOfRefFuncExpressions) {
  Module m = decodeOk(assemble("(module (func $f) (elem funcref (ref.func $f)))"));
  ASSERT_EQ(m.elems.size(), 1u);
  EXPECT_EQ(m.elems[0].type, ValType::ref(HeapType::abstract(HeapType::Func), true));
  const auto payload = sectionPayload(encodeModule(m), 9);
  ASSERT_GE(payload.size(), 2u);
  EXPECT_EQ(payload[1], 5);
  Module back = decodeOk(encodeModule(m));
  std::string diff;
  EXPECT_TRUE(modulesEqual(m, back, &diff)) << diff;
}

TEST(EncodeTypes, RecGroupsWithForwardReferences) {
  const auto bytes = assemble(R"(
    (module
      (rec)
      (rec
        (type $a (sub (struct (field (ref null $b)) (field (mut i8)))))
        (type $b (sub (struct (field (ref null $a)) (field (mut i16)) (field (ref null $c)))))
        (type $c (sub final $a (struct (field (ref null $b)) (field (mut i8)) (field f64)))))
      (type $arr (array (mut (ref null $c))))
      (type $open (sub (func (param (ref $arr)) (result anyref))))
      (rec (type $self (struct (field (ref null $self)))))
      (func (type $open) (struct.new_default $a) drop (ref.null any)))
  )");
  const Module m = decodeOk(bytes);
  ASSERT_EQ(m.rec_groups.size(), 5u);
  EXPECT_EQ(m.rec_groups[0].count, 0u);
  EXPECT_EQ(m.rec_groups[1].count, 3u);
  EXPECT_TRUE(validateModule(m).ok()) << validateModule(m).error().toString();
  EXPECT_TRUE(roundTrip(bytes, "rec groups"));
  const Module back = decodeOk(encodeModule(m));
  EXPECT_FALSE(back.types[0].final);  // sub with no supertypes stays open
  EXPECT_TRUE(back.types[2].final);
  EXPECT_EQ(back.types[2].supertypes, std::vector<uint32_t>{0});
  EXPECT_EQ(back.types[0].composite.fields[1].type, ValType::i8());
  EXPECT_TRUE(back.types[0].composite.fields[1].mut);
  EXPECT_EQ(back.types[1].composite.fields[0].type,
            ValType::ref(HeapType::index(0), true));  // backward reference
  EXPECT_EQ(back.types[0].composite.fields[0].type,
            ValType::ref(HeapType::index(1), true));  // forward reference
}

TEST(EncodeCode, NestedControl) {
  const auto bytes = assemble(R"(
    (module
      (type $bt (func (param i32) (result i32)))
      (func $f (export "f") (param $x i32) (result i32) (local $y i64) (local $z i64) (local f32)
        (block $outer (result i32)
          (loop $l
            (block $a
              (block $b
                (block $c
                  (br_table $a $b $c $l (local.get $x)))
                (if (local.get $x)
                  (then (br $outer (i32.const 1)))
                  (else (nop))))
              (if (result i32) (local.get $x) (then (i32.const 2)) (else (i32.const 3)))
              (br_if $l)
              (br $a))
            (i32.const 7)
            (block (type $bt) (i32.const 1) (i32.add))
            (i32.const 0)
            (br_table $outer $outer))
          (i32.const 9))
        (i32.const 5)
        (local.get $x)
        (select (result i32))))
  )");
  const Module m = decodeOk(bytes);
  EXPECT_TRUE(validateModule(m).ok()) << validateModule(m).error().toString();
  EXPECT_TRUE(roundTrip(bytes, "nested control"));
}

TEST(EncodeCode, LargeMemargOffsets) {
  const auto bytes = assemble(R"(
    (module
      (memory 1)
      (func (param i32)
        (drop (i32.load offset=4294967295 align=1 (local.get 0)))
        (i64.store offset=4294967280 (local.get 0) (i64.const -1))
        (drop (i64.load32_u offset=2147483648 align=2 (local.get 0)))
        (f64.store offset=128 align=8 (local.get 0) (f64.const -0x1.8p3))))
  )");
  const Module m = decodeOk(bytes);
  const Module back = decodeOk(encodeModule(m));
  ASSERT_EQ(back.functions.size(), 1u);
  const auto& body = back.functions[0].body;
  EXPECT_EQ(body[1].memOffset(), 4294967295u);
  EXPECT_EQ(body[1].a, 0u);
  EXPECT_EQ(body[5].memOffset(), 4294967280u);
  EXPECT_TRUE(roundTrip(bytes, "memarg offsets"));
}

// The data count section: kept when recorded, added when a Module built
// without it indexes data segments from code (spec 5.5.16).
TEST(EncodeData, DataCount) {
  const auto bytes = assemble(R"(
    (module
      (memory 1)
      (type $bytes (array i8))
      (data $p "\01\02\03")
      (data (i32.const 8) "abc")
      (func
        (memory.init $p (i32.const 0) (i32.const 0) (i32.const 1))
        (data.drop $p)
        (drop (array.new_data $bytes $p (i32.const 0) (i32.const 2)))))
  )");
  Module m = decodeOk(bytes);
  ASSERT_TRUE(m.data_count.has_value());
  EXPECT_TRUE(roundTrip(bytes, "data count"));

  m.data_count.reset();  // as a generator might leave it
  const Module back = decodeOk(encodeModule(m));
  ASSERT_TRUE(back.data_count.has_value());
  EXPECT_EQ(*back.data_count, 2u);
  EXPECT_TRUE(validateModule(back).ok());

  // No instruction needs it: not written.
  Module plain = decodeOk(assemble("(module (memory 1) (data (i32.const 0) \"x\"))"));
  plain.data_count.reset();
  EXPECT_TRUE(sectionPayload(encodeModule(plain), 12).empty());
  EXPECT_FALSE(decodeOk(encodeModule(plain)).data_count.has_value());
}

TEST(EncodeNames, WrittenFromNames) {
  const auto bytes = assemble(R"(
    (module $mod
      (type $pair (struct (field $left i32) (field $right i64)))
      (global $g (mut i32) (i32.const 0))
      (func $add (param $a i32) (param $b i32) (result i32)
        (local $tmp i32)
        (i32.add (local.get $a) (local.get $b))))
  )");
  Module m = decodeOk(bytes);
  EXPECT_TRUE(roundTrip(bytes, "names"));

  // Names without a recorded name section (a generator's Module): written.
  m.customs.clear();
  m.names.functions[0] = "renamed";
  m.names.locals[0][2] = "t";
  const Module back = decodeOk(encodeModule(m));
  EXPECT_EQ(back.names.functions.at(0), "renamed");
  EXPECT_EQ(back.names.locals.at(0).at(2), "t");
  std::string diff;
  EXPECT_TRUE(modulesEqual(m, back, &diff)) << diff;
}

// Imports and exports of every kind, a table with an initialiser, globals
// with GC constant expressions, select with a type, br_on_cast with flags.
TEST(EncodeModule, ImportsExportsAndGcInstructions) {
  const auto bytes = assemble(R"(
    (module
      (type $s (sub (struct (field i32))))
      (type $t (sub $s (struct (field i32) (field (mut anyref)))))
      (import "env" "f" (func $imp (param i32)))
      (import "env" "tab" (table 1 10 externref))
      (import "env" "mem" (memory 1 2))
      (import "env" "g" (global $ig i32))
      (table $tt 4 (ref null $s) (struct.new $s (global.get $ig)))
      (global $obj (ref null $s) (struct.new $t (i32.const 3) (ref.i31 (i32.const 9))))
      (func $cast (param anyref) (result anyref)
        (block $l (result anyref)
          (br_on_cast $l anyref (ref $t) (local.get 0))
          (br_on_cast_fail $l anyref (ref null $s))
          (drop)
          (select (result anyref) (ref.null any) (local.get 0) (i32.const 1))))
      (export "f" (func $imp)) (export "tab" (table 0)) (export "mem" (memory 0))
      (export "g" (global $obj)) (export "cast" (func $cast)))
  )");
  const Module m = decodeOk(bytes);
  EXPECT_TRUE(validateModule(m).ok()) << validateModule(m).error().toString();
  ASSERT_EQ(m.imports.size(), 4u);
  ASSERT_EQ(m.tables.size(), 1u);
  EXPECT_TRUE(m.tables[0].init.has_value());
  EXPECT_TRUE(roundTrip(bytes, "imports/exports/gc"));
}

// A Module built directly, as a generator does: no bytes behind it, no
// rec_groups (types are grouped by SubType::rec_group), no data count.
TEST(EncodeModule, BuiltByHand) {
  Module m;
  SubType point;
  point.composite.kind = CompositeKind::Struct;
  point.composite.fields = {{ValType::i32(), true}, {ValType::i16(), false}};
  point.rec_group = 0;
  SubType sig;
  sig.composite.kind = CompositeKind::Func;
  sig.composite.func.results = {ValType::ref(HeapType::index(0), false)};
  sig.rec_group = 1;
  m.types = {point, sig};
  m.func_types = {1};
  Function fn;
  fn.type_index = 1;
  auto ins = [](Opcode op, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0, uint32_t d = 0) {
    Instr i;
    i.op = op;
    i.a = a;
    i.b = b;
    i.c = c;
    i.d = d;
    return i;
  };
  fn.body = {
      ins(Opcode::Block, static_cast<uint32_t>(BlockTypeKind::Empty), 0, /*end=*/2),
      ins(Opcode::Nop),
      ins(Opcode::End),
      ins(Opcode::I32Const, static_cast<uint32_t>(-5)),
      ins(Opcode::I32Const, 300),
      ins(Opcode::StructNew, 0),
      ins(Opcode::End),
  };
  m.functions = {fn};
  m.exports = {{"make", ExternKind::Func, 0, 0}};
  m.names.functions[0] = "make";

  const auto bytes = encodeModule(m);
  const Module back = decodeOk(bytes);
  EXPECT_TRUE(validateModule(back).ok()) << validateModule(back).error().toString();
  ASSERT_EQ(back.rec_groups.size(), 2u);
  m.rec_groups = back.rec_groups;  // the one thing the decoder adds
  std::string diff;
  EXPECT_TRUE(modulesEqual(m, back, &diff)) << diff;
  EXPECT_EQ(encodeModule(back), bytes);
}

// Each mutation must be seen: modulesEqual is what makes the round trip a test.
TEST(ModulesEqual, SeesEveryKindOfChange) {
  const Module base = decodeOk(assemble(R"(
    (module $m
      (type $s (struct (field (mut i32))))
      (memory 1)
      (table 2 funcref)
      (global $g i32 (i32.const 1))
      (func $f (param i32) (result i32)
        (block $a (block $b (br_table $a $b (local.get 0))))
        (i32.const 4))
      (elem (i32.const 0) func $f)
      (data (i32.const 0) "hi"))
  )"));
  auto differs = [&](const char* what, auto&& mutate) {
    Module m = base;
    mutate(m);
    std::string diff;
    EXPECT_FALSE(modulesEqual(base, m, &diff)) << what;
    EXPECT_FALSE(diff.empty()) << what;
  };
  differs("field mutability", [](Module& m) { m.types[0].composite.fields[0].mut = false; });
  differs("rec group", [](Module& m) { m.types[0].rec_group = 7; });
  differs("final", [](Module& m) { m.types[0].final = false; });
  differs("memory limits", [](Module& m) { m.memory_types[0].limits.max = 3; });
  differs("global init", [](Module& m) { m.globals[0].init.instrs[0].a = 2; });
  differs("br_table target", [](Module& m) { m.functions[0].extra[0] ^= 1; });
  differs("br_table default", [](Module& m) {
    for (Instr& i : m.functions[0].body) {
      if (i.op == Opcode::BrTable) i.c ^= 1;
    }
  });
  differs("block end index", [](Module& m) { m.functions[0].body[0].c += 1; });
  differs("locals", [](Module& m) { m.functions[0].locals.push_back(ValType::f32()); });
  differs("elem type", [](Module& m) {
    m.elems[0].type = ValType::ref(HeapType::abstract(HeapType::Func), true);
  });
  differs("elem mode", [](Module& m) { m.elems[0].mode = SegmentMode::Passive; });
  differs("data bytes", [](Module& m) { m.datas[0].bytes[1] = 'o'; });
  differs("data count", [](Module& m) { m.data_count = 5; });
  differs("function name", [](Module& m) { m.names.functions[0] = "g"; });
  differs("module name", [](Module& m) { m.names.module = "other"; });
  differs("local name", [](Module& m) { m.names.locals[0][0] = "x"; });
  differs("custom section", [](Module& m) { m.customs.push_back({"extra", 0, {1, 2}}); });
}

TEST(ModulesEqual, ReportsFirstDifference) {
  const Module a = decodeOk(assemble("(module (func (result i32) (i32.const 1)))"));
  Module b = a;
  std::string diff;
  EXPECT_TRUE(modulesEqual(a, b, &diff));
  b.functions[0].body[0].offset += 100;  // offsets do not count
  EXPECT_TRUE(modulesEqual(a, b, &diff));
  b.functions[0].body[0].a = 2;
  EXPECT_FALSE(modulesEqual(a, b, &diff));
  EXPECT_EQ(diff, "functions[0].body[0] (i32.const).a: 1 vs 2");
}

}  // namespace
}  // namespace slabfuzz
