"""Op-table entries for arrays: elementwise extras, reductions and structure (SPEC §7).

Elementwise ops carry their SymPy ``formula``; the others a ``sympy_def`` and
the small ``cases`` it is checked at. Like every entry, the vjps use operators
and ``OP.poly(...)`` only, so ``backward(create_graph=True)`` records them.

Functions whose argument order is numpy's rather than "inputs, then parameters"
(``al.where(cond, x, y)``, ``al.concatenate([a, b], axis)``, ``al.split``) are
plain functions below that call their table entry.

*Variadic ops.* An :class:`~autograd_lite.registry.Op` has one vjp per input,
so ``concatenate`` and ``stack`` of ``n`` values run an ``n``-input copy of the
table entry (:func:`with_arity`, made on first use and cached). The table entry
itself is the two-input one (what checks and sweeps see, registered by
``_variadic``); every copy shares its name, forward, label and SymPy
definition, and the engine runs it like any op with ``n`` inputs.

>>> import numpy as np, autograd_lite as al
>>> a, b = al.Value([1.0, 2.0]), al.Value([3.0])
>>> c = al.concatenate([a, b, a])
>>> c.data.tolist()
[1.0, 2.0, 3.0, 1.0, 2.0]
>>> (c * c).sum().backward(); a.grad.tolist(), b.grad.tolist()
([4.0, 8.0], [6.0])
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import ops as _ops
from .ops import _mask, data_of, normalize_axis, shape_of
from .registry import Op, SymCase, _remove_method, register
from .sympy_arrays import elementwise, reduce
from .value import Value

_reshape, _getitem, _scatter, _exp = _ops.reshape, _ops.getitem, _ops.index_scatter, _ops.exp


def _axes(axis: Any, z: Any) -> tuple[int, ...] | None:
    return normalize_axis(axis, len(shape_of(z)))


def _kept(g: Any, z: Any, axes: tuple | None, keepdims: bool) -> Any:
    """``g`` of a reduction reshaped so it broadcasts against the input ``z``."""
    if keepdims:
        return g
    return _reshape.poly(g, _ops._kept_shape(shape_of(z), axes))


# ---------------------------------------------------------- elementwise


def _sin_scalar(z: float) -> float:
    return math.sin(z) if math.isfinite(z) else math.nan


sin = register(
    Op(
        "sin",
        forward=np.sin,
        scalar=_sin_scalar,
        vjps=(lambda g, out, z: g * cos.poly(z),),
        label="sin",
        formula="sin(z)",
        doc="sine (radians)",
    )
)


def _cos_scalar(z: float) -> float:
    return math.cos(z) if math.isfinite(z) else math.nan


cos = register(
    Op(
        "cos",
        forward=np.cos,
        scalar=_cos_scalar,
        vjps=(lambda g, out, z: -(g * sin.poly(z)),),
        label="cos",
        formula="cos(z)",
        doc="cosine (radians)",
    )
)


def _bounds(lo: Any, hi: Any) -> tuple[float, float]:
    return (-math.inf if lo is None else lo), (math.inf if hi is None else hi)


def _clip_forward(z: Any, lo: Any, hi: Any) -> Any:
    lo, hi = _bounds(lo, hi)
    return np.minimum(np.maximum(z, lo), hi)


def _clip_scalar(z: float, lo: Any, hi: Any) -> float:
    lo, hi = _bounds(lo, hi)
    return float(min(max(z, lo), hi)) if z == z else z


def _clip_vjp(g: Any, out: Any, z: Any, lo: Any, hi: Any) -> Any:
    lo, hi = _bounds(lo, hi)
    zd = data_of(z)
    return g * _mask((zd >= lo) & (zd <= hi), out)  # slope 1 inside, bounds included


clip = register(
    Op(
        "clip",
        forward=_clip_forward,
        scalar=_clip_scalar,
        vjps=(_clip_vjp,),
        label="clip",
        formula="Min(Max(z, lo), hi)",
        params=("lo", "hi"),
        defaults={"lo": -math.inf, "hi": math.inf},
        doc="z limited to [lo, hi] (None: no bound); slope 1 inside, bounds included",
    )
)


def _share(x: Any, y: Any, out: Any) -> Any:
    """Where ``x`` wins against ``y``: 1, where they tie: 1/2 (the tie splits evenly)."""
    xd, yd = data_of(x), data_of(y)
    if type(xd) is float and type(yd) is float:
        return 1.0 if xd > yd else 0.5 if xd == yd else 0.0
    dtype = np.asarray(data_of(out)).dtype
    return np.greater(xd, yd).astype(dtype) + np.equal(xd, yd).astype(dtype) * dtype.type(0.5)


def _max2(a: float, b: float) -> float:
    return a if a >= b or a != a else b


def _min2(a: float, b: float) -> float:
    return a if a <= b or a != a else b


maximum = register(
    Op(
        "maximum",
        forward=np.maximum,
        scalar=_max2,
        vjps=(
            lambda g, out, a, b: g * _share(a, b, out),
            lambda g, out, a, b: g * _share(b, a, out),
        ),
        label="max",
        formula="Max(a, b)",
        doc="elementwise maximum of a and b (broadcast); ties split the gradient evenly",
    )
)

minimum = register(
    Op(
        "minimum",
        forward=np.minimum,
        scalar=_min2,
        vjps=(
            lambda g, out, a, b: g * _share(b, a, out),
            lambda g, out, a, b: g * _share(a, b, out),
        ),
        label="min",
        formula="Min(a, b)",
        doc="elementwise minimum of a and b (broadcast); ties split the gradient evenly",
    )
)


def _where_forward(a: Any, b: Any, condition: Any) -> Any:
    sa, sb, sc = np.shape(a), np.shape(b), np.shape(condition)
    try:
        np.broadcast_shapes(sc, sa, sb)
    except ValueError:
        raise ValueError(
            f"where: condition {sc}, x {sa} and y {sb} do not broadcast together"
        ) from None
    return np.where(condition, a, b)


where_op = register(
    Op(
        "where",
        forward=_where_forward,
        vjps=(
            lambda g, out, a, b, condition: g * _mask(condition, out),
            lambda g, out, a, b, condition: g * _mask(np.logical_not(condition), out),
        ),
        label="where",
        inputs=("x", "y"),
        params=("condition",),
        keeps_inputs=False,
        doc="x where condition is true, else y (condition is a fixed boolean array)",
        sympy_def=lambda sp, a, b, condition: np.where(condition, a, b),
        cases=(
            SymCase(((2, 3), (2, 3)), (np.array([[True, False, True], [False, False, True]]),)),
            SymCase(((2, 1), (3,)), (np.array([True, False, False]),), note="broadcast"),
        ),
    )
)


def where(condition: Any, x: Any, y: Any) -> Value:
    """``x`` where ``condition`` is true, else ``y``, as ``numpy.where``; gradients flow to x and y.

    ``condition`` is a boolean array or Value (nonzero counts as true); all three
    broadcast together.

    >>> import autograd_lite as al
    >>> x, y = al.Value([1.0, 2.0, 3.0]), al.Value(0.0)
    >>> z = al.where(x.data > 1.5, x, y)
    >>> z.data.tolist()
    [0.0, 2.0, 3.0]
    >>> z.sum().backward(); x.grad.tolist(), y.grad
    ([0.0, 1.0, 1.0], 1.0)
    """
    try:
        cond = np.asarray(data_of(condition))
    except (TypeError, ValueError) as exc:  # a ragged list
        raise ValueError(f"where: condition {condition!r} is not an array: {exc}") from None
    if cond.dtype.kind not in "biuf":  # a string or None was truthy: it picked x everywhere
        raise TypeError(
            f"where: condition must be a boolean array or Value, got {type(condition).__name__} "
            f"{condition!r}"
        )
    cond = cond.astype(bool)
    return where_op(x, y, bool(cond) if cond.ndim == 0 else cond)


# ------------------------------------------------------------- reductions


def _min_forward(z: Any, axis: Any, keepdims: bool) -> Any:
    if np.size(z) == 0:
        raise ValueError("min of an empty Value")
    return np.minimum.reduce(z, axis=_axes(axis, z), keepdims=keepdims)


min_op = register(
    Op(
        "min",
        forward=_min_forward,
        vjps=(
            lambda g, out, z, axis, keepdims: _ops._max_vjp(g, out, z, _axes(axis, z), keepdims),
        ),
        label="min",
        params=("axis", "keepdims"),
        defaults={"axis": None, "keepdims": False},
        doc="minimum over axis (all axes by default); tied minima share the gradient evenly",
        sympy_def=lambda sp, z, axis, keepdims: reduce(z, sp.Min, _axes(axis, z), keepdims),
        cases=(
            SymCase(((2, 3),), (None, False), note="all"),
            SymCase(((2, 3),), (1, True), note="axis=1, keepdims"),
            SymCase(
                ((2, 3),),
                (1, False),
                note="axis=1; a tie",
                points=(([[0.5, 0.5, 2.0], [1.0, -1.0, 3.0]],),),
            ),
        ),
    )
)


def _var_forward(z: Any, axis: Any, ddof: int, keepdims: bool) -> Any:
    axes = _axes(axis, z)
    n = _ops._count(np.shape(z), axes)
    if n - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {n} values")
    return np.var(z, axis=axes, ddof=ddof, keepdims=keepdims)


def _centred(z: Any, axes: tuple | None) -> Any:
    return z - _ops.mean.poly(z, axes, True)


def _var_vjp(g: Any, out: Any, z: Any, axis: Any, ddof: int, keepdims: bool) -> Any:
    axes = _axes(axis, z)
    scale = 2.0 / (_ops._count(shape_of(z), axes) - ddof)
    return _kept(g, z, axes, keepdims) * _centred(z, axes) * scale


def _var_sympy(sp: Any, z: Any, axis: Any, ddof: int, keepdims: bool) -> Any:
    def var(*items: Any) -> Any:
        m = sp.Add(*items) / len(items)
        return sp.Add(*[(v - m) ** 2 for v in items]) / (len(items) - ddof)

    return reduce(z, var, _axes(axis, z), keepdims)


_REDUCE_CASES = (
    SymCase(((2, 3),), (None, 0, False), note="all"),
    SymCase(((2, 3),), (0, 1, True), note="axis=0, ddof=1, keepdims"),
)

var = register(
    Op(
        "var",
        forward=_var_forward,
        vjps=(_var_vjp,),
        label="var",
        params=("axis", "ddof", "keepdims"),
        defaults={"axis": None, "ddof": 0, "keepdims": False},
        doc="variance over axis, Σ(z - mean)²/(n - ddof) (numpy's default ddof = 0)",
        sympy_def=_var_sympy,
        cases=_REDUCE_CASES,
    )
)


def _std_forward(z: Any, axis: Any, ddof: int, keepdims: bool) -> Any:
    return np.sqrt(_var_forward(z, axis, ddof, keepdims))


def _std_vjp(g: Any, out: Any, z: Any, axis: Any, ddof: int, keepdims: bool) -> Any:
    axes = _axes(axis, z)
    scale = 1.0 / (_ops._count(shape_of(z), axes) - ddof)
    per_out = _ops._div(_kept(g, z, axes, keepdims), _kept(out, z, axes, keepdims))
    return per_out * _centred(z, axes) * scale


std = register(
    Op(
        "std",
        forward=_std_forward,
        vjps=(_std_vjp,),
        label="std",
        params=("axis", "ddof", "keepdims"),
        defaults={"axis": None, "ddof": 0, "keepdims": False},
        doc="standard deviation over axis, sqrt(var(z, axis, ddof))",
        sympy_def=lambda sp, z, axis, ddof, keepdims: elementwise(
            sp.sqrt, _var_sympy(sp, z, axis, ddof, keepdims)
        ),
        cases=(
            SymCase(((2, 2),), (None, 0, False), note="all"),
            SymCase(((2, 3),), (0, 1, True), note="axis=0, ddof=1, keepdims"),
        ),
    )
)


def _logsumexp_forward(z: Any, axis: Any, keepdims: bool) -> Any:
    axes = _axes(axis, z)
    z = np.asarray(z)
    if z.size == 0:
        raise ValueError("logsumexp of an empty Value")
    m = np.maximum.reduce(z, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along an axis: no shift
    out = np.log(np.add.reduce(np.exp(z - m), axis=axes, keepdims=True)) + m
    return out if keepdims else out.reshape(np.shape(np.add.reduce(z, axis=axes)))


def _logsumexp_vjp(g: Any, out: Any, z: Any, axis: Any, keepdims: bool) -> Any:
    axes = _axes(axis, z)
    return _kept(g, z, axes, keepdims) * _exp.poly(z - _kept(out, z, axes, keepdims))


logsumexp = register(
    Op(
        "logsumexp",
        forward=_logsumexp_forward,
        vjps=(_logsumexp_vjp,),
        label="log Σ exp",
        params=("axis", "keepdims"),
        defaults={"axis": None, "keepdims": False},
        doc="log(Σ exp(z)) over axis, shifted by the maximum (stable for inputs of ±1e4)",
        sympy_def=lambda sp, z, axis, keepdims: reduce(
            z, lambda *items: sp.log(sp.Add(*[sp.exp(v) for v in items])), _axes(axis, z), keepdims
        ),
        cases=(
            SymCase(((2, 3),), (None, False), note="all"),
            SymCase(((2, 3),), (-1, True), note="axis=-1, keepdims"),
        ),
    )
)

# -------------------------------------------------------------- structure


def _variadic(
    name: str, forward: Callable, vjp_for: Callable[[int], Callable], **fields: Any
) -> Op:
    """Register the two-input table entry of an op on any number of inputs and an ``axis``.

    ``vjp_for(i)`` makes the vjp of input ``i``; :func:`with_arity` uses it for ``n`` inputs.
    """
    op = register(
        Op(
            name,
            forward=forward,
            vjps=(vjp_for(0), vjp_for(1)),
            inputs=("x0", "x1"),
            params=("axis",),
            defaults={"axis": 0},
            keeps_inputs=False,
            **fields,
        )
    )
    op._vjp_for = vjp_for  # type: ignore[attr-defined]
    op._arities = {}  # type: ignore[attr-defined]
    return op


def with_arity(op: Op, n: int) -> Op:
    """The ``n``-input copy of a ``_variadic`` table entry (made once, then cached).

    >>> from autograd_lite.registry import get_op
    >>> three = with_arity(get_op("concatenate"), 3)
    >>> get_op("concatenate").arity, three.arity, three.name
    (2, 3, 'concatenate')
    """
    if n == op.arity:
        return op
    variant = op._arities.get(n)  # type: ignore[attr-defined]
    if variant is None:
        variant = dataclasses.replace(
            op,
            vjps=tuple(op._vjp_for(i) for i in range(n)),  # type: ignore[attr-defined]
            inputs=tuple(f"x{i}" for i in range(n)),
        )
        op._arities[n] = variant  # type: ignore[attr-defined]
    return variant


def _values_and_axis(args: tuple) -> tuple[tuple, int]:
    return args[:-1], args[-1]


def _concat_forward(*args: Any) -> Any:
    arrays, axis = _values_and_axis(args)
    shapes = [np.shape(a) for a in arrays]
    if any(len(s) == 0 for s in shapes):
        raise ValueError(f"concatenate: scalars cannot be concatenated (shapes {shapes})")
    nd = len(shapes[0])
    ax = normalize_axis(axis, nd)[0] if all(len(s) == nd for s in shapes) else None
    if ax is None or any(
        s[:ax] + s[ax + 1 :] != shapes[0][:ax] + shapes[0][ax + 1 :] for s in shapes
    ):
        raise ValueError(f"concatenate: shapes {shapes} must match except along axis {axis}")
    return np.concatenate(arrays, axis=ax)


def _concat_vjp(i: int) -> Callable:
    def vjp(g: Any, out: Any, *args: Any) -> Any:
        inputs, axis = _values_and_axis(args)
        ax = normalize_axis(axis, len(shape_of(g)))[0]
        start = sum(shape_of(x)[ax] for x in inputs[:i])
        index = (slice(None),) * ax + (slice(start, start + shape_of(inputs[i])[ax]),)
        return _getitem.poly(g, index)

    return vjp


concatenate_op = _variadic(
    "concatenate",
    _concat_forward,
    _concat_vjp,
    label="concat",
    doc="join values along an existing axis (numpy.concatenate)",
    sympy_def=lambda sp, *args: np.concatenate(args[:-1], axis=args[-1]),
    cases=(
        SymCase(((2, 2), (1, 2)), (0,), note="axis=0"),
        SymCase(((2, 1), (2, 3)), (-1,), note="axis=-1"),
    ),
)


def _as_values(values: Any, name: str) -> tuple:
    if isinstance(values, (Value, np.ndarray)) or not isinstance(values, Sequence):
        raise TypeError(f"{name} takes a list or tuple of values, got {type(values).__name__}")
    if not values:
        raise ValueError(f"{name} needs at least one value")
    return tuple(values)


def concatenate(values: Sequence[Any], axis: int = 0) -> Value:
    """Join values along an existing ``axis``, as ``numpy.concatenate``.

    >>> import autograd_lite as al
    >>> al.concatenate([al.Value([[1.0, 2.0]]), al.Value([[3.0, 4.0]])], axis=1).data.tolist()
    [[1.0, 2.0, 3.0, 4.0]]
    """
    values = _as_values(values, "concatenate")
    return with_arity(concatenate_op, len(values))(*values, axis)


def _stack_forward(*args: Any) -> Any:
    arrays, axis = _values_and_axis(args)
    shapes = [np.shape(a) for a in arrays]
    if any(s != shapes[0] for s in shapes):
        raise ValueError(f"stack: all values must have the same shape, got shapes {shapes}")
    return np.stack(arrays, axis=normalize_axis(axis, len(shapes[0]) + 1)[0])


def _stack_vjp(i: int) -> Callable:
    def vjp(g: Any, out: Any, *args: Any) -> Any:
        ax = normalize_axis(args[-1], len(shape_of(g)))[0]
        return _getitem.poly(g, (slice(None),) * ax + (i,))

    return vjp


stack_op = _variadic(
    "stack",
    _stack_forward,
    _stack_vjp,
    label="stack",
    doc="join same-shaped values along a new axis (numpy.stack)",
    sympy_def=lambda sp, *args: np.stack(args[:-1], axis=args[-1]),
    cases=(
        SymCase(((2, 2), (2, 2)), (0,), note="axis=0"),
        SymCase(((3,), (3,)), (-1,), note="axis=-1"),
    ),
)


def stack(values: Sequence[Any], axis: int = 0) -> Value:
    """Join same-shaped values along a new ``axis``, as ``numpy.stack``.

    >>> import autograd_lite as al
    >>> al.stack([al.Value([1.0, 2.0]), al.Value([3.0, 4.0])], axis=1).data.tolist()
    [[1.0, 3.0], [2.0, 4.0]]
    """
    values = _as_values(values, "stack")
    return with_arity(stack_op, len(values))(*values, axis)


def _split_bounds(size: int, indices_or_sections: Any) -> list[tuple[int, int]]:
    """(start, stop) of each piece, as ``numpy.split`` cuts an axis of length ``size``."""
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0 or size % n:
            raise ValueError(f"split: {size} elements do not split into {n} equal sections")
        step = size // n
        return [(k * step, (k + 1) * step) for k in range(n)]
    cuts = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
    return [(a, max(a, b)) for a, b in itertools.pairwise(cuts)]


def _piece_index(shape: tuple, indices_or_sections: Any, axis: Any, part: int) -> tuple:
    ax = normalize_axis(axis, len(shape))[0]
    start, stop = _split_bounds(shape[ax], indices_or_sections)[part]
    return (slice(None),) * ax + (slice(start, stop),)


def _split_forward(z: Any, indices_or_sections: Any, axis: Any, part: int) -> Any:
    if np.ndim(z) == 0:
        raise ValueError("split: a scalar cannot be split")
    return z[_piece_index(np.shape(z), indices_or_sections, axis, part)]


def _split_vjp(g: Any, out: Any, z: Any, indices_or_sections: Any, axis: Any, part: int) -> Any:
    index = _piece_index(shape_of(z), indices_or_sections, axis, part)
    return _scatter.poly(g, index, shape_of(z), np.asarray(data_of(z)).dtype)


split_op = register(
    Op(
        "split",
        forward=_split_forward,
        vjps=(_split_vjp,),
        label="split",
        params=("indices_or_sections", "axis", "part"),
        doc="piece number `part` of numpy.split(z, indices_or_sections, axis)",
        sympy_def=lambda sp, z, ios, axis, part: np.split(z, ios, axis=axis)[part],
        cases=(
            SymCase(((4, 2),), (2, 0, 1), note="2 sections, second"),
            SymCase(((2, 5),), ((1, 3), -1, 1), note="at indices (1, 3), middle"),
        ),
    )
)


def split(value: Any, indices_or_sections: Any, axis: int = 0) -> list[Value]:
    """Pieces of ``value`` as ``numpy.split``: ``n`` equal sections, or cut at sorted indices.

    >>> import autograd_lite as al
    >>> [p.data.tolist() for p in al.split(al.Value([1.0, 2.0, 3.0, 4.0]), [1, 3])]
    [[1.0], [2.0, 3.0], [4.0]]
    """
    shape = np.shape(data_of(value))
    if not shape:
        raise ValueError("split: a scalar cannot be split")
    ios = indices_or_sections
    if isinstance(ios, (bool, np.bool_)) or not (
        isinstance(ios, (int, np.integer)) or _int_sequence(ios)
    ):
        raise TypeError(
            "split: indices_or_sections must be a number of sections or a list of int "
            f"indices, got {ios!r}"
        )
    if not isinstance(ios, (int, np.integer)):
        ios = tuple(int(i) for i in ios)
    size = shape[normalize_axis(axis, len(shape), "split")[0]]
    return [split_op(value, ios, axis, k) for k in range(len(_split_bounds(size, ios)))]


def _int_sequence(values: Any) -> bool:
    """Whether ``values`` is a list, tuple or 1-d array of ints (no floats, no bools)."""
    if isinstance(values, np.ndarray):
        return values.ndim == 1 and values.dtype.kind in "iu"
    return isinstance(values, (list, tuple)) and all(
        isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)) for i in values
    )


def _pad_widths(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu" or widths.ndim > 2:
        raise ValueError(f"pad: pad_width must be ints as numpy.pad takes them, got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit {ndim} axes") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
    return tuple((int(a), int(b)) for a, b in widths)


def _pad_forward(z: Any, pad_width: Any, constant: float) -> Any:
    if isinstance(constant, (bool, np.bool_)) or not isinstance(
        constant, (int, float, np.integer, np.floating)
    ):  # numpy padded with nan for None, and took arrays and strings its own ways
        raise TypeError(f"pad: constant must be a number, got {constant!r}")
    return np.pad(z, _pad_widths(pad_width, np.ndim(z)), constant_values=constant)


def _pad_vjp(g: Any, out: Any, z: Any, pad_width: Any, constant: float) -> Any:
    shape = shape_of(z)
    widths = _pad_widths(pad_width, len(shape))
    return _getitem.poly(g, tuple(slice(a, a + s) for (a, _), s in zip(widths, shape, strict=True)))


pad = register(
    Op(
        "pad",
        forward=_pad_forward,
        vjps=(_pad_vjp,),
        label="pad",
        params=("pad_width", "constant"),
        defaults={"constant": 0.0},
        keeps_inputs=False,
        doc="surround z with a constant (numpy.pad's pad_width: int, (before, after) or per axis)",
        sympy_def=lambda sp, z, pad_width, constant: np.pad(
            z, _pad_widths(pad_width, np.ndim(z)), constant_values=sp.sympify(constant)
        ),
        cases=(
            SymCase(((2, 2),), (1, 0.0), note="1 all round"),
            SymCase(((2, 3),), (((0, 1), (2, 0)), 0.5), note="per axis, constant 0.5"),
        ),
    )
)


def _squeeze_forward(z: Any, axis: Any) -> Any:
    axes = _axes(axis, z)
    if axes is not None:
        bad = [a for a in axes if np.shape(z)[a] != 1]
        if bad:
            raise ValueError(f"squeeze: axis {bad} of shape {np.shape(z)} has size != 1")
    return np.squeeze(z, axis=axes)


squeeze = register(
    Op(
        "squeeze",
        forward=_squeeze_forward,
        vjps=(lambda g, out, z, axis: _reshape.poly(g, shape_of(z)),),
        label="squeeze",
        params=("axis",),
        defaults={"axis": None},
        doc="drop axes of length 1 (all of them by default)",
        sympy_def=lambda sp, z, axis: np.squeeze(z, axis=axis),
        cases=(SymCase(((2, 1, 3),), (None,)), SymCase(((1, 3, 1),), (-1,), note="axis=-1")),
    )
)


def _expand_forward(z: Any, axis: Any) -> Any:
    return np.expand_dims(z, axis)


expand_dims = register(
    Op(
        "expand_dims",
        forward=_expand_forward,
        vjps=(lambda g, out, z, axis: _reshape.poly(g, shape_of(z)),),
        label="expand dims",
        params=("axis",),
        doc="insert an axis of length 1 at position `axis` (numpy.expand_dims)",
        sympy_def=lambda sp, z, axis: np.expand_dims(z, axis),
        cases=(SymCase(((2, 3),), (1,)), SymCase(((3,),), ((0, 2),), note="two axes")),
    )
)

# numpy-style functions, not methods: `x.where(...)`, `x.concatenate(...)` would read wrongly
for _name in ("where", "concatenate", "stack", "split", "pad"):
    _remove_method(_name)
