"""Optimizers (``SGD``, ``Adam``, ``RMSprop``, ``Adagrad``, ``AdamW``); the learning-rate
schedules live in :mod:`autograd_lite.lr_scheduler` and are reachable here too
(``optim.StepLR``, as in PyTorch's ``torch.optim``).

An optimizer holds a list of parameters; after ``loss.backward()`` its
``step()`` moves every parameter against its gradient, and ``zero_grad()``
clears the gradients (they accumulate otherwise).

Every rule updates in place, as PyTorch's do: the parameter's array and the state
arrays (``opt.state[i]``, made at a parameter's first update) are changed where
they are, through scratch buffers kept per parameter. Updates respect the
engine's in-place safety: an array that a pending backward still needs is
read-only, so such a parameter is *rebound* to a new array instead of changed in
place; scalar parameters (Python floats) are always rebound.

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

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .arguments import is_int, is_real
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
    optimizers do) and checks every gradient first; then it makes whatever
    the update needs (state arrays on a parameter's first update, scratch
    buffers) without changing anything; only then are ``steps`` advanced and
    the parameters and their state updated. A gradient that does not fit its
    parameter (or, for optimizers with ``refuses_non_finite``, one with nan or
    inf) raises ``ValueError`` and leaves every parameter and all state as
    they were.

    The built-in rules update in place, as PyTorch's do: ``p.data`` (when no
    pending backward needs it; else the parameter is rebound to a new array),
    and the state arrays, made once and then changed in place each step.
    A subclass that defines ``_update(p, g, state, t)`` instead, returning
    ``(delta, new_state)`` without changing anything, gets that rule applied
    out of place: ``state[i] = new_state`` and ``p.data -= delta``.

    ``state[i]`` is parameter ``i``'s dict, named as PyTorch names it
    (``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ``square_avg``, ``sum``);
    empty until the parameter's first update.

    >>> import autograd_lite as al
    >>> class Sign(Optimizer):            # a rule of one's own: w <- w - lr·sign(g)
    ...     def _update(self, p, g, state, t):
    ...         return self.lr * np.sign(g), state
    >>> w = al.Value([1.0, -1.0])
    >>> (w * w).sum().backward(); Sign([w], lr=0.25).step(); w.data
    array([ 0.75, -0.75])
    >>> Optimizer([], lr=0.1)
    Traceback (most recent call last):
    ...
    ValueError: optimizer got an empty parameter list
    """

    #: a gradient with nan or inf raises before anything changes (else it is applied)
    refuses_non_finite = False
    #: each parameter counts its own updates in ``state[i]["step"]`` (PyTorch's Adam does:
    #: a parameter skipped on some steps is bias-corrected by its own count, not ``steps``)
    counts_steps = False
    #: the hyper-parameters a ``state_dict``'s param group holds besides ``lr``
    #: (the constructor's argument names, each an attribute)
    _options: tuple[str, ...] = ()
    #: what a new state array starts as, where not zeros (Adagrad's ``sum``)
    _fills: dict[str, float] = {}  # (read only: an instance sets its own)

    def __init__(self, params: Iterable[Value] | Any, lr: float) -> None:
        self.params = _collect(params)
        if not (is_real(lr) and 0 < lr < math.inf):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.steps = 0
        self.state: list[dict[str, Any]] = [{} for _ in self.params]
        self._scratch: list[Any] = [None] * len(self.params)  # buffers of the in-place rules
        self._held: list[Any] = [None] * len(self.params)  # what each step left (Optimizer.step)

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter (to None: no zeros are allocated)."""
        for p in self.params:
            p._grad = p._theirs = None  # what Value.zero_grad does, without a call per parameter

    def step(self) -> None:
        """Update every parameter that has a gradient; on a bad gradient raise, change nothing."""
        self._commit(self._gradients(), self.steps + 1)

    def _commit(self, work: list[tuple[int, Value, Any]], t: int) -> None:
        """Update the checked ``work`` of ``_gradients()`` as step ``t`` (see the class doc)."""
        state = self.state
        if type(self)._update is not Optimizer._update:  # a rule written as `_update`
            results = [self._update(p, g, state[i], t) for i, p, g in work]
            self.steps = t
            for (i, p, _), (delta, new) in zip(work, results):
                state[i] = new
                apply_update(p, delta)
            return
        # In place. First everything that may fail or allocate, changing nothing ...
        keys, nbuf = self._state_keys(), self._buffer_count()
        counts = self.counts_steps  # (Adam: a step count per parameter, as PyTorch keeps)
        consts = None if counts else self._constants(t)
        held = self._held
        plan = []
        for i, p, g in work:
            d = p.data  # the plain array when it may be written (else a read-only view)
            st = state[i]
            last = held[i]  # what the last step left: (array, its shape, keys, state, buffers)
            if counts:  # the step this update is, for this parameter
                n = st.get("step", 0)
                n = n + 1 if type(n) is int and n >= 0 else _step_count(st, i, self)
            else:
                n = t
            if last is not None and last[0] is d and d.shape == last[1] and last[2] == keys:
                # the same parameter array as then: the state, if still the arrays left
                # (and still writeable: a caller may have frozen one), fits
                arrays = last[3]
                for k, a in zip(keys, arrays):
                    if st.get(k) is not a or not a.flags.writeable:
                        break
                else:
                    if len(last[4]) >= nbuf:
                        plan.append((p, d, g, None, arrays, last[4], st, n))
                        continue
            if type(d) is np.ndarray and d.flags.writeable:
                w = d
            else:  # a float, or an array a pending backward needs: update a copy, rebind to it
                w = np.array(d, dtype=np.float64 if type(d) is float else d.dtype)
            arrays = [_state_array(st.get(k), w, k, i, self) for k in keys]
            plan.append((p, w, g, i, arrays, self._buffers(i, w, nbuf), st, n))
        numbers: dict[int, tuple] = {}  # the per-step numbers of each count (one, usually)
        # ... then the update: nothing below can fail.
        self.steps = t
        kernel = self._kernel
        for p, w, g, i, arrays, bufs, st, n in plan:
            if i is not None:  # state to store, what is left to remember for the next step
                for k, a in zip(keys, arrays):
                    st[k] = a
                held[i] = (w, w.shape, keys, arrays, bufs) if w is p._data else None
            if counts:
                st["step"] = n
                consts = numbers.get(n)
                if consts is None:
                    consts = numbers[n] = self._constants(n)
            if bufs[0].shape == w.shape:
                kernel(w, g, arrays, bufs, consts)
            else:
                _in_blocks(kernel, w, g, arrays, bufs, consts)
            if w is not p._data:  # (a copy: never on the fast path above, where i is None)
                _rebind(p, w)
                held[i] = None

    def _update(self, p: Value, g: Any, state: dict, t: int) -> tuple[Any, dict]:
        """``(delta, new_state)`` for parameter ``p`` at step ``t``; changes nothing.

        What a subclass with a rule of its own defines. Here: the built-in
        rule run on copies (for a subclass that adjusts ``g`` and calls
        ``super()._update``).
        """
        d = p._data
        w = np.array(d, dtype=np.float64 if type(d) is float else d.dtype)
        arrays = [np.array(_state_array(state.get(k), w, k, 0, self)) for k in self._state_keys()]
        bufs = tuple(np.empty_like(w) for _ in range(self._buffer_count()))
        self._kernel(w, g, arrays, bufs, self._constants(t))
        new = {**state, **dict(zip(self._state_keys(), arrays))}
        return (float(d - w) if type(d) is float else d - w), new

    # The in-place rule of a built-in optimizer: the per-step numbers, the names of its
    # state arrays, how many scratch buffers it needs, and the kernel that updates
    # ``w`` (the parameter's array, or a block of its rows) with gradient ``g``,
    # state arrays ``s`` (or the same block of them) and buffers ``bufs`` in place.
    def _constants(self, t: int) -> tuple:
        raise NotImplementedError(f"{type(self).__name__} defines no update rule (_update)")

    def _state_keys(self) -> tuple[str, ...]:
        return ()

    def _buffer_count(self) -> int:
        return 1

    def _kernel(self, w: np.ndarray, g: Any, s: list, bufs: tuple, c: tuple) -> None:
        raise NotImplementedError

    def _buffers(self, i: int, w: np.ndarray, count: int) -> tuple[np.ndarray, ...]:
        """Parameter ``i``'s scratch buffers: each the size of ``w`` or of a block of its rows."""
        bufs = self._scratch[i]
        if bufs is not None and len(bufs) >= count:
            b = bufs[0]
            if b.shape == w.shape and b.dtype == w.dtype:
                return bufs
            if b.dtype == w.dtype and b.shape == _block_shape(w):
                return bufs
        shape = _block_shape(w)
        bufs = self._scratch[i] = tuple(np.empty(shape, w.dtype) for _ in range(count))
        return bufs

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

    def state_dict(self) -> dict[str, Any]:
        """A snapshot of the optimizer, shaped as PyTorch's, to resume training from.

        ``{"state": {i: {key: array or count}}, "param_groups": [{"lr": ..., options...,
        "params": [0, 1, ...]}], "steps": ..., "optimizer": class name}``: ``state`` holds
        the parameters that have had an update (indices into ``opt.params``), each
        array a copy (later steps do not change the snapshot).
        :meth:`load_state_dict` puts it back; :func:`autograd_lite.save_checkpoint`
        stores it with the model in one ``.npz``.

        >>> import autograd_lite as al
        >>> w = al.Value([1.0, 2.0])
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> (w * w).sum().backward(); opt.step()
        >>> sd = opt.state_dict()
        >>> sd["state"], sd["param_groups"][0]["params"], sd["steps"]
        ({0: {'momentum_buffer': array([2., 4.])}}, [0], 1)
        >>> opt.step(); sd["state"][0]["momentum_buffer"]    # a snapshot: unchanged
        array([2., 4.])
        """
        state = {i: {k: _copied(v) for k, v in s.items()} for i, s in enumerate(self.state) if s}

        group = {"lr": self.lr, **{k: getattr(self, k) for k in self._options}}
        group["params"] = list(range(len(self.params)))
        return {
            "state": state,
            "param_groups": [group],
            "steps": self.steps,
            "optimizer": type(self).__name__,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from a :meth:`state_dict`: state, step counts and hyper-parameters.

        Everything is checked before anything changes (the optimizer's type, the
        number of parameters, each state array's shape and dtype against its
        parameter, the keys, the hyper-parameters as the constructor checks them):
        a ``ValueError`` names the parameter index and key, and the optimizer is
        unchanged. The arrays are copied in: the dict stays the caller's.

        >>> import autograd_lite as al
        >>> w = al.Value([1.0, 2.0])
        >>> opt = Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> fresh = Adam([al.Value([1.0, 2.0])])
        >>> fresh.load_state_dict(opt.state_dict()); fresh.lr, fresh.state[0]["step"]
        (0.1, 1)
        >>> SGD([w], lr=0.1).load_state_dict(opt.state_dict())
        Traceback (most recent call last):
        ...
        ValueError: SGD.load_state_dict: the state_dict is an Adam's, not an SGD's; ...
        """
        self._loader(state_dict)()

    def _loader(self, sd: Any) -> Callable[[], None]:
        """Check a state_dict without changing anything; return what puts it in place."""
        name, n = type(self).__name__, len(self.params)

        def fail(msg: str) -> None:
            raise ValueError(f"{name}.load_state_dict: {msg}; the optimizer is unchanged")

        if not isinstance(sd, dict):
            fail(f"expected a dict made by state_dict(), got {type(sd).__name__}")
        for key in sd:
            if key not in ("state", "param_groups", "steps", "optimizer"):
                fail(f"unknown key {key!r} (a state_dict has state, param_groups, steps)")
        for key in ("state", "param_groups"):
            if key not in sd:
                fail(f"missing key {key!r}")
        kind = sd.get("optimizer", name)
        if kind != name:
            fail(f"the state_dict is {_an(kind)}'s, not {_an(name)}'s")
        groups = sd["param_groups"]
        if not (isinstance(groups, (list, tuple)) and len(groups) == 1):
            fail("param_groups must be a list of one group (one per optimizer here)")
        group = groups[0]
        if not isinstance(group, dict):
            fail(f"param_groups[0] must be a dict, got {type(group).__name__}")
        indices = group.get("params")
        if not (isinstance(indices, (list, tuple)) and list(indices) == list(range(len(indices)))):
            fail(f"param_groups[0]['params'] must be [0, 1, ...], got {indices!r}")
        if len(indices) != n:
            fail(f"the state_dict is for {len(indices)} parameters, this optimizer has {n}")
        options = {k: v for k, v in group.items() if k != "params"}
        for key in options:
            if key != "lr" and key not in self._options:
                fail(f"param_groups[0] has unknown key {key!r} (a {name} has {self._options})")
        for key in ("lr", *self._options):
            if key not in options:
                fail(f"param_groups[0] is missing the hyper-parameter {key!r}")
        lr = options.pop("lr")
        if not (is_real(lr) and 0 <= lr < math.inf):
            fail(f"param_groups[0]['lr'] must be a number >= 0, got {lr!r}")
        base = next(c for c in type(self).__mro__ if c.__module__ == __name__)
        try:  # the constructor checks the hyper-parameters (lr 0 is a schedule's to set)
            probe = base([Value(0.0)], lr=1.0, **options)
        except (TypeError, ValueError) as exc:
            fail(f"param_groups[0]: {exc}")
        state = sd["state"]
        if not isinstance(state, dict):
            fail(f"'state' must be a dict of parameter index -> dict, got {type(state).__name__}")
        custom = type(self)._update is not Optimizer._update  # a rule of one's own: any keys
        keys = set(probe._state_keys()) | ({"step"} if probe.counts_steps else set())
        new: list[dict[str, Any]] = [{} for _ in self.params]
        for i, entry in state.items():
            if not (is_int(i) and 0 <= i < n):
                fail(f"'state' has an entry for parameter {i!r}; there are {n} parameters")
            if not isinstance(entry, dict):
                fail(f"state[{i}] must be a dict, got {type(entry).__name__}")
            if not custom:
                for key in sorted(set(entry) - keys, key=str):
                    fail(f"parameter {i}: unknown state key {key!r} (expected {sorted(keys)})")
                for key in sorted(keys - set(entry)) if entry else ():
                    fail(f"parameter {i}: state key {key!r} is missing")
            d = self.params[i]._data
            shape = d.shape if type(d) is np.ndarray else ()
            dtype = d.dtype if type(d) is np.ndarray else np.dtype(np.float64)
            for key, v in entry.items():
                if key == "step" and not custom:
                    if not _is_count(v):
                        fail(f"parameter {i}: state['step'] must be a whole number >= 0, got {v!r}")
                    v = int(v)
                elif isinstance(v, np.ndarray):
                    if v.shape != shape or v.dtype != dtype:
                        fail(
                            f"parameter {i}: state[{key!r}] has shape {v.shape} and dtype "
                            f"{v.dtype}; the parameter has shape {shape} and dtype {dtype}"
                        )
                    v = np.array(v, copy=True)  # the caller's dict stays the caller's
                elif not custom:
                    fail(f"parameter {i}: state[{key!r}] must be an array, got {type(v).__name__}")
                else:
                    v = copy.deepcopy(v)  # (a rule of one's own may keep anything)
                new[i][key] = v
        steps = sd.get("steps")
        if steps is None:
            steps = max([s.get("step", 0) for s in new if type(s.get("step")) is int] or [0])
        if not _is_count(steps):
            fail(f"'steps' must be a whole number >= 0, got {steps!r}")
        hyper = {
            k: v
            for k, v in vars(probe).items()
            if k not in ("params", "state", "_scratch", "_held")
        }

        def apply() -> None:
            vars(self).update(hyper)  # the options and what the constructor made of them
            self.lr, self.steps, self.state = float(lr), int(steps), new
            self._held = [None] * n  # the identity cache of the fast path: start over

        return apply

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


def _state_array(value: Any, w: np.ndarray, key: str, i: int, opt: Optimizer) -> np.ndarray:
    """The state array ``key`` of parameter ``i`` (data ``w``), ready to be changed in place.

    The stored array itself when it fits (``w``'s shape and dtype, writeable); zeros when
    there is none yet; otherwise a new array of ``w``'s shape and dtype holding the
    stored value broadcast (a float from a scalar parameter's earlier steps, say).
    Raises ``ValueError`` when the stored value cannot fit (``.data`` rebound to another
    shape between steps), before anything changed.

    >>> import autograd_lite as al
    >>> opt = SGD([al.Value(1.0)], lr=0.1, momentum=0.9)
    >>> _state_array(None, np.ones(2), "momentum_buffer", 0, opt)
    array([0., 0.])
    >>> _state_array(np.ones(3), np.ones(2), "momentum_buffer", 0, opt)
    Traceback (most recent call last):
    ...
    ValueError: SGD: state['momentum_buffer'] of parameter 0 has shape (3,), which does not ...
    """
    if type(value) is np.ndarray:
        if value.shape == w.shape and value.dtype == w.dtype and value.flags.writeable:
            return value
    elif value is None:
        fill = opt._fills.get(key)  # (Adagrad's initial_accumulator_value)
        return np.full_like(w, fill) if fill else np.zeros_like(w)
    try:
        return np.array(np.broadcast_to(value, w.shape), dtype=w.dtype)
    except ValueError:
        raise ValueError(
            f"{type(opt).__name__}: state[{key!r}] of parameter {i} has shape "
            f"{np.shape(value)}, which does not fit the parameter's shape {w.shape} "
            "(was .data rebound to another shape?); nothing was updated"
        ) from None


def _is_count(value: Any) -> bool:
    """Whether ``value`` is a whole number >= 0 (a step count; 3.0 is one, True and inf are not).

    >>> [_is_count(v) for v in (0, 3, 3.0, np.int64(2), 2.5, -1, True, float("inf"))]
    [True, True, True, True, False, False, False, False]
    """
    if not is_real(value):
        return False
    return bool(0 <= value < math.inf and value == int(value))


def _step_count(st: dict, i: int, opt: Optimizer) -> int:
    """The step parameter ``i``'s next update is: its ``state[i]["step"]`` plus one.

    >>> import autograd_lite as al
    >>> opt = Adam([al.Value(1.0)])
    >>> _step_count({}, 0, opt), _step_count({"step": 4}, 0, opt)
    (1, 5)
    >>> _step_count({"step": -1}, 0, opt)
    Traceback (most recent call last):
    ...
    ValueError: Adam: state['step'] of parameter 0 must be a whole number >= 0, got -1; ...
    """
    n = st.get("step", 0)
    if _is_count(n):
        return int(n) + 1
    raise ValueError(
        f"{type(opt).__name__}: state['step'] of parameter {i} must be a whole number >= 0, "
        f"got {n!r}; nothing was updated"
    )


def _in_blocks(kernel: Callable, w: np.ndarray, g: Any, s: list, bufs: tuple, c: tuple) -> None:
    """Run ``kernel`` on all of ``w`` or, when the buffers hold fewer rows, a block at a time."""
    n = len(w) if w.ndim else 0
    rows = len(bufs[0]) if w.ndim else 0
    if n <= rows:
        if n < rows:
            bufs = tuple(b[:n] for b in bufs)
        kernel(w, g, s, bufs, c)
        return
    for k in range(0, n, rows):
        e = k + rows
        if e > n:
            bufs = tuple(b[: n - k] for b in bufs)
        kernel(w[k:e], g[k:e], [a[k:e] for a in s], bufs, c)


def _rebind(p: Value, w: np.ndarray) -> None:
    """Make ``w`` (a new array, or a 0-d one for a float) the data of parameter ``p``."""
    if type(p._data) is float:
        p.data = float(w)
    elif p._in0 is None:
        p._keep(w)  # (what the setter does, without copying an array no one else holds)
    else:
        p.data = w


def _copied(value: Any) -> Any:
    """A state entry for a snapshot: an array copied (writeable, its own memory), any other
    value deep-copied (a step count is returned as it is)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    return value if type(value) in (int, float) else copy.deepcopy(value)


def _an(name: str) -> str:
    """``"an Adam"``, ``"an SGD"``, ``"a Sign"``: the article as the name is spoken."""
    return f"{'an' if name[0] in 'AEFHILMNORSX' and name[:2] != 'Si' else 'a'} {name}"


def _nonneg(
    value: Any, what: str, name: str, below_one: bool = False, up_to_one: bool = False
) -> float:
    ok = is_real(value) and 0 <= value < math.inf
    ok = ok and (value < 1 or not below_one) and (value <= 1 or not up_to_one)
    if not ok:
        bound = "in [0, 1)" if below_one else "in [0, 1]" if up_to_one else ">= 0"
        raise ValueError(f"{name}: {what} must be {bound}, got {value!r}")
    return float(value)


def _flag(value: Any, what: str, name: str) -> bool:
    if not (isinstance(value, (bool, np.bool_)) or (type(value) is int and value in (0, 1))):
        raise ValueError(f"{name}: {what} must be True or False, got {value!r}")
    return bool(value)


# The update of a large parameter runs this many bytes of rows at a time: a block whose
# buffers stay in the cache between the passes of the rule. A whole-array buffer of 4 MB
# (a 1024x1024 float32 weight) went out to memory and back: the plain step of
# 784-1024-1024-10 took 1.02 ms against 0.64 ms in 256 KB blocks (and 0.79 ms for numpy's
# `g *= lr; W -= g`); Adam's twelve passes on a 1024x1024 float32 weight took 3.3 ms whole
# and 2.3 ms in 256 KB blocks.
_BLOCK_BYTES = 1 << 18


def _block_shape(d: np.ndarray) -> tuple[int, ...]:
    """The shape of a scratch buffer for parameter data ``d``: all of it, or a block of rows.

    >>> _block_shape(np.zeros((3, 4))), _block_shape(np.zeros((4096, 1024)))
    ((3, 4), (32, 1024))
    >>> _block_shape(np.zeros(()))
    ()
    """
    if not d.ndim:
        return ()
    row = d.itemsize * (d.size // len(d) if len(d) else 1)
    rows = max(1, _BLOCK_BYTES // max(row, 1))
    return (min(rows, len(d)), *d.shape[1:])


class SGD(Optimizer):
    """Gradient descent ``w ← w − lr·g`` (the lecture's rule), with PyTorch's options.

    Each step, exactly as ``torch.optim.SGD``:
    ``g ← ∂E/∂w`` (``−∂E/∂w`` with ``maximize=True``: ascent), ``g ← g + weight_decay·w``;
    with momentum ``v ← g`` at the first step, then ``v ← momentum·v + (1 − dampening)·g``
    (``state[i]["momentum_buffer"]``), and ``g ← v`` (or ``g ← g + momentum·v`` with
    ``nesterov=True``, which needs dampening 0); then ``w ← w − lr·g``. With momentum and
    dampening each parameter counts its updates in ``state[i]["step"]`` (its first step
    is not dampened). Parameters without a gradient are skipped. Every rule runs in place
    (the parameter, the momentum buffer) through scratch buffers kept per
    parameter: after the first step a step allocates nothing.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 1.0).backward(); opt.step()
    >>> w.data      # 1 - 0.5*1 - 0.5*(0.9 + 1)
    -0.45
    >>> opt = SGD([w], lr=0.5, maximize=True)
    >>> opt.zero_grad(); (w * 1.0).backward(); opt.step(); w.data   # up the slope
    0.05
    >>> SGD([w], lr=0.1, nesterov=True)
    Traceback (most recent call last):
    ...
    ValueError: SGD: nesterov=True needs a momentum > 0 and dampening 0 (as in PyTorch)
    """

    _options = ("momentum", "dampening", "nesterov", "weight_decay", "maximize")

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        dampening: float = 0.0,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _nonneg(momentum, "momentum", "SGD", below_one=True)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", "SGD")
        self.dampening = _nonneg(dampening, "dampening", "SGD", up_to_one=True)
        self.maximize = _flag(maximize, "maximize", "SGD")
        self.nesterov = _flag(nesterov, "nesterov", "SGD")
        if nesterov and (not momentum or dampening):
            raise ValueError(
                "SGD: nesterov=True needs a momentum > 0 and dampening 0 (as in PyTorch)"
            )

    def step(self) -> None:
        """One update of every parameter with a gradient (see the class docstring)."""
        work = self._gradients()
        plain = not (self.momentum or self.weight_decay or self.maximize)
        if plain and type(self)._update is Optimizer._update:
            # The plain rule keeps no state: w -= lr·g straight into the buffer of the last
            # step where there is one (Optimizer.step costs ~1 µs more a parameter).
            lr, scratch, rest = self.lr, self._scratch, []
            for item in work:
                i, p, g = item
                d, bufs = p.data, scratch[i]
                if bufs is not None and type(d) is np.ndarray and d.flags.writeable:
                    b = bufs[0]
                    if b.shape == d.shape and b.dtype is d.dtype:
                        np.multiply(g, lr, out=b)
                        np.subtract(d, b, out=d)
                        continue
                rest.append(item)
            work = rest
        self._commit(work, self.steps + 1)

    @property
    def counts_steps(self) -> bool:  # type: ignore[override]
        # dampening spares the first step: each parameter counts its steps (as PyTorch's
        # "momentum_buffer is None" tells it); a property, as a schedule may change momentum
        return bool(self.momentum and self.dampening)

    def _constants(self, t: int) -> tuple:
        damp = 1 - self.dampening if self.counts_steps and t > 1 else 1.0
        return self.lr, self.momentum, self.nesterov, self.weight_decay, self.maximize, damp

    def _state_keys(self) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum else ()

    def _buffer_count(self) -> int:
        return 2 if self.nesterov and (self.weight_decay or self.maximize) else 1

    def _kernel(self, w: np.ndarray, g: Any, s: list, bufs: tuple, c: tuple) -> None:
        lr, momentum, nesterov, decay, maximize, damp = c
        b = bufs[0]
        if decay or maximize:
            g = _gradient(w, g, decay, maximize, bufs[-1])
        if momentum:
            v = s[0]  # a new buffer holds zeros: momentum·0 + g is g, PyTorch's first step
            v *= momentum
            v += g if damp == 1 else np.multiply(g, damp, out=b)  # (no nesterov: b is free)
            if nesterov:
                np.multiply(v, momentum, out=b)
                b += g
                b *= lr
            else:
                np.multiply(v, lr, out=b)
        else:
            np.multiply(g, lr, out=b)
        w -= b


def _gradient(w: np.ndarray, g: Any, decay: float, maximize: bool, out: np.ndarray) -> Any:
    """The gradient a rule follows: ``g`` (``−g`` with ``maximize``) ``+ decay·w``.

    ``g`` itself when it is that; else computed into ``out``, one pass per term.
    """
    if decay:
        np.multiply(w, decay, out=out)
        if maximize:
            out -= g
        else:
            out += g
        return out
    return np.negative(g, out=out) if maximize else g


def _betas(betas: Any, name: str) -> tuple[float, float]:
    """Adam's and AdamW's ``(β1, β2)``, each a number in [0, 1)."""
    pair = isinstance(betas, (tuple, list, np.ndarray)) and len(betas) == 2
    if not (pair and all(is_real(b) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"{name}: betas must be in [0, 1), a pair; got {betas!r}")
    return float(betas[0]), float(betas[1])


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): per-parameter steps from running moments of the gradient.

    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²`` (``state[i]["exp_avg"]``,
    ``["exp_avg_sq"]``), bias-corrected ``m̂ = m/(1−β1^t)``, ``v̂ = v/(1−β2^t)``,
    ``w ← w − lr·m̂/(√v̂ + eps)``, where ``t`` is the parameter's own number of
    updates (``state[i]["step"]``, as PyTorch: a parameter that had no gradient on
    some steps is not bias-corrected as if it had). ``weight_decay`` adds
    ``weight_decay·w`` to ``g`` first (L2, through the moments; AdamW decays the
    weights directly). ``amsgrad=True`` divides by the largest ``v`` so far instead
    (``state[i]["max_exp_avg_sq"]``: ``v̂ = max(v̂_max, v)/(1−β2^t)``, Reddi et al.);
    ``maximize=True`` follows ``−g``, as PyTorch.
    In place, as PyTorch: the moments are arrays made at a parameter's first
    update and changed in place after (an array taken from ``opt.state`` follows
    the steps), and so is the parameter's array.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * 5.0).backward(); opt.step()
    >>> round(w.data, 6)     # the first Adam step has size lr whatever the gradient's scale
    0.9
    >>> [round(float(opt.state[0][k]), 6) for k in ("exp_avg", "exp_avg_sq")]
    [0.5, 0.025]
    >>> opt.state[0]["step"]  # each parameter's own count, for its bias correction
    1
    >>> sorted(Adam([w], amsgrad=True, maximize=True).state_dict()["param_groups"][0])
    ['amsgrad', 'betas', 'eps', 'lr', 'maximize', 'params', 'weight_decay']
    """

    counts_steps = True
    _options = ("betas", "eps", "weight_decay", "amsgrad", "maximize")

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        self.betas = _betas(betas, name)
        self.eps = _nonneg(eps, "eps", name)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", name)
        self.amsgrad = _flag(amsgrad, "amsgrad", name)
        self.maximize = _flag(maximize, "maximize", name)

    def _constants(self, t: int) -> tuple:
        # m̂/(√v̂ + eps) = m·(√c2/c1)/(√v + eps·√c2) with c1 = 1−β1ᵗ, c2 = 1−β2ᵗ: the same
        # number, one pass fewer over the array (no division of √v by √c2)
        b1, b2 = self.betas
        c1, root = 1 - b1**t, math.sqrt(1 - b2**t)
        size = self.lr * root / c1
        return b1, 1 - b1, b2, 1 - b2, self.eps * root, size, self.maximize, self.weight_decay

    def _state_keys(self) -> tuple[str, ...]:
        if self.amsgrad:
            return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        return ("exp_avg", "exp_avg_sq")

    def _buffer_count(self) -> int:
        return 2 if self.weight_decay or self.maximize else 1

    def _kernel(self, w: np.ndarray, g: Any, s: list, bufs: tuple, c: tuple) -> None:
        if c[-1] or c[-2]:
            g = _gradient(w, g, c[-1], c[-2], bufs[-1])
        w -= _adam_step(g, s, bufs[0], c)


def _adam_step(g: Any, s: list, b: np.ndarray, c: tuple) -> np.ndarray:
    """Adam's moments updated in place, and ``lr·m̂/(√v̂ + eps)`` in ``b`` (returned)."""
    b1, one_b1, b2, one_b2, eps, size = c[:6]
    m, v = s[0], s[1]
    m *= b1
    np.multiply(g, one_b1, out=b)
    m += b
    np.divide(m, _root(v, g, b2, one_b2, eps, b, s[2] if len(s) > 2 else None), out=b)
    b *= size
    return b


def _root(
    v: np.ndarray, g: Any, beta: float, one_beta: float, eps: float, b: np.ndarray, top: Any = None
) -> Any:
    """``v ← beta·v + one_beta·g²`` in place, then ``√v + eps`` into ``b`` (returned).

    Adam's second moment, RMSprop's square average, Adagrad's sum (``beta = one_beta = 1``:
    no multiplication, no pass). With ``top`` (AMSGrad's largest ``v`` so far):
    ``top ← max(top, v)`` in place, and ``√top + eps``.
    """
    if beta != 1:
        v *= beta
    np.multiply(g, g, out=b)
    if one_beta != 1:
        b *= one_beta
    v += b
    if top is not None:
        v = np.maximum(top, v, out=top)
    np.sqrt(v, out=b)
    b += eps
    return b


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter; PyTorch's rule): Adam with decoupled weight decay.

    ``w ← w − lr·weight_decay·w``, then Adam's step ``w ← w − lr·m̂/(√v̂ + eps)`` with
    ``m ← β1·m + (1−β1)·g``, ``v ← β2·v + (1−β2)·g²``, ``m̂ = m/(1−β1ᵗ)``, ``v̂ = v/(1−β2ᵗ)``;
    ``amsgrad`` and ``maximize`` as Adam's.
    In place, as Adam. A gradient with nan or inf raises before anything changes.

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
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)

    def _constants(self, t: int) -> tuple:
        return (*super()._constants(t)[:7], 1 - self.lr * self.weight_decay)

    def _buffer_count(self) -> int:
        return 2 if self.maximize else 1

    def _kernel(self, w: np.ndarray, g: Any, s: list, bufs: tuple, c: tuple) -> None:
        if c[-2]:
            g = np.negative(g, out=bufs[-1])
        step = _adam_step(g, s, bufs[0], c)  # (g read before w changes: g may be w itself)
        if c[-1] != 1:
            w *= c[-1]
        w -= step


class RMSprop(Optimizer):
    """RMSprop (PyTorch's rule): divide the gradient by a running RMS of its recent values.

    ``v ← α·v + (1−α)·g²``, then ``w ← w − lr·g/(√v + eps)``; with momentum
    ``b ← momentum·b + g/(√v + eps)`` and ``w ← w − lr·b``. ``weight_decay`` adds
    ``weight_decay·w`` to ``g`` first. ``centered=True`` divides by an estimate of the
    gradient's standard deviation instead, ``√(v − ḡ²) + eps`` with
    ``ḡ ← α·ḡ + (1−α)·g`` (``state[i]["grad_avg"]``); ``maximize=True`` follows ``−g``.
    In place (``state[i]["square_avg"]``, ``["momentum_buffer"]``, the parameter).
    A gradient with nan or inf raises before anything changes.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * 2.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1 − 0.01·2/√(0.01·4): the first step is lr/√(1−α)
    0.9
    """

    refuses_non_finite = True
    _options = ("alpha", "eps", "momentum", "weight_decay", "centered", "maximize")

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        *,
        centered: bool = False,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.alpha = _nonneg(alpha, "alpha", "RMSprop", below_one=True)
        self.eps = _nonneg(eps, "eps", "RMSprop")
        self.momentum = _nonneg(momentum, "momentum", "RMSprop", below_one=True)
        self.weight_decay = _nonneg(weight_decay, "weight_decay", "RMSprop")
        self.centered = _flag(centered, "centered", "RMSprop")
        self.maximize = _flag(maximize, "maximize", "RMSprop")

    def _constants(self, t: int) -> tuple:
        alpha, decay = self.alpha, self.weight_decay
        return alpha, 1 - alpha, self.eps, self.momentum, self.lr, decay, self.maximize

    def _state_keys(self) -> tuple[str, ...]:
        keys = ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)
        return (*keys, "grad_avg") if self.centered else keys

    def _buffer_count(self) -> int:
        return 2 if self.weight_decay or self.maximize else 1

    def _kernel(self, w: np.ndarray, g: Any, s: list, bufs: tuple, c: tuple) -> None:
        alpha, one_alpha, eps, momentum, lr, decay, maximize = c
        b = bufs[0]
        if decay or maximize:
            g = _gradient(w, g, decay, maximize, bufs[-1])
        if self.centered:  # √(v − ḡ²) + eps, ḡ the running mean of g
            v, mean = s[0], s[-1]
            v *= alpha
            np.multiply(g, g, out=b)
            b *= one_alpha
            v += b
            mean *= alpha
            np.multiply(g, one_alpha, out=b)
            mean += b
            np.multiply(mean, mean, out=b)
            np.subtract(v, b, out=b)
            np.sqrt(b, out=b)
            b += eps
            np.divide(g, b, out=b)
        else:
            np.divide(g, _root(s[0], g, alpha, one_alpha, eps, b), out=b)
        if momentum:
            buf = s[1]
            buf *= momentum
            buf += b
            np.multiply(buf, lr, out=b)
        else:
            b *= lr
        w -= b


class Adagrad(Optimizer):
    """Adagrad (PyTorch's rule): steps shrink with the sum of all squared gradients so far.

    ``s ← s + g²``, ``w ← w − clr·g/(√s + eps)`` with ``clr = lr/(1 + (t−1)·lr_decay)``,
    ``t`` the parameter's own count of updates (``state[i]["step"]``, as PyTorch keeps);
    the sum starts at ``initial_accumulator_value``; ``maximize=True`` follows ``−g``.
    In place (``state[i]["sum"]``, the parameter). A gradient with nan or inf raises
    before anything changes.

    >>> import autograd_lite as al
    >>> w = al.Value(1.0)
    >>> opt = Adagrad([w], lr=0.5)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 3.0).backward(); opt.step()
    >>> round(w.data, 6)        # 1 − 0.5·3/3 − 0.5·3/√18
    0.146447
    >>> opt = Adagrad([w], lr=0.5, initial_accumulator_value=7.0)
    >>> opt.zero_grad(); (w * 3.0).backward(); opt.step()
    >>> float(opt.state[0]["sum"]), opt.state[0]["step"]     # 7 + 3²
    (16.0, 1)
    """

    refuses_non_finite = True
    counts_steps = True
    _options = ("lr_decay", "eps", "initial_accumulator_value", "maximize")

    def __init__(
        self,
        params: Iterable[Value] | Any,
        lr: float = 0.01,
        eps: float = 1e-10,
        *,
        lr_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr)
        self.eps = _nonneg(eps, "eps", "Adagrad")
        self.lr_decay = _nonneg(lr_decay, "lr_decay", "Adagrad")
        self.initial_accumulator_value = _nonneg(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad"
        )
        self.maximize = _flag(maximize, "maximize", "Adagrad")
        self._fills = {"sum": self.initial_accumulator_value}  # (0: zeros, as any state)

    def _constants(self, t: int) -> tuple:
        return self.eps, self.lr / (1 + (t - 1) * self.lr_decay), self.maximize

    def _state_keys(self) -> tuple[str, ...]:
        return ("sum",)

    def _buffer_count(self) -> int:
        return 2 if self.maximize else 1

    def _kernel(self, w: np.ndarray, g: Any, s: list, bufs: tuple, c: tuple) -> None:
        eps, lr, maximize = c
        b = bufs[0]
        if maximize:
            g = np.negative(g, out=bufs[-1])
        np.divide(g, _root(s[0], g, 1.0, 1.0, eps, b), out=b)
        b *= lr
        w -= b


# The schedules live in lr_scheduler.py (PyTorch's torch.optim.lr_scheduler); optim.StepLR
# and `from autograd_lite.optim import StepLR` keep working through this lookup, made on
# first use so that either module may be imported first.
_SCHEDULES = (
    "LRScheduler",
    "StepLR",
    "LambdaLR",
    "CosineAnnealingLR",
    "MultiStepLR",
    "ExponentialLR",
    "LinearLR",
    "ReduceLROnPlateau",
    "ConstantLR",
    "PolynomialLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "ChainedScheduler",
    "SequentialLR",
)


def __getattr__(name: str) -> Any:
    if name in _SCHEDULES:
        from . import lr_scheduler

        return getattr(lr_scheduler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SCHEDULES])
