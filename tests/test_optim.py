"""Optimizers against hand-computed update rules; read-only locks; schedules; errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim


def _quadratic_grad(w, target):
    return 2 * (w - target)


def test_sgd_plain_step_is_w_minus_lr_grad(rng):
    w = al.Value(rng.normal(size=(3, 2)))
    w0 = w.data.copy()
    target = rng.normal(size=(3, 2))
    opt = optim.SGD([w], lr=0.1)
    ((w - target) ** 2).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, w0 - 0.1 * _quadratic_grad(w0, target))


def test_sgd_momentum_and_weight_decay_match_reference(rng):
    target = rng.normal(size=4)
    w = al.Value(rng.normal(size=4))
    ref_w, ref_v = w.data.copy(), np.zeros(4)
    opt = optim.SGD([w], lr=0.05, momentum=0.9, weight_decay=0.01)
    for _ in range(5):
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        opt.step()
        g = _quadratic_grad(ref_w, target) + 0.01 * ref_w
        ref_v = 0.9 * ref_v + g
        ref_w = ref_w - 0.05 * ref_v
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)


def test_adam_matches_reference_implementation(rng):
    target = rng.normal(size=(2, 3))
    w = al.Value(rng.normal(size=(2, 3)))
    b = al.Value(0.5)
    ref_w, ref_b = w.data.copy(), 0.5
    m = v = 0.0
    mb = vb = 0.0
    opt = optim.Adam([w, b], lr=0.01, betas=(0.8, 0.99), eps=1e-6)
    for t in range(1, 8):
        opt.zero_grad()
        (((w - target) ** 2).sum() + b * b).backward()
        opt.step()
        g, gb = _quadratic_grad(ref_w, target), 2 * ref_b
        m, v = 0.8 * m + 0.2 * g, 0.99 * v + 0.01 * g * g
        mb, vb = 0.8 * mb + 0.2 * gb, 0.99 * vb + 0.01 * gb * gb
        ref_w = ref_w - 0.01 * (m / (1 - 0.8**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-6)
        ref_b = ref_b - 0.01 * (mb / (1 - 0.8**t)) / (np.sqrt(vb / (1 - 0.99**t)) + 1e-6)
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
    assert b.data == pytest.approx(ref_b, rel=1e-12)
    assert isinstance(b.data, float)


def test_optimizers_minimise_a_quadratic():
    for make in (lambda p: optim.SGD(p, lr=0.1, momentum=0.5), lambda p: optim.Adam(p, lr=0.1)):
        w = al.Value(np.array([3.0, -2.0]))
        opt = make([w])
        for _ in range(300):
            opt.zero_grad()
            ((w - 1.0) ** 2).sum().backward()
            opt.step()
        np.testing.assert_allclose(w.data, [1.0, 1.0], atol=1e-3)


def test_step_on_readonly_array_rebinds_instead_of_failing():
    """A parameter whose array a pending backward still locks is rebound, not written."""
    w = al.Value(np.array([1.0, 2.0]))
    pending = (w * w).sum()  # keeps w's array read-only until its backward runs
    assert not w.data.flags.writeable
    w.grad = np.array([1.0, 1.0])
    locked = w.data
    optim.SGD([w], lr=0.5).step()
    np.testing.assert_allclose(w.data, [0.5, 1.5])
    assert w.data is not locked
    np.testing.assert_allclose(locked, [1.0, 2.0])  # the graph's copy is intact
    pending.backward()
    np.testing.assert_allclose(w.grad, [1.0 + 2.0, 1.0 + 4.0])  # grads of the *old* data


def test_step_in_place_when_writeable():
    w = al.Value(np.array([1.0, 2.0]))
    (w * w).sum().backward()
    arr = w.data
    optim.SGD([w], lr=0.25).step()
    assert w.data is arr  # updated in place, no new array
    np.testing.assert_allclose(arr, [0.5, 1.0])


def test_float32_parameters_stay_float32(rng):
    net = nn.MLP(3, [4, 2], seed=0, dtype=np.float32)
    X = rng.normal(size=(5, 3)).astype(np.float32)
    for opt in (optim.SGD(net.parameters(), lr=0.1, momentum=0.9), optim.Adam(net.parameters())):
        for _ in range(2):
            opt.zero_grad()
            nn.CrossEntropyLoss()(net(X), [0, 1, 1, 0, 1]).backward()
            opt.step()
        assert all(p.data.dtype == np.float32 for p in net.parameters())


def test_accepts_module_and_deduplicates():
    lin = nn.Linear(2, 2, seed=0)
    assert len(optim.SGD(lin, lr=0.1).params) == 2
    assert len(optim.SGD([lin.weight, lin.weight], lr=0.1).params) == 1
    assert repr(optim.Adam(lin)) == "Adam(lr=0.001, 2 parameters)"


def test_zero_grad():
    w = al.Value(np.ones(3))
    opt = optim.Adam([w])
    (w * 2).sum().backward()
    opt.zero_grad()
    np.testing.assert_array_equal(w.grad, np.zeros(3))


def test_optimizer_errors():
    w = al.Value(1.0)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a float, expected a Value"):
        optim.SGD([w, 2.0], lr=0.1)
    with pytest.raises(ValueError, match="requires_grad=False; it would never change"):
        optim.SGD([al.Value(1.0, requires_grad=False)], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be a positive number, got -1"):
        optim.SGD([w], lr=-1)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1.5"):
        optim.SGD([w], lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        optim.SGD([w], lr=0.1, weight_decay=-0.1)
    with pytest.raises(ValueError, match=r"Adam: betas must be in \[0, 1\)"):
        optim.Adam([w], betas=(0.9, 1.0))


def test_step_lr_and_lambda_lr():
    opt = optim.SGD([al.Value(1.0)], lr=0.8)
    sched = optim.StepLR(opt, step_size=3, gamma=0.5)
    lrs = [opt.lr] + [sched.step() for _ in range(6)]
    assert lrs == [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2]
    opt2 = optim.Adam([al.Value(1.0)], lr=1.0)
    sched2 = optim.LambdaLR(opt2, lambda e: 1.0 / (e + 1))
    sched2.step()
    sched2.step()
    assert opt2.lr == pytest.approx(1 / 3)


def test_scheduler_errors():
    opt = optim.SGD([al.Value(1.0)], lr=0.1)
    with pytest.raises(TypeError, match="expected an Optimizer, got str"):
        optim.StepLR("opt", 2)
    with pytest.raises(ValueError, match="step_size must be >= 1"):
        optim.StepLR(opt, 0)
    with pytest.raises(TypeError, match="fn must be callable"):
        optim.LambdaLR(opt, 0.1)
    with pytest.raises(ValueError, match=r"LambdaLR: schedule gave lr=-0.1 at epoch 0"):
        optim.LambdaLR(opt, lambda e: -1.0)
    assert opt.lr == 0.1  # refused when made: the rate is as it was
    sched = optim.LambdaLR(opt, lambda e: 1.0 - e)  # a linear decay to zero (PyTorch users'
    assert sched.step() == 0.0  # warm-down `lambda e: 1 - e / N`): 0 is a rate, no update
    with pytest.raises(ValueError, match=r"LambdaLR: schedule gave lr=-0.1 at epoch 2"):
        sched.step()
    assert (sched.epoch, opt.lr) == (1, 0.0)  # a refused step changes nothing
    with pytest.raises(ValueError, match=r"LambdaLR: schedule gave lr=nan at epoch 0"):
        optim.LambdaLR(optim.SGD([al.Value(1.0)], lr=0.1), lambda e: float("nan"))


def test_lambda_lr_multiplies_the_starting_rate_as_pytorch():
    # PyTorch's LambdaLR sets lr = base_lr·fn(epoch), fn(0) already when made; the rates of
    # epochs 0..4 of base 0.5 and fn(e) = 0.9**e (written out: 0.5·0.9^e)
    opt = optim.SGD([al.Value(1.0)], lr=0.5)
    sched = optim.LambdaLR(opt, lambda e: 0.9**e)
    lrs = [opt.lr]
    for _ in range(4):
        opt.step()  # the documented order: the optimizer's step, then the schedule's
        lrs.append(sched.step())
    assert lrs == pytest.approx([0.5, 0.45, 0.405, 0.3645, 0.32805], rel=1e-15)
    # a warm-up factor: epoch 0 already runs at base_lr·fn(0), not at base_lr
    opt = optim.Adam([al.Value(1.0)], lr=0.01)
    optim.LambdaLR(opt, lambda e: (e + 1) / 4)
    assert opt.lr == pytest.approx(0.0025, rel=1e-15)


def test_gradients_recorded_with_create_graph_are_used_as_numbers():
    w = al.Value(2.0)
    (w**3).backward(create_graph=True)
    assert isinstance(w.grad, al.Value)
    optim.SGD([w], lr=0.01).step()
    assert w.data == pytest.approx(2.0 - 0.01 * 12.0)


def _torch_sgd_reference(w0, grads_of, lr, momentum, nesterov, weight_decay, steps):
    """PyTorch's SGD update (torch.optim.SGD, dampening 0), written out in numpy."""
    w, buf = w0.copy(), None
    for _ in range(steps):
        d_p = grads_of(w) + weight_decay * w
        if momentum:
            buf = d_p.copy() if buf is None else momentum * buf + d_p
            d_p = d_p + momentum * buf if nesterov else buf
        w = w - lr * d_p
    return w


