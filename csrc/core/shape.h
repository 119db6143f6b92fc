// Shapes, strides (in elements) and broadcasting.
#pragma once
#include <cstdint>
#include <ostream>
#include <string>

#include "core/small_vec.h"

namespace tapegrad {

using Shape = SmallVec<int64_t, 6>;
using Strides = SmallVec<int64_t, 6>;

int64_t numel(const Shape& s);
Strides contiguous_strides(const Shape& s);
std::string shape_str(const Shape& s);  // "(2, 3)"
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << shape_str(s); }

// numpy broadcasting; throws ShapeError naming `op` when the shapes do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Normalise a possibly negative axis against ndim; throws IndexError naming `op`.
int64_t norm_axis(int64_t axis, int64_t ndim, const char* op);

}  // namespace tapegrad
