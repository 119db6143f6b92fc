// Creation ops (not differentiable: they take no tensor inputs, or only a shape).
#include "ops/creation.h"

#include <cmath>

#include "kernels/kernels.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

Tensor zeros_like(const Tensor& a) { return Tensor::zeros(a.shape(), a.dtype(), a.device()); }
Tensor ones_like(const Tensor& a) { return Tensor::full(a.shape(), a.dtype(), 1.0, a.device()); }
Tensor full(const Shape& shape, double value, DType dt) { return Tensor::full(shape, dt, value); }

Tensor arange(double start, double stop, double step, DType dt) {
  TG_CHECK(step != 0, "arange: step must not be zero");
  double n = std::ceil((stop - start) / step);
  int64_t len = n > 0 ? int64_t(n) : 0;
  Tensor out = Tensor::empty(Shape{len}, DType::Float64);
  double* p = out.data<double>();
  for (int64_t i = 0; i < len; ++i) p[i] = start + double(i) * step;
  return out.to(dt);
}

}  // namespace ops
}  // namespace tapegrad
