"""Quality parity with scikit-learn's MLP on its bundled data sets (5-fold CV, standardised).

Same hyper-parameters and random_state for both; chainrule trains in float32 (its default). Run
as a script to print the table (accuracy or R^2, and total fit time per data set).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets, neural_network
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.estimators import MLPClassifier, MLPRegressor

PARAMS = dict(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=300, random_state=0)
CLASSIFICATION = ["iris", "wine", "breast_cancer", "digits"]


def cross_validated(name: str, chainrule: bool) -> tuple[float, float]:
    """(mean test score, total fit seconds) of 5-fold CV for one data set and library."""
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    if name == "diabetes":
        folds: KFold = KFold(5, shuffle=True, random_state=0)
        model = MLPRegressor if chainrule else neural_network.MLPRegressor
    else:
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        model = MLPClassifier if chainrule else neural_network.MLPClassifier
    result = cross_validate(make_pipeline(StandardScaler(), model(**PARAMS)), X, y, cv=folds)
    return float(result["test_score"].mean()), float(result["fit_time"].sum())


@pytest.mark.slow
def test_accuracy_within_one_point_and_no_worse_on_average():
    ours = [cross_validated(name, chainrule=True)[0] for name in CLASSIFICATION]
    theirs = [cross_validated(name, chainrule=False)[0] for name in CLASSIFICATION]
    for name, a, b in zip(CLASSIFICATION, ours, theirs):
        assert abs(a - b) <= 0.01, f"{name}: chainrule {a:.4f}, scikit-learn {b:.4f}"
    assert np.mean(ours) >= np.mean(theirs) - 1e-9


@pytest.mark.slow
def test_diabetes_r2_within_two_hundredths():
    ours, _ = cross_validated("diabetes", chainrule=True)
    theirs, _ = cross_validated("diabetes", chainrule=False)
    assert abs(ours - theirs) <= 0.02


if __name__ == "__main__":
    print("| data set | chainrule | scikit-learn | chainrule fit s | scikit-learn fit s |")
    print("|---|---|---|---|---|")
    for name in [*CLASSIFICATION, "diabetes"]:
        (a, ta), (b, tb) = cross_validated(name, True), cross_validated(name, False)
        print(f"| {name} | {a:.4f} | {b:.4f} | {ta:.2f} | {tb:.2f} |")
