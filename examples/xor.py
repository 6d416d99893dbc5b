"""XOR with a 2-layer network: what one perceptron cannot do, two layers can.

XOR is not linearly separable, so no single perceptron (and no stack of linear layers,
see ``linear_collapse.py``) can compute it. A hidden layer with a non-linear activation
can. This script trains ``nn.MLP(2, [hidden, 1], activation="tanh", output="sigmoid")``
by full-batch gradient descent on the lecture's loss E = ½ Σ (ŷ − y)².

Run it::

    python examples/xor.py
"""

from __future__ import annotations

import numpy as np

import autograd_lite as al
from autograd_lite import nn, optim

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = np.array([[0.0], [1.0], [1.0], [0.0]])


def main(
    hidden: int = 4,
    epochs: int = 1000,
    lr: float = 0.5,
    activation: str = "tanh",
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Train on the four XOR points; return predictions, losses and whether XOR is solved."""
    net = nn.MLP(2, [hidden, 1], activation=activation, output="sigmoid", seed=seed)
    loss_fn = nn.HalfSquaredError()  # E = ½ Σ (ŷ − y)², as in the lecture
    opt = optim.SGD(net.parameters(), lr=lr)
    losses = []
    for epoch in range(epochs):
        opt.zero_grad()
        loss = loss_fn(net(X), TARGETS)
        loss.backward()
        opt.step()
        losses.append(float(loss.data))
        if verbose and (epoch + 1) % max(1, epochs // 5) == 0:
            print(f"epoch {epoch + 1:5d}  E = {losses[-1]:.5f}")
    with al.no_grad():
        predictions = net(X).data.ravel()
    solved = bool(np.all((predictions >= 0.5) == (TARGETS.ravel() == 1.0)))
    if verbose:
        for x, p in zip(X, predictions):
            print(f"  x = {x.astype(int)}  ->  y = {p:.3f}  (XOR = {int(x[0]) ^ int(x[1])})")
        print("XOR solved" if solved else "not solved yet: try more epochs or another seed")
    return {"predictions": predictions, "losses": losses, "solved": solved}


if __name__ == "__main__":
    main()
