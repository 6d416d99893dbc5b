"""Forecasting a noisy periodic light curve: an LSTM against an MLP of the same size.

The lecture's outlook: recurrent networks (tanh and sigmoid units) for sequences, and
light curves of variable stars. Each curve here is a pulsating star — a sinusoid plus
its first harmonic with a random period (10 to 32 samples), phase and amplitude — seen
through Gaussian noise. At every time step a model predicts the *clean* brightness of
the next step from the noisy brightness seen so far (one-step-ahead forecasting).

* The **LSTM** (1 → 12, then a linear read-out 12 → 1) reads the whole past and can
  keep the period and phase in its state, averaging the noise over many cycles.
* The **MLP** (16 → 40 → 1, tanh) sees a window of the last 16 noisy values (slid
  along the curve, the same weights at every step). Both have about 730 parameters.

Both are trained with Adam on the mean squared error and compared on unseen curves,
from step 16 on (where the MLP's window is full). A plot shows both forecasts.

Run it::

    python examples/light_curve_rnn.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import autograd_lite as al
from autograd_lite import nn, optim

WINDOW = 16


def make_curves(
    n: int, length: int = 64, noise: float = 0.3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pulsating-star light curves: (noisy, clean), each (n, length)."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    period = rng.uniform(10, 32, size=(n, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    amp = rng.uniform(0.5, 1.0, size=(n, 1))
    harmonic = rng.uniform(0, 2 * np.pi, size=(n, 1))
    x = 2 * np.pi * t / period + phase
    clean = amp * (np.sin(x) + 0.3 * np.sin(2 * x + harmonic))
    return clean + rng.normal(scale=noise, size=clean.shape), clean


class LSTMForecaster(nn.Module):
    """LSTM over the noisy curve, a linear read-out of its state at every step."""

    def __init__(self, hidden: int = 12, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.lstm = nn.LSTM(1, hidden, rng=rng)
        self.readout = nn.Linear(hidden, 1, rng=rng)

    def forward(self, noisy: np.ndarray) -> al.Value:
        out, _ = self.lstm(noisy[:, :, None])  # (N, T, hidden)
        return self.readout(out).reshape(noisy.shape)  # prediction of the next clean value


class WindowMLP(nn.Module):
    """An MLP on the last ``WINDOW`` noisy values, slid along the curve."""

    def __init__(self, hidden: int = 40, seed: int = 0) -> None:
        self.mlp = nn.MLP(WINDOW, [hidden, 1], activation="tanh", seed=seed)

    def forward(self, noisy: np.ndarray) -> al.Value:
        padded = np.pad(noisy, ((0, 0), (WINDOW - 1, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, WINDOW, axis=1)
        return self.mlp(windows).reshape(noisy.shape)  # (N, T): one prediction per step


def train(model: nn.Module, noisy, clean, epochs: int, lr: float, seed: int) -> list[float]:
    """Adam on the MSE of next-step predictions (steps WINDOW-1 … T-2 predict WINDOW … T-1)."""
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(noisy))
        total = 0.0
        for start in range(0, len(order), 50):
            batch = order[start : start + 50]
            opt.zero_grad()
            pred = model(noisy[batch])[:, WINDOW - 1 : -1]
            err = pred - clean[batch, WINDOW:]
            loss = (err * err).mean()
            loss.backward()
            opt.step()
            total += float(loss.data) * len(batch)
        losses.append(total / len(noisy))
    return losses


def forecast_mse(model: nn.Module, noisy: np.ndarray, clean: np.ndarray) -> float:
    with al.no_grad():
        pred = model(noisy).data[:, WINDOW - 1 : -1]
    return float(np.mean((pred - clean[:, WINDOW:]) ** 2))


def plot_forecasts(noisy, clean, lstm_pred, mlp_pred, path: str | Path) -> Path:
    """One unseen curve: noisy input, clean truth and both forecasts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.arange(noisy.shape[0])
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=110)
    ax.plot(t, noisy, ".", ms=4, color="0.6", label="noisy brightness (input)")
    ax.plot(t, clean, color="#111827", lw=1.5, label="clean brightness")
    ax.plot(t[WINDOW:], lstm_pred, color="#dc2626", lw=1.5, label="LSTM forecast")
    ax.plot(t[WINDOW:], mlp_pred, color="#2563eb", lw=1.2, ls="--", label="MLP forecast")
    ax.axvline(WINDOW, color="0.8", lw=1)
    ax.set_xlabel("time step")
    ax.set_ylabel("brightness")
    ax.set_title("one-step-ahead forecasts of an unseen pulsating star", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def main(
    n_train: int = 800,
    n_test: int = 200,
    epochs: int = 60,
    lr: float = 0.01,
    seed: int = 0,
    plot: str | Path | None = "light_curve_rnn.png",
    verbose: bool = True,
) -> dict:
    """Train both models; return their parameter counts and test errors."""
    noisy, clean = make_curves(n_train, seed=seed)
    test_noisy, test_clean = make_curves(n_test, seed=seed + 1)
    lstm, mlp = LSTMForecaster(seed=seed), WindowMLP(seed=seed)
    lstm_losses = train(lstm, noisy, clean, epochs, lr, seed)
    mlp_losses = train(mlp, noisy, clean, epochs, lr, seed)
    result = {
        "lstm_parameters": lstm.num_parameters(),
        "mlp_parameters": mlp.num_parameters(),
        "lstm_mse": forecast_mse(lstm, test_noisy, test_clean),
        "mlp_mse": forecast_mse(mlp, test_noisy, test_clean),
        "noise_mse": float(np.mean((test_noisy - test_clean) ** 2)),
        "lstm_losses": lstm_losses,
        "mlp_losses": mlp_losses,
    }
    if plot is not None:
        with al.no_grad():
            lstm_pred = lstm(test_noisy[:1]).data[0, WINDOW - 1 : -1]
            mlp_pred = mlp(test_noisy[:1]).data[0, WINDOW - 1 : -1]
        plot_forecasts(test_noisy[0], test_clean[0], lstm_pred, mlp_pred, plot)
    if verbose:
        print(f"LSTM: {result['lstm_parameters']} parameters, MLP: {result['mlp_parameters']}")
        print(f"noise alone (σ²):            {result['noise_mse']:.4f}")
        print(f"MLP  next-step forecast MSE: {result['mlp_mse']:.4f}")
        print(f"LSTM next-step forecast MSE: {result['lstm_mse']:.4f}")
        if plot is not None:
            print(f"wrote {plot}")
    return result


if __name__ == "__main__":
    main()
