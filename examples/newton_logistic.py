"""Newton's method vs gradient descent on a small logistic regression, and its curvature.

The loss of a logistic regression with two weights (no bias; the data is centred),

    L(w) = mean( softplus(x·w) − t·(x·w) ) + ½·λ·|w|²,

is a smooth bowl. Gradient descent walks down it with steps ``−lr·∇L``; its step size
is limited by the *steepest* direction of the bowl (the largest eigenvalue of the
Hessian), so along the flattest direction it crawls. Newton's method solves
``H·Δ = −∇L`` with the Hessian ``H = ∇²L`` (computed by ``al.hessian``, i.e.
``backward(create_graph=True)`` followed by a second backward), which rescales every
direction by its own curvature: a handful of steps suffice.

The features are strongly correlated, so the bowl is a long, narrow valley. The
picture shows the loss contours with both paths, and the Hessian's two eigenvalues
over the (w1, w2) plane: the curvature along the steepest and the flattest direction.

Run it::

    python examples/newton_logistic.py            # writes newton_logistic.png
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as al

L2 = 1e-3  # weight decay λ: keeps the minimum finite even if the data were separable


def make_data(n_samples: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Correlated 2-D features and labels drawn from a logistic model (not separable)."""
    rng = np.random.default_rng(seed)
    cov = np.array([[1.0, 0.95], [0.95, 1.0]])
    X = rng.multivariate_normal(np.zeros(2), cov, size=n_samples)
    w_true = np.array([2.0, -1.0])
    p = 1.0 / (1.0 + np.exp(-X @ w_true))
    t = (rng.random(n_samples) < p).astype(np.float64)
    return X, t


def loss(w: al.Value, X: np.ndarray, t: np.ndarray) -> al.Value:
    """Mean binary cross-entropy of the logits X·w (stable softplus form) plus ½λ|w|²."""
    z = al.Value(X, requires_grad=False) @ w
    return (z.softplus() - z * t).mean() + 0.5 * L2 * (w * w).sum()


