"""Small helpers for writing ops on numpy object arrays of SymPy expressions.

A structural op's SymPy definition (``Op.sympy_def``, see :mod:`autograd_lite.registry`)
receives each input as a numpy object array of element symbols. numpy's own
indexing, ``reshape``, ``transpose``, ``@`` and broadcasting already work on such
arrays; these helpers add what does not: applying a SymPy function to every
element, and reductions that build one SymPy expression per output element
(``sympy.Add``, ``sympy.Max``) along chosen axes.

The module never imports SymPy itself: callers pass the functions in.

>>> import sympy as sp
>>> z = symbols_like("z", (2, 2))
>>> z.tolist()
[[z0_0, z0_1], [z1_0, z1_1]]
>>> reduce(z, sp.Add, axis=1).tolist()
[z0_0 + z0_1, z1_0 + z1_1]
>>> elementwise(sp.exp, z)[0, 1]
exp(z0_1)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np


def symbols_like(name: str, shape: tuple[int, ...]) -> np.ndarray:
    """An object array of real SymPy symbols ``name<i>_<j>...``, one per element.

    A 0-d shape gives a 0-d array holding the symbol ``name``.

    >>> symbols_like("x", (3,)).tolist()
    [x0, x1, x2]
    >>> symbols_like("b", ()).item()
    b
    """
    import sympy

    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        suffix = "_".join(str(i) for i in idx)
        out[idx] = sympy.Symbol(f"{name}{suffix}", real=True)
    return out


def elementwise(fn: Callable[[Any], Any], x: Any) -> np.ndarray:
    """``fn`` applied to every element of the object array ``x`` (same shape).

    >>> import sympy as sp
    >>> elementwise(sp.log, symbols_like("p", (2,))).tolist()
    [log(p0), log(p1)]
    """
    x = np.asarray(x, dtype=object)
    out = np.empty(x.shape, dtype=object)
    for idx in np.ndindex(*x.shape):
        out[idx] = fn(x[idx])
    return out


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


def reduce(x: Any, fn: Callable[..., Any], axis: Any = None, keepdims: bool = False) -> np.ndarray:
    """One ``fn(*elements)`` per output element, over ``axis`` (all axes for ``None``).

    ``fn`` takes the reduced elements as separate arguments (``sympy.Add``,
    ``sympy.Max``), so the result holds single SymPy expressions.

    >>> import sympy as sp
    >>> x = symbols_like("x", (2, 3))
    >>> reduce(x, sp.Max, axis=0, keepdims=True).tolist()
    [[Max(x0_0, x1_0), Max(x0_1, x1_1), Max(x0_2, x1_2)]]
    >>> reduce(x, sp.Add).item()
    x0_0 + x0_1 + x0_2 + x1_0 + x1_1 + x1_2
    """
    x = np.asarray(x, dtype=object)
    axes = _axes(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = np.transpose(x, kept + list(axes))
    n = math.prod(x.shape[i] for i in axes)
    rows = moved.reshape(-1, n)
    out = np.empty(len(rows), dtype=object)
    for r in range(len(rows)):
        out[r] = fn(*rows[r])
    shape = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    if not keepdims:
        shape = tuple(x.shape[i] for i in kept)
    return out.reshape(shape)


def zeros(shape: tuple[int, ...]) -> np.ndarray:
    """An object array of SymPy zeros.

    >>> zeros((2,)).tolist()
    [0, 0]
    """
    import sympy

    out = np.empty(shape, dtype=object)
    out[...] = sympy.S.Zero
    return out
