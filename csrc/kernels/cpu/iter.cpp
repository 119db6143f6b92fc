#include "kernels/cpu/iter.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
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
// A parallel region splits [0, n) into a few chunks per thread, dealt out in lanes: one run of
// neighbouring chunks per thread, the caller's first. Each thread runs its own lane from the
// front, then takes what is left of the others from their ends (the caller too), so the caller
// never waits for a worker that has not started: on a busy machine, where a worker may not get a
// core for a while, the caller simply runs the chunks itself, and the region costs at most what
// the serial loop costs. The caller waits only for chunks already running elsewhere.
// Lanes, not one shared queue of chunks, because of the caches: when every thread comes in time,
// each runs the same part of the data in every region of that size, the part its core's cache
// kept from the region before. With one shared queue whoever came first took the next chunk, so
// the chunks moved between the cores from call to call, each move a miss in the core's cache for
// inputs that the other core had read and an output line the other core had written: a float32 add
// of 10^5 elements (1.2 MB, which fits the two L2 caches) took 8.3 us on two threads against
// 7.2 us with lanes, and 6.9 us in PyTorch's fixed split (benchmarks/bench_pool.py). The lanes
// hold as many chunks each (Pool::run), or the thread with the shorter lane would wait for the
// other's last chunk, or take it and its data from the other core. Waking a sleeping thread costs tens of microseconds (more
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
    // As many chunks in every thread's lane (an uneven split leaves one thread idle at the end),
    // each of at least `grain` elements where there are enough.
    int64_t parts = int64_t(nthreads_) * kChunksPerThread;
    const int64_t maxparts = (n + grain - 1) / grain;
    if (maxparts < parts) parts = maxparts < nthreads_ ? maxparts : maxparts - maxparts % nthreads_;
    run_parts(n, parts, fn, ctx);
  }
  // [0, n) in `parts` chunks (at most kMaxLane per thread) that whoever is free claims, the caller
  // too: each thread first those of its own lane, then what is left in the others.
  void run_parts(int64_t n, int64_t parts, void (*fn)(void*, int64_t, int64_t), void* ctx) {
    if (parts > int64_t(nthreads_) * kMaxLane) parts = int64_t(nthreads_) * kMaxLane;
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
    parts_.store(parts, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const int lanes = int(std::min<int64_t>(nthreads_, parts));
    lanes_n_.store(lanes, std::memory_order_relaxed);
    const uint64_t job = job_id(gen + 2);
    for (int l = 0; l < lanes; ++l)
      lanes_[l].word.store(lane_word(job, 0, lane_begin(l + 1, parts, lanes) - lane_begin(l, parts, lanes)),
                           std::memory_order_relaxed);
    generation_.store(gen + 2, std::memory_order_release);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> g(mu_); }  // a worker between its check and its wait sees the new generation
      cv_.notify_all();
    }
    ++stats_.shared;
    in_pool_ = true;
    const int64_t ran = run_chunks(0, job, fn, ctx, n, parts, lanes);
    in_pool_ = false;
    stats_.worker_chunks += parts - ran;
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
  // A lane's word: the job id (kJobBits) over the lane's next chunk from the front and its end
  // (kLaneBits each, relative to the lane's first chunk). The id tells a late thread that the job
  // it read is over (it wraps after 2^40 regions: far beyond any thread's sleep between reading a
  // job and claiming from it).
  static constexpr int kLaneBits = 12;
  static constexpr int kJobBits = 64 - 2 * kLaneBits;
  static constexpr int64_t kMaxLane = (int64_t(1) << kLaneBits) - 1;
  static constexpr uint64_t kLaneMask = (uint64_t(1) << kLaneBits) - 1;
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

  static uint64_t job_id(uint64_t generation) { return (generation >> 1) & ((uint64_t(1) << kJobBits) - 1); }
  static uint64_t lane_word(uint64_t job, int64_t front, int64_t end) {
    return job << (2 * kLaneBits) | uint64_t(front) << kLaneBits | uint64_t(end);
  }
  // The first chunk of lane l of `lanes` (<= parts): lanes of about equal length, none empty.
  static int64_t lane_begin(int l, int64_t parts, int lanes) { return parts * l / lanes; }

  // Claims and runs chunks of job `job` until none is left: first those of its own lane `own` from
  // the front (a thread past the job's lanes has none), then, lane by lane, the rest of the others
  // from their end. When every thread
  // arrives in time, each runs the same part of [0, n) in every region of that size: the part
  // whose operands its core's caches kept from the region before (a memory-bound loop over data
  // that fits the caches runs several times faster from its own core's cache than from another's).
  // A thread that arrives late, or stalls, loses only the chunks the others took from the end of
  // its lane.
  // The chunks it ran are counted once, when it leaves: one shared-line update per thread and job
  // rather than per chunk (regions of many small chunks). The job cannot end, and be replaced,
  // before that count arrives, so it always counts towards the job it claimed from.
  // Returns the number of chunks it ran.
  int64_t run_chunks(int self, uint64_t job, void (*fn)(void*, int64_t, int64_t), void* ctx, int64_t n, int64_t parts,
                     int lanes) {
    int64_t ran = 0;
    const int own = self % lanes;
    for (int d = 0; d < lanes; ++d) {
      const int l = own + d < lanes ? own + d : own + d - lanes;
      std::atomic<uint64_t>& w = lanes_[l].word;
      const int64_t first = lane_begin(l, parts, lanes);
      for (;;) {
        uint64_t c = w.load(std::memory_order_relaxed);
        if ((c >> (2 * kLaneBits)) != job) break;
        const int64_t front = int64_t((c >> kLaneBits) & kLaneMask), end = int64_t(c & kLaneMask);
        if (front >= end) break;
        // The owner takes the front, the others the end: they meet once, at the last chunk.
        const bool mine = d == 0 && self < lanes;
        if (!w.compare_exchange_weak(c, mine ? c + (uint64_t(1) << kLaneBits) : c - 1, std::memory_order_relaxed))
          continue;
        const int64_t k = first + (mine ? front : end - 1);
        fn(ctx, n * k / parts, n * (k + 1) / parts);
        ++ran;
      }
    }
    if (ran > 0 && done_.fetch_add(ran, std::memory_order_acq_rel) + ran == parts) {
      std::lock_guard<std::mutex> lk(mu_);
      if (waiting_) done_cv_.notify_one();
    }
    return ran;
  }

  bool fresh(uint64_t g, uint64_t seen) const { return g != seen && (g & 1) == 0; }

  void work(int self) {
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
      const int64_t parts = parts_.load(std::memory_order_relaxed);
      const int lanes = lanes_n_.load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      // The job may be finished and replaced while we read it: check the seqlock. Chunks are
      // claimed with the job id, so a late worker never runs a chunk of another job.
      if (generation_.load(std::memory_order_relaxed) != g) continue;
      seen = g;
      in_pool_ = true;
      run_chunks(self, job_id(g), fn, ctx, n, parts, lanes);
      in_pool_ = false;
    }
  }
  bool start(int n) {
    stop();
    nthreads_ = 1;
    quit_.store(false);
    lanes_.reset(new Lane[size_t(n)]);
    try {
      for (int i = 1; i < n; ++i) workers_.emplace_back([this, i] { work(i); });
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
  std::atomic<int64_t> parts_{1};
  std::atomic<int> lanes_n_{1};  // lanes of the job: one per thread, or per chunk if fewer
  // One lane per thread (the caller's first), each on its own cache line: chunks claimed there
  // mostly by the thread that owns it (thread i owns lane i of a job's lanes_n_).
  struct alignas(64) Lane {
    std::atomic<uint64_t> word{0};
  };
  std::unique_ptr<Lane[]> lanes_;
  std::atomic<int64_t> done_{0};  // chunks finished
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
