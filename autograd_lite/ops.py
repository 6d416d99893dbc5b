"""THE op table: every operation the engine can differentiate, one entry each.

Each entry says, in one place (see :class:`autograd_lite.registry.Op`):

* ``forward``: the numpy computation (``scalar``: a ``math`` fast path for floats);
* ``vjps``: one vector-Jacobian product per input, ``vjp(g, out, *inputs, *params)``,
  written like the math (``g * (1 - out*out)`` for tanh). Names follow
  PyTorch's ``derivatives.yaml``: ``g`` is the gradient of the output, ``out``
  the output, then the inputs and the op's parameters;
* ``label`` for pictures, and for elementwise ops the SymPy ``formula`` in the
  input names (``z`` for one input), with the ``domain`` and ``kinks`` that
  symbolic checks use.

The vjp rules only use operators (``+ - * / @``), methods that numpy arrays and
Values share (``.sum``), constant masks, and ``OP.poly(...)`` calls. So the same
rule computes plain numpy gradients and, with ``backward(create_graph=True)``,
records itself as a graph that can be differentiated again.

Conventions from the lecture: ``step(z) = 1 if z >= 0 else 0`` with derivative 0;
at exactly ``z = 0`` ReLU, leaky ReLU, PReLU and ELU take their ``z >= 0``
branch (derivative 1); ``abs'(0) = 0``; ``max`` splits the gradient evenly
between tied maxima.

To add an activation, add one ``register(Op(...))`` below (see
``docs/adding_an_activation.md``), or call ``al.define_activation`` with a formula.

>>> import autograd_lite as al
>>> z = al.Value(0.0)
>>> z.relu().backward()
>>> z.grad
1.0
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .arguments import is_int
from .registry import Op, SymCase, passthrough, register
from .value import Value

# ---------------------------------------------------------------- helpers


def shape_of(x: Any) -> tuple[int, ...]:
    """Shape of an array, Value or number (``()`` for numbers).

    >>> shape_of(np.zeros((2, 3))), shape_of(1.5)
    ((2, 3), ())
    """
    if type(x) is np.ndarray:
        return x.shape
    if isinstance(x, (np.ndarray, Value)):
        return x.shape
    return np.shape(x)


def data_of(x: Any) -> Any:
    """The numeric data of a Value (for constant masks), or ``x`` itself."""
    return x._data if isinstance(x, Value) else x


def _mask(cond: Any, like: Any = None) -> Any:
    """Boolean condition as 0/1 numbers: a float for scalars, else in the dtype of ``like``.

    >>> _mask(np.array([True, False]), np.zeros(2, dtype=np.float32)).dtype
    dtype('float32')
    """
    if isinstance(cond, (bool, np.bool_)):
        return 1.0 if cond else 0.0
    dtype = data_of(like).dtype if isinstance(data_of(like), np.ndarray) else np.float64
    return cond.astype(dtype)


def _div(x: Any, y: Any) -> Any:
    """``x / y`` that gives inf/nan like numpy instead of ZeroDivisionError on floats."""
    try:
        return x / y
    except ZeroDivisionError:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.divide(x, y))


def normalize_axis(axis: Any, ndim: int, who: str = "") -> tuple[int, ...] | None:
    """``None`` or a sorted tuple of non-negative axes; ``ValueError`` when out of range.

    ``who`` (an op's name) starts the error messages.

    >>> normalize_axis(-1, 3), normalize_axis((0, 2), 3), normalize_axis(None, 2)
    ((2,), (0, 2), None)
    >>> normalize_axis(2, 1, "sum")
    Traceback (most recent call last):
    ...
    ValueError: sum: axis 2 is out of range for a Value with 1 axes
    """
    if axis is None:
        return None
    head = f"{who}: " if who else ""
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{head}axis must be None, an int or a tuple of ints, got {axis!r}")
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, (bool, np.bool_)):
            raise TypeError(f"{head}axis must be an int or tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{head}axis {a} is out of range for a Value with {ndim} axes")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{head}repeated axis in {axis!r}")
    return tuple(sorted(out))


def shape_ints(values: tuple, who: str, what: str = "shape") -> tuple[int, ...]:
    """``values`` (a shape or axes, given unpacked or as one tuple/list) as a tuple of ints.

    Floats are refused, not truncated (numpy refuses them too): ``reshape(2.7, 2)``
    must not become ``reshape(2, 2)``.

    >>> shape_ints((2, np.int64(3)), "reshape"), shape_ints(([4, -1],), "reshape")
    ((2, 3), (4, -1))
    >>> shape_ints((2.7, 2), "reshape")
    Traceback (most recent call last):
    ...
    TypeError: reshape: shape must be ints, got (2.7, 2)
    """
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = tuple(values[0])
    for v in values:
        if not is_int(v):
            raise TypeError(f"{who}: {what} must be ints, got {values!r}")
    return tuple(int(v) for v in values)


def normalize_index(index: Any) -> Any:
    """Index with Values replaced by their data and lists by integer arrays."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Value):
        index = index._data
    if isinstance(index, (list, np.ndarray)):
        # a private read-only array: backward reads the index again, so changing the
        # caller's array (or Value) after the forward pass must not change it
        index = np.array(index)
        if index.dtype.kind == "f":
            if not np.all(index == np.round(index)):
                raise IndexError("getitem: float index arrays must hold whole numbers")
            index = index.astype(np.intp)
        elif index.dtype.kind not in "biu":
            raise IndexError(f"getitem: index array of dtype {index.dtype} is not allowed")
        index.setflags(False)
    elif isinstance(index, float):
        raise IndexError(f"getitem: index {index!r} is a float; use an int")
    return index


def _kept_shape(shape: tuple, axes: tuple | None) -> tuple:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape: tuple, axes: tuple | None) -> int:
    if axes is None:
        return math.prod(shape)
    return math.prod(shape[i] for i in axes)


def _alias(x: Any) -> Any:
    """Identity that returns a view, so the output never *is* the input array."""
    return x.view() if isinstance(x, np.ndarray) else x


# -------------------------------------------------- arithmetic (binary)

add = register(
    Op(
        "add",
        forward=operator.add,
        vjps=(passthrough, passthrough),
        label="+",
        emit=("a + b", "g", "g"),
        formula="a + b",
        keeps_inputs=False,
        doc="a + b, with numpy broadcasting",
    )
)

