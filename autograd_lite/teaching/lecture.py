"""The lecture's worked examples as labelled graphs, built in one place.

The demo, the pictures (:func:`lecture_example`, also ``viz.lecture_example``) and
the exercises all start from these builders, so the numbers a student sees are the
same everywhere. Each builder returns the graph's named nodes; nothing is printed or
differentiated (except by :func:`lecture_example`, which runs ``backward``).

>>> nodes = swimming_perceptron()
>>> nodes["z"].data, nodes["y"].data
(5.0, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence

from ..value import Value


def swimming_perceptron(
    x: Sequence[float] = (1.0, 0.0, 1.0),
    w: Sequence[float] = (4.0, 2.0, 4.0),
    b: float = -3.0,
) -> dict[str, Value]:
    """Going swimming: x = [warm water, empty beach, no shark attack], y = step(w·x + b).

    The lecture's numbers x = [1, 0, 1], w = [4, 2, 4], b = −3 give z = 5 and y = 1.

    >>> swimming_perceptron(x=(0.0, 1.0, 0.0))["y"].data
    0.0
    """
    nodes = {
        "x": Value(list(x), label="x", requires_grad=False),
        "w": Value(list(w), label="w"),
        "b": Value(b, label="b"),
    }
    z = nodes["w"] @ nodes["x"] + nodes["b"]
    z.label = "z"
    y = z.step()
    y.label = "y"
    nodes.update(z=z, y=y)
    return nodes


def sigmoid_perceptron(
    x: Sequence[float] = (1.0, 0.0, 1.0),
    w: Sequence[float] = (0.4, 0.2, 0.4),
    b: float = -0.3,
    target: float = 1.0,
) -> dict[str, Value]:
    """The delta rule's error E = ½(ŷ − σ(w·x + b))², nodes labelled as in the lecture.

    Keys: ``x w b ŷ w·x A y e e² E``. ``E.backward()`` then gives ∂E/∂w = −e(1−y)y·x.

    >>> nodes = sigmoid_perceptron()
    >>> round(nodes["A"].data, 4), round(nodes["E"].data, 4)
    (0.5, 0.0713)
    """
    nodes = {
        "x": Value(list(x), label="x", requires_grad=False),
        "w": Value(list(w), label="w"),
        "b": Value(b, label="b"),
        "ŷ": Value(target, label="ŷ", requires_grad=False),
    }
    return _labelled_steps(
        nodes,
        ("w·x", lambda n: n["w"] @ n["x"]),
        ("A", lambda n: n["w·x"] + n["b"]),
        ("y", lambda n: n["A"].sigmoid()),
        ("e", lambda n: n["ŷ"] - n["y"]),
        ("e²", lambda n: n["e"] ** 2),
        ("E", lambda n: 0.5 * n["e²"]),
    )


def scalar_perceptron(
    w: float = 0.8, x: float = 1.0, b: float = -0.3, target: float = 1.0
) -> dict[str, Value]:
    """The same error for one input, E = ½(t − σ(w·x + b))², nodes labelled A, y, e, E.

    The chain rule's worked example: every node a scalar, so ∂E/∂w is the product
    ∂E/∂e · ∂e/∂y · ∂y/∂A · ∂A/∂w. Keys: ``w x b t A y e E``. The default w·x = 0.8
    gives the vector example's A = 0.5.

    >>> nodes = scalar_perceptron()
    >>> round(nodes["A"].data, 4), round(nodes["E"].data, 4)
    (0.5, 0.0713)
    """
    nodes = {
        "w": Value(w, label="w"),
        "x": Value(x, label="x", requires_grad=False),
        "b": Value(b, label="b"),
        "t": Value(target, label="t", requires_grad=False),
    }
    return _labelled_steps(
        nodes,
        ("A", lambda n: n["w"] * n["x"] + n["b"]),
        ("y", lambda n: n["A"].sigmoid()),
        ("e", lambda n: n["t"] - n["y"]),
        ("E", lambda n: 0.5 * n["e"] ** 2),
    )


def _labelled_steps(nodes: dict[str, Value], *steps: tuple) -> dict[str, Value]:
    """Add each ``(label, make)`` step's node ``make(nodes)`` to ``nodes`` under its label."""
    for label, make in steps:
        node = make(nodes)
        node.label = label
        nodes[label] = node
    return nodes


def lecture_example(target: float = 1.0) -> Value:
    """The lecture's error ``E = ½(ŷ − σ(w·x + b))²`` after ``E.backward()``.

    Swimming perceptron numbers: x = [1, 0, 1] (constant input), w = [0.4, 0.2,
    0.4], b = −0.3, target ŷ = 1. Nodes are labelled A, y, e, E as in the lecture.

    >>> E = lecture_example()
    >>> round(E.data, 4), E.label, [p.label for p in E.parents[1].parents]
    (0.0713, 'E', ['e', ''])
    """
    E = sigmoid_perceptron(target=target)["E"]
    E.backward()
    return E
