"""Higher-order derivatives: ``backward(create_graph=True)`` through every op of the table.

Ground truths: finite differences of gradients (for Hessians of whole functions),
SymPy's ``diff`` of expressions built here from SymPy objects (second and third
derivatives of the elementwise ops), and closed forms.
"""

from __future__ import annotations

import importlib.util
import re

import numpy as np
import pytest
from support import ROOT, load_example, python_blocks, run_python

import autograd_lite as al
from autograd_lite import ops as ops_module
from autograd_lite.graph import topological_order
from autograd_lite.registry import Op, get_op


def fd_hessian(f, x, eps=1e-5):
    """Central differences of the gradient (from al.grad): row k = d grad / d x_k."""
    x = np.array(x, dtype=np.float64)
    g = al.grad(f)
    H = np.zeros((x.size, x.size))
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        up = np.reshape(g((x.reshape(-1) + e).reshape(x.shape)), -1)
        down = np.reshape(g((x.reshape(-1) - e).reshape(x.shape)), -1)
        H[k] = (up - down) / (2 * eps)
    return H


def second_derivative_elementwise(fn, points):
    """Diagonal second derivative of an elementwise fn by two backward passes (no helpers)."""
    z = al.Value(points)
    fn(z).sum().backward(create_graph=True)
    g = z.grad
    assert isinstance(g, al.Value)
    if not g.requires_grad:  # a constant first derivative: the second one is zero
        return np.zeros_like(points)
    z.zero_grad()
    g.sum().backward()
    return np.asarray(z.grad)


# ------------------------------------------------- create_graph mechanics


def test_create_graph_makes_grad_a_differentiable_value():
    x = al.Value(0.4, label="x")
    y = x.tanh() * x
    y.backward(create_graph=True)
    g = x.grad
    assert isinstance(g, al.Value) and g.requires_grad
    t = np.tanh(0.4)
    assert g.data == pytest.approx(t + 0.4 * (1 - t * t), rel=1e-14)
    # nodes of the recorded backward pass know which forward node they differentiate
    recorded = [n for n in topological_order(g) if n.grad_of is not None]
    assert recorded and all(n.grad_of.op in ("mul", "tanh") for n in recorded)
    assert all(n.grad_of is None for n in topological_order(y))
    x.zero_grad()
    g.backward()
    # d²/dx² (x tanh x) = 2 sech² x − 2 x tanh x sech² x
    assert x.grad == pytest.approx(2 * (1 - t * t) * (1 - 0.4 * t), rel=1e-12)


def test_plain_backward_still_gives_numbers():
    x = al.Value([0.5, -1.0])
    x.tanh().sum().backward()
    assert type(x.grad) is np.ndarray


def test_create_graph_keeps_the_graph_for_another_backward():
    x = al.Value(2.0)
    y = x**3
    y.backward(create_graph=True)
    first = x.grad
    x.zero_grad()
    y.backward()  # the forward graph was retained
    assert x.grad == 12.0 and first.data == 12.0


def test_third_and_fourth_derivative_of_tanh_match_sympy():
    import sympy as sp

    z = sp.Symbol("z")
    expr = sp.tanh(z)
    for point in (-1.3, 0.0, 0.4, 2.1):
        x = al.Value(point, label="x")
        x.tanh().backward(create_graph=True)
        engine = []
        for order in (1, 2, 3):
            g = x.grad
            engine.append(g.data)
            x.zero_grad()
            g.backward(create_graph=order < 3)
        engine.append(x.grad)
        for order, got in enumerate(engine, start=1):
            want = float(sp.diff(expr, z, order).subs(z, point))
            assert got == pytest.approx(want, rel=1e-12, abs=1e-14), (point, order)


def test_third_derivative_of_tanh_on_arrays_matches_sympy():
    import sympy as sp

    z = sp.Symbol("z")
    third = sp.lambdify(z, sp.diff(sp.tanh(z), z, 3), "numpy")
    points = np.linspace(-2.5, 2.5, 11)
    x = al.Value(points)
    x.tanh().sum().backward(create_graph=True)
    g1 = x.grad
    x.zero_grad()
    g1.sum().backward(create_graph=True)
    g2 = x.grad
    x.zero_grad()
    g2.sum().backward()
    np.testing.assert_allclose(x.grad, third(points), rtol=1e-12, atol=1e-14)


