"""The optimizers' in-place steps against PyTorch's documented rules, written out here.

Each reference below is the algorithm box of ``torch.optim``'s docs as straightforward
out-of-place numpy in float64 (defaults: dampening 0, no amsgrad, not centered, no
lr decay). Our optimizers update parameters and state arrays in place, a block of
rows at a time for large parameters; the tests check the numbers against these
references, that the arrays stay the same objects from step to step, and that a
failing step changes nothing, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as al
from autograd_lite import optim

# ---- PyTorch's rules, one step each: (w, g, state, t, options) -> (w, state)


def ref_sgd(
    w, g, s, t, lr, momentum=0.0, nesterov=False, weight_decay=0.0, dampening=0.0, maximize=False
):
    if maximize:
        g = -g
    if weight_decay:
        g = g + weight_decay * w
    if momentum:
        if "momentum_buffer" not in s:
            buf = g
        else:
            buf = momentum * s["momentum_buffer"] + (1 - dampening) * g
        s = {"momentum_buffer": buf}
        g = g + momentum * buf if nesterov else buf
    return w - lr * g, s


def ref_adam(
    w,
    g,
    s,
    t,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    adamw=False,
):
    b1, b2 = betas
    if maximize:
        g = -g
    if adamw:
        w = w * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * w
    m = b1 * s.get("exp_avg", 0.0) + (1 - b1) * g
    v = b2 * s.get("exp_avg_sq", 0.0) + (1 - b2) * g * g
    new = {"exp_avg": m, "exp_avg_sq": v}
    m_hat = m / (1 - b1**t)
    if amsgrad:
        top = np.maximum(s.get("max_exp_avg_sq", 0.0), v)
        new["max_exp_avg_sq"] = top
        denom = np.sqrt(top) / np.sqrt(1 - b2**t) + eps
    else:
        denom = np.sqrt(v / (1 - b2**t)) + eps
    return w - lr * m_hat / denom, new


def ref_adamw(w, g, s, t, weight_decay=0.01, **kw):
    return ref_adam(w, g, s, t, weight_decay=weight_decay, adamw=True, **kw)


def ref_rmsprop(
    w,
    g,
    s,
    t,
    lr=0.01,
    alpha=0.99,
    eps=1e-8,
    momentum=0.0,
    weight_decay=0.0,
    centered=False,
    maximize=False,
):
    if maximize:
        g = -g
    if weight_decay:
        g = g + weight_decay * w
    v = alpha * s.get("square_avg", 0.0) + (1 - alpha) * g * g
    new = {"square_avg": v}
    if centered:
        mean = alpha * s.get("grad_avg", 0.0) + (1 - alpha) * g
        new["grad_avg"] = mean
        avg = np.sqrt(v - mean * mean) + eps
    else:
        avg = np.sqrt(v) + eps
    if momentum:
        buf = momentum * s.get("momentum_buffer", 0.0) + g / avg
        new["momentum_buffer"] = buf
        return w - lr * buf, new
    return w - lr * g / avg, new


def ref_adagrad(
    w, g, s, t, lr=0.01, eps=1e-10, lr_decay=0.0, initial_accumulator_value=0.0, maximize=False
):
    if maximize:
        g = -g
    clr = lr / (1 + (t - 1) * lr_decay)
    total = s.get("sum", initial_accumulator_value) + g * g
    return w - clr * g / (np.sqrt(total) + eps), {"sum": total}


CASES = [
    (optim.SGD, ref_sgd, {"lr": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.1, "weight_decay": 0.3}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.7, "nesterov": True, "weight_decay": 0.2}),
    (optim.Adam, ref_adam, {}),
    (optim.Adam, ref_adam, {"lr": 0.05, "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}),
    (optim.AdamW, ref_adamw, {}),
    (optim.AdamW, ref_adamw, {"lr": 0.05, "weight_decay": 0.5, "betas": (0.8, 0.99)}),
    (optim.AdamW, ref_adamw, {"lr": 0.01, "weight_decay": 0.0}),
    (optim.RMSprop, ref_rmsprop, {}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.02, "momentum": 0.8}),
    (optim.RMSprop, ref_rmsprop, {"weight_decay": 0.1, "alpha": 0.9}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1, "eps": 1e-3}),
    (optim.Adagrad, ref_adagrad, {}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.3, "eps": 1e-3}),
    # PyTorch's further options
    (optim.SGD, ref_sgd, {"lr": 0.1, "maximize": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.8, "dampening": 1.0, "weight_decay": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.7, "weight_decay": 0.2, "maximize": True}),
    (optim.Adam, ref_adam, {"lr": 0.05, "amsgrad": True}),
    (optim.Adam, ref_adam, {"lr": 0.05, "maximize": True}),
    (optim.Adam, ref_adam, {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    (optim.AdamW, ref_adamw, {"lr": 0.05, "amsgrad": True, "betas": (0.5, 0.9)}),
    (optim.AdamW, ref_adamw, {"lr": 0.05, "maximize": True, "weight_decay": 0.3}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.02, "centered": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.02, "centered": True, "momentum": 0.5, "alpha": 0.9}),
    (optim.RMSprop, ref_rmsprop, {"maximize": True, "weight_decay": 0.1}),
    (optim.RMSprop, ref_rmsprop, {"maximize": True, "centered": True, "momentum": 0.3}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.3, "lr_decay": 0.5}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.3, "initial_accumulator_value": 2.0}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.3, "maximize": True, "lr_decay": 0.1}),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _, _) in enumerate(CASES)]

# (), a vector, a matrix, and matrices of more than a 256 KB block of rows (updated in
# blocks, the last one shorter) in either dtype
SHAPES = [(), (5,), (3, 4), (1100, 70), (2, 300, 250)]


def assert_close(actual, expected, dtype, loose: float = 1.0) -> None:
    """Equal up to rounding: float64 to 1e-10; float32 to 2e-5, and in absolute terms to
    2e-6 of the array's largest magnitude (a sum of terms of that size cancelling)."""
    if dtype == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-10 * loose, atol=1e-12)
    else:
        scale = max(1.0, float(np.max(np.abs(expected))))
        np.testing.assert_allclose(actual, expected, rtol=2e-5 * loose, atol=2e-6 * scale)


