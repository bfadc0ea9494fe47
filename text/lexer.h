// Lexing of the text format (spec 6.3) into a tree of S-expressions.
// Owns: tokens (keywords, ids incl. `$"..."`, numbers, strings, reserved
// tokens), white space and comments (line comments end at LF or a lone CR,
// block comments nest), skipping annotations `(@id ...)` wherever they
// appear, and UTF-8 validity of the source. Does not own: what a token
// means (numbers are checked and converted in numbers.h, keywords by the
// parsers). Contract: `readTree` returns the top-level nodes of the text or
// throws `WatError` with the line and column of the first malformation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slabfuzz::wat {

// A malformation (or an out-of-scope feature) found while assembling; thrown
// inside text/ only and turned into an `Error` by assembleWat.
struct WatError {
  uint32_t line = 0, column = 0, offset = 0;
  std::string message;
  bool unsupported = false;  // "unsupported feature: ..."
};

struct Node {
  enum class Kind : uint8_t { List, Keyword, Id, Num, String, Reserved };
  Kind kind = Kind::List;
  // Keyword, Num, Reserved: as written. Id: the name after '$' (a `$"..."`
  // id decoded, so `$a` and `$"a"` are the same id). String: the bytes.
  std::string text;
  uint32_t line = 0, column = 0, offset = 0;  // of the first character
  std::vector<Node> kids;                     // List only

  bool isList() const { return kind == Kind::List; }
  bool isKeyword(std::string_view k) const { return kind == Kind::Keyword && text == k; }
  // A list whose first element is the keyword `head`.
  bool isList(std::string_view head) const {
    return kind == Kind::List && !kids.empty() && kids[0].isKeyword(head);
  }
  bool isIndex() const { return kind == Kind::Id || kind == Kind::Num; }
};

[[noreturn]] void failAt(const Node& at, std::string message);
[[noreturn]] void unsupportedAt(const Node& at, std::string_view feature);

// The top-level nodes of `text` (annotations dropped).
std::vector<Node> readTree(std::string_view text);

// UTF-8 validity of a byte string (spec 6.3.3: names must be valid UTF-8).
bool isValidUtf8(std::string_view s);

}  // namespace slabfuzz::wat
