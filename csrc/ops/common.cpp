#include "ops/common.h"

#include "ops/ops.h"

namespace tapegrad {
namespace ops {

Tensor opt_add(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return add(a, b);
}
Tensor opt_sub(const Tensor& a, const Tensor& b) {
  if (!b.defined()) return a;
  if (!a.defined()) return neg(b);
  return sub(a, b);
}
Tensor opt_neg(const Tensor& a) { return a.defined() ? neg(a) : a; }

std::string describe(const Tensor& t) {
  return str_cat("Tensor(shape=", shape_str(t.shape()), ", dtype=", dtype_name(t.dtype()), ")");
}

}  // namespace ops
}  // namespace tapegrad