def test_gradient_penalty_matches_finite_differences():
    """Differentiate a loss that contains a gradient (as in WGAN-GP / double backprop)."""

    def penalised(w):
        x = al.Value([0.3, -0.8, 1.1], requires_grad=True)
        inner = (x * w).tanh().sum() + (w * w * x).sum()
        inner.backward(create_graph=True)
        return inner + (x.grad * x.grad).sum()

    w = np.array([0.7, -0.2, 0.5])
    g = al.grad(penalised)(w)
    h = 1e-6
    numeric = []
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        up = penalised(al.Value(w + e)).data
        down = penalised(al.Value(w - e)).data
        numeric.append((up - down) / (2 * h))
    np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)


# ---------------------------------------- every op, Hessians vs finite differences

_RNG = np.random.default_rng(7)
_W = _RNG.standard_normal((3, 4))
_B = _RNG.standard_normal((2, 3, 4))
_C = _RNG.standard_normal(6)
_X2 = _RNG.standard_normal((5, 2))
_X3 = _RNG.standard_normal((2, 3, 2))
_LABELS = np.array([0, 2, 1, 2, 0])


def _const(a):
    return al.Value(a, requires_grad=False)


# Each case is a scalar function of a 6-vector that runs an op (or several).
CASES = {
    "add": lambda x: ((x + x[::-1]) ** 2).sum(),
    "sub": lambda x: ((x - 2 * x[::-1]) ** 3).sum(),
    "mul": lambda x: (x * x[::-1] * x).sum(),
    "div": lambda x: (x / (x[::-1] + 3.0)).sum() + (1.0 / (x * x + 1)).sum(),
    "pow": lambda x: (x**3).sum() + ((x * x + 1) ** x[::-1]).sum() + (2.0 ** x[0]),
    "neg": lambda x: (-(x**3)).sum(),
    "exp": lambda x: (x.exp() * x).sum(),
    "log": lambda x: ((x * x + 1).log() * x).sum(),
    "sqrt": lambda x: ((x * x + 1).sqrt() * x).sum(),
    "abs": lambda x: (x.abs() * x * x).sum(),
    "linear": lambda x: (x.linear() ** 3).sum(),
    "step": lambda x: (x.step() * x * x).sum(),
    "sigmoid": lambda x: (x.sigmoid() * x).sum(),
    "tanh": lambda x: (x.tanh() ** 2).sum(),
    "relu": lambda x: (x.relu() ** 3).sum(),
    "leaky_relu": lambda x: (x.leaky_relu(0.2) ** 3).sum(),
    "elu": lambda x: (x.elu(0.7) * x).sum(),
    "swish": lambda x: (x.swish() * x).sum(),
    "softplus": lambda x: (x.softplus() * x).sum(),
    "prelu": lambda x: (x[:3].prelu(x[3:]) ** 2).sum(),
    "softmax": lambda x: (
        (x.reshape(2, 3).softmax(axis=1) * _C.reshape(2, 3)).sum()
        + (x.reshape(2, 3).softmax(axis=0) ** 2).sum()
    ),
    "log_softmax": lambda x: (
        (x.reshape(2, 3).log_softmax() * _C.reshape(2, 3)).sum()
        + (x.reshape(3, 2).log_softmax(axis=0) ** 2).sum()
    ),
    "sum": lambda x: (
        (x.reshape(2, 3).sum(axis=0) ** 3).sum()
        + x.sum() ** 2
        + (x.reshape(2, 3).sum(axis=1, keepdims=True) ** 2).sum()
    ),
    "mean": lambda x: (x.reshape(2, 3).mean(axis=1) ** 3).sum() + x.mean() ** 2,
    "max": lambda x: (x.reshape(2, 3).max(axis=1) ** 3).sum() + x.max() ** 2,
    "reshape": lambda x: (x.reshape(3, 2) ** 3).sum(),
    "transpose": lambda x: (
        ((x.reshape(2, 3).T @ x.reshape(2, 3)) ** 2).sum()
        + (x.reshape(1, 2, 3).transpose(2, 0, 1) ** 3 * _C.reshape(3, 1, 2)).sum()
    ),
    "getitem": lambda x: (
        (x[[0, 0, 2]] ** 3).sum() + (x[1:4] * x[2:5]).sum() + (x.reshape(2, 3)[:, 1] ** 3).sum()
    ),
    "index_scatter": lambda x: (
        get_op("index_scatter")(x[:3], [0, 2, 0], (4,), np.float64) ** 3
    ).sum(),
    "broadcast_to": lambda x: (
        ((x.reshape(2, 3) * x[:3]) ** 2).sum()
        + (x[:2].reshape(2, 1).broadcast_to((2, 3)) ** 3).sum()
    ),
    "sum_to": lambda x: (x.reshape(2, 3).sum_to((1, 3)) ** 3).sum(),
    "matmul_2d": lambda x: (
        ((_W @ x[:4].reshape(4, 1)) ** 3).sum() + ((x.reshape(2, 3) @ x.reshape(3, 2)) ** 2).sum()
    ),
    "matmul_1d": lambda x: (
        (x[:4] @ x[2:]) ** 2 + ((_W @ x[:4]) ** 3).sum() + ((x[:3] @ _W) ** 2).sum()
    ),
    "matmul_batched": lambda x: (
        ((_B @ x[:4]) ** 3).sum()
        + ((x[:3] @ _B) ** 2).sum()
        + ((x.reshape(1, 2, 3) @ _B[:, :3, :]) ** 2).sum()
        + ((_const(_B[:, :3, :2]) @ x.reshape(1, 2, 3)) ** 2).sum()
    ),
    "dense": lambda x: (
        (al.dense(_const(_X2), x.reshape(3, 2), x[:3]) ** 3).sum()
        + (al.dense(x[:2], x.reshape(3, 2), 0.5) ** 3).sum()
        + al.dense(_const(_X3), x.reshape(3, 2), x[3:]).tanh().sum()
    ),
    "cross_entropy": lambda x: (
        al.cross_entropy(al.dense(_const(_X2), x.reshape(3, 2), 0.0), _LABELS)
        + al.cross_entropy(_const(_X2) @ x.reshape(2, 3), _LABELS, reduction="sum")
        + (al.cross_entropy(_const(_X2) @ x.reshape(2, 3), _LABELS, reduction="none") ** 2).sum()
    ),
    "scalar_chain": lambda x: (
        (x[0] * x[1]).tanh() * x[2].exp() + x[4] ** x[3] + (x[2] * x[5]) / (x[1] - 3.0)
    ),
}

