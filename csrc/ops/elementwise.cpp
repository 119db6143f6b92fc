// Elementwise prims: forward, VJP and JVP side by side. The math of each rule is in its comment.
#include "ops/elementwise.h"

#include <cmath>

#include "ops/ops.h"

namespace tapegrad {
namespace ops {

using kernels::Bin;
using kernels::Cmp;
using kernels::Pred;
using kernels::Un;

namespace {

const char* bin_name(Bin op) {
  static const char* names[] = {
#define TG_NAME(N) #N,
      TG_BINARY_KERNELS(TG_NAME)
#undef TG_NAME
  };
  return names[int(op)];
}
const char* un_name(Un op) {
  static const char* names[] = {
#define TG_NAME(N) #N,
      TG_UNARY_KERNELS(TG_NAME)
#undef TG_NAME
  };
  return names[int(op)];
}

Shape result_shape(const Tensor& a, const Tensor& b, const char* name) {
  if (a.shape() == b.shape()) return a.shape();
  return broadcast_shapes(a.shape(), b.shape(), name);
}


// ---- forward implementations (untracked values) ------------------------------------------

Tensor binary_fwd(Bin op, const Tensor& a, const Tensor& b) {
  DType dt = promote(a.dtype(), b.dtype());
  if (op == Bin::Atan2 && !is_float(dt)) dt = DType::Float64;
  if (op == Bin::Sub && dt == DType::Bool)
    throw DTypeError(str_cat("sub: boolean subtract is not supported (", describe(a), ", ", describe(b),
                             "); use logical_xor or ^"));
  if ((op == Bin::BitAnd || op == Bin::BitOr || op == Bin::BitXor) && is_float(dt))
    throw DTypeError(str_cat(bin_name(op), ": bitwise operations need Bool or integer tensors, got ",
                             describe(a), " and ", describe(b)));
  Shape s = result_shape(a, b, bin_name(op));
  DType cd = compute_dtype(dt);
  Tensor aa = a.dtype() == cd ? a : a.to(cd);
  Tensor bb = b.dtype() == cd ? b : b.to(cd);
  Tensor out = Tensor::empty(s, cd, a.device());
  kernels::binary(op, out, aa, bb);
  return cd == dt ? out : out.to(dt);
}

Tensor compare_fwd(Cmp op, const Tensor& a, const Tensor& b) {
  DType cd = compute_dtype(promote(a.dtype(), b.dtype()));
  Shape s = result_shape(a, b, "compare");
  Tensor aa = a.dtype() == cd ? a : a.to(cd);
  Tensor bb = b.dtype() == cd ? b : b.to(cd);
  Tensor out = Tensor::empty(s, DType::Bool, a.device());
  kernels::compare(op, out, aa, bb);
  return out;
}

bool float_only(Un op) {
  switch (op) {
    case Un::Neg: case Un::Abs: case Un::Sign: case Un::Square: case Un::Relu: case Un::BitNot:
      return false;
    case Un::Floor: case Un::Ceil: case Un::Round:
      return false;  // identity on integers, as numpy
    default:
      return true;
  }
}

Tensor unary_fwd(Un op, const Tensor& a) {
  DType dt = a.dtype();
  if (op == Un::BitNot && is_float(dt))
    throw DTypeError(str_cat("invert: bitwise not needs a Bool or integer tensor, got ", describe(a)));
  if (op == Un::Neg && dt == DType::Bool)
    throw DTypeError(str_cat("neg: negating a Bool tensor is not supported (", describe(a), "); use ~ or logical_not"));
  if (float_only(op) && !is_float(dt)) dt = DType::Float64;  // numpy: ints -> float64
  DType cd = compute_dtype(dt);
  Tensor aa = a.dtype() == cd ? a : a.to(cd);
  Tensor out = Tensor::empty(a.shape(), cd, a.device());
  kernels::unary(op, out, aa);
  return cd == dt ? out : out.to(dt);
}

// ---- prims ---------------------------------------------------------------------------------

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
// (a / b)' = (g / b, -g * out / b)
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
// (a ** b)' = (g * b * a ** (b - 1), g * out * log(a)), with log(a) taken as 0 where a == 0
Tensor pow_da(const Tensor& x, const Tensor& b) {
  Tensor bf = is_float(b.dtype()) ? b : cast(b, x.dtype());
  return mul(bf, pow(x, add_scalar(bf, -1.0)));
}
Tensor pow_db(const Tensor& x, const Tensor& out) {
  Tensor zero = eq(x, scalar_like(0.0, x));
  Tensor safe = where(zero, scalar_like(1.0, x), x);
  return mul(out, log(safe));
}
TensorList pow_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs&, uint32_t need) {
  return {(need & 1) ? mul(g[0], pow_da(x[0], x[1])) : Tensor(),
          (need & 2) ? mul(g[0], pow_db(x[0], y[0])) : Tensor()};
}
TensorList pow_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  return {opt_add(t[0].defined() ? mul(t[0], pow_da(x[0], x[1])) : Tensor(),
                  t[1].defined() ? mul(t[1], pow_db(x[0], y[0])) : Tensor())};
}
// maximum: the gradient goes to the larger input; ties split it in half (as JAX).
Tensor pick_weight(const Tensor& a, const Tensor& b, bool is_max) {
  Tensor win = is_max ? gt(a, b) : lt(a, b);
  Tensor tie = eq(a, b);
  Tensor w = cast(win, a.dtype());
  return add(w, mul_scalar(cast(tie, a.dtype()), 0.5));
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
// atan2(a, b)' = (g * b / (a^2 + b^2), -g * a / (a^2 + b^2))
TensorList atan2_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t) {
  Tensor den = add(square(x[0]), square(x[1]));
  return {div(mul(g[0], x[1]), den), neg(div(mul(g[0], x[0]), den))};
}
TensorList atan2_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  Tensor den = add(square(x[0]), square(x[1]));
  Tensor ta = t[0].defined() ? mul(t[0], x[1]) : Tensor();
  Tensor tb = t[1].defined() ? mul(t[1], x[0]) : Tensor();
  Tensor num = opt_sub(ta, tb);
  return {num.defined() ? div(num, den) : Tensor()};
}
// mod(a, b)' = (g, -g * floor_divide(a, b))
TensorList mod_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  return {g[0], (need & 2) ? neg(mul(g[0], floor_divide(stop_gradient(x[0]), stop_gradient(x[1])))) : Tensor()};
}
TensorList mod_jvp(const TensorList& t, const TensorList& x, const TensorList&, const Attrs&) {
  Tensor tb = t[1].defined() ? mul(t[1], floor_divide(stop_gradient(x[0]), stop_gradient(x[1]))) : Tensor();
  return {opt_sub(t[0], tb)};
}

