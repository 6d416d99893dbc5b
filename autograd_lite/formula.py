"""The one safe parser for formula text (activation formulas, ``autograd-lite graph "EXPR"``).

SymPy's own ``sympify``/``parse_expr`` call Python's ``eval``: a formula such as
``__import__('os').system('...')`` would run. This module never evaluates user
text. It parses it with :mod:`ast`, checks every node against a whitelist, turns
the tree into a small neutral form, and only then builds either a SymPy
expression (:func:`to_sympy`) or a graph of :class:`~autograd_lite.Value` nodes
made of table ops (:func:`to_value`).

Allowed:

* numbers (``2``, ``0.5``, ``1e-3``); names that the caller allows (variables
  and parameters), and the constants ``pi`` and ``E``;
* ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* calls of known functions: ``exp log sqrt abs Abs sign tanh sinh cosh sin cos
  atan erf Max Min Heaviside Piecewise``, and every elementwise op of the table
  by name (``sigmoid(z)``, ``relu(z)``, ``leaky_relu(z, 0.2)``...);
* inside ``Piecewise((expr, condition), ...)``: comparisons
  (``< <= > >= == !=``), ``True``/``False`` and ``&``/``|`` between conditions.

Refused with a ``ValueError`` naming the formula and the offending part:
attribute access, subscripts, lambdas, comprehensions, keywords, starred
arguments, strings, unknown names or functions, exponents or literals so large
that evaluating them would hang, and text longer than :data:`MAX_LENGTH`.

>>> to_sympy("z * tanh(log(1 + exp(z)))", ["z"])
z*tanh(log(exp(z) + 1))
>>> to_sympy("z.__class__", ["z"])
Traceback (most recent call last):
...
ValueError: formula 'z.__class__': attribute access '.__class__' is not allowed...
"""

from __future__ import annotations

import ast
import math
from collections.abc import Iterable, Mapping
from typing import Any

MAX_LENGTH = 2000
"""Longest formula text accepted (characters)."""

MAX_NODES = 600
"""Most syntax-tree nodes accepted."""

MAX_DEPTH = 200
"""Deepest nesting of operations accepted."""

MAX_POWER_DIGITS = 5000
"""A power of two constants may have at most this many decimal digits."""

MATH_FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "exp": (1, 1),
    "log": (1, 1),
    "sqrt": (1, 1),
    "abs": (1, 1),
    "Abs": (1, 1),
    "sign": (1, 1),
    "tanh": (1, 1),
    "sinh": (1, 1),
    "cosh": (1, 1),
    "sin": (1, 1),
    "cos": (1, 1),
    "atan": (1, 1),
    "erf": (1, 1),
    "Max": (1, None),
    "Min": (1, None),
    "Heaviside": (1, 2),
    "Piecewise": (1, None),
}
"""Functions every formula may call, with their (fewest, most) argument counts."""

CONSTANTS = ("pi", "E")
"""Named constants (a variable of the same name takes precedence)."""

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_BOOLOPS = {ast.BitAnd: "&", ast.BitOr: "|"}


def _fail(text: str, why: str) -> ValueError:
    shown = repr(text) if len(text) <= 120 else repr(text[:100]) + "..."
    return ValueError(f"formula {shown}: {why}")


def _snippet(text: str, node: ast.AST) -> str:
    try:
        part = ast.get_source_segment(text, node)
    except Exception:  # pragma: no cover - defensive
        part = None
    return part if part else type(node).__name__


def _table_functions() -> dict[str, Any]:
    """Elementwise ops of the table by name (callable in formulas)."""
    from .registry import all_ops

    return {op.name: op for op in all_ops() if op.formula is not None}


# The neutral form: nested tuples.
#   ("num", int | float)       ("name", str)          ("bool", bool)
#   ("bin", op, left, right)   ("neg", x)             ("call", fname, (args...))
#   ("cmp", op, left, right)   ("logic", op, left, right)
#   ("piecewise", ((expr, cond), ...))


