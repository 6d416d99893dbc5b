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

``RNN``, ``LSTM`` and ``GRU`` run on the fused ops ``rnn``, ``lstm`` and ``gru`` of
:mod:`autograd_lite.recurrent_ops` (one node for the whole sequence), which project the
whole input with one matrix product before their time loop (as PyTorch does).
``LSTMCell`` is the ``lstm`` op over one step; ``RNNCell`` and ``GRUCell`` record their
step op by op (``x W_ihᵀ + b_ih``, ``h W_hhᵀ + b_hh``, the gates), a small graph to read.

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
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import ops
from ..array_ops import stack
from ..recurrent_ops import gru, lstm, rnn
from ..value import Value
from . import init as _init
from .layers import _as_input, _positive
from .module import Module, Parameter

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


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
        self.input_size = _positive(input_size, f"{name}: input_size")
        self.hidden_size = hidden_size = _positive(hidden_size, f"{name}: hidden_size")
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

    def _project(self, x: Any, weight: Value, bias: Value | None) -> Value:
        """``x Wᵀ + b`` (one node when there is a bias)."""
        if bias is None:
            return _as_input(x) @ weight.T
        return ops.dense(x, weight, bias)

    def _hidden(self, h: Any, batch: int, what: str) -> Any:
        """An initial h or c: zeros when None, else checked to be (N, hidden_size)."""
        if h is None:
            return np.zeros((batch, self.hidden_size), self.weight_hh.dtype)
        h = _as_input(h)
        if h.shape != (batch, self.hidden_size):
            raise ValueError(
                f"{type(self).__name__}: initial {what} must have shape "
                f"{(batch, self.hidden_size)} (batch, hidden_size), got {h.shape}"
            )
        return h

    def _initial(self, state: Any, batch: int) -> Any:
        """The state as the fused ops and ``_step`` take it: h, or for an LSTM the rows
        (h, c) stacked; zeros (in the weights' dtype) when not given."""
        if self.kind != "LSTM":
            return self._hidden(state, batch, "h")
        if state is None:
            return np.zeros((2, batch, self.hidden_size), self.weight_hh.dtype)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError(
                f"{type(self).__name__}: the initial state must be a pair (h, c), got "
                f"{type(state).__name__}"
            )
        return stack([self._hidden(state[0], batch, "h"), self._hidden(state[1], batch, "c")])

    def _fused(self, x: Any, state: Any) -> Value:
        """The layer's fused op over x (N, T, input_size): (T, rows, N, H), rows as in
        ``recurrent_ops`` (``RNN_ROWS``, ``LSTM_ROWS``, ``GRU_ROWS``); row 0 is h."""
        b_ih, b_hh = self.bias_ih, self.bias_hh
        if b_ih is None:
            b_ih = b_hh = np.zeros(_GATES[self.kind] * self.hidden_size, self.weight_hh.dtype)
        args = (x, state, self.weight_ih, self.weight_hh, b_ih, b_hh)
        if self.kind == "RNN":
            return rnn(*args, self.nonlinearity)
        return lstm(*args) if self.kind == "LSTM" else gru(*args)

    def _unpack(self, state: Any) -> Any:
        """The state as users see it: h, or for an LSTM the pair (h, c)."""
        return (state[0], state[1]) if self.kind == "LSTM" else state

    def _step(self, x: Any, state: Any) -> Any:
        """One time step from the input ``x`` (N, input_size) and the packed state."""
        H = self.hidden_size
        if self.kind == "LSTM":
            return self._fused(x[:, None, :], state)[0]
        xp = self._project(x, self.weight_ih, self.bias_ih)
        hh = self._project(state, self.weight_hh, self.bias_hh)
        if self.kind == "RNN":
            pre = xp + hh
            return pre.relu() if self.nonlinearity == "relu" else pre.tanh()
        rz = (xp[:, : 2 * H] + hh[:, : 2 * H]).sigmoid()
        r, z = rz[:, :H], rz[:, H:]
        n = (xp[:, 2 * H :] + r * hh[:, 2 * H :]).tanh()
        return n + z * (state - n)  # (1 − z) n + z h


