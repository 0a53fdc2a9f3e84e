"""A diverging fit stops with the weights of its last good epoch, not with NaN or inf."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.errors import DivergenceError
from chainrule.estimators import MLPClassifier, MLPRegressor


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) * 1e3


def _regressor(max_iter: int) -> MLPRegressor:
    return MLPRegressor(
        hidden_layer_sizes=(8,),
        activation="identity",
        solver="sgd",
        learning_rate_init=1e-3,
        batch_size=8,
        momentum=0.0,
        max_iter=max_iter,
        random_state=0,
        dtype="float64",
    )


def test_diverging_regression_restores_the_last_good_epoch() -> None:
    X, y = _data()
    model = _regressor(max_iter=50)
    with pytest.raises(DivergenceError, match="learning_rate_init") as caught:
        model.fit(X, y)
    good_epochs = caught.value.epoch
    assert good_epochs >= 1
    assert all(np.isfinite(W).all() for W in model.network_.weights)
    # The same fit stopped after its last good epoch leaves exactly these weights.
    reference = _regressor(max_iter=good_epochs)
    with pytest.warns(Warning, match="Maximum iterations"):
        reference.fit(X, y)
    for restored, expected in zip(model.network_.weights, reference.network_.weights):
        np.testing.assert_array_equal(restored, expected)


def test_classifier_weights_stay_finite_after_divergence() -> None:
    X, y = _data()
    labels = (y > 0).astype(int)
    model = MLPClassifier(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=1e12,
        momentum=0.0,
        max_iter=50,
        random_state=0,
        dtype="float64",
    )
    with pytest.raises(DivergenceError):
        model.fit(X * 1e150, labels)
    assert all(np.isfinite(W).all() for W in model.network_.weights)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_partial_fit_after_a_divergence_goes_on_from_the_last_good_state() -> None:
    """Adam's moments are restored with the weights: a diverged partial_fit, then one at the old
    rate, lands where a model that never diverged lands."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)

    def model() -> MLPClassifier:
        m = MLPClassifier(
            hidden_layer_sizes=(6,), batch_size=10, random_state=0, shuffle=False, dtype="float64"
        )
        return m.partial_fit(X, y, classes=[0, 1])

    calm, diverged = model(), model()
    rate = diverged._optimizer.learning_rate  # partial_fit keeps its optimizer and its rate
    diverged._optimizer.learning_rate = 1e307
    with pytest.raises(DivergenceError):
        diverged.partial_fit(X, y)  # the first step's weights are ~1e307, the second overflows
    diverged._optimizer.learning_rate = rate
    calm.partial_fit(X, y)
    diverged.partial_fit(X, y)
    for W_calm, W_diverged in zip(calm.network_.weights, diverged.network_.weights, strict=True):
        np.testing.assert_array_equal(W_diverged, W_calm)


def test_weights_that_overflow_in_the_last_step_of_an_epoch_leave_it_uncounted() -> None:
    """Overflow in an epoch's last step is found by the check of the weights after the epoch,
    which came after the epoch was counted: the error said "iteration 2" and ``epoch=1``, and
    ``n_iter_``, ``t_`` and ``loss_curve_`` counted the diverged epoch, while the weights restored
    were those from before it (here the initial weights)."""
    X, y = _data()
    model = _regressor(max_iter=5).set_params(learning_rate_init=1e305, batch_size=len(X))
    with (
        np.errstate(all="ignore"),
        pytest.raises(
            DivergenceError, match="diverged in iteration 1: the weights became non-finite"
        ) as caught,
    ):
        model.fit(X, y * 100)  # one step per epoch: it is the last one
    assert caught.value.epoch == model.n_iter_ == model.t_ == 0 and model.loss_curve_ == []
    rs = np.random.RandomState(0)  # scikit-learn's initial weights: Glorot's uniform bound
    for coef, intercept in zip(model.coefs_, model.intercepts_, strict=True):
        bound = np.sqrt(6 / sum(coef.shape))
        np.testing.assert_array_equal(coef, rs.uniform(-bound, bound, coef.shape))
        np.testing.assert_array_equal(intercept, rs.uniform(-bound, bound, intercept.shape))
