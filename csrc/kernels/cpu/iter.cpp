#include "kernels/cpu/iter.h"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

void NdIter::init(const Shape& shp, int nops_, char* const* ptrs, const Strides* const* st,
                  const int64_t* itemsizes) {
  nops = nops_;
  TG_CHECK(int(shp.size()) <= kMaxDims, "tensors of more than ", kMaxDims, " dimensions are not supported");
  total = numel(shp);
  for (int k = 0; k < nops; ++k) base[k] = ptrs[k];
  // Drop size-1 dims, then merge neighbours that are contiguous for all operands.
  ndim = 0;
  for (size_t i = 0; i < shp.size(); ++i) {
    if (shp[i] == 1) continue;
    bool merge = ndim > 0;
    for (int k = 0; k < nops && merge; ++k)
      merge = strides[k][ndim - 1] == (*st[k])[i] * itemsizes[k] * shp[i];
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
namespace {

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }
  int size() const { return nthreads_; }
  void resize(int n) {
    std::lock_guard<std::mutex> submit(submit_mu_);  // no parallel region while resizing
    stop();
    if (n < 1) n = 1;
    nthreads_ = n;
    quit_ = false;
    // New workers start at the current generation: they must neither re-run an earlier job nor
    // miss the next one.
    const uint64_t gen = generation_;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, gen] { work(i, gen); });
  }
  void run(int64_t n, int64_t grain, void (*fn)(void*, int64_t, int64_t), void* ctx) {
    int parts = nthreads_;
    int64_t maxparts = (n + grain - 1) / grain;
    if (maxparts < parts) parts = int(maxparts);
    if (parts <= 1 || in_pool_) {
      fn(ctx, 0, n);
      return;
    }
    std::unique_lock<std::mutex> submit(submit_mu_);  // one parallel region at a time
    {
      std::lock_guard<std::mutex> g(mu_);
      fn_ = fn;
      ctx_ = ctx;
      n_ = n;
      parts_ = parts;
      pending_ = parts - 1;
      ++generation_;
    }
    cv_.notify_all();
    in_pool_ = true;
    fn(ctx, 0, chunk_end(0));
    in_pool_ = false;
    std::unique_lock<std::mutex> g(mu_);
    done_cv_.wait(g, [this] { return pending_ == 0; });
  }

 private:
  int64_t chunk_end(int part) const { return n_ * (part + 1) / parts_; }
  void work(int id, uint64_t seen) {
    for (;;) {
      std::unique_lock<std::mutex> g(mu_);
      cv_.wait(g, [&] { return quit_ || generation_ != seen; });
      if (quit_) return;
      seen = generation_;
      if (id >= parts_) continue;
      auto fn = fn_;
      void* ctx = ctx_;
      int64_t b = n_ * id / parts_, e = chunk_end(id);
      g.unlock();
      in_pool_ = true;
      fn(ctx, b, e);
      in_pool_ = false;
      g.lock();
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }
  void stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }
  int nthreads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mu_, submit_mu_;
  std::condition_variable cv_, done_cv_;
  bool quit_ = false;
  uint64_t generation_ = 0;
  void (*fn_)(void*, int64_t, int64_t) = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 1;
  int pending_ = 0;
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

}  // namespace cpu

int num_threads() { return cpu::pool().size(); }
void set_num_threads(int n) {
  TG_CHECK(n >= 1, "set_num_threads: need at least 1 thread, got ", n);
  cpu::pool().resize(n);
}

}  // namespace kernels
}  // namespace tapegrad
