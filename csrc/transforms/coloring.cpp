// Greedy colorings for sparse Jacobians and Hessians: see Note [Coloring] in transforms/coloring.h.
#include "transforms/coloring.h"

#include <algorithm>
#include <functional>
#include <numeric>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace tapegrad {
namespace transforms {

namespace {

// The transpose of a CSR pattern (its CSC form): indptr of n_cols + 1, row indices.
void transpose_pattern(const int64_t* indptr, const int64_t* indices, int64_t n_rows, int64_t n_cols,
                       std::vector<int64_t>& tptr, std::vector<int64_t>& tind) {
  tptr.assign(size_t(n_cols) + 1, 0);
  const int64_t nnz = indptr[n_rows];
  for (int64_t k = 0; k < nnz; ++k) ++tptr[size_t(indices[k]) + 1];
  for (int64_t j = 0; j < n_cols; ++j) tptr[size_t(j) + 1] += tptr[size_t(j)];
  tind.resize(size_t(nnz));
  std::vector<int64_t> pos(tptr.begin(), tptr.end() - 1);
  for (int64_t i = 0; i < n_rows; ++i)
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k) tind[size_t(pos[size_t(indices[k])]++)] = i;
}

void check_pattern(const int64_t* indptr, const int64_t* indices, int64_t n_rows, int64_t n_cols, const char* op) {
  TG_CHECK(indptr[0] == 0, op, ": indptr must start at 0");
  for (int64_t i = 0; i < n_rows; ++i) TG_CHECK(indptr[i + 1] >= indptr[i], op, ": indptr must be non-decreasing");
  for (int64_t k = 0; k < indptr[n_rows]; ++k)
    TG_CHECK_INDEX(indices[k] >= 0 && indices[k] < n_cols, op, ": column index ", indices[k], " out of range for ",
                   n_cols, " columns");
}

// Vertices by decreasing degree, ties in natural order: a counting sort where the degrees are at
// most a few times the vertex count (the usual case), else a stable sort.
std::vector<int64_t> by_degree(const std::vector<int64_t>& deg) {
  const int64_t n = int64_t(deg.size());
  std::vector<int64_t> ord(static_cast<size_t>(n));
  int64_t maxd = 0;
  for (int64_t d : deg) maxd = std::max(maxd, d);
  if (maxd > 4 * n + 1024) {
    std::iota(ord.begin(), ord.end(), int64_t(0));
    std::stable_sort(ord.begin(), ord.end(), [&](int64_t a, int64_t b) { return deg[size_t(a)] > deg[size_t(b)]; });
    return ord;
  }
  std::vector<int64_t> start(size_t(maxd) + 2, 0);  // start[maxd - d]: first position of degree d
  for (int64_t d : deg) ++start[size_t(maxd - d) + 1];
  for (int64_t b = 0; b <= maxd; ++b) start[size_t(b) + 1] += start[size_t(b)];
  for (int64_t v = 0; v < n; ++v) ord[size_t(start[size_t(maxd - deg[size_t(v)])]++)] = v;
  return ord;
}

// Vertices by decreasing degree (ties in natural order), or the smallest-last order of
// Matula and Beck on the given degrees and adjacency (deg[v] = number of neighbours).
template <class Neighbours>
std::vector<int64_t> vertex_order(int64_t n, const std::vector<int64_t>& deg, ColorOrder order, Neighbours&& nb) {
  if (order == ColorOrder::LargestFirst) return by_degree(deg);
  std::vector<int64_t> ord(static_cast<size_t>(n));
  std::iota(ord.begin(), ord.end(), int64_t(0));
  if (order == ColorOrder::SmallestLast) {
    // Repeatedly remove a vertex of smallest remaining degree (bucket queue); color in reverse.
    int64_t maxd = 0;
    for (int64_t d : deg) maxd = std::max(maxd, d);
    std::vector<int64_t> d(deg), head(size_t(maxd) + 1, -1), next(size_t(n), -1), prev(size_t(n), -1);
    std::vector<char> gone(size_t(n), 0);
    auto push = [&](int64_t v) {
      const size_t b = size_t(d[size_t(v)]);
      prev[size_t(v)] = -1;
      next[size_t(v)] = head[b];
      if (head[b] >= 0) prev[size_t(head[b])] = v;
      head[b] = v;
    };
    auto pop = [&](int64_t v) {
      const size_t b = size_t(d[size_t(v)]);
      if (prev[size_t(v)] >= 0) next[size_t(prev[size_t(v)])] = next[size_t(v)];
      else head[b] = next[size_t(v)];
      if (next[size_t(v)] >= 0) prev[size_t(next[size_t(v)])] = prev[size_t(v)];
    };
    for (int64_t v = n - 1; v >= 0; --v) push(v);
    int64_t low = 0;
    for (int64_t k = n - 1; k >= 0; --k) {
      low = std::max<int64_t>(low - 1, 0);
      while (head[size_t(low)] < 0) ++low;
      const int64_t v = head[size_t(low)];
      pop(v);
      gone[size_t(v)] = 1;
      ord[size_t(k)] = v;
      nb(v, [&](int64_t w) {
        if (gone[size_t(w)] || d[size_t(w)] == 0) return;
        pop(w);
        --d[size_t(w)];
        push(w);
      });
    }
  }
  return ord;
}

constexpr int kIteratedGreedyPasses = 8;

// Dsatur (Brelaz) on the column intersection graph (neighbours of column j: the other columns of
// j's rows). Next is always the uncolored column of most distinct neighbour colors (saturation),
// then of largest degree, then of smallest index: its rank in the order (degree descending, index
// ascending) breaks ties. The queue is a bucket per saturation: a min-heap of ranks for each
// saturation s >= 1, with lazy deletion (an entry whose column is colored or has a higher
// saturation by now is dropped when it comes up; each saturation increase pushes a new entry), and
// for saturation 0 the rank order itself, walked once. The buckets in use hold the front of the
// coloring only (a few hundred columns on a 300 x 300 grid): their heaps stay small and in cache,
// where one heap over all columns spent much of the time in cache misses.
// A column's neighbour colors below 64 are a bit mask, kept for uncolored columns as their
// neighbours are colored: the mask is then the exact set of colors below 64 the column may not
// take, so its color is read from the mask without visiting its neighbours, and each column's rows
// are walked once (to update its uncolored neighbours; a neighbour met twice through two rows has
// the bit set already, so no de-duplication is needed). Colors from 64 on (rare) go to a hash set
// of (column, color) pairs, and a column whose 64 low colors are all taken walks its rows for the
// smallest free color above them.
std::vector<int32_t> dsatur_columns(const int64_t* indptr, const int64_t* indices, int64_t n_cols,
                                    const std::vector<int64_t>& cptr, const std::vector<int64_t>& crow,
                                    const std::vector<int64_t>& deg) {
  std::vector<int32_t> color(size_t(n_cols), -1);
  std::vector<int64_t> sat(size_t(n_cols), 0), forbid;
  std::vector<uint64_t> seen_low(size_t(n_cols), 0);  // bit c: color c (< 64) is used by a neighbour
  std::unordered_set<uint64_t> seen_high;             // (column, color) pairs for colors >= 64
  const std::vector<int64_t> by_rank = by_degree(deg);
  std::vector<int64_t> rank(static_cast<size_t>(n_cols));
  for (int64_t r = 0; r < n_cols; ++r) rank[size_t(by_rank[size_t(r)])] = r;
  std::vector<std::vector<int64_t>> bucket(1);  // bucket[s], s >= 1: min-heap of ranks
  const auto later = std::greater<int64_t>();
  int64_t top = 0;   // no bucket above this one holds an entry
  int64_t next = 0;  // saturation 0: the columns before by_rank[next] are colored
  auto for_neighbours = [&](int64_t j, auto&& f) {
    for (int64_t k = cptr[size_t(j)]; k < cptr[size_t(j) + 1]; ++k) {
      const int64_t r = crow[size_t(k)];
      for (int64_t q = indptr[r]; q < indptr[r + 1]; ++q) f(indices[q]);
    }
  };
  for (int64_t done = 0; done < n_cols; ++done) {
    int64_t j = -1;
    while (top > 0 && j < 0) {
      std::vector<int64_t>& h = bucket[size_t(top)];
      while (!h.empty()) {
        std::pop_heap(h.begin(), h.end(), later);
        const int64_t v = by_rank[size_t(h.back())];
        h.pop_back();
        if (color[size_t(v)] < 0 && sat[size_t(v)] == top) {
          j = v;
          break;
        }
      }
      if (j < 0) --top;
    }
    if (j < 0) {
      // Every bucket above 0 is empty: no uncolored column has a colored neighbour, and the next
      // is the first uncolored one in rank order.
      while (color[size_t(by_rank[size_t(next)])] >= 0) ++next;
      j = by_rank[size_t(next)];
    }
    int32_t c = 0;
    const uint64_t free_low = ~seen_low[size_t(j)];
    if (free_low) {
      while (!((free_low >> c) & 1)) ++c;
    } else {
      for_neighbours(j, [&](int64_t w) {
        const int32_t cw = color[size_t(w)];
        if (cw >= 64) forbid[size_t(cw - 64)] = j;
      });
      c = 64;
      while (size_t(c - 64) < forbid.size() && forbid[size_t(c - 64)] == j) ++c;
      if (size_t(c - 64) == forbid.size()) forbid.push_back(-1);
    }
    color[size_t(j)] = c;
    // j itself is colored now, and skipped like every colored column.
    for_neighbours(j, [&](int64_t w) {
      if (color[size_t(w)] >= 0) return;
      if (c < 64) {
        const uint64_t bit = uint64_t(1) << c;
        if (seen_low[size_t(w)] & bit) return;
        seen_low[size_t(w)] |= bit;
      } else if (!seen_high.insert((uint64_t(w) << 24) | uint64_t(c)).second) {
        return;
      }
      const int64_t s = ++sat[size_t(w)];
      if (size_t(s) >= bucket.size()) bucket.resize(size_t(s) + 1);
      std::vector<int64_t>& h = bucket[size_t(s)];
      h.push_back(rank[size_t(w)]);
      std::push_heap(h.begin(), h.end(), later);
      top = std::max(top, s);
    });
  }
  return color;
}

}  // namespace

