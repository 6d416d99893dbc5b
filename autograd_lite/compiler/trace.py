"""From one eager run of a function to a list of statements: the compiler's front end.

:func:`trace` runs the function once on the given arguments with the ordinary
engine, walks the recorded graph from its output, and writes each node as one
statement ``name = expression`` over the names of earlier statements: the op's
``emit`` expression when the op table has one (checked on the traced data
against the op's own ``forward`` / ``vjps``), else a call of ``op.forward`` /
``op.vjps[i]``. The backward pass is written the same way, node by node in
reverse, with the sums where a value is read twice and the reductions where an
input was broadcast, as the engine does them at run time. Every statement keeps
its traced value, so the code generator knows each shape and dtype exactly.

>>> import numpy as np
>>> import autograd_lite as al
>>> a = al.Value(np.ones(3), label="a")
>>> prog = trace(lambda a: (a * a).sum(), (a,), "square")
>>> [s.text for s in prog.forward]
['mul = a * a', 'sum = float(np.add.reduce(mul, None))']
"""

from __future__ import annotations

import ast
import contextlib
import copy
import inspect
import keyword
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..graph import _CONSTANTS, enable_grad, walk
from ..registry import passthrough
from ..value import Value


class CompileError(TypeError):
    """A function that ``al.compile`` cannot trace (it says which function and why).

    >>> import autograd_lite as al
    >>> def half(x):
    ...     return x.data / 2
    >>> al.compile(half)(al.Value([1.0]))
    Traceback (most recent call last):
    ...
    autograd_lite.compiler.trace.CompileError: compile(half): the function must return a Value...
    """


@dataclass
class Stmt:
    """One line of generated code: ``var = expr``, with the value it had when traced.

    >>> import ast
    >>> Stmt("s", ast.parse("a + b", mode="eval").body, 3.0).text
    's = a + b'
    """

    var: str
    expr: ast.expr
    value: Any
    note: str = ""  # the op it comes from, for the comment
    alias: bool = False  # the result may share memory with an input (a call, a bare name)

    @property
    def text(self) -> str:
        """The line as Python source."""
        return f"{self.var} = {ast.unparse(self.expr)}"

    def names(self) -> set[str]:
        """The names the expression reads."""
        return {n.id for n in ast.walk(self.expr) if isinstance(n, ast.Name)}


@dataclass
class Program:
    """A traced function: its inputs, forward and backward statements, and what they call.

    >>> import autograd_lite as al
    >>> prog = trace(lambda v: (v * v).sum(), (al.Value([1.0, 2.0], label="v"),), "square")
    >>> prog.output, [var for _, var in prog.grads]
    ('sum', ['g_v3'])
    """

    name: str
    inputs: list[tuple[str, Any]]  # (var, how to get it: ("arg", i) / ("captured", Value))
    forward: list[Stmt]
    output: str
    backward: list[Stmt]
    grads: list[tuple[Value, str]]  # (Value that receives it, var) in backward's return order
    grad_names: list[str] = field(default_factory=list)  # what each of grads is ∂/∂ of
    namespace: dict[str, Any] = field(default_factory=dict)  # op functions, constants
    values: dict[str, Any] = field(default_factory=dict)  # traced value of every name
    seed: Any = None
    state: list[tuple[Any, str, Any]] = field(default_factory=list)  # (object, attr, value)
    # effects registered while tracing: (callback, the expressions of the values it reads)
    effects: list[tuple[Any, list[str]]] = field(default_factory=list)


# names the generated code uses itself (the last four: a compiled result's generated
# ``backward`` method, which runs the backward pass inline; see runtime.py)
_RESERVED = {"np", "g", "out", "saved", "bufs", "float", "Value"} | {
    "self",
    "grad",
    "retain_graph",
    "create_graph",
}


class _Names:
    """Readable, unique Python names: labels where they exist, op names otherwise."""

    def __init__(self) -> None:
        self.used: set[str] = set(_RESERVED)

    def make(self, base: str) -> str:
        # labels as they are where Python allows it (ŷ, w·x), other characters as _
        base = "".join(ch if ("a" + ch).isidentifier() else "_" for ch in base).strip("_") or "v"
        if not base.isidentifier():
            base = "v" + base
        if keyword.iskeyword(base):
            base += "_"
        name, k = base, 1
        while unicodedata.normalize("NFKC", name) in self.used:
            k += 1
            name = f"{base}{k}"
        self.used.add(unicodedata.normalize("NFKC", name))
        return name


