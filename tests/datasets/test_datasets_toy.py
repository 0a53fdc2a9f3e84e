"""Toy generators: shapes, dtypes, balance, determinism, geometry, argument checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.datasets import circle, gaussian, moons, plane, sine, spiral, xor
from chainrule.datasets.toy import MAX_CLASSES
from chainrule.errors import ValidationError

MULTI = {"circle": circle, "gaussian": gaussian, "spiral": spiral}
BINARY = {"xor": xor, "moons": moons}
CLASSIFIERS = {**MULTI, **BINARY}


def _check_classification(X: np.ndarray, y: np.ndarray, n: int, k: int) -> None:
    assert X.shape == (n, 2) and X.dtype == np.float64 and X.flags.c_contiguous
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=k)
    assert counts.size == k
    assert counts.max() - counts.min() <= 1
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
@pytest.mark.parametrize("n", [2, 7, 200])
def test_binary_shapes_dtypes_balance(name: str, n: int) -> None:
    X, y = CLASSIFIERS[name](n, seed=3)
    _check_classification(X, y, n, 2)


@pytest.mark.parametrize("name", sorted(MULTI))
def test_multiclass_shapes_and_balance(name: str) -> None:
    for k in range(2, MAX_CLASSES[name] + 1):
        X, y = MULTI[name](101, n_classes=k, seed=k)
        _check_classification(X, y, 101, k)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(MULTI)),
    n=st.integers(12, 400),
    k=st.integers(2, 6),
    seed=st.integers(0, 2**32),
    noise=st.floats(0.0, 1.0),
)
def test_multiclass_property(name: str, n: int, k: int, seed: int, noise: float) -> None:
    X, y = MULTI[name](n, n_classes=k, noise=noise, seed=seed)
    _check_classification(X, y, n, k)


@pytest.mark.parametrize("name", [*sorted(CLASSIFIERS), "plane", "sine"])
def test_same_seed_same_arrays_different_seed_different(name: str) -> None:
    f = {**CLASSIFIERS, "plane": plane, "sine": sine}[name]
    X1, y1 = f(50, seed=123)
    X2, y2 = f(50, seed=123)
    X3, _ = f(50, seed=124)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_generator_seed_is_used_and_advanced() -> None:
    rng = np.random.default_rng(5)
    a, _ = spiral(30, seed=rng)
    b, _ = spiral(30, seed=rng)
    assert not np.array_equal(a, b)
    c, _ = spiral(30, seed=np.random.default_rng(5))
    assert np.array_equal(a, c)


def test_seed_none_gives_fresh_data() -> None:
    a, _ = moons(20)
    b, _ = moons(20)
    assert not np.array_equal(a, b)


def test_samples_are_shuffled() -> None:
    _, y = gaussian(100, n_classes=4, seed=0)
    assert not np.array_equal(y, np.sort(y))


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_noise_free_points_lie_in_unit_square(name: str) -> None:
    kwargs = {"n_classes": 2} if name in MULTI else {}
    if name == "gaussian":
        return  # Gaussian blobs have unbounded tails by design.
    X, _ = CLASSIFIERS[name](500, noise=0.0, seed=0, **kwargs)
    assert np.all(np.abs(X) <= 1.0)


def test_xor_labels_are_xor_of_signs_and_quadrants_balanced() -> None:
    X, y = xor(400, noise=0.0, seed=1)
    assert np.array_equal(y, ((X[:, 0] > 0) ^ (X[:, 1] > 0)).astype(np.int64))
    quadrant = 2 * (X[:, 0] > 0) + (X[:, 1] > 0)
    assert np.all(np.bincount(quadrant, minlength=4) == 100)
    assert np.all(np.abs(X) >= 0.05)


def test_circle_classes_are_nested_rings() -> None:
    k = 4
    X, y = circle(400, noise=0.0, n_classes=k, seed=2)
    r = np.hypot(X[:, 0], X[:, 1])
    for c in range(k):
        assert r[y == c].min() >= c / k and r[y == c].max() <= (c + 1) / k
    assert r[y == 0].max() < r[y == 1].min()


def test_gaussian_class_means_near_centres() -> None:
    X, y = gaussian(3000, n_classes=3, noise=0.0, seed=0)
    angles = np.pi / 4 + 2 * np.pi * np.arange(3) / 3
    centres = 0.6 * np.column_stack([np.cos(angles), np.sin(angles)])
    for c in range(3):
        assert np.allclose(X[y == c].mean(axis=0), centres[c], atol=0.03)


def test_spiral_radius_grows_with_angle() -> None:
    X, _ = spiral(200, noise=0.0, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() >= 0.05 - 1e-12 and r.max() <= 1.0 + 1e-12


def test_moons_noise_free_shapes() -> None:
    X, y = moons(300, noise=0.0, seed=0)
    upper = X[y == 0] * 1.5 + np.array([0.5, 0.25])
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    lower = X[y == 1] * 1.5 + np.array([0.5, 0.25])
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)


def test_plane_and_sine_targets() -> None:
    X, y = plane(50, noise=0.0, seed=0)
    assert X.shape == (50, 2) and y.shape == (50,) and y.dtype == np.float64
    assert np.allclose(y, 0.6 * X[:, 0] - 0.4 * X[:, 1] + 0.1)
    assert np.all(np.abs(X) <= 1.0)
    X, y = sine(50, noise=0.0, seed=0)
    assert X.shape == (50, 1) and y.shape == (50,) and y.dtype == np.float64
    assert np.allclose(y, np.sin(np.pi * X[:, 0]))
    _, y_noisy = sine(50, noise=0.5, seed=0)
    assert not np.allclose(y_noisy, y)


def test_regression_accepts_one_sample() -> None:
    X, y = plane(1, seed=0)
    assert X.shape == (1, 2) and y.shape == (1,)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: spiral(100, n_classes=9), "n_classes must be an integer in 2..6; got 9"),
        (lambda: gaussian(100, n_classes=1), "n_classes must be an integer in 2..12; got 1"),
        (lambda: circle(100, n_classes=2.5), "n_classes must be an integer in 2..6; got 2.5"),
        (lambda: xor(0), "n_samples must be an integer >= 1; got 0"),
        (lambda: moons(1.5), "n_samples must be an integer >= 1; got 1.5"),
        (lambda: moons(True), "n_samples must be an integer >= 1; got True"),
        (lambda: xor(1), "n_samples must be >= n_classes (2)"),
        (lambda: spiral(3, n_classes=4), "n_samples must be >= n_classes (4)"),
        (lambda: xor(10, noise=-0.1), "noise must be a finite number >= 0; got -0.1"),
        (lambda: xor(10, noise=float("nan")), "noise must be a finite number >= 0; got nan"),
        (lambda: plane(10, noise="big"), "noise must be a finite number >= 0; got 'big'"),
        (lambda: sine(0), "n_samples must be an integer >= 1; got 0"),
        (lambda: xor(10, seed=-1), "seed must be an integer >= 0"),
        (lambda: xor(10, seed="abc"), "seed must be an integer >= 0"),
    ],
)
def test_argument_errors_name_the_problem(call, message: str) -> None:
    with pytest.raises(ValidationError, match=None) as info:
        call()
    assert message in str(info.value)


def test_numpy_integer_arguments_accepted() -> None:
    X, y = circle(np.int64(30), n_classes=np.int32(3), seed=np.uint8(4))
    assert X.shape == (30, 2) and np.bincount(y).tolist() == [10, 10, 10]
