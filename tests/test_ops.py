"""Every op in the table, every broadcasting pattern: backward vs central finite differences.

The op list comes from ``registry.all_ops()`` at collection time, so a new op is
covered automatically: elementwise ops (those with a formula) get generic samplers
from their ``domain``/``kinks``; structural ops need an entry in ``SAMPLERS`` below,
and an op without one FAILS (it is never silently skipped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.gradcheck import numeric_grad
from autograd_lite.registry import Op, all_ops, get_op


@dataclass
class Case:
    """One gradient check: ``fn(*inputs)`` where inputs are Values (some may be constants)."""

    name: str
    fn: Callable[..., al.Value]
    inputs: list  # of numpy arrays / floats; each becomes a Value
    const: tuple[int, ...] = ()  # positions that are requires_grad=False Values
    f32: bool = True  # False when fn closes over float64 arrays (those promote, as in numpy)

    def values(self, dtype: type = np.float64) -> list[al.Value]:
        out = []
        for i, x in enumerate(self.inputs):
            data = np.asarray(x, dtype=dtype) if isinstance(x, np.ndarray) else x
            out.append(al.Value(data, label=f"in{i}", requires_grad=i not in self.const))
        return out


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)) + 7)


def _sample(op: Op, rng: np.random.Generator, shape: tuple) -> np.ndarray | float:
    """Points in the op's domain, at least 0.05 away from its kinks."""
    lo, hi = op.domain
    x = rng.uniform(lo, hi, size=shape)
    for k in op.kinks:
        near = np.abs(x - k) < 0.05
        x = np.where(near, np.where(x >= k, k + 0.1, k - 0.1), x)
    x = np.clip(x, lo, hi)
    return float(x) if shape == () else x


def _param_variants(op: Op) -> list[dict]:
    variants = [{}]
    if "alpha" in op.params:
        variants.append({"alpha": 0.3})
    if "lo" in op.params:  # clip
        variants.append({"lo": -0.6, "hi": 0.9})
    return variants


def _elementwise_cases(op: Op) -> list[Case]:
    rng = _rng(op.name)
    cases: list[Case] = []
    for params in _param_variants(op):
        tag = f"{params}" if params else ""

        def f(*vs: al.Value, _p: dict = params) -> al.Value:
            return op(*vs, **_p)

        if op.arity == 1:
            cases += [
                Case(f"scalar float{tag}", f, [_sample(op, rng, ())]),
                Case(f"1-D{tag}", f, [_sample(op, rng, (5,))]),
                Case(f"(3,4){tag}", f, [_sample(op, rng, (3, 4))]),
                Case(f"(2,3,2){tag}", f, [_sample(op, rng, (2, 3, 2))]),
            ]
        elif op.arity == 2:
            s = lambda *shape: _sample(op, rng, shape)
            cases += [
                Case(f"scalar×scalar{tag}", f, [s(), s()]),
                Case(f"scalar×tensor{tag}", f, [s(), s(3, 4)]),
                Case(f"tensor×scalar{tag}", f, [s(3, 4), s()]),
                Case(f"same shape{tag}", f, [s(3, 4), s(3, 4)]),
                Case(f"(3,1)×(1,4){tag}", f, [s(3, 1), s(1, 4)]),
                Case(f"(1,4)×(3,1){tag}", f, [s(1, 4), s(3, 1)]),
                Case(f"(4,)×(2,3,4){tag}", f, [s(4), s(2, 3, 4)]),
                Case(f"(2,3,4)×(4,){tag}", f, [s(2, 3, 4), s(4)]),
                Case(f"(2,1,4)×(3,1){tag}", f, [s(2, 1, 4), s(3, 1)]),
                Case(f"0-d array×(3,){tag}", f, [np.asarray(s()), s(3)]),
                Case(f"constant Value left{tag}", f, [s(3, 1), s(1, 4)], const=(0,)),
                Case(f"constant Value right{tag}", f, [s(2, 3, 4), s(4)], const=(1,)),
            ]
            # Python numbers and numpy arrays mixed in, on either side.
            num_a, num_b = s(), s()
            arr_a, arr_b = s(4), s(3, 4)
            cases += [
                Case(
                    f"number left{tag}", lambda v, _a=num_a, _p=params: op(_a, v, **_p), [s(3, 4)]
                ),
                Case(
                    f"number right{tag}", lambda v, _b=num_b, _p=params: op(v, _b, **_p), [s(3, 4)]
                ),
                Case(
                    f"ndarray left{tag}",
                    f32=False,
                    fn=lambda v, _a=arr_a, _p=params: op(_a, v, **_p),
                    inputs=[s(3, 4)],
                ),
                Case(
                    f"ndarray right{tag}",
                    f32=False,
                    fn=lambda v, _b=arr_b, _p=params: op(v, _b, **_p),
                    inputs=[s(4)],
                ),
                Case(
                    f"number left, scalar{tag}",
                    lambda v, _a=num_a, _p=params: op(_a, v, **_p),
                    [s()],
                ),
            ]
        else:
            cases.append(Case(f"same shape{tag}", f, [_sample(op, rng, (3, 2))] * op.arity))
    return cases


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + len(shape) * 31 + int(np.prod(shape))).standard_normal(
        shape
    )


def _distinct(*shape: int, seed: int = 0) -> np.ndarray:
    """Values with no ties (so max's gradient is well defined)."""
    n = int(np.prod(shape))
    perm = np.random.default_rng(seed).permutation(n)
    return (perm * 0.37 - n * 0.15).reshape(shape)


_MASK = np.array([[True, False, True, True], [False, False, True, False], [True] * 4])

_COND = np.array([[True, False, True, False], [False, False, True, True], [True] * 4])
_IMG = (2, 3, 5, 4)  # N, C, H, W
# flat indices into 3×3 planes for (2, 2, 2, 2) values, some repeated within a plane
_IDX = np.array([[[[0, 4], [4, 8]], [[1, 1], [2, 3]]], [[[8, 7], [6, 5]], [[0, 0], [0, 4]]]])

