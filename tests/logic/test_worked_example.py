"""The lecture's forward-propagation example: every intermediate number, computed here by hand
with the math module, against what the engine recorded; then one gradient step."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.engine import SGD, Network
from chainrule.logic import worked_example


def test_every_intermediate_number_and_one_gradient_step() -> None:
    example = worked_example()
    assert (example.x, example.y, example.learning_rate) == (1.5, 0, 0.1)
    t = example.trace()
    layer1, layer2 = t.layers
    x, eta = 1.5, 0.1

    # h^(0) = [x, 1]; W^(1) = [[1, 0], [-1, 1]]
    assert layer1.h_prev.tolist() == [[x]]
    e1 = [1 * x + 0 * 1, -1 * x + 1 * 1]  # [1.5, -0.5]
    h1 = [max(0.0, v) for v in e1]  # ReLU: [1.5, 0]
    assert layer1.e.tolist() == [e1] and layer1.h.tolist() == [h1]

    # W^(2) = [[-1, 1, 0], [1, -1, 0]]
    e2 = [-h1[0] + h1[1], h1[0] - h1[1]]  # [-1.5, 1.5]
    p0 = math.exp(e2[0]) / (math.exp(e2[0]) + math.exp(e2[1]))  # P(Y = 0 | x) = 1 / (1 + e^3)
    p1 = 1 - p0
    assert layer2.e.tolist() == [e2]
    np.testing.assert_allclose(layer2.h, [[p0, p1]], rtol=1e-15)
    assert p0 == pytest.approx(0.0474258732)
    assert t.loss == pytest.approx(-math.log(p0), rel=1e-14)  # L = -ln h_y, y = 0

    # Output: dL/dh = [-1/p0, 0]; dL/de = softmax - onehot(0) = [p0 - 1, p1]
    np.testing.assert_allclose(layer2.dL_dh, [[-1 / p0, 0.0]], rtol=1e-14)
    dL_de2 = [p0 - 1, p1]
    np.testing.assert_allclose(layer2.dL_de, [dL_de2], rtol=1e-14)
    dL_dW2 = [[d * h for h in (*h1, 1.0)] for d in dL_de2]
    np.testing.assert_allclose(layer2.dL_dW, dL_dW2, rtol=1e-14)

    # Hidden: dL/dh_k = sum_j w_jk dL/de_j; dL/de = dL/dh u(e): the second ReLU is off
    dL_dh1 = [-1 * dL_de2[0] + 1 * dL_de2[1], 1 * dL_de2[0] - 1 * dL_de2[1]]  # [2 p1, -2 p1]
    np.testing.assert_allclose(layer1.dL_dh, [dL_dh1], rtol=1e-14)
    dL_de1 = [dL_dh1[0] * 1, dL_dh1[1] * 0]
    np.testing.assert_allclose(layer1.dL_de, [dL_de1], rtol=1e-14, atol=0)
    dL_dW1 = [[d * x, d * 1] for d in dL_de1]  # [[3 p1, 2 p1], [0, 0]]
    np.testing.assert_allclose(layer1.dL_dW, dL_dW1, rtol=1e-14)

    # One step of w <- w - eta dL/dw
    W1_new = np.array([[1.0, 0.0], [-1.0, 1.0]]) - eta * np.array(dL_dW1)
    W2_new = np.array([[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0]]) - eta * np.array(dL_dW2)
    np.testing.assert_allclose(layer1.W_updated, W1_new, rtol=1e-14)
    np.testing.assert_allclose(layer2.W_updated, W2_new, rtol=1e-14)
    assert W1_new[0].tolist() == pytest.approx([1 - 0.3 * p1, -0.2 * p1])

    # The trace left the network alone; the real optimizer takes the same step, and it helps.
    net = example.network
    assert net.weights[0].tolist() == [[1.0, 0.0], [-1.0, 1.0]]
    _, grads = net.loss_and_gradients([[x]], [0])
    SGD(eta).step(net.weights, grads)
    np.testing.assert_allclose(net.weights[0], W1_new, rtol=1e-14)
    np.testing.assert_allclose(net.weights[1], W2_new, rtol=1e-14)
    after, _ = net.loss_and_gradients([[x]], [0])
    assert after < t.loss
    stepped = Network.from_weights([W1_new, W2_new], ["relu", "softmax"])
    assert stepped.predict_proba([[x]])[0, 0] > p0
