// The words of Philox 4x32-10 blocks (Philox::block in random.cpp), several blocks side by side in
// vector lanes: 16 per step with AVX-512, 8 with AVX2, one at a time otherwise. Included by each
// loops_<isa>.cpp inside namespace TG_ISA_NS (Note [SIMD dispatch] in loops.h); every form gives
// the scalar form's words, in the same order, so random draws do not depend on the path.
#pragma once
#include <cstdint>

#include "kernels/creation.h"

#ifndef TG_ISA_NS
#error "philox_simd.h is included by loops_<isa>.cpp, which defines TG_ISA_NS"
#endif
#if defined(__AVX2__) && !defined(TAPEGRAD_NO_X86_SIMD)
#include <immintrin.h>
#endif

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace TG_ISA_NS {
namespace philox {

// Block b has the counter (b mod 2^32, b div 2^32, 0, 0) and the key (seed mod 2^32, seed div 2^32).
inline void words_scalar(uint64_t seed, uint64_t first, int n, uint32_t* out) {
  const uint32_t key[2] = {uint32_t(seed), uint32_t(seed >> 32)};
  for (int b = 0; b < n; ++b) {
    const uint64_t ctr = first + uint64_t(b);
    const uint32_t c[4] = {uint32_t(ctr), uint32_t(ctr >> 32), 0u, 0u};
    Philox::block(c, key, out + 4 * b);
  }
}

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key bumps

#if defined(__AVX512F__) && !defined(TAPEGRAD_NO_X86_SIMD)
// GCC 12.2's AVX-512 intrinsics start from _mm512_undefined_epi32(), which -Wmaybe-uninitialized
// reports once inlined (GCC bug 105593, fixed in 12.3); the values are all defined.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// 32x32 -> 64 multiply of each lane of `a` by the splat `m`: high and low words.
inline void mulhilo(__m512i a, __m512i m, __m512i& hi, __m512i& lo) {
  const __m512i pe = _mm512_mul_epu32(a, m);                         // even lanes
  const __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);  // odd lanes
  lo = _mm512_mask_blend_epi32(__mmask16(0xAAAA), pe, _mm512_slli_epi64(po, 32));
  hi = _mm512_mask_blend_epi32(__mmask16(0xAAAA), _mm512_srli_epi64(pe, 32), po);
}

// Sixteen blocks side by side, one per 32-bit lane.
inline void words(uint64_t seed, uint64_t first, int n, uint32_t* out) {
  const __m512i m0 = _mm512_set1_epi32(int(kM0)), m1 = _mm512_set1_epi32(int(kM1));
  int b = 0;
  for (; b + 16 <= n; b += 16) {
    alignas(64) uint32_t lo[16], hi[16];
    for (int j = 0; j < 16; ++j) {
      const uint64_t c = first + uint64_t(b + j);
      lo[j] = uint32_t(c);
      hi[j] = uint32_t(c >> 32);
    }
    __m512i c0 = _mm512_load_si512(lo), c1 = _mm512_load_si512(hi);
    __m512i c2 = _mm512_setzero_si512(), c3 = _mm512_setzero_si512();
    uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
    for (int r = 0; r < 10; ++r) {
      __m512i h0, l0, h1, l1;
      mulhilo(c0, m0, h0, l0);
      mulhilo(c2, m1, h1, l1);
      c0 = _mm512_xor_si512(_mm512_xor_si512(h1, c1), _mm512_set1_epi32(int(k0)));
      c2 = _mm512_xor_si512(_mm512_xor_si512(h0, c3), _mm512_set1_epi32(int(k1)));
      c1 = l1;
      c3 = l0;
      k0 += kW0;
      k1 += kW1;
    }
    // Transpose into block order (out[4 j + k] = word k of block j). Within each 128-bit lane q,
    // u_k holds block 4 q + k after the unpacks; the 128-bit shuffles then gather blocks 4 i ..
    // 4 i + 3 into output register i.
    const __m512i t0 = _mm512_unpacklo_epi32(c0, c1), t1 = _mm512_unpackhi_epi32(c0, c1);
    const __m512i t2 = _mm512_unpacklo_epi32(c2, c3), t3 = _mm512_unpackhi_epi32(c2, c3);
    const __m512i u0 = _mm512_unpacklo_epi64(t0, t2), u1 = _mm512_unpackhi_epi64(t0, t2);
    const __m512i u2 = _mm512_unpacklo_epi64(t1, t3), u3 = _mm512_unpackhi_epi64(t1, t3);
    const __m512i e01 = _mm512_shuffle_i64x2(u0, u1, 0x88), o01 = _mm512_shuffle_i64x2(u0, u1, 0xDD);
    const __m512i e23 = _mm512_shuffle_i64x2(u2, u3, 0x88), o23 = _mm512_shuffle_i64x2(u2, u3, 0xDD);
    uint32_t* o = out + 4 * b;
    _mm512_storeu_si512(o + 0, _mm512_shuffle_i64x2(e01, e23, 0x88));   // blocks 0-3
    _mm512_storeu_si512(o + 16, _mm512_shuffle_i64x2(o01, o23, 0x88));  // blocks 4-7
    _mm512_storeu_si512(o + 32, _mm512_shuffle_i64x2(e01, e23, 0xDD));  // blocks 8-11
    _mm512_storeu_si512(o + 48, _mm512_shuffle_i64x2(o01, o23, 0xDD));  // blocks 12-15
  }
  words_scalar(seed, first + uint64_t(b), n - b, out + 4 * b);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#elif defined(__AVX2__) && !defined(TAPEGRAD_NO_X86_SIMD)
inline void mulhilo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
  const __m256i pe = _mm256_mul_epu32(a, m);                         // lanes 0, 2, 4, 6
  const __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);  // lanes 1, 3, 5, 7
  lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
  hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
}

// Eight blocks side by side, one per 32-bit lane.
inline void words(uint64_t seed, uint64_t first, int n, uint32_t* out) {
  const __m256i m0 = _mm256_set1_epi32(int(kM0)), m1 = _mm256_set1_epi32(int(kM1));
  int b = 0;
  for (; b + 8 <= n; b += 8) {
    alignas(32) uint32_t lo[8], hi[8];
    for (int j = 0; j < 8; ++j) {
      const uint64_t c = first + uint64_t(b + j);
      lo[j] = uint32_t(c);
      hi[j] = uint32_t(c >> 32);
    }
    __m256i c0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lo));
    __m256i c1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(hi));
    __m256i c2 = _mm256_setzero_si256(), c3 = _mm256_setzero_si256();
    uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
    for (int r = 0; r < 10; ++r) {
      __m256i h0, l0, h1, l1;
      mulhilo(c0, m0, h0, l0);
      mulhilo(c2, m1, h1, l1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(h1, c1), _mm256_set1_epi32(int(k0)));
      c2 = _mm256_xor_si256(_mm256_xor_si256(h0, c3), _mm256_set1_epi32(int(k1)));
      c1 = l1;
      c3 = l0;
      k0 += kW0;
      k1 += kW1;
    }
    // 4 x 8 transpose into block order: out[4 j + k] = word k of block j.
    const __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    const __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // blocks 0|4, 1|5
    const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // blocks 2|6, 3|7
    __m256i* o = reinterpret_cast<__m256i*>(out + 4 * b);
    _mm256_storeu_si256(o + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
  }
  words_scalar(seed, first + uint64_t(b), n - b, out + 4 * b);
}
#else
inline void words(uint64_t seed, uint64_t first, int n, uint32_t* out) { words_scalar(seed, first, n, out); }
#endif

}  // namespace philox
}  // namespace TG_ISA_NS
}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
