"""Scores against scikit-learn's."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from chainrule.engine.metrics import accuracy, confusion_matrix, log_loss, r2_score, rmse
from chainrule.errors import ValidationError


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


@pytest.mark.parametrize(
    ("y_true", "y_pred", "named"),
    [
        ([0, 1, 2], [0, 3, 1], r"y_pred\[1\] = 3 is not a class index in 0\.\.2"),
        ([0, 1, 1.5], [0, 1, 1], r"y_true\[2\] = 1\.5 is not a class index in 0\.\.2"),
        ([0, -1, 1], [0, 1, 1], r"y_true\[1\] = -1 is not a class index in 0\.\.2"),
        ([0, 1, np.nan], [0, 1, 1], r"y_true\[2\] = nan is not a class index in 0\.\.2"),
        ([0, 1, 10**30], [0, 1, 1], r"y_true\[2\] = 1e\+30 is not a class index in 0\.\.2"),
        (["a", "b", "c"], [0, 1, 1], r"y_true must be integer class indices .* dtype str"),
    ],
    ids=["beyond-the-last", "fraction", "negative", "nan", "beyond-int64", "text"],
)
def test_a_label_that_is_no_class_index_is_named(y_true, y_pred, named):
    """Unchecked, class 3 of 3 was counted as the next row's class 0 (true 0, predicted 3 is cell
    0 * 3 + 3, that of true 1, predicted 0), 1.5 as class 1, and -1 failed inside numpy."""
    with pytest.raises(ValidationError, match=named):
        confusion_matrix(y_true, y_pred, 3)
    # log_loss reads its labels as y_true: the same label there is named the same way
    labels = y_pred if "y_pred" in named else y_true
    with pytest.raises(ValidationError, match=named.replace("y_pred", "y_true")):
        log_loss(labels, np.full((3, 3), 1 / 3))


def test_whole_float_labels_count_as_their_classes():
    y_true, y_pred = np.array([0.0, 2.0, 2.0, 1.0]), np.array([0, 2, 1, 1])
    np.testing.assert_array_equal(
        confusion_matrix(y_true, y_pred, 3),
        sk.confusion_matrix(y_true.astype(int), y_pred, labels=range(3)),
    )


def test_accuracy_refuses_shapes_that_would_broadcast():
    """(n,) against (n, 1) compared every token with every other: 5/9 here instead of 1."""
    with pytest.raises(ValidationError, match=r"same shape; got \(3,\) and \(3, 1\)"):
        accuracy([0, 1, 1], [[0], [1], [1]])
    assert accuracy([0, 1, 1], [0, 1, 1]) == sk.accuracy_score([0, 1, 1], [0, 1, 1])
