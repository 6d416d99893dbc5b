"""Function transforms: ``grad``, ``value_and_grad``, ``jacobian``, ``hessian``, ``hvp``.

Each transform takes a Python function ``f`` written with Values (operators and
Value methods) and returns derivatives as plain numpy arrays (Python floats for
scalars), in the style of JAX's ``jax.grad``:

>>> import autograd_lite as al
>>> f = lambda x: (x ** 3).sum()
>>> al.grad(f)([1.0, 2.0]).tolist()
[3.0, 12.0]
>>> al.hessian(f)([1.0, 2.0]).tolist()
[[6.0, 0.0], [0.0, 12.0]]

The arguments selected by ``argnums`` (numbers, lists, numpy arrays or Values)
become fresh leaf Values, so calling a transform never changes the ``.grad`` of
Values you own; other arguments are passed to ``f`` unchanged.

Second derivatives come from ``backward(create_graph=True)``: the first backward
pass is itself recorded as a graph, and a second reverse pass through that graph
gives one row of the Hessian (or, seeded with a vector ``v``, the product
``H @ v`` without ever forming ``H``).

Transforms compose as JAX's do. Called inside another transform's ``f``
(on a Value that transform differentiates, or reading one through a closure),
every transform (``grad``, ``value_and_grad``, ``jacobian``, ``hessian``,
``hvp``) records its backward passes (``create_graph=True``) and returns
Values, so the outer transform differentiates through them:

>>> d3 = al.grad(al.grad(al.grad(lambda z: z.tanh())))
>>> round(d3(0.5), 6)
-0.565209
>>> al.jacobian(al.grad(f))([1.0, 2.0]).tolist()
[[6.0, 0.0], [0.0, 12.0]]
>>> al.jacobian(al.hessian(f))([1.0, 2.0]).tolist()  # third derivatives
[[[6.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 6.0]]]
>>> al.grad(lambda x: al.hvp(f, x, [1.0, 1.0]).sum())([1.0, 2.0]).tolist()
[6.0, 6.0]
>>> al.grad(lambda y: al.grad(lambda x: x * x * y)(2.0))(3.0)  # y from the closure
4.0

Inside, each differentiated argument is a fresh node ``x' = x`` on top of the
outer Value, so an inner derivative never mixes up with an outer variable that
``f`` also reads (JAX's "perturbation confusion"):
``grad(lambda y: grad(lambda x: x * y)(y))(3.0)`` is 1, not 2.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .graph import backward, enable_grad, topological_order
from .value import Value, as_data

__all__ = ["grad", "hessian", "hvp", "jacobian", "value_and_grad"]

Argnums = int | tuple[int, ...]


# ---------------------------------------------------------------- helpers


def _check_callable(f: Any, who: str) -> None:
    if not callable(f):
        raise TypeError(f"{who}: f must be a callable, got {type(f).__name__} {f!r:.60}")


def _check_argnums(argnums: Any, who: str) -> tuple[tuple[int, ...], bool]:
    """``(tuple of argnums, single?)``; type errors are raised when the transform is built."""
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return (int(argnums),), True
    if isinstance(argnums, tuple) and argnums:
        for a in argnums:
            if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
                raise TypeError(
                    f"{who}: argnums must be an int or a tuple of ints, got {argnums!r}"
                )
        return tuple(int(a) for a in argnums), False
    hint = ""
    if isinstance(argnums, (np.ndarray, list, float, Value)):
        hint = f" ({who}(f) returns a function: call {who}(f)(x), not {who}(f, x))"
    raise TypeError(
        f"{who}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}{hint}"
    )


def _leaf(x: Any, position: int, who: str) -> Value:
    """A fresh leaf Value holding the data of argument ``x``."""
    if isinstance(x, Value):
        return Value(x.data, label=x.label)
    return Value(as_data(x, f"{who}: argument {position}"))


_DEPTH = 0
"""How many transforms are calling their ``f`` right now (nested transforms see > 0)."""


def _nested(args: tuple, argnums: tuple[int, ...]) -> bool:
    """True inside another transform's ``f``: record the backward, return Values.

    Not only when an outer transform differentiates one of the selected
    arguments: ``f`` may also read an outer variable through a closure
    (``grad(lambda y: hessian(lambda x: x * x * y)(2.0))``), which the outer
    transform can only see through a recorded backward pass.
    """
    return _DEPTH > 0


def _inner(x: Any, position: int, who: str) -> Value:
    """In a nested transform: a new node ``x' = x`` on top of the outer Value ``x``.

    Gradients are taken with respect to ``x'``, whose only reader is ``f``; the
    recorded backward still leads back to ``x``, so the outer transform sees it.
    """
    from .ops import linear

    if isinstance(x, Value) and x.requires_grad:
        with enable_grad():
            return linear(x)  # unlabelled: a label would name two nodes of one graph
    return _leaf(x, position, who)


def _prepare(
    args: tuple, argnums: tuple[int, ...], who: str, nested: bool = False
) -> tuple[list[Any], list[Value]]:
    """Replace the differentiated arguments by fresh leaves (nested: by fresh nodes)."""
    n = len(args)
    call_args = list(args)
    leaves = []
    seen = set()
    for a in argnums:
        if not -n <= a < n:
            raise IndexError(
                f"{who}: argnums={a} is out of range: f was called with {n} positional argument(s)"
            )
        a %= n
        if a in seen:
            raise ValueError(f"{who}: argnums repeats argument {a}")
        seen.add(a)
        leaf = _inner(args[a], a, who) if nested else _leaf(args[a], a, who)
        call_args[a] = leaf
        leaves.append(leaf)
    return call_args, leaves


def _call(f: Callable[..., Any], call_args: list, kwargs: dict, who: str) -> Value:
    global _DEPTH
    _DEPTH += 1
    try:
        with enable_grad():
            out = f(*call_args, **kwargs)
    finally:
        _DEPTH -= 1
    if not isinstance(out, Value):
        raise TypeError(
            f"{who}: f must return a Value, got {type(out).__name__}; compute the result "
            "with Value operators, methods and numpy functions on the Values themselves "
            "(np.sin(x) is a Value; np.sin(x.data) or float(x) is a constant)"
        )
    return out


def _check_scalar(out: Value, who: str) -> None:
    if out.shape != ():
        raise ValueError(
            f"{who}: f must return a scalar Value, got shape {out.shape}; use jacobian() "
            "for a vector-valued f, or reduce the output with .sum() or .mean()"
        )


def _vjp(root: Value, inputs: Sequence[Value], seed: Any, create_graph: bool) -> list[Any]:
    """Gradients of ``root`` (seeded with ``seed``) for ``inputs``, without side effects.

    Every node's ``.grad`` is restored afterwards, so Values that ``f`` closes
    over (model parameters, say) keep their gradients. Entries are ``None`` for
    inputs that do not influence ``root``.
    """
    if not root.requires_grad:
        return [None] * len(inputs)
    order = topological_order(root)
    saved = [(node, node._grad) for node in order]
    for node in order:
        node._grad = None
    try:
        backward(root, seed, retain_graph=True, create_graph=create_graph)
        return [x._grad for x in inputs]
    finally:
        for node, g in saved:
            node._grad = g


def _as_result(g: Any, like: Value) -> Any:
    """A gradient as numpy data of the leaf's shape (a float for scalars)."""
    if g is None:
        g = 0.0 if like.shape == () else np.zeros(like.shape, dtype=like.dtype)
    elif isinstance(g, Value):
        g = g.data
    if np.shape(g) == ():
        return float(g)
    return np.array(g, dtype=like.dtype)


