"""Hessian of a 99-parameter MLP loss: double backward vs finite differences of gradients.

Run with ``python benchmarks/bench_hessian.py`` (a few seconds). The network is a
4-10-4-1 tanh MLP (4·10+10 + 10·4+4 + 4·1+1 = 99 parameters, one flat vector) with a
mean squared error on 64 generated samples. Three ways to get second derivatives:

1. ``al.hessian``: ``backward(create_graph=True)`` records the gradient as a graph,
   then one reverse pass through it per row (99 passes);
2. central finite differences of ``al.grad`` (2·99 gradients, step 1e-5): the
   classic check, accurate to about 1e-9 here;
3. ``al.hvp`` for a single Hessian-vector product (two passes, no Hessian formed),
   against ``H @ v``;
4. third derivatives by nested transforms, ``al.jacobian(al.hessian(f))``, for the
   first ``THIRD`` weights (the rest held fixed), against central differences of
   ``al.hessian``.

Printed: wall times (best of a few runs) with their ratio, the largest absolute
difference between the two Hessians relative to the Hessian's size, the asymmetry
of each, and the hvp error.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable

import numpy as np

import autograd_lite as al

SIZES = (4, 10, 4, 1)
THIRD = 5
"""How many (first-layer) weights the third-derivative row differentiates."""


def n_params(sizes: tuple[int, ...] = SIZES) -> int:
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


def mlp_loss(w: al.Value, X: np.ndarray, t: np.ndarray, sizes: tuple[int, ...] = SIZES) -> al.Value:
    """MSE of a tanh MLP whose weights and biases are slices of the flat vector ``w``."""
    h = al.Value(X, requires_grad=False)
    at = 0
    layers = list(itertools.pairwise(sizes))
    for i, (nin, nout) in enumerate(layers):
        W = w[at : at + nin * nout].reshape(nout, nin)
        at += nin * nout
        b = w[at : at + nout]
        at += nout
        h = h @ W.T + b
        if i < len(layers) - 1:
            h = h.tanh()
    return ((h.reshape(-1) - t) ** 2).mean()


def fd_hessian(grad: Callable[[np.ndarray], np.ndarray], w: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of the gradient, one column pair per parameter."""
    H = np.zeros((w.size, w.size))
    for k in range(w.size):
        e = np.zeros_like(w)
        e[k] = eps
        H[:, k] = (grad(w + e) - grad(w - e)) / (2 * eps)
    return H


def first_weights_loss(u: al.Value, rest: np.ndarray, X: np.ndarray, t: np.ndarray) -> al.Value:
    """``mlp_loss`` as a function of the first ``len(u)`` weights, the others fixed."""
    return mlp_loss(al.concatenate([u, al.Value(rest, requires_grad=False)]), X, t)


def fd_third(hessian: Callable[[np.ndarray], np.ndarray], u: np.ndarray, eps: float) -> np.ndarray:
    """Central differences of the Hessian: ``T[i, j, k] = ∂H[i, j]/∂u_k``."""
    T = np.zeros((u.size,) * 3)
    for k in range(u.size):
        e = np.zeros_like(u)
        e[k] = eps
        T[:, :, k] = (hessian(u + e) - hessian(u - e)) / (2 * eps)
    return T


def best_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(samples: int = 64, repeat: int = 5, seed: int = 0, verbose: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((samples, SIZES[0]))
    t = np.sin(X[:, 0]) * X[:, 1] - 0.5 * X[:, 2] + 0.1 * X[:, 3] ** 2
    w = rng.standard_normal(n_params()) * 0.5

    hessian = al.hessian(mlp_loss)
    grad = al.grad(mlp_loss)
    t_ours = t_fd = float("inf")
    for _ in range(repeat):  # alternately, so a slow spell of the machine hits both
        t_one, H = best_time(lambda: hessian(w, X, t), 1)
        t_ours = min(t_ours, t_one)
        t_one, H_fd = best_time(lambda: fd_hessian(lambda v: grad(v, X, t), w, 1e-5), 1)
        t_fd = min(t_fd, t_one)
    v = rng.standard_normal(w.size)
    t_hvp, Hv = best_time(lambda: al.hvp(lambda p: mlp_loss(p, X, t), w, v), repeat)
    t_grad, _ = best_time(lambda: grad(w, X, t), repeat)
    u, rest = w[:THIRD], w[THIRD:]
    third = al.jacobian(al.hessian(first_weights_loss))
    t_third, T = best_time(lambda: third(u, rest, X, t), repeat)
    hess_u = al.hessian(first_weights_loss)
    t_third_fd, T_fd = best_time(lambda: fd_third(lambda p: hess_u(p, rest, X, t), u, 1e-5), repeat)

    scale = np.abs(H_fd).max()
    diff = np.abs(H - H_fd).max()
    result = {
        "params": w.size,
        "time_hessian": t_ours,
        "time_fd": t_fd,
        "time_hvp": t_hvp,
        "time_grad": t_grad,
        "max_abs_diff": diff,
        "rel_diff": diff / scale,
        "asym_ours": np.abs(H - H.T).max(),
        "asym_fd": np.abs(H_fd - H_fd.T).max(),
        "hvp_err": np.abs(Hv - H @ v).max(),
        "time_third": t_third,
        "time_third_fd": t_third_fd,
        "third_rel_diff": np.abs(T - T_fd).max() / np.abs(T_fd).max(),
        "third_asym": np.abs(T - T.transpose(2, 1, 0)).max(),
    }
    if verbose:
        print(
            f"Hessian of a {'-'.join(map(str, SIZES))} tanh MLP MSE loss: {w.size} parameters, "
            f"{samples} samples (best of {repeat})"
        )
        print(f"  al.hessian (double backward) {t_ours * 1e3:9.1f} ms")
        print(
            f"  finite differences of grad   {t_fd * 1e3:9.1f} ms"
            f"   time ratio ours/FD {t_ours / t_fd:5.2f}x"
        )
        print(
            f"  max |H - H_fd|               {diff:9.2e}   (max |H| = {scale:.3g}, "
            f"relative {diff / scale:.1e})"
        )
        print(
            f"  asymmetry max |H - Hᵀ|       {result['asym_ours']:9.2e}   "
            f"(finite differences: {result['asym_fd']:.1e})"
        )
        print(
            f"  al.hvp (one H·v)             {t_hvp * 1e3:9.2f} ms   "
            f"= {t_hvp / t_grad:.1f}x one gradient ({t_grad * 1e3:.2f} ms); "
            f"max |hvp - H@v| {result['hvp_err']:.1e}"
        )
        print(
            f"  third derivatives, {THIRD} weights   {t_third * 1e3:9.1f} ms   "
            f"(differences of al.hessian {t_third_fd * 1e3:.1f} ms); relative difference "
            f"{result['third_rel_diff']:.1e}, asymmetry {result['third_asym']:.1e}"
        )
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Hessian of a ~100-parameter MLP loss")
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    main(samples=args.samples, repeat=args.repeat)
