"""from_sklearn and to_sklearn: the same weights, the same predictions, both ways."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import load_iris

from chainrule.errors import ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor, from_sklearn

X, Y = load_iris(return_X_y=True)
CASES = {
    "binary": (neural_network.MLPClassifier, MLPClassifier, Y == 1),
    "multiclass": (neural_network.MLPClassifier, MLPClassifier, Y),
    "regression": (neural_network.MLPRegressor, MLPRegressor, X[:, 0] * X[:, 3]),
}
PARAMS = dict(hidden_layer_sizes=(6, 4), activation="tanh", max_iter=30, random_state=0)


def _assert_same_predictions(a, b, tolerance: float) -> None:
    if hasattr(a, "predict_proba"):
        np.testing.assert_array_equal(a.predict(X), b.predict(X))
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=tolerance)
        np.testing.assert_allclose(
            a.predict_log_proba(X), b.predict_log_proba(X), rtol=tolerance, atol=tolerance
        )
    else:
        np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=tolerance)


@pytest.mark.parametrize("case", sorted(CASES))
def test_from_sklearn_predicts_identically(case):
    sk_cls, ours_cls, y = CASES[case]
    theirs = sk_cls(**PARAMS).fit(X, y)
    ours = from_sklearn(theirs)
    assert type(ours) is ours_cls and ours.dtype == "float64"
    assert ours.get_params() == {**theirs.get_params(), "dtype": "float64"}
    _assert_same_predictions(ours, theirs, 1e-12)
    assert ours.loss_curve_ == theirs.loss_curve_ and ours.n_iter_ == theirs.n_iter_
    # the converted model trains on, as scikit-learn's would with a fresh optimizer
    ours.partial_fit(X, y)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_sklearn_predicts_identically(case, dtype):
    _, ours_cls, y = CASES[case]
    ours = ours_cls(**PARAMS, dtype=dtype).fit(X, y)
    theirs = ours.to_sklearn()
    assert isinstance(theirs, neural_network.MLPClassifier | neural_network.MLPRegressor)
    _assert_same_predictions(ours, theirs, 1e-12 if dtype == "float64" else 1e-5)
    theirs.partial_fit(X, y)  # a genuinely fitted scikit-learn model
    round_trip = from_sklearn(ours.to_sklearn())
    for a, b in zip(round_trip.network_.weights, ours.network_.weights):
        np.testing.assert_array_equal(a, b)


def test_conversion_errors():
    with pytest.raises(ValidationError, match=r"needs a fitted sklearn\.neural_network"):
        from_sklearn(object())
    with pytest.raises(ValidationError, match="no 'leaky_relu'"):
        MLPClassifier(activation="leaky_relu", max_iter=2).fit(X, Y).to_sklearn()
    poisson = neural_network.MLPRegressor(loss="poisson", max_iter=2).fit(X, np.abs(X[:, 0]))
    with pytest.raises(ValidationError, match="'exp' has no chainrule counterpart"):
        from_sklearn(poisson)


def test_to_sklearn_after_set_params_hidden_layer_sizes_trains_on_as_ours() -> None:
    """``to_sklearn`` took ``hidden_layer_sizes`` from the parameters, not the fitted network:
    after ``set_params(hidden_layer_sizes=(8, 8))`` on a one-layer fit, scikit-learn's copy
    claimed two layers and its ``partial_fit`` failed with an ``AttributeError``."""
    params = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, max_iter=5, random_state=0)
    ours = MLPClassifier(**params, dtype="float64").fit(X, Y)
    ours.set_params(hidden_layer_sizes=(8, 8))
    theirs = ours.to_sklearn()
    assert theirs.hidden_layer_sizes == (5,)
    theirs.partial_fit(X, Y)
    with pytest.raises(ValidationError, match=r"hidden_layer_sizes=\(8, 8\) .* differ from the"):
        ours.partial_fit(X, Y)  # training on needs the fitted layers
    ours.set_params(hidden_layer_sizes=(5,)).partial_fit(X, Y)
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
