// Log normalisation; see normalise.h.
#include "oracle/normalise.h"

#include <fmt/format.h>

#include "oracle/execution_log.h"
#include "oracle/trap_class.h"

namespace slabfuzz {
namespace {

bool isHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
// Characters that may stand right before or after a value token.
bool isBoundary(char c) { return c == ' ' || c == '(' || c == ')' || c == ']' || c == ','; }

}  // namespace

std::string canonicalNans(std::string_view line) {
  size_t from = 0;
  if (isResultLine(line)) {
    size_t arrow = line.find(" => ");
    from = arrow == std::string_view::npos ? line.size() : arrow + 4;
  }
  if (line.find("nan", from) == std::string_view::npos) return std::string(line);
  std::string out(line.substr(0, from));
  size_t i = from;
  while (i < line.size()) {
    size_t start = i;
    bool token_start = i == 0 || isBoundary(line[i - 1]);
    if (token_start && line[i] == '-') ++i;
    if (token_start && line.substr(i, 3) == "nan") {
      size_t end = i + 3;
      if (line.substr(end, 3) == ":0x" && end + 3 < line.size() && isHex(line[end + 3])) {
        end += 3;
        while (end < line.size() && isHex(line[end])) ++end;
      }
      if (end == line.size() || isBoundary(line[end])) {
        out += "nan";
        i = end;
        continue;
      }
    }
    i = start;
    out += line[i++];
  }
  return out;
}

std::vector<std::string> normaliseLog(std::span<const std::string> lines,
                                      const NormaliseOptions& options) {
  std::vector<std::string> out;
  out.reserve(lines.size());
  for (const std::string& line : lines) {
    if (!options.keep_slabfuzz_lines && isSlabfuzzLine(line)) continue;
    if (!options.keep_trap_messages && line.starts_with("[trap ") && line.ends_with("]")) {
      out.push_back(options.trap_classes
                        ? fmt::format("[trap {}]", trapClassName(trapClassOf(line)))
                        : std::string("[trap]"));
      continue;
    }
    out.push_back(canonicalNans(line));
  }
  return out;
}

}  // namespace slabfuzz
