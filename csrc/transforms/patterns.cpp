// Pattern unions for sparsity detection: see transforms/patterns.h.
#include "transforms/patterns.h"

#include <algorithm>

#include "core/error.h"

namespace tapegrad {
namespace transforms {

template <class I>
int64_t pattern_union_bound(const std::vector<PatternPart<I>>& parts, int64_t n_out) {
  TG_CHECK(n_out >= 0, "pattern_union: negative row count ", n_out);
  int64_t bound = 0;
  for (const PatternPart<I>& p : parts) {
    TG_CHECK(p.rows >= 0, "pattern_union: negative row count ", p.rows);
    TG_CHECK(p.map || p.rows == n_out, "pattern_union: a part without a row map has ", p.rows, " rows, expected ",
             n_out);
    TG_CHECK(p.indptr[0] == 0, "pattern_union: indptr must start at 0");
    for (int64_t i = 0; i < p.rows; ++i)
      TG_CHECK(p.indptr[i + 1] >= p.indptr[i], "pattern_union: indptr must be non-decreasing");
    if (!p.map) {
      bound += int64_t(p.indptr[p.rows]);
      continue;
    }
    for (int64_t r = 0; r < n_out; ++r) {
      const int64_t s = p.row(r);
      if (s < 0) continue;
      TG_CHECK_INDEX(s < p.rows, "pattern_union: row ", s, " out of range for a pattern of ", p.rows, " rows");
      bound += int64_t(p.indptr[s + 1] - p.indptr[s]);
    }
  }
  return bound;
}

template <class I, class O>
void pattern_union(const std::vector<PatternPart<I>>& parts, int64_t n_out, int64_t n_cols, int64_t bound,
                   std::vector<O>& indptr, std::unique_ptr<O[]>& indices, int64_t* nnz) {
  indptr.assign(size_t(n_out) + 1, O(0));
  indices.reset(new O[size_t(std::max<int64_t>(bound, 1))]);
  O* out = indices.get();
  int64_t len = 0;
  auto check = [&](int64_t c) {
    TG_CHECK_INDEX(c >= 0 && c < n_cols, "pattern_union: column ", c, " out of range for ", n_cols, " columns");
  };
  if (parts.size() == 1 && parts[0].canonical) {
    // One canonical part (a take of rows: slices, reshapes, broadcasts): its rows copied as they are.
    const PatternPart<I>& p = parts[0];
    for (int64_t r = 0; r < n_out; ++r) {
      const int64_t s = p.row(r);
      if (s >= 0)
        for (I q = p.indptr[s]; q < p.indptr[s + 1]; ++q) {
          const int64_t c = int64_t(p.indices[q]);
          check(c);
          out[len++] = O(c);
        }
      indptr[size_t(r) + 1] = O(len);
    }
    *nnz = len;
    return;
  }
  bool all_canonical = true;
  for (const PatternPart<I>& p : parts) all_canonical = all_canonical && p.canonical;
  if (all_canonical) {
    // Sorted rows (an elementwise op of detected patterns): merged, equal columns kept once.
    std::vector<const I*> cur(parts.size()), end(parts.size());
    for (int64_t r = 0; r < n_out; ++r) {
      const int64_t start = len;
      size_t live = 0;
      for (const PatternPart<I>& p : parts) {
        const int64_t s = p.row(r);
        if (s < 0 || p.indptr[s] == p.indptr[s + 1]) continue;
        cur[live] = p.indices + p.indptr[s];
        end[live] = p.indices + p.indptr[s + 1];
        ++live;
      }
      if (live == 2) {
        // The usual case (a binary op): a two-way merge until one row ends, then the other's tail.
        const I *a = cur[0], *ea = end[0], *b = cur[1], *eb = end[1];
        while (a != ea && b != eb) {
          const I v = *a < *b ? *a : *b;
          a += *a == v;
          b += *b == v;
          check(int64_t(v));
          out[len++] = O(v);
        }
        for (; a != ea; ++a) check(int64_t(*a)), out[len++] = O(*a);
        for (; b != eb; ++b) check(int64_t(*b)), out[len++] = O(*b);
        live = 0;
      }
      while (live > 0) {
        size_t m = 0;
        for (size_t i = 1; i < live; ++i)
          if (*cur[i] < *cur[m]) m = i;
        const int64_t c = int64_t(*cur[m]);
        if (len == start || int64_t(out[len - 1]) != c) {
          check(c);
          out[len++] = O(c);
        }
        if (++cur[m] == end[m]) {
          --live;
          cur[m] = cur[live];
          end[m] = end[live];
        }
      }
      indptr[size_t(r) + 1] = O(len);
    }
    *nnz = len;
    return;
  }
  // Rows in any order: mark[c] == r when column c is in output row r already.
  std::vector<int64_t> mark(size_t(n_cols), -1);
  for (int64_t r = 0; r < n_out; ++r) {
    const int64_t start = len;
    bool sorted = true;
    for (const PatternPart<I>& p : parts) {
      const int64_t s = p.row(r);
      if (s < 0) continue;
      for (I q = p.indptr[s]; q < p.indptr[s + 1]; ++q) {
        const int64_t c = int64_t(p.indices[q]);
        check(c);
        if (mark[size_t(c)] != r) {
          mark[size_t(c)] = r;
          sorted = sorted && (len == start || int64_t(out[len - 1]) < c);
          out[len++] = O(c);
        }
      }
    }
    // Most rows hold a few entries (a stencil's): an insertion sort, when they need one; a long
    // row (a dense one: a sum's, through a matrix product) std::sort.
    if (!sorted && len - start > 32) std::sort(out + start, out + len);
    else if (!sorted)
      for (int64_t i = start + 1; i < len; ++i) {
        const O v = out[i];
        int64_t j = i;
        for (; j > start && out[j - 1] > v; --j) out[j] = out[j - 1];
        out[j] = v;
      }
    indptr[size_t(r) + 1] = O(len);
  }
  *nnz = len;
}

template int64_t pattern_union_bound(const std::vector<PatternPart<int32_t>>&, int64_t);
template int64_t pattern_union_bound(const std::vector<PatternPart<int64_t>>&, int64_t);
template void pattern_union(const std::vector<PatternPart<int32_t>>&, int64_t, int64_t, int64_t, std::vector<int32_t>&,
                            std::unique_ptr<int32_t[]>&, int64_t*);
template void pattern_union(const std::vector<PatternPart<int32_t>>&, int64_t, int64_t, int64_t, std::vector<int64_t>&,
                            std::unique_ptr<int64_t[]>&, int64_t*);
template void pattern_union(const std::vector<PatternPart<int64_t>>&, int64_t, int64_t, int64_t, std::vector<int32_t>&,
                            std::unique_ptr<int32_t[]>&, int64_t*);
template void pattern_union(const std::vector<PatternPart<int64_t>>&, int64_t, int64_t, int64_t, std::vector<int64_t>&,
                            std::unique_ptr<int64_t[]>&, int64_t*);

}  // namespace transforms
}  // namespace tapegrad
