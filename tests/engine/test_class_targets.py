"""Class indices for cross-entropy: a value that is not one is named with its position."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import Network, trace
from chainrule.engine.losses import get_loss
from chainrule.errors import ValidationError

NET = Network([2, 3], ["softmax"], seed=0)
CE = get_loss("cross_entropy")


@pytest.mark.parametrize(
    ("y", "named"),
    [
        ([1, 0.5], r"y\[1\] = 0\.5 is not a class index"),
        ([np.nan, 1], r"y\[0\] = nan is not a class index"),
        ([1, 10**30], r"y\[1\] = 1e\+30 is not a class index in 0\.\.2"),
        ([1, 3], r"y\[1\] = 3 is not a class index in 0\.\.2"),
    ],
)
def test_a_value_that_is_no_class_index_is_named(y, named) -> None:
    with pytest.raises(ValidationError, match=named):
        NET.check_targets(y, 2, CE)


def test_a_trace_with_a_fractional_label_names_the_value() -> None:
    with pytest.raises(ValidationError, match=r"y\[0\] = 0\.5 is not a class index"):
        trace(NET, [[0.0, 1.0]], [0.5])


def test_whole_floats_and_python_ints_are_class_indices() -> None:
    got = NET.check_targets([2.0, 0.0], 2, CE)
    assert got.dtype == np.int64 and got.tolist() == [2, 0]
    assert NET.check_targets(np.array([1, 2], dtype=object), 2, CE).tolist() == [1, 2]


def test_one_row_is_one_row() -> None:
    with pytest.raises(ValidationError, match=r"^y has 1 row; X has 2$"):
        NET.check_targets([1], 2, CE)
