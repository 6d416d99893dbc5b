"""The graph mechanism: order, deep and wide graphs, linear cost (counted, not timed)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


# ---- the counted pass: a node is ready once every op that reads it has sent its part.
# Ops outside the graph (other losses, dropped graphs) never send: the pass must still
# finish those nodes, with exactly the gradients of a graph built without them.

OPS = {
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + b,
    "tanh_sub": lambda a, b: (a - b).tanh(),
    "sigmoid_mul": lambda a, b: a.sigmoid() * b,
}


def _run_program(program: list, decoys: list, seed: int) -> list:
    """Leaves, then ops from ``program``; ``decoys`` read some nodes and are dropped or kept."""
    rng = np.random.default_rng(seed)
    leaves = [al.Value(rng.normal(size=3), label=f"x{k}") for k in range(3)]
    nodes = list(leaves)
    kept = []
    for step, (name, i, j) in enumerate(program):
        nodes.append(OPS[name](nodes[i % len(nodes)], nodes[j % len(nodes)]))
        for d_step, (d_name, di, dj, keep) in enumerate(decoys):
            if d_step == step:  # an op nobody backpropagates through, made in between
                decoy = OPS[d_name](nodes[di % len(nodes)], nodes[dj % len(nodes)])
                if keep:
                    kept.append(decoy)
    loss = sum((n.sum() for n in nodes[3:]), al.Value(0.0))
    loss.backward()
    del kept
    return [leaf.grad for leaf in leaves]


STEPS = st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 9), st.integers(0, 9))
DECOYS = st.tuples(
    st.sampled_from(sorted(OPS)), st.integers(0, 9), st.integers(0, 9), st.booleans()
)


@given(st.lists(STEPS, min_size=1, max_size=8), st.lists(DECOYS, max_size=6))
def test_ops_outside_the_graph_do_not_change_its_gradients(program, decoys) -> None:
    expected = _run_program(program, [], seed=1)
    got = _run_program(program, decoys, seed=1)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-15)


def test_a_node_read_by_another_pending_loss_gets_its_gradient_now() -> None:
    x = al.Value(np.array([0.5, -1.0]), label="x")
    h = x.tanh()
    other = (h * h * 3.0).sum()  # reads h too, but is not part of this backward
    (h * 2.0).sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad, 2.0 * (1 - np.tanh(x.data) ** 2))
    x.zero_grad()
    other.backward()  # the other loss, later: h is still there (retained)
    np.testing.assert_allclose(x.grad, 6.0 * np.tanh(x.data) * (1 - np.tanh(x.data) ** 2))


def test_a_vjp_that_sends_nothing_does_not_stall_the_pass() -> None:
    """An op may return None for an input: that input then waits for a part that never comes."""
    op = register(
        Op(
            "first_only",
            lambda a, b: a + b,
            (lambda g, out, a, b: g, lambda g, out, a, b: None),  # no gradient for b
            keeps_inputs=False,
        )
    )
    try:
        x = al.Value(np.array([0.3, 0.7]))
        h = x.tanh()
        y = (op(h, h) + h * 2.0).sum()  # h: read three times, one of them sends nothing
        y.backward()
        np.testing.assert_allclose(x.grad, 3.0 * (1 - np.tanh(x.data) ** 2))
    finally:
        unregister("first_only")


def test_a_reader_switched_off_after_the_forward_pass_is_not_waited_for() -> None:
    x = al.Value(np.array([0.2, -0.4]))
    h = x.tanh()
    c = h * 2.0
    c.requires_grad = False  # its gradient is not wanted any more: it sends nothing to h
    (c + h).sum().backward()
    np.testing.assert_allclose(x.grad, 1 - np.tanh(x.data) ** 2)


def test_freed_node_met_midway_leaves_parameter_gradients_alone() -> None:
    w = al.Value(np.array([1.0, 2.0]), label="w")
    x = al.Value(np.array([0.5, 0.5]))
    h = x.tanh()
    h.label = "hidden"
    (h * 2.0).sum().backward()  # frees h
    x.zero_grad()
    loss = (w * w).sum() + (h * 3.0).sum()
    with pytest.raises(RuntimeError, match=r"'tanh' 'hidden' was already freed"):
        loss.backward()
    np.testing.assert_allclose(w.grad, [0.0, 0.0])  # no parameter got part of a pass
    np.testing.assert_allclose(x.grad, [0.0, 0.0])
    ((w * w).sum()).backward()  # and nothing half-collected is left behind
    np.testing.assert_allclose(w.grad, [2.0, 4.0])
