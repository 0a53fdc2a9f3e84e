"""The :class:`Dataset` record every loader returns, the target-less :class:`Features` a loader
returns when asked for features only, and the target encoding they share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from chainrule.errors import ValidationError

__all__ = [
    "MAX_AUTO_CLASSES",
    "Dataset",
    "Features",
    "Task",
    "TaskArg",
    "class_text",
    "encode_labels",
    "label_text",
    "wrong_target_shape",
]

Task = Literal["classification", "regression"]
TaskArg = Literal["auto", "classification", "regression"]

#: With ``task="auto"``, an integer-valued numeric target with at most this many distinct
#: values is read as class labels; with more it is read as a regression target.
MAX_AUTO_CLASSES = 100


def _checked_matrix(X: object, feature_names: Sequence[str], owner: str) -> np.ndarray:
    """``X`` as a contiguous float64 matrix with one name per column, or a ValidationError."""
    matrix = np.ascontiguousarray(X, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValidationError(f"{owner}.X must be 2-D (n_samples, n_features); got {matrix.shape}")
    if len(feature_names) != matrix.shape[1]:
        raise ValidationError(
            f"{owner}.feature_names has {len(feature_names)} names for "
            f"{matrix.shape[1]} columns of X"
        )
    return matrix


class _Table:
    """The sizes of a record's feature matrix ``X``."""

    X: np.ndarray

    @property
    def n_samples(self) -> int:
        """Number of rows of ``X``."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of columns of ``X``."""
        return int(self.X.shape[1])


