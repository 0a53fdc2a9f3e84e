"""The lecture's gates, checked against Python's own boolean operators on every input."""

from __future__ import annotations

import itertools
import operator

import pytest

from chainrule.errors import ValidationError
from chainrule.logic import GATES, Neuron, format_truth_table, gate, gate_network, truth_table

PYTHON = {
    "OR": lambda a, b: a or b,
    "AND": lambda a, b: a and b,
    "NOT": lambda a: not a,
    "NAND": lambda a, b: not (a and b),
    "NOR": lambda a, b: not (a or b),
}


@pytest.mark.parametrize("name", sorted(GATES))
def test_gate_networks_compute_the_boolean_function(name: str) -> None:
    n_inputs = GATES[name].n_inputs
    expected = {
        x: int(PYTHON[name](*map(bool, x))) for x in itertools.product((0, 1), repeat=n_inputs)
    }
    assert truth_table(gate_network(name)) == expected  # the engine's forward pass
    assert truth_table(GATES[name]) == expected  # the neuron itself


def test_the_lectures_formulas() -> None:
    assert GATES["OR"] == Neuron((1, 1), -0.5) and GATES["OR"].formula() == "u(x1 + x2 - 0.5)"
    assert GATES["AND"] == Neuron((1, 1), -1.5) and GATES["AND"].formula() == "u(x1 + x2 - 1.5)"
    W = gate_network("AND").weights
    assert len(W) == 1 and W[0].tolist() == [[1.0, 1.0, -1.5]]  # bias in the last column
    assert gate_network("NAND").activations == ["step"]


def test_neuron_is_a_threshold_on_the_excitation() -> None:
    unit = Neuron((2.0, -1.0), 0.5)
    assert unit.excitation((1, 1)) == 1.5 and unit((1, 1)) == 1
    assert unit.excitation((0, 1)) == -0.5 and unit((0, 1)) == 0
    assert Neuron((1.0,), 0.0)((0,)) == 0  # u(0) = 0: strictly positive excitations fire
    assert operator.eq(
        format_truth_table(truth_table(GATES["NOT"]), "NOT").splitlines()[-1], " 1 | 0"
    )


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValidationError, match="unknown gate 'XNOR'"):
        gate("XNOR")
    with pytest.raises(ValidationError, match="2 inputs"):
        GATES["OR"]((1, 0, 1))
    with pytest.raises(ValidationError):
        Neuron((), 0.0)
