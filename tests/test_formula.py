"""The safe formula parser: what it accepts, what it refuses, and that refusing has no effect."""

from __future__ import annotations

import builtins

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import formula
from autograd_lite.formula import parse, to_sympy, to_value

z = sympy.Symbol("z", real=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("z * tanh(log(1 + exp(z)))", z * sympy.tanh(sympy.log(1 + sympy.exp(z)))),
        ("-z + +2", -z + 2),
        ("0.5 * z**2", z**2 / 2),
        ("z / 3 - 1e-3", z / 3 - sympy.Rational(1, 1000)),
        ("Abs(z) + abs(z) + sign(z)", 2 * sympy.Abs(z) + sympy.sign(z)),
        (
            "sinh(z) + cosh(z) + sin(z) + cos(z) + atan(z) + erf(z) + sqrt(z)",
            sympy.sinh(z)
            + sympy.cosh(z)
            + sympy.sin(z)
            + sympy.cos(z)
            + sympy.atan(z)
            + sympy.erf(z)
            + sympy.sqrt(z),
        ),
        ("Max(z, 0) - Min(z, 1, 2)", sympy.Max(z, 0) - sympy.Min(z, 1)),
        ("Heaviside(z, 1)", sympy.Heaviside(z, 1)),
        (
            "Piecewise((0, z < -1) , (z, (z >= -1) & (z <= 1)), (1, True))",
            sympy.Piecewise((0, z < -1), (z, (z >= -1) & (z <= 1)), (1, True)),
        ),
        (
            "Piecewise((z, (z > 2) | (z != 0)), (0, True))",
            sympy.Piecewise((z, (z > 2) | sympy.Ne(z, 0)), (0, True)),
        ),
        ("pi * E * z", sympy.pi * sympy.E * z),
    ],
)
def test_to_sympy_builds_the_same_expression_sympy_would(text: str, expected: sympy.Expr) -> None:
    assert sympy.simplify(to_sympy(text, ["z"]) - expected) == 0


def test_table_ops_are_expanded_into_their_own_formulas() -> None:
    got = to_sympy("sigmoid(z) + leaky_relu(z, 0.2) + elu(z)", ["z"])
    want = (
        1 / (1 + sympy.exp(-z))
        + sympy.Piecewise((z, z >= 0), (z / 5, True))
        + sympy.Piecewise((z, z >= 0), (sympy.exp(z) - 1, True))
    )
    for point in (-1.5, 0.7):
        assert float(got.subs(z, point)) == pytest.approx(float(want.subs(z, point)))


def test_params_become_symbols_or_numbers() -> None:
    alpha = sympy.Symbol("alpha", real=True)
    assert to_sympy("alpha * z", ["z"], ["alpha"]) == alpha * z
    assert to_sympy("alpha * z", ["z"], {"alpha": 0.25}) == z / 4


def test_variables_take_precedence_over_constants() -> None:
    E = sympy.Symbol("E", real=True)
    assert to_sympy("E * 2", ["E"]) == 2 * E


MALICIOUS = [
    ("__import__('os').system('touch {marker}')", "attribute access '.system'"),
    ("__import__('os')", "unknown function '__import__'"),
    ("eval('1')", "unknown function 'eval'"),
    ("exec(\"open('{marker}', 'w')\")", "unknown function 'exec'"),
    ("open('{marker}', 'w')", "unknown function 'open'"),
    ("z.__class__", "attribute access '.__class__'"),
    ("z.__class__.__bases__[0].__subclasses__()", "attribute access"),
    ("(lambda: __import__('os').system('touch {marker}'))()", "only named functions"),
    ("lambda z: z", "lambdas are not allowed"),
    ("z[0]", "subscripts are not allowed"),
    ("[os for os in z]", "comprehensions are not allowed"),
    ("(x for x in z)", "comprehensions are not allowed"),
    ("{{1: z}}", "Dict"),
    ("exp(*z)", "starred arguments"),
    ("exp(z=1)", "keyword arguments"),
    ("'touch {marker}'", "is not a number"),
    ("z if z else 1", "IfExp"),
    ("z and 1", "only allowed inside Piecewise"),
    ("z < 1", "only allowed inside Piecewise"),
    ("(z := 1)", "NamedExpr"),
    ("z @ z", "operator"),
    ("z % 2", "operator"),
    ("9**9**9", "too large"),
    ("(9**999)**999", "too large"),
    ("2**-2000", "too large"),
    ("10**16 + 10000000000000000", "too large"),
    ("1e999", "not finite"),
    ("y + 1", "unknown name 'y'"),
    ("exp", "without calling it"),
    ("exp(z, 2)", "takes 1 argument"),
    ("Piecewise(z)", "pairs"),
    ("Piecewise((z, z < 1 < 2), (0, True))", "one comparison"),
    ("Piecewise((z, z + 1), (0, True))", "is not a condition"),
    ("", "empty formula"),
    ("z +", "not a valid expression"),
]


