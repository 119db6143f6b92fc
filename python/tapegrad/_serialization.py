"""Checkpoints (MindSpore's save_checkpoint / load_checkpoint / load_param_into_net).

File format: a numpy ``.npz`` archive written with plain arrays only and read with
``allow_pickle=False``, so loading a file never runs code from it. It holds
``__tapegrad_checkpoint__`` (format version), ``__names__`` (the names, a unicode array),
``__kinds__`` ("t" tensor, "s" string) and one array ``v<i>`` per entry, in the entry's own
dtype (float16/32/64, int32/64, bool are kept exactly).
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
        return _np.array(value, dtype=_np.int64), "t"
    if isinstance(value, numbers.Real):
        return _np.array(value, dtype=_np.float32), "t"
    if isinstance(value, (_np.ndarray, _np.generic)) and _np.asarray(value).dtype.kind in "biuf":
        return _np.array(value, copy=True), "t"
    raise TypeError(f"{what}: the value of {name!r} must be a Tensor, Parameter, number or string, got "
                    f"{type(value).__name__}")


def _entries(save_obj, append_dict, what):
    """(name, value) pairs from a Cell, a list of {"name", "data"} dicts or a dict."""
    from .nn.cell import Cell

    if isinstance(save_obj, Cell):
        items = list(save_obj.parameters_and_names())
    elif isinstance(save_obj, (list, tuple)):
        items = []
        for i, d in enumerate(save_obj):
            if not isinstance(d, dict) or "name" not in d or "data" not in d:
                raise TypeError(f"{what}: element {i} of the list must be a dict with keys 'name' and 'data', got "
                                f"{d!r}"[:200])
            items.append((d["name"], d["data"]))
    elif isinstance(save_obj, dict):
        items = list(save_obj.items())
    else:
        raise TypeError(f"{what}: save_obj must be an nn.Cell, a list of {{'name': ..., 'data': ...}} dicts or a "
                        f"dict, got {type(save_obj).__name__}")
    if append_dict is not None:
        if not isinstance(append_dict, dict):
            raise TypeError(f"{what}: append_dict must be a dict, got {type(append_dict).__name__}")
        items += list(append_dict.items())
    seen = set()
    for name, _ in items:
        if not isinstance(name, str):
            raise TypeError(f"{what}: names must be strings, got {type(name).__name__}")
        if name in seen:
            raise ValueError(f"{what}: the name {name!r} appears twice")
        seen.add(name)
    return items


def _with_suffix(path):
    path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"checkpoint file name must be a str or path, got {type(path).__name__}")
    return path if path.endswith(_SUFFIX) else path + _SUFFIX


def save_checkpoint(save_obj, ckpt_file_name, integrated_save=True, async_save=False, append_dict=None,
                    enc_key=None, enc_mode="AES-GCM", choice_func=None, **kwargs):
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
    path = _with_suffix(ckpt_file_name)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{what}: the directory {directory!r} of {path!r} does not exist")
    header = {
        _MAGIC: _np.array(_VERSION, dtype=_np.int64),
        "__names__": _np.array(names, dtype=str) if names else _np.zeros((0,), dtype="<U1"),
        "__kinds__": _np.array(kinds, dtype=str) if kinds else _np.zeros((0,), dtype="<U1"),
    }
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _np.savez(f, **header, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _resolve_existing(ckpt_file_name, what):
    path = os.fspath(ckpt_file_name)
    if not isinstance(path, str):
        raise TypeError(f"{what}: the checkpoint file name must be a str or path, got {type(path).__name__}")
    if os.path.isfile(path):
        return path
    if not path.endswith(_SUFFIX) and os.path.isfile(path + _SUFFIX):
        return path + _SUFFIX
    raise FileNotFoundError(f"{what}: the checkpoint file {path!r} does not exist")


def _prefixes(p, what, arg):
    if p is None:
        return ()
    if isinstance(p, str):
        return (p,)
    if isinstance(p, (list, tuple)) and all(isinstance(s, str) for s in p):
        return tuple(p)
    raise TypeError(f"{what}: {arg} must be a str or a list of str, got {p!r}")


def load_checkpoint(ckpt_file_name, net=None, strict_load=False, filter_prefix=None, dec_key=None,
                    dec_mode="AES-GCM", specify_prefix=None, choice_func=None, **kwargs):
    """Load a checkpoint written by :func:`save_checkpoint`: a dict name -> ``Parameter`` (strings
    saved with ``append_dict`` come back as str). With ``net``, the values are also loaded into the
    network in place (:func:`load_param_into_net`). ``filter_prefix`` drops names starting with it,
    ``specify_prefix`` keeps only those, ``choice_func(name)`` keeps the names it accepts.

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
    path = _resolve_existing(ckpt_file_name, what)
    drop = _prefixes(filter_prefix, what, "filter_prefix")
    keep = _prefixes(specify_prefix, what, "specify_prefix")
    from ._parameter import Parameter

    result = OrderedDict()
    try:
        with _np.load(path, allow_pickle=False) as z:
            if _MAGIC not in z.files:
                raise ValueError("no tapegrad checkpoint header")
            version = int(z[_MAGIC])
            if version > _VERSION:
                raise ValueError(f"format version {version} is newer than this tapegrad reads ({_VERSION})")
            names = [str(n) for n in z["__names__"]]
            kinds = [str(k) for k in z["__kinds__"]]
            if len(kinds) != len(names):
                raise ValueError("names and kinds differ in length")
            for i, (name, kind) in enumerate(zip(names, kinds)):
                if drop and name.startswith(drop):
                    continue
                if keep and not name.startswith(keep):
                    continue
                if choice_func is not None and not choice_func(name):
                    continue
                arr = z[f"v{i}"]
                if kind == "s":
                    result[name] = str(arr)
                else:
                    result[name] = Parameter(Tensor(arr), name=name)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as e:
        raise ValueError(f"{what}: {path!r} is not a readable tapegrad checkpoint ({e})") from None
    if net is not None:
        load_param_into_net(net, result, strict_load=strict_load)
    return result


