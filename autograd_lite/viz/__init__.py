"""Pictures of the computation graph (Graphviz), for teaching.

* :func:`to_dot` — DOT text of a graph, built without any renderer;
* :func:`render` — write an SVG, PNG or PDF file (finds a Graphviz renderer:
  ``$AUTOGRAD_LITE_DOT``, a system ``dot``, or the pip-installed ``graphviz-pure``);
* :func:`to_svg` — SVG text (``Value._repr_svg_`` uses it in Jupyter);
* :func:`find_path` — the nodes from an output back to one input, to highlight;
* :func:`lecture_example` — the lecture's ``E = ½(ŷ − σ(w·x + b))²`` after backward;
* :func:`replay` — step-by-step backward frames (``autograd_lite.viz.replay``).

>>> import autograd_lite as al
>>> E = lecture_example()
>>> to_dot(E, edge_factors=True).count("->") > 5
True
"""

from __future__ import annotations

from typing import Any

from .dot import (
    DEFAULT_MAX_NODES,
    escape_record,
    escape_text,
    find_path,
    groups_from_outputs,
    summarize,
    to_dot,
)
from .render import (
    ENV_VAR,
    RendererNotFoundError,
    find_renderers,
    lecture_example,
    render,
    render_dot,
    to_svg,
)

__all__ = [
    "DEFAULT_MAX_NODES",
    "ENV_VAR",
    "RendererNotFoundError",
    "escape_record",
    "escape_text",
    "find_path",
    "find_renderers",
    "groups_from_outputs",
    "lecture_example",
    "render",
    "render_dot",
    "replay",
    "summarize",
    "to_dot",
    "to_svg",
]


def _replay_shim(*args: Any, **kwargs: Any) -> Any:
    """Step-by-step backward frames; see :mod:`autograd_lite.viz.replay`."""
    from .replay import replay as _replay

    return _replay(*args, **kwargs)


# ``replay`` (numpy only, cheap) is bound here, after its submodule was imported:
# importing ``autograd_lite.viz.replay`` first would otherwise leave the *module*
# under the name ``viz.replay`` instead of the function.
try:
    from .replay import replay
except ModuleNotFoundError as _exc:  # pragma: no cover - only while the module is absent
    if _exc.name != __name__ + ".replay":
        raise
    replay = _replay_shim
