"""Imports point one way: engine ← viz / symbolic / nn ← teaching ← command line.

Every module of the package is parsed with ``ast``; its imports (``import``,
``from ... import``, also inside functions) and the module names it loads
dynamically (``importlib.import_module("autograd_lite.x")``,
``f"{__package__}.x"``) are checked against the layers below.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd_lite

PACKAGE = Path(autograd_lite.__file__).resolve().parent
ROOT = "autograd_lite"
MODULE_NAME = re.compile(r"autograd_lite(\.[A-Za-z_]\w*)+")

# The old names ``viz.replay`` and ``viz.lecture_example`` load the teaching tools on
# first use (viz/__init__.py, ``__getattr__``); nothing else may reach upwards.
ALLOWED_UPWARD = {
    ("autograd_lite.viz", "autograd_lite.teaching.lecture"),
    ("autograd_lite.viz", "autograd_lite.teaching.replay"),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def layer(module: str) -> str | None:
    """The layer a module of the package belongs to (None: the package's own __init__)."""
    if module == ROOT:
        return None
    if module in ("autograd_lite.cli", "autograd_lite.teaching.cli"):
        return "cli"
    for prefix, name in (
        ("autograd_lite.teaching", "teaching"),
        ("autograd_lite.viz", "viz"),
        ("autograd_lite.nn", "nn"),
        ("autograd_lite.training", "nn"),  # the training loop over nn's losses
        ("autograd_lite.symbolic", "symbolic"),
        # the SymPy side of the checks: structural Jacobians and the users' pytest helper
        ("autograd_lite.jacobian_check", "symbolic"),
        ("autograd_lite.testing", "symbolic"),
    ):
        if module == prefix or module.startswith(prefix + "."):
            return name
    return "engine"


# What each layer must never import.
FORBIDDEN = {
    "engine": {"viz", "nn", "symbolic", "teaching", "cli"},
    "viz": {"teaching", "cli"},
    "nn": {"teaching", "cli"},
    "symbolic": {"teaching", "cli"},
    "teaching": {"cli"},
    "cli": set(),
}


def _resolve(target: str) -> str:
    """The package module behind an import target (``a.b.name`` -> ``a.b`` if not a module)."""
    while target not in MODULES and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def imports_of(module: str, path: Path) -> set[str]:
    """Every package module ``module`` imports, statically or by name."""
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            found.add(source)
            found.update(f"{source}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if MODULE_NAME.fullmatch(node.value):
                found.add(node.value)
        elif isinstance(node, ast.JoinedStr):  # f"{__package__}.teaching.cli"
            values = node.values
            if (
                len(values) == 2
                and isinstance(values[0], ast.FormattedValue)
                and isinstance(values[0].value, ast.Name)
                and values[0].value.id == "__package__"
                and isinstance(values[1], ast.Constant)
            ):
                found.add(package + values[1].value)
    return {_resolve(t) for t in found if t == ROOT or t.startswith(ROOT + ".")} - {module}


def violations() -> tuple[list[str], set[tuple[str, str]]]:
    bad, allowed_seen = [], set()
    for module, path in MODULES.items():
        own = layer(module)
        if own is None:
            continue
        for target in sorted(imports_of(module, path)):
            theirs = layer(target)
            if theirs is None or theirs not in FORBIDDEN[own]:
                continue
            if (module, target) in ALLOWED_UPWARD:
                allowed_seen.add((module, target))
                continue
            bad.append(f"{module} ({own}) imports {target} ({theirs})")
    return bad, allowed_seen


def test_the_scan_sees_the_imports_it_must_judge() -> None:
    # The checker itself can fail: known edges of the package are found.
    assert "autograd_lite.teaching.replay" in imports_of(
        "autograd_lite.teaching.exercises", MODULES["autograd_lite.teaching.exercises"]
    )
    assert "autograd_lite.teaching.cli" in imports_of(
        "autograd_lite.cli", MODULES["autograd_lite.cli"]
    )
    assert "autograd_lite.graph" in imports_of(
        "autograd_lite.value", MODULES["autograd_lite.value"]
    )
    assert layer("autograd_lite.teaching.audit") == "teaching"
    assert layer("autograd_lite.viz.dot") == "viz"
    assert layer("autograd_lite.graph") == "engine"


def test_imports_point_one_way() -> None:
    bad, allowed_seen = violations()
    assert bad == [], "\n".join(bad)
    # Every exception is still used (a stale one would hide nothing, but says something false).
    assert allowed_seen == ALLOWED_UPWARD


def test_a_module_that_reaches_upwards_is_caught(tmp_path: Path) -> None:
    fake = tmp_path / "viz_extra.py"
    fake.write_text(
        "def f():\n    from ..teaching import exercises\n    return exercises\n", encoding="utf-8"
    )
    found = imports_of("autograd_lite.viz.extra", fake)
    assert "autograd_lite.teaching.exercises" in found
    assert layer("autograd_lite.teaching.exercises") in FORBIDDEN["viz"]


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        (
            "import autograd_lite as al\nx = al.Value(2.0, label='x')\n(x * x).tanh().backward()\n",
            ("autograd_lite.viz", "autograd_lite.nn", "autograd_lite.symbolic"),
        ),
        (
            "import autograd_lite as al\n"
            "from autograd_lite import nn, symbolic, viz\n"
            "y = (al.Value(1.0, label='x') * 3).sigmoid()\n"
            "y.backward()\n"
            "assert '->' in viz.to_dot(y, edge_factors=True)\n",
            ("autograd_lite.teaching", "autograd_lite.cli"),
        ),
    ],
)
def test_importing_a_lower_layer_loads_no_higher_one(code: str, absent: tuple[str, ...]) -> None:
    probe = code + "import sys\nprint(sorted(m for m in sys.modules if m.startswith('autograd')))\n"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    loaded = ast.literal_eval(out)  # the module names the probe printed
    assert "autograd_lite.value" in loaded
    for prefix in absent:
        assert not [m for m in loaded if m == prefix or m.startswith(prefix + ".")], loaded


def test_old_public_names_still_work() -> None:
    import autograd_lite as al
    from autograd_lite.teaching import exercises, lecture, replay
    from autograd_lite.teaching.audit import audit

    assert al.viz.replay is replay.replay
    assert al.viz.lecture_example is lecture.lecture_example
    assert al.exercise is exercises.exercise and al.grade is exercises.grade
    assert al.audit is audit
    from autograd_lite.viz import replay as replay_fn

    assert replay_fn is replay.replay
    frames = al.viz.replay(al.Value(2.0, label="x").tanh(), symbolic=False).frames
    assert [f.name for f in frames][-1] == "x"


def test_dir_lists_the_library_not_its_imports() -> None:
    import autograd_lite as al

    names = dir(al)
    assert {"Value", "tanh", "compile", "nn", "save_checkpoint"} <= set(names)
    assert not {"Any", "annotations", "importlib"} & set(names)
    assert names == sorted(names)
