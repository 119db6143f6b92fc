"""2-d convolution (MindSpore's ops.conv2d and nn.Conv2d), composed from differentiable ops.

Note [conv2d as im2col]
~~~~~~~~~~~~~~~~~~~~~~~
conv2d is one gather and one matmul, so every transform (grad, jvp, vmap, jacrev, any order) works
through the rules those ops already have and no derivative is written here:
  1. x (N, C, H, W) is laid out as rows of pixels (N*H*W, C) and, when there is padding, one zero row
     is appended at index N*H*W;
  2. one `take` of rows with a precomputed (N*Ho*Wo*kh*kw,) index gathers every patch: entry
     (n, oh, ow, i, j) reads pixel (oh*sh + i*dh - top, ow*sw + j*dw - left) of image n, or the zero
     row when that pixel lies in the padding. Gathering whole rows keeps the result contiguous, and
     (N*Ho*Wo, kh*kw*C) is then the im2col matrix, with no copy;
  3. one GEMM with the weight laid out as (kh*kw*C, O) gives (N*Ho*Wo, O), a view of which is the
     (N, O, Ho, Wo) output. With groups, the channels split into G blocks and the GEMM is batched
     over them.
The reverse of the gather is one scatter-add (overlapping patches accumulate) and the matmul's is
two matmuls, so a backward pass costs about two forward passes. The index depends only on the
geometry and is cached.
"""

from __future__ import annotations

import functools
import numbers

import numpy as _np

from . import _core
from ._core import Tensor

__all__ = ["conv2d"]


def _pair(v, what, name, allow_zero=False):
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = (int(v), int(v))
    if (
        not isinstance(v, (tuple, list))
        or len(v) != 2
        or not all(isinstance(e, numbers.Integral) and not isinstance(e, bool) for e in v)
    ):
        raise TypeError(f"{what}: {name} must be an int or a tuple of 2 ints, got {v!r}")
    lo = 0 if allow_zero else 1
    if any(int(e) < lo for e in v):
        raise ValueError(f"{what}: {name} must be >= {lo}, got {tuple(v)}")
    return int(v[0]), int(v[1])


def _padding4(padding, what):
    """(top, bottom, left, right) from an int, 2 ints (height, width) or 4 ints."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        p = (int(padding),) * 4
    elif (
        isinstance(padding, (tuple, list))
        and len(padding) in (2, 4)
        and all(isinstance(e, numbers.Integral) and not isinstance(e, bool) for e in padding)
    ):
        p = tuple(int(e) for e in padding)
        if len(p) == 2:
            p = (p[0], p[0], p[1], p[1])
    else:
        raise TypeError(
            f"{what}: padding must be an int or a tuple of 2 or 4 ints, got {padding!r}"
        )
    if any(e < 0 for e in p):
        raise ValueError(f"{what}: padding must be >= 0, got {padding!r}")
    return p


def _same_pads(size, k, s, d):
    """TensorFlow/MindSpore 'same': output ceil(size / s); the odd pixel of padding goes after."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


@functools.lru_cache(maxsize=128)
def _patch_index(n, h, w, kh, kw, sh, sw, dh, dw, top, left, ho, wo):
    """Row index, in (N, Ho, Wo, kh, kw) order, into the pixels flattened to (N*H*W, C) and extended
    by one zero row at N*H*W; and whether any entry points at that zero row."""
    rows = (_np.arange(ho) * sh)[:, None] + (_np.arange(kh) * dh)[None, :] - top  # (ho, kh)
    cols = (_np.arange(wo) * sw)[:, None] + (_np.arange(kw) * dw)[None, :] - left  # (wo, kw)
    r = rows[:, None, :, None]
    c = cols[None, :, None, :]
    inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)  # (ho, wo, kh, kw)
    pix = _np.where(inside, r * w + c, -1)[None]
    img = (_np.arange(n) * (h * w))[:, None, None, None, None]
    idx = _np.where(pix >= 0, pix + img, n * h * w).astype(_np.int64).reshape(-1)
    return Tensor(idx), not bool(inside.all())


