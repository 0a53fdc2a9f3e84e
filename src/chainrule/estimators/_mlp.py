"""scikit-learn's ``MLPClassifier`` and ``MLPRegressor``, trained by chainrule's engine.

The estimators take scikit-learn's constructor parameters with their meanings and set its fitted
attributes; the arithmetic is the engine's. Each minibatch step is

1. ``net.propagate(X_batch)``: the lecture's forward pass, ``e^(l) = W^(l) [h^(l-1); 1]``,
   ``h^(l) = g(e^(l))``;
2. ``net.back_propagate``: the engine's back-propagation, started from ``dL/de^(L)`` of a
   :class:`~chainrule.estimators._loss.SampleWeightedLoss` (the sample weights scale each token's
   ``dL/de^(L)``);
3. the L2 penalty ``alpha / (2 sum_i s_i) ||W||^2`` on the weights but not the bias column adds
   ``alpha W[:, :-1] / sum_i s_i`` to ``dL/dW^(l)`` (scikit-learn's ``alpha``);
4. the engine optimizer's ``step(params, grads)``.

Schedules and stopping follow scikit-learn's stochastic solvers: ``tol`` and ``n_iter_no_change``
on the training loss (or the validation score with ``early_stopping``), ``learning_rate``
'invscaling' and 'adaptive' (divide by 5) for the SGD solvers, initial weights drawn as
scikit-learn draws them (the same ``random_state`` gives the same initial ``coefs_``).

Differences from scikit-learn that remain: no 'lbfgs' solver; ``dtype`` (float32 by default) sets
the precision instead of the input's dtype; Adam's ``epsilon`` is added to ``sqrt(v_hat)`` as
PyTorch does, not to ``sqrt(v)`` (a difference of about ``epsilon``); SGD momentum is kept in
PyTorch's form ``b <- mu b + g``, ``w <- w - eta b``, rescaled when the rate changes so the steps
are scikit-learn's; ``max_fun`` (an L-BFGS bound) is accepted and unused; sparse input is made
dense; a diverging fit raises :class:`~chainrule.errors.DivergenceError` with the weights of the
last good epoch restored; Ctrl-C (warned of in scikit-learn's words) keeps the weights of the last
finished epoch, not those of the step it fell in; a negative sample weight, dates and durations
are refused; invalid hyper-parameters raise :class:`~chainrule.errors.ValidationError` (a
``ValueError``).
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Iterable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # type: ignore[import-untyped, unused-ignore]
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped, unused-ignore]
from sklearn.metrics import accuracy_score, r2_score  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import train_test_split  # type: ignore[import-untyped, unused-ignore]
from sklearn.preprocessing import LabelBinarizer  # type: ignore[import-untyped, unused-ignore]
from sklearn.utils import check_random_state  # type: ignore[import-untyped, unused-ignore]
from sklearn.utils.multiclass import (  # type: ignore[import-untyped, unused-ignore]
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (  # type: ignore[import-untyped, unused-ignore]
    _check_sample_weight,
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from chainrule.engine.losses import get_loss
from chainrule.engine.network import Network
from chainrule.engine.optimizers import SGD, Adam, Momentum, Optimizer
from chainrule.engine.trace import Trace, trace
from chainrule.errors import DivergenceError, ValidationError
from chainrule.estimators._loss import SampleWeightedLoss

Array = NDArray[np.floating]

HIDDEN_ACTIVATIONS = {
    "identity": "identity",
    "logistic": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
}
"""scikit-learn's activation names (plus 'leaky_relu') -> the engine's."""

OUTPUT_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "softmax": "softmax"}
"""``out_activation_`` -> the engine's output activation."""

_LOSSES = {"identity": "mse", "logistic": "binary_cross_entropy", "softmax": "cross_entropy"}
"""``out_activation_`` -> the engine loss paired with it."""

SOLVERS = ("adam", "momentum", "sgd")
_SGD_SOLVERS = ("momentum", "sgd")
_LEARNING_RATES = ("constant", "invscaling", "adaptive")
_DTYPES = ("float32", "float64")

_NUMERIC_KINDS = "biufc"
"""numpy's dtype kinds of numbers (complex included: a numeric column holds no words)."""

_Validation = tuple[Array, NDArray[Any], NDArray[Any], Array | None]
"""Early stopping's held-out part: ``X``, the targets as given (for the score), the engine's
targets (for the validation loss) and the sample weights."""


def _fail(name: str, expected: str, value: object, hint: str = "") -> ValidationError:
    return ValidationError(f"{name} must be {expected}; got {value!r}{hint}")


def _check_choice(name: str, value: object, options: Sequence[str], hint: str = "") -> None:
    if not (isinstance(value, str) and value in options):
        allowed = ", ".join(repr(o) for o in sorted(options))
        raise _fail(name, f"one of {allowed}", value, hint)


def _check_real(
    name: str,
    value: object,
    low: float,
    high: float = math.inf,
    *,
    closed: str = "left",
    hint: str = "",
) -> None:
    """``value`` a real number in the interval; ``closed`` is 'left', 'right', 'both', 'neither'."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        x = float(value)  # type: ignore[arg-type]
        above = x >= low if closed in ("left", "both") else x > low
        below = x <= high if closed in ("right", "both") else x < high
        ok = above and below and not math.isnan(x)
    if not ok:
        left = "[" if closed in ("left", "both") else "("
        right = "]" if closed in ("right", "both") else ")"
        raise _fail(name, f"a real number in {left}{low}, {high}{right}{hint}", value)


def _check_int(name: str, value: object, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise _fail(name, f"an integer >= {low}", value)


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool | np.bool_):
        raise _fail(name, "True or False", value)


def _check_random_state(value: object) -> None:
    """``None``, a seed numpy takes (an integer in [0, 2**32 - 1]) or a ``RandomState``, as
    scikit-learn's ``check_random_state``, whose own error does not name ``random_state``."""
    if value is None or isinstance(value, np.random.RandomState):
        return
    if not isinstance(value, numbers.Integral) or not 0 <= int(value) <= 2**32 - 1:
        raise _fail(
            "random_state",
            "None, an integer in [0, 2**32 - 1] or a numpy.random.RandomState",
            value,
        )


