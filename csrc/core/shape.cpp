#include "core/shape.h"

#include "core/error.h"

namespace tapegrad {

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t checked_numel(const Shape& s, size_t itemsize, const char* op) {
  int64_t nz = itemsize ? int64_t(itemsize) : 1;
  bool zero = false;
  for (int64_t d : s) {
    if (__builtin_expect(d <= 0, 0)) {
      if (d < 0) throw ValueError(str_cat(op, ": negative dimensions are not allowed, got shape ", shape_str(s)));
      zero = true;
      continue;
    }
    if (__builtin_expect(__builtin_mul_overflow(nz, d, &nz), 0))
      throw ValueError(str_cat(op, ": shape ", shape_str(s), " is too large (its size in bytes, ", itemsize,
                               " per element, does not fit in 64 bits)"));
  }
  return zero ? 0 : nz / (itemsize ? int64_t(itemsize) : 1);
}

int64_t checked_mul(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw ValueError(str_cat(op, ": size ", a, " * ", b, " does not fit in 64 bits"));
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw ValueError(str_cat(op, ": size ", a, " + ", b, " does not fit in 64 bits"));
  return r;
}

Strides contiguous_strides(const Shape& s) {
  Strides st(s.size(), 0);
  int64_t acc = 1;
  for (size_t i = s.size(); i-- > 0;) {
    st[i] = acc;
    acc *= s[i] > 0 ? s[i] : 1;
  }
  return st;
}

std::string shape_str(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ", ";
    r += std::to_string(s[i]);
  }
  if (s.size() == 1) r += ",";
  return r + ")";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = a.size() > b.size() ? a.size() : b.size();
  Shape out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      throw ShapeError(str_cat(op, ": shapes ", shape_str(a), " and ", shape_str(b), " do not broadcast"));
    }
  }
  return out;
}

int64_t norm_axis(int64_t axis, int64_t ndim, const char* op) {
  if (axis < -ndim || axis >= ndim)
    throw IndexError(str_cat(op, ": axis ", axis, " is out of bounds for a tensor of dimension ", ndim));
  return axis < 0 ? axis + ndim : axis;
}

}  // namespace tapegrad
