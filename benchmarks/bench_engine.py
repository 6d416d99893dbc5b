"""Engine speed against hand-written baselines and micrograd, measured in one run.

Run with ``make bench`` (or ``python benchmarks/bench_engine.py``). Every figure is
the best of several interleaved repetitions, printed as a ratio to its baseline
measured in the same process, next to the target from issue #3:

1. scalar MLP(2, [16, 16, 1]) step on 100 points (~66,000 nodes) vs micrograd 0.1.0
   (as its demo runs it, scikit-learn's make_moons loaded; collector on and off);
2. a 1,000,000-node scalar chain, forward + backward, vs plain Python floats, and
   the time ratio of 2n to n nodes (linear time means about 2);
3. one SGD step of a 64-128-64-10 float32 MLP (ReLU, softmax cross-entropy,
   batch 128) against the hand-written numpy step of ``baselines.py`` (buffers
   reused, in-place updates), written the ways a user writes it: the fused ops
   (``al.dense``, ``al.cross_entropy``), the ``nn`` path (``nn.Linear``,
   ``nn.CrossEntropyLoss``, ``optim.SGD`` with ``zero_grad()``), and raw
   operators (``x @ W + b``, ``log_softmax(h) * onehot``, ``p.data -= lr * p.grad``);
   PyTorch eager and JAX jit in the same run when they are importable;
4. the same for 784-1024-1024-10 at batch 512 (BLAS-bound);
5. per-op overhead: ``(a*b + c).tanh().sum()`` on 16×16 float64 arrays with the
   three ways of resetting gradients (``zero_grad()``, ``.grad = None``,
   ``.grad = np.zeros_like(...)``), PyTorch and JAX when importable, and the
   least pure-Python engine that can run it (``_Bare``) as a reference line.

On a machine shared with other work, multi-threaded BLAS (and PyTorch's and
XLA's thread pools) spin against the neighbours and swamp every ratio; run it
single-threaded there (``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"``):
``BENCH_CLOCK=process`` times the process's CPU time instead of wall time. The
header line says which settings a run had.

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
import os
import random
import sys
import time
from collections.abc import Callable

import numpy as np

import autograd_lite as al
from autograd_lite import nn, optim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import baselines as B  # the hand-written baselines, shared with other benchmarks


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


# Wall time by default; BENCH_CLOCK=process measures the process's CPU time instead (all
# its threads), which a machine shared with other work disturbs far less.
CLOCK_NAME = "process CPU time" if os.environ.get("BENCH_CLOCK") == "process" else "wall time"
clock = time.process_time if CLOCK_NAME == "process CPU time" else time.perf_counter


def best_of(fn: Callable[[], object], repeat: int, number: int = 1) -> float:
    """Best time (``clock``) of ``number`` calls, over ``repeat`` tries, per call."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = clock()
        for _ in range(number):
            fn()
        best = min(best, (clock() - t0) / number)
    return best


def interleaved(fns: dict[str, Callable[[], object]], repeat: int, number: int = 1) -> dict:
    """Best time of each function, measured alternately so drift hits all alike."""
    times = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            times[name] = min(times[name], best_of(fn, 1, number))
    return times


def same_losses(steps: dict[str, Callable[[], float]], rounds: int = 1) -> None:
    """Call every step ``rounds`` times; stop unless each loss is numpy's (to 1e-4) each time.

    The benchmarks compare equal work: the same network, data and updates.
    """
    for n in range(rounds):
        losses = {k: f() for k, f in steps.items()}
        for k, loss in losses.items():
            if not np.isclose(loss, losses["numpy"], rtol=1e-4):
                raise SystemExit(
                    f"benchmark networks disagree at step {n}: numpy loss {losses['numpy']} "
                    f"vs {k} {loss}"
                )


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


def fused_step(params: list, X: al.Value, y: np.ndarray, lr: float) -> float:
    """The step with the fused ops behind nn.Linear and CrossEntropyLoss (dense, cross_entropy)."""
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