# A point away from every kink (no zeros, no ties), negative and positive entries.
X0 = np.array([0.83, -0.61, 1.27, -0.34, 0.52, 1.05])


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_through_op_matches_finite_differences(name):
    f = CASES[name]
    H = al.hessian(f)(X0)
    numeric = fd_hessian(f, X0)
    scale = 1 + np.abs(numeric).max()
    np.testing.assert_allclose(H, numeric, atol=2e-6 * scale)
    np.testing.assert_allclose(H, H.T, atol=1e-12 * scale)


def test_hessian_cases_cover_every_op_of_the_table():
    """A new op in ops.py fails here until it gets a double-backward case above."""
    builtin = {obj.name for obj in vars(ops_module).values() if isinstance(obj, Op)}
    used = set()
    for f in CASES.values():
        out = f(al.Value(X0))
        used |= {node.op for node in topological_order(out) if node.op}
    assert builtin - used == set()


def test_double_backward_of_a_mlp_loss_records_only_table_ops():
    w = al.Value(np.linspace(-1, 1, 6).reshape(3, 2))
    loss = (al.dense(_const(_X2), w, 0.1).tanh() ** 2).mean()
    loss.backward(create_graph=True)
    recorded = {n.op for n in topological_order(w.grad) if n.grad_of is not None}
    assert recorded and all(al.get_op(name) for name in recorded)


# ---------------------------------------------- SymPy: second derivatives of every op