# The ops of SPEC §7 (autograd_lite/array_ops.py and image_ops.py).
VOCABULARY_SAMPLERS: dict[str, Callable[[], list[Case]]] = {
    "where": lambda: [
        Case("same shape", lambda a, b: al.where(_COND, a, b), [_r(3, 4), _r(3, 4, seed=1)]),
        Case("broadcast", lambda a, b: al.where(_COND, a, b), [_r(3, 1), _r(4)]),
        Case("scalar y", lambda a, b: al.where(_COND[0], a, b), [_r(4), 0.5]),
    ],
    "min": lambda: [
        Case("all", lambda z: z.min(), [_distinct(3, 4)]),
        Case("axis=0", lambda z: z.min(axis=0), [_distinct(3, 4, seed=1)]),
        Case("axes (0,2) keepdims", lambda z: al.min(z, (0, -1), True), [_distinct(2, 3, 4)]),
    ],
    "var": lambda: [
        Case("all", lambda z: z.var(), [_r(3, 4)]),
        Case("axis=1 ddof=1", lambda z: z.var(axis=1, ddof=1), [_r(3, 4)]),
        Case("axes (0,2) keepdims", lambda z: z.var(axis=(0, 2), keepdims=True), [_r(2, 3, 4)]),
    ],
    "std": lambda: [
        Case("all", lambda z: z.std(), [_r(3, 4)]),
        Case("axis=-1 ddof=1", lambda z: z.std(axis=-1, ddof=1), [_r(3, 4)]),
        Case("axis 0 keepdims", lambda z: z.std(axis=0, keepdims=True), [_r(2, 3, 4)]),
    ],
    "logsumexp": lambda: [
        Case("all", lambda z: z.logsumexp(), [_r(3, 4)]),
        Case("axis=1", lambda z: z.logsumexp(axis=1), [_r(3, 4)]),
        Case("axis -1 keepdims", lambda z: z.logsumexp(axis=-1, keepdims=True), [_r(2, 3, 4)]),
        Case("1-D", lambda z: z.logsumexp(), [_r(5)]),
    ],
    "concatenate": lambda: [
        Case("axis=0", lambda a, b: al.concatenate([a, b]), [_r(2, 3), _r(4, 3)]),
        Case(
            "three, axis=-1",
            lambda a, b, c: al.concatenate([a, b, c], -1),
            [_r(2, 1), _r(2, 3), _r(2, 2)],
        ),
        Case("one", lambda a: al.concatenate([a]), [_r(3)]),
        Case("repeated", lambda a: al.concatenate([a, a * 2.0, a], axis=1), [_r(2, 2)]),
        Case("constant", lambda a, b: al.concatenate([a, b]), [_r(2), _r(3)], const=(0,)),
    ],
    "stack": lambda: [
        Case("axis=0", lambda a, b: al.stack([a, b]), [_r(2, 3), _r(2, 3, seed=1)]),
        Case("three, axis=-1", lambda a, b, c: al.stack([a, b, c], axis=-1), [_r(2, 2)] * 3),
        Case("scalars", lambda a, b: al.stack([a, b]), [0.3, -0.7]),
    ],
    "split": lambda: [
        Case("sections", lambda z: al.split(z, 2)[1], [_r(4, 3)]),
        Case("indices axis=1", lambda z: al.split(z, [1, 3], axis=1)[1], [_r(2, 4)]),
        Case(
            "all pieces",
            lambda z: sum(p.sum() * (k + 1.0) for k, p in enumerate(al.split(z, 3, -1))),
            [_r(2, 6)],
        ),
    ],
    "pad": lambda: [
        Case("int", lambda z: al.pad(z, 1), [_r(2, 3)]),
        Case("per axis, constant", lambda z: al.pad(z, ((0, 2), (1, 0)), constant=0.5), [_r(2, 3)]),
        Case("1-D", lambda z: al.pad(z, (2, 1)), [_r(3)]),
    ],
    "squeeze": lambda: [
        Case("all", lambda z: z.squeeze(), [_r(2, 1, 3, 1)]),
        Case("axis", lambda z: z.squeeze(axis=-1), [_r(2, 1, 3, 1)]),
        Case("to scalar", lambda z: z.squeeze(), [_r(1, 1)]),
    ],
    "expand_dims": lambda: [
        Case("axis 1", lambda z: z.expand_dims(1), [_r(2, 3)]),
        Case("axes (0, -1)", lambda z: al.expand_dims(z, (0, -1)), [_r(3)]),
    ],
    "conv2d": lambda: [
        Case("bias", lambda x, w, b: al.conv2d(x, w, b), [_r(*_IMG), _r(2, 3, 2, 3), _r(2)]),
        Case("no bias", lambda x, w: al.conv2d(x, w), [_r(*_IMG), _r(4, 3, 3, 3)]),
        Case(
            "stride 2, padding 1",
            lambda x, w, b: al.conv2d(x, w, b, stride=2, padding=1),
            [_r(*_IMG), _r(2, 3, 3, 2), _r(2)],
        ),
        Case(
            "stride (1,2), padding (2,0)",
            lambda x, w: al.conv2d(x, w, stride=(1, 2), padding=(2, 0)),
            [_r(1, 2, 3, 5), _r(3, 2, 2, 2)],
        ),
        Case(
            "constant input", lambda x, w: al.conv2d(x, w), [_r(*_IMG), _r(2, 3, 2, 2)], const=(0,)
        ),
        Case(
            "dilation (2,1), padding 1",
            lambda x, w, b: al.conv2d(x, w, b, padding=1, dilation=(2, 1)),
            [_r(*_IMG), _r(2, 3, 2, 3), _r(2)],
        ),
        Case(
            "depthwise x2, stride 2, padding 1",
            lambda x, w, b: al.conv2d(x, w, b, 2, 1, groups=3),
            [_r(*_IMG), _r(6, 1, 3, 2), _r(6)],
        ),
        Case(
            "groups 2, dilation 2",
            lambda x, w: al.conv2d(x, w, None, 1, 1, 2, 2),
            [_r(1, 4, 5, 4), _r(2, 2, 2, 2)],
        ),
    ],
    "conv2d_grad_input": lambda: [
        Case(
            "stride 2, padding 1",
            lambda g, w: al.conv2d_grad_input(g, w, (2, 3, 5, 4), 2, 1),
            [_r(2, 2, 3, 2), _r(2, 3, 3, 3)],
        ),
        Case(
            "dilation 2",
            lambda g, w: al.conv2d_grad_input(g, w, (2, 3, 5, 4), 1, 0, 2),
            [_r(2, 2, 3, 2), _r(2, 3, 2, 2)],
        ),
        Case(
            "depthwise, padding 1",
            lambda g, w: al.conv2d_grad_input(g, w, (2, 3, 5, 4), 1, 1, 1, 3),
            [_r(2, 3, 5, 4), _r(3, 1, 3, 3)],
        ),
    ],
    "conv2d_grad_weight": lambda: [
        Case(
            "stride 2, padding 1",
            lambda x, g: al.conv2d_grad_weight(x, g, (2, 3, 3, 3), 2, 1),
            [_r(*_IMG), _r(2, 2, 3, 2)],
        ),
        Case(
            "dilation 2",
            lambda x, g: al.conv2d_grad_weight(x, g, (2, 3, 2, 2), 1, 0, 2),
            [_r(*_IMG), _r(2, 2, 3, 2)],
        ),
        Case(
            "depthwise x2, stride 2",
            lambda x, g: al.conv2d_grad_weight(x, g, (6, 1, 2, 2), 2, 0, 1, 3),
            [_r(*_IMG), _r(2, 6, 2, 2)],
        ),
    ],
    "max_pool2d": lambda: [
        Case("2x2", lambda x: al.max_pool2d(x, 2), [_distinct(*_IMG)]),
        Case(
            "overlapping (2,3) stride 1", lambda x: al.max_pool2d(x, (2, 3), 1), [_distinct(*_IMG)]
        ),
        Case("3x3 stride 2", lambda x: al.max_pool2d(x, 3, stride=2), [_distinct(*_IMG, seed=3)]),
        Case(
            "3x3 stride 2 padding 1",
            lambda x: al.max_pool2d(x, 3, 2, padding=1),
            [_distinct(*_IMG, seed=4) - 50.0],  # all negative: padding must not win
        ),
        Case(
            "(2,3) padding (1,0)", lambda x: al.max_pool2d(x, (2, 3), 1, (1, 0)), [_distinct(*_IMG)]
        ),
        Case(
            "3x3 stride 2 padding 1 ceil_mode",
            lambda x: al.max_pool2d(x, 3, 2, 1, ceil_mode=True),
            [_distinct(2, 3, 6, 4, seed=5) - 50.0],
        ),
        Case("2x2 ceil_mode", lambda x: al.max_pool2d(x, 2, ceil_mode=True), [_distinct(*_IMG)]),
        Case("dilation 2", lambda x: al.max_pool2d(x, 2, 1, dilation=2), [_distinct(*_IMG)]),
        Case(
            "3x2 dilation (2,3) stride 2 padding 1 ceil_mode",
            lambda x: al.max_pool2d(x, (3, 2), 2, 1, (2, 3), ceil_mode=True),
            [_distinct(2, 3, 7, 6, seed=6) - 50.0],
        ),
    ],
    "adaptive_avg_pool2d": lambda: [
        Case("global", lambda x: al.adaptive_avg_pool2d(x, 1), [_r(*_IMG)]),
        Case("5x4 -> 3x3, overlapping", lambda x: al.adaptive_avg_pool2d(x, 3), [_r(*_IMG)]),
        Case("5x4 -> 7x4 (None)", lambda x: al.adaptive_avg_pool2d(x, (7, None)), [_r(*_IMG)]),
    ],
    "plane_matmul2d": lambda: [
        Case(
            "(2, 5) rows, (3, 4) columns",
            lambda x: al.plane_matmul2d(x, _r(2, 5, seed=1), _r(3, 4, seed=2)),
            [_r(*_IMG)],  # the matrices are cast to x's dtype: float32 stays float32
        ),
    ],
    "index_scatter2d": lambda: [
        Case("repeats add", lambda v: al.index_scatter2d(v, _IDX, (3, 3)), [_r(2, 2, 2, 2)]),
        Case(
            "last repeat wins",
            lambda v: al.index_scatter2d(v, _IDX, (3, 3), accumulate=False),
            [_r(2, 2, 2, 2)],
        ),
    ],
    "index_gather2d": lambda: [
        Case("repeats read twice", lambda h: al.index_gather2d(h, _IDX), [_r(2, 2, 3, 3)]),
        Case(
            "only the last repeat",
            lambda h: al.index_gather2d(h, _IDX, accumulate=False),
            [_r(2, 2, 3, 3)],
        ),
    ],
    "avg_pool2d": lambda: [
        Case("2x2", lambda x: al.avg_pool2d(x, 2), [_r(*_IMG)]),
        Case("overlapping (2,3) stride 1", lambda x: al.avg_pool2d(x, (2, 3), 1), [_r(*_IMG)]),
        Case("3x3 stride 2 padding 1", lambda x: al.avg_pool2d(x, 3, 2, padding=1), [_r(*_IMG)]),
        Case(
            "padding 1 without counting it",
            lambda x: al.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
            [_r(*_IMG)],
        ),
        Case("2x2 ceil_mode", lambda x: al.avg_pool2d(x, 2, ceil_mode=True), [_r(*_IMG)]),
        Case(
            "3x3 stride 2 padding 1 divisor_override 4",
            lambda x: al.avg_pool2d(x, 3, 2, 1, divisor_override=4),
            [_r(*_IMG)],
        ),
        Case(
            "(3,2) stride 2 padding (1,0) ceil_mode, without counting the padding",
            lambda x: al.avg_pool2d(x, (3, 2), 2, (1, 0), True, False),
            [_r(2, 3, 6, 5)],
        ),
    ],
    "window_scatter2d": lambda: [
        Case(
            "weights",
            lambda g: al.window_scatter2d(g, _r(1, 2, 2, 2, 2, 2), (1, 2, 3, 3), (2, 2), (1, 1)),
            [_r(1, 2, 2, 2)],
            f32=False,
        ),
        Case(
            "scalar weight",
            lambda g: al.window_scatter2d(g, 0.25, (1, 1, 4, 4), (2, 2), (2, 2)),
            [_r(1, 1, 2, 2)],
        ),
        Case(
            "weights, padding (1, 0)",
            lambda g: al.window_scatter2d(
                g, _r(1, 2, 2, 2, 2, 2), (1, 2, 1, 3), (2, 2), (1, 1), (1, 0)
            ),
            [_r(1, 2, 2, 2)],
            f32=False,
        ),
        Case(
            "a weight per window, padding per side",
            lambda g: al.window_scatter2d(
                g, _r(2, 3, 1, 1) ** 2, (1, 2, 3, 5), (2, 2), (2, 2), ((0, 1), (1, 0))
            ),
            [_r(1, 2, 2, 3)],
        ),
    ],
    "window_sum2d": lambda: [
        Case(
            "weights",
            lambda h: al.window_sum2d(h, _r(1, 2, 2, 2, 2, 2), (2, 2), (1, 1)),
            [_r(1, 2, 3, 3)],
            f32=False,
        ),
        Case("scalar weight", lambda h: al.window_sum2d(h, 0.25, (2, 2), (2, 2)), [_r(1, 1, 4, 4)]),
        Case(
            "scalar weight, padding 1",
            lambda h: al.window_sum2d(h, 0.25, (2, 2), (2, 2), padding=1),
            [_r(1, 1, 3, 3)],
        ),
        Case(
            "a weight per window, padding per side",
            lambda h: al.window_sum2d(h, _r(2, 3, 1, 1) ** 2, (2, 2), (2, 2), ((0, 1), (1, 0))),
            [_r(1, 2, 3, 5)],
        ),
    ],
    "dropout": lambda: [
        Case("p=0.5", lambda x: al.dropout(x, 0.5, rng=0), [_r(3, 4)]),
        Case(
            "p=0.2 image", lambda x: al.dropout(x, 0.2, rng=np.random.default_rng(1)), [_r(*_IMG)]
        ),
        Case("scalar", lambda x: al.dropout(x, 0.3, rng=5), [0.7]),
    ],
}