def conv2d(input, weight, bias=None, stride=1, pad_mode="valid", padding=0, dilation=1, groups=1):
    """2-d cross-correlation of ``input`` (N, C, H, W) with ``weight`` (O, C/groups, kh, kw), plus
    ``bias`` (O,) when given: MindSpore's ``ops.conv2d``, NCHW. ``pad_mode`` is ``'valid'`` (no
    padding), ``'same'`` (output ``ceil(H / stride)``, extra padding at the bottom/right) or ``'pad'``
    (``padding``: an int, ``(pad_h, pad_w)`` or ``(top, bottom, left, right)``); a non-zero
    ``padding`` with the default ``pad_mode`` means ``'pad'``. ``stride`` and ``dilation`` are an int
    or a pair. Built from a gather and a matmul (Note [conv2d as im2col]), so every transform works.

    >>> import tapegrad as tg
    >>> x = tg.arange(16.0).reshape(1, 1, 4, 4)
    >>> w = tg.ones((1, 1, 2, 2))
    >>> print(tg.ops.conv2d(x, w, stride=2))
    [[[[10. 18.]
       [42. 50.]]]]
    >>> tg.ops.conv2d(x, w, pad_mode="same").shape
    (1, 1, 4, 4)
    """
    what = "conv2d"
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if not isinstance(weight, Tensor):
        weight = Tensor(weight)
    if input.ndim != 4:
        raise ValueError(f"{what}: input must be 4-d (N, C, H, W), got shape {tuple(input.shape)}")
    if weight.ndim != 4:
        raise ValueError(
            f"{what}: weight must be 4-d (C_out, C_in/groups, kh, kw), got shape {tuple(weight.shape)}"
        )
    for name, t in (("input", input), ("weight", weight)):
        if not t.dtype.is_floating_point:
            raise TypeError(
                f"{what}: {name} must be floating point, got dtype {t.dtype} (shape {tuple(t.shape)})"
            )
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{what}: groups must be a positive int, got {groups!r}")
    n, c, h, w = (int(s) for s in input.shape)
    o, cg, kh, kw = (int(s) for s in weight.shape)
    g = int(groups)
    if c % g or o % g or cg * g != c:
        raise ValueError(
            f"{what}: input of shape {tuple(input.shape)} and weight of shape {tuple(weight.shape)} do not match "
            f"with groups={g}: need C_in ({c}) = weight.shape[1] ({cg}) * groups and C_out ({o}) divisible by groups"
        )
    if kh < 1 or kw < 1:
        raise ValueError(
            f"{what}: the kernel must be at least 1x1, got weight of shape {tuple(weight.shape)}"
        )
    sh, sw = _pair(stride, what, "stride")
    dh, dw = _pair(dilation, what, "dilation")
    if isinstance(padding, str):  # padding='same' / 'valid', as mint and PyTorch spell it
        pad_mode, padding = padding, 0
    if not isinstance(pad_mode, str) or pad_mode.lower() not in ("same", "valid", "pad"):
        raise ValueError(f"{what}: pad_mode must be 'same', 'valid' or 'pad', got {pad_mode!r}")
    mode = pad_mode.lower()
    pads = _padding4(padding, what)
    if mode == "valid" and any(pads):
        mode = "pad"
    if mode == "same":
        top, bottom = _same_pads(h, kh, sh, dh)
        left, right = _same_pads(w, kw, sw, dw)
    elif mode == "pad":
        top, bottom, left, right = pads
    else:
        top = bottom = left = right = 0
    hp, wp = h + top + bottom, w + left + right
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if ekh > hp or ekw > wp:
        raise ValueError(
            f"{what}: the kernel ({kh}, {kw}) with dilation ({dh}, {dw}) spans ({ekh}, {ekw}), larger than the padded "
            f"input ({hp}, {wp}) (input shape {tuple(input.shape)})"
        )
    ho, wo = (hp - ekh) // sh + 1, (wp - ekw) // sw + 1
    if bias is not None:
        if not isinstance(bias, Tensor):
            bias = Tensor(bias)
        if tuple(bias.shape) != (o,):
            raise ValueError(
                f"{what}: bias must have shape ({o},) for weight of shape {tuple(weight.shape)}, got "
                f"{tuple(bias.shape)}"
            )

    idx, padded = _patch_index(n, h, w, kh, kw, sh, sw, dh, dw, top, left, ho, wo)
    rows = input.transpose(0, 2, 3, 1).reshape(n * h * w, c)  # one pixel per row (NHWC)
    if padded:
        rows = _core.concatenate([rows, _core._zeros((1, c), input.dtype)], 0)
    patches = _core.take(rows, idx, 0)  # (N*Ho*Wo*kh*kw, C), contiguous
    m, k = n * ho * wo, kh * kw
    if g == 1:
        cols = patches.reshape(m, k * c)  # the im2col matrix
        wmat = weight.transpose(2, 3, 1, 0).reshape(k * c, o)  # (kh, kw, C, O)
        out = _core.matmul(cols, wmat)  # (N*Ho*Wo, O): one GEMM
    else:
        cols = patches.reshape(m, k, g, cg).transpose(2, 0, 1, 3).reshape(g, m, k * cg)
        wmat = weight.reshape(g, o // g, cg, k).transpose(0, 3, 2, 1).reshape(g, k * cg, o // g)
        out = _core.matmul(cols, wmat).transpose(1, 0, 2).reshape(m, o)  # one GEMM per group
    out = out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
    if bias is not None:
        out = out + bias.reshape(1, o, 1, 1)
    return out