def run_against_reference(cls, ref, kw, arrays, grads_per_step):
    """Run ours (each gradient set as ``.grad``) and the reference; return both and ``opt``."""
    params = [al.Value(a) if isinstance(a, float) else al.Value(a.copy()) for a in arrays]
    opt = cls(params, **kw)
    ref_w = [np.array(a, dtype=np.float64) for a in arrays]
    ref_s: list[dict] = [{} for _ in arrays]
    for t, grads in enumerate(grads_per_step, 1):
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        for j, g in enumerate(grads):
            ref_w[j], ref_s[j] = ref(ref_w[j], np.asarray(g, dtype=np.float64), ref_s[j], t, **kw)
    return params, opt, ref_w, ref_s


def gradients(rng, arrays, steps):
    out = []
    for _ in range(steps):
        out.append(
            [
                float(rng.normal())
                if isinstance(a, float)
                else rng.normal(size=a.shape).astype(a.dtype)
                for a in arrays
            ]
        )
    return out


def _raw(a):
    """A state entry's bytes (an array) or value (Adam's step count)."""
    return a.tobytes() if isinstance(a, np.ndarray) else a


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("cls", "ref", "kw"), CASES, ids=IDS)
def test_each_rule_follows_pytorchs_algorithm_in_place(cls, ref, kw, dtype, rng):
    arrays = [rng.normal(size=s).astype(dtype) for s in SHAPES] + [0.7]  # and a float
    params, opt, ref_w, ref_s = run_against_reference(
        cls, ref, kw, arrays, gradients(rng, arrays, 1)
    )
    data = [p._data for p in params]
    state = [dict(s) for s in opt.state]
    scratch = list(opt._scratch)
    more = gradients(rng, arrays, 4)
    for grads in more:  # (the reference continues from its own first step)
        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        for j, g in enumerate(grads):
            ref_w[j], ref_s[j] = ref(
                ref_w[j], np.asarray(g, dtype=np.float64), ref_s[j], opt.steps, **kw
            )
        for j, p in enumerate(params[:-1]):  # the arrays of the first step, changed in place
            if type(data[j]) is not np.ndarray:
                continue  # a float64 0-d array is stored as a float
            assert p._data is data[j] and p.data is data[j]
            assert opt._scratch[j] is scratch[j]
            assert opt.state[j].keys() == state[j].keys()
            arrays_kept = [k for k in state[j] if k != "step"]  # (Adam's count: a number)
            assert all(opt.state[j][k] is state[j][k] for k in arrays_kept)
            if "step" in state[j]:
                assert opt.state[j]["step"] == opt.steps  # every parameter updated every step
    assert opt.steps == 5
    for j, (p, w) in enumerate(zip(params, ref_w)):
        if type(arrays[j]) is float or (dtype == np.float64 and SHAPES[j] == ()):
            assert type(p.data) is float  # a float parameter stays a float
            np.testing.assert_allclose(p.data, w, rtol=1e-12)
            continue
        assert p.data.dtype == dtype and p.data.shape == SHAPES[j]  # float32 stays float32
        assert_close(p.data, w, dtype)
        assert opt.state[j].keys() - {"step"} == ref_s[j].keys()  # (Adam's count: above)
        for k, expected in ref_s[j].items():
            got = opt.state[j][k]
            assert got.dtype == p.data.dtype and got.shape == p.shape
            assert_close(got, expected, dtype)


