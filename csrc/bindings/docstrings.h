// Docstrings of the functions, methods and properties bound in C++ (pybind11 `.def(..., doc)`):
// one per name, shared by the module function and the Tensor method where both exist. Every `>>>`
// example runs as a doctest (tests/test_doctests.py) with `tg` (tapegrad) and `np` (numpy) in
// scope; `...` in an output stands for digits that may differ in the last place between SIMD paths.
#pragma once

namespace tapegrad {
namespace bind {
namespace docs {

// ---- elementwise, casts, sum/mean and the view ops (functions.cpp) ----

inline constexpr char neg[] =
    R"doc(-x, elementwise (also the unary `-` operator).

>>> x = tg.tensor([1.0, -2.0])
>>> tg.neg(x)
Tensor(shape=[2], dtype=Float32, value= [-1.00000000e+00,  2.00000000e+00])
>>> x.neg()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [-1.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char abs[] =
    R"doc(|x|, elementwise (also Python's `abs(x)`); integers stay integers.

The derivative at 0 is 0 (as `sign`).

>>> x = tg.tensor([-2, 3])
>>> tg.abs(x)
Tensor(shape=[2], dtype=Int64, value= [2, 3])
>>> x.abs()  # the same, as a method
Tensor(shape=[2], dtype=Int64, value= [2, 3])
)doc";

inline constexpr char sign[] =
    R"doc(-1, 0 or 1 for negative, zero and positive elements (NaN stays NaN).

Its derivative is zero everywhere.

>>> x = tg.tensor([-2.0, 0.0, 3.0])
>>> tg.sign(x)
Tensor(shape=[3], dtype=Float32, value= [-1.00000000e+00,  0.00000000e+00,  1.00000000e+00])
>>> x.sign()  # the same, as a method
Tensor(shape=[3], dtype=Float32, value= [-1.00000000e+00,  0.00000000e+00,  1.00000000e+00])
)doc";

inline constexpr char exp[] =
    R"doc(e**x, elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.exp(x)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.718...e+00])
>>> x.exp()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.718...e+00])
)doc";

inline constexpr char exp2[] =
    R"doc(2**x, elementwise.

>>> x = tg.tensor([0.0, 3.0])
>>> tg.exp2(x)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  8.00000000e+00])
>>> x.exp2()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  8.00000000e+00])
)doc";

inline constexpr char log[] =
    R"doc(The natural logarithm, elementwise (-inf at 0, NaN below).

>>> x = tg.tensor([1.0, 4.0])
>>> tg.log(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.386...e+00])
>>> x.log()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.386...e+00])
)doc";

inline constexpr char log2[] =
    R"doc(The base-2 logarithm, elementwise.

>>> x = tg.tensor([1.0, 8.0])
>>> tg.log2(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  3.00000000e+00])
>>> x.log2()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char log1p[] =
    R"doc(log(1 + x), accurate for small x.

>>> x = tg.tensor([0.0, 1e-10])
>>> tg.log1p(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.000...e-10])
>>> x.log1p()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.000...e-10])
)doc";

inline constexpr char expm1[] =
    R"doc(exp(x) - 1, accurate for small x.

>>> x = tg.tensor([0.0, 1e-10])
>>> tg.expm1(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.000...e-10])
>>> x.expm1()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.000...e-10])
)doc";

inline constexpr char sqrt[] =
    R"doc(The square root, elementwise (NaN for negative x).

>>> x = tg.tensor([4.0, 9.0])
>>> tg.sqrt(x)
Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  3.00000000e+00])
>>> x.sqrt()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char rsqrt[] =
    R"doc(1 / sqrt(x), elementwise.

>>> x = tg.tensor([4.0, 0.25])
>>> tg.rsqrt(x)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  2.00000000e+00])
>>> x.rsqrt()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  2.00000000e+00])
)doc";

inline constexpr char square[] =
    R"doc(x * x, elementwise; integers stay integers.

>>> x = tg.tensor([-3, 2])
>>> tg.square(x)
Tensor(shape=[2], dtype=Int64, value= [9, 4])
>>> x.square()  # the same, as a method
Tensor(shape=[2], dtype=Int64, value= [9, 4])
)doc";

inline constexpr char reciprocal[] =
    R"doc(1 / x, elementwise.

>>> x = tg.tensor([2.0, 4.0])
>>> tg.reciprocal(x)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  2.50000000e-01])
>>> x.reciprocal()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  2.50000000e-01])
)doc";

inline constexpr char sin[] =
    R"doc(The sine (radians), elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.sin(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  8.414...e-01])
>>> x.sin()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  8.414...e-01])
)doc";

inline constexpr char cos[] =
    R"doc(The cosine (radians), elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.cos(x)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  5.403...e-01])
>>> x.cos()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  5.403...e-01])
)doc";

inline constexpr char tan[] =
    R"doc(The tangent (radians), elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.tan(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.557...e+00])
>>> x.tan()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.557...e+00])
)doc";

inline constexpr char arcsin[] =
    R"doc(The inverse sine, in [-pi/2, pi/2] (NaN outside [-1, 1]).

>>> x = tg.tensor([0.0, 1.0])
>>> tg.arcsin(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.570...e+00])
>>> x.arcsin()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.570...e+00])
)doc";

inline constexpr char arccos[] =
    R"doc(The inverse cosine, in [0, pi] (NaN outside [-1, 1]).

>>> x = tg.tensor([1.0, 0.0])
>>> tg.arccos(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.570...e+00])
>>> x.arccos()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.570...e+00])
)doc";

inline constexpr char arctan[] =
    R"doc(The inverse tangent, in (-pi/2, pi/2).

>>> x = tg.tensor([0.0, 1.0])
>>> tg.arctan(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  7.853...e-01])
>>> x.arctan()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  7.853...e-01])
)doc";

inline constexpr char sinh[] =
    R"doc(The hyperbolic sine, elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.sinh(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.175...e+00])
>>> x.sinh()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.175...e+00])
)doc";

inline constexpr char cosh[] =
    R"doc(The hyperbolic cosine, elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.cosh(x)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  1.543...e+00])
>>> x.cosh()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  1.543...e+00])
)doc";

inline constexpr char tanh[] =
    R"doc(The hyperbolic tangent, elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.tanh(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  7.615...e-01])
>>> x.tanh()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  7.615...e-01])
)doc";

inline constexpr char sigmoid[] =
    R"doc(1 / (1 + exp(-x)), elementwise, computed without overflow.

>>> x = tg.tensor([0.0, 1000.0])
>>> tg.sigmoid(x)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  1.00000000e+00])
>>> x.sigmoid()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  1.00000000e+00])
)doc";

