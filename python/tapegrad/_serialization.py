"""Checkpoints (MindSpore's save_checkpoint / load_checkpoint / load_param_into_net).

File format: a numpy ``.npz`` archive written with plain arrays only and read with
``allow_pickle=False``, so loading a file never runs code from it. It holds
``__tapegrad_checkpoint__`` (format version), ``__names__`` (the names, a unicode array),
``__kinds__`` ("t" tensor, "s" string) and one array ``v<i>`` per entry, in the entry's own
dtype (float16/32/64, int8-64, uint8-64, complex64/128, bool are kept exactly). Python numbers given in ``append_dict``
are stored exactly: floats as float64, ints as int64 (an int outside int64 is refused), bools as
bool. Names are any str without the NUL character ``"\\x00"`` (refused: numpy's unicode arrays
drop trailing NULs, so ``"a"`` and ``"a\\x00"`` would collide).

Loading checks the whole file before building anything: every malformed file (not a zip, a plain
``.npy``, a directory, a truncated file, a wrong or unknown version, an unknown entry kind, a
missing or extra entry, a wrong dtype or shape, an object array) raises exactly one error type,
``ValueError`` with ``not a readable tapegrad checkpoint: <why>`` in its message. Array headers
are read before any array: a file whose entries declare more bytes than ``max_bytes`` (by default
16 times the file's size plus 64 MiB; files written here are stored uncompressed, so their
entries never exceed the file's size) is refused the same way, without allocating the memory.
"""

from __future__ import annotations

import numbers
import os
import tempfile
import zipfile
from collections import OrderedDict

import numpy as _np

from . import _core
from ._core import Tensor

__all__ = ["load_checkpoint", "load_param_into_net", "save_checkpoint"]

_MAGIC = "__tapegrad_checkpoint__"
_VERSION = 1
_SUFFIX = ".ckpt"


def _to_array(value, name, what):
    if isinstance(value, Tensor):
        return _np.array(_core.strip(value).asnumpy(), copy=True), "t"
    if isinstance(value, str):
        return _np.array(value), "s"
    if isinstance(value, bool):
        return _np.array(value, dtype=_np.bool_), "t"
    if isinstance(value, numbers.Integral):
        v = int(value)
        if not -(2**63) <= v < 2**63:
            raise OverflowError(
                f"{what}: the int value of {name!r} ({v}) does not fit in int64, the dtype it is "
                "stored as"
            )
        return _np.array(v, dtype=_np.int64), "t"
    if isinstance(value, numbers.Real):
        return _np.array(float(value), dtype=_np.float64), "t"  # float64: 1e-50 and 1e40 stay exact
    if isinstance(value, (_np.ndarray, _np.generic)) and _np.asarray(value).dtype.kind in "biuf":
        return _np.array(value, copy=True), "t"
    raise TypeError(
        f"{what}: the value of {name!r} must be a Tensor, Parameter, number or string, got "
        f"{type(value).__name__}"
    )


def _entries(save_obj, append_dict, what):
    """(name, value) pairs from a Cell, a list of {"name", "data"} dicts or a dict."""
    from .nn.cell import Cell

    if isinstance(save_obj, Cell):
        items = list(save_obj.parameters_and_names())
    elif isinstance(save_obj, (list, tuple)):
        items = []
        for i, d in enumerate(save_obj):
            if not isinstance(d, dict) or "name" not in d or "data" not in d:
                raise TypeError(
                    f"{what}: element {i} of the list must be a dict with keys 'name' and 'data', got "
                    f"{d!r}"[:200]
                )
            items.append((d["name"], d["data"]))
    elif isinstance(save_obj, dict):
        items = list(save_obj.items())
    else:
        raise TypeError(
            f"{what}: save_obj must be an nn.Cell, a list of {{'name': ..., 'data': ...}} dicts or a "
            f"dict, got {type(save_obj).__name__}"
        )
    if append_dict is not None:
        if not isinstance(append_dict, dict):
            raise TypeError(f"{what}: append_dict must be a dict, got {type(append_dict).__name__}")
        items += list(append_dict.items())
    seen = set()
    for name, _ in items:
        if not isinstance(name, str):
            raise TypeError(f"{what}: names must be strings, got {type(name).__name__}")
        if "\x00" in name:
            raise ValueError(
                f"{what}: the name {name!r} contains a NUL character ('\\x00'), which a checkpoint "
                "cannot store"
            )
        if name in seen:
            raise ValueError(f"{what}: the name {name!r} appears twice")
        seen.add(name)
    return items