const Prim kBinPrims[] = {
    {"add", bin_impl<Bin::Add>, add_vjp, add_jvp},
    {"sub", bin_impl<Bin::Sub>, sub_vjp, sub_jvp},
    {"mul", bin_impl<Bin::Mul>, mul_vjp, mul_jvp},
    {"div", bin_impl<Bin::Div>, div_vjp, div_jvp},
    {"floor_divide", bin_impl<Bin::FloorDiv>, nullptr, nullptr, true},
    {"mod", bin_impl<Bin::Mod>, mod_vjp, mod_jvp},
    {"pow", bin_impl<Bin::Pow>, pow_vjp, pow_jvp},
    {"maximum", bin_impl<Bin::Maximum>, minmax_vjp<true>, minmax_jvp<true>},
    {"minimum", bin_impl<Bin::Minimum>, minmax_vjp<false>, minmax_jvp<false>},
    {"arctan2", bin_impl<Bin::Atan2>, atan2_vjp, atan2_jvp},
    {"bitwise_and", bin_impl<Bin::BitAnd>, nullptr, nullptr, true},
    {"bitwise_or", bin_impl<Bin::BitOr>, nullptr, nullptr, true},
    {"bitwise_xor", bin_impl<Bin::BitXor>, nullptr, nullptr, true},
};
static_assert(sizeof(kBinPrims) / sizeof(Prim) == size_t(Bin::kCount), "one prim per binary kernel");

