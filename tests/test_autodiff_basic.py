import numpy as np
import pytest

import tapegrad as tg


def test_grad_square_sum():
    x = tg.tensor([1.0, 2.0, 3.0])
    g = tg.grad(lambda x: (x * x).sum())(x)
    np.testing.assert_allclose(np.asarray(g), [2.0, 4.0, 6.0])


def test_grad_of_grad():
    g2 = tg.grad(tg.grad(lambda x: (x * x * x).sum()))
    assert float(g2(tg.tensor(2.0))) == pytest.approx(12.0)


def test_check_grads_binary_second_order():
    a = tg.tensor([0.5, 1.0], tg.float64)
    b = tg.tensor([1.5, 2.0], tg.float64)
    tg.testing.check_grads(lambda a, b: a * b + tg.exp(a) / b, (a, b), order=2)
