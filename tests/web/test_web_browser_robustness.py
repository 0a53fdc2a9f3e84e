"""The playground in a real browser under a learner's and a teacher's rough handling: fast
repeated clicks, bad values typed into inputs, a diverging run, a restarted server, the keyboard.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from test_web_browser import click_plane, step
from web_helpers import Tab, start_server, stop_server

pytestmark = pytest.mark.browser

SETTINGS = "window.__chainrule.state.settings"


def test_fast_repeated_changes_are_all_kept(tab: Tab) -> None:
    page = tab.open()
    page.focus("#noise")
    for _ in range(10):  # each arrow key is a change, sent before the last one is answered
        page.keyboard.press("ArrowRight")
    plus = page.locator(".layer-head button", has_text="+").first
    for _ in range(5):
        plus.click()
    tab.wait(f"{SETTINGS}.noise === 0.15 && {SETTINGS}.hidden[0].units === 13")
    time.sleep(0.3)  # every answer has come: nothing moves back
    assert tab.js(SETTINGS)["noise"] == 0.15
    assert tab.js("window.__chainrule.state.sizes") == [2, 13, 8, 2]
    assert page.locator("#noise").input_value() == "0.15"
    assert tab.errors == []


def test_a_bad_seed_is_refused_and_the_box_shows_the_seed_in_use(tab: Tab) -> None:
    page = tab.open()
    for bad in ("", "-3", "2147483648", "1.5"):
        page.fill("#seed", bad)
        page.locator("#seed").dispatch_event("change")
        assert page.locator("#seed").input_value() == "1"
        assert "whole number" in page.locator("#error-text").inner_text()
    assert tab.js(SETTINGS)["seed"] == 1
    assert "seed=1" in page.url


def test_a_divergence_leaves_no_undone_steps_in_the_charts(tab: Tab) -> None:
    page = tab.open("#data=circle&hidden=32r-32r-32r-32r-32r-32r&opt=momentum&lr=10&batch=10")
    tab.wait("window.__chainrule.state.sizes.length === 8")
    page.click("#play")
    page.locator("#diverged").wait_for(state="visible", timeout=20_000)
    tab.wait("window.__chainrule.frame.playing === false")
    frame = tab.frame()
    history = tab.js("window.__chainrule.history")
    assert all(h["steps"] <= frame["steps"] for h in history)
    assert all(h["trainLoss"] is None or h["trainLoss"] < 100 for h in history)
    assert len(tab.js("window.__chainrule.gradientTicks")) <= 7
    page.select_option("#learning_rate", "0.001")
    tab.wait(f"{SETTINGS}.learning_rate === 0.001")
    assert page.locator("#diverged").is_visible()  # until training goes on
    step(tab, "minibatch")
    tab.wait("document.getElementById('diverged').hidden")
    assert tab.errors == []


def test_small_losses_keep_their_significant_digits(tab: Tab) -> None:
    page = tab.open("#data=gaussian&noise=0&hidden=8t&opt=adam&lr=0.3&batch=10")
    tab.wait(f"{SETTINGS}.dataset === 'gaussian'")
    for _ in range(40):
        step(tab)
        if tab.frame()["train"]["loss"] < 1e-3:
            break
    loss = tab.frame()["train"]["loss"]
    assert loss < 1e-3
    shown = float(page.locator("#train-loss").inner_text())
    assert shown == pytest.approx(loss, rel=0.06)


def test_file_pickers_and_the_explanation_work_from_the_keyboard(tab: Tab) -> None:
    page = tab.open()
    chosen: list[Any] = []

    def choose(chooser: Any) -> None:  # Playwright needs a Python function, not a builtin
        chosen.append(chooser)

    page.on("filechooser", choose)  # intercepts the dialogs from here on
    page.wait_for_timeout(200)
    for n, picker in enumerate(("#upload", "#import"), start=1):
        page.locator(f"label:has({picker})").focus()
        page.keyboard.press("Enter")
        page.wait_for_timeout(100)
        for _ in range(50):
            if len(chosen) == n:
                break
            page.wait_for_timeout(100)
        assert len(chosen) == n and chosen[-1].element.get_attribute("id") == picker[1:]
    points = tab.js("window.__chainrule.state.points.train")
    click_plane(tab, *points[0][:2])
    page.locator("#explain").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator("#explain").wait_for(state="hidden")
    click_plane(tab, *points[0][:2])
    page.locator("#explain").wait_for(state="visible")
    page.click("#reset")  # new weights: the numbers shown would be stale
    page.locator("#explain").wait_for(state="hidden")
    assert tab.errors == []


def restart_server(tab: Tab, server: Any) -> Any:
    """Stop ``server``, see the page lose it and say so, start a new one on the same port, and
    wait until the page has reconnected to it and holds a state the new server sent; return the
    new server.

    The state from before the restart is marked: until the new session's first state replaces
    it, a test waiting for "custom points, 2-5-2" would find them in that old state at once and
    then read whichever of the new session's states (defaults, the URL's run, the restored
    points) had arrived by then.
    """
    port = server.url.rstrip("/").rsplit(":", 1)[1]
    tab.js("window.__chainrule.state.from_before_the_restart = true")
    stop_server(server)
    tab.wait("!window.__chainrule.connected")
    assert "reconnecting" in tab.page.locator("#error-text").inner_text()
    server = start_server("--port", port)
    tab.wait("window.__chainrule.reconnected === 1", timeout_s=20)
    tab.wait("!window.__chainrule.state.from_before_the_restart")
    return server


def runs_on_after_the_restart(tab: Tab) -> None:
    """No error is shown, a step works, and nothing failed but the refused connections."""
    assert not tab.page.locator("#error").is_visible()
    step(tab, "minibatch")
    assert [e for e in tab.errors if "ERR_CONNECTION_REFUSED" not in e] == []


def test_the_page_reconnects_after_the_server_restarts(browser: Any) -> None:
    server = start_server()
    tab = Tab(browser, server.url)
    try:
        tab.open("#data=moons&hidden=5t&seed=3")
        tab.wait("window.__chainrule.state.sizes.join() === '2,5,2'")
        click_plane(tab, 0.0, 1.4)  # a clicked point: custom data
        tab.wait("window.__chainrule.state.source === 'custom'")
        points = tab.js("window.__chainrule.state.points")
        server = restart_server(tab, server)
        tab.wait(
            "window.__chainrule.state.source === 'custom' && "
            "window.__chainrule.state.sizes.join() === '2,5,2'"
        )
        state = tab.js("window.__chainrule.state")
        assert state["settings"]["seed"] == 3 and state["settings"]["dataset"] == "moons"
        again = sorted(map(tuple, state["points"]["train"] + state["points"]["test"]))
        assert again == sorted(map(tuple, points["train"] + points["test"]))
        runs_on_after_the_restart(tab)
    finally:
        tab.close()
        stop_server(server)


def test_an_uploaded_files_split_and_class_names_survive_a_server_restart(browser: Any) -> None:
    """After a reconnect the new session gets the page's data back as it was: the same points
    in training and in test (splitting anew with the seed would not give them) and the file's
    class names, not 0, 1, 2."""
    server = start_server()
    tab = Tab(browser, server.url)
    upload = b"x1,x2,animal\n" + b"".join(
        f"{np.cos(a):.3f},{np.sin(a):.3f},{['cat', 'dog', 'eel'][i % 3]}\n".encode()
        for i, a in enumerate(np.linspace(0, 6, 45))
    )
    try:
        page = tab.open("#train=0.6&seed=5")
        tab.wait("window.__chainrule.state !== undefined")
        page.set_input_files(
            "#upload", files=[{"name": "zoo.csv", "mimeType": "text/csv", "buffer": upload}]
        )
        tab.wait("window.__chainrule.state.classes.join() === 'cat,dog,eel'")
        before = tab.js("window.__chainrule.state.points")
        assert len(before["test"]) > 0
        server = restart_server(tab, server)
        tab.wait("window.__chainrule.state.classes.join() === 'cat,dog,eel'")
        state = tab.js("window.__chainrule.state")
        assert state["points"] == before
        assert state["source"] == "custom" and state["sizes"][-1] == 3
        runs_on_after_the_restart(tab)
    finally:
        tab.close()
        stop_server(server)


def test_layouts_keep_labels_readable_and_leave_no_empty_column(tab: Tab) -> None:
    """The explanation of a point next to an 8-unit layer: each wide table scrolls on its own,
    its row labels (j = 1) stay on one line and the panel itself never scrolls sideways. A
    paused run says so at once. A gate lesson, which hides every setting, leaves no empty
    settings column. In a narrow window the hidden-layer view and the gradient chart stack
    rather than shrink their labels to a few pixels."""
    page = tab.open()
    page.click("#play")
    tab.wait("window.__chainrule.frame.playing === true")
    page.click("#play")
    tab.wait("window.__chainrule.frame.playing === false")
    assert page.locator("#fps").inner_text() == "paused"
    tab.send({"type": "explain", "subset": "train", "index": 0})
    page.locator("#explain").wait_for(state="visible")
    sizes = tab.js(
        """(() => {
        const panel = document.getElementById("explain");
        const table = panel.querySelector("table[data-kind=gradient][data-layer='2']");
        const label = table.querySelector("tr:nth-child(2) th").getBoundingClientRect();
        const cell = table.querySelector("tr:nth-child(2) td").getBoundingClientRect();
        return {panel: [panel.scrollWidth, panel.clientWidth], label: label.height,
                cell: cell.height, table: [table.scrollWidth, table.clientWidth]};
        })()"""
    )
    assert sizes["panel"][0] <= sizes["panel"][1]  # nothing sticks out of the panel
    assert sizes["label"] == pytest.approx(sizes["cell"], abs=1)  # "j = 1" on one line
    assert sizes["table"][0] > sizes["table"][1]  # 9 columns: this table scrolls itself
    page.click("#explain-close")
    page.select_option("#lesson", "or")
    tab.wait("window.__chainrule.state.sizes.length === 2")
    network = page.locator(".column.network").bounding_box()
    assert network is not None and network["x"] < 40  # the first column, at the left edge
    page.select_option("#lesson", "")
    tab.wait("window.__chainrule.state.sizes.length === 4")
    page.set_viewport_size({"width": 800, "height": 600})
    for chart in ("#gradient-chart", "#hidden-view"):  # labels drawn at their own size
        shown = page.locator(chart).bounding_box()
        assert shown is not None
        assert shown["width"] >= 0.95 * tab.js(f"document.querySelector('{chart}').width")
    assert tab.errors == []


def test_the_page_reports_each_frame_it_has_drawn(tab: Tab) -> None:
    """The server sends a page that reports its drawn frames no more than it can draw (see
    chainrule.web.protocol.FRAME_DRAWN): the page must report every frame, or training stalls;
    and without reports a slow page falls seconds behind."""
    tab.page.add_init_script(
        """(() => {
        const send = WebSocket.prototype.send;
        window.__drawnReports = 0;
        WebSocket.prototype.send = function (data) {
          if (data === '{"type":"drawn"}') window.__drawnReports += 1;
          return send.call(this, data);
        };
        })()"""
    )
    page = tab.open()
    page.click("#play")
    tab.wait("window.__chainrule.frames >= 20")
    page.click("#play")
    tab.wait("window.__chainrule.frame.playing === false")
    drawn, frames = tab.js("[window.__drawnReports, window.__chainrule.frames]")
    assert drawn == frames
    assert tab.errors == [] and not page.locator("#error").is_visible()


def test_two_digit_neuron_numbers_are_separated_in_a_weights_name(tab: Tab) -> None:
    page = tab.open("#hidden=12t")
    tab.wait("window.__chainrule.state.sizes.join() === '2,12,2'")
    page.locator("line.hit[data-edge='1-11-0']").dispatch_event("click")  # neuron 12 <- input 1
    info = page.locator("#edge-info").inner_text()
    assert info.startswith("w12,1(1) = ") and "∂L/∂w12,1(1) = " in info
    page.locator("line.hit[data-edge='1-0-1']").dispatch_event("click")
    assert page.locator("#edge-info").inner_text().startswith("w12(1) = ")  # neuron 1 <- 2
    assert tab.errors == []