SAMPLERS: dict[str, Callable[[], list[Case]]] = {
    "matmul": lambda: [
        Case("1-D @ 1-D", lambda a, b: a @ b, [_r(4), _r(4, seed=1)]),
        Case("1-D @ 2-D", lambda a, b: a @ b, [_r(3), _r(3, 5)]),
        Case("2-D @ 1-D", lambda a, b: a @ b, [_r(2, 3), _r(3)]),
        Case("2-D @ 2-D", lambda a, b: a @ b, [_r(2, 3), _r(3, 4)]),
        Case("batched @ batched", lambda a, b: a @ b, [_r(2, 3, 4), _r(2, 4, 5)]),
        Case("batched @ 2-D", lambda a, b: a @ b, [_r(2, 3, 4), _r(4, 2)]),
        Case("2-D @ batched", lambda a, b: a @ b, [_r(3, 4), _r(2, 4, 2)]),
        Case("broadcast batch", lambda a, b: a @ b, [_r(2, 1, 3, 4), _r(3, 4, 2)]),
        Case("1-D @ batched", lambda a, b: a @ b, [_r(4), _r(2, 4, 3)]),
        Case("batched @ 1-D", lambda a, b: a @ b, [_r(2, 3, 4), _r(4)]),
        Case("ndarray @ Value", f32=False, fn=lambda b: _r(2, 3) @ b, inputs=[_r(3, 4)]),
        Case("Value @ ndarray", f32=False, fn=lambda a: a @ _r(3, 4), inputs=[_r(2, 3)]),
        Case(
            "list @ Value",
            f32=False,
            fn=lambda b: al.get_op("matmul")([1.0, -2.0, 0.5], b),
            inputs=[_r(3, 2)],
        ),
        Case("constant @ Value", lambda a, b: a @ b, [_r(2, 3), _r(3, 4)], const=(0,)),
    ],
    "dense": lambda: [
        Case("batch (4,3)", lambda x, w, b: al.dense(x, w, b), [_r(4, 3), _r(2, 3), _r(2)]),
        Case("single example", lambda x, w, b: al.dense(x, w, b), [_r(3), _r(2, 3), _r(2)]),
        Case("batched (2,4,3)", lambda x, w, b: al.dense(x, w, b), [_r(2, 4, 3), _r(2, 3), _r(2)]),
        Case("scalar bias", lambda x, w, b: al.dense(x, w, b), [_r(4, 3), _r(2, 3), 0.3]),
        Case(
            "constant input",
            lambda x, w, b: al.dense(x, w, b),
            [_r(4, 3), _r(2, 3), _r(2)],
            const=(0,),
        ),
    ],
    "cross_entropy": lambda: [
        Case("mean", lambda z: al.cross_entropy(z, np.array([0, 2, 2, 1])), [_r(4, 3)]),
        Case("sum", lambda z: al.cross_entropy(z, [1, 0], reduction="sum"), [_r(2, 3)]),
        Case(
            "none", lambda z: al.cross_entropy(z, np.array([2, 2, 0]), reduction="none"), [_r(3, 4)]
        ),
    ],
    "softmax": lambda: [
        Case("1-D", lambda z: z.softmax(), [_r(5)]),
        Case("(3,4) axis=-1", lambda z: z.softmax(), [_r(3, 4)]),
        Case("(3,4) axis=0", lambda z: z.softmax(axis=0), [_r(3, 4)]),
        Case("(2,3,4) axis=1", lambda z: z.softmax(axis=1), [_r(2, 3, 4)]),
        Case("(2,3,4) axis=-3", lambda z: al.softmax(z, axis=-3), [_r(2, 3, 4)]),
    ],
    "log_softmax": lambda: [
        Case("1-D", lambda z: z.log_softmax(), [_r(5)]),
        Case("(3,4) axis=-1", lambda z: z.log_softmax(), [_r(3, 4)]),
        Case("(3,4) axis=0", lambda z: z.log_softmax(axis=0), [_r(3, 4)]),
        Case("(2,3,4) axis=1", lambda z: al.log_softmax(z, axis=1), [_r(2, 3, 4)]),
    ],
    "sum": lambda: [
        Case("all", lambda z: z.sum(), [_r(3, 4)]),
        Case("axis=0", lambda z: z.sum(axis=0), [_r(3, 4)]),
        Case("axis=-1 keepdims", lambda z: z.sum(axis=-1, keepdims=True), [_r(3, 4)]),
        Case("axes (0,2)", lambda z: z.sum(axis=(0, 2)), [_r(2, 3, 4)]),
        Case("axes (-1,-3) keepdims", lambda z: z.sum(axis=(-1, -3), keepdims=True), [_r(2, 3, 4)]),
        Case("all keepdims", lambda z: z.sum(keepdims=True), [_r(2, 3)]),
        Case("1-D", lambda z: z.sum(), [_r(6)]),
        Case("scalar", lambda z: z.sum(), [0.7]),
    ],
    "mean": lambda: [
        Case("all", lambda z: z.mean(), [_r(3, 4)]),
        Case("axis=1", lambda z: z.mean(axis=1), [_r(3, 4)]),
        Case("axis=-2 keepdims", lambda z: z.mean(axis=-2, keepdims=True), [_r(2, 3, 4)]),
        Case("axes (0,-1)", lambda z: z.mean(axis=(0, -1)), [_r(2, 3, 4)]),
    ],
    "max": lambda: [
        Case("all", lambda z: z.max(), [_distinct(3, 4)]),
        Case("axis=0", lambda z: z.max(axis=0), [_distinct(3, 4, seed=1)]),
        Case("axis=-1 keepdims", lambda z: z.max(axis=-1, keepdims=True), [_distinct(3, 4)]),
        Case("axes (0,2)", lambda z: z.max(axis=(0, 2)), [_distinct(2, 3, 4, seed=2)]),
        Case("axis -2 keepdims", lambda z: z.max(axis=-2, keepdims=True), [_distinct(2, 3, 4)]),
    ],
    "reshape": lambda: [
        Case("(2,3,4)->(6,4)", lambda z: z.reshape(6, 4), [_r(2, 3, 4)]),
        Case("-1", lambda z: z.reshape(-1), [_r(2, 3, 4)]),
        Case("tuple with -1", lambda z: z.reshape((4, -1, 2)), [_r(2, 3, 4)]),
        Case("to (1,6,1)", lambda z: z.reshape(1, 6, 1), [_r(6)]),
    ],
    "transpose": lambda: [
        Case(".T", lambda z: z.T, [_r(3, 4)]),
        Case("reverse", lambda z: z.transpose(), [_r(2, 3, 4)]),
        Case("(1,0,2)", lambda z: z.transpose(1, 0, 2), [_r(2, 3, 4)]),
        Case("(2,0,1)", lambda z: z.transpose((2, 0, 1)), [_r(2, 3, 4)]),
    ],
    "getitem": lambda: [
        Case("int", lambda z: z[1], [_r(3, 4)]),
        Case("negative int", lambda z: z[-1], [_r(3, 4)]),
        Case("slice", lambda z: z[1:3], [_r(4, 3)]),
        Case("step slice", lambda z: z[:, ::2], [_r(3, 5)]),
        Case("negative step", lambda z: z[::-1], [_r(5)]),
        Case("ellipsis", lambda z: z[..., 1], [_r(2, 3, 4)]),
        Case("newaxis", lambda z: z[None, :, 2], [_r(3, 4)]),
        Case("int pair", lambda z: z[1, 2], [_r(3, 4)]),
        Case("int array with repeats", lambda z: z[[0, 2, 0, 0]], [_r(3, 4)]),
        Case("2-D int array", lambda z: z[np.array([[0, 1], [1, 1]])], [_r(3, 2)]),
        Case("paired arrays with repeats", lambda z: z[[0, 1, 1, 0], [2, 0, 0, 2]], [_r(3, 4)]),
        Case("int and array", lambda z: z[1, [0, 0, 3]], [_r(3, 4)]),
        Case("slice and array", lambda z: z[:, [3, 3, 1]], [_r(3, 4)]),
        Case("boolean mask", lambda z: z[_MASK], [_r(3, 4)]),
        Case("boolean row mask", lambda z: z[np.array([True, False, True])], [_r(3, 4)]),
        Case("index Value", lambda z: z[al.Value([2.0, 0.0], requires_grad=False)], [_r(3, 4)]),
    ],
    "index_scatter": lambda: [
        Case(
            "basic",
            lambda x: al.get_op("index_scatter")(x, (slice(1, 3),), (4, 2), x.dtype),
            [_r(2, 2)],
        ),
        Case(
            "int array with repeats",
            lambda x: al.get_op("index_scatter")(x, np.array([0, 2, 0]), (3, 2), x.dtype),
            [_r(3, 2)],
        ),
    ],
    "broadcast_to": lambda: [
        Case("(3,1)->(2,3,4)", lambda z: al.broadcast_to(z, (2, 3, 4)), [_r(3, 1)]),
        Case("(4,)->(3,4)", lambda z: al.broadcast_to(z, (3, 4)), [_r(4)]),
        Case("scalar->(2,2)", lambda z: al.broadcast_to(z, (2, 2)), [0.3]),
        Case("same shape", lambda z: al.broadcast_to(z, (2, 3)), [_r(2, 3)]),
    ],
    "sum_to": lambda: [
        Case("(2,3,4)->(3,1)", lambda z: al.sum_to(z, (3, 1)), [_r(2, 3, 4)]),
        Case("(2,3,4)->(4,)", lambda z: al.sum_to(z, (4,)), [_r(2, 3, 4)]),
        Case("(2,3)->()", lambda z: al.sum_to(z, ()), [_r(2, 3)]),
        Case("same shape", lambda z: al.sum_to(z, (2, 3)), [_r(2, 3)]),
    ],
    **VOCABULARY_SAMPLERS,
    # the fused recurrent layers (autograd_lite/recurrent_ops.py)
    "lstm": lambda: _layer_cases(al.lstm, 4, "N=2, T=3, I=2, H=2", (2, 3, 2, 2)),
    "rnn": lambda: [
        *_layer_cases(al.rnn, 1, "tanh, N=2, T=3, I=2, H=3", (2, 3, 2, 3)),
        Case(
            "relu, N=3, T=4, I=1, H=2",
            lambda *a: al.rnn(*a, nonlinearity="relu"),
            _layer_inputs(1, 3, 4, 1, 2),
        ),
    ],
    "gru": lambda: _layer_cases(al.gru, 3, "N=2, T=3, I=2, H=2", (2, 3, 2, 2)),
    "prelu": lambda: [
        Case("per-channel alpha", lambda z, a: z.prelu(a), [_r(3, 4), np.full(4, 0.2)]),
        Case("alpha (3,1)", lambda z, a: al.prelu(z, a), [_r(3, 4), np.full((3, 1), -0.4)]),
    ],
}


