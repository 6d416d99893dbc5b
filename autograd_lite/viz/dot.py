"""DOT text for a computation graph, built without any renderer.

:func:`to_dot` walks the graph from an output ``Value`` back to its leaves and
writes one record node per ``Value`` (its label, data and gradient) and one
ellipse per op (the op table's ``label``). Optionally each input edge carries
the *local derivative* ∂out/∂input at the current values, so the picture shows
the factors that the chain rule multiplies.

Everything here is plain text: no Graphviz is needed to build it, and the text
is deterministic (node ids follow a breadth-first walk from the output, parents
in argument order), so tests can compare it.

>>> import autograd_lite as al
>>> a = al.Value(2.0, label="a")
>>> b = (a * a).tanh()
>>> b.label = "b"
>>> dot = to_dot(b)
>>> dot.splitlines()[0]
'digraph autograd_lite {'
>>> "label=\\"tanh\\"" in dot
True
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..value import Value

#: Default limit on the number of ``Value`` nodes drawn (op nodes come on top).
DEFAULT_MAX_NODES = 150

FONT = "Helvetica"

# Colours (Tailwind palette): readable on screen, in print and for colour-blind
# readers (the kinds also differ by border style, not only by colour).
_STYLE_PARAM = {"fillcolor": "#dbeafe", "color": "#1e40af"}  # a leaf that learns
_STYLE_CONST = {
    "fillcolor": "#f1f5f9",
    "color": "#94a3b8",
    "fontcolor": "#475569",
    "style": "filled,dashed",
}
_STYLE_INNER = {"fillcolor": "#ffffff", "color": "#334155"}
_STYLE_OUTPUT = {"fillcolor": "#dcfce7", "color": "#166534", "penwidth": "1.6"}
_STYLE_BACKWARD = {"fillcolor": "#ffedd5", "color": "#c2410c"}
_STYLE_OP = {"fillcolor": "#fef9c3", "color": "#a16207", "style": "filled"}
_STYLE_OP_BACKWARD = {"fillcolor": "#fed7aa", "color": "#c2410c", "style": "filled,dashed"}
_HIGHLIGHT = "#dc2626"
_FACTOR_COLOR = "#9a3412"

_RANKDIRS = ("LR", "RL", "TB", "BT")
_ATTR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_RECORD_SPECIAL = re.compile(r"([{}|<>])")


# --------------------------------------------------------------------- escaping
def escape_text(text: str) -> str:
    """Escape ``text`` for a quoted DOT string shown as a plain label.

    Backslashes and quotes are escaped (so Graphviz's ``\\N``/``\\G`` codes
    never fire), newlines become line breaks, other control characters are
    shown as ``?``. The result never ends with a backslash.

    >>> escape_text('say "hi"\\\\n')
    'say \\\\"hi\\\\"\\\\\\\\n'
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _CONTROL.sub("?", text)
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return text


def escape_record(text: str) -> str:
    """Escape ``text`` for one field of a Graphviz record label.

    On top of :func:`escape_text`, the record syntax characters ``{ } | < >``
    are escaped, so a label such as ``"{a|b}"`` shows literally.

    >>> escape_record("w<1>|{x}")
    'w\\\\<1\\\\>\\\\|\\\\{x\\\\}'
    """
    return _RECORD_SPECIAL.sub(r"\\\1", escape_text(text))


def _quote(text: str) -> str:
    """A DOT quoted string from already-escaped text (never ending in a backslash)."""
    if text.endswith("\\"):
        # Graphviz's lexer would read the closing quote as an escaped one
        text += " "
    return f'"{text}"'


# ------------------------------------------------------------------ formatting
def format_number(x: float, digits: int = 4) -> str:
    """A short, readable number: ``0.25``, ``-1.5e-05``, ``3``, ``nan``.

    >>> format_number(0.123456), format_number(3.0), format_number(-2.5e-7)
    ('0.1235', '3', '-2.5e-07')
    """
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{digits}g}"
    return "0" if text == "-0" else text


