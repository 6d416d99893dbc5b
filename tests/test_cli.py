"""The autograd-lite command line: each command works, and every mistake is one clear line."""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from support import run_python

import autograd_lite as al
from autograd_lite import __version__, cli
from autograd_lite.registry import SymCase

ROOT = Path(__file__).resolve().parent.parent


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("autograd-lite: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# ------------------------------------------------------------------ top level
def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"autograd-lite {__version__}"


@pytest.mark.parametrize("command", [None, "demo", "train", "graph", "check", "replay", "exercise"])
def test_help_of_every_command(capsys, command):
    argv = ["--help"] if command is None else [command, "--help"]
    code, out, _ = run(capsys, *argv)
    assert code == 0
    assert out.startswith("usage: autograd-lite")
    if command is None:
        for name in ("demo", "train", "graph", "check", "replay", "exercise"):
            assert name in out


def test_no_command_is_a_one_line_error(capsys):
    code, _, err = run(capsys)
    assert code == 2
    assert_one_line_error(code, err, "COMMAND")


def test_unknown_command_and_option(capsys):
    code, _, err = run(capsys, "fly")
    assert_one_line_error(code, err, "invalid choice", "fly")
    code, _, err = run(capsys, "graph", "x", "--colour", "red")
    assert_one_line_error(code, err, "unrecognized arguments", "--colour")


def test_teaching_commands_are_registered_and_errors_stay_one_line(capsys, tmp_path):
    code, out, err = run(capsys, "exercise", "--list")
    assert code == 0, err
    assert "swimming_perceptron" in out
    code, _, err = run(capsys, "replay", "x +* 2", "--set", "x=1", "-o", str(tmp_path / "r"))
    assert_one_line_error(code, err, "x +* 2")


def test_module_runs_as_a_program():
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_lite.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"autograd-lite {__version__}"


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'autograd-lite = "autograd_lite.cli:main"' in text


def test_error_from_a_subprocess_has_no_traceback(tmp_path):
    proc = run_python(
        "-m", "autograd_lite.cli", "graph", "x +* 2", "--set", "x=1", cwd=tmp_path, timeout=120
    )
    assert proc.returncode == 2
    assert_one_line_error(proc.returncode, proc.stderr, "x +* 2")


# ---------------------------------------------------------------------- graph
def test_graph_writes_svg_and_prints_gradients(capsys, tmp_path):
    out_file = tmp_path / "neuron.svg"
    code, out, err = run(
        capsys,
        "graph",
        "sigmoid(w*x + b)",
        "--set",
        "w=0.5",
        "--set",
        "x=2",
        "--set",
        "b=-1.5",
        "-o",
        str(out_file),
    )
    assert code == 0, err
    root = ET.fromstring(out_file.read_text(encoding="utf-8"))
    assert root.tag.endswith("svg")
    text = out_file.read_text(encoding="utf-8")
    for label in ("w", "x", "b"):
        assert f">{label}<" in text
    # Values and gradients printed match the math, checked by central differences.
    f = lambda w, x, b: sigmoid(w * x + b)
    h = 1e-6
    expected = {
        "w": (f(0.5 + h, 2, -1.5) - f(0.5 - h, 2, -1.5)) / (2 * h),
        "x": (f(0.5, 2 + h, -1.5) - f(0.5, 2 - h, -1.5)) / (2 * h),
        "b": (f(0.5, 2, -1.5 + h) - f(0.5, 2, -1.5 - h)) / (2 * h),
    }
    lines = dict(line.strip().split(" = ") for line in out.splitlines() if " = " in line)
    assert float(lines["sigmoid(w*x + b)"]) == pytest.approx(f(0.5, 2, -1.5), rel=1e-5)
    for name, value in expected.items():
        assert float(lines[f"d/d{name}"]) == pytest.approx(value, rel=1e-5)
    assert f"wrote {out_file}" in out


def test_graph_png_and_dot_formats(capsys, tmp_path):
    png = tmp_path / "g.png"
    code, _, err = run(capsys, "graph", "tanh(x)", "--set", "x=0.5", "-o", str(png))
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot = tmp_path / "g.txt"
    code, _, err = run(capsys, "graph", "x*x", "--set", "x=3", "-o", str(dot), "--format", "dot")
    assert code == 0, err
    text = dot.read_text(encoding="utf-8")
    assert text.lstrip().startswith("digraph")
    assert "->" in text


def test_graph_vector_values_differentiate_the_sum(capsys, tmp_path):
    code, out, err = run(
        capsys, "graph", "relu(z)", "--set", "z=-1,0,2", "-o", str(tmp_path / "r.svg")
    )
    assert code == 0, err
    grad_line = next(line for line in out.splitlines() if "d/dz" in line)
    grads = np.array([float(v) for v in grad_line.split("=")[1].strip(" []").split(",")])
    np.testing.assert_array_equal(grads, [0.0, 1.0, 1.0])  # lecture: relu'(0) = 1


def test_graph_no_backward(capsys, tmp_path):
    code, out, err = run(
        capsys, "graph", "exp(x)", "--set", "x=0", "--no-backward", "-o", str(tmp_path / "e.svg")
    )
    assert code == 0, err
    assert "d/dx" not in out
    assert "exp(x) = 1" in out


def test_graph_without_values_draws_the_structure(capsys, tmp_path):
    out_file = tmp_path / "g.svg"
    code, out, err = run(capsys, "graph", "tanh(w*x + b)", "-o", str(out_file))
    assert code == 0, err
    text = out_file.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    texts = [t.text for t in root.iter() if t.tag.endswith("text") and t.text]
    for label in ("w", "x", "b", "tanh", "+", "×"):
        assert label in texts, (label, texts)
    # Six values (w, x, b, w*x, w*x + b, the output), none of them known.
    assert texts.count("data ?") == 6, texts
    assert not [t for t in texts if t.startswith(("grad", "∂"))], texts
    assert "tanh(w*x + b) = ?" in out
    assert "w, x, b" in out and "--set" in out
    assert "d/d" not in out


def test_graph_with_some_values_marks_only_what_depends_on_the_rest(capsys, tmp_path):
    dot = tmp_path / "g.dot"
    code, out, err = run(
        capsys, "graph", "w*x + c*c", "--set", "w=2", "--set", "c=3", "-o", str(dot)
    )
    assert code == 0, err
    labels = dict(
        line.strip().split(" [label=", 1)
        for line in dot.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("v") and "[label=" in line
    )
    fields = sorted(label.split('"')[1] for label in labels.values())
    assert fields == sorted(
        ["out | data ?", "data ?", "data 9", "x | data ?", "w | data 2", "c | data 3"]
    )
    assert "no values for x" in out


def test_graph_of_a_constant_expression(capsys, tmp_path):
    code, out, err = run(capsys, "graph", "2 + 3", "-o", str(tmp_path / "c.dot"))
    assert code == 0, err
    assert "2 + 3 = 5" in out


def test_graph_error_with_unknown_values_says_which(capsys, tmp_path, monkeypatch):
    from autograd_lite import formula

    def refuse(text, env):
        raise ValueError(f"formula {text!r}: cannot be built")

    monkeypatch.setattr(formula, "to_value", refuse)
    code, _, err = run(capsys, "graph", "w*x", "--set", "w=1", "-o", str(tmp_path / "g.svg"))
    assert_one_line_error(code, err, "cannot be built", "no values for x", "--set")


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["graph", "x +* 2", "--set", "x=1"], ["x +* 2", "not a valid expression"]),
        (["graph", "tanh"], ["function 'tanh' used without calling it"]),
        (["graph", "x.__class__", "--set", "x=1"], ["attribute"]),
        (["graph", "sum(x)", "--set", "x=1"], ["unknown function 'sum'"]),
        (["graph", "x", "--set", "x"], ["--set 'x'", "NAME=VALUE"]),
        (["graph", "x", "--set", "x=abc"], ["'abc' is not a number"]),
        (["graph", "x", "--set", "1x=2"], ["not a valid variable name"]),
        (["graph", "x", "--set", "x=1", "--set", "x=2"], ["already set"]),
        (["graph", "x", "--set", "x=1", "--format", "gif"], ["invalid choice", "gif"]),
        # a typo for w drew w as unknown (or printed d/dW = 0) and exited 0
        (["graph", "w*x", "--set", "W=1"], ["--set W", "no variable 'W'", "variables: w, x"]),
        (["graph", "2 + 3", "--set", "x=1"], ["no variable 'x'", "variables: none"]),
    ],
)
def test_graph_errors_are_one_line(capsys, tmp_path, argv, needles):
    out_file = tmp_path / "never.svg"
    code, _, err = run(capsys, *argv, "-o", str(out_file))
    assert_one_line_error(code, err, *needles)
    assert not out_file.exists()


