"""explain renders the trace's own numbers, in the lecture's notation, without losing precision."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from chainrule.engine import Network, explain, trace

FIELDS = ("W", "h_prev", "e", "h", "dL_dh", "dL_de", "dL_dW", "W_updated")


@pytest.fixture
def traced():
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=3, dtype="float64")
    return trace(net, [[0.3, -1.2]], [1], learning_rate=0.25)


def test_json_holds_every_array_at_full_precision(traced) -> None:
    data = json.loads(explain.to_json(traced))
    assert data["loss"] == traced.loss and data["learning_rate"] == 0.25
    assert data["y"] == [1] and data["loss_name"] == "cross_entropy"
    assert [layer["l"] for layer in data["layers"]] == [1, 2]
    for layer, recorded in zip(data["layers"], traced.layers, strict=True):
        for field in FIELDS:
            # bit-for-bit: JSON floats are written with repr
            assert np.array_equal(np.array(layer[field]), getattr(recorded, field)), field
            assert field in data["notation"]


def test_text_table_shows_each_neuron_to_six_significant_digits(traced) -> None:
    text = explain.to_text(traced)
    for layer in traced.layers:
        l = layer.l
        assert f"layer l = {l} ({layer.activation})" in text
        for j in range(layer.e.shape[1]):
            row = [f"{v:.6g}" for v in (layer.e[0, j], layer.h[0, j])]
            row += [f"{v:.6g}" for v in (layer.dL_dh[0, j], layer.dL_de[0, j])]
            assert re.search(rf"^\s+{j + 1}\s+" + r"\s+".join(map(re.escape, row)), text, re.M)
        for v in layer.W_updated.ravel():
            assert f"{v:.6g}" in text
    assert "layer l = 0" not in text and "layer l = 3" not in text


def test_markdown_writes_the_lectures_equations_with_numbers(traced) -> None:
    md = explain.to_markdown(traced)
    layer = traced.layers[0]
    w = layer.W[0]
    expected = (
        rf"$$e_{{1}}^{{(1)}} = \sum_k w_{{1k}}^{{(1)}} h_k^{{(0)}} = ({w[0]:.6g})(0.3) + "
        rf"({w[1]:.6g})(-1.2) + (0)(1) = {layer.e[0, 0]:.6g}$$"
    )
    assert expected in md
    out = traced.layers[1]
    p = out.h[0, 1]
    assert rf"\left(h_{{2}}^{{(2)}} - [y = 1]\right) = ({p:.6g} - 1)" in md
    assert r"W^{(1)} - \eta" in md and r"\tanh(e_{1}^{(1)})" in md
    # back-propagation runs from layer L down to 1
    assert md.index("### Layer 2\n\n$$\\frac") < md.index("### Layer 1\n\n$$\\frac")


def test_a_batch_and_a_forward_only_trace_render() -> None:
    net = Network([1, 2, 3], ["relu", "softmax"], seed=0, dtype="float64")
    batch = trace(net, [[0.5], [-2.0]], [0, 2])
    assert "*Token 2:*" in explain.to_markdown(batch)
    text = explain.to_text(batch)
    assert re.search(r"^\s+token\s+j\s+e_j\^\(1\)", text, re.M) and "token 2: x = h^(0)" in text
    forward_only = trace(net, [[0.5]])
    assert "forward pass only" in explain.to_text(forward_only)
    assert "forward pass only" in explain.to_markdown(forward_only)
    assert json.loads(explain.to_json(forward_only))["layers"][0]["dL_dW"] is None
