"""Fuzzing: hypothesis builds random expression graphs from the op table.

* Scalar graphs are built twice, in parallel: once with autograd_lite and once as a
  SymPy expression written independently here (``SYMPY_UNARY``/``SYMPY_BINARY``, not
  read from the op table). Backward must match ``sympy.diff`` at the point.
* Tensor graphs (broadcasting, reductions, matmul, indexing, shared sub-expressions)
  are checked against central finite differences.

CI runs a bounded, derandomized number of examples (profile "ci" in conftest.py);
``make fuzz`` (``HYPOTHESIS_PROFILE=fuzz``) runs many more.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import ops as ops_module
from autograd_lite.registry import Op


def _sp() -> Any:
    import sympy

    return sympy


def _pw(z: Any, neg: Any) -> Any:
    sp = _sp()
    return sp.Piecewise((z, z >= 0), (neg, True))


# Independent SymPy versions of the scalar ops (the lecture's definitions).
SYMPY_UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda z: -z,
    "exp": lambda z: _sp().exp(z),
    "log": lambda z: _sp().log(z),
    "sqrt": lambda z: _sp().sqrt(z),
    "abs": lambda z: _sp().Abs(z),
    "linear": lambda z: z,
    "step": lambda z: _sp().Heaviside(z, 1),
    "sigmoid": lambda z: 1 / (1 + _sp().exp(-z)),
    "tanh": lambda z: _sp().tanh(z),
    "relu": lambda z: _pw(z, 0),
    "leaky_relu": lambda z: _pw(z, _sp().Rational(1, 100) * z),
    "elu": lambda z: _pw(z, _sp().exp(z) - 1),
    "swish": lambda z: z / (1 + _sp().exp(-z)),
    "softplus": lambda z: _sp().log(1 + _sp().exp(z)),
}
SYMPY_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "prelu": lambda z, a: _pw(z, a * z),
}
KINKED = {"abs": 0.0, "step": 0.0, "relu": 0.0, "leaky_relu": 0.0, "elu": 0.0, "prelu": 0.0}
# Structural ops: covered by the tensor fuzzer (or by test_ops.py for the internal ones).
STRUCTURAL = {
    "matmul",
    "dense",
    "cross_entropy",
    "softmax",
    "log_softmax",
    "sum",
    "mean",
    "max",
    "reshape",
    "transpose",
    "getitem",
    "index_scatter",
    "broadcast_to",
    "sum_to",
}


def test_every_builtin_op_is_known_to_the_fuzzer() -> None:
    builtin = {v.name for v in vars(ops_module).values() if isinstance(v, Op)}
    unknown = builtin - set(SYMPY_UNARY) - set(SYMPY_BINARY) - STRUCTURAL
    assert not unknown, f"ops missing from tests/test_fuzz.py: {sorted(unknown)}"


# ------------------------------------------------------------- scalar graphs


class ScalarBuilder:
    """Applies one instruction to both worlds: autograd_lite Values and SymPy."""

    def __init__(self, leaves: list[float], reject: Callable[[bool], Any] = assume) -> None:
        sp = _sp()
        self.assume = reject  # hypothesis' assume inside a property test
        self.symbols = [sp.Symbol(f"x{i}", real=True) for i in range(len(leaves))]
        self.values = [al.Value(v, label=f"x{i}") for i, v in enumerate(leaves)]
        self.nodes: list[tuple[al.Value, Any]] = list(zip(self.values, self.symbols))
        self.point = dict(zip(self.symbols, leaves))

    def positive(self, i: int) -> tuple[al.Value, Any]:
        """z² + 1/2: a strictly positive operand for log, sqrt, div and pow."""
        v, s = self.nodes[i]
        return v * v + 0.5, s * s + _sp().Rational(1, 2)

    def bounded(self, i: int) -> tuple[al.Value, Any]:
        v, s = self.nodes[i]
        return v.tanh(), _sp().tanh(s)

    def apply(self, kind: str, name: str, i: int, j: int, c: float) -> None:
        sp = _sp()
        (vi, si), (vj, sj) = self.nodes[i], self.nodes[j]
        if kind == "unary":
            if name in ("log", "sqrt"):
                vi, si = self.positive(i)
            elif name == "exp":
                vi, si = self.bounded(i)
            if name in KINKED:
                self.assume(abs(float(vi.data) - KINKED[name]) > 1e-6)
            out = (getattr(vi, name)(), SYMPY_UNARY[name](si))
        elif kind == "binary":
            if name == "div":
                vj, sj = self.positive(j)
            elif name == "pow":
                vi, si = self.positive(i)
                vj, sj = self.bounded(j)
            if name == "prelu":
                self.assume(abs(float(vi.data)) > 1e-6)
                out = (vi.prelu(vj), SYMPY_BINARY[name](si, sj))
            else:
                out = (getattr(ops_module, name)(vi, vj), SYMPY_BINARY[name](si, sj))
        else:  # a Python number mixed in, on either side
            cs = sp.Float(c)
            out = {
                "radd": (c + vi, cs + si),
                "rmul": (c * vi, cs * si),
                "rsub": (c - vi, cs - si),
                "mulc": (vi * c, si * cs),
            }[name]
        self.assume(math.isfinite(float(out[0].data)) and abs(float(out[0].data)) < 1e6)
        self.nodes.append(out)


UNARY = sorted(SYMPY_UNARY)
BINARY = sorted(SYMPY_BINARY)
CONST = ["radd", "rmul", "rsub", "mulc"]


@st.composite
def scalar_programs(draw: st.DrawFn) -> tuple[list[float], list[tuple]]:
    n_leaves = draw(st.integers(1, 3))
    leaves = draw(
        st.lists(
            st.floats(-2, 2, allow_nan=False).map(lambda v: round(v, 3)),
            min_size=n_leaves,
            max_size=n_leaves,
        )
    )
    n_ops = draw(st.integers(1, 7))
    program = []
    for k in range(n_ops):
        size = n_leaves + k
        kind = draw(st.sampled_from(["unary", "binary", "const"]))
        name = draw(st.sampled_from({"unary": UNARY, "binary": BINARY, "const": CONST}[kind]))
        i = draw(st.integers(0, size - 1))
        j = draw(st.integers(0, size - 1))  # may equal i: shared sub-expressions
        c = draw(st.sampled_from([-1.5, 0.5, 2.0, 3.0]))
        program.append((kind, name, i, j, c))
    return leaves, program


@given(scalar_programs(), st.integers(1, 3))
def test_scalar_graphs_match_sympy_diff(data: tuple, n_outputs: int) -> None:
    sp = _sp()
    leaves, program = data
    b = ScalarBuilder(leaves)
    for instr in program:
        b.apply(*instr)
    # the output sums the last few nodes, so earlier nodes are shared by several paths
    tail = b.nodes[-n_outputs:]
    out_v = tail[0][0]
    out_s = tail[0][1]
    for v, s in tail[1:]:
        out_v = out_v + v
        out_s = out_s + s
    if not out_v.requires_grad:  # e.g. only steps of constants: nothing to check
        return
    out_v.backward()
    for leaf, sym in zip(b.values, b.symbols):
        expected = sp.diff(out_s, sym).subs(b.point).evalf()
        assume(expected.is_real and expected.is_finite)  # e.g. DiracDelta left unevaluated
        got = leaf.grad
        assert math.isfinite(got)
        assert got == pytest.approx(float(expected), rel=1e-7, abs=1e-9), (program, sym)


# ------------------------------------------------------------- tensor graphs

SHAPES = [(3, 4), (4,), (3, 1), (), (2, 3, 4)]
TENSOR_UNARY = ["tanh", "sigmoid", "softplus", "swish", "exp_t", "log_p", "sqrt_p", "neg"]
TENSOR_BINARY = ["add", "sub", "mul", "div_p", "matmul", "prelu"]
TENSOR_REDUCE = ["sum", "mean", "max", "softmax", "log_softmax", "reshape", "T", "getitem"]


def _t_unary(name: str, v: al.Value) -> al.Value:
    if name == "exp_t":
        return v.tanh().exp()
    if name == "log_p":
        return (v * v + 0.5).log()
    if name == "sqrt_p":
        return (v * v + 0.5).sqrt()
    return getattr(v, name)()


def _t_binary(name: str, a: al.Value, b: al.Value) -> al.Value | None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        if name != "matmul":
            return None
    if name == "div_p":
        return a / (b * b + 0.5)
    if name == "matmul":
        if a.ndim == 0 or b.ndim == 0:
            return None
        try:
            np.matmul(np.zeros(a.shape), np.zeros(b.shape))  # does the shape pair fit?
        except ValueError:
            return None
        return a @ b
    if name == "prelu":
        if np.broadcast_shapes(a.shape, b.shape) != a.shape:
            return None
        return a.prelu(b)
    return getattr(ops_module, name)(a, b)


def _t_reduce(name: str, v: al.Value, axis_pick: int, keep: bool) -> al.Value | None:
    if v.ndim == 0:
        return None if name != "sum" else v.sum()
    axis = axis_pick % v.ndim - v.ndim if axis_pick % 2 else axis_pick % v.ndim
    if name in ("sum", "mean", "max"):
        return getattr(v, name)(axis=axis, keepdims=keep)
    if name in ("softmax", "log_softmax"):
        return getattr(v, name)(axis=axis)
    if name == "reshape":
        return v.reshape(-1) if keep else v.reshape(1, *v.shape)
    if name == "T":
        return v.T
    idx = [i % v.shape[0] for i in (axis_pick, 0, axis_pick + 1, axis_pick)]
    return v[idx] if keep else v[axis_pick % v.shape[0]]


@st.composite
def tensor_programs(draw: st.DrawFn) -> tuple[list[tuple], list[tuple], int]:
    n_leaves = draw(st.integers(1, 3))
    shapes = [draw(st.sampled_from(SHAPES)) for _ in range(n_leaves)]
    seeds = [draw(st.integers(0, 10_000)) for _ in range(n_leaves)]
    program = []
    for k in range(draw(st.integers(1, 6))):
        size = n_leaves + k
        kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
        names = {"unary": TENSOR_UNARY, "binary": TENSOR_BINARY, "reduce": TENSOR_REDUCE}
        program.append(
            (
                kind,
                draw(st.sampled_from(names[kind])),
                draw(st.integers(0, size - 1)),
                draw(st.integers(0, size - 1)),
                draw(st.integers(0, 5)),
                draw(st.booleans()),
            )
        )
    return list(zip(shapes, seeds)), program, draw(st.integers(1, 3))


def _run_tensor(program: list[tuple], leaves: list[al.Value], n_out: int) -> al.Value:
    nodes = list(leaves)
    for kind, name, i, j, pick, keep in program:
        a, b = nodes[i], nodes[j]
        if kind == "unary":
            out = _t_unary(name, a)
        elif kind == "binary":
            out = _t_binary(name, a, b)
        else:
            out = _t_reduce(name, a, pick, keep)
        nodes.append(a if out is None else out)  # an op that does not fit: reuse a
    total = nodes[-1].sum()
    for v in nodes[-n_out:-1]:
        total = total + (v * v).sum() * 0.5
    return total


def _min_gap(program: list[tuple], leaves: list[al.Value]) -> float:
    """Smallest distance between candidates of a max / prelu kink (ties make FD meaningless)."""
    gap = math.inf
    with al.no_grad():
        nodes = list(leaves)
        for kind, name, i, j, pick, keep in program:
            a = nodes[i]
            if kind == "reduce" and name == "max" and a.ndim:
                d = np.sort(np.asarray(a.data).reshape(-1))
                if d.size > 1:
                    gap = min(gap, float(np.min(np.diff(d))))
            if kind == "binary" and name == "prelu" and a.size:
                gap = min(gap, float(np.min(np.abs(a.data))))
            out = None
            if kind == "unary":
                out = _t_unary(name, a)
            elif kind == "binary":
                out = _t_binary(name, a, nodes[j])
            else:
                out = _t_reduce(name, a, pick, keep)
            nodes.append(a if out is None else out)
    return gap


@given(tensor_programs())
def test_tensor_graphs_match_finite_differences(data: tuple) -> None:
    specs, program, n_out = data
    leaves = [
        al.Value(np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape), label=f"x{k}")
        for k, (shape, seed) in enumerate(specs)
    ]
    assume(_min_gap(program, leaves) > 1e-3)
    out = _run_tensor(program, leaves, n_out)
    assume(np.isfinite(out.data) and abs(out.data) < 1e6)
    assert al.gradcheck(lambda *vs: _run_tensor(program, list(vs), n_out), *leaves)


def test_fuzzer_detects_a_wrong_vjp() -> None:
    """The fuzz oracle is not vacuous: a tanh with a wrong vjp is caught."""
    from autograd_lite.registry import get_op, register

    good = get_op("tanh")
    bad = Op(
        "tanh",
        good.forward,
        (lambda g, out, z: g * (1 - out),),  # wrong: should be 1 - out²
        formula=good.formula,
        keeps_inputs=good.keeps_inputs,
        scalar=good.scalar,
    )
    register(bad, replace=True)
    try:
        x = al.Value(np.array([0.3, -0.7]))
        with pytest.raises(al.GradcheckError):
            al.gradcheck(lambda v: _run_tensor([("unary", "tanh", 0, 0, 0, False)], [v], 1), x)
    finally:
        register(good, replace=True)
    assert al.gradcheck(lambda v: _run_tensor([("unary", "tanh", 0, 0, 0, False)], [v], 1), x)


def test_sympy_oracle_detects_a_wrong_scalar_vjp() -> None:
    from autograd_lite.registry import get_op, register

    sp = _sp()
    good = get_op("sigmoid")
    bad = Op(
        "sigmoid",
        good.forward,
        (lambda g, out, z: g * out,),  # wrong: should be out·(1 - out)
        formula=good.formula,
        keeps_inputs=good.keeps_inputs,
        scalar=good.scalar,
    )
    register(bad, replace=True)
    try:
        b = ScalarBuilder([0.3], reject=lambda ok: None)
        b.apply("unary", "sigmoid", 0, 0, 0.0)
        v, s = b.nodes[-1]
        v.backward()
        expected = float(sp.diff(s, b.symbols[0]).subs(b.point))
        assert b.values[0].grad != pytest.approx(expected, rel=1e-7)
    finally:
        register(good, replace=True)


def test_ci_profile_is_bounded_and_seeded_and_fuzz_profile_is_longer() -> None:
    from hypothesis import settings

    ci, fuzz = settings.get_profile("ci"), settings.get_profile("fuzz")
    assert ci.derandomize and ci.max_examples <= 200
    assert fuzz.max_examples >= 10 * ci.max_examples
