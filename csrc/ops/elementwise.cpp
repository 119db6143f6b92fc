// Elementwise prims: forward, VJP and JVP side by side. The math of each rule is in its comment.
//
// dtypes follow numpy: the result dtype of a binary op is numpy's promotion of the operands'
// (weak Python scalars are resolved by the bindings, NEP 50); float functions of integers give
// the smallest float that holds them (Bool, Int8, UInt8: Float16; Int16, UInt16: Float32; wider:
// Float64); true division of integers or Bools gives Float64; Bool - Bool, -Bool, sign(Bool) and
// integer ** negative integer raise as in numpy; Bool ** Bool, Bool // Bool, square(Bool) ... give
// Int8, as numpy.
// Float16 is computed in float32 and rounded back.
#include "ops/elementwise.h"

#include <cmath>
#include <functional>
#include <iterator>
#include <limits>

#include "autodiff/batching.h"
#include "autodiff/levels.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

using kernels::Bin;
using kernels::Cmp;
using kernels::Pred;
using kernels::Un;
// Every prim of this file batches by broadcasting: the batch axis goes first, size-1 axes pad each
// batched operand to the largest logical rank (autodiff/batching.h).
using autodiff::elementwise_batch;

namespace {

// The table's flags as constants (core/elementwise_ops.def).
constexpr bool kDiff = true, kNoDiff = false;

// numpy broadcasting of shapes sa and sb; false when they do not broadcast.
bool broadcast_into(const Shape& sa, const Shape& sb, Shape& out) {
  const size_t n = sa.size() > sb.size() ? sa.size() : sb.size();
  Shape r(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - sa.size() ? 1 : sa[i - (n - sa.size())];
    const int64_t db = i < n - sb.size() ? 1 : sb[i - (n - sb.size())];
    if (da == db || db == 1) r[i] = da;
    else if (da == 1) r[i] = db;
    else return false;
  }
  out = r;
  return true;
}

// The broadcast shape of a and b, or a ValueError naming the op, the shapes and the dtypes.
Shape broadcast2(const Tensor& a, const Tensor& b, const char* name) {
  Shape s;
  if (!broadcast_into(a.shape(), b.shape(), s))
    throw ShapeError(str_cat(name, ": operands could not be broadcast together: ", describe(a), " and ", describe(b)));
  return s;
}
Shape broadcast3(const Tensor& a, const Tensor& b, const Tensor& c, const char* name) {
  Shape s;
  if (!broadcast_into(a.shape(), b.shape(), s) || !broadcast_into(s, c.shape(), s))
    throw ShapeError(str_cat(name, ": operands could not be broadcast together: ", describe(a), ", ", describe(b),
                             " and ", describe(c)));
  return s;
}

// The elementwise ops with complex loops (kernels/cpu/complex.cpp); every other op refuses the
// complex dtypes by name here, before a kernel or a rule runs. Every predicate but signbit (isnan,
// isfinite, logical_not) has complex loops.
bool complex_capable(Bin op) {
  return op == Bin::Add || op == Bin::Sub || op == Bin::Mul || op == Bin::Div || op == Bin::Pow;
}
bool complex_capable(Un op) {
  switch (op) {
    case Un::Neg:
    case Un::Exp:
    case Un::Log:
    case Un::Sqrt:
    case Un::Square:
    case Un::Reciprocal:
    case Un::Sin:
    case Un::Cos:
    case Un::Tanh:
    case Un::Rsqrt:
    case Un::Exp2:
    case Un::Log2:
    case Un::Log1p:
    case Un::Expm1:
    case Un::Tan:
    case Un::Arcsin:
    case Un::Arccos:
    case Un::Arctan:
    case Un::Sinh:
    case Un::Cosh:
    case Un::Sign:
    case Un::Round: return true;
    default: return false;
  }
}
bool complex_capable(Cmp op) { return op == Cmp::Eq || op == Cmp::Ne; }

template <class Op>
[[noreturn]] void complex_refused(Op op, DType dt) {
  throw DTypeError(str_cat(op_name(op), ": not supported for ", dtype_numpy_name(dt)));
}
// The ordering comparisons: complex numbers are not ordered (numpy orders them lexicographically;
// the Array API leaves it out).
[[noreturn]] void complex_refused(Cmp op, DType dt) {
  throw DTypeError(
      str_cat(op_name(op), ": not supported for ", dtype_numpy_name(dt), " (complex numbers are not ordered)"));
}

// numpy's result dtype of a binary op on tensors of dtypes a and b.
DType bin_result_dtype(Bin op, const Tensor& a, const Tensor& b) {
  const DType dt = promote(a.dtype(), b.dtype());
  if (__builtin_expect(is_complex(dt), 0) && !complex_capable(op)) complex_refused(op, dt);
  switch (op) {
    case Bin::Sub:
      if (dt == DType::Bool)
        throw DTypeError(str_cat("sub: numpy boolean subtract is not supported (", describe(a), ", ", describe(b),
                                 "); use logical_xor or ^ instead"));
      return dt;
    case Bin::Div: return is_inexact(dt) ? dt : DType::Float64;
    // numpy picks the first float loop both operands cast to safely, i.e. each operand's own float
    // dtype, promoted: (Int8, UInt8) is Float16 and (Int16, UInt16) Float32, where the float dtype
    // of the promoted integer (Int16, Int32) would be one size larger. The Array API leaves integer
    // operands of these functions unspecified, so numpy's rule stands.
    case Bin::Atan2:
    case Bin::Hypot:
    case Bin::LogAddExp: return promote(float_result_dtype(a.dtype()), float_result_dtype(b.dtype()));
    case Bin::NextAfter: {
      // Float16 computes in float32 (its next value would round back to x1): a Float16 result
      // (of Float16, Bool, Int8 or UInt8 operands, numpy's rule) is refused rather than wrong.
      const DType r = promote(float_result_dtype(a.dtype()), float_result_dtype(b.dtype()));
      if (r == DType::Float16)
        throw DTypeError(str_cat("nextafter: ", describe(a), ", ", describe(b),
                                 ": the result would be Float16, which is not supported; use Float32 or Float64"));
      return r;
    }
    case Bin::FloorDiv:
    case Bin::Mod:
    case Bin::Pow: return dt == DType::Bool ? DType::Int8 : dt;
    case Bin::BitAnd:
    case Bin::BitOr:
    case Bin::BitXor:
      if (is_float(dt))
        throw DTypeError(str_cat(op_name(op), ": bitwise operations need Bool or integer tensors, got ", describe(a),
                                 " and ", describe(b)));
      return dt;
    default: return dt;
  }
}

bool float_only(Un op) {
  switch (op) {
    case Un::Neg:
    case Un::Abs:
    case Un::Sign:
    case Un::Square:
    case Un::Reciprocal:
    case Un::Relu:
    case Un::BitNot:
    case Un::Floor:
    case Un::Ceil:
    case Un::Round: return false;  // integer in, integer out (floor/ceil/round are the identity there, as numpy)
    default: return true;
  }
}

DType un_result_dtype(Un op, const Tensor& a) {
  const DType dt = a.dtype();
  if (__builtin_expect(is_complex(dt), 0) && !complex_capable(op)) complex_refused(op, dt);
  switch (op) {
    case Un::BitNot:
      if (is_float(dt))
        throw DTypeError(str_cat("bitwise_invert: bitwise not needs a Bool or integer tensor, got ", describe(a)));
      return dt;
    case Un::Neg:
      if (dt == DType::Bool)
        throw DTypeError(
            str_cat("neg: numpy boolean negative is not supported (", describe(a), "); use ~ or logical_not"));
      return dt;
    case Un::Sign:
      if (dt == DType::Bool) throw DTypeError(str_cat("sign: not supported for ", describe(a), " (as numpy)"));
      return dt;
    case Un::Square:
    case Un::Reciprocal: return dt == DType::Bool ? DType::Int8 : dt;
    // numpy's round (rint) has no Bool loop: Bool rounds as Float16 (floor, ceil and trunc keep Bool).
    case Un::Round: return dt == DType::Bool ? DType::Float16 : dt;
    default: return float_only(op) ? float_result_dtype(dt) : dt;
  }
}

// `t` converted to dtype d, without copying the handle when it already has it.
const Tensor& as_dtype(const Tensor& t, DType d, Tensor& tmp) {
  if (t.dtype() == d) return t;
  tmp = t.to(d);
  return tmp;
}

// ---- forward implementations (untracked values) ------------------------------------------

// True when some element of the integer tensor b is negative.
bool any_negative(const Tensor& b) {
  Tensor zero = Tensor::scalar(0.0, b.dtype());
  Tensor neg = Tensor::empty(b.shape(), DType::Bool, b.device());
  kernels::compare(Cmp::Lt, neg, b, zero);
  Tensor any = Tensor::empty(Shape(size_t(b.ndim()), 1), DType::Bool, b.device());
  kernels::reduce(kernels::Red::Any, any, neg, b.ndim() ? (uint64_t(1) << b.ndim()) - 1 : 0);
  return any.item_as_double(0) != 0;
}

// x ** c for the exponents numpy's operator computes without pow (x*x, sqrt x, 1/x, x, 1): the
// same values as pow (sqrt differs at -0 and -inf, as in numpy) at a fraction of the cost.
bool pow_fast_path(const Tensor& out, const Tensor& x, const Tensor& e) {
  const double c = e.item_as_double(0);
  if (c == 2.0) kernels::unary(Un::Square, out, x);
  else if (c == 0.5) kernels::unary(Un::Sqrt, out, x);
  else if (c == -1.0) kernels::unary(Un::Reciprocal, out, x);
  else if (c == 1.0) kernels::copy(out, x);
  else if (c == 0.0) kernels::fill(out, 1.0);
  else return false;
  return true;
}

Tensor binary_fwd(Bin op, const Tensor& a, const Tensor& b) {
  const DType dt = (a.dtype() == b.dtype() && is_float(a.dtype()) && op != Bin::BitAnd && op != Bin::BitOr &&
                    op != Bin::BitXor && op != Bin::NextAfter)
                       ? a.dtype()
                       : bin_result_dtype(op, a, b);
  const DType cd = compute_dtype(dt);
  Tensor ta, tb;
  const Tensor& aa = as_dtype(a, cd, ta);
  const Tensor& bb = as_dtype(b, cd, tb);
  if (op == Bin::Pow && is_int(cd) && any_negative(bb))
    throw ValueError(
        str_cat("pow: integers to negative integer powers are not allowed (", describe(a), " ** ", describe(b), ")"));
  Tensor out = a.shape() == b.shape() ? Tensor::empty(a.shape(), cd, result_device(a, b))
                                      : Tensor::empty(broadcast2(a, b, op_name(op)), cd, result_device(a, b));
  if (op == Bin::Pow && is_float(cd) && bb.numel() == 1 && out.shape() == a.shape() && pow_fast_path(out, aa, bb))
    return cd == dt ? out : out.to(dt);
  kernels::binary(op, out, aa, bb);
  return cd == dt ? out : out.to(dt);
}

Tensor compare_fwd(Cmp op, const Tensor& a, const Tensor& b) {
  const DType cd = compute_dtype(promote(a.dtype(), b.dtype()));
  if (__builtin_expect(is_complex(cd), 0) && !complex_capable(op)) complex_refused(op, cd);
  Tensor ta, tb;
  const Tensor& aa = as_dtype(a, cd, ta);
  const Tensor& bb = as_dtype(b, cd, tb);
  Tensor out = a.shape() == b.shape() ? Tensor::empty(a.shape(), DType::Bool, result_device(a, b))
                                      : Tensor::empty(broadcast2(a, b, op_name(op)), DType::Bool, result_device(a, b));
  kernels::compare(op, out, aa, bb);
  return out;
}

Tensor unary_fwd(Un op, const Tensor& a) {
  if (op == Un::Abs && is_complex(a.dtype())) return complex_abs(a);  // a real result: hypot of the parts
  const DType dt = un_result_dtype(op, a);
  const DType cd = compute_dtype(dt);
  Tensor ta;
  const Tensor& aa = as_dtype(a, cd, ta);
  Tensor out = Tensor::empty(a.shape(), cd, a.device());
  kernels::unary(op, out, aa);
  return cd == dt ? out : out.to(dt);
}

Tensor predicate_fwd(Pred op, const Tensor& a) {
  // signbit has no complex loop (numpy refuses complex there too).
  if (__builtin_expect(op == Pred::SignBit && is_complex(a.dtype()), 0))
    throw DTypeError(str_cat("signbit: not supported for ", dtype_numpy_name(a.dtype())));
  Tensor out = Tensor::empty(a.shape(), DType::Bool, a.device());
  Tensor ta;
  kernels::predicate(op, out, as_dtype(a, compute_dtype(a.dtype()), ta));
  return out;
}

// ---- binary prims --------------------------------------------------------------------------

template <Bin op>
TensorList bin_impl(const TensorList& in, const Attrs&) {
  return {binary_fwd(op, in[0], in[1])};
}

// (a + b)' = (g, g)
TensorList add_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs&, uint32_t) {
  return {g[0], g[0]};
}
TensorList add_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs&) {
  return {opt_add(t[0], t[1])};
}
// (a - b)' = (g, -g)
TensorList sub_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs&, uint32_t need) {
  return {g[0], (need & 2) ? neg(g[0]) : Tensor()};
}
TensorList sub_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs&) {
  return {opt_sub(t[0], t[1])};
}
// (a * b)' = (g * b, g * a)
TensorList mul_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  return {(need & 1) ? mul(g[0], x[1]) : Tensor(), (need & 2) ? mul(g[0], x[0]) : Tensor()};
}
TensorList mul_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  return {opt_add(t[0].defined() ? mul(t[0], x[1]) : Tensor(), t[1].defined() ? mul(x[0], t[1]) : Tensor())};
}
// (a / b)' = (g / b, -g a / b^2 = -g out / b)
TensorList div_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs&, uint32_t need) {
  Tensor ga = (need & 1) ? div(g[0], x[1]) : Tensor();
  Tensor gb = (need & 2) ? neg(div(mul(g[0], y[0]), x[1])) : Tensor();
  return {ga, gb};
}
TensorList div_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  Tensor ta = t[0].defined() ? div(t[0], x[1]) : Tensor();
  Tensor tb = t[1].defined() ? div(mul(t[1], y[0]), x[1]) : Tensor();
  return {opt_sub(ta, tb)};
}
// (a ** b)' = (g b a^(b-1), g out log a); the first is 0 where b == 0 (also at a == 0), the second
// takes log a as 0 where a == 0 (the limit for b > 0), as JAX does. Where b == 0 the base is
// replaced by 1 before a^(b-1) (the double-where trick): otherwise that unused branch is inf at
// a == 0 and its own derivative, times the zero cotangent where() sends it, makes grad(grad) nan.
//
// A constant exponent of one nonzero element (x ** 2: a Python scalar) makes both where()s select
// their last operand everywhere: they are skipped, which gives the same bits at every order (a
// where with an all-false mask is the identity, and so are its derivative rules) and saves a
// Hessian two full passes over its batched tangents per power. Not while a trace records: the
// replay must not depend on the value the recording saw.
bool nonzero_constant_exponent(const Tensor& x, const Tensor& b) {
  return !b.tracked() && b.numel() == 1 && b.ndim() <= x.ndim() && b.has_data() && b.device() == Device::CPU &&
         !is_complex(b.dtype()) && !autodiff::traces_recording() && b.item_as_double(0) != 0.0;
}
Tensor pow_da(const Tensor& x, const Tensor& b) {
  Tensor bf = is_float(b.dtype()) ? b : cast(b, x.dtype());
  if (nonzero_constant_exponent(x, b)) return mul(bf, pow(x, add_scalar(bf, -1.0)));
  Tensor b_zero = eq(stop_gradient(bf), scalar_like(0.0, bf));
  Tensor safe_x = where(b_zero, scalar_like(1.0, x), x);
  Tensor d = mul(bf, pow(safe_x, add_scalar(bf, -1.0)));
  return where(b_zero, scalar_like(0.0, d), d);
}
Tensor pow_db(const Tensor& x, const Tensor& out) {
  Tensor zero = eq(stop_gradient(x), scalar_like(0.0, x));
  Tensor safe = where(zero, scalar_like(1.0, x), x);
  return mul(out, log(safe));
}
TensorList pow_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs&, uint32_t need) {
  return {(need & 1) ? mul(g[0], pow_da(x[0], x[1])) : Tensor(), (need & 2) ? mul(g[0], pow_db(x[0], y[0])) : Tensor()};
}
TensorList pow_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  return {opt_add(t[0].defined() ? mul(t[0], pow_da(x[0], x[1])) : Tensor(),
                  t[1].defined() ? mul(t[1], pow_db(x[0], y[0])) : Tensor())};
}
// maximum(a, b)' = (g [a > b], g [b > a]) with ties split in half (as JAX).
Tensor pick_weight(const Tensor& a, const Tensor& b, bool is_max) {
  Tensor as = stop_gradient(a), bs = stop_gradient(b);
  DType dt = promote(a.dtype(), b.dtype());
  Tensor win = cast(is_max ? gt(as, bs) : lt(as, bs), dt);
  Tensor tie = cast(eq(as, bs), dt);
  return add(win, mul_scalar(tie, 0.5));
}
template <bool IsMax>
TensorList minmax_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  return {(need & 1) ? mul(g[0], pick_weight(x[0], x[1], IsMax)) : Tensor(),
          (need & 2) ? mul(g[0], pick_weight(x[1], x[0], IsMax)) : Tensor()};
}
template <bool IsMax>
TensorList minmax_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  return {opt_add(t[0].defined() ? mul(t[0], pick_weight(x[0], x[1], IsMax)) : Tensor(),
                  t[1].defined() ? mul(t[1], pick_weight(x[1], x[0], IsMax)) : Tensor())};
}
// atan2(a, b)' = (g b / (a^2 + b^2), -g a / (a^2 + b^2))
TensorList atan2_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  Tensor den = add(square(x[0]), square(x[1]));
  return {(need & 1) ? div(mul(g[0], x[1]), den) : Tensor(), (need & 2) ? neg(div(mul(g[0], x[0]), den)) : Tensor()};
}
TensorList atan2_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  Tensor den = add(square(x[0]), square(x[1]));
  Tensor ta = t[0].defined() ? mul(t[0], x[1]) : Tensor();
  Tensor tb = t[1].defined() ? mul(t[1], x[0]) : Tensor();
  Tensor num = opt_sub(ta, tb);
  return {num.defined() ? div(num, den) : Tensor()};
}
// hypot(a, b)' = (g a / out, g b / out), 0 where out == 0 (as the norm's: no direction is preferred)
Tensor hypot_d(const Tensor& x, const Tensor& out) {
  Tensor zero = eq(stop_gradient(out), scalar_like(0.0, out));
  return where(zero, scalar_like(0.0, x), div(x, where(zero, scalar_like(1.0, out), out)));
}
TensorList hypot_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs&, uint32_t need) {
  return {(need & 1) ? mul(g[0], hypot_d(x[0], y[0])) : Tensor(),
          (need & 2) ? mul(g[0], hypot_d(x[1], y[0])) : Tensor()};
}
TensorList hypot_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  return {opt_add(t[0].defined() ? mul(t[0], hypot_d(x[0], y[0])) : Tensor(),
                  t[1].defined() ? mul(t[1], hypot_d(x[1], y[0])) : Tensor())};
}
// logaddexp(a, b)' = (g w, g (1 - w)) with w = e^a / (e^a + e^b) = sigmoid(a - b): exact at
// infinities too (-inf against a finite b: 0; +inf: 1); a tie of two equal infinities splits 1/2.
Tensor logaddexp_w(const Tensor& a, const Tensor& b) {
  Tensor d = sub(a, b);
  Tensor as = stop_gradient(a), bs = stop_gradient(b);
  Tensor inf_tie = compare(Cmp::LogicalAnd, eq(as, bs), predicate(Pred::LogicalNot, predicate(Pred::IsFinite, as)));
  return sigmoid(where(inf_tie, scalar_like(0.0, d), d));
}
TensorList logaddexp_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  return {(need & 1) ? mul(g[0], logaddexp_w(x[0], x[1])) : Tensor(),
          (need & 2) ? mul(g[0], logaddexp_w(x[1], x[0])) : Tensor()};
}
TensorList logaddexp_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  return {opt_add(t[0].defined() ? mul(t[0], logaddexp_w(x[0], x[1])) : Tensor(),
                  t[1].defined() ? mul(t[1], logaddexp_w(x[1], x[0])) : Tensor())};
}
// mod(a, b) = a - b floor(a / b): mod' = (g, -g floor(a / b))
TensorList mod_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  return {g[0], (need & 2) ? neg(mul(g[0], floor_divide(stop_gradient(x[0]), stop_gradient(x[1])))) : Tensor()};
}
TensorList mod_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  Tensor tb = t[1].defined() ? mul(t[1], floor_divide(stop_gradient(x[0]), stop_gradient(x[1]))) : Tensor();
  return {opt_sub(t[0], tb)};
}

