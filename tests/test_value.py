"""The Value node: construction, bad input, attributes, and the autograd switches around it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.registry import Op, register, unregister

# ------------------------------------------------------------ construction


def test_numbers_become_floats_and_lists_float64_arrays() -> None:
    assert type(al.Value(3).data) is float
    assert type(al.Value(True).data) is float
    assert type(al.Value(np.float64(2.5)).data) is float
    v = al.Value([[1, 2], [3, 4]])
    assert v.data.dtype == np.float64 and v.shape == (2, 2) and v.ndim == 2
    assert al.Value(np.arange(3, dtype=np.int32)).dtype == np.float64


def test_float32_is_kept_and_other_floats_become_float64() -> None:
    assert al.Value(np.ones(2, dtype=np.float32)).dtype == np.float32
    assert al.Value(np.ones(2, dtype=np.float16)).dtype == np.float64


def test_input_array_is_copied() -> None:
    arr = np.array([1.0, 2.0])
    v = al.Value(arr)
    arr[0] = 99.0
    assert v.data[0] == 1.0
    view = np.arange(6.0)[::2]
    assert not np.shares_memory(al.Value(view).data, view)


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ("abc", "str 'abc'"),
        (b"xy", "bytes"),
        (None, "NoneType None"),
        ({"a": 1}, "dict"),
        ({1.0, 2.0}, "set"),
        (1 + 2j, "complex"),
        (np.array([1 + 1j]), "complex"),
        (np.array([object()], dtype=object), "object"),
        (np.array(["a", "b"]), "<U1"),
        ([1.0, "a"], "<U32"),
        ([[1.0, 2.0], [3.0]], r"\[\[1\.0, 2\.0\], \[3\.0\]\].*ragged"),
        ([1.0, None], "object"),
    ],
)
def test_bad_input_is_refused_naming_it(bad: object, named: str) -> None:
    with pytest.raises((TypeError, ValueError), match=named):
        al.Value(bad)


@pytest.mark.parametrize("bad", ["abc", None, {"a": 1}, [[1.0], [2.0, 3.0]], 1j])
def test_bad_operand_in_an_op_is_refused(bad: object) -> None:
    v = al.Value([1.0, 2.0])
    named = rf"Value.*{type(bad).__name__}"
    with pytest.raises((TypeError, ValueError), match=named):
        v + bad
    with pytest.raises((TypeError, ValueError), match=named):
        bad * v
    with pytest.raises((TypeError, ValueError), match=named):
        al.tanh(bad)


def test_bad_data_assignment_is_refused() -> None:
    v = al.Value(1.0)
    with pytest.raises(TypeError, match=r"Value\.data.*str 'x'"):
        v.data = "x"
    assert v.data == 1.0


def test_label_must_be_str() -> None:
    with pytest.raises(TypeError, match="label must be a str, got int 3"):
        al.Value(1.0, label=3)


def test_value_of_a_value_is_refused() -> None:
    with pytest.raises(TypeError, match="got a Value"):
        al.Value(al.Value(1.0))


# ------------------------------------------------------------ attributes


def test_attributes() -> None:
    a = al.Value(2.0, label="a")
    b = al.Value(np.ones((2, 3)), label="b")
    c = a * b
    assert c.op == "mul" and a.op == "" and c.parents == (a, b)
    assert (b * a).parents[0] is b  # argument order
    assert c.shape == (2, 3) and c.ndim == 2 and c.size == 6 and a.shape == ()
    assert al.Value([[4.0]]).item() == 4.0 and float(al.Value(3.0)) == 3.0
    assert isinstance(a.numpy(), np.ndarray) and a.numpy().shape == ()
    n = b.numpy()
    n[0, 0] = 7.0
    assert b.data[0, 0] == 1.0  # numpy() is a copy
    assert len(b) == 2
    assert "label='a'" in repr(a) and "op='mul'" in repr(c)


def test_item_len_bool_errors_name_the_shape() -> None:
    v = al.Value(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"single element.*\(2, 2\)"):
        v.item()
    with pytest.raises(ValueError, match=r"\(2, 2\) is ambiguous"):
        bool(v)
    with pytest.raises(TypeError, match=r"len.*scalar"):
        len(al.Value(1.0))
    assert bool(al.Value(2.0)) is True


def test_comparisons_give_plain_booleans() -> None:
    a = al.Value([1.0, 3.0])
    mask = a > 2
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    assert mask.tolist() == [False, True]
    assert (al.Value(1.0) < al.Value(2.0)) is True
    assert (al.Value(3.0) >= 3.0) is True and (al.Value(3.0) > 3.0) is False


def test_grad_is_zeros_before_backward() -> None:
    assert al.Value(2.0).grad == 0.0
    g = al.Value(np.ones((2, 3), dtype=np.float32)).grad
    assert g.shape == (2, 3) and g.dtype == np.float32 and not g.any()


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'not_an_op'"):
        al.Value(1.0).not_an_op()


# ------------------------------------------------------------ shape errors


def test_matmul_shape_mismatch_names_op_and_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(2, 3\)"):
        al.Value(np.ones((2, 3))) @ al.Value(np.ones((2, 3)))


def test_matmul_of_scalars_is_refused() -> None:
    with pytest.raises(ValueError, match=r"matmul.*1-D"):
        al.Value(2.0) @ al.Value(3.0)


def test_add_shape_mismatch_names_op_and_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4, 3\)"):
        al.Value(np.ones((2, 3))) + al.Value(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"mul.*\(3,\).*\(4,\)"):
        al.Value(np.ones(3)) * np.ones(4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: v.reshape(2.7, 3), r"^reshape: shape must be ints, got \(2.7, 3\)"),
        (lambda v: v.reshape((3.0, 2)), r"^reshape: shape must be ints"),
        (lambda v: v.reshape("a"), r"^reshape: shape must be ints, got \('a',\)"),
        (lambda v: v.transpose(1.5, 0), r"^transpose: axes must be ints"),
        (lambda v: al.reshape(v, 6.0), r"^reshape: shape must be ints"),
    ],
)
def test_reshape_and_transpose_refuse_non_integers(call, message) -> None:
    # int() truncated them: reshape(2.7, 3) of 6 numbers silently became reshape(2, 3)
    with pytest.raises(TypeError, match=message):
        call(al.Value(np.ones((2, 3))))
    assert al.Value(np.ones(6)).reshape(np.int64(2), 3).shape == (2, 3)


def test_requires_grad_must_be_a_bool() -> None:
    # bool("no") is True: a typo made a trainable leaf of what was meant as a constant
    with pytest.raises(TypeError, match="Value: requires_grad must be True or False, got str"):
        al.Value(1.0, requires_grad="no")
    assert al.Value(1.0, requires_grad=np.bool_(False)).requires_grad is False


def test_reshape_mismatch_names_op_and_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4, ?2\)"):
        al.Value(np.ones((2, 3))).reshape(4, 2)


# ---------------------------------------------------------------- backward


def test_non_scalar_backward_needs_grad() -> None:
    y = al.Value(np.ones(3)) * 2
    with pytest.raises(ValueError, match=r"non-scalar Value of shape \(3,\) needs grad"):
        y.backward()


def test_backward_grad_of_wrong_shape_is_refused() -> None:
    y = al.Value(np.ones(3)) * 2
    with pytest.raises(ValueError, match=r"grad has shape \(2,\).*output has shape \(3,\)"):
        y.backward(np.ones(2))
    with pytest.raises(ValueError, match=r"grad has shape \(3,\).*output has shape \(\)"):
        (al.Value(1.0) * 2).backward(np.ones(3))


def test_backward_with_explicit_grad_weights_the_output() -> None:
    x = al.Value([1.0, 2.0])
    (x * x).backward(np.array([1.0, -3.0]))
    np.testing.assert_allclose(x.grad, [2.0, -12.0])


def test_backward_of_a_constant_is_refused() -> None:
    c = al.Value(2.0, requires_grad=False) * 3
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        c.backward()


def test_intermediate_nodes_keep_their_gradients() -> None:
    x = al.Value(2.0, label="x")
    y = x * x  # dE/dy = 3
    z = y * 3.0
    e = z + 1.0
    e.backward()
    assert (e.grad, z.grad, y.grad, x.grad) == (1.0, 1.0, 3.0, 12.0)


def test_gradients_accumulate_until_zero_grad() -> None:
    x = al.Value([1.0, -2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0 + 2.0, 3.0 - 4.0])
    x.zero_grad()
    assert not x.grad.any()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_shared_subexpression_gradient_sums_all_paths() -> None:
    x = al.Value(1.5)
    y = x.tanh()
    (y * y + y).backward()  # d/dx (t² + t) = (2t + 1)(1 - t²)
    t = np.tanh(1.5)
    assert x.grad == pytest.approx((2 * t + 1) * (1 - t * t))


def test_retain_graph_allows_a_second_backward_that_accumulates() -> None:
    x = al.Value(3.0)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == 12.0
    with pytest.raises(RuntimeError, match=r"already freed.*retain_graph=True"):
        y.backward()


def test_second_backward_without_retain_graph_is_refused() -> None:
    x = al.Value(np.array([1.0, 2.0]), label="x")
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="freed by an earlier backward"):
        y.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(x.data))  # first result untouched


def test_a_failed_backward_leaves_no_half_gradients() -> None:
    x = al.Value(np.ones(2))
    y = x * 2
    with pytest.raises(ValueError):
        y.backward(np.ones(5))
    assert x._grad is None
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


# --------------------------------------------------- no_grad, detach, constants


def test_no_grad_records_nothing_and_restores() -> None:
    w = al.Value(2.0)
    with al.no_grad():
        assert not al.is_grad_enabled()
        y = w * 3
        with al.enable_grad():
            z = w * 3
    assert al.is_grad_enabled()
    assert y.op == "" and y.parents == () and not y.requires_grad
    assert z.op == "mul" and z.requires_grad
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_no_grad_restores_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), al.no_grad():
        1 / 0
    assert al.is_grad_enabled()


def test_detach_is_a_leaf_with_the_same_data() -> None:
    x = al.Value([1.0, 2.0])
    y = (x * 2).detach()
    assert y.op == "" and y.parents == () and y.requires_grad
    np.testing.assert_array_equal(y.data, [2.0, 4.0])
    (y * x).sum().backward()  # gradient does not flow through the detached branch
    np.testing.assert_allclose(x.grad, [2.0, 4.0])
    y.data[0] = 5.0  # a detached copy is writable even though (x*2).data was read-only


def test_constants_get_no_gradient() -> None:
    w = al.Value([1.0, 2.0], label="w")
    x = al.Value([3.0, 4.0], requires_grad=False, label="x")
    arr = np.array([5.0, 6.0])
    y = (w * x + arr * 2.0 + 1.0).sum()
    y.backward()
    np.testing.assert_allclose(w.grad, x.data)
    assert x._grad is None and not x.grad.any()
    assert all(not p.requires_grad for p in y.parents[0].parents[1:])


@pytest.fixture
def counting_op() -> Iterator[tuple[Op, list]]:
    """A temporary op ``count_twice`` (2·z) whose vjp records every call."""
    calls: list = []

    def vjp(g: object, out: object, z: object) -> object:
        calls.append(1)
        return 2 * g

    op = register(Op("count_twice", lambda z: 2 * z, (vjp,), keeps_inputs=False))
    try:
        yield op, calls
    finally:
        unregister("count_twice")


def test_backward_skips_branches_that_lead_only_to_constants(counting_op: tuple) -> None:
    op, calls = counting_op
    w = al.Value(1.5)
    c = al.Value(2.0, requires_grad=False)
    const_branch = op(op(op(c)))  # 3 ops on constants only: no node recorded
    live_branch = op(w)  # 1 op that needs its vjp
    y = const_branch * live_branch + op(c) * 4.0
    assert not const_branch.requires_grad
    y.backward()
    assert len(calls) == 1
    assert w.grad == pytest.approx(2 * 16.0)
    assert c._grad is None


def test_backward_skips_constant_inputs_of_a_recorded_op(counting_op: tuple) -> None:
    op, calls = counting_op
    w = al.Value(np.ones(3))
    x = al.Value(np.arange(3.0), requires_grad=False)
    y = (op(w) * op(x)).sum()
    y.backward()
    assert len(calls) == 1  # op(x) was never recorded
    np.testing.assert_allclose(w.grad, 4 * x.data)


def test_requires_grad_false_leaf_in_no_graph() -> None:
    x = al.Value(2.0, requires_grad=False)
    assert not (x * x).requires_grad
    assert "requires_grad=False" in repr(x)


def test_grad_reset_by_none_or_zeros_gives_the_same_gradients():
    """The three ways a training loop resets gradients, against the formula's gradient."""
    rng = np.random.default_rng(3)
    a_, b_, c_ = (rng.standard_normal((4, 5)) for _ in range(3))
    for reset in ("none", "zeros", "zero_grad"):
        a, b, c = al.Value(a_), al.Value(b_), al.Value(c_)
        for _ in range(2):  # the second pass starts from a reset, not from the first's grads
            for v in (a, b, c):
                if reset == "none":
                    v.grad = None
                elif reset == "zeros":
                    v.grad = np.zeros_like(v.data)
                else:
                    v.zero_grad()
            (a * b + c).tanh().sum().backward()
        t = np.tanh(a_ * b_ + c_)
        expected = ((1 - t * t) * b_, (1 - t * t) * a_, 1 - t * t)
        for v, e in zip((a, b, c), expected):
            np.testing.assert_allclose(v.grad, e, rtol=1e-12)


def test_assigned_grad_array_is_never_changed():
    w = al.Value(np.array([1.0, 2.0]))
    mine = np.array([0.5, 0.5])
    w.grad = mine
    (w * w).sum().backward()
    np.testing.assert_array_equal(mine, [0.5, 0.5])  # backward summed into a new array
    np.testing.assert_allclose(w.grad, [2.5, 4.5])
    mine[0] = 9.0  # still the caller's, writeable
    w32 = al.Value(np.ones(2, dtype=np.float32))
    w32.grad = np.ones(2)  # float64 into a float32 Value: converted, shape checked
    assert w32.grad.dtype == np.float32
    with pytest.raises(ValueError, match=r"grad: shape \(3,\) does not fit"):
        w.grad = np.zeros(3)