def _is_real(value: object) -> bool:
    """Whether ``value`` converts to a float (a number or a string of one, not ``None``)."""
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, for messages (``'a'``, not ``np.str_('a')``)."""
    return value.item() if isinstance(value, np.generic) else value


def _first_non_number(columns: Iterable[tuple[Any, NDArray[Any]]]) -> tuple[int, Any, Any] | None:
    """The row, column label and value of the first entry that is no real number (a word, a
    date, pandas' ``pd.NA``), column by column; ``None`` if every entry converts to a float.
    A column that numpy converts whole is not looked at entry by entry."""
    for label, values in columns:
        try:
            np.asarray(values, dtype=np.float64)
            continue
        except (TypeError, ValueError, OverflowError):
            pass
        row = next((i for i, v in enumerate(values) if not _is_real(v)), None)
        if row is not None:
            return row, label, _plain(values[row])
    return None


_POLARS_TIME_KINDS = {"Date": "M", "Datetime": "M", "Duration": "m"}
"""polars' dtypes of dates and durations (which have no numpy ``kind``) -> numpy's kinds."""


def _is_dataframe(X: Any) -> bool:
    """Whether ``X`` is a table of named, typed columns: pandas' or polars' DataFrame."""
    return hasattr(X, "columns") and hasattr(X, "dtypes")


def _column_dtypes(X: Any) -> list[tuple[Any, Any]]:
    """(label, dtype) of each column of a DataFrame: pandas' ``dtypes`` is a Series, polars'
    ``columns`` and ``dtypes`` are lists."""
    dtypes = X.dtypes
    if hasattr(dtypes, "items"):
        return list(dtypes.items())
    return list(zip(X.columns, dtypes, strict=True))


def _dtype_kind(dtype: Any) -> str:
    """numpy's kind of a column's dtype ('f', 'M', 'O', ...). numpy's and pandas' dtypes have
    one; polars' do not: a number counts as 'f', a date or duration as 'M' or 'm', else 'O'."""
    kind = getattr(dtype, "kind", None)
    if isinstance(kind, str):
        return kind
    is_numeric = getattr(dtype, "is_numeric", None)
    if callable(is_numeric) and is_numeric():
        return "f"
    return _POLARS_TIME_KINDS.get(type(dtype).__name__, "O")


def _column_values(X: Any, j: int) -> NDArray[Any]:
    """Column ``j`` of a DataFrame as an array of objects (by position: labels may repeat)."""
    column = X.iloc[:, j] if hasattr(X, "iloc") else X[:, j]
    return np.asarray(column, dtype=object)


def _columns_of(X: Any) -> Iterable[tuple[Any, NDArray[Any]]]:
    """The columns of ``X`` that may hold entries that are no numbers, as (label, entries): a
    DataFrame's (pandas', polars') by name, else by position. Numeric columns are left out (not
    copied into objects: this runs on the error path, maybe on a large ``X``), as is input that
    is no table (a ragged list, a sparse matrix, 1-D or 3-D input)."""
    if _is_dataframe(X):
        return (
            (name, _column_values(X, j))
            for j, (name, dtype) in enumerate(_column_dtypes(X))
            if _dtype_kind(dtype) not in _NUMERIC_KINDS
        )
    if hasattr(X, "toarray"):
        return ()
    try:
        array = np.asarray(X)
    except ValueError:  # ragged rows: scikit-learn's own error says so
        return ()
    if array.ndim != 2 or array.dtype.kind in _NUMERIC_KINDS:
        return ()
    return enumerate(array.T)


def _refuse_times(name: str, values: Any) -> None:
    """Refuse dates and durations (numpy's datetime64 and timedelta64, a DataFrame's columns of
    them): numpy casts them to counts of their unit (days, nanoseconds), on which the network
    trained silently, with numbers that depend on the unit; scikit-learn's MLP failed in numpy."""
    if _is_dataframe(values):
        dtypes = _column_dtypes(values)
    else:
        dtypes = [(None, getattr(values, "dtype", None))]
    for column, dtype in dtypes:
        kind = _dtype_kind(dtype)
        if kind in ("m", "M"):
            where = "" if column is None else f" in column {column!r}"
            what, how = (
                ("dates", "to days since a start date, (d - start) / numpy.timedelta64(1, 'D')")
                if kind == "M"
                else ("durations", "to seconds, d / numpy.timedelta64(1, 's')")
            )
            raise ValidationError(
                f"{name} holds {what}{where} (dtype {dtype}); the network needs real numbers: "
                f"convert them first, e.g. {how}"
            )


def _validate_table(estimator: Any, X: Any, *y: Any, **kwargs: Any) -> Any:
    """scikit-learn's ``validate_data(estimator, X, *y, **kwargs)``, with dates refused first
    (:func:`_refuse_times`) and an entry of ``X`` that is no number named by its row and column (a
    DataFrame's by name): numpy's "could not convert string to float: 'red'" named neither.

    The error's class is numpy's: a ``ValidationError`` (a ``ValueError``) for a word, a
    ``TypeError`` for an object of another type (a date, ``pd.NA``, a dict), as scikit-learn's
    estimator checks expect; the message carries ``float()``'s own words on the entry."""
    _refuse_times("X", X)
    try:
        return validate_data(estimator, X, *y, **kwargs)
    except (TypeError, ValueError) as err:
        found = _first_non_number(_columns_of(X))
        if found is None or isinstance(found[2], numbers.Number):  # complex: scikit-learn's words
            raise
        row, column, value = found
        try:
            float(value)
        except (TypeError, ValueError) as not_real:
            why = str(not_real)
        if _is_pandas_missing_type(type(value)):
            hint = "a missing value: fill it (e.g. SimpleImputer in a Pipeline) or drop the row"
        else:
            hint = (
                "encode text, categories and dates as numbers first (e.g. OneHotEncoder in a "
                "ColumnTransformer) or drop the column"
            )
        error = ValidationError if isinstance(err, ValueError) else TypeError
        raise error(
            f"X must hold real numbers; got {value!r} at row {row}, column {column!r} ({why}): "
            f"{hint}"
        ) from None


def _finite_as(values: NDArray[Any], dtype: np.dtype[Any], name: str) -> Array:
    """``values`` (2-D) as a C-contiguous array of ``dtype``, refused by row and column where an
    entry is no number (a string, ``None``), not finite (NaN: ``None`` in an object array of
    targets becomes NaN), or overflows in the cast (a float64 like 1e39 is inf in float32).

    ``X`` reaches this unchecked for NaN and infinity (``ensure_all_finite=False``): scikit-learn's
    "Input X contains NaN." named neither the row nor the column, this names both."""
    try:
        with np.errstate(over="ignore"):
            converted: Array = np.ascontiguousarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError):  # numpy's names no array, row or column
        row, column, value = _first_non_number(enumerate(values.T)) or (0, 0, values[0, 0])
        raise ValidationError(
            f"{name} must hold numbers; got {value!r} at row {row}, column {column}"
        ) from None
    if not np.isfinite(converted).all():
        row, column = np.argwhere(~np.isfinite(converted))[0]
        value = _plain(values[row, column])
        if not np.isfinite(np.asarray(values[row, column], dtype=np.float64)):
            what = "NaN" if np.isnan(converted[row, column]) else "infinity"
            raise ValidationError(  # scikit-learn's words first, as its estimator checks expect
                f"Input {name} contains {what}. {name} must hold finite numbers; got {value!r} "
                f"at row {row}, column {column}"
            )
        raise ValidationError(
            f"{name} has values too large for dtype={dtype.name!r} (first at row {row}, column "
            f"{column}: {value!r} is not finite as {dtype.name}); use "
            f"dtype='float64' or rescale {name}"
        )
    return converted


