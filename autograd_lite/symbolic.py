"""SymPy bridge: derivatives of table ops, checks of the engine against them, the chain rule.

Every elementwise op of the table carries its formula as SymPy text, every
other op a SymPy definition on arrays of element symbols (``Op.sympy_def``, at
the shapes in ``Op.cases``; see :mod:`autograd_lite.ops`). This module

* derives the op's derivatives with ``sympy.diff`` (:func:`derivative`);
* checks the ENGINE's implemented derivatives — a real ``backward`` pass, and
  ``backward(create_graph=True)`` repeated for higher orders — against them at
  sample points in the op's ``domain`` (:func:`check`, :func:`check_all`), for
  EVERY op of the table: structural ops by their full Jacobian
  (:mod:`autograd_lite.jacobian_check`). Kinks (``op.kinks``, e.g. ReLU at 0;
  ties of ``max``) are skipped, never hidden: the result's message names each
  skipped point, and for elementwise ops what the engine gives there and SymPy's
  one-sided limits;
* turns a scalar graph of Values into a SymPy expression (:func:`to_sympy`) and
  lists the chain-rule factors along a path (:func:`chain`, :func:`chain_paths`).

SymPy is imported inside the functions: ``import autograd_lite`` stays fast.

>>> from autograd_lite import symbolic
>>> symbolic.derivative("tanh")
1 - tanh(z)**2
>>> symbolic.check("sigmoid").ok
True
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .graph import walk
from .registry import Op, all_ops, get_op
from .value import Value

TOLERANCE = 1e-7
"""Largest accepted error ``|engine - sympy| / (1 + |sympy|)`` in :func:`check`."""

SAMPLES = 13
"""Sample points per check (evenly spaced over the op's domain, kinks added)."""


def _op(name: str | Op) -> Op:
    return name if isinstance(name, Op) else get_op(name)


def _require_formula(op: Op) -> str:
    if op.formula is None:
        raise ValueError(
            f"op {op.name!r} has no SymPy formula (it is structural, not elementwise), so it "
            "has no symbolic derivative"
        )
    return op.formula


def formula_expr(name: str | Op, params: dict | None = None) -> Any:
    """The op's formula as SymPy, in its input names; parameters as symbols or given numbers.

    >>> formula_expr("leaky_relu")
    Piecewise((z, z >= 0), (alpha*z, True))
    >>> formula_expr("leaky_relu", {"alpha": 0.5})
    Piecewise((z, z >= 0), (z/2, True))
    """
    from .formula import to_sympy

    op = _op(name)
    text = _require_formula(op)
    if params is None:
        return to_sympy(text, op.inputs, op.params)
    return to_sympy(text, op.inputs, {p: params.get(p, op.defaults.get(p)) for p in op.params})


def derivative(name: str | Op, order: int = 1, wrt: str | None = None) -> Any:
    """SymPy's derivative of the op's formula (``sympy.diff``), ``order`` times.

    ``wrt`` names the input (default: the first, ``z`` for activations;
    ``"b"`` gives ``∂(a/b)/∂b`` for ``div``). Parameters stay symbols.

    >>> derivative("sigmoid")
    exp(-z)/(1 + exp(-z))**2
    >>> derivative("relu")
    Piecewise((1, z >= 0), (0, True))
    >>> derivative("div", wrt="b")
    -a/b**2
    >>> derivative("tanh", order=2)
    2*(tanh(z)**2 - 1)*tanh(z)
    >>> derivative("sum")
    Traceback (most recent call last):
    ...
    ValueError: op 'sum' has no SymPy formula (it is structural, not elementwise)...
    """
    import sympy

    from .formula import make_symbols

    op = _op(name)
    expr = formula_expr(op)
    wrt = wrt or op.inputs[0]
    if wrt not in op.inputs:
        raise ValueError(f"op {op.name!r} has inputs {op.inputs}; cannot differentiate by {wrt!r}")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"derivative order must be a positive int, got {order!r}")
    return sympy.diff(expr, make_symbols([wrt])[wrt], order)


# ------------------------------------------------------------------ checks


