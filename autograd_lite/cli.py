"""The ``autograd-lite`` command line.

Sub-commands: ``demo`` (the lecture walk-through), ``train`` (an MLP on scikit-learn's
digits), ``graph`` (draw the graph of an expression you type), ``check`` (every op's
derivative against SymPy), plus the teaching tools' commands when they are installed.

Errors a user can make (a bad expression, an unknown option, a file that cannot be
written) end the program with a one-line message on stderr and a non-zero exit code,
never a traceback (exit code 2; 1 when a check fails or the environment lacks
something, such as a Graphviz renderer). ``AUTOGRAD_LITE_DEBUG=1`` shows the traceback
of unexpected errors.

>>> main(["graph", "x +* 2", "--set", "x=1"])
2

>>> parse_assignment("x=1.5")
('x', 1.5)
>>> parse_assignment("w=4,2,4")
('w', array([4., 2., 4.]))
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from . import __version__

PROG = "autograd-lite"

# Exit codes: 0 success, 1 a check failed, 2 a usage error (bad option or expression).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CLIError(Exception):
    """A mistake in what the user typed; reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage block) and never exit the interpreter."""

    def error(self, message: str) -> NoReturn:
        raise CLIError(f"{message} (see '{self.prog} --help')")


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``--set`` text: ``name=number`` or ``name=n1,n2,...`` (a vector).

    Numbers are read with ``float`` only; nothing is evaluated.

    >>> parse_assignment("b=-3")
    ('b', -3.0)
    >>> parse_assignment("x")
    Traceback (most recent call last):
    ...
    autograd_lite.cli.CLIError: --set 'x': expected NAME=VALUE, e.g. x=1.5 or w=4,2,4
    """
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name or not raw.strip():
        raise CLIError(f"--set {text!r}: expected NAME=VALUE, e.g. x=1.5 or w=4,2,4")
    if not name.isidentifier():
        raise CLIError(f"--set {text!r}: {name!r} is not a valid variable name")
    parts = [p.strip() for p in raw.strip().strip("[]").split(",")]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise CLIError(
            f"--set {text!r}: {raw.strip()!r} is not a number or a comma-separated list of numbers"
        ) from None
    if len(numbers) == 1 and "," not in raw:
        return name, numbers[0]
    import numpy as np

    return name, np.array(numbers)


# ---------------------------------------------------------------------------- parser


def add_assignment_option(parser: argparse.ArgumentParser) -> None:
    """Add the repeatable ``--set NAME=VALUE`` option (used by ``graph`` and ``replay``)."""
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable's value: x=1.5, or a vector w=4,2,4 (repeatable)",
    )