def _label_kind(label_type: type) -> str:
    """What a class label of ``label_type`` is, in the words of :func:`_check_label_kinds`."""
    if label_type is type(None) or _is_pandas_missing_type(label_type):
        return "None"  # no label at all
    if issubclass(label_type, str):
        return "a string"
    if issubclass(label_type, numbers.Number | bool | np.bool_):
        return "a number"
    return label_type.__name__


def _check_label_kinds(name: str, labels: ArrayLike) -> None:
    """Refuse class labels that cannot be sorted into ``classes_``: ``None`` (a missing label),
    or strings mixed with numbers in an object array (as pandas reads a column of both). numpy's
    sort fails on them with a ``TypeError`` that names neither ``name`` nor the row."""
    array = np.asarray(labels)
    if array.dtype != object:
        return
    flat = array.ravel()
    kinds = {_label_kind(t) for t in set(map(type, flat))}  # one pass in C, not one per label
    if len(kinds) == 1 and "None" not in kinds:
        return
    per_row = flat.size // max(len(array), 1)  # labels per sample: 1, or k of a 2-D y
    first = _label_kind(type(flat[0]))
    for i, label in enumerate(flat):
        kind = _label_kind(type(label))
        if kind == "None":
            raise ValidationError(
                f"{name} has no class label ({label!r}) at row {i // per_row}; give every sample a "
                "label or drop the samples without one"
            )
        if kind != first:
            raise ValidationError(
                f"{name} mixes kinds of class labels: {flat[0]!r} ({first}) at row 0 and "
                f"{label!r} ({kind}) at row {i // per_row}; class labels must be all strings or "
                "all numbers"
            )


def _is_pandas_missing_type(value_type: type) -> bool:
    """Whether ``value_type`` is the type of pandas' missing values ``pd.NA`` and ``pd.NaT``
    (each the one value of its type), as a Series of a nullable dtype ('string', 'Int64', ...)
    or of objects holds them. pandas is not imported for this: a value of pandas exists only
    once pandas is."""
    pandas = sys.modules.get("pandas")
    return pandas is not None and value_type in (type(pandas.NA), type(pandas.NaT))


def _is_missing_target(value: object) -> bool:
    """A target that is no value: a NaN or infinite float, or pandas' ``pd.NA``/``pd.NaT``."""
    if isinstance(value, float | np.floating):
        return not math.isfinite(value)
    return _is_pandas_missing_type(type(value))


def _check_targets_present(y: ArrayLike) -> None:
    """Refuse ``y`` with a NaN, infinite or missing (``pd.NA``) target, naming the first one's
    row (and column): scikit-learn's "Input y contains NaN." said neither, for a NaN among text
    labels only "Input contains NaN", and for ``pd.NA`` in a Series of objects or strings it
    failed with pandas' "boolean value of NA is ambiguous". Its words start the message, as its
    estimator checks expect."""
    array = np.asarray(y)
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
    elif array.dtype == object:
        bad = np.fromiter(
            (_is_missing_target(v) for v in array.flat), dtype=bool, count=array.size
        ).reshape(array.shape)
    else:
        return
    if not bad.any():
        return
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    if _is_pandas_missing_type(type(array[where])):
        value: object = array[where]
        what = "NaN (a missing value)"
    else:
        value = float(array[where])
        what = "NaN" if math.isnan(value) else "infinity or a value too large for dtype('float64')"
    place = f"row {where[0]}" + (f", column {where[1]}" if len(where) > 1 else "")
    raise ValidationError(
        f"Input y contains {what}. The first, {value!r}, is at {place}: give every sample a "
        "target, or drop the samples without one"
    )


def _checked_sample_weight(sample_weight: ArrayLike | None, X: Array) -> Array | None:
    """``sample_weight`` as scikit-learn's check gives it (a weight per row of ``X``, in ``X``'s
    dtype), with a NaN, infinite or negative weight refused by its row: scikit-learn's "Input
    sample_weight contains NaN." and "Negative values in data passed to `sample_weight`." named
    none. Its words start the message. A negative weight is refused (scikit-learn's MLP takes
    one): it rewards the loss of its sample, which gradient descent then drives up without bound.
    """
    if sample_weight is None:
        return None
    values = check_array(  # any shape: a scalar or a wrong shape is left to scikit-learn's check
        sample_weight,
        ensure_2d=False,
        allow_nd=True,
        dtype=np.float64,
        ensure_all_finite=False,
        ensure_min_samples=0,
        input_name="sample_weight",
    )
    if values.ndim == 1:
        bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))  # NaN fails both tests
        if bad.size:
            row = int(bad[0])
            value = float(values[row])
            if math.isnan(value):
                what = "Input sample_weight contains NaN."
            elif math.isinf(value) and value > 0:
                what = "Input sample_weight contains infinity."
            else:
                what = "Negative values in data passed to `sample_weight`."
            raise ValidationError(
                f"{what} sample_weight must hold finite numbers >= 0; got {value!r} at row "
                f"{row}: give every sample a weight (0 leaves a sample out)"
            )
    checked: Array = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
    return checked


def _loss_hint(loss: object) -> str:
    """What a regressor's wrong ``loss`` probably meant: ``loss`` is its first argument, as in
    scikit-learn, so ``MLPRegressor((64, 64))`` gives layer widths as the loss."""
    if loss == "poisson":
        return " ('poisson' needs an exponential output unit, which chainrule does not have)"
    if isinstance(loss, int | tuple | list) and not isinstance(loss, bool):
        return (
            "; loss is the first argument, as in scikit-learn: give the layer widths by name, "
            f"MLPRegressor(hidden_layer_sizes={loss!r})"
        )
    return ""


