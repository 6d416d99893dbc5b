"""The ``Value`` node: data, gradient, parents, and the op that made it.

A ``Value`` holds a Python float (scalars) or a numpy array (tensors). Every
operator and method on it runs an entry of the op table (``ops.py``) through
``graph.apply``, which records the result as a node of the computation graph.
``backward()`` then walks that graph in reverse (``graph.backward``).

>>> import numpy as np
>>> import autograd_lite as al
>>> w = al.Value(np.array([[0.5, -1.0], [2.0, 0.1]]), label="w")
>>> x = al.Value([1.0, 0.0], label="x")
>>> b = al.Value(-3.0, label="b")
>>> y = (w @ x + b).sigmoid().sum()
>>> y.backward()
>>> w.grad.shape, type(b.grad)
((2, 2), <class 'float'>)
"""

from __future__ import annotations

import numbers
import sys
from typing import Any

import numpy as np

_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))

# Marks a node with three or more inputs (kept as tuples in ``_in0`` / ``_x0``).
MANY = "many"


def _describe(x: Any) -> str:
    text = repr(x)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(x).__name__} {text}"


def as_data(x: Any, what: str = "Value") -> Any:
    """Convert user input to what a Value stores: a float or a float ndarray.

    Python numbers and 0-d float64 data become ``float``; arrays become float64
    unless they are float32. Strings, ``None``, objects and ragged lists raise
    ``TypeError``/``ValueError`` naming what was given.

    >>> as_data(3)
    3.0
    >>> as_data([[1, 2], [3, 4]]).dtype
    dtype('float64')
    >>> as_data(np.ones(2, dtype=np.float32)).dtype
    dtype('float32')
    >>> as_data("abc")
    Traceback (most recent call last):
    ...
    TypeError: Value: expected a number, nested list or numeric numpy array, got str 'abc'
    """
    t = type(x)
    if t is float:
        return x
    if t is int or t is bool:
        return float(x)
    if t is np.ndarray:
        arr = x
    elif isinstance(x, (str, bytes)) or x is None or isinstance(x, (dict, set)):
        raise TypeError(
            f"{what}: expected a number, nested list or numeric numpy array, got {_describe(x)}"
        )
    elif isinstance(x, numbers.Number) and not isinstance(x, (np.generic, complex)):
        return float(x)
    elif isinstance(x, np.generic):
        arr = np.asarray(x)
    else:
        if hasattr(x, "_data") and hasattr(x, "parents"):
            raise TypeError(f"{what}: got a Value; use value.detach() or value.data instead")
        try:
            arr = np.array(x)
        except ValueError as exc:
            raise ValueError(
                f"{what}: could not make an array of {_describe(x)} (ragged nested lists?): {exc}"
            ) from None
    kind = arr.dtype.kind
    if kind in "biu":
        arr = arr.astype(np.float64)
    elif kind == "f":
        if arr.dtype not in _FLOAT_DTYPES:
            arr = arr.astype(np.float64)
    else:
        raise TypeError(
            f"{what}: expected numeric data, got an array of dtype {arr.dtype} from {_describe(x)}"
        )
    if arr.ndim == 0 and arr.dtype == np.float64:
        return float(arr)
    return arr


class _Token:
    """A leaf's count of pending uses, kept as the reference count of this object.

    A leaf whose array no caller holds (``leaf._lock`` is its token; the array is
    read-only) is not counted when an op records it: the node keeps a reference to
    the token instead, and drops it when backward frees the node or the graph is
    dropped. So the token's reference count is the number of pending uses, and
    ``Value.data`` hands the raw array out only when there are none (see
    ``graph._Lock`` for the other states of ``_lock``). Nothing else ever holds a
    token: it never leaves the engine.
    """

    __slots__ = ()


_refs = sys.getrefcount


def _pending(leaf: Any) -> bool:
    """True while a recorded node's backward still needs the leaf's current array."""
    lock = leaf._lock
    if type(lock) is _Token:
        return _refs(lock) != _FREE_TOKEN  # (the same frame shape as in Value.data)
    return lock is not None  # -n: n pending uses pinned by graph._Lock objects


