"""Inputs and call sequences a scikit-learn user tries that the other estimator tests do not:
switching ``early_stopping`` between warm fits, pickling after ``set_params``, ``explain`` on
warm-started and multi-output models, continuing with a different number of outputs."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import load_iris

from chainrule.engine import trace
from chainrule.errors import ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
SMALL = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)


def test_warm_start_may_switch_early_stopping_on_and_off() -> None:
    """A warm fit after ``set_params(early_stopping=...)`` keeps the rule now in force (it
    failed with a bare ``AssertionError``): its record starts afresh, from the fitted weights."""
    clf = MLPClassifier(**SMALL, warm_start=True).fit(X_IRIS, Y_IRIS)
    clf.set_params(early_stopping=True).fit(X_IRIS, Y_IRIS)
    assert clf.best_loss_ is None and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    clf.set_params(early_stopping=False).fit(X_IRIS, Y_IRIS)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.best_loss_ == min(clf.loss_curve_[-clf.n_iter_ :])
    # partial_fit after an early-stopping fit, with early stopping switched off
    reg = MLPRegressor(**SMALL, early_stopping=True).fit(X_IRIS, X_IRIS[:, 0])
    reg.set_params(early_stopping=False).partial_fit(X_IRIS, X_IRIS[:, 0])
    assert reg.best_loss_ == reg.loss_curve_[-1]


@pytest.mark.parametrize(
    "change", [{"hidden_layer_sizes": (6,)}, {"hidden_layer_sizes": (5, 5)}, {"activation": "tanh"}]
)
def test_a_warm_fit_with_other_layers_is_refused_by_name(change: dict[str, object]) -> None:
    """Training on from the fitted weights with other layers set: the old network trained on
    silently (scikit-learn too for a width, and it fails inside its own code for a depth)."""
    clf = MLPClassifier(**SMALL, warm_start=True).fit(X_IRIS, Y_IRIS)
    weights = [W.copy() for W in clf.network_.weights]
    clf.set_params(**change)
    with pytest.raises(ValidationError, match=r"differ from the fitted network's \(5,\) relu"):
        clf.fit(X_IRIS, Y_IRIS)
    for got, want in zip(clf.network_.weights, weights, strict=True):
        np.testing.assert_array_equal(got, want)  # untouched
    clf.set_params(warm_start=False).fit(X_IRIS, Y_IRIS)  # starting anew takes the new layers
    assert clf.network_.sizes[1:-1] == list(clf.get_params()["hidden_layer_sizes"])


def test_validation_fraction_zero_with_early_stopping_is_named() -> None:
    """scikit-learn refuses it too, but in words of ``train_test_split``'s ``test_size``."""
    with pytest.raises(ValueError, match="test_size"):
        neural_network.MLPClassifier(**SMALL, early_stopping=True, validation_fraction=0.0).fit(
            X_IRIS, Y_IRIS
        )
    clf = MLPClassifier(**SMALL, early_stopping=True, validation_fraction=0.0)
    with pytest.raises(
        ValidationError,
        match=r"validation_fraction must be a real number in \(0.0, 1.0\) with "
        r"early_stopping=True; got 0.0",
    ):
        clf.fit(X_IRIS, Y_IRIS)
    MLPClassifier(**SMALL, validation_fraction=0.0).fit(X_IRIS, Y_IRIS)  # unused: accepted


def test_pickling_keeps_the_fitted_dtype_after_set_params() -> None:
    """``set_params(dtype=...)`` is for the next fit; the unpickled model was rebuilt in the new
    dtype and predicted differently from the model that was pickled."""
    clf = MLPClassifier(**SMALL).fit(X_IRIS, Y_IRIS)
    clf.set_params(dtype="float64")
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.network_.dtype == clf.network_.dtype == np.float32
    assert restored.predict_proba(X_IRIS).tobytes() == clf.predict_proba(X_IRIS).tobytes()


def test_explain_takes_one_label_with_warm_start() -> None:
    """``warm_start``'s same-classes rule is for ``fit``; ``explain`` refused one sample's label."""
    clf = MLPClassifier(**SMALL, warm_start=True, dtype="float64").fit(X_IRIS, Y_IRIS)
    explained = clf.explain(X_IRIS[0], Y_IRIS[0])
    reference = trace(clf.network_, X_IRIS[:1], [Y_IRIS[0]], learning_rate=0.001)
    assert explained.loss == reference.loss
    with pytest.raises(ValidationError, match="not in classes_"):
        clf.explain(X_IRIS[0], 7)