class _Parser:
    def __init__(self, text: str, names: Iterable[str], table: bool) -> None:
        self.text = text
        self.names = set(names)
        self.table = _table_functions() if table else {}
        self.count = 0

    def fail(self, why: str) -> ValueError:
        return _fail(self.text, why)

    def parse(self) -> tuple:
        text = self.text
        if not isinstance(text, str):
            raise ValueError(f"formula must be a string, got {type(text).__name__}: {text!r}")
        if len(text) > MAX_LENGTH:
            raise ValueError(
                f"formula {text[:60]!r}...: {len(text)} characters is longer than the "
                f"{MAX_LENGTH} allowed"
            )
        if not text.strip():
            raise self.fail("empty formula")
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            raise self.fail(f"not a valid expression ({exc.msg})") from None
        except (RecursionError, MemoryError):
            raise self.fail("nested too deeply") from None
        self.text = text.strip()
        return self.expr(tree.body, 0)

    # ------------------------------------------------------------ nodes
    def visit(self, node: ast.AST, depth: int) -> None:
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(f"more than {MAX_NODES} parts; write a shorter formula")
        if depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} levels deep")

    def expr(self, node: ast.AST, depth: int) -> tuple:
        self.visit(node, depth)
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return ("name", node.id)
            if node.id in CONSTANTS:
                return ("const", node.id)
            if node.id in MATH_FUNCTIONS or node.id in self.table:
                raise self.fail(f"function {node.id!r} used without calling it")
            allowed = ", ".join(sorted(self.names)) or "none"
            raise self.fail(f"unknown name {node.id!r} (allowed names: {allowed})")
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left = self.expr(node.left, d)
            right = self.expr(node.right, d)
            op = _BINOPS[type(node.op)]
            if op == "**":
                self.check_power(node, left, right)
            return ("bin", op, left, right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            inner = self.expr(node.operand, d)
            return ("neg", inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Call):
            return self.call(node, d)
        raise self.refuse(node)

    def number(self, node: ast.Constant) -> tuple:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{_snippet(self.text, node)!r} is not a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"number {_snippet(self.text, node)!r} is not finite")
        if isinstance(value, int) and abs(value) > 10**15:
            raise self.fail(f"integer {_snippet(self.text, node)!r} is too large (over 10**15)")
        return ("num", value)

    def check_power(self, node: ast.AST, base: tuple, exponent: tuple) -> None:
        e = _constant_value(exponent)
        if e is None:
            return
        if abs(e) > 1000:
            raise self.fail(f"exponent in {_snippet(self.text, node)!r} is too large (over 1000)")
        b = _constant_value(base)
        if b is not None and abs(b) > 1 and abs(e) * math.log10(abs(b)) > MAX_POWER_DIGITS:
            raise self.fail(f"power {_snippet(self.text, node)!r} is too large to evaluate")

    def refuse(self, node: ast.AST) -> ValueError:
        part = _snippet(self.text, node)
        if isinstance(node, ast.Attribute):
            return self.fail(f"attribute access '.{node.attr}' is not allowed (in {part!r})")
        if isinstance(node, ast.Subscript):
            return self.fail(f"subscripts are not allowed (in {part!r})")
        if isinstance(node, ast.Lambda):
            return self.fail(f"lambdas are not allowed (in {part!r})")
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return self.fail(f"comprehensions are not allowed (in {part!r})")
        if isinstance(node, (ast.Compare, ast.BoolOp)) or (
            isinstance(node, ast.BinOp) and type(node.op) in _BOOLOPS
        ):
            return self.fail(f"condition {part!r} is only allowed inside Piecewise((expr, cond))")
        if isinstance(node, ast.BinOp):
            return self.fail(f"operator in {part!r} is not allowed (use + - * / **)")
        return self.fail(f"{type(node).__name__} {part!r} is not allowed")

    def call(self, node: ast.Call, depth: int) -> tuple:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise self.refuse(node.func)
            raise self.fail(
                f"only named functions can be called (in {_snippet(self.text, node)!r})"
            )
        fname = node.func.id
        if node.keywords:
            raise self.fail(
                f"keyword arguments are not allowed (in {_snippet(self.text, node)!r}); "
                "pass parameters by position"
            )
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.fail(
                    f"starred arguments are not allowed (in {_snippet(self.text, a)!r})"
                )
        n = len(node.args)
        if fname == "Piecewise":
            return self.piecewise(node, depth)
        if fname in MATH_FUNCTIONS:
            lo, hi = MATH_FUNCTIONS[fname]
        elif fname in self.table:
            op = self.table[fname]
            lo, hi = len(op.inputs), len(op.inputs) + len(op.params)
            lo += len([p for p in op.params if p not in op.defaults])
        else:
            known = sorted(set(MATH_FUNCTIONS) | set(self.table))
            raise self.fail(f"unknown function {fname!r} (known: {', '.join(known)})")
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else f"{lo} to {hi if hi is not None else 'any'}"
            raise self.fail(f"{fname}() takes {want} argument(s), got {n}")
        args = tuple(self.expr(a, depth) for a in node.args)
        return ("call", fname, args)

    def piecewise(self, node: ast.Call, depth: int) -> tuple:
        pieces = []
        for arg in node.args:
            self.visit(arg, depth)
            if not (isinstance(arg, ast.Tuple) and len(arg.elts) == 2):
                part = _snippet(self.text, arg)
                raise self.fail(f"Piecewise takes (expression, condition) pairs, got {part!r}")
            pieces.append((self.expr(arg.elts[0], depth + 1), self.cond(arg.elts[1], depth + 1)))
        return ("piecewise", tuple(pieces))

    def cond(self, node: ast.AST, depth: int) -> tuple:
        self.visit(node, depth)
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return ("bool", node.value)
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1 or type(node.ops[0]) not in _CMPOPS:
                raise self.fail(
                    f"condition {_snippet(self.text, node)!r}: use one comparison "
                    "(< <= > >= == !=), combine with & and |"
                )
            return (
                "cmp",
                _CMPOPS[type(node.ops[0])],
                self.expr(node.left, depth + 1),
                self.expr(node.comparators[0], depth + 1),
            )
        if isinstance(node, ast.BinOp) and type(node.op) in _BOOLOPS:
            return (
                "logic",
                _BOOLOPS[type(node.op)],
                self.cond(node.left, depth + 1),
                self.cond(node.right, depth + 1),
            )
        raise self.fail(
            f"{_snippet(self.text, node)!r} is not a condition (use a comparison, True, & or |)"
        )


