"""The learning-rate schedules against PyTorch's documented formulas, written out here.

Each schedule is checked against the recursive rule of ``torch.optim.lr_scheduler``'s
docs (one epoch at a time, as its ``get_lr`` does) and against the closed form where
PyTorch gives one; ``ReduceLROnPlateau`` against a loop of its rule.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim


def opt(lr: float = 0.5) -> optim.SGD:
    return optim.SGD([al.Value(1.0)], lr=lr)


def rates(sched, epochs: int) -> list[float]:
    return [sched.step() for _ in range(epochs)]


@pytest.mark.parametrize(
    ("milestones", "gamma"), [([3, 5, 9], 0.1), ([1], 0.5), ([2, 3, 4, 20], 0.9), ([], 0.3)]
)
def test_multistep_lr_multiplies_by_gamma_at_each_milestone(milestones, gamma):
    o = opt()
    got = rates(optim.MultiStepLR(o, milestones, gamma), 12)
    lr, recursive = 0.5, []
    for epoch in range(1, 13):  # PyTorch's get_lr: times gamma when the epoch is a milestone
        if epoch in milestones:
            lr *= gamma
        recursive.append(lr)
    closed = [0.5 * gamma ** sum(m <= e for m in milestones) for e in range(1, 13)]
    assert got == recursive  # stepped from the current rate, as PyTorch's get_lr
    np.testing.assert_allclose(got, closed, rtol=1e-14)
    assert o.lr == got[-1]


@pytest.mark.parametrize("gamma", [0.5, 0.95, 1.0, 1.1])
def test_exponential_lr_is_gamma_to_the_epoch(gamma):
    got = rates(optim.ExponentialLR(opt(), gamma), 10)
    lr, recursive = 0.5, []
    for _ in range(10):
        lr *= gamma
        recursive.append(lr)
    assert got == recursive
    np.testing.assert_allclose(got, [0.5 * gamma**e for e in range(1, 11)], rtol=1e-14)


@pytest.mark.parametrize(
    ("start", "end", "total"), [(1 / 3, 1.0, 5), (0.1, 1.0, 1), (1.0, 0.25, 4), (0.5, 0.0, 3)]
)
def test_linear_lr_warms_up_as_pytorchs_recursive_rule(start, end, total):
    o = opt(0.2)
    sched = optim.LinearLR(o, start_factor=start, end_factor=end, total_iters=total)
    first = o.lr
    got = rates(sched, total + 3)
    # PyTorch's get_lr: lr_0 = base·start, then lr ← lr·(1 + (end − start)/(total·start +
    # (epoch − 1)·(end − start))) while epoch <= total, unchanged after
    lr, recursive = 0.2 * start, []
    for epoch in range(1, total + 4):
        if epoch <= total:
            lr *= 1 + (end - start) / (total * start + (epoch - 1) * (end - start))
        recursive.append(lr)
    assert first == 0.2 * start
    assert got == [max(r, 0.0) for r in recursive]  # (rounding may give -1e-18 at the end)
    closed = [0.2 * (start + (end - start) * min(total, e) / total) for e in range(1, total + 4)]
    np.testing.assert_allclose(got, closed, rtol=1e-12, atol=1e-15)
    assert got[-1] == pytest.approx(0.2 * end, abs=1e-15)


def plateau_reference(
    metrics, lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps=1e-8
):
    """PyTorch's ReduceLROnPlateau.step, one metric at a time: the rate after each."""
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    out = []
    for m in metrics:
        if mode == "min" and threshold_mode == "rel":
            better = m < best * (1 - threshold)
        elif mode == "min":
            better = m < best - threshold
        elif threshold_mode == "rel":
            better = m > best * (threshold + 1)
        else:
            better = m > best + threshold
        if better:
            best, bad = m, 0
        else:
            bad += 1
        if cool > 0:
            cool -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cool, bad = cooldown, 0
        out.append(lr)
    return out


