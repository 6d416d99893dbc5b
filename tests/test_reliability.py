"""Issue 8: wrong gradients are never silent (anomaly mode, in-place safety, numerics, no asserts).

docs/reliability.md describes every behaviour tested here.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import re

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import graph
from autograd_lite.value import _pending, _Token

HERE = pathlib.Path(__file__).name


def _line() -> int:
    """Line number of the caller (the line that builds the node under test)."""
    return inspect.currentframe().f_back.f_lineno


# ------------------------------------------------------------ detect_anomaly


def test_anomaly_in_forward_names_op_and_user_line() -> None:
    x = al.Value(np.array([1.0, -1.0]), label="x")
    message = ""
    with al.detect_anomaly():
        y = x * 2.0  # fine
        y.label = "y"
        try:
            line = _line() + 1
            y.log()
        except FloatingPointError as exc:
            message = str(exc)
    assert re.search(
        rf"op 'log' produced nan in its output \(inputs 'y'\).*{HERE}:{line}\b", message
    ), message
    assert y.site is not None and HERE in y.site


def test_anomaly_reports_the_first_bad_op_only() -> None:
    x = al.Value(0.0, label="x")
    with al.detect_anomaly(), pytest.raises(FloatingPointError, match="op 'div' produced inf"):
        (1.0 / x).exp().log()  # div is first: exp/log never run


def test_anomaly_in_backward_sqrt_at_zero_names_label_and_input() -> None:
    x = al.Value(0.0, label="x")
    with al.detect_anomaly():
        line = _line() + 1
        r = x.sqrt()
        r.label = "root"
        with pytest.raises(
            FloatingPointError,
            match=rf"op 'sqrt' \(label 'root'\) produced inf in its gradient for its input "
            rf"'x'.*{HERE}:{line}\b",
        ):
            r.backward()


def test_anomaly_in_backward_tensor_log_and_pow_at_zero() -> None:
    x = al.Value(np.array([1.0, 0.0]), label="x")
    with al.detect_anomaly():
        y = (x**0.5).sum()  # forward finite; d/dx x^0.5 = inf at 0
        with pytest.raises(FloatingPointError, match=r"op 'pow' produced inf in its gradient"):
            y.backward()
    z = al.Value(np.array([1.0, 1e-300]), label="z")
    with al.detect_anomaly():
        # forward finite (log(1e-300) ≈ -690), backward 1/z·(huge upstream) overflows
        loss = (z.log() * 1e10).sum()
        with pytest.raises(FloatingPointError, match=r"op 'log' produced inf in its gradient"):
            loss.backward()


def test_anomaly_checks_an_upstream_nan_gradient() -> None:
    x = al.Value(np.ones(2), label="x")
    with al.detect_anomaly():
        y = x.exp()
        with pytest.raises(FloatingPointError, match="op 'exp' produced nan in its gradient"):
            y.backward(np.array([1.0, np.nan]))
    assert x._grad is None  # nothing half-accumulated


def test_anomaly_names_op_even_without_a_graph() -> None:
    with al.no_grad(), al.detect_anomaly(), pytest.raises(FloatingPointError, match="'sqrt'"):
        al.Value(-4.0).sqrt()


def test_anomaly_mode_switches_off_again_and_is_silent_outside() -> None:
    with pytest.raises(FloatingPointError), al.detect_anomaly():
        al.Value(-1.0).log()
    assert not graph.modes.anomaly
    y = al.Value(-1.0).log()  # outside anomaly mode: nan, no error (as numpy/PyTorch)
    assert np.isnan(y.data)


def test_anomaly_mode_does_not_change_correct_results() -> None:
    def run() -> tuple:
        x = al.Value(np.array([0.5, 2.0]))
        y = (x.sigmoid() * x.log()).sum()
        y.backward()
        return y.data, x.grad.copy()

    plain = run()
    with al.detect_anomaly():
        checked = run()
    assert plain[0] == checked[0]
    np.testing.assert_array_equal(plain[1], checked[1])


# ------------------------------------------------------------ in-place safety


def test_in_place_change_of_a_needed_leaf_is_refused() -> None:
    w = al.Value(np.array([1.0, 2.0, 3.0]), label="w")
    y = (w * w).sum()
    named = "Value 'w' is read-only while a pending backward"
    with pytest.raises(ValueError, match=named):
        w.data[0] = 5.0
    with pytest.raises(ValueError, match=named):
        w.data += 1.0
    with pytest.raises(ValueError, match=named):
        np.add(w.data, 1.0, out=w.data)
    with pytest.raises(ValueError, match="read-only"):  # numpy's own message, still refused
        w.data.fill(0.0)
    early = w._data  # a reference taken around the Value: the array itself is locked
    with pytest.raises(ValueError, match="read-only"):
        early[1] = 7.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0, 3.0])
    y.backward()
    np.testing.assert_allclose(w.grad, [2.0, 4.0, 6.0])
    w.data[0] = 5.0  # backward ran: in-place is allowed again
    assert w.data[0] == 5.0


def test_output_of_a_recorded_op_names_itself_when_changed_in_place() -> None:
    x = al.Value(np.array([0.5, -0.5]), label="x")
    y = x.tanh()
    y.label = "y"
    with pytest.raises(ValueError, match="Value 'y' is the output of op 'tanh'"):
        y.data[0] = 0.0
    assert type(y.data * 2) is np.ndarray  # computations on .data give plain arrays


@pytest.mark.parametrize("data", [np.array([0.5, -0.5]), 0.5], ids=["array", "float"])
def test_rebinding_the_output_of_a_pending_op_is_refused(data) -> None:
    """tanh's backward reads its output: a new output would give a silently wrong gradient."""
    x = al.Value(data, label="x")
    y = x.tanh()
    y.label = "y"
    s = (y * 1.0).sum() if isinstance(data, np.ndarray) else y * 1.0
    with pytest.raises(ValueError, match=r"Value 'y' is the output of op 'tanh'.*y.detach"):
        y.data = np.zeros(2) if isinstance(data, np.ndarray) else 0.9
    s.backward()
    np.testing.assert_allclose(x.grad, 1 - np.tanh(data) ** 2)  # the forward's own output
    y.data = np.zeros(2) if isinstance(data, np.ndarray) else 0.9  # freed: no backward reads it
    z = y.detach()
    z.data = z.data * 2  # a copy is a leaf: rebinding is fine


