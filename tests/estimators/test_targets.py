"""Targets a user gets wrong, refused by name, row and column: a missing value (``None``, as pandas
reads an empty cell), words for a regressor, labels of mixed kinds, a multilabel matrix for a
model fitted on one label per sample (and the other way round). Each failed inside numpy or
scikit-learn with a message that named neither ``y`` nor the row, or named the wrong row."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import load_iris

from chainrule.errors import ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor

X, Y = load_iris(return_X_y=True)
SMALL = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)


def _with(values: np.ndarray, row: int, value: object) -> np.ndarray:
    """``values`` as an object array with ``value`` at ``row``."""
    changed = values.astype(object)
    changed[row] = value
    return changed


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_missing_regression_target_is_named_by_its_row(early_stopping: bool) -> None:
    """``None`` becomes NaN in scikit-learn's check; it was called "too large for
    dtype='float32'" (use float64, it said), and with early stopping the row given was one of the
    shuffled training part. scikit-learn trains on NaN and fails later, naming no row."""
    y = _with(X[:, 0], 7, None)
    with pytest.raises(ValueError, match=r"non-finite parameter weights|Input contains NaN"):
        neural_network.MLPRegressor(**SMALL, early_stopping=early_stopping).fit(X, y)
    reg = MLPRegressor(**SMALL, early_stopping=early_stopping)
    with pytest.raises(ValidationError, match=r"y must hold finite numbers; got nan at row 7, col"):
        reg.fit(X, y)
    fitted = MLPRegressor(**SMALL).fit(X, X[:, 0])
    with pytest.raises(ValidationError, match=r"y must hold finite numbers; got inf at row 0"):
        fitted.explain(X[0], np.inf)


def test_words_as_regression_targets_are_named() -> None:
    """numpy's "could not convert string to float" named neither y nor the row."""
    y = X[:, 0].astype(str)
    y[3] = "n/a"
    with pytest.raises((TypeError, ValueError)):
        neural_network.MLPRegressor(**SMALL).fit(X, y)
    with pytest.raises(ValidationError, match=r"y must hold numbers; got 'n/a' at row 3, column 0"):
        MLPRegressor(**SMALL).fit(X, y)
    np.testing.assert_array_equal(  # numbers written as strings still train, as before
        MLPRegressor(**SMALL).fit(X, X[:, 0].astype(str)).predict(X),
        MLPRegressor(**SMALL).fit(X, X[:, 0]).predict(X),
    )


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "has no class label (None)"),
        (1, "mixes kinds of class labels: 'setosa' (a string) at row 0 and 1 (a number)"),
    ],
    ids=["missing", "mixed"],
)
def test_class_labels_that_cannot_be_sorted_are_named(value: object, problem: str) -> None:
    """numpy's sort of the labels failed with "'<' not supported between instances of ...", as
    scikit-learn's own MLP does, in fit and in partial_fit's ``y`` and ``classes``."""
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[Y]
    y = _with(names, 60, value)
    with pytest.raises(TypeError, match="not supported between instances"):
        neural_network.MLPClassifier(**SMALL).fit(X, y)
    in_y = re.escape(f"y {problem} at row 60")
    with pytest.raises(ValidationError, match=in_y):
        MLPClassifier(**SMALL).fit(X, y)
    classes = np.array(["setosa", value, "virginica"], dtype=object)
    with pytest.raises(ValidationError, match=re.escape(f"classes {problem} at row 1")):
        MLPClassifier(**SMALL).partial_fit(X, names, classes=classes)
    fitted = MLPClassifier(**SMALL).fit(X, names)
    with pytest.raises(ValidationError, match=in_y):
        fitted.partial_fit(X, y)


def test_a_multilabel_matrix_for_a_model_of_single_labels_is_named() -> None:
    """scikit-learn's binariser said "The object was not fitted with multilabel input"; a matrix
    of another width was "y has classes not in classes_". The weights are left as they were."""
    indicator = np.c_[Y == 0, Y == 1, Y == 2].astype(int)
    theirs = neural_network.MLPClassifier(**SMALL).fit(X, Y)
    with pytest.raises(ValueError, match="not fitted with multilabel input"):
        theirs.partial_fit(X, indicator)
    ours = MLPClassifier(**SMALL).fit(X, Y)
    before = [W.copy() for W in ours.network_.weights]
    with pytest.raises(
        ValidationError,
        match=r"y has a matrix of 3 columns; this model was fitted on a label per sample "
        r"\(classes_ is \[0 1 2\]\)",
    ):
        ours.partial_fit(X, indicator)
    for W, old in zip(ours.network_.weights, before, strict=True):
        np.testing.assert_array_equal(W, old)
    multilabel = MLPClassifier(**SMALL, warm_start=True).fit(X, indicator[:, :2])
    fitted_on = "this model was fitted on a multilabel matrix of 2 columns"
    for go_on in (multilabel.partial_fit, multilabel.fit):
        with pytest.raises(ValidationError, match=f"y has a matrix of 3 columns; {fitted_on}"):
            go_on(X, indicator)
        with pytest.raises(ValidationError, match=f"y has a label per sample; {fitted_on}"):
            go_on(X, Y)
    with pytest.raises(ValidationError, match=f"y has a matrix of 3 columns; {fitted_on}"):
        multilabel.explain(X[0], indicator[0])


@pytest.mark.parametrize(
    ("make", "y", "where"),
    [
        (MLPRegressor, _with(X[:, 0], 7, np.nan).astype(float), "nan, is at row 7"),
        (
            MLPRegressor,
            np.column_stack([X[:, 0], _with(X[:, 1], 9, np.inf)]),
            "inf, is at row 9, column 1",
        ),
        (
            MLPClassifier,
            _with(np.array(["a", "b", "c"], dtype=object)[Y], 40, np.nan),
            "nan, is at row 40",
        ),
        (MLPClassifier, _with(Y, 3, np.nan).astype(float), "nan, is at row 3"),
    ],
    ids=["regression", "regression-2d-inf", "text-labels", "number-labels"],
)
def test_a_nan_or_infinite_target_is_named_by_its_row(make, y, where: str) -> None:
    """scikit-learn said "Input y contains NaN." with no row, or for a NaN among text labels
    "Input contains NaN", which does not even say it is y (and a 2-D y with inf reached the
    matrix products). Its words still lead the message, as its estimator checks expect."""
    with pytest.raises(ValidationError) as info:
        make(**SMALL).fit(X, y)
    message = str(info.value)
    assert message.startswith("Input y contains ") and f"The first, {where}: " in message
