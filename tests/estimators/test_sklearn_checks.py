"""scikit-learn's own conformance suite, every check, on small and fast configurations."""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from chainrule.estimators import MLPClassifier, MLPRegressor

# float64: several checks compare two fits (sample weights vs repeated rows, subsets vs the
# whole batch) with float64 tolerances (rtol 1e-7), finer than float32 rounding.
SMALL = dict(hidden_layer_sizes=(5,), max_iter=100, learning_rate_init=0.01, dtype="float64")

ESTIMATORS = [
    MLPClassifier(**SMALL),
    MLPRegressor(**SMALL),
    MLPClassifier(**SMALL, solver="sgd", learning_rate="adaptive", alpha=0.01),
    MLPRegressor(
        **{**SMALL, "learning_rate_init": 0.03}, solver="momentum", nesterovs_momentum=False
    ),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
