"""Vectorised layers: ``Linear``, ``Sequential``, ``MLP`` and the classic ``Perceptron``.

Conventions follow the lecture: a layer's weight matrix ``W`` has one row per
neuron, shape ``(nout, nin)``, and its bias ``b`` has shape ``(nout,)``. A batch
holds one example per *row*, so a layer computes ``Z = X @ W.T + b`` — the
transpose of the lecture's column layout ``W X + b``, same numbers.

>>> import numpy as np

import autograd_lite as al
>>> from autograd_lite import nn
>>> net = nn.MLP(3, [4, 1], activation="sigmoid", output="sigmoid", seed=0)
>>> net(np.ones((5, 3))).shape
(5, 1)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .. import ops
from ..arguments import is_int
from ..graph import apply as _apply
from ..graph import no_grad
from ..value import Value
from . import init as _init
from .activations import activation_module
from .module import Module, Parameter, _real

_MODULE_CALL = Module.__call__


def _as_input(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


class Linear(Module):
    """Fully connected layer ``y = x @ W.T + b`` with ``W`` of shape ``(nout, nin)``.

    Args:
        nin, nout: input and output sizes.
        bias: learn a bias ``b`` of shape ``(nout,)``.
        activation: the activation that follows (only chooses the default init:
            He for ReLU-like, Xavier otherwise).
        init: an initialiser name from :mod:`autograd_lite.nn.init` or a callable
            ``(shape, rng) -> array``; overrides ``activation``.
        rng, seed: randomness for the init (a numpy ``Generator``, or a seed).
        dtype: ``np.float64`` (default) or ``np.float32``.

    >>> import numpy as np
    >>> lin = Linear(3, 2, seed=0)
    >>> lin
    Linear(nin=3, nout=2, bias=True)
    >>> lin(np.ones((4, 3))).shape, lin(np.ones(3)).shape
    ((4, 2), (2,))
    >>> lin(np.ones((4, 5)))
    Traceback (most recent call last):
    ...
    ValueError: Linear(nin=3, nout=2): expected inputs with last axis of size 3, got shape (4, 5)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        *,
        activation: str | None = None,
        init: Any = None,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        nin, nout = _positive(nin, "Linear: nin"), _positive(nout, "Linear: nout")
        self.nin, self.nout = nin, nout
        gen = _init.make_rng(rng, seed)
        initializer = _init.get_initializer(init or _init.init_for(activation))
        w = np.asarray(initializer((nout, nin), gen), dtype=dtype)
        if w.shape != (nout, nin):
            raise ValueError(f"Linear: init returned shape {w.shape}, expected {(nout, nin)}")
        self.weight = Parameter(w, label="W")
        self.bias = Parameter(np.zeros(nout, dtype=dtype), label="b") if bias else None

    def forward(self, x: Any) -> Value:
        if type(x) is not Value:
            x = _as_input(x)
        d = x._data
        if type(d) is float or d.ndim == 0 or d.shape[-1] != self.nin:
            raise ValueError(
                f"Linear(nin={self.nin}, nout={self.nout}): expected inputs with last axis of "
                f"size {self.nin}, got shape {x.shape}"
            )
        if self.bias is None:
            return x @ self.weight.T
        return _apply(ops.dense, (x, self.weight, self.bias))  # x @ W.T + b as one node

    def extra_repr(self) -> str:
        return f"nin={self.nin}, nout={self.nout}, bias={self.bias is not None}"

    @classmethod
    def from_weights(cls, weight: Any, bias: Any = None) -> Linear:
        """A layer holding copies of the given ``weight`` (nout, nin) and ``bias`` (nout,).

        >>> Linear.from_weights([[1.0, 2.0]], [0.5])([1.0, 1.0]).data.tolist()
        [3.5]
        """
        w = np.array(weight, dtype=float)
        if w.ndim != 2:
            raise ValueError(f"Linear.from_weights: weight must be 2-D (nout, nin), got {w.shape}")
        layer = cls(w.shape[1], w.shape[0], bias=bias is not None, init="zeros")
        state = {"weight": w}
        if bias is not None:
            state["bias"] = np.array(bias, dtype=float)
        layer.load_state_dict(state)
        return layer


