// Bindings of the linalg family (module functions and Tensor methods).
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

void bind_linalg(py::module_& m) { (void)m; }

}  // namespace bind
}  // namespace tapegrad
