// Process-wide settings of the kernels, for the bindings (which include no kernels/ header,
// Note [Layer hooks]): the CPU thread pool, the SIMD path the CPU kernels take, the BLAS library;
// and the raw random generator, for known-answer tests.
#pragma once
#include <cstdint>

namespace tapegrad {
namespace ops {

// The SIMD path the CPU kernels take ("sse2", "avx2", "avx512", ...).
const char* simd_path();
// Testing hook: run the CPU kernels with the named path ("sse2", "avx2", "avx512", or "best");
// false when this CPU cannot run it.
bool set_simd_path(const char* name);
int num_threads();
// The thread pool's counters (kernels::PoolStats): shared and alone regions, stalls, wait in ns.
void pool_stats(int64_t out[5]);
// 1 <= n <= max(64, 4 * hardware threads); ValueError otherwise.
void set_num_threads(int64_t n);
int blas_num_threads();
const char* blas_config();
// OpenBLAS's thread count follows the kernel pool's (Note [BLAS threads]).
void sync_blas_threads();
// One block of Philox 4x32-10 (kernels/creation.h).
void philox_block(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

}  // namespace ops
}  // namespace tapegrad