// The rules of each differentiable binary op (the table marks which are).
struct BinRules {
  decltype(Prim::vjp) vjp;
  decltype(Prim::jvp) jvp;
};
constexpr BinRules bin_rules(Bin op) {
  switch (op) {
    case Bin::Add: return {add_vjp, add_jvp};
    case Bin::Sub: return {sub_vjp, sub_jvp};
    case Bin::Mul: return {mul_vjp, mul_jvp};
    case Bin::Div: return {div_vjp, div_jvp};
    case Bin::Mod: return {mod_vjp, mod_jvp};
    case Bin::Pow: return {pow_vjp, pow_jvp};
    case Bin::Maximum: return {minmax_vjp<true>, minmax_jvp<true>};
    case Bin::Minimum: return {minmax_vjp<false>, minmax_jvp<false>};
    case Bin::Atan2: return {atan2_vjp, atan2_jvp};
    case Bin::Hypot: return {hypot_vjp, hypot_jvp};
    case Bin::LogAddExp: return {logaddexp_vjp, logaddexp_jvp};
    default: return {nullptr, nullptr};
  }
}
// What the table says, checked against the rules written here. (Not in the sanitizer build:
// GCC 12 under -fsanitize=undefined does not fold a function's address compared with nullptr in
// a constant expression; every other build checks it.)
#ifndef TAPEGRAD_SANITIZE_BUILD
#define TG_BINARY_OP(Id, name, bind, diff, reads, doc)                                                            \
  static_assert((bin_rules(Bin::Id).vjp != nullptr) == k##diff && (bin_rules(Bin::Id).jvp != nullptr) == k##diff, \
                #name ": the table's diff column and bin_rules disagree");
#include "core/elementwise_ops.def"
#endif

// ---- unary: one derivative formula d(x, out) serves both rules: vjp = g * d, jvp = t * d ----
Tensor one_minus(const Tensor& a) { return sub(scalar_like(1.0, a), a); }

Tensor unary_deriv(Un op, const Tensor& x, const Tensor& y) {
  constexpr double kLn2 = 0.69314718055994530942;
  constexpr double kTwoOverSqrtPi = 1.12837916709551257390;
  constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  switch (op) {
    case Un::Abs: return sign(x);                                                      // |x|' = sign x (0 at 0)
    case Un::Exp: return y;                                                            // (e^x)' = e^x
    case Un::Exp2: return mul_scalar(y, kLn2);                                         // (2^x)' = 2^x ln 2
    case Un::Log: return reciprocal(x);                                                // 1 / x
    case Un::Log2: return div(scalar_like(1.0 / kLn2, x), x);                          // 1 / (x ln 2)
    case Un::Log1p: return reciprocal(add_scalar(x, 1.0));                             // 1 / (1 + x)
    case Un::Expm1: return add_scalar(y, 1.0);                                         // e^x = expm1(x) + 1
    case Un::Sqrt: return div(scalar_like(0.5, y), y);                                 // 1 / (2 sqrt x)
    case Un::Rsqrt: return mul_scalar(div(y, x), -0.5);                                // -x^(-3/2) / 2
    case Un::Square: return mul_scalar(x, 2.0);                                        // 2x
    case Un::Reciprocal: return neg(square(y));                                        // -1 / x^2
    case Un::Sin: return cos(x);                                                       // cos x
    case Un::Cos: return neg(sin(x));                                                  // -sin x
    case Un::Tan: return add_scalar(square(y), 1.0);                                   // 1 + tan^2 x
    case Un::Arcsin: return rsqrt(one_minus(square(x)));                               // 1 / sqrt(1 - x^2)
    case Un::Arccos: return neg(rsqrt(one_minus(square(x))));                          // -1 / sqrt(1 - x^2)
    case Un::Arctan: return reciprocal(add_scalar(square(x), 1.0));                    // 1 / (1 + x^2)
    case Un::Sinh: return unary(Un::Cosh, x);                                          // cosh x
    case Un::Cosh: return unary(Un::Sinh, x);                                          // sinh x
    case Un::Tanh: return one_minus(square(y));                                        // 1 - tanh^2 x
    case Un::Sigmoid: return mul(y, one_minus(y));                                     // s (1 - s)
    case Un::Relu: return cast(gt(stop_gradient(x), scalar_like(0.0, x)), x.dtype());  // [x > 0]
    case Un::Softplus: return sigmoid(x);                                              // sigmoid x
    case Un::Gelu: {  // gelu = x Phi(x): Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2
      Tensor cdf = mul_scalar(add_scalar(unary(Un::Erf, mul_scalar(x, 0.70710678118654752440)), 1.0), 0.5);
      Tensor pdf = mul_scalar(exp(mul_scalar(square(x), -0.5)), kInvSqrt2Pi);
      return add(cdf, mul(x, pdf));
    }
    case Un::Erf: return mul_scalar(exp(neg(square(x))), kTwoOverSqrtPi);  // 2 / sqrt(pi) e^(-x^2)
    default: break;
  }
  throw NotDifferentiable(str_cat(op_name(op), ": no derivative"));
}

template <Un op>
TensorList un_impl(const TensorList& in, const Attrs&) {
  return {unary_fwd(op, in[0])};
}
// -x: (-g); every other unary op f: g f'(x)
template <Un op>
TensorList un_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs&, uint32_t) {
  if (op == Un::Neg) return {neg(g[0])};
  return {mul(g[0], unary_deriv(op, x[0], y[0]))};
}
template <Un op>
TensorList un_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  if (!t[0].defined()) return {Tensor()};
  if (op == Un::Neg) return {neg(t[0])};
  return {mul(t[0], unary_deriv(op, x[0], y[0]))};
}

