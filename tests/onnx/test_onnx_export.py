"""ONNX export: onnxruntime runs the file and agrees with chainrule's own predictions."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import onnx
from chainrule.datasets import Standardizer
from chainrule.engine import Network
from chainrule.errors import ModelFileError, ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.fit import FittedModel
from chainrule.serialization import save_model
from chainrule.serialization.onnx_export import OPSET, export_onnx

TOLERANCE = 1e-5
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(0)
X = RNG.normal(loc=3.0, scale=4.0, size=(64, 5))  # far from standardised on purpose
SCALER = Standardizer().fit(X)
HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "step"]


def run_onnx(path, X_input: np.ndarray) -> np.ndarray:
    """Run the file on ``X_input`` in the graph's own input dtype (float32 or float64)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dtype = np.float64 if session.get_inputs()[0].type == "tensor(double)" else np.float32
    (output,) = session.run(None, {"input": X_input.astype(dtype)})
    return output


def assert_close(onnx_output: np.ndarray, reference: np.ndarray) -> None:
    assert onnx_output.dtype == np.float32
    assert onnx_output.shape == reference.shape
    np.testing.assert_allclose(onnx_output, reference, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(
    ("output", "n_out"),
    [("softmax", 3), ("sigmoid", 1), ("sigmoid", 3), ("identity", 2), ("step", 2)],
)
@pytest.mark.parametrize("standardised", [False, True])
def test_network_matches_onnxruntime(tmp_path, hidden, output, n_out, standardised):
    net = Network([5, 7, 6, n_out], [hidden, "tanh", output], seed=1)
    path = tmp_path / "net.onnx"
    model = export_onnx(net, path, standardizer=SCALER if standardised else None)
    inputs = SCALER.transform(X) if standardised else X
    if output in ("softmax", "sigmoid"):
        reference = net.predict_proba(inputs)
        assert model.graph.output[0].name == "probabilities"
    else:
        reference = net.forward(inputs)
        assert model.graph.output[0].name == "values"
    assert_close(run_onnx(path, X), reference)
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Gemm") == 3
    assert ("Sub" in ops and "Div" in ops) == standardised
    if "step" in (hidden, output):
        assert "Greater" in ops and "Cast" in ops
    if hidden == "leaky_relu":
        assert "LeakyRelu" in ops


def test_file_is_opset_17_float32_and_passes_the_full_check(tmp_path):
    path = tmp_path / "m.onnx"
    export_onnx(Network([5, 4, 3], ["relu", "softmax"], seed=0), path)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET == 17
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert all(t.data_type == onnx.TensorProto.FLOAT for t in model.graph.initializer)
    softmax = next(n for n in model.graph.node if n.op_type == "Softmax")
    assert onnx.helper.get_attribute_value(softmax.attribute[0]) == -1


@pytest.mark.parametrize("standardised", [False, True])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu", "leaky_relu"])
def test_estimators_match_onnxruntime(tmp_path, standardised, activation):
    inputs = SCALER.transform(X) if standardised else X
    params = dict(hidden_layer_sizes=(6,), activation=activation, max_iter=5, random_state=0)
    labels = np.array(["a", "b", "c"])[(X[:, 0] > 2).astype(int) + (X[:, 1] > 4)]
    cases = [
        (MLPClassifier(**params).fit(inputs, labels), "predict_proba"),  # softmax
        (MLPClassifier(**params).fit(inputs, labels == "a"), "predict_proba"),  # one sigmoid
        (MLPClassifier(**params).fit(inputs, np.c_[X[:, :2] > 3]), "predict_proba"),  # multilabel
        (MLPRegressor(**params).fit(inputs, X[:, :2]), "predict"),
        (MLPRegressor(**params).fit(inputs, X[:, 0]), "predict"),
    ]
    for i, (estimator, method) in enumerate(cases):
        path = tmp_path / f"estimator{i}.onnx"
        model = export_onnx(estimator, path, standardizer=SCALER if standardised else None)
        reference = getattr(estimator, method)(inputs)
        assert_close(run_onnx(path, X), reference.reshape(len(X), -1))
        if hasattr(estimator, "classes_"):
            props = {p.key: p.value for p in model.metadata_props}
            assert json.loads(props["classes"]) == np.asarray(estimator.classes_).tolist()


@pytest.mark.parametrize("standardised", [False, True])
@pytest.mark.parametrize("task", ["multiclass", "binary", "regression"])
def test_model_file_matches_onnxruntime(tmp_path, standardised, task):
    output = {"multiclass": ("softmax", 3), "binary": ("sigmoid", 1), "regression": ("identity", 1)}
    activation, n_out = output[task]
    net = Network([5, 8, n_out], ["tanh", activation], seed=2)
    preprocessing = None
    target = Standardizer().fit(RNG.normal(10, 3, size=(20, 1)))
    if standardised:
        preprocessing = {"standardizer": SCALER.to_dict()}
        if task == "regression":
            preprocessing["target_standardizer"] = target.to_dict()
    classes = {"multiclass": ["x", "y", "z"], "binary": ["no", "yes"], "regression": None}[task]
    model_path = tmp_path / "model.safetensors"
    save_model(
        model_path,
        weights=net.weights,
        activations=net.activations,
        loss=net.loss.name,
        classes=classes,
        preprocessing=preprocessing,
    )
    fitted = FittedModel.load(model_path)
    onnx_path = tmp_path / "model.onnx"
    export_onnx(str(model_path), onnx_path)
    if task == "regression":
        reference = fitted.predict(X).reshape(-1, 1)
        if standardised:  # the target's un-scaling is in the graph: values in the data's units
            assert abs(reference.mean()) > 1.0
    else:
        reference = fitted.predict_proba(X)
    assert_close(run_onnx(onnx_path, X), reference)


def test_bad_models_are_refused_and_leave_an_existing_file_alone(tmp_path):
    path = tmp_path / "keep.onnx"
    path.write_bytes(b"previous")
    with pytest.raises(ValidationError, match="needs a Network, a fitted chainrule estimator"):
        export_onnx(object(), path)
    with pytest.raises(ValidationError, match="not fitted yet"):
        export_onnx(MLPClassifier(), path)
    with pytest.raises(ValidationError, match="StandardScaler is not fitted yet"):
        export_onnx(make_pipeline(StandardScaler(), MLPClassifier()), path)
    with pytest.raises(
        ValidationError, match="standardizer has 5 features but the network takes 2"
    ):
        export_onnx(Network([2, 1], ["sigmoid"], seed=0), path, standardizer=SCALER)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ModelFileError):
        export_onnx(garbage, path)
    assert path.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.safetensors", "keep.onnx"]


