"""The docs build without warnings, and the code shown in them runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from support import ROOT, python_blocks, run_python

# Pages whose python blocks run as one script, in order. Not here: higher_order.md and
# adding_an_activation.md (their own tests run them), compile.md (its listings are compared
# with fast.source), teaching.md (its replay widget needs Jupyter's ipywidgets), and
# architecture.md (a fragment of the perceptron's forward pass, shown, not run).
PAGES = [
    "README.md",
    "docs/quickstart.md",
    "docs/tutorial.md",
    "docs/symbolic_checks.md",
    "docs/networks.md",
    "docs/visualization.md",
    "docs/compile.md",
]


@pytest.mark.parametrize("page", PAGES)
def test_code_blocks_run(page, tmp_path):
    blocks = python_blocks(ROOT / page)
    assert blocks, f"{page} shows no python code"
    script = tmp_path / "page.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    proc = run_python(script, cwd=tmp_path)  # snippets that write files write them in tmp_path
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_readme_example_is_ten_lines_and_draws(tmp_path):
    (code,) = python_blocks(ROOT / "README.md")
    assert len(code.strip().splitlines()) <= 11  # the import plus ten lines
    script = tmp_path / "readme.py"
    script.write_text(code, encoding="utf-8")
    proc = run_python(script, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "E.svg").read_text(encoding="utf-8").lstrip().startswith("<")
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "True"  # sigmoid's derivative agrees with SymPy


def test_readme_picture_is_the_generated_one():
    svg = ROOT / "docs" / "_static" / "perceptron_graph.svg"
    text = svg.read_text(encoding="utf-8")
    assert "graphviz" in text.lower()  # produced by the renderer, not drawn by hand
    for label in (">E<", ">w<", ">A<", ">y<"):
        assert label in text


def test_every_toctree_page_exists():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    trees = re.findall(r"```\{toctree\}\n(.*?)```", index, flags=re.DOTALL)
    names = [
        line.strip()
        for tree in trees
        for line in tree.splitlines()
        if line.strip() and not line.strip().startswith(":")
    ]
    assert "api" in names and "tutorial" in names
    missing = [n for n in names if not (ROOT / "docs" / f"{n}.md").exists()]
    assert not missing, f"pages in the toctree without a file: {missing}"


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path):
    """``sphinx -W`` on a copy of docs/ (the build writes its figures next to the sources).

    The notebooks are rendered but not executed here (``nb_execution_mode=off``): each one
    is executed in a kernel by its own test in test_notebooks.py; ``make docs`` runs them.
    """
    import shutil

    work = tmp_path / "src"
    shutil.copytree(
        ROOT / "docs",
        work / "docs",
        ignore=shutil.ignore_patterns("_build", "_figures", "notebooks"),
    )
    for name in ("autograd_lite", "examples", "notebooks"):  # conf.py finds them next to docs/
        (work / name).symlink_to(ROOT / name, target_is_directory=True)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-D",
            "nb_execution_mode=off",
            "-d",
            str(tmp_path / "doctrees"),
            str(work / "docs"),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "", "MPLBACKEND": "Agg", "HOME": str(tmp_path)},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    html = tmp_path / "html"
    assert "act_sigmoid.png" in (html / "activations.html").read_text(encoding="utf-8")
    assert "softmax_jacobian.png" in (html / "symbolic_checks.html").read_text(encoding="utf-8")
    assert (html / "_images" / "perceptron_graph.svg").exists()
    api = (html / "api.html").read_text(encoding="utf-8")
    assert "autograd_lite.value.Value" in api  # autodoc found the docstrings
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):  # every notebook rendered
        first_cell = json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"]
        title = "".join(first_cell).splitlines()[0].removeprefix("# ")
        page = (html / "notebooks" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        assert title in page, f"{notebook.name} is not rendered in the docs"
