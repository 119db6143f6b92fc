// Kernel entry points, one signature per kernel for every device. They know nothing of tapes.
// Inputs arrive already promoted to the compute dtype and broadcast by stride (0 strides);
// `out` is allocated by the caller. Float16 is computed by the ops layer in float32.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tapegrad {
namespace kernels {

// The elementwise kernels' ids, one per row of the op table (core/elementwise_ops.def).
enum class Bin : uint8_t {
#define TG_BINARY_OP(Id, ...) Id,
#include "core/elementwise_ops.def"
  kCount
};
enum class Cmp : uint8_t {
#define TG_COMPARE_OP(Id, ...) Id,
#include "core/elementwise_ops.def"
  kCount
};
enum class Un : uint8_t {
#define TG_UNARY_OP(Id, ...) Id,
#include "core/elementwise_ops.def"
  kCount
};
enum class Pred : uint8_t {
#define TG_PREDICATE_OP(Id, ...) Id,
#include "core/elementwise_ops.def"
  kCount
};

// Whether a kernel costs about a load and a store per element (add, mul, abs, ...): the loops
// and the fused replay give such kernels larger chunks per thread. Every other op, a new one
// included, counts as costly (a transcendental function per element).
constexpr bool cheap_unary(Un op) {
  return op == Un::Neg || op == Un::Abs || op == Un::Sign || op == Un::Square || op == Un::Relu || op == Un::Floor ||
         op == Un::Ceil || op == Un::Round || op == Un::BitNot;
}
constexpr bool cheap_binary(Bin op) {
  return op == Bin::Add || op == Bin::Sub || op == Bin::Mul || op == Bin::Div || op == Bin::Maximum ||
         op == Bin::Minimum || op == Bin::BitAnd || op == Bin::BitOr || op == Bin::BitXor;
}

enum class Red : uint8_t { Sum, Prod, Max, Min, ArgMax, ArgMin, Any, All, kCount };

// out = op(a, b); a, b, out share a dtype.
void binary(Bin op, const Tensor& out, const Tensor& a, const Tensor& b);
// out (Bool) = op(a, b); a and b share a dtype.
void compare(Cmp op, const Tensor& out, const Tensor& a, const Tensor& b);
// out = op(a); same dtype.
void unary(Un op, const Tensor& out, const Tensor& a);
// out (Bool) = op(a).
void predicate(Pred op, const Tensor& out, const Tensor& a);
// out = numpy's clip(x, lo, hi) (NaN-propagating; hi where lo > hi); x, lo, hi, out one dtype.
void clip(const Tensor& out, const Tensor& x, const Tensor& lo, const Tensor& hi);
// out = where(cond, a, b); cond Bool, a/b/out one dtype.
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
// out = src converted to out's dtype; src broadcast to out's shape by its strides.
void copy(const Tensor& out, const Tensor& src);
void fill(const Tensor& out, double value);
// Reduce `a` over the axes flagged in `axes_mask` (bit i = axis i) into `out`, whose shape is a's
// with those axes of size 1 (keepdims form). ArgMax/ArgMin take exactly one axis, out Int64.
void reduce(Red op, const Tensor& out, const Tensor& a, uint64_t axes_mask);

// Which SIMD path the CPU kernels took on this machine ("avx2", "avx512", "sse2", ...).
const char* cpu_simd_path();
// Testing hook: run the CPU kernels with the named path ("sse2", "avx2", "avx512", or "best");
// false when this CPU cannot run it.
bool set_cpu_simd_path(const char* name);
int num_threads();
// What the thread pool did so far (a diagnostic; Note [Kernel thread pool]): parallel regions run
// with the workers, regions the caller ran alone after a stall, stalls, the time callers spent
// waiting for workers to finish their chunks, and the chunks of shared regions that workers ran
// (the others the caller ran).
struct PoolStats {
  int64_t shared = 0, alone = 0, stalls = 0, wait_ns = 0, worker_chunks = 0;
};
PoolStats pool_stats();
// 1 <= n <= max_threads() = max(64, 4 * hardware threads); ValueError otherwise.
void set_num_threads(int64_t n);
int max_threads();

}  // namespace kernels
}  // namespace tapegrad
