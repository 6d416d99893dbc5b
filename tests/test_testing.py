"""assert_derivative: the one-line check users put in their own pytest suites."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.registry import Op, all_ops, register, unregister
from autograd_lite.testing import assert_derivative

UNARY = [op.name for op in all_ops() if op.elementwise and op.arity == 1]


@pytest.mark.parametrize("name", UNARY)
def test_every_unary_table_op_passes(name: str) -> None:
    assert_derivative(name)


BINARY = [op.name for op in all_ops() if op.elementwise and op.arity == 2]


@pytest.mark.parametrize("name", BINARY)
def test_every_two_input_table_op_passes_by_name(name: str) -> None:
    assert_derivative(name)


def test_two_input_op_with_explicit_points_and_formula() -> None:
    assert_derivative("mul", points=[(1.5, -2.0), (0.0, 3.0)])
    assert_derivative("div", formula="a/b", points=np.array([[1.0, 2.0], [-3.0, 0.5]]))
    with pytest.raises(AssertionError, match=r"forward differs from the formula at a = 1, b = 2"):
        assert_derivative("mul", formula="a + b", points=[(1.0, 2.0)])


def test_a_wrong_partial_of_a_two_input_op_names_the_input() -> None:
    op = Op(
        "wrong_div",
        forward=lambda a, b: a / b,
        vjps=(lambda g, out, a, b: g / b, lambda g, out, a, b: g * out / b),  # sign lost
        formula="a / b",
        domain=(0.5, 3.0),
    )
    with pytest.raises(AssertionError) as info:
        assert_derivative(op)
    msg = str(info.value)
    assert "backward disagrees" in msg and "∂/∂b: backward" in msg
    assert "SymPy ∂/∂b:       -a/b**2" in msg and "worst point a = 1.75, b = 0.5" in msg


def test_structural_ops_by_name_are_checked_against_their_sympy_definition() -> None:
    for name in ("softmax", "matmul", "sum"):
        assert_derivative(name)
    softmax = al.get_op("softmax")
    wrong = Op(
        "softmax_as_elementwise",
        forward=softmax.forward,
        vjps=(lambda g, out, z, axis: g * out * (1 - out),),
        params=("axis",),
        defaults={"axis": -1},
        sympy_def=softmax.sympy_def,
        cases=softmax.cases,
    )
    with pytest.raises(AssertionError, match=r"softmax_as_elementwise: Jacobian does NOT match"):
        assert_derivative(wrong)


def test_callable_against_a_formula() -> None:
    assert_derivative(lambda v: v * v.sigmoid(), formula="z/(1 + exp(-z))")
    assert_derivative(lambda v: (v * v).tanh(), formula="tanh(z**2)", points=[-1.2, 0.0, 0.9])
    assert_derivative(al.get_op("softplus"), points=np.array([[-1.0, 2.0]]))


@pytest.fixture
def wrong_tanh():
    op = register(
        Op(
            "wrong_tanh",
            forward=np.tanh,
            vjps=(lambda g, out, z: g * (1 - out),),
            formula="tanh(z)",
        )
    )
    yield op
    unregister("wrong_tanh")


def test_wrong_backward_fails_showing_formulas_and_worst_point(wrong_tanh) -> None:
    with pytest.raises(AssertionError) as info:
        assert_derivative("wrong_tanh")
    msg = str(info.value)
    assert "assert_derivative(wrong_tanh): backward disagrees" in msg
    assert "worst point z = -3: backward 1.9950548, SymPy 0.0098660372" in msg
    assert "finite differences 0.00986603" in msg
    assert "formula:          tanh(z)" in msg
    assert "SymPy derivative: 1 - tanh(z)**2" in msg


def test_wrong_formula_fails_on_the_forward_showing_both_formulas() -> None:
    with pytest.raises(AssertionError) as info:
        assert_derivative("tanh", formula="sinh(z)")
    msg = str(info.value)
    assert "forward differs from the formula at z = -3" in msg
    assert "op's own formula: tanh(z)" in msg and "formula:          sinh(z)" in msg


def test_wrong_derivative_of_a_callable_is_caught() -> None:
    def my_op(v: al.Value) -> al.Value:
        # forward is z**2, but the graph is cut: the gradient is only through one factor
        return v * al.Value(v.data, requires_grad=False)

    with pytest.raises(
        AssertionError,
        match=r"backward disagrees[\s\S]*z = 2: backward 2, SymPy 4[\s\S]*SymPy derivative: 2\*z",
    ):
        assert_derivative(my_op, formula="z**2", points=[1.0, 2.0])


def test_error_paths_name_the_problem() -> None:
    with pytest.raises(ValueError, match="no formula to check against"):
        assert_derivative(lambda v: v.exp())
    op3 = Op(
        "fma3",
        forward=lambda a, b, c: a * b + c,
        vjps=(
            lambda g, out, a, b, c: g * b,
            lambda g, out, a, b, c: g * a,
            lambda g, out, a, b, c: g,
        ),
        formula="a*b + c",
        inputs=("a", "b", "c"),
    )
    with pytest.raises(ValueError, match="op 'fma3' has 3 inputs"):
        assert_derivative(op3)
    with pytest.raises(ValueError, match=r"points must be a list of 2-tuples.*shape \(1, 3\)"):
        assert_derivative("mul", points=[(1.0, 2.0, 3.0)])
    with pytest.raises(ValueError, match="formula= is for elementwise ops"):
        assert_derivative("softmax", formula="z")
    with pytest.raises(TypeError, match="must be an op name or a callable"):
        assert_derivative(3.0)
    with pytest.raises(ValueError, match=r"formula 'q\*z': unknown name 'q'"):
        assert_derivative(lambda v: v, formula="q*z")
    with pytest.raises(ValueError, match=r"formula 'z\.real'"):
        assert_derivative(lambda v: v, formula="z.real")
    with pytest.raises(ValueError, match="no points to check"):
        assert_derivative("tanh", points=[])
    with pytest.raises(TypeError, match="must return a Value"):
        assert_derivative(lambda v: 1.0, formula="1")
    with pytest.raises(KeyError, match="no op named 'nope'"):
        assert_derivative("nope")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        # a negative rtol failed every point with "op gives -0.995, formula gives -0.995"
        ({"rtol": -1.0}, ValueError, r"assert_derivative: rtol must be a number > 0, got -1.0"),
        ({"rtol": True}, ValueError, "rtol must be a number > 0, got True"),
        # these leaked numpy's "could not convert string to float: 'a'", naming nothing
        ({"points": "abc"}, TypeError, r"assert_derivative\(tanh\): points must be a list"),
        ({"points": [0.5, "x"]}, ValueError, r"assert_derivative\(tanh\): points must be numbers"),
        ({"points": [0.5, float("nan")]}, ValueError, r"\(tanh\): points must be finite"),
    ],
)
def test_bad_points_and_tolerance_name_the_helper(kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        assert_derivative("tanh", **kwargs)
