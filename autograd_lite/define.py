"""Activations from a formula: ``al.define_activation("mish", "z * tanh(log(1 + exp(z)))")``.

The formula text goes through the whitelist parser of :mod:`autograd_lite.formula`
(never ``eval``/``sympify``), becomes a SymPy expression in ``z`` (and the given
parameters), and SymPy derives its derivative. ``lambdify`` turns both into
numpy functions, and the result is registered in the op table, so
``Value.<name>``, ``al.<name>``, the Graphviz label and
``symbolic.check_all()`` all see the new op.

Higher derivatives work to any order: the op's vjp is ``g * D1.poly(z)`` where
``D1`` is an (unregistered) op computing the first derivative; ``D1``'s own vjp
uses ``D2``, built from SymPy's second derivative the first time it is needed,
and so on. So ``backward(create_graph=True)`` can be repeated as often as wanted.

Conventions, decided here:

* ``z`` and every parameter are real symbols; parameters are non-differentiable
  numbers with the given defaults (``define_activation("elu2", "...", alpha=1.0)``).
* Where SymPy's derivative contains ``DiracDelta`` (derivative of a jump), the
  numeric functions use 0: the spike sits exactly on a kink, where the value of
  a derivative is a convention anyway. Kinks (points where the formula or its
  derivative is not smooth) are found automatically and stored in ``op.kinks``,
  so symbolic checks skip them and say so.
* A name defined with ``define_activation`` may be defined again (notebook cells
  are re-run); replacing a built-in op needs ``replace=True``, and
  :func:`undefine` restores the built-in.

>>> import autograd_lite as al
>>> mish = al.define_activation("mish", "z * tanh(log(1 + exp(z)))")
>>> x = al.Value([0.5, -1.0])
>>> y = mish(x).sum()
>>> y.backward()
>>> x.grad.round(4).tolist()
[0.8864, 0.0592]
>>> round(al.Value(0.5).mish().data, 4)
0.3752
>>> undefine("mish")
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .registry import Op, get_op, has_op, register, unregister

RESERVED = ("replace", "label", "doc", "domain")
"""Keyword names of :func:`define_activation` that cannot be formula parameters."""

_DEFINED: dict[str, Op] = {}  # ops made here, by name
_REPLACED: dict[str, Op] = {}  # built-in ops that a definition replaced, by name

_erf = np.vectorize(math.erf, otypes=[float])


def _numeric(name: str, expr: Any, z: Any, params: tuple) -> Any:
    """A numpy function ``f(z, *params)`` for ``expr``, right dtype and shape, real only."""
    import sympy

    expr = expr.replace(sympy.DiracDelta, lambda *args: sympy.S.Zero)
    raw = sympy.lambdify([z, *params], expr, modules=[{"erf": _erf}, "numpy"])

    def forward(x: Any, *p: Any) -> Any:
        with np.errstate(all="ignore"):  # Piecewise evaluates every branch everywhere
            r = raw(x, *p)
        r = np.asarray(r)
        if r.dtype.kind == "c":
            if np.any(r.imag != 0):
                raise ValueError(f"{name}: the formula gives complex values at z = {x!r}")
            r = r.real
        if isinstance(x, np.ndarray):
            shape = np.broadcast_shapes(x.shape, *(np.shape(q) for q in p))
            dtype = np.result_type(x.dtype, *(np.asarray(q).dtype for q in p), np.float32)
            if x.dtype == np.float32 and all(np.ndim(q) == 0 for q in p):
                dtype = np.float32
            return np.array(np.broadcast_to(r, shape), dtype=dtype)
        if r.ndim == 0:
            return float(r)
        return np.array(r, dtype=np.float64)

    return forward


def _kinks(expr: Any, z: Any, values: dict) -> tuple[float, ...]:
    """Real points where ``expr`` switches branch or has a corner (for checks to skip)."""
    import sympy

    candidates = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (sympy.Heaviside, sympy.Abs, sympy.sign, sympy.DiracDelta)):
            candidates.append(node.args[0])
        elif isinstance(node, (sympy.Max, sympy.Min)):
            a = node.args
            candidates.extend(a[i] - a[j] for i in range(len(a)) for j in range(i + 1, len(a)))
        elif isinstance(node, sympy.Piecewise):
            for _, cond in node.args:
                for rel in sympy.preorder_traversal(cond):
                    if isinstance(rel, sympy.core.relational.Relational):
                        candidates.append(rel.lhs - rel.rhs)
    points: set[float] = set()
    for c in candidates:
        c = c.subs(values)
        if not c.has(z):
            continue
        try:
            sol = sympy.solveset(c, z, sympy.S.Reals)
        except Exception:  # pragma: no cover - SymPy cannot solve: no kink recorded
            continue
        if isinstance(sol, sympy.FiniteSet) and len(sol) <= 20:
            for s in sol:
                if s.is_number and s.is_real and s.is_finite:  # not a line a = b
                    points.add(float(s))
    return tuple(sorted(points))


class _Derivatives:
    """The derivatives of one formula, each as an op, built on first use."""

    def __init__(self, name: str, expr: Any, z: Any, params: tuple, defaults: dict) -> None:
        self.name = name
        self.exprs = [expr]
        self.ops: dict[int, Op] = {}
        self.z = z
        self.params = params
        self.defaults = defaults

    def expr(self, order: int) -> Any:
        import sympy

        while len(self.exprs) <= order:
            self.exprs.append(sympy.diff(self.exprs[-1], self.z))
        return self.exprs[order]

    def vjp(self, order: int) -> Any:
        """vjp of the op computing derivative ``order - 1``: ``g * D_order(z)``."""

        def vjp(g: Any, out: Any, z: Any, *params: Any) -> Any:
            return g * self.op(order).poly(z, *params)

        return vjp

    def op(self, order: int) -> Op:
        if order not in self.ops:
            expr = self.expr(order)
            names = tuple(str(p) for p in self.params)
            self.ops[order] = Op(
                f"{self.name}_d{order}",
                forward=_numeric(self.name, expr, self.z, self.params),
                vjps=(self.vjp(order + 1),),
                label=f"{self.name}{'′' * order}" if order <= 3 else f"{self.name}^({order})",
                params=names,
                defaults=dict(self.defaults),
                doc=f"derivative {order} of {self.name}: {expr}",
            )
            self.ops[order].expr = expr
            self.ops[order].formula = _formula_text(expr, ("z",) + names)
        return self.ops[order]


def _formula_text(expr: Any, names: tuple) -> str | None:
    """SymPy's text for ``expr`` if the safe parser reads it back as the same expression.

    Gives derivative ops a formula, so ``symbolic.to_sympy`` works on graphs that
    ``backward(create_graph=True)`` recorded; ``None`` when the text does not
    round-trip (e.g. it contains ``DiracDelta``).
    """
    from .formula import to_sympy

    text = str(expr)
    try:
        return text if to_sympy(text, names[:1], names[1:]) == expr else None
    except ValueError:
        return None


def _check_name(name: Any) -> None:
    import autograd_lite

    from .formula import CONSTANTS, MATH_FUNCTIONS
    from .value import Value

    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(
            f"define_activation: name {name!r} must be a Python identifier not starting with '_'"
        )
    if name in ("z",) + RESERVED + CONSTANTS or (name in MATH_FUNCTIONS and not has_op(name)):
        raise ValueError(
            f"define_activation: name {name!r} is reserved (a formula variable, keyword or "
            "function name); choose another"
        )
    clash_value = name in vars(Value) or name in ("data", "grad", "label", "parents", "op")
    clash_module = name in autograd_lite._LAZY or (name in vars(autograd_lite) and not has_op(name))
    if (clash_value or clash_module) and not has_op(name):
        where = "a Value attribute" if clash_value else "a name in autograd_lite"
        raise ValueError(f"define_activation: name {name!r} is already {where}; choose another")


def define_activation(
    name: str,
    formula: str,
    *,
    replace: bool = False,
    label: str | None = None,
    doc: str | None = None,
    domain: tuple[float, float] = (-3.0, 3.0),
    **params: float,
) -> Op:
    """Make an elementwise op from a SymPy formula in ``z`` and register it.

    Args:
        name: the op's name; becomes ``Value.<name>`` and ``al.<name>``.
        formula: SymPy-style text in ``z`` and the parameters, e.g.
            ``"z * tanh(log(1 + exp(z)))"`` or
            ``"Piecewise((z, z >= 0), (alpha*(exp(z) - 1), True))"``; may call
            other elementwise ops of the table (``"z * sigmoid(beta*z)"``).
            Checked by :mod:`autograd_lite.formula`'s whitelist, never evaluated.
        replace: allow replacing a built-in op of the same name.
        label: text of the op node in pictures (default: ``name``).
        doc: one-line description (default: the formula).
        domain: interval where symbolic checks sample the op.
        **params: non-differentiable parameters and their default values.

    Returns the registered :class:`~autograd_lite.registry.Op` (callable on Values).
    Invalid formulas raise ``ValueError`` naming the formula.

    >>> import autograd_lite as al
    >>> elu_formula = "Piecewise((z, z >= 0), (alpha*(exp(z) - 1), True))"
    >>> op = al.define_activation("scaled_elu", elu_formula, alpha=2.0)
    >>> op.kinks
    (0.0,)
    >>> v = al.Value([-1.0, 1.0])
    >>> v.scaled_elu(alpha=0.5).data.round(4).tolist()
    [-0.3161, 1.0]
    >>> al.define_activation("bad", "z.__class__")
    Traceback (most recent call last):
    ...
    ValueError: formula 'z.__class__': attribute access '.__class__' is not allowed...
    >>> undefine("scaled_elu")
    """
    import sympy

    from .formula import make_symbols, parse, to_sympy

    _check_name(name)
    if has_op(name) and name not in _DEFINED and not replace:
        raise ValueError(
            f"define_activation: {name!r} is a built-in op; pass replace=True to replace it "
            "(undefine() restores it)"
        )
    for p, v in params.items():
        if p == "z":
            raise ValueError(f"define_activation: 'z' is the input, not a parameter ({name!r})")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(
                f"define_activation {name!r}: parameter {p}={v!r} must be a finite number"
            )
    try:
        lo, hi = (float(domain[0]), float(domain[1]))
    except (TypeError, ValueError, IndexError):
        raise ValueError(
            f"define_activation {name!r}: domain {domain!r} must be (low, high)"
        ) from None
    if not lo < hi:
        raise ValueError(f"define_activation {name!r}: domain {domain!r} must have low < high")

    text = formula.strip() if isinstance(formula, str) else formula
    param_names = tuple(params)
    expr = to_sympy(text, ["z"], param_names)
    symbols = make_symbols(("z",) + param_names)
    z = symbols["z"]
    psyms = tuple(symbols[p] for p in param_names)
    if expr.has(sympy.I) or expr.has(sympy.zoo) or expr.has(sympy.nan):
        raise ValueError(f"formula {text!r}: the expression {expr} is not real-valued")

    stored = text
    if name in _called_ops(text, param_names):  # refers to the op it replaces: store SymPy's text
        stored = str(expr)
        try:
            same = to_sympy(stored, ["z"], param_names) == expr
        except ValueError:
            same = False
        if not same:
            raise ValueError(f"formula {text!r}: {name!r} cannot be defined in terms of itself")
    parse(stored, ("z",) + param_names)

    values = {symbols[p]: sympy.nsimplify(v) for p, v in params.items()}
    derivatives = _Derivatives(name, expr, z, psyms, dict(params))
    kinks = _kinks(expr, z, values)
    op = Op(
        name,
        forward=_numeric(name, expr, z, psyms),
        vjps=(derivatives.vjp(1),),
        label=label or name,
        formula=stored,
        params=param_names,
        defaults=dict(params),
        keeps_inputs=True,
        domain=(lo, hi),
        kinks=kinks,
        doc=doc or f"{name}(z) = {text} (defined from a formula)",
    )
    op.expr = expr
    op.derivatives = derivatives
    if has_op(name) and name not in _DEFINED and name not in _REPLACED:
        _REPLACED[name] = get_op(name)
    register(op, replace=True)
    _DEFINED[name] = op
    return op


def _called_ops(text: str, params: tuple) -> set[str]:
    from .formula import calls_in, parse

    return calls_in(parse(text, ("z",) + params))


def undefine(name: str) -> None:
    """Remove an op made by :func:`define_activation` (restoring a built-in it replaced).

    >>> import autograd_lite as al
    >>> _ = al.define_activation("cube", "z**3")
    >>> undefine("cube")
    >>> al.registry.has_op("cube")
    False
    >>> undefine("relu")
    Traceback (most recent call last):
    ...
    ValueError: undefine: 'relu' was not made by define_activation...
    """
    if name not in _DEFINED:
        raise ValueError(
            f"undefine: {name!r} was not made by define_activation (built-in ops stay)"
        )
    del _DEFINED[name]
    original = _REPLACED.pop(name, None)
    if original is not None:
        register(original, replace=True)
    else:
        unregister(name)


def is_defined(name: str) -> bool:
    """True if ``name`` was made by :func:`define_activation`.

    >>> is_defined("relu")
    False
    """
    return name in _DEFINED
