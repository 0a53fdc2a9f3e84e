"""Standardizer and train_test_split."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.datasets import Standardizer, train_test_split
from chainrule.errors import ValidationError

# ---------------------------------------------------------------------------- Standardizer


def test_fit_transform_gives_zero_mean_unit_std() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(200, 4)) * np.array([1.0, 10.0, 0.01, 1e4])
    Z = Standardizer().fit_transform(X)
    assert np.allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(Z.std(axis=0), 1.0)
    s = Standardizer().fit(X)
    assert np.allclose(s.mean_, X.mean(axis=0)) and np.allclose(s.scale_, X.std(axis=0))


def test_statistics_come_from_fit_data_only() -> None:
    train = np.array([[0.0], [2.0]])
    s = Standardizer().fit(train)
    assert s.transform(np.array([[4.0], [1.0]])).tolist() == [[3.0], [0.0]]


def test_zero_variance_columns_get_scale_one() -> None:
    X = np.array([[1.0, 7.0, 0.1], [3.0, 7.0, 0.1], [5.0, 7.0, 0.1]])
    s = Standardizer().fit(X)
    assert s.scale_ is not None and s.scale_[1:].tolist() == [1.0, 1.0]
    Z = s.transform(X)
    assert np.all(Z[:, 1:] == 0.0) and np.all(np.isfinite(Z))
    assert np.allclose(s.inverse_transform(Z), X)


def test_single_row_fit() -> None:
    s = Standardizer().fit(np.array([[2.0, -3.0]]))
    assert s.scale_ is not None and s.scale_.tolist() == [1.0, 1.0]


def test_extreme_magnitudes_do_not_trip_floating_point_errors() -> None:
    X = np.array([[1e-200, 1e300], [3e-200, -1e300], [2e-200, 0.0]])
    s = Standardizer().fit(X)
    Z = s.transform(X)
    assert np.all(np.isfinite(Z))
    assert np.allclose(Z.std(axis=0), 1.0)


def test_values_near_the_float_limit_standardise_without_overflow() -> None:
    """1.7e308 - (-1.7e308) is beyond float64; the statistics and z-scores are not."""
    X = np.array([[1.7e308, 1.0], [1.7e308, 2.0], [-1.7e308, 3.0]])
    s = Standardizer().fit(X)
    shrunk = X[:, 0] / 1e300  # the same statistics, 1e300 times smaller: no overflow there
    mean, std = np.mean(shrunk), np.std(shrunk)
    assert s.mean_ is not None and s.scale_ is not None
    np.testing.assert_allclose(s.mean_[0] / 1e300, mean, rtol=1e-12)
    np.testing.assert_allclose(s.scale_[0] / 1e300, std, rtol=1e-12)
    Z = s.transform(X)
    np.testing.assert_allclose(Z[:, 0], (shrunk - mean) / std, rtol=1e-12)
    np.testing.assert_allclose(Z[:, 1], (X[:, 1] - 2.0) / np.std(X[:, 1]), rtol=1e-12)


def test_dtypes() -> None:
    X32 = np.arange(6, dtype=np.float32).reshape(3, 2)
    s = Standardizer().fit(X32)
    assert s.transform(X32).dtype == np.float32
    assert s.inverse_transform(s.transform(X32)).dtype == np.float32
    assert s.mean_ is not None and s.mean_.dtype == np.float64
    assert Standardizer().fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64


def test_json_round_trip_is_exact() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 3)) * 7.3 + 1 / 3
    s = Standardizer().fit(X)
    state = json.loads(json.dumps(s.to_dict()))
    assert state["type"] == "Standardizer" and state["version"] == 1
    back = Standardizer.from_dict(state)
    assert np.array_equal(back.transform(X), s.transform(X))
    assert repr(back) == "Standardizer(n_features_in_=3)"


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ([], "must be a mapping"),
        ({"type": "Other", "version": 1, "mean": [0.0], "scale": [1.0]}, "type must be"),
        ({"type": "Standardizer", "version": 2, "mean": [0.0], "scale": [1.0]}, "version 2"),
        ({"type": "Standardizer", "version": 1, "scale": [1.0]}, "state['mean'] must be a list"),
        ({"type": "Standardizer", "version": 1, "mean": ["a"], "scale": [1.0]}, "list of numbers"),
        (
            {"type": "Standardizer", "version": 1, "mean": [0.0], "scale": [1.0, 2.0]},
            "equal length; got 1 and 2",
        ),
        ({"type": "Standardizer", "version": 1, "mean": [0.0], "scale": [0.0]}, "must be > 0"),
        (
            {"type": "Standardizer", "version": 1, "mean": [float("nan")], "scale": [1.0]},
            "must be finite",
        ),
    ],
)
def test_from_dict_rejects_bad_state(state: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        Standardizer.from_dict(state)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_standardizer_errors() -> None:
    s = Standardizer()
    assert repr(s) == "Standardizer()"
    with pytest.raises(ValidationError, match="not fitted yet"):
        s.transform(np.ones((2, 2)))
    with pytest.raises(ValidationError, match="not fitted yet"):
        s.to_dict()
    with pytest.raises(
        ValidationError, match=r"must be 2-D \(n_samples, n_features\); got shape \(3,\)"
    ):
        s.fit(np.ones(3))
    with pytest.raises(ValidationError, match="at least one row"):
        s.fit(np.ones((0, 2)))
    with pytest.raises(ValidationError, match=r"X\[1, 0\] is not finite \(nan\)"):
        s.fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValidationError, match="must be numeric"):
        s.fit(np.array([["a"]]))
    s.fit(np.ones((2, 2)))
    with pytest.raises(
        ValidationError, match="X has 3 features, but the Standardizer was fitted on 2"
    ):
        s.transform(np.ones((2, 3)))
    with pytest.raises(ValidationError, match="Z has 1 features"):
        s.inverse_transform(np.ones((2, 1)))


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=20),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
        | st.floats(-1e-300, 1e-300),
    )
)
def test_inverse_transform_round_trip(X: np.ndarray) -> None:
    s = Standardizer().fit(X)
    assert s.scale_ is not None and np.all(s.scale_ > 0)
    Z = s.transform(X)
    assert np.all(np.isfinite(Z))
    back = s.inverse_transform(Z)
    with np.errstate(under="ignore"):  # allclose's rtol * |b| underflows for subnormal b
        assert np.allclose(back, X, rtol=1e-9, atol=1e-6)


# ---------------------------------------------------------------------------- split


def test_split_partitions_the_samples() -> None:
    X = np.arange(100).reshape(50, 2)
    y = np.arange(50) % 3
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, 0.2, seed=0)
    assert X_tr.shape == (40, 2) and X_te.shape == (10, 2)
    ids = np.concatenate([X_tr[:, 0], X_te[:, 0]]) // 2
    assert sorted(ids.tolist()) == list(range(50))
    assert np.array_equal(y_tr, (X_tr[:, 0] // 2) % 3) and np.array_equal(
        y_te, (X_te[:, 0] // 2) % 3
    )


def test_split_is_deterministic_and_shuffled() -> None:
    X, y = np.arange(40).reshape(20, 2), np.arange(20) % 2
    a = train_test_split(X, y, seed=5)
    b = train_test_split(X, y, seed=5)
    c = train_test_split(X, y, seed=6)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert not all(np.array_equal(p, q) for p, q in zip(a, c))
    assert not np.array_equal(a[0][:, 0], np.sort(a[0][:, 0]))


def test_stratified_split_keeps_proportions() -> None:
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100)[:, None]
    _, _, y_tr, y_te = train_test_split(X, y, 0.3, seed=1)
    assert np.bincount(y_te).tolist() == [18, 9, 3]
    assert np.bincount(y_tr).tolist() == [42, 21, 7]


def test_stratified_split_of_string_labels() -> None:
    y = np.array(["a"] * 8 + ["b"] * 4)
    _, _, _, y_te = train_test_split(np.zeros((12, 1)), y, 0.25, seed=0)
    assert sorted(y_te.tolist()) == ["a", "a", "b"]


def test_stratify_rounding_keeps_total() -> None:
    y = np.array([0] * 5 + [1] * 5 + [2] * 5)
    _, _, _, y_te = train_test_split(np.zeros((15, 1)), y, 0.2, seed=0)
    assert len(y_te) == 3 and np.bincount(y_te, minlength=3).tolist() == [1, 1, 1]


def test_regression_targets_split_without_strata() -> None:
    y = np.linspace(0, 1, 10)
    _, _, y_tr, y_te = train_test_split(np.zeros((10, 1)), y, 0.3, seed=0)
    assert len(y_te) == 3 and len(y_tr) == 7
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == y.tolist()


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 200),
    fraction=st.floats(0.01, 0.99),
    k=st.integers(1, 5),
    seed=st.integers(0, 1000),
    stratify=st.booleans(),
)
def test_split_sizes_property(n: int, fraction: float, k: int, seed: int, stratify: bool) -> None:
    y = np.arange(n) % k
    X_tr, X_te, y_tr, y_te = train_test_split(
        np.arange(n)[:, None], y, fraction, seed=seed, stratify=stratify
    )
    n_test = min(max(round(fraction * n), 1), n - 1)
    assert len(X_te) == len(y_te) == n_test and len(X_tr) == len(y_tr) == n - n_test
    assert sorted(np.concatenate([X_tr[:, 0], X_te[:, 0]]).tolist()) == list(range(n))


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((np.ones((3, 1)), np.ones(2)), {}, "same number of samples"),
        ((np.ones((1, 1)), np.ones(1)), {}, "at least 2 samples; got 1"),
        (
            (np.ones((4, 1)), np.ones(4), 0.0),
            {},
            "test_fraction must be a number in (0, 1); got 0.0",
        ),
        ((np.ones((4, 1)), np.ones(4), 1), {}, "got 1"),
        ((np.ones((4, 1)), np.ones(4), True), {}, "got True"),
        ((np.ones((4, 1)), np.ones(4)), {"seed": -3}, "seed must be an integer >= 0"),
    ],
)
def test_split_errors(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        train_test_split(*args, **kwargs)
    assert message in str(info.value)


def test_leftover_test_samples_go_to_random_classes() -> None:
    """Classes whose shares tie get the leftover test samples at random: a fixed order sent
    the smallest labels to the test part for every seed (with all-distinct integer labels,
    the test part was always the smallest values)."""
    y = np.arange(10)
    tests = {
        tuple(sorted(train_test_split(np.zeros((10, 1)), y, 0.3, seed=s)[3].tolist()))
        for s in range(20)
    }
    assert len(tests) > 5 and all(len(t) == 3 for t in tests)
    y = np.repeat(np.arange(10), 5)  # 10 classes of 5; a 10% test part holds 5 of them
    seen = set()
    for s in range(20):
        _, _, _, y_te = train_test_split(np.zeros((50, 1)), y, 0.1, seed=s)
        assert np.bincount(y_te, minlength=10).max() == 1  # still one per class at most
        seen.update(y_te.tolist())
    assert seen == set(range(10))


def test_a_rare_class_keeps_its_training_sample() -> None:
    """With 4 + 1 samples and 60% held out, the fifth test sample comes from the big class
    (leaving it one training sample), not the only member of the rare class."""
    y = np.array([0, 0, 0, 0, 1])
    for s in range(10):
        _, _, y_tr, y_te = train_test_split(np.arange(5)[:, None], y, 0.6, seed=s)
        assert sorted(y_tr.tolist()) == [0, 1] and sorted(y_te.tolist()) == [0, 0, 0]


def test_split_matches_an_exact_stratification_when_there_is_no_tie() -> None:
    """No tie at the cut: per-class counts are scikit-learn's, and the split is reproducible."""
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    y = np.array([0] * 37 + [1] * 21 + [2] * 9)
    X = np.arange(y.size)[:, None]
    _, _, _, y_te = train_test_split(X, y, 0.3, seed=4)
    _, _, _, sk_te = sklearn_split(X, y, test_size=round(0.3 * y.size), stratify=y, random_state=0)
    assert np.bincount(y_te).tolist() == np.bincount(sk_te).tolist()
    again = train_test_split(X, y, 0.3, seed=4)
    assert np.array_equal(again[3], y_te)


def test_split_accepts_numpy_fractions_and_pandas_text_labels() -> None:
    X = np.arange(12)[:, None]
    _, X_te, _, _ = train_test_split(X, np.arange(12) % 2, np.float32(0.25), seed=0)
    assert len(X_te) == 3
    y = np.array(["a"] * 8 + ["b"] * 4, dtype=object)  # how pandas keeps a text column
    for s in range(5):
        _, _, _, y_te = train_test_split(X, y, 0.25, seed=s)
        assert sorted(y_te.tolist()) == ["a", "a", "b"]
