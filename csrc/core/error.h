// Typed errors. The bindings map each to one Python exception (see bindings/module.cpp).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tapegrad {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ShapeError : Error {
  using Error::Error;
};  // -> ValueError
struct ValueError : Error {
  using Error::Error;
};  // -> ValueError
struct IndexError : Error {
  using Error::Error;
};  // -> IndexError
struct DTypeError : Error {
  using Error::Error;
};  // -> TypeError
struct TypeError : Error {
  using Error::Error;
};  // -> TypeError
struct NotDifferentiable : Error {
  using Error::Error;
};  // -> TypeError
struct OverflowError : Error {
  using Error::Error;
};  // -> OverflowError
struct MemoryError : Error {
  using Error::Error;
};  // -> MemoryError
struct NotImplementedError : Error {
  using Error::Error;
};  // -> NotImplementedError

namespace detail {
inline void cat(std::ostringstream&) {}
template <class T, class... R>
void cat(std::ostringstream& os, const T& v, const R&... r) {
  os << v;
  cat(os, r...);
}
}  // namespace detail

template <class... A>
std::string str_cat(const A&... a) {
  std::ostringstream os;
  detail::cat(os, a...);
  return os.str();
}

}  // namespace tapegrad

// TG_CHECK(cond, "mul: shapes ", a, " and ", b, " do not broadcast") throws ValueError.
#define TG_CHECK_T(ExcT, cond, ...)                                                                 \
  do {                                                                                              \
    if (__builtin_expect(!(cond), 0)) { throw ::tapegrad::ExcT(::tapegrad::str_cat(__VA_ARGS__)); } \
  } while (0)
#define TG_CHECK(cond, ...) TG_CHECK_T(ValueError, cond, __VA_ARGS__)
#define TG_CHECK_SHAPE(cond, ...) TG_CHECK_T(ShapeError, cond, __VA_ARGS__)
#define TG_CHECK_INDEX(cond, ...) TG_CHECK_T(IndexError, cond, __VA_ARGS__)
#define TG_CHECK_DTYPE(cond, ...) TG_CHECK_T(DTypeError, cond, __VA_ARGS__)
#define TG_CHECK_TYPE(cond, ...) TG_CHECK_T(TypeError, cond, __VA_ARGS__)