def _free_token_count() -> int:
    """``sys.getrefcount`` of a token held by its leaf alone, seen as ``_pending`` sees it.

    Measured once, in the same shape of code as ``Value.data`` and ``_pending`` (a slot
    read into a local, then counted), because the count of a call's argument depends on
    the interpreter.
    """

    class Leaf:
        __slots__ = ("_lock",)

    leaf = Leaf()
    leaf._lock = _Token()
    lock = leaf._lock
    return _refs(lock)


_FREE_TOKEN = _free_token_count()
# Whether reference counts mean what they say (not on a free-threaded build, whose
# counts are split between threads). Every decision the engine and the compiled code
# take from a count (leaf tokens, in-place accumulation, reused gradient arrays) is
# made only where this is true; elsewhere every leaf array is pinned exactly and
# gradients are new arrays.
_EXACT_REFCOUNTS = getattr(sys, "_is_gil_enabled", lambda: True)()


class _FrozenArray(np.ndarray):
    """What ``Value.data`` hands out while the array must not change in place.

    Behaves as the plain (read-only) array it views; results of computations on
    it are plain arrays. Its only job is the error message: numpy's own
    "assignment destination is read-only" cannot say which Value is meant.
    """

    _owner: Any = None

    def __array_finalize__(self, obj: Any) -> None:
        self._owner = getattr(obj, "_owner", None)

    def _refusal(self) -> ValueError:
        owner = self._owner
        name = f"Value {owner.label!r}" if owner is not None and owner.label else "this Value"
        if owner is not None and owner._op is not None:
            return _output_refusal(owner)
        if owner is not None and (owner._data is not self.base or not _pending(owner)):
            # nothing pends on the Value's array now: this view was taken while something did
            return ValueError(
                f"this array was taken from .data of {name} while a backward() was pending "
                "and stays read-only; take .data again to change the Value in place"
            )
        return ValueError(
            f"{name} is read-only while a pending backward() needs its data; run backward() "
            "first, or assign a new array instead (v.data = v.data - step)"
        )

    def __setitem__(self, key: Any, value: Any) -> None:
        if not self.flags.writeable:
            raise self._refusal()
        np.asarray(self)[key] = value

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        out = kwargs.get("out")
        if out:
            for o in out:
                if isinstance(o, _FrozenArray) and not o.flags.writeable:
                    raise o._refusal()
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, _FrozenArray) else o for o in out)
        inputs = tuple(np.asarray(x) if isinstance(x, _FrozenArray) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def copy(self, order: str = "C") -> np.ndarray:  # type: ignore[override]
        return np.asarray(self).copy(order)

    def __repr__(self) -> str:
        return repr(np.asarray(self))

    def __str__(self) -> str:
        return str(np.asarray(self))

    def __reduce__(self) -> Any:
        return np.asarray(self).__reduce__()


def _output_refusal(owner: Any) -> ValueError:
    """Changing the data of a recorded op's output: its own backward reads that data."""
    name = f"Value {owner.label!r}" if owner.label else "this Value"
    return ValueError(
        f"{name} is the output of op {owner.op!r}; its data is read-only because "
        "backward needs it as it was. Compute a new Value instead (y = y * 0.5), or "
        "change a copy (y.detach())"
    )


class Value:
    """A scalar or tensor in the computation graph.

    Args:
        data: a number, nested list or numpy array (copied; float64 unless float32).
        label: a name shown in pictures and symbolic formulas.
        requires_grad: ``False`` makes a constant (e.g. a batch of inputs):
            backward computes no gradient for it or for branches leading only to it.

    >>> a = Value(2.0, label="a")
    >>> b = Value(-3.0, label="b")
    >>> c = a * b + a
    >>> c.backward()
    >>> a.grad, b.grad
    (-2.0, 2.0)
    >>> c.op, [p.label for p in c.parents]
    ('add', ['', 'a'])
    """

    # A node is ONE garbage-collected object: its (at most two) inputs and the
    # input data its backward needs sit in slots, not in tuples. That keeps the
    # collector's work per node minimal (see docs/architecture.md).
    __slots__ = (
        "_data",
        "_grad",
        "_acc",
        "_in0",  # first input Value (None for leaves); a tuple of inputs when _in1 is MANY
        "_in1",  # second input Value, None for unary ops, MANY for 3+ inputs
        "_x0",  # data of _in0 when the node was built (a tuple for 3+ inputs)
        "_x1",  # data of _in1 when the node was built
        "_params",  # the op's non-differentiable parameters (a tuple)
        "_op",
        "_lock",  # a node: what keeps its leaves locked, None or FREED; a leaf: see graph._Lock
        "label",
        "_origin",  # None, or (grad_of, site) for nodes made by a recorded backward / anomaly mode
        "requires_grad",
        "_users",  # how many recorded op inputs are this node (backward counts down to it)
        "_theirs",  # a leaf: the array the caller assigned to .grad (never written), or None
        "__weakref__",
    )

    # numpy functions on Values run their table op, or raise TypeError (numpy_interop.py)
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _numpy_interop.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _numpy_interop.array_function(func, args, kwargs)

    def __init__(self, data: Any, label: str = "", requires_grad: bool = True) -> None:
        d = as_data(data)
        self._data = d
        self._lock = None
        if type(d) is np.ndarray:
            self._keep(d.copy() if d is data or d.base is not None else d)
        self._grad = None
        self._acc = None
        self._in0 = None
        self._in1 = None
        self._x0 = None
        self._x1 = None
        self._params = ()
        self._op = None
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {_describe(label)}")
        self.label = label
        self._origin = None
        self._users = 0
        self._theirs = None
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(
                f"Value: requires_grad must be True or False, got {_describe(requires_grad)}"
            )
        self.requires_grad = bool(requires_grad)

    # ------------------------------------------------------------------ data
    @property
    def data(self) -> Any:
        """The value: a ``float`` for scalars, a numpy array for tensors.

        Assigning a new value to a leaf (a parameter or input) is always allowed:
        nodes keep what they were built from. Changing an array in place while a
        pending backward needs it is refused with a ``ValueError`` naming this
        Value; so is changing the output of a recorded op in any way until its
        backward has run (that backward reads the output).

        >>> w = Value([1.0, 2.0], label="w")
        >>> loss = (w * w).sum()
        >>> w.data[0] = 5.0
        Traceback (most recent call last):
        ...
        ValueError: Value 'w' is read-only while a pending backward() needs its data; ...
        >>> loss.backward()
        >>> w.data[0] = 5.0   # allowed again
        """
        d = self._data
        if type(d) is not np.ndarray:
            return d
        if self._op is None:
            lock = self._lock
            if lock is None:
                return d
            if type(lock) is _Token and _refs(lock) == _FREE_TOKEN:
                # no pending use (no node holds the token): hand the array out writeable
                d.setflags(True)
                self._lock = None
                return d
        frozen = d.view(_FrozenArray)
        frozen._owner = self
        return frozen

    @data.setter
    def data(self, new: Any) -> None:
        if self._in0 is not None and self._lock is not _graph.FREED:
            raise _output_refusal(self)  # its vjp would read the new data as its output
        if type(new) is float:
            self._data = new
            if self._in0 is None:
                self._lock = None
            return
        if new is self._data:
            return  # `v.data -= step` already changed the array in place: nothing to copy
        d = as_data(new, "Value.data")
        if type(d) is np.ndarray and (d is new or d.base is not None or not d.flags.writeable):
            d = d.copy()  # never share an array with the caller (or another Value's lock count)
        self._data = d
        if self._in0 is None:  # a leaf's lock count belongs to its previous array
            self._lock = None
            if type(d) is np.ndarray:
                self._keep(d)

    @property
    def grad(self) -> Any:
        """d(output)/d(self) after ``backward()``; zeros until a backward reaches it.

        Assigning replaces it (clipping, a hand-made gradient); ``None`` resets it.
        The new gradient must have this Value's shape. A leaf keeps an array of its
        dtype as it is, without a copy (as PyTorch keeps the tensor), and backward
        never writes into it: the next backward adds its gradient into a new array
        (or into its own fresh one), which is the leaf's from then on. Anything
        else (lists, numbers, other dtypes, a non-leaf's gradient) is copied in
        the data's dtype.

        >>> w = Value([1.0, 2.0])
        >>> w.grad = [0.5, 0.5]
        >>> w.grad
        array([0.5, 0.5])
        >>> mine = np.zeros(2)
        >>> w.grad = mine
        >>> (w * w).sum().backward()
        >>> mine, w.grad
        (array([0., 0.]), array([2., 4.]))
        >>> w.grad = [1.0, 2.0, 3.0]
        Traceback (most recent call last):
        ...
        ValueError: grad: shape (3,) does not fit a Value of shape (2,)
        """
        g = self._grad
        if g is None:
            d = self._data
            return 0.0 if type(d) is float else np.zeros_like(d)
        if type(g) is not np.ndarray:
            d = self._data
            if type(d) is float or isinstance(g, Value):
                return g
            g = self._grad = np.array(g, dtype=d.dtype)  # numpy makes 0-d sums scalars
        elif self._in0 is None and g is self._theirs:
            return g  # the caller's own array: theirs to change, never written by backward
        g.setflags(False)  # may be shared with other nodes' gradients: rebind it
        return g

    @grad.setter
    def grad(self, g: Any) -> None:
        if g is None:
            self._grad = self._theirs = None
            return
        if type(g) is np.ndarray:  # the common case (np.zeros_like(v.data)), checked inline
            d = self._data
            if type(d) is np.ndarray and g.dtype is d.dtype and g.shape == d.shape:
                if self._in0 is None:
                    self._grad = self._theirs = g  # kept, not copied: backward never writes it
                else:
                    self._grad = g.copy()  # a node: .grad's read-only view would freeze theirs
                return
        new = g if isinstance(g, Value) else as_data(g, "grad")  # (a Value: create_graph)
        if np.shape(new) != self.shape:
            raise ValueError(
                f"grad: shape {np.shape(new)} does not fit a Value of shape {self.shape}"
            )
        d = self._data
        if not isinstance(new, Value):
            # a copy in the data's dtype: backward adds to it; the caller keeps their array
            new = float(new) if type(d) is float else np.array(new, dtype=d.dtype)
        self._grad = new
        self._theirs = None

    @property
    def parents(self) -> tuple[Value, ...]:
        """The input Values of the op that made this node, in argument order."""
        a, b = self._in0, self._in1
        if a is None:
            return ()
        if b is None:
            return (a,)
        if b is MANY:
            return a
        return (a, b)

    @property
    def _args(self) -> tuple:
        """The inputs' data as the node saw them, then the op's parameters (the vjp arguments)."""
        a, b = self._in0, self._in1
        if a is None:
            return ()
        if b is None:
            return (self._x0, *self._params)
        if b is MANY:
            return (*self._x0, *self._params)
        return (self._x0, self._x1, *self._params)

    @property
    def grad_of(self) -> Value | None:
        """The node whose ``backward(create_graph=True)`` made this Value; None otherwise.

        >>> x = Value(3.0); y = x * x; y.backward(create_graph=True)
        >>> y.grad_of is None, x.grad.grad_of is y
        (True, True)
        """
        origin = self._origin
        return None if origin is None else origin[0]

    @property
    def site(self) -> str | None:
        """``file:line in function`` of the code that made this node, inside ``detect_anomaly``.

        >>> import autograd_lite as al
        >>> with al.detect_anomaly():
        ...     y = Value(2.0) * 3
        >>> y.site.endswith("in <module>"), (Value(2.0) * 3).site
        (True, None)
        """
        origin = self._origin
        return None if origin is None else origin[1]

    @property
    def op(self) -> str:
        """Name of the op that made this Value; ``""`` for leaves."""
        return self._op.name if self._op is not None else ""

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``data``; ``()`` for scalars."""
        d = self._data
        return () if type(d) is float else d.shape

    @property
    def ndim(self) -> int:
        """Number of axes (0 for scalars)."""
        d = self._data
        return 0 if type(d) is float else d.ndim

    @property
    def size(self) -> int:
        """Number of elements."""
        d = self._data
        return 1 if type(d) is float else d.size

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of the data (float64 for Python-float scalars)."""
        d = self._data
        return np.dtype(np.float64) if type(d) is float else d.dtype

    def item(self) -> float:
        """The single element as a Python float.

        >>> Value([[2.5]]).item()
        2.5
        """
        d = self._data
        if type(d) is float:
            return d
        if d.size != 1:
            raise ValueError(f"item() needs a single element, this Value has shape {d.shape}")
        return float(d.reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (a copy for tensors).

        >>> Value(2.0).numpy()
        array(2.)
        """
        return np.array(self._data)

    def __float__(self) -> float:
        return self.item()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a scalar Value")
        return self._data.shape[0]

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a Value of shape {self.shape} is ambiguous; use .data"
            )
        return bool(self.item())

    def __repr__(self) -> str:
        parts = []
        if self.label:
            parts.append(f"label={self.label!r}")
        d = self._data
        if type(d) is float:
            parts.append(f"data={d:.6g}")
            if self._grad is not None and not isinstance(self._grad, Value):
                parts.append(f"grad={float(self._grad):.6g}")
        else:
            parts.append(f"shape={d.shape}")
            if d.dtype != np.float64:
                parts.append(f"dtype={d.dtype}")
        if self._op is not None:
            parts.append(f"op={self.op!r}")
        if not self.requires_grad:
            parts.append("requires_grad=False")
        return f"Value({', '.join(parts)})"

    # -------------------------------------------------------------- autograd
    # backward(grad=None, retain_graph=False, create_graph=False) is graph.backward itself,
    # installed below (one Python call less per pass than a method that calls it)

    def zero_grad(self) -> None:
        """Reset ``grad`` to zeros.

        >>> x = Value(2.0); (x * x).backward(); x.zero_grad(); x.grad
        0.0
        """
        self._grad = self._theirs = None

    def detach(self) -> Value:
        """A new leaf with the same data and no history.

        >>> y = (Value(2.0) * 3).detach()
        >>> y.op, y.data
        ('', 6.0)
        """
        return Value(self._data, label=self.label)

    # ------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Value:
        return _binary(_OP_ADD, self, other)

    def __radd__(self, other: Any) -> Value:
        return _binary(_OP_ADD, other, self)

    def __sub__(self, other: Any) -> Value:
        return _binary(_OP_SUB, self, other)

    def __rsub__(self, other: Any) -> Value:
        return _binary(_OP_SUB, other, self)

    def __mul__(self, other: Any) -> Value:
        return _binary(_OP_MUL, self, other)

    def __rmul__(self, other: Any) -> Value:
        return _binary(_OP_MUL, other, self)

    def __truediv__(self, other: Any) -> Value:
        return _binary(_OP_DIV, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return _binary(_OP_DIV, other, self)

    def __pow__(self, other: Any) -> Value:
        return _binary(_OP_POW, self, other)

    def __rpow__(self, other: Any) -> Value:
        return _binary(_OP_POW, other, self)

    def __matmul__(self, other: Any) -> Value:
        return _binary(_OP_MATMUL, self, other)

    def __rmatmul__(self, other: Any) -> Value:
        return _binary(_OP_MATMUL, other, self)

    def __neg__(self) -> Value:
        return _unary(_OP_NEG, self)

    def __pos__(self) -> Value:
        return self

    def __getitem__(self, index: Any) -> Value:
        return _unary(_OP_GETITEM, self, (_ops.normalize_index(index),))

    # Comparisons give plain (non-differentiable) booleans / bool arrays.
    def __lt__(self, other: Any) -> Any:
        return self._data < _data_of(other)

    def __le__(self, other: Any) -> Any:
        return self._data <= _data_of(other)

    def __gt__(self, other: Any) -> Any:
        return self._data > _data_of(other)

    def __ge__(self, other: Any) -> Any:
        return self._data >= _data_of(other)

    __hash__ = object.__hash__

    def __setstate__(self, state: Any) -> None:
        """Restore a copied or unpickled Value (``copy``, ``pickle``).

        A leaf gets an array of its own, read-only until ``.data`` hands it out,
        like a new Value: a copy must not share the original's array or its
        count of pending uses (see ``graph._Lock``).

        >>> import copy
        >>> w = Value([1.0, 2.0])
        >>> w2 = copy.copy(w)
        >>> w2.data[0] = 5.0
        >>> w.data.tolist(), w2.data.tolist()
        ([1.0, 2.0], [5.0, 2.0])
        """
        slots = state[1] if isinstance(state, tuple) else state
        for name, value in slots.items():
            object.__setattr__(self, name, value)
        d = self._data
        if self._in0 is None:
            if "_theirs" not in slots:  # (pickled before leaves had this slot)
                self._theirs = None
            if type(d) is np.ndarray:
                self._keep(d.copy())

    def _keep(self, d: np.ndarray) -> None:
        """Make ``d``, an array no one else holds, this leaf's data (see ``graph._Lock``).

        Read-only, with a fresh token (:class:`_Token`) and so no pending use:
        ``.data`` makes it writeable when it hands it out, and an op that records
        it only keeps a reference to the token.
        """
        self._data = d
        if _EXACT_REFCOUNTS:
            d.setflags(False)
            self._lock = _Token()
        else:
            self._lock = None  # handed-out state: every use is pinned exactly

    # -------------------------------------------------------- shape methods
    def sum(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Sum over ``axis`` (all axes by default).

        >>> Value([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0).data.tolist()
        [4.0, 6.0]
        """
        if axis is None and not keepdims:
            return _unary(_OP_SUM, self, _ALL_AXES)
        return _unary(_OP_SUM, self, (_ops.normalize_axis(axis, self.ndim, "sum"), bool(keepdims)))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Mean over ``axis`` (all axes by default).

        >>> Value([1.0, 2.0, 6.0]).mean().data
        3.0
        """
        return _unary(
            _OP_MEAN, self, (_ops.normalize_axis(axis, self.ndim, "mean"), bool(keepdims))
        )

    def max(self, axis: Any = None, keepdims: bool = False) -> Value:
        """Maximum over ``axis``; ties share the gradient evenly.

        >>> v = Value([1.0, 3.0, 3.0]); v.max().backward(); v.grad.tolist()
        [0.0, 0.5, 0.5]
        """
        return _unary(_OP_MAX, self, (_ops.normalize_axis(axis, self.ndim, "max"), bool(keepdims)))

    def reshape(self, *shape: Any) -> Value:
        """Same data in a new shape (``-1`` infers one axis).

        >>> Value([1.0, 2.0, 3.0, 4.0]).reshape(2, 2).shape
        (2, 2)
        """
        return _unary(_OP_RESHAPE, self, (_ops.shape_ints(shape, "reshape"),))

    def transpose(self, *axes: Any) -> Value:
        """Permute axes (reverse them by default).

        >>> Value(np.zeros((2, 3, 4))).transpose(1, 0, 2).shape
        (3, 2, 4)
        """
        axes = _ops.shape_ints(axes, "transpose", "axes")
        if not axes:
            axes = tuple(range(self.ndim))[::-1]
        return _unary(_OP_TRANSPOSE, self, (axes,))

    @property
    def T(self) -> Value:
        """Transpose (reversed axes).

        >>> Value(np.zeros((2, 3))).T.shape
        (3, 2)
        """
        return self.transpose()

    # Every other table op (tanh, relu, dense, ...) is a method too: registry.register
    # installs it on this class, and unregister removes it.
    # ``_repr_svg_`` (Jupyter's picture of the graph) is installed by the package's
    # __init__: it needs viz, and the engine never imports viz.


def _data_of(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


from . import graph as _graph  # noqa: E402  (graph needs Value defined)
from . import numpy_interop as _numpy_interop  # noqa: E402
from . import ops as _ops  # noqa: E402

Value.backward = _graph.backward  # type: ignore[assignment]
_unary = _graph.unary
_binary = _graph.binary
# The table entries behind operators and methods, bound once (read on every operation).
_OP_ADD, _OP_SUB, _OP_MUL, _OP_DIV, _OP_POW = _ops.add, _ops.sub, _ops.mul, _ops.div, _ops.pow
_OP_MATMUL, _OP_NEG, _OP_GETITEM = _ops.matmul, _ops.neg, _ops.getitem
_OP_SUM, _OP_MEAN, _OP_MAX = _ops.sum, _ops.mean, _ops.max
_OP_RESHAPE, _OP_TRANSPOSE = _ops.reshape, _ops.transpose
_ALL_AXES = (None, False)  # the parameters of a full reduction
