"""Mini-batches: a small, seeded batching iterator over numpy arrays.

>>> import numpy as np
>>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
>>> [yb.tolist() for _, yb in Batches(X, y, batch_size=2, shuffle=False)]
[[0, 1], [2, 3], [4]]
>>> loader = Batches(X, y, batch_size=2, seed=0)
>>> len(loader), sorted(np.concatenate([yb for _, yb in loader]).tolist())
(3, [0, 1, 2, 3, 4])
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


class Batches:
    """Iterate over ``(X_batch, y_batch)`` pairs (or ``X_batch`` alone when ``y`` is None).

    Args:
        X: inputs, one example per row (first axis).
        y: targets with the same first-axis length, or None.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: draw a new random order at every pass (epoch).
        seed: seed of the shuffling generator (or an ``np.random.Generator``);
            the same seed gives the same sequence of epochs.
        drop_last: skip a final incomplete batch.

    Each iteration is one epoch; iterating again reshuffles.

    >>> import numpy as np
    >>> b = Batches(np.zeros((3, 2)), np.zeros(4))
    Traceback (most recent call last):
    ...
    ValueError: Batches: X has 3 examples (shape (3, 2)) but y has 4 (shape (4,))
    """

    def __init__(
        self,
        X: Any,
        y: Any = None,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: int | np.random.Generator | None = None,
        drop_last: bool = False,
    ) -> None:
        self.X = np.asarray(X)
        self.y = None if y is None else np.asarray(y)
        if self.X.ndim == 0:
            raise ValueError("Batches: X must have at least one axis (one example per row)")
        if self.y is not None and (self.y.ndim == 0 or len(self.y) != len(self.X)):
            raise ValueError(
                f"Batches: X has {len(self.X)} examples (shape {self.X.shape}) but y has "
                f"{len(self.y) if self.y.ndim else 0} (shape {self.y.shape})"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"Batches: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"Batches: batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __len__(self) -> int:
        n, b = len(self.X), self.batch_size
        return n // b if self.drop_last else -(-n // b)

    @property
    def n_examples(self) -> int:
        """Number of examples (rows of ``X``)."""
        return len(self.X)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.X)
        order = self.rng.permutation(n) if self.shuffle else None
        stop = (n // self.batch_size) * self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            if order is None:
                idx: Any = slice(start, start + self.batch_size)
            else:
                idx = order[start : start + self.batch_size]
            if self.y is None:
                yield self.X[idx]
            else:
                yield self.X[idx], self.y[idx]

    def __repr__(self) -> str:
        return (
            f"Batches({len(self.X)} examples, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, {len(self)} batches)"
        )


def batches(
    X: Any,
    y: Any = None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int | None = None,
) -> Iterator[Any]:
    """One pass (epoch) over the data in mini-batches; see :class:`Batches`.

    >>> import numpy as np
    >>> [xb.shape for xb in batches(np.zeros((5, 3)), batch_size=2, shuffle=False)]
    [(2, 3), (2, 3), (1, 3)]
    """
    return iter(Batches(X, y, batch_size=batch_size, shuffle=shuffle, seed=seed))


def one_hot(labels: Any, n_classes: int | None = None, dtype: Any = np.float64) -> np.ndarray:
    """Integer labels ``(m,)`` to one-hot rows ``(m, C)``.

    >>> one_hot([0, 2], 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    >>> one_hot([3], 3)
    Traceback (most recent call last):
    ...
    ValueError: one_hot: labels must be in [0, 3), got min 3, max 3
    """
    lab = np.asarray(labels)
    if lab.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {lab.dtype}")
    n = int(lab.max()) + 1 if n_classes is None else int(n_classes)
    if lab.size and (lab.min() < 0 or lab.max() >= n):
        raise ValueError(
            f"one_hot: labels must be in [0, {n}), got min {lab.min()}, max {lab.max()}"
        )
    out = np.zeros((*lab.shape, n), dtype=dtype)
    np.put_along_axis(out, lab[..., None], 1, axis=-1)
    return out
