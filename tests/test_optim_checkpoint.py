"""Optimizer checkpoints: ``state_dict`` / ``load_state_dict`` and ``al.save_checkpoint``.

Training that stops, saves, and resumes in a fresh model and optimizer must end bit
for bit where the uninterrupted run ends; a state_dict that does not fit is refused
before anything changes.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim
from autograd_lite.io import CheckpointError

MAKERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.05),
    "SGD-momentum-nesterov-decay": lambda ps: optim.SGD(
        ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01
    ),
    "Adam": lambda ps: optim.Adam(ps, lr=0.01),
    "Adam-decay": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
    "RMSprop-momentum": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1),
    # the options that keep more state: a step count, a running maximum, a running mean
    "SGD-dampening": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.3),
    "Adam-amsgrad-maximize": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, maximize=True),
    "RMSprop-centered": lambda ps: optim.RMSprop(ps, lr=0.01, centered=True),
    "Adagrad-lr_decay-initial": lambda ps: optim.Adagrad(
        ps, lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5
    ),
}


def model(dtype=np.float64) -> nn.Module:
    net = nn.Sequential(nn.Linear(4, 6, seed=1), nn.ReLU(), nn.Linear(6, 3, seed=2))
    for p in net.parameters():
        p.data = p.data.astype(dtype)
    return net


def batches(steps: int, dtype) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    return [
        (rng.normal(size=(5, 4)).astype(dtype), rng.integers(0, 3, size=5)) for _ in range(steps)
    ]


def train(net, opt, data) -> None:
    loss = nn.CrossEntropyLoss()
    for X, y in data:
        opt.zero_grad()
        loss(net(al.Value(X, requires_grad=False)), y).backward()
        opt.step()


def snapshot(net, opt) -> list:
    """Every parameter's and state entry's bytes, the step counts, the learning rate."""
    out = [p.data.tobytes() for p in net.parameters()]
    for s in opt.state:
        out += [(k, v.tobytes() if isinstance(v, np.ndarray) else v) for k, v in sorted(s.items())]
    return [*out, opt.steps, opt.lr]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("how", ["state_dict", "save_checkpoint"])
@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_training_resumed_from_a_checkpoint_ends_bitwise_equal(make, how, dtype, tmp_path):
    data = batches(9, dtype)
    net = model(dtype)
    opt = make(net.parameters())
    train(net, opt, data)  # uninterrupted
    expected = snapshot(net, opt)

    first = model(dtype)
    opt1 = make(first.parameters())
    train(first, opt1, data[:4])
    fresh = model(dtype)
    for p in fresh.parameters():  # nothing of the first run left in the fresh model
        p.data = p.data + 1.0
    opt2 = make(fresh.parameters())
    if how == "state_dict":
        al.save(first, tmp_path / "model.npz")
        sd = opt1.state_dict()
        train(first, opt1, data[4:6])  # the saved dict is a snapshot: later steps don't reach it
        al.load(fresh, tmp_path / "model.npz")
        opt2.load_state_dict(sd)
    else:
        al.save_checkpoint(first, opt1, tmp_path / "run.npz")
        train(first, opt1, data[4:6])
        al.load_checkpoint(fresh, opt2, tmp_path / "run.npz")
    train(fresh, opt2, data[4:])
    assert snapshot(fresh, opt2) == expected


def test_a_scalar_parameter_and_a_changed_learning_rate_are_resumed():
    w = al.Value(2.0)
    opt = optim.Adam([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (w * w).backward()
        opt.step()
    opt.lr = 0.02  # (as a schedule would)
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        {
            "lr": 0.02,
            "betas": (0.9, 0.999),
            "eps": 1e-8,
            "weight_decay": 0.0,
            "amsgrad": False,
            "maximize": False,
            "params": [0],
        }
    ]
    v = al.Value(w.data)
    opt2 = optim.Adam([v])
    opt2.load_state_dict(sd)
    for o, p in ((opt, w), (opt2, v)):
        o.zero_grad()
        (p * p).backward()
        o.step()
    assert v.data == w.data and opt2.lr == 0.02 and opt2.state[0]["step"] == 4


def test_loaded_arrays_are_writeable_copies_that_replace_what_the_last_step_left(rng):
    grads = [rng.normal(size=(3, 2)) for _ in range(6)]

    def run(opt, w, gs):
        for g in gs:
            w.grad = g
            opt.step()

    w = al.Value(np.ones((3, 2)))
    opt = optim.RMSprop([w], lr=0.01, momentum=0.9)
    run(opt, w, grads[:3])
    sd = opt.state_dict()
    at3 = w.data.copy()
    run(opt, w, grads[3:])
    expected = w.data.copy()

    # an optimizer that has stepped on other numbers (its fast path holds its own arrays)
    v = al.Value(np.ones((3, 2)))
    other = optim.RMSprop([v], lr=0.01, momentum=0.9)
    run(other, v, grads[::-1])
    held = [other.state[0][k] for k in ("square_avg", "momentum_buffer")]
    v.data[...] = at3  # the same parameter array as the cache knows
    other.load_state_dict(sd)
    for k, old in zip(("square_avg", "momentum_buffer"), held):
        a = other.state[0][k]
        assert a is not old and a is not sd["state"][0][k] and a.flags.writeable
    sd["state"][0]["square_avg"][...] = 1e9  # the caller's dict stays the caller's
    run(other, v, grads[3:])
    assert v.data.tobytes() == expected.tobytes()


def fitted():
    w, b = al.Value(np.ones((3, 2))), al.Value(np.zeros(2, dtype=np.float32))
    opt = optim.Adam([w, b], lr=0.1)
    w.grad, b.grad = np.ones((3, 2)), np.ones(2, dtype=np.float32)
    opt.step()
    return w, b, opt


def _changed(sd, path, value):
    """A deep-enough copy of ``sd`` with the entry at ``path`` set (or removed: ``...``)."""
    sd = {**sd, "state": {i: dict(e) for i, e in sd["state"].items()}}
    sd["param_groups"] = [dict(g) for g in sd["param_groups"]]
    *where, last = path
    target = sd
    for k in where:
        target = target[k]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return sd


BAD = [
    (("optimizer",), "SGD", "is an SGD's, not an Adam's"),
    (("param_groups", 0, "params"), [0], "is for 1 parameters, this optimizer has 2"),
    (("param_groups", 0, "momentum"), 0.9, "unknown key 'momentum'"),
    (("param_groups", 0, "eps"), ..., "missing the hyper-parameter 'eps'"),
    (("param_groups", 0, "betas"), (0.9, 1.5), "betas must be in [0, 1)"),
    (("param_groups", 0, "lr"), -1.0, "['lr'] must be a number >= 0"),
    (("state", 1, "exp_avg"), np.zeros(3, dtype=np.float32), "parameter 1: state['exp_avg'] has"),
    (("state", 1, "exp_avg_sq"), np.zeros(2), "parameter 1: state['exp_avg_sq'] has shape (2,)"),
    (("state", 0, "momentum_buffer"), np.zeros((3, 2)), "parameter 0: unknown state key"),
    (("state", 0, "exp_avg"), ..., "parameter 0: state key 'exp_avg' is missing"),
    (("state", 0, "step"), -2, "parameter 0: state['step'] must be a whole number"),
    (("state", 0, "exp_avg"), [[0.0, 0.0]] * 3, "parameter 0: state['exp_avg'] must be an array"),
    (("state", 2), {}, "an entry for parameter 2; there are 2"),
    (("state", 0, "step"), float("inf"), "state['step'] must be a whole number >= 0, got inf"),
    (("steps",), 1.5, "'steps' must be a whole number"),
    (("steps",), float("inf"), "'steps' must be a whole number >= 0, got inf"),
    (("extra",), 1, "unknown key 'extra'"),
]


@pytest.mark.parametrize(("path", "value", "message"), BAD, ids=[m for _, _, m in BAD])
def test_a_state_dict_that_does_not_fit_is_refused_and_changes_nothing(path, value, message):
    sd = fitted()[2].state_dict()
    target = optim.Adam([al.Value(np.ones((3, 2))), al.Value(np.ones(2, dtype=np.float32))])
    target.params[0].grad = np.ones((3, 2))
    target.step()
    before = target.state_dict()
    with pytest.raises(ValueError, match=r"Adam\.load_state_dict: ") as info:
        target.load_state_dict(_changed(sd, path, value))
    assert message in str(info.value) and "the optimizer is unchanged" in str(info.value)
    after = target.state_dict()
    assert after["param_groups"] == before["param_groups"] and after["steps"] == before["steps"]
    assert after["state"].keys() == before["state"].keys()
    for i, entry in before["state"].items():
        for k, v in entry.items():
            assert np.array_equal(after["state"][i][k], v)


def test_load_checkpoint_checks_model_and_optimizer_before_changing_either(tmp_path):
    net = model()
    opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    train(net, opt, batches(2, np.float64))
    path = al.save_checkpoint(net, opt, tmp_path / "run.npz")

    other = nn.Sequential(nn.Linear(4, 5, seed=1), nn.ReLU(), nn.Linear(5, 3, seed=2))
    other_opt = optim.SGD(other.parameters(), lr=0.3, momentum=0.5)
    weights = [p.data.copy() for p in other.parameters()]
    with pytest.raises(CheckpointError, match=r"load_checkpoint: .*run\.npz: .*parameter 0"):
        al.load_checkpoint(other, other_opt, path)  # the optimizer's check comes first
    assert other_opt.lr == 0.3 and other_opt.momentum == 0.5 and other_opt.state[0] == {}
    assert all(np.array_equal(p.data, w) for p, w in zip(other.parameters(), weights))

    # the optimizer fits, the model does not (other names): neither changes
    keyed = nn.Sequential(nn.Linear(4, 6, seed=3), nn.Linear(6, 3, seed=4))
    fits = optim.SGD(keyed.parameters(), lr=0.3, momentum=0.5)
    weights = [p.data.copy() for p in keyed.parameters()]
    with pytest.raises(CheckpointError, match="missing key"):
        al.load_checkpoint(keyed, fits, path)
    assert fits.lr == 0.3 and fits.momentum == 0.5 and fits.state[0] == {}
    assert all(np.array_equal(p.data, w) for p, w in zip(keyed.parameters(), weights))

    # a file of the model alone is no checkpoint of training
    al.save(net, tmp_path / "model.npz")
    with pytest.raises(CheckpointError, match="holds no optimizer state"):
        al.load_checkpoint(net, opt, tmp_path / "model.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(CheckpointError, match=r"^load_checkpoint: .*not a valid \.npz"):
        al.load_checkpoint(net, opt, tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match=r"^load_checkpoint: no checkpoint file"):
        al.load_checkpoint(net, opt, tmp_path / "missing.npz")


def test_options_loaded_from_a_state_dict_replace_the_optimizers_own(rng):
    # an Adagrad made with a starting sum resumes one made without: new sums start at 0
    w, v = al.Value(np.ones(3)), al.Value(np.ones(3))
    plain = optim.Adagrad([w], lr=0.1)
    other = optim.Adagrad([v], lr=0.3, initial_accumulator_value=5.0, maximize=True)
    other.load_state_dict(plain.state_dict())  # (no state yet: only the options)
    g = rng.normal(size=3)
    w.grad = v.grad = g
    plain.step()
    other.step()
    assert other.initial_accumulator_value == 0.0 and not other.maximize and other.lr == 0.1
    assert w.data.tobytes() == v.data.tobytes()
    assert other.state[0]["sum"].tobytes() == plain.state[0]["sum"].tobytes()


@pytest.mark.parametrize(
    "meta", ["{not json", '["a list"]', '{"param_groups": []}', '{"counts": {"x": {}}}']
)
def test_a_checkpoint_with_a_broken_optimizer_record_is_refused(meta, tmp_path):
    net = nn.Linear(2, 2, seed=0)
    opt = optim.Adam(net.parameters(), lr=0.1)
    path = tmp_path / "run.npz"
    arrays = {"model/weight": net.weight.data * 2, "model/bias": net.bias.data * 2}
    np.savez(path, **arrays, **{"optimizer/meta": np.array(meta)})
    weight = net.weight.data.copy()
    with pytest.raises(CheckpointError, match=r"load_checkpoint: .*run\.npz: "):
        al.load_checkpoint(net, opt, path)
    assert np.array_equal(net.weight.data, weight) and opt.lr == 0.1


class Counting(optim.Optimizer):
    """A rule of one's own (``_update``) that keeps a list of the step sizes in its state."""

    def _update(self, p, g, state, t):
        sizes = [*state.get("sizes", []), t]
        return self.lr * np.sign(g), {"sizes": sizes, "last": np.array(g, dtype=float)}


def test_a_rule_of_ones_own_is_saved_and_resumed_with_any_state(rng):
    w = al.Value(np.zeros(3))
    opt = Counting([w], lr=0.5)
    for _ in range(2):
        w.grad = rng.normal(size=3)
        opt.step()
    sd = opt.state_dict()
    opt.state[0]["sizes"].append(99)  # the snapshot does not follow
    assert sd["state"][0]["sizes"] == [1, 2]
    other = Counting([al.Value(w.data.copy())], lr=0.1)
    other.load_state_dict(sd)
    sd["state"][0]["sizes"].append(7)  # nor does the loaded state follow the dict
    assert other.state[0]["sizes"] == [1, 2] and other.lr == 0.5 and other.steps == 2
    with pytest.raises(ValueError, match="unknown key 'momentum'"):
        other.load_state_dict({**sd, "param_groups": [{**sd["param_groups"][0], "momentum": 0.9}]})