@dataclass
class CheckResult:
    """Outcome of :func:`check`: did the engine's derivative match SymPy's?

    Attributes:
        name: the op.
        ok: True when every checked point agrees within ``tolerance``.
        max_error: largest ``|engine - sympy| / (1 + |sympy|)`` over the checked points.
        message: one readable paragraph: what was compared, the worst point, and
            every skipped point with the reason.
        order: derivative order checked.
        skipped: the skipped points as ``(input values, reason)``.
        checked: False when nothing could be compared: the op has no SymPy
            definition, or its definition fails (``ok`` is then False too).
    """

    name: str
    ok: bool
    max_error: float
    message: str
    order: int = 1
    skipped: list = field(default_factory=list)
    checked: bool = True

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return self.message


def _numeric(expr: Any, symbols: Sequence[Any]) -> Any:
    from .define import _numeric as numeric

    return numeric("sympy", expr, symbols[0], tuple(symbols[1:]))


def _sample_inputs(op: Op, n: int) -> list[np.ndarray]:
    lo, hi = op.domain
    base = np.linspace(lo, hi, n)
    kinks = [k for k in op.kinks if lo <= k <= hi and not np.any(np.isclose(base, k))]
    first = np.sort(np.concatenate([base, np.asarray(kinks, dtype=float)]))
    inputs = [first]
    for i in range(1, op.arity):  # other inputs: the same range, in a shuffled order
        inputs.append(np.roll(np.linspace(lo, hi, first.size), 3 * i + 2))
    return inputs


def engine_derivative(
    name: str | Op, inputs: Sequence[Any], wrt: int = 0, order: int = 1, params: tuple = ()
) -> Any:
    """The engine's ``order``-th derivative of an elementwise op w.r.t. input ``wrt``.

    Runs a real backward pass (``backward(create_graph=True)`` repeated for
    order ≥ 2) on ``op(*inputs).sum()``; arrays in, array out (floats in, float out).

    >>> engine_derivative("tanh", [np.array([0.0, 1.0])]).round(4).tolist()
    [1.0, 0.42]
    >>> engine_derivative("exp", [0.0], order=3)
    1.0
    """
    op = _op(name)
    values = [Value(np.array(x, dtype=np.float64) if np.ndim(x) else float(x)) for x in inputs]
    target = values[wrt]
    current: Any = op(*values, *params).sum() if np.ndim(inputs[0]) else op(*values, *params)
    for step in range(order):
        if not isinstance(current, Value) or not current.requires_grad:
            return np.zeros_like(np.asarray(inputs[wrt], dtype=float)) * 1.0 + 0.0
        for v in values:
            v.zero_grad()
        last = step == order - 1
        current.backward(create_graph=not last)
        g = target.grad
        if last:
            return g.data if isinstance(g, Value) else g
        current = g.sum() if isinstance(g, Value) and g.ndim else g
    raise AssertionError("unreachable")  # pragma: no cover


def _fmt(x: Any) -> str:
    return f"{float(x):.6g}"


