"""Helpers for users' own pytest suites: one line checks a derivative three ways.

>>> from autograd_lite.testing import assert_derivative
>>> assert_derivative("tanh")
>>> assert_derivative(lambda v: v * v.sigmoid(), formula="z/(1 + exp(-z))")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from .registry import Op, get_op
from .value import Value


def _fmt(x: float) -> str:
    return f"{float(x):.8g}"


def assert_derivative(
    op: str | Op | Callable[[Value], Value],
    formula: str | None = None,
    points: Iterable[float] | None = None,
    rtol: float = 1e-6,
) -> None:
    """Check an op's backward against SymPy's derivative of ``formula`` and finite differences.

    Args:
        op: a registered op's name (or the :class:`~autograd_lite.registry.Op`),
            or any callable taking one scalar ``Value`` and returning one.
        formula: SymPy text in ``z`` (checked by the safe parser) that ``op``
            is supposed to compute; default: the registered op's own formula
            (with its parameters at their defaults).
        points: values of ``z`` to test at; default: 11 points spread over the
            op's domain (``[-3, 3]`` for a callable), away from kinks.
        rtol: relative tolerance against SymPy (an absolute ``rtol`` is added
            for values near 0). Finite differences are compared with
            ``max(rtol, 1e-5)``, their own precision.

    At every point it compares the forward value with the formula's, and
    backward's gradient with SymPy's derivative and with central finite
    differences. Raises ``AssertionError`` whose message shows the formula, its
    SymPy derivative (and the op's own formula when they differ) and the worst
    point with all three numbers.

    >>> import autograd_lite as al
    >>> assert_derivative("softplus", points=[-1.0, 0.5, 2.0])
    >>> assert_derivative(lambda v: v.tanh() * 2, formula="tanh(z)")
    Traceback (most recent call last):
    ...
    AssertionError: assert_derivative(<lambda>): forward differs from the formula at z = -3: ...
    """
    import sympy

    from .define import _kinks, _numeric
    from .formula import make_symbols, to_sympy
    from .gradcheck import numeric_grad

    registered: Op | None = None
    if isinstance(op, str):
        registered = get_op(op)
    elif isinstance(op, Op):
        registered = op
    if registered is not None:
        if registered.arity != 1:
            raise ValueError(
                f"assert_derivative: op {registered.name!r} has {registered.arity} inputs; it "
                "checks one-input ops (use autograd_lite.symbolic.check for the others)"
            )
        reg = registered
        name = reg.name

        def fn(v: Value) -> Value:
            return reg(v)

        domain = reg.domain
        op_formula = reg.formula
        params = dict(reg.defaults)
    elif callable(op):
        fn = op
        name = getattr(op, "__name__", type(op).__name__)
        domain = (-3.0, 3.0)
        op_formula = None
        params = {}
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
    expr = to_sympy(formula, ["z"], params)
    z = make_symbols(["z"])["z"]
    dexpr = sympy.diff(expr, z)
    f_num = _numeric("formula", expr, z, ())
    d_num = _numeric("formula", dexpr, z, ())

    kinks = _kinks(expr, z, {})
    if registered is not None:
        kinks = tuple(kinks) + tuple(registered.kinks)
    if points is None:
        lo, hi = domain
        grid = np.linspace(lo, hi, 11)
        pts = [float(p) for p in grid if not any(abs(p - k) < 1e-6 for k in kinks)]
    else:
        pts = [float(p) for p in np.asarray(list(points), dtype=float).reshape(-1)]
    if not pts:
        raise ValueError(f"assert_derivative({name}): no points to check")

    def describe() -> str:
        lines = [f"  formula:          {formula}", f"  SymPy derivative: {dexpr}"]
        if op_formula is not None and op_formula != formula:
            lines.insert(0, f"  op's own formula: {op_formula}")
        return "\n".join(lines)

    worst: tuple[float, str] = (0.0, "")
    for p in pts:
        x = Value(p)
        out = fn(x)
        if not isinstance(out, Value):
            raise TypeError(
                f"assert_derivative({name}): op must return a Value, got {type(out).__name__}"
            )
        want_f = float(f_num(p))
        got_f = float(np.asarray(out.data, dtype=float).sum())
        if np.isfinite(want_f) and abs(got_f - want_f) > rtol * (1 + abs(want_f)):
            raise AssertionError(
                f"assert_derivative({name}): forward differs from the formula at z = {_fmt(p)}: "
                f"op gives {_fmt(got_f)}, formula gives {_fmt(want_f)}\n{describe()}"
            )
        out.backward()
        got = float(np.asarray(x.grad, dtype=float))
        sym = float(d_num(p))
        fd = float(numeric_grad(fn, [Value(p)], 0))
        err_sym = abs(got - sym) / (1 + abs(sym)) / rtol if np.isfinite(sym) else 0.0
        err_fd = abs(got - fd) / (1 + abs(fd)) / max(rtol, 1e-5)
        err = max(err_sym, err_fd)
        if not np.isfinite(got):
            err = np.inf
        if err > worst[0]:
            worst = (
                err,
                f"z = {_fmt(p)}: backward {_fmt(got)}, SymPy {_fmt(sym)}, "
                f"finite differences {_fmt(fd)}",
            )
    if worst[0] > 1:
        raise AssertionError(
            f"assert_derivative({name}): backward disagrees (rtol={rtol:g}); worst point "
            f"{worst[1]}\n{describe()}"
        )
