"""Feature standardisation and train/test splitting, in numpy.

Fit preprocessing on the training split only, then apply it to both splits: statistics
taken from the test split would leak it into training.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from chainrule.datasets._checks import Seed, make_rng
from chainrule.errors import ValidationError

__all__ = ["Standardizer", "train_test_split"]


def _as_matrix(X: object, what: str = "X") -> np.ndarray:
    """``X`` as a 2-D finite float array (float input keeps its dtype, other numbers -> float64)."""
    array = np.asarray(X)
    if array.dtype.kind not in "fiub":
        raise ValidationError(f"{what} must be numeric; got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValidationError(
            f"{what} must be 2-D (n_samples, n_features); got shape {array.shape}"
        )
    if array.dtype.kind != "f":
        array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        r, c = (int(v) for v in np.argwhere(~np.isfinite(array))[0])
        raise ValidationError(f"{what}[{r}, {c}] is not finite ({array[r, c]})")
    return array


class Standardizer:
    """Shift and scale each feature to mean 0 and standard deviation 1.

    ``z = (x - mean) / scale`` per column, with ``mean`` and ``scale`` (the population
    standard deviation, ``ddof=0``) taken from the data passed to :meth:`fit`. A column that
    is constant there gets ``scale = 1``, so it maps to 0 instead of dividing by zero.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,), float64
    scale_ : ndarray of shape (n_features,), float64, all > 0
        Set by :meth:`fit`; ``None`` before.

    Examples
    --------
    >>> s = Standardizer().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> s.transform(np.array([[2.0, 5.0], [3.0, 6.0]])).tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    @property
    def n_features_in_(self) -> int:
        """Number of features seen by :meth:`fit`."""
        mean, _ = self._fitted()
        return int(mean.shape[0])

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.scale_ is None:
            raise ValidationError("this Standardizer is not fitted yet; call fit(X_train) first")
        return self.mean_, self.scale_

    def fit(self, X: np.ndarray) -> Standardizer:
        """Learn each column's mean and standard deviation from training data.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Finite numbers, n_samples >= 1.

        Returns
        -------
        Standardizer
            ``self``.

        Raises
        ------
        ValidationError
            If ``X`` is not 2-D, empty, non-numeric or not finite.
        """
        data = _as_matrix(X).astype(np.float64)
        if data.shape[0] < 1:
            raise ValidationError("X must have at least one row to fit a Standardizer")
        # In units of a power of two near each column's largest magnitude, every value and
        # its distance from the mean are at most 2 and 4: neither huge values (1e308 - -1e308
        # overflows) nor tiny ones (1e-200 squared underflows) break mean or variance. A power
        # of two, so that the scaling is exact and loses none of the low bits that tell
        # close values apart (1e6 + 1e-6 k).
        with np.errstate(under="ignore"):
            size = np.max(np.abs(data), axis=0)
            size = np.where(size > 0, size, 1.0)
            size = np.ldexp(1.0, np.frexp(size)[1] - 1)  # 2**(e-1) <= size < 2**e
            scaled = data / size
            scaled_mean = scaled.mean(axis=0)
            # One correction pass: the rounding error of the first mean is of the order of
            # the values' float step, as large as their whole spread when they are close.
            scaled_mean = scaled_mean + (scaled - scaled_mean).mean(axis=0)
            mean = scaled_mean * size
            scaled_var = np.mean((scaled - scaled_mean) ** 2, axis=0)
            std = np.sqrt(scaled_var) * size  # <= 2 size
            # Constant: a spread no larger than the rounding error of computing it, the bound
            # scikit-learn's StandardScaler uses (n eps var + (n eps |mean|)^2, in the scaled
            # units): 0.1 + 0.2 beside 0.3 is one column of one value, while values 1e6 + 1e-6 k
            # or nanosecond timestamps within a millisecond, thousands of float steps apart,
            # are real variation (a bound of 1e-12 |mean| flattened them).
            n, eps = len(data), np.finfo(np.float64).eps
            rounding = n * eps * scaled_var + (n * eps * scaled_mean) ** 2
            constant = (std == 0) | (scaled_var <= rounding)
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, std)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardise ``X`` with the fitted statistics: ``(X - mean_) / scale_``.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_features)
            Same float dtype as ``X`` (float64 for integer input).

        Raises
        ------
        ValidationError
            If not fitted, or ``X`` has the wrong number of columns or is not finite.
        """
        mean, scale = self._fitted()
        data = self._check_width(X)
        # Underflow to a subnormal or zero is harmless here; a z-score beyond the float range
        # still overflows (as the caller's np.errstate says).
        with np.errstate(under="ignore", over="ignore"):
            z = (data - mean) / scale
        beyond = ~np.isfinite(z)
        if beyond.any():  # x - mean beyond the float range (x = -1e308, mean = 1e308)
            column = np.nonzero(beyond)[1]
            with np.errstate(under="ignore"):
                z[beyond] = data[beyond] / scale[column] - mean[column] / scale[column]
        result: np.ndarray = z.astype(data.dtype, copy=False)
        return result

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """:meth:`fit` on ``X``, then :meth:`transform` it."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`: ``Z * scale_ + mean_``.

        Raises
        ------
        ValidationError
            If not fitted, or ``Z`` has the wrong number of columns or is not finite.
        """
        mean, scale = self._fitted()
        data = self._check_width(Z, "Z")
        with np.errstate(under="ignore"):
            result: np.ndarray = (data * scale + mean).astype(data.dtype, copy=False)
        return result

    def _check_width(self, X: object, what: str = "X") -> np.ndarray:
        data = _as_matrix(X, what)
        if data.shape[1] != self.n_features_in_:
            raise ValidationError(
                f"{what} has {data.shape[1]} features, but the Standardizer was fitted on "
                f"{self.n_features_in_}"
            )
        return data

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description: ``{"type", "version", "mean", "scale"}``.

        Floats are stored as Python floats, whose JSON text round-trips exactly.
        """
        mean, scale = self._fitted()
        return {
            "type": "Standardizer",
            "version": 1,
            "mean": [float(v) for v in mean],
            "scale": [float(v) for v in scale],
        }

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> Standardizer:
        """Rebuild a fitted Standardizer from :meth:`to_dict`'s output.

        Raises
        ------
        ValidationError
            If keys are missing, the type or version is wrong, the lists differ in length,
            or a value is not finite (or a scale not > 0).
        """
        if not isinstance(state, Mapping):
            raise ValidationError(
                f"Standardizer state must be a mapping; got {type(state).__name__}"
            )
        if state.get("type") != "Standardizer":
            raise ValidationError(f"state type must be 'Standardizer'; got {state.get('type')!r}")
        if state.get("version") != 1:
            raise ValidationError(
                f"unsupported Standardizer state version {state.get('version')!r}"
            )
        values: dict[str, np.ndarray] = {}
        for key in ("mean", "scale"):
            raw = state.get(key)
            if not isinstance(raw, list | tuple) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in raw
            ):
                raise ValidationError(f"state[{key!r}] must be a list of numbers; got {raw!r}")
            values[key] = np.array(raw, dtype=np.float64).reshape(-1)
            if not all(math.isfinite(v) for v in values[key]):
                raise ValidationError(f"state[{key!r}] must be finite")
        if values["mean"].shape != values["scale"].shape or values["mean"].size == 0:
            raise ValidationError(
                f"state 'mean' and 'scale' must be non-empty and of equal length; got "
                f"{values['mean'].size} and {values['scale'].size}"
            )
        if np.any(values["scale"] <= 0):
            raise ValidationError("state 'scale' values must be > 0")
        result = cls()
        result.mean_, result.scale_ = values["mean"], values["scale"]
        return result

    def __repr__(self) -> str:
        if self.mean_ is None:
            return "Standardizer()"
        return f"Standardizer(n_features_in_={self.n_features_in_})"


