"""The graph mechanism: recording nodes, reverse topological order, backward.

This module knows "node, parents, vjp" and nothing about particular ops:

* :func:`apply` runs an op's forward and, when a gradient may be needed, records
  the output as a node whose ``parents`` are the inputs (in argument order).
* :func:`backward` orders the graph iteratively (no recursion) and calls each
  node's ``op.vjps[i]`` once per input that needs a gradient, summing the
  results into that input. A gradient whose shape differs from its input (the
  input was broadcast) is summed back to the input's shape.

Safety against silent wrong gradients lives here too:

* op outputs are read-only arrays, so intermediate data cannot be changed in
  place;
* a leaf array that a recorded op needs for its backward is made read-only
  until that backward has run (or the graph is dropped); changing ``.data`` by
  assignment is always allowed, because nodes keep the arrays they were built
  from;
* a graph that backward has freed refuses a second pass with a clear error.

>>> import autograd_lite as al
>>> x = al.Value(3.0, label="x")
>>> y = x * x + x
>>> y.backward()
>>> x.grad
7.0
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from .value import Value, as_data

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _Modes:
    """Global switches; module attributes read on every op (kept cheap)."""

    grad_enabled = True
    anomaly = False
    grad_of = None  # while backward(create_graph=True) runs: the node being differentiated


modes = _Modes()


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Ops inside this block record no graph (evaluation, parameter updates).

    >>> import autograd_lite as al
    >>> w = al.Value(2.0)
    >>> with al.no_grad():
    ...     y = w * 3
    >>> y.op, y.parents, y.requires_grad
    ('', (), False)
    """
    previous = modes.grad_enabled
    modes.grad_enabled = False
    try:
        yield
    finally:
        modes.grad_enabled = previous


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Record graphs again inside a ``no_grad`` block.

    >>> import autograd_lite as al
    >>> with al.no_grad(), al.enable_grad():
    ...     (al.Value(1.0) * 2).op
    'mul'
    """
    previous = modes.grad_enabled
    modes.grad_enabled = True
    try:
        yield
    finally:
        modes.grad_enabled = previous


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad``.

    >>> import autograd_lite as al
    >>> al.is_grad_enabled()
    True
    """
    return modes.grad_enabled


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` at the first op whose output or gradient is NaN/inf.

    The message names the op, the node's label and the line of user code that
    created it.

    >>> import autograd_lite as al
    >>> with al.detect_anomaly():
    ...     al.Value(-1.0, label="v").log()
    Traceback (most recent call last):
    ...
    FloatingPointError: op 'log' produced nan in its output...
    """
    previous = modes.anomaly
    modes.anomaly = True
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        modes.anomaly = previous


def _user_site() -> str:
    """``file:line`` of the innermost frame outside this package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.dirname(
        os.path.abspath(frame.f_code.co_filename)
    ).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


def _nonfinite_kind(data: Any) -> str | None:
    if isinstance(data, float):
        if data != data:
            return "nan"
        if data in (float("inf"), float("-inf")):
            return "inf"
        return None
    arr = np.asarray(data)
    if arr.dtype.kind not in "fc" or np.isfinite(arr).all():
        return None
    return "nan" if np.isnan(arr).any() else "inf"


def _anomaly_check(node: Value, what: str, data: Any, parent: Value | None = None) -> None:
    kind = _nonfinite_kind(data)
    if kind is None:
        return
    where = node.site or "<created outside detect_anomaly>"
    label = f" (label {node.label!r})" if node.label else ""
    extra = ""
    if parent is not None:
        plabel = f" {parent.label!r}" if parent.label else ""
        extra = f" for its input{plabel} of shape {parent.shape}"
    raise FloatingPointError(
        f"op {node.op!r}{label} produced {kind} in its {what}{extra}; node created at {where}"
    )


class _Lock:
    """Read-only locks on leaf arrays that one recorded node needs for backward.

    Counted per array, so several pending graphs may share a leaf. Released by
    backward once the node has used them, or when the node is garbage collected.
    """

    __slots__ = ("arrays",)
    counts: dict[int, list] = {}

    def __init__(self, arrays: list) -> None:
        counts = _Lock.counts
        for arr in arrays:
            entry = counts.get(id(arr))
            if entry is None:
                counts[id(arr)] = [arr, 1]
                arr.flags.writeable = False
            else:
                entry[1] += 1
        self.arrays = arrays

    def release(self) -> None:
        arrays, self.arrays = self.arrays, None
        if not arrays:
            return
        counts = _Lock.counts
        for arr in arrays:
            entry = counts.get(id(arr))
            if entry is None:  # pragma: no cover - defensive
                continue
            entry[1] -= 1
            if entry[1] == 0:
                del counts[id(arr)]
                arr.flags.writeable = True

    def __del__(self) -> None:
        if self.arrays:
            self.release()


def _lockable(data: Any) -> bool:
    return type(data) is np.ndarray and data.flags.writeable


# ``node._lock`` is None, a _Lock, or FREED once backward has used the node.
FREED = "freed"


def _constant(x: Any) -> Value:
    return Value(x, requires_grad=False)


def apply(op: Any, inputs: tuple, params: tuple = ()) -> Value:
    """Run ``op`` on ``inputs`` and record the result as a graph node.

    Inputs that are not Values (numbers, lists, arrays) become constant leaves.
    Nothing is recorded inside ``no_grad`` or when no input requires a gradient.

    >>> import autograd_lite as al
    >>> from autograd_lite.registry import get_op
    >>> y = apply(get_op("mul"), (al.Value(2.0), 3.0))
    >>> y.data, y.op, [p.data for p in y.parents]
    (6.0, 'mul', [2.0, 3.0])
    """
    if len(inputs) == 2:
        a, b = inputs
        if not isinstance(a, Value):
            a = _constant(a)
        if not isinstance(b, Value):
            b = _constant(b)
        parents = (a, b)
        datas = (a._data, b._data)
        needs = a.requires_grad or b.requires_grad
        floats = type(datas[0]) is float and type(datas[1]) is float
    elif len(inputs) == 1:
        a = inputs[0]
        if not isinstance(a, Value):
            a = _constant(a)
        parents = (a,)
        datas = (a._data,)
        needs = a.requires_grad
        floats = type(datas[0]) is float
    else:
        parents = tuple(x if isinstance(x, Value) else _constant(x) for x in inputs)
        datas = tuple(p._data for p in parents)
        needs = any(p.requires_grad for p in parents)
        floats = all(type(d) is float for d in datas)
    try:
        out = op.float_forward(*datas, *params) if floats else op.forward(*datas, *params)
    except (ValueError, TypeError, IndexError) as exc:
        shapes = " and ".join(str(np.shape(d)) for d in datas)
        raise type(exc)(f"{op.name}: cannot apply to shapes {shapes}: {exc}") from None

    node = Value.__new__(Value)
    t = type(out)
    if t is not float and not (t is np.ndarray and (out.ndim or out.dtype != np.float64)):
        out = as_data(out, op.name)  # numpy scalars and 0-d float64 arrays become floats
    node._data = out
    node._grad = None
    node._acc = None
    node.label = ""
    node.site = None
    node.grad_of = modes.grad_of
    if needs and modes.grad_enabled:
        node.requires_grad = True
        node.parents = parents
        node._op = op
        node._args = datas + params if params else datas
        if floats:
            node._lock = None
        else:
            if type(out) is np.ndarray:
                out.flags.writeable = False  # intermediate results are never changed in place
            arrays = [d for d in datas if _lockable(d)] if op.keeps_inputs else None
            node._lock = _Lock(arrays) if arrays else None
    else:
        node.requires_grad = False
        node.parents = ()
        node._op = None
        node._args = ()
        node._lock = None
    if modes.anomaly:
        node.site = _user_site()
        if node._op is None:
            node._op = op  # keep the name for the message even without a graph
        _anomaly_check(node, "output", node._data)
    return node


def topological_order(root: Value) -> list[Value]:
    """Nodes that lead to ``root`` and need a gradient, inputs before outputs.

    Iterative depth-first search: a chain of a million nodes is fine.

    >>> import autograd_lite as al
    >>> a = al.Value(1.0, label="a")
    >>> b = (a * 2).tanh()
    >>> [v.label or v.op for v in topological_order(b)]
    ['a', 'mul', 'tanh']
    """
    order: list[Value] = []
    if not root.requires_grad:
        return order
    expanded: set[Value] = set()
    done: set[Value] = set()
    stack = [root]
    push = stack.append
    pop = stack.pop
    while stack:
        node = pop()
        if node in expanded:
            if node not in done:
                done.add(node)
                order.append(node)
            continue
        expanded.add(node)
        push(node)
        for parent in node.parents:
            if parent.requires_grad and parent not in expanded:
                push(parent)
    return order


def _fit(grad: Any, data: Any, create_graph: bool) -> Any:
    """Sum a broadcast gradient back to the shape (and dtype) of ``data``."""
    if type(data) is float:
        if type(grad) is float:
            return grad
        if isinstance(grad, Value):
            return grad.sum() if grad.shape != () else grad
        return float(np.sum(grad))
    shape = data.shape
    if isinstance(grad, Value):
        if grad.shape != shape:
            from .ops import sum_to

            grad = sum_to(grad, shape)
        return grad
    if type(grad) is not np.ndarray or grad.shape != shape:
        from .ops import sum_to

        grad = sum_to.forward(np.asarray(grad), shape)
    if grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    return grad


def backward(
    root: Value,
    grad: Any = None,
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Reverse-mode pass: add d(root)/d(node) into ``node.grad`` for every node.

    See :meth:`Value.backward` for the user-facing description.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward() on a Value that does not require a gradient: it was computed "
            "from constants only, or inside no_grad()"
        )
    seed = _seed(root, grad)
    order = topological_order(root)
    if create_graph:
        retain_graph = True
    for node in order:
        if node._lock is FREED:
            raise RuntimeError(
                f"node {node.op!r}{' ' + repr(node.label) if node.label else ''} was already "
                "freed by an earlier backward(); call backward(retain_graph=True) the first "
                "time to backpropagate through this graph twice"
            )
    root._acc = _as_value(seed) if create_graph else seed
    anomaly = modes.anomaly
    completed = False
    previous = modes.grad_enabled
    previous_of = modes.grad_of
    modes.grad_enabled = create_graph
    try:
        for node in reversed(order):
            g = node._acc
            if g is None:
                continue
            node._acc = None
            if anomaly:
                _anomaly_check(node, "gradient", g.data if isinstance(g, Value) else g)
            node._grad = g if node._grad is None else node._grad + g
            op = node._op
            if op is None:
                continue
            parents = node.parents
            if create_graph:
                args = _live_inputs(node)
                out = node
                modes.grad_of = node
            else:
                args = node._args
                out = node._data
            vjps = op.vjps
            i = 0
            for parent in parents:
                if parent.requires_grad:
                    gi = vjps[i](g, out, *args)
                    if gi is not None:
                        pdata = parent._data
                        if type(gi) is not float or type(pdata) is not float:
                            gi = _fit(gi, pdata, create_graph)
                        if anomaly:
                            _anomaly_check(
                                node, "gradient", gi.data if isinstance(gi, Value) else gi, parent
                            )
                        acc = parent._acc
                        parent._acc = gi if acc is None else acc + gi
                i += 1
        completed = True
    finally:
        modes.grad_enabled = previous
        modes.grad_of = previous_of
        if completed and not retain_graph:
            for node in order:
                lock = node._lock
                if lock is not None:
                    lock.release()
                if node._op is not None:
                    node._lock = FREED
        elif not completed:
            for node in order:
                node._acc = None


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def _live_inputs(node: Value) -> tuple:
    """The node's inputs as Values (for recording backward), params appended."""
    for parent, saved in zip(node.parents, node._args):
        if parent._data is not saved:
            raise RuntimeError(
                f"the data of input {parent.label or parent.op or 'leaf'!r} of node "
                f"{node.op!r} was reassigned after the forward pass; backward(create_graph=True) "
                "needs the inputs as they were"
            )
    return node.parents + node._args[len(node.parents) :]


def _seed(root: Value, grad: Any) -> Any:
    data = root._data
    if grad is None:
        if type(data) is float:
            return 1.0
        if data.ndim == 0:
            return np.ones((), dtype=data.dtype)
        raise ValueError(
            f"backward() on a non-scalar Value of shape {data.shape} needs grad=..., "
            "an array of that shape (or call .sum() first)"
        )
    if isinstance(grad, Value):
        grad = grad._data
    seed = as_data(grad, "backward(grad=...)")
    if np.shape(seed) != np.shape(data):
        raise ValueError(
            f"backward(grad=...): grad has shape {np.shape(seed)}, but the output has "
            f"shape {np.shape(data)}"
        )
    if type(data) is not float:
        seed = np.array(seed, dtype=data.dtype)
    return seed