def _sympy_exprs():
    """The elementwise ops as SymPy objects, written here independently of ops.py."""
    import sympy as sp

    z, a, b = sp.symbols("z a b", real=True)
    sig = 1 / (1 + sp.exp(-z))
    unary = {
        "neg": -z,
        "exp": sp.exp(z),
        "log": sp.log(z),
        "sqrt": sp.sqrt(z),
        "abs": sp.Abs(z),
        "linear": z,
        "step": sp.Heaviside(z, 1),
        "sigmoid": sig,
        "tanh": sp.tanh(z),
        "relu": sp.Piecewise((z, z >= 0), (0, True)),
        "leaky_relu": sp.Piecewise((z, z >= 0), (sp.Rational(1, 5) * z, True)),
        "elu": sp.Piecewise((z, z >= 0), (sp.Rational(7, 10) * (sp.exp(z) - 1), True)),
        "swish": z * sig,
        "softplus": sp.log(1 + sp.exp(z)),
    }
    params = {"leaky_relu": {"alpha": 0.2}, "elu": {"alpha": 0.7}}
    binary = {
        "add": a + b,
        "sub": a - b,
        "mul": a * b,
        "div": a / b,
        "pow": a**b,
        "prelu": sp.Piecewise((a, a >= 0), (b * a, True)),
    }
    return z, (a, b), unary, params, binary


def _points(op):
    lo, hi = op.domain
    pts = np.linspace(lo, hi, 9)[1:-1] + 0.013  # inside the domain, off the kinks
    return pts[~np.isin(np.round(pts, 6), op.kinks)]


def test_sympy_expressions_cover_every_builtin_elementwise_op():
    _, _, unary, _, binary = _sympy_exprs()
    builtin = {
        obj.name for obj in vars(ops_module).values() if isinstance(obj, Op) and obj.elementwise
    }
    assert builtin == set(unary) | set(binary)


@pytest.mark.parametrize(
    "name",
    [
        "neg", "exp", "log", "sqrt", "abs", "linear", "step", "sigmoid", "tanh",
        "relu", "leaky_relu", "elu", "swish", "softplus",
    ],
)  # fmt: skip
def test_second_derivative_of_unary_op_matches_sympy(name):
    import sympy as sp

    z, _, unary, params, _ = _sympy_exprs()
    op = get_op(name)
    second = sp.diff(unary[name], z, 2)
    pts = _points(op)
    want = np.array([float(second.subs(z, p)) for p in pts])
    kw = params.get(name, {})
    # arrays (numpy forward) and Python floats (the scalar fast path)
    got_array = second_derivative_elementwise(lambda v: op(v, **kw), pts)
    np.testing.assert_allclose(got_array, want, rtol=1e-10, atol=1e-12)
    for p, w in zip(pts, want):
        assert al.hessian(lambda v: op(v, **kw))(float(p)) == pytest.approx(w, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "prelu"])
def test_hessian_of_binary_op_matches_sympy(name):
    import sympy as sp

    _, (a, b), _, _, binary = _sympy_exprs()
    expr = binary[name]
    H_sym = sp.hessian(expr, (a, b))
    op = get_op(name)
    lo, hi = op.domain
    rng = np.random.default_rng(3)
    for _ in range(4):
        av, bv = rng.uniform(lo, hi, 2)
        if name == "prelu":
            av = -abs(av)  # the alpha branch, where the mixed partial is non-zero
        blocks = al.hessian(lambda x, y: op(x, y), argnums=(0, 1))(av, bv)
        want = np.array(H_sym.subs({a: av, b: bv}).evalf(), dtype=float)
        np.testing.assert_allclose(np.array(blocks, dtype=float), want, rtol=1e-10, atol=1e-12)


def test_symbolic_check_all_order_two_is_green():
    from autograd_lite import symbolic

    results = symbolic.check_all(order=2)
    names = {r.name for r in results}
    assert {"tanh", "sigmoid", "softplus", "swish", "elu", "pow", "div"} <= names
    bad = [r.message for r in results if not r.ok]
    assert not bad, "\n".join(bad)
    assert all(r.order == 2 for r in results)


def test_symbolic_check_order_three_for_tanh():
    from autograd_lite import symbolic

    result = symbolic.check("tanh", order=3)
    assert result.ok, result.message
    assert result.max_error < 1e-12