class _Cell(_RecurrentBase):
    """One time step: ``cell(x, state=None)`` with x (N, input_size)."""

    def forward(self, x: Any, state: Any = None) -> Any:
        x = _as_input(x)
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}({self.extra_repr()}): expected input of shape "
                f"(N, {self.input_size}), got {x.shape}"
            )
        xt = x if x.requires_grad else x.data
        return self._unpack(self._step(xt, self._initial(state, x.shape[0])))


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
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        **kwargs: Any,
    ) -> None:
        _nonlinearity(nonlinearity, "RNNCell")
        super().__init__(input_size, hidden_size, bias, **kwargs)
        self.nonlinearity = nonlinearity


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


class GRUCell(_Cell):
    """One GRU step (gates r, z, n as PyTorch): ``h' = (1 − z) ⊙ n + z ⊙ h``.

    >>> import numpy as np
    >>> GRUCell(2, 3, seed=0)(np.ones((4, 2))).shape
    (4, 3)
    """

    kind = "GRU"


def _nonlinearity(name: str, layer: str) -> None:
    if name not in ("tanh", "relu"):
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {name!r}")


class _Sequence(_RecurrentBase):
    """A cell run over the time axis of a sequence: ``out, state = layer(x, state=None)``."""

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

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """As :meth:`Module.load_state_dict`; also takes PyTorch's names (``weight_ih_l0`` …).

        PyTorch's ``nn.RNN``/``LSTM``/``GRU`` add the layer number to each name; a
        one-layer PyTorch state dict loads as it is. The other way round:
        ``{name + "_l0": array for name, array in layer.state_dict().items()}``.

        >>> import numpy as np
        >>> gru = GRU(2, 3, seed=0)
        >>> torch_style = {k + "_l0": v for k, v in GRU(2, 3, seed=1).state_dict().items()}
        >>> gru.load_state_dict(torch_style)
        >>> bool(np.array_equal(gru.weight_hh.data, torch_style["weight_hh_l0"]))
        True
        """
        if isinstance(state, Mapping):
            state = {k[:-3] if k.endswith("_l0") else k: v for k, v in state.items()}
        super().load_state_dict(state, strict)

    def forward(self, x: Any, state: Any = None) -> tuple[Value, Any]:
        x = _as_input(x)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            layout = "(N, T, input_size)" if self.batch_first else "(T, N, input_size)"
            raise ValueError(
                f"{type(self).__name__}({self.extra_repr()}): expected input of shape "
                f"{layout} with input_size {self.input_size}, got {x.shape}"
            )
        if not self.batch_first:
            x = x.transpose((1, 0, 2))
        state = self._initial(state, x.shape[0])
        y = self._fused(x if x.requires_grad else x.data, state)  # one node: (T, rows, N, H)
        out = y[:, 0]  # every step's h, (T, N, H)
        if self.batch_first:
            out = out.transpose((1, 0, 2))
        return out, self._unpack(y[-1] if self.kind == "LSTM" else y[-1, 0])


class RNN(_Sequence):
    """Elman RNN over a sequence: ``out, h = rnn(x, h0=None)``.

    ``x`` (N, T, input_size) → ``out`` (N, T, hidden_size) (every step's ``h``) and
    the last ``h`` (N, hidden_size). ``nonlinearity="relu"`` as PyTorch. Equations
    and parameters as :class:`RNNCell`; the whole sequence is one ``rnn`` node.

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


class LSTM(_Sequence):
    """LSTM over a sequence: ``out, (h, c) = lstm(x, (h0, c0)=None)``.

    ``x`` (N, T, input_size) → ``out`` (N, T, hidden_size), and the last ``h``, ``c``
    (N, hidden_size). Gates i, f, g, o as :class:`LSTMCell`; the whole sequence is
    one ``lstm`` node.

    >>> import numpy as np
    >>> out, (h, c) = LSTM(2, 3, seed=0)(np.ones((4, 5, 2)))
    >>> out.shape, h.shape, c.shape
    ((4, 5, 3), (4, 3), (4, 3))
    """

    kind = "LSTM"


class GRU(_Sequence):
    """GRU over a sequence: ``out, h = gru(x, h0=None)``; gates r, z, n as :class:`GRUCell`.

    The whole sequence is one ``gru`` node.

    >>> import numpy as np
    >>> out, h = GRU(2, 3, seed=0)(np.ones((4, 5, 2)))
    >>> out.shape, h.shape
    ((4, 5, 3), (4, 3))
    """

    kind = "GRU"
