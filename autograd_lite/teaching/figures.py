"""The pictures of ``docs/visualization.md``, drawn by ``viz`` from the lecture's graphs.

They live here, not in ``viz``, because they start from the lecture's examples
(:mod:`autograd_lite.teaching.lecture`) and ``viz`` never imports the teaching tools.
``docs/make_figures.py`` calls :func:`write_doc_figures` on every docs build.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..value import Value
from .lecture import lecture_example


def write_doc_figures(directory: str | os.PathLike) -> list[Path]:
    """Write the pictures of ``docs/visualization.md`` into ``directory``; return their paths.

    ``docs/make_figures.py`` calls this while the docs build, so every picture on
    that page is made by the code it documents.
    """
    import numpy as np

    from ..graph import topological_order
    from ..viz import find_path, render

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    E = lecture_example()
    written.append(render(E, directory / "viz_lecture.svg", edge_factors=True, legend=True))
    w = next(n for n in topological_order(E) if n.label == "w")
    written.append(
        render(E, directory / "viz_highlight.svg", edge_factors=True, highlight=find_path(E, w))
    )

    x = Value(2.0, label="x")
    y = x**3
    y.label = "y"
    y.backward(create_graph=True)
    dydx = x.grad
    dydx.label = "dy/dx"
    written.append(render(dydx, directory / "viz_double_backward.svg", edge_factors=True))

    rng = np.random.default_rng(0)
    W1 = [[Value(rng.normal(), label=f"W1[{i},{j}]") for j in range(2)] for i in range(3)]
    b1 = [Value(0.0, label=f"b1[{i}]") for i in range(3)]
    W2 = [Value(rng.normal(), label=f"W2[{i}]") for i in range(3)]
    loss = Value(0.0, requires_grad=False)
    for xs, t in zip(rng.normal(size=(50, 2)), rng.normal(size=50)):
        h = [(W1[i][0] * xs[0] + W1[i][1] * xs[1] + b1[i]).tanh() for i in range(3)]
        loss = loss + (h[0] * W2[0] + h[1] * W2[1] + h[2] * W2[2] - t) ** 2
    loss.label = "loss"
    loss.backward()
    written.append(render(loss, directory / "viz_mlp_overview.svg"))

    v = Value(0.5, label="start")
    for _ in range(200):
        v = v.tanh()
    v.label = "out"
    written.append(render(v, directory / "viz_node_limit.svg", max_nodes=8, collapse=False))
    return written
