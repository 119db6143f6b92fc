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

// Note [Device plugins]
// ~~~~~~~~~~~~~~~~~~~~~~
// _core holds the CPU alone. A device's code lives in a plugin extension module built beside it
// (tapegrad._cuda, csrc/kernels/cuda/), so that _core links no device runtime and a CPU-only
// machine imports tapegrad as before. _core's symbols are not visible to other modules (hidden
// visibility, loaded RTLD_LOCAL), so the plugin is handed what it may call as a table of function
// pointers, kernels::PluginApi (kernels/dispatch.h), in the PyCapsule _core._device_plugin_api;
// through it the plugin registers its memory (a DeviceAllocator, here) and its kernels (a
// kernels::Backend). The plugin includes core/ and kernels/ headers for their types only: it
// must not call an out-of-line function of _core (a Tensor's destructor included), which would be
// an undefined symbol when it loads; tests/test_cuda.py checks its symbol table. Errors cross
// back as return values or through PluginApi::fail, which throws from _core.
//
// A device's raw memory: what its plugin registered (register_device_allocator), or nothing.
struct DeviceAllocator {
  const char* name;
  // nbytes > 0; nullptr when the device has no memory left (after the plugin freed its cache).
  void* (*allocate)(size_t nbytes);
  void (*deallocate)(void* p, size_t nbytes);
  // Copies n bytes (kind: 0 device -> host, 1 host -> device, 2 device -> device), ordered after
  // every kernel already launched on the device; false on failure, then error() says why.
  bool (*copy)(void* dst, const void* src, size_t n, int kind);
  const char* (*error)();
};
enum : int { kCopyToHost = 0, kCopyFromHost = 1, kCopyOnDevice = 2 };
// Called by a plugin while it loads; `a` must outlive the process (a static table).
void register_device_allocator(Device dev, const DeviceAllocator* a);
const DeviceAllocator* device_allocator(Device dev);  // null: no plugin registered for dev

// Raw memory from size-class caches: small blocks come from a per-thread free list and cost
// no malloc on the hot path; large blocks are cached globally by size class. Memory of another
// device comes from its registered DeviceAllocator, which keeps its own cache and statistics
// (bytes_in_use and the peak count CPU memory only).
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
  // DLPack views of this memory that consumers hold (Note [Exported buffers] in
  // bindings/dlpack.cpp): they may write without bumping `version`, so the reverse sweep's
  // records copy what they save from such a storage; `exported` stays set once it was handed out.
  std::atomic<int32_t> ext_views{0};
  std::atomic<bool> exported{false};

  static Ref<Storage> allocate(size_t nbytes, Device dev = Device::CPU);
  static Ref<Storage> borrow(void* data, size_t nbytes, Device dev, void (*rel)(void*), void* ctx, bool readonly);
  static void release(Storage* s);
  // Borrowed memory is copied into our own before the first in-place write (copy on write:
  // every view shares this Storage object, so all of them see the new buffer).
  void make_writable();
  bool borrowed() const { return ext_release != nullptr; }
};

// Note [Storage sources]
// ~~~~~~~~~~~~~~~~~~~~~~~
// A thread may install a StorageSource that Storage::allocate asks first for CPU memory on that
// thread: a tg.jit program's arena (Note [Replay arena] in autodiff/fusion.h) hands out buffers it
// keeps between replays, so a steady-state replay allocates nothing but its outputs. The source
// keeps a reference to each buffer it hands out and reuses one only when it holds the last
// reference (use_count() == 1), so a buffer a caller still holds is never handed out twice. The
// test costs Storage::allocate one relaxed load of a process-wide count while no source is set.
struct StorageSource {
  virtual ~StorageSource() = default;
  // A buffer of exactly `nbytes` (its contents unspecified), or an empty Ref to decline.
  virtual Ref<Storage> take(size_t nbytes) = 0;
};
// Installs `s` as this thread's source (nullptr: none) and returns the previous one.
StorageSource* set_storage_source(StorageSource* s);

}  // namespace tapegrad
