"""Max pool dilation and indices, max_unpool2d, avg pool divisor_override (as PyTorch).

The references are plain loops over PyTorch's documented definitions, written here
(never the library's code): the output-size formula, the window taps, the first
maximum in window order and its flat index, the unpooling that writes each value at
its index. Gradients against central finite differences and against the same loops;
second derivatives against finite differences of first derivatives; SymPy through
``symbolic.check``; compiled against eager.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_array_ops import assert_second_derivatives  # the Hessian vs finite differences

import autograd_lite as al
from autograd_lite import nn, symbolic
from autograd_lite.compiler.trace import CompileError


def out_size(size: int, k: int, s: int, p: int, d: int = 1, ceil_mode: bool = False) -> int:
    """PyTorch's MaxPool2d/AvgPool2d formula: ⌊(size + 2p − d·(k − 1) − 1)/s + 1⌋ (⌈⌉ in
    ceil mode, where a last window must start inside the input or the left padding)."""
    n = (size + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(n) if ceil_mode else math.floor(n)) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def taps(o: int, k: int, s: int, p: int, d: int) -> list[int]:
    """The rows (or columns) window ``o`` reads: o·s − p + i·d for i < k."""
    return [o * s - p + i * d for i in range(k)]


def max_pool_reference(x, k, s, p, d=(1, 1), ceil_mode=False):
    """PyTorch's max pool with its indices, one window at a time.

    Over the taps inside the input, in row-by-row order, starting from the first of
    them with −inf: a tap replaces the maximum only when strictly greater or NaN (the
    CPU kernel's test), so the index is the first maximum's (row·W + col), or in a
    window with NaNs the last NaN's.
    """
    n, c, h, w = x.shape
    oh = out_size(h, k[0], s[0], p[0], d[0], ceil_mode)
    ow = out_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    out, idx = np.empty((n, c, oh, ow)), np.empty((n, c, oh, ow), dtype=np.int64)
    for i, ch, r, q in np.ndindex(n, c, oh, ow):
        best, where = -math.inf, None
        for row in taps(r, k[0], s[0], p[0], d[0]):
            for col in taps(q, k[1], s[1], p[1], d[1]):
                if 0 <= row < h and 0 <= col < w:
                    if where is None:
                        where = row * w + col
                    if x[i, ch, row, col] > best or math.isnan(x[i, ch, row, col]):
                        best, where = x[i, ch, row, col], row * w + col
        out[i, ch, r, q], idx[i, ch, r, q] = best, where
    return out, idx


def unpool_reference(x, idx, size):
    """PyTorch's max_unpool2d on the CPU: each value written at its index, in order."""
    n, c = x.shape[:2]
    out = np.zeros((n, c, *size))
    for i, ch, r, q in np.ndindex(x.shape):
        row, col = divmod(int(idx[i, ch, r, q]), size[1])
        out[i, ch, row, col] = x[i, ch, r, q]
    return out


def scatter_add_reference(g, idx, size):
    """The max pool's gradient: each window's gradient added at its maximum's index."""
    n, c = g.shape[:2]
    out = np.zeros((n, c, *size))
    for i, ch, r, q in np.ndindex(g.shape):
        row, col = divmod(int(idx[i, ch, r, q]), size[1])
        out[i, ch, row, col] += g[i, ch, r, q]
    return out


def avg_override_reference(x, k, s, p, divisor, ceil_mode=False):
    """PyTorch's avg pool with divisor_override: the sum of the window's input elements
    (the window cut at the end of the right padding) divided by ``divisor``."""
    n, c, h, w = x.shape
    oh, ow = (
        out_size(h, k[0], s[0], p[0], 1, ceil_mode),
        out_size(w, k[1], s[1], p[1], 1, ceil_mode),
    )
    out = np.empty((n, c, oh, ow))
    for i, ch, r, q in np.ndindex(n, c, oh, ow):
        total = 0.0
        for row in range(r * s[0] - p[0], min(r * s[0] - p[0] + k[0], h + p[0])):
            for col in range(q * s[1] - p[1], min(q * s[1] - p[1] + k[1], w + p[1])):
                if 0 <= row < h and 0 <= col < w:
                    total += x[i, ch, row, col]
        out[i, ch, r, q] = total / divisor
    return out


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ------------------------------------------------------------ dilation, indices


def test_dilated_max_pool_by_hand() -> None:
    x = al.Value(np.arange(25.0).reshape(1, 1, 5, 5))
    # a 2×2 kernel with dilation 2 reads rows/cols r, r+2: window (0, 0) is 0, 2, 10, 12
    out, idx = al.max_pool2d(x, 2, stride=1, dilation=2, return_indices=True)
    assert out.shape == (1, 1, 3, 3)  # (5 - 2·1 - 1)/1 + 1
    assert out.data[0, 0].tolist() == [[12.0, 13.0, 14.0], [17.0, 18.0, 19.0], [22.0, 23.0, 24.0]]
    assert idx.dtype == np.int64 and idx[0, 0].tolist() == out.data[0, 0].astype(int).tolist()


@given(
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    ceil_mode=st.booleans(),
    ties=st.booleans(),
    seed=st.integers(0, 50),
)
def test_max_pool_dilation_and_indices_random_geometry(
    h, w, kernel, stride, padding, dilation, ceil_mode, ties, seed
) -> None:
    rng = np.random.default_rng(seed)
    # ties: a few integer levels, so windows often hold their maximum twice
    data = rng.integers(0, 3, (2, 2, h, w)) * 1.0 if ties else rng.permutation(4 * h * w) * 0.1
    x = al.Value(np.reshape(data, (2, 2, h, w)) - 5.0)  # negative: padding must never win
    options = (kernel, stride, padding, dilation, ceil_mode)
    s = kernel if stride is None else stride
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        with pytest.raises(ValueError, match=r"max_pool2d: padding .* at most half the kernel"):
            al.max_pool2d(x, *options)
        return
    sizes = [
        out_size((h, w)[i], kernel[i], s[i], padding[i], dilation[i], ceil_mode) for i in (0, 1)
    ]
    if min(sizes) < 1:
        with pytest.raises(ValueError, match=r"max_pool2d: .*larger than the padded input"):
            al.max_pool2d(x, *options)
        return
    reach = [
        all(
            any(0 <= t < (h, w)[i] for t in taps(o, kernel[i], s[i], padding[i], dilation[i]))
            for o in range(sizes[i])
        )
        for i in (0, 1)
    ]
    if not all(reach):  # a dilated window whose taps all fall in the padding
        with pytest.raises(ValueError, match=r"max_pool2d: window \d+ along [HW] .*all in the pad"):
            al.max_pool2d(x, *options)
        return
    out, idx = al.max_pool2d(x, *options, return_indices=True)
    ref, ref_idx = max_pool_reference(x.data, kernel, s, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(idx, ref_idx)
    assert idx.dtype == np.int64
    # the gradient goes where the index points (ties: to the first maximum)
    g = rng.standard_normal(out.shape)
    x.grad = None
    (out * g).sum().backward()
    np.testing.assert_allclose(x.grad, scatter_add_reference(g, ref_idx, (h, w)))
    if not ties:
        assert al.gradcheck(lambda v: al.max_pool2d(v, *options), x)


def test_return_indices_unpool_and_gradient_agree_on_ties() -> None:
    # all equal: every window's first element is its maximum, and gets all its gradient
    x = al.Value(np.ones((1, 1, 4, 4)))
    out, idx = al.max_pool2d(x, 3, 1, 1, return_indices=True)
    assert idx[0, 0].tolist() == [[0, 0, 1, 2], [0, 0, 1, 2], [4, 4, 5, 6], [8, 8, 9, 10]]
    out.sum().backward()
    want = np.zeros(16)
    np.add.at(want, idx.ravel(), 1.0)
    np.testing.assert_allclose(x.grad.ravel(), want)


def test_minus_infinity_windows_point_inside_the_input() -> None:
    # a window of −inf only: PyTorch's index is its first tap inside the input
    x = np.full((1, 1, 3, 3), -np.inf)
    x[0, 0, 2, 2] = 1.0
    out, idx = al.max_pool2d(al.Value(x), 2, 2, 1, return_indices=True)
    ref, ref_idx = max_pool_reference(x, (2, 2), (2, 2), (1, 1))
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(idx, ref_idx)
    assert idx[0, 0].tolist() == [[0, 1], [3, 8]]


def test_nan_is_the_maximum_and_its_index() -> None:
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = np.nan
    out, idx = al.max_pool2d(al.Value(x), 2, return_indices=True)
    assert np.isnan(out.data[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 0


def test_windows_with_nans_point_at_their_last_nan_and_get_its_gradient() -> None:
    rng = np.random.default_rng(7)
    for k, s, p, d in [(2, 2, 0, 1), (3, 1, 1, 1), (2, 1, 1, 2), (3, 2, 1, 1)]:
        x = rng.integers(0, 4, size=(2, 2, 7, 6)).astype(float)
        x[rng.random(x.shape) < 0.25] = np.nan
        v = al.Value(x)
        out, idx = al.max_pool2d(v, k, s, p, d, return_indices=True)
        ref_out, ref_idx = max_pool_reference(x, (k, k), (s, s), (p, p), (d, d))
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(out.data, ref_out)  # (NaNs in the same places)
        g = rng.normal(size=out.shape)
        (out * g).sum().backward()
        np.testing.assert_allclose(v.grad, scatter_add_reference(g, ref_idx, x.shape[2:]))


def test_dilated_max_pool_second_derivatives() -> None:
    x = np.random.default_rng(9).permutation(30).reshape(1, 1, 5, 6) * 0.2 + 0.1  # distinct squares
    f = lambda v: (al.max_pool2d(v * v, 2, 1, 1, (2, 3), ceil_mode=True) ** 2).sum()
    assert_second_derivatives(f, x)


# -------------------------------------------------------------------- unpool


@given(
    h=st.integers(2, 7),
    w=st.integers(2, 7),
    kernel=st.integers(2, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 1),
    seed=st.integers(0, 50),
)
def test_unpool_puts_the_maxima_back(h, w, kernel, stride, padding, seed) -> None:
    rng = np.random.default_rng(seed)
    x = al.Value(rng.integers(0, 4, (2, 3, h, w)) * 1.0)  # ties and shared maxima
    if min(out_size(n, kernel, stride, padding) for n in (h, w)) < 1:
        return
    out, idx = al.max_pool2d(x, kernel, stride, padding, return_indices=True)
    up = al.max_unpool2d(out, idx, kernel, stride, padding, output_size=x.shape)
    np.testing.assert_array_equal(up.data, unpool_reference(out.data, idx, (h, w)))
    # every kept value is the input's own element there
    kept = up.data != 0
    np.testing.assert_array_equal(up.data[kept], x.data[kept])
    assert al.gradcheck(lambda v: al.max_unpool2d(v, idx, kernel, stride, padding, (h, w)), out)


def test_unpool_default_size_and_output_size() -> None:
    x = al.Value(np.arange(2.0 * 3 * 3 * 2).reshape(2, 3, 3, 2))
    idx = np.zeros(x.shape, dtype=np.int64)
    # PyTorch: (h − 1)·s − 2p + k
    assert al.max_unpool2d(x, idx, 3, 2, 1).shape == (2, 3, 5, 3)
    assert al.max_unpool2d(x, idx, 3, 2, 1, output_size=(6, 4)).shape == (2, 3, 6, 4)
    assert al.max_unpool2d(x, idx, 3, 2, 1, output_size=(2, 3, 4, 2)).shape == (2, 3, 4, 2)
    assert nn.MaxUnpool2d(3, 2, 1)(x, idx, (6, 4)).shape == (2, 3, 6, 4)


def test_unpool_repeated_indices_keep_the_last_and_its_gradient() -> None:
    rng = np.random.default_rng(4)
    v = rng.standard_normal((2, 2, 3, 3))
    idx = rng.integers(0, 4, v.shape)  # 9 values into 4 places per plane: many repeats
    up = al.max_unpool2d(al.Value(v), idx, 2, 1, 1)  # (3 - 1)·1 - 2 + 2
    np.testing.assert_allclose(up.data, unpool_reference(v, idx, (2, 2)))
    assert al.gradcheck(lambda t: al.max_unpool2d(t, idx, 2, 1, 1), al.Value(v))
    assert_second_derivatives(lambda t: (al.max_unpool2d(t * t, idx, 2, 1, 1) ** 2).sum(), v)


def test_pool_then_unpool_second_derivatives() -> None:
    x = (
        np.random.default_rng(10).permutation(25).reshape(1, 1, 5, 5) * 0.2 + 0.1
    )  # distinct squares
    _, idx = al.max_pool2d(al.Value(x), 3, 2, 1, return_indices=True)

    def f(v):
        out = al.max_pool2d(v * v, 3, 2, 1)
        return (al.max_unpool2d(out, idx, 3, 2, 1, x.shape) * v).sum()

    assert_second_derivatives(f, x)


# ------------------------------------------------------------ divisor_override


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "ceil_mode", "divisor"),
    [
        (2, None, 0, False, 1),
        (3, 2, 1, False, 4),
        ((2, 3), 1, (1, 1), False, 7),
        (3, 2, 1, True, 2),
    ],
)
def test_avg_pool_divisor_override(kernel, stride, padding, ceil_mode, divisor) -> None:
    x = al.Value(np.random.default_rng(5).standard_normal((2, 3, 5, 6)))
    k, p = _pair(kernel), _pair(padding)
    s = k if stride is None else _pair(stride)
    ref = avg_override_reference(x.data, k, s, p, divisor, ceil_mode)
    for include in (True, False):  # divisor_override replaces either count
        options = (kernel, stride, padding, ceil_mode, include, divisor)
        np.testing.assert_allclose(al.avg_pool2d(x, *options).data, ref)
        assert al.gradcheck(lambda v, o=options: al.avg_pool2d(v, *o), x)
    pool = nn.AvgPool2d(kernel, stride, padding, ceil_mode, divisor_override=divisor)
    np.testing.assert_allclose(pool(x).data, ref)
    assert_second_derivatives(
        lambda v: al.avg_pool2d(v, kernel, stride, padding, divisor_override=divisor).tanh().sum(),
        x.data[:1, :1],
    )


# ------------------------------------------------------------ SymPy, compile


@pytest.mark.parametrize(
    ("op", "notes"),
    [
        ("max_pool2d", ["dilation (2, 3)", "dilation 2, padding 1", "dilation 2, ceil_mode"]),
        ("avg_pool2d", ["divisor_override 3", "divisor_override 2"]),
        ("index_scatter2d", ["repeats add up", "the last repeat wins"]),
        ("index_gather2d", ["repeats read twice", "only the last repeat reads"]),
    ],
)
@pytest.mark.parametrize("order", [1, 2])
def test_new_options_match_sympy(op, notes, order) -> None:
    result = symbolic.check(op, order=order)
    assert result.ok, result.message
    for note in notes:
        assert note in result.message


def assert_compiled_matches_eager(f, shape) -> None:
    """``al.compile(f)`` gives eager's value and gradient, also on other numbers later."""
    fast = al.compile(f)
    for seed in (0, 1):  # the second call: other numbers, other maxima
        data = np.random.default_rng(seed).standard_normal(shape)
        a, b = al.Value(data), al.Value(data)
        f(a).backward()
        got = fast(b)
        got.backward()
        np.testing.assert_allclose(got.data, f(al.Value(data)).data)
        np.testing.assert_allclose(b.grad, a.grad)
    assert fast.traces == 1


def test_compiled_pools_match_eager() -> None:
    def f(x):
        y = al.max_pool2d(x * x, (3, 2), 1, 1, (2, 1), ceil_mode=True)
        z = al.avg_pool2d(x, 3, 2, 1, True, False, 5)
        return (y**2).sum() + (z * z).sum()

    assert_compiled_matches_eager(f, (2, 3, 6, 5))


def test_compile_refuses_indices_it_would_freeze() -> None:
    def f(x):
        out, idx = al.max_pool2d(x, 2, return_indices=True)
        return al.max_unpool2d(out, idx, 2).sum()

    with pytest.raises(CompileError, match=r"compile\(.*f\): max_pool2d\(return_indices=True\)"):
        al.compile(f)(al.Value(np.ones((1, 1, 4, 4))))


# ------------------------------------------------------------------ bad input


X = al.Value(np.zeros((1, 1, 6, 6)))


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"dilation": 0}, ValueError, r"max_pool2d: dilation must be an int >= 1 .* got 0"),
        ({"dilation": (1, 0)}, ValueError, r"max_pool2d: dilation must be .* got \(1, 0\)"),
        ({"dilation": 1.5}, ValueError, r"max_pool2d: dilation must be .* got 1.5"),
        ({"dilation": True}, TypeError, r"max_pool2d: dilation .* got True .*ceil_mode= by key"),
        (
            {"kernel_size": 3, "dilation": 3},
            ValueError,
            r"max_pool2d: kernel \(3, 3\) with dilation \(3, 3\) \(span \(7, 7\)\) is larger "
            r"than the padded input \(6, 6\)",
        ),
        (
            {"kernel_size": 2, "padding": 1, "dilation": 7},
            ValueError,
            r"max_pool2d: window 0 along H has its taps at rows \[-1, 6\], all in the padding",
        ),
        ({"return_indices": 1}, ValueError, r"max_pool2d: return_indices must be True or False"),
    ],
)
def test_max_pool_bad_options(kwargs, error, pattern) -> None:
    kwargs = {"kernel_size": 2, **kwargs}
    with pytest.raises(error, match=pattern):
        al.max_pool2d(X, **kwargs)


