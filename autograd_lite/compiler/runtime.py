"""``al.compile``: the callable that traces once per input signature and runs generated code.

A call looks up the code generated for its arguments' shapes, dtypes and
``requires_grad`` flags (tracing and generating it on the first such call),
reads the data of the arguments and of the parameters the function captured,
runs the generated forward pass and returns its result as ONE node of the
ordinary graph: its inputs are the Values that get gradients, its op runs the
generated backward pass. So ``loss.backward()``, gradient accumulation,
``retain_graph``, optimizers and eager code around the compiled call all work
as usual; the compiled function's intermediate results are not Values and hold
no ``.grad``.

>>> import numpy as np
>>> import autograd_lite as al
>>> w = al.Value(np.array([0.5, -1.0]), label="w")
>>> fast = al.compile(lambda x: ((w * x).tanh() ** 2).sum())
>>> loss = fast(np.array([1.0, 2.0]))
>>> loss.backward()
>>> w.grad.round(4).tolist()
[0.7269, -0.2724]
"""

from __future__ import annotations

import builtins
import functools
import inspect
from typing import Any

import numpy as np

from .. import graph
from ..graph import _hold
from ..registry import Op
from ..value import MANY, Value, _Token
from .codegen import Generated, generate
from .trace import (
    CompileError,
    Program,
    _effects,
    deferred_effects,
    run_eager,
    same_state,
    trace,
)

_STATIC = (type(None), bool, int, float, str)
_MAX_ENTRIES = 32
_POOL = 4  # forward buffer sets kept per traced signature


class CompileCheckError(RuntimeError):
    """``check=True`` found the compiled result different from the eager function's.

    >>> import autograd_lite as al
    >>> state = {"k": 2.0}
    >>> def scaled(x):
    ...     return (x * state["k"]).sum()
    >>> fast = al.compile(scaled, check=True)
    >>> fast(al.Value([1.0])).data
    2.0
    >>> state["k"] = 3.0
    >>> fast(al.Value([1.0]))
    Traceback (most recent call last):
    ...
    autograd_lite.compiler.runtime.CompileCheckError: compiled scaled (check=True): ...
    """


class _Call:
    """One call: its forward buffers, its saved values and its backward (the node's vjps).

    Kept per signature and used again by later calls (``_Entry.pool``) once no
    graph can need its buffers any more.
    """

    __slots__ = ("saved", "grads", "g", "left", "n", "entry", "bufs")

    def grad(self, i: int, g: Any) -> Any:
        """Input ``i``'s gradient: the generated backward runs once per pass, for all inputs."""
        if g is not self.g or self.grads is None:
            if isinstance(g, Value):
                raise NotImplementedError(
                    f"compiled {self.entry.name}: backward(create_graph=True) is not "
                    "supported through a compiled function; call the eager function for "
                    "higher-order derivatives"
                )
            if self.saved is None:
                raise RuntimeError(
                    f"compiled {self.entry.name}: this result's backward already ran and "
                    "freed its buffers; use backward(retain_graph=True) the first time"
                )
            self.grads = self.entry.code.backward(g, self.saved)
            self.g = g
            self.left = self.n
        grads = self.grads
        self.left -= 1
        if not self.left:  # every input served: hold no gradients
            self.grads = self.g = None
        return grads[i]


class _CallLock:
    """The node's lock: releases the leaves and gives the call's buffers back when dropped.

    The engine drops a node's lock once its backward has run (``retain_graph=False``)
    or when the graph is freed, so buffers go back exactly when no pass can need them.
    A compiled result's own ``backward()`` releases them itself and keeps the lock
    object for the next call (``call`` None: nothing left to release).
    """

    __slots__ = ("call", "leaves")  # leaves: what graph._hold gave for each saved leaf

    def __del__(self) -> None:
        call = self.call
        if call is None:
            return  # (the leaves go with this object: dropping them releases them)
        call.saved = call.grads = call.g = None
        pool = call.entry.pool
        if len(pool) < _POOL:
            pool.append(call)


