"""The playground in a real browser: Debian's Chromium driven by Playwright.

The numbers on the page are checked against chainrule itself: the trace of a clicked point
against ``chainrule.trace`` on the exported weights, predictions after export and import against
``load_model``.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from web_helpers import Tab

from chainrule.datasets import load_csv
from chainrule.engine import Network, trace
from chainrule.serialization import load_model

pytestmark = pytest.mark.browser


def export_model(tab: Tab, folder: Path) -> Path:
    with tab.page.expect_download() as download:
        tab.page.click("#export")
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return path


def library_network(path: Path) -> Network:
    model = load_model(path)
    return Network.from_weights(model.weights, model.activations)


def predict(tab: Tab, points: list[list[float]]) -> list[list[float]]:
    tab.js("window.__chainrule.prediction = null")
    tab.send({"type": "predict", "points": points})
    tab.wait("window.__chainrule.prediction !== null")
    result: list[list[float]] = tab.js("window.__chainrule.prediction")
    return result


def step(tab: Tab, unit: str = "epoch") -> None:
    before = tab.frame()["steps"]
    tab.page.click(f"#step-{unit}")
    tab.wait(f"window.__chainrule.frame.steps > {before}")


def click_plane(tab: Tab, x1: float, x2: float, **options: Any) -> None:
    """Click the decision-region canvas at the point (x1, x2) of the plane."""
    extent = tab.js("window.__chainrule.state.extent")
    box = tab.page.locator("#regions").bounding_box()
    assert box is not None
    px = box["x"] + (x1 + extent) / (2 * extent) * box["width"]
    py = box["y"] + (extent - x2) / (2 * extent) * box["height"]
    tab.page.mouse.move(px, py)
    if options.get("shift"):
        tab.page.keyboard.down("Shift")
    tab.page.mouse.click(px, py)
    if options.get("shift"):
        tab.page.keyboard.up("Shift")


def test_page_loads_without_console_errors(tab: Tab, artifacts: Path) -> None:
    page = tab.open()
    assert page.title() == "chainrule playground"
    assert tab.js("window.__chainrule.state.sizes") == [2, 8, 8, 2]
    assert page.locator(".neuron").count() == 20
    page.screenshot(path=artifacts / "start.png", full_page=True)
    assert tab.errors == []


def test_training_xor_reaches_95_percent_smoothly(tab: Tab, artifacts: Path) -> None:
    page = tab.open()
    assert tab.js("window.__chainrule.state.settings.dataset") == "xor"
    page.click("#play")
    time.sleep(2.0)  # let the frame counter fill its one-second window
    samples = []
    for _ in range(6):
        time.sleep(0.5)
        samples.append(tab.js("window.__chainrule.framesPerSecond"))
    tab.wait("window.__chainrule.frame.test.accuracy >= 0.95", timeout_s=60)
    page.click("#play")
    tab.wait("window.__chainrule.frame.playing === false")
    frame = tab.frame()
    history = tab.js("window.__chainrule.history")
    losses = [h["trainLoss"] for h in history]
    assert losses[-1] < 0.5 * losses[0]
    assert frame["test"]["accuracy"] >= 0.95
    assert page.locator("#test-acc").inner_text().endswith("%")
    box = page.locator("#loss-chart").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    tooltip = page.locator("#tooltip")
    assert tooltip.is_visible() and "train" in tooltip.inner_text()
    page.screenshot(path=artifacts / "training.png", full_page=True)
    figures = {
        "fps_samples": samples,
        "fps_mean": statistics.mean(samples),
        "fps_min": min(samples),
    }
    (artifacts / "fps.json").write_text(json.dumps(figures))
    print("decision-region frames per second:", figures)
    assert figures["fps_mean"] >= 20
    assert tab.errors == []


def test_clicking_a_point_shows_the_library_trace(
    tab: Tab, artifacts: Path, tmp_path: Path
) -> None:
    page = tab.open()
    for _ in range(3):
        step(tab)
    net = library_network(export_model(tab, tmp_path))
    state = tab.js("window.__chainrule.state")
    points = np.array(state["points"]["train"] + state["points"]["test"])
    gaps = np.linalg.norm(points[:, None, :2] - points[None, :, :2], axis=2)
    np.fill_diagonal(gaps, np.inf)
    loneliest = int(np.argmax(gaps.min(axis=1)))
    click_plane(tab, *points[loneliest, :2])
    tab.wait("window.__chainrule.lastTrace !== null")
    assert page.locator("#explain").is_visible()
    shown = tab.js("window.__chainrule.lastTrace")
    x1, x2, label = state["points"][shown["subset"]][shown["index"]]
    assert [x1, x2] == points[loneliest, :2].tolist()
    expected = trace(
        net, [[x1, x2]], [int(label)], learning_rate=state["settings"]["learning_rate"]
    )

    def cells(kind: str, l: int) -> list[float]:
        selector = f'#explain table[data-kind="{kind}"][data-layer="{l}"] td[data-value]'
        return [
            float(v)
            for v in page.locator(selector).evaluate_all("cells => cells.map(c => c.dataset.value)")
        ]

    for want in expected.layers:
        assert cells("forward", want.l) == np.column_stack([want.e[0], want.h[0]]).ravel().tolist()
        assert want.dL_dh is not None and want.dL_de is not None
        assert (
            cells("backward", want.l)
            == np.column_stack([want.dL_dh[0], want.dL_de[0]]).ravel().tolist()
        )
        assert want.dL_dW is not None and want.W_updated is not None
        assert cells("gradient", want.l) == want.dL_dW.ravel().tolist()
        assert cells("update", want.l) == want.W_updated.ravel().tolist()
    loss = page.locator("#explain b[data-value]").get_attribute("data-value")
    assert loss is not None and float(loss) == expected.loss

    def row_labels(kind: str, l: int) -> list[str]:
        selector = f'#explain table[data-kind="{kind}"][data-layer="{l}"] tr th:first-child'
        return [label for label in page.locator(selector).all_inner_texts() if label]

    # the lecture's numbering, as chainrule.engine.explain writes it: the softmax output's
    # neurons count from 0 (neuron y is class y), the hidden layers' from 1
    L = len(expected.layers)
    n_out = expected.layers[-1].e.shape[1]
    assert row_labels("backward", L) == [f"j = {j}" for j in range(n_out)]
    assert row_labels("forward", 1)[0] == "j = 1"
    assert "output unit" not in page.locator("#explain-body").inner_text()
    page.screenshot(path=artifacts / "explain.png")
    page.click("#explain-close")
    assert not page.locator("#explain").is_visible()
    assert tab.errors == []


def test_adding_and_removing_layers_changes_the_diagram(tab: Tab) -> None:
    page = tab.open()
    edges = "#edges line:not(.hit)"
    assert page.locator(".neuron").count() == 20 and page.locator(edges).count() == 96
    page.click("#add-layer")
    tab.wait("window.__chainrule.state.sizes.length === 5")
    assert tab.js("window.__chainrule.state.sizes") == [2, 8, 8, 4, 2]
    assert page.locator(".neuron").count() == 24
    assert page.locator(edges).count() == 16 + 64 + 32 + 8
    page.click("#remove-layer")
    page.click("#remove-layer")
    tab.wait("window.__chainrule.state.sizes.length === 3")
    assert page.locator(".neuron").count() == 12 and page.locator(edges).count() == 32
    page.locator(".layer-head button", has_text="+").first.click()
    tab.wait("window.__chainrule.state.sizes[1] === 9")
    assert page.locator(".neuron").count() == 13
    page.locator('#edges line.hit[data-edge="2-1-4"]').dispatch_event("click")
    frame = tab.frame()
    W2 = np.frombuffer(base64.b64decode(frame["weights"][1]["data"]), "<f4").reshape(2, 10)
    G2 = np.frombuffer(base64.b64decode(frame["gradients"][1]["data"]), "<f4").reshape(2, 10)
    info = page.locator("#edge-info").inner_text()
    numbers = re.findall(r"= (\S+)", info)
    assert float(numbers[0]) == pytest.approx(W2[1, 4], rel=1e-3, abs=1e-6)
    assert float(numbers[1]) == pytest.approx(G2[1, 4], rel=1e-3, abs=1e-6)
    # the softmax output's neurons count from 0 (the class), the hidden layer's from 1
    assert "neuron 1 of layer 2" in info and "input 5" in info
    page.locator(".layer-head select.activation").first.select_option("relu")
    tab.wait("window.__chainrule.state.activations[0] === 'relu'")
    assert "hidden=9r" in page.url
    assert tab.errors == []


def test_the_url_reproduces_a_run(tab: Tab, browser: Any, server: Any) -> None:
    link = (
        "#data=circle&points=300&noise=0.1&classes=3&train=0.6&hidden=6t-5r&out=softmax"
        "&opt=momentum&lr=0.03&batch=16&l2=0.001&seed=42&speed=5"
    )
    runs = []
    for attempt in range(2):
        opened = tab if attempt == 0 else Tab(browser, server.url)
        page = opened.open(link)
        opened.wait("window.__chainrule.state.settings.seed === 42")
        assert page.locator("#seed").input_value() == "42"
        assert opened.js("window.__chainrule.state.sizes") == [2, 6, 5, 3]
        for _ in range(3):
            step(opened)
        frame = opened.frame()
        runs.append(
            (frame["train"], frame["test"], [w["data"] for w in frame["weights"]], page.url)
        )
        if attempt == 1:
            opened.close()
    assert runs[0] == runs[1]
    assert runs[0][3].endswith(link)
    page = tab.page
    page.fill("#seed", "7")
    page.locator("#seed").dispatch_event("change")
    tab.wait("window.__chainrule.state.settings.seed === 7 && window.__chainrule.frame.steps === 0")
    assert "seed=7" in page.url


def test_divergence_shows_an_explanation_and_the_last_good_state(tab: Tab, artifacts: Path) -> None:
    page = tab.open("#data=circle&hidden=32r-32r-32r-32r-32r-32r&opt=momentum&lr=10&batch=10")
    tab.wait("window.__chainrule.state.sizes.length === 8")
    banner = page.locator("#diverged")
    for _ in range(10):
        page.click("#step-epoch")
        time.sleep(0.3)
        if banner.is_visible():
            break
    assert "Lower the learning rate" in banner.inner_text()
    assert tab.frame()["train"]["loss"] is not None
    page.screenshot(path=artifacts / "diverged.png")
    page.select_option("#learning_rate", "0.001")
    tab.wait("window.__chainrule.state.settings.learning_rate === 0.001")
    step(tab, "minibatch")
    assert tab.errors == []


def test_export_then_import_gives_identical_predictions(tab: Tab, tmp_path: Path) -> None:
    tab.open()
    for _ in range(3):
        step(tab)
    points = np.random.default_rng(1).uniform(-1.5, 1.5, size=(40, 2)).tolist()
    before = predict(tab, points)
    path = export_model(tab, tmp_path)
    tab.page.click("#reset")
    tab.wait("window.__chainrule.frame.steps === 0")
    assert predict(tab, points) != before
    tab.page.set_input_files("#import", path)
    tab.wait("window.__chainrule.state.reset === true && window.__chainrule.frame.steps === 0")
    time.sleep(0.2)
    after = predict(tab, points)
    assert after == before
    np.testing.assert_array_equal(np.array(after), library_network(path).predict_proba(points))
    assert tab.errors == []


def test_a_bad_upload_shows_an_error_and_the_session_goes_on(tab: Tab, artifacts: Path) -> None:
    page = tab.open()
    bad = {
        "name": "bad.csv",
        "mimeType": "text/csv",
        "buffer": b"x1,x2,label\n0.1,zz,0\n0.2,0.3,1\n",
    }
    page.set_input_files("#upload", files=[bad])
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "bad.csv" in error.inner_text() and "zz" in error.inner_text()
    page.screenshot(path=artifacts / "bad-upload.png")
    page.click("#error-close")
    big = {"name": "big.csv", "mimeType": "text/csv", "buffer": b"1,2,0\n" * 100_000}
    page.set_input_files("#upload", files=[big])
    error.wait_for(state="visible")
    assert "limit" in error.inner_text()
    step(tab, "minibatch")
    step(tab, "epoch")
    good = b"x1,x2,label\n" + b"".join(
        f"{np.cos(a):.3f},{np.sin(a):.3f},{'PQR'[i % 3]}\n".encode()
        for i, a in enumerate(np.linspace(0, 6, 60))
    )
    page.set_input_files(
        "#upload", files=[{"name": "ok.csv", "mimeType": "text/csv", "buffer": good}]
    )
    tab.wait("window.__chainrule.state.classes.length === 3")
    assert tab.js("window.__chainrule.state.sizes")[-1] == 3


def test_points_are_added_by_click_removed_by_shift_click_and_downloaded(
    tab: Tab, tmp_path: Path
) -> None:
    page = tab.open()
    n = tab.js("window.__chainrule.state.points.train.length")
    page.locator("#class-picker button").nth(1).click()
    click_plane(tab, 0.0, 1.4)
    tab.wait(f"window.__chainrule.state.points.train.length === {n + 1}")
    x1, x2, label = tab.js("window.__chainrule.state.points.train.at(-1)")
    assert label == 1 and abs(x1) < 0.05 and abs(x2 - 1.4) < 0.05
    click_plane(tab, x1, x2, shift=True)
    tab.wait(f"window.__chainrule.state.points.train.length === {n}")
    with page.expect_download() as download:
        page.click("#download")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    data = load_csv(path)
    state = tab.js("window.__chainrule.state")
    rows = state["points"]["train"] + state["points"]["test"]
    np.testing.assert_array_equal(data.X, np.array(rows)[:, :2])
    assert data.decode(data.y).tolist() == [str(int(r[2])) for r in rows]


def test_downloaded_points_keep_class_names_with_commas_and_quotes(
    tab: Tab, tmp_path: Path
) -> None:
    """Class names were written unquoted: a name with a comma made a row of 4 fields, and the
    download of an uploaded file could not be uploaded again."""
    upload = 'x1,x2,kind\n0,0,"cat, big"\n1,1,dog\n0,1,"cat, big"\n1,0,"say ""hi"""\n2,2,dog\n'
    tab.open().set_input_files(
        "#upload", files=[{"name": "q.csv", "mimeType": "text/csv", "buffer": upload.encode()}]
    )
    tab.wait("window.__chainrule.state.classes.length === 3")
    with tab.page.expect_download() as download:
        tab.page.click("#download")
    path = tmp_path / "points.csv"
    download.value.save_as(path)
    with path.open(newline="") as back:  # Python's csv module reads both alike
        assert sorted(list(csv.reader(back))[1:]) == sorted(
            list(csv.reader(io.StringIO(upload)))[1:]
        )
    tab.js("window.__chainrule.state.before = true")
    tab.page.set_input_files("#upload", str(path))
    tab.wait("!window.__chainrule.state.before")  # a new state: the file was read
    assert tab.js("window.__chainrule.state.classes") == ["cat, big", "dog", 'say "hi"']
    assert tab.errors == [] and tab.js("window.__chainrule.errors") == []


