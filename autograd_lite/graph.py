"""The graph mechanism: recording nodes, counting their readers, backward.

This module knows "node, parents, vjp" and nothing about particular ops:

* :func:`apply` runs an op's forward and, when a gradient may be needed, records
  the output as a node whose ``parents`` are the inputs (in argument order), and
  counts one more reader on each input that is itself an op's output.
* :func:`backward` processes a node once all its readers have sent their part
  (iteratively, no recursion) and calls its ``op.vjps[i]`` once per input that
  needs a gradient, summing the results into that input. A gradient whose shape
  differs from its input (the input was broadcast) is summed back to the
  input's shape.

Safety against silent wrong gradients lives here too:

* op outputs are read-only arrays, so intermediate data cannot be changed in
  place;
* a leaf array that a recorded op needs for its backward is made read-only
  until that backward has run (or the graph is dropped); assigning a leaf's
  ``.data`` is always allowed, because nodes keep the arrays they were built
  from (an op's output cannot be reassigned before its backward: it reads it);
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
from collections.abc import Container, Iterable, Iterator
from typing import Any

import numpy as np
from numpy import ndarray

from .registry import passthrough
from .value import _EXACT_REFCOUNTS, _FLOAT_DTYPES, MANY, Value, _Token, as_data

_F64, _F32 = _FLOAT_DTYPES  # numpy's own dtype objects: compared by identity on the hot path

_new = object.__new__  # what Value.__new__ is, without the attribute lookup
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _Modes:
    """Global switches, read on every op (instance attributes: the fastest to read).

    ``recording`` (gradients on and anomaly mode off: the short path of every op)
    follows ``grad_enabled`` and ``anomaly``, so an op reads one attribute, not two.
    """

    def __init__(self) -> None:
        self._grad_enabled = True
        self._anomaly = False
        self.recording = True
        self.grad_of: Value | None = None  # during backward(create_graph=True): the node
        self.origin: tuple | None = None  # what new nodes record: (grad_of, site) or None

    @property
    def grad_enabled(self) -> bool:
        return self._grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, on: bool) -> None:
        self._grad_enabled = on
        self.recording = on and not self._anomaly

    @property
    def anomaly(self) -> bool:
        return self._anomaly

    @anomaly.setter
    def anomaly(self, on: bool) -> None:
        self._anomaly = on
        self.recording = self._grad_enabled and not on


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
    elif what == "output":  # the new node has no label yet: name its labelled inputs
        names = [repr(p.label) for p in node.parents if p.label]
        if names:
            extra = f" (inputs {', '.join(names)})"
    raise FloatingPointError(
        f"op {node.op!r}{label} produced {kind} in its {what}{extra}; node created at {where}"
    )


class _Lock:
    """A pin on a leaf array that ``.data`` has handed out, for one pending use.

    A leaf's ``_lock`` slot says who may write its array:

    * a ``value._Token``: no caller holds the array, and it is read-only. Recording
      an op that needs it costs one reference to the token, kept by the node (in its
      ``_lock``) until backward frees the node or the graph is dropped; so the
      token's reference count is the number of pending uses, and ``Value.data``
      hands the array out (writeable) only when there are none. Fresh leaves and
      rebound data start here, and a training loop that never asks for ``.data``
      stays here: no count, no call, no finalizer;
    * ``None``: ``.data`` has handed the raw array out (the caller may hold it) and
      nothing pends: writeable. The next op that records it takes it back as the
      token state if no one else holds it any more (``_lock_inputs``), else pins it;
    * ``-n``: handed out, with ``n`` pending uses, each pinned by one ``_Lock``: the
      array is read-only until the last pin is released, then writeable again
      without the caller asking ``.data`` (a reference they kept follows the lock).

    A pin is released when the ``_Lock`` is deleted, which happens at once when
    backward frees its node or the graph is dropped (nodes form no reference
    cycles). Assigning ``leaf.data = new`` starts afresh; nodes keep the old array.
    """

    __slots__ = ("leaf", "arr")

    def __del__(self) -> None:
        leaf = self.leaf
        if leaf._data is self.arr:  # (rebound since: the pin went with the old array)
            count = leaf._lock
            if count == -1:
                leaf._lock = None
                self.arr.setflags(True)
            else:
                leaf._lock = count + 1


def _hold(leaf: Value, arr: np.ndarray) -> Any:
    """What a node (or a compiled call) keeps while its backward needs ``leaf``'s ``arr``.

    The leaf's token when no caller holds the array, else a :class:`_Lock` pinning it.
    Dropping what it returns releases it.
    """
    lock = leaf._lock
    if type(lock) is _Token:
        return lock
    pin = _new(_Lock)
    pin.leaf = leaf
    pin.arr = arr
    if lock is None:  # handed out and writeable
        arr.setflags(False)  # positional: 2.5x cheaper than write=False
        leaf._lock = -1
    else:
        leaf._lock = lock - 1
    return pin


def _lock_inputs(a: Value, x: Any, b: Any, y: Any) -> tuple | None:
    """What a node with inputs ``a`` (data ``x``) and ``b`` (``y``; None if unary) keeps.

    A leaf array handed out by ``.data`` that no one holds any more (its reference
    count: the leaf, the caller's local and the node's saved input, see
    ``_SOLE_DATA``) is taken back as the leaf's own (the token state) instead of
    being pinned: the ``.grad = np.zeros_like(v.data)`` loop hands every leaf out
    each step. Callers hold ``x``/``y`` in one local each and in the node's
    ``_x0``/``_x1`` (as ``binary`` and ``unary`` do); any other reference only
    makes the count larger, and the array is pinned.
    """
    held = None
    if a._in0 is None and type(x) is ndarray:
        lock = a._lock
        if lock is None and _refs(x) == _SOLE_DATA and _EXACT_REFCOUNTS:
            x.setflags(False)
            lock = a._lock = _Token()
        held = (lock if type(lock) is _Token else _hold(a, x),)
    if b is not None and b._in0 is None and type(y) is ndarray:
        lock = b._lock
        if lock is None and _refs(y) == _SOLE_DATA and _EXACT_REFCOUNTS:
            y.setflags(False)
            lock = b._lock = _Token()
        lock = lock if type(lock) is _Token else _hold(b, y)
        held = (lock,) if held is None else (held[0], lock)
    return held


def _sole_data_count() -> int:
    """``sys.getrefcount`` of a leaf's array in ``_lock_inputs`` when no caller holds it.

    Measured once, in the shape of ``binary``'s call (the array in the leaf's slot,
    a local, the node's ``_x0``, then passed on and counted), because the count of
    an argument depends on the interpreter.
    """
    leaf = _new(Value)
    leaf._data = np.empty(1)
    x = leaf._data
    node = _new(Value)
    node._x0 = x
    return _count_second(leaf, x)


def _count_second(a: Value, x: Any) -> int:
    return _refs(x)


def _lock_many(inputs: tuple, datas: tuple) -> tuple | None:
    """What a node with three or more inputs (``dense``) keeps for its leaf arrays."""
    held = [_hold(v, d) for v, d in zip(inputs, datas) if v._in0 is None and type(d) is ndarray]
    return tuple(held) if held else None


# ``node._lock`` is None, what it keeps for its leaves (a tuple of tokens and _Lock pins),
# or FREED once backward has used the node (dropping what it kept).
FREED = "freed"


_CONSTANTS: dict[float, Value] = {}


def _constant(x: Any) -> Value:
    """A constant leaf for a number or array mixed into an op.

    Python floats are the common case (``1 - y``, ``0.5 * e``): their constant
    leaves are reused (a bounded cache), so a million-node chain with numbers in
    it does not also create a million constant nodes for the collector to walk.
    """
    if type(x) is not float:
        if type(x) is int:
            x = float(x)
        else:
            return Value(x, requires_grad=False)
    c = _CONSTANTS.get(x)
    if c is not None and not (c.requires_grad or c.label) and c._data == x:
        return c  # still the untouched constant it was cached as
    c = Value(x, requires_grad=False)
    if x != 0.0:  # 0.0 and -0.0 are equal keys: do not share them
        if len(_CONSTANTS) >= 4096:
            _CONSTANTS.clear()
        _CONSTANTS[x] = c
    return c


def _failed(op: Any, datas: tuple, exc: Exception) -> Exception:
    shapes = " and ".join(str(np.shape(d)) for d in datas)
    message = f"{op.name}: cannot apply to shapes {shapes}: {exc}"
    try:
        return type(exc)(message)
    except Exception:  # numpy's subclasses with other constructors (e.g. _UFuncNoLoopError)
        base = next(t for t in (ValueError, TypeError, IndexError) if isinstance(exc, t))
        return base(message)


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
        return binary(op, inputs[0], inputs[1], params)
    if len(inputs) == 1:
        return unary(op, inputs[0], params)
    if len(inputs) == 3:  # dense (x, W, b): every layer of a network, written out
        a, b, c = inputs
        if type(a) is not Value and not isinstance(a, Value):
            a = _constant(a)
        if type(b) is not Value and not isinstance(b, Value):
            b = _constant(b)
        if type(c) is not Value and not isinstance(c, Value):
            c = _constant(c)
        values = (a, b, c)
        datas = (a._data, b._data, c._data)
        floats = type(datas[0]) is float and type(datas[1]) is float and type(datas[2]) is float
        needs = a.requires_grad or b.requires_grad or c.requires_grad
    else:
        values = []
        datas = []
        floats = True
        needs = False
        for v in inputs:  # a plain loop: cheaper than generator expressions for 4 inputs
            if not isinstance(v, Value):
                v = _constant(v)
            values.append(v)
            d = v._data
            datas.append(d)
            if floats and type(d) is not float:
                floats = False
            if not needs and v.requires_grad:
                needs = True
        values = tuple(values)
        datas = tuple(datas)
    try:
        out = op.float_forward(*datas, *params) if floats else op.forward(*datas, *params)
    except (ValueError, TypeError, IndexError) as exc:
        raise _failed(op, datas, exc) from None
    if (
        needs
        and modes.recording
        and type(out) is ndarray
        and out.ndim
        and (out.dtype is _F64 or out.dtype is _F32)
    ):  # _node's recording branch, inlined: a dense layer per step takes it
        out.setflags(False)
        node = _new(Value)
        node._data = out
        node._grad = None
        node._acc = None
        node.label = ""
        node._origin = modes.origin
        node.requires_grad = True
        node._in0 = values
        node._in1 = MANY
        node._users = 0
        for v in values:
            if v._in0 is not None:
                v._users += 1
        node._x0 = datas
        node._x1 = None
        node._params = params
        node._op = op
        node._lock = _lock_many(values, datas) if op.keeps_inputs and not floats else None
        return node
    return _node(op, out, values, MANY, datas, None, params, needs, floats)


def unary(op: Any, a: Any, params: tuple = ()) -> Value:
    """``apply`` for one input (the fast path behind ``Value`` methods)."""
    if type(a) is not Value and not isinstance(a, Value):
        a = _constant(a)
    x = a._data
    floats = type(x) is float
    try:
        if not params:
            out = op.float_forward(x) if floats else op.forward(x)
        elif floats:
            out = op.float_forward(x, *params)
        elif len(params) == 2:  # (axis, keepdims) of every reduction: a call with
            out = op.forward(x, params[0], params[1])  # *params costs 0.15 µs more
        else:
            out = op.forward(x, *params)
    except (ValueError, TypeError, IndexError) as exc:
        raise _failed(op, (x,), exc) from None
    if a.requires_grad and modes.recording:
        t = type(out)
        if t is np.float64 and not floats:
            out = float(out)  # a full reduction of a float64 array
            t = float
        if t is float or (t is ndarray and out.ndim and (out.dtype is _F64 or out.dtype is _F32)):
            if t is ndarray:
                out.setflags(False)  # intermediate results are never changed in place
            node = _new(Value)  # _node's recording branch, inlined: it runs for every op
            node._data = out
            node._grad = None
            node._acc = None
            node.label = ""
            node._origin = modes.origin
            node.requires_grad = True
            node._in0 = a
            node._in1 = None
            node._users = 0
            if a._in0 is not None:
                a._users += 1  # one more op reads a: backward waits for its gradient
            node._x0 = x
            node._x1 = None
            node._params = params
            node._op = op
            if floats or not op.keeps_inputs:
                node._lock = None
            else:
                lock = a._lock
                if type(lock) is _Token:  # a leaf no caller holds: keep its token
                    node._lock = (lock,)
                else:
                    node._lock = _lock_inputs(a, x, None, None)  # (counts x: see there)
            return node
    return _node(op, out, a, None, x, None, params, a.requires_grad, floats)


def binary(op: Any, a: Any, b: Any, params: tuple = ()) -> Value:
    """``apply`` for two inputs (the fast path behind ``Value`` operators)."""
    if type(a) is not Value and not isinstance(a, Value):
        a = _constant(a)
    if type(b) is not Value:
        c = _CONSTANTS.get(b) if type(b) is float else None  # `y * 0.5`: _constant inlined
        if c is not None and not (c.requires_grad or c.label) and c._data == b:
            b = c
        elif not isinstance(b, Value):
            b = _constant(b)
    x = a._data
    y = b._data
    floats = type(x) is float and type(y) is float
    try:
        if params:
            out = op.float_forward(x, y, *params) if floats else op.forward(x, y, *params)
        else:
            out = op.float_forward(x, y) if floats else op.forward(x, y)
    except (ValueError, TypeError, IndexError) as exc:
        raise _failed(op, (x, y), exc) from None
    needs = a.requires_grad or b.requires_grad
    if needs and modes.recording:
        t = type(out)
        if t is float or (t is ndarray and out.ndim and (out.dtype is _F64 or out.dtype is _F32)):
            if t is ndarray:
                out.setflags(False)  # intermediate results are never changed in place
            node = _new(Value)  # _node's recording branch, inlined: it runs for every op
            node._data = out
            node._grad = None
            node._acc = None
            node.label = ""
            node._origin = modes.origin
            node.requires_grad = True
            node._in0 = a
            node._in1 = b
            node._users = 0
            if a._in0 is not None:
                a._users += 1  # one more op reads a: backward waits for its gradient
            if b._in0 is not None:
                b._users += 1
            node._x0 = x
            node._x1 = y
            node._params = params
            node._op = op
            if floats or not op.keeps_inputs:
                node._lock = None
            else:
                lock = a._lock
                other = b._lock
                if type(lock) is _Token and type(other) is _Token:  # leaves no caller holds
                    node._lock = (lock, other)
                else:
                    node._lock = _lock_inputs(a, x, b, y)  # (counts x and y: see there)
            return node
    return _node(op, out, a, b, x, y, params, needs, floats)


def _node(
    op: Any,
    out: Any,
    in0: Any,
    in1: Any,
    x0: Any,
    x1: Any,
    params: tuple,
    needs: bool,
    floats: bool,
) -> Value:
    """Wrap a forward result as a Value and, when a gradient may flow, link it to its inputs."""
    t = type(out)
    if t is not float:
        if t is np.float64:
            out = float(out)
        elif not (t is np.ndarray and (out.ndim or out.dtype != np.float64)):
            out = as_data(out, op.name)  # numpy scalars and 0-d float64 arrays become floats
    node = _new(Value)
    node._data = out
    node._grad = None
    node._acc = None
    node.label = ""
    node._origin = modes.origin
    node._users = 0
    if needs and modes.grad_enabled:
        node.requires_grad = True
        node._in0 = in0
        node._in1 = in1
        for v in in0 if in1 is MANY else (in0, in1):
            if v is not None and v._in0 is not None:
                v._users += 1
        node._x0 = x0
        node._x1 = x1
        node._params = params
        node._op = op
        node._lock = None
        if not floats:
            if type(out) is np.ndarray:
                out.setflags(False)  # intermediate results are never changed in place
            if op.keeps_inputs:  # leaves whose arrays this node's backward will read
                if in1 is MANY:
                    node._lock = _lock_many(in0, x0)
                else:
                    node._lock = _lock_inputs(in0, x0, in1, x1)
        elif type(out) is np.ndarray:  # an array made from numbers (broadcast_to of a float)
            out.setflags(False)
    else:
        node.requires_grad = False
        node._in0 = None
        node._in1 = None
        node._x0 = None
        node._x1 = None
        node._params = ()
        node._op = None
        node._lock = None
        node._theirs = None  # (a leaf)
        if type(out) is np.ndarray and out.base is not None:
            # An unrecorded view (slice of a constant, reshape under no_grad) becomes a
            # leaf of later graphs: it must not change when its base is changed in place.
            node._data = out.copy()
    if modes.anomaly:
        node._origin = (modes.grad_of, _user_site())
        if node._op is None:
            node._op = op  # keep the name for the message even without a graph
        _anomaly_check(node, "output", node._data)
    return node


def check_differentiable(output: Any, who: str, otherwise: str) -> Value:
    """``output``, if it is a Value with a graph to differentiate; else an error naming ``who``.

    For the tools that read a graph (``al.audit``, replay, exercises). ``otherwise``
    ends the message for an output that needs no gradient: what cannot be done then.

    >>> import autograd_lite as al
    >>> check_differentiable(al.Value(1.0, requires_grad=False), "show", "nothing to show")
    Traceback (most recent call last):
    ...
    ValueError: show: the output does not require a gradient (...); nothing to show
    """
    if not isinstance(output, Value):
        raise TypeError(f"{who}: expected a Value, got {type(output).__name__}")
    if not output.requires_grad:
        raise ValueError(
            f"{who}: the output does not require a gradient (it was computed from constants "
            f"only, or inside no_grad()); {otherwise}"
        )
    return output


def topological_order(root: Value) -> list[Value]:
    """Nodes that lead to ``root`` and need a gradient, inputs before outputs.

    Iterative depth-first search (a node is emitted after all its inputs), so a
    chain of a million nodes is fine and the cost is linear in the graph size.

    >>> import autograd_lite as al
    >>> a = al.Value(1.0, label="a")
    >>> b = (a * 2).tanh()
    >>> [v.label or v.op for v in topological_order(b)]
    ['a', 'mul', 'tanh']
    """
    order: list[Value] = []
    leaves: list[Value] = []
    _marked_order(root, order, leaves)
    order[:0] = leaves
    for node in order:
        node._acc = None
    return order


def walk(roots: Iterable[Value], stops: Container[int] = ()) -> list[Value]:
    """Every Value the roots depend on (constants too), each after its inputs.

    Iterative depth-first search, parents in argument order, roots in the order
    given: the same construction always gives the same order (the replay's node
    ids, SymPy's symbols, the compiler's generated lines rely on it). A node
    whose ``id`` is in ``stops`` is listed without its inputs.
    Unlike :func:`topological_order` it lists nodes that need no gradient too.

    >>> import autograd_lite as al
    >>> a = al.Value(2.0, label="a")
    >>> y = (a * 3.0).tanh()
    >>> [v.label or v.op or repr(v.data) for v in walk([y])]
    ['a', '3.0', 'mul', 'tanh']
    >>> [v.label or v.op for v in walk([y], stops={id(y.parents[0])})]
    ['mul', 'tanh']
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False) for root in reversed(list(roots))]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node._in0 is None or id(node) in stops:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((p, False) for p in reversed(node.parents) if id(p) not in seen)
    return order