inline constexpr char relu[] =
    R"doc(max(x, 0), elementwise. The derivative at 0 is 0.

>>> x = tg.tensor([-1.0, 2.0])
>>> tg.relu(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  2.00000000e+00])
>>> x.relu()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char softplus[] =
    R"doc(log(1 + exp(x)), elementwise, computed without overflow.

>>> x = tg.tensor([0.0, 1000.0])
>>> tg.softplus(x)
Tensor(shape=[2], dtype=Float32, value= [ 6.931...e-01,  1.00000000e+03])
>>> x.softplus()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 6.931...e-01,  1.00000000e+03])
)doc";

inline constexpr char gelu[] =
    R"doc(x * Phi(x), Phi the standard normal CDF (the exact, erf-based GELU).

>>> x = tg.tensor([0.0, 1.0])
>>> tg.gelu(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  8.413...e-01])
>>> x.gelu()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  8.413...e-01])
)doc";

inline constexpr char erf[] =
    R"doc(The error function, elementwise.

>>> x = tg.tensor([0.0, 1.0])
>>> tg.erf(x)
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  8.427...e-01])
>>> x.erf()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  8.427...e-01])
)doc";

inline constexpr char floor[] =
    R"doc(The largest integer <= x, elementwise (the dtype is kept).

Its derivative is zero everywhere.

>>> x = tg.tensor([-1.5, 1.5])
>>> tg.floor(x)
Tensor(shape=[2], dtype=Float32, value= [-2.00000000e+00,  1.00000000e+00])
>>> x.floor()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [-2.00000000e+00,  1.00000000e+00])
)doc";

inline constexpr char ceil[] =
    R"doc(The smallest integer >= x, elementwise (the dtype is kept).

Its derivative is zero everywhere.

>>> x = tg.tensor([-1.5, 1.5])
>>> tg.ceil(x)
Tensor(shape=[2], dtype=Float32, value= [-1.00000000e+00,  2.00000000e+00])
>>> x.ceil()  # the same, as a method
Tensor(shape=[2], dtype=Float32, value= [-1.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char round[] =
    R"doc(The nearest integer, halves to even (as numpy), elementwise.

Its derivative is zero everywhere.

>>> x = tg.tensor([0.5, 1.5, 2.5])
>>> tg.round(x)
Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  2.00000000e+00,  2.00000000e+00])
>>> x.round()  # the same, as a method
Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  2.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char isnan[] =
    R"doc(Whether each element is NaN (a Bool tensor).

>>> x = tg.tensor([1.0, float('nan')])
>>> tg.isnan(x)
Tensor(shape=[2], dtype=Bool, value= [False,  True])
>>> x.isnan()  # the same, as a method
Tensor(shape=[2], dtype=Bool, value= [False,  True])
)doc";

inline constexpr char isfinite[] =
    R"doc(Whether each element is neither infinite nor NaN (a Bool tensor).

>>> x = tg.tensor([1.0, float('inf')])
>>> tg.isfinite(x)
Tensor(shape=[2], dtype=Bool, value= [ True, False])
>>> x.isfinite()  # the same, as a method
Tensor(shape=[2], dtype=Bool, value= [ True, False])
)doc";

inline constexpr char logical_not[] =
    R"doc(Elementwise NOT of the truth values (nonzero is True).

>>> x = tg.tensor([True, False])
>>> tg.logical_not(x)
Tensor(shape=[2], dtype=Bool, value= [False,  True])
>>> x.logical_not()  # the same, as a method
Tensor(shape=[2], dtype=Bool, value= [False,  True])
)doc";

inline constexpr char add[] =
    R"doc(x1 + x2, elementwise (also the `+` operator). The arguments broadcast; Python scalars take
the other argument's dtype kind (numpy's rules).

>>> tg.add(tg.tensor([1.0, 2.0]), 10)
Tensor(shape=[2], dtype=Float32, value= [ 1.10000000e+01,  1.20000000e+01])
>>> tg.tensor([1, 2]) + tg.tensor([[10], [20]])  # broadcasting
Tensor(shape=[2, 2], dtype=Int64, value=
[[11, 12],
 [21, 22]])
)doc";

inline constexpr char sub[] =
    R"doc(x1 - x2, elementwise (also the `-` operator). The arguments broadcast; Python scalars take
the other argument's dtype kind (numpy's rules).

>>> tg.sub(tg.tensor([1.0, 2.0]), 0.5)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  1.50000000e+00])
)doc";

inline constexpr char mul[] =
    R"doc(x1 * x2, elementwise (also the `*` operator). The arguments broadcast; Python scalars take
the other argument's dtype kind (numpy's rules).

>>> tg.mul(tg.tensor([1, 2]), tg.tensor([3, 4]))
Tensor(shape=[2], dtype=Int64, value= [3, 8])
)doc";

inline constexpr char div[] =
    R"doc(x1 / x2, true division (also the `/` operator); integers give Float64, as numpy. The
arguments broadcast; Python scalars take the other argument's dtype kind (numpy's rules).

>>> tg.div(tg.tensor([1, 3]), 2)
Tensor(shape=[2], dtype=Float64, value= [ 5.00000000e-01,  1.50000000e+00])
)doc";

inline constexpr char floor_divide[] =
    R"doc(floor(x1 / x2), elementwise (also the `//` operator). The arguments broadcast; Python
scalars take the other argument's dtype kind (numpy's rules).

>>> tg.floor_divide(tg.tensor([7, -7]), 2)
Tensor(shape=[2], dtype=Int64, value= [ 3, -4])
)doc";

inline constexpr char mod[] =
    R"doc(The remainder of floor division, with the sign of x2 (also the `%` operator, as numpy).
The arguments broadcast; Python scalars take the other argument's dtype kind (numpy's rules).

>>> tg.mod(tg.tensor([7, -7]), 3)
Tensor(shape=[2], dtype=Int64, value= [1, 2])
)doc";

inline constexpr char pow[] =
    R"doc(x1 ** x2, elementwise (also the `**` operator). The arguments broadcast; Python scalars
take the other argument's dtype kind (numpy's rules).

>>> tg.pow(tg.tensor([1.0, 2.0, 3.0]), 2)
Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  4.00000000e+00,  9.00000000e+00])
)doc";

inline constexpr char maximum[] =
    R"doc(The larger of x1 and x2, elementwise (NaN if either is NaN). The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules).

At ties the gradient is split evenly between the two.

>>> tg.maximum(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0]))
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  5.00000000e+00])
)doc";

inline constexpr char minimum[] =
    R"doc(The smaller of x1 and x2, elementwise (NaN if either is NaN). The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules).

At ties the gradient is split evenly between the two.

