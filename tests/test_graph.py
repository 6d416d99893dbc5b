"""The graph mechanism: order, deep and wide graphs, linear cost (counted, not timed)."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Iterator

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import graph
from autograd_lite.registry import Op, register, unregister


@pytest.fixture
def counted() -> Iterator[tuple[Op, list]]:
    """A temporary identity-like op ``count_inc`` (z + 1) whose vjp records each call."""
    calls: list = []

    def vjp(g: object, out: object, z: object) -> object:
        calls.append(1)
        return g

    op = register(
        Op("count_inc", lambda z: z + 1.0, (vjp,), keeps_inputs=False, scalar=lambda z: z + 1.0)
    )
    try:
        yield op, calls
    finally:
        unregister("count_inc")


def test_topological_order_inputs_before_outputs_each_once() -> None:
    a = al.Value(1.0, label="a")
    b = al.Value(2.0, label="b")
    c = a * b
    d = c + a  # diamond: a reaches d twice
    e = d * c
    order = graph.topological_order(e)
    assert len(order) == len(set(order)) == 5
    pos = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            if p.requires_grad:
                assert pos[id(p)] < pos[id(v)]
    assert order[-1] is e


def test_topological_order_leaves_out_constants() -> None:
    a = al.Value(1.0)
    k = al.Value(2.0, requires_grad=False)
    y = a * (k * 3.0)
    assert graph.topological_order(y) == [a, y]
    assert graph.topological_order(k * 2.0) == []


def test_million_node_chain_forward_and_backward_without_recursion() -> None:
    n = 1_000_000
    limit = sys.getrecursionlimit()
    x = al.Value(0.5, label="x")
    y = x
    for _ in range(n):
        y = y * 1.0000001
    y.backward()
    assert sys.getrecursionlimit() == limit  # no raised limit was needed
    assert x.grad == pytest.approx(1.0000001**n, rel=1e-9)
    assert y.data == pytest.approx(0.5 * 1.0000001**n, rel=1e-9)
    del y  # freeing a million-deep chain must not overflow the C stack either
    gc.collect()


def test_hundred_thousand_way_fan_out() -> None:
    n = 100_000
    x = al.Value(0.5, label="x")
    total = al.Value(0.0)
    for i in range(n):
        total = total + x * float(i)
    total.backward()
    assert x.grad == pytest.approx(n * (n - 1) / 2)


def test_tensor_fan_out_and_fan_in() -> None:
    x = al.Value(np.arange(4.0))
    parts = [x[i] * x for i in range(4)]  # x used 8 times
    s = parts[0]
    for p in parts[1:]:
        s = s + p
    s.sum().backward()  # d/dx_j Σ_i x_i Σ_k x_k = 2 Σ x
    np.testing.assert_allclose(x.grad, np.full(4, 2 * x.data.sum()))


@pytest.mark.parametrize("n", [1_000, 10_000, 100_000])
def test_backward_calls_each_vjp_exactly_once(counted: tuple, n: int) -> None:
    """Linear work, counted: a chain of n ops costs n vjp calls and n + 1 nodes."""
    op, calls = counted
    x = al.Value(0.0)
    y = x
    for _ in range(n):
        y = op(y)
    assert len(graph.topological_order(y)) == n + 1
    y.backward()
    assert len(calls) == n
    assert x.grad == 1.0


def test_diamond_graph_each_vjp_once(counted: tuple) -> None:
    """A ladder of diamonds has 2**k paths, but backward visits each node once."""
    op, calls = counted
    x = al.Value(1.0)
    y = x
    k = 60
    for _ in range(k):
        y = op(y) + op(y)  # two paths per rung: 2**60 paths in total
    y.backward()
    assert len(calls) == 2 * k
    assert x.grad == 2.0**k


def _chain_backward_seconds(n: int) -> float:
    best = float("inf")
    for _ in range(3):
        x = al.Value(0.1)
        y = x
        for _ in range(n):
            y = y * 1.0
        t0 = time.perf_counter()
        y.backward()
        best = min(best, time.perf_counter() - t0)
        del x, y
    return best


def test_backward_time_grows_linearly() -> None:
    """4× the nodes: linear is ≈4× the time, quadratic would be ≈16×; bound generously."""
    small = _chain_backward_seconds(25_000)
    large = _chain_backward_seconds(100_000)
    assert large / small < 10.0, f"25k nodes {small:.4f}s, 100k nodes {large:.4f}s"


def test_apply_turns_numbers_and_arrays_into_constant_leaves() -> None:
    from autograd_lite.registry import get_op

    y = graph.apply(get_op("mul"), (np.array([1.0, 2.0]), al.Value(3.0)))
    assert y.op == "mul"
    assert not y.parents[0].requires_grad and y.parents[1].requires_grad
    assert not graph.apply(get_op("mul"), (2.0, 3.0)).requires_grad


def test_op_outputs_are_read_only() -> None:
    x = al.Value(np.ones(3))
    y = x * 2
    with pytest.raises(ValueError, match="read-only"):
        y.data[0] = 0.0


def test_requires_grad_switched_off_after_the_forward_pass_gets_no_gradient() -> None:
    x = al.Value(2.0)
    y = x.tanh()
    w = al.Value(3.0)
    z = w * w + y
    x.requires_grad = False
    w.requires_grad = False
    z.backward()
    assert x.grad == 0.0 and w.grad == 0.0
    assert y.grad == 1.0
    assert x._acc is None and w._acc is None  # nothing left over for a later pass


def test_table_ops_become_value_methods_and_leave_with_the_table() -> None:
    op = Op("triple", lambda z: 3 * z, (lambda g, out, z: 3 * g,), formula="3*z")
    register(op)
    try:
        assert "triple" in vars(al.Value)  # a real method: no per-call lookup
        x = al.Value(2.0)
        y = x.triple()
        y.backward()
        assert (y.data, x.grad) == (6.0, 3.0)
    finally:
        unregister("triple")
    assert "triple" not in vars(al.Value)
    with pytest.raises(AttributeError, match="triple"):
        al.Value(1.0).triple()


def test_an_op_named_like_a_value_attribute_does_not_replace_it() -> None:
    item = al.Value.item
    register(Op("item", lambda z: z, (lambda g, out, z: g,)))
    try:
        assert al.Value.item is item
        assert al.Value([[2.5]]).item() == 2.5
    finally:
        unregister("item")
    assert al.Value.item is item


def test_passthrough_vjps_give_the_same_gradients_as_calling_them() -> None:
    from autograd_lite.registry import passthrough

    rng = np.random.default_rng(0)
    a = al.Value(rng.normal(size=(3, 4)))
    b = al.Value(rng.normal(size=(4,)))  # broadcast: the passed-on gradient is summed back
    assert al.get_op("add").vjps == (passthrough, passthrough)
    assert al.gradcheck(lambda a, b: ((a + b) * (a - b)).sum(), a, b)
    x, y = al.Value(1.5), al.Value(-2.0)
    ((x + y) * (x - y) + x.linear()).backward()
    assert (x.grad, y.grad) == (2 * 1.5 + 1, 2 * 2.0)


def test_value_keeps_plain_attribute_access() -> None:
    # A __getattr__/__getattribute__ on Value stops CPython from specializing attribute
    # access on it: every slot read of the engine gets slower (docs/architecture.md).
    assert "__getattr__" not in vars(al.Value)
    assert al.Value.__getattribute__ is object.__getattribute__


def test_gradients_of_full_sums_share_nothing_that_can_change() -> None:
    # sum's vjp hands on a shared read-only array of ones: accumulating into it, or a
    # later graph, must never change a gradient already handed out
    x = al.Value(np.arange(6.0).reshape(2, 3))
    x.sum().backward()
    first = x.grad
    with pytest.raises(ValueError):
        first += 1.0
    (x.sum() + x.sum() * 2.0).backward()  # accumulates: 1 + (1 + 2)
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 4.0))
    np.testing.assert_array_equal(first, np.ones((2, 3)))
    y = al.Value(np.ones((2, 3)))
    (y * 5.0).sum().backward()
    np.testing.assert_array_equal(y.grad, np.full((2, 3), 5.0))
    np.testing.assert_array_equal(first, np.ones((2, 3)))
