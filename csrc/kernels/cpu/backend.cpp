// The CPU backend's entry in the device table (Note [Kernel dispatch] in kernels/dispatch.h).
#include "kernels/cpu/cpu.h"
#include "kernels/dispatch.h"

namespace tapegrad {
namespace kernels {
namespace cpu {
namespace {

// Filled by name (a constant expression, so the table is ready before any static initializer runs).
constexpr Backend make_backend() {
  Backend b{};
  b.name = "cpu";
  b.binary = binary;
  b.compare = compare;
  b.unary = unary;
  b.predicate = predicate;
  b.clip = clip;
  b.where = where;
  b.copy = copy;
  b.fill = fill;
  b.reduce = reduce;
  b.scan = scan;
  b.softmax = softmax;
  b.sort = sort;
  b.gather_axis = gather_axis;
  b.invert_permutation = invert_permutation;
  b.repeat_axis = repeat_axis;
  b.segment_sum = segment_sum;
  b.index_gather = index_gather;
  b.index_scatter = index_scatter;
  b.index_last_writer = index_last_writer;
  b.count_true = count_true;
  b.nonzero = nonzero;
  b.index_pack = index_pack;
  b.arange = arange;
  b.arange_int = arange_int;
  b.linspace = linspace;
  b.eye = eye;
  b.random_fill = random_fill;
  b.random_int_fill = random_int_fill;
  b.matmul = matmul;
  b.solve = solve;
  b.inv = inv;
  b.cholesky = cholesky;
  b.slogdet = slogdet;
  b.det = det;
  b.svd = svd;
  b.eigh = eigh;
  b.qr = qr;
  b.eig = eig;
  b.fused_run = fused_run;
  return b;
}

}  // namespace

constexpr Backend kBackend = make_backend();

}  // namespace cpu
}  // namespace kernels
}  // namespace tapegrad
