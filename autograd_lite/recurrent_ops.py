"""The fused LSTM layer: a whole LSTM over a sequence as one op-table entry (``lstm``).

``nn.LSTM`` and ``nn.LSTMCell`` run on it. Like ``ops.dense`` for a linear layer (and
cuDNN's fused LSTM in PyTorch), one node instead of ~16 per time step is what makes the
time loop fast: the forward is the loop in numpy, the vjps are backpropagation through
time. Gates i, f, g, o as PyTorch::

    a_t = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh      (N, 4H), four blocks of H
    i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
    c_t = f ⊙ c_{t−1} + i ⊙ g,    h_t = o ⊙ tanh(c_t)

>>> import numpy as np
>>> import autograd_lite as al
>>> x = np.zeros((2, 3, 1))                       # N = 2 sequences, T = 3 steps, I = 1
>>> w_ih, w_hh, b = np.ones((4, 1)), np.ones((4, 1)), np.zeros(4)
>>> y = al.lstm(x, np.zeros((2, 2, 1)), w_ih, w_hh, b, b)
>>> y.shape                                       # (T, rows, N, H)
(3, 7, 2, 1)
>>> float(y.data[0, 2, 0, 0])                     # the input gate at step 1: σ(0)
0.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .array_ops import concatenate, stack
from .ops import shape_of
from .registry import Op, SymCase, register

# The output keeps every step's
# gate activations (rows ``LSTM_ROWS``), so backward reads them instead of recomputing.
# The vjps use only operators, indexing, ``stack``/``concatenate`` and ``.sum``, so
# the same code records a graph under create_graph=True.

#: rows of the ``lstm`` output at each step: the state, then what backward reuses
LSTM_ROWS = ("h", "c", "i", "f", "g", "o", "tanh_c")


def _lstm_shapes(x: Any, state: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> None:
    H = shape_of(w_hh)[0] // 4
    xs, ss = shape_of(x), shape_of(state)
    if (
        len(xs) != 3
        or ss != (2, xs[0], H)
        or shape_of(w_ih) != (4 * H, xs[2])
        or shape_of(w_hh) != (4 * H, H)
        or shape_of(b_ih) != (4 * H,)
        or shape_of(b_hh) != (4 * H,)
    ):
        raise ValueError(
            "lstm needs x (N, T, I), state (2, N, H), W_ih (4H, I), W_hh (4H, H), b_ih and "
            f"b_hh (4H,); got {xs}, {ss}, {shape_of(w_ih)}, {shape_of(w_hh)}, "
            f"{shape_of(b_ih)}, {shape_of(b_hh)}"
        )


def _lstm_forward(x: Any, state: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    """x (N, T, I), state rows h0, c0 (2, N, H) → (T, 7, N, H): rows ``LSTM_ROWS`` per step."""
    _lstm_shapes(x, state, w_ih, w_hh, b_ih, b_hh)
    N, T, _ = x.shape
    H = w_hh.shape[1]
    a_all = x @ w_ih.T  # every step's input projection in one product
    a_all += b_ih + b_hh
    a_all *= 0.5  # σ(a) = ½ tanh(a/2) + ½: one pass of tanh, no overflow
    out = np.empty((T, 7, N, H), dtype=a_all.dtype)
    h, c = state[0], state[1]
    half_w = 0.5 * w_hh.T
    for t in range(T):
        y = out[t]
        a = a_all[:, t]
        a += h @ half_w
        gates = y[2:6].transpose(1, 0, 2)  # (N, 4, H) view of rows i, f, g, o
        np.tanh(a.reshape(N, 4, H), out=gates)
        gates *= 0.5
        gates += 0.5
        np.tanh(2.0 * a[:, 2 * H : 3 * H], out=y[4])
        np.multiply(y[3], c, out=y[1])
        y[1] += y[2] * y[4]
        np.tanh(y[1], out=y[6])
        np.multiply(y[5], y[6], out=y[0])
        h, c = y[0], y[1]
    return out


_MEMO: list[Any] = [None, None, None]  # (g, out, grads) of the last plain backward


def _bptt(g: Any, out: Any, state: Any, w_hh: Any) -> tuple[Any, Any, Any]:
    """Backpropagation through time: ``(∂E/∂a (N, T, 4H), ∂E/∂state (2, N, H), ∂E/∂W_hh)``.

    ``a`` are the gate pre-activations. All six vjps of a node need these; with plain
    arrays they are computed once per node (the engine calls a node's vjps one after
    another with the same ``g``).
    """
    if type(g) is np.ndarray and _MEMO[0] is g and _MEMO[1] is out:
        return _MEMO[2]
    T = shape_of(out)[0]
    plain = type(g) is np.ndarray and type(out) is np.ndarray and type(w_hh) is np.ndarray
    das: list[Any] = [None] * T
    dh_next: Any = 0.0
    dc_next: Any = 0.0
    dw_hh: Any = 0.0
    for t in reversed(range(T)):
        y, gt = out[t], g[t]
        i, f, gg, o, tc = y[2], y[3], y[4], y[5], y[6]
        c_prev, h_prev = (out[t - 1][1], out[t - 1][0]) if t else (state[1], state[0])
        dh = gt[0] + dh_next
        dc = gt[1] + dc_next + (dh * o + gt[6]) * (1.0 - tc * tc)
        parts = (
            (dc * gg + gt[2]) * i * (1.0 - i),
            (dc * c_prev + gt[3]) * f * (1.0 - f),
            (dc * i + gt[4]) * (1.0 - gg * gg),
            (dh * tc + gt[5]) * o * (1.0 - o),
        )
        da = np.concatenate(parts, axis=1) if plain else concatenate(parts, axis=1)
        das[t] = da
        dw_hh = dw_hh + da.T @ h_prev
        dh_next = da @ w_hh
        dc_next = dc * f
    if plain:
        result = np.stack(das, axis=1), np.stack((dh_next, dc_next)), dw_hh
        _MEMO[:] = g, out, result
        return result
    return stack(das, axis=1), stack([dh_next, dc_next]), dw_hh


def _flat(a: Any) -> Any:
    s = shape_of(a)
    return a.reshape((s[0] * s[1], s[2]))


def _lstm_vjp_x(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *b: Any) -> Any:
    return _bptt(g, out, state, w_hh)[0] @ w_ih


def _lstm_vjp_w_ih(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *b: Any) -> Any:
    return _flat(_bptt(g, out, state, w_hh)[0]).T @ _flat(x)


def _lstm_vjp_bias(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *b: Any) -> Any:
    return _flat(_bptt(g, out, state, w_hh)[0]).sum(axis=0)


def _lstm_sympy(sp: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    from .sympy_arrays import elementwise

    H = state.shape[2]

    def sig(z: Any) -> Any:
        return elementwise(lambda v: 1 / (1 + sp.exp(-v)), z)

    h, c, steps = state[0], state[1], []
    for t in range(x.shape[1]):
        a = x[:, t].dot(w_ih.T) + h.dot(w_hh.T) + b_ih + b_hh
        i, f, o = sig(a[:, :H]), sig(a[:, H : 2 * H]), sig(a[:, 3 * H :])
        gg = elementwise(sp.tanh, a[:, 2 * H : 3 * H])
        c = f * c + i * gg
        tc = elementwise(sp.tanh, c)
        h = o * tc
        steps.append(np.stack((h, c, i, f, gg, o, tc)))
    return np.stack(steps)


lstm = register(
    Op(
        "lstm",
        forward=_lstm_forward,
        vjps=(
            _lstm_vjp_x,
            lambda g, out, x, state, w_ih, w_hh, *b: _bptt(g, out, state, w_hh)[1],
            _lstm_vjp_w_ih,
            lambda g, out, x, state, w_ih, w_hh, *b: _bptt(g, out, state, w_hh)[2],
            _lstm_vjp_bias,
            _lstm_vjp_bias,
        ),
        label="LSTM",
        inputs=("x", "state", "W_ih", "W_hh", "b_ih", "b_hh"),
        doc="an LSTM layer over x (N, T, I) from state rows h0, c0 (2, N, H): per step rows "
        "h, c, i, f, g, o, tanh c (T, 7, N, H); gates i, f, g, o of x W_ihᵀ + b_ih + "
        "h W_hhᵀ + b_hh, c' = f c + i g, h' = o tanh(c')",
        sympy_def=_lstm_sympy,
        cases=(
            SymCase(((1, 1, 1), (2, 1, 1), (4, 1), (4, 1), (4,), (4,)), note="N=I=H=1, T=1"),
            # two steps carry h and c through the recurrence, checked at order 1 only: the
            # second step repeats the first inside every gate, and SymPy's Hessian of that
            # (20 inputs) is ~10 million operations written out: 3.6 min to derive and
            # compile (sympy.hessian 50 s, lambdify with cse 160 s; without cse > 11 min),
            # in every process that runs check_all(2). docs/symbolic_checks.md, "Limits".
            SymCase(
                ((1, 2, 1), (2, 1, 1), (4, 1), (4, 1), (4,), (4,)),
                note="N=I=H=1, T=2 (order 1: SymPy's Hessian of two steps takes minutes)",
                max_order=1,
            ),
        ),
    )
)