@pytest.mark.parametrize("divisor", [0, -2, 2.5, True, "3"])
def test_divisor_override_must_be_a_positive_int(divisor) -> None:
    with pytest.raises(
        ValueError,
        match=rf"avg_pool2d: divisor_override must be an int >= 1 or None, got {divisor!r}",
    ):
        al.avg_pool2d(X, 2, divisor_override=divisor)
    with pytest.raises(ValueError, match=r"AvgPool2d: divisor_override must be an int >= 1"):
        nn.AvgPool2d(2, divisor_override=divisor)


@pytest.mark.parametrize(
    ("indices", "kwargs", "error", "pattern"),
    [
        (
            np.zeros((1, 1, 3, 3)),
            {},
            TypeError,
            r"max_unpool2d: indices must be integers .* float64",
        ),
        (np.zeros((1, 1, 3, 3), bool), {}, TypeError, r"max_unpool2d: indices must be integers"),
        (
            np.zeros((1, 1, 3, 2), np.int64),
            {},
            ValueError,
            r"max_unpool2d: indices of shape \(1, 1, 3, 2\) for an input of shape \(1, 1, 3, 3\)",
        ),
        (
            np.full((1, 1, 3, 3), 36, np.int64),
            {},
            ValueError,
            r"max_unpool2d: index 36 is outside the output plane of 6×6 = 36 elements",
        ),
        (
            np.full((1, 1, 3, 3), -1, np.int64),
            {},
            ValueError,
            r"max_unpool2d: index -1 is outside",
        ),
        (
            np.zeros((1, 1, 3, 3), np.int64),
            {"output_size": (8, 6)},
            ValueError,
            r"max_unpool2d: output_size \(8, 6\) does not fit input \(1, 1, 3, 3\): H must be "
            r"between 5 and 7",
        ),
        (
            np.zeros((1, 1, 3, 3), np.int64),
            {"output_size": (6,)},
            ValueError,
            r"max_unpool2d: output_size must be \(H, W\) or \(N, C, H, W\) ints, got \(6,\)",
        ),
    ],
)
def test_unpool_bad_input(indices, kwargs, error, pattern) -> None:
    x = al.Value(np.ones((1, 1, 3, 3)))
    with pytest.raises(error, match=pattern):
        al.max_unpool2d(x, indices, 2, **kwargs)
    with pytest.raises(error, match=pattern):
        nn.MaxUnpool2d(2)(x, indices, **kwargs)


