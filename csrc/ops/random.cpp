// Random ops: the global generator state (seed, block counter) and the checks in front of the
// Philox kernels. Results are constants for every transform (nothing to differentiate).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>

#include "autodiff/trace.h"
#include "kernels/creation.h"
#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

// Used until set_seed is called, so that a fresh process is reproducible too (as in PyTorch).
constexpr uint64_t kDefaultSeed = 0x7a9e0d5eedULL;

struct Generator {
  std::mutex mu;
  uint64_t seed = kDefaultSeed;
  uint64_t next_block = 0;  // first unused Philox block of the stream
};
Generator& gen() {
  static Generator* g = new Generator();  // leaked on purpose: outlives static destructors
  return *g;
}

// Reserve `n` blocks: returns the seed and the first block. Concurrent callers get disjoint blocks.
std::pair<uint64_t, uint64_t> reserve(uint64_t n) {
  Generator& g = gen();
  std::lock_guard<std::mutex> lock(g.mu);
  const uint64_t first = g.next_block;
  g.next_block += n;
  return {g.seed, first};
}

void check_float(DType dt, const char* op) {
  TG_CHECK_DTYPE(is_float(dt), op, ": dtype must be a float dtype (Float16, Float32, Float64), got ", dtype_name(dt));
}

Tensor random_float(kernels::RandDist dist, const Shape& shape, double a, double b, DType dt, const char* op) {
  check_new_shape(shape, op);
  Tensor out = Tensor::empty(shape, dt);
  const auto sb = reserve(kernels::random_blocks(dist, dt, out.numel()));
  kernels::random_fill(out, dist, sb.first, sb.second, a, b);
  return out;
}

}  // namespace

void set_seed(uint64_t seed) {
  autodiff::note_impure("the function sets the random seed");
  Generator& g = gen();
  std::lock_guard<std::mutex> lock(g.mu);
  g.seed = seed;
  g.next_block = 0;
}

std::pair<uint64_t, uint64_t> rng_state() {
  Generator& g = gen();
  std::lock_guard<std::mutex> lock(g.mu);
  return {g.seed, g.next_block};
}

void set_rng_state(uint64_t seed, uint64_t next_block) {
  autodiff::note_impure("the function rewinds the random generator (tg.checkpoint around a random op)");
  Generator& g = gen();
  std::lock_guard<std::mutex> lock(g.mu);
  g.seed = seed;
  g.next_block = next_block;
}

uint64_t get_seed() {
  Generator& g = gen();
  std::lock_guard<std::mutex> lock(g.mu);
  return g.seed;
}

namespace {

// A draw is a prim with no tensor inputs (Note [Tape replay]): a tg.jit trace records it, so a
// replay draws fresh numbers, in the same order (and so the same values for a seed) as eager calls.
// attrs: ints = shape, then (randint) low and high; scalar/flag = the two float parameters.
Shape draw_shape(const Attrs& a, size_t extra) {
  return Shape(a.ints.begin(), a.ints.begin() + (a.ints.size() - extra));
}
double second_param(const Attrs& a) {
  double b;
  std::memcpy(&b, &a.flag, sizeof b);
  return b;
}
TensorList uniform_impl(const TensorList&, const Attrs& a) {
  return {random_float(kernels::RandDist::Uniform, draw_shape(a, 0), a.scalar, second_param(a), a.dtype, "uniform")};
}
TensorList normal_impl(const TensorList&, const Attrs& a) {
  return {random_float(kernels::RandDist::Normal, draw_shape(a, 0), a.scalar, second_param(a), a.dtype, "normal")};
}
TensorList randint_impl(const TensorList&, const Attrs& a) {
  const int64_t low = a.ints[a.ints.size() - 2], high = a.ints[a.ints.size() - 1];
  Tensor out = Tensor::empty(draw_shape(a, 2), a.dtype);
  const auto sb = reserve(kernels::random_blocks(kernels::RandDist::Int, a.dtype, out.numel()));
  kernels::random_int_fill(out, sb.first, sb.second, low, uint64_t(high) - uint64_t(low));
  return {out};
}
constexpr Prim kUniform = PrimDef("uniform").impl(uniform_impl).nondiff().api("uniform rand");
constexpr Prim kNormal = PrimDef("normal").impl(normal_impl).nondiff().api("normal randn");
constexpr Prim kRandint = PrimDef("randint").impl(randint_impl).nondiff();

Tensor draw(const Prim& p, const Shape& shape, double x, double y, DType dt) {
  Attrs a;
  for (int64_t d : shape) a.ints.push_back(d);
  a.scalar = x;
  std::memcpy(&a.flag, &y, sizeof y);
  a.dtype = dt;
  return autodiff::apply1(p, {}, a);
}

}  // namespace

Tensor rand_uniform(const Shape& shape, double low, double high, DType dt) {
  check_float(dt, "uniform");
  TG_CHECK(std::isfinite(low) && std::isfinite(high), "uniform: low (", low, ") and high (", high, ") must be finite");
  TG_CHECK(low <= high, "uniform: low (", low, ") must not be greater than high (", high, ")");
  check_new_shape(shape, "uniform");
  return draw(kUniform, shape, low, high, dt);
}

Tensor rand_normal(const Shape& shape, double mean, double stddev, DType dt) {
  check_float(dt, "normal");
  TG_CHECK(std::isfinite(mean) && std::isfinite(stddev), "normal: mean (", mean, ") and stddev (", stddev,
           ") must be finite");
  TG_CHECK(stddev >= 0, "normal: stddev must be non-negative, got ", stddev);
  check_new_shape(shape, "normal");
  return draw(kNormal, shape, mean, stddev, dt);
}

Tensor randint(const Shape& shape, int64_t low, int64_t high, DType dt) {
  TG_CHECK_DTYPE(is_int(dt), "randint: dtype must be an integer dtype, got ", dtype_name(dt));
  TG_CHECK(low < high, "randint: low (", low, ") must be less than high (", high, ")");
  TG_CHECK(low >= int_min(dt) && (high - 1 < 0 || uint64_t(high - 1) <= int_max_u64(dt)), "randint: the range [", low,
           ", ", high, ") does not fit in ", dtype_name(dt));
  check_new_shape(shape, "randint");
  Attrs a;
  for (int64_t d : shape) a.ints.push_back(d);
  a.ints.push_back(low);
  a.ints.push_back(high);
  a.dtype = dt;
  return autodiff::apply1(kRandint, {}, a);
}

void add_random_prims(PrimRegistry& r) {
  for (const Prim* p : {&kUniform, &kNormal, &kRandint}) r.push_back(p);
}

}  // namespace ops
}  // namespace tapegrad
