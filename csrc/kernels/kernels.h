// Kernel entry points, one signature per kernel for every device. They know nothing of tapes.
// Inputs arrive already promoted to the compute dtype and broadcast by stride (0 strides);
// `out` is allocated by the caller. Float16 is computed by the ops layer in float32.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tapegrad {
namespace kernels {

#define TG_BINARY_KERNELS(X) \
  X(Add) X(Sub) X(Mul) X(Div) X(FloorDiv) X(Mod) X(Pow) X(Maximum) X(Minimum) X(Atan2) X(BitAnd) X(BitOr) X(BitXor)
#define TG_COMPARE_KERNELS(X) X(Eq) X(Ne) X(Lt) X(Le) X(Gt) X(Ge) X(LogicalAnd) X(LogicalOr)
#define TG_UNARY_KERNELS(X)                                                                                        \
  X(Neg)                                                                                                           \
  X(Abs)                                                                                                           \
  X(Sign)                                                                                                          \
  X(Exp) X(Exp2) X(Log) X(Log2) X(Log1p) X(Expm1) X(Sqrt) X(Rsqrt) X(Square) X(Reciprocal) X(Sin) X(Cos) X(Tan)    \
      X(Arcsin) X(Arccos) X(Arctan) X(Sinh) X(Cosh) X(Tanh) X(Sigmoid) X(Relu) X(Softplus) X(Gelu) X(Erf) X(Floor) \
          X(Ceil) X(Round) X(BitNot)
#define TG_PREDICATE_KERNELS(X) X(IsNan) X(IsFinite) X(LogicalNot)

#define TG_ENUM_ITEM(name) name,
enum class Bin : uint8_t { TG_BINARY_KERNELS(TG_ENUM_ITEM) kCount };
enum class Cmp : uint8_t { TG_COMPARE_KERNELS(TG_ENUM_ITEM) kCount };
enum class Un : uint8_t { TG_UNARY_KERNELS(TG_ENUM_ITEM) kCount };
enum class Pred : uint8_t { TG_PREDICATE_KERNELS(TG_ENUM_ITEM) kCount };
#undef TG_ENUM_ITEM

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
// 1 <= n <= max_threads() = max(64, 4 * hardware threads); ValueError otherwise.
void set_num_threads(int64_t n);
int max_threads();

}  // namespace kernels
}  // namespace tapegrad
