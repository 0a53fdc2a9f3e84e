"""Scores refuse what scikit-learn refuses instead of returning a number for it.

``r2_score``/``rmse`` broadcast a ``(n, 2)`` target against ``(n, 1)`` predictions and scored
the result; a NaN target made ``r2_score`` 0.0; ``log_loss`` clipped "probabilities" above 1 and
returned NaN for NaN ones. scikit-learn raises on each; where it scores, the numbers agree.
"""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm

from chainrule.engine import metrics
from chainrule.errors import ValidationError

rng = np.random.default_rng(0)
TARGET = rng.normal(size=(30, 2))
PREDICTED = TARGET + 0.3 * rng.normal(size=(30, 2))


@pytest.mark.parametrize("score", [metrics.r2_score, metrics.rmse])
def test_other_widths_are_refused_as_scikit_learn_refuses_them(score):
    with pytest.raises(ValueError):
        skm.r2_score(TARGET, PREDICTED[:, :1])
    with pytest.raises(ValidationError, match=r"y_true has 2 column.* y_pred has 1"):
        score(TARGET, PREDICTED[:, :1])


def test_a_column_and_a_vector_are_one_output_as_in_scikit_learn():
    t, p = TARGET[:, 0], PREDICTED[:, :1]
    assert metrics.r2_score(t, p) == pytest.approx(skm.r2_score(t, p), rel=1e-12)
    assert metrics.rmse(t, p) == pytest.approx(skm.root_mean_squared_error(t, p), rel=1e-12)


@pytest.mark.parametrize("score", [metrics.r2_score, metrics.rmse])
def test_a_nan_target_is_named_not_scored(score):
    target = TARGET[:, 0].copy()
    target[4] = np.nan
    with pytest.raises(ValueError):
        skm.r2_score(target, PREDICTED[:, 0])
    with pytest.raises(ValidationError, match=r"y_true has non-finite values.*row 4"):
        score(target, PREDICTED[:, 0])


def test_text_is_named_not_a_numpy_traceback():
    with pytest.raises(ValidationError, match="y_true must hold real numbers"):
        metrics.rmse(["a", "b"], [1.0, 2.0])


@pytest.mark.parametrize(
    ("proba", "message"),
    [
        ([[0.5, 0.5], [2.0, 8.0]], r"proba\[1, 0\] = 2.0 is not a probability"),
        ([[np.nan, 1.0], [0.2, 0.8]], "proba has non-finite values"),
        ([["a", "b"], ["c", "d"]], "proba must hold real numbers"),
    ],
)
def test_log_loss_refuses_what_is_no_probability(proba, message):
    with pytest.raises(ValueError):
        skm.log_loss([0, 1], proba)
    with pytest.raises(ValidationError, match=message):
        metrics.log_loss([0, 1], proba)


def test_log_loss_of_probabilities_is_scikit_learns():
    proba = rng.dirichlet([1, 1, 1], 20)
    y = rng.integers(0, 3, 20)
    assert metrics.log_loss(y, proba) == pytest.approx(skm.log_loss(y, proba, labels=[0, 1, 2]))


@pytest.mark.parametrize("n_classes", [0, 2.0, True])
def test_confusion_matrix_needs_a_whole_number_of_classes(n_classes):
    with pytest.raises(ValidationError, match="n_classes must be an integer >= 1"):
        metrics.confusion_matrix([0], [0], n_classes)
