"""Losses against closed forms and central finite differences; reductions; errors; stability."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def test_mse_closed_form_and_reductions(rng):
    p, t = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    assert nn.MSELoss()(p, t).data == pytest.approx(np.mean((p - t) ** 2))
    assert nn.MSELoss(reduction="sum")(p, t).data == pytest.approx(np.sum((p - t) ** 2))
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(p, t).data, (p - t) ** 2)
    pv = al.Value(p)
    nn.MSELoss()(pv, t).backward()
    np.testing.assert_allclose(pv.grad, 2 * (p - t) / p.size)


def test_half_squared_error_is_the_lectures_E(rng):
    y, t = rng.uniform(size=4), rng.uniform(size=4)
    yv = al.Value(y)
    E = nn.HalfSquaredError()(yv, t)
    assert E.data == pytest.approx(0.5 * np.sum((t - y) ** 2))
    E.backward()
    np.testing.assert_allclose(yv.grad, -(t - y))  # ∂E/∂y = −e
    assert nn.HalfSquaredError(reduction="mean")(y, t).data == pytest.approx(
        0.5 * np.mean((t - y) ** 2)
    )
    assert nn.HalfSquaredError().reduction == "sum"


def test_bce_closed_form_and_gradient(rng):
    p, t = rng.uniform(0.05, 0.95, size=6), rng.integers(0, 2, size=6).astype(float)
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    assert nn.BCELoss()(p, t).data == pytest.approx(expected.mean())
    np.testing.assert_allclose(nn.BCELoss(reduction="none")(p, t).data, expected)
    pv = al.Value(p)
    nn.BCELoss(reduction="sum")(pv, t).backward()
    np.testing.assert_allclose(pv.grad, (p - t) / (p * (1 - p)))


def test_bce_with_logits_equals_bce_of_sigmoid_and_gradient(rng):
    z, t = rng.normal(size=(4, 3)), rng.integers(0, 2, size=(4, 3)).astype(float)
    a = nn.BCEWithLogitsLoss()(z, t).data
    b = nn.BCELoss()(_sigmoid(z), t).data
    assert a == pytest.approx(b, rel=1e-12)
    zv = al.Value(z)
    nn.BCEWithLogitsLoss(reduction="sum")(zv, t).backward()
    np.testing.assert_allclose(zv.grad, _sigmoid(z) - t, rtol=1e-10)


def test_bce_with_logits_stable_for_huge_logits():
    z = al.Value(np.array([1e4, -1e4, 1e4, -1e4]))
    t = np.array([1.0, 0.0, 0.0, 1.0])
    L = nn.BCEWithLogitsLoss(reduction="none")(z, t)
    np.testing.assert_allclose(L.data, [0.0, 0.0, 1e4, 1e4])
    L.sum().backward()
    np.testing.assert_allclose(z.grad, [0.0, 0.0, 1.0, -1.0])


# 4 and 128 classes: the fused op's transposed layout; 129 and 300: its row layout
@pytest.mark.parametrize("classes", [4, 128, 129, 300])
def test_cross_entropy_closed_form_and_gradient(rng, classes):
    z = rng.normal(size=(5, classes)) * 3
    labels = np.array([0, classes - 1, 1, 1, 2])
    expected = -_log_softmax(z)[np.arange(5), labels]
    assert nn.CrossEntropyLoss()(z, labels).data == pytest.approx(expected.mean())
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(z, labels).data, expected)
    soft = np.exp(_log_softmax(z))
    onehot = np.eye(classes)[labels]
    for reduction, scale in (("sum", 1.0), ("mean", 1 / 5)):
        zv = al.Value(z)
        nn.CrossEntropyLoss(reduction=reduction)(zv, labels).backward()
        np.testing.assert_allclose(zv.grad, (soft - onehot) * scale, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("classes", [4, 128, 129, 300])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_softmax_of_a_batch_and_its_gradient_in_both_layouts(rng, classes, dtype):
    """Short rows go through a transposed copy and a BLAS row sum; long rows do not."""
    z = (rng.normal(size=(6, classes)) * 3).astype(dtype)
    c = rng.normal(size=(6, classes)).astype(dtype)
    zv = al.Value(z)
    out = zv.log_softmax(axis=1)
    assert out.dtype == dtype and out.data.flags.c_contiguous
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out.data, _log_softmax(z.astype(float)), rtol=tol, atol=tol)
    (out * c).sum().backward()
    soft = np.exp(_log_softmax(z.astype(float)))
    expected = c - soft * c.sum(axis=1, keepdims=True)  # d/dz of Σ c·log_softmax(z)
    np.testing.assert_allclose(zv.grad, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape", [(1, 4), (3, 1), (1, 1)])
def test_one_row_or_one_class_leaves_the_logits_alone(rng, shape):
    """A (1, C) or (m, 1) array transposes without a copy: the ops must copy anyway."""
    z = rng.normal(size=shape)
    zv = al.Value(z.copy())
    np.testing.assert_allclose(zv.log_softmax(axis=1).data, _log_softmax(z), atol=1e-12)
    loss = nn.CrossEntropyLoss()(zv, np.zeros(shape[0], dtype=int))
    assert loss.item() == pytest.approx(-_log_softmax(z)[:, 0].mean())
    loss.backward()
    np.testing.assert_array_equal(zv.data, z)


def test_cross_entropy_stable_for_logits_of_1e4():
    z = al.Value(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]))
    L = nn.CrossEntropyLoss(reduction="none")(z, [0, 0])
    assert np.all(np.isfinite(L.data))
    np.testing.assert_allclose(L.data, [0.0, 2e4 + np.log(2)], rtol=1e-12)
    L.sum().backward()
    assert np.all(np.isfinite(z.grad))
    np.testing.assert_allclose(z.grad, [[0, 0, 0], [-1, 0.5, 0.5]], atol=1e-12)


def test_cross_entropy_single_example_float_labels_and_soft_targets(rng):
    z = rng.normal(size=4)
    assert nn.CrossEntropyLoss()(z, 2).data == pytest.approx(-_log_softmax(z)[2])
    zb = rng.normal(size=(3, 4))
    whole = nn.CrossEntropyLoss()(zb, np.array([1.0, 0.0, 3.0])).data
    assert whole == pytest.approx(nn.CrossEntropyLoss()(zb, [1, 0, 3]).data)
    onehot = np.eye(4)[[1, 0, 3]]
    assert nn.CrossEntropyLoss()(zb, onehot).data == pytest.approx(whole)


LOSS_CASES = [
    (nn.MSELoss(), lambda r: r.normal(size=(3, 2))),
    (nn.HalfSquaredError(), lambda r: r.normal(size=(3, 2))),
    (nn.BCELoss(), lambda r: r.integers(0, 2, size=(3, 2)).astype(float)),
    (nn.BCEWithLogitsLoss(), lambda r: r.integers(0, 2, size=(3, 2)).astype(float)),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(("loss", "make_target"), LOSS_CASES, ids=lambda x: type(x).__name__)
def test_elementwise_losses_gradcheck(loss, make_target, reduction, rng):
    fn = type(loss)(reduction=reduction)
    target = make_target(rng)
    pred = (
        rng.uniform(0.1, 0.9, size=(3, 2))
        if isinstance(loss, nn.BCELoss)
        else rng.normal(size=(3, 2))
    )
    assert al.gradcheck(lambda p: fn(p, target), al.Value(pred))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck(reduction, rng):
    fn = nn.CrossEntropyLoss(reduction=reduction)
    assert al.gradcheck(lambda z: fn(z, [2, 0, 1, 2]), al.Value(rng.normal(size=(4, 3))))
    assert al.gradcheck(lambda z: fn(z, np.eye(3)[[0, 1, 1, 2]]), al.Value(rng.normal(size=(4, 3))))


def test_losses_train_a_network_end_to_end(rng):
    """Gradient flows from each loss into the parameters of a net (finite differences)."""
    net = nn.MLP(3, [4, 2], activation="tanh", seed=0)
    X = rng.normal(size=(5, 3))
    labels = np.array([0, 1, 1, 0, 1])
    assert al.gradcheck(lambda *ps: nn.CrossEntropyLoss()(net(X), labels), *net.parameters())


def test_shape_errors_name_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"MSELoss: prediction has shape \(4, 1\) but target has "
        r"shape \(4,\)",
    ):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: prediction has shape \(2,\)"):
        nn.BCEWithLogitsLoss()(np.zeros(2), np.zeros(3))


def test_cross_entropy_label_errors():
    ce = nn.CrossEntropyLoss()
    with pytest.raises(
        ValueError,
        match=r"label 3 is out of range for 3 classes \(logits of "
        r"shape \(2, 3\)\)",
    ):
        ce(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="label -1 is out of range"):
        ce(np.zeros((2, 3)), [0, -1])
    z = al.Value(np.zeros((2, 3)))  # a Value and an integer array: the step's fast path
    for labels, message in (
        ([0, 3], r"label 3 is out of range for 3 classes"),
        ([-1, 0], "label -1 is out of range"),
        ([0, 1, 2], r"need integer labels of shape \(2,\), got labels of shape \(3,\)"),
    ):
        with pytest.raises(ValueError, match=message):
            ce(z, np.array(labels))
    with pytest.raises(
        ValueError,
        match=r"logits of shape \(2, 3\) need integer labels of shape "
        r"\(2,\), got labels of shape \(3,\)",
    ):
        ce(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match=r"labels must be whole numbers.*0\.5"):
        ce(np.zeros((2, 3)), [0.5, 1.0])
    with pytest.raises(TypeError, match="labels must be integers, got dtype <U1"):
        ce(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ValueError, match=r"logits must have shape \(m, C\) or \(C,\), got shape"):
        ce(np.zeros((2, 3, 4)), [0, 1])


def test_bce_rejects_non_probabilities_and_bad_reduction():
    with pytest.raises(
        ValueError,
        match=r"BCELoss: predictions must be probabilities in \[0, 1\], "
        r"got values in \[-0.5, 0.5\]",
    ):
        nn.BCELoss()([-0.5, 0.5], [0.0, 1.0])
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="average")
    assert repr(nn.MSELoss()) == "MSELoss(reduction='mean')"


def test_float32_loss_stays_float32(rng):
    z = al.Value(rng.normal(size=(4, 3)).astype(np.float32))
    L = nn.CrossEntropyLoss()(z, [0, 1, 2, 0])
    L.backward()
    assert np.asarray(L.data).dtype == np.float32 and z.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.uint64, float])
def test_the_fused_op_refuses_labels_out_of_range_in_every_integer_dtype(dtype):
    """One max() over the labels read as unsigned catches negative and too-large labels."""
    z = al.Value(np.zeros((3, 4)))
    assert al.cross_entropy(z, np.array([0, 3, 1], dtype=dtype)).item() == pytest.approx(np.log(4))
    bad = [[0, 4, 1]] + ([[0, -1, 1], [-128, 0, 0]] if np.dtype(dtype).kind in "if" else [])
    for labels in bad:
        with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\]"):
            al.cross_entropy(z, np.array(labels, dtype=dtype))
    assert z.grad.tolist() == np.zeros((3, 4)).tolist()  # nothing recorded, nothing flowed


def test_cross_entropy_backward_is_right_when_another_forward_came_in_between(rng):
    # the op keeps only the latest forward's softmax for its backward; the older one
    # must compute its own
    y1, y2 = [0, 2, 1], [1, 1, 0]

    def two_losses(z, older_first):
        older = al.cross_entropy(z * 2.0, y1)
        newer = al.cross_entropy(z - 1.0, y2, "sum")
        return older + newer if older_first else newer + older  # either backward order

    for older_first in (True, False):
        z = al.Value(rng.normal(size=(3, 3)))
        assert al.gradcheck(lambda z, first=older_first: two_losses(z, first), z)


@pytest.mark.parametrize("classes", [10, 300])
def test_cross_entropy_of_one_logits_array_against_two_label_sets(rng, classes):
    """The backward reuses the forward's softmax and label positions only for the same
    logits AND the same labels: two losses of one array of logits each get their own."""
    z_ = rng.normal(size=(6, classes))
    y1, y2 = rng.integers(0, classes, 6), rng.integers(0, classes, 6)
    z = al.Value(z_)
    (al.cross_entropy(z, y1) + al.cross_entropy(z, y2, "sum")).backward()
    soft = np.exp(_log_softmax(z_))
    eye = np.eye(classes)
    np.testing.assert_allclose(z.grad, (soft - eye[y1]) / 6 + (soft - eye[y2]), rtol=1e-10)


@pytest.mark.parametrize("classes", [10, 200])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint64])
def test_cross_entropy_with_small_integer_labels_over_a_large_batch(rng, dtype, classes):
    """Label positions are computed in intp: label * batch overflows in the labels' dtype
    (and intp + uint64 would be float64)."""
    n = 300
    z_ = rng.normal(size=(n, classes)).astype(np.float32)
    labels = rng.integers(0, min(classes, 127), n).astype(dtype)
    z = al.Value(z_)
    loss = al.cross_entropy(z, labels)
    loss.backward()
    logp = _log_softmax(z_.astype(np.float64))
    assert loss.item() == pytest.approx(-logp[np.arange(n), labels.astype(int)].mean(), rel=1e-5)
    onehot = np.eye(classes)[labels.astype(int)]
    np.testing.assert_allclose(z.grad, (np.exp(logp) - onehot) / n, rtol=1e-4, atol=1e-7)


def test_bce_at_exact_zero_and_one_is_clamped_as_pytorch():
    # 0·log 0 made the right class's loss nan; PyTorch clamps each log at -100
    p = al.Value(np.array([0.0, 1.0, 0.0, 1.0, 0.25]))
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    loss = nn.BCELoss(reduction="none")(p, t)
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 100.0, 100.0, -np.log(0.25)], rtol=1e-3)
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))
    assert p.grad[4] == pytest.approx(-1 / 0.25)  # inside (0, 1) the gradient is -t/p + (1-t)/(1-p)
    assert nn.BCELoss()(np.zeros(3), np.zeros(3)).data == 0.0
