// Unit tests of the .wast reader (tests/spec/wast.h).
#include "tests/spec/wast.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace slabfuzz::wast {
namespace {

Script parseOk(std::string_view source) {
  auto result = parseScript(source);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().toString());
  if (!result.ok()) return {};
  return std::move(result.value());
}

ParseError parseFails(std::string_view source) {
  auto result = parseScript(source);
  EXPECT_FALSE(result.ok()) << "expected an error for: " << source;
  if (result.ok()) return {};
  return result.error();
}

std::vector<uint8_t> bytes(std::string_view s) {
  return {s.begin(), s.end()};
}

TEST(WastStrings, SimpleEscapes) {
  Script s = parseOk(R"((register "a\n\t\r\\\'\"b"))");
  ASSERT_EQ(s.commands.size(), 1u);
  EXPECT_EQ(s.commands[0].kind, CommandKind::Register);
  EXPECT_EQ(s.commands[0].name, "a\n\t\r\\'\"b");
}

TEST(WastStrings, HexEscapesAreRawBytes) {
  Script s = parseOk(R"((register "\00\41\ff\Fe"))");
  ASSERT_EQ(s.commands.size(), 1u);
  EXPECT_EQ(s.commands[0].name, std::string("\x00\x41\xff\xfe", 4));
}

TEST(WastStrings, UnicodeEscapesAreUtf8) {
  Script s = parseOk(R"((register "\u{41}\u{e9}\u{20AC}\u{1F600}\u{10_FFFF}"))");
  ASSERT_EQ(s.commands.size(), 1u);
  EXPECT_EQ(s.commands[0].name, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF");
}

TEST(WastStrings, BadEscapesAreErrors) {
  EXPECT_NE(parseFails(R"((register "\q"))").message.find("escape"), std::string::npos);
  parseFails(R"((register "\4"))");          // one hex digit
  parseFails(R"((register "\u{D800}"))");    // surrogate
  parseFails(R"((register "\u{110000}"))");  // beyond Unicode
  parseFails(R"((register "\u{}"))");
  parseFails(R"((register "\u{_41}"))");
  parseFails(R"((register "\u{41"))");
  parseFails(R"((register "\u41"))");
  parseFails("(register \"a\x01\")");  // raw control character
}

TEST(WastStrings, UnterminatedStringReportsWhereItStarts) {
  ParseError e = parseFails("(module)\n  (register \"abc");
  EXPECT_EQ(e.line, 2u);
  EXPECT_EQ(e.column, 13u);
  EXPECT_NE(e.message.find("unterminated string"), std::string::npos);
  EXPECT_EQ(e.toString().rfind("2:13: ", 0), 0u);
  parseFails("(register \"abc\ndef\")");  // strings do not span lines
}

TEST(WastComments, LineAndNestedBlockComments) {
  Script s = parseOk(R"(;; leading
(; a (; nested (; deeper ;) ;) still comment ;)
( ;;comment
module;;comment
);;comment
(;;)(;;;;);;
(; (( "unbalanced ;)
(module (;inside;) (func))
)");
  ASSERT_EQ(s.commands.size(), 2u);
  EXPECT_EQ(s.commands[0].kind, CommandKind::Module);
  EXPECT_EQ(s.commands[0].line, 3u);
  EXPECT_EQ(s.commands[0].module->source, "( ;;comment\nmodule;;comment\n)");
  EXPECT_EQ(s.commands[1].line, 8u);
  EXPECT_EQ(s.commands[1].module->text, "(module (;inside;) (func))");
}

TEST(WastComments, UnterminatedBlockComment) {
  ParseError e = parseFails("(module)\n(; one (; two ;)\n");
  EXPECT_EQ(e.line, 2u);
  EXPECT_NE(e.message.find("block comment"), std::string::npos);
}

TEST(WastModules, TextModuleKeepsExactSource) {
  std::string src =
      "(module $M\n  (func (export \"f\") (result i32) (i32.const 1)) ;; \")\"\n  (@a \")\" "
      "x\")\"y (;c;))\n)";
  Script s = parseOk(src + "\n(assert_return (invoke \"f\") (i32.const 1))");
  ASSERT_EQ(s.commands.size(), 2u);
  const ModuleDef& m = *s.commands[0].module;
  EXPECT_EQ(m.form, ModuleForm::Text);
  EXPECT_EQ(m.id, "$M");
  EXPECT_FALSE(m.definition);
  EXPECT_EQ(m.source, src);
  EXPECT_EQ(m.text, src);
  EXPECT_EQ(m.wat(), src);
  EXPECT_EQ(s.commands[1].line, 5u);
}

TEST(WastModules, DefinitionAndInstance) {
  Script s = parseOk(R"((module definition $M (func))
(module $N definition (memory 1))
(module instance $I $M)
(module instance)
(module definition binary "\00asm\01\00\00\00"))");
  ASSERT_EQ(s.commands.size(), 5u);
  const ModuleDef& m = *s.commands[0].module;
  EXPECT_TRUE(m.definition);
  EXPECT_EQ(m.id, "$M");
  EXPECT_EQ(m.source, "(module definition $M (func))");
  EXPECT_EQ(m.text, "(module $M (func))");  // converters do not know `definition`
  const ModuleDef& n = *s.commands[1].module;
  EXPECT_TRUE(n.definition);
  EXPECT_EQ(n.id, "$N");
  EXPECT_EQ(n.text, "(module $N (memory 1))");
  EXPECT_EQ(s.commands[2].kind, CommandKind::ModuleInstance);
  EXPECT_EQ(s.commands[2].name, "$I");
  EXPECT_EQ(s.commands[2].module_id, "$M");
  EXPECT_FALSE(s.commands[2].module.has_value());
  EXPECT_EQ(s.commands[3].kind, CommandKind::ModuleInstance);
  EXPECT_TRUE(s.commands[4].module->definition);
  EXPECT_EQ(s.commands[4].module->form, ModuleForm::Binary);
}

TEST(WastModules, BinaryModuleConcatenatesBytes) {
  Script s = parseOk(R"((module $M1 binary "\00asm" "\01\00\00\00"
  "\01\04\01\60\00\00" ;; a type section
))");
  ASSERT_EQ(s.commands.size(), 1u);
  const ModuleDef& m = *s.commands[0].module;
  EXPECT_EQ(m.form, ModuleForm::Binary);
  EXPECT_EQ(m.id, "$M1");
  EXPECT_EQ(m.bytes, bytes(std::string("\0asm\1\0\0\0\1\4\1\x60\0\0", 14)));
  EXPECT_TRUE(m.text.empty());
  parseFails(R"((module binary "\00asm" 42))");
}

TEST(WastModules, QuoteModuleConcatenatesText) {
  Script s = parseOk(R"wast((module quote "(func (export \"f\")" " (result i32)" " (i32.const 1))")
(module quote "(module $q (func))")
(module quote "(func) ;; trailing comment"))wast");
  ASSERT_EQ(s.commands.size(), 3u);
  const ModuleDef& a = *s.commands[0].module;
  EXPECT_EQ(a.form, ModuleForm::Quote);
  EXPECT_EQ(a.text, "(func (export \"f\") (result i32) (i32.const 1))");
  // Bare fields are wrapped; a whole module is passed through.
  EXPECT_EQ(a.wat(), "(module\n" + a.text + "\n)");
  EXPECT_EQ(s.commands[1].module->wat(), "(module $q (func))");
  // The wrapper's newline keeps the closing paren out of the comment.
  EXPECT_EQ(s.commands[2].module->wat(), "(module\n(func) ;; trailing comment\n)");
}

TEST(WastCommands, AssertionsWrappingModules) {
  Script s = parseOk(R"((assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module quote "(func") "unexpected end")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_unlinkable (module (import "m" "f" (func))) "unknown import")
(assert_uninstantiable (module (start 0) (func unreachable)) "unreachable")
(assert_trap (module (start 0) (func unreachable)) "unreachable"))");
  ASSERT_EQ(s.commands.size(), 6u);
  EXPECT_EQ(s.commands[0].kind, CommandKind::AssertInvalid);
  EXPECT_EQ(s.commands[0].message, "type mismatch");
  EXPECT_EQ(s.commands[0].module->text, "(module (func (result i32)))");
  EXPECT_EQ(s.commands[1].kind, CommandKind::AssertMalformed);
  EXPECT_EQ(s.commands[1].module->form, ModuleForm::Quote);
  EXPECT_EQ(s.commands[1].module->text, "(func");
  EXPECT_EQ(s.commands[2].module->bytes, bytes(std::string_view("\0asm", 4)));
  EXPECT_EQ(s.commands[3].kind, CommandKind::AssertUnlinkable);
  EXPECT_EQ(s.commands[4].kind, CommandKind::AssertUninstantiable);
  EXPECT_EQ(s.commands[5].kind, CommandKind::AssertTrap);
  EXPECT_TRUE(s.commands[5].module.has_value());
  EXPECT_FALSE(s.commands[5].action.has_value());
  for (size_t i = 0; i < s.commands.size(); ++i) EXPECT_EQ(s.commands[i].line, i + 1);
}

TEST(WastCommands, Actions) {
  Script s = parseOk(R"((invoke "f" (i32.const 1) (f32.const nan:canonical))
(assert_return (invoke $M "g") (ref.null any) (either (i32.const 1) (i32.const 2)))
(assert_return (get "glob") (i32.const 42))
(assert_trap (invoke "trap") "unreachable")
(assert_exhaustion (invoke "loop") "call stack exhausted")
(register "M" $M))");
  ASSERT_EQ(s.commands.size(), 6u);
  const Command& invoke = s.commands[0];
  EXPECT_EQ(invoke.kind, CommandKind::Action);
  EXPECT_EQ(invoke.action->kind, Action::Kind::Invoke);
  EXPECT_EQ(invoke.action->name, "f");
  ASSERT_EQ(invoke.action->args.size(), 2u);
  EXPECT_TRUE(invoke.action->args[0].isList("i32.const"));
  EXPECT_EQ(invoke.action->args[1].toString(), "(f32.const nan:canonical)");

  const Command& ret = s.commands[1];
  EXPECT_EQ(ret.kind, CommandKind::AssertReturn);
  EXPECT_EQ(ret.action->module_id, "$M");
  ASSERT_EQ(ret.results.size(), 2u);
  EXPECT_TRUE(ret.results[1].isList("either"));
  EXPECT_EQ(ret.results[1].items.size(), 3u);
  EXPECT_EQ(ret.results[1].line, 2u);

  EXPECT_EQ(s.commands[2].action->kind, Action::Kind::Get);
  EXPECT_EQ(s.commands[3].kind, CommandKind::AssertTrap);
  EXPECT_EQ(s.commands[3].message, "unreachable");
  EXPECT_EQ(s.commands[4].kind, CommandKind::AssertExhaustion);
  EXPECT_EQ(s.commands[5].kind, CommandKind::Register);
  EXPECT_EQ(s.commands[5].module_id, "$M");
}

TEST(WastCommands, QuotedIdentifiersMeanTheSameAsPlainOnes) {
  Script s =
      parseOk(R"w((module $"M\41" binary "") (register "r" $"MA") (invoke $"M\u{41}" "f"))w");
  ASSERT_EQ(s.commands.size(), 3u);
  EXPECT_EQ(s.commands[0].module->id, "$MA");
  EXPECT_EQ(s.commands[1].module_id, "$MA");
  EXPECT_EQ(s.commands[2].action->module_id, "$MA");
  parseFails(R"w((register "r" $"unterminated))w");
}

TEST(WastCommands, UnknownFormsAreKeptAsOther) {
  Script s = parseOk(R"((script $s (module)) (assert_exception (invoke "t" (@a) (i32.const 1))))");
  ASSERT_EQ(s.commands.size(), 2u);
  EXPECT_EQ(s.commands[0].kind, CommandKind::Other);
  EXPECT_EQ(s.commands[0].name, "script");
  EXPECT_EQ(s.commands[0].form->toString(), "(script $s (module))");
  EXPECT_EQ(s.commands[1].name, "assert_exception");
  EXPECT_EQ(s.commands[1].form->toString(), "(assert_exception (invoke \"t\" (i32.const 1)))");
}

TEST(WastCommands, AnnotationsAreWhitespaceToTheScript) {
  Script s = parseOk(R"w((@custom "x" (y (z)))
((@a) module (@a) $m (@b (;c;) ")") (func (@c)))
(assert_return (@a) (invoke (@a) "f" (@a)) (@a) (i32.const 1) (@a)))w");
  ASSERT_EQ(s.commands.size(), 2u);
  const ModuleDef& m = *s.commands[0].module;
  EXPECT_EQ(s.commands[0].line, 2u);
  EXPECT_EQ(m.id, "$m");
  EXPECT_EQ(m.source, R"w(((@a) module (@a) $m (@b (;c;) ")") (func (@c))))w");
  // Fields (and their annotations) are kept; the header is rewritten.
  EXPECT_EQ(m.text, R"w((module $m (@b (;c;) ")") (func (@c))))w");
  EXPECT_EQ(s.commands[1].action->name, "f");
  EXPECT_EQ(s.commands[1].results.size(), 1u);
  parseFails("(@a (b)");
}

TEST(WastModules, InlineModuleScript) {
  Script s = parseOk(";; fields only\n(func) (memory 0) (func (export \"f\"))\n");
  ASSERT_EQ(s.commands.size(), 1u);
  EXPECT_EQ(s.commands[0].kind, CommandKind::Module);
  EXPECT_EQ(s.commands[0].line, 2u);
  EXPECT_EQ(s.commands[0].module->form, ModuleForm::Text);
  EXPECT_EQ(s.commands[0].module->wat(),
            "(module\n;; fields only\n(func) (memory 0) (func (export \"f\"))\n\n)");
  parseFails("(func) (func");
  parseFails("(func))");
}

TEST(WastCommands, LineNumbersCountNewlinesInCommentsAndStrings) {
  Script s = parseOk("(;\n\n;)(module quote \"a\" \n \"b\")\n\n;; x\n  (module)");
  ASSERT_EQ(s.commands.size(), 2u);
  EXPECT_EQ(s.commands[0].line, 3u);
  EXPECT_EQ(s.commands[1].line, 7u);
}

TEST(WastMalformed, StructuralErrors) {
  EXPECT_EQ(parseFails("(module (func)").line, 1u);  // unbalanced
  parseFails("module");                              // not a command
  parseFails(")");
  parseFails("(assert_invalid (module))");              // no message
  parseFails("(assert_invalid (invoke \"f\") \"x\")");  // not a module
  parseFails("(assert_return (module))");               // not an action
  parseFails("(assert_trap (frob) \"x\")");
  parseFails("(register $M)");
  parseFails("(invoke)");
  parseFails("(get \"g\" (i32.const 1))");
  parseFails("(script");
  ParseError e = parseFails("(module)\n(module)\n(assert_return (invoke \"f\" (i32.const 1)");
  EXPECT_EQ(e.line, 3u);
}

TEST(WastMalformed, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string deep = "(assert_return (invoke \"f\") " + std::string(200000, '(');
  parseFails(deep);
  // Module bodies are skipped iteratively, so depth there is harmless.
  std::string body = "(module " + std::string(200000, '(') + std::string(200001, ')');
  Script s = parseOk(body);
  EXPECT_EQ(s.commands.size(), 1u);
}

// Every prefix of a script and a deterministic spray of byte edits must give
// a Script or an error, never a crash (the sanitizers watch this test).
TEST(WastMalformed, PrefixesAndMutationsNeverCrash) {
  const std::string script = R"wast((module $M binary "\00asm\01\00\00\00")
(; c (; d ;) ;) (module quote "(func)" "\u{48}")
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_return (invoke $M "f" (i32.const 1)) (either (i32.const 1)))
(register "r" $M) (module instance $I $M) (@x ";)"))wast";
  for (size_t n = 0; n <= script.size(); ++n) (void)parseScript(script.substr(0, n));
  uint32_t state = 12345;
  const char kBytes[] = "()\";\\$ u{}0a\n";
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = script;
    for (int k = 0; k < 3; ++k) {
      state = state * 1103515245 + 12345;
      size_t at = (state >> 8) % mutated.size();
      mutated[at] = kBytes[(state >> 20) % (sizeof kBytes - 1)];
    }
    auto result = parseScript(mutated);
    if (!result.ok()) EXPECT_FALSE(result.error().message.empty());
  }
}

TEST(WastFiles, MissingFileIsAnError) {
  auto result = parseScriptFile("/nonexistent/dir/x.wast");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace slabfuzz::wast
