"""The estimators in practitioners' workflows: a polars DataFrame (what scikit-learn's
``set_output(transform="polars")`` hands the next step of a Pipeline), and a fitted model that
is pickled and shipped (joblib's worker processes, a saved model) carrying no training data.

A polars DataFrame failed in every ``fit`` with "'list' object has no attribute 'items'"
(pandas' ``dtypes`` is a Series, polars' a list); scikit-learn's MLP takes it. A model fitted
with sample weights kept the last batch's weights (with early stopping, the validation set's),
so its pickle grew with the training set."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn import neural_network
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.errors import ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor

RNG = np.random.RandomState(0)
X = RNG.randn(60, 3)
Y = (X[:, 0] > 0).astype(int)
SMALL = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)


def _frame() -> object:
    pl = pytest.importorskip("polars")
    return pl.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_polars_dataframe_fits_as_its_array_does() -> None:
    """Feature names as scikit-learn's MLP records them; the numbers those of the array."""
    frame = _frame()
    theirs = neural_network.MLPClassifier(**SMALL).fit(frame, Y)
    ours = MLPClassifier(**SMALL).fit(frame, Y)
    assert list(ours.feature_names_in_) == list(theirs.feature_names_in_) == ["a", "b", "c"]
    on_array = MLPClassifier(**SMALL).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the names match: no "X does not have valid names"
        np.testing.assert_array_equal(ours.predict_proba(frame), on_array.predict_proba(X))
    regressor = MLPRegressor(**SMALL).fit(frame, X[:, 0])
    np.testing.assert_array_equal(
        regressor.predict(frame), MLPRegressor(**SMALL).fit(X, X[:, 0]).predict(X)
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_pipeline_with_polars_output_feeds_the_network() -> None:
    """``set_output(transform="polars")``: the scaler hands a polars DataFrame to the MLP."""
    _frame()
    with sklearn.config_context(transform_output="polars"):
        ours = make_pipeline(StandardScaler(), MLPClassifier(**SMALL)).fit(X, Y)
        theirs = make_pipeline(StandardScaler(), neural_network.MLPClassifier(**SMALL)).fit(X, Y)
        assert ours.predict(X).shape == theirs.predict(X).shape == (len(X),)
    assert list(ours[-1].feature_names_in_) == list(theirs[-1].feature_names_in_)


def test_a_polars_column_of_words_or_dates_is_named() -> None:
    """A word is named by its row and column; dates are refused (scikit-learn's MLP trained on
    them as counts of microseconds, silently)."""
    pl = pytest.importorskip("polars")
    frame = _frame()
    words = frame.with_columns(pl.Series("colour", ["red"] * len(X)))  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match=r"got 'red' at row 0, column 'colour'"):
        MLPClassifier(**SMALL).fit(words, Y)
    dates = frame.with_columns(  # type: ignore[attr-defined]
        pl.Series("day", np.arange(len(X)).astype("datetime64[D]"))
    )
    with pytest.raises(ValidationError, match=r"X holds dates in column 'day'"):
        MLPClassifier(**SMALL).fit(dates, Y)
    with pytest.raises(ValidationError, match=r"y holds dates"):
        MLPRegressor(**SMALL).fit(X, dates["day"])  # type: ignore[index]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fitted_model_pickles_to_the_same_size_whatever_the_training_set() -> None:
    """Sample weights and early stopping: the pickle of a model fitted on 10 times the rows is
    no larger (the weights of 1,000 validation samples were 16 kB more), as scikit-learn's."""
    rng = np.random.RandomState(1)

    def pickled_size(n: int) -> int:
        X_n, weights = rng.randn(n, 3), rng.rand(n) + 0.5
        model = MLPClassifier(early_stopping=True, **SMALL)
        model.fit(X_n, (X_n[:, 0] > 0).astype(int), sample_weight=weights)
        return len(pickle.dumps(model))

    assert abs(pickled_size(10_000) - pickled_size(1_000)) < 500
