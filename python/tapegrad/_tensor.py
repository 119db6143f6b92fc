"""Python-side parts of Tensor: MindSpore repr, numpy str, numpy interop flags."""

from __future__ import annotations

from . import _core, _mode
from . import cuda as _cuda_module
from ._core import Tensor
from ._repr import format_tensor_repr


def _repr(self):
    """MindSpore's repr: shape, dtype and the value (floats as %.8e in arrays, %g as scalars).

    >>> tg.tensor([0.0, 1.0])
    Tensor(shape=[2], dtype=Float32, value= [ 0.00000000e+00,  1.00000000e+00])
    >>> tg.tensor(28.0), tg.tensor([True, False])
    (Tensor(shape=[], dtype=Float32, value= 28), Tensor(shape=[2], dtype=Bool, value= [ True, False]))
    """
    if not self._initialised():
        return f"<{type(self).__name__}, not initialised>"
    return format_tensor_repr(self._value_repr(), str(self.dtype))


def _str(self):
    """numpy's str of the value: what `print(t)` shows.

    >>> print(tg.tensor([[6.0, 6.0], [1.5, 0.0]]))
    [[6.  6. ]
     [1.5 0. ]]
    """
    if not self._initialised():
        return _repr(self)
    return str(self._value_repr())


Tensor.__repr__ = _repr
Tensor.__str__ = _str
# numpy defers to Tensor's reflected operators (ndarray * Tensor is a Tensor), as with JAX arrays.
Tensor.__array_ufunc__ = None
Tensor.__array_priority__ = 1000


def _iter(self):
    """Iteration over the first dimension (TypeError for a 0-d tensor).

    >>> [row.tolist() for row in tg.tensor([[1, 2], [3, 4]])]
    [[1, 2], [3, 4]]
    >>> a, b = tg.tensor([1.0, 2.0])
    >>> a
    Tensor(shape=[], dtype=Float32, value= 1)
    """
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    for i in range(self.shape[0]):
        yield self[i]


Tensor.__iter__ = _iter


def _format(self, spec):
    """format(t, spec): a 0-d tensor formats as its Python scalar; any other tensor takes only the
    empty spec (its str), as numpy arrays and PyTorch tensors do: '.3f' on a vector was ignored."""
    if not spec:
        return str(self)
    if self.ndim == 0:
        return format(self.item(), spec)
    raise TypeError(
        f"unsupported format string {spec!r} passed to Tensor.__format__ for a tensor of shape "
        f"{tuple(self.shape)} (only a 0-d tensor takes a format spec)"
    )


Tensor.__format__ = _format


def _contains(self, value):
    """`value in t` is `(t == value).any()`, as numpy: a row of a matrix is found too (iterating
    compared whole rows with ==, whose truth value is ambiguous)."""
    eq = self == value
    return bool(eq.any()) if isinstance(eq, Tensor) else bool(eq)


Tensor.__contains__ = _contains


def _item_at(self, index):
    """Tensor.item(*index): one element by flat index or one index per dimension (numpy's rules)."""
    import operator

    if len(index) == 1 and isinstance(index[0], tuple):
        index = index[0]
    try:
        index = tuple(operator.index(i) for i in index)
    except TypeError:
        raise TypeError(
            f"item: indices must be integers, got {index!r} for a tensor of shape {tuple(self.shape)}"
        ) from None
    if len(index) == 1 and self.ndim != 1:
        (i,) = index
        n = self.size
        if not -n <= i < n:
            raise IndexError(
                f"item: index {i} is out of bounds for a tensor of size {n} (shape {tuple(self.shape)})"
            )
        return self.reshape(-1)[i].item()
    if len(index) != self.ndim:
        raise ValueError(
            f"item: a tensor of shape {tuple(self.shape)} takes 1 or {self.ndim} indices, got {len(index)}"
        )
    return self[index].item()


