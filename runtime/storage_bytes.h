// The bytes one struct field or array element of a storage type takes:
// in both heaps' layouts, in the size estimate HeapLimits counts, and in a
// data segment that array.new_data / array.init_data read (the spec's |t|
// for numeric and packed types). One definition for the interpreter, the
// heaps and gcgen, which must all count alike.
// Contract: i8 1, i16 2, i32 and f32 4; i64, f64 and references 8 (a
// reference is one word in our heaps; v128 is out of scope).
#pragma once

#include <cstdint>

#include "runtime/valtype.h"

namespace slabfuzz {

constexpr uint32_t storageBytes(ValType t) {
  switch (t.kind()) {
    case ValKind::I8: return 1;
    case ValKind::I16: return 2;
    case ValKind::I32:
    case ValKind::F32: return 4;
    default: return 8;
  }
}

static_assert(storageBytes(ValType::i8()) == 1 && storageBytes(ValType::i32()) == 4);

}  // namespace slabfuzz
