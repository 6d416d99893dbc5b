"""Optimizers (``SGD``, ``Adam``) and learning-rate schedules (``StepLR``, ``LambdaLR``).

An optimizer holds a list of parameters; after ``loss.backward()`` its
``step()`` moves every parameter against its gradient, and ``zero_grad()``
clears the gradients (they accumulate otherwise).

Updates respect the engine's in-place safety: an array that a pending backward
still needs is read-only, so such a parameter is *rebound* (``p.data = new``)
instead of changed in place; scalar parameters (Python floats) are always rebound.

>>> import autograd_lite as al
>>> w = al.Value(3.0, label="w")
>>> opt = SGD([w], lr=0.1)
>>> (w * w).backward()          # dE/dw = 2w = 6
>>> opt.step(); w.data
2.4
>>> opt.zero_grad(); w.grad
0.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .value import Value


def _collect(params: Any) -> list[Value]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Value):
        params = [params]
    out: list[Value] = []
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"optimizer: parameter {i} is a {type(p).__name__}, expected a Value")
        if not p.requires_grad:
            raise ValueError(
                f"optimizer: parameter {i} {p!r} has requires_grad=False; it would never change"
            )
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    if not out:
        raise ValueError("optimizer got an empty parameter list")
    return out


def _grad_array(p: Value) -> Any:
    g = p.grad
    if isinstance(g, Value):  # gradients recorded with backward(create_graph=True)
        g = g.data
    return g


def apply_update(p: Value, delta: Any) -> None:
    """``p.data -= delta``: in place when the array is writeable, else by rebinding.

    Keeps the parameter's dtype (float32 stays float32).

    >>> import numpy as np
    >>> v = Value(np.array([1.0, 2.0], dtype=np.float32))
    >>> apply_update(v, np.array([0.5, 0.5]))
    >>> v.data.tolist(), v.data.dtype
    ([0.5, 1.5], dtype('float32'))
    """
    d = p.data
    if type(d) is float:
        p.data = float(d - float(np.asarray(delta)))
    elif d.flags.writeable:
        np.subtract(d, delta, out=d, casting="unsafe")
    else:
        p.data = (d - delta).astype(d.dtype, copy=False)


class Optimizer:
    """Base class: parameters, learning rate, ``zero_grad``, ``step``.

    ``step()`` updates the parameters that have a gradient and skips those
    without one (never reached by a backward since the last ``zero_grad()``),
    as PyTorch's optimizers do. It checks every gradient first: a gradient that
    does not fit its parameter raises ``ValueError`` before anything changes.

    >>> Optimizer([], lr=0.1)
    Traceback (most recent call last):
    ...
    ValueError: optimizer got an empty parameter list
    """

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        self.params = _collect(params)
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.steps = 0

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter (to None: no zeros are allocated)."""
        for p in self.params:
            p._grad = None  # what Value.zero_grad does, without a call per parameter

    # names of per-parameter state lists that ``_delta`` replaces items of (restored on failure)
    _state: tuple[str, ...] = ()

    def step(self) -> None:
        """Update every parameter that has a gradient once, from that gradient."""
        self._apply_deltas(self._gradients())

    def _apply_deltas(self, work: list[tuple[int, Value, Any]]) -> None:
        """All ``_delta``\\ s first, then all updates: a failing ``_delta`` changes nothing."""
        saved = [list(getattr(self, name)) for name in self._state]
        self.steps += 1  # (Adam's bias correction reads it)
        try:
            deltas = [self._delta(i, p, g) for i, p, g in work]
        except BaseException:
            self.steps -= 1
            for name, items in zip(self._state, saved):
                getattr(self, name)[:] = items
            raise
        for (_, p, _), delta in zip(work, deltas):
            apply_update(p, delta)

    def _gradients(self) -> list[tuple[int, Value, Any]]:
        """``(index, parameter, gradient data)`` for each parameter with a gradient, all checked.

        A gradient whose shape is not its parameter's (``.data`` was rebound to
        another shape after the backward) raises before any parameter changes.
        """
        work = []
        for i, p in enumerate(self.params):
            g = p._grad
            if g is None:
                continue
            if type(g) is not np.ndarray:
                if isinstance(g, Value):  # recorded with backward(create_graph=True)
                    g = g._data
                elif type(g) is not float:
                    g = p.grad  # a numpy scalar: the getter makes it an array of p's dtype
            d = p._data
            if (g.shape if type(g) is np.ndarray else ()) != (
                d.shape if type(d) is np.ndarray else ()
            ):
                name = f" {p.label!r}" if p.label else ""
                raise ValueError(
                    f"{type(self).__name__}: parameter {i}{name} has shape {p.shape} but its "
                    f"gradient has shape {np.shape(g)} (was .data rebound after backward()?); "
                    "no parameter was updated"
                )
            work.append((i, p, g))
        return work

    def _delta(self, i: int, p: Value, g: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


class SGD(Optimizer):
    """Gradient descent ``w ← w − lr·g`` (the lecture's rule), with PyTorch's options.

    Each step, exactly as ``torch.optim.SGD`` (dampening 0):
    ``g ← ∂E/∂w + weight_decay·w``; with momentum ``v ← g`` at the first step,
    then ``v ← momentum·v + g``, and ``g ← v`` (or ``g ← g + momentum·v`` with
    ``nesterov=True``); then ``w ← w − lr·g``. Parameters without a gradient
    are skipped. The plain rule runs in place, through a buffer kept per
    parameter: a step allocates nothing.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 1.0).backward(); opt.step()
    >>> w.data      # 1 - 0.5*1 - 0.5*(0.9 + 1)
    -0.45
    >>> SGD([w], lr=0.1, nesterov=True)
    Traceback (most recent call last):
    ...
    ValueError: SGD: nesterov=True needs a momentum > 0 (as in PyTorch)
    """

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}")
        if weight_decay < 0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got {weight_decay!r}")
        if nesterov and not momentum:
            raise ValueError("SGD: nesterov=True needs a momentum > 0 (as in PyTorch)")
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)
        self.nesterov = bool(nesterov)
        self._state = ("velocity",)
        self.velocity: list[Any] = [None] * len(self.params)
        self._scratch: list[Any] = [None] * len(self.params)  # lr·g, per parameter

    def step(self) -> None:
        """One update of every parameter with a gradient (see the class docstring)."""
        work = self._gradients()
        if self.momentum or self.weight_decay:
            self._apply_deltas(work)
            return
        self.steps += 1
        lr = self.lr
        scratch = self._scratch
        for i, p, g in work:
            d = p.data  # the plain array when it may be written (else a read-only view)
            if type(d) is np.ndarray and type(g) is np.ndarray and g.dtype is d.dtype:
                buf = scratch[i]
                if buf is None or buf.shape != d.shape or buf.dtype is not d.dtype:
                    buf = scratch[i] = np.empty_like(d)
                np.multiply(g, lr, out=buf)
                np.subtract(d, buf, out=d)
            else:
                apply_update(p, lr * g)

    def _delta(self, i: int, p: Value, g: Any) -> Any:
        """``lr·g`` for parameter ``i`` after weight decay and momentum (updates its velocity)."""
        if self.weight_decay:
            g = g + self.weight_decay * p._data
        if self.momentum:
            v = self.velocity[i]
            if v is None:
                v = g.copy() if type(g) is np.ndarray else g
            else:
                v = self.momentum * v + g
            self.velocity[i] = v
            g = g + self.momentum * v if self.nesterov else v
        return self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): per-parameter steps from running moments of the gradient.

    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``, bias-corrected
    ``m̂ = m/(1−β1^t)``, ``v̂ = v/(1−β2^t)``, ``w ← w − lr·m̂/(√v̂ + eps)``.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * 5.0).backward(); opt.step()
    >>> round(w.data, 6)     # the first Adam step has size lr whatever the gradient's scale
    0.9
    """

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas!r}")
        self.betas, self.eps, self.weight_decay = (float(b1), float(b2)), float(eps), weight_decay
        self._state = ("m", "v")
        self.m: list[Any] = [0.0] * len(self.params)
        self.v: list[Any] = [0.0] * len(self.params)

    def _delta(self, i: int, p: Value, g: Any) -> Any:
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        self.m[i] = b1 * self.m[i] + (1 - b1) * g
        self.v[i] = b2 * self.v[i] + (1 - b2) * (g * g)
        t = self.steps
        m_hat = self.m[i] / (1 - b1**t)
        v_hat = self.v[i] / (1 - b2**t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class LRScheduler:
    """Base of learning-rate schedules: call ``step()`` once per epoch.

    ``lr_at(epoch)`` gives the rate for an epoch (0-based); ``step()`` advances
    the epoch and sets ``optimizer.lr``.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"scheduler: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> float:
        """Advance one epoch, set and return the optimizer's new learning rate."""
        self.epoch += 1
        lr = float(self.lr_at(self.epoch))
        if not lr > 0:
            raise ValueError(
                f"{type(self).__name__}: schedule gave lr={lr!r} at epoch {self.epoch}"
            )
        self.optimizer.lr = lr
        return lr


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    >>> import autograd_lite as al
    >>> opt = SGD([al.Value(1.0)], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> [sched.step() for _ in range(4)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        if int(step_size) < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class LambdaLR(LRScheduler):
    """``lr = fn(epoch)``: any schedule as a function of the (0-based) epoch.

    >>> import autograd_lite as al
    >>> opt = SGD([al.Value(1.0)], lr=1.0)
    >>> sched = LambdaLR(opt, lambda epoch: 0.1 / (1 + epoch))
    >>> sched.step(), opt.lr
    (0.05, 0.05)
    """

    def __init__(self, optimizer: Optimizer, fn: Callable[[int], float]) -> None:
        super().__init__(optimizer)
        if not callable(fn):
            raise TypeError(f"LambdaLR: fn must be callable, got {type(fn).__name__}")
        self.fn = fn

    def lr_at(self, epoch: int) -> float:
        return self.fn(epoch)
