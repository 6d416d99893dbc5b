"""Helpers several test files share: the examples as modules, docs code blocks, fresh
interpreters, notebooks run in a Jupyter kernel.

Test files import them as ``from support import ...`` (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
KERNEL = "autograd-lite-test"


def load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def python_blocks(page: Path) -> list[str]:
    """The ```` ```python ```` code blocks of a Markdown page, in order."""
    text = page.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def run_python(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python *args`` in a fresh interpreter (ops it registers don't leak into other tests).

    Only this checkout on its path, no ``PATH`` (so no Graphviz or other programs), matplotlib
    without a display; ``timeout`` guards against a hang.
    """
    return subprocess.run(
        [sys.executable, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(ROOT), "PATH": "", "MPLBACKEND": "Agg"},
        timeout=timeout,
    )


def write_kernel_spec(root: Path) -> list[str]:
    """A kernel spec in ``root`` that runs *this* interpreter; returns the kernel dirs to search.

    A ``python3`` kernel installed elsewhere on the machine is never picked up, and a fresh
    clone needs nothing but ``make test`` (ipykernel is in the dev extras).
    """
    spec = root / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher"]
    spec.joinpath("kernel.json").write_text(
        json.dumps(
            {
                "argv": [*argv, "-f", "{connection_file}"],
                "display_name": "autograd_lite tests",
                "language": "python",
                "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
            }
        ),
        encoding="utf-8",
    )
    return [str(root)]


def execute(nb: dict, kernel_dirs: list[str], cwd: Path) -> dict:
    """Run every cell of the notebook ``nb`` (an ``nbformat`` node) in a fresh kernel, in
    ``cwd``; raise ``CellExecutionError`` (naming the cell) on the first cell that fails."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    km = KernelManager(
        kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=kernel_dirs)
    )
    client = NotebookClient(
        nb, km=km, timeout=300, resources={"metadata": {"path": str(cwd)}}, allow_errors=False
    )
    client.execute()
    return nb
