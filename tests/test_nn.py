"""Modules, layers, activations: structure, shapes, errors, gradients vs finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, optim
from autograd_lite.gradcheck import numeric_grad

# ------------------------------------------------------------------ Module


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        self.first = nn.Linear(3, 4, seed=0)
        self.scale = al.Value(2.0, label="s")
        self.blocks = [nn.Linear(4, 2, seed=1), nn.Tanh()]
        self._hidden = al.Value(5.0)  # private: not a parameter
        self.constant = al.Value(1.0, requires_grad=False)

    def forward(self, x):
        h = self.first(x).relu() * self.scale
        for m in self.blocks:
            h = m(h)
        return h


def test_parameters_in_definition_order_with_names():
    net = TwoLayer()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["first.weight", "first.bias", "scale", "blocks.0.weight", "blocks.0.bias"]
    assert net.parameters()[2] is net.scale
    assert net.num_parameters() == 12 + 4 + 1 + 8 + 2


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2, seed=0)
    net = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(net.parameters()) == 2
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]


def test_zero_grad_resets_all_parameters():
    net = TwoLayer()
    net(np.ones((5, 3))).sum().backward()
    assert any(np.any(np.asarray(p.grad) != 0) for p in net.parameters())
    net.zero_grad()
    assert all(np.all(np.asarray(p.grad) == 0) for p in net.parameters())


def test_train_eval_propagates_to_submodules():
    net = TwoLayer()
    assert net.eval() is net
    assert [m.training for _, m in net.named_modules()] == [False] * 4
    net.train()
    assert all(m.training for _, m in net.named_modules())


def test_forward_missing_raises():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1.0)


def test_state_dict_roundtrip_and_copies():
    a, b = TwoLayer(), TwoLayer()
    b.first.weight.data = b.first.weight.data + 1
    state = a.state_dict()
    assert list(state) == [n for n, _ in a.named_parameters()]
    state["first.weight"][0, 0] = 99.0  # a copy: the module is untouched
    assert a.first.weight.data[0, 0] != 99.0
    b.load_state_dict(a.state_dict())
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    assert isinstance(b.scale.data, float)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda s: s.pop("scale"), KeyError, r"missing key\(s\) \['scale'\]"),
        (lambda s: s.update(extra=np.zeros(1)), KeyError, r"unexpected key\(s\) \['extra'\]"),
        (
            lambda s: s.update({"blocks.0.bias": np.zeros(3)}),
            ValueError,
            r"key 'blocks.0.bias' has shape \(3,\), but the parameter has shape \(2,\)",
        ),
        (
            lambda s: s.update({"first.bias": np.array(["a"] * 4)}),
            TypeError,
            r"key 'first.bias' holds dtype <U1",
        ),
    ],
)
def test_load_state_dict_errors_leave_module_unchanged(change, error, match):
    net = TwoLayer()
    before = net.state_dict()
    state = TwoLayer().state_dict()
    for v in state.values():
        v += 1.0
    change(state)
    with pytest.raises(error, match=match):
        net.load_state_dict(state)
    after = net.state_dict()
    for k in before:
        np.testing.assert_array_equal(before[k], after[k])


def test_load_state_dict_non_strict_ignores_extra_and_rejects_non_mapping():
    lin = nn.Linear(2, 2, seed=0)
    state = nn.Linear(2, 2, seed=5).state_dict()
    lin.load_state_dict({**state, "junk": np.zeros(3)}, strict=False)
    np.testing.assert_array_equal(lin.weight.data, state["weight"])
    with pytest.raises(TypeError, match="expected a mapping"):
        lin.load_state_dict([1, 2])


def test_load_state_dict_non_strict_keeps_what_is_missing():
    # PyTorch's strict=False skips missing keys too (e.g. a new head on a loaded body);
    # it raised "missing key(s)" here whatever strict said
    lin = nn.Linear(2, 2, seed=0)
    bias = lin.bias.data.copy()
    state = nn.Linear(2, 2, seed=5).state_dict()
    lin.load_state_dict({"weight": state["weight"]}, strict=False)
    np.testing.assert_array_equal(lin.weight.data, state["weight"])
    np.testing.assert_array_equal(lin.bias.data, bias)
    with pytest.raises(ValueError, match=r"key 'weight' has shape \(3, 2\)"):
        lin.load_state_dict({"weight": np.zeros((3, 2))}, strict=False)
    np.testing.assert_array_equal(lin.weight.data, state["weight"])
    bn = nn.BatchNorm1d(2)
    bn.load_state_dict({"running_mean": np.ones(2)}, strict=False)
    np.testing.assert_array_equal(bn.running_mean, np.ones(2))
    np.testing.assert_array_equal(bn.running_var, np.ones(2))


def test_repr_is_a_readable_tree():
    text = repr(TwoLayer())
    assert text.splitlines()[0] == "TwoLayer("
    assert "(first): Linear(nin=3, nout=4, bias=True)" in text
    assert "(blocks.1): Tanh()" in text
    assert repr(nn.Parameter(1.0, label="w")) == "Parameter(label='w', data=1)"


def test_astype_float32_and_error():
    net = nn.MLP(3, [4, 2], seed=0).astype(np.float32)
    assert all(p.dtype == np.float32 for p in net.parameters())
    with pytest.raises(TypeError, match="float32 or float64, got int64"):
        net.astype(np.int64)


# ------------------------------------------------------------------ Linear


def test_linear_shapes_and_formula(rng):
    lin = nn.Linear(3, 5, seed=1)
    assert lin.weight.shape == (5, 3) and lin.bias.shape == (5,)
    X = rng.normal(size=(7, 3))
    np.testing.assert_allclose(lin(X).data, X @ lin.weight.data.T + lin.bias.data)
    np.testing.assert_allclose(lin(X[0]).data, lin.weight.data @ X[0] + lin.bias.data)
    assert nn.Linear(3, 5, bias=False, seed=0).bias is None
    assert len(nn.Linear(3, 5, bias=False, seed=0).parameters()) == 1


def test_linear_gradcheck(rng):
    lin = nn.Linear(4, 3, seed=2)
    lin.bias.data = rng.normal(size=3)
    X = al.Value(rng.normal(size=(6, 4)), label="X")
    assert al.gradcheck(lambda W, b, x: lin(x).tanh().sum(), lin.weight, lin.bias, X)


def test_linear_seeded_init_and_activation_choice():
    a = nn.Linear(50, 40, seed=3)
    b = nn.Linear(50, 40, seed=3)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert not np.array_equal(a.weight.data, nn.Linear(50, 40, seed=4).weight.data)
    xavier = nn.Linear(400, 300, activation="tanh", seed=0).weight.data
    he = nn.Linear(400, 300, activation="relu", seed=0).weight.data
    assert np.abs(xavier).max() <= np.sqrt(6 / 700)
    assert xavier.var() == pytest.approx(2 / 700, rel=0.05)
    assert he.var() == pytest.approx(2 / 400, rel=0.05)
    assert he.mean() == pytest.approx(0, abs=0.005)
    custom = nn.Linear(2, 3, init=lambda shape, rng: np.full(shape, 0.5))
    assert np.all(custom.weight.data == 0.5)


def test_linear_errors():
    with pytest.raises(
        ValueError, match=r"Linear\(nin=3, nout=2\).*last axis of size 3, got shape"
    ):
        nn.Linear(3, 2, seed=0)(np.ones((4, 2)))
    with pytest.raises(ValueError, match="nin must be a positive integer, got 0"):
        nn.Linear(0, 2)
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        nn.Linear(2, 2, init="glorot")
    with pytest.raises(ValueError, match="either rng= or seed="):
        nn.Linear(2, 2, rng=np.random.default_rng(0), seed=1)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        nn.Linear(2, 2, rng=3)
    with pytest.raises(ValueError, match=r"init returned shape \(2,\), expected \(3, 2\)"):
        nn.Linear(2, 3, init=lambda shape, rng: np.zeros(2))
    with pytest.raises(ValueError, match="weight must be 2-D"):
        nn.Linear.from_weights([1.0, 2.0])


def test_two_linear_layers_collapse_to_one_linear_map(rng):
    """The lecture: without activations, W2(W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)."""
    l1, l2 = nn.Linear(3, 4, seed=0), nn.Linear(4, 2, seed=1)
    l1.bias.data = rng.normal(size=4)
    l2.bias.data = rng.normal(size=2)
    stacked = nn.Sequential(l1, l2)
    W = l2.weight.data @ l1.weight.data
    b = l2.weight.data @ l1.bias.data + l2.bias.data
    single = nn.Linear.from_weights(W, b)
    X = rng.normal(size=(10, 3))
    np.testing.assert_allclose(stacked(X).data, single(X).data, rtol=1e-12, atol=1e-12)
    # and with an activation in between it does not collapse
    bent = nn.Sequential(l1, nn.ReLU(), l2)
    assert not np.allclose(bent(X).data, single(X).data)


# --------------------------------------------------------- Sequential / MLP


def test_mlp_structure_output_choices():
    reg = nn.MLP(3, [4, 1], activation="tanh", seed=0)
    assert [type(m).__name__ for m in reg] == ["Linear", "Tanh", "Linear"]
    binary = nn.MLP(3, [4, 1], output="sigmoid", seed=0)
    assert type(binary[-1]).__name__ == "Sigmoid"
    multi = nn.MLP(3, [5, 4], output="softmax", seed=0)
    p = multi(np.random.default_rng(0).normal(size=(6, 3))).data
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.all((p > 0) & (p < 1))
    assert [p.label for p in reg.parameters()] == ["W1", "b1", "W2", "b2"]
    assert nn.MLP(2, 3, seed=0)[0].nout == 3
    with pytest.raises(ValueError, match="at least one layer"):
        nn.MLP(2, [])
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        nn.MLP(2, [3, 1], activation="relux")


def test_mlp_seed_reproducible_and_he_for_relu():
    a, b = nn.MLP(8, [16, 4], seed=7), nn.MLP(8, [16, 4], seed=7)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_mlp_gradcheck(rng):
    net = nn.MLP(3, [4, 2], activation="tanh", seed=0)
    X = rng.normal(size=(5, 3))
    params = net.parameters()
    assert al.gradcheck(lambda *ps: net(X).sigmoid().sum(), *params)


def test_sequential_rejects_non_modules_and_indexing():
    with pytest.raises(TypeError, match="item 1 is a int"):
        nn.Sequential(nn.ReLU(), 3)
    seq = nn.Sequential(nn.ReLU()).append(nn.Tanh())
    assert len(seq) == 2 and isinstance(seq[1], nn.Tanh)
    assert seq.children() == list(seq)


def _lecture_loop(W1, b1, w2, b2, X, T):
    """Per example, the lecture's scalar equations z_j = w_j·x + b_j, a_j = σ(z_j)."""
    E = 0.0
    outs = []
    for x, t in zip(X, T):
        a1 = []
        for j in range(4):
            z = b1[j]
            for i in range(3):
                z = z + W1[j][i] * float(x[i])
            a1.append(z.sigmoid())
        z2 = b2
        for j in range(4):
            z2 = z2 + w2[j] * a1[j]
        y = z2.sigmoid()
        outs.append(y.data)
        E = E + 0.5 * (float(t) - y) ** 2
    return E, np.array(outs)


