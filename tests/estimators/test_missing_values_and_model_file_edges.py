"""Missing values given to the scikit-learn estimators, and edge cases of model files and
checkpoints, each of which went wrong before:

- pandas' missing value ``pd.NA`` among the targets (a Series of objects, or of the nullable
  'string' dtype) failed deep in scikit-learn with pandas' "boolean value of NA is ambiguous",
  naming neither ``y`` nor the row.
- NaN or infinity in ``X`` was refused with scikit-learn's "Input X contains NaN.", which names
  neither the row nor the column (``_finite_as`` names both, but never saw them).
- A checkpoint stored a 0-d array of the training state as a 1-d one (``np.ascontiguousarray``
  makes 0-d arrays 1-d), so a resumed run got ``array([x])`` where it had saved ``array(x)``.
- A bare network with the ``mse`` loss and a sigmoid output, which its own ``predict`` treats as
  regression (values in (0, 1)), exported as a classifier (``[1 - p, p]``), while the model file
  of the same network exported its values.
- ``FittedModel.predict`` of a multilabel model file (one sigmoid unit per label) looked class
  labels up with its 0/1 decisions: a row ``[1, 1, 0]`` came out as ``['y', 'y', 'x']``.
- A model file whose recorded training time is no number (``save(extra={"seconds": ...})``
  replaces it) failed to load with a bare ``ValueError`` instead of ``ModelFileError``.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, ClassVar

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
import scipy.sparse as sp

from chainrule.engine.callbacks import Callback
from chainrule.engine.network import Network
from chainrule.engine.training import Trainer
from chainrule.errors import ModelFileError, ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.fit import FittedModel
from chainrule.serialization import save_model
from chainrule.serialization.checkpoint import load_checkpoint, save_checkpoint
from chainrule.serialization.onnx_export import build_onnx

RNG = np.random.RandomState(7)
X = RNG.randn(12, 3)
LABELS = np.array(["a", "b"] * 6, dtype=object)
FAST = dict(hidden_layer_sizes=(3,), max_iter=2)


def _first_missing_row(values: pd.Series) -> int:
    """The reference: the first row pandas itself calls missing."""
    return int(np.flatnonzero(values.isna().to_numpy())[0])


@pytest.mark.parametrize(
    ("make", "y"),
    [
        (MLPRegressor, pd.Series([0.5, 1.0, 2.0, pd.NA, *range(8)], dtype=object)),
        (MLPClassifier, pd.Series([*LABELS[:4], pd.NA, *LABELS[5:]], dtype=object)),
        (MLPClassifier, pd.Series([*LABELS[:4], None, *LABELS[5:]], dtype="string")),
    ],
    ids=["regression-object", "labels-object", "labels-string-dtype"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_pandas_missing_target_is_named_by_its_row(make, y: pd.Series) -> None:
    row = _first_missing_row(y)
    with pytest.raises(ValidationError, match=rf"Input y contains NaN.*<NA>.* at row {row}\b"):
        make(**FAST).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_names_a_pandas_missing_label_by_its_row() -> None:
    y = pd.Series([*LABELS[:6], None, *LABELS[7:]], dtype="string")
    with pytest.raises(ValidationError, match=rf"no class label \(<NA>\) at row {6}\b"):
        MLPClassifier(**FAST).partial_fit(X, y, classes=["a", "b"])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("container", ["array", "dataframe", "sparse"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_non_finite_feature_is_named_by_row_and_column(bad: float, container: str) -> None:
    X_bad = X.copy()
    X_bad[5, 2] = bad
    X_bad[9, 0] = bad
    # the reference: numpy's own first non-finite entry, in row-major order
    row, column = (int(i) for i in np.argwhere(~np.isfinite(X_bad))[0])
    given = {
        "array": lambda a: a,
        "dataframe": lambda a: pd.DataFrame(a, columns=["p", "q", "r"]),
        "sparse": sp.csr_matrix,
    }[container](X_bad)
    word = "NaN" if np.isnan(bad) else "inf"  # what scikit-learn's own checks look for
    where = rf"{re.escape(word)}.*at row {row}, column {column}\b"
    for make, y in ((MLPClassifier, LABELS), (MLPRegressor, X[:, 0])):
        with pytest.raises(ValidationError, match=where):
            make(**FAST).fit(given, y)
        fitted = make(**FAST).fit(
            pd.DataFrame(X, columns=["p", "q", "r"]) if container == "dataframe" else X, y
        )
        with pytest.raises(ValidationError, match=where):
            fitted.predict(given)


# -- model files, checkpoints, ONNX ----------------------------------------------------

X_NET = np.random.default_rng(7).normal(size=(16, 2))


class _ScalarState(Callback):
    """A callback whose state holds arrays of several shapes, a 0-d one among them."""

    key: ClassVar[str | None] = "scalar_state"

    def state_dict(self) -> dict[str, Any]:
        return {"scalar": np.array(0.25), "vector": np.arange(3.0), "matrix": np.eye(2)[:, ::-1]}


def test_a_checkpoint_keeps_the_shape_of_every_array_of_the_state(tmp_path) -> None:
    net = Network([2, 3, 1], ["tanh", "identity"], seed=0)
    trainer = Trainer(net, X_NET, X_NET[:, :1], batch_size=4, seed=0, callbacks=[_ScalarState()])
    trainer.fit(1)
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, trainer)
    _, state, _ = load_checkpoint(path)
    saved = _ScalarState().state_dict()
    restored = state["callbacks"]["scalar_state"]
    for name, array in saved.items():
        assert restored[name].shape == array.shape, name
        np.testing.assert_array_equal(restored[name], array)


def _run(model: Any) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString())
    return session.run(None, {"input": X_NET.astype(np.float32)})[0]


def test_a_sigmoid_network_with_the_mse_loss_exports_its_values(tmp_path) -> None:
    net = Network([2, 4, 1], ["tanh", "sigmoid"], seed=3, loss="mse")
    # the reference: the lecture's forward pass in float64, h = sigmoid(W2 [tanh(W1 [x; 1]); 1])
    W1, W2 = (np.asarray(W, np.float64) for W in net.weights)
    hidden = np.tanh(np.c_[X_NET, np.ones(len(X_NET))] @ W1.T)
    expected = 1 / (1 + np.exp(-(np.c_[hidden, np.ones(len(X_NET))] @ W2.T)))
    np.testing.assert_allclose(net.predict(X_NET), expected.ravel(), atol=1e-6)

    exported = build_onnx(net)
    assert exported.graph.output[0].name == "values"
    assert {p.key: p.value for p in exported.metadata_props}["task"] == "regression"
    np.testing.assert_allclose(_run(exported), expected, atol=1e-6)

    # the network's model file exports the same graph
    path = tmp_path / "net.safetensors"
    save_model(path, weights=net.weights, activations=net.activations, loss="mse")
    np.testing.assert_allclose(_run(build_onnx(path)), expected, atol=1e-6)


def test_a_multilabel_model_file_predicts_one_decision_per_label(tmp_path) -> None:
    W = np.random.default_rng(0).normal(size=(3, 3))  # 2 inputs -> 3 labels, bias last
    path = tmp_path / "multilabel.safetensors"
    save_model(
        path,
        weights=[W],
        activations=["sigmoid"],
        loss="binary_cross_entropy",
        classes=["x", "y", "z"],
    )
    model = FittedModel.load(path)
    # the reference: each label's own decision, sigmoid(W [x; 1]) > 1/2, i.e. W [x; 1] > 0
    expected = (np.c_[X_NET, np.ones(len(X_NET))] @ W.T > 0).astype(int)
    predicted = model.predict(X_NET)
    assert predicted.shape == (len(X_NET), 3)
    np.testing.assert_array_equal(predicted, expected)


def test_a_training_time_that_is_no_number_is_a_model_file_error(tmp_path) -> None:
    net = Network([2, 2], ["softmax"], seed=0)
    path = tmp_path / "model.safetensors"
    FittedModel(net=net, task="classification", classes=["a", "b"]).save(
        path, extra={"seconds": "unknown"}
    )
    with pytest.raises(ModelFileError, match="malformed"):
        FittedModel.load(path)


def test_layer_widths_given_as_the_regressors_first_argument_are_pointed_out() -> None:
    """``loss`` comes first, as in scikit-learn (same order, checked here): the message said
    only that ``(5, 4)`` is no loss."""
    from sklearn.neural_network import MLPRegressor as SklearnRegressor

    from chainrule.estimators import MLPRegressor

    def first(cls: type) -> str:
        return next(iter(inspect.signature(cls).parameters))

    assert first(SklearnRegressor) == first(MLPRegressor) == "loss"
    with pytest.raises(ValidationError) as info:
        MLPRegressor((5, 4)).fit(np.zeros((4, 2)), np.zeros(4))
    assert str(info.value) == (
        "loss must be one of 'squared_error'; got (5, 4); loss is the first argument, as in "
        "scikit-learn: give the layer widths by name, MLPRegressor(hidden_layer_sizes=(5, 4))"
    )


@pytest.mark.parametrize("training", [{1: "a", "1": "b"}, {"history": {True: 1, "true": 2}}])
def test_keys_that_json_writes_alike_are_refused_not_merged(tmp_path, training) -> None:
    """JSON keys are text: ``1`` and ``"1"`` became one key and the file kept only the last
    value. json's own reading of the written text is the reference for which keys merge."""
    import json

    def merged_by_json(d: dict[Any, Any]) -> bool:  # json loses a key of d, or of a dict in d
        back = json.loads(json.dumps(d))
        return len(back) < len(d) or any(
            isinstance(v, dict) and merged_by_json(v) for v in d.values()
        )

    assert merged_by_json(training)
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0)
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValidationError, match=r"training has two keys that JSON writes as"):
        save_model(
            path, weights=net.weights, activations=net.activations, loss="cross_entropy",
            training=training,
        )  # fmt: skip
    assert not path.exists()
