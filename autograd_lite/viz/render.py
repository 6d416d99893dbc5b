"""Turning DOT text into SVG, PNG or PDF files with a Graphviz renderer.

The renderer is found in this order:

1. the environment variable ``AUTOGRAD_LITE_DOT``: a path (or command name) of a
   ``dot``-compatible binary; when set, only it is used;
2. a system Graphviz ``dot`` on ``PATH``;
3. the ``graphviz-pure`` binary of the pip package of the same name (a
   dependency of autograd_lite): next to ``sys.executable``, or on ``PATH``.

The DOT text goes to the renderer's stdin (no shell, no temporary files) and the
call has a timeout, so a huge graph can never hang a lesson.

>>> import autograd_lite as al
>>> svg = to_svg(al.Value(2.0, label="x") * 3)
>>> "<svg" in svg and ">x</text>" in svg
True
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

from ..value import Value
from .dot import to_dot

ENV_VAR = "AUTOGRAD_LITE_DOT"
FORMATS = ("svg", "png", "pdf", "dot")
DEFAULT_TIMEOUT = 60.0
PNG_DPI = 144
MAX_PNG_INCHES = 80  # at PNG_DPI: at most 11,520 pixels a side

_INSTALL_HINT = (
    "install a Graphviz renderer: `pip install graphviz-pure` (pure pip, no system "
    "packages) or system Graphviz (e.g. `apt install graphviz`, `brew install graphviz`), "
    f"or set {ENV_VAR} to the path of a dot-compatible program"
)


class RendererNotFoundError(RuntimeError):
    """No working Graphviz renderer was found (the message says what to install)."""


def find_renderers() -> list[str]:
    """Candidate renderer programs, best first (see the module docstring).

    >>> all(isinstance(p, str) for p in find_renderers())
    True
    """
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        found = shutil.which(override)
        return [found or override]
    candidates: list[str] = []
    system_dot = shutil.which("dot")
    if system_dot:
        candidates.append(system_dot)
    bindir = Path(sys.executable).parent
    for name in ("graphviz-pure", "graphviz-pure.exe"):
        path = bindir / name
        if path.is_file() and os.access(path, os.X_OK):
            candidates.append(str(path))
    on_path = shutil.which("graphviz-pure")
    if on_path:
        candidates.append(on_path)
    unique: list[str] = []
    for c in candidates:
        if c not in unique:
            unique.append(c)
    return unique


def _run(program: str, source: str, fmt: str, timeout: float) -> bytes:
    args = [program, f"-T{fmt}"]
    if fmt == "png":
        # scale huge drawings down (size only ever shrinks): a 50,000-pixel PNG takes
        # long to rasterise and no viewer shows it
        args += [f"-Gdpi={PNG_DPI}", f"-Gsize={MAX_PNG_INCHES},{MAX_PNG_INCHES}"]
    try:
        done = subprocess.run(
            args,
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TimeoutError(
            f"renderer {program!r} took longer than {timeout:g} s on a graph of "
            f"{source.count(' [label=')} nodes; draw fewer nodes (to_dot max_nodes=...) "
            "or pass a larger timeout="
        ) from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(
            f"renderer {program!r} failed (exit code {done.returncode}) for format {fmt!r}: "
            f"{message[-500:] or 'no output'}"
        )
    return done.stdout


def _png_to_pdf(png: bytes) -> bytes:
    """Wrap a PNG picture into a one-page PDF (for renderers without a PDF writer)."""
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    image = imread(BytesIO(png), format="png")
    height, width = image.shape[:2]
    fig = Figure(figsize=(width / PNG_DPI, height / PNG_DPI), dpi=PNG_DPI)
    fig.figimage(image, 0, 0)
    buffer = BytesIO()
    fig.savefig(buffer, format="pdf", dpi=PNG_DPI)
    return buffer.getvalue()


def _render_bytes(source: str, fmt: str, timeout: float) -> bytes:
    if fmt == "dot":
        return source.encode("utf-8")
    programs = find_renderers()
    if not programs:
        raise RendererNotFoundError(
            "no Graphviz renderer found (looked for $AUTOGRAD_LITE_DOT, `dot` on PATH and "
            f"`graphviz-pure` next to {sys.executable} or on PATH); {_INSTALL_HINT}"
        )
    failures = []
    for program in programs:
        try:
            return _run(program, source, fmt, timeout)
        except TimeoutError:
            raise
        except OSError as exc:
            failures.append(f"{program}: {exc}")
        except RuntimeError as exc:
            if fmt == "pdf" and "not recognized" in str(exc):
                # graphviz-pure has no PDF writer: a PNG page in a PDF still prints fine
                try:
                    return _png_to_pdf(_run(program, source, "png", timeout))
                except RuntimeError as exc2:
                    failures.append(str(exc2))
            else:
                failures.append(str(exc))
    where = f" (from ${ENV_VAR})" if os.environ.get(ENV_VAR, "").strip() else ""
    raise RendererNotFoundError(
        f"no working Graphviz renderer{where}: " + "; ".join(failures) + f". {_INSTALL_HINT}"
    )


def render_dot(
    source: str,
    path: str | os.PathLike,
    format: str | None = None,  # noqa: A002 (the SPEC's name)
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Render DOT text to the file ``path`` (format from its suffix unless given).

    ``format="dot"`` (or a ``.dot``/``.gv`` suffix) writes the DOT text itself and
    needs no renderer.

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "g.dot"
    >>> render_dot("digraph { a -> b }", out).read_text()
    'digraph { a -> b }'
    """
    if not isinstance(source, str):
        raise TypeError(f"render_dot: source must be DOT text (str), got {type(source).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"render: path must be a str or os.PathLike, got {type(path).__name__} {path!r}"
        )
    path = Path(path)
    fmt = _format_for(path, format)
    folder = path.absolute().parent
    if not folder.is_dir():
        raise FileNotFoundError(f"render: folder '{folder}' does not exist (writing '{path}')")
    if path.is_dir():
        raise IsADirectoryError(f"render: '{path}' is a folder; give the file's name")
    data = _render_bytes(source, fmt, timeout)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _format_for(path: Path, format: str | None) -> str:  # noqa: A002
    if format is None:
        suffix = path.suffix.lower().lstrip(".")
        fmt = "dot" if suffix == "gv" else suffix
        if fmt not in FORMATS:
            raise ValueError(
                f"render: cannot tell the format from the file name {path.name!r}; "
                f"use a suffix among {', '.join('.' + f for f in FORMATS)} or pass format="
            )
        return fmt
    fmt = str(format).lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(f"render: format must be one of {FORMATS}, got {format!r}")
    return fmt