>>> tg.minimum(tg.tensor([1.0, 5.0]), tg.tensor([3.0, 2.0]))
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char arctan2[] =
    R"doc(The angle of the point (x2, x1) (y = x1, x = x2), in [-pi, pi]. The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules).

>>> tg.arctan2(tg.tensor([1.0, 0.0]), tg.tensor([0.0, -1.0]))
Tensor(shape=[2], dtype=Float32, value= [ 1.570...e+00,  3.141...e+00])
)doc";

inline constexpr char equal[] =
    R"doc(x1 == x2, elementwise (also the `==` operator): a Bool tensor. The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules). Not differentiable.

>>> tg.equal(tg.tensor([1, 2, 3]), 2)
Tensor(shape=[3], dtype=Bool, value= [False,  True, False])
>>> tg.tensor([1, 2, 3]) == 2
Tensor(shape=[3], dtype=Bool, value= [False,  True, False])
)doc";

inline constexpr char not_equal[] =
    R"doc(x1 != x2, elementwise (also the `!=` operator): a Bool tensor. The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules). Not differentiable.

>>> tg.not_equal(tg.tensor([1, 2, 3]), 2)
Tensor(shape=[3], dtype=Bool, value= [ True, False,  True])
>>> tg.tensor([1, 2, 3]) != 2
Tensor(shape=[3], dtype=Bool, value= [ True, False,  True])
)doc";

inline constexpr char less[] =
    R"doc(x1 < x2, elementwise (also the `<` operator): a Bool tensor. The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules). Not differentiable.

>>> tg.less(tg.tensor([1, 2, 3]), 2)
Tensor(shape=[3], dtype=Bool, value= [ True, False, False])
>>> tg.tensor([1, 2, 3]) < 2
Tensor(shape=[3], dtype=Bool, value= [ True, False, False])
)doc";

inline constexpr char less_equal[] =
    R"doc(x1 <= x2, elementwise (also the `<=` operator): a Bool tensor. The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules). Not differentiable.

>>> tg.less_equal(tg.tensor([1, 2, 3]), 2)
Tensor(shape=[3], dtype=Bool, value= [ True,  True, False])
>>> tg.tensor([1, 2, 3]) <= 2
Tensor(shape=[3], dtype=Bool, value= [ True,  True, False])
)doc";

inline constexpr char greater[] =
    R"doc(x1 > x2, elementwise (also the `>` operator): a Bool tensor. The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules). Not differentiable.

>>> tg.greater(tg.tensor([1, 2, 3]), 2)
Tensor(shape=[3], dtype=Bool, value= [False, False,  True])
>>> tg.tensor([1, 2, 3]) > 2
Tensor(shape=[3], dtype=Bool, value= [False, False,  True])
)doc";

inline constexpr char greater_equal[] =
    R"doc(x1 >= x2, elementwise (also the `>=` operator): a Bool tensor. The arguments broadcast;
Python scalars take the other argument's dtype kind (numpy's rules). Not differentiable.

>>> tg.greater_equal(tg.tensor([1, 2, 3]), 2)
Tensor(shape=[3], dtype=Bool, value= [False,  True,  True])
>>> tg.tensor([1, 2, 3]) >= 2
Tensor(shape=[3], dtype=Bool, value= [False,  True,  True])
)doc";

inline constexpr char logical_and[] =
    R"doc(AND of the truth values (nonzero is True), elementwise: a Bool tensor (also `&` on Bool
tensors).

>>> a, b = tg.tensor([True, True, False]), tg.tensor([True, False, False])
>>> tg.logical_and(a, b)
Tensor(shape=[3], dtype=Bool, value= [ True, False, False])
>>> a & b
Tensor(shape=[3], dtype=Bool, value= [ True, False, False])
)doc";

inline constexpr char logical_or[] =
    R"doc(OR of the truth values (nonzero is True), elementwise: a Bool tensor (also `|` on Bool
tensors).

>>> a, b = tg.tensor([True, True, False]), tg.tensor([True, False, False])
>>> tg.logical_or(a, b)
Tensor(shape=[3], dtype=Bool, value= [ True,  True, False])
>>> a | b
Tensor(shape=[3], dtype=Bool, value= [ True,  True, False])
)doc";

inline constexpr char logical_xor[] =
    R"doc(XOR of the truth values (nonzero is True), elementwise: a Bool tensor (also `^` on Bool
tensors).

>>> a, b = tg.tensor([True, True, False]), tg.tensor([True, False, False])
>>> tg.logical_xor(a, b)
Tensor(shape=[3], dtype=Bool, value= [False,  True, False])
>>> a ^ b
Tensor(shape=[3], dtype=Bool, value= [False,  True, False])
)doc";

inline constexpr char clip[] =
    R"doc(x limited to [min, max], elementwise; either bound may be None, a scalar or a tensor.

The gradient is 1 inside the bounds and 0 outside.

>>> x = tg.tensor([-2.0, 0.5, 3.0])
>>> tg.clip(x, -1.0, 1.0)
Tensor(shape=[3], dtype=Float32, value= [-1.00000000e+00,  5.00000000e-01,  1.00000000e+00])
>>> x.clip(max=0.0)
Tensor(shape=[3], dtype=Float32, value= [-2.00000000e+00,  0.00000000e+00,  0.00000000e+00])
)doc";

inline constexpr char where[] =
    R"doc(Elements of x where condition is True and of y elsewhere (the three broadcast).

The gradient flows to x where the condition holds and to y elsewhere.

>>> cond = tg.tensor([True, False, True])
>>> tg.where(cond, tg.tensor([1.0, 2.0, 3.0]), 0.0)
Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  0.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char astype[] =
    R"doc(x converted to dtype (a tapegrad dtype, a numpy dtype or a name); floats to integers
truncate, as numpy. The gradient of a float-to-float cast is cast back.

>>> x = tg.tensor([1.7, -2.7])
>>> x.astype(tg.int32)
Tensor(shape=[2], dtype=Int32, value= [ 1, -2])
>>> tg.astype(x, "float64").dtype
Float64
)doc";

inline constexpr char sum[] =
    R"doc(The sum over axis (None: every axis; an int or a tuple of ints), keeping the reduced axes
as size 1 with keepdims. Integer and Bool sums are Int64, as numpy.

>>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.sum(x)
Tensor(shape=[], dtype=Float32, value= 10)
>>> x.sum(axis=0)
Tensor(shape=[2], dtype=Float32, value= [ 4.00000000e+00,  6.00000000e+00])
>>> x.sum(axis=1, keepdims=True).shape
(2, 1)
)doc";

inline constexpr char mean[] =
    R"doc(The mean over axis (None: every axis; an int or a tuple of ints), keeping the reduced axes
