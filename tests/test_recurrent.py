"""RNN, LSTM, GRU and their cells against numpy versions of PyTorch's documented equations."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, symbolic


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---- PyTorch's equations (torch.nn.RNN / LSTM / GRU docs), written out in numpy


def ref_rnn(x, h, w_ih, w_hh, b_ih, b_hh, act=np.tanh):
    outs = []
    for t in range(x.shape[1]):
        h = act(x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        outs.append(h)
    return np.stack(outs, axis=1), h


def ref_lstm(x, h, c, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[1]
    outs = []
    for t in range(x.shape[1]):
        gates = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i = sigmoid(gates[:, :H])
        f = sigmoid(gates[:, H : 2 * H])
        g = np.tanh(gates[:, 2 * H : 3 * H])
        o = sigmoid(gates[:, 3 * H :])
        c = f * c + i * g
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, axis=1), h, c


def ref_gru(x, h, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[1]
    outs = []
    for t in range(x.shape[1]):
        gi = x[:, t] @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        r = sigmoid(gi[:, :H] + gh[:, :H])
        z = sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
        n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
        h = (1 - z) * n + z * h
        outs.append(h)
    return np.stack(outs, axis=1), h


RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5, 4))
H0 = RNG.normal(size=(3, 6))
C0 = RNG.normal(size=(3, 6))


def weights(layer):
    return [p.data for p in layer.parameters()]


def test_parameters_have_pytorch_names_shapes_and_init_range():
    for cls, gates in ((nn.RNN, 1), (nn.LSTM, 4), (nn.GRU, 3)):
        layer = cls(4, 6, seed=1)
        shapes = [(n, p.shape) for n, p in layer.named_parameters()]
        assert shapes == [
            ("weight_ih", (gates * 6, 4)),
            ("weight_hh", (gates * 6, 6)),
            ("bias_ih", (gates * 6,)),
            ("bias_hh", (gates * 6,)),
        ]
        bound = 1 / np.sqrt(6)
        for p in layer.parameters():
            assert np.abs(p.data).max() <= bound
            assert np.abs(p.data).max() > 0.5 * bound  # really drawn from the whole range


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_forward_matches_the_equations(nonlinearity):
    rnn = nn.RNN(4, 6, nonlinearity=nonlinearity, seed=2)
    act = np.tanh if nonlinearity == "tanh" else (lambda z: np.maximum(z, 0))
    out, h = rnn(X, H0)
    ref_out, ref_h = ref_rnn(X, H0, *weights(rnn), act=act)
    np.testing.assert_allclose(out.data, ref_out, atol=1e-12)
    np.testing.assert_allclose(h.data, ref_h, atol=1e-12)
    out0, _ = rnn(X)  # default initial state: zeros
    np.testing.assert_allclose(out0.data, ref_rnn(X, 0 * H0, *weights(rnn), act=act)[0])


def test_lstm_forward_matches_the_equations():
    lstm = nn.LSTM(4, 6, seed=3)
    out, (h, c) = lstm(X, (H0, C0))
    ref_out, ref_h, ref_c = ref_lstm(X, H0, C0, *weights(lstm))
    np.testing.assert_allclose(out.data, ref_out, atol=1e-12)
    np.testing.assert_allclose(h.data, ref_h, atol=1e-12)
    np.testing.assert_allclose(c.data, ref_c, atol=1e-12)


def test_gru_forward_matches_the_equations():
    gru = nn.GRU(4, 6, seed=4)
    out, h = gru(X, H0)
    ref_out, ref_h = ref_gru(X, H0, *weights(gru))
    np.testing.assert_allclose(out.data, ref_out, atol=1e-12)
    np.testing.assert_allclose(h.data, ref_h, atol=1e-12)


def test_cells_take_one_step_of_the_sequence_layers():
    x1 = X[:, :1]
    for seq, cell in (
        (nn.RNN(4, 6, seed=5), nn.RNNCell(4, 6, seed=5)),
        (nn.GRU(4, 6, seed=6), nn.GRUCell(4, 6, seed=6)),
    ):
        _, h = seq(x1, H0)
        np.testing.assert_allclose(cell(X[:, 0], H0).data, h.data, atol=1e-12)
    lstm, cell = nn.LSTM(4, 6, seed=7), nn.LSTMCell(4, 6, seed=7)
    _, (h, c) = lstm(x1, (H0, C0))
    h1, c1 = cell(X[:, 0], (H0, C0))
    np.testing.assert_allclose(h1.data, h.data, atol=1e-12)
    np.testing.assert_allclose(c1.data, c.data, atol=1e-12)


def test_batch_first_false_takes_time_first():
    lstm = nn.LSTM(4, 6, batch_first=False, seed=8)
    out, (h, _) = lstm(X.transpose(1, 0, 2))
    ref_out, ref_h, _ = ref_lstm(X, 0 * H0, 0 * C0, *weights(lstm))
    np.testing.assert_allclose(out.data, ref_out.transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(h.data, ref_h, atol=1e-12)


def test_without_bias():
    lstm = nn.LSTM(4, 6, bias=False, seed=9)
    assert [n for n, _ in lstm.named_parameters()] == ["weight_ih", "weight_hh"]
    zeros = np.zeros(24)
    out, _ = lstm(X)
    w_ih, w_hh = weights(lstm)
    np.testing.assert_allclose(out.data, ref_lstm(X, 0 * H0, 0 * C0, w_ih, w_hh, zeros, zeros)[0])


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_sequence_gradients_match_finite_differences(cls):
    layer = cls(2, 3, seed=10)
    rng = np.random.default_rng(11)
    x = al.Value(rng.normal(size=(2, 4, 2)))
    h0 = al.Value(rng.normal(size=(2, 3)))
    c0 = al.Value(rng.normal(size=(2, 3)))
    weights_out = al.Value(rng.normal(size=(2, 4, 3)), requires_grad=False)

    def loss(x, h0, c0, *params):
        if cls is nn.LSTM:
            out, (h, c) = layer(x, (h0, c0))
            last = (h * c).sum()
        else:
            out, h = layer(x, h0)
            last = (h * h).sum()
        return (out * weights_out).sum() + last

    assert al.gradcheck(loss, x, h0, c0, *layer.parameters())


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_gradients_match_finite_differences(cls):
    cell = cls(3, 2, seed=12)
    rng = np.random.default_rng(13)
    x, h, c = (al.Value(rng.normal(size=s)) for s in ((4, 3), (4, 2), (4, 2)))

    def loss(x, h, c, *params):
        if cls is nn.LSTMCell:
            h1, c1 = cell(x, (h, c))
            return (h1 * h1).sum() + (c1 * h1).sum()
        h1 = cell(x, h)
        return (h1 * h1 * h1).sum()

    assert al.gradcheck(loss, x, h, c, *cell.parameters())


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.LSTM(2, 2, seed=14),
        lambda: nn.RNN(2, 2, seed=14),
        lambda: nn.RNN(2, 2, nonlinearity="relu", seed=14),
        lambda: nn.GRU(2, 2, seed=14),
    ],
    ids=["lstm", "rnn-tanh", "rnn-relu", "gru"],
)
def test_second_derivatives_match_finite_differences_of_the_gradient(make):
    layer = make()
    x = np.random.default_rng(15).normal(size=(2, 3, 2))
    w = layer.weight_hh

    def grad_norm(wv):  # |∂E/∂W_hh|² with the gradient recorded as a graph
        layer.zero_grad()
        out, state = layer(x)
        E = (out * out).sum() + (state[1] if isinstance(state, tuple) else state).sum()
        E.backward(create_graph=True)
        gw = wv.grad
        return (gw * gw).sum()

    s = grad_norm(w)
    w.zero_grad()
    s.backward()
    analytic = np.array(w.grad, copy=True)
    numeric = np.zeros_like(analytic)
    base = w.data.copy()
    eps = 1e-6
    for idx in np.ndindex(base.shape):
        vals = []
        for sign in (1, -1):
            probe = base.copy()
            probe[idx] += sign * eps
            w.data = probe
            vals.append(float(grad_norm(w).data))
        numeric[idx] = (vals[0] - vals[1]) / (2 * eps)
    w.data = base
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


def test_lstm_op_passes_the_sympy_check():
    result = symbolic.check("lstm")
    assert result.ok, result


def test_state_dict_copies_weights_between_layers():
    a, b = nn.GRU(4, 6, seed=16), nn.GRU(4, 6, seed=17)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(X)[0].data, b(X)[0].data)


@pytest.mark.parametrize(
    "make, bad, words",
    [
        (lambda: nn.LSTM(4, 6), np.zeros((3, 4)), ["LSTM", "(3, 4)", "input_size 4"]),
        (lambda: nn.GRU(4, 6), np.zeros((3, 5, 2)), ["GRU", "(3, 5, 2)"]),
        (lambda: nn.RNNCell(4, 6), np.zeros((3, 5)), ["RNNCell", "(3, 5)"]),
        (lambda: nn.LSTMCell(4, 6), np.zeros((3, 4, 1)), ["LSTMCell", "(3, 4, 1)"]),
    ],
)
def test_wrong_input_shapes_name_the_layer_and_shape(make, bad, words):
    with pytest.raises(ValueError) as info:
        make()(bad)
    for word in words:
        assert word in str(info.value)


def test_wrong_initial_state_is_refused():
    with pytest.raises(ValueError, match=r"initial h must have shape \(3, 6\)"):
        nn.RNN(4, 6)(X, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="pair"):
        nn.LSTM(4, 6)(X, np.zeros((3, 6)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(4, 6, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="hidden_size"):
        nn.LSTM(4, 0)
