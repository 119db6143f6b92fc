// einsum: numpy's subscripts parsed, repeated labels taken as diagonals, lone labels summed, then
// the operands contracted left to right with (batched) matrix products. A composite: its gradient
// comes from the ops it runs.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "ops/ops.h"

namespace tapegrad {
namespace ops {

namespace {

Shape cat_shape(const Shape& a, const Shape& b) {
  Shape r = a;
  for (int64_t d : b) r.push_back(d);
  return r;
}

// Labels: letters are their character codes; the dims under "..." get 256 + position, aligned
// from the right across operands (numpy broadcasting).
constexpr int kEllLabel = 256;

std::string label_str(int l) {
  if (l < kEllLabel) return std::string(1, char(l));
  return str_cat("...[", l - kEllLabel, "]");
}

struct Term {
  Tensor t;
  std::vector<int> labels;
};

// Parses one side of the spec into letters and the ellipsis position (-1: none).
void parse_subscripts(const std::string& s, const std::string& spec, std::vector<int>& letters, int& ell_pos) {
  letters.clear();
  ell_pos = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      letters.push_back(int(c));
    } else if (c == '.') {
      TG_CHECK(s.compare(i, 3, "...") == 0, "einsum: invalid subscripts '", spec, "': '.' must be part of '...'");
      TG_CHECK(ell_pos < 0, "einsum: invalid subscripts '", spec, "': more than one '...' in one term");
      ell_pos = int(letters.size());
      i += 2;
    } else {
      throw ValueError(str_cat("einsum: invalid character '", std::string(1, c), "' in subscripts '", spec,
                               "' (subscripts are letters a-z, A-Z, ',', '->' and '...')"));
    }
  }
}

std::vector<int> expand_labels(const std::vector<int>& letters, int ell_pos, int ell_dims, int max_ell) {
  std::vector<int> r;
  for (int i = 0; i < int(letters.size()); ++i) {
    if (i == ell_pos)
      for (int t = 0; t < ell_dims; ++t) r.push_back(kEllLabel + (max_ell - ell_dims) + t);
    r.push_back(letters[size_t(i)]);
  }
  if (ell_pos == int(letters.size()))
    for (int t = 0; t < ell_dims; ++t) r.push_back(kEllLabel + (max_ell - ell_dims) + t);
  return r;
}

int find_label(const std::vector<int>& ls, int l) {
  for (size_t i = 0; i < ls.size(); ++i)
    if (ls[i] == l) return int(i);
  return -1;
}
bool has_label(const std::vector<int>& ls, int l) { return find_label(ls, l) >= 0; }

// Sums away the labels of `x` that `keep` does not contain.
void sum_unkept(Term& x, const std::vector<int>& keep) {
  Axes axes;
  std::vector<int> rest;
  for (size_t i = 0; i < x.labels.size(); ++i) {
    if (has_label(keep, x.labels[i])) rest.push_back(x.labels[i]);
    else axes.push_back(int64_t(i));
  }
  if (axes.empty()) return;
  x.t = sum(x.t, axes, false, false);
  x.labels = rest;
}

int64_t dim_of(const Term& x, int l) { return x.t.shape()[size_t(find_label(x.labels, l))]; }

// Broadcasts size-1 dims of `x` for the given labels up to `sizes`.
void broadcast_labels(Term& x, const std::vector<int>& labels, const std::map<int, int64_t>& sizes) {
  Shape s = x.t.shape();
  bool change = false;
  for (int l : labels) {
    int i = find_label(x.labels, l);
    if (i < 0) continue;
    int64_t want = sizes.at(l);
    if (s[size_t(i)] != want) {
      s[size_t(i)] = want;
      change = true;
    }
  }
  if (change) x.t = broadcast_to(x.t, s);
}

// Permutes `x` so that its labels come in `order` (a permutation of them).
Tensor permute_to(const Term& x, const std::vector<int>& order) {
  SmallVec<int64_t, 6> perm;
  bool ident = true;
  for (size_t i = 0; i < order.size(); ++i) {
    int p = find_label(x.labels, order[i]);
    perm.push_back(p);
    ident = ident && p == int(i);
  }
  return ident ? x.t : transpose(x.t, perm);
}

// Contracts two terms into one whose labels are `keep`'s among theirs: shared kept labels are
// batch dims, shared others are summed by a (batched) matrix product.
Term contract(Term a, Term b, const std::vector<int>& keep) {
  std::vector<int> ka = keep, kb = keep;
  for (int l : b.labels) ka.push_back(l);
  for (int l : a.labels) kb.push_back(l);
  sum_unkept(a, ka);
  sum_unkept(b, kb);
  std::vector<int> batch, contr, aonly, bonly;
  for (int l : a.labels) {
    if (has_label(b.labels, l)) (has_label(keep, l) ? batch : contr).push_back(l);
    else aonly.push_back(l);
  }
  for (int l : b.labels)
    if (!has_label(a.labels, l)) bonly.push_back(l);
  std::map<int, int64_t> sizes;
  for (int l : batch) sizes[l] = std::max(dim_of(a, l), dim_of(b, l));
  for (int l : contr) sizes[l] = std::max(dim_of(a, l), dim_of(b, l));
  auto prod_of = [](const Term& x, const std::vector<int>& ls, Shape* dims) {
    int64_t p = 1;
    for (int l : ls) {
      int64_t d = dim_of(x, l);
      if (dims) dims->push_back(d);
      p *= d;
    }
    return p;
  };
  Term r;
  r.labels = batch;
  for (int l : aonly) r.labels.push_back(l);
  for (int l : bonly) r.labels.push_back(l);
  if (contr.empty()) {
    // Nothing summed: a broadcasting product.
    std::vector<int> oa = batch, ob = batch;
    for (int l : aonly) oa.push_back(l);
    for (int l : bonly) ob.push_back(l);
    Shape sa, sb;
    prod_of(a, oa, &sa);
    prod_of(b, batch, &sb);
    for (size_t i = 0; i < aonly.size(); ++i) sb.push_back(1);
    prod_of(b, bonly, &sb);
    for (size_t i = 0; i < bonly.size(); ++i) sa.push_back(1);
    r.t = mul(linalg_detail::reshape(permute_to(a, oa), sa), linalg_detail::reshape(permute_to(b, ob), sb));
    return r;
  }
  broadcast_labels(a, batch, sizes);
  broadcast_labels(b, batch, sizes);
  broadcast_labels(a, contr, sizes);
  broadcast_labels(b, contr, sizes);
  Shape bdims, adims, cdims;
  const int64_t nb = prod_of(a, batch, &bdims);
  const int64_t m = prod_of(a, aonly, &adims);
  const int64_t k = prod_of(a, contr, nullptr);
  const int64_t n = prod_of(b, bonly, &cdims);
  std::vector<int> oa = batch, ob = batch;
  for (int l : aonly) oa.push_back(l);
  for (int l : contr) oa.push_back(l);
  for (int l : contr) ob.push_back(l);
  for (int l : bonly) ob.push_back(l);
  Tensor am = permute_to(a, oa), bm = permute_to(b, ob);
  Tensor prod;
  if (batch.empty()) {
    prod = matmul(linalg_detail::reshape(am, Shape{m, k}), linalg_detail::reshape(bm, Shape{k, n}));
  } else {
    prod = matmul(linalg_detail::reshape(am, Shape{nb, m, k}), linalg_detail::reshape(bm, Shape{nb, k, n}));
  }
  r.t = linalg_detail::reshape(prod, cat_shape(cat_shape(bdims, adims), cdims));
  return r;
}

}  // namespace

