"""Fused recurrent layers: a whole RNN, LSTM or GRU over a sequence as one op-table entry.

``nn.RNN`` runs on ``rnn``, ``nn.LSTM`` and ``nn.LSTMCell`` on ``lstm``, ``nn.GRU`` on
``gru``. Like ``ops.dense`` for a linear layer (and cuDNN's fused RNNs in PyTorch), one
node instead of ~5-16 per time step is what makes the time loop fast: the forward
projects every step's input with one matrix product and runs the loop in numpy, the
vjps are backpropagation through time (BPTT). Weights, biases and gate orders are
PyTorch's; for one step, rows of ``x`` and ``h`` are examples::

    rnn   a_t = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh,   h_t = tanh(a_t) or relu(a_t)
    lstm  a_t as above, (N, 4H) in four blocks of H
          i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)
          c_t = f ⊙ c_{t−1} + i ⊙ g,    h_t = o ⊙ tanh(c_t)
    gru   r, z = σ(x_t W_irᵀ + b_ir + h_{t−1} W_hrᵀ + b_hr), σ(... z ...)
          hn = h_{t−1} W_hnᵀ + b_hn,   n = tanh(x_t W_inᵀ + b_in + r ⊙ hn)
          h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

The output keeps, per step, the state and what backward reuses (rows ``RNN_ROWS``,
``LSTM_ROWS``, ``GRU_ROWS``): shape (T, rows, N, H), so ``y[:, 0]`` is every step's h.

>>> import numpy as np
>>> import autograd_lite as al
>>> x = np.zeros((2, 3, 1))                       # N = 2 sequences, T = 3 steps, I = 1
>>> w_ih, w_hh, b = np.ones((4, 1)), np.ones((4, 1)), np.zeros(4)
>>> y = al.lstm(x, np.zeros((2, 2, 1)), w_ih, w_hh, b, b)
>>> y.shape                                       # (T, rows, N, H)
(3, 7, 2, 1)
>>> float(y.data[0, 2, 0, 0])                     # the input gate at step 1: σ(0)
0.5
>>> y = al.rnn(np.ones((1, 2, 1)), np.zeros((1, 1)), [[1.0]], [[0.5]], [0.0], [0.0],
...            nonlinearity="relu")
>>> y.data[:, :, 0, 0].tolist()                   # rows h, a at steps 1 and 2
[[1.0, 1.0], [1.5, 1.5]]
>>> y = al.gru(np.zeros((1, 1, 1)), np.ones((1, 1)), np.zeros((3, 1)), np.zeros((3, 1)),
...            np.zeros(3), np.zeros(3))
>>> y.data[0, :, 0, 0].tolist()                   # rows h, r, z, n, hn: h' = ½·0 + ½·1
[0.5, 0.5, 0.5, 0.0, 0.0]
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .array_ops import concatenate, stack
from .ops import _sum_along, shape_of
from .registry import Op, SymCase, register

# The vjps use only operators, indexing, ``stack``/``concatenate`` and ``.sum``, so the
# same code records a graph under create_graph=True; with plain arrays they sum the
# weight gradients in place.

#: rows of the ``rnn`` output at each step: the state, then the pre-activation
RNN_ROWS = ("h", "a")
#: rows of the ``lstm`` output at each step: the state, then what backward reuses
LSTM_ROWS = ("h", "c", "i", "f", "g", "o", "tanh_c")
#: rows of the ``gru`` output at each step: the state, then what backward reuses
GRU_ROWS = ("h", "r", "z", "n", "hn")

# ------------------------------------------------------------ shared by the three layers


def _check_shapes(op: str, gates: int, state_rows: int, *args: Any) -> None:
    """x (N, T, I) with T ≥ 1, the state, W_ih (G·H, I), W_hh (G·H, H), b_ih and b_hh (G·H,).

    The state is (N, H), or (state_rows, N, H) when ``state_rows`` (the LSTM's h and c).
    """
    x, state, w_ih, w_hh, b_ih, b_hh = (shape_of(a) for a in args)
    H = w_hh[0] // gates if w_hh else 0
    n = x[0] if x else 0
    want_state = (state_rows, n, H) if state_rows else (n, H)
    if (
        len(x) != 3
        or x[1] < 1
        or H < 1
        or state != want_state
        or w_ih != (gates * H, x[2])
        or w_hh != (gates * H, H)
        or b_ih != (gates * H,)
        or b_hh != (gates * H,)
    ):
        g = f"{gates}H" if gates > 1 else "H"
        state_text = f"state ({state_rows}, N, H)" if state_rows else "h0 (N, H)"
        raise ValueError(
            f"{op} needs x (N, T, I) with T >= 1, {state_text}, W_ih ({g}, I), "
            f"W_hh ({g}, H), b_ih and b_hh ({g},); got {x}, {state}, {w_ih}, {w_hh}, "
            f"{b_ih}, {b_hh}"
        )


def _is_plain(*arrays: Any) -> bool:
    """True when backward runs on arrays (no graph to record)."""
    return all(type(a) is np.ndarray for a in arrays)


def _product(plain: bool) -> Callable[[Any, Any], Any]:
    """The matrix product for a BPTT loop: ``np.dot`` on arrays (on (N, H) blocks ~1 µs
    less per call than ``@``, which adds up over two products a step), else ``@``."""
    return np.dot if plain else operator.matmul


def _accumulate(total: Any, term: Any) -> Any:
    """``total + term``, summed in place when both are arrays (BPTT's sums over the steps)."""
    if total is None:
        return term
    if type(total) is np.ndarray and type(term) is np.ndarray:
        total += term
        return total
    return total + term


def _join(parts: Any, plain: bool) -> Any:
    """The gate blocks of one step side by side: (N, G·H)."""
    return np.concatenate(parts, axis=1) if plain else concatenate(parts, axis=1)


def _over_steps(steps: list[Any], plain: bool) -> Any:
    """Per-step (N, G·H) gradients as (N, T, G·H), the layout of x."""
    return np.stack(steps, axis=1) if plain else stack(steps, axis=1)


def _extra_rows(g: Any, plain: bool) -> bool:
    """Whether rows other than h carry a gradient (with arrays: whether any is nonzero)."""
    # (T, rows − 1 · N · H): a 2-D view; numpy reduces the 4-D one about 5 times slower
    return not plain or bool(g[:, 1:].reshape(g.shape[0], -1).any())


def _flat(a: Any) -> Any:
    s = shape_of(a)
    return a.reshape((s[0] * s[1], s[2]))


def _projection(x: Any, w_ih: Any) -> Any:
    """``x W_ihᵀ`` for every step at once, (N, T, G·H): one 2-D product (a 3-D one is a
    loop of small ones in numpy, about 1.8 times slower)."""
    n, t, _ = x.shape
    return (x.reshape(n * t, -1) @ w_ih.T).reshape(n, t, -1)


def _bias_grad(d: Any) -> Any:
    """The sum over examples and steps of a per-step gradient (N, T, G·H)."""
    flat = _flat(d)
    if type(flat) is np.ndarray:  # ones @ flat (BLAS): ~8 times faster than .sum(axis=0)
        return _sum_along(flat, 0)
    return flat.sum(axis=0)


def _shared_bias_grads(d: Any) -> tuple[Any, Any]:
    """b_ih's and b_hh's gradients when both enter only through their sum: equal, but two
    arrays (each may become a parameter's ``.grad``, which optimizers change in place)."""
    d_b = _bias_grad(d)
    return d_b, (d_b.copy() if type(d_b) is np.ndarray else d_b)


BPTT = Callable[..., tuple[Any, Any, Any, Any, Any]]


def _layer_vjps(bptt: BPTT) -> tuple[Callable[..., Any], ...]:
    """The vjps for x, state, W_ih, W_hh, b_ih, b_hh of a fused layer, from its BPTT.

    ``bptt(g, out, state, w_hh, *params)`` returns ``(∂E/∂p (N, T, G·H), ∂E/∂state,
    ∂E/∂W_hh, ∂E/∂b_ih, ∂E/∂b_hh)`` where ``p = x W_ihᵀ + b_ih`` is the input
    projection. All six vjps of a node need it; with arrays it runs once per node (the
    engine calls a node's vjps one after another with the same ``g``).
    """
    memo: list[Any] = [None, None, None]  # (g, out, result) of the last plain backward

    def run(g: Any, out: Any, state: Any, w_hh: Any, params: tuple) -> Any:
        if type(g) is np.ndarray and memo[0] is g and memo[1] is out:
            return memo[2]
        result = bptt(g, out, state, w_hh, *params)
        if _is_plain(g, out, result[0]):
            memo[:] = g, out, result
        return result

    def vjp_x(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        return (_flat(run(g, out, state, w_hh, rest[2:])[0]) @ w_ih).reshape(shape_of(x))

    def vjp_state(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        return run(g, out, state, w_hh, rest[2:])[1]

    def vjp_w_ih(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        return _flat(run(g, out, state, w_hh, rest[2:])[0]).T @ _flat(x)

    def vjp_w_hh(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        return run(g, out, state, w_hh, rest[2:])[2]

    def vjp_b_ih(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        return run(g, out, state, w_hh, rest[2:])[3]

    def vjp_b_hh(g: Any, out: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, *rest: Any) -> Any:
        return run(g, out, state, w_hh, rest[2:])[4]

    return vjp_x, vjp_state, vjp_w_ih, vjp_w_hh, vjp_b_ih, vjp_b_hh


def _sympy_sigmoid(sp: Any, z: Any) -> Any:
    from .sympy_arrays import elementwise

    return elementwise(lambda v: 1 / (1 + sp.exp(-v)), z)


def _sympy_tanh(sp: Any, z: Any) -> Any:
    from .sympy_arrays import elementwise

    return elementwise(sp.tanh, z)


_LAYER_INPUTS = ("x", "h0", "W_ih", "W_hh", "b_ih", "b_hh")

# ---------------------------------------------------------------------------- rnn

_ACTIVATIONS = {"tanh": (np.tanh, ()), "relu": (np.maximum, (0.0,))}  # ufunc, its 2nd input


def _rnn_forward(
    x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, nonlinearity: str = "tanh"
) -> Any:
    """x (N, T, I), h0 (N, H) → (T, 2, N, H): rows ``RNN_ROWS`` per step."""
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    _check_shapes("rnn", 1, 0, x, h0, w_ih, w_hh, b_ih, b_hh)
    N, T, _ = x.shape
    H = w_hh.shape[1]
    act, more = _ACTIVATIONS[nonlinearity]
    out = np.empty((T, 2, N, H), dtype=np.result_type(x, w_ih))
    hs, a_all = out[:, 0], out[:, 1]
    np.matmul(x.transpose(1, 0, 2), w_ih.T, out=a_all)  # every step's input projection
    a_all += b_ih + b_hh
    w = w_hh.T
    h = h0
    for t in range(T):
        a = a_all[t]
        a += np.dot(h, w)
        h = act(a, *more, out=hs[t])
    return out


def _rnn_bptt(g: Any, out: Any, h0: Any, w_hh: Any, nonlinearity: str = "tanh") -> Any:
    T = shape_of(out)[0]
    plain = _is_plain(g, out, w_hh)
    mm = _product(plain)
    extra = _extra_rows(g, plain)
    # the activation's derivative at every step at once; ReLU's is 1 at 0, as ops.relu's
    hs, g_h, g_a = out[:, 0], g[:, 0], g[:, 1]
    slope = (out[:, 1] >= 0) if nonlinearity == "relu" else 1.0 - hs * hs
    das: list[Any] = [None] * T
    dh: Any = None
    dw_hh: Any = None
    for t in reversed(range(T)):
        da = (g_h[t] if dh is None else g_h[t] + dh) * slope[t]
        if extra:
            da = da + g_a[t]
        das[t] = da
        dw_hh = _accumulate(dw_hh, mm(da.T, hs[t - 1] if t else h0))
        dh = mm(da, w_hh)
    d_p = _over_steps(das, plain)
    return d_p, dh, dw_hh, *_shared_bias_grads(d_p)


def _rnn_sympy(
    sp: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any, nonlinearity: str
) -> Any:
    from .sympy_arrays import elementwise

    def act(v: Any) -> Any:
        return sp.Piecewise((v, v >= 0), (0, True)) if nonlinearity == "relu" else sp.tanh(v)

    h, steps = h0, []
    for t in range(x.shape[1]):
        a = x[:, t].dot(w_ih.T) + h.dot(w_hh.T) + b_ih + b_hh
        h = elementwise(act, a)
        steps.append(np.stack((h, a)))
    return np.stack(steps)


rnn = register(
    Op(
        "rnn",
        forward=_rnn_forward,
        vjps=_layer_vjps(_rnn_bptt),
        label="RNN",
        inputs=_LAYER_INPUTS,
        params=("nonlinearity",),
        defaults={"nonlinearity": "tanh"},
        doc="an Elman RNN layer over x (N, T, I) from h0 (N, H): per step rows h, a "
        "(T, 2, N, H); a = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, h' = tanh(a) or relu(a) "
        "(nonlinearity='relu')",
        sympy_def=_rnn_sympy,
        cases=(
            # N=I=H=1 at order 2 (two steps: the recurrence's second derivatives, 1.3 s);
            # bigger shapes, where a transposed weight would show, at order 1
            SymCase(
                ((1, 2, 1), (1, 1), (1, 1), (1, 1), (1,), (1,)), ("tanh",), note="N=I=H=1, T=2"
            ),
            SymCase(((1, 1, 1), (1, 1), (1, 1), (1, 1), (1,), (1,)), ("relu",), note="relu, T=1"),
            SymCase(
                ((2, 2, 1), (2, 2), (2, 1), (2, 2), (2,), (2,)),
                ("tanh",),
                note="N=2, T=2, H=2 (order 1)",
                max_order=1,
            ),
            SymCase(
                ((1, 2, 2), (1, 2), (2, 2), (2, 2), (2,), (2,)),
                ("relu",),
                note="relu, T=2, I=H=2 (order 1)",
                max_order=1,
            ),
        ),
    )
)

# --------------------------------------------------------------------------- lstm


def _lstm_forward(x: Any, state: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    """x (N, T, I), state rows h0, c0 (2, N, H) → (T, 7, N, H): rows ``LSTM_ROWS`` per step."""
    _check_shapes("lstm", 4, 2, x, state, w_ih, w_hh, b_ih, b_hh)
    N, T, _ = x.shape
    H = w_hh.shape[1]
    a_all = _projection(x, w_ih)  # every step's input projection in one product
    a_all += b_ih + b_hh
    a_all *= 0.5  # σ(a) = ½ tanh(a/2) + ½: one pass of tanh, no overflow
    out = np.empty((T, 7, N, H), dtype=a_all.dtype)
    h, c = state[0], state[1]
    half_w = 0.5 * w_hh.T
    for t in range(T):
        y = out[t]
        a = a_all[:, t]
        a += np.dot(h, half_w)
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


def _lstm_bptt(g: Any, out: Any, state: Any, w_hh: Any) -> Any:
    T = shape_of(out)[0]
    plain = _is_plain(g, out, w_hh)
    mm = _product(plain)
    das: list[Any] = [None] * T
    dh_next: Any = 0.0
    dc_next: Any = 0.0
    dw_hh: Any = None
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
        da = _join(parts, plain)
        das[t] = da
        dw_hh = _accumulate(dw_hh, mm(da.T, h_prev))
        dh_next = mm(da, w_hh)
        dc_next = dc * f
    d_state = np.stack((dh_next, dc_next)) if plain else stack([dh_next, dc_next])
    d_p = _over_steps(das, plain)
    return d_p, d_state, dw_hh, *_shared_bias_grads(d_p)


def _lstm_sympy(sp: Any, x: Any, state: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    H = state.shape[2]
    h, c, steps = state[0], state[1], []
    for t in range(x.shape[1]):
        a = x[:, t].dot(w_ih.T) + h.dot(w_hh.T) + b_ih + b_hh
        i, f = _sympy_sigmoid(sp, a[:, :H]), _sympy_sigmoid(sp, a[:, H : 2 * H])
        o = _sympy_sigmoid(sp, a[:, 3 * H :])
        gg = _sympy_tanh(sp, a[:, 2 * H : 3 * H])
        c = f * c + i * gg
        tc = _sympy_tanh(sp, c)
        h = o * tc
        steps.append(np.stack((h, c, i, f, gg, o, tc)))
    return np.stack(steps)


lstm = register(
    Op(
        "lstm",
        forward=_lstm_forward,
        vjps=_layer_vjps(_lstm_bptt),
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

# ---------------------------------------------------------------------------- gru


def _gru_forward(x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    """x (N, T, I), h0 (N, H) → (T, 5, N, H): rows ``GRU_ROWS`` per step."""
    _check_shapes("gru", 3, 0, x, h0, w_ih, w_hh, b_ih, b_hh)
    N, T, _ = x.shape
    H = w_hh.shape[1]
    two = 2 * H
    p_all = _projection(x, w_ih)  # every step's input projection in one product
    p_all += b_ih
    p_all[..., :two] += b_hh[:two]
    p_all[..., :two] *= 0.5  # σ(a) = ½ tanh(a/2) + ½: one pass of tanh, no overflow
    w = w_hh.T.copy()
    w[:, :two] *= 0.5
    b_hn = b_hh[two:]
    out = np.empty((T, 5, N, H), dtype=p_all.dtype)
    h = h0
    for t in range(T):
        y = out[t]
        q = np.dot(h, w)  # (N, 3H): halved r and z blocks, then h W_hnᵀ
        p = p_all[:, t]
        p[:, :two] += q[:, :two]
        rz = y[1:3]
        np.tanh(p[:, :two].reshape(N, 2, H), out=rz.transpose(1, 0, 2))
        rz *= 0.5
        rz += 0.5
        np.add(q[:, two:], b_hn, out=y[4])
        np.multiply(y[1], y[4], out=y[3])
        y[3] += p[:, two:]
        np.tanh(y[3], out=y[3])
        np.subtract(h, y[3], out=y[0])  # h' = n + z (h − n)
        y[0] *= y[2]
        y[0] += y[3]
        h = y[0]
    return out


def _gru_bptt(g: Any, out: Any, h0: Any, w_hh: Any) -> Any:
    T = shape_of(out)[0]
    plain = _is_plain(g, out, w_hh)
    mm = _product(plain)
    extra = _extra_rows(g, plain)
    r, z, n, hn = out[:, 1], out[:, 2], out[:, 3], out[:, 4]
    # the gates' derivatives at every step at once
    slope_r, slope_z, slope_n = r * (1.0 - r), z * (1.0 - z), 1.0 - n * n
    keep = 1.0 - z
    d_ps: list[Any] = [None] * T  # ∂E/∂(x W_ihᵀ + b_ih) per step
    d_qs: list[Any] = [None] * T  # ∂E/∂(h W_hhᵀ + b_hh) per step
    dh: Any = None
    dw_hh: Any = None
    for t in reversed(range(T)):
        gt = g[t]
        h_prev = out[t - 1][0] if t else h0
        dh = gt[0] if dh is None else gt[0] + dh
        dn, dz = dh * keep[t], dh * (h_prev - n[t])
        if extra:
            dn, dz = dn + gt[3], dz + gt[2]
        da_n = dn * slope_n[t]
        dr, dhn = da_n * hn[t], da_n * r[t]
        if extra:
            dr, dhn = dr + gt[1], dhn + gt[4]
        da_r, da_z = dr * slope_r[t], dz * slope_z[t]
        d_ps[t] = _join((da_r, da_z, da_n), plain)
        d_q = d_qs[t] = _join((da_r, da_z, dhn), plain)
        dw_hh = _accumulate(dw_hh, mm(d_q.T, h_prev))
        dh = mm(d_q, w_hh) + dh * z[t]
    d_p = _over_steps(d_ps, plain)
    return d_p, dh, dw_hh, _bias_grad(d_p), _bias_grad(_over_steps(d_qs, plain))


def _gru_sympy(sp: Any, x: Any, h0: Any, w_ih: Any, w_hh: Any, b_ih: Any, b_hh: Any) -> Any:
    H = h0.shape[1]
    h, steps = h0, []
    for t in range(x.shape[1]):
        p = x[:, t].dot(w_ih.T) + b_ih
        q = h.dot(w_hh.T) + b_hh
        r = _sympy_sigmoid(sp, p[:, :H] + q[:, :H])
        z = _sympy_sigmoid(sp, p[:, H : 2 * H] + q[:, H : 2 * H])
        hn = q[:, 2 * H :]
        n = _sympy_tanh(sp, p[:, 2 * H :] + r * hn)
        h = (1 - z) * n + z * h
        steps.append(np.stack((h, r, z, n, hn)))
    return np.stack(steps)


gru = register(
    Op(
        "gru",
        forward=_gru_forward,
        vjps=_layer_vjps(_gru_bptt),
        label="GRU",
        inputs=_LAYER_INPUTS,
        doc="a GRU layer over x (N, T, I) from h0 (N, H): per step rows h, r, z, n, hn "
        "(T, 5, N, H); r, z = σ(x W_i{r,z}ᵀ + b_i{r,z} + h W_h{r,z}ᵀ + b_h{r,z}), "
        "hn = h W_hnᵀ + b_hn, n = tanh(x W_inᵀ + b_in + r hn), h' = (1 − z) n + z h",
        sympy_def=_gru_sympy,
        cases=(
            SymCase(((1, 1, 1), (1, 1), (3, 1), (3, 1), (3,), (3,)), note="N=I=H=1, T=1"),
            # order 1 only: SymPy's Hessian of two GRU steps takes 42 s
            SymCase(
                ((1, 2, 1), (1, 1), (3, 1), (3, 1), (3,), (3,)),
                note="N=I=H=1, T=2 (order 1)",
                max_order=1,
            ),
            SymCase(
                ((2, 1, 1), (2, 2), (6, 1), (6, 2), (6,), (6,)),
                note="N=2, H=2 (order 1)",
                max_order=1,
            ),
        ),
    )
)
