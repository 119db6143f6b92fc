// The SIMD path of the CPU kernels (Note [SIMD dispatch] in loops.h): this CPU's features, read
// once, and the one kernel table in use, chosen on first use and swapped by set_isa.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/loops.h"

namespace tapegrad {
namespace kernels {
namespace cpu {

namespace {

struct CpuFeatures {
  bool avx2 = false;    // AVX2 and FMA (the avx2 table's -m flags)
  bool avx512 = false;  // AVX-512 F, DQ, BW, VL and FMA (the avx512 table's)
};

const CpuFeatures& features() {
  static const CpuFeatures f = [] {
    CpuFeatures r;
#if (defined(__x86_64__) || defined(__i386__)) && !defined(TAPEGRAD_NO_X86_SIMD)
    __builtin_cpu_init();
    const bool fma = __builtin_cpu_supports("fma");
    r.avx2 = __builtin_cpu_supports("avx2") && fma;
    r.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && fma;
#endif
    return r;
  }();
  return f;
}

// The default path: the best this CPU runs, or at most the one that TAPEGRAD_SIMD names
// (sse2|avx2|avx512; tapegrad/_config.py validates it and warns when it is clamped).
const IsaTable* best_isa() {
#ifndef TAPEGRAD_NO_X86_SIMD
  const char* env = std::getenv("TAPEGRAD_SIMD");
  const char* cap = env ? env : "";
  const bool below_avx512 = std::strcmp(cap, "sse2") == 0 || std::strcmp(cap, "avx2") == 0;
  if (!below_avx512 && features().avx512) return table_avx512();
  if (std::strcmp(cap, "sse2") != 0 && features().avx2) return table_avx2();
#endif
  return table_base();
}

std::atomic<const IsaTable*> g_isa{nullptr};

}  // namespace

bool cpu_has(const char* isa_name) {
  if (std::strcmp(isa_name, "sse2") == 0) return true;
  if (std::strcmp(isa_name, "avx2") == 0) return features().avx2;
  if (std::strcmp(isa_name, "avx512") == 0) return features().avx512;
  return false;
}

const IsaTable& isa() {
  const IsaTable* t = g_isa.load(std::memory_order_acquire);
  if (__builtin_expect(t == nullptr, 0)) {
    t = best_isa();
    g_isa.store(t, std::memory_order_release);
  }
  return *t;
}

bool set_isa(const char* name) {
  if (std::strcmp(name, "best") == 0) {
    g_isa.store(best_isa(), std::memory_order_release);
    return true;
  }
  if (!cpu_has(name)) return false;
#ifndef TAPEGRAD_NO_X86_SIMD
  if (std::strcmp(name, "avx512") == 0) {
    g_isa.store(table_avx512(), std::memory_order_release);
    return true;
  }
  if (std::strcmp(name, "avx2") == 0) {
    g_isa.store(table_avx2(), std::memory_order_release);
    return true;
  }
#endif
  g_isa.store(table_base(), std::memory_order_release);
  return true;
}

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
