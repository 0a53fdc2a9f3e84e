"""Seeded two-dimensional toy data sets for lessons and the playground.

Every generator returns ``(X, y)``: ``X`` is float64 of shape ``(n_samples, 2)`` (``sine``:
``(n_samples, 1)``), ``y`` is int64 class codes ``0..n_classes-1`` of shape ``(n_samples,)``
(regression: float64 targets). The noise-free points lie in ``[-1, 1]^2``; ``noise`` is the
standard deviation of Gaussian jitter added to every coordinate afterwards, so points can
cross class borders (that is the point of noise). Classes are balanced (their sizes differ by
at most one) and the samples are shuffled. The same ``seed`` gives bit-identical arrays.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.datasets._checks import (
    Seed,
    check_int,
    check_n_samples,
    check_nonneg_float,
    make_rng,
)
from chainrule.errors import ValidationError

__all__ = [
    "MAX_CLASSES",
    "circle",
    "gaussian",
    "moons",
    "plane",
    "sine",
    "spiral",
    "xor",
]

#: Largest ``n_classes`` each classification generator accepts (smallest is 2).
MAX_CLASSES: dict[str, int] = {"xor": 2, "moons": 2, "circle": 6, "gaussian": 12, "spiral": 6}

#: ``plane`` targets are ``y = PLANE_W[0] x1 + PLANE_W[1] x2 + PLANE_B`` (+ noise).
PLANE_W: tuple[float, float] = (0.6, -0.4)
PLANE_B: float = 0.1

#: Bytes per sample a generator may need at its peak (at most 112 measured, moons), the
#: bound by which too many samples are refused before anything is allocated.
_BYTES_PER_SAMPLE = 128


def _check_common(
    func: str, n_samples: object, noise: object, n_classes: object
) -> tuple[int, float, int]:
    """Validate the arguments every classification generator shares."""
    n = check_n_samples(n_samples, low=1, bytes_per_sample=_BYTES_PER_SAMPLE)
    sigma = check_nonneg_float(noise, "noise")
    k = check_int(n_classes, "n_classes", low=2, high=MAX_CLASSES[func])
    if n < k:
        raise ValidationError(
            f"n_samples must be >= n_classes ({k}) so that every class has a sample; got {n}"
        )
    return n, sigma, k


def _balanced_labels(n: int, k: int) -> np.ndarray:
    """Labels ``0..k-1`` in blocks whose sizes differ by at most one, shape ``(n,)``, int64."""
    counts = np.full(k, n // k, dtype=np.int64)
    counts[: n % k] += 1
    return np.repeat(np.arange(k, dtype=np.int64), counts)


def _finish(
    X: np.ndarray, y: np.ndarray, sigma: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Add the Gaussian jitter, shuffle the samples and fix dtypes and memory layout."""
    if sigma > 0:
        X = X + rng.normal(0.0, sigma, size=X.shape)
    order = rng.permutation(X.shape[0])
    return (
        np.ascontiguousarray(X[order], dtype=np.float64),
        np.ascontiguousarray(y[order]),
    )


