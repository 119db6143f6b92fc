"""ops.conv2d and nn.Conv2d (API.md section 5, MindSpore semantics): values against a nested-loop
numpy reference over strides, pad modes, dilation and groups; derivatives by check_grads to second
order in both modes; vmap, Jacobians; the layer's arguments, errors, and a training step."""

import math

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn, ops

rng = np.random.default_rng(11)


def ref_conv2d(x, w, b, stride, pads, dilation, groups):
    """Direct definition: out[n, o, i, j] = b[o] + sum_{c, a, e} w[o, c, a, e] *
    xpad[n, g(o)*Cg + c, i*sh + a*dh, j*sw + e*dw], one output element at a time."""
    n_, c_, h, w_ = x.shape
    o_, cg, kh, kw = w.shape
    top, bottom, left, right = pads
    xp = np.zeros((n_, c_, h + top + bottom, w_ + left + right), dtype=np.float64)
    xp[:, :, top : top + h, left : left + w_] = x
    sh, sw = stride
    dh, dw = dilation
    ho = (xp.shape[2] - (kh - 1) * dh - 1) // sh + 1
    wo = (xp.shape[3] - (kw - 1) * dw - 1) // sw + 1
    og = o_ // groups
    out = np.zeros((n_, o_, ho, wo))
    for n in range(n_):
        for o in range(o_):
            c0 = (o // og) * cg
            for i in range(ho):
                for j in range(wo):
                    acc = 0.0 if b is None else float(b[o])
                    for c in range(cg):
                        for a in range(kh):
                            for e in range(kw):
                                acc += (
                                    w[o, c, a, e] * xp[n, c0 + c, i * sh + a * dh, j * sw + e * dw]
                                )
                    out[n, o, i, j] = acc
    return out


def same_pads(size, k, s, d):
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def pads_for(mode, padding, x_shape, w_shape, stride, dilation):
    if mode == "valid":
        return (0, 0, 0, 0)
    if mode == "same":
        return same_pads(x_shape[2], w_shape[2], stride[0], dilation[0]) + same_pads(
            x_shape[3], w_shape[3], stride[1], dilation[1]
        )
    if isinstance(padding, int):
        return (padding,) * 4
    if len(padding) == 2:
        return (padding[0], padding[0], padding[1], padding[1])
    return tuple(padding)


# (x shape, weight shape, stride, pad_mode, padding, dilation, groups, bias)
CONFIGS = [
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, "valid", 0, 1, 1, True),
    ((2, 3, 7, 6), (4, 3, 3, 3), 1, "same", 0, 1, 1, False),
    ((1, 2, 8, 7), (3, 2, 2, 4), 2, "same", 0, 1, 1, True),  # even kernel, stride 2: odd padding
    ((2, 4, 6, 9), (6, 2, 3, 2), (2, 1), "pad", (1, 2, 0, 1), (1, 2), 2, True),
    ((1, 3, 9, 9), (5, 3, 3, 3), 1, "pad", 2, 2, 1, False),  # dilation 2, symmetric padding
    ((2, 4, 5, 5), (4, 1, 3, 3), 1, "same", 0, 1, 4, True),  # depthwise
    ((3, 5, 4, 4), (2, 5, 1, 1), 1, "valid", 0, 1, 1, True),  # 1x1
    ((1, 2, 10, 10), (2, 2, 2, 2), 3, "valid", 0, 1, 1, False),  # stride > kernel: skipped pixels
    ((1, 1, 5, 3), (1, 1, 5, 3), 1, "valid", 0, 1, 1, True),  # kernel = image: 1x1 output
    ((2, 2, 6, 5), (4, 2, 3, 3), (1, 2), "pad", (2, 1), (2, 1), 1, True),  # 2-int padding
]


def make(cfg, dtype=np.float64):
    xs, ws, has_b = cfg[0], cfg[1], cfg[7]
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if has_b else None
    return x, w, b


@pytest.mark.parametrize("cfg", CONFIGS, ids=[f"cfg{i}" for i in range(len(CONFIGS))])
def test_values_match_direct_reference(cfg):
    xs, ws, stride, mode, padding, dil, groups, _ = cfg
    x, w, b = make(cfg)
    got = ops.conv2d(
        tg.tensor(x),
        tg.tensor(w),
        None if b is None else tg.tensor(b),
        stride=stride,
        pad_mode=mode,
        padding=padding,
        dilation=dil,
        groups=groups,
    )
    st = stride if isinstance(stride, tuple) else (stride, stride)
    dl = dil if isinstance(dil, tuple) else (dil, dil)
    want = ref_conv2d(x, w, b, st, pads_for(mode, padding, xs, ws, st, dl), dl, groups)
    assert got.dtype == tg.float64
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-12, atol=1e-12)