def environment(assignments: list[str]) -> dict[str, Any]:
    """Labelled Values from ``--set`` texts; a name set twice is a usage error.

    >>> {name: v.data for name, v in environment(["x=2", "b=-1"]).items()}
    {'x': 2.0, 'b': -1.0}
    """
    from .value import Value

    env: dict[str, Any] = {}
    for text in assignments:
        name, data = parse_assignment(text)
        if name in env:
            raise CLIError(f"--set {text!r}: {name!r} was already set")
        env[name] = Value(data, label=name)
    return env


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per task.

    >>> args = build_parser().parse_args(["graph", "tanh(x)", "--set", "x=0.5"])
    >>> args.command, args.assignments, args.output
    ('graph', ['x=0.5'], 'graph.svg')
    """
    parser = _Parser(
        prog=PROG,
        description="autograd_lite: automatic differentiation you can see. "
        "Build a computation graph, run backward, look at every gradient.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="the lecture walk-through: perceptron, chain rule, graph picture",
        description="Walk through the lecture: the swimming perceptron, one gradient-descent "
        "step of a sigmoid perceptron with its chain-rule factors, and the picture of its "
        "graph (perceptron_graph.svg and .png).",
    )
    demo.add_argument("--out-dir", default=".", help="where to write the graph pictures")

    train = sub.add_parser(
        "train",
        help="train an MLP on scikit-learn's digits",
        description="Train a multi-layer perceptron on scikit-learn's 8x8 digits with a "
        "progress bar and write the loss/accuracy plot. A validation split held out from the "
        "training digits is measured after every epoch; the test digits are used once, at "
        "the end, for the test accuracy.",
    )
    train.add_argument("--epochs", type=_positive_int, default=15, help="passes over the data")
    train.add_argument(
        "--hidden",
        type=_positive_int,
        nargs="+",
        default=[64],
        metavar="N",
        help="hidden layer sizes (default: 64)",
    )
    train.add_argument(
        "--activation",
        default="relu",
        help="hidden activation: relu, tanh, sigmoid, leaky_relu, elu, swish, ...",
    )
    train.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate")
    train.add_argument(
        "--optimizer", choices=("adam", "sgd"), default="adam", help="optimizer (default adam)"
    )
    train.add_argument("--batch-size", type=_positive_int, default=64, help="mini-batch size")
    train.add_argument(
        "--limit",
        type=_positive_int,
        default=None,
        help="use only the first N digits (for a quick try)",
    )
    train.add_argument(
        "--val-fraction",
        type=_fraction,
        default=0.1,
        help="fraction of the training digits held out for validation (default 0.1; 0: none)",
    )
    train.add_argument("--seed", type=int, default=0, help="random seed")
    train.add_argument(
        "--plot", default="training_history.png", help="where to write the loss/accuracy PNG"
    )
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    graph = sub.add_parser(
        "graph",
        help="draw the computation graph of an expression",
        description="Parse EXPR (arithmetic and activations in named variables; nothing is\n"
        "evaluated as Python), build its graph, run backward and write the picture with\n"
        "every node's value and gradient, and on each edge the local derivative.\n"
        "Variables without --set values are drawn as unknown (?): the structure only.",
        epilog='examples:\n  autograd-lite graph "sigmoid(w*x + b)" --set w=0.5 --set x=2 '
        '--set b=-1 -o neuron.svg\n  autograd-lite graph "tanh(w*x + b)" -o structure.svg',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    graph.add_argument("expr", metavar="EXPR", help='the expression, e.g. "tanh(x*w + b)"')
    add_assignment_option(graph)
    graph.add_argument(
        "-o", "--output", default="graph.svg", help="output file (default graph.svg)"
    )
    graph.add_argument(
        "--format",
        choices=("svg", "png", "pdf", "dot"),
        default=None,
        help="picture format (default: from the output suffix); dot writes the DOT text",
    )
    graph.add_argument(
        "--no-backward", action="store_true", help="draw the forward values only (no gradients)"
    )
    graph.add_argument(
        "--no-edge-factors",
        action="store_true",
        help="do not write the local derivative (the chain-rule factor) on each edge",
    )
    graph.add_argument(
        "--rankdir",
        choices=("LR", "TB", "RL", "BT"),
        default="LR",
        help="layout direction (default LR: inputs left, output right)",
    )

    check = sub.add_parser(
        "check",
        help="check every op's derivative against SymPy",
        description="Compare every op's implemented derivative with SymPy's: elementwise ops "
        "against the derivative of their formula, the others (matmul, softmax, sum, ...) by "
        "their full Jacobian against their SymPy definition. Prints one row per op; exit "
        "code 1 if any check fails or an op has no SymPy definition.",
    )
    check.add_argument("ops", nargs="*", metavar="OP", help="only these ops (default: all)")
    check.add_argument(
        "--order",
        type=int,
        choices=(1, 2),
        default=1,
        help="derivative order: 1 (vjps) or 2 (create_graph=True); default 1",
    )

    _register_teaching(sub)
    return parser


def _register_teaching(sub: Any) -> None:
    """Add the teaching tools' sub-commands (``replay``, ``exercise``) when present."""
    import importlib

    try:
        teaching_cli = importlib.import_module(f"{__package__}.teaching.cli")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"{__package__}.teaching", f"{__package__}.teaching.cli"):
            raise
        return
    teaching_cli.register(sub)


def _option_type(
    convert: Callable[[str], Any], kind: str, ok: Callable[[Any], bool], must: str
) -> Callable[[str], Any]:
    """An argparse ``type=``: ``convert`` the text (else "is not {kind}"), then check ``ok``."""

    def parse(text: str) -> Any:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {kind}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text!r} must be {must}")
        return value

    return parse


_positive_int = _option_type(int, "an integer", lambda n: n > 0, "positive")
_fraction = _option_type(float, "a number", lambda x: 0 <= x < 1, "a fraction in [0, 1)")
_positive_float = _option_type(
    float, "a number", lambda x: 0 < x < float("inf"), "a positive number"
)