std::vector<int32_t> color_columns(const int64_t* indptr, const int64_t* indices, int64_t n_rows, int64_t n_cols,
                                   ColorOrder order) {
  check_pattern(indptr, indices, n_rows, n_cols, "color_columns");
  std::vector<int64_t> cptr, crow;
  transpose_pattern(indptr, indices, n_rows, n_cols, cptr, crow);
  // Degree of column j in the column intersection graph, bounded above by the sum of its rows'
  // lengths (exact degrees cost a pass with de-duplication; the bound orders as well in practice).
  std::vector<int64_t> deg(size_t(n_cols), 0);
  for (int64_t j = 0; j < n_cols; ++j)
    for (int64_t k = cptr[size_t(j)]; k < cptr[size_t(j) + 1]; ++k) {
      const int64_t r = crow[size_t(k)];
      deg[size_t(j)] += indptr[r + 1] - indptr[r] - 1;
    }
  if (order == ColorOrder::Dsatur) return dsatur_columns(indptr, indices, n_cols, cptr, crow, deg);
  std::vector<int64_t> mark(size_t(n_cols) + 1, -1);
  auto neighbours = [&](int64_t j, auto&& visit) {
    for (int64_t k = cptr[size_t(j)]; k < cptr[size_t(j) + 1]; ++k) {
      const int64_t r = crow[size_t(k)];
      for (int64_t q = indptr[r]; q < indptr[r + 1]; ++q) {
        const int64_t c = indices[q];
        if (c != j && mark[size_t(c)] != j) {
          mark[size_t(c)] = j;  // de-duplicate within this visit
          visit(c);
        }
      }
    }
  };
  std::vector<int64_t> ord;
  if (order == ColorOrder::SmallestLast) {
    // exact degrees for the bucket queue
    for (int64_t j = 0; j < n_cols; ++j) {
      int64_t cnt = 0;
      neighbours(j, [&](int64_t) { ++cnt; });
      deg[size_t(j)] = cnt;
    }
    std::fill(mark.begin(), mark.end(), -1);
    ord = vertex_order(n_cols, deg, order, [&](int64_t v, auto&& f) {
      // the de-duplication marks use the vertex id: reset them for each query
      for (int64_t k = cptr[size_t(v)]; k < cptr[size_t(v) + 1]; ++k) {
        const int64_t r = crow[size_t(k)];
        for (int64_t q = indptr[r]; q < indptr[r + 1]; ++q) {
          const int64_t c = indices[q];
          if (c != v && mark[size_t(c)] != -2 - v) {
            mark[size_t(c)] = -2 - v;
            f(c);
          }
        }
      }
    });
  } else {
    ord = vertex_order(n_cols, deg, order, [](int64_t, auto&&) {});
  }
  std::vector<int32_t> color(size_t(n_cols), -1);
  std::vector<int64_t> forbid;  // forbid[c] == j: color c is used by a neighbour of column j
  auto greedy = [&](const std::vector<int64_t>& order_) {
    std::fill(color.begin(), color.end(), -1);
    std::fill(forbid.begin(), forbid.end(), -1);
    int32_t used = 0;
    for (int64_t j : order_) {
      for (int64_t k = cptr[size_t(j)]; k < cptr[size_t(j) + 1]; ++k) {
        const int64_t r = crow[size_t(k)];
        for (int64_t q = indptr[r]; q < indptr[r + 1]; ++q) {
          const int32_t c = color[size_t(indices[q])];
          if (c >= 0) forbid[size_t(c)] = j;
        }
      }
      int32_t c = 0;
      while (size_t(c) < forbid.size() && forbid[size_t(c)] == j) ++c;
      if (size_t(c) == forbid.size()) forbid.push_back(-1);
      color[size_t(j)] = c;
      used = std::max(used, c + 1);
    }
    return used;
  };
  int32_t used = greedy(ord);
  // Iterated greedy (Culberson): coloring again in an order that keeps each color class together
  // never needs more colors, and taking the classes in reverse often needs fewer. Not tried once
  // the coloring reaches the lower bound (the most non-zeros in one row): no order does better.
  int64_t lower = 1;
  for (int64_t i = 0; i < n_rows; ++i) lower = std::max(lower, indptr[i + 1] - indptr[i]);
  std::vector<int32_t> best = color;
  for (int pass = 0; pass < kIteratedGreedyPasses && used > lower; ++pass) {
    std::vector<int64_t> by_class(static_cast<size_t>(n_cols));
    std::vector<int64_t> start(size_t(used) + 1, 0);
    for (int32_t c : best) ++start[size_t(used - 1 - c) + 1];
    for (int32_t c = 0; c < used; ++c) start[size_t(c) + 1] += start[size_t(c)];
    for (int64_t j : ord) by_class[size_t(start[size_t(used - 1 - best[size_t(j)])]++)] = j;
    const int32_t again = greedy(by_class);
    if (again >= used) {
      if (again == used) best = color;
      if (pass >= 2) break;
      continue;
    }
    used = again;
    best = color;
  }
  // Colors numbered in order of first appearance (a canonical labelling).
  std::vector<int32_t> relabel(size_t(used), -1);
  int32_t next = 0;
  for (int32_t& c : best) {
    if (relabel[size_t(c)] < 0) relabel[size_t(c)] = next++;
    c = relabel[size_t(c)];
  }
  return best;
}

