// A vector with inline storage for N elements; spills to the heap beyond.
// Used for shapes, strides, attrs and op argument lists, so the hot path does not allocate.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <new>
#include <type_traits>
#include <utility>

namespace tapegrad {

template <class T, size_t N>
class SmallVec {
 public:
  SmallVec() = default;
  SmallVec(std::initializer_list<T> il) {
    reserve(il.size());
    for (const T& v : il) push_back(v);
  }
  explicit SmallVec(size_t n, const T& v = T()) {
    reserve(n);
    for (size_t i = 0; i < n; ++i) push_back(v);
  }
  template <class It, class = decltype(*std::declval<It>())>
  SmallVec(It b, It e) {
    for (; b != e; ++b) push_back(*b);
  }
  SmallVec(const SmallVec& o) {
    reserve(o.size_);
    for (size_t i = 0; i < o.size_; ++i) new (data() + i) T(o[i]);
    size_ = o.size_;
  }
  SmallVec(SmallVec&& o) noexcept { steal(std::move(o)); }
  SmallVec& operator=(const SmallVec& o) {
    if (this != &o) {
      clear();
      reserve(o.size_);
      for (size_t i = 0; i < o.size_; ++i) new (data() + i) T(o[i]);
      size_ = o.size_;
    }
    return *this;
  }
  SmallVec& operator=(SmallVec&& o) noexcept {
    if (this != &o) {
      destroy();
      steal(std::move(o));
    }
    return *this;
  }
  ~SmallVec() { destroy(); }

  T* data() { return heap_ ? heap_ : reinterpret_cast<T*>(inline_); }
  const T* data() const { return heap_ ? heap_ : reinterpret_cast<const T*>(inline_); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }

  void reserve(size_t n) {
    if (n <= cap()) return;
    T* nh = static_cast<T*>(::operator new(n * sizeof(T)));
    T* old = data();
    for (size_t i = 0; i < size_; ++i) {
      new (nh + i) T(std::move(old[i]));
      old[i].~T();
    }
    if (heap_) ::operator delete(heap_);
    heap_ = nh;
    heap_cap_ = n;
  }
  void push_back(const T& v) {
    if (size_ == cap()) {
      T tmp(v);
      reserve(cap() * 2);
      new (data() + size_) T(std::move(tmp));
    } else {
      new (data() + size_) T(v);
    }
    ++size_;
  }
  // On growth the new element is built before the move to the larger buffer: the argument may
  // be one of this vector's elements (v.push_back(std::move(v[0])), v.emplace_back(v[1])).
  void push_back(T&& v) {
    if (size_ == cap()) {
      T tmp(std::move(v));
      reserve(cap() * 2);
      new (data() + size_) T(std::move(tmp));
    } else {
      new (data() + size_) T(std::move(v));
    }
    ++size_;
  }
  template <class... A>
  T& emplace_back(A&&... a) {
    if (size_ == cap()) {
      T tmp(std::forward<A>(a)...);
      reserve(cap() * 2);
      new (data() + size_) T(std::move(tmp));
    } else {
      new (data() + size_) T(std::forward<A>(a)...);
    }
    return data()[size_++];
  }
  void pop_back() { data()[--size_].~T(); }
  void resize(size_t n, const T& v = T()) {
    while (size_ > n) pop_back();
    reserve(n);
    while (size_ < n) push_back(v);
  }
  void insert(size_t pos, const T& v) {
    push_back(v);
    for (size_t i = size_ - 1; i > pos; --i) std::swap(data()[i], data()[i - 1]);
  }
  void erase(size_t pos) {
    for (size_t i = pos; i + 1 < size_; ++i) std::swap(data()[i], data()[i + 1]);
    pop_back();
  }
  void clear() {
    for (size_t i = 0; i < size_; ++i) data()[i].~T();
    size_ = 0;
  }
  bool operator==(const SmallVec& o) const {
    if (size_ != o.size_) return false;
    for (size_t i = 0; i < size_; ++i)
      if (!(data()[i] == o[i])) return false;
    return true;
  }
  bool operator!=(const SmallVec& o) const { return !(*this == o); }

 private:
  size_t cap() const { return heap_ ? heap_cap_ : N; }
  void destroy() {
    clear();
    if (heap_) ::operator delete(heap_);
    heap_ = nullptr;
  }
  void steal(SmallVec&& o) {
    if (o.heap_) {
      heap_ = o.heap_;
      heap_cap_ = o.heap_cap_;
      size_ = o.size_;
      o.heap_ = nullptr;
      o.size_ = 0;
    } else {
      heap_ = nullptr;
      for (size_t i = 0; i < o.size_; ++i) new (data() + i) T(std::move(o[i]));
      size_ = o.size_;
      o.clear();
    }
  }
  alignas(T) unsigned char inline_[N * sizeof(T)];
  T* heap_ = nullptr;
  size_t heap_cap_ = 0;
  size_t size_ = 0;
};

}  // namespace tapegrad