def _constant_value(tree: tuple) -> float | None:
    """The number a constant sub-tree stands for (only literals and their negation)."""
    if tree[0] == "num":
        return float(tree[1])
    if tree[0] == "neg":
        inner = _constant_value(tree[1])
        return None if inner is None else -inner
    if tree[0] == "bin" and tree[1] == "**":
        b, e = _constant_value(tree[2]), _constant_value(tree[3])
        if b is not None and e is not None:
            try:
                return float(b**e)
            except (OverflowError, ZeroDivisionError):
                return math.inf
    return None


def parse(text: str, names: Iterable[str] = ("z",), *, table: bool = True) -> tuple:
    """Check ``text`` against the whitelist and return its neutral tree (nested tuples).

    ``names`` are the variables and parameters the formula may use; ``table``
    allows calls of the table's elementwise ops by name. Raises ``ValueError``
    naming the formula and the offending part.

    >>> parse("2*z + 1")
    ('bin', '+', ('bin', '*', ('num', 2), ('name', 'z')), ('num', 1))
    >>> parse("__import__('os').system('echo hi')")
    Traceback (most recent call last):
    ...
    ValueError: formula "__import__('os').system('echo hi')": attribute access '.system' ...
    """
    return _Parser(text, names, table).parse()


def _subtrees(tree: tuple) -> list[tuple]:
    """The direct sub-trees of a neutral tree node."""
    out: list[tuple] = []
    for part in tree[1:]:
        if isinstance(part, tuple):
            if part and isinstance(part[0], str):
                out.append(part)
            else:  # argument tuple or Piecewise pairs
                for sub in part:
                    out.extend(
                        _subtrees(("_",) + sub) if sub and not isinstance(sub[0], str) else [sub]
                    )
    return out


def names_in(tree: tuple) -> set[str]:
    """Variable names a parsed tree uses.

    >>> sorted(names_in(parse("a*x + b", ["a", "b", "x"])))
    ['a', 'b', 'x']
    >>> sorted(names_in(parse("Piecewise((a, z > 0), (exp(z), True))", ["a", "z"])))
    ['a', 'z']
    """
    if tree[0] == "name":
        return {tree[1]}
    out: set[str] = set()
    for sub in _subtrees(tree):
        out |= names_in(sub)
    return out


def variables(text: str) -> list[str]:
    """The variable names a formula uses, in order of first appearance.

    Every name that is not a function called or a constant (``pi``, ``E``) is a
    variable. The formula is checked against the whitelist as :func:`parse` does.

    >>> variables("tanh(w*x + b) + w*pi")
    ['w', 'x', 'b']
    >>> variables("2 + 3")
    []
    """
    if not isinstance(text, str) or len(text) > MAX_LENGTH or not text.strip():
        parse(text)  # raises the formula's own error
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        parse(text)  # raises "not a valid expression" or "nested too deeply"
        raise
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Name)
        and id(n) not in called
        and n.id not in CONSTANTS
        and n.id not in MATH_FUNCTIONS
        and n.id not in _table_functions()
    ]
    names.sort(key=lambda n: (n.lineno, n.col_offset))
    order = list(dict.fromkeys(n.id for n in names))
    used = names_in(parse(text, order))
    return [name for name in order if name in used]


