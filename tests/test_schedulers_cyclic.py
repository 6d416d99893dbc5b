"""ConstantLR, PolynomialLR, CosineAnnealingWarmRestarts and OneCycleLR.

Each is checked against PyTorch's documented rule written out here (its ``get_lr``
recursion one step at a time, or its closed form), not against the schedule's own
``lr_at``. A throwaway comparison with torch 2.13 over 616 settings gave identical
rates and momenta (docs/reliability.md, "Checked against PyTorch").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim


def sgd(lr: float = 0.5, **kw) -> optim.SGD:
    return optim.SGD([al.Value(np.zeros(2))], lr=lr, **kw)


def rates(sched, steps: int) -> list[float]:
    return [sched.step() for _ in range(steps)]


@pytest.mark.parametrize(("factor", "total"), [(1 / 3, 5), (0.5, 1), (1.0, 3), (0.01, 2)])
def test_constant_lr_scales_until_total_iters(factor, total):
    o = sgd()
    sched = optim.ConstantLR(o, factor=factor, total_iters=total)
    assert o.lr == 0.5 * factor  # set when made, as LinearLR
    got = rates(sched, 8)
    expected = [0.5 * factor if e < total else 0.5 for e in range(1, 9)]
    np.testing.assert_allclose(got, expected, rtol=1e-15)


@pytest.mark.parametrize(("total", "power"), [(1, 1.0), (4, 2.0), (5, 0.5), (10, 3.3)])
def test_polynomial_lr_decays_to_zero_at_total_iters(total, power):
    o = sgd()
    got = rates(optim.PolynomialLR(o, total_iters=total, power=power), total + 3)
    lr, recursive = 0.5, []
    for e in range(1, total + 4):  # PyTorch's get_lr
        if e <= total:
            lr *= ((1 - e / total) / (1 - (e - 1) / total)) ** power
        recursive.append(lr)
    assert got == recursive
    closed = [0.5 * (1 - min(e, total) / total) ** power for e in range(1, total + 4)]
    np.testing.assert_allclose(got, closed, rtol=1e-12, atol=1e-300)
    assert got[total - 1 :] == [0.0] * 4


def sgdr_expected(base, t0, mult, eta_min, epochs):
    """PyTorch's bookkeeping: T_cur += 1; past T_i, restart and lengthen the period."""
    t_i, t_cur, out = t0, 0, []
    for _ in range(epochs):
        t_cur += 1
        if t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * mult
        out.append(eta_min + (base - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2)
    return out


@pytest.mark.parametrize(
    ("t0", "mult", "eta_min"), [(1, 1, 0.0), (3, 1, 0.01), (2, 2, 0.0), (5, 3, 0.1)]
)
def test_cosine_warm_restarts_restart_every_period(t0, mult, eta_min):
    o = sgd()
    sched = optim.CosineAnnealingWarmRestarts(o, T_0=t0, T_mult=mult, eta_min=eta_min)
    got = rates(sched, 40)
    np.testing.assert_allclose(got, sgdr_expected(0.5, t0, mult, eta_min, 40), rtol=1e-13)
    restarts = [e + 1 for e, lr in enumerate(got) if lr == 0.5]
    first = [t0 * (mult**k - 1) // (mult - 1) if mult > 1 else t0 * k for k in range(1, 4)]
    assert restarts[:3] == [r for r in first if r <= 40][:3]  # at T_0, T_0 + T_0·T_mult, ...


@pytest.mark.parametrize(("t0", "mult"), [(3, 1), (2, 2), (5, 3)])
def test_cosine_warm_restarts_fractional_epochs_agree_with_whole_steps(t0, mult):
    whole = rates(optim.CosineAnnealingWarmRestarts(sgd(), T_0=t0, T_mult=mult), 30)
    sched = optim.CosineAnnealingWarmRestarts(sgd(), T_0=t0, T_mult=mult)
    by_epoch = [sched.step(float(e)) for e in range(1, 31)]
    np.testing.assert_allclose(by_epoch, whole, rtol=1e-12, atol=1e-15)
    half = sched.step(t0 + 0.5)  # within the second period: half a step from its restart
    assert half == pytest.approx(0.25 * (1 + math.cos(math.pi * 0.5 / (t0 * mult))), rel=1e-12)
    with pytest.raises(ValueError, match="epoch must be a number >= 0"):
        sched.step(-1.0)
    assert sched.get_last_lr() == half  # a refused step changed nothing


def test_cosine_warm_restarts_resume_from_state_dict():
    a = optim.CosineAnnealingWarmRestarts(sgd(), T_0=2, T_mult=2)
    rates(a, 5)
    b = optim.CosineAnnealingWarmRestarts(sgd(), T_0=2, T_mult=2)
    b.load_state_dict(a.state_dict())
    assert rates(b, 10) == rates(a, 10)
    bad = {**a.state_dict(), "T_cur": 99.0}
    with pytest.raises(ValueError, match=r"T_cur must be a number in \[0, T_i\)"):
        b.load_state_dict(bad)


def anneal(start, end, pct, cos):  # PyTorch's _annealing_cos / _annealing_linear
    if cos:
        return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


def one_cycle_expected(max_lr, n, pct_start, cos, three, div=25.0, final=1e4, hi=0.95, lo=0.85):
    """PyTorch's OneCycleLR.get_lr, for steps 0 .. n-1: (rate, momentum) pairs."""
    start = max_lr / div
    low = start / final
    if three:
        phases = [
            (pct_start * n - 1, start, max_lr, hi, lo),
            (2 * pct_start * n - 2, max_lr, start, lo, hi),
            (n - 1, start, low, hi, hi),
        ]
    else:
        phases = [(pct_start * n - 1, start, max_lr, hi, lo), (n - 1, max_lr, low, lo, hi)]
    out = []
    for step in range(n):
        begin = 0.0
        for k, (end, l0, l1, m0, m1) in enumerate(phases):
            if step <= end or k == len(phases) - 1:
                pct = (step - begin) / (end - begin)
                out.append((anneal(l0, l1, pct, cos), anneal(m0, m1, pct, cos)))
                break
            begin = end
    return out


@pytest.mark.parametrize("three", [False, True])
@pytest.mark.parametrize("cos", [True, False])
@pytest.mark.parametrize(("n", "pct"), [(10, 0.3), (23, 0.25), (100, 0.45), (7, 0.0)])
def test_one_cycle_follows_pytorchs_phases(n, pct, cos, three):
    o = sgd(momentum=0.9)
    sched = optim.OneCycleLR(
        o,
        max_lr=2.0,
        total_steps=n,
        pct_start=pct,
        anneal_strategy="cos" if cos else "linear",
        three_phase=three,
    )
    got = [(o.lr, o.momentum)]
    for _ in range(n - 1):
        sched.step()
        got.append((o.lr, o.momentum))
    np.testing.assert_allclose(got, one_cycle_expected(2.0, n, pct, cos, three), rtol=1e-13)
    assert sched.step() == pytest.approx(2.0 / 25 / 1e4, rel=1e-12) or three  # after the last
    with pytest.raises(ValueError, match=f"past total_steps={n}"):
        sched.step()
    assert o.lr == sched.get_last_lr()  # the refused step changed nothing


def test_one_cycle_cycles_adams_beta1_and_trains():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    net = nn.MLP(2, [8, 2], activation="tanh", seed=0)
    o = optim.Adam(net.parameters(), lr=0.01, betas=(0.9, 0.99))
    sched = optim.OneCycleLR(o, max_lr=0.05, epochs=5, steps_per_epoch=4)
    assert sched.total_steps == 20 and o.betas == (0.95, 0.99)
    loss_fn = nn.CrossEntropyLoss()
    seen = []
    for _ in range(19):
        o.zero_grad()
        loss_fn(net(x), y).backward()
        o.step()
        sched.step()
        seen.append(o.betas[0])
    assert min(seen) == pytest.approx(0.85, abs=1e-3) and seen[-1] == pytest.approx(0.95)
    assert all(np.isfinite(p.data).all() for p in net.parameters())


def test_one_cycle_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="needs an optimizer with a momentum or betas"):
        optim.OneCycleLR(optim.Adagrad([al.Value(1.0)]), max_lr=0.1, total_steps=5)
    optim.OneCycleLR(optim.Adagrad([al.Value(1.0)]), 0.1, 5, cycle_momentum=False)  # fine
    with pytest.raises(ValueError, match="give total_steps, or epochs and steps_per_epoch"):
        optim.OneCycleLR(sgd(), max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start must be in"):
        optim.OneCycleLR(sgd(), 0.1, 5, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy must be 'cos' or 'linear'"):
        optim.OneCycleLR(sgd(), 0.1, 5, anneal_strategy="cosine")


def test_momentum_given_by_a_schedule_starts_undamped():
    """SGD made without momentum, given one later (OneCycleLR does): PyTorch's first
    momentum step copies the gradient into the buffer, undamped."""
    w = al.Value(np.ones(3))
    o = optim.SGD([w], lr=0.1, dampening=0.5)
    o.momentum = 0.9
    (w * 2.0).sum().backward()
    o.step()
    np.testing.assert_allclose(w.data, 1 - 0.1 * 2.0)  # buffer = g, not (1 - 0.5)·g
    o.zero_grad()
    (w * 2.0).sum().backward()
    o.step()
    np.testing.assert_allclose(w.data, 0.8 - 0.1 * (0.9 * 2.0 + 0.5 * 2.0))


def test_fit_steps_one_cycle_once_an_epoch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 3))
    y = (x.sum(axis=1) > 0).astype(int)
    net = nn.MLP(3, [4, 2], seed=0)
    o = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sched = optim.OneCycleLR(o, max_lr=0.5, total_steps=6)
    al.fit(net, nn.CrossEntropyLoss(), o, (x, y), epochs=5, scheduler=sched, progress=False)
    assert sched.epoch == 5 and o.lr == pytest.approx(
        one_cycle_expected(0.5, 6, 0.3, True, False)[5][0]
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda o: optim.ConstantLR(o, 0.5, 3),
        lambda o: optim.PolynomialLR(o, 7),
        lambda o: optim.CosineAnnealingWarmRestarts(o, 2, 2),
        lambda o: optim.OneCycleLR(o, 0.5, 20),
    ],
)
def test_checkpoint_resumes_the_new_schedules(make, tmp_path):
    def run() -> tuple:
        net = nn.MLP(2, [3, 1], seed=0)
        o = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        return net, o, make(o)

    net, o, sched = run()
    rates(sched, 5)
    al.save_checkpoint(net, o, tmp_path / "c.npz", scheduler=sched)
    net2, o2, sched2 = run()
    rates(sched2, 2)  # somewhere else: loading must put it back at step 5
    al.load_checkpoint(net2, o2, tmp_path / "c.npz", scheduler=sched2)
    assert rates(sched2, 6) == rates(sched, 6)
    assert o2.momentum == o.momentum