def test_constant_batch_is_locked_too() -> None:
    w = al.Value(np.ones(3))
    x = al.Value(np.array([1.0, 2.0, 3.0]), requires_grad=False)
    y = (w * x).sum()
    with pytest.raises(ValueError, match="read-only"):
        x.data[0] = 100.0
    y.backward()
    np.testing.assert_allclose(w.grad, [1.0, 2.0, 3.0])


def test_rebinding_data_before_backward_keeps_gradients_of_the_forward() -> None:
    w = al.Value(np.array([1.0, 2.0]), label="w")
    s = al.Value(3.0, label="s")
    y = (w * w).sum() * s * s
    w.data = np.array([10.0, 20.0])  # rebinding is always allowed
    s.data = 7.0
    y.backward()
    np.testing.assert_allclose(w.grad, 2 * np.array([1.0, 2.0]) * 9.0)  # the forward's values
    assert s.grad == pytest.approx(2 * 3.0 * 5.0)
    w.data[0] = 0.0  # the new array is not locked


def test_unrecorded_view_of_a_constant_does_not_follow_its_base() -> None:
    """A slice of a constant batch (no graph) used in a graph: changing the batch in place
    afterwards must not change the recorded input (it used to, giving a wrong gradient)."""
    x = al.Value(np.arange(6.0), requires_grad=False)
    w = al.Value(np.ones(3))
    xb = x[0:3]
    loss = (w * xb).sum()
    x.data[0:3] = 100.0  # x itself is not needed by any backward: allowed
    loss.backward()
    np.testing.assert_allclose(w.grad, [0.0, 1.0, 2.0])


def test_no_grad_view_of_a_parameter_does_not_follow_updates() -> None:
    w = al.Value(np.arange(4.0))
    with al.no_grad():
        wt = w.reshape(2, 2)
    v = al.Value(np.ones((2, 2)))
    loss = (v * wt).sum()
    w.data[0] = 50.0  # optimizer-style in-place update of w
    loss.backward()
    np.testing.assert_allclose(v.grad, np.arange(4.0).reshape(2, 2))


def test_view_ops_lock_their_leaf() -> None:
    w = al.Value(np.arange(6.0))
    y = w.reshape(2, 3)
    z = (y.exp()).sum()
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 1.0
    z.backward()
    np.testing.assert_allclose(w.grad, np.exp(np.arange(6.0)))