def nn_model(layers: list) -> nn.Sequential:
    """``nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` holding copies of ``layers``."""
    mods: list = []
    for i, (W, b) in enumerate(layers):
        lin = nn.Linear(W.shape[1], W.shape[0], dtype=W.dtype)
        lin.weight.data = W.copy()
        lin.bias.data = b.copy()
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


def nn_step_fn(layers: list, X: np.ndarray, y: np.ndarray, lr: float) -> Callable[..., float]:
    """The step as a PyTorch user writes it: nn.Linear, nn.CrossEntropyLoss, optim.SGD.

    ``step(Xb, yb)`` trains on another batch (as ``baselines`` steps do).
    """
    model = nn_model(layers)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=lr)
    xv = al.Value(X, requires_grad=False)

    def step(xb: np.ndarray | None = None, yb: np.ndarray = y) -> float:
        opt.zero_grad()
        loss = loss_fn(model(xv if xb is None else al.Value(xb, requires_grad=False)), yb)
        loss.backward()
        opt.step()
        return loss.item()

    step.model = model  # type: ignore[attr-defined]
    return step


def raw_step_fn(layers: list, X: np.ndarray, y: np.ndarray, lr: float) -> Callable[..., float]:
    """The step with raw operators: ``x @ W + b``, relu, ``-(log_softmax(h) * onehot)``
    summed over classes and averaged, and ``p.data -= lr * p.grad`` with ``p.grad = None``.

    ``step(Xb, yb)`` trains on another batch (its one-hot labels made in the step).
    """
    params = [(al.Value(W.T.copy()), al.Value(b.copy())) for W, b in layers]  # W: (in, out)
    flat = [p for pair in params for p in pair]
    eye = np.eye(layers[-1][0].shape[0], dtype=X.dtype)
    onehot = eye[y]
    last = len(params) - 1

    def step(xb: np.ndarray = X, yb: np.ndarray | None = None) -> float:
        h = xb
        for i, (W, b) in enumerate(params):
            h = h @ W + b
            if i < last:
                h = h.relu()
        loss = -(h.log_softmax(axis=1) * (onehot if yb is None else eye[yb])).sum(axis=1).mean()
        loss.backward()
        for p in flat:
            p.data -= lr * p.grad
            p.grad = None
        return loss.item()

    step.params = params  # type: ignore[attr-defined]
    return step


def bench_tensor_mlp(sizes: list[int], batch: int, repeat: int, targets: dict) -> None:
    layers = B.init_mlp(sizes)
    X, y = B.mlp_batch(sizes, batch)
    dtype = X.dtype
    al_params = [(al.Value(W.copy()), al.Value(b.copy())) for W, b in layers]
    Xv = al.Value(X, requires_grad=False)
    lr = 1e-3
    steps = {
        "numpy": B.numpy_mlp_step(layers, X, y, lr),
        "fused": lambda: fused_step(al_params, Xv, y, lr),
        "nn": nn_step_fn(layers, X, y, lr),
        "raw": raw_step_fn(layers, X, y, lr),
        "torch": B.torch_mlp_step(layers, X, y, lr),
        "jax": B.jax_mlp_step(layers, X, y, lr),
    }
    steps = {k: f for k, f in steps.items() if f is not None}
    same_losses(steps)  # equal work: the same first loss (before any update)
    if al_params[0][0].data.dtype != dtype:
        raise SystemExit(f"parameters changed dtype to {al_params[0][0].data.dtype}")
    number = 20 if sizes[1] < 512 else 2
    t = interleaved(steps, repeat=repeat, number=number)
    name = f"MLP {'-'.join(map(str, sizes))} batch {batch} {np.dtype(dtype).name} step"
    print(name)
    labels = {
        "fused": "al.dense + al.cross_entropy, p.data -=",
        "nn": "nn.Linear + CrossEntropyLoss + optim.SGD",
        "raw": "x @ W + b, log_softmax * onehot, p.data -=",
        "torch": f"PyTorch {_version('torch')} eager, same nn code",
        "jax": f"JAX {_version('jax')} jit of the whole step",
    }
    for k in steps:
        if k != "numpy":
            report("  " + labels[k], t[k], t["numpy"], targets.get(k, "reference"), "numpy")


