"""The node-level gradient audit: built-in table passes, wrong derivatives are named."""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.registry import Op, get_op, register, unregister
from autograd_lite.teaching.audit import AuditReport, audit, demo_wrong_op, sympy_partial
from autograd_lite.teaching.replay import node_ids


@pytest.fixture
def wrong_ops():
    """Two user ops with wrong derivatives: one elementwise, one structural."""
    names = []

    def add(op: Op) -> Op:
        register(op)
        names.append(op.name)
        return op

    # d(a*b)/db must be a; this vjp returns 2a (wrong for input 1 only)
    add(
        Op(
            "bad_mul",
            forward=lambda a, b: a * b,
            vjps=(lambda g, out, a, b: g * b, lambda g, out, a, b: g * a * 2.0),
            formula="a * b",
        )
    )
    # reverse a vector; the vjp forgets to reverse g back (no formula: FD only)
    add(
        Op(
            "bad_reverse",
            forward=lambda z: z[::-1].copy(),
            vjps=(lambda g, out, z: g,),
        )
    )
    yield
    for n in names:
        unregister(n)


def _everything_graph(rng: np.random.Generator) -> al.Value:
    """One graph that uses every built-in op, away from kinks."""
    W = al.Value(rng.normal(size=(3, 4)), label="W")
    x = al.Value(rng.normal(size=(2, 4)), label="x")
    b = al.Value(rng.normal(size=3), label="b")
    alpha = al.Value(0.2, label="alpha")
    h = al.dense(x, W, b)  # (2, 3)
    h2 = x @ W.T + b
    s = (h - h2 * 0.5) / 2.0 + (-h)
    a = (
        s.exp().log().sigmoid()
        + s.tanh()
        + s.relu()
        + s.leaky_relu(0.1)
        + s.prelu(alpha)
        + s.elu()
        + s.swish()
        + s.softplus()
        + s.abs().sqrt()
        + s.linear()
        + s.step()
    )
    p = al.Value(np.abs(rng.normal(size=3)) + 0.5, label="p")
    a = a + p**1.5 + 2.0**b
    r = a.reshape(3, 2).transpose().softmax(axis=-1) + a.log_softmax(axis=0)
    picked = r[0, [0, 2]]  # getitem -> index_scatter in backward
    t = picked.broadcast_to((2, 2)).sum_to((1, 2))
    ce = al.cross_entropy(a, [0, 2])
    return t.sum() + r.mean(axis=0).max() + ce + a.sum(axis=1).mean() + _vocabulary_graph(rng)


def _vocabulary_graph(rng: np.random.Generator) -> al.Value:
    """The ops of SPEC §7 (array_ops, image_ops, recurrent_ops), away from kinks and ties."""
    x = al.Value(rng.normal(size=(1, 2, 4, 4)), label="img")
    w = al.Value(rng.normal(size=(3, 2, 2, 2)) * 0.5, label="filters")
    c = al.conv2d(x, w, al.Value(np.zeros(3), label="bias"), padding=1)  # (1, 3, 5, 5)
    pooled = al.max_pool2d(c, 2) + al.avg_pool2d(c, 2, 1)[..., :2, :2]
    pooled = pooled + al.adaptive_avg_pool2d(c, 2) + al.max_pool2d(c, 2, 2, 1, 2)[..., :2, :2]
    pooled = pooled + al.max_unpool2d(c[..., :1, :1], np.full((1, 3, 1, 1), 3), 2)
    flat = al.dropout(pooled.reshape(3, 4), 0.25, rng=0)
    m = al.concatenate([flat, flat.sin().cos()], axis=0)  # (6, 4)
    parts = al.split(m, 2, axis=1)
    s = al.stack(parts, axis=0).clip(-5.0, 5.0)  # (2, 6, 2)
    s = al.pad(s, 1).squeeze() + al.expand_dims(s.var(axis=0) + s.std(axis=0), 0).sum()
    e = al.maximum(s, 0.05) + al.minimum(s, -0.05) + al.where(s.data > 0, s, 2.0 * s)
    seq = al.Value(rng.normal(size=(2, 3, 2)), label="sequence")

    def layer(op, state, gates):  # W_ih, W_hh, b_ih, b_hh of a layer 2 -> 2
        shapes = (2 * gates, 2), (2 * gates, 2), (2 * gates,), (2 * gates,)
        return op(seq, state, *(al.Value(rng.normal(size=s)) for s in shapes))

    h = layer(al.lstm, np.zeros((2, 2, 2)), 4)[:, 0] + layer(al.gru, np.zeros((2, 2)), 3)[:, 3]
    h = h + layer(al.rnn, np.ones((2, 2)), 1)[:, 1]  # rows h, n and a: (T, N, H)
    return e.min(axis=1).sum() + e.logsumexp() + h.sum()


