// The "A..B" seed ranges of `slabfuzz gen` and `slabfuzz ttf`. Owns only the
// parsing. Contract: decimal A and B with A <= B, both inclusive; anything
// else (signs, spaces, overflow, B < A) is refused.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace slabfuzz::cli {

inline std::optional<std::pair<uint64_t, uint64_t>> parseSeedRange(const std::string& text) {
  size_t dots = text.find("..");
  if (dots == std::string::npos || dots == 0 || dots + 2 >= text.size()) return std::nullopt;
  auto num = [](const std::string& s) -> std::optional<uint64_t> {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    uint64_t v = std::strtoull(s.c_str(), &end, 10);
    if (errno || *end) return std::nullopt;
    return v;
  };
  auto a = num(text.substr(0, dots)), b = num(text.substr(dots + 2));
  if (!a || !b || *a > *b) return std::nullopt;
  return std::make_pair(*a, *b);
}

}  // namespace slabfuzz::cli