def _one_hot(shape: tuple[int, ...], k: int, dtype: Any) -> Any:
    if shape == ():
        return 1.0
    e = np.zeros(shape, dtype=dtype)
    e.reshape(-1)[k] = 1.0
    return e


def _block(out_shape: tuple, in_shape: tuple, dtype: Any) -> np.ndarray:
    return np.zeros(out_shape + in_shape, dtype=dtype)


def _as_value(g: Any, like: Value) -> Value:
    """A nested transform's gradient as a Value of the input's shape (constant if none)."""
    if isinstance(g, Value):
        return g
    if g is None:
        g = 0.0 if like.shape == () else np.zeros(like.shape, dtype=like.dtype)
    return Value(g, requires_grad=False)


def _stack_rows(rows: list[Value], out_shape: tuple, in_shape: tuple) -> Value:
    """A Value of shape ``out_shape + in_shape`` whose k-th block is ``rows[k]``.

    Built from table ops only (``Σ_k e_k ⊗ row_k``), so it stays differentiable.
    """
    from .ops import reshape

    n = len(rows)
    total: Value | None = None
    for k, row in enumerate(rows):
        e = np.zeros((n,) + (1,) * len(in_shape))
        e[k] = 1.0
        term = reshape(row, (1,) + in_shape) * e
        total = term if total is None else total + term
    if total is None:  # an empty output
        return Value(np.zeros(out_shape + in_shape), requires_grad=False)
    return reshape(total, out_shape + in_shape)


