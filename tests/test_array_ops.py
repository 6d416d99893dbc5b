"""The array ops of SPEC §7: elementwise extras, reductions and structure.

Ground truths: numpy for forward values, central finite differences (``al.gradcheck``)
for gradients, finite differences of gradients for second derivatives (the Hessian
from ``backward(create_graph=True)``), and hypothesis for random shapes and axes.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as al

FLOATS = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=64)


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def fd_hessian(f, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """Central differences of the first-order gradient: row k is d grad / d x_k."""
    g = al.grad(f)
    rows = []
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        up = np.reshape(g((x.reshape(-1) + e).reshape(x.shape)), -1)
        down = np.reshape(g((x.reshape(-1) - e).reshape(x.shape)), -1)
        rows.append((up - down) / (2 * eps))
    return np.array(rows)


def assert_second_derivatives(f, x: np.ndarray) -> None:
    hessian = np.reshape(al.hessian(f)(x), (x.size, x.size))
    np.testing.assert_allclose(hessian, fd_hessian(f, x), atol=1e-6, rtol=1e-5)


# ---------------------------------------------------------------- elementwise


def test_sin_cos_match_numpy_and_derivatives() -> None:
    x = al.Value(_r(3, 4))
    np.testing.assert_allclose(x.sin().data, np.sin(x.data))
    np.testing.assert_allclose(al.cos(x).data, np.cos(x.data))
    assert al.gradcheck(lambda v: v.sin() * v.cos(), x)
    assert_second_derivatives(lambda v: (v.sin() * v.cos() * v).sum(), _r(2, 3))
    assert al.Value(0.5).sin().data == pytest.approx(np.sin(0.5))


def test_clip_bounds_inclusive_slope_and_defaults() -> None:
    x = al.Value([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = x.clip(-1.0, 1.0)
    np.testing.assert_array_equal(y.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])  # bounds included
    np.testing.assert_array_equal(al.clip(x, None, 0.5).data, [-2.0, -1.0, 0.0, 0.5, 0.5])
    np.testing.assert_array_equal(x.clip(lo=0.0).data, [0.0, 0.0, 0.0, 1.0, 2.0])
    assert al.Value(3.0).clip(0.0, 1.0).data == 1.0
    assert al.gradcheck(lambda v: v.clip(-0.5, 0.7), al.Value(_r(3, 4) + 0.01))


def test_maximum_minimum_broadcast_and_ties_split() -> None:
    a = al.Value([1.0, 2.0, 3.0])
    b = al.Value(2.0)
    m = al.maximum(a, b)
    np.testing.assert_array_equal(m.data, [2.0, 2.0, 3.0])
    m.sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    assert b.grad == 1.5
    a.zero_grad()
    b.zero_grad()
    al.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.5, 0.0])
    assert b.grad == 1.5
    assert al.gradcheck(lambda u, v: al.maximum(u, v) * al.minimum(u, v), *_vals((3, 1), (4,)))
    assert al.maximum(al.Value(1.0), 0.0).data == 1.0
    assert_second_derivatives(lambda v: (al.maximum(v, 0.1) ** 3).sum(), _r(2, 3))


def _vals(*shapes: tuple) -> list[al.Value]:
    return [al.Value(_r(*s, seed=i)) for i, s in enumerate(shapes)]


def test_where_routes_gradients_and_broadcasts() -> None:
    cond = np.array([[True, False, True]])
    x, y = al.Value(_r(2, 3)), al.Value(_r(3, seed=1))
    z = al.where(cond, x, y)
    np.testing.assert_array_equal(z.data, np.where(cond, x.data, y.data))
    z.sum().backward()
    np.testing.assert_array_equal(x.grad, np.broadcast_to(cond, (2, 3)).astype(float))
    np.testing.assert_array_equal(y.grad, [0.0, 2.0, 0.0])
    # a Value as condition: nonzero is true
    c = al.Value([1.0, 0.0, 2.0])
    np.testing.assert_array_equal(al.where(c, 1.0, -1.0).data, [1.0, -1.0, 1.0])
    assert al.gradcheck(lambda u, v: al.where(cond, u * u, v.tanh()), x, y)


@pytest.mark.parametrize("cond", [True, False, np.bool_(True), np.array(False)])
def test_where_with_a_scalar_condition_routes_all_of_the_gradient(cond) -> None:
    x, y = al.Value([1.0, 2.0]), al.Value([3.0, 4.0])
    al.where(cond, x, y).sum().backward()
    np.testing.assert_array_equal(x.grad, [float(cond)] * 2)
    np.testing.assert_array_equal(y.grad, [1.0 - float(cond)] * 2)


@pytest.mark.parametrize("cond", ["x", None, [[True], [True, False]]])
def test_where_refuses_a_condition_that_is_not_boolean(cond) -> None:
    # "x" and the ragged list were truthy objects: x was chosen everywhere, silently
    with pytest.raises((TypeError, ValueError), match=r"^where: condition"):
        al.where(cond, al.Value([1.0, 2.0]), 0.0)


def test_where_shape_mismatch_names_op_and_shapes() -> None:
    with pytest.raises(ValueError, match=r"where.*\(2,\).*\(3,\)"):
        al.where(np.array([True, False]), al.Value(_r(3)), 0.0)


@given(
    st.data(), hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)
)
def test_binary_elementwise_ops_broadcast_over_random_shapes(data, shapes) -> None:
    sc, sa, sb = shapes.input_shapes
    spaced = st.integers(-20, 20).map(lambda k: k * 0.15)  # ties exact or far apart
    a = al.Value(data.draw(hnp.arrays(np.float64, sa, elements=spaced)))
    b = al.Value(data.draw(hnp.arrays(np.float64, sb, elements=spaced)) + 0.05)  # no ties
    cond = data.draw(hnp.arrays(np.bool_, sc))
    for f, ref in (
        (lambda x, y: al.maximum(x, y), np.maximum),
        (lambda x, y: al.minimum(x, y), np.minimum),
        (lambda x, y: al.where(cond, x, y), lambda x, y: np.where(cond, x, y)),
    ):
        out = f(a, b)
        np.testing.assert_array_equal(out.data, ref(a.data, b.data))
        assert al.gradcheck(f, a, b)
        assert np.shape(a.grad) == a.shape and np.shape(b.grad) == b.shape
        a.zero_grad()
        b.zero_grad()


# ---------------------------------------------------------------- reductions


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(axis, keepdims) -> None:
    x = al.Value(_r(2, 3, 4))
    d = x.data
    np.testing.assert_allclose(x.min(axis, keepdims).data, d.min(axis, keepdims=keepdims))
    for ddof in (0, 1):
        np.testing.assert_allclose(
            x.var(axis, ddof, keepdims).data, np.var(d, axis, ddof=ddof, keepdims=keepdims)
        )
        np.testing.assert_allclose(
            x.std(axis=axis, ddof=ddof, keepdims=keepdims).data,
            np.std(d, axis, ddof=ddof, keepdims=keepdims),
        )
    ref = np.log(np.exp(d).sum(axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(x.logsumexp(axis, keepdims).data, ref)
    for f in (
        lambda v: v.var(axis=axis, ddof=1, keepdims=keepdims),
        lambda v: v.std(axis=axis, keepdims=keepdims),
        lambda v: v.logsumexp(axis=axis, keepdims=keepdims),
        lambda v: v.min(axis=axis, keepdims=keepdims),
    ):
        assert al.gradcheck(f, x)


def test_min_ties_share_gradient_evenly() -> None:
    v = al.Value([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    v.min(axis=1).sum().backward()
    np.testing.assert_allclose(v.grad, [[0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_logsumexp_is_stable_for_large_inputs() -> None:
    x = al.Value([1e4, -1e4, 1e4 - 1.0])
    out = x.logsumexp()
    assert out.data == pytest.approx(1e4 + np.log(1 + np.exp(-1.0)))
    out.backward()
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad.sum(), 1.0)
    y = al.Value([[-1e4, -1e4 + 2.0]])
    np.testing.assert_allclose(y.logsumexp(axis=1).data, [-1e4 + 2.0 + np.log1p(np.exp(-2.0))])


def test_var_with_no_degrees_of_freedom_is_refused() -> None:
    with pytest.raises(ValueError, match=r"var.*ddof=1"):
        al.Value([1.0]).var(ddof=1)


def test_reductions_second_derivatives() -> None:
    x = _r(2, 3)
    assert_second_derivatives(lambda v: v.var(axis=1, ddof=1).tanh().sum(), x)
    assert_second_derivatives(lambda v: v.std(axis=0).sum(), x)
    assert_second_derivatives(lambda v: v.logsumexp(axis=1).sum(), x)
    assert_second_derivatives(lambda v: (v.min(axis=1) ** 2).sum(), x)


@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
def test_reductions_over_random_axes(shape: tuple, data: st.DataObject) -> None:
    spaced = st.integers(-30, 30).map(lambda k: k * 0.1)  # no near-ties for min
    x = al.Value(data.draw(hnp.arrays(np.float64, shape, elements=spaced, unique=True)))
    axes = data.draw(
        st.none()
        | st.lists(
            st.integers(-len(shape), len(shape) - 1),
            unique_by=lambda a: a % len(shape),
            min_size=1,
            max_size=len(shape),
        ).map(tuple)
    )
    keep = data.draw(st.booleans())
    np.testing.assert_allclose(x.min(axes, keep).data, np.min(x.data, axes, keepdims=keep))
    np.testing.assert_allclose(x.var(axes, 0, keep).data, np.var(x.data, axes, keepdims=keep))
    lse = np.log(np.sum(np.exp(x.data), axis=axes, keepdims=keep))
    np.testing.assert_allclose(x.logsumexp(axes, keep).data, lse, rtol=1e-12, atol=1e-12)
    assert al.gradcheck(lambda v: v.min(axis=axes, keepdims=keep), x)
    assert al.gradcheck(lambda v: v.var(axis=axes, keepdims=keep), x)
    assert al.gradcheck(lambda v: v.logsumexp(axis=axes, keepdims=keep), x)


# ----------------------------------------------------------------- structure


def test_concatenate_any_number_of_values() -> None:
    a, b, c = al.Value(_r(2, 1)), al.Value(_r(2, 3, seed=1)), al.Value(_r(2, 2, seed=2))
    out = al.concatenate([a, b, c], axis=1)
    np.testing.assert_array_equal(out.data, np.concatenate([a.data, b.data, c.data], axis=1))
    assert out.op == "concatenate" and len(out.parents) == 3
    assert al.gradcheck(lambda *vs: al.concatenate(vs, axis=-1) ** 2, a, b, c)
    many = [al.Value(_r(1, 2, seed=k)) for k in range(7)]
    assert al.gradcheck(lambda *vs: al.concatenate(list(vs)).tanh(), *many)
    assert_second_derivatives(lambda v: (al.concatenate([v, v * v]) ** 2).sum(), _r(2, 2))


def test_stack_any_number_of_values() -> None:
    vs = [al.Value(_r(2, 3, seed=k)) for k in range(4)]
    out = al.stack(vs, axis=1)
    np.testing.assert_array_equal(out.data, np.stack([v.data for v in vs], axis=1))
    assert al.gradcheck(lambda *xs: al.stack(xs, axis=-1).sin(), *vs)
    assert al.stack([al.Value(1.0), 2.0]).data.tolist() == [1.0, 2.0]
    assert_second_derivatives(lambda v: (al.stack([v, v * v], axis=1) ** 2).sum(), _r(3))


def test_variadic_copies_share_the_table_entry() -> None:
    entry = al.get_op("concatenate")
    assert entry.arity == 2
    out = al.concatenate([al.Value([1.0]), al.Value([2.0]), al.Value([3.0])])
    assert out._op is not entry and out._op.name == entry.name and out._op.arity == 3
    again = al.concatenate([al.Value([1.0]), al.Value([2.0]), al.Value([3.0])])
    assert again._op is out._op  # made once, cached


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda: al.concatenate([al.Value(_r(2, 3)), al.Value(_r(3, 2))]),
            r"concatenate.*\(2, 3\).*\(3, 2\)",
        ),
        (lambda: al.concatenate([al.Value(1.0), al.Value(2.0)]), "concatenate.*scalar"),
        (lambda: al.concatenate([al.Value(_r(2)), al.Value(_r(2, 2))]), r"concatenate.*\(2,\)"),
        (lambda: al.stack([al.Value(_r(2, 3)), al.Value(_r(2, 4))]), r"stack.*\(2, 3\).*\(2, 4\)"),
        (lambda: al.concatenate([]), "concatenate needs at least one"),
        (lambda: al.split(al.Value(_r(5)), 2), "split.*5.*2 equal"),
        (lambda: al.pad(al.Value(_r(2)), -1), "pad.*negative"),
        (lambda: al.Value(_r(2, 3)).squeeze(0), r"squeeze.*\(2, 3\)"),
    ],
)
def test_bad_structure_input_names_op_and_shapes(call, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        call()


def test_concatenate_refuses_a_bare_value() -> None:
    with pytest.raises(TypeError, match="concatenate takes a list"):
        al.concatenate(al.Value(_r(2, 2)))


def test_split_pieces_and_gradients() -> None:
    x = al.Value(_r(3, 6))
    parts = al.split(x, [1, 4], axis=1)
    for p, ref in zip(parts, np.split(x.data, [1, 4], axis=1), strict=True):
        np.testing.assert_array_equal(p.data, ref)
    (parts[0].sum() * 2.0 + (parts[2] ** 2).sum()).backward()
    expected = np.zeros((3, 6))
    expected[:, 0] = 2.0
    expected[:, 4:] = 2 * x.data[:, 4:]
    np.testing.assert_allclose(x.grad, expected)
    assert len(al.split(x, 3)) == 3
    assert_second_derivatives(lambda v: (al.split(v, 2, axis=1)[1] ** 3).sum(), _r(2, 4))


@pytest.mark.parametrize("bad", [None, "x", 1.5, [1.5, 2], [[1, 2], [3]], True, np.ones((2, 3))])
def test_split_refuses_what_is_not_sections_or_indices(bad) -> None:
    # these leaked "'NoneType' object is not iterable", "invalid literal for int()", ...
    # and [1.5, 2] was truncated to [1, 2]
    with pytest.raises(TypeError, match=r"^split: indices_or_sections must be"):
        al.split(al.Value(_r(2, 3)), bad)
    assert len(al.split(al.Value(_r(2, 4)), np.array([1, 3]), axis=1)) == 3
    with pytest.raises(ValueError, match=r"^split: axis 2 is out of range"):
        al.split(al.Value(_r(2, 4)), 2, axis=2)


@pytest.mark.parametrize("constant", [None, "x", np.ones(2), True])
def test_pad_constant_must_be_a_number(constant) -> None:
    # None padded with nan, silently
    with pytest.raises(TypeError, match=r"pad: constant must be a number"):
        al.pad(al.Value(_r(2, 3)), 1, constant=constant)
    assert al.pad(al.Value([1.0]), 1, constant=np.float32(2)).data.tolist() == [2.0, 1.0, 2.0]


def test_pad_squeeze_expand_dims() -> None:
    x = al.Value(_r(2, 3))
    np.testing.assert_array_equal(
        al.pad(x, ((1, 0), (0, 2)), constant=7.0).data,
        np.pad(x.data, ((1, 0), (0, 2)), constant_values=7.0),
    )
    assert al.gradcheck(lambda v: al.pad(v, 2) ** 2, x)
    e = al.expand_dims(x, (0, 3))
    assert e.shape == (1, 2, 3, 1)
    assert e.squeeze().shape == (2, 3) and e.squeeze(axis=-1).shape == (1, 2, 3)
    assert al.gradcheck(lambda v: al.expand_dims(v, 1).squeeze(1) * v, x)
    assert al.Value([[2.5]]).squeeze().data == 2.5
    assert_second_derivatives(lambda v: (al.pad(v, 1) ** 3).sum(), _r(2, 2))


@given(
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    st.integers(1, 3),
    st.data(),
)
def test_split_then_concatenate_is_identity(shape: tuple, n: int, data: st.DataObject) -> None:
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = al.Value(data.draw(hnp.arrays(np.float64, shape, elements=FLOATS)))
    size = shape[axis]
    cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=n)))
    parts = al.split(x, cuts, axis=axis)
    assert len(parts) == len(cuts) + 1
    back = al.concatenate(parts, axis=axis)
    np.testing.assert_array_equal(back.data, x.data)
    w = np.random.default_rng(len(shape)).standard_normal(shape)
    (back * w).sum().backward()
    np.testing.assert_allclose(x.grad, w)  # each element's gradient arrives exactly once


@given(
    hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), st.integers(1, 4), st.data()
)
def test_stack_over_random_shapes_and_axes(shape: tuple, n: int, data: st.DataObject) -> None:
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [data.draw(hnp.arrays(np.float64, shape, elements=FLOATS)) for _ in range(n)]
    values = [al.Value(a if a.ndim else float(a)) for a in arrays]
    out = al.stack(values, axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(arrays, axis=axis))
    assert al.gradcheck(lambda *vs: al.stack(vs, axis=axis) ** 2, *values)