def summarize(data: Any, show_shape: bool = True, digits: int = 4, max_items: int = 6) -> str:
    """A one-line summary of a float or an array, never a wall of numbers.

    Small arrays list their numbers; larger ones give shape and min/mean/max.

    >>> summarize(0.5)
    '0.5'
    >>> summarize(np.array([1.0, 0.0, 1.0]))
    '(3,) [1, 0, 1]'
    >>> summarize(np.arange(100.0).reshape(10, 10))
    '(10, 10) min 0 · mean 49.5 · max 99'
    >>> summarize(np.ones((16, 8)))
    '(16, 8) all 1'
    """
    if isinstance(data, Value):
        data = data.data
    if data is None:
        return "—"
    if isinstance(data, (int, float, np.generic)) and np.ndim(data) == 0:
        return format_number(data, digits)
    arr = np.asarray(data)
    if arr.ndim == 0:
        return format_number(arr, digits)
    dtype = "" if arr.dtype == np.float64 else f" {arr.dtype}"
    prefix = f"{arr.shape}{dtype} " if show_shape else ""
    if arr.size == 0:
        return f"{prefix}(empty)".strip()
    if arr.size <= max_items:
        text = np.array2string(
            arr,
            separator=", ",
            formatter={"all": lambda v: format_number(v, digits)},
            max_line_width=10_000,
        )
        return prefix + text
    a = arr.astype(np.float64, copy=False)
    first = a.flat[0]
    if np.all(a == first):
        return prefix + f"all {format_number(first, digits)}"
    with np.errstate(all="ignore"):
        parts = (
            f"min {format_number(np.min(a), digits)}",
            f"mean {format_number(np.mean(a), digits)}",
            f"max {format_number(np.max(a), digits)}",
        )
    return prefix + " · ".join(parts)


# ------------------------------------------------------------------- the graph
def _check_value(value: Any, what: str) -> Value:
    if not isinstance(value, Value):
        raise TypeError(f"{what}: expected an autograd_lite Value, got {type(value).__name__}")
    return value


def _walk(root: Value) -> list[Value]:
    """Every Value reachable from ``root`` (constants too), breadth-first, parents in order."""
    order = [root]
    seen = {root}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for parent in node.parents:
            if parent not in seen:
                seen.add(parent)
                order.append(parent)
                queue.append(parent)
    return order


def find_path(output: Value, wrt: Value) -> list[Value]:
    """The Values along one path from ``output`` back to ``wrt`` (both included).

    Parents are tried in argument order, so the path is deterministic. Pass the
    result as ``highlight=`` to :func:`to_dot` to draw the chain-rule path that
    :func:`autograd_lite.symbolic.chain` multiplies along.

    >>> import autograd_lite as al
    >>> w = al.Value(0.5, label="w")
    >>> E = ((w * 2.0).sigmoid() - 1.0) ** 2
    >>> [v.label or v.op for v in find_path(E, w)]
    ['pow', 'sub', 'sigmoid', 'mul', 'w']
    >>> find_path(E, al.Value(1.0, label="z"))
    Traceback (most recent call last):
    ...
    ValueError: find_path: 'z' is not an input of this graph (no path from 'pow' to it)
    """
    _check_value(output, "find_path(output)")
    _check_value(wrt, "find_path(wrt)")
    # iterative DFS remembering how each node was reached
    came_from: dict[Value, Value | None] = {output: None}
    stack = [output]
    while stack:
        node = stack.pop()
        if node is wrt:
            path = [node]
            while came_from[path[-1]] is not None:
                path.append(came_from[path[-1]])
            return path[::-1]
        for parent in reversed(node.parents):
            if parent not in came_from:
                came_from[parent] = node
                stack.append(parent)
    name = wrt.label or wrt.op or "leaf"
    raise ValueError(
        f"find_path: {name!r} is not an input of this graph "
        f"(no path from {output.label or output.op or 'leaf'!r} to it)"
    )