def test_sgd_style_updates_after_backward_in_place_and_rebinding() -> None:
    w = al.Value(np.array([1.0, -1.0]))
    b = al.Value(0.5)
    for step in range(3):
        loss = ((w * 2.0 + b) ** 2).sum()
        loss.backward()
        if step % 2 == 0:
            w.data -= 0.1 * w.grad  # in place: allowed after backward
        else:
            w.data = w.data - 0.1 * w.grad  # rebinding
        b.data = b.data - 0.1 * b.grad
        w.zero_grad()
        b.zero_grad()
    assert np.all(np.isfinite(w.data))


def test_optimizers_step_while_a_retained_graph_still_holds_the_lock() -> None:
    for make in (lambda ps: al.optim.SGD(ps, lr=0.1), lambda ps: al.optim.Adam(ps, lr=0.1)):
        w = al.Value(np.array([1.0, 2.0]))
        x = al.Value(np.array([3.0, 4.0]), requires_grad=False)
        loss = (w * x).sum()
        loss.backward(retain_graph=True)  # w stays locked for a second pass
        assert not w.data.flags.writeable
        opt = make([w])
        before = w.data.copy()
        opt.step()  # must rebind instead of failing
        assert np.all(w.data < before)
        w.zero_grad()
        loss.backward()  # the retained graph still uses the values it was built from
        np.testing.assert_allclose(w.grad, x.data)


def test_dropped_graph_releases_its_locks() -> None:
    w = al.Value(np.ones(4))
    y = (w * w).sum()
    assert not w.data.flags.writeable
    del y  # never backwarded
    w.data[0] = 2.0
    assert w.data[0] == 2.0


def test_lock_is_held_until_every_pending_graph_is_done() -> None:
    w = al.Value(np.ones(3))
    y1 = (w * w).sum()
    y2 = (w * 3.0).sum()
    y1.backward()
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 9.0  # y2 still needs w
    y2.backward()
    w.data[0] = 9.0
    np.testing.assert_allclose(w.grad, [5.0, 5.0, 5.0])


def test_array_held_from_before_the_forward_is_locked_then_writeable_again() -> None:
    """``.data`` handed out the raw array: the caller's reference follows the lock."""
    w = al.Value(np.ones(3))
    arr = w.data  # the raw array, writeable now
    arr[0] = 2.0
    y1 = (w * w).sum()
    y2 = (w * 3.0).sum()
    with pytest.raises(ValueError, match="read-only"):
        arr[1] = 5.0  # numpy's own refusal: both graphs need the array as it was
    y1.backward()
    with pytest.raises(ValueError, match="read-only"):
        arr[1] = 5.0  # y2 still needs it
    y2.backward()
    arr[1] = 5.0  # released at the last backward, without asking .data again
    np.testing.assert_allclose(w.grad, [4.0 + 3.0, 2.0 + 3.0, 2.0 + 3.0])
    y3 = (w * w).sum()
    del y3  # dropped unused: writeable again as well
    arr[2] = 7.0
    np.testing.assert_allclose(w.data, [2.0, 5.0, 7.0])


def test_unheld_leaf_arrays_are_not_unlocked_between_steps() -> None:
    """No one holds the array: backward leaves it read-only, ``.data`` unlocks it."""
    w = al.Value(np.ones(2))
    x = al.Value(np.array([1.0, 2.0]), requires_grad=False)
    for _ in range(3):  # a training loop that only rebinds (or never touches .data)
        loss = (w * x).sum()
        loss.backward()
        assert not w._data.flags.writeable and not x._data.flags.writeable
        assert type(w._lock) is _Token and type(x._lock) is _Token  # unheld: no counts
        assert not _pending(w) and not _pending(x)  # no pending use
    arr = w.data  # handed out: writeable from now on
    arr[0] = 3.0
    assert w._data[0] == 3.0 and w._lock is None
    w.data = np.zeros(2)  # a new array starts unheld
    assert type(w._lock) is _Token and not w._data.flags.writeable
    w.data[1] = 1.0
    np.testing.assert_allclose(w.data, [0.0, 1.0])


