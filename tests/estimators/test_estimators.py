"""The estimators in scikit-learn's machinery, their extra attributes and their errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.base import clone
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.engine import Network, Trace, trace
from chainrule.errors import ChainruleError, ValidationError
from chainrule.estimators import MLPClassifier, MLPRegressor

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
FAST = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=60, random_state=0)


def test_pipeline_cross_val_score_matches_scikit_learn():
    def scores(estimator):
        return cross_val_score(make_pipeline(StandardScaler(), estimator), X_IRIS, Y_IRIS, cv=3)

    ours = scores(MLPClassifier(**FAST))
    theirs = scores(neural_network.MLPClassifier(**FAST))
    assert ours.shape == (3,)
    np.testing.assert_allclose(ours, theirs, atol=0.04)
    assert ours.mean() > 0.8


def test_grid_search_picks_from_the_grid_and_refits():
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(**FAST)),
        {"mlpclassifier__alpha": [1e-4, 1.0], "mlpclassifier__hidden_layer_sizes": [(2,), (8,)]},
        cv=3,
    ).fit(X_IRIS, Y_IRIS)
    assert search.best_params_["mlpclassifier__hidden_layer_sizes"] in [(2,), (8,)]
    best = search.best_estimator_[-1]
    assert best.network_.sizes[1] == search.best_params_["mlpclassifier__hidden_layer_sizes"][0]
    assert search.score(X_IRIS, Y_IRIS) > 0.8


def test_clone_copies_parameters_not_the_fit():
    fitted = MLPClassifier(**FAST, dtype="float64").fit(X_IRIS, Y_IRIS)
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "network_")
    refitted = copy.fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(refitted.coefs_[0], fitted.coefs_[0])


def test_fitted_attributes_are_views_of_the_engine_weights():
    clf = MLPClassifier(**FAST).fit(X_IRIS, Y_IRIS)
    assert isinstance(clf.network_, Network)
    assert clf.network_.sizes == [4, 8, 3]
    assert [c.shape for c in clf.coefs_] == [(4, 8), (8, 3)]
    assert [b.shape for b in clf.intercepts_] == [(8,), (3,)]
    for W, coef, intercept in zip(clf.network_.weights, clf.coefs_, clf.intercepts_):
        np.testing.assert_array_equal(W, np.column_stack([coef.T, intercept]))
        assert np.shares_memory(coef, W) and np.shares_memory(intercept, W)
    assert clf.n_features_in_ == 4 and clf.n_layers_ == 3 and clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax" and list(clf.classes_) == [0, 1, 2]
    assert len(clf.loss_curve_) == clf.n_iter_ and clf.best_loss_ == min(clf.loss_curve_)
    # predict_proba is the engine's forward pass, softmax included
    np.testing.assert_allclose(clf.predict_proba(X_IRIS), clf.network_.forward(X_IRIS))


def test_explain_is_the_engine_trace():
    names = np.array(["setosa", "versicolor", "virginica"])
    clf = MLPClassifier(**FAST, dtype="float64").fit(X_IRIS, names[Y_IRIS])
    explained = clf.explain(X_IRIS[0], names[Y_IRIS[0]])  # labels as fit took them
    reference = trace(clf.network_, X_IRIS[:1], [Y_IRIS[0]], learning_rate=0.01)
    assert explained.loss == reference.loss and explained.y.tolist() == [Y_IRIS[0]]
    assert isinstance(explained, Trace)
    np.testing.assert_allclose(explained.output, clf.predict_proba(X_IRIS[:1]))
    for ours, theirs in zip(explained.layers, reference.layers):
        np.testing.assert_array_equal(ours.dL_dW, theirs.dL_dW)
    assert clf.explain(X_IRIS[:2]).layers[-1].dL_dW is None  # forward only without y
    with pytest.raises(ValueError, match="4 features"):
        clf.explain(X_IRIS[0, :3])
    reg = MLPRegressor(**FAST).fit(X_IRIS[:, :3], X_IRIS[:, 3])
    step = reg.explain(X_IRIS[5, :3], X_IRIS[5, 3])
    assert step.loss_name == "mse" and step.layers[-1].W_updated.shape == (1, 9)


def test_binary_and_multilabel_outputs():
    y = np.where(Y_IRIS == 2, "virginica", "other")
    clf = MLPClassifier(**FAST).fit(StandardScaler().fit_transform(X_IRIS), y)
    assert clf.out_activation_ == "logistic" and clf.network_.sizes[-1] == 1
    proba = clf.predict_proba(StandardScaler().fit_transform(X_IRIS))
    assert proba.shape == (150, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert set(clf.predict(X_IRIS)) <= {"virginica", "other"}
    np.testing.assert_allclose(
        clf.predict_log_proba(X_IRIS[:5]), np.log(clf.predict_proba(X_IRIS[:5])), rtol=1e-6
    )

    Xm, Ym = make_multilabel_classification(n_samples=80, n_classes=3, random_state=0)
    multi = MLPClassifier(**FAST).fit(Xm, Ym)
    assert multi.out_activation_ == "logistic" and multi.network_.activations[-1] == "sigmoid"
    assert multi.predict(Xm).shape == (80, 3) and multi.predict_proba(Xm).shape == (80, 3)


def test_sample_weight_of_two_is_a_repeated_row_in_float32_too():
    rng = np.random.RandomState(1)
    X = rng.randn(30, 3)
    y = (X[:, 0] > 0).astype(int)
    weights = rng.randint(0, 3, 30)
    params = dict(hidden_layer_sizes=(4,), max_iter=15, learning_rate_init=0.01, random_state=0)
    weighted = MLPClassifier(**params).fit(X, y, sample_weight=weights)
    repeated = MLPClassifier(**params).fit(X.repeat(weights, 0), y.repeat(weights))
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=0, atol=1e-5
    )
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-5)


def test_regressor_loss_is_half_the_squared_error():
    rng = np.random.RandomState(0)
    X = rng.randn(50, 2)
    Y = np.c_[X[:, 0] - 2 * X[:, 1], X[:, 1]]
    # a step too small to move the weights: the loss reported is that of the fitted model
    reg = MLPRegressor(
        hidden_layer_sizes=(4,),
        alpha=0.0,
        max_iter=1,
        solver="sgd",
        momentum=0.0,
        learning_rate_init=1e-12,
        dtype="float64",
        random_state=0,
    ).fit(X, Y)
    half_mse = 0.5 * np.mean((reg.predict(X) - Y) ** 2)
    assert reg.loss_curve_[0] == pytest.approx(half_mse, rel=1e-9)
    assert reg.predict(X).shape == (50, 2)
    single = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, Y[:, 0])
    assert single.predict(X).shape == (50,)
    assert single.score(X, Y[:, 0]) == pytest.approx(
        1 - np.sum((single.predict(X) - Y[:, 0]) ** 2) / np.sum((Y[:, 0] - Y[:, 0].mean()) ** 2),
        rel=1e-5,
    )


def test_pickle_round_trip_keeps_training():
    clf = MLPClassifier(**FAST).fit(X_IRIS, Y_IRIS)
    clone_ = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone_.predict_proba(X_IRIS), clf.predict_proba(X_IRIS))
    clone_.partial_fit(X_IRIS, Y_IRIS)
    clf.partial_fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(clone_.coefs_[0], clf.coefs_[0])


def test_warm_start_continues_from_the_last_weights():
    clf = MLPClassifier(**{**FAST, "max_iter": 5}, warm_start=True).fit(X_IRIS, Y_IRIS)
    first = clf.coefs_[0].copy()
    network = clf.network_
    clf.fit(X_IRIS, Y_IRIS)
    assert clf.network_ is network and not np.array_equal(first, clf.coefs_[0])
    with pytest.raises(ValidationError, match="same classes"):
        clf.fit(X_IRIS[:100], Y_IRIS[:100])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"solver": "lbfgs"}, r"solver must be one of 'adam', 'momentum', 'sgd'; got 'lbfgs'"),
        ({"activation": "softplus"}, "activation must be one of .*'leaky_relu'"),
        ({"alpha": -1.0}, r"alpha must be a real number in \[0.0, inf\); got -1.0"),
        ({"hidden_layer_sizes": (4, 0)}, r"hidden_layer_sizes\[1\] must be an integer >= 1"),
        ({"batch_size": 0}, "batch_size must be 'auto' or an integer >= 1; got 0"),
        ({"learning_rate": "cosine"}, "learning_rate must be one of"),
        ({"learning_rate_init": 0.0}, "learning_rate_init must be a real number in"),
        ({"momentum": 1.5}, "momentum must be"),
        ({"max_iter": 0}, "max_iter must be an integer >= 1; got 0"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be an integer >= 1 or numpy.inf"),
        ({"dtype": "float16"}, "dtype must be one of 'float32', 'float64'"),
        ({"shuffle": "yes"}, "shuffle must be True or False"),
    ],
)
def test_bad_hyper_parameters_are_named_in_fit(params, match):
    clf = MLPClassifier(**params)  # scikit-learn's convention: accepted here, checked in fit
    with pytest.raises(ChainruleError, match=match):
        clf.fit(X_IRIS, Y_IRIS)


def test_lbfgs_error_names_the_alternatives():
    with pytest.raises(ValidationError, match="use 'adam', 'sgd' or 'momentum'"):
        MLPRegressor(solver="lbfgs").fit(X_IRIS, X_IRIS[:, 0])
    with pytest.raises(ValidationError, match="'poisson' needs an exponential output"):
        MLPRegressor(loss="poisson").fit(X_IRIS, X_IRIS[:, 0])


def test_partial_fit_needs_classes_first_and_no_early_stopping():
    with pytest.raises(ValidationError, match="classes must be passed on the first call"):
        MLPClassifier(**FAST).partial_fit(X_IRIS, Y_IRIS)
    with pytest.raises(ValidationError, match="early_stopping"):
        MLPClassifier(**FAST, early_stopping=True).partial_fit(X_IRIS, Y_IRIS, classes=[0, 1, 2])
    clf = MLPClassifier(**FAST).partial_fit(X_IRIS[:50], Y_IRIS[:50], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.n_iter_ == 1
    with pytest.raises(ValidationError, match="not in classes_"):
        clf.partial_fit(X_IRIS, Y_IRIS + 1)


def test_momentum_solver_is_sklearns_sgd():
    params = dict(hidden_layer_sizes=(5,), max_iter=10, random_state=0, dtype="float64")
    a = MLPClassifier(solver="momentum", **params).fit(X_IRIS, Y_IRIS)
    b = MLPClassifier(solver="sgd", **params).fit(X_IRIS, Y_IRIS)
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


@pytest.mark.parametrize("floating_point_errors", ["raise", "ignore"])
def test_divergence_is_one_clear_error(floating_point_errors):
    rng = np.random.RandomState(0)
    X = rng.randn(40, 3) * 100
    reg = MLPRegressor(
        hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=10.0, max_iter=50, random_state=0
    )
    with (
        np.errstate(all=floating_point_errors),
        pytest.raises(
            ChainruleError, match=r"training diverged in iteration .*Lower learning_rate_init"
        ),
    ):
        reg.fit(X, X[:, 0] ** 2)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fitted_model_keeps_its_dtype_until_the_next_fit() -> None:
    """``set_params(dtype=...)`` is a hyper-parameter for the next fit, as in scikit-learn: the
    fitted network keeps predicting, and training further, in the dtype it was fitted in."""
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    clf.set_params(dtype="float64")
    assert clf.predict_proba(X).tobytes() == before.tobytes()
    clf.partial_fit(X, y)
    assert clf.network_.dtype == np.float32
    clf.fit(X, y)  # a new fit: the new dtype
    assert clf.network_.dtype == np.float64 and clf.predict_proba(X).dtype == np.float64


def test_targets_too_large_for_float32_are_named() -> None:
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(ValidationError, match=r"y has values too large for dtype='float32'.*row 0"):
        reg.fit([[1.0], [2.0]], [1e39, 2.0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_momentum_may_be_one_as_in_scikit_learn() -> None:
    X, y = load_iris(return_X_y=True)
    for Estimator in (MLPClassifier, neural_network.MLPClassifier):
        Estimator(solver="sgd", momentum=1.0, max_iter=2, learning_rate_init=1e-4).fit(X, y)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_assigning_coefs_and_intercepts_changes_the_model_as_in_scikit_learn() -> None:
    X, y = load_iris(return_X_y=True)
    ours = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0, dtype="float64")
    theirs = neural_network.MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=1)
    ours.fit(X, y)
    theirs.fit(X, y)
    ours.coefs_ = [c.copy() for c in theirs.coefs_]
    ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-12)
    with pytest.raises(
        ValidationError, match=r"coefs_\[1\] must have shape \(5, 3\); got \(3, 5\)"
    ):
        ours.coefs_ = [theirs.coefs_[0], theirs.coefs_[1].T]
    with pytest.raises(ValidationError, match="intercepts_ needs 2 arrays"):
        ours.intercepts_ = theirs.intercepts_[:1]
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-12)