def check(
    name: str | Op,
    order: int = 1,
    *,
    params: dict | None = None,
    tolerance: float = TOLERANCE,
    samples: int = SAMPLES,
) -> CheckResult:
    """Compare the engine's derivative of an op with SymPy's, at sample points.

    A structural op (no ``formula``) is checked by its full Jacobian (``order=2``:
    Hessian of a random linear functional) against SymPy's derivatives of its
    ``sympy_def`` at each of its ``cases``: see
    :func:`autograd_lite.jacobian_check.check_structural`. An op with neither a
    formula nor a definition gives ``ok=False`` saying so; a formula or
    definition that does not parse or fit the op's inputs raises ``ValueError``
    naming the op.

    For an elementwise op, for every input of the op (``z``; ``a`` and ``b`` of ``div``; ``z`` and
    ``alpha`` of ``prelu``) the engine's ``order``-th partial derivative — from
    a real backward pass, on arrays and on Python floats — is compared with
    ``sympy.diff`` of the op's formula. The forward values are compared with the
    formula too. Parameters take their defaults unless given in ``params``.
    Points at ``op.kinks`` (of the first input) are skipped and listed in the
    message with both one-sided SymPy limits.

    >>> r = check("relu")
    >>> r.ok, r.max_error
    (True, 0.0)
    >>> print(r.message)
    relu: derivative 1 matches SymPy (max error 0) at 12 points in [-3, 3]; skipped z = 0
    (a kink: the derivative there is a convention; engine gives 1, SymPy's left/right limits 0/1)
    >>> check("leaky_relu", order=2).ok
    True
    >>> print(check("matmul").message[:58])
    matmul: Jacobian matches SymPy (max error 0) at 15 points
    """
    import sympy

    from .formula import make_symbols

    op = _op(name)
    _check_order(order, "check")
    if op.formula is None:
        if params:
            raise ValueError(
                f"check {op.name!r}: a structural op is checked at its `cases`; params= "
                "is for elementwise ops"
            )
        if order > 2:
            raise ValueError(
                f"check {op.name!r}: structural ops are checked at order 1 or 2, got {order}"
            )
        from .jacobian_check import check_structural

        return check_structural(op, order, tolerance)
    values = dict(op.defaults)
    if params:
        unknown = set(params) - set(op.params)
        if unknown:
            raise ValueError(f"check {op.name!r}: unknown parameter(s) {sorted(unknown)}")
        values.update(params)
    param_values = tuple(values[p] for p in op.params)
    try:
        expr = formula_expr(op, values)
    except ValueError as exc:
        raise ValueError(
            f"op {op.name!r}: its formula {op.formula!r} does not parse: {exc}"
        ) from None
    symbols = make_symbols(op.inputs)
    syms = [symbols[n] for n in op.inputs]
    inputs = _sample_inputs(op, samples)
    kink_mask = np.zeros(inputs[0].shape, dtype=bool)
    for k in op.kinks:
        kink_mask |= np.isclose(inputs[0], k, atol=1e-9)

    worst = (0.0, "")
    skipped: list = []
    problems: list[str] = []
    skip_notes: list[str] = []

    def compare(what: str, got: Any, want: Any, mask: np.ndarray) -> None:
        nonlocal worst
        got = np.broadcast_to(np.asarray(got, dtype=float), mask.shape)
        want = np.broadcast_to(np.asarray(want, dtype=float), mask.shape)
        usable = mask & np.isfinite(want)
        if np.any(mask & ~np.isfinite(want)):
            problems.append(f"{what}: SymPy's value is not finite at some sample points")
            # a domain that reaches a singularity is a table bug worth reporting
        err = np.where(usable, np.abs(got - want) / (1 + np.abs(want)), 0.0)
        err = np.where(usable & ~np.isfinite(err), np.inf, err)
        if err.size and np.max(err) > worst[0]:
            i = int(np.argmax(err))
            point = ", ".join(f"{n} = {_fmt(x[i])}" for n, x in zip(op.inputs, inputs))
            worst = (
                float(np.max(err)),
                f"{what} at {point}: engine {_fmt(got[i])} vs SymPy {_fmt(want[i])}",
            )

    usable = ~kink_mask
    # forward against the formula: a formula that is not the op makes every check meaningless
    fwant = np.asarray(_numeric(expr, syms)(*inputs), dtype=float)
    scalar_out = [
        op(*[Value(float(x[j])) for x in inputs], *param_values).data for j in range(inputs[0].size)
    ]
    for what, fgot in (
        ("forward", op.forward(*inputs, *param_values)),
        ("float forward", scalar_out),
    ):
        fgot = np.broadcast_to(np.asarray(fgot, dtype=float), fwant.shape)
        ferr = np.abs(fgot - fwant) / (1 + np.abs(fwant))
        ferr = np.where(np.isfinite(fwant) & usable, ferr, 0.0)
        if np.max(ferr) > tolerance:
            i = int(np.argmax(ferr))
            problems.append(
                f"{what} differs from the formula at {op.inputs[0]} = {_fmt(inputs[0][i])}: "
                f"op gives {_fmt(fgot[i])}, formula {op.formula!r} gives {_fmt(fwant[i])}"
            )

    for wi, wname in enumerate(op.inputs):
        dexpr = sympy.diff(expr, symbols[wname], order)
        ref = _numeric(dexpr, syms)
        want = ref(*inputs)
        what = f"∂{'^' + str(order) if order > 1 else ''}{op.name}/∂{wname}"
        got = engine_derivative(op, inputs, wi, order, param_values)
        compare(what, got, want, usable)
        if order == 1:  # Python floats take the engine's scalar fast path
            got_f = [
                engine_derivative(op, [float(x[j]) for x in inputs], wi, 1, param_values)
                for j in range(inputs[0].size)
            ]
            compare(what + " (float path)", got_f, want, usable)
        for j in np.flatnonzero(kink_mask):
            at = [x[j] for x in inputs]
            left = ref(*[a - 1e-7 if i == 0 else a for i, a in enumerate(at)])
            right = ref(*[a + 1e-7 if i == 0 else a for i, a in enumerate(at)])
            gj = np.asarray(got, dtype=float).reshape(-1)[j]
            point = ", ".join(f"{n} = {_fmt(a)}" for n, a in zip(op.inputs, at))
            reason = (
                f"a kink: the derivative there is a convention; engine gives {_fmt(gj)}, "
                f"SymPy's left/right limits {_fmt(left)}/{_fmt(right)}"
            )
            skipped.append((tuple(float(a) for a in at), reason))
            note = f"{point if op.arity > 1 else op.inputs[0] + ' = ' + _fmt(at[0])}"
            if op.arity > 1:
                note += f" for {what}"
            skip_notes.append(f"skipped {note} ({reason})")

    max_error = worst[0]
    ok = max_error <= tolerance and not problems
    lo, hi = op.domain
    n = int(usable.sum())
    head = f"{op.name}: derivative {order}"
    if ok:
        where = f"[{_fmt(lo)}, {_fmt(hi)}]"
        msg = f"{head} matches SymPy (max error {_fmt(max_error)}) at {n} points in {where}"
    else:
        msg = (
            f"{head} does NOT match SymPy: max error {_fmt(max_error)} > {tolerance:g}; "
            f"worst: {worst[1]}. SymPy: d{'^' + str(order) if order > 1 else ''}/d{op.inputs[0]} "
            f"{op.formula} = {sympy.diff(expr, syms[0], order)}"
        )
        if problems:
            msg += "; " + "; ".join(problems)
    if skip_notes:
        msg += "; " + "; ".join(skip_notes)
    return CheckResult(op.name, ok, max_error, msg, order, skipped)