def _finish(a: np.ndarray) -> Any:
    return float(a) if a.shape == () else a


def _jacobian_values(out: Value | None, oshape: tuple, leaves: list[Value]) -> list[Value]:
    """Nested: d out / d leaf as one differentiable Value of shape ``oshape + leaf.shape`` each.

    One reverse pass per element of ``out``, each recorded (``create_graph``);
    ``out`` None or constant gives constant zeros.
    """
    per_input: list[list[Value]] = [[] for _ in leaves]
    live = isinstance(out, Value) and out.requires_grad
    for k in range(int(np.prod(oshape, dtype=int))):
        rows = _vjp(out, leaves, _one_hot(oshape, k, out.dtype), True) if live else None
        for j, x in enumerate(leaves):
            per_input[j].append(_as_value(rows[j] if rows else None, x))
    return [_stack_rows(r, oshape, x.shape) for r, x in zip(per_input, leaves)]


def _jacobian_arrays(out: Value | None, oshape: tuple, leaves: list[Value]) -> list[Any]:
    """Top level: d out / d leaf as numpy blocks of shape ``oshape + leaf.shape`` (0 if none)."""
    blocks = [_block(oshape, x.shape, x.dtype) for x in leaves]
    if isinstance(out, Value) and out.requires_grad:
        flat = [b.reshape(out.size, x.size) for b, x in zip(blocks, leaves)]
        for k in range(out.size):
            rows = _vjp(out, leaves, _one_hot(oshape, k, out.dtype), create_graph=False)
            for j, (g, x) in enumerate(zip(rows, leaves)):
                flat[j][k] = np.reshape(_as_result(g, x), -1)
    return [_finish(b) for b in blocks]


def _pack(items: list[Any], single: bool) -> Any:
    return items[0] if single else tuple(items)


def _direction(vi: Any, leaf: Value, i: int, several: bool, nested: bool) -> Any:
    """hvp's direction ``v_i`` checked against its point's shape, as numpy data.

    Kept a Value when an outer transform differentiates it (``H v`` is linear in ``v``).
    """
    if nested and isinstance(vi, Value) and vi.requires_grad:
        vd = vi
    else:
        vd = vi.data if isinstance(vi, Value) else as_data(vi, "hvp: v")
    shape = vi.shape if isinstance(vi, Value) else np.shape(vd)
    if shape != leaf.shape:
        at = f" (argument {i})" if several else ""
        raise ValueError(
            f"hvp: v has shape {shape} but x has shape {leaf.shape}{at}; they must match"
        )
    return vd


# ------------------------------------------------------------- transforms


def _transform(f: Callable[..., Value], argnums: Argnums, who: str, result: Callable) -> Callable:
    """``f`` as the transform ``who``: what every transform but ``hvp`` does around ``f``.

    The arguments ``argnums`` picks become fresh leaves, ``f`` runs on them, and
    ``result(out, leaves, nested, single, who)`` turns its output into the derivative
    (Values when ``nested``: inside another transform, which differentiates them).
    """
    _check_callable(f, who)
    nums, single = _check_argnums(argnums, who)

    @functools.wraps(f)
    def transformed(*args: Any, **kwargs: Any) -> Any:
        nested = _nested(args, nums)
        call_args, leaves = _prepare(args, nums, who, nested)
        out = _call(f, call_args, kwargs, who)
        return result(out, leaves, nested, single, who)

    return transformed


def _gradient(out: Value, leaves: list[Value], nested: bool, single: bool, who: str) -> Any:
    _check_scalar(out, who)
    grads = _vjp(out, leaves, None, create_graph=nested)
    finish = _as_value if nested else _as_result
    return _pack([finish(g, x) for g, x in zip(grads, leaves)], single)


