"""Learning-rate schedules (PyTorch's ``torch.optim.lr_scheduler``): call ``step()`` per epoch.

``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``LinearLR`` (a warm-up) and
``CosineAnnealingLR`` step from the optimizer's *current* rate, as PyTorch's chainable
forms do: two schedules stepped on one optimizer compose, and a rate changed by hand
is kept (``lr_at(epoch)`` is the closed form of one schedule alone, for plots).
``ConstantLR`` and ``PolynomialLR`` step that way too. ``LambdaLR`` is
``base_lr·fn(epoch)`` (``base_lr`` the rate when the schedule was made);
``CosineAnnealingWarmRestarts`` (SGDR) and ``OneCycleLR`` (stepped per batch, with the
momentum cycled too) set their closed forms; ``ReduceLROnPlateau`` watches a number
instead (``step(metric)``).
``state_dict()`` / ``load_state_dict()`` save and restore a schedule's progress.
``al.fit(..., scheduler=...)`` steps one after every epoch. The names are also
reachable as ``optim.StepLR`` and so on.

>>> import autograd_lite as al
>>> opt = al.optim.SGD([al.Value(1.0)], lr=0.1)
>>> sched = StepLR(opt, step_size=1, gamma=0.5)
>>> sched.step(), opt.lr
(0.05, 0.05)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable
from typing import Any

from .arguments import is_int, is_real
from .optim import Optimizer, _nonneg
from .value import Value


class LRScheduler:
    """Base of learning-rate schedules: call ``step()`` once per epoch.

    ``step()`` advances the epoch and sets ``optimizer.lr`` from its current value
    (``_next_lr``); ``lr_at(epoch)`` is the closed form of the schedule alone.
    ``base_lr`` is, as PyTorch's ``initial_lr``, the optimizer's rate before its first
    schedule changed it (kept as ``optimizer.initial_lr``), shared by all its schedules.
    ``state_dict()`` holds the epoch, ``base_lr`` and the last rate set (plus a
    subclass's counters), not the hyper-parameters or a ``LambdaLR``'s function.
    """

    #: the schedule may reach ``lr = 0`` (where an optimizer leaves its parameters as they are)
    may_reach_zero = False

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"scheduler: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        # as PyTorch's initial_lr: the rate before the optimizer's first schedule changed it
        if not hasattr(optimizer, "initial_lr"):
            optimizer.initial_lr = optimizer.lr
        self.base_lr = float(optimizer.initial_lr)
        self.epoch = 0
        self.last_lr = optimizer.lr

    #: names of the attributes (besides epoch, base_lr, last_lr) that ``state_dict`` holds
    _counters: tuple[str, ...] = ()

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def _next_lr(self, lr: float, epoch: int) -> float:
        """The rate for ``epoch`` from the current rate ``lr`` (default: the closed form)."""
        return self.lr_at(epoch)

    def step(self) -> float:
        """Advance one epoch, set and return the optimizer's new learning rate."""
        lr = self._checked(self._next_lr(self.optimizer.lr, self.epoch + 1), self.epoch + 1)
        self.epoch += 1
        self._set(lr)
        return lr

    def _set(self, lr: float) -> None:
        self.optimizer.lr = self.last_lr = lr

    def _checked(self, lr: float, epoch: int) -> float:
        """``lr`` as a float, refused (``ValueError``) unless the schedule allows it."""
        lr = float(lr)
        if not (lr > 0 or (lr == 0 and self.may_reach_zero)):
            raise ValueError(f"{type(self).__name__}: schedule gave lr={lr!r} at epoch {epoch}")
        return lr

    def get_last_lr(self) -> float:
        """The last rate this schedule set (PyTorch's ``get_last_lr``, one group)."""
        return self.last_lr

    def state_dict(self) -> dict[str, Any]:
        """The schedule's progress: its class, epoch, ``base_lr``, last rate and counters.

        >>> import autograd_lite as al
        >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
        >>> sched = ExponentialLR(opt, gamma=0.5)
        >>> _ = sched.step()
        >>> sched.state_dict()
        {'type': 'ExponentialLR', 'epoch': 1, 'base_lr': 1.0, 'last_lr': 0.5}
        """
        sd = {"type": type(self).__name__, "epoch": self.epoch}
        sd.update(base_lr=self.base_lr, last_lr=self.last_lr)
        sd.update({k: getattr(self, k) for k in self._counters})
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()``'s progress; checked first (``ValueError``, nothing changes).

        The optimizer's rate is not set here: restore it with the optimizer's own
        ``load_state_dict`` (as in PyTorch).

        >>> import autograd_lite as al
        >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
        >>> sched = StepLR(opt, step_size=2)
        >>> sched.load_state_dict({"type": "StepLR", "epoch": 3, "base_lr": 1.0, "last_lr": 0.1})
        >>> sched.epoch, sched.get_last_lr()
        (3, 0.1)
        >>> sched.load_state_dict({"type": "StepLR", "epoch": -1, "base_lr": 1.0, "last_lr": 0.1})
        Traceback (most recent call last):
        ValueError: StepLR.load_state_dict: epoch must be an int >= 0, got -1
        """
        self._apply(self._checked_state(state_dict))

    def _apply(self, new: dict[str, Any]) -> None:
        for key, value in new.items():
            setattr(self, key, value)

    def _checked_state(self, state_dict: Any) -> dict[str, Any]:
        """The attributes ``state_dict`` would set, checked (``ValueError``); nothing set."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise ValueError(f"{name}: expected a dict, got {type(state_dict).__name__}")
        want = {"type", "epoch", "base_lr", "last_lr", *self._counters}
        if set(state_dict) != want:
            raise ValueError(f"{name}: expected the keys {sorted(want)}, got {sorted(state_dict)}")
        if state_dict["type"] != type(self).__name__:
            raise ValueError(f"{name}: the state_dict is a {state_dict['type']!r}'s")
        new = {"epoch": _count(state_dict["epoch"], "epoch", name)}
        for key in ("base_lr", "last_lr"):
            value = state_dict[key]
            if not (is_real(value) and value < math.inf):
                raise ValueError(f"{name}: {key} must be a finite number >= 0, got {value!r}")
            new[key] = _nonneg(value, key, name)
        new.update(self._checked_counters(state_dict, name))
        return new

    def _checked_counters(self, state_dict: dict[str, Any], name: str) -> dict[str, Any]:
        return {}


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
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

    def _next_lr(self, lr: float, epoch: int) -> float:
        return lr * self.gamma if epoch % self.step_size == 0 else lr


class LambdaLR(LRScheduler):
    """``lr = base_lr·fn(epoch)``: any schedule as a factor of the starting rate (PyTorch's).

    ``fn`` maps the (0-based) epoch to a multiplier of the optimizer's rate when the
    schedule is made, ``base_lr``; as in PyTorch, ``base_lr·fn(0)`` is set at once (the
    rate of the first epoch), and each ``step()`` sets ``base_lr·fn(e)`` for the next.
    The rate may reach 0 (a decay to nothing, ``lambda e: 1 - e / N``: a step at rate
    0 leaves the parameters as they are); a negative or NaN rate is refused.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=0.5)
    >>> sched = LambdaLR(opt, lambda epoch: 1 / (1 + epoch))
    >>> opt.lr, sched.step(), sched.step()
    (0.5, 0.25, 0.16666666666666666)
    """

    may_reach_zero = True

    def __init__(self, optimizer: Optimizer, fn: Callable[[int], float]) -> None:
        super().__init__(optimizer)
        if not callable(fn):
            raise TypeError(f"LambdaLR: fn must be callable, got {type(fn).__name__}")
        self.fn = fn
        self._set(self._checked(self.lr_at(0), 0))

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.fn(epoch)


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing (PyTorch's schedule): from the base rate down to ``eta_min`` in ``T_max``.

    Alone, ``lr = eta_min + (base_lr − eta_min)·(1 + cos(π·epoch/T_max))/2``; after
    ``T_max`` epochs the cosine rises again, as in PyTorch. Each step scales the
    current rate's distance to ``eta_min`` by the ratio of that cosine at the epoch
    and the one before (PyTorch's recursive form; where that ratio is 0/0 it adds
    ``(base_lr − eta_min)·(1 − cos(π/T_max))/2``). The rate may reach ``eta_min = 0``.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = CosineAnnealingLR(opt, T_max=4)
    >>> [round(sched.step(), 4) for _ in range(4)]
    [0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max = _count(T_max, "T_max", "CosineAnnealingLR", least=1)
        self.eta_min = _nonneg(eta_min, "eta_min", "CosineAnnealingLR")

    may_reach_zero = True

    def lr_at(self, epoch: int) -> float:
        return _half_cosine(self.base_lr, self.eta_min, epoch, self.T_max)

    def _next_lr(self, lr: float, epoch: int) -> float:
        t, low = self.T_max, self.eta_min
        if (epoch - 1 - t) % (2 * t) == 0:  # from the bottom of the cosine: the ratio is 0/0
            return lr + (self.base_lr - low) * (1 - math.cos(math.pi / t)) / 2
        ratio = (1 + math.cos(math.pi * epoch / t)) / (1 + math.cos(math.pi * (epoch - 1) / t))
        return ratio * (lr - low) + low


def _half_cosine(high: float, low: float, t: float, period: float) -> float:
    """From ``high`` at ``t = 0`` down to ``low`` at ``t = period``, along half a cosine.

    (PyTorch's order of operations, so SGDR's rates are its rates to the last bit.)

    >>> _half_cosine(1.0, 0.0, 1, 2)
    0.5
    """
    return low + (high - low) * (1 + math.cos(math.pi * t / period)) / 2


def _positive(value: Any, what: str, name: str) -> float:
    if not (is_real(value) and 0 < value < math.inf):
        raise ValueError(f"{name}: {what} must be a number > 0, got {value!r}")
    return float(value)


def _count(value: Any, what: str, name: str, least: int = 0) -> int:
    if not (is_int(value) and value >= least):
        raise ValueError(f"{name}: {what} must be an int >= {least}, got {value!r}")
    return int(value)


def _milestones(values: Iterable[int], name: str) -> list[int]:
    """Epochs >= 1 in increasing order, as ints (``ValueError`` naming ``name``).

    >>> _milestones([2, 5], "MultiStepLR")
    [2, 5]
    >>> _milestones([5, 2], "MultiStepLR")
    Traceback (most recent call last):
    ...
    ValueError: MultiStepLR: milestones must be increasing, got [5, 2]
    """
    marks = [_count(m, "each milestone", name, least=1) for m in values]
    if marks != sorted(set(marks)):
        raise ValueError(f"{name}: milestones must be increasing, got {marks!r}")
    return marks


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone epoch (PyTorch's schedule).

    Each step at a milestone multiplies the current rate by ``gamma``; alone,
    ``lr = base_lr·gamma^k`` with ``k`` the number of milestones ``<= epoch``.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
    >>> [sched.step() for _ in range(5)]
    [1.0, 0.5, 0.5, 0.25, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.milestones = _milestones(milestones, "MultiStepLR")
        self.gamma = _positive(gamma, "gamma", "MultiStepLR")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** bisect.bisect_right(self.milestones, epoch)

    def _next_lr(self, lr: float, epoch: int) -> float:
        return lr * self.gamma if epoch in self.milestones else lr


class ExponentialLR(LRScheduler):
    """Multiply the current rate by ``gamma`` every epoch (alone: ``base_lr·gamma^epoch``).

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> [sched.step() for _ in range(3)]
    [0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        super().__init__(optimizer)
        self.gamma = _positive(gamma, "gamma", "ExponentialLR")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch

    def _next_lr(self, lr: float, epoch: int) -> float:
        return lr * self.gamma


class LinearLR(LRScheduler):
    """Warm-up (or -down): the rate's factor goes linearly from ``start_factor`` to ``end_factor``.

    Alone, ``lr = base_lr·(start + (end − start)·min(epoch, total_iters)/total_iters)``,
    ``start`` and ``end`` the factors. As PyTorch's, it multiplies the rate by
    ``start_factor`` when made, and each step up to ``total_iters`` multiplies the
    current rate by the ratio of that factor at the epoch and the one before
    (PyTorch's recursive form); later steps leave the rate as it is.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> opt.lr, [sched.step() for _ in range(4)]
    (0.25, [0.5, 0.75, 1.0, 1.0])
    """

    may_reach_zero = True  # (end_factor 0: a decay to nothing)

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        super().__init__(optimizer)
        if not (is_real(start_factor) and 0 < start_factor <= 1):
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not (is_real(end_factor) and 0 <= end_factor <= 1):
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = _count(total_iters, "total_iters", "LinearLR", least=1)
        self._set(optimizer.lr * self.start_factor)

    def lr_at(self, epoch: int) -> float:
        done = min(epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)

    def _next_lr(self, lr: float, epoch: int) -> float:
        if epoch > self.total_iters:
            return lr
        rise = self.end_factor - self.start_factor
        factor = 1 + rise / (self.total_iters * self.start_factor + (epoch - 1) * rise)
        return lr * max(factor, 0.0)  # exactly >= 0; rounding may give -1e-17 on the way to 0


class ConstantLR(LRScheduler):
    """The rate times ``factor`` for the first ``total_iters`` epochs, then back (PyTorch's).

    Made, it multiplies the rate by ``factor``; the step to epoch ``total_iters``
    divides it by ``factor`` again (the chainable form: other steps leave the rate as
    it is). Alone, ``lr = base_lr·factor`` before ``total_iters``, ``base_lr`` after.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = ConstantLR(opt, factor=0.5, total_iters=2)
    >>> opt.lr, [sched.step() for _ in range(3)]
    (0.5, [0.5, 1.0, 1.0])
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1 / 3, total_iters: int = 5) -> None:
        super().__init__(optimizer)
        if not (is_real(factor) and 0 < factor <= 1):
            raise ValueError(f"ConstantLR: factor must be in (0, 1], got {factor!r}")
        self.factor = float(factor)
        self.total_iters = _count(total_iters, "total_iters", "ConstantLR", least=1)
        self._set(optimizer.lr * self.factor)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * (self.factor if epoch < self.total_iters else 1.0)

    def _next_lr(self, lr: float, epoch: int) -> float:
        return lr / self.factor if epoch == self.total_iters else lr


class PolynomialLR(LRScheduler):
    """Decay to 0 in ``total_iters`` epochs along ``(1 − epoch/total_iters)^power`` (PyTorch's).

    Alone, ``lr = base_lr·(1 − min(epoch, total_iters)/total_iters)^power``; each step
    up to ``total_iters`` multiplies the current rate by that factor's ratio to the
    one before (the chainable form), later steps leave it (at 0, alone).

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = PolynomialLR(opt, total_iters=4, power=2.0)
    >>> [sched.step() for _ in range(5)]
    [0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    may_reach_zero = True

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0) -> None:
        super().__init__(optimizer)
        self.total_iters = _count(total_iters, "total_iters", "PolynomialLR", least=1)
        self.power = _positive(power, "power", "PolynomialLR")

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * (1 - min(epoch, self.total_iters) / self.total_iters) ** self.power

    def _next_lr(self, lr: float, epoch: int) -> float:
        if epoch > self.total_iters:
            return lr
        n = self.total_iters
        return lr * ((1 - epoch / n) / (1 - (epoch - 1) / n)) ** self.power


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every ``T_i`` epochs, ``T_i`` growing by ``T_mult`` (SGDR).

    ``lr = eta_min + (base_lr − eta_min)·(1 + cos(π·T_cur/T_i))/2`` with ``T_cur`` the
    epochs since the last restart; the first period is ``T_0`` epochs, each next one
    ``T_mult`` times longer (Loshchilov & Hutter 2017, PyTorch's schedule). As in
    PyTorch, ``step(epoch)`` may also be given the epoch, fractional for steps within
    one (``step(e + i/batches)``); the rate is then the closed form at that epoch.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    >>> [round(sched.step(), 4) for _ in range(6)]
    [0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    """

    may_reach_zero = True

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0
    ) -> None:
        super().__init__(optimizer)
        name = "CosineAnnealingWarmRestarts"
        self.T_0 = _count(T_0, "T_0", name, least=1)
        self.T_mult = _count(T_mult, "T_mult", name, least=1)
        self.eta_min = _nonneg(eta_min, "eta_min", name)
        self.T_i, self.T_cur = self.T_0, 0.0
        self._set(self._checked(self.lr_at(0), 0))

    _counters = ("T_i", "T_cur")

    def _checked_counters(self, state_dict: dict[str, Any], name: str) -> dict[str, Any]:
        t_i = _count(state_dict["T_i"], "T_i", name, least=1)
        t_cur = state_dict["T_cur"]
        if not (is_real(t_cur) and 0 <= t_cur < t_i):
            raise ValueError(f"{name}: T_cur must be a number in [0, T_i), got {t_cur!r}")
        return {"T_i": t_i, "T_cur": float(t_cur)}

    def _period(self, epoch: float) -> tuple[int, float]:
        """``(T_i, T_cur)`` at ``epoch``: the period it falls in and how far into it."""
        t0, mult = self.T_0, self.T_mult
        if epoch < t0:
            return t0, float(epoch)
        if mult == 1:
            return t0, float(epoch % t0)
        n = int(math.log(epoch / t0 * (mult - 1) + 1, mult))  # restarts so far
        return t0 * mult**n, epoch - t0 * (mult**n - 1) / (mult - 1)

    def lr_at(self, epoch: float) -> float:
        t_i, t_cur = self._period(epoch)
        return _half_cosine(self.base_lr, self.eta_min, t_cur, t_i)

    def step(self, epoch: float | None = None) -> float:  # type: ignore[override]
        """Advance one epoch (or go to ``epoch``); set and return the new rate."""
        if epoch is None:
            t_i, t_cur = self.T_i, self.T_cur + 1
            if t_cur >= t_i:  # a restart
                t_cur, t_i = t_cur - t_i, t_i * self.T_mult
            whole = self.epoch + 1
        else:
            if not (is_real(epoch) and 0 <= epoch < math.inf):
                raise ValueError(
                    f"CosineAnnealingWarmRestarts.step: epoch must be a number >= 0, got {epoch!r}"
                )
            t_i, t_cur = self._period(epoch)
            whole = math.floor(epoch)
        lr = self._checked(_half_cosine(self.base_lr, self.eta_min, t_cur, t_i), whole)
        self.T_i, self.T_cur, self.epoch = t_i, t_cur, whole
        self._set(lr)
        return lr


def _anneal(start: float, end: float, pct: float, cos: bool) -> float:
    """From ``start`` (pct 0) to ``end`` (pct 1): along half a cosine, or a line."""
    if cos:
        return end + (start - end) / 2 * (math.cos(math.pi * pct) + 1)
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2018, PyTorch's ``OneCycleLR``): up, then down.

    The rate starts at ``max_lr/div_factor``, rises to ``max_lr`` over the first
    ``pct_start`` of ``total_steps`` and falls to ``max_lr/(div_factor·final_div_factor)``
    by the last (``anneal_strategy`` ``"cos"`` or ``"linear"``); ``three_phase=True``
    comes back down to the start first, then to the minimum. With ``cycle_momentum``
    the momentum (SGD's, RMSprop's ``momentum``; Adam's and AdamW's β1) moves the other
    way, from ``max_momentum`` to ``base_momentum`` and back. Meant to be stepped after
    every batch (``total_steps``, or ``epochs`` and ``steps_per_epoch``); ``al.fit``
    steps a schedule once an epoch, so there give ``total_steps=epochs``. A step past
    ``total_steps`` raises ``ValueError``, as in PyTorch.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=0.1, momentum=0.9)
    >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=5, pct_start=0.4)
    >>> opt.lr, opt.momentum
    (0.04, 0.95)
    >>> [round(sched.step(), 4) for _ in range(4)], opt.momentum
    ([1.0, 0.75, 0.25, 0.0], 0.95)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        name = "OneCycleLR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            self.total_steps = _count(total_steps, "total_steps", name, least=1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = _count(epochs, "epochs", name, least=1) * _count(
                steps_per_epoch, "steps_per_epoch", name, least=1
            )
        else:
            raise ValueError(f"{name}: give total_steps, or epochs and steps_per_epoch")
        if not (is_real(pct_start) and 0 <= pct_start <= 1):
            raise ValueError(f"{name}: pct_start must be in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self.max_lr = _positive(max_lr, "max_lr", name)
        start = self.max_lr / _positive(div_factor, "div_factor", name)
        self.min_lr = start / _positive(final_div_factor, "final_div_factor", name)
        self.cos = anneal_strategy == "cos"
        self.cycle_momentum = bool(cycle_momentum)
        self._beta1 = hasattr(optimizer, "betas")
        if self.cycle_momentum and not (self._beta1 or hasattr(optimizer, "momentum")):
            raise ValueError(
                f"{name}: cycle_momentum=True needs an optimizer with a momentum or betas "
                f"(not {type(optimizer).__name__}); pass cycle_momentum=False"
            )
        self.base_momentum = _nonneg(base_momentum, "base_momentum", name, below_one=True)
        self.max_momentum = _nonneg(max_momentum, "max_momentum", name, below_one=True)
        n, up = self.total_steps, float(pct_start * self.total_steps)
        # (end step, start rate, end rate, start momentum, end momentum) of each phase
        hi, lo = self.max_momentum, self.base_momentum
        if three_phase:
            self.phases = [
                (up - 1, start, self.max_lr, hi, lo),
                (2 * up - 2, self.max_lr, start, lo, hi),
                (n - 1, start, self.min_lr, hi, hi),
            ]
        else:
            self.phases = [
                (up - 1, start, self.max_lr, hi, lo),
                (n - 1, self.max_lr, self.min_lr, lo, hi),
            ]
        optimizer.initial_lr = start  # (PyTorch sets initial_lr to it too)
        super().__init__(optimizer)
        self._set(self._checked(self.lr_at(0), 0))
        self._set_momentum(0)

    def _point(self, step: int) -> tuple[float, float]:
        """The rate and momentum at ``step`` (PyTorch's phase search)."""
        begin, phases = 0.0, self.phases
        k = 0
        while k < len(phases) - 1 and step > phases[k][0]:  # the phase step falls in
            begin, k = phases[k][0], k + 1
        end, lr0, lr1, m0, m1 = phases[k]
        # At (or, the step after the last batch, past) a phase's end: its end values. PyTorch
        # extrapolates there (a negative rate with linear annealing) or divides 0 by 0.
        pct = 1.0 if step >= end else (step - begin) / (end - begin)
        return _anneal(lr0, lr1, pct, self.cos), _anneal(m0, m1, pct, self.cos)

    def lr_at(self, epoch: int) -> float:
        return self._point(epoch)[0]

    def _next_lr(self, lr: float, epoch: int) -> float:
        if epoch > self.total_steps:
            raise ValueError(
                f"OneCycleLR: step {epoch} is past total_steps={self.total_steps} "
                "(make the schedule with the number of steps the run takes)"
            )
        return self.lr_at(epoch)

    def step(self) -> float:
        """Advance one step; set and return the rate (and, with cycle_momentum, the momentum)."""
        lr = super().step()
        self._set_momentum(self.epoch)
        return lr

    def _set_momentum(self, step: int) -> None:
        if not self.cycle_momentum:
            return
        m = self._point(step)[1]
        opt = self.optimizer
        if self._beta1:
            opt.betas = (m, opt.betas[1])
        else:
            opt.momentum = m


class ReduceLROnPlateau(LRScheduler):
    """Lower the rate when a metric stops improving (PyTorch's rule): ``step(metric)``.

    Call ``step(metric)`` once an epoch with the number to watch (a validation
    loss; ``mode="max"`` for an accuracy). The metric improves when it is below
    ``best·(1 − threshold)`` (``threshold_mode="rel"``; ``best − threshold`` with
    ``"abs"``; above ``best·(1 + threshold)`` / ``best + threshold`` in ``"max"``
    mode). After more than ``patience`` epochs in a row without improvement the rate
    becomes ``max(lr·factor, min_lr)`` (unless that changes it by ``eps`` or less),
    and for ``cooldown`` epochs after that no epoch counts as bad. ``al.fit`` calls
    ``step`` with the epoch's ``val_loss`` (its ``loss`` without validation data).

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> [sched.step(loss) for loss in [3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]]
    [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        super().__init__(optimizer)
        name = "ReduceLROnPlateau"
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        if not (is_real(factor) and 0 < factor < 1):
            raise ValueError(f"{name}: factor must be in (0, 1), got {factor!r}")
        self.mode, self.threshold_mode, self.factor = mode, threshold_mode, float(factor)
        self.patience = _count(patience, "patience", name)
        self.cooldown = _count(cooldown, "cooldown", name)
        self.threshold = _nonneg(threshold, "threshold", name)
        self.min_lr = _nonneg(min_lr, "min_lr", name)
        self.eps = _nonneg(eps, "eps", name)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    _counters = ("best", "num_bad_epochs", "cooldown_counter")

    def _checked_counters(self, state_dict: dict[str, Any], name: str) -> dict[str, Any]:
        best = state_dict["best"]
        if not is_real(best) or math.isnan(best):
            raise ValueError(f"{name}: best must be a number, got {best!r}")
        new: dict[str, Any] = {"best": float(best)}
        for key in ("num_bad_epochs", "cooldown_counter"):
            new[key] = _count(state_dict[key], key, name)
        return new

    def lr_at(self, epoch: int) -> float:
        raise TypeError("ReduceLROnPlateau: the rate follows a metric, not the epoch: step(metric)")

    def _better(self, a: float) -> bool:
        best, th = self.best, self.threshold
        if self.mode == "min":
            return a < (best * (1 - th) if self.threshold_mode == "rel" else best - th)
        return a > (best * (1 + th) if self.threshold_mode == "rel" else best + th)

    def step(self, metric: Any) -> float:  # type: ignore[override]
        """Record one epoch's ``metric``; lower the rate on a plateau; return the rate."""
        if isinstance(metric, Value):
            metric = metric.item()
        try:
            current = float(metric)
        except (TypeError, ValueError):
            raise TypeError(
                f"ReduceLROnPlateau.step: metric must be a number, got {type(metric).__name__}"
            ) from None
        self.epoch += 1
        if self._better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # in cooldown: bad epochs are not counted
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self.last_lr = self.optimizer.lr
        return self.optimizer.lr


class ChainedScheduler(LRScheduler):
    """Step several schedules of one optimizer together (PyTorch's ``ChainedScheduler``).

    ``step()`` steps each in turn; as they work on the current rate, their effects
    multiply. ``state_dict()`` holds each one's.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> sched = ChainedScheduler([LinearLR(opt, 0.25, total_iters=3), ExponentialLR(opt, 0.5)])
    >>> opt.lr, [sched.step() for _ in range(3)]
    (0.25, [0.25, 0.1875, 0.125])
    """

    def __init__(self, schedulers: Iterable[LRScheduler]) -> None:
        scheds = list(schedulers)
        if not scheds or not all(isinstance(s, LRScheduler) for s in scheds):
            raise TypeError("ChainedScheduler: expected a non-empty list of LRSchedulers")
        if any(isinstance(s, (ReduceLROnPlateau, ChainedScheduler)) for s in scheds):
            raise TypeError("ChainedScheduler: cannot chain ReduceLROnPlateau or ChainedScheduler")
        if any(s.optimizer is not scheds[0].optimizer for s in scheds):
            raise ValueError("ChainedScheduler: all schedules must share one optimizer")
        self.schedulers = scheds
        self.optimizer = scheds[0].optimizer
        self.base_lr, self.epoch, self.last_lr = scheds[0].base_lr, 0, self.optimizer.lr

    def step(self) -> float:
        """Step every schedule once; return the optimizer's rate."""
        for s in self.schedulers:
            s.step()
        self.epoch += 1
        self.last_lr = self.optimizer.lr
        return self.last_lr

    def state_dict(self) -> dict[str, Any]:
        """``{"type": "ChainedScheduler", "schedulers": [each one's state_dict]}``."""
        return {
            "type": type(self).__name__,
            "schedulers": [s.state_dict() for s in self.schedulers],
        }

    def _checked_state(self, state_dict: Any) -> dict[str, Any]:
        kind = type(self).__name__
        name = f"{kind}.load_state_dict"
        if not isinstance(state_dict, dict) or state_dict.get("type") != kind:
            raise ValueError(f"{name}: expected a {kind}'s state_dict")
        sds = state_dict.get("schedulers")
        if not isinstance(sds, list) or len(sds) != len(self.schedulers):
            raise ValueError(f"{name}: expected {len(self.schedulers)} schedules' state_dicts")
        news = [s._checked_state(sd) for s, sd in zip(self.schedulers, sds, strict=True)]
        return {"schedulers": news}

    def _apply(self, new: dict[str, Any]) -> None:
        for s, attrs in zip(self.schedulers, new["schedulers"], strict=True):
            s._apply(attrs)
        self.epoch, self.last_lr = self.schedulers[-1].epoch, self.schedulers[-1].last_lr


class SequentialLR(ChainedScheduler):
    """One schedule after another, switching at ``milestones`` (PyTorch's ``SequentialLR``).

    Until ``milestones[0]`` the first schedule steps, then the second (restarted from
    its epoch 0: ``lr_at(0)``, the rate before the optimizer's first schedule, times
    its first factor), and so on. Made, it sets the first schedule's starting rate.
    The usual use: a warm-up, then a decay.

    >>> import autograd_lite as al
    >>> opt = al.optim.SGD([al.Value(1.0)], lr=1.0)
    >>> warm = LinearLR(opt, start_factor=0.25, total_iters=2)
    >>> decay = ExponentialLR(opt, gamma=0.5)
    >>> sched = SequentialLR(opt, [warm, decay], milestones=[2])
    >>> opt.lr, [sched.step() for _ in range(4)]
    (0.25, [0.625, 1.0, 0.5, 0.25])
    """

    def __init__(
        self, optimizer: Optimizer, schedulers: Iterable[LRScheduler], milestones: Iterable[int]
    ) -> None:
        super().__init__(schedulers)
        if self.optimizer is not optimizer:
            raise ValueError("SequentialLR: the schedules must be the given optimizer's")
        marks = _milestones(milestones, "SequentialLR")
        if len(marks) != len(self.schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected {len(self.schedulers) - 1} increasing milestones "
                f"(one fewer than the schedules), got {marks!r}"
            )
        self.milestones = marks
        for s in self.schedulers:  # undo the schedules' own first steps, start the first
            s.epoch = 0
        self._restart(self.schedulers[0])

    def _restart(self, sched: LRScheduler) -> None:
        sched.epoch = 0
        sched._set(sched._checked(sched.lr_at(0), 0))

    def step(self) -> float:
        """Step the schedule of this epoch (restarting it at its milestone); return the rate."""
        epoch = self.epoch + 1
        k = bisect.bisect_right(self.milestones, epoch)
        sched = self.schedulers[k]
        if k > 0 and self.milestones[k - 1] == epoch:
            self._restart(sched)
        else:
            sched.step()
        self.epoch = epoch
        self.last_lr = self.optimizer.lr
        return self.last_lr

    def state_dict(self) -> dict[str, Any]:
        """Each schedule's state_dict and this one's epoch."""
        return {**super().state_dict(), "epoch": self.epoch}

    def _checked_state(self, state_dict: Any) -> dict[str, Any]:
        if not isinstance(state_dict, dict):
            raise ValueError("SequentialLR.load_state_dict: expected a dict")
        rest = {k: v for k, v in state_dict.items() if k != "epoch"}
        epoch = _count(state_dict.get("epoch"), "epoch", "SequentialLR.load_state_dict")
        return {**super()._checked_state(rest), "epoch": epoch}

    def _apply(self, new: dict[str, Any]) -> None:
        super()._apply(new)
        self.epoch = new["epoch"]
        self.last_lr = self.schedulers[bisect.bisect_right(self.milestones, self.epoch)].last_lr