std::vector<int32_t> star_color(const int64_t* indptr, const int64_t* indices, int64_t n, ColorOrder order) {
  check_pattern(indptr, indices, n, n, "star_color");
  // Adjacency without the diagonal.
  std::vector<int64_t> aptr(size_t(n) + 1, 0), adj;
  adj.reserve(size_t(indptr[n]));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k)
      if (indices[k] != i) adj.push_back(indices[k]);
    aptr[size_t(i) + 1] = int64_t(adj.size());
  }
  std::vector<int64_t> deg(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) deg[size_t(i)] = aptr[size_t(i) + 1] - aptr[size_t(i)];
  auto ord = vertex_order(n, deg, order, [&](int64_t v, auto&& f) {
    for (int64_t k = aptr[size_t(v)]; k < aptr[size_t(v) + 1]; ++k) f(adj[size_t(k)]);
  });
  // Bookkeeping that keeps each step proportional to v's own neighbourhood and the number of
  // colors, also next to a hub (an arrow's dense row), where walking the hub's neighbours for each
  // leaf would be quadratic:
  //   cnt[(x, c)]  how many neighbours of x have color c;
  //   ncol[x]      the distinct colors among x's neighbours;
  //   bad[w]       for a colored w: colors of the colored neighbours x of w that have another
  //                neighbour (besides w) colored like w. A vertex v next to w may not take them:
  //                v - w - x - y would be a two-colored path on four vertices.
  std::vector<int32_t> color(size_t(n), -1);
  std::unordered_map<uint64_t, int32_t> cnt;
  std::unordered_set<uint64_t> in_bad;
  std::vector<std::vector<int32_t>> ncol(static_cast<size_t>(n)), bad(static_cast<size_t>(n));
  auto key = [](int64_t x, int32_t c) { return (uint64_t(x) << 24) ^ uint64_t(c); };
  auto count_of = [&](int64_t x, int32_t c) {
    auto it = cnt.find(key(x, c));
    return it == cnt.end() ? 0 : it->second;
  };
  auto add_bad = [&](int64_t w, int32_t c) {
    if (in_bad.insert(key(w, c)).second) bad[size_t(w)].push_back(c);
  };
  std::vector<int64_t> forbid, count_at;  // per color: forbidden for vertex v when == v
  std::vector<int32_t> count;             // per color: colored neighbours of v with it
  for (int64_t v : ord) {
    const int64_t b = aptr[size_t(v)], e = aptr[size_t(v) + 1];
    // distance 1, and how many neighbours share each color
    for (int64_t k = b; k < e; ++k) {
      const int32_t c = color[size_t(adj[size_t(k)])];
      if (c < 0) continue;
      forbid[size_t(c)] = v;
      if (count_at[size_t(c)] != v) {
        count_at[size_t(c)] = v;
        count[size_t(c)] = 0;
      }
      ++count[size_t(c)];
    }
    for (int64_t k = b; k < e; ++k) {
      const int64_t w = adj[size_t(k)];
      const int32_t cw = color[size_t(w)];
      if (cw < 0) continue;
      // v in the middle of y - w - v - x' with color(w) == color(x'): v may not take the color of
      // any other colored neighbour y of w.
      if (count[size_t(cw)] >= 2)
        for (int32_t c : ncol[size_t(w)]) forbid[size_t(c)] = v;
      // v at the end of v - w - x - y with color(x) == color(v), color(y) == color(w).
      for (int32_t c : bad[size_t(w)]) forbid[size_t(c)] = v;
    }
    int32_t c = 0;
    while (size_t(c) < forbid.size() && forbid[size_t(c)] == v) ++c;
    if (size_t(c) == forbid.size()) {
      forbid.push_back(-1);
      count_at.push_back(-1);
      count.push_back(0);
    }
    color[size_t(v)] = c;
    // Update the bookkeeping for v's new color.
    for (int64_t k = b; k < e; ++k) {
      const int64_t x = adj[size_t(k)];
      int32_t& m = cnt[key(x, c)];
      if (++m == 1) ncol[size_t(x)].push_back(c);
      if (m == 2 && color[size_t(x)] >= 0) {
        // x now has two neighbours colored c: each of them, w, gets color(x) as bad
        for (int64_t q = aptr[size_t(x)]; q < aptr[size_t(x) + 1]; ++q) {
          const int64_t w = adj[size_t(q)];
          if (color[size_t(w)] == c) add_bad(w, color[size_t(x)]);
        }
      } else if (m > 2 && color[size_t(x)] >= 0) {
        add_bad(v, color[size_t(x)]);
      }
    }
    // v itself as the middle vertex x of w - v - y: for each color cw with two or more neighbours
    // of v colored cw, each such neighbour w gets color(v) as bad.
    for (int64_t k = b; k < e; ++k) {
      const int64_t w = adj[size_t(k)];
      const int32_t cw = color[size_t(w)];
      if (cw >= 0 && count_of(v, cw) >= 2) add_bad(w, c);
    }
  }
  return color;
}