class CompiledResult(Value):
    """The Value a compiled call returns: one graph node whose op runs the generated backward.

    It is a Value like any other (eager code may use it; the engine's backward goes
    through its op's vjps). A call whose inputs are all leaves returns one of these,
    of a class made for its signature: its ``backward()`` is generated with the
    code (see ``_Entry.make_runner``) and runs the backward pass inline, adds the
    gradients to the leaves as the engine adds them and frees the node, without the
    engine's bookkeeping; with ``create_graph``, in anomaly mode or once freed, it
    is the engine's.

    >>> import autograd_lite as al
    >>> a = al.Value([1.0, 2.0])
    >>> out = al.compile(lambda a: (a * a).sum())(a)
    >>> isinstance(out, CompiledResult), out.op
    (True, 'compiled <lambda>')
    """

    __slots__ = ()


class _Entry:
    """The code generated for one signature of arguments, and how to feed it."""

    def __init__(self, name: str, prog: Program, code: Generated, args: tuple) -> None:
        self.name = name
        self.prog = prog
        self.code = code
        self.pool: list[_Call] = []  # calls whose buffers no graph needs any more
        self.state = prog.state  # Python attributes the graph depended on, and their values
        saved = set(code.saved)
        self.input_vars = [var for var, _ in prog.inputs]
        # how to get each input of forward(): ("value", i) / ("array", i, copy) / ("captured", v)
        self.getters: list[tuple] = []
        self.captured: list[tuple[Value, Any, bool]] = []  # (Value, its _sig, requires_grad)
        for var, how in prog.inputs:
            if how[0] == "arg":
                i = how[1]
                if isinstance(args[i], Value):
                    self.getters.append(("value", i))
                else:
                    self.getters.append(("array", i, var in saved))
            else:
                v = how[1]
                self.getters.append(("captured", v))
                self.captured.append((v, _sig(v._data), v.requires_grad))
        arg_ids: dict[int, int] = {}
        for i, a in enumerate(args):
            if isinstance(a, Value):
                arg_ids.setdefault(id(a), i)  # a Value passed twice: its first position
        self.targets = [
            ("arg", arg_ids[id(v)]) if id(v) in arg_ids else ("captured", v) for v, _ in prog.grads
        ]
        self.op = Op(
            f"compiled {name}",
            forward=self._no_forward,
            # nothing wants a gradient: no node is ever made, a placeholder for the op table
            vjps=tuple(self._vjp(k) for k in range(len(prog.grads))) or (self._no_forward,),
            label=f"compiled {name}",
            inputs=tuple(var for _, var in prog.grads) or ("z",),
            keeps_inputs=True,
            doc=f"the compiled function {name}",
        )

    def _no_forward(self, *args: Any) -> Any:
        raise RuntimeError(f"compiled {self.name}: its node cannot be re-run on its own")

    @staticmethod
    def _vjp(k: int) -> Any:
        def vjp(g: Any, out: Any, *rest: Any) -> Any:
            return rest[-1].grad(k, g)

        return vjp

    def captured_unchanged(self) -> bool:
        return all(
            _sig(v._data) == sig and v.requires_grad is rg for v, sig, rg in self.captured
        ) and all(same_state(getattr(obj, attr), value) for obj, attr, value in self.state)

    def new_call(self) -> _Call:
        """A call object with its own set of forward buffers (the pool had none left)."""
        call = _Call()
        call.saved = call.grads = call.g = None
        call.left = 0
        call.n = len(self.targets)
        call.entry = self
        call.bufs = self.code.new_buffers()
        return call

    def make_runner(self, key: tuple) -> Any:
        """A function ``run(args)`` for this signature: guards, forward, the node; MISS if not.

        The generated forward runs inline (its lines are the body of ``forward`` in
        ``fast.source``), and so does the backward in the result's own ``backward()``
        method: a call is one Python frame, its backward one more. The runner's own
        names start with ``_`` (generated names never do).
        """
        code = self.code
        ns: dict[str, Any] = dict(code.namespace)  # np, the ops' functions, backward buffers
        ns.update(
            _Value=Value,
            _ndarray=np.ndarray,
            _modes=graph.modes,
            _MISS=MISS,
            _pool=self.pool,
            _locks=[],  # _CallLock objects the short backward released, for the next calls
            _new_call=self.new_call,
            _forward=code.forward,
            _new=object.__new__,
            _CallLock=_CallLock,
            _Token=_Token,
            _hold=_hold,
            _op=self.op,
            _MANY=MANY,
            _constant=_constant_result,
            _seed=graph._seed,
            _fitted=graph._fitted,
            _FREED=graph.FREED,
            _graph_backward=graph.backward,
            _SPENT=(None,),
        )
        n = len(key)
        xs = [f"_x{i}" for i in range(n)]
        lines = ["def run(args):", f"    if len(args) != {n}:", "        return _MISS"]
        if n:
            lines.append(f"    {_tuple(xs)} = args")
        data: dict[int, str] = {}
        for i, k in enumerate(key):
            x = xs[i]
            if k[0] == "V":
                _, sig, rg, leaf, root = k
                lines.append(  # a subclass (a compiled result) is a Value too
                    f"    if (type({x}) is not _Value and not isinstance({x}, _Value)) or "
                    f"{x}.requires_grad is not {rg} or {x}._in0 is {'not ' if leaf else ''}None:"
                )
                lines.append("        return _MISS")
                same = [  # which arguments are the same Value: part of the graph
                    f"{x} is {'not ' if key[j][4] == root else ''}_x{j}"
                    for j in range(i)
                    if key[j][0] == "V"
                ]
                if same:
                    lines += [f"    if {' or '.join(same)}:", "        return _MISS"]
                lines.append(f"    _d{i} = {x}._data")
                data[i] = f"_d{i}"
                lines += _guard(f"_d{i}", sig, ns, f"_S{i}")
            elif k[0] == "A":
                lines += _guard(x, (k[1], k[2]), ns, f"_S{i}")
                same = [
                    f"{x} is {'not ' if key[j][3] == k[3] else ''}_x{j}"
                    for j in range(i)
                    if key[j][0] == "A"
                ]
                if same:
                    lines += [f"    if {' or '.join(same)}:", "        return _MISS"]
                copy = any(g[0] == "array" and g[1] == i and g[2] for g in self.getters)
                data[i] = f"{x}.copy()" if copy else x  # backward reads it: the caller may not
            else:
                ns[f"_K{i}"] = k[2]
                lines.append(f"    if type({x}) is not {k[1].__name__} or {x} != _K{i}:")
                lines.append("        return _MISS")
        for k, (obj, attr, value) in enumerate(self.state):  # e.g. a module's training flag
            ns[f"_M{k}"], ns[f"_MV{k}"] = obj, value
            if type(value) in (int, float, str):  # as same_state: by value, else by identity
                lines += [
                    f"    _s = _M{k}.{attr}",
                    f"    if type(_s) is not {type(value).__name__} or _s != _MV{k}:",
                    "        return _MISS",
                ]
            else:
                lines += [f"    if _M{k}.{attr} is not _MV{k}:", "        return _MISS"]
        saved = set(code.saved)
        inputs = []
        pinned = []
        captured_name: dict[int, str] = {}
        for j, how in enumerate(self.getters):
            if how[0] == "captured":
                ns[f"_C{j}"] = how[1]
                captured_name[id(how[1])] = f"_C{j}"
                lines.append(f"    _c{j} = _C{j}._data")
                lines.append(f"    if _C{j}.requires_grad is not {how[1].requires_grad}:")
                lines.append("        return _MISS")  # frozen or unfrozen since: trace again
                lines += _guard(f"_c{j}", _sig(how[1]._data), ns, f"_CS{j}")
                inputs.append(f"_c{j}")
                if (
                    how[1]._in0 is None
                    and self.input_vars[j] in saved
                    and _sig(how[1]._data) is not float
                ):
                    pinned.append((f"_C{j}", f"_c{j}"))
            else:
                inputs.append(data[how[1]])
                k = key[how[1]]
                if how[0] == "value" and k[3] and k[1] is not float and self.input_vars[j] in saved:
                    pinned.append((xs[how[1]], f"_d{how[1]}"))
        parents = [xs[t[1]] if t[0] == "arg" else captured_name[id(t[1])] for t in self.targets]
        datas = {x: f"_d{i}" for i, x in enumerate(xs)}  # each parent's data, loaded above
        datas |= {name: "_c" + name[2:] for name in captured_name.values()}
        all_leaves = all(not (p.startswith("_x") and not key[int(p[2:])][3]) for p in parents)
        call_in = ", ".join([*inputs, "_call.bufs"])
        # effects (trace.effect): each callback with its values' arrays, after every forward
        # pass, as eagerly (also under no_grad); it uses them at once (they may be buffers)
        effect_calls: list[tuple[str, list[str]]] = []
        for k, (callback, exprs) in enumerate(code.effects):
            ns[f"_E{k}"] = callback
            effect_calls.append((f"_E{k}", exprs))
        if effect_calls:
            flat = [f"_ev[{j}]" for j in range(sum(len(e) for _, e in effect_calls))]
            short = [f"_r = _forward({call_in})", "_ev = _r[2]"]
            j = 0
            for fname, exprs in effect_calls:
                short.append(f"{fname}({', '.join(flat[j : j + len(exprs)])})")
                j += len(exprs)
            short.append("return _constant(_r[0], _pool, _call)")
        else:
            short = [f"return _constant(_forward({call_in})[0], _pool, _call)"]
        if effect_calls:  # inside a trace (or check=True's eager run): eagerly, see _call
            ns["_deferring"] = _effects
            lines += ["    if _deferring:", "        return _MISS"]
        lines += [
            "    _call = _pool.pop() if _pool else _new_call()",
            "    if not _modes.recording:  # no_grad(): the forward only; anomaly mode: eager",
            "        if _modes._anomaly:",
            "            _pool.append(_call)",
            "            return _MISS",
            *(f"        {line}" for line in short),
        ]
        if not parents:
            lines += [f"    {line}" for line in short]
        else:
            # the forward pass, inline: its parameters bound to the inputs, then its body
            lines += [f"    {v} = {e}" for v, e in zip(code.forward_params, inputs)]
            if code.forward_buffers:
                lines.append("    bufs = _call.bufs")
            lines += [f"    {line}" for line in code.forward_body]
            lines += [f"    {fname}({', '.join(exprs)})" for fname, exprs in effect_calls]
            pins = list(dict.fromkeys(pinned))
            for k, (v, d) in enumerate(pins):  # graph._hold, its common case inline
                lines += [
                    f"    _h{k} = {v}._lock",
                    f"    if type(_h{k}) is not _Token:",
                    f"        _h{k} = _hold({v}, {d})",
                ]
            if isinstance(self.prog.values[self.prog.output], np.ndarray):
                lines.append(f"    {code.output}.setflags(False)")  # as every op's output
            result = "_Result" if all_leaves else "_Value"
            if all_leaves:
                ns["_Result"] = type(
                    "CompiledResult", (CompiledResult,), {"__slots__": (), "__module__": __name__}
                )
            lines += [
                f"    _call.saved = {_tuple(code.saved)}",
                "    _lock = _locks.pop() if _locks else _new(_CallLock)",
                "    _lock.call = _call",
                f"    _lock.leaves = {_tuple([f'_h{k}' for k in range(len(pins))])}",
                f"    _node = _new({result})",
                f"    _node._data = {code.output}",
                "    _node._grad = None",
                "    _node._acc = None",
                "    _node.label = ''",
                "    _node._origin = None",
                "    _node.requires_grad = True",
                f"    _node._in0 = {_tuple(parents)}",
                "    _node._in1 = _MANY",
                "    _node._users = 0",
            ]
            for p in parents:
                if p.startswith("_x") and not key[int(p[2:])][3]:  # an argument that is a node
                    lines.append(f"    {p}._users += 1")
            lines += [
                f"    _node._x0 = {_tuple([datas[p] for p in parents])}",
                "    _node._x1 = None",
                "    _node._params = (_call,)",
                "    _node._op = _op",
                "    _node._lock = _lock",
                "    return _node",
            ]
            if all_leaves:
                lines += self._short_backward(len(parents))
        # the same body once more as the compiled function's own __call__ (one frame less
        # per call): arguments it does not take go to Compiled._call, which traces
        end = lines.index("", 1) if "" in lines else len(lines)
        call = [
            "",
            "",
            "def call(self, *args, **kwargs):",
            "    if kwargs:",
            "        return self._call(args, kwargs)",
            *(
                line.replace("return _MISS", "return self._call(args, kwargs)")
                for line in lines[1:end]
            ),
        ]
        source = "\n".join(lines + call) + "\n"
        exec(builtins.compile(source, f"<run {self.name}>", "exec"), ns)  # our own text
        self.runner_source = source
        self.call = ns["call"]
        if all_leaves and parents:
            ns["backward"].__doc__ = Value.backward.__doc__  # what it does, generated
            ns["_Result"].backward = ns["backward"]
        return ns["run"]

    def _short_backward(self, n: int) -> list[str]:
        """``result.backward()`` when the call's inputs are leaves: the backward pass inline.

        As the engine's pass: the seed, the node's own gradient, each input's gradient
        (fitted to its data, or the engine's error, when the data was rebound since the
        call) added only after all were made; then the node is freed: its leaves
        released and its buffers given back for the next call.
        """
        code = self.code
        scalar = type(self.prog.values[self.prog.output]) is float
        ps, es, gs = [f"_p{k}" for k in range(n)], [f"_e{k}" for k in range(n)], code.grads
        lines = [
            "",
            "",
            "def backward(self, grad=None, *, retain_graph=False, create_graph=False):",
            "    if create_graph or _modes._anomaly or self._lock is _FREED:",
            "        return _graph_backward(self, grad, retain_graph, create_graph)",
            "    g = 1.0 if grad is None else _seed(self, grad)"
            if scalar
            else "    g = _seed(self, grad)",
            "    _call = self._params[0]",
        ]
        if code.saved:
            lines.append(f"    {_tuple(code.saved)} = _call.saved")
        lines += [f"    {line}" for line in code.backward_body]  # the generated backward
        lines += [f"    {_tuple(ps)} = self._in0", f"    {_tuple(es)} = self._x0"]
        for k, (p, e, gi) in enumerate(zip(ps, es, gs)):
            lines += [
                f"    if not {p}.requires_grad:",
                f"        _g{k} = None",
                f"    elif {p}._data is {e}:  # as at the call: the gradient fits",
                f"        _g{k} = {gi}",
                "    else:",
                f"        _g{k} = _fitted(self, {p}, {gi}, False)",
            ]
        lines += ["    _old = self._grad", "    self._grad = g if _old is None else _old + g"]
        for k, p in enumerate(ps):
            lines += [
                f"    if _g{k} is not None:",
                f"        _old = {p}._grad",
                f"        {p}._grad = _g{k} if _old is None else _old + _g{k}",
            ]
        lines += [
            "    if not retain_graph:",
            "        _lock = self._lock",
            "        self._lock = _FREED",
            "        self._params = _SPENT  # the call object serves the next call",
            "        _lock.call = _lock.leaves = None  # (dropping the leaves releases them)",
            "        if len(_locks) < 4:",
            "            _locks.append(_lock)",
            "        _call.saved = None",
            f"        if len(_pool) < {_POOL}:",
            "            _pool.append(_call)",
        ]
        return lines