# Marks in the pass slot ``_acc`` (None outside a backward pass) while ordering:
_EXPANDED = object()  # the node's inputs are on the search stack
_PENDING = object()  # emitted into the order; no gradient has reached it yet


def _marked_order(root: Value, order: list[Value], leaves: list[Value]) -> Value | None:
    """``topological_order``: ops into ``order``, leaves into ``leaves``, all ``_acc = _PENDING``.

    Leaves apart: ``_checked_pass`` runs them last, so a pass that fails in some
    op's vjp has not touched a single parameter's gradient yet.

    Returns a node that an earlier backward has freed (None if there is none).

    The pass slot holds the search's marks, so no set of visited nodes is
    needed: None = not reached yet, ``_EXPANDED``, then ``_PENDING`` once
    emitted. Callers must reset ``_acc`` on every returned node (``_run_checked``
    does so as it goes: the first gradient sent to a node replaces the mark).
    """
    freed = None
    if not root.requires_grad:
        return freed
    emit = order.append
    emit_leaf = leaves.append
    stack = [root]  # plain nodes, no per-node tuples: nothing here for the collector
    push = stack.append
    pop = stack.pop
    expanded = _EXPANDED
    emitted = _PENDING
    while stack:
        node = stack[-1]
        mark = node._acc
        if mark is not None:  # back on top: every input above it has been emitted
            pop()
            if mark is expanded:
                node._acc = emitted
                emit(node)
            continue
        a = node._in0
        if a is None:  # a leaf: nothing to wait for (only the root gets here)
            pop()
            node._acc = emitted
            emit_leaf(node)
            continue
        if node._lock is FREED:
            freed = node
        # Inputs still to visit: leaves go straight into the order (they wait for
        # nothing); other nodes onto the stack. With none pushed, the node is done too.
        waiting = False
        b = node._in1
        if b is MANY:
            for parent in a:
                if parent._acc is None and parent.requires_grad:
                    if parent._in0 is None:
                        parent._acc = emitted
                        emit_leaf(parent)
                    else:
                        push(parent)
                        waiting = True
        else:
            if b is not None and b._acc is None and b.requires_grad:
                if b._in0 is None:
                    b._acc = emitted
                    emit_leaf(b)
                else:
                    push(b)
                    waiting = True
            if a._acc is None and a.requires_grad:
                if a._in0 is None:
                    a._acc = emitted
                    emit_leaf(a)
                else:
                    push(a)
                    waiting = True
        if waiting:
            node._acc = expanded
        else:
            pop()
            node._acc = emitted
            emit(node)
    return freed


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
    if type(grad) is not np.ndarray or grad.dtype != data.dtype:
        grad = np.asarray(grad, dtype=data.dtype)  # (a 0-d result can be a numpy scalar)
    return grad