# ---------------------------------------------------------------------------- commands
def cmd_demo(args: argparse.Namespace) -> int:
    from .teaching.demo import run

    run(args.out_dir)
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    import math

    import numpy as np

    from . import formula
    from .value import Value

    env = environment(args.assignments)
    missing: list[str] = []
    placeholders: dict[str, Any] = {}
    try:
        # A variable without --set is a placeholder: drawn as "?", with what depends on it.
        names = formula.variables(args.expr)
        missing = [name for name in names if name not in env]
        unused = [name for name in env if name not in names]
        placeholders = {name: Value(math.nan, label=name) for name in missing}
        out = formula.to_value(args.expr, {**env, **placeholders})
    except (ValueError, TypeError, KeyError, NameError, SyntaxError, ZeroDivisionError) as exc:
        hint = (
            f" (no values for {', '.join(missing)}: drawn as unknown scalars; "
            "give them with --set NAME=VALUE)"
            if missing
            else ""
        )
        raise CLIError(one_line(exc) + hint) from None
    if unused:  # a typo (--set W=3 for w) would have drawn w as unknown and printed d/dW = 0
        known = ", ".join(names) or "none"
        name = unused[0]
        raise CLIError(
            f"--set {name}: {args.expr!r} has no variable {name!r} (its variables: {known})"
        )
    if not isinstance(out, Value):  # a constant expression such as "2 + 3"
        out = Value(out, label="out", requires_grad=False)
    structure_only = bool(missing)  # no numbers to differentiate: draw the structure
    if not (args.no_backward or structure_only) and out.requires_grad:
        # A vector result (from vector --set values) is reduced as in sum(out).backward().
        out.backward(None if out.size == 1 else np.ones(out.shape))
    out.label = out.label or "out"
    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() or "svg")
    path = Path(args.output)
    style = {
        "show_grad": not (args.no_backward or structure_only),
        "edge_factors": not (args.no_backward or structure_only or args.no_edge_factors),
        "rankdir": args.rankdir,
        "unknown": list(placeholders.values()),
    }
    if fmt == "dot":
        from .viz import to_dot

        _write_text(path, to_dot(out, **style))
    else:
        from .viz import render

        if fmt not in ("svg", "png", "pdf"):
            raise CLIError(f"unknown picture format {fmt!r} (from {args.output!r}); use --format")
        try:
            render(out, path, format=fmt, **style)
        except OSError as exc:
            raise CLIError(f"could not write {path}: {one_line(exc)}") from None
    if structure_only:
        print(
            f"{args.expr} = ?  (the structure only: no values for {', '.join(missing)}; "
            "give them with --set NAME=VALUE to see values and gradients)"
        )
    else:
        print(f"{args.expr} = {_fmt(out.data)}")
    if not (args.no_backward or structure_only):
        for name, v in env.items():
            print(f"  d/d{name} = {_fmt(v.grad)}")
    print(f"wrote {path}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from . import symbolic
    from .registry import get_op

    order = getattr(args, "order", 1)
    if args.ops:
        from .registry import has_op

        for name in args.ops:
            if not has_op(name):
                raise CLIError(f"no op named {name!r} in the table")
        results = []
        for name in args.ops:
            try:
                results.append(symbolic.check(name, order))
            except ValueError as exc:  # a definition that fails: a row, as check_all gives
                msg = f"{name}: NOT CHECKED: {one_line(exc)}"
                results.append(
                    symbolic.CheckResult(name, False, float("inf"), msg, order, [], False)
                )
    else:
        results = symbolic.check_all(order)
    kinds = {r.name: "elementwise" if get_op(r.name).elementwise else "structural" for r in results}
    width = max([len("op")] + [len(r.name) for r in results])
    print(f"{'op':<{width}}  {'kind':<11}  result       max error  details")
    print(f"{'-' * width}  {'-' * 11}  -----------  ---------  -------")
    for r in results:
        status = "ok" if r.ok else "FAIL" if r.checked else "NOT CHECKED"
        details = one_line(r.message).removeprefix(f"{r.name}: ")
        print(
            f"{r.name:<{width}}  {kinds[r.name]:<11}  {status:<11}  {r.max_error:9.2e}  {details}"
        )
    failed = [r.name for r in results if r.checked and not r.ok]
    missing = [r.name for r in results if not r.checked]
    n_elem = sum(k == "elementwise" for k in kinds.values())
    counts = f"{n_elem} elementwise, {len(results) - n_elem} structural; derivative order {order}"
    if failed or missing:
        parts = []
        if failed:
            parts.append(f"{len(failed)} FAILED: {', '.join(failed)}")
        if missing:
            parts.append(f"{len(missing)} NOT CHECKED: {', '.join(missing)}")
        print(f"{len(results)} ops ({counts}): " + "; ".join(parts))
        return EXIT_FAILED
    print(f"all {len(results)} ops agree with SymPy ({counts})")
    return EXIT_OK


def train_digits(
    epochs: int = 15,
    hidden: tuple[int, ...] = (64,),
    activation: str = "relu",
    lr: float = 0.01,
    optimizer: str = "adam",
    batch_size: int = 64,
    limit: int | None = None,
    seed: int = 0,
    plot: str | Path | None = "training_history.png",
    progress: bool = True,
    val_fraction: float = 0.1,
) -> dict[str, Any]:
    """Train an MLP on scikit-learn's digits; return the history, accuracies and plot path.

    ``val_fraction`` of the training digits are held out (stratified) and measured
    after every epoch (``history.val_accuracy``); the test digits are never seen
    during training and give ``test_accuracy`` once, at the end. ``limit`` keeps
    only the first N training digits (the test set stays whole).

    >>> r = train_digits(epochs=2, limit=200, plot=None, progress=False)
    >>> 0.0 <= r["test_accuracy"] <= 1.0, len(r["history"]), r["n_train"], r["n_val"]
    (True, 2, 180, 20)
    """
    from . import datasets, nn, optim
    from .training import evaluate, fit, plot_history

    data = datasets.load_digits(seed=seed)
    X, y = data.X_train, data.y_train
    if limit is not None:
        X, y = X[:limit], y[:limit]
    X, X_val, y, y_val = _hold_out(X, y, val_fraction, seed)
    try:
        net = nn.MLP(X.shape[1], [*hidden, data.n_classes], activation=activation, seed=seed)
    except (ValueError, KeyError) as exc:
        raise CLIError(f"--activation {activation!r}: {one_line(exc)}") from None
    if optimizer == "adam":
        opt = optim.Adam(net.parameters(), lr=lr)
    elif optimizer == "sgd":
        opt = optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    else:
        raise CLIError(f"--optimizer {optimizer!r}: choose adam or sgd")
    loss = nn.CrossEntropyLoss()
    history = fit(
        net,
        loss,
        opt,
        (X, y),
        epochs=epochs,
        batch_size=batch_size,
        validation=None if X_val is None else (X_val, y_val),
        progress=progress,
        seed=seed,
    )
    test = evaluate(net, loss, data.X_test, data.y_test)
    if plot is not None:
        plot = Path(plot)
        try:
            plot_history(history, plot)
        except OSError as exc:
            raise CLIError(f"could not write {plot}: {exc.strerror or exc}") from None
    return {
        "model": net,
        "history": history,
        "val_accuracy": history["val_accuracy"][-1] if X_val is not None and epochs else None,
        "test_accuracy": float(test["accuracy"]),
        "test_loss": float(test["loss"]),
        "n_train": len(X),
        "n_val": 0 if X_val is None else len(X_val),
        "n_test": len(data.X_test),
        "plot": plot,
    }


def _hold_out(X: Any, y: Any, fraction: float, seed: int) -> tuple[Any, Any, Any, Any]:
    """``datasets.hold_out``, its errors said in the command's words."""
    from .datasets import hold_out

    try:
        return hold_out(X, y, fraction, seed)
    except ValueError as err:
        raise CLIError(f"--val-fraction {fraction:g}: {err}") from None


def cmd_train(args: argparse.Namespace) -> int:
    result = train_digits(
        epochs=args.epochs,
        hidden=tuple(args.hidden),
        activation=args.activation,
        lr=args.lr,
        optimizer=args.optimizer,
        batch_size=args.batch_size,
        limit=args.limit,
        seed=args.seed,
        plot=args.plot,
        progress=not args.no_progress,
        val_fraction=args.val_fraction,
    )
    print(
        f"MLP 64-{'-'.join(map(str, args.hidden))}-10 ({args.activation}), {args.epochs} epochs "
        f"on {result['n_train']} training digits"
    )
    if result["val_accuracy"] is not None:
        print(
            f"validation accuracy: {result['val_accuracy']:.4f}  "
            f"(last epoch, {result['n_val']} digits held out from the training data)"
        )
    print(
        f"test accuracy: {result['test_accuracy']:.4f}  (test loss {result['test_loss']:.4f}, "
        f"{result['n_test']} test digits never seen in training)"
    )
    print(f"wrote {result['plot']}")
    return EXIT_OK


COMMANDS = {"demo": cmd_demo, "train": cmd_train, "graph": cmd_graph, "check": cmd_check}


# ---------------------------------------------------------------------------- helpers
def one_line(exc: BaseException | str) -> str:
    """An error as one line of text (the CLI never prints tracebacks)."""
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())


def _fmt(x: Any) -> str:
    import numpy as np

    if isinstance(x, np.ndarray):
        return np.array2string(x, precision=6, separator=", ")
    return f"{x:.6g}"


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"could not write {path}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``autograd-lite`` console script; returns the exit code.

    >>> main(["--version"])
    autograd-lite ...
    0
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help and --version print and "exit" with 0
        return int(exc.code or 0)
    except CLIError as exc:
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        handler = getattr(args, "handler", None) or COMMANDS[args.command]
        return int(handler(args) or 0)
    except CLIError as exc:
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("AUTOGRAD_LITE_DEBUG"):
            raise
        print(
            f"{PROG}: error: {type(exc).__name__}: {one_line(exc)} "
            "(set AUTOGRAD_LITE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