def test_graph_refuses_code_and_runs_nothing(capsys, tmp_path):
    marker = tmp_path / "pwned"
    expr = f"__import__('os').system('touch {marker}')"
    code, _, err = run(capsys, "graph", expr, "--set", "x=1", "-o", str(tmp_path / "g.svg"))
    assert_one_line_error(code, err, "__import__")
    assert not marker.exists()


def test_graph_unknown_suffix_and_unwritable_path(capsys, tmp_path):
    code, _, err = run(capsys, "graph", "x", "--set", "x=1", "-o", str(tmp_path / "g.xyz"))
    assert_one_line_error(code, err, "xyz")
    missing = tmp_path / "no" / "such" / "dir" / "g.svg"
    code, _, err = run(capsys, "graph", "x", "--set", "x=1", "-o", str(missing))
    assert_one_line_error(code, err, "could not write")
    code, _, err = run(capsys, "graph", "x", "--set", "x=1", "--format", "dot", "-o", str(missing))
    assert_one_line_error(code, err, "could not write")


def test_graph_without_a_renderer_says_what_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRAD_LITE_DOT", str(tmp_path / "no-such-dot"))
    code, _, err = run(capsys, "graph", "x", "--set", "x=1", "-o", str(tmp_path / "g.svg"))
    assert code == 1
    assert_one_line_error(code, err, "graphviz")


