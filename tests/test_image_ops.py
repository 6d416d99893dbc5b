"""conv2d, max/avg pooling and dropout (SPEC §7), NCHW as PyTorch.

Forward values against direct references written plainly here with loops over every
output pixel; gradients against central finite differences; second derivatives against
finite differences of first derivatives; hypothesis draws the geometry.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_array_ops import assert_second_derivatives  # the Hessian vs finite differences

import autograd_lite as al


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def conv_reference(
    x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1
) -> np.ndarray:
    """The definition of PyTorch's conv2d, one output element at a time.

    With ``groups`` G, filter j belongs to group j // (O/G) and sums over that group's
    C/G input channels only (w has C/G channels).
    """
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    assert cg * groups == c and o % groups == 0
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(n):
        for j in range(o):
            group = j // (o // groups)
            for r in range(oh):
                for q in range(ow):
                    total = 0.0
                    for ch in range(cg):
                        for a in range(kh):
                            for e in range(kw):
                                pixel = xp[i, group * cg + ch, r * sh + a * dh, q * sw + e * dw]
                                total += pixel * w[j, ch, a, e]
                    out[i, j, r, q] = total + (0.0 if b is None else b[j])
    return out


def pool_out_size(size, k, s, p, ceil_mode=False) -> int:
    """PyTorch's output length: floor (ceil) of (size + 2p - k) / s, plus one; in ceil
    mode a window that would start in the right padding is dropped."""
    out = (math.ceil if ceil_mode else math.floor)((size + 2 * p - k) / s) + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def pool_reference(
    x, kernel, stride, kind, padding=(0, 0), ceil_mode=False, count_include_pad=True
) -> np.ndarray:
    """PyTorch's max/avg pool by its definition, one output element at a time.

    Window (r, q) starts at (r·sh − ph, q·sw − pw) and stops after the kernel or at the
    end of the right padding, whichever comes first (ceil-mode windows hang over).
    Max takes the in-bounds elements only; avg sums them and divides by the number of
    positions the window covers, padding included (``count_include_pad=True``), or by
    the number of in-bounds elements.
    """
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    oh, ow = pool_out_size(h, kh, sh, ph, ceil_mode), pool_out_size(w, kw, sw, pw, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i in range(n):
        for ch in range(c):
            for r in range(oh):
                for q in range(ow):
                    top, left = r * sh - ph, q * sw - pw
                    bottom, right = min(top + kh, h + ph), min(left + kw, w + pw)
                    inside = [
                        x[i, ch, a, e]
                        for a in range(top, bottom)
                        for e in range(left, right)
                        if 0 <= a < h and 0 <= e < w
                    ]
                    if kind == "max":
                        out[i, ch, r, q] = max(inside)
                    else:
                        covered = (bottom - top) * (right - left)
                        out[i, ch, r, q] = sum(inside) / (
                            covered if count_include_pad else len(inside)
                        )
    return out


# ------------------------------------------------------------------- conv2d


@pytest.mark.parametrize(
    ("stride", "padding"), [(1, 0), (2, 1), ((1, 2), (2, 0)), ((3, 1), (1, 1))]
)
def test_conv2d_matches_reference_and_finite_differences(stride, padding) -> None:
    x, w, b = al.Value(_r(2, 3, 5, 6)), al.Value(_r(4, 3, 3, 2, seed=1)), al.Value(_r(4, seed=2))
    out = al.conv2d(x, w, b, stride=stride, padding=padding)
    pair = lambda v: (v, v) if isinstance(v, int) else v
    ref = conv_reference(x.data, w.data, b.data, pair(stride), pair(padding))
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, atol=1e-12)
    assert al.gradcheck(lambda *vs: al.conv2d(*vs, stride=stride, padding=padding), x, w, b)


@pytest.mark.parametrize(
    ("dilation", "stride", "padding"),
    [(2, 1, 0), ((2, 3), 1, (1, 2)), (2, 2, 1), ((1, 2), (2, 1), 0)],
)
def test_conv2d_dilation_matches_reference_and_finite_differences(dilation, stride, padding):
    x, w, b = al.Value(_r(2, 3, 6, 7)), al.Value(_r(4, 3, 2, 3, seed=1)), al.Value(_r(4, seed=2))
    out = al.conv2d(x, w, b, stride, padding, dilation=dilation)
    pair = lambda v: (v, v) if isinstance(v, int) else v
    ref = conv_reference(x.data, w.data, b.data, pair(stride), pair(padding), pair(dilation))
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, atol=1e-12)
    assert al.gradcheck(lambda *vs: al.conv2d(*vs, stride, padding, dilation), x, w, b)


def test_conv2d_dilation_second_derivatives() -> None:
    w, x = _r(2, 2, 2, 2, seed=1), _r(1, 2, 4, 4)
    assert_second_derivatives(lambda v: al.conv2d(v, w, padding=1, dilation=2).tanh().sum(), x)
    assert_second_derivatives(lambda k: (al.conv2d(x, k, dilation=(2, 1)) ** 2).sum(), w)


@pytest.mark.parametrize(
    ("c", "o", "groups", "stride", "padding", "dilation"),
    [
        (4, 6, 2, 1, 0, 1),  # two groups of 2 channels, 3 filters each
        (6, 6, 3, (2, 1), 1, 1),
        (3, 3, 3, 1, 1, 1),  # depthwise
        (3, 6, 3, 2, (1, 2), (2, 1)),  # depthwise, two filters per channel, all combined
        (4, 4, 4, 1, 2, 2),
    ],
)
def test_conv2d_groups_match_reference_and_finite_differences(
    c, o, groups, stride, padding, dilation
) -> None:
    x = al.Value(_r(2, c, 6, 7))
    w, b = al.Value(_r(o, c // groups, 3, 2, seed=1)), al.Value(_r(o, seed=2))
    out = al.conv2d(x, w, b, stride, padding, dilation, groups=groups)
    pair = lambda v: (v, v) if isinstance(v, int) else v
    ref = conv_reference(
        x.data, w.data, b.data, pair(stride), pair(padding), pair(dilation), groups
    )
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, atol=1e-12)
    assert al.gradcheck(lambda *vs: al.conv2d(*vs, stride, padding, dilation, groups), x, w, b)


def test_conv2d_groups_keep_the_groups_apart() -> None:
    # group 1's filters must not see group 0's channels: change only channel 0
    x, w = _r(1, 4, 5, 5), _r(4, 2, 3, 3, seed=1)
    before = al.conv2d(x, w, groups=2).data
    x2 = x.copy()
    x2[:, 0] += 1.0
    after = al.conv2d(x2, w, groups=2).data
    assert np.all(after[:, :2] != before[:, :2])
    np.testing.assert_array_equal(after[:, 2:], before[:, 2:])


def test_conv2d_groups_second_derivatives() -> None:
    w, x = _r(4, 1, 2, 2, seed=1), _r(1, 2, 4, 4)
    assert_second_derivatives(lambda v: al.conv2d(v, w, padding=1, groups=2).tanh().sum(), x)
    assert_second_derivatives(lambda k: (al.conv2d(x, k, stride=2, groups=2) ** 2).sum(), w)
    # mixed: d²/dx dW through the recorded gradient ops, which carry the groups
    assert al.gradcheck(lambda k: _grad_of_input(x, k, groups=2), al.Value(w))


def test_conv2d_without_bias_and_float32() -> None:
    x = al.Value(_r(1, 2, 4, 4).astype(np.float32))
    w = al.Value(_r(3, 2, 2, 2, seed=1).astype(np.float32))
    y = al.conv2d(x, w)
    np.testing.assert_allclose(y.data, conv_reference(x.data, w.data), rtol=1e-5, atol=1e-5)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    assert len(y.parents) == 3 and not y.parents[2].requires_grad  # the bias slot: a constant 0


def test_conv2d_second_derivatives_in_input_and_weight() -> None:
    w = _r(2, 2, 2, 2, seed=1)
    x = _r(1, 2, 3, 3)
    assert_second_derivatives(lambda v: al.conv2d(v, w, padding=1).tanh().sum(), x)
    assert_second_derivatives(lambda k: (al.conv2d(x, k, stride=2, padding=1) ** 2).sum(), w)
    # mixed: d²/dx dW through the recorded gradient ops
    assert _grad_of_input(x, al.Value(w)).op == "conv2d_grad_input"
    assert al.gradcheck(lambda k: _grad_of_input(x, k), al.Value(w))


def _grad_of_input(x: np.ndarray, k: al.Value, groups: int = 1) -> al.Value:
    """The gradient of sum(conv2d(x, k)²) for x, as a differentiable function of k."""
    xv = al.Value(x)
    with al.enable_grad():
        (al.conv2d(xv, k, groups=groups) ** 2).sum().backward(create_graph=True)
    k.zero_grad()  # that backward reached k too; only the outer one should count
    return xv.grad


@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    o=st.integers(1, 3),
    groups=st.integers(1, 3),
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 2), st.integers(0, 2)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    seed=st.integers(0, 100),
)
def test_conv2d_random_geometry(
    n, c, o, groups, h, w, kh, kw, stride, padding, dilation, seed
) -> None:
    c, o = c * groups, o * groups  # c and o: channels and filters per group
    geometry = stride, padding, dilation, groups
    span = ((kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1)
    if span[0] > h + 2 * padding[0] or span[1] > w + 2 * padding[1]:
        with pytest.raises(ValueError, match=r"conv2d.*larger than the padded input"):
            al.conv2d(_r(n, c, h, w), _r(o, c // groups, kh, kw), None, *geometry)
        return
    x, b = al.Value(_r(n, c, h, w, seed=seed)), None
    k = al.Value(_r(o, c // groups, kh, kw, seed=seed + 1))
    if seed % 2:
        b = al.Value(_r(o, seed=seed + 2))
    out = al.conv2d(x, k, b, *geometry)
    ref = conv_reference(x.data, k.data, None if b is None else b.data, *geometry)
    np.testing.assert_allclose(out.data, ref, atol=1e-12)
    weights = _r(*out.shape, seed=seed + 3)
    (out * weights).sum().backward()
    # the gradients are the adjoints: <conv(dx), weights> = <dx, x.grad> for any dx
    dx, dk = _r(n, c, h, w, seed=seed + 4), _r(o, c // groups, kh, kw, seed=seed + 5)
    lhs_x = (conv_reference(dx, k.data, None, *geometry) * weights).sum()
    lhs_k = (conv_reference(x.data, dk, None, *geometry) * weights).sum()
    assert lhs_x == pytest.approx((dx * x.grad).sum(), abs=1e-9)
    assert lhs_k == pytest.approx((dk * k.grad).sum(), abs=1e-9)
    if b is not None:
        np.testing.assert_allclose(b.grad, weights.sum(axis=(0, 2, 3)))


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "kwargs", "pattern"),
    [
        ((3, 5, 5), (2, 3, 3, 3), {}, r"conv2d.*\(N, C, H, W\).*\(3, 5, 5\)"),
        ((1, 3, 5, 5), (2, 3, 3), {}, r"conv2d.*weight.*\(2, 3, 3\)"),
        ((1, 3, 5, 5), (2, 4, 3, 3), {}, r"conv2d.*3 channels.*expects 4"),
        ((1, 3, 2, 2), (2, 3, 3, 3), {}, r"conv2d.*kernel \(3, 3\) is larger.*\(2, 2\)"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"stride": 0}, "conv2d.*stride"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"padding": -1}, "conv2d.*padding"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"stride": 1.5}, "conv2d.*stride"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"padding": (1, 1, 1)}, "conv2d.*padding"),
        ((1, 3, 5, 5), (2, 3, 3, 3), {"dilation": 0}, r"conv2d: dilation must be an int >= 1"),
        (
            (1, 3, 4, 4),
            (2, 3, 3, 2),
            {"dilation": 2},
            r"conv2d: kernel \(3, 2\) with dilation \(2, 2\) \(span \(5, 3\)\) is larger than "
            r"the padded input \(4, 4\)",
        ),
        (
            (1, 3, 5, 5),
            (4, 1, 3, 3),
            {"groups": 2},
            r"conv2d: x has 3 channels \(shape \(1, 3, 5, 5\)\), not divisible by groups=2",
        ),
        (
            (1, 4, 5, 5),
            (3, 2, 3, 3),
            {"groups": 2},
            r"conv2d: weight has 3 filters \(shape \(3, 2, 3, 3\)\), not divisible by groups=2",
        ),
        (
            (1, 4, 5, 5),
            (4, 4, 3, 3),
            {"groups": 2},
            r"conv2d: x has 4 channels \(shape \(1, 4, 5, 5\)\) but weight of shape "
            r"\(4, 4, 3, 3\) with groups=2 expects 8 \(4 per group\)",
        ),
        ((1, 4, 5, 5), (4, 1, 3, 3), {"groups": 2}, r"conv2d: .* with groups=2 expects 2"),
        ((1, 4, 5, 5), (4, 2, 3, 3), {"groups": 0}, r"conv2d: groups must be an int >= 1"),
        ((1, 4, 5, 5), (4, 2, 3, 3), {"groups": 2.0}, r"conv2d: groups must be an int >= 1"),
        ((1, 4, 5, 5), (4, 4, 3, 3), {"groups": True}, r"conv2d: groups must be an int >= 1"),
    ],
)
def test_conv2d_bad_input(x_shape, w_shape, kwargs, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        al.conv2d(al.Value(np.zeros(x_shape)), al.Value(np.zeros(w_shape)), **kwargs)


def test_conv2d_gradient_ops_check_their_groups() -> None:
    g, w = np.zeros((1, 4, 3, 3)), np.zeros((4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d_grad_input: x has 4 channels .* expects 8"):
        al.conv2d_grad_input(g, w, (1, 4, 5, 5), 1, 0, 1, 4)
    with pytest.raises(ValueError, match=r"conv2d_grad_weight: weight has 4 filters .* groups=3"):
        al.conv2d_grad_weight(np.zeros((1, 6, 5, 5)), g, (4, 2, 3, 3), 1, 0, 1, 3)


def test_conv2d_bad_bias_shape() -> None:
    with pytest.raises(ValueError, match=r"conv2d: bias of shape \(3,\) for 2 filters"):
        al.conv2d(np.zeros((1, 1, 3, 3)), np.zeros((2, 1, 2, 2)), np.zeros(3))


# ------------------------------------------------------------------ pooling


@pytest.mark.parametrize(("kernel", "stride"), [(2, None), ((2, 3), 1), (3, 2), ((1, 2), (2, 1))])
def test_pools_match_reference_and_finite_differences(kernel, stride) -> None:
    rng = np.random.default_rng(3)
    x = al.Value(rng.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) * 0.1)  # no ties
    k = (kernel, kernel) if isinstance(kernel, int) else kernel
    s = k if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    np.testing.assert_allclose(
        al.max_pool2d(x, kernel, stride).data, pool_reference(x.data, k, s, "max")
    )
    np.testing.assert_allclose(
        al.avg_pool2d(x, kernel, stride).data, pool_reference(x.data, k, s, "avg")
    )
    assert al.gradcheck(lambda v: al.max_pool2d(v, kernel, stride), x)
    assert al.gradcheck(lambda v: al.avg_pool2d(v, kernel, stride=stride), x)


def test_max_pool_ties_go_to_the_first_maximum_and_overlaps_add() -> None:
    x = al.Value(np.array([[[[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]))
    al.max_pool2d(x, 2, 1).sum().backward()
    # window (0,0) has the tie 1, 1: all to the first, (0,0); window (0,1) has its maximum
    # 1 at (0,1); windows (1,0), (1,1) are all zeros: all to their first element, (1,0)
    # and (1,1) (PyTorch's rule: the gradient goes where return_indices points)
    expected = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(x.grad[0, 0], expected)


def test_pool_second_derivatives() -> None:
    x = np.random.default_rng(5).permutation(16).reshape(1, 1, 4, 4) * 0.3 - 2.0
    assert_second_derivatives(lambda v: (al.max_pool2d(v * v, 2, 1) ** 2).sum(), x)
    assert_second_derivatives(lambda v: al.avg_pool2d(v, 3, 1).tanh().sum(), x)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"),
    [(2, None, 1), (3, 2, 1), ((3, 2), 1, (1, 0)), ((2, 4), (2, 3), (1, 2)), (3, 1, (0, 1))],
)
def test_padded_pools_match_reference_and_finite_differences(kernel, stride, padding) -> None:
    rng = np.random.default_rng(4)
    # all values negative: a max pool that let its padding win would return 0 (or -inf)
    x = al.Value(rng.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) * 0.01 - 10.0)
    pair = lambda v: (v, v) if isinstance(v, int) else v
    k, p = pair(kernel), pair(padding)
    s = k if stride is None else pair(stride)
    max_out = al.max_pool2d(x, kernel, stride, padding)
    assert np.all(np.isfinite(max_out.data)) and np.all(max_out.data < -8.0)
    np.testing.assert_allclose(max_out.data, pool_reference(x.data, k, s, "max", p))
    np.testing.assert_allclose(
        al.avg_pool2d(x, kernel, stride, padding=padding).data,
        pool_reference(x.data, k, s, "avg", p),
    )
    assert al.gradcheck(lambda v: al.max_pool2d(v, kernel, stride, padding=padding), x)
    assert al.gradcheck(lambda v: al.avg_pool2d(v, kernel, stride, padding), x)


def test_avg_pool_padding_counts_the_zeros() -> None:
    # a corner window of a 3×3 kernel with padding 1 sees 4 of the 9 ones
    out = al.avg_pool2d(al.Value(np.ones((1, 1, 4, 4))), 3, stride=3, padding=1).data
    np.testing.assert_allclose(out[0, 0], [[4 / 9, 4 / 9], [4 / 9, 4 / 9]])


def test_padded_pool_second_derivatives() -> None:
    x = np.random.default_rng(6).permutation(16).reshape(1, 1, 4, 4) * 0.3 - 2.0
    assert_second_derivatives(lambda v: (al.max_pool2d(v * v, 3, 2, 1) ** 2).sum(), x)
    assert_second_derivatives(lambda v: al.avg_pool2d(v, 2, 1, padding=1).tanh().sum(), x)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"),
    [(2, None, 0), (3, 2, 1), (3, 2, 0), ((2, 3), (3, 2), (1, 1)), ((2, 3), 2, (0, 1))],
)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_ceil_mode_pools_match_reference_and_finite_differences(
    kernel, stride, padding, count_include_pad
) -> None:
    rng = np.random.default_rng(7)
    x = al.Value(rng.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) * 0.01 - 10.0)
    pair = lambda v: (v, v) if isinstance(v, int) else v
    k, p = pair(kernel), pair(padding)
    s = k if stride is None else pair(stride)
    floor_shape = al.avg_pool2d(x, kernel, stride, padding).shape
    max_out = al.max_pool2d(x, kernel, stride, padding, ceil_mode=True)
    ref = pool_reference(x.data, k, s, "max", p, ceil_mode=True)
    assert max_out.shape == ref.shape and max_out.shape != floor_shape  # windows hang over
    assert np.all(np.isfinite(max_out.data)) and np.all(max_out.data < -8.0)
    np.testing.assert_allclose(max_out.data, ref)
    avg = lambda v: al.avg_pool2d(v, kernel, stride, padding, True, count_include_pad)
    ref = pool_reference(x.data, k, s, "avg", p, True, count_include_pad)
    np.testing.assert_allclose(avg(x).data, ref)
    assert al.gradcheck(lambda v: al.max_pool2d(v, kernel, stride, padding, ceil_mode=True), x)
    assert al.gradcheck(avg, x)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding"), [(3, 2, 1), ((2, 3), 1, (1, 1)), (3, 3, 0)]
)
def test_avg_pool_without_counting_the_padding(kernel, stride, padding) -> None:
    x = al.Value(_r(2, 3, 5, 4))
    pair = lambda v: (v, v) if isinstance(v, int) else v
    out = al.avg_pool2d(x, kernel, stride, padding, count_include_pad=False)
    ref = pool_reference(x.data, pair(kernel), pair(stride), "avg", pair(padding), False, False)
    np.testing.assert_allclose(out.data, ref)
    assert al.gradcheck(lambda v: al.avg_pool2d(v, kernel, stride, padding, False, False), x)


def test_avg_pool_divisors_by_hand() -> None:
    ones = al.Value(np.ones((1, 1, 4, 4)))
    # 3×3 windows, stride 2, padding 1 on a 4×4 input, ceil mode: three windows per axis;
    # the third starts at row 3 and covers row 3 and one padding row (of its 3):
    # 2 counted positions (padding included), 1 real element
    out = al.avg_pool2d(ones, 3, 2, 1, ceil_mode=True).data[0, 0]
    np.testing.assert_allclose(out[0], [4 / 9, 6 / 9, 2 / 6])
    np.testing.assert_allclose(out[2], [2 / 6, 3 / 6, 1 / 4])
    real = al.avg_pool2d(ones, 3, 2, 1, ceil_mode=True, count_include_pad=False).data
    np.testing.assert_allclose(real, np.ones((1, 1, 3, 3)))  # only real elements: ones


def test_ceil_mode_keeps_a_window_larger_than_the_input_as_pytorch() -> None:
    # floor: (1 - 2)//2 + 1 = 0 windows, an error; ceil: one window over the single pixel
    x = al.Value(np.array([[[[3.0]]]]))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel \(2, 2\) is larger"):
        al.max_pool2d(x, 2)
    assert al.max_pool2d(x, 2, ceil_mode=True).data.tolist() == [[[[3.0]]]]
    assert al.avg_pool2d(x, 2, ceil_mode=True).data.tolist() == [[[[3.0]]]]


def test_ceil_mode_and_count_include_pad_second_derivatives() -> None:
    x = np.random.default_rng(8).permutation(20).reshape(1, 1, 4, 5) * 0.3 - 2.0
    assert_second_derivatives(
        lambda v: (al.max_pool2d(v * v, 3, 2, 1, ceil_mode=True) ** 2).sum(), x
    )
    assert_second_derivatives(lambda v: al.avg_pool2d(v, 2, 2, 1, True, False).tanh().sum(), x)
    assert_second_derivatives(lambda v: al.avg_pool2d(v, 3, 2, 0, True).tanh().sum(), x)


@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    ceil_mode=st.booleans(),
    count_include_pad=st.booleans(),
    seed=st.integers(0, 50),
)
def test_pools_random_geometry(
    h, w, kernel, stride, padding, ceil_mode, count_include_pad, seed
) -> None:
    x = al.Value(np.random.default_rng(seed).permutation(2 * h * w).reshape(1, 2, h, w) * 0.1)
    max_options = (kernel, stride, padding, 1, ceil_mode)  # dilation 1
    avg_options = (kernel, stride, padding, ceil_mode, count_include_pad)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        for pool, options in ((al.max_pool2d, max_options), (al.avg_pool2d, avg_options)):
            with pytest.raises(ValueError, match=r"pool2d: padding .* at most half the kernel"):
                pool(x, *options)
        return
    s = kernel if stride is None else stride
    sizes = [pool_out_size(n, kernel[i], s[i], padding[i], ceil_mode) for i, n in enumerate((h, w))]
    if min(sizes) < 1:
        for pool, options in ((al.max_pool2d, max_options), (al.avg_pool2d, avg_options)):
            with pytest.raises(ValueError, match=r"pool2d.*larger than the padded input"):
                pool(x, *options)
        return
    np.testing.assert_allclose(
        al.max_pool2d(x, *max_options).data,
        pool_reference(x.data, kernel, s, "max", padding, ceil_mode),
    )
    np.testing.assert_allclose(
        al.avg_pool2d(x, *avg_options).data,
        pool_reference(x.data, kernel, s, "avg", padding, ceil_mode, count_include_pad),
    )
    assert al.gradcheck(lambda v: al.max_pool2d(v, *max_options), x)
    assert al.gradcheck(lambda v: al.avg_pool2d(v, *avg_options), x)


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_pool_bad_input(pool) -> None:
    f = getattr(al, pool)
    with pytest.raises(ValueError, match=rf"{pool}.*\(N, C, H, W\).*\(4, 4\)"):
        f(al.Value(np.zeros((4, 4))), 2)
    with pytest.raises(ValueError, match=rf"{pool}.*kernel \(5, 5\) is larger"):
        f(al.Value(np.zeros((1, 1, 4, 4))), 5)
    with pytest.raises(ValueError, match=rf"{pool}.*kernel_size"):
        f(al.Value(np.zeros((1, 1, 4, 4))), 0)


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize(
    ("kernel", "padding", "pattern"),
    [
        (2, 2, r"padding \(2, 2\) must be at most half the kernel size \(2, 2\)"),
        ((3, 2), (1, 2), r"padding \(1, 2\) must be at most half the kernel size \(3, 2\)"),
        (1, 1, r"padding \(1, 1\) must be at most half the kernel size \(1, 1\)"),
        (2, -1, r"padding must be an int >= 0 or a pair of them, got -1"),
        (2, (1, 1, 1), r"padding must be an int >= 0 or a pair of them"),
    ],
)
def test_pool_bad_padding(pool, kernel, padding, pattern) -> None:
    with pytest.raises(ValueError, match=rf"{pool}: {pattern}"):
        getattr(al, pool)(al.Value(np.zeros((1, 1, 6, 6))), kernel, padding=padding)


@pytest.mark.parametrize(
    ("pool", "options", "pattern"),
    [
        ("max_pool2d", {"ceil_mode": 1}, r"max_pool2d: ceil_mode must be True or False, got 1"),
        ("avg_pool2d", {"ceil_mode": "yes"}, r"avg_pool2d: ceil_mode must be True or False"),
        (
            "avg_pool2d",
            {"count_include_pad": None},
            r"avg_pool2d: count_include_pad must be True or False, got None",
        ),
    ],
)
def test_pool_bad_flags(pool, options, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        getattr(al, pool)(al.Value(np.zeros((1, 1, 4, 4))), 2, **options)


def test_max_pool_takes_pytorchs_positional_dilation_and_refuses_a_bool_there() -> None:
    # F.max_pool2d(x, k, s, p, dilation, ceil_mode): a bool 5th is an old positional ceil_mode
    x = al.Value(np.arange(25.0).reshape(1, 1, 5, 5))
    assert al.max_pool2d(x, 2, 1, 0, 3).data.tolist() == [[[[18.0, 19.0], [23.0, 24.0]]]]
    with pytest.raises(
        TypeError, match=r"max_pool2d: dilation .* got True .*ceil_mode= by keyword"
    ):
        al.max_pool2d(x, 2, 2, 0, True)


@pytest.mark.parametrize(
    ("padding", "pattern"),
    [
        (((0, 1), (1,)), r"window_sum2d: padding must be \(\(top, bottom\), \(left, right\)\)"),
        (((0, -1), (1, 1)), r"window_sum2d: padding must be .* ints >= 0"),
        ((1, 2, 3), r"window_sum2d: padding must be an int >= 0 or a pair of them"),
    ],
)
def test_window_ops_bad_padding(padding, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        al.window_sum2d(al.Value(np.zeros((1, 1, 4, 4))), 0.25, (2, 2), (2, 2), padding)


# ------------------------------------------------------------------ dropout


def test_dropout_inverted_scaling_and_fixed_mask() -> None:
    x = al.Value(np.ones((200, 50)))
    y = al.dropout(x, p=0.3, rng=np.random.default_rng(0))
    kept = y.data != 0
    assert set(np.unique(y.data)) <= {0.0, 1 / 0.7}
    assert abs(kept.mean() - 0.7) < 0.02
    assert abs(y.data.mean() - 1.0) < 0.03  # expectation preserved
    (y * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad, kept * (2 / 0.7))  # the same mask in backward
    assert al.gradcheck(lambda v: al.dropout(v, 0.5, rng=1) ** 2, al.Value(_r(4, 3)))


def test_dropout_reproducible_from_seed_and_identity_when_not_training() -> None:
    x = al.Value(_r(5, 5))
    a = al.dropout(x, 0.5, rng=42).data
    b = al.dropout(x, 0.5, rng=42).data
    np.testing.assert_array_equal(a, b)
    assert al.dropout(x, 0.5, training=False) is x
    assert al.dropout(x, 0.0) is x
    assert al.dropout(al.Value(2.0), 0.5, rng=0).data in (0.0, 4.0)


@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, float("nan"), True])
def test_dropout_bad_p(p) -> None:
    with pytest.raises(ValueError, match=r"dropout: p must be a probability in \[0, 1\)"):
        al.dropout(al.Value([1.0]), p)


@pytest.mark.parametrize("rng", ["x", 1.5, True, np.ones(2), al.Value(1.0)])
def test_dropout_bad_rng_names_dropout(rng) -> None:
    # numpy's "SeedSequence expects int or sequence of ints for entropy not x" named nothing
    with pytest.raises(TypeError, match=r"^dropout: rng must be a numpy Generator"):
        al.dropout(al.Value(np.ones(4)), 0.5, rng=rng)
    with pytest.raises(ValueError, match=r"^dropout: rng seed -1"):
        al.dropout(al.Value(np.ones(4)), 0.5, rng=-1)


def test_dropout_second_derivative() -> None:
    assert_second_derivatives(lambda v: (al.dropout(v, 0.4, rng=3) ** 3).sum(), _r(2, 3))
