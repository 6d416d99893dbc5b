"""Image layers as in PyTorch (NCHW): ``Conv2d``, the pools, ``MaxUnpool2d``, ``Flatten``.

A convolution slides ``out_channels`` filters of shape (C, kh, kw) over the image::

    y[n, o, i, j] = b[o] + Σ_c Σ_u Σ_v W[o, c, u, v] · x[n, c, s·i + u, s·j + v]

(with the input zero-padded by ``padding`` on each side), which is what PyTorch's
``nn.Conv2d`` computes (a cross-correlation; with ``groups`` G, filter o sums over the
C/G channels of its group only). Weights are drawn from U(−1/√fan_in, 1/√fan_in) with
fan_in = (C/G)·kh·kw, PyTorch's default, so weights copy both ways.

>>> import numpy as np
>>> from autograd_lite import nn
>>> net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, seed=0), nn.ReLU(), nn.MaxPool2d(2),
...                     nn.Flatten(), nn.Linear(4 * 4 * 4, 10, seed=1))
>>> net(np.zeros((2, 1, 8, 8))).shape
(2, 10)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import image_ops, pool_ops
from ..value import Value
from . import init as _init
from .layers import _as_input, _positive
from .module import Module, Parameter, _integer


def _pair(v: Any, what: str, layer: str, minimum: int = 1) -> tuple[int, int]:
    return image_ops._pair(v, what, layer, minimum)


def _check_image(layer: Module, x: Value, channels: int | None = None) -> None:
    """x must be (N, C, H, W) (with C = ``channels`` when given)."""
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        want = f"(N, {channels}, H, W)" if channels is not None else "(N, C, H, W)"
        raise ValueError(
            f"{type(layer).__name__}({layer.extra_repr()}): expected input {want}, "
            f"got shape {x.shape}"
        )


class Conv2d(Module):
    """2-D convolution: x (N, C, H, W) → (N, O, H', W'), H' = (H + 2p − (kh−1)·d − 1)//s + 1.

    ``.weight`` (out_channels, in_channels/groups, kh, kw) and ``.bias`` (out_channels,);
    ``dilation`` d spaces the kernel taps d pixels apart, and ``groups`` G splits the
    channels into G groups that are convolved separately (both channel counts divisible
    by G; G = in_channels is a depthwise convolution), as PyTorch.

    >>> import numpy as np
    >>> conv = Conv2d(3, 8, kernel_size=3, stride=1, padding=1, seed=0)
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    >>> conv(np.zeros((2, 3, 16, 16))).shape
    (2, 8, 16, 16)
    >>> wide = Conv2d(3, 8, 3, dilation=2, seed=0)
    >>> wide
    Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), dilation=(2, 2))
    >>> wide(np.zeros((2, 3, 16, 16))).shape  # the 3×3 kernel spans 5×5
    (2, 8, 12, 12)
    >>> conv(np.zeros((2, 4, 16, 16)))
    Traceback (most recent call last):
    ...
    ValueError: Conv2d(3, 8, ...): expected input (N, 3, H, W), got shape (2, 4, 16, 16)
    >>> depthwise = Conv2d(8, 16, 3, padding=1, groups=8, seed=0)
    >>> depthwise.weight.shape  # each filter sees in_channels/groups = 1 channel
    (16, 1, 3, 3)
    >>> depthwise
    Conv2d(8, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=8)
    >>> Conv2d(6, 4, 3, groups=4)
    Traceback (most recent call last):
    ...
    ValueError: Conv2d: in_channels (6) must be divisible by groups (4)
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        bias: bool = True,
        *,
        dilation: Any = 1,
        groups: int = 1,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        if not isinstance(bias, (bool, np.bool_)):  # SPEC's order: bias is the 6th argument
            raise TypeError(
                f"Conv2d: bias must be True or False, got {bias!r} (PyTorch's 6th positional "
                "argument is dilation: pass dilation= and groups= by keyword)"
            )
        self.in_channels = _positive(in_channels, "Conv2d: in_channels")
        self.out_channels = _positive(out_channels, "Conv2d: out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d")
        self.stride = _pair(stride, "stride", "Conv2d")
        self.padding = _pair(padding, "padding", "Conv2d", minimum=0)
        self.dilation = _pair(dilation, "dilation", "Conv2d")
        self.groups = _positive(groups, "Conv2d: groups")
        for what, count in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if count % self.groups:
                raise ValueError(
                    f"Conv2d: {what} ({count}) must be divisible by groups ({self.groups})"
                )
        gen = _init.make_rng(rng, seed)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        bound = 1.0 / math.sqrt(shape[1] * self.kernel_size[0] * self.kernel_size[1])  # fan_in
        self.weight = Parameter(gen.uniform(-bound, bound, size=shape).astype(dtype), label="W")
        b = gen.uniform(-bound, bound, size=self.out_channels).astype(dtype)
        self.bias = Parameter(b, label="b") if bias else None

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}"
        )
        if self.dilation != (1, 1):  # shown when not the default, as PyTorch
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text if self.bias is not None else text + ", bias=False"

    def forward(self, x: Any) -> Value:
        x = _as_input(x)
        _check_image(self, x, self.in_channels)
        return image_ops.conv2d(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )


