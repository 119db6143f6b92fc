"""nn.Cell: MindSpore's module class (construct, Parameter and sub-Cell registration)."""

from __future__ import annotations

from collections import OrderedDict

from .. import _mode
from .._core import Tensor
from .._parameter import Parameter, ParameterTuple


class Cell:
    """Base class of layers and networks. Subclasses define `construct`; calling the cell runs it.

    Parameters and Cells assigned as attributes are registered (for `trainable_params()`,
    `parameters_and_names()`, optimizers); call `super().__init__()` first. A
    `bprop(self, *inputs, out, dout)` method, when defined, is the cell's reverse rule.

    >>> class Scale(tg.nn.Cell):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = tg.Parameter(tg.tensor([2.0]), name="w")
    ...     def construct(self, x):
    ...         return self.w * x
    >>> Scale()(tg.tensor([3.0]))
    Tensor(shape=[1], dtype=Float32, value= [ 6.00000000e+00])
    """

    def __init__(self, auto_prefix=True, flags=None):
        object.__setattr__(self, "_params", OrderedDict())
        object.__setattr__(self, "_cells", OrderedDict())
        object.__setattr__(self, "training", False)
        object.__setattr__(self, "_auto_prefix", auto_prefix)
        object.__setattr__(self, "_bprop_fn", None)

    # -- registration ------------------------------------------------------------------------
    def _ensure_init(self):
        if "_params" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() in __init__ before assigning attributes"
            )

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._ensure_init()
            if value.name is None:
                value.name = name
            self._forget(name, keep=self._params)  # a replaced Parameter keeps its place
            self._params[name] = value
        elif isinstance(value, Cell):
            self._ensure_init()
            self._forget(name, keep=self._cells)
            self._cells[name] = value
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, Parameter) for v in value)
        ):
            # MindSpore registers the Parameters of a list, tuple or ParameterTuple attribute:
            # without it an optimizer built from trainable_params() would silently leave them
            # untrained. parameters_and_names() lists them (as "<name>.<i>") after every
            # Parameter held directly, so that `self.weights = net.trainable_params()` (a
            # MindSpore idiom) renames none of them.
            self._ensure_init()
            self._forget(name)
            for i, p in enumerate(value):
                if p.name is None:
                    p.name = f"{name}.{i}"
            self.__dict__.setdefault("_param_lists", {})[name] = tuple(value)
            object.__setattr__(self, name, value)
        else:
            if "_params" in self.__dict__:
                if name in self._params:
                    if value is None:
                        del self._params[name]
                    elif isinstance(value, Tensor):
                        self._params[name].set_data(value)
                        return
                    else:
                        # As MindSpore: otherwise the attribute would shadow the Parameter that
                        # trainable_params() and the optimizers still hold.
                        raise TypeError(
                            f"{type(self).__name__}: attribute {name!r} is a Parameter; assign a "
                            f"Parameter, a Tensor of its shape or None, not {type(value).__name__}"
                        )
                self._cells.pop(name, None)
                self._forget_list(name)
            object.__setattr__(self, name, value)
        _mode.bump_cell_epoch()

    def _forget(self, name, keep=None):
        """Drop what `name` held: a Parameter, a sub-Cell, a plain attribute or a list of
        Parameters, before `name` is bound to something else (in `keep`, which it overwrites)."""
        for registry in (self._params, self._cells):
            if registry is not keep:
                registry.pop(name, None)
        self.__dict__.pop(name, None)
        self._forget_list(name)

    def _forget_list(self, name):
        lists = self.__dict__.get("_param_lists")
        if lists and name in lists:
            del lists[name]

    def __getattr__(self, name):
        d = self.__dict__
        if "_params" in d and name in d["_params"]:
            return d["_params"][name]
        if "_cells" in d and name in d["_cells"]:
            return d["_cells"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._params:
            del self._params[name]
        elif name in self._cells:
            del self._cells[name]
        else:
            object.__delattr__(self, name)
            self._forget_list(name)
        _mode.bump_cell_epoch()

    def insert_param_to_cell(self, param_name, param, check_name_contain_dot=True):
        """Register `param` under `param_name` (as `setattr(self, param_name, param)`).

        >>> cell = tg.nn.Cell()
        >>> cell.insert_param_to_cell("w", tg.Parameter(tg.ones(1)))
        >>> list(cell.parameters_dict())
        ['w']
        """
        setattr(self, param_name, param)

    def insert_child_to_cell(self, child_name, child_cell):
        """Register `child_cell` under `child_name` (as `setattr(self, child_name, child_cell)`).

        >>> cell = tg.nn.Cell()
        >>> cell.insert_child_to_cell("act", tg.nn.ReLU())
        >>> list(cell.name_cells())
        ['act']
        """
        setattr(self, child_name, child_cell)

    # -- running -----------------------------------------------------------------------------
    def construct(self, *inputs, **kwargs):
        """The cell's computation: subclasses define it; `cell(*inputs)` runs it.

        >>> class AddOne(tg.nn.Cell):
        ...     def construct(self, x):
        ...         return x + 1
        >>> AddOne()(tg.tensor([1.0, 2.0]))
        Tensor(shape=[2], dtype=Float32, value= [ 2.00000000e+00,  3.00000000e+00])
        """
        raise NotImplementedError(f"{type(self).__name__}.construct is not defined")

    def __call__(self, *inputs, **kwargs):
        if self._to_float is not None:
            inputs, kwargs = self._cast_inputs(inputs, kwargs)
        if type(self).bprop is not Cell.bprop:
            if kwargs:  # they were dropped: construct ran with its defaults
                inputs = self._bprop_positional(inputs, kwargs)
            return self._call_with_bprop(*inputs)
        if _mode.GRAPH[0] and _mode.graph_mode_active():
            return _mode.run_cell_graph(self, inputs, kwargs)
        return self.construct(*inputs, **kwargs)

    def bprop(self, *args):  # overridden by cells with a custom reverse rule
        """The cell's reverse rule, when a subclass defines it: `bprop(self, *inputs, out, dout)`
        returns a tuple with the cotangent of each input. Every transform honours it.

        >>> class Double(tg.nn.Cell):
        ...     def construct(self, x):
        ...         return 2 * x
        ...     def bprop(self, x, out, dout):
        ...         return (10 * dout,)
        >>> tg.grad(Double())(tg.tensor([1.0, 2.0]))
        Tensor(shape=[2], dtype=Float32, value= [ 1.00000000e+01,  1.00000000e+01])
        """
        raise NotImplementedError

    def _bprop_positional(self, inputs, kwargs):
        """Keyword inputs of a cell with a bprop as positional ones (its rule takes them so),
        with construct's defaults filled in before them."""
        import inspect

        try:
            bound = inspect.signature(self.construct).bind(*inputs, **kwargs)
        except TypeError as e:
            raise TypeError(f"{type(self).__name__}.construct: {e}") from None
        bound.apply_defaults()
        if bound.kwargs:
            raise TypeError(
                f"{type(self).__name__}: a cell with a bprop takes its inputs by position; "
                f"construct's keyword-only inputs {sorted(bound.kwargs)} cannot be passed"
            )
        return bound.args

    def _call_with_bprop(self, *inputs):
        fn = self.__dict__.get("_bprop_fn")
        if fn is None:
            from .._custom import custom_vjp

            cell = self

            @custom_vjp
            def run(*xs):
                return cell.construct(*xs)

            def fwd(*xs):
                out = cell.construct(*xs)
                return out, (xs, out)

            def bwd(res, dout):
                xs, out = res
                g = cell.bprop(*xs, out, dout)
                if not isinstance(g, tuple):
                    g = (g,)
                return g

            run.defvjp(fwd, bwd)
            fn = run
            object.__setattr__(self, "_bprop_fn", fn)
        return fn(*inputs)

    # -- parameters --------------------------------------------------------------------------
    def cells_and_names(self, cells=None, name_prefix=""):
        """`(name, cell)` for this cell (name "") and every sub-cell, depth first.

        >>> net = tg.nn.SequentialCell([tg.nn.Dense(2, 1), tg.nn.ReLU()])
        >>> [name for name, _ in net.cells_and_names()]
        ['', '0', '1']
        """
        if "_params" not in self.__dict__:
            # A subclass whose __init__ did not call super().__init__(): say so, not "no _params".
            self._ensure_init()
        seen = set() if cells is None else cells
        if id(self) in seen:
            return
        seen.add(id(self))
        yield name_prefix, self
        for name, c in self._cells.items():
            if c is None:
                continue
            yield from c.cells_and_names(seen, f"{name_prefix}.{name}" if name_prefix else name)

    def parameters_and_names(self, name_prefix="", expand=True):
        """`(qualified name, Parameter)` for every Parameter of this cell and (with `expand`) of
        its sub-cells, each once.

        >>> net = tg.nn.SequentialCell([tg.nn.Dense(2, 1), tg.nn.ReLU()])
        >>> [(name, p.shape) for name, p in net.parameters_and_names()]
        [('0.weight', (1, 2)), ('0.bias', (1,))]
        """
        seen = set()
        cells = []
        for prefix, cell in self.cells_and_names(name_prefix=name_prefix):
            cells.append((prefix, cell))
            for name, p in cell._params.items():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{prefix}.{name}" if prefix else name), p
            if not expand:
                break
        for prefix, cell in cells:  # then those of list attributes, not met above
            for name, params in cell.__dict__.get("_param_lists", {}).items():
                for i, p in enumerate(params):
                    if id(p) in seen:
                        continue
                    seen.add(id(p))
                    key = f"{name}.{i}"
                    yield (f"{prefix}.{key}" if prefix else key), p

    def get_parameters(self, expand=True):
        """Every Parameter, as `parameters_and_names` without the names.

        >>> [p.name for p in tg.nn.Dense(2, 1).get_parameters()]
        ['weight', 'bias']
        """
        for _, p in self.parameters_and_names(expand=expand):
            yield p

    def trainable_params(self, recurse=True):
        """A ParameterTuple of the Parameters with `requires_grad` (what optimizers take).

        >>> dense = tg.nn.Dense(2, 1)
        >>> dense.bias.requires_grad = False
        >>> [p.name for p in dense.trainable_params()]
        ['weight']
        """
        return ParameterTuple(p for p in self.get_parameters(expand=recurse) if p.requires_grad)

    def untrainable_params(self, recurse=True):
        """A ParameterTuple of the Parameters without `requires_grad`.

        >>> dense = tg.nn.Dense(2, 1)
        >>> dense.bias.requires_grad = False
        >>> [p.name for p in dense.untrainable_params()]
        ['bias']
        """
        return ParameterTuple(p for p in self.get_parameters(expand=recurse) if not p.requires_grad)

    def parameters_dict(self, recurse=True):
        """An OrderedDict of qualified name -> Parameter.

        >>> list(tg.nn.SequentialCell([tg.nn.Dense(2, 1)]).parameters_dict())
        ['0.weight', '0.bias']
        """
        return OrderedDict(self.parameters_and_names(expand=recurse))

    def cells(self):
        """The direct sub-cells.

        >>> tg.nn.SequentialCell([tg.nn.ReLU(), tg.nn.Tanh()]).cells()
        [ReLU<>, Tanh<>]
        """
        return [c for c in self._cells.values() if c is not None]

    def name_cells(self):
        """An OrderedDict of name -> direct sub-cell.

        >>> dict(tg.nn.SequentialCell([tg.nn.ReLU(), tg.nn.Tanh()]).name_cells())
        {'0': ReLU<>, '1': Tanh<>}
        """
        return OrderedDict((n, c) for n, c in self._cells.items() if c is not None)

    def set_train(self, mode=True):
        """Training mode (`mode=True`) or inference mode for this cell and every sub-cell; only
        `Dropout` behaves differently. Returns the cell.

        >>> net = tg.nn.SequentialCell([tg.nn.Dropout(p=0.5)])
        >>> net.set_train().training, net[0].training
        (True, True)
        >>> net.set_train(False)[0].training
        False
        """
        changed = False
        for _, c in self.cells_and_names():
            changed = changed or c.training != bool(mode)
            object.__setattr__(c, "training", bool(mode))
        if changed:
            # GRAPH_MODE keys a cell's recordings by this epoch: without the bump, a Dropout
            # recorded in inference mode would replay as the identity after set_train().
            _mode.bump_cell_epoch()
        return self

    def set_grad(self, requires_grad=True):
        """Accepted for MindSpore compatibility and does nothing: every cell can be
        differentiated. Returns the cell.

        >>> net = tg.nn.Dense(2, 1)
        >>> net.set_grad() is net
        True
        """
        return self

    _to_float = None

    def to_float(self, dst_type):
        """Run the cell and its sub-cells in `dst_type`: their floating-point Parameters are
        converted in place and, as MindSpore's ``to_float`` does, their floating-point Tensor
        inputs are cast to it on every call. Returns the cell.

        >>> net = tg.nn.Dense(2, 1).to_float(tg.float16)
        >>> net.weight.dtype, net(tg.ones((1, 2))).dtype
        (Float16, Float16)
        """
        from .. import _core
        from .._core import Tensor

        dst = Tensor(0.0).astype(dst_type).dtype  # checks the dtype and reads every spelling
        if not dst.is_floating_point:
            raise TypeError(
                f"{type(self).__name__}.to_float: dst_type must be a float dtype, got {dst}"
            )
        for p in self.get_parameters():
            if p.dtype.is_floating_point:
                _core._swap_value(p, p.astype(dst))
        for _, cell in self.cells_and_names():
            object.__setattr__(cell, "_to_float", dst)
        return self

    def _cast_inputs(self, inputs, kwargs):
        from .._core import Tensor

        dst = self._to_float

        def cast(x):
            return x.astype(dst) if isinstance(x, Tensor) and x.dtype.is_floating_point else x

        return tuple(cast(x) for x in inputs), {k: cast(v) for k, v in kwargs.items()}

    def extend_repr(self):
        """The text inside `<...>` of the cell's repr; subclasses describe their settings.

        >>> tg.nn.Dense(2, 1).extend_repr()
        'input_channels=2, output_channels=1, has_bias=True'
        >>> tg.nn.SequentialCell([tg.nn.Dense(2, 1)])
        SequentialCell<>
          (0): Dense<input_channels=2, output_channels=1, has_bias=True>
        """
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}<{self.extend_repr()}>"]
        for n, c in self._cells.items():
            sub = repr(c).replace("\n", "\n  ")
            lines.append(f"  ({n}): {sub}")
        return "\n".join(lines)