sub = register(
    Op(
        "sub",
        forward=operator.sub,
        vjps=(passthrough, lambda g, out, a, b: -g),
        label="−",
        emit=("a - b", "g", "-g"),
        formula="a - b",
        keeps_inputs=False,
        doc="a - b, with numpy broadcasting",
    )
)

mul = register(
    Op(
        "mul",
        forward=operator.mul,
        vjps=(lambda g, out, a, b: g * b, lambda g, out, a, b: g * a),
        label="×",
        emit=("a * b", "g * b", "g * a"),
        formula="a * b",
        doc="a * b, with numpy broadcasting",
    )
)


def _div_forward(a: Any, b: Any) -> Any:
    return a / b


div = register(
    Op(
        "div",
        forward=_div_forward,
        scalar=_div,
        vjps=(lambda g, out, a, b: _div(g, b), lambda g, out, a, b: -_div(g * out, b)),
        label="÷",
        emit=("a / b", "g / b", "-(g * out) / b"),
        formula="a / b",
        domain=(0.5, 3.0),
        doc="a / b, with numpy broadcasting",
    )
)


def _pow_scalar(a: float, b: float) -> float:
    try:
        r = a**b
    except ZeroDivisionError:
        r = None
    if type(r) is not float:  # complex result or division by zero: numpy's answer
        with np.errstate(all="ignore"):
            return float(np.power(a, b))
    return r


def _pow_forward(a: Any, b: Any) -> Any:
    return np.power(a, b)


def _pow_vjp_base(g: Any, out: Any, a: Any, b: Any) -> Any:
    # where b == 0, a**b is the constant 1: use a**0 there, so 0 * a**-1 never makes nan at a = 0
    one = _mask(data_of(b) != 0)
    if type(a) is float and type(b) is float:  # negative base, fractional b: nan, not complex
        return g * b * _pow_scalar(a, b - one)
    return g * b * a ** (b - one)


def _pow_vjp_exponent(g: Any, out: Any, a: Any, b: Any) -> Any:
    # where a == 0 (and b > 0), a**b = 0 for every b: slope 0, not 0 * log(0) = nan
    at_zero = _mask(data_of(a) == 0)
    return g * out * log.poly(a + at_zero)


pow = register(
    Op(
        "pow",
        forward=_pow_forward,
        scalar=_pow_scalar,
        vjps=(_pow_vjp_base, _pow_vjp_exponent),
        label="^",
        formula="a ** b",
        domain=(0.5, 3.0),
        doc="a ** b (the exponent may be a Value: its gradient is out·log(a))",
    )
)

neg = register(
    Op(
        "neg",
        forward=operator.neg,
        vjps=(lambda g, out, a: -g,),
        label="−",
        emit=("-z", "-g"),
        formula="-z",
        keeps_inputs=False,
        doc="-z",
    )
)

# --------------------------------------------------------------- matmul


