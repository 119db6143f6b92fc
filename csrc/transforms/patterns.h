// Sparsity patterns for detection (python/tapegrad/_sparse.py): an output pattern's rows as unions
// of rows of input patterns, the step most detection rules take (elementwise ops with their
// broadcasts, data movement, concatenation).
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace tapegrad {
namespace transforms {

// One operand of pattern_union: a CSR pattern of `rows` rows (indptr of rows + 1 entries, column
// indices), and the row of it each output row reads: map[r] (negative: none) for each output row
// r, or, with map null, row r itself (then rows must equal the output's row count).
template <class I>
struct PatternPart {
  const I* indptr = nullptr;
  const I* indices = nullptr;
  int64_t rows = 0;
  const int64_t* map = nullptr;
  bool canonical = false;  // each row's columns sorted, each once (the caller knows it)
  // The row output row r reads (negative: none).
  int64_t row(int64_t r) const { return map ? map[r] : r; }
};

// The number of entries pattern_union can produce at most (the rows' lengths summed over the
// parts), after checking each part's indptr (non-decreasing from 0; the caller checks that it ends
// within indices) and map (rows in range); it picks the output's index type.
template <class I>
int64_t pattern_union_bound(const std::vector<PatternPart<I>>& parts, int64_t n_out);

// The pattern of n_out rows whose row r is the union of the rows the parts map to r: columns
// sorted, each once (canonical CSR, what scipy calls has_canonical_format). The parts' rows may be
// unsorted and hold duplicates; each column is checked against n_cols (TG_CHECK_INDEX). `bound`:
// pattern_union_bound(parts, n_out), which checked the parts.
// The column indices come in a buffer of `bound` entries (uninitialised: no pass of zeros over
// it), of which *nnz are used.
template <class I, class O>
void pattern_union(const std::vector<PatternPart<I>>& parts, int64_t n_out, int64_t n_cols, int64_t bound,
                   std::vector<O>& indptr, std::unique_ptr<O[]>& indices, int64_t* nnz);

}  // namespace transforms
}  // namespace tapegrad
