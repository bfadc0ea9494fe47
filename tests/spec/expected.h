// A value or an error of a component-specific type, for the spec-suite
// components (wast reader, Node worker client). Owns nothing but the shape;
// runtime/error.h's Result<T> stays the type for decode/validate errors,
// which carry byte offsets and error codes that these errors do not have.
// (C++23's std::expected would do; the project builds as C++20.)
#pragma once

#include <utility>
#include <variant>

namespace slabfuzz {

template <typename T, typename E>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Expected(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace slabfuzz
