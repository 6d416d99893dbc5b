"""Tests of autograd_lite.viz: DOT text (parsed here), SVG/PNG/PDF rendering, renderer discovery."""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import stat
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import viz
from autograd_lite.gradcheck import numeric_grad
from autograd_lite.viz import dot as dotmod

SVG_NS = "{http://www.w3.org/2000/svg}"


# ------------------------------------------------------------ a tiny DOT parser
_ATTR = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s\]]+)')
_NODE = re.compile(r"^\s*(\w+) \[(.*)\];$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")


def _unquote(text: str) -> str:
    """DOT-level unquoting: only \\" is an escape there (record escapes stay)."""
    if text.startswith('"'):
        text = text[1:-1]
    return re.sub(r"\\(.)", lambda m: '"' if m.group(1) == '"' else m.group(0), text)


def unescape(text: str) -> str:
    """What Graphviz shows for an escaped label or record field."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "l": "\n"}.get(m.group(1), m.group(1)), text)


def _attrs(text: str | None) -> dict[str, str]:
    return {k: _unquote(v) for k, v in _ATTR.findall(text or "")}


def parse_dot(source: str) -> tuple[dict[str, dict], list[tuple[str, str, dict]], list[str]]:
    """Nodes {id: attrs}, edges [(tail, head, attrs)] and the ids inside cluster_backward."""
    nodes: dict[str, dict] = {}
    edges: list[tuple[str, str, dict]] = []
    in_cluster = False
    cluster: list[str] = []
    lines = source.splitlines()
    assert lines[0] == "digraph autograd_lite {" and lines[-1] == "}"
    for line in lines[1:-1]:
        if line.strip().startswith("subgraph cluster_backward"):
            in_cluster = True
            continue
        if line.strip() == "}":
            in_cluster = False
            continue
        m = _EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2), _attrs(m.group(3))))
            continue
        m = _NODE.match(line)
        if m and m.group(1) not in ("graph", "node", "edge"):
            nodes[m.group(1)] = _attrs(m.group(2))
            if in_cluster:
                cluster.append(m.group(1))
    return nodes, edges, cluster


def record_fields(label: str) -> list[str]:
    """Split a record label at unescaped '|' and unescape each field."""
    if label.startswith("{") and label.endswith("}") and not label.endswith("\\}"):
        label = label[1:-1]
    fields = re.findall(r"(?:[^|\\]|\\.)+|(?<=\|)(?=\|)", label)
    return [unescape(f.strip()) for f in fields]


def value_nodes(nodes: dict) -> dict:
    return {k: v for k, v in nodes.items() if k.startswith("v")}


def by_name(nodes: dict) -> dict[str, str]:
    """First record field (the Value's label) -> node id."""
    return {record_fields(v["label"])[0]: k for k, v in value_nodes(nodes).items()}


def graphviz_pure() -> str:
    path = Path(sys.executable).parent / "graphviz-pure"
    found = str(path) if path.exists() else shutil.which("graphviz-pure")
    assert found, "graphviz-pure (a dependency) must be installed for these tests"
    return found


@pytest.fixture
def pure(monkeypatch: pytest.MonkeyPatch) -> str:
    """Force the pip renderer, whatever else is installed."""
    program = graphviz_pure()
    monkeypatch.setenv(viz.ENV_VAR, program)
    return program


def scalar_lecture() -> dict[str, al.Value]:
    """E = ½(ŷ − σ(w·x + b))² with scalar w, x (so every edge factor is a number)."""
    w = al.Value(0.4, label="w")
    x = al.Value(1.5, label="x", requires_grad=False)
    b = al.Value(-0.3, label="b")
    A = w * x + b
    A.label = "A"
    y = A.sigmoid()
    y.label = "y"
    e = 1.0 - y
    e.label = "e"
    E = 0.5 * e**2
    E.label = "E"
    E.backward()
    return {"w": w, "x": x, "b": b, "A": A, "y": y, "e": e, "E": E}


# ------------------------------------------------------------------- structure
def test_lecture_graph_has_one_record_per_value_and_one_node_per_op() -> None:
    E = viz.lecture_example()
    nodes, edges, cluster = parse_dot(viz.to_dot(E))
    names = by_name(nodes)
    for label in ("E", "e²", "e", "y", "A", "w·x", "w", "b", "x", "ŷ"):
        assert label in names, label
    ops = sorted(v["label"] for k, v in nodes.items() if k.startswith("op"))
    assert ops == sorted(["×", "^", "−", "σ", "+", "@"])
    assert names["E"] == "v0"
    assert cluster == []
    # every op node has exactly one outgoing edge, to the Value it made
    for k in (k for k in nodes if k.startswith("op")):
        assert [h for t, h, _ in edges if t == k] == ["v" + k[2:]]
    # y's op is sigmoid, fed by A
    assert (names["A"], "op" + names["y"][1:], {}) in edges
    assert nodes["op" + names["y"][1:]]["label"] == "σ"
    # 10 values; 6 op nodes; 6 op->value edges; inputs: 2+2+2+1+2+2 = 11 edges
    assert len(value_nodes(nodes)) == 12  # plus the two unnamed constants 0.5 and 2
    assert len(edges) == 6 + 11


def test_values_and_grads_are_shown_from_the_engine() -> None:
    g = scalar_lecture()
    nodes, _, _ = parse_dot(viz.to_dot(g["E"], digits=6))
    names = by_name(nodes)
    for name in ("y", "A", "w", "b", "e"):
        fields = record_fields(nodes[names[name]]["label"])
        assert fields[1] == f"data {float(g[name].data):.6g}"
        assert fields[2] == f"grad {float(g[name].grad):.6g}"
    # a constant has no grad field
    assert record_fields(nodes[names["x"]]["label"]) == ["x", "data 1.5"]


def test_show_flags_hide_data_and_grad() -> None:
    g = scalar_lecture()
    nodes, _, _ = parse_dot(viz.to_dot(g["E"], show_grad=False))
    assert not any("grad" in v["label"] for v in value_nodes(nodes).values())
    nodes, _, _ = parse_dot(viz.to_dot(g["E"], show_data=False, show_grad=False))
    assert not any("data" in v["label"] for v in value_nodes(nodes).values())
    t = al.Value(np.zeros((2, 3)), label="t")
    nodes, _, _ = parse_dot(viz.to_dot(t.sum(), show_data=False))
    assert "shape (2, 3)" in by_name(nodes) or any(
        "shape (2, 3)" in v["label"] for v in nodes.values()
    )


def test_parameters_constants_and_output_look_different() -> None:
    g = scalar_lecture()
    nodes, _, _ = parse_dot(viz.to_dot(g["E"]))
    names = by_name(nodes)
    w, x, A, E = (nodes[names[k]] for k in ("w", "x", "A", "E"))
    assert len({w["fillcolor"], x["fillcolor"], A["fillcolor"], E["fillcolor"]}) == 4
    assert "dashed" in x["style"] and "dashed" not in w.get("style", "")


def test_tensors_get_a_short_summary_not_a_wall_of_numbers() -> None:
    big = al.Value(np.arange(1000.0).reshape(10, 100), label="big")
    s = (big * 2.0).sum()
    nodes, _, _ = parse_dot(viz.to_dot(s))
    label = nodes[by_name(nodes)["big"]]["label"]
    assert "(10, 100)" in label and "min 0" in label and "mean 499.5" in label
    assert "max 999" in label and len(label) < 120
    small = al.Value([1.0, 0.0, 1.0], label="x")
    nodes, _, _ = parse_dot(viz.to_dot(small.sum()))
    assert "[1, 0, 1]" in nodes[by_name(nodes)["x"]]["label"]
    f32 = al.Value(np.ones(3, dtype=np.float32), label="h")
    assert "float32" in viz.to_dot(f32.sum())


def test_ids_are_deterministic_and_parents_in_argument_order() -> None:
    def build() -> str:
        a = al.Value(1.0, label="a")
        b = al.Value(2.0, label="b")
        return viz.to_dot((a - b) * a, edge_factors=True)

    first, second = build(), build()
    assert first == second
    nodes, edges, _ = parse_dot(first)
    # v0 = output (mul), v1 = its first parent (a - b), v2 = a, v3 = b (breadth first)
    assert record_fields(nodes["v2"]["label"])[0] == "a"
    assert record_fields(nodes["v3"]["label"])[0] == "b"
    assert [t for t, h, _ in edges if h == "op1"] == ["v2", "v3"]
    assert [t for t, h, _ in edges if h == "op0"] == ["v1", "v2"]


def test_rankdir_changes_record_orientation() -> None:
    x = al.Value(1.0, label="x")
    lr = viz.to_dot(x.exp())
    tb = viz.to_dot(x.exp(), rankdir="TB")
    assert "rankdir=LR" in lr and 'label="x | data 1"' in lr
    assert "rankdir=TB" in tb and 'label="{x | data 1}"' in tb


# ---------------------------------------------------------------- edge factors
def test_edge_factors_are_the_local_derivatives() -> None:
    g = scalar_lecture()
    _, edges, _ = parse_dot(viz.to_dot(g["E"], edge_factors=True, digits=8))
    labels = {
        a["label"].split(" = ")[0]: float(a["label"].split(" = ")[1])
        for *_, a in edges
        if "label" in a and a["label"] != "∂ = 1"  # (w·x + b)'s edge from w·x: unlabelled
    }
    y = float(g["y"].data)
    A = float(g["A"].data)
    # ∂y/∂A from a central difference of the sigmoid itself, not from our formula
    h = 1e-6
    sig = lambda z: 1.0 / (1.0 + math.exp(-z))
    assert labels["∂y/∂A"] == pytest.approx((sig(A + h) - sig(A - h)) / (2 * h), rel=1e-6)
    assert labels["∂e/∂y"] == pytest.approx(-1.0)
    assert labels["∂A/∂b"] == pytest.approx(1.0)
    assert labels["∂/∂w"] == pytest.approx(1.5)  # ∂(w·x)/∂w = x
    assert labels["∂/∂e"] == pytest.approx(2 * (1.0 - y))  # d(e²)/de = 2e
    assert labels["∂"] == pytest.approx(0.5)  # d(0.5·u)/du, both unlabelled
    # constants get no factor: nothing differentiates with respect to them
    assert not any(k.endswith("/∂x") for k in labels)


def test_product_of_factors_along_a_path_is_the_gradient() -> None:
    """The picture *is* the chain rule: multiply the edge factors from E back to w."""
    g = scalar_lecture()
    path = viz.find_path(g["E"], g["w"])
    assert path[0] is g["E"] and path[-1] is g["w"]
    product = 1.0
    for out, inp in itertools.pairwise(path):
        k = list(out.parents).index(inp)
        product *= dotmod._local_derivative(out, k)

    def E_of(w: float) -> float:
        return 0.5 * (1.0 - 1.0 / (1.0 + math.exp(-(w * 1.5 - 0.3)))) ** 2

    def E_of_value(w: al.Value) -> al.Value:
        return 0.5 * (1.0 - (w * 1.5 - 0.3).sigmoid()) ** 2

    assert E_of(0.4) == pytest.approx(g["E"].data)
    numeric = numeric_grad(E_of_value, [al.Value(0.4)], 0)
    assert product == pytest.approx(float(numeric), rel=1e-6)
    assert product == pytest.approx(g["w"].grad, rel=1e-9)


def test_tensor_edge_factors_show_values_or_jacobian_shape() -> None:
    E = viz.lecture_example()
    _, edges, _ = parse_dot(viz.to_dot(E, edge_factors=True))
    labels = [a["label"] for *_, a in edges if "label" in a]
    assert "∂w·x/∂w = [1, 0, 1]" in labels  # the dot product's derivative is x
    W = al.Value(np.ones((2, 3)), label="W")
    v = al.Value(np.ones(3), label="v")
    Wv = W @ v
    Wv.label = "Wv"
    _, edges, _ = parse_dot(viz.to_dot(Wv.tanh().sum(), edge_factors=True))
    labels = [a["label"] for *_, a in edges if "label" in a]
    assert "∂Wv/∂W: Jacobian (2,)×(2, 3)" in labels


# -------------------------------------------------------------------- escaping
NASTY = [
    'say "hi"',
    "{a|b}",
    "<port> x",
    "back\\slash",
    "two\nlines",
    "漢字 ∂σ é",
    "\\N and \\G",
    "ends with \\",
    "tab\there",
    "ctrl\x01char",
]


def test_nasty_labels_are_escaped_in_the_dot_text() -> None:
    leaves = [al.Value(float(i), label=text) for i, text in enumerate(NASTY)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total + leaf
    total.label = 'out "|{}<>'
    source = viz.to_dot(total, title='title with "quotes" and {braces}', edge_factors=True)
    nodes, edges, _ = parse_dot(source)  # every line still parses as a node or an edge
    shown = {record_fields(v["label"])[0] for v in value_nodes(nodes).values()}
    for text in NASTY:
        assert text.replace("\t", " ").replace("\x01", "?") in shown, text
    assert len(edges) == 3 * (len(NASTY) - 1)  # per add: two inputs, one output
    # no quote is left unescaped inside a label
    for line in source.splitlines():
        assert line.count('"') % 2 == 0 or '\\"' in line


def test_nasty_labels_render_verbatim_in_svg(pure: str) -> None:
    leaves = [al.Value(float(i), label=text) for i, text in enumerate(NASTY)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total * leaf
    svg = viz.to_svg(total)
    root = ET.fromstring(svg)
    texts = [t.text or "" for t in root.iter(SVG_NS + "text")]
    for text in NASTY:
        for line in text.replace("\t", " ").replace("\x01", "?").split("\n"):
            assert any(line.strip() == t.strip() for t in texts), (line, texts)


def test_escape_helpers() -> None:
    assert viz.escape_text('a"b\\c\nd') == 'a\\"b\\\\c\\nd'
    assert viz.escape_record("{x|<y>}") == "\\{x\\|\\<y\\>\\}"


# ----------------------------------------------------- highlight and node_style
def test_highlight_a_path_marks_nodes_ops_and_edges() -> None:
    g = scalar_lecture()
    path = viz.find_path(g["E"], g["w"])
    nodes, edges, _ = parse_dot(viz.to_dot(g["E"], highlight=path))
    names = by_name(nodes)
    red = {k for k, v in nodes.items() if v.get("color") == "#dc2626"}
    path_ids = {names[v.label] for v in path if v.label}
    assert path_ids <= red
    assert names["b"] not in red and names["x"] not in red
    assert "op" + names["A"][1:] in red
    red_edges = {(t, h) for t, h, a in edges if a.get("color") == "#dc2626"}
    assert (names["b"], "op" + names["A"][1:]) not in red_edges
    assert ("op" + names["A"][1:], names["A"]) in red_edges
    # the edge w -> (w*x)'s op is on the path
    assert any(t == names["w"] for t, _ in red_edges)
    # one Value alone
    nodes, _, _ = parse_dot(viz.to_dot(g["E"], highlight=g["b"]))
    assert nodes[by_name(nodes)["b"]]["color"] == "#dc2626"


def test_find_path_and_highlight_errors() -> None:
    g = scalar_lecture()
    stranger = al.Value(1.0, label="stranger")
    with pytest.raises(ValueError, match="'stranger' is not an input of this graph"):
        viz.find_path(g["E"], stranger)
    with pytest.raises(TypeError, match="find_path\\(wrt\\): expected an autograd_lite Value"):
        viz.find_path(g["E"], 3.0)
    with pytest.raises(TypeError, match="every item must be a Value"):
        viz.to_dot(g["E"], highlight=[g["w"], "w"])
    with pytest.raises(TypeError, match="expected a Value or an iterable of Values"):
        viz.to_dot(g["E"], highlight=3)


def test_node_style_hook_adds_escaped_attributes() -> None:
    g = scalar_lecture()

    def style(v: al.Value) -> dict | None:
        if v.label == "y":
            return {"color": "red", "tooltip": 'say "y"', "op": {"fillcolor": "pink"}}
        return None

    nodes, _, _ = parse_dot(viz.to_dot(g["E"], node_style=style))
    yid = by_name(nodes)["y"]
    assert nodes[yid]["color"] == "red"
    assert nodes[yid]["tooltip"] == 'say "y"'
    assert nodes["op" + yid[1:]]["fillcolor"] == "pink"
    assert nodes[by_name(nodes)["A"]]["color"] != "red"
    # label overrides are escaped as record text
    nodes, _, _ = parse_dot(viz.to_dot(g["y"], node_style=lambda v: {"label": "a|b"}))
    assert nodes["v0"]["label"] == "a\\|b"
    assert record_fields(nodes["v0"]["label"]) == ["a|b"]
    # an op node is not a record: its label is plain escaped text
    nodes, _, _ = parse_dot(viz.to_dot(g["y"], node_style=lambda v: {"op": {"label": 'σ|"'}}))
    assert nodes["op0"]["label"] == 'σ|"'
    assert "op" not in nodes["op0"]


def test_node_style_errors_name_the_problem() -> None:
    g = scalar_lecture()
    with pytest.raises(TypeError, match="must return a dict of DOT attributes or None, got list"):
        viz.to_dot(g["E"], node_style=lambda v: ["red"])
    with pytest.raises(ValueError, match="'bad key' is not a DOT attribute name"):
        viz.to_dot(g["E"], node_style=lambda v: {"bad key": 1})
    with pytest.raises(TypeError, match="the 'op' entry must be a dict of DOT attributes"):
        viz.to_dot(g["E"], node_style=lambda v: {"op": "red"})
    with pytest.raises(TypeError, match="node_style must be a callable"):
        viz.to_dot(g["E"], node_style="red")


# ------------------------------------------------------------- double backward
def test_nodes_recorded_by_backward_are_drawn_in_a_backward_cluster() -> None:
    x = al.Value(2.0, label="x")
    y = x**3
    y.backward(create_graph=True)
    dydx = x.grad
    assert isinstance(dydx, al.Value)
    dydx.label = "dy/dx"
    source = viz.to_dot(dydx, edge_factors=True)
    nodes, _, cluster = parse_dot(source)
    assert "backward pass, recorded by backward(create_graph=True)" in source
    names = by_name(nodes)
    assert names["dy/dx"] in cluster  # recorded by backward
    assert names["x"] not in cluster  # the forward leaf
    backward_ids = [k for k in cluster if k.startswith("op")]
    assert backward_ids and all(nodes[k]["color"] == "#c2410c" for k in backward_ids)
    # d(dy/dx)/dx = 6x = 12 is the product of the factors on the way back to x
    path = viz.find_path(dydx, x)
    product = 1.0
    for out, inp in itertools.pairwise(path):
        product *= dotmod._local_derivative(out, list(out.parents).index(inp))
    assert product == pytest.approx(12.0)


# ------------------------------------------------------------------ big graphs
def scalar_mlp_loss(n: int = 40, hidden: int = 8, seed: int = 0) -> al.Value:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    Y = rng.normal(size=n)
    W1 = [[al.Value(rng.normal(), label=f"W1[{i},{j}]") for j in range(2)] for i in range(hidden)]
    b1 = [al.Value(0.0, label=f"b1[{i}]") for i in range(hidden)]
    W2 = [al.Value(rng.normal(), label=f"W2[{i}]") for i in range(hidden)]
    loss = al.Value(0.0, requires_grad=False)
    for x, y in zip(X, Y):
        h = [(W1[i][0] * x[0] + W1[i][1] * x[1] + b1[i]).tanh() for i in range(hidden)]
        out = h[0] * W2[0]
        for i in range(1, hidden):
            out = out + h[i] * W2[i]
        loss = loss + (out - y) ** 2
    loss.label = "loss"
    return loss


def test_node_limit_cuts_far_nodes_with_a_visible_note() -> None:
    v = al.Value(0.1, label="start")
    for _ in range(500):
        v = v.tanh()
    source = viz.to_dot(v, max_nodes=50, collapse=False)
    nodes, edges, _ = parse_dot(source)
    assert len(value_nodes(nodes)) == 50
    assert "showing the 50 nodes nearest the output (max_nodes=50)" in source
    assert "451 values not shown: 450 tanh, 1 parameter" in source
    cut_ops = [v for k, v in nodes.items() if k.startswith("op") and "not shown" in v["label"]]
    assert len(cut_ops) == 1 and "dashed" in cut_ops[0]["style"]
    assert all(t in nodes and h in nodes for t, h, _ in edges)


def test_large_scalar_mlp_collapses_repeated_structure() -> None:
    loss = scalar_mlp_loss(n=40, hidden=8)
    loss.backward()
    total = len(dotmod._walk(loss))
    assert total > 2000
    source = viz.to_dot(loss, edge_factors=True)
    nodes, edges, _ = parse_dot(source)
    drawn = value_nodes(nodes)
    assert len(drawn) <= viz.DEFAULT_MAX_NODES
    assert f"{total} values drawn as {len(drawn)} nodes" in source
    # each hidden unit's tanh, applied to the 40 samples, became one ×40 group
    tanh_groups = [k for k in nodes if k.startswith("op") and nodes[k]["label"] == "tanh"]
    assert len(tanh_groups) == 8
    for k in tanh_groups:
        assert record_fields(nodes["v" + k[2:]]["label"])[0] == "×40"
    # the running sum over the batch is folded into one chain node
    assert any("chain of 40" in v["label"] for k, v in nodes.items() if k.startswith("op"))
    # every parameter is still drawn individually with its gradient
    names = by_name(nodes)
    for i in range(8):
        assert f"W2[{i}]" in names and "grad" in nodes[names[f"W2[{i}]"]]["label"]
    assert all(t in nodes and h in nodes for t, h, _ in edges)


def test_collapsed_group_summarises_its_members() -> None:
    x = al.Value(0.5, label="x")
    cs = np.arange(1.0, 9.0)
    outs = [(x * float(c)).tanh() for c in cs]
    total = outs[0]
    for o in outs[1:]:
        total = total + o
    nodes, _, _ = parse_dot(viz.to_dot(total, collapse=True))
    tanh_id = next(k for k, v in nodes.items() if k.startswith("op") and v["label"] == "tanh")
    fields = record_fields(nodes["v" + tanh_id[2:]]["label"])
    vals = np.tanh(0.5 * cs)
    assert fields[0] == "×8"
    assert fields[1] == (
        f"data min {vals.min():.4g} · mean {vals.mean():.4g} · max {vals.max():.4g}"
    )


def test_large_graph_renders(pure: str, tmp_path: Path) -> None:
    loss = scalar_mlp_loss(n=40, hidden=8)
    loss.backward()
    out = viz.render(loss, tmp_path / "mlp.svg", edge_factors=True, timeout=120)
    root = ET.parse(out).getroot()
    titles = {
        t.text
        for g in root.iter(SVG_NS + "g")
        if g.get("class") == "node"
        for t in g.iter(SVG_NS + "title")
    }
    assert "v0" in titles and len(titles) <= 2 * viz.DEFAULT_MAX_NODES


def test_bad_arguments_raise_clear_errors() -> None:
    x = al.Value(1.0)
    with pytest.raises(TypeError, match="to_dot: expected an autograd_lite Value, got float"):
        viz.to_dot(1.0)
    with pytest.raises(ValueError, match="rankdir must be one of"):
        viz.to_dot(x, rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes must be a positive int, got 0"):
        viz.to_dot(x, max_nodes=0)


# ------------------------------------------------------------------- rendering
def test_render_svg_is_xml_with_the_graph(pure: str, tmp_path: Path) -> None:
    E = viz.lecture_example()
    path = viz.render(E, tmp_path / "E.svg", edge_factors=True)
    assert path == tmp_path / "E.svg"
    root = ET.parse(path).getroot()
    assert root.tag == SVG_NS + "svg"
    titles = {g.get("class"): set() for g in root.iter(SVG_NS + "g")}
    node_titles = {
        t.text
        for g in root.iter(SVG_NS + "g")
        if g.get("class") == "node"
        for t in g.iter(SVG_NS + "title")
    }
    nodes, edges, _ = parse_dot(viz.to_dot(E, edge_factors=True))
    assert node_titles == set(nodes)
    edge_count = sum(1 for g in root.iter(SVG_NS + "g") if g.get("class") == "edge")
    assert edge_count == len(edges)
    texts = {t.text for t in root.iter(SVG_NS + "text")}
    assert {"E", "w", "σ", "@", "grad 1"} <= texts
    y = float(E.parents[1].parents[0].parents[1].data)
    assert f"∂e/∂y = {-1:g}" in texts
    assert f"∂y/∂A = {y * (1 - y):.4g}" in texts
    assert titles


def test_render_png_and_pdf(pure: str, tmp_path: Path) -> None:
    E = viz.lecture_example()
    png = viz.render(E, tmp_path / "E.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = viz.render(E, tmp_path / "graph.bin", format="pdf")
    assert pdf == tmp_path / "graph.bin"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert not list(tmp_path.glob("*.tmp"))


def test_render_path_errors_name_render(tmp_path: Path) -> None:
    # these leaked "[Errno 2] No such file or directory: '.../out.svg.tmp'" (a name the
    # caller never gave) and os.fspath's message, after running the renderer
    y = al.Value(2.0, label="x") * 3
    with pytest.raises(FileNotFoundError, match=r"^render: folder '.*nope' does not exist"):
        viz.render(y, tmp_path / "nope" / "g.svg")
    with pytest.raises(TypeError, match=r"^render: path must be a str or os.PathLike, got None"):
        viz.render(y, None)
    with pytest.raises(IsADirectoryError, match=r"^render: '.*' is a folder"):
        viz.render(y, tmp_path, format="dot")
    assert list(tmp_path.iterdir()) == []


def test_render_dot_needs_no_renderer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(viz.ENV_VAR, str(tmp_path / "missing"))
    x = al.Value(2.0, label="x")
    out = viz.render(x * x, tmp_path / "g.dot")
    assert out.read_text(encoding="utf-8") == viz.to_dot(x * x)


def test_render_format_errors(tmp_path: Path) -> None:
    x = al.Value(1.0)
    with pytest.raises(ValueError, match=r"cannot tell the format from the file name 'g\.jpeg'"):
        viz.render(x, tmp_path / "g.jpeg")
    with pytest.raises(ValueError, match="format must be one of"):
        viz.render(x, tmp_path / "g.svg", format="gif")
    with pytest.raises(TypeError, match="source must be DOT text"):
        viz.render_dot(b"digraph{}", tmp_path / "g.svg")


def test_no_renderer_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(viz.ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert viz.find_renderers() == []
    with pytest.raises(viz.RendererNotFoundError, match="pip install graphviz-pure"):
        viz.render(al.Value(1.0), tmp_path / "g.svg")
    with pytest.raises(RuntimeError, match="system Graphviz"):
        viz.to_svg(al.Value(1.0))


def _fake_renderer(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-dot"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_env_var_overrides_the_renderer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _fake_renderer(
        tmp_path,
        "src = sys.stdin.read()\n"
        "sys.stdout.write('<svg>' + sys.argv[1] + ' ' + str(len(src)) + '</svg>')",
    )
    monkeypatch.setenv(viz.ENV_VAR, str(fake))
    assert viz.find_renderers() == [str(fake)]
    x = al.Value(1.0, label="x")
    svg = viz.to_svg(x)
    assert svg == f"<svg>-Tsvg {len(viz.to_dot(x).encode())}</svg>"
    assert x._repr_svg_() == svg


def test_env_var_pointing_nowhere_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(viz.ENV_VAR, str(tmp_path / "no-such-dot"))
    with pytest.raises(
        viz.RendererNotFoundError, match=r"\(from \$AUTOGRAD_LITE_DOT\).*no-such-dot"
    ):
        viz.to_svg(al.Value(1.0))


def test_failing_renderer_shows_its_stderr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _fake_renderer(tmp_path, "sys.stderr.write('syntax error near line 3'); sys.exit(2)")
    monkeypatch.setenv(viz.ENV_VAR, str(fake))
    with pytest.raises(viz.RendererNotFoundError, match=r"exit code 2.*syntax error near line 3"):
        viz.render(al.Value(1.0), tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


def test_renderer_that_hangs_times_out(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _fake_renderer(tmp_path, "time.sleep(30)")
    monkeypatch.setenv(viz.ENV_VAR, str(fake))
    with pytest.raises(TimeoutError, match=r"longer than 0\.5 s.*max_nodes"):
        viz.to_svg(al.Value(1.0), timeout=0.5)


def test_discovery_prefers_system_dot_then_graphviz_pure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(viz.ENV_VAR, raising=False)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    dot = _fake_renderer(bindir, "")
    dot.rename(bindir / "dot")
    venv = tmp_path / "venv"
    venv.mkdir()
    pure_bin = _fake_renderer(venv, "")
    pure_bin.rename(venv / "graphviz-pure")
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setattr(sys, "executable", str(venv / "python"))
    assert viz.find_renderers() == [str(bindir / "dot"), str(venv / "graphviz-pure")]
    os.remove(bindir / "dot")
    assert viz.find_renderers() == [str(venv / "graphviz-pure")]


def test_replay_is_the_function_even_after_importing_its_module() -> None:
    import importlib

    module = importlib.import_module("autograd_lite.teaching.replay")
    assert viz.replay is module.replay
    assert "replay" in viz.__all__


def test_collapsed_constants_are_drawn_once_per_use() -> None:
    loss = scalar_mlp_loss(n=30, hidden=3)
    nodes, edges, _ = parse_dot(viz.to_dot(loss, collapse=True))
    constants = [k for k, v in value_nodes(nodes).items() if "dashed" in v.get("style", "")]
    assert len(constants) >= 4  # x[0], x[1] per neuron, the targets, the exponent...
    for k in constants:
        consumers = {h for t, h, _ in edges if t == k}
        assert len(consumers) <= 3, (k, consumers)  # not one node feeding the whole graph


def test_uniform_arrays_are_summarised_as_all() -> None:
    b = al.Value(np.zeros(8), label="b")
    nodes, _, _ = parse_dot(viz.to_dot((b + 1.0).sum()))
    assert record_fields(nodes[by_name(nodes)["b"]]["label"])[1] == "data (8,) all 0"
    assert viz.summarize(np.full((2, 5), 2.5)) == "(2, 5) all 2.5"
    assert viz.summarize(np.array([np.nan, 1.0]), show_shape=False) == "[nan, 1]"


def test_legend_explains_the_kinds() -> None:
    E = viz.lecture_example()
    nodes, edges, _ = parse_dot(viz.to_dot(E, edge_factors=True, legend=True))
    legend = {k: v for k, v in nodes.items() if k.startswith("legend_")}
    assert record_fields(legend["legend_param"]["label"])[0] == "parameter (leaf)"
    assert record_fields(legend["legend_const"]["label"])[0] == "constant"
    assert legend["legend_param"]["fillcolor"] == nodes[by_name(nodes)["w"]]["fillcolor"]
    assert legend["legend_const"]["fillcolor"] == nodes[by_name(nodes)["x"]]["fillcolor"]
    assert ("legend_param", "legend_op") in {(t, h) for t, h, _ in edges}
    assert "legend_" not in viz.to_dot(E)


def test_doc_figures_are_written(pure: str, tmp_path: Path) -> None:
    from autograd_lite.teaching.figures import write_doc_figures

    paths = write_doc_figures(tmp_path)
    assert [p.name for p in paths] == [
        "viz_lecture.svg",
        "viz_highlight.svg",
        "viz_double_backward.svg",
        "viz_mlp_overview.svg",
        "viz_node_limit.svg",
    ]
    for p in paths:
        assert ET.parse(p).getroot().tag == SVG_NS + "svg"
    text = " ".join(t.text or "" for t in ET.parse(paths[3]).getroot().iter(SVG_NS + "text"))
    assert "chain of 50" in text and "×50" in text


def test_a_shared_constant_is_drawn_at_each_use() -> None:
    x = al.Value(1.0, label="x")
    c = al.Value(0.5, label="c", requires_grad=False)
    v = x
    for _ in range(5):
        v = v * c
    nodes, edges, _ = parse_dot(viz.to_dot(v))
    copies = [k for k, a in nodes.items() if k.startswith("v") and a["label"] == "c | data 0.5"]
    assert len(copies) == 5
    for k in copies:
        assert len([t for t, _, _ in edges if t == k]) == 1


def test_huge_png_is_scaled_down_not_slow(pure: str, tmp_path: Path) -> None:
    v = al.Value(0.1, label="s")
    for _ in range(600):
        v = v * 1.0001 + 0.001
    png = viz.render(v, tmp_path / "chain.png", timeout=60).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    limit = viz.render.__globals__["MAX_PNG_INCHES"] * viz.render.__globals__["PNG_DPI"]
    assert max(width, height) <= limit + 2


def test_collapse_note_names_only_what_happened() -> None:
    x = al.Value(1.0, label="x")
    total = x
    for k in range(5):
        total = total + x * float(k)  # no two sub-graphs are identical... but a chain of +
    source = viz.to_dot(total, collapse=True)
    assert "chain of" in source
    nodes, _, _ = parse_dot(source)
    merged = [v for v in value_nodes(nodes).values() if v["label"].startswith("×")]
    assert ("×n marks" in source) == bool(merged)
    source = viz.to_dot(x.exp().log(), collapse=True)
    assert "values drawn as" not in source  # nothing to merge: no note


def test_repr_svg_falls_back_to_none_without_a_renderer(monkeypatch):
    import autograd_lite as al

    v = (al.Value(2.0, label="x") * 3).tanh()
    monkeypatch.setenv("AUTOGRAD_LITE_DOT", "/nonexistent/dot")
    assert v._repr_svg_() is None  # Jupyter then shows the plain repr instead of a traceback


def test_unknown_values_show_a_question_mark_and_what_depends_on_them() -> None:
    x = al.Value(float("nan"), label="x")
    w, c = al.Value(2.0, label="w"), al.Value(3.0, label="c")
    y = w * x + c * c
    y.label = "y"
    y.backward()
    nodes, edges, _ = parse_dot(viz.to_dot(y, unknown=[x], edge_factors=True))
    records = sorted(record_fields(v["label"]) for v in value_nodes(nodes).values())
    assert records == sorted(
        [["y", "data ?"], ["data ?"], ["x", "data ?"], ["w", "data 2"], ["data 9"], ["c", "data 3"]]
    )
    assert not [attrs for _, _, attrs in edges if "label" in attrs]  # no factors: structure only
    # Without ``unknown`` the same graph shows its (nan) numbers, gradients and factors.
    nodes, edges, _ = parse_dot(viz.to_dot(y, edge_factors=True))
    assert record_fields(nodes[by_name(nodes)["c"]]["label"]) == ["c", "data 3", "grad 6"]
    assert [attrs for _, _, attrs in edges if "label" in attrs]
    with pytest.raises(TypeError, match="unknown"):
        viz.to_dot(y, unknown=3)
