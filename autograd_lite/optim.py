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
    """Base class: parameters, learning rate, per-parameter ``state``, ``zero_grad``, ``step``.

    One commit mechanism for every optimizer: ``step()`` collects the
    parameters that have a gradient (skipping those without one, never
    reached by a backward since the last ``zero_grad()``, as PyTorch's
    optimizers do) and checks every gradient first; then each subclass's
    ``_update(p, g, state, t)`` computes ``(delta, new_state)`` without
    changing anything; only when all of them succeeded are the states
    stored, ``steps`` advanced and ``p.data -= delta`` applied. A gradient
    that does not fit its parameter (or, for optimizers with
    ``refuses_non_finite``, one with nan or inf) raises ``ValueError`` and
    leaves every parameter and all state as they were.

    ``state[i]`` is parameter ``i``'s dict, named as PyTorch names it
    (``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ``square_avg``, ``sum``);
    empty until the parameter's first update.

    >>> Optimizer([], lr=0.1)
    Traceback (most recent call last):
    ...
    ValueError: optimizer got an empty parameter list
    """

    #: a gradient with nan or inf raises before anything changes (else it is applied)
    refuses_non_finite = False

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        self.params = _collect(params)
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.steps = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter (to None: no zeros are allocated)."""
        for p in self.params:
            p._grad = p._theirs = None  # what Value.zero_grad does, without a call per parameter

    def step(self) -> None:
        """Update every parameter that has a gradient; on a bad gradient raise, change nothing."""
        work = self._gradients()
        t = self.steps + 1  # (Adam's bias correction reads it)
        state = self.state
        results = [self._update(p, g, state[i], t) for i, p, g in work]
        self.steps = t
        for (i, p, _), (delta, new) in zip(work, results):
            state[i] = new
            apply_update(p, delta)

    def _update(self, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        """``(delta, new_state)`` for parameter ``p`` at step ``t``; changes nothing."""
        raise NotImplementedError

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
        if self.refuses_non_finite:
            for i, p, g in work:
                if not np.all(np.isfinite(g)):
                    raise ValueError(
                        f"{type(self).__name__}.step: parameter {i} {p!r} has a non-finite "
                        "gradient (nan or inf); nothing was updated"
                    )
        return work

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


_NUMBERS = (int, float, np.integer, np.floating)  # (numpy's float32 is no Python float)


def _nonneg(value: Any, what: str, name: str, below_one: bool = False) -> float:
    ok = isinstance(value, _NUMBERS) and value >= 0 and (value < 1 or not below_one)
    if not ok:
        bound = "in [0, 1)" if below_one else ">= 0"
        raise ValueError(f"{name}: {what} must be {bound}, got {value!r}")
    return float(value)


# lr·g of a large parameter is made and subtracted this many bytes at a time: a block that
# stays in the cache between the two passes. A whole-array buffer of 4 MB (a 1024x1024
# float32 weight) went out to memory and back: the plain step of 784-1024-1024-10 took
# 1.02 ms against 0.64 ms in 256 KB blocks (and 0.79 ms for numpy's `g *= lr; W -= g`).
_BLOCK_BYTES = 1 << 18


def _scratch_for(d: np.ndarray) -> np.ndarray:
    """SGD's buffer for ``lr·g`` of parameter data ``d``: all of it, or a block of its rows.

    >>> _scratch_for(np.zeros((3, 4))).shape, _scratch_for(np.zeros((4096, 1024))).shape
    ((3, 4), (32, 1024))
    """
    row = d.itemsize * (d.size // len(d) if len(d) else 1)
    rows = max(1, _BLOCK_BYTES // max(row, 1))
    return np.empty((min(rows, len(d)), *d.shape[1:]), d.dtype)


class SGD(Optimizer):
    """Gradient descent ``w ← w − lr·g`` (the lecture's rule), with PyTorch's options.

    Each step, exactly as ``torch.optim.SGD`` (dampening 0):
    ``g ← ∂E/∂w + weight_decay·w``; with momentum ``v ← g`` at the first step,
    then ``v ← momentum·v + g`` (``state[i]["momentum_buffer"]``), and ``g ← v``
    (or ``g ← g + momentum·v`` with ``nesterov=True``); then ``w ← w − lr·g``.
    Parameters without a gradient are skipped. The plain rule runs in place,
    through a buffer kept per parameter: a step allocates nothing.

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
        self.momentum = _nonneg(momentum, "momentum", "SGD", below_one=True)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", "SGD")
        if nesterov and not momentum:
            raise ValueError("SGD: nesterov=True needs a momentum > 0 (as in PyTorch)")
        self.nesterov = bool(nesterov)
        self._scratch: list[Any] = [None] * len(self.params)  # lr·g, per parameter

    def step(self) -> None:
        """One update of every parameter with a gradient (see the class docstring)."""
        if self.momentum or self.weight_decay:
            super().step()
            return
        # The plain rule keeps no state: checked gradients, then w -= lr·g in place.
        work = self._gradients()
        self.steps += 1
        lr = self.lr
        scratch = self._scratch
        for i, p, g in work:
            d = p.data  # the plain array when it may be written (else a read-only view)
            if type(d) is np.ndarray and type(g) is np.ndarray and g.dtype is d.dtype and d.ndim:
                buf = scratch[i]
                if buf is not None and buf.dtype is d.dtype and buf.shape == d.shape:
                    np.multiply(g, lr, out=buf)
                    np.subtract(d, buf, out=d)
                    continue
                if buf is None or buf.dtype is not d.dtype or buf.shape[1:] != d.shape[1:]:
                    buf = scratch[i] = _scratch_for(d)
                n, rows = len(d), len(buf)  # a large parameter: a block of rows at a time
                for k in range(0, n, rows):
                    b = buf[: n - k] if n - k < rows else buf
                    np.multiply(g[k : k + rows], lr, out=b)
                    np.subtract(d[k : k + rows], b, out=d[k : k + rows])
            else:
                apply_update(p, lr * g)

    def _update(self, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        if self.weight_decay:
            g = g + self.weight_decay * p._data
        if not self.momentum:
            return self.lr * g, state
        v = state.get("momentum_buffer")
        v = (g.copy() if type(g) is np.ndarray else g) if v is None else self.momentum * v + g
        g = g + self.momentum * v if self.nesterov else v
        return self.lr * g, {"momentum_buffer": v}


def _betas(betas: Any, name: str) -> tuple[float, float]:
    """Adam's and AdamW's ``(β1, β2)``, each a number in [0, 1)."""
    pair = isinstance(betas, (tuple, list, np.ndarray)) and len(betas) == 2
    if not (pair and all(isinstance(b, _NUMBERS) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"{name}: betas must be in [0, 1), a pair; got {betas!r}")
    return float(betas[0]), float(betas[1])


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): per-parameter steps from running moments of the gradient.

    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²`` (``state[i]["exp_avg"]``,
    ``["exp_avg_sq"]``), bias-corrected ``m̂ = m/(1−β1^t)``, ``v̂ = v/(1−β2^t)``,
    ``w ← w − lr·m̂/(√v̂ + eps)``. ``weight_decay`` adds ``weight_decay·w`` to
    ``g`` first (L2, through the moments; AdamW decays the weights directly).

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
        name = type(self).__name__
        self.betas = _betas(betas, name)
        self.eps = _nonneg(eps, "eps", name)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", name)

    def _moments(self, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        """Adam's direction ``m̂/(√v̂ + eps)`` and the new moments (shared with AdamW).

        >>> import autograd_lite as al
        >>> step, new = Adam([al.Value(0.0)])._moments(2.0, {}, 1)
        >>> [round(float(x), 6) for x in (step, new["exp_avg"], new["exp_avg_sq"])]
        [1.0, 0.2, 0.004]
        """
        b1, b2 = self.betas
        m = b1 * state.get("exp_avg", 0.0) + (1 - b1) * g
        v = b2 * state.get("exp_avg_sq", 0.0) + (1 - b2) * (g * g)
        step = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + self.eps)
        return step, {"exp_avg": m, "exp_avg_sq": v}

    def _update(self, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        if self.weight_decay:
            g = g + self.weight_decay * p._data
        step, new = self._moments(g, state, t)
        return self.lr * step, new


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter; PyTorch's rule): Adam with decoupled weight decay.

    ``w ← w − lr·weight_decay·w``, then Adam's step ``w ← w − lr·m̂/(√v̂ + eps)`` with
    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``, ``m̂ = m/(1−β1ᵗ)``, ``v̂ = v/(1−β2ᵗ)``.
    A gradient with nan or inf raises before anything changes.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 5.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1·(1 − 0.1·0.5) − 0.1
    0.85
    """

    refuses_non_finite = True

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(self, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        step, new = self._moments(g, state, t)
        return self.lr * (self.weight_decay * p._data + step), new


class RMSprop(Optimizer):
    """RMSprop (PyTorch's rule): divide the gradient by a running RMS of its recent values.

    ``v ← α·v + (1−α)·g²``, then ``w ← w − lr·g/(√v + eps)``; with momentum
    ``b ← momentum·b + g/(√v + eps)`` and ``w ← w − lr·b``. ``weight_decay`` adds
    ``weight_decay·w`` to ``g`` first. A gradient with nan or inf raises before
    anything changes.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * 2.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1 − 0.01·2/√(0.01·4): the first step is lr/√(1−α)
    0.9
    """

    refuses_non_finite = True

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

    def _update(self, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        if self.weight_decay:
            g = g + self.weight_decay * p._data
        v = self.alpha * state.get("square_avg", 0.0) + (1 - self.alpha) * g * g
        step = g / (np.sqrt(v) + self.eps)
        new = {"square_avg": v}
        if self.momentum:
            step = self.momentum * state.get("momentum_buffer", 0.0) + step
            new["momentum_buffer"] = step
        return self.lr * step, new


class Adagrad(Optimizer):
    """Adagrad (PyTorch's rule): steps shrink with the sum of all squared gradients so far.

    ``s ← s + g²``, ``w ← w − lr·g/(√s + eps)``. A gradient with nan or inf
    raises before anything changes.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = Adagrad([w], lr=0.5)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 3.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1 − 0.5·3/3 − 0.5·3/√18
    0.146447
    """

    refuses_non_finite = True

    def __init__(self, params: Iterable[Value] | Any, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = _nonneg(eps, "eps", "Adagrad")

    def _update(self, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        s = state.get("sum", 0.0) + g * g
        return self.lr * g / (np.sqrt(s) + self.eps), {"sum": s}


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