def _check_order(order: Any, who: str) -> None:
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"{who}: order must be a positive int, got {order!r}")


def check_all(order: int = 1) -> list[CheckResult]:
    """:func:`check` for EVERY op of the table (built-in and user-defined), in table order.

    Elementwise ops are checked through their ``formula``, the others through
    their ``sympy_def`` at their ``cases``. An op without a SymPy definition, or
    whose definition fails (a ``ValueError`` from :func:`check`), is a result
    with ``ok=False`` whose message says what is wrong: no op is left out.

    >>> results = check_all()
    >>> all(r.ok for r in results), {r.name for r in results} == {op.name for op in all_ops()}
    (True, True)
    """
    _check_order(order, "check_all")  # (a bad order would make every result "NOT CHECKED")
    results = []
    for op in all_ops():
        try:
            results.append(check(op, order))
        except ValueError as exc:
            results.append(
                CheckResult(
                    op.name, False, float("inf"), f"{op.name}: NOT CHECKED: {exc}", order, [], False
                )
            )
    return results


# --------------------------------------------------------- graphs to SymPy


def _parents_of(node: Value) -> tuple:
    return node.parents if getattr(node, "_op", None) is not None else ()


def _leaf_expr(node: Value, symbols: dict) -> Any:
    from .formula import make_symbols, sympy_number

    if np.ndim(node.data) != 0:
        raise ValueError(
            f"symbolic: only scalar graphs can be written as SymPy; node "
            f"{node.label or node.op or 'leaf'!r} has shape {np.shape(node.data)}"
        )
    if node.label:
        sym = make_symbols([node.label])[node.label]
        owner = symbols.setdefault(node.label, node)
        if owner is not node:
            raise ValueError(
                f"symbolic: two different leaves are labelled {node.label!r}; labels must be unique"
            )
        return sym
    return sympy_number(float(node.data))


