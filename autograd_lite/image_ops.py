"""Op-table entries for images (NCHW, as PyTorch): convolution and dropout.

The pools live in :mod:`autograd_lite.pool_ops`, on the same windows.

Convolution and pooling work on *windows*: a read-only strided view of the
(padded) input with shape ``(N, C, OH, OW, kh, kw)`` (no copy; see
:func:`windows`; a ``dilation`` only widens the strides of the kernel axes).
``conv2d`` copies the windows once into a matrix (im2col) and multiplies it by the
flattened filters (with ``groups``, each group's block of columns by its own
filters). Python loops only ever run over the ``kh·kw`` kernel offsets (to add
gradients back into overlapping windows), never over pixels.

Every backward is itself a table op, so ``backward(create_graph=True)`` records
it and it can be differentiated again: for ``conv2d(x, W, b)``,
``∂x = conv2d_grad_input(g, W)`` (the transposed convolution),
``∂W = conv2d_grad_weight(x, g)``, ``∂b = Σ g``; the two gradient ops are linear in
each input, so their own vjps are the same three convolutions again.

``dropout`` takes its mask as a parameter (drawn by :func:`dropout` from
``rng``), so backward and SymPy checks see a fixed mask.

>>> import numpy as np, autograd_lite as al
>>> y = al.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), padding=1)
>>> y.shape, y.data[0, 0, 1].tolist()
((1, 1, 4, 4), [2.0, 4.0, 4.0, 2.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .graph import is_grad_enabled
from .ops import shape_of
from .registry import Op, SymCase, _remove_method, register
from .sympy_arrays import elementwise, symbols_like
from .value import Value

# ---------------------------------------------------------------- helpers


def _pair(v: Any, what: str, op: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints as a pair; ``ValueError`` naming ``op`` when invalid.

    >>> _pair(3, "stride", "conv2d"), _pair((1, 2), "stride", "conv2d")
    ((3, 3), (1, 2))
    """
    if isinstance(v, (int, np.integer)):
        pair: tuple = (v, v)
    else:
        pair = tuple(v) if isinstance(v, (tuple, list)) else ()
    if (
        len(pair) != 2
        or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in pair)
        or any(p < minimum for p in pair)
    ):
        raise ValueError(f"{op}: {what} must be an int >= {minimum} or a pair of them, got {v!r}")
    return int(pair[0]), int(pair[1])


def _out_size(size: int, k: int, s: int) -> int:
    return (size - k) // s + 1


def _span(kernel: tuple, dilation: tuple) -> tuple[int, int]:
    """The extent of a dilated kernel: ``(k − 1)·d + 1`` per axis (PyTorch's rule)."""
    return (kernel[0] - 1) * dilation[0] + 1, (kernel[1] - 1) * dilation[1] + 1


def windows(
    xp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int] = (1, 1),
) -> np.ndarray:
    """Read-only view ``(N, C, OH, OW, kh, kw)`` of every kernel window of ``xp``.

    With ``dilation`` (dh, dw) a window takes every dh-th row and dw-th column (still
    a strided view, no copy).

    >>> w = windows(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (2, 2))
    >>> w.shape, w[0, 0, 1, 0].tolist()
    ((1, 1, 2, 2, 2, 2), [[8.0, 9.0], [12.0, 13.0]])
    >>> windows(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2), (1, 1), (2, 3))[0, 0, 1, 0].tolist()
    [[4.0, 7.0], [12.0, 15.0]]
    """
    n, c, h, w = xp.shape
    (sh, sw), (dh, dw) = stride, dilation
    eh, ew = _span(kernel, dilation)
    bn, bc, bh, bw = xp.strides
    shape = (n, c, _out_size(h, eh, sh), _out_size(w, ew, sw), *kernel)
    return as_strided(xp, shape, (bn, bc, bh * sh, bw * sw, bh * dh, bw * dw), writeable=False)


