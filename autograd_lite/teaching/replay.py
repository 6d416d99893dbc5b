"""Watch the chain rule happen: the backward pass replayed one node at a time.

:func:`replay` recomputes the backward pass of a graph from the data each node
saved during the forward pass (``node._args``) and the op table's vjp rules. It
never touches the user's graph: no ``.grad`` changes, and a graph that has
already been backwarded (and freed) can still be replayed.

Each :class:`Frame` is one node, in reverse topological order (the order the
engine uses). A frame shows

* the node's gradient, assembled from the *contributions* its consumers sent
  it, with the running sum after each one (a node that feeds several consumers
  adds their contributions up: the most common confusion about backprop);
* what the node sends back to each of its inputs: upstream gradient × local
  derivative = contribution, with the local derivative as a SymPy factor and
  as a number for elementwise ops.

>>> import autograd_lite as al
>>> x = al.Value(1.5, label="x")
>>> y = x * x
>>> y.label = "y"
>>> r = replay(y, symbolic=False)
>>> [f.name for f in r.frames]
['y', 'x']
>>> [round(c.value, 6) for c in r.frames[1].incoming]
[1.5, 1.5]
>>> r.frames[1].incoming[-1].running_sum
3.0
>>> x.grad   # the user's graph is untouched
0.0

Pictures: :meth:`Replay.write_frames` (numbered SVG/PNG files),
:meth:`Replay.write_gif`, :meth:`Replay.write_html` (one self-contained page
with a step slider) and :meth:`Replay.widget` (Jupyter, needs ipywidgets).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..graph import _fit, _seed, check_differentiable, topological_order, walk
from ..value import Value

__all__ = [
    "Contribution",
    "Frame",
    "Replay",
    "all_nodes",
    "backward_trace",
    "doc_example",
    "format_number",
    "node_ids",
    "replay",
    "write_doc_figures",
]

# How the gradient flows through the structural (non-elementwise) ops, in words.
RULE_TEXT: dict[tuple[str, int], str] = {
    ("matmul", 0): "g @ bᵀ",
    ("matmul", 1): "aᵀ @ g",
    ("sum", 0): "g copied to every summed element",
    ("mean", 0): "g / n for every averaged element",
    ("max", 0): "g to the maximum (shared among ties)",
    ("softmax", 0): "y * (g − Σ g*y)",
    ("log_softmax", 0): "g − softmax(z)·Σ g",
    ("reshape", 0): "g reshaped back",
    ("transpose", 0): "g transposed back",
    ("getitem", 0): "g scattered to the indexed places",
    ("index_scatter", 0): "g at the indexed places",
    ("broadcast_to", 0): "g summed over the broadcast axes",
    ("sum_to", 0): "g broadcast back",
}


# ----------------------------------------------------------------- graph helpers


def all_nodes(output: Value) -> list[Value]:
    """Every Value the output depends on (constants too), inputs before outputs.

    Iterative, deterministic (parents in argument order), so the same
    construction always gives the same order and therefore the same node ids.

    >>> import autograd_lite as al
    >>> a = al.Value(2.0, label="a")
    >>> y = a * 3.0
    >>> [v.label or v.op or repr(v.data) for v in all_nodes(y)]
    ['a', '3.0', 'mul']
    """
    return walk([output])


def node_ids(output: Value) -> dict[int, str]:
    """Stable ids ``n0, n1, ...`` for every node, keyed by ``id(node)``.

    >>> import autograd_lite as al
    >>> y = al.Value(1.0) + 2.0
    >>> sorted(node_ids(y).values())
    ['n0', 'n1', 'n2']
    """
    return {id(v): f"n{i}" for i, v in enumerate(all_nodes(output))}


def format_number(x: Any, digits: int = 4) -> str:
    """Short text for a float or a small array (``…`` for big ones).

    >>> format_number(0.123456), format_number(np.array([1.0, 2.5])), format_number(None)
    ('0.1235', '[1, 2.5]', '—')
    """
    if x is None:
        return "—"
    if isinstance(x, Value):
        x = x.data
    arr = np.asarray(x)
    if arr.ndim == 0:
        v = float(arr)
        if v == 0:
            return "0"
        return f"{v:.{digits}g}"
    if arr.size > 6:
        flat = ", ".join(format_number(v, digits) for v in arr.ravel()[:4])
        return f"[{flat}, …] shape {arr.shape}"
    if arr.ndim == 1:
        return "[" + ", ".join(format_number(v, digits) for v in arr) + "]"
    return "[" + ", ".join(format_number(row, digits) for row in arr) + "]"


def _name(node: Value) -> str:
    if node.label:
        return node.label
    if node.op:
        return node.op
    return format_number(node.data)


def _ones_like(x: Any) -> Any:
    return 1.0 if type(x) is float else np.ones_like(np.asarray(x, dtype=float))


def _add(acc: Any, x: Any) -> Any:
    if acc is None:
        return x
    return acc + x


# ----------------------------------------------------------------- the trace


@dataclass
class Contribution:
    """One term of the chain rule: what a consumer sends back to one of its inputs.

    Attributes:
        source: the consumer node (``None`` for the seed of the output).
        target: the input node receiving it.
        input_index: which argument of ``source`` ``target`` is.
        upstream: the consumer's gradient ``g`` (∂E/∂source).
        local: the local derivative ∂source/∂target as numbers (elementwise ops;
            broadcast to the consumer's shape), ``None`` for structural ops.
        factor: the local derivative as SymPy text (elementwise ops, when
            SymPy factors were asked for), else ``None``.
        rule: how structural ops pass ``g`` on (e.g. ``"g @ bᵀ"``), else ``None``.
        value: the contribution itself, summed to the target's shape.
        running_sum: the target's gradient after adding this contribution.
    """

    source: Value | None
    target: Value
    input_index: int
    upstream: Any
    local: Any
    factor: str | None
    rule: str | None
    value: Any
    running_sum: Any = None

    def text(self, ids: dict[int, str] | None = None) -> str:
        """One line: ``upstream × local = contribution``.

        >>> import autograd_lite as al
        >>> x = al.Value(2.0, label="x")
        >>> r = replay(x * 3.0, symbolic=False)
        >>> r.frames[1].incoming[0].text()
        'from mul: ∂E/∂mul × ∂mul/∂x = 1 × 3 = 3'
        """
        if self.source is None:
            return f"seed ∂E/∂E = {format_number(self.value)}"
        src, tgt = _name(self.source), _name(self.target)
        head = f"from {src}: ∂E/∂{src} × ∂{src}/∂{tgt} = "
        if self.local is not None:
            text = (
                f"{head}{format_number(self.upstream)} × {format_number(self.local)} "
                f"= {format_number(self.value)}"
            )
            if self.factor:
                text += f"   [∂{src}/∂{tgt} = {self.factor}]"
            return text
        rule = self.rule or f"vjp of {self.source.op}"
        return f"{head}{rule} = {format_number(self.value)}"


@dataclass
class Frame:
    """One step of the replay: the node being processed and its chain-rule terms.

    Attributes:
        index: position in the replay (0 = the output).
        node: the Value.
        node_id: its id (``n3``), as in :func:`node_ids`.
        name: label, op name or number.
        data: the node's value as the forward pass saw it.
        grad: its final gradient (∂E/∂node), the sum of ``incoming``.
        incoming: contributions that built ``grad`` (with running sums).
        outgoing: what this node sends to each of its inputs.
    """

    index: int
    node: Value
    node_id: str
    name: str
    data: Any
    grad: Any
    incoming: list[Contribution] = field(default_factory=list)
    outgoing: list[Contribution] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The frame as text lines (used for captions).

        >>> import autograd_lite as al
        >>> x = al.Value(2.0, label="x")
        >>> y = x * x
        >>> replay(y, symbolic=False).frames[1].lines()[0]
        'step 2: x = 2, ∂E/∂x = 4'
        """
        out = [
            f"step {self.index + 1}: {self.name} = {format_number(self.data)}, "
            f"∂E/∂{self.name} = {format_number(self.grad)}"
        ]
        many = len(self.incoming) > 1
        for c in self.incoming:
            line = "  in:  " + c.text()
            if many:
                line += f"   (running sum {format_number(c.running_sum)})"
            out.append(line)
        for c in self.outgoing:
            out.append(f"  out → {_name(c.target)}: " + c.text().split(": ", 1)[1])
        if not self.outgoing and self.node.op == "":
            out.append("  (a leaf: its gradient is final)")
        return out

    def caption(self) -> str:
        """All lines joined with newlines."""
        return "\n".join(self.lines())


def _local_and_factor(node: Value, i: int, want_factor: bool) -> tuple[Any, str | None, str | None]:
    op = node._op
    if not op.elementwise:
        return None, None, RULE_TEXT.get((op.name, i))
    args = node._args
    out = node._data
    try:
        local = op.vjps[i](_ones_like(out), out, *args)
        if type(local) is not float:
            local = np.broadcast_to(np.asarray(local, dtype=float), np.shape(out)).copy()
            if local.ndim == 0:
                local = float(local)
    except Exception:  # a broken user vjp: the audit reports it, the replay just omits it
        local = None
    factor = _sympy_factor(node, i) if want_factor else None
    return local, factor, None


_FACTOR_CACHE: dict[tuple, str | None] = {}  # (op, input, input names, params) -> text


def _sympy_factor(node: Value, i: int) -> str | None:
    """∂node/∂(input i) as SymPy text, inputs named by their labels where they have one."""
    op = node._op
    n = len(node.parents)
    names = tuple(p.label or p.op or repr(p._data) for p in node.parents)
    params = tuple(node._args[n:])
    try:
        key = (op, i, names, params)
        hash(key)
    except TypeError:
        key = None
    if key is not None and key in _FACTOR_CACHE:
        return _FACTOR_CACHE[key]
    try:
        import sympy

        from ..formula import sympy_number
        from .audit import sympy_partial

        values = {k: v for k, v in zip(op.params, params) if isinstance(v, (int, float))}
        expr = sympy_partial(op, i, values or None)
        rename: dict[Any, Any] = {}
        for inp, parent in zip(op.inputs, node.parents):
            symbol = sympy.Symbol(inp, real=True)
            if parent.label or parent.op:
                rename[symbol] = sympy.Symbol(parent.label or parent.op, real=True)
            elif type(parent._data) is float:
                rename[symbol] = sympy_number(parent._data)
        if expr is not None:
            expr = expr.xreplace(rename)
        text = None if expr is None else str(expr)
    except Exception:
        text = None
    if key is not None:
        _FACTOR_CACHE[key] = text
    return text


def backward_trace(
    output: Value, grad: Any = None, *, symbolic: bool = False
) -> tuple[list[Frame], dict[int, str]]:
    """Recompute the backward pass from saved data, without touching the graph.

    Returns the frames (reverse topological order) and the node ids. Frame
    ``grad`` values equal what ``output.backward(grad)`` would put in ``.grad``
    on fresh nodes.

    >>> import autograd_lite as al
    >>> a = al.Value(3.0, label="a")
    >>> frames, ids = backward_trace(a * a + a)
    >>> [f.name for f in frames], frames[-1].grad
    (['add', 'mul', 'a'], 7.0)
    """
    check_differentiable(output, "replay", "there is no backward pass to show")
    seed = _seed(output, grad)
    ids = node_ids(output)
    order = topological_order(output)
    frames_by_node: dict[int, Frame] = {}
    pending: dict[int, list[Contribution]] = {id(output): []}
    seed_c = Contribution(None, output, 0, None, None, None, None, seed, seed)
    pending[id(output)].append(seed_c)
    saved: dict[int, Any] = {}
    for parent_owner in order:
        for p, d in zip(parent_owner.parents, parent_owner._args):
            saved.setdefault(id(p), d)
    frames: list[Frame] = []
    for node in reversed(order):
        incoming = pending.pop(id(node), [])
        g = incoming[-1].running_sum if incoming else None
        frame = Frame(
            index=len(frames),
            node=node,
            node_id=ids[id(node)],
            name=_name(node),
            data=node._data if node._op is not None else saved.get(id(node), node._data),
            grad=g if g is not None else (0.0 if type(node._data) is float else None),
            incoming=incoming,
        )
        if frame.grad is None:
            frame.grad = np.zeros_like(node._data)
        frames.append(frame)
        frames_by_node[id(node)] = frame
        op = node._op
        if op is None or g is None:
            continue
        out = node._data
        args = node._args
        for i, parent in enumerate(node.parents):
            if not parent.requires_grad:
                continue
            gi = op.vjps[i](g, out, *args)
            if gi is None:
                continue
            pdata = args[i]
            if type(gi) is not float or type(pdata) is not float:
                gi = _fit(gi, pdata, False)
            local, factor, rule = _local_and_factor(node, i, symbolic)
            bucket = pending.setdefault(id(parent), [])
            previous = bucket[-1].running_sum if bucket else None
            c = Contribution(node, parent, i, g, local, factor, rule, gi, _add(previous, gi))
            bucket.append(c)
            frame.outgoing.append(c)
    return frames, ids


# ----------------------------------------------------------------- the replay


class Replay:
    """The frames of a backward replay, with exporters. Made by :func:`replay`.

    >>> import autograd_lite as al
    >>> x = al.Value(0.5, label="x")
    >>> r = replay(x.sigmoid(), symbolic=False)
    >>> len(r), r[0].name
    (2, 'sigmoid')
    """

    def __init__(
        self,
        output: Value,
        frames: list[Frame],
        ids: dict[int, str],
        *,
        rankdir: str = "LR",
        dot_options: dict[str, Any] | None = None,
        max_frames: int = 200,
    ) -> None:
        self.output = output
        self.frames = frames
        self.ids = ids
        self.rankdir = rankdir
        self.dot_options = dict(dot_options or {})
        self.max_frames = max_frames

    def _check_drawable(self) -> None:
        if len(self.frames) > self.max_frames:
            raise ValueError(
                f"replay: {len(self.frames)} frames are too many to draw (max_frames="
                f"{self.max_frames}); replay a smaller graph (one sample, one neuron) or pass "
                "replay(..., max_frames=N)"
            )

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> Frame:
        return self.frames[i]

    def __iter__(self) -> Any:
        return iter(self.frames)

    def __repr__(self) -> str:
        return f"<Replay of {len(self.frames)} frames, output {_name(self.output)!r}>"

    def __str__(self) -> str:
        return "\n".join(f.caption() for f in self.frames)

    def grads(self) -> dict[int, Any]:
        """Final gradient per node (keyed by ``id(node)``).

        >>> import autograd_lite as al
        >>> x = al.Value(2.0)
        >>> r = replay(x * x, symbolic=False)
        >>> r.grads()[id(x)]
        4.0
        """
        return {id(f.node): f.grad for f in self.frames}

    # ------------------------------------------------------------- pictures
    def node_state(self, index: int) -> dict[int, tuple[Any, bool]]:
        """Gradient of every node as frame ``index`` shows it: ``id -> (grad, final)``.

        Nodes that received every contribution hold their final gradient;
        nodes that received only some hold the running sum so far.

        >>> import autograd_lite as al
        >>> x = al.Value(2.0, label="x")
        >>> y = (x * 3.0) + x
        >>> r = replay(y, symbolic=False)
        >>> r.node_state(0)[id(x)]    # only the + has sent its share so far
        (1.0, False)
        >>> r.node_state(2)[id(x)]
        (4.0, True)
        """
        state: dict[int, tuple[Any, bool]] = {}
        needed = {id(f.node): len(f.incoming) for f in self.frames}
        received: dict[int, int] = {}
        for f in self.frames[: index + 1]:
            state[id(f.node)] = (f.grad, True)
            for c in f.outgoing:
                target = id(c.target)
                received[target] = received.get(target, 0) + 1
                state[target] = (c.running_sum, received[target] == needed[target])
        return state

    def frame_dot(self, index: int) -> str:
        """DOT source of frame ``index``: current node highlighted, gradients so far.

        The current node is yellow, the inputs it sends to are blue (their
        gradient "so far" while contributions are still missing), nodes done
        are green; the frame's chain-rule text is the caption.

        >>> import autograd_lite as al
        >>> r = replay(al.Value(2.0, label="x").tanh(), symbolic=False)
        >>> dot = r.frame_dot(0)
        >>> "digraph" in dot and "step 1" in dot
        True
        """
        from ..viz import to_dot

        if not 0 <= index < len(self.frames):
            raise IndexError(f"replay: frame {index} out of range (0..{len(self.frames) - 1})")
        frame = self.frames[index]
        state = self.node_state(index)
        targets = {id(c.target) for c in frame.outgoing}
        current = id(frame.node)
        data = {id(f.node): f.data for f in self.frames}

        def style(v: Value) -> dict[str, str] | None:
            if not v.requires_grad:
                return None
            grad, final = state.get(id(v), (None, False))
            if grad is None:
                gtext = "grad ?"
            elif final:
                gtext = f"grad {format_number(grad)}"
            else:
                gtext = f"grad so far {format_number(grad)}"
            text = f"{_name(v)}\ndata {format_number(data.get(id(v), v.data))}\n{gtext}"
            attrs = {"label": text}
            if id(v) == current:
                attrs.update(fillcolor="#fde047", color="#a16207", penwidth="3")
            elif id(v) in targets:
                attrs.update(fillcolor="#bfdbfe", color="#1e40af", penwidth="2")
            elif final:
                attrs.update(fillcolor="#dcfce7")
            else:
                attrs.update(fillcolor="#ffffff")
            return attrs

        kwargs: dict[str, Any] = {"rankdir": self.rankdir, "edge_factors": True}
        kwargs.update(self.dot_options)
        kwargs["show_grad"] = False
        marked = [frame.node] + [c.target for c in frame.outgoing]
        dot = to_dot(self.output, node_style=style, highlight=marked, **kwargs)
        return _add_caption(dot, frame.lines())

    def frame_svg(self, index: int) -> str:
        """SVG text of frame ``index`` (needs a Graphviz renderer, see ``viz.render``)."""
        return _render_dot(self.frame_dot(index), "svg").decode("utf-8")

    def write_frames(self, directory: str | Path, format: str = "svg") -> list[Path]:  # noqa: A002
        """Write ``frame_000.svg``, ``frame_001.svg``, ... (or ``png``) into ``directory``.

        Returns the paths in order.
        """
        if format not in ("svg", "png"):
            raise ValueError(f"replay frames: format must be 'svg' or 'png', got {format!r}")
        self._check_drawable()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        paths = []
        for i in range(len(self.frames)):
            path = directory / f"frame_{i:03d}.{format}"
            path.write_bytes(_render_dot(self.frame_dot(i), format))
            paths.append(path)
        return paths

    def write_gif(self, path: str | Path, duration_ms: int = 1500) -> Path:
        """An animated GIF of all frames (rendered as PNG, assembled with Pillow)."""
        import io

        from PIL import Image

        path = Path(path)
        if path.suffix.lower() != ".gif":
            raise ValueError(f"replay GIF: the path must end in .gif, got {str(path)!r}")
        self._check_drawable()
        images = [
            Image.open(io.BytesIO(_render_dot(self.frame_dot(i), "png"))).convert("RGB")
            for i in range(len(self.frames))
        ]
        width = max(im.width for im in images)
        height = max(im.height for im in images)
        canvas = []
        for im in images:
            page = Image.new("RGB", (width, height), "white")
            page.paste(im, (0, 0))
            canvas.append(page.convert("P", palette=Image.Palette.ADAPTIVE))
        path.parent.mkdir(parents=True, exist_ok=True)
        canvas[0].save(path, save_all=True, append_images=canvas[1:], duration=duration_ms, loop=0)
        return path

    def to_html(self, title: str = "Backward pass, step by step") -> str:
        """One self-contained HTML page: inline SVG frames and a step slider.

        No external URLs, no server: open the file in any browser.
        """
        self._check_drawable()
        panels = []
        for i, frame in enumerate(self.frames):
            svg = _inline_svg(self.frame_svg(i))
            caption = html.escape(frame.caption())
            hidden = "" if i == 0 else ' style="display:none"'
            panels.append(
                f'<div class="frame" id="frame{i}"{hidden}>\n{svg}\n'
                f'<pre class="caption">{caption}</pre>\n</div>'
            )
        n = len(self.frames)
        script = _HTML_SCRIPT.replace("__N__", str(n))
        return _HTML_TEMPLATE.format(
            title=html.escape(title),
            last=n - 1,
            panels="\n".join(panels),
            script=script,
            summary=html.escape(json.dumps([f.name for f in self.frames], ensure_ascii=False)),
        )

    def write_html(self, path: str | Path, title: str = "Backward pass, step by step") -> Path:
        """Write :meth:`to_html` to ``path`` and return it."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(title), encoding="utf-8")
        return path

    def widget(self) -> Any:
        """A Jupyter slider widget over the frames (needs ``ipywidgets``)."""
        try:
            import ipywidgets as widgets
        except ImportError:
            raise ImportError(
                "replay.widget() needs ipywidgets: pip install ipywidgets "
                "(or use write_html() for a slider page without Jupyter)"
            ) from None
        self._check_drawable()
        svgs = [self.frame_svg(i) for i in range(len(self.frames))]
        view = widgets.HTML(value=_inline_svg(svgs[0]))
        text = widgets.HTML(value=f"<pre>{html.escape(self.frames[0].caption())}</pre>")
        slider = widgets.IntSlider(value=0, min=0, max=len(svgs) - 1, description="step")

        def show(change: dict) -> None:
            i = change["new"]
            view.value = _inline_svg(svgs[i])
            text.value = f"<pre>{html.escape(self.frames[i].caption())}</pre>"

        slider.observe(show, names="value")
        return widgets.VBox([slider, view, text])

    def save(self, directory: str | Path, formats: Iterable[str] = ("svg",)) -> list[Path]:
        """Write the chosen exports (``svg``, ``png``, ``gif``, ``html``) into ``directory``."""
        directory = Path(directory)
        written: list[Path] = []
        for fmt in formats:
            if fmt in ("svg", "png"):
                written += self.write_frames(directory, fmt)
            elif fmt == "gif":
                written.append(self.write_gif(directory / "replay.gif"))
            elif fmt == "html":
                written.append(self.write_html(directory / "replay.html"))
            else:
                raise ValueError(
                    f"replay: unknown export format {fmt!r}; use svg, png, gif or html"
                )
        return written


def replay(
    output: Value,
    grad: Any = None,
    *,
    symbolic: bool = True,
    rankdir: str = "LR",
    max_frames: int = 200,
    **dot_options: Any,
) -> Replay:
    """The backward pass of ``output`` as frames, one per node (reverse topological order).

    Args:
        output: the Value to differentiate (usually the loss E).
        grad: seed gradient, as for ``backward`` (1 for a scalar output).
        symbolic: also give each elementwise local derivative as a SymPy factor.
        rankdir, dot_options: passed to ``viz.to_dot`` for the pictures.
        max_frames: exporting pictures of more frames raises ``ValueError``
            (the text frames are always available).

    The user's graph is not modified: gradients are recomputed from the data
    the nodes saved, so it works before or after ``backward()``.

    >>> import autograd_lite as al
    >>> import math
    >>> w = al.Value(0.5, label="w")
    >>> E = (w * 3.0).tanh()
    >>> r = replay(E)
    >>> r[0].outgoing[0].factor    # d tanh(z)/dz, z the product
    '1 - tanh(mul)**2'
    >>> r[1].outgoing[0].factor    # d(w*3)/dw
    '3'
    >>> r[-1].name, math.isclose(r[-1].grad, 3 * (1 - math.tanh(1.5) ** 2))
    ('w', True)
    """
    if isinstance(max_frames, bool) or not isinstance(max_frames, int) or max_frames < 1:
        raise ValueError(f"replay: max_frames must be a positive int, got {max_frames!r}")
    frames, ids = backward_trace(output, grad, symbolic=symbolic)
    return Replay(
        output, frames, ids, rankdir=rankdir, dot_options=dot_options, max_frames=max_frames
    )


# ----------------------------------------------------------------- rendering helpers


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _add_caption(dot: str, lines: list[str]) -> str:
    """Put ``lines`` under the graph as a left-aligned caption."""
    label = "".join(_dot_escape(line) + "\\l" for line in lines)
    caption = f'  label="{label}";\n  labelloc="b";\n  labeljust="l";\n  fontsize=12;\n'
    brace = dot.index("{") + 1
    return dot[:brace] + "\n" + caption + dot[brace:]


def _render_dot(dot: str, fmt: str) -> bytes:
    """Render DOT text with the renderer ``viz`` finds; the file's bytes."""
    import tempfile

    from ..viz import render_dot

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"graph.{fmt}"
        render_dot(dot, target, format=fmt)
        return target.read_bytes()


def _inline_svg(svg: str) -> str:
    """SVG text fit for inlining in HTML: no XML declaration, DOCTYPE or comments."""
    import re

    start = svg.find("<svg")
    if start < 0:
        raise ValueError("renderer output is not SVG (no <svg> element)")
    svg = svg[start:]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg.strip()


_HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
.controls {{ display: flex; gap: 0.8em; align-items: center; margin-bottom: 1em; }}
.frame svg {{ max-width: 100%; height: auto; }}
pre.caption {{ background: #f6f6f6; padding: 0.8em; border-radius: 4px; }}
</style>
</head>
<body>
<h1>{title}</h1>
<div class="controls">
<button id="prev" type="button" disabled>&#9664; back</button>
<input id="step" type="range" min="0" max="{last}" value="0" step="1">
<button id="next" type="button">next &#9654;</button>
<span id="where"></span>
</div>
<div id="frames" data-names="{summary}">
{panels}
</div>
<script>
{script}
</script>
</body>
</html>
"""

_HTML_SCRIPT = """(function () {
  var n = __N__;
  var slider = document.getElementById("step");
  var where = document.getElementById("where");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  function show(i) {
    i = Math.max(0, Math.min(n - 1, i));
    slider.value = i;
    for (var k = 0; k < n; k++) {
      document.getElementById("frame" + k).style.display = (k === i) ? "" : "none";
    }
    where.textContent = "step " + (i + 1) + " of " + n;
    prev.disabled = (i === 0);
    next.disabled = (i === n - 1);
  }
  function current() { return parseInt(slider.value, 10); }
  slider.addEventListener("input", function () { show(current()); });
  prev.addEventListener("click", function () { show(current() - 1); });
  next.addEventListener("click", function () { show(current() + 1); });
  document.addEventListener("keydown", function (e) {
    // The focused slider moves itself on arrow keys (and fires "input").
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey) { return; }
    if (e.key === "ArrowRight") { show(current() + 1); e.preventDefault(); }
    if (e.key === "ArrowLeft") { show(current() - 1); e.preventDefault(); }
  });
  show(0);
})();
"""


def doc_example() -> Value:
    """The docs' replay example: ``y = x·x + σ(x)`` at x = 1.5 (x feeds three consumers).

    >>> y = doc_example()
    >>> [f.name for f in replay(y, symbolic=False)]
    ['y', 'sigmoid', 'mul', 'x']
    """
    x = Value(1.5, label="x")
    y = x * x + x.sigmoid()
    y.label = "y"
    return y


def write_doc_figures(directory: str | Path) -> list[Path]:
    """Write the figures and text snippets of ``docs/teaching.md`` into ``directory``.

    All names start with ``teaching_``: ``teaching_replay/frame_NNN.svg``,
    ``teaching_replay.html``, ``teaching_replay.gif``, ``teaching_replay.txt``,
    ``teaching_exercise/`` (picture and JSON sheets of the delta-rule exercise, and
    ``worksheet_anna.json``: a student's filled-in worksheet with one slip),
    ``teaching_grade.txt``, ``teaching_audit.svg`` and ``teaching_audit.txt``.
    Returns the paths written.
    """
    from . import exercises
    from .audit import audit as run_audit
    from .audit import demo_wrong_op

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    r = replay(doc_example())
    written += r.write_frames(directory / "teaching_replay", "svg")
    written.append(r.write_html(directory / "teaching_replay.html"))
    written.append(r.write_gif(directory / "teaching_replay.gif"))
    text = directory / "teaching_replay.txt"
    text.write_text(str(r) + "\n", encoding="utf-8")
    written.append(text)

    E = exercises.delta_rule()
    ex = exercises.exercise(E, hide=("grad",))
    paths = ex.write(directory / "teaching_exercise", "svg")
    written += [paths["picture"], paths["answers"], paths["worksheet"]]
    sheet = ex.answer_sheet()
    w_id = next(k for k, v in sheet["answers"].items() if v["label"] == "w")
    sheet["answers"][w_id]["grad"][0] += 0.05  # a student's slip
    anna = directory / "teaching_exercise" / "worksheet_anna.json"  # the page grades this file
    anna.write_text(json.dumps(sheet, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(anna)
    report = exercises.grade(anna, E)
    graded = directory / "teaching_grade.txt"
    graded.write_text(str(report) + "\n", encoding="utf-8")
    written.append(graded)

    with demo_wrong_op("my_square", label="") as bad:  # the op teaching.md's code registers
        z = Value(0.7, label="z")
        sq = bad(z * 2.0)
        sq.label = "sq"
        out = sq.tanh()
        result = run_audit(out)
        written.append(result.render(directory / "teaching_audit.svg"))
        table = directory / "teaching_audit.txt"
        table.write_text(str(result) + "\n", encoding="utf-8")
        written.append(table)
    return written