def _node_expr(node: Value, parent_exprs: Sequence[Any]) -> Any:
    """The node's op formula with its inputs replaced by ``parent_exprs``."""
    from .formula import sympy_number, to_sympy

    op = node._op
    if np.ndim(node.data) != 0:
        raise ValueError(
            f"symbolic: only scalar graphs can be written as SymPy; node "
            f"{node.label or op.name!r} has shape {np.shape(node.data)}"
        )
    if op.formula is None:
        raise ValueError(
            f"symbolic: op {op.name!r} has no SymPy formula, so a graph using it cannot be "
            "written as one expression"
        )
    params = node._args[len(node.parents) :]
    mapping: dict[str, Any] = dict(zip(op.inputs, parent_exprs))
    for pname, pval in zip(op.params, params):
        if isinstance(pval, Value):
            pval = pval.data
        if np.ndim(pval) != 0:
            raise ValueError(f"symbolic: parameter {pname!r} of {op.name!r} is not a number")
        mapping[pname] = sympy_number(float(pval))
    return to_sympy(op.formula, op.inputs, op.params, symbols=mapping)


def _walk(output: Value) -> list[Value]:
    """All nodes of the graph, inputs before outputs (``graph.walk``)."""
    return walk([output])


def _expressions(output: Value, stop_at_labels: bool) -> dict[int, Any]:
    """SymPy expression of every node (leaves → symbols/numbers).

    With ``stop_at_labels`` every labelled node (not only leaves) is a symbol.
    """
    from .formula import make_symbols

    exprs: dict[int, Any] = {}
    symbols: dict[str, Value] = {}
    for node in _walk(output):
        parents = _parents_of(node)
        if not parents:
            exprs[id(node)] = _leaf_expr(node, symbols)
        else:
            exprs[id(node)] = _node_expr(node, [exprs[id(p)] for p in parents])
            if stop_at_labels and node.label and node is not output:
                symbols.setdefault(node.label, node)
                if symbols[node.label] is not node:
                    raise ValueError(
                        f"symbolic: two different nodes are labelled {node.label!r}; "
                        "labels must be unique"
                    )
                exprs[id(node)] = make_symbols([node.label])[node.label]
    return exprs


def to_sympy(value: Value) -> Any:
    """The SymPy expression of a scalar graph.

    Labelled leaves become real symbols named by their labels, unlabelled
    leaves their numbers (``0.5`` becomes ``1/2``); each op contributes its
    table formula. Ops without a formula (``sum``, ``matmul``...) and non-scalar
    nodes raise ``ValueError``.

    >>> import autograd_lite as al
    >>> w, x, b = al.Value(0.5, label="w"), al.Value(2.0, label="x"), al.Value(0.1, label="b")
    >>> to_sympy((w * x + b).sigmoid())
    1/(exp(-b - w*x) + 1)
    >>> to_sympy(al.Value(2.0, label="t") * 0.5)
    t/2
    """
    if not isinstance(value, Value):
        raise TypeError(f"to_sympy expects a Value, got {type(value).__name__}")
    return _expressions(value, stop_at_labels=False)[id(value)]


# --------------------------------------------------------------- chain rule


class ChainFactors(list):
    """Chain-rule factors along one path, each a SymPy expression in the graph's leaves.

    When the user labelled intermediate quantities on the path, it is cut at
    those, so a student sees one factor per named quantity (``∂E/∂e · ∂e/∂y ·
    ∂y/∂A · ∂A/∂w``), however many unlabelled operations sit between two of
    them. With no labelled node between output and ``wrt``, every op node is one
    factor, named after its op (``∂mul/∂pow · ∂pow/∂sub · ... · ∂mul/∂w``).
    The list items are written in the leaves' symbols, so their product equals
    ``sympy.diff(to_sympy(output), wrt)``. Extra attributes:

    Attributes:
        names: ``["∂E/∂e", "∂e/∂y", ...]``, one per factor.
        in_labels: the same factors written with the labelled intermediate
            nodes as symbols (``e``, ``-1``, ``y*(1 - y)``, ``x``): how the
            lecture writes them; a factor is expressed in its own output
            (``y(1-y)`` instead of ``σ'(A)``) when that is simpler.
        labels: ``{symbol: expression in the leaves}`` for every labelled
            intermediate node, to turn ``in_labels`` into leaves.
    """

    names: list[str]
    in_labels: list[Any]
    labels: dict[Any, Any]

    def product(self, in_labels: bool = False) -> Any:
        """The product of the factors (in leaves, or in the labels' symbols)."""
        import sympy

        return sympy.Mul(*(self.in_labels if in_labels else self))

    def __str__(self) -> str:
        return " · ".join(f"{n} = {f}" for n, f in zip(self.names, self.in_labels))