def test_a_handed_out_array_no_one_kept_is_taken_back_not_pinned() -> None:
    """``np.zeros_like(w.data)`` hands the array out and drops it: the next op takes it back."""
    w = al.Value(np.ones(3), label="w")
    x = al.Value(np.array([1.0, 2.0, 3.0]), requires_grad=False)
    for _ in range(2):
        zeros = np.zeros_like(w.data)  # handed out (writeable), not kept
        assert w._lock is None
        loss = (w * x).sum()
        assert type(w._lock) is _Token and _pending(w)  # no pin, no finalizer
        assert type(loss.parents[0]._lock) is tuple
        with pytest.raises(ValueError, match="'w' is read-only"):
            w.data[0] = 5.0
        loss.backward()
        assert not _pending(w)
        w.data[0] = 2.0  # free again
        del loss  # (a freed graph kept alive still holds the array: the next one pins it)
    np.testing.assert_allclose(w.grad, [1.0, 2.0, 3.0] * np.ones(3) * 2)
    np.testing.assert_allclose(zeros, 0.0)
    kept = w.data  # kept this time: pinned, and writeable again after the backward
    loss = (w * x).sum()
    assert w._lock == -1
    with pytest.raises(ValueError, match="read-only"):
        kept[1] = 7.0
    loss.backward()
    kept[1] = 7.0
    np.testing.assert_allclose(w.data, [2.0, 7.0, 1.0])


@pytest.mark.parametrize("how", ["copy", "deepcopy", "pickle"])
def test_copied_leaf_is_locked_like_a_new_one(how: str) -> None:
    """A copy gets its own array: locked while its graph is pending, apart from the original."""
    import copy
    import pickle

    w = al.Value(np.array([1.0, 2.0]), label="w")
    pending = (w * w).sum()  # the original is locked by its own graph
    w2 = {"copy": copy.copy, "deepcopy": copy.deepcopy}.get(
        how, lambda v: pickle.loads(pickle.dumps(v))
    )(w)
    assert w2.label == "w" and w2._data is not w._data
    w2.data[0] = 3.0  # the copy has no pending use
    y = (w2 * w2).sum()
    with pytest.raises(ValueError, match="read-only"):
        w2.data[0] = 4.0
    y.backward()
    np.testing.assert_allclose(w2.grad, [6.0, 4.0])
    pending.backward()
    np.testing.assert_allclose(w.grad, [2.0, 4.0])  # the original's data never changed


def test_failed_forward_leaves_no_lock() -> None:
    w = al.Value(np.ones(3))
    with pytest.raises(ValueError, match="matmul"):
        (w * w) @ np.ones(4)
    w.data[0] = 2.0


def test_second_backward_through_freed_graph_names_the_node() -> None:
    x = al.Value(np.ones(2))
    h = x.tanh()
    h.label = "hidden"
    y = (h * 2).sum()
    y.backward()
    z = (h * 3).sum()  # reuses the freed part of the graph
    with pytest.raises(RuntimeError, match=r"'tanh' 'hidden' was already freed.*retain_graph"):
        z.backward()


def test_create_graph_refuses_reassigned_inputs() -> None:
    x = al.Value(np.array([1.0, 2.0]), label="x")
    y = (x * x).sum()
    x.data = np.array([5.0, 5.0])
    with pytest.raises(RuntimeError, match="'x' of node 'mul' was reassigned"):
        y.backward(create_graph=True)


# -------------------------------------------------------------- numerics

BIG = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["sigmoid", "softplus", "tanh", "swish", "elu", "softmax"])
def test_stable_ops_finite_at_large_inputs(name: str, dtype: type) -> None:
    z = al.Value(BIG.astype(dtype))
    y = getattr(z, name)()
    (y * np.linspace(0.5, 1.5, 5).astype(dtype)).sum().backward()
    assert np.all(np.isfinite(y.data)) and np.all(np.isfinite(z.grad)), (y.data, z.grad)
    assert y.dtype == dtype and z.grad.dtype == dtype


@pytest.mark.parametrize("z", [-1e4, 1e4, -745.5, 710.0])
def test_scalar_paths_are_finite_too(z: float) -> None:
    for name in ("sigmoid", "softplus", "tanh", "swish", "elu"):
        v = al.Value(z)
        y = getattr(v, name)()
        y.backward()
        assert np.isfinite(y.data) and np.isfinite(v.grad), (name, z, y.data, v.grad)


