#include "runtime/valtype.h"

#include <fmt/format.h>

namespace slabfuzz {

// 0x69 (exn) through 0x74 (noexn) are all abstract heap types.
bool HeapType::isAbstractCode(uint8_t byte) { return byte >= 0x69 && byte <= 0x74; }

namespace {
const char* abstractName(HeapType::Abstract a) {
  switch (a) {
    case HeapType::NoExn: return "noexn";
    case HeapType::NoFunc: return "nofunc";
    case HeapType::NoExtern: return "noextern";
    case HeapType::None: return "none";
    case HeapType::Func: return "func";
    case HeapType::Extern: return "extern";
    case HeapType::Any: return "any";
    case HeapType::Eq: return "eq";
    case HeapType::I31: return "i31";
    case HeapType::Struct: return "struct";
    case HeapType::Array: return "array";
    case HeapType::Exn: return "exn";
  }
  return "?";
}
}  // namespace

std::string HeapType::toString() const {
  if (isIndex()) return fmt::format("${}", index());
  return abstractName(abstractKind());
}

std::string ValType::toString() const {
  switch (kind()) {
    case ValKind::I32: return "i32";
    case ValKind::I64: return "i64";
    case ValKind::F32: return "f32";
    case ValKind::F64: return "f64";
    case ValKind::V128: return "v128";
    case ValKind::I8: return "i8";
    case ValKind::I16: return "i16";
    case ValKind::Ref: break;
  }
  HeapType ht = heapType();
  if (nullable() && ht.isAbstract()) return fmt::format("{}ref", abstractName(ht.abstractKind()));
  return fmt::format("(ref {}{})", nullable() ? "null " : "", ht.toString());
}

}  // namespace slabfuzz
