// Creation ops. They take no tensor inputs (or use only an input's shape and dtype), so their
// results are constants for every transform; `full` with a tensor fill value is composed of
// differentiable ops (cast, broadcast_to, copy) and so needs no rules of its own.
#include "ops/creation.h"

#include <cmath>
#include <limits>

#include "kernels/creation.h"
#include "kernels/kernels.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

void check_new_shape(const Shape& shape, const char* op) {
  // The product of the non-zero dimensions (Note [Size arithmetic]), with room for any itemsize.
  int64_t n = 1;
  for (int64_t d : shape) {
    TG_CHECK(d >= 0, op, ": negative dimensions are not allowed, got shape ", shape_str(shape));
    if (d) TG_CHECK(!__builtin_mul_overflow(n, d, &n), op, ": shape ", shape_str(shape), " is too large");
  }
  TG_CHECK(n <= (std::numeric_limits<int64_t>::max() >> 4), op, ": shape ", shape_str(shape), " is too large");
}

namespace {
Tensor new_tensor(const Shape& shape, DType dt, const char* op) {
  check_new_shape(shape, op);
  return Tensor::empty(shape, dt);
}
}  // namespace

Tensor empty(const Shape& shape, DType dt) { return new_tensor(shape, dt, "empty"); }

Tensor zeros(const Shape& shape, DType dt) {
  check_new_shape(shape, "zeros");
  return Tensor::zeros(shape, dt);
}

Tensor ones(const Shape& shape, DType dt) {
  check_new_shape(shape, "ones");
  return Tensor::full(shape, dt, 1.0);
}

Tensor full(const Shape& shape, double value, DType dt) {
  check_new_shape(shape, "full");
  return Tensor::full(shape, dt, value);
}

Tensor full(const Shape& shape, const Tensor& value, DType dt) {
  check_new_shape(shape, "full");
  TG_CHECK_SHAPE(broadcast_shapes(value.shape(), shape, "full") == shape, "full: a fill value of shape ",
                 shape_str(value.shape()), " does not broadcast to shape ", shape_str(shape));
  // full(shape, x) = copy(broadcast_to(cast(x, dt), shape)): a value a transform can see through.
  if (any_tracked(value)) return copy(broadcast_to(cast(value, dt), shape));
  check_op_input(value, "full");
  Tensor out = Tensor::empty(shape, dt, value.device());
  kernels::copy(out, value);  // broadcasts by zero strides and converts the dtype
  return out;
}

Tensor zeros_like(const Tensor& a) { return zeros_like(a, a.dtype()); }
Tensor zeros_like(const Tensor& a, DType dt) { return Tensor::zeros(a.shape(), dt, a.device()); }
Tensor ones_like(const Tensor& a) { return ones_like(a, a.dtype()); }
Tensor ones_like(const Tensor& a, DType dt) { return Tensor::full(a.shape(), dt, 1.0, a.device()); }
Tensor full_like(const Tensor& a, const Tensor& value, DType dt) { return full(a.shape(), value, dt); }

namespace {
int64_t arange_length(double start, double stop, double step) {
  TG_CHECK(step != 0, "arange: step must not be zero");
  TG_CHECK(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step), "arange: start (", start, "), stop (",
           stop, ") and step (", step, ") must be finite");
  const double n = std::ceil((stop - start) / step);
  TG_CHECK(std::isfinite(n), "arange: cannot compute the length of arange(", start, ", ", stop, ", ", step, ")");
  TG_CHECK(n < 9.2e18, "arange: maximum allowed size exceeded (", n, " elements)");
  return n > 0 ? int64_t(n) : 0;
}

void check_bool_arange(int64_t len, DType dt) {
  TG_CHECK_TYPE(dt != DType::Bool || len <= 2,
                "arange: a Bool result can have at most 2 elements, this one would have ", len);
}
}  // namespace

// arange, linspace and eye with a complex dtype: the real values of the part dtype, cast (their
// imaginary parts are 0; the kernels have no complex loops).
Tensor arange(double start, double stop, double step, DType dt) {
  if (is_complex(dt)) return arange(start, stop, step, real_dtype(dt)).to(dt);
  const int64_t len = arange_length(start, stop, step);
  check_bool_arange(len, dt);
  Tensor out = new_tensor(Shape{len}, dt, "arange");
  kernels::arange(out, start, step);
  return out;
}

Tensor arange_int(int64_t start, int64_t stop, int64_t step, DType dt) {
  TG_CHECK(step != 0, "arange: step must not be zero");
  if (is_complex(dt)) return arange_int(start, stop, step, DType::Int64).to(dt);
  // ceil((stop - start) / step) without overflow.
  const __int128 span = (__int128)stop - start;
  __int128 q = span / step;
  if (q * step != span && ((span > 0) == (step > 0))) q += 1;
  TG_CHECK(q <= (std::numeric_limits<int64_t>::max() >> 4), "arange: maximum allowed size exceeded (arange(", start,
           ", ", stop, ", ", step, ") would have ", double(q), " elements)");
  const int64_t len = q > 0 ? int64_t(q) : 0;
  // numpy: the arguments must fit an Int32 result (later values wrap, as numpy's do).
  TG_CHECK_T(OverflowError, dt != DType::Int32 || (start >= INT32_MIN && start <= INT32_MAX), "arange: Python integer ",
             start, " out of bounds for int32");
  check_bool_arange(len, dt);
  Tensor out = new_tensor(Shape{len}, dt, "arange");
  kernels::arange_int(out, start, step);
  return out;
}

Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dt) {
  TG_CHECK(num >= 0, "linspace: number of samples, ", num, ", must be non-negative");
  TG_CHECK(!std::isnan(start) && !std::isnan(stop), "linspace: start and stop must not be NaN");
  if (is_complex(dt)) return linspace(start, stop, num, endpoint, real_dtype(dt)).to(dt);
  Tensor out = new_tensor(Shape{num}, dt, "linspace");
  kernels::linspace(out, start, stop, endpoint);
  return out;
}

Tensor eye(int64_t n, int64_t m, int64_t k, DType dt) {
  TG_CHECK(n >= 0 && m >= 0, "eye: N and M must be non-negative, got N=", n, ", M=", m);
  if (is_complex(dt)) return eye(n, m, k, real_dtype(dt)).to(dt);
  Tensor out = new_tensor(Shape{n, m}, dt, "eye");
  kernels::eye(out, k);
  return out;
}

}  // namespace ops
}  // namespace tapegrad
