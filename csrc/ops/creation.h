// Creation and random ops.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tapegrad {
namespace ops {

Tensor zeros_like(const Tensor& a);
Tensor ones_like(const Tensor& a);
Tensor full(const Shape& shape, double value, DType dt);
Tensor arange(double start, double stop, double step, DType dt);
Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dt);
Tensor eye(int64_t n, int64_t m, int64_t k, DType dt);

// Counter-based (Philox 4x32-10) random numbers: a (seed, counter) pair fixes every value,
// whatever the thread count.
void set_seed(uint64_t seed);
Tensor rand_uniform(const Shape& shape, double low, double high, DType dt);
Tensor rand_normal(const Shape& shape, double mean, double stddev, DType dt);
Tensor randint(const Shape& shape, int64_t low, int64_t high, DType dt);

}  // namespace ops
}  // namespace tapegrad
