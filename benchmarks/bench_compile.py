"""Compiled steps (``al.compile``) against the hand-written numpy of ``baselines.py``.

Run with ``make bench`` (or ``python benchmarks/bench_compile.py``). Each row is
the best of interleaved repetitions, as a ratio to the careful numpy step
(buffers reused, in-place updates) measured in the same run, with JAX's
``jax.jit`` of the same step beside it when JAX is importable (it is not a
dependency; install it into your own environment to see its rows):

1. the 64-128-64-10 float32 MLP step, batch 128 (``nn.MLP`` +
   ``nn.CrossEntropyLoss`` compiled as one loss function, ``optim.SGD``,
   ``opt.zero_grad()``): target <= 1.05x;
2. the same for 784-1024-1024-10 at batch 512: target <= 1.03x;
3. ``(a*b + c).tanh().sum()`` on 16x16 float64, forward + backward with
   ``.grad = None`` before each step: target <= 2.0x and below JAX jit.

numpy's BLAS runs on one thread here (set before numpy is imported; both sides use
the same BLAS): on the shared 2-core machine, threaded BLAS on these small matrices
measured the neighbours' load (a 0.2 ms step took 1-70 ms), not the code.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

import autograd_lite as al
from autograd_lite import nn, optim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baselines as B  # the hand-written baselines, shared with bench_engine
import bench_engine as E  # its timing helpers: one way of measuring for every bench


def compiled_mlp_step(layers: B.Layers, X: np.ndarray, y: np.ndarray, lr: float):
    """One SGD step with the loss function compiled: what a user of ``al.compile`` writes."""
    sizes = [layers[0][0].shape[1]] + [W.shape[0] for W, _ in layers]
    net = nn.MLP(sizes[0], sizes[1:], activation="relu", dtype=X.dtype, seed=0)
    for lin, (W, b) in zip([m for m in net.layers if isinstance(m, nn.Linear)], layers):
        lin.weight.data = W.copy()
        lin.bias.data = b.copy()
    loss_fn = nn.CrossEntropyLoss()
    fast = al.compile(lambda X, y: loss_fn(net(X), y))
    opt = optim.SGD(net.parameters(), lr=lr)
    Xv = al.Value(X, requires_grad=False)

    def step() -> float:
        opt.zero_grad()
        loss = fast(Xv, y)
        loss.backward()
        opt.step()
        return loss.data

    step.fast = fast  # type: ignore[attr-defined]
    return step


def bench_mlp(sizes: list[int], batch: int, repeat: int, target: str) -> None:
    layers = B.init_mlp(sizes)
    X, y = B.mlp_batch(sizes, batch)
    lr = 1e-3
    steps = {
        "numpy": B.numpy_mlp_step(layers, X, y, lr),
        "compiled": compiled_mlp_step(layers, X, y, lr),
        "jax": B.jax_mlp_step(layers, X, y, lr),
    }
    steps = {k: f for k, f in steps.items() if f is not None}
    E.same_losses(steps)  # equal work: the same first loss
    number = 20 if sizes[1] < 512 else 2
    t = E.interleaved(steps, repeat=repeat, number=number)
    print(f"MLP {'-'.join(map(str, sizes))} batch {batch} float32 SGD step")
    E.report("  al.compile(loss of nn.MLP), optim.SGD", t["compiled"], t["numpy"], target, "numpy")
    if "jax" in t:
        E.report(
            f"  JAX {E._version('jax')} jit of the whole step", t["jax"], t["numpy"], "-", "numpy"
        )


def bench_per_op() -> None:
    a_, b_, c_ = B.per_op_inputs()
    a, b, c = al.Value(a_), al.Value(b_), al.Value(c_)
    fast = al.compile(lambda a, b, c: (a * b + c).tanh().sum())

    def compiled() -> None:
        a.grad = b.grad = c.grad = None
        fast(a, b, c).backward()

    numpy = B.numpy_per_op(a_, b_, c_)
    _, *expected = numpy()
    compiled()
    for v, e in zip((a, b, c), expected):
        if not np.allclose(v.grad, e):
            raise SystemExit("per-op: the compiled step gives other gradients than numpy")
    fns = {"numpy": numpy, "compiled": compiled, "jax": B.jax_per_op(a_, b_, c_)}
    fns = {k: f for k, f in fns.items() if f is not None}
    t = E.interleaved(fns, repeat=15, number=2000)
    print("per-op: (a*b + c).tanh().sum() 16x16 float64, forward + backward")
    target = "<= 2.0x" + (f", below JAX's {t['jax'] / t['numpy']:.2f}x" if "jax" in t else "")
    E.report("  al.compile, .grad = None", t["compiled"], t["numpy"], target, "numpy")
    if "jax" in t:
        E.report(
            f"  JAX {E._version('jax')} jit(value_and_grad)", t["jax"], t["numpy"], "-", "numpy"
        )


def main() -> None:
    allocator = E.steady_allocator()
    print(f"autograd_lite {al.__version__}, numpy {np.__version__}; {allocator}; {E.CLOCK_NAME}")
    bench_mlp(*B.DIGITS, repeat=15, target="<= 1.05x")
    bench_mlp(*B.WIDE, repeat=21, target="<= 1.03x")  # 21 rounds: see bench_engine.main
    bench_per_op()


if __name__ == "__main__":
    main()