# ---------------------------------------------------------------- Graphviz


def test_dot_of_double_backward_graph_separates_forward_and_backward_nodes():
    x = al.Value(0.5, label="x")
    y = (x * x).tanh()
    y.label = "y"
    y.backward(create_graph=True)
    dot = al.viz.to_dot(x.grad)
    match = re.search(r"subgraph cluster_backward \{(.*?)\n  \}", dot, flags=re.DOTALL)
    assert match, dot
    inside, outside = match.group(1), dot.replace(match.group(0), "")
    # the forward ops (tanh, and the × that squares x) are drawn outside the box ...
    assert 'label="tanh"' in outside and 'label="tanh"' not in inside
    assert 'label="x | data 0.5' in outside and 'label="y |' in outside
    # ... and exactly the recorded backward ops are inside it, in another colour
    recorded = [n for n in topological_order(x.grad) if n.grad_of is not None]
    op_nodes_inside = re.findall(
        r"^\s*op\d+ \[label=\"[^\"]*\", shape=ellipse, ([^\]]*)\]", inside, flags=re.MULTILINE
    )
    assert len(op_nodes_inside) == len(recorded)
    forward_op_styles = re.findall(
        r"^\s*op\d+ \[label=\"[^\"]*\", shape=ellipse, ([^\]]*)\]", outside, flags=re.MULTILINE
    )
    assert forward_op_styles
    assert set(op_nodes_inside).isdisjoint(forward_op_styles)  # drawn differently


# ------------------------------------------------------------ Newton example


def test_newton_example_converges_in_far_fewer_steps(tmp_path, capsys):
    example = load_example("newton_logistic")
    out = tmp_path / "curvature.png"
    result = example.main(n_samples=80, grid=6, out=out, tol=1e-7, max_iter=5000)
    newton, gd = result["newton"], result["gd"]
    assert newton["iterations"] is not None and newton["iterations"] <= 8
    assert gd["iterations"] is not None
    assert gd["iterations"] >= 10 * newton["iterations"]
    # both reach the same minimum, where the hand-written numpy gradient vanishes
    X, t = result["X"], result["t"]
    assert np.linalg.norm(example.numpy_gradient(newton["w"], X, t)) < 1e-7
    np.testing.assert_allclose(gd["w"], newton["w"], atol=1e-4)
    # the Hessian at the minimum is positive definite (a real minimum)
    assert result["eigenvalues"].min() > 0
    assert out.read_bytes().startswith(b"\x89PNG")
    text = capsys.readouterr().out
    assert f"{newton['iterations']} iterations" in text and "gradient descent" in text


def test_newton_example_hessian_matches_closed_form():
    example = load_example("newton_logistic")
    X, t = example.make_data(50, seed=1)
    w = np.array([0.4, -0.3])
    H = al.hessian(example.loss)(w, X, t)
    s = 1 / (1 + np.exp(-X @ w))
    closed = (X.T * (s * (1 - s))) @ X / len(t) + example.L2 * np.eye(2)  # Xᵀ S X / n + λI
    np.testing.assert_allclose(H, closed, rtol=1e-10)


# ---------------------------------------------------------------- benchmark


def test_hessian_benchmark_runs_small_and_agrees_with_finite_differences():
    path = ROOT / "benchmarks" / "bench_hessian.py"
    spec = importlib.util.spec_from_file_location("bench_hessian", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.n_params() == 99
    result = bench.main(samples=8, repeat=1, verbose=False)
    assert result["params"] == 99
    assert result["rel_diff"] < 1e-6
    assert result["asym_ours"] < 1e-12
    assert result["hvp_err"] < 1e-10
    assert result["third_rel_diff"] < 1e-6 and result["third_asym"] < 1e-12


# --------------------------------------------------------------------- docs


def test_docs_page_snippets_run(tmp_path):
    blocks = python_blocks(ROOT / "docs" / "higher_order.md")
    assert len(blocks) >= 6
    script = tmp_path / "page.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    # timeout: a guard against a hang: ~45 s alone, several times that on a loaded machine
    proc = run_python(script, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Newton: 4 steps" in proc.stdout
