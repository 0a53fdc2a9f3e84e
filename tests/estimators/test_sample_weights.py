"""Sample weights that are all different (importance weights, not counts): the weighted loss is
computed per token in one vectorised pass (it was computed once per distinct weight, one engine
call each, which made such a fit about 30 times slower than an unweighted one; the benchmarks,
not a timed test, are where speed is measured)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import neural_network

from chainrule.engine.losses import get_loss
from chainrule.estimators import MLPClassifier, MLPRegressor
from chainrule.estimators._loss import SampleWeightedLoss

RNG = np.random.RandomState(0)
X = RNG.randn(90, 3)
TARGETS = {
    "multiclass": (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5),
    "binary": X[:, 0] - X[:, 2] > 0,
    "multilabel": np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int),
    "regression": np.c_[X[:, 0] - X[:, 1], X[:, 2] ** 2],
}
WEIGHTS = RNG.uniform(0.1, 3.0, len(X))
WEIGHTS[::9] = 0.0  # zero weights too: those tokens count for nothing


@pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy", "mse"])
def test_weighted_loss_is_the_weighted_mean_of_each_tokens_engine_loss(name: str) -> None:
    e = RNG.randn(12, 3) * 4
    if name == "cross_entropy":
        y = RNG.randint(0, 3, 12)
    elif name == "binary_cross_entropy":
        y = RNG.randint(0, 2, (12, 3)).astype(float)
    else:
        y = RNG.randn(12, 3)
    base = get_loss(name)
    each = np.array([base.value_from_excitation(e[i : i + 1], y[i : i + 1]) for i in range(12)])
    np.testing.assert_allclose(base.token_losses(e, y), each, rtol=1e-12)
    weights = RNG.uniform(0, 2, 12)
    weights[3] = 0.0
    loss = SampleWeightedLoss(base, n_outputs=3)
    loss.weigh(weights)
    scale = 0.5 if name == "mse" else 1.0  # scikit-learn reports half the squared error
    expected = scale * np.dot(weights, each) / weights.sum()
    assert loss.value_from_excitation(e, y) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("task", sorted(TARGETS))
def test_distinct_weights_follow_scikit_learn(task: str) -> None:
    params = dict(
        hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.05, max_iter=8, random_state=0
    )
    if task == "regression":
        ours, theirs = (
            MLPRegressor(**params, dtype="float64"),
            neural_network.MLPRegressor(**params),
        )
    else:
        ours = MLPClassifier(**params, dtype="float64")
        theirs = neural_network.MLPClassifier(**params)
    ours.fit(X, TARGETS[task], sample_weight=WEIGHTS)
    theirs.fit(X, TARGETS[task], sample_weight=WEIGHTS)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=0, atol=1e-12)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
