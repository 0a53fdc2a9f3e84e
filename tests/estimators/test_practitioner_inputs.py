"""Mistakes and interruptions of everyday use, each compared with scikit-learn's own MLP on the
same call: a sample weight that is NaN, infinite or negative; a DataFrame with a column of words,
categories or dates; Ctrl-C in a long fit; a regressor whose large targets make it diverge; an
early-stopping split that cannot be made. scikit-learn's messages named no row, no column, or
parameters the caller never set (``test_size``, a class called ``'True'``)."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import neural_network
from sklearn.compose import TransformedTargetRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.errors import DivergenceError, ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor

RNG = np.random.RandomState(0)
X = RNG.randn(40, 3)
Y = (X[:, 0] > 0).astype(int)
SMALL = dict(hidden_layer_sizes=(3,), max_iter=4, random_state=0)


def _weights(row: int, value: float) -> np.ndarray:
    weights = np.ones(len(X))
    weights[row] = value
    return weights


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (np.nan, "Input sample_weight contains NaN."),
        (np.inf, "Input sample_weight contains infinity"),
        (-0.5, "Negative values in data passed to `sample_weight`."),
    ],
    ids=["nan", "inf", "negative"],
)
@pytest.mark.parametrize("container", ["array", "list", "Series"])
def test_a_bad_sample_weight_is_named_by_its_row(value: float, words: str, container: str) -> None:
    """scikit-learn's words start the message; the row and the value follow (it gave neither)."""
    weights: Any = _weights(17, value)
    if container == "list":
        weights = weights.tolist()
    elif container == "Series":
        weights = pd.Series(weights, index=np.arange(len(X)) + 100)
    if value < 0:  # scikit-learn's MLP trains on a negative weight; chainrule refuses it
        neural_network.MLPClassifier(**SMALL).fit(X, Y, sample_weight=weights)
    else:
        with pytest.raises(ValueError, match=re.escape(words)) as theirs:
            neural_network.MLPClassifier(**SMALL).fit(X, Y, sample_weight=weights)
        assert "17" not in str(theirs.value)
    message = rf"^{re.escape(words)}.* got {re.escape(repr(float(value)))} at row 17\b"
    for model in (MLPClassifier(**SMALL), MLPRegressor(**SMALL)):
        with pytest.raises(ValidationError, match=message):
            model.fit(X, X[:, 0] if isinstance(model, MLPRegressor) else Y, sample_weight=weights)
    with pytest.raises(ValidationError, match=message):
        MLPClassifier(**SMALL).partial_fit(X, Y, sample_weight=weights, classes=[0, 1])


def test_a_missing_weight_of_a_nullable_series_is_named_by_its_row() -> None:
    weights = pd.Series([1.0] * 39 + [None], dtype="Float64")
    with pytest.raises(ValidationError, match=r"contains NaN\..* got nan at row 39\b"):
        MLPClassifier(**SMALL).fit(X, Y, sample_weight=weights)


FRAME = pd.DataFrame({"age": X[:, 0], "income": X[:, 1], "score": X[:, 2]})


@pytest.mark.parametrize(
    ("column", "error", "shown"),
    [
        (np.where(Y, "red", "blue"), ValidationError, "'red'"),
        (pd.Categorical(np.where(Y, "red", "blue")), ValidationError, "'red'"),
        (pd.array(np.where(Y, "red", "blue"), dtype="string"), ValidationError, "'red'"),
        (np.where(Y, pd.Timestamp("2024-01-01"), 1.0), TypeError, "Timestamp('2024-01-01"),
    ],
    ids=["text", "category", "string", "object-with-a-date"],
)
def test_a_column_that_is_no_number_is_named(column: Any, error: type, shown: str) -> None:
    """numpy's "could not convert string to float: 'red'" named no column: the column is named,
    in fit and in predict. An object that is no string (a date in a column of objects) stays a
    ``TypeError``, as scikit-learn's estimator checks expect."""
    frame = FRAME.assign(colour=column)
    with pytest.raises((TypeError, ValueError)) as theirs:
        neural_network.MLPClassifier(**SMALL).fit(frame, Y)
    assert "colour" not in str(theirs.value)
    where = rf"^X must hold real numbers; got {re.escape(shown)}.* at row 0, column 'colour' "
    with pytest.raises(error, match=where + r".*OneHotEncoder"):
        MLPClassifier(**SMALL).fit(frame, Y)
    fitted = MLPClassifier(**SMALL).fit(FRAME.assign(colour=Y.astype(float)), Y)
    with pytest.raises(error, match=where):
        fitted.predict(frame)


