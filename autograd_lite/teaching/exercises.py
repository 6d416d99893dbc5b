"""Exercise mode: graphs with blanks for students, answer sheets, and grading.

:func:`exercise` takes a graph (or the name of a ready-made one) and hides the
values you choose — the gradients (``hide=("grad",)``), or the forward values
too (``hide=("data", "grad")``). It gives a picture with numbered blanks, a
JSON answer sheet for the teacher and a JSON worksheet for the student.
:func:`grade` scores a filled-in worksheet against the engine, node by node.

Node ids (``n0``, ``n1``, ...) follow a fixed walk of the graph (inputs before
outputs, arguments in order), so the same construction always gives the same
ids; students may also answer by a node's label when it is unique.

Expected values are computed by replaying the backward pass from the data the
nodes saved (:func:`autograd_lite.teaching.replay.backward_trace`): the graph's own
``.grad`` is never read or changed.

>>> import autograd_lite as al
>>> E = delta_rule()
>>> ex = exercise(E, hide=("grad",))
>>> [b.key for b in ex.blanks][:3]
['n2.grad', 'n4.grad', 'n5.grad']
>>> report = grade(ex.answer_sheet(), E)
>>> report.ok, report.score
(True, 1.0)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..graph import check_differentiable
from ..value import Value
from .lecture import sigmoid_perceptron

__all__ = [
    "EXERCISES",
    "Blank",
    "Exercise",
    "Feedback",
    "GradeReport",
    "delta_rule",
    "exercise",
    "get_exercise",
    "grade",
    "softmax_output",
    "swimming_perceptron",
    "two_layer",
]

FIELDS = ("data", "grad")
FORMAT = "autograd-lite exercise"


# ----------------------------------------------------------------- ready-made graphs


def swimming_perceptron() -> Value:
    """The lecture's swimming perceptron, element by element: y = step(Σ wᵢxᵢ + b).

    x = [warm water, empty beach, no shark attack] = [1, 0, 1], w = [4, 2, 4],
    b = −3: z = 5 and y = 1 (go swimming). Its gradients are all 0 (the step
    function's derivative), which is why the lecture moves on to the sigmoid.

    >>> y = swimming_perceptron()
    >>> y.label, y.data
    ('y', 1.0)
    """
    xs = [Value(v, label=f"x{i}", requires_grad=False) for i, v in enumerate((1.0, 0.0, 1.0), 1)]
    ws = [Value(v, label=f"w{i}") for i, v in enumerate((4.0, 2.0, 4.0), 1)]
    b = Value(-3.0, label="b")
    z = None
    for i, (w, x) in enumerate(zip(ws, xs), 1):
        term = w * x
        term.label = f"w{i}x{i}"
        z = term if z is None else z + term
    z = z + b
    z.label = "z"
    y = z.step()
    y.label = "y"
    return y


def delta_rule(target: float = 1.0) -> Value:
    """The sigmoid perceptron's error E = ½(ŷ − σ(w·x + b))², as in the delta rule.

    x = [1, 0, 1], w = [0.4, 0.2, 0.4], b = −0.3. Filling in the gradients
    reproduces ∂E/∂w = δ·x with δ = −e(1 − y)y.

    >>> import math
    >>> E = delta_rule()
    >>> y = 1 / (1 + math.exp(-(0.4 + 0.4 - 0.3)))
    >>> E.label, math.isclose(E.data, 0.5 * (1 - y) ** 2)
    ('E', True)
    """
    return sigmoid_perceptron(target=target)["E"]


def two_layer(target: float = 1.0) -> Value:
    """A 2-layer network 2 → 2 → 1 with sigmoids, E = ½(ŷ − y)², every weight a scalar.

    Small enough to do by hand: h_j = σ(w_j1·x1 + w_j2·x2 + b_j), y = σ(v1·h1 + v2·h2 + c).

    >>> E = two_layer()
    >>> E.label, round(E.data, 4)
    ('E', 0.0954)
    """
    x1 = Value(1.0, label="x1", requires_grad=False)
    x2 = Value(0.5, label="x2", requires_grad=False)
    weights = {"w11": 0.5, "w12": -0.3, "w21": 0.8, "w22": 0.2, "b1": 0.1, "b2": -0.4}
    p = {k: Value(v, label=k) for k, v in weights.items()}
    hidden = []
    for j in (1, 2):
        z = p[f"w{j}1"] * x1 + p[f"w{j}2"] * x2 + p[f"b{j}"]
        z.label = f"z{j}"
        h = z.sigmoid()
        h.label = f"h{j}"
        hidden.append(h)
    v1 = Value(0.7, label="v1")
    v2 = Value(-0.6, label="v2")
    c = Value(0.2, label="c")
    u = v1 * hidden[0] + v2 * hidden[1] + c
    u.label = "u"
    y = u.sigmoid()
    y.label = "y"
    e = target - y
    e.label = "e"
    E = 0.5 * e**2
    E.label = "E"
    return E


def softmax_output(target: int = 0) -> Value:
    """A softmax output with cross-entropy: L = −log softmax(z)[target], z = [2, 1, 0.1].

    The gradient to fill in is the classic ∂L/∂z = softmax(z) − one_hot(target).

    >>> L = softmax_output()
    >>> L.label, round(L.data, 4)
    ('L', 0.417)
    """
    z = Value([2.0, 1.0, 0.1], label="z")
    p = z.softmax()
    p.label = "p"
    pt = p[target]
    pt.label = f"p{target}"
    L = -pt.log()
    L.label = "L"
    return L


#: name -> (graph builder, default hidden fields, one-line description)
EXERCISES: dict[str, tuple[Callable[[], Value], tuple[str, ...], str]] = {
    "swimming_perceptron": (
        swimming_perceptron,
        ("data",),
        "forward pass of the lecture's step perceptron (go swimming?)",
    ),
    "delta_rule": (
        delta_rule,
        ("grad",),
        "backward pass of the sigmoid perceptron: ∂E/∂w = δ·x, δ = −e(1−y)y",
    ),
    "two_layer": (two_layer, ("grad",), "backward pass of a 2-2-1 sigmoid network"),
    "softmax_output": (
        softmax_output,
        ("grad",),
        "backward pass of softmax + cross-entropy: ∂L/∂z = p − one_hot",
    ),
}


def get_exercise(name: str) -> tuple[Value, tuple[str, ...]]:
    """Build the ready-made exercise ``name``: its output Value and default ``hide``.

    >>> E, hide = get_exercise("delta_rule")
    >>> E.label, hide
    ('E', ('grad',))
    """
    try:
        builder, hide, _ = EXERCISES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"no exercise named {name!r}; ready-made exercises: {', '.join(EXERCISES)}"
        ) from None
    return builder(), hide


# ----------------------------------------------------------------- blanks


@dataclass
class Blank:
    """One value hidden from the student.

    Attributes:
        node_id: ``n3``; ``label``: the node's label (may be ``""``); ``op``: op name.
        field: ``"data"`` or ``"grad"``; ``shape``: the value's shape.
        expected: the engine's value (float or nested list).
    """

    node_id: str
    label: str
    op: str
    field: str
    shape: tuple
    expected: Any

    @property
    def key(self) -> str:
        """``"n3.grad"``."""
        return f"{self.node_id}.{self.field}"

    @property
    def name(self) -> str:
        """Label, else op, else id."""
        return self.label or self.op or self.node_id


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.astype(float).tolist()
    if isinstance(x, (np.floating, np.integer)):
        return float(x)
    return float(x) if isinstance(x, (int, float)) else x


def _check_hide(hide: Any, what: str) -> tuple[str, ...]:
    if isinstance(hide, str):
        hide = (hide,)
    try:
        hide = tuple(hide)
    except TypeError:
        raise TypeError(
            f"{what}: hide must be a tuple of 'data'/'grad', got {type(hide).__name__}"
        ) from None
    bad = [h for h in hide if h not in FIELDS]
    if bad or not hide:
        raise ValueError(f"{what}: hide must name 'data' and/or 'grad', got {hide!r}")
    return tuple(f for f in FIELDS if f in hide)


def _resolve_output(output: Any, hide: Any, what: str) -> tuple[Value, tuple[str, ...], str]:
    if isinstance(output, str):
        value, default = get_exercise(output)
        return value, _check_hide(default if hide is None else hide, what), output
    if not isinstance(output, Value):
        raise TypeError(
            f"{what}: expected a Value or the name of a ready-made exercise, got "
            f"{type(output).__name__}"
        )
    check_differentiable(output, what, "make the parameters Values with requires_grad=True")
    return output, _check_hide(("grad",) if hide is None else hide, what), ""


def _blanks(output: Value, hide: tuple[str, ...]) -> tuple[list[Blank], dict[int, str], dict]:
    from .replay import all_nodes, backward_trace

    frames, ids = backward_trace(output)
    grads = {id(f.node): f.grad for f in frames}
    datas = {id(f.node): f.data for f in frames}
    blanks: list[Blank] = []
    for node in all_nodes(output):
        nid = ids[id(node)]
        if "data" in hide and node._op is not None:
            data = datas.get(id(node), node.data)
            blanks.append(Blank(nid, node.label, node.op, "data", np.shape(data), _jsonable(data)))
        if "grad" in hide and id(node) in grads:
            g = grads[id(node)]
            blanks.append(Blank(nid, node.label, node.op, "grad", np.shape(g), _jsonable(g)))
    return blanks, ids, grads


# ----------------------------------------------------------------- the exercise


class Exercise:
    """A graph with hidden values. Made by :func:`exercise`.

    Attributes:
        output: the graph's output; ``hide``: the hidden fields; ``name``: the
        ready-made exercise's name (or ``""``); ``blanks``: the hidden values;
        ``picture``: the path of the picture once written (else ``None``).
    """

    def __init__(
        self,
        output: Value,
        hide: tuple[str, ...],
        name: str = "",
        *,
        rtol: float = 1e-3,
        atol: float = 1e-6,
    ) -> None:
        self.output = output
        self.hide = hide
        self.name = name
        self.rtol = rtol
        self.atol = atol
        self.blanks, self.ids, self._grads = _blanks(output, hide)
        self.picture: Path | None = None

    def __repr__(self) -> str:
        return (
            f"<Exercise {self.name or self.output.label or 'graph'!r}: {len(self.blanks)} blanks>"
        )

    def answer_sheet(self) -> dict[str, Any]:
        """The teacher's key: node id -> label, op and the hidden values.

        >>> sheet = exercise(softmax_output()).answer_sheet()
        >>> sheet["answers"]["n0"]["label"], [round(v, 4) for v in sheet["answers"]["n0"]["grad"]]
        ('z', [-0.341, 0.2424, 0.0986])
        """
        return self._sheet(solutions=True)

    def worksheet(self) -> dict[str, Any]:
        """The student's sheet: the same keys, every hidden value ``null`` to fill in.

        >>> ws = exercise(softmax_output()).worksheet()
        >>> ws["answers"]["n0"]["grad"] is None
        True
        """
        return self._sheet(solutions=False)

    def _sheet(self, solutions: bool) -> dict[str, Any]:
        answers: dict[str, dict[str, Any]] = {}
        for b in self.blanks:
            entry = answers.setdefault(b.node_id, {"label": b.label, "op": b.op})
            entry[b.field] = b.expected if solutions else None
            if b.shape:
                entry.setdefault("shape", list(b.shape))
        return {
            "format": FORMAT,
            "version": 1,
            "exercise": self.name,
            "hide": list(self.hide),
            "rtol": self.rtol,
            "atol": self.atol,
            "instructions": (
                "Fill in every null with a number (a list for tensors). Nodes are named by "
                "their id in the picture; data is the forward value, grad is ∂output/∂node."
            ),
            "answers": answers,
        }

    def node_style(self, value: Value) -> dict[str, Any] | None:
        """``viz.to_dot`` hook: every node shows its id, hidden values as blanks."""
        from .replay import format_number

        nid = self.ids.get(id(value))
        if nid is None:
            return None
        if not value.requires_grad and value._op is None:
            text = format_number(value.data)
            if value.label:
                text = f"{value.label} = {text}"
            return {"label": f"{text}\n[{nid}]"}
        lines = [f"{value.label or value.op}  [{nid}]"]
        hidden = {b.field for b in self.blanks if b.node_id == nid}
        if "data" in hidden:
            lines.append("data ______")
        else:
            lines.append(f"data {format_number(value.data)}")
        if "grad" in hidden:
            lines.append("grad ______")
        elif "grad" not in self.hide and id(value) in self._grads:
            lines.append(f"grad {format_number(self._grads[id(value)])}")
        style: dict[str, Any] = {"label": "\n".join(lines)}
        if hidden:
            style["color"] = "#7c3aed"
            style["penwidth"] = "2"
        return style

    def to_dot(self, **to_dot_kwargs: Any) -> str:
        """DOT text of the exercise picture (values hidden, node ids shown).

        >>> dot = exercise(delta_rule()).to_dot()
        >>> "grad ______" in dot and "[n0]" in dot
        True
        """
        from ..viz import to_dot

        to_dot_kwargs.setdefault("show_grad", False)
        to_dot_kwargs.setdefault(
            "title", f"Exercise{': ' + self.name if self.name else ''} — fill in the blanks"
        )
        return to_dot(self.output, node_style=self.node_style, **to_dot_kwargs)

    def write(self, directory: str | Path, format: str = "svg") -> dict[str, Path]:  # noqa: A002
        """Write ``exercise.<format>``, ``answers.json`` and ``worksheet.json`` into ``directory``.

        Also writes ``exercise.dot`` (so the picture can be redrawn without a
        renderer). Returns the paths by kind.
        """
        from ..viz import render_dot

        if format not in ("svg", "png", "pdf", "dot"):
            raise ValueError(
                f"exercise: picture format must be svg, png, pdf or dot, got {format!r}"
            )
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        dot = self.to_dot()
        paths = {
            "dot": directory / "exercise.dot",
            "answers": directory / "answers.json",
            "worksheet": directory / "worksheet.json",
        }
        paths["dot"].write_text(dot, encoding="utf-8")
        for kind, sheet in (("answers", self.answer_sheet()), ("worksheet", self.worksheet())):
            paths[kind].write_text(
                json.dumps(sheet, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
        if format != "dot":
            paths["picture"] = render_dot(dot, directory / f"exercise.{format}", format)
        else:
            paths["picture"] = paths["dot"]
        self.picture = paths["picture"]
        return paths


def exercise(
    output: Value | str,
    hide: Iterable[str] | str | None = None,
    path: str | Path | None = None,
    *,
    format: str = "svg",  # noqa: A002
    rtol: float = 1e-3,
    atol: float = 1e-6,
) -> Exercise:
    """A graph exercise with the chosen values blanked; written to ``path`` if given.

    Args:
        output: the graph's output Value, or a ready-made exercise's name
            (``"swimming_perceptron"``, ``"delta_rule"``, ``"two_layer"``,
            ``"softmax_output"``; see :data:`EXERCISES`).
        hide: ``("grad",)`` (default) hides every gradient, ``("data", "grad")``
            also the forward values of computed nodes (inputs stay visible).
        path: a directory: writes the picture, ``answers.json`` (the key) and
            ``worksheet.json`` (for the student).
        format: the picture's format (``svg``, ``png``, ``pdf`` or ``dot``).
        rtol, atol: grading tolerance recorded in the sheets.

    >>> ex = exercise("softmax_output")
    >>> [(b.name, b.field) for b in ex.blanks]
    [('z', 'grad'), ('p', 'grad'), ('p0', 'grad'), ('log', 'grad'), ('L', 'grad')]
    """
    value, hidden, name = _resolve_output(output, hide, "exercise")
    for what, tol in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
            raise ValueError(f"exercise: {what} must be a finite number >= 0, got {tol!r}")
    ex = Exercise(value, hidden, name, rtol=rtol, atol=atol)
    if path is not None:
        ex.write(path, format)
    return ex


# ----------------------------------------------------------------- grading


@dataclass
class Feedback:
    """The verdict on one blank: which node, expected vs given."""

    node_id: str
    name: str
    field: str
    expected: Any
    given: Any
    ok: bool
    message: str

    def __str__(self) -> str:
        return self.message


class GradeReport:
    """Per-node feedback on a student's answers. ``str(report)`` lists every blank.

    >>> E = delta_rule()
    >>> sheet = exercise(E).answer_sheet()
    >>> sheet["answers"]["n7"]["grad"] = 0.5        # a wrong ∂E/∂y
    >>> report = grade(sheet, E)
    >>> report.ok, [f.node_id for f in report.failures]
    (False, ['n7'])
    """

    def __init__(self, items: list[Feedback]) -> None:
        self.items = items

    @property
    def ok(self) -> bool:
        """True when every blank was answered correctly."""
        return all(f.ok for f in self.items)

    @property
    def failures(self) -> list[Feedback]:
        """Blanks answered wrongly or not at all."""
        return [f for f in self.items if not f.ok]

    @property
    def correct(self) -> int:
        """How many blanks are right."""
        return sum(f.ok for f in self.items)

    @property
    def score(self) -> float:
        """Fraction of blanks answered correctly (1.0 = all)."""
        return self.correct / len(self.items) if self.items else 1.0

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"<GradeReport {self.correct}/{len(self.items)}>"

    def __str__(self) -> str:
        lines = [f.message for f in self.items]
        lines.append(f"score: {self.correct}/{len(self.items)} ({100 * self.score:.0f}%)")
        return "\n".join(lines)


def _load_answers(answers: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(mapping node key -> entry, the sheet's header) from a dict or a JSON file path."""
    if isinstance(answers, (str, Path)):
        path = Path(answers)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileNotFoundError(f"grade: no answer file {str(path)!r}") from None
        try:
            answers = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"grade: {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(answers, Mapping):
        raise TypeError(
            "grade: answers must be a dict (node id or label -> value) or the path of a JSON "
            f"worksheet, got {type(answers).__name__}"
        )
    if "answers" in answers:
        mapping = answers["answers"]
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"grade: 'answers' must map node ids to values, got {type(mapping).__name__}"
            )
        return dict(mapping), dict(answers)
    return dict(answers), {}


