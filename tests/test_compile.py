"""``al.compile``: compiled and eager results are equal (value and every gradient).

The op sweep takes its sample inputs from ``tests/test_ops.py`` (``cases_for``), so a
new op in the table is compiled here as soon as it has gradient cases there.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from support import load_example
from test_ops import OPS, cases_for

import autograd_lite as al
from autograd_lite import nn, optim
from autograd_lite.compiler import CompileCheckError, CompileError
from autograd_lite.compiler.trace import refuse_side_effect


def _seed(out: al.Value) -> object:
    return None if out.ndim == 0 else np.linspace(0.5, 1.5, out.size).reshape(out.shape)


def _grads(values: list) -> list:
    return [None if v._grad is None else np.array(v.grad) for v in values]


def _eager(fn, values: list) -> tuple:
    for v in values:
        v.zero_grad()
    out = fn(*values)
    out.backward(_seed(out))
    result = np.array(out.data), _grads(values)
    for v in values:
        v.zero_grad()
    return result


def assert_same(fn, values: list, fast=None, what: str = "") -> None:
    """``fast(*values)`` (compiled ``fn``) gives eager's value and gradients."""
    expected, expected_grads = _eager(fn, values)
    fast = fast or al.compile(fn)
    out = fast(*values)
    assert out.shape == expected.shape, what
    tol = 1e-5 if expected.dtype == np.float32 else 1e-7  # float32: rounding of equal formulas
    np.testing.assert_allclose(out.data, expected, rtol=tol, atol=tol * 1e-3, err_msg=what)
    out.backward(_seed(out))
    for i, (v, g) in enumerate(zip(values, expected_grads)):
        got = None if v._grad is None else v.grad
        if g is None:
            assert got is None or not np.any(got), f"{what}: input {i} got a gradient"
            continue
        assert got is not None, f"{what}: input {i} got no gradient"
        assert np.shape(got) == np.shape(g), what
        assert np.asarray(got).dtype == np.asarray(g).dtype, what
        np.testing.assert_allclose(got, g, rtol=tol, atol=tol * 1e-3, err_msg=f"{what}: input {i}")
    for v in values:
        v.zero_grad()


def _moved(values: list) -> list:
    """The same inputs with other numbers (same shapes): a second call must not be stale."""
    out = []
    for v in values:
        d = v.data
        new = d * 0.9 + 0.05 if isinstance(d, float) else np.asarray(d) * 0.9 + 0.05
        out.append(al.Value(new, label=v.label, requires_grad=v.requires_grad))
    return out


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_every_op_compiles_to_eager_results(op) -> None:
    for case in cases_for(op):
        for dtype in (np.float64, np.float32) if case.f32 else (np.float64,):
            if dtype is np.float32 and not all(isinstance(x, np.ndarray) for x in case.inputs):
                continue
            values = case.values(dtype)
            fast = al.compile(case.fn)
            what = f"{op.name} [{case.name}] {np.dtype(dtype).name}"
            assert_same(case.fn, values, fast, what)
            moved = _moved(values)
            if op.name == "max" or op.name.startswith("index"):
                moved = values  # ties and integer indices: keep the traced numbers
            assert_same(case.fn, moved, fast, what + " (second call)")
            assert fast.traces == 1, what


def test_per_op_source_is_fused_and_readable() -> None:
    a, b, c = (al.Value(np.ones((4, 4)), label=n) for n in "abc")
    fast = al.compile(lambda a, b, c: (a * b + c).tanh().sum())
    fast(a, b, c)
    src = fast.source
    assert "np.multiply(a, b, out=" in src  # a buffer reused between calls
    assert "out=mul)" in src  # a*b + c written in place: no second buffer
    assert "_fwd(" not in src and "_vjp" not in src  # every op emitted inline
    compile(src, "<generated>", "exec")


def test_the_return_comment_names_the_inputs_not_gradient_variables() -> None:
    # unlabelled arguments: c's gradient is the add node's (a passthrough), still ∂/∂c
    a, b, c = (al.Value(np.ones((4, 4))) for _ in range(3))
    fast = al.compile(lambda a, b, c: (a * b + c).tanh().sum())
    fast(a, b, c)
    assert fast.source.rstrip().endswith("# ∂/∂a, ∂/∂b, ∂/∂c")


# ------------------------------------------------------------------ networks


def _mlp_loss(net, loss_fn):
    def step(X, y):
        return loss_fn(net(X), y)

    return step


