"""Sphinx configuration: MyST Markdown pages, API reference from docstrings.

Every figure in these docs is made by code at build time (``make_figures.py``): graph
pictures with ``autograd_lite.viz.render``, plots with matplotlib's Agg backend. Nothing
here touches the network (no intersphinx).
"""

from __future__ import annotations

import os
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
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "markdown"}
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
exclude_patterns = ["_build", "_figures", "Thumbs.db", ".DS_Store"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True

html_theme = "alabaster"
html_static_path = ["_static"]
html_title = f"autograd_lite {release}"

# Figures are generated from the code on every build, into docs/_figures/.
make_figures.main(DOCS / "_figures")
