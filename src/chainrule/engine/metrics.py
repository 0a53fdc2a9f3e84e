"""Scores of a trained network: accuracy, log loss and confusion matrix; R^2 and RMSE.

Plain numpy, one function per score, each checked against scikit-learn in the tests.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule.errors import ValidationError

__all__ = [
    "accuracy",
    "class_indices",
    "confusion_matrix",
    "is_real",
    "log_loss",
    "r2_from_sums",
    "r2_score",
    "require_finite",
    "rmse",
]


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    true, pred = np.asarray(y_true), np.asarray(y_pred)
    if true.shape[:1] != pred.shape[:1] or true.size == 0:
        raise ValidationError(
            f"y_true and y_pred must have the same non-zero number of rows; got {true.shape} "
            f"and {pred.shape}"
        )
    return true, pred


def is_real(dtype: np.dtype[Any]) -> bool:
    """Whether an array of ``dtype`` holds real numbers: integers, floats or booleans, not
    objects, text, or complex numbers (a cast to float would silently drop their ``.imag``)."""
    return (np.issubdtype(dtype, np.number) or dtype == np.bool_) and not np.issubdtype(
        dtype, np.complexfloating
    )


def _values(name: str, given: NDArray[Any], *, finite: bool) -> NDArray[np.float64]:
    """``given`` as float64 columns ``(n, k)``; a :class:`ValidationError` for values that are no
    real numbers and, with ``finite``, for the first one that is not finite (a NaN target made
    ``r2_score`` 0.0, as if scored). A prediction may be NaN: its score is NaN then."""
    if not is_real(given.dtype):
        raise ValidationError(f"{name} must hold real numbers; got values of dtype {given.dtype}")
    values = given.reshape(len(given), -1).astype(np.float64)
    if finite:
        require_finite(name, values, given)
    return values


def _columns(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    """Targets and predictions as float64 ``(n, k)`` of one shape (``(n,)`` and ``(n, 1)`` are
    one column): a ``(n, 2)`` target against ``(n, 1)`` predictions broadcast silently before."""
    true, pred = _pair(y_true, y_pred)
    t, p = _values("y_true", true, finite=True), _values("y_pred", pred, finite=False)
    if t.shape != p.shape:
        raise ValidationError(
            f"y_true has {t.shape[1]} column(s) but y_pred has {p.shape[1]}; got shapes "
            f"{true.shape} and {pred.shape}: give one prediction per target value"
        )
    return t, p


def require_finite(name: str, converted: NDArray[np.floating], given: ArrayLike) -> None:
    """Raise a :class:`ValidationError` naming the first entry of ``converted`` that is not a
    finite number: its row and column, and its value in ``given`` (before the cast to
    ``converted``'s dtype, where ``1e39`` became float32's ``inf``)."""
    finite = np.isfinite(converted)
    if finite.all():
        return
    at = tuple(int(i) for i in np.argwhere(~finite)[0])
    where = f"row {at[0]}, column {at[1]}" if len(at) == 2 else f"index {at}"
    value = np.asarray(given).reshape(converted.shape)[at]
    raise ValidationError(
        f"{name} has non-finite values (first at {where}: "
        f"{value.item() if hasattr(value, 'item') else value!r} as {converted.dtype.name})"
    )


def class_indices(
    name: str, labels: NDArray[Any], n_classes: int, context: str = ""
) -> NDArray[np.int64]:
    """``labels`` as int64 class indices ``0 .. n_classes - 1``, or a :class:`ValidationError`
    naming the first value that is not one (``context``, such as what ``n_classes`` counts,
    ends each message). The one check of class labels: training's targets, ``--y`` and the
    scores all use it.

    Cast unchecked, ``1.5`` became class 1, ``1e308`` overflowed int64, and a class ``k`` beyond
    the last counted in another cell of the confusion matrix (``i k`` is ``(i + 1) 0``).
    """
    if labels.ndim != 1:
        raise ValidationError(f"{name} must be class indices of shape (n,); got {labels.shape}")
    if labels.dtype == object:  # Python ints beyond int64 (10**30): compare as floats
        with contextlib.suppress(TypeError, ValueError, OverflowError):
            labels = labels.astype(np.float64)
    if not (
        np.issubdtype(labels.dtype, np.integer)
        or np.issubdtype(labels.dtype, np.floating)
        or labels.dtype == bool
    ):
        raise ValidationError(
            f"{name} must be integer class indices in 0..{n_classes - 1}{context}; "
            f"got values of dtype {labels.dtype.name}"
        )
    # Range-checked before the cast: a float like 1e308 does not fit in int64. NaN fails all.
    with np.errstate(invalid="ignore"):
        index = (labels == np.round(labels)) & (labels >= 0) & (labels < n_classes)
    if not index.all():
        i = int(np.argmin(index))
        raise ValidationError(
            f"{name}[{i}] = {labels[i].item()!r} is not a class index in "
            f"0..{n_classes - 1}{context}"
        )
    return labels.astype(np.int64)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """The fraction of tokens whose predicted class equals the true one.

    >>> accuracy([0, 1, 1, 2], [0, 1, 2, 2])
    0.75
    """
    true, pred = _pair(y_true, y_pred)
    if true.shape != pred.shape:  # (n,) == (n, 1) would broadcast to n x n comparisons
        raise ValidationError(
            f"y_true and y_pred must have the same shape; got {true.shape} and {pred.shape}"
        )
    return float(np.mean(true == pred))


def log_loss(y_true: ArrayLike, proba: ArrayLike) -> float:
    """Mean cross-entropy ``-ln P(Y = y | x)`` of class probabilities ``(n, n_classes)``.

    Probabilities are clipped to ``[tiny, 1]`` so a confident wrong answer costs a large finite
    amount instead of ``ln 0``.

    >>> round(log_loss([0, 1], [[0.5, 0.5], [0.2, 0.8]]), 6)
    0.458145
    """
    true, given = _pair(y_true, proba)
    if given.ndim != 2 or true.ndim != 1:
        raise ValidationError(
            f"log_loss needs y (n,) and proba (n, k); got {true.shape}, {given.shape}"
        )
    p = _values("proba", given, finite=True)
    outside = (p < 0) | (p > 1)
    if outside.any():  # scikit-learn refuses them too: no probability, no log-likelihood
        row, column = (int(i) for i in np.argwhere(outside)[0])
        raise ValidationError(
            f"proba[{row}, {column}] = {float(p[row, column])!r} is not a probability in [0, 1]; "
            "give P(Y = k | x) (predict_proba), not scores"
        )
    h_y = p[np.arange(len(true)), class_indices("y_true", true, p.shape[1])]
    return float(-np.mean(np.log(np.clip(h_y, np.finfo(np.float64).tiny, 1.0))))


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> NDArray[np.int64]:
    """``C[i, j]`` = number of tokens of true class ``i`` predicted as class ``j``.

    >>> confusion_matrix([0, 1, 1], [0, 0, 1], 2).tolist()
    [[1, 0], [1, 1]]
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 1:
        raise ValidationError(f"n_classes must be an integer >= 1; got {n_classes!r}")
    true, pred = _pair(y_true, y_pred)
    true = class_indices("y_true", true, n_classes)
    pred = class_indices("y_pred", pred, n_classes)
    counts = np.bincount(true * n_classes + pred, minlength=n_classes**2)
    return counts.reshape(n_classes, n_classes).astype(np.int64)


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error over every token and output.

    >>> rmse([1.0, 2.0], [1.0, 4.0])
    1.4142135623730951
    """
    t, p = _columns(y_true, y_pred)
    diff = p - t
    return math.sqrt(float(np.mean(diff * diff)))


def r2_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``, averaged over outputs.

    A constant target (``SS_tot = 0``) scores 1 when predicted exactly, else 0 (as scikit-learn).

    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    t, p = _columns(y_true, y_pred)
    ss_tot = np.sum((t - t.mean(axis=0)) ** 2, axis=0)
    return r2_from_sums(np.sum((t - p) ** 2, axis=0), ss_tot)


def r2_from_sums(ss_res: ArrayLike, ss_tot: ArrayLike) -> float:
    """``mean over outputs of 1 - SS_res / SS_tot`` from per-output sums of squares."""
    res, tot = np.asarray(ss_res, dtype=np.float64), np.asarray(ss_tot, dtype=np.float64)
    safe = np.where(tot > 0, tot, 1.0)
    scores = np.where(tot > 0, 1 - res / safe, np.where(res == 0, 1.0, 0.0))
    return float(np.mean(scores))
