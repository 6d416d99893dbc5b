"""``Module``: the base class of layers and networks, and ``Parameter``.

A module is a Python object whose attributes hold its learnable ``Value``\\ s
and its sub-modules. Nothing has to be registered by hand: ``parameters()``
walks the attributes in the order they were assigned (lists and tuples of
Values or modules included), so the order is the order of definition.

>>> import numpy as np
>>> import autograd_lite as al
>>> from autograd_lite import nn
>>> class Affine(nn.Module):
...     def __init__(self):
...         self.w = nn.Parameter(np.array([2.0, -1.0]), label="w")
...         self.b = nn.Parameter(0.5, label="b")
...     def forward(self, x):
...         return x @ self.w + self.b
>>> f = Affine()
>>> [name for name, _ in f.named_parameters()]
['w', 'b']
>>> f(np.array([1.0, 1.0])).data
1.5
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ..arguments import is_int, is_real
from ..value import Value


class Parameter(Value):
    """A learnable ``Value`` (a leaf that requires a gradient).

    Exactly a :class:`~autograd_lite.Value`; the separate name makes models read
    like the math and shows up in ``repr``. Any ``Value`` with
    ``requires_grad=True`` assigned to a module attribute counts as a parameter.

    >>> Parameter([1.0, 2.0], label="w")
    Parameter(label='w', shape=(2,))
    """

    __slots__ = ()

    def __init__(self, data: Any, label: str = "") -> None:
        super().__init__(data, label=label, requires_grad=True)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Value") :]


def _is_param(x: Any) -> bool:
    return isinstance(x, Value) and x.requires_grad and not x.parents


class Module:
    """Base class of every layer, activation, loss-free network and user model.

    Subclasses set attributes in ``__init__`` (calling ``super().__init__()`` is
    optional) and define ``forward``; calling the module calls ``forward``.

    * ``parameters()`` / ``named_parameters()``: learnable leaves in definition
      order, each once (a shared parameter appears once);
    * ``zero_grad()``: reset every parameter's gradient;
    * ``train()`` / ``eval()``: set ``training`` on this module and all sub-modules;
    * ``state_dict()`` / ``load_state_dict()``: parameter arrays by name
      (``"0.weight"``, ``"layers.1.bias"`` ...), loaded all-or-nothing.

    >>> from autograd_lite import nn
    >>> net = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 1, seed=1))
    >>> [(n, p.shape) for n, p in net.named_parameters()]
    [('0.weight', (4, 3)), ('0.bias', (4,)), ('2.weight', (1, 4)), ('2.bias', (1,))]
    >>> net.num_parameters()
    21
    """

    training: bool = True

    # ------------------------------------------------------------- structure
    def _children_items(self) -> Iterator[tuple[str, Any]]:
        """(name, attribute) pairs that may hold parameters or sub-modules."""
        for name, value in vars(self).items():
            if not name.startswith("_"):
                yield name, value

    def _named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct sub-module; list items are named ``name.i``."""
        for name, value in self._children_items():
            if isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item
            elif isinstance(value, Module):
                yield name, value

    def _walk(self, prefix: str, seen: set[int]) -> Iterator[tuple[str, Value]]:
        for name, value in self._children_items():
            yield from _walk_value(prefix + name, value, seen)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """``(name, parameter)`` pairs in definition order; shared ones once.

        >>> from autograd_lite import nn
        >>> [n for n, _ in nn.Linear(2, 3, seed=0).named_parameters()]
        ['weight', 'bias']
        """
        return self._walk("", set())

    def parameters(self) -> list[Value]:
        """The learnable Values, in definition order.

        >>> from autograd_lite import nn
        >>> [p.shape for p in nn.Linear(2, 3, seed=0).parameters()]
        [(3, 2), (3,)]
        """
        return [p for _, p in self.named_parameters()]

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for this module (name ``""``) and every sub-module.

        >>> from autograd_lite import nn
        >>> [n for n, _ in nn.Sequential(nn.Linear(1, 1, seed=0), nn.Tanh()).named_modules()]
        ['', '0', '1']
        """
        yield prefix, self
        for sub_name, sub in self._named_children():
            yield from sub.named_modules(f"{prefix}.{sub_name}" if prefix else sub_name)

    def children(self) -> list[Module]:
        """The direct sub-modules, in definition order.

        >>> from autograd_lite import nn
        >>> nn.Sequential(nn.Identity(), nn.ReLU()).children()
        [Identity(), ReLU()]
        """
        return [sub for _, sub in self._named_children()]

    def num_parameters(self) -> int:
        """Total number of learnable numbers.

        >>> from autograd_lite import nn
        >>> nn.Linear(64, 10, seed=0).num_parameters()
        650
        """
        return int(sum(p.size for p in self.parameters()))

    # --------------------------------------------------------------- running
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter (they accumulate across backward calls).

        >>> from autograd_lite import nn
        >>> lin = nn.Linear(2, 1, seed=0)
        >>> lin([1.0, 2.0]).sum().backward()
        >>> lin.zero_grad(); float(abs(lin.weight.grad).sum())
        0.0
        """
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``training = mode``) here and in all sub-modules; returns self.

        >>> from autograd_lite import nn
        >>> net = nn.Sequential(nn.ReLU()).eval()
        >>> net.training, net[0].training
        (False, False)
        """
        if not isinstance(mode, (bool, np.bool_)):  # train("eval") was truthy: training mode
            raise TypeError(
                f"{type(self).__name__}.train: mode must be True or False, got {mode!r}"
            )
        for _, m in self.named_modules():
            m.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def astype(self, dtype: Any) -> Module:
        """Convert every tensor parameter to ``dtype`` (e.g. ``np.float32``); returns self.

        >>> import numpy as np
        >>> from autograd_lite import nn
        >>> nn.Linear(2, 2, seed=0).astype(np.float32).weight.dtype
        dtype('float32')
        """
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise TypeError(f"astype: parameters must be float32 or float64, got {dt}")
        for p in self.parameters():
            if isinstance(p.data, np.ndarray):
                p.data = p.data.astype(dt)
                p.zero_grad()
        for _, m, attr in self._buffer_slots():
            if getattr(m, attr).dtype.kind == "f":
                setattr(m, attr, getattr(m, attr).astype(dt))
        return self

    # ----------------------------------------------------------------- state
    def register_buffer(self, name: str, value: Any) -> None:
        """Keep ``value`` (an array) as state that is not learned: ``self.<name>``.

        Buffers (BatchNorm's ``running_mean``) are saved by ``state_dict()`` and
        ``al.save``, restored by ``load_state_dict``, and never given to optimizers.

        >>> import numpy as np
        >>> class Counter(Module):
        ...     def __init__(self):
        ...         self.register_buffer("count", np.zeros(()))
        >>> Counter().state_dict()
        {'count': array(0.)}
        """
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"register_buffer: {name!r} is not a valid attribute name")
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, np.array(value))

    def _buffer_slots(self) -> Iterator[tuple[str, Module, str]]:
        """``(state_dict key, owning module, attribute)`` for every buffer."""
        for prefix, m in self.named_modules():
            for name in m.__dict__.get("_buffer_names", ()):
                yield (f"{prefix}.{name}" if prefix else name), m, name

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(name, array)`` for every buffer of this module and its sub-modules.

        >>> from autograd_lite import nn
        >>> [n for n, _ in nn.BatchNorm1d(3).named_buffers()]
        ['running_mean', 'running_var', 'num_batches_tracked']
        """
        for key, m, name in self._buffer_slots():
            yield key, getattr(m, name)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameter arrays, then the buffers, keyed by name (0-d for scalars).

        >>> from autograd_lite import nn
        >>> {k: v.shape for k, v in nn.Linear(3, 2, seed=0).state_dict().items()}
        {'weight': (2, 3), 'bias': (2,)}
        """
        state = {name: np.array(p.data, copy=True) for name, p in self.named_parameters()}
        for name, buf in self.named_buffers():
            state[name] = np.array(buf, copy=True)
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Set parameters and buffers from ``state`` (as made by ``state_dict``); all or nothing.

        Every entry is checked before anything changes: a missing or an extra
        key (when ``strict``; with ``strict=False`` both are skipped and what is
        missing keeps its value, as in PyTorch), a wrong shape or non-numeric
        data raises and leaves the module as it was. Data keeps each
        parameter's dtype.

        >>> from autograd_lite import nn
        >>> a, b = nn.Linear(2, 2, seed=0), nn.Linear(2, 2, seed=1)
        >>> b.load_state_dict(a.state_dict())
        >>> bool((a.weight.data == b.weight.data).all())
        True
        >>> b.load_state_dict({"weight": a.weight.data})
        Traceback (most recent call last):
        ...
        KeyError: "load_state_dict: missing key(s) ['bias'] for Linear (expected keys [...])"
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name -> array, got {type(state).__name__}"
            )
        named = list(self.named_parameters())
        slots = list(self._buffer_slots())
        names = [n for n, _ in named] + [key for key, _, _ in slots]
        cls = type(self).__name__
        missing = [n for n in names if n not in state]
        if missing and strict:
            raise KeyError(
                f"load_state_dict: missing key(s) {missing} for {cls} (expected keys {names})"
            )
        extra = [k for k in state if k not in set(names)]
        if extra and strict:
            raise KeyError(
                f"load_state_dict: unexpected key(s) {sorted(extra)} for {cls} "
                f"(expected keys {names})"
            )
        new_data = [(p, _checked(name, state[name], p.data)) for name, p in named if name in state]
        new_bufs = [
            (m, attr, _checked(key, state[key], getattr(m, attr), "buffer"))
            for key, m, attr in slots
            if key in state
        ]
        for p, data in new_data:
            p.data = data
            p.zero_grad()
        for m, attr, data in new_bufs:
            setattr(m, attr, data)

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """Text shown inside the parentheses of ``repr`` (for leaf modules)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for sub_name, sub in self._named_children():
            body = repr(sub).replace("\n", "\n  ")
            lines.append(f"  ({sub_name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n" + "\n".join(lines) + "\n)"


def _checked(name: str, raw: Any, current: Any, kind: str = "parameter") -> Any:
    """``raw`` as new data for ``current`` (same shape, its dtype); raises naming ``name``."""
    if isinstance(raw, Value):
        raw = raw.data
    try:
        arr = np.asarray(raw)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"load_state_dict: key {name!r}: not array data ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"load_state_dict: key {name!r} holds dtype {arr.dtype}, expected numbers")
    if arr.shape != np.shape(current):
        raise ValueError(
            f"load_state_dict: key {name!r} has shape {arr.shape}, but the "
            f"{kind} has shape {np.shape(current)}"
        )
    if isinstance(current, float):
        return float(arr)
    return np.array(arr, dtype=current.dtype, copy=True)


def _walk_value(name: str, value: Any, seen: set[int]) -> Iterator[tuple[str, Value]]:
    if isinstance(value, Module):
        yield from value._walk(name + ".", seen)
    elif isinstance(value, Value):
        if _is_param(value) and id(value) not in seen:
            seen.add(id(value))
            yield name, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk_value(f"{name}.{i}", item, seen)


def _real(x: Any, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    """``x`` as a float when it is a real number (not a bool) in [low, high], else ``ValueError``.

    >>> _real(0.1, "LeakyReLU: alpha"), _real(np.float32(2), "ELU: alpha")
    (0.1, 2.0)
    >>> _real("x", "LeakyReLU: alpha")
    Traceback (most recent call last):
    ...
    ValueError: LeakyReLU: alpha must be a finite number, got 'x'
    """
    if not (is_real(x) and math.isfinite(x) and low <= x <= high):
        bound = "" if (low, high) == (-math.inf, math.inf) else f" in [{low:g}, {high:g}]"
        raise ValueError(f"{what} must be a finite number{bound}, got {x!r}")
    return float(x)


def _integer(n: Any, what: str) -> int:
    """``n`` as an int when it is one (numpy's too; not a bool or a float), else ``TypeError``."""
    if not is_int(n):
        raise TypeError(f"{what} must be an int, got {n!r}")
    return int(n)