@pytest.mark.parametrize("kind", ["regression", "multilabel"])
def test_explain_takes_one_samples_row_of_targets(kind: str) -> None:
    """With ``k`` outputs, one sample's targets are ``k`` values (as ``Y[0]``), not ``k`` rows."""
    if kind == "regression":
        Y = X_IRIS[:, 2:]
        model: MLPClassifier | MLPRegressor = MLPRegressor(**SMALL, dtype="float64").fit(X_IRIS, Y)
        targets = Y[:1]
    else:
        Y = (X_IRIS[:, 2:] > X_IRIS[:, 2:].mean(axis=0)).astype(int)
        model = MLPClassifier(**SMALL, dtype="float64").fit(X_IRIS, Y)
        targets = Y[:1].astype(float)
    explained = model.explain(X_IRIS[0], Y[0])
    reference = trace(model.network_, X_IRIS[:1], targets, learning_rate=0.001)
    assert explained.loss == reference.loss
    np.testing.assert_array_equal(explained.output, model.network_.forward(X_IRIS[:1]))


@pytest.mark.parametrize("continuation", ["partial_fit", "warm_start"])
def test_training_on_with_other_outputs_is_refused(continuation: str) -> None:
    """A 2-output network trained on with a 1-column ``y`` broadcast it in the loss (as
    scikit-learn does, silently); a 3-column ``y`` failed with numpy's broadcasting error."""
    reg = MLPRegressor(**SMALL, warm_start=continuation == "warm_start")
    reg.fit(X_IRIS, X_IRIS[:, :2])
    before = [W.copy() for W in reg.network_.weights]
    go_on = reg.partial_fit if continuation == "partial_fit" else reg.fit
    for y in (X_IRIS[:, 0], X_IRIS[:, :3]):
        columns = 1 if y.ndim == 1 else y.shape[1]
        with pytest.raises(
            ValidationError, match=rf"y has {columns} output column\(s\).*n_outputs_=2"
        ):
            go_on(X_IRIS, y)
    for W, old in zip(reg.network_.weights, before, strict=True):
        np.testing.assert_array_equal(W, old)


def test_assigning_complex_coefs_is_refused_before_anything_is_written() -> None:
    """The shape and value checks come first: a complex second matrix failed in ``copyto``
    (a ``TypeError``) after the first had been written."""
    clf = MLPClassifier(**SMALL).fit(X_IRIS, Y_IRIS)
    before = [c.copy() for c in clf.coefs_]
    new = [np.zeros_like(before[0]), before[1].astype(complex)]
    with pytest.raises(ValidationError, match=r"coefs_\[1\] must hold finite real numbers"):
        clf.coefs_ = new
    for coef, old in zip(clf.coefs_, before, strict=True):
        np.testing.assert_array_equal(coef, old)


def test_to_sklearn_after_set_params_activation_predicts_identically() -> None:
    """``to_sklearn`` took the hidden activation from the parameters, not the fitted network: after
    ``set_params(activation='tanh')`` on a ReLU fit, scikit-learn's copy predicted with tanh."""
    clf = MLPClassifier(**SMALL, dtype="float64").fit(X_IRIS, Y_IRIS)
    clf.set_params(activation="tanh")
    theirs = clf.to_sklearn()
    assert theirs.activation == "relu"
    np.testing.assert_allclose(theirs.predict_proba(X_IRIS), clf.predict_proba(X_IRIS), rtol=1e-12)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"random_state": "a"}, r"random_state must be None, an integer in \[0, 2\*\*32 - 1\]"),
        ({"random_state": -1}, r"random_state must be .*; got -1"),
        ({"random_state": np.random.default_rng(0)}, r"random_state must be .*RandomState"),
        ({"hidden_layer_sizes": "10"}, r"hidden_layer_sizes must be an integer or a sequence"),
    ],
)
def test_values_scikit_learn_refuses_are_refused_by_name(params: dict, match: str) -> None:
    """numpy's seeding error named the value, not ``random_state``; a string of digits for
    ``hidden_layer_sizes`` was read character by character (``got '1'``)."""
    with pytest.raises((ValueError, TypeError)):
        neural_network.MLPClassifier(**{**SMALL, **params}).fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValidationError, match=match):
        MLPClassifier(**{**SMALL, **params}).fit(X_IRIS, Y_IRIS)


def test_explain_checks_a_dataframes_feature_names_as_predict_does() -> None:
    """``explain`` turned a DataFrame into an array: a spurious "X does not have valid feature
    names" warning, and columns in another order were explained silently, where ``predict``
    (ours and scikit-learn's) refuses them."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X_IRIS, columns=["sl", "sw", "pl", "pw"])
    clf = MLPClassifier(**SMALL, dtype="float64").fit(frame, Y_IRIS)
    reference = trace(clf.network_, X_IRIS[:1], Y_IRIS[:1], learning_rate=0.001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clf.explain(frame.iloc[:1], Y_IRIS[:1]).loss == reference.loss
        assert clf.explain(frame.iloc[0], Y_IRIS[0]).loss == reference.loss  # a Series: one row
    reordered = frame[["pw", "pl", "sw", "sl"]].iloc[:1]
    sk = neural_network.MLPClassifier(**SMALL).fit(frame, Y_IRIS)
    for predict in (sk.predict, clf.predict, clf.explain):
        with pytest.raises(ValueError, match="same order as they were in fit"):
            predict(reordered)
