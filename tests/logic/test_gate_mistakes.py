"""A learner's slips with neurons and truth tables end in one message that says what to give,
not in a TypeError, ValueError or StopIteration from deep inside."""

from __future__ import annotations

import pytest

from chainrule.errors import ValidationError
from chainrule.logic import Neuron, binary_inputs, format_truth_table, gate


@pytest.mark.parametrize(
    "weights, bias",
    [(1.0, 0.5), ((1.0,), "a"), ((1.0,), None), (("one", 1.0), 0.0), ((), 0.0)],
    ids=["lone weight", "text bias", "no bias", "text weight", "no weights"],
)
def test_a_neuron_of_no_weights_or_bias_says_what_it_needs(weights: object, bias: object) -> None:
    """``Neuron(1.0, 0.5)`` (a one-input unit without the tuple) ended in "'float' object is
    not iterable", a text bias in numpy's "ufunc 'isfinite' not supported"."""
    with pytest.raises(ValidationError, match=r"a sequence of finite weights.*Neuron\(\(1\.0"):
        Neuron(weights, bias)  # type: ignore[arg-type]


def test_a_one_input_neuron_given_as_a_list_is_the_not_gate() -> None:
    unit = Neuron([-1], 0.5)  # type: ignore[arg-type]
    assert [unit(x) for x in binary_inputs(1)] == [1, 0]  # u(0.5 - x), by hand
    assert unit == gate("NOT")


def test_formula_names_one_name_per_input() -> None:
    """Too few names ended in zip()'s "argument 2 is shorter than argument 1"."""
    with pytest.raises(ValidationError, match=r"one name per input \(2\); got 1"):
        gate("OR").formula(["a"])
    assert gate("OR").formula(["a", "b"]) == "u(a + b - 0.5)"


@pytest.mark.parametrize("table", [{}, None, [((0,), 1)]], ids=["empty", "None", "list"])
def test_format_truth_table_of_no_table_says_what_it_takes(table: object) -> None:
    """An empty dict ended in a bare StopIteration (no message at all)."""
    with pytest.raises(ValidationError, match="format_truth_table needs a non-empty dict"):
        format_truth_table(table)  # type: ignore[arg-type]


def test_text_is_no_weight() -> None:
    """``Neuron("11", 0.5)`` read each character as a weight: a two-input unit."""
    with pytest.raises(ValidationError, match="a neuron needs a sequence of finite weights"):
        Neuron("11", 0.5)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="a neuron needs a sequence of finite weights"):
        Neuron((1.0, 1.0), "0.5")  # type: ignore[arg-type]