def test_debug_variable_shows_the_traceback(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOGRAD_LITE_DOT", str(tmp_path / "no-such-dot"))
    monkeypatch.setenv("AUTOGRAD_LITE_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["graph", "x", "--set", "x=1", "-o", str(tmp_path / "g.svg")])


def test_parse_assignment():
    assert cli.parse_assignment(" w = 4, 2, 4 ")[0] == "w"
    np.testing.assert_array_equal(cli.parse_assignment("w=[4,2,4]")[1], [4.0, 2.0, 4.0])
    assert cli.parse_assignment("x=1e-3") == ("x", 0.001)
    with pytest.raises(cli.CLIError, match="expected NAME=VALUE"):
        cli.parse_assignment("=3")


# ---------------------------------------------------------------------- train
def test_train_tiny_run_reports_accuracy_and_writes_plot(capsys, tmp_path):
    plot = tmp_path / "hist.png"
    code, out, err = run(
        capsys,
        "train",
        "--epochs",
        "3",
        "--limit",
        "300",
        "--hidden",
        "32",
        "--plot",
        str(plot),
    )
    assert code == 0, err
    accuracy = float(out.split("test accuracy:")[1].split()[0])
    assert 0.6 < accuracy <= 1.0  # chance is 0.1
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert "training" in err and "batch" in err  # the tqdm progress bar


def test_train_sgd_without_progress_bar(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "train",
        "--epochs",
        "1",
        "--limit",
        "100",
        "--optimizer",
        "sgd",
        "--activation",
        "tanh",
        "--no-progress",
        "--plot",
        str(tmp_path / "p.png"),
    )
    assert code == 0, err
    assert "batch" not in err
    assert "(tanh)" in out


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--epochs", "0"], ["--epochs", "must be positive"]),
        (["--epochs", "many"], ["--epochs", "not an integer"]),
        (["--lr", "-1"], ["--lr", "positive"]),
        (["--lr", "nan"], ["--lr", "positive"]),
        (["--hidden"], ["--hidden"]),
        (["--optimizer", "rmsprop"], ["invalid choice", "rmsprop"]),
        (["--activation", "wiggle", "--epochs", "1", "--limit", "50"], ["--activation", "wiggle"]),
        (["--val-fraction", "1"], ["--val-fraction", "fraction in [0, 1)"]),
        (["--val-fraction", "0.9", "--limit", "5"], ["--val-fraction 0.9", "leaves none"]),
    ],
)
def test_train_errors_are_one_line(capsys, tmp_path, argv, needles):
    code, _, err = run(capsys, "train", *argv, "--plot", str(tmp_path / "p.png"), "--no-progress")
    assert_one_line_error(code, err, *needles)
    assert not (tmp_path / "p.png").exists()