@pytest.mark.parametrize(
    ("loss_fn", "classes", "output"),
    [
        (nn.CrossEntropyLoss(), 3, "linear"),
        (nn.MSELoss(), 1, "linear"),
        (nn.HalfSquaredError(), 1, "sigmoid"),
        (nn.BCEWithLogitsLoss(), 1, "linear"),
        (nn.BCELoss(), 1, "sigmoid"),
    ],
    ids=["cross-entropy", "mse", "half-squared", "bce-logits", "bce"],
)
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_losses_compile(loss_fn, classes: int, output: str, activation: str) -> None:
    rng = np.random.default_rng(3)
    net = nn.MLP(5, [7, 6, classes], activation=activation, output=output, seed=1)
    X = rng.normal(size=(8, 5))
    y = rng.integers(0, 3, 8) if classes > 1 else rng.integers(0, 2, (8, 1)).astype(float)
    step = _mlp_loss(net, loss_fn)
    fast = al.compile(step)
    params = net.parameters()
    for _ in range(2):  # the second call runs the generated code on new data
        expected = step(X, y)
        expected.backward()
        want = [p.grad.copy() for p in params]
        net.zero_grad()
        got = fast(X, y)
        np.testing.assert_allclose(got.data, expected.data, rtol=1e-7)
        got.backward()
        for p, w in zip(params, want):
            np.testing.assert_allclose(p.grad, w, rtol=1e-6, atol=1e-12, err_msg=p.label)
        net.zero_grad()
        X = rng.normal(size=(8, 5))
    assert fast.traces == 1


def test_a_module_compiles_and_its_output_feeds_eager_code() -> None:
    net = nn.Sequential(nn.Linear(4, 3, seed=0), nn.Tanh(), nn.Linear(3, 2, seed=1))
    fast = al.compile(net)
    X = al.Value(np.random.default_rng(0).normal(size=(5, 4)), requires_grad=False)
    out = fast(X)
    assert out.shape == (5, 2) and fast.traces == 1
    loss = (out * out).mean()  # eager ops on the compiled result
    loss.backward()
    got = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    eager = net(X)
    (eager * eager).mean().backward()
    for p, g in zip(net.parameters(), got):
        np.testing.assert_allclose(p.grad, g, rtol=1e-7)
    np.testing.assert_allclose(out.data, eager.data)


def test_float32_network_stays_float32() -> None:
    net = nn.MLP(6, [8, 4], seed=0, dtype=np.float32)
    X = np.random.default_rng(1).normal(size=(10, 6)).astype(np.float32)
    y = np.arange(10) % 4
    fast = al.compile(lambda X, y: nn.CrossEntropyLoss()(net(X), y))
    loss = fast(X, y)
    loss.backward()
    assert all(p.grad.dtype == np.float32 for p in net.parameters())


