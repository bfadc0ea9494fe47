// The .wast reader: a lexer for the script syntax and a recursive-descent
// parser over its tokens. Module bodies in text form are not parsed, only
// skipped with balanced parentheses (strings and comments respected), because
// the module text format is the converter's business; everything the runner
// needs from them is their exact source range.
#include "tests/spec/wast.h"
#include "text/chars.h"

#include <deque>
#include <fstream>
#include <sstream>
#include <utility>

namespace slabfuzz::wast {
namespace {

// Thrown inside this file only; parseScript turns it into a ParseError.
struct Failure {
  uint32_t line;
  uint32_t column;
  std::string message;
};

struct Token {
  enum class Kind : uint8_t { LParen, RParen, Atom, String, Eof };
  Kind kind = Kind::Eof;
  std::string_view raw;  // the token's source text
  std::string value;     // String: the decoded bytes; quoted id: `$` and the decoded name
  uint32_t line = 0;
  uint32_t column = 0;
  size_t begin = 0;  // source byte range, end exclusive
  size_t end = 0;
};

std::string describe(const Token& t) {
  switch (t.kind) {
    case Token::Kind::LParen: return "'('";
    case Token::Kind::RParen: return "')'";
    case Token::Kind::Eof: return "end of input";
    case Token::Kind::Atom:
    case Token::Kind::String: {
      std::string s(t.raw.substr(0, 40));
      return "'" + s + (t.raw.size() > 40 ? "...'" : "'");
    }
  }
  return "?";
}

using text::appendUtf8;
using text::hexValue;

// Tokens of the script syntax (spec 6.3, "Lexical Format", as extended by
// the reference interpreter's script grammar). Whitespace and comments are
// skipped; annotations `(@id ...)` come out as an ordinary '(' and atom.
class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Token next() {
    if (ahead_.empty()) return scan();
    Token t = std::move(ahead_.front());
    ahead_.pop_front();
    return t;
  }

  // The token `k` places ahead (0: the next one).
  const Token& peek(size_t k = 0) {
    while (ahead_.size() <= k) ahead_.push_back(scan());
    return ahead_[k];
  }

 private:
  [[noreturn]] void failHere(std::string message) const {
    throw Failure{line_, column(), std::move(message)};
  }
  uint32_t column() const { return static_cast<uint32_t>(pos_ - line_start_ + 1); }
  bool at(std::string_view s) const { return src_.substr(pos_, s.size()) == s; }

