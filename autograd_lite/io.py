"""Save and load a module's parameters as ``.npz`` — no pickle, atomic, all-or-nothing.

* ``save(module, path)`` writes ``module.state_dict()`` (keys = parameter names)
  to a temporary file in the same folder and renames it over ``path``
  (``os.replace``), so a crash never leaves a half-written checkpoint behind.
* ``load(module, path)`` reads with ``allow_pickle=False`` (a file cannot run
  code), checks every key and shape, and only then changes the module. A
  missing file, a corrupt or truncated file, a missing or extra key or a wrong
  shape raises an error naming the path and key, and the module is unchanged.
* ``save_checkpoint(module, optimizer, path)`` / ``load_checkpoint(...)`` do the same
  for a model and its optimizer's ``state_dict()`` together, to resume training.

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
    return _write(_path(path, "save"), module.state_dict(), "save")


def _path(path: Any, who: str) -> Any:
    """``os.fspath(path)``, or a ``TypeError`` naming ``who`` (the function the caller called).

    >>> _path(None, "save")
    Traceback (most recent call last):
    ...
    TypeError: save: path must be a str or os.PathLike, got NoneType None
    """
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(
            f"{who}: path must be a str or os.PathLike, got {type(path).__name__} {path!r}"
        ) from None


def _write(path: str, arrays: dict[str, Any], who: str) -> str:
    """Write ``arrays`` to ``path`` as ``.npz`` through a temporary file renamed over it."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{who}: folder {folder!r} does not exist (saving {path!r})")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {path!r} is a folder; give the file's name")
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def read_state(path: str | os.PathLike[str], who: str = "load") -> dict[str, np.ndarray]:
    """The arrays stored in an ``.npz`` checkpoint, read without pickle.

    Raises ``FileNotFoundError`` for a missing file and :class:`CheckpointError`
    for a corrupt or truncated one, their messages starting with ``who`` (the
    function the caller called).

    >>> import os, tempfile
    >>> bad = os.path.join(tempfile.mkdtemp(), "bad.npz")
    >>> _ = open(bad, "wb").write(b"not a checkpoint")
    >>> read_state(bad)
    Traceback (most recent call last):
    ...
    autograd_lite.io.CheckpointError: load: .../bad.npz is not a valid .npz checkpoint ...
    """
    path = _path(path, who)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{who}: no checkpoint file at {path!r}")
    with open(path, "rb") as f:
        magic = f.read(6)
    if not (magic.startswith(b"PK") or magic == b"\x93NUMPY"):
        raise CheckpointError(
            f"{who}: {path} is not a valid .npz checkpoint (corrupt or truncated?): it does not "
            f"start like a zip archive (first bytes {magic!r})"
        )
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise CheckpointError(f"{who}: {path} holds a single array, not an .npz checkpoint")
        with archive:
            return {name: np.array(archive[name]) for name in archive.files}
    except CheckpointError:
        raise
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise CheckpointError(
                f"{who}: {path} contains pickled objects, which are refused (allow_pickle=False): "
                f"{exc}"
            ) from None
        raise CheckpointError(
            f"{who}: {path} is not a valid .npz checkpoint (corrupt or truncated?): {exc}"
        ) from None
    except Exception as exc:  # BadZipFile, EOFError, OSError, zlib.error ...
        raise CheckpointError(
            f"{who}: {path} is not a valid .npz checkpoint (corrupt or truncated?): "
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


# A checkpoint of training: the model's arrays under "model/<name>", the optimizer's state
# arrays under "optimizer/<i>/<key>", and the rest of its state_dict (step counts,
# hyper-parameters) as JSON text in "optimizer/meta": still no pickle anywhere.
_MODEL, _OPT, _META = "model/", "optimizer/", "optimizer/meta"


def save_checkpoint(
    module: Any, optimizer: Any, path: str | os.PathLike[str], scheduler: Any = None
) -> str:
    """Write a model's parameters and its optimizer's ``state_dict()`` to one ``.npz``.

    Atomic and without pickle, as :func:`save`; :func:`load_checkpoint` resumes
    both, so that training continues bit for bit as if never stopped. A
    learning-rate ``scheduler`` (``optim.LRScheduler``) is saved with them if given.

    >>> import os, tempfile
    >>> import autograd_lite as al
    >>> from autograd_lite import nn, optim
    >>> net = nn.Linear(3, 2, seed=0)
    >>> opt = optim.Adam(net.parameters(), lr=0.01)
    >>> net(al.Value(np.ones((4, 3)))).sum().backward(); opt.step()
    >>> path = save_checkpoint(net, opt, os.path.join(tempfile.mkdtemp(), "run.npz"))
    >>> net2 = nn.Linear(3, 2, seed=5); opt2 = optim.Adam(net2.parameters())
    >>> _ = load_checkpoint(net2, opt2, path)
    >>> bool((net2.weight.data == net.weight.data).all()), opt2.lr, opt2.state[0]["step"]
    (True, 0.01, 1)
    """
    import json

    if not hasattr(module, "state_dict"):
        raise TypeError(
            f"save_checkpoint: expected a Module with state_dict(), got {type(module).__name__}"
        )
    if not hasattr(optimizer, "load_state_dict"):
        raise TypeError(f"save_checkpoint: expected an optimizer, got {type(optimizer).__name__}")
    if scheduler is not None and not hasattr(scheduler, "_checked_state"):
        raise TypeError(
            f"save_checkpoint: expected an optim.LRScheduler, got {type(scheduler).__name__}"
        )
    sd = optimizer.state_dict()
    arrays = {_MODEL + k: v for k, v in module.state_dict().items()}
    counts: dict[str, dict[str, Any]] = {}
    for i, entry in sd["state"].items():
        for key, v in entry.items():
            if isinstance(v, np.ndarray):
                arrays[f"{_OPT}{i}/{key}"] = v
            elif isinstance(v, (bool, int, float)):
                counts.setdefault(str(i), {})[key] = v
            else:
                raise TypeError(
                    f"save_checkpoint: optimizer state[{i}][{key!r}] is a {type(v).__name__}; "
                    "only arrays and numbers can be stored"
                )
    meta = {k: v for k, v in sd.items() if k != "state"}
    meta["counts"] = counts
    if scheduler is not None:
        meta["scheduler"] = scheduler.state_dict()
    arrays[_META] = np.array(json.dumps(meta))
    return _write(_path(path, "save_checkpoint"), arrays, "save_checkpoint")


def load_checkpoint(
    module: Any, optimizer: Any, path: str | os.PathLike[str], scheduler: Any = None
) -> Any:
    """Resume a model and its optimizer from :func:`save_checkpoint`; returns the module.

    Everything (the file, the model's keys and shapes, the optimizer's and the
    ``scheduler``'s ``load_state_dict`` checks) is checked before anything changes:
    on an error (:class:`CheckpointError`, naming the path) the model, the
    optimizer and the scheduler are all as they were.

    >>> import os, tempfile
    >>> from autograd_lite import nn, optim
    >>> net = nn.Linear(3, 2, seed=0)
    >>> path = save_checkpoint(net, optim.SGD(net.parameters(), lr=0.1),
    ...                        os.path.join(tempfile.mkdtemp(), "run.npz"))
    >>> load_checkpoint(net, optim.Adam(net.parameters()), path)
    Traceback (most recent call last):
    ...
    autograd_lite.io.CheckpointError: load_checkpoint: ...: the state_dict is an SGD's, not an ...
    """
    import json

    path = _path(path, "load_checkpoint")
    stored = read_state(path, who="load_checkpoint")
    if _META not in stored:
        raise CheckpointError(
            f"load_checkpoint: {path} holds no optimizer state (made by save(), not "
            "save_checkpoint()?)"
        )
    try:
        meta = json.loads(str(stored[_META]))
        state: dict[int, dict[str, Any]] = {}
        for name, v in stored.items():
            if name.startswith(_OPT) and name != _META:
                i, key = name[len(_OPT) :].split("/", 1)
                state.setdefault(int(i), {})[key] = v
        for i, entry in meta.pop("counts").items():
            state.setdefault(int(i), {}).update(entry)
        meta["state"] = state
        sched_sd = meta.pop("scheduler", None)
        if scheduler is not None and sched_sd is None:
            raise ValueError("it holds no scheduler state (saved without scheduler=)")
        sched_new = None if scheduler is None else scheduler._checked_state(sched_sd)
        apply = optimizer._loader(meta)  # checked first: nothing changes on an error
        module.load_state_dict(
            {k[len(_MODEL) :]: v for k, v in stored.items() if k.startswith(_MODEL)}
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise CheckpointError(f"load_checkpoint: {path}: {msg}") from None
    apply()
    if scheduler is not None:
        scheduler._apply(sched_new)
    return module
