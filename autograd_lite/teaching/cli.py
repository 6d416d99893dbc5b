"""The teaching tools' sub-commands of ``autograd-lite``: ``replay`` and ``exercise``.

``autograd_lite.cli`` calls :func:`register` to add them to its parser; each
sub-command sets ``handler``, which returns the exit code. A mistake in what
the user typed raises ``cli.CLIError`` (one line on stderr, exit code 2).

* ``autograd-lite replay "EXPR" --set x=1.5 -o DIR [--html] [--gif] [--png]``:
  the backward pass of the expression, one picture per node (numbered SVG files
  by default), the frames' text on stdout.
* ``autograd-lite exercise NAME -o DIR [--hide grad,data]``: a ready-made
  exercise (picture, ``answers.json``, ``worksheet.json``);
  ``autograd-lite exercise NAME --grade FILLED.json`` scores a worksheet.
  ``autograd-lite exercise --list`` lists the exercises.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="autograd-lite")
>>> register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["exercise", "--list"])
>>> args.handler(args)
swimming_perceptron ...
0
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..cli import CLIError, add_assignment_option, environment, one_line

__all__ = ["cmd_exercise", "cmd_replay", "register"]


def register(subparsers: Any) -> None:
    """Add the ``replay`` and ``exercise`` sub-commands to an argparse ``subparsers``.

    >>> import argparse
    >>> p = argparse.ArgumentParser()
    >>> register(p.add_subparsers(dest="command"))
    >>> p.parse_args(["replay", "x*x", "--set", "x=2", "--html"]).html
    True
    """
    replay = subparsers.add_parser(
        "replay",
        help="the backward pass of an expression, step by step (pictures + HTML slider)",
        description="Replay the backward pass of EXPR node by node: each frame shows the "
        "upstream gradient × local derivative = contribution, and the running sum where a "
        "node feeds several others. Writes frame_000.svg, frame_001.svg, ... into DIR.",
        epilog='example: autograd-lite replay "x*x + sigmoid(x)" --set x=1.5 -o replay --html',
    )
    replay.add_argument("expr", metavar="EXPR", help='the expression, e.g. "tanh(w*x + b)"')
    add_assignment_option(replay)
    replay.add_argument("-o", "--out-dir", default="replay", help="output directory")
    replay.add_argument("--html", action="store_true", help="also write replay.html (slider)")
    replay.add_argument("--gif", action="store_true", help="also write replay.gif (animation)")
    replay.add_argument("--png", action="store_true", help="write PNG frames too")
    replay.add_argument(
        "--no-svg", action="store_true", help="do not write the numbered SVG frames"
    )
    replay.set_defaults(handler=cmd_replay)

    from .exercises import EXERCISES

    exercise = subparsers.add_parser(
        "exercise",
        help="a ready-made graph exercise with blanks (picture + JSON sheets), or grade one",
        description="Write a graph exercise with hidden values: the picture, answers.json "
        "(the key) and worksheet.json (to fill in). With --grade, score a filled-in "
        "worksheet instead.",
        epilog="exercises: " + ", ".join(EXERCISES),
    )
    exercise.add_argument("name", nargs="?", metavar="NAME", help="the exercise (see --list)")
    exercise.add_argument("-o", "--out-dir", default=None, help="output directory (default NAME)")
    exercise.add_argument(
        "--hide",
        default=None,
        metavar="FIELDS",
        help="what to blank: grad, data or data,grad (default: the exercise's choice)",
    )
    exercise.add_argument(
        "--format", choices=("svg", "png", "pdf", "dot"), default="svg", help="picture format"
    )
    exercise.add_argument(
        "--grade", metavar="ANSWERS.json", default=None, help="score this filled-in worksheet"
    )
    exercise.add_argument(
        "--rtol", type=float, default=None, help="relative tolerance when grading (default 1e-3)"
    )
    exercise.add_argument("--list", action="store_true", help="list the exercises and exit")
    exercise.set_defaults(handler=cmd_exercise)


def cmd_replay(args: argparse.Namespace) -> int:
    """Run ``autograd-lite replay``."""
    import numpy as np

    from .. import formula
    from ..value import Value
    from .replay import replay

    env = environment(args.assignments)
    if not env:
        raise CLIError(
            f"expression {args.expr!r}: no variables given; use --set NAME=VALUE for each one"
        )
    try:
        out = formula.to_value(args.expr, env)
    except (ValueError, TypeError, KeyError, NameError, SyntaxError, ZeroDivisionError) as exc:
        raise CLIError(one_line(exc)) from None
    if not isinstance(out, Value) or not out.requires_grad:
        raise CLIError(
            f"expression {args.expr!r} uses none of the variables set, so there is no "
            "backward pass to replay"
        )
    out.label = out.label or "out"
    seed = None if out.size == 1 else np.ones(out.shape)
    r = replay(out, seed)
    formats = [] if args.no_svg else ["svg"]
    if args.png:
        formats.append("png")
    if args.gif:
        formats.append("gif")
    if args.html:
        formats.append("html")
    if not formats:
        raise CLIError("--no-svg and no --png/--gif/--html: nothing to write")
    out_dir = Path(args.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = r.save(out_dir, formats)
    except OSError as exc:
        raise CLIError(f"could not write into {str(out_dir)!r}: {one_line(exc)}") from None
    print(str(r))
    print(f"wrote {len(written)} files into {out_dir}")
    return 0


def cmd_exercise(args: argparse.Namespace) -> int:
    """Run ``autograd-lite exercise``."""
    from .exercises import EXERCISES, exercise, grade

    if args.list:
        for name, (_, hide, text) in EXERCISES.items():
            print(f"{name:20s} hides {','.join(hide):9s} {text}")
        return 0
    if args.name is None:
        raise CLIError(
            "exercise: give the NAME of an exercise (" + ", ".join(EXERCISES) + ") or --list"
        )
    if args.name not in EXERCISES:
        raise CLIError(f"no exercise named {args.name!r}; choose one of {', '.join(EXERCISES)}")
    hide = None
    if args.hide is not None:
        hide = tuple(h.strip() for h in args.hide.split(",") if h.strip())
    if args.grade is not None:
        try:
            report = grade(args.grade, args.name, hide=hide, rtol=args.rtol)
        except (ValueError, TypeError, FileNotFoundError) as exc:
            raise CLIError(one_line(exc)) from None
        print(str(report))
        return 0
    out_dir = Path(args.out_dir or args.name)
    try:
        ex = exercise(args.name, hide=hide, format=args.format, rtol=args.rtol or 1e-3)
        paths = ex.write(out_dir, args.format)
    except (ValueError, TypeError) as exc:
        raise CLIError(one_line(exc)) from None
    except OSError as exc:
        raise CLIError(f"could not write into {str(out_dir)!r}: {one_line(exc)}") from None
    print(f"exercise {args.name}: {len(ex.blanks)} blanks ({', '.join(ex.hide)} hidden)")
    for kind in ("picture", "worksheet", "answers"):
        print(f"wrote {paths[kind]}")
    return 0
