"""Symbolic checks: the engine's real derivatives against SymPy, to_sympy, and the chain rule."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import sympy

import autograd_lite as al
from autograd_lite import symbolic
from autograd_lite.registry import Op, all_ops, register, unregister
from autograd_lite.teaching import lecture

ELEMENTWISE = [op.name for op in all_ops() if op.elementwise]


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("order", [1, 2])
def test_every_elementwise_op_matches_sympy(name: str, order: int) -> None:
    result = symbolic.check(name, order)
    assert result.ok, result.message
    assert result.max_error <= symbolic.TOLERANCE


def test_check_all_covers_the_table_and_is_green() -> None:
    results = symbolic.check_all()
    assert {r.name for r in results} >= set(ELEMENTWISE)
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    results2 = symbolic.check_all(order=2)
    assert all(r.ok for r in results2), [r.message for r in results2 if not r.ok]


def test_the_lectures_activations_have_formulas() -> None:
    for name in (
        "step",
        "linear",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "prelu",
        "elu",
        "swish",
        "exp",
        "log",
        "sqrt",
        "abs",
        "pow",
    ):
        assert al.get_op(name).elementwise, name


def test_kinks_are_skipped_and_named_in_the_message() -> None:
    result = symbolic.check("relu")
    assert result.ok
    assert "skipped z = 0" in result.message
    assert "engine gives 1" in result.message  # the lecture's convention, shown
    assert "left/right limits 0/1" in result.message
    assert result.skipped and result.skipped[0][0] == (0.0,)
    prelu = symbolic.check("prelu")
    assert "for ∂prelu/∂alpha" in prelu.message and "for ∂prelu/∂z" in prelu.message


def test_third_order_uses_repeated_create_graph() -> None:
    assert symbolic.check("sigmoid", order=3).ok
    assert symbolic.check("swish", order=3).ok
    d3 = symbolic.engine_derivative("tanh", [np.array([0.3, -1.2])], order=3)
    want = sympy.lambdify(sympy.Symbol("z"), sympy.diff(sympy.tanh(sympy.Symbol("z")), "z", 3))
    np.testing.assert_allclose(d3, want(np.array([0.3, -1.2])), rtol=1e-12)


@pytest.fixture
def wrong_sigmoid():
    """An op whose vjp forgets the (1 - out) factor; removed after the test."""
    op = register(
        Op(
            "wrong_sigmoid",
            forward=lambda z: 1 / (1 + np.exp(-z)),
            vjps=(lambda g, out, z: g * out,),
            formula="1/(1 + exp(-z))",
        )
    )
    yield op
    unregister("wrong_sigmoid")


def test_a_wrong_derivative_is_caught_with_a_useful_message(wrong_sigmoid) -> None:
    result = symbolic.check("wrong_sigmoid")
    assert not result.ok
    assert result.max_error > 0.1
    assert "does NOT match SymPy" in result.message
    assert "worst: ∂wrong_sigmoid/∂z" in result.message
    assert "engine" in result.message and "vs SymPy" in result.message
    assert "exp(-z)/(1 + exp(-z))**2" in result.message
    assert not bool(result)
    assert "wrong_sigmoid" in [r.name for r in symbolic.check_all() if not r.ok]


def test_a_formula_that_does_not_match_the_forward_is_caught() -> None:
    register(
        Op(
            "mislabelled",
            forward=np.tanh,
            vjps=(lambda g, out, z: g * (1 - out * out),),
            formula="sinh(z)",
        )
    )
    try:
        result = symbolic.check("mislabelled")
    finally:
        unregister("mislabelled")
    assert not result.ok
    assert (
        "forward differs from the formula at z = -3: op gives -0.995055, formula 'sinh(z)'"
        in result.message
    )


def test_check_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="structural ops are checked at order 1 or 2"):
        symbolic.check("matmul", order=3)
    with pytest.raises(ValueError, match="params= is for elementwise ops"):
        symbolic.check("sum", params={"axis": 0})
    with pytest.raises(ValueError, match="order must be a positive int"):
        symbolic.check("tanh", order=0)
    # it returned one "NOT CHECKED" result per op instead of saying the order is wrong
    with pytest.raises(ValueError, match="check_all: order must be a positive int, got '2'"):
        symbolic.check_all(order="2")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['beta'\]"):
        symbolic.check("leaky_relu", params={"beta": 1.0})
    assert symbolic.check("leaky_relu", params={"alpha": 0.3}).ok


def test_derivative_is_sympys_diff_of_the_formula() -> None:
    z = sympy.Symbol("z", real=True)
    sig = 1 / (1 + sympy.exp(-z))
    assert sympy.simplify(symbolic.derivative("sigmoid") - sig * (1 - sig)) == 0
    assert sympy.simplify(symbolic.derivative("tanh") - (1 - sympy.tanh(z) ** 2)) == 0
    assert symbolic.derivative("step").subs(z, 1.5) == 0  # DiracDelta vanishes off the kink
    alpha = sympy.Symbol("alpha", real=True)
    d = symbolic.derivative("elu")
    assert d.subs(z, -1) == alpha * sympy.exp(-1)
    a, b = sympy.symbols("a b", real=True)
    assert symbolic.derivative("pow", wrt="b") == a**b * sympy.log(a)
    with pytest.raises(ValueError, match="cannot differentiate by 'q'"):
        symbolic.derivative("pow", wrt="q")
    with pytest.raises(ValueError, match="positive int"):
        symbolic.derivative("tanh", order=-1)


def _perceptron():
    """E = ½(t − σ(w·x + b))², nodes labelled A, y, e, E, at w = 0.4, x = 1.5, b = 0.1, t = 1."""
    n = lecture.scalar_perceptron(w=0.4, x=1.5, b=0.1, target=1.0)
    return tuple(n[k] for k in ("E", "w", "x", "b", "t", "A", "y", "e"))


def test_to_sympy_of_the_lecture_perceptron() -> None:
    E, *_ = _perceptron()
    expr = symbolic.to_sympy(E)
    w, x, b, t = symbolic.symbols_of(expr, ["w", "x", "b", "t"])
    want = sympy.Rational(1, 2) * (t - 1 / (1 + sympy.exp(-(w * x + b)))) ** 2
    assert sympy.simplify(expr - want) == 0
    assert float(expr.subs({w: 0.4, x: 1.5, b: 0.1, t: 1.0})) == pytest.approx(E.data)


def test_to_sympy_numbers_and_errors() -> None:
    assert symbolic.to_sympy(al.Value(2.0) * 3 + al.Value(0.5)) == sympy.Rational(13, 2)
    with pytest.raises(ValueError, match="op 'sum' has no SymPy formula"):
        symbolic.to_sympy(al.Value(2.0, label="s").sum())
    with pytest.raises(ValueError, match=r"only scalar graphs.*shape \(2,\)"):
        symbolic.to_sympy((al.Value([1.0, 2.0], label="v") * 2).sum())
    with pytest.raises(ValueError, match="two different leaves are labelled 'a'"):
        symbolic.to_sympy(al.Value(1.0, label="a") + al.Value(2.0, label="a"))
    with pytest.raises(TypeError, match="expects a Value"):
        symbolic.to_sympy(3.0)


def test_chain_reproduces_the_lecture_gradient() -> None:
    E, w, x, _b, _t, _A, y, e = _perceptron()
    factors = symbolic.chain(E, w)
    assert factors.names == ["∂E/∂e", "∂e/∂y", "∂y/∂A", "∂A/∂w"]
    # in the leaves: the product is exactly SymPy's derivative of the whole graph
    expr = symbolic.to_sympy(E)
    (ws,) = symbolic.symbols_of(expr, ["w"])
    assert sympy.simplify((factors.product() - sympy.diff(expr, ws)).rewrite(sympy.exp)) == 0
    # in the lecture's quantities: -e (1 - y) y x
    es, ys, xs = sympy.symbols("e y x", real=True)
    assert sympy.simplify(factors.product(in_labels=True) - (-es * (1 - ys) * ys * xs)) == 0
    assert factors.in_labels[0] == es and factors.in_labels[1] == -1
    assert sympy.simplify(factors.in_labels[2] - ys * (1 - ys)) == 0
    # and numerically equal to the engine's backward
    E.backward()
    leaf_values = {s: {"w": 0.4, "x": 1.5, "b": 0.1, "t": 1.0}[s.name] for s in expr.free_symbols}
    assert float(factors.product().subs(leaf_values)) == pytest.approx(w.grad, rel=1e-12)
    label_values = {es: e.data, ys: y.data, xs: x.data}
    assert float(factors.product(in_labels=True).subs(label_values)) == pytest.approx(w.grad)
    assert "∂y/∂A = y*(1 - y)" in str(factors)
    assert set(map(str, factors.labels)) == {"A", "y", "e"}


def test_chain_by_label_and_errors() -> None:
    E, w, *_ = _perceptron()
    assert symbolic.chain(E, "b").names == ["∂E/∂e", "∂e/∂y", "∂y/∂A", "∂A/∂b"]
    with pytest.raises(ValueError, match="no node labelled 'q'"):
        symbolic.chain(E, "q")
    with pytest.raises(ValueError, match="is not an input of this output"):
        symbolic.chain(E, al.Value(1.0, label="elsewhere"))
    with pytest.raises(ValueError, match="needs a label"):
        symbolic.chain(E, E.parents[0])
    with pytest.raises(TypeError, match="output must be a Value"):
        symbolic.chain(1.0, w)


def test_several_paths_raise_and_chain_paths_sum_to_the_derivative() -> None:
    x = al.Value(0.8, label="x")
    u = x * x
    u.label = "u"
    out = (u + x).tanh()
    with pytest.raises(ValueError, match=r"reached along 3 paths.*chain_paths"):
        symbolic.chain(out, x)
    paths = symbolic.chain_paths(out, x)
    assert len(paths) == 3
    expr = symbolic.to_sympy(out)
    (xs,) = symbolic.symbols_of(expr, ["x"])
    total = sympy.Add(*(p.product() for p in paths))
    assert sympy.simplify(total - sympy.diff(expr, xs)) == 0
    out.backward()
    assert float(total.subs(xs, 0.8)) == pytest.approx(x.grad, rel=1e-12)


def test_import_autograd_lite_does_not_import_sympy() -> None:
    code = (
        "import sys, autograd_lite as al; "
        "v = al.Value(1.0).tanh(); v.backward(); "
        "assert 'sympy' not in sys.modules, 'sympy imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
