"""The lecture's scalar examples, checked against the lecture's own formulas and SymPy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import autograd_lite as al


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


# ------------------------------------------------------- swimming perceptron


def test_swimming_perceptron_goes_swimming() -> None:
    """Warm water (1), crowded beach (0), no shark attack (1); w = (4, 2, 4), b = -3."""
    x = [1.0, 0.0, 1.0]
    w = [al.Value(4.0, label="w1"), al.Value(2.0, label="w2"), al.Value(4.0, label="w3")]
    b = al.Value(-3.0, label="b")
    z = w[0] * x[0] + w[1] * x[1] + w[2] * x[2] + b
    y = z.step()
    assert z.data == 5.0
    assert y.data == 1.0


def test_swimming_perceptron_vector_form_and_all_decisions() -> None:
    w = al.Value([4.0, 2.0, 4.0], label="w")
    b = al.Value(-3.0, label="b")
    for bits in range(8):
        x = [float(bits >> i & 1) for i in range(3)]
        y = (w @ al.Value(x, requires_grad=False) + b).step()
        expected = 1.0 if 4 * x[0] + 2 * x[1] + 4 * x[2] - 3 >= 0 else 0.0
        assert y.data == expected, x


def test_step_activation_passes_no_gradient() -> None:
    w = al.Value([4.0, 2.0, 4.0])
    y = (w @ al.Value([1.0, 0.0, 1.0], requires_grad=False) - 3.0).step()
    y.backward()
    np.testing.assert_array_equal(w.grad, [0.0, 0.0, 0.0])


# ---------------------------------------------- sigmoid perceptron, chain rule

CASES = [
    # (w, x, b, t)
    ([0.5, -0.3, 0.8], [1.0, 2.0, -1.0], 0.1, 1.0),
    ([-1.2, 0.4, 0.0], [0.5, -1.0, 3.0], -0.7, 0.0),
    ([2.0, 2.0, -2.0], [1.0, 0.0, 1.0], 0.3, 0.25),
]


@pytest.mark.parametrize(("w0", "x0", "b0", "t"), CASES)
def test_sigmoid_perceptron_delta_rule(w0: list, x0: list, b0: float, t: float) -> None:
    """E = ½e², e = t − y, y = σ(A), A = w·x + b  ⇒  ∂E/∂w_i = −e(1−y)y·x_i (the lecture)."""
    w = [al.Value(v, label=f"w{i + 1}") for i, v in enumerate(w0)]
    b = al.Value(b0, label="b")
    A = sum((wi * xi for wi, xi in zip(w, x0)), start=al.Value(0.0)) + b
    y = A.sigmoid()
    e = t - y
    E = 0.5 * e**2
    E.backward()

    a_val = sum(wi * xi for wi, xi in zip(w0, x0)) + b0
    y_val = _sigmoid(a_val)
    e_val = t - y_val
    delta = -e_val * (1 - y_val) * y_val  # the lecture's δ
    assert E.data == pytest.approx(0.5 * e_val**2, rel=1e-12)
    for wi, xi in zip(w, x0):
        assert wi.grad == pytest.approx(delta * xi, rel=1e-10, abs=1e-14)
    assert b.grad == pytest.approx(delta, rel=1e-10)
    # the four chain-rule factors, read off the intermediate nodes
    assert e.grad == pytest.approx(e_val)  # ∂E/∂e = e
    assert y.grad == pytest.approx(-e_val)  # × ∂e/∂y = −1
    assert A.grad == pytest.approx(-e_val * y_val * (1 - y_val))  # × ∂y/∂A = y(1−y)


@pytest.mark.parametrize(("w0", "x0", "b0", "t"), CASES)
def test_sigmoid_perceptron_against_sympy(w0: list, x0: list, b0: float, t: float) -> None:
    import sympy as sp

    ws = sp.symbols("w1:4")
    bs = sp.Symbol("b")
    A = sum(wi * xi for wi, xi in zip(ws, x0)) + bs
    E = sp.Rational(1, 2) * (t - 1 / (1 + sp.exp(-A))) ** 2
    point = {**dict(zip(ws, w0)), bs: b0}

    w = [al.Value(v) for v in w0]
    b = al.Value(b0)
    y = (w[0] * x0[0] + w[1] * x0[1] + w[2] * x0[2] + b).sigmoid()
    (0.5 * (t - y) ** 2).backward()
    for wi, sym in zip(w, ws):
        assert wi.grad == pytest.approx(float(sp.diff(E, sym).subs(point)), rel=1e-10, abs=1e-14)
    assert b.grad == pytest.approx(float(sp.diff(E, bs).subs(point)), rel=1e-10, abs=1e-14)


def test_tensor_form_matches_the_scalar_form() -> None:
    w0, x0, b0, t = CASES[0]
    w = al.Value(w0)
    b = al.Value(b0)
    y = (w @ al.Value(x0, requires_grad=False) + b).sigmoid()
    (0.5 * (t - y) ** 2).backward()
    y_val = float(y.data)
    np.testing.assert_allclose(w.grad, -(t - y_val) * (1 - y_val) * y_val * np.array(x0))


def test_gradient_descent_step_with_delta_rule_reduces_the_error() -> None:
    """Δw = −η ∂E/∂w = −η δ x: one step lowers E, repeated steps approach the target."""
    w = al.Value([0.5, -0.3, 0.8])
    b = al.Value(0.1)
    x = al.Value([1.0, 2.0, -1.0], requires_grad=False)
    t, eta = 1.0, 0.5
    errors = []
    for _ in range(50):
        E = 0.5 * (t - (w @ x + b).sigmoid()) ** 2
        E.backward()
        errors.append(E.data)
        w.data = w.data - eta * w.grad
        b.data = b.data - eta * b.grad
        w.zero_grad()
        b.zero_grad()
    assert errors[1] < errors[0]
    assert all(e2 <= e1 for e1, e2 in itertools.pairwise(errors))
    assert errors[-1] < 0.1 * errors[0]


def test_chain_rule_on_the_graph_of_e_equals_half_e_squared() -> None:
    """The lecture's composite: each factor is the local derivative, their product the total."""
    A = al.Value(0.4, label="A")
    y = A.sigmoid()
    y.label = "y"
    e = 1.0 - y
    e.label = "e"
    E = 0.5 * e * e
    E.backward()
    s = _sigmoid(0.4)
    factors = [1 - s, -1.0, s * (1 - s)]  # ∂E/∂e, ∂e/∂y, ∂y/∂A
    assert A.grad == pytest.approx(math.prod(factors), rel=1e-12)
    assert al.gradcheck(lambda a: 0.5 * (1.0 - a.sigmoid()) ** 2, al.Value(0.4))


def test_softmax_reproduces_the_lectures_worked_example() -> None:
    """The lecture's output layer z = (1.3, 5.1, 2.2, 0.7, 1.1): Σ exp ≈ 181.73 and
    exp(1.3)/181.73 = 3.67/181.73 ≈ 0.02 (the slide's second line writes 181.37, a
    transposition of the first line's sum)."""
    z = al.Value([1.3, 5.1, 2.2, 0.7, 1.1], label="z")
    p = z.softmax()
    assert z.exp().sum().data == pytest.approx(181.73, abs=0.005)
    assert math.exp(1.3) == pytest.approx(3.67, abs=0.005)
    assert p.data[0] == pytest.approx(0.02, abs=0.001)
    assert p.data.sum() == pytest.approx(1.0) and np.all((p.data > 0) & (p.data < 1))
    assert int(np.argmax(p.data)) == 1  # 5.1 takes ~90 %