def _highlight_set(highlight: Any, option: str = "highlight") -> set[Value]:
    if highlight is None:
        return set()
    if isinstance(highlight, Value):
        return {highlight}
    try:
        items = list(highlight)
    except TypeError:
        raise TypeError(
            f"to_dot({option}=...): expected a Value or an iterable of Values "
            f"(e.g. viz.find_path(E, w)), got {type(highlight).__name__}"
        ) from None
    for item in items:
        if not isinstance(item, Value):
            raise TypeError(
                f"to_dot({option}=...): every item must be a Value, got "
                f"{type(item).__name__} {item!r:.40}"
            )
    return set(items)


def _computed_from(nodes: list[Value], sources: set[Value]) -> set[Value]:
    """The nodes among ``nodes`` that are in ``sources`` or computed from one of them."""
    if not sources:
        return set()
    known: dict[Value, bool] = {}
    for start in nodes:
        stack = [start]
        while stack:
            node = stack[-1]
            if node in known:
                stack.pop()
                continue
            pending = [p for p in node.parents if p not in known]
            if pending:
                stack.extend(pending)
                continue
            known[node] = node in sources or any(known[p] for p in node.parents)
            stack.pop()
    return {n for n, hit in known.items() if hit}


def _attrs(attrs: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in attrs.items())


def _user_attrs(
    extra: Any, node: Value, record: bool = True
) -> tuple[dict[str, str], dict[str, str]]:
    """Validate a ``node_style`` result: DOT attributes for the node (and its op node)."""
    if extra is None:
        return {}, {}
    if not isinstance(extra, Mapping):
        raise TypeError(
            f"to_dot(node_style=...): must return a dict of DOT attributes or None, got "
            f"{type(extra).__name__} for node {node.label or node.op or 'leaf'!r}"
        )
    node_attrs: dict[str, str] = {}
    op_attrs: dict[str, str] = {}
    for key, val in extra.items():
        if key == "op" and record:
            if not isinstance(val, Mapping):
                raise TypeError(
                    "to_dot(node_style=...): the 'op' entry must be a dict of DOT attributes "
                    f"for the op node, got {type(val).__name__}"
                )
            op_attrs, _ = _user_attrs(val, node, record=False)
            continue
        if not isinstance(key, str) or not _ATTR_NAME.match(key):
            raise ValueError(f"to_dot(node_style=...): {key!r} is not a DOT attribute name")
        text = str(val).lower() if isinstance(val, bool) else str(val)
        escaped = escape_record(text) if key == "label" and record else escape_text(text)
        node_attrs[key] = _quote(escaped)
    return node_attrs, op_attrs


def _param_text(op: Any, params: tuple) -> str:
    parts = []
    for name, val in zip(op.params, params):
        if val is None or val is False or isinstance(val, Value):
            continue
        text = repr(val) if not isinstance(val, float) else format_number(val)
        if len(text) > 24:
            text = text[:21] + "..."
        parts.append(f"{name}={text}")
    return ", ".join(parts)


def _local_derivative(node: Value, index: int) -> Any:
    """∂node/∂(input ``index``) at the saved input values, via the op's vjp with g = 1."""
    from ..graph import no_grad

    op = node._op
    out = node._data
    seed = 1.0 if type(out) is float else np.ones_like(out)
    try:
        with no_grad(), np.errstate(all="ignore"):
            result = op.vjps[index](seed, out, *node._args)
    except Exception:  # a vjp that cannot run outside backward: show no factor
        return None
    if isinstance(result, Value):
        result = result.data
    return result