@settings(max_examples=40, deadline=None)
@given(
    case=st.sampled_from(CASES),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=6),
    dtype=st.sampled_from([np.float64, np.float32]),
    lr=st.floats(1e-3, 0.5),
    steps=st.integers(1, 5),
    seed=st.integers(0, 2**31),
)
def test_any_shape_and_learning_rate_follows_the_reference(case, shape, dtype, lr, steps, seed):
    cls, ref, kw = case
    kw = {**kw, "lr": lr}
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape).astype(dtype)]
    params, _, ref_w, _ = run_against_reference(cls, ref, kw, arrays, gradients(rng, arrays, steps))
    assert np.asarray(params[0].data).dtype == dtype  # (a float64 0-d array is a float)
    assert_close(params[0].data, ref_w[0], dtype, loose=10)


@pytest.mark.parametrize(("cls", "ref", "kw"), CASES, ids=IDS)
def test_a_bad_gradient_on_the_last_parameter_changes_nothing_bit_for_bit(cls, ref, kw, rng):
    arrays = [rng.normal(size=s) for s in SHAPES] + [0.7]
    arrays[1] = arrays[1].astype(np.float32)
    params = [al.Value(a) if isinstance(a, float) else al.Value(a.copy()) for a in arrays]
    last = al.Value(rng.normal(size=(4, 3)), label="last")
    opt = cls([*params, last], **kw)
    for grads in gradients(rng, [*arrays, last.data], 3):  # a few good steps: state to keep
        for p, g in zip([*params, last], grads):
            p.grad = g
        opt.step()

    def snapshot():
        return (
            opt.steps,
            [repr(p.data) if type(p.data) is float else p.data.tobytes() for p in params],
            [p._data for p in params],
            [{k: (a, _raw(a)) for k, a in s.items()} for s in opt.state],
        )

    def unchanged(before):
        steps, data, arrays_, state = before
        assert opt.steps == steps
        now = snapshot()
        assert now[1] == data  # every parameter, bit for bit
        assert all(a is b for a, b in zip(now[2], arrays_))
        for s, s0 in zip(opt.state, state):
            assert s.keys() == s0.keys()
            for k, (arr, raw) in s0.items():
                assert s[k] is arr and _raw(s[k]) == raw  # the same array (or count), unchanged

    good = gradients(rng, [*arrays, last.data], 1)[0]
    for p, g in zip(params, good):
        p.grad = g
    last_data = last.data.copy()
    if opt.refuses_non_finite:
        bad = good[-1].copy()
        bad[2, 1] = np.nan
        last.grad = bad
        before = snapshot()
        with pytest.raises(ValueError, match=r"(?s)parameter 6 .* non-finite"):
            opt.step()
        unchanged(before)
        np.testing.assert_array_equal(last.data, last_data)
    # a gradient that does not fit: the last parameter was rebound to another shape
    last.grad = good[-1]
    last.data = np.zeros((5, 3))
    before = snapshot()
    with pytest.raises(ValueError, match=r"parameter 6 'last' has shape \(5, 3\) but its"):
        opt.step()
    unchanged(before)
    # a gradient that fits the rebound parameter, but the state of its old shape does not
    last.grad = np.ones((5, 3))
    if opt.state[-1]:
        with pytest.raises(ValueError, match=r"state\['.*'\] of parameter 6 has shape \(4, 3\)"):
            opt.step()
        unchanged(before)
        for k in list(opt.state[-1]):  # dropping the stale state starts it afresh
            del opt.state[-1][k]
    opt.step()  # and the next good step works
    assert opt.steps == before[0] + 1 and last.data.shape == (5, 3)


