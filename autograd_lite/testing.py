"""Helpers for users' own pytest suites: one line checks a derivative three ways.

>>> from autograd_lite.testing import assert_derivative
>>> assert_derivative("tanh")
>>> assert_derivative(lambda v: v * v.sigmoid(), formula="z/(1 + exp(-z))")
>>> assert_derivative("mul")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .registry import Op, get_op
from .value import Value


def _fmt(x: float) -> str:
    return f"{float(x):.8g}"


def _grid(domain: tuple[float, float], kinks: tuple, arity: int) -> list[tuple[float, ...]]:
    """11 points over the domain away from kinks; other inputs over the same range, shuffled."""
    lo, hi = domain
    first = [float(p) for p in np.linspace(lo, hi, 11) if not any(abs(p - k) < 1e-6 for k in kinks)]
    others = [np.roll(np.linspace(lo, hi, len(first)), 3 * i + 2) for i in range(1, arity)]
    return [(p, *(float(o[j]) for o in others)) for j, p in enumerate(first)]


def _points(points: Iterable[Any], arity: int, name: str) -> list[tuple[float, ...]]:
    if isinstance(points, (str, bytes)) or not isinstance(points, Iterable):
        raise TypeError(
            f"assert_derivative({name}): points must be a list of numbers, got {points!r}"
        )
    try:
        arr = np.asarray(
            list(points) if not isinstance(points, np.ndarray) else points, dtype=float
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"assert_derivative({name}): points must be numbers (pairs for a two-input op), "
            f"got {points!r}: {exc}"
        ) from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"assert_derivative({name}): points must be finite, got {points!r}")
    if arity == 1:
        return [(float(p),) for p in arr.reshape(-1)]
    if arr.size and (arr.ndim != 2 or arr.shape[1] != arity):
        raise ValueError(
            f"assert_derivative({name}): the op has {arity} inputs, so points must be a list of "
            f"{arity}-tuples, got an array of shape {arr.shape}"
        )
    return [tuple(float(v) for v in row) for row in arr.reshape(-1, arity)]


def _assert_structural(op: Op, formula: str | None) -> None:
    from .symbolic import check

    if formula is not None:
        raise ValueError(
            f"assert_derivative({op.name}): a structural op is checked against its own SymPy "
            "definition (Op.sympy_def); formula= is for elementwise ops"
        )
    for order in (1, 2):
        result = check(op, order)
        if not result.ok:
            raise AssertionError(f"assert_derivative({op.name}): {result.message}")


def assert_derivative(
    op: str | Op | Callable[[Value], Value],
    formula: str | None = None,
    points: Iterable[Any] | None = None,
    rtol: float = 1e-6,
) -> None:
    """Check an op's backward against SymPy's derivative of ``formula`` and finite differences.

    Args:
        op: a registered op's name (or the :class:`~autograd_lite.registry.Op`),
            with one or two inputs, or any callable taking one scalar ``Value``
            and returning one.
        formula: SymPy text in the op's input names (``z`` for one input and for
            a callable; ``a`` and ``b`` for ``div``), checked by the safe parser,
            that ``op`` is supposed to compute; default: the registered op's own
            formula (with its parameters at their defaults).
        points: values of ``z`` to test at (for a two-input op: pairs); default:
            11 points spread over the op's domain (``[-3, 3]`` for a callable),
            away from kinks.
        rtol: relative tolerance against SymPy (an absolute ``rtol`` is added
            for values near 0). Finite differences are compared with
            ``max(rtol, 1e-5)``, their own precision.

    At every point it compares the forward value with the formula's, and
    backward's gradient for every input with SymPy's partial derivative and with
    central finite differences. Raises ``AssertionError`` whose message shows the
    formula, its SymPy derivatives (and the op's own formula when they differ)
    and the worst point with all three numbers. A structural op given by name
    (``"softmax"``) is checked by :func:`autograd_lite.symbolic.check` against its
    SymPy definition, first and second derivatives.

    >>> import autograd_lite as al
    >>> assert_derivative("softplus", points=[-1.0, 0.5, 2.0])
    >>> assert_derivative("div", points=[(1.0, 2.0), (-0.5, 0.7)])
    >>> assert_derivative("softmax")
    >>> assert_derivative(lambda v: v.tanh() * 2, formula="tanh(z)")
    Traceback (most recent call last):
    ...
    AssertionError: assert_derivative(<lambda>): forward differs from the formula at z = -3: ...
    """
    import sympy

    from .define import _kinks, _numeric
    from .formula import make_symbols, to_sympy
    from .gradcheck import numeric_grad

    if isinstance(rtol, bool) or not (isinstance(rtol, (int, float, np.number)) and rtol > 0):
        raise ValueError(f"assert_derivative: rtol must be a number > 0, got {rtol!r}")
    registered: Op | None = None
    if isinstance(op, str):
        registered = get_op(op)
    elif isinstance(op, Op):
        registered = op
    if registered is not None:
        reg = registered
        name = reg.name
        if reg.formula is None:
            _assert_structural(reg, formula)
            return
        if reg.arity > 2:
            raise ValueError(
                f"assert_derivative: op {name!r} has {reg.arity} inputs; it checks one- and "
                "two-input ops (use autograd_lite.symbolic.check for the others)"
            )

        def fn(*v: Value) -> Value:
            return reg(*v)

        domain = reg.domain
        op_formula = reg.formula
        params = dict(reg.defaults)
        names = list(reg.inputs)
    elif callable(op):
        fn = op
        name = getattr(op, "__name__", type(op).__name__)
        domain = (-3.0, 3.0)
        op_formula = None
        params = {}
        names = ["z"]
    else:
        raise TypeError(
            f"assert_derivative: op must be an op name or a callable Value -> Value, got {op!r}"
        )
    if formula is None:
        if op_formula is None:
            raise ValueError(
                f"assert_derivative({name}): no formula to check against; pass formula='...' "
                "(SymPy text in z)"
            )
        formula = op_formula
    expr = to_sympy(formula, names, params)
    syms = [make_symbols([n])[n] for n in names]
    dexprs = [sympy.diff(expr, s) for s in syms]
    f_num = _numeric("formula", expr, syms[0], tuple(syms[1:]))
    d_nums = [_numeric("formula", d, syms[0], tuple(syms[1:])) for d in dexprs]

    kinks = _kinks(expr, syms[0], {})
    if registered is not None:
        kinks = tuple(kinks) + tuple(registered.kinks)
    pts = _grid(domain, kinks, len(names)) if points is None else _points(points, len(names), name)
    if not pts:
        raise ValueError(f"assert_derivative({name}): no points to check")

    def describe() -> str:
        lines = [f"  formula:          {formula}"]
        for n, d in zip(names, dexprs):
            label = "SymPy derivative:" if len(names) == 1 else f"SymPy ∂/∂{n}:".ljust(17)
            lines.append(f"  {label} {d}")
        if op_formula is not None and op_formula != formula:
            lines.insert(0, f"  op's own formula: {op_formula}")
        return "\n".join(lines)

    def at(p: tuple[float, ...]) -> str:
        return ", ".join(f"{n} = {_fmt(x)}" for n, x in zip(names, p))

    worst: tuple[float, str] = (0.0, "")
    for p in pts:
        xs = [Value(x) for x in p]
        out = fn(*xs)
        if not isinstance(out, Value):
            raise TypeError(
                f"assert_derivative({name}): op must return a Value, got {type(out).__name__}"
            )
        want_f = float(f_num(*p))
        got_f = float(np.asarray(out.data, dtype=float).sum())
        if np.isfinite(want_f) and abs(got_f - want_f) > rtol * (1 + abs(want_f)):
            raise AssertionError(
                f"assert_derivative({name}): forward differs from the formula at {at(p)}: "
                f"op gives {_fmt(got_f)}, formula gives {_fmt(want_f)}\n{describe()}"
            )
        out.backward()
        for i, (x, d_num) in enumerate(zip(xs, d_nums)):
            got = float(np.asarray(x.grad, dtype=float))
            sym = float(d_num(*p))
            fd = float(numeric_grad(fn, [Value(v) for v in p], i))
            err_sym = abs(got - sym) / (1 + abs(sym)) / rtol if np.isfinite(sym) else 0.0
            err_fd = abs(got - fd) / (1 + abs(fd)) / max(rtol, 1e-5)
            err = max(err_sym, err_fd)
            if not np.isfinite(got):
                err = np.inf
            if err > worst[0]:
                what = "backward" if len(names) == 1 else f"∂/∂{names[i]}: backward"
                worst = (
                    err,
                    f"{at(p)}: {what} {_fmt(got)}, SymPy {_fmt(sym)}, finite differences "
                    f"{_fmt(fd)}",
                )
    if worst[0] > 1:
        raise AssertionError(
            f"assert_derivative({name}): backward disagrees (rtol={rtol:g}); worst point "
            f"{worst[1]}\n{describe()}"
        )
