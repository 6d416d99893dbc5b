"""Classify handwritten digits with a multi-layer perceptron.

scikit-learn's bundled digits: 1,797 images of 8×8 pixels (64 features), 10 classes.
A ``64 → hidden → 10`` MLP with ReLU hidden layers, trained on mini-batches with Adam
and the cross-entropy loss on softmax outputs — the lecture's recipe for multiclass
classification (softmax output) — then evaluated on digits it never saw. The loss and
accuracy curves go to a PNG.

Run it::

    python examples/digits.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd_lite as al
from autograd_lite import datasets, nn, optim


def main(
    epochs: int = 20,
    hidden: tuple[int, ...] = (64,),
    lr: float = 0.01,
    batch_size: int = 64,
    n_train: int | None = None,
    seed: int = 0,
    plot: str | Path | None = "digits_history.png",
    progress: bool = True,
    verbose: bool = True,
) -> dict:
    """Train and evaluate; return the test accuracy, the history and the confusion matrix."""
    data = datasets.load_digits(seed=seed)
    # the test split is for the final figure only; the curves are drawn on a validation
    # part held out of the training digits
    X, X_val, y, y_val = datasets.hold_out(data.X_train, data.y_train, 0.1, seed=seed)
    if n_train is not None:
        X, y = X[:n_train], y[:n_train]
    net = nn.MLP(64, [*hidden, 10], activation="relu", seed=seed)
    loss = nn.CrossEntropyLoss()  # softmax + cross-entropy, numerically stable
    history = al.fit(
        net,
        loss,
        optim.Adam(net.parameters(), lr=lr),
        (X, y),
        epochs=epochs,
        batch_size=batch_size,
        validation=(X_val, y_val),
        progress=progress,
        seed=seed,
    )
    with al.no_grad():
        predicted = np.argmax(net(data.X_test).data, axis=1)
    accuracy = float(np.mean(predicted == data.y_test))
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (data.y_test, predicted), 1)
    if plot is not None:
        al.plot_history(history, plot)
    if verbose:
        print(net)
        print(f"test accuracy on {len(data.y_test)} unseen digits: {accuracy:.4f}")
        print("confusion matrix (rows: true digit, columns: predicted):")
        print(confusion)
        if plot is not None:
            print(f"wrote {plot}")
    return {"test_accuracy": accuracy, "history": history, "confusion": confusion}


if __name__ == "__main__":
    main()