def train_test_split(
    X: np.ndarray,
    y: np.ndarray,
    test_fraction: float = 0.2,
    *,
    seed: Seed = None,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split samples at random into a training and a test part.

    ``n_test = round(test_fraction * n)``, clipped to ``1..n-1``. With ``stratify`` and class
    labels in ``y`` (integer, boolean or string dtype, or objects that are all strings, as
    pandas stores text), every class gets its share of the test part (largest-remainder
    rounding, ties broken at random), so class proportions are kept; a class is not moved
    entirely into the test part while another class can give the sample instead. Float ``y``
    (regression) is split without strata. Both parts come out shuffled.

    Parameters
    ----------
    X : ndarray of shape (n_samples, ...)
    y : ndarray of shape (n_samples,)
    test_fraction : float
        Share of samples in the test part, strictly between 0 and 1.
    seed : int, numpy.random.Generator or None
        Source of randomness; the same int gives the same split.
    stratify : bool
        Keep class proportions (ignored for float ``y``).

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray

    Raises
    ------
    ValidationError
        If the lengths differ, there are fewer than 2 samples, or ``test_fraction`` is out
        of range.

    Examples
    --------
    >>> X, y = np.arange(20).reshape(10, 2), np.array([0] * 5 + [1] * 5)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, 0.4, seed=0)
    >>> X_tr.shape, sorted(y_te.tolist())
    ((6, 2), [0, 0, 1, 1])
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim < 1 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValidationError(
            f"X and y must have the same number of samples; got X {X.shape} and y {y.shape}"
        )
    n = int(y.shape[0])
    if n < 2:
        raise ValidationError(f"train_test_split needs at least 2 samples; got {n}")
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, numbers.Real)  # np.float32 too
        or not 0.0 < float(test_fraction) < 1.0
    ):
        raise ValidationError(f"test_fraction must be a number in (0, 1); got {test_fraction!r}")
    rng = make_rng(seed)
    n_test = min(max(round(float(test_fraction) * n), 1), n - 1)

    labels = y
    if y.dtype.kind == "O" and all(isinstance(v, str) for v in y):
        labels = y.astype(str)  # text labels as pandas keeps them
    if stratify and labels.dtype.kind in "iubUS":
        classes, inverse = np.unique(labels, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse, minlength=classes.size)
        quota = counts * (n_test / n)
        take = np.floor(quota).astype(np.int64)
        take[_leftover_classes(counts, quota, take, n_test - int(take.sum()), rng)] += 1
        test_parts = []
        for c in range(classes.size):
            members = np.flatnonzero(inverse == c)
            test_parts.append(rng.permutation(members)[: take[c]])
        test_idx = np.concatenate(test_parts)
    else:
        test_idx = rng.permutation(n)[:n_test]

    is_test = np.zeros(n, dtype=bool)
    is_test[test_idx] = True
    train_idx = rng.permutation(np.flatnonzero(~is_test))
    test_idx = rng.permutation(np.flatnonzero(is_test))
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def _leftover_classes(
    counts: np.ndarray,
    quota: np.ndarray,
    take: np.ndarray,
    leftover: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """The classes that each give one more test sample than ``floor(quota)``, ``leftover`` in all.

    Largest remainder first. A class that would give its last training sample comes after
    every other (a class missing from training cannot be learned). Ties at the cut are
    broken at random: a fixed order would send the same classes' samples (the smallest
    labels) to the test part whatever the seed, so that with all-distinct integer labels the
    test part would be the smallest values. Without a tie at the cut no random number is
    drawn, so such splits stay as they were.
    """
    if leftover <= 0:
        return np.empty(0, dtype=np.int64)
    remainder = quota - take
    empties = take + 1 >= counts  # taking one more leaves this class no training sample
    order = np.lexsort((-remainder, empties))
    last = order[leftover - 1]
    tied = (empties == empties[last]) & (remainder == remainder[last])
    if np.count_nonzero(tied[order[leftover:]]):
        order = np.lexsort((rng.random(counts.size), -remainder, empties))
    return order[:leftover]
