"""An optimizer's state (momentum, Adam's moments) belongs to the parameters it was learnt for."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import Adam, Momentum, Network, Trainer

X = np.random.default_rng(0).standard_normal((64, 3))
Y = (X[:, 0] > 0).astype(int)


def _fit(optimizer, epochs=3):
    net = Network([3, 4, 2], ["tanh", "softmax"], seed=0)
    Trainer(net, X, Y, optimizer=optimizer, seed=0).fit(epochs)
    return net


@pytest.mark.parametrize("make", [lambda: Momentum(0.1), lambda: Adam(0.05)])
def test_an_optimizer_given_to_a_second_network_starts_afresh_there(make):
    """Like ``torch.optim``, whose state is per parameter: the first network's velocity (or
    Adam's moments and bias correction) moved the second's weights by up to 0.26."""
    reused = make()
    _fit(reused)
    second = _fit(reused)
    fresh = _fit(make())
    assert second.weight_vector.tobytes() == fresh.weight_vector.tobytes()
    assert reused.steps == 6  # the second network's steps alone: 3 epochs of 2 minibatches


def test_the_same_network_keeps_its_momentum_across_trainers():
    """A new Trainer for the same network (a second fit) goes on with the velocity."""
    optimizer = Momentum(0.1)
    net = Network([3, 4, 2], ["tanh", "softmax"], seed=0)
    Trainer(net, X, Y, optimizer=optimizer, seed=0).fit(1)
    velocity = [b.copy() for b in optimizer.velocity]
    trainer = Trainer(net, X, Y, optimizer=optimizer, seed=0, batch_size=None)
    trainer.step_minibatch()
    gradient = net.gradient_vector
    np.testing.assert_allclose(optimizer.velocity[0], 0.9 * velocity[0] + gradient, rtol=1e-6)
    assert optimizer.steps == 3
