// Reader for the spec test script format (.wast, the S-expression "script"
// syntax of the WebAssembly reference interpreter).
// Owns: tokenising scripts (`;;` and nested `(; ;)` comments, strings with
// every escape, annotations as ordinary lists) and turning each top-level form
// into a `Command` with its source line. Does not own: the module text format.
// A text module is kept as source text for a converter (our assembler,
// text/wat.h, or on the binaryen route the Node worker),
// and action arguments and expected results are kept as S-expressions for
// whoever executes them. Contract: any input yields a Script or a ParseError
// with line and column; nothing crashes, and nothing is read past the input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.h"

namespace slabfuzz::wast {

// A parsed S-expression, used for the parts of a command that are not
// modules: action arguments such as `(i32.const 1)`, expected results such as
// `(ref.null any)` or `(either ...)`, and the whole form of an unknown command.
struct Sexpr {
  enum class Kind : uint8_t { Atom, String, List };
  Kind kind = Kind::Atom;
  std::string text;          // Atom: the token as written; String: the decoded bytes
  std::vector<Sexpr> items;  // List only
  uint32_t line = 0;         // 1-based, of the first character
  uint32_t column = 0;       // 1-based, in bytes

  bool isAtom(std::string_view token) const { return kind == Kind::Atom && text == token; }
  // A list whose first element is the atom `head`.
  bool isList(std::string_view head) const {
    return kind == Kind::List && !items.empty() && items[0].isAtom(head);
  }
  // Back to text: atoms as written, strings re-escaped, lists parenthesised.
  std::string toString() const;
};

// How a module is written in the script.
enum class ModuleForm : uint8_t {
  Text,    // (module $id? field*): WebAssembly text inline
  Binary,  // (module $id? binary "..."*): bytes in string literals
  Quote,   // (module $id? quote "..."*): text in string literals, parsed late
};

struct ModuleDef {
  ModuleForm form = ModuleForm::Text;
  std::string id;           // "$M", or empty
  bool definition = false;  // (module definition ...): defined, not instantiated
  // The exact source text of the whole `(module ...)` form, comments included.
  std::string source;
  // Text: the module as standalone text, i.e. `source` without the
  // `definition` keyword, which text-format tools do not know.
  // Quote: the string literals' contents concatenated.
  std::string text;
  std::vector<uint8_t> bytes;  // Binary: the string literals' bytes concatenated
  uint32_t line = 0;           // of the form's opening parenthesis

  // Text and Quote: what to hand a text-to-binary converter. A quoted body
  // may be bare module fields, which is then wrapped in `(module ...)`.
  std::string wat() const;
};

// `(invoke $id? "name" arg*)` or `(get $id? "name")`.
struct Action {
  enum class Kind : uint8_t { Invoke, Get };
  Kind kind = Kind::Invoke;
  std::string module_id;    // "$M", or empty for the most recent module
  std::string name;         // export name (decoded)
  std::vector<Sexpr> args;  // Invoke: constants as written
  uint32_t line = 0;
};

enum class CommandKind : uint8_t {
  Module,                // a module definition (any form)
  ModuleInstance,        // (module instance $I? $M?)
  Register,              // (register "name" $M?)
  Action,                // a bare invoke/get
  AssertReturn,          // (assert_return action result*)
  AssertTrap,            // (assert_trap action|module "message")
  AssertExhaustion,      // (assert_exhaustion action "message")
  AssertInvalid,         // (assert_invalid module "message")
  AssertMalformed,       // (assert_malformed module "message")
  AssertUnlinkable,      // (assert_unlinkable module "message")
  AssertUninstantiable,  // (assert_uninstantiable module "message")
  Other,                 // anything else, kept whole in `form`
};

std::string_view commandKindName(CommandKind kind);

struct Command {
  CommandKind kind = CommandKind::Other;
  uint32_t line = 0;  // of the command's opening parenthesis

  // Module, the module-wrapping assertions, and AssertTrap over a module.
  std::optional<ModuleDef> module;
  // Action, AssertReturn, AssertExhaustion, and AssertTrap over an action.
  std::optional<Action> action;
  // AssertReturn: the expected results as written.
  std::vector<Sexpr> results;
  // Every assertion but AssertReturn: the expected failure message.
  std::string message;
  // Register: the name registered. ModuleInstance: the instance's id.
  // Other: the head keyword.
  std::string name;
  // Register: the module registered ("$M", or empty for the most recent).
  // ModuleInstance: the definition instantiated.
  std::string module_id;
  // Other: the whole form.
  std::optional<Sexpr> form;
};

struct Script {
  std::vector<Command> commands;
};

struct ParseError {
  uint32_t line = 0;
  uint32_t column = 0;
  std::string message;
  // "12:5: unterminated string"
  std::string toString() const;
};

using ParseResult = Result<Script, ParseError>;

// Reads a whole script. `source` need not be NUL-terminated.
ParseResult parseScript(std::string_view source);

// Reads the file at `path` and parses it; an unreadable file is a ParseError
// at line 0.
ParseResult parseScriptFile(const std::string& path);

}  // namespace slabfuzz::wast
