// The N-d iterator behind every elementwise kernel: drops size-1 dims, merges dims that are
// contiguous for every operand, broadcasts by zero strides, and hands the innermost run to a loop.
#pragma once
#include <cstdint>

#include "core/shape.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

// Inner loop: ptrs[k] is operand k's first element, strides[k] its byte stride, n the run length.
using Loop = void (*)(char** ptrs, const int64_t* strides, int64_t n);

// A 16-byte element (complex128) for the kernels that only move elements (by_itemsize).
struct Bytes16 {
  uint64_t w[2];
};

constexpr int kMaxOperands = 4;
constexpr int kMaxDims = 32;

struct NdIter {
  int nops = 0;
  int ndim = 0;  // after collapsing; 0 means a single element
  int64_t shape[kMaxDims];
  int64_t strides[kMaxOperands][kMaxDims];  // bytes
  char* base[kMaxOperands];
  int64_t total = 0;

  // shape: the iteration shape; for operand k: data pointer, element strides (broadcast, same
  // length as shape), itemsize.
  void init(const Shape& shape_, int nops_, char* const* ptrs, const Strides* const* st, const int64_t* itemsizes);
  // Run elements [begin, end) of the C-order iteration.
  void run(Loop loop, int64_t begin, int64_t end) const;
  int64_t inner() const { return ndim ? shape[ndim - 1] : 1; }
};

// Parallel loop over [0, n) in chunks of at least `grain`, on the kernel thread pool.
void parallel_for(int64_t n, int64_t grain, void (*fn)(void* ctx, int64_t b, int64_t e), void* ctx);
template <class F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  parallel_for(
      n, grain, [](void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

// [0, n) in chunks of about `unit` claimed one at a time by whoever is free, the caller included,
// however many there are (up to 4095 per thread, larger chunks beyond): for long regions whose
// threads may stall (a busy core), where a stalled thread should hold up no more than the chunk it
// is running. The caller decides whether the region is worth threads.
void parallel_for_units(int64_t n, int64_t unit, void (*fn)(void* ctx, int64_t b, int64_t e), void* ctx);
template <class F>
void parallel_for_units(int64_t n, int64_t unit, const F& f) {
  parallel_for_units(
      n, unit, [](void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
