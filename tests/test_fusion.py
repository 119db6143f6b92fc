"""Fused tape replay (Note [Fused replay] in csrc/autodiff/fusion.h) and tg.memory_stats.

Fused replays must give the eager values bit for bit (a fused sum over all axes excepted: it adds
in float64 in blocks), compose with outer transforms, guards, random draws and recorded writes, and
hold less memory. The jit test suites also run in subprocesses with fusion off
(TAPEGRAD_JIT_FUSE=0) and with every group fused however small (TAPEGRAD_JIT_FUSE_MIN=1).
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg

N = 6000  # above the fusion threshold (4096 elements)
HERE = os.path.dirname(os.path.abspath(__file__))


def special_values(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4, 4, n).astype(dtype)
    x[:8] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-30, -1e30, 1.0]
    return x


def assert_sum_bound(got, terms, axis):
    """`got` is a sum of `terms` over `axis` within the bound of Note [Fused replay]: at most
    len * eps * sum(|terms|) from the exact sum (plus the final rounding), NaN and infinite where
    the exact sum is."""
    got, t = np.asarray(got), np.asarray(terms)
    eps = np.finfo(t.dtype).eps
    t64 = t.astype(np.float64)
    axes = axis if isinstance(axis, tuple) else (axis,)
    length = int(np.prod([t.shape[a] for a in axes]))
    with np.errstate(invalid="ignore", over="ignore"):
        exact = t64.sum(axis=axis)
        bound = length * eps * np.abs(t64).sum(axis=axis) + eps * np.abs(exact)
    assert got.dtype == t.dtype and got.shape == exact.shape
    g = got.astype(np.float64)
    finite = np.isfinite(exact)
    assert np.array_equal(np.isnan(g), np.isnan(exact))
    assert np.array_equal(g[~finite & ~np.isnan(exact)], exact[~finite & ~np.isnan(exact)])
    assert np.all(np.abs(g[finite] - exact[finite]) <= bound[finite])


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    a, b = a.reshape(-1), b.reshape(-1)
    assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), np.max(
        np.abs(a.astype(float) - b.astype(float))
    )


CHAINS = {
    "sin_mul": lambda a, b: tg.sin(a) * b,
    "expression": lambda a, b: 2 * a + 3 * b**2 - tg.exp(-a),
    "powers": lambda a, b: a**2 + b**0.5 - a**-1 + b**1 + a**0 + a**3,
    "where_compare": lambda a, b: tg.where(a > b, tg.tanh(a), -b) + tg.maximum(a, b),
    "casts_masks": lambda a, b: (a < 0).astype(a.dtype) * b + tg.isnan(a).astype(a.dtype),
    "long": lambda a, b: (
        tg.log1p(tg.abs(tg.sigmoid(a) - tg.cos(b) / (1 + a * a))) * tg.sqrt(tg.abs(b))
    ),
    "clip_like": lambda a, b: tg.minimum(tg.maximum(a, -1.0), 1.0) - tg.floor(b) + b % 1.5,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(CHAINS))
def test_fused_chains_equal_eager_bit_for_bit(name, dtype):
    f = CHAINS[name]
    a = tg.tensor(special_values(N, dtype, 1))
    b = tg.tensor(special_values(N, dtype, 2))
    want = f(a, b)
    fused, plain = tg.jit(f), tg.jit(f, fuse=False)
    for _ in range(3):  # the first call records, the others replay
        same_bits(fused(a, b), want)
        same_bits(plain(a, b), want)
    assert "fused group" in fused.explain() and "group 0" in fused.explain()
    assert "group 0" not in plain.explain() and "fusion is off" in plain.explain()
    assert fused.cache_info()["replays"] == 2


def test_scalar_tensor_operands_and_exponents_are_read_on_each_replay():
    f = tg.jit(lambda x, e, s: x**e * s + s)
    x = tg.tensor(special_values(N, np.float32))
    for ev in [2.0, 0.5, -1.0, 1.0, 0.0, 3.0, 2.0]:
        e, s = tg.tensor(np.float32(ev)), tg.tensor(np.float32(ev + 1))
        same_bits(f(x, e, s), x**e * s + s)
    assert f.cache_info()["records"] == 1


def test_broadcast_operands_of_the_same_size_and_0d_and_empty_inputs():
    f = tg.jit(lambda x, y: tg.exp(x) * y - x)
    x = tg.tensor(special_values(N, np.float32).reshape(1, N))
    y = tg.tensor(special_values(N, np.float32, 3))
    for _ in range(3):
        same_bits(f(x, y), tg.exp(x) * y - x)
    for shape in [(), (0,), (0, 5)]:
        z = tg.zeros(shape)
        for _ in range(2):
            same_bits(f(z, z), tg.exp(z) * z - z)


def test_non_contiguous_inputs_give_the_same_values():
    f = tg.jit(lambda x: tg.sin(x) * x + 1)
    base = tg.tensor(special_values(2 * N, np.float64))
    c = tg.tensor(np.ascontiguousarray(np.asarray(base)[::2]))
    same_bits(f(c), tg.sin(c) * c + 1)
    same_bits(f(c), tg.sin(c) * c + 1)
    s = base[::2]  # same signature (shape, dtype), strided memory
    same_bits(f(s), tg.sin(s) * s + 1)
    assert f.cache_info()["records"] == 1


def grad_loss(x):
    return (tg.sin(x) * x).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_jit_grad_is_one_fused_pass_equal_to_eager(dtype):
    x = tg.tensor(special_values(N, dtype)[8:])  # finite values
    g = tg.jit(tg.grad(grad_loss))
    want = tg.grad(grad_loss)(x)
    for _ in range(3):
        same_bits(g(x), want)
    text = g.explain()
    assert (
        "1 fused group(s)" in text and re.search(r"\bsin\b", text) and re.search(r"\bcos\b", text)
    )


def trig_values(n, dtype):
    """Arguments of every kind for sin/cos: special values, the float32 and float64 reduction
    branches (|x| around 65536 and 1e6, where the vector path hands over to libm), subnormals."""
    x = special_values(n, dtype, 4)
    x[8:16] = [65536.0, -65537.5, 1e6, -1e6 - 1, 3e6, 1e-40, -1e-310, np.pi / 2]
    rng = np.random.default_rng(5)
    x[16:1016] = rng.uniform(-2e6, 2e6, 1000).astype(dtype)
    x[1016:2016] = rng.uniform(-7e4, 7e4, 1000).astype(dtype)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sin_and_cos_of_one_value_are_one_sincos_step_with_their_bits(dtype):
    from tapegrad import _config, _core

    def f(a):
        return tg.sin(a) * 2, tg.cos(a) - tg.sin(a), tg.cos(a[::1] * 3)

    x = tg.tensor(trig_values(N + 3, dtype))  # a tail shorter than a register too
    j = tg.jit(f)
    paths = _config.simd_available(_core._build_info())
    try:
        for path in paths:  # the sincos kernel of each path against that path's sin and cos
            assert _core._set_simd_path(path)
            want = f(x)
            for _ in range(3):
                for got, w in zip(j(x), want):
                    same_bits(got, w)
    finally:
        _core._set_simd_path("best")
    steps = re.search(r" steps \[([^\]]*)\]", j.explain()).group(1).split()
    assert steps.count("sincos") == 1 and "sin" not in steps, j.explain()
    # cos(a * 3) is of another register: it stays a cos step (a * 1 would fold to a)
    assert steps.count("cos") == 1


def test_a_lone_sin_or_cos_is_not_merged_and_dead_halves_go():
    x = tg.tensor(trig_values(N, np.float32))
    j = tg.jit(lambda a: tg.sin(a) * tg.cos(a + 1))
    for _ in range(2):
        same_bits(j(x), tg.sin(x) * tg.cos(x + 1))
    assert "sincos" not in j.explain()
    k = tg.jit(lambda a: (tg.cos(a), tg.sin(a) * 0)[0] + 1)  # the sin is dead
    for _ in range(2):
        same_bits(k(x), tg.cos(x) + 1)
    assert "sincos" not in k.explain()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_fused_max_and_min_over_all_axes_equal_eager(name, dtype):
    red = getattr(tg, name)

    def f(a, b):
        return red(tg.exp(a) * b), red(a - b), tg.tanh(a) + b

    a = tg.tensor(special_values(N, dtype, 1)[8:])  # finite values
    b = tg.tensor(special_values(N, dtype, 2)[8:])
    j = tg.jit(f)
    for _ in range(3):
        for got, want in zip(j(a, b), f(a, b)):
            same_bits(got, want)
    steps = re.search(r" steps \[([^\]]*)\]", j.explain()).group(1).split()
    assert steps.count(name) == 2 and "1 fused group(s)" in j.explain()
    # NaN anywhere (first, last or middle block) is the result, as eagerly; infinities too
    for pos in [0, N // 2, N - 9]:
        an = np.asarray(a).copy()
        an[pos] = np.nan
        an[7] = np.inf if name == "amax" else -np.inf
        an = tg.tensor(an)
        for got, want in zip(j(an, b), f(an, b)):
            same_bits(got, want)
    # a 2-D input reduced over every axis, and a scalar operand's extremum
    g = tg.jit(lambda m, s: (red(m * 3), red(tg.broadcast_to(s, m.shape) + m)))
    m = tg.tensor(special_values(N, dtype, 3)[8:].reshape(-1, 8))
    s = tg.tensor(dtype(-2.5))
    for _ in range(3):
        for got, want in zip(g(m, s), (red(m * 3), red(tg.broadcast_to(s, m.shape) + m))):
            same_bits(got, want)


@pytest.mark.parametrize("name", ["amax", "amin"])
def test_jit_grad_of_a_max_is_fused_and_exact(name):
    red = getattr(tg, name)

    def loss(x):
        return red(tg.sin(x) * x) + (x * x).sum()

    x = tg.tensor(np.linspace(-5, 5, N, dtype=np.float64))
    g = tg.jit(tg.grad(loss))
    want = tg.grad(loss)(x)
    for _ in range(3):
        same_bits(g(x), want)
    assert name in re.search(r" steps \[([^\]]*)\]", g.explain()).group(1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(600, 10), (6, 1000), (3, 3000), (2, 5, 700), (1, 7000)])
@pytest.mark.parametrize("name", ["sum", "amax", "amin"])
def test_reductions_over_the_last_axis_end_a_group_with_eager_bits(name, shape, dtype):
    red = getattr(tg, name)
    x = tg.tensor(special_values(int(np.prod(shape)), dtype, 6).reshape(shape))
    for keepdims in [False, True]:

        def f(a, kd=keepdims):
            return red(tg.exp(a) * a, axis=-1, keepdims=kd), tg.sin(a) + 1

        j = tg.jit(f)
        for _ in range(3):
            for got, want in zip(j(x), f(x)):
                if shape[0] == 1 and name == "sum":  # one row: a full sum (float64 blocks)
                    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5)
                else:
                    same_bits(got, want)
        assert "1 fused group(s)" in j.explain()
        if shape[0] > 1:
            assert f"{name}_rows" in j.explain()


def test_row_reductions_of_inputs_or_other_rows_or_long_rows_run_eagerly():
    x = tg.tensor(special_values(6000, np.float32).reshape(60, 100))
    y = tg.tensor(special_values(6000, np.float32).reshape(30, 200))
    cases = [
        lambda a, b: (tg.sin(a) * 2, tg.stop_gradient(a).sum(axis=-1)),  # an alias of an input
        lambda a, b: (tg.sin(a).sum(axis=-1), tg.cos(b).sum(axis=-1)),  # two row lengths
        lambda a, b: tg.amax(tg.exp(a) + 1, axis=0),  # an extremum not over the last axis
    ]
    for f in cases:
        j = tg.jit(f)
        for _ in range(3):
            got, want = j(x, y), f(x, y)
            for g, w in zip(
                got if isinstance(got, tuple) else [got],
                want if isinstance(want, tuple) else [want],
            ):
                same_bits(g, w)
    long = tg.tensor(special_values(2 * 9000, np.float64).reshape(2, 9000))
    j = tg.jit(lambda a: (tg.exp(a) * a).sum(axis=-1))
    for _ in range(3):
        same_bits(j(long), (tg.exp(long) * long).sum(axis=-1))
    assert "rows" not in j.explain()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_partially_broadcast_operands_join_a_group_with_eager_bits(dtype):
    rng = np.random.default_rng(8)
    x = tg.tensor(special_values(6000, dtype, 9).reshape(60, 100))
    r = tg.tensor(rng.standard_normal((60, 1)).astype(dtype))
    c = tg.tensor(rng.standard_normal(100).astype(dtype))
    c2 = tg.tensor(rng.standard_normal((1, 100)).astype(dtype))
    x3 = tg.tensor(special_values(6000, dtype, 10).reshape(3, 20, 100))
    r3 = tg.tensor(rng.standard_normal((3, 1, 1)).astype(dtype))
    m3 = tg.tensor(rng.standard_normal((20, 100)).astype(dtype))
    cases = [
        (lambda x, r, c, c2: tg.exp(x - r) * c + c2, (x, r, c, c2), 3),
        (lambda x, r, c, c2: tg.where(x > r, x, c) * tg.broadcast_to(r, x.shape), (x, r, c, c2), 2),
        (
            lambda x, r, c, c2: tg.exp(x - tg.amax(x, axis=-1, keepdims=True)).sum(axis=-1),
            (x, r, c, c2),
            1,
        ),
        (lambda x, r, m: tg.tanh(x * r) - m, (x3, r3, m3), 2),
        (lambda x, r, m: (tg.broadcast_to(m, x.shape) > 0) & (x < r), (x3, r3, m3), 2),
    ]
    for f, args, n_expand in cases:
        j = tg.jit(f)
        for _ in range(3):
            same_bits(j(*args), f(*args))
        steps = re.search(r" steps \[([^\]]*)\]", j.explain()).group(1).split()
        assert steps.count("expand") == n_expand, j.explain()
    loss = lambda x: (tg.tanh(x).sum(axis=-1) ** 2).sum()  # its gradient broadcasts (60, 1) rows
    g = tg.jit(tg.grad(loss))
    for _ in range(3):
        same_bits(g(x), tg.grad(loss)(x))
    assert "2 fused group(s)" in g.explain() and "expand" in g.explain()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_sum_is_within_the_stated_bound(dtype):
    x = tg.tensor(special_values(N, dtype)[8:])
    vg = tg.jit(tg.value_and_grad(grad_loss))
    loss0, g0 = tg.value_and_grad(grad_loss)(x)
    for _ in range(3):
        loss, g = vg(x)
        same_bits(g, g0)
        terms = np.abs(np.sin(np.asarray(x, np.float64)) * np.asarray(x, np.float64)).sum()
        exact = (np.sin(np.asarray(x, np.float64)) * np.asarray(x, np.float64)).sum()
        eps = np.finfo(dtype).eps
        assert abs(float(loss) - exact) <= N * eps * terms
        assert abs(float(loss) - float(loss0)) <= N * eps * terms
    assert "sum" in vg.explain()


def test_outer_transforms_of_a_fused_function():
    f = tg.jit(lambda x: (tg.tanh(x) * x + tg.exp(-x * x)).sum())
    x = tg.tensor(special_values(N, np.float64)[8:])
    f(x)
    f(x)  # recorded and fused
    eager = lambda x: (tg.tanh(x) * x + tg.exp(-x * x)).sum()
    np.testing.assert_allclose(np.asarray(tg.grad(f)(x)), np.asarray(tg.grad(eager)(x)), rtol=1e-12)
    xs = tg.tensor(special_values(N + 8, np.float64)[8:].reshape(6, N // 6))
    np.testing.assert_allclose(
        np.asarray(tg.vmap(f)(xs)), np.asarray(tg.vmap(eager)(xs)), rtol=1e-12
    )
    h = tg.jit(tg.grad(tg.jit(lambda x: (tg.sin(x) ** 2).sum())))
    want = tg.grad(lambda x: (tg.sin(x) ** 2).sum())(x)
    for _ in range(3):
        same_bits(h(x), want)


def test_guards_keep_working():
    def f(x):
        if float(x[0]) > 0:
            return tg.sin(x) * 2
        return tg.cos(x) * 3

    j = tg.jit(f)
    x = tg.tensor(special_values(N, np.float32)[8:])
    for sign in [1, 1, -1, -1, 1]:
        y = x * sign
        same_bits(j(y), f(y))


def test_random_draws_in_a_fused_function_match_eager_order():
    def f(x):
        return tg.exp(x) * tg.randn(N) + x * tg.uniform(0.0, 1.0, (N,))

    j = tg.jit(f)
    x = tg.tensor(special_values(N, np.float32)[8:].copy().tolist() + [0.0] * 8)
    tg.set_seed(3)
    want = [np.asarray(f(x)) for _ in range(4)]
    tg.set_seed(3)
    got = [np.asarray(j(x)) for _ in range(4)]
    for a, b in zip(got, want):
        same_bits(a, b)
    assert not np.array_equal(got[2], got[3])


def test_recorded_writes_into_outside_tensors_close_a_group():
    w = tg.Parameter(tg.tensor(np.linspace(-1, 1, N, dtype=np.float32)), name="w")
    w0 = np.asarray(w).copy()

    @tg.jit
    def step(g):
        y = tg.sin(w) * 2  # reads w before the write
        w[...] = w - 0.5 * g
        return y + w * 1  # and after it

    g = tg.tensor(np.full(N, 0.1, np.float32))
    ref = w0.copy()
    for _ in range(3):
        out = np.asarray(step(g))
        y = np.asarray(tg.sin(tg.tensor(ref)) * 2)
        ref = np.asarray(tg.tensor(ref) - 0.5 * g)
        same_bits(out, np.asarray(tg.tensor(y) + tg.tensor(ref) * 1))
    same_bits(w, ref)
    assert step.cache_info()["eager_signatures"] == 0


def test_small_replays_are_not_fused():
    f = tg.jit(tg.grad(grad_loss))
    f(tg.ones(100))
    f(tg.ones(100))
    assert "no fused group" in f.explain()


def test_fuse_option_is_checked_and_jit_of_jit_can_change_it():
    with pytest.raises(TypeError, match="fuse"):
        tg.jit(lambda x: x, fuse="yes")
    f = tg.jit(lambda x: x + 1)
    assert tg.jit(f) is f
    g = tg.jit(f, fuse=False)
    assert g is not f and g._fuse is False


def test_fused_grad_holds_little_more_than_its_output():
    n = 10**6
    x = tg.tensor(np.linspace(-3, 3, n, dtype=np.float32))
    out_bytes = 4 * n
    for fuse, bound in [(True, 1.25 * out_bytes), (False, 10 * out_bytes)]:
        g = tg.jit(tg.grad(grad_loss), fuse=fuse)
        g(x)
        g(x)
        tg.reset_peak_memory_stats()
        base = tg.memory_stats()["current_bytes"]
        y = g(x)
        rise = tg.memory_stats()["peak_bytes"] - base
        assert out_bytes <= rise <= bound, (fuse, rise)
        del y


def test_memory_stats_count_storage_and_its_peak():
    s = tg.memory_stats()
    assert set(s) == {"current_bytes", "peak_bytes"} and s["peak_bytes"] >= s["current_bytes"] >= 0
    tg.reset_peak_memory_stats()
    base = tg.memory_stats()["current_bytes"]
    a = tg.zeros(250_000, dtype=tg.float64)  # 2 MB
    mid = tg.memory_stats()
    assert mid["current_bytes"] - base == 2_000_000
    del a
    after = tg.memory_stats()
    assert after["current_bytes"] == base
    assert after["peak_bytes"] - base >= 2_000_000
    tg.reset_peak_memory_stats()
    assert tg.memory_stats()["peak_bytes"] == tg.memory_stats()["current_bytes"]


@pytest.mark.parametrize(
    "env",
    [{"TAPEGRAD_JIT_FUSE": "0"}, {"TAPEGRAD_JIT_FUSE_MIN": "1"}],
    ids=["fusion_off", "fuse_everything"],
)
def test_jit_suites_pass_with_fusion_off_and_forced(env):
    e = dict(os.environ, **env)
    # The tapegrad under test (installed, or the in-place build with TAPEGRAD_TEST_SOURCE=1).
    under_test = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
    e["PYTHONPATH"] = os.pathsep.join([under_test, e.get("PYTHONPATH", "")])
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            os.path.join(HERE, "test_jit.py"),
            os.path.join(HERE, "test_jit_ops.py"),
        ],
        env=e,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_dead_records_are_dropped_but_unused_random_draws_still_happen():
    def f(x):
        _ = tg.randn(N)  # unused: still drawn, so the next draw is the one eager code gets
        _ = tg.exp(x) * 3  # unused and pure: dropped
        return tg.sin(x) * tg.uniform(0.0, 1.0, (N,)) + x

    j = tg.jit(f)
    x = tg.tensor(np.linspace(-2, 2, N, dtype=np.float32))
    tg.set_seed(7)
    want = [np.asarray(f(x)) for _ in range(3)]
    tg.set_seed(7)
    got = [np.asarray(j(x)) for _ in range(3)]
    for a, b in zip(got, want):
        same_bits(a, b)
    assert not re.search(r"\bexp\b", j.explain()) and "normal" in j.explain()


def test_jit_of_vmap_and_jacrev_are_fused_and_exact():
    x = tg.tensor(special_values(N + 8, np.float64)[8:].reshape(6, N // 6))
    f = tg.vmap(tg.grad(lambda r: (tg.cos(r) * r * r).sum()))
    j = tg.jit(f)
    for _ in range(3):
        same_bits(j(x), f(x))
    assert "fused group" in j.explain()
    y = tg.tensor(np.linspace(-1, 1, 80))
    jr = tg.jacrev(lambda r: tg.exp(r) * r + 1)
    jj = tg.jit(jr)
    for _ in range(3):
        same_bits(jj(y), jr(y))


def test_scalar_work_of_a_gradient_does_not_split_its_group():
    f = tg.grad(lambda x: (tg.tanh(x) ** 2).mean())
    j = tg.jit(f)
    x = tg.tensor(np.linspace(-1, 1, N, dtype=np.float32))
    for _ in range(3):
        same_bits(j(x), f(x))
    assert "1 fused group(s)" in j.explain()


def test_identical_records_are_computed_once_with_the_same_values():
    def h(x):
        return (tg.tanh(x.T) * x.T + tg.exp(tg.transpose(x))).sum(axis=0)

    x = tg.tensor(special_values(N, np.float64).reshape(60, 100))
    j = tg.jit(h)
    terms = tg.tanh(x.T) * x.T + tg.exp(tg.transpose(x))
    for _ in range(3):  # the sum over axis 0 is fused: within the bound of a sum
        assert_sum_bound(j(x), terms, 0)
    assert j.explain().count("transpose[") == 1  # the three transposes: one runs, two reuse it
    g = tg.jit(tg.grad(lambda x: h(x).sum()))
    for _ in range(3):
        same_bits(g(x), tg.grad(lambda x: h(x).sum())(x))


def test_pickled_jit_functions_keep_their_fuse_option():
    import pickle

    f = tg.jit(np.negative, fuse=False)
    g = pickle.loads(pickle.dumps(f))
    assert g._fuse is False
    h = pickle.loads(pickle.dumps(tg.jit(np.negative)))
    assert h._fuse is True


def _layer_grad(fuse):
    """A gradient whose matmuls run op by op between two fused groups: its intermediates come
    from the program's arena (Note [Replay arena])."""

    def f(a, w):
        h = tg.tanh(a @ w) * 2 + 1
        return ((h * h) @ w).sum()

    return tg.jit(tg.grad(f, grad_position=(0, 1)), fuse=fuse)