def test_large_input_values_are_right_not_just_finite() -> None:
    z = al.Value(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(z.sigmoid().data, [0.0, 1.0])
    np.testing.assert_allclose(z.softplus().data, [0.0, 1e4])
    ls = al.Value(np.array([1e4, -1e4, 0.0])).log_softmax()
    np.testing.assert_allclose(ls.data, [0.0, -2e4, -1e4])
    sm = al.Value(np.array([1e4, -1e4, 0.0])).softmax()
    np.testing.assert_allclose(sm.data, [1.0, 0.0, 0.0])
    x = al.Value(1e4)
    x.softplus().backward()
    assert x.grad == 1.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_softmax_and_cross_entropy_finite_at_large_logits(dtype: type) -> None:
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    z = al.Value(logits)
    z.log_softmax(axis=-1).sum().backward()
    assert np.all(np.isfinite(z.grad)) and z.grad.dtype == dtype
    z2 = al.Value(logits)
    loss = al.cross_entropy(z2, np.array([1, 0]))  # confident mistakes
    loss.backward()
    assert np.isfinite(loss.data) and loss.data == pytest.approx(2e4 + np.log(2) / 2, rel=1e-6)
    assert np.all(np.isfinite(z2.grad)) and z2.grad.dtype == dtype


def test_losses_finite_at_large_logits() -> None:
    nn = al.nn
    z = al.Value(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]]))
    loss = nn.CrossEntropyLoss()(z, np.array([1, 2]))
    loss.backward()
    assert np.isfinite(loss.data) and np.all(np.isfinite(z.grad))
    zb = al.Value(np.array([1e4, -1e4, 1e4, -1e4]))
    loss = nn.BCEWithLogitsLoss()(zb, np.array([1.0, 0.0, 0.0, 1.0]))
    loss.backward()
    assert loss.data == pytest.approx(2e4 / 4)  # two confident mistakes of 1e4, mean of 4
    np.testing.assert_allclose(zb.grad, np.array([0.0, 0.0, 1.0, -1.0]) / 4)
    # BCELoss takes probabilities; strictly inside (0, 1) it is finite with finite gradients.
    p = al.Value(np.array([1e-12, 1 - 1e-12]))
    loss = nn.BCELoss()(p, np.array([0.0, 1.0]))
    loss.backward()
    assert np.isfinite(loss.data) and np.all(np.isfinite(p.grad))


def test_float32_training_step_stays_float32() -> None:
    rng = np.random.default_rng(0)
    w = al.Value(rng.standard_normal((4, 3)).astype(np.float32))
    b = al.Value(np.zeros(3, dtype=np.float32))
    x = al.Value(rng.standard_normal((8, 4)).astype(np.float32), requires_grad=False)
    logits = (x @ w + b).relu() * 2.0 - 1.0
    loss = al.cross_entropy(logits, rng.integers(0, 3, 8))
    loss.backward()
    assert logits.dtype == np.float32 and w.grad.dtype == np.float32
    assert b.grad.dtype == np.float32


# ------------------------------------------------------ no assert in library


def test_library_code_never_uses_assert() -> None:
    root = pathlib.Path(al.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) >= 8
    offenders = []
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        offenders += [
            f"{path.relative_to(root.parent)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Assert)
        ]
    assert not offenders, f"library code uses assert (use a named exception): {offenders}"


@pytest.mark.parametrize(
    ("before", "after"),
    [(np.ones(3), np.ones(1)), (np.ones(3), np.ones(4)), (2.0, np.ones(2)), (np.ones((2, 1)), 1.0)],
)
def test_rebinding_to_another_shape_before_backward_is_refused(
    before: object, after: object
) -> None:
    """The gradient belongs to the forward's shape; fitting it to a new shape would be wrong
    (a (3,) gradient silently summed into (1,) used to be the result)."""
    w = al.Value(before, label="w")
    y = (w * np.full((2, 3) if np.ndim(before) == 2 else 3, 2.0)).sum()
    w.data = after
    with pytest.raises(RuntimeError, match=r"'w' of node 'mul' was rebound from shape"):
        y.backward()


def test_reliability_page_snippets_run() -> None:
    """Every ``>>>`` snippet of docs/reliability.md produces exactly the output shown."""
    import doctest

    page = pathlib.Path(__file__).parent.parent / "docs" / "reliability.md"
    blocks = re.findall(r"```pycon\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    test = doctest.DocTestParser().get_doctest(
        "\n".join(blocks), {}, "reliability.md", str(page), 0
    )
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    result = runner.run(test)
    assert result.attempted >= 30
    assert result.failed == 0, f"{result.failed} snippet(s) of {page.name} failed (see output)"


