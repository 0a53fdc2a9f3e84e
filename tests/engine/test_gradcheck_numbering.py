"""gradcheck names the worst weight ``w_jk`` as the trace renderings do (README: neurons from 1,
a softmax layer's from 0 like its classes, the constant 1 last)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from chainrule.engine import Network, gradcheck
from chainrule.errors import ValidationError


def _labels(text: str) -> dict[int, tuple[int, int]]:
    """``layer -> (j, k)`` from the printed report's "worst w_jk" column."""
    rows = re.findall(r"^\s+(\d+)\s+\d+x\d+\s+\d+\s+\S+\s+\S+\s+\((\d+),(\d+)\)", text, re.M)
    return {int(layer): (int(j), int(k)) for layer, j, k in rows}


def test_the_worst_entry_is_numbered_as_in_the_lecture() -> None:
    # layer 1 softmax (rows from 0) over the input (columns from 1); layer 2 tanh (rows from 1)
    # over that softmax (columns from 0); layer 3 softmax over tanh.
    net = Network([3, 4, 3, 2], ["softmax", "tanh", "softmax"], seed=4, dtype="float64")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.integers(0, 2, 5)
    report = gradcheck(net, X, y)
    labels = _labels(str(report))
    first_row = {1: 0, 2: 1, 3: 0}
    first_column = {1: 1, 2: 0, 3: 1}
    for check in report.layers:
        j, k = check.worst_entry  # 0-based row and column of W^(l)
        assert labels[check.layer] == (j + first_row[check.layer], k + first_column[check.layer])


def test_the_report_says_what_passing_means() -> None:
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0, dtype="float64")
    text = str(gradcheck(net, [[0.5, -1.0], [1.0, 2.0]], [0, 1]))
    assert "PASSED" in text and "|backprop - numeric| <= atol + rtol |numeric|" in text
    assert "numbered as in chainrule explain" in text


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_a_loss_beyond_float64_is_refused_by_name_not_reported_as_zero_errors(loss) -> None:
    """At weights where the loss overflows, L(w + eps) - L(w - eps) is NaN: every entry failed
    while the report showed errors of 0, with numpy's warnings on stderr."""
    outputs = ["identity"] if loss == "mse" else ["softmax"]
    W = np.array([[1e200, 0.0]] if loss == "mse" else [[1e200, 0.0], [-1e200, 0.0]])
    net = Network.from_weights([W], outputs, dtype="float64", loss=loss)
    y = [[0.0]] if loss == "mse" else [0]
    with pytest.raises(ValidationError, match=r"the loss at these weights is (inf|nan) .*finite"):
        gradcheck(net, [[1e200]], y)
