"""From traced statements to the source of two Python functions: the compiler's back end.

:func:`generate` turns a :class:`~autograd_lite.compiler.trace.Program` into
``forward(inputs..., bufs)`` and ``backward(g, saved)``. Array statements made of
numpy ufuncs and ``@`` are written as calls with ``out=``: into a buffer that
the caller passes in and gets back for the next call (forward), into buffers
kept with the compiled code (backward), or in place into an input that no
later line reads ("fusion": ``s = np.add(ab, c, out=ab)``). Each line carries
the formula it computes as a comment, so the source reads like a hand-written
forward and backward pass.

>>> import numpy as np
>>> import autograd_lite as al
>>> from autograd_lite.compiler.trace import trace
>>> a = al.Value(np.ones(3), label="a")
>>> code = generate(trace(lambda a: (a * a).tanh().sum(), (a,), "f"))
>>> print(code.source.splitlines()[2])
    mul = np.multiply(a, a, out=_f0)  # mul = a * a
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..value import _EXACT_REFCOUNTS
from .trace import Program, Stmt

_BINOPS = {
    ast.Add: "add",
    ast.Sub: "subtract",
    ast.Mult: "multiply",
    ast.Div: "divide",
    ast.Pow: "power",
    ast.MatMult: "matmul",
}
_UNARY = {ast.USub: "negative"}
_COMPARE = {
    ast.GtE: "greater_equal",
    ast.Gt: "greater",
    ast.LtE: "less_equal",
    ast.Lt: "less",
    ast.Eq: "equal",
    ast.NotEq: "not_equal",
}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


@dataclass
class Generated:
    """The generated source, the namespace it runs in, and the buffers it needs.

    >>> import autograd_lite as al
    >>> from autograd_lite.compiler.trace import trace
    >>> code = generate(trace(lambda v: (v * v).sum(), (al.Value([1.0, 2.0]),), "f"))
    >>> [b.shape for b in code.new_buffers()], code.saved
    ([(2,)], ['v'])
    """

    source: str
    forward: Any
    backward: Any
    forward_buffers: list[tuple[tuple[int, ...], np.dtype]]
    saved: list[str]
    namespace: dict[str, Any] = field(default_factory=dict)
    # the two bodies as lines, for the call wrapper that runs them inline (runtime.py):
    forward_params: list[str] = field(default_factory=list)
    forward_body: list[str] = field(default_factory=list)  # from `bufs` to the output
    output: str = ""
    backward_body: list[str] = field(default_factory=list)  # after unpacking `saved`
    grads: list[str] = field(default_factory=list)
    # (callback, expressions of its values): forward returns those values third, in order
    effects: list[tuple[Any, list[str]]] = field(default_factory=list)

    def new_buffers(self) -> list[np.ndarray]:
        """One fresh set of forward buffers (a call whose backward is pending keeps its own)."""
        return [np.empty(shape, dtype) for shape, dtype in self.forward_buffers]


def _operands(expr: ast.expr) -> tuple[str, list[ast.expr]] | None:
    """``(ufunc name, operands)`` when ``expr`` is one numpy ufunc (or ``@``) applied once."""
    if isinstance(expr, ast.BinOp) and type(expr.op) in _BINOPS:
        return _BINOPS[type(expr.op)], [expr.left, expr.right]
    if isinstance(expr, ast.UnaryOp) and type(expr.op) in _UNARY:
        return _UNARY[type(expr.op)], [expr.operand]
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and type(expr.ops[0]) in _COMPARE:
        return _COMPARE[type(expr.ops[0])], [expr.left, expr.comparators[0]]
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and isinstance(expr.func.value, ast.Name)
        and expr.func.value.id == "np"
        and isinstance(getattr(np, expr.func.attr, None), np.ufunc)
        and not expr.keywords
        and getattr(np, expr.func.attr).nout == 1
    ):
        return expr.func.attr, list(expr.args)
    return None


class _Lowering:
    """Writes statements as lines, choosing where each array result is stored."""

    def __init__(self, prog: Program, buffer_prefix: str, hold: bool = False) -> None:
        self.prog = prog
        self.prefix = buffer_prefix
        self.hold = hold  # fresh arrays handed out go through _held (see write)
        self.held: list[tuple[tuple[int, ...], np.dtype]] = []
        self.buffers: list[tuple[tuple[int, ...], np.dtype]] = []
        self.owned: dict[str, str] = {}  # var -> buffer its value lives in
        self.shared: set[str] = set()  # vars whose memory may be one of our buffers
        self.pinned: set[str] = set()  # vars never to be overwritten in place
        self.lines: list[str] = []

    def evaluate(self, expr: ast.expr) -> Any:
        code = compile(ast.fix_missing_locations(ast.Expression(expr)), "<lowering>", "eval")
        with np.errstate(all="ignore"):
            return eval(code, {"np": np, **self.prog.namespace}, dict(self.prog.values))

    def fits(self, expr: ast.expr, like: np.ndarray) -> bool:
        if _operands(expr) is None:
            return False
        try:
            v = self.evaluate(expr)
        except Exception:
            return False
        return isinstance(v, np.ndarray) and v.shape == like.shape and v.dtype == like.dtype

    def new_buffer(self, value: np.ndarray) -> str:
        name = f"{self.prefix}{len(self.buffers)}"
        self.buffers.append((value.shape, value.dtype))
        return name

    def write(self, s: Stmt, later: set[str], fresh: bool) -> None:
        """Lines for ``s``; ``later``: names read after it; ``fresh``: a new array to hand out."""
        value = s.value
        comment = f"  # {s.var} = {ast.unparse(s.expr)}" + (f"  ({s.note})" if s.note else "")
        note = f"  # {s.note}" if s.note else ""
        lowerable = (
            isinstance(value, np.ndarray)
            and value.ndim >= 1
            and value.dtype in _FLOATS
            and self.fits(s.expr, value)
        )
        names = s.names()
        if not lowerable:
            self.lines.append(f"{s.var} = {ast.unparse(s.expr)}{note}")
            if s.alias:
                self.pinned |= names
                if names & self.shared or isinstance(s.expr, ast.Name):
                    self.shared.add(s.var)
            return
        where: str | None = None  # None: the first ufunc allocates (a fresh array)
        children = True
        if fresh and self.hold and value.nbytes >= _HELD_FROM:
            # a large gradient for a leaf: into the array it got the last time if no one
            # holds that any more, else into a new one (see _spare)
            where = f"_spare(_held, {len(self.held)})"
            self.held.append((value.shape, value.dtype))
        elif not fresh:
            _, ops = _operands(s.expr)
            for op in ops:
                if (
                    isinstance(op, ast.Name)
                    and op.id in self.owned
                    and op.id not in later
                    and op.id not in self.pinned
                    and self._count(s.expr, op.id) == 1
                    and self.prog.values[op.id].shape == value.shape
                    and self.prog.values[op.id].dtype == value.dtype
                ):
                    where, children = op.id, False  # in place: no later line reads op
                    self.owned[s.var] = self.owned[op.id]
                    break
            else:
                where = self.new_buffer(value)
                self.owned[s.var] = where
            self.shared.add(s.var)
        first = [True]
        start = len(self.lines)
        self._lower(s.expr, s.var, where, children, first, value)
        self.lines[start] += comment

    def _scratch(self, expr: ast.expr) -> str | None:
        """``expr`` (one ufunc of names and numbers, e.g. ReLU's mask ``x >= 0``) into a buffer
        of its own, as a call for an operand; None when it is not such an array expression."""
        parts = _operands(expr)
        if parts is None or not all(isinstance(op, (ast.Name, ast.Constant)) for op in parts[1]):
            return None
        try:
            value = self.evaluate(expr)
        except Exception:
            return None
        if not (isinstance(value, np.ndarray) and value.ndim >= 1 and value.size):
            return None
        args = [_number(op) for op in parts[1]]
        return f"np.{parts[0]}({', '.join(args)}, out={self.new_buffer(value)})"

    @staticmethod
    def _count(expr: ast.expr, name: str) -> int:
        return sum(isinstance(n, ast.Name) and n.id == name for n in ast.walk(expr))

    def _lower(
        self,
        expr: ast.expr,
        var: str,
        where: str | None,
        children: bool,
        first: list[bool],
        like: np.ndarray,
    ) -> None:
        ufunc, ops = _operands(expr)
        args = []
        used_child = False
        for op in ops:
            if children and not used_child and self.fits(op, like):
                self._lower(op, var, where, children, first, like)
                args.append(var)
                used_child = True
            elif (scratch := self._scratch(op)) is not None:
                args.append(scratch)
            else:
                args.append(_number(op))
        call = f"np.{ufunc}({', '.join(args)}"
        if first[0]:
            call += f", out={where})" if where is not None else ")"
            first[0] = False
        else:
            call += f", out={var})"
            if ufunc == "multiply" and "g" in args and isinstance(self.prog.seed, float):
                # loss.backward() seeds g = 1.0: the product by g is only needed for other seeds
                self.lines.append(f"if g != 1.0: {var} = {call}")
                return
        self.lines.append(f"{var} = {call}")


_refs = sys.getrefcount
# Gradients from this size on are computed into the array handed out the last time, when
# no one holds it any more (_spare): a new array that large may come fresh from the
# system (glibc maps blocks from 128 KB on, and gives freed memory back), a page fault per
# 4 KB. Smaller ones are left to numpy: a Python call costs more than the allocation (the
# per-op case: 7 % more instructions per step with _spare for its 2 KB gradients).
_HELD_FROM = 1 << 18


def _spare(held: list, k: int) -> np.ndarray:
    """The array for gradient ``k`` of the generated backward: the last one, or a new one.

    The generated backward computes a leaf's gradient into the array it handed out
    the last time (``out=_spare(_held, k)``). That array is used again only when its
    reference count says that ``held`` alone refers to it: the leaf's ``.grad`` was
    reset (``zero_grad()``, ``.grad = None``) and no caller kept it, no view of it
    lives, no optimizer state holds it. Otherwise a new array takes its place in
    ``held``, so a ``.grad`` someone kept never changes. (The ``.grad`` getter hands
    gradients out read-only: taken back here, the array is ours to write again.)

    >>> held = [np.zeros(2)]
    >>> first = _spare(held, 0)
    >>> first is held[0], _spare(held, 0) is first   # `first` is still held here
    (True, False)
    >>> del first
    >>> again = held[0]; del again  # (only the list refers to held[0] now)
    >>> _spare(held, 0) is held[0]
    True
    """
    buf = held[k]
    if _refs(buf) == _SOLE:
        buf.setflags(True)  # (positional: a keyword costs numpy an argument parser)
        return buf
    buf = held[k] = np.empty(buf.shape, buf.dtype)
    return buf


def _sole_holder() -> int:
    """What ``sys.getrefcount`` says in ``_spare`` of an array only the list holds (measured
    so, once: the count depends on the interpreter); -1 on a free-threaded build, whose
    counts are split between threads (then gradients are always new arrays)."""
    if not _EXACT_REFCOUNTS:
        return -1
    held = [np.empty(1)]
    buf = held[0]
    return _refs(buf)


_SOLE = _sole_holder()


def _number(op: ast.expr) -> str:
    """An operand as code; a small int as a float (the same number: numpy converts it faster)."""
    if isinstance(op, ast.Constant) and type(op.value) is int and abs(op.value) < 2**24:
        return repr(float(op.value))
    return ast.unparse(op)


def _uses(stmts: list[Stmt]) -> list[set[str]]:
    """``later[k]``: the names read by statements after ``k``."""
    later: list[set[str]] = [set() for _ in stmts]
    seen: set[str] = set()
    for k in range(len(stmts) - 1, -1, -1):
        later[k] = set(seen)
        seen |= stmts[k].names()
    return later


def generate(prog: Program) -> Generated:
    """The forward and backward functions of ``prog``, as source and as functions."""
    fwd_vars = {v for v, _ in prog.inputs} | {s.var for s in prog.forward}
    bwd_names: set[str] = set()
    for s in prog.backward:
        bwd_names |= s.names()
    order = [*(v for v, _ in prog.inputs), *(s.var for s in prog.forward)]
    saved = [v for v in order if v in bwd_names and v in fwd_vars]

    # ---- forward
    fl = _Lowering(prog, "_f")
    fl.pinned |= {v for v, _ in prog.inputs}  # the caller's arrays: never written
    later = _uses(prog.forward)
    effect_vars = [e for _, exprs in prog.effects for e in exprs]
    keep = set(saved) | {prog.output} | set(effect_vars)  # effects read them after the body
    for s, after in zip(prog.forward, later):
        fl.write(s, after | keep, fresh=s.var == prog.output)
    if prog.output in fl.shared:
        fl.lines.append(f"{prog.output} = {prog.output}.copy()  # the caller's own array")
    params = [v for v, _ in prog.inputs]
    head = f"def forward({', '.join([*params, 'bufs'])}):"
    body = []
    if fl.buffers:
        names = ", ".join(f"_f{i}" for i in range(len(fl.buffers)))
        body.append(f"{names}{',' if len(fl.buffers) == 1 else ''} = bufs")
    body += fl.lines
    saved_tuple = _tuple(saved)
    if prog.effects:  # the values the effects' callbacks read, after the pass
        body.append(f"return {prog.output}, {saved_tuple}, {_tuple(effect_vars)}")
    else:
        body.append(f"return {prog.output}, {saved_tuple}")

    # ---- backward
    bl = _Lowering(prog, "_b", hold=True)
    bl.pinned |= fwd_vars | {"g"}  # forward values: a second backward reads them again
    delivered = {var for _, var in prog.grads}
    later = _uses(prog.backward)
    for s, after in zip(prog.backward, later):
        bl.write(s, after | delivered, fresh=s.var in delivered)
        if s.var in delivered:
            bl.pinned.add(s.var)
    copies = []
    for var in dict.fromkeys(v for _, v in prog.grads):
        if var in bl.shared:
            copies.append(f"{var} = {var}.copy()  # the gradient's own array")
    bhead = "def backward(g, saved):"
    bbody = []
    if saved:
        bbody.append(f"{', '.join(saved)}{',' if len(saved) == 1 else ''} = saved")
    bbody += bl.lines + copies
    grads = [v for _, v in prog.grads]
    names = ", ".join(f"∂/∂{name}" for name in prog.grad_names)
    bbody.append(f"return ({', '.join(grads)}{',' if len(grads) == 1 else ''})  # {names}")

    source = "\n".join(
        [head, *("    " + line for line in body), "", "", bhead, *("    " + line for line in bbody)]
    )
    namespace: dict[str, Any] = {"np": np, **prog.namespace}
    for i, (shape, dtype) in enumerate(bl.buffers):
        namespace[f"_b{i}"] = np.empty(shape, dtype)
    if bl.held:
        namespace["_held"] = [np.empty(shape, dtype) for shape, dtype in bl.held]
        namespace["_spare"] = _spare
    code = compile(source, f"<compiled {prog.name}>", "exec")
    exec(code, namespace)  # our own generated text, built from the op table
    return Generated(
        source=source + "\n",
        forward=namespace["forward"],
        backward=namespace["backward"],
        forward_buffers=fl.buffers,
        saved=saved,
        namespace=namespace,
        forward_params=params,
        forward_body=body[:-1],
        output=prog.output,
        backward_body=bbody[1 if saved else 0 : -1],
        grads=grads,
        effects=prog.effects,
    )


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