def test_same_mode_output_size_is_ceil_of_input_over_stride():
    for h, s in [(7, 1), (7, 2), (8, 3), (5, 5)]:
        y = ops.conv2d(tg.ones((1, 1, h, h)), tg.ones((1, 1, 3, 3)), stride=s, pad_mode="same")
        assert y.shape == (1, 1, math.ceil(h / s), math.ceil(h / s))


def test_float32_and_einsum_cross_check():
    x = rng.standard_normal((4, 6, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 6, 3, 3)).astype(np.float32)
    got = ops.conv2d(tg.tensor(x), tg.tensor(w), pad_mode="valid")
    assert got.dtype == tg.float32
    win = np.lib.stride_tricks.sliding_window_view(x.astype(np.float64), (3, 3), axis=(2, 3))
    want = np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64))
    np.testing.assert_allclose(got.asnumpy(), want, rtol=1e-4, atol=1e-4)


def test_padding_argument_forms():
    x, w = (
        tg.tensor(rng.standard_normal((1, 2, 5, 5))),
        tg.tensor(rng.standard_normal((3, 2, 3, 3))),
    )
    a = ops.conv2d(x, w, pad_mode="pad", padding=1)
    np.testing.assert_allclose(
        ops.conv2d(x, w, padding=1).asnumpy(), a.asnumpy()
    )  # padding implies 'pad'
    np.testing.assert_allclose(
        ops.conv2d(x, w, pad_mode="pad", padding=(1, 1)).asnumpy(), a.asnumpy()
    )
    np.testing.assert_allclose(
        ops.conv2d(x, w, pad_mode="pad", padding=(1, 1, 1, 1)).asnumpy(), a.asnumpy()
    )
    np.testing.assert_allclose(
        ops.conv2d(x, w, padding="same").asnumpy(), a.asnumpy()
    )  # 3x3 'same' = pad 1
    assert ops.conv2d(x, w, padding="valid").shape == (1, 3, 3, 3)


# ---- derivatives ----------------------------------------------------------------------------

GRAD_CONFIGS = [CONFIGS[0], CONFIGS[2], CONFIGS[3], CONFIGS[5], CONFIGS[4]]


@pytest.mark.parametrize("cfg", GRAD_CONFIGS, ids=[f"cfg{i}" for i in range(len(GRAD_CONFIGS))])
def test_check_grads_second_order(cfg):
    _, _, stride, mode, padding, dil, groups, _ = cfg
    x, w, b = make(cfg)
    kw = {"stride": stride, "pad_mode": mode, "padding": padding, "dilation": dil, "groups": groups}
    if b is None:
        tg.testing.check_grads(
            lambda x, w: ops.conv2d(x, w, **kw),
            (tg.tensor(x), tg.tensor(w)),
            order=2,
            modes=("fwd", "rev"),
        )
    else:
        tg.testing.check_grads(
            lambda x, w, b: ops.conv2d(x, w, b, **kw),
            (tg.tensor(x), tg.tensor(w), tg.tensor(b)),
            order=2,
            modes=("fwd", "rev"),
        )
    # a nonlinear loss, so that second derivatives are not all zero
    tg.testing.check_grads(
        lambda x, w: (tg.tanh(ops.conv2d(x, w, **kw)) ** 2).sum(),
        (tg.tensor(x), tg.tensor(w)),
        order=2,
        modes=("fwd", "rev"),
    )


def test_gradients_against_the_adjoint_definition():
    # <conv(x, w), g> = <x, dx> = <w, dw>: conv is bilinear, so each gradient is exact.
    x, w, _ = make(CONFIGS[3])
    g = rng.standard_normal(
        ops.conv2d(
            tg.tensor(x),
            tg.tensor(w),
            stride=(2, 1),
            padding=(1, 2, 0, 1),
            dilation=(1, 2),
            groups=2,
        ).shape
    )
    f = lambda x, w: (
        ops.conv2d(
            x, w, stride=(2, 1), pad_mode="pad", padding=(1, 2, 0, 1), dilation=(1, 2), groups=2
        )
        * tg.tensor(g)
    ).sum()
    dx, dw = tg.grad(f, (0, 1))(tg.tensor(x), tg.tensor(w))
    val = float(f(tg.tensor(x), tg.tensor(w)))
    assert float((dx * tg.tensor(x)).sum()) == pytest.approx(val, rel=1e-10)
    assert float((dw * tg.tensor(w)).sum()) == pytest.approx(val, rel=1e-10)