def _find(output: Value, wrt: Any) -> Value:
    if isinstance(wrt, Value):
        return wrt
    name = str(wrt)
    hits = [n for n in _walk(output) if n.label == name]
    if not hits:
        raise ValueError(f"chain: no node labelled {name!r} in the graph")
    if len(hits) > 1:
        raise ValueError(f"chain: several nodes are labelled {name!r}; pass the Value itself")
    return hits[0]


MAX_PATHS = 256


def _paths(output: Value, target: Value) -> list[list[tuple[Value, int]]]:
    """Every path output → target as a list of (node, index of the parent taken)."""
    reach: set[int] = {id(target)}
    for node in _walk(output):
        if any(id(p) in reach for p in _parents_of(node)):
            reach.add(id(node))
    if id(output) not in reach:
        raise ValueError(
            f"chain: {target.label or 'the given Value'!r} is not an input of this output"
        )
    paths: list[list[tuple[Value, int]]] = []
    stack: list[tuple[Value, list]] = [(output, [])]
    while stack:
        node, path = stack.pop()
        if node is target:
            paths.append(path)
            if len(paths) > MAX_PATHS:
                raise ValueError(f"chain: more than {MAX_PATHS} paths; graph too entangled")
            continue
        for i, p in reversed(list(enumerate(_parents_of(node)))):
            if id(p) in reach:
                stack.append((p, path + [(node, i)]))
    return paths


def _simpler_in_output(factor: Any, upper_sym: Any, upper_expr: Any, lower_sym: Any) -> Any:
    """Write ``factor`` (in ``lower_sym``) with ``upper_sym`` where that is simpler."""
    import sympy

    best = sympy.simplify(factor)
    candidates = [factor.subs(upper_expr, upper_sym), best.subs(upper_expr, upper_sym)]
    try:
        sols = sympy.solve(sympy.Eq(upper_sym, upper_expr), lower_sym)
    except Exception:  # pragma: no cover - SymPy gives up: keep the factor as it is
        sols = []
    if len(sols) == 1:
        candidates.append(sympy.simplify(factor.subs(lower_sym, sols[0])))
    for c in candidates:
        if not c.has(lower_sym) and sympy.count_ops(c) < sympy.count_ops(best):
            best = c
    return best


def _label(node: Value) -> str:
    return node.label or node.op or "leaf"


