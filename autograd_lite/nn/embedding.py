"""``Embedding``: a lookup table of learned vectors, one row per token (PyTorch's layout).

``emb(indices)`` returns ``weight[indices]``: integer indices of any shape give
vectors of shape ``indices.shape + (embedding_dim,)``. The gradient adds up in the
rows that were looked up (repeated indices add). Rows start as N(0, 1), as PyTorch's.

>>> import numpy as np
>>> from autograd_lite import nn
>>> emb = nn.Embedding(10, 3, seed=0)
>>> emb([[1, 2], [2, 9]]).shape
(2, 2, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..value import Value
from . import init as _init
from .layers import _positive
from .module import Module, Parameter


class Embedding(Module):
    """``num_embeddings`` vectors of size ``embedding_dim``; ``.weight`` (num, dim).

    >>> import numpy as np
    >>> emb = Embedding(4, 2, seed=0)
    >>> out = emb(np.array([3, 3]))
    >>> out.sum().backward()
    >>> emb.weight.grad[3].tolist(), emb.weight.grad[0].tolist()
    ([2.0, 2.0], [0.0, 0.0])
    >>> emb([4])
    Traceback (most recent call last):
    ...
    IndexError: Embedding(4, 2): index 4 is out of range for 4 embeddings
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        dtype: Any = np.float64,
    ) -> None:
        self.num_embeddings = _positive(num_embeddings, "Embedding: num_embeddings")
        self.embedding_dim = _positive(embedding_dim, "Embedding: embedding_dim")
        gen = _init.make_rng(rng, seed)
        w = gen.standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
        self.weight = Parameter(w, label="E")

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"

    def forward(self, indices: Any) -> Value:
        idx = np.asarray(indices.data if isinstance(indices, Value) else indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(
                f"Embedding({self.extra_repr()}): indices must be integers, got dtype {idx.dtype}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
            raise IndexError(
                f"Embedding({self.extra_repr()}): index {bad} is out of range for "
                f"{self.num_embeddings} embeddings"
            )
        return self.weight[idx]
