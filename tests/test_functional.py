"""The function transforms grad / value_and_grad / jacobian / hessian / hvp.

Ground truth is always independent of the engine's own formulas: central finite
differences of the function (for gradients and Jacobians), finite differences of
gradients (for Hessians), or closed forms worked out by hand below.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import functional as F
from autograd_lite.gradcheck import numeric_grad

# ----------------------------------------------------------- finite differences


def fd_jacobian(f, x, eps=1e-6):
    """Central differences of f (numpy in, numpy out): shape out.shape + x.shape."""
    x = np.array(x, dtype=np.float64)
    f0 = np.asarray(f(x), dtype=np.float64)
    J = np.zeros(f0.shape + x.shape)
    flatJ = J.reshape(f0.size, x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        up = np.asarray(f((x.reshape(-1) + e).reshape(x.shape)))
        down = np.asarray(f((x.reshape(-1) - e).reshape(x.shape)))
        flatJ[:, k] = ((up - down) / (2 * eps)).reshape(-1)
    return J


def value_fn(f):
    """f on Values -> the same function on numpy data (no graph)."""

    def g(x):
        with al.no_grad():
            return np.asarray(f(al.Value(x)).data)

    return g


def rosenbrock(w):
    return (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def rosenbrock_hessian(x, y):
    # worked out by hand: f = (1-x)^2 + 100 (y - x^2)^2
    return np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])


def mlp_loss(w, X, t):
    """A small 2-3-1 tanh network written with Values; w is a flat vector of 13 parameters."""
    W1 = w[:6].reshape(3, 2)
    b1 = w[6:9]
    W2 = w[9:12].reshape(1, 3)
    b2 = w[12]
    h = (X @ W1.T + b1).tanh()
    y = (h @ W2.T).reshape(-1) + b2
    return ((y - t) ** 2).mean()


@pytest.fixture
def mlp_data(rng):
    X = rng.standard_normal((7, 2))
    t = np.sin(X[:, 0]) - X[:, 1]
    w = rng.standard_normal(13) * 0.7
    return w, X, t


# ----------------------------------------------------------------- grad


def test_grad_matches_finite_differences(mlp_data):
    w, X, t = mlp_data
    g = al.grad(mlp_loss)(w, X, t)
    assert isinstance(g, np.ndarray) and g.shape == (13,)
    x = al.Value(w)
    numeric = numeric_grad(lambda v: mlp_loss(v, X, t), [x], 0)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-8)


def test_grad_of_scalar_argument_is_a_float():
    d = al.grad(lambda z: z.sigmoid())(0.3)
    assert type(d) is float
    s = 1 / (1 + np.exp(-0.3))
    assert d == pytest.approx(s * (1 - s), rel=1e-12)


def test_grad_accepts_lists_ints_arrays_and_values():
    f = lambda x: (x * x * x).sum()
    expected = [3.0, 12.0, 27.0]
    assert al.grad(f)([1, 2, 3]).tolist() == expected
    assert al.grad(f)(np.array([1.0, 2.0, 3.0])).tolist() == expected
    assert al.grad(f)(al.Value([1.0, 2.0, 3.0])).tolist() == expected


def test_grad_tuple_and_negative_argnums():
    f = lambda a, b, c: (a * b).sum() * c
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    ga, gc = al.grad(f, argnums=(0, 2))(a, b, 2.0)
    assert ga.tolist() == (b * 2.0).tolist()
    assert gc == pytest.approx(float(a @ b))
    gb = al.grad(f, argnums=-2)(a, b, 2.0)
    assert gb.tolist() == (a * 2.0).tolist()


def test_grad_passes_keyword_arguments_and_other_positionals_unchanged():
    seen = {}

    def f(x, tag, scale, *, power):
        seen.update(tag=tag, scale=scale, power=power)
        return (x**power).sum() * scale

    g = al.grad(f)([1.0, 2.0], "name", 3, power=2)
    assert g.tolist() == [6.0, 12.0]
    assert seen == {"tag": "name", "scale": 3, "power": 2}
    assert type(seen["scale"]) is int  # not converted: only argnums become Values


def test_grad_of_unused_argument_is_zero():
    g = al.grad(lambda a, b: (a * a).sum(), argnums=1)(al.Value([1.0, 2.0]), [[5.0, 6.0]])
    assert g.shape == (1, 2) and not g.any()


def test_grad_of_constant_function_is_zero():
    assert al.grad(lambda x: al.Value(3.0))([1.0, 2.0]).tolist() == [0.0, 0.0]


def test_transforms_leave_user_values_and_closed_over_parameters_untouched():
    w = al.Value([0.5, -1.0], label="w")
    (w * w).sum().backward()
    before = w.grad.copy()
    x = al.Value([1.0, 2.0], label="x")

    def f(v):
        return ((v * w).sum()).tanh()

    al.grad(f)(x)
    al.hessian(f)(x)
    al.hvp(f, x, [1.0, 0.0])
    al.jacobian(lambda v: v * w)(x)
    np.testing.assert_array_equal(w.grad, before)  # unchanged
    assert x._grad is None  # the transforms differentiate fresh leaves, not x


def test_grad_works_inside_no_grad():
    with al.no_grad():
        g = al.grad(lambda x: (x * x).sum())([1.0, -3.0])
    assert g.tolist() == [2.0, -6.0]
    assert al.is_grad_enabled()


def test_grad_keeps_the_function_name():
    def loss(w):
        return (w * w).sum()

    assert al.grad(loss).__name__ == "loss"


def test_grad_result_is_an_independent_writable_array():
    g = al.grad(lambda x: x.sum())([1.0, 2.0])
    g += 1  # must not raise (read-only) nor change anything inside the engine
    assert g.tolist() == [2.0, 2.0]


def test_float32_inputs_give_float32_gradients():
    g = al.grad(lambda x: (x * x).sum())(np.array([1.0, 2.0], dtype=np.float32))
    assert g.dtype == np.float32 and g.tolist() == [2.0, 4.0]


# -------------------------------------------------------- value_and_grad


def test_value_and_grad(mlp_data):
    w, X, t = mlp_data
    value, g = al.value_and_grad(mlp_loss)(w, X, t)
    with al.no_grad():
        assert value == pytest.approx(mlp_loss(al.Value(w), X, t).item(), rel=1e-12)
    assert type(value) is float
    np.testing.assert_allclose(g, al.grad(mlp_loss)(w, X, t), rtol=1e-12)


def test_value_and_grad_tuple_argnums():
    value, (ga, gb) = al.value_and_grad(lambda a, b: a * b.exp(), argnums=(0, 1))(2.0, 0.0)
    assert (value, ga, gb) == (2.0, 1.0, 2.0)


# ------------------------------------------------------------- jacobian


def vector_field(x):
    return (x * x[::-1]).tanh() + x.softmax() * 2.0 - x.sum()


def test_jacobian_of_vector_function_matches_finite_differences(rng):
    x = rng.standard_normal(4)
    J = al.jacobian(vector_field)(x)
    assert J.shape == (4, 4)
    np.testing.assert_allclose(J, fd_jacobian(value_fn(vector_field), x), atol=1e-8)


def test_jacobian_of_matrix_valued_function_has_shape_out_plus_in(rng):
    A = rng.standard_normal((2, 3))
    f = lambda x: (al.Value(A, requires_grad=False) @ x).sigmoid()
    x = rng.standard_normal((3, 2))
    J = al.jacobian(f)(x)
    assert J.shape == (2, 2, 3, 2)
    np.testing.assert_allclose(J, fd_jacobian(value_fn(f), x), atol=1e-8)


def test_jacobian_of_scalar_function_is_the_gradient(mlp_data):
    w, X, t = mlp_data
    np.testing.assert_allclose(
        al.jacobian(mlp_loss)(w, X, t), al.grad(mlp_loss)(w, X, t), rtol=1e-12
    )


def test_jacobian_scalar_to_scalar_is_float_and_tuple_argnums():
    assert al.jacobian(lambda z: z.exp())(0.0) == 1.0
    Ja, Jb = al.jacobian(lambda a, b: a * b, argnums=(0, 1))([1.0, 2.0], 3.0)
    assert Ja.tolist() == [[3.0, 0.0], [0.0, 3.0]]
    assert Jb.tolist() == [1.0, 2.0]


def test_jacobian_of_constant_output_is_zero():
    J = al.jacobian(lambda x: al.Value([1.0, 2.0, 3.0]) * 1.0)([0.5, 0.5])
    assert J.shape == (3, 2) and not J.any()


# -------------------------------------------------------------- hessian


def test_hessian_of_rosenbrock_matches_hand_derived_formula():
    for point in ([1.0, 1.0], [-0.5, 2.0], [0.3, -0.7]):
        H = al.hessian(rosenbrock)(point)
        np.testing.assert_allclose(H, rosenbrock_hessian(*point), rtol=1e-12)


def test_hessian_matches_finite_differences_of_gradient(mlp_data):
    w, X, t = mlp_data
    H = al.hessian(mlp_loss)(w, X, t)
    assert H.shape == (13, 13)
    numeric = fd_jacobian(lambda v: al.grad(mlp_loss)(v, X, t), w, eps=1e-5)
    np.testing.assert_allclose(H, numeric, atol=1e-7)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_hessian_of_matrix_argument_has_shape_s_plus_s(rng):
    M = rng.standard_normal((2, 3))
    f = lambda m: (m @ m.T).tanh().sum()
    H = al.hessian(f)(M)
    assert H.shape == (2, 3, 2, 3)
    numeric = fd_jacobian(lambda v: al.grad(f)(v), M, eps=1e-5)
    np.testing.assert_allclose(H, numeric, atol=1e-7)


def test_hessian_tuple_argnums_gives_blocks():
    # f(a, b) = a^2 b + b^3 with a (2,), b scalar, summed: blocks by hand
    f = lambda a, b: (a * a * b).sum() + b**3
    a, b = np.array([1.0, -2.0]), 0.5
    (Haa, Hab), (Hba, Hbb) = al.hessian(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(Haa, 2 * b * np.eye(2))
    np.testing.assert_allclose(Hab, 2 * a)
    np.testing.assert_allclose(Hba, 2 * a)
    assert Hbb == pytest.approx(6 * b)
    assert type(Hbb) is float


def test_hessian_of_linear_function_is_zero():
    H = al.hessian(lambda x: (x * 3.0).sum() + 1.0)([1.0, 2.0])
    assert H.shape == (2, 2) and not H.any()


def test_hessian_of_scalar_tanh_is_second_derivative():
    z = 0.7
    t = np.tanh(z)
    assert al.hessian(lambda v: v.tanh())(z) == pytest.approx(-2 * t * (1 - t * t), rel=1e-12)


# ------------------------------------------------------------------ hvp


def test_hvp_equals_hessian_times_v(mlp_data, rng):
    w, X, t = mlp_data
    f = lambda v: mlp_loss(v, X, t)
    H = al.hessian(f)(w)
    for _ in range(3):
        v = rng.standard_normal(13)
        np.testing.assert_allclose(al.hvp(f, w, v), H @ v, rtol=1e-10, atol=1e-12)


def test_hvp_on_matrix_argument_and_scalar(rng):
    M = rng.standard_normal((2, 3))
    V = rng.standard_normal((2, 3))
    f = lambda m: (m @ m.T).tanh().sum()
    H = al.hessian(f)(M).reshape(6, 6)
    np.testing.assert_allclose(al.hvp(f, M, V), (H @ V.reshape(-1)).reshape(2, 3), atol=1e-12)
    assert al.hvp(lambda z: z**3, 2.0, 0.5) == pytest.approx(6 * 2.0 * 0.5)


def test_hvp_of_linear_function_is_zero():
    assert al.hvp(lambda x: x.sum() * 2, [1.0, 2.0], [1.0, 1.0]).tolist() == [0.0, 0.0]


# --------------------------------------------------------------- errors


def test_grad_of_vector_output_names_the_shape():
    with pytest.raises(ValueError, match=r"grad: f must return a scalar Value, got shape \(3,\)"):
        al.grad(lambda x: x * 2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"hessian: .*shape \(2, 1\).*jacobian"):
        al.hessian(lambda x: x.reshape(2, 1))([1.0, 2.0])
    with pytest.raises(ValueError, match=r"value_and_grad: .*shape \(2,\)"):
        al.value_and_grad(lambda x: x)([1.0, 2.0])
    with pytest.raises(ValueError, match=r"hvp: .*shape \(2,\)"):
        al.hvp(lambda x: x, [1.0, 2.0], [1.0, 2.0])


def test_non_value_result_is_refused_naming_its_type():
    # the hint said numpy functions cannot be differentiated; np.sin(x) can (SPEC §7)
    with pytest.raises(TypeError, match=r"grad: f must return a Value, got float64.*x\.data"):
        al.grad(lambda x: np.sin(x.data).sum())([1.0, 2.0])
    assert al.grad(lambda x: np.sin(x).sum())([0.0]).tolist() == [1.0]
    with pytest.raises(TypeError, match="jacobian: f must return a Value, got list"):
        al.jacobian(lambda x: [x, x])([1.0])


def test_bad_argnums_are_refused():
    with pytest.raises(TypeError, match=r"grad: argnums must be an int or .*'0'"):
        al.grad(lambda x: x, argnums="0")
    with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
        al.hessian(lambda x: x, argnums=(0, 1.5))
    with pytest.raises(TypeError, match="non-empty tuple"):
        al.jacobian(lambda x: x, argnums=())
    with pytest.raises(IndexError, match=r"grad: argnums=2 is out of range: f was called with 1"):
        al.grad(lambda x: x, argnums=2)(1.0)
    with pytest.raises(ValueError, match="argnums repeats argument 0"):
        al.grad(lambda x: x, argnums=(0, -1))(1.0)


def test_non_callable_f_is_refused():
    with pytest.raises(TypeError, match="hessian: f must be a callable, got int"):
        al.hessian(3)
    with pytest.raises(TypeError, match="hvp: f must be a callable, got str"):
        al.hvp("x**2", 1.0, 1.0)


def test_non_numeric_argument_is_refused_naming_it():
    with pytest.raises(TypeError, match=r"grad: argument 0: expected a number.*got str"):
        al.grad(lambda x: x)("abc")


def test_hvp_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"hvp: v has shape \(3,\) but x has shape \(2,\)"):
        al.hvp(lambda x: (x * x).sum(), [1.0, 2.0], [1.0, 2.0, 3.0])


def test_module_exports():
    assert al.grad is F.grad and al.hessian is F.hessian and al.hvp is F.hvp
    assert set(F.__all__) == {"grad", "value_and_grad", "jacobian", "hessian", "hvp"}


def test_identity_function_edge_cases():
    # the output is the input leaf itself: backward starts and ends at the same node
    assert al.grad(lambda x: x)(2.0) == 1.0
    assert al.hessian(lambda x: x)(2.0) == 0.0
    assert al.jacobian(lambda x: x)([1.0, 2.0]).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert al.hvp(lambda x: x * x, 3.0, 1.0) == 2.0


def test_passing_the_point_as_argnums_explains_the_transform_style():
    with pytest.raises(TypeError, match=r"hessian\(f\) returns a function: call hessian\(f\)\(x\)"):
        al.hessian(lambda v: (v**3).sum(), np.array([1.0, 2.0]))
