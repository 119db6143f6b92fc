// Kernels of the creation family: ranges, the identity, and counter-based random numbers.
// They fill a freshly allocated contiguous `out`; they know nothing of tapes.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace tapegrad {
namespace kernels {

// numpy's arange fill: out[0] = T(start), out[1] = T(start + step), then
// out[i] = out[0] + i * (out[1] - out[0]) computed in T (float16 in float32), as numpy does.
void arange(const Tensor& out, double start, double step);
// Exact integer form for integer dtypes: out[i] = start + i * step.
void arange_int(const Tensor& out, int64_t start, int64_t step);
// numpy's linspace: start + i * step in float64 (last element = stop when `endpoint`), floored
// for integer dtypes, then cast.
void linspace(const Tensor& out, double start, double stop, bool endpoint);
// out is 2-d and zero: ones on diagonal k.
void eye(const Tensor& out, int64_t k);

// ---- Philox 4x32-10 ----------------------------------------------------------------------
// Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC 2011).
// A bijection of a 128-bit counter keyed by 64 bits: block b of a stream gives 4 words, so the
// value of element i depends only on (key, first block, i), never on the thread count.
struct Philox {
  uint32_t key[2];
  static void block(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
};

enum class RandDist : uint8_t { Uniform, Normal, Int };

// Blocks of 4 words a fill of n elements consumes (the generator advances by this much).
uint64_t random_blocks(RandDist dist, DType dt, int64_t n);
// Fill `out` with values from blocks [first_block, first_block + random_blocks(...)) of `seed`.
// Uniform: [a, b). Normal: mean a, standard deviation b (Box-Muller). Float dtypes.
void random_fill(const Tensor& out, RandDist dist, uint64_t seed, uint64_t first_block, double a, double b);
// Int dtypes: low + a uniform integer in [0, range).
void random_int_fill(const Tensor& out, uint64_t seed, uint64_t first_block, int64_t low, uint64_t range);

}  // namespace kernels
}  // namespace tapegrad
