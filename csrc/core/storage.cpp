#include "core/storage.h"

#include <sys/sysinfo.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "core/error.h"
#include "core/tls.h"

namespace tapegrad {

const char* device_name(Device d) { return d == Device::CPU ? "CPU" : "GPU"; }

namespace {
std::atomic<const DeviceAllocator*> g_device_alloc[2] = {{nullptr}, {nullptr}};
}  // namespace

void register_device_allocator(Device dev, const DeviceAllocator* a) {
  TG_CHECK(dev != Device::CPU, "register_device_allocator: the CPU's memory is built in");
  g_device_alloc[size_t(dev)].store(a, std::memory_order_release);
}

const DeviceAllocator* device_allocator(Device dev) {
  return g_device_alloc[size_t(dev)].load(std::memory_order_acquire);
}

namespace {
// Memory of a device other than the CPU (Note [Device plugins]).
void* device_allocate(size_t nbytes, Device dev) {
  const DeviceAllocator* a = device_allocator(dev);
  if (!a) throw Error(str_cat("allocate: no ", device_name(dev), " is available (tg.cuda.is_available() is False)"));
  void* p = a->allocate(nbytes == 0 ? 1 : nbytes);
  if (!p)
    throw MemoryError(str_cat("out of ", device_name(dev), " memory allocating ", nbytes, " bytes (", a->error(), ")"));
  return p;
}
}  // namespace

namespace alloc {
namespace {

constexpr size_t kAlign = 64;
constexpr int kSmallClasses = 13;  // 64 B .. 256 KiB in powers of two, cached per thread
constexpr size_t kSmallMax = size_t(64) << (kSmallClasses - 1);
constexpr size_t kPerThreadCap = 64;                  // blocks kept per class per thread
constexpr size_t kLargeCacheBytes = size_t(1) << 30;  // at most 1 GiB of large blocks kept

std::atomic<size_t> g_in_use{0};
std::atomic<size_t> g_peak{0};  // max of g_in_use since reset_peak_bytes (memory_stats)

// Raises g_peak to `now` (one relaxed load on the common path where the peak is not exceeded).
inline void note_peak(size_t now) {
  size_t p = g_peak.load(std::memory_order_relaxed);
  while (now > p && !g_peak.compare_exchange_weak(p, now, std::memory_order_relaxed)) {}
}

int small_class(size_t n) {
  size_t c = 64;
  int k = 0;
  while (c < n) {
    c <<= 1;
    ++k;
  }
  return k;
}

// RAM plus swap: a request above it can never be met, and under an overcommitting kernel the
// allocation could succeed only for the first write to kill the process. Refuse it up front.
size_t memory_limit() {
  static const size_t lim = [] {
    struct sysinfo si;
    if (sysinfo(&si) != 0) return SIZE_MAX;
    const unsigned long long total = (unsigned long long)(si.totalram + si.totalswap) * si.mem_unit;
    return total ? size_t(total) : SIZE_MAX;
  }();
  return lim;
}

void* raw_alloc(size_t n) {
  if (n > memory_limit() || n > SIZE_MAX - kAlign) throw std::bad_alloc();
  void* p = std::aligned_alloc(kAlign, (n + kAlign - 1) / kAlign * kAlign);
  if (!p) throw std::bad_alloc();
  return p;
}

// Set once this thread's caches are destroyed (thread exit): later frees go straight to free().
// The cache is reached through one initial-exec pointer (Note [Per-thread caches] in core/tls.h).
struct ThreadCache;
TG_TLS_FAST thread_local ThreadCache* t_tcache = nullptr;
thread_local bool t_cache_dead = false;

struct ThreadCache {
  std::vector<void*> lists[kSmallClasses];
  ThreadCache() { t_tcache = this; }
  ~ThreadCache() {
    t_tcache = nullptr;
    t_cache_dead = true;
    for (auto& l : lists)
      for (void* p : l) std::free(p);
  }
};
// The thread's cache; null once it was destroyed.
__attribute__((noinline)) ThreadCache* tcache_slow() {
  if (t_cache_dead) return nullptr;
  thread_local ThreadCache c;
  return &c;
}
inline ThreadCache* tcache() {
  ThreadCache* c = t_tcache;
  return __builtin_expect(c != nullptr, 1) ? c : tcache_slow();
}

// Large blocks: exact-size buckets (rounded to 4 KiB) under one lock.
struct LargeCache {
  std::mutex mu;
  std::vector<std::pair<size_t, void*>> blocks;
  size_t bytes = 0;
};
LargeCache& lcache() {
  static LargeCache* c = new LargeCache();  // leaked on purpose: outlives static destructors
  return *c;
}
size_t round_large(size_t n) { return (n + 4095) / 4096 * 4096; }

// A block for nbytes (> 0) from the caches or the system; throws std::bad_alloc, counts nothing.
void* take_block(size_t nbytes) {
  if (nbytes <= kSmallMax) {
    int k = small_class(nbytes);
    ThreadCache* tc = tcache();
    if (!tc) return raw_alloc(size_t(64) << k);
    auto& l = tc->lists[k];
    if (!l.empty()) {
      void* p = l.back();
      l.pop_back();
      return p;
    }
    return raw_alloc(size_t(64) << k);
  }
  if (nbytes > memory_limit()) throw std::bad_alloc();
  size_t r = round_large(nbytes);
  {
    auto& c = lcache();
    std::lock_guard<std::mutex> g(c.mu);
    for (size_t i = 0; i < c.blocks.size(); ++i) {
      if (c.blocks[i].first == r) {
        void* p = c.blocks[i].second;
        c.bytes -= r;
        c.blocks[i] = c.blocks.back();
        c.blocks.pop_back();
        return p;
      }
    }
  }
  return raw_alloc(r);
}

}  // namespace

void* allocate(size_t nbytes, Device dev) {
  if (__builtin_expect(dev != Device::CPU, 0)) return device_allocate(nbytes, dev);
  if (nbytes == 0) nbytes = 1;
  // Counted once the block is there: a refused request changes neither the count nor the peak.
  void* p = take_block(nbytes);
  note_peak(g_in_use.fetch_add(nbytes, std::memory_order_relaxed) + nbytes);
  return p;
}

void deallocate(void* p, size_t nbytes, Device dev) {
  if (!p) return;
  if (__builtin_expect(dev != Device::CPU, 0)) {
    device_allocator(dev)->deallocate(p, nbytes == 0 ? 1 : nbytes);  // registered: p came from it
    return;
  }
  if (nbytes == 0) nbytes = 1;
  g_in_use.fetch_sub(nbytes, std::memory_order_relaxed);
  if (nbytes <= kSmallMax) {
    ThreadCache* tc = tcache();
    if (!tc) {
      std::free(p);
      return;
    }
    int k = small_class(nbytes);
    auto& l = tc->lists[k];
    if (l.size() < kPerThreadCap) {
      l.push_back(p);
      return;
    }
    std::free(p);
    return;
  }
  size_t r = round_large(nbytes);
  auto& c = lcache();
  std::lock_guard<std::mutex> g(c.mu);
  if (c.bytes + r <= kLargeCacheBytes && c.blocks.size() < 64) {
    c.blocks.emplace_back(r, p);
    c.bytes += r;
    return;
  }
  std::free(p);
}

void empty_cache() {
  auto& c = lcache();
  std::lock_guard<std::mutex> g(c.mu);
  for (auto& b : c.blocks) std::free(b.second);
  c.blocks.clear();
  c.bytes = 0;
  ThreadCache* tc = tcache();
  if (!tc) return;
  for (auto& l : tc->lists) {
    for (void* p : l) std::free(p);
    l.clear();
  }
}

size_t bytes_in_use() { return g_in_use.load(std::memory_order_relaxed); }
size_t peak_bytes_in_use() {
  const size_t now = g_in_use.load(std::memory_order_relaxed);
  const size_t p = g_peak.load(std::memory_order_relaxed);
  return p > now ? p : now;
}
void reset_peak_bytes() { g_peak.store(g_in_use.load(std::memory_order_relaxed), std::memory_order_relaxed); }

}  // namespace alloc

namespace {
// Storage headers come from a per-thread free list too (reached as the small-block cache is).
struct StoragePool;
TG_TLS_FAST thread_local StoragePool* t_spool = nullptr;
thread_local bool t_pool_dead = false;
struct StoragePool {
  std::vector<Storage*> free;
  StoragePool() { t_spool = this; }
  ~StoragePool() {
    t_spool = nullptr;
    t_pool_dead = true;
    for (Storage* s : free) ::operator delete(s);
  }
};
// The thread's pool; null once it was destroyed.
__attribute__((noinline)) StoragePool* spool_slow() {
  if (t_pool_dead) return nullptr;
  thread_local StoragePool p;
  return &p;
}
inline StoragePool* spool() {
  StoragePool* p = t_spool;
  return __builtin_expect(p != nullptr, 1) ? p : spool_slow();
}
Storage* new_storage() {
  StoragePool* p = spool();
  if (p && !p->free.empty()) {
    Storage* s = p->free.back();
    p->free.pop_back();
    return new (s) Storage();
  }
  return new (::operator new(sizeof(Storage))) Storage();
}
}  // namespace

namespace {
// Note [Storage sources]: the threads with a source installed, and this thread's.
std::atomic<int> g_sources{0};
thread_local StorageSource* t_source = nullptr;
}  // namespace

StorageSource* set_storage_source(StorageSource* s) {
  StorageSource* prev = t_source;
  if (prev == s) return prev;
  t_source = s;
  g_sources.fetch_add((s ? 1 : 0) - (prev ? 1 : 0), std::memory_order_relaxed);
  return prev;
}

Ref<Storage> Storage::allocate(size_t nbytes, Device dev) {
  if (__builtin_expect(g_sources.load(std::memory_order_relaxed) != 0, 0) && dev == Device::CPU) {
    if (StorageSource* src = t_source) {
      Ref<Storage> r = src->take(nbytes);
      if (r) return r;
    }
  }
  void* d = alloc::allocate(nbytes, dev);
  Storage* s = new_storage();
  s->device = dev;
  s->data = d;
  s->nbytes = nbytes;
  return Ref<Storage>(s);
}

Ref<Storage> Storage::borrow(void* data, size_t nbytes, Device dev, void (*rel)(void*), void* ctx, bool readonly) {
  Storage* s = new_storage();
  s->device = dev;
  s->data = data;
  s->nbytes = nbytes;
  s->ext_release = rel;
  s->ext_ctx = ctx;
  s->ext_readonly = readonly;
  return Ref<Storage>(s);
}

void Storage::release(Storage* s) {
  if (s->ext_release) {
    s->ext_release(s->ext_ctx);
  } else {
    alloc::deallocate(s->data, s->nbytes, s->device);
  }
  s->~Storage();
  StoragePool* p = spool();
  if (p && p->free.size() < 256) {
    p->free.push_back(s);
  } else {
    ::operator delete(s);
  }
}

void Storage::make_writable() {
  if (!ext_release) return;
  void* d = alloc::allocate(nbytes, device);
  if (device == Device::CPU) {
    std::memcpy(d, data, nbytes);
  } else if (nbytes > 0) {
    const DeviceAllocator* a = device_allocator(device);
    if (!a->copy(d, data, nbytes, kCopyOnDevice)) {
      const std::string why = a->error();
      alloc::deallocate(d, nbytes, device);
      throw Error(str_cat("copy on ", device_name(device), " failed: ", why));
    }
  }
  ext_release(ext_ctx);
  ext_release = nullptr;
  ext_ctx = nullptr;
  ext_readonly = false;
  data = d;
}

}  // namespace tapegrad
