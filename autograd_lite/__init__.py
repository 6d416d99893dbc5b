"""autograd_lite: a graph-based, symbolically checked automatic differentiation engine.

>>> import autograd_lite as al
>>> x = al.Value(2.0, label="x")
>>> y = (x * x).tanh()
>>> y.backward()
>>> round(x.grad, 6)
0.005364

Heavy parts (SymPy, matplotlib, scikit-learn, the network library) load on first
use: ``import autograd_lite`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from .gradcheck import GradcheckError, gradcheck
from .graph import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .registry import Op, all_ops, get_op, register
from .value import Value

__version__ = "0.1.0"


def _repr_svg_(self: Value) -> str | None:
    """Jupyter shows a Value as its computation graph; the plain repr without a renderer.

    Installed as ``Value._repr_svg_`` here, where the parts are assembled: the engine
    (``value.py``) never imports ``viz``.
    """
    from . import viz

    try:
        return viz.to_svg(self)
    except viz.RendererNotFoundError:
        return None


Value._repr_svg_ = _repr_svg_  # type: ignore[attr-defined]

# Public names that live in modules loaded on first use: name -> (module, attribute).
_LAZY: dict[str, tuple[str, str | None]] = {
    "symbolic": ("autograd_lite.symbolic", None),
    "testing": ("autograd_lite.testing", None),
    "viz": ("autograd_lite.viz", None),
    "nn": ("autograd_lite.nn", None),
    "optim": ("autograd_lite.optim", None),
    "datasets": ("autograd_lite.datasets", None),
    "data": ("autograd_lite.data", None),
    "functional": ("autograd_lite.functional", None),
    "define_activation": ("autograd_lite.define", "define_activation"),
    "save": ("autograd_lite.io", "save"),
    "load": ("autograd_lite.io", "load"),
    "save_checkpoint": ("autograd_lite.io", "save_checkpoint"),
    "load_checkpoint": ("autograd_lite.io", "load_checkpoint"),
    "compile": ("autograd_lite.compiler", "compile"),
    "fit": ("autograd_lite.training", "fit"),
    "History": ("autograd_lite.training", "History"),
    "plot_history": ("autograd_lite.training", "plot_history"),
    "evaluate": ("autograd_lite.training", "evaluate"),
    "grad": ("autograd_lite.functional", "grad"),
    "value_and_grad": ("autograd_lite.functional", "value_and_grad"),
    "jacobian": ("autograd_lite.functional", "jacobian"),
    "hessian": ("autograd_lite.functional", "hessian"),
    "hvp": ("autograd_lite.functional", "hvp"),
    "audit": ("autograd_lite.teaching.audit", "audit"),
    "exercise": ("autograd_lite.teaching.exercises", "exercise"),
    "grade": ("autograd_lite.teaching.exercises", "grade"),
    # table ops whose call takes numpy's / PyTorch's argument order (lists, optional bias)
    "where": ("autograd_lite.array_ops", "where"),
    "concatenate": ("autograd_lite.array_ops", "concatenate"),
    "stack": ("autograd_lite.array_ops", "stack"),
    "split": ("autograd_lite.array_ops", "split"),
    "conv2d": ("autograd_lite.image_ops", "conv2d"),
    "max_pool2d": ("autograd_lite.pool_ops", "max_pool2d"),
    "max_unpool2d": ("autograd_lite.pool_ops", "max_unpool2d"),
    "dropout": ("autograd_lite.image_ops", "dropout"),
}

__all__ = [
    "GradcheckError",
    "Op",
    "Value",
    "__version__",
    "all_ops",
    "detect_anomaly",
    "enable_grad",
    "get_op",
    "gradcheck",
    "is_grad_enabled",
    "no_grad",
    "register",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Lazy public names, and ``al.<op>(v, ...)`` for every op in the table."""
    if name in _LAZY:
        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    from . import registry

    if not name.startswith("_") and registry.has_op(name):
        method = getattr(Value, name, None)
        if callable(method) and not getattr(method, "_from_table", False):

            def call(v: Any, *args: Any, **kwargs: Any) -> Value:
                if not isinstance(v, Value):
                    v = Value(v, requires_grad=False)
                return method(v, *args, **kwargs)

            call.__name__ = name
            call.__doc__ = (
                f"``al.{name}(v, ...)`` is ``Value(v).{name}(...)``: see ``Value.{name}``."
            )
            globals()[name] = call
            return call
        op = registry.get_op(name)
        globals()[name] = op  # cached; registry.register/unregister drop the cache
        return op
    raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")


def __dir__() -> list[str]:
    from . import registry

    names = set(globals()) - _IMPORTED  # tab completion shows the library, not its imports
    return sorted(names | set(_LAZY) | {op.name for op in registry.all_ops()})


_IMPORTED = {"Any", "annotations", "importlib"}