# ops that only appear in graphs recorded by backward(create_graph=True)
BACKWARD_ONLY = {
    "index_scatter",
    "conv2d_grad_input",
    "conv2d_grad_weight",
    "window_scatter2d",
    "window_sum2d",
    "index_gather2d",
    "plane_matmul2d",
}


def test_builtin_table_passes(rng):
    out = _everything_graph(rng)
    report = audit(out)
    assert report.ok, str(report)
    checked_ops = {c.op for c in report.checks}
    builtin = {op.name for op in al.all_ops() if op.name not in BACKWARD_ONLY}
    assert builtin <= checked_ops, f"ops not audited: {sorted(builtin - checked_ops)}"
    # elementwise ops are checked twice (finite differences and SymPy)
    methods = {(c.op, c.method) for c in report.checks}
    assert ("sigmoid", "sympy") in methods and ("sigmoid", "finite differences") in methods
    assert ("matmul", "sympy") not in methods


def test_index_scatter_audited_under_create_graph():
    # index_scatter appears in graphs recorded by backward(create_graph=True)
    x = al.Value([1.0, 2.0, 3.0], label="x")
    y = (x[[0, 2]] ** 2).sum()
    y.backward(create_graph=True)
    report = audit(x.grad.sum() * 1.0)
    assert "index_scatter" in {c.op for c in report.checks}
    assert report.ok, str(report)


def test_image_gradient_ops_audited_under_create_graph(rng):
    x = al.Value(rng.normal(size=(1, 1, 4, 4)), label="x")
    w = al.Value(rng.normal(size=(2, 1, 2, 2)), label="w")
    y = (al.conv2d(x, w, stride=2) ** 2).sum() + (al.max_pool2d(x, 2) ** 2).sum()
    y = y + (al.avg_pool2d(x, 2, 1) ** 2).sum() + (al.adaptive_avg_pool2d(x, 3) ** 2).sum()
    y.backward(create_graph=True)
    second = (x.grad * x.grad).sum() + (w.grad * w.grad).sum()
    x.zero_grad()
    w.zero_grad()
    second.backward(create_graph=True)  # the gradient ops' own vjps, recorded again
    report = audit((x.grad**2).sum() + (w.grad**2).sum() + second)
    assert BACKWARD_ONLY - {"index_scatter"} <= {c.op for c in report.checks}
    assert report.ok, str(report)


def test_wrong_elementwise_vjp_named_exactly(wrong_ops):
    a = al.Value(1.5, label="a")
    b = al.Value(-0.5, label="b")
    prod = al.bad_mul(a, b)
    prod.label = "prod"
    out = (prod + a).tanh()
    report = audit(out)
    assert not report.ok
    ids = node_ids(out)
    failing = report.failures
    assert {c.input_index for c in failing} == {1}
    assert {c.node_id for c in failing} == {ids[id(prod)]}
    assert {c.method for c in failing} == {"finite differences", "sympy"}
    fd = next(c for c in failing if c.method == "finite differences")
    # the true local derivative times g is a*g; the vjp gave 2*a*g
    assert fd.actual == pytest.approx(2 * fd.expected, rel=1e-5)
    sym = next(c for c in failing if c.method == "sympy")
    assert sym.expected == pytest.approx(1.5) and sym.actual == pytest.approx(3.0)
    assert "prod" in fd.message and "input 1" in fd.message and "'b'" in fd.message
    assert report.failed_nodes() == [prod]
    # the other nodes (input 0 of bad_mul, add, tanh) pass
    assert all(c.ok for c in report.checks if c.node is not prod or c.input_index == 0)


def test_wrong_structural_vjp_caught_by_finite_differences(wrong_ops):
    v = al.Value([1.0, 2.0, 3.0], label="v")
    r = al.bad_reverse(v)
    out = (r * al.Value([1.0, 10.0, 100.0], requires_grad=False)).sum()
    report = audit(out)
    assert [(c.op, c.input_index, c.method) for c in report.failures] == [
        ("bad_reverse", 0, "finite differences")
    ]
    assert report.failures[0].where in {(0,), (2,)}