def render(
    value: Value,
    path: str | os.PathLike,
    format: str | None = None,  # noqa: A002 (the SPEC's name)
    *,
    timeout: float = DEFAULT_TIMEOUT,
    **to_dot_kwargs: Any,
) -> Path:
    """Draw the graph of ``value`` into the file ``path`` and return that path.

    The format comes from the suffix (``.svg``, ``.png``, ``.pdf``, ``.dot``)
    unless ``format`` is given; the file written is exactly ``path``. Other
    keyword arguments go to :func:`~autograd_lite.viz.to_dot` (``edge_factors``,
    ``highlight``, ``max_nodes``, ...). Raises :class:`RendererNotFoundError`
    naming what to install when no renderer works.

    >>> import tempfile, pathlib
    >>> import autograd_lite as al
    >>> x, w = al.Value(1.0, label="x"), al.Value(0.5, label="w")
    >>> y = (w * x).tanh()
    >>> y.backward()
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "y.svg"
    >>> render(y, out, edge_factors=True) == out
    True
    >>> out.read_text(encoding="utf-8").count('class="node"') >= 4
    True
    """
    source = to_dot(value, **to_dot_kwargs)
    return render_dot(source, path, format, timeout=timeout)


def to_svg(value: Value, *, timeout: float = DEFAULT_TIMEOUT, **to_dot_kwargs: Any) -> str:
    """The graph of ``value`` as SVG text (what Jupyter shows for a Value).

    >>> import autograd_lite as al
    >>> "∂/∂x = 2" in to_svg(al.Value(1.0, label="x") * 2, edge_factors=True)
    True
    """
    source = to_dot(value, **to_dot_kwargs)
    return _render_bytes(source, "svg", timeout).decode("utf-8")
