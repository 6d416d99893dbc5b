"""Gradient descent on a sigmoid perceptron: the lecture's delta rule next to backward().

For one perceptron j with output y = σ(A), A = w·x + b and loss E = ½ e², e = ŷ − y,
the chain rule gives

    ∂E/∂w_i = ∂E/∂e · ∂e/∂y · ∂y/∂A · ∂A/∂w_i = e · (−1) · y(1 − y) · x_i = δ x_i,
    δ = −e (1 − y) y,

and the update Δw_i = −η δ x_i. Here the perceptron learns the swimming decisions
of the step perceptron (all eight input combinations), one example at a time, and
every step prints the hand-derived gradient next to the one ``backward()`` computed.

Run it::

    python examples/delta_rule.py
"""

from __future__ import annotations

import itertools

import numpy as np

import autograd_lite as al


def swimming_data() -> tuple[np.ndarray, np.ndarray]:
    """All eight inputs and the decisions of the lecture's step perceptron (w=[4,2,4], b=−3)."""
    X = np.array(list(itertools.product((0.0, 1.0), repeat=3)))
    targets = (X @ np.array([4.0, 2.0, 4.0]) - 3.0 >= 0).astype(float)
    return X, targets


def main(
    epochs: int = 30, eta: float = 0.5, seed: int = 0, show: int = 4, verbose: bool = True
) -> dict:
    """Train with the delta rule; return the largest |engine − delta rule| and the losses."""
    X, targets = swimming_data()
    rng = np.random.default_rng(seed)
    w = al.Value(rng.normal(scale=0.5, size=3), label="w")
    b = al.Value(0.0, label="b")
    worst = 0.0
    losses = []
    if verbose:
        print("step | x        | δ·x (lecture)                  | w.grad (backward)")
    step = 0
    for _epoch in range(epochs):
        total = 0.0
        for x_i, target in zip(X, targets):
            x = al.Value(x_i, label="x", requires_grad=False)
            A = w @ x + b
            y = A.sigmoid()
            e = target - y
            E = 0.5 * e**2
            w.zero_grad()
            b.zero_grad()
            E.backward()
            yv, ev = float(y.data), float(e.data)
            delta = -ev * (1.0 - yv) * yv
            by_hand = delta * x_i + 0.0  # (+ 0.0 turns −0 into 0 for printing)
            worst = max(worst, float(np.max(np.abs(by_hand - w.grad))), abs(delta - b.grad))
            if verbose and step < show:
                print(
                    f"{step:4d} | {x_i.astype(int)} | {np.array2string(by_hand, precision=5):30s}"
                    f" | {np.array2string(w.grad, precision=5)}"
                )
            w.data = w.data - eta * w.grad  # Δw = −η δ x
            b.data = b.data - eta * b.grad
            total += float(E.data)
            step += 1
        losses.append(total)
    with al.no_grad():
        predictions = (al.Value(X) @ w + b).sigmoid().data
    accuracy = float(np.mean((predictions >= 0.5) == (targets == 1.0)))
    if verbose:
        print(f"... {step} steps; largest |δ·x − w.grad| = {worst:.2e}")
        print(f"summed loss per epoch: first {losses[0]:.4f}, last {losses[-1]:.4f}")
        print(f"learned w = {np.round(w.data, 3)}, b = {b.data:.3f}; accuracy {accuracy:.0%}")
    return {"max_difference": worst, "losses": losses, "accuracy": accuracy}


if __name__ == "__main__":
    main()