def _layer_inputs(
    gates: int, n: int, t: int, i: int, h: int, seed: int = 1, zero_state: bool = False
) -> list:
    """x (N, T, I), the state, W_ih (G·H, I), W_hh (G·H, H), b_ih, b_hh (G·H,) of a fused
    recurrent op; the state is (N, H), or (2, N, H) for the LSTM's h and c (G = 4)."""
    state = (2, n, h) if gates == 4 else (n, h)
    rows = gates * h
    return [
        _r(n, t, i),
        np.zeros(state) if zero_state else _r(*state),
        _r(rows, i),
        _r(rows, h, seed=seed),
        _r(rows),
        _r(rows, seed=seed),
    ]


def _layer_cases(op: Op, gates: int, name: str, sizes: tuple[int, int, int, int]) -> list[Case]:
    """A fused recurrent op at N, T, I, H = ``sizes``, and with a constant input and state."""
    return [
        Case(name, lambda *a: op(*a), _layer_inputs(gates, *sizes)),
        Case(
            "constant input and state",
            lambda *a: op(*a),
            _layer_inputs(gates, 1, 2, 3, 2, seed=2, zero_state=True),
            const=(0, 1),
        ),
    ]


def cases_for(op: Op) -> list[Case]:
    """All gradient cases for ``op``; raises when the op has no sampler at all."""
    cases: list[Case] = []
    if op.elementwise:
        cases += _elementwise_cases(op)
    if op.name in SAMPLERS:
        cases += SAMPLERS[op.name]()
    if not cases:
        raise LookupError(
            f"op {op.name!r} is not elementwise and has no sampler: add an entry for it to "
            "SAMPLERS in tests/test_ops.py so its gradient is tested"
        )
    return cases