def test_lecture_3_4_1_network_vectorised_equals_per_example_loop(rng):
    """The lecture's 2-layer perceptron over m examples: one matrix pass = m scalar passes."""
    m = 6
    X = rng.normal(size=(m, 3))
    T = rng.uniform(size=m)
    net = nn.MLP(3, [4, 1], activation="sigmoid", output="sigmoid", seed=0)
    net[0].bias.data = rng.normal(size=4)
    net[2].bias.data = rng.normal(size=1)
    Y = net(X)
    E = nn.HalfSquaredError()(Y, T.reshape(m, 1))
    E.backward()
    # column layout of the lecture: Z1 = W1 X^T + b1, A1 = σ(Z1), Z2 = w2 A1 + b2
    W1, b1 = net[0].weight.data, net[0].bias.data
    w2, b2 = net[2].weight.data, net[2].bias.data
    A1 = 1 / (1 + np.exp(-(W1 @ X.T + b1[:, None])))
    A2 = 1 / (1 + np.exp(-(w2 @ A1 + b2[:, None])))
    np.testing.assert_allclose(Y.data.T, A2, rtol=1e-12)
    # the same weights as scalar Values, one example at a time
    sW1 = [[al.Value(float(v)) for v in row] for row in W1]
    sb1 = [al.Value(float(v)) for v in b1]
    sw2 = [al.Value(float(v)) for v in w2[0]]
    sb2 = al.Value(float(b2[0]))
    E_loop, Y_loop = _lecture_loop(sW1, sb1, sw2, sb2, X, T)
    E_loop.backward()
    np.testing.assert_allclose(Y.data[:, 0], Y_loop, rtol=1e-12)
    assert E.data == pytest.approx(E_loop.data, rel=1e-12)
    np.testing.assert_allclose(net[0].weight.grad, [[v.grad for v in r] for r in sW1], rtol=1e-10)
    np.testing.assert_allclose(net[0].bias.grad, [v.grad for v in sb1], rtol=1e-10)
    np.testing.assert_allclose(net[2].weight.grad[0], [v.grad for v in sw2], rtol=1e-10)
    assert net[2].bias.grad[0] == pytest.approx(sb2.grad, rel=1e-10)


