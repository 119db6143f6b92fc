// Refcounted storage with a device tag, and the caching allocator behind it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace tapegrad {

enum class Device : uint8_t { CPU = 0, GPU = 1 };
const char* device_name(Device d);

// Intrusive pointer for types with `refcount_` and a static `release(T*)`.
template <class T>
class Ref {
 public:
  Ref() = default;
  explicit Ref(T* p, bool add_ref = false) : p_(p) {
    if (p_ && add_ref) p_->refcount_.fetch_add(1, std::memory_order_relaxed);
  }
  Ref(const Ref& o) : p_(o.p_) {
    if (p_) p_->refcount_.fetch_add(1, std::memory_order_relaxed);
  }
  Ref(Ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Ref& operator=(const Ref& o) {
    Ref(o).swap(*this);
    return *this;
  }
  Ref& operator=(Ref&& o) noexcept {
    Ref(std::move(o)).swap(*this);
    return *this;
  }
  ~Ref() { reset(); }
  void reset() {
    if (p_ && p_->refcount_.fetch_sub(1, std::memory_order_acq_rel) == 1) T::release(p_);
    p_ = nullptr;
  }
  void swap(Ref& o) noexcept { std::swap(p_, o.p_); }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  bool operator==(const Ref& o) const { return p_ == o.p_; }
  bool operator!=(const Ref& o) const { return p_ != o.p_; }
  int use_count() const { return p_ ? p_->refcount_.load(std::memory_order_relaxed) : 0; }

 private:
  T* p_ = nullptr;
};

// Raw memory from size-class caches: small blocks come from a per-thread free list and cost
// no malloc on the hot path; large blocks are cached globally by size class.
namespace alloc {
void* allocate(size_t nbytes, Device dev);  // 64-byte aligned
void deallocate(void* p, size_t nbytes, Device dev);
void empty_cache();
size_t bytes_in_use();
// Highest bytes_in_use() since the last reset_peak_bytes() (or the start of the process). Blocks
// handed out count until freed, also when a pool (a jit program's arena) keeps them for reuse.
size_t peak_bytes_in_use();
void reset_peak_bytes();  // the peak becomes the current bytes_in_use()
}  // namespace alloc

// A block of memory shared by views. Either owned (allocator) or borrowed from an outside owner
// (a numpy array, a DLPack producer), released through `ext_release(ext_ctx)`.
struct Storage {
  std::atomic<int32_t> refcount_{1};
  Device device = Device::CPU;
  // Bumped by every in-place write; tapes record it to catch writes to saved values.
  std::atomic<uint32_t> version{0};
  void* data = nullptr;
  size_t nbytes = 0;
  void (*ext_release)(void*) = nullptr;  // non-null: memory is borrowed
  void* ext_ctx = nullptr;
  bool ext_readonly = false;

  static Ref<Storage> allocate(size_t nbytes, Device dev = Device::CPU);
  static Ref<Storage> borrow(void* data, size_t nbytes, Device dev, void (*rel)(void*), void* ctx, bool readonly);
  static void release(Storage* s);
  // Borrowed memory is copied into our own before the first in-place write (copy on write:
  // every view shares this Storage object, so all of them see the new buffer).
  void make_writable();
  bool borrowed() const { return ext_release != nullptr; }
};

}  // namespace tapegrad