// ---- unary: one derivative formula d(x, out) serves both rules: vjp = g * d, jvp = t * d ----
Tensor unary_deriv(Un op, const Tensor& x, const Tensor& y) {
  constexpr double kLn2 = 0.69314718055994530942;
  switch (op) {
    case Un::Neg: return scalar_like(-1.0, x);                            // -x
    case Un::Abs: return sign(x);                                         // |x|' = sign(x)
    case Un::Exp: return y;                                               // e^x
    case Un::Exp2: return mul_scalar(y, kLn2);                            // 2^x ln 2
    case Un::Log: return div(scalar_like(1.0, x), x);                     // 1/x
    case Un::Log2: return div(scalar_like(1.0 / kLn2, x), x);             // 1/(x ln 2)
    case Un::Log1p: return div(scalar_like(1.0, x), add_scalar(x, 1.0));  // 1/(1+x)
    case Un::Expm1: return add_scalar(y, 1.0);                            // e^x
    case Un::Sqrt: return div(scalar_like(0.5, y), y);                    // 1/(2 sqrt x)
    case Un::Rsqrt: return mul_scalar(div(y, x), -0.5);                   // -x^(-3/2)/2
    case Un::Square: return mul_scalar(x, 2.0);                           // 2x
    case Un::Reciprocal: return neg(square(y));                           // -1/x^2
    case Un::Sin: return cos(x);
    case Un::Cos: return neg(sin(x));
    case Un::Tan: return add_scalar(square(y), 1.0);                      // 1 + tan^2
    case Un::Arcsin: return unary(Un::Rsqrt, sub(scalar_like(1.0, x), square(x)));   // 1/sqrt(1-x^2)
    case Un::Arccos: return neg(unary(Un::Rsqrt, sub(scalar_like(1.0, x), square(x))));
    case Un::Arctan: return unary(Un::Reciprocal, add_scalar(square(x), 1.0));        // 1/(1+x^2)
    case Un::Sinh: return unary(Un::Cosh, x);
    case Un::Cosh: return unary(Un::Sinh, x);
    case Un::Tanh: return sub(scalar_like(1.0, y), square(y));            // 1 - tanh^2
    case Un::Sigmoid: return mul(y, sub(scalar_like(1.0, y), y));         // s (1 - s)
    case Un::Relu: return cast(gt(x, scalar_like(0.0, x)), x.dtype());    // [x > 0]
    case Un::Softplus: return sigmoid(x);
    case Un::Gelu: {  // Phi(x) + x phi(x)
      Tensor cdf = mul_scalar(add_scalar(unary(Un::Erf, mul_scalar(x, 0.70710678118654752440)), 1.0), 0.5);
      Tensor pdf = mul_scalar(exp(mul_scalar(square(x), -0.5)), 0.39894228040143267794);
      return add(cdf, mul(x, pdf));
    }
    case Un::Erf: return mul_scalar(exp(neg(square(x))), 1.12837916709551257390);  // 2/sqrt(pi) e^-x^2
    default: break;
  }
  throw NotDifferentiable(str_cat(un_name(op), ": no derivative"));
}

template <Un op>
TensorList un_impl(const TensorList& in, const Attrs&) {
  return {unary_fwd(op, in[0])};
}
template <Un op>
TensorList un_vjp(const TensorList& g, const TensorList& x, const TensorList& y, const Attrs&, uint32_t) {
  if (op == Un::Neg) return {neg(g[0])};
  return {mul(g[0], unary_deriv(op, x[0], y[0]))};
}
template <Un op>
TensorList un_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  if (op == Un::Neg) return {neg(t[0])};
  return {mul(t[0], unary_deriv(op, x[0], y[0]))};
}

constexpr bool un_nondiff(Un op) {
  return op == Un::Sign || op == Un::Floor || op == Un::Ceil || op == Un::Round || op == Un::BitNot;
}

