"""Sphinx configuration: MyST Markdown pages, the lecture notebooks, API reference.

Every figure in these docs is made by code at build time (``make_figures.py``): graph
pictures with ``autograd_lite.viz.render``, plots with matplotlib's Agg backend. Nothing
here touches the network (no intersphinx).

The lecture notebooks (``notebooks/*.ipynb`` at the top of the repository, stored without
outputs) are copied into ``docs/notebooks/`` and rendered by MyST-NB, which executes them
in a Jupyter kernel while the docs build (``nb_execution_mode = "auto"``: every notebook
without outputs runs). The test suite's docs build passes ``-D nb_execution_mode=off``:
there each notebook is executed by its own test instead (``tests/test_notebooks.py``).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))
os.environ.setdefault("MPLBACKEND", "Agg")

import make_figures  # noqa: E402

import autograd_lite  # noqa: E402

project = "autograd_lite"
author = "autograd_lite developers"
copyright = "2025, autograd_lite developers"  # noqa: A001
release = autograd_lite.__version__
version = release

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "_figures", "Thumbs.db", ".DS_Store"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# The notebooks: executed in a kernel of this interpreter's environment (their kernelspec
# is "python3"), in a temporary directory (the exercises write their worksheets there);
# a cell that raises fails the build.
nb_execution_mode = "auto"
nb_execution_timeout = 300
nb_execution_in_temp = True
nb_execution_raise_on_error = True
nb_execution_show_tb = True

html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"autograd_lite {release}"


def copy_notebooks(source: Path = ROOT / "notebooks", target: Path = DOCS / "notebooks") -> None:
    """Mirror the lecture notebooks into the docs source tree (keeping their times)."""
    target.mkdir(exist_ok=True)
    wanted = {p.name for p in source.glob("*.ipynb")}
    for stale in target.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()
    for name in sorted(wanted):
        shutil.copy2(source / name, target / name)


# Figures are generated from the code on every build, into docs/_figures/.
make_figures.main(DOCS / "_figures")
copy_notebooks()
