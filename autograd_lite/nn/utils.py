"""Gradient clipping as PyTorch's: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both work on the parameters that have a gradient; one without (``None``, after
``zero_grad()``) is left without one, so an optimizer still skips it.

>>> import numpy as np
>>> import autograd_lite as al
>>> from autograd_lite import nn
>>> w = al.Value(np.array([3.0, 4.0]))
>>> w.grad = [3.0, 4.0]
>>> float(nn.utils.clip_grad_norm_([w], max_norm=1.0))     # the norm before clipping
5.0
>>> w.grad.round(6).tolist()
[0.6, 0.8]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..arguments import is_real
from ..value import Value


def clip_grad_norm_(
    parameters: Iterable[Value] | Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``; in place.

    The norm is taken over all gradients as one vector (``norm_type`` 2 by default,
    ``inf`` for the largest entry). When it exceeds ``max_norm`` every gradient is
    multiplied by ``max_norm / (norm + 1e-6)``, as PyTorch does. Returns the total
    norm *before* clipping. ``parameters`` is a Module, one Value or an iterable.

    >>> import autograd_lite as al
    >>> v = al.Value([1.0]); v.grad = [0.5]
    >>> clip_grad_norm_(v, 1.0), v.grad.tolist()     # small gradients stay as they are
    (0.5, [0.5])
    """
    params = _with_gradients(parameters, "clip_grad_norm_")
    if not _is_limit(max_norm):
        raise ValueError(f"clip_grad_norm_: max_norm must be a number >= 0, got {max_norm!r}")
    norm_type = float(norm_type)
    grads = []
    for p in params:
        g = p.grad
        grads.append(np.asarray(g.data if isinstance(g, Value) else g, dtype=np.float64))
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.abs(g).max()) if g.size else 0.0 for g in grads)
    else:
        total = float(sum(float((np.abs(g) ** norm_type).sum()) for g in grads) ** (1 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of the gradients is {total}; "
            "pass error_if_nonfinite=False to clip anyway"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad = p.grad * coef
    return total


def _with_gradients(parameters: Iterable[Value] | Any, who: str) -> list[Value]:
    """Those of ``parameters`` (a Module, one Value or an iterable of Values) with a gradient."""
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    if isinstance(parameters, Value):
        parameters = [parameters]
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, expected a Value")
    return [p for p in params if p._grad is not None]


def _is_limit(value: Any) -> bool:
    """A number >= 0 (numpy's included), not a bool: a clipping limit."""
    return is_real(value) and value >= 0


def clip_grad_value_(parameters: Iterable[Value] | Any, clip_value: float) -> None:
    """Clip every gradient entry into ``[-clip_value, clip_value]``, as PyTorch's.

    ``parameters`` is a Module, one Value or an iterable; parameters without a
    gradient are left as they are. NaN entries stay NaN (as ``torch.clamp``).

    >>> import autograd_lite as al
    >>> v = al.Value([1.0, 2.0, 3.0]); v.grad = [-5.0, 0.5, 7.0]
    >>> clip_grad_value_(v, 1.0); v.grad.tolist()
    [-1.0, 0.5, 1.0]
    """
    if not _is_limit(clip_value):
        raise ValueError(f"clip_grad_value_: clip_value must be a number >= 0, got {clip_value!r}")
    for p in _with_gradients(parameters, "clip_grad_value_"):
        g = p.grad
        if isinstance(g, Value):  # a gradient recorded by create_graph: clip its data
            g = g.data
        p.grad = np.clip(g, -clip_value, clip_value)