def _matmul_forward(a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        raise ValueError("matmul needs at least 1-D operands (use * for scalars)")
    return np.matmul(a, b)


def _swap_last(x: Any) -> Any:
    n = len(shape_of(x))
    axes = tuple(range(n - 2)) + (n - 1, n - 2)
    return transpose.poly(x, axes)


def _as_matrices(g: Any, a: Any, b: Any) -> tuple[Any, Any, Any]:
    """Lift 1-D operands to matrices (and g to match) so one formula serves all cases."""
    a_vec, b_vec = len(shape_of(a)) == 1, len(shape_of(b)) == 1
    gs = shape_of(g)
    if a_vec:
        a = reshape.poly(a, (1,) + shape_of(a))
    if b_vec:
        b = reshape.poly(b, shape_of(b) + (1,))
    if a_vec and b_vec:
        g = reshape.poly(g, (1, 1))
    elif a_vec:
        g = reshape.poly(g, gs[:-1] + (1,) + gs[-1:])
    elif b_vec:
        g = reshape.poly(g, gs + (1,))
    return g, a, b


def _matmul_vjp_a(g: Any, out: Any, a: Any, b: Any) -> Any:
    if len(shape_of(a)) == 2 and len(shape_of(b)) == 2:
        return g @ b.T  # the common case, without the general lifting below
    a_vec = len(shape_of(a)) == 1
    g2, _, b2 = _as_matrices(g, a, b)
    ga = g2 @ _swap_last(b2)
    if a_vec:  # (..., 1, k) -> (..., k); leading batch axes are summed by the engine
        s = shape_of(ga)
        ga = reshape.poly(ga, s[:-2] + s[-1:])
    return ga


def _matmul_vjp_b(g: Any, out: Any, a: Any, b: Any) -> Any:
    if len(shape_of(a)) == 2 and len(shape_of(b)) == 2:
        return a.T @ g
    b_vec = len(shape_of(b)) == 1
    g2, a2, _ = _as_matrices(g, a, b)
    gb = _swap_last(a2) @ g2
    if b_vec:  # (..., k, 1) -> (..., k)
        gb = reshape.poly(gb, shape_of(gb)[:-1])
    return gb


def _matmul_sympy(sp: Any, a: Any, b: Any) -> Any:
    """matmul on symbols: out[..., i, j] = Σ_k a[..., i, k]·b[..., k, j], vectors lifted."""
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2 = np.broadcast_to(a2, batch + a2.shape[-2:])
    b2 = np.broadcast_to(b2, batch + b2.shape[-2:])
    out = np.empty(batch + (a2.shape[-2], b2.shape[-1]), dtype=object)
    for *lead, i, j in np.ndindex(*out.shape):
        rows, cols = a2[(*lead, i)], b2[(*lead, slice(None), j)]
        out[(*lead, i, j)] = sp.Add(*(rows[k] * cols[k] for k in range(len(rows))))
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


matmul = register(
    Op(
        "matmul",
        forward=_matmul_forward,
        vjps=(_matmul_vjp_a, _matmul_vjp_b),
        label="@",
        emit=("a @ b", "g @ b.T", "a.T @ g"),
        doc="matrix product a @ b (1-D, 2-D and batched, as numpy.matmul)",
        sympy_def=_matmul_sympy,
        cases=(
            SymCase(((2, 3), (3, 2))),
            SymCase(((3,), (3, 2)), note="vector @ matrix"),
            SymCase(((2, 3), (3,)), note="matrix @ vector"),
            SymCase(((3,), (3,)), note="dot product"),
            SymCase(((2, 2, 2), (2, 3)), note="batched, b broadcast over the batch"),
        ),
    )
)

# ------------------------------------------------------- fused layer ops
# One node instead of four for the two workhorses of networks (as PyTorch's
# F.linear and F.cross_entropy). nn.Linear and nn.CrossEntropyLoss use them;
# the lecture's examples keep the explicit `x @ W.T + b` to show each step.


def _dense_forward(x: Any, w: Any, b: Any) -> Any:
    arrays = type(x) is np.ndarray and type(w) is np.ndarray and type(b) is np.ndarray
    if arrays and x.ndim and w.ndim == 2 and b.ndim <= 1:  # checked without np.ndim calls
        out = np.matmul(x, w.T)
        if b.dtype is out.dtype:
            out += b  # into the product: one fresh array per layer, not two
            return out
        return out + b
    if np.ndim(x) < 1 or np.ndim(w) != 2 or np.ndim(b) > 1:
        raise ValueError(
            f"dense needs x (..., in), W (out, in), b (out,) or scalar; got {np.shape(x)}, "
            f"{np.shape(w)}, {np.shape(b)}"
        )
    return np.matmul(x, w.T) + b


def _dense_vjp_x(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    return g @ w


def _dense_vjp_w(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    if type(x) is np.ndarray and x.ndim == 2:  # a batch of rows: the common case, first
        return g.T @ x  # (out, batch) @ (batch, in): contiguous, like W
    gs, xs = shape_of(g), shape_of(x)
    if len(xs) == 2:
        return g.T @ x
    if len(xs) == 1:  # a single example: the outer product g x^T
        return reshape.poly(g, (gs[0], 1)) @ reshape.poly(x, (1, xs[0]))
    g2 = reshape.poly(g, (-1, gs[-1])) if len(gs) > 2 else g
    x2 = reshape.poly(x, (-1, xs[-1])) if len(xs) > 2 else x
    return _swap_last(g2) @ x2  # (out, batch) @ (batch, in): contiguous, like W


def _dense_sympy(sp: Any, x: Any, w: Any, b: Any) -> Any:
    """out[..., o] = Σ_i x[..., i]·W[o, i] + b[o] on symbols."""
    out = np.empty(x.shape[:-1] + w.shape[:1], dtype=object)
    bias = np.broadcast_to(b, w.shape[:1])
    for *lead, o in np.ndindex(*out.shape):
        row = x[tuple(lead)]
        out[(*lead, o)] = sp.Add(*(row[i] * w[o, i] for i in range(w.shape[1]))) + bias[o]
    return out


_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _sum_along(a: np.ndarray, axis: int) -> np.ndarray:
    """``Σ`` over ``axis`` (0 or 1) of a 2-D array as ``ones @ a`` / ``a @ ones``.

    BLAS's matrix-vector product is 2-3x faster than ``np.add.reduce``: down the
    columns (a batch's bias gradient; 128x128 float32: 1.6 against 4.4 µs; 512x1024:
    47 against 86 µs) and along short rows (log_softmax's backward over 10 classes),
    and as accurate (float32: 2e-7 against 6e-7 relative to a float64 sum). Other
    dtypes, and more than 4096 terms, go to ``np.add.reduce``.

    >>> x = np.arange(6.0).reshape(3, 2)
    >>> _sum_along(x, 0).tolist(), _sum_along(x, 1).tolist()
    ([6.0, 9.0], [1.0, 5.0, 9.0])
    """
    n = a.shape[axis]
    if a.dtype in _BLAS_DTYPES and n <= 4096:
        ones = _ones((n,), a.dtype)
        return ones @ a if axis == 0 else a @ ones
    return np.add.reduce(a, axis=axis)


def _dense_vjp_b(g: Any, out: Any, x: Any, w: Any, b: Any) -> Any:
    if type(g) is np.ndarray and type(b) is np.ndarray and g.ndim == 2 and b.ndim == 1:
        return _sum_along(g, 0)  # a batch's bias gradient
    return sum_to.poly(g, shape_of(b))


dense = register(
    Op(
        "dense",
        forward=_dense_forward,
        vjps=(_dense_vjp_x, _dense_vjp_w, _dense_vjp_b),
        label="x·Wᵀ + b",
        emit=("x @ W.T + b", "g @ W", "g.T @ x", "g"),
        inputs=("x", "W", "b"),
        doc="fully connected layer x @ W.T + b in one node (what nn.Linear computes)",
        sympy_def=_dense_sympy,
        cases=(
            SymCase(((2, 3), (2, 3), (2,)), note="a batch"),
            SymCase(((3,), (2, 3), (2,)), note="one example"),
            SymCase(((2, 2), (3, 2), ()), note="scalar bias"),
        ),
    )
)


_UNSIGNED = {np.dtype(f"i{k}"): np.dtype(f"u{k}") for k in (1, 2, 4, 8)}


def _labels(labels: Any, logits_shape: tuple) -> np.ndarray:
    """The labels as an integer array of shape ``(batch,)``, each in ``[0, classes)``.

    The range takes one reduction, not two: signed labels are read as unsigned
    (a view, no copy), so a negative one becomes huge and fails the same
    ``max() < classes`` test as one that is too large.
    """
    lab = labels if type(labels) is np.ndarray else np.asarray(data_of(labels))
    if len(logits_shape) != 2:
        raise ValueError(
            f"cross_entropy needs logits of shape (batch, classes), got {logits_shape}"
        )
    if lab.shape != logits_shape[:1]:
        raise ValueError(
            f"cross_entropy: labels of shape {lab.shape} do not match logits {logits_shape}"
        )
    kind = lab.dtype.kind
    if kind not in "iu":
        if kind == "f" and np.all(lab == np.round(lab)):
            lab = lab.astype(np.intp)
        else:
            raise TypeError(f"cross_entropy: labels must be integers, got dtype {lab.dtype}")
    unsigned = lab
    if lab.dtype.kind == "i":
        as_unsigned = _UNSIGNED.get(lab.dtype)  # (a dtype object: parsing "u8" costs 0.3 µs)
        unsigned = lab.view(lab.dtype.str.replace("i", "u") if as_unsigned is None else as_unsigned)
    if lab.size and not np.maximum.reduce(unsigned) < logits_shape[1]:
        raise ValueError(
            f"cross_entropy: labels must lie in [0, {logits_shape[1] - 1}], "
            f"got {lab.min()}..{lab.max()}"
        )
    return lab


def _reduce(per_example: Any, reduction: str) -> Any:
    if reduction == "none":
        return per_example
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    total = np.add.reduce(per_example)
    if reduction == "mean":
        total = total / len(per_example)
    # float64 becomes a Python float on the engine's fast path; a float32 loss is handed
    # over as the 0-d array a Value holds (a numpy scalar takes as_data's slower checks)
    return total if type(total) is np.float64 else np.asarray(total)


_ROWS: dict[int, np.ndarray] = {}


def _rows(n: int) -> np.ndarray:
    """``np.arange(n)`` (read-only, made once per batch size): the rows of a label lookup."""
    rows = _ROWS.get(n)
    if rows is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        rows = _ROWS[n] = np.arange(n)
        rows.setflags(False)
    return rows


# What the latest cross-entropy forward leaves for its backward (usually the very next
# one): [logits array, labels object, softmax, flat index of the labels' entries in it,
# transposed?]. The backward takes it when it gets the same logits and labels objects:
# the logits are read-only while the node lives, the labels the node's own.
_CE_SAVED: list = [None, None, None, None, False]


# Up to this many classes, cross_entropy works on the transposed logits (classes, batch):
# numpy reduces a short last axis (10 classes) row by row, 4-5x slower than the same
# reduction down the first axis of a contiguous copy (a 128x10 row max: 9 µs against
# 0.7 µs for the copy + 1.8 µs). From a few hundred classes the rows are long enough.
_CE_TRANSPOSED_UP_TO = 128


def _cross_entropy_forward(z: Any, labels: Any, reduction: str) -> Any:
    if type(z) is not np.ndarray:
        z = np.asarray(z)
    lab = _labels(labels, z.shape).astype(np.intp, copy=False)  # (label * n: no overflow)
    n, classes = z.shape
    # The labels' entries are read (and in the backward, changed) through one flat index
    # into the contiguous softmax: a plain take, 3x cheaper than a pair of index arrays.
    transposed = classes <= _CE_TRANSPOSED_UP_TO
    if transposed:  # the same steps on a (classes, batch) copy, reduced down axis 0
        t = z.T.copy()  # always a copy (a (1, C) batch transposes without one)
        t -= np.maximum.reduce(t, axis=0)
        flat = lab * n + _rows(n)
    else:
        t = z - np.maximum.reduce(z, axis=1, keepdims=True)
        flat = _rows(n) * classes + lab
    picked = t.ravel()[flat]  # the shifted logit of each example's label
    np.exp(t, out=t)  # in place: the shifted logits are not needed again
    total = np.add.reduce(t, axis=0 if transposed else 1)
    t /= total if transposed else total[:, None]  # the softmax, kept for the backward
    np.log(total, out=total)
    total -= picked  # -log softmax at each label
    _CE_SAVED[:] = z, labels, t, flat, transposed
    return _reduce(total, reduction)


def _cross_entropy_vjp(g: Any, out: Any, z: Any, labels: Any, reduction: str) -> Any:
    shape = shape_of(z)
    if isinstance(z, np.ndarray):  # plain backward: softmax, minus 1 at the labels, in place
        saved = _CE_SAVED
        if saved[0] is z and saved[1] is labels:
            diff, flat = saved[2], saved[3]
            diff.ravel()[flat] -= 1  # (contiguous: ravel is a view)
            if saved[4]:
                diff = diff.T  # (batch, classes) again
            saved[:] = None, None, None, None, False  # used up (changed in place)
        else:
            diff = _softmax_forward(z, 1)
            diff[_rows(shape[0]), _vjp_labels(labels)] -= 1
        if reduction != "none":  # a scalar gradient scales our own fresh array in place
            diff *= g * (1.0 / shape[0]) if reduction == "mean" else g
            return diff
    else:  # recorded backward: the same formula as a differentiable graph
        onehot = np.zeros(shape, dtype=np.asarray(data_of(z)).dtype)
        onehot[_rows(shape[0]), _vjp_labels(labels)] = 1
        diff = softmax.poly(z, 1) - onehot  # d(-log softmax_y)/dz = softmax - onehot
    if reduction == "none":
        return reshape.poly(g, (shape[0], 1)) * diff
    if reduction == "mean":
        return diff * (g * (1.0 / shape[0]))
    return diff * g


def _vjp_labels(labels: Any) -> np.ndarray:
    """The labels as integer indices (validated by the forward pass)."""
    lab = np.asarray(data_of(labels))
    return lab.astype(np.intp) if lab.dtype.kind == "f" else lab  # whole numbers as floats


def _cross_entropy_sympy(sp: Any, z: Any, labels: Any, reduction: str) -> Any:
    """loss_n = log Σ_c e^z[n, c] − z[n, label_n], then mean, sum or none."""
    per = [
        sp.log(sp.Add(*(sp.exp(v) for v in row))) - row[int(y)]
        for row, y in zip(z, np.reshape(labels, -1))
    ]
    if reduction == "none":
        return np.array(per, dtype=object)
    return sp.Add(*per) / (len(per) if reduction == "mean" else 1)


cross_entropy = register(
    Op(
        "cross_entropy",
        forward=_cross_entropy_forward,
        vjps=(_cross_entropy_vjp,),
        label="cross-entropy",
        params=("labels", "reduction"),
        defaults={"reduction": "mean"},
        keeps_inputs=True,
        doc="softmax cross-entropy of logits (batch, classes) against integer labels, stable",
        sympy_def=_cross_entropy_sympy,
        cases=(
            SymCase(((2, 3),), ((2, 0), "mean"), note="mean"),
            SymCase(((2, 3),), ((1, 1), "sum"), note="sum, repeated label"),
            SymCase(((3, 2),), ((0, 1, 1), "none"), note="none"),
        ),
    )
)

# ------------------------------------------------------- elementwise math


def _exp_scalar(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


exp = register(
    Op(
        "exp",
        forward=np.exp,
        scalar=_exp_scalar,
        vjps=(lambda g, out, z: g * out,),
        label="exp",
        emit=("np.exp(z)", "g * out"),
        formula="exp(z)",
        keeps_inputs=False,
        doc="e to the power z",
    )
)


def _log_scalar(x: float) -> float:
    if x > 0:
        return math.log(x)
    with np.errstate(all="ignore"):
        return float(np.log(x))


log = register(
    Op(
        "log",
        forward=np.log,
        scalar=_log_scalar,
        vjps=(lambda g, out, z: _div(g, z),),
        label="log",
        emit=("np.log(z)", "g / z"),
        formula="log(z)",
        domain=(0.2, 5.0),
        doc="natural logarithm",
    )
)


def _sqrt_scalar(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


sqrt = register(
    Op(
        "sqrt",
        forward=np.sqrt,
        scalar=_sqrt_scalar,
        vjps=(lambda g, out, z: _div(0.5 * g, out),),
        label="√",
        emit=("np.sqrt(z)", "0.5 * g / out"),
        formula="sqrt(z)",
        keeps_inputs=False,
        domain=(0.2, 5.0),
        doc="square root",
    )
)

abs = register(
    Op(
        "abs",
        forward=np.abs,
        scalar=math.fabs,
        vjps=(lambda g, out, z: g * np.sign(data_of(z)),),
        label="|z|",
        formula="Abs(z)",
        kinks=(0.0,),
        doc="absolute value; abs'(0) = 0",
    )
)

# ------------------------------------------------------------ activations

linear = register(
    Op(
        "linear",
        forward=_alias,
        scalar=lambda z: z,
        vjps=(passthrough,),
        label="linear",
        formula="z",
        doc="identity activation φ(z) = z (regression outputs)",
    )
)


def _step_forward(z: Any) -> Any:
    return (z >= 0).astype(z.dtype) if isinstance(z, np.ndarray) else float(z >= 0)


step = register(
    Op(
        "step",
        forward=_step_forward,
        scalar=lambda z: 1.0 if z >= 0 else 0.0,
        vjps=(lambda g, out, z: g * 0.0,),
        label="step",
        formula="Heaviside(z, 1)",
        keeps_inputs=False,
        kinks=(0.0,),
        doc="binary step: 1 if z >= 0 else 0; derivative 0 (the perceptron's activation)",
    )
)


def _sigmoid_forward(z: Any) -> Any:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.result_type(z, 0.0))


def _sigmoid_scalar(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


sigmoid = register(
    Op(
        "sigmoid",
        forward=_sigmoid_forward,
        scalar=_sigmoid_scalar,
        vjps=(lambda g, out, z: g * out * (1 - out),),
        label="σ",
        emit=(None, "g * out * (1 - out)"),
        formula="1/(1 + exp(-z))",
        keeps_inputs=False,
        domain=(-6.0, 6.0),
        doc="logistic sigmoid σ(z) = 1/(1+e^-z); σ' = σ(1-σ)",
    )
)

tanh = register(
    Op(
        "tanh",
        forward=np.tanh,
        scalar=math.tanh,
        # g(1 - out²) without an array-scalar op; g - out² when g is sum's ones
        vjps=(lambda g, out, z: g - out * out if id(g) in _ONE_IDS else g - g * out * out,),
        label="tanh",
        emit=("np.tanh(z)", "g * (1 - out * out)"),
        formula="tanh(z)",
        keeps_inputs=False,
        doc="hyperbolic tangent; tanh' = 1 - tanh²",
    )
)


def _relu_forward(z: Any) -> Any:
    return np.maximum(z, 0)


relu = register(
    Op(
        "relu",
        forward=_relu_forward,
        scalar=lambda z: z if z > 0 else 0.0,
        vjps=(lambda g, out, z: g * (z >= 0),),  # a bool mask keeps g's dtype
        label="ReLU",
        emit=("np.maximum(z, 0)", "g * (z >= 0)"),
        formula="Piecewise((z, z >= 0), (0, True))",
        kinks=(0.0,),
        doc="rectified linear unit max(0, z); derivative 1 at z = 0 (the lecture's convention)",
    )
)


def _leaky_forward(z: Any, alpha: float) -> Any:
    return np.where(z >= 0, z, alpha * z).astype(np.result_type(z, 0.0))


def _leaky_vjp(g: Any, out: Any, z: Any, alpha: float) -> Any:
    m = _mask(z >= 0, z)
    return g * (m + (1 - m) * alpha)


leaky_relu = register(
    Op(
        "leaky_relu",
        forward=_leaky_forward,
        scalar=lambda z, alpha: z if z >= 0 else alpha * z,
        vjps=(_leaky_vjp,),
        label="leaky ReLU",
        formula="Piecewise((z, z >= 0), (alpha*z, True))",
        params=("alpha",),
        defaults={"alpha": 0.01},
        kinks=(0.0,),
        doc="leaky ReLU: z if z >= 0 else alpha·z (alpha = 0.01)",
    )
)


def _prelu_vjp_z(g: Any, out: Any, z: Any, alpha: Any) -> Any:
    m = _mask(z >= 0, z)
    return g * (m + (1 - m) * alpha)


def _prelu_vjp_alpha(g: Any, out: Any, z: Any, alpha: Any) -> Any:
    return g * (1 - _mask(z >= 0, z)) * z


prelu = register(
    Op(
        "prelu",
        forward=lambda z, alpha: np.where(z >= 0, z, alpha * z).astype(
            np.result_type(z, alpha, 0.0)
        ),
        scalar=lambda z, alpha: z if z >= 0 else alpha * z,
        vjps=(_prelu_vjp_z, _prelu_vjp_alpha),
        label="PReLU",
        formula="Piecewise((z, z >= 0), (alpha*z, True))",
        inputs=("z", "alpha"),
        kinks=(0.0,),
        doc="parametric ReLU: z if z >= 0 else alpha·z, alpha a learnable Value",
    )
)


def _elu_forward(z: Any, alpha: float) -> Any:
    return np.where(z >= 0, z, alpha * np.expm1(np.minimum(z, 0))).astype(np.result_type(z, 0.0))


def _elu_scalar(z: float, alpha: float) -> float:
    return z if z >= 0 else alpha * math.expm1(z)


def _elu_vjp(g: Any, out: Any, z: Any, alpha: float) -> Any:
    m = _mask(z >= 0, z)
    return g * (m + (1 - m) * (out + alpha))  # for z < 0: d/dz α(e^z - 1) = out + α


elu = register(
    Op(
        "elu",
        forward=_elu_forward,
        scalar=_elu_scalar,
        vjps=(_elu_vjp,),
        label="ELU",
        formula="Piecewise((z, z >= 0), (alpha*(exp(z) - 1), True))",
        params=("alpha",),
        defaults={"alpha": 1.0},
        kinks=(0.0,),
        doc="exponential linear unit: z if z >= 0 else alpha·(e^z - 1)",
    )
)


def _swish_vjp(g: Any, out: Any, z: Any) -> Any:
    s = sigmoid.poly(z)
    return g * (out + s * (1 - out))  # d/dz zσ(z) = σ + zσ(1-σ) = out + σ(1 - out)


swish = register(
    Op(
        "swish",
        forward=lambda z: z * _sigmoid_forward(z),
        scalar=lambda z: z * _sigmoid_scalar(z),
        vjps=(_swish_vjp,),
        label="swish",
        formula="z/(1 + exp(-z))",
        doc="swish z·σ(z)",
    )
)


def _softplus_scalar(z: float) -> float:
    return (z if z > 0.0 else 0.0) + math.log1p(math.exp(-math.fabs(z)))


softplus = register(
    Op(
        "softplus",
        forward=lambda z: np.logaddexp(0, z).astype(np.result_type(z, 0.0)),
        scalar=_softplus_scalar,
        vjps=(lambda g, out, z: g * sigmoid.poly(z),),
        label="softplus",
        formula="log(1 + exp(z))",
        doc="softplus log(1 + e^z), computed stably; its derivative is σ(z)",
    )
)

# ------------------------------------------------------ softmax family


def _softmax_forward(z: Any, axis: int) -> Any:
    z = np.asarray(z)
    if not z.size:  # empty, as PyTorch's (numpy's max of an empty axis raises)
        normalize_axis(axis, z.ndim, "softmax")
        return z.astype(np.result_type(z, 0.0))
    e = np.exp(z - np.maximum.reduce(z, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def _softmax_vjp(g: Any, out: Any, z: Any, axis: int) -> Any:
    return out * (g - (g * out).sum(axis=axis, keepdims=True))


def _softmax_sympy(sp: Any, z: Any, axis: int) -> Any:
    from .sympy_arrays import elementwise, reduce

    e = elementwise(sp.exp, z)
    return e / reduce(e, sp.Add, axis, keepdims=True)


softmax = register(
    Op(
        "softmax",
        forward=_softmax_forward,
        vjps=(_softmax_vjp,),
        label="softmax",
        params=("axis",),
        defaults={"axis": -1},
        keeps_inputs=False,
        doc="softmax along axis: e^z_i / Σ_j e^z_j (shifted by the max, so stable)",
        sympy_def=_softmax_sympy,
        cases=(
            SymCase(((2, 3),), note="axis=-1"),
            SymCase(((2, 3),), (0,), note="axis=0"),
            SymCase(((3,),), note="a vector"),
        ),
    )
)


def _log_softmax_forward(z: Any, axis: int) -> Any:
    z = np.asarray(z)
    if not z.size:  # empty, as PyTorch's (numpy's max of an empty axis raises)
        normalize_axis(axis, z.ndim, "log_softmax")
        return z.astype(np.result_type(z, 0.0))
    if z.ndim == 2 and axis in (1, -1) and z.shape[1] <= _CE_TRANSPOSED_UP_TO:
        # a batch of short rows (logits): reduce down the columns of a transposed copy,
        # as cross_entropy does, and give the result back in the logits' own layout
        t = z.T.copy()  # always a copy (a (1, C) batch transposes without one)
        t -= np.maximum.reduce(t, axis=0)
        t -= np.log(np.add.reduce(np.exp(t), axis=0))
        return np.ascontiguousarray(t.T)
    shifted = z - np.maximum.reduce(z, axis=axis, keepdims=True)
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_vjp(g: Any, out: Any, z: Any, axis: int) -> Any:
    if type(g) is np.ndarray and g.ndim == 2 and axis in (1, -1):
        # the row sums of g by BLAS: it beats numpy's reduction over a short last axis 2-3x
        return g - np.exp(out) * _sum_along(g, 1)[:, None]
    return g - exp.poly(out) * g.sum(axis=axis, keepdims=True)


def _log_softmax_sympy(sp: Any, z: Any, axis: int) -> Any:
    from .sympy_arrays import elementwise, reduce

    return z - elementwise(sp.log, reduce(elementwise(sp.exp, z), sp.Add, axis, keepdims=True))


log_softmax = register(
    Op(
        "log_softmax",
        forward=_log_softmax_forward,
        vjps=(_log_softmax_vjp,),
        label="log softmax",
        params=("axis",),
        defaults={"axis": -1},
        keeps_inputs=False,
        doc="log of softmax along axis, computed stably (z - max - log Σ e^(z - max))",
        sympy_def=_log_softmax_sympy,
        cases=(
            SymCase(((2, 3),), note="axis=-1"),
            SymCase(((2, 3),), (0,), note="axis=0"),
        ),
    )
)

# -------------------------------------------------------------- reductions


_ONES: dict[tuple, np.ndarray] = {}  # float64 by shape, others by (shape, dtype): see _ones_key
_ONE_IDS: set[int] = set()  # id() of every array in _ONES (all alive: _ONES holds them)
_F64 = np.dtype(np.float64)


def _ones_key(shape: tuple, dtype: np.dtype) -> tuple:
    """The cache key of ``_ones``: the shape alone for float64 (a dtype's hash is slow)."""
    return shape if dtype is _F64 else (shape, dtype)


def _ones(shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A shared read-only array of ones (gradients are never changed in place).

    Small arrays only (at most 64 of up to 4096 elements are kept): for large ones
    filling memory costs more than the call, and a cache would only hold memory.
    """
    key = _ones_key(shape, dtype)
    ones = _ONES.get(key)
    if ones is None:
        if len(_ONES) >= 64:
            _ONES.clear()
            _ONE_IDS.clear()
        ones = np.ones(shape, dtype)
        ones.setflags(False)
        _ONES[key] = ones
        _ONE_IDS.add(id(ones))
    return ones


def is_ones(g: Any) -> bool:
    """True if ``g`` is a gradient of ones that ``sum``'s vjp handed out (``loss.sum()``).

    A vjp may then drop its multiplication by ``g``: tanh's ``g - g·out²``
    becomes ``g - out²``, one array operation less on the most common backward.

    >>> is_ones(_ones((2,), np.dtype(np.float64))), is_ones(np.ones(2))
    (True, False)
    """
    return id(g) in _ONE_IDS


def _sum_vjp(g: Any, out: Any, z: Any, axis: Any, keepdims: bool) -> Any:
    if type(g) is float and g == 1.0 and axis is None and type(z) is np.ndarray:
        # the seed of loss.sum(): d(loss.sum())/d(loss) is all ones (checked first: a
        # backward from a scalar loss starts here)
        dtype = z.dtype
        ones = _ONES.get(z.shape if dtype is _F64 else (z.shape, dtype))  # (_ones_key inline)
        if ones is not None:
            return ones
        if z.size <= 4096:
            return _ones(z.shape, z.dtype)
    if axis is None and type(z) is np.ndarray and not isinstance(g, Value):
        # the full sum of an array, straight to numpy
        if (type(g) is float or g.ndim == 0) and g == 1.0 and z.size <= 4096:
            return _ones(z.shape, z.dtype)
        full = np.empty(z.shape, z.dtype)
        full[...] = g
        return full
    shape = shape_of(z)
    if not keepdims and axis is not None:
        g = reshape.poly(g, _kept_shape(shape, axis))
    return broadcast_to.poly(g, shape)


_REDUCTION_CASES = (  # where sum and mean are checked against SymPy
    SymCase(((2, 3),), note="all axes"),
    SymCase(((2, 3),), ((0,),), note="axis=0"),
    SymCase(((2, 3),), ((1,), True), note="axis=1, keepdims"),
    SymCase(((2, 1, 2),), ((0, 2),), note="axes (0, 2)"),
)


def _sum_sympy(sp: Any, z: Any, axis: Any, keepdims: bool) -> Any:
    from .sympy_arrays import reduce

    return reduce(z, sp.Add, axis, keepdims)


sum = register(
    Op(
        "sum",
        forward=lambda z, axis, keepdims: np.add.reduce(z, axis, None, None, keepdims),
        vjps=(_sum_vjp,),
        label="Σ",
        emit=("np.add.reduce(z, axis, keepdims=keepdims)", "g"),
        params=("axis", "keepdims"),
        defaults={"axis": None, "keepdims": False},
        keeps_inputs=False,
        doc="sum over axis (all axes by default)",
        sympy_def=_sum_sympy,
        cases=_REDUCTION_CASES,
    )
)


def _mean_vjp(g: Any, out: Any, z: Any, axis: Any, keepdims: bool) -> Any:
    return _sum_vjp(g, out, z, axis, keepdims) * (1.0 / _count(shape_of(z), axis))


def _mean_sympy(sp: Any, z: Any, axis: Any, keepdims: bool) -> Any:
    from .sympy_arrays import reduce

    return reduce(z, lambda *v: sp.Add(*v) / len(v), axis, keepdims)


mean = register(
    Op(
        "mean",
        forward=lambda z, axis, keepdims: (
            np.add.reduce(z, axis=axis, keepdims=keepdims) / _count(np.shape(z), axis)
        ),
        vjps=(_mean_vjp,),
        label="mean",
        params=("axis", "keepdims"),
        defaults={"axis": None, "keepdims": False},
        keeps_inputs=False,
        doc="mean over axis (all axes by default)",
        sympy_def=_mean_sympy,
        cases=_REDUCTION_CASES,
    )
)


def _max_forward(z: Any, axis: Any, keepdims: bool) -> Any:
    if np.size(z) == 0:
        raise ValueError("max of an empty Value")
    return np.maximum.reduce(z, axis=axis, keepdims=keepdims)


def _max_vjp(g: Any, out: Any, z: Any, axis: Any, keepdims: bool) -> Any:
    zd = np.asarray(data_of(z))
    kept = _kept_shape(zd.shape, axis)
    hit = (zd == np.reshape(data_of(out), kept)).astype(zd.dtype)
    share = hit / hit.sum(axis=axis, keepdims=True)  # ties split the gradient evenly
    if not keepdims:
        g = reshape.poly(g, kept)
    return g * share


def _max_sympy(sp: Any, z: Any, axis: Any, keepdims: bool) -> Any:
    from .sympy_arrays import reduce

    return reduce(z, sp.Max, axis, keepdims)


max = register(
    Op(
        "max",
        forward=_max_forward,
        vjps=(_max_vjp,),
        label="max",
        params=("axis", "keepdims"),
        defaults={"axis": None, "keepdims": False},
        doc="maximum over axis; tied maxima share the gradient evenly",
        sympy_def=_max_sympy,
        cases=(
            SymCase(
                ((2, 3),), note="all axes; a tie", points=(([[1.0, 1.0, 0.5], [0.0, -1.0, 0.2]],),)
            ),
            SymCase(((2, 3),), ((1,),), note="axis=1"),
            SymCase(((2, 3),), ((0,), True), note="axis=0, keepdims"),
        ),
    )
)

# ------------------------------------------------------- shape & indexing

reshape = register(
    Op(
        "reshape",
        forward=lambda z, shape: (
            z.reshape(shape) if type(z) is np.ndarray else np.reshape(z, shape)
        ),
        vjps=(lambda g, out, z, shape: reshape.poly(g, shape_of(z)),),
        label="reshape",
        params=("shape",),
        doc="same data, new shape",
        sympy_def=lambda sp, z, shape: z.reshape(shape),
        cases=(
            SymCase(((2, 3),), ((3, 2),)),
            SymCase(((2, 3),), ((6,),), note="flatten"),
            SymCase(((4,),), ((2, -1),), note="-1 inferred"),
        ),
    )
)


def _inverse_perm(axes: tuple) -> tuple:
    return tuple(int(i) for i in np.argsort(axes))


transpose = register(
    Op(
        "transpose",
        forward=lambda z, axes: (
            z.transpose(axes) if type(z) is np.ndarray else np.transpose(z, axes)
        ),
        vjps=(lambda g, out, z, axes: transpose.poly(g, _inverse_perm(axes)),),
        label="transpose",
        params=("axes",),
        doc="permute axes",
        sympy_def=lambda sp, z, axes: z.transpose(axes),
        cases=(
            SymCase(((2, 3),), ((1, 0),)),
            SymCase(((2, 1, 3),), ((2, 0, 1),), note="3 axes"),
        ),
    )
)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(i, (np.ndarray, list)) for i in items)


def _getitem_forward(z: Any, index: Any) -> Any:
    if not isinstance(z, np.ndarray):
        raise IndexError("getitem: a scalar Value cannot be indexed")
    return z[index]


def _scatter_forward(g: Any, index: Any, shape: tuple, dtype: Any) -> Any:
    out = np.zeros(shape, dtype=dtype)
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)  # repeated indices add up
    return out


def _scatter_sympy(sp: Any, x: Any, index: Any, shape: tuple, dtype: Any) -> Any:
    """out[p] = Σ of the x elements that `index` sends to flat position p (repeats add)."""
    from .sympy_arrays import zeros

    out = zeros(shape).reshape(-1)
    positions = np.arange(math.prod(shape)).reshape(shape)[index]
    for p, v in zip(np.reshape(positions, -1), np.broadcast_to(x, np.shape(positions)).reshape(-1)):
        out[p] = out[p] + v
    return out.reshape(shape)


index_scatter = register(
    Op(
        "index_scatter",
        forward=_scatter_forward,
        vjps=(lambda g, out, x, index, shape, dtype: getitem.poly(g, index),),
        label="scatter",
        params=("index", "shape", "dtype"),
        keeps_inputs=False,
        doc="zeros of `shape` with x added at `index` (the gradient of indexing)",
        sympy_def=_scatter_sympy,
        cases=(
            SymCase(((2,),), (np.array([0, 2]), (3,), np.float64), note="integer index"),
            SymCase(((3,),), (np.array([1, 1, 0]), (3,), np.float64), note="repeated index"),
            SymCase(((3,),), ((slice(None), 1), (3, 2), np.float64), note="basic index"),
        ),
    )
)


def _getitem_vjp(g: Any, out: Any, z: Any, index: Any) -> Any:
    return index_scatter.poly(g, index, shape_of(z), np.asarray(data_of(z)).dtype)


getitem = register(
    Op(
        "getitem",
        forward=_getitem_forward,
        vjps=(_getitem_vjp,),
        label="[ ]",
        params=("index",),
        doc="indexing and slicing (basic and integer-array)",
        sympy_def=lambda sp, z, index: z[index],
        cases=(
            SymCase(((3,),), (1,), note="one element"),
            SymCase(((2, 3),), ((slice(None), slice(0, 2)),), note="a slice"),
            SymCase(((3,),), (np.array([0, 2, 0]),), note="repeated integer index"),
            SymCase(((2, 3),), ((np.array([1, 0]), np.array([2, 2])),), note="fancy 2-D"),
        ),
    )
)


def _broadcast_forward(z: Any, shape: tuple) -> Any:
    dtype = z.dtype if type(z) is np.ndarray else np.result_type(z)
    out = np.empty(shape, dtype=dtype)  # a fresh array, filled in C (fast)
    out[...] = z
    return out


broadcast_to = register(
    Op(
        "broadcast_to",
        forward=_broadcast_forward,
        vjps=(lambda g, out, z, shape: sum_to.poly(g, shape_of(z)),),
        label="broadcast",
        params=("shape",),
        keeps_inputs=False,
        doc="repeat data along new or size-1 axes to `shape`",
        sympy_def=lambda sp, z, shape: np.broadcast_to(z, shape),
        cases=(
            SymCase(((3,),), ((2, 3),), note="new leading axis"),
            SymCase(((2, 1),), ((2, 3),), note="size-1 axis"),
            SymCase(((),), ((2,),), note="a scalar"),
        ),
    )
)


def _sum_to_forward(z: Any, shape: tuple) -> Any:
    if type(z) is not np.ndarray:
        z = np.asarray(z)
    if z.ndim == 2 and len(shape) == 1 and z.shape[1] == shape[0]:  # a batch's bias gradient
        return _sum_along(z, 0)
    if z.shape == tuple(shape):
        return z.copy()  # never alias the input: the output is made read-only when recorded
    lead = z.ndim - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to: cannot reduce shape {z.shape} to {tuple(shape)}")
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and z.shape[i + lead] != 1
    )
    out = np.add.reduce(z, axis=axes, keepdims=True) if axes else z
    return out.reshape(shape)


def _sum_to_sympy(sp: Any, z: Any, shape: tuple) -> Any:
    """out[j] = Σ of the z elements that broadcasting `shape` to z's shape copies from j."""
    from .sympy_arrays import zeros

    out = zeros(shape)
    lead = z.ndim - len(shape)
    for idx in np.ndindex(*z.shape):
        j = tuple(0 if s == 1 else i for i, s in zip(idx[lead:], shape))
        out[j] = out[j] + z[idx]
    return out


sum_to = register(
    Op(
        "sum_to",
        forward=_sum_to_forward,
        vjps=(lambda g, out, z, shape: broadcast_to.poly(g, shape_of(z)),),
        label="sum to",
        params=("shape",),
        keeps_inputs=False,
        doc="sum a broadcast array back to `shape` (the gradient of broadcasting)",
        sympy_def=_sum_to_sympy,
        cases=(
            SymCase(((2, 3),), ((3,),), note="leading axis"),
            SymCase(((2, 3),), ((2, 1),), note="size-1 axis"),
            SymCase(((2, 3),), ((1, 3),), note="kept leading axis"),
            SymCase(((2, 3),), ((2, 3),), note="same shape"),
        ),
    )
)

# More entries, in modules of their own: elementwise extras, reductions and structure;
# convolution, pooling and dropout (SPEC §7); the fused LSTM layer. Importing them
# registers them.
from . import array_ops, image_ops, pool_ops, recurrent_ops  # noqa: E402, F401