template <Cmp op>
TensorList cmp_impl(const TensorList& in, const Attrs&) {
  return {compare_fwd(op, in[0], in[1])};
}
template <Pred op>
TensorList pred_impl(const TensorList& in, const Attrs&) {
  return {predicate_fwd(op, in[0])};
}

// ---- the prims of the op table, one per row (Note [Op table]) ------------------------------
// The bind column says which Python functions reach a prim: Both and Function bind the function
// of the prim's name (api null); an Operator op is reached through its operator and the
// tapegrad.numpy wrapper of its name.
#define TG_ELEMENTWISE_API_Both(name) nullptr
#define TG_ELEMENTWISE_API_Function(name) nullptr
#define TG_ELEMENTWISE_API_Operator(name) "numpy." #name
#define TG_ELEMENTWISE_PRIM(name, bind, diff, reads_, doc_, impl_, vjp_, jvp_) \
  PrimDef(#name)                                                               \
      .impl(impl_)                                                             \
      .vjp(k##diff ? vjp_ : nullptr)                                           \
      .jvp(k##diff ? jvp_ : nullptr)                                           \
      .batch(elementwise_batch)                                                \
      .nondiff(!k##diff)                                                       \
      .reads(kReads##reads_)                                                   \
      .doc(doc_)                                                               \
      .api(TG_ELEMENTWISE_API_##bind(name)),

constexpr Prim kUnPrims[] = {
#define TG_UNARY_OP(Id, name, bind, diff, reads, doc) \
  TG_ELEMENTWISE_PRIM(name, bind, diff, reads, doc, un_impl<Un::Id>, un_vjp<Un::Id>, un_jvp<Un::Id>)
#include "core/elementwise_ops.def"
};
constexpr Prim kBinPrims[] = {
#define TG_BINARY_OP(Id, name, bind, diff, reads, doc) \
  TG_ELEMENTWISE_PRIM(name, bind, diff, reads, doc, bin_impl<Bin::Id>, bin_rules(Bin::Id).vjp, bin_rules(Bin::Id).jvp)
#include "core/elementwise_ops.def"
};
constexpr Prim kCmpPrims[] = {
#define TG_COMPARE_OP(Id, name, bind, diff, reads, doc) \
  TG_ELEMENTWISE_PRIM(name, bind, diff, reads, doc, cmp_impl<Cmp::Id>, nullptr, nullptr)
#include "core/elementwise_ops.def"
};
constexpr Prim kPredPrims[] = {
#define TG_PREDICATE_OP(Id, name, bind, diff, reads, doc) \
  TG_ELEMENTWISE_PRIM(name, bind, diff, reads, doc, pred_impl<Pred::Id>, nullptr, nullptr)
#include "core/elementwise_ops.def"
};
#undef TG_ELEMENTWISE_PRIM
#undef TG_ELEMENTWISE_API_Both
#undef TG_ELEMENTWISE_API_Function
#undef TG_ELEMENTWISE_API_Operator

// ---- where ---------------------------------------------------------------------------------
// where(c, a, b)' = (none, where(c, g, 0), where(c, 0, g))
Tensor where_fwd(const Tensor& c, const Tensor& a, const Tensor& b) {
  const DType dt = promote(a.dtype(), b.dtype());
  Shape s = broadcast3(c, a, b, "where");
  Tensor tc, ta, tb;
  const Tensor& cc = as_dtype(c, DType::Bool, tc);
  const Tensor& aa = as_dtype(a, dt, ta);
  const Tensor& bb = as_dtype(b, dt, tb);
  Tensor out = Tensor::empty(s, dt, result_device(a, b, c));
  kernels::where(out, cc, aa, bb);
  return out;
}
TensorList where_impl(const TensorList& in, const Attrs&) { return {where_fwd(in[0], in[1], in[2])}; }
TensorList where_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  Tensor zero = scalar_like(0.0, g[0]);
  Tensor c = stop_gradient(x[0]);
  return {Tensor(), (need & 2) ? where(c, g[0], zero) : Tensor(), (need & 4) ? where(c, zero, g[0]) : Tensor()};
}
TensorList where_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  if (!t[1].defined() && !t[2].defined()) return {Tensor()};
  Tensor zero = scalar_like(0.0, y[0]);
  Tensor ta = t[1].defined() ? t[1] : zero, tb = t[2].defined() ? t[2] : zero;
  return {where(stop_gradient(x[0]), ta, tb)};
}
constexpr Prim kWhere = PrimDef("where").impl(where_impl).vjp(where_vjp).jvp(where_jvp).batch(elementwise_batch);

// ---- clip ----------------------------------------------------------------------------------
// clip(x, lo, hi) = min(max(x, lo), hi), ties kept by x; with m = max(x, lo):
//   clip' = (g [x >= lo][m <= hi], g [x < lo][m <= hi], g [m > hi])
Tensor clip_fwd(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  const DType dt = promote(promote(x.dtype(), lo.dtype()), hi.dtype());
  const DType cd = compute_dtype(dt);
  Shape s = broadcast3(x, lo, hi, "clip");
  Tensor tx, tl, th;
  const Tensor& xx = as_dtype(x, cd, tx);
  const Tensor& ll = as_dtype(lo, cd, tl);
  const Tensor& hh = as_dtype(hi, cd, th);
  Tensor out = Tensor::empty(s, cd, result_device(x, lo, hi));
  kernels::clip(out, xx, ll, hh);
  return cd == dt ? out : out.to(dt);
}
TensorList clip_impl(const TensorList& in, const Attrs&) { return {clip_fwd(in[0], in[1], in[2])}; }
// Masks (untracked Bool tensors): below = x < lo, above = max(x, lo) > hi.
void clip_masks(const TensorList& x, Tensor& below, Tensor& above) {
  Tensor xs = stop_gradient(x[0]), ls = stop_gradient(x[1]), hs = stop_gradient(x[2]);
  below = lt(xs, ls);
  above = gt(where(below, ls, xs), hs);
}
TensorList clip_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  Tensor below, above;
  clip_masks(x, below, above);
  Tensor zero = scalar_like(0.0, g[0]);
  Tensor gx = (need & 1) ? where(compare(Cmp::LogicalOr, below, above), zero, g[0]) : Tensor();
  Tensor glo =
      (need & 2) ? where(compare(Cmp::LogicalAnd, below, predicate(Pred::LogicalNot, above)), g[0], zero) : Tensor();
  Tensor ghi = (need & 4) ? where(above, g[0], zero) : Tensor();
  return {gx, glo, ghi};
}
TensorList clip_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  if (!t[0].defined() && !t[1].defined() && !t[2].defined()) return {Tensor()};
  Tensor below, above;
  clip_masks(x, below, above);
  Tensor zero = scalar_like(0.0, y[0]);
  auto tz = [&](const Tensor& v) { return v.defined() ? v : zero; };
  return {where(above, tz(t[2]), where(below, tz(t[1]), tz(t[0])))};
}
constexpr Prim kClip = PrimDef("clip").impl(clip_impl).vjp(clip_vjp).jvp(clip_jvp).batch(elementwise_batch);

// A bound that is absent: the extreme value of the dtype (so the kernel always has two bounds).
Tensor open_bound(DType dt, bool upper) {
  switch (dt) {
    case DType::Bool: return Tensor::scalar(upper ? 1.0 : 0.0, dt);
    case DType::Int8:
    case DType::Int16:
    case DType::Int32:
    case DType::Int64:
    case DType::UInt8:
    case DType::UInt16:
    case DType::UInt32:
    case DType::UInt64: {
      Tensor t = Tensor::empty(Shape{}, dt);
      const uint64_t bits = upper ? int_max_u64(dt) : uint64_t(int_min(dt));
      TG_DISPATCH_NUM(dt, *t.data<T>() = T(bits));
      return t;
    }
    default: return Tensor::scalar(upper ? HUGE_VAL : -HUGE_VAL, dt);
  }
}

// ---- cast ----------------------------------------------------------------------------------
// cast'(x) = cast back (the sweep casts cotangents to the input dtype)
TensorList cast_impl(const TensorList& in, const Attrs& a) { return {in[0].to(a.dtype)}; }
TensorList cast_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs&, uint32_t) {
  return {g[0]};
}
// (Between complex and real, JAX's convention: the cotangent of a real input is the real part
// of its complex cotangent, which the sweep's dtype fix takes with cast_any.)
TensorList cast_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {t[0].defined() ? cast_any(t[0], a.dtype) : Tensor()};
}
constexpr Prim kCast = PrimDef("astype").impl(cast_impl).vjp(cast_vjp).jvp(cast_jvp).batch(elementwise_batch);

}  // namespace