def backward(
    root: Value,
    grad: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Reverse-mode pass: every node on a path to ``root`` gets its gradient.

    This is ``Value.backward`` (``loss.backward()``), installed as the method itself.

    Args:
        grad: d(E)/d(root); defaults to 1 for a scalar, required otherwise.
        retain_graph: keep the graph usable for another backward.
        create_graph: record the backward pass itself, so gradients are Values
            that can be differentiated again (implies ``retain_graph``).

    Gradients accumulate across calls (``zero_grad()`` resets).

    >>> x = Value(3.0)
    >>> y = x ** 2
    >>> y.backward()
    >>> x.grad
    6.0

    Each node's gradient for this pass is collected in ``node._acc`` (so
    gradients already in ``.grad`` from earlier passes are never propagated
    twice) until every op that reads the node has sent its part; then it is
    added to ``node.grad`` and sent on to the node's inputs through
    ``op.vjps[i]``. Leaves get theirs last.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward() on a Value that does not require a gradient: it was computed "
            "from constants only, or inside no_grad()"
        )
    if grad is None and type(root._data) is float:
        seed = 1.0  # _seed's common case, without the call
    else:
        seed = _seed(root, grad)
    m = modes
    previous = m._grad_enabled
    try:
        if create_graph or m._anomaly:
            _checked_pass(root, seed, retain_graph, create_graph)
        elif root._in0 is None:  # a leaf: the seed is its gradient
            root._grad = seed if root._grad is None else root._grad + seed
        else:
            if root._lock is FREED:
                raise _freed_error(root)
            m._grad_enabled = m.recording = False  # (the grad_enabled setter, inlined)
            _run(root, seed, not retain_graph)
    finally:
        m._grad_enabled = previous  # the grad_enabled setter, without its call
        m.recording = previous and not m._anomaly


