"""SymPy checks of every op of the table (SPEC §8), nested transforms and per-node chains.

Ground truth is SymPy (Jacobians of each op's SymPy definition, derivatives of
whole formulas) and central finite differences; never the engine's own rules.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import autograd_lite as al
from autograd_lite import symbolic
from autograd_lite.registry import Op, SymCase, all_ops, get_op, register, unregister

STRUCTURAL = [op.name for op in all_ops() if not op.elementwise]


# ------------------------------------------------------------ the whole table


@pytest.mark.parametrize("order", [1, 2])
def test_check_all_has_every_op_of_the_table_and_all_are_ok(order: int) -> None:
    results = symbolic.check_all(order)
    assert [r.name for r in results] == [op.name for op in all_ops()]
    bad = [r.message for r in results if not r.ok]
    assert not bad, "\n".join(bad)
    assert all(r.checked and r.order == order for r in results)
    assert {"softmax", "log_softmax", "matmul", "dense", "cross_entropy", "index_scatter"} <= set(
        STRUCTURAL
    )


def test_a_structural_check_names_its_cases_and_compares_real_numbers() -> None:
    r = symbolic.check("matmul")
    assert r.ok and r.max_error <= symbolic.TOLERANCE
    assert "Jacobian matches SymPy" in r.message
    assert "shapes (2, 3), (3, 2)" in r.message and "[dot product]" in r.message
    r2 = symbolic.check("softmax", order=2)
    assert r2.ok and "derivative 2 matches SymPy" in r2.message


def test_ties_of_max_are_skipped_and_said() -> None:
    r = symbolic.check("max")
    assert r.ok
    assert "skipped shape (2, 3) [all axes; a tie] at z = [[1.0, 1.0, 0.5]" in r.message
    assert "a tie or kink" in r.message
    assert len(r.skipped) == 1


def test_define_activation_and_user_ops_with_a_definition_are_in_check_all() -> None:
    al.define_activation("mish_s", "z * tanh(log(1 + exp(z)))")
    register(_center(_center_vjp))
    try:
        results = {r.name: r for r in symbolic.check_all()}
        assert results["mish_s"].ok and results["center"].ok, results["center"].message
        assert "center: Jacobian matches SymPy" in results["center"].message
        assert symbolic.check("center", order=2).ok
    finally:
        unregister("mish_s")
        unregister("center")


# ---------------------------------------------------- the classic mistakes


def _wrong(base: str, name: str, *vjps) -> Op:
    """A user op with the forward and SymPy definition of ``base`` but the given vjps."""
    op = get_op(base)
    return Op(
        name,
        forward=op.forward,
        vjps=vjps,
        params=op.params,
        defaults=op.defaults,
        inputs=op.inputs,
        sympy_def=op.sympy_def,
        cases=op.cases,
    )


def test_softmax_treated_as_elementwise_is_caught() -> None:
    wrong = _wrong("softmax", "softmax_elementwise", lambda g, out, z, axis: g * out * (1 - out))
    r = symbolic.check(wrong)
    assert not r.ok and r.checked
    assert r.message.startswith("softmax_elementwise: Jacobian does NOT match SymPy")
    # the worst entry is off the diagonal, where the elementwise rule gives 0
    assert "worst: shape (3,) [a vector], input 'z': ∂out[0]/∂z[2] engine 0 vs SymPy -" in r.message
    assert "engine 0 vs SymPy -" in r.message


def test_matmul_with_a_forgotten_transpose_is_caught() -> None:
    wrong = _wrong(
        "matmul",
        "matmul_no_transpose",
        lambda g, out, a, b: g @ b,  # should be g @ b.T
        get_op("matmul").vjps[1],
    )
    r = symbolic.check(wrong)
    assert not r.ok
    # (2, 3) @ (3, 2): g @ b is (2, 2), not a's shape: the engine refuses it, and says where
    assert "the engine raised at shapes (2, 3), (3, 2)" in r.message
    square = Op(
        "matmul_no_transpose_square",
        forward=wrong.forward,
        vjps=wrong.vjps,
        sympy_def=wrong.sympy_def,
        cases=(SymCase(((2, 2), (2, 2))),),
    )
    r = symbolic.check(square)
    assert not r.ok
    assert "worst: shapes (2, 2), (2, 2), input 'a': ∂out[" in r.message
    assert "/∂a[" in r.message and "engine" in r.message and "vs SymPy" in r.message


def _center_sympy(sp, z):
    from autograd_lite.sympy_arrays import reduce

    return z - reduce(z, lambda *v: sp.Add(*v) / len(v), axis=0, keepdims=True)


def _center_vjp(g, out, z):
    return g - g.mean(axis=0, keepdims=True)


def _center(vjp) -> Op:
    """x − mean over the batch axis (broadcast back): the gradient must sum over the batch."""
    return Op(
        "center",
        forward=lambda z: z - z.mean(axis=0, keepdims=True),
        vjps=(vjp,),
        sympy_def=_center_sympy,
        cases=(SymCase(((3, 2),)),),
    )


def test_a_missing_broadcast_reduction_is_caught() -> None:
    # the mean is broadcast back over the batch: its gradient must be reduced (summed)
    # over that axis; treating it elementwise (g − g/n) forgets the reduction
    r = symbolic.check(_center(lambda g, out, z: g - g / 3))
    assert not r.ok
    assert "center: Jacobian does NOT match SymPy" in r.message
    assert "worst: shape (3, 2), input 'z': ∂out[" in r.message
    assert "engine 0 vs SymPy -0.333333" in r.message


def test_mean_without_the_one_over_n_is_caught() -> None:
    wrong = _wrong("mean", "mean_without_n", get_op("sum").vjps[0])
    r = symbolic.check(wrong)
    assert not r.ok
    assert "worst: shape (2, 3) [all axes], input 'z': ∂out/∂z[" in r.message
    assert "engine 1 vs SymPy 0.166667" in r.message


def test_a_wrong_second_derivative_is_caught_at_order_two() -> None:
    # right first derivative on plain arrays, but the recorded (create_graph) rule drops a term
    def vjp(g, out, z, axis):
        if isinstance(z, al.Value):
            return out.detach() * (g - (g * out.detach()).sum(axis=axis, keepdims=True))
        return out * (g - (g * out).sum(axis=axis, keepdims=True))

    wrong = _wrong("softmax", "softmax_flat_second", vjp)
    assert symbolic.check(wrong).ok
    r = symbolic.check(wrong, order=2)
    assert not r.ok and "derivative 2 does NOT match SymPy" in r.message
    assert "∂²(c·out)/∂z[" in r.message


def test_a_forward_mismatch_is_reported_as_such() -> None:
    bad = Op(
        "off_by_one_sum",
        forward=lambda z, axis, keepdims: np.sum(z, axis=axis, keepdims=keepdims) + 1.0,
        vjps=get_op("sum").vjps,
        params=("axis", "keepdims"),
        defaults={"axis": None, "keepdims": False},
        sympy_def=get_op("sum").sympy_def,
        cases=(SymCase(((2, 3),)),),
    )
    r = symbolic.check(bad)
    assert not r.ok and r.checked
    assert r.message.startswith(
        "off_by_one_sum: FORWARD MISMATCH: forward mismatch at shape (2, 3)"
    )
    assert "derivatives not compared" in r.message
    assert "does NOT match" not in r.message


# --------------------------------------------------------- bad definitions


def test_an_op_without_a_definition_is_reported_never_left_out() -> None:
    register(Op("twice_no_def", forward=lambda z: 2 * z, vjps=(lambda g, out, z: 2 * g,)))
    try:
        results = {r.name: r for r in symbolic.check_all()}
        r = results["twice_no_def"]
        assert not r.ok and not r.checked
        assert "NOT CHECKED: no SymPy definition" in r.message
        assert symbolic.check("twice_no_def").message == r.message
    finally:
        unregister("twice_no_def")
    no_cases = Op("no_cases", lambda z: z, (lambda g, out, z: g,), sympy_def=lambda sp, z: z)
    assert "no `cases`" in symbolic.check(no_cases).message


def _user_op(name: str, sympy_def) -> Op:
    return Op(
        name,
        forward=lambda z: z * 2.0,
        vjps=(lambda g, out, z: g * 2.0,),
        sympy_def=sympy_def,
        cases=(SymCase(((2,),)),),
    )


def test_a_definition_that_fails_or_takes_the_wrong_inputs_is_a_value_error_naming_the_op():
    with pytest.raises(ValueError, match=r"op 'two_inputs_def': sympy_def\(sp, a, b\) cannot"):
        symbolic.check(_user_op("two_inputs_def", lambda sp, a, b: a * b))
    with pytest.raises(ValueError, match=r"op 'raising_def': its SymPy definition fails .*\(2,\)"):
        symbolic.check(_user_op("raising_def", lambda sp, z: z.nonexistent()))
    with pytest.raises(ValueError, match=r"op 'text_def': .*must give SymPy expressions, got str"):
        symbolic.check(_user_op("text_def", lambda sp, z: np.array(["2*z0", "2*z1"])))
    with pytest.raises(ValueError, match=r"op 'stray_symbol': .*uses q, which are not elements"):
        symbolic.check(_user_op("stray_symbol", lambda sp, z: z * sp.Symbol("q")))
    with pytest.raises(ValueError, match=r"op 'not_callable': sympy_def must be a function"):
        symbolic.check(_user_op("not_callable", "2*z"))
    wrong_case = Op(
        "wrong_case",
        forward=lambda z: z,
        vjps=(lambda g, out, z: g,),
        sympy_def=lambda sp, z: z,
        cases=(SymCase(((2,), (2,))),),
    )
    with pytest.raises(ValueError, match=r"op 'wrong_case': a SymCase gives 2 shape\(s\)"):
        symbolic.check(wrong_case)
    # an elementwise op whose formula does not parse
    bad_formula = Op("bad_formula", np.tanh, (lambda g, out, z: g,), formula="tanh(z")
    with pytest.raises(ValueError, match="op 'bad_formula': its formula 'tanh\\(z' does not parse"):
        symbolic.check(bad_formula)
    # an elementwise op whose formula uses inputs it does not have
    two_names = Op("two_names", lambda z: z * z, (lambda g, out, z: 2 * g * z,), formula="a*b")
    with pytest.raises(ValueError, match=r"op 'two_names': its formula 'a\*b' does not parse"):
        symbolic.check(two_names)
    register(_user_op("raising_def", lambda sp, z: z.nonexistent()))
    try:
        (r,) = [r for r in symbolic.check_all() if r.name == "raising_def"]
    finally:
        unregister("raising_def")
    assert not r.ok and not r.checked and "NOT CHECKED: op 'raising_def'" in r.message


# ------------------------------------------------------------ chain per node


def test_the_lecture_formula_without_labels_gives_one_factor_per_op_node() -> None:
    # (typed WITH labels it keeps one factor per label: test_symbolic.py's lecture test)
    w, x = al.Value(0.4, label="w"), al.Value(1.5, label="x")
    b, t = al.Value(0.1, label="b"), al.Value(1.0, label="t")
    E = 0.5 * (t - (w * x + b).sigmoid()) ** 2
    factors = symbolic.chain(E, w)
    assert factors.names == [
        "∂mul/∂pow",
        "∂pow/∂sub",
        "∂sub/∂sigmoid",
        "∂sigmoid/∂add",
        "∂add/∂mul",
        "∂mul/∂w",
    ]
    expr = symbolic.to_sympy(E)
    ws, xs, bs, ts = symbolic.symbols_of(expr, ["w", "x", "b", "t"])
    assert sympy.simplify(factors.product() - sympy.diff(expr, ws)) == 0
    assert factors[-1] == xs and factors[-2] == 1 and factors[1] != 1
    E.backward()
    at = {ws: 0.4, xs: 1.5, bs: 0.1, ts: 1.0}
    assert float(factors.product().subs(at)) == pytest.approx(w.grad, rel=1e-12)


# ----------------------------------------------------- composed transforms


def _sympy_third_derivative(expr_of, z0: float) -> float:
    z = sympy.Symbol("z", real=True)
    return float(sympy.diff(expr_of(z), z, 3).subs(z, z0))


@pytest.mark.parametrize("z0", [-1.3, 0.2, 0.9])
def test_third_derivative_through_nested_grad_matches_sympy(z0: float) -> None:
    d3 = al.grad(al.grad(al.grad(lambda z: z.tanh() * z.exp())))
    want = _sympy_third_derivative(lambda z: sympy.tanh(z) * sympy.exp(z), z0)
    assert abs(d3(z0) - want) <= 1e-8 * (1 + abs(want))
    if hasattr(al.Value, "sin"):  # tanh(z)·sin(z), once the vocabulary has sin
        d3s = al.grad(al.grad(al.grad(lambda z: z.tanh() * z.sin())))
        want_s = _sympy_third_derivative(lambda z: sympy.tanh(z) * sympy.sin(z), z0)
        assert abs(d3s(z0) - want_s) <= 1e-8 * (1 + abs(want_s))


def test_jacobian_of_grad_is_the_hessian(rng) -> None:
    def f(w):
        return (w.tanh() * w[::-1]).sum() + (w @ w).exp() * 0.1

    w = rng.standard_normal(3) * 0.5
    J = al.jacobian(al.grad(f))(w)
    np.testing.assert_allclose(J, al.hessian(f)(w), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(J, _fd_hessian(f, w), rtol=1e-5, atol=1e-6)


def test_a_jacobian_inside_grad_is_differentiated_through() -> None:
    # the Jacobian of y ↦ y³ is diag(3y²), so d/dx Σ J = 6x
    x = np.array([0.5, -1.5, 2.0])
    g = al.grad(lambda v: al.jacobian(lambda y: y**3)(v).sum())(x)
    np.testing.assert_allclose(g, 6 * x, rtol=1e-12)
    J_of_J = al.jacobian(al.jacobian(lambda y: (y * y).sum() * y))(x[:2])
    # out_i = S·y_i with S = Σ y²: ∂²out_i/∂y_j∂y_k = 2δ_jk y_i + 2δ_ik y_j + 2δ_ij y_k
    d = np.eye(2)
    y = x[:2]
    want = 2 * (
        np.einsum("jk,i->ijk", d, y) + np.einsum("ik,j->ijk", d, y) + np.einsum("ij,k->ijk", d, y)
    )
    np.testing.assert_allclose(J_of_J, want, rtol=1e-12)


def test_nested_transforms_do_not_confuse_inner_and_outer_variables() -> None:
    # d/dy [ d/dx (x·y) at x = y ] = d/dy [y] = 1 (not 2)
    assert al.grad(lambda y: al.grad(lambda x: x * y)(y))(3.0) == 1.0

    def inner(y):
        value, g = al.value_and_grad(lambda x: (x * x * y).sum())(y)
        return value + g.sum()

    # at x = y: value = Σ y³ and g = 2xy = 2y², so d/dy (Σ y³ + Σ 2y²) = 3y² + 4y
    y = np.array([0.5, -2.0])
    np.testing.assert_allclose(al.grad(inner)(y), 3 * y**2 + 4 * y, rtol=1e-12)
    # top-level calls still return numbers and leave the caller's Values alone
    v = al.Value([1.0, 2.0])
    assert isinstance(al.grad(lambda x: (x * x).sum())(v), np.ndarray) and v._grad is None


def _fd_hessian(f, *args, eps=1e-5):
    """Central differences of the gradient (by al.grad, itself checked by gradcheck)."""
    flat = np.concatenate([np.ravel(a) for a in args]).astype(float)
    sizes = [np.size(a) for a in args]
    shapes = [np.shape(a) for a in args]

    def grad_at(v):
        parts = np.split(v, np.cumsum(sizes)[:-1])
        xs = [p.reshape(s) if s else float(p[0]) for p, s in zip(parts, shapes)]
        g = al.grad(f, argnums=tuple(range(len(args))))(*xs)
        return np.concatenate([np.ravel(gi) for gi in g])

    H = np.zeros((flat.size, flat.size))
    for k in range(flat.size):
        e = np.zeros(flat.size)
        e[k] = eps
        H[:, k] = (grad_at(flat + e) - grad_at(flat - e)) / (2 * eps)
    return H


def test_hessian_and_hvp_over_several_arguments_match_finite_differences(rng) -> None:
    def f(a, B, c):
        return ((B @ a).tanh() * c).sum() + (a * a).sum() * c

    a, B, c = rng.standard_normal(2), rng.standard_normal((3, 2)), 0.7
    H_fd = _fd_hessian(f, a, B, c)
    blocks = al.hessian(f, argnums=(0, 1, 2))(a, B, c)
    sizes = [2, 6, 1]
    H = np.block(
        [[np.reshape(blocks[i][j], (sizes[i], sizes[j])) for j in range(3)] for i in range(3)]
    )
    np.testing.assert_allclose(H, H_fd, rtol=1e-5, atol=1e-6)
    va, vB, vc = rng.standard_normal(2), rng.standard_normal((3, 2)), -0.4
    hv = al.hvp(f, (a, B, c), (va, vB, vc))
    want = H_fd @ np.concatenate([va, vB.ravel(), [vc]])
    assert isinstance(hv, tuple) and hv[0].shape == (2,) and hv[1].shape == (3, 2)
    assert isinstance(hv[2], float)
    got = np.concatenate([hv[0], hv[1].ravel(), [hv[2]]])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_hvp_over_several_arguments_refuses_mismatched_directions() -> None:
    def f(a, b):
        return (a * b).sum()

    with pytest.raises(ValueError, match="v must be a tuple of as many directions, got list"):
        al.hvp(f, ([1.0], [2.0]), [1.0, 1.0])
    with pytest.raises(
        ValueError, match=r"v has shape \(2,\) but x has shape \(1,\) \(argument 1\)"
    ):
        al.hvp(f, ([1.0], [2.0]), ([1.0], [1.0, 2.0]))
    assert al.hvp(f, ([1.0], [2.0]), ([1.0], [0.0]))[1].tolist() == [1.0]


def test_a_case_limited_to_order_1_is_left_out_of_order_2() -> None:
    from autograd_lite import symbolic
    from autograd_lite.registry import get_op

    op = get_op("lstm")
    two_steps = [c for c in op.cases if c.max_order == 1]
    assert two_steps and two_steps[0].shapes[0][1] == 2  # the recurrence itself is checked
    first, second = symbolic.check("lstm"), symbolic.check("lstm", order=2)
    assert first.ok and second.ok
    assert f"over {len(op.cases)} case(s)" in first.message
    assert f"over {len(op.cases) - len(two_steps)} case(s)" in second.message
    assert "T=2" in first.message and "T=2" not in second.message
