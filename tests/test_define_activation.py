"""Activations from a formula: safe parsing, derivatives to any order, registration."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from support import ROOT, python_blocks, run_python

import autograd_lite as al
from autograd_lite import define, symbolic

MISH = "z * tanh(log(1 + exp(z)))"
zs = sympy.Symbol("z", real=True)
MISH_SYMPY = zs * sympy.tanh(sympy.log(1 + sympy.exp(zs)))


@pytest.fixture(autouse=True)
def _undefine_after():
    """Ops defined by a test are removed after it (built-ins restored)."""
    before = set(define._DEFINED)
    yield
    for name in set(define._DEFINED) - before:
        define.undefine(name)


def test_mish_gradients_match_finite_differences() -> None:
    mish = al.define_activation("mish", MISH)
    x = al.Value(np.linspace(-4, 4, 9))
    assert al.gradcheck(lambda v: mish(v).sum(), x)
    s = al.Value(0.37)
    assert al.gradcheck(lambda v: v.mish() * 3, s)
    assert isinstance(al.mish(al.Value(0.5)).data, float)


def test_mish_higher_derivatives_match_sympy() -> None:
    al.define_activation("mish", MISH)
    pts = np.array([-2.5, -0.3, 0.4, 1.7])
    for order in (1, 2, 3):
        got = symbolic.engine_derivative("mish", [pts], order=order)
        want = sympy.lambdify(zs, sympy.diff(MISH_SYMPY, zs, order), "numpy")(pts)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # second derivative also against finite differences of the engine's first derivative
    v = al.Value(0.4)
    v.mish().backward(create_graph=True)
    first = v.grad
    v.zero_grad()
    first.backward()
    h = 1e-5
    d1 = [symbolic.engine_derivative("mish", [0.4 + d]) for d in (h, -h)]
    assert v.grad == pytest.approx((d1[0] - d1[1]) / (2 * h), rel=1e-6)


def test_defined_op_is_seen_everywhere() -> None:
    op = al.define_activation("mish", MISH, label="Mish")
    assert al.get_op("mish") is op
    assert op.elementwise and op.formula == MISH
    x = al.Value(0.5, label="x")
    y = x.mish()
    assert y.op == "mish"
    assert al.mish(x).data == y.data
    assert "mish" in dir(x)
    assert "Mish" in al.viz.to_dot(y)
    results = {r.name: r for r in symbolic.check_all()}
    assert results["mish"].ok, results["mish"].message
    assert symbolic.check("mish", order=2).ok
    assert sympy.simplify(symbolic.derivative("mish") - sympy.diff(MISH_SYMPY, zs)) == 0
    assert symbolic.to_sympy(y) == MISH_SYMPY.subs(zs, sympy.Symbol("x", real=True))


def test_piecewise_and_heaviside_formulas_work_on_arrays_and_floats() -> None:
    hard = al.define_activation(
        "hard_sigmoid", "Piecewise((0, z < -1), ((z + 1)/2, z <= 1), (1, True))"
    )
    assert hard.kinks == (-1.0, 1.0)
    x = al.Value(np.array([-2.0, -0.5, 0.5, 2.0]))
    y = hard(x)
    np.testing.assert_allclose(y.data, [0.0, 0.25, 0.75, 1.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5, 0.0])
    assert symbolic.check("hard_sigmoid").ok
    assert "skipped z = -1" in symbolic.check("hard_sigmoid").message

    ramp = al.define_activation(
        "ramp2", "z * Heaviside(z) + Max(z, 0)"
    )  # derivative has DiracDelta
    x = al.Value(np.array([-1.0, 2.0, 3.0], dtype=np.float32))
    out = ramp(x)
    assert out.dtype == np.float32 and out.shape == (3,)
    out.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [0.0, 2.0, 2.0])
    s = al.Value(2.0)
    r = s.ramp2()
    r.backward()
    assert type(r.data) is float and r.data == 4.0 and s.grad == 2.0
    assert symbolic.check("ramp2", order=2).ok


def test_constant_derivatives_have_the_input_shape() -> None:
    al.define_activation("twice", "2*z + 1")
    x = al.Value(np.ones((2, 3)))
    x.twice().sum().backward()
    assert x.grad.shape == (2, 3) and np.all(x.grad == 2.0)
    v = al.Value(np.ones(4))
    v.twice().sum().backward(create_graph=True)
    assert np.all(v.grad.data == 2.0)


def test_params_with_defaults_and_overrides() -> None:
    op = al.define_activation(
        "my_elu", "Piecewise((z, z >= 0), (alpha*(exp(z) - 1), True))", alpha=1.0
    )
    assert op.params == ("alpha",) and op.defaults == {"alpha": 1.0}
    x = al.Value(np.array([-1.5, -0.2, 0.7]))
    np.testing.assert_allclose(x.my_elu().data, al.elu(x).data)
    np.testing.assert_allclose(x.my_elu(alpha=0.3).data, al.elu(x, alpha=0.3).data)
    assert al.gradcheck(lambda v: v.my_elu(alpha=0.3).sum(), x)
    assert symbolic.check("my_elu", params={"alpha": 0.3}).ok


def test_formula_may_use_table_ops() -> None:
    al.define_activation("my_swish", "z * sigmoid(beta * z)", beta=1.0)
    x = al.Value(np.linspace(-3, 3, 7))
    np.testing.assert_allclose(x.my_swish().data, x.swish().data)
    assert symbolic.check("my_swish", order=2).ok


def test_malicious_formulas_are_refused_without_side_effect(tmp_path) -> None:
    marker = tmp_path / "x"
    for formula in (
        f"__import__('os').system('touch {marker}')",
        "z.__class__",
        f"(lambda: open('{marker}', 'w'))()",
        "z[0]",
        "[z for z in (1,)]",
    ):
        with pytest.raises(ValueError, match="formula"):
            al.define_activation("evil", formula)
        assert not al.registry.has_op("evil")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "formula", "options", "message"),
    [
        ("scaled", "beta*z", {}, r"formula 'beta\*z': unknown name 'beta'"),
        ("relu", "Max(z, 0)", {}, "'relu' is a built-in op; pass replace=True"),
        ("_hidden", "z", {}, "must be a Python identifier"),
        ("two words", "z", {}, "must be a Python identifier"),
        ("backward", "z", {}, "already a Value attribute"),
        ("nn", "z", {}, "already a name in autograd_lite"),
        ("sinh", "z", {}, "is reserved"),
        ("ok_name", "z", {"z": 1.0}, "'z' is the input"),
        ("ok_name", "alpha*z", {"alpha": "big"}, "must be a finite number"),
        ("ok_name", "z", {"domain": (1, 0)}, "must have low < high"),
        ("ok_name", "z", {"domain": None}, r"must be \(low, high\)"),
        ("ok_name", "sqrt(-1) * z", {}, "not real-valued"),
    ],
)
def test_invalid_definitions_name_the_problem(name, formula, options, message) -> None:
    table = {op.name: id(op) for op in al.registry.all_ops()}
    with pytest.raises(ValueError, match=message):
        al.define_activation(name, formula, **options)
    assert {op.name: id(op) for op in al.registry.all_ops()} == table  # nothing half-registered


def test_undefine_refuses_built_in_ops() -> None:
    with pytest.raises(ValueError, match="not made by define_activation"):
        define.undefine("tanh")
    assert al.registry.has_op("tanh")


def test_redefining_and_replacing() -> None:
    al.define_activation("act", "2*z")
    al.define_activation("act", "3*z")  # a re-run notebook cell
    assert al.Value(1.0).act().data == 3.0
    builtin = al.get_op("sigmoid")
    new = al.define_activation("sigmoid", "2*sigmoid(z)", replace=True)  # refers to the old one
    assert al.get_op("sigmoid") is new
    assert al.Value(0.0).sigmoid().data == 1.0
    assert "sigmoid(" not in new.formula  # stored expanded, so it never refers to itself
    assert symbolic.check("sigmoid").ok
    define.undefine("sigmoid")
    assert al.get_op("sigmoid") is builtin
    assert al.Value(0.0).sigmoid().data == 0.5
    assert define.is_defined("act") and not define.is_defined("sigmoid")


def test_complex_values_at_runtime_are_refused() -> None:
    al.define_activation("root", "sqrt(z)")
    assert np.isnan(al.Value(-1.0).root().data)  # numpy's real sqrt: nan, never complex


def _doc_blocks() -> list[str]:
    return python_blocks(ROOT / "docs" / "adding_an_activation.md")


def test_doc_snippets_are_short() -> None:
    blocks = _doc_blocks()
    assert len(blocks) == 3
    for code in blocks[:2]:  # the built-in entry and the formula definition
        assert len(code.strip().splitlines()) < 15, code


@pytest.mark.parametrize("index", [0, 1, 2])
def test_doc_snippets_run(index: int, tmp_path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(_doc_blocks()[index], encoding="utf-8")
    proc = run_python(script, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if index == 0:
        assert "softsign: derivative 1 matches SymPy" in proc.stdout
        assert "skipped z = 0" in proc.stdout


def _formulas():
    from hypothesis import strategies as st

    leaves = st.sampled_from(["z", "0.5", "2", "z"])

    def extend(inner):
        unary = st.tuples(st.sampled_from(["tanh", "sin", "cos", "atan", "sigmoid"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"
        )
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        return unary | binary

    return st.recursive(leaves, extend, max_leaves=6)


def test_random_smooth_formulas_match_finite_differences_and_sympy() -> None:
    from hypothesis import given

    @given(_formulas())
    def check(text: str) -> None:
        op = al.define_activation("random_act", text)
        x = al.Value(np.linspace(-2.0, 2.0, 7))
        assert al.gradcheck(lambda v: op(v).sum(), x), text
        result = symbolic.check("random_act", order=2)
        assert result.ok, result.message

    check()