Tensor einsum(const std::string& spec_in, const std::vector<Tensor>& xs) {
  std::string spec;
  for (char c : spec_in)
    if (c != ' ') spec += c;
  TG_CHECK(!xs.empty(), "einsum: at least one operand is needed");
  size_t arrow = spec.find("->");
  TG_CHECK(arrow == std::string::npos || spec.find("->", arrow + 2) == std::string::npos, "einsum: subscripts '",
           spec_in, "' have more than one '->'");
  const std::string lhs = spec.substr(0, arrow);
  TG_CHECK(lhs.find('-') == std::string::npos && lhs.find('>') == std::string::npos, "einsum: subscripts '", spec_in,
           "' have a stray '-' or '>' (the output is given with '->')");
  std::vector<std::string> terms;
  {
    size_t s = 0;
    for (;;) {
      size_t c = lhs.find(',', s);
      terms.push_back(lhs.substr(s, c == std::string::npos ? std::string::npos : c - s));
      if (c == std::string::npos) break;
      s = c + 1;
    }
  }
  TG_CHECK(terms.size() == xs.size(), "einsum: subscripts '", spec_in, "' name ", terms.size(), " operand(s) but ",
           xs.size(), " were given");
  std::vector<std::vector<int>> letters(xs.size());
  std::vector<int> ell_pos(xs.size()), ell_dims(xs.size());
  int max_ell = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    check_op_input(xs[i], "einsum");
    parse_subscripts(terms[i], spec_in, letters[i], ell_pos[i]);
    const int nd = int(xs[i].ndim()), nl = int(letters[i].size());
    if (ell_pos[i] < 0) {
      TG_CHECK_SHAPE(nd == nl, "einsum: operand ", i, " has ", nd, " dimension(s) (shape ", shape_str(xs[i].shape()),
                     ") but its subscripts '", terms[i], "' name ", nl);
      ell_dims[i] = 0;
    } else {
      TG_CHECK_SHAPE(nd >= nl, "einsum: operand ", i, " has ", nd, " dimension(s) (shape ", shape_str(xs[i].shape()),
                     ") but its subscripts '", terms[i], "' name ", nl, " besides '...'");
      ell_dims[i] = nd - nl;
    }
    max_ell = std::max(max_ell, ell_dims[i]);
  }
  std::vector<Term> ops_(xs.size());
  std::map<int, int> count;
  for (size_t i = 0; i < xs.size(); ++i) {
    ops_[i].t = xs[i];
    ops_[i].labels = expand_labels(letters[i], ell_pos[i], ell_dims[i], max_ell);
    for (int l : ops_[i].labels) count[l]++;
  }
  std::vector<int> out;
  if (arrow != std::string::npos) {
    std::vector<int> ol;
    int opos;
    parse_subscripts(spec.substr(arrow + 2), spec_in, ol, opos);
    for (size_t i = 0; i < ol.size(); ++i) {
      TG_CHECK(count.count(ol[i]), "einsum: output subscript '", label_str(ol[i]), "' in '", spec_in,
               "' does not appear in the inputs");
      for (size_t j = 0; j < i; ++j)
        TG_CHECK(ol[j] != ol[i], "einsum: output subscript '", label_str(ol[i]), "' appears more than once in '",
                 spec_in, "'");
    }
    TG_CHECK(opos >= 0 || max_ell == 0, "einsum: the operands have dimensions under '...' but the output of '", spec_in,
             "' has no '...'");
    out = expand_labels(ol, opos, opos >= 0 ? max_ell : 0, max_ell);
  } else {
    for (int t = 0; t < max_ell; ++t) out.push_back(kEllLabel + t);
    for (auto& kv : count)
      if (kv.first < kEllLabel && kv.second == 1) out.push_back(kv.first);
  }
  DType rdt = xs[0].dtype();
  for (const Tensor& x : xs) rdt = promote(rdt, x.dtype());

  // Repeated labels within one operand: take the diagonal.
  for (size_t i = 0; i < ops_.size(); ++i) {
    Term& x = ops_[i];
    for (;;) {
      int p = -1, q = -1;
      for (size_t u = 0; u < x.labels.size() && p < 0; ++u)
        for (size_t v = u + 1; v < x.labels.size(); ++v)
          if (x.labels[u] == x.labels[v]) {
            p = int(u);
            q = int(v);
            break;
          }
      if (p < 0) break;
      const int64_t dp = x.t.shape()[size_t(p)], dq = x.t.shape()[size_t(q)];
      TG_CHECK_SHAPE(dp == dq, "einsum: dimensions in operand ", i, " for collapsing index '",
                     label_str(x.labels[size_t(p)]), "' don't match (", dp, " != ", dq, ")");
      const int l = x.labels[size_t(p)];
      x.t = linalg_detail::diagonal(x.t, 0, p, q);
      x.labels.erase(x.labels.begin() + q);
      x.labels.erase(x.labels.begin() + p);
      x.labels.push_back(l);
    }
  }
  // Sizes agree across operands, or are 1 (broadcast).
  std::map<int, int64_t> sizes;
  for (size_t i = 0; i < ops_.size(); ++i)
    for (size_t j = 0; j < ops_[i].labels.size(); ++j) {
      const int l = ops_[i].labels[j];
      const int64_t d = ops_[i].t.shape()[j];
      auto it = sizes.find(l);
      if (it == sizes.end() || it->second == 1) {
        sizes[l] = d;
      } else {
        TG_CHECK_SHAPE(d == 1 || d == it->second, "einsum: operands do not broadcast: subscript '", label_str(l),
                       "' has size ", it->second, " in one operand and ", d, " in operand ", i, " ('", spec_in, "')");
      }
    }

  // Labels no other operand and not the output needs are summed away first (numpy's lone indices).
  for (size_t i = 0; i < ops_.size(); ++i) {
    std::vector<int> keep = out;
    for (size_t j = 0; j < ops_.size(); ++j)
      if (j != i)
        for (int l : ops_[j].labels) keep.push_back(l);
    sum_unkept(ops_[i], keep);
  }
  // Then left to right: each step keeps the labels the output or a later operand needs.
  Term acc = ops_[0];
  for (size_t i = 1; i < ops_.size(); ++i) {
    std::vector<int> keep = out;
    for (size_t j = i + 1; j < ops_.size(); ++j)
      for (int l : ops_[j].labels) keep.push_back(l);
    acc = contract(acc, ops_[i], keep);
  }
  sum_unkept(acc, out);
  Tensor r = permute_to(acc, out);
  Shape want;
  for (int l : out) want.push_back(sizes[l]);
  if (r.shape() != want) r = broadcast_to(r, want);
  if (r.dtype() != rdt) r = cast(r, rdt);
  return r;
}

}  // namespace ops
}  // namespace tapegrad