std::vector<int64_t> star_recovery(const int64_t* indptr, const int64_t* indices, int64_t n, const int32_t* colors,
                                   int32_t num_colors) {
  check_pattern(indptr, indices, n, n, "star_recovery");
  for (int64_t i = 0; i < n; ++i)
    TG_CHECK(colors[i] >= 0 && colors[i] < num_colors, "star_recovery: color ", colors[i], " of vertex ", i,
             " is outside 0..", num_colors - 1);
  // count[i][c] = number of columns colored c in row i (diagonal included: it is in the product).
  // Rows are visited one at a time; entries (i, j) whose column color is shared read from row j.
  std::vector<int32_t> cnt(size_t(num_colors), 0);
  std::vector<int64_t> pos(static_cast<size_t>(indptr[n]));
  std::vector<char> unique(static_cast<size_t>(indptr[n]));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k) ++cnt[size_t(colors[indices[k]])];
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k) unique[size_t(k)] = cnt[size_t(colors[indices[k]])] == 1;
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k) cnt[size_t(colors[indices[k]])] = 0;
  }
  // For an entry (i, j) that is not unique in row i, the transposed entry (j, i) must be unique in
  // row j: find it by binary search when row j is sorted, else linearly.
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = indptr[i]; k < indptr[i + 1]; ++k) {
      const int64_t j = indices[k];
      if (unique[size_t(k)]) {
        pos[size_t(k)] = i * num_colors + colors[j];
        continue;
      }
      int64_t t = -1;
      const int64_t* lo = std::lower_bound(indices + indptr[j], indices + indptr[j + 1], i);
      if (lo != indices + indptr[j + 1] && *lo == i) {
        t = lo - indices;
      } else {  // row j is not sorted
        for (int64_t q = indptr[j]; q < indptr[j + 1]; ++q)
          if (indices[q] == i) {
            t = q;
            break;
          }
      }
      TG_CHECK(t >= 0, "star_recovery: the pattern is not symmetric (entry (", i, ", ", j, ") without (", j, ", ", i,
               "))");
      TG_CHECK(unique[size_t(t)], "star_recovery: entry (", i, ", ", j, ") cannot be recovered: the coloring is not a ",
               "star coloring");
      pos[size_t(k)] = j * num_colors + colors[i];
    }
  }
  return pos;
}

}  // namespace transforms
}  // namespace tapegrad
