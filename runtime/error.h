// Errors as values for every stage that reads untrusted input.
// Owns: ErrorCode (from errors.def), the four categories, `Error`, `Status`,
// `Result<T>`. Does not own: traps (runtime) or findings (oracle), which are
// different outcomes and never mix with these (CONVENTIONS.md rule 9).
// Contract: an Error always carries the byte offset where the problem was seen,
// and prints as `message (at offset 0x1a3)` plus optional context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace slabfuzz {

enum class ErrorCategory : uint8_t { Malformed, Invalid, Unsupported, Io };

enum class ErrorCode : uint8_t {
#define WASM_ERROR(Name, Category, Slug) Name,
#include "runtime/errors.def"
};

ErrorCategory categoryOf(ErrorCode code);
std::string_view slugOf(ErrorCode code);
std::string_view categoryName(ErrorCategory category);

struct Error {
  ErrorCode code = ErrorCode::InvalidOther;
  uint64_t offset = 0;   // byte offset into the module where it was detected
  std::string message;   // what is wrong, with names where known
  std::string context;   // where, in words: "func $check", "global 3", ...

  ErrorCategory category() const { return categoryOf(code); }
  // "type mismatch: ... (at offset 0x1a3, func $check)"
  std::string toString() const;
};

// Success or an Error. [[nodiscard]] so that a check cannot be dropped.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : error_(std::move(e)) {}  // NOLINT: implicit by design
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }
  Error&& takeError() { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

// A value or an error. E defaults to `Error`; components whose failures have
// no byte offset (the spec-suite worker clients) use their own error type.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }
  E&& takeError() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

inline Error makeError(ErrorCode code, uint64_t offset, std::string message) {
  return Error{code, offset, std::move(message), {}};
}

}  // namespace slabfuzz
