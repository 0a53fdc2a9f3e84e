"""A loss of the user's own in trace/explain, and gradcheck's arguments.

``explain.to_markdown`` looked the trace's loss up by name in the registry and raised "unknown
loss" for a :class:`Loss` subclass of the user's own; gradcheck's ``eps="1e-6"``, ``atol`` as
text or ``max_checks_per_layer=2.5`` failed with numpy's TypeError, and a negative ``rtol`` was
taken. The reference for the numbers is central finite differences, computed here.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import explain
from chainrule.engine.gradcheck import gradcheck
from chainrule.engine.losses import Loss
from chainrule.engine.network import Network
from chainrule.engine.trace import trace
from chainrule.errors import ValidationError


class HalfSquaredError(Loss):
    """``L = mean over tokens of sum_j (h_j - y_j)^2 / 2``, the classic textbook loss."""

    name = "half_squared_error"
    pairs_with = "identity"

    def value(self, h, y):
        return float(np.sum((h - y) ** 2) / (2 * len(h)))

    def token_losses(self, e, y):
        return np.sum((e - y) ** 2, axis=1) / 2

    def dL_dh(self, h, y, out):
        np.subtract(h, y, out=out)
        out /= len(h)
        return out

    dL_de = dL_dh


class WrongHalfSquaredError(HalfSquaredError):
    """The same value with a gradient twice too large: what gradcheck must catch."""

    def dL_dh(self, h, y, out):
        super().dL_dh(h, y, out)
        out *= 2
        return out

    dL_de = dL_dh


def _regression():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(4, 3))
    net = Network([3, 4, 2], ["tanh", "identity"], seed=0, dtype="float64")
    return net, X, rng.normal(size=(4, 2))


def test_a_custom_loss_is_explained_with_the_numbers_of_finite_differences():
    net, X, y = _regression()
    t = trace(net, X[:2], y[:2], loss=HalfSquaredError(), learning_rate=0.1)
    markdown = explain.to_markdown(t)
    assert "Loss (half_squared_error)" in markdown
    W2 = net.weights[1]
    eps = 1e-6
    for j, k in [(0, 0), (1, 4)]:  # a weight and a bias of the output layer
        W2[j, k] += eps
        plus = HalfSquaredError().value(net.forward(X[:2]), y[:2])
        W2[j, k] -= 2 * eps
        minus = HalfSquaredError().value(net.forward(X[:2]), y[:2])
        W2[j, k] += eps
        assert t.layers[1].dL_dW[j, k] == pytest.approx((plus - minus) / (2 * eps), rel=1e-6)
    assert f"= {explain._tex_num(t.layers[1].dL_de[0, 0])}$$" in markdown


def test_gradcheck_passes_a_right_custom_gradient_and_fails_a_wrong_one():
    net, X, y = _regression()
    assert gradcheck(net, X, y, loss=HalfSquaredError()).passed
    report = gradcheck(net, X, y, loss=WrongHalfSquaredError())
    assert not report.passed and "FAIL" in str(report)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"eps": "1e-6"}, r"eps must be in \(0, 1\); got .1e-6."),
        ({"eps": 0.0}, r"eps must be in \(0, 1\); got 0.0"),
        ({"eps": 2.0}, r"eps must be in \(0, 1\)"),
        ({"rtol": -1.0}, "rtol must be a number >= 0"),
        ({"atol": "x"}, "atol must be a number >= 0"),
        ({"max_checks_per_layer": 2.5}, "max_checks_per_layer .* must be an integer >= 1"),
        ({"max_checks_per_layer": 0}, "max_checks_per_layer .* must be an integer >= 1"),
    ],
)
def test_gradcheck_arguments_are_named(kwargs, message):
    net, X, y = _regression()
    with pytest.raises(ValidationError, match=message):
        gradcheck(net, X, y, **kwargs)