def test_unpool_needs_an_image_and_a_size() -> None:
    with pytest.raises(ValueError, match=r"max_unpool2d needs an input of shape \(N, C, H, W\)"):
        al.max_unpool2d(np.ones((3, 3)), np.zeros((3, 3), np.int64), 2)
    with pytest.raises(ValueError, match=r"max_unpool2d: the output size \(0, 0\) .* is empty"):
        al.max_unpool2d(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 1, 1), np.int64), 2, 2, 1)


# ---------------------------------------------------------------------- layers


def test_layer_signatures_are_pytorchs_and_specs() -> None:
    x = np.arange(36.0).reshape(1, 1, 6, 6)
    # SPEC: MaxPool2d(kernel_size, stride=None), AvgPool2d(kernel_size, stride=None)
    assert nn.MaxPool2d(2, 2)(x).shape == (1, 1, 3, 3)
    assert nn.AvgPool2d(3, 1)(x).shape == (1, 1, 4, 4)
    # PyTorch: MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode)
    out, idx = nn.MaxPool2d(2, 1, 1, 2, True, True)(x)
    ref, ref_idx = max_pool_reference(x, (2, 2), (1, 1), (1, 1), (2, 2), True)
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(idx, ref_idx)
    # AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    np.testing.assert_allclose(
        nn.AvgPool2d(2, 2, 1, True, False, 3)(x).data,
        avg_override_reference(x, (2, 2), (2, 2), (1, 1), 3, True),
    )
    with pytest.raises(TypeError, match=r"MaxPool2d: dilation .* got True"):
        nn.MaxPool2d(2, 2, 0, True)  # an old positional ceil_mode


