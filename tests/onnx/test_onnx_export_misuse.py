"""ONNX export beyond the happy path: a practitioner's mistakes, and what the ONNX file tells
whoever runs it (which column is which, which chainrule wrote it)."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.datasets import Standardizer
from chainrule.engine import Network
from chainrule.errors import ValidationError
from chainrule.estimators import MLPClassifier
from chainrule.fit import FittedModel
from chainrule.serialization import load_model, save_model
from chainrule.serialization.onnx_export import export_onnx
from cli_helpers import chainrule

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
RNG = np.random.default_rng(0)
X = RNG.normal(loc=3.0, scale=4.0, size=(48, 3))
LABELS = (X[:, 0] > 3).astype(int)


def model_file(folder: Path) -> Path:
    """A classifier model file with its standardisation and the names of its three columns."""
    net = Network([3, 5, 2], ["tanh", "softmax"], seed=0)
    path = folder / "model.safetensors"
    save_model(
        path,
        weights=net.weights,
        activations=net.activations,
        loss=net.loss.name,
        classes=["no", "yes"],
        preprocessing={"standardizer": Standardizer().fit(X).to_dict()},
        training={"feature_names": ["height", "weight", "age"]},
    )
    return path


def metadata(path: Path) -> dict[str, str]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(session.get_modelmeta().custom_metadata_map)


@pytest.mark.parametrize("pipeline", [False, True])
def test_a_fitted_scikit_learn_estimator_is_not_called_unfitted(tmp_path, pipeline):
    estimator = SklearnMLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    model = make_pipeline(StandardScaler(), estimator) if pipeline else estimator
    model.fit(X, LABELS)
    with pytest.raises(ValidationError) as info:
        export_onnx(model, tmp_path / "m.onnx")
    text = str(info.value)
    assert "not fitted yet" not in text, text
    assert "sklearn.neural_network" in text and "not a chainrule estimator" in text, text
    with pytest.raises(ValidationError, match=r"MLPClassifier \(not fitted yet: call fit first\)"):
        export_onnx(MLPClassifier(), tmp_path / "m.onnx")  # chainrule's own, unfitted
    assert not (tmp_path / "m.onnx").exists()


def test_exporting_a_model_file_onto_itself_is_refused(tmp_path):
    path = model_file(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ValidationError, match="is the model file itself"):
        export_onnx(path, tmp_path / "." / path.name)
    link = tmp_path / "link.safetensors"
    link.symlink_to(path)
    result = chainrule("export", str(link), "-o", str(path))
    assert result.returncode == 2, result.stdout
    assert result.stderr.count("\n") == 1 and "is the model file itself" in result.stderr
    assert path.read_bytes() == before
    load_model(path)  # still a model file


def test_a_model_files_feature_names_and_version_travel_into_the_onnx_file(tmp_path):
    path = model_file(tmp_path)
    out = tmp_path / "model.onnx"
    result = chainrule("export", str(path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    fitted = FittedModel.load(path)
    assert json.loads(metadata(out)["feature_names"]) == fitted.feature_names
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().producer_name == "chainrule"
    import onnx

    assert onnx.load(str(out)).producer_version == version("chainrule")


@pytest.mark.parametrize("pipeline", [False, True])
def test_an_estimator_fitted_on_a_data_frame_keeps_its_column_names(tmp_path, pipeline):
    frame = pd.DataFrame(X, columns=["height", "weight", "age"])
    estimator = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    model = make_pipeline(StandardScaler(), estimator) if pipeline else estimator
    model.fit(frame, LABELS)
    out = tmp_path / "m.onnx"
    export_onnx(model, out)
    assert json.loads(metadata(out)["feature_names"]) == list(model.feature_names_in_)
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(None, {"input": X.astype(np.float32)})
    np.testing.assert_allclose(probabilities, model.predict_proba(frame), rtol=0, atol=1e-5)
    export_onnx(model.fit(X, LABELS), out)  # plain arrays: no names to tell
    assert "feature_names" not in metadata(out)


@pytest.mark.parametrize("classes", [[3, 1, 2], [0.5, 1.5, 2.5], ["a", "b", "c"]])
def test_a_model_files_class_labels_keep_their_type_in_the_onnx_metadata(tmp_path, classes):
    net = Network([3, 4, 3], ["relu", "softmax"], seed=1)
    path = tmp_path / "labels.safetensors"
    save_model(
        path,
        net,
        classes=classes,
    )
    out = tmp_path / "labels.onnx"
    export_onnx(path, out)
    assert json.loads(metadata(out)["classes"]) == list(load_model(path).classes)