def test_jacobians_forward_and_reverse_agree_and_are_the_linear_map():
    x, w, _ = make(((1, 2, 4, 4), (2, 2, 3, 3), 1, "same", 0, 1, 1, False))
    f = lambda v: ops.conv2d(v, tg.tensor(w), pad_mode="same")
    jr = tg.jacrev(f)(tg.tensor(x)).asnumpy()
    jf = tg.jacfwd(f)(tg.tensor(x)).asnumpy()
    assert jr.shape == (1, 2, 4, 4, 1, 2, 4, 4)
    np.testing.assert_allclose(jr, jf, rtol=1e-12, atol=1e-12)
    # linear in x: J x = f(x)
    np.testing.assert_allclose(
        jr.reshape(32, 32) @ x.reshape(32),
        f(tg.tensor(x)).asnumpy().reshape(32),
        rtol=1e-12,
        atol=1e-12,
    )


def test_hessian_wrt_weight():
    x, w, _ = make(((1, 1, 4, 4), (1, 1, 2, 2), 1, "valid", 0, 1, 1, False))
    loss = lambda w: (ops.conv2d(tg.tensor(x), w) ** 2).sum()
    h = tg.hessian(loss)(tg.tensor(w)).asnumpy().reshape(4, 4)
    # loss = |A w|^2 with A the im2col matrix: hessian 2 A^T A
    win = np.lib.stride_tricks.sliding_window_view(x[0, 0], (2, 2)).reshape(-1, 4)
    np.testing.assert_allclose(h, 2 * win.T @ win, rtol=1e-10, atol=1e-10)


