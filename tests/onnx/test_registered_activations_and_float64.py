"""Model files and ONNX graphs hold registered activations only, in the network's own precision.

A custom activation that reuses a registered name (a ``ReLU`` subclass, or any ``Activation``
called ``"relu"``) used to be saved and exported as that registered function: a file computing
something else than the network. And a float64 network was exported as a float32 graph, agreeing
with the network to 1e-6 only. onnxruntime is the reference for what the graphs compute.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import onnx
from chainrule.datasets import Standardizer
from chainrule.engine import Network
from chainrule.engine.activations import Activation, LeakyReLU, ReLU
from chainrule.errors import ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.fit import FittedModel
from chainrule.serialization import load_model, onnx_export, save_model
from chainrule.serialization.onnx_export import build_onnx, export_onnx

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(11)
X = RNG.normal(loc=1.0, scale=3.0, size=(40, 4))


class SquaredReLU(ReLU):
    """Named "relu" by inheritance, but computes max(0, e)^2."""

    def g(self, e, out=None):
        h = np.maximum(e, 0, out=out)
        return np.square(h, out=h)


class AbsoluteValue(Activation):
    """Not a ReLU at all, but called "relu"."""

    name = "relu"

    def g(self, e, out=None):
        return np.abs(e, out=out)

    def g_prime(self, e, h, out=None):
        return np.sign(e, out=out)


class SteeperLeakyReLU(LeakyReLU):
    """A LeakyReLU whose g ignores its slope."""

    def g(self, e, out=None):
        return np.maximum(e, 0.5 * e, out=out)


def relu_with_its_own_g() -> ReLU:
    relu = ReLU()
    relu.g = lambda e, out=None: np.abs(e)  # type: ignore[method-assign]
    return relu


IMPOSTORS = {
    "relu-subclass": SquaredReLU,
    "other-class-named-relu": AbsoluteValue,
    "leaky-relu-subclass": SteeperLeakyReLU,
    "instance-with-own-g": relu_with_its_own_g,
}


def run_onnx(model: onnx.ModelProto, inputs: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    dtype = np.float64 if session.get_inputs()[0].type == "tensor(double)" else np.float32
    (output,) = session.run(None, {"input": inputs.astype(dtype)})
    return output


@pytest.mark.parametrize("make", IMPOSTORS.values(), ids=IMPOSTORS.keys())
def test_an_activation_reusing_a_registered_name_is_refused(tmp_path: Path, make) -> None:
    net = Network([4, 5, 2], [make(), "softmax"], seed=0)
    # it really computes something else than the registered activation of its name
    registered = Network.from_weights(net.weights, [net.activations[0], "softmax"])
    assert not np.allclose(net.forward(X), registered.forward(X))

    with pytest.raises(ValidationError, match=r"layer 1's activation .* is not the registered"):
        save_model(
            tmp_path / "m.safetensors",
            weights=net.weights,
            activations=net.activation_functions,
            loss="cross_entropy",
        )
    with pytest.raises(ValidationError, match=r"layer 1's .*cannot be saved"):
        FittedModel(net=net, task="classification", classes=["a", "b"]).save(
            tmp_path / "f.safetensors"
        )
    with pytest.raises(ValidationError, match=r"layer 1's .*cannot be exported"):
        export_onnx(net, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_an_unregistered_name_is_refused_naming_the_layer(tmp_path: Path) -> None:
    class Swish(Activation):
        name = "swish"

        def g(self, e, out=None):
            return np.multiply(e, 1 / (1 + np.exp(-e)), out=out)

    net = Network([4, 3, 3, 2], ["tanh", Swish(), "softmax"], seed=0)
    with pytest.raises(ValidationError, match=r"layer 2's .*'swish'.* no activation of that name"):
        build_onnx(net)


@pytest.mark.parametrize("hidden", ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "step"])
def test_registered_activations_still_save_and_export(tmp_path: Path, hidden: str) -> None:
    net = Network([4, 5, 3], [hidden, "softmax"], seed=1)
    path = tmp_path / "m.safetensors"
    save_model(
        path, weights=net.weights, activations=net.activation_functions, loss="cross_entropy"
    )
    assert load_model(path).activations == (hidden, "softmax")
    np.testing.assert_allclose(run_onnx(build_onnx(net), X), net.forward(X), atol=1e-5)


OUTPUTS = [("softmax", 3), ("sigmoid", 1), ("sigmoid", 3), ("identity", 2), ("step", 2)]


@pytest.mark.parametrize("hidden", ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "step"])
@pytest.mark.parametrize(("output", "n_out"), OUTPUTS)
def test_a_float64_network_exports_a_float64_graph(hidden: str, output: str, n_out: int) -> None:
    scaler = Standardizer().fit(X)
    net = Network([4, 6, 5, n_out], [hidden, "tanh", output], seed=4, dtype="float64")
    model = build_onnx(net, standardizer=scaler)
    double = onnx.TensorProto.DOUBLE
    assert model.graph.input[0].type.tensor_type.elem_type == double
    assert model.graph.output[0].type.tensor_type.elem_type == double
    assert all(t.data_type == double for t in model.graph.initializer)
    inputs = scaler.transform(X)
    reference = (
        net.predict_proba(inputs) if output in ("softmax", "sigmoid") else net.forward(inputs)
    )
    result = run_onnx(model, X)
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, reference, rtol=1e-12, atol=1e-13)


def test_a_float32_network_still_exports_a_float32_graph() -> None:
    model = build_onnx(Network([4, 3, 2], ["leaky_relu", "softmax"], seed=0))
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in model.graph.initializer)
    assert "LeakyRelu" in [node.op_type for node in model.graph.node]


def test_a_float64_leaky_relu_keeps_its_slope_to_float64_precision() -> None:
    # 0.3 is not a float32: LeakyRelu's float32 alpha attribute would be off by 1.2e-8
    net = Network([4, 7, 2], [LeakyReLU(0.3), "identity"], seed=2, dtype="float64", loss="mse")
    net.weights[0][:, -1] = -2.0  # many negative excitations: the slope shows
    expected_hidden = np.maximum(0.3 * (X @ net.weights[0][:, :-1].T - 2.0), 0)
    assert expected_hidden.any()
    np.testing.assert_allclose(run_onnx(build_onnx(net), X), net.forward(X), rtol=1e-14, atol=1e-14)


def test_float64_estimators_and_model_files_export_float64(tmp_path: Path) -> None:
    labels = np.array(["x", "y", "z"])[(X[:, 0] > 1).astype(int) + (X[:, 1] > 2)]
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0, dtype="float64")
    clf.fit(X, labels)
    np.testing.assert_allclose(run_onnx(build_onnx(clf), X), clf.predict_proba(X), atol=1e-13)
    reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0, dtype="float64")
    reg.fit(X, X[:, 0] * 1e3)
    np.testing.assert_allclose(
        run_onnx(build_onnx(reg), X).ravel(), reg.predict(X), rtol=1e-12, atol=1e-10
    )

    net = Network([4, 5, 3], ["tanh", "softmax"], seed=3, dtype="float64")
    path = tmp_path / "model.safetensors"
    save_model(
        path,
        net,
        classes=[10, 20, 30],
        preprocessing={"standardizer": Standardizer().fit(X).to_dict()},
    )
    fitted = FittedModel.load(path)
    np.testing.assert_allclose(
        run_onnx(build_onnx(path), X), fitted.predict_proba(X), rtol=1e-12, atol=1e-13
    )


def test_an_activation_class_given_for_an_instance_says_so() -> None:
    with pytest.raises(
        ValidationError, match=r"LeakyReLU is a class; pass an instance, LeakyReLU\(\)"
    ):
        Network([4, 3, 2], [LeakyReLU, "softmax"])


def test_the_limit_is_protobufs_two_gib() -> None:
    assert onnx_export.MAX_CONSTANT_BYTES < onnx.checker.MAXIMUM_PROTOBUF
    assert onnx_export.MAX_CONSTANT_BYTES > 0.999 * onnx.checker.MAXIMUM_PROTOBUF


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_network_no_onnx_file_can_hold_is_refused_before_any_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dtype: str
) -> None:
    # A real one needs 2 GiB of weights (protobuf then fails with "Failed to serialize proto");
    # the limit is lowered instead, to just below this network's size.
    net = Network([300, 200, 10], ["relu", "softmax"], seed=0, dtype=dtype)
    n_bytes = (net.n_parameters + 2 * (300 + 10)) * net.dtype.itemsize
    monkeypatch.setattr(onnx_export, "MAX_CONSTANT_BYTES", n_bytes - 1)
    with pytest.raises(ValidationError, match=rf"{net.n_parameters:,} weights take {n_bytes:,}"):
        export_onnx(net, tmp_path / "big.onnx")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(onnx_export, "MAX_CONSTANT_BYTES", n_bytes)
    model = export_onnx(net, tmp_path / "big.onnx")
    np.testing.assert_allclose(run_onnx(model, RNG.normal(size=(3, 300))).sum(axis=1), 1, atol=1e-6)