@dataclass(frozen=True, eq=False)
class Dataset(_Table):
    """Features, targets and the names needed to read them back.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        The features, one row per sample.
    y : ndarray of shape (n_samples,)
        int64 class codes ``0..n_classes-1`` (classification) or float64 targets (regression).
    feature_names : list of str
        One name per column of ``X``.
    target_name : str
        Name of the target column.
    classes : list of str or None
        For classification, the original label of each code (``classes[c]`` is code ``c``);
        ``None`` for regression.
    task : {"classification", "regression"}
        What ``y`` holds.
    name : str
        A short name for messages and listings (the file name or the bundled name).

    Raises
    ------
    ValidationError
        If the arrays and names disagree (shapes, dtypes, counts).

    Examples
    --------
    >>> ds = Dataset(np.zeros((2, 1)), np.array([1, 0]), ["x1"], "y", ["no", "yes"],
    ...              "classification", "demo")
    >>> ds.decode(ds.y).tolist()
    ['yes', 'no']
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    classes: list[str] | None
    task: Task
    name: str = "dataset"
    _class_array: np.ndarray | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        X = _checked_matrix(self.X, self.feature_names, "Dataset")
        y = np.asarray(self.y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValidationError(wrong_target_shape("Dataset.y", y.shape, X.shape[0]))
        if self.task == "classification":
            if self.classes is None:
                raise ValidationError("Dataset.classes is required for classification")
            if y.dtype.kind not in "iub":
                raise ValidationError(
                    f"Dataset.y must hold integer class codes; got dtype {y.dtype}"
                )
            y = y.astype(np.int64)
            if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
                raise ValidationError(
                    f"Dataset.y codes must be in 0..{len(self.classes) - 1}; "
                    f"got {int(y.min())}..{int(y.max())}"
                )
            class_array: np.ndarray | None = np.array([str(c) for c in self.classes])
        elif self.task == "regression":
            if self.classes is not None:
                raise ValidationError("Dataset.classes must be None for regression")
            y = y.astype(np.float64)
            class_array = None
        else:
            raise ValidationError(
                f"Dataset.task must be 'classification' or 'regression'; got {self.task!r}"
            )
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "feature_names", [str(f) for f in self.feature_names])
        object.__setattr__(self, "_class_array", class_array)

    @property
    def n_classes(self) -> int | None:
        """Number of classes, or ``None`` for regression."""
        return None if self.classes is None else len(self.classes)

    def decode(self, y_int: np.ndarray | Sequence[int]) -> np.ndarray:
        """Map integer class codes (e.g. predictions) back to the original labels.

        Parameters
        ----------
        y_int : array-like of int
            Codes in ``0..n_classes-1``, any shape.

        Returns
        -------
        ndarray of str, same shape as ``y_int``

        Raises
        ------
        ValidationError
            For a regression data set, non-integer codes or codes out of range.
        """
        if self._class_array is None:
            raise ValidationError(
                f"{self.name} is a regression data set; there is nothing to decode"
            )
        codes = np.asarray(y_int)
        if codes.size == 0:
            return self._class_array[np.zeros(codes.shape, dtype=np.int64)]
        if codes.dtype.kind not in "iu":
            if (
                codes.dtype.kind != "f"
                or not np.all(np.isfinite(codes))
                or np.any(codes != np.round(codes))
            ):
                raise ValidationError(f"decode needs integer class codes; got dtype {codes.dtype}")
            codes = codes.astype(np.int64)
        k = len(self._class_array)
        if codes.min() < 0 or codes.max() >= k:
            raise ValidationError(
                f"class codes must be in 0..{k - 1}; got {int(codes.min())}..{int(codes.max())}"
            )
        result: np.ndarray = self._class_array[codes]
        return result


@dataclass(frozen=True, eq=False)
class Features(_Table):
    """Features without targets: what prediction reads.

    A :class:`Dataset` always has targets (its task, classes and target name describe them),
    so data read without a target column are this smaller record instead, not a Dataset with
    an empty ``y``.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        The features, one row per sample.
    feature_names : list of str
        One name per column of ``X``.
    name : str
        A short name for messages (the file name).

    Raises
    ------
    ValidationError
        If ``X`` is not 2-D or the names do not match its columns.
    """

    X: np.ndarray
    feature_names: list[str]
    name: str = "features"

    def __post_init__(self) -> None:
        X = _checked_matrix(self.X, self.feature_names, "Features")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "feature_names", [str(f) for f in self.feature_names])


def label_text(value: float) -> str:
    """The canonical text of a numeric class label: ``2.0 -> '2'``, ``0.5 -> '0.5'``."""
    if value == int(value):
        return str(int(value))
    return repr(float(value))


def wrong_target_shape(name: str, shape: tuple[int, ...], n_rows: int) -> str:
    """The message for targets ``name`` of ``shape`` where ``(n_rows,)`` is needed: one target
    per row. A table of several target columns is named as such, with what takes one."""
    message = f"{name} must have shape ({n_rows},) to match X; got {shape}"
    if len(shape) == 2 and shape[0] == n_rows and shape[1] > 1:
        message += (
            f": a data set has one target per row, and these are {shape[1]} target columns; "
            "train one model per column, or fit MLPRegressor (several values) or "
            "MLPClassifier (several labels per row) from chainrule.estimators on them"
        )
    return message


def class_text(label: object) -> str:
    """How a data file spells the class label ``label``, which is how labels read from files
    are matched with a model's: ``3 -> '3'``, ``2.0 -> '2'`` and ``0.5 -> '0.5'`` (as numeric
    labels are read from a CSV file), ``True -> 'True'`` (as pandas' ``to_csv`` writes it),
    text as it is."""
    if isinstance(label, bool | np.bool_):
        return str(bool(label))
    if isinstance(label, int | np.integer):  # exact: float(2**63 - 1) would round to 2**63
        return str(int(label))
    if isinstance(label, float | np.floating):
        return label_text(float(label))
    return str(label)


def encode_labels(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Encode labels as int64 codes of their sorted unique values.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Numeric labels (sorted numerically), booleans (``'False'``, ``'True'``, as a CSV file
        spells them) or strings (sorted as text).

    Returns
    -------
    codes : ndarray of shape (n,), int64
        ``classes[codes[i]]`` is the text of ``values[i]``.
    classes : list of str
    """
    unique, inverse = np.unique(values, return_inverse=True)
    classes = [class_text(v) for v in unique.tolist()]
    return inverse.reshape(-1).astype(np.int64), classes