def test_shared_gradient_arrays_cannot_be_edited_in_place() -> None:
    """Both inputs of an add receive the same gradient array: editing one in place would
    silently change the other (it did), so gradients are handed out read-only."""
    a = al.Value(np.array([3.0, -4.0]))
    b = al.Value(np.array([1.0, 1.0]))
    s = a + b
    (s * 5.0).sum().backward()
    with pytest.raises(ValueError, match="read-only"):
        a.grad *= 0.1
    with pytest.raises(ValueError, match="read-only"):
        s.grad[0] = 0.0
    np.testing.assert_array_equal(b.grad, [5.0, 5.0])
    a.grad = np.clip(a.grad, -1.0, 1.0)  # rebinding is the way to change a gradient
    np.testing.assert_array_equal(a.grad, [1.0, 1.0])
    np.testing.assert_array_equal(b.grad, [5.0, 5.0])
    w = al.Value(np.ones((2, 3)))
    w.reshape(6).sum().backward()
    with pytest.raises(ValueError, match="read-only"):
        w.grad[0, 0] = 7.0


def test_gradients_still_accumulate_and_optimizers_still_step() -> None:
    w = al.Value(np.array([1.0, 2.0]))
    (w * w).sum().backward()
    (w * 3.0).sum().backward()  # accumulates into a new array
    np.testing.assert_allclose(w.grad, [5.0, 7.0])
    opt = al.optim.SGD([w], lr=0.1, momentum=0.9)
    opt.step()
    opt.step()
    np.testing.assert_allclose(w.data, np.array([1.0, 2.0]) - 0.1 * (1 + 1.9) * w.grad)
    opt.zero_grad()
    assert not w.grad.any()


def test_rebinding_an_input_of_a_three_input_op_to_another_shape_is_refused() -> None:
    x = al.Value(np.ones((4, 3)), requires_grad=False)
    w = al.Value(np.ones((2, 3)), label="W")
    b = al.Value(np.zeros(2), label="b")
    loss = al.dense(x, w, b).sum()
    b.data = 0.0
    with pytest.raises(RuntimeError, match=r"'b' of node 'dense' was rebound from shape \(2,\)"):
        loss.backward()


def test_array_made_from_a_scalar_is_read_only_too() -> None:
    """broadcast_to of a float gives a recorded array; changing it in place would change
    what the next op's backward reads (nothing locks non-leaf nodes)."""
    s = al.Value(0.5)
    b = al.broadcast_to(s, (2, 2))
    w = al.Value(np.ones((2, 2)))
    loss = (w * b).sum()
    with pytest.raises(ValueError, match="read-only"):
        b.data[0, 0] = 9.0
    loss.backward()
    np.testing.assert_allclose(w.grad, np.full((2, 2), 0.5))
    assert s.grad == 4.0


def test_assigning_another_values_array_does_not_share_it() -> None:
    """``b.data = a.data`` used to share one array between two leaves whose lock counts
    are separate: a's backward unlocked it while b's pending backward still needed it."""
    a = al.Value(np.ones(3))
    b = al.Value(np.zeros(3))
    b.data = a.data
    assert not np.shares_memory(a.data, b.data)
    loss_a = (a * a).sum()
    loss_b = (b * b).sum()
    loss_a.backward()
    a.data[0] = 100.0
    loss_b.backward()
    np.testing.assert_allclose(b.grad, [2.0, 2.0, 2.0])


def test_assigned_user_array_is_copied_like_the_constructor_does() -> None:
    arr = np.array([1.0, 2.0])
    w = al.Value(0.0)
    w.data = arr
    loss = (w * w).sum()
    arr[0] = 50.0  # the caller's array is theirs to change
    loss.backward()
    np.testing.assert_allclose(w.grad, [2.0, 4.0])


INDEXING = {"x[index]": lambda x, i: x[i], "al.getitem(x, index)": al.getitem}


@pytest.mark.parametrize("call", INDEXING)
@pytest.mark.parametrize("kind", ["int array", "bool mask", "list", "tuple of arrays"])
def test_index_changed_after_the_forward_pass_does_not_change_the_gradient(call, kind) -> None:
    """getitem's backward reads the index again: it keeps a copy, not the caller's array."""
    x = al.Value(np.arange(4.0))
    index = {
        "int array": np.array([0, 1]),
        "bool mask": np.array([True, True, False, False]),
        "list": [0, 1],
        "tuple of arrays": (np.array([0, 1]),),
    }[kind]
    y = INDEXING[call](x, index)
    if kind == "tuple of arrays":
        index[0][:] = [3, 2]  # the caller reuses the array for the next batch
    else:
        index[:] = [False, False, True, True] if kind == "bool mask" else [3, 2]
    (y * np.array([1.0, 2.0])).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 2.0, 0.0, 0.0])