MISS = object()  # a runner's answer when the arguments do not fit its signature


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def _constant_result(out: Any, pool: list, call: _Call) -> Value:
    """A result that needs no gradient (inside ``no_grad``, or nothing wants one)."""
    if len(pool) < _POOL:
        pool.append(call)
    return Value(out, requires_grad=False)


def _guard(var: str, sig: Any, ns: dict, name: str) -> list[str]:
    if sig is float:
        return [f"    if type({var}) is not float:", "        return _MISS"]
    ns[name], ns[name + "t"] = sig
    return [  # dtype by identity first: comparing dtypes costs a microsecond
        f"    if type({var}) is not _ndarray or {var}.shape != {name} or "
        f"({var}.dtype is not {name}t and {var}.dtype != {name}t):",
        "        return _MISS",
    ]


def _sig(d: Any) -> Any:
    return float if type(d) is float else (d.shape, d.dtype)


class Compiled:
    """What ``al.compile(fn)`` returns: call it like ``fn``; ``.source`` is the generated code.

    >>> import autograd_lite as al
    >>> fast = al.compile(lambda a, b: (a * b).sum())
    >>> fast(al.Value([1.0, 2.0]), al.Value([3.0, 4.0])).data
    11.0
    >>> print(fast.source.splitlines()[0])
    def forward(a, b, bufs):
    """

    def __init__(self, fn: Any, check: bool = False) -> None:
        if not callable(fn):
            raise TypeError(f"compile: expected a function or module, got {type(fn).__name__}")
        self.fn = fn
        self.check = bool(check)
        self.name = getattr(fn, "__qualname__", None) or type(fn).__name__
        self._entries: dict[tuple, _Entry] = {}
        self._last: _Entry | None = None
        self._run: Any = None
        self._nargs: int | None = None
        self._traced = 0
        functools.update_wrapper(self, fn, updated=())
        # a class of its own, whose __call__ is the latest signature's generated call
        self.__class__ = type("Compiled", (Compiled,), {"__module__": __name__})

    @property
    def source(self) -> str:
        """The generated forward and backward code of the latest call's signature."""
        if self._last is None:
            raise RuntimeError(
                f"compiled {self.name}: nothing generated yet; it is traced on its first call"
            )
        return self._last.code.source

    @property
    def traces(self) -> int:
        """How many times the function was traced (a new shape or dtype, a parameter changed)."""
        return self._traced

    def __repr__(self) -> str:
        return f"<compiled {self.name}: {self.traces} trace(s)>"

    def _bind(self, args: tuple, kwargs: dict) -> tuple:
        try:
            bound = inspect.signature(self.fn).bind(*args, **kwargs)
        except TypeError as exc:
            traced = (
                "not traced yet"
                if self._nargs is None
                else f"traced with {self._nargs} argument(s)"
            )
            raise TypeError(
                f"compiled {self.name}: {exc} ({traced}, called with {len(args) + len(kwargs)})"
            ) from None
        except ValueError:  # no signature to read (a builtin): keep the call as it is
            if kwargs:
                raise
            return args
        bound.apply_defaults()
        if bound.kwargs:
            raise CompileError(
                f"compiled {self.name}: keyword-only arguments {sorted(bound.kwargs)} are not "
                "supported; pass them by position"
            )
        return tuple(bound.args)

    def _key(self, args: tuple) -> tuple:
        key = []
        for i, a in enumerate(args):
            if isinstance(a, Value):
                root = next(j for j in range(i + 1) if args[j] is a)  # the same Value twice
                key.append(("V", _sig(a._data), a.requires_grad, a._in0 is None, root))
            elif type(a) is np.ndarray:
                root = next(j for j in range(i + 1) if args[j] is a)  # the same array twice
                key.append(("A", a.shape, a.dtype, root))
            elif isinstance(a, _STATIC):
                key.append(("S", type(a), a))
            else:
                hint = "np.asarray(...)" if isinstance(a, (list, tuple)) else "a Value"
                raise CompileError(
                    f"compiled {self.name}: argument {i} is a {type(a).__name__}; pass Values, "
                    f"numpy arrays or numbers (for a {type(a).__name__}, {hint})"
                )
        return tuple(key)

    def __call__(self, *args: Any, **kwargs: Any) -> Value:
        run = self._run  # the latest signature's runner: guards, then the generated code
        if run is not None and not kwargs:
            result = run(args)
            if result is not MISS:
                if self.check:
                    self._check(args, result)
                return result
        return self._call(args, kwargs)

    def _call(self, args: tuple, kwargs: dict) -> Value:
        """A call the latest runner did not take: new signature, keywords, anomaly mode."""
        if kwargs or (self._nargs is not None and len(args) != self._nargs):
            args = self._bind(args, kwargs)  # defaults filled in: a fixed number of arguments
        if self._nargs is not None and len(args) != self._nargs:
            raise TypeError(
                f"compiled {self.name}: traced with {self._nargs} argument(s), called with "
                f"{len(args)}"
            )
        if graph.modes._anomaly:  # detect_anomaly checks every op: run the eager function
            return self.fn(*args)
        if _effects:  # another function is being traced (or checked): its effects are
            return self.fn(*args)  # being collected, so run this one eagerly, collected too
        key = self._key(args)
        entry = self._entries.get(key)
        if entry is None or not entry.captured_unchanged():
            entry = self._trace(key, args)
        self._last = entry
        self._run = entry.runner
        if not self.check:  # (check=True: every call through Compiled.__call__, checked)
            type(self).__call__ = entry.call
        result = entry.runner(args)
        if result is MISS:  # the key and the runner's guards agree: never expected
            raise RuntimeError(f"compiled {self.name}: internal error, signature {key}")
        if self.check:
            self._check(args, result)
        return result

    def _trace(self, key: tuple, args: tuple) -> _Entry:
        wanted = tuple(isinstance(a, Value) and a.requires_grad for a in args)
        prog = trace(self.fn, args, self.name, wanted)
        entry = _Entry(self.name, prog, generate(prog), args)
        entry.runner = entry.make_runner(key)
        entry.prog = None  # the trace's values and Values: not needed any more, not kept alive
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = entry
        self._nargs = len(args)
        self._traced += 1
        return entry

    def _check(self, args: tuple, result: Value) -> None:
        """Run the eager function too and raise when its value or gradients differ."""
        with deferred_effects():  # the compiled call ran the effects: not a second time
            eager = run_eager(self.fn, args, {}, self.name)
        what = _differs(result._data, eager._data)
        if what is None and result.requires_grad and result.ndim == 0:
            parents = result.parents
            call = result._params[0]
            seed = 1.0 if type(result._data) is float else np.ones((), result.dtype)
            mine = call.entry.code.backward(seed, call.saved)
            kept = [p._grad for p in parents]
            try:
                for p in parents:
                    p._grad = None
                eager.backward()
                theirs = [p._grad for p in parents]
            finally:
                for p, g in zip(parents, kept):
                    p._grad = g
            for p, a, b in zip(parents, mine, theirs):
                diff = _differs(a, 0.0 if b is None else b)
                if diff is not None:
                    what = f"the gradient of {p.label or 'an input'!r}: {diff}"
                    break
        if what is not None:
            raise CompileCheckError(
                f"compiled {self.name} (check=True): the compiled result differs from the "
                f"eager function's ({what}). Its graph depends on the data (a Python branch on "
                "values) or on Python state that changed since it was traced; such a function "
                "cannot be compiled"
            )


def _differs(a: Any, b: Any) -> str | None:
    if np.shape(a) != np.shape(b):
        return f"shape {np.shape(a)} vs {np.shape(b)}"
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if np.allclose(a, b, rtol=1e-4, atol=1e-6, equal_nan=True):
        return None
    return f"largest difference {float(np.nanmax(np.abs(a - b))):.3g}"


def compile(fn: Any, check: bool = False) -> Compiled:
    """Compile ``fn`` (a function of Values and arrays returning a Value, or a module).

    The first call for a new set of argument shapes and dtypes runs ``fn`` once,
    records its graph and generates straight-line numpy code for the forward and
    the backward pass; later calls run that code. The result is a Value:
    ``loss.backward()`` puts gradients on the argument Values and on every
    parameter ``fn`` reads (their data is read afresh at each call). With
    ``check=True`` each call also runs ``fn`` eagerly and raises
    :class:`CompileCheckError` when value or gradients differ. See
    ``docs/compile.md`` for what is traced and the limits.

    >>> import autograd_lite as al
    >>> x = al.Value(2.0, label="x")
    >>> f = al.compile(lambda x: x * x + x)
    >>> y = f(x); y.backward(); x.grad
    5.0
    """
    return Compiled(fn, check=check)