PLATEAU = [
    {"mode": "min", "factor": 0.5, "patience": 2, "threshold": 1e-4, "threshold_mode": "rel"},
    {"mode": "min", "factor": 0.1, "patience": 0, "threshold": 0.05, "threshold_mode": "abs"},
    {
        "mode": "max",
        "factor": 0.5,
        "patience": 1,
        "threshold": 0.01,
        "threshold_mode": "rel",
        "cooldown": 2,
    },
    {
        "mode": "max",
        "factor": 0.3,
        "patience": 0,
        "threshold": 0.0,
        "threshold_mode": "abs",
        "min_lr": 0.04,
    },
    {
        "mode": "min",
        "factor": 0.5,
        "patience": 1,
        "threshold": 1e-4,
        "threshold_mode": "rel",
        "cooldown": 1,
        "min_lr": 0.1,
    },
]


@pytest.mark.parametrize("kw", PLATEAU)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reduce_lr_on_plateau_follows_pytorchs_rule(kw, seed):
    rng = np.random.default_rng(seed)
    # a noisy curve that improves, flattens, and improves again
    metrics = list(
        np.r_[np.linspace(2, 1, 8), np.ones(10), np.linspace(1, 0.5, 6)]
        + rng.normal(scale=0.02, size=24)
    )
    if kw["mode"] == "max":
        metrics = [-m for m in metrics]
    o = opt(1.0)
    sched = optim.ReduceLROnPlateau(o, **kw)
    got = [sched.step(m) for m in metrics]
    expected = plateau_reference(metrics, 1.0, **{"cooldown": 0, "min_lr": 0.0, **kw})
    assert got == expected
    assert min(got) < 1.0  # the curve's plateau lowered the rate
    assert o.lr == got[-1] and sched.epoch == 24


def test_reduce_lr_on_plateau_takes_a_value_and_checks_its_arguments():
    o = opt(1.0)
    sched = optim.ReduceLROnPlateau(o, patience=0, factor=0.5)
    assert sched.step(al.Value(2.0)) == 1.0 and sched.step(np.float32(3.0)) == 0.5
    with pytest.raises(TypeError, match="metric must be a number, got str"):
        sched.step("low")
    for kw, message in [
        ({"mode": "lowest"}, "mode must be 'min' or 'max'"),
        ({"factor": 1.0}, "factor must be in (0, 1), got 1.0"),
        ({"patience": -1}, "patience must be an int >= 0, got -1"),
        ({"cooldown": 1.5}, "cooldown must be an int >= 0"),
        ({"threshold_mode": "relative"}, "threshold_mode must be 'rel' or 'abs'"),
        ({"min_lr": -0.1}, "min_lr must be >= 0"),
    ]:
        with pytest.raises(ValueError) as info:
            optim.ReduceLROnPlateau(o, **kw)
        assert message in str(info.value)


def test_schedule_arguments_are_checked():
    for make, message in [
        (lambda o: optim.MultiStepLR(o, [3, 2]), "milestones must be increasing"),
        (lambda o: optim.MultiStepLR(o, [0, 2]), "each milestone must be an int >= 1, got 0"),
        (lambda o: optim.MultiStepLR(o, [2], gamma=0), "gamma must be a number > 0, got 0"),
        (lambda o: optim.ExponentialLR(o, gamma=-0.5), "gamma must be a number > 0"),
        (lambda o: optim.LinearLR(o, start_factor=0), "start_factor must be in (0, 1], got 0"),
        (lambda o: optim.LinearLR(o, end_factor=1.5), "end_factor must be in [0, 1], got 1.5"),
        (lambda o: optim.LinearLR(o, total_iters=0), "total_iters must be an int >= 1"),
    ]:
        o = opt()
        with pytest.raises(ValueError) as info:
            make(o)
        assert message in str(info.value) and o.lr == 0.5  # nothing was set


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def test_fit_steps_the_new_schedules_after_every_epoch():
    X, y = data()
    net = nn.Linear(4, 2, seed=0)
    o = optim.SGD(net.parameters(), lr=0.2)
    sched = optim.LinearLR(o, start_factor=0.25, total_iters=3)
    hist = al.fit(
        net, nn.CrossEntropyLoss(), o, (X, y), epochs=5, progress=False, seed=0, scheduler=sched
    )
    assert hist.lr == [0.2 * (0.25 + 0.75 * min(e, 3) / 3) for e in range(5)]


