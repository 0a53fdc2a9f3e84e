"""``chainrule explain`` as a learner types it: class targets as typed, numbers shown alike."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_helpers import chainrule, far_from_zero_model

NET = ["--sizes", "2,3", "--activations", "softmax", "--x", "0.5,1"]


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0.5", "--y must be a class index in 0..2 for cross_entropy"),
        ("1e30", "y[0] = 1e+30 is not a class index in 0..2"),
        ("-1", "y[0] = -1 is not a class index in 0..2"),
        ("3", "y[0] = 3 is not a class index in 0..2"),
        ("1,0", "--y must be one class index for cross_entropy"),
    ],
)
def test_a_target_that_is_not_a_class_index_names_the_value_and_the_range(
    typed: str, message: str
) -> None:
    """``--y 1e30`` used to end in "got values of dtype object", ``--y 0.5`` in "dtype float64"."""
    result = chainrule("explain", *NET, "--y", typed)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert message in result.stderr and "(the output layer has 3 units)" in result.stderr
    assert "dtype" not in result.stderr
    if "," in typed:
        assert result.stderr.rstrip().endswith("got 2 values"), result.stderr
    elif not float(typed).is_integer():
        assert result.stderr.rstrip().endswith(f"got {float(typed):g}"), result.stderr


def test_every_class_index_in_range_is_traced() -> None:
    for y in range(3):
        result = chainrule("explain", *NET, "--y", str(y))
        assert result.returncode == 0, result.stderr
        assert f"target y = {y}" in result.stdout


def test_the_standardised_x_is_shown_as_the_trace_shows_it(tmp_path: Path) -> None:
    """The line above the trace and the trace's own ``x = h^(0)`` are the same numbers, written
    the same way (it used to print 17 digits above 6)."""
    model, _ = far_from_zero_model(tmp_path, 40)
    result = chainrule("explain", "--weights", model, "--x", "110,-49", "--y", "1")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    standardised = first.split(" -> ")[1]
    in_trace = re.search(r"^x = h\^\(0\) = (\[[^]]*\])", result.stdout, re.M)
    assert in_trace is not None
    assert standardised == in_trace.group(1)
    assert first.startswith("x standardised with the model's stored statistics: [110, -49] -> ")
