"""XOR by hand, by back-propagation, and not at all without a hidden layer."""

from __future__ import annotations

import numpy as np

from chainrule.logic import (
    XOR_TABLE,
    XOR_X,
    XOR_Y,
    find_certificate,
    hand_wired_xor,
    softmax_decision_unit,
    truth_table,
    verify_certificate,
    xor_accuracy,
    xor_learned,
    xor_success_count,
    xor_without_hidden_layer,
)


def test_hand_wired_xor_is_the_lectures_network() -> None:
    net = hand_wired_xor()
    assert truth_table(net) == {x: x[0] ^ x[1] for x in XOR_TABLE}
    W1, W2 = net.weights
    assert W1.tolist() == [[-1.0, -1.0, 0.5], [1.0, 1.0, -1.5]]  # h1, h2
    assert W2.tolist() == [[-1.0, -1.0, 0.5]]  # y = u(0.5 - h1 - h2)
    assert net.activations == ["step", "step"]


def test_xor_is_learned_for_at_least_95_of_100_seeds() -> None:
    assert xor_success_count(range(100)) >= 95


def test_a_learned_xor_network_is_confident_and_was_trained_by_gradient_descent() -> None:
    run = xor_learned(0, until_solved=False, max_epochs=200)
    assert run.solved and run.epochs == 200 and len(run.history) == 200
    assert run.history[-1] < run.history[0] / 10
    proba = run.network.predict_proba(XOR_X)
    assert np.all(proba[np.arange(4), XOR_Y] > 0.9)
    assert run.network.sizes == [2, 6, 2]


def test_without_a_hidden_layer_xor_is_impossible() -> None:
    certificate = find_certificate(XOR_TABLE)
    assert certificate is not None and verify_certificate(XOR_TABLE, certificate)
    for seed in range(5):
        run = xor_without_hidden_layer(seed, max_epochs=100)
        assert run.accuracy <= 0.75
        # its decisions are exactly those of one threshold unit, which the certificate rules out
        unit = softmax_decision_unit(run.network)
        decisions = {x: int(p) for x, p in zip(XOR_TABLE, run.network.predict(XOR_X), strict=True)}
        assert truth_table(unit) == decisions != XOR_TABLE
        assert xor_accuracy(run.network) == run.accuracy