# ------------------------------------------------------------ activations

ACTIVATIONS = [
    (nn.ReLU(), "relu", {}),
    (nn.Sigmoid(), "sigmoid", {}),
    (nn.Tanh(), "tanh", {}),
    (nn.LeakyReLU(0.1), "leaky_relu", {"alpha": 0.1}),
    (nn.ELU(0.7), "elu", {"alpha": 0.7}),
    (nn.Swish(), "swish", {}),
    (nn.Softmax(), "softmax", {}),
    (nn.LogSoftmax(), "log_softmax", {}),
    (nn.Step(), "step", {}),
    (nn.Identity(), "linear", {}),
]


@pytest.mark.parametrize(("module", "op", "params"), ACTIVATIONS, ids=[a[1] for a in ACTIVATIONS])
def test_activation_module_matches_op_and_finite_differences(module, op, params, rng):
    z = rng.normal(size=(4, 3))
    z[np.abs(z) < 0.05] = 0.3  # stay off kinks for finite differences
    expected = getattr(al, op)(al.Value(z), **params).data
    np.testing.assert_array_equal(module(z).data, expected)
    v = al.Value(z)
    assert al.gradcheck(lambda x: module(x), v)
    assert module.parameters() == []


def test_relu_and_sigmoid_closed_forms():
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_allclose(nn.ReLU()(z).data, np.maximum(z, 0))
    np.testing.assert_allclose(nn.Sigmoid()(z).data, 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(nn.Step()(z).data, [0, 0, 1, 1, 1])
    np.testing.assert_allclose(nn.ELU()(z).data, np.where(z >= 0, z, np.exp(z) - 1))


def test_prelu_learns_alpha_and_gradcheck(rng):
    act = nn.PReLU(init=0.2)
    assert [n for n, _ in act.named_parameters()] == ["alpha"]
    z = al.Value(np.array([-2.0, -1.0, 0.5, 3.0]))
    y = act(z).sum()
    y.backward()
    assert act.alpha.grad == pytest.approx(-3.0)  # d/dα Σ α z_i over z_i < 0
    np.testing.assert_allclose(z.grad, [0.2, 0.2, 1.0, 1.0])
    assert al.gradcheck(
        lambda a, x: act(x).sum(), act.alpha, al.Value(rng.normal(size=(3, 4)) + 0.1)
    )
    # per-feature alphas
    per = nn.PReLU(num_parameters=4, init=0.1)
    x = al.Value(rng.normal(size=(5, 4)) + 0.05)
    assert al.gradcheck(lambda a, x: per(x).tanh().sum(), per.alpha, x)
    # trainable: one SGD step on α moves it
    opt = optim.SGD(act.parameters(), lr=0.1)
    opt.zero_grad()
    act(z).sum().backward()
    opt.step()
    assert act.alpha.data == pytest.approx(0.2 + 0.3)


def test_prelu_errors():
    with pytest.raises(ValueError, match="num_parameters must be >= 1"):
        nn.PReLU(num_parameters=0)
    with pytest.raises(ValueError, match=r"input of shape \(2, 3\) needs its last axis of size 4"):
        nn.PReLU(num_parameters=4)(np.ones((2, 3)))


def test_activation_module_by_name_and_errors():
    assert isinstance(nn.activation_module("relu"), nn.ReLU)
    assert nn.activation_module("leaky_relu", alpha=0.3).params == {"alpha": 0.3}
    generic = nn.activation_module("softplus")
    np.testing.assert_allclose(generic(np.array([0.0])).data, [np.log(2)])
    mod = nn.ReLU()
    assert nn.activation_module(mod) is mod
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        nn.activation_module("nope")
    with pytest.raises(TypeError, match="activation must be a name or a Module, got int"):
        nn.activation_module(3)
    with pytest.raises(ValueError, match="no op named 'nope' in the op table"):
        nn.Activation("nope")


def test_activation_modules_call_the_op_table(monkeypatch):
    """No re-implemented math: a module's output changes when its table entry changes."""
    from autograd_lite import registry

    original = registry.get_op("tanh")
    fake = registry.Op(
        "tanh", forward=lambda z: z * 0 + 42.0, vjps=original.vjps, formula="tanh(z)"
    )
    registry.register(fake, replace=True)
    try:
        assert nn.Tanh()(np.zeros(2)).data.tolist() == [42.0, 42.0]
    finally:
        registry.register(original, replace=True)
    assert nn.Tanh()(np.zeros(2)).data.tolist() == [0.0, 0.0]


# ----------------------------------------------------------- Perceptron


def test_perceptron_lecture_swimming_example():
    p = nn.Perceptron(3, init="zeros")
    assert p.weight.shape == (3,) and isinstance(p.bias.data, float)
    p.load_state_dict({"weight": np.array([4.0, 2.0, 4.0]), "bias": np.array(-3.0)})
    assert p(np.array([1.0, 0.0, 1.0])).data == 1.0  # 4 + 4 - 3 = 5 >= 0: go swimming
    assert p(np.array([0.0, 0.0, 0.0])).data == 0.0
    batch = p(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    assert batch.shape == (2,)
    np.testing.assert_array_equal(batch.data, [1.0, 0.0])


@pytest.mark.parametrize(
    ("name", "targets"), [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1]), ("NAND", [1, 1, 1, 0])]
)
def test_classic_perceptron_rule_learns_linearly_separable_gates(name, targets):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    p = nn.Perceptron(2, seed=1)
    errors = p.fit(X, targets, lr=0.5, epochs=50, seed=0)
    assert errors[-1] == 0 and len(errors) < 50
    np.testing.assert_array_equal(p.predict(X), targets)


