"""A convolutional network on scikit-learn's handwritten digits (8×8 images).

The lecture's recipe for images: convolutions with ReLU, pooling, then a dense
softmax layer. The network ::

    Conv2d(1, 16, 3, padding=1) → ReLU → Conv2d(16, 32, 3, padding=1) → ReLU
    → MaxPool2d(2) → Dropout(0.25) → Flatten → Linear(512, 10)

is trained with Adam (learning rate 5e-3, cosine-annealed over 25 epochs, chosen on
the validation split) on the training split, with each training image shifted by up to
one pixel at random (data augmentation: a digit moved by a pixel is the same digit).
10 % of the training split is held out (``datasets.hold_out``) for choosing settings;
the held-out test split (20 % of the data, seed 0) is only used once, at the end.

It also writes two pictures: the network's graph for one image with the nodes of each
layer grouped into one box (``viz.to_dot(..., groups=...)``), and the 16 feature maps
of the first convolution for one test digit.

Run it::

    python examples/digits_cnn.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

import autograd_lite as al
from autograd_lite import datasets, nn, optim


def load_images(seed: int = 0) -> tuple[np.ndarray, ...]:
    """Train, validation and test images (N, 1, 8, 8) scaled to [0, 1], and their labels."""
    data = datasets.load_digits(seed=seed, standardize=False)
    X_fit, X_val, y_fit, y_val = datasets.hold_out(data.X_train, data.y_train, 0.1, seed=seed)

    def images(X: np.ndarray) -> np.ndarray:
        return X.reshape(-1, 1, 8, 8) / 16.0

    return images(X_fit), y_fit, images(X_val), y_val, images(data.X_test), data.y_test


def build_cnn(seed: int = 0) -> nn.Sequential:
    """The network of the module docstring."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Dropout(0.25, rng=rng),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10, rng=rng),
    )


def shift_images(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by −1, 0 or +1 pixel in each direction (zeros shifted in)."""
    padded = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    dy, dx = rng.integers(0, 3, size=(2, len(X)))
    out = np.empty_like(X)
    for sy in range(3):
        for sx in range(3):
            sel = (dy == sy) & (dx == sx)
            out[sel] = padded[sel, :, sy : sy + 8, sx : sx + 8]
    return out


def accuracy(net: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction classified correctly, in evaluation mode (no dropout)."""
    was_training = net.training
    net.eval()
    with al.no_grad():
        predicted = np.argmax(net(X).data, axis=1)
    net.train(was_training)
    return float(np.mean(predicted == y))


def draw_graph(net: nn.Sequential, image: np.ndarray, path: str | Path) -> str:
    """The network's graph on one image, each layer's nodes in one box; returns the DOT."""
    from autograd_lite import viz

    net.eval()
    x: Any = image[None]
    stages = []
    for k, layer in enumerate(net):
        x = layer(x)
        stages.append((f"layer {k}: {type(layer).__name__}", x))
    loss = nn.CrossEntropyLoss()(x, [0])
    stages.append(("loss", loss))
    loss.backward()
    net.zero_grad()
    net.train()
    dot = viz.to_dot(loss, groups=viz.groups_from_outputs(stages), rankdir="TB")
    viz.render_dot(dot, path)  # .dot writes the text; .svg/.png need a Graphviz renderer
    return dot


def plot_feature_maps(net: nn.Sequential, image: np.ndarray, path: str | Path) -> Path:
    """The input digit and the 16 maps of the first convolution (after ReLU) as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with al.no_grad():
        maps = net[1](net[0](image[None])).data[0]
    fig, axes = plt.subplots(2, 9, figsize=(10, 3.2), dpi=110)
    axes[0, 0].imshow(image[0], cmap="gray_r")
    axes[0, 0].set_title("input", fontsize=8)
    axes[1, 0].axis("off")
    for k in range(16):
        ax = axes[k % 2, 1 + k // 2]
        ax.imshow(maps[k], cmap="viridis")
        ax.set_title(f"map {k}", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("feature maps of the first convolution (after ReLU)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def main(
    epochs: int = 25,
    lr: float = 5e-3,
    batch_size: int = 32,
    seed: int = 0,
    graph: str | Path | None = "digits_cnn_graph.svg",
    feature_maps: str | Path | None = "digits_cnn_feature_maps.png",
    verbose: bool = True,
) -> dict:
    """Train the CNN; return validation and test accuracy (test measured once, at the end)."""
    X_train, y_train, X_val, y_val, X_test, y_test = load_images(seed)
    net = build_cnn(seed)
    opt = optim.Adam(net.parameters(), lr=lr)
    sched = optim.CosineAnnealingLR(opt, T_max=epochs, eta_min=lr / 20)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        X_aug = shift_images(X_train[order], rng)
        y_epoch = y_train[order]
        for start in range(0, len(order), batch_size):
            opt.zero_grad()
            batch = slice(start, start + batch_size)
            loss = loss_fn(net(X_aug[batch]), y_epoch[batch])
            loss.backward()
            opt.step()
        sched.step()
        if verbose:
            val = accuracy(net, X_val, y_val)
            print(
                f"epoch {epoch + 1:3d}  last batch loss {float(loss.data):.4f}  val acc {val:.4f}"
            )
    result = {
        "val_accuracy": accuracy(net, X_val, y_val),
        "test_accuracy": accuracy(net, X_test, y_test),
        "n_test": len(y_test),
        "net": net,
    }
    if graph is not None:
        result["dot"] = draw_graph(net, X_test[0], graph)
    if feature_maps is not None:
        plot_feature_maps(net, X_test[0], feature_maps)
    if verbose:
        print(net)
        print(f"validation accuracy {result['val_accuracy']:.4f}")
        print(f"test accuracy on {len(y_test)} held-out digits: {result['test_accuracy']:.4f}")
    return result


if __name__ == "__main__":
    main()
