"""Helpers several test files share: the examples as modules, docs code blocks, fresh interpreters.

Test files import them as ``from support import ...`` (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


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
