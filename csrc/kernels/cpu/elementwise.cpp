// CPU entry points of kernels.h: build the N-d iteration, pick the ISA loop, split across threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/cpu/loops.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

namespace {

// Elements per thread chunk (Note [Kernel thread pool]). Measured on 2 cores (AVX-512): two
// threads beat one from ~32K elements for memory-bound loops (add: 0.1 ns/element) and from ~8K
// for the vectorised transcendentals (0.4-1.3 ns/element); below, the hand-off costs more than
// it saves. A region runs in parallel from 2 grains up.
constexpr int64_t kGrainCheap = 1 << 14;
constexpr int64_t kGrainCostly = 1 << 12;

Strides broadcast_strides(const Tensor& t, const Shape& out) {
  Strides s(out.size(), 0);
  size_t off = out.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i) s[off + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return s;
}

// One element seen at every index: a single element, or a broadcast view of one (every axis of
// more than one element has stride 0, as the reverse sweep's broadcast cotangent of a sum).
bool one_element(const Tensor& t) {
  if (t.numel() == 1) return true;
  for (size_t i = 0; i < t.shape().size(); ++i)
    if (t.shape()[i] != 1 && t.strides()[i] != 0) return false;
  return true;
}

// Runs `loop` over the operands (ops[0] is the output, whose shape is the iteration shape).
void run_iter(Loop loop, const Tensor* const* ops, int nops, int64_t grain) {
  const Tensor& out = *ops[0];
  const int64_t n = out.numel();
  if (n == 0) return;
  char* ptrs[kMaxOperands];
  int64_t isz[kMaxOperands];
  // Fast path: every operand contiguous with the output's size, or one element (broadcast by a
  // zero stride): one flat run, no N-d iteration.
  bool flat = out.is_contiguous();
  bool single[kMaxOperands];
  for (int k = 0; k < nops; ++k) {
    const Tensor& t = *ops[k];
    ptrs[k] = static_cast<char*>(t.raw_data());
    isz[k] = int64_t(itemsize(t.dtype()));
    single[k] = k > 0 && !(t.numel() == n && t.is_contiguous()) && one_element(t);
    if (k > 0 && !single[k] && !(t.numel() == n && t.is_contiguous())) flat = false;
  }
  if (flat) {
    int64_t st[kMaxOperands];
    for (int k = 0; k < nops; ++k) st[k] = (single[k] && n > 1) ? 0 : isz[k];
    if (n < 2 * grain) {
      loop(ptrs, st, n);
      return;
    }
    // Chunks in whole blocks of 64 bytes of the narrowest operand, so that every chunk starts on
    // a cache line of each operand that begins on one (fresh buffers do): a chunk that started
    // mid-line would split each of its vector stores over two lines (~10% slower), and the two
    // threads at a chunk boundary would write one line.
    int64_t narrow = 64;
    for (int k = 0; k < nops; ++k)
      if (st[k] != 0 && st[k] < narrow) narrow = st[k];
    const int64_t blk = 64 / narrow;
    parallel_for((n + blk - 1) / blk, (grain + blk - 1) / blk, [&](int64_t b, int64_t e) {
      b *= blk;
      e = std::min(e * blk, n);
      char* p[kMaxOperands];
      for (int k = 0; k < nops; ++k) p[k] = ptrs[k] + b * st[k];
      loop(p, st, e - b);
    });
    return;
  }
  const Shape& shape = out.shape();
  Strides st[kMaxOperands];
  const Strides* stp[kMaxOperands];
  for (int k = 0; k < nops; ++k) {
    st[k] = k == 0 ? out.strides() : broadcast_strides(*ops[k], shape);
    stp[k] = &st[k];
  }
  NdIter it;
  it.init(shape, nops, ptrs, stp, isz);
  if (it.total < 2 * grain) {
    it.run(loop, 0, it.total);
    return;
  }
  parallel_for(it.total, grain, [&](int64_t b, int64_t e) { it.run(loop, b, e); });
}

}  // namespace

void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b) {
  Loop l = isa().binary[int(op)][int(out.dtype())];
  TG_CHECK_DTYPE(l, "binary kernel: dtype ", out.dtype(), " is not supported");
  const Tensor* ops[3] = {&out, &a, &b};
  run_iter(l, ops, 3, cheap_binary(op) ? kGrainCheap : kGrainCostly);
}

void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  Loop l = isa().compare[int(op)][int(a.dtype())];
  TG_CHECK_DTYPE(l, "compare kernel: dtype ", a.dtype(), " is not supported");
  const Tensor* ops[3] = {&out, &a, &b};
  run_iter(l, ops, 3, kGrainCheap);
}

void unary(Un op, const Tensor& out, const Tensor& a) {
  Loop l = isa().unary[int(op)][int(out.dtype())];
  TG_CHECK_DTYPE(l, "unary kernel: dtype ", out.dtype(), " is not supported");
  const Tensor* ops[2] = {&out, &a};
  run_iter(l, ops, 2, cheap_unary(op) ? kGrainCheap : kGrainCostly);
}

void predicate(Pred op, const Tensor& out, const Tensor& a) {
  Loop l = isa().predicate[int(op)][int(a.dtype())];
  TG_CHECK_DTYPE(l, "predicate kernel: dtype ", a.dtype(), " is not supported");
  const Tensor* ops[2] = {&out, &a};
  run_iter(l, ops, 2, kGrainCheap);
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  TG_CHECK_DTYPE(isa().where[int(out.dtype())], "where kernel: dtype ", out.dtype(), " is not supported");
  const Tensor* ops[4] = {&out, &cond, &a, &b};
  run_iter(isa().where[int(out.dtype())], ops, 4, kGrainCheap);
}

void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi) {
  Loop l = isa().clip[int(out.dtype())];
  TG_CHECK_DTYPE(l, "clip kernel: dtype ", out.dtype(), " is not supported");
  const Tensor* ops[4] = {&out, &x, &lo, &hi};
  run_iter(l, ops, 4, kGrainCheap);
}

void copy(const Tensor& out, const Tensor& src) {
  Loop l = isa().cast[int(out.dtype())][int(src.dtype())];
  TG_CHECK_DTYPE(l, "cannot cast ", dtype_numpy_name(src.dtype()), " to ", dtype_numpy_name(out.dtype()),
                 is_complex(src.dtype()) ? " (the imaginary part would be lost: take real(z) or abs(z) first)" : "");
  const Tensor* ops[2] = {&out, &src};
  run_iter(l, ops, 2, kGrainCheap);
}

void fill(const Tensor& out, double value) {
  Tensor v = Tensor::scalar(value, DType::Float64);
  copy(out, v);
}

}  // namespace cpu

const char* cpu_simd_path() { return cpu::isa().name; }
bool set_cpu_simd_path(const char* name) { return cpu::set_isa(name); }

}  // namespace kernels
}  // namespace tapegrad
