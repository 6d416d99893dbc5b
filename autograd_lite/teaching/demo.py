"""The lecture walk-through behind ``make demo`` / ``autograd-lite demo``.

1. The swimming perceptron: x = [1, 0, 1], w = [4, 2, 4], b = −3 gives y = 1.
2. One gradient-descent step of a sigmoid perceptron: the lecture's delta rule
   δ = −e(1 − y)y next to the gradient ``backward()`` computes.
3. The chain rule as SymPy sees it: the factors along the path from E back to w.
4. The picture of the graph (``perceptron_graph.svg`` and ``.png``), every node with
   its value and gradient and every edge on the path to w with its local derivative.

>>> lines = swimming_perceptron()
>>> lines[-1]
'decision y = step(5) = 1 -> go swimming'
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from ..value import Value
from . import lecture


def swimming_perceptron() -> list[str]:
    """The lecture's perceptron: x = [1, 0, 1], w = [4, 2, 4], b = -3 gives y = 1.

    >>> swimming_perceptron()[2]
    'z = w·x + b = 4·1 + 2·0 + 4·1 - 3 = 5'
    """
    z, y = (lecture.swimming_perceptron()[k] for k in ("z", "y"))
    return [
        "Going swimming? x = [warm water, empty beach, no shark attack] = [1, 0, 1]",
        "weights w = [4, 2, 4], bias b = -3 (threshold 3)",
        "z = w·x + b = 4·1 + 2·0 + 4·1 - 3 = " + f"{z.data:g}",
        f"decision y = step({z.data:g}) = {y.data:g} -> {'go swimming' if y.data else 'stay home'}",
    ]


def sigmoid_perceptron_step(eta: float = 0.5) -> tuple[list[str], Value]:
    """One gradient-descent step of a sigmoid perceptron, with its chain-rule factors.

    Returns the printed lines and the error node E (for drawing its graph).

    >>> lines, E = sigmoid_perceptron_step()
    >>> any(line.startswith("dE/dw from backward()") for line in lines)
    True
    >>> E.label, round(E.data, 4)
    ('E', 0.0713)
    """
    n = lecture.sigmoid_perceptron()
    x, w, b, A, y, e, E = (n[k] for k in ("x", "w", "b", "A", "y", "e", "E"))
    target = n["ŷ"].data
    E.backward()
    yv, ev = y.data, e.data
    factors = {"dE/de": ev, "de/dy": -1.0, "dy/dA": yv * (1 - yv)}
    delta = -ev * (1 - yv) * yv
    lines = [
        f"sigmoid perceptron: x = {x.data.tolist()}, w = {w.data.tolist()}, b = {b.data:g}, "
        f"target = {target:g}",
        f"forward: A = w·x + b = {A.data:.4f}, y = σ(A) = {yv:.4f}, e = target - y = {ev:.4f}, "
        f"E = ½e² = {E.data:.4f}",
        "chain rule: dE/dw = dE/de · de/dy · dy/dA · dA/dw",
        "  " + " · ".join(f"{k} = {v:.4f}" for k, v in factors.items()) + " · dA/dw = x",
        f"  delta = -e(1-y)y = {delta:.4f}  ->  "
        f"dE/dw = delta·x = {np.round(delta * x.data + 0.0, 4).tolist()}",
        f"dE/dw from backward(): {np.round(w.grad, 4).tolist()}   (matches: "
        f"{bool(np.allclose(w.grad, delta * x.data))})",
        f"update with eta = {eta}: "
        f"w <- w - eta·dE/dw = {np.round(w.data - eta * w.grad, 4).tolist()}",
    ]
    return lines, E


def _lecture_chain() -> tuple:
    """``(w, expr, factors, agree, at)`` for the lecture's perceptron (demo and docs).

    ``expr`` is E in SymPy, ``factors`` the chain of ∂E/∂w, ``agree`` whether their
    product equals ``sympy.diff(expr, w)``, ``at`` the lecture's numbers by symbol.
    """
    import sympy

    from .. import symbolic

    nodes = lecture.scalar_perceptron()
    E, w = nodes["E"], nodes["w"]
    E.backward()
    factors = symbolic.chain(E, w)
    expr = symbolic.to_sympy(E)
    (w_sym,) = symbolic.symbols_of(expr, ["w"])
    agree = sympy.simplify(factors.product() - sympy.diff(expr, w_sym)) == 0
    names = ["w", "x", "b", "t"]  # the numbers the graph was built with, not a second copy
    at = dict(zip(symbolic.symbols_of(expr, names), (nodes[n].data for n in names)))
    return w, expr, factors, agree, at


def symbolic_chain() -> list[str]:
    """The chain-rule factors of ∂E/∂w for one input, as SymPy derives them.

    >>> lines = symbolic_chain()
    >>> lines[1]
    'dE/dw = ∂E/∂e · ∂e/∂y · ∂y/∂A · ∂A/∂w = (e)·(-1)·(y*(1 - y))·(x)'
    >>> lines[-1].endswith("True")
    True
    """
    w, expr, factors, agree, at = _lecture_chain()
    value = float(factors.product().subs(at))
    return [
        f"E = {expr}",
        "dE/dw = "
        + " · ".join(factors.names)
        + " = "
        + "·".join(f"({f})" for f in factors.in_labels),
        f"      = {factors.product(in_labels=True)}   (the lecture's -e(1-y)y·x)",
        f"at {', '.join(f'{s} = {v:g}' for s, v in at.items())}: {value:.6f}; "
        f"backward() gave {w.grad:.6f}",
        f"product of the factors == sympy.diff(E, w): {agree}",
    ]


def run(out_dir: str | Path = ".") -> list[str]:
    """Print the walk-through; write the graph pictures when a renderer is available."""
    out: list[str] = ["== 1. The swimming perceptron", *swimming_perceptron(), ""]
    lines, E = sigmoid_perceptron_step()
    out += ["== 2. One gradient-descent step (the delta rule)", *lines, ""]
    try:
        chain = symbolic_chain()
    except ModuleNotFoundError as exc:
        if exc.name != "autograd_lite.symbolic":
            raise
        chain = ["(skipped: autograd_lite.symbolic is not available)"]
    out += ["== 3. The chain rule, derived by SymPy", *chain, ""]
    out.append("== 4. The graph of E: each node's value and gradient, the factors on the path to w")
    try:
        viz = importlib.import_module("autograd_lite.viz")
    except ModuleNotFoundError as exc:
        if exc.name != "autograd_lite.viz":
            raise
        out.append("(graph picture skipped: autograd_lite.viz is not available)")
    else:
        from ..graph import topological_order

        w = next(node for node in topological_order(E) if node.label == "w")
        path_to_w = viz.find_path(E, w)
        for suffix in ("svg", "png"):
            path = Path(out_dir) / f"perceptron_graph.{suffix}"
            try:
                viz.render(E, path, edge_factors=True, highlight=path_to_w)
            except viz.RendererNotFoundError as exc:  # the walk-through still makes sense
                out.append(f"(could not draw {path}: {exc})")
            else:
                out.append(f"wrote {path}")
    out += [
        "",
        'Next: autograd-lite graph "tanh(w*x + b)" --set w=0.5 --set x=2 --set b=-1 -o g.svg',
        "      autograd-lite check    (every derivative against SymPy)",
        "      autograd-lite train    (an MLP on handwritten digits)",
    ]
    for line in out:
        print(line)
    return out