def _add_windows(
    target: np.ndarray,
    per_window: np.ndarray,
    kernel: tuple,
    stride: tuple,
    dilation: tuple = (1, 1),
) -> np.ndarray:
    """Add ``per_window`` ``(N, C, OH, OW, kh, kw)`` into ``target`` at the windows' places.

    One strided slice add per kernel offset (overlapping windows add up).
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    oh, ow = per_window.shape[2:4]
    for i in range(kh):
        for j in range(kw):
            a, e = i * dh, j * dw
            target[:, :, a : a + sh * (oh - 1) + 1 : sh, e : e + sw * (ow - 1) + 1 : sw] += (
                per_window[:, :, :, :, i, j]
            )
    return target


def _check_fits(hw: tuple, kernel: tuple, padding: tuple, op: str, what: str = "") -> None:
    (h, w), (kh, kw), (ph, pw) = hw, kernel, padding
    if kh > h + 2 * ph or kw > w + 2 * pw:
        raise ValueError(
            f"{op}: {what or f'kernel {kernel}'} is larger than the padded input "
            f"{(h + 2 * ph, w + 2 * pw)} (input {hw}, padding {padding})"
        )


def _sides(padding: tuple) -> tuple:
    """``(ph, pw)`` or ``((top, bottom), (left, right))`` as the latter."""
    return tuple((v, v) if isinstance(v, (int, np.integer)) else tuple(v) for v in padding)


def _padded(x: np.ndarray, padding: tuple, value: Any = 0) -> np.ndarray:
    """``x`` with rows/columns of ``value`` around H and W.

    ``padding``: (ph, pw) on each side, or ((top, bottom), (left, right)).
    """
    (t, b), (le, r) = _sides(padding)
    if t == b == le == r == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (t, b), (le, r)), constant_values=value)


def _cropped(xp: np.ndarray, padding: tuple) -> np.ndarray:
    """The inverse of :func:`_padded`: ``xp`` without its ``padding`` border."""
    (t, b), (le, r) = _sides(padding)
    if t == b == le == r == 0:
        return xp
    return xp[:, :, t : xp.shape[2] - b, le : xp.shape[3] - r].copy()


def _im2col(
    x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple
) -> np.ndarray:
    """The windows of padded ``x`` as rows: ``(N·OH·OW, C·kh·kw)``, one copy."""
    win = windows(_padded(x, padding), kernel, stride, dilation)
    n, c, oh, ow, kh, kw = win.shape
    cols = np.empty((n, oh, ow, c, kh, kw), dtype=x.dtype)
    cols[...] = win.transpose(0, 2, 3, 1, 4, 5)
    return cols.reshape(n * oh * ow, c * kh * kw)


def _as_rows(g: np.ndarray) -> np.ndarray:
    """``(N, O, OH, OW)`` as ``(N·OH·OW, O)`` (the output-gradient matrix)."""
    n, o, oh, ow = g.shape
    rows = np.empty((n, oh, ow, o), dtype=g.dtype)
    rows[...] = g.transpose(0, 2, 3, 1)
    return rows.reshape(-1, o)


# ------------------------------------------------------------- convolution

# The windows-as-rows of the latest conv2d forward, as (x array, (weight shape, stride,
# padding), rows): the weight gradient of its backward (usually the next conv2d_grad_weight)
# takes them instead of copying the windows again. Only read-only arrays (a Value's data,
# which cannot change while its node is alive) are kept, so the same array means the
# same values; nothing is kept under no_grad (inference).
_COLS_SAVED: list = [None, None, None]


def _conv_geometry(
    xs: tuple, ws: tuple, stride: Any, padding: Any, dilation: Any, groups: Any, op: str = "conv2d"
) -> tuple:
    """Stride, padding, dilation as pairs and groups, with x and weight shapes checked."""
    if len(xs) != 4:
        raise ValueError(f"{op} needs x of shape (N, C, H, W), got shape {xs}")
    if len(ws) != 4:
        raise ValueError(f"{op} needs weight of shape (O, C/groups, kh, kw), got shape {ws}")
    s, p, d, g = _conv_params(stride, padding, dilation, groups, op)
    if xs[1] % g:
        raise ValueError(f"{op}: x has {xs[1]} channels (shape {xs}), not divisible by groups={g}")
    if ws[0] % g:
        raise ValueError(
            f"{op}: weight has {ws[0]} filters (shape {ws}), not divisible by groups={g}"
        )
    if xs[1] != ws[1] * g:
        grouped = f" with groups={g}" if g != 1 else ""
        raise ValueError(
            f"{op}: x has {xs[1]} channels (shape {xs}) but weight of shape {ws}{grouped} "
            f"expects {ws[1] * g}" + (f" ({ws[1]} per group)" if g != 1 else "")
        )
    span = _span(ws[2:], d)
    what = f"kernel {tuple(ws[2:])} with dilation {d} (span {span})" if d != (1, 1) else ""
    _check_fits(xs[2:], span, p, op, what)
    return s, p, d, g


def _conv_params(
    stride: Any, padding: Any, dilation: Any, groups: Any, op: str = "conv2d"
) -> tuple:
    s = _pair(stride, "stride", op)
    p = _pair(padding, "padding", op, minimum=0)
    return s, p, _pair(dilation, "dilation", op), _groups(groups, op)


def _groups(groups: Any, op: str) -> int:
    """``groups`` as an int >= 1; ``ValueError`` naming ``op`` otherwise."""
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be an int >= 1, got {groups!r}")
    return int(groups)


def _grouped_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` (M, G·K) times the block-diagonal matrix of ``b`` (G, K, J): (M, G·J).

    Column block i of ``a`` (group i's K columns) times ``b[i]``; one matrix product
    when G = 1, else one batched product (the groups of a grouped convolution), or an
    einsum when K or J is 1 (depthwise), where numpy's batched matmul is 2-4x slower.
    """
    groups, k, j = b.shape
    if groups == 1:
        return a @ b[0]
    m = a.shape[0]
    if k == 1 or j == 1:
        return np.einsum("mgk,gkj->mgj", a.reshape(m, groups, k), b).reshape(m, groups * j)
    out = np.empty((m, groups, j), dtype=np.result_type(a, b))
    np.matmul(a.reshape(m, groups, k).transpose(1, 0, 2), b, out=out.transpose(1, 0, 2))
    return out.reshape(m, groups * j)


