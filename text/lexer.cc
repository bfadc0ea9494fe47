// Lexing of the text format (spec 6.3): see lexer.h.
#include "text/lexer.h"

#include <fmt/format.h>

#include "text/numbers.h"
#include "text/chars.h"

namespace slabfuzz::wat {

void failAt(const Node& at, std::string message) {
  throw WatError{at.line, at.column, at.offset, std::move(message), false};
}

void unsupportedAt(const Node& at, std::string_view feature) {
  throw WatError{at.line, at.column, at.offset, fmt::format("unsupported feature: {}", feature),
                 true};
}

namespace {
// The offset of the first byte that is not part of a valid UTF-8 sequence,
// or s.size() when all are.
size_t firstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      cp = b & 0x07;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (int k = 1; k < len; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (c & 0x3F);
    }
    // Overlong forms, surrogates and code points past U+10FFFF (RFC 3629).
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return s.size();
}
}  // namespace

bool isValidUtf8(std::string_view s) {
  return firstInvalidUtf8(s) == s.size();
}

namespace {

// idchar (spec 6.3.5).
bool isIdChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '/':
    case ':':
    case '<':
    case '=':
    case '>':
    case '?':
    case '@':
    case '\\':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

using text::appendUtf8;
using text::hexValue;

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Node> readAll() {
    std::vector<Node> top;
    for (;;) {
      skipSpace();
      if (pos_ >= src_.size()) return top;
      if (src_[pos_] == ')') fail("unexpected `)`");
      readNode(top, 0, false);
    }
  }

 private:
  static constexpr int kMaxDepth = 2000;  // bounds recursion on hostile input

