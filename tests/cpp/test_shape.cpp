// core/shape: element counts with overflow checks (Note [Size arithmetic]), strides,
// broadcasting, axis normalisation and the shape strings errors quote.
#include <cstdint>
#include <limits>

#include "core/error.h"
#include "core/shape.h"
#include "tg_test.h"

using namespace tapegrad;

namespace {
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
}  // namespace

TEST(shape, numel_and_checked_numel) {
  CHECK_EQ(numel(Shape{}), int64_t(1));
  CHECK_EQ(numel(Shape{2, 3, 4}), int64_t(24));
  CHECK_EQ(numel(Shape{2, 0, 4}), int64_t(0));
  CHECK_EQ(checked_numel(Shape{}, 8, "t"), int64_t(1));
  CHECK_EQ(checked_numel(Shape{2, 3, 4}, 8, "t"), int64_t(24));
  CHECK_EQ(checked_numel(Shape{7, 0, 5}, 4, "t"), int64_t(0));
  // Large shapes whose byte count fits in int64: 2^62 one-byte or 2^59 eight-byte elements.
  CHECK_EQ(checked_numel(Shape{int64_t(1) << 31, int64_t(1) << 31}, 1, "t"), int64_t(1) << 62);
  CHECK_EQ(checked_numel(Shape{int64_t(1) << 59}, 8, "t"), int64_t(1) << 59);
  CHECK_EQ(checked_numel(Shape{kMax}, 1, "t"), kMax);
  CHECK_EQ(checked_numel(Shape{3}, 0, "t"), int64_t(3));  // itemsize 0 counts as 1
}

TEST(shape, checked_numel_rejects_overflow_and_negative_dimensions) {
  CHECK_THROWS(ValueError, checked_numel(Shape{int64_t(1) << 60}, 8, "zeros"),
               "zeros: shape (1152921504606846976,) is too large");
  CHECK_THROWS(ValueError, checked_numel(Shape{kMax, 2}, 1, "ones"), "too large");
  CHECK_THROWS(ValueError, checked_numel(Shape{int64_t(1) << 32, int64_t(1) << 32}, 1, "t"), "does not fit in 64 bits");
  // numpy's rule: the non-zero dimensions must fit even when another one is zero.
  CHECK_THROWS(ValueError, checked_numel(Shape{0, int64_t(1) << 62, 4}, 1, "empty"),
               "empty: shape (0, 4611686018427387904, 4)");
  CHECK_THROWS(ValueError, checked_numel(Shape{2, -1}, 4, "reshape"),
               "reshape: negative dimensions are not allowed, got shape (2, -1)");
}

TEST(shape, checked_mul_and_add) {
  CHECK_EQ(checked_mul(int64_t(1) << 31, int64_t(1) << 31, "m"), int64_t(1) << 62);
  CHECK_EQ(checked_mul(-3, 4, "m"), int64_t(-12));
  CHECK_EQ(checked_mul(kMax, 1, "m"), kMax);
  CHECK_EQ(checked_add(kMax - 1, 1, "a"), kMax);
  CHECK_EQ(checked_add(kMin, kMax, "a"), int64_t(-1));
  CHECK_THROWS(ValueError, checked_mul(int64_t(1) << 32, int64_t(1) << 31, "tile"),
               "tile: size 4294967296 * 2147483648 does not fit in 64 bits");
  CHECK_THROWS(ValueError, checked_mul(kMin, -1, "m"), "does not fit");
  CHECK_THROWS(ValueError, checked_add(kMax, 1, "concatenate"),
               "concatenate: size 9223372036854775807 + 1 does not fit in 64 bits");
  CHECK_THROWS(ValueError, checked_add(kMin, -1, "a"), "does not fit");
}

TEST(shape, contiguous_strides) {
  CHECK(contiguous_strides(Shape{}) == Strides{});
  CHECK(contiguous_strides(Shape{5}) == (Strides{1}));
  CHECK(contiguous_strides(Shape{2, 3, 4}) == (Strides{12, 4, 1}));
  // A zero dimension counts as 1 for the strides of the axes before it (as numpy's).
  CHECK(contiguous_strides(Shape{2, 0, 3}) == (Strides{3, 3, 1}));
  CHECK(contiguous_strides(Shape{1, 1, 7, 1, 1, 1, 2}) == (Strides{14, 14, 2, 2, 2, 2, 1}));  // > inline size
}

TEST(shape, shape_strings) {
  CHECK_EQ(shape_str(Shape{}), std::string("()"));
  CHECK_EQ(shape_str(Shape{3}), std::string("(3,)"));
  CHECK_EQ(shape_str(Shape{2, 0, 4}), std::string("(2, 0, 4)"));
}

TEST(shape, broadcasting) {
  CHECK(broadcast_shapes(Shape{3, 1}, Shape{1, 4}, "add") == (Shape{3, 4}));
  CHECK(broadcast_shapes(Shape{}, Shape{2, 5}, "add") == (Shape{2, 5}));
  CHECK(broadcast_shapes(Shape{5}, Shape{4, 1}, "add") == (Shape{4, 5}));
  CHECK(broadcast_shapes(Shape{0}, Shape{1}, "add") == (Shape{0}));
  CHECK(broadcast_shapes(Shape{2, 1, 3, 1, 1, 1, 7}, Shape{4, 1, 1, 1}, "mul") == (Shape{2, 1, 3, 4, 1, 1, 7}));
  CHECK_THROWS(ShapeError, broadcast_shapes(Shape{2, 3}, Shape{3, 2}, "add"),
               "add: shapes (2, 3) and (3, 2) do not broadcast");
  CHECK_THROWS(ShapeError, broadcast_shapes(Shape{0}, Shape{2}, "mul"), "mul: shapes (0,) and (2,) do not broadcast");
}

TEST(shape, axis_normalisation) {
  CHECK_EQ(norm_axis(0, 3, "sum"), int64_t(0));
  CHECK_EQ(norm_axis(-1, 3, "sum"), int64_t(2));
  CHECK_EQ(norm_axis(-3, 3, "sum"), int64_t(0));
  CHECK_THROWS(IndexError, norm_axis(3, 3, "sum"), "sum: axis 3 is out of bounds for a tensor of dimension 3");
  CHECK_THROWS(IndexError, norm_axis(-4, 3, "max"), "max: axis -4 is out of bounds");
  CHECK_THROWS(IndexError, norm_axis(0, 0, "max"), "out of bounds");
}