def _file_name(path, what):
    """`path` as a str; os.fspath's own TypeError would not name the function."""
    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        if isinstance(path, str):
            return path
    raise TypeError(
        f"{what}: the checkpoint file name must be a str or path, got {type(path).__name__}"
    )


def _with_suffix(path, what="save_checkpoint"):
    path = _file_name(path, what)
    return path if path.endswith(_SUFFIX) else path + _SUFFIX


def save_checkpoint(
    save_obj,
    ckpt_file_name,
    integrated_save=True,
    async_save=False,
    append_dict=None,
    enc_key=None,
    enc_mode="AES-GCM",
    choice_func=None,
    **kwargs,
):
    """Save parameters to ``ckpt_file_name`` (``.ckpt`` is appended when missing, as MindSpore does).

    ``save_obj`` is an ``nn.Cell`` (every parameter, under its ``parameters_and_names`` name), a list
    of ``{"name": str, "data": Tensor}`` dicts, or a dict name -> Tensor. ``append_dict`` adds
    numbers, strings or Tensors; ``choice_func(name)`` returning False leaves an entry out. Values
    keep their dtype exactly. The file is written to a temporary name and renamed, so a crash never
    leaves a half-written checkpoint under the final name.

    >>> import os, tempfile
    >>> import tapegrad as tg
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = os.path.join(d, "net.ckpt")
    ...     tg.save_checkpoint([{"name": "w", "data": tg.tensor([1.0, 2.0])}], path)
    ...     print(tg.load_checkpoint(path)["w"])
    [1. 2.]
    """
    what = "save_checkpoint"
    if enc_key is not None:
        raise ValueError(f"{what}: encrypted checkpoints (enc_key) are not supported")
    if choice_func is not None and not callable(choice_func):
        raise TypeError(f"{what}: choice_func must be callable, got {type(choice_func).__name__}")
    items = _entries(save_obj, append_dict, what)
    if choice_func is not None:
        items = [(n, v) for n, v in items if choice_func(n)]
    arrays = OrderedDict()
    kinds = []
    for i, (name, value) in enumerate(items):
        arr, kind = _to_array(value, name, what)
        arrays[f"v{i}"] = arr
        kinds.append(kind)
    names = [n for n, _ in items]
    path = _with_suffix(ckpt_file_name, what)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{what}: the directory {directory!r} of {path!r} does not exist")
    header = {
        _MAGIC: _np.array(_VERSION, dtype=_np.int64),
        "__names__": _np.array(names, dtype=str) if names else _np.zeros((0,), dtype="<U1"),
        "__kinds__": _np.array(kinds, dtype=str) if kinds else _np.zeros((0,), dtype="<U1"),
    }
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=_SUFFIX, dir=directory)
    except OSError as e:
        # The OS names the temporary file, which the user never chose: name the checkpoint.
        raise type(e)(e.errno, f"{what}: cannot write {path!r} ({e.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            _np.savez(f, **header, **arrays)
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None:
            raise type(e)(e.errno, f"{what}: cannot write {path!r} ({e.strerror})") from None
        raise


def _resolve_existing(ckpt_file_name, what):
    path = _file_name(ckpt_file_name, what)
    if os.path.isfile(path):
        return path
    if not path.endswith(_SUFFIX) and os.path.isfile(path + _SUFFIX):
        return path + _SUFFIX
    if os.path.isdir(path):
        return path  # refused by the reader as not a checkpoint
    raise FileNotFoundError(f"{what}: the checkpoint file {path!r} does not exist")


def _prefixes(p, what, arg):
    if p is None:
        return ()
    if isinstance(p, str):
        return (p,)
    if isinstance(p, (list, tuple)) and all(isinstance(s, str) for s in p):
        return tuple(p)
    raise TypeError(f"{what}: {arg} must be a str or a list of str, got {p!r}")


class _Bad(Exception):
    pass


_TENSOR_DTYPES = frozenset(
    _np.dtype(t)
    for t in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
)


def _member_header(zf, member):
    """(shape, dtype, data bytes) declared by the .npy header of zip member `member`."""
    with zf.open(member) as f:
        version = _np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _fortran, dtype = _np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _fortran, dtype = _np.lib.format.read_array_header_2_0(f)
        else:
            raise _Bad(f"entry {member!r} has an unsupported .npy version {version}")
    if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise _Bad(f"entry {member!r} holds Python objects or records ({dtype})")
    count = 1
    for d in shape:
        count *= int(d)
    return tuple(int(d) for d in shape), dtype, count * dtype.itemsize


def _read_checkpoint(path, what, max_bytes):
    """(names, kinds, arrays) of a checkpoint file, or ValueError 'not a readable tapegrad
    checkpoint: <why>' for anything malformed."""
    try:
        if os.path.isdir(path):
            raise _Bad("it is a directory")
        size = os.path.getsize(path)
        cap = 16 * size + (64 << 20) if max_bytes is None else int(max_bytes)
        if not zipfile.is_zipfile(path):
            raise _Bad(
                "not a zip (.npz) archive" + (" (a plain .npy array)" if _is_npy(path) else "")
            )
        with zipfile.ZipFile(path) as zf:
            infos = {}
            for info in zf.infolist():
                if not info.filename.endswith(".npy"):
                    raise _Bad(f"unexpected member {info.filename!r}")
                key = info.filename[:-4]
                if key in infos:
                    raise _Bad(f"member {info.filename!r} appears twice")
                infos[key] = info
            for key in (_MAGIC, "__names__", "__kinds__"):
                if key not in infos:
                    raise _Bad(
                        f"the entry {key!r} is missing"
                        + (" (no tapegrad checkpoint header)" if key == _MAGIC else "")
                    )
            total = 0
            headers = {}
            for key, info in infos.items():
                shape, dtype, nbytes = _member_header(zf, info)
                if nbytes > info.file_size:
                    raise _Bad(
                        f"entry {key!r} declares {nbytes} bytes of data but its member holds "
                        f"{info.file_size}"
                    )
                total += nbytes
                if total > cap:
                    raise _Bad(
                        f"its entries would take more than {cap} bytes (max_bytes; the file has {size} bytes)"
                    )
                headers[key] = (shape, dtype)

            def read(key):
                with zf.open(infos[key]) as f:
                    return _np.lib.format.read_array(f, allow_pickle=False)

            shape, dtype = headers[_MAGIC]
            if shape != () or dtype.kind not in "iu":
                raise _Bad(
                    f"the format version must be an integer scalar, got dtype {dtype} and shape {shape}"
                )
            version = int(read(_MAGIC))
            if not 1 <= version <= _VERSION:
                raise _Bad(
                    f"format version {version} is not one this tapegrad reads (1 to {_VERSION})"
                )
            lists = []
            for key in ("__names__", "__kinds__"):
                shape, dtype = headers[key]
                if len(shape) != 1 or dtype.kind != "U":
                    raise _Bad(
                        f"{key} must be a 1-d unicode array, got dtype {dtype} and shape {shape}"
                    )
                lists.append([str(v) for v in read(key)])
            names, kinds = lists
            if len(kinds) != len(names):
                raise _Bad(f"{len(names)} names but {len(kinds)} kinds")
            if len(set(names)) != len(names):
                raise _Bad("a name appears twice")
            expected = {_MAGIC, "__names__", "__kinds__"} | {f"v{i}" for i in range(len(names))}
            extra = sorted(set(infos) - expected)
            if extra:
                raise _Bad(f"unexpected entries {extra[:5]}")
            arrays = []
            for i, (name, kind) in enumerate(zip(names, kinds)):
                key = f"v{i}"
                if key not in headers:
                    raise _Bad(f"the value of {name!r} ({key}) is missing")
                shape, dtype = headers[key]
                if kind == "s":
                    if shape != () or dtype.kind != "U":
                        raise _Bad(
                            f"the string {name!r} must be a 0-d unicode array, got dtype {dtype} and shape "
                            f"{shape}"
                        )
                elif kind == "t":
                    if dtype.newbyteorder("=") not in _TENSOR_DTYPES:
                        raise _Bad(
                            f"the tensor {name!r} has dtype {dtype}, which is not a tensor dtype"
                        )
                else:
                    raise _Bad(f"unknown entry kind {kind!r} for {name!r}")
                arr = read(key)
                if arr.shape != shape or arr.dtype != dtype:
                    raise _Bad(f"the value of {name!r} does not match its header")
                if kind == "t" and not arr.dtype.isnative:
                    arr = arr.astype(arr.dtype.newbyteorder("="))
                arrays.append(arr)
            return names, kinds, arrays
    except _Bad as e:
        why = str(e)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        KeyError,
        OSError,
        EOFError,
        OverflowError,
        TypeError,
        IndexError,
        SyntaxError,
        UnicodeError,
        NotImplementedError,
        RuntimeError,
    ) as e:
        why = f"{type(e).__name__}: {e}"
    raise ValueError(f"{what}: {path!r}: not a readable tapegrad checkpoint: {why}") from None


