"""Op-table entries for pooling images (NCHW, as PyTorch): max, average, unpooling.

The pools reduce the windows of :func:`autograd_lite.image_ops.windows` (a strided
view, no copy) one kernel offset at a time. Every backward is itself a table op, so
``backward(create_graph=True)`` records it and it can be differentiated again:

* the average pool: ``∂x = window_scatter2d(g, weights)`` (each output's gradient
  spread over its window, weighted by ``1/divisor``), whose vjp is ``window_sum2d``
  (the weighted window sum) and back. Both take the pool's ``padding``: the scatter
  adds into the padded input and cuts the border off, the sum zero-pads first;
* the max pool: ``∂x = index_scatter2d(g, indices)``, each window's gradient added at
  its first maximum (the flat index ``return_indices=True`` returns, as PyTorch),
  whose vjp is ``index_gather2d`` (read at the indices) and back; ``max_unpool2d`` is
  ``index_scatter2d`` keeping the last of repeated indices instead of adding;
* ``adaptive_avg_pool2d`` is separable: each output plane is ``A_h @ x @ A_wᵀ`` with
  one averaging matrix per axis, so its gradient is ``plane_matmul2d`` with the
  transposed matrices (and that op is its own vjp's).

Pool padding follows PyTorch: ``max_pool2d`` pads with −inf (padding never
wins a max), ``avg_pool2d`` pads with zeros and counts them in the mean
(``count_include_pad=True``; ``False`` divides by the input elements only;
``divisor_override`` by itself); padding may be at most half the kernel size.
``ceil_mode`` windows that hang over the bottom/right edge become windows of an
input padded a little more on that side, so the window ops take the padding per
side; the average's divisor is then one weight per window.

>>> import numpy as np, autograd_lite as al
>>> x = al.Value(np.arange(16.0).reshape(1, 1, 4, 4))
>>> al.max_pool2d(x, 2).data.tolist()
[[[[5.0, 7.0], [13.0, 15.0]]]]
>>> al.avg_pool2d(x, 3, stride=2, padding=1).data[0, 0, 0].tolist()  # zeros count
[1.1111111111111112, 2.6666666666666665]
>>> al.avg_pool2d(x, 3, 2, 1, count_include_pad=False).data[0, 0, 0].tolist()
[2.5, 4.0]
>>> al.max_pool2d(x, 3, stride=2, ceil_mode=True).data[0, 0].tolist()  # hangs over
[[10.0, 11.0], [14.0, 15.0]]
>>> al.max_pool2d(x, 2, stride=1, dilation=2).data[0, 0].tolist()  # every other pixel
[[10.0, 11.0], [14.0, 15.0]]
>>> al.avg_pool2d(x, 2, divisor_override=1).data[0, 0].tolist()  # window sums
[[10.0, 18.0], [42.0, 50.0]]
>>> al.adaptive_avg_pool2d(x, 1).data.ravel().tolist()  # the global average
[7.5]
>>> al.adaptive_avg_pool2d(x, (3, 1)).data.ravel().tolist()  # rows 0-1, 1-2, 2-3
[3.5, 7.5, 11.5]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .image_ops import (
    _add_windows,
    _check_fits,
    _cropped,
    _padded,
    _pair,
    _sides,
    _span,
    windows,
)
from .ops import data_of, shape_of
from .registry import Op, SymCase, _remove_method, register
from .value import Value


def _window_reduce(win: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    """``ufunc`` (np.add, np.maximum) over each window of ``win`` (N, C, OH, OW, kh, kw).

    One call per kernel offset on the (N, C, OH, OW) views: several times faster than
    ``ufunc.reduce`` over the two small strided window axes.
    """
    out = win[:, :, :, :, 0, 0].copy()
    for i, j in np.ndindex(*win.shape[4:]):
        if i or j:
            ufunc(out, win[:, :, :, :, i, j], out=out)
    return out


# ----------------------------------------------------------------- pooling


def _window_params(kernel_size: Any, stride: Any, padding: Any, op: str) -> tuple:
    """Kernel, stride (default: the kernel) and padding (>= 0) as pairs of ints.

    >>> _window_params((2, 3), None, 1, "max_unpool2d")
    ((2, 3), (2, 3), (1, 1))
    """
    k = _pair(kernel_size, "kernel_size", op)
    s = k if stride is None else _pair(stride, "stride", op)
    return k, s, _pair(padding, "padding", op, minimum=0)


def _pool_params(kernel_size: Any, stride: Any, padding: Any, op: str) -> tuple:
    """Kernel, stride (default: the kernel) and padding as pairs, checked as PyTorch does.

    >>> _pool_params(3, None, 1, "max_pool2d")
    ((3, 3), (3, 3), (1, 1))
    >>> _pool_params(2, 1, 2, "avg_pool2d")
    Traceback (most recent call last):
    ...
    ValueError: avg_pool2d: padding (2, 2) must be at most half the kernel size (2, 2)
    """
    k, s, p = _window_params(kernel_size, stride, padding, op)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} must be at most half the kernel size {k}")
    return k, s, p


def _pool_dilation(dilation: Any, op: str) -> tuple[int, int]:
    """The max pool's ``dilation`` as a pair; a bool there is PyTorch-order confusion.

    >>> _pool_dilation(2, "max_pool2d")
    (2, 2)
    >>> _pool_dilation(True, "max_pool2d")
    Traceback (most recent call last):
    ...
    TypeError: max_pool2d: dilation must be an int >= 1 or a pair of them, got True (...)
    """
    if isinstance(dilation, (bool, np.bool_)):
        raise TypeError(
            f"{op}: dilation must be an int >= 1 or a pair of them, got {dilation!r} "
            "(PyTorch's order: kernel_size, stride, padding, dilation; pass ceil_mode= by keyword)"
        )
    return _pair(dilation, "dilation", op)


def _flag(value: Any, what: str, op: str) -> bool:
    """A bool option (``ceil_mode``, ``count_include_pad``); ``ValueError`` naming ``op``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{op}: {what} must be True or False, got {value!r}")
    return bool(value)


