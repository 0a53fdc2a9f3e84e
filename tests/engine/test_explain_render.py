"""explain renders the trace's own numbers, in the lecture's notation, without losing precision."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from chainrule.engine import Network, explain, trace
from chainrule.engine.activations import Activation, LeakyReLU

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
        first = 0 if layer.activation == "softmax" else 1
        assert f"layer l = {l} ({layer.activation})" in text
        for j in range(layer.e.shape[1]):
            row = [f"{v:.6g}" for v in (layer.e[0, j], layer.h[0, j])]
            row += [f"{v:.6g}" for v in (layer.dL_dh[0, j], layer.dL_de[0, j])]
            assert re.search(rf"^\s+{j + first}\s+" + r"\s+".join(map(re.escape, row)), text, re.M)
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
    assert rf"\left(h_{{1}}^{{(2)}} - [y = 1]\right) = ({p:.6g} - 1)" in md
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


def test_a_softmax_output_is_numbered_by_class_as_in_the_lecture() -> None:
    """The lecture: h_0^(2) = P(Y = 0|x), h_1^(2) = P(Y = 1|x), dL/de_y = h_y - 1.

    The hidden layer's neurons still count from 1.
    """
    W1 = np.array([[1.0, 0.0], [-1.0, 1.0]])
    W2 = np.array([[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0]])
    net = Network.from_weights([W1, W2], ["relu", "softmax"], dtype="float64")
    for y in (0, 1):
        traced = trace(net, [[1.5]], [y])
        p = traced.output[0]
        md = explain.to_markdown(traced)
        assert rf"h_{{0}}^{{(2)}} = P(Y = 0 | x) = {p[0]:.6g}" in md
        assert rf"h_{{1}}^{{(2)}} = P(Y = 1 | x) = {p[1]:.6g}" in md
        dL_de_y = rf"\frac{{d\mathcal{{L}}}}{{de_{{{y}}}^{{(2)}}}}"
        target = rf"{dL_de_y} = \left(h_{{{y}}}^{{(2)}} - [y = {y}]\right)"
        assert rf"{target} = ({p[y]:.6g} - 1)" in md
        assert rf"\left(h_{{{1 - y}}}^{{(2)}} - [y = {1 - y}]\right) = ({p[1 - y]:.6g} - 0)" in md
        assert r"h_{2}^{(2)}" not in md and "output neuron" not in md
        # the hidden layer still counts from 1, and the input's constant 1 is k = 2
        assert r"$$e_{1}^{(1)} = \sum_k w_{1k}^{(1)} h_k^{(0)} = (1)(1.5) + (0)(1) = 1.5$$" in md
        assert r"$$h_{2}^{(1)} = \mathrm{ReLU}(e_{2}^{(1)}) = 0$$" in md
        assert r"h_{0}^{(1)}" not in md
        text = explain.to_text(traced)
        assert "output neuron" not in text
        rows = re.findall(r"^\s+([0-9])\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$", text, re.M)
        assert [r[0] for r in rows] == ["1", "2", "0", "1"]  # layer 1: j = 1, 2; layer 2: j = 0, 1
        assert float(rows[2 + y][4]) == pytest.approx(p[y] - 1, rel=1e-5)
        # w_jk^(2): rows j = 0, 1; columns k = 1, 2 (hidden) and k = 3 (the constant 1)
        assert "w_jk^(2) (k = 3 is the weight on the constant 1)" in text
        assert "w_jk^(1) (k = 2 is the weight on the constant 1)" in text
        assert re.search(r"^\s+j\s+k=1\s+k=2\s+k=3 \(1\)$", text, re.M)


def test_the_first_index_rule() -> None:
    assert explain.first_index("softmax") == 0
    assert [explain.first_index(a) for a in (None, "relu", "tanh", "sigmoid", "identity")] == [
        1
    ] * 5
    # below a softmax layer the constant 1 is k = n_in (inputs k = 0..n_in - 1)
    net = Network([2, 3, 2], ["softmax", "tanh"], seed=1, dtype="float64")
    text = explain.to_text(trace(net, [[0.1, 0.2]]))
    assert "w_jk^(2) (k = 3 is the weight on the constant 1)" in text
    assert re.search(r"^\s+j\s+k=0\s+k=1\s+k=2\s+k=3 \(1\)$", text, re.M)


class _Softplus(Activation):
    """An activation of the user's own: ln(1 + e^e), g' = sigma(e)."""

    name = "softplus"

    def g(self, e, out=None):
        return np.logaddexp(0, e, out=out)

    def g_prime(self, e, h, out=None):
        return np.divide(1, 1 + np.exp(-e), out=out)


@pytest.mark.parametrize(
    "hidden", [LeakyReLU(0.3), _Softplus()], ids=["leaky_relu(0.3)", "custom softplus"]
)
def test_markdown_shows_the_traced_layers_own_g_prime(hidden) -> None:
    """The chain rule's g'(e) came from the registry by name: slope 0.01 for a LeakyReLU(0.3),
    so the line read (-3.2)(0.01) = -0.96; an activation of the user's own failed to render."""
    net = Network.from_weights([[[2.0, 0.0]], [[1.0, 0.0]]], [hidden, "identity"], loss="mse")
    traced = trace(net, [[-1.0]], [[1.0]])
    e = -2.0  # e^(1) = 2 * -1, by hand
    g_prime = 0.3 if isinstance(hidden, LeakyReLU) else 1 / (1 + np.exp(-e))
    layer = traced.layers[0]
    # dL/de = dL/dh g'(e), the recorded numbers against the hand-computed derivative
    np.testing.assert_allclose(layer.dL_de, layer.dL_dh * g_prime, rtol=1e-14)
    line = next(
        line for line in explain.to_markdown(traced).splitlines() if "g'(e_{1}^{(1)})" in line
    )
    shown = [float(x) for x in re.findall(r"\(([-0-9.e+]+)\)", line.split("=")[-2])]
    assert shown[1] == pytest.approx(g_prime, rel=1e-5)
    assert float(line.split("=")[-1].rstrip("$")) == pytest.approx(layer.dL_de[0, 0], rel=1e-5)


def test_print_and_jupyter_show_the_lectures_table_not_the_raw_arrays(traced) -> None:
    """A learner who prints a trace (or leaves it last in a notebook cell) sees the rendered
    pass: every layer's heading and its first excitation, not ``Trace(x=array(...), ...)``."""
    text, markdown = str(traced), traced._repr_markdown_()
    assert not text.startswith("Trace(") and "array(" not in text + markdown
    for layer in traced.layers:
        assert f"layer l = {layer.l} ({layer.activation})" in text
        assert f"{layer.e[0, 0]:.6g}" in text
    assert text == explain.to_text(traced) and markdown == explain.to_markdown(traced)


def test_cells_of_13_characters_do_not_touch_their_neighbours() -> None:
    """Columns are 13 wide; a value written in 13 characters (``-2.04304e+307``) glued to the
    one before it (``-2.04304e+307-2.04304e+307``). Every column is now wider than its longest
    cell."""
    big = -2.04304e307
    net = Network.from_weights([[[big, big, 0.5]]], ["identity"], loss="mse")
    text = explain.to_text(trace(net, [[0.0, 0.0]], [[0.0]]))
    weights = text.splitlines().index("  w_jk^(1) (k = 3 is the weight on the constant 1):")
    row = text.splitlines()[weights + 2].split()
    assert row == ["1", "-2.04304e+307", "-2.04304e+307", "0.5"]