OPS = all_ops()


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_gradients_match_finite_differences(op: Op) -> None:
    for case in cases_for(op):
        values = case.values()
        try:
            assert al.gradcheck(case.fn, *values)
        except Exception as exc:
            raise AssertionError(f"{op.name} [{case.name}]: {exc}") from exc
        for i in case.const:
            assert values[i]._grad is None, f"{op.name} [{case.name}]: constant got a gradient"


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_float32_stays_float32(op: Op) -> None:
    checked = 0
    for case in cases_for(op):
        if not case.f32 or not all(isinstance(x, np.ndarray) for x in case.inputs):
            continue
        values = case.values(np.float32)
        out = case.fn(*values)
        assert out.dtype == np.float32, f"{op.name} [{case.name}]: output {out.dtype}"
        out.backward(np.ones(out.shape, dtype=np.float32))
        for v in values:
            if v.requires_grad:
                assert v.grad.dtype == np.float32, f"{op.name} [{case.name}]: grad {v.grad.dtype}"
        checked += 1
    assert checked, f"{op.name}: no tensor case to check float32 with"


def test_every_op_in_the_table_has_a_sampler() -> None:
    # Also covers ops registered after collection (e.g. by a plugin at import time).
    missing = []
    for op in all_ops():
        try:
            cases_for(op)
        except LookupError:
            missing.append(op.name)
    assert not missing, f"ops without gradient samplers: {missing}"


