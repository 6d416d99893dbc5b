"""Small real datasets from scikit-learn's bundled files (no network), ready to train on.

Each loader returns a :class:`Dataset` with a seeded, stratified train/test
split, standardized with the *training* mean and standard deviation (features
that are constant in the training set are left centred, not divided by 0).

* ``load_digits``: 1,797 handwritten digits, 8×8 pixels = 64 features, 10 classes.
* ``load_iris``: 150 flowers, 4 features, 3 classes.
* ``load_breast_cancer``: 569 tumours, 30 features, 2 classes (0 malignant, 1 benign).

>>> from autograd_lite import datasets
>>> d = datasets.load_iris(seed=0)
>>> d.X_train.shape, d.X_test.shape, d.n_classes
((120, 4), (30, 4), 3)
>>> X_train, X_test, y_train, y_test = d        # unpacks like train_test_split
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Dataset:
    """A train/test split: arrays plus names. Unpacks as ``X_train, X_test, y_train, y_test``."""

    name: str
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: list[str] = field(default_factory=list)
    target_names: list[str] = field(default_factory=list)
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return len(self.target_names)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: {len(self.X_train)} train / {len(self.X_test)} test, "
            f"{self.n_features} features, {self.n_classes} classes)"
        )


def _load(
    name: str,
    loader_name: str,
    test_size: float,
    seed: int | None,
    standardize: bool,
    dtype: Any,
) -> Dataset:
    if not 0 < test_size < 1:
        raise ValueError(f"load_{name}: test_size must be a fraction in (0, 1), got {test_size!r}")
    dt = np.dtype(dtype)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"load_{name}: dtype must be float32 or float64, got {dt}")
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    bunch = getattr(sklearn.datasets, loader_name)()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target, dtype=np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=y
    )
    mean = scale = None
    if standardize:
        mean = X_train.mean(axis=0)
        scale = X_train.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        X_train = (X_train - mean) / scale
        X_test = (X_test - mean) / scale
    feature_names = [str(f) for f in getattr(bunch, "feature_names", [])]
    target_names = [str(t) for t in bunch.target_names]
    return Dataset(
        name,
        X_train.astype(dt),
        X_test.astype(dt),
        y_train,
        y_test,
        feature_names,
        target_names,
        mean,
        scale,
    )


def load_digits(
    test_size: float = 0.2, seed: int | None = 0, standardize: bool = True, dtype: Any = np.float64
) -> Dataset:
    """Handwritten digits 0-9 (8×8 images flattened to 64 features).

    >>> d = load_digits(seed=0)
    >>> d.X_train.shape, d.y_train.dtype, d.n_classes
    ((1437, 64), dtype('int64'), 10)
    """
    return _load("digits", "load_digits", test_size, seed, standardize, dtype)


def load_iris(
    test_size: float = 0.2, seed: int | None = 0, standardize: bool = True, dtype: Any = np.float64
) -> Dataset:
    """Fisher's iris flowers: 4 measurements, 3 species.

    >>> load_iris(seed=0).target_names
    ['setosa', 'versicolor', 'virginica']
    """
    return _load("iris", "load_iris", test_size, seed, standardize, dtype)


def load_breast_cancer(
    test_size: float = 0.2, seed: int | None = 0, standardize: bool = True, dtype: Any = np.float64
) -> Dataset:
    """Wisconsin breast-cancer diagnosis: 30 features, binary target.

    >>> d = load_breast_cancer(seed=0, dtype="float32")
    >>> d.X_train.dtype, d.n_features, d.target_names
    (dtype('float32'), 30, ['malignant', 'benign'])
    """
    return _load("breast_cancer", "load_breast_cancer", test_size, seed, standardize, dtype)


def hold_out(
    X: Any, y: Any, fraction: float = 0.1, seed: int | None = 0
) -> tuple[Any, Any, Any, Any]:
    """Split ``fraction`` of a training set off for validation, stratified when it can be.

    The test split stays untouched for the final figure; choose epochs, sizes and
    learning rates on the validation part this returns. Returns
    ``X_fit, X_val, y_fit, y_val`` (``X_val`` and ``y_val`` are None for fraction 0).

    >>> d = load_digits(seed=0)
    >>> X_fit, X_val, y_fit, y_val = hold_out(d.X_train, d.y_train, 0.1)
    >>> len(X_fit), len(X_val), len(d.X_test)
    (1293, 144, 360)
    """
    if not 0 <= fraction < 1:
        raise ValueError(f"hold_out: fraction must be in [0, 1), got {fraction!r}")
    if len(X) != len(y):
        raise ValueError(f"hold_out: X has {len(X)} rows but y has {len(y)}")
    if fraction == 0:
        return X, None, y, None
    n_val = int(np.ceil(fraction * len(X)))
    if n_val >= len(X):
        raise ValueError(
            f"hold_out: holding out {n_val} of {len(X)} examples leaves none to train on"
        )
    from sklearn.model_selection import train_test_split

    counts = np.unique(y, return_counts=True)[1]
    stratify = y if counts.min() >= 2 and len(counts) <= n_val <= len(X) - len(counts) else None
    X_fit, X_val, y_fit, y_val = train_test_split(
        X, y, test_size=n_val, random_state=seed, stratify=stratify
    )
    return X_fit, X_val, y_fit, y_val