def _pool_out_size(size: int, k: int, s: int, p: int, ceil_mode: bool) -> int:
    """PyTorch's number of windows along one axis (``k``: the window's span, (k − 1)·d + 1).

    ⌊(size + 2p − k)/s⌋ + 1, or with ``ceil_mode`` ⌈…⌉ + 1 less the last window when it
    would start in the right padding (a window must start inside the input or the
    left padding).

    >>> _pool_out_size(5, 2, 2, 0, False), _pool_out_size(5, 2, 2, 0, True)
    (2, 3)
    >>> _pool_out_size(3, 2, 2, 1, True)  # a third window would start in the right padding
    2
    """
    span = size + 2 * p - k
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _pool_geometry(
    xs: tuple,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: Any,
    op: str,
    dilation: tuple = (1, 1),
) -> tuple:
    """Kernel, stride and padding pairs, the output size (OH, OW) and the padding per side.

    The padding per side is ``padding`` itself unless ceil-mode windows hang over the
    bottom or right edge: then ((ph, ph + extra_h), (pw, pw + extra_w)), so that every
    window is a window of the padded input. ``dilation`` (a checked pair, max pool
    only) spaces the taps: a window spans (k − 1)·d + 1.
    """
    _check_image_shape(xs, op)
    k, s, p = _pool_params(kernel_size, stride, padding, op)
    ceil = _flag(ceil_mode, "ceil_mode", op)
    span = _span(k, dilation) if dilation != (1, 1) else k
    out = tuple(_pool_out_size(xs[2 + i], span[i], s[i], p[i], ceil) for i in (0, 1))
    if min(out) < 1:  # then the window is larger than the padded input: say so
        what = f"kernel {k} with dilation {dilation} (span {span})" if span != k else ""
        _check_fits(xs[2:], span, p, op, what)
    if span != k:
        _check_taps_reach_input(xs, k, s, p, dilation, out, op)
    extra = [max(0, (out[i] - 1) * s[i] + span[i] - xs[2 + i] - 2 * p[i]) for i in (0, 1)]
    sides = ((p[0], p[0] + extra[0]), (p[1], p[1] + extra[1])) if any(extra) else p
    return k, s, p, out, sides


def _window_taps(size: int, k: int, s: int, p: int, d: int, out: int) -> np.ndarray:
    """(out, k): the input row (or column) of each tap of each window; outside: padding."""
    return (np.arange(out) * s - p)[:, None] + np.arange(k) * d


def _check_taps_reach_input(
    xs: tuple, k: tuple, s: tuple, p: tuple, d: tuple, out: tuple, op: str
) -> None:
    """A dilated window whose taps all fall in the padding has no maximum: refuse it.

    (PyTorch returns −inf there with an index outside the input.)
    """
    for axis, name in enumerate(("row", "column")):
        taps = _window_taps(xs[2 + axis], k[axis], s[axis], p[axis], d[axis], out[axis])
        inside = ((taps >= 0) & (taps < xs[2 + axis])).any(axis=1)
        if not inside.all():
            o = int(np.argmin(inside))
            raise ValueError(
                f"{op}: window {o} along {'HW'[axis]} has its taps at {name}s "
                f"{taps[o].tolist()}, all in the padding (input {xs[2:]}, kernel {k}, "
                f"dilation {d}, padding {p})"
            )


def _check_image_shape(xs: tuple, op: str) -> None:
    if len(xs) != 4:
        raise ValueError(f"{op} needs an input of shape (N, C, H, W), got shape {xs}")


def _max_geometry(
    xs: tuple, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: Any
) -> tuple:
    """The max pool's kernel, stride, padding, dilation (pairs) and padding per side."""
    d = _pool_dilation(dilation, "max_pool2d")
    k, s, p, _, sides = _pool_geometry(xs, kernel_size, stride, padding, ceil_mode, "max_pool2d", d)
    return k, s, p, d, sides


def _max_pool_forward(
    x: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: Any
) -> np.ndarray:
    xs = np.shape(x)
    k, s, _, d, sides = _max_geometry(xs, kernel_size, stride, padding, dilation, ceil_mode)
    return _window_reduce(windows(_padded(np.asarray(x), sides, -np.inf), k, s, d), np.maximum)


def _mark_where(marks: np.ndarray, mark: Any, hit: np.ndarray) -> None:
    """``marks[hit] = mark`` in place, as branch-free integer arithmetic.

    ``marks += (mark − marks)·hit``: np.copyto(..., where=hit) on random masks is many
    times slower.

    >>> m = np.zeros(3, dtype=np.int32); _mark_where(m, 5, np.array([True, False, True])); m
    array([5, 0, 5], dtype=int32)
    """
    step = np.subtract(mark, marks, dtype=marks.dtype)
    step *= hit
    marks += step


