// Elementwise ops: arithmetic with numpy promotion and broadcasting, math functions, comparisons.
#pragma once
#include "core/tensor.h"
#include "kernels/kernels.h"

namespace tapegrad {
namespace ops {

Tensor binary(kernels::Bin op, const Tensor& a, const Tensor& b);
Tensor compare(kernels::Cmp op, const Tensor& a, const Tensor& b);
Tensor unary(kernels::Un op, const Tensor& a);
Tensor predicate(kernels::Pred op, const Tensor& a);
// The Python name of an elementwise op (the name column of core/elementwise_ops.def): the name of
// its prim and of its errors. Inline: the operator slots pass it for their error messages.
namespace op_names {
inline constexpr const char* kUn[] = {
#define TG_UNARY_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};
inline constexpr const char* kBin[] = {
#define TG_BINARY_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};
inline constexpr const char* kCmp[] = {
#define TG_COMPARE_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};
inline constexpr const char* kPred[] = {
#define TG_PREDICATE_OP(Id, name, ...) #name,
#include "core/elementwise_ops.def"
};
}  // namespace op_names
inline const char* op_name(kernels::Un op) { return op_names::kUn[int(op)]; }
inline const char* op_name(kernels::Bin op) { return op_names::kBin[int(op)]; }
inline const char* op_name(kernels::Cmp op) { return op_names::kCmp[int(op)]; }
inline const char* op_name(kernels::Pred op) { return op_names::kPred[int(op)]; }

inline Tensor add(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Mul, a, b); }
// True division: integer and Bool operands give Float64 (numpy).
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Div, a, b); }
inline Tensor floor_divide(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::FloorDiv, a, b); }
inline Tensor mod(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Mod, a, b); }
inline Tensor pow(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Pow, a, b); }
inline Tensor maximum(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Maximum, a, b); }
inline Tensor minimum(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Minimum, a, b); }
// Integer and Bool operands give a float result (numpy).
inline Tensor arctan2(const Tensor& a, const Tensor& b) { return binary(kernels::Bin::Atan2, a, b); }
inline Tensor neg(const Tensor& a) { return unary(kernels::Un::Neg, a); }
inline Tensor exp(const Tensor& a) { return unary(kernels::Un::Exp, a); }
inline Tensor log(const Tensor& a) { return unary(kernels::Un::Log, a); }
inline Tensor sqrt(const Tensor& a) { return unary(kernels::Un::Sqrt, a); }
inline Tensor rsqrt(const Tensor& a) { return unary(kernels::Un::Rsqrt, a); }
inline Tensor reciprocal(const Tensor& a) { return unary(kernels::Un::Reciprocal, a); }
inline Tensor sin(const Tensor& a) { return unary(kernels::Un::Sin, a); }
inline Tensor cos(const Tensor& a) { return unary(kernels::Un::Cos, a); }
inline Tensor tanh(const Tensor& a) { return unary(kernels::Un::Tanh, a); }
inline Tensor sigmoid(const Tensor& a) { return unary(kernels::Un::Sigmoid, a); }
inline Tensor square(const Tensor& a) { return unary(kernels::Un::Square, a); }
inline Tensor sign(const Tensor& a) { return unary(kernels::Un::Sign, a); }
inline Tensor abs(const Tensor& a) { return unary(kernels::Un::Abs, a); }
inline Tensor eq(const Tensor& a, const Tensor& b) { return compare(kernels::Cmp::Eq, a, b); }
inline Tensor ne(const Tensor& a, const Tensor& b) { return compare(kernels::Cmp::Ne, a, b); }
inline Tensor gt(const Tensor& a, const Tensor& b) { return compare(kernels::Cmp::Gt, a, b); }
inline Tensor ge(const Tensor& a, const Tensor& b) { return compare(kernels::Cmp::Ge, a, b); }
inline Tensor lt(const Tensor& a, const Tensor& b) { return compare(kernels::Cmp::Lt, a, b); }
inline Tensor le(const Tensor& a, const Tensor& b) { return compare(kernels::Cmp::Le, a, b); }
// XOR of the truth values (nonzero is True): a Bool tensor.
Tensor logical_xor(const Tensor& a, const Tensor& b);
// The `&`, `|`, `^` operators (op is Bin::BitAnd, BitOr or BitXor): bitwise on integers, the
// logical operations on two Bool tensors (numpy).
Tensor bitwise(kernels::Bin op, const Tensor& a, const Tensor& b);
// The `~` operator: bitwise NOT on integers, logical NOT on Bool (numpy's invert).
Tensor invert(const Tensor& a);

// where(cond, a, b) with broadcasting; cond is converted to Bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// numpy's clip(x, lo, hi); an undefined bound is absent (None). Differentiable in x and in the
// bounds: the gradient goes to x where lo <= x <= hi, to a bound where x is beyond it.
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi);
// dtype conversion (differentiable between float and complex dtypes); complex -> real raises.
Tensor cast(const Tensor& a, DType dt);
// The same, complex -> real taking the real part: ops::real and the sweeps' dtype fixes (a real
// input's cotangent is the real part of a complex one, JAX's convention).
Tensor cast_any(const Tensor& a, DType dt);
// The value with every transform level removed: a constant to all of them.
Tensor stop_gradient(const Tensor& a);
// Scalar helpers for rules: a 0-d tensor of `like`'s dtype.
Tensor scalar_like(double v, const Tensor& like);
Tensor mul_scalar(const Tensor& a, double s);
Tensor add_scalar(const Tensor& a, double s);

// The dtype numpy gives a float function (exp, sqrt, arctan2, true division ...) of dtype d:
// Bool -> Float16, integers -> Float64, floats unchanged.
DType float_result_dtype(DType d);

}  // namespace ops
}  // namespace tapegrad
