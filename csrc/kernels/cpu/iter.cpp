#include "kernels/cpu/iter.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "core/error.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

void NdIter::init(const Shape& shp, int nops_, char* const* ptrs, const Strides* const* st, const int64_t* itemsizes) {
  nops = nops_;
  TG_CHECK(int(shp.size()) <= kMaxDims, "tensors of more than ", kMaxDims, " dimensions are not supported");
  total = numel(shp);
  for (int k = 0; k < nops; ++k) base[k] = ptrs[k];
  // Drop size-1 dims, then merge neighbours that are contiguous for all operands.
  ndim = 0;
  for (size_t i = 0; i < shp.size(); ++i) {
    if (shp[i] == 1) continue;
    bool merge = ndim > 0;
    for (int k = 0; k < nops && merge; ++k) merge = strides[k][ndim - 1] == (*st[k])[i] * itemsizes[k] * shp[i];
    if (merge) {
      shape[ndim - 1] *= shp[i];
      for (int k = 0; k < nops; ++k) strides[k][ndim - 1] = (*st[k])[i] * itemsizes[k];
    } else {
      shape[ndim] = shp[i];
      for (int k = 0; k < nops; ++k) strides[k][ndim] = (*st[k])[i] * itemsizes[k];
      ++ndim;
    }
  }
}