@pytest.mark.parametrize("validation", [False, True])
def test_fit_gives_reduce_lr_on_plateau_the_epochs_loss(validation):
    X, y = data()
    net = nn.Linear(4, 2, seed=0)
    o = optim.SGD(net.parameters(), lr=0.5)
    # only an improvement by half counts: the rate falls after the first epochs
    sched = optim.ReduceLROnPlateau(o, factor=0.5, patience=1, threshold=0.5)
    hist = al.fit(
        net,
        nn.CrossEntropyLoss(),
        o,
        (X, y),
        epochs=6,
        progress=False,
        seed=0,
        scheduler=sched,
        validation=(X[:40], y[:40]) if validation else None,
    )
    watched = hist.val_loss if validation else hist.loss
    expected = plateau_reference(watched, 0.5, "min", 0.5, 1, 0.5, "rel", 0, 0.0)
    assert hist.lr == [0.5, *expected[:-1]] and o.lr == expected[-1]
    assert o.lr < 0.5


def test_two_schedules_on_one_optimizer_compose_as_pytorchs():
    o = opt(1.0)
    warm = optim.LinearLR(o, start_factor=0.25, total_iters=3)
    decay = optim.ExponentialLR(o, gamma=0.5)
    got = [o.lr]
    for _ in range(6):
        warm.step(), decay.step()
        got.append(o.lr)
    # PyTorch's get_lr, one schedule after the other on the current rate
    lr, expected = 1.0 * 0.25, [0.25]
    for epoch in range(1, 7):
        if epoch <= 3:
            lr *= 1 + 0.75 / (3 * 0.25 + (epoch - 1) * 0.75)
        lr *= 0.5
        expected.append(lr)
    assert got == expected
    assert got[:4] == [0.25, 0.25, 0.1875, 0.125]  # the warm-up undoes the decay's halving


def test_chained_multistep_and_cosine_follow_the_recursive_rules():
    o = opt(0.5)
    sched = optim.ChainedScheduler(
        [optim.MultiStepLR(o, [2, 5], gamma=0.1), optim.CosineAnnealingLR(o, T_max=4, eta_min=0.01)]
    )
    got = rates(sched, 10)
    lr, expected = 0.5, []
    for epoch in range(1, 11):
        if epoch in (2, 5):
            lr *= 0.1
        if (epoch - 1 - 4) % 8 == 0:
            lr += (0.5 - 0.01) * (1 - math.cos(math.pi / 4)) / 2
        else:
            ratio = (1 + math.cos(math.pi * epoch / 4)) / (1 + math.cos(math.pi * (epoch - 1) / 4))
            lr = ratio * (lr - 0.01) + 0.01
        expected.append(lr)
    assert got == expected and o.lr == got[-1]
    with pytest.raises(ValueError, match="share one optimizer"):
        optim.ChainedScheduler([optim.StepLR(o, 1), optim.StepLR(opt(), 1)])


@pytest.mark.parametrize(
    ("make", "rule"),
    [
        (lambda o: optim.StepLR(o, step_size=2, gamma=0.5), lambda lr, e: lr * 0.5 ** (e % 2 == 0)),
        (lambda o: optim.ExponentialLR(o, gamma=0.9), lambda lr, e: lr * 0.9),
        (lambda o: optim.MultiStepLR(o, [4], gamma=0.1), lambda lr, e: lr * 0.1 ** (e == 4)),
    ],
)
def test_a_rate_changed_by_hand_is_kept(make, rule):
    o = opt(1.0)
    sched = make(o)
    got = rates(sched, 2)
    o.lr = 0.03  # the user lowers the rate by hand: the schedule continues from it
    got += rates(sched, 4)
    lr, expected = 1.0, []
    for epoch in range(1, 7):
        lr = rule(0.03 if epoch == 3 else lr, epoch)
        expected.append(lr)
    assert got == expected


