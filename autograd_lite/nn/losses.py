"""Loss functions, called ``loss(prediction, target)``, built from ops of the table.

Each loss computes one value per element (per example for cross-entropy) and
reduces it with ``reduction``: ``"mean"``, ``"sum"`` or ``"none"`` (no reduction,
the per-element Value). Predictions and targets must have the same shape (a
silent broadcast of ``(m, 1)`` against ``(m,)`` would give an ``(m, m)`` loss);
a mismatch raises ``ValueError`` naming both shapes.

>>> import autograd_lite as al
>>> from autograd_lite import nn
>>> y = al.Value([0.8, 0.2], label="y")
>>> nn.HalfSquaredError()(y, [1.0, 0.0]).data      # ½((1-0.8)² + (0-0.2)²)
0.04...
>>> nn.MSELoss()(y, [1.0, 0.0]).data
0.04...
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..graph import unary as _unary
from ..value import Value
from .module import Module

_REDUCTIONS = ("mean", "sum", "none")
_TINY = float(np.exp(-100.0))  # BCELoss's smallest probability: its log is -100


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


class Loss(Module):
    """Base class: holds ``reduction`` and applies it.

    >>> Loss(reduction="avg")
    Traceback (most recent call last):
    ...
    ValueError: Loss: reduction must be one of ('mean', 'sum', 'none'), got 'avg'
    """

    default_reduction = "mean"

    def __init__(self, reduction: str | None = None) -> None:
        reduction = self.default_reduction if reduction is None else reduction
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}"
            )
        self.reduction = reduction

    def reduce(self, per_element: Value) -> Value:
        """Apply ``self.reduction`` to per-element losses."""
        if self.reduction == "mean":
            return per_element.mean()
        if self.reduction == "sum":
            return per_element.sum()
        return per_element

    def _pair(self, prediction: Any, target: Any) -> tuple[Value, Value]:
        p, t = _as_value(prediction), _as_value(target)
        if p.shape != t.shape:
            raise ValueError(
                f"{type(self).__name__}: prediction has shape {p.shape} but target has shape "
                f"{t.shape}; they must match (reshape one of them)"
            )
        return p, t

    def forward(self, prediction: Any, target: Any) -> Value:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(Loss):
    """Mean squared error ``(prediction − target)²``, averaged by default.

    >>> MSELoss()([1.0, 2.0], [0.0, 0.0]).data
    2.5
    >>> MSELoss(reduction="none")([1.0, 2.0], [0.0, 0.0]).data.tolist()
    [1.0, 4.0]
    """

    def forward(self, prediction: Any, target: Any) -> Value:
        p, t = self._pair(prediction, target)
        return self.reduce((p - t) ** 2)


class HalfSquaredError(Loss):
    """The lecture's ``E = ½ Σ (target − prediction)²`` (summed by default).

    Its derivative with respect to the prediction is ``−(target − prediction) = −e``,
    which is why the ½ is there.

    >>> import autograd_lite as al
    >>> y = al.Value(0.8)
    >>> E = HalfSquaredError()(y, 1.0)
    >>> E.backward()
    >>> round(E.data, 6), round(y.grad, 6)
    (0.02, -0.2)
    """

    default_reduction = "sum"

    def forward(self, prediction: Any, target: Any) -> Value:
        p, t = self._pair(prediction, target)
        e = t - p
        return self.reduce(0.5 * e**2)


class BCELoss(Loss):
    """Binary cross-entropy on probabilities: ``−[t·log p + (1−t)·log(1−p)]``.

    ``prediction`` must lie in [0, 1] (e.g. after a sigmoid). As in PyTorch, each
    log is clamped at −100, so a probability of exactly 0 or 1 costs 0 for the
    right class (not ``0·log 0`` = nan) and 100 for the wrong one (not inf);
    with saturated probabilities prefer :class:`BCEWithLogitsLoss`.

    >>> round(BCELoss()([0.9, 0.2], [1.0, 0.0]).data, 6)
    0.164252
    >>> BCELoss(reduction="none")([0.0, 1.0, 0.0], [0.0, 1.0, 1.0]).data
    array([  0.,   0., 100.])
    >>> BCELoss()([1.5], [1.0])
    Traceback (most recent call last):
    ...
    ValueError: BCELoss: predictions must be probabilities in [0, 1], got values in [1.5, 1.5]...
    """

    def forward(self, prediction: Any, target: Any) -> Value:
        p, t = self._pair(prediction, target)
        d = np.asarray(p.data)
        if d.size and (d.min() < 0 or d.max() > 1):
            raise ValueError(
                f"BCELoss: predictions must be probabilities in [0, 1], got values in "
                f"[{d.min():.6g}, {d.max():.6g}]; apply a sigmoid or use BCEWithLogitsLoss"
            )
        # log p >= -100 (PyTorch's clamp), taken on the input so the log's own
        # gradient stays finite where the clamp holds
        log_p, log_q = p.clip(_TINY, 1.0).log(), (1 - p).clip(_TINY, 1.0).log()
        return self.reduce(-(t * log_p + (1 - t) * log_q))


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits z (before the sigmoid), numerically stable.

    ``−[t·log σ(z) + (1−t)·log(1−σ(z))] = softplus(z) − t·z``, and softplus is
    computed stably, so logits of ±1e4 give finite losses and gradients
    (the gradient is ``σ(z) − t``).

    >>> round(BCEWithLogitsLoss()([0.0], [1.0]).data, 6)     # log 2
    0.693147
    >>> BCEWithLogitsLoss()([1e4, -1e4], [1.0, 0.0]).data
    0.0
    """

    def forward(self, prediction: Any, target: Any) -> Value:
        z, t = self._pair(prediction, target)
        return self.reduce(z.softplus() - t * z)


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy from logits ``(m, C)`` and integer class labels ``(m,)``.

    Computed as ``−log_softmax(z)[i, label_i]`` (stable for logits of ±1e4; the
    gradient is ``softmax(z) − onehot(label)``). A single example (logits
    ``(C,)``, one integer label) works too. A float target of the same shape as
    the logits is taken as class probabilities (e.g. one-hot):
    ``−Σ_c t_c log softmax(z)_c``.

    >>> import numpy as np
    >>> round(CrossEntropyLoss()(np.zeros((2, 4)), [1, 3]).data, 6)    # log 4
    1.386294
    >>> CrossEntropyLoss()(np.zeros((2, 4)), [1, 4])
    Traceback (most recent call last):
    ...
    ValueError: CrossEntropyLoss: label 4 is out of range for 4 classes (logits of shape (2, 4))
    """

    def forward(self, prediction: Any, target: Any) -> Value:
        if (
            type(prediction) is Value
            and type(target) is np.ndarray
            and target.ndim == 1
            and target.dtype.kind in "iu"
        ):  # a batch of logits and its integer labels: every training step, checked once
            d = prediction._data
            if type(d) is np.ndarray and d.ndim == 2:
                labels = target.copy()  # the node's own labels (its backward reads them)
                labels.setflags(False)
                try:
                    return _unary(ops.cross_entropy, prediction, (labels, self.reduction))
                except ValueError:
                    self._labels(target, d.shape)  # a shape or range error: say so in our words
                    raise
        z = _as_value(prediction)
        if z.ndim not in (1, 2):
            raise ValueError(
                f"CrossEntropyLoss: logits must have shape (m, C) or (C,), got shape {z.shape}"
            )
        raw = target.data if isinstance(target, Value) else target
        labels = np.asarray(raw)
        if labels.shape == z.shape and labels.dtype.kind == "f" and z.ndim >= 1:
            t = _as_value(target)
            return self.reduce(-(t * z.log_softmax(axis=-1)).sum(axis=-1))
        if z.ndim == 1:
            labels = self._labels(labels, z.shape)
            return self.reduce(-z.log_softmax(axis=-1)[int(labels)])
        # integer labels over a batch: the table's fused, stable cross_entropy op, which
        # checks their range itself (once per step is enough); this message names ours
        labels = self._labels(labels, z.shape, check_range=False)
        try:
            return ops.cross_entropy(z, labels, self.reduction)
        except ValueError:
            self._labels(labels, z.shape)  # an out-of-range label: say so in our words
            raise

    @staticmethod
    def _labels(labels: np.ndarray, shape: tuple[int, ...], check_range: bool = True) -> Any:
        expected = () if len(shape) == 1 else (shape[0],)
        if labels.shape != expected:
            raise ValueError(
                f"CrossEntropyLoss: logits of shape {shape} need integer labels of shape "
                f"{expected}, got labels of shape {labels.shape}"
            )
        if labels.dtype.kind == "f":
            if not np.all(labels == np.round(labels)):
                raise ValueError(
                    "CrossEntropyLoss: labels must be whole numbers (class indices), got "
                    f"non-integer values such as {labels[labels != np.round(labels)].flat[0]!r}"
                )
            labels = labels.astype(np.intp)
        elif labels.dtype.kind not in "iub":
            raise TypeError(f"CrossEntropyLoss: labels must be integers, got dtype {labels.dtype}")
        n_classes = shape[-1]
        if check_range and labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            bad = labels[(labels < 0) | (labels >= n_classes)]
            raise ValueError(
                f"CrossEntropyLoss: label {int(bad.flat[0])} is out of range for {n_classes} "
                f"classes (logits of shape {shape})"
            )
        return labels
