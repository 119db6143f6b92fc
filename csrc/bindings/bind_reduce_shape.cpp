// Bindings of the reduce_shape family (module functions and Tensor methods).
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

void bind_reduce_shape(py::module_& m) { (void)m; }

}  // namespace bind
}  // namespace tapegrad