as size 1 with keepdims. Integers give Float32.

>>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.mean(x)
Tensor(shape=[], dtype=Float32, value= 2.5)
>>> x.mean(axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 1.50000000e+00,  3.50000000e+00])
)doc";

inline constexpr char broadcast_to[] =
    R"doc(x broadcast to shape (numpy's rules); a view, no copy. The gradient sums over the
broadcast axes.

>>> x = tg.tensor([1.0, 2.0])
>>> tg.broadcast_to(x, (2, 2))
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 1.00000000e+00,  2.00000000e+00],
 [ 1.00000000e+00,  2.00000000e+00]])
>>> x.broadcast_to((3, 2)).shape
(3, 2)
)doc";

inline constexpr char reshape[] =
    R"doc(x with a new shape of the same size; one dimension may be -1 (inferred). A view when the
layout allows, else a copy.

>>> print(tg.reshape(tg.arange(6), (2, 3)))
[[0 1 2]
 [3 4 5]]
>>> tg.arange(6).reshape(3, -1).shape
(3, 2)
)doc";

inline constexpr char Tensor_reshape[] =
    R"doc(The tensor with a new shape of the same size: `x.reshape(2, 3)` or `x.reshape((2, 3))`;
one dimension may be -1 (inferred).

>>> x = tg.arange(6)
>>> x.reshape(2, 3).shape, x.reshape((3, -1)).shape
((2, 3), (3, 2))
)doc";

inline constexpr char Tensor_view[] =
    R"doc(MindSpore's name for `reshape`: `x.view(2, 3)` or `x.view((2, 3))`.

>>> print(tg.arange(4).view(2, 2))
[[0 1]
 [2 3]]
)doc";

inline constexpr char transpose[] =
    R"doc(x with its axes permuted by axes (default: reversed). A view.

>>> x = tg.tensor([[1, 2, 3]])
>>> tg.transpose(x)
Tensor(shape=[3, 1], dtype=Int64, value=
[[1],
 [2],
 [3]])
>>> tg.transpose(tg.ones((2, 3, 4)), (1, 2, 0)).shape
(3, 4, 2)
)doc";

inline constexpr char Tensor_transpose[] =
    R"doc(The tensor with its axes permuted: `x.transpose()` reverses them, `x.transpose(1, 0, 2)`
or `x.transpose((1, 0, 2))` permutes them. A view.

>>> x = tg.ones((2, 3, 4))
>>> x.transpose().shape, x.transpose(1, 0, 2).shape
((4, 3, 2), (3, 2, 4))
)doc";

inline constexpr char swapaxes[] =
    R"doc(x with axes axis1 and axis2 exchanged. A view.

>>> x = tg.ones((2, 3, 4))
>>> tg.swapaxes(x, 0, 2).shape
(4, 3, 2)
>>> x.swapaxes(1, -1).shape
(2, 4, 3)
)doc";

inline constexpr char expand_dims[] =
    R"doc(x with new axes of size 1 at axis (an int or a tuple of ints).

>>> x = tg.tensor([1.0, 2.0])
>>> tg.expand_dims(x, 0).shape, x.expand_dims(1).shape, x.expand_dims((0, 2)).shape
((1, 2), (2, 1), (1, 2, 1))
)doc";

inline constexpr char squeeze[] =
    R"doc(x without its axes of size 1 (all of them, or those in axis).

>>> x = tg.ones((1, 2, 1))
>>> tg.squeeze(x).shape, x.squeeze(0).shape
((2,), (2, 1))
)doc";

inline constexpr char flatten[] =
    R"doc(x as a 1-d tensor (a copy when not contiguous).

>>> tg.flatten(tg.tensor([[1, 2], [3, 4]]))
Tensor(shape=[4], dtype=Int64, value= [1, 2, 3, 4])
)doc";

inline constexpr char copy[] =
    R"doc(A copy of x with its own memory; differentiable (the gradient passes through).

>>> x = tg.tensor([1.0, 2.0])
>>> y = x.copy()
>>> y[0] = 5.0
>>> print(x, y)
[1. 2.] [5. 2.]
)doc";

// ---- reductions, shape, indexing (bind_reduce_shape.cpp, bind_index.cpp), linalg ----

inline constexpr char prod[] =
    R"doc(The product over axis. axis is None (every axis), an int or a tuple of ints; keepdims
keeps the reduced axes as size 1.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.prod(x)
Tensor(shape=[], dtype=Float32, value= 30)
>>> x.prod(axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  6.00000000e+00])
)doc";

inline constexpr char max[] =
    R"doc(The largest element over axis (numpy's amax). axis is None (every axis), an int or a tuple
of ints; keepdims keeps the reduced axes as size 1.

At ties the gradient is split evenly between the maxima.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.max(x)
Tensor(shape=[], dtype=Float32, value= 5)
>>> x.max(axis=0)
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  5.00000000e+00])
)doc";

inline constexpr char min[] =
    R"doc(The smallest element over axis (numpy's amin). axis is None (every axis), an int or a
tuple of ints; keepdims keeps the reduced axes as size 1.

At ties the gradient is split evenly between the minima.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.min(x)
Tensor(shape=[], dtype=Float32, value= 1)
>>> x.min(axis=1, keepdims=True).shape
(2, 1)
)doc";

inline constexpr char amax[] =
    R"doc(numpy's name for `max`: the largest element over axis. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.amax(tg.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  3.00000000e+00])
)doc";

inline constexpr char amin[] =
    R"doc(numpy's name for `min`: the smallest element over axis. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.amin(tg.tensor([[1.0, 5.0], [3.0, 2.0]]), axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char logsumexp[] =
    R"doc(log(sum(exp(x))) over axis, computed without overflow. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.logsumexp(tg.tensor([0.0, 0.0]))  # log 2
Tensor(shape=[], dtype=Float32, value= 0.693147)
>>> tg.tensor([1000.0, 1000.0]).logsumexp()
Tensor(shape=[], dtype=Float32, value= 1000.69)
)doc";

inline constexpr char any[] =
    R"doc(Whether any element over axis is true (nonzero): a Bool tensor. axis is None (every axis),
an int or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.any(tg.tensor([0, 1]))
Tensor(shape=[], dtype=Bool, value= True)
>>> tg.tensor([[0, 1], [0, 0]]).any(axis=1)
Tensor(shape=[2], dtype=Bool, value= [ True, False])
)doc";

inline constexpr char all[] =
    R"doc(Whether every element over axis is true (nonzero): a Bool tensor. axis is None (every
axis), an int or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> tg.all(tg.tensor([0, 1]))
Tensor(shape=[], dtype=Bool, value= False)
>>> bool((tg.arange(3) < 5).all())
True
)doc";