def _freed_error(node: Value) -> RuntimeError:
    return RuntimeError(
        f"node {node.op!r}{' ' + repr(node.label) if node.label else ''} was already "
        "freed by an earlier backward(); call backward(retain_graph=True) the first "
        "time to backpropagate through this graph twice"
    )


def _checked_pass(root: Value, seed: Any, retain_graph: bool, create_graph: bool) -> None:
    """A pass that records itself (``create_graph``) or checks every gradient (anomaly mode).

    It walks a topological order made first (leaves last, as in ``_run``), so a
    freed graph is refused before any gradient moves.
    """
    m = modes
    order: list[Value] = []
    leaves: list[Value] = []
    freed = _marked_order(root, order, leaves)
    order.reverse()  # outputs before inputs
    order += leaves
    try:
        if freed is not None:
            raise _freed_error(freed)
        m.grad_enabled = create_graph
        saved = m.grad_of, m.origin
        root._acc = _as_value(seed) if create_graph else seed
        try:
            _run_checked(order, not create_graph and not retain_graph, create_graph, m._anomaly)
        finally:
            m.grad_of, m.origin = saved
    except BaseException:
        for node in order:  # leave no half-collected gradients behind
            node._acc = None
        raise


def _run(root: Value, seed: Any, free: bool) -> None:
    """The plain backward pass (no recorded graph, no anomaly checks), without a search.

    Every node counts, as ops are recorded, how many op inputs it is
    (``_users``). A node is ready once that many gradients have reached it: one
    read by a single op as soon as its gradient arrives, others when their
    count in ``waiting`` reaches zero. Ready nodes go on a stack, so each is
    processed after every op that reads it, as in a topological order, but
    without making one first. Leaves only collect their gradients; those are
    added to ``.grad`` at the very end, after every op's rule has run, so a pass
    that fails midway leaves the parameters' gradients as they were.

    A node also read by ops outside this graph (a second loss, a graph that was
    dropped) never counts down to zero: when the stack runs dry, the nodes left
    waiting are put in a topological order (``_stalled_order``) and finished.
    """
    stack = [root]
    waiting: dict[Value, int] = {}
    leaves: list[Value] = []
    root._acc = seed
    try:
        _drain(stack, waiting, leaves, free)
        while waiting:  # stalled: some nodes are also read by ops outside this graph
            stalled = [node for node in waiting if node._acc is not None]
            waiting.clear()
            stack += _stalled_order(stalled)
            _drain(stack, waiting, leaves, free)
        for leaf in leaves:
            if leaf._in0 is not None:  # read by ops, but counted by none: a recording bug
                raise RuntimeError(
                    f"internal error: node {leaf.op!r} got a gradient, but no op was "
                    "counted as reading it (graph._users); please report this"
                )
            g = leaf._acc
            leaf._acc = None
            grad = leaf._grad
            if grad is None:
                leaf._grad = g
            elif grad is leaf._theirs:  # the caller's array (.grad = theirs): never written
                leaf._theirs = None
                if (
                    type(g) is ndarray
                    and _refs(g) == _SOLE_PASS
                    and g.base is None
                    and g.flags.writeable
                ):  # a fresh gradient this pass made and no one else holds: the sum goes there
                    _add(g, grad, g)
                    leaf._grad = g
                else:
                    leaf._grad = grad + g
            elif (
                type(grad) is ndarray
                and grad.base is None
                and type(g) is ndarray
                and grad.shape == g.shape
                and grad.dtype is g.dtype
                and _refs(grad) == _SOLE
                and grad.flags.writeable
            ):  # an array only this leaf holds: add in place (see _accumulates_in_place)
                _add(grad, g, grad)
            else:
                leaf._grad = grad + g
    except BaseException:
        for node in (*stack, *waiting, *leaves):  # leave no half-collected gradients behind
            node._acc = None
        raise