def test_state_dict_round_trip_and_checks():
    o = opt(1.0)
    sched = optim.StepLR(o, step_size=2, gamma=0.5)
    rates(sched, 3)
    sd = sched.state_dict()
    assert sd == {"type": "StepLR", "epoch": 3, "base_lr": 1.0, "last_lr": 0.5}
    other = optim.StepLR(opt(1.0), step_size=2, gamma=0.5)
    for bad, message in [
        ({**sd, "epoch": 1.5}, "epoch must be an int >= 0, got 1.5"),
        ({**sd, "last_lr": -1.0}, "last_lr must be >= 0, got -1.0"),
        ({**sd, "base_lr": math.nan}, "base_lr must be a finite number"),
        ({**sd, "type": "ExponentialLR"}, "the state_dict is a 'ExponentialLR'"),
        ({"epoch": 3}, "expected the keys"),
        ([1, 2], "expected a dict, got list"),
    ]:
        with pytest.raises(ValueError) as info:
            other.load_state_dict(bad)
        assert message in str(info.value) and "StepLR.load_state_dict" in str(info.value)
        assert (other.epoch, other.last_lr) == (0, 1.0)  # unchanged
    other.load_state_dict(sd)
    assert other.state_dict() == sd
    plateau = optim.ReduceLROnPlateau(opt(1.0))
    keys = set(plateau.state_dict())
    assert {"best", "num_bad_epochs", "cooldown_counter"} <= keys
    with pytest.raises(ValueError, match="num_bad_epochs must be an int >= 0"):
        plateau.load_state_dict({**plateau.state_dict(), "num_bad_epochs": -2})


def schedule(kind: str, o: optim.Optimizer):
    if kind == "chained":
        return optim.ChainedScheduler(
            [optim.LinearLR(o, 0.25, total_iters=3), optim.CosineAnnealingLR(o, T_max=5)]
        )
    if kind == "sequential":
        warm = optim.LinearLR(o, 0.25, total_iters=2)
        return optim.SequentialLR(o, [warm, optim.StepLR(o, 2, 0.5)], milestones=[2])
    return optim.ReduceLROnPlateau(o, factor=0.5, patience=0, cooldown=1)


def train(net, o, sched, epochs):
    X, y = data()
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for i in range(0, 120, 40):
            o.zero_grad()
            loss = loss_fn(net(al.Value(X[i : i + 40])), y[i : i + 40])
            loss.backward()
            o.step()
        if isinstance(sched, optim.ReduceLROnPlateau):
            sched.step(loss.item())
        else:
            sched.step()


@pytest.mark.parametrize("kind", ["chained", "sequential", "plateau"])
@pytest.mark.parametrize("route", ["state_dict", "checkpoint"])
def test_a_resumed_run_ends_bitwise_equal_to_an_uninterrupted_one(kind, route, tmp_path):
    net = nn.Linear(4, 2, seed=0)
    o = optim.Adam(net.parameters(), lr=0.05)
    sched = schedule(kind, o)
    train(net, o, sched, 6)

    first = nn.Linear(4, 2, seed=0)
    o1 = optim.Adam(first.parameters(), lr=0.05)
    s1 = schedule(kind, o1)
    train(first, o1, s1, 3)
    # a new process: other initial weights, schedules made afresh, then the saved state
    second = nn.Linear(4, 2, seed=7)
    o2 = optim.Adam(second.parameters(), lr=0.05)
    s2 = schedule(kind, o2)
    if route == "checkpoint":
        path = al.save_checkpoint(first, o1, tmp_path / "run.npz", scheduler=s1)
        al.load_checkpoint(second, o2, path, scheduler=s2)
    else:
        second.load_state_dict(first.state_dict())
        o2.load_state_dict(o1.state_dict())
        s2.load_state_dict(s1.state_dict())
    assert s2.state_dict() == s1.state_dict()
    train(second, o2, s2, 3)
    assert o2.lr == o.lr and s2.state_dict() == sched.state_dict()
    for a, b in zip(second.parameters(), net.parameters(), strict=True):
        assert np.array_equal(a.data, b.data)