@pytest.mark.parametrize(("cls", "ref", "kw"), CASES, ids=IDS)
def test_a_parameter_a_pending_backward_needs_is_rebound_and_the_graph_keeps_its_data(
    cls, ref, kw, rng
):
    w0 = rng.normal(size=(3, 4))
    w = al.Value(w0.copy(), label="w")
    opt = cls([w], **kw)
    ref_w, ref_s = w0.copy(), {}
    for t in range(1, 4):
        opt.zero_grad()
        (w * w * 0.5).sum().backward()  # gradient w
        pending = (w * w).sum()  # its backward needs w's data as it is now
        before = w.data.copy()
        opt.step()
        ref_w, ref_s = ref(ref_w, before, ref_s, t, **kw)
        np.testing.assert_allclose(w.data, ref_w, rtol=1e-12, atol=1e-14)
        opt.zero_grad()
        pending.backward()
        np.testing.assert_array_equal(w.grad, 2 * before)  # the graph's data, untouched
        for k, expected in ref_s.items():
            np.testing.assert_allclose(opt.state[0][k], expected, rtol=1e-12, atol=1e-14)
    arr = w.data
    w.grad = np.ones((3, 4))
    opt.step()  # nothing pending now: in place again
    assert w.data is arr


def test_gradients_recorded_with_create_graph_and_numpy_scalars_are_used_as_numbers():
    w = al.Value(np.array([1.0, -2.0]))
    s = al.Value(np.array(1.5, dtype=np.float32))  # a 0-d float32 array
    opt = optim.Adam([w, s], lr=0.1)
    ((w**3).sum() + s * s).backward(create_graph=True)
    assert isinstance(w._grad, al.Value)
    opt.step()
    ref_w, _ = ref_adam(np.array([1.0, -2.0]), np.array([3.0, 12.0]), {}, 1, lr=0.1)
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
    ref_s, _ = ref_adam(np.array(1.5), np.array(3.0), {}, 1, lr=0.1)
    assert s.data.dtype == np.float32 and s.data.shape == ()
    np.testing.assert_allclose(s.data, ref_s, rtol=1e-6)
    s.zero_grad()
    s._grad = np.float32(2.0)  # what numpy's 0-d sums give back (a scalar, not an array)
    w.zero_grad()
    opt.step()
    np.testing.assert_allclose(opt.state[1]["exp_avg"], 0.9 * 0.3 + 0.1 * 2.0, rtol=1e-6)


def test_learning_rate_schedules_and_changed_options_take_effect_at_the_next_step(rng):
    w0 = rng.normal(size=(4, 5))
    w = al.Value(w0.copy())
    opt = optim.Adam([w], lr=0.1)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    ref_w, ref_s = w0.copy(), {}
    for t in range(1, 5):
        g = rng.normal(size=(4, 5))
        w.grad = g
        lr = opt.lr
        opt.step()
        ref_w, ref_s = ref_adam(ref_w, g, ref_s, t, lr=lr, weight_decay=opt.weight_decay)
        np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
        sched.step()
        opt.weight_decay = 0.1 * t  # (changes how many scratch buffers the rule needs)


