"""``al.hessian`` and ``al.hvp`` inside other transforms (SPEC §"Function transforms compose").

Inside a transform that differentiates their point (or hvp's direction), both
return Values, so third and fourth derivatives, gradients of Hessian-vector
products and gradients of a Hessian's trace come out of the composition.
Ground truth: central finite differences of the lower-order results (each of
them checked against finite differences and SymPy elsewhere) and SymPy's
``diff`` where a closed form exists; never the engine's own rules.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import autograd_lite as al


def _fd_jacobian(g, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences of an array-valued ``g``: shape ``g(x).shape + x.shape``."""
    x = np.asarray(x, dtype=float)
    cols = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        e = e.reshape(x.shape)
        cols.append((np.asarray(g(x + e)) - np.asarray(g(x - e))) / (2 * eps))
    out = np.stack(cols, axis=-1)
    return out.reshape(out.shape[:-1] + x.shape)


def _smooth(x):
    """A non-polynomial scalar function of a vector (all its third derivatives are mixed)."""
    return (x.tanh() * x[::-1]).sum() + (x @ x * 0.3).exp() + x[0] * x[1] * x[2]


def _poly_sympy():
    """p(x, y, z) with SymPy symbols, and the same p written with Values."""
    xs = sympy.symbols("x0:3", real=True)
    x, y, z = xs
    expr = x**3 * y**2 + 2 * x * y * z**3 - y**4 + x**2 * z - 5 * z

    def p(w):
        a, b, c = w[0], w[1], w[2]
        return a**3 * b**2 + 2 * a * b * c**3 - b**4 + a**2 * c - 5 * c

    return xs, expr, p


def _sympy_tensor(expr, xs, point, order: int) -> np.ndarray:
    """All derivatives of ``expr`` of the given order at ``point``, shape (n,) * order."""
    n = len(xs)
    at = dict(zip(xs, point))
    out = np.zeros((n,) * order)
    for idx in np.ndindex(*out.shape):
        out[idx] = float(sympy.diff(expr, *[xs[i] for i in idx]).subs(at))
    return out


POINT = np.array([0.7, -1.2, 0.4])


# ------------------------------------------------------- third derivatives


