"""numpy's own functions on Values: ``np.sin(v)``, ``np.sum(v, axis=0)``, ``np.stack([v, w])``.

``Value.__array_ufunc__`` and ``Value.__array_function__`` (numpy's NEP 13 and
NEP 18 protocols) hand every numpy call that involves a Value to this module.
A ufunc or function with a table op runs that op, so the result is a Value with
a gradient; anything else raises ``TypeError`` naming the numpy function (never
a silent conversion of the Value to a constant array, which would cut the graph).

* ufuncs: the arithmetic operators (so ``np_array * v`` is still a Value),
  ``exp log sqrt absolute tanh sin cos maximum minimum matmul negative positive``,
  ``heaviside(v, 1)`` (the lecture's step), ``logaddexp(0, v)`` (softplus),
  ``scipy.special.expit`` (sigmoid), and ``add/maximum/minimum.reduce``
  (sum, max, min). Comparisons (``np.less(v, 0)``, ``array < v``) give plain
  boolean arrays, as ``v < 0`` does.
* functions: ``sum mean max amax min amin var std reshape transpose squeeze
  expand_dims broadcast_to clip where concatenate stack split pad dot``
  (``dot`` of 1-D/2-D values), and the metadata ``shape ndim size``.

Arguments numpy has but the op does not (``out=``, ``dtype=``, ``where=``,
``mode="edge"``...) raise ``TypeError`` naming the function and the argument.

>>> import numpy as np, autograd_lite as al
>>> v = al.Value([0.0, 1.0, 2.0])
>>> y = np.sum(np.tanh(v) * np.array([1.0, 2.0, 3.0]))
>>> type(y).__name__, y.op
('Value', 'sum')
>>> y.backward(); v.grad.round(4).tolist()
[1.0, 0.8399, 0.2119]
>>> np.cumsum(v)
Traceback (most recent call last):
...
TypeError: numpy.cumsum has no table op, so it cannot be differentiated: ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .registry import get_op
from .value import Value

# ufunc name -> table op name (each a direct call of the op on the inputs)
_UFUNC_OPS = {
    "add": "add",
    "subtract": "sub",
    "multiply": "mul",
    "divide": "div",
    "true_divide": "div",
    "power": "pow",
    "negative": "neg",
    "matmul": "matmul",
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "absolute": "abs",
    "tanh": "tanh",
    "sin": "sin",
    "cos": "cos",
    "maximum": "maximum",
    "minimum": "minimum",
}
# ufunc.reduce -> the reduction op
_REDUCE_OPS = {"add": "sum", "maximum": "max", "minimum": "min"}
_COMPARISONS = {
    "less": np.less,
    "less_equal": np.less_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
    "equal": np.equal,
    "not_equal": np.not_equal,
}


def _no_op(name: str) -> TypeError:
    return TypeError(
        f"numpy.{name} has no table op, so it cannot be differentiated: use Value "
        "methods or al.<op> functions, or apply it to value.data for a constant result"
    )


def _refuse(name: str, given: dict) -> None:
    """``TypeError`` for numpy arguments the op does not take (``out=``, ``dtype=``...)."""
    for key, value in given.items():
        if value is not None:
            raise TypeError(f"numpy.{name}: argument {key}={value!r} is not supported for Values")


def _data(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


def array_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    """Run a numpy ufunc on Values through its table op (``Value.__array_ufunc__``).

    >>> import autograd_lite as al
    >>> array_ufunc(np.maximum, "__call__", (al.Value([-1.0, 2.0]), 0.0), {}).op
    'maximum'
    """
    name = ufunc.__name__
    where = "" if method == "__call__" else f".{method}"
    if "out" in kwargs:
        raise TypeError(
            f"numpy.{name}{where}: out= would write into an array; Values are not changed in place"
        )
    if method == "reduce" and name in _REDUCE_OPS:
        array, *rest = inputs
        axis = kwargs.pop("axis", rest[0] if rest else 0)
        keepdims = kwargs.pop("keepdims", False)
        _refuse(f"{name}.reduce", {k: v for k, v in kwargs.items() if k != "dtype"})
        _refuse(f"{name}.reduce", {"dtype": kwargs.get("dtype")})
        return getattr(_value(array), _REDUCE_OPS[name])(axis, keepdims)
    if method != "__call__":
        raise TypeError(f"numpy.{name}.{method} has no table op, so it cannot be differentiated")
    _refuse(name, {k: v for k, v in kwargs.items() if k not in ("casting", "dtype")})
    _refuse(name, {"dtype": kwargs.get("dtype")})
    if name in _COMPARISONS:  # plain booleans, as Value's own comparison operators give
        return _COMPARISONS[name](*(_data(x) for x in inputs))
    if name in _UFUNC_OPS:
        return get_op(_UFUNC_OPS[name])(*inputs)
    if name == "positive":
        return inputs[0]
    if name == "heaviside" and _is(inputs[1], 1.0):
        return get_op("step")(inputs[0])  # step(z) = 1 if z >= 0: heaviside(z, 1)
    if name == "logaddexp" and (_is(inputs[0], 0.0) or _is(inputs[1], 0.0)):
        other = inputs[1] if _is(inputs[0], 0.0) else inputs[0]
        return get_op("softplus")(other)  # log(e^0 + e^z)
    if name == "expit":  # scipy.special.expit, a numpy ufunc
        return get_op("sigmoid")(inputs[0])
    raise _no_op(name)


def _is(x: Any, number: float) -> bool:
    """True if ``x`` is a constant (not a Value) equal to ``number`` everywhere."""
    return not isinstance(x, Value) and np.ndim(x) == 0 and x == number


def _numpy_name(func: Any) -> str:
    """``func``'s name below ``numpy`` (``fft.fft``, ``linalg.norm``, ``cumsum``)."""
    name = getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None) or "numpy"
    if module.startswith("numpy."):
        return f"{module.removeprefix('numpy.')}.{name}"
    return name