def test_unknown_structural_op_fails_loudly() -> None:
    op = Op("mystery_struct", lambda z: z[::-1], (lambda g, out, z: g[::-1],))
    with pytest.raises(LookupError, match=r"mystery_struct.*SAMPLERS"):
        cases_for(op)


def test_new_elementwise_op_is_covered_automatically() -> None:
    op = Op(
        "cube_test_op",
        lambda z: z**3,
        (lambda g, out, z: 3 * g * z * z,),
        formula="z**3",
    )
    cases = cases_for(op)
    assert len(cases) >= 4
    for case in cases:
        assert al.gradcheck(case.fn, *case.values())


def test_sampler_catches_a_wrong_vjp() -> None:
    wrong = Op("wrong_sq", lambda z: z * z, (lambda g, out, z: g * z,), formula="z**2")
    with pytest.raises(al.GradcheckError, match="analytic"):
        for case in cases_for(wrong):
            al.gradcheck(case.fn, *case.values())


# ------------------------------------------------- specific semantics


def test_broadcast_gradient_is_summed_back_to_each_shape() -> None:
    a = al.Value(np.ones((3, 1)))
    b = al.Value(np.ones((1, 4)) * 2.0)
    (a * b).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (1, 4)
    np.testing.assert_allclose(a.grad, np.full((3, 1), 8.0))
    np.testing.assert_allclose(b.grad, np.full((1, 4), 3.0))


def test_scalar_times_tensor_gives_float_gradient() -> None:
    s = al.Value(2.0)
    t = al.Value(np.arange(6.0).reshape(2, 3))
    (s * t).sum().backward()
    assert type(s.grad) is float
    assert s.grad == pytest.approx(15.0)
    np.testing.assert_allclose(t.grad, np.full((2, 3), 2.0))


def test_matmul_vector_vector_is_scalar() -> None:
    a, b = al.Value([1.0, 2.0, 3.0]), al.Value([4.0, 5.0, 6.0])
    y = a @ b
    assert y.shape == () and y.data == pytest.approx(32.0)
    y.backward()
    np.testing.assert_allclose(a.grad, b.data)
    np.testing.assert_allclose(b.grad, a.data)


