"""SymPy checks of structural ops: the engine's full Jacobian against ``sympy.diff``.

An op that is not elementwise (``matmul``, ``softmax``, ``sum``, ``getitem``...)
carries ``Op.sympy_def``, the op written on numpy object arrays of element
symbols, and ``Op.cases``, the small shapes and parameters to check it at (see
:class:`autograd_lite.registry.SymCase`). For each case :func:`check_structural`

1. builds the output's SymPy expressions and their full Jacobian with respect
   to every input element (``sympy.diff``), and compiles both once (cached);
2. draws a few random sample points in the case's domain (plus the case's own
   ``points``), and compares the definition's values with ``op.forward`` there:
   a difference is a *forward mismatch* (the definition is not the op), reported
   as such and not as a derivative failure;
3. runs the engine's backward once per output element, seeded with that
   element's basis cotangent, which gives the engine's Jacobian row by row, and
   compares it entry by entry with SymPy's;
4. for ``order=2``, seeds one backward with a random cotangent ``c`` and
   ``create_graph=True``, differentiates that recorded gradient again, and
   compares it with SymPy's Hessian of ``c · out``.

Points where SymPy's Jacobian jumps (a tie of ``max``: its derivative there is a
convention) are skipped and named in the message, as kinks are for elementwise ops.

>>> from autograd_lite.jacobian_check import check_structural
>>> r = check_structural("softmax")
>>> r.ok
True
>>> print(r.message.split(":")[0])
softmax
"""

from __future__ import annotations

import inspect
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .registry import Op, SymCase, get_op

SAMPLES = 3
"""Random sample points per case (besides the case's own ``points``)."""

JUMP = 1e-3
"""A change of SymPy's Jacobian larger than this within ``1e-7`` of a point marks a kink."""


@dataclass
class _Compiled:
    """The SymPy work for one (op, case, order), done once."""

    params: tuple
    shapes: list[tuple[int, ...]]
    out_shape: tuple[int, ...]
    forward: Any  # flat input values -> flat output values
    derivative: Any  # flat input values (+ cotangent for order 2) -> matrix
    smooth: bool


_CACHE: dict[tuple, tuple[Any, SymCase, _Compiled]] = {}


def _params_of(op: Op, case: SymCase) -> tuple:
    try:
        return op.bind_params(tuple(case.params), {})
    except TypeError as exc:
        raise ValueError(f"op {op.name!r}: a SymCase's params do not fit the op: {exc}") from None


def _as_object_array(op: Op, out: Any, sympy: Any) -> np.ndarray:
    if isinstance(out, sympy.MatrixBase):
        out = np.array(out.tolist(), dtype=object)
    arr = np.asarray(out, dtype=object) if not isinstance(out, np.ndarray) else out
    if arr.dtype != object:
        arr = arr.astype(object)
    arr = arr.copy()
    for idx in np.ndindex(*arr.shape):
        e = arr[idx]
        if isinstance(e, (bool, np.bool_)) or not isinstance(
            e, (sympy.Basic, int, float, np.integer, np.floating)
        ):
            raise ValueError(
                f"op {op.name!r}: its SymPy definition must give SymPy expressions, got "
                f"{type(e).__name__} {e!r:.60} at output{list(idx)}"
            )
        arr[idx] = sympy.Float(float(e)) if not isinstance(e, sympy.Basic) else e
    return arr