def chain_paths(output: Value, wrt: Value | str) -> list[ChainFactors]:
    """One :class:`ChainFactors` list per path from ``output`` back to ``wrt``.

    The products summed over the paths are ``diff(to_sympy(output), wrt)``.
    ``wrt`` is a labelled Value of the graph, or its label.

    >>> import autograd_lite as al
    >>> x = al.Value(3.0, label="x")
    >>> u = (x * 2); u.label = "u"
    >>> v = x.exp(); v.label = "v"
    >>> paths = chain_paths(u * v, x)
    >>> [str(p) for p in paths]
    ['∂mul/∂u = v · ∂u/∂x = 2', '∂mul/∂v = u · ∂v/∂x = v']
    """
    import sympy

    from .formula import make_symbols

    if not isinstance(output, Value):
        raise TypeError(f"chain: output must be a Value, got {type(output).__name__}")
    target = _find(output, wrt)
    if not target.label:
        raise ValueError("chain: the Value to differentiate by needs a label (its symbol)")
    leaves = _expressions(output, stop_at_labels=False)
    by_label = _expressions(output, stop_at_labels=True)
    nodes = {id(n): n for n in _walk(output)}
    labels = {
        make_symbols([n.label])[n.label]: leaves[id(n)]
        for n in nodes.values()
        if n.label and _parents_of(n) and n is not output
    }
    results = []
    for path in _paths(output, target):
        # stations: the labelled nodes, where the user named intermediate quantities;
        # with none named on this path, every op node is one
        every_node = not any(node.label for node, _ in path[1:])
        segments: list[list[tuple[Value, int]]] = [[]]
        for k, (node, i) in enumerate(path):
            if k > 0 and (node.label or every_node):
                segments.append([])
            segments[-1].append((node, i))
        factors = ChainFactors()
        factors.names, factors.in_labels, factors.labels = [], [], labels
        for seg in segments:
            f_leaves, f_labels = sympy.Integer(1), sympy.Integer(1)
            for node, i in seg:
                for exprs, acc in ((leaves, "leaves"), (by_label, "labels")):
                    parents = _parents_of(node)
                    pexprs = [exprs[id(p)] for p in parents]
                    x = sympy.Dummy("x", real=True)
                    local = _node_expr(node, pexprs[:i] + [x] + pexprs[i + 1 :])
                    d = sympy.diff(local, x).subs(x, pexprs[i])
                    if acc == "leaves":
                        f_leaves *= d
                    else:
                        f_labels *= d
            upper = seg[0][0]
            lower = _parents_of(seg[-1][0])[seg[-1][1]]
            if upper.label:
                lower_sym = make_symbols([lower.label])[lower.label] if lower.label else None
                up_sym = make_symbols([upper.label])[upper.label]
                # the upper node written in the lower node's symbol (other labels as symbols)
                up_expr = _node_expr(upper, [by_label[id(p)] for p in _parents_of(upper)])
                if lower_sym is not None:
                    f_labels = _simpler_in_output(f_labels, up_sym, up_expr, lower_sym)
            factors.append(f_leaves)  # as sympy.diff gives it: simplify() may hide sameness
            factors.in_labels.append(sympy.simplify(f_labels))
            factors.names.append(f"∂{_label(upper)}/∂{_label(lower)}")
        results.append(factors)
    return results


def chain(output: Value, wrt: Value | str) -> ChainFactors:
    """The chain-rule factors from ``output`` back to ``wrt`` along the one path between them.

    Returns a :class:`ChainFactors` list whose product equals
    ``sympy.diff(to_sympy(output), wrt)``; its ``in_labels`` shows the same
    factors in the labelled intermediate quantities. If ``wrt`` is reached along
    several paths this raises ``ValueError`` (use :func:`chain_paths`).

    The lecture's sigmoid perceptron, ``E = ½ (t − y)²``:

    >>> import autograd_lite as al
    >>> w, x = al.Value(0.4, label="w"), al.Value(1.5, label="x")
    >>> b, t = al.Value(0.1, label="b"), al.Value(1.0, label="t")
    >>> A = w * x + b; A.label = "A"
    >>> y = A.sigmoid(); y.label = "y"
    >>> e = t - y; e.label = "e"
    >>> E = 0.5 * e**2; E.label = "E"
    >>> factors = chain(E, w)
    >>> factors.names
    ['∂E/∂e', '∂e/∂y', '∂y/∂A', '∂A/∂w']
    >>> factors.in_labels
    [e, -1, y*(1 - y), x]
    >>> factors.product(in_labels=True)
    -e*x*y*(1 - y)

    The same formula typed without labels on the intermediate nodes: one factor
    per op node.

    >>> E2 = 0.5 * (t - (w * x + b).sigmoid()) ** 2
    >>> chain(E2, w).names
    ['∂mul/∂pow', '∂pow/∂sub', '∂sub/∂sigmoid', '∂sigmoid/∂add', '∂add/∂mul', '∂mul/∂w']
    """
    paths = chain_paths(output, wrt)
    if len(paths) > 1:
        name = wrt.label if isinstance(wrt, Value) else wrt
        raise ValueError(
            f"chain: {name!r} is reached along {len(paths)} paths from the output; its derivative "
            "is the sum over paths — use symbolic.chain_paths(output, wrt)"
        )
    return paths[0]


def symbols_of(expr: Any, names: Iterable[str]) -> list[Any]:
    """The symbols of ``expr`` with the given names (handy to differentiate results).

    >>> import autograd_lite as al
    >>> e = to_sympy(al.Value(2.0, label="q") ** 2)
    >>> symbols_of(e, ["q"])
    [q]
    """
    found = {s.name: s for s in expr.free_symbols}
    return [found[n] for n in names]