def _as_rows(x: Any) -> Any:
    """``x`` as rows of samples: 2-D input as it is (a DataFrame keeps its column names, which
    are checked against ``feature_names_in_``), one sample (1-D, a pandas Series) as one row."""
    if getattr(x, "ndim", None) == 2:  # an array, a DataFrame, a sparse matrix
        return x
    if hasattr(x, "to_frame"):  # a Series: one row whose columns are its index
        return x.to_frame().T
    return np.atleast_2d(np.asarray(x))


def _copy_into(name: str, views: list[Array], values: Sequence[ArrayLike]) -> None:
    """Copy ``values`` into the network's ``views`` (the whole list: shapes checked first)."""
    arrays = [np.asarray(v) for v in values]
    if len(arrays) != len(views):
        raise ValidationError(f"{name} needs {len(views)} arrays, one per layer; got {len(arrays)}")
    for l, (view, array) in enumerate(zip(views, arrays, strict=True)):
        if array.shape != view.shape:
            raise ValidationError(f"{name}[{l}] must have shape {view.shape}; got {array.shape}")
        real = np.issubdtype(array.dtype, np.number) and not np.iscomplexobj(array)
        if not real or not np.isfinite(array).all():
            raise ValidationError(f"{name}[{l}] must hold finite real numbers; got {array.dtype}")
    for view, array in zip(views, arrays, strict=True):
        np.copyto(view, array, casting="same_kind")


