"""What a learner meets in the gates: honest truth tables, readable formulas, helpful errors."""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest

from chainrule.engine import Network, explain
from chainrule.errors import ValidationError
from chainrule.logic import (
    XOR_TABLE,
    Neuron,
    binary_inputs,
    format_truth_table,
    gate,
    hand_wired_xor,
    separability,
    truth_table,
    worked_example,
)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "identity"])
def test_a_network_whose_output_is_not_0_or_1_has_no_truth_table(activation: str) -> None:
    """OR's weights with a sigmoid give 0.38 .. 0.92: rounding them down to 0 (as ``int`` did)
    printed a table of zeros, a wrong answer for every row where OR is 1."""
    net = Network.from_weights([[[1.0, 1.0, -0.5]]], [activation], dtype="float64")
    with pytest.raises(ValidationError, match=rf"outputs 0 or 1.*{activation} output is"):
        truth_table(net)
    step = Network.from_weights([[[1.0, 1.0, -0.5]]], ["step"], dtype="float64")
    expected = {tuple(int(v) for v in x): int(x.sum() - 0.5 > 0) for x in binary_inputs(2)}
    assert truth_table(step) == expected


def test_a_dict_is_not_mistaken_for_a_network() -> None:
    with pytest.raises(ValidationError, match="format_truth_table"):
        truth_table(XOR_TABLE)  # type: ignore[arg-type]


def test_asking_for_an_xor_gate_points_to_the_two_layer_net() -> None:
    with pytest.raises(ValidationError, match=r"hand_wired_xor\(\)") as raised:
        gate("xor")
    assert "separability(XOR_TABLE)" in str(raised.value)
    assert not separability(XOR_TABLE).separable  # what the message promises
    assert truth_table(hand_wired_xor()) == XOR_TABLE


def test_a_formula_never_glues_an_exponent_to_an_input_name() -> None:
    """``1e-11x1`` reads as ``1e - 11 x1``; the unit XOR training leaves has such weights."""
    unit = Neuron((1e-11, -2.5e-12, 1.0), 3e-9)
    text = unit.formula()
    assert re.search(r"e[-+]?\d+x", text) is None, text
    # and the formula still evaluates to the unit's excitation
    expression = re.sub(r"(?<=\d) ?x", " * x", text[2:-1])  # "2 x1" or "2x1" -> "2 * x1"
    for x in binary_inputs(3):
        value = eval(expression, {}, {f"x{i + 1}": float(v) for i, v in enumerate(x)})
        assert value == pytest.approx(unit.excitation(x), rel=1e-12, abs=1e-24)


def test_truth_table_columns_line_up_past_nine_inputs() -> None:
    table = {tuple(int(v) for v in x): int(x.sum() > 5) for x in binary_inputs(10)[:8]}
    lines = format_truth_table(table, "y").splitlines()
    bars = {line.index("|") if "|" in line else line.index("+") for line in lines}
    assert len(bars) == 1, lines
    header = lines[0].split(" | ")[0]
    x10 = header.index("x10") + len("x10") - 1  # the last input's column ends under its name
    assert all(line[x10] in "01" for line in lines[2:])


def test_the_softmax_neurons_are_named_in_the_docs_as_the_renderings_name_them() -> None:
    """The worked example's docstring used e_1^(2), e_2^(2) for the softmax layer that the
    lecture (h_0^(2) = P(Y = 0|x)) and the trace number from 0."""
    # the package exports functions of the same names as these modules: import the modules
    worked_example_module = importlib.import_module("chainrule.logic.worked_example")
    xor_module = importlib.import_module("chainrule.logic.xor")
    md = explain.to_markdown(worked_example().trace())
    assert r"e_{0}^{(2)}" in md and r"e_{2}^{(2)}" not in md
    doc = worked_example_module.__doc__ or ""
    assert "e_0^(2)" in doc and "e_2^(2)" not in doc
    decision = xor_module.softmax_decision_unit.__doc__ or ""
    assert "e_1^(1) > e_0^(1)" in decision and "e_2^(1)" not in decision
    # and the decision unit it describes is the softmax's argmax
    net = Network([2, 2], ["softmax"], seed=1, dtype="float64")
    unit = xor_module.softmax_decision_unit(net)
    X = binary_inputs(2)
    assert [unit(x) for x in X] == np.argmax(net.forward(X), axis=1).tolist()