def _evaluate_definition(op: Op, inputs: list[np.ndarray], params: tuple) -> np.ndarray:
    """``op.sympy_def`` on symbol arrays; a ``ValueError`` naming the op if it fails."""
    import sympy

    fn = op.sympy_def
    if not callable(fn):
        raise ValueError(
            f"op {op.name!r}: sympy_def must be a function sympy_def(sp, *inputs, *params), got "
            f"{type(fn).__name__} {fn!r:.60}"
        )
    try:
        inspect.signature(fn).bind(sympy, *inputs, *params)
    except TypeError:
        raise ValueError(
            f"op {op.name!r}: sympy_def{inspect.signature(fn)} cannot take sp, its "
            f"{op.arity} input(s) {op.inputs} and its parameter(s) {op.params}"
        ) from None
    except ValueError:  # a builtin without a signature: just call it
        pass
    shapes = ", ".join(str(x.shape) for x in inputs)
    try:
        out = fn(sympy, *inputs, *params)
    except Exception as exc:
        raise ValueError(
            f"op {op.name!r}: its SymPy definition fails on inputs of shape(s) {shapes}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return _as_object_array(op, out, sympy)


def _select(condlist: Any, choicelist: Any, default: Any = np.nan) -> Any:
    """numpy.select for the scalar points the checks evaluate at (conditions may be bools)."""
    for cond, choice in zip(condlist, choicelist):
        if bool(cond):
            return choice
    return default


def _heaviside(x: Any, h0: Any = 0.5) -> Any:
    return 1.0 if x > 0 else 0.0 if x < 0 else float(h0)


_MODULES = [{"select": _select, "_H": _heaviside, "_Max": max, "_Min": min}, "numpy"]


def _plain(expr: Any) -> Any:
    """``expr`` with Heaviside/Max/Min as opaque calls: lambdify would rewrite them into
    large Piecewise expressions (slow to print); the checks evaluate them one point at a time."""
    import sympy

    h, mx, mn = (sympy.Function(n) for n in ("_H", "_Max", "_Min"))
    expr = expr.replace(sympy.DiracDelta, lambda *a: sympy.S.Zero)
    expr = expr.replace(sympy.Heaviside, lambda *a: h(*a))
    return expr.replace(sympy.Max, lambda *a: mx(*a)).replace(sympy.Min, lambda *a: mn(*a))


def _compile(op: Op, index: int, order: int) -> _Compiled:
    from .sympy_arrays import symbols_like

    case = op.cases[index]
    key = (op.name, index, order)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is op.sympy_def and hit[1] is case:
        return hit[2]
    import sympy

    params = _params_of(op, case)
    if len(case.shapes) != op.arity:
        raise ValueError(
            f"op {op.name!r}: a SymCase gives {len(case.shapes)} shape(s) for an op with "
            f"{op.arity} input(s) {op.inputs}"
        )
    inputs = [symbols_like(n, tuple(s)) for n, s in zip(op.inputs, case.shapes)]
    out = _evaluate_definition(op, inputs, params)
    flat = [s for x in inputs for s in x.reshape(-1)]
    outs = list(out.reshape(-1))
    stray = set().union(*(o.free_symbols for o in outs)) - set(flat) if outs else set()
    if stray:
        raise ValueError(
            f"op {op.name!r}: its SymPy definition uses {', '.join(sorted(map(str, stray)))}, "
            "which are not elements of its inputs"
        )
    if order == 1:
        matrix = sympy.Matrix(outs).jacobian(flat)
        extra: list = []
    else:
        cot = [sympy.Symbol(f"_c{k}", real=True) for k in range(len(outs))]
        functional = sympy.Add(*(c * o for c, o in zip(cot, outs)))
        matrix = sympy.hessian(functional, flat)
        extra = cot
    kinks = (sympy.Heaviside, sympy.Piecewise, sympy.sign, sympy.Abs, sympy.Max, sympy.Min)
    # derivatives of smooth functions are smooth: a walk over the (much larger) derivative
    # and _plain's rewriting are needed only when the definition itself has a kink
    smooth = not any(o.has(f) for o in outs for f in kinks)
    if not smooth:
        smooth = not any(matrix.has(f) for f in kinks)
        matrix, outs = _plain(matrix), [_plain(o) for o in outs]
    compiled = _Compiled(
        params=params,
        shapes=[tuple(s) for s in case.shapes],
        out_shape=out.shape,
        # cse: shared subexpressions printed once (the LSTM's Hessian: 2 s instead of 11 s)
        forward=sympy.lambdify(flat, outs, modules=_MODULES, cse=True),
        derivative=sympy.lambdify(flat + extra, matrix, modules=_MODULES, cse=True),
        smooth=smooth,
    )
    _CACHE[key] = (op.sympy_def, case, compiled)
    return compiled


def _samples(op: Op, index: int, case: SymCase, shapes: list) -> list[list[np.ndarray]]:
    lo, hi = case.domain or op.domain
    rng = np.random.default_rng(zlib.crc32(f"{op.name}/{index}".encode()))
    points = [[rng.uniform(lo, hi, size=s) for s in shapes] for _ in range(SAMPLES)]
    for given in case.points:
        points.append([np.asarray(g, dtype=np.float64).reshape(s) for g, s in zip(given, shapes)])
    return points


def _flat(values: list[np.ndarray]) -> list[float]:
    return [float(v) for x in values for v in np.reshape(x, -1)]


def _engine_jacobian(op: Op, values: list[np.ndarray], params: tuple) -> np.ndarray:
    """Row k: the engine's vjp of the basis cotangent e_k, for all inputs (flattened)."""
    from .functional import _vjp
    from .value import Value

    leaves = [Value(np.array(x, dtype=np.float64)) for x in values]
    out = op(*leaves, *params)
    rows = np.zeros((out.size, sum(x.size for x in leaves)))
    for k in range(out.size):
        seed = np.zeros(out.shape)
        seed.reshape(-1)[k] = 1.0
        grads = _vjp(out, leaves, seed if out.shape else 1.0, create_graph=False)
        rows[k] = np.concatenate(
            [
                np.zeros(x.size) if g is None else np.reshape(_data(g), -1)
                for g, x in zip(grads, leaves)
            ]
        )
    return rows


def _data(g: Any) -> Any:
    return np.asarray(g.data if hasattr(g, "parents") else g, dtype=np.float64)


def _engine_hessian(op: Op, values: list[np.ndarray], params: tuple, cot: np.ndarray) -> np.ndarray:
    """The engine's Hessian of ``cot · op(inputs)``: a recorded backward, differentiated again."""
    from .functional import _vjp
    from .value import Value

    leaves = [Value(np.array(x, dtype=np.float64)) for x in values]
    out = op(*leaves, *params)
    seed = cot.reshape(out.shape) if out.shape else float(cot.reshape(-1)[0])
    grads = _vjp(out, leaves, seed, create_graph=True)
    n = sum(x.size for x in leaves)
    hess = np.zeros((n, n))
    row = 0
    for g, x in zip(grads, leaves):
        if isinstance(g, Value) and g.requires_grad:
            for k in range(x.size):
                e = np.zeros(g.shape)
                e.reshape(-1)[k] = 1.0
                second = _vjp(g, leaves, e if g.shape else 1.0, create_graph=False)
                hess[row + k] = np.concatenate(
                    [
                        np.zeros(y.size) if s is None else np.reshape(_data(s), -1)
                        for s, y in zip(second, leaves)
                    ]
                )
        row += x.size
    return hess


def _entry_names(op: Op, shapes: list, out_shape: tuple, order: int) -> tuple[list, list]:
    """Names of the Jacobian's rows (``out[0, 1]``) and columns (``(input, 'W[1, 0]')``)."""

    def at(name: str, idx: tuple) -> str:
        return f"{name}[{', '.join(map(str, idx))}]" if idx else name

    cols = [(n, at(n, idx)) for n, s in zip(op.inputs, shapes) for idx in np.ndindex(*s)]
    if order == 1:
        rows = [at("out", idx) for idx in np.ndindex(*out_shape)]
    else:
        rows = [c[1] for c in cols]
    return rows, cols


def jacobian_pair(
    name: str | Op, case: int = 0, point: list[Any] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """SymPy's and the engine's Jacobian of a structural op at one point of one case.

    Returns ``(sympy_jacobian, engine_jacobian, row_names, column_names)``; rows
    are output elements (``out[0, 1]``), columns input elements (``z[1, 2]``),
    in C order. ``point`` gives one array per input (default: the case's first
    random sample point). Used for the docs' picture; :func:`check_structural`
    is the check.

    >>> want, got, rows, cols = jacobian_pair("softmax", point=[[0.5, -1.0, 2.0]], case=2)
    >>> rows, cols
    (['out[0]', 'out[1]', 'out[2]'], ['z[0]', 'z[1]', 'z[2]'])
    >>> bool(np.allclose(want, got, atol=1e-12)), round(float(want[0, 1]), 6)
    (True, -0.006856)
    """
    op = name if isinstance(name, Op) else get_op(name)
    if op.sympy_def is None or not 0 <= case < len(op.cases):
        raise ValueError(f"op {op.name!r} has no SymPy definition case {case}")
    compiled = _compile(op, case, 1)
    if point is None:
        values = _samples(op, case, op.cases[case], compiled.shapes)[0]
    else:
        values = [
            np.asarray(p, dtype=np.float64).reshape(s) for p, s in zip(point, compiled.shapes)
        ]
    with np.errstate(all="ignore"):
        want = np.asarray(compiled.derivative(*_flat(values)), dtype=np.float64)
    got = _engine_jacobian(op, values, compiled.params)
    rows, cols = _entry_names(op, compiled.shapes, compiled.out_shape, 1)
    return want, got, rows, [c[1] for c in cols]


def describe_case(op: Op, case: SymCase) -> str:
    """``"(2, 3), (3,) [axis=0]"``: the shapes and note of a case, for messages.

    >>> from autograd_lite.registry import SymCase, get_op
    >>> describe_case(get_op("sum"), SymCase(((2, 3),), (0,), note="axis=0"))
    'shape (2, 3) [axis=0]'
    """
    shapes = ", ".join(str(tuple(s)) for s in case.shapes)
    text = f"shape{'s' if len(case.shapes) > 1 else ''} {shapes}"
    return text + (f" [{case.note}]" if case.note else "")


def _fmt(x: float) -> str:
    return f"{float(x):.6g}"


def check_structural(name: str | Op, order: int = 1, tolerance: float = 1e-7) -> Any:
    """Compare the engine's Jacobian (``order=2``: Hessian) of a structural op with SymPy's.

    Returns a :class:`autograd_lite.symbolic.CheckResult`. An op without
    ``sympy_def`` or ``cases`` gives ``ok=False`` saying what is missing; a
    definition that fails, or takes the wrong number of inputs, raises
    ``ValueError`` naming the op.

    >>> check_structural("matmul").ok, check_structural("sum", order=2).ok
    (True, True)
    """
    from .symbolic import CheckResult

    op = name if isinstance(name, Op) else get_op(name)
    if op.sympy_def is None:
        return CheckResult(
            op.name,
            False,
            float("inf"),
            f"{op.name}: NOT CHECKED: no SymPy definition (an elementwise op needs `formula`, "
            "any other op `sympy_def` and `cases`)",
            order,
            checked=False,
        )
    if not op.cases:
        return CheckResult(
            op.name,
            False,
            float("inf"),
            f"{op.name}: NOT CHECKED: it has a SymPy definition but no `cases` (shapes) to "
            "check it at",
            order,
            checked=False,
        )
    worst = (0.0, "")
    problems: list[str] = []
    skipped: list = []
    skip_notes: list[str] = []
    checked = 0
    rng = np.random.default_rng(zlib.crc32(op.name.encode()))
    used = [(i, c) for i, c in enumerate(op.cases) if c.max_order >= order]
    for index, case in used:
        compiled = _compile(op, index, order)
        where = describe_case(op, case)
        rows, cols = _entry_names(op, compiled.shapes, compiled.out_shape, order)
        for values in _samples(op, index, case, compiled.shapes):
            flat = _flat(values)
            with np.errstate(all="ignore"):
                want_out = np.asarray(compiled.forward(*flat), dtype=np.float64)
            try:
                got_out = np.asarray(op.forward(*values, *compiled.params), dtype=np.float64)
            except Exception as exc:
                problems.append(f"op.forward raised at {where}: {type(exc).__name__}: {exc}")
                break
            if got_out.size != want_out.size or got_out.shape != compiled.out_shape:
                problems.append(
                    f"forward mismatch at {where}: op.forward gives shape {got_out.shape}, the "
                    f"SymPy definition {compiled.out_shape}"
                )
                break
            ferr = np.abs(got_out.reshape(-1) - want_out) / (1 + np.abs(want_out))
            if ferr.size and np.max(ferr) > tolerance:
                k = int(np.argmax(ferr))
                problems.append(
                    f"forward mismatch at {where}, {rows[k] if order == 1 else 'out'}: op.forward "
                    f"gives {_fmt(got_out.reshape(-1)[k])}, the SymPy definition "
                    f"{_fmt(want_out[k])} (derivatives not compared: the definition is not "
                    "the op)"
                )
                break
            cot = rng.uniform(-1.0, 1.0, size=len(want_out)) if order == 2 else None
            extra = list(cot) if cot is not None else []

            def sympy_at(
                point: list[float], extra: list = extra, fn: Any = compiled.derivative
            ) -> np.ndarray:
                with np.errstate(all="ignore"):
                    return np.asarray(fn(*point, *extra), dtype=np.float64)

            want = sympy_at(flat)
            if not compiled.smooth:
                jumps = [
                    np.max(np.abs(sympy_at(list(np.asarray(flat) + 1e-7 * d)) - want), initial=0)
                    for d in (rng.standard_normal(len(flat)) for _ in range(2))
                ]
                if max(jumps) > JUMP or not np.all(np.isfinite(want)):
                    point = "; ".join(
                        f"{n} = {np.round(np.asarray(v, dtype=float), 4).tolist()}"
                        for n, v in zip(op.inputs, values)
                    )
                    reason = (
                        "a tie or kink: SymPy's derivative jumps there, the engine's value "
                        "is a convention"
                    )
                    skipped.append((where, point, reason))
                    skip_notes.append(f"skipped {where} at {point} ({reason})")
                    continue
            try:
                if order == 1:
                    got = _engine_jacobian(op, values, compiled.params)
                else:
                    got = _engine_hessian(op, values, compiled.params, cot)
            except Exception as exc:
                problems.append(f"the engine raised at {where}: {type(exc).__name__}: {exc}")
                break
            err = np.abs(got - want) / (1 + np.abs(want))
            err = np.where(np.isfinite(err), err, np.inf)
            checked += 1
            if err.size and np.max(err) > worst[0]:
                r, c = np.unravel_index(int(np.argmax(err)), err.shape)
                entry = (
                    f"∂{rows[r]}/∂{cols[c][1]}"
                    if order == 1
                    else f"∂²(c·out)/∂{rows[r]}∂{cols[c][1]}"
                )
                worst = (
                    float(np.max(err)),
                    f"{where}, input {cols[c][0]!r}: {entry} engine {_fmt(got[r, c])} vs "
                    f"SymPy {_fmt(want[r, c])}",
                )
    max_error = worst[0]
    ok = max_error <= tolerance and not problems and checked > 0
    what = "Jacobian" if order == 1 else f"derivative {order}"
    forward_bad = any(p.startswith("forward mismatch") for p in problems)
    if ok:
        msg = (
            f"{op.name}: {what} matches SymPy (max error {_fmt(max_error)}) at {checked} "
            f"points over {len(used)} case(s): " + "; ".join(describe_case(op, c) for _, c in used)
        )
    elif forward_bad:
        msg = f"{op.name}: FORWARD MISMATCH: " + "; ".join(problems)
    else:
        parts = []
        if worst[1] and max_error > tolerance:
            parts.append(f"max error {_fmt(max_error)} > {tolerance:g}; worst: {worst[1]}")
        parts += problems
        if not checked and not problems:
            parts.append("no sample point could be checked")
        msg = f"{op.name}: {what} does NOT match SymPy: " + "; ".join(parts)
    if skip_notes:
        msg += "; " + "; ".join(skip_notes)
    return CheckResult(op.name, ok, max_error, msg, order, skipped)