def test_train_validates_on_held_out_training_digits_and_tests_on_the_test_split(monkeypatch):
    from autograd_lite import datasets, training

    seen = {}
    real_fit = training.fit

    def spy_fit(model, loss, optimizer, data, *args, validation=None, **kwargs):
        seen["fit"], seen["val"] = data, validation
        return real_fit(model, loss, optimizer, data, *args, validation=validation, **kwargs)

    monkeypatch.setattr(training, "fit", spy_fit)
    r = cli.train_digits(epochs=2, limit=400, plot=None, progress=False, val_fraction=0.25)
    digits = datasets.load_digits(seed=0)
    rows = lambda X: {x.tobytes() for x in X}  # the 1,797 digits are distinct images
    (X_fit, y_fit), (X_val, y_val) = seen["fit"], seen["val"]
    assert (len(X_fit), len(X_val)) == (r["n_train"], r["n_val"]) == (300, 100)
    # Training and validation digits partition the first 400 training digits ...
    assert rows(X_fit) | rows(X_val) == rows(digits.X_train[:400])
    assert not rows(X_fit) & rows(X_val)
    # ... and the test digits are none of them.
    assert not rows(digits.X_test) & (rows(X_fit) | rows(X_val))
    # Stratified: each class keeps its share (a quarter of its digits, to within one).
    share = np.bincount(digits.y_train[:400], minlength=10) / 4
    assert np.abs(np.bincount(y_val, minlength=10) - share).max() <= 1
    assert len(y_fit) == 300
    # The reported numbers: validation from the history, test measured on the test split.
    assert r["val_accuracy"] == r["history"]["val_accuracy"][-1]
    predicted = np.argmax(r["model"](al.Value(digits.X_test)).data, axis=1)
    assert r["test_accuracy"] == pytest.approx(np.mean(predicted == digits.y_test))
    assert r["n_test"] == len(digits.X_test) == 360


def test_train_prints_validation_and_test_accuracy(capsys, tmp_path):
    argv = ["train", "--epochs", "1", "--limit", "200", "--no-progress"]
    code, out, err = run(capsys, *argv, "--plot", str(tmp_path / "p.png"))
    assert code == 0, err
    assert "on 180 training digits" in out
    assert "20 digits held out from the training data" in out
    assert 0.0 <= float(out.split("validation accuracy:")[1].split()[0]) <= 1.0
    assert "360 test digits never seen in training" in out
    code, out, err = run(capsys, *argv, "--val-fraction", "0", "--plot", str(tmp_path / "q.png"))
    assert code == 0, err
    assert "validation accuracy" not in out and "on 200 training digits" in out


def test_train_unwritable_plot(capsys, tmp_path):
    bad = tmp_path / "missing" / "p.png"
    code, _, err = run(
        capsys, "train", "--epochs", "1", "--limit", "50", "--no-progress", "--plot", str(bad)
    )
    assert_one_line_error(code, err, "could not write")


# ----------------------------------------------------------------------- demo
def test_demo_writes_pictures_in_the_working_directory(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "demo")
    assert code == 0, err
    assert "go swimming" in out
    svg = tmp_path / "perceptron_graph.svg"
    png = tmp_path / "perceptron_graph.png"
    assert ET.fromstring(svg.read_text(encoding="utf-8")).tag.endswith("svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_demo_out_dir(capsys, tmp_path):
    code, _, err = run(capsys, "demo", "--out-dir", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "perceptron_graph.svg").exists()


# ---------------------------------------------------------------------- check
def test_check_prints_every_op_of_the_table_green(capsys):
    from autograd_lite.registry import all_ops

    code, out, err = run(capsys, "check")
    assert code == 0, out + err
    lines = out.splitlines()
    rows = {line.split()[0]: line.split()[1:3] for line in lines[2:-1]}
    assert set(rows) == {op.name for op in all_ops()}  # every op, structural ones too
    for name in ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "swish", "step"):
        assert rows[name] == ["elementwise", "ok"]
    for name in ("softmax", "log_softmax", "matmul", "sum", "getitem", "index_scatter"):
        assert rows[name] == ["structural", "ok"]
    n = len(all_ops())
    n_elem = sum(op.elementwise for op in all_ops())
    assert lines[-1] == (
        f"all {n} ops agree with SymPy ({n_elem} elementwise, {n - n_elem} structural; "
        "derivative order 1)"
    )


