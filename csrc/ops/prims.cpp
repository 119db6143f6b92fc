#include "ops/prims.h"

namespace tapegrad {
namespace ops {

PrimRegistry all_prims() {
  PrimRegistry r;
  add_elementwise_prims(r);
  add_index_prims(r);
  add_linalg_prims(r);
  add_random_prims(r);
  add_reduce_prims(r);
  add_shape_prims(r);
  add_sort_prims(r);
  return r;
}

}  // namespace ops
}  // namespace tapegrad