DAYS = np.datetime64("2024-01-01") + np.arange(len(X)).astype("timedelta64[D]")


@pytest.mark.parametrize(
    ("make", "X_", "y", "what"),
    [
        (MLPClassifier, FRAME.assign(day=DAYS), Y, "X holds dates in column 'day'"),
        (MLPRegressor, DAYS[:, None], X[:, 0], "X holds dates (dtype datetime64[D])"),
        (MLPRegressor, X, pd.Series(DAYS), "y holds dates (dtype datetime64["),
        (MLPRegressor, X, DAYS - DAYS[0], "y holds durations (dtype timedelta64[D])"),
    ],
    ids=["frame-column", "array", "target", "target-durations"],
)
def test_dates_and_durations_are_refused_not_counted_in_their_unit(
    make: type, X_: Any, y: Any, what: str
) -> None:
    """numpy casts a date to a count of its unit (days here, nanoseconds from pandas): the
    network trained on those counts silently, and predicted counts. scikit-learn's MLP fails
    inside numpy on each of these (on an array of dates, in predict, having fitted the counts)."""
    theirs = getattr(neural_network, make.__name__)
    with pytest.raises(TypeError):  # numpy's dtype promotion or ufunc error
        theirs(**SMALL).fit(X_, y).predict(X_)
    with pytest.raises(ValidationError, match=re.escape(what) + ".* convert them first"):
        make(**SMALL).fit(X_, y)


def test_dates_are_class_labels_a_classifier_may_learn() -> None:
    labels = np.where(Y, DAYS[0], DAYS[1])
    model = MLPClassifier(**SMALL).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, DAYS[:2])


def test_a_word_in_an_array_is_named_by_row_and_column() -> None:
    values = X.astype(object)
    values[5, 2] = "n/a"
    with pytest.raises(ValidationError, match=r"got 'n/a' at row 5, column 2 \(could not convert"):
        MLPRegressor(**SMALL).fit(values, X[:, 0])


def test_numbers_written_as_text_still_train_as_numbers() -> None:
    frame = FRAME.assign(score=FRAME["score"].astype(str).astype(object))
    np.testing.assert_array_equal(
        MLPClassifier(**SMALL).fit(frame, Y).predict_proba(frame),
        MLPClassifier(**SMALL).fit(FRAME, Y).predict_proba(FRAME),
    )