def test_audit_leaves_graph_untouched():
    x = al.Value([0.5, -1.0], label="x")
    y = (x * x).sigmoid().sum()
    y.backward()
    before = x.grad.copy()
    data = x.data.copy()
    report = audit(y)  # works after backward freed the graph
    assert report.ok
    np.testing.assert_array_equal(x.grad, before)
    np.testing.assert_array_equal(x.data, data)


def test_kinks_are_skipped_not_failed():
    z = al.Value([0.0, 1.0, -2.0], label="z")
    m = al.Value([3.0, 3.0, 1.0], label="m")
    out = z.relu().sum() + z.abs().sum() + m.max()
    report = audit(out)
    assert report.ok, str(report)
    relu_fd = next(c for c in report.checks if c.op == "relu" and c.method.startswith("finite"))
    assert relu_fd.skipped == 1 and relu_fd.checked == 2
    max_fd = next(c for c in report.checks if c.op == "max")
    assert max_fd.skipped == 2  # the tied maxima


def test_float32_graph_passes():
    x = al.Value(np.array([0.3, -0.7], dtype=np.float32), label="x")
    assert audit((x.tanh() * x).sum()).ok


def test_large_tensor_is_sampled():
    x = al.Value(np.linspace(-1, 1, 500), label="x")
    report = audit(x.sigmoid().sum(), max_elements=10, symbolic=False)
    c = next(c for c in report.checks if c.op == "sigmoid")
    assert c.checked == 10 and report.ok


def test_vjp_that_raises_or_has_wrong_shape_is_reported():
    register(Op("boom", lambda z: z * 1.0, (lambda g, out, z: 1 / 0 * g,)))
    register(Op("misshapen", lambda z: z.sum(), (lambda g, out, z: np.ones(7) * g,)))
    try:
        x = al.Value([1.0, 2.0], label="x")
        r1 = audit(al.boom(x).sum())
        assert "raised ZeroDivisionError" in r1.failures[0].message
        r2 = audit(al.misshapen(x))
        assert "shape" in r2.failures[0].message and not r2.ok
    finally:
        unregister("boom")
        unregister("misshapen")


def test_report_table_and_picture(tmp_path):
    with demo_wrong_op() as bad:
        z = al.Value(0.7, label="z")
        sq = bad(z)
        sq.label = "sq"
        out = sq.tanh()
        report = audit(out)
        text = str(report)
        assert "FAIL" in text and "sq" in text and text.splitlines()[0].startswith("node")
        dot = report.to_dot()
        # the failing node is painted red and shows expected vs actual
        line = next(ln for ln in dot.splitlines() if ln.startswith("  v") and "sq" in ln)
        assert "#dc2626" in line and "expected" in line and "vjp gives" in line
        assert report.node_style(out) is None
        path = report.render(tmp_path / "audit.dot")
        assert path.read_text() == dot
    assert "FAIL" not in str(audit(al.Value(1.0, label="q").exp()))


def test_sympy_partial():
    assert str(sympy_partial(get_op("div"), 1)) == "-a/b**2"
    assert str(sympy_partial(get_op("leaky_relu"), 0, {"alpha": 0.5})) == (
        "Piecewise((1, z >= 0), (1/2, True))"
    )
    with pytest.raises(IndexError, match="op 'tanh' has 1 inputs"):
        sympy_partial(get_op("tanh"), 1)


def test_audit_errors():
    with pytest.raises(TypeError, match="audit: expected a Value, got float"):
        audit(1.0)
    with pytest.raises(ValueError, match="does not require a gradient"):
        audit(al.Value(1.0, requires_grad=False) * 2)
    x = al.Value(1.0)
    with pytest.raises(ValueError, match="rtol must be"):
        audit(x * 2, rtol=-1)
    with pytest.raises(ValueError, match="eps must be"):
        audit(x * 2, eps=0)
    with pytest.raises(ValueError, match="max_elements must be"):
        audit(x * 2, max_elements=0)
    with pytest.raises(ValueError, match="'tanh' is already registered"), demo_wrong_op("tanh"):
        pass
    assert isinstance(audit(x * 2), AuditReport)
