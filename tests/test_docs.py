"""The docs build without warnings, and the code shown in them runs."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys

import numpy as np
import pytest
from support import ROOT, execute, python_blocks, run_python

# How the code of every page (README.md and docs/*.md) is checked; a new page must be added
# to one of the three tables (test_every_page_says_how_its_code_is_checked).
# Command lines in the pages' text blocks: every `autograd-lite ...` line runs as typed
# (test_command_lines_run), and lecture_notebooks.md's nbconvert line too; lines that set up
# or open things (`make demo`, `make test`, `pip install jupyterlab`, `jupyter lab`) do not.
#
# Pages whose python blocks run as one script, in order:
PAGES = [
    "README.md",
    "docs/quickstart.md",
    "docs/tutorial.md",
    "docs/symbolic_checks.md",
    "docs/networks.md",
    "docs/visualization.md",
    "docs/compile.md",  # and test_compile.py compares its listings with fast.source
]
# Pages whose code blocks another test runs, and which one (file, function):
ELSEWHERE = {
    # in a Jupyter kernel: its replay widget needs one; it prints what the page shows
    "docs/teaching.md": ("test_docs.py", "test_teaching_page_runs_in_a_kernel"),
    # with the lecture's w, x, b: the block is one line of the perceptron's forward pass
    "docs/architecture.md": ("test_docs.py", "test_architecture_fragment_runs"),
    # all blocks as one script, and what it prints
    "docs/higher_order.md": ("test_higher_order.py", "test_docs_page_snippets_run"),
    # each block on its own, as a reader pastes it (each has its own imports), and what it prints
    "docs/adding_an_activation.md": ("test_define_activation.py", "test_doc_snippets_run"),
    # ```pycon blocks: doctests, each output must be the one shown
    "docs/reliability.md": ("test_reliability.py", "test_reliability_page_snippets_run"),
}
# Pages without python code, and where what they show is checked instead:
NO_CODE = {
    "docs/index.md": "`make demo` and `make test`, the commands that run all of this",
    "docs/api.md": "autodoc; every docstring's example is a doctest (--doctest-modules)",
    "docs/activations.md": "a table docs/make_figures.py writes (run by the docs build)",
    "docs/chain_rule.md": "figures from make_figures.py; its command lines: test_command_lines_run;"
    " the numbers it reads off its picture: test_chain_rule_page_quotes_the_pictures_numbers",
    "docs/lecture_notebooks.md": "the notebooks run in test_notebooks.py; its hand-out command:"
    " test_handout_command_removes_the_solutions (installing and opening Jupyter Lab: not run)",
}
TESTS = ROOT / "tests"


def all_pages() -> list[str]:
    return ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]


def test_every_page_says_how_its_code_is_checked():
    tables = (set(PAGES), set(ELSEWHERE), set(NO_CODE))
    for page in all_pages():
        assert sum(page in t for t in tables) == 1, f"{page}: in none or several tables"
    assert set().union(*tables) == set(all_pages()), "a page in a table does not exist"
    for page in NO_CODE:
        fences = re.findall(r"^```(\S*)", (ROOT / page).read_text("utf-8"), flags=re.MULTILINE)
        code = [f for f in fences if f in ("python", "py", "pycon", "ipython", "{code-cell}")]
        assert not code, f"{page} now shows python code: run it (PAGES or ELSEWHERE)"
    for page, (file, function) in ELSEWHERE.items():
        source = (TESTS / file).read_text(encoding="utf-8")
        assert f"def {function}(" in source and page.removeprefix("docs/") in source, page


@pytest.mark.parametrize("page", PAGES)
def test_code_blocks_run(page, tmp_path):
    blocks = python_blocks(ROOT / page)
    assert blocks, f"{page} shows no python code"
    script = tmp_path / "page.py"
    script.write_text("\n\n".join(blocks), encoding="utf-8")
    proc = run_python(script, cwd=tmp_path)  # snippets that write files write them in tmp_path
    assert proc.returncode == 0, proc.stderr[-3000:]
    if page in PRINTED:
        PRINTED[page](proc.stdout.splitlines(), (ROOT / page).read_text(encoding="utf-8"))


def numbers(line: str) -> np.ndarray:
    """The numbers in a printed line (a float, an array's repr, several of them)."""
    return np.array(re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", line), dtype=float)


def quoted(text: str, pattern: str) -> str:
    """What the page's comment quotes: the first group of ``pattern`` in the page."""
    found = re.search(pattern, text)
    assert found, f"the page no longer says {pattern!r}: update its check"
    return found.group(1)


def lecture_delta(x, w, b, target=1.0) -> np.ndarray:
    """∂E/∂w = −e(1−y)y·x for y = σ(w·x + b), e = target − y, worked out with numpy."""
    y = 1 / (1 + np.exp(-(np.dot(w, x) + b)))
    e = target - y
    return -e * (1 - y) * y * np.asarray(x)


def readme_prints(lines: list[str], text: str) -> None:
    np.testing.assert_allclose(numbers(lines[0]), lecture_delta([1, 0, 1], [0.4, 0.2, 0.4], -0.3))
    assert lines[1] == "True"


def quickstart_prints(lines: list[str], text: str) -> None:
    y = np.tanh(2.0 * -3.0 + 1.0)
    assert "# tanh(-5)" in text
    np.testing.assert_allclose(numbers(lines[0]), [y])
    np.testing.assert_allclose(numbers(lines[1]), [(1 - y**2) * 2.0, (1 - y**2) * -3.0])


def tutorial_prints(lines: list[str], text: str) -> None:
    assert lines[0] == quoted(text, r"print\(z\.data, y\.data\)  # ([\d. ]+\d):")
    close_to = numbers(quoted(text, r"ravel\(\)\)  # close to (\[.*\])"))
    np.testing.assert_allclose(numbers(lines[1]), close_to, atol=0.1)
    # the page quotes a range ("about 0.97-0.98"): training's float sums follow BLAS's thread
    # count, which moves a few of the 360 test digits (0.969-0.983 measured)
    low, high = map(float, quoted(text, r"accuracy\"\]\)  # about ([\d.]+-[\d.]+)").split("-"))
    assert low - 0.01 <= float(lines[2]) <= high + 0.01, (lines[2], low, high)


# What the pages' print calls show, against the numbers their comments quote.
PRINTED = {
    "README.md": readme_prints,
    "docs/quickstart.md": quickstart_prints,
    "docs/tutorial.md": tutorial_prints,
}


def test_teaching_page_runs_in_a_kernel(kernel_dirs, tmp_path):
    """docs/teaching.md's code, one cell per block, in a Jupyter kernel as a teacher runs it.

    The replay's slider (``r.widget()``) is a real ipywidgets widget there, and what each
    block prints is the text the page shows beneath it (written for the docs build by
    ``write_doc_figures``, which also writes the student's worksheet the page grades).
    """
    import nbformat

    from autograd_lite.teaching.replay import write_doc_figures

    shown = tmp_path / "figures"
    write_doc_figures(shown)
    work = tmp_path / "page"
    work.mkdir()
    shutil.copy(shown / "teaching_exercise" / "worksheet_anna.json", work)
    blocks = python_blocks(ROOT / "docs" / "teaching.md")
    assert len(blocks) == 4, "replay, audit, exercise, grade: update the checks below"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(b) for b in blocks])
    replay, audit, exercise, grade = execute(nb, kernel_dirs, work).cells

    def printed(cell) -> str:
        streams = [o for o in cell.outputs if o.output_type == "stream"]
        assert all(o.name == "stdout" for o in streams), [o.text for o in streams]
        return "".join(o.text for o in streams)

    def page_text(name: str) -> str:
        return (shown / name).read_text(encoding="utf-8")

    assert printed(replay) == page_text("teaching_replay.txt")
    widget = [
        o for o in replay.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
    ]
    assert widget, f"r.widget() displayed no widget: {replay.outputs}"
    frames = sorted(p.name for p in (work / "replay").iterdir())
    assert frames == sorted(p.name for p in (shown / "teaching_replay").iterdir())
    assert (work / "replay.html").read_text(encoding="utf-8").count("<svg") >= len(frames)
    assert (work / "replay.gif").read_bytes().startswith(b"GIF8")

    assert printed(audit) == page_text("teaching_audit.txt")
    assert (work / "audit.svg").read_text(encoding="utf-8") == page_text("teaching_audit.svg")

    for name in ("exercise.svg", "worksheet.json", "answers.json", "exercise.dot"):
        assert (work / "exercise" / name).exists(), name
    assert printed(exercise) == ""
    assert printed(grade) == page_text("teaching_grade.txt")