_refs = sys.getrefcount
_add = np.add


def _accumulates_in_place() -> int:
    """What ``sys.getrefcount`` says of a leaf's ``.grad`` array that nothing else holds.

    ``_run`` adds a pass's gradient into a leaf's existing ``.grad`` array in place
    (PyTorch's AccumulateGrad does the same) only when the array is ours alone: a
    base-less, writeable float array of the same shape and dtype, referenced by
    the leaf's slot and ``_run``'s local variable and nothing else. Any other
    holder (the caller kept ``v.grad``; another leaf or a graph node shares the
    array, as ``add`` hands one gradient to both inputs; a view of it; an
    optimizer's state) adds a reference, and the sum is made out of place as
    before. The count depends on the interpreter (a call's argument, borrowed
    references on newer CPythons), so it is measured here, once, the way
    ``_run`` measures it: a slot of a Value and one local variable.

    >>> import autograd_lite as al
    >>> w = al.Value(np.ones(2))
    >>> w.grad = np.zeros(2)
    >>> kept = w.grad  # the caller holds the array: the next sum is made out of place
    >>> (w * 3).sum().backward()
    >>> kept, w.grad
    (array([0., 0.]), array([3., 3.]))
    """
    leaf = _new(Value)
    leaf._grad = np.empty(1)
    grad = leaf._grad
    return _refs(grad)