@pytest.mark.parametrize("with_mean", [True, False])
def test_pipeline_standard_scaler_becomes_sub_div(tmp_path, with_mean):
    labels = (X[:, 0] > 3).astype(int) + (X[:, 2] > 5)
    pipeline = make_pipeline(
        StandardScaler(with_mean=with_mean),
        MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0),
    ).fit(X, labels)
    path = tmp_path / "pipeline.onnx"
    model = export_onnx(pipeline, path)
    assert [n.op_type for n in model.graph.node][:2] == ["Sub", "Div"]
    assert_close(run_onnx(path, X), pipeline.predict_proba(X))
    with pytest.raises(ValidationError, match="has its own StandardScaler"):
        export_onnx(pipeline, path, standardizer=SCALER)
    from sklearn.preprocessing import MinMaxScaler

    other = make_pipeline(MinMaxScaler(), MLPClassifier(max_iter=2)).fit(X, labels)
    with pytest.raises(ValidationError, match="this one has MinMaxScaler, MLPClassifier"):
        export_onnx(other, path)


def test_a_leaky_relu_keeps_its_own_slope_in_onnx(tmp_path) -> None:
    from chainrule.engine.activations import LeakyReLU

    net = Network([5, 7, 3], [LeakyReLU(0.3), "softmax"], seed=2)
    for W in net.weights:
        W[:, -1] = -1.0  # many negative excitations: the slope shows
    export_onnx(net, tmp_path / "leaky.onnx")
    assert_close(run_onnx(tmp_path / "leaky.onnx", X), net.forward(X))
