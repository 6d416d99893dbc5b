"""Memory: freed graphs really die (no reference cycles), long training loops do not grow."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np

import autograd_lite as al


def _small_graph(w: al.Value, b: al.Value, x: al.Value, t: np.ndarray) -> al.Value:
    y = (x @ w + b).tanh()
    return ((y - t) ** 2).mean()


def _nodes(root: al.Value) -> list[al.Value]:
    seen, stack, out = set(), [root], []
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        out.append(v)
        stack.extend(v.parents)
    return out


def test_a_freed_graph_dies_by_reference_counting_alone() -> None:
    w = al.Value(np.ones((3, 2)))
    b = al.Value(np.zeros(2))
    x = al.Value(np.arange(12.0).reshape(4, 3) / 10, requires_grad=False)
    gc.collect()
    gc.disable()  # prove the nodes die without the cycle collector
    try:
        loss = _small_graph(w, b, x, np.ones((4, 2)))
        loss.backward()
        inner = [n for n in _nodes(loss) if n.op]
        assert len(inner) >= 5
        refs = [weakref.ref(n) for n in inner]
        del inner, loss
        assert all(r() is None for r in refs), "graph nodes survived `del`: a reference cycle"
    finally:
        gc.enable()


def test_a_dropped_unbackwarded_graph_dies_and_leaves_no_garbage() -> None:
    w = al.Value(np.ones((3, 2)))
    b = al.Value(0.5)
    x = al.Value(np.ones((4, 3)), requires_grad=False)
    gc.collect()
    loss = _small_graph(w, b, x, np.zeros((4, 2)))
    ref = weakref.ref(loss.parents[0])
    del loss
    assert ref() is None
    assert gc.collect() == 0  # nothing was left for the cycle collector
    w.data[0, 0] = 3.0  # and the locks went with the graph


def test_scalar_graph_leaves_no_cyclic_garbage() -> None:
    gc.collect()
    ws = [al.Value(0.1 * i) for i in range(5)]
    for _ in range(20):
        s = al.Value(0.0)
        for w in ws:
            s = s + (w * 2.0).tanh() * w
        s.backward()
        del s
    assert gc.collect() == 0


def test_ten_thousand_training_steps_do_not_grow_memory() -> None:
    rng = np.random.default_rng(0)
    w = al.Value(rng.standard_normal((3, 2)) * 0.1)
    b = al.Value(np.zeros(2))
    x = al.Value(rng.standard_normal((4, 3)), requires_grad=False)
    t = np.array([[0.5, -0.5]] * 4)

    def step(i: int) -> float:
        loss = _small_graph(w, b, x, t)
        loss.backward()
        if i % 2:
            w.data -= 0.01 * w.grad  # in place
        else:
            w.data = w.data - 0.01 * w.grad  # rebinding
        b.data = b.data - 0.01 * b.grad
        w.zero_grad()
        b.zero_grad()
        return loss.data

    tracemalloc.start()
    try:
        for i in range(1_000):  # warm-up: caches, free lists
            step(i)
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        first = step(0)
        for i in range(9_000):
            last = step(i)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert last < first  # it did train
    growth = after - before
    assert growth < 64 * 1024, f"memory grew by {growth} bytes over 9,000 steps"


def test_retained_graph_is_kept_on_purpose_and_freed_on_del() -> None:
    w = al.Value(np.ones(3))
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    ref = weakref.ref(loss.parents[0])
    assert ref() is not None
    del loss
    assert ref() is None
    w.data[0] = 2.0  # the retained graph's lock is gone with it