def _literal(x: Any) -> bool:
    """True for parameters that can be written into the source as they are."""
    if x is None or isinstance(x, (bool, int, str)):
        return True
    if isinstance(x, float):
        return x == x and x not in (float("inf"), float("-inf"))
    if isinstance(x, tuple):
        return all(_literal(i) for i in x)
    return False


def _same(a: Any, b: Any, exact_shape: bool = True) -> bool:
    """``a`` (from an emitted expression) computes ``b`` (from the op itself)."""
    if isinstance(b, float) or (isinstance(b, np.ndarray) and b.ndim == 0):
        try:
            return bool(np.allclose(a, b, rtol=1e-5, atol=1e-7, equal_nan=True)) and np.ndim(a) == 0
        except (TypeError, ValueError):
            return False
    if not isinstance(b, np.ndarray) or not isinstance(a, (np.ndarray, float, np.floating)):
        return False
    if exact_shape and np.shape(a) != b.shape:
        return False
    if isinstance(a, np.ndarray) and a.dtype != b.dtype:
        return False
    try:
        wide = np.broadcast_to(a, b.shape)
    except ValueError:
        return False
    tol = 1e-4 if b.dtype == np.float32 else 1e-6
    return bool(np.allclose(wide, b, rtol=tol, atol=tol * 1e-2, equal_nan=True))


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class _Tracer:
    def __init__(self, fn_name: str, args: tuple, arg_names: tuple[str, ...] = ()) -> None:
        self.fn_name = fn_name
        self.args = args
        self.arg_names = arg_names
        self.inputs: list[tuple[str, Any]] = []
        self.names = _Names()
        self.ns: dict[str, Any] = {}
        self.values: dict[str, Any] = {}
        self.var_of: dict[int, str] = {}  # id(Value) -> var
        self.params_of: dict[int, list[ast.expr]] = {}  # id(node) -> its parameters as code
        self._fn_names: dict[int, str] = {}  # id(callable or constant) -> namespace name
        self._ones: dict[tuple, str] = {}  # (n, dtype) -> name of np.ones(n, dtype)

    # ------------------------------------------------------------- helpers
    def arg_var(self, i: int) -> str:
        """The name of argument ``i`` (made on first use)."""
        for var, how in self.inputs:
            if how == ("arg", i):
                return var
        a = self.args[i]
        names = self.arg_names
        label = a.label if isinstance(a, Value) and a.label else ""
        label = label or (names[i] if i < len(names) else f"arg{i}")
        var = self.names.make(label)
        self.inputs.append((var, ("arg", i)))
        self.values[var] = a._data if isinstance(a, Value) else a
        return var

    def bind(self, obj: Any, base: str) -> str:
        """A namespace name for a function or constant the generated code reads."""
        name = self._fn_names.get(id(obj))
        if name is None or self.ns.get(name) is not obj:
            name = self.names.make(base)
            self.ns[name] = obj
            self._fn_names[id(obj)] = name
        return name

    def ones(self, n: int, dtype: Any) -> str:
        """The name of a read-only ``np.ones(n, dtype)`` the generated code reads."""
        key = (n, np.dtype(dtype).str)
        name = self._ones.get(key)
        if name is None:
            arr = np.ones(n, dtype)
            arr.setflags(False)
            name = self._ones[key] = self.bind(arr, "ones")
            self.values[name] = arr
        return name

    def param_ast(self, p: Any, base: str) -> ast.expr:
        if _literal(p):
            return ast.parse(repr(p), mode="eval").body
        return _name(self.bind(p, base))

    def evaluate(self, expr: ast.expr) -> Any:
        tree = ast.fix_missing_locations(ast.Expression(expr))
        code = compile(tree, f"<compile {self.fn_name}>", "eval")
        with np.errstate(all="ignore"):
            return eval(code, {"np": np, **self.ns}, dict(self.values))  # our own op table's text

    def emitted(self, template: str, mapping: dict[str, ast.expr]) -> ast.expr:
        tree = ast.parse(template, mode="eval").body

        class Sub(ast.NodeTransformer):
            def visit_Name(self, node: ast.Name) -> ast.expr:
                return copy.deepcopy(mapping[node.id]) if node.id in mapping else node

            def visit_Call(self, node: ast.Call) -> ast.expr:
                self.generic_visit(node)
                node.keywords = [  # numpy's default, left out: a keyword costs ~0.1 µs a call
                    k
                    for k in node.keywords
                    if not (
                        k.arg == "keepdims"
                        and isinstance(k.value, ast.Constant)
                        and k.value.value is False
                    )
                ]
                return node

        return ast.fix_missing_locations(Sub().visit(tree))

    def stmt(self, out: list[Stmt], base: str, expr: ast.expr, value: Any, note: str) -> str:
        var = self.names.make(base)
        alias = isinstance(value, np.ndarray) and _may_alias(expr)
        out.append(Stmt(var, expr, value, note, alias))
        self.values[var] = value
        return var