class ClippedAdam(optim.Adam):
    """A user's subclass: its own ``_update`` that adjusts the gradient and calls Adam's."""

    def _update(self, p, g, state, t):
        return super()._update(p, np.clip(g, -0.5, 0.5), state, t)


class Sign(optim.Optimizer):
    """A user's rule of their own, written as ``_update`` on the base class."""

    def _update(self, p, g, state, t):
        n = state.get("n", 0) + 1
        return self.lr * np.sign(g), {"n": n}


def test_subclasses_that_define_update_keep_working(rng):
    w0, scalar = rng.normal(size=(3, 3)), 0.25
    w, s = al.Value(w0.copy()), al.Value(scalar)
    opt = ClippedAdam([w, s], lr=0.1)
    ref_w, ref_s = w0.copy(), {}
    ref_x, ref_xs = np.array(scalar), {}
    for t in range(1, 4):
        g = 2 * rng.normal(size=(3, 3))
        w.grad, s.grad = g, 3.0
        opt.step()
        ref_w, ref_s = ref_adam(ref_w, np.clip(g, -0.5, 0.5), ref_s, t, lr=0.1)
        ref_x, ref_xs = ref_adam(ref_x, np.array(0.5), ref_xs, t, lr=0.1)
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
    np.testing.assert_allclose(s.data, ref_x, rtol=1e-12)
    assert type(s.data) is float
    np.testing.assert_allclose(opt.state[0]["exp_avg"], ref_s["exp_avg"], rtol=1e-12)
    v = al.Value(np.array([1.0, -2.0, 0.0]))
    sign = Sign([v], lr=0.5)
    for _ in range(2):
        v.grad = [3.0, -0.1, 0.0]
        sign.step()
    np.testing.assert_array_equal(v.data, [0.0, -1.0, 0.0])
    assert sign.state[0] == {"n": 2} and sign.steps == 2
    assert repr(sign) == "Sign(lr=0.5, 1 parameters)"


def test_a_state_array_kept_by_the_caller_follows_the_steps():
    """As in PyTorch: the moments are updated in place, so a reference to them changes."""
    w = al.Value(np.array([1.0, 2.0]))
    opt = optim.Adam([w], lr=0.1)
    w.grad = [1.0, 1.0]
    opt.step()
    kept = opt.state[0]["exp_avg"]
    np.testing.assert_allclose(kept, [0.1, 0.1])
    w.grad = [1.0, 1.0]
    opt.step()
    np.testing.assert_allclose(kept, [0.19, 0.19])


def test_a_gradient_that_is_the_parameters_own_array_is_read_before_the_update():
    """``p.grad = p.data`` (the same array): every rule reads g before it writes w."""
    for cls, ref, kw in CASES:
        w = al.Value(np.array([[1.0, -2.0], [0.5, 3.0]]))
        opt = cls([w], **kw)
        w.grad = w.data  # kept uncopied: the very array the step writes
        assert w._grad is w._data
        opt.step()
        expected, _ = ref(
            np.array([[1.0, -2.0], [0.5, 3.0]]), np.array([[1.0, -2.0], [0.5, 3.0]]), {}, 1, **kw
        )
        np.testing.assert_allclose(w.data, expected, rtol=1e-12, err_msg=f"{cls.__name__} {kw}")


def test_a_parameter_rebound_to_another_dtype_or_from_a_float_carries_its_state_over():
    """State that no longer fits the parameter's dtype (or was a scalar's) becomes a new
    array of the parameter's dtype with the same numbers, before the step changes anything."""
    w = al.Value(np.array([1.0, -2.0]))
    opt = optim.Adam([w], lr=0.1)
    w.grad = [0.5, 0.5]
    opt.step()
    m = opt.state[0]["exp_avg"].copy()
    w.data = w.data.astype(np.float32)
    w.grad = np.array([0.5, 0.5], dtype=np.float32)
    opt.step()
    assert w.data.dtype == np.float32 and opt.state[0]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(opt.state[0]["exp_avg"], 0.9 * m + 0.05, rtol=1e-6)
    s = al.Value(0.5)
    opt = optim.RMSprop([s], lr=0.1, momentum=0.5)
    s.grad = 2.0
    opt.step()
    v = float(opt.state[0]["square_avg"])
    s.data = np.array([0.5, 0.5, 0.5])  # a scalar that became a vector: the state broadcasts
    s.grad = [2.0, 2.0, 2.0]
    opt.step()
    np.testing.assert_allclose(opt.state[0]["square_avg"], 0.99 * v + 0.01 * 4.0, rtol=1e-12)


