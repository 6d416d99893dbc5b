"""The ``autograd-lite`` command line."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task."""
    parser = argparse.ArgumentParser(
        prog="autograd-lite", description="Automatic differentiation you can see."
    )
    parser.add_argument("--version", action="version", version=f"autograd-lite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the lecture walk-through: perceptron, chain rule, graph")
    demo.add_argument("--out-dir", default=".", help="where to write the graph pictures")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``autograd-lite`` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run

        run(args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