def _numbers(x: Any, what: str) -> np.ndarray:
    """``x`` as a finite float array, or a ``ValueError`` naming ``what``."""
    try:
        arr = np.asarray(x.data if isinstance(x, Value) else x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be numbers, got {x!r} ({exc})") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite, got {x!r}")
    return arr


def _positive(n: Any, what: str) -> int:
    if not (is_int(n) and n >= 1):
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


class Sequential(Module):
    """Modules applied one after another; parameters are named ``"0.weight"``, ``"1.bias"`` ...

    >>> import numpy as np
    >>> from autograd_lite import nn
    >>> net = nn.Sequential(nn.Linear(2, 3, seed=0), nn.Tanh())
    >>> net
    Sequential(
      (0): Linear(nin=2, nout=3, bias=True)
      (1): Tanh()
    )
    >>> len(net), net(np.zeros((1, 2))).shape
    (2, (1, 3))
    """

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module) and not callable(m):
                raise TypeError(
                    f"Sequential: item {i} is a {type(m).__name__}, expected a Module or callable"
                )
        self.layers = list(modules)

    def _children_items(self) -> Iterator[tuple[str, Any]]:
        for i, m in enumerate(self.layers):
            yield str(i), m

    def forward(self, x: Any) -> Any:
        for m in self.layers:
            # Module.__call__ only calls forward: skip its frame (and *args packing)
            x = m.forward(x) if type(m).__call__ is _MODULE_CALL else m(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns self."""
        self.layers.append(module)
        return self


class MLP(Sequential):
    """Multi-layer perceptron: ``Linear`` layers with an activation between them.

    Args:
        nin: number of input features.
        sizes: width of each layer; the last is the output size.
        activation: hidden-layer activation (name or module factory name).
        output: the lecture's output-layer choice: ``"linear"`` (regression, and
            logits for ``CrossEntropyLoss``/``BCEWithLogitsLoss``), ``"sigmoid"``
            (binary and multilabel), ``"softmax"`` (multiclass probabilities), or
            any activation name.
        rng, seed, dtype: as for :class:`Linear`; one generator initialises all layers.

    Weights are labelled ``W1, b1, W2, b2 ...`` as in the lecture (layer [1], [2] ...).

    >>> net = MLP(64, [64, 10], seed=0)
    >>> net
    MLP(
      (0): Linear(nin=64, nout=64, bias=True)
      (1): ReLU()
      (2): Linear(nin=64, nout=10, bias=True)
    )
    >>> [p.label for p in net.parameters()]
    ['W1', 'b1', 'W2', 'b2']
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str = "relu",
        output: str = "linear",
        *,
        bias: bool = True,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        if isinstance(sizes, (int, np.integer)):
            sizes = [int(sizes)]
        sizes = list(sizes)
        if not sizes:
            raise ValueError("MLP: sizes must list at least one layer width")
        gen = _init.make_rng(rng, seed)
        dims = [nin, *sizes]
        modules: list[Module] = []
        for k in range(len(sizes)):
            last = k == len(sizes) - 1
            act = output if last else activation
            lin = Linear(dims[k], dims[k + 1], bias=bias, activation=act, rng=gen, dtype=dtype)
            lin.weight.label = f"W{k + 1}"
            if lin.bias is not None:
                lin.bias.label = f"b{k + 1}"
            modules.append(lin)
            if not last or output not in ("linear", "identity", None):
                modules.append(activation_module(act))
        super().__init__(*modules)
        self.nin, self.sizes = nin, sizes
        self.activation, self.output = activation, output


