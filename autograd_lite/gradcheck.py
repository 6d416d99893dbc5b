"""Central finite differences against backward: the numerical ground truth.

>>> import autograd_lite as al
>>> al.gradcheck(lambda a, b: (a * b).tanh().sum(), al.Value([0.5, -1.0]), al.Value([2.0, 0.3]))
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .value import Value


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names the worst element."""


def numeric_grad(
    fn: Callable[..., Value],
    inputs: Sequence[Value],
    index: int,
    eps: float = 1e-6,
    weights: np.ndarray | None = None,
) -> Any:
    """Central-difference gradient of ``sum(weights * fn(*inputs))`` w.r.t. ``inputs[index]``.

    >>> x = Value([1.0, 2.0])
    >>> numeric_grad(lambda v: (v * v).sum(), [x], 0).round(6).tolist()
    [2.0, 4.0]
    """
    from .graph import no_grad

    target = inputs[index]
    base = np.array(target.data, dtype=np.float64)
    grad = np.zeros_like(base)
    flat = base.reshape(-1)
    with no_grad():
        for i in range(flat.size):
            vals = []
            for sign in (1.0, -1.0):
                probe = flat.copy()
                probe[i] += sign * eps
                target.data = probe.reshape(base.shape).astype(np.asarray(target.data).dtype)
                out = np.asarray(fn(*inputs).data, dtype=np.float64)
                vals.append(float(np.sum(out if weights is None else out * weights)))
            grad.reshape(-1)[i] = (vals[0] - vals[1]) / (2 * eps)
    target.data = base if base.ndim else float(base)
    return grad if base.ndim else float(grad)


def gradcheck(
    fn: Callable[..., Value],
    *inputs: Value,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
) -> bool:
    """Compare backward's gradients with central finite differences.

    ``fn(*inputs)`` must return a Value; a non-scalar output is checked through
    a fixed random projection. Returns ``True``, or raises :class:`GradcheckError`
    naming the input, the worst element, and both numbers.

    >>> import autograd_lite as al
    >>> bad = al.Op("bad_square", lambda z: z * z, (lambda g, out, z: 3 * g * z,), formula="z**2")
    >>> al.gradcheck(lambda v: bad(v).sum(), al.Value([1.0, 2.0]))
    Traceback (most recent call last):
    ...
    autograd_lite.gradcheck.GradcheckError: gradcheck: input 0 element (1,): analytic 6 vs ...
    """
    values = list(inputs)
    for i, v in enumerate(values):
        if not isinstance(v, Value):
            raise TypeError(f"gradcheck: input {i} must be a Value, got {type(v).__name__}")
    for v in values:
        v.zero_grad()
    out = fn(*values)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: fn must return a Value, got {type(out).__name__}")
    weights = None
    if out.ndim:
        weights = np.random.default_rng(seed).standard_normal(out.shape)
        out.backward(weights)
    else:
        out.backward()
    for i, v in enumerate(values):
        if not v.requires_grad:
            continue
        analytic = np.asarray(v.grad, dtype=np.float64)
        numeric = np.asarray(numeric_grad(fn, values, i, eps, weights))
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        worst = int(np.argmax(err)) if err.size else 0
        if err.size and err.reshape(-1)[worst] > 0:
            where = (
                tuple(int(i) for i in np.unravel_index(worst, analytic.shape))
                if analytic.ndim
                else ()
            )
            label = f" ({v.label!r})" if v.label else ""
            a = analytic.reshape(-1)[worst]
            n = numeric.reshape(-1)[worst]
            raise GradcheckError(
                f"gradcheck: input {i}{label} element {where}: analytic {a:.6g} vs numeric "
                f"{n:.6g} (abs diff {abs(a - n):.3g}, atol={atol}, rtol={rtol})"
            )
    return True