def _parse(text: str) -> ast.expr:
    return ast.parse(text, mode="eval").body


def _name(var: str) -> ast.Name:
    return ast.Name(var, ast.Load())


_VIEWS = {"broadcast_to", "asarray", "reshape", "transpose", "view", "T", "astype"}


def _may_alias(expr: ast.expr) -> bool:
    """Whether the value of ``expr`` may share memory with one of its inputs."""
    if isinstance(expr, (ast.Name, ast.Subscript)):
        return True
    if isinstance(expr, ast.Attribute):
        return expr.attr in _VIEWS
    if isinstance(expr, ast.Call):
        f = expr.func
        if isinstance(f, ast.Name):
            return f.id != "float"  # an op's own function: it may return a view
        if isinstance(f, ast.Attribute):
            return f.attr in _VIEWS
    return False


def _order(root: Value, stops: set[int], more: tuple[Value, ...] = ()) -> list[Value]:
    """Recorded nodes reachable from ``root`` (and ``more``) and their leaves, inputs first.

    The search stops at the Values in ``stops`` (the ids of the arguments): an
    argument computed by eager code before the call is an input of the compiled
    function, never traced through (the generated code reads it at each call).
    ``more``: other Values the generated code must compute too (what effects read).
    """
    return walk((root, *more), stops)


def _array_match(data: Any, args: tuple, name: str) -> int | None:
    """Index of the array argument whose content ``data`` is a copy of (None if none).

    Two different arrays with those same contents make the choice ambiguous: refused,
    as the generated code would read one of them for good.
    """
    if not isinstance(data, np.ndarray):
        return None
    found: list[tuple[int, Any]] = []
    for i, a in enumerate(args):
        src = a._data if isinstance(a, Value) else a
        if (
            isinstance(src, np.ndarray)
            and src.shape == data.shape
            and (src is data or np.array_equal(src, data))
        ):
            found.append((i, src))
    if not found:
        return None
    if any(src is not found[0][1] for _, src in found):
        raise CompileError(
            f"compile({name}): arguments {[i for i, _ in found]} are different arrays with "
            "the same contents, so the trace cannot tell which one the function reads; "
            "call it first with different data"
        )
    return found[0][0]


def run_eager(fn: Any, args: tuple, kwargs: dict, name: str) -> Value:
    """``fn(*args)`` with the engine recording even for constant Value arguments."""
    flipped = [a for a in args if isinstance(a, Value) and a._in0 is None and not a.requires_grad]
    for a in flipped:  # record what the function computes from constant inputs too
        a.requires_grad = True
    try:
        with enable_grad():
            out = fn(*args, **kwargs)
    finally:
        for a in flipped:
            a.requires_grad = False
    if not isinstance(out, Value):
        raise CompileError(
            f"compile({name}): the function must return a Value, it returned {type(out).__name__}"
        )
    return out


