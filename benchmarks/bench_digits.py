"""Time per epoch: the digits MLP in autograd_lite vs the same network in hand-written numpy.

Both train a 64-64-10 ReLU MLP with softmax cross-entropy and Adam on
scikit-learn's digits, from the *same* initial weights, on the *same* shuffled
mini-batches, so they compute the same numbers (checked at the end); the ratio
is the price of building and walking a graph per batch instead of writing the
backward pass by hand.

Run: ``python benchmarks/bench_digits.py`` (no arguments, well under a minute).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

try:
    import autograd_lite as al
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import autograd_lite as al
from autograd_lite import nn, optim

EPOCHS = 5
BATCH = 32
LR = 3e-3
SEED = 0


class NumpyMLP:
    """The same network with forward and backward written out by hand."""

    def __init__(self, state: dict[str, np.ndarray]) -> None:
        self.params = [state[k].copy() for k in ("0.weight", "0.bias", "2.weight", "2.bias")]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        W1, b1, W2, b2 = self.params
        Z1 = X @ W1.T + b1
        A1 = np.maximum(Z1, 0)
        return Z1, A1, A1 @ W2.T + b2

    def step(self, X: np.ndarray, y: np.ndarray) -> float:
        W2 = self.params[2]
        Z1, A1, Z2 = self.forward(X)
        shifted = Z2 - Z2.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        m = len(X)
        loss = -logp[np.arange(m), y].mean()
        dZ2 = np.exp(logp)
        dZ2[np.arange(m), y] -= 1
        dZ2 /= m
        dW2, db2 = dZ2.T @ A1, dZ2.sum(axis=0)
        dZ1 = (dZ2 @ W2) * (Z1 >= 0)
        dW1, db1 = dZ1.T @ X, dZ1.sum(axis=0)
        self.t += 1
        b1_, b2_ = 0.9, 0.999
        for i, (p, g) in enumerate(zip(self.params, (dW1, db1, dW2, db2))):
            self.m[i] = b1_ * self.m[i] + (1 - b1_) * g
            self.v[i] = b2_ * self.v[i] + (1 - b2_) * g * g
            m_hat = self.m[i] / (1 - b1_**self.t)
            v_hat = self.v[i] / (1 - b2_**self.t)
            p -= LR * m_hat / (np.sqrt(v_hat) + 1e-8)
        return float(loss)


def time_autograd_lite(d: al.datasets.Dataset, net: nn.MLP) -> list[float]:
    loss = nn.CrossEntropyLoss()
    opt = optim.Adam(net.parameters(), lr=LR)
    loader = al.data.Batches(d.X_train, d.y_train, batch_size=BATCH, seed=SEED)
    times = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        for xb, yb in loader:
            value = loss(net(al.Value(xb, requires_grad=False)), yb)
            opt.zero_grad()
            value.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return times


def time_numpy(d: al.datasets.Dataset, ref: NumpyMLP) -> list[float]:
    loader = al.data.Batches(d.X_train, d.y_train, batch_size=BATCH, seed=SEED)
    times = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        for xb, yb in loader:
            ref.step(xb, yb)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    d = al.datasets.load_digits(seed=SEED)
    net = nn.MLP(64, [64, 10], activation="relu", seed=SEED)
    ref = NumpyMLP(net.state_dict())
    t_al = time_autograd_lite(d, net)
    t_np = time_numpy(d, ref)
    diff = max(float(np.abs(p.data - q).max()) for p, q in zip(net.parameters(), ref.params))
    with al.no_grad():
        acc_al = float(np.mean(net(d.X_test).data.argmax(axis=1) == d.y_test))
    acc_np = float(np.mean(ref.forward(d.X_test)[2].argmax(axis=1) == d.y_test))
    # the median epoch is robust to a first-epoch warm-up and to noisy neighbours
    per_al, per_np = float(np.median(t_al)), float(np.median(t_np))
    batches = len(al.data.Batches(d.X_train, batch_size=BATCH))
    print(f"digits MLP 64-64-10 relu, Adam, {EPOCHS} epochs of {batches} batches of {BATCH}")
    print(f"  autograd_lite   {per_al * 1e3:8.1f} ms/epoch   test accuracy {acc_al:.3f}")
    print(f"  hand numpy      {per_np * 1e3:8.1f} ms/epoch   test accuracy {acc_np:.3f}")
    print(f"  ratio           {per_al / per_np:8.2f}x  (autograd_lite / numpy)")
    print(f"  same network: max |weight difference| after training = {diff:.2e}")
    if diff > 1e-8:
        raise SystemExit("the two implementations diverged: the comparison is not like for like")


if __name__ == "__main__":
    main()
