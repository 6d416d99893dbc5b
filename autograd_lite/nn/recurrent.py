"""Recurrent layers as in PyTorch: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells.

One layer, one direction, batch first: a sequence is ``(N, T, input_size)``. The
parameters are PyTorch's, so weights copy both ways: ``weight_ih`` (G·H, input_size),
``weight_hh`` (G·H, H), ``bias_ih`` and ``bias_hh`` (G·H,), with G = 1 (RNN), 4 (LSTM,
gates i, f, g, o) or 3 (GRU, gates r, z, n), and every entry drawn from
U(−1/√H, 1/√H) as PyTorch does. The equations (for one step, rows are examples)::

    RNN   h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)
    LSTM  i, f, g, o = σ(·), σ(·), tanh(·), σ(·) of  x W_ihᵀ + b_ih + h W_hhᵀ + b_hh
          c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
    GRU   r, z = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr), σ(... z ...)
          n = tanh(x W_inᵀ + b_in + r ⊙ (h W_hnᵀ + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h

The sequence layers project the whole input with one matrix product before the time
loop (as PyTorch does); the loop then only adds ``h W_hhᵀ + b_hh`` at each step.

>>> import numpy as np
>>> from autograd_lite import nn
>>> lstm = nn.LSTM(3, 5, seed=0)
>>> out, (h, c) = lstm(np.zeros((2, 4, 3)))
>>> out.shape, h.shape, c.shape
((2, 4, 5), (2, 5), (2, 5))
>>> [(n, p.shape) for n, p in lstm.named_parameters()]
[('weight_ih', (20, 3)), ('weight_hh', (20, 5)), ('bias_ih', (20,)), ('bias_hh', (20,))]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..registry import get_op, has_op
from ..value import Value
from . import init as _init
from .module import Module, Parameter

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _as_input(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def _size(n: Any, what: str, layer: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {n!r}")
    return int(n)


class _RecurrentBase(Module):
    """Parameters and checks shared by the cells and the sequence layers."""

    kind = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        name = type(self).__name__
        self.input_size = _size(input_size, "input_size", name)
        self.hidden_size = hidden_size = _size(hidden_size, "hidden_size", name)
        rows = _GATES[self.kind] * hidden_size
        gen = _init.make_rng(rng, seed)
        k = 1.0 / math.sqrt(hidden_size)

        def draw(shape: tuple[int, ...], label: str) -> Parameter:
            return Parameter(gen.uniform(-k, k, size=shape).astype(dtype), label=label)

        self.weight_ih = draw((rows, self.input_size), "W_ih")
        self.weight_hh = draw((rows, hidden_size), "W_hh")
        self.bias_ih = draw((rows,), "b_ih") if bias else None
        self.bias_hh = draw((rows,), "b_hh") if bias else None

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias_ih is not None else text + ", bias=False"

    def _project(self, x: Value, weight: Value, bias: Value | None) -> Value:
        """``x Wᵀ + b`` (one node when there is a bias)."""
        if bias is None:
            return x @ weight.T
        return ops.dense(x, weight, bias)

    def _state(self, h: Any, batch: int, what: str) -> Value:
        """An initial state: zeros when None, else checked to be (N, hidden_size)."""
        if h is None:
            return Value(np.zeros((batch, self.hidden_size)), requires_grad=False)
        h = _as_input(h)
        if h.shape != (batch, self.hidden_size):
            raise ValueError(
                f"{type(self).__name__}: initial {what} must have shape "
                f"{(batch, self.hidden_size)} (batch, hidden_size), got {h.shape}"
            )
        return h

    def _step(self, xp: Value, state: Any) -> Any:
        """One time step from the projected input ``xp = x W_ihᵀ + b_ih``."""
        H = self.hidden_size
        hh = self._project(state[0] if self.kind == "LSTM" else state, self.weight_hh, self.bias_hh)
        if self.kind == "RNN":
            pre = xp + hh
            return pre.relu() if self.nonlinearity == "relu" else pre.tanh()
        if self.kind == "LSTM":
            h, c = state
            s = (xp + hh).sigmoid()
            t = (xp[:, 2 * H : 3 * H] + hh[:, 2 * H : 3 * H]).tanh()
            c = s[:, H : 2 * H] * c + s[:, :H] * t
            return s[:, 3 * H :] * c.tanh(), c
        rz = (xp[:, : 2 * H] + hh[:, : 2 * H]).sigmoid()
        r, z = rz[:, :H], rz[:, H:]
        n = (xp[:, 2 * H :] + r * hh[:, 2 * H :]).tanh()
        return n + z * (state - n)  # (1 − z) n + z h


class _Cell(_RecurrentBase):
    def _check(self, x: Value) -> None:
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}({self.extra_repr()}): expected input of shape "
                f"(N, {self.input_size}), got {x.shape}"
            )


class RNNCell(_Cell):
    """One step of an Elman RNN: ``h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)``.

    ``nonlinearity="relu"`` uses ReLU instead of tanh. ``cell(x, h=None)`` takes
    ``x`` (N, input_size) and returns ``h'`` (N, hidden_size); ``h`` defaults to zeros.

    >>> import numpy as np
    >>> cell = RNNCell(2, 3, seed=0)
    >>> cell(np.ones((4, 2))).shape
    (4, 3)
    """

    kind = "RNN"

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
        **kwargs: Any,
    ) -> None:
        _nonlinearity(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, x: Any, h: Any = None) -> Value:
        x = _as_input(x)
        self._check(x)
        h = self._state(h, x.shape[0], "h")
        return self._step(self._project(x, self.weight_ih, self.bias_ih), h)


class LSTMCell(_Cell):
    """One LSTM step; ``cell(x, (h, c)=None)`` returns ``(h', c')``, each (N, hidden_size).

    Gates in PyTorch's order i, f, g, o (rows of ``weight_ih``/``weight_hh`` in
    blocks of ``hidden_size``): ``c' = f ⊙ c + i ⊙ g``, ``h' = o ⊙ tanh(c')``.

    >>> import numpy as np
    >>> h, c = LSTMCell(2, 3, seed=0)(np.ones((4, 2)))
    >>> h.shape, c.shape
    ((4, 3), (4, 3))
    """

    kind = "LSTM"

    def forward(self, x: Any, state: Any = None) -> tuple[Value, Value]:
        x = _as_input(x)
        self._check(x)
        h, c = _pair(state, "LSTMCell")
        state = (self._state(h, x.shape[0], "h"), self._state(c, x.shape[0], "c"))
        return self._step(self._project(x, self.weight_ih, self.bias_ih), state)


class GRUCell(_Cell):
    """One GRU step (gates r, z, n as PyTorch): ``h' = (1 − z) ⊙ n + z ⊙ h``.

    >>> import numpy as np
    >>> GRUCell(2, 3, seed=0)(np.ones((4, 2))).shape
    (4, 3)
    """

    kind = "GRU"

    def forward(self, x: Any, h: Any = None) -> Value:
        x = _as_input(x)
        self._check(x)
        h = self._state(h, x.shape[0], "h")
        return self._step(self._project(x, self.weight_ih, self.bias_ih), h)


def _nonlinearity(name: str, layer: str) -> None:
    if name not in ("tanh", "relu"):
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {name!r}")


def _pair(state: Any, layer: str) -> tuple[Any, Any]:
    if state is None:
        return None, None
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise ValueError(f"{layer}: the initial state must be a pair (h, c), got {state!r}")
    return state[0], state[1]


class _Sequence(_RecurrentBase):
    """A cell run over the time axis of a batch-first sequence."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        batch_first: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, **kwargs)
        self.batch_first = bool(batch_first)

    def _check(self, x: Value) -> Value:
        if x.ndim != 3 or x.shape[2] != self.input_size:
            layout = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
            raise ValueError(
                f"{type(self).__name__}({self.extra_repr()}): expected input of shape "
                f"{layout} with input_size {self.input_size}, got {x.shape}"
            )
        return x if self.batch_first else x.transpose((1, 0, 2))

    def _run(self, x: Any, state: Any) -> tuple[Value, Any]:
        """``(out, last_state)``: out (N, T, H) stacks the hidden state of every step."""
        x = self._check(_as_input(x))
        N, T = x.shape[0], x.shape[1]
        xp = self._project(x, self.weight_ih, self.bias_ih)  # all steps in one product
        outs = []
        for t in range(T):
            state = self._step(xp[:, t], state)
            outs.append(state[0] if self.kind == "LSTM" else state)
        out = _stack_time(outs, N, T, self.hidden_size)
        if not self.batch_first:
            out = out.transpose((1, 0, 2))
        return out, state


def _stack_time(hs: list[Value], N: int, T: int, H: int) -> Value:
    """Stack T values of shape (N, H) into (N, T, H) along a new axis 1."""
    if has_op("stack"):
        return get_op("stack")(hs, axis=1)
    full = None  # until the stack op exists: each step scattered into its slot, summed
    for t, h in enumerate(hs):
        placed = ops.index_scatter(h, (slice(None), t), (N, T, H), h.dtype)
        full = placed if full is None else full + placed
    return full


class RNN(_Sequence):
    """Elman RNN over a sequence: ``out, h = rnn(x, h0=None)``.

    ``x`` (N, T, input_size) → ``out`` (N, T, hidden_size) (every step's ``h``) and
    the last ``h`` (N, hidden_size). Equations and parameters as :class:`RNNCell`.

    >>> import numpy as np
    >>> out, h = RNN(2, 3, seed=0)(np.ones((4, 5, 2)))
    >>> out.shape, h.shape
    ((4, 5, 3), (4, 3))
    """

    kind = "RNN"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = True,
        **kwargs: Any,
    ) -> None:
        _nonlinearity(nonlinearity, "RNN")
        super().__init__(input_size, hidden_size, bias, batch_first, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, x: Any, h0: Any = None) -> tuple[Value, Value]:
        x = _as_input(x)
        n = x.shape[0 if self.batch_first else 1] if x.ndim == 3 else 0
        return self._run(x, self._state(h0, n, "h") if x.ndim == 3 else None)