def _version(module: str) -> str:
    return getattr(sys.modules.get(module), "__version__", "?")


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
    a_, b_, c_ = B.per_op_inputs()
    a, b, c = al.Value(a_), al.Value(b_), al.Value(c_)
    leaves = (a, b, c)

    def zero_grad() -> None:
        for v in leaves:
            v.zero_grad()  # as a training step would: no accumulation into old grads
        out = (a * b + c).tanh().sum()
        out.backward()

    def grad_none() -> None:
        for v in leaves:
            v.grad = None
        out = (a * b + c).tanh().sum()
        out.backward()

    def grad_zeros() -> None:
        for v in leaves:
            v.grad = np.zeros_like(v.data)
        out = (a * b + c).tanh().sum()
        out.backward()

    def users_line() -> None:  # the zeros row's own line, alone: what numpy makes the user pay
        for v in leaves:
            v.grad = np.zeros_like(v.data)

    bare = [_Bare(x) for x in (a_, b_, c_)]
    numpy = B.numpy_per_op(a_, b_, c_)
    _, *expected = numpy()
    _bare_case(*bare)
    for fn in (zero_grad, grad_none, grad_zeros):
        fn()
        for v, e, node in zip(leaves, expected, bare):  # every row does the same work
            if not (np.allclose(v.grad, e) and np.allclose(node.grad, e)):
                raise SystemExit(f"per-op: {fn.__name__} gives other gradients than numpy")
    fns = {
        "numpy": numpy,
        "zero_grad": zero_grad,
        "grad_none": grad_none,
        "grad_zeros": grad_zeros,
        "torch": B.torch_per_op(a_, b_, c_),
        "jax": B.jax_per_op(a_, b_, c_),
        "bare": lambda: _bare_case(*bare),
        "users_line": users_line,
    }
    fns = {k: f for k, f in fns.items() if f is not None}
    t = interleaved(fns, repeat=15, number=2000)
    print("per-op: (a*b + c).tanh().sum() 16x16 float64, forward + backward")
    labels = {
        "zero_grad": ("v.zero_grad() before each step", "<= 3x"),
        "grad_none": ("v.grad = None before each step", "<= 3x"),
        "grad_zeros": ("v.grad = np.zeros_like(v.data)", "<= 3x"),
        "torch": (f"PyTorch {_version('torch')} eager, .grad = None", "reference"),
        "jax": (f"JAX {_version('jax')} jit(value_and_grad)", "reference"),
        "bare": ("the least engine (no checks)", "reference"),
    }
    for k, (label, target) in labels.items():
        if k in t:
            report("  " + label, t[k], t["numpy"], target, "numpy")
        if k == "grad_zeros":  # its line alone costs about numpy's whole step (numpy's Python)
            report(
                "    of which the zeros_like line alone",
                t["users_line"],
                t["numpy"],
                "reference",
                "numpy",
            )
            report(
                "    the rest: the engine's part",
                t[k] - t["users_line"],
                t["numpy"],
                "reference",
                "numpy",
            )


def threads() -> str:
    """The thread settings in the environment (BLAS, PyTorch and XLA read them at start)."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_FLAGS")
    set_ = [f"{n}={os.environ[n]}" for n in names if n in os.environ]
    return "threads: " + (", ".join(set_) if set_ else "library defaults") + f"; {CLOCK_NAME}"


def main() -> None:
    allocator = steady_allocator()
    print(
        f"autograd_lite {al.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}"
        f"; {allocator}; {threads()}"
    )
    bench_scalar()
    bench_chain()
    bench_tensor_mlp(*B.DIGITS, repeat=15, targets={"fused": "<= 1.3x", "nn": "<= 1.3x"})
    # 21 rounds, not 9: five copies of the same numpy step, timed in one process on this shared
    # machine, had bests 41-43 ms over 5 rounds each (single steps 41-56 ms), so a best of 9
    # moved a ratio by as much as the 3-5 % these targets leave
    bench_tensor_mlp(*B.WIDE, repeat=21, targets={"fused": "<= 1.05x", "nn": "<= 1.08x"})
    bench_per_op()


if __name__ == "__main__":
    main()
