"""The lecture's first perceptron: should we go swimming?

Three yes/no inputs (warm water, empty beach, no recent shark attack), the weights
the lecture picks (w = [4, 2, 4]: the water is rarely warm, you are used to crowds,
you fear sharks) and a threshold of 3 (b = -3). The step activation turns the
weighted sum into a decision: y = step(w·x + b).

Run it::

    python examples/swimming_perceptron.py
"""

from __future__ import annotations

import itertools

import autograd_lite as al

FACTORS = ("warm water", "empty beach", "no shark attack")


def decide(x: list[float], w: list[float], b: float) -> tuple[float, float]:
    """Return (z, y) with z = w·x + b and y = step(z), computed as a graph."""
    xv = al.Value(x, label="x", requires_grad=False)
    wv = al.Value(w, label="w")
    bv = al.Value(b, label="b")
    z = wv @ xv + bv
    y = z.step()
    return float(z.data), float(y.data)


def main(w: tuple[float, ...] = (4.0, 2.0, 4.0), b: float = -3.0, verbose: bool = True) -> dict:
    """Print the lecture's decision and the full truth table; return both."""
    x = [1.0, 0.0, 1.0]
    z, y = decide(x, list(w), b)
    table = {}
    for bits in itertools.product((0.0, 1.0), repeat=3):
        table[bits] = decide(list(bits), list(w), b)[1]
    if verbose:
        print("Going swimming?  x =", dict(zip(FACTORS, x)))
        print(f"w = {list(w)}, b = {b:g}")
        print(f"z = w·x + b = {w[0]:g}·1 + {w[1]:g}·0 + {w[2]:g}·1 {b:+g} = {z:g}")
        print(f"y = step(z) = {y:g}  ->  {'go swimming' if y else 'stay home'}")
        print("\nAll eight situations:")
        print("  warm empty no-shark | y")
        for bits, decision in table.items():
            print("   " + "     ".join(f"{int(v)}" for v in bits) + f"      | {int(decision)}")
    return {"z": z, "y": y, "table": table}


if __name__ == "__main__":
    main()
