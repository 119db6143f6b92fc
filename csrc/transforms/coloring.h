// Graph colorings of sparsity patterns for compressed Jacobians and Hessians (Note [Coloring]).
#pragma once
#include <cstdint>
#include <vector>

namespace tapegrad {
namespace transforms {

// Note [Coloring]
// ~~~~~~~~~~~~~~~
// A sparse Jacobian J (m x n) is computed from J S, S the n x k seed matrix whose column c is the
// indicator of the columns colored c: when no two columns of one color have a non-zero in the same
// row (a distance-1 coloring of the column intersection graph), J[i, j] = (J S)[i, color[j]]. Row
// coloring for reverse mode is the column coloring of J^T. Greedy coloring gives each vertex, in a
// chosen order, the smallest color its conflicting vertices do not use; every coloring needs at
// least max_i nnz(row i) colors (a lower bound the tests report).
//
// A symmetric Hessian H uses a star coloring of its adjacency graph (i ~ j when H[i, j] != 0,
// i != j): a distance-1 coloring in which every path on four vertices uses at least three colors
// (Coleman and More 1984; Gebremedhin, Manne and Pothen 2005). It is exactly the condition under
// which each H[i, j] can be read directly from H S: either j is the only column of its color with a
// non-zero in row i, and H[i, j] = (H S)[i, color[j]], or symmetrically for H[j, i]. An arrow
// (one dense row and column) needs 2 colors this way, against n for a distance-1 column coloring.
// Patterns come in as CSR arrays (indptr of n_rows + 1 entries, column indices).

// Vertex orders for the greedy colorings.
// Dsatur is dynamic (Brelaz): next the vertex whose neighbours already use the most distinct colors;
// slower, and better on stencils (the 5-point Laplacian: 5 colors, the lower bound, where the static
// orders need 7).
enum class ColorOrder : int { Natural = 0, LargestFirst = 1, SmallestLast = 2, Dsatur = 3 };

// Distance-1 coloring of the columns of an n_rows x n_cols CSR pattern: columns sharing a row get
// different colors. Colors are 0..k-1.
std::vector<int32_t> color_columns(const int64_t* indptr, const int64_t* indices, int64_t n_rows, int64_t n_cols,
                                   ColorOrder order);

// Star coloring of the symmetric n x n pattern (CSR holding both triangles; the diagonal is ignored).
std::vector<int32_t> star_color(const int64_t* indptr, const int64_t* indices, int64_t n, ColorOrder order);

// For every stored entry k of the symmetric pattern (row i, column indices[k] = j): the flat index
// into the compressed n x num_colors matrix B = H S where H[i, j] is read (i * num_colors + c).
// Throws when the coloring does not allow direct recovery (not a star coloring).
std::vector<int64_t> star_recovery(const int64_t* indptr, const int64_t* indices, int64_t n, const int32_t* colors,
                                   int32_t num_colors);

}  // namespace transforms
}  // namespace tapegrad