def _is_npy(path):
    try:
        with open(path, "rb") as f:
            return f.read(6) == b"\x93NUMPY"
    except OSError:
        return False


def load_checkpoint(
    ckpt_file_name,
    net=None,
    strict_load=False,
    filter_prefix=None,
    dec_key=None,
    dec_mode="AES-GCM",
    specify_prefix=None,
    choice_func=None,
    max_bytes=None,
    **kwargs,
):
    """Load a checkpoint written by :func:`save_checkpoint`: a dict name -> ``Parameter`` (strings
    saved with ``append_dict`` come back as str). With ``net``, the values are also loaded into the
    network in place (:func:`load_param_into_net`). ``filter_prefix`` drops names starting with it,
    ``specify_prefix`` keeps only those, ``choice_func(name)`` keeps the names it accepts.
    A malformed file raises ``ValueError`` ("not a readable tapegrad checkpoint: <why>");
    ``max_bytes`` caps the bytes its entries may take (default: 16 times the file size plus 64 MiB).

    >>> import os, tempfile
    >>> import tapegrad as tg
    >>> net, other = tg.nn.Dense(2, 1), tg.nn.Dense(2, 1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     tg.save_checkpoint(net, os.path.join(d, "dense.ckpt"))
    ...     params = tg.load_checkpoint(os.path.join(d, "dense.ckpt"), net=other)
    >>> sorted(params)
    ['bias', 'weight']
    >>> bool((other.weight == net.weight).all())
    True
    """
    what = "load_checkpoint"
    if dec_key is not None:
        raise ValueError(f"{what}: encrypted checkpoints (dec_key) are not supported")
    if max_bytes is not None and (
        isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral)
    ):
        raise TypeError(f"{what}: max_bytes must be an int or None, got {type(max_bytes).__name__}")
    if max_bytes is not None and max_bytes < 0:
        raise ValueError(f"{what}: max_bytes must be >= 0, got {max_bytes}")
    path = _resolve_existing(ckpt_file_name, what)
    drop = _prefixes(filter_prefix, what, "filter_prefix")
    keep = _prefixes(specify_prefix, what, "specify_prefix")
    from ._parameter import Parameter

    names, kinds, arrays = _read_checkpoint(path, what, max_bytes)
    result = OrderedDict()
    for name, kind, arr in zip(names, kinds, arrays):
        if drop and name.startswith(drop):
            continue
        if keep and not name.startswith(keep):
            continue
        if choice_func is not None and not choice_func(name):
            continue
        if kind == "s":
            result[name] = str(arr[()])
        else:
            result[name] = Parameter(Tensor(arr), name=name)
    if net is not None:
        load_param_into_net(net, result, strict_load=strict_load)
    return result


