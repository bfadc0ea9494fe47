// Trap classes; see trap_class.h.
#include "oracle/trap_class.h"

namespace slabfuzz {
namespace {

struct Spelling {
  std::string_view text;
  TrapClass trap_class;
};

constexpr Spelling kSpellings[] = {
#define TRAP_SPELLING(Text, Class, Who) {Text, TrapClass::Class},
#include "oracle/trap_spellings.def"
};

}  // namespace

std::string_view trapClassName(TrapClass c) {
  switch (c) {
    case TrapClass::Unreachable: return "unreachable";
    case TrapClass::Null: return "null";
    case TrapClass::Cast: return "cast";
    case TrapClass::Bounds: return "bounds";
    case TrapClass::IndirectCall: return "indirect-call";
    case TrapClass::Arithmetic: return "arithmetic";
    case TrapClass::Host: return "host";
    case TrapClass::Unknown: return "?";
  }
  return "?";
}

bool isResourceLine(std::string_view line) {
  return line.starts_with("[host limit") || line == "[out of fuel]";
}

TrapClass trapClassOf(std::string_view line) {
  if (line.starts_with("[trap")) line.remove_prefix(5);
  for (const Spelling& s : kSpellings)
    if (line.find(s.text) != std::string_view::npos) return s.trap_class;
  return TrapClass::Unknown;
}

bool trapClassesMatch(TrapClass a, std::string_view engine_a, TrapClass b,
                      std::string_view engine_b) {
  if (a == b || a == TrapClass::Unknown || b == TrapClass::Unknown) return true;
  auto v8FoldedNull = [](TrapClass mine, std::string_view engine, TrapClass other) {
    return engine == "v8" && mine == TrapClass::Unreachable && other == TrapClass::Null;
  };
  return v8FoldedNull(a, engine_a, b) || v8FoldedNull(b, engine_b, a);
}

}  // namespace slabfuzz
