// Creation and random ops.
#pragma once
#include <cstdint>
#include <utility>

#include "core/tensor.h"

namespace tapegrad {
namespace ops {

// Throws ValueError naming `op` for negative dimensions or an element count that does not fit.
void check_new_shape(const Shape& shape, const char* op);

// Uninitialised memory, as numpy's empty.
Tensor empty(const Shape& shape, DType dt);
Tensor zeros(const Shape& shape, DType dt);
Tensor ones(const Shape& shape, DType dt);
Tensor full(const Shape& shape, double value, DType dt);
// `value` (broadcastable to `shape`) cast to dt and broadcast; differentiable in `value`.
Tensor full(const Shape& shape, const Tensor& value, DType dt);
Tensor zeros_like(const Tensor& a);
Tensor zeros_like(const Tensor& a, DType dt);
Tensor ones_like(const Tensor& a);
Tensor ones_like(const Tensor& a, DType dt);
Tensor full_like(const Tensor& a, const Tensor& value, DType dt);

// numpy's arange: ceil((stop - start) / step) elements, filled as numpy fills them.
Tensor arange(double start, double stop, double step, DType dt);
// Exact for large integers.
Tensor arange_int(int64_t start, int64_t stop, int64_t step, DType dt);
Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dt);
// n x m with ones on diagonal k (k > 0 above the main diagonal).
Tensor eye(int64_t n, int64_t m, int64_t k, DType dt);

// Counter-based (Philox 4x32-10) random numbers: a (seed, counter) pair fixes every value,
// whatever the thread count. Every call advances the global counter past the blocks it used,
// so successive calls differ and set_seed(s) replays the same sequence.
void set_seed(uint64_t seed);
uint64_t get_seed();
// The whole generator state (seed, next block): tg.checkpoint saves it at the forward and puts it
// back for the recomputation, so random ops draw the same numbers again.
std::pair<uint64_t, uint64_t> rng_state();
void set_rng_state(uint64_t seed, uint64_t next_block);
Tensor rand_uniform(const Shape& shape, double low, double high, DType dt);
Tensor rand_normal(const Shape& shape, double mean, double stddev, DType dt);
Tensor randint(const Shape& shape, int64_t low, int64_t high, DType dt);

}  // namespace ops
}  // namespace tapegrad