def calls_in(tree: tuple) -> set[str]:
    """Function names a parsed tree calls.

    >>> sorted(calls_in(parse("sigmoid(z) * exp(z)")))
    ['exp', 'sigmoid']
    """
    out: set[str] = {tree[1]} if tree[0] == "call" else set()
    for sub in _subtrees(tree):
        out |= calls_in(sub)
    return out


# ------------------------------------------------------------------ SymPy


def sympy_number(x: float | int) -> Any:
    """An exact SymPy number for a literal (``0.5`` → ``1/2``) when its text is short.

    >>> sympy_number(0.5), sympy_number(3), sympy_number(0.1)
    (1/2, 3, 1/10)
    """
    import sympy

    if isinstance(x, bool):
        return sympy.Integer(int(x))
    if isinstance(x, int):
        return sympy.Integer(x)
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return sympy.Integer(int(x))
    text = repr(x)
    if len(text) <= 10 and "inf" not in text and "nan" not in text:
        return sympy.Rational(text)
    return sympy.Float(x)


def _sympy_functions() -> dict[str, Any]:
    import sympy

    return {
        "exp": sympy.exp,
        "log": sympy.log,
        "sqrt": sympy.sqrt,
        "abs": sympy.Abs,
        "Abs": sympy.Abs,
        "sign": sympy.sign,
        "tanh": sympy.tanh,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "atan": sympy.atan,
        "erf": sympy.erf,
        "Max": sympy.Max,
        "Min": sympy.Min,
        "Heaviside": sympy.Heaviside,
    }


def _build_sympy(tree: tuple, symbols: Mapping[str, Any], text: str, stack: tuple) -> Any:
    import sympy

    kind = tree[0]
    if kind == "num":
        return sympy_number(tree[1])
    if kind == "name":
        return symbols[tree[1]]
    if kind == "const":
        return sympy.pi if tree[1] == "pi" else sympy.E
    if kind == "bool":
        return sympy.true if tree[1] else sympy.false
    if kind == "neg":
        return -_build_sympy(tree[1], symbols, text, stack)
    if kind == "bin":
        a = _build_sympy(tree[2], symbols, text, stack)
        b = _build_sympy(tree[3], symbols, text, stack)
        op = tree[1]
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return a / b
        if a.is_number and b.is_number and a.is_real and b.is_real:
            fa, fb = float(a), float(b)
            if abs(fa) > 1 and abs(fb) * math.log10(abs(fa)) > MAX_POWER_DIGITS:
                raise _fail(text, f"power ({a})**({b}) is too large to evaluate")
        return a**b
    if kind == "cmp":
        a = _build_sympy(tree[2], symbols, text, stack)
        b = _build_sympy(tree[3], symbols, text, stack)
        return {
            "<": sympy.Lt,
            "<=": sympy.Le,
            ">": sympy.Gt,
            ">=": sympy.Ge,
            "==": sympy.Eq,
            "!=": sympy.Ne,
        }[tree[1]](a, b)
    if kind == "logic":
        a = _build_sympy(tree[2], symbols, text, stack)
        b = _build_sympy(tree[3], symbols, text, stack)
        return sympy.And(a, b) if tree[1] == "&" else sympy.Or(a, b)
    if kind == "piecewise":
        pieces = [
            (_build_sympy(e, symbols, text, stack), _build_sympy(c, symbols, text, stack))
            for e, c in tree[1]
        ]
        return sympy.Piecewise(*pieces)
    if kind == "call":
        fname, args = tree[1], [_build_sympy(a, symbols, text, stack) for a in tree[2]]
        functions = _sympy_functions()
        if fname in functions:
            return functions[fname](*args)
        return _expand_op(fname, args, text, stack)
    raise _fail(text, f"internal: unknown tree node {kind!r}")  # pragma: no cover


def _expand_op(fname: str, args: list, text: str, stack: tuple) -> Any:
    """Replace a call of a table op by its own formula with the arguments put in."""
    from .registry import get_op

    op = get_op(fname)
    if fname in stack:
        raise _fail(text, f"op {fname!r} is defined in terms of itself")
    names = op.inputs + op.params
    values = list(args)
    for p in op.params[len(args) - len(op.inputs) :]:
        values.append(sympy_number(op.defaults[p]))
    inner = parse(op.formula, names)
    symbols = dict(zip(names, values))
    return _build_sympy(inner, symbols, op.formula, stack + (fname,))


def make_symbols(names: Iterable[str]) -> dict[str, Any]:
    """Real SymPy symbols for ``names`` (the assumption every formula uses).

    >>> make_symbols(["z"])["z"].is_real
    True
    """
    import sympy

    return {n: sympy.Symbol(n, real=True) for n in names}