def _conv2d_forward(
    x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any, groups: Any
) -> Any:
    xs, ws = np.shape(x), np.shape(w)
    s, p, d, g = _conv_geometry(xs, ws, stride, padding, dilation, groups)
    if np.ndim(b) and np.shape(b) != ws[:1]:
        raise ValueError(f"conv2d: bias of shape {np.shape(b)} for {ws[0]} filters (weight {ws})")
    n, o = xs[0], ws[0]
    cols = _im2col(np.asarray(x), ws[2:], s, p, d)
    eh, ew = _span(ws[2:], d)
    oh, ow = (_out_size(xs[2] + 2 * p[0], eh, s[0]), _out_size(xs[3] + 2 * p[1], ew, s[1]))
    if type(x) is np.ndarray and not x.flags.writeable and is_grad_enabled():
        _COLS_SAVED[:] = x, (ws, s, p, d), cols  # a Value's array, and a backward may follow
    # each group's filters (O/G, C/G·kh·kw) as a (C/G·kh·kw, O/G) block
    rows = _grouped_product(cols, np.asarray(w).reshape(g, o // g, -1).transpose(0, 2, 1))
    if np.ndim(b) or b != 0:
        rows += b
    out = np.empty((n, o, oh, ow), dtype=rows.dtype)
    out[...] = rows.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)
    return out


def _conv_grad_input_forward(
    g: Any, w: Any, x_shape: tuple, stride: Any, padding: Any, dilation: Any, groups: Any
) -> np.ndarray:
    """The transposed convolution: ``Σ`` of each output's gradient times the filters."""
    geometry = stride, padding, dilation, groups, "conv2d_grad_input"
    s, p, d, groups = _conv_geometry(tuple(x_shape), np.shape(w), *geometry)
    n, c, h, wd = x_shape
    o, _, kh, kw = np.shape(w)
    g = np.asarray(g)
    oh, ow = g.shape[2:]
    w_blocks = np.asarray(w).reshape(groups, o // groups, -1)
    per_window = _grouped_product(_as_rows(g), w_blocks).reshape(n, oh, ow, c, kh, kw)
    gxp = np.zeros((n, c, h + 2 * p[0], wd + 2 * p[1]), dtype=per_window.dtype)
    _add_windows(gxp, per_window.transpose(0, 3, 1, 2, 4, 5), (kh, kw), s, d)
    return gxp[:, :, p[0] : p[0] + h, p[1] : p[1] + wd].copy() if p != (0, 0) else gxp


def _conv_grad_weight_forward(
    x: Any, g: Any, w_shape: tuple, stride: Any, padding: Any, dilation: Any, groups: Any
) -> np.ndarray:
    """``Σ_n,oh,ow`` of each output's gradient times its input window."""
    geometry = stride, padding, dilation, groups, "conv2d_grad_weight"
    s, p, d, groups = _conv_geometry(np.shape(x), tuple(w_shape), *geometry)
    saved, key, cols = _COLS_SAVED
    if saved is x and key == (tuple(w_shape), s, p, d):
        _COLS_SAVED[:] = None, None, None  # used once: the usual backward after a forward
    else:
        cols = _im2col(np.asarray(x), w_shape[2:], s, p, d)
    rows = _as_rows(np.asarray(g))
    if groups == 1:
        return (rows.T @ cols).reshape(w_shape)
    m = rows.shape[0]  # group i: its O/G output columns against its C/G·kh·kw input columns
    by_group, cols = rows.reshape(m, groups, -1), cols.reshape(m, groups, -1)
    if by_group.shape[2] == 1:  # depthwise: einsum is ~2x numpy's batched matmul here
        return np.einsum("mgj,mgk->gjk", by_group, cols).reshape(w_shape)
    return (by_group.transpose(1, 2, 0) @ cols.transpose(1, 0, 2)).reshape(w_shape)


def _conv_vjp_x(g: Any, out: Any, x: Any, w: Any, b: Any, *geometry: Any) -> Any:
    return conv2d_grad_input.poly(g, w, shape_of(x), *geometry)


def _conv_vjp_w(g: Any, out: Any, x: Any, w: Any, b: Any, *geometry: Any) -> Any:
    return conv2d_grad_weight.poly(x, g, shape_of(w), *geometry)


def _conv_vjp_b(g: Any, out: Any, x: Any, w: Any, b: Any, *geometry: Any) -> Any:
    total = g.sum(axis=(0, 2, 3))
    return total if len(shape_of(b)) else total.sum()


def _conv_sympy(
    sp: Any, x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any, groups: Any
) -> Any:
    """The convolution written out: one SymPy sum per output element (slow, tiny shapes).

    Filter j sees the input channels of its group only: the C/G channels from
    (j // (O/G))·C/G on.
    """
    s, p, d, groups = _conv_params(stride, padding, dilation, groups)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=sp.Integer(0))
    n, _, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    eh, ew = _span((kh, kw), d)
    oh, ow = _out_size(h, eh, s[0]), _out_size(wd, ew, s[1])
    out = np.empty((n, o, oh, ow), dtype=object)
    for idx in np.ndindex(out.shape):
        i, j, r, q = idx
        first = j // (o // groups) * cg
        patch = xp[
            i, first : first + cg, r * s[0] : r * s[0] + eh : d[0], q * s[1] : q * s[1] + ew : d[1]
        ]
        out[idx] = sp.Add(*(patch * w[j]).ravel()) + (b[j] if np.ndim(b) else b)
    return out


conv2d_op = register(
    Op(
        "conv2d",
        forward=_conv2d_forward,
        vjps=(_conv_vjp_x, _conv_vjp_w, _conv_vjp_b),
        label="conv2d",
        inputs=("x", "W", "b"),
        params=("stride", "padding", "dilation", "groups"),
        defaults={"stride": 1, "padding": 0, "dilation": 1, "groups": 1},
        doc="2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W), "
        "W (O, C/groups, kh, kw)",
        sympy_def=_conv_sympy,
        cases=(
            SymCase(((1, 2, 3, 3), (2, 2, 2, 2), (2,)), (1, 0), note="2 filters"),
            SymCase(((1, 1, 3, 3), (1, 1, 2, 2), (1,)), (2, 1), note="stride 2, padding 1"),
            SymCase(
                ((1, 1, 3, 4), (1, 1, 2, 2), (1,)), (1, (1, 0), (2, 3)), note="dilation (2, 3)"
            ),
            SymCase(((1, 4, 2, 3), (2, 2, 2, 2), (2,)), (1, 0, 1, 2), note="groups 2"),
            SymCase(
                ((1, 2, 3, 2), (4, 1, 2, 1), (4,)),
                (2, (1, 0), 1, 2),
                note="depthwise ×2, stride 2, padding (1, 0)",
            ),
        ),
    )
)


def _grad_input_sympy(sp: Any, g: Any, w: Any, x_shape: tuple, *geometry: Any) -> Any:
    # <h, conv2d_grad_input(g, W)> = <conv2d(h, W), g>: differentiate that in h's symbols
    h = symbols_like("_h", tuple(x_shape))
    inner = sp.Add(*(_conv_sympy(sp, h, w, 0, *geometry) * g).ravel())
    return elementwise(lambda v: sp.diff(inner, v), h)


def _grad_weight_sympy(sp: Any, x: Any, g: Any, w_shape: tuple, *geometry: Any) -> Any:
    k = symbols_like("_k", tuple(w_shape))
    inner = sp.Add(*(_conv_sympy(sp, x, k, 0, *geometry) * g).ravel())
    return elementwise(lambda v: sp.diff(inner, v), k)


conv2d_grad_input = register(
    Op(
        "conv2d_grad_input",
        forward=_conv_grad_input_forward,
        vjps=(
            lambda h, out, g, w, x_shape, *geometry: conv2d_op.poly(h, w, 0.0, *geometry),
            lambda h, out, g, w, x_shape, *geometry: conv2d_grad_weight.poly(
                h, g, shape_of(w), *geometry
            ),
        ),
        label="conv2dᵀ",
        inputs=("g", "W"),
        params=("x_shape", "stride", "padding", "dilation", "groups"),
        defaults={"dilation": 1, "groups": 1},
        doc="the gradient of conv2d for its input x (the transposed convolution of g with W)",
        sympy_def=_grad_input_sympy,
        cases=(
            SymCase(((1, 2, 2, 2), (2, 1, 2, 2)), ((1, 1, 3, 3), 1, 0, 1)),
            SymCase(((1, 1, 2, 1), (1, 1, 2, 2)), ((1, 1, 4, 3), 1, 0, 2), note="dilation 2"),
            SymCase(((1, 4, 1, 2), (4, 1, 2, 2)), ((1, 2, 2, 3), 1, 0, 1, 2), note="groups 2"),
        ),
    )
)

conv2d_grad_weight = register(
    Op(
        "conv2d_grad_weight",
        forward=_conv_grad_weight_forward,
        vjps=(
            lambda k, out, x, g, w_shape, *geometry: conv2d_grad_input.poly(
                g, k, shape_of(x), *geometry
            ),
            lambda k, out, x, g, w_shape, *geometry: conv2d_op.poly(x, k, 0.0, *geometry),
        ),
        label="∂conv2d/∂W",
        inputs=("x", "g"),
        params=("w_shape", "stride", "padding", "dilation", "groups"),
        defaults={"dilation": 1, "groups": 1},
        doc="the gradient of conv2d for its weight W (input windows times g, summed)",
        sympy_def=_grad_weight_sympy,
        cases=(
            SymCase(((1, 1, 3, 3), (1, 2, 2, 2)), ((2, 1, 2, 2), 1, 0, 1)),
            SymCase(((1, 1, 4, 3), (1, 1, 2, 1)), ((1, 1, 2, 2), 1, 0, 2), note="dilation 2"),
            SymCase(((1, 2, 2, 3), (1, 4, 1, 2)), ((4, 1, 2, 2), 1, 0, 1, 2), note="groups 2"),
        ),
    )
)

# ----------------------------------------------------------------- dropout


def _dropout_forward(x: Any, mask: Any) -> Any:
    if np.shape(mask) != np.shape(x):
        raise ValueError(f"dropout: mask of shape {np.shape(mask)} for x of shape {np.shape(x)}")
    return x * mask


dropout_op = register(
    Op(
        "dropout",
        forward=_dropout_forward,
        vjps=(lambda g, out, x, mask: g * mask,),
        label="dropout",
        params=("mask",),
        keeps_inputs=False,
        doc="x times a fixed mask of 0 and 1/(1-p) (dropout with its mask drawn already)",
        sympy_def=lambda sp, x, mask: x * mask,
        cases=(SymCase(((2, 3),), (np.array([[2.0, 0.0, 2.0], [0.0, 0.0, 2.0]]),)),),
    )
)


def dropout(x: Any, p: float = 0.5, training: bool = True, rng: Any = None) -> Value:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    ``rng`` is a ``numpy.random.Generator`` or a seed (``None``: a fresh generator).
    ``training=False`` (or ``p = 0``) returns ``x`` unchanged. The mask is a fixed
    parameter of the recorded node, so backward multiplies by the same mask.

    >>> import numpy as np, autograd_lite as al
    >>> y = al.dropout(al.Value(np.ones(6)), p=0.5, rng=0)
    >>> sorted(set(y.data.tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    >>> al.dropout(al.Value([1.0, 2.0]), training=False).data.tolist()
    [1.0, 2.0]
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p < 1:
        raise ValueError(f"dropout: p must be a probability in [0, 1), got {p!r}")
    if not isinstance(x, Value):
        x = Value(x, requires_grad=False)
    if not training or p == 0:
        return x
    if isinstance(rng, np.random.Generator):
        gen = rng
    elif rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        try:
            gen = np.random.default_rng(rng)
        except ValueError as exc:  # a negative seed
            raise ValueError(f"dropout: rng seed {rng!r}: {exc}") from None
    else:
        raise TypeError(f"dropout: rng must be a numpy Generator, an int seed or None, got {rng!r}")
    d = x._data
    keep = gen.random(np.shape(d)) >= p
    if type(d) is float:
        mask: Any = float(keep) / (1.0 - p)
    else:
        mask = keep.astype(d.dtype) * d.dtype.type(1.0 / (1.0 - p))
    return dropout_op(x, mask)


# ------------------------------------------------- conv2d with optional bias


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Value:
    """2-D convolution as PyTorch's ``F.conv2d``: x (N, C, H, W), weight (O, C/groups, kh, kw).

    ``bias`` (O,) is optional; ``stride``, ``padding`` and ``dilation`` are ints or (h, w)
    pairs. A dilation d spaces the kernel taps d apart (the kernel spans (k − 1)·d + 1).
    Output (N, O, (H + 2p - (kh-1)·d - 1)//s + 1, (W + 2p - (kw-1)·d - 1)//s + 1).
    With ``groups`` G (C and O divisible by G) the channels split into G groups: the
    O/G filters of group i see only input channels i·C/G … (i+1)·C/G − 1 (G = C: a
    depthwise convolution).

    >>> import numpy as np, autograd_lite as al
    >>> x = al.Value(np.ones((1, 1, 3, 3)))
    >>> w = al.Value(np.ones((2, 1, 2, 2)))
    >>> y = al.conv2d(x, w, al.Value([0.0, 1.0]))
    >>> y.shape, y.data[0, :, 0, 0].tolist()
    ((1, 2, 2, 2), [4.0, 5.0])
    >>> y.sum().backward(); x.grad[0, 0].tolist()
    [[2.0, 4.0, 2.0], [4.0, 8.0, 4.0], [2.0, 4.0, 2.0]]
    >>> x5 = al.Value(np.arange(25.0).reshape(1, 1, 5, 5))
    >>> al.conv2d(x5, al.Value(np.ones((1, 1, 2, 2))), dilation=2).data[0, 0, 0].tolist()
    [24.0, 28.0, 32.0]
    >>> two = np.stack([np.ones((3, 3)), 10 * np.ones((3, 3))])[None]  # 2 channels
    >>> al.conv2d(two, np.ones((2, 1, 3, 3)), groups=2).data.ravel().tolist()  # depthwise
    [9.0, 90.0]
    """
    return conv2d_op(x, weight, 0.0 if bias is None else bias, stride, padding, dilation, groups)


# functions of images, not methods of every Value (as in PyTorch's torch.nn.functional)
for _name in (
    "conv2d",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "dropout",
):
    _remove_method(_name)
