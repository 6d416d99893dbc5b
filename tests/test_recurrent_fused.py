"""nn.RNN and nn.GRU as one fused node (recurrent_ops ``rnn``, ``gru``) against their cells.

The reference is the per-step composition the layers were before: ``RNNCell`` /
``GRUCell`` (which record every step op by op) looped over the time axis with the same
parameters. Outputs and every gradient must agree to rounding, in every layout and
option the layers take.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn, symbolic
from autograd_lite.recurrent_ops import GRU_ROWS, RNN_ROWS

LAYERS = {
    "rnn-tanh": (nn.RNN, nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn-relu": (nn.RNN, nn.RNNCell, {"nonlinearity": "relu"}),
    "gru": (nn.GRU, nn.GRUCell, {}),
}


def pair(kind: str, bias: bool = True, batch_first: bool = True, **kw):
    """A sequence layer and a cell holding the same parameters."""
    seq_cls, cell_cls, options = LAYERS[kind]
    layer = seq_cls(3, 4, bias=bias, batch_first=batch_first, seed=21, **options, **kw)
    cell = cell_cls(3, 4, bias=bias, seed=0, **options, **kw)
    cell.load_state_dict(layer.state_dict())
    return layer, cell


def run_cells(cell, x, h0, batch_first: bool):
    """The sequence the old way: one cell step per time step, h's stacked."""
    xs = x if batch_first else x.transpose((1, 0, 2))
    h, outs = h0, []
    for t in range(xs.shape[1]):
        h = cell(xs[:, t], h)
        outs.append(h)
    out = al.stack(outs, axis=1)
    return (out if batch_first else out.transpose((1, 0, 2))), h


def loss_and_grads(run, x, h0, params, weights):
    for v in (x, h0, *params):
        if isinstance(v, al.Value):
            v.zero_grad()
    out, h = run()
    loss = (out * weights).sum() + (h * h).sum()
    loss.backward()
    grads = [
        None if not isinstance(v, al.Value) or v.grad is None else v.grad.copy() for v in (x, h0)
    ]
    return out.data, h.data, grads + [p.grad.copy() for p in params]


@pytest.mark.parametrize("kind", list(LAYERS))
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("given_h0", [True, False])
def test_fused_layer_equals_the_cells_step_by_step(kind, batch_first, bias, given_h0):
    layer, cell = pair(kind, bias, batch_first)
    rng = np.random.default_rng(zlib.crc32(f"{kind} {batch_first} {bias} {given_h0}".encode()))
    shape = (2, 5, 3) if batch_first else (5, 2, 3)
    x = al.Value(rng.normal(size=shape))
    h0 = al.Value(rng.normal(size=(2, 4))) if given_h0 else None
    weights = rng.normal(size=shape[:2] + (4,))
    fused = loss_and_grads(lambda: layer(x, h0), x, h0, layer.parameters(), weights)
    steps = loss_and_grads(
        lambda: run_cells(cell, x, h0, batch_first), x, h0, cell.parameters(), weights
    )
    assert len(fused[2]) == len(steps[2]) == 4 + 2 * bias
    for a, b in zip(fused[:2] + tuple(fused[2]), steps[:2] + tuple(steps[2])):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_the_whole_sequence_is_one_node(kind):
    layer, _ = pair(kind)
    x = al.Value(np.ones((2, 6, 3)))
    out, h = layer(x)
    names = []
    stack = [out, h]
    seen = set()
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        op = getattr(v, "_op", None)
        if op is not None:
            names.append(op.name)
            stack.extend(v.parents)
    fused = "rnn" if kind.startswith("rnn") else "gru"
    assert names.count(fused) == 1
    assert not {"tanh", "sigmoid", "relu", "matmul", "dense", "stack"} & set(names), names


@pytest.mark.parametrize("kind", list(LAYERS))
def test_gradients_match_finite_differences_without_bias_time_first(kind):
    layer, _ = pair(kind, bias=False, batch_first=False)
    rng = np.random.default_rng(31)
    x, h0 = al.Value(rng.normal(size=(3, 2, 3))), al.Value(rng.normal(size=(2, 4)))
    proj = rng.normal(size=(3, 2, 4))

    def loss(x, h0, *params):
        out, h = layer(x, h0)
        return (out * proj).sum() + h.sum()

    assert al.gradcheck(loss, x, h0, *layer.parameters())


