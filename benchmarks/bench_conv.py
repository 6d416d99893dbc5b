"""conv2d forward + backward against a careful hand-written numpy version, in one run.

Run with ``make bench`` (or ``python benchmarks/bench_conv.py``). The case of issue
#16: x (64, 8, 16, 16), 16 filters 3×3 with bias, stride 1, no padding, float32 (and
float64 for reference). One step is the forward pass and the three gradients (x, W, b)
for a given output gradient.

The baseline does what one would write by hand: one im2col copy of the windows
(strided view, copied into rows), one matmul forward; in the backward it reuses those
rows for the weight gradient, and adds the input gradient back window offset by window
offset (col2im). autograd_lite does the same work through its op table (its weight
gradient, ``conv2d_grad_weight``, takes the rows the forward kept) and records the
graph. Figures are the best of interleaved repetitions, printed as a ratio (target from
issue #16: at most 1.5x); measured 1.0-1.2x (float32) and 1.0-1.1x (float64) on a
shared 2-core machine.

Two more rows, without a target: a 2×2 max and average pool (forward and input
gradient) on the convolution's output shape against a careful numpy step that works on
the four window offsets as strided slices. Measured 1.6-1.8x (max) and 1.6-2.2x (avg).
"""

from __future__ import annotations

import sys

import numpy as np
from bench_engine import interleaved, report, steady_allocator
from numpy.lib.stride_tricks import as_strided

import autograd_lite as al

SHAPE, FILTERS, KERNEL = (64, 8, 16, 16), 16, 3


def numpy_conv_step(x: np.ndarray, w: np.ndarray, b: np.ndarray, g: np.ndarray) -> tuple:
    """Forward and the three gradients of a stride-1, unpadded convolution, by hand."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = h - kh + 1, wd - kw + 1
    sn, sc, sh, sw = x.strides
    win = as_strided(x, (n, oh, ow, c, kh, kw), (sn, sh, sw, sc, sh, sw), writeable=False)
    rows = win.reshape(n * oh * ow, c * kh * kw)  # the one copy (im2col)
    w2 = w.reshape(o, -1)
    y = (rows @ w2.T + b).reshape(n, oh, ow, o).transpose(0, 3, 1, 2)
    y = np.ascontiguousarray(y)
    # backward
    g2 = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, o)
    gw = (g2.T @ rows).reshape(w.shape)
    gb = g2.sum(axis=0)
    per_window = (g2 @ w2).reshape(n, oh, ow, c, kh, kw)
    gx = np.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            gx[:, :, i : i + oh, j : j + ow] += per_window[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return y, gx, gw, gb


def bench(dtype: type, repeat: int) -> None:
    rng = np.random.default_rng(0)
    x_ = rng.standard_normal(SHAPE).astype(dtype)
    w_ = (rng.standard_normal((FILTERS, SHAPE[1], KERNEL, KERNEL)) * 0.1).astype(dtype)
    b_ = rng.standard_normal(FILTERS).astype(dtype)
    out_shape = (SHAPE[0], FILTERS, SHAPE[2] - KERNEL + 1, SHAPE[3] - KERNEL + 1)
    g_ = rng.standard_normal(out_shape).astype(dtype)
    x, w, b = al.Value(x_), al.Value(w_), al.Value(b_)

    def ours() -> None:
        for v in (x, w, b):
            v.zero_grad()  # as a training step would: no accumulation into old grads
        al.conv2d(x, w, b).backward(g_)

    def numpy() -> None:
        numpy_conv_step(x_, w_, b_, g_)

    ours()
    _, gx, gw, gb = numpy_conv_step(x_, w_, b_, g_)
    tol = 1e-3 if dtype == np.float32 else 1e-9
    for got, want in ((x.grad, gx), (w.grad, gw), (b.grad, gb)):
        if not np.allclose(got, want, rtol=tol, atol=tol):
            raise SystemExit("the hand-written baseline's gradients differ from ours")
    t = interleaved({"ours": ours, "numpy": numpy}, repeat=repeat, number=3)
    name = f"conv2d fwd+bwd {SHAPE} * {FILTERS}x{KERNEL}x{KERNEL} {np.dtype(dtype).name}"
    report(name, t["ours"], t["numpy"], "<= 1.5x", "numpy")


def numpy_pool_step(x: np.ndarray, g: np.ndarray, kind: str) -> tuple:
    """Forward and input gradient of a 2×2, stride-2 max or avg pool, by hand.

    The four window offsets as strided slices (no copy of the windows). The average
    adds them and gives each a quarter of g; the max keeps the larger of each pair and
    sends g to the first maximum of each window (PyTorch's index), offset by offset.
    """
    parts = [
        (slice(None), slice(None), slice(i, None, 2), slice(j, None, 2))
        for i in (0, 1)
        for j in (0, 1)
    ]
    gx = np.empty_like(x)
    if kind == "avg":
        y = (x[parts[0]] + x[parts[1]] + x[parts[2]] + x[parts[3]]) * 0.25
        quarter = g * 0.25
        for part in parts:
            gx[part] = quarter
        return y, gx
    y = np.maximum(np.maximum(x[parts[0]], x[parts[1]]), np.maximum(x[parts[2]], x[parts[3]]))
    taken = np.zeros(y.shape, dtype=bool)
    for part in parts:
        hit = x[part] == y
        hit &= ~taken
        np.multiply(g, hit, out=gx[part])
        taken |= hit
    return y, gx


def bench_pool(kind: str, dtype: type, repeat: int) -> None:
    """A 2×2 pool's forward and input gradient on the conv's output shape (no target)."""
    rng = np.random.default_rng(1)
    x_ = rng.standard_normal((SHAPE[0], FILTERS, 14, 14)).astype(dtype)
    g_ = rng.standard_normal((SHAPE[0], FILTERS, 7, 7)).astype(dtype)
    x = al.Value(x_)
    pool = al.max_pool2d if kind == "max" else al.avg_pool2d

    def ours() -> None:
        x.zero_grad()
        pool(x, 2).backward(g_)

    ours()
    if not np.allclose(x.grad, numpy_pool_step(x_, g_, kind)[1], rtol=1e-5, atol=1e-6):
        raise SystemExit(f"the hand-written {kind} pool's gradient differs from ours")
    t = interleaved(
        {"ours": ours, "numpy": lambda: numpy_pool_step(x_, g_, kind)}, repeat=repeat, number=3
    )
    name = f"{kind}_pool2d 2x2 fwd+bwd {x_.shape} {np.dtype(dtype).name}"
    report(name, t["ours"], t["numpy"], "none; watch", "numpy")


def main() -> None:
    allocator = steady_allocator()
    print(f"autograd_lite {al.__version__}, numpy {np.__version__}; {allocator}")
    bench(np.float32, repeat=25)
    bench(np.float64, repeat=9)
    for kind in ("max", "avg"):
        bench_pool(kind, np.float32, repeat=25)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