DType float_result_dtype(DType d) {
  switch (d) {
    case DType::Bool:
    case DType::Int8:
    case DType::UInt8: return DType::Float16;
    case DType::Int16:
    case DType::UInt16: return DType::Float32;
    default: break;
  }
  if (is_int(d)) return DType::Float64;
  return d;
}

Tensor binary(Bin op, const Tensor& a, const Tensor& b) {
  if (!any_tracked(a, b)) { return binary_fwd(op, a, b); }
  // Tracked: bring integer operands of float-valued ops to the result dtype first, so that the
  // prim and its rules see float values.
  // (Complex powers too: the rules see one complex dtype, never a real base with a complex exponent.)
  if (op == Bin::Div || op == Bin::Atan2 || op == Bin::Hypot || op == Bin::LogAddExp ||
      (op == Bin::Pow && is_complex(promote(a.dtype(), b.dtype())))) {
    const DType dt = bin_result_dtype(op, a, b);
    if (a.dtype() != dt || b.dtype() != dt) {
      if (is_complex(dt)) return binary(op, cast(a, dt), cast(b, dt));
      if (!is_inexact(a.dtype()) || !is_inexact(b.dtype()))
        return binary(op, is_inexact(a.dtype()) ? a : cast(a, dt), is_inexact(b.dtype()) ? b : cast(b, dt));
    }
  }
  bin_result_dtype(op, a, b);  // dtype errors before anything is recorded
  return autodiff::apply1(kBinPrims[int(op)], {a, b}, Attrs());
}