def array_function(func: Any, args: tuple, kwargs: dict) -> Any:
    """Run a numpy function on Values through its table op (``Value.__array_function__``).

    >>> import autograd_lite as al
    >>> array_function(np.mean, (al.Value([1.0, 2.0]),), {}).data
    1.5
    """
    handler = _handlers().get(func)
    if handler is None:
        raise _no_op(_numpy_name(func))
    return handler(*args, **kwargs)


# ------------------------------------------------------------ the functions


def _value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def _sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    _refuse("sum", {"dtype": dtype, "out": out, "initial": initial, "where": where})
    return _value(a).sum(axis, keepdims)


def _mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    _refuse("mean", {"dtype": dtype, "out": out, "where": where})
    return _value(a).mean(axis, keepdims)


def _reduction(name: str, op: str) -> Callable:
    def reduce(a, axis=None, out=None, keepdims=False, initial=None, where=None):
        _refuse(name, {"out": out, "initial": initial, "where": where})
        return getattr(_value(a), op)(axis, keepdims)

    return reduce


def _spread(name: str) -> Callable:
    def spread(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, **kw):
        _refuse(name, {"dtype": dtype, "out": out, "where": where, **kw})
        return get_op(name)(_value(a), axis, ddof, keepdims)

    return spread


def _reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    _refuse("reshape", {"order": None if order == "C" else order, "copy": copy})
    return _value(a).reshape(shape if shape is not None else newshape)


def _transpose(a, axes=None):
    v = _value(a)
    return v.transpose() if axes is None else v.transpose(tuple(axes))


def _squeeze(a, axis=None):
    return get_op("squeeze")(_value(a), axis)


def _expand_dims(a, axis):
    return get_op("expand_dims")(_value(a), axis)


def _broadcast_to(array, shape, subok=False):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return get_op("broadcast_to")(_value(array), shape)


def _clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None, **kw):  # noqa: A002
    _refuse("clip", {"out": out, **kw})
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return get_op("clip")(_value(a), _data(lo), _data(hi))


def _where(condition, x=None, y=None):
    if x is None or y is None:
        raise TypeError("numpy.where with only a condition gives indices: use it on value.data")
    from .array_ops import where

    return where(condition, x, y)


def _concatenate(arrays, axis=0, out=None, *, dtype=None, casting=None):
    _refuse("concatenate", {"out": out, "dtype": dtype})
    from .array_ops import concatenate

    if axis is None:
        return concatenate([_value(a).reshape(-1) for a in arrays])
    return concatenate(list(arrays), axis)


def _stack(arrays, axis=0, out=None, *, dtype=None, casting=None):
    _refuse("stack", {"out": out, "dtype": dtype})
    from .array_ops import stack

    return stack(list(arrays), axis)


def _split(ary, indices_or_sections, axis=0):
    from .array_ops import split

    return split(ary, indices_or_sections, axis)


def _pad(array, pad_width, mode="constant", **kwargs):
    if mode != "constant":
        raise TypeError(f"numpy.pad: mode={mode!r} has no table op; only mode='constant'")
    constant = kwargs.pop("constant_values", 0.0)
    _refuse("pad", kwargs)
    if np.ndim(constant):
        raise TypeError("numpy.pad: constant_values must be one number for Values")
    return get_op("pad")(_value(array), pad_width, float(constant))


def _dot(a, b, out=None):
    _refuse("dot", {"out": out})
    na, nb = np.ndim(_data(a)), np.ndim(_data(b))
    if na == 0 or nb == 0:
        return get_op("mul")(a, b)
    if na <= 2 and nb <= 2:
        return get_op("matmul")(a, b)
    raise TypeError("numpy.dot of arrays with more than 2 axes has no table op; use matmul")


_HANDLERS: dict[Any, Callable] = {}


def _handlers() -> dict[Any, Callable]:
    if not _HANDLERS:
        _HANDLERS.update(
            {
                np.sum: _sum,
                np.mean: _mean,
                np.max: _reduction("max", "max"),
                np.amax: _reduction("amax", "max"),
                np.min: _reduction("min", "min"),
                np.amin: _reduction("amin", "min"),
                np.var: _spread("var"),
                np.std: _spread("std"),
                np.reshape: _reshape,
                np.transpose: _transpose,
                np.squeeze: _squeeze,
                np.expand_dims: _expand_dims,
                np.broadcast_to: _broadcast_to,
                np.clip: _clip,
                np.where: _where,
                np.concatenate: _concatenate,
                np.stack: _stack,
                np.split: _split,
                np.pad: _pad,
                np.dot: _dot,
                np.shape: lambda a: np.shape(_data(a)),
                np.ndim: lambda a: np.ndim(_data(a)),
                np.size: lambda a, axis=None: np.size(_data(a), axis),
            }
        )
    return _HANDLERS
