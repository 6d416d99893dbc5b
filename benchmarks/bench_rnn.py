"""Recurrent and convolutional training speed against hand-written numpy, in one run.

Run with ``make bench`` (or ``python benchmarks/bench_rnn.py``). Figures are the best
of several interleaved repetitions (``bench_engine``'s helpers), printed as a ratio
to a baseline measured in the same process, next to the target from issue #16:

1. one LSTM, GRU and (tanh) RNN training step each (forward + backward, loss = sum
   of the outputs) over an input of shape (32, 20, 16) with hidden size 32, against
   the same computation in careful hand-written numpy (input projection for all steps
   in one product, gradients accumulated in place): target at most 1.5x;
2. one epoch of the digits CNN (``examples/digits_cnn.py``), printed beside it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

import autograd_lite as al
from autograd_lite import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import clock, interleaved, report, steady_allocator, threads

N, T, D, H = 32, 20, 16, 32


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def numpy_lstm_step(x: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, ...]:
    """Forward and backward of ``LSTM(x).out.sum()`` in plain numpy; returns the 4 gradients."""
    n, t_len, _ = x.shape
    h_size = w_hh.shape[1]
    xp = x @ w_ih.T + (b_ih + b_hh)  # (N, T, 4H): every step's input projection at once
    h = np.zeros((n, h_size))
    c = np.zeros((n, h_size))
    hs, cs, acts = [h], [c], []
    for t in range(t_len):
        a = xp[:, t] + h @ w_hh.T
        s = _sigmoid(a)
        g = np.tanh(a[:, 2 * h_size : 3 * h_size])
        i, f, o = s[:, :h_size], s[:, h_size : 2 * h_size], s[:, 3 * h_size :]
        c = f * c + i * g
        tc = np.tanh(c)
        h = o * tc
        hs.append(h)
        cs.append(c)
        acts.append((i, f, g, o, tc))
    # backward: d(sum out)/d out = 1 at every step
    gw_hh = np.zeros_like(w_hh)
    da_all = np.empty((n, t_len, 4 * h_size))
    dh_next = np.zeros((n, h_size))
    dc_next = np.zeros((n, h_size))
    for t in reversed(range(t_len)):
        i, f, g, o, tc = acts[t]
        dh = 1.0 + dh_next
        dc = dc_next + dh * o * (1.0 - tc * tc)
        da = da_all[:, t]
        da[:, :h_size] = dc * g * i * (1.0 - i)
        da[:, h_size : 2 * h_size] = dc * cs[t] * f * (1.0 - f)
        da[:, 2 * h_size : 3 * h_size] = dc * i * (1.0 - g * g)
        da[:, 3 * h_size :] = dh * tc * o * (1.0 - o)
        gw_hh += da.T @ hs[t]
        dh_next = da @ w_hh
        dc_next = dc * f
    flat = da_all.reshape(-1, 4 * h_size)
    gw_ih = flat.T @ x.reshape(-1, x.shape[2])
    gb = flat.sum(axis=0)
    return gw_ih, gw_hh, gb, gb


def numpy_gru_step(x: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, ...]:
    """Forward and backward of ``GRU(x).out.sum()`` in plain numpy; returns the 4 gradients."""
    n, t_len, _ = x.shape
    h_size = w_hh.shape[1]
    two = 2 * h_size
    xp = x @ w_ih.T + b_ih  # (N, T, 3H): every step's input projection at once
    h = np.zeros((n, h_size))
    hs, acts = [h], []
    for t in range(t_len):
        gh = h @ w_hh.T + b_hh
        a = xp[:, t]
        rz = _sigmoid(a[:, :two] + gh[:, :two])
        r, z, hn = rz[:, :h_size], rz[:, h_size:], gh[:, two:]
        nn_ = np.tanh(a[:, two:] + r * hn)
        h = nn_ + z * (h - nn_)
        hs.append(h)
        acts.append((r, z, nn_, hn))
    # backward: d(sum out)/d out = 1 at every step
    gw_hh = np.zeros_like(w_hh)
    dgi_all = np.empty((n, t_len, 3 * h_size))  # ∂E/∂(x W_ihᵀ + b_ih)
    dgh_all = np.empty((n, t_len, 3 * h_size))  # ∂E/∂(h W_hhᵀ + b_hh)
    dh_next = np.zeros((n, h_size))
    for t in reversed(range(t_len)):
        r, z, nn_, hn = acts[t]
        h_prev = hs[t]
        dh = 1.0 + dh_next
        dgi, dgh = dgi_all[:, t], dgh_all[:, t]
        da_n = dh * (1.0 - z) * (1.0 - nn_ * nn_)
        dgi[:, two:] = da_n
        dgi[:, h_size:two] = dh * (h_prev - nn_) * z * (1.0 - z)
        dgi[:, :h_size] = da_n * hn * r * (1.0 - r)
        dgh[:, :two] = dgi[:, :two]
        dgh[:, two:] = da_n * r
        gw_hh += dgh.T @ h_prev
        dh_next = dgh @ w_hh
        dh_next += dh * z
    flat = dgi_all.reshape(-1, 3 * h_size)
    gw_ih = flat.T @ x.reshape(-1, x.shape[2])
    return gw_ih, gw_hh, flat.sum(axis=0), dgh_all.reshape(-1, 3 * h_size).sum(axis=0)


def numpy_rnn_step(x: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, ...]:
    """Forward and backward of ``RNN(x).out.sum()`` (tanh) in plain numpy; the 4 gradients."""
    n, t_len, _ = x.shape
    h_size = w_hh.shape[1]
    xp = x @ w_ih.T + (b_ih + b_hh)  # (N, T, H): every step's input projection at once
    h = np.zeros((n, h_size))
    hs = [h]
    for t in range(t_len):
        h = np.tanh(xp[:, t] + h @ w_hh.T)
        hs.append(h)
    # backward: d(sum out)/d out = 1 at every step
    gw_hh = np.zeros_like(w_hh)
    da_all = np.empty((n, t_len, h_size))
    dh_next = np.zeros((n, h_size))
    for t in reversed(range(t_len)):
        h = hs[t + 1]
        da = da_all[:, t]
        np.multiply(1.0 + dh_next, 1.0 - h * h, out=da)
        gw_hh += da.T @ hs[t]
        dh_next = da @ w_hh
    flat = da_all.reshape(-1, h_size)
    gw_ih = flat.T @ x.reshape(-1, x.shape[2])
    gb = flat.sum(axis=0)
    return gw_ih, gw_hh, gb, gb


NUMPY_STEPS = {nn.LSTM: numpy_lstm_step, nn.GRU: numpy_gru_step, nn.RNN: numpy_rnn_step}


def ours_step(layer: nn.Module, x: np.ndarray) -> None:
    layer.zero_grad()
    out, _ = layer(x)
    out.sum().backward()


def check_same(layer: nn.Module, x: np.ndarray) -> float:
    """Largest difference between our gradients and the numpy version's (must be ~1e-12)."""
    ours_step(layer, x)
    ref = NUMPY_STEPS[type(layer)](x, *(p.data for p in layer.parameters()))
    return max(float(np.abs(p.grad - r).max()) for p, r in zip(layer.parameters(), ref))


