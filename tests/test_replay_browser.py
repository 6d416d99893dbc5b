"""The replay page (``Replay.write_html``, ``autograd-lite replay --html``) in a real browser.

Playwright for Python drives Debian's Chromium (``/usr/bin/chromium``; no browser
download). Without it the test is skipped on a developer's machine with a message
saying how to install it; under ``CI=true`` it fails instead (``.ci/run`` installs it).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite import cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(what: str) -> None:
    """Skip on a developer's machine; fail under CI, where the browser test must run."""
    if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
        pytest.fail(f"CI=true but {what}", pytrace=False)
    pytest.skip(what)


def _check_browser(path: Path) -> None:
    if not path.exists():
        _missing(
            f"{path} not found: install Debian's Chromium with `apt-get install chromium` "
            "(as root; no Playwright browser download is needed)"
        )


def test_a_missing_browser_skips_here_but_fails_under_ci(monkeypatch, tmp_path):
    absent = tmp_path / "chromium"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        _check_browser(absent)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true but .*apt-get install chromium"):
        _check_browser(absent)
    _check_browser(Path(__file__))  # present: nothing happens


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing(
            "Playwright is not installed: pip install -e '.[dev]' (or: pip install playwright)"
        )
    _check_browser(CHROMIUM)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records script errors, console errors and every request made."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(20_000)
    pg.problems = []
    pg.requests = []
    pg.on("pageerror", lambda exc: pg.problems.append(f"page error: {exc}"))
    pg.on(
        "console",
        lambda msg: (
            pg.problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning")
            else None
        ),
    )
    pg.on("request", lambda req: pg.requests.append(req.url))
    yield pg
    context.close()


EXPR = "tanh(w*x + b)*x"  # x is used twice: its frame adds two contributions
VALUES = {"w": 0.5, "x": 2.0, "b": -1.0}


def _replay_page(tmp_path: Path, capsys) -> tuple[Path, int]:
    """The page ``autograd-lite replay EXPR --html`` writes, and its number of steps."""
    from autograd_lite import formula

    out = tmp_path / "frames"
    sets = [arg for k, v in VALUES.items() for arg in ("--set", f"{k}={v}")]
    code = cli.main(["replay", EXPR, *sets, "-o", str(out), "--no-svg", "--html"])
    assert code == 0, capsys.readouterr().err
    (html,) = out.glob("*.html")
    n = len(al.viz.replay(formula.to_value(EXPR, dict(VALUES)), symbolic=False))
    return html, n


def _state(page) -> dict:
    visible = [f.get_attribute("id") for f in page.locator("div.frame").all() if f.is_visible()]
    return {
        "visible": visible,
        "where": page.locator("#where").inner_text(),
        "slider": int(page.locator("#step").input_value()),
        "prev_disabled": page.locator("#prev").is_disabled(),
        "next_disabled": page.locator("#next").is_disabled(),
    }


def _expect(page, i: int, n: int) -> None:
    state = _state(page)
    assert state == {
        "visible": [f"frame{i}"],
        "where": f"step {i + 1} of {n}",
        "slider": i,
        "prev_disabled": i == 0,
        "next_disabled": i == n - 1,
    }
    caption = page.locator(f"#frame{i} pre.caption").inner_text()
    assert caption.startswith(f"step {i + 1}"), caption


def _picture(page, i: int) -> np.ndarray:
    """The visible frame's SVG as the browser drew it (RGB pixels)."""
    from PIL import Image

    svg = page.locator(f"#frame{i} svg")
    box = svg.bounding_box()
    assert box is not None and box["width"] > 50 and box["height"] > 50, box
    return np.asarray(Image.open(io.BytesIO(svg.screenshot())).convert("RGB"))


def test_replay_page_in_chromium(page, tmp_path, capsys):
    html, n = _replay_page(tmp_path, capsys)
    assert n >= 5
    page.goto(html.resolve().as_uri())
    assert page.locator("div.frame").count() == n
    _expect(page, 0, n)
    first = _picture(page, 0)

    # Buttons: next moves one step (a new picture), back returns.
    page.locator("#next").click()
    _expect(page, 1, n)
    second = _picture(page, 1)
    assert first.shape != second.shape or np.abs(first.astype(int) - second).sum() > 0
    page.locator("#prev").click()
    _expect(page, 0, n)

    # Arrow keys on the page (not on the slider).
    page.locator("h1").click()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    _expect(page, 2, n)
    page.keyboard.press("ArrowLeft")
    _expect(page, 1, n)

    # The slider: dragged to its right end, then moved by its own arrow keys (one step each).
    box = page.locator("#step").bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    _expect(page, n - 1, n)
    page.keyboard.press("ArrowRight")  # already at the end: stays
    _expect(page, n - 1, n)
    page.keyboard.press("ArrowLeft")
    _expect(page, n - 2, n)
    page.mouse.click(box["x"] + 2, box["y"] + box["height"] / 2)
    _expect(page, 0, n)

    # The ends: next until it is disabled, then back until that is.
    for i in range(1, n):
        page.locator("#next").click()
        _expect(page, i, n)
    page.keyboard.press("ArrowRight")
    _expect(page, n - 1, n)
    for i in range(n - 2, -1, -1):
        page.locator("#prev").click()
        _expect(page, i, n)

    # The screenshot shows the picture: the SVG's box is drawn, not blank.
    shot = tmp_path / "replay.png"
    page.screenshot(path=str(shot), full_page=True)
    from PIL import Image

    full = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    box = page.locator("#frame0 svg").bounding_box()
    x0, y0 = int(box["x"]), int(box["y"])
    region = full[y0 : y0 + int(box["height"]), x0 : x0 + int(box["width"])]
    assert region.size > 0
    ink = (np.abs(region - 255).sum(axis=2) > 60).mean()
    assert 0.01 < ink < 0.9, ink  # lines, text and node fills, on a white page
    colours = {tuple(c) for c in region.reshape(-1, 3)[::7]}
    assert len(colours) > 20  # the node colours, not one flat shade
    np.testing.assert_array_equal(_picture(page, 0), first)  # back at the first picture

    assert page.problems == []
    assert all(url.startswith("file://") for url in page.requests), page.requests
