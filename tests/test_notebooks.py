"""The lecture notebooks (notebooks/*.ipynb): stored clean, and each one runs in a real kernel.

Every notebook is executed by nbclient in an IPython kernel started with *this*
interpreter: the ``kernel_dirs`` fixture (conftest.py) writes its own kernel spec
(``sys.executable -m ipykernel_launcher``) into a temporary directory, so a ``python3``
kernel installed elsewhere on the machine is never picked up and a fresh clone needs
nothing but ``make test``.

Cells carry tags that say what they must show: ``graph`` cells display a computation
graph as SVG (``image/svg+xml``, from ``Value._repr_svg_`` or ``al.viz``), ``plot`` cells
a matplotlib figure (``image/png``, the inline backend draws with Agg), and ``solution``
cells grade a worked answer with ``al.grade``, which must score 100 %.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support import execute

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Notebooks that train for more than a few seconds (still run by `make test` and CI).
SLOW = {"06_cnn_and_rnn"}
# What a kernel may print on stderr on a fresh machine without anything being wrong.
BENIGN = re.compile(r"Matplotlib is building the font cache|^\s*$")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def test_the_lecture_is_six_numbered_notebooks():
    names = [p.stem for p in NOTEBOOKS]
    assert len(names) >= 6, names
    assert [n[:3] for n in names[:6]] == ["01_", "02_", "03_", "04_", "05_", "06_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    """Outputs belong to a run, not to the repository (`make notebooks-strip` removes them)."""
    import nbformat

    nb = load(path)
    nbformat.validate(nbformat.from_dict(nb))
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell["outputs"] or cell["execution_count"] is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts"
    assert "widgets" not in nb["metadata"], f"{path.name}: widget state stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_a_title_exercises_and_graded_solutions(path):
    nb = load(path)
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and source(first).startswith("# "), path.name
    code = "\n".join(source(c) for c in code_cells(nb))
    assert "al.exercise(" in code and "al.grade(" in code, f"{path.name} has no graded exercise"
    assert any("solution" in tags(c) for c in code_cells(nb)), f"{path.name}: no solution cell"


PUBLIC_IMPORT = re.compile(r"^\s*(?:import autograd_lite as al|from autograd_lite import )")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_only_public_names(path):
    """Only ``al.<public name>``: modules may move (e.g. the teaching tools) without breaking it."""
    import autograd_lite as al

    public = set(al.__all__)
    for cell in code_cells(load(path)):
        text = source(cell)
        for line in text.splitlines():
            if "autograd_lite" in line:
                assert PUBLIC_IMPORT.match(line), f"{path.name}: {line.strip()!r}"
            if line.lstrip().startswith("from autograd_lite import "):
                names = line.split(" import ", 1)[1].replace(" ", "").split(",")
                assert set(names) <= public, f"{path.name}: {line.strip()!r}"
        assert not re.search(r"\bal\._", text), f"{path.name} reaches a private name"


def mime_types(cell: dict) -> set[str]:
    return {m for out in cell["outputs"] for m in out.get("data", {})}


def text_output(cell: dict) -> str:
    parts = []
    for out in cell["outputs"]:
        if out["output_type"] == "stream":
            parts.append(out["text"])
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def params():
    for path in NOTEBOOKS:
        marks = [pytest.mark.slow] if path.stem in SLOW else []
        yield pytest.param(path, id=path.stem, marks=marks)


@pytest.mark.parametrize("path", list(params()))
def test_notebook_runs_in_a_kernel(path, kernel_dirs, tmp_path):
    import nbformat

    nb = execute(nbformat.read(path, as_version=4), kernel_dirs, tmp_path)
    cells = code_cells(nb)
    graphs = [c for c in cells if "graph" in tags(c)]
    assert graphs, f"{path.name} shows no graph"
    for cell in graphs:
        svgs = [out["data"].get("image/svg+xml", "") for out in cell["outputs"] if "data" in out]
        assert any("<svg" in "".join(svg) for svg in svgs), (
            f"{path.name}: graph cell shows no SVG:\n{source(cell)}\n{mime_types(cell)}"
        )
    for cell in (c for c in cells if "plot" in tags(c)):
        assert "image/png" in mime_types(cell), f"{path.name}: plot cell shows no figure"
    for cell in (c for c in cells if "solution" in tags(c)):
        assert re.search(r"score: (\d+)/\1 \(100%\)", text_output(cell)), (
            f"{path.name}: a worked solution does not grade 100 %:\n{text_output(cell)}"
        )
    for cell in cells:  # warnings are errors here (a fresh machine's font cache note is not)
        stderr = "".join(o["text"] for o in cell["outputs"] if o.get("name") == "stderr")
        stderr = "\n".join(line for line in stderr.splitlines() if not BENIGN.search(line))
        assert not stderr.strip(), f"{path.name}: a cell wrote to stderr:\n{stderr}"
