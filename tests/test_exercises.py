"""Exercise mode: answer sheets match finite differences, grading, pictures, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.cli import main
from autograd_lite.teaching.exercises import (
    EXERCISES,
    delta_rule,
    exercise,
    get_exercise,
    grade,
    softmax_output,
    swimming_perceptron,
)
from autograd_lite.teaching.replay import all_nodes, node_ids


def evaluate(output: al.Value, overrides: dict[int, np.ndarray]) -> float:
    """Recompute the graph's forward pass with some node values replaced (op.forward only)."""
    values: dict[int, object] = {}
    for node in all_nodes(output):
        if id(node) in overrides:
            values[id(node)] = overrides[id(node)]
        elif node._op is None:
            values[id(node)] = node.data
        else:
            n = len(node.parents)
            inputs = [values[id(p)] for p in node.parents]
            values[id(node)] = node._op.forward(*inputs, *node._args[n:])
    return float(np.sum(values[id(output)]))


def fd_grad(output: al.Value, node: al.Value, eps: float = 1e-6) -> np.ndarray:
    """∂output/∂node by central differences, treating ``node`` as an input."""
    base = np.array(node.data, dtype=float)
    grad = np.zeros_like(base)
    for k in np.ndindex(base.shape):
        plus, minus = base.copy(), base.copy()
        plus[k] += eps
        minus[k] -= eps
        wrap = (lambda a: float(a)) if base.ndim == 0 else (lambda a: a)
        fp = evaluate(output, {id(node): wrap(plus)})
        fm = evaluate(output, {id(node): wrap(minus)})
        grad[k] = (fp - fm) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", list(EXERCISES))
def test_answer_sheet_matches_finite_differences(name):
    out, _ = get_exercise(name)
    ex = exercise(out, hide=("data", "grad"))
    by_id = {v: k for k, v in node_ids(out).items()}
    nodes = {id(n): n for n in all_nodes(out)}
    assert ex.blanks, "an exercise without blanks"
    for b in ex.blanks:
        node = nodes[by_id[b.node_id]]
        if b.field == "grad":
            if name == "swimming_perceptron" and node is not out:
                # the step function has derivative 0 everywhere but at 0 (the convention)
                np.testing.assert_allclose(b.expected, 0.0)
                continue
            np.testing.assert_allclose(b.expected, fd_grad(out, node), rtol=1e-5, atol=1e-8)
        else:
            assert node._op is not None, "leaf data must stay visible"
            np.testing.assert_allclose(b.expected, node.data)


def test_swimming_perceptron_is_the_lectures():
    y = swimming_perceptron()
    z = y.parents[0]
    assert (z.label, z.data, y.data) == ("z", 5.0, 1.0)  # lecture: 4·1 + 2·0 + 4·1 − 3
    ex = exercise("swimming_perceptron")
    assert ex.hide == ("data",)
    assert {b.name for b in ex.blanks} >= {"z", "y", "w1x1"}


def test_softmax_gradient_blank():
    L = softmax_output(target=1)
    ex = exercise(L)
    z_blank = next(b for b in ex.blanks if b.name == "z")
    z = next(n for n in all_nodes(L) if n.label == "z")
    np.testing.assert_allclose(z_blank.expected, fd_grad(L, z), rtol=1e-6)
    assert np.sum(z_blank.expected) == pytest.approx(0.0, abs=1e-12)


def test_grade_accepts_correct_answers_and_names_a_wrong_node():
    E = delta_rule()
    sheet = exercise(E).answer_sheet()
    assert grade(sheet, E).ok
    ids = node_ids(E)
    w = next(n for n in all_nodes(E) if n.label == "w")
    wid = ids[id(w)]
    wrong = json.loads(json.dumps(sheet))
    wrong["answers"][wid]["grad"][1] += 0.01  # the middle weight's gradient
    report = grade(wrong, E)
    assert not report.ok
    assert [f.node_id for f in report.failures] == [wid]
    fb = report.failures[0]
    assert fb.name == "w" and fb.field == "grad"
    assert f"✗ {wid} w grad: expected" in fb.message and "given" in fb.message
    assert report.correct == len(report) - 1
    assert report.score == pytest.approx((len(report) - 1) / len(report))
    assert "score:" in str(report)


def test_tolerance():
    E = delta_rule()
    sheet = exercise(E).answer_sheet()
    y = next(k for k, v in sheet["answers"].items() if v["label"] == "y")
    sheet["answers"][y]["grad"] *= 1.0005
    assert grade(sheet, E, rtol=1e-3).ok
    assert not grade(sheet, E, rtol=1e-4).ok


def test_answers_by_label_missing_and_malformed():
    L = softmax_output()
    key = exercise(L).answer_sheet()["answers"]
    z = next(v for v in key.values() if v["label"] == "z")
    report = grade({"z": z["grad"], "L": 1.0, "p": "lots"}, L)
    verdicts = {f.name: f for f in report}
    assert verdicts["z"].ok and verdicts["L"].ok
    assert not verdicts["p"].ok and "not a number" in verdicts["p"].message
    assert not verdicts["p0"].ok and "missing" in verdicts["p0"].message
    shape = grade({"z": [0.1, 0.2]}, L)
    assert "expected shape (3,)" in next(f for f in shape if f.name == "z").message