class LSTM(_Sequence):
    """LSTM over a sequence: ``out, (h, c) = lstm(x, (h0, c0)=None)``.

    ``x`` (N, T, input_size) → ``out`` (N, T, hidden_size), and the last ``h``, ``c``
    (N, hidden_size). Gates i, f, g, o as :class:`LSTMCell`.

    >>> import numpy as np
    >>> out, (h, c) = LSTM(2, 3, seed=0)(np.ones((4, 5, 2)))
    >>> out.shape, h.shape, c.shape
    ((4, 5, 3), (4, 3), (4, 3))
    """

    kind = "LSTM"

    def forward(self, x: Any, state: Any = None) -> tuple[Value, tuple[Value, Value]]:
        x = _as_input(x)
        h0, c0 = _pair(state, "LSTM")
        if x.ndim != 3:
            return self._run(x, None)  # raises the shape error
        n = x.shape[0 if self.batch_first else 1]
        return self._run(x, (self._state(h0, n, "h"), self._state(c0, n, "c")))


class GRU(_Sequence):
    """GRU over a sequence: ``out, h = gru(x, h0=None)``; gates r, z, n as :class:`GRUCell`.

    >>> import numpy as np
    >>> out, h = GRU(2, 3, seed=0)(np.ones((4, 5, 2)))
    >>> out.shape, h.shape
    ((4, 5, 3), (4, 3))
    """

    kind = "GRU"

    def forward(self, x: Any, h0: Any = None) -> tuple[Value, Value]:
        x = _as_input(x)
        n = x.shape[0 if self.batch_first else 1] if x.ndim == 3 else 0
        return self._run(x, self._state(h0, n, "h") if x.ndim == 3 else None)