# In-place accumulation only where reference counts mean what they say (value._EXACT_REFCOUNTS).
_SOLE = _accumulates_in_place() if _EXACT_REFCOUNTS else -1
_SOLE_DATA = _sole_data_count()


def _sole_pass_count() -> int:
    """``sys.getrefcount`` of a leaf's pass gradient in ``_run`` when nothing else holds it.

    Measured as ``_run`` counts it (taken from the slot into a local, the slot cleared).
    """
    leaf = _new(Value)
    leaf._acc = np.empty(1)
    g = leaf._acc
    leaf._acc = None
    return _refs(g)


_SOLE_PASS = _sole_pass_count() if _SOLE != -1 else -1


def _drain(stack: list[Value], waiting: dict[Value, int], leaves: list[Value], free: bool) -> None:
    """Process ready nodes from ``stack`` until none is left (see ``_run``).

    Floats and same-shape arrays are checked right here; anything else
    (broadcast inputs, dtype changes, rebound data) goes through ``_fitted``.
    The input cases and the hand-over of a gradient are written out on
    purpose (three times: first input, second input, each input of a 3+-input
    node such as every ``dense`` layer): a helper call per edge costs more than
    everything else this loop does for it (docs/architecture.md: with the
    direct bias vjp and module calls, the tiny nn step's forward, loss and
    backward went from 116 to 85 µs).

    The loop is ``while True`` with a ``break``, not ``while stack``: CPython
    3.11 specializes a function's bytecode after 8 calls or 8 unconditional
    backward jumps, and the jump back of ``while stack`` is conditional, so
    this function, called once per pass, ran unspecialized (twice as slow)
    for its first 8 passes. ``stack.append(x)`` is called as such, not through a
    bound method made once per pass: 3.11 specializes a list's append/pop calls,
    and the three bound-method objects cost more than they saved on small graphs
    (0.3-0.5 µs of the per-op case).
    """
    while True:
        if not stack:
            break
        node = stack.pop()
        g = node._acc
        if g is None:  # done already (it was ready before its turn in a stalled order)
            continue
        node._acc = None
        if node._lock is FREED:
            raise _freed_error(node)
        grad = node._grad
        node._grad = g if grad is None else grad + g
        a = node._in0
        vjps = node._op.vjps
        b = node._in1
        if b is not MANY:  # one or two inputs, written out one after the other: a loop
            # over (input, vjp) pairs costs a tuple per node, a helper call per edge more
            if a.requires_grad:  # (unless switched off after the forward pass)
                vjp = vjps[0]
                if vjp is passthrough:
                    gi = g
                elif b is None:
                    params = node._params
                    if not params:
                        gi = vjp(g, node._data, node._x0)
                    elif len(params) == 2:  # a reduction's (axis, keepdims), without *
                        gi = vjp(g, node._data, node._x0, params[0], params[1])
                    else:
                        gi = vjp(g, node._data, node._x0, *params)
                elif node._params:
                    gi = vjp(g, node._data, node._x0, node._x1, *node._params)
                else:
                    gi = vjp(g, node._data, node._x0, node._x1)
                if gi is not None:
                    pd = a._data
                    if not (
                        (type(gi) is float and type(pd) is float)
                        or (
                            type(gi) is ndarray
                            and type(pd) is ndarray
                            and gi.shape == pd.shape
                            and gi.dtype is pd.dtype
                        )
                    ):
                        gi = _fitted(node, a, gi, False)
                    acc = a._acc  # hand gi over to a
                    if acc is None:
                        a._acc = gi
                        users = a._users
                        if users == 1:
                            stack.append(a)
                        elif users:
                            waiting[a] = users - 1
                        else:
                            leaves.append(a)
                    else:
                        a._acc = acc + gi
                        left = waiting.get(a)
                        if left == 1:
                            del waiting[a]
                            stack.append(a)
                        elif left:
                            waiting[a] = left - 1
            if b is not None and b.requires_grad:
                vjp = vjps[1]
                if vjp is passthrough:
                    gi = g
                elif node._params:
                    gi = vjp(g, node._data, node._x0, node._x1, *node._params)
                else:
                    gi = vjp(g, node._data, node._x0, node._x1)
                if gi is not None:
                    pd = b._data
                    if not (
                        (type(gi) is float and type(pd) is float)
                        or (
                            type(gi) is ndarray
                            and type(pd) is ndarray
                            and gi.shape == pd.shape
                            and gi.dtype is pd.dtype
                        )
                    ):
                        gi = _fitted(node, b, gi, False)
                    acc = b._acc  # hand gi over to b
                    if acc is None:
                        b._acc = gi
                        users = b._users
                        if users == 1:
                            stack.append(b)
                        elif users:
                            waiting[b] = users - 1
                        else:
                            leaves.append(b)
                    else:
                        b._acc = acc + gi
                        left = waiting.get(b)
                        if left == 1:
                            del waiting[b]
                            stack.append(b)
                        elif left:
                            waiting[b] = left - 1
        else:  # three or more inputs (dense: every layer of a network, every step)
            out = node._data
            args = (*node._x0, *node._params)  # node._args, without the property call
            for i, parent in enumerate(a):
                if parent.requires_grad:
                    gi = vjps[i](g, out, *args)
                    if gi is None:
                        continue
                    pd = parent._data
                    if not (
                        type(gi) is ndarray
                        and type(pd) is ndarray
                        and gi.shape == pd.shape
                        and gi.dtype is pd.dtype
                    ):
                        gi = _fitted(node, parent, gi, False)
                    acc = parent._acc  # hand gi over (as above, for the i-th input)
                    if acc is None:
                        parent._acc = gi
                        users = parent._users
                        if users == 1:
                            stack.append(parent)
                        elif users:
                            waiting[parent] = users - 1
                        else:
                            leaves.append(parent)
                    else:
                        parent._acc = acc + gi
                        left = waiting.get(parent)
                        if left == 1:
                            del waiting[parent]
                            stack.append(parent)
                        elif left:
                            waiting[parent] = left - 1
        if free:
            node._lock = FREED  # (deleting a _Lock releases its leaves)