def _max_indices(x: Any, out: Any, k: tuple, s: tuple, p: tuple, d: tuple, sides: tuple) -> Any:
    """Each window's maximum as a flat index into its input plane (H·W), int64.

    The first maximum in window order (row by row), as PyTorch; in a window with a
    NaN (whose maximum is NaN) the last NaN, as PyTorch's CPU kernel takes it. A
    window whose maximum is −inf (all of its input −inf) points at its first tap
    inside the input, never at padding.
    """
    x, out = np.asarray(data_of(x)), np.asarray(data_of(out))
    h, w = x.shape[2:]
    win = windows(_padded(x, sides, -np.inf), k, s, d)
    nan = out.dtype.kind == "f" and bool(np.isnan(out).any())
    oh, ow = out.shape[2:]
    row_taps = _window_taps(h, k[0], s[0], p[0], d[0], oh)
    col_taps = _window_taps(w, k[1], s[1], p[1], d[1], ow)
    offsets = np.arange(k[0] * k[1])
    down, right = offsets // k[1] * d[0], offsets % k[1] * d[1]  # each tap's place in its window
    plain = sides == (0, 0)  # every tap inside the input: its flat place, else its number
    marks = down * w + right if plain else offsets
    # each window's mark of its first maximum: taps in reverse, a hit replacing what is there
    first = np.zeros(out.shape, dtype=np.int32 if h * w < 2**31 else np.int64)
    for a in reversed(offsets.tolist()):
        _mark_where(first, marks[a], win[:, :, :, :, a // k[1], a % k[1]] == out)
    if nan:  # the same marking forward, NaN taps only: the last NaN stays
        last = np.zeros_like(first)
        for a in offsets.tolist():
            _mark_where(last, marks[a], np.isnan(win[:, :, :, :, a // k[1], a % k[1]]))
        first = np.where(np.isnan(out), last, first)
    if plain:  # the window's corner plus the maximum's place in it
        return (row_taps[:, :1] * w + col_taps[:, 0]) + first.astype(np.int64)
    rows = row_taps[:, :1] + down[first]
    cols = col_taps[:, 0] + right[first]
    bad = (rows < 0) | (rows >= h) | (cols < 0) | (cols >= w)  # −inf windows: padding's −inf
    if bad.any():
        first_row = [taps[(taps >= 0) & (taps < h)][0] for taps in row_taps]
        first_col = [taps[(taps >= 0) & (taps < w)][0] for taps in col_taps]
        rows = np.where(bad, np.array(first_row)[:, None], rows)
        cols = np.where(bad, np.array(first_col), cols)
    return (rows * w + cols).astype(np.int64, copy=False)


def _max_pool_vjp(
    g: Any,
    out: Any,
    x: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: Any,
) -> Any:
    xs = shape_of(x)
    k, s, p, d, sides = _max_geometry(xs, kernel_size, stride, padding, dilation, ceil_mode)
    # each window's gradient to its first maximum: the index return_indices=True gives
    return index_scatter2d.poly(g, _max_indices(x, out, k, s, p, d, sides), xs[2:], True)


def _pool_sympy(kind: str) -> Any:
    """The pool by its definition, window by window (PyTorch's rule, SymPy entries).

    Window (r, q) covers rows r·sh − ph … up to r·sh − ph + kh, cut at the end of the
    right padding; max takes the Max of its elements inside the input (with dilation d
    every d-th row and column of its span), avg their sum over the positions it covers
    (padding included) or, with ``count_include_pad`` False, over the elements inside
    the input, or over ``divisor_override`` when given.
    """

    def define(sp: Any, x: Any, kernel_size: Any, stride: Any, padding: Any, *options: Any) -> Any:
        k, s, p = _pool_params(kernel_size, stride, padding, "pool")
        if kind == "max":
            dilation, ceil_mode = options
            d = _pool_dilation(dilation, "pool")
        else:
            ceil_mode, count_include_pad, divisor = (*options, True, None)[:3]
            d = (1, 1)
        span = _span(k, d)
        n, c, h, w = x.shape
        oh, ow = (_pool_out_size(x.shape[2 + i], span[i], s[i], p[i], ceil_mode) for i in (0, 1))
        out = np.empty((n, c, oh, ow), dtype=object)
        for r, q in np.ndindex(oh, ow):
            r0, q0 = r * s[0] - p[0], q * s[1] - p[1]
            r1, q1 = min(r0 + span[0], h + p[0]), min(q0 + span[1], w + p[1])
            rows = [a for a in range(r0, r1, d[0]) if 0 <= a < h]
            cols = [e for e in range(q0, q1, d[1]) if 0 <= e < w]
            inside = x[:, :, rows][:, :, :, cols]
            if kind == "avg":
                count = (r1 - r0) * (q1 - q0) if count_include_pad else inside[0, 0].size
                count = count if divisor is None else divisor
            for i, ch in np.ndindex(n, c):
                items = inside[i, ch].ravel()
                out[i, ch, r, q] = sp.Max(*items) if kind == "max" else sp.Add(*items) / count
        return out

    return define


max_pool2d_op = register(
    Op(
        "max_pool2d",
        forward=_max_pool_forward,
        vjps=(_max_pool_vjp,),
        label="max pool",
        params=("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
        defaults={"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False},
        doc="maximum over kernel windows of x (N, C, H, W) padded with −inf; "
        "the gradient goes to each window's first maximum (PyTorch's index)",
        sympy_def=_pool_sympy("max"),
        cases=(
            SymCase(((1, 1, 4, 4),), (2, None, 0), note="2×2 windows"),
            SymCase(((1, 1, 3, 3),), ((2, 3), 1, 0), note="overlapping 2×3 windows"),
            SymCase(((1, 1, 3, 3),), (2, 2, 1), note="padding 1"),
            SymCase(((1, 1, 2, 3),), (3, 1, (1, 0)), note="3×3 windows, padding (1, 0)"),
            SymCase(((1, 1, 3, 5),), (2, 2, 0, 1, True), note="ceil_mode, windows hang over"),
            SymCase(((1, 1, 2, 4),), ((2, 3), 2, 1, 1, True), note="ceil_mode, padding 1"),
            SymCase(((1, 1, 5, 4),), (2, 1, 0, (2, 3)), note="dilation (2, 3), overlapping"),
            SymCase(((1, 1, 4, 5),), (3, 2, 1, 2), note="dilation 2, padding 1"),
            SymCase(((1, 1, 4, 4),), (2, 2, 1, 2, True), note="dilation 2, ceil_mode, padding 1"),
        ),
    )
)


def max_pool2d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max pooling as PyTorch's ``F.max_pool2d``: the maximum of each window of x (N, C, H, W).

    ``stride`` defaults to the kernel size; ``padding`` (at most half the kernel)
    pads with −inf; ``dilation`` d takes every d-th row and column (a window spans
    (k − 1)·d + 1); ``ceil_mode`` lets a last window hang over the bottom/right edge.
    Output size per axis: ⌊(H + 2p − (k − 1)·d − 1)/s⌋ + 1 (⌈…⌉ with ``ceil_mode``).

    The gradient of each window goes to its first maximum in window order (row by
    row), the element whose flat index (into its H·W plane, int64) ``return_indices=
    True`` returns beside the output, as ``(out, indices)``; ``indices`` is a numpy
    array (Values hold floats), for :func:`max_unpool2d`.

    >>> import numpy as np, autograd_lite as al
    >>> x = al.Value(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> al.max_pool2d(x, 2).data.tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
    >>> al.max_pool2d(x, 2, stride=1, dilation=2).data.tolist()  # taps two apart
    [[[[10.0, 11.0], [14.0, 15.0]]]]
    >>> out, idx = al.max_pool2d(x, 2, return_indices=True)
    >>> idx.tolist(), idx.dtype
    ([[[[5, 7], [13, 15]]]], dtype('int64'))
    >>> al.max_pool2d(x, 2, 2, 0, True)
    Traceback (most recent call last):
    ...
    TypeError: max_pool2d: dilation must be an int >= 1 or a pair of them, got True (...)
    """
    _pool_dilation(dilation, "max_pool2d")  # PyTorch's positional order: say so before the op
    indices = _flag(return_indices, "return_indices", "max_pool2d")
    out = max_pool2d_op(x, kernel_size, stride, padding, dilation, ceil_mode)
    if not indices:
        return out
    from .compiler.trace import refuse_frozen_data  # (the indices are numpy, not a Value)

    refuse_frozen_data("max_pool2d(return_indices=True)")
    xs = np.shape(data_of(x))
    k, s, p, d, sides = _max_geometry(xs, kernel_size, stride, padding, dilation, ceil_mode)
    return out, _max_indices(x, out, k, s, p, d, sides)


def _avg_divisor(divisor_override: Any, op: str = "avg_pool2d") -> int | None:
    """``divisor_override``: None or an int >= 1 (PyTorch refuses 0)."""
    if divisor_override is None:
        return None
    if (
        isinstance(divisor_override, (bool, np.bool_))
        or not isinstance(divisor_override, (int, np.integer))
        or divisor_override < 1
    ):
        raise ValueError(
            f"{op}: divisor_override must be an int >= 1 or None, got {divisor_override!r}"
        )
    return int(divisor_override)


def _avg_weights(
    xs: tuple,
    k: tuple,
    s: tuple,
    p: tuple,
    out: tuple,
    sides: tuple,
    count_include_pad: Any,
    divisor_override: Any = None,
) -> Any:
    """1/divisor of each window: ``1/(kh·kw)`` if that is every window's, else (OH, OW, 1, 1).

    The divisor counts the positions a window covers, padding included but not past
    the right padding (a ceil-mode window hanging over); with ``count_include_pad``
    False only the input's own elements (PyTorch's rule); ``divisor_override``
    replaces it for every window.
    """
    include = _flag(count_include_pad, "count_include_pad", "avg_pool2d")
    divisor = _avg_divisor(divisor_override)
    if divisor is not None:
        return 1.0 / divisor
    if sides == p and (include or p == (0, 0)):
        return 1.0 / (k[0] * k[1])  # every window covers kh·kw counted positions
    counts = []
    for size, kk, ss, pp, oo in zip(xs[2:], k, s, p, out):
        start = np.arange(oo) * ss - pp
        end = np.minimum(start + kk, size + pp)
        if not include:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        counts.append(end - start)
    return (1.0 / np.outer(*counts))[:, :, None, None]


def _avg_windows(
    xs: tuple, kernel_size: Any, stride: Any, padding: Any, ceil_mode: Any, *divisor: Any
) -> tuple:
    """The avg pool as window-op arguments ``(weights, kernel, stride, sides)`` (both passes).

    ``divisor``: ``count_include_pad`` and ``divisor_override``.
    """
    k, s, p, out, sides = _pool_geometry(xs, kernel_size, stride, padding, ceil_mode, "avg_pool2d")
    return _avg_weights(xs, k, s, p, out, sides, *divisor), k, s, sides


def _avg_pool_forward(
    x: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    ceil_mode: Any,
    count_include_pad: Any,
    divisor_override: Any,
) -> np.ndarray:
    geometry = kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    return _window_sum_forward(x, *_avg_windows(np.shape(x), *geometry))


def _avg_pool_vjp(g: Any, out: Any, x: Any, *geometry: Any) -> Any:
    xs = shape_of(x)
    weights, k, s, sides = _avg_windows(xs, *geometry)
    return window_scatter2d.poly(g, weights, xs, k, s, sides)


avg_pool2d = register(
    Op(
        "avg_pool2d",
        forward=_avg_pool_forward,
        vjps=(_avg_pool_vjp,),
        label="avg pool",
        params=(
            "kernel_size",
            "stride",
            "padding",
            "ceil_mode",
            "count_include_pad",
            "divisor_override",
        ),
        defaults={
            "stride": None,
            "padding": 0,
            "ceil_mode": False,
            "count_include_pad": True,
            "divisor_override": None,
        },
        keeps_inputs=False,
        doc="mean over kernel windows of x (N, C, H, W) padded with zeros "
        "(counted in the mean unless count_include_pad=False; divisor_override "
        "divides every window's sum by itself instead, as PyTorch)",
        sympy_def=_pool_sympy("avg"),
        cases=(
            SymCase(((1, 2, 4, 4),), (2, None, 0), note="2×2 windows"),
            SymCase(((1, 1, 3, 4),), ((2, 3), 1, 0), note="overlapping 2×3 windows"),
            SymCase(((1, 1, 3, 3),), (3, 2, 1), note="3×3 windows, padding 1"),
            SymCase(((1, 1, 3, 3),), (3, 2, 1, False, False), note="count_include_pad=False"),
            SymCase(((1, 1, 3, 5),), (2, 2, 0, True), note="ceil_mode, windows hang over"),
            SymCase(
                ((1, 1, 4, 3),), ((3, 2), 2, (1, 0), True, False), note="ceil_mode, without pad"
            ),
            SymCase(((1, 1, 3, 4),), (2, 1, 0, False, True, 3), note="divisor_override 3"),
            SymCase(
                ((1, 1, 3, 5),), (3, 2, 1, True, False, 2), note="divisor_override 2, ceil, pad"
            ),
        ),
    )
)

# ------------------------------------------------- index scatter and gather (unpooling)


def _plane_indices(indices: Any, shape: tuple, size: tuple, op: str) -> np.ndarray:
    """``indices`` checked as flat indices into (H, W) planes, one per element of ``shape``.

    >>> _plane_indices(np.array([[[[0, 3]]]]), (1, 1, 1, 2), (2, 2), "max_unpool2d").tolist()
    [[[[0, 3]]]]
    """
    idx = np.asarray(data_of(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: indices must be integers (as max_pool2d(..., return_indices=True) "
            f"gives, int64), got dtype {idx.dtype}"
        )
    if idx.shape != tuple(shape):
        raise ValueError(
            f"{op}: indices of shape {idx.shape} for an input of shape {tuple(shape)} "
            "(one index per element)"
        )
    plane = size[0] * size[1]
    if idx.size and (idx.min() < 0 or idx.max() >= plane):
        bad = idx[(idx < 0) | (idx >= plane)].flat[0]
        raise ValueError(
            f"{op}: index {bad} is outside the output plane of {size[0]}×{size[1]} = {plane} "
            f"elements (indices must be in 0 … {plane - 1})"
        )
    return idx


def _flat_indices(idx: np.ndarray, size: tuple) -> np.ndarray:
    """Per-plane indices (N, C, ...) as indices into the flattened (N, C, H, W) array."""
    planes = idx.shape[0] * idx.shape[1]
    offsets = np.arange(planes, dtype=np.int64) * (size[0] * size[1])
    return (idx.reshape(planes, -1) + offsets[:, None]).ravel()


def _last_occurrences(flat: np.ndarray, total: int) -> np.ndarray:
    """True where ``flat`` holds the last occurrence of its value (later writes win)."""
    order = np.arange(flat.size)
    last = np.full(total, -1, dtype=order.dtype)
    np.maximum.at(last, flat, order)
    return last[flat] == order


def _index_scatter_forward(v: Any, indices: Any, size: Any, accumulate: Any) -> np.ndarray:
    v = np.asarray(v)
    _check_image_shape(v.shape, "index_scatter2d")
    size = _pair(size, "size", "index_scatter2d")
    idx = _plane_indices(indices, v.shape, size, "index_scatter2d")
    flat, total = _flat_indices(idx, size), v.shape[0] * v.shape[1] * size[0] * size[1]
    if _flag(accumulate, "accumulate", "index_scatter2d"):
        out = np.bincount(flat, weights=v.ravel(), minlength=total).astype(v.dtype, copy=False)
    else:
        keep = _last_occurrences(flat, total)
        out = np.zeros(total, dtype=v.dtype)
        out[flat[keep]] = v.ravel()[keep]
    return out.reshape(*v.shape[:2], *size)


def _index_gather_forward(h: Any, indices: Any, accumulate: Any) -> np.ndarray:
    h = np.asarray(h)
    _check_image_shape(h.shape, "index_gather2d")
    idx = np.asarray(data_of(indices))
    _check_image_shape(idx.shape, "index_gather2d")
    if idx.shape[:2] != h.shape[:2]:
        raise ValueError(
            f"index_gather2d: indices of shape {idx.shape} for planes of shape {h.shape}"
        )
    idx = _plane_indices(idx, idx.shape, h.shape[2:], "index_gather2d")
    flat = _flat_indices(idx, h.shape[2:])
    out = h.ravel()[flat]
    if not _flag(accumulate, "accumulate", "index_gather2d"):
        out *= _last_occurrences(flat, h.size)
    return out.reshape(idx.shape)


def _scatter_index_sympy(sp: Any, v: Any, indices: Any, size: tuple, accumulate: bool) -> Any:
    n, c = v.shape[:2]
    out = np.full((n, c, *size), sp.Integer(0), dtype=object)
    for i, ch, r, q in np.ndindex(v.shape):  # in order: a later write replaces an earlier one
        row, col = divmod(int(indices[i, ch, r, q]), size[1])
        out[i, ch, row, col] = (out[i, ch, row, col] if accumulate else 0) + v[i, ch, r, q]
    return out


def _gather_index_sympy(sp: Any, h: Any, indices: Any, accumulate: bool) -> Any:
    out = np.full(np.shape(indices), sp.Integer(0), dtype=object)
    for i, ch in np.ndindex(out.shape[:2]):
        taken: set = set()
        for r, q in reversed(list(np.ndindex(out.shape[2:]))):  # the last one of a repeat
            row, col = divmod(int(indices[i, ch, r, q]), h.shape[3])
            if accumulate or (row, col) not in taken:
                out[i, ch, r, q] = h[i, ch, row, col]
            taken.add((row, col))
    return out


_REPEATS = np.array([[[[0, 4], [4, 8]], [[1, 1], [2, 3]]]])  # (1, 2, 2, 2) into 3×3 planes

index_scatter2d = register(
    Op(
        "index_scatter2d",
        forward=_index_scatter_forward,
        vjps=(
            lambda k, out, v, indices, size, accumulate: index_gather2d.poly(
                k, indices, accumulate
            ),
        ),
        label="scatter by index",
        inputs=("v",),
        params=("indices", "size", "accumulate"),
        defaults={"accumulate": True},
        keeps_inputs=False,
        doc="v (N, C, h, w) put into zero planes of the given size (H, W) at flat indices: "
        "added up (accumulate) or the last write kept (max_unpool2d; the max pool's gradient)",
        sympy_def=_scatter_index_sympy,
        cases=(
            SymCase(((1, 2, 2, 2),), (_REPEATS, (3, 3), True), note="repeats add up"),
            SymCase(((1, 2, 2, 2),), (_REPEATS, (3, 3), False), note="the last repeat wins"),
        ),
    )
)

index_gather2d = register(
    Op(
        "index_gather2d",
        forward=_index_gather_forward,
        vjps=(
            lambda k, out, h, indices, accumulate: index_scatter2d.poly(
                k, indices, shape_of(h)[2:], accumulate
            ),
        ),
        label="gather by index",
        inputs=("h",),
        params=("indices", "accumulate"),
        defaults={"accumulate": True},
        keeps_inputs=False,
        doc="h (N, C, H, W) read at flat plane indices (N, C, h, w); without accumulate only "
        "the last of repeated indices reads (the vjp of index_scatter2d)",
        sympy_def=_gather_index_sympy,
        cases=(
            SymCase(((1, 2, 3, 3),), (_REPEATS, True), note="repeats read twice"),
            SymCase(((1, 2, 3, 3),), (_REPEATS, False), note="only the last repeat reads"),
        ),
    )
)


def _unpool_size(xs: tuple, k: tuple, s: tuple, p: tuple, output_size: Any) -> tuple:
    """PyTorch's unpooled (H, W): (h − 1)·s − 2p + k, or ``output_size`` within a stride of it."""
    default = tuple((xs[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in (0, 1))
    if output_size is None:
        if min(default) < 1:
            raise ValueError(
                f"max_unpool2d: the output size {default} for input {xs} (kernel {k}, stride "
                f"{s}, padding {p}) is empty"
            )
        return default
    given = tuple(output_size) if isinstance(output_size, (tuple, list)) else ()
    if len(given) not in (2, 4) or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) for v in given
    ):
        raise ValueError(
            f"max_unpool2d: output_size must be (H, W) or (N, C, H, W) ints, got {output_size!r}"
        )
    given = given[-2:]
    for i in (0, 1):
        if not default[i] - s[i] < given[i] < default[i] + s[i]:
            raise ValueError(
                f"max_unpool2d: output_size {tuple(given)} does not fit input {xs}: "
                f"{'HW'[i]} must be between {default[i] - s[i] + 1} and {default[i] + s[i] - 1} "
                f"(default {default[i]}, stride {s[i]})"
            )
    return tuple(int(v) for v in given)


def max_unpool2d(
    x: Any,
    indices: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    output_size: Any = None,
) -> Value:
    """The inverse of max pooling, as PyTorch's ``F.max_unpool2d``: x back at ``indices``.

    Each element of x (N, C, h, w) goes to the flat position (into an H·W plane) its
    index names, every other element is 0. (H, W) is (h − 1)·s − 2p + k per axis, or
    ``output_size`` ((H, W) or (N, C, H, W)), which must lie within a stride of it. If
    indices repeat (overlapping pool windows), the last one in row order is kept, as
    PyTorch does on the CPU. The gradient for x reads the output's gradient at the
    indices (``index_gather2d``); an element that a later repeat overwrote does not
    reach the output and gets gradient 0, the true derivative (PyTorch's backward
    reads the gradient at every repeat, so such an element gets its survivor's).

    >>> import numpy as np, autograd_lite as al
    >>> x = al.Value(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> out, idx = al.max_pool2d(x, 2, return_indices=True)
    >>> al.max_unpool2d(out, idx, 2).data[0, 0].tolist()
    [[0.0, 0.0, 0.0, 0.0], [0.0, 5.0, 0.0, 7.0], [0.0, 0.0, 0.0, 0.0], [0.0, 13.0, 0.0, 15.0]]
    >>> al.max_unpool2d(out, idx, 2, output_size=(5, 5)).shape
    (1, 1, 5, 5)
    """
    xs = np.shape(data_of(x))
    _check_image_shape(xs, "max_unpool2d")
    k, s, p = _window_params(kernel_size, stride, padding, "max_unpool2d")
    size = _unpool_size(xs, k, s, p, output_size)
    _plane_indices(indices, xs, size, "max_unpool2d")
    return index_scatter2d(x, indices, size, False)


def _pad_sides(padding: Any, op: str) -> tuple:
    """The window ops' padding: an int, (ph, pw), or ((top, bottom), (left, right)), all >= 0.

    >>> _pad_sides(1, "window_sum2d"), _pad_sides(((0, 1), (1, 2)), "window_sum2d")
    (((1, 1), (1, 1)), ((0, 1), (1, 2)))
    """
    pairs = isinstance(padding, (tuple, list)) and len(padding) == 2
    if not (pairs and all(isinstance(v, (tuple, list)) for v in padding)):
        return _sides(_pair(padding, "padding", op, minimum=0))
    flat = (*padding[0], *padding[1])
    if len(flat) != 4 or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0 for v in flat
    ):
        raise ValueError(
            f"{op}: padding must be ((top, bottom), (left, right)) ints >= 0, got {padding!r}"
        )
    return tuple(map(int, padding[0])), tuple(map(int, padding[1]))


def _padded_shape(x_shape: tuple, padding: Any, op: str) -> tuple[tuple, tuple]:
    (t, b), (le, r) = sides = _pad_sides(padding, op)
    n, c, h, w = x_shape
    return (n, c, h + t + b, w + le + r), sides


def _window_weights(weights: Any, dtype: Any) -> Any:
    """A window op's weights in the data's dtype (a Python float stays one)."""
    return weights if np.ndim(weights) == 0 else np.asarray(weights, dtype=dtype)


def _window_scatter_forward(
    g: Any, weights: Any, x_shape: tuple, kernel: tuple, stride: tuple, padding: Any
) -> np.ndarray:
    g = np.asarray(g)
    per_window = g[..., None, None] * _window_weights(weights, g.dtype)
    # the same weight everywhere, or one per window: broadcast to the kernel offsets
    per_window = np.broadcast_to(per_window, g.shape + tuple(kernel))
    xp_shape, sides = _padded_shape(x_shape, padding, "window_scatter2d")
    target = np.zeros(xp_shape, dtype=per_window.dtype)
    return _cropped(_add_windows(target, per_window, kernel, stride), sides)


def _window_sum_forward(
    h: Any, weights: Any, kernel: tuple, stride: tuple, padding: Any
) -> np.ndarray:
    win = windows(_padded(np.asarray(h), _pad_sides(padding, "window_sum2d")), kernel, stride)
    weights = _window_weights(weights, win.dtype)
    if np.ndim(weights) == 0:
        return _window_reduce(win, np.add) * weights
    if weights.shape[-2:] == (1, 1):  # one weight per window
        return _window_reduce(win, np.add) * weights[..., 0, 0]
    return np.einsum("ncijkl,ncijkl->ncij", win, np.broadcast_to(weights, win.shape))


def _scatter_sympy(
    sp: Any, g: Any, weights: Any, x_shape: tuple, kernel: tuple, stride: tuple, padding: Any
) -> Any:
    xp_shape, sides = _padded_shape(x_shape, padding, "window_scatter2d")
    out = np.full(xp_shape, sp.Integer(0), dtype=object)
    per_window = g[..., None, None] * np.broadcast_to(weights, g.shape + tuple(kernel))
    for n, c, i, j, a, b in np.ndindex(per_window.shape):
        out[n, c, i * stride[0] + a, j * stride[1] + b] += per_window[n, c, i, j, a, b]
    return _cropped(out, sides)


# the avg pool's weights when its windows differ: 1/divisor per window, shape (OH, OW, 1, 1)
_PER_WINDOW = np.array([[0.25, 0.5], [0.5, 1.0]])[:, :, None, None]

window_scatter2d = register(
    Op(
        "window_scatter2d",
        forward=_window_scatter_forward,
        vjps=(
            lambda h, out, g, weights, x_shape, kernel, stride, padding: window_sum2d.poly(
                h, weights, kernel, stride, padding
            ),
        ),
        label="scatter windows",
        inputs=("g",),
        params=("weights", "x_shape", "kernel", "stride", "padding"),
        defaults={"padding": 0},
        keeps_inputs=False,
        doc="each window's value g (N, C, OH, OW) spread over its window of the padded "
        "x_shape, times weights, padding cut off (the gradient of the pools)",
        sympy_def=_scatter_sympy,
        cases=(
            SymCase(((1, 1, 2, 2),), (0.25, (1, 1, 3, 3), (2, 2), (1, 1), 0), note="overlapping"),
            SymCase(((1, 1, 2, 2),), (0.25, (1, 1, 3, 3), (2, 2), (2, 2), 1), note="padding 1"),
            SymCase(
                ((1, 1, 2, 2),),
                (_PER_WINDOW, (1, 1, 3, 3), (2, 2), (2, 2), ((0, 1), (0, 1))),
                note="a weight per window, padding (0, 1) per side (ceil_mode)",
            ),
        ),
    )
)


def _sum_sympy(sp: Any, h: Any, weights: Any, kernel: tuple, stride: tuple, padding: Any) -> Any:
    sides = _pad_sides(padding, "window_sum2d")
    win = windows(_padded(h, sides, sp.Integer(0)), kernel, stride)
    return (win * np.broadcast_to(weights, win.shape)).sum(axis=(4, 5))


window_sum2d = register(
    Op(
        "window_sum2d",
        forward=_window_sum_forward,
        vjps=(
            lambda k, out, h, weights, kernel, stride, padding: window_scatter2d.poly(
                k, weights, shape_of(h), kernel, stride, padding
            ),
        ),
        label="sum windows",
        inputs=("h",),
        params=("weights", "kernel", "stride", "padding"),
        defaults={"padding": 0},
        keeps_inputs=False,
        doc="weighted sum over each kernel window of h zero-padded by padding "
        "(the vjp of window_scatter2d)",
        sympy_def=_sum_sympy,
        cases=(
            SymCase(((1, 1, 3, 3),), (0.25, (2, 2), (1, 1), 0), note="overlapping"),
            SymCase(((1, 1, 3, 3),), (0.25, (2, 2), (2, 2), 1), note="padding 1"),
            SymCase(
                ((1, 1, 3, 3),),
                (_PER_WINDOW, (2, 2), (2, 2), ((1, 0), (0, 1))),
                note="a weight per window, padding per side",
            ),
        ),
    )
)

# ------------------------------------------------------- adaptive average pooling


def _adaptive_size(output_size: Any, hw: tuple, op: str = "adaptive_avg_pool2d") -> tuple:
    """``output_size`` (an int, or (OH, OW) with None for "as the input") as a pair.

    >>> _adaptive_size(1, (7, 5)), _adaptive_size((3, None), (7, 5))
    ((1, 1), (3, 5))
    """
    pair = (output_size, output_size) if not isinstance(output_size, (tuple, list)) else output_size
    if len(pair) != 2 or any(
        v is not None
        and (isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1)
        for v in pair
    ):
        raise ValueError(
            f"{op}: output_size must be an int >= 1 or a pair of them (None: the input's "
            f"size), got {output_size!r}"
        )
    return tuple(int(hw[i]) if v is None else int(v) for i, v in enumerate(pair))


def _averaging_matrix(size: int, out: int, dtype: Any) -> np.ndarray:
    """(out, size): row i is 1/len over PyTorch's window ⌊i·size/out⌋ … ⌈(i+1)·size/out⌉ − 1."""
    i = np.arange(out)
    start, end = (i * size) // out, -((-(i + 1) * size) // out)
    cols = np.arange(size)
    inside = (cols >= start[:, None]) & (cols < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _adaptive_matrices(xs: tuple, output_size: Any, dtype: Any) -> tuple:
    _check_image_shape(xs, "adaptive_avg_pool2d")
    oh, ow = _adaptive_size(output_size, xs[2:])
    return _averaging_matrix(xs[2], oh, dtype), _averaging_matrix(xs[3], ow, dtype)


def _float_dtype(x: Any) -> Any:
    dtype = np.asarray(x).dtype
    return dtype if dtype.kind == "f" else np.float64


def _adaptive_forward(x: Any, output_size: Any) -> np.ndarray:
    x = np.asarray(x)
    left, right = _adaptive_matrices(x.shape, output_size, _float_dtype(x))
    return _plane_matmul_forward(x, left, right)


def _adaptive_vjp(g: Any, out: Any, x: Any, output_size: Any) -> Any:
    left, right = _adaptive_matrices(shape_of(x), output_size, _float_dtype(data_of(g)))
    return plane_matmul2d.poly(g, left.T, right.T)


def _adaptive_sympy(sp: Any, x: Any, output_size: Any) -> Any:
    """Each output: the sum over PyTorch's window ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1 (same for
    columns) divided by the number of elements in it."""
    n, c, h, w = x.shape
    oh, ow = _adaptive_size(output_size, (h, w))
    out = np.empty((n, c, oh, ow), dtype=object)
    for i, ch, r, q in np.ndindex(out.shape):
        r0, r1 = sp.floor(sp.Rational(r * h, oh)), sp.ceiling(sp.Rational((r + 1) * h, oh))
        q0, q1 = sp.floor(sp.Rational(q * w, ow)), sp.ceiling(sp.Rational((q + 1) * w, ow))
        window = x[i, ch, int(r0) : int(r1), int(q0) : int(q1)]
        out[i, ch, r, q] = sp.Add(*window.ravel()) / window.size
    return out


def _plane_matmul_forward(x: Any, left: Any, right: Any) -> np.ndarray:
    x = np.asarray(x)
    _check_image_shape(x.shape, "plane_matmul2d")
    left, right = np.asarray(left), np.asarray(right)
    if (
        left.ndim != 2
        or right.ndim != 2
        or left.shape[1] != x.shape[2]
        or right.shape[1] != x.shape[3]
    ):
        raise ValueError(
            f"plane_matmul2d: left {left.shape} and right {right.shape} do not fit planes "
            f"{x.shape[2:]} of x {x.shape} (left (OH, H), right (OW, W))"
        )
    return np.matmul(
        np.matmul(left.astype(x.dtype, copy=False), x), right.T.astype(x.dtype, copy=False)
    )


plane_matmul2d = register(
    Op(
        "plane_matmul2d",
        forward=_plane_matmul_forward,
        vjps=(lambda g, out, x, left, right: plane_matmul2d.poly(g, left.T, right.T),),
        label="L·x·Rᵀ",
        params=("left", "right"),
        keeps_inputs=False,
        doc="left (OH, H) @ each (H, W) plane of x (N, C, H, W) @ rightᵀ (W, OW): "
        "a linear map of rows and of columns (the gradient of adaptive_avg_pool2d)",
        sympy_def=lambda sp, x, left, right: np.matmul(np.matmul(left, x), right.T),
        cases=(
            SymCase(
                ((1, 2, 3, 2),),
                (np.array([[0.5, 0.5, 0.0], [0.0, 0.25, 0.75]]), np.array([[1.0, -2.0]])),
                note="(2, 3) rows, (1, 2) columns",
            ),
        ),
    )
)

adaptive_avg_pool2d = register(
    Op(
        "adaptive_avg_pool2d",
        forward=_adaptive_forward,
        vjps=(_adaptive_vjp,),
        label="adaptive avg pool",
        params=("output_size",),
        keeps_inputs=False,
        doc="mean over PyTorch's adaptive windows of x (N, C, H, W): output row i averages "
        "rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1 (columns alike)",
        sympy_def=_adaptive_sympy,
        cases=(
            SymCase(((1, 2, 5, 3),), ((2, 2),), note="overlapping windows 5 → 2, 3 → 2"),
            SymCase(((1, 1, 3, 4),), (1,), note="global average"),
            SymCase(((1, 1, 2, 3),), ((3, None),), note="upsampling 2 → 3, None keeps 3"),
        ),
    )
)


# functions of images, not methods of every Value (as in PyTorch's torch.nn.functional)
for _name in (
    "max_pool2d",
    "avg_pool2d",
    "index_scatter2d",
    "index_gather2d",
    "adaptive_avg_pool2d",
    "plane_matmul2d",
    "window_scatter2d",
    "window_sum2d",
):
    _remove_method(_name)