def test_architecture_fragment_runs():
    """The forward pass docs/architecture.md follows, with the lecture's w, x, b: the nodes
    its steps name (``w @ x``, then ``+ b``, then ``.sigmoid()``) are the ones recorded."""
    import autograd_lite as al

    (code,) = python_blocks(ROOT / "docs" / "architecture.md")
    scope = {
        "x": al.Value([1.0, 0.0, 1.0], requires_grad=False),
        "w": al.Value([0.4, 0.2, 0.4]),
        "b": al.Value(-0.3),
    }
    exec(code, scope)
    y = scope["y"]
    (z,) = y.parents
    assert (y.op, z.op, [p.op for p in z.parents]) == ("sigmoid", "add", ["matmul", ""])
    assert y.data == pytest.approx(1 / (1 + np.exp(-0.5)))


def command_lines() -> list:
    """Every distinct ``autograd-lite ...`` line of the pages' text blocks, with its first page."""
    first: dict[str, str] = {}
    for page in all_pages():
        text = (ROOT / page).read_text(encoding="utf-8")
        for block in re.findall(r"^```text\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
            for line in block.splitlines():
                if line.startswith("autograd-lite "):
                    first.setdefault(shlex.join(shlex.split(line, comments=True)), page)
    slow = ("autograd-lite check", "autograd-lite train")  # several seconds each
    return [
        pytest.param(line, page, id=line, marks=[pytest.mark.slow] if line.startswith(slow) else [])
        for line, page in first.items()
    ]


@pytest.mark.parametrize(("line", "page"), command_lines())
def test_command_lines_run(line, page, tmp_path):
    """The commands the pages show (README's command line, chain_rule.md's, quickstart.md's,
    teaching.md's replay and exercises) run as typed, and write the file ``-o`` names."""
    args = shlex.split(line)[1:]
    if "--grade" in args:  # the student's worksheet teaching.md grades
        from autograd_lite.teaching.replay import write_doc_figures

        write_doc_figures(tmp_path / "figures")
        sheet = tmp_path / "figures" / "teaching_exercise" / "worksheet_anna.json"
        shutil.copy(sheet, tmp_path / args[args.index("--grade") + 1])
    proc = run_python("-m", "autograd_lite.cli", *args, cwd=tmp_path)
    assert proc.returncode == 0, f"{page}: {line}\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip(), f"{page}: {line} printed nothing"
    if "-o" in args:
        assert (tmp_path / args[args.index("-o") + 1]).exists(), f"{page}: {line} wrote nothing"


def test_chain_rule_page_quotes_the_pictures_numbers():
    """chain_rule.md reads e, y(1−y) and ∂E/∂A off its picture (the lecture's perceptron,
    drawn by make_figures.py): they are the values and gradients the engine computes."""
    from autograd_lite.teaching.lecture import sigmoid_perceptron

    text = (ROOT / "docs" / "chain_rule.md").read_text(encoding="utf-8")
    e = float(quoted(text, r"\$e = ([\d.]+)\$"))
    slope = float(quoted(text, r"\$y\(1-y\) = ([\d.]+)\$"))
    dA = float(quoted(text, r"\\cdot \(-1\) \\cdot [\d.]+ = (-[\d.]+)\$"))
    nodes = sigmoid_perceptron()
    nodes["E"].backward()
    y = nodes["y"].data
    assert round(nodes["e"].data, 4) == e and round(y * (1 - y), 3) == slope
    for name in ("A", "b"):  # "the grad shown at A, at b"
        assert round(nodes[name].grad, 5) == dA, name
    np.testing.assert_allclose(nodes["w"].grad.round(5), dA * np.array([1, 0, 1]))


def test_handout_command_removes_the_solutions(tmp_path):
    """lecture_notebooks.md's nbconvert command as typed (``python -m nbconvert`` for
    ``.venv/bin/jupyter nbconvert``), in a copy of the notebook's folder: the hand-out has
    every cell of the notebook but the ones tagged ``solution``."""
    import nbformat

    text = (ROOT / "docs" / "lecture_notebooks.md").read_text(encoding="utf-8")
    command = quoted(text, r"(\.venv/bin/jupyter nbconvert [^`]*?)\n```")
    args = shlex.split(command.replace("\\\n", " "))
    assert args[:2] == [".venv/bin/jupyter", "nbconvert"], args
    (notebook,) = [a for a in args if a.startswith("notebooks/")]
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / notebook, tmp_path / notebook)
    proc = run_python("-m", "nbconvert", *args[2:], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    cells = nbformat.read(ROOT / notebook, as_version=4).cells
    kept = [c.source for c in cells if "solution" not in c.metadata.get("tags", [])]
    assert len(kept) < len(cells), f"{notebook} has no solution cell to remove"
    handout = nbformat.read(tmp_path / "notebooks" / "handout.ipynb", as_version=4)
    assert [c.source for c in handout.cells] == kept


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