def test_state_arrays_the_caller_puts_in_are_used_and_then_updated_in_place(rng):
    """Loading state (as from a checkpoint): the next step reads the given arrays."""
    w0 = rng.normal(size=(3, 4))
    w = al.Value(w0.copy())
    opt = optim.Adam([w], lr=0.1)
    ref_w, ref_s = w0.copy(), {}
    for t in range(1, 4):
        g = rng.normal(size=(3, 4))
        if t == 3:  # replace the moments, and the parameter's array, between steps
            mine = {"exp_avg": np.full((3, 4), 0.5), "exp_avg_sq": np.full((3, 4), 2.0)}
            opt.state[0].update(mine)
            ref_s = {k: v.copy() for k, v in mine.items()}
            w.data = ref_w.copy()
        w.grad = g
        opt.step()
        ref_w, ref_s = ref_adam(ref_w, g, ref_s, t, lr=0.1)
        np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
    assert opt.state[0]["exp_avg"] is mine["exp_avg"]  # the caller's array, updated in place
    np.testing.assert_allclose(mine["exp_avg_sq"], ref_s["exp_avg_sq"], rtol=1e-12)


@pytest.mark.parametrize(
    ("cls", "ref", "kw"),
    [
        (optim.Adam, ref_adam, {}),
        (optim.AdamW, ref_adamw, {}),
        (optim.Adagrad, ref_adagrad, {"lr_decay": 0.5}),  # its decay counts by state["step"]
        (optim.SGD, ref_sgd, {"momentum": 0.9, "dampening": 0.5}),  # the first is undamped
    ],
)
def test_a_rule_that_counts_steps_counts_each_parameters_own_updates(cls, ref, kw, rng):
    # PyTorch keeps state["step"] per parameter: one without a gradient on some steps (a
    # frozen layer, a branch not taken) is corrected by the updates it had, not by opt.steps
    a, b = al.Value(rng.normal(size=3)), al.Value(rng.normal(size=2))
    opt = cls([a, b], lr=0.1, **kw)
    ref_a, ref_b, s_a, s_b, t_b = a.data.copy(), b.data.copy(), {}, {}, 0
    for t in range(1, 6):
        ga = rng.normal(size=3)
        a.grad, b.grad = ga, None
        ref_a, s_a = ref(ref_a, ga, s_a, t, lr=0.1, **kw)
        if t in (2, 4, 5):  # b has a gradient on three of the five steps
            gb = rng.normal(size=2)
            b.grad = gb
            t_b += 1
            ref_b, s_b = ref(ref_b, gb, s_b, t_b, lr=0.1, **kw)
        opt.step()
    assert opt.steps == 5 and opt.state[0]["step"] == 5 and opt.state[1]["step"] == 3
    np.testing.assert_allclose(a.data, ref_a, rtol=1e-12)
    np.testing.assert_allclose(b.data, ref_b, rtol=1e-12)  # with t = 3, not 5


@pytest.mark.parametrize("count", [-3, 2.5, float("inf"), True])
def test_adam_refuses_a_step_count_that_is_no_count_and_changes_nothing(count):
    w = al.Value(np.array([1.0, 2.0]))
    opt = optim.Adam([w], lr=0.1)
    w.grad = np.array([0.5, -0.5])
    opt.step()
    opt.state[0]["step"] = count  # (a state loaded from elsewhere, say)
    before = (w.data.copy(), opt.state[0]["exp_avg"].copy(), opt.steps)
    with pytest.raises(ValueError, match=rf"Adam: state\['step'\] of parameter 0 .* got {count}"):
        opt.step()
    np.testing.assert_array_equal(w.data, before[0])
    np.testing.assert_array_equal(opt.state[0]["exp_avg"], before[1])
    assert opt.steps == before[2]


