"""Scalar building blocks, micrograd style: one ``Value`` per weight.

``Neuron`` computes ``φ(Σ_i w_i x_i + b)`` with a Python loop over scalar
Values, exactly as the lecture writes one perceptron; ``Layer`` is a list of
neurons. They are slow but every multiplication is a node you can draw. A
``Layer`` gives the same numbers as the vectorised :class:`~autograd_lite.nn.Linear`
with the same weights (``Layer.to_linear()``), which makes the step from one
neuron to a matrix product concrete.

>>> from autograd_lite import nn
>>> n = nn.Neuron(2, activation="linear", seed=0)
>>> n.load_state_dict({"w.0": 4.0, "w.1": 2.0, "b": -3.0})
>>> n([1.0, 1.0]).data
3.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..registry import get_op, has_op
from ..value import Value
from . import init as _init
from .layers import Linear
from .module import Module, Parameter


class Neuron(Module):
    """One neuron over scalar Values: ``φ(w_1 x_1 + ... + w_n x_n + b)``.

    Args:
        nin: number of inputs.
        activation: name of an op of the table (``"tanh"``, ``"sigmoid"``,
            ``"relu"``, ``"step"``, ``"linear"`` ...).
        rng, seed: randomness for the weights (uniform in [-1, 1]); the bias starts at 0.

    >>> n = Neuron(3, seed=0)
    >>> [name for name, _ in n.named_parameters()]
    ['w.0', 'w.1', 'w.2', 'b']
    >>> n([1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: Neuron(nin=3): expected 3 inputs, got 2
    """

    def __init__(
        self,
        nin: int,
        activation: str = "tanh",
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        if not has_op(activation) or not get_op(activation).elementwise:
            raise ValueError(f"Neuron: unknown activation {activation!r} (not an op of the table)")
        gen = _init.make_rng(rng, seed)
        self.nin = int(nin)
        self.w = [
            Parameter(float(v), label=f"w{i + 1}") for i, v in enumerate(gen.uniform(-1, 1, nin))
        ]
        self.b = Parameter(0.0, label="b")
        self.activation = activation

    def forward(self, x: Sequence[Any]) -> Value:
        xs = list(x.data) if isinstance(x, Value) else list(x)
        if len(xs) != self.nin:
            raise ValueError(f"Neuron(nin={self.nin}): expected {self.nin} inputs, got {len(xs)}")
        z = self.b
        for wi, xi in zip(self.w, xs):
            z = z + wi * xi
        return getattr(z, self.activation)()

    def extra_repr(self) -> str:
        return f"nin={self.nin}, activation={self.activation!r}"


class Layer(Module):
    """``nout`` independent neurons reading the same inputs; returns a list of scalar Values.

    >>> from autograd_lite import nn
    >>> layer = nn.Layer(3, 2, activation="tanh", seed=0)
    >>> out = layer([1.0, 0.0, -1.0])
    >>> len(out), type(out[0]).__name__
    (2, 'Value')
    >>> lin = layer.to_linear()
    >>> bool(np.allclose([o.data for o in out], lin([1.0, 0.0, -1.0]).tanh().data))
    True
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "tanh",
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        gen = _init.make_rng(rng, seed)
        self.nin, self.nout = int(nin), int(nout)
        self.neurons = [Neuron(nin, activation, rng=gen) for _ in range(nout)]
        self.activation = activation

    def forward(self, x: Sequence[Any]) -> list[Value]:
        return [n(x) for n in self.neurons]

    def weight_matrix(self) -> np.ndarray:
        """The weights as the lecture's matrix W: row j holds neuron j's weights, shape (nout, nin).

        >>> Layer(3, 2, seed=0).weight_matrix().shape
        (2, 3)
        """
        return np.array([[w.data for w in n.w] for n in self.neurons])

    def bias_vector(self) -> np.ndarray:
        """The biases as a vector of shape (nout,).

        >>> Layer(3, 2, seed=0).bias_vector().tolist()
        [0.0, 0.0]
        """
        return np.array([n.b.data for n in self.neurons])

    def to_linear(self) -> Linear:
        """A vectorised :class:`Linear` layer with copies of these weights (no activation).

        >>> Layer(4, 3, seed=0).to_linear()
        Linear(nin=4, nout=3, bias=True)
        """
        return Linear.from_weights(self.weight_matrix(), self.bias_vector())

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nout={self.nout}, activation={self.activation!r}"

    def __repr__(self) -> str:  # 100 identical neurons would be noise
        return f"Layer({self.extra_repr()})"