def bench_recurrent(cls: type) -> None:
    x = np.random.default_rng(0).normal(size=(N, T, D))
    layer = cls(D, H, seed=0)
    name = cls.__name__
    err = check_same(layer, x)
    if not err < 1e-9:
        raise SystemExit(f"{name} gradients differ from the numpy version by {err:.3g}")
    params = [p.data for p in layer.parameters()]
    numpy_step = NUMPY_STEPS[cls]
    t = interleaved(
        {"ours": lambda: ours_step(layer, x), "numpy": lambda: numpy_step(x, *params)},
        repeat=15,
        number=3,
    )
    report(
        f"{name} step ({N}, {T}, {D}) -> {H}, fwd+bwd", t["ours"], t["numpy"], "<= 1.5x", "numpy"
    )


def bench_cnn_epoch() -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / "digits_cnn.py"
    spec = importlib.util.spec_from_file_location("digits_cnn", path)
    if spec is None or not path.exists():
        print("digits CNN epoch: examples/digits_cnn.py not found; skipped")
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    t0 = clock()
    result = module.main(epochs=1, graph=None, feature_maps=None, verbose=False)
    print(
        f"{'digits CNN, one epoch (train + test)':<44} {clock() - t0:9.2f} s"
        f"  (test accuracy after 1 epoch {result['test_accuracy']:.3f})"
    )


def main() -> None:
    print(steady_allocator())
    print(threads())
    for cls in (nn.LSTM, nn.GRU, nn.RNN):
        bench_recurrent(cls)
    bench_cnn_epoch()


if __name__ == "__main__":
    al.graph  # noqa: B018  (the engine is imported before timing)
    main()