def test_layer_reprs_show_options_that_are_not_default() -> None:
    assert repr(nn.MaxPool2d(2, dilation=(1, 2))) == (
        "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), dilation=(1, 2))"
    )
    assert repr(nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), return_indices=True, "
        "ceil_mode=True)"
    )
    assert repr(nn.AvgPool2d(2, divisor_override=3)) == (
        "AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), divisor_override=3)"
    )
    assert repr(nn.MaxUnpool2d(3, 2, 1)) == (
        "MaxUnpool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))"
    )


def test_pool_unpool_layers_train_as_an_autoencoder_step() -> None:
    pool, unpool = nn.MaxPool2d(2, return_indices=True), nn.MaxUnpool2d(2)
    conv = nn.Conv2d(1, 1, 3, padding=1, seed=0)
    x = np.random.default_rng(2).standard_normal((2, 1, 5, 5))
    out, idx = pool(conv(x))
    y = unpool(out, idx, output_size=x.shape)
    loss = ((y - x) ** 2).mean()
    loss.backward()
    assert conv.weight.grad.shape == (1, 1, 3, 3) and np.any(conv.weight.grad != 0)
    assert al.gradcheck(
        lambda w: ((unpool(pool(al.conv2d(x, w, padding=1))[0], idx, x.shape) - x) ** 2).mean(),
        al.Value(conv.weight.data),
    )


