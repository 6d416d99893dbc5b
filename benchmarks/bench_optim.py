"""Optimizer steps against hand-written in-place numpy (``baselines.numpy_optimizer``).

Run with ``make bench`` (or ``python benchmarks/bench_optim.py``). Each row is the
best of interleaved repetitions as a ratio to the careful numpy code measured in
the same run (state arrays made once and updated in place, one scratch buffer
per parameter), with ``torch.optim.Adam`` beside it when PyTorch is importable
(not a dependency; install it into your own environment to see its rows):

1. the optimizer's ``step()`` alone on the parameters of the 784-1024-1024-10
   float32 MLP, gradients fixed arrays: Adam, AdamW, SGD with momentum, RMSprop,
   Adagrad, and Adam with amsgrad and RMSprop centered (the options that add
   passes), target <= 1.10x each (and Adam on the 64-128-64-10 parameters, a
   reference line: there the cost is Python's per parameter, not the arrays');
2. the whole training step as users write it, ``nn.Linear`` layers +
   ``nn.CrossEntropyLoss`` + ``optim.Adam`` + ``opt.zero_grad()``, against
   numpy's step with its in-place Adam: 64-128-64-10 at batch 128 (target
   <= 1.3x) and 784-1024-1024-10 at batch 512 (target <= 1.08x).

numpy's BLAS runs on one thread (set before numpy is imported), as in bench_engine.
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
import baselines as B  # the hand-written baselines, shared with the other benches
import bench_engine as E  # its timing helpers: one way of measuring for every bench

LR = 1e-3
RULES = {  # numpy_optimizer's name (and options) -> how a user makes the same optimizer
    "adam": ("optim.Adam", lambda ps: optim.Adam(ps, lr=LR)),
    "adamw": ("optim.AdamW (weight_decay 0.01)", lambda ps: optim.AdamW(ps, lr=LR)),
    "sgd": ("optim.SGD, momentum 0.9", lambda ps: optim.SGD(ps, lr=LR, momentum=0.9)),
    "rmsprop": ("optim.RMSprop", lambda ps: optim.RMSprop(ps, lr=LR)),
    "adagrad": ("optim.Adagrad", lambda ps: optim.Adagrad(ps, lr=LR)),
    # the options that add passes (a running maximum, a running mean)
    "adam amsgrad": ("optim.Adam, amsgrad", lambda ps: optim.Adam(ps, lr=LR, amsgrad=True)),
    "rmsprop centered": (
        "optim.RMSprop, centered",
        lambda ps: optim.RMSprop(ps, lr=LR, centered=True),
    ),
}


def numpy_rule(rule: str, params: list[np.ndarray]):
    """``baselines.numpy_optimizer`` for a key of ``RULES`` ("adam amsgrad": with the option)."""
    name, *options = rule.split()
    return B.numpy_optimizer(name, params, LR, **dict.fromkeys(options, True))


def mlp_arrays(sizes: list[int]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The MLP's parameters (W, b of each layer) and fixed gradients of their shapes."""
    arrays = [a for pair in B.init_mlp(sizes) for a in pair]
    rng = np.random.default_rng(3)
    return arrays, [rng.standard_normal(a.shape).astype(a.dtype) for a in arrays]


def ours(rule: str, arrays: list[np.ndarray], grads: list[np.ndarray]):
    """``opt.step()`` of our optimizer on Values holding copies of ``arrays``."""
    params = [al.Value(a.copy()) for a in arrays]
    for p, g in zip(params, grads):
        p.grad = g  # kept as it is: a leaf's .grad = array of its dtype is not copied
    opt = RULES[rule][1](params)

    def step() -> None:
        opt.step()

    step.params = params  # type: ignore[attr-defined]
    return step


def bench_rule(rule: str, sizes: list[int], repeat: int, target: str) -> None:
    arrays, grads = mlp_arrays(sizes)
    numpy_step = numpy_rule(rule, [a.copy() for a in arrays])
    steps = {"numpy": lambda: numpy_step(grads), "ours": ours(rule, arrays, grads)}
    if rule == "adam":
        torch_step = B.torch_adam(arrays, grads, LR)
        if torch_step is not None:
            steps["torch"] = torch_step
    numpy_params = [a.copy() for a in arrays]  # the same steps once more, to compare
    check = numpy_rule(rule, numpy_params)
    ours_params = steps["ours"].params
    for _ in range(3):  # equal work: the same parameters after three steps
        check(grads)
        steps["ours"]()
    for p, a in zip(ours_params, numpy_params):
        if p.data.dtype != a.dtype or not np.allclose(p.data, a, rtol=1e-5, atol=1e-6):
            raise SystemExit(f"{rule}: our parameters differ from numpy's after three steps")
    number = 20 if sizes[1] < 512 else 2
    t = E.interleaved(steps, repeat=repeat, number=number)
    label, _ = RULES[rule]
    E.report(f"  {label}.step()", t["ours"], t["numpy"], target, "numpy")
    if "torch" in t:
        name = f"  PyTorch {E._version('torch')} torch.optim.Adam.step()"
        E.report(name, t["torch"], t["numpy"], "reference", "numpy")


def nn_adam_step(layers: B.Layers, X: np.ndarray, y: np.ndarray):
    """The training step as users write it: nn.Linear, nn.CrossEntropyLoss, optim.Adam."""
    model = E.nn_model(layers)
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.Adam(model.parameters(), lr=LR)
    xv = al.Value(X, requires_grad=False)

    def step() -> float:
        opt.zero_grad()
        loss = loss_fn(model(xv), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def bench_training(sizes: list[int], batch: int, repeat: int, target: str) -> None:
    layers = B.init_mlp(sizes)
    X, y = B.mlp_batch(sizes, batch)
    steps = {
        "numpy": B.numpy_mlp_step(layers, X, y, LR, rule="adam"),
        "nn": nn_adam_step(layers, X, y),
        "torch": B.torch_mlp_step(layers, X, y, LR, rule="adam"),
    }
    steps = {k: f for k, f in steps.items() if f is not None}
    E.same_losses(steps, rounds=4)  # the same losses over the first steps, Adam's included
    number = 20 if sizes[1] < 512 else 2
    t = E.interleaved(steps, repeat=repeat, number=number)
    print(f"MLP {'-'.join(map(str, sizes))} batch {batch} float32 step with Adam")
    E.report("  nn.Linear + CrossEntropyLoss + optim.Adam", t["nn"], t["numpy"], target, "numpy")
    if "torch" in t:
        name = f"  PyTorch {E._version('torch')} eager, same nn code"
        E.report(name, t["torch"], t["numpy"], "reference", "numpy")


def main() -> None:
    allocator = E.steady_allocator()
    print(
        f"autograd_lite {al.__version__}, numpy {np.__version__}, python {sys.version.split()[0]}"
        f"; {allocator}; {E.threads()}"
    )
    wide, _ = B.WIDE
    print(f"optimizer step alone, {'-'.join(map(str, wide))} float32 parameters")
    for rule in RULES:
        # 21 rounds, as bench_engine's 784-1024-1024-10 rows: a best of fewer moved by 3-5 %
        bench_rule(rule, wide, repeat=21, target="<= 1.10x")
    digits, _ = B.DIGITS
    print(f"optimizer step alone, {'-'.join(map(str, digits))} float32 parameters")
    bench_rule("adam", digits, repeat=15, target="reference")
    bench_training(*B.DIGITS, repeat=15, target="<= 1.3x")
    bench_training(*B.WIDE, repeat=21, target="<= 1.08x")


if __name__ == "__main__":
    main()