def test_jacobian_of_hessian_matches_finite_differences_of_the_hessian() -> None:
    T = al.jacobian(al.hessian(_smooth))(POINT)
    assert isinstance(T, np.ndarray) and T.shape == (3, 3, 3)
    np.testing.assert_allclose(T, _fd_jacobian(al.hessian(_smooth), POINT), rtol=1e-6, atol=1e-7)
    # a third derivative is symmetric in its three indices
    np.testing.assert_allclose(T, T.transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(T, T.transpose(2, 1, 0), atol=1e-12)


def test_third_and_fourth_derivatives_of_a_polynomial_match_sympy() -> None:
    xs, expr, p = _poly_sympy()
    T = al.jacobian(al.hessian(p))(POINT)
    np.testing.assert_allclose(T, _sympy_tensor(expr, xs, POINT, 3), rtol=1e-12, atol=1e-12)
    # the Hessian of each Hessian entry: d⁴p / dx_i dx_j dx_k dx_l
    Q = al.hessian(lambda w: (al.hessian(p)(w) * np.eye(3)).sum())(POINT)
    want = np.einsum("iikl->kl", _sympy_tensor(expr, xs, POINT, 4))
    np.testing.assert_allclose(Q, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("z0", [-0.8, 0.3])
def test_hessian_of_hessian_of_a_scalar_is_the_fourth_derivative(z0: float) -> None:
    z = sympy.Symbol("z", real=True)
    want = float(sympy.diff(sympy.tanh(z) * sympy.exp(z / 2), z, 4).subs(z, z0))
    d4 = al.hessian(al.hessian(lambda u: u.tanh() * (u * 0.5).exp()))(z0)
    assert isinstance(d4, float)
    assert abs(d4 - want) <= 1e-9 * (1 + abs(want))


def test_grad_of_the_trace_of_a_hessian_matches_sympy() -> None:
    # the gradient of the Laplacian Δp = Σ_i ∂²p/∂x_i²
    xs, expr, p = _poly_sympy()

    def laplacian(w):
        return (al.hessian(p)(w) * np.eye(3)).sum()

    lap = sum(sympy.diff(expr, x, 2) for x in xs)
    at = dict(zip(xs, POINT))
    want = np.array([float(sympy.diff(lap, x).subs(at)) for x in xs])
    np.testing.assert_allclose(al.grad(laplacian)(POINT), want, rtol=1e-12)
    # and on a non-polynomial function, against differences of the trace itself
    trace = lambda w: float(np.trace(al.hessian(_smooth)(w)))
    got = al.grad(lambda w: (al.hessian(_smooth)(w) * np.eye(3)).sum())(POINT)
    np.testing.assert_allclose(got, _fd_jacobian(trace, POINT), rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------- hvp


def test_grad_of_an_hvp_matches_sympy_and_finite_differences() -> None:
    xs, expr, p = _poly_sympy()
    v = np.array([0.5, -1.0, 2.0])
    # d/dx_k Σ_i (H v)_i = Σ_ij T_ijk v_j
    got = al.grad(lambda w: al.hvp(p, w, v).sum())(POINT)
    want = np.einsum("ijk,j->k", _sympy_tensor(expr, xs, POINT, 3), v)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    J = al.jacobian(lambda w: al.hvp(_smooth, w, v))(POINT)
    np.testing.assert_allclose(
        J, _fd_jacobian(lambda w: al.hvp(_smooth, w, v), POINT), rtol=1e-6, atol=1e-7
    )


def test_hvp_is_differentiated_in_its_direction_and_at_v_equals_x() -> None:
    H = al.hessian(_smooth)(POINT)
    v = np.array([1.0, 0.5, -0.25])
    # H v is linear in v: its Jacobian in v is H
    np.testing.assert_allclose(al.jacobian(lambda u: al.hvp(_smooth, POINT, u))(v), H, rtol=1e-12)
    # x and v the same Value: d/dx (H(x) x) = T x + H
    T = al.jacobian(al.hessian(_smooth))(POINT)
    got = al.jacobian(lambda w: al.hvp(_smooth, w, w))(POINT)
    np.testing.assert_allclose(got, np.einsum("ijk,j->ik", T, POINT) + H, rtol=1e-10, atol=1e-12)


def test_hvp_over_several_arguments_inside_jacobian_matches_finite_differences(rng) -> None:
    def f(a, B):
        return ((B @ a).tanh() * (a * a).sum()).sum()

    a, B = rng.standard_normal(2), rng.standard_normal((3, 2)) * 0.5
    va, vB = rng.standard_normal(2), rng.standard_normal((3, 2))

    def hv_a(u):
        return al.hvp(f, (u, B), (va, vB))[0]

    def hv_B(u):
        return al.hvp(f, (a, u), (va, vB))[1]

    Ja = al.jacobian(hv_a)(a)
    JB = al.jacobian(hv_B)(B)
    assert Ja.shape == (2, 2) and JB.shape == (3, 2, 3, 2)
    np.testing.assert_allclose(Ja, _fd_jacobian(hv_a, a), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(JB, _fd_jacobian(hv_B, B), rtol=1e-6, atol=1e-7)


def test_hessian_of_several_arguments_inside_grad_matches_finite_differences(rng) -> None:
    def f(a, c):
        return (a.tanh() * c).sum() + (a * a).sum() * c

    def total(a, c):  # Σ of all four blocks of the (a, c) Hessian
        (Haa, Hac), (Hca, Hcc) = al.hessian(f, argnums=(0, 1))(a, c)
        return Haa.sum() + Hac.sum() + Hca.sum() + Hcc

    a, c = rng.standard_normal(3), 0.6

    def numeric(a_, c_):
        blocks = al.hessian(f, argnums=(0, 1))(a_, c_)
        return sum(np.sum(b) for row in blocks for b in row)

    da, dc = al.grad(total, argnums=(0, 1))(a, c)
    np.testing.assert_allclose(da, _fd_jacobian(lambda u: numeric(u, c), a), rtol=1e-6)
    assert dc == pytest.approx(float(_fd_jacobian(lambda u: numeric(a, u), np.array(c))), rel=1e-6)


# ------------------------------------------------------- edge cases, errors


def test_inner_and_outer_variables_stay_apart() -> None:
    # d/dy [ d²/dx² (x² y) at x = y ] = d/dy [2y] = 2 (6 if x and y were confused: y³)
    assert al.grad(lambda y: al.hessian(lambda x: x * x * y)(y))(3.0) == 2.0
    assert al.grad(lambda y: al.hvp(lambda x: x * x * y, y, 1.0))(3.0) == 2.0


def test_constant_hessians_give_zero_third_derivatives_of_the_right_shape() -> None:
    T = al.jacobian(al.hessian(lambda x: (x * x).sum() + x[0] * x[1]))(POINT)
    assert T.shape == (3, 3, 3) and not T.any()
    assert al.grad(lambda w: al.hvp(lambda x: x.sum(), w, w).sum())(POINT).tolist() == [0.0] * 3
    assert al.grad(lambda w: al.hessian(lambda x: x * 2.0)(w))(1.5) == 0.0


def test_top_level_results_stay_numbers_and_user_values_are_untouched() -> None:
    p = al.Value([1.0, 2.0], requires_grad=True)
    x = al.Value([0.5, -0.5], requires_grad=True)

    def f(w):
        return (w * w * p).sum().tanh()

    assert isinstance(al.hessian(f)(x), np.ndarray) and isinstance(al.hvp(f, x, x), np.ndarray)
    al.jacobian(al.hessian(f))(x)
    al.grad(lambda w: al.hvp(f, w, [1.0, 0.0]).sum())(x)
    assert x._grad is None and p._grad is None


def test_bad_input_inside_another_transform_keeps_clear_errors() -> None:
    with pytest.raises(ValueError, match=r"hvp: v has shape \(2,\) but x has shape \(3,\)"):
        al.grad(lambda w: al.hvp(_smooth, w, [1.0, 2.0]).sum())(POINT)
    with pytest.raises(ValueError, match=r"hvp: v has shape \(3,\) but x has shape \(2,\)"):
        al.grad(lambda u: al.hvp(lambda x: (x * x).sum(), [1.0, 2.0], u).sum())(POINT)
    with pytest.raises(ValueError, match=r"hessian: f must return a scalar Value, got shape \(3,"):
        al.jacobian(al.hessian(lambda x: x * x))(POINT)
    with pytest.raises(TypeError, match="hessian: f must return a Value, got float"):
        al.jacobian(al.hessian(lambda x: 1.0))(POINT)
    bad_argnums = al.hessian(lambda a, b: (a * b).sum(), argnums=(0, 2))
    with pytest.raises(IndexError, match="hessian: argnums=2 is out of range"):
        al.grad(lambda w: bad_argnums(w, w)[0][0].sum())(POINT)


# ----------------------------------------------------- an outer variable read through a closure


def test_transforms_nest_when_f_reads_an_outer_variable_through_a_closure():
    """JAX's semantics: inner transforms record their backward inside ANY outer transform.

    The inner f does not take the outer variable as an argument; it reads it from the
    enclosing scope. d/dy of d²/dx² (x³ y²) at x = 2 is 24 y; from SymPy's diff.
    """
    x, y = sympy.symbols("x y", real=True)
    expected = sympy.diff(x**3 * y**2, x, 2, y).subs({x: 2, y: 3})
    got = al.grad(lambda yv: al.hessian(lambda xv: xv**3 * yv**2)(2.0))(3.0)
    assert got == pytest.approx(float(expected), rel=1e-12)

    def inner_grad(yv):  # d/dx tanh(x y) at x = 0.5, as a function of y
        return al.grad(lambda xv: (xv * yv).tanh())(0.5)

    fd = (inner_grad(0.7 + 1e-6) - inner_grad(0.7 - 1e-6)) / 2e-6
    assert al.grad(inner_grad)(0.7) == pytest.approx(fd, rel=1e-7)

    hv = al.grad(lambda yv: al.hvp(lambda xv: (xv**3 * yv).sum(), [1.0, 2.0], [1.0, 1.0]).sum())
    assert hv(3.0) == pytest.approx(6 * (1.0 + 2.0), rel=1e-12)  # d/dy Σ 6 x_i y v_i
