// The CUDA backend's entry in the device table (Note [Kernel dispatch] in kernels/dispatch.h),
// registered by the tapegrad._cuda plugin when a GPU is found (plugin.cpp).
#include "kernels/cuda/cuda.h"

namespace tapegrad {
namespace kernels {
namespace cuda {
namespace {

// A kernel family without a CUDA implementation yet: a NotImplementedError naming it and saying
// what to do, never a null call.
[[noreturn]] void missing(const char* kernel) {
  fail(kNotImplemented, "%s: not implemented on the GPU yet; move the tensors to the CPU with .to(\"CPU\")", kernel);
}

constexpr Backend make_backend() {
  Backend b{};
  b.name = "cuda";
  b.binary = binary;
  b.compare = compare;
  b.unary = unary;
  b.predicate = predicate;
  b.clip = clip;
  b.where = where;
  b.copy = copy;
  b.fill = fill;
  b.reduce = reduce;
  b.matmul = matmul;
  b.index_gather = index_gather;
  b.index_scatter = index_scatter;
  b.invert_permutation = invert_permutation;
  b.gather_axis = gather_axis;
  b.softmax = softmax;
  b.scan = scan;
  // Not yet on the GPU (the report of issue 13 lists them).
  b.sort = [](const Tensor&, const Tensor&, const Tensor&, int64_t, bool) { missing("sort/argsort"); };
  b.repeat_axis = [](const Tensor&, const Tensor&, const Tensor&, int64_t) { missing("repeat"); };
  b.segment_sum = [](const Tensor&, const Tensor&, const Tensor&, int64_t) { missing("repeat (gradient)"); };
  b.index_last_writer = [](const Tensor&, const Tensor&, const int64_t*) { missing("indexing (setitem)"); };
  b.count_true = [](const Tensor&) -> int64_t { missing("boolean mask indexing"); };
  b.nonzero = [](const Tensor&, const Tensor&) { missing("nonzero"); };
  b.index_pack = [](const Tensor&, const std::vector<Tensor>&, const int64_t*, int64_t*) -> int {
    missing("indexing");
  };
  b.arange = [](const Tensor&, double, double) { missing("arange"); };
  b.arange_int = [](const Tensor&, int64_t, int64_t) { missing("arange"); };
  b.linspace = [](const Tensor&, double, double, bool) { missing("linspace"); };
  b.eye = [](const Tensor&, int64_t) { missing("eye"); };
  b.random_fill = [](const Tensor&, RandDist, uint64_t, uint64_t, double, double) { missing("random"); };
  b.random_int_fill = [](const Tensor&, uint64_t, uint64_t, int64_t, uint64_t) { missing("randint"); };
  b.solve = [](const Tensor&, const Tensor&, const Tensor&) -> int64_t { missing("linalg.solve"); };
  b.inv = [](const Tensor&, const Tensor&) -> int64_t { missing("linalg.inv"); };
  b.cholesky = [](const Tensor&, const Tensor&) -> int64_t { missing("linalg.cholesky"); };
  b.slogdet = [](const Tensor&, const Tensor&, const Tensor&) { missing("linalg.slogdet"); };
  b.det = [](const Tensor&, const Tensor&) { missing("linalg.det"); };
  b.svd = [](const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, bool) -> int64_t {
    missing("linalg.svd");
  };
  b.eigh = [](const Tensor&, const Tensor&, const Tensor&, bool, bool) -> int64_t { missing("linalg.eigh"); };
  b.qr = [](const Tensor&, const Tensor&, const Tensor&, bool) { missing("linalg.qr"); };
  b.eig = [](const Tensor&, const Tensor&, const Tensor&, bool) -> int64_t { missing("linalg.eig"); };
  // jit fusion fuses CPU values only (autodiff/fusion.cpp): never reached.
  b.fused_run = [](const FusedKernel&, const Tensor*, const Tensor*, const Tensor*) { missing("fused jit kernel"); };
  return b;
}

}  // namespace

constexpr Backend kBackend = make_backend();

}  // namespace cuda
}  // namespace kernels
}  // namespace tapegrad