def test_relu_rnn_takes_relus_derivative_1_at_0_as_the_cell_does():
    # no bias, zero input and state: every pre-activation is exactly 0
    layer, cell = pair("rnn-relu", bias=False)
    x = al.Value(np.zeros((2, 3, 3)))
    weights = np.ones((2, 3, 4))
    fused = loss_and_grads(lambda: layer(x), x, None, layer.parameters(), weights)
    steps = loss_and_grads(
        lambda: run_cells(cell, x, np.zeros((2, 4)), True), x, None, cell.parameters(), weights
    )
    assert np.abs(steps[2][0]).max() > 0  # the gradient flows through the kinks
    np.testing.assert_allclose(fused[2][0], steps[2][0], atol=1e-12)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_float32_stays_float32_and_agrees_with_float64(kind):
    layer32, _ = pair(kind, dtype=np.float32)
    layer64, _ = pair(kind)
    x = np.random.default_rng(5).normal(size=(2, 4, 3))
    results = []
    for layer, x_in in ((layer32, x.astype(np.float32)), (layer64, x)):
        out, h = layer(x_in)
        (out.sum() + h.sum()).backward()
        results.append((out.data, [p.grad for p in layer.parameters()]))
    (out32, grads32), (out64, grads64) = results
    assert out32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32)
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-5)
    for a, b in zip(grads32, grads64):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    # the default zero state takes the weights' dtype (it was float64, which made the
    # whole float32 RNN/GRU and their cells compute in float64)
    _, cell32 = pair(kind, dtype=np.float32)
    assert cell32(x[:, 0].astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("kind", list(LAYERS))
def test_no_grad_records_nothing(kind):
    layer, _ = pair(kind)
    x = np.random.default_rng(6).normal(size=(2, 4, 3))
    with al.no_grad():
        out, h = layer(al.Value(x))
    assert not out.requires_grad and not h.requires_grad
    np.testing.assert_array_equal(out.data, layer(x)[0].data)


# second derivatives (create_graph) against finite differences: tests/test_recurrent.py


@pytest.mark.parametrize("name", ["rnn", "gru"])
@pytest.mark.parametrize("order", [1, 2])
def test_fused_ops_pass_the_sympy_check(name, order):
    result = symbolic.check(name, order=order)
    assert result.ok, result
    if order == 1:
        assert "T=2" in result.message  # the recurrence itself is checked
        assert "H=2" in result.message  # and shapes where a transposed weight would show


def test_output_rows_are_what_their_names_say():
    rng = np.random.default_rng(7)
    x, h0 = rng.normal(size=(2, 3, 1)), rng.normal(size=(2, 2))
    w_ih, w_hh, b_ih, b_hh = (
        rng.normal(size=(2, 1)),
        rng.normal(size=(2, 2)),
        *rng.normal(size=(2, 2)),
    )
    y = al.rnn(x, h0, w_ih, w_hh, b_ih, b_hh).data
    assert y.shape == (3, len(RNN_ROWS), 2, 2)
    a0 = x[:, 0] @ w_ih.T + b_ih + h0 @ w_hh.T + b_hh
    np.testing.assert_allclose(y[0, RNN_ROWS.index("a")], a0)
    np.testing.assert_allclose(y[0, RNN_ROWS.index("h")], np.tanh(a0))
    g = al.gru(x, h0, *(rng.normal(size=s) for s in ((6, 1), (6, 2), (6,), (6,)))).data
    assert g.shape == (3, len(GRU_ROWS), 2, 2) and GRU_ROWS[0] == "h"


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: al.rnn(np.zeros((2, 3)), np.zeros((2, 4)), *_w(1, 4, 3)), ["rnn", "(2, 3)"]),
        (lambda: al.rnn(np.zeros((2, 3, 3)), np.zeros((3, 4)), *_w(1, 4, 3)), ["rnn", "(3, 4)"]),
        (lambda: al.gru(np.zeros((2, 3, 3)), np.zeros((2, 4)), *_w(1, 4, 3)), ["gru", "(4, 3)"]),
        (lambda: al.gru(np.zeros((2, 3, 2)), np.zeros((2, 4)), *_w(3, 4, 3)), ["(2, 3, 2)", "3H"]),
        (lambda: al.gru(np.zeros((2, 0, 3)), np.zeros((2, 4)), *_w(3, 4, 3)), ["T >= 1"]),
        (lambda: al.rnn(np.zeros((1, 1, 3)), np.zeros((1, 4)), *_w(1, 4, 3), "gelu"), ["'gelu'"]),
        (lambda: nn.GRU(3, 4)(np.zeros((2, 0, 3))), ["gru", "(2, 0, 3)"]),
    ],
)
def test_bad_shapes_name_the_op_and_the_shapes(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def _w(gates: int, hidden: int, inputs: int) -> list[np.ndarray]:
    rows = gates * hidden
    return [np.zeros((rows, inputs)), np.zeros((rows, hidden)), np.zeros(rows), np.zeros(rows)]


@pytest.mark.parametrize("cls", [nn.RNN, nn.LSTM, nn.GRU])
def test_each_parameter_gets_a_gradient_array_of_its_own(cls):
    layer = cls(2, 3, seed=8)
    out, _ = layer(np.ones((2, 4, 2)))
    out.sum().backward()
    grads = [p.grad for p in layer.parameters()]
    # b_ih and b_hh have equal gradients (rnn, lstm), but not one array: an optimizer that
    # changes one parameter's gradient in place must not change the other's
    assert len({id(g) for g in grads}) == 4
    if cls is not nn.GRU:
        np.testing.assert_array_equal(grads[2], grads[3])
