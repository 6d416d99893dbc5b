"""Batching iterator and the scikit-learn dataset loaders (bundled files, no network)."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_lite import data, datasets


def test_batches_cover_every_example_once_per_epoch():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    loader = data.Batches(X, y, batch_size=3, seed=0)
    assert len(loader) == 4 and loader.n_examples == 10
    for _ in range(2):
        seen = []
        for xb, yb in loader:
            np.testing.assert_array_equal(xb[:, 0] / 2, yb)  # rows stay paired
            seen.extend(yb.tolist())
        assert sorted(seen) == list(range(10))
        assert [len(yb) for _, yb in loader] == [3, 3, 3, 1]


def test_shuffle_is_seeded_and_changes_between_epochs():
    X = np.arange(50.0)
    a = data.Batches(X, batch_size=7, seed=1)
    b = data.Batches(X, batch_size=7, seed=1)
    e1a, e2a = np.concatenate(list(a)), np.concatenate(list(a))
    e1b, e2b = np.concatenate(list(b)), np.concatenate(list(b))
    np.testing.assert_array_equal(e1a, e1b)
    np.testing.assert_array_equal(e2a, e2b)
    assert not np.array_equal(e1a, e2a)
    assert not np.array_equal(e1a, X)
    c = data.Batches(X, batch_size=7, seed=2)
    assert not np.array_equal(np.concatenate(list(c)), e1a)


def test_no_shuffle_and_drop_last():
    X = np.arange(7.0)
    loader = data.Batches(X, batch_size=3, shuffle=False, drop_last=True)
    assert len(loader) == 2
    assert [b.tolist() for b in loader] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert [b.shape for b in data.batches(np.zeros((5, 2)), batch_size=5)] == [(5, 2)]
    assert "7 examples, batch_size=3" in repr(loader)


def test_batches_errors():
    with pytest.raises(ValueError, match=r"X has 3 examples \(shape \(3,\)\) but y has 2"):
        data.Batches(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        data.Batches(np.zeros(3), batch_size=0)
    with pytest.raises(TypeError, match=r"batch_size must be an int, got 2\.5"):
        data.Batches(np.zeros(3), batch_size=2.5)
    with pytest.raises(ValueError, match="X must have at least one axis"):
        data.Batches(np.float64(1.0))


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    assert data.one_hot([1, 3]).shape == (2, 4)
    with pytest.raises(TypeError, match="labels must be integers, got dtype float64"):
        data.one_hot([0.5])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\), got min -1"):
        data.one_hot([-1, 1], 2)


@pytest.mark.parametrize(
    ("loader", "n", "features", "classes"),
    [
        (datasets.load_digits, 1797, 64, 10),
        (datasets.load_iris, 150, 4, 3),
        (datasets.load_breast_cancer, 569, 30, 2),
    ],
)
def test_loaders_split_and_standardize(loader, n, features, classes):
    d = loader(test_size=0.25, seed=3)
    X_train, X_test, y_train, y_test = d
    assert len(X_train) + len(X_test) == n
    assert len(X_test) == pytest.approx(0.25 * n, abs=1)
    assert X_train.shape[1] == d.n_features == features
    assert d.n_classes == classes and set(np.unique(y_train)) == set(range(classes))
    assert y_train.dtype == np.int64
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-10)
    std = X_train.std(axis=0)
    np.testing.assert_allclose(std[std > 0], 1, rtol=1e-10)
    # the test set uses the training statistics, not its own
    raw = loader(test_size=0.25, seed=3, standardize=False)
    np.testing.assert_allclose(d.mean, raw.X_train.mean(axis=0))
    np.testing.assert_allclose(X_test, (raw.X_test - d.mean) / d.scale)
    assert not np.allclose(X_test.mean(axis=0), 0, atol=1e-3)
    # stratified: class proportions are close in both parts
    p_train = np.bincount(y_train) / len(y_train)
    p_test = np.bincount(y_test, minlength=classes) / len(y_test)
    np.testing.assert_allclose(p_train, p_test, atol=0.05)
    assert repr(d).startswith(f"Dataset('{loader.__name__[5:]}'")


def test_loader_seed_dtype_and_raw_values():
    a, b = datasets.load_iris(seed=1), datasets.load_iris(seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, datasets.load_iris(seed=2).X_train)
    raw = datasets.load_digits(standardize=False, dtype=np.float32)
    assert raw.X_train.dtype == np.float32 and raw.X_train.max() == 16.0
    assert raw.mean is None


def test_loader_errors():
    with pytest.raises(ValueError, match="load_iris: test_size must be a fraction in"):
        datasets.load_iris(test_size=1.5)
    with pytest.raises(TypeError, match="load_digits: dtype must be float32 or float64, got int32"):
        datasets.load_digits(dtype=np.int32)


def test_hold_out_is_disjoint_stratified_and_leaves_the_test_split_alone():
    d = datasets.load_digits(seed=0)
    test_before = d.X_test.copy()
    X_fit, X_val, _, y_val = datasets.hold_out(d.X_train, d.y_train, 0.2, seed=1)
    assert len(X_fit) + len(X_val) == len(d.X_train)
    rows = {r.tobytes() for r in X_fit}
    assert not any(r.tobytes() in rows for r in X_val)  # no example in both parts
    assert set(np.unique(y_val)) == set(range(10))  # every class is represented
    np.testing.assert_array_equal(d.X_test, test_before)
    assert datasets.hold_out(d.X_train, d.y_train, 0.0)[1] is None


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 2])
def test_hold_out_rejects_fractions_outside_0_1(fraction):
    d = datasets.load_iris(seed=0)
    with pytest.raises(ValueError, match="hold_out: fraction"):
        datasets.hold_out(d.X_train, d.y_train, fraction)


def test_hold_out_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="10 rows but y has 9"):
        datasets.hold_out(np.zeros((10, 2)), np.zeros(9), 0.2)
