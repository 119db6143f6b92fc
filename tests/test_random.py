"""Counter-based random numbers: Philox known answers, reproducibility, threads, moments."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg


@pytest.fixture(autouse=True)
def _restore_generator():
    seed = tg.get_seed()
    yield
    tg.set_seed(seed)


# Known-answer vectors of Random123 (Salmon et al., SC 2011) for Philox4x32-10:
# counter, key, output.
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("ctr, key, out", PHILOX_KAT)
def test_philox_known_answers(ctr, key, out):
    assert tuple(tg._core._philox4x32_10(list(ctr), list(key))) == out


def test_uniform_bits_come_from_the_philox_stream():
    # Element i of a float32 draw is the top 24 bits of word i % 4 of block i // 4, keyed by the
    # seed; 43 blocks cover the 16- and 8-block SIMD forms and the scalar tail.
    tg.set_seed(0x0123456789ABCDEF)
    x = tg.rand(170).asnumpy()
    key = [0x89ABCDEF, 0x01234567]
    words = [w for b in range(43) for w in tg._core._philox4x32_10([b, 0, 0, 0], key)]
    expected = np.array([(w >> 8) * 2.0**-24 for w in words[:170]], np.float32)
    np.testing.assert_array_equal(x, expected)
    # The next call continues with block 43.
    y = tg.rand(4).asnumpy()
    w43 = tg._core._philox4x32_10([43, 0, 0, 0], key)
    np.testing.assert_array_equal(y, np.array([(w >> 8) * 2.0**-24 for w in w43], np.float32))


DRAWS = {
    "rand": lambda dt: tg.rand(3, 5, dtype=dt),
    "randn": lambda dt: tg.randn(3, 5, dtype=dt),
    "uniform": lambda dt: tg.uniform(-2.0, 3.0, shape=(3, 5), dtype=dt),
    "normal": lambda dt: tg.normal(1.0, 2.0, shape=(3, 5), dtype=dt),
}


@pytest.mark.parametrize("name", list(DRAWS))
@pytest.mark.parametrize("dtype", [tg.float16, tg.float32, tg.float64])
def test_seed_replays_and_calls_advance(name, dtype):
    draw = DRAWS[name]
    tg.set_seed(123)
    a, b = draw(dtype).asnumpy(), draw(dtype).asnumpy()
    tg.set_seed(123)
    a2, b2 = draw(dtype).asnumpy(), draw(dtype).asnumpy()
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    assert not np.array_equal(a, b)  # successive calls differ
    tg.set_seed(124)
    assert not np.array_equal(draw(dtype).asnumpy(), a)
    assert a.dtype == np.dtype(dtype.name) and a.shape == (3, 5)


def test_randint_replays():
    tg.set_seed(7)
    a = tg.randint(0, 1000, shape=(50,)).asnumpy()
    tg.set_seed(7)
    np.testing.assert_array_equal(tg.randint(0, 1000, shape=(50,)).asnumpy(), a)
    assert not np.array_equal(tg.randint(0, 1000, shape=(50,)).asnumpy(), a)


def test_sequence_depends_only_on_seed_and_position():
    # One draw of 10 equals the first 10 of a larger draw from the same state (for float32 uniform,
    # each element has its own word), and the number of threads does not matter.
    tg.set_seed(99)
    small = tg.rand(8).asnumpy()
    tg.set_seed(99)
    big = tg.rand(1000).asnumpy()
    np.testing.assert_array_equal(small, big[:8])


_THREADS_SCRIPT = """
import numpy as np, tapegrad as tg
draws = [lambda: tg.rand(300001), lambda: tg.randn(300001),
         lambda: tg.randn(200001, dtype=tg.float64), lambda: tg.randint(-5, 17, shape=(300001,)),
         lambda: tg.uniform(shape=(150001,), dtype=tg.float64)]
def run():
    tg.set_seed(2024)
    return [d().asnumpy() for d in draws]
tg.set_num_threads(1)
one = run()
tg.set_num_threads(2)
two = run()
assert tg.get_num_threads() == 2
for a, b in zip(one, two):
    np.testing.assert_array_equal(a, b)
