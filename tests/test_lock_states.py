"""Random programs against the leaf locks (graph._Lock): a plain model says what must happen.

Each program builds graphs on three leaves, runs or drops them (some retained), asks
for ``.data``, writes through it and through array references taken earlier, and
rebinds. The model predicts, step by step, whether each write is refused, and at the
end which gradients every backward must have added (the values of each forward pass).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite as al

ACTIONS = ("build", "backward", "retain", "drop", "grab", "write", "write_held", "rebind")
STEP = st.tuples(st.sampled_from(ACTIONS), st.integers(0, 2), st.integers(0, 2))


# Cheap programs: more of them than the suite's default, so CI meets the rare orders too.
@settings(max_examples=max(500, settings.default.max_examples))
@given(st.lists(STEP, max_size=40))
def test_writes_are_refused_exactly_while_a_pending_graph_needs_the_array(program) -> None:
    leaves = [al.Value(np.array([1.0 + k, -1.0]), label=f"w{k}") for k in range(3)]
    expected = [np.zeros(2) for _ in leaves]
    array_of = [0, 0, 0]  # which array each leaf holds (rebinding starts a new one)
    pending: list = []  # [loss, (leaf, array) pinned, ...] and the forward's data
    held: dict = {}  # leaf -> (reference from .data, whether it was handed out raw)

    def pinned(k: int) -> bool:
        return any((k, array_of[k]) in graph["pins"] for graph in pending)

    for n, (action, i, j) in enumerate(program):
        value = float(n + 10)
        if action == "build":
            pending.append(
                {
                    "loss": (leaves[i] * leaves[j]).sum(),
                    "pins": {(i, array_of[i]), (j, array_of[j])},
                    "adds": ((i, leaves[j]._data.copy()), (j, leaves[i]._data.copy())),
                }
            )
        elif action in ("backward", "retain") and pending:
            graph = pending[i % len(pending)]
            graph["loss"].backward(retain_graph=action == "retain")
            for k, grad in graph["adds"]:
                expected[k] += grad
            if action == "backward":  # freed: its pins are released
                pending.remove(graph)
            del graph  # (a dropped graph must not live on in this variable)
        elif action == "drop" and pending:
            del pending[i % len(pending)]
        elif action == "grab":
            held[i] = (leaves[i].data, not pinned(i))  # the raw array only while nothing pends
        elif action == "write":
            if pinned(i):
                with pytest.raises(ValueError, match="read-only"):
                    leaves[i].data[0] = value
            else:
                leaves[i].data[0] = value
                assert leaves[i]._data[0] == value
        elif action == "write_held" and i in held:
            reference, raw = held[i]
            if raw and not pinned(i):
                reference[1] = value  # taken before: writeable again once nothing pends
                assert leaves[i]._data[1] == value
            else:
                with pytest.raises(ValueError, match="read-only"):
                    reference[1] = value
        elif action == "rebind":
            leaves[i].data = np.array([value, -value])  # always allowed
            array_of[i] += 1  # pending graphs keep the old array; old references go with it
            held.pop(i, None)
            leaves[i].data[0] = value  # the new array is not locked
    for graph in pending:
        graph["loss"].backward()
        for k, grad in graph["adds"]:
            expected[k] += grad
    for leaf, grad in zip(leaves, expected):
        np.testing.assert_allclose(leaf.grad, grad)