def _to_number(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (bool, str)):
        raise ValueError(f"{x!r} is not a number")
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{x!r} is not a number or a list of numbers") from None
    return arr


def grade(
    answers: Mapping[str, Any] | str | Path,
    output: Value | str,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    hide: Iterable[str] | str | None = None,
) -> GradeReport:
    """Score a student's filled-in values against the engine, node by node.

    Args:
        answers: a filled-in worksheet (dict or path of its JSON), or a plain
            dict ``{node: value}`` / ``{node: {"grad": value, "data": value}}``
            where ``node`` is an id (``"n3"``) or a unique label (``"y"``).
        output: the exercise's output Value (or a ready-made exercise's name).
        rtol, atol: tolerance (default: the worksheet's, else 1e-3 and 1e-6).
        hide: which fields were blanked (default: the worksheet's ``hide``, else
            ``("grad",)``). Every blank counts; missing ones are marked missing.

    >>> report = grade({"y": {"data": 1.0}, "z": {"data": 5.0}}, "swimming_perceptron")
    >>> print(report.failures[0])
    ✗ n2 w1x1 data: missing (expected 4)
    >>> grade({"y": 0.2}, "softmax_output")
    Traceback (most recent call last):
    ...
    ValueError: grade: no node labelled or numbered 'y'; ...
    """
    from .replay import all_nodes, format_number

    mapping, header = _load_answers(answers)
    if hide is None:
        hide = header.get("hide")
    value, hidden, _ = _resolve_output(output, hide, "grade")
    rtol = header.get("rtol", 1e-3) if rtol is None else rtol
    atol = header.get("atol", 1e-6) if atol is None else atol
    blanks, ids, _ = _blanks(value, hidden)
    nodes = all_nodes(value)
    by_id = {ids[id(n)]: n for n in nodes}
    by_label: dict[str, list[str]] = {}
    for n in nodes:
        if n.label:
            by_label.setdefault(n.label, []).append(ids[id(n)])
    blank_fields: dict[str, list[str]] = {}
    for b in blanks:
        blank_fields.setdefault(b.node_id, []).append(b.field)

    given: dict[tuple[str, str], Any] = {}
    for key, entry in mapping.items():
        key = str(key)
        if key in by_id:
            nid = key
        elif key in by_label:
            if len(by_label[key]) > 1:
                raise ValueError(
                    f"grade: label {key!r} names {len(by_label[key])} nodes "
                    f"({', '.join(by_label[key])}); answer by node id"
                )
            nid = by_label[key][0]
        else:
            labels = sorted(by_label)
            raise ValueError(
                f"grade: no node labelled or numbered {key!r}; ids are n0..n{len(nodes) - 1}, "
                f"labels {labels}"
            )
        if isinstance(entry, Mapping):
            for field_name in entry:
                if field_name in FIELDS:
                    given[(nid, field_name)] = entry[field_name]
        else:
            fields = blank_fields.get(nid, [])
            if len(fields) != 1:
                raise ValueError(
                    f"grade: node {key!r} ({nid}) has blanks {fields or 'none'}; give "
                    "{'data': ..., 'grad': ...} for it"
                )
            given[(nid, fields[0])] = entry

    items: list[Feedback] = []
    for b in blanks:
        name = b.name
        head = f"{b.node_id} {name} {b.field}"
        expected = np.asarray(b.expected, dtype=float)
        raw = given.get((b.node_id, b.field))
        try:
            answer = _to_number(raw)
        except ValueError as exc:
            items.append(
                Feedback(b.node_id, name, b.field, b.expected, raw, False, f"✗ {head}: {exc}")
            )
            continue
        if answer is None:
            msg = f"✗ {head}: missing (expected {format_number(expected)})"
            items.append(Feedback(b.node_id, name, b.field, b.expected, None, False, msg))
            continue
        if answer.shape != expected.shape:
            msg = (
                f"✗ {head}: expected shape {expected.shape} "
                f"({format_number(expected)}), given shape {answer.shape}"
            )
            items.append(Feedback(b.node_id, name, b.field, b.expected, raw, False, msg))
            continue
        ok = bool(np.allclose(answer, expected, rtol=rtol, atol=atol))
        if ok:
            msg = f"✓ {head}: {format_number(answer)}"
        else:
            msg = f"✗ {head}: expected {format_number(expected)}, given {format_number(answer)}"
        items.append(Feedback(b.node_id, name, b.field, b.expected, raw, ok, msg))
    return GradeReport(items)