def test_worksheet_roundtrip_through_files(tmp_path):
    ex = exercise("two_layer", path=tmp_path, format="dot")
    answers = json.loads((tmp_path / "answers.json").read_text())
    worksheet = json.loads((tmp_path / "worksheet.json").read_text())
    assert answers["answers"].keys() == worksheet["answers"].keys()
    assert all(v.get("grad", 0) is None for v in worksheet["answers"].values()), (
        "the worksheet must not contain solutions"
    )
    assert grade(tmp_path / "answers.json", "two_layer").ok
    empty = grade(str(tmp_path / "worksheet.json"), "two_layer")
    assert empty.correct == 0 and len(empty) == len(ex.blanks)
    assert ex.picture == tmp_path / "exercise.dot"


def test_picture_hides_the_values(tmp_path):
    E = delta_rule()
    ex = exercise(E, hide=("data", "grad"))
    dot = ex.to_dot()
    from autograd_lite.teaching.replay import format_number

    hidden = [format_number(np.asarray(b.expected)) for b in ex.blanks]
    distinctive = [t for t in hidden if len(t) >= 5]  # e.g. 0.6225, not 1 or 0.5
    assert len(distinctive) >= 6
    for text in distinctive:
        assert text not in dot
    assert dot.count("grad ______") == sum(b.field == "grad" for b in ex.blanks)
    assert dot.count("data ______") == sum(b.field == "data" for b in ex.blanks)
    assert "[1, 0, 1]" in dot  # the inputs stay visible
    paths = ex.write(tmp_path, "svg")
    assert paths["picture"].read_text().lstrip().startswith(("<?xml", "<svg"))


def test_exercise_and_grade_errors(tmp_path):
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        exercise("nope")
    with pytest.raises(ValueError, match="hide must name 'data' and/or 'grad'"):
        exercise("delta_rule", hide=("answers",))
    with pytest.raises(TypeError, match="expected a Value or the name"):
        exercise(3.0)
    with pytest.raises(ValueError, match="does not require a gradient"):
        exercise(al.Value(1.0, requires_grad=False) + 1)
    with pytest.raises(ValueError, match="rtol must be"):
        exercise("delta_rule", rtol=-1)
    with pytest.raises(ValueError, match="picture format"):
        exercise("delta_rule").write(tmp_path, "jpg")
    with pytest.raises(TypeError, match="answers must be a dict"):
        grade([1, 2], "delta_rule")
    with pytest.raises(FileNotFoundError, match="no answer file"):
        grade(tmp_path / "none.json", "delta_rule")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        grade(bad, "delta_rule")
    with pytest.raises(ValueError, match="no node labelled or numbered 'q'"):
        grade({"q": 1.0}, "delta_rule")
    with pytest.raises(ValueError, match="no node labelled or numbered 'mul'"):
        grade({"mul": 1.0}, "two_layer")
    with pytest.raises(ValueError, match="has blanks \\['data', 'grad'\\]"):
        grade({"y": 1.0}, "delta_rule", hide=("data", "grad"))


def test_ambiguous_label():
    a = al.Value(1.0, label="t")
    b = al.Value(2.0, label="t")
    out = a * b
    with pytest.raises(ValueError, match="label 't' names 2 nodes"):
        grade({"t": 2.0}, out)


# ------------------------------------------------------------------ the CLI


def test_cli_exercise_and_grade(tmp_path, capsys):
    assert main(["exercise", "delta_rule", "-o", str(tmp_path), "--format", "dot"]) == 0
    assert (tmp_path / "worksheet.json").exists()
    assert main(["exercise", "delta_rule", "--grade", str(tmp_path / "answers.json")]) == 0
    out = capsys.readouterr().out
    assert "score: 8/8 (100%)" in out
    assert main(["exercise", "--list"]) == 0
    assert "softmax_output" in capsys.readouterr().out


def test_cli_replay(tmp_path, capsys):
    code = main(["replay", "x*x + sigmoid(x)", "--set", "x=1.5", "-o", str(tmp_path), "--html"])
    assert code == 0
    assert (tmp_path / "replay.html").exists()
    assert sorted(p.name for p in tmp_path.glob("frame_*.svg")) == [
        f"frame_{i:03d}.svg" for i in range(4)
    ]
    assert "running sum" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["exercise", "nope"], "no exercise named 'nope'"),
        (["exercise"], "give the NAME of an exercise"),
        (["exercise", "delta_rule", "--hide", "foo"], "hide must name"),
        (["exercise", "delta_rule", "--grade", "/nonexistent/a.json"], "no answer file"),
        (["replay", "x +* 2", "--set", "x=1"], "not a valid expression"),
        (["replay", "x*x"], "no variables given"),
        (["replay", "2*3", "--set", "x=1"], "uses none of the variables"),
        (["replay", "x*x", "--set", "x=1", "--no-svg"], "nothing to write"),
        (["replay", "x*x", "--set", "x=1", "--set", "x=2"], "'x' was already set"),
    ],
)
def test_cli_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_public_names():
    from autograd_lite.teaching import exercises

    assert al.exercise is exercises.exercise and al.grade is exercises.grade
    x = al.Value(1.0, label="x")
    report = al.audit(x.tanh())  # still callable
    assert report.ok and report.checks[0].op == "tanh"
