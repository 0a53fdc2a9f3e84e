"""Folds and trials, against scikit-learn's splitters, scalers and metrics."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error
from sklearn.metrics import r2_score as sk_r2_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from chainrule.engine import Network, Trainer, make_optimizer
from chainrule.sweeps import (
    SweepConfigError,
    load_config,
    make_trials,
    prepare_data,
    r2_score,
    run_trial,
    stratified_kfold,
)


@pytest.mark.parametrize(
    ("n_per_class", "folds"), [((50, 50, 50), 3), ((7, 12, 30), 4), ((5, 6), 5)]
)
def test_stratified_folds_split_each_class_as_evenly_as_sklearn(
    n_per_class: tuple[int, ...], folds: int
) -> None:
    y = np.repeat(np.arange(len(n_per_class)), n_per_class)
    np.random.default_rng(0).shuffle(y)
    fold = stratified_kfold(y, folds, seed=1)
    assert fold.shape == y.shape and set(fold.tolist()) == set(range(folds))
    reference = list(StratifiedKFold(folds, shuffle=True, random_state=1).split(y[:, None], y))
    for c in range(len(n_per_class)):
        ours = sorted(np.bincount(fold[y == c], minlength=folds).tolist())
        theirs = sorted(int(np.sum(y[test] == c)) for _, test in reference)
        assert ours == theirs
    sizes = np.bincount(fold, minlength=folds)
    assert sizes.max() - sizes.min() <= 1
    assert np.array_equal(fold, stratified_kfold(y, folds, seed=1))
    assert not np.array_equal(fold, stratified_kfold(y, folds, seed=2))


def test_unstratified_folds_for_regression() -> None:
    fold = stratified_kfold(np.linspace(0, 1, 23), 5, seed=0, stratify=False)
    assert sorted(np.bincount(fold).tolist()) == [4, 4, 5, 5, 5]


def test_too_few_members_of_a_class_is_an_error() -> None:
    with pytest.raises(
        SweepConfigError, match="folds = 4 but class 1 has only 3 samples; use folds <= 3"
    ):
        stratified_kfold(np.array([0, 0, 0, 0, 1, 1, 1]), 4, seed=0)


def test_the_advice_names_the_smallest_class() -> None:
    with pytest.raises(SweepConfigError, match=r"class 2 has only 2 samples; use folds <= 2$"):
        stratified_kfold(np.array([0, 0, 0, 1, 1, 1, 2, 2]), 4, seed=0)


@pytest.mark.parametrize(
    ("y", "stratify", "found", "need"),
    [
        ([0, 0, 0, 1], True, "class 'b' has only 1 sample", "2 samples of every class"),
        ([0.5], False, "the data set has only 1 sample", "2 samples (folds >= 2)"),
    ],
)
def test_one_sample_is_too_small_a_data_set_not_a_hint_to_use_one_fold(
    y: list[float], stratify: bool, found: str, need: str
) -> None:
    with pytest.raises(SweepConfigError) as info:
        stratified_kfold(np.array(y), 3, seed=0, stratify=stratify, classes=["a", "b"])
    message = str(info.value)
    assert message.startswith(f"folds = 3 but {found}; cross-validation needs at least {need}")
    assert message.endswith("so the data set is too small to sweep")
    assert "folds <= 1" not in message


@pytest.mark.parametrize("seed", range(3))
def test_r2_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, prediction = rng.normal(size=20), rng.normal(size=20)
    assert r2_score(y, prediction) == pytest.approx(sk_r2_score(y, prediction), abs=1e-12)
    assert r2_score(np.ones(3), np.ones(3)) == sk_r2_score(np.ones(3), np.ones(3)) == 1.0
    assert r2_score(np.ones(3), np.zeros(3)) == sk_r2_score(np.ones(3), np.zeros(3)) == 0.0


PARAMS = {"hidden_layers": [6], "activation": "tanh", "optimizer": "adam",
          "learning_rate": 0.02, "l2": 0.001, "batch_size": 16, "epochs": 8}  # fmt: skip


def replicate_fold(
    X: np.ndarray, y: np.ndarray, train: np.ndarray, seed: int, k: int, output: str, n_out: int
) -> tuple[np.ndarray, np.ndarray]:
    """One fold by hand: sklearn's scaler fitted on the training fold only, then the engine."""
    scaler = StandardScaler().fit(X[train])
    rng = np.random.default_rng([seed, k])
    net = Network([X.shape[1], 6, n_out], ["tanh", output], seed=rng)
    optimizer = make_optimizer("adam", 0.02, weight_decay=0.001)
    Trainer(net, scaler.transform(X[train]), y[train], optimizer=optimizer, batch_size=16,
            seed=rng).fit(8)  # fmt: skip
    return net.forward(scaler.transform(X[~train])).astype(np.float64), net.predict(
        scaler.transform(X[~train])
    )


def test_a_classification_trial_matches_a_replica_scored_by_sklearn() -> None:
    cfg = load_config({"dataset": "iris", "folds": 3, "seed": 5, "space": PARAMS})
    data = prepare_data(cfg)
    (spec,) = make_trials(cfg, data)
    result = run_trial(data, spec)
    assert result.status == "ok" and result.score_name == "accuracy"
    scores, losses = [], []
    for k in range(3):
        train = data.fold != k
        proba, labels = replicate_fold(data.X, data.y, train, 5, k, "softmax", 3)
        scores.append(accuracy_score(data.y[~train], labels))
        proba /= proba.sum(axis=1, keepdims=True)  # float32 sums are 1 only to ~1e-7
        losses.append(log_loss(data.y[~train], proba, labels=[0, 1, 2]))
    assert result.fold_scores == pytest.approx(scores, abs=1e-12)
    assert result.fold_losses == pytest.approx(losses, rel=1e-4)
    assert result.score_mean == pytest.approx(np.mean(scores), abs=1e-12)
    assert result.score_std == pytest.approx(np.std(scores), abs=1e-12)
    assert result.loss_mean == pytest.approx(np.mean(losses), rel=1e-4)
    assert result.score_mean > 0.7  # 8 epochs learn something
    assert result.fit_time > 0


def test_a_regression_trial_reports_r2_and_mse() -> None:
    cfg = load_config({"dataset": "diabetes", "folds": 2, "seed": 1, "space": PARAMS})
    data = prepare_data(cfg)
    (spec,) = make_trials(cfg, data)
    result = run_trial(data, spec)
    assert result.status == "ok" and result.score_name == "r2"
    for k in range(2):
        train = data.fold != k
        values, _ = replicate_fold(data.X, data.y, train, 1, k, "identity", 1)
        prediction = values.ravel()
        assert result.fold_scores[k] == pytest.approx(
            sk_r2_score(data.y[~train], prediction), abs=1e-6
        )
        assert result.fold_losses[k] == pytest.approx(
            mean_squared_error(data.y[~train], prediction), rel=1e-4
        )


def test_a_diverging_trial_is_recorded_not_raised() -> None:
    params = {**PARAMS, "optimizer": "sgd", "learning_rate": 1e6, "activation": "relu"}
    cfg = load_config({"dataset": "diabetes", "folds": 2, "space": params})
    data = prepare_data(cfg)
    (spec,) = make_trials(cfg, data)
    result = run_trial(data, spec)
    assert result.status == "diverged"
    assert result.error is not None and result.error.startswith("fold 1: ")
    assert result.score_mean is None and result.fold_scores == []