def _stalled_order(stalled: list[Value]) -> list[Value]:
    """What is left of a pass whose ``waiting`` nodes can count down no further.

    Returns the nodes still to process, reachable from ``stalled`` through
    inputs that are ops, inputs before the ops that read them (so popping them
    from the stack's end gives readers first). None of them has run yet: an
    input of a waiting node waits for it too.
    """
    post: list[Value] = []
    seen: set[Value] = set()
    for start in stalled:
        if start in seen:
            continue
        seen.add(start)
        path = [(start, iter(start.parents))]
        while path:
            node, inputs = path[-1]
            for p in inputs:
                if p not in seen and p._in0 is not None and p.requires_grad:
                    seen.add(p)
                    path.append((p, iter(p.parents)))
                    break
            else:
                path.pop()
                post.append(node)
    return post


def _run_checked(order: list[Value], free: bool, create_graph: bool, anomaly: bool) -> None:
    """The backward loop that records the pass (``create_graph``) or checks every gradient."""
    pending = _PENDING
    for node in order:
        g = node._acc
        node._acc = None
        if g is pending:
            continue
        node._grad = g if node._grad is None else node._grad + g
        op = node._op
        if op is None:
            continue
        if anomaly:
            _anomaly_check(node, "gradient", g.data if isinstance(g, Value) else g)
        if create_graph:
            modes.grad_of = node
            modes.origin = (node, None)
            _check_inputs_unchanged(node)
            out, args = node, node.parents + node._params
        else:
            out, args = node._data, node._args
        for i, parent in enumerate(node.parents):
            if parent.requires_grad:
                gi = op.vjps[i](g, out, *args)
                if gi is not None:
                    _send(node, parent, gi, create_graph, anomaly)
        if free:
            node._lock = FREED  # (deleting a _Lock releases its leaves)


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def _fitted(node: Value, parent: Value, gi: Any, create_graph: bool) -> Any:
    """``gi``, from ``node`` for its input ``parent``, in ``parent``'s shape and dtype."""
    pdata = parent._data
    t = type(gi)
    if t is np.ndarray:
        if type(pdata) is not np.ndarray or gi.shape != pdata.shape or gi.dtype != pdata.dtype:
            _check_not_reshaped(node, parent, pdata)
            gi = _fit(gi, pdata, create_graph)
    elif t is not float or type(pdata) is not float:
        _check_not_reshaped(node, parent, pdata)
        gi = _fit(gi, pdata, create_graph)
    return gi


