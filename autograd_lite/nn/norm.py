"""Normalisation layers as in PyTorch: ``BatchNorm1d``, ``BatchNorm2d``, ``LayerNorm``.

Batch normalisation standardises each feature (channel) over the batch (and, for
images, over all pixels), then scales and shifts it with learned γ (``weight``) and
β (``bias``)::

    μ = mean(x),  σ² = mean((x − μ)²)        (the batch's biased variance)
    y = γ · (x − μ) / √(σ² + ε) + β

In training it also keeps running averages for evaluation, as PyTorch does:
``running_mean ← (1 − m)·running_mean + m·μ`` and ``running_var ← (1 − m)·running_var
+ m·σ²·n/(n − 1)`` (the unbiased variance, n values per feature); ``momentum=None``
averages all batches equally. In ``eval()`` mode the running statistics replace μ and
σ². Layer normalisation standardises each example over its last axes instead, the
same in training and evaluation.

>>> import numpy as np
>>> from autograd_lite import nn
>>> bn = nn.BatchNorm1d(3)
>>> y = bn(np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]]))
>>> y.data.round(3).tolist()
[[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0]]
>>> bn.running_mean.tolist(), bn.running_var.tolist()
([0.2, 0.4, 0.6], [1.1, 1.7, 2.7])
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ..compiler.trace import effect, reads_state
from ..graph import no_grad
from ..value import Value
from .layers import _as_input, _positive
from .module import Module, Parameter, _real


class _BatchNorm(Module):
    ndim = 2  # rank of the input

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        dtype: Any = np.float64,
    ) -> None:
        name = type(self).__name__
        self.num_features = _positive(num_features, f"{name}: num_features")
        if not (_real(eps, f"{name}: eps") > 0):
            raise ValueError(f"{name}: eps must be > 0, got {eps!r}")
        if momentum is not None:
            momentum = _real(momentum, f"{name}: momentum", 0.0, 1.0)
        self.eps, self.momentum = float(eps), momentum
        self.weight = Parameter(np.ones(num_features, dtype=dtype), label="γ") if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype), label="β") if affine else None
        self.track_running_stats = bool(track_running_stats)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}"

    def _axes_and_shape(self, x: Value) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Axes to average over, and the shape that broadcasts (C,) against x."""
        if self.ndim == 2:
            if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
                raise ValueError(
                    f"{type(self).__name__}({self.num_features}): expected input (N, "
                    f"{self.num_features}) or (N, {self.num_features}, L), got shape {x.shape}"
                )
        elif x.ndim != 4 or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input (N, "
                f"{self.num_features}, H, W), got shape {x.shape}"
            )
        axes = (0,) + tuple(range(2, x.ndim))
        return axes, (1, self.num_features) + (1,) * (x.ndim - 2)

    def forward(self, x: Any) -> Value:
        x = _as_input(x)
        axes, shape = self._axes_and_shape(x)
        training = reads_state(self, "training")  # compiled code: traced again when it flips
        use_batch = training or not self.track_running_stats
        if use_batch:
            n = x.size // self.num_features
            if n < 2 and training:
                raise ValueError(
                    f"{type(self).__name__}: expected more than 1 value per channel when "
                    f"training, got input of shape {x.shape}"
                )
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean
            var = (centred * centred).mean(axis=axes, keepdims=True)
            xhat = centred / (var + self.eps).sqrt()
            if training and reads_state(self, "track_running_stats"):
                # now, or after every call of compiled code (the trace cannot record it)
                effect(functools.partial(self._update, n=n), mean, var)
        else:
            # read through reads_state: a compiled model is traced again on new statistics
            mean = reads_state(self, "running_mean").reshape(shape)
            std = np.sqrt(reads_state(self, "running_var").reshape(shape) + self.eps)
            xhat = (x - mean) / std
        if self.weight is None:
            return xhat
        return xhat * self.weight.reshape(shape) + self.bias.reshape(shape)

    def _update(self, mean: Any, var: Any, n: int) -> None:
        """The running statistics from a batch's mean and (biased) variance, n values each.

        It uses ``mean`` and ``var`` at once and keeps only new arrays: compiled code
        passes its own buffers, which the next call overwrites.
        """
        mean, var = np.reshape(mean, -1), np.reshape(var, -1)
        with no_grad():
            self.num_batches_tracked = self.num_batches_tracked + 1
            m = self.momentum
            if m is None:  # cumulative average of all batches
                m = 1.0 / float(self.num_batches_tracked)
            unbiased = var * (n / (n - 1)) if n > 1 else var
            dtype = self.running_mean.dtype
            self.running_mean = ((1 - m) * self.running_mean + m * mean).astype(dtype)
            self.running_var = ((1 - m) * self.running_var + m * unbiased).astype(dtype)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features: input (N, C) or (N, C, L), statistics per C.

    ``.weight`` γ (C,) = 1 and ``.bias`` β (C,) = 0 at the start; buffers
    ``running_mean``, ``running_var``, ``num_batches_tracked`` as PyTorch.

    >>> import numpy as np
    >>> bn = BatchNorm1d(2).eval()        # evaluation: running statistics (0 and 1)
    >>> bn(np.array([[1.0, 2.0]])).data.round(4).tolist()
    [[1.0, 2.0]]
    """

    ndim = 2


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of image channels: input (N, C, H, W), statistics per channel.

    >>> import numpy as np
    >>> bn = BatchNorm2d(3)
    >>> y = bn(np.random.default_rng(0).normal(2.0, 3.0, size=(4, 3, 5, 5)))
    >>> bool(abs(y.data.mean(axis=(0, 2, 3))).max() < 1e-12)
    True
    """

    ndim = 4


class LayerNorm(Module):
    """Normalise each example over its last axes ``normalized_shape`` (PyTorch's LayerNorm).

    ``y = γ ⊙ (x − μ)/√(σ² + ε) + β`` with μ, σ² (biased) over those axes;
    ``.weight`` γ and ``.bias`` β have shape ``normalized_shape``.

    >>> import numpy as np
    >>> ln = LayerNorm(4)
    >>> ln(np.array([[1.0, 2.0, 3.0, 4.0]])).data.round(4).tolist()
    [[-1.3416, -0.4472, 0.4472, 1.3416]]
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        *,
        dtype: Any = np.float64,
    ) -> None:
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)):
            raise TypeError(
                f"LayerNorm: normalized_shape must be an int or a tuple of ints, "
                f"got {normalized_shape!r}"
            )
        self.normalized_shape = tuple(
            _positive(s, "LayerNorm: normalized_shape entries") for s in normalized_shape
        )
        if not self.normalized_shape or not _real(eps, "LayerNorm: eps") > 0:
            raise ValueError(
                f"LayerNorm: needs a non-empty normalized_shape and eps > 0, got "
                f"{normalized_shape!r}, {eps!r}"
            )
        self.eps = float(eps)
        shape = self.normalized_shape
        self.weight = (
            Parameter(np.ones(shape, dtype=dtype), label="γ") if elementwise_affine else None
        )
        self.bias = (
            Parameter(np.zeros(shape, dtype=dtype), label="β") if elementwise_affine else None
        )

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps:g}"

    def forward(self, x: Any) -> Value:
        x = _as_input(x)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape or x.ndim < k:
            raise ValueError(
                f"LayerNorm({self.extra_repr()}): expected input ending in shape "
                f"{self.normalized_shape}, got shape {x.shape}"
            )
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        y = centred / (var + self.eps).sqrt()
        if self.weight is None:
            return y
        return y * self.weight + self.bias