@pytest.mark.parametrize("as_value", [False, True], ids=["array", "Value"])
def test_labels_changed_after_the_forward_pass_do_not_change_the_gradient(as_value) -> None:
    logits = np.array([[1.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    expected = al.Value(logits)
    al.cross_entropy(expected, np.array([0, 1])).backward()
    z = al.Value(logits)
    labels = np.array([0.0, 1.0])  # whole numbers as floats are accepted
    if as_value:
        labels = al.Value(labels, requires_grad=False)
        loss = al.cross_entropy(z, labels)
        labels.data = np.array([2.0, 2.0])  # rebinding a leaf is always allowed
    else:
        loss = al.cross_entropy(z, labels)
        labels[:] = 2.0  # changed in place, as a reused batch buffer would be
    loss.backward()
    np.testing.assert_allclose(z.grad, expected.grad)


def test_assigning_grad_checks_shape_and_type_and_copies() -> None:
    w = al.Value(np.ones(2, dtype=np.float32), label="w")
    mine = np.array([1.0, 2.0])
    w.grad = mine
    assert w.grad.dtype == np.float32 and mine.flags.writeable  # a copy in w's dtype
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, [3.0, 4.0])
    np.testing.assert_allclose(mine, [1.0, 2.0])  # the caller's array is untouched
    with pytest.raises(
        ValueError, match=r"grad: shape \(2, 2\) does not fit a Value of shape \(2,\)"
    ):
        w.grad = np.ones((2, 2))  # would have broadcast silently into the next backward
    with pytest.raises(TypeError, match="grad: expected a number"):
        w.grad = "zero"
    np.testing.assert_allclose(w.grad, [3.0, 4.0])  # refused assignments change nothing
    w.grad = None
    np.testing.assert_allclose(w.grad, [0.0, 0.0])


def test_a_view_taken_while_pending_stays_read_only_and_says_so() -> None:
    w = al.Value(np.ones(2), label="w")
    loss = (w * w).sum()
    view = w.data  # taken while the graph pends: a read-only view
    with pytest.raises(ValueError, match="read-only while a pending backward"):
        view[0] = 3.0
    loss.backward()
    with pytest.raises(ValueError, match=r"taken from \.data of Value 'w' while a backward"):
        view[0] = 3.0  # still read-only: the message must not claim a pending backward
    w.data[0] = 3.0  # a fresh .data is writeable
    np.testing.assert_allclose(w.data, [3.0, 1.0])


@pytest.mark.parametrize("first", ["w1", "w2"])
def test_backward_failing_midway_leaves_parameter_gradients_alone(first) -> None:
    """Leaves run last in a pass: an error in any op's backward comes before them."""
    w1 = al.Value(np.ones(3), label="w1")
    w2 = al.Value(np.array([1.0, 2.0, 3.0]), label="w2")
    w2.grad = [10.0, 10.0, 10.0]  # from an earlier pass
    part1, part2 = (w1 * 2.0).sum(), (w2 * w2).sum()
    loss = part1 + part2 if first == "w1" else part2 + part1
    w1.data = np.ones(1)  # bad: w1's gradient no longer fits
    with pytest.raises(RuntimeError, match="rebound from shape"):
        loss.backward()
    np.testing.assert_allclose(w2.grad, [10.0, 10.0, 10.0])  # untouched
    np.testing.assert_allclose(w1.grad, [0.0])
    w1.data = np.ones(3)
    ((w1 * 2.0).sum() + (w2 * w2).sum()).backward()  # a new graph works as usual
    np.testing.assert_allclose(w2.grad, [12.0, 14.0, 16.0])


def test_gradient_of_a_0d_float32_value_is_a_0d_float32_array() -> None:
    """numpy turns sums of 0-d arrays into scalars; .grad is of the same kind as .data."""
    z = al.Value(np.float32(2.0))
    (z * z).backward()  # two gradients for z, added up
    assert type(z.grad) is np.ndarray and z.grad.shape == () and z.grad.dtype == np.float32
    assert z.grad == 4.0