void NdIter::run(Loop loop, int64_t begin, int64_t end) const {
  if (begin >= end) return;
  char* p[kMaxOperands];
  int64_t s[kMaxOperands];
  if (ndim == 0) {
    for (int k = 0; k < nops; ++k) {
      p[k] = base[k];
      s[k] = 0;
    }
    loop(p, s, 1);
    return;
  }
  const int last = ndim - 1;
  for (int k = 0; k < nops; ++k) s[k] = strides[k][last];
  // Coordinates of `begin`.
  int64_t idx[kMaxDims];
  int64_t rem = begin;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % shape[d];
    rem /= shape[d];
  }
  int64_t pos = begin;
  while (pos < end) {
    for (int k = 0; k < nops; ++k) {
      char* q = base[k];
      for (int d = 0; d <= last; ++d) q += idx[d] * strides[k][d];
      p[k] = q;
    }
    int64_t n = shape[last] - idx[last];
    if (n > end - pos) n = end - pos;
    loop(p, s, n);
    pos += n;
    idx[last] += n;
    for (int d = last; d > 0 && idx[d] >= shape[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

// ---- thread pool -------------------------------------------------------------------------
// Note [Kernel thread pool]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// A parallel region splits [0, n) into a few chunks per thread; whoever is free claims the next
// chunk (the caller too), so the caller never waits for a worker that has not started: on a
// busy machine, where a worker may not get a core for a while, the caller simply runs the chunks
// itself, and the region costs at most what the serial loop costs. The caller waits only for
// chunks already running elsewhere. Waking a sleeping thread costs tens of microseconds (more
// than a chunk of a fast kernel), so workers spin for a short while (kSpinTime) after each job
// before they sleep: ops come in runs. Spinning yields the core now and then, so a spinning
// worker never holds up the caller it shares a core with.
// What the caller cannot avoid is waiting for a chunk a worker claimed and then lost its core in
// (another process got it, for a scheduler time slice: milliseconds, against a region of tenths
// of a millisecond). Two things bound that cost on a busy machine: regions may use many small
// chunks (parallel_for_units: the fused replay's blocks), so a stalled worker holds up only a
// little work, and after such a stall the caller runs the next regions alone for a while, longer
// after each stall in a row (the stall back-off in Pool::run_parts). Results never depend on the
// split: callers of parallel_for compute the same values for any chunking.
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

constexpr auto kSpinTime = std::chrono::microseconds(100);

// Spins on `done()` for at most kSpinTime, yielding the core every few checks; true when it came
// true.
template <class F>
bool spin_until(const F& done) {
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() - t0 > kSpinTime) return false;
    std::this_thread::yield();
  }
}

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }
  int size() const { return nthreads_; }
  // Throws (leaving a pool of `old` threads, or of one) when the system cannot start n threads.
  void resize(int n) {
    std::lock_guard<std::mutex> submit(submit_mu_);
    const int old = nthreads_;
    if (n < 1) n = 1;
    if (start(n)) return;
    const bool back = start(old) || start(1);
    (void)back;
    throw Error(str_cat("set_num_threads: the system could not start ", n, " threads; the pool keeps ", nthreads_));
  }
  void run(int64_t n, int64_t grain, void (*fn)(void*, int64_t, int64_t), void* ctx) {
    int64_t parts = int64_t(nthreads_) * kChunksPerThread;
    const int64_t maxparts = (n + grain - 1) / grain;
    if (maxparts < parts) parts = maxparts;
    run_parts(n, parts, fn, ctx);
  }
  // [0, n) in `parts` chunks (at most kMaxParts) that whoever is free claims, the caller too.
  void run_parts(int64_t n, int64_t parts, void (*fn)(void*, int64_t, int64_t), void* ctx) {
    if (parts > kMaxParts) parts = kMaxParts;
    if (parts <= 1 || nthreads_ <= 1 || in_pool_) {
      fn(ctx, 0, n);
      return;
    }
    std::unique_lock<std::mutex> submit(submit_mu_, std::try_to_lock);
    if (!submit.owns_lock()) {  // another thread's region is running: do this one alone
      fn(ctx, 0, n);
      return;
    }
    const Clock::time_point t0 = Clock::now();
    if (t0 < alone_until_) {  // workers stalled a region lately: alone for a while (see below)
      ++stats_.alone;
      submit.unlock();
      fn(ctx, 0, n);
      return;
    }
    // Publish the job seqlock-style: an odd generation means "being written".
    const uint64_t gen = generation_.load(std::memory_order_relaxed);
    generation_.store(gen + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    fn_.store(fn, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    n_.store(n, std::memory_order_relaxed);
    parts_.store(int(parts), std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t job = (gen + 2) >> 1;
    claim_.store(job << kChunkBits, std::memory_order_relaxed);
    generation_.store(gen + 2, std::memory_order_release);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> g(mu_); }  // a worker between its check and its wait sees the new generation
      cv_.notify_all();
    }
    ++stats_.shared;
    in_pool_ = true;
    const int64_t ran = run_chunks(job, fn, ctx, n, int(parts));
    in_pool_ = false;
    auto all_done = [this, parts] { return done_.load(std::memory_order_acquire) == parts; };
    if (all_done()) {
      stalls_ = 0;
      return;
    }
    const Clock::time_point t1 = Clock::now();
    if (!spin_until(all_done)) {
      std::unique_lock<std::mutex> g(mu_);
      waiting_ = true;
      done_cv_.wait(g, all_done);
      waiting_ = false;
    }
    // Stall back-off: a worker that ran normally finishes its last chunk about when the caller
    // finishes its own, so the caller waits at most about one chunk. A much longer wait means a
    // worker lost its core in the middle of a chunk (a busy machine: another process took the
    // core, for a scheduler time slice of milliseconds), and the next regions would likely wait
    // the same way, each far longer than the whole region takes alone. So the caller then runs
    // the regions of the next while alone (a few times the stall, more after stalls in a row: the
    // constants above) -- the serial time, at most about twice the parallel one on two cores --
    // and tries the workers again after that; a region that did not stall resets the count. The
    // split of a region never changes its results (parallel_for's contract): only timings change.
    const Clock::time_point t2 = Clock::now();
    stats_.wait_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(t2 - t1).count();
    if (ran == 0) return;  // the workers took every chunk: no measure of one
    const auto chunk = (t1 - t0) / ran;
    const auto wait = t2 - t1;
    if (wait > 2 * chunk + kStallSlack) {
      ++stats_.stalls;
      if (stalls_ < kMaxStalls) ++stalls_;
      const auto alone = std::min<Clock::duration>(
          std::max<Clock::duration>(kAloneMin, kAloneFactor * wait) * (int64_t(1) << (stalls_ - 1)), kAloneMax);
      alone_until_ = t2 + alone;
    } else {
      stalls_ = 0;
    }
  }

 private:
  static constexpr int kChunksPerThread = 4;
  static constexpr int kChunkBits = 16;
  static constexpr int64_t kMaxParts = (int64_t(1) << kChunkBits) - 1;  // the claim counter never carries
  using Clock = std::chrono::steady_clock;
  // A wait this much longer than two of the caller's chunks is a stall (wakeups and cache misses
  // stay well below it). After a stall of length S, the k-th in a row, the caller works alone for
  // max(kAloneMin, kAloneFactor * S) << (k - 1), at most kAloneMax: the stalls then cost at most
  // about 1 / kAloneFactor of the time on top of the serial time, however often they come.
  static constexpr auto kStallSlack = std::chrono::microseconds(50);
  static constexpr auto kAloneMin = std::chrono::microseconds(500);
  static constexpr int64_t kAloneFactor = 4;
  static constexpr auto kAloneMax = std::chrono::milliseconds(200);
  static constexpr int kMaxStalls = 4;

  // Claims and runs chunks of job `job` until none is left.
  // The chunks it ran are counted once, when it leaves: one shared-line update per thread and job
  // rather than per chunk (regions of many small chunks). The job cannot end, and be replaced,
  // before that count arrives, so it always counts towards the job it claimed from.
  // Returns the number of chunks it ran.
  int64_t run_chunks(uint64_t job, void (*fn)(void*, int64_t, int64_t), void* ctx, int64_t n, int parts) {
    int64_t ran = 0;
    for (;;) {
      uint64_t c = claim_.load(std::memory_order_relaxed);
      if ((c >> kChunkBits) != job) break;
      const int k = int(c & ((uint64_t(1) << kChunkBits) - 1));
      if (k >= parts) break;
      if (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_relaxed)) continue;
      fn(ctx, n * k / parts, n * (k + 1) / parts);
      ++ran;
    }
    if (ran > 0 && done_.fetch_add(ran, std::memory_order_acq_rel) + ran == parts) {
      std::lock_guard<std::mutex> lk(mu_);
      if (waiting_) done_cv_.notify_one();
    }
    return ran;
  }

  bool fresh(uint64_t g, uint64_t seen) const { return g != seen && (g & 1) == 0; }

  void work() {
    uint64_t seen = generation_.load(std::memory_order_acquire) & ~uint64_t(1);
    for (;;) {
      // Wait for a new job: spin a little, then sleep.
      uint64_t g = seen;
      bool got = spin_until([&] {
        g = generation_.load(std::memory_order_acquire);
        return fresh(g, seen) || quit_.load(std::memory_order_relaxed);
      });
      if (!got) {
        std::unique_lock<std::mutex> lk(mu_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        cv_.wait(lk, [&] {
          return quit_.load(std::memory_order_relaxed) || fresh(generation_.load(std::memory_order_acquire), seen);
        });
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        g = generation_.load(std::memory_order_acquire);
      }
      if (quit_.load(std::memory_order_relaxed)) return;
      if (!fresh(g, seen)) continue;
      auto fn = fn_.load(std::memory_order_relaxed);
      void* ctx = ctx_.load(std::memory_order_relaxed);
      const int64_t n = n_.load(std::memory_order_relaxed);
      const int parts = parts_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      // The job may be finished and replaced while we read it: check the seqlock. Chunks are
      // claimed with the job id, so a late worker never runs a chunk of another job.
      if (generation_.load(std::memory_order_relaxed) != g) continue;
      seen = g;
      in_pool_ = true;
      run_chunks(g >> 1, fn, ctx, n, parts);
      in_pool_ = false;
    }
  }
  bool start(int n) {
    stop();
    nthreads_ = 1;
    quit_.store(false);
    try {
      for (int i = 1; i < n; ++i) workers_.emplace_back([this] { work(); });
    } catch (const std::system_error&) {
      stop();
      quit_.store(false);
      return false;
    }
    nthreads_ = n;
    return true;
  }
  void stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      quit_.store(true);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }
  int nthreads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_, submit_mu_;
  std::condition_variable cv_, done_cv_;
  bool waiting_ = false;  // the caller sleeps on done_cv_ (guarded by mu_)
  // Stall back-off (guarded by submit_mu_): stalls in a row, and until when the caller works alone.
  int stalls_ = 0;
  Clock::time_point alone_until_{};
  PoolStats stats_;  // (guarded by submit_mu_)

 public:
  PoolStats stats() {
    std::lock_guard<std::mutex> submit(submit_mu_);
    return stats_;
  }

 private:
  std::atomic<bool> quit_{false};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  // The job, published under generation_ (seqlock: odd while being written).
  std::atomic<void (*)(void*, int64_t, int64_t)> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<int64_t> n_{0};
  std::atomic<int> parts_{1};
  std::atomic<uint64_t> claim_{0};  // job id << kChunkBits | next chunk
  std::atomic<int64_t> done_{0};    // chunks finished
  static thread_local bool in_pool_;
};
thread_local bool Pool::in_pool_ = false;