Tensor compare(Cmp op, const Tensor& a, const Tensor& b) {
  if (!any_tracked(a, b)) return compare_fwd(op, a, b);
  return autodiff::apply1(kCmpPrims[int(op)], {a, b}, Attrs());
}

Tensor unary(Un op, const Tensor& a) {
  if (!any_tracked(a)) { return unary_fwd(op, a); }
  if (op == Un::Abs && is_complex(a.dtype())) return complex_abs(a);  // hypot of the parts
  const DType dt = un_result_dtype(op, a);
  if (float_only(op) && !is_inexact(a.dtype())) return unary(op, cast(a, dt));
  return autodiff::apply1(kUnPrims[int(op)], {a}, Attrs());
}

Tensor predicate(Pred op, const Tensor& a) {
  if (!any_tracked(a)) { return predicate_fwd(op, a); }
  return autodiff::apply1(kPredPrims[int(op)], {a}, Attrs());
}

Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return compare(Cmp::Ne, cast(a, DType::Bool), cast(b, DType::Bool));
}

Tensor bitwise(Bin op, const Tensor& a, const Tensor& b) {
  if (a.dtype() == DType::Bool && b.dtype() == DType::Bool) {
    if (op == Bin::BitAnd) return compare(Cmp::LogicalAnd, a, b);
    if (op == Bin::BitOr) return compare(Cmp::LogicalOr, a, b);
    if (op == Bin::BitXor) return compare(Cmp::Ne, a, b);
  }
  return binary(op, a, b);
}