@pytest.mark.parametrize(
    ("momentum", "nesterov", "weight_decay"),
    [(0.0, False, 0.0), (0.0, False, 0.05), (0.9, False, 0.0), (0.9, True, 0.0), (0.5, True, 0.1)],
)
def test_sgd_options_follow_pytorchs_rule_over_several_steps(rng, momentum, nesterov, weight_decay):
    target = rng.normal(size=(3, 2))
    w0 = rng.normal(size=(3, 2))
    w = al.Value(w0.copy())
    opt = optim.SGD([w], lr=0.05, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    for _ in range(6):
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        opt.step()
    ref = _torch_sgd_reference(
        w0, lambda v: _quadratic_grad(v, target), 0.05, momentum, nesterov, weight_decay, 6
    )
    np.testing.assert_allclose(w.data, ref, rtol=1e-12, atol=1e-14)


def test_sgd_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="nesterov=True needs a momentum > 0"):
        optim.SGD([al.Value(1.0)], lr=0.1, nesterov=True)


def test_step_skips_parameters_without_a_gradient_as_pytorch_does():
    used, unused = al.Value(np.array([1.0, 2.0])), al.Value(np.array([3.0, 4.0]))
    for opt in (
        optim.SGD([used, unused], lr=0.1, momentum=0.9, weight_decay=0.5),
        optim.Adam([used, unused], lr=0.1),
    ):
        opt.zero_grad()
        (used * used).sum().backward()
        opt.step()
        np.testing.assert_array_equal(unused.data, [3.0, 4.0])  # no decay, no momentum
        assert unused._grad is None  # and no zeros were made for it


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: optim.Adam(ps, lr=0.1),
        lambda ps: optim.AdamW(ps, lr=0.1),
        lambda ps: optim.RMSprop(ps, lr=0.1, momentum=0.5),
        lambda ps: optim.Adagrad(ps, lr=0.1),
    ],
)
def test_a_failing_step_updates_nothing(make):
    a = al.Value(np.array([1.0, 2.0]), label="a")
    b = al.Value(np.array([3.0, 4.0]), label="b")
    opt = make([a, b])
    opt.zero_grad()
    (a * b).sum().backward()
    opt.step()  # a first good step: some state to keep
    state = [dict(s) for s in opt.state]
    (a * b).sum().backward()
    before = a.data.copy(), b.data.copy(), opt.steps
    b.data = np.zeros(3)  # rebound to another shape: its gradient no longer fits
    with pytest.raises(ValueError, match=r"parameter 1 'b' has shape \(3,\) but its gradient"):
        opt.step()
    np.testing.assert_array_equal(a.data, before[0])
    assert opt.steps == before[2]
    assert [s.keys() for s in opt.state] == [s.keys() for s in state]
    for s, s0 in zip(opt.state, state):
        assert all(s[k] is s0[k] for k in s)  # the very arrays of before: none replaced
    b.data = before[1]
    opt.step()  # and the next good step works
    assert opt.steps == before[2] + 1