print("same")
"""


def test_independent_of_thread_count():
    # In a fresh process: the pool is resized before it ran any parallel region (resizing a pool
    # that has run one crashes the current kernels' thread pool; see the branch report).
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run(
        [sys.executable, "-c", _THREADS_SCRIPT],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "same"


def _moments(x):
    x = x.astype(np.float64)
    m = x.mean()
    return m, x.var(), ((x - m) ** 3).mean() / x.std() ** 3, ((x - m) ** 4).mean() / x.var() ** 2


N = 200_000


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64, tg.float16])
def test_uniform_moments_and_range(dtype):
    tg.set_seed(5)
    x = tg.uniform(-1.0, 3.0, shape=(N,), dtype=dtype).asnumpy()
    assert x.dtype == np.dtype(dtype.name)
    assert x.min() >= -1.0 and x.max() < 3.0
    m, v, skew, _ = _moments(x)
    tol = 5 / math.sqrt(N)
    assert abs(m - 1.0) < 4 * tol * 2
    assert abs(v - 16 / 12) < 4 * tol * 2
    assert abs(skew) < 0.05
    # Roughly flat histogram.
    counts, _ = np.histogram(x, bins=10, range=(-1, 3))
    assert np.all(np.abs(counts / N - 0.1) < 0.005)


def test_uniform_stays_below_high_after_rounding():
    # 1 - 2^-24 * 2^k rounds up to high in float16; the sample must still stay below it.
    tg.set_seed(11)
    x = tg.uniform(0.0, 1.0, shape=(100_000,), dtype=tg.float16).asnumpy()
    assert x.max() < 1.0 and x.min() >= 0.0
    x = tg.uniform(1.0, 1.0 + 2**-20, shape=(10_000,), dtype=tg.float32).asnumpy()
    assert x.max() < np.float32(1.0 + 2**-20) and x.min() >= 1.0
    assert np.all(tg.uniform(2.0, 2.0, shape=(5,)).asnumpy() == 2.0)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_normal_moments(dtype):
    tg.set_seed(6)
    x = tg.normal(2.0, 3.0, shape=(N,), dtype=dtype).asnumpy()
    assert x.dtype == np.dtype(dtype.name)
    m, v, skew, kurt = _moments(x)
    assert abs(m - 2.0) < 5 * 3.0 / math.sqrt(N)
    assert abs(v / 9.0 - 1.0) < 5 * math.sqrt(2 / N)
    assert abs(skew) < 5 * math.sqrt(6 / N)
    assert abs(kurt - 3.0) < 5 * math.sqrt(24 / N)
    # Tail probabilities of the standard normal.
    z = (x - 2.0) / 3.0
    assert abs(np.mean(np.abs(z) < 1) - 0.6827) < 0.005
    assert abs(np.mean(np.abs(z) < 2) - 0.9545) < 0.003


def test_randn_shapes_and_defaults():
    assert tg.randn(shape=()).shape == ()
    assert tg.randn().shape == ()
    assert tg.randn(2, 3).shape == (2, 3)
    assert tg.randn((2, 3)).shape == (2, 3)
    assert tg.randn([4]).shape == (4,)
    assert tg.randn(0, 3).shape == (0, 3)
    assert tg.rand(2, shape=None).shape == (2,)
    assert tg.randn(2).dtype == tg.float32
    assert tg.rand(2).dtype == tg.float32
    assert tg.uniform().shape == () and tg.normal().shape == ()
    assert tg.uniform(shape=None).shape == ()
    assert tg.normal(shape=4).shape == (4,)
    assert tg.randint(3).dtype == tg.int64 and tg.randint(3).shape == ()
    assert tg.randint(3, shape=(2, 2), dtype=tg.int32).dtype == tg.int32


@pytest.mark.parametrize(
    "low, high, dtype",
    [
        (0, 10, tg.int64),
        (-5, 5, tg.int32),
        (7, None, tg.int64),
        (-(2**62), 2**62, tg.int64),
        (2**31 - 3, 2**31, tg.int64),
        (-(2**31), 2**31, tg.int64),
        (-(2**31), -(2**31) + 1, tg.int32),
    ],
)
def test_randint_range_and_uniformity(low, high, dtype):
    tg.set_seed(8)
    x = tg.randint(low, high, shape=(N,), dtype=dtype).asnumpy()
    lo, hi = (0, low) if high is None else (low, high)
    assert x.dtype == np.dtype(dtype.name)
    assert x.min() >= lo and x.max() < hi
    if hi - lo <= 10:
        counts = np.bincount((x - lo).astype(np.int64), minlength=hi - lo)
        assert len(counts) == hi - lo
        assert np.all(np.abs(counts / N - 1 / (hi - lo)) < 0.01)
    else:
        # mean of a discrete uniform distribution
        mean = (lo + hi - 1) / 2
        assert abs(x.astype(np.float64).mean() - mean) < 5 * (hi - lo) / math.sqrt(12 * N)


def test_random_accepts_scalar_tensors_and_numpy_scalars():
    tg.set_seed(3)
    a = tg.normal(tg.tensor(1.0), np.float64(0.5), shape=(4,)).asnumpy()
    tg.set_seed(3)
    np.testing.assert_array_equal(tg.normal(1.0, 0.5, shape=(4,)).asnumpy(), a)
    assert tg.randint(np.int32(2), tg.tensor(9), shape=3).shape == (3,)


def test_seed_values():
    tg.set_seed(0)
    assert tg.get_seed() == 0
    tg.set_seed(2**64 - 1)
    assert tg.get_seed() == 2**64 - 1
    tg.set_seed(np.uint64(5))
    assert tg.get_seed() == 5


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: tg.set_seed(-1), ValueError, "set_seed: seed must be non-negative"),
        (lambda: tg.set_seed(2**64), ValueError, "set_seed: seed must be less than 2\\*\\*64"),
        (lambda: tg.set_seed(1.5), TypeError, "set_seed: seed must be an int"),
        (lambda: tg.set_seed("1"), TypeError, "set_seed"),
        (lambda: tg.randn(2, shape=(2,)), TypeError, "randn: give the shape"),
        (lambda: tg.randn(-1), ValueError, "randn: negative dimensions"),
        (lambda: tg.rand(2.5), TypeError, "rand: shape"),
        (lambda: tg.rand(2, dtype=tg.int32), TypeError, "rand: dtype must be a float dtype"),
        (
            lambda: tg.randn(2, dtype="int64"),
            TypeError,
            "randn: dtype must be a float or complex dtype",
        ),
        (lambda: tg.uniform(2.0, 1.0), ValueError, "uniform: low .* must not be greater than high"),
        (lambda: tg.uniform(0.0, np.inf), ValueError, "uniform: .* must be finite"),
        (lambda: tg.uniform("a", 1.0), TypeError, "uniform: low must be a real number"),
        (lambda: tg.normal(0.0, -1.0), ValueError, "normal: stddev must be non-negative"),
        (lambda: tg.normal(np.nan, 1.0), ValueError, "normal: .* must be finite"),
        (lambda: tg.normal(None), TypeError, "normal: mean must be a real number"),
        (
            lambda: tg.normal(tg.zeros(2)),
            TypeError,
            "normal: mean must be a number, got a tensor of shape",
        ),
        (lambda: tg.randint(5, 5), ValueError, "randint: low .* must be less than high"),
        (lambda: tg.randint(0), ValueError, "randint"),
        (lambda: tg.randint(0.5, 3), TypeError, "randint: low must be an int"),
        (
            lambda: tg.randint(0, 2**40, dtype=tg.int32),
            ValueError,
            "randint: the range .* does not fit in Int32",
        ),
        (
            lambda: tg.randint(0, 3, dtype=tg.float32),
            TypeError,
            "randint: dtype must be an integer dtype",
        ),
        (lambda: tg.randint(0, 2**70), ValueError, "randint: high"),
    ],
)
def test_random_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_random_values_are_constants_under_grad():
    tg.set_seed(1)

    def f(x):
        return (x * tg.randn(3, dtype=tg.float64)).sum()

    x = tg.tensor([1.0, 2.0, 3.0], tg.float64)
    tg.set_seed(1)
    g = tg.grad(f)(x)
    tg.set_seed(1)
    noise = tg.randn(3, dtype=tg.float64)
    np.testing.assert_array_equal(g.asnumpy(), noise.asnumpy())


# ---- complex dtypes ---------------------------------------------------------------------------
# randn/normal draw complex samples as jax.random.normal does (real and imaginary parts
# independent, each of variance stddev**2 / 2); rand/uniform refuse complex dtypes as numpy's
# Generator.random and jax.random.uniform do.


@pytest.mark.parametrize("dtype", [tg.complex64, tg.complex128, "complex64", np.complex128])
def test_randn_complex_dtype_and_moments(dtype):
    tg.set_seed(11)
    z = tg.randn(200_000, dtype=dtype).numpy()
    assert z.dtype == np.dtype(str(np.dtype(dtype)) if not hasattr(dtype, "name") else dtype.name)
    assert abs(z.real.var() - 0.5) < 0.01 and abs(z.imag.var() - 0.5) < 0.01
    assert abs(z.real.mean()) < 0.01 and abs(z.imag.mean()) < 0.01
    assert abs(np.corrcoef(z.real, z.imag)[0, 1]) < 0.01  # independent parts
    assert abs((np.abs(z) ** 2).mean() - 1.0) < 0.01  # E|z|^2 = 1, JAX's convention


def test_normal_complex_mean_and_stddev():
    tg.set_seed(5)
    z = tg.normal(1 + 2j, 3.0, shape=(100_000,), dtype=tg.complex128).numpy()
    assert z.dtype == np.complex128
    assert abs(z.real.mean() - 1) < 0.05 and abs(z.imag.mean() - 2) < 0.05
    assert abs(z.real.var() - 4.5) < 0.1 and abs(z.imag.var() - 4.5) < 0.1
    # A real mean with a complex dtype: the imaginary part centred on 0.
    w = tg.normal(2.0, 1.0, shape=(50_000,), dtype=tg.complex64).numpy()
    assert abs(w.real.mean() - 2) < 0.03 and abs(w.imag.mean()) < 0.03


def test_complex_draws_reproducible_for_a_seed():
    tg.set_seed(123)
    a = tg.randn(3, 4, dtype=tg.complex64).numpy()
    b = tg.normal(0.5j, 2.0, shape=(5,), dtype=tg.complex128).numpy()
    tg.set_seed(123)
    np.testing.assert_array_equal(tg.randn(3, 4, dtype=tg.complex64).numpy(), a)
    np.testing.assert_array_equal(tg.normal(0.5j, 2.0, shape=(5,), dtype=tg.complex128).numpy(), b)
    # The parts are the generator's next two real draws, scaled by sqrt(1/2).
    tg.set_seed(9)
    z = tg.randn(6, dtype=tg.complex128).numpy()
    tg.set_seed(9)
    re = tg.randn(6, dtype=tg.float64).numpy()
    im = tg.randn(6, dtype=tg.float64).numpy()
    np.testing.assert_allclose(z.real, re * np.sqrt(0.5), rtol=1e-15)
    np.testing.assert_allclose(z.imag, im * np.sqrt(0.5), rtol=1e-15)


def test_complex_draw_shapes():
    assert tg.randn(dtype=tg.complex64, shape=()).shape == ()
    assert tg.randn(0, 3, dtype=tg.complex64).shape == (0, 3)
    assert tg.normal(shape=(2, 0), dtype=tg.complex128).dtype == tg.complex128


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tg.rand(2, dtype=tg.complex64), "rand: dtype must be a float dtype.*Complex64"),
        (lambda: tg.uniform(0, 1, (2,), tg.complex128), "uniform: dtype must be a float dtype"),
        (lambda: tg.uniform(0, 1, (2,), "complex64"), "uniform samples of complex numbers"),
        (lambda: tg.randint(0, 3, (2,), tg.complex64), "randint: dtype must be an integer"),
        (lambda: tg.normal(1j, 1.0, (2,)), "normal: mean must be a real number for a real dtype"),
        (lambda: tg.randn(2, dtype=tg.int8), "randn: dtype must be a float or complex dtype"),
        (lambda: tg.rand(None), "rand: shape must contain ints"),
        (lambda: tg.randn("ab"), "randn: shape must contain ints"),
    ],
)
def test_random_dtype_errors_name_the_function(call, match):
    with pytest.raises(TypeError, match=match):
        call()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: tg.normal(0.0, -1.0, (2,), tg.complex64), "normal: stddev must be non-negative"),
        (lambda: tg.normal(complex(np.inf, 0), 1.0, (2,), tg.complex64), "normal: mean"),
        (lambda: tg.randn(-1, dtype=tg.complex64), "randn: negative dimensions"),
    ],
)
def test_complex_normal_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
