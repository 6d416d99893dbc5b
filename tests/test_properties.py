"""Hypothesis property tests on random shapes (bounded and seeded: profile "ci" in conftest.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as al
from autograd_lite.registry import get_op

SMALL = {"min_dims": 0, "max_dims": 3, "min_side": 1, "max_side": 4}
FLOATS = st.floats(-3, 3, allow_nan=False, allow_infinity=False, width=64)


def _arrays(shape: tuple) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=FLOATS)


def _value(x: np.ndarray) -> al.Value:
    return al.Value(x if x.ndim else float(x))


@given(st.data(), hnp.mutually_broadcastable_shapes(num_shapes=2, **SMALL))
def test_binary_broadcasting_gradients(data: st.DataObject, shapes: object) -> None:
    sa, sb = shapes.input_shapes
    a = _value(data.draw(_arrays(sa)))
    b = _value(data.draw(_arrays(sb)) + 5.0)  # keep the divisor away from 0
    for fn in (
        lambda x, y: x + y,
        lambda x, y: x - y,
        lambda x, y: x * y,
        lambda x, y: x / y,
        lambda x, y: (x * y).tanh(),
    ):
        out = fn(a, b)
        assert out.shape == shapes.result_shape
        assert al.gradcheck(fn, a, b)
        assert np.shape(a.grad) == a.shape and np.shape(b.grad) == b.shape


@given(hnp.array_shapes(**{**SMALL, "min_dims": 1}), st.data())
def test_reductions_over_random_axes(shape: tuple, data: st.DataObject) -> None:
    x = al.Value(data.draw(_arrays(shape)))
    axes = data.draw(
        st.none()
        | st.lists(
            st.integers(-len(shape), len(shape) - 1),
            unique_by=lambda a: a % len(shape),
            max_size=len(shape),
        ).map(tuple)
    )
    keep = data.draw(st.booleans())
    for name in ("sum", "mean"):
        out = getattr(x, name)(axis=axes, keepdims=keep)
        ref = getattr(np, name)(x.data, axis=axes, keepdims=keep)
        np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
        assert al.gradcheck(lambda v, n=name: getattr(v, n)(axis=axes, keepdims=keep), x)
    # sum's gradient is exactly ones; mean's is 1/count
    x.zero_grad()
    x.sum(axis=axes, keepdims=keep).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones(shape))


@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), st.data())
def test_max_gradient_sums_to_one_per_slice(shape: tuple, data: st.DataObject) -> None:
    x = al.Value(data.draw(_arrays(shape)))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x.max(axis=axis).sum().backward()
    np.testing.assert_allclose(x.grad.sum(axis=axis), np.ones(np.delete(shape, axis % len(shape))))
    assert np.all((x.grad == 0) | (x.data == x.data.max(axis=axis, keepdims=True)))


@given(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), st.data())
def test_reshape_and_transpose_route_gradients_back(shape: tuple, data: st.DataObject) -> None:
    x = al.Value(data.draw(_arrays(shape)))
    perm = tuple(data.draw(st.permutations(range(len(shape)))))
    w = np.arange(x.size, dtype=np.float64).reshape(x.data.transpose(perm).shape)
    (x.transpose(perm) * w).sum().backward()
    np.testing.assert_array_equal(x.grad, w.transpose(np.argsort(perm)))
    x.zero_grad()
    w2 = np.arange(x.size, dtype=np.float64)
    (x.reshape(-1) * w2).sum().backward()
    np.testing.assert_array_equal(x.grad, w2.reshape(shape))


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2), st.data())
def test_matmul_random_shapes(n: int, k: int, m: int, batch: int, data: st.DataObject) -> None:
    sa = (batch, n, k) if batch else (n, k)
    a = al.Value(data.draw(_arrays(sa)))
    b = al.Value(data.draw(_arrays((k, m))))
    np.testing.assert_allclose((a @ b).data, a.data @ b.data)
    assert al.gradcheck(lambda x, y: x @ y, a, b)


@given(hnp.array_shapes(min_dims=1, max_dims=2, max_side=5), st.data())
def test_integer_indexing_gradient_counts_hits(shape: tuple, data: st.DataObject) -> None:
    x = al.Value(data.draw(_arrays(shape)))
    idx = data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=8))
    x[idx].sum().backward()
    counts = np.bincount(np.asarray(idx) % shape[0], minlength=shape[0]).astype(float)
    np.testing.assert_array_equal(
        x.grad, np.broadcast_to(counts.reshape((-1,) + (1,) * (len(shape) - 1)), shape)
    )


@given(hnp.array_shapes(**SMALL), st.data(), st.floats(-3, 3))
def test_gradient_is_linear_and_accumulates(shape: tuple, data: st.DataObject, c: float) -> None:
    x = _value(data.draw(_arrays(shape)))
    (x.sigmoid() * x).sum().backward()
    g1 = np.array(x.grad, copy=True)
    (x.sigmoid() * x).sum().backward()  # accumulate
    np.testing.assert_allclose(x.grad, 2 * g1, rtol=1e-12)
    x.zero_grad()
    ((x.sigmoid() * x).sum() * c).backward()
    np.testing.assert_allclose(x.grad, c * g1, rtol=1e-9, atol=1e-12)


@given(hnp.array_shapes(**SMALL), st.data())
def test_softmax_rows_sum_to_one_and_gradient_sums_to_zero(
    shape: tuple, data: st.DataObject
) -> None:
    assume(len(shape) >= 1)
    x = al.Value(data.draw(_arrays(shape)) * 100.0)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    s = x.softmax(axis=axis)
    np.testing.assert_allclose(s.data.sum(axis=axis), 1.0, rtol=1e-12)
    (s * np.arange(s.size).reshape(shape)).sum().backward()
    np.testing.assert_allclose(x.grad.sum(axis=axis), 0.0, atol=1e-9)
    ls = x.log_softmax(axis=axis)
    np.testing.assert_allclose(np.exp(ls.data), s.data, rtol=1e-9, atol=1e-300)


@given(hnp.array_shapes(**SMALL), st.data())
def test_float32_in_float32_out(shape: tuple, data: st.DataObject) -> None:
    x32 = data.draw(hnp.arrays(np.float32, shape, elements=st.floats(-3, 3, width=32)))
    assume(x32.ndim >= 1)
    x = al.Value(x32)
    y = ((x * 2.0 + 1.0).tanh() * x).sigmoid().sum()
    y.backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


# ------------------------------------------------------------------ bad input

JUNK = st.one_of(
    st.sampled_from(["x", None, {}, [[1.0, 2.0], [3.0]], 1j, True, np.array(["a"]), object()]),
    st.sampled_from([np.zeros((0,)), np.zeros((0, 3)), np.array(2.0), np.ones((2, 3), int)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.floats(-2, 2, allow_nan=False), max_size=3),
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=4, max_side=3), elements=FLOATS),
)
_TABLE = sorted(op.name for op in al.all_ops())


@given(st.sampled_from(_TABLE), st.data())
def test_bad_arguments_to_a_table_op_raise_naming_it(name: str, data: st.DataObject) -> None:
    """A junk input or parameter (strings, None, ragged lists, empty or 0-d arrays, integer
    arrays, nan/inf, arrays of any shape) gives a Value or a TypeError/ValueError/IndexError
    whose message names the op (or the Value constructor that refused the junk); never an
    AttributeError, OverflowError or other internal error, nor a message naming nothing."""
    op = get_op(name)  # (al.<name> is this op, or a wrapper that checks more first)
    n = op.arity + len(op.params)
    args: list = [al.Value(np.ones((2, 3, 4, 4))) for _ in range(op.arity)]
    args += [op.defaults.get(p, 1) for p in op.params]
    where = data.draw(st.integers(0, n - 1), label="position")
    args[where] = data.draw(JUNK, label="junk")
    try:
        out = op(*args)
    except (TypeError, ValueError, IndexError) as exc:
        assert name in str(exc) or "Value" in str(exc), f"{name}: {type(exc).__name__}: {exc}"
    else:
        assert isinstance(out, al.Value) or (
            isinstance(out, tuple) and all(isinstance(o, al.Value) for o in out)
        )