def test_load_checkpoint_checks_the_scheduler_state_before_anything_changes(tmp_path):
    net = nn.Linear(4, 2, seed=0)
    o = optim.SGD(net.parameters(), lr=0.1)
    path = al.save_checkpoint(net, o, tmp_path / "plain.npz")
    other = nn.Linear(4, 2, seed=3)
    o2 = optim.SGD(other.parameters(), lr=0.7)
    s2 = optim.StepLR(o2, 2)
    before = other.weight.data.copy()
    with pytest.raises(al.io.CheckpointError, match="holds no scheduler state"):
        al.load_checkpoint(other, o2, path, scheduler=s2)
    path = al.save_checkpoint(net, o, tmp_path / "exp.npz", scheduler=optim.ExponentialLR(o, 0.5))
    with pytest.raises(al.io.CheckpointError, match="the state_dict is a 'ExponentialLR'"):
        al.load_checkpoint(other, o2, path, scheduler=s2)
    assert np.array_equal(other.weight.data, before) and o2.lr == 0.7 and s2.epoch == 0


def test_every_schedule_of_an_optimizer_shares_the_rate_before_the_first_changed_it():
    o = opt(0.5)
    warm = optim.LinearLR(o, start_factor=0.25, total_iters=4)  # the rate becomes 0.125
    cos = optim.CosineAnnealingLR(o, T_max=3, eta_min=0.01)
    assert warm.base_lr == cos.base_lr == 0.5  # (PyTorch's initial_lr)
    got = []
    for _ in range(8):
        warm.step(), cos.step()
        got.append(o.lr)
    lr, expected = 0.125, []
    for epoch in range(1, 9):
        if epoch <= 4:
            lr *= 1 + 0.75 / (4 * 0.25 + (epoch - 1) * 0.75)
        if (epoch - 1 - 3) % 6 == 0:  # past T_max the cosine climbs back by base_lr's step
            lr += (0.5 - 0.01) * (1 - math.cos(math.pi / 3)) / 2
        else:
            ratio = (1 + math.cos(math.pi * epoch / 3)) / (1 + math.cos(math.pi * (epoch - 1) / 3))
            lr = ratio * (lr - 0.01) + 0.01
        expected.append(lr)
    assert got == expected


def test_sequential_lr_switches_schedules_at_the_milestones():
    o = opt(1.0)
    warm = optim.LinearLR(o, start_factor=0.1, total_iters=3)
    decay = optim.CosineAnnealingLR(o, T_max=4)
    sched = optim.SequentialLR(o, [warm, decay], milestones=[3])
    first = o.lr
    got = rates(sched, 8)
    # PyTorch's rule: the warm-up steps to epoch 2; at the milestone the cosine restarts at
    # its epoch 0 (rate 1.0, the optimizer's rate before any schedule) and steps from there
    lr, expected = 0.1, []
    for epoch in range(1, 9):
        if epoch < 3:
            lr *= 1 + 0.9 / (3 * 0.1 + (epoch - 1) * 0.9)
        elif epoch == 3:
            lr = 1.0
        elif epoch - 3 == 5:  # past the bottom: the 0/0 case
            lr += 1.0 * (1 - math.cos(math.pi / 4)) / 2
        else:
            e = epoch - 3
            lr = (1 + math.cos(math.pi * e / 4)) / (1 + math.cos(math.pi * (e - 1) / 4)) * lr
        expected.append(lr)
    assert first == 0.1 and got == expected
    for milestones in ([], [3, 5], [0], [2.5]):
        with pytest.raises(ValueError, match="SequentialLR: "):
            optim.SequentialLR(o, [warm, decay], milestones)
