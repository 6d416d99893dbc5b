"""A denoising autoencoder on synthetic astronomical light curves.

The lecture's outlook shows light curves denoised by an autoencoder (Pasquet et al.
2019). Here is a small version with data we generate ourselves: each light curve is
the brightness of a star at ``length`` evenly spaced times, either

* a **periodic variable** (a pulsating star): a sinusoid plus its first harmonic,
  random period, phase and amplitude; or
* a **transit** (a planet passing in front of its star): flat, with box-shaped dips
  of random depth, duration, period and phase,

plus Gaussian noise. The autoencoder ``length → 32 → 8 → 32 → length`` (tanh) sees
the noisy curve and is trained to output the *clean* one (mean squared error, Adam).
On curves it never saw, we compare its error with the noise's own error: if the
reconstruction is closer to the clean curve than the noisy input was, it denoised.

Run it::

    python examples/light_curve_autoencoder.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd_lite as al
from autograd_lite import nn, optim


def periodic_variable(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A pulsating star: fundamental mode plus first harmonic."""
    period = rng.uniform(0.15, 0.5)
    phase = rng.uniform(0, 2 * np.pi)
    amp = rng.uniform(0.3, 0.8)
    x = 2 * np.pi * t / period + phase
    return amp * (np.sin(x) + 0.3 * np.sin(2 * x + rng.uniform(0, 2 * np.pi)))


def transit(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A flat star with periodic box-shaped dips (a planet crossing it)."""
    period = rng.uniform(0.25, 0.6)
    duration = rng.uniform(0.04, 0.08)
    depth = rng.uniform(0.5, 1.2)
    phase = rng.uniform(0, period)
    in_transit = ((t - phase) % period) < duration
    return 0.3 - depth * in_transit


def make_light_curves(
    n: int, length: int = 64, noise: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` light curves, half of each kind: returns (noisy, clean, kind) with kind 0/1."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 1.0, length)
    kinds = np.arange(n) % 2
    clean = np.array([transit(t, rng) if k else periodic_variable(t, rng) for k in kinds])
    noisy = clean + rng.normal(scale=noise, size=clean.shape)
    return noisy, clean, kinds


def build_autoencoder(length: int = 64, code: int = 8, seed: int = 0) -> nn.Module:
    """Encoder length → 32 → code, decoder code → 32 → length (linear output)."""
    return nn.MLP(length, [32, code, 32, length], activation="tanh", output="linear", seed=seed)


def plot_examples(
    noisy: np.ndarray, clean: np.ndarray, recon: np.ndarray, kinds: np.ndarray, path: str | Path
) -> Path:
    """Noisy, clean and reconstructed curves of one periodic variable and one transit."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=110, sharey=True)
    t = np.linspace(0, 1, noisy.shape[1])
    for ax, kind, title in zip(axes, (0, 1), ("periodic variable", "transit")):
        i = int(np.flatnonzero(kinds == kind)[0])
        ax.plot(t, noisy[i], ".", ms=3, color="0.6", label="noisy input")
        ax.plot(t, clean[i], color="#111827", lw=1.5, label="clean")
        ax.plot(t, recon[i], color="#dc2626", lw=1.5, label="reconstructed")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("time (fraction of the observing run)")
    axes[0].set_ylabel("brightness (arbitrary units)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def main(
    n_train: int = 1000,
    n_test: int = 200,
    length: int = 64,
    noise: float = 0.3,
    epochs: int = 60,
    batch_size: int = 50,
    lr: float = 0.01,
    seed: int = 0,
    plot: str | Path | None = "light_curves.png",
    verbose: bool = True,
) -> dict:
    """Train the denoiser; return the noise and reconstruction errors on unseen curves."""
    from autograd_lite.data import Batches

    X_noisy, X_clean, _ = make_light_curves(n_train, length, noise, seed)
    T_noisy, T_clean, T_kind = make_light_curves(n_test, length, noise, seed + 1)
    net = build_autoencoder(length, seed=seed)
    opt = optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    batches = Batches(X_noisy, X_clean, batch_size=batch_size, shuffle=True, seed=seed)
    for epoch in range(epochs):
        total = 0.0
        for xb, yb in batches:
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += float(loss.data) * len(xb)
        if verbose and (epoch + 1) % max(1, epochs // 5) == 0:
            print(f"epoch {epoch + 1:4d}  training MSE {total / n_train:.4f}")
    with al.no_grad():
        recon = net(T_noisy).data
    noise_mse = float(np.mean((T_noisy - T_clean) ** 2))
    recon_mse = float(np.mean((recon - T_clean) ** 2))
    if plot is not None:
        plot_examples(T_noisy, T_clean, recon, T_kind, plot)
    if verbose:
        print(
            f"unseen curves: noisy input vs clean MSE {noise_mse:.4f} (noise σ² = {noise**2:.4f})"
        )
        print(f"               reconstruction vs clean MSE {recon_mse:.4f}")
        if plot is not None:
            print(f"wrote {plot}")
    return {"noise_mse": noise_mse, "reconstruction_mse": recon_mse, "plot": plot}


if __name__ == "__main__":
    main()