def _value_and_gradient(
    out: Value, leaves: list[Value], nested: bool, single: bool, who: str
) -> tuple[Any, Any]:
    gradient = _gradient(out, leaves, nested, single, who)
    return (out if nested else float(out.item())), gradient


def _jacobian(out: Value, leaves: list[Value], nested: bool, single: bool, who: str) -> Any:
    jac = _jacobian_values if nested else _jacobian_arrays
    return _pack(jac(out, out.shape, leaves), single)


def _hessian(out: Value, leaves: list[Value], nested: bool, single: bool, who: str) -> Any:
    _check_scalar(out, who)
    grads = _vjp(out, leaves, None, create_graph=True)
    # block row i is the Jacobian of the gradient g_i: recorded again when nested
    jac = _jacobian_values if nested else _jacobian_arrays
    rows = [_pack(jac(g, x.shape, leaves), single) for g, x in zip(grads, leaves)]
    return _pack(rows, single)


def value_and_grad(f: Callable[..., Value], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """Turn a scalar function ``f`` into one returning ``(f(*args), gradient)``.

    Args:
        f: a function of Values returning a scalar Value.
        argnums: which positional argument(s) to differentiate; a tuple gives a
            tuple of gradients.

    Returns:
        A function with ``f``'s signature returning ``(value, grad)``: the value as
        a float, the gradient as a numpy array shaped like the argument (a float
        for a scalar argument).

    >>> import autograd_lite as al
    >>> vg = al.value_and_grad(lambda w, x: (w * x).sum() ** 2, argnums=(0, 1))
    >>> value, (dw, dx) = vg([1.0, 2.0], [3.0, 4.0])
    >>> value, dw.tolist(), dx.tolist()
    (121.0, [66.0, 88.0], [22.0, 44.0])
    """
    return _transform(f, argnums, "value_and_grad", _value_and_gradient)


def grad(f: Callable[..., Value], argnums: Argnums = 0) -> Callable[..., Any]:
    """Turn a scalar function ``f`` into the function computing its gradient.

    Args:
        f: a function of Values returning a scalar Value.
        argnums: which positional argument(s) to differentiate (int or tuple).

    Returns:
        A function with ``f``'s signature returning d f / d args[argnums] as a
        numpy array of that argument's shape (a float for a scalar argument, a
        tuple for a tuple ``argnums``).

    >>> import autograd_lite as al
    >>> dtanh = al.grad(lambda z: z.tanh())
    >>> round(dtanh(0.5), 6)
    0.786448
    >>> al.grad(lambda x: (x * x).sum())([1.0, -2.0]).tolist()
    [2.0, -4.0]
    >>> al.grad(lambda x: x * 2)([1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: grad: f must return a scalar Value, got shape (2,); use jacobian() ...
    """
    return _transform(f, argnums, "grad", _gradient)


def jacobian(f: Callable[..., Value], argnums: Argnums = 0) -> Callable[..., Any]:
    """Turn ``f`` (any output shape) into the function computing its Jacobian.

    One reverse pass per output element (reverse mode). For an output of shape
    ``T`` and an argument of shape ``S`` the Jacobian has shape ``T + S``:
    ``J[t][s] = d out[t] / d x[s]``.

    >>> import autograd_lite as al
    >>> J = al.jacobian(lambda x: x * x)([1.0, 2.0, 3.0])
    >>> J.tolist()
    [[2.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 6.0]]
    >>> al.jacobian(lambda a, b: a @ b, argnums=1)([[1.0, 2.0]], [3.0, 4.0]).tolist()
    [[1.0, 2.0]]
    """
    return _transform(f, argnums, "jacobian", _jacobian)


def hessian(f: Callable[..., Value], argnums: Argnums = 0) -> Callable[..., Any]:
    """Turn a scalar function ``f`` into the function computing its Hessian.

    The gradient is computed with ``backward(create_graph=True)``, then each of
    its elements is differentiated again (one reverse pass per row). For an
    argument of shape ``S`` the Hessian has shape ``S + S``; with a tuple
    ``argnums`` the result is a tuple of tuples of blocks, ``H[i][j]`` of shape
    ``S_i + S_j`` (as in JAX).

    >>> import autograd_lite as al
    >>> H = al.hessian(lambda w: (w[0] ** 2) * w[1] + w[1].exp())([1.0, 0.0])
    >>> H.tolist()
    [[0.0, 2.0], [2.0, 1.0]]
    >>> al.hessian(lambda z: z.tanh())(0.0)
    0.0

    Inside another transform it returns Values, so it can be differentiated
    again: the gradient of the trace of the Hessian (the Laplacian) of
    ``Σ x³`` is ``6``:

    >>> import numpy as np
    >>> laplacian = lambda x: (al.hessian(lambda y: (y ** 3).sum())(x) * np.eye(2)).sum()
    >>> al.grad(laplacian)([1.0, 2.0]).tolist()
    [6.0, 6.0]
    """
    return _transform(f, argnums, "hessian", _hessian)


def hvp(f: Callable[..., Value], x: Any, v: Any) -> Any:
    """Hessian-vector product ``H(x) @ v`` of a scalar ``f``, without forming ``H``.

    Two reverse passes: ``backward(create_graph=True)`` records the gradient
    ``g(x)`` as a graph, and a second backward through ``g`` seeded with ``v``
    gives ``d(g · v)/dx = H v``. The cost is about that of two gradients, whatever
    the size of ``x`` (the full Hessian needs one pass per element).

    Args:
        f: a function returning a scalar Value, of one argument, or of several
            when ``x`` is a tuple.
        x: the point (number, list, array or Value), or a *tuple* of points, one
            per argument of ``f`` (as JAX's ``jvp`` takes its primals).
        v: the direction, of the same shape as ``x`` (a tuple of the same length
            and shapes when ``x`` is a tuple).

    Returns:
        ``H(x) @ v`` with ``x``'s shape (a float for scalar ``x``). For a tuple
        ``x``: a tuple with one block per argument, ``Σ_j H_ij v_j``.

    >>> import autograd_lite as al
    >>> f = lambda w: (w[0] ** 2) * w[1] + w[1].exp()
    >>> al.hvp(f, [1.0, 0.0], [1.0, 0.0]).tolist()
    [0.0, 2.0]
    >>> al.hvp(lambda a, b: (a * a * b).sum(), (2.0, 3.0), (1.0, 0.0))
    (6.0, 4.0)

    Inside another transform that differentiates ``x`` or ``v`` it returns
    Values (``H v`` of ``z ↦ z⁴`` is ``12 z² v``, so d/dz at ``v = 1`` is ``24 z``):

    >>> al.grad(lambda z: al.hvp(lambda y: y ** 4, z, 1.0))(2.0)
    48.0
    """
    who = "hvp"
    _check_callable(f, who)
    several = isinstance(x, tuple)
    xs = x if several else (x,)
    if several and (not isinstance(v, tuple) or len(v) != len(xs)):
        raise ValueError(
            f"{who}: x is a tuple of {len(xs)} argument(s), so v must be a tuple of as many "
            f"directions, got {type(v).__name__}"
            + (f" of length {len(v)}" if isinstance(v, tuple) else "")
        )
    vs = v if several else (v,)
    # inside another transform that differentiates a point or a direction: record, return Values
    nested = _nested(xs + vs, tuple(range(2 * len(xs))))
    _, leaves = _prepare(xs, tuple(range(len(xs))), who, nested)
    vds = [_direction(vi, leaf, i, several, nested) for i, (vi, leaf) in enumerate(zip(vs, leaves))]
    out = _call(f, list(leaves), {}, who)
    _check_scalar(out, who)
    grads = _vjp(out, leaves, None, create_graph=True)
    live = [(g, vd) for g, vd in zip(grads, vds) if isinstance(g, Value) and g.requires_grad]
    finish = _as_value if nested else _as_result
    if not live:  # f is at most linear in x: H = 0
        return _pack([finish(None, leaf) for leaf in leaves], not several)
    if len(live) == 1 and not several and not isinstance(live[0][1], Value):
        root, seed = live[0]
    else:  # d(Σ_i g_i · v_i)/dx_j = Σ_i H_ji v_i = (H v)_j
        with enable_grad():
            parts = [(g * vd).sum() if g.shape else g * vd for g, vd in live]
            root = parts[0]
            for p in parts[1:]:
                root = root + p
        seed = None
    hv = _vjp(root, leaves, seed, create_graph=nested)
    return _pack([finish(h, leaf) for h, leaf in zip(hv, leaves)], not several)