const Prim kUnPrims[] = {
#define TG_UN_PRIM(N) \
  {#N, un_impl<Un::N>, un_nondiff(Un::N) ? nullptr : un_vjp<Un::N>, un_nondiff(Un::N) ? nullptr : un_jvp<Un::N>, un_nondiff(Un::N)},
    TG_UNARY_KERNELS(TG_UN_PRIM)
#undef TG_UN_PRIM
};

template <Cmp op>
TensorList cmp_impl(const TensorList& in, const Attrs&) {
  return {compare_fwd(op, in[0], in[1])};
}
const Prim kCmpPrims[] = {
#define TG_CMP_PRIM(N) {#N, cmp_impl<Cmp::N>, nullptr, nullptr, true},
    TG_COMPARE_KERNELS(TG_CMP_PRIM)
#undef TG_CMP_PRIM
};

template <Pred op>
TensorList pred_impl(const TensorList& in, const Attrs&) {
  Tensor out = Tensor::empty(in[0].shape(), DType::Bool, in[0].device());
  const Tensor& a = in[0];
  kernels::predicate(op, out, a.dtype() == DType::Float16 ? a.to(DType::Float32) : a);
  return {out};
}
const Prim kPredPrims[] = {
#define TG_PRED_PRIM(N) {#N, pred_impl<Pred::N>, nullptr, nullptr, true},
    TG_PREDICATE_KERNELS(TG_PRED_PRIM)
#undef TG_PRED_PRIM
};

// where(c, a, b)' = (none, where(c, g, 0), where(c, 0, g))
Tensor where_fwd(const Tensor& c, const Tensor& a, const Tensor& b) {
  DType dt = promote(a.dtype(), b.dtype());
  Shape s = broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor cc = c.dtype() == DType::Bool ? c : c.to(DType::Bool);
  Tensor aa = a.dtype() == dt ? a : a.to(dt);
  Tensor bb = b.dtype() == dt ? b : b.to(dt);
  Tensor out = Tensor::empty(s, dt, a.device());
  kernels::where(out, cc, aa, bb);
  return out;
}
TensorList where_impl(const TensorList& in, const Attrs&) { return {where_fwd(in[0], in[1], in[2])}; }
TensorList where_vjp(const TensorList& g, const TensorList& x, const TensorList&, const Attrs&, uint32_t need) {
  Tensor zero = scalar_like(0.0, g[0]);
  return {Tensor(), (need & 2) ? where(x[0], g[0], zero) : Tensor(), (need & 4) ? where(x[0], zero, g[0]) : Tensor()};
}
TensorList where_jvp(const TensorList& t, const TensorList& x, const TensorList& y, const Attrs&) {
  Tensor zero = scalar_like(0.0, y[0]);
  Tensor ta = t[1].defined() ? t[1] : zero, tb = t[2].defined() ? t[2] : zero;
  return {where(x[0], ta, tb)};
}
const Prim kWhere = {"where", where_impl, where_vjp, where_jvp};

// cast'(x) = cast back (the sweep casts cotangents to the input dtype)
TensorList cast_impl(const TensorList& in, const Attrs& a) { return {in[0].to(a.dtype)}; }
TensorList cast_vjp(const TensorList& g, const TensorList&, const TensorList&, const Attrs&, uint32_t) {
  return {g[0]};
}
TensorList cast_jvp(const TensorList& t, const TensorList&, const TensorList&, const Attrs& a) {
  return {t[0].defined() ? cast(t[0], a.dtype) : Tensor()};
}
const Prim kCast = {"cast", cast_impl, cast_vjp, cast_jvp};

}  // namespace

Tensor binary(Bin op, const Tensor& a, const Tensor& b) {

  if (!any_tracked(a, b)) return binary_fwd(op, a, b);
  return autodiff::apply1(kBinPrims[int(op)], {a, b}, Attrs());
}

Tensor div(const Tensor& a, const Tensor& b) {
  if (!is_float(a.dtype()) && !is_float(b.dtype())) {
    return binary(Bin::Div, cast(a, DType::Float64), cast(b, DType::Float64));
  }
  return binary(Bin::Div, a, b);
}

Tensor arctan2(const Tensor& a, const Tensor& b) {
  if (!is_float(a.dtype()) && !is_float(b.dtype()))
    return binary(Bin::Atan2, cast(a, DType::Float64), cast(b, DType::Float64));
  return binary(Bin::Atan2, a, b);
}

Tensor compare(Cmp op, const Tensor& a, const Tensor& b) {
  if (!any_tracked(a, b)) return compare_fwd(op, a, b);
  return autodiff::apply1(kCmpPrims[int(op)], {a, b}, Attrs());
}

Tensor unary(Un op, const Tensor& a) {
  if (!a.tracked()) return unary_fwd(op, a);
  if (float_only(op) && !is_float(a.dtype())) return unary(op, cast(a, DType::Float64));
  return autodiff::apply1(kUnPrims[int(op)], {a}, Attrs());
}

Tensor predicate(Pred op, const Tensor& a) {
  if (!a.tracked()) return kPredPrims[int(op)].impl({a}, Attrs())[0];
  return autodiff::apply1(kPredPrims[int(op)], {a}, Attrs());
}

Tensor where(const Tensor& c, const Tensor& a, const Tensor& b) {
  if (!any_tracked(c, a, b)) return where_fwd(c, a, b);
  return autodiff::apply1(kWhere, {c, a, b}, Attrs());
}

Tensor cast(const Tensor& a, DType dt) {
  if (a.dtype() == dt) return a;
  if (!a.tracked()) return a.to(dt);
  if (!is_float(dt) || !is_float(a.dtype())) return autodiff::strip(a).to(dt);
  Attrs at;
  at.dtype = dt;
  return autodiff::apply1(kCast, {a}, at);
}

Tensor stop_gradient(const Tensor& a) { return autodiff::strip(a); }

Tensor scalar_like(double v, const Tensor& like) { return Tensor::scalar(v, like.dtype()); }
Tensor mul_scalar(const Tensor& a, double s) { return mul(a, scalar_like(s, a)); }
Tensor add_scalar(const Tensor& a, double s) { return add(a, scalar_like(s, a)); }

}  // namespace ops
}  // namespace tapegrad