def test_integer_index_repeats_accumulate() -> None:
    v = al.Value([1.0, 2.0, 3.0])
    v[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(v.grad, [3.0, 0.0, 1.0])


def test_boolean_mask_gradient_lands_on_selected_elements() -> None:
    v = al.Value([[1.0, -2.0], [-3.0, 4.0]])
    v[v.data > 0].sum().backward()
    np.testing.assert_array_equal(v.grad, [[1.0, 0.0], [0.0, 1.0]])


def test_float_index_is_refused() -> None:
    v = al.Value([1.0, 2.0])
    with pytest.raises(IndexError, match="float"):
        v[0.5]
    with pytest.raises(IndexError, match="whole numbers"):
        v[np.array([0.5])]


def test_indexing_a_scalar_is_refused() -> None:
    with pytest.raises(IndexError, match="scalar Value cannot be indexed"):
        al.Value(1.0)[0]


def test_max_ties_share_gradient_evenly() -> None:
    v = al.Value([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    v.max(axis=1).sum().backward()
    np.testing.assert_allclose(v.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_max_of_empty_is_refused() -> None:
    with pytest.raises(ValueError, match="max of an empty Value"):
        al.Value(np.zeros((0,))).max()


@pytest.mark.parametrize("bad", [3, -4, (0, 0), 1.5, True, (0, True)])
def test_bad_axis_is_refused(bad: object) -> None:
    v = al.Value(np.zeros((2, 3)))
    for name in ("sum", "mean", "max"):  # the message names the op the caller called
        with pytest.raises((ValueError, TypeError), match=rf"^{name}: .*axis"):
            getattr(v, name)(axis=bad)


def test_lecture_conventions_at_zero() -> None:
    """SPEC §1: at exactly 0, ReLU-family takes the z >= 0 branch; step' = 0; abs'(0) = 0."""
    expected = {"relu": 1.0, "leaky_relu": 1.0, "elu": 1.0, "step": 0.0, "abs": 0.0}
    for name, slope in expected.items():
        z = al.Value(0.0)
        getattr(z, name)().backward()
        assert z.grad == slope, name
    z, a = al.Value(0.0), al.Value(0.25)
    z.prelu(a).backward()
    assert (z.grad, a.grad) == (1.0, 0.0)
    assert al.Value(0.0).step().data == 1.0
    assert al.Value(-1e-12).step().data == 0.0


def test_op_functions_and_methods_agree() -> None:
    v = al.Value(np.abs(_r(3, 4)) + 0.5)
    for op in all_ops():
        if op.elementwise and op.arity == 1:
            np.testing.assert_array_equal(
                getattr(al, op.name)(v).data, getattr(v, op.name)().data, err_msg=op.name
            )


def test_numeric_grad_matches_analytic_on_simple_function() -> None:
    # Guard for the ground truth itself: d/dx sum(x^3) = 3x^2.
    x = al.Value([0.5, -1.5, 2.0])
    np.testing.assert_allclose(
        numeric_grad(lambda v: (v * v * v).sum(), [x], 0), 3 * x.data**2, rtol=1e-6
    )


def test_get_op_unknown_name_lists_known() -> None:
    with pytest.raises(KeyError, match=r"no op named 'nope'.*relu"):
        get_op("nope")


def test_float64_constant_promotes_but_python_number_does_not() -> None:
    """Policy (docs/reliability.md): numpy's promotion rules; Python numbers are weak."""
    x = al.Value(np.ones(3, dtype=np.float32))
    assert (x * 2.5).dtype == np.float32
    assert (x * np.ones(3)).dtype == np.float64
    assert (x * np.ones(3, dtype=np.float32)).dtype == np.float32


def test_sum_to_same_shape_does_not_alias_the_leaf() -> None:
    w = al.Value(np.ones((2, 3)))
    out = al.sum_to(w, (2, 3))
    assert not np.shares_memory(out.data, w.data)
    out.sum().backward()
    w.data[0, 0] = 5.0  # the leaf is writable again once backward has run
    assert w.data[0, 0] == 5.0


def test_pow_with_exponent_zero_has_zero_slope_at_zero_base() -> None:
    """x**0 is the constant 1, so d/dx = 0 everywhere, also at x = 0 (it was 0·0⁻¹ = nan)."""
    for data in (0.0, np.array([0.0, 2.0])):
        x = al.Value(data)
        (x**0.0).sum().backward()
        np.testing.assert_array_equal(x.grad, np.zeros_like(data))
    b = al.Value(np.array([0.0, 2.0]))
    x = al.Value(np.array([0.0, 0.0]))
    (x**b).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_pow_exponent_slope_at_zero_base_is_zero() -> None:
    """0**b = 0 for every b > 0, so d/db = 0 (it was 0·log 0 = nan); finite differences agree."""
    a = al.Value(np.array([0.0, 1.5]), requires_grad=False)
    b = al.Value(np.array([2.0, 1.3]))
    assert al.gradcheck(lambda e: (a**e).sum(), b)
    np.testing.assert_allclose(b.grad, [0.0, 1.5**1.3 * np.log(1.5)])
    s = al.Value(2.0)
    (0.0**s).backward()
    assert s.grad == 0.0


def test_bad_parameter_error_names_the_op() -> None:
    """numpy's own exception subclasses (e.g. _UFuncNoLoopError) are re-raised naming the op."""
    with pytest.raises(TypeError, match=r"leaky_relu: cannot apply to shapes \(3,\)"):
        al.Value(np.ones(3)).leaky_relu(alpha="a")
    with pytest.raises(ValueError, match=r"softmax: cannot apply to shapes \(3,\).*axis 1"):
        al.Value(np.ones(3)).softmax(axis=1)
    with pytest.raises(IndexError, match=r"getitem: cannot apply to shapes \(3,\).*index 5"):
        al.Value(np.ones(3))[5]
    with pytest.raises(TypeError, match=r"relu\(\) takes no parameters"):
        al.Value(np.ones(3)).relu(3)


def test_define_activation_ops_are_covered_by_the_generic_sampler() -> None:
    from autograd_lite.registry import unregister

    op = al.define_activation("mish_sampler_test", "z * tanh(log(1 + exp(z)))")
    try:
        op = get_op("mish_sampler_test")
        for case in cases_for(op):
            assert al.gradcheck(case.fn, *case.values()), case.name
    finally:
        unregister("mish_sampler_test")


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_unlocked_inputs_can_change_without_changing_gradients(op: Op) -> None:
    """An op that declares ``keeps_inputs=False`` leaves its leaf inputs writable: then its
    backward must not read them. Change every writable input in place between forward and
    backward; the gradients must be those of an untouched run."""
    for case in cases_for(op):
        if not all(isinstance(x, np.ndarray) for x in case.inputs):
            continue
        fresh = case.values()
        out = case.fn(*fresh)
        weights = np.random.default_rng(1).standard_normal(out.shape)
        out.backward(weights)
        expected = [np.array(v.grad) for v in fresh]

        values = case.values()
        out = case.fn(*values)
        for v in values:
            if isinstance(v.data, np.ndarray) and v.data.flags.writeable:
                v.data += 0.37  # allowed: no pending backward needs this array
        out.backward(weights)
        for v, g in zip(values, expected):
            if v.requires_grad:
                np.testing.assert_allclose(v.grad, g, err_msg=f"{op.name} [{case.name}]")


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_outputs_are_read_only_and_never_alias_a_writable_input(op: Op) -> None:
    for case in cases_for(op):
        values = case.values()
        out = case.fn(*values)
        if not isinstance(out.data, np.ndarray):
            continue
        assert not out.data.flags.writeable, f"{op.name} [{case.name}]: writable output"
        for v in values:
            if isinstance(v.data, np.ndarray) and v.data.flags.writeable:
                assert not np.shares_memory(out.data, v.data), f"{op.name} [{case.name}]"


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_unrecorded_outputs_never_alias_an_input(op: Op) -> None:
    """Without a graph (no_grad or constants only) an output is a leaf of later graphs:
    it must own its data, or an in-place change of the input would change it."""
    for case in cases_for(op):
        values = case.values()
        with al.no_grad():
            out = case.fn(*values)
        if not isinstance(out.data, np.ndarray):
            continue
        for v in values:
            if isinstance(v.data, np.ndarray):
                assert not np.shares_memory(out.data, v.data), f"{op.name} [{case.name}]"


@pytest.mark.parametrize("batch", [3, 4096, 4097])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_gradients_of_a_batch_are_its_column_sums(batch, dtype):
    """dense's bias vjp and x @ W + b's broadcast sum (ones @ g up to 4096 rows, then a reduce)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(batch, 3)).astype(dtype)
    w, b = al.Value(rng.normal(size=(2, 3)).astype(dtype)), al.Value(np.zeros(2, dtype))
    c = rng.normal(size=(batch, 2))
    expected = c.sum(axis=0)
    (al.dense(x, w, b) * c.astype(dtype)).sum().backward()
    b2 = al.Value(np.zeros(2, dtype))
    ((x @ w.T + b2) * c.astype(dtype)).sum().backward()
    tol = 1e-12 if dtype == np.float64 else 1e-3
    for grad in (b.grad, b2.grad):
        assert grad.dtype == dtype
        np.testing.assert_allclose(grad, expected, rtol=tol, atol=tol)


def test_a_table_op_called_directly_is_the_method_and_keeps_its_parameters() -> None:
    """``Op.__call__`` goes straight to the engine; array parameters are still copied."""
    rng = np.random.default_rng(3)
    x = al.Value(rng.standard_normal((4, 3)), requires_grad=False)
    W, b = al.Value(rng.standard_normal((2, 3))), al.Value(rng.standard_normal(2))
    y = get_op("dense")(x, W, b)  # three inputs, no parameters
    np.testing.assert_allclose(y.data, x.data @ W.data.T + b.data)
    assert y.op == "dense" and y.parents == (x, W, b)
    t = get_op("tanh")(W)
    assert t.op == "tanh" and t.parents == (W,)
    np.testing.assert_array_equal(t.data, W.tanh().data)
    labels = np.array([0, 1, 1, 0])
    loss = get_op("cross_entropy")(y, labels)  # a parameter by position, one default
    kept = loss._params[0]
    assert kept is not labels and not kept.flags.writeable and loss._params[1] == "mean"
    with pytest.raises(TypeError, match=r"dense\(\) needs 3 input"):
        get_op("dense")(x, W)


def test_table_ops_show_their_signature() -> None:
    """help(al.leaky_relu) / a notebook tooltip showed (*args, **kwargs) for every table op."""
    import inspect

    assert str(inspect.signature(al.leaky_relu)) == "(z, /, alpha=0.01)"
    assert str(inspect.signature(al.Value.elu)) == "(self, /, alpha=1.0)"
    assert str(inspect.signature(al.Value.var)) == "(self, /, axis=None, ddof=0, keepdims=False)"
    assert str(inspect.signature(al.maximum)) == "(a, b, /)"
    for op in OPS:  # each signature binds the op's own inputs and parameters
        sig = inspect.signature(op)
        assert list(sig.parameters)[: op.arity] == list(op.inputs), op.name
        assert list(sig.parameters)[op.arity :] == list(op.params), op.name


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize(("shape", "axis"), [((2, 0), -1), ((2, 0), 0), ((0, 3), -1), ((0,), 0)])
def test_softmax_of_an_empty_value_is_empty(name, shape, axis) -> None:
    # numpy's max over an empty axis raised "zero-size array to reduction operation
    # maximum which has no identity"; PyTorch's softmax of an empty tensor is empty
    v = al.Value(np.zeros(shape, dtype=np.float32))
    y = getattr(v, name)(axis=axis)
    assert y.shape == shape and y.data.dtype == np.float32
    y.sum().backward()
    assert v.grad.shape == shape
    with pytest.raises(ValueError, match=rf"{name}: .*axis 5 is out of range"):
        getattr(v, name)(axis=5)
