"""``chainrule explain`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from chainrule.engine import Network, trace
from cli_helpers import chainrule, far_from_zero_model

NET = ["--sizes", "2,3,2", "--activations", "relu,softmax", "--seed", "0"]


def test_json_is_the_trace_of_the_same_network() -> None:
    result = chainrule(
        "explain", *NET, "--x", "0.5,1.0", "--y", "1", "--format", "json", "--learning-rate", "0.5"
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    net = Network([2, 3, 2], ["relu", "softmax"], seed=0, dtype="float64")
    expected = trace(net, [[0.5, 1.0]], [1], learning_rate=0.5)
    assert data["loss"] == expected.loss and data["learning_rate"] == 0.5
    for layer, recorded in zip(data["layers"], expected.layers, strict=True):
        assert np.array_equal(layer["dL_dW"], recorded.dL_dW)
        assert np.array_equal(layer["W_updated"], recorded.W_updated)


def test_table_and_markdown_formats(tmp_path: Path) -> None:
    W1 = np.array([[1.0, 0.0], [-1.0, 1.0]])
    W2 = np.array([[-1.0, 1.0, 0.0], [1.0, -1.0, 0.0]])
    weights = tmp_path / "net.npz"
    np.savez(weights, W1=W1, W2=W2, activations=np.array(["relu", "softmax"]))
    table = chainrule("explain", "--weights", str(weights), "--x", "1.5", "--y", "0")
    assert table.returncode == 0, table.stderr
    assert "layer l = 1 (relu)" in table.stdout and "layer l = 2 (softmax)" in table.stdout
    assert "L = 3.04859" in table.stdout and "2.85772" in table.stdout
    md = chainrule(
        "explain", "--weights", str(weights), "--x", "1.5", "--y", "0", "--format", "markdown"
    )
    assert md.returncode == 0, md.stderr
    assert r"$$e_{1}^{(1)} = \sum_k w_{1k}^{(1)} h_k^{(0)} = (1)(1.5) + (0)(1) = 1.5$$" in md.stdout
    # the lecture's numbering: softmax output neuron j is class j, the hidden layer counts from 1
    assert "output neuron" not in table.stdout and "output neuron" not in md.stdout
    assert r"h_{0}^{(2)} = P(Y = 0 | x)" in md.stdout
    assert r"\left(h_{0}^{(2)} - [y = 0]\right) = (0.0474259 - 1)" in md.stdout
    assert r"$$h_{2}^{(1)} = \mathrm{ReLU}(e_{2}^{(1)}) = 0$$" in md.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--x", "0.5,abc"], "expected a number; got 'abc'"),
        (["--x", "1,2", "--y", "7"], "y[0] = 7 is not a class index in 0..1"),
        (["--x", "1,2", "--activations", "relu,softmaxx"], "unknown activation 'softmaxx'"),
        (["--x", "1,2", "--weights", "missing.npz"], "does not exist"),
        (["--x", "1,2,3", "--sizes", "2,4,2"], "--x has 3 values but the network takes 2 inputs"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = chainrule("explain", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_weights_files_load_as_networks(tmp_path: Path) -> None:
    from chainrule.cli.common import load_weights_file
    from chainrule.errors import ModelFileError
    from chainrule.serialization import save_model

    net = Network([2, 4, 3], ["tanh", "softmax"], seed=5, dtype="float64")
    model = tmp_path / "net.safetensors"
    save_model(model, weights=net.weights, activations=net.activations, loss="cross_entropy")
    loaded = load_weights_file(model, "float64")
    assert loaded.activations == net.activations and loaded.loss.name == "cross_entropy"
    assert all(np.array_equal(a, b) for a, b in zip(loaded.weights, net.weights, strict=True))

    gap = tmp_path / "gap.npz"
    np.savez(gap, W1=net.weights[0], W3=net.weights[1], activations=np.array(["tanh", "softmax"]))
    with pytest.raises(ModelFileError, match=r"W1\.\.WL numbered from 1"):
        load_weights_file(gap, "float64")
    mismatch = tmp_path / "mismatch.npz"
    np.savez(mismatch, W1=net.weights[1], W2=net.weights[0], activations=np.array(["a", "b"]))
    with pytest.raises(ModelFileError, match=r"mismatch\.npz"):
        load_weights_file(mismatch, "float64")


@pytest.fixture(scope="module")
def standardised_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model file trained on features far from 0, and its data as CSV."""
    return far_from_zero_model(tmp_path_factory.mktemp("standardised"), 60)


def test_a_model_files_standardisation_is_applied_to_x(standardised_model) -> None:
    from chainrule.fit import FittedModel

    model, _ = standardised_model
    expected = FittedModel.load(model).standardizer.transform(np.array([[110.0, -49.0]]))
    result = chainrule(
        "explain", "--weights", model, "--x", "110,-49", "--y", "1", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    np.testing.assert_allclose(document["x"], expected)
    assert document["standardization"]["raw_x"] == [110.0, -49.0]
    table = chainrule("explain", "--weights", model, "--x", "110,-49", "--y", "1")
    assert table.stdout.startswith("x standardised with the model's stored statistics")


@pytest.mark.parametrize("standardize", [False, True])
def test_json_with_a_class_label_is_one_json_document(tmp_path: Path, standardize: bool) -> None:
    """``--y cat`` with a model trained without standardisation printed the line "target: the
    class labelled 'cat' ..." before the JSON, which no parser could then read; with
    standardisation the JSON lost which label the index stands for."""
    from chainrule.datasets import Dataset
    from chainrule.fit import FittedModel, TrainConfig, fit

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    classes = ["cat", "dog", "emu"]
    data = Dataset(X, rng.integers(0, 3, 40), ["a", "b"], "animal", classes, "classification")
    fit(data, TrainConfig(epochs=1, hidden=(3,), standardize=standardize)).save(
        tmp_path / "m.safetensors"
    )
    result = chainrule(
        "explain", "--weights", tmp_path / "m.safetensors", "--x", "0.5,1", "--y", "emu",
        "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["y"] == [2]  # 'emu' is the third of the classes
    assert document["target_label"] == {"label": "emu", "y": 2, "classes": classes}
    model = FittedModel.load(tmp_path / "m.safetensors")
    x = model.transform(np.array([[0.5, 1.0]]))
    net = Network.from_weights(model.net.weights, model.net.activations, dtype="float64")
    expected = trace(net, x, [2])
    assert document["loss"] == pytest.approx(expected.loss, rel=1e-6)
