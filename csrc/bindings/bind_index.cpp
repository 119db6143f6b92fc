// Bindings of the index family (module functions and Tensor methods).
#include "bindings/common.h"

namespace tapegrad {
namespace bind {

void bind_index(py::module_& m) { (void)m; }

}  // namespace bind
}  // namespace tapegrad