@pytest.mark.parametrize(("cls", "key"), [(optim.Adam, "exp_avg"), (optim.RMSprop, "square_avg")])
def test_a_state_array_the_caller_froze_is_not_written(cls, key, rng):
    # the step after a caller made a state array read-only: no failure halfway through
    # (the frozen array keeps its numbers; the state gets a fresh array and the right ones)
    ps = [al.Value(rng.normal(size=(4, 3))) for _ in range(3)]
    ref_w = [p.data.copy() for p in ps]
    ref_s: list[dict] = [{} for _ in ps]
    opt = cls(ps, lr=0.05)
    ref = ref_adam if cls is optim.Adam else ref_rmsprop
    for t in (1, 2, 3):
        grads = [rng.normal(size=(4, 3)) for _ in ps]
        if t == 3:
            frozen = opt.state[1][key]
            frozen.setflags(write=False)
            kept = frozen.copy()
        for j, (p, g) in enumerate(zip(ps, grads)):
            p.grad = g
            ref_w[j], ref_s[j] = ref(ref_w[j], g, ref_s[j], t, lr=0.05)
        opt.step()
    np.testing.assert_array_equal(frozen, kept)
    assert opt.state[1][key] is not frozen
    for j, p in enumerate(ps):
        np.testing.assert_allclose(p.data, ref_w[j], rtol=1e-10)
        np.testing.assert_allclose(opt.state[j][key], ref_s[j][key], rtol=1e-10)


MAXIMIZING = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    (optim.Adam, {"lr": 0.1, "weight_decay": 0.1, "amsgrad": True}),
    (optim.AdamW, {"lr": 0.1}),
    (optim.RMSprop, {"weight_decay": 0.1, "centered": True}),
    (optim.Adagrad, {"lr": 0.1}),
]


@pytest.mark.parametrize(("cls", "kw"), MAXIMIZING)
def test_maximize_is_the_rule_on_the_negated_gradient_bit_for_bit(cls, kw, rng):
    w0 = rng.normal(size=(40, 3))
    up, down = al.Value(w0.copy()), al.Value(w0.copy())
    ascent, descent = cls([up], maximize=True, **kw), cls([down], **kw)
    for _ in range(4):
        g = rng.normal(size=w0.shape)
        up.grad, down.grad = g, -g
        ascent.step()
        descent.step()
    assert up.data.tobytes() == down.data.tobytes()
    assert not np.array_equal(up.data, w0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda w: optim.SGD(w, lr=0.1, dampening=1.5),
            "SGD: dampening must be in [0, 1], got 1.5",
        ),
        (
            lambda w: optim.SGD(w, lr=0.1, momentum=0.9, nesterov=True, dampening=0.1),
            "SGD: nesterov=True needs a momentum > 0 and dampening 0",
        ),
        (lambda w: optim.SGD(w, lr=0.1, maximize="yes"), "SGD: maximize must be True or False"),
        (lambda w: optim.Adam(w, amsgrad=None), "Adam: amsgrad must be True or False, got None"),
        (lambda w: optim.AdamW(w, maximize=2), "AdamW: maximize must be True or False, got 2"),
        (lambda w: optim.RMSprop(w, centered="no"), "RMSprop: centered must be True or False"),
        (lambda w: optim.Adagrad(w, lr_decay=-0.1), "Adagrad: lr_decay must be >= 0, got -0.1"),
        (
            lambda w: optim.Adagrad(w, initial_accumulator_value=-1),
            "Adagrad: initial_accumulator_value must be >= 0, got -1",
        ),
    ],
)
def test_bad_option_values_are_refused_with_the_value(make, message):
    with pytest.raises(ValueError) as info:
        make([al.Value(1.0)])
    assert message in str(info.value)
