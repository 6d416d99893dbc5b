"""fit / History / plot_history: learning real data fast, validation, schedules, errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim
from autograd_lite.training import History, accuracy, evaluate


@pytest.fixture(scope="module")
def digits():
    return al.datasets.load_digits(seed=0)


def test_digits_mlp_reaches_97_percent_test_accuracy(digits):
    net = nn.MLP(64, [64, 10], activation="relu", seed=0)
    start = time.perf_counter()
    hist = al.fit(
        net,
        nn.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=3e-3),
        (digits.X_train, digits.y_train),
        epochs=15,
        batch_size=32,
        validation=(digits.X_test, digits.y_test),
        progress=False,
        seed=0,
    )
    elapsed = time.perf_counter() - start
    test = evaluate(net, nn.CrossEntropyLoss(), digits.X_test, digits.y_test)
    assert test["accuracy"] >= 0.97
    assert hist.val_accuracy[-1] == pytest.approx(test["accuracy"])
    assert hist.loss[-1] < hist.loss[0] / 5
    assert elapsed < 20  # tensor graphs per batch: about a second on a laptop


def test_fit_is_reproducible_with_seed(digits):
    def run():
        net = nn.MLP(64, [16, 10], seed=1)
        h = al.fit(
            net,
            nn.CrossEntropyLoss(),
            optim.SGD(net.parameters(), lr=0.05),
            (digits.X_train[:300], digits.y_train[:300]),
            epochs=2,
            progress=False,
            seed=4,
        )
        return h.loss, net.state_dict()

    (la, sa), (lb, sb) = run(), run()
    assert la == lb
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k])


def test_fit_float32_keeps_float32():
    d = al.datasets.load_iris(seed=0, dtype=np.float32)
    net = nn.MLP(4, [8, 3], seed=0, dtype=np.float32)
    hist = al.fit(
        net,
        nn.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=0.05),
        (d.X_train, d.y_train),
        epochs=30,
        progress=False,
        seed=0,
    )
    assert all(p.data.dtype == np.float32 for p in net.parameters())
    assert np.asarray(net(d.X_test).data).dtype == np.float32
    assert hist.accuracy[-1] > 0.9


def test_fit_binary_with_logits_regression_and_scheduler():
    d = al.datasets.load_breast_cancer(seed=0)
    net = nn.MLP(30, [8, 1], seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    hist = al.fit(
        net,
        nn.BCEWithLogitsLoss(),
        opt,
        (d.X_train, d.y_train),
        epochs=6,
        validation=(d.X_test, d.y_test),
        progress=False,
        seed=0,
        scheduler=optim.StepLR(opt, step_size=2, gamma=0.5),
    )
    assert hist.lr == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert hist.val_accuracy[-1] > 0.93  # thresholds logits at 0
    # regression: no accuracy; a callable schedule sets lr before each epoch
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3
    lin = nn.Linear(3, 1, seed=0)
    hist = al.fit(
        lin,
        nn.MSELoss(),
        optim.SGD(lin.parameters(), lr=0.1),
        (X, y),
        epochs=30,
        progress=False,
        seed=0,
        scheduler=lambda epoch: 0.1 / (1 + epoch),
    )
    assert "accuracy" not in hist and hist.lr[3] == pytest.approx(0.025)
    np.testing.assert_allclose(lin.weight.data[0], [1.0, -2.0, 0.5], atol=0.05)
    assert hist.loss[-1] < 1e-2


def test_fit_accepts_a_loader_and_custom_metric(digits):
    net = nn.MLP(64, [10], seed=0)
    loader = al.data.Batches(digits.X_train[:200], digits.y_train[:200], batch_size=50, seed=0)

    def top2(out, tgt):
        return float(np.mean([t in np.argsort(o)[-2:] for o, t in zip(out, tgt)]))

    hist = al.fit(
        net,
        nn.CrossEntropyLoss(),
        optim.Adam(net.parameters(), lr=0.01),
        loader,
        epochs=3,
        metrics=top2,
        progress=False,
    )
    assert hist.keys() == ["loss", "top2", "lr", "time"]
    assert 0 <= hist.top2[-1] <= 1


def test_fit_progress_bar_writes_to_stderr(capsys):
    net = nn.Linear(2, 2, seed=0)
    X, y = np.zeros((8, 2)), np.zeros(8, dtype=int)
    al.fit(
        net,
        nn.CrossEntropyLoss(),
        optim.SGD(net.parameters(), lr=0.1),
        (X, y),
        epochs=2,
        batch_size=4,
        progress=True,
    )
    err = capsys.readouterr().err
    assert "training" in err and "4/4" in err


def test_fit_stops_on_non_finite_loss():
    net = nn.Linear(1, 1, seed=0)
    X, y = np.array([[1e200], [1.0]]), np.array([1.0, 2.0])
    with (
        np.errstate(all="ignore"),
        pytest.raises(FloatingPointError, match="the loss became inf at epoch 1, batch 1"),
    ):
        al.fit(
            net,
            nn.MSELoss(),
            optim.SGD(net.parameters(), lr=0.1),
            (X, y),
            epochs=1,
            batch_size=1,
            shuffle=False,
            progress=False,
        )


def test_fit_errors():
    net = nn.Linear(2, 2, seed=0)
    opt = optim.SGD(net.parameters(), lr=0.1)
    X, y = np.zeros((4, 2)), np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match="epochs must be a non-negative int"):
        al.fit(net, nn.CrossEntropyLoss(), opt, (X, y), epochs=-1, progress=False)
    with pytest.raises(TypeError, match="data must be a tuple"):
        al.fit(net, nn.CrossEntropyLoss(), opt, 3, progress=False)
    with pytest.raises(ValueError, match="the loss must be a scalar"):
        al.fit(net, nn.CrossEntropyLoss(reduction="none"), opt, (X, y), progress=False)
    with pytest.raises(ValueError, match="metrics must be 'auto', 'accuracy', None or a callable"):
        al.fit(net, nn.CrossEntropyLoss(), opt, (X, y), metrics="f1", progress=False)
    with pytest.raises(TypeError, match=r"scheduler must be an optim\.LRScheduler"):
        al.fit(net, nn.CrossEntropyLoss(), opt, (X, y), scheduler=0.1, progress=False)
    with pytest.raises(ValueError, match="the data yielded no batches in epoch 1"):
        al.fit(net, nn.CrossEntropyLoss(), opt, [], progress=False)
    one_shot = iter(al.data.Batches(X, y, batch_size=2))
    with pytest.raises(ValueError, match="no batches in epoch 2 \\(a one-shot iterator"):
        al.fit(net, nn.CrossEntropyLoss(), opt, one_shot, epochs=2, progress=False)


def test_accuracy_rules():
    assert accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([[0.1, 0.9]]), np.array([[0.0, 1.0]])) == 1.0  # one-hot targets
    assert accuracy(np.array([[0.7], [0.2]]), np.array([1, 1])) == 0.5
    assert accuracy(np.array([-0.1, 0.3]), np.array([0, 1]), threshold=0.0) == 1.0
    with pytest.raises(ValueError, match=r"outputs of shape \(2, 3\) and targets of shape \(3,\)"):
        accuracy(np.zeros((2, 3)), np.zeros(3))


def test_evaluate_restores_training_mode():
    net = nn.MLP(2, [3, 2], seed=0)
    out = evaluate(net, nn.CrossEntropyLoss(), np.zeros((5, 2)), np.zeros(5, dtype=int))
    assert net.training and set(out) == {"loss", "accuracy"}
    assert out["loss"] == pytest.approx(nn.CrossEntropyLoss()(net(np.zeros((5, 2))), [0] * 5).data)


def test_history_and_plot(tmp_path):
    h = History()
    for i in range(3):
        h.append(
            loss=1.0 / (i + 1),
            accuracy=0.5 + 0.1 * i,
            val_loss=1.2 / (i + 1),
            val_accuracy=0.4 + 0.1 * i,
            lr=0.1,
            time=0.01,
        )
    assert len(h) == 3 and "val_loss" in h and h["loss"][2] == pytest.approx(1 / 3)
    assert h.as_dict()["accuracy"] == pytest.approx([0.5, 0.6, 0.7])
    assert repr(h).startswith("History(3 epochs: loss=0.3333")
    path = tmp_path / "hist.png"
    fig = al.plot_history(h, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["train", "validation"]
    with pytest.raises(KeyError, match=r"History has no record 'f1' \(it has \['loss'"):
        h["f1"]
    with pytest.raises(ValueError, match="the history is empty"):
        al.plot_history(History())
    with pytest.raises(TypeError, match="expected a History, got dict"):
        al.plot_history({"loss": [1.0]})