def test_perceptron_rule_cannot_learn_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    p = nn.Perceptron(2, seed=0)
    errors = p.fit(X, [0, 1, 1, 0], lr=0.5, epochs=30)
    assert len(errors) == 30 and min(errors) > 0


def test_perceptron_train_rule_update():
    p = nn.Perceptron(3, init="zeros")
    x = np.array([1.0, -2.0, 0.5])
    assert p.train_rule(x, 0.0, lr=0.1) == -1.0  # predicted step(0) = 1
    np.testing.assert_allclose(p.weight.data, -0.1 * x)
    assert p.bias.data == pytest.approx(-0.1)
    w_before = p.weight.data.copy()
    assert p.train_rule(x, 0.0, lr=0.1) == 0.0  # now correct: no change
    np.testing.assert_array_equal(p.weight.data, w_before)


def test_perceptron_errors():
    p = nn.Perceptron(3, seed=0)
    with pytest.raises(ValueError, match=r"Perceptron\(nin=3\): expected an example of shape"):
        p(np.ones(4))
    with pytest.raises(ValueError, match=r"train_rule: expected one example of shape \(3,\)"):
        p.train_rule(np.ones(2), 1.0)
    with pytest.raises(ValueError, match=r"fit: expected X of shape \(m, 3\) and y of shape"):
        p.fit(np.ones((4, 3)), [0, 1])