def load_param_into_net(net, parameter_dict, strict_load=False):
    """Copy the values of ``parameter_dict`` (name -> Tensor/Parameter) into the parameters of
    ``net`` with the same ``parameters_and_names`` name, in place. Returns ``(param_not_load,
    ckpt_not_load)``: the network's parameters that got no value and the dict's names that were not
    used. A shape mismatch is a ValueError naming the parameter and both shapes. With
    ``strict_load=False`` a name may also match by its last components (``"fc.weight"`` for
    ``"net.fc.weight"``, only when unambiguous: a checkpoint name that two parameters would take by
    suffix fills neither, and both are in ``param_not_load``) and floating-point values are converted to the
    parameter's precision; with ``strict_load=True`` names and dtypes must match exactly.

    >>> import tapegrad as tg
    >>> net = tg.nn.Dense(2, 1, has_bias=False)
    >>> tg.load_param_into_net(net, {"weight": tg.tensor([[3.0, 4.0]])})
    ([], [])
    >>> print(net.weight)
    [[3. 4.]]
    """
    from .nn.cell import Cell

    what = "load_param_into_net"
    if not isinstance(net, Cell):
        raise TypeError(f"{what}: net must be an nn.Cell, got {type(net).__name__}")
    if not isinstance(parameter_dict, dict):
        raise TypeError(
            f"{what}: parameter_dict must be a dict, got {type(parameter_dict).__name__}"
        )
    for k, v in parameter_dict.items():
        if not isinstance(v, (Tensor, _np.ndarray, str)):
            raise TypeError(
                f"{what}: parameter_dict values must be Parameters or Tensors, got "
                f"{type(v).__name__} for {k!r}"
            )
    used = set()
    plan = []
    not_loaded = []
    named = list(net.parameters_and_names())
    # A name matches exactly, or (strict_load=False) by its last components, and only when that is
    # unambiguous both ways: one checkpoint name for the parameter, and no other parameter taking
    # the same checkpoint name by suffix (two parameters matching one name: neither is filled).
    chosen = {}
    for name, _ in named:
        if name in parameter_dict:
            chosen[name] = name
        elif not strict_load:
            cands = [
                k
                for k in parameter_dict
                if k not in {n for n, _ in named}
                and (k.endswith("." + name) or name.endswith("." + k))
            ]
            if len(cands) == 1:
                chosen[name] = cands[0]
    claims = {}
    for key in chosen.values():
        claims[key] = claims.get(key, 0) + 1
    for name, p in named:
        key = chosen.get(name)
        if key is not None and key != name and claims[key] > 1:
            key = None
        if key is None or isinstance(parameter_dict[key], str):
            not_loaded.append(name)
            continue
        v = parameter_dict[key]
        v = v if isinstance(v, Tensor) else Tensor(v)
        if tuple(v.shape) != tuple(p.shape):
            raise ValueError(
                f"{what}: parameter {name!r} has shape {tuple(p.shape)} in the network but the "
                f"checkpoint value {key!r} has shape {tuple(v.shape)}"
            )
        if v.dtype != p.dtype:
            both_float = v.dtype.is_floating_point and p.dtype.is_floating_point
            if strict_load or not both_float:
                raise TypeError(
                    f"{what}: parameter {name!r} has dtype {p.dtype} in the network but the checkpoint "
                    f"value {key!r} has dtype {v.dtype}"
                )
        plan.append((p, v))
        used.add(key)
    # Every check passed: only now write, so that a failed load leaves the network untouched.
    for p, v in plan:
        p.set_data(_core.strip(v).astype(p.dtype))
    ckpt_not_load = [k for k in parameter_dict if k not in used]
    return not_loaded, ckpt_not_load
