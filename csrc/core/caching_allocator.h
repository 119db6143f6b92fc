// A caching allocator over a raw allocate/free pair: the GPU's memory (kernels/cuda/allocator.cu),
// and a fake raw allocator in the tests (bindings/bind_device.cpp, tests/test_cuda.py).
#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace tapegrad {

// Note [Caching allocator]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// cudaMalloc and cudaFree cost tens of microseconds and cudaFree synchronises the device, so GPU
// memory is never handed back per tensor: a freed block goes to a free list of its size class and
// the next request of that class takes it. Size classes: multiples of 512 B up to 1 MiB, then four
// classes per power of two (at most 25% rounding waste); a class is an index into a flat table of
// free lists, so a request costs one lock and no search. When the raw allocator fails, every cached
// block is released and the request retried once (then nullptr: the caller raises MemoryError).
// Stream order: all kernels of a device run on its one stream, in launch order, so a block freed
// by the host while kernels that use it are still queued can be handed to the next request at
// once: whatever the new owner launches runs after them. (A second stream would need an event per
// block, recorded at free, before reuse.)
// Statistics, as torch.cuda's: `allocated` counts blocks handed out (class sizes), `peak` its
// maximum since the last reset_peak(), `cached` blocks kept in the free lists, `reserved` both.
template <class Raw>  // Raw: void* alloc(size_t) (nullptr on failure); void free(void*, size_t)
class CachingAllocator {
 public:
  static constexpr size_t kQuantum = 512;
  static constexpr size_t kSmallLimit = size_t(1) << 20;
  static constexpr size_t kSmallClasses = kSmallLimit / kQuantum;  // 2048

  struct Stats {
    size_t allocated = 0, peak = 0, cached = 0, reserved = 0;
    uint64_t raw_allocs = 0, raw_frees = 0, reuses = 0;
  };

  explicit CachingAllocator(Raw raw = Raw()) : raw_(raw) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;
  ~CachingAllocator() { empty_cache(); }

  // The size class of an n-byte request (n >= 1): its index and the bytes a block of it holds.
  static size_t class_index(size_t n) {
    if (n <= kSmallLimit) return (n + kQuantum - 1) / kQuantum - 1;
    const int e = 63 - __builtin_clzll((unsigned long long)(n - 1));  // 2^e < n <= 2^(e+1)
    const size_t step = size_t(1) << (e - 2);
    const size_t q = (n - (size_t(1) << e) + step - 1) / step;  // 1..4
    return kSmallClasses + size_t(e - 20) * 4 + (q - 1);
  }
  static size_t class_size(size_t idx) {
    if (idx < kSmallClasses) return (idx + 1) * kQuantum;
    const size_t k = idx - kSmallClasses;
    const int e = int(k / 4) + 20;
    return (size_t(1) << e) + (k % 4 + 1) * (size_t(1) << (e - 2));
  }
  static size_t round_size(size_t n) { return class_size(class_index(n == 0 ? 1 : n)); }

  // nullptr when the raw allocator fails even with the cache released, or n cannot be rounded.
  void* allocate(size_t n) {
    if (n == 0) n = 1;
    if (n > (size_t(1) << 62)) return nullptr;
    const size_t idx = class_index(n), size = class_size(idx);
    std::lock_guard<std::mutex> g(mu_);
    if (idx < free_.size() && !free_[idx].empty()) {
      void* p = free_[idx].back();
      free_[idx].pop_back();
      stats_.cached -= size;
      ++stats_.reuses;
      note_allocated(size);
      return p;
    }
    void* p = raw_.alloc(size);
    if (!p && stats_.cached > 0) {
      release_cached();
      p = raw_.alloc(size);
    }
    if (!p) return nullptr;
    ++stats_.raw_allocs;
    stats_.reserved += size;
    note_allocated(size);
    return p;
  }

  // `n` as given to allocate: it names the class the block goes back to.
  void deallocate(void* p, size_t n) {
    if (!p) return;
    if (n == 0) n = 1;
    const size_t idx = class_index(n), size = class_size(idx);
    std::lock_guard<std::mutex> g(mu_);
    if (idx >= free_.size()) free_.resize(idx + 1);
    free_[idx].push_back(p);
    stats_.allocated -= size;
    stats_.cached += size;
  }

  // Hands every cached block back to the raw allocator (blocks in use stay).
  void empty_cache() {
    std::lock_guard<std::mutex> g(mu_);
    release_cached();
  }

  Stats stats() const {
    std::lock_guard<std::mutex> g(mu_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> g(mu_);
    stats_.peak = stats_.allocated;
  }

 private:
  void note_allocated(size_t size) {
    stats_.allocated += size;
    if (stats_.allocated > stats_.peak) stats_.peak = stats_.allocated;
  }
  void release_cached() {  // mu_ held
    for (size_t idx = 0; idx < free_.size(); ++idx) {
      const size_t size = class_size(idx);
      for (void* p : free_[idx]) {
        raw_.free(p, size);
        ++stats_.raw_frees;
        stats_.reserved -= size;
      }
      free_[idx].clear();
    }
    stats_.cached = 0;
  }

  Raw raw_;
  mutable std::mutex mu_;
  std::vector<std::vector<void*>> free_;  // by class index, grown on the first free of a class
  Stats stats_;
};

}  // namespace tapegrad