def test_sigmoid_perceptron_delta_rule_equals_one_sgd_step(rng):
    """Lecture: ∂E/∂w_i = δ x_i with δ = −e(1−y)y; gradient descent moves w by −η δ x."""
    p = nn.Perceptron(3, activation="sigmoid", seed=0)
    p.bias.data = 0.3
    x, t, eta = rng.normal(size=3), 1.0, 0.5
    w0, b0 = p.weight.data.copy(), p.bias.data
    y = float(1 / (1 + np.exp(-(w0 @ x + b0))))
    e = t - y
    delta = -e * (1 - y) * y
    opt = optim.SGD(p.parameters(), lr=eta)
    opt.zero_grad()
    E = nn.HalfSquaredError()(p(x), t)
    E.backward()
    np.testing.assert_allclose(p.weight.grad, delta * x, rtol=1e-12)
    opt.step()
    np.testing.assert_allclose(p.weight.data - w0, -eta * delta * x, rtol=1e-12)
    assert p.bias.data - b0 == pytest.approx(-eta * delta, rel=1e-12)


# --------------------------------------------------- scalar Neuron / Layer


def test_neuron_matches_formula_and_gradcheck():
    n = nn.Neuron(3, activation="sigmoid", seed=0)
    x = [0.5, -1.0, 2.0]
    w = np.array([wi.data for wi in n.w])
    out = n(x)
    assert out.data == pytest.approx(1 / (1 + np.exp(-(w @ x + n.b.data))))
    out.backward()
    y = out.data
    for wi, xi in zip(n.w, x):
        assert wi.grad == pytest.approx(y * (1 - y) * xi)
    params = n.parameters()
    assert al.gradcheck(lambda *ps: n(x), *params)


