"""Optimizers (``SGD``, ``Adam``, ``RMSprop``, ``Adagrad``, ``AdamW``) and learning-rate
schedules (``StepLR``, ``LambdaLR``, ``CosineAnnealingLR``).

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


def _adam_moments(
    g: Any, m: Any, v: Any, betas: tuple[float, float], eps: float, t: int
) -> tuple[Any, Any, Any]:
    """Adam's moment update and bias-corrected direction, shared by Adam and AdamW.

    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``; returns
    ``(m̂/(√v̂ + eps), m, v)`` with ``m̂ = m/(1−β1ᵗ)``, ``v̂ = v/(1−β2ᵗ)``.

    >>> step, m, v = _adam_moments(2.0, 0.0, 0.0, (0.9, 0.999), 1e-8, 1)
    >>> [round(float(x), 6) for x in (step, m, v)]
    [1.0, 0.2, 0.004]
    """
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (g * g)
    return (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), m, v


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
        if self.weight_decay:
            g = g + self.weight_decay * p.data
        step, self.m[i], self.v[i] = _adam_moments(
            g, self.m[i], self.v[i], self.betas, self.eps, self.steps
        )
        return self.lr * step


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


# ------------------------------------------------------- checked optimizers
# RMSprop, Adagrad and AdamW check every gradient before changing anything: a step
# that raises leaves all parameters and all optimizer state as they were.


class _CheckedOptimizer(Optimizer):
    """An optimizer whose ``step`` is all-or-nothing; subclasses define ``_update``.

    ``_update(i, p, g, state)`` returns ``(delta, new_state)`` without changing
    anything; ``step`` commits all of them once every gradient has been checked.
    """

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        super().__init__(params, lr)
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def _checked_grads(self) -> list[tuple[int, Value, Any]]:
        """``Optimizer._gradients`` (parameters without a gradient skipped, shapes checked),
        and every gradient finite."""
        work = self._gradients()
        for i, p, g in work:
            if not np.all(np.isfinite(g)):
                raise ValueError(
                    f"{type(self).__name__}.step: parameter {i} {p!r} has a non-finite "
                    "gradient (nan or inf); nothing was updated"
                )
        return [(i, p, np.asarray(g, dtype=np.result_type(g, np.float64))) for i, p, g in work]

    def step(self) -> None:
        """Update every parameter that has a gradient; on bad gradients raise, change nothing."""
        work = self._checked_grads()
        t = self.steps + 1
        results = [self._update(i, p, g, self.state[i], t) for i, p, g in work]
        self.steps = t
        for (i, p, _), (delta, state) in zip(work, results):
            self.state[i] = state
            apply_update(p, delta)

    def _update(self, i: int, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        raise NotImplementedError


def _nonneg(value: Any, what: str, name: str, below_one: bool = False) -> float:
    ok = isinstance(value, (int, float)) and value >= 0 and (value < 1 or not below_one)
    if not ok:
        bound = "in [0, 1)" if below_one else ">= 0"
        raise ValueError(f"{name}: {what} must be {bound}, got {value!r}")
    return float(value)


class RMSprop(_CheckedOptimizer):
    """RMSprop (PyTorch's rule): divide the gradient by a running RMS of its recent values.

    ``v ← α·v + (1−α)·g²``, then ``w ← w − lr·g/(√v + eps)``; with momentum
    ``b ← momentum·b + g/(√v + eps)`` and ``w ← w − lr·b``. ``weight_decay`` adds
    ``weight_decay·w`` to ``g`` first.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * 2.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1 − 0.01·2/√(0.01·4): the first step is lr/√(1−α)
    0.9
    """

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.alpha = _nonneg(alpha, "alpha", "RMSprop", below_one=True)
        self.eps = _nonneg(eps, "eps", "RMSprop")
        self.momentum = _nonneg(momentum, "momentum", "RMSprop", below_one=True)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", "RMSprop")

    def _update(self, i: int, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        if self.weight_decay:
            g = g + self.weight_decay * np.asarray(p.data)
        v = self.alpha * state.get("square_avg", 0.0) + (1 - self.alpha) * g * g
        step = g / (np.sqrt(v) + self.eps)
        new = {"square_avg": v}
        if self.momentum:
            step = self.momentum * state.get("momentum_buffer", 0.0) + step
            new["momentum_buffer"] = step
        return self.lr * step, new


class Adagrad(_CheckedOptimizer):
    """Adagrad (PyTorch's rule): steps shrink with the sum of all squared gradients so far.

    ``s ← s + g²``, ``w ← w − lr·g/(√s + eps)``.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = Adagrad([w], lr=0.5)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 3.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1 − 0.5·3/3 − 0.5·3/√18
    0.146447
    """

    def __init__(self, params: Iterable[Value] | Any, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = _nonneg(eps, "eps", "Adagrad")

    def _update(self, i: int, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        s = state.get("sum", 0.0) + g * g
        return self.lr * g / (np.sqrt(s) + self.eps), {"sum": s}


class AdamW(_CheckedOptimizer):
    """AdamW (Loshchilov & Hutter; PyTorch's rule): Adam with decoupled weight decay.

    ``w ← w − lr·weight_decay·w``, then Adam's step ``w ← w − lr·m̂/(√v̂ + eps)`` with
    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``, ``m̂ = m/(1−β1ᵗ)``, ``v̂ = v/(1−β2ᵗ)``.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 5.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1·(1 − 0.1·0.5) − 0.1
    0.85
    """

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"AdamW: betas must be a pair, got {betas!r}")
        b1 = _nonneg(betas[0], "betas[0]", "AdamW", below_one=True)
        b2 = _nonneg(betas[1], "betas[1]", "AdamW", below_one=True)
        self.betas = (b1, b2)
        self.eps = _nonneg(eps, "eps", "AdamW")
        self.weight_decay = _nonneg(weight_decay, "weight_decay", "AdamW")

    def _update(self, i: int, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        adam, m, v = _adam_moments(
            g, state.get("exp_avg", 0.0), state.get("exp_avg_sq", 0.0), self.betas, self.eps, t
        )
        delta = self.lr * (self.weight_decay * np.asarray(p.data) + adam)
        return delta, {"exp_avg": m, "exp_avg_sq": v}


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (PyTorch's schedule): from the base rate down to ``eta_min`` in ``T_max``.

    ``lr = eta_min + (base_lr − eta_min)·(1 + cos(π·epoch/T_max))/2``; after ``T_max``
    epochs the cosine rises again, as in PyTorch. The rate may reach ``eta_min = 0``.

    >>> import autograd_lite as al
    >>> opt = SGD([al.Value(1.0)], lr=1.0)
    >>> sched = CosineAnnealingLR(opt, T_max=4)
    >>> [round(sched.step(), 4) for _ in range(4)]
    [0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be an int >= 1, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = _nonneg(eta_min, "eta_min", "CosineAnnealingLR")

    def lr_at(self, epoch: int) -> float:
        cos = (1 + np.cos(np.pi * epoch / self.T_max)) / 2
        return float(self.eta_min + (self.base_lr - self.eta_min) * cos)

    def step(self) -> float:
        """Advance one epoch, set and return the new rate (which may be ``eta_min = 0``)."""
        self.epoch += 1
        self.optimizer.lr = self.lr_at(self.epoch)
        return self.optimizer.lr