inline constexpr char argmax[] =
    R"doc(The index of the largest element along axis (None: of the flattened tensor), Int64; the
first one at ties.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.argmax(x)
Tensor(shape=[], dtype=Int64, value= 1)
>>> x.argmax(axis=1)
Tensor(shape=[2], dtype=Int64, value= [1, 0])
)doc";

inline constexpr char argmin[] =
    R"doc(The index of the smallest element along axis (None: of the flattened tensor), Int64; the
first one at ties.

>>> x = tg.tensor([[1.0, 5.0], [3.0, 2.0]])
>>> tg.argmin(x, axis=0)
Tensor(shape=[2], dtype=Int64, value= [0, 1])
>>> x.argmin()
Tensor(shape=[], dtype=Int64, value= 0)
)doc";

inline constexpr char var[] =
    R"doc(The variance over axis, dividing by N - ddof (ddof=0: the population variance). axis is
None (every axis), an int or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> x = tg.tensor([1.0, 2.0, 3.0, 4.0])
>>> tg.var(x)
Tensor(shape=[], dtype=Float32, value= 1.25)
>>> x.var(ddof=1)
Tensor(shape=[], dtype=Float32, value= 1.66667)
)doc";

inline constexpr char std_[] =
    R"doc(The standard deviation over axis, dividing by N - ddof. axis is None (every axis), an int
or a tuple of ints; keepdims keeps the reduced axes as size 1.

>>> x = tg.tensor([1.0, 3.0])
>>> tg.std(x)
Tensor(shape=[], dtype=Float32, value= 1)
>>> tg.tensor([[1.0, 3.0], [2.0, 2.0]]).std(axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  0.00000000e+00])
)doc";

inline constexpr char softmax[] =
    R"doc(exp(x) / sum(exp(x)) along axis (default -1), computed without overflow.

>>> tg.softmax(tg.tensor([0.0, 0.0]))
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e-01,  5.00000000e-01])
>>> print(tg.tensor([[1.0, 1.0], [0.0, 1000.0]]).softmax(axis=1))
[[0.5 0.5]
 [0.  1. ]]
)doc";

inline constexpr char log_softmax[] =
    R"doc(x - logsumexp(x) along axis (default -1): log(softmax(x)), computed stably.

>>> tg.log_softmax(tg.tensor([0.0, 0.0]))
Tensor(shape=[2], dtype=Float32, value= [-6.93147...e-01, -6.93147...e-01])
)doc";

inline constexpr char cumsum[] =
    R"doc(Running sums along axis (None: of the flattened tensor).

>>> tg.cumsum(tg.tensor([1, 2, 3]))
Tensor(shape=[3], dtype=Int64, value= [1, 3, 6])
>>> print(tg.tensor([[1.0, 2.0], [3.0, 4.0]]).cumsum(axis=0))
[[1. 2.]
 [4. 6.]]
)doc";

inline constexpr char cumprod[] =
    R"doc(Running products along axis (None: of the flattened tensor).

>>> tg.cumprod(tg.tensor([1.0, 2.0, 3.0]))
Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00,  6.00000000e+00])
)doc";

inline constexpr char concatenate[] =
    R"doc(The tensors joined along an existing axis (default 0; None: flattened first). Their dtypes
are promoted as numpy does.

>>> tg.concatenate([tg.tensor([1, 2]), tg.tensor([3])])
Tensor(shape=[3], dtype=Int64, value= [1, 2, 3])
>>> tg.concatenate([tg.ones((1, 2)), tg.zeros((1, 2))], axis=1).shape
(1, 4)
)doc";

inline constexpr char concat[] =
    R"doc(MindSpore's name for `concatenate`: the tensors joined along an existing axis.

>>> tg.concat((tg.tensor([1, 2]), tg.tensor([3])))
Tensor(shape=[3], dtype=Int64, value= [1, 2, 3])
)doc";

inline constexpr char stack[] =
    R"doc(The tensors (all of one shape) joined along a new axis (default 0).

>>> tg.stack([tg.tensor([1, 2]), tg.tensor([3, 4])])
Tensor(shape=[2, 2], dtype=Int64, value=
[[1, 2],
 [3, 4]])
>>> tg.stack([tg.ones(3), tg.zeros(3)], axis=1).shape
(3, 2)
)doc";

inline constexpr char split[] =
    R"doc(x cut along axis into a list of tensors: into indices_or_sections equal parts (an int), or
at the given indices (a list).

>>> [t.tolist() for t in tg.split(tg.arange(6), 3)]
[[0, 1], [2, 3], [4, 5]]
>>> [t.tolist() for t in tg.split(tg.arange(6), [1, 4])]
[[0], [1, 2, 3], [4, 5]]
)doc";

inline constexpr char flip[] =
    R"doc(x with the order of elements reversed along axis (None: every axis).

>>> tg.flip(tg.tensor([1, 2, 3]))
Tensor(shape=[3], dtype=Int64, value= [3, 2, 1])
>>> print(tg.flip(tg.tensor([[1, 2], [3, 4]]), axis=1))
[[2 1]
 [4 3]]
)doc";

inline constexpr char tile[] =
    R"doc(x repeated reps times along each axis (numpy.tile).

>>> tg.tile(tg.tensor([1, 2]), 2)
Tensor(shape=[4], dtype=Int64, value= [1, 2, 1, 2])
>>> tg.tensor([[1, 2]]).tile((2, 1)).shape
(2, 2)
)doc";

inline constexpr char repeat[] =
    R"doc(Each element of x repeated along axis (None: of the flattened tensor); repeats is an int
or one count per element.

>>> tg.repeat(tg.tensor([1, 2]), 2)
Tensor(shape=[4], dtype=Int64, value= [1, 1, 2, 2])
>>> tg.tensor([1, 2]).repeat(tg.tensor([1, 2]))
Tensor(shape=[3], dtype=Int64, value= [1, 2, 2])
)doc";

inline constexpr char sort[] =
    R"doc(x sorted along axis (default -1; None: flattened), ascending unless descending=True. The
sort is stable; the gradient goes back to where each element came from.

>>> tg.sort(tg.tensor([3.0, 1.0, 2.0]))
Tensor(shape=[3], dtype=Float32, value= [ 1.00000000e+00,  2.00000000e+00,  3.00000000e+00])
>>> print(tg.sort(tg.tensor([3, 1, 2]), descending=True))
[3 2 1]
)doc";

inline constexpr char argsort[] =
    R"doc(The indices that sort x along axis (default -1; None: flattened), Int64; stable.