def test_vmap_over_examples_and_over_weights():
    x = rng.standard_normal((5, 3, 6, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    full = ops.conv2d(tg.tensor(x), tg.tensor(w), pad_mode="same").asnumpy()
    per_example = tg.vmap(lambda xi: ops.conv2d(xi[None], tg.tensor(w), pad_mode="same")[0])(
        tg.tensor(x)
    )
    np.testing.assert_allclose(per_example.asnumpy(), full, rtol=1e-12, atol=1e-12)
    ws = rng.standard_normal((2, 4, 3, 3, 3))
    by_w = tg.vmap(lambda wi: ops.conv2d(tg.tensor(x), wi), in_axes=0)(tg.tensor(ws)).asnumpy()
    for i in range(2):
        np.testing.assert_allclose(
            by_w[i], ops.conv2d(tg.tensor(x), tg.tensor(ws[i])).asnumpy(), rtol=1e-12, atol=1e-12
        )
    # per-example gradients (vmap of grad) equal a loop of grads
    loss = lambda w, xi: (tg.tanh(ops.conv2d(xi[None], w)) ** 2).sum()
    pe = tg.vmap(tg.grad(loss), in_axes=(None, 0))(tg.tensor(w), tg.tensor(x)).asnumpy()
    for i in range(5):
        np.testing.assert_allclose(
            pe[i], tg.grad(loss)(tg.tensor(w), tg.tensor(x[i])).asnumpy(), rtol=1e-10, atol=1e-12
        )


# ---- errors ---------------------------------------------------------------------------------


def test_conv2d_errors_name_the_operation_and_shapes():
    x = tg.ones((1, 3, 5, 5))
    with pytest.raises(ValueError, match=r"conv2d.*\(1, 3, 5, 5\).*\(4, 2, 3, 3\)"):
        ops.conv2d(x, tg.ones((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d.*groups=2"):
        ops.conv2d(tg.ones((1, 4, 5, 5)), tg.ones((3, 2, 3, 3)), groups=2)
    with pytest.raises(ValueError, match=r"conv2d: input must be 4-d.*\(3, 5, 5\)"):
        ops.conv2d(tg.ones((3, 5, 5)), tg.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-d"):
        ops.conv2d(x, tg.ones((4, 3, 3)))
    with pytest.raises(ValueError, match=r"conv2d: the kernel \(7, 7\).*larger"):
        ops.conv2d(x, tg.ones((1, 3, 7, 7)))
    with pytest.raises(ValueError, match="pad_mode"):
        ops.conv2d(x, tg.ones((1, 3, 3, 3)), pad_mode="full")
    with pytest.raises(ValueError, match="stride"):
        ops.conv2d(x, tg.ones((1, 3, 3, 3)), stride=0)
    with pytest.raises(TypeError, match="stride"):
        ops.conv2d(x, tg.ones((1, 3, 3, 3)), stride=(1, 2, 3))
    with pytest.raises(TypeError, match="padding"):
        ops.conv2d(x, tg.ones((1, 3, 3, 3)), padding=(1, 2, 3))
    with pytest.raises(ValueError, match="padding"):
        ops.conv2d(x, tg.ones((1, 3, 3, 3)), padding=-1)
    with pytest.raises(ValueError, match=r"bias.*\(1,\)"):
        ops.conv2d(x, tg.ones((1, 3, 3, 3)), tg.ones((2,)))
    with pytest.raises(TypeError, match="floating point.*Int64"):
        ops.conv2d(tg.tensor(np.ones((1, 3, 5, 5), np.int64)), tg.ones((1, 3, 3, 3)))


# ---- nn.Conv2d --------------------------------------------------------------------------------


def test_layer_shapes_parameters_and_defaults():
    conv = nn.Conv2d(4, 6, 3)
    assert conv.weight.shape == (6, 4, 3, 3)
    assert conv.bias is None and [n for n, _ in conv.parameters_and_names()] == ["weight"]
    assert conv(tg.ones((2, 4, 7, 5))).shape == (2, 6, 7, 5)  # default pad_mode='same'
    bound = 1 / math.sqrt(4 * 9)
    assert float(abs(conv.weight).max()) <= bound
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, pad_mode="valid", has_bias=True, group=2)
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias.shape == (6,)
    assert conv(tg.ones((1, 4, 7, 5))).shape == (1, 6, 3, 2)
    assert sorted(n for n, _ in conv.parameters_and_names()) == ["bias", "weight"]
    conv = nn.Conv2d(1, 1, 3, pad_mode="pad", padding=(0, 1, 2, 3), dilation=2)
    assert conv(tg.ones((1, 1, 8, 8))).shape == (1, 1, 5, 9)
    assert "kernel_size=(3, 3)" in repr(conv)


def test_layer_matches_functional_and_init_arguments():
    w = tg.tensor(rng.standard_normal((2, 3, 3, 3)).astype(np.float32))
    conv = nn.Conv2d(3, 2, 3, pad_mode="valid", has_bias=True, weight_init=w, bias_init="ones")
    x = tg.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32))
    np.testing.assert_allclose(
        conv(x).asnumpy(), ops.conv2d(x, w, tg.ones((2,))).asnumpy(), rtol=1e-6
    )
    assert float(nn.Conv2d(3, 2, 3, weight_init="zeros")(x).abs().sum()) == 0.0


def test_layer_errors():
    with pytest.raises(ValueError, match="padding must be 0"):
        nn.Conv2d(3, 4, 3, padding=1)  # MindSpore: padding needs pad_mode='pad'
    with pytest.raises(ValueError, match="divisible by group"):
        nn.Conv2d(3, 4, 3, group=2)
    with pytest.raises(ValueError, match="NCHW"):
        nn.Conv2d(3, 4, 3, data_format="NHWC")
    with pytest.raises(ValueError, match="pad_mode"):
        nn.Conv2d(3, 4, 3, pad_mode="full")
    with pytest.raises(
        ValueError, match=r"Conv2d: expected input of shape \(N, 3, H, W\), got \(2, 4, 5, 5\)"
    ):
        nn.Conv2d(3, 4, 3)(tg.ones((2, 4, 5, 5)))


def test_gradient_wrt_layer_weights():
    conv = nn.Conv2d(2, 3, 3, has_bias=True, pad_mode="pad", padding=1)
    x = tg.tensor(rng.standard_normal((2, 2, 5, 5)).astype(np.float32))
    gw, gb = tg.grad(lambda x: conv(x).sum(), None, weights=conv.trainable_params())(x)
    assert gw.shape == (3, 2, 3, 3) and gb.shape == (3,)
    np.testing.assert_allclose(gb.asnumpy(), np.full(3, 2 * 25.0), rtol=1e-6)
    # d sum / d w[o, c, a, e] = sum of the input window that tap (a, e) sees
    xp = np.pad(x.asnumpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.stack(
        [
            np.stack([xp[:, :, a : a + 5, e : e + 5].sum(axis=(0, 2, 3)) for e in range(3)], -1)
            for a in range(3)
        ],
        -2,
    )
    np.testing.assert_allclose(gw.asnumpy(), np.broadcast_to(want, (3, 2, 3, 3)), rtol=1e-5)


def test_training_step_lowers_the_loss():
    # Tell vertical from horizontal bars: Conv2d + ReLU + Flatten + Dense, SGD.
    tg.set_seed(0)
    imgs, labels = [], []
    for k in range(16):
        im = np.zeros((1, 6, 6), np.float32)
        pos = k % 6
        if k % 2:
            im[0, :, pos] = 1.0
        else:
            im[0, pos, :] = 1.0
        imgs.append(im)
        labels.append(k % 2)
    x = tg.tensor(np.stack(imgs))
    y = tg.tensor(np.array(labels, np.int32))
    net = nn.SequentialCell(
        [nn.Conv2d(1, 4, 3, has_bias=True), nn.ReLU(), nn.Flatten(), nn.Dense(4 * 36, 2)]
    )
    loss_net = nn.WithLossCell(net, nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean"))
    step = nn.TrainOneStepCell(loss_net, nn.SGD(net.trainable_params(), learning_rate=0.2))
    net.set_train()
    first = float(loss_net(x, y))
    for _ in range(40):
        step(x, y)
    last = float(loss_net(x, y))
    assert last < 0.5 * first, (first, last)
    pred = net(x).asnumpy().argmax(axis=1)
    assert (pred == np.array(labels)).mean() == 1.0
