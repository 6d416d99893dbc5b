"""Time per epoch on scikit-learn's digits: the code users write vs hand-written numpy.

The 64-128-64-10 float32 ReLU MLP of ``baselines.DIGITS`` trains with plain SGD
and softmax cross-entropy on the digits training set, in batches of 128, from
the *same* initial weights on the *same* shuffled batches, written four ways,
each epoch timed in turn (interleaved, so drift hits all alike):

* hand-written numpy (``baselines.numpy_mlp_step``: buffers reused, in-place updates);
* the ``nn`` path: ``nn.Linear`` + ``nn.CrossEntropyLoss`` + ``optim.SGD``, ``zero_grad()``;
* raw operators: ``x @ W + b``, ``log_softmax(h) * onehot``, ``p.data -= lr * p.grad``;
* PyTorch eager and JAX jit (the same network), when they are importable.

They compute the same numbers (checked at the end); the ratio is the price of
building and walking a graph per batch instead of writing the backward pass by hand.

Run: ``python benchmarks/bench_digits.py`` (no arguments, well under a minute).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import autograd_lite as al
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, os.path.dirname(HERE))
    import autograd_lite as al
sys.path.insert(0, HERE)
import baselines as B  # noqa: E402  (the hand-written baselines, shared)
import bench_engine as E  # noqa: E402  (the nn and raw-operator steps, the allocator)

EPOCHS = 7
LR = 0.05
SEED = 0


def main() -> None:
    allocator = E.steady_allocator()
    d = al.datasets.load_digits(seed=SEED)
    X = d.X_train.astype(np.float32)
    sizes, batch = B.DIGITS
    layers = B.init_mlp(sizes)
    loader = al.data.Batches(X, d.y_train, batch_size=batch, seed=SEED)
    epochs = [[(np.ascontiguousarray(xb), yb) for xb, yb in loader] for _ in range(EPOCHS)]
    x0, y0 = epochs[0][0]
    steps: dict[str, Callable | None] = {
        "numpy": B.numpy_mlp_step(layers, x0, y0, LR),
        "nn": E.nn_step_fn(layers, x0, y0, LR),
        "raw": E.raw_step_fn(layers, x0, y0, LR),
        "torch": B.torch_mlp_step(layers, x0, y0, LR),
        "jax": B.jax_mlp_step(layers, x0, y0, LR),
    }
    steps = {k: f for k, f in steps.items() if f is not None}
    # PyTorch and JAX leave millions of objects behind from their imports; without this,
    # every full collection (triggered by whichever step allocates) walks them all
    gc.collect()
    gc.freeze()
    times: dict[str, list[float]] = {k: [] for k in steps}
    losses: dict[str, float] = {}
    for batches in epochs:
        for name, step in steps.items():
            start = E.clock()
            for xb, yb in batches:
                losses[name] = step(xb, yb)
            times[name].append(E.clock() - start)
    # the best epoch: free of the first epoch's warm-up (JAX compiles) and, on a shared
    # machine, of most of the neighbours' interference (as bench_engine's best-of-n)
    best = {k: float(np.min(t)) for k, t in times.items()}
    model = steps["nn"].model  # type: ignore[union-attr]
    ours = [p.data for p in model.parameters()]
    ref = [a for pair in steps["numpy"].params for a in pair]  # type: ignore[union-attr]
    diff = max(float(np.abs(p - q).max()) for p, q in zip(ours, ref))
    with al.no_grad():
        acc = float(np.mean(model(d.X_test.astype(np.float32)).data.argmax(axis=1) == d.y_test))
    print(
        f"digits MLP {'-'.join(map(str, sizes))} float32, SGD lr {LR}, {EPOCHS} epochs of "
        f"{len(epochs[0])} batches of {batch} (best epoch); {allocator}; {E.threads()}"
    )
    labels = {
        "numpy": "hand-written numpy (baselines.py)",
        "nn": "nn.Linear + CrossEntropyLoss + optim.SGD",
        "raw": "x @ W + b, log_softmax * onehot, p.data -=",
        "torch": f"PyTorch {E._version('torch')} eager, same nn code",
        "jax": f"JAX {E._version('jax')} jit of the whole step",
    }
    for k, t in best.items():
        print(
            f"  {labels[k]:<44} {t * 1e3:8.2f} ms/epoch  ratio {t / best['numpy']:5.2f}x"
            f"  last loss {losses[k]:.4f}"
        )
    print(f"  test accuracy (nn path) {acc:.3f}; max |weight difference| nn vs numpy {diff:.1e}")
    if diff > 1e-3 or acc < 0.9:
        raise SystemExit("the implementations diverged: the comparison is not like for like")


if __name__ == "__main__":
    main()
