"""Training follows scikit-learn's own MLP step for step (float64, same random_state).

chainrule draws the initial weights and shuffles as scikit-learn does, so with the SGD solvers the
two libraries take the same steps: any difference in the loss, the L2 penalty, sample weights,
the schedules, the stopping rule or early stopping shows up in ``coefs_`` and ``loss_curve_``.
Adam differs only in where ``epsilon`` is added, so it is compared loosely.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import neural_network

from chainrule.estimators import MLPClassifier, MLPRegressor

RNG = np.random.RandomState(0)
X = RNG.randn(120, 4)
TARGETS = {
    "multiclass": (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1),
    "binary": np.where(X[:, 0] - X[:, 3] > 0, "yes", "no"),
    "multilabel": np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0.5].astype(int),
    "regression": 2 * X[:, 0] + X[:, 1] * X[:, 2],
    "regression2": np.c_[2 * X[:, 0] + X[:, 1], X[:, 2] - X[:, 3]],
}
WEIGHTS = RNG.randint(0, 4, len(X)).astype(float)


def _pair(task: str) -> tuple[type, type]:
    if task.startswith("regression"):
        return MLPRegressor, neural_network.MLPRegressor
    return MLPClassifier, neural_network.MLPClassifier


def _assert_same_fit(ours, theirs, atol: float) -> None:
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.out_activation_ == theirs.out_activation_
    assert ours.n_layers_ == theirs.n_layers_ and ours.n_outputs_ == theirs.n_outputs_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=0, atol=atol)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@pytest.mark.parametrize("task", sorted(TARGETS))
@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sgd_takes_scikit_learns_steps(task, schedule, early_stopping):
    params = dict(
        hidden_layer_sizes=(7, 3),
        activation="tanh",
        solver="sgd",
        alpha=0.01,
        batch_size=32,
        max_iter=30,
        learning_rate=schedule,
        learning_rate_init=0.05,
        nesterovs_momentum=schedule != "constant",
        tol=0.05,
        n_iter_no_change=2,
        early_stopping=early_stopping,
        random_state=1,
    )
    ours_cls, theirs_cls = _pair(task)
    weights = None if task == "binary" else WEIGHTS
    ours = ours_cls(dtype="float64", **params).fit(X, TARGETS[task], sample_weight=weights)
    theirs = theirs_cls(**params).fit(X, TARGETS[task], sample_weight=weights)
    _assert_same_fit(ours, theirs, atol=1e-12)
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, abs=1e-12)
    if early_stopping:
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, atol=1e-12)
        assert len(ours.validation_loss_curve_) == ours.n_iter_
    else:
        assert ours.validation_scores_ is None and ours.validation_loss_curve_ is None


@pytest.mark.parametrize("activation", ["identity", "logistic", "relu"])
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_plain_sgd_and_partial_fit_follow_scikit_learn(activation, task):
    params = dict(
        hidden_layer_sizes=(6,),
        activation=activation,
        solver="sgd",
        momentum=0.0,
        learning_rate_init=0.02,
        batch_size=20,
        random_state=3,
    )
    ours_cls, theirs_cls = _pair(task)
    ours, theirs = ours_cls(dtype="float64", **params), theirs_cls(**params)
    extra = {"classes": np.unique(TARGETS[task])} if task == "multiclass" else {}
    for start in (0, 40, 80):
        rows = slice(start, start + 40)
        ours.partial_fit(X[rows], TARGETS[task][rows], **extra)
        theirs.partial_fit(X[rows], TARGETS[task][rows], **extra)
    _assert_same_fit(ours, theirs, atol=1e-12)


@pytest.mark.parametrize("task", ["multiclass", "binary", "regression2"])
def test_adam_stays_close_to_scikit_learn(task):
    params = dict(hidden_layer_sizes=(8,), max_iter=40, learning_rate_init=0.01, random_state=0)
    ours_cls, theirs_cls = _pair(task)
    ours = ours_cls(dtype="float64", **params).fit(X, TARGETS[task])
    theirs = theirs_cls(**params).fit(X, TARGETS[task])
    _assert_same_fit(ours, theirs, atol=2e-3)


def test_float32_follows_the_float64_fit():
    params = dict(hidden_layer_sizes=(8,), max_iter=30, learning_rate_init=0.01, random_state=0)
    single = MLPClassifier(**params).fit(X, TARGETS["multiclass"])
    double = MLPClassifier(dtype="float64", **params).fit(X, TARGETS["multiclass"])
    assert single.coefs_[0].dtype == np.float32
    np.testing.assert_allclose(single.loss_curve_, double.loss_curve_, rtol=1e-4)
    np.testing.assert_allclose(single.predict_proba(X), double.predict_proba(X), rtol=0, atol=1e-4)