  void advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  void skipTrivia() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (at(";;")) {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      } else if (at("(;")) {
        skipBlockComment();
      } else {
        return;
      }
    }
  }

  // Block comments nest: `(; a (; b ;) c ;)` is one comment.
  void skipBlockComment() {
    uint32_t start_line = line_, start_column = column();
    int depth = 0;
    while (pos_ < src_.size()) {
      if (at("(;")) {
        ++depth;
        advance();
        advance();
      } else if (at(";)")) {
        --depth;
        advance();
        advance();
        if (depth == 0) return;
      } else {
        advance();
      }
    }
    throw Failure{start_line, start_column, "unterminated block comment"};
  }

  Token scan() {
    skipTrivia();
    Token t;
    t.line = line_;
    t.column = column();
    t.begin = pos_;
    if (pos_ >= src_.size()) {
      t.kind = Token::Kind::Eof;
    } else if (src_[pos_] == '(') {
      t.kind = Token::Kind::LParen;
      advance();
    } else if (src_[pos_] == ')') {
      t.kind = Token::Kind::RParen;
      advance();
    } else if (src_[pos_] == '"') {
      t.kind = Token::Kind::String;
      t.value = scanString();
    } else if (at("$\"")) {
      // A quoted identifier, `$"name"`, which the spec equates with `$name`;
      // `value` holds that spelling so ids compare by meaning.
      t.kind = Token::Kind::Atom;
      advance();
      t.value = "$" + scanString();
    } else {
      // An atom runs to whitespace, a parenthesis, a string or a line
      // comment. The spec's "reserved" tokens (`x")"y`) therefore come out as
      // several tokens, which is harmless: only structure matters here.
      t.kind = Token::Kind::Atom;
      while (pos_ < src_.size()) {
        char c = src_[pos_];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == '"' ||
            at(";;"))
          break;
        advance();
      }
    }
    t.end = pos_;
    t.raw = src_.substr(t.begin, t.end - t.begin);
    return t;
  }

  // Decodes a string literal starting at the opening quote. Escapes (spec
  // 6.3.3): \t \n \r \" \' \\, \hh (one raw byte) and \u{hex} (a Unicode
  // scalar value, encoded as UTF-8). Raw control characters are malformed.
  std::string scanString() {
    uint32_t start_line = line_, start_column = column();
    advance();  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) throw Failure{start_line, start_column, "unterminated string"};
      unsigned char c = static_cast<unsigned char>(src_[pos_]);
      if (c == '"') {
        advance();
        return out;
      }
      if (c == '\n') throw Failure{start_line, start_column, "unterminated string (newline)"};
      if (c < 0x20 || c == 0x7F) failHere("control character in string (use an escape)");
      if (c != '\\') {
        out += static_cast<char>(c);
        advance();
        continue;
      }
      advance();  // backslash
      if (pos_ >= src_.size()) throw Failure{start_line, start_column, "unterminated string"};
      char e = src_[pos_];
      switch (e) {
        case 't':
          out += '\t';
          advance();
          break;
        case 'n':
          out += '\n';
          advance();
          break;
        case 'r':
          out += '\r';
          advance();
          break;
        case '"':
          out += '"';
          advance();
          break;
        case '\'':
          out += '\'';
          advance();
          break;
        case '\\':
          out += '\\';
          advance();
          break;
        case 'u': scanUnicodeEscape(out); break;
        default: {
          int hi = hexValue(e);
          int lo = pos_ + 1 < src_.size() ? hexValue(src_[pos_ + 1]) : -1;
          if (hi < 0 || lo < 0) failHere(std::string("unknown escape '\\") + e + "' in string");
          out += static_cast<char>(hi * 16 + lo);
          advance();
          advance();
        }
      }
    }
  }

  // At the 'u' of \u{...}. Digits may be separated by single underscores.
  void scanUnicodeEscape(std::string& out) {
    advance();  // 'u'
    if (pos_ >= src_.size() || src_[pos_] != '{') failHere("expected '{' after \\u");
    advance();
    uint32_t cp = 0;
    bool any_digit = false, last_underscore = false;
    while (pos_ < src_.size() && src_[pos_] != '}') {
      char c = src_[pos_];
      if (c == '_' && any_digit && !last_underscore) {
        last_underscore = true;
        advance();
        continue;
      }
      int v = hexValue(c);
      if (v < 0) failHere("bad digit in \\u{...} escape");
      cp = cp * 16 + static_cast<uint32_t>(v);
      if (cp > 0x10FFFF) failHere("\\u{...} escape out of range");
      any_digit = true;
      last_underscore = false;
      advance();
    }
    if (pos_ >= src_.size()) failHere("unterminated \\u{...} escape");
    if (!any_digit || last_underscore) failHere("malformed \\u{...} escape");
    if (cp >= 0xD800 && cp < 0xE000) failHere("\\u{...} escape is a surrogate, not a scalar value");
    advance();  // '}'
    appendUtf8(out, cp);
  }

  std::string_view src_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;
  std::deque<Token> ahead_;  // tokens peeked but not consumed
};

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src), lex_(src) {}

  Script script() {
    Script s;
    // A script may also be nothing but the fields of one module (the
    // reference interpreter's "inline module", see inline-module.wast).
    const Token& first = peek();
    if (first.kind == Token::Kind::LParen && lex_.peek(1).kind == Token::Kind::Atom &&
        isModuleField(lex_.peek(1).raw)) {
      s.commands.push_back(inlineModule());
      return s;
    }
    while (true) {
      Token t = next();
      if (t.kind == Token::Kind::Eof) break;
      if (t.kind != Token::Kind::LParen)
        fail(t, "expected '(' to start a command, got " + describe(t));
      s.commands.push_back(command(t));
    }
    return s;
  }

 private:
  static bool isModuleField(std::string_view keyword) {
    for (std::string_view field : {"type", "rec", "import", "func", "table", "memory", "global",
                                   "export", "start", "elem", "data", "tag"}) {
      if (keyword == field) return true;
    }
    return false;
  }

  // The whole source is one module's fields.
  Command inlineModule() {
    Command c;
    c.kind = CommandKind::Module;
    c.line = peek().line;
    ModuleDef m;
    m.line = c.line;
    m.form = ModuleForm::Text;
    // Check the structure (balanced, lexically sound) before trusting it.
    for (int depth = 0;;) {
      Token t = lex_.next();
      if (t.kind == Token::Kind::Eof) {
        if (depth != 0) fail(t, "unbalanced parentheses in inline module");
        break;
      }
      if (t.kind == Token::Kind::LParen) ++depth;
      if (t.kind == Token::Kind::RParen && depth-- == 0) fail(t, "unexpected ')'");
    }
    m.source = std::string(src_);
    m.text = "(module\n" + m.source + "\n)";
    c.module = std::move(m);
    return c;
  }

  [[noreturn]] static void fail(const Token& t, std::string message) {
    throw Failure{t.line, t.column, std::move(message)};
  }

  // Annotations `(@id ...)` may appear wherever whitespace may (spec 6.3.4)
  // and mean nothing to a script, so the script-level grammar skips them.
  // Inside a text module they stay part of the source.
  void skipAnnotations() {
    while (lex_.peek(0).kind == Token::Kind::LParen && lex_.peek(1).kind == Token::Kind::Atom &&
           lex_.peek(1).raw.front() == '@') {
      Token open = lex_.next();
      for (int depth = 0;;) {
        Token t = lex_.next();
        if (t.kind == Token::Kind::Eof) fail(open, "unterminated annotation");
        if (t.kind == Token::Kind::LParen) ++depth;
        if (t.kind == Token::Kind::RParen && depth-- == 0) break;
      }
    }
  }
  Token next() {
    skipAnnotations();
    return lex_.next();
  }
  const Token& peek() {
    skipAnnotations();
    return lex_.peek();
  }

  Token expect(Token::Kind kind, std::string_view what) {
    Token t = next();
    if (t.kind != kind) fail(t, "expected " + std::string(what) + ", got " + describe(t));
    return t;
  }
  void expectClose(std::string_view form) {
    expect(Token::Kind::RParen, "')' closing " + std::string(form));
  }
  bool peekIsId() {
    const Token& t = peek();
    return t.kind == Token::Kind::Atom && t.raw.size() > 1 && t.raw[0] == '$';
  }
  // The identifier a token spells: `$"M"` and `$M` are the same id.
  static std::string idOf(const Token& t) { return t.value.empty() ? std::string(t.raw) : t.value; }
  bool peekIsAtom(std::string_view s) {
    const Token& t = peek();
    return t.kind == Token::Kind::Atom && t.raw == s;
  }

  // `open` is the command's '(' (already consumed).
  Command command(const Token& open) {
    Command c;
    c.line = open.line;
    Token head = next();
    std::string_view h = head.kind == Token::Kind::Atom ? head.raw : std::string_view();
    if (h == "module") {
      if (peekIsAtom("instance")) {
        // (module instance $I? $M?): instantiates an earlier definition.
        next();
        c.kind = CommandKind::ModuleInstance;
        if (peekIsId()) c.name = idOf(next());
        if (peekIsId()) c.module_id = idOf(next());
        expectClose("module instance");
      } else {
        c.kind = CommandKind::Module;
        c.module = moduleRest(open, head);
      }
    } else if (h == "register") {
      c.kind = CommandKind::Register;
      c.name = expect(Token::Kind::String, "a name string after register").value;
      if (peekIsId()) c.module_id = idOf(next());
      expectClose("register");
    } else if (h == "invoke" || h == "get") {
      c.kind = CommandKind::Action;
      c.action = actionRest(open, head);
    } else if (h == "assert_return") {
      c.kind = CommandKind::AssertReturn;
      c.action = action();
      while (peek().kind != Token::Kind::RParen) c.results.push_back(sexpr(next()));
      next();
    } else if (h == "assert_trap") {
      // Either an action that traps or a module whose start function does.
      c.kind = CommandKind::AssertTrap;
      Token o = expect(Token::Kind::LParen, "an action or a module");
      Token inner = expect(Token::Kind::Atom, "invoke, get or module");
      if (inner.raw == "module") {
        c.module = moduleRest(o, inner);
      } else if (inner.raw == "invoke" || inner.raw == "get") {
        c.action = actionRest(o, inner);
      } else {
        fail(inner, "expected invoke, get or module, got " + describe(inner));
      }
      c.message = messageAndClose(h);
    } else if (h == "assert_exhaustion") {
      c.kind = CommandKind::AssertExhaustion;
      c.action = action();
      c.message = messageAndClose(h);
    } else if (h == "assert_invalid" || h == "assert_malformed" || h == "assert_unlinkable" ||
               h == "assert_uninstantiable") {
      c.kind = h == "assert_invalid"      ? CommandKind::AssertInvalid
               : h == "assert_malformed"  ? CommandKind::AssertMalformed
               : h == "assert_unlinkable" ? CommandKind::AssertUnlinkable
                                          : CommandKind::AssertUninstantiable;
      Token o = expect(Token::Kind::LParen, "a module");
      Token inner = expect(Token::Kind::Atom, "module");
      if (inner.raw != "module") fail(inner, "expected module, got " + describe(inner));
      c.module = moduleRest(o, inner);
      c.message = messageAndClose(h);
    } else {
      // Unknown commands (and top-level annotations) are kept, not rejected:
      // a newer suite may add meta commands this runner does not need.
      c.kind = CommandKind::Other;
      c.name = std::string(h);
      Sexpr form;
      form.kind = Sexpr::Kind::List;
      form.line = open.line;
      form.column = open.column;
      Token t = std::move(head);
      while (t.kind != Token::Kind::RParen) {
        form.items.push_back(sexpr(std::move(t)));
        t = next();
      }
      c.form = std::move(form);
    }
    return c;
  }

  std::string messageAndClose(std::string_view form) {
    std::string message = expect(Token::Kind::String, "the expected failure message").value;
    expectClose(form);
    return message;
  }

  Action action() {
    Token o = expect(Token::Kind::LParen, "an action (invoke or get)");
    Token head = expect(Token::Kind::Atom, "invoke or get");
    if (head.raw != "invoke" && head.raw != "get")
      fail(head, "expected invoke or get, got " + describe(head));
    return actionRest(o, head);
  }

  // After `(invoke` or `(get`.
  Action actionRest(const Token& open, const Token& head) {
    Action a;
    a.kind = head.raw == "get" ? Action::Kind::Get : Action::Kind::Invoke;
    a.line = open.line;
    if (peekIsId()) a.module_id = idOf(next());
    a.name = expect(Token::Kind::String, "an export name string").value;
    if (a.kind == Action::Kind::Get) {
      expectClose("get");
    } else {
      while (peek().kind != Token::Kind::RParen) a.args.push_back(sexpr(next()));
      next();
    }
    return a;
  }

  // After `(module` (`open` is the '(' and `head` the `module` keyword): the
  // optional `definition` keyword and `$id` (either order), then `binary`
  // strings, `quote` strings, or the fields of a text module up to the
  // matching ')'.
  ModuleDef moduleRest(const Token& open, const Token& head) {
    ModuleDef m;
    m.line = open.line;
    size_t header_end = head.end;  // where the fields start
    while (true) {
      if (!m.definition && peekIsAtom("definition")) {
        m.definition = true;
      } else if (m.id.empty() && peekIsId()) {
        m.id = idOf(peek());
      } else {
        break;
      }
      header_end = next().end;
    }
    size_t close_end = 0;
    if (peekIsAtom("binary") || peekIsAtom("quote")) {
      bool binary = next().raw == "binary";
      m.form = binary ? ModuleForm::Binary : ModuleForm::Quote;
      std::string content;
      while (peek().kind == Token::Kind::String) content += next().value;
      close_end = expect(Token::Kind::RParen, binary ? "a string or ')' in a binary module"
                                                     : "a string or ')' in a quoted module")
                      .end;
      if (binary) {
        m.bytes.assign(content.begin(), content.end());
      } else {
        m.text = std::move(content);
      }
    } else {
      m.form = ModuleForm::Text;
      int depth = 0;
      while (true) {
        Token t = lex_.next();
        if (t.kind == Token::Kind::Eof) fail(open, "unterminated module (no matching ')')");
        if (t.kind == Token::Kind::LParen) ++depth;
        if (t.kind == Token::Kind::RParen && depth-- == 0) {
          close_end = t.end;
          break;
        }
      }
    }
    m.source = std::string(src_.substr(open.begin, close_end - open.begin));
    if (m.form == ModuleForm::Text) {
      // Text tools know neither `definition` nor annotations before the
      // `module` keyword (`((@a) module ...)`); then the header is
      // rewritten and the fields are kept byte for byte.
      if (m.definition || m.source.rfind("(module", 0) != 0) {
        m.text = "(module" + (m.id.empty() ? std::string() : " " + m.id) +
                 std::string(src_.substr(header_end, close_end - header_end));
      } else {
        m.text = m.source;
      }
    }
    return m;
  }

  // Any S-expression; `first` is its first token, already consumed. Nesting
  // is bounded so that a hostile script cannot exhaust the native stack.
  Sexpr sexpr(Token first, int depth = 0) {
    static constexpr int kMaxDepth = 1000;
    if (depth > kMaxDepth) fail(first, "S-expression nested too deeply");
    Sexpr s;
    s.line = first.line;
    s.column = first.column;
    switch (first.kind) {
      case Token::Kind::Atom:
        s.kind = Sexpr::Kind::Atom;
        s.text = std::string(first.raw);
        return s;
      case Token::Kind::String:
        s.kind = Sexpr::Kind::String;
        s.text = std::move(first.value);
        return s;
      case Token::Kind::LParen:
        s.kind = Sexpr::Kind::List;
        while (true) {
          Token t = next();
          if (t.kind == Token::Kind::RParen) return s;
          if (t.kind == Token::Kind::Eof) fail(first, "unterminated '(' (no matching ')')");
          s.items.push_back(sexpr(std::move(t), depth + 1));
        }
      case Token::Kind::RParen: fail(first, "unexpected ')'");
      case Token::Kind::Eof: fail(first, "unexpected end of input");
    }
    fail(first, "unexpected token");
  }

  std::string_view src_;
  Lexer lex_;
};

}  // namespace

