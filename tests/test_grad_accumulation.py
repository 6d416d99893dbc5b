"""A second backward adds into ``.grad``: in place only where no one else can see it.

``graph._run`` adds a pass's gradient into a leaf's existing ``.grad`` array in place
when the array is the leaf's alone (PyTorch's AccumulateGrad does the same); every
test below builds a case where another holder would see an in-place change, and
checks that it does not. Expected values are central finite differences.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import graph, ops

RNG = np.random.default_rng(17)


def numeric_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar numpy function at ``x``."""
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        out[i] = (f(up) - f(down)) / (2 * h)
    return out


def per_op(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    return float(np.tanh(a * b + c).sum())


@pytest.fixture
def abc() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(RNG.standard_normal((3, 4)) for _ in range(3))


def expected(abc: tuple) -> list[np.ndarray]:
    a, b, c = abc
    return [
        numeric_grad(lambda x: per_op(x, b, c), a),
        numeric_grad(lambda x: per_op(a, x, c), b),
        numeric_grad(lambda x: per_op(a, b, x), c),
    ]


def test_an_array_only_the_leaf_holds_is_added_into_in_place(abc: tuple) -> None:
    a, b, c = (al.Value(x) for x in abc)
    (a * b + c).tanh().sum().backward()  # the gradients are the pass's: the leaves' own
    arrays = [weakref.ref(v._grad) for v in (a, b, c)]  # (a weak reference holds nothing)
    (a * b + c).tanh().sum().backward()
    (a * b + c).tanh().sum().backward()
    for v, ref, e in zip((a, b, c), arrays, expected(abc)):
        assert v._grad is ref()  # the same array, added into
        np.testing.assert_allclose(v.grad, 3 * e, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kept", [True, False])
def test_assigned_arrays_are_kept_uncopied_and_never_written(abc: tuple, kept: bool) -> None:
    """``v.grad = arr`` keeps ``arr`` itself; backward sums into a new (or its own) array."""
    a, b, c = (al.Value(x) for x in abc)
    starts = [RNG.standard_normal(x.shape) for x in abc]
    mine = [s.copy() for s in starts]
    for v, m in zip((a, b, c), mine):
        v.grad = m
        assert v.grad is m and m.flags.writeable  # not copied; reading it froze nothing
    if not kept:
        del m
        refs = [weakref.ref(x) for x in mine]
        del mine  # only the leaves hold them now: still theirs, never added into
    for n in (1, 2, 3):
        (a * b + c).tanh().sum().backward()
        for v, s, e in zip((a, b, c), starts, expected(abc)):
            np.testing.assert_allclose(v.grad, s + n * e, rtol=1e-6, atol=1e-8)
    if kept:
        for v, m, s in zip((a, b, c), mine, starts):
            np.testing.assert_array_equal(m, s)  # never changed, in any of the passes
            assert v._grad is not m and m.flags.writeable
    else:
        assert all(r() is None for r in refs)  # replaced by the leaves' own sums, not kept


def test_an_assigned_array_is_the_callers_to_change(abc: tuple) -> None:
    a = al.Value(abc[0])
    mine = np.zeros(a.shape)
    a.grad = mine
    mine += 1.0  # theirs: the gradient is what they hold (as a tensor assigned in PyTorch)
    np.testing.assert_array_equal(a.grad, 1.0)
    a.grad[0, 0] = 2.0  # .grad handed it back writeable
    (a * 3.0).sum().backward()
    assert mine[0, 0] == 2.0 and mine[0, 1] == 1.0
    np.testing.assert_allclose(a.grad, mine + 3.0)


def test_assigning_grad_still_checks_shape_and_converts_dtype() -> None:
    w = al.Value(np.ones((2, 3)), label="w")
    with pytest.raises(ValueError, match=r"grad: shape \(3, 2\) does not fit .* \(2, 3\)"):
        w.grad = np.zeros((3, 2))
    w.grad = np.zeros((2, 3), np.float32)  # another dtype: a copy in the data's
    assert w.grad.dtype == np.float64
    with pytest.raises(TypeError, match="grad: expected"):
        w.grad = "zeros"
    h = w * 2.0
    mine = np.ones((2, 3))
    h.grad = mine  # a node's gradient: copied (its .grad is handed out read-only)
    assert h._grad is not mine and not h.grad.flags.writeable and mine.flags.writeable


def test_a_gradient_the_caller_holds_is_never_changed(abc: tuple) -> None:
    a, b, c = (al.Value(x) for x in abc)
    (a * b + c).tanh().sum().backward()
    # read as optimizers read it (._grad: still writeable) and as users do (.grad)
    kept = [a._grad, b._grad, c.grad]
    before = [k.copy() for k in kept]
    (a * b + c).tanh().sum().backward()
    for v, k, k0, e in zip((a, b, c), kept, before, expected(abc)):
        np.testing.assert_array_equal(k, k0)
        np.testing.assert_allclose(v.grad, 2 * e, rtol=1e-6, atol=1e-8)


def test_an_assigned_array_stays_the_callers(abc: tuple) -> None:
    a = al.Value(abc[0])
    mine = np.zeros(a.shape)
    a.grad = mine
    (a * 3.0).sum().backward()
    (a * 3.0).sum().backward()
    np.testing.assert_array_equal(mine, 0.0)
    np.testing.assert_allclose(a.grad, 6.0)


def test_one_gradient_shared_by_two_leaves_is_added_out_of_place() -> None:
    x, y = RNG.standard_normal((2, 5))
    a, b = al.Value(x), al.Value(y)
    (a + b).tanh().sum().backward()
    assert a._grad is b._grad  # add handed one array to both: the case under test
    (a + b).tanh().sum().backward()
    e = numeric_grad(lambda t: float(np.tanh(t + y).sum()), x)
    np.testing.assert_allclose(a.grad, 2 * e, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.grad, 2 * e, rtol=1e-6, atol=1e-8)


def test_a_gradient_shared_with_a_live_graph_node_is_not_changed(abc: tuple) -> None:
    a, b, c = (al.Value(x) for x in abc)
    ab = a * b
    loss = (ab + c).tanh().sum()
    loss.backward(retain_graph=True)
    assert c._grad is ab._grad  # add's gradient went to both: the case under test
    node_grad = ab._grad.copy()  # (not .grad: that would make the array read-only)
    (a * b + c).tanh().sum().backward()
    np.testing.assert_array_equal(ab.grad, node_grad)
    np.testing.assert_allclose(c.grad, 2 * expected(abc)[2], rtol=1e-6, atol=1e-8)
    assert loss.op == "sum"  # the first graph was alive throughout


def test_a_gradient_that_is_a_view_is_added_out_of_place() -> None:
    x = RNG.standard_normal((2, 3))
    w = al.Value(x)
    y = w.reshape(6)
    y.tanh().sum().backward(retain_graph=True)
    assert w._grad.base is not None  # reshape's vjp gave a view of y's gradient
    y_grad = y.grad.copy()
    w.reshape(6).tanh().sum().backward()
    np.testing.assert_array_equal(y.grad, y_grad)
    e = numeric_grad(lambda t: float(np.tanh(t).sum()), x)
    np.testing.assert_allclose(w.grad, 2 * e, rtol=1e-6, atol=1e-8)


def test_create_graph_adds_out_of_place_and_records() -> None:
    x = RNG.standard_normal(4)
    w = al.Value(x)
    w.grad = np.ones(4)
    own = weakref.ref(w._grad)
    (w * w).sum().backward(create_graph=True)
    assert isinstance(w.grad, al.Value)  # a recorded gradient, not the old array changed
    np.testing.assert_allclose(w.grad.data, 1.0 + 2 * x)
    assert own() is None or np.array_equal(own(), np.ones(4))


def test_float32_leaves_accumulate_in_their_dtype() -> None:
    x = RNG.standard_normal(4).astype(np.float32)
    w = al.Value(x)
    w.grad = np.zeros(4, np.float32)
    (w * w).sum().backward()  # summed out of the assigned array, into the leaf's own
    ref = weakref.ref(w._grad)
    (w * w).sum().backward()
    assert w._grad is ref() and w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad, 4 * x, rtol=1e-6)


def test_a_failing_pass_leaves_an_in_place_candidate_untouched() -> None:
    w = al.Value(np.array([1.0, 2.0]))
    w.grad = np.array([5.0, 5.0])
    ref = weakref.ref(w._grad)
    bad = al.Value(np.ones(2)) * w
    w.data = np.ones(3)  # rebound to another shape: the mul's vjp cannot fit it
    with pytest.raises(RuntimeError, match="rebound"):
        bad.sum().backward()
    assert w._grad is ref()
    np.testing.assert_array_equal(w.grad, [5.0, 5.0])


def test_reference_counts_were_measured_on_this_interpreter() -> None:
    # _SOLE is what this interpreter reports for an array held by one slot and one
    # local (as _run reads it); one more holder must report more
    assert graph._SOLE > 0 and graph._SOLE_PASS > 0  # measured (a build with the GIL)
    v = al.Value(np.ones(2))
    (v * 2.0).sum().backward()  # (an assigned array would also be held as the caller's)
    grad = v._grad
    assert graph._refs(grad) == graph._SOLE
    extra = [grad]
    assert graph._refs(grad) == graph._SOLE + 1
    del extra


def test_tanh_vjp_with_and_without_sums_ones() -> None:
    x = RNG.standard_normal((3, 3))
    w = al.Value(x)
    w.tanh().sum().backward()  # g is sum's shared ones: tanh drops the product
    np.testing.assert_allclose(w.grad, numeric_grad(lambda t: float(np.tanh(t).sum()), x), 1e-6)
    w2 = al.Value(x)
    (w2.tanh() * 3.0).sum().backward()  # g is 3s: the full rule
    want = numeric_grad(lambda t: float((3 * np.tanh(t)).sum()), x)
    np.testing.assert_allclose(w2.grad, want, rtol=1e-6)
    w3 = al.Value(x)
    w3.tanh().backward(np.ones((3, 3)))  # ones, but not sum's: the full rule gives the same
    np.testing.assert_allclose(w3.grad, w.grad)


def test_ones_forgotten_with_the_cache() -> None:
    first = ops._ones((2, 2), np.dtype(np.float64))
    assert ops.is_ones(first)
    for n in range(70):  # past the cache's size: it is cleared
        ops._ones((n + 3,), np.dtype(np.float64))
    assert ops._ONES.get(ops._ones_key((2, 2), np.dtype(np.float64))) is not first
    assert not ops.is_ones(first)  # its id may be reused by any array from now on
