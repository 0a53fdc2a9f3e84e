"""Defects found by using the playground as a learner and a teacher would, each checked in a
real browser against an independent computation (numpy on the weights the page received) or
against Chromium's own accessibility tree."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from web_helpers import Tab

pytestmark = pytest.mark.browser

FRAME = "window.__chainrule.frame"


def decode(matrix: dict[str, object]) -> np.ndarray:
    """A ``{"shape", "data"}`` matrix of a frame (base64 little-endian float32)."""
    data = base64.b64decode(str(matrix["data"]))
    shape = matrix["shape"]
    assert isinstance(shape, list)
    return np.frombuffer(data, dtype="<f4").reshape(shape).astype(np.float64)


def test_the_hidden_layer_view_shows_the_neurons_its_menus_name(tab: Tab) -> None:
    """Shrinking a layer clamps the menus (h2, h2); growing it again must not make the server
    draw the neurons chosen before (h3, h4) while the menus still say h2, h2."""
    page = tab.open()
    page.select_option("#view-a", "2")
    page.select_option("#view-b", "3")
    tab.wait(f"{FRAME}.hidden.neurons[0] === 2 && {FRAME}.hidden.neurons[1] === 3")
    head = page.locator(".layer-head").nth(1)  # the first hidden layer (8 tanh units)
    for _ in range(6):
        head.get_by_role("button", name="remove a neuron from hidden layer 1").click()
    tab.wait("window.__chainrule.state.sizes[1] === 2")
    for _ in range(6):
        head.get_by_role("button", name="add a neuron to hidden layer 1").click()
    tab.wait(f"window.__chainrule.state.sizes[1] === 8 && {FRAME}.weights[0].shape[0] === 8")
    a, b = (int(page.locator(f"#view-{axis}").input_value()) for axis in "ab")
    assert (a, b) == (1, 1)  # clamped to the two-unit layer's last neuron
    tab.wait(f"{FRAME}.hidden.neurons[0] === {a} && {FRAME}.hidden.neurons[1] === {b}")
    frame = tab.frame()
    W = decode(frame["weights"][0])
    X = np.array(tab.js("window.__chainrule.state.points.train"))[:, :2]
    h = np.tanh(X @ W[:, :-1].T + W[:, -1])  # h^(1) of every training point, from the weights
    shown = np.frombuffer(base64.b64decode(frame["hidden"]["train"]), dtype="<f4").reshape(-1, 2)
    np.testing.assert_allclose(shown, h[:, [a, b]], atol=1e-5)
    assert tab.errors == []


def test_every_control_has_an_accessible_name(tab: Tab) -> None:
    """Sliders whose label also holds an <output> (which took the label), the per-layer
    activation menus and neuron buttons, and the hidden-layer view's menus."""
    page = tab.open()
    for name in ("Points", "Noise", "Classes", "Training share", "Batch size", "Speed"):
        assert page.get_by_role("slider", name=name).count() == 1, name
    for layer in (1, 2):
        menu = page.get_by_role("combobox", name=f"activation of hidden layer {layer}")
        assert menu.count() == 1
        for verb in ("add a neuron to", "remove a neuron from"):
            assert page.get_by_role("button", name=f"{verb} hidden layer {layer}").count() == 1
    for name in ("hidden layer to view", "neuron on the horizontal axis", "neuron on the vertical"):
        assert page.get_by_role("combobox", name=name).count() == 1, name
    # The menus by name are the working controls: changing layer 2's activation by its name
    # changes the network the server runs.
    page.get_by_role("combobox", name="activation of hidden layer 2").select_option("relu")
    tab.wait("window.__chainrule.state.activations[1] === 'relu'")
    unnamed = tab.js(
        """[...document.querySelectorAll('button, select, input:not([type=file])')]
        .filter((el) => el.offsetParent !== null)
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
          && !el.title && !el.textContent.trim())
        .map((el) => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == []
