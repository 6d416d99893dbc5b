"""The training loop: ``fit`` → ``History``, and ``plot_history`` for loss/accuracy curves.

``fit`` builds one *tensor* graph per mini-batch (a handful of nodes: matmul,
add, activation ... loss), runs backward and an optimizer step — no per-example
Python loop, so a real dataset trains in seconds.

>>> import numpy as np
>>> import autograd_lite as al
>>> from autograd_lite import nn, optim
>>> X = np.random.default_rng(0).normal(size=(200, 2))
>>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> net = nn.MLP(2, [8, 2], seed=0)
>>> hist = al.fit(net, nn.CrossEntropyLoss(), optim.Adam(net.parameters(), lr=0.05),
...               (X, y), epochs=20, progress=False, seed=0)
>>> len(hist), hist.accuracy[-1] > 0.9
(20, True)
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .data import Batches
from .graph import no_grad
from .value import Value

Metric = Callable[[np.ndarray, np.ndarray], float]


def accuracy(outputs: Any, targets: Any, threshold: float = 0.5) -> float:
    """Fraction of correct predictions.

    Outputs of shape ``(m, C)`` with ``C > 1`` predict ``argmax`` (logits or
    probabilities); one output per example predicts ``output >= threshold``
    (0.5 for probabilities, 0 for logits). Targets are class labels, or one-hot
    rows for ``(m, C)`` outputs.

    >>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))
    0.5
    >>> accuracy(np.array([0.9, 0.2, 0.6]), np.array([1, 0, 0]))
    0.6666666666666666
    """
    out = np.asarray(outputs.data if isinstance(outputs, Value) else outputs)
    tgt = np.asarray(targets.data if isinstance(targets, Value) else targets)
    if out.ndim >= 2 and out.shape[-1] > 1:
        pred = out.argmax(axis=-1)
        if tgt.shape == out.shape:
            tgt = tgt.argmax(axis=-1)
    else:
        pred = (out.reshape(-1) >= threshold).astype(np.int64)
        tgt = tgt.reshape(-1)
    if pred.shape != tgt.shape:
        raise ValueError(
            f"accuracy: outputs of shape {out.shape} and targets of shape {tgt.shape} do not match"
        )
    return float(np.mean(pred == tgt)) if pred.size else math.nan


class History:
    """Per-epoch records of a ``fit`` run: ``loss``, metrics, ``val_*``, ``lr``, ``time``.

    Keys are attributes too (``history.loss``, ``history.val_accuracy``).

    >>> h = History()
    >>> h.append(loss=0.5, accuracy=0.8); h.append(loss=0.25, accuracy=0.9)
    >>> h.loss, h["accuracy"], len(h)
    ([0.5, 0.25], [0.8, 0.9], 2)
    >>> h.val_loss
    Traceback (most recent call last):
    ...
    AttributeError: History has no record 'val_loss' (it has ['loss', 'accuracy'])
    """

    def __init__(self) -> None:
        self.records: dict[str, list[float]] = {}

    def append(self, **values: float) -> None:
        """Add one epoch's numbers."""
        for key, v in values.items():
            self.records.setdefault(key, []).append(float(v))

    def keys(self) -> list[str]:
        """Names of the recorded series."""
        return list(self.records)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.records:
            raise KeyError(f"History has no record {key!r} (it has {self.keys()})")
        return self.records[key]

    def __getattr__(self, key: str) -> list[float]:
        if key.startswith("_") or key == "records":
            raise AttributeError(key)
        if key not in self.records:
            raise AttributeError(f"History has no record {key!r} (it has {self.keys()})")
        return self.records[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def __contains__(self, key: str) -> bool:
        return key in self.records

    def __len__(self) -> int:
        return len(self.records.get("loss", []))

    def as_dict(self) -> dict[str, list[float]]:
        """A copy of all series."""
        return {k: list(v) for k, v in self.records.items()}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.records.items() if k != "time")
        return f"History({len(self)} epochs{': ' + last if last else ''})"


def _resolve_metric(metrics: Any, loss: Any) -> tuple[str, Metric] | None:
    from .nn.losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss

    if metrics is None:
        return None
    if metrics == "auto":
        if not isinstance(loss, (CrossEntropyLoss, BCELoss, BCEWithLogitsLoss)):
            return None
        metrics = "accuracy"
    if metrics == "accuracy" or metrics is accuracy:
        threshold = 0.0 if isinstance(loss, BCEWithLogitsLoss) else 0.5
        return "accuracy", lambda out, tgt: accuracy(out, tgt, threshold)
    if callable(metrics):
        return getattr(metrics, "__name__", "metric"), metrics
    raise ValueError(
        f"fit: metrics must be 'auto', 'accuracy', None or a callable, got {metrics!r}"
    )


def _as_loader(data: Any, batch_size: int, shuffle: bool, seed: int | None) -> Iterable[Any]:
    if isinstance(data, tuple) and len(data) == 2:
        return Batches(data[0], data[1], batch_size=batch_size, shuffle=shuffle, seed=seed)
    if isinstance(data, Batches) or (hasattr(data, "__iter__") and not isinstance(data, tuple)):
        return data
    raise TypeError(
        f"fit: data must be a tuple (X, y), a Batches loader or an iterable of (x, y) batches, "
        f"got {type(data).__name__}"
    )


def _target_like(target: Any, out: Value, loss: Any) -> Any:
    """Reshape targets ``(m,)`` to outputs ``(m, 1)`` (and back) for elementwise losses."""
    from .nn.losses import CrossEntropyLoss

    t = np.asarray(target)
    if isinstance(loss, CrossEntropyLoss) or t.shape == out.shape or t.size != out.size:
        return t
    return t.reshape(out.shape).astype(out.dtype)


def _run_batch(model: Any, loss: Any, xb: Any, yb: Any) -> tuple[Value, Value, Any]:
    out = model(Value(xb, requires_grad=False))
    yb = _target_like(yb, out, loss)
    value = loss(out, yb)
    if value.ndim:
        raise ValueError(
            f"fit: the loss must be a scalar (reduction 'mean' or 'sum'), got shape {value.shape}"
        )
    return out, value, yb


def evaluate(
    model: Any, loss: Any, X: Any, y: Any, metrics: Any = "auto", batch_size: int = 1024
) -> dict[str, float]:
    """Loss and metric of ``model`` on ``(X, y)``, without recording a graph.

    >>> import numpy as np
    >>> from autograd_lite import nn
    >>> net = nn.Linear(2, 2, seed=0)
    >>> sorted(evaluate(net, nn.CrossEntropyLoss(), np.zeros((4, 2)), np.zeros(4, int)))
    ['accuracy', 'loss']
    """
    metric = _resolve_metric(metrics, loss)
    was_training = getattr(model, "training", True)
    if hasattr(model, "eval"):
        model.eval()
    total, score, n = 0.0, 0.0, 0
    try:
        with no_grad():
            for xb, yb in Batches(X, y, batch_size=batch_size, shuffle=False):
                out, value, yb = _run_batch(model, loss, xb, yb)
                m = len(xb)
                total += _batch_total(loss, value, m)
                if metric:
                    score += metric[1](np.asarray(out.data), yb) * m
                n += m
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    result = {"loss": total / n}
    if metric:
        result[metric[0]] = score / n
    return result


def _batch_total(loss: Any, value: Value, m: int) -> float:
    v = value.item()
    return v if getattr(loss, "reduction", "mean") == "sum" else v * m