def _to(self, target):
    """The tensor on a device (`"CPU"`, `"GPU"`) or in a dtype (as ``astype``).

    `"GPU"` (or `"cuda"`) copies the tensor to the GPU when ``tg.cuda.is_available()``, and raises
    a ``tg.cuda.DeviceUnavailableError`` (a RuntimeError and a ValueError) saying why not
    otherwise; `"CPU"` copies a GPU tensor back. A tensor already on the device is returned
    itself, as PyTorch's ``.to`` does. The copy is not differentiable
    yet: a tensor that ``grad``/``vmap``/``jit`` tracks is refused (move the inputs first).

    >>> import tapegrad as tg
    >>> t = tg.ones(2)
    >>> t.to("CPU") is t
    True
    >>> t.to(tg.float64).dtype
    Float64
    """
    if isinstance(target, str) and target.split(":")[0].upper() in _DEVICE_WORDS:
        dev = _device_name(target, "to")
        if dev == self.device:
            return self
        if dev == "GPU":
            _cuda_module._require(f"to({target!r})")
        return _core._to_device(self, dev)
    if target is None or isinstance(target, (bool, int, float)):
        # Not a dtype either: say what `to` takes, not only that it is no dtype.
        raise TypeError(f"to: expected a device ('CPU' or 'GPU') or a dtype, got {target!r}")
    return self.astype(target)


# Words that make a string argument of ``to`` a device: "cuda:0" or "cpu:1" then gets the device
# error ("device must be 'CPU' or 'GPU'") instead of being read as a dtype name.
_DEVICE_WORDS = ("CPU", "GPU", "CUDA", "ASCEND", "NPU", "MPS", "XLA", "TPU")


def _device_name(device, where):
    """'CPU' or 'GPU' for a device argument (None: the CPU); ValueError for anything else."""
    if device is None:
        return "CPU"
    name = str(device).upper() if isinstance(device, str) else None
    if name == "CUDA":
        name = "GPU"
    if name not in ("CPU", "GPU"):
        raise ValueError(f"{where}: device must be 'CPU' or 'GPU', got {device!r}")
    return name


def _made(device, where, make, *args):
    """``make(*args)`` on `device` (None: set_context's device_target, or for a ``*_like``
    function its argument's device); the device is checked first, so that a bad one raises before
    a random function draws."""
    if device is None:
        if _mode.DEVICE[0] == "CPU" or where.endswith("_like"):  # *_like: the argument's device
            return make(*args)
        device = _mode.DEVICE[0]  # set_context(device_target=...)
    dev = _device_name(device, where)
    if dev == "GPU":
        _cuda_module._require(f"{where}(device={device!r})")
    return _place(make(*args), dev, where)


def _place(t, device, where):
    """`t` on `device` (None: where it is); itself when already there."""
    if device is None:
        return t
    dev = _device_name(device, where)
    if dev == t.device:
        return t
    if dev == "GPU":
        _cuda_module._require(f"{where}(device={device!r})")
    return _core._to_device(t, dev)


Tensor.to = _to


def _tensor_from_keywords(*args, **kwargs):
    """Tensor(...) called other than as Tensor(data, dtype=None): MindSpore's keywords,
    `Tensor(input_data=None, dtype=None, shape=None, init=None)`. With `shape` (and no data) the
    tensor is made by `init`: an initializer name of nn.Dense ("zeros", "ones", "normal",
    "xavier_uniform", ...), a number, or None for zeros. Anything else is a TypeError naming the
    accepted forms."""
    allowed = ("input_data", "dtype", "shape", "init")

    def bad(why):
        return TypeError(
            "Tensor(data, dtype=None): takes the data and an optional dtype (or MindSpore's "
            f"keywords input_data=, dtype=, shape=, init=); {why}"
        )

    if len(args) > 2 or set(kwargs) - set(allowed) or set(allowed[: len(args)]) & set(kwargs):
        raise bad(
            f"got {len(args)} positional argument(s)"
            + (f" and keyword(s) {sorted(kwargs)}" if kwargs else "")
        )
    given = dict(zip(allowed, args))
    given.update(kwargs)
    data, dtype, shape, init = (given.get(k) for k in allowed)
    if data is not None:
        if shape is not None or init is not None:
            raise bad("give either the data or a shape (with init), not both")
        return Tensor(data, dtype)
    if shape is None:
        raise bad(f"got no data and no shape ({len(args)} positional argument(s))")
    import tapegrad as tg

    from .nn.layers import _init

    base = tg.zeros(shape, dtype=dtype)  # checks the shape and the dtype
    if init is None:
        return base
    shape = tuple(base.shape)
    fan_in = 1
    for d in shape[1:]:
        fan_in *= d
    return Tensor(_init(init, shape, fan_in, base.dtype), base.dtype)
