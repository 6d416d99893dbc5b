"""Weight initialisation: Xavier/Glorot for saturating activations, He for ReLU-like ones.

Every function takes the weight ``shape`` ``(nout, nin)`` and a numpy
``Generator``, so results are reproducible with a seed.

* Xavier (Glorot & Bengio 2010) keeps the variance of activations and gradients
  roughly constant for sigmoid/tanh/linear layers: ``Var(w) = 2 / (nin + nout)``.
* He (He et al. 2015) compensates for ReLU zeroing half its inputs:
  ``Var(w) = 2 / nin``.

>>> import numpy as np
>>> w = xavier_uniform((64, 32), np.random.default_rng(0))
>>> bool(np.abs(w).max() <= np.sqrt(6 / (64 + 32)))
True
>>> init_for("relu"), init_for("tanh")
('he_normal', 'xavier_uniform')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Activations whose layers get He initialisation; everything else gets Xavier.
RELU_LIKE = frozenset({"relu", "leaky_relu", "prelu", "elu", "swish"})


def make_rng(
    rng: np.random.Generator | None = None, seed: int | None = None
) -> np.random.Generator:
    """``rng`` if given, else a new ``Generator`` seeded with ``seed`` (random when None).

    >>> int(make_rng(seed=3).integers(100)) == int(make_rng(seed=3).integers(100))
    True
    """
    if rng is not None and seed is not None:
        raise ValueError("give either rng= or seed=, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy Generator (np.random.default_rng(seed)), "
                f"got {type(rng).__name__}"
            )
        return rng
    return np.random.default_rng(seed)


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) == 1:
        return shape[0], 1
    nout, nin = shape[0], int(np.prod(shape[1:]))
    return nin, nout


def xavier_uniform(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Uniform in ``±sqrt(6 / (nin + nout))`` (Glorot).

    >>> xavier_uniform((3, 2), np.random.default_rng(0)).shape
    (3, 2)
    """
    nin, nout = _fans(shape)
    limit = np.sqrt(6.0 / (nin + nout))
    return rng.uniform(-limit, limit, size=shape)


def xavier_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Normal with std ``sqrt(2 / (nin + nout))`` (Glorot).

    >>> xavier_normal((3, 2), np.random.default_rng(0)).shape
    (3, 2)
    """
    nin, nout = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / (nin + nout)), size=shape)


def he_normal(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Normal with std ``sqrt(2 / nin)`` (He / Kaiming).

    >>> w = he_normal((2000, 50), np.random.default_rng(0))
    >>> round(float(w.std() * np.sqrt(50 / 2)), 1)
    1.0
    """
    nin, _ = _fans(shape)
    return rng.normal(0.0, np.sqrt(2.0 / nin), size=shape)


def he_uniform(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Uniform in ``±sqrt(6 / nin)`` (He / Kaiming).

    >>> he_uniform((3, 2), np.random.default_rng(0)).shape
    (3, 2)
    """
    nin, _ = _fans(shape)
    limit = np.sqrt(6.0 / nin)
    return rng.uniform(-limit, limit, size=shape)


def uniform(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Uniform in ``[-1, 1]`` (micrograd's choice for single neurons).

    >>> bool(np.abs(uniform((5,), np.random.default_rng(0))).max() <= 1)
    True
    """
    return rng.uniform(-1.0, 1.0, size=shape)


def zeros(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """All zeros (biases; the classic perceptron).

    >>> zeros((2,), np.random.default_rng(0)).tolist()
    [0.0, 0.0]
    """
    return np.zeros(shape)


INITIALIZERS: dict[str, Callable[[tuple[int, ...], np.random.Generator], np.ndarray]] = {
    "xavier_uniform": xavier_uniform,
    "xavier": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_normal": he_normal,
    "he": he_normal,
    "he_uniform": he_uniform,
    "uniform": uniform,
    "zeros": zeros,
}


def init_for(activation: str | None) -> str:
    """The initialiser name suited to a layer followed by ``activation``.

    >>> init_for("leaky_relu"), init_for("sigmoid"), init_for(None)
    ('he_normal', 'xavier_uniform', 'xavier_uniform')
    """
    return "he_normal" if activation in RELU_LIKE else "xavier_uniform"


def get_initializer(init: Any) -> Callable[[tuple[int, ...], np.random.Generator], np.ndarray]:
    """An initialiser from its name (see ``INITIALIZERS``) or a callable ``(shape, rng) -> array``.

    >>> get_initializer("he") is he_normal
    True
    >>> get_initializer("nope")
    Traceback (most recent call last):
    ...
    ValueError: unknown init 'nope'; choose one of ['he', ...] or pass a callable ...
    """
    if callable(init):
        return init
    if isinstance(init, str) and init in INITIALIZERS:
        return INITIALIZERS[init]
    raise ValueError(
        f"unknown init {init!r}; choose one of {sorted(INITIALIZERS)} "
        "or pass a callable (shape, rng) -> array"
    )
