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
// Note [Size arithmetic]
// ~~~~~~~~~~~~~~~~~~~~~~
// Every tensor satisfies: each dimension >= 0, and the product of its non-zero dimensions times
// its itemsize fits in int64 (numpy's rule: then every element count, byte count, stride and
// offset computed from the shape fits too, even for a tensor with a zero dimension). Ops that
// compute an output shape check it with `checked_numel` naming themselves; Tensor::empty and
// Tensor::from_storage check every tensor made, so no path builds a tensor that breaks the rule.
// Returns the number of elements; throws ValueError naming `op` and the shape otherwise.
int64_t checked_numel(const Shape& s, size_t itemsize, const char* op);
// a * b for sizes, throwing ValueError naming `op` when it overflows int64.
int64_t checked_mul(int64_t a, int64_t b, const char* op);
int64_t checked_add(int64_t a, int64_t b, const char* op);
Strides contiguous_strides(const Shape& s);
std::string shape_str(const Shape& s);  // "(2, 3)"
inline std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << shape_str(s); }

// numpy broadcasting; throws ShapeError naming `op` when the shapes do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Normalise a possibly negative axis against ndim; throws IndexError naming `op`.
int64_t norm_axis(int64_t axis, int64_t ndim, const char* op);

}  // namespace tapegrad