def _polar(radius: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Points ``(r cos a, r sin a)``, shape ``(n, 2)``."""
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def xor(
    n_samples: int = 200, *, noise: float = 0.1, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrant clusters labelled by the XOR of the coordinates' signs.

    ``y = [x1 > 0] XOR [x2 > 0]`` for the noise-free point: quadrants I and III are class 0,
    II and IV class 1. Each coordinate's magnitude is uniform in ``[0.05, 0.95]``, so the
    noise-free clusters keep a small margin around both axes. No line separates the classes,
    which is why the lecture needs a hidden layer.

    Parameters
    ----------
    n_samples : int
        Number of points, >= 2.
    noise : float
        Standard deviation of the Gaussian jitter added to each coordinate, >= 0.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives identical arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64, values in {0, 1}

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Examples
    --------
    >>> X, y = xor(8, noise=0.0, seed=0)
    >>> bool(np.all(y == ((X[:, 0] > 0) ^ (X[:, 1] > 0))))
    True
    """
    n, sigma, _ = _check_common("xor", n_samples, noise, 2)
    rng = make_rng(seed)
    y = _balanced_labels(n, 2)
    # Within a class, alternate its two quadrants so they are balanced too.
    second = (np.arange(n) % 2).astype(bool)
    sign_x = np.where(second, -1.0, 1.0)
    sign_y = np.where(y == 0, sign_x, -sign_x)
    magnitude = rng.uniform(0.05, 0.95, size=(n, 2))
    X = magnitude * np.column_stack([sign_x, sign_y])
    return _finish(X, y, sigma, rng)


def circle(
    n_samples: int = 200, *, noise: float = 0.1, n_classes: int = 2, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """An inner disc (class 0) surrounded by concentric rings (classes 1..n_classes-1).

    Class ``c`` occupies radii ``[c/k + gap, (c+1)/k - gap]`` with ``k = n_classes`` and
    ``gap = 0.05/k`` (class 0 starts at radius 0), sampled uniformly by area.

    Parameters
    ----------
    n_samples : int
        Number of points, >= n_classes.
    noise : float
        Standard deviation of the Gaussian jitter added to each coordinate, >= 0.
    n_classes : int
        Number of classes (disc + rings), 2..6.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives identical arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Examples
    --------
    >>> X, y = circle(100, noise=0.0, seed=1)
    >>> bool(np.all(np.hypot(X[y == 0, 0], X[y == 0, 1]) < 0.5))
    True
    """
    n, sigma, k = _check_common("circle", n_samples, noise, n_classes)
    rng = make_rng(seed)
    y = _balanced_labels(n, k)
    gap = 0.05 / k
    r_in = np.where(y == 0, 0.0, y / k + gap)
    r_out = (y + 1) / k - gap
    # Uniform by area: r^2 is uniform between r_in^2 and r_out^2.
    radius = np.sqrt(r_in**2 + rng.uniform(0.0, 1.0, size=n) * (r_out**2 - r_in**2))
    angle = rng.uniform(0.0, 2.0 * math.pi, size=n)
    return _finish(_polar(radius, angle), y, sigma, rng)


def gaussian(
    n_samples: int = 200, *, noise: float = 0.1, n_classes: int = 2, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class, with centres evenly spaced on a circle of radius 0.6.

    Class ``c`` has centre ``0.6 (cos a_c, sin a_c)`` with ``a_c = pi/4 + 2 pi c / k`` (two
    classes sit on the diagonal) and an intrinsic spread ``s = min(0.15, 0.24 sin(pi/k))``
    before the jitter ``noise`` is added.

    Parameters
    ----------
    n_samples : int
        Number of points, >= n_classes.
    noise : float
        Standard deviation of the Gaussian jitter added to each coordinate, >= 0.
    n_classes : int
        Number of blobs, 2..12.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives identical arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Examples
    --------
    >>> X, y = gaussian(60, n_classes=3, seed=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((60, 2), [0, 1, 2])
    """
    n, sigma, k = _check_common("gaussian", n_samples, noise, n_classes)
    rng = make_rng(seed)
    y = _balanced_labels(n, k)
    angles = math.pi / 4 + 2.0 * math.pi * np.arange(k) / k
    centres = _polar(np.full(k, 0.6), angles)
    spread = min(0.15, 0.24 * math.sin(math.pi / k))
    X = centres[y] + rng.normal(0.0, spread, size=(n, 2))
    return _finish(X, y, sigma, rng)


def spiral(
    n_samples: int = 200, *, noise: float = 0.1, n_classes: int = 2, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class.

    Arm ``c`` follows ``r = 0.05 + 0.95 t``, ``a = 2 pi c / k + 2 pi * 1.25 t`` for
    ``t`` uniform in ``[0, 1]`` (a turn and a quarter from the centre outwards).

    Parameters
    ----------
    n_samples : int
        Number of points, >= n_classes.
    noise : float
        Standard deviation of the Gaussian jitter added to each coordinate, >= 0.
    n_classes : int
        Number of arms, 2..6.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives identical arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Examples
    --------
    >>> X, y = spiral(90, n_classes=3, noise=0.0, seed=0)
    >>> bool(np.all(np.abs(X) <= 1.0))
    True
    """
    n, sigma, k = _check_common("spiral", n_samples, noise, n_classes)
    rng = make_rng(seed)
    y = _balanced_labels(n, k)
    t = rng.uniform(0.0, 1.0, size=n)
    radius = 0.05 + 0.95 * t
    angle = 2.0 * math.pi * y / k + 2.0 * math.pi * 1.25 * t
    return _finish(_polar(radius, angle), y, sigma, rng)


def moons(
    n_samples: int = 200, *, noise: float = 0.1, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``, rescaled to ``[-1, 1]``).

    Class 0: ``(cos a, sin a)``, class 1: ``(1 - cos a, 1/2 - sin a)``, ``a`` uniform in
    ``[0, pi]``; then ``x1 -> (x1 - 1/2) / 1.5`` and ``x2 -> (x2 - 1/4) / 1.5``.

    Parameters
    ----------
    n_samples : int
        Number of points, >= 2.
    noise : float
        Standard deviation of the Gaussian jitter added to each coordinate, >= 0.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives identical arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64, values in {0, 1}

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Examples
    --------
    >>> X, y = moons(50, seed=0)
    >>> X.dtype, y.dtype
    (dtype('float64'), dtype('int64'))
    """
    n, sigma, _ = _check_common("moons", n_samples, noise, 2)
    rng = make_rng(seed)
    y = _balanced_labels(n, 2)
    angle = rng.uniform(0.0, math.pi, size=n)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    X = np.where((y == 0)[:, None], upper, lower)
    X = (X - np.array([0.5, 0.25])) / 1.5
    return _finish(X, y, sigma, rng)


def plane(
    n_samples: int = 200, *, noise: float = 0.1, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Regression on a tilted plane: ``y = 0.6 x1 - 0.4 x2 + 0.1 + noise * eps``.

    ``X`` is uniform on ``[-1, 1]^2``; ``noise`` is the standard deviation of the Gaussian
    ``eps`` added to the target (not to ``X``).

    Parameters
    ----------
    n_samples : int
        Number of points, >= 1.
    noise : float
        Standard deviation of the target noise, >= 0.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives identical arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), float64

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Examples
    --------
    >>> X, y = plane(5, noise=0.0, seed=0)
    >>> bool(np.allclose(y, 0.6 * X[:, 0] - 0.4 * X[:, 1] + 0.1))
    True
    """
    n = check_n_samples(n_samples, low=1, bytes_per_sample=_BYTES_PER_SAMPLE)
    sigma = check_nonneg_float(noise, "noise")
    rng = make_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = PLANE_W[0] * X[:, 0] + PLANE_W[1] * X[:, 1] + PLANE_B
    if sigma > 0:
        y = y + rng.normal(0.0, sigma, size=n)
    return np.ascontiguousarray(X), np.ascontiguousarray(y, dtype=np.float64)


def sine(
    n_samples: int = 200, *, noise: float = 0.1, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Regression on one period of a sine: ``y = sin(pi x) + noise * eps``, ``x`` in ``[-1, 1]``.

    Parameters
    ----------
    n_samples : int
        Number of points, >= 1.
    noise : float
        Standard deviation of the Gaussian target noise ``eps``, >= 0.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives identical arrays.

    Returns
    -------
    X : ndarray of shape (n_samples, 1), float64
    y : ndarray of shape (n_samples,), float64

    Raises
    ------
    ValidationError
        If an argument is out of range.

    Examples
    --------
    >>> X, y = sine(4, noise=0.0, seed=0)
    >>> X.shape, bool(np.allclose(y, np.sin(np.pi * X[:, 0])))
    ((4, 1), True)
    """
    n = check_n_samples(n_samples, low=1, bytes_per_sample=_BYTES_PER_SAMPLE)
    sigma = check_nonneg_float(noise, "noise")
    rng = make_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 1))
    y = np.sin(math.pi * X[:, 0])
    if sigma > 0:
        y = y + rng.normal(0.0, sigma, size=n)
    return np.ascontiguousarray(X), np.ascontiguousarray(y, dtype=np.float64)
