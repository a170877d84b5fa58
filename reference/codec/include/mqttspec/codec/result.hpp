#pragma once
// An expected-like result: a value or an error. Minimal on purpose (C++20 has no std::expected).
#include <cassert>
#include <utility>
#include <variant>

namespace mqttspec::codec {

template <class T, class E>
class [[nodiscard]] basic_result {
 public:
  basic_result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  basic_result(E error) : v_(std::in_place_index<1>, std::move(error)) {}
  // Turns a result into an error in place (no temporary of the whole result).
  basic_result& operator=(E error) {
    v_.template emplace<1>(std::move(error));
    return *this;
  }
  // Builds the value in place (values may be large, e.g. packets).
  template <class... Args>
  explicit basic_result(std::in_place_t, Args&&... args) : v_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { assert(has_value()); return *std::get_if<0>(&v_); }
  const T& value() const& { assert(has_value()); return *std::get_if<0>(&v_); }
  T&& value() && { assert(has_value()); return std::move(*std::get_if<0>(&v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const& { assert(!has_value()); return *std::get_if<1>(&v_); }

 private:
  std::variant<T, E> v_;
};

}  // namespace mqttspec::codec