>>> tg.argsort(tg.tensor([3.0, 1.0, 2.0]))
Tensor(shape=[3], dtype=Int64, value= [1, 2, 0])
>>> tg.tensor([3.0, 1.0, 2.0]).argsort(descending=True)
Tensor(shape=[3], dtype=Int64, value= [0, 2, 1])
)doc";

inline constexpr char ravel[] =
    R"doc(x as a 1-d tensor: a view when contiguous, else a copy.

>>> tg.ravel(tg.tensor([[1, 2], [3, 4]]))
Tensor(shape=[4], dtype=Int64, value= [1, 2, 3, 4])
)doc";

inline constexpr char take[] =
    R"doc(Elements of x at integer indices: along axis, or of the flattened x when axis is None
(numpy.take; a gather). Negative indices count from the end; out of range is an IndexError.

>>> x = tg.tensor([10, 20, 30])
>>> tg.take(x, tg.tensor([2, 0]))
Tensor(shape=[2], dtype=Int64, value= [30, 10])
>>> print(tg.take(tg.tensor([[1, 2], [3, 4]]), [1], axis=1))
[[2]
 [4]]
)doc";

inline constexpr char gather[] =
    R"doc(MindSpore's name for `take`: elements of x at integer indices along axis.

>>> x = tg.tensor([10.0, 20.0, 30.0])
>>> tg.gather(x, tg.tensor([2, 0]), axis=0)
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+01,  1.00000000e+01])
>>> tg.grad(lambda x: x.gather(tg.tensor([2, 2]), axis=0).sum())(x)
Tensor(shape=[3], dtype=Float32, value= [ 0.00000000e+00,  0.00000000e+00,  2.00000000e+00])
)doc";

inline constexpr char take_along_axis[] =
    R"doc(Elements of arr picked along axis by indices of arr's rank (numpy's take_along_axis), e.g.
with the result of argsort or argmax(keepdims=True).

>>> x = tg.tensor([[10, 30], [40, 20]])
>>> tg.take_along_axis(x, x.argmax(axis=1, keepdims=True), axis=1)
Tensor(shape=[2, 1], dtype=Int64, value=
[[30],
 [40]])
)doc";

inline constexpr char one_hot[] =
    R"doc(One-hot vectors of length depth for integer indices: on_value where the index matches,
off_value elsewhere, along a new axis (default last); Float32 unless dtype is given.

>>> tg.one_hot(tg.tensor([0, 2]), 3)
Tensor(shape=[2, 3], dtype=Float32, value=
[[ 1.00000000e+00,  0.00000000e+00,  0.00000000e+00],
 [ 0.00000000e+00,  0.00000000e+00,  1.00000000e+00]])
>>> print(tg.one_hot(tg.tensor([1]), 3, dtype=tg.int32))
[[0 1 0]]
)doc";

inline constexpr char matmul[] =
    R"doc(The matrix product (numpy.matmul; also the `@` operator). 1-d arguments are vectors;
leading dimensions are batch dimensions and broadcast.

>>> a = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.matmul(a, tg.tensor([1.0, 1.0]))
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  7.00000000e+00])
>>> print(a @ a)
[[ 7. 10.]
 [15. 22.]]
>>> (tg.ones((5, 2, 3)) @ tg.ones((3, 4))).shape
(5, 2, 4)
)doc";

inline constexpr char dot[] =
    R"doc(numpy.dot: the inner product of vectors, the matrix product of matrices, and the sum over
the last axis of a with the second-to-last of b otherwise.

>>> x = tg.tensor([1.0, 2.0, 3.0])
>>> tg.dot(x, x)
Tensor(shape=[], dtype=Float32, value= 14)
>>> x.dot(tg.ones((3, 2)))
Tensor(shape=[2], dtype=Float32, value= [ 6.00000000e+00,  6.00000000e+00])
)doc";

inline constexpr char vdot[] =
    R"doc(The inner product of a and b, both flattened first.

>>> tg.vdot(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), tg.ones((2, 2)))
Tensor(shape=[], dtype=Float32, value= 10)
)doc";

inline constexpr char outer[] =
    R"doc(The outer product a[i] * b[j] of a and b, both flattened first.

>>> tg.outer(tg.tensor([1, 2]), tg.tensor([1, 10, 100]))
Tensor(shape=[2, 3], dtype=Int64, value=
[[  1,  10, 100],
 [  2,  20, 200]])
)doc";

inline constexpr char einsum[] =
    R"doc(Einstein summation over the operands (numpy.einsum: explicit `->` output, repeated indices
for traces and diagonals, `...` for broadcast dimensions); products run on BLAS.

>>> a, b = tg.ones((2, 3)), tg.ones((3, 4))
>>> tg.einsum("ij,jk->ik", a, b).shape
(2, 4)
>>> tg.einsum("ii", tg.tensor([[1.0, 2.0], [3.0, 4.0]]))  # the trace
Tensor(shape=[], dtype=Float32, value= 5)
>>> tg.einsum("bi,bi->b", tg.ones((5, 3)), tg.ones((5, 3))).shape
(5,)
)doc";

inline constexpr char trace[] =
    R"doc(The sum of the diagonal offset by offset, over axes axis1 and axis2.

>>> x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.trace(x)
Tensor(shape=[], dtype=Float32, value= 5)
>>> x.trace(offset=1)
Tensor(shape=[], dtype=Float32, value= 2)
)doc";

inline constexpr char norm[] =
    R"doc(numpy.linalg.norm: the 2-norm of the flattened x by default; ord is a number, inf, -inf,
'fro' or 'nuc'; axis picks a vector axis (an int) or matrix axes (a pair). The gradient of the
2-norm at 0 is 0.

>>> x = tg.tensor([3.0, 4.0])
>>> tg.norm(x)
Tensor(shape=[], dtype=Float32, value= 5)
>>> x.norm(ord=1)
Tensor(shape=[], dtype=Float32, value= 7)
>>> tg.norm(tg.tensor([[3.0, 4.0], [0.0, 1.0]]), axis=1)
Tensor(shape=[2], dtype=Float32, value= [ 5.00000000e+00,  1.00000000e+00])
)doc";

inline constexpr char linalg_solve[] =
    R"doc(The solution x of a @ x = b (LAPACK gesv); a is (..., n, n), b is (..., n) or (..., n, k).
A singular a raises ValueError. Differentiable in a and b.

>>> a = tg.tensor([[2.0, 0.0], [0.0, 4.0]])
>>> tg.linalg.solve(a, tg.tensor([2.0, 2.0]))
Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+00,  5.00000000e-01])
)doc";

inline constexpr char linalg_inv[] =
    R"doc(The inverse of each square matrix in a (..., n, n); a singular matrix raises ValueError.

