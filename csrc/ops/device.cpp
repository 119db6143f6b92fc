// See ops/device.h.
#include "ops/device.h"

#include "core/error.h"
#include "kernels/dispatch.h"

namespace tapegrad {
namespace ops {

Tensor to_device(const Tensor& t, Device dev) {
  if (t.device() == dev) return t;
  TG_CHECK(!t.tracked(), "to('", device_name(dev),
           "'): moving a tensor that a transform (grad, vjp, jvp, vmap, jit) tracks is not supported; "
           "move the inputs before the transform");
  return t.to_device(dev);
}

const void* device_plugin_api() { return &kernels::plugin_api(); }

}  // namespace ops
}  // namespace tapegrad