class _MLP(BaseEstimator):  # type: ignore[misc]
    """What the classifier and the regressor share: parameters, fitting loop, attributes."""

    _output_kind = ""
    _rescale_hint = "standardise X (e.g. StandardScaler in a Pipeline)"
    """What to rescale when training diverges: the inputs (a regressor's targets too)."""

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        dtype: str = "float32",
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype

    # -- hyper-parameters ----------------------------------------------------------------

    def _check_parameters(self) -> list[int]:
        """Check every hyper-parameter (scikit-learn checks them in ``fit``); return the widths."""
        sizes: Any = self.hidden_layer_sizes
        try:
            if isinstance(sizes, str | bytes):  # iterable, but its characters are no widths
                raise TypeError(sizes)
            widths: list[Any] = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        except TypeError:
            raise _fail(
                "hidden_layer_sizes", "an integer or a sequence of integers", sizes
            ) from None
        for i, width in enumerate(widths):
            _check_int(f"hidden_layer_sizes[{i}]", width)
        _check_choice("activation", self.activation, list(HIDDEN_ACTIVATIONS))
        _check_choice(
            "solver",
            self.solver,
            SOLVERS,
            hint=" ('lbfgs' is not available: chainrule trains by back-propagation with "
            "minibatch gradient descent; use 'adam', 'sgd' or 'momentum')"
            if self.solver == "lbfgs"
            else "",
        )
        _check_real("alpha", self.alpha, 0.0)
        if self.batch_size != "auto" and (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, numbers.Integral)
            or self.batch_size < 1
        ):
            raise _fail("batch_size", "'auto' or an integer >= 1", self.batch_size)
        _check_choice("learning_rate", self.learning_rate, _LEARNING_RATES)
        _check_real("learning_rate_init", self.learning_rate_init, 0.0, closed="neither")
        _check_real("power_t", self.power_t, 0.0)
        _check_int("max_iter", self.max_iter)
        for flag in ("shuffle", "warm_start", "nesterovs_momentum", "early_stopping"):
            _check_bool(flag, getattr(self, flag))
        _check_real("tol", self.tol, 0.0)
        _check_real("momentum", self.momentum, 0.0, 1.0, closed="both")  # as scikit-learn
        if self.early_stopping:  # a validation set must hold at least one sample
            _check_real(
                "validation_fraction",
                self.validation_fraction,
                0.0,
                1.0,
                closed="neither",
                hint=" with early_stopping=True",
            )
        else:
            _check_real("validation_fraction", self.validation_fraction, 0.0, 1.0)
        _check_real("beta_1", self.beta_1, 0.0, 1.0)
        _check_real("beta_2", self.beta_2, 0.0, 1.0)
        _check_real("epsilon", self.epsilon, 0.0, closed="neither")
        if self.n_iter_no_change != math.inf and (
            isinstance(self.n_iter_no_change, bool)
            or not isinstance(self.n_iter_no_change, numbers.Integral)
            or self.n_iter_no_change < 1
        ):
            raise _fail("n_iter_no_change", "an integer >= 1 or numpy.inf", self.n_iter_no_change)
        _check_int("max_fun", self.max_fun)
        _check_choice("dtype", self.dtype, _DTYPES)
        _check_random_state(self.random_state)
        return [int(w) for w in widths]

    def _make_optimizer(self) -> Optimizer:
        lr = float(self.learning_rate_init)
        if self.solver == "adam":
            return Adam(lr, float(self.beta_1), float(self.beta_2), float(self.epsilon))
        if self.momentum == 0:
            return SGD(lr)  # the lecture's w <- w - eta dL/dw
        return Momentum(lr, float(self.momentum), nesterov=bool(self.nesterovs_momentum))

    # -- the data ------------------------------------------------------------------------

    def _validate_X(self, X: ArrayLike, *, reset: bool) -> Array:
        X = _validate_table(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,  # refused by _dense, which names the row and the column
            reset=reset,
        )
        return self._dense(X, reset)

    def _network_dtype(self, reset: bool) -> str:
        """The dtype of the network the data goes to: a new one's (``dtype``), or the fitted
        one's, which a later ``set_params(dtype=...)`` does not change until the next fit."""
        return self.dtype if reset else self.network_.dtype.name

    def _dense(self, X: Any, reset: bool) -> Array:
        dense = X.toarray() if hasattr(X, "toarray") else X
        return _finite_as(dense, np.dtype(self._network_dtype(reset)), "X")

    def _validate_input(
        self, X: ArrayLike, y: ArrayLike, incremental: bool, reset: bool
    ) -> tuple[Array, NDArray[Any]]:
        """Checked ``X`` (network dtype) and ``Y``, the targets as an ``(n, k)`` matrix."""
        _check_targets_present(y)
        if self._output_kind == "regression":  # dates are fine as class labels
            _refuse_times("y", y)
        X_checked, y_checked = _validate_table(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=self._output_kind == "regression",
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,  # X: refused by _dense, naming the row (y: checked above)
            reset=reset,
        )
        if y_checked.ndim == 2 and y_checked.shape[1] == 1:
            y_checked = column_or_1d(y_checked, warn=True)
        return self._dense(X_checked, reset), self._target_matrix(y_checked, incremental)

    def _target_matrix(self, y: NDArray[Any], incremental: bool) -> NDArray[Any]:
        raise NotImplementedError

    def _known_targets(self, y: NDArray[Any]) -> NDArray[Any]:
        """``y`` as the fitted model's ``(n, k)`` target matrix, fitting nothing."""
        raise NotImplementedError

    def _multi_output(self) -> bool:
        """Whether a sample's target is a row of ``k`` values (multi-output, multilabel)."""
        raise NotImplementedError

    def _engine_targets(self, Y: NDArray[Any]) -> NDArray[Any]:
        """Targets in the form the output layer's loss takes: class indices for softmax."""
        if self.out_activation_ == "softmax":
            indices: NDArray[Any] = np.argmax(Y, axis=1)
            return indices
        return _finite_as(Y, self.network_.dtype, "y")

    # -- fitting -------------------------------------------------------------------------

    def _output_activation(self) -> str:
        raise NotImplementedError

    def _initialize(self, n_features: int, hidden: list[int], Y: NDArray[Any], rs: Any) -> None:
        """Fresh weights, drawn as scikit-learn draws them, and fresh training state."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = int(Y.shape[1])
        self.out_activation_ = self._output_activation()
        sizes = [n_features, *hidden, self.n_outputs_]
        self.n_layers_ = len(sizes)
        # Glorot's uniform bound, sqrt(6 / (n_in + n_out)) (sqrt(2 / ...) for logistic units)
        factor = 2.0 if self.activation == "logistic" else 6.0
        weights = []
        for l, (n_in, n_out) in enumerate(pairwise(sizes), start=1):
            bound = np.sqrt(factor / (n_in + n_out))
            try:
                coef = rs.uniform(-bound, bound, (n_in, n_out))
            except MemoryError:  # e.g. hidden_layer_sizes=(10**12,): refused, not a traceback
                raise ValidationError(
                    f"W^({l}) would hold {n_out * (n_in + 1):,} weights ({n_in} inputs -> "
                    f"{n_out} units), more than this machine can allocate; use fewer units"
                ) from None
            intercept = rs.uniform(-bound, bound, n_out)
            weights.append(np.column_stack([coef.T, intercept]))  # W^(l) = [coef.T | intercept]
        hidden_activation = HIDDEN_ACTIVATIONS[self.activation]
        activations = [hidden_activation] * len(hidden) + [OUTPUT_ACTIVATIONS[self.out_activation_]]
        loss = _LOSSES[self.out_activation_]
        self.network_ = Network.from_weights(weights, activations, dtype=self.dtype, loss=loss)
        self._reset_training_state()

    def _reset_training_state(self) -> None:
        self._loss = SampleWeightedLoss(get_loss(_LOSSES[self.out_activation_]), self.n_outputs_)
        self.loss_curve_: list[float] = []
        self._reset_stopping_state()

    def _reset_stopping_state(self) -> None:
        """The record of the stopping rule in force, begun from the current weights: validation
        scores with ``early_stopping``, the best training loss without (scikit-learn's
        attributes for each), and the best weights so far."""
        self._best_weights = [W.copy(order="K") for W in self.network_.weights]
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.validation_loss_curve_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.validation_scores_ = None
            self.validation_loss_curve_ = None
            self.best_validation_score_ = None
            self.best_loss_ = np.inf

    def _fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None, incremental: bool
    ) -> _MLP:
        hidden = self._check_parameters()
        if self.early_stopping and incremental:
            raise ValidationError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        X_checked, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if not first_pass:
            self._check_continuation(Y, hidden)
        weights = _checked_sample_weight(sample_weight, X_checked)
        rs = check_random_state(self.random_state)
        if first_pass:
            self._initialize(X_checked.shape[1], hidden, Y, rs)
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        # The weights and the optimizer's state (momentum, Adam's moments) at the end of the last
        # good epoch: a diverging fit restores both, so partial_fit can go on at a lower rate.
        self._good_weights = [W.copy(order="K") for W in self.network_.weights]
        self._good_optimizer = self._optimizer.state_dict()
        try:
            with np.errstate(under="ignore"):  # exp(-large) -> 0 is the exact answer
                self._fit_stochastic(X_checked, Y, weights, rs, incremental)
        except FloatingPointError as err:  # overflow under np.seterr(all="raise")
            self._restore_last_good_epoch()
            if isinstance(err, DivergenceError):
                raise
            raise self._divergence(str(err)) from None
        except KeyboardInterrupt:  # as scikit-learn: a warning, and a model to go on with
            self._restore_last_good_epoch()
            if self.early_stopping:  # the best epoch's weights, as at the end of a whole fit
                self.network_.set_weights(self._best_weights)
            warnings.warn("Training interrupted by user.", UserWarning, stacklevel=3)
        finally:  # the last batch's (or validation set's) weights: data, not model
            self._loss.weigh(None)
        return self

    def _restore_last_good_epoch(self) -> None:
        """Drop the unfinished epoch: the weights and the optimizer's state (momentum, Adam's
        moments) at the end of the last finished one, which ``n_iter_``, ``t_`` and
        ``loss_curve_`` tell of. A Ctrl-C may fall between the updates of one step."""
        self.network_.set_weights(self._good_weights)
        self._optimizer.load_state_dict(self._good_optimizer)

    def _check_continuation(self, Y: NDArray[Any], hidden: list[int]) -> None:
        """Before training on from the fitted weights (``warm_start``, ``partial_fit``): the
        hidden layers set now must be the fitted network's (else the old network trained on,
        silently), ``Y`` must have the fitted number of outputs (a mismatch would broadcast in
        the loss, not fail), and the stopping record is begun afresh where ``early_stopping``
        was switched."""
        fitted = self.network_.sizes[1:-1]
        fitted_activation = self.network_.activations[0] if fitted else None
        if hidden != fitted or (
            hidden and HIDDEN_ACTIVATIONS[self.activation] != fitted_activation
        ):
            raise ValidationError(
                f"hidden_layer_sizes={tuple(hidden)} with activation={self.activation!r} differ "
                f"from the fitted network's {tuple(fitted)} {fitted_activation} units; training "
                "on from the fitted weights needs the same layers: call fit with warm_start=False "
                "to start anew"
            )
        if Y.shape[1] != self.n_outputs_:
            raise ValidationError(
                f"y has {Y.shape[1]} output column(s); the fitted network has "
                f"n_outputs_={self.n_outputs_}; to change the outputs, call fit with "
                "warm_start=False"
            )
        if (self.validation_scores_ is not None) != self.early_stopping:
            self._reset_stopping_state()

    def _divergence(self, what: str) -> DivergenceError:
        return DivergenceError(
            f"training diverged in iteration {self.n_iter_ + 1}: {what}. Lower "
            f"learning_rate_init (now {self.learning_rate_init}) or {self._rescale_hint}.",
            epoch=self.n_iter_,
            history=self.loss_curve_,
            cause=what,
        )

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:  # type: ignore[operator]
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n} training samples; using {n}",
                UserWarning,
                stacklevel=4,
            )
        return min(int(self.batch_size), n)

    def _fit_stochastic(
        self,
        X: Array,
        Y: NDArray[Any],
        sample_weight: Array | None,
        rs: Any,
        incremental: bool,
    ) -> None:
        # before the split, so that a refused target is named by the caller's row
        T = self._engine_targets(Y)
        validation: _Validation | None = None
        if self.early_stopping:
            stratify = Y if self._output_kind == "classification" and self.n_outputs_ == 1 else None
            self._check_validation_split(Y, stratified=stratify is not None)
            arrays = (X, T, Y) if sample_weight is None else (X, T, Y, sample_weight)
            parts = train_test_split(
                *arrays,
                random_state=rs,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            X, X_val, T, T_val, _, Y_val = parts[:6]
            sample_weight, w_val = (None, None) if sample_weight is None else parts[6:]
            validation = (X_val, Y_val, T_val, w_val)
        n = len(X)
        batch_size = self._batch_size(n)
        order = np.arange(n)
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            if self.shuffle:
                order = order[rs.permutation(n)]  # scikit-learn's reshuffle of the last order
            accumulated = 0.0
            for start in range(0, n, batch_size):
                rows = order[start : start + batch_size]
                w = None if sample_weight is None else sample_weight[rows]
                accumulated += self._step(X[rows], T[rows], w) * len(rows)
            # before the epoch is counted: the error, n_iter_, t_ and loss_curve_ then tell of
            # the good epochs only, whose weights are restored
            if not np.isfinite(self.network_.weight_vector).all():  # every layer at once
                raise self._divergence("the weights became non-finite")
            self.n_iter_ += 1
            self.loss_ = accumulated / n
            self.t_ += n
            self.loss_curve_.append(self.loss_)
            for good, W in zip(self._good_weights, self.network_.weights, strict=True):
                np.copyto(good, W)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            self._update_no_improvement_count(validation)
            if self.solver in _SGD_SOLVERS and self.learning_rate == "invscaling":
                # eta_t = eta_0 / (t + 1)^power_t, t = samples seen so far
                self._set_learning_rate(
                    float(self.learning_rate_init) / (self.t_ + 1) ** float(self.power_t)
                )
            if self._no_improvement_count > self.n_iter_no_change:
                if self._stop_or_slow_down():
                    break
                self._no_improvement_count = 0
            # the state the next epoch starts from: with the rate the schedule just set
            self._good_optimizer = self._optimizer.state_dict()
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                    "the optimization hasn't converged yet.",
                    ConvergenceWarning,
                    stacklevel=4,
                )
        if validation is not None:
            self.network_.set_weights(self._best_weights)

    def _check_validation_split(self, Y: NDArray[Any], *, stratified: bool) -> None:
        """Refuse an early-stopping split that ``train_test_split`` would refuse, by the names
        the caller knows: its errors named its own ``test_size``, not ``validation_fraction``, and
        a binary class by its binarised label (``'True'``), not the caller's. The sizes are its
        own: ``ceil(validation_fraction * n)`` samples held out. A split stratified by class (a
        classifier of one label per sample, as scikit-learn's) needs 2 samples of each class."""
        n = len(Y)
        fraction = self.validation_fraction
        n_val = math.ceil(float(fraction) * n)
        if n_val < 2:
            raise ValidationError(
                f"validation_fraction={fraction} leaves {n_val} validation sample(s) of the {n}; "
                "at least 2 are needed: increase it or add data"
            )
        if not stratified:
            needed = 1
        else:
            positives = int(np.count_nonzero(Y))  # binary: one 0/1 column
            counts = (n - positives, positives)  # zip stops at one class where y has one
            for label, count in zip(self.classes_, counts, strict=False):
                if count < 2:
                    raise ValidationError(
                        "early_stopping=True holds out a validation set with the same share of "
                        f"each class, which needs at least 2 samples of each; class "
                        f"{_plain(label)!r} has {count} of the {n}: add samples of it or set "
                        "early_stopping=False"
                    )
            needed = len(self.classes_)
        if n - n_val < needed:
            raise ValidationError(
                f"validation_fraction={fraction} leaves {n - n_val} of the {n} samples for "
                f"training; at least {needed} are needed{' (one per class)' if needed > 1 else ''}"
                ": lower it or add data"
            )

    def _step(self, X: Array, T: NDArray[Any], sample_weight: Array | None) -> float:
        """One minibatch: forward, the engine's back-propagation, L2 on ``dL/dW``, the update.

        Returns the batch's loss ``sum_i s_i l_i / sum_i s_i + alpha/(2 sum_i s_i) ||W||^2``.
        """
        net = self.network_
        total_weight = len(X) if sample_weight is None else float(sample_weight.sum())
        if total_weight == 0:
            return 0.0  # only zero-weight tokens: nothing to learn from this batch
        self._loss.weigh(sample_weight)
        net.propagate(X)
        loss = net.output_loss(T, self._loss)
        if not math.isfinite(loss):
            raise self._divergence(f"the loss became {loss}")
        net.back_propagate(T, self._loss)
        squared_norm = 0.0
        for W, dL_dW in zip(net.weights, net.gradients, strict=True):
            weights_only = W[:, :-1]  # the bias column is not penalised
            squared_norm += float(np.vdot(weights_only, weights_only))
            # d/dW [alpha / (2 sum_i s_i) ||W||^2] = alpha W / sum_i s_i
            dL_dW[:, :-1] += (self.alpha / total_weight) * weights_only
        self._optimizer.step([net.weight_vector], [net.gradient_vector])  # every layer at once
        return loss + 0.5 * self.alpha * squared_norm / total_weight

    def _update_no_improvement_count(self, validation: _Validation | None) -> None:
        if validation is None:
            assert self.best_loss_ is not None
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
            return
        X_val, Y_val, T_val, w_val = validation
        assert self.validation_scores_ is not None and self.validation_loss_curve_ is not None
        assert self.best_validation_score_ is not None
        self._loss.weigh(w_val)
        h = self.network_.propagate(X_val)
        self.validation_loss_curve_.append(self.network_.output_loss(T_val, self._loss))
        score = self._validation_score(self._outputs_to_predictions(h), Y_val, w_val)
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_weights = [W.copy(order="K") for W in self.network_.weights]

    def _validation_score(
        self, predictions: NDArray[Any], Y_val: NDArray[Any], w_val: Array | None
    ) -> float:
        raise NotImplementedError

    def _set_learning_rate(self, eta: float) -> None:
        """Change the SGD learning rate as scikit-learn does.

        scikit-learn's momentum keeps ``v = mu v - eta g`` (steps already scaled by the rate in
        force when they were taken); the engine's keeps ``b = mu b + g`` and steps by
        ``eta b``. Rescaling ``b`` by ``eta_old / eta_new`` keeps ``eta b = -v``, so the
        schedules give scikit-learn's updates exactly.
        """
        optimizer = self._optimizer
        if isinstance(optimizer, Momentum):
            for b in optimizer.velocity:
                b *= optimizer.learning_rate / eta
        optimizer.learning_rate = eta

    def _stop_or_slow_down(self) -> bool:
        """scikit-learn's ``trigger_stopping``: 'adaptive' SGD divides the rate by 5 first."""
        what = "Validation score" if self.early_stopping else "Training loss"
        message = (
            f"{what} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        optimizer = self._optimizer
        if (
            self.solver in _SGD_SOLVERS
            and self.learning_rate == "adaptive"
            and optimizer.learning_rate > 1e-6
        ):
            self._set_learning_rate(optimizer.learning_rate / 5.0)
            if self.verbose:
                print(f"{message} Setting learning rate to {optimizer.learning_rate:f}")
            return False
        if self.verbose:
            print(f"{message} Stopping.")
        return True

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> _MLP:
        """Fit the network to ``X`` (n_samples, n_features) and ``y``; ``sample_weight`` weighs
        each sample's loss. Returns ``self``."""
        return self._fit(X, y, sample_weight, incremental=False)

    # -- prediction ----------------------------------------------------------------------

    def _forward(self, X: ArrayLike) -> Array:
        """``h^(L)`` for checked ``X``: the output layer's activations."""
        check_is_fitted(self)
        X_checked = self._validate_X(X, reset=False)
        with np.errstate(under="ignore"):
            return self.network_.infer(X_checked)  # keeps nothing: thread-safe

    def _outputs_to_predictions(self, h: Array) -> NDArray[Any]:
        raise NotImplementedError

    def explain(self, x: ArrayLike, y: ArrayLike | None = None) -> Trace:
        """Trace one sample ``x`` (or a few rows) through :attr:`network_`, in the lecture's terms.

        With targets ``y`` (class labels as in ``fit``, or target values) the backward pass and
        one gradient step of ``learning_rate_init`` are traced too. Returns the engine's
        :class:`~chainrule.engine.trace.Trace` (``e``, ``h``, ``dL/dh``, ``dL/de``, ``dL/dW`` of
        every layer ``l = 1..L``), recorded from the real computation on a copy of the network;
        ``chainrule.engine.explain.to_text(trace)`` renders it.
        """
        check_is_fitted(self)
        x_checked = self._validate_X(_as_rows(x), reset=False)
        targets = None
        if y is not None:
            y_array = np.atleast_1d(np.asarray(y))
            if y_array.ndim == 1 and self._multi_output():  # one sample's k targets
                y_array = y_array[None, :]
            targets = self._engine_targets(self._known_targets(y_array))
        return trace(
            self.network_, x_checked, targets, learning_rate=float(self.learning_rate_init)
        )

    def to_sklearn(self) -> Any:
        """The fitted ``sklearn.neural_network`` estimator with these parameters and weights.

        Raises :class:`~chainrule.errors.ValidationError` for 'leaky_relu' (scikit-learn lacks it).
        """
        from chainrule.estimators._convert import to_sklearn

        return to_sklearn(self)

    # -- scikit-learn's attributes, views of the engine's W^(l) ---------------------------

    @property
    def coefs_(self) -> list[Array]:
        """``coefs_[l - 1]`` of shape ``(n_in, n_out)``: a view of ``W^(l)[:, :-1].T``.

        Writing into a view changes the network; so does assigning a whole list (copied in).
        Replacing one item of the returned list does not: the list is made on each access.
        """
        check_is_fitted(self)
        return [W[:, :-1].T for W in self.network_.weights]

    @coefs_.setter
    def coefs_(self, coefs: Sequence[ArrayLike]) -> None:
        _copy_into("coefs_", self.coefs_, coefs)

    @property
    def intercepts_(self) -> list[Array]:
        """``intercepts_[l - 1]`` of shape ``(n_out,)``: a view of the bias column of ``W^(l)``
        (written into or assigned as a whole list, as :attr:`coefs_`)."""
        check_is_fitted(self)
        return [W[:, -1] for W in self.network_.weights]

    @intercepts_.setter
    def intercepts_(self, intercepts: Sequence[ArrayLike]) -> None:
        _copy_into("intercepts_", self.intercepts_, intercepts)

    # -- pickling: rebuild the network so unpickled weights are writable, buffers fresh ----

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())  # a copy: not self.__dict__
        network = state.pop("network_", None)
        if network is not None:
            state["_network_weights"] = [W.copy() for W in network.weights]
            state["_network_activations"] = network.activations
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights = state.pop("_network_weights", None)
        activations = state.pop("_network_activations", None)
        super().__setstate__(state)
        if weights is not None:
            self.network_ = Network.from_weights(  # the fitted dtype, not a later set_params'
                weights, activations, dtype=weights[0].dtype, loss=_LOSSES[self.out_activation_]
            )
            if hasattr(self, "_optimizer"):
                self._optimizer.load_state_dict(self._optimizer.state_dict())
            self._best_weights = [np.array(W, copy=True) for W in self._best_weights]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, _MLP):  # type: ignore[misc]
    """Multi-layer perceptron classifier: ``sklearn.neural_network.MLPClassifier``'s interface,
    chainrule's engine.

    Binary targets train one logistic (sigmoid) output with binary cross-entropy, multiclass
    targets a softmax output with the lecture's cross-entropy ``L = -ln h_y``, multilabel targets
    (a 0/1 matrix) one logistic output per label. Parameters and fitted attributes are
    scikit-learn's (see the module docstring for the differences), plus ``dtype`` ('float32' or
    'float64'), ``network_`` (the engine :class:`~chainrule.engine.network.Network`),
    ``validation_loss_curve_`` and :meth:`explain`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier((16,), max_iter=300, random_state=0).fit(X, y)
    >>> clf.network_
    Network(4 inputs -> 16 relu, 3 softmax; float32)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    _output_kind = "classification"

    def _target_matrix(self, y: NDArray[Any], incremental: bool) -> NDArray[Any]:
        _check_label_kinds("y", y)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        elif self.warm_start:
            self._check_label_layout(y)
            classes = unique_labels(y)
            if set(classes) != set(self.classes_):
                raise ValidationError(
                    "warm_start can only be used where y has the same classes as in the "
                    f"previous call to fit; previously got {self.classes_}, y has {classes}"
                )
        return self._known_targets(y)

    def _known_targets(self, y: NDArray[Any]) -> NDArray[Any]:
        """``y`` binarised by the fitted :attr:`classes_`; a label not among them is refused
        (the binariser would make it a row of zeros, silently class 0 for softmax)."""
        _check_label_kinds("y", y)
        check_classification_targets(y)
        self._check_label_layout(y)
        classes = unique_labels(y)
        if len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise ValidationError(
                f"y has classes not in classes_: classes_ is {self.classes_}, y has {classes}"
            )
        binarized: NDArray[Any] = self._label_binarizer.transform(y).astype(bool)
        return binarized

    def _check_label_layout(self, y: NDArray[Any]) -> None:
        """``y`` laid out as in fit: one label per sample, or a multilabel indicator matrix with
        a column per class (scikit-learn's binariser refuses a mismatch without naming ``y``)."""
        matrix = y.ndim == 2 and y.shape[1] > 1
        multilabel = self._multi_output()
        if matrix == multilabel and (not matrix or y.shape[1] == len(self.classes_)):
            return
        given = f"a matrix of {y.shape[1]} columns" if matrix else "a label per sample"
        fitted = (
            f"a multilabel matrix of {len(self.classes_)} columns"
            if multilabel
            else f"a label per sample (classes_ is {self.classes_})"
        )
        raise ValidationError(f"y has {given}; this model was fitted on {fitted}")

    def _multi_output(self) -> bool:
        return bool(self._label_binarizer.y_type_.startswith("multilabel"))

    def _output_activation(self) -> str:
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _outputs_to_predictions(self, h: Array) -> NDArray[Any]:
        labels: NDArray[Any] = self._label_binarizer.inverse_transform(
            h.ravel() if self.n_outputs_ == 1 else h
        )
        return labels

    def _validation_score(
        self, predictions: NDArray[Any], Y_val: NDArray[Any], w_val: Array | None
    ) -> float:
        truth = self._label_binarizer.inverse_transform(Y_val)
        return float(accuracy_score(truth, predictions, sample_weight=w_val))

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> MLPClassifier:
        """One epoch over ``(X, y)``; the first call needs ``classes`` (all labels to expect)."""
        _check_label_kinds("y", y)
        if classes is not None:
            _check_label_kinds("classes", classes)
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValidationError(
                    "classes must be passed on the first call to partial_fit "
                    "(e.g. classes=numpy.unique(y_all))"
                )
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
            self.classes_ = self._label_binarizer.classes_
        elif classes is not None and not np.array_equal(self.classes_, unique_labels(classes)):
            raise ValidationError(
                f"classes={classes!r} is not the same as on the first call to partial_fit "
                f"({self.classes_!r})"
            )
        self._fit(X, y, sample_weight, incremental=True)
        return self

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """The most probable class of each sample (labels from :attr:`classes_`)."""
        return self._outputs_to_predictions(self._forward(X))

    def predict_proba(self, X: ArrayLike) -> Array:
        """``P(Y = k | x)``, shape ``(n_samples, n_classes)``; binary: ``[1 - p, p]``."""
        h = self._forward(X)
        if self.n_outputs_ == 1:
            return np.hstack([1 - h, h])
        return h

    def predict_log_proba(self, X: ArrayLike) -> Array:
        """``ln P(Y = k | x)``: the log of :meth:`predict_proba` (``-inf`` where it is 0)."""
        probabilities = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(probabilities, out=probabilities)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _MLP):  # type: ignore[misc]
    """Multi-layer perceptron regressor: ``sklearn.neural_network.MLPRegressor``'s interface,
    chainrule's engine.

    An identity output layer trained on half the squared error, as scikit-learn does (see
    :mod:`chainrule.estimators._loss` for how the engine's ``mse`` is scaled). ``loss`` accepts
    only 'squared_error' (the engine has no exponential output for 'poisson').

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 50)[:, None]
    >>> reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    >>> reg = reg.fit(X, 2 * X.ravel())
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    _output_kind = "regression"
    _rescale_hint = (
        "standardise X and y (e.g. StandardScaler in a Pipeline for X, "
        "TransformedTargetRegressor(regressor, transformer=StandardScaler()) for y: large "
        "targets make large steps)"
    )

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        tol: float = 1e-4,
        verbose: bool | int = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int | float = 10,
        max_fun: int = 15000,
        dtype: str = "float32",
    ) -> None:
        self.loss = loss
        super().__init__(
            hidden_layer_sizes,
            activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dtype=dtype,
        )

    def _check_parameters(self) -> list[int]:
        _check_choice(
            "loss",
            self.loss,
            ("squared_error",),
            hint=_loss_hint(self.loss),
        )
        return super()._check_parameters()

    def _target_matrix(self, y: NDArray[Any], incremental: bool) -> NDArray[Any]:
        return y.reshape(len(y), -1)

    def _known_targets(self, y: NDArray[Any]) -> NDArray[Any]:
        return self._target_matrix(y, incremental=True)

    def _multi_output(self) -> bool:
        return self.n_outputs_ > 1

    def _output_activation(self) -> str:
        return "identity"

    def _outputs_to_predictions(self, h: Array) -> NDArray[Any]:
        return h.ravel() if h.shape[1] == 1 else h

    def _validation_score(
        self, predictions: NDArray[Any], Y_val: NDArray[Any], w_val: Array | None
    ) -> float:
        if not np.isfinite(predictions).all():
            return math.nan
        truth = Y_val.ravel() if Y_val.shape[1] == 1 else Y_val
        return float(r2_score(truth, predictions, sample_weight=w_val))

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights."""
        self._fit(X, y, sample_weight, incremental=True)
        return self

    def predict(self, X: ArrayLike) -> Array:
        """The network's output for each sample: shape ``(n,)`` or ``(n, n_outputs)``."""
        return self._outputs_to_predictions(self._forward(X))