Tensor invert(const Tensor& a) {
  if (a.dtype() == DType::Bool) return predicate(Pred::LogicalNot, a);
  return unary(Un::BitNot, a);
}

Tensor where(const Tensor& c, const Tensor& a, const Tensor& b) {
  if (!any_tracked(c, a, b)) return where_fwd(c, a, b);
  return autodiff::apply1(kWhere, {c, a, b}, Attrs());
}

Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  DType dt = x.dtype();
  if (lo.defined()) dt = promote(dt, lo.dtype());
  if (hi.defined()) dt = promote(dt, hi.dtype());
  TG_CHECK_DTYPE(!is_complex(dt), "clip: not supported for ", dtype_numpy_name(dt),
                 " (complex numbers are not ordered)");
  Tensor l = lo.defined() ? lo : open_bound(dt, false);
  Tensor h = hi.defined() ? hi : open_bound(dt, true);
  if (!any_tracked(x, l, h)) return clip_fwd(x, l, h);
  return autodiff::apply1(kClip, {x, l, h}, Attrs());
}

Tensor cast(const Tensor& a, DType dt) {
  // Complex -> real: numpy drops the imaginary part with a ComplexWarning, the Array API leaves it
  // undefined; we refuse it, so that no op silently loses the imaginary part.
  if (__builtin_expect(is_complex(a.dtype()) && !is_complex(dt), 0))
    throw DTypeError(str_cat("astype: cannot cast ", dtype_numpy_name(a.dtype()), " to ", dtype_numpy_name(dt),
                             " (the imaginary part would be lost); take real(z), imag(z) or abs(z) first"));
  return cast_any(a, dt);
}