def load_param_into_net(net, parameter_dict, strict_load=False):
    """Copy the values of ``parameter_dict`` (name -> Tensor/Parameter) into the parameters of
    ``net`` with the same ``parameters_and_names`` name, in place. Returns ``(param_not_load,
    ckpt_not_load)``: the network's parameters that got no value and the dict's names that were not
    used. A shape mismatch is a ValueError naming the parameter and both shapes. With
    ``strict_load=False`` a name may also match by its last components (``"fc.weight"`` for
    ``"net.fc.weight"``, when unambiguous) and floating-point values are converted to the
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
        raise TypeError(f"{what}: parameter_dict must be a dict, got {type(parameter_dict).__name__}")
    for k, v in parameter_dict.items():
        if not isinstance(v, (Tensor, _np.ndarray, str)):
            raise TypeError(f"{what}: parameter_dict values must be Parameters or Tensors, got "
                            f"{type(v).__name__} for {k!r}")
    used = set()
    plan = []
    not_loaded = []
    for name, p in net.parameters_and_names():
        key = name if name in parameter_dict else None
        if key is None and not strict_load:
            cands = [k for k in parameter_dict
                     if k.endswith("." + name) or name.endswith("." + k)]
            if len(cands) == 1:
                key = cands[0]
        if key is None or isinstance(parameter_dict[key], str):
            not_loaded.append(name)
            continue
        v = parameter_dict[key]
        v = v if isinstance(v, Tensor) else Tensor(v)
        if tuple(v.shape) != tuple(p.shape):
            raise ValueError(f"{what}: parameter {name!r} has shape {tuple(p.shape)} in the network but the "
                             f"checkpoint value {key!r} has shape {tuple(v.shape)}")
        if v.dtype != p.dtype:
            both_float = v.dtype.is_floating_point and p.dtype.is_floating_point
            if strict_load or not both_float:
                raise TypeError(f"{what}: parameter {name!r} has dtype {p.dtype} in the network but the checkpoint "
                                f"value {key!r} has dtype {v.dtype}")
        plan.append((p, v))
        used.add(key)
    # Every check passed: only now write, so that a failed load leaves the network untouched.
    for p, v in plan:
        p.set_data(_core.strip(v).astype(p.dtype))
    ckpt_not_load = [k for k in parameter_dict if k not in used]
    return not_loaded, ckpt_not_load
