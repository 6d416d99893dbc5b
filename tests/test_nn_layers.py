"""Conv, pooling, dropout, normalisation and embedding layers, buffers and gradient clipping.

Each layer's forward is compared with a plain numpy version of PyTorch's documented
equations written here, its gradients with finite differences.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import nn

RNG = np.random.default_rng(0)


# ------------------------------------------------------------ convolution, pooling


def ref_conv2d(x, w, b, stride, padding, dilation=1, groups=1):
    """PyTorch's Conv2d by its definition: a loop over output pixels (cross-correlation).

    With groups G, the filters of group g (O/G of them) see only input channels
    g·C/G … (g+1)·C/G − 1.
    """
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    d = dilation
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - d * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * padding - d * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for g in range(groups):
        chans = slice(g * c // groups, (g + 1) * c // groups)
        filters = slice(g * o // groups, (g + 1) * o // groups)
        for i in range(oh):
            for j in range(ow):
                rows = [i * stride + d * u for u in range(kh)]
                cols = [j * stride + d * v for v in range(kw)]
                patch = xp[:, chans][:, :, rows][:, :, :, cols]
                out[:, filters, i, j] = np.einsum("nckl,ockl->no", patch, w[filters])
    return out + b[:, None, None]


def ref_pool(x, k, stride, reduce, padding=0, ceil_mode=False, count_include_pad=True):
    """PyTorch's pools by their definition; a padded window holds -inf (max) or 0 (avg).

    The average divides by the positions a window covers, zeros included (PyTorch's
    count_include_pad=True), or by the input elements it covers. With ceil_mode a last
    window may hang past the padding (it must start inside the input or left padding):
    those positions hold NaN here and are neither reduced nor counted.
    """
    n, c, h, w = x.shape
    p = padding

    def size(m):
        out = (math.ceil if ceil_mode else math.floor)((m + 2 * p - k) / stride) + 1
        return out - 1 if ceil_mode and (out - 1) * stride >= m + p else out

    fill = -np.inf if reduce is np.max else 0.0
    xp = np.full((n, c, h + 2 * p + k, w + 2 * p + k), np.nan)
    xp[:, :, : h + 2 * p, : w + 2 * p] = fill
    xp[:, :, p : p + h, p : p + w] = x
    oh, ow = size(h), size(w)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            if reduce is np.max:
                out[:, :, i, j] = np.nanmax(win, axis=(2, 3))
                continue
            rows = range(i * stride - p, i * stride - p + k)
            cols = range(j * stride - p, j * stride - p + k)
            inside = sum(0 <= a < h and 0 <= b < w for a in rows for b in cols)
            count = np.sum(~np.isnan(win[0, 0])) if count_include_pad else inside
            out[:, :, i, j] = np.nansum(win, axis=(2, 3)) / count
    return out


@pytest.mark.parametrize("stride, padding", [(1, 0), (1, 1), (2, 1)])
def test_conv2d_forward_matches_the_definition(stride, padding):
    conv = nn.Conv2d(3, 4, 3, stride=stride, padding=padding, seed=1)
    x = RNG.normal(size=(2, 3, 7, 6))
    ref = ref_conv2d(x, conv.weight.data, conv.bias.data, stride, padding)
    np.testing.assert_allclose(conv(x).data, ref, atol=1e-12)


@pytest.mark.parametrize("stride, padding, dilation", [(1, 0, 2), (2, 1, 2), (1, 2, 3)])
def test_conv2d_dilation_matches_the_definition_and_has_gradients(stride, padding, dilation):
    conv = nn.Conv2d(3, 4, 3, stride=stride, padding=padding, dilation=dilation, seed=1)
    x = RNG.normal(size=(2, 3, 8, 7))
    ref = ref_conv2d(x, conv.weight.data, conv.bias.data, stride, padding, dilation)
    np.testing.assert_allclose(conv(x).data, ref, atol=1e-12)
    xv = al.Value(x)
    assert al.gradcheck(lambda x, w, b: (conv(x) ** 2).sum(), xv, conv.weight, conv.bias)


def test_conv2d_repr_shows_dilation_when_not_1():
    assert (
        repr(nn.Conv2d(1, 2, 3))
        == "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0))"
    )
    assert repr(nn.Conv2d(1, 2, 3, dilation=(2, 1), bias=False)) == (
        "Conv2d(1, 2, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), dilation=(2, 1), "
        "bias=False)"
    )
    with pytest.raises(ValueError, match=r"Conv2d: dilation must be an int >= 1"):
        nn.Conv2d(1, 2, 3, dilation=0)


def test_conv2d_keeps_the_spec_order_bias_sixth():
    """SPEC: Conv2d(in, out, kernel, stride, padding, bias); dilation and groups by keyword."""
    assert nn.Conv2d(1, 2, 3, 1, 0, False).bias is None
    assert nn.Conv2d(1, 2, 3, 1, 0, True).bias.shape == (2,)
    with pytest.raises(TypeError, match=r"Conv2d: bias must be True or False, got 2 .*dilation="):
        nn.Conv2d(1, 2, 3, 1, 0, 2)  # PyTorch's positional dilation
    with pytest.raises(TypeError):
        nn.Conv2d(1, 2, 3, 1, 0, True, 2)  # dilation is keyword-only


@pytest.mark.parametrize(
    "cin, cout, groups, stride, padding, dilation",
    [(4, 6, 2, 1, 1, 1), (3, 3, 3, 1, 1, 1), (3, 6, 3, 2, 0, 1), (6, 4, 2, 1, 2, 2)],
)
def test_conv2d_groups_match_the_definition_and_have_gradients(
    cin, cout, groups, stride, padding, dilation
):
    conv = nn.Conv2d(cin, cout, 3, stride, padding, dilation=dilation, groups=groups, seed=1)
    assert conv.weight.shape == (cout, cin // groups, 3, 3)
    x = RNG.normal(size=(2, cin, 7, 6))
    ref = ref_conv2d(x, conv.weight.data, conv.bias.data, stride, padding, dilation, groups)
    np.testing.assert_allclose(conv(x).data, ref, atol=1e-12)
    xv = al.Value(x)
    assert al.gradcheck(lambda x, w, b: (conv(x) ** 2).sum(), xv, conv.weight, conv.bias)


def test_conv2d_groups_init_repr_and_bad_counts():
    conv = nn.Conv2d(6, 4, (3, 2), groups=2, bias=False, seed=2)
    bound = 1 / np.sqrt(3 * 3 * 2)  # fan_in: in_channels/groups · kh · kw, as PyTorch
    assert bound * 0.8 < np.abs(conv.weight.data).max() <= bound
    assert repr(conv) == (
        "Conv2d(6, 4, kernel_size=(3, 2), stride=(1, 1), padding=(0, 0), groups=2, bias=False)"
    )
    with pytest.raises(ValueError, match=r"Conv2d: in_channels \(6\) must be divisible by "):
        nn.Conv2d(6, 8, 3, groups=4)
    with pytest.raises(ValueError, match=r"Conv2d: out_channels \(3\) must be divisible by "):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: groups must be a positive integer"):
        nn.Conv2d(4, 4, 3, groups=0)


def test_conv2d_parameters_and_init_as_pytorch():
    conv = nn.Conv2d(3, 8, (3, 2), seed=2)
    assert [(n, p.shape) for n, p in conv.named_parameters()] == [
        ("weight", (8, 3, 3, 2)),
        ("bias", (8,)),
    ]
    bound = 1 / np.sqrt(3 * 3 * 2)
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.8 * bound
    assert [n for n, _ in nn.Conv2d(1, 2, 3, bias=False).named_parameters()] == ["weight"]


def test_conv2d_gradients_match_finite_differences():
    conv = nn.Conv2d(2, 3, 2, stride=1, padding=1, seed=3)
    x = al.Value(RNG.normal(size=(2, 2, 4, 3)))
    assert al.gradcheck(lambda x, w, b: (conv(x) ** 2).sum(), x, conv.weight, conv.bias)


def test_pooling_matches_the_definition_and_has_gradients():
    x = RNG.normal(size=(2, 3, 6, 6))
    np.testing.assert_allclose(nn.MaxPool2d(2)(x).data, ref_pool(x, 2, 2, np.max))
    np.testing.assert_allclose(nn.AvgPool2d(3, stride=1)(x).data, ref_pool(x, 3, 1, np.mean))
    xv = al.Value(x)
    assert al.gradcheck(lambda v: (nn.MaxPool2d(2)(v) ** 2).sum(), xv)
    assert al.gradcheck(lambda v: (nn.AvgPool2d(2, 1)(v) ** 2).sum(), xv)


def test_padded_pooling_matches_the_definition_and_has_gradients():
    x = RNG.normal(size=(2, 3, 5, 6)) - 10.0  # all negative: padding must never win a max
    for k, stride, padding in [(2, 2, 1), (3, 1, 1), (3, 2, 1)]:
        out = nn.MaxPool2d(k, stride, padding)(x).data
        np.testing.assert_allclose(out, ref_pool(x, k, stride, np.max, padding))
        assert np.all(out < -5.0)
        np.testing.assert_allclose(
            nn.AvgPool2d(k, stride=stride, padding=padding)(x).data,
            ref_pool(x, k, stride, np.mean, padding),
        )
    xv = al.Value(x)
    assert al.gradcheck(lambda v: (nn.MaxPool2d(3, 2, padding=1)(v) ** 2).sum(), xv)
    assert al.gradcheck(lambda v: (nn.AvgPool2d(2, 1, padding=1)(v) ** 2).sum(), xv)


def test_pooling_repr_shows_kernel_stride_and_padding():
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    assert (
        repr(nn.AvgPool2d((3, 2), stride=1, padding=(1, 0)))
        == "AvgPool2d(kernel_size=(3, 2), stride=(1, 1), padding=(1, 0))"
    )
    assert repr(nn.MaxPool2d(2, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), ceil_mode=True)"
    )
    assert repr(nn.AvgPool2d(3, 2, 1, True, False)) == (
        "AvgPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), ceil_mode=True, "
        "count_include_pad=False)"
    )


@pytest.mark.parametrize("k, stride, padding", [(2, 2, 0), (3, 2, 1), (2, 3, 1), (3, 2, 0)])
def test_ceil_mode_pooling_matches_the_definition_and_has_gradients(k, stride, padding):
    x = RNG.normal(size=(2, 3, 5, 6)) - 10.0  # all negative: padding must never win a max
    out = nn.MaxPool2d(k, stride, padding, ceil_mode=True)(x).data
    np.testing.assert_allclose(out, ref_pool(x, k, stride, np.max, padding, True))
    assert np.all(out < -5.0)
    for include in (True, False):
        avg = nn.AvgPool2d(k, stride, padding, ceil_mode=True, count_include_pad=include)
        np.testing.assert_allclose(
            avg(x).data, ref_pool(x, k, stride, np.mean, padding, True, include)
        )
    xv = al.Value(x)
    assert al.gradcheck(
        lambda v: (nn.MaxPool2d(k, stride, padding, ceil_mode=True)(v) ** 2).sum(), xv
    )
    avg = nn.AvgPool2d(k, stride, padding, True, count_include_pad=False)
    assert al.gradcheck(lambda v: (avg(v) ** 2).sum(), xv)


def test_avg_pool_count_include_pad_false_matches_the_definition():
    x = RNG.normal(size=(2, 3, 5, 6))
    for k, stride, padding in [(2, 2, 1), (3, 1, 1), (3, 2, 1)]:
        pool = nn.AvgPool2d(k, stride, padding, count_include_pad=False)
        np.testing.assert_allclose(
            pool(x).data, ref_pool(x, k, stride, np.mean, padding, count_include_pad=False)
        )


@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
def test_pool_flags_must_be_bools(cls):
    name = cls.__name__
    with pytest.raises(ValueError, match=rf"{name}: ceil_mode must be True or False, got 1"):
        cls(2, 2, 0, ceil_mode=1)
    if cls is nn.AvgPool2d:
        with pytest.raises(ValueError, match=r"AvgPool2d: count_include_pad must be True or Fal"):
            cls(2, count_include_pad="no")


@pytest.mark.parametrize("cls", [nn.MaxPool2d, nn.AvgPool2d])
def test_pool_padding_over_half_the_kernel_is_refused(cls):
    name = cls.__name__
    with pytest.raises(
        ValueError, match=rf"{name}: padding \(2, 2\) .* half the kernel size \(3, 3\)"
    ):
        cls(3, padding=2)
    with pytest.raises(ValueError, match=rf"{name}: padding must be an int >= 0"):
        cls(3, padding=-1)


def test_flatten_keeps_the_batch_axis():
    x = al.Value(RNG.normal(size=(2, 3, 4, 5)))
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    np.testing.assert_array_equal(nn.Flatten()(x).data, x.data.reshape(2, 60))
    with pytest.raises(ValueError, match=r"Flatten.*\(2, 3\)"):
        nn.Flatten(2)(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "layer, bad, words",
    [
        (nn.Conv2d(3, 4, 3), np.zeros((2, 2, 5, 5)), ["Conv2d", "(N, 3, H, W)", "(2, 2, 5, 5)"]),
        (nn.Conv2d(3, 4, 3), np.zeros((3, 5, 5)), ["Conv2d", "(3, 5, 5)"]),
        (nn.MaxPool2d(2), np.zeros((4, 4)), ["MaxPool2d", "(4, 4)"]),
        (nn.AvgPool2d(2), np.zeros((1, 4, 4)), ["AvgPool2d", "(1, 4, 4)"]),
        (nn.BatchNorm1d(3), np.zeros((4, 2)), ["BatchNorm1d", "(4, 2)"]),
        (nn.BatchNorm2d(3), np.zeros((4, 3)), ["BatchNorm2d", "(4, 3)"]),
        (nn.LayerNorm(5), np.zeros((4, 3)), ["LayerNorm", "(4, 3)"]),
    ],
)
def test_bad_inputs_name_the_layer_and_the_shape(layer, bad, words):
    with pytest.raises(ValueError) as info:
        layer(bad)
    for word in words:
        assert word in str(info.value)


def test_kernel_larger_than_the_padded_input_is_refused():
    with pytest.raises(ValueError, match="conv2d"):
        nn.Conv2d(1, 1, 5)(np.zeros((1, 1, 3, 3)))


# ------------------------------------------------------------------------ dropout


def test_dropout_follows_the_training_mode():
    drop = nn.Dropout(0.3, seed=4)
    x = np.ones((200, 50))
    y = drop(x).data
    kept = y != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(y[kept], 1 / 0.7)
    net = nn.Sequential(nn.Linear(50, 5, seed=5), drop)
    net.eval()
    assert drop.training is False
    np.testing.assert_array_equal(drop(x).data, x)
    net.train()
    assert drop.training is True and (drop(x).data == 0).any()


def test_dropout_gradient_uses_the_same_mask():
    drop = nn.Dropout(0.5, seed=6)
    x = al.Value(RNG.normal(size=(4, 5)))
    y = drop(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, (y.data != 0) * 2.0)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_probability_outside_0_1_is_refused(p):
    with pytest.raises(ValueError, match="Dropout: p"):
        nn.Dropout(p)


# ------------------------------------------------------------------ normalisation


def ref_batchnorm(x, axes, gamma, beta, eps):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)  # biased, as PyTorch normalises in training
    shape = [1] * x.ndim
    shape[1] = -1
    return (x - mu) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


@pytest.mark.parametrize(
    "cls, shape, axes",
    [
        (nn.BatchNorm1d, (8, 3), (0,)),
        (nn.BatchNorm1d, (8, 3, 5), (0, 2)),
        (nn.BatchNorm2d, (4, 3, 5, 6), (0, 2, 3)),
    ],
)
def test_batchnorm_training_forward_and_running_statistics(cls, shape, axes):
    bn = cls(3, momentum=0.2)
    bn.weight.data = RNG.normal(size=3)
    bn.bias.data = RNG.normal(size=3)
    x = RNG.normal(2.0, 3.0, size=shape)
    y = bn(x)
    np.testing.assert_allclose(y.data, ref_batchnorm(x, axes, bn.weight.data, bn.bias.data, 1e-5))
    n = x.size // 3
    np.testing.assert_allclose(bn.running_mean, 0.2 * x.mean(axis=axes))
    unbiased = x.var(axis=axes) * n / (n - 1)
    np.testing.assert_allclose(bn.running_var, 0.8 + 0.2 * unbiased)
    assert int(bn.num_batches_tracked) == 1
    bn.eval()  # evaluation: the running statistics, nothing updated
    before = bn.running_mean.copy()
    z = bn(x)
    rs = [1] * x.ndim
    rs[1] = -1
    expected = (x - before.reshape(rs)) / np.sqrt(bn.running_var.reshape(rs) + 1e-5)
    np.testing.assert_allclose(
        z.data, expected * bn.weight.data.reshape(rs) + bn.bias.data.reshape(rs)
    )
    np.testing.assert_array_equal(bn.running_mean, before)


def test_batchnorm_momentum_none_averages_all_batches():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [RNG.normal(size=(5, 2)) for _ in range(3)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0))


def test_batchnorm_and_layernorm_gradients_match_finite_differences():
    bn = nn.BatchNorm2d(2)
    bn.weight.data = np.array([1.5, -0.5])
    x = al.Value(RNG.normal(size=(3, 2, 2, 2)))
    target = RNG.normal(size=(3, 2, 2, 2))
    assert al.gradcheck(lambda x, w, b: ((bn(x) - target) ** 2).sum(), x, bn.weight, bn.bias)
    bn.eval()
    assert al.gradcheck(lambda x, w, b: ((bn(x) - target) ** 2).sum(), x, bn.weight, bn.bias)
    ln = nn.LayerNorm((2, 2))
    ln.weight.data = RNG.normal(size=(2, 2))
    assert al.gradcheck(lambda x, w, b: ((ln(x) - target) ** 2).sum(), x, ln.weight, ln.bias)


def test_layernorm_matches_the_definition():
    ln = nn.LayerNorm(4, eps=1e-3)
    ln.weight.data = RNG.normal(size=4)
    ln.bias.data = RNG.normal(size=4)
    x = RNG.normal(size=(3, 5, 4))
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    expected = (x - mu) / np.sqrt(var + 1e-3) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(x).data, expected, atol=1e-12)
    ln.eval()  # the same in evaluation
    np.testing.assert_allclose(ln(x).data, expected, atol=1e-12)


# ---------------------------------------------------------------------- embedding


def test_embedding_looks_up_rows_and_adds_gradients_of_repeats():
    emb = nn.Embedding(5, 3, seed=7)
    idx = np.array([[0, 4], [4, 4]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[:, 0], [1, 0, 0, 0, 3])
    assert al.gradcheck(lambda w: (emb(idx) ** 2).sum(), emb.weight)
    with pytest.raises(IndexError, match="Embedding"):
        emb([5])
    with pytest.raises(TypeError, match="integers"):
        emb([0.5])


# -------------------------------------------------------------- buffers and state


def test_state_dict_holds_running_statistics_and_round_trips(tmp_path):
    net = nn.Sequential(nn.Conv2d(1, 2, 3, seed=8), nn.BatchNorm2d(2), nn.ReLU())
    net(RNG.normal(size=(4, 1, 5, 5)))
    state = net.state_dict()
    assert list(state) == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    other = nn.Sequential(nn.Conv2d(1, 2, 3, seed=9), nn.BatchNorm2d(2), nn.ReLU())
    path = al.save(net, tmp_path / "cnn.npz")
    al.load(other, path)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    assert other[1].num_batches_tracked.dtype == np.int64
    x = RNG.normal(size=(2, 1, 5, 5))
    net.eval()
    other.eval()
    np.testing.assert_array_equal(net(x).data, other(x).data)


def test_a_mismatched_checkpoint_leaves_buffers_unchanged(tmp_path):
    bn = nn.BatchNorm1d(3)
    bn(RNG.normal(size=(4, 3)))
    before = bn.state_dict()
    bad = dict(before)
    bad["running_var"] = np.ones(4)
    with pytest.raises(ValueError, match="running_var"):
        bn.load_state_dict(bad)
    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(al.io.CheckpointError):
        al.load(bn, path)
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_train_and_eval_reach_every_sub_module():
    net = nn.Sequential(nn.Linear(2, 2, seed=0), nn.Dropout(0.5), nn.BatchNorm1d(2))
    assert net.eval() is net
    assert all(not m.training for _, m in net.named_modules())
    net.train()
    assert all(m.training for _, m in net.named_modules())


# ---------------------------------------------------------------- gradient clipping


def test_clip_grad_norm_scales_all_gradients_together():
    a, b = al.Value(np.zeros(3)), al.Value(np.zeros((2, 2)))
    a.grad = [3.0, 0.0, 0.0]
    b.grad = [[0.0, 4.0], [0.0, 0.0]]
    total = nn.utils.clip_grad_norm_([a, b], max_norm=2.5)
    assert total == pytest.approx(5.0)
    coef = 2.5 / (5.0 + 1e-6)
    np.testing.assert_allclose(a.grad, [3 * coef, 0, 0])
    np.testing.assert_allclose(b.grad, [[0, 4 * coef], [0, 0]])
    assert np.sqrt((a.grad**2).sum() + (b.grad**2).sum()) == pytest.approx(2.5)
    # below the limit: unchanged; the infinity norm is the largest entry
    assert nn.utils.clip_grad_norm_([a, b], max_norm=10.0) == pytest.approx(2.5)
    np.testing.assert_allclose(a.grad, [3 * coef, 0, 0])
    assert nn.utils.clip_grad_norm_([a, b], 1.0, norm_type=float("inf")) == pytest.approx(4 * coef)


def test_clip_grad_norm_takes_a_module_and_refuses_a_bad_limit():
    lin = nn.Linear(3, 2, seed=0)
    lin(np.ones((4, 3))).sum().backward()
    norm = np.sqrt(sum((p.grad**2).sum() for p in lin.parameters()))
    assert nn.utils.clip_grad_norm_(lin, 1.0) == pytest.approx(norm)
    with pytest.raises(ValueError, match="max_norm"):
        nn.utils.clip_grad_norm_(lin, -1.0)
    lin.weight.grad = np.full((2, 3), np.nan)
    with pytest.raises(RuntimeError, match="nan"):
        nn.utils.clip_grad_norm_(lin, 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_checks_its_arguments():
    v = al.Value([3.0, 4.0])
    v.grad = [3.0, 4.0]
    assert nn.utils.clip_grad_norm_([v], np.float32(1.0)) == pytest.approx(5.0)
    np.testing.assert_allclose(v.grad, [0.6, 0.8], rtol=1e-5)
    with pytest.raises(ValueError, match="max_norm must be a number >= 0, got True"):
        nn.utils.clip_grad_norm_([v], True)
    # an array in the list was dropped silently: the norm came out as that of the others
    with pytest.raises(TypeError, match="clip_grad_norm_: parameter 1 is a ndarray"):
        nn.utils.clip_grad_norm_([v, np.ones(2)], 1.0)