def _factor_text(nodes: list[Value], index: int, digits: int) -> str | None:
    """The edge label ∂out/∂input for input ``index`` of ``nodes`` (one node, or a group)."""
    node = nodes[0]
    parent = node.parents[index]
    factors = [_local_derivative(n, index) for n in nodes]
    if any(f is None for f in factors):
        return None
    if parent.label:
        name = f"∂{node.label}/∂{parent.label}" if node.label else f"∂/∂{parent.label}"
    else:
        name = "∂"
    factor = factors[0]
    if len(factors) > 1:
        if all(np.ndim(f) == 0 for f in factors):
            return f"{name} = {summarize(np.array(factors, dtype=float), False, digits)}"
        return f"{name}: {len(factors)} tensors"
    if np.ndim(factor) == 0:
        return f"{name} = {summarize(factor, digits=digits)}"
    out_shape = np.shape(node._data)
    if out_shape == () or node._op.elementwise:
        return f"{name} = {summarize(factor, show_shape=False, digits=digits)}"
    # a full Jacobian between tensors: name its shape rather than print it
    return f"{name}: Jacobian {out_shape}×{np.shape(parent._data)}"


def groups_from_outputs(named_outputs: Any) -> dict[Value, str]:
    """``{Value: name}`` for :func:`to_dot`'s ``groups``, from the outputs of successive stages.

    ``named_outputs`` is a sequence of ``(name, output)`` in the order they were
    computed (e.g. each layer's output); a stage owns every node of its output's graph
    that no earlier stage owns, except leaves (inputs and parameters stay outside, so
    a layer's weights are drawn next to its box). Any graph can be cut this way.

    >>> import autograd_lite as al
    >>> x = al.Value(1.0, label="x")
    >>> h = (x * 2.0).tanh()
    >>> y = h * h + 1.0
    >>> names = groups_from_outputs([("layer 1", h), ("layer 2", y)])
    >>> sorted(names.values())
    ['layer 1', 'layer 1', 'layer 2', 'layer 2']
    >>> "subgraph cluster_group0" in to_dot(y, groups=names)
    True
    """
    owner: dict[Value, str] = {}
    for name, output in named_outputs:
        for node in _walk(_check_value(output, "groups_from_outputs")):
            if node._op is not None and node not in owner:
                owner[node] = str(name)
    return owner


def _postorder(root: Value) -> list[Value]:
    """All Values reachable from ``root`` (constants too), inputs before outputs; iterative."""
    order: list[Value] = []
    state: dict[Value, bool] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        done = state.get(node)
        if done is None:
            state[node] = False
            stack.append(node)
            for parent in reversed(node.parents):
                if parent not in state:
                    stack.append(parent)
        elif done is False:
            state[node] = True
            order.append(node)
    return order


def _collapse(root: Value, bfs: list[Value]) -> list[list[Value]]:
    """Merge structurally identical sub-graphs into groups (hash-consing).

    Two nodes are merged when they apply the same op (same parameters) to inputs
    that are themselves merged; parameters are never merged with each other,
    constants merge by shape (and are drawn once per consumer group and
    position). For a loss summed over a batch of scalar samples, every sample's
    copy of a neuron becomes one group.
    """
    sig_ids: dict[Any, int] = {}
    group_of_sig: dict[Value, int] = {}
    for node in _postorder(root):
        if node._op is None:
            key: Any = ("param", id(node)) if node.requires_grad else ("const", node.shape)
        else:
            params = node._args[len(node.parents) :]
            try:
                hash(params)
            except TypeError:
                params = repr(params)
            key = (
                node._op.name,
                params,
                node.shape,
                node.grad_of is not None,
                tuple(group_of_sig[p] for p in node.parents),
            )
        group_of_sig[node] = sig_ids.setdefault(key, len(sig_ids))
    # Constants merge by shape for their consumers' sake, but are drawn per use
    # (consumer group and argument position), so one node does not feed everything.
    draw_key: dict[Value, Any] = {}
    for node in reversed(bfs):
        for k, parent in enumerate(node.parents):
            if parent._op is None and not parent.requires_grad and parent not in draw_key:
                draw_key[parent] = (group_of_sig[parent], group_of_sig[node], k)
    groups: dict[Any, list[Value]] = {}
    for node in bfs:  # group order follows the breadth-first walk from the output
        groups.setdefault(draw_key.get(node, group_of_sig[node]), []).append(node)
    return list(groups.values())


