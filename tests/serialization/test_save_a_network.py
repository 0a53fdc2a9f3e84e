"""``save_model(path, net)`` and ``load_model(path).network()``: a Network saved and loaded as a
whole, the same file as the one written from its parts, predicting bit for bit alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from chainrule import Network, load_model, save_model
from chainrule.errors import ValidationError

X = np.random.default_rng(0).standard_normal((7, 3))


@pytest.mark.parametrize(
    ("sizes", "activations", "loss", "task", "dtype"),
    [
        ([3, 5, 4], ["relu", "softmax"], None, "classification", "float32"),
        ([3, 5, 1], ["tanh", "sigmoid"], None, "classification", "float64"),
        ([3, 4, 4, 2], ["leaky_relu", "tanh", "identity"], "mse", "regression", "float64"),
        ([3, 2], ["tanh"], "mse", "regression", "float32"),  # no loss of its own: loss= gives it
    ],
)
def test_a_network_saves_and_loads_whole(tmp_path: Path, sizes, activations, loss, task, dtype):
    net = Network(sizes, activations, seed=1, dtype=dtype, loss=loss)
    whole, parts = tmp_path / "whole.safetensors", tmp_path / "parts.safetensors"
    save_model(whole, net, loss=None if net.loss is not None else "mse")
    name = net.loss.name if net.loss is not None else "mse"
    save_model(parts, weights=net.weights, activations=activations, loss=name, task=task)
    assert whole.read_bytes() == parts.read_bytes()
    loaded = load_model(whole)
    assert (loaded.task, loaded.loss, loaded.dtype) == (task, name, dtype)
    again = loaded.network()
    assert again.sizes == net.sizes and again.activations == net.activations
    np.testing.assert_array_equal(again.forward(X), net.forward(X))


def test_a_network_without_a_loss_is_asked_for_one(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no loss pairs with the output activation 'tanh'"):
        save_model(tmp_path / "m.safetensors", Network([3, 2], ["tanh"], seed=0))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda p, net: save_model(net, p),
            "save_model(path, network): the file's path comes first; got a network as the path",
        ),
        (
            lambda p, net: save_model(p, net, weights=net.weights),
            "give save_model a network or its weights= and activations=, not both",
        ),
        (
            lambda p, net: save_model(p, weights=net.weights, loss="cross_entropy"),
            "save_model needs a network, save_model(path, net), or weights=, activations= and "
            "loss=; got no activations=",
        ),
        (
            lambda p, net: save_model(p, net.weights),
            "network must be a chainrule Network; got list",
        ),
    ],
)
def test_a_mixed_up_call_says_how_to_call(tmp_path: Path, call, message) -> None:
    net = Network([3, 4, 2], ["relu", "softmax"], seed=0)
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValidationError) as err:
        call(path, net)
    assert str(err.value) == message
    assert not path.exists()
