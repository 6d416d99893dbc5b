"""RMSprop, Adagrad, AdamW and CosineAnnealingLR against hand-written PyTorch update rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import optim

TARGET = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])


def gradient(w: np.ndarray) -> np.ndarray:
    """Gradient of E(w) = Σ (w − target)³/3 + Σ w²: varies from step to step."""
    return (w - TARGET) ** 2 + 2 * w


def run_ours(opt_cls, steps: int = 6, **kwargs) -> np.ndarray:
    w = al.Value(np.array([[0.3, -0.1, 0.2], [0.0, 0.5, -0.4]]))
    opt = opt_cls([w], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        ((w - TARGET) ** 3 / 3 + w * w).sum().backward()
        opt.step()
    return w.data


def w0() -> np.ndarray:
    return np.array([[0.3, -0.1, 0.2], [0.0, 0.5, -0.4]])


# ---- PyTorch's update rules (torch.optim docs, "Algorithm" boxes), in numpy


def ref_rmsprop(steps, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
    w, v, buf = w0(), 0.0, 0.0
    for _ in range(steps):
        g = gradient(w) + weight_decay * w
        v = alpha * v + (1 - alpha) * g**2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v) + eps)
            w = w - lr * buf
        else:
            w = w - lr * g / (np.sqrt(v) + eps)
    return w


def ref_adagrad(steps, lr=0.01, eps=1e-10):
    w, s = w0(), 0.0
    for _ in range(steps):
        g = gradient(w)
        s = s + g * g
        w = w - lr * g / (np.sqrt(s) + eps)
    return w


def ref_adamw(steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
    w, m, v = w0(), 0.0, 0.0
    for t in range(1, steps + 1):
        g = gradient(w)
        w = w * (1 - lr * weight_decay)
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat = m / (1 - betas[0] ** t)
        v_hat = v / (1 - betas[1] ** t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"lr": 0.05, "alpha": 0.9}, {"momentum": 0.8, "lr": 0.02}, {"weight_decay": 0.1}],
)
def test_rmsprop_follows_pytorchs_rule(kwargs):
    np.testing.assert_allclose(run_ours(optim.RMSprop, **kwargs), ref_rmsprop(6, **kwargs))


@pytest.mark.parametrize("kwargs", [{}, {"lr": 0.3, "eps": 1e-3}])
def test_adagrad_follows_pytorchs_rule(kwargs):
    np.testing.assert_allclose(run_ours(optim.Adagrad, **kwargs), ref_adagrad(6, **kwargs))


@pytest.mark.parametrize(
    "kwargs", [{}, {"lr": 0.05, "weight_decay": 0.5}, {"betas": (0.5, 0.9), "lr": 0.1}]
)
def test_adamw_follows_pytorchs_rule(kwargs):
    np.testing.assert_allclose(run_ours(optim.AdamW, **kwargs), ref_adamw(6, **kwargs))


def test_adamw_decay_is_decoupled_from_adam():
    """AdamW's decay shrinks w directly; Adam's L2 term would go through the moments."""
    ours = run_ours(optim.AdamW, lr=0.05, weight_decay=0.5)
    adam_l2 = run_ours(optim.Adam, lr=0.05, weight_decay=0.5)
    assert np.abs(ours - adam_l2).max() > 1e-3


@pytest.mark.parametrize("opt_cls", [optim.RMSprop, optim.Adagrad, optim.AdamW])
def test_a_bad_gradient_changes_nothing(opt_cls):
    a = al.Value(np.array([1.0, 2.0]))
    b = al.Value(np.array([3.0]))
    opt = opt_cls([a, b], lr=0.1)
    a.grad, b.grad = [0.5, 0.5], [1.0]
    opt.step()
    a_before, b_before = a.data.copy(), b.data.copy()
    state_before = [{k: np.copy(v) for k, v in s.items()} for s in opt.state]  # (in place)
    a.grad, b.grad = [0.5, 0.5], [np.nan]  # the *second* parameter is bad
    with pytest.raises(ValueError, match="parameter 1"):
        opt.step()
    np.testing.assert_array_equal(a.data, a_before)
    np.testing.assert_array_equal(b.data, b_before)
    assert opt.steps == 1
    for s, s0 in zip(opt.state, state_before):
        assert s.keys() == s0.keys()
        for key in s:
            np.testing.assert_array_equal(s[key], s0[key])
    b.grad = [1.0]
    opt.step()  # and the next good step works
    assert opt.steps == 2


def test_optimizer_arguments_are_checked():
    w = al.Value([1.0])
    # numpy numbers are numbers (np.float32 is no Python float); Adam and AdamW share one check
    optim.SGD([w], lr=0.1, momentum=np.float32(0.9), weight_decay=np.float64(0.1))
    for cls in (optim.Adam, optim.AdamW):
        assert cls([w], betas=np.array([0.5, 0.25], dtype=np.float32)).betas == (0.5, 0.25)
        for bad in ((0.9,), (0.9, 1.0), (-0.1, 0.9), "ab"):
            with pytest.raises(ValueError, match=rf"{cls.__name__}: betas must be in \[0, 1\)"):
                cls([w], betas=bad)
        with pytest.raises(ValueError, match=rf"{cls.__name__}: weight_decay must be >= 0"):
            cls([w], weight_decay=-0.01)
    with pytest.raises(ValueError, match="alpha"):
        optim.RMSprop([w], alpha=1.5)
    with pytest.raises(ValueError, match="betas"):
        optim.AdamW([w], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        optim.Adagrad([w], eps=-1.0)
    with pytest.raises(ValueError, match="lr"):
        optim.Adagrad([w], lr=0.0)


def test_cosine_annealing_follows_pytorchs_schedule():
    opt = optim.SGD([al.Value(1.0)], lr=0.5)
    sched = optim.CosineAnnealingLR(opt, T_max=5, eta_min=0.05)
    rates = [sched.step() for _ in range(10)]
    # PyTorch's recursive form (torch.optim.lr_scheduler.CosineAnnealingLR.get_lr)
    lr, expected = 0.5, []
    for epoch in range(1, 11):
        if (epoch - 1 - 5) % (2 * 5) == 0:
            lr = lr + (0.5 - 0.05) * (1 - math.cos(math.pi / 5)) / 2
        else:
            lr = (1 + math.cos(math.pi * epoch / 5)) / (1 + math.cos(math.pi * (epoch - 1) / 5)) * (
                lr - 0.05
            ) + 0.05
        expected.append(lr)
    np.testing.assert_allclose(rates, expected, atol=1e-12)
    assert opt.lr == rates[-1]
    assert rates[4] == pytest.approx(0.05)  # eta_min reached at T_max
    with pytest.raises(ValueError, match="T_max"):
        optim.CosineAnnealingLR(opt, T_max=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.5),
        lambda ps: optim.Adagrad(ps, lr=0.1),
        lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.1),
    ],
)
def test_a_parameter_without_a_gradient_is_skipped_as_in_pytorch(make) -> None:
    used, unused = al.Value([1.0, 2.0]), al.Value([3.0, -4.0])
    opt = make([used, unused])
    (used * used).sum().backward()  # `unused` gets no gradient: grad stays None
    opt.step()
    assert unused.data.tolist() == [3.0, -4.0]  # not even weight decay touches it
    assert opt.state[1] == {}  # and no state is made for it
    assert used.data.tolist() != [1.0, 2.0]