_CHAIN_OPS = ("add", "mul")


def _chains(groups: list[list[Value]], every: list[Value]) -> list[list[list[Value]]]:
    """Fold chains of the same associative op (``s = s + term`` in a loop) into one unit.

    A group of ``add``/``mul`` nodes whose every member feeds exactly one node,
    of a group with the same op and size, is absorbed into that group. Returns
    units (lists of groups, the visible head first) in the order of ``groups``.
    """
    group_of = {n: g for g, members in enumerate(groups) for n in members}
    uses: Counter[Value] = Counter(p for n in every for p in n.parents)
    consumer: dict[Value, Value] = {}
    for n in every:
        for p in n.parents:
            consumer[p] = n
    head: dict[int, int] = {}
    for g, members in enumerate(groups):
        rep = members[0]
        if rep._op is None or rep._op.name not in _CHAIN_OPS or rep.grad_of is not None:
            continue
        if any(uses[n] != 1 for n in members):
            continue
        targets = {group_of[consumer[n]] for n in members}
        if len(targets) != 1:
            continue
        t = targets.pop()
        trep = groups[t][0]
        if trep._op is rep._op and len(groups[t]) == len(members):
            head[g] = t
    units: dict[int, list[list[Value]]] = {}
    for g, members in enumerate(groups):
        top = g
        while top in head:
            top = head[top]
        units.setdefault(top, []).append(members)
    return [units[g] for g in sorted(units)]


def _group_text(nodes: list[Value], what: str, show_shape: bool, digits: int) -> str:
    values = [getattr(n, what) for n in nodes]
    if len(values) == 1:
        return summarize(values[0], show_shape, digits)
    values = [v.data if isinstance(v, Value) else v for v in values]
    if all(np.ndim(v) == 0 for v in values):
        return summarize(np.array(values, dtype=float), False, digits)
    return f"{np.shape(values[0])} each"


def _legend_lines(with_backward: bool, vertical: bool) -> list[str]:
    def record(text: str, style: dict[str, str]) -> str:
        label = text if vertical else "{" + text + "}"
        return _attrs({"label": _quote(label), **{k: _quote(v) for k, v in style.items()}})

    entries = [
        ("legend_param", record("parameter (leaf) | data | grad", _STYLE_PARAM)),
        ("legend_const", record("constant | data", _STYLE_CONST)),
        (
            "legend_op",
            _attrs(
                {
                    "label": '"op"',
                    "shape": "ellipse",
                    **{k: _quote(v) for k, v in _STYLE_OP.items()},
                }
            ),
        ),
        ("legend_inner", record("result | data | grad", _STYLE_INNER)),
    ]
    if with_backward:
        entries.append(("legend_backward", record("made by backward | data", _STYLE_BACKWARD)))
    lines = [
        "  subgraph cluster_legend {",
        '    label="legend"; style="rounded"; color="#cbd5e1"; fontsize=11;',
        *(f"    {name} [{attrs}, fontsize=10];" for name, attrs in entries),
        '    legend_param -> legend_op [label="∂result/∂input", fontcolor='
        f'"{_FACTOR_COLOR}", fontsize=10];',
        "    legend_const -> legend_op;",
        "    legend_op -> legend_inner;",
        "  }",
    ]
    return lines


