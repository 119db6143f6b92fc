// Counter-based random numbers on the CPU: Philox 4x32-10 blocks turned into uniform, normal and
// integer samples. Every element draws from a fixed block of the stream, so a (seed, counter) pair
// gives the same values whatever the number of threads or the chunking.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/iter.h"
#include "kernels/cpu/loops.h"
#include "kernels/creation.h"

namespace tapegrad {
namespace kernels {

// Philox 4x32: each round multiplies words 0 and 2 by fixed odd constants, swaps the halves
// around and mixes in the round key; the key is bumped by Weyl constants between rounds. The
// reference form; philox_simd.h computes many blocks at once on each SIMD path, to the same words.
void Philox::block(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // multipliers
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key bumps (golden ratio, sqrt(3) - 1)
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; ++r) {
    if (r) {
      k0 += kW0;
      k1 += kW1;
    }
    const uint64_t p0 = uint64_t(kM0) * c0;
    const uint64_t p1 = uint64_t(kM1) * c2;
    const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr double k2m24 = 1.0 / 16777216.0;          // 2^-24
constexpr double k2m32 = 1.0 / 4294967296.0;        // 2^-32
constexpr double k2m53 = 1.0 / 9007199254740992.0;  // 2^-53

// Blocks generated at a time into a stack buffer before they are turned into samples.
constexpr int kBatch = 256;

// Run `body(words, first_block_index, count)` over every batch of the blocks [0, nblocks) of a
// fill, the batches spread over threads. Each batch sees the same words on any thread count.
template <class Body>
void for_blocks(int64_t nblocks, uint64_t seed, uint64_t first, int64_t grain, const Body& body) {
  const cpu::PhiloxWords words = cpu::isa().philox_words;  // this SIMD path's form (philox_simd.h)
  cpu::parallel_for(nblocks, grain, [&](int64_t b0, int64_t b1) {
    alignas(64) uint32_t w[4 * kBatch];
    for (int64_t b = b0; b < b1; b += kBatch) {
      const int m = int(std::min<int64_t>(kBatch, b1 - b));
      words(seed, first + uint64_t(b), m, w);
      body(w, b, m);
    }
  });
}

// Uniform in [0, 1) with 24 bits (float32/float16) or 53 bits (two words, float64).
inline double u24(uint32_t w) { return double(w >> 8) * k2m24; }
inline double u53(uint32_t a, uint32_t b) { return (double(a >> 5) * 67108864.0 + double(b >> 6)) * k2m53; }
// In (0, 1]: safe to take the log of.
inline double u32_open0(uint32_t w) { return (double(w) + 1.0) * k2m32; }
inline double u53_open0(uint32_t a, uint32_t b) { return u53(a, b) + k2m53; }

// Samples per block for each distribution and dtype.
int per_block(RandDist dist, DType dt) {
  const bool wide = dt == DType::Float64;
  switch (dist) {
    case RandDist::Uniform: return wide ? 2 : 4;
    case RandDist::Normal: return wide ? 2 : 4;
    case RandDist::Int: return 2;
  }
  return 1;
}

// Rounds a sample in [low, high] to T, keeping it strictly below T(high) when high > low
// (rounding can otherwise land on high itself).
template <class T>
struct StoreBelow {
  T hi, below;
  bool clamp;
  StoreBelow(double high, bool c)
      : hi(static_cast<T>(high)), below(std::nextafter(hi, -std::numeric_limits<T>::infinity())), clamp(c) {}
  T operator()(double v) const {
    const T r = static_cast<T>(v);
    return (clamp && !(r < hi)) ? below : r;
  }
};
template <>
struct StoreBelow<Half> {
  float hi;
  uint16_t below;
  bool clamp;
  StoreBelow(double high, bool c) : clamp(c) {
    const uint16_t h = float_to_half(float(high));
    hi = half_to_float(h);
    // The next half towards -inf.
    below = h == 0x0000u ? uint16_t(0x8001u) : (h & 0x8000u) ? uint16_t(h + 1) : uint16_t(h - 1);
  }
  Half operator()(double v) const {
    const uint16_t r = float_to_half(float(v));
    return Half{(clamp && !(half_to_float(r) < hi)) ? below : r};
  }
};

template <class T>
void uniform_fill(T* p, int64_t n, uint64_t seed, uint64_t first, double low, double high) {
  const double scale = high - low;
  const StoreBelow<T> store(high, high > low);
  const int64_t nblocks = int64_t(random_blocks(RandDist::Uniform, dtype_of<T>::value, n));
  for_blocks(nblocks, seed, first, 1 << 13, [&](const uint32_t* w, int64_t b, int m) {
    if constexpr (std::is_same<T, double>::value) {
      const int64_t i0 = 2 * b, cnt = std::min<int64_t>(2 * int64_t(m), n - i0);
      for (int64_t j = 0; j < cnt; ++j) p[i0 + j] = store(low + scale * u53(w[2 * j], w[2 * j + 1]));
    } else {
      const int64_t i0 = 4 * b, cnt = std::min<int64_t>(4 * int64_t(m), n - i0);
      for (int64_t j = 0; j < cnt; ++j) p[i0 + j] = store(low + scale * u24(w[j]));
    }
  });
}

template <class T>
inline T to_elem(double v) {
  return static_cast<T>(v);
}
template <>
inline Half to_elem<Half>(double v) {
  return Half{float_to_half(float(v))};
}

// Box-Muller: (u1, u2) -> sqrt(-2 ln u1) * (cos 2 pi u2, sin 2 pi u2), two independent normals.
// float64 takes a whole block per pair (53-bit uniforms); float32/float16 take two words per pair
// (u1 with 32 bits, so the tails reach 6.7 sigma; u2 with 24).
template <class T>
void normal_fill(T* p, int64_t n, uint64_t seed, uint64_t first, double mean, double stddev) {
  const int64_t nblocks = int64_t(random_blocks(RandDist::Normal, dtype_of<T>::value, n));
  for_blocks(nblocks, seed, first, 1 << 11, [&](const uint32_t* w, int64_t b, int m) {
    if constexpr (std::is_same<T, double>::value) {
      const int64_t i0 = 2 * b, cnt = std::min<int64_t>(2 * int64_t(m), n - i0);
      for (int64_t j = 0; 2 * j < cnt; ++j) {
        const uint32_t* q = w + 4 * j;
        const double r = std::sqrt(-2.0 * std::log(u53_open0(q[0], q[1])));
        const double t = kTwoPi * u53(q[2], q[3]);
        p[i0 + 2 * j] = mean + stddev * (r * std::cos(t));
        if (2 * j + 1 < cnt) p[i0 + 2 * j + 1] = mean + stddev * (r * std::sin(t));
      }
    } else {
      const int64_t i0 = 4 * b, cnt = std::min<int64_t>(4 * int64_t(m), n - i0);
      for (int64_t j = 0; 2 * j < cnt; ++j) {
        const float r = std::sqrt(-2.0f * std::log(float(u32_open0(w[2 * j]))));
        const float t = float(kTwoPi * u24(w[2 * j + 1]));
        p[i0 + 2 * j] = to_elem<T>(mean + stddev * double(r * std::cos(t)));
        if (2 * j + 1 < cnt) p[i0 + 2 * j + 1] = to_elem<T>(mean + stddev * double(r * std::sin(t)));
      }
    }
  });
}

template <class T>
void int_fill(T* p, int64_t n, uint64_t seed, uint64_t first, int64_t low, uint64_t range) {
  const int64_t nblocks = int64_t(random_blocks(RandDist::Int, dtype_of<T>::value, n));
  for_blocks(nblocks, seed, first, 1 << 13, [&](const uint32_t* w, int64_t b, int m) {
    const int64_t i0 = 2 * b, cnt = std::min<int64_t>(2 * int64_t(m), n - i0);
    for (int64_t j = 0; j < cnt; ++j) {
      // 64 random bits scaled to [0, range): bias at most range / 2^64.
      const uint64_t x = uint64_t(w[2 * j]) | (uint64_t(w[2 * j + 1]) << 32);
      const uint64_t r = uint64_t((unsigned __int128)x * range >> 64);
      p[i0 + j] = static_cast<T>(int64_t(uint64_t(low) + r));
    }
  });
}

}  // namespace

uint64_t random_blocks(RandDist dist, DType dt, int64_t n) {
  const int k = per_block(dist, dt);
  return uint64_t((n + k - 1) / k);
}

namespace cpu {

void random_fill(const Tensor& out, RandDist dist, uint64_t seed, uint64_t first_block, double a, double b) {
  const int64_t n = out.numel();
  switch (out.dtype()) {
    case DType::Float16:
      if (dist == RandDist::Uniform) uniform_fill(out.data<Half>(), n, seed, first_block, a, b);
      else normal_fill(out.data<Half>(), n, seed, first_block, a, b);
      break;
    case DType::Float32:
      if (dist == RandDist::Uniform) uniform_fill(out.data<float>(), n, seed, first_block, a, b);
      else normal_fill(out.data<float>(), n, seed, first_block, a, b);
      break;
    case DType::Float64:
      if (dist == RandDist::Uniform) uniform_fill(out.data<double>(), n, seed, first_block, a, b);
      else normal_fill(out.data<double>(), n, seed, first_block, a, b);
      break;
    default: throw DTypeError(str_cat("random: dtype ", out.dtype(), " is not a float dtype"));
  }
}

void random_int_fill(const Tensor& out, uint64_t seed, uint64_t first_block, int64_t low, uint64_t range) {
  const int64_t n = out.numel();
  switch (out.dtype()) {
    case DType::Int32: int_fill(out.data<int32_t>(), n, seed, first_block, low, range); break;
    case DType::Int64: int_fill(out.data<int64_t>(), n, seed, first_block, low, range); break;
    case DType::Int8: int_fill(out.data<int8_t>(), n, seed, first_block, low, range); break;
    case DType::Int16: int_fill(out.data<int16_t>(), n, seed, first_block, low, range); break;
    case DType::UInt8: int_fill(out.data<uint8_t>(), n, seed, first_block, low, range); break;
    case DType::UInt16: int_fill(out.data<uint16_t>(), n, seed, first_block, low, range); break;
    case DType::UInt32: int_fill(out.data<uint32_t>(), n, seed, first_block, low, range); break;
    case DType::UInt64: int_fill(out.data<uint64_t>(), n, seed, first_block, low, range); break;
    default: throw DTypeError(str_cat("randint: dtype ", out.dtype(), " is not an integer dtype"));
  }
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