def test_lessons(tab: Tab, artifacts: Path) -> None:
    page = tab.open()
    weights = (
        "Array.from(new Float32Array(Uint8Array.from(atob("
        "window.__chainrule.frame.weights[0].data), (c) => c.charCodeAt(0)).buffer)).join()"
    )
    for gate, target, bias in (("or", [0, 1, 1, 1], "-0.5"), ("and", [0, 0, 0, 1], "-1.5")):
        page.select_option("#lesson", gate)
        tab.wait(f"window.__chainrule.frame.weights.length === 1 && {weights} === '1,1,{bias}'")
        assert tab.frame()["train"]["accuracy"] == 1
        labels = [int(p[2]) for p in tab.js("window.__chainrule.state.points.train")]
        corners = [p[:2] for p in tab.js("window.__chainrule.state.points.train")]
        assert [label for _, label in sorted(zip(corners, labels, strict=True))] == target
    page.select_option("#lesson", "xor-wired")
    tab.wait("window.__chainrule.state.sizes.join() === '2,2,1'")
    tab.wait("window.__chainrule.frame.train.accuracy === 1")
    assert page.locator("#lesson-text").is_visible()
    assert not page.locator(".data-panel").is_visible()
    assert page.locator("#untrainable").is_visible()
    assert "lesson=xor-wired" in page.url
    page.screenshot(path=artifacts / "lesson-xor.png", full_page=True)
    page.select_option("#lesson", "saturation")
    tab.wait("window.__chainrule.state.sizes.length === 7")
    assert set(tab.js("window.__chainrule.state.activations")[:-1]) == {"sigmoid"}
    assert page.locator(".data-panel").is_visible()
    page.select_option("#lesson", "softmax")
    tab.wait("window.__chainrule.state.classes.length === 4")
    page.click("#play")
    time.sleep(1.5)
    page.click("#play")
    page.screenshot(path=artifacts / "lesson-softmax.png", full_page=True)
    assert tab.errors == []


def test_a_bad_link_shows_an_error_and_falls_back(tab: Tab) -> None:
    page = tab.open("#data=xor&hidden=99t&seed=5")
    error = page.locator("#error")
    error.wait_for(state="visible")
    assert "hidden[0].units must be between 1 and 32; got 99" in error.inner_text()
    tab.wait("!location.hash.includes('99t')")
    assert tab.js("window.__chainrule.state.sizes") == [2, 8, 8, 2]
    step(tab, "minibatch")