def _send(node: Value, parent: Value, gi: Any, create_graph: bool, anomaly: bool) -> None:
    """Add the gradient ``gi`` flowing from ``node`` into ``parent``'s pass accumulator."""
    gi = _fitted(node, parent, gi, create_graph)
    if anomaly:
        _anomaly_check(node, "gradient", gi.data if isinstance(gi, Value) else gi, parent)
    acc = parent._acc
    parent._acc = gi if acc is _PENDING else acc + gi


def _check_not_reshaped(node: Value, parent: Value, pdata: Any) -> None:
    """Refuse to fit a gradient to an input whose data was rebound to another shape."""
    a, b = node._in0, node._in1
    if b is MANY:
        saved = node._x0[a.index(parent)]
    else:
        saved = node._x0 if a is parent else node._x1
    if np.shape(saved) != np.shape(pdata):
        name = repr(parent.label) if parent.label else "an input"
        raise RuntimeError(
            f"the data of {name} of node {node.op!r} was rebound from shape {np.shape(saved)} "
            f"to {np.shape(pdata)} after the forward pass, so its gradient would not fit; "
            "rebind with the same shape, or build the graph again"
        )


def _check_inputs_unchanged(node: Value) -> None:
    """Recording backward uses the input Values themselves: their data must be as it was."""
    for parent, saved in zip(node.parents, node._args):
        if parent._data is not saved:
            raise RuntimeError(
                f"the data of input {parent.label or parent.op or 'leaf'!r} of node "
                f"{node.op!r} was reassigned after the forward pass; backward(create_graph=True) "
                "needs the inputs as they were"
            )


def _seed(root: Value, grad: Any) -> Any:
    data = root._data
    if grad is None:
        if type(data) is float:
            return 1.0
        if data.ndim == 0:
            return np.array(1, dtype=data.dtype)  # (np.ones is a Python function: 3x slower)
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