def fit(
    model: Any,
    loss: Any,
    optimizer: Any,
    data: Any,
    epochs: int = 10,
    batch_size: int = 32,
    *,
    validation: tuple[Any, Any] | None = None,
    metrics: Any = "auto",
    progress: bool = True,
    seed: int | None = None,
    shuffle: bool = True,
    scheduler: Any = None,
    compile: bool = False,  # noqa: A002  (fit(..., compile=True), as the issue names it)
) -> History:
    """Train ``model`` with mini-batch gradient descent and return the per-epoch ``History``.

    Args:
        model: a module (or any callable Value → Value with ``parameters()``).
        loss: a loss module, ``loss(prediction, target)`` → scalar Value.
        optimizer: e.g. ``optim.Adam(model.parameters())``.
        data: ``(X, y)`` arrays, a :class:`~autograd_lite.data.Batches` loader or
            any re-iterable of ``(x_batch, y_batch)``.
        epochs, batch_size: passes over the data; examples per step.
        validation: ``(X_val, y_val)`` evaluated after each epoch (``val_loss``,
            ``val_accuracy``).
        metrics: ``"auto"`` (accuracy for classification losses), ``"accuracy"``,
            ``None`` or a callable ``(outputs, targets) -> float``.
        progress: show a tqdm progress bar.
        seed: seed of the batch shuffling.
        scheduler: an ``optim.LRScheduler`` (``step()`` after every epoch;
            ``optim.ReduceLROnPlateau`` gets ``step(val_loss)``, or ``step(loss)``
            without validation data) or a callable ``epoch -> lr`` (set before every
            epoch).
        compile: run the model's training forward and backward as code generated by
            ``al.compile`` (traced once per batch shape; see ``docs/compile.md``).

    ``loss`` in the history is the average per-example training loss of the
    epoch; the training metric is measured on each batch before its update.
    Targets of shape ``(m,)`` are reshaped to outputs of shape ``(m, 1)``.
    A non-finite loss stops training with ``FloatingPointError``.
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    metric = _resolve_metric(metrics, loss)
    loader = _as_loader(data, batch_size, shuffle, seed)
    from .lr_scheduler import LRScheduler, ReduceLROnPlateau

    if scheduler is not None and not isinstance(scheduler, LRScheduler) and not callable(scheduler):
        raise TypeError(
            f"fit: scheduler must be an optim.LRScheduler or a callable epoch -> lr, "
            f"got {type(scheduler).__name__}"
        )
    history = History()
    step_model = model
    if compile:
        from .compiler import compile as compiled

        step_model = compiled(model)
    bar = None
    if progress:
        from tqdm import tqdm

        total = len(loader) * epochs if hasattr(loader, "__len__") else None
        bar = tqdm(total=total, desc="training", unit="batch", leave=True)
    try:
        for epoch in range(epochs):
            if scheduler is not None and not isinstance(scheduler, LRScheduler):
                optimizer.lr = float(scheduler(epoch))
            lr = getattr(optimizer, "lr", math.nan)
            start = time.perf_counter()
            if hasattr(model, "train"):
                model.train()
            total_loss, score, n = 0.0, 0.0, 0
            for b, (xb, yb) in enumerate(loader):
                out, value, yb_fit = _run_batch(step_model, loss, xb, yb)
                v = value.item()
                if not math.isfinite(v):
                    raise FloatingPointError(
                        f"fit: the loss became {v} at epoch {epoch + 1}, batch {b + 1}; lower the "
                        "learning rate, check the data, or run inside al.detect_anomaly()"
                    )
                optimizer.zero_grad()
                value.backward()
                optimizer.step()
                m = len(xb)
                total_loss += _batch_total(loss, value, m)
                if metric:
                    score += metric[1](np.asarray(out.data), yb_fit) * m
                n += m
                if bar is not None:
                    bar.update(1)
            if n == 0:
                hint = (
                    " (a one-shot iterator is used up after the first epoch: pass (X, y) or "
                    "an al.data.Batches loader)"
                    if epoch
                    else ""
                )
                raise ValueError(f"fit: the data yielded no batches in epoch {epoch + 1}{hint}")
            record = {"loss": total_loss / n}
            if metric:
                record[metric[0]] = score / n
            if validation is not None:
                val = evaluate(model, loss, validation[0], validation[1], metrics=metrics)
                record.update({f"val_{k}": v for k, v in val.items()})
            record["lr"] = lr
            record["time"] = time.perf_counter() - start
            history.append(**record)
            if isinstance(scheduler, ReduceLROnPlateau):  # it watches the (validation) loss
                scheduler.step(record.get("val_loss", record["loss"]))
            elif isinstance(scheduler, LRScheduler):
                scheduler.step()
            if bar is not None:
                bar.set_postfix(
                    {k: f"{v:.4f}" for k, v in record.items() if k not in ("time", "lr")},
                    refresh=False,
                )
    finally:
        if bar is not None:
            bar.close()
    return history


def plot_history(history: History, path: str | os.PathLike[str] | None = None) -> Any:
    """Loss (and accuracy) per epoch, training and validation; saved as PNG when ``path`` is given.

    Uses matplotlib's object interface with the Agg canvas (no window, no
    change to the global backend). Returns the matplotlib ``Figure``.

    >>> h = History(); h.append(loss=1.0, accuracy=0.5); h.append(loss=0.5, accuracy=0.7)
    >>> fig = plot_history(h)
    >>> [ax.get_title() for ax in fig.axes]
    ['loss', 'accuracy']
    """
    if not isinstance(history, History):
        raise TypeError(f"plot_history: expected a History, got {type(history).__name__}")
    if len(history) == 0:
        raise ValueError("plot_history: the history is empty (train for at least one epoch)")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = ["loss"] + [
        k
        for k in history
        if k not in ("loss", "lr", "time") and not k.startswith("val_") and k in history
    ]
    fig = Figure(figsize=(5 * len(panels), 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    epochs = np.arange(1, len(history) + 1)
    for i, key in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.plot(epochs, history[key], marker="o", markersize=3, label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], marker="s", markersize=3, label="validation")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    if path is not None:
        fig.savefig(os.fspath(path), format="png", dpi=100)
    return fig