def to_sympy(
    text: str,
    variables: Iterable[str] = ("z",),
    params: Iterable[str] | Mapping[str, Any] = (),
    *,
    symbols: Mapping[str, Any] | None = None,
) -> Any:
    """Build the SymPy expression of a formula from its checked tree (never ``sympify``).

    ``variables`` and ``params`` are the names the formula may use; each becomes
    a real ``sympy.Symbol`` — or, when ``params`` is a mapping, parameters are
    replaced by the given numbers. ``symbols`` may supply ready-made symbols
    or expressions for names. Calls of table ops (``sigmoid(z)``) are expanded into
    their own formulas.

    >>> to_sympy("Piecewise((z, z >= 0), (alpha*z, True))", ["z"], ["alpha"])
    Piecewise((z, z >= 0), (alpha*z, True))
    >>> to_sympy("leaky_relu(z)", ["z"])
    Piecewise((z, z >= 0), (z/100, True))
    >>> to_sympy("0.5 * x**2", ["x"])
    x**2/2
    >>> to_sympy("lambda: 0", ["z"])
    Traceback (most recent call last):
    ...
    ValueError: formula 'lambda: 0': lambdas are not allowed (in 'lambda: 0')
    """
    variables = list(variables)
    if isinstance(params, Mapping):
        param_names = list(params)
    else:
        param_names = list(params)
    names = variables + param_names
    tree = parse(text, names)
    table = make_symbols(names)
    if isinstance(params, Mapping):
        for k, v in params.items():
            table[k] = sympy_number(v) if isinstance(v, (int, float)) else v
    if symbols:
        table.update(symbols)
    return _build_sympy(tree, table, text.strip(), ())


# ------------------------------------------------------------------ Values

_VALUE_ALIASES = {"Abs": "abs"}


def to_value(text: str, env: Mapping[str, Any]) -> Any:
    """Evaluate a formula into a graph of :class:`~autograd_lite.Value` nodes made of table ops.

    ``env`` maps every name the formula uses to a Value or a number (numbers
    become leaves labelled with their name). Only arithmetic and the table's
    ops can be evaluated (``sinh``, ``Piecewise``... are SymPy-only).

    >>> y = to_value("sigmoid(w*x + b)", {"w": 2.0, "x": 1.0, "b": -2.0})
    >>> y.op, y.data
    ('sigmoid', 0.5)
    >>> [p.label for p in y.parents[0].parents]
    ['', 'b']
    >>> to_value("x.real", {"x": 1.0})
    Traceback (most recent call last):
    ...
    ValueError: formula 'x.real': attribute access '.real' is not allowed...
    """
    from .registry import get_op
    from .value import Value

    tree = parse(text, list(env))
    text = text.strip()
    leaves: dict[str, Any] = {}
    for name, v in env.items():
        if isinstance(v, Value):
            leaves[name] = v
        else:
            try:
                leaves[name] = Value(v, label=name)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"formula {text!r}: value for {name!r}: {exc}") from None
    ops = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}

    def build(t: tuple) -> Any:
        kind = t[0]
        if kind == "num":
            return float(t[1])
        if kind == "name":
            return leaves[t[1]]
        if kind == "const":
            return math.pi if t[1] == "pi" else math.e
        if kind == "neg":
            inner = build(t[1])
            return -inner
        if kind == "bin":
            a, b = build(t[2]), build(t[3])
            if not isinstance(a, Value) and not isinstance(b, Value):
                return float(get_op(ops[t[1]]).float_forward(a, b))  # numpy rules: 1/0 = inf
            return get_op(ops[t[1]])(a, b)
        if kind == "call":
            fname = _VALUE_ALIASES.get(t[1], t[1])
            from .registry import has_op

            if not has_op(fname) or get_op(fname).formula is None:
                raise _fail(
                    text,
                    f"{t[1]}() is not an op of the table, so it cannot be drawn or "
                    "differentiated as a graph; use table ops (exp, log, tanh, sigmoid, ...)",
                )
            op = get_op(fname)
            args = [build(a) for a in t[2]]
            n = op.arity
            inputs = [
                a if isinstance(a, Value) else Value(a, requires_grad=False) for a in args[:n]
            ]
            return op(*inputs, *args[n:])
        raise _fail(text, f"{t[0]!r} parts (conditions, Piecewise) cannot be built as Values")

    out = build(tree)
    if not isinstance(out, Value):
        out = Value(out, requires_grad=False)
    return out
