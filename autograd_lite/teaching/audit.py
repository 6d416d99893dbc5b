"""Node-level gradient audit: find the one local derivative that is wrong.

:func:`audit` walks a graph and checks, for every node and every input that
needs a gradient, the op's vector-Jacobian product (its ``vjps[i]`` in the op
table) against

* central finite differences of the op's own ``forward`` at the inputs the node
  saved, and
* for elementwise ops, the SymPy derivative of the op's formula.

Nothing of the user's graph changes (no ``.grad``, no data). A user who
registers an op with a wrong derivative sees exactly which node and which input
disagree, with the expected and actual numbers; :meth:`AuditReport.to_dot`
paints those nodes red.

>>> import autograd_lite as al
>>> x = al.Value(0.5, label="x")
>>> report = audit((x * x).sigmoid())
>>> report.ok, len(report.failures)
(True, 0)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..graph import _fit, check_differentiable, topological_order
from ..value import Value

__all__ = ["AuditReport", "InputCheck", "audit", "demo_wrong_op", "sympy_partial"]


def sympy_partial(op: Any, index: int, params: dict[str, Any] | None = None) -> Any:
    """∂(op formula)/∂(input ``index``) as a SymPy expression, or ``None`` (structural op).

    ``params`` substitutes numbers for the op's parameters (e.g. ``alpha``).
    The formula goes through the safe parser of :mod:`autograd_lite.formula`.

    >>> from autograd_lite.registry import get_op
    >>> sympy_partial(get_op("mul"), 1)
    a
    >>> sympy_partial(get_op("tanh"), 0)
    1 - tanh(z)**2
    >>> sympy_partial(get_op("matmul"), 0) is None
    True
    """
    if op.formula is None:
        return None
    import sympy

    from ..formula import to_sympy

    if not 0 <= index < len(op.inputs):
        raise IndexError(f"op {op.name!r} has {len(op.inputs)} inputs, no input {index}")
    names = list(op.inputs)
    param_spec: Any = dict(params) if params else list(op.params)
    expr = to_sympy(op.formula, names, param_spec)
    symbol = sympy.Symbol(names[index], real=True)
    return sympy.diff(expr, symbol)


@dataclass
class InputCheck:
    """The check of one node's local derivative with respect to one input.

    Attributes:
        node: the checked Value; ``node_id``: its id (``n3``, as in
            :func:`autograd_lite.teaching.replay.node_ids`); ``name``: label or op.
        op: op name. ``input_index`` / ``input_name``: which input (``0``, ``"z"``),
            ``input_label``: that input's label (or ``""``).
        method: ``"finite differences"`` or ``"sympy"``.
        expected: the reference number at the worst element; ``actual``: the vjp's.
        max_error: largest absolute difference; ``ok``: within tolerance.
        checked / skipped: how many elements were compared / skipped (kinks).
        where: index of the worst element (``()`` for scalars).
        message: a sentence for humans.
    """

    node: Value
    node_id: str
    name: str
    op: str
    input_index: int
    input_name: str
    input_label: str
    method: str
    expected: float | None
    actual: float | None
    max_error: float
    ok: bool
    checked: int
    skipped: int
    where: tuple
    message: str

    def __str__(self) -> str:
        return self.message


class AuditReport:
    """Per-node audit results. ``str(report)`` is a table.

    >>> import autograd_lite as al
    >>> r = audit(al.Value(2.0, label="x").tanh())
    >>> print(r)  # doctest: +NORMALIZE_WHITESPACE
    node  op    input  method              max error  ok
    n1    tanh  0 z x  finite differences  ...        ok
    n1    tanh  0 z x  sympy               ...        ok
    audit: 2 checks on 1 op nodes, all passed
    """

    def __init__(self, output: Value, checks: list[InputCheck], n_nodes: int) -> None:
        self.output = output
        self.checks = checks
        self.n_nodes = n_nodes

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[InputCheck]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]

    def failed_nodes(self) -> list[Value]:
        """Nodes with at least one failing check, in graph order (no repeats)."""
        seen: dict[int, Value] = {}
        for c in self.failures:
            seen.setdefault(id(c.node), c.node)
        return list(seen.values())

    def __iter__(self) -> Iterator[InputCheck]:
        return iter(self.checks)

    def __len__(self) -> int:
        return len(self.checks)

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return (
            f"<AuditReport: {len(self.checks)} checks, {len(self.failures)} failing, "
            f"output {self.output.label or self.output.op!r}>"
        )

    def summary(self) -> str:
        """One line: how many checks, how many failed."""
        if self.ok:
            return f"audit: {len(self.checks)} checks on {self.n_nodes} op nodes, all passed"
        nodes = ", ".join(
            dict.fromkeys(f"{c.node_id} ({c.name}) input {c.input_index}" for c in self.failures)
        )
        return f"audit: {len(self.failures)} of {len(self.checks)} checks FAILED at {nodes}"

    def __str__(self) -> str:
        rows = [("node", "op", "input", "method", "max error", "ok")]
        for c in self.checks:
            label = f" {c.input_label}" if c.input_label else ""
            rows.append(
                (
                    c.node_id,
                    c.op,
                    f"{c.input_index} {c.input_name}{label}",
                    c.method,
                    f"{c.max_error:.3g}",
                    "ok" if c.ok else "FAIL",
                )
            )
        widths = [max(len(r[k]) for r in rows) for k in range(6)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        for c in self.failures:
            lines.append("  " + c.message)
        lines.append(self.summary())
        return "\n".join(lines)

    # ------------------------------------------------------------ pictures
    def node_style(self, value: Value) -> dict[str, Any] | None:
        """``viz.to_dot`` node_style hook: failing nodes red, with expected vs actual.

        >>> import autograd_lite as al
        >>> r = audit(al.Value(2.0).exp())
        >>> r.node_style(r.output) is None
        True
        """
        bad = [c for c in self.failures if c.node is value]
        if not bad:
            return None
        from .replay import format_number

        lines = [f"{bad[0].name}", f"data {format_number(value.data)}"]
        for c in bad:
            lines.append(
                f"WRONG input {c.input_index} ({c.input_label or c.input_name}), {c.method}:"
            )
            lines.append(
                f"   expected {format_number(c.expected)}, vjp gives {format_number(c.actual)}"
            )
        red = {"fillcolor": "#fee2e2", "color": "#dc2626", "penwidth": "3", "fontcolor": "#7f1d1d"}
        return {"label": "\n".join(lines), **red, "op": dict(red)}

    def to_dot(self, **to_dot_kwargs: Any) -> str:
        """DOT text of the audited graph with failing nodes painted red.

        >>> import autograd_lite as al
        >>> "digraph" in audit(al.Value(1.0) * 2.0).to_dot()
        True
        """
        from ..viz import to_dot

        if not self.ok:
            title = (
                f"audit: {len(self.failures)} of {len(self.checks)} checks failed "
                f"(red: expected vs what the vjp gives)"
            )
            to_dot_kwargs.setdefault("title", title)
        return to_dot(self.output, node_style=self.node_style, **to_dot_kwargs)

    def render(
        self,
        path: str | Path,
        format: str | None = None,  # noqa: A002 (as viz.render)
        **to_dot_kwargs: Any,
    ) -> Path:
        """Draw :meth:`to_dot` into ``path`` (``.svg``, ``.png``, ``.pdf``, ``.dot``)."""
        from ..viz import render_dot

        return render_dot(self.to_dot(**to_dot_kwargs), path, format)


def _as64(x: Any) -> Any:
    if type(x) is np.ndarray:
        return x.astype(np.float64)
    return x


def _forward(op: Any, datas: list, params: tuple) -> Any:
    if all(type(d) is float for d in datas):
        return op.float_forward(*datas, *params)
    return op.forward(*datas, *params)


def _perturbed(datas: list, i: int, k: tuple, delta: float) -> list:
    new = list(datas)
    x = datas[i]
    if type(x) is float:
        new[i] = x + delta
    else:
        arr = np.array(x, dtype=np.float64)
        arr[k] += delta
        new[i] = arr
    return new


def _elements(shape: tuple, limit: int, rng: np.random.Generator) -> list[tuple]:
    size = math.prod(shape)
    if size <= limit:
        return [tuple(int(j) for j in np.unravel_index(n, shape)) for n in range(size)]
    picks = rng.choice(size, size=limit, replace=False)
    return [tuple(int(j) for j in np.unravel_index(int(n), shape)) for n in sorted(picks)]


def _at(x: Any, k: tuple) -> float:
    return float(x) if type(x) is float or np.ndim(x) == 0 else float(np.asarray(x)[k])


def _describe(node: Value, ids: dict[int, str]) -> str:
    name = f" {node.label!r}" if node.label else ""
    return f"node {ids.get(id(node), '?')}{name} (op {node.op!r})"


def _check_fd(
    node: Value, i: int, ids: dict[int, str], rng: np.random.Generator, opts: dict
) -> InputCheck:
    op = node._op
    n = len(node.parents)
    datas = [_as64(d) for d in node._args[:n]]
    params = node._args[n:]
    parent = node.parents[i]
    base = _make_check(node, i, ids, "finite differences")
    with np.errstate(all="ignore"):
        out = _forward(op, datas, params)
        # a scalar output: g = 1, so the numbers shown are the local derivative itself;
        # tensors: a random g, so that mixed-up elements (a wrong transpose) show
        if np.ndim(out) == 0:
            g = 1.0 if type(out) is float else np.ones(())
        else:
            g = rng.standard_normal(np.shape(out))
        try:
            analytic = op.vjps[i](g, out, *datas, *params)
            if analytic is None:
                analytic = 0.0 if type(datas[i]) is float else np.zeros_like(datas[i])
            analytic = _fit(analytic, datas[i], False)
        except Exception as exc:
            return _failed(base, f"its vjp for input {i} raised {type(exc).__name__}: {exc}")
        if np.shape(analytic) != np.shape(datas[i]):
            return _failed(
                base,
                f"its vjp for input {i} returned shape {np.shape(analytic)}, the input has "
                f"shape {np.shape(datas[i])}",
            )
        f0 = np.asarray(out, dtype=np.float64)
        worst = (0.0, None, None, ())
        checked = skipped = 0
        failed = False
        for k in _elements(np.shape(datas[i]), opts["max_elements"], rng):
            x = _at(datas[i], k)
            h = opts["eps"] * max(1.0, abs(x))
            fp = np.asarray(_forward(op, _perturbed(datas, i, k, h), params), dtype=np.float64)
            fm = np.asarray(_forward(op, _perturbed(datas, i, k, -h), params), dtype=np.float64)
            central = float(np.sum(g * (fp - fm)) / (2 * h))
            ahead = float(np.sum(g * (fp - f0)) / h)
            behind = float(np.sum(g * (f0 - fm)) / h)
            a = _at(analytic, k)
            if not (math.isfinite(central) and math.isfinite(ahead) and math.isfinite(behind)):
                skipped += 1
                continue
            if abs(ahead - behind) > opts["kink_tol"] * (1.0 + abs(central)):
                skipped += 1  # a kink (relu at 0, tied max): the derivative is a convention
                continue
            checked += 1
            worst, wrong = _compare(a, central, k, worst, opts)
            failed = failed or wrong
    return _finish(base, worst, checked, skipped, failed, parent)


def _check_sympy(
    node: Value, i: int, ids: dict[int, str], rng: np.random.Generator, opts: dict
) -> InputCheck | None:
    op = node._op
    n = len(node.parents)
    datas = [_as64(d) for d in node._args[:n]]
    params = node._args[n:]
    param_values = dict(zip(op.params, params))
    try:
        deriv = sympy_partial(op, i, param_values)
    except (ValueError, TypeError):
        return None
    if deriv is None:
        return None
    import sympy

    symbols = [sympy.Symbol(name, real=True) for name in op.inputs]
    base = _make_check(node, i, ids, "sympy")
    with np.errstate(all="ignore"):
        out = _forward(op, datas, params)
        shape = np.shape(out)
        ones = 1.0 if type(out) is float else np.ones(shape)
        try:
            local = op.vjps[i](ones, out, *datas, *params)
            local = np.broadcast_to(np.asarray(local, dtype=np.float64), shape)
        except Exception as exc:
            return _failed(base, f"its vjp for input {i} raised {type(exc).__name__}: {exc}")
        inputs = [np.broadcast_to(np.asarray(d, dtype=np.float64), shape) for d in datas]
    worst = (0.0, None, None, ())
    checked = skipped = 0
    failed = False
    kinks = op.kinks
    for k in _elements(shape, opts["max_elements"], rng):
        point = [float(x[k]) for x in inputs]
        if kinks and any(abs(point[0] - kink) < 1e-9 for kink in kinks):
            skipped += 1
            continue
        try:
            expected = complex(deriv.subs(dict(zip(symbols, point))).evalf())
        except (TypeError, ValueError):
            skipped += 1
            continue
        if expected.imag != 0 or not math.isfinite(expected.real):
            skipped += 1
            continue
        e = expected.real
        a = float(local[k])
        checked += 1
        worst, wrong = _compare(a, e, k, worst, opts)
        failed = failed or wrong
    return _finish(base, worst, checked, skipped, failed, node.parents[i])


def _make_check(node: Value, i: int, ids: dict[int, str], method: str) -> InputCheck:
    op = node._op
    parent = node.parents[i]
    return InputCheck(
        node=node,
        node_id=ids.get(id(node), "?"),
        name=node.label or op.name,
        op=op.name,
        input_index=i,
        input_name=op.inputs[i] if i < len(op.inputs) else str(i),
        input_label=parent.label,
        method=method,
        expected=None,
        actual=None,
        max_error=0.0,
        ok=True,
        checked=0,
        skipped=0,
        where=(),
        message="",
    )


def _failed(check: InputCheck, why: str) -> InputCheck:
    check.ok = False
    check.max_error = math.inf
    check.message = f"{_where(check)}: {why}"
    return check


def _where(c: InputCheck) -> str:
    label = f" {c.name!r}" if c.name != c.op else ""
    inp = f" {c.input_label!r}" if c.input_label else ""
    return f"node {c.node_id}{label} (op {c.op!r}), input {c.input_index} ({c.input_name}{inp})"


def _compare(actual: float, expected: float, k: tuple, worst: tuple, opts: dict) -> tuple:
    """One element's vjp value against what it should be: ``(worst so far, out of tolerance?)``.

    ``worst`` is ``(error, expected, actual, k)`` of the largest error seen.
    """
    err = abs(actual - expected) if math.isfinite(actual) else math.inf
    if err > worst[0] or worst[1] is None:
        worst = (err, expected, actual, k)
    return worst, not err <= opts["atol"] + opts["rtol"] * max(abs(actual), abs(expected))


def _finish(
    check: InputCheck, worst: tuple, checked: int, skipped: int, failed: bool, parent: Value
) -> InputCheck:
    err, expected, actual, k = worst
    check.max_error = float(err)
    check.expected = expected
    check.actual = actual
    check.where = k
    check.checked = checked
    check.skipped = skipped
    check.ok = not failed
    at = f" at element {k}" if k else ""
    if failed:
        check.message = (
            f"{_where(check)}: {check.method} expect {expected:.6g}{at}, "
            f"the vjp gives {actual:.6g} (error {err:.3g})"
        )
    else:
        note = f", {skipped} skipped at kinks" if skipped else ""
        check.message = f"{_where(check)}: {check.method} agree ({checked} checked{note})"
    return check


def audit(
    output: Value,
    *,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    eps: float = 1e-6,
    symbolic: bool = True,
    max_elements: int = 24,
    seed: int = 0,
) -> AuditReport:
    """Check every node's local derivative; return a per-node :class:`AuditReport`.

    For each op node and each input that needs a gradient, the op's vjp (with a
    random upstream gradient) is compared with central finite differences of
    the op's forward at the inputs the node saved; for elementwise ops the
    local derivative is also compared with SymPy's derivative of the formula.
    Points where the function has a kink (one-sided differences disagree, e.g.
    ReLU at 0 or tied maxima) are skipped, since the derivative there is a
    convention. Tensor inputs larger than ``max_elements`` are sampled.

    The graph is not modified; it may already have been backwarded.

    >>> import autograd_lite as al
    >>> from autograd_lite.registry import Op, register, unregister
    >>> _ = register(Op("cube", lambda z: z**3, (lambda g, out, z: g * 2 * z**2,),
    ...                 formula="z**3"))                      # wrong: should be 3 z²
    >>> x = al.Value(1.5, label="x")
    >>> report = audit(x.cube())
    >>> report.ok
    False
    >>> print(report.failures[0])
    node n1 (op 'cube'), input 0 (z 'x'): finite differences expect ..., the vjp gives ...
    >>> unregister("cube")
    """
    check_differentiable(output, "audit", "there are no derivatives to check")
    for name, v in (("rtol", rtol), ("atol", atol), ("eps", eps)):
        if not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v)) or (
            name == "eps" and v == 0
        ):
            raise ValueError(f"audit: {name} must be a finite number > 0, got {v!r}")
    if not isinstance(max_elements, int) or max_elements < 1:
        raise ValueError(f"audit: max_elements must be a positive int, got {max_elements!r}")
    from .replay import node_ids

    ids = node_ids(output)
    rng = np.random.default_rng(seed)
    opts = {
        "rtol": rtol,
        "atol": atol,
        "eps": eps,
        "kink_tol": 1e-3,
        "max_elements": max_elements,
    }
    checks: list[InputCheck] = []
    n_nodes = 0
    for node in topological_order(output):
        if node._op is None:
            continue
        n_nodes += 1
        for i, parent in enumerate(node.parents):
            if not parent.requires_grad:
                continue
            checks.append(_check_fd(node, i, ids, rng, opts))
            if symbolic and node._op.elementwise:
                c = _check_sympy(node, i, ids, rng, opts)
                if c is not None:
                    checks.append(c)
    return AuditReport(output, checks, n_nodes)


@contextlib.contextmanager
def demo_wrong_op(name: str = "wrong_square", label: str = "z² (wrong vjp)") -> Iterator[Any]:
    """Register, for the block, an op ``z²`` whose derivative is wrong (``z`` instead of ``2z``).

    For demonstrations and the docs: the audit must catch it. ``label`` is what pictures
    show on its node (``""``: the name, as for an op registered without a label).

    >>> import autograd_lite as al
    >>> with demo_wrong_op() as op:
    ...     r = audit(op(al.Value(3.0, label="x")))
    >>> r.ok, r.failures[0].input_index
    (False, 0)
    """
    from ..registry import Op, has_op, register, unregister

    if has_op(name):
        raise ValueError(f"demo_wrong_op: an op named {name!r} is already registered")
    op = register(
        Op(
            name,
            forward=lambda z: z * z,
            vjps=(lambda g, out, z: g * z,),  # the classic slip: forgot the factor 2
            label=label,
            formula="z**2",
            doc="z squared with a deliberately wrong derivative (for the audit demo)",
        )
    )
    try:
        yield op
    finally:
        unregister(name)