def _layer_data(seed):
    rng = np.random.default_rng(seed)
    a = tg.tensor(rng.standard_normal((64, 128)).astype(np.float32))
    w = tg.tensor((rng.standard_normal((128, 128)) / 12).astype(np.float32))
    return a, w


def test_steady_state_replay_allocates_only_its_outputs():
    a, w = _layer_data(0)
    g, plain = _layer_grad(True), _layer_grad(False)
    g(a, w)  # records
    g(a, w)  # the first replay fills the arena
    info = g.cache_info()
    assert info["arena_buffers"] > 0 and info["arena_bytes"] > 0, info
    assert "fused group" in g.explain() and "matmul[" in g.explain()
    out_bytes = 4 * (a.size + w.size)
    for _ in range(2):
        tg.reset_peak_memory_stats()
        base = tg.memory_stats()["current_bytes"]
        got = g(a, w)
        s = tg.memory_stats()
        # Nothing but the two gradients was allocated: no intermediate, not even briefly.
        assert s["peak_bytes"] - base == out_bytes and s["current_bytes"] - base == out_bytes, s
        for x, y in zip(got, plain(a, w)):
            same_bits(x, y)
        del got
    assert g.cache_info()["arena_bytes"] == info["arena_bytes"]  # reused, not grown
    # The plain replay has no arena: each replay allocates its intermediates again.
    plain(a, w)
    tg.reset_peak_memory_stats()
    base = tg.memory_stats()["current_bytes"]
    got = plain(a, w)
    assert tg.memory_stats()["peak_bytes"] - base > out_bytes
    assert plain.cache_info()["arena_bytes"] == 0
    del got


