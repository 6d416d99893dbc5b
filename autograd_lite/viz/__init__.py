"""Pictures of the computation graph (Graphviz), for teaching.

* :func:`to_dot` — DOT text of a graph, built without any renderer;
* :func:`render` — write an SVG, PNG or PDF file (finds a Graphviz renderer:
  ``$AUTOGRAD_LITE_DOT``, a system ``dot``, or the pip-installed ``graphviz-pure``);
* :func:`to_svg` — SVG text (``Value._repr_svg_`` uses it in Jupyter);
* :func:`find_path` — the nodes from an output back to one input, to highlight;
* ``lecture_example`` and ``replay`` — the teaching tools' lecture graph and
  step-by-step backward frames, kept here under their old names; their code lives in
  :mod:`autograd_lite.teaching` and loads on first use (``viz`` itself draws and
  never imports the teaching tools).

>>> import autograd_lite as al
>>> x = al.Value(1.0, label="x")
>>> y = (x * x).tanh()
>>> y.backward()
>>> to_dot(y, edge_factors=True).count("->") >= 3
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


# Names whose code lives in the teaching tools: name -> module. Loaded on first use so
# that importing viz never imports autograd_lite.teaching (imports point one way).
_FROM_TEACHING = {
    "lecture_example": "autograd_lite.teaching.lecture",
    "replay": "autograd_lite.teaching.replay",
}


def __getattr__(name: str) -> Any:
    """``viz.replay`` and ``viz.lecture_example``, from :mod:`autograd_lite.teaching`."""
    if name in _FROM_TEACHING:
        import importlib

        value = getattr(importlib.import_module(_FROM_TEACHING[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'autograd_lite.viz' has no attribute {name!r}")