std::string Sexpr::toString() const {
  switch (kind) {
    case Kind::Atom: return text;
    case Kind::String: {
      static const char* kHex = "0123456789abcdef";
      std::string out = "\"";
      for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c >= 0x20 && c < 0x7F) {
          out += static_cast<char>(c);
        } else {
          out += '\\';
          out += kHex[c >> 4];
          out += kHex[c & 15];
        }
      }
      return out + "\"";
    }
    case Kind::List: {
      std::string out = "(";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ' ';
        out += items[i].toString();
      }
      return out + ")";
    }
  }
  return {};
}

std::string ModuleDef::wat() const {
  if (form != ModuleForm::Quote) return text;
  // A quoted module is either a whole `(module ...)` or just its fields
  // (the "inline module" abbreviation); converters want the former.
  try {
    Lexer lex(text);
    if (lex.next().kind == Token::Kind::LParen) {
      Token head = lex.next();
      if (head.kind == Token::Kind::Atom && head.raw == "module") return text;
    }
  } catch (const Failure&) {
    // Unlexable text: wrap it anyway and let the converter report the error.
  }
  // The newline ends a line comment the text may finish with.
  return "(module\n" + text + "\n)";
}

std::string_view commandKindName(CommandKind kind) {
  switch (kind) {
    case CommandKind::Module: return "module";
    case CommandKind::ModuleInstance: return "module instance";
    case CommandKind::Register: return "register";
    case CommandKind::Action: return "action";
    case CommandKind::AssertReturn: return "assert_return";
    case CommandKind::AssertTrap: return "assert_trap";
    case CommandKind::AssertExhaustion: return "assert_exhaustion";
    case CommandKind::AssertInvalid: return "assert_invalid";
    case CommandKind::AssertMalformed: return "assert_malformed";
    case CommandKind::AssertUnlinkable: return "assert_unlinkable";
    case CommandKind::AssertUninstantiable: return "assert_uninstantiable";
    case CommandKind::Other: return "other";
  }
  return "?";
}

std::string ParseError::toString() const {
  return std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

ParseResult parseScript(std::string_view source) {
  try {
    return Parser(source).script();
  } catch (const Failure& f) {
    return ParseError{f.line, f.column, f.message};
  }
}

ParseResult parseScriptFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ParseError{0, 0, "cannot open " + path};
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return ParseError{0, 0, "cannot read " + path};
  return parseScript(buffer.str());
}

}  // namespace slabfuzz::wast
