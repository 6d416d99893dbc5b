"""Remove outputs, execution counts and widget state from notebooks, in place.

The lecture notebooks are committed without outputs (the test suite checks it): run
``make notebooks-strip`` (or ``python notebooks/strip_outputs.py FILE.ipynb ...``) after
working in Jupyter and before committing. Prints the notebooks it changed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def strip(nb: nbformat.NotebookNode) -> bool:
    """Clear the outputs of ``nb`` in place; return whether anything was removed."""
    changed = nb.metadata.pop("widgets", None) is not None
    for cell in nb.cells:
        for key in ("execution", "collapsed", "scrolled"):
            changed |= cell.metadata.pop(key, None) is not None
        if cell.cell_type == "code":
            changed |= bool(cell.outputs) or cell.execution_count is not None
            cell.outputs = []
            cell.execution_count = None
    return changed


def main(paths: list[str]) -> int:
    if not paths:
        paths = [str(p) for p in sorted(Path(__file__).parent.glob("*.ipynb"))]
    for name in paths:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        if strip(nb):
            nbformat.write(nb, path)
            print(f"stripped {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
