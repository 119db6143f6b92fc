// Moving tensors between devices, and the table a device plugin receives (Note [Device plugins] in
// core/storage.h), for the bindings (which include no kernels/ header).
#pragma once

#include "core/tensor.h"

namespace tapegrad {
namespace ops {

// `t` on `dev` (itself when already there). A tensor a transform tracks is refused: the move is
// not recorded on any tape yet, so its derivative would be lost.
Tensor to_device(const Tensor& t, Device dev);
// kernels::plugin_api(), as the opaque pointer the PyCapsule _core._device_plugin_api carries.
const void* device_plugin_api();

}  // namespace ops
}  // namespace tapegrad