def _parameter_names(fn: Any) -> tuple[str, ...]:
    """The names of ``fn``'s positional parameters (none for ``*args``, or without a signature)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return ()
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in params if p.kind in kinds)


def _fingerprint(root: Value, stops: set[int]) -> list[tuple]:
    """What a graph computes: its ops and parameters, every leaf (and argument) by its data."""
    out = []
    for node in _order(root, stops):
        if node._in0 is None or id(node) in stops:
            out.append(("leaf", node._data))
        else:
            out.append((node._op.name, *node._params))
    return out


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b, equal_nan=True))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b) or (a != a and b != b)
    except (TypeError, ValueError):
        return a is b


def _same_twice(first: Value, second: Value, name: str, args: tuple) -> None:
    """Refuse a function that builds another graph on the same inputs (random numbers)."""
    stops = {id(a) for a in args if isinstance(a, Value)}
    one, two = _fingerprint(first, stops), _fingerprint(second, stops)
    for k in range(max(len(one), len(two))):
        a = one[k] if k < len(one) else ("nothing",)
        b = two[k] if k < len(two) else ("nothing",)
        if not _equal(a, b):
            what = a[0] if a[0] != "leaf" else "a leaf's data"
            raise CompileError(
                f"compile({name}): two runs on the same arguments built different graphs "
                f"(at {what!r}, step {k + 1}): the function draws random numbers (dropout's "
                "mask) or reads state that changes, which a compiled function would freeze. "
                "Compile it without them (model.eval()), or call it eagerly"
            )


# The functions being traced now (innermost last): each one's name, and the attributes
# read through reads_state while it ran, as (object, attribute, value)
_tracing: list[tuple[str, list[tuple[Any, str, Any]]]] = []


def reads_state(obj: Any, attr: str) -> Any:
    """``getattr(obj, attr)``, remembered as a condition of the trace when tracing.

    Library code whose graph depends on a Python attribute (a module's
    ``training`` flag, the buffer arrays BatchNorm evaluates with) reads it
    through this: the compiled code is then used only while the attribute keeps
    the value it had when traced (numbers and strings compared by value,
    anything else by identity), and traced again when it changes
    (``model.eval()`` after a compiled training step, new running statistics).

    >>> class Switch:
    ...     on = True
    >>> s = Switch()
    >>> reads_state(s, "on")
    True
    """
    value = getattr(obj, attr)
    if _tracing:
        _tracing[-1][1].append((obj, attr, value))
    return value


def _shown(v: Any) -> str:
    return repr(v) if type(v) in (bool, int, float, str) else f"a {type(v).__name__}"


def same_state(a: Any, b: Any) -> bool:
    """Whether a value read by :func:`reads_state` still holds (the rule its guard uses).

    >>> same_state(2, 2), same_state([1], [1])
    (True, False)
    """
    return a is b or (type(a) in (int, float, str) and type(b) is type(a) and a == b)


_effects: list[list[tuple[Any, tuple[Value, ...]]]] = []  # per traced run: (callback, Values)


def effect(callback: Any, *values: Value) -> None:
    """Run ``callback(*(v.data for v in values))`` now, or at every call of compiled code.

    Library code with a side effect that depends only on values it computes
    (BatchNorm's running statistics, updated from the batch's mean and variance)
    registers it through this instead of doing it directly. Eagerly the callback
    runs at once. While a function is being traced it does not run: the trace
    records it with the ``values`` (which become outputs of the generated forward
    pass), and the compiled function calls it with their arrays after the
    forward pass of **every** call, including the first, under ``no_grad`` too,
    so the effect happens exactly once per call, as it does eagerly. The arrays
    may be buffers the next call writes into: the callback must use them at
    once (compute new arrays from them), never keep them.

    >>> import autograd_lite as al
    >>> seen = []
    >>> def f(x):
    ...     m = x.mean()
    ...     effect(seen.append, m)
    ...     return (x * x).sum()
    >>> fast = al.compile(f)
    >>> x = al.Value([1.0, 3.0])
    >>> _ = fast(x), fast(x)
    >>> seen
    [2.0, 2.0]
    """
    if not all(isinstance(v, Value) for v in values):
        kinds = ", ".join(type(v).__name__ for v in values)
        raise TypeError(
            f"effect({getattr(callback, '__name__', callback)!r}): the values "
            f"must be Values (pass other parameters in the callback), got {kinds}"
        )
    if _effects:
        _effects[-1].append((callback, values))
        return
    callback(*(v._data for v in values))


@contextlib.contextmanager
def deferred_effects() -> Iterator[list[tuple[Any, tuple[Value, ...]]]]:
    """Collect the effects registered inside the block instead of running them.

    >>> import autograd_lite as al
    >>> with deferred_effects() as later:
    ...     effect(print, al.Value(1.0))
    >>> len(later)
    1
    """
    _effects.append([])
    try:
        yield _effects[-1]
    finally:
        _effects.pop()


def refuse_side_effect(what: str) -> None:
    """Raise :class:`CompileError` when called while a function is being traced.

    Library code that changes Python-side state as it computes, in a way
    :func:`effect` cannot express (it needs more than the values of the graph),
    calls this *before* changing anything: a compiled function runs only the
    recorded numpy code, so the change would happen at trace time and never again.
    Outside tracing it does nothing.

    >>> refuse_side_effect("counting calls")  # not tracing: nothing happens
    >>> import autograd_lite as al
    >>> def counted(x):
    ...     refuse_side_effect("counting calls")
    ...     return x.sum()
    >>> al.compile(counted)(al.Value([1.0]))
    Traceback (most recent call last):
    ...
    autograd_lite.compiler.trace.CompileError: compile(counted): counting calls...
    """
    if _tracing:
        raise CompileError(
            f"compile({_tracing[-1][0]}): {what} at every call, a side effect compiled code "
            "would run once while tracing and then never again; nothing was changed. "
            "Compile it without that, or call it eagerly"
        )


def refuse_frozen_data(what: str) -> None:
    """Raise :class:`CompileError` when called while a function is being traced.

    Library code that hands the caller numpy computed from the data outside the
    graph (``max_pool2d``'s indices), which the caller may feed back into an op as a
    parameter, calls this: a compiled function would keep that parameter at its
    traced value and give stale results for new data. Outside tracing it does nothing.

    >>> refuse_frozen_data("argmax indices")  # not tracing: nothing happens
    >>> import numpy as np, autograd_lite as al
    >>> def pooled(x):
    ...     out, idx = al.max_pool2d(x, 2, return_indices=True)
    ...     return al.max_unpool2d(out, idx, 2).sum()
    >>> al.compile(pooled)(al.Value(np.ones((1, 1, 2, 2))))
    Traceback (most recent call last):
    ...
    autograd_lite.compiler.trace.CompileError: compile(pooled): max_pool2d(return_indices=True)...
    """
    if _tracing:
        raise CompileError(
            f"compile({_tracing[-1][0]}): {what} computes numpy from the data outside the "
            "graph; compiled code would keep its traced value for every later call. "
            "Call that part eagerly"
        )


def trace(fn: Any, args: tuple, name: str, wanted: tuple[bool, ...] | None = None) -> Program:
    """Run ``fn(*args)`` once and write its graph as forward and backward statements.

    ``wanted[i]`` says whether argument ``i`` wants a gradient (its ``requires_grad``
    before tracing; the default reads it from the arguments).
    """
    if wanted is None:
        wanted = tuple(isinstance(a, Value) and a.requires_grad for a in args)
    reads: list[tuple[Any, str, Any]] = []
    _tracing.append((name, reads))
    try:  # effects are collected, not run: the compiled calls run them (once each)
        with deferred_effects() as effects:
            root = run_eager(fn, args, {}, name)
        with deferred_effects() as again:
            second = run_eager(fn, args, {}, name)
        _same_twice(root, second, name, args)
        if [len(v) for _, v in effects] != [len(v) for _, v in again]:
            raise CompileError(
                f"compile({name}): two runs on the same arguments registered different "
                "effects; such a function cannot be compiled, call it eagerly"
            )
    finally:
        _tracing.pop()
    effect_values = tuple(v for _, vs in effects for v in vs)
    first: dict[tuple[int, str], tuple[Any, str, Any]] = {}
    for o, a, v in reads:
        seen = first.setdefault((id(o), a), (o, a, v))
        if not same_state(seen[2], v):  # no guard at the call's start could hold
            raise CompileError(
                f"compile({name}): the function changes {type(o).__name__}.{a} that it "
                f"reads (first {_shown(seen[2])}, then {_shown(v)}), so no state before a call "
                "tells which code it needs; set it outside the function, or call it eagerly"
            )
    state = list(first.values())
    t = _Tracer(name, args, _parameter_names(fn))
    arg_index: dict[int, int] = {}
    for i, a in enumerate(args):
        if isinstance(a, Value):
            arg_index.setdefault(id(a), i)  # a Value passed twice is its first argument
    inputs = t.inputs
    arg_var = t.arg_var

    order = _order(root, set(arg_index), effect_values)
    forward: list[Stmt] = []
    for node in order:
        i = arg_index.get(id(node))
        if i is not None:  # an argument: a leaf, or a node eager code made before the call
            t.var_of[id(node)] = arg_var(i)
            continue
        if node._in0 is None:  # a leaf
            d = node._data
            if not node.requires_grad and type(d) is float and _CONSTANTS.get(d) is node:
                t.var_of[id(node)] = repr(d) if _literal(d) else t.bind(d, "const")
                continue
            if not node.requires_grad:
                j = _array_match(d, args, name)
                if j is not None:  # a constant made from an array argument
                    var = arg_var(j)
                    src = t.values[var]
                    if np.asarray(src).dtype != d.dtype:
                        var = t.stmt(forward, var, _astype(var, d.dtype), d, "as Value")
                    t.var_of[id(node)] = var
                    continue
            var = t.names.make(node.label or ("param" if node.requires_grad else "const"))
            inputs.append((var, ("captured", node)))
            t.var_of[id(node)] = var
            t.values[var] = d
            continue
        t.var_of[id(node)] = _forward_stmt(t, forward, node, args)

    # ------------------------------------------------------------- backward
    def wants(v: Value) -> bool:
        i = arg_index.get(id(v))
        if i is not None:
            return wanted[i]
        if v._in0 is not None:
            return any(wants_memo[id(p)] for p in v.parents)
        return v.requires_grad

    wants_memo: dict[int, bool] = {}
    for node in order:
        wants_memo[id(node)] = wants(node)

    backward: list[Stmt] = []
    contrib: dict[int, list[str]] = {}
    seed_var = "g"
    out_data = root._data
    seed = (
        1.0 if type(out_data) is float else np.ones(np.shape(out_data), np.asarray(out_data).dtype)
    )
    t.values[seed_var] = seed
    grads: list[tuple[Value, str]] = []
    if wants_memo[id(root)]:
        contrib[id(root)] = [seed_var]
    for node in reversed(order):
        parts = contrib.pop(id(node), None)
        if not parts:
            continue
        gvar = _accumulate(t, backward, node, parts)
        if node._in0 is None or id(node) in arg_index:
            grads.append((node, _deliver(t, backward, node, gvar)))
            continue
        _backward_stmts(t, backward, node, gvar, contrib, wants_memo)
    inputs.sort(key=lambda item: item[1][1] if item[1][0] == "arg" else len(args))  # args first
    leaf_grads = {id(v): var for v, var in grads}
    ordered = [(v, leaf_grads[id(v)]) for v in order if id(v) in leaf_grads]
    return Program(
        name=name,
        inputs=inputs,
        forward=forward,
        output=t.var_of[id(root)],
        backward=backward,
        grads=ordered,
        grad_names=[v.label or t.var_of.get(id(v), var) for v, var in ordered],
        namespace=t.ns,
        values=t.values,
        seed=seed,
        state=state,
        effects=[(cb, [t.var_of[id(v)] for v in vs]) for cb, vs in effects],
    )


def _astype(var: str, dtype: Any) -> ast.expr:
    return ast.parse(f"{var}.astype(np.{np.dtype(dtype).name})", mode="eval").body


def _node_base(node: Value) -> str:
    return node.label or node._op.name


def _forward_stmt(t: _Tracer, out: list[Stmt], node: Value, args: tuple) -> str:
    op = node._op
    ins = [
        _name(t.var_of[id(p)]) if not _is_literal_var(t, p) else _const(t, p) for p in node.parents
    ]
    params = []
    for pname, p in zip(op.params, node._params):
        j = _array_match(p, args, t.fn_name) if isinstance(p, np.ndarray) else None
        params.append(_name(t.arg_var(j)) if j is not None else t.param_ast(p, pname))
    t.params_of[id(node)] = params
    expr = None
    if op.emit and op.emit[0]:
        mapping = dict(zip(op.inputs, ins)) | dict(zip(op.params, params))
        candidate = t.emitted(op.emit[0], mapping)
        try:
            if _same(t.evaluate(candidate), node._data):
                expr = candidate
        except Exception:  # the expression does not cover this case: call the op
            expr = None
    if expr is None:
        datas = [p._data for p in node.parents]
        fwd = op.float_forward if all(type(d) is float for d in datas) else op.forward
        fname = t.bind(fwd, f"{op.name}_fwd" if fwd is op.forward else f"{op.name}_scalar")
        expr = ast.Call(_name(fname), [*ins, *params], [])
    value = node._data
    got = type(_try_eval(t, expr))
    if type(value) is float and got is not float:  # what the engine stores: a float ...
        expr = ast.Call(_name("float"), [expr], [])
    elif type(value) is np.ndarray and got is not np.ndarray:  # ... or an array, not a scalar
        expr = _parse(f"np.asarray({ast.unparse(expr)})")
    return t.stmt(out, _node_base(node), expr, value, "")


def _try_eval(t: _Tracer, expr: ast.expr) -> Any:
    try:
        return t.evaluate(expr)
    except Exception:
        return None


def _is_literal_var(t: _Tracer, p: Value) -> bool:
    var = t.var_of[id(p)]
    return not var.isidentifier()


def _const(t: _Tracer, p: Value) -> ast.expr:
    return ast.parse(t.var_of[id(p)], mode="eval").body


def _accumulate(t: _Tracer, out: list[Stmt], node: Value, parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    expr: ast.expr = _name(parts[0])
    value = t.values[parts[0]]
    for p in parts[1:]:
        expr = ast.BinOp(expr, ast.Add(), _name(p))
        value = value + t.values[p]
    return t.stmt(out, "g_" + t.var_of[id(node)], expr, value, "sum of gradients")


def _deliver(t: _Tracer, out: list[Stmt], node: Value, gvar: str) -> str:
    """The gradient for a leaf or argument: its full shape and dtype."""
    data = node._data
    g = t.values[gvar]
    if type(data) is float:
        if type(g) is float:
            return gvar
        expr = ast.parse(f"float(np.sum({gvar}))", mode="eval").body
        return t.stmt(out, gvar, expr, float(np.sum(g)), "to a float")
    if np.shape(g) != data.shape:
        expr = ast.parse(f"np.broadcast_to({gvar}, {data.shape!r})", mode="eval").body
        gvar = t.stmt(out, gvar, expr, np.broadcast_to(g, data.shape), "broadcast back")
        g = t.values[gvar]
    if not isinstance(g, np.ndarray) or g.dtype != data.dtype:
        expr = ast.parse(f"np.asarray({gvar}, dtype=np.{data.dtype.name})", mode="eval").body
        gvar = t.stmt(out, gvar, expr, np.asarray(g, dtype=data.dtype), "in the input's dtype")
    return gvar


def _backward_stmts(
    t: _Tracer,
    out: list[Stmt],
    node: Value,
    gvar: str,
    contrib: dict[int, list[str]],
    wants: dict[int, bool],
) -> None:
    op = node._op
    parents = node.parents
    g = t.values[gvar]
    full_g = None  # g broadcast to the output's shape, made only if a call needs it
    ins = [_name(t.var_of[id(p)]) if not _is_literal_var(t, p) else _const(t, p) for p in parents]
    params = t.params_of[id(node)]
    out_var = t.var_of[id(node)]
    for i, parent in enumerate(parents):
        if not wants.get(id(parent), False):
            continue
        vjp = op.vjps[i]
        pdata = parent._data
        base = "g_" + t.var_of[id(parent)] if not _is_literal_var(t, parent) else "g"
        if vjp is passthrough:
            var, value = gvar, g
        else:
            gfull = g
            if np.shape(g) != np.shape(node._data):
                gfull = np.broadcast_to(g, np.shape(node._data))
            with np.errstate(all="ignore"):
                truth = vjp(gfull, node._data, *node._args)
            expr = None
            template = op.emit[i + 1] if len(op.emit) > i + 1 else None
            if template:
                mapping = dict(zip(op.inputs, ins)) | dict(zip(op.params, params))
                mapping |= {"g": _name(gvar), "out": _name(out_var)}
                candidate = t.emitted(template, mapping)
                try:
                    got = t.evaluate(candidate)
                    if _same(_summed_to(got, np.shape(truth)), truth, exact_shape=False):
                        expr, truth = candidate, got
                except Exception:
                    expr = None
            if isinstance(expr, ast.Name):  # the gradient passes through unchanged
                var = _fit(t, out, expr.id, truth, pdata, base)
                contrib.setdefault(id(parent), []).append(var)
                continue
            if expr is None:
                if full_g is None:
                    full_g = gvar
                    if gfull is not g:
                        text = f"np.broadcast_to({gvar}, {np.shape(node._data)!r})"
                        full_g = t.stmt(out, gvar, _parse(text), gfull, "broadcast")
                suffix = "" if op.arity == 1 else "_" + op.inputs[i]
                fname = t.bind(vjp, f"{op.name}_vjp{suffix}")
                args = [_name(full_g), _name(out_var), *ins, *params]
                expr = ast.Call(_name(fname), args, [])
            var = t.stmt(
                out,
                base,
                expr,
                truth,
                f"through {op.name}" + (f", input {i + 1}" if op.arity > 1 else ""),
            )
            value = truth
        var = _fit(t, out, var, value, pdata, base)
        contrib.setdefault(id(parent), []).append(var)


def _summed_to(value: Any, shape: tuple) -> Any:
    """``value`` summed over the axes it has beyond ``shape`` (None if it cannot be)."""
    gshape = np.shape(value)
    if gshape == shape or _broadcasts_to(gshape, shape):
        return value
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != gshape[k + lead] for k, s in enumerate(shape)):
        return None
    axes = tuple(range(lead)) + tuple(
        k + lead for k, s in enumerate(shape) if s == 1 and gshape[k + lead] != 1
    )
    return np.add.reduce(value, axis=axes, keepdims=True).reshape(shape)


def _fit(t: _Tracer, out: list[Stmt], var: str, value: Any, pdata: Any, base: str) -> str:
    """Sum a gradient over the axes its input was broadcast along (as the engine does)."""
    shape = np.shape(pdata)
    gshape = np.shape(value)
    if gshape == shape or _broadcasts_to(gshape, shape):
        wrong = isinstance(value, np.ndarray) and value.dtype != getattr(pdata, "dtype", None)
        if isinstance(pdata, np.ndarray) and wrong:
            expr = _astype(var, pdata.dtype)
            return t.stmt(out, base, expr, value.astype(pdata.dtype), "dtype")
        return var
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        k + lead for k, s in enumerate(shape) if s == 1 and gshape[k + lead] != 1
    )
    keep = len(axes) > lead
    if (
        axes == (0,)
        and len(gshape) == 2
        and isinstance(value, np.ndarray)
        and value.dtype in (np.float32, np.float64)
        and getattr(pdata, "dtype", None) == value.dtype
    ):  # a bias over a batch: ones @ g, a matrix-vector product (BLAS), 2-3x faster
        ones = t.ones(gshape[0], value.dtype)  # than np.add.reduce over axis 0, as accurate
        expr = ast.parse(f"{ones} @ {var}", mode="eval").body
        return t.stmt(out, base, expr, t.values[ones] @ value, "summed over the batch")
    text = f"np.add.reduce({var}, axis={axes!r}"
    text += ", keepdims=True)" if keep else ")"
    if keep:
        text = f"{text}.reshape({shape!r})"
    reduced = np.add.reduce(value, axis=axes, keepdims=keep)
    if keep:
        reduced = reduced.reshape(shape)
    if isinstance(pdata, np.ndarray) and np.asarray(reduced).dtype != pdata.dtype:
        text = f"np.asarray({text}, dtype=np.{pdata.dtype.name})"
        reduced = np.asarray(reduced, dtype=pdata.dtype)
    elif type(pdata) is float:
        text, reduced = f"float({text})", float(reduced)
    expr = ast.parse(text, mode="eval").body
    return t.stmt(out, base, expr, reduced, "summed over broadcast axes")
