// CPU entry points of kernels.h: build the N-d iteration, pick the ISA loop, split across threads.
#include <cmath>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "kernels/cpu/iter.h"
#include "kernels/cpu/loops.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

const IsaTable& isa() {
  static const IsaTable* t = [] {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
      return table_avx512();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return table_avx2();
#endif
    return table_base();
  }();
  return *t;
}

namespace {

// Elements per thread chunk: cheap loops need big chunks to pay for the hand-off.
constexpr int64_t kGrainCheap = 1 << 17;
constexpr int64_t kGrainCostly = 1 << 13;

Strides broadcast_strides(const Tensor& t, const Shape& out) {
  Strides s(out.size(), 0);
  size_t off = out.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i) s[off + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return s;
}

void run_iter(Loop loop, const Tensor* ops, int nops, int64_t grain) {
  const Shape& shape = ops[0].shape();
  char* ptrs[kMaxOperands];
  Strides st[kMaxOperands];
  const Strides* stp[kMaxOperands];
  int64_t isz[kMaxOperands];
  for (int k = 0; k < nops; ++k) {
    ptrs[k] = static_cast<char*>(ops[k].raw_data());
    st[k] = k == 0 ? ops[0].strides() : broadcast_strides(ops[k], shape);
    stp[k] = &st[k];
    isz[k] = int64_t(itemsize(ops[k].dtype()));
  }
  NdIter it;
  it.init(shape, nops, ptrs, stp, isz);
  if (it.total == 0) return;
  if (it.total < 2 * grain) {
    it.run(loop, 0, it.total);
    return;
  }
  parallel_for(it.total, grain, [&](int64_t b, int64_t e) { it.run(loop, b, e); });
}

bool costly(Un op) {
  switch (op) {
    case Un::Neg: case Un::Abs: case Un::Sign: case Un::Square: case Un::Relu: case Un::Floor:
    case Un::Ceil: case Un::Round: case Un::BitNot:
      return false;
    default:
      return true;
  }
}


}  // namespace

void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b) {
  Loop l = isa().binary[int(op)][int(out.dtype())];
  TG_CHECK_DTYPE(l, "binary kernel: dtype ", out.dtype(), " is not supported");
  Tensor ops[3] = {out, a, b};
  bool cheap = op != Bin::Pow && op != Bin::Atan2 && op != Bin::Mod && op != Bin::FloorDiv;
  run_iter(l, ops, 3, cheap ? kGrainCheap : kGrainCostly);
}

void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  Loop l = isa().compare[int(op)][int(a.dtype())];
  TG_CHECK_DTYPE(l, "compare kernel: dtype ", a.dtype(), " is not supported");
  Tensor ops[3] = {out, a, b};
  run_iter(l, ops, 3, kGrainCheap);
}

void unary(Un op, const Tensor& out, const Tensor& a) {
  Loop l = isa().unary[int(op)][int(out.dtype())];
  TG_CHECK_DTYPE(l, "unary kernel: dtype ", out.dtype(), " is not supported");
  Tensor ops[2] = {out, a};
  run_iter(l, ops, 2, costly(op) ? kGrainCostly : kGrainCheap);
}

void predicate(Pred op, const Tensor& out, const Tensor& a) {
  Loop l = isa().predicate[int(op)][int(a.dtype())];
  TG_CHECK_DTYPE(l, "predicate kernel: dtype ", a.dtype(), " is not supported");
  Tensor ops[2] = {out, a};
  run_iter(l, ops, 2, kGrainCheap);
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor ops[4] = {out, cond, a, b};
  run_iter(isa().where[int(out.dtype())], ops, 4, kGrainCheap);
}

void copy(const Tensor& out, const Tensor& src) {
  Tensor ops[2] = {out, src};
  run_iter(isa().cast[int(out.dtype())][int(src.dtype())], ops, 2, kGrainCheap);
}

void fill(const Tensor& out, double value) {
  Tensor v = Tensor::scalar(value, DType::Float64);
  copy(out, v);
}

}  // namespace cpu

// Device routing. The CUDA backend, when built, registers its own entry points here.
void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b) { cpu::binary(op, out, a, b); }
void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b) { cpu::compare(op, out, a, b); }
void unary(Un op, const Tensor& out, const Tensor& a) { cpu::unary(op, out, a); }
void predicate(Pred op, const Tensor& out, const Tensor& a) { cpu::predicate(op, out, a); }
void where(const Tensor& out, const Tensor& c, const Tensor& a, const Tensor& b) { cpu::where(out, c, a, b); }
void copy(const Tensor& out, const Tensor& src) { cpu::copy(out, src); }
void fill(const Tensor& out, double value) { cpu::fill(out, value); }
const char* cpu_simd_path() { return cpu::isa().name; }

}  // namespace kernels
}  // namespace tapegrad
