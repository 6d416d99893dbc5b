"""``Dropout``: inverted dropout that follows the module's training mode.

In training each unit is kept with probability 1 − p and scaled by 1/(1 − p), so
the expected activation is unchanged; in ``eval()`` mode the layer is the identity.

>>> import numpy as np
>>> from autograd_lite import nn
>>> drop = nn.Dropout(0.5, seed=0)
>>> sorted(set(drop(np.ones(100)).data.tolist()))
[0.0, 2.0]
>>> drop.eval()(np.ones(3)).data.tolist()
[1.0, 1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..compiler.trace import reads_state
from ..image_ops import dropout
from ..value import Value
from . import init as _init
from .layers import _as_input
from .module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` while training (kept ones scaled by 1/(1−p)).

    ``rng``/``seed`` fix the masks (one generator, drawn from at every call).

    >>> Dropout(1.0)
    Traceback (most recent call last):
    ...
    ValueError: Dropout: p must be a probability in [0, 1), got 1.0
    """

    def __init__(
        self, p: float = 0.5, *, rng: np.random.Generator | None = None, seed: int | None = None
    ) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p!r}")
        self.p = float(p)
        self._rng = _init.make_rng(rng, seed)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, x: Any) -> Value:
        training = reads_state(self, "training")  # compiled code: traced again when it flips
        return dropout(_as_input(x), self.p, training=training, rng=self._rng)