# ------------------------------------------------------------ adaptive average


def adaptive_avg_reference(x, oh, ow):
    """PyTorch's adaptive average pool: output (i, j) is the mean of input rows
    floor(i·H/OH) … ceil((i+1)·H/OH) − 1 and columns floor(j·W/OW) … ceil((j+1)·W/OW) − 1."""
    n, c, h, w = x.shape
    out = np.empty((n, c, oh, ow))
    for i, ch, r, q in np.ndindex(n, c, oh, ow):
        r0, r1 = math.floor(r * h / oh), math.ceil((r + 1) * h / oh)
        q0, q1 = math.floor(q * w / ow), math.ceil((q + 1) * w / ow)
        out[i, ch, r, q] = x[i, ch, r0:r1, q0:q1].mean()
    return out


@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    oh=st.none() | st.integers(1, 10),
    ow=st.none() | st.integers(1, 10),
    seed=st.integers(0, 50),
)
def test_adaptive_avg_pool_random_sizes(h, w, oh, ow, seed) -> None:
    x = al.Value(np.random.default_rng(seed).standard_normal((2, 2, h, w)))
    out = al.adaptive_avg_pool2d(x, (oh, ow))
    want = adaptive_avg_reference(x.data, oh or h, ow or w)
    assert out.shape == want.shape
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-12)
    assert al.gradcheck(lambda v: al.adaptive_avg_pool2d(v, (oh, ow)), x)