def numpy_gradient(w: np.ndarray, X: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The same gradient written by hand, Xᵀ(σ(Xw) − t)/n + λw (an independent check)."""
    s = 1.0 / (1.0 + np.exp(-X @ w))
    return X.T @ (s - t) / len(t) + L2 * w


def _descend(
    step: Any, X: np.ndarray, t: np.ndarray, w0: np.ndarray, tol: float, max_iter: int
) -> dict[str, Any]:
    """The loop both methods share: ``w ← step(w, ∇L)`` until |∇L| < tol.

    Returns path, losses and ``iterations`` (None if |∇L| never fell below ``tol``).
    """
    value_and_grad = al.value_and_grad(loss)
    w = np.array(w0, dtype=np.float64)
    path, losses = [w.copy()], []
    for it in range(max_iter + 1):
        value, g = value_and_grad(w, X, t)
        losses.append(value)
        if np.linalg.norm(g) < tol:
            return {"w": w, "path": np.array(path), "losses": losses, "iterations": it}
        w = step(w, g)
        path.append(w.copy())
    return {"w": w, "path": np.array(path), "losses": losses, "iterations": None}


def newton(
    X: np.ndarray, t: np.ndarray, w0: np.ndarray, tol: float = 1e-8, max_iter: int = 50
) -> dict[str, Any]:
    """Newton's method: w ← w − H⁻¹∇L until |∇L| < tol. Returns path, losses, iterations."""
    hessian = al.hessian(loss)
    return _descend(lambda w, g: w - np.linalg.solve(hessian(w, X, t), g), X, t, w0, tol, max_iter)


def gradient_descent(
    X: np.ndarray,
    t: np.ndarray,
    w0: np.ndarray,
    lr: float | None = None,
    tol: float = 1e-8,
    max_iter: int = 20000,
) -> dict[str, Any]:
    """Gradient descent w ← w − lr·∇L until |∇L| < tol (``iterations`` None if it never does).

    The default step is the classic safe choice ``lr = 1/L`` with ``L = ¼·λmax(XᵀX/n) + λ``,
    a bound on the Hessian's largest eigenvalue for logistic regression.
    """
    if lr is None:
        lr = 1.0 / (0.25 * np.linalg.eigvalsh(X.T @ X / len(t)).max() + L2)
    return {**_descend(lambda w, g: w - lr * g, X, t, w0, tol, max_iter), "lr": lr}


def curvature(
    X: np.ndarray, t: np.ndarray, w1: np.ndarray, w2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss and the Hessian's smallest and largest eigenvalue on the grid w1 × w2."""
    hessian = al.hessian(loss)
    shape = (len(w2), len(w1))
    values, lo, hi = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for i, b in enumerate(w2):
        for j, a in enumerate(w1):
            w = np.array([a, b])
            with al.no_grad():
                values[i, j] = loss(al.Value(w), X, t).item()
            lo[i, j], hi[i, j] = np.linalg.eigvalsh(hessian(w, X, t))
    return values, lo, hi


def plot(path: Path, X: np.ndarray, t: np.ndarray, runs: dict[str, dict], grid: int) -> Path:
    """Contours with both paths, and the two Hessian eigenvalues as curvature maps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w1 = np.linspace(-1.5, 4.5, grid)
    w2 = np.linspace(-3.5, 2.5, grid)
    values, lo, hi = curvature(X, t, w1, w2)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    ax = axes[0]
    low = values.min()
    levels = low + np.geomspace(1e-4, values.max() - low, 20)  # dense near the minimum
    ax.contour(w1, w2, values, levels=levels, cmap="viridis")
    styles = {"gradient descent": ("tab:orange", "."), "Newton": ("tab:red", "o")}
    for name, run in runs.items():
        color, marker = styles[name]
        p = run["path"]
        steps = run["iterations"] if run["iterations"] is not None else len(p) - 1
        ax.plot(
            p[:, 0],
            p[:, 1],
            marker=marker,
            color=color,
            ms=4,
            lw=1.2,
            label=f"{name}: {steps} steps",
        )
    ax.set(xlabel="w1", ylabel="w2", title="loss contours and the two paths")
    ax.legend(loc="upper right", fontsize=9)
    for ax, data, title in (
        (axes[1], hi, "largest Hessian eigenvalue (steepest curvature)"),
        (axes[2], lo, "smallest Hessian eigenvalue (flattest curvature)"),
    ):
        image = ax.pcolormesh(w1, w2, data, shading="auto", cmap="magma")
        ax.contour(w1, w2, values, levels=levels[::2], colors="white", linewidths=0.5, alpha=0.6)
        fig.colorbar(image, ax=ax)
        ax.set(xlabel="w1", ylabel="w2", title=title)
    fig.suptitle("Logistic regression with correlated features: a long, narrow valley")
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(
    n_samples: int = 200,
    grid: int = 40,
    out: str | Path = "newton_logistic.png",
    tol: float = 1e-8,
    max_iter: int = 20000,
    seed: int = 0,
    verbose: bool = True,
) -> dict[str, Any]:
    """Fit with both methods from the same start, print iteration counts, draw the picture."""
    X, t = make_data(n_samples, seed)
    w0 = np.array([-1.0, 2.0])
    runs = {
        "gradient descent": gradient_descent(X, t, w0, tol=tol, max_iter=max_iter),
        "Newton": newton(X, t, w0, tol=tol),
    }
    H = al.hessian(loss)(runs["Newton"]["w"], X, t)
    eig = np.linalg.eigvalsh(H)
    png = plot(Path(out), X, t, runs, grid) if grid else None
    if verbose:
        print(f"logistic regression, {n_samples} samples, 2 correlated features, |∇L| < {tol:g}")
        for name, run in runs.items():
            its = run["iterations"]
            done = f"{its} iterations" if its is not None else f"not converged in {max_iter}"
            print(f"  {name:17s} {done:>24s}   loss {run['losses'][-1]:.10f}   w = {run['w']}")
        print(
            f"  Hessian eigenvalues at the minimum: {eig[0]:.4g}, {eig[1]:.4g} "
            f"(condition number {eig[1] / eig[0]:.0f})"
        )
        if png is not None:
            print(f"  curvature picture: {png}")
    return {
        "newton": runs["Newton"],
        "gd": runs["gradient descent"],
        "eigenvalues": eig,
        "png": png,
        "X": X,
        "t": t,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--grid", type=int, default=40, help="curvature grid size (0: no plot)")
    parser.add_argument("--out", default="newton_logistic.png")
    args = parser.parse_args()
    main(n_samples=args.samples, grid=args.grid, out=args.out)