@pytest.mark.parametrize(("template", "why"), MALICIOUS)
def test_outside_the_whitelist_is_refused_naming_formula_and_part(
    template: str, why: str, tmp_path
) -> None:
    marker = tmp_path / "x"
    text = template.format(marker=marker)
    with pytest.raises(ValueError, match="formula") as info:
        to_sympy(text, ["z"])
    assert why in str(info.value)
    with pytest.raises(ValueError, match="formula"):
        to_value(text, {"z": 1.0})
    assert not marker.exists()
    assert list(tmp_path.iterdir()) == []


def test_overlong_and_deeply_nested_text_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than the 2000 allowed"):
        to_sympy("z+" * 1500 + "z", ["z"])
    with pytest.raises(ValueError, match="nested more than"):
        to_sympy("-" * 500 + "z", ["z"])
    assert to_sympy("+".join(["z"] * 150), ["z"]) == 150 * z  # long flat sums are fine
    with pytest.raises(ValueError, match="not a valid expression"):
        to_sympy("(" * 400 + "z" + ")" * 400, ["z"])
    with pytest.raises(ValueError, match="more than 600 parts"):
        to_sympy("Max(" + ",".join(["z"] * 700) + ")", ["z"])
    with pytest.raises(ValueError, match="must be a string"):
        to_sympy(42, ["z"])  # type: ignore[arg-type]


def test_parsing_never_calls_eval_or_sympify(monkeypatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("eval-like function called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sympy, "sympify", forbidden)
    monkeypatch.setattr(sympy, "parse_expr", forbidden)
    got = to_sympy("Piecewise((z, z >= 0), (exp(z) - 1, True)) + sigmoid(z)", ["z"])
    assert got.has(sympy.Piecewise)


def test_parse_gives_a_neutral_tree_and_helpers_read_it() -> None:
    tree = parse("a * sigmoid(x) + Piecewise((b, x > 0), (0, True))", ["a", "b", "x"])
    assert formula.names_in(tree) == {"a", "b", "x"}
    assert formula.calls_in(tree) == {"sigmoid"}


def test_sympy_number_keeps_short_decimals_exact() -> None:
    assert formula.sympy_number(0.1) == sympy.Rational(1, 10)
    assert formula.sympy_number(2.0) == 2
    assert isinstance(formula.sympy_number(1 / 3), sympy.Float)


def test_to_value_builds_a_graph_of_table_ops_with_correct_gradients() -> None:
    w = al.Value(0.7, label="w")
    out = to_value(
        "sigmoid(w * x + b) * tanh(w) + Abs(w) ** 2 / 2 - exp(-w)", {"w": w, "x": 1.5, "b": -0.25}
    )
    ops = {n.op for n in al.graph.topological_order(out)}
    assert {"sigmoid", "tanh", "abs", "exp", "pow", "mul"} <= ops
    assert al.gradcheck(
        lambda v: to_value(
            "sigmoid(v * 1.5 - 0.25) * tanh(v) + Abs(v) ** 2 / 2 - exp(-v)", {"v": v}
        ),
        w,
    )
    x_leaf = next(n for n in al.graph.topological_order(out) if n.label == "x")
    assert x_leaf.data == 1.5


def test_to_value_with_params_and_constants() -> None:
    v = al.Value(np.array([-2.0, 3.0]), label="v")
    out = to_value("leaky_relu(v, 0.5) + 2**3", {"v": v})
    np.testing.assert_allclose(out.data, [7.0, 11.0])
    const = to_value("2 * pi", {})
    assert const.data == pytest.approx(2 * np.pi)
    assert not const.requires_grad


def test_to_value_refuses_what_is_not_a_table_op() -> None:
    with pytest.raises(ValueError, match=r"sinh\(\) is not an op of the table"):
        to_value("sinh(x)", {"x": 1.0})
    with pytest.raises(ValueError, match="Piecewise"):
        to_value("Piecewise((x, x > 0), (0, True))", {"x": 1.0})
    with pytest.raises(ValueError, match="value for 'x'"):
        to_value("x + 1", {"x": "hello"})
    assert to_value("1 / 0", {}).data == np.inf  # constants follow numpy's rules, like Values


ALPHABET = "z0123456789.+-*/() ,<>=&|eE_abcdefghijklmnopqrstuvwxyPTF[]'\":!@"


@given(st.text(alphabet=ALPHABET, max_size=40))
def test_any_text_either_parses_or_raises_value_error(text: str) -> None:
    try:
        result = to_sympy(text, ["z"])
    except ValueError as exc:
        assert "formula" in str(exc)
    else:
        assert isinstance(result, sympy.Basic)
