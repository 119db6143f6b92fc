// The tables of Note [Layer hooks] (core/layer_hooks.h), filled by the layers above core.
#include "core/layer_hooks.h"

#include "core/error.h"

namespace tapegrad {

void detail::layer_hook_missing() {
  throw Error(
      "tapegrad: a layer above core is not linked in (kernels/dispatch.cpp or ops/layer_hooks.cpp "
      "fills the tables of core/layer_hooks.h)");
}

KernelHooks g_kernel_hooks;
OpHooks g_op_hooks;

}  // namespace tapegrad
