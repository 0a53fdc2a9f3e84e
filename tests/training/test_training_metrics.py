"""Scores against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from chainrule.engine.metrics import accuracy, confusion_matrix, log_loss, r2_score, rmse


def test_classification_scores_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    proba = rng.dirichlet(np.ones(4), size=200)
    predicted = proba.argmax(axis=1)
    assert accuracy(y, predicted) == sk.accuracy_score(y, predicted)
    assert log_loss(y, proba) == pytest.approx(sk.log_loss(y, proba, labels=range(4)), rel=1e-12)
    np.testing.assert_array_equal(
        confusion_matrix(y, predicted, 4), sk.confusion_matrix(y, predicted, labels=range(4))
    )


def test_log_loss_of_a_certain_wrong_answer_is_large_but_finite():
    assert 700 < log_loss([0], [[0.0, 1.0]]) < 750


@pytest.mark.parametrize("outputs", [1, 3])
def test_regression_scores_match_sklearn(outputs):
    rng = np.random.default_rng(outputs)
    y = rng.normal(size=(50, outputs))
    predicted = y + 0.3 * rng.normal(size=(50, outputs))
    assert r2_score(y, predicted) == pytest.approx(sk.r2_score(y, predicted), rel=1e-12)
    assert rmse(y, predicted) == pytest.approx(np.sqrt(sk.mean_squared_error(y, predicted)))


def test_r2_of_a_constant_target():
    assert r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert r2_score([2.0, 2.0], [2.0, 3.0]) == 0.0
