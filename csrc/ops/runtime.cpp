// See ops/runtime.h.
#include "ops/runtime.h"

#include "kernels/creation.h"
#include "kernels/kernels.h"
#include "kernels/linalg.h"

namespace tapegrad {
namespace ops {

const char* simd_path() { return kernels::cpu_simd_path(); }
bool set_simd_path(const char* name) { return kernels::set_cpu_simd_path(name); }
int num_threads() { return kernels::num_threads(); }
void pool_stats(int64_t out[5]) {
  const kernels::PoolStats st = kernels::pool_stats();
  out[0] = st.shared;
  out[1] = st.alone;
  out[2] = st.stalls;
  out[3] = st.wait_ns;
  out[4] = st.worker_chunks;
}
void set_num_threads(int64_t n) { kernels::set_num_threads(n); }
int blas_num_threads() { return kernels::blas_num_threads(); }
const char* blas_config() { return kernels::blas_config(); }
void sync_blas_threads() { kernels::sync_blas_threads(); }
void philox_block(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  kernels::Philox::block(ctr, key, out);
}

}  // namespace ops
}  // namespace tapegrad