def test_state_is_named_as_in_pytorch_and_made_on_the_first_update():
    w = al.Value(np.array([1.0, -2.0]))
    names = {
        optim.SGD(w, lr=0.1): set(),
        optim.SGD(w, lr=0.1, momentum=0.9): {"momentum_buffer"},
        optim.Adam(w): {"step", "exp_avg", "exp_avg_sq"},
        optim.AdamW(w): {"step", "exp_avg", "exp_avg_sq"},
        optim.RMSprop(w, momentum=0.5): {"square_avg", "momentum_buffer"},
        optim.Adagrad(w): {"sum", "step"},
    }
    for opt, keys in names.items():
        assert opt.state == [{}]
        w.grad = [0.5, 0.25]
        opt.step()
        assert set(opt.state[0]) == keys, type(opt).__name__


def test_plain_sgd_updates_in_place_and_reuses_its_buffer():
    w = al.Value(np.array([1.0, 2.0], dtype=np.float32))
    opt = optim.SGD([w], lr=0.25)
    arr = w.data
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    buf = opt._scratch[0]
    opt.zero_grad()
    (w * w).sum().backward()
    opt.step()
    assert w.data is arr and opt._scratch[0] is buf and arr.dtype == np.float32
    np.testing.assert_allclose(arr, np.array([1.0, 2.0]) * 0.5**3)