class _Pool(Module):
    """What both pools share: kernel, stride, padding and ``ceil_mode``, checked at once."""

    def __init__(
        self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False
    ) -> None:
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding = pool_ops._pool_params(
            kernel_size, stride, padding, name
        )
        self.ceil_mode = pool_ops._flag(ceil_mode, "ceil_mode", name)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, x: Any) -> Any:
        x = _as_input(x)
        _check_image(self, x)
        return self._pool(x)


class MaxPool2d(_Pool):
    """Maximum over each ``kernel_size`` window (stride defaults to the kernel size).

    PyTorch's signature: ``MaxPool2d(kernel_size, stride=None, padding=0, dilation=1,
    return_indices=False, ceil_mode=False)``. ``padding`` (at most half the kernel)
    pads with −inf, as PyTorch: padding never wins a max. ``dilation`` d takes every
    d-th row and column. ``ceil_mode=True`` rounds the number of windows up: a last
    window may hang over the bottom/right edge if it starts inside the input or the
    left padding. With ``return_indices=True`` the layer returns ``(out, indices)``:
    each maximum's flat index into its H·W input plane (int64), for
    :class:`MaxUnpool2d`; the gradient goes to that element (the first maximum of a
    window, row by row).

    >>> import numpy as np
    >>> MaxPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    >>> pool = MaxPool2d(3, stride=2, padding=1)
    >>> pool
    MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    >>> pool(-np.arange(16.0).reshape(1, 1, 4, 4)).data[0, 0].tolist()
    [[-0.0, -1.0], [-4.0, -5.0]]
    >>> MaxPool2d(2, ceil_mode=True)(np.arange(9.0).reshape(1, 1, 3, 3)).data[0, 0].tolist()
    [[4.0, 5.0], [7.0, 8.0]]
    >>> wide = MaxPool2d(2, 1, 0, 2, return_indices=True)
    >>> wide
    MaxPool2d(kernel_size=(2, 2), stride=(1, 1), padding=(0, 0), dilation=(2, 2),
              return_indices=True)
    >>> out, idx = wide(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> out.data[0, 0].tolist(), idx[0, 0].tolist()
    ([[10.0, 11.0], [14.0, 15.0]], [[10, 11], [14, 15]])
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = pool_ops._pool_dilation(dilation, "MaxPool2d")
        self.return_indices = pool_ops._flag(return_indices, "return_indices", "MaxPool2d")

    def extra_repr(self) -> str:
        text = super().extra_repr()
        if self.dilation != (1, 1):  # options shown when not their default
            text += f", dilation={self.dilation}"
        if self.return_indices:
            text += ", return_indices=True"
        return text + (", ceil_mode=True" if self.ceil_mode else "")

    def _pool(self, x: Value) -> Any:
        options = self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        return pool_ops.max_pool2d(x, *options, return_indices=self.return_indices)


class AvgPool2d(_Pool):
    """Mean over each ``kernel_size`` window (stride defaults to the kernel size).

    PyTorch's signature: ``AvgPool2d(kernel_size, stride=None, padding=0,
    ceil_mode=False, count_include_pad=True, divisor_override=None)``. ``padding`` (at
    most half the kernel) pads with zeros that count in the mean, as PyTorch's default
    ``count_include_pad=True``; with ``count_include_pad=False`` a window divides by the
    number of input elements it covers. ``ceil_mode=True`` as in :class:`MaxPool2d`; a
    window hanging over the edge divides by the positions it covers inside the input
    and padding only. ``divisor_override`` (an int >= 1) divides every window's sum by
    itself instead.

    >>> import numpy as np
    >>> AvgPool2d(2)(np.arange(16.0).reshape(1, 1, 4, 4)).data[0, 0].tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    >>> AvgPool2d(2, padding=1)(np.ones((1, 1, 2, 2))).data[0, 0].tolist()
    [[0.25, 0.25], [0.25, 0.25]]
    >>> AvgPool2d(2, padding=1, count_include_pad=False)(np.ones((1, 1, 2, 2))).data[0, 0].tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    >>> AvgPool2d(2, ceil_mode=True)(np.arange(9.0).reshape(1, 1, 3, 3)).data[0, 0].tolist()
    [[2.0, 3.5], [6.5, 8.0]]
    >>> total = AvgPool2d(2, divisor_override=1)  # window sums
    >>> total
    AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0), divisor_override=1)
    >>> total(np.ones((1, 1, 4, 4))).data[0, 0].tolist()
    [[4.0, 4.0], [4.0, 4.0]]
    >>> AvgPool2d(2, padding=2)
    Traceback (most recent call last):
    ...
    ValueError: AvgPool2d: padding (2, 2) must be at most half the kernel size (2, 2)
    """

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = pool_ops._flag(count_include_pad, "count_include_pad", "AvgPool2d")
        self.divisor_override = pool_ops._avg_divisor(divisor_override, "AvgPool2d")

    def extra_repr(self) -> str:
        text = super().extra_repr() + (", ceil_mode=True" if self.ceil_mode else "")
        text += "" if self.count_include_pad else ", count_include_pad=False"
        if self.divisor_override is not None:
            text += f", divisor_override={self.divisor_override}"
        return text

    def _pool(self, x: Value) -> Value:
        options = self.kernel_size, self.stride, self.padding, self.ceil_mode
        return pool_ops.avg_pool2d(x, *options, self.count_include_pad, self.divisor_override)


class MaxUnpool2d(Module):
    """The inverse of :class:`MaxPool2d`: each value back at its index, zeros elsewhere.

    ``MaxUnpool2d(kernel_size, stride=None, padding=0)``, called as
    ``unpool(x, indices, output_size=None)`` with the indices of
    ``MaxPool2d(..., return_indices=True)``, as PyTorch. The output is
    (H − 1)·s − 2p + k per axis, or ``output_size`` (within a stride of that), e.g. the
    pooled input's shape when pooling dropped a last row.

    >>> import numpy as np
    >>> pool, unpool = MaxPool2d(2, return_indices=True), MaxUnpool2d(2)
    >>> unpool
    MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    >>> out, idx = pool(np.arange(16.0).reshape(1, 1, 4, 4))
    >>> unpool(out, idx).data[0, 0, 1].tolist()
    [0.0, 5.0, 0.0, 7.0]
    >>> x = np.arange(25.0).reshape(1, 1, 5, 5)  # pooling drops the last row and column
    >>> out, idx = pool(x)
    >>> unpool(out, idx, output_size=x.shape).data[0, 0, 1].tolist()
    [0.0, 6.0, 0.0, 8.0, 0.0]
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        self.kernel_size, self.stride, self.padding = pool_ops._window_params(
            kernel_size, stride, padding, "MaxUnpool2d"
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, x: Any, indices: Any, output_size: Any = None) -> Value:
        x = _as_input(x)
        _check_image(self, x)
        options = self.kernel_size, self.stride, self.padding, output_size
        return pool_ops.max_unpool2d(x, indices, *options)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size, whatever the input's (PyTorch's layer).

    Output row i averages input rows ⌊i·H/OH⌋ … ⌈(i+1)·H/OH⌉ − 1 (columns alike), so
    windows may differ in size by one and overlap. ``output_size``: an int, or
    (OH, OW) where None keeps the input's size. ``AdaptiveAvgPool2d(1)`` is the global
    average pool of modern CNNs (one number per channel before the classifier).

    >>> import numpy as np
    >>> gap = AdaptiveAvgPool2d(1)
    >>> gap
    AdaptiveAvgPool2d(output_size=1)
    >>> gap(np.arange(2 * 3 * 5 * 7.0).reshape(2, 3, 5, 7)).shape
    (2, 3, 1, 1)
    >>> AdaptiveAvgPool2d((2, None))(np.arange(5.0).reshape(1, 1, 5, 1)).data.ravel().tolist()
    [1.0, 3.0]
    """

    def __init__(self, output_size: Any) -> None:
        pool_ops._adaptive_size(output_size, (1, 1), "AdaptiveAvgPool2d")  # checked now
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, x: Any) -> Value:
        x = _as_input(x)
        _check_image(self, x)
        return pool_ops.adaptive_avg_pool2d(x, self.output_size)


class Flatten(Module):
    """Merge axes ``start_dim`` … ``end_dim`` into one (PyTorch's defaults 1 and −1).

    >>> import numpy as np
    >>> Flatten()(np.zeros((2, 3, 4, 5))).shape
    (2, 60)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = _integer(start_dim, "Flatten: start_dim")
        self.end_dim = _integer(end_dim, "Flatten: end_dim")

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, x: Any) -> Value:
        x = _as_input(x)
        n = x.ndim
        start, end = self.start_dim, self.end_dim
        if not (-n <= start < n and -n <= end < n) or start % n > end % n:
            raise ValueError(
                f"Flatten({self.extra_repr()}): cannot flatten an input of shape {x.shape}"
            )
        start, end = start % n, end % n
        shape = x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :]
        return x.reshape(shape)
