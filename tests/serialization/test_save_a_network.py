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


def test_a_model_that_standardises_its_data_is_no_bare_network(tmp_path: Path) -> None:
    """A CLI model's network takes standardised inputs: ``network()`` would have predicted
    raw data wrongly (51% agreement with the model's own predictions), so it is refused, with
    the call that applies the standardisation."""
    from chainrule.datasets import Dataset
    from chainrule.fit import FittedModel, TrainConfig, fit

    rng = np.random.default_rng(0)
    X = rng.normal(100.0, 50.0, size=(60, 3))
    data = Dataset(X, (X[:, 0] > 100).astype(np.int64), ["a", "b", "c"], "y", ["no", "yes"],
                   "classification")  # fmt: skip
    path = tmp_path / "m.safetensors"
    model = fit(data, TrainConfig(hidden=(4,), epochs=2, validation_fraction=0.0))
    model.save(path)
    with pytest.raises(ValidationError) as err:
        load_model(path).network()
    assert str(err.value) == (
        "this model standardises its data (standardizer in its preprocessing), which a bare "
        "Network does not: load it with chainrule.fit.FittedModel.load(path) to predict in the "
        "data's units"
    )
    np.testing.assert_array_equal(FittedModel.load(path).predict(X), model.predict(X))


def test_a_loss_of_ones_own_under_a_registered_name_is_not_saved_as_that_loss(
    tmp_path: Path,
) -> None:
    """As for activations: a model file records the loss by name, so a subclass of the mean
    squared error computing something else would load as the plain one."""
    from chainrule.engine.losses import LOSSES

    class Halved(type(LOSSES["mse"])):  # type: ignore[misc]
        def value(self, h, y):
            return super().value(h, y) / 2

    net = Network([2, 1], ["identity"], loss=Halved(), seed=0)
    with pytest.raises(ValidationError, match="is not the registered 'mse'"):
        save_model(tmp_path / "m.safetensors", net)
    save_model(tmp_path / "m.safetensors", net, loss="mse")  # named explicitly: saved as mse
    assert load_model(tmp_path / "m.safetensors").loss == "mse"
