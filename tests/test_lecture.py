"""The lecture's worked examples (autograd_lite.teaching.lecture) and the places that reuse them."""

from __future__ import annotations

import math

import numpy as np

from autograd_lite import viz
from autograd_lite.teaching import exercises, lecture


def test_swimming_perceptron_gives_the_lecture_numbers():
    nodes = lecture.swimming_perceptron()
    assert nodes["z"].data == 4 * 1 + 2 * 0 + 4 * 1 - 3
    assert nodes["y"].data == 1.0


def test_sigmoid_perceptron_values_and_delta_rule():
    nodes = lecture.sigmoid_perceptron()
    A = 0.4 * 1 + 0.2 * 0 + 0.4 * 1 - 0.3
    y = 1 / (1 + math.exp(-A))
    e = 1.0 - y
    assert math.isclose(nodes["A"].data, A)
    assert math.isclose(nodes["E"].data, 0.5 * e**2)
    nodes["E"].backward()
    delta = -e * (1 - y) * y  # the lecture's delta, written independently of the engine
    np.testing.assert_allclose(nodes["w"].grad, delta * np.array([1.0, 0.0, 1.0]))


def test_demo_pictures_and_exercises_share_the_same_graph():
    built = lecture.sigmoid_perceptron()["E"]
    pictured = viz.lecture_example()
    exercised = exercises.delta_rule()
    for E in (pictured, exercised):
        assert math.isclose(E.data, built.data)
        labels = []
        stack = [E]
        while stack:
            node = stack.pop()
            labels.append(node.label)
            stack.extend(node.parents)
        assert {"x", "w", "b", "ŷ", "w·x", "A", "y", "e", "e²", "E"} <= set(labels)
