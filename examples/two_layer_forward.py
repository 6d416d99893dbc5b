"""Forward propagation through the lecture's 2-layer perceptron (3 inputs, 4 hidden, 1 output).

The lecture first writes the forward pass for one example, node by node::

    z1_j = w1_j · x + b1_j,   a1_j = φ(z1_j)      (j = 1..4, layer 1)
    z2   = w2 · a1 + b2,      y    = φ(z2)         (layer 2)

and then *vectorises* it over m training examples by stacking them as the columns
of X (shape 3 × m): Z1 = W1 X + b1 is 4 × m, A1 = φ(Z1), Z2 = W2 A1 + b2 is 1 × m.
This script does both with autograd_lite and checks that they agree — values and
gradients of the summed output.

Run it::

    python examples/two_layer_forward.py
"""

from __future__ import annotations

import numpy as np

import autograd_lite as al


def make_params(seed: int = 0) -> dict[str, np.ndarray]:
    """Random weights in the lecture's shapes: W1 (4, 3), b1 (4,), W2 (1, 4), b2 (1,)."""
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(size=(4, 3)),
        "b1": rng.normal(size=4),
        "W2": rng.normal(size=(1, 4)),
        "b2": rng.normal(size=1),
    }


def forward_vectorised(X: np.ndarray, p: dict[str, al.Value]) -> al.Value:
    """All m examples at once: X has one example per column (3 × m); returns 1 × m."""
    Xv = al.Value(X, label="X", requires_grad=False)
    Z1 = p["W1"] @ Xv + p["b1"].reshape(4, 1)  # 4 × m: column i is example i
    A1 = Z1.sigmoid()
    Z2 = p["W2"] @ A1 + p["b2"].reshape(1, 1)  # 1 × m
    return Z2.sigmoid()


def forward_one(x: np.ndarray, p: dict[str, al.Value]) -> al.Value:
    """One example, one hidden node at a time, as on the lecture slide."""
    xv = al.Value(x, label="x", requires_grad=False)
    hidden = []
    for j in range(4):
        z1_j = p["W1"][j] @ xv + p["b1"][j]
        hidden.append(z1_j.sigmoid())
    z2 = p["b2"][0]
    for j in range(4):
        z2 = z2 + p["W2"][0, j] * hidden[j]
    return z2.sigmoid()


def main(m: int = 5, seed: int = 0, verbose: bool = True) -> dict:
    """Compare the vectorised and the per-example forward pass (and their gradients)."""
    raw = make_params(seed)
    X = np.random.default_rng(seed + 1).normal(size=(3, m))

    pv = {k: al.Value(v, label=k) for k, v in raw.items()}
    Y = forward_vectorised(X, pv)
    Y.sum().backward()

    pl = {k: al.Value(v, label=k) for k, v in raw.items()}
    looped = []
    for i in range(m):
        y_i = forward_one(X[:, i], pl)
        y_i.backward()  # gradients accumulate over the examples
        looped.append(float(y_i.data))
    looped = np.array(looped)

    value_error = float(np.max(np.abs(Y.data[0] - looped)))
    grad_error = max(float(np.max(np.abs(pv[k].grad - pl[k].grad))) for k in raw)
    if verbose:
        print(f"X (3 × {m}), one example per column:\n{X}")
        print(f"vectorised  y = {np.round(Y.data[0], 6)}")
        print(f"per-example y = {np.round(looped, 6)}")
        print(f"largest difference: values {value_error:.2e}, gradients {grad_error:.2e}")
    return {
        "vectorised": Y.data[0],
        "looped": looped,
        "value_error": value_error,
        "grad_error": grad_error,
    }


if __name__ == "__main__":
    main()