  [[noreturn]] void failAtPos(size_t pos, std::string message) {
    uint32_t line = 1, col = 1;
    for (size_t i = 0; i < pos && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw WatError{line, col, static_cast<uint32_t>(pos), std::move(message), false};
  }
  [[noreturn]] void fail(std::string message) { failAtPos(pos_, std::move(message)); }

  Node start(Node::Kind kind) {
    Node n;
    n.kind = kind;
    n.line = line_;
    n.column = static_cast<uint32_t>(pos_ - line_start_ + 1);
    n.offset = static_cast<uint32_t>(pos_);
    return n;
  }

  void newline(size_t at) {
    ++line_;
    line_start_ = at + 1;
  }

  // White space and comments (spec 6.3.2, 6.3.3).
  void skipSpace() {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t') {
        ++pos_;
      } else if (c == '\n') {
        newline(pos_);
        ++pos_;
      } else if (c == '\r') {
        // A CR LF pair is one line break.
        if (pos_ + 1 < src_.size() && src_[pos_ + 1] == '\n') ++pos_;
        newline(pos_);
        ++pos_;
      } else if (c == ';' && pos_ + 1 < src_.size() && src_[pos_ + 1] == ';') {
        // A line comment ends at LF or at CR (spec 6.3.3: linechar excludes both).
        while (pos_ < src_.size() && src_[pos_] != '\n' && src_[pos_] != '\r') ++pos_;
      } else if (c == '(' && pos_ + 1 < src_.size() && src_[pos_ + 1] == ';') {
        skipBlockComment();
      } else {
        return;
      }
    }
  }

  void skipBlockComment() {
    const size_t begin = pos_;
    int depth = 0;
    while (pos_ < src_.size()) {
      if (src_[pos_] == '(' && pos_ + 1 < src_.size() && src_[pos_ + 1] == ';') {
        ++depth;
        pos_ += 2;
      } else if (src_[pos_] == ';' && pos_ + 1 < src_.size() && src_[pos_ + 1] == ')') {
        pos_ += 2;
        if (--depth == 0) return;
      } else {
        if (src_[pos_] == '\n' ||
            (src_[pos_] == '\r' && (pos_ + 1 >= src_.size() || src_[pos_ + 1] != '\n')))
          newline(pos_);
        ++pos_;
      }
    }
    failAtPos(begin, "unclosed block comment");
  }

  // One node: a list, or an atom; an annotation is read and dropped.
  // Inside an annotation, the tokens are only balanced: a nested `(@` needs
  // no annotation id (annotations.wast nests `(@)` and `(@ x)`).
  void readNode(std::vector<Node>& into, int depth, bool in_annotation) {
    if (depth > kMaxDepth) fail("nesting too deep");
    if (src_[pos_] == '(') {
      Node list = start(Node::Kind::List);
      ++pos_;
      bool annotation = pos_ < src_.size() && src_[pos_] == '@';
      if (annotation && !in_annotation) readAnnotationId();
      for (;;) {
        skipSpace();
        if (pos_ >= src_.size()) failAtPos(list.offset, "unclosed `(`");
        if (src_[pos_] == ')') {
          ++pos_;
          break;
        }
        readNode(list.kids, depth + 1, in_annotation || annotation);
      }
      if (!annotation) into.push_back(std::move(list));
      return;
    }
    into.push_back(readAtom());
  }

  // `(@` annotid: idchar+ or a non-empty valid UTF-8 string (spec 6.3.4).
  void readAnnotationId() {
    ++pos_;  // '@'
    if (pos_ < src_.size() && src_[pos_] == '"') {
      std::string name = readString();
      if (name.empty()) fail("empty annotation id");
      if (!isValidUtf8(name)) fail("malformed UTF-8 encoding");
      if (pos_ < src_.size() && !endsToken(pos_)) fail("unknown annotation id");
      return;
    }
    size_t begin = pos_;
    while (pos_ < src_.size() && isIdChar(src_[pos_])) ++pos_;
    if (pos_ == begin) fail("empty annotation id");
    if (pos_ < src_.size() && !endsToken(pos_)) fail("unknown annotation id");
  }

  bool endsToken(size_t p) const {
    const char c = src_[p];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' ||
           (c == ';' && p + 1 < src_.size() && src_[p + 1] == ';');
  }

  // A string literal starting at '"'; returns its bytes (spec 6.3.3).
  std::string readString() {
    const size_t begin = pos_;
    ++pos_;
    std::string out;
    for (;;) {
      if (pos_ >= src_.size()) failAtPos(begin, "unclosed string");
      const auto c = static_cast<uint8_t>(src_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\n' || c == '\r' || c < 0x20 || c == 0x7F)
        fail("illegal control character in string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= src_.size()) failAtPos(begin, "unclosed string");
      const char e = src_[pos_];
      switch (e) {
        case 't':
          out += '\t';
          ++pos_;
          break;
        case 'n':
          out += '\n';
          ++pos_;
          break;
        case 'r':
          out += '\r';
          ++pos_;
          break;
        case '"':
          out += '"';
          ++pos_;
          break;
        case '\'':
          out += '\'';
          ++pos_;
          break;
        case '\\':
          out += '\\';
          ++pos_;
          break;
        case 'u': {
          ++pos_;
          if (pos_ >= src_.size() || src_[pos_] != '{') fail("illegal escape");
          ++pos_;
          uint32_t cp = 0;
          size_t digits = 0;
          bool underscore_ok = false;
          while (pos_ < src_.size() && src_[pos_] != '}') {
            if (src_[pos_] == '_' && underscore_ok) {
              underscore_ok = false;
              ++pos_;
              continue;
            }
            int h = hexValue(src_[pos_]);
            if (h < 0) fail("illegal escape");
            cp = cp > 0x10FFFF ? cp : cp * 16 + static_cast<uint32_t>(h);
            ++digits;
            underscore_ok = true;
            ++pos_;
          }
          if (pos_ >= src_.size() || digits == 0 || !underscore_ok) fail("illegal escape");
          ++pos_;
          if (cp >= 0x110000 || (cp >= 0xD800 && cp <= 0xDFFF)) fail("illegal escape");
          appendUtf8(out, cp);
          break;
        }
        default: {
          int h1 = hexValue(e);
          int h2 = pos_ + 1 < src_.size() ? hexValue(src_[pos_ + 1]) : -1;
          if (h1 < 0 || h2 < 0) fail("illegal escape");
          out += static_cast<char>(h1 * 16 + h2);
          pos_ += 2;
        }
      }
    }
  }

  // An atom: the longest run of idchars, strings and the other reserved
  // characters (spec 6.3.5 "reserved"), then classified.
  Node readAtom() {
    Node n = start(Node::Kind::Reserved);
    const size_t begin = pos_;
    bool has_string = false, plain = true;
    size_t strings = 0;
    std::string string_value;
    while (pos_ < src_.size() && !endsToken(pos_)) {
      const char c = src_[pos_];
      if (c == '"') {
        has_string = true;
        ++strings;
        string_value = readString();
        continue;
      }
      if (isIdChar(c)) {
        ++pos_;
        continue;
      }
      if (c == ',' || c == ';' || c == '[' || c == ']' || c == '{' || c == '}') {
        plain = false;
        ++pos_;
        continue;
      }
      if (static_cast<uint8_t>(c) >= 0x80) fail("malformed UTF-8 encoding or unexpected character");
      fail("unexpected character");
    }
    std::string_view raw = src_.substr(begin, pos_ - begin);
    n.text = std::string(raw);
    if (has_string) {
      if (strings == 1 && raw.front() == '"' && raw.back() == '"' && plain) {
        n.kind = Node::Kind::String;
        n.text = std::move(string_value);
      } else if (strings == 1 && plain && raw.size() >= 3 && raw[0] == '$' && raw[1] == '"' &&
                 raw.back() == '"') {
        // $"..." (spec 6.3.5): an id named by a string.
        if (string_value.empty()) failAtPos(begin, "empty identifier");
        if (!isValidUtf8(string_value)) failAtPos(begin, "malformed UTF-8 encoding");
        n.kind = Node::Kind::Id;
        n.text = std::move(string_value);
      }
      return n;
    }
    if (!plain) return n;
    if (raw[0] == '$') {
      if (raw.size() > 1) {
        n.kind = Node::Kind::Id;
        n.text = std::string(raw.substr(1));
      }
      return n;
    }
    if (isNumberSyntax(raw)) {
      n.kind = Node::Kind::Num;
    } else if (raw[0] >= 'a' && raw[0] <= 'z') {
      n.kind = Node::Kind::Keyword;
    }
    return n;
  }

  std::string_view src_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  size_t line_start_ = 0;
};

}  // namespace

std::vector<Node> readTree(std::string_view text) {
  if (size_t bad = firstInvalidUtf8(text); bad != text.size()) {
    uint32_t line = 1, col = 1;
    for (size_t i = 0; i < bad; ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw WatError{line, col, static_cast<uint32_t>(bad), "malformed UTF-8 encoding", false};
  }
  return Lexer(text).readAll();
}

}  // namespace slabfuzz::wat