>>> a = tg.tensor([[2.0, 1.0], [1.0, 1.0]])
>>> tg.linalg.inv(a)
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 1.00000000e+00, -1.00000000e+00],
 [-1.00000000e+00,  2.00000000e+00]])
)doc";

inline constexpr char linalg_det[] =
    R"doc(The determinant of each square matrix in a (..., n, n), by LU; 0 when singular.

>>> a = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.linalg.det(a)
Tensor(shape=[], dtype=Float32, value= -2)
>>> tg.grad(tg.linalg.det)(a)  # det(a) * inv(a).T
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 4.00000000e+00, -3.00000000e+00],
 [-2.00000000e+00,  1.00000000e+00]])
)doc";

inline constexpr char linalg_slogdet[] =
    R"doc((sign, log|det|) of each square matrix in a; tapegrad.linalg.slogdet gives them as a named
tuple.

>>> sign, logabsdet = tg._core.linalg.slogdet(tg.tensor([[-1.0, 0.0], [0.0, 1.0]]))
>>> print(sign, logabsdet)
-1.0 0.0
)doc";

inline constexpr char linalg_cholesky[] =
    R"doc(The lower-triangular L with L @ L.T = a, for each symmetric positive-definite a (..., n,
n); a matrix that is not positive definite raises ValueError.

>>> tg.linalg.cholesky(tg.tensor([[4.0, 2.0], [2.0, 2.0]]))
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 2.00000000e+00,  0.00000000e+00],
 [ 1.00000000e+00,  1.00000000e+00]])
)doc";

inline constexpr char linalg_norm[] =
    R"doc(numpy.linalg.norm (the same function as tapegrad.norm): vector and matrix norms; ord is a
number, inf, -inf, 'fro' or 'nuc'.

>>> a = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> tg.linalg.norm(a, "fro") ** 2
Tensor(shape=[], dtype=Float32, value= 30)
>>> tg.linalg.norm(a, ord=1)  # the largest column sum
Tensor(shape=[], dtype=Float32, value= 6)
)doc";

// ---- the Tensor class (tensor.cpp), dtypes (convert.cpp) and DLPack (dlpack.cpp) ----

inline constexpr char Tensor[] =
    R"doc(An n-dimensional array whose every op runs in C++ and is differentiable.

`Tensor(data, dtype=None)` (or `tg.tensor`) takes a Python scalar, a nested list, a numpy array (its
dtype is kept) or another Tensor. Python floats become Float32, ints Int64, bools Bool. Operators
(`+ - * / // % ** @`, comparisons, `& | ^ ~`) mix with Python scalars and numpy arrays on either
side and follow numpy's type promotion; `ndarray * Tensor` is a Tensor. Indexing takes ints, slices,
None, `...`, integer and Bool tensors, lists and arrays, and tuples of them; assignment `t[idx] = v`
takes the same. `repr` is MindSpore's, `str` numpy's.

>>> x = tg.Tensor([[1.0, 2.0], [3.0, 4.0]])
>>> x
Tensor(shape=[2, 2], dtype=Float32, value=
[[ 1.00000000e+00,  2.00000000e+00],
 [ 3.00000000e+00,  4.00000000e+00]])
>>> print(x * 2 + 1)
[[3. 5.]
 [7. 9.]]
>>> np.ones(2) * tg.tensor([1.0, 2.0])
Tensor(shape=[2], dtype=Float64, value= [ 1.00000000e+00,  2.00000000e+00])
>>> x > 2
Tensor(shape=[2, 2], dtype=Bool, value=
[[False, False],
 [ True,  True]])
>>> x[x > 2]
Tensor(shape=[2], dtype=Float32, value= [ 3.00000000e+00,  4.00000000e+00])
>>> tg.tensor(7) // 2, tg.tensor(2.0) ** 0.5 < 1.5
(Tensor(shape=[], dtype=Int64, value= 3), Tensor(shape=[], dtype=Bool, value= True))
)doc";

inline constexpr char Tensor_shape[] =
    R"doc(The dimensions, as a tuple of ints.

>>> tg.zeros((2, 3)).shape
(2, 3)
>>> tg.tensor(1.0).shape
()
)doc";

inline constexpr char Tensor_dtype[] =
    R"doc(The element type: a tapegrad dtype (it prints as MindSpore's name).

>>> tg.tensor([1.0]).dtype, tg.tensor([1]).dtype, tg.tensor(True).dtype
(Float32, Int64, Bool)
>>> tg.tensor([1.0]).dtype == tg.float32
True
)doc";

inline constexpr char Tensor_ndim[] =
    R"doc(The number of dimensions.

>>> tg.zeros((2, 3)).ndim, tg.tensor(1.0).ndim
(2, 0)
)doc";

inline constexpr char Tensor_size[] =
    R"doc(The number of elements.

>>> tg.zeros((2, 3)).size
6
)doc";

inline constexpr char Tensor_itemsize[] =
    R"doc(Bytes per element.

>>> tg.zeros(2, tg.float64).itemsize, tg.zeros(2, tg.int32).itemsize
(8, 4)
)doc";

inline constexpr char Tensor_nbytes[] =
    R"doc(Bytes of all the elements (size * itemsize).

>>> tg.zeros((2, 3)).nbytes
24
)doc";

inline constexpr char Tensor_strides[] =
    R"doc(Bytes to step in each dimension, as numpy's strides.

>>> x = tg.zeros((2, 3))
>>> x.strides, x.T.strides
((12, 4), (4, 12))
)doc";

inline constexpr char Tensor_device[] =
    R"doc(Where the memory is: "CPU" (or "GPU" with the CUDA backend).

>>> tg.zeros(2).device
'CPU'
)doc";

inline constexpr char Tensor_T[] =
    R"doc(The transpose (axes reversed), a view.

>>> tg.tensor([[1, 2, 3]]).T
Tensor(shape=[3, 1], dtype=Int64, value=
[[1],
 [2],
 [3]])
)doc";

inline constexpr char Tensor_is_contiguous[] =
    R"doc(Whether the elements are in row-major order without gaps.

>>> x = tg.zeros((2, 3))
>>> x.is_contiguous(), x.T.is_contiguous()
(True, False)
)doc";

inline constexpr char Tensor_asnumpy[] =
    R"doc(A numpy array copy of the value (MindSpore's name).

>>> tg.tensor([[1.0, 2.0]]).asnumpy()
array([[1., 2.]], dtype=float32)
)doc";

inline constexpr char Tensor_numpy[] =
    R"doc(A numpy array copy of the value.

>>> tg.tensor([1, 2], tg.int32).numpy()
array([1, 2], dtype=int32)
)doc";

inline constexpr char Tensor___array__[] =
    R"doc(numpy's conversion protocol: `np.asarray(t)` is a read-only view of the memory when
