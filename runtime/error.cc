#include "runtime/error.h"

#include <fmt/format.h>

namespace slabfuzz {

ErrorCategory categoryOf(ErrorCode code) {
  switch (code) {
#define WASM_ERROR(Name, Category, Slug) \
  case ErrorCode::Name:                  \
    return ErrorCategory::Category;
#include "runtime/errors.def"
  }
  return ErrorCategory::Invalid;
}

std::string_view slugOf(ErrorCode code) {
  switch (code) {
#define WASM_ERROR(Name, Category, Slug) \
  case ErrorCode::Name:                  \
    return Slug;
#include "runtime/errors.def"
  }
  return "invalid";
}

std::string_view categoryName(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::Malformed: return "malformed";
    case ErrorCategory::Invalid: return "invalid";
    case ErrorCategory::Unsupported: return "unsupported";
    case ErrorCategory::Io: return "io";
  }
  return "invalid";
}

std::string Error::toString() const {
  if (context.empty()) return fmt::format("{} (at offset {:#x})", message, offset);
  return fmt::format("{} (at offset {:#x}, {})", message, offset, context);
}

}  // namespace slabfuzz