def test_adaptive_avg_pool_layer_global_average_and_second_derivatives() -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 5)).astype(np.float32)
    gap = nn.AdaptiveAvgPool2d(1)
    out = gap(x)
    assert out.dtype == np.float32 and out.shape == (2, 3, 1, 1)
    np.testing.assert_allclose(out.data[:, :, 0, 0], x.mean(axis=(2, 3)), rtol=1e-5, atol=1e-7)
    assert repr(nn.AdaptiveAvgPool2d((7, None))) == "AdaptiveAvgPool2d(output_size=(7, None))"
    small = np.random.default_rng(4).standard_normal((1, 1, 4, 3))
    assert_second_derivatives(lambda v: al.adaptive_avg_pool2d(v, (3, 2)).tanh().sum(), small)


def test_compiled_adaptive_avg_pool_matches_eager() -> None:
    assert_compiled_matches_eager(
        lambda x: (al.adaptive_avg_pool2d(x, (3, 2)) ** 2).sum(), (2, 3, 7, 5)
    )


@pytest.mark.parametrize("order", [1, 2])
def test_adaptive_avg_pool_matches_sympy(order) -> None:
    for op in ("adaptive_avg_pool2d", "plane_matmul2d"):
        result = symbolic.check(op, order=order)
        assert result.ok, result.message


@pytest.mark.parametrize("size", [0, -1, (2, 0), (2, 2, 2), 1.5, True, "7"])
def test_adaptive_avg_pool_bad_output_size(size) -> None:
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be an int >= 1"):
        al.adaptive_avg_pool2d(X, size)
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d: output_size must be an int >= 1"):
        nn.AdaptiveAvgPool2d(size)


def test_adaptive_avg_pool_needs_an_image() -> None:
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d needs an input of shape \(N, C, H"):
        al.adaptive_avg_pool2d(np.ones((3, 4)), 2)
    with pytest.raises(
        ValueError, match=r"plane_matmul2d: left \(2, 5\) and right \(1, 6\) do not"
    ):
        al.plane_matmul2d(X, np.ones((2, 5)), np.ones((1, 6)))