def to_dot(
    value: Value,
    show_grad: bool = True,
    rankdir: str = "LR",
    *,
    show_data: bool = True,
    show_shape: bool = True,
    edge_factors: bool = False,
    highlight: Any = None,
    node_style: Callable[[Value], Mapping[str, Any] | None] | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    collapse: bool | None = None,
    digits: int = 4,
    title: str | None = None,
    legend: bool = False,
    unknown: Any = None,
    groups: Mapping[Value, str] | None = None,
) -> str:
    """DOT source of the graph that computed ``value`` (no renderer needed).

    Args:
        value: the output node (e.g. the loss ``E``).
        show_grad: show each node's ``.grad`` (once a backward pass reached it).
        rankdir: ``"LR"`` (inputs left, output right), ``"TB"``, ``"RL"`` or ``"BT"``.
        show_data: show each node's value (tensors: a short summary).
        show_shape: prefix tensor summaries with their shape.
        edge_factors: write on each input edge the local derivative ∂out/∂input
            at the current values — the factor the chain rule multiplies there.
        highlight: a Value or Values to emphasise, e.g. ``find_path(E, w)``;
            edges between highlighted nodes are emphasised too.
        node_style: ``f(value) -> dict | None`` of extra DOT attributes per
            Value node (``{"color": "red", "penwidth": 3}``); the key ``"op"``
            may hold a dict for that Value's op node. Values are escaped text.
        max_nodes: draw at most this many Value nodes, those nearest the output;
            a note says how many were left out and of which kinds.
        collapse: merge repeated identical sub-graphs (e.g. one neuron applied to
            every sample of a batch) into one node marked ``×n``. ``None``
            (default) collapses only graphs with more than ``max_nodes`` Values.
        digits: significant digits of the numbers shown.
        title: an optional caption above the graph.
        legend: add a small box explaining the node colours and edge labels.
        unknown: a Value or Values whose numbers are not known yet (placeholders,
            e.g. to draw the structure of a formula before choosing values):
            they and every node computed from them show ``data ?``. Gradients
            and edge factors depend on those numbers, so none are drawn.
        groups: ``{Value: name}``; the Values of one name (and their op nodes) are
            drawn inside one labelled box, e.g. the nodes of each layer of a network
            (see :func:`groups_from_outputs`).

    Node kinds look different: parameters (leaves that learn) are blue,
    constants grey and dashed, the output green, and nodes recorded by
    ``backward(create_graph=True)`` (``.grad_of`` set) orange inside a dashed
    "backward pass" box. Node ids (``v0`` = the output, then breadth-first,
    parents in argument order; ``op3`` is the op node making ``v3``) are stable.

    >>> import autograd_lite as al
    >>> x = al.Value(3.0, label="x")
    >>> y = x * x
    >>> y.label = "y"
    >>> y.backward()
    >>> print(to_dot(y, edge_factors=True))
    digraph autograd_lite {
    ...
      v0 [label="y | data 9 | grad 1", ...];
      op0 [label="×", shape=ellipse, ...];
      v1 [label="x | data 3 | grad 6", ...];
      op0 -> v0;
      v1 -> op0 [label="∂y/∂x = 3", ...];
      v1 -> op0 [label="∂y/∂x = 3", ...];
    }

    With ``unknown``, the structure only (values not chosen yet):

    >>> w = al.Value(float("nan"), label="w")
    >>> [line.split(",")[0] for line in to_dot(w * 2.0, unknown=w).splitlines() if "data" in line]
    ['  v0 [label="data ?"', '  v1 [label="w | data ?"']
    """
    _check_value(value, "to_dot")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"to_dot: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"to_dot: max_nodes must be a positive int, got {max_nodes!r}")
    if node_style is not None and not callable(node_style):
        raise TypeError(
            f"to_dot: node_style must be a callable Value -> dict, got {type(node_style).__name__}"
        )
    marked = _highlight_set(highlight)
    box_of = dict(groups or {})  # (``groups`` is reused below for the collapsed node groups)

    every = _walk(value)
    unknowns = _computed_from(every, _highlight_set(unknown, "unknown"))
    if unknowns:
        show_grad = edge_factors = False
    if collapse is None:
        collapse = len(every) > max_nodes
    groups = _collapse(value, every) if collapse else [[n] for n in every]
    units = _chains(groups, every) if collapse else [[g] for g in groups]
    shown = units[:max_nodes]
    index = {n: i for i, unit in enumerate(shown) for group in unit for n in group}
    omitted = [n for unit in units[max_nodes:] for group in unit for n in group]

    # In LR/RL layouts a record without braces stacks its fields vertically.
    vertical = rankdir in ("LR", "RL")
    lines = [
        "digraph autograd_lite {",
        f'  graph [rankdir={rankdir}, fontname="{FONT}", fontsize=12, nodesep=0.25, '
        'ranksep=0.35, bgcolor="white", pad=0.2];',
        f'  node [fontname="{FONT}", fontsize=12, shape=record, style=filled, height=0.3];',
        f'  edge [fontname="{FONT}", fontsize=11, color="#475569", arrowsize=0.7];',
    ]
    notes = [title] if title else []
    if len(units) < len(every):
        how = []
        if len(groups) < len(every):
            how.append(
                "×n marks n identical sub-graphs merged into one "
                "(e.g. the same neuron on n samples)"
            )
        if len(units) < len(groups):
            how.append("'chain of k' marks k repeated + or × folded into one")
        notes.append(f"{len(every)} values drawn as {len(units)} nodes: " + "; ".join(how))
    if omitted:
        kinds = Counter((n.op or ("parameter" if n.requires_grad else "constant")) for n in omitted)
        listed = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common(6))
        more = ", ..." if len(kinds) > 6 else ""
        notes.append(
            f"showing the {len(shown)} nodes nearest the output (max_nodes={max_nodes}); "
            f"{len(omitted)} values not shown: {listed}{more}"
        )
    if notes:
        caption = "\\l".join(escape_text(t) for t in notes) + "\\l"
        color = ' fontcolor="#7f1d1d";' if len(notes) > (1 if title else 0) else ""
        lines.append(f'  label="{caption}"; labelloc=t; labeljust=l; fontsize=14;{color}')

    node_lines: list[str] = []
    backward_lines: list[str] = []
    cluster_lines: dict[str, list[str]] = {}  # group name -> its node lines
    edge_lines: list[str] = []
    input_edges: list[tuple[int, int, str]] = []  # (input unit, op unit, attributes)
    constant_nodes: dict[int, tuple[list[str], str]] = {}  # unit -> (its list, attributes)

    for i, unit in enumerate(shown):
        group = unit[0]
        node = group[0]
        count = len(group)
        out = backward_lines if node.grad_of is not None else node_lines
        if node in box_of:
            out = cluster_lines.setdefault(str(box_of[node]), [])
        # ---- the Value's record node
        fields = []
        constant = not node.requires_grad and node._op is None
        label = node.label if all(n.label == node.label for n in group) else ""
        if count > 1:
            label = f"×{count} {label}".strip()
        if label:
            fields.append(escape_record(label))
        is_unknown = any(n in unknowns for n in group)
        data_text = "?" if is_unknown else _group_text(group, "data", show_shape, digits)
        if constant and not label and show_data:
            fields.append(escape_record(data_text))
        elif show_data:
            fields.append("data " + escape_record(data_text))
        elif show_shape and node.ndim and not is_unknown:
            fields.append("shape " + escape_record(str(node.shape)))
        if show_grad and node.requires_grad and all(n._grad is not None for n in group):
            fields.append("grad " + escape_record(_group_text(group, "grad", show_shape, digits)))
        if not fields:
            fields.append(escape_record(node.op or "leaf"))
        record = " | ".join(fields)
        if not vertical:
            record = "{" + record + "}"
        if constant:
            style = dict(_STYLE_CONST)
        elif node.grad_of is not None:
            style = dict(_STYLE_BACKWARD)
        elif node is value:
            style = dict(_STYLE_OUTPUT)
        elif node._op is not None:
            style = dict(_STYLE_INNER)
        else:
            style = dict(_STYLE_PARAM)
        attrs = {"label": _quote(record)}
        attrs.update({k: _quote(v) for k, v in style.items()})
        if count > 1:
            attrs["peripheries"] = "2"
        is_marked = any(n in marked for n in group)
        if is_marked:
            attrs.update(color=_quote(_HIGHLIGHT), penwidth='"3"')
        extra_op: dict[str, str] = {}
        if node_style is not None:
            extra, extra_op = _user_attrs(node_style(node), node)
            attrs.update(extra)
        out.append(f"  v{i} [{_attrs(attrs)}];")
        if constant:
            constant_nodes[i] = (out, _attrs(attrs))
        if node._op is None:
            continue
        # ---- its op node and the edges through it
        op = node._op
        op_text = op.label
        ptext = _param_text(op, node._args[len(node.parents) :])
        if ptext:
            op_text += "\n" + ptext
        # inputs of the unit: (position k, parent Value, members) outside the chain
        inside = {n for g in unit for n in g}
        inputs = [(k, p, g) for g in unit for k, p in enumerate(g[0].parents) if p not in inside]
        if len(unit) > 1:
            op_text += f"\nchain of {len(unit)}"
            seen_units: set[int] = set()
            unique = []
            for k, p, g in inputs:
                j = index.get(p, -1 - len(unique))
                if j not in seen_units:
                    seen_units.add(j)
                    unique.append((k, p, g))
            inputs = unique
        cut = sum(1 for _, p, _ in inputs if p not in index)
        if cut:
            op_text += f"\n(+{cut} input{'s' if cut > 1 else ''} not shown)"
        op_style = dict(_STYLE_OP_BACKWARD if node.grad_of is not None else _STYLE_OP)
        if cut:
            op_style["style"] = "filled,dashed"
        through = is_marked and any(p in marked for n in group for p in n.parents)
        op_attrs = {"label": _quote(escape_text(op_text)), "shape": "ellipse"}
        op_attrs.update({k: _quote(v) for k, v in op_style.items()})
        if len(unit) > 1:
            op_attrs["peripheries"] = "2"
        if through:
            op_attrs.update(color=_quote(_HIGHLIGHT), penwidth='"3"')
        op_attrs.update(extra_op)
        out.append(f"  op{i} [{_attrs(op_attrs)}];")
        edge = f' [color="{_HIGHLIGHT}", penwidth="2.5"]' if through else ""
        edge_lines.append(f"  op{i} -> v{i}{edge};")
        for k, parent, members in inputs:
            j = index.get(parent)
            if j is None:
                continue
            eattrs = {}
            if edge_factors and parent.requires_grad and len(unit) == 1:
                text = _factor_text(members, k, digits)
                if text is not None:
                    eattrs["label"] = _quote(escape_text(text))
                    eattrs["fontcolor"] = _quote(_FACTOR_COLOR)
            if through and any(n.parents[k] in marked for n in members):
                eattrs.update(color=_quote(_HIGHLIGHT), penwidth='"2.5"')
            edge_text = f" [{_attrs(eattrs)}]" if eattrs else ""
            input_edges.append((j, i, edge_text))

    # A constant used by several ops (a cached 2 or 0.5) is drawn next to each use:
    # one node with edges all over the picture would tangle the layout.
    uses: Counter[int] = Counter()
    for j, i, edge_text in input_edges:
        tail = f"v{j}"
        if j in constant_nodes:
            n = uses[j]
            uses[j] += 1
            if n:
                tail = f"v{j}_{n}"
                where, attrs_text = constant_nodes[j]
                where.append(f"  {tail} [{attrs_text}];")
        edge_lines.append(f"  {tail} -> op{i}{edge_text};")

    lines += node_lines
    for k, (name, members) in enumerate(cluster_lines.items()):
        lines += [
            f"  subgraph cluster_group{k} {{",
            f'    label="{escape_text(name)}"; style="rounded"; color="#64748b"; fontsize=12;',
            *("  " + line for line in members),
            "  }",
        ]
    if backward_lines:
        lines += [
            "  subgraph cluster_backward {",
            '    label="backward pass, recorded by backward(create_graph=True)"; '
            'style="dashed,rounded"; color="#c2410c"; fontcolor="#c2410c"; fontsize=12;',
            *("  " + line for line in backward_lines),
            "  }",
        ]
    lines += edge_lines
    if legend:
        lines += _legend_lines(bool(backward_lines), vertical)
    lines.append("}")
    return "\n".join(lines) + "\n"