Pool& pool() {
  static Pool* p = new Pool(int(std::thread::hardware_concurrency() ? std::thread::hardware_concurrency() : 1));
  return *p;
}

}  // namespace

void parallel_for(int64_t n, int64_t grain, void (*fn)(void*, int64_t, int64_t), void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  if (n < 2 * grain) {
    fn(ctx, 0, n);
    return;
  }
  pool().run(n, grain, fn, ctx);
}

void parallel_for_units(int64_t n, int64_t unit, void (*fn)(void*, int64_t, int64_t), void* ctx) {
  if (n <= 0) return;
  if (unit < 1) unit = 1;
  pool().run_parts(n, (n + unit - 1) / unit, fn, ctx);
}

}  // namespace cpu

int num_threads() { return cpu::pool().size(); }
PoolStats pool_stats() { return cpu::pool().stats(); }
int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return std::max(64, 4 * int(hw ? hw : 1));
}
void set_num_threads(int64_t n) {
  TG_CHECK(n >= 1, "set_num_threads: need at least 1 thread, got ", n);
  TG_CHECK(n <= max_threads(), "set_num_threads: at most ", max_threads(),
           " threads (4 per hardware thread, and never fewer than 64), got ", n);
  cpu::pool().resize(int(n));
}

}  // namespace kernels
}  // namespace tapegrad
