// The entry points of wat.h: the tree from the lexer, the module from the
// assembler, and a WatError turned into an Error with its line and column.
#include "text/wat.h"

#include <fmt/format.h>

#include "text/assembler.h"
#include "text/lexer.h"

namespace slabfuzz {

Result<std::vector<uint8_t>> assembleWat(std::string_view text) {
  try {
    std::vector<wat::Node> top = wat::readTree(text);
    wat::Assembler assembler;
    return assembler.assemble(top);
  } catch (const wat::WatError& e) {
    Error err;
    err.code = e.unsupported ? ErrorCode::UnsupportedFeature : ErrorCode::MalformedText;
    err.offset = e.offset;
    err.message = e.unsupported ? e.message : fmt::format("{}:{}: {}", e.line, e.column, e.message);
    if (e.unsupported) err.context = fmt::format("text {}:{}", e.line, e.column);
    return err;
  }
}

bool looksLikeWat(std::span<const uint8_t> bytes) {
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const uint8_t c = bytes[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == ';' && i + 1 < n && bytes[i + 1] == ';') {
      while (i < n && bytes[i] != '\n' && bytes[i] != '\r') ++i;
    } else if (c == '(' && i + 1 < n && bytes[i + 1] == ';') {
      int depth = 0;
      while (i < n) {
        if (bytes[i] == '(' && i + 1 < n && bytes[i + 1] == ';') {
          ++depth;
          i += 2;
        } else if (bytes[i] == ';' && i + 1 < n && bytes[i + 1] == ')') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
    } else {
      return c == '(';
    }
  }
  return false;
}

}  // namespace slabfuzz
