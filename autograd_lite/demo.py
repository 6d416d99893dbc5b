"""The lecture walk-through behind ``make demo`` / ``autograd-lite demo``.

>>> lines = swimming_perceptron()
>>> lines[-1]
'decision y = step(5) = 1 -> go swimming'
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .value import Value


def swimming_perceptron() -> list[str]:
    """The lecture's perceptron: x = [1, 0, 1], w = [4, 2, 4], b = -3 gives y = 1."""
    x = Value([1.0, 0.0, 1.0], label="x", requires_grad=False)
    w = Value([4.0, 2.0, 4.0], label="w")
    b = Value(-3.0, label="b")
    z = w @ x + b
    y = z.step()
    return [
        "Going swimming? x = [warm water, empty beach, no shark attack] = [1, 0, 1]",
        "weights w = [4, 2, 4], bias b = -3",
        f"z = w·x + b = {z.data:g}",
        f"decision y = step({z.data:g}) = {y.data:g} -> {'go swimming' if y.data else 'stay home'}",
    ]


def sigmoid_perceptron_step(eta: float = 0.5) -> tuple[list[str], Value]:
    """One gradient-descent step of a sigmoid perceptron, with its chain-rule factors.

    Returns the printed lines and the error node E (for drawing its graph).

    >>> lines, E = sigmoid_perceptron_step()
    >>> any(line.startswith("dE/dw") for line in lines)
    True
    """
    x = Value([1.0, 0.0, 1.0], label="x", requires_grad=False)
    w = Value([0.4, 0.2, 0.4], label="w")
    b = Value(-0.3, label="b")
    target = 1.0
    A = w @ x + b
    A.label = "A"
    y = A.sigmoid()
    y.label = "y"
    e = target - y
    e.label = "e"
    E = 0.5 * e**2
    E.label = "E"
    E.backward()
    yv, ev = y.data, e.data
    factors = {
        "dE/de": ev,
        "de/dy": -1.0,
        "dy/dA": yv * (1 - yv),
    }
    delta = -ev * (1 - yv) * yv
    lines = [
        f"sigmoid perceptron: x = {x.data.tolist()}, w = {w.data.tolist()}, b = {b.data:g}, "
        f"target = {target:g}",
        f"forward: A = w·x + b = {A.data:.4f}, y = σ(A) = {yv:.4f}, e = target - y = {ev:.4f}, "
        f"E = ½e² = {E.data:.4f}",
        "chain rule: dE/dw = dE/de · de/dy · dy/dA · dA/dw",
        "  " + " · ".join(f"{k} = {v:.4f}" for k, v in factors.items()) + " · dA/dw = x",
        f"  delta = -e(1-y)y = {delta:.4f}  ->  "
        f"dE/dw = delta·x = {np.round(delta * x.data, 4).tolist()}",
        f"dE/dw from backward(): {np.round(w.grad, 4).tolist()}   (matches: "
        f"{bool(np.allclose(w.grad, delta * x.data))})",
        f"update with eta = {eta}: "
        f"w <- w - eta·dE/dw = {np.round(w.data - eta * w.grad, 4).tolist()}",
    ]
    return lines, E


def run(out_dir: str | Path = ".") -> list[str]:
    """Print the walk-through; write the graph picture when a renderer is available."""
    out: list[str] = ["== The swimming perceptron", *swimming_perceptron(), ""]
    lines, E = sigmoid_perceptron_step()
    out += ["== One gradient-descent step (delta rule)", *lines, ""]
    try:
        from . import viz
    except ImportError:
        out.append("(graph picture skipped: autograd_lite.viz is not available yet)")
    else:
        out.append("== The graph of E, with each node's value and gradient")
        for suffix in ("svg", "png"):
            path = Path(out_dir) / f"perceptron_graph.{suffix}"
            try:
                viz.render(E, path)
                out.append(f"wrote {path}")
            except Exception as exc:  # a missing renderer must not break the demo
                out.append(f"(could not write {path}: {exc})")
    for line in out:
        print(line)
    return out