def test_zero_grad_sets_none_and_the_next_backward_writes_the_gradient():
    w = al.Value(np.array([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.zero_grad()
    assert w._grad is None  # nothing allocated
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])  # reads as zeros
    (w * 3.0).sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])  # written, not added to old ones


@pytest.mark.parametrize("shape", [(1100, 70), (70000,), (3, 200, 150)])
def test_plain_sgd_on_a_large_parameter_updates_block_by_block_in_place(rng, shape):
    """Above 256 KB, lr·g is made and subtracted a block of rows at a time: the same numbers."""
    w = al.Value(rng.normal(size=shape).astype(np.float32))
    target = rng.normal(size=shape).astype(np.float32)
    arr = w.data
    opt = optim.SGD([w], lr=0.1)
    for _ in range(2):
        w0 = w.data.copy()
        opt.zero_grad()
        ((w - target) ** 2).sum().backward()
        g = w.grad.copy()
        opt.step()
        assert w.data is arr and arr.dtype == np.float32
        np.testing.assert_array_equal(arr, w0 - (g * np.float32(0.1)))  # bit for bit
    assert len(opt._scratch[0][0]) < shape[0]  # a block, not a copy of the whole parameter


def test_plain_sgd_after_a_rebinding_to_another_length_still_updates_every_row(rng):
    w = al.Value(rng.normal(size=(1100, 70)))  # 616 KB: updated in blocks
    opt = optim.SGD([w], lr=0.5)
    (w * 1.0).sum().backward()
    opt.step()
    for rows in (1500, 3):  # the block buffer kept from before fits other lengths too
        w.data = np.zeros((rows, 70))
        opt.zero_grad()
        (w * 1.0).sum().backward()
        opt.step()
        np.testing.assert_array_equal(w.data, np.full((rows, 70), -0.5))


def test_zero_grad_lets_go_of_an_array_the_caller_assigned_to_grad():
    """`.grad = mine` keeps the caller's array uncopied; zero_grad() must not keep it alive."""
    import weakref

    w = al.Value(np.ones(3))
    opt = optim.SGD([w], lr=0.1)
    mine = np.zeros(3)
    alive = weakref.ref(mine)
    w.grad = mine
    opt.zero_grad()
    del mine
    assert alive() is None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, 2 * np.ones(3))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda w: optim.SGD(w, lr=True), "SGD: lr must be a positive number, got True"),
        (lambda w: optim.Adam(w, lr=float("inf")), "Adam: lr must be a positive number, got inf"),
        (lambda w: optim.SGD(w, lr=0.1, weight_decay=True), "weight_decay must be >= 0, got True"),
        (lambda w: optim.Adam(w, eps=float("inf")), r"Adam: eps must be >= 0, got inf"),
        (lambda w: optim.AdamW(w, weight_decay=math.inf), "weight_decay must be >= 0, got inf"),
        (lambda w: optim.Adam(w, betas=(False, False)), r"betas must be in \[0, 1\)"),
        (lambda w: optim.Adagrad(w, lr_decay=True), "lr_decay must be >= 0, got True"),
    ],
)
def test_hyper_parameters_refuse_bools_and_infinities(make, message):
    # True is an int to Python and inf compares > 0: both slipped through as lr 1 / lr inf
    with pytest.raises(ValueError, match=message):
        make([al.Value(1.0)])


def test_hyper_parameters_take_numpy_numbers():
    # a rate read from a numpy array (np.float32, np.int64) is a number to a numpy user
    w = al.Value([1.0, 2.0])
    opt = optim.SGD([w], lr=np.float32(0.5), momentum=np.float64(0.5), weight_decay=np.int64(0))
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, [0.0, 0.0])
    assert optim.Adam([w], lr=np.float64(0.1), eps=np.float32(1e-8)).lr == pytest.approx(0.1)
    sched = optim.CosineAnnealingLR(opt, T_max=np.int64(4))
    assert sched.T_max == 4 and type(sched.T_max) is int
