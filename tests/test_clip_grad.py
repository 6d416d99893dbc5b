"""Gradient clipping (``nn.utils``): what PyTorch's clip_grad_norm_ / clip_grad_value_ do."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim


def test_clip_grad_value_clamps_each_entry():
    rng = np.random.default_rng(0)
    g = rng.normal(scale=3.0, size=(4, 5))
    w = al.Value(np.zeros((4, 5)))
    w.grad = g.copy()
    nn.utils.clip_grad_value_(w, 1.5)
    expected = np.minimum(np.maximum(g, -1.5), 1.5)  # torch.clamp's rule, written out
    np.testing.assert_array_equal(w.grad, expected)
    assert (np.abs(g) > 1.5).any() and (np.abs(g) < 1.5).any()  # both cases present


def test_clipping_leaves_a_parameter_without_gradient_without_one():
    """An optimizer skips a parameter with no gradient (Adam: no moment, no step count);
    clipping must not hand it a zero gradient that the optimizer would then take."""
    a, b = al.Value(np.ones(3)), al.Value(np.ones(3))
    opt = optim.Adam([a, b], lr=0.1)
    (a * 10.0).sum().backward()  # b gets no gradient
    nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    nn.utils.clip_grad_value_([a, b], 0.1)
    assert b._grad is None
    opt.step()
    np.testing.assert_array_equal(b.data, np.ones(3))
    assert opt.state[1] == {} and opt.state[0]["step"] == 1


def test_clip_grad_value_takes_a_module_and_refuses_a_bad_limit():
    lin = nn.Linear(3, 2, seed=0)
    lin(np.ones((4, 3))).sum().backward()
    nn.utils.clip_grad_value_(lin, 0.5)
    assert all(np.abs(p.grad).max() <= 0.5 for p in lin.parameters())
    for bad in (-1.0, float("nan"), "1", True, None):
        with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be a number >= 0"):
            nn.utils.clip_grad_value_(lin, bad)
