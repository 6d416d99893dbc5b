"""Engine speed against hand-written baselines and micrograd, measured in one run.

Run with ``make bench`` (or ``python benchmarks/bench_engine.py``). Every figure is
the best of several interleaved repetitions, printed as a ratio to its baseline
measured in the same process, next to the target from issue #3:

1. scalar MLP(2, [16, 16, 1]) step on 100 points (~66,000 nodes) vs micrograd 0.1.0
   (as its demo runs it, scikit-learn's make_moons loaded; collector on and off);
2. a 1,000,000-node scalar chain, forward + backward, vs plain Python floats, and
   the time ratio of 2n to n nodes (linear time means about 2);
3. one SGD step of a 64-128-64-10 float32 MLP (ReLU, softmax cross-entropy,
   batch 128) vs the same network forward + backward in hand-written numpy;
4. the same for 784-1024-1024-10 at batch 512 (BLAS-bound);
5. per-op overhead: ``(a*b + c).tanh().sum()`` on 16×16 float64 arrays, with the
   least pure-Python engine that can run it (``_Bare``) as a reference line.

Before measuring, glibc is told to keep freed memory in the process (see
``steady_allocator``): otherwise it may hand numpy's temporaries back to the
system after every step and fault them in again, which doubles the numpy time
of the small MLP or not depending on what ran before, and so made its ratio
depend on the order of the benchmarks. Both sides run on the warm allocator,
the fastest the hand-written baseline gets.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import random
import sys
import time
from collections.abc import Callable

import numpy as np

import autograd_lite as al


def steady_allocator() -> str:
    """Keep freed memory in the process (glibc's trim and mmap thresholds); describe it."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.mallopt(-1, 512 << 20)  # M_TRIM_THRESHOLD: return memory above 512 MB only
        mmap = libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD: blocks under 32 MB from the heap
    except (OSError, AttributeError):
        return "allocator: system default (not glibc)"
    if not (trim and mmap):
        return "allocator: system default (mallopt refused)"
    return "allocator: glibc, freed memory kept in the process"


def best_of(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` tries, per call."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def interleaved(fns: dict[str, Callable[[], object]], repeat: int, number: int = 1) -> dict:
    """Best time of each function, measured alternately so drift hits all alike."""
    times = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name] = min(times[name], best_of(fn, 1, number))
    return times


def seconds(t: float) -> str:
    """A time in ms, or in µs below a millisecond (the per-op case takes ~13 µs)."""
    return f"{t * 1e3:9.3f} ms" if t >= 1e-3 else f"{t * 1e6:9.2f} µs"


def report(name: str, ours: float, base: float, target: str, base_name: str) -> None:
    ratio = ours / base
    print(
        f"{name:<44} {seconds(ours)} vs {base_name} {seconds(base)}"
        f"  ratio {ratio:6.2f}x  (target {target})"
    )


# ------------------------------------------------------------ 1. scalar MLP


def scalar_mlp(value_cls: type, seed: int = 0) -> tuple[Callable, Callable]:
    """micrograd's demo MLP built from ``value_cls`` scalars; returns (model, params)."""
    rnd = random.Random(seed)

    def neuron(nin: int) -> list:
        return [value_cls(rnd.uniform(-1, 1)) for _ in range(nin)] + [value_cls(0.0)]

    sizes = [2, 16, 16, 1]
    layers = [[neuron(sizes[i]) for _ in range(sizes[i + 1])] for i in range(3)]

    def model(x: list) -> object:
        for li, layer in enumerate(layers):
            out = []
            for n in layer:
                act = sum((wi * xi for wi, xi in zip(n[:-1], x)), n[-1])
                out.append(act.relu() if li < 2 else act)
            x = out
        return x[0]

    params = [p for layer in layers for n in layer for p in n]
    return model, params


def scalar_step(value_cls: type, model: Callable, params: list, X: np.ndarray, y: list) -> None:
    """One training step exactly as micrograd's demo notebook writes it (SVM loss + L2)."""
    inputs = [list(map(value_cls, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    total = data_loss + reg_loss
    for p in params:
        p.grad = 0.0
    total.backward()
    for p in params:
        p.data -= 0.01 * p.grad


def bench_scalar() -> None:
    try:
        from micrograd.engine import Value as MicroValue
    except ImportError:
        print("scalar MLP: micrograd not installed (pip install -e '.[bench]'); skipped")
        return
    from sklearn.datasets import make_moons  # as micrograd's demo does

    X, yy = make_moons(n_samples=100, noise=0.1, random_state=1)
    y = [float(v) for v in yy * 2 - 1]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))  # micrograd recurses
    ours_model, ours_params = scalar_mlp(al.Value)
    micro_model, micro_params = scalar_mlp(MicroValue)
    fns = {
        "ours": lambda: scalar_step(al.Value, ours_model, ours_params, X, y),
        "micrograd": lambda: scalar_step(MicroValue, micro_model, micro_params, X, y),
    }
    on = interleaved(fns, repeat=7)
    gc.disable()
    try:
        off = interleaved(fns, repeat=7)
    finally:
        gc.enable()
    print(
        f"scalar MLP step, collector on:  ours {on['ours'] * 1e3:7.1f} ms, "
        f"micrograd {on['micrograd'] * 1e3:7.1f} ms -> {on['micrograd'] / on['ours']:.2f}x faster"
        "  (target >= 5x)"
    )
    print(
        f"scalar MLP step, collector off: ours {off['ours'] * 1e3:7.1f} ms, "
        f"micrograd {off['micrograd'] * 1e3:7.1f} ms -> ratio ours/micrograd "
        f"{off['ours'] / off['micrograd']:.2f}  (target <= 1.0)"
    )


# ------------------------------------------------------------ 2. deep chain


def chain_ours(n: int) -> float:
    x = al.Value(0.5)
    y = x
    for _ in range(n):
        y = y * 0.9999 + 0.0001
    y.backward()
    return x.grad


def chain_floats(n: int) -> float:
    """The same chain with plain floats: forward, then the product of local derivatives."""
    y = 0.5
    local = []
    for _ in range(n):
        local.append(0.9999)
        y = y * 0.9999 + 0.0001
    grad = 1.0
    for d in reversed(local):
        grad *= d
    return grad


def bench_chain() -> None:
    n = 500_000  # two ops per step: 1,000,000 nodes
    t = interleaved({"ours": lambda: chain_ours(n), "floats": lambda: chain_floats(n)}, 3)
    report("deep chain, 1,000,000 nodes fwd+bwd", t["ours"], t["floats"], "<= 100x", "floats")
    t2 = best_of(lambda: chain_ours(2 * n), 2)
    print(
        f"{'  2,000,000 nodes / 1,000,000 nodes':<44} time ratio {t2 / t['ours']:.2f}  (linear: ~2)"
    )


# ------------------------------------------------------------ 3-4. tensor MLPs


def init_mlp(sizes: list[int], dtype: type, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [
        (
            (rng.standard_normal((o, i)) * np.sqrt(2.0 / i)).astype(dtype),
            np.zeros(o, dtype=dtype),
        )
        for i, o in itertools.pairwise(sizes)
    ]


def numpy_step(layers: list, X: np.ndarray, y: np.ndarray, lr: float) -> float:
    """Hand-written forward + backward + SGD of a ReLU MLP with softmax cross-entropy."""
    acts = [X]
    pre = []
    h = X
    for i, (W, b) in enumerate(layers):
        z = h @ W.T + b
        pre.append(z)
        h = np.maximum(z, 0) if i < len(layers) - 1 else z
        acts.append(h)
    z = acts[-1]
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    rows = np.arange(len(y))
    loss = -logp[rows, y].mean()
    dz = np.exp(logp)
    dz[rows, y] -= 1
    dz /= len(y)
    for i in range(len(layers) - 1, -1, -1):
        W, b = layers[i]
        dW = dz.T @ acts[i]
        db = dz.sum(axis=0)
        if i > 0:
            dz = (dz @ W) * (pre[i - 1] > 0)
        W -= lr * dW
        b -= lr * db
    return float(loss)


def ours_step(params: list, X: al.Value, y: np.ndarray, lr: float) -> float:
    """The same step with the engine (the ops nn.Linear and CrossEntropyLoss use)."""
    h = X
    for i, (W, b) in enumerate(params):
        h = al.dense(h, W, b)
        if i < len(params) - 1:
            h = h.relu()
    loss = al.cross_entropy(h, y)
    loss.backward()
    for W, b in params:
        for p in (W, b):
            p.data -= lr * p.grad
            p.zero_grad()
    return loss.item()


def bench_tensor_mlp(sizes: list[int], batch: int, dtype: type, repeat: int, target: str) -> None:
    rng = np.random.default_rng(1)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], batch)
    np_layers = init_mlp(sizes, dtype)
    al_params = [(al.Value(W.copy()), al.Value(b.copy())) for W, b in np_layers]
    Xv = al.Value(X, requires_grad=False)
    # same numbers first: the benchmark compares equal work
    l_np = numpy_step([(W.copy(), b.copy()) for W, b in np_layers], X, y, 0.0)
    l_al = ours_step(al_params, Xv, y, 0.0)
    if not np.isclose(l_np, l_al, rtol=1e-4):
        raise SystemExit(f"benchmark networks disagree: numpy loss {l_np} vs ours {l_al}")
    if al_params[0][0].data.dtype != dtype:
        raise SystemExit(f"parameters changed dtype to {al_params[0][0].data.dtype}")
    number = 20 if sizes[1] < 512 else 2
    t = interleaved(
        {
            "ours": lambda: ours_step(al_params, Xv, y, 1e-3),
            "numpy": lambda: numpy_step(np_layers, X, y, 1e-3),
        },
        repeat=repeat,
        number=number,
    )
    name = f"MLP {'-'.join(map(str, sizes))} batch {batch} {np.dtype(dtype).name} step"
    report(name, t["ours"], t["numpy"], target, "numpy")


# ------------------------------------------------------------ 5. per-op overhead


class _Bare:
    """A node of the least engine that can run the per-op case (reference only).

    No op table, no read-only arrays or locks, no broadcasting or dtype checks,
    no freed-graph detection, no float paths: what is left is the Python a
    graph engine cannot avoid. Its time shows how much of the 3x budget the
    engine's safety and generality may spend.
    """

    __slots__ = ("data", "acc", "grad", "ins", "vjp", "seen")

    def __init__(self, data: np.ndarray, ins: tuple = (), vjp: Callable | None = None) -> None:
        self.data, self.ins, self.vjp = data, ins, vjp
        self.acc = self.grad = None
        self.seen = 0


def _bare_case(a: _Bare, b: _Bare, c: _Bare) -> None:
    """(a*b + c).tanh().sum() forward and backward with _Bare nodes."""
    ab = _Bare(a.data * b.data, (a, b), lambda g, x=a.data, y=b.data: (g * y, g * x))
    s = _Bare(ab.data + c.data, (ab, c), lambda g: (g, g))
    th = np.tanh(s.data)
    t = _Bare(th, (s,), lambda g: (g * (1 - th * th),))
    shape = th.shape

    def sum_vjp(g: np.ndarray) -> tuple:
        out = np.empty(shape)
        out[...] = g
        return (out,)

    root = _Bare(np.add.reduce(th), (t,), sum_vjp)
    order, stack = [], [(root, False)]
    while stack:  # iterative post-order depth-first search
        node, done = stack.pop()
        if done:
            order.append(node)
        elif not node.seen:
            node.seen = 1
            stack.append((node, True))
            stack.extend((p, False) for p in node.ins if not p.seen)
    root.acc = 1.0
    for node in reversed(order):
        node.seen = 0
        g, node.acc = node.acc, None
        node.grad = g
        if node.vjp is not None:
            for p, gi in zip(node.ins, node.vjp(g)):
                p.acc = gi if p.acc is None else p.acc + gi


def bench_per_op() -> None:
    rng = np.random.default_rng(2)
    a_, b_, c_ = (rng.standard_normal((16, 16)) for _ in range(3))
    a, b, c = al.Value(a_), al.Value(b_), al.Value(c_)

    def ours() -> None:
        for v in (a, b, c):
            v.zero_grad()  # as a training step would: no accumulation into old grads
        out = (a * b + c).tanh().sum()
        out.backward()

    def numpy() -> tuple:
        t = np.tanh(a_ * b_ + c_)
        t.sum()
        g = 1.0 - t * t
        return g * b_, g * a_, g  # the three input gradients

    bare = [_Bare(x) for x in (a_, b_, c_)]
    ours()
    _bare_case(*bare)
    for node, v in zip(bare, (a, b, c)):  # the reference does the same work
        if not np.allclose(node.grad, v.grad):
            raise SystemExit("the reference engine's gradients differ from ours")
    t = interleaved(
        {"ours": ours, "numpy": numpy, "bare": lambda: _bare_case(*bare)}, repeat=15, number=2000
    )
    report("per-op: (a*b + c).tanh().sum() 16x16", t["ours"], t["numpy"], "<= 3x", "numpy")
    print(
        f"{'  the least engine (no checks), for reference':<44} {seconds(t['bare'])}"
        f"  ratio {t['bare'] / t['numpy']:6.2f}x"
    )


def main() -> None:
    allocator = steady_allocator()
    print(
        f"autograd_lite {al.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}"
        f"; {allocator}"
    )
    bench_scalar()
    bench_chain()
    bench_tensor_mlp([64, 128, 64, 10], 128, np.float32, repeat=7, target="<= 1.3x")
    bench_tensor_mlp([784, 1024, 1024, 10], 512, np.float32, repeat=5, target="<= 1.05x")
    bench_per_op()


if __name__ == "__main__":
    main()
