"""Convolution layers (MindSpore names and argument conventions)."""

from __future__ import annotations

import numbers

from .._conv import _padding4, _pair, conv2d
from .._parameter import Parameter
from .cell import Cell
from .layers import _init, _tg


class Conv2d(Cell):
    """2-d convolution layer, MindSpore's ``nn.Conv2d``: input (N, C_in, H, W), weight
    (out_channels, in_channels / group, kh, kw), optional bias (out_channels,). ``pad_mode`` is
    ``'same'`` (default; output ``ceil(H / stride)``), ``'valid'`` or ``'pad'`` (then ``padding`` is an
    int, ``(pad_h, pad_w)`` or ``(top, bottom, left, right)``; other modes need ``padding=0``, as in
    MindSpore). ``weight_init``/``bias_init`` default to uniform(+-1/sqrt(fan_in)) (MindSpore's
    HeUniform(sqrt(5)) and its bias rule); the initializers of ``nn.Dense`` are accepted ('zeros',
    'ones', 'normal', 'truncated_normal', 'he_normal', 'xavier_uniform', 'xavier_normal', a number,
    a Tensor). Only ``data_format='NCHW'``. See ``ops.conv2d``.

    >>> import tapegrad as tg
    >>> conv = tg.nn.Conv2d(3, 8, 3, stride=2, has_bias=True)
    >>> conv(tg.ones((2, 3, 9, 9))).shape
    (2, 8, 5, 5)
    >>> conv.weight.shape
    (8, 3, 3, 3)
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        pad_mode="same",
        padding=0,
        dilation=1,
        group=1,
        has_bias=False,
        weight_init=None,
        bias_init=None,
        data_format="NCHW",
        dtype=None,
    ):
        super().__init__()
        what = "Conv2d"
        for name, v in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("group", group),
        ):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{what}: {name} must be a positive int, got {v!r}")
        if in_channels % group or out_channels % group:
            raise ValueError(
                f"{what}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by group ({group})"
            )
        if data_format != "NCHW":
            raise ValueError(f"{what}: only data_format='NCHW' is supported, got {data_format!r}")
        if not isinstance(pad_mode, str) or pad_mode.lower() not in ("same", "valid", "pad"):
            raise ValueError(f"{what}: pad_mode must be 'same', 'valid' or 'pad', got {pad_mode!r}")
        pad_mode = pad_mode.lower()
        # Checked here for every mode, so a negative padding fails at construction, not at the
        # first call.
        if any(_padding4(padding, what)) and pad_mode != "pad":
            raise ValueError(
                f"{what}: padding must be 0 when pad_mode is {pad_mode!r} (use pad_mode='pad'), got "
                f"padding={padding!r}"
            )
        tg = _tg()
        dtype = dtype if dtype is not None else tg.float32
        self.in_channels = int(in_channels)
        self.out_channels = int(out_channels)
        self.kernel_size = _pair(kernel_size, what, "kernel_size")
        self.stride = _pair(stride, what, "stride")
        self.dilation = _pair(dilation, what, "dilation")
        self.pad_mode = pad_mode
        self.padding = tuple(padding) if isinstance(padding, list) else padding
        self.group = int(group)
        self.data_format = data_format
        kh, kw = self.kernel_size
        fan_in = self.in_channels // self.group * kh * kw
        shape = (self.out_channels, self.in_channels // self.group, kh, kw)
        self.weight = Parameter(
            _init(weight_init if weight_init is not None else "uniform", shape, fan_in, dtype),
            name="weight",
        )
        self.has_bias = bool(has_bias)
        if self.has_bias:
            self.bias = Parameter(
                _init(
                    bias_init if bias_init is not None else "uniform",
                    (self.out_channels,),
                    fan_in,
                    dtype,
                ),
                name="bias",
            )
        else:
            self.bias = None

    def construct(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"Conv2d: expected input of shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}"
            )
        return conv2d(
            x,
            self.weight,
            self.bias if self.has_bias else None,
            self.stride,
            self.pad_mode,
            self.padding,
            self.dilation,
            self.group,
        )

    def extend_repr(self):
        return (
            f"input_channels={self.in_channels}, output_channels={self.out_channels}, "
            f"kernel_size={self.kernel_size}, stride={self.stride}, pad_mode={self.pad_mode}, "
            f"padding={self.padding}, dilation={self.dilation}, group={self.group}, has_bias={self.has_bias}, "
            f"format={self.data_format}"
        )