def _interrupt_after(model: Any, method: str, calls: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``model.method`` raise KeyboardInterrupt on its call number ``calls + 1``."""
    original = getattr(model, method)
    count = {"n": 0}

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        count["n"] += 1
        if count["n"] > calls:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(model, method, interrupted)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_ctrl_c_keeps_the_last_finished_epoch_as_scikit_learn_keeps_its_model(
    early_stopping: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """scikit-learn catches Ctrl-C in fit, warns "Training interrupted by user." and returns a
    model to use; chainrule's raised KeyboardInterrupt out of fit. Now it warns the same and keeps
    the weights of the last finished epoch: those of the same fit stopped there."""
    params = dict(SMALL, max_iter=50, batch_size=10, early_stopping=early_stopping)
    theirs = neural_network.MLPClassifier(**params)
    _interrupt_after(theirs, "_backprop", 12, monkeypatch)
    with pytest.warns(UserWarning, match="^Training interrupted by user.$"):
        theirs.fit(X, Y)
    ours = MLPClassifier(**params)
    batches = 4  # per epoch: 40 rows (36 beside the validation part) in batches of 10
    _interrupt_after(ours, "_step", 3 * batches + 2, monkeypatch)  # two steps into epoch 4
    with pytest.warns(UserWarning, match="^Training interrupted by user.$") as caught:
        try:
            ours.fit(X, Y)
        except KeyboardInterrupt:  # caught here: out of the test, it would end the whole run
            pytest.fail("fit let Ctrl-C out instead of keeping the model")
    assert caught[0].filename == __file__  # pointed at the caller's line, as ConvergenceWarning
    assert ours.n_iter_ == len(ours.loss_curve_) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stopped = MLPClassifier(**dict(params, max_iter=3)).fit(X, Y)
    for W_ours, W_stopped in zip(ours.network_.weights, stopped.network_.weights, strict=True):
        np.testing.assert_array_equal(W_ours, W_stopped)
    assert ours.loss_curve_ == stopped.loss_curve_
    np.testing.assert_array_equal(ours.predict(X), stopped.predict(X))


def test_a_regressor_diverging_on_large_targets_is_told_to_scale_y() -> None:
    """Targets around 3e5 (prices) make SGD diverge, in scikit-learn too; the advice was to lower
    the rate or standardise X, which here is standard already. Scaling y, as now advised, trains."""
    y = 3e5 + 1e5 * X[:, 0]
    params = dict(hidden_layer_sizes=(10,), solver="sgd", max_iter=50, random_state=0)
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="non-finite parameter"):
        neural_network.MLPRegressor(**params).fit(X, y)
    with pytest.raises(DivergenceError, match=r"diverged.*standardise X and y.*TransformedTarget"):
        MLPRegressor(**params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = (
            TransformedTargetRegressor(
                make_pipeline(StandardScaler(), model), transformer=StandardScaler()
            ).fit(X, y)
            for model in (
                MLPRegressor(**params, dtype="float64"),
                neural_network.MLPRegressor(**params),
            )
        )
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)
    assert ours.score(X, y) > 0


TWO = ["a", "b"] * 5


@pytest.mark.parametrize(
    ("n", "labels", "fraction", "theirs", "ours"),
    [
        pytest.param(
            30,
            ["a"] * 29 + ["b"],
            0.1,
            r"Classes with too few members are: \['True'\]",
            "class 'b' has 1 of the 30",
            id="one-of-a-class",
        ),
        pytest.param(
            10, TWO, 0.1, "test_size = 1 should be", "=0.1 leaves 1 validation", id="small-val"
        ),
        pytest.param(
            10, TWO, 0.95, "train set will be empty", "=0.95 leaves 0 of the 10", id="no-training"
        ),
        pytest.param(
            10,
            TWO,
            0.85,
            "train_size = 1 should be",
            "=0.85 leaves 1 of the 10 samples for training; at least 2 are needed (one per class)",
            id="training-smaller-than-classes",
        ),
    ],
)
def test_an_early_stopping_split_that_cannot_be_made_is_named(
    n: int, labels: list[str], fraction: float, theirs: str, ours: str
) -> None:
    params = dict(SMALL, early_stopping=True, validation_fraction=fraction)
    y = np.array(labels)
    with pytest.raises(ValueError, match=theirs):
        neural_network.MLPClassifier(**params).fit(X[:n], y)
    with pytest.raises(ValidationError, match=re.escape(ours)):
        MLPClassifier(**params).fit(X[:n], y)


def test_a_divergence_restores_the_rate_the_schedule_set_for_the_diverging_epoch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'invscaling' lowers the rate at the end of each epoch (eta_0 / (t + 1)^power_t, t the
    samples seen); an epoch that diverges is undone back to the state it started from, with the
    rate the schedule set for it, not the rate of the epoch before."""
    est = MLPRegressor(
        hidden_layer_sizes=(5,),
        solver="sgd",
        learning_rate="invscaling",
        batch_size=len(X),  # one step per epoch
        max_iter=10,
        random_state=0,
    )
    step = MLPRegressor._step
    steps = []

    def overflowing_third_step(self: Any, *args: Any) -> float:
        steps.append(1)
        if len(steps) == 3:
            raise FloatingPointError("overflow encountered in matmul")
        return step(self, *args)

    monkeypatch.setattr(MLPRegressor, "_step", overflowing_third_step)
    with pytest.raises(DivergenceError, match="iteration 3"):
        est.fit(X, X.sum(axis=1))
    expected = est.learning_rate_init / (2 * len(X) + 1) ** est.power_t  # after 2 epochs
    assert est._optimizer.learning_rate == pytest.approx(expected, rel=1e-12)