def test_check_order_two(capsys):
    code, out, _ = run(capsys, "check", "--order", "2", "softmax", "tanh")
    assert code == 0
    assert "derivative 2 matches SymPy" in out and "derivative order 2" in out.splitlines()[-1]


def test_check_selected_ops(capsys):
    code, out, _ = run(capsys, "check", "sigmoid", "tanh")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[2:-1]] == ["sigmoid", "tanh"]


def test_check_unknown_op_is_a_one_line_error(capsys):
    code, _, err = run(capsys, "check", "wiggle")
    assert_one_line_error(code, err, "wiggle")


def test_check_fails_on_a_wrong_derivative(capsys):
    from autograd_lite.registry import Op, register, unregister

    # sigmoid's formula, but a deliberately wrong derivative (out instead of out(1-out)).
    wrong = Op(
        "wrong_sigmoid_cli",
        forward=lambda z: 1.0 / (1.0 + np.exp(-z)),
        vjps=(lambda g, out, z: g * out,),
        formula="1/(1 + exp(-z))",
    )
    register(wrong)
    try:
        code, out, _ = run(capsys, "check", "wrong_sigmoid_cli", "sigmoid")
    finally:
        unregister("wrong_sigmoid_cli")
    assert code == 1
    assert "FAIL" in out and "wrong_sigmoid_cli" in out.splitlines()[-1]


def test_check_names_ops_without_a_sympy_definition(capsys):
    from autograd_lite.registry import Op, register, unregister

    register(Op("undefined_cli", forward=lambda z: z * 2.0, vjps=(lambda g, out, z: g * 2.0,)))
    broken = Op(
        "broken_def_cli",
        forward=lambda z: z.sum(),
        vjps=(lambda g, out, z: g * np.ones(np.shape(z)),),
        sympy_def=lambda sp, z, extra: z.sum(),  # one argument too many
        cases=(SymCase(((2,),)),),
    )
    register(broken)
    try:
        code, out, _ = run(capsys, "check")
    finally:
        unregister("undefined_cli")
        unregister("broken_def_cli")
    assert code == 1
    rows = {line.split()[0]: line for line in out.splitlines()[2:-1]}
    assert "NOT CHECKED" in rows["undefined_cli"] and "no SymPy definition" in rows["undefined_cli"]
    assert "NOT CHECKED" in rows["broken_def_cli"] and "cannot take sp" in rows["broken_def_cli"]
    assert rows["softmax"].split()[2] == "ok"
    assert out.splitlines()[-1].endswith("2 NOT CHECKED: undefined_cli, broken_def_cli")


def test_graph_edge_factors_and_layout(capsys, tmp_path):
    dot = tmp_path / "g.dot"
    code, _, err = run(capsys, "graph", "tanh(x*w)", "--set", "x=1", "--set", "w=2", "-o", str(dot))
    assert code == 0, err
    text = dot.read_text(encoding="utf-8")
    assert "∂" in text and "rankdir=LR" in text.replace(" ", "").replace('"', "")
    code, _, err = run(
        capsys,
        "graph",
        "tanh(x*w)",
        "--set",
        "x=1",
        "--set",
        "w=2",
        "-o",
        str(dot),
        "--no-edge-factors",
        "--rankdir",
        "TB",
    )
    assert code == 0, err
    text = dot.read_text(encoding="utf-8")
    assert "∂" not in text and "rankdir=TB" in text.replace(" ", "").replace('"', "")


def test_graph_pdf_by_suffix_or_option(capsys, tmp_path):
    for out_file, extra in ((tmp_path / "g.pdf", []), (tmp_path / "g_noext", ["--format", "pdf"])):
        code, _, err = run(
            capsys,
            "graph",
            "relu(x)*w",
            "--set",
            "x=1",
            "--set",
            "w=2",
            "-o",
            str(out_file),
            *extra,
        )
        assert code == 0, err
        assert out_file.read_bytes()[:5] == b"%PDF-"