def test_neuron_errors():
    with pytest.raises(ValueError, match="unknown activation 'sigmoidal'"):
        nn.Neuron(2, activation="sigmoidal")
    with pytest.raises(ValueError, match=r"Neuron\(nin=2\): expected 2 inputs, got 3"):
        nn.Neuron(2, seed=0)([1.0, 2.0, 3.0])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_scalar_layer_equals_vectorised_linear(activation, rng):
    layer = nn.Layer(4, 3, activation=activation, seed=1)
    for n in layer.neurons:
        n.b.data = float(rng.normal())
    lin = layer.to_linear()
    np.testing.assert_array_equal(lin.weight.data, layer.weight_matrix())
    x = rng.normal(size=4)
    scalar_out = layer(list(x))
    vec_out = getattr(lin(al.Value(x)), activation)()
    np.testing.assert_allclose([o.data for o in scalar_out], vec_out.data, rtol=1e-13, atol=1e-15)
    # same gradients for a weighted sum of the outputs
    c = rng.normal(size=3)
    total = scalar_out[0] * c[0] + scalar_out[1] * c[1] + scalar_out[2] * c[2]
    total.backward()
    (vec_out * c).sum().backward()
    scalar_grad = np.array([[w.grad for w in n.w] for n in layer.neurons])
    np.testing.assert_allclose(scalar_grad, lin.weight.grad, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([n.b.grad for n in layer.neurons], lin.bias.grad, rtol=1e-12)


def test_layer_names_and_repr():
    layer = nn.Layer(2, 2, seed=0)
    assert [n for n, _ in layer.named_parameters()] == [
        "neurons.0.w.0",
        "neurons.0.w.1",
        "neurons.0.b",
        "neurons.1.w.0",
        "neurons.1.w.1",
        "neurons.1.b",
    ]
    assert repr(layer) == "Layer(nin=2, nout=2, activation='tanh')"
    assert list(layer.state_dict()) == [n for n, _ in layer.named_parameters()]


def test_numeric_grad_of_linear_weight_matches_backward(rng):
    lin = nn.Linear(3, 2, seed=0)
    X = rng.normal(size=(4, 3))
    lin(X).sigmoid().sum().backward()
    numeric = numeric_grad(lambda w: lin(X).sigmoid().sum(), [lin.weight], 0)
    np.testing.assert_allclose(lin.weight.grad, numeric, rtol=1e-6, atol=1e-8)


def test_perceptron_in_a_graph_and_gradcheck(rng):
    """Usable as a graph node: sigmoid version vs finite differences; step passes zero grads."""
    p = nn.Perceptron(4, activation="sigmoid", seed=0)
    X = rng.normal(size=(6, 4))
    assert al.gradcheck(lambda w, b: nn.MSELoss()(p(X), np.ones(6)), p.weight, p.bias)
    step = nn.Perceptron(4, seed=0)
    x = al.Value(rng.normal(size=(6, 4)) + 0.1)
    out = step(x)
    out.sum().backward()
    assert out.op == "step"
    np.testing.assert_array_equal(step.weight.grad, np.zeros(4))
    np.testing.assert_array_equal(x.grad, np.zeros((6, 4)))
