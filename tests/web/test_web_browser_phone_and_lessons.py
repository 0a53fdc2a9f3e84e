"""The playground on a phone-sized screen, and lessons chosen one after another."""

from __future__ import annotations

import pytest
from test_web_browser import click_plane
from web_helpers import Tab

pytestmark = pytest.mark.browser

STATE = "window.__chainrule.state"


def test_a_phone_sized_window_shows_the_plane_without_sideways_scrolling(tab: Tab) -> None:
    """At 375 px the page is one column: nothing sticks out of it (the plane and the charts
    were drawn 420 px wide, the network diagram squeezed to a sliver beside the settings), and
    a click on the shrunk plane still finds the point under it."""
    tab.page.set_viewport_size({"width": 375, "height": 800})
    page = tab.open()
    assert tab.js("document.documentElement.scrollWidth") <= 375
    panel = page.locator(".column.output .panel").first.bounding_box()
    for part in ("#regions", "#loss-chart", "#diagram"):
        box = page.locator(part).bounding_box()
        assert box is not None and panel is not None
        assert box["x"] >= panel["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"]
    x1, x2, _ = tab.js(f"{STATE}.points.train[3]")
    click_plane(tab, x1, x2)
    tab.wait("window.__chainrule.lastTrace !== null")
    assert tab.js("window.__chainrule.lastTrace.index") == 3
    assert tab.errors == []


@pytest.mark.parametrize(("gate", "lesson"), [("or", "xor-linear"), ("and", "saturation")])
def test_a_lesson_after_a_gate_lesson_trains_on_its_own_data_set(
    tab: Tab, gate: str, lesson: str
) -> None:
    """A gate lesson's four corners (all training points) used to stay: "XOR without a hidden
    layer" then trained on 2 of the OR corners and tested on the other 2, and the saturation
    lesson had no test points at all."""
    page = tab.open()
    page.select_option("#lesson", gate)
    tab.wait(f"{STATE}.points.train.length === 4 && window.__chainrule.frame.train.accuracy === 1")
    page.select_option("#lesson", lesson)
    tab.wait(f"{STATE}.source === 'generated' && {STATE}.sizes[0] === 2")
    tab.wait(f"{STATE}.settings.output === 'softmax'")
    state = tab.js(STATE)
    points = state["points"]["train"] + state["points"]["test"]
    assert len(points) == state["settings"]["n_points"] == 200
    assert len(state["points"]["test"]) == 100  # the default training share, 50%
    if lesson == "xor-linear":  # the XOR rule by hand: class 1 where the signs differ
        xor = [int((x1 > 0) != (x2 > 0)) == label for x1, x2, label in points]
        assert sum(xor) >= 0.95 * len(points)
    assert tab.errors == []
