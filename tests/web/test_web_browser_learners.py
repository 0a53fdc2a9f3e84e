"""The playground for learners who use the keyboard, and for runs that stall: the data plane
driven by arrow keys, and the "stuck" hint when saturated units make the gradient vanish."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_web_browser import click_plane
from web_helpers import Tab

pytestmark = pytest.mark.browser

POINTS = "window.__chainrule.state.points"


def nearest(tab: Tab, x1: float, x2: float) -> tuple[str, int, list[float]]:
    """The (subset, index, point) nearest (x1, x2), as the page sees the points."""
    points = tab.js(POINTS)
    return min(
        ((subset, i, p) for subset in ("train", "test") for i, p in enumerate(points[subset])),
        key=lambda found: math.hypot(found[2][0] - x1, found[2][1] - x2),
    )


def test_the_plane_works_from_the_keyboard(tab: Tab, artifacts: Path) -> None:
    page = tab.open()
    plane = page.locator("#regions")
    assert plane.get_attribute("tabindex") == "0"
    assert "arrow keys" in (plane.get_attribute("aria-label") or "")
    assert "arrow keys" in page.locator("#plane-hint").inner_text()
    extent = tab.js("window.__chainrule.state.extent")
    cell = 2 * extent / 50
    plane.focus()
    page.keyboard.press("ArrowRight")
    assert tab.js("window.__chainrule.plane()")["cursor"] == pytest.approx([cell, 0])
    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("ArrowLeft")
    x1, x2 = tab.js("window.__chainrule.plane()")["cursor"]
    assert (x1, x2) == pytest.approx((0, 5 * cell))
    assert page.locator("#plane-status").is_visible()
    assert "Cross at (0.00," in page.locator("#plane-status").inner_text()
    page.screenshot(path=artifacts / "keyboard-plane.png")

    # Enter explains the point nearest the cross; Escape comes back to the plane.
    subset, index, _ = nearest(tab, x1, x2)
    page.keyboard.press("Enter")
    page.locator("#explain").wait_for(state="visible")
    assert page.locator("#explain-title").inner_text() == f"Explain the {subset} point {index}"
    page.keyboard.press("Escape")
    page.locator("#explain").wait_for(state="hidden")
    assert tab.js("document.activeElement.id") == "regions"

    # "2" picks class 1, A adds such a point at the cross, Delete removes it again.
    n = tab.js(f"{POINTS}.train.length")
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("2")
    page.keyboard.press("a")
    tab.wait(f"{POINTS}.train.length === {n + 1}")
    added = tab.js(f"{POINTS}.train.at(-1)")
    assert added == pytest.approx([15 * cell, 5 * cell, 1])
    assert page.locator("#class-picker button").nth(1).get_attribute("class") == "active"
    page.keyboard.press("Delete")
    tab.wait(f"{POINTS}.train.length === {n}")
    assert tab.js(f"{POINTS}.train.at(-1)") != added

    # The mouse works as before and hides the cross.
    click_plane(tab, 0.0, 1.4)
    tab.wait(f"{POINTS}.train.length === {n + 1}")
    assert tab.js("window.__chainrule.plane()")["focused"] is False
    assert page.locator("#plane-status").is_hidden()
    assert tab.errors == []


def test_a_stuck_run_explains_the_vanishing_gradient(tab: Tab, artifacts: Path) -> None:
    page = tab.open("#data=xor&hidden=8t-8t&opt=sgd&lr=10&batch=10&speed=20")
    tab.wait("window.__chainrule.state.settings.learning_rate === 10")
    stuck = page.locator("#stuck")
    assert stuck.is_hidden()
    page.click("#play")
    stuck.wait_for(state="visible", timeout=20_000)
    text = stuck.inner_text()
    assert "g'(e) ≈ 0" in text and "∂L/∂e = ∂L/∂h · g'(e) ≈ 0" in text and "smaller η" in text
    frame = tab.frame()
    assert frame["stuck"] is True and frame["saturated"] == [8, 8]
    assert "Saturated units" in page.locator("#dead").inner_text()
    page.click("#play")  # pause
    tab.wait("window.__chainrule.frame.playing === false")
    page.screenshot(path=artifacts / "stuck-hint.png")
    page.click("#stuck-close")
    assert stuck.is_hidden()
    page.click("#step-epoch")
    tab.wait("window.__chainrule.frame.stuck === true && !window.__chainrule.frame.playing")
    page.wait_for_timeout(200)
    assert stuck.is_hidden()  # dismissed for the rest of this run
    page.click("#reset")
    tab.wait("window.__chainrule.frame.steps === 0")
    assert stuck.is_hidden()
    assert tab.errors == []
