// core/storage: the caching allocator (alignment, byte accounting, peak, reuse, refusals, other
// threads) and Storage's reference counting, borrowed memory and copy on write.
#include <cstdint>
#include <cstring>
#include <new>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/storage.h"
#include "tg_test.h"

using namespace tapegrad;

namespace {
bool aligned64(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }
}  // namespace

TEST(storage, blocks_are_aligned_writable_and_counted) {
  const size_t before = alloc::bytes_in_use();
  // Small classes (64 B .. 256 KiB, per thread) and large blocks (4 KiB multiples, global).
  const size_t sizes[] = {0, 1, 63, 64, 65, 1000, 4096, size_t(256) << 10, (size_t(256) << 10) + 1, size_t(3) << 20};
  std::vector<void*> ps;
  size_t total = 0;
  for (size_t n : sizes) {
    void* p = alloc::allocate(n, Device::CPU);
    REQUIRE(p != nullptr);
    CHECK(aligned64(p));
    std::memset(p, 0xAB, n);  // the whole block is usable (ASan checks the bounds)
    ps.push_back(p);
    total += n ? n : 1;  // a zero-byte request is one byte
  }
  CHECK_EQ(alloc::bytes_in_use(), before + total);
  for (size_t i = 0; i < ps.size(); ++i) alloc::deallocate(ps[i], sizes[i], Device::CPU);
  CHECK_EQ(alloc::bytes_in_use(), before);
  alloc::deallocate(nullptr, 10, Device::CPU);  // a no-op
  CHECK_EQ(alloc::bytes_in_use(), before);
}

TEST(storage, freed_blocks_are_reused_from_the_caches) {
  void* a = alloc::allocate(100, Device::CPU);
  alloc::deallocate(a, 100, Device::CPU);
  void* b = alloc::allocate(120, Device::CPU);  // same 128-byte class, this thread's cache
  CHECK(a == b);
  alloc::deallocate(b, 120, Device::CPU);
  const size_t big = size_t(5) << 20;
  void* c = alloc::allocate(big, Device::CPU);
  alloc::deallocate(c, big, Device::CPU);
  void* d = alloc::allocate(big - 100, Device::CPU);  // same 4 KiB-rounded size: the cached block
  CHECK(c == d);
  alloc::deallocate(d, big - 100, Device::CPU);
  alloc::empty_cache();
  void* e = alloc::allocate(big, Device::CPU);  // a fresh block after empty_cache (still valid)
  CHECK(aligned64(e));
  alloc::deallocate(e, big, Device::CPU);
}

TEST(storage, peak_bytes) {
  alloc::reset_peak_bytes();
  const size_t base = alloc::bytes_in_use();
  CHECK_EQ(alloc::peak_bytes_in_use(), base);
  void* p = alloc::allocate(size_t(2) << 20, Device::CPU);
  void* q = alloc::allocate(1000, Device::CPU);
  alloc::deallocate(p, size_t(2) << 20, Device::CPU);
  CHECK_EQ(alloc::peak_bytes_in_use(), base + (size_t(2) << 20) + 1000);  // kept after the free
  alloc::reset_peak_bytes();
  CHECK_EQ(alloc::peak_bytes_in_use(), base + 1000);
  alloc::deallocate(q, 1000, Device::CPU);
}

TEST(storage, impossible_requests_are_refused_without_leaking_the_count) {
  alloc::reset_peak_bytes();
  const size_t before = alloc::bytes_in_use();
  bool refused = false;
  try {
    alloc::allocate(size_t(1) << 62, Device::CPU);  // above RAM + swap on any machine
  } catch (const std::bad_alloc&) { refused = true; }
  CHECK(refused);
  CHECK_EQ(alloc::bytes_in_use(), before);
  CHECK_EQ(alloc::peak_bytes_in_use(), before);  // a refused request is no peak
  // No device plugin registered here: a clear error, not a crash (Note [Device plugins]).
  CHECK_THROWS(Error, alloc::allocate(16, Device::GPU), "no GPU is available");
}

TEST(storage, blocks_cross_threads_and_outlive_the_thread_that_cached_them) {
  const size_t before = alloc::bytes_in_use();
  void* from_thread = nullptr;
  std::thread t([&] {
    from_thread = alloc::allocate(200, Device::CPU);
    void* cached = alloc::allocate(300, Device::CPU);
    alloc::deallocate(cached, 300, Device::CPU);  // into this thread's cache, freed at its exit
  });
  t.join();
  REQUIRE(from_thread != nullptr);
  std::memset(from_thread, 1, 200);
  alloc::deallocate(from_thread, 200, Device::CPU);  // a block of another (finished) thread
  CHECK_EQ(alloc::bytes_in_use(), before);
  std::vector<std::thread> ts;
  for (int k = 0; k < 4; ++k)
    ts.emplace_back([] {
      for (int i = 0; i < 2000; ++i) {
        const size_t n = size_t(64) << (i % 14);  // both small classes and large blocks
        void* p = alloc::allocate(n, Device::CPU);
        static_cast<char*>(p)[n - 1] = 1;
        alloc::deallocate(p, n, Device::CPU);
      }
    });
  for (auto& th : ts) th.join();
  CHECK_EQ(alloc::bytes_in_use(), before);
}

TEST(storage, refcount_releases_once) {
  const size_t before = alloc::bytes_in_use();
  {
    Ref<Storage> s = Storage::allocate(512);
    CHECK_EQ(s.use_count(), 1);
    CHECK(s->device == Device::CPU);
    CHECK_EQ(s->nbytes, size_t(512));
    CHECK(!s->borrowed());
    CHECK_EQ(alloc::bytes_in_use(), before + 512);
    Ref<Storage> t = s;
    CHECK_EQ(s.use_count(), 2);
    Ref<Storage> u = std::move(t);
    CHECK(!t);
    CHECK_EQ(s.use_count(), 2);
    u.reset();
    CHECK_EQ(s.use_count(), 1);
    CHECK_EQ(alloc::bytes_in_use(), before + 512);
  }
  CHECK_EQ(alloc::bytes_in_use(), before);
}

namespace {
struct Owner {
  int releases = 0;
  std::vector<float> data = std::vector<float>(8, 1.5f);
};
void release_owner(void* ctx) { ++static_cast<Owner*>(ctx)->releases; }
}  // namespace

TEST(storage, borrowed_memory_is_released_to_its_owner_once) {
  Owner o;
  {
    Ref<Storage> s = Storage::borrow(o.data.data(), 32, Device::CPU, release_owner, &o, true);
    CHECK(s->borrowed());
    CHECK(s->ext_readonly);
    Ref<Storage> t = s;
    s.reset();
    CHECK_EQ(o.releases, 0);
  }
  CHECK_EQ(o.releases, 1);
}

TEST(storage, copy_on_write_takes_a_private_copy_and_lets_go_of_the_owner) {
  Owner o;
  const size_t before = alloc::bytes_in_use();
  {
    Ref<Storage> s = Storage::borrow(o.data.data(), 32, Device::CPU, release_owner, &o, true);
    s->make_writable();
    CHECK_EQ(o.releases, 1);
    CHECK(!s->borrowed());
    CHECK(!s->ext_readonly);
    CHECK(s->data != static_cast<void*>(o.data.data()));
    CHECK(std::memcmp(s->data, o.data.data(), 32) == 0);
    CHECK_EQ(alloc::bytes_in_use(), before + 32);
    s->make_writable();  // already owned: nothing happens
    CHECK_EQ(o.releases, 1);
  }
  CHECK_EQ(o.releases, 1);
  CHECK_EQ(alloc::bytes_in_use(), before);
}
