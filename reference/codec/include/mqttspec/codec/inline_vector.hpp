#pragma once
// A vector that holds its first N elements inline and goes to the heap only beyond them, so that
// decoding the common packets (a SUBSCRIBE with a few filters, a PUBLISH with a user property or
// two) allocates nothing. Only for trivially destructible elements (views, codes, numbers, pairs of
// views): no element ever needs a destructor, which keeps this small.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace mqttspec::codec {

template <class T, std::size_t N>
class inline_vector {
  static_assert(std::is_trivially_destructible_v<T> && std::is_nothrow_copy_constructible_v<T>);
  static_assert(N > 0);

 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;

  inline_vector() noexcept = default;
  inline_vector(std::initializer_list<T> init) { assign(init.begin(), init.end()); }
  template <std::input_iterator It>
  inline_vector(It first, It last) {
    assign(first, last);
  }
  inline_vector(const inline_vector& o) { assign(o.begin(), o.end()); }
  inline_vector(inline_vector&& o) noexcept { take(o); }
  explicit inline_vector(const std::vector<T>& v) { assign(v.begin(), v.end()); }
  ~inline_vector() { release(); }

  inline_vector& operator=(const inline_vector& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  inline_vector& operator=(inline_vector&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  inline_vector& operator=(const std::vector<T>& v) {
    assign(v.begin(), v.end());
    return *this;
  }
  inline_vector& operator=(std::initializer_list<T> init) {
    assign(init.begin(), init.end());
    return *this;
  }

  template <std::input_iterator It>
  void assign(It first, It last) {
    clear();
    for (; first != last; ++first) push_back(*first);
  }

  T* data() noexcept { return heap_ ? heap_ : inline_data(); }
  const T* data() const noexcept { return heap_ ? heap_ : inline_data(); }
  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + size_; }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size_; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return heap_ ? capacity_ : N; }
  bool empty() const noexcept { return size_ == 0; }
  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T& at(std::size_t i) {
    if (i >= size_) throw std::out_of_range("inline_vector::at");
    return data()[i];
  }
  const T& at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("inline_vector::at");
    return data()[i];
  }
  T& front() noexcept { return data()[0]; }
  const T& front() const noexcept { return data()[0]; }
  T& back() noexcept { return data()[size_ - 1]; }
  const T& back() const noexcept { return data()[size_ - 1]; }

  void clear() noexcept { size_ = 0; }
  void reserve(std::size_t n) {
    if (n > capacity()) grow(n);
  }
  void push_back(const T& v) {
    if (size_ == capacity()) {
      const T copy = v;  // v may live in this vector
      grow(size_ * 2);
      std::construct_at(data() + size_++, copy);
      return;
    }
    std::construct_at(data() + size_++, v);
  }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    push_back(T{std::forward<Args>(args)...});
    return back();
  }
  void pop_back() noexcept { --size_; }
  void resize(std::size_t n) {
    reserve(n);
    for (std::size_t i = size_; i < n; ++i) std::construct_at(data() + i);
    size_ = static_cast<std::uint32_t>(n);
  }
  iterator erase(const_iterator first, const_iterator last) noexcept {
    auto* f = const_cast<T*>(first);
    std::copy(const_cast<T*>(last), end(), f);
    size_ -= static_cast<std::uint32_t>(last - first);
    return f;
  }
  iterator erase(const_iterator pos) noexcept { return erase(pos, pos + 1); }
  iterator insert(const_iterator pos, const T& v) {
    const auto at = static_cast<std::size_t>(pos - begin());
    push_back(v);
    std::rotate(begin() + at, end() - 1, end());
    return begin() + at;
  }

  operator std::vector<T>() const { return std::vector<T>(begin(), end()); }

  friend bool operator==(const inline_vector& a, const inline_vector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const inline_vector& a, const std::vector<T>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  T* inline_data() noexcept { return std::launder(reinterpret_cast<T*>(inline_)); }
  const T* inline_data() const noexcept { return std::launder(reinterpret_cast<const T*>(inline_)); }

  void grow(std::size_t n) {
    n = std::max(n, 2 * N);
    T* fresh = static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignof(T)}));
    std::uninitialized_copy(begin(), end(), fresh);
    release();
    heap_ = fresh;
    capacity_ = static_cast<std::uint32_t>(n);
  }
  void release() noexcept {
    if (heap_) ::operator delete(heap_, std::align_val_t{alignof(T)});
    heap_ = nullptr;
  }
  void take(inline_vector& o) noexcept {
    size_ = o.size_;
    if (o.heap_) {
      heap_ = o.heap_;
      capacity_ = o.capacity_;
      o.heap_ = nullptr;
    } else {
      std::uninitialized_copy(o.begin(), o.end(), inline_data());
    }
    o.size_ = 0;
  }

  T* heap_ = nullptr;
  std::uint32_t size_ = 0;      // a packet holds far fewer than 2^32 of anything
  std::uint32_t capacity_ = 0;  // of heap_
  alignas(T) unsigned char inline_[N * sizeof(T)];
};

}  // namespace mqttspec::codec
