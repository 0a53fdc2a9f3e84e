"""Separating weights for separable tables, an exactly checked certificate for the others.

Oracle: the weights are run on the table; the certificate is checked by verify_certificate in
integer arithmetic, and by brute force over a grid of weights for good measure."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from chainrule.errors import ValidationError
from chainrule.logic import (
    GATES,
    XOR_TABLE,
    inequalities,
    separability,
    truth_table,
    verify_certificate,
)


def all_tables(n_inputs: int):
    inputs = list(itertools.product((0, 1), repeat=n_inputs))
    for outputs in itertools.product((0, 1), repeat=len(inputs)):
        yield dict(zip(inputs, outputs, strict=True))


def test_xor_certificate_is_the_lectures_contradiction() -> None:
    result = separability(XOR_TABLE)
    assert not result.separable and result.unit is None
    certificate = result.certificate
    assert [str(i) for i in certificate.inequalities] == [
        "b <= 0",
        "w2 + b > 0",
        "w1 + b > 0",
        "w1 + w2 + b <= 0",
    ]
    assert certificate.multipliers == (1, 1, 1, 1)
    assert certificate.combined_form() == (1, 1, 2)  # w1 + w2 + 2b, both > 0 and <= 0
    assert verify_certificate(XOR_TABLE, certificate)
    assert "0 < 0" in str(certificate)


def test_a_wrong_certificate_is_rejected() -> None:
    certificate = separability(XOR_TABLE).certificate
    for multipliers in [(1, 1, 1, 0), (0, 0, 0, 0), (2, 1, 1, 1), (1, -1, 1, 1)]:
        forged = dataclasses.replace(certificate, multipliers=multipliers)
        assert not verify_certificate(XOR_TABLE, forged)
    # a certificate does not transfer to another table (OR is separable)
    assert not verify_certificate(truth_table(GATES["OR"]), certificate)


@pytest.mark.parametrize("name", ["OR", "AND", "NAND", "NOR", "NOT"])
def test_gates_are_separable_with_weights_that_compute_them(name: str) -> None:
    table = truth_table(GATES[name])
    result = separability(table)
    assert result.separable and result.certificate is None
    assert truth_table(result.unit) == table


@pytest.mark.parametrize("n_inputs, expected", [(2, 14), (3, 104)])
def test_every_table_gets_weights_or_a_valid_certificate(n_inputs: int, expected: int) -> None:
    # 14 of the 16 two-input functions are threshold functions (all but XOR and XNOR);
    # 104 of the 256 three-input ones (a classical count).
    separable = 0
    for table in all_tables(n_inputs):
        result = separability(table)
        if result.separable:
            separable += 1
            assert truth_table(result.unit) == table
        else:
            assert verify_certificate(table, result.certificate)
    assert separable == expected


def test_brute_force_finds_no_weights_for_xor() -> None:
    grid = np.linspace(-3, 3, 25)
    for w1, w2, b in itertools.product(grid, repeat=3):
        outputs = {x: int(w1 * x[0] + w2 * x[1] + b > 0) for x in XOR_TABLE}
        assert outputs != XOR_TABLE


def test_bad_tables_raise() -> None:
    with pytest.raises(ValidationError, match="0 or 1"):
        inequalities({(0, 1): 2})
    with pytest.raises(ValidationError, match="expected 2"):
        inequalities({(0, 1): 1, (1,): 0})
    with pytest.raises(ValidationError, match="non-empty dict"):
        separability({})


def test_the_answer_prints_in_words() -> None:
    """``print(separability(...))`` says which it is: the unit's weights (which compute the
    table), or the certificate's contradiction."""
    xor = str(separability(XOR_TABLE))
    assert xor.startswith("not linearly separable: no weights (w, b) satisfy all of:")
    assert "w1 + w2 + 2b would be > 0 and <= 0 at once" in xor
    result = separability(truth_table(GATES["OR"]))
    assert truth_table(result.unit) == truth_table(GATES["OR"])
    w1, w2 = result.unit.weights
    assert result.unit.bias == 0 and w1 == w2 == 1  # the perceptron's first OR unit
    assert str(result) == "linearly separable: one threshold unit computes it, u(x1 + x2)"
