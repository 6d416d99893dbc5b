"""The op record and the registry that holds the one op table.

An :class:`Op` is everything the library knows about one operation: how to
compute it (``forward``), how its output's gradient flows back to each input
(``vjps``, one vector-Jacobian product per input), how to draw it (``label``)
and, for elementwise ops, its SymPy formula in ``z`` so that derivatives can be
checked symbolically. ``autograd_lite/ops.py`` fills the table; user code adds
entries with :func:`autograd_lite.define_activation`.

The graph engine (``graph.py``) only ever calls ``op.forward`` and
``op.vjps[i]``: it never asks which op it is running.

>>> from autograd_lite.registry import get_op
>>> get_op("tanh").label
'tanh'
>>> get_op("tanh").formula
'tanh(z)'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from numpy import ndarray as _ndarray

_TABLE: dict[str, Op] = {}


@dataclass(frozen=True)
class SymCase:
    """One shape and parameter choice at which a structural op's SymPy definition is checked.

    Attributes:
        shapes: one shape per input (``()`` for a scalar input).
        params: the op's parameters, in ``Op.params`` order (defaults filled in when short).
        domain: interval the sample values are drawn from (``None``: the op's ``domain``).
        note: what this case exercises, shown in check messages (``"axis=0, keepdims"``).
        points: extra sample points checked besides the random ones, each a tuple of
            one array (or number) per input: a tie of ``max``, say, which the check
            must then recognize as a kink and skip (and say so).
        max_order: the highest derivative order this case is checked at (a case whose
            second derivatives would take SymPy minutes, e.g. an LSTM over two steps,
            says 1 and leaves order 2 to a smaller case).

    >>> SymCase(((2, 3),), (0, True), note="axis=0, keepdims").shapes
    ((2, 3),)
    """

    shapes: tuple[tuple[int, ...], ...]
    params: tuple = ()
    domain: tuple[float, float] | None = None
    note: str = ""
    points: tuple = ()
    max_order: int = 2


@dataclass(eq=False)
class Op:
    """One entry of the op table.

    Attributes:
        name: the op's name; also the ``Value`` method and ``al.<name>`` function.
        forward: ``forward(*input_data, *params) -> output_data`` on numpy arrays
            (and Python floats for scalars).
        vjps: one function per input, ``vjp(g, out, *inputs, *params)``, returning
            the gradient for that input given the output's gradient ``g``. Written
            with operators and ``Op.poly`` calls only, so the same rule runs on
            numpy arrays (plain backward) and on Values (``create_graph=True``).
        label: short text for the Graphviz op node.
        formula: SymPy source in the input names (``inputs``) and ``params``
            for elementwise ops; ``None`` for structural ops.
        inputs: names of the inputs in ``formula``; ``("z",)`` for one input,
            ``("a", "b")`` for two unless given.
        params: names of non-differentiable parameters, passed after the inputs.
        defaults: default values for ``params``.
        keeps_inputs: True when a vjp reads an input's data or the output shares
            memory with an input; leaf arrays it takes are then made read-only
            until backward has used them (see ``graph.py``).
        scalar: optional fast forward on Python floats (``math`` instead of numpy).
        domain: interval of ``z`` where symbolic checks sample the op.
        kinks: points where the derivative is a convention (skipped by checks).
        doc: one line for docs and ``autograd-lite check``.
        sympy_def: for ops that are not elementwise, the op written on SymPy:
            ``sympy_def(sp, *inputs, *params)`` where ``sp`` is the ``sympy`` module and
            each input is a numpy object array of SymPy symbols (one per element, in the
            input's shape); returns an object array (or one SymPy expression) of the
            output. ``symbolic.check`` differentiates it entry by entry (the full
            Jacobian) and compares with the vjps.
        cases: the small shapes and parameters ``sympy_def`` is checked at, as
            :class:`SymCase` entries.
        emit: numpy expressions that ``al.compile`` may write into generated code
            instead of calling ``forward`` / ``vjps`` (``("a * b", "g * b", "g * a")``):
            the forward, then one vjp per input (``None``: call that one), in the
            input names, ``g``, ``out`` and the parameters. Each is checked against
            ``forward`` / ``vjps`` on the traced data before it is used; ``()``: call them.

    >>> op = Op("double", forward=lambda x: 2 * x, vjps=(lambda g, out, x: 2 * g,),
    ...         label="×2", formula="2*z")
    >>> op.arity
    1
    """

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Callable[..., Any], ...]
    label: str = ""
    formula: str | None = None
    params: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    keeps_inputs: bool = True
    scalar: Callable[..., Any] | None = None
    domain: tuple[float, float] = (-3.0, 3.0)
    kinks: tuple[float, ...] = ()
    doc: str = ""
    emit: tuple[str | None, ...] = ()
    sympy_def: Callable[..., Any] | None = None
    cases: tuple[SymCase, ...] = ()

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.name
        self.arity = len(self.vjps)
        self.float_forward = self.scalar or self.forward
        self.__doc__ = self.doc or f"The {self.name!r} op."  # shown by help(value.<name>)
        # _tails[k]: the defaults of the parameters after the first k (None if one has none),
        # so a call giving k parameters by position needs no binding.
        self._tails = tuple(
            tuple(self.defaults[p] for p in self.params[k:])
            if all(p in self.defaults for p in self.params[k:])
            else None
            for k in range(len(self.params) + 1)
        )
        self._default_params = self._tails[0]
        if not self.inputs:
            self.inputs = ("z",) if self.arity == 1 else ("a", "b", "c", "d")[: self.arity]
        if len(self.inputs) != self.arity:
            raise ValueError(
                f"op {self.name!r}: {len(self.inputs)} input names for {self.arity} vjps"
            )
        # what help(al.leaky_relu) and a notebook's tooltip show: (z, /, alpha=0.01)
        self.__signature__ = _signature(self, self.inputs)

    @property
    def elementwise(self) -> bool:
        """True for ops described by a formula in ``z`` (activations and friends)."""
        return self.formula is not None

    def bind_params(self, args: tuple, kwargs: dict) -> tuple:
        """Order positional and keyword parameters as ``self.params``.

        >>> get_op("leaky_relu").bind_params((), {"alpha": 0.2})
        (0.2,)
        >>> get_op("leaky_relu").bind_params((), {})
        (0.01,)
        """
        if not self.params:
            if args or kwargs:
                raise TypeError(
                    f"{self.name}() takes no parameters, got {args or ''}{kwargs or ''}"
                )
            return ()
        if len(args) > len(self.params):
            raise TypeError(
                f"{self.name}() takes parameters {self.params}, got {len(args)} positional"
            )
        unknown = set(kwargs) - set(self.params)
        if unknown:
            raise TypeError(
                f"{self.name}() got unexpected parameter(s) {sorted(unknown)}; "
                f"it takes {self.params}"
            )
        values = []
        for i, name in enumerate(self.params):
            if i < len(args):
                if name in kwargs:
                    raise TypeError(f"{self.name}() got parameter {name!r} twice")
                values.append(args[i])
            elif name in kwargs:
                values.append(kwargs[name])
            elif name in self.defaults:
                values.append(self.defaults[name])
            else:
                raise TypeError(f"{self.name}() is missing parameter {name!r}")
        return tuple(values)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Apply the op to Values (or numbers/arrays, which become constants).

        Always returns a ``Value``.

        >>> import autograd_lite as al
        >>> get_op("tanh")(al.Value(0.0)).data
        0.0
        """
        n = self.arity
        engine = _GRAPH if _GRAPH is not None else _engine()
        k = len(args) - n
        if not kwargs and 0 <= k < len(self._tails):
            tail = self._tails[k]
            if tail is not None:  # parameters by position, the rest defaults: no binding
                params = _own_params(args[n:] + tail) if self.params else ()
                if n == 1:  # straight to the engine's entry for that many inputs
                    return engine.unary(self, args[0], params)
                if n == 2:
                    return engine.binary(self, args[0], args[1], params)
                return engine.apply(self, args[:n], params)
        if len(args) < n:
            raise TypeError(f"{self.name}() needs {n} input(s), got {len(args)}")
        return engine.apply(self, args[:n], _own_params(self.bind_params(args[n:], kwargs)))

    def poly(self, *args: Any) -> Any:
        """Run the op on arrays (returns an array) or on Values (records a node).

        Used inside vjp rules so one rule serves plain and higher-order backward.

        >>> import numpy as np
        >>> get_op("sum_to")(np.ones((2, 3)), (1, 3)).data.tolist()
        [[2.0, 2.0, 2.0]]
        >>> get_op("sum_to").poly(np.ones((2, 3)), (3,)).tolist()
        [2.0, 2.0, 2.0]
        """
        n = self.arity
        if n == 1:  # the common case, checked without a loop
            if type(args[0]) is _ndarray or not isinstance(args[0], _engine().Value):
                return self.forward(*args)
            return _GRAPH.apply(self, args[:1], args[1:])
        value_type = _engine().Value
        for i in range(n):
            if isinstance(args[i], value_type):
                return _GRAPH.apply(self, args[:n], args[n:])
        return self.forward(*args)

    def __repr__(self) -> str:
        return f"<op {self.name}>"


def passthrough(g: Any, out: Any, *inputs: Any) -> Any:
    """The vjp of an input that receives the output's gradient unchanged (both of ``a + b``).

    A table entry may use it like any vjp; the engine recognizes it and skips the call.

    >>> passthrough(2.5, 7.0, 1.0, 1.5)
    2.5
    """
    return g


_PLAIN_PARAMS = frozenset({int, float, str, bool, type(None)})


def _own_params(params: tuple) -> tuple:
    """Parameters as a node keeps them: arrays (and Values) as private read-only copies.

    The backward reads the parameters again (cross_entropy's labels, an index), so
    changing the caller's array after the forward pass must not reach the node.

    >>> import numpy as np
    >>> labels = np.array([0, 1])
    >>> (kept,) = _own_params((labels,))
    >>> kept is labels, kept.flags.writeable, kept.tolist()
    (False, False, [0, 1])
    """
    for p in params:
        if type(p) not in _PLAIN_PARAMS:
            break
    else:
        return params  # numbers and names: nothing to copy (the usual case)
    return tuple([_owned(p) for p in params])


def _owned(p: Any) -> Any:
    """``p`` with every array in it (also inside tuples and lists) a private read-only copy."""
    t = type(p)
    if t in _PLAIN_PARAMS:
        return p  # (checked before hasattr, which raises and catches inside when it fails)
    if t is not _ndarray and hasattr(p, "_data") and hasattr(p, "parents"):  # a Value: its data
        p = p._data
    if isinstance(p, _ndarray):
        p = p.copy()
        p.setflags(False)
        return p
    if isinstance(p, tuple):
        return tuple(_owned(q) for q in p)
    if isinstance(p, list):
        return [_owned(q) for q in p]
    return p


def _engine() -> Any:
    """The graph module (imported on first use: registry.py sits below it)."""
    if _GRAPH is None:
        _load_engine()
    return _GRAPH


def _load_engine() -> None:
    global _GRAPH
    from . import graph

    _GRAPH = graph


_GRAPH: Any = None


def register(op: Op, *, replace: bool = False) -> Op:
    """Add ``op`` to the table (``replace=True`` to redefine a name).

    >>> from autograd_lite.registry import Op, register, unregister
    >>> _ = register(Op("twice", lambda x: 2 * x, (lambda g, out, x: 2 * g,), formula="2*z"))
    >>> import autograd_lite as al
    >>> al.Value(3.0).twice().data
    6.0
    >>> unregister("twice")
    """
    if not op.name.isidentifier() or op.name.startswith("_"):
        raise ValueError(f"op name {op.name!r} must be a Python identifier not starting with '_'")
    if op.name in _TABLE and not replace:
        raise ValueError(f"an op named {op.name!r} is already registered; pass replace=True")
    _TABLE[op.name] = op
    _forget_cached(op.name)
    _install_method(op)
    return op


def _signature(op: Op, inputs: tuple[str, ...]) -> inspect.Signature | None:
    """The call signature of ``op``: its inputs (positional), then its parameters.

    >>> _signature(get_op("leaky_relu"), ("self",))
    <Signature (self, /, alpha=0.01)>
    """
    kind, empty = inspect.Parameter, inspect.Parameter.empty
    parts = [kind(n, kind.POSITIONAL_ONLY) for n in inputs]
    parts += [
        kind(n, kind.POSITIONAL_OR_KEYWORD, default=op.defaults.get(n, empty)) for n in op.params
    ]
    try:
        return inspect.Signature(parts)
    except ValueError:  # a parameter without default after one with: no signature to show
        return None


def _install_method(op: Op) -> None:
    """Make ``op`` a method of ``Value`` (``v.tanh()``), unless Value defines that name itself.

    A plain method on the class is found by normal attribute lookup (several
    times cheaper than making a bound method per call); a one-input op called
    without parameters goes straight to the engine.
    """
    from .value import Value

    existing = Value.__dict__.get(op.name)
    if existing is not None and not getattr(existing, "_from_table", False):
        return  # a hand-written method (sum, reshape, ...) or a slot (data, grad, label)
    if existing is None and hasattr(Value, op.name):
        return  # inherited from object: leave it alone
    params = op._default_params
    if op.arity == 1 and params is not None:
        unary = _engine().unary

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            if args or kwargs:
                return op(self, *args, **kwargs)
            return unary(op, self, params)

    else:

        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            return op(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = op.name
    method.__doc__ = op.__doc__
    method.__signature__ = _signature(op, ("self", *op.inputs[1:]))  # type: ignore[attr-defined]
    method._from_table = True  # type: ignore[attr-defined]
    setattr(Value, op.name, method)


def _remove_method(name: str) -> None:
    from .value import Value

    if getattr(Value.__dict__.get(name), "_from_table", False):
        delattr(Value, name)


def _forget_cached(name: str) -> None:
    """Drop ``al.<name>`` cached by the package's ``__getattr__`` (see ``__init__.py``)."""
    import sys

    package = sys.modules.get(__package__ or "autograd_lite")
    if package is not None and name not in getattr(package, "__all__", ()):
        vars(package).pop(name, None)


def unregister(name: str) -> None:
    """Remove a user-registered op (built-in ops can be replaced, not removed)."""
    _TABLE.pop(name, None)
    _forget_cached(name)
    _remove_method(name)


def get_op(name: str) -> Op:
    """The table entry called ``name``; ``KeyError`` listing known names if absent.

    >>> get_op("sigmoid").name
    'sigmoid'
    """
    try:
        return _TABLE[name]
    except KeyError:
        raise KeyError(f"no op named {name!r}; known ops: {', '.join(sorted(_TABLE))}") from None


def all_ops() -> list[Op]:
    """Every op in the table, in registration order.

    >>> "relu" in [op.name for op in all_ops()]
    True
    """
    return list(_TABLE.values())


def has_op(name: str) -> bool:
    """True if ``name`` is in the table."""
    return name in _TABLE