class Perceptron(Module):
    """Rosenblatt's perceptron ``y = φ(w·x + b)``, with step activation by default.

    ``.weight`` has shape ``(nin,)`` and ``.bias`` is a scalar, as in the lecture.
    Called on one example ``(nin,)`` it returns a scalar Value, on a batch
    ``(m, nin)`` a Value of shape ``(m,)``, so it works inside a graph. The step
    has derivative 0, so gradient descent cannot train it: use the classic
    perceptron rule (:meth:`train_rule`, :meth:`fit`) instead — or pass
    ``activation="sigmoid"`` for the lecture's sigmoid perceptron trained by the
    delta rule (one SGD step on ``HalfSquaredError``).

    >>> p = Perceptron(3, init="zeros")
    >>> p.load_state_dict({"weight": [4.0, 2.0, 4.0], "bias": -3.0})
    >>> p([1.0, 0.0, 1.0]).data          # the lecture's swimming decision
    1.0
    """

    def __init__(
        self,
        nin: int,
        activation: str = "step",
        *,
        init: Any = "uniform",
        rng: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        self.nin = _positive(nin, "Perceptron: nin")
        gen = _init.make_rng(rng, seed)
        w = np.asarray(_init.get_initializer(init)((self.nin,), gen), dtype=float)
        self.weight = Parameter(w, label="w")
        self.bias = Parameter(0.0, label="b")
        self.activation = activation
        self.act = activation_module(activation)

    def forward(self, x: Any) -> Value:
        x = _as_input(x)
        if x.ndim not in (1, 2) or x.shape[-1] != self.nin:
            raise ValueError(
                f"Perceptron(nin={self.nin}): expected an example of shape ({self.nin},) or a "
                f"batch (m, {self.nin}), got shape {x.shape}"
            )
        return self.act(x @ self.weight + self.bias)

    def predict(self, x: Any) -> np.ndarray:
        """Outputs as a numpy array (no graph).

        >>> Perceptron(2, init="zeros").predict([[1.0, 1.0], [0.0, 0.0]]).tolist()
        [1.0, 1.0]
        """
        with no_grad():
            return np.asarray(self(x).data)

    def train_rule(self, x: Any, target: float, lr: float = 1.0) -> float:
        """One step of the classic perceptron rule on one example; returns the error.

        ``e = target − y``, ``w ← w + lr·e·x``, ``b ← b + lr·e``. The weights
        only move when the example is misclassified (e ≠ 0).

        >>> p = Perceptron(2, init="zeros")
        >>> p.train_rule([1.0, 1.0], 0.0, lr=0.5)     # predicted 1, wanted 0
        -1.0
        >>> p.weight.data.tolist(), p.bias.data
        ([-0.5, -0.5], -0.5)
        """
        who = "Perceptron.train_rule"
        xa = _numbers(x, f"{who}: x")
        if xa.shape != (self.nin,):
            raise ValueError(
                f"{who}: expected one example of shape ({self.nin},), got shape {xa.shape}"
            )
        if isinstance(target, (bool, np.bool_)):  # a class label such as x[0] > 0
            target = float(target)
        target = _real(target, f"{who}: target")  # nan made every weight nan
        _real(lr, f"{who}: lr", 0.0)
        y = float(self.predict(xa))
        error = target - y
        if error:
            self.weight.data = self.weight.data + lr * error * xa
            self.bias.data = self.bias.data + lr * error
        return error

    def fit(
        self,
        X: Any,
        y: Any,
        lr: float = 1.0,
        epochs: int = 100,
        *,
        shuffle: bool = True,
        seed: int | None = 0,
    ) -> list[int]:
        """Classic perceptron training: repeat :meth:`train_rule` over the data.

        Stops early after an epoch without mistakes (the data was separated).
        Returns the number of misclassified examples in each epoch.

        >>> import numpy as np
        >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
        >>> p = Perceptron(2, init="zeros")
        >>> errors = p.fit(X, [0, 0, 0, 1], lr=1.0)     # logical AND
        >>> errors[-1], p.predict(X).tolist()
        (0, [0.0, 0.0, 0.0, 1.0])
        """
        Xa, ya = _numbers(X, "Perceptron.fit: X"), _numbers(y, "Perceptron.fit: y").reshape(-1)
        if not (is_int(epochs) and epochs >= 0):
            raise ValueError(f"Perceptron.fit: epochs must be an int >= 0, got {epochs!r}")
        if Xa.ndim != 2 or Xa.shape[1] != self.nin or len(ya) != len(Xa):
            raise ValueError(
                f"Perceptron.fit: expected X of shape (m, {self.nin}) and y of shape (m,), "
                f"got {Xa.shape} and {ya.shape}"
            )
        gen = np.random.default_rng(seed)
        history = []
        for _ in range(int(epochs)):
            order = gen.permutation(len(Xa)) if shuffle else np.arange(len(Xa))
            mistakes = sum(1 for i in order if self.train_rule(Xa[i], ya[i], lr) != 0)
            history.append(mistakes)
            if mistakes == 0:
                break
        return history

    def extra_repr(self) -> str:
        return f"nin={self.nin}, activation={self.activation!r}"
