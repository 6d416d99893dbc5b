"""Save and load a module's parameters as ``.npz`` — no pickle, atomic, all-or-nothing.

* ``save(module, path)`` writes ``module.state_dict()`` (keys = parameter names)
  to a temporary file in the same folder and renames it over ``path``
  (``os.replace``), so a crash never leaves a half-written checkpoint behind.
* ``load(module, path)`` reads with ``allow_pickle=False`` (a file cannot run
  code), checks every key and shape, and only then changes the module. A
  missing file, a corrupt or truncated file, a missing or extra key or a wrong
  shape raises an error naming the path and key, and the module is unchanged.

>>> import os, tempfile
>>> import autograd_lite as al
>>> from autograd_lite import nn
>>> a, b = nn.Linear(3, 2, seed=0), nn.Linear(3, 2, seed=1)
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> al.save(a, path) == path
True
>>> _ = al.load(b, path)
>>> bool((a.weight.data == b.weight.data).all())
True
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np


class CheckpointError(ValueError):
    """A checkpoint file cannot be used: corrupt, truncated, or not matching the module."""


def save(module: Any, path: str | os.PathLike[str]) -> str:
    """Write the module's parameters to ``path`` (exactly that name) as ``.npz``; returns the path.

    >>> import os, tempfile
    >>> from autograd_lite import nn
    >>> p = save(nn.Linear(2, 2, seed=0), os.path.join(tempfile.mkdtemp(), "w.npz"))
    >>> sorted(np.load(p).files)
    ['bias', 'weight']
    """
    if not hasattr(module, "state_dict"):
        raise TypeError(f"save: expected a Module with state_dict(), got {type(module).__name__}")
    path = os.fspath(path)
    state = module.state_dict()
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder!r} does not exist (saving {path!r})")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **state)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def read_state(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The arrays stored in an ``.npz`` checkpoint, read without pickle.

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError`
    for a corrupt or truncated one.

    >>> import os, tempfile
    >>> bad = os.path.join(tempfile.mkdtemp(), "bad.npz")
    >>> _ = open(bad, "wb").write(b"not a checkpoint")
    >>> read_state(bad)
    Traceback (most recent call last):
    ...
    autograd_lite.io.CheckpointError: load: .../bad.npz is not a valid .npz checkpoint ...
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint file at {path!r}")
    with open(path, "rb") as f:
        magic = f.read(6)
    if not (magic.startswith(b"PK") or magic == b"\x93NUMPY"):
        raise CheckpointError(
            f"load: {path} is not a valid .npz checkpoint (corrupt or truncated?): it does not "
            f"start like a zip archive (first bytes {magic!r})"
        )
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise CheckpointError(f"load: {path} holds a single array, not an .npz checkpoint")
        with archive:
            return {name: np.array(archive[name]) for name in archive.files}
    except CheckpointError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise CheckpointError(
                f"load: {path} contains pickled objects, which are refused (allow_pickle=False): "
                f"{exc}"
            ) from None
        raise CheckpointError(
            f"load: {path} is not a valid .npz checkpoint (corrupt or truncated?): {exc}"
        ) from None
    except Exception as exc:  # BadZipFile, EOFError, OSError, zlib.error ...
        raise CheckpointError(
            f"load: {path} is not a valid .npz checkpoint (corrupt or truncated?): "
            f"{type(exc).__name__}: {exc}"
        ) from None


def load(module: Any, path: str | os.PathLike[str], strict: bool = True) -> Any:
    """Load parameters saved by :func:`save` into ``module``; returns the module.

    Everything is checked before anything changes: on any error the module
    keeps its old parameters.

    >>> import os, tempfile
    >>> from autograd_lite import nn
    >>> p = save(nn.Linear(2, 3, seed=0), os.path.join(tempfile.mkdtemp(), "w.npz"))
    >>> load(nn.Linear(2, 4, seed=0), p)
    Traceback (most recent call last):
    ...
    autograd_lite.io.CheckpointError: load: ...w.npz: ...key 'weight' has shape (3, 2), ...(4, 2)
    """
    if not hasattr(module, "load_state_dict"):
        raise TypeError(
            f"load: expected a Module with load_state_dict(), got {type(module).__name__}"
        )
    state = read_state(path)
    try:
        module.load_state_dict(state, strict=strict)
    except (KeyError, ValueError, TypeError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise CheckpointError(f"load: {os.fspath(path)}: {msg}") from None
    return module
