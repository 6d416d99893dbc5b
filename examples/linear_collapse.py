"""Why stacked linear layers collapse into one.

Without activation functions every layer computes a linear map, and the lecture shows

    a2 = W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2) = W x + b

so any number of linear layers is one linear layer. This script checks that
numerically for a deep stack, then trains such a stack by gradient descent on XOR:
it can never get below the best *linear* fit (mean squared error 0.25, the
prediction 0.5 everywhere), while one tanh hidden layer of the same width can.

Run it::

    python examples/linear_collapse.py
"""

from __future__ import annotations

import itertools

import numpy as np

import autograd_lite as al

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def collapse(depth: int = 4, width: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """Multiply out ``depth`` random linear layers; return (W, b, max |stack(x) - (W x + b)|)."""
    rng = np.random.default_rng(seed)
    layers = [(rng.normal(size=(width, width)), rng.normal(size=width)) for _ in range(depth)]
    W, b = np.eye(width), np.zeros(width)
    for Wi, bi in layers:  # a_{k} = Wi a_{k-1} + bi  =>  (Wi W) x + (Wi b + bi)
        W, b = Wi @ W, Wi @ b + bi
    x = al.Value(rng.normal(size=(width, 7)), requires_grad=False)  # 7 inputs as columns
    a = x
    for Wi, bi in layers:
        a = al.Value(Wi) @ a + al.Value(bi).reshape(width, 1)
    error = float(np.max(np.abs(a.data - (W @ x.data + b[:, None]))))
    return W, b, error


def train_xor(
    activation: str | None,
    depth: int = 3,
    width: int = 4,
    epochs: int = 2000,
    lr: float = 0.1,
    seed: int = 0,
) -> float:
    """Full-batch gradient descent on XOR; returns the final mean squared error."""
    rng = np.random.default_rng(seed)
    sizes = [2] + [width] * (depth - 1) + [1]
    params = []
    for nin, nout in itertools.pairwise(sizes):
        W = al.Value(rng.normal(scale=1.0 / np.sqrt(nin), size=(nout, nin)), label="W")
        b = al.Value(np.zeros(nout), label="b")
        params.append((W, b))
    X = al.Value(XOR_X, requires_grad=False)
    loss = None
    for _ in range(epochs):
        a = X
        for i, (W, b) in enumerate(params):
            a = a @ W.T + b
            if activation is not None and i < len(params) - 1:
                a = getattr(a, activation)()
        loss = ((a.reshape(4) - XOR_Y) ** 2).mean()
        for W, b in params:
            W.zero_grad()
            b.zero_grad()
        loss.backward()
        for W, b in params:
            W.data = W.data - lr * W.grad
            b.data = b.data - lr * b.grad
    return float(loss.data)


def main(depth: int = 4, epochs: int = 2000, seed: int = 0, verbose: bool = True) -> dict:
    """Show the collapse, then compare a linear stack with a tanh network on XOR."""
    _, _, error = collapse(depth=depth, seed=seed)
    linear_mse = train_xor(None, depth=3, epochs=epochs, seed=seed)
    tanh_mse = train_xor("tanh", depth=3, epochs=epochs, seed=seed)
    if verbose:
        print(f"{depth} stacked linear layers == one layer W x + b: max difference {error:.2e}")
        print(
            f"XOR, 3 linear layers, {epochs} epochs: MSE {linear_mse:.4f} "
            "(the best any linear model can do is 0.25)"
        )
        print(f"XOR, same width with tanh hidden layers:  MSE {tanh_mse:.4f}")
    return {"collapse_error": error, "linear_mse": linear_mse, "tanh_mse": tanh_mse}


if __name__ == "__main__":
    main()