possible; `dtype` converts, `copy=True` gives a fresh writable array.

>>> np.asarray(tg.tensor([1.0, 2.0]))
array([1., 2.], dtype=float32)
>>> np.asarray(tg.tensor([1.0, 2.0]), dtype=np.float64)
array([1., 2.])
)doc";

inline constexpr char Tensor_item[] =
    R"doc(The value of a one-element tensor as a Python scalar (ValueError otherwise).

>>> tg.tensor([2.5]).item(), tg.tensor(3).item(), tg.tensor(True).item()
(2.5, 3, True)
)doc";

inline constexpr char Tensor_tolist[] =
    R"doc(The value as nested Python lists of Python scalars.

>>> tg.tensor([[1, 2], [3, 4]]).tolist()
[[1, 2], [3, 4]]
)doc";

inline constexpr char Tensor___float__[] =
    R"doc(`float(t)` of a one-element tensor (TypeError otherwise).

>>> float(tg.tensor([2.5]))
2.5
)doc";

inline constexpr char Tensor___int__[] =
    R"doc(`int(t)` of a one-element tensor, truncating (TypeError otherwise).

>>> int(tg.tensor(3.9)), int(tg.tensor([-3.9]))
(3, -3)
)doc";

inline constexpr char Tensor___index__[] =
    R"doc(A 0-d integer tensor used as an index or in `range`.

>>> list(range(tg.tensor(3)))
[0, 1, 2]
)doc";

inline constexpr char Tensor___bool__[] =
    R"doc(`bool(t)` of a one-element tensor; more elements are ambiguous (ValueError, as numpy).

>>> bool(tg.tensor([1])), bool(tg.tensor(0.0))
(True, False)
>>> bool(tg.tensor([1, 2]))
Traceback (most recent call last):
ValueError: The truth value of a Tensor with more than one element is ambiguous ...
)doc";

inline constexpr char Tensor___len__[] =
    R"doc(The size of the first dimension (TypeError for a 0-d tensor).

>>> len(tg.zeros((3, 2)))
3
)doc";

inline constexpr char Tensor___getitem__[] =
    R"doc(Indexing, as numpy: ints (negative too), slices with steps, None, `...`, integer
tensors/lists/arrays (a gather), Bool masks, and tuples of them. Basic indexing gives views; out of
range is an IndexError. Differentiable.

>>> x = tg.tensor([[1, 2, 3], [4, 5, 6]])
>>> x[0]
Tensor(shape=[3], dtype=Int64, value= [1, 2, 3])
>>> x[:, ::2]
Tensor(shape=[2, 2], dtype=Int64, value=
[[1, 3],
 [4, 6]])
>>> x[-1, tg.tensor([2, 0], tg.int32)]
Tensor(shape=[2], dtype=Int64, value= [6, 4])
>>> x[x % 2 == 0]
Tensor(shape=[3], dtype=Int64, value= [2, 4, 6])
>>> x[None, ..., 1].shape
(1, 2)
)doc";

inline constexpr char Tensor___setitem__[] =
    R"doc(Assignment in place, `t[idx] = v`, for every index `__getitem__` takes; v broadcasts to
the selection and is converted to t's dtype.

>>> x = tg.zeros(4)
>>> x[1:3] = 1.0
>>> x[tg.tensor([0])] = tg.tensor([5.0])
>>> x[x == 0] = -1.0
>>> print(x)
[ 5.  1.  1. -1.]
>>> mask = tg.zeros((3, 3))
>>> mask[tg.arange(3), tg.tensor([0, 2, 1], tg.int32)] = 1
>>> print(mask)
[[1. 0. 0.]
 [0. 0. 1.]
 [0. 1. 0.]]
)doc";

inline constexpr char Tensor___copy__[] =
    R"doc(`copy.copy(t)`: a copy with its own memory.

>>> import copy
>>> x = tg.tensor([1.0])
>>> y = copy.copy(x)
>>> y[0] = 2.0
>>> print(x, y)
[1.] [2.]
)doc";

inline constexpr char Tensor___dlpack__[] =
    R"doc(The DLPack protocol: a capsule sharing this tensor's memory, for `numpy.from_dlpack`,
`torch.from_dlpack` and `tg.from_dlpack`.

>>> x = tg.tensor([1.0, 2.0])
>>> np.from_dlpack(x)
array([1., 2.], dtype=float32)
)doc";

inline constexpr char Tensor___dlpack_device__[] =
    R"doc(The DLPack device of the memory: (1, 0) is the CPU.

>>> tg.zeros(1).__dlpack_device__()
(1, 0)
)doc";

inline constexpr char from_dlpack[] =
    R"doc(A Tensor sharing the memory of any object with __dlpack__ (numpy arrays, torch tensors,
...) or of a DLPack capsule; `copy=True` copies.

>>> a = np.arange(3.0)
>>> t = tg.from_dlpack(a)
>>> t
Tensor(shape=[3], dtype=Float64, value= [ 0.00000000e+00,  1.00000000e+00,  2.00000000e+00])
>>> a[0] = 7.0  # the same memory
>>> print(t)
[7. 1. 2.]
)doc";

inline constexpr char dtype[] =
    R"doc(A tensor element type: `tg.float32`, `tg.float64`, `tg.float16`, `tg.int32`, `tg.int64`,
`tg.bool_`. It prints as MindSpore's name and compares equal to the numpy dtype and its name, so
numpy accepts it too.

>>> tg.float32, tg.bool_
(Float32, Bool)
>>> tg.float32 == "float32", tg.float32 == np.float32
(True, True)
>>> np.zeros(2, dtype=tg.float64).dtype
dtype('float64')
)doc";

inline constexpr char dtype_name[] =
    R"doc(numpy's name of the dtype.

>>> tg.float32.name, tg.bool_.name
('float32', 'bool')
)doc";

inline constexpr char dtype_itemsize[] =
    R"doc(Bytes per element.

>>> tg.float16.itemsize, tg.int64.itemsize
(2, 8)
)doc";

inline constexpr char dtype_is_floating_point[] =
    R"doc(Whether the dtype is a floating-point type (differentiable).

>>> tg.float64.is_floating_point, tg.int32.is_floating_point
(True, False)
)doc";

inline constexpr char dtype_numpy_dtype[] =
    R"doc(The numpy dtype.

>>> tg.int32.numpy_dtype
dtype('int32')
)doc";

inline constexpr char dtype_dtype[] =
    R"doc(The numpy dtype (numpy reads `.dtype` of any object: `np.dtype(tg.float32)`).

>>> np.dtype(tg.float32)
dtype('float32')
)doc";

}  // namespace docs
}  // namespace bind
}  // namespace tapegrad
