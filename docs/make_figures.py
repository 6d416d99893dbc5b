"""Make every figure and generated snippet of the docs from the code itself.

``docs/conf.py`` calls :func:`main` on each build, writing into ``docs/_figures/``
(not committed). Run by hand::

    python docs/make_figures.py                # the docs' figures into docs/_figures/
    python docs/make_figures.py --readme       # docs/_static/perceptron_graph.svg for README

Graph pictures come from ``autograd_lite.viz.render``; plots from matplotlib (Agg);
formulas and derivatives from SymPy (``autograd_lite.symbolic``). Nothing is pasted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
for extra in (ROOT, ROOT / "examples"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402

import autograd_lite as al  # noqa: E402

# The lecture's activations, in the lecture's order (those in the op table are shown).
ACTIVATIONS = [
    "step",
    "linear",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "prelu",
    "elu",
    "swish",
    "softplus",
]
PRELU_ALPHA = 0.25

# Functions ``f(directory) -> list[Path]`` that write the figures of other docs pages.
DOC_FIGURE_HOOKS = [
    "autograd_lite.teaching.figures:write_doc_figures",  # visualization.md
    "autograd_lite.teaching.replay:write_doc_figures",  # teaching.md
]


def perceptron_graph(path: Path) -> Path:
    """The lecture's E = ½(ŷ − σ(w·x + b))², with values, gradients and edge factors.

    The path from E back to w is highlighted: the chain rule multiplies the factors
    written on those edges.
    """
    from autograd_lite import viz

    E = viz.lecture_example()
    w = next(n for n in al.graph.topological_order(E) if n.label == "w")
    return viz.render(
        E, path, edge_factors=True, highlight=viz.find_path(E, w), title="E = ½(ŷ − σ(w·x + b))²"
    )


def chain_rule_snippet(path: Path) -> Path:
    """MyST text: the chain-rule factors SymPy gives for ∂E/∂w of the lecture's perceptron."""
    import sympy

    from autograd_lite.teaching.demo import _lecture_chain

    w, expr, factors, agree, at = _lecture_chain()
    names = [n.replace("∂", r"\partial ") for n in factors.names]
    lines = [
        "$$",
        "E = " + sympy.latex(expr),
        "$$",
        "",
        "`symbolic.chain(E, w)` cuts the path at the labelled nodes A, y, e and returns one "
        "factor per edge, written in those labels (`factors.in_labels`):",
        "",
        "$$",
        r"\frac{\partial E}{\partial w} = "
        + r" \cdot ".join(r"\frac{" + n.replace("/", "}{") + "}" for n in names)
        + " = "
        + r" \cdot ".join(r"\left(" + sympy.latex(f) + r"\right)" for f in factors.in_labels)
        + " = "
        + sympy.latex(factors.product(in_labels=True)),
        "$$",
        "",
        "In the leaves' symbols, their product is",
        "",
        "$$",
        sympy.latex(factors.product()),
        "$$",
        "",
        f"and it equals SymPy's own `diff` of the whole expression: **{agree}**. "
        f"At w = 0.8, x = 1, b = −0.3, t = 1 it is {float(factors.product().subs(at)):.6f}; "
        f"`backward()` gave `w.grad` = {w.grad:.6f}.",
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _engine_curves(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Forward values and backward() derivative of op ``name`` on the grid ``z``."""
    op = al.get_op(name)
    zv = al.Value(z, label="z")
    note = ""
    if name == "prelu":
        out = op(zv, al.Value(PRELU_ALPHA, label="alpha"))
        note = f"α = {PRELU_ALPHA} (learnable)"
    else:
        out = op(zv)
        params = {p: op.defaults[p] for p in op.params if p in op.defaults}
        if params:
            note = ", ".join(f"{k} = {v:g}" for k, v in params.items())
    out.sum().backward()
    return np.asarray(out.data, dtype=float), np.asarray(zv.grad, dtype=float), note


def _sympy_points(expr, name: str, points: np.ndarray) -> tuple[list[float], list[float]]:
    """Evaluate SymPy's derivative at sample points (skipping kinks where it is undefined)."""

    op = al.get_op(name)
    values = {p: op.defaults[p] for p in op.params if p in op.defaults}
    if name == "prelu":
        values["alpha"] = PRELU_ALPHA
    # Match symbols by name: SymPy symbols carry assumptions (e.g. real=True).
    by_name = {s.name: s for s in expr.free_symbols}
    fixed = expr.subs({by_name[k]: v for k, v in values.items() if k in by_name})
    z = by_name.get("z")
    xs, ys = [], []
    for p in points:
        try:
            val = complex((fixed.subs(z, float(p)) if z is not None else fixed).evalf())
        except (TypeError, ValueError):
            continue
        if abs(val.imag) < 1e-12 and np.isfinite(val.real):
            xs.append(float(p))
            ys.append(val.real)
    return xs, ys


def activation_figures(outdir: Path) -> Path:
    """One plot per activation (function and derivative) and the MyST table that shows them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sympy

    from autograd_lite import formula, symbolic

    z = np.linspace(-4.0, 4.0, 401)
    marks = np.linspace(-3.9, 3.9, 27)
    rows = []
    for name in ACTIVATIONS:
        if not al.registry.has_op(name):
            continue
        op = al.get_op(name)
        names = [*op.inputs, *op.params]
        expr = formula.to_sympy(op.formula, names)
        deriv = symbolic.derivative(name)
        f, df, note = _engine_curves(name, z)
        xs, ys = _sympy_points(deriv, name, marks)
        if len(xs) < len(marks) // 2:
            raise RuntimeError(
                f"make_figures: SymPy's derivative of {name!r} ({deriv}) could be evaluated at "
                f"only {len(xs)} of {len(marks)} points"
            )

        fig, ax = plt.subplots(figsize=(3.4, 2.4), dpi=110)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.plot(z, f, color="#1e40af", lw=2, label="φ(z)")
        ax.plot(z, df, color="#dc2626", lw=1.5, label="φ′(z), backward()")
        ax.plot(xs, ys, "o", ms=3, mfc="none", color="#111827", label="φ′(z), SymPy")
        ax.set_xlim(-4, 4)
        lo = float(min(np.min(f), np.min(df), -0.2))
        hi = float(max(np.max(f), np.max(df), 1.2))
        ax.set_ylim(max(lo, -4.2) - 0.1, min(hi, 4.2) + 0.1)
        ax.set_title(name + (f"  ({note})" if note else ""), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper left", frameon=False)
        fig.tight_layout()
        fig.savefig(outdir / f"act_{name}.png")
        plt.close(fig)
        rows.append((name, sympy.latex(expr), sympy.latex(deriv), note))

    lines = [":::{list-table}", ":header-rows: 1", ":widths: 12 28 30 30", ""]
    lines += ["* - op", "  - formula φ(z)", "  - derivative φ′(z) (SymPy)", "  - plot"]
    for name, tex_f, tex_d, _note in rows:
        lines += [
            f"* - `{name}`",
            f"  - ${tex_f}$",
            f"  - ${tex_d}$",
            f"  - ![{name}](_figures/act_{name}.png)",
        ]
    lines += [":::", ""]
    path = outdir / "activation_table.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def tutorial_figures(outdir: Path) -> list[Path]:
    """Plots for the tutorial, made by running the examples with small settings."""
    import matplotlib

    matplotlib.use("Agg")
    import activation_study
    import delta_rule
    import matplotlib.pyplot as plt

    written = []
    result = delta_rule.main(epochs=40, verbose=False)
    fig, ax = plt.subplots(figsize=(4.5, 2.8), dpi=110)
    ax.plot(np.arange(1, len(result["losses"]) + 1), result["losses"], color="#1e40af")
    ax.set_xlabel("epoch (8 updates each)")
    ax.set_ylabel("Σ ½e² over the 8 examples")
    ax.set_title("Sigmoid perceptron trained with the delta rule", fontsize=9)
    fig.tight_layout()
    fig.savefig(outdir / "delta_rule_loss.png")
    plt.close(fig)
    written.append(outdir / "delta_rule_loss.png")

    norms = activation_study.gradient_norms(depth=10, width=32, seed=0)
    path = outdir / "gradient_norms.png"
    activation_study.plot_gradient_norms(norms, path)
    written.append(path)
    written.append(activation_study_snippet(outdir / "activation_study_results.md"))
    return written


def activation_study_snippet(path: Path) -> Path:
    """MyST text with what ``examples/activation_study.py`` measures (dying ReLU, speed)."""
    import activation_study

    seeds = (0, 1, 2)
    dying = {a: activation_study.dying_units(a) for a in ("relu", "leaky_relu")}
    speed = activation_study.convergence_ratio(seeds=seeds)
    limit = speed["max_epochs"]

    def runs(act: str) -> str:
        found = speed["epochs"].get(act)
        if not found:
            return "(not measured)"
        return ", ".join(f"not in {limit}" if r is None else str(r) for r in found)

    lines = [
        ":::{list-table} Measured while these docs were built",
        ":header-rows: 1",
        "",
        "* - hidden activation",
        "  - units in the dead region: at start / after 300 SGD steps",
        "  - gradient reaching those units (first step)",
        f"  - epochs to 95 % training accuracy on digits (seeds {', '.join(map(str, seeds))})",
    ]
    for act in ("relu", "leaky_relu", "tanh", "sigmoid"):
        d = dying.get(act)
        lines += [
            f"* - {act}",
            f"  - {d['dead_before']} / {d['dead_after']}" if d else "  - —",
            f"  - {d['grad_to_dead']:.2g}" if d else "  - —",
            f"  - {runs(act)}",
        ]
    lines += [":::", ""]
    for act, ratio in speed["ratios"].items():
        bound = "at least " if speed["bounded"][act] else ""
        lines.append(
            f"- ReLU reached the target **{bound}{ratio:.2f}×** faster than {act} "
            f"(mean epochs; a run that never got there counts as {limit})."
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


SOFTMAX_POINT = [[0.5, -1.0, 2.0], [1.0, 0.2, -0.3]]  # the Jacobian picture's input


def jacobian_figure(path: Path) -> Path:
    """softmax on a (2, 3) input: SymPy's full 6×6 Jacobian, the engine's, and a classic mistake.

    The engine's Jacobian is built as ``symbolic.check`` builds it: one backward pass per
    output element, seeded with that element's basis cotangent. Fixed input: deterministic.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from autograd_lite.jacobian_check import jacobian_pair

    want, got, rows, cols = jacobian_pair("softmax", case=0, point=[SOFTMAX_POINT])
    p = al.get_op("softmax").forward(np.array(SOFTMAX_POINT), -1).reshape(-1)
    mistake = np.diag(p * (1 - p))  # softmax treated as elementwise: g·p(1 − p)
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.6), dpi=110)
    limit = float(np.max(np.abs(want)))
    panels = (
        (want, "SymPy: diff of the definition"),
        (got, f"engine: one vjp per output (max |diff| {np.max(np.abs(got - want)):.0e})"),
        (mistake, "the classic mistake g·p(1−p): diagonal only"),
    )
    for ax, (data, title) in zip(axes, panels):
        im = ax.imshow(data, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
        ax.set_yticks(range(len(rows)), rows, fontsize=7)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle("softmax(z, axis=-1) for z of shape (2, 3): ∂out[i, j]/∂z[k, l]", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return path


def main(outdir: Path | str = DOCS / "_figures") -> list[Path]:
    """Write every generated figure and snippet into ``outdir``; return their paths."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = [perceptron_graph(outdir / "perceptron_graph.svg")]
    written.append(chain_rule_snippet(outdir / "chain_rule_factors.md"))
    written.append(activation_figures(outdir))
    written += tutorial_figures(outdir)
    written.append(jacobian_figure(outdir / "softmax_jacobian.png"))
    for hook in DOC_FIGURE_HOOKS:  # the other pages' pictures, made by the modules they document
        module_name, _, function = hook.partition(":")
        written += getattr(importlib.import_module(module_name), function)(outdir)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--readme",
        action="store_true",
        help="only write docs/_static/perceptron_graph.svg (the README's picture)",
    )
    args = parser.parse_args()
    if args.readme:
        print(perceptron_graph(DOCS / "_static" / "perceptron_graph.svg"))
    else:
        for p in main():
            print(p)