def test_the_lecture_perceptron() -> None:
    """E = ½(ŷ − σ(w·x + b))²: ∂E/∂w = −e(1−y)y·x, the delta rule."""
    x = al.Value([1.0, 0.0, 1.0], label="x", requires_grad=False)
    w, b = al.Value([0.4, 0.2, 0.4], label="w"), al.Value(-0.3, label="b")
    target = al.Value(1.0, label="ŷ", requires_grad=False)

    def error(w, b):
        y = (w @ x + b).sigmoid()
        return 0.5 * (target - y) ** 2

    assert_same(error, [w, b])
    fast = al.compile(error)
    E = fast(w, b)
    E.backward()
    y = 1 / (1 + np.exp(-(0.8 - 0.3)))
    e = 1.0 - y
    np.testing.assert_allclose(w.grad, -e * (1 - y) * y * np.array([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(b.grad, -e * (1 - y) * y)


def test_examples_models_compile() -> None:
    xor = load_example("xor")
    net = nn.MLP(2, [4, 1], activation="tanh", output="sigmoid", seed=0)
    step = lambda X, T: nn.HalfSquaredError()(net(X), T)
    X, T = xor.X, xor.TARGETS
    fast = al.compile(step)
    expected = step(X, T)
    expected.backward()
    want = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    got = fast(X, T)
    got.backward()
    for p, g in zip(net.parameters(), want):
        np.testing.assert_allclose(p.grad, g, rtol=1e-7)

    auto = load_example("light_curve_autoencoder")
    noisy, clean, _ = auto.make_light_curves(6, length=16)
    model = auto.build_autoencoder(length=16, code=4)
    recon = lambda X, C: nn.MSELoss()(model(X), C)
    assert_same(recon, [al.Value(noisy, requires_grad=False), al.Value(clean, requires_grad=False)])
    model.zero_grad()
    fast = al.compile(recon)
    loss = fast(noisy, clean)
    loss.backward()
    got = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    recon(noisy, clean).backward()
    for p, g in zip(model.parameters(), got):
        np.testing.assert_allclose(p.grad, g, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------------- behaviour


def test_new_batch_size_compiles_again() -> None:
    net = nn.MLP(3, [4, 2], seed=0)
    fast = al.compile(lambda X, y: nn.CrossEntropyLoss()(net(X), y))
    rng = np.random.default_rng(0)
    for batch in (5, 7, 5):
        X, y = rng.normal(size=(batch, 3)), rng.integers(0, 2, batch)
        expected = nn.CrossEntropyLoss()(net(X), y)
        np.testing.assert_allclose(fast(X, y).data, expected.data)
    assert fast.traces == 2
    fast(X.astype(np.float32), y)  # a new dtype: traced again
    assert fast.traces == 3


def test_parameters_changed_between_calls_are_read_afresh() -> None:
    """Two copies of a network, trained in lockstep, eager and compiled: same weights."""
    rng = np.random.default_rng(4)
    eager_net = nn.MLP(4, [8, 3], seed=2)
    fast_net = nn.MLP(4, [8, 3], seed=2)
    eager_opt = optim.SGD(eager_net.parameters(), lr=0.1, momentum=0.9)
    fast_opt = optim.SGD(fast_net.parameters(), lr=0.1, momentum=0.9)
    fast = al.compile(lambda X, y: nn.CrossEntropyLoss()(fast_net(X), y))
    for _ in range(5):
        X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
        eager_opt.zero_grad()
        nn.CrossEntropyLoss()(eager_net(X), y).backward()
        eager_opt.step()
        fast_opt.zero_grad()
        fast(X, y).backward()
        fast_opt.step()
    for p, q in zip(eager_net.parameters(), fast_net.parameters()):
        np.testing.assert_allclose(q.data, p.data, rtol=1e-10)
    fast_net.layers[0].weight.data = np.zeros((8, 4))  # rebound, same shape
    assert fast(X, y).data == pytest.approx(nn.CrossEntropyLoss()(fast_net(X), y).data)
    fast_net.layers[0].weight.data = np.zeros((8, 4), dtype=np.float32)  # new dtype: retraced
    assert fast(X, y).data == pytest.approx(nn.CrossEntropyLoss()(fast_net(X), y).data)


def test_gradients_accumulate_and_retain_graph_works() -> None:
    w = al.Value(np.array([1.0, -2.0]), label="w")
    fast = al.compile(lambda x: (w * x).tanh().sum())
    x = np.array([0.3, 0.1])
    loss = fast(x)
    loss.backward(retain_graph=True)
    once = w.grad.copy()
    fast(x * 5)  # another call in between must not change this graph's saved values
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * once)
    with pytest.raises(RuntimeError, match="freed"):
        loss.backward()


def test_pending_calls_keep_their_own_buffers() -> None:
    w = al.Value(np.array([1.0, -2.0, 0.5]), label="w")
    fast = al.compile(lambda x: ((w * x).tanh() * x).sum())
    x1, x2 = np.array([0.3, 0.1, 2.0]), np.array([-1.0, 0.7, 0.2])
    l1, l2 = fast(x1), fast(x2)
    l1.backward()
    g1 = w.grad.copy()
    w.zero_grad()
    l2.backward()
    g2 = w.grad.copy()
    for x, g in ((x1, g1), (x2, g2)):
        w.zero_grad()
        ((w * x).tanh() * x).sum().backward()
        np.testing.assert_allclose(g, w.grad)


def test_no_grad_runs_forward_only() -> None:
    w = al.Value(np.array([1.0, 2.0]))
    fast = al.compile(lambda x: (w * x).sum())
    with al.no_grad():
        out = fast(np.array([3.0, 4.0]))
    assert out.data == 11.0 and not out.requires_grad


def test_intermediate_results_hold_no_gradient_but_leaves_do() -> None:
    a = al.Value(np.array([0.5, 1.5]), label="a")
    fast = al.compile(lambda a: (a * a).sum())
    out = fast(a)
    assert out.op.startswith("compiled") and out.parents == (a,)
    out.backward()
    np.testing.assert_allclose(a.grad, [1.0, 3.0])


def test_create_graph_through_a_compiled_call_is_refused() -> None:
    a = al.Value(2.0)
    out = al.compile(lambda a: a * a)(a)
    with pytest.raises(NotImplementedError, match="create_graph"):
        out.backward(create_graph=True)


# ------------------------------------------------------------- bad input


def test_check_catches_a_graph_that_depends_on_data() -> None:
    def branchy(x):
        return (x * 2).sum() if x.data.sum() > 0 else (x * -3).sum()

    fast = al.compile(branchy, check=True)
    fast(al.Value([1.0, 2.0]))
    with pytest.raises(CompileCheckError, match=r"branchy.*depends on the data"):
        fast(al.Value([-1.0, -2.0]))
    unchecked = al.compile(branchy)  # documented: traced once per shape, like jax.jit
    unchecked(al.Value([1.0, 2.0]))
    assert unchecked(al.Value([-1.0, -2.0])).data == -6.0  # the traced branch, x * 2


def test_check_catches_python_state_that_changed() -> None:
    scale = {"k": 2.0}

    def scaled(x):
        return (x * scale["k"]).sum()

    fast = al.compile(scaled, check=True)
    x = al.Value([1.0, 2.0])
    assert fast(x).data == 6.0
    scale["k"] = 3.0
    with pytest.raises(CompileCheckError, match="scaled"):
        fast(x)


def test_check_compares_gradients_too() -> None:
    w = al.Value(np.array([1.0, 2.0]), label="w")
    fast = al.compile(lambda x: (w * x).sum(), check=True)
    fast(np.array([1.0, 1.0])).backward()
    np.testing.assert_allclose(w.grad, [1.0, 1.0])  # check's own passes leave grads alone


def test_function_returning_a_non_value() -> None:
    def to_array(x):
        return x.data * 2

    with pytest.raises(CompileError, match=r"to_array.*must return a Value.*ndarray"):
        al.compile(to_array)(al.Value([1.0]))


def test_wrong_number_of_arguments() -> None:
    def pair(a, b):
        return a * b

    fast = al.compile(pair)
    fast(al.Value(1.0), al.Value(2.0))
    with pytest.raises(TypeError, match=r"pair.*traced with 2 argument.*called with 3"):
        fast(al.Value(1.0), al.Value(2.0), al.Value(3.0))
    # before the first trace the message said "traced with None argument(s)"
    with pytest.raises(TypeError, match=r"pair: missing .*'b' \(not traced yet, called with 1\)"):
        al.compile(pair)(a=al.Value(1.0))


def test_unsupported_argument_types() -> None:
    fast = al.compile(lambda a: a.sum())
    with pytest.raises(CompileError, match="argument 0 is a list"):
        fast([1.0, 2.0])
    with pytest.raises(TypeError, match="expected a function"):
        al.compile(3)


def test_source_before_the_first_call() -> None:
    with pytest.raises(RuntimeError, match="traced on its first call"):
        al.compile(lambda a: a).source


def test_keyword_arguments_and_static_numbers() -> None:
    def f(x, power=2.0):
        return (x**power).sum()

    fast = al.compile(f)
    x = al.Value([1.0, 2.0])
    assert fast(x, power=3.0).data == 9.0
    assert fast(x).data == 5.0  # a number is part of the signature: traced again
    assert fast.traces == 2


def test_fit_with_compile_trains_as_eager() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    histories = []
    for compiled in (False, True):
        net = nn.MLP(3, [6, 2], seed=1)
        opt = optim.SGD(net.parameters(), lr=0.2)
        h = al.fit(
            net,
            nn.CrossEntropyLoss(),
            opt,
            (X, y),
            epochs=3,
            batch_size=16,
            progress=False,
            seed=0,
            compile=compiled,
        )
        histories.append(h)
    np.testing.assert_allclose(histories[1].loss, histories[0].loss, rtol=1e-10)
    np.testing.assert_allclose(histories[1].accuracy, histories[0].accuracy)


def test_the_docs_show_the_source_the_code_generates() -> None:
    """docs/compile.md's listings are what ``fast.source`` prints today (they cannot go stale)."""
    import contextlib
    import io
    import re

    page = (Path(__file__).resolve().parent.parent / "docs" / "compile.md").read_text("utf-8")
    example, shown = re.findall(r"^```python\n(.*?)^```", page, flags=re.DOTALL | re.MULTILINE)[:2]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(example, {})  # the page's own example, as a reader runs it
    assert out.getvalue().startswith(shown), out.getvalue()
    per_op = re.search(r"^```text\n(def forward\(a, b, c.*?)^```", page, re.DOTALL | re.MULTILINE)
    a, b, c = (al.Value(np.ones((3, 3)), label=n) for n in "abc")
    fast = al.compile(lambda a, b, c: (a * b + c).tanh().sum())
    fast(a, b, c)
    assert fast.source == per_op.group(1)


def test_detect_anomaly_runs_the_eager_function() -> None:
    x = al.Value(np.array([1.0, -1.0]), label="x")
    fast = al.compile(lambda x: x.log().sum())
    fast(al.Value(np.array([1.0, 2.0])))  # traced outside anomaly mode
    with al.detect_anomaly(), pytest.raises(FloatingPointError, match="log"):
        fast(x)


def test_a_function_that_draws_random_numbers_is_refused() -> None:
    rng = np.random.default_rng(0)

    def noisy(x):
        return (x * rng.normal()).sum()  # a new number each call: not one graph

    with pytest.raises(CompileError, match=r"noisy.*different graphs.*random"):
        al.compile(noisy)(al.Value([1.0, 2.0]))
    fixed = al.compile(lambda x: (x * al.Value(np.random.default_rng(1).normal(), label="k")).sum())
    assert fixed(al.Value([1.0, 2.0])).data == pytest.approx(
        3.0 * np.random.default_rng(1).normal()
    )  # the same number every run: compiled as a constant


def test_an_argument_made_by_eager_code_is_an_input_not_traced_through() -> None:
    x = al.Value(np.array([0.1, 0.2, 0.3]), label="x")
    w = al.Value(np.array([1.0, -1.0, 2.0]), label="w")
    fast = al.compile(lambda h: h.tanh().sum())
    for made in (lambda: x * 2, lambda: x * 3, lambda: w * 5):  # one signature, three histories
        h = made()
        want = np.tanh(h.data).sum()
        x.grad = w.grad = None
        out = fast(h)
        assert out.data == pytest.approx(want)
        out.backward()  # through the compiled node, then through h's own eager history
        h2 = made()
        x_grad, w_grad = x.grad, w.grad
        x.grad = w.grad = None
        h2.tanh().sum().backward()
        for got, expected in ((x_grad, x.grad), (w_grad, w.grad)):
            if expected is None:
                assert got is None
            else:
                np.testing.assert_allclose(got, expected)
    assert fast.traces == 1


def test_a_compiled_result_feeds_another_compiled_function() -> None:
    x = al.Value(np.array([0.1, 0.2, 0.3]))
    square = al.compile(lambda x: x * x)
    total = al.compile(lambda h: h.tanh().sum())
    for _ in range(2):
        x.grad = None
        total(square(x)).backward()
        np.testing.assert_allclose(x.grad, (1 - np.tanh(x.data**2) ** 2) * 2 * x.data)


def _bn_net() -> tuple:
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.ReLU(), nn.Dropout(0.5, seed=1))
    x = al.Value(np.random.default_rng(3).normal(size=(8, 4)), requires_grad=False)
    return net, x, net[1]


def test_a_side_effect_that_is_no_effect_is_refused_and_nothing_changed() -> None:
    calls = []

    def counted(x: al.Value) -> al.Value:
        refuse_side_effect("counting calls in a list")
        calls.append(1)
        return (x * x).sum()

    fast = al.compile(counted)
    with pytest.raises(CompileError, match=r"counted.*counting calls in a list.*eagerly"):
        fast(al.Value([1.0, 2.0]))
    assert calls == []  # refused before anything changed
    counted(al.Value([1.0]))  # eagerly: nothing refused
    assert calls == [1]


def _bn_models(kind: str, momentum: float | None) -> tuple:
    """The same model twice (compiled, eager), a loss on it and a few batches."""
    rng = np.random.default_rng(5)
    if kind == "linear":
        net = nn.Sequential(
            nn.Linear(4, 6, seed=1),
            nn.BatchNorm1d(6, momentum=momentum),
            nn.ReLU(),
            nn.Linear(6, 2, seed=2),
        )
        batches = [(rng.normal(2.0, 3.0, (8, 4)), rng.normal(size=(8, 2))) for _ in range(4)]
    else:
        net = nn.Sequential(
            nn.Conv2d(2, 3, kernel_size=3, padding=1, seed=1),
            nn.BatchNorm2d(3, momentum=momentum),
            nn.ReLU(),
            nn.Flatten(),
        )
        batches = [(rng.normal(1.0, 2.0, (3, 2, 4, 4)), rng.normal(size=(3, 48))) for _ in range(4)]
    twin = copy.deepcopy(net)

    def loss(model: nn.Module, x: al.Value, y: np.ndarray) -> al.Value:
        d = model(x) - y
        return (d * d).mean()

    return net, twin, loss, batches


def _assert_same_statistics(bn: nn.Module, bn_eager: nn.Module) -> None:
    assert int(bn.num_batches_tracked) == int(bn_eager.num_batches_tracked)
    np.testing.assert_allclose(bn.running_mean, bn_eager.running_mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(bn.running_var, bn_eager.running_var, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm_training_compiled_as_eager(kind: str, momentum: float | None) -> None:
    net, twin, loss, batches = _bn_models(kind, momentum)
    fast = al.compile(lambda x, y: loss(net, x, y))
    opt, opt_eager = optim.SGD(net.parameters(), lr=0.1), optim.SGD(twin.parameters(), lr=0.1)
    for step, (xs, ys) in enumerate(batches, start=1):
        x = al.Value(xs, requires_grad=False)
        opt.zero_grad()
        opt_eager.zero_grad()
        got, want = fast(x, ys), loss(twin, x, ys)
        got.backward()
        want.backward()
        assert got.data == pytest.approx(want.data, rel=1e-12)
        for p, q in zip(net.parameters(), twin.parameters()):
            np.testing.assert_allclose(p.grad, q.grad, rtol=1e-9, atol=1e-12)
        _assert_same_statistics(net[1], twin[1])  # updated once per call, the first one too
        assert int(net[1].num_batches_tracked) == step
        opt.step()
        opt_eager.step()
    assert fast.traces == 1  # the statistics change, the code stays
    with al.no_grad():  # eagerly BatchNorm in training updates under no_grad too
        fast(x, ys)
        loss(twin, x, ys)
    _assert_same_statistics(net[1], twin[1])
    assert int(net[1].num_batches_tracked) == len(batches) + 1
    net.eval()
    twin.eval()
    forward = al.compile(lambda x: net(x))
    x = al.Value(batches[0][0], requires_grad=False)
    np.testing.assert_allclose(forward(x).data, twin(x).data, rtol=1e-12, atol=1e-12)
    assert got.data != pytest.approx(fast(x, batches[0][1]).data)  # eval: traced again
    assert int(net[1].num_batches_tracked) == len(batches) + 1  # eval counts nothing


def test_batchnorm_training_with_check_updates_once_per_call() -> None:
    net, twin, loss, batches = _bn_models("linear", 0.1)
    fast = al.compile(lambda x, y: loss(net, x, y), check=True)  # check runs fn eagerly too
    for xs, ys in batches[:2]:
        x = al.Value(xs, requires_grad=False)
        fast(x, ys)
        loss(twin, x, ys)
        _assert_same_statistics(net[1], twin[1])


def test_a_compiled_batchnorm_called_inside_another_trace_updates_once_per_call() -> None:
    net, twin, loss, batches = _bn_models("linear", 0.1)
    inner = al.compile(lambda x: net(x))
    x, y = al.Value(batches[0][0], requires_grad=False), batches[0][1]
    inner(x)  # traced and run on its own: one update
    twin(x)
    drop = nn.Dropout(0.5, seed=0)
    with pytest.raises(CompileError, match="random"):
        al.compile(lambda x: drop(inner(x)).sum())(x)
    _assert_same_statistics(net[1], twin[1])  # the refused traces changed nothing
    outer = al.compile(lambda x: ((inner(x) - y) ** 2).mean())
    for _ in range(2):
        assert outer(x).data == pytest.approx(loss(twin, x, y).data, rel=1e-12)
        _assert_same_statistics(net[1], twin[1])
    assert int(net[1].num_batches_tracked) == 3


def test_a_function_that_flips_the_state_it_reads_is_refused() -> None:
    bn = nn.BatchNorm1d(3)

    def train_then_eval(x: al.Value) -> al.Value:
        y = bn(x)
        bn.eval()
        z = bn(x)  # eagerly: the statistics y's call just updated
        bn.train()
        return (y + z).sum()

    x = al.Value(np.random.default_rng(0).normal(size=(5, 3)), requires_grad=False)
    with pytest.raises(CompileError, match=r"train_then_eval.*BatchNorm1d.training.*True"):
        al.compile(train_then_eval)(x)
    assert bn.num_batches_tracked == 0


def test_a_function_where_nothing_wants_a_gradient() -> None:
    bn = nn.BatchNorm1d(3, affine=False)  # no parameters, an input without gradient
    twin = copy.deepcopy(bn)
    x = al.Value(np.random.default_rng(1).normal(size=(6, 3)), requires_grad=False)
    fast = al.compile(lambda x: bn(x))
    for _ in range(2):
        np.testing.assert_allclose(fast(x).data, twin(x).data, rtol=1e-12, atol=1e-12)
        _assert_same_statistics(bn, twin)


def test_train_and_eval_flips_are_never_served_stale() -> None:
    net, x, bn = _bn_net()
    twin = copy.deepcopy(net)
    net.eval()
    fast = al.compile(lambda x: net(x).sum())
    assert fast(x).data == pytest.approx(net(x).sum().data)
    net.train()  # Dropout draws masks and BatchNorm updates statistics again
    with pytest.raises(CompileError):
        fast(x)
    assert bn.num_batches_tracked == 0  # the refused traces changed nothing
    net[3].p = twin[3].p = 0.0
    assert fast(x).data == pytest.approx(twin(x).sum().data)  # training, compiled
    _assert_same_statistics(net[1], twin[1])
    assert bn.num_batches_tracked == 1
    net.eval()
    twin.eval()
    got = fast(x)
    assert got.data == pytest.approx(twin(x).sum().data)  # traced again, the new statistics
    assert fast.traces == 3
    fast(x)
    assert fast.traces == 3  # unchanged state: the same code


def test_a_leaf_rebound_to_another_shape_before_backward() -> None:
    w = al.Value(np.array([1.0, 2.0]), label="w")
    loss = al.compile(lambda x: (w * x).sum())(np.array([3.0, 4.0]))
    w.data = np.zeros(3)
    with pytest.raises(RuntimeError, match="rebound from shape"):
        loss.backward()
    assert w._grad is None  # nothing half-added


def test_a_leaf_changed_in_place_before_backward_is_refused() -> None:
    w = al.Value(np.array([1.0, 2.0]), label="w")
    loss = al.compile(lambda x: (w * w * x).sum())(np.array([3.0, 4.0]))  # backward reads w
    with pytest.raises(ValueError, match="'w' is read-only"):
        w.data[0] = 5.0
    loss.backward()
    w.data[0] = 5.0  # allowed again once the backward has run
    np.testing.assert_allclose(w.grad, [6.0, 16.0])


def test_result_types_are_the_engine_s() -> None:
    z = al.Value(np.ones((4, 3), dtype=np.float32))
    fast = al.compile(lambda z: al.cross_entropy(z, np.array([0, 1, 2, 0])))
    out, eager = fast(z), al.cross_entropy(z, np.array([0, 1, 2, 0]))
    assert type(out.data) is type(eager.data) and out.dtype == eager.dtype == np.float32
    scalar = al.compile(lambda v: (v * v).sum())(al.Value([1.0, 2.0]))
    assert type(scalar.data) is float


def test_the_same_value_twice_is_another_signature() -> None:
    a = al.Value(np.array([1.0, 2.0]), label="a")
    b = al.Value(np.array([3.0, 4.0]), label="b")
    fast = al.compile(lambda x, y: (x * y).sum())
    fast(a, a).backward()
    np.testing.assert_allclose(a.grad, 2 * a.data)
    a.zero_grad()
    fast(a, b).backward()  # not the graph of x * x
    np.testing.assert_allclose(a.grad, b.data)
    np.testing.assert_allclose(b.grad, a.data)
    assert fast.traces == 2


def test_array_arguments_passed_twice_or_equal() -> None:
    fast = al.compile(lambda x, y: (al.Value(np.ones(2)) * x - y).sum())
    X, Y = np.array([1.0, 2.0]), np.array([5.0, 7.0])
    assert fast(X, X).data == 0.0
    assert fast(X, Y).data == -9.0  # another signature, not x - x
    with pytest.raises(CompileError, match=r"arguments \[0, 1\] are different arrays"):
        al.compile(lambda x, y: (al.Value(np.ones(2)) * x - y).sum())(X, X.copy())


def test_unfreezing_a_parameter_traces_again() -> None:
    w = al.Value(np.array([1.0, 2.0]), label="w", requires_grad=False)
    fast = al.compile(lambda x: (w * x).sum())
    x = al.Value(np.array([3.0, 4.0]), label="x")
    fast(x).backward()
    assert w._grad is None
    w.requires_grad = True
    fast(x).backward()
    np.testing.assert_allclose(w.grad, [3.0, 4.0])
    assert fast.traces == 2


def test_a_result_dropped_or_freed_by_the_engine_releases_its_leaves_and_buffers() -> None:
    w = al.Value(np.array([1.0, -2.0]), label="w")
    fast = al.compile(lambda x: (w * w * x).sum())  # the backward reads w: w is pinned
    x1, x2 = np.array([0.5, 1.0]), np.array([2.0, -1.0])
    out = fast(x1)
    assert not w.data.flags.writeable
    del out  # no backward: dropping the result releases w, its buffers serve the next call
    w.data[0] = 3.0
    (fast(x2) * 2.0).backward()  # through the engine (the result feeds eager code)
    w.data[1] = 1.0  # writeable again: the engine freed the compiled node
    np.testing.assert_allclose(w.grad, [2 * 2 * 3.0 * 2.0, 2 * 2 * -2.0 * -1.0])
    w.zero_grad()
    loss = fast(x1)
    loss.backward()
    np.testing.assert_allclose(w.grad, 2 * w.data * x1)
    with pytest.raises(RuntimeError, match="freed"):
        loss.backward()


def test_an_error_inside_the_generated_forward_leaves_the_next_call_working() -> None:
    z = al.Value(np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]]), label="z")
    fast = al.compile(lambda z, y: al.cross_entropy(z, y))
    good, bad = np.array([0, 2]), np.array([0, 3])  # same shape and dtype: same code
    fast(z, good).backward()
    once = z.grad.copy()
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        fast(z, bad)
    assert z.data.flags.writeable  # nothing left pinned by the failed call
    z.zero_grad()
    fast(z, good).backward()
    np.testing.assert_allclose(z.grad, once)
    assert fast.traces == 1


def test_the_generated_backward_takes_a_seed_and_respects_requires_grad() -> None:
    a = al.Value(np.array([1.0, -2.0, 0.5]), label="a")
    b = al.Value(np.array([0.3, 0.7, -1.1]), label="b")
    fast = al.compile(lambda a, b: (a * b).tanh())  # not a scalar: backward needs grad=
    seed = np.array([1.0, 2.0, -1.0])
    out = fast(a, b)
    with pytest.raises(ValueError, match="needs grad="):
        out.backward()
    out.backward(seed)
    t = np.tanh(a.data * b.data)
    np.testing.assert_allclose(a.grad, seed * (1 - t * t) * b.data)
    np.testing.assert_allclose(b.grad, seed * (1 - t * t) * a.data)
    a.zero_grad()
    b.zero_grad()
    out = fast(a, b)
    b.requires_grad = False  # switched off after the call: no gradient for it, as eagerly
    out.backward(seed)
    assert b._grad is None
    np.testing.assert_allclose(a.grad, seed * (1 - t * t) * b.data)


# ------------------------------------------------ gradient arrays used again (codegen._spare)


def _large_step():
    """A compiled loss whose weight gradient is 720 KB: computed into a kept array."""
    rng = np.random.default_rng(5)
    w = al.Value(rng.normal(size=(300, 300)), label="w")
    x = al.Value(rng.normal(size=(8, 300)), requires_grad=False)
    fast = al.compile(lambda x: ((x @ w).tanh() ** 2).sum())
    return w, x, fast


def _eager_grad(w, x):
    v = al.Value(w.data.copy())
    ((x @ v).tanh() ** 2).sum().backward()
    return v.grad


def test_a_large_gradient_goes_into_the_array_of_the_last_call_when_no_one_holds_it():
    w, x, fast = _large_step()
    fast(x).backward()
    assert "out=_spare(_held, 0)" in fast.source
    first_id = id(w._grad)
    expected = _eager_grad(w, x)
    for _ in range(3):
        w.grad = None  # as zero_grad(): the array is the compiled code's alone again
        fast(x).backward()
        assert id(w._grad) == first_id  # the same array, written again
        np.testing.assert_allclose(w.grad, expected, rtol=1e-10, atol=1e-12)  # (read-only now)


def test_a_gradient_someone_kept_never_changes():
    w, x, fast = _large_step()
    fast(x).backward()
    kept = w.grad  # the caller holds the array
    view = w.grad[:2]  # and a view of another one below
    before = kept.copy()
    w.data = w.data * 0.5  # other weights: another gradient
    w.grad = None
    fast(x).backward()
    assert w.grad is not kept
    np.testing.assert_array_equal(kept, before)
    np.testing.assert_allclose(w.grad, _eager_grad(w, x), rtol=1e-10, atol=1e-12)
    second, view_before = w.grad, view.copy()
    del kept
    w.grad = None
    w.data = w.data * 2.0
    fast(x).backward()
    np.testing.assert_array_equal(view, view_before)  # the view keeps its base alive
    np.testing.assert_allclose(w.grad, _eager_grad(w, x), rtol=1e-10, atol=1e-12)
    assert second is not None


def test_large_gradients_accumulate_and_survive_retain_graph_and_eager_code_around():
    w, x, fast = _large_step()
    g1 = _eager_grad(w, x)
    fast(x).backward()
    w.data = w.data * 0.5
    g = _eager_grad(w, x)
    fast(x).backward()  # no reset: added to the array the leaf holds
    np.testing.assert_allclose(w.grad, g1 + g, rtol=1e-10, atol=1e-12)
    w.grad = None
    w.grad = None
    out = fast(x)
    out.backward(retain_graph=True)
    out.backward()  # the second pass writes a new array: the leaf holds the first
    np.testing.assert_allclose(w.grad, 2 * g, rtol=1e-10, atol=1e-12)
    w.grad = None
    (fast(x) * 3.0).backward()  # through the engine (the result feeds eager code)
    np.testing.assert_allclose(w.grad, 3 * g, rtol=1e-10, atol=1e-12)
    opt = optim.SGD([w], lr=0.1)  # and an optimizer reading it, then zero_grad
    w0 = w.data.copy()
    for _ in range(2):
        opt.zero_grad()
        fast(x).backward()
        expected = _eager_grad(w, x)
        np.testing.assert_allclose(w.grad, expected, rtol=1e-10, atol=1e-12)
        opt.step()
        np.testing.assert_allclose(w.data, w0 - 0.1 * expected, rtol=1e-10, atol=1e-12)
        w0 = w.data.copy()


def test_relus_mask_is_computed_into_a_buffer_of_the_backward():
    x = al.Value(np.linspace(-1, 1, 12).reshape(3, 4), label="x")
    fast = al.compile(lambda x: (x.relu() * x).sum())
    fast(x).backward()
    assert "np.greater_equal(x, 0.0, out=_b" in fast.source
    g = x.grad.copy()
    x.grad = None
    (x.relu() * x).sum().backward()
    np.testing.assert_array_equal(g, x.grad)


def test_check_true_with_a_large_gradient_checks_and_delivers_eagers_numbers():
    rng = np.random.default_rng(6)
    w = al.Value(rng.normal(size=(300, 300)), label="w")
    x = al.Value(rng.normal(size=(8, 300)), requires_grad=False)
    fast = al.compile(lambda x: ((x @ w).tanh() ** 2).sum(), check=True)
    for _ in range(3):  # check=True runs the generated backward once more per call
        w.grad = None
        fast(x).backward()
        np.testing.assert_allclose(w.grad, _eager_grad(w, x), rtol=1e-10, atol=1e-12)
        w.data = w.data * 0.9
