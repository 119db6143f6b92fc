"""The numpy functions composed from tapegrad's differentiable ops (python/tapegrad/_numpy_extra.py):
values against numpy, derivatives against finite differences (check_grads, first and second order)."""
from __future__ import annotations

import numpy as np

import tapegrad as tg


def test_pow_zero_exponent_second_derivative_at_zero_is_zero():
    # grad(grad(x ** 0)) at 0 was nan: the unused branch b * x^(b-1) of the pow rule is inf at 0.
    f = lambda x: tg.pow(x, 0.0)
    for dt in (tg.float32, tg.float64):
        x = tg.tensor(0.0, dt)
        assert float(tg.grad(f)(x)) == 0.0
        assert float(tg.grad(tg.grad(f))(x)) == 0.0
        assert float(tg.hessian(f)(x)) == 0.0
    # the rule away from b == 0 is unchanged
    assert np.isclose(float(tg.grad(tg.grad(lambda x: x ** 3.0))(tg.tensor(2.0))), 12.0)