Tensor cast_any(const Tensor& a, DType dt) {
  if (a.dtype() == dt) return a;
  if (!any_tracked(a)) return a.to(dt);
  Attrs at;
  at.dtype = dt;
  if (!is_inexact(dt) || !is_inexact(a.dtype())) {
    // Not differentiable: a constant of every differentiation level; still batched under vmap.
    Tensor c = autodiff::strip(a);
    return any_tracked(c) ? autodiff::apply1(kCast, {c}, at) : c.to(dt);
  }
  return autodiff::apply1(kCast, {a}, at);
}

// stop_gradient is the identity marked non-differentiable: every differentiation level drops its
// wrapper (the value is a constant to it), a batch level keeps its axis, and a trace (tg.jit)
// records it, so a replay under grad stops the gradient too.
namespace {
TensorList stop_gradient_impl(const TensorList& in, const Attrs&) { return {in[0]}; }
constexpr Prim kStopGradient = PrimDef("stop_gradient").impl(stop_gradient_impl).batch(elementwise_batch).nondiff();
}  // namespace
Tensor stop_gradient(const Tensor& a) { return a.tracked() ? autodiff::apply1(kStopGradient, {a}, Attrs()) : a; }

void add_elementwise_prims(PrimRegistry& r) {
  for (const Prim& p : kUnPrims) r.push_back(&p);
  for (const Prim& p : kBinPrims) r.push_back(&p);
  for (const Prim& p : kCmpPrims) r.push_back(&p);
  for (const Prim& p : kPredPrims) r.push_back(&p);
  for (const Prim* p : {&kWhere, &kClip, &kCast, &kStopGradient}) r.push_back(p);
}

const char* elementwise_kind(const Prim* p) {
  auto in = [p](const auto& rows) {
    const std::less<const Prim*> lt;
    return !lt(p, std::begin(rows)) && lt(p, std::end(rows));
  };
  if (in(kUnPrims)) return "unary";
  if (in(kBinPrims)) return "binary";
  if (in(kCmpPrims)) return "compare";
  if (in(kPredPrims)) return "predicate";
  return nullptr;
}

Tensor scalar_like(double v, const Tensor& like) { return Tensor::scalar(v, like.dtype()); }
Tensor mul_scalar(const Tensor& a, double s) { return mul(a, scalar_like(s, a)); }
Tensor add_scalar(const Tensor& a, double s) { return add(a, scalar_like(s, a)); }

}  // namespace ops
}  // namespace tapegrad
