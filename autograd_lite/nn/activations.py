"""One module per activation, each a thin wrapper over the op table.

The math (forward and derivative) lives only in ``autograd_lite/ops.py``; these
modules just call the op (``get_op(name)(x, ...)``), so an activation added to
the table (or with ``al.define_activation``) is usable as a layer through
:class:`Activation` or :func:`activation_module` by name.

>>> import autograd_lite as al
>>> from autograd_lite import nn
>>> nn.ReLU()(al.Value([-1.0, 0.0, 2.0])).data.tolist()
[0.0, 0.0, 2.0]
>>> activation_module("tanh")
Tanh()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import unary as _unary
from ..registry import get_op, has_op
from ..value import Value
from .module import Module, Parameter, _integer, _real


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


class Activation(Module):
    """Apply the elementwise op ``name`` from the op table, with fixed ``params``.

    >>> import autograd_lite as al
    >>> Activation("leaky_relu", alpha=0.1)(al.Value(-2.0)).data
    -0.2
    >>> Activation("no_such_op")
    Traceback (most recent call last):
    ...
    ValueError: no op named 'no_such_op' in the op table
    """

    op_name = ""

    def __init__(self, name: str | None = None, **params: Any) -> None:
        name = name or self.op_name
        if not has_op(name):
            raise ValueError(f"no op named {name!r} in the op table")
        self.name = name
        self.params = params

    def forward(self, x: Any) -> Value:
        op = get_op(self.name)
        params = op._default_params  # None if the op has parameters without defaults
        if not self.params and type(x) is Value and op.arity == 1 and params is not None:
            return _unary(op, x, params)  # what op(x) does, without two calls
        return op(_as_value(x), **self.params)

    def extra_repr(self) -> str:
        parts = [] if type(self) is not Activation else [repr(self.name)]
        parts += [f"{k}={v!r}" for k, v in self.params.items()]
        return ", ".join(parts)


class Identity(Activation):
    """φ(z) = z (the ``linear`` op): regression outputs.

    >>> Identity()(2.5).data
    2.5
    """

    op_name = "linear"

    def __init__(self) -> None:
        super().__init__()


class ReLU(Activation):
    """max(0, z); derivative 1 at z = 0 (the lecture's convention).

    >>> ReLU()([-1.0, 3.0]).data.tolist()
    [0.0, 3.0]
    """

    op_name = "relu"

    def __init__(self) -> None:
        super().__init__()


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^-z): binary and multilabel outputs.

    >>> Sigmoid()(0.0).data
    0.5
    """

    op_name = "sigmoid"

    def __init__(self) -> None:
        super().__init__()


class Tanh(Activation):
    """tanh(z).

    >>> Tanh()(0.0).data
    0.0
    """

    op_name = "tanh"

    def __init__(self) -> None:
        super().__init__()


class Step(Activation):
    """The perceptron's step: 1 if z >= 0 else 0 (derivative 0).

    >>> Step()([-0.5, 0.0, 2.0]).data.tolist()
    [0.0, 1.0, 1.0]
    """

    op_name = "step"

    def __init__(self) -> None:
        super().__init__()


class Swish(Activation):
    """z·σ(z).

    >>> round(Swish()(1.0).data, 6)
    0.731059
    """

    op_name = "swish"

    def __init__(self) -> None:
        super().__init__()


class LeakyReLU(Activation):
    """z if z >= 0 else alpha·z (fixed alpha).

    >>> LeakyReLU(0.1)
    LeakyReLU(alpha=0.1)
    >>> LeakyReLU(0.1)(-3.0).data
    -0.3...
    """

    op_name = "leaky_relu"

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__(alpha=_real(alpha, "LeakyReLU: alpha"))


class ELU(Activation):
    """z if z >= 0 else alpha·(e^z − 1).

    >>> round(ELU()(-1.0).data, 6)
    -0.632121
    """

    op_name = "elu"

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=_real(alpha, "ELU: alpha"))


class Softmax(Activation):
    """e^z_i / Σ_j e^z_j along ``axis``: multiclass outputs (probabilities summing to 1).

    >>> Softmax()([[0.0, 0.0]]).data.tolist()
    [[0.5, 0.5]]
    """

    op_name = "softmax"

    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis=_integer(axis, "Softmax: axis"))


class LogSoftmax(Activation):
    """log softmax along ``axis`` (stable).

    >>> LogSoftmax()([[0.0, 0.0]]).data.round(4).tolist()
    [[-0.6931, -0.6931]]
    """

    op_name = "log_softmax"

    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis=_integer(axis, "LogSoftmax: axis"))


class PReLU(Module):
    """Parametric ReLU: z if z >= 0 else α·z with a *learnable* α (a ``Parameter``).

    ``num_parameters=1`` shares one α; ``num_parameters=n`` learns one α per
    feature (the last axis of the input).

    >>> import autograd_lite as al
    >>> act = PReLU(init=0.25)
    >>> y = act(al.Value([-2.0, 3.0])).sum()
    >>> y.backward()
    >>> y.data, act.alpha.grad
    (2.5, -2.0)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25) -> None:
        if int(num_parameters) < 1:
            raise ValueError(f"PReLU: num_parameters must be >= 1, got {num_parameters}")
        self.num_parameters = int(num_parameters)
        data: Any = float(init) if num_parameters == 1 else np.full(num_parameters, float(init))
        self.alpha = Parameter(data, label="α")

    def forward(self, x: Any) -> Value:
        x = _as_value(x)
        if self.num_parameters > 1 and (x.ndim == 0 or x.shape[-1] != self.num_parameters):
            raise ValueError(
                f"PReLU(num_parameters={self.num_parameters}): input of shape {x.shape} "
                f"needs its last axis of size {self.num_parameters}"
            )
        return x.prelu(self.alpha)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}" if self.num_parameters > 1 else ""


_BY_NAME: dict[str, type[Module]] = {
    "linear": Identity,
    "identity": Identity,
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "step": Step,
    "swish": Swish,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "prelu": PReLU,
}


def activation_module(name: str | Module, **params: Any) -> Module:
    """A module for an activation given by name (or a module, returned as is).

    Names of the op table work too, including ops added with
    ``al.define_activation``.

    >>> activation_module("leaky_relu", alpha=0.2)
    LeakyReLU(alpha=0.2)
    >>> activation_module("softplus")
    Activation('softplus')
    >>> activation_module("blah")
    Traceback (most recent call last):
    ...
    ValueError: unknown activation 'blah'; use one of ['elu', ...] or any op of the table
    """
    if isinstance(name, Module):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name or a Module, got {type(name).__name__}")
    cls = _BY_NAME.get(name)
    if cls is not None:
        return cls(**params)
    if has_op(name) and get_op(name).elementwise:
        return Activation(name, **params)
    raise ValueError(
        f"unknown activation {name!r}; use one of {sorted(_BY_NAME)} or any op of the table"
    )