def test_arena_buffers_the_caller_holds_are_never_reused():
    # The outputs are views of values computed op by op (arena buffers): the next replay must not
    # write over what the caller still holds.
    def f(a, w):
        m = a @ w
        return (tg.tanh(m) * m).reshape(-1), m.T

    j, plain = tg.jit(f), tg.jit(f, fuse=False)
    data = [_layer_data(s) for s in range(4)]
    held, want = [], []
    for a, w in data * 2:
        held.append(j(a, w))
        want.append([np.asarray(v).copy() for v in plain(a, w)])
    for got, w_ in zip(held, want):
        for x, y in zip(got, w_):
            same_bits(x, y)


def test_concurrent_replays_of_one_program_give_their_own_results():
    import threading

    n = 1 << 18  # large enough for the replay to release the GIL
    m = tg.tensor(np.linspace(-1, 1, 8 * n // 64, dtype=np.float32).reshape(n // 64, 8))

    def h(x):  # the fused gradient is an arena buffer that the matmul reads
        return tg.grad(grad_loss)(x) @ m

    f = tg.jit(h)
    xs = [
        tg.tensor(np.linspace(-s - 1, s + 1, n, dtype=np.float32).reshape(64, n // 64))
        for s in range(4)
    ]
    want = [np.asarray(h(x)).copy() for x in xs]
    f(xs[0])
    errors = []

    def work(i):
        try:
            for _ in range(5):
                same_bits(f(xs[i]), want[i])
        except AssertionError as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert f.cache_info()["records"] == 1 and "fused group" in f.explain()


def test_fused_grad_at_1e7_peaks_at_its_output():
    # The target: grad of (sin(x)*x).sum() at 10**7 float32 holds at most 1.25x its 40 MB
    # output at the peak of a replay (it reads x and writes the gradient, nothing else).
    n = 10**7
    x = tg.tensor(np.linspace(-3, 3, n, dtype=np.float32))
    g = tg.jit(tg.grad(grad_loss))
    g(x)
    g(x)
    tg.reset_peak_memory_stats()
    base = tg.memory_stats()["current_bytes"]
    y = g(x)
    rise = tg.memory_stats()["peak_bytes"] - base
    assert 4 * n <= rise <= 1.25 * 4 * n, rise
    del y


FOLDS = {  # folded: the result is exactly the other operand, NaN and signed zeros included
    "x*1": (lambda a: a * 1 + a, 1),
    "1.0*x": (lambda a: 1.0 * a + a, 1),
    "x/1": (lambda a: a / 1 + a, 1),
    "x**1": (lambda a: a**1 + a, 1),
    "x-0.0": (lambda a: (a - 0.0) * a, 1),
    "x+(-0.0)": (lambda a: (a + (-0.0)) * a, 1),
    "(-0.0)+x": (lambda a: ((-0.0) + a) * a, 1),
    # not folded: -0.0 + 0.0 is +0.0, -0.0 - (-0.0) is +0.0, x*(-1) is not x
    "x+0.0": (lambda a: (a + 0.0) * a, 0),
    "x-(-0.0)": (lambda a: (a - (-0.0)) * a, 0),
    "x*-1": (lambda a: a * -1 + a, 0),
    "x**2": (lambda a: a**2 + a, 0),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FOLDS))
def test_constant_folding_is_exact_with_nans_and_signed_zeros(name, dtype):
    f, folds = FOLDS[name]
    a = tg.tensor(special_values(N, dtype, 3))
    j = tg.jit(f)
    for _ in range(3):
        same_bits(j(a), f(a))
    assert re.search(r"simplified: (\d+) folded", j.explain()).group(1) == str(folds), j.explain()


def test_constants_the_caller_can_change_are_not_folded():
    one = tg.tensor(np.float32(1.0))
    j = tg.jit(lambda a: tg.exp(a) * one + a)
    a = tg.tensor(np.linspace(-1, 1, N, dtype=np.float32))
    for _ in range(2):
        same_bits(j(a), tg.exp(a) * 1 + a)
    assert "0 folded" in j.explain()
    one[()] = 3.0  # written in place between calls: the replay reads the new value
    same_bits(j(a), tg.exp(a) * 3 + a)


def test_explain_shows_the_grad_program_with_sin_computed_once():
    x = tg.tensor(np.linspace(-3, 3, N, dtype=np.float32))
    g = tg.jit(tg.grad(grad_loss))
    for _ in range(2):
        same_bits(g(x), tg.grad(grad_loss)(x))
    text = g.explain()
    program = re.search(r"program: (.*)", text).group(1)
    # sin(x) of the forward pass (saved for the backward) and cos(x): one sincos step; the seed's
    # multiplications by one are folded; the forward product and the loss are dead records.
    assert program.count("sincos(") == 1 and program.count("sin(") == 0, text
    sin_reg = re.search(r"(r\d+),r\d+=sincos", program).group(1)
    assert program.count(sin_reg) == 2, text  # computed once, read by the add
    assert "2 folded" in text and re.search(r"dropped: 2 dead op", text), text


COLUMN_SUMS = [((60, 100), 0), ((20, 30, 17), 1), ((20, 30, 17), (0, 1)), ((6, 5, 4, 60), (1, 2))]
# Axis sets with gaps, or with the last axis among others (not the last alone: a row reduction).
AXIS_SETS = [
    ((20, 30, 17), (0, 2)),
    ((6, 5, 4, 60), (0, 2)),
    ((8, 30, 4, 50), (1, 3)),
    ((20, 30, 40), (1, 2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", COLUMN_SUMS + AXIS_SETS)
def test_sums_over_first_or_middle_axes_end_a_group_within_the_bound(shape, axis, dtype):
    size = int(np.prod(shape))
    x = special_values(size, dtype, 6)
    x[8:] = np.random.default_rng(6).uniform(-4, 4, size - 8)
    x = tg.tensor(x.reshape(shape))

    def f(a):
        return (tg.tanh(a) * 2 + a).sum(axis=axis)

    j = tg.jit(f)
    terms = tg.tanh(x) * 2 + x  # bit-equal to the group's steps
    for _ in range(3):
        got = j(x)
        assert_sum_bound(got, terms, axis)
    assert "sum_cols" in j.explain() and "sum[" not in j.explain(), j.explain()
    # The same bits for any number of threads (fixed chunks, merged in order).
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        one = np.asarray(j(x)).copy()
        tg.set_num_threads(2)
        same_bits(j(x), one)
    finally:
        tg.set_num_threads(before)


def test_column_sums_of_zeros_nans_and_infinities():
    x = np.zeros((3000, 4), np.float32)
    x[:, 0] = -0.0  # a column of -0.0 sums to +0.0, as eagerly
    x[5, 1] = np.nan
    x[7, 2] = np.inf
    x[9, 3], x[10, 3] = np.inf, -np.inf
    t = tg.tensor(x)
    j = tg.jit(lambda a: (a * 2).sum(axis=0))
    for _ in range(2):
        same_bits(j(t), (t * 2).sum(axis=0))
    assert "sum_cols" in j.explain()


def test_jit_grad_of_a_bias_is_one_group_with_its_column_sum():
    rng = np.random.default_rng(9)
    x = tg.tensor(rng.standard_normal((128, 64)).astype(np.float32))
    b = tg.tensor(rng.standard_normal(64).astype(np.float32))

    def loss(b):
        return tg.tanh(x + b).sum()

    g = tg.jit(tg.grad(loss))
    terms = 1 - tg.tanh(x + b) ** 2
    for _ in range(3):
        assert_sum_bound(g(b), terms, 0)
    assert "sum_cols" in g.explain(), g.explain()


def test_a_column_sum_of_a_value_written_anyway_runs_as_the_eager_sum():
    # dh is read after the group (returned): summing it in the group would save no memory
    # traffic, so the sum runs right after the group as the eager one (the eager bits).
    x = tg.tensor(special_values(N, np.float32, 7).reshape(60, 100))

    def f(a):
        dh = tg.tanh(a) * 2 + a
        return dh, dh.sum(axis=0)

    j = tg.jit(f)
    for _ in range(3):
        for g, w in zip(j(x), f(x)):
            same_bits(g, w)
    text = j.explain()
    assert "sum_cols" not in text and "sum[100]" in text and "fused group" in text, text


def extreme_values(shape, dtype, seed):
    """Normal values with NaN, infinities and -0.0, placed so that no result is a zero held with
    both signs (whose sign the fused and the eager reductions may pick differently)."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[::211] = np.nan
    flat[5::97] = np.inf
    flat[7::89] = -np.inf
    flat[3::31] = -0.0
    x[..., 0] = -0.0  # results over this slice (where it is one) are -0.0 exactly
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", COLUMN_SUMS + AXIS_SETS)
@pytest.mark.parametrize("name", ["amax", "amin"])
def test_extrema_over_other_axes_end_a_group_with_eager_bits(name, shape, axis, dtype):
    x = tg.tensor(extreme_values(shape, dtype, 11))

    def f(a):
        return getattr(tg, name)(a * 2.0, axis=axis)

    j, off = tg.jit(f), tg.jit(f, fuse=False)
    want = f(x)
    for _ in range(3):
        same_bits(j(x), want)
    same_bits(off(x), want)
    assert f"{name}_cols" in j.explain(), j.explain()
    assert np.isnan(np.asarray(want)).any()  # the cases reach NaN results
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        same_bits(j(x), want)
    finally:
        tg.set_num_threads(before)


def test_extrema_over_other_axes_with_nans_zeros_and_infinities():
    x = np.random.default_rng(12).standard_normal((3000, 6)).astype(np.float32)
    x[:, 0] = -0.0  # max and min -0.0
    x[:, 1] = -np.inf  # max -inf
    x[17, 2] = np.nan  # NaN wins
    x[:, 3] = np.inf  # min +inf
    x[2999, 4] = np.nan  # in the last block
    x[:, 5] = np.nan  # all NaN
    t = tg.tensor(x)
    for name in ("amax", "amin"):
        j = tg.jit(lambda a, name=name: getattr(tg, name)(a * 1.5, axis=0))
        want = getattr(tg, name)(t * 1.5, axis=0)
        for _ in range(2):
            same_bits(j(t), want)
        assert f"{name}_cols" in j.explain()
    got = np.asarray(tg.jit(lambda a: tg.amax(a * 1.5, axis=0))(t))
    assert (
        np.signbit(got[0]) and got[0] == 0 and got[1] == -np.inf and np.isnan(got[[2, 4, 5]]).all()
    )


@pytest.mark.parametrize("fuse", [True, False])
def test_extrema_over_an_empty_axis_raise_as_eagerly(fuse):
    f = tg.jit(lambda a: tg.amax(a * 2.0, axis=0), fuse=fuse)
    with pytest.raises(ValueError) as eager:
        tg.amax(tg.zeros((0, 5000)) * 2.0, axis=0)
    with pytest.raises(ValueError) as jitted:
        f(tg.zeros((0, 5000)))
    assert str(jitted.value) == str(eager.value)
    # Over a non-empty axis of an array with no columns: an empty result, as eagerly.
    g = tg.jit(lambda a: tg.amin(a * 2.0, axis=0), fuse=fuse)
    for _ in range(2):
        assert np.asarray(g(tg.zeros((5000, 0)))).shape == (0,)


def test_folded_operands_are_not_group_inputs():
    # The gradient's seed of ones is folded away (x*1): the group reads x only, so a strided seed
    # or other operand is neither checked nor copied on a replay.
    g = tg.jit(tg.grad(grad_loss))
    x = tg.tensor(np.linspace(-3, 3, N, dtype=np.float32))
    same_bits(g(x), tg.grad(grad_loss)(x))
    assert re.search(r"group 0: .* 1 inputs, 1 outputs, 0 reductions", g.explain()), g.explain()


def test_thread_pool_counts_its_regions():
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(2)
        x = tg.tensor(np.ones(10**6, np.float32))
        s0 = tg._core._pool_stats()
        for _ in range(3):
            tg.sin(x)
        s1 = tg._core._pool_stats()
    finally:
        tg.set_num_threads(before)
    assert set(s1) == {"shared", "alone", "stalls", "wait_ns", "worker_chunks"}
    # each sin is one region, with the workers or (after a stall) alone
    assert (s1["shared"] + s1["alone"]) - (s0["shared"] + s0["alone"]) == 3
    assert s1["wait_ns"] >= s0["wait_ns"] and s1["stalls"] >= s0["stalls"]
    # at most all 8 chunks (4 per thread) of each shared region ran on the worker
    shared = s1["shared"] - s0["shared"]
    assert 0 <= s1["worker_chunks"] - s0["worker_chunks"] <= 8 * shared


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_parallel_fused_results_do_not_depend_on_the_threads(dtype):
    # Large enough for the threads (blocks claimed 16 or 32 at a time, whoever is free): the
    # outputs, the sum over all axes (per-block partial sums merged in block order) and the
    # reductions over other axes (fixed chunks) are the same bits for 1 and 2 threads.
    x = tg.tensor(special_values(300_000, dtype, 13).reshape(600, 500))

    def f(a):
        t = tg.sin(a) * a + 1.5
        return t, t.sum(), tg.amax(t * 2.0, axis=0), (t * 3.0).sum(axis=0)

    j = tg.jit(f)
    j(x)  # records (runs eagerly)
    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        one = [np.asarray(v).copy() for v in j(x)]
        tg.set_num_threads(2)
        for _ in range(3):
            for got, want in zip(j(x), one):
                same_bits(got, want)
    finally:
        tg.set_num_threads(before)
    text = j.explain()
    assert "amax_cols" in text and "sum_cols" in text and "=sum(" in text, text


@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
def test_batched_jacobian_sweep_is_one_group(jac):
    # A small step of another size that reads nothing of the open group (cos(x) of d sin(x), 100
    # elements beside the sweep's 100 x 100) runs op by op before the group instead of closing it:
    # the whole sweep is one fused pass, with the eager bits.
    x = tg.tensor(np.linspace(-1.5, 1.5, 100, dtype=np.float32))
    f = getattr(tg, jac)(lambda t: tg.sin(t) * t + tg.exp(t) * 2.0)
    j = tg.jit(f)
    for _ in range(3):
        same_bits(j(x), f(x))
    text = j.explain()
    assert "1 fused group(s)" in text and "10000 elements" in text, text
    assert re.search(r"op by op: .*\bcos\[100\]", text), text
