"""An activation with parameters of its own (a leaky ReLU's slope) stays itself.

``Network.activations`` gives names; a copy, a trace and a gradient check must use the layers' own
activation objects, and a model file, which records names only, must refuse what it would change.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.engine import Trainer
from chainrule.engine.activations import LeakyReLU
from chainrule.errors import ValidationError
from chainrule.fit import FittedModel
from chainrule.serialization.checkpoint import save_checkpoint

X = np.array([[0.3, -0.2], [-1.0, 0.5], [0.1, 0.9]])
Y = [1, 0, 1]


def leaky_net() -> cr.Network:
    net = cr.Network([2, 3, 2], [LeakyReLU(0.2), "softmax"], seed=0, dtype="float64")
    for W in net.weights:
        W[:, -1] = -1.0  # negative excitations, where the slope matters
    return net


def default_slope_twin(net: cr.Network) -> cr.Network:
    return cr.Network.from_weights(net.weights, net.activations, dtype="float64")


def test_the_twin_with_the_default_slope_computes_something_else() -> None:
    net = leaky_net()
    assert not np.allclose(net.forward(X), default_slope_twin(net).forward(X))


def test_a_copy_keeps_the_slope() -> None:
    net = leaky_net()
    copy = net.copy()
    assert copy.forward(X).tobytes() == net.forward(X).tobytes()
    assert copy.layers[0].activation.slope == 0.2


def test_a_trace_shows_the_network_itself() -> None:
    net = leaky_net()
    loss, grads = net.loss_and_gradients(X, Y)
    t = cr.trace(net, X, Y)
    assert t.loss == pytest.approx(loss, rel=1e-15)
    np.testing.assert_allclose(t.layers[0].dL_dW, grads[0], rtol=1e-13)


def test_gradcheck_checks_the_network_itself() -> None:
    """A leaky ReLU whose g' claims the default slope: its own slope must expose it."""

    class WrongDerivative(LeakyReLU):
        def g_prime(self, e, h, out=None):
            d = np.greater(e, 0, out=out if out is not None else np.empty_like(e))
            d *= 1 - 0.01
            d += 0.01
            return d

    net = cr.Network.from_weights(leaky_net().weights, [WrongDerivative(0.2), "softmax"])
    assert not cr.gradcheck(net, X, Y).passed
    assert cr.gradcheck(leaky_net(), X, Y).passed


def test_model_files_refuse_a_slope_they_cannot_record(tmp_path) -> None:
    net = leaky_net()
    trainer = Trainer(net, X, Y, batch_size=None)
    with pytest.raises(ValidationError, match=r"leaky_relu slope=0\.2.*cannot be saved"):
        save_checkpoint(tmp_path / "ck.safetensors", trainer)
    model = FittedModel(net=net, task="classification", classes=["a", "b"])
    with pytest.raises(ValidationError, match="records activation names only"):
        model.save(tmp_path / "m.safetensors")
    assert not list(tmp_path.iterdir())
