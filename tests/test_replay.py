"""Backward replay: frame order, contributions that add up to the real gradients, exports."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite.gradcheck import numeric_grad
from autograd_lite.teaching.replay import all_nodes, backward_trace, replay


def shared_scalar(x: al.Value, w: al.Value) -> al.Value:
    """x feeds four consumers; w two. E = σ(w·x)·x + x² + w·x."""
    wx = w * x
    wx.label = "wx"
    s = wx.sigmoid()
    s.label = "s"
    E = s * x + x * x + wx
    E.label = "E"
    return E


def tensor_net(x: al.Value, W: al.Value, b: al.Value) -> al.Value:
    """Broadcast bias, a shared hidden layer, softmax and a reduction."""
    h = (x @ W.T + b).tanh()
    h.label = "h"
    p = h.softmax(axis=-1)
    return (p * h).sum() + h.mean()


def consumers(output: al.Value) -> dict[int, list[al.Value]]:
    out: dict[int, list[al.Value]] = {}
    for node in all_nodes(output):
        for parent in node.parents:
            out.setdefault(id(parent), []).append(node)
    return out


def check_frames(output: al.Value) -> None:
    """Frames: reverse topological order; incoming contributions sum to the engine's grad."""
    frames, _ = backward_trace(output)
    position = {id(f.node): f.index for f in frames}
    assert [f.index for f in frames] == list(range(len(frames)))
    assert len(position) == len(frames)  # each node once
    assert frames[0].node is output
    users = consumers(output)
    for f in frames:
        for user in users.get(id(f.node), []):
            if user.requires_grad:
                assert position[id(user)] < f.index, "a consumer came after its input"
    # the engine's gradients, from a real backward pass
    output.backward(retain_graph=True)
    for f in frames:
        total = sum(c.value for c in f.incoming)
        np.testing.assert_allclose(total, f.node.grad, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(f.grad, f.node.grad, rtol=1e-12, atol=1e-15)
        if f.incoming:
            np.testing.assert_allclose(f.incoming[-1].running_sum, f.grad, rtol=1e-12)
        # what a frame sends is exactly what its targets receive from it
        for c in f.outgoing:
            assert c.source is f.node
            assert any(c is d for d in frames[position[id(c.target)]].incoming)


def test_scalar_graph_frames_sum_to_grads():
    x = al.Value(1.5, label="x")
    w = al.Value(-0.8, label="w")
    E = shared_scalar(x, w)
    check_frames(E)
    r = replay(E, symbolic=False)
    fx = next(f for f in r.frames if f.node is x)
    assert len(fx.incoming) == 4  # s*x, x*x (twice) and w*x send to x
    running = [c.running_sum for c in fx.incoming]
    assert running == pytest.approx(np.cumsum([c.value for c in fx.incoming]).tolist())


def test_scalar_grads_match_finite_differences():
    x = al.Value(1.5, label="x")
    w = al.Value(-0.8, label="w")
    frames, _ = backward_trace(shared_scalar(x, w))
    grads = {id(f.node): f.grad for f in frames}
    for i, leaf in enumerate((x, w)):
        expected = numeric_grad(shared_scalar, [x, w], i)
        assert grads[id(leaf)] == pytest.approx(float(expected), rel=1e-6)


def test_tensor_graph_frames_sum_to_grads(rng):
    x = al.Value(rng.normal(size=(4, 3)), label="x", requires_grad=False)
    W = al.Value(rng.normal(size=(2, 3)), label="W")
    b = al.Value(rng.normal(size=2), label="b")
    check_frames(tensor_net(x, W, b))
    frames, _ = backward_trace(tensor_net(x, W, b))
    grads = {id(f.node): f.grad for f in frames}
    for i, leaf in ((1, W), (2, b)):
        expected = numeric_grad(tensor_net, [x, W, b], i)
        np.testing.assert_allclose(grads[id(leaf)], expected, rtol=1e-5, atol=1e-8)


def test_local_derivative_times_upstream_is_contribution():
    x = al.Value(0.3, label="x")
    y = (x * 2.0).tanh() * x.exp()
    for f in replay(y, symbolic=False):
        for c in f.outgoing:
            assert c.local is not None  # all elementwise
            assert c.upstream * c.local == pytest.approx(c.value, rel=1e-12)


def test_sympy_factor_and_rule_text():
    x = al.Value(0.4, label="x")
    W = al.Value(np.ones((2, 2)), label="W")
    r = replay((W @ al.Value([1.0, 2.0], requires_grad=False)).sum() + x.tanh())
    tanh_send = next(c for f in r for c in f.outgoing if c.source.op == "tanh")
    assert tanh_send.factor == "1 - tanh(x)**2"
    assert tanh_send.local == pytest.approx(1 - np.tanh(0.4) ** 2)
    mm = next(c for f in r for c in f.outgoing if c.source.op == "matmul")
    assert mm.local is None and mm.rule == "g @ bᵀ"
    text = str(r)
    assert "running sum" not in text  # no node here has two consumers
    assert "1 - tanh(x)**2" in text and "g @ bᵀ" in text


def test_user_graph_untouched_before_and_after_backward():
    x = al.Value(np.array([0.5, -1.0]), label="x")
    y = (x * x).sigmoid().sum()
    replay(y)
    assert x._grad is None and y._grad is None
    y.backward()  # frees the graph
    before = x.grad.copy()
    r = replay(y)  # still possible from the saved data
    np.testing.assert_array_equal(x.grad, before)
    np.testing.assert_allclose(r.frames[-1].grad, before)
    with pytest.raises(RuntimeError, match="freed"):
        y.backward()  # replay did not resurrect the graph either


def test_seed_for_non_scalar_output():
    x = al.Value([1.0, 2.0], label="x")
    y = x * 3.0
    r = replay(y, np.array([1.0, -1.0]))
    np.testing.assert_allclose(r.frames[-1].grad, [3.0, -3.0])
    with pytest.raises(ValueError, match="non-scalar"):
        replay(y)


def test_node_state_shows_partial_sums():
    x = al.Value(2.0, label="x")
    y = x * 3.0 + x
    r = replay(y, symbolic=False)
    assert r.node_state(0)[id(x)] == (1.0, False)  # the + sent its share, the × not yet
    mul = y.parents[0]
    assert r.node_state(0)[id(mul)] == (1.0, True)  # its only consumer has sent: final
    assert r.node_state(1)[id(x)] == (4.0, True)  # complete before x's own frame
    assert r.node_state(len(r) - 1)[id(x)] == (4.0, True)
    dot = r.frame_dot(0)
    assert "grad so far 1" in dot and "step 1" in dot
    with pytest.raises(IndexError, match="frame 9 out of range"):
        r.frame_dot(9)


# ------------------------------------------------------------------ exports


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_html_page_is_self_contained(tmp_path):
    x = al.Value(1.5, label="x")
    r = replay(shared_scalar(x, al.Value(0.5, label="w")))
    path = r.write_html(tmp_path / "replay.html")
    text = path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    tags = parser.tags
    for tag, attrs in tags:
        for name, value in attrs.items():
            if name in ("src", "href", "xlink:href", "action", "data"):
                assert not (value or "").lower().startswith(("http:", "https:", "//")), (
                    f"<{tag} {name}={value}> points outside the page"
                )
    names = [t for t, _ in tags]
    assert "link" not in names and "img" not in names and "iframe" not in names
    assert all("src" not in attrs for t, attrs in tags if t == "script")
    assert names.count("svg") == len(r)  # every frame inline
    assert sum(1 for t, a in tags if t == "div" and a.get("class") == "frame") == len(r)
    slider = next(a for t, a in tags if t == "input")
    assert slider["type"] == "range" and slider["max"] == str(len(r) - 1)
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert "@import" not in text and "url(" not in text


def test_numbered_frames_png_and_gif(tmp_path):
    x = al.Value(0.5, label="x")
    r = replay((x * x).tanh(), symbolic=False)
    svgs = r.write_frames(tmp_path / "frames")
    assert [p.name for p in svgs] == [f"frame_{i:03d}.svg" for i in range(len(r))]
    for p in svgs:
        root = ET.fromstring(p.read_bytes())
        assert root.tag.endswith("svg")
    pngs = r.write_frames(tmp_path / "frames", "png")
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    gif = r.write_gif(tmp_path / "replay.gif")
    from PIL import Image

    with Image.open(gif) as im:
        assert im.format == "GIF" and im.n_frames == len(r)
    written = r.save(tmp_path / "all", ["svg", "html"])
    assert {p.suffix for p in written} == {".svg", ".html"}


def test_widget_needs_ipywidgets(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    r = replay(al.Value(1.0, label="x").exp(), symbolic=False)
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        r.widget()


def test_viz_exposes_replay():
    from autograd_lite import viz

    r = viz.replay(al.Value(1.0, label="x").exp(), symbolic=False)
    assert [f.name for f in r] == ["exp", "x"]


def test_replay_errors(tmp_path):
    with pytest.raises(TypeError, match="replay: expected a Value, got list"):
        replay([1.0])
    with pytest.raises(ValueError, match="does not require a gradient"):
        replay(al.Value(2.0, requires_grad=False) * 3)
    r = replay(al.Value(1.0, label="x").exp(), symbolic=False)
    with pytest.raises(ValueError, match="format must be 'svg' or 'png', got 'jpg'"):
        r.write_frames(tmp_path, "jpg")
    with pytest.raises(ValueError, match=r"must end in \.gif"):
        r.write_gif(tmp_path / "a.png")
    with pytest.raises(ValueError, match="unknown export format 'mp4'"):
        r.save(tmp_path, ["mp4"])
    with pytest.raises(ValueError, match="max_frames must be a positive int"):
        replay(al.Value(1.0).exp(), max_frames=0)


def test_too_many_frames_to_draw(tmp_path):
    x = al.Value(0.1, label="x")
    y = x
    for _ in range(30):
        y = y.tanh()
    r = replay(y, symbolic=False, max_frames=10)
    assert len(r) == 31 and "step 31" in str(r)  # the text is always there
    with pytest.raises(ValueError, match="31 frames are too many to draw \\(max_frames=10\\)"):
        r.write_html(tmp_path / "r.html")
    with pytest.raises(ValueError, match="too many to draw"):
        r.write_frames(tmp_path)
    assert not list(tmp_path.iterdir())


def test_widget_slider_moves_through_the_frames():
    """The slider widget with the real ipywidgets (a dev extra): moving the slider shows that
    step's picture and caption. (docs/teaching.md's widget is displayed in a kernel by
    test_docs.py.)"""
    import ipywidgets

    x = al.Value(0.5, label="x")
    r = replay(x * x + x, symbolic=False)
    box = r.widget()
    assert isinstance(box, ipywidgets.VBox)
    slider, view, text = box.children
    assert isinstance(slider, ipywidgets.IntSlider)
    assert (slider.min, slider.max, slider.value) == (0, len(r) - 1, 0)
    assert view.value.startswith("<svg") and "step 1:" in text.value
    first = view.value
    slider.value = len(r) - 1
    assert f"step {len(r)}:" in text.value and "running sum" in text.value
    assert view.value.startswith("<svg") and view.value != first


@given(st.data())
def test_random_graphs_frames_sum_to_grads(data):
    """Random DAGs with shared nodes: replay and backward agree everywhere."""
    n_leaves = data.draw(st.integers(1, 3), label="leaves")
    values = st.floats(-1.5, 1.5, allow_nan=False)
    nodes = [al.Value(data.draw(values), label=f"x{i}") for i in range(n_leaves)]
    unary = ("tanh", "sigmoid", "exp", "neg", "swish")
    for _ in range(data.draw(st.integers(1, 8), label="ops")):
        a = data.draw(st.sampled_from(nodes))
        if data.draw(st.booleans()):
            nodes.append(getattr(a, data.draw(st.sampled_from(unary)))())
        else:
            b = data.draw(st.sampled_from(nodes))
            op = data.draw(st.sampled_from(("add", "sub", "mul")))
            nodes.append({"add": a + b, "sub": a - b, "mul": a * b}[op])
    out = nodes[-1]
    for extra in nodes[n_leaves:-1]:
        if data.draw(st.booleans()):
            out = out + extra  # more sharing
    if not out.requires_grad or out._op is None:
        out = out * 1.0
    check_frames(out)
