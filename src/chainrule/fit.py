"""Train a network on a data set in one call: split, standardise, fit, score, save.

:func:`fit` is what ``chainrule train`` and the demo run: it turns a
:class:`~chainrule.datasets.Dataset` and a :class:`TrainConfig` into a :class:`FittedModel`,
the network together with the standardisation fitted on the training rows only, the class labels
and the :class:`~chainrule.engine.training.History`. A fitted model saves to (and loads from) a
model file, so prediction applies the same standardisation and speaks the original labels.

Randomness comes from one seed: ``SeedSequence(seed)`` spawns independent streams for the
validation split, the initial weights and the shuffling, so changing one never moves another.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule.datasets import (
    Dataset,
    Features,
    Standardizer,
    available,
    load,
    load_csv,
    load_npz,
    toy,
    train_test_split,
)
from chainrule.datasets.dataset import Task, TaskArg
from chainrule.datasets.files import (
    column_index,
    default_column_names,
    first_csv_row,
    is_number,
)
from chainrule.engine.activations import names_of
from chainrule.engine.callbacks import Callback, EarlyStopping
from chainrule.engine.losses import default_loss
from chainrule.engine.network import Network
from chainrule.engine.optimizers import make_optimizer
from chainrule.engine.schedules import InverseScaling, ReduceOnPlateau, Schedule, make_schedule
from chainrule.engine.training import History, Trainer
from chainrule.errors import DataError, ModelFileError, ValidationError
from chainrule.serialization import ModelFile, load_model, save_model
from chainrule.serialization.checkpoint import CheckpointCallback, load_checkpoint, restore_trainer

__all__ = [
    "FittedModel",
    "TrainConfig",
    "checkpoint_config",
    "fit",
    "read_dataset",
    "read_for_model",
]

OPTIMIZER_NAMES = ("sgd", "momentum", "nesterov", "adam")
SCHEDULE_NAMES = ("constant", "invscaling", "step", "cosine")


def _number(
    name: str, value: object, *, low: float, inclusive: bool, high: float | None = None
) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    number = float(value) if ok else math.nan  # type: ignore[arg-type]
    above = number >= low if inclusive else number > low
    if not (math.isfinite(number) and above and (high is None or number < high)):
        bound = f"{'>=' if inclusive else '>'} {low:g}" + (
            "" if high is None else f" and < {high:g}"
        )
        raise ValidationError(f"{name} must be a number {bound}; got {value!r}")


def _integer(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(f"{name} must be an integer >= {low}; got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run; the defaults reach >= 95% test accuracy on digits.

    Attributes
    ----------
    hidden:
        Widths of the hidden layers, e.g. ``(64, 64)``; ``()`` for none.
    activation:
        Activation ``g`` of every hidden layer; the output layer is softmax for classes and
        identity for regression.
    optimizer, learning_rate, momentum:
        ``sgd`` (the lecture's ``w <- w - eta dL/dw``), ``momentum``, ``nesterov`` or ``adam``.
    batch_size, epochs:
        Minibatch size and number of epochs.
    l2:
        Weight decay: ``l2 * w`` is added to every ``dL/dw`` (bias column included).
    validation_fraction:
        Share of the training rows held out (seeded, stratified by class) to score each epoch;
        0 for none. Ignored when explicit validation data are given.
    early_stopping, patience, min_delta:
        Stop when the validation loss (training loss without validation data) has not fallen by
        ``min_delta`` for ``patience`` epochs, and restore the best epoch's weights.
    schedule, plateau_patience:
        Learning-rate schedule over the steps; reduce the rate tenfold after
        ``plateau_patience`` epochs without improvement (``None``: never).
    standardize:
        Standardise the inputs (and a regression target) with statistics of the training rows.
    seed:
        One integer from which every random choice derives; ``None`` draws one (and records it).
    dtype:
        ``float32`` or ``float64``.
    """

    hidden: tuple[int, ...] = (128,)
    activation: str = "relu"
    optimizer: str = "adam"
    learning_rate: float = 2e-3
    momentum: float = 0.9
    batch_size: int = 32
    epochs: int = 30
    l2: float = 3e-3
    validation_fraction: float = 0.1
    early_stopping: bool = False
    patience: int = 10
    min_delta: float = 0.0
    schedule: str = "constant"
    plateau_patience: int | None = None
    standardize: bool = True
    seed: int | None = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(self.hidden))
        for i, width in enumerate(self.hidden):
            _integer(f"hidden[{i}]", width, 1)
        if self.optimizer not in OPTIMIZER_NAMES:
            raise ValidationError(
                f"optimizer must be one of {', '.join(OPTIMIZER_NAMES)}; got {self.optimizer!r}"
            )
        if self.schedule not in SCHEDULE_NAMES:
            raise ValidationError(
                f"schedule must be one of {', '.join(SCHEDULE_NAMES)}; got {self.schedule!r}"
            )
        _number("learning_rate", self.learning_rate, low=0, inclusive=False)
        _number("momentum", self.momentum, low=0, inclusive=True, high=1)
        _number("l2", self.l2, low=0, inclusive=True)
        _number("validation_fraction", self.validation_fraction, low=0, inclusive=True, high=1)
        _number("min_delta", self.min_delta, low=0, inclusive=True)
        _integer("batch_size", self.batch_size, 1)
        _integer("epochs", self.epochs, 1)
        _integer("patience", self.patience, 1)
        if self.plateau_patience is not None:
            _integer("plateau_patience", self.plateau_patience, 0)
        if self.seed is not None:
            _integer("seed", self.seed, 0)
        if self.dtype not in ("float32", "float64"):
            raise ValidationError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (``hidden`` as a list)."""
        state = asdict(self)
        state["hidden"] = list(self.hidden)
        return state

    @classmethod
    def from_dict(cls, state: Mapping[str, Any]) -> TrainConfig:
        """Rebuild from :meth:`to_dict`, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in state.items() if k in known})


def _is_csv(path: Path) -> bool:
    """Whether :func:`read_dataset` reads ``path`` as a CSV file (by extension or existence)."""
    suffix = path.suffix.lower()
    if suffix in (".npz", ".npy"):
        return False
    return suffix in (".csv", ".tsv", ".txt") or path.exists()


def _is_builtin(text: str) -> bool:
    """Whether ``text`` names a built-in data set (``mnist:test`` included)."""
    return text.partition(":")[0] in {info.name for info in available()}


def read_dataset(
    source: str | os.PathLike[str],
    *,
    target: int | str | None = None,
    task: TaskArg = "auto",
    delimiter: str | None = None,
) -> Dataset:
    """A CSV or NPZ file (by extension or existence) or a built-in data set name.

    ``target`` picks the target column of a CSV file (default: the last) and ``delimiter``
    its separator (default: sniffed). NPZ files and built-in data sets have a fixed target and
    no separator, so these options are refused for them rather than silently ignored. ``task``
    says how to read the target (see :func:`~chainrule.datasets.load_csv`); a built-in data
    set of the other task is refused. The toy generators (``xor``, ``spiral``, ...) are drawn
    with seed 0, so the same name always means the same points; ``mnist:test`` is MNIST's
    test split. A folder named like a built-in data set does not hide it: a folder is no
    data file, so the data set is meant.

    Raises
    ------
    DataError
        If ``source`` is empty, the file is missing or bad (the message names the file, row
        and column), or a built-in data set is not of ``task``.
    ValidationError
        For a name that is neither a file nor a known data set, or a ``target`` or
        ``delimiter`` given for data without columns.
    """
    text = os.fspath(source)
    if not text.strip():
        raise DataError(
            "empty data source: give a CSV or NPZ file or a built-in data set name (see "
            "'chainrule datasets')"
        )
    path = Path(text)
    suffix = path.suffix.lower()
    folder_of_builtin = path.is_dir() and _is_builtin(text)
    if _is_csv(path) and not folder_of_builtin:
        if path.is_dir():
            raise DataError(f"{text} is a directory, not a data file")
        return load_csv(
            path, target=-1 if target is None else target, task=task, delimiter=delimiter
        )
    kind = "an NPZ file" if suffix == ".npz" else "a built-in data set"
    if target is not None:
        fixed = "its array y" if suffix == ".npz" else "fixed"
        raise ValidationError(
            f"a target column ({target!r}) can be chosen only in a CSV file; {text} is {kind}, "
            f"whose target is {fixed}"
        )
    if delimiter is not None:
        raise ValidationError(
            f"a delimiter ({delimiter!r}) applies only to a CSV file; {text} is {kind}"
        )
    if suffix == ".npy":
        raise DataError(
            f"cannot read {text}: .npy files are not supported; save an .npz file with arrays "
            "X and y (numpy.savez)"
        )
    if suffix == ".npz":
        return load_npz(path, task=task)
    if any(sep in text for sep in ("/", os.sep)) and not folder_of_builtin:
        raise DataError(f"cannot read {text}: no such file")
    # toy generators: the same points every time, so a model can be re-scored
    data = load(text, seed=0) if text in toy.__all__ else load(text)
    if task not in ("auto", data.task):
        raise DataError(f"{text} has a {data.task} target, not a {task} one")
    return data


def _codes_for(data: Dataset, classes: Sequence[str]) -> NDArray[np.int64]:
    """``data``'s labels as codes of the model's ``classes``; unseen labels are an error."""
    assert data.classes is not None
    lookup = {label: code for code, label in enumerate(classes)}
    mapping = np.array([lookup.get(label, -1) for label in data.classes], dtype=np.int64)
    codes: NDArray[np.int64] = mapping[data.y]
    if (codes < 0).any():
        row = int(np.argmax(codes < 0))
        raise DataError(
            f"{data.name}: data row {row + 1} has class {data.classes[data.y[row]]!r}, which "
            f"the model never saw in training (its classes: {', '.join(classes)})"
        )
    return codes


def _model_targets(model: FittedModel, data: Dataset) -> NDArray[Any]:
    """``data.y`` in the model's terms: its class codes, or the target values."""
    if model.classes is None:
        return data.y
    return _codes_for(data, model.classes)


def _task_of(model: FittedModel) -> Task:
    """The task of ``model``'s targets, as the loaders spell it."""
    return "regression" if model.classes is None else "classification"


def _known_names(model: FittedModel) -> list[str] | None:
    """The model's feature names, or ``None`` when they say nothing about columns: absent, or
    the ``x1, x2, ...`` a file without a header gets (its columns count by position)."""
    names = model.feature_names
    if names is None or len(names) != model.n_features:
        return None
    if names == [f"x{j + 1}" for j in range(len(names))]:
        return None
    return names


def _reorder(X: NDArray[np.float64], have: Sequence[str], want: Sequence[str]) -> NDArray[Any]:
    """The columns of ``X`` (named ``have``) in the order ``want``."""
    reordered: NDArray[Any] = X[:, [list(have).index(name) for name in want]]
    return reordered


def _wrong_width(name: str, columns: int, model: FittedModel, need_target: bool) -> DataError:
    """The error for data with ``columns`` columns that fit none of the model's layouts."""
    n_in = model.n_features
    expected = f"{n_in + 1} (its {n_in} features and the target)"
    if not need_target:
        expected = f"{n_in} (its features) or " + expected
    return DataError(f"{name} has {columns} columns but the model expects {expected}")


def _csv_by_name(
    model: FittedModel,
    path: Path,
    delimiter: str,
    columns: list[str],
    *,
    target: int | str | None,
    need_target: bool,
) -> tuple[NDArray[np.float64], NDArray[Any] | None]:
    """Read a CSV file whose header names every feature of ``model``: the features are picked
    by name, in the model's order. Without ``need_target`` any other column is ignored; with
    it the one other column (or ``target``) is the target."""
    names = model.feature_names
    assert names is not None
    extra = [c for c in columns if c not in names]
    if isinstance(target, int):
        target = columns[column_index(target, columns, len(columns), str(path), "target")]
    if target is not None and target not in extra:
        why = "is one of the model's features" if target in names else "does not exist"
        raise DataError(f"{path}: target column {target!r} {why}")
    if not need_target:
        features = load_csv(path, target=None, columns=names, header=True, delimiter=delimiter)
        return features.X, None
    if target is None and len(extra) > 1:
        raise DataError(
            f"{path} has columns {', '.join(map(repr, extra))} besides the model's features; "
            "at most one, the target, may be added"
        )
    if target is None and not extra:
        raise DataError(f"{path} has the model's features but no target column")
    data = load_csv(
        path,
        target=extra[0] if target is None else target,
        columns=names,
        header=True,
        delimiter=delimiter,
        task=_task_of(model),
    )
    return data.X, _model_targets(model, data)


def _csv_features_by_position(
    model: FittedModel, path: Path, delimiter: str, columns: list[str], target: int | str | None
) -> NDArray[np.float64]:
    """The features of a CSV file whose columns count by position: all of its columns, or
    all but the target (``target``, else the last), which is skipped unread."""
    n = len(columns)
    if target is None and n == model.n_features:
        return load_csv(path, target=None, delimiter=delimiter).X
    if n != model.n_features + 1:
        raise _wrong_width(path.name, n, model, need_target=False)
    t = -1 if target is None else target
    names = columns if t in columns else default_column_names(n)
    skipped = column_index(t, names, n, str(path), "target")
    features = [j for j in range(n) if j != skipped]
    return load_csv(path, target=None, columns=features, delimiter=delimiter).X


def _csv_for_model(
    model: FittedModel,
    path: Path,
    *,
    target: int | str | None,
    need_target: bool,
    delimiter: str | None,
) -> tuple[NDArray[np.float64], NDArray[Any] | None]:
    """:func:`read_for_model` for a CSV file: columns by name when line 1 names the model's
    features, else by position."""
    columns, delimiter = first_csv_row(path, delimiter=delimiter)
    names = _known_names(model)
    if names is not None:
        if set(names) <= set(columns):
            return _csv_by_name(
                model, path, delimiter, columns, target=target, need_target=need_target
            )
        if sum(not is_number(f) for f in columns if f) >= min(2, len(columns)):
            missing = [n for n in names if n not in columns]  # a header without them
            raise DataError(
                f"{path} has no column {', '.join(map(repr, missing))}; the model was "
                f"trained on columns {', '.join(map(repr, names))}"
            )
    if not need_target:
        return _csv_features_by_position(model, path, delimiter, columns, target), None
    data = load_csv(
        path,
        target=-1 if target is None else target,
        delimiter=delimiter,
        task=_task_of(model),
    )
    if data.n_features != model.n_features:
        raise _wrong_width(data.name, data.n_features + 1, model, need_target=True)
    return data.X, _model_targets(model, data)


def read_for_model(
    model: FittedModel,
    source: str | os.PathLike[str],
    *,
    target: int | str | None = None,
    need_target: bool = False,
    delimiter: str | None = None,
) -> tuple[NDArray[np.float64], NDArray[Any] | None]:
    """Read data for a trained model: raw features and, when needed, targets in its terms.

    Columns are matched by name when both sides have names: when the model knows its feature
    names and a CSV file's header (an NPZ file's or data set's feature names) lists them all,
    the features are picked in the model's order, whatever the file's order, and the one other
    column is the target; a header that lacks some of them is an error naming them. Without
    names (no header, or a model trained on unnamed columns) columns count by position: the
    features, then the target (or ``target``). ``delimiter`` is a CSV file's separator
    (default: sniffed).

    With ``need_target`` the targets come back as the model's class codes (or target values).
    Without it only the features the model needs are read: other columns, the target's among
    them, are skipped unread (empty cells, labels the model never saw and text are fine
    there), an NPZ file's ``y`` is ignored, and a file of the features alone is fine.

    Raises
    ------
    DataError
        Missing or extra columns, a class label the model never saw (naming the row), a
        target of the other task, non-numeric or non-finite feature values.
    ValidationError
        A ``target`` or ``delimiter`` for an NPZ file or a built-in data set.
    """
    text = os.fspath(source)
    path = Path(text)
    if text.strip() and _is_csv(path) and not path.is_dir():
        return _csv_for_model(
            model, path, target=target, need_target=need_target, delimiter=delimiter
        )
    names = _known_names(model)
    if path.suffix.lower() == ".npz" and not need_target and target is None and delimiter is None:
        features: Dataset | Features = load_npz(path, target=None)
    else:
        task: TaskArg = _task_of(model) if need_target else "auto"
        features = read_dataset(source, target=target, task=task, delimiter=delimiter)
    X = features.X
    if names is not None and set(names) <= set(features.feature_names):
        X = _reorder(X, features.feature_names, names)
    elif features.n_features != model.n_features:
        width = features.n_features + isinstance(features, Dataset)  # with the target
        raise _wrong_width(features.name, width, model, need_target)
    if not need_target:
        return X, None
    assert isinstance(features, Dataset)
    return X, _model_targets(model, features)


def _preprocessing(
    standardizer: Standardizer | None, target_scaler: Standardizer | None
) -> dict[str, Any] | None:
    if standardizer is None:
        return None
    document = {"standardizer": standardizer.to_dict()}
    if target_scaler is not None:
        document["target_standardizer"] = target_scaler.to_dict()
    return document


@dataclass
class FittedModel:
    """A trained network with what prediction needs: scaling, labels, history.

    ``predict``/``predict_proba`` take raw features (in the training data's units) and apply the
    stored standardisation; ``predict`` returns original class labels or target values.
    """

    net: Network
    task: str
    classes: list[str] | None = None
    standardizer: Standardizer | None = None
    target_scaler: Standardizer | None = None
    history: History = field(default_factory=History)
    config: TrainConfig = field(default_factory=TrainConfig)
    feature_names: list[str] | None = None
    seconds: float = 0.0

    @property
    def n_features(self) -> int:
        """The number of input features the network takes."""
        return self.net.sizes[0]

    def transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """Checked, standardised inputs for the network.

        Raises
        ------
        ValidationError
            If ``X`` has the wrong number of features or non-finite values.
        """
        array = np.asarray(X, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != self.n_features:
            got = array.shape[1] if array.ndim == 2 else f"shape {array.shape}"
            raise ValidationError(
                f"the data have {got} features but the model expects {self.n_features}"
            )
        if self.standardizer is not None:
            array = self.standardizer.transform(array)
        return self.net.check_inputs(array)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating]:
        """``P(Y = k | x)`` per row, columns in the order of :attr:`classes`."""
        return self.net.predict_proba(self.transform(X))

    def predict_codes(self, X: ArrayLike) -> NDArray[Any]:
        """Class codes ``0..k-1`` (classification) or target values (regression)."""
        out = self.net.predict(self.transform(X))
        if self.target_scaler is not None:
            values = self.target_scaler.inverse_transform(
                np.asarray(out, dtype=np.float64).reshape(len(out), -1)
            )
            return values.ravel() if values.shape[1] == 1 else values
        return out

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Original class labels (classification) or target values (regression)."""
        out = self.predict_codes(X)
        if self.classes is None:
            return out
        labels: NDArray[Any] = np.asarray(self.classes)[out]
        return labels

    def save(self, path: str | os.PathLike[str], *, extra: Mapping[str, Any] | None = None) -> None:
        """Write a model file atomically (see :func:`chainrule.serialization.save_model`)."""
        assert self.net.loss is not None
        save_model(
            path,
            weights=self.net.weights,
            activations=names_of(self.net.activation_functions),
            loss=self.net.loss.name,
            classes=self.classes,
            task=self.task,
            preprocessing=_preprocessing(self.standardizer, self.target_scaler),
            training={
                "config": self.config.to_dict(),
                "history": self.history.to_dict(),
                "feature_names": self.feature_names,
                "seconds": self.seconds,
                **dict(extra or {}),
            },
        )

    @classmethod
    def from_file(cls, model: ModelFile) -> FittedModel:
        """Rebuild from a loaded model (or checkpoint) file.

        Raises
        ------
        ModelFileError
            If its preprocessing or training description is malformed.
        """
        net = Network.from_weights(model.weights, list(model.activations), loss=model.loss)
        pre = model.preprocessing or {}
        training = model.training or {}
        try:
            standardizer = (
                Standardizer.from_dict(pre["standardizer"]) if "standardizer" in pre else None
            )
            target_scaler = (
                Standardizer.from_dict(pre["target_standardizer"])
                if "target_standardizer" in pre
                else None
            )
            history = History.from_dict(training["history"]) if "history" in training else History()
            config = TrainConfig.from_dict(training.get("config", {}))
        except (ValidationError, KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"the model file's description is malformed: {err}") from None
        if standardizer is not None and standardizer.n_features_in_ != net.sizes[0]:
            raise ModelFileError(
                f"the model's standardizer has {standardizer.n_features_in_} features, "
                f"the network {net.sizes[0]} inputs"
            )
        names = training.get("feature_names")
        return cls(
            net=net,
            task=model.task,
            classes=None if model.classes is None else [str(c) for c in model.classes],
            standardizer=standardizer,
            target_scaler=target_scaler,
            history=history,
            config=config,
            feature_names=list(names) if isinstance(names, list) else None,
            seconds=float(training.get("seconds", 0.0)),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FittedModel:
        """Load a model file written by :meth:`save` (or a checkpoint)."""
        return cls.from_file(load_model(path))


def _check_dataset(data: Dataset, what: str) -> None:
    if data.n_samples < 2:
        raise DataError(f"{what} {data.name!r} has {data.n_samples} row; training needs at least 2")
    if data.task == "classification":
        present = np.unique(data.y)
        if len(present) < 2:
            label = data.classes[int(present[0])] if data.classes else "?"
            raise DataError(
                f"{what} {data.name!r} has only one class ({label!r}); classification needs "
                "at least 2"
            )


def _schedule(config: TrainConfig, steps_per_epoch: int) -> Schedule | None:
    total = config.epochs * steps_per_epoch
    if config.schedule == "constant":
        return None
    if config.schedule == "invscaling":
        return InverseScaling()
    if config.schedule == "step":
        return make_schedule("step", step_size=max(1, total // 3), gamma=0.1)
    return make_schedule("cosine", total_steps=total)


def _validation_codes(data: Dataset, training: Dataset) -> NDArray[Any]:
    """Validation targets in the training data's terms: the same task, and codes of the
    training classes (labels must have been seen). Class codes are no regression targets, nor
    numbers class labels, so data of the other task are refused."""
    if data.task != training.task:
        raise DataError(
            f"validation data {data.name!r} have a {data.task} target but the training data "
            f"{training.name!r} a {training.task} one"
        )
    classes = training.classes
    if classes is None or data.classes is None:
        return data.y
    lookup = {label: code for code, label in enumerate(classes)}
    unseen = [label for label in data.classes if label not in lookup]
    present = {data.classes[c] for c in np.unique(data.y)}
    unseen = [label for label in unseen if label in present]
    if unseen:
        raise DataError(
            f"validation data {data.name!r} has class {unseen[0]!r}, not seen in training "
            f"(training classes: {', '.join(classes)})"
        )
    mapping = np.array([lookup.get(label, -1) for label in data.classes])
    codes: NDArray[Any] = mapping[data.y]
    return codes


def _load_fit_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[ModelFile, dict[str, Any], TrainConfig]:
    """A checkpoint written by :func:`fit`: its model, trainer state and settings."""
    model, state, saved = load_checkpoint(path)
    if "train" not in saved:
        raise ModelFileError(f"{os.fspath(path)!r} was not written by chainrule's fit")
    return model, state, TrainConfig.from_dict(saved["train"])


def checkpoint_config(path: str | os.PathLike[str]) -> TrainConfig:
    """The settings the run that wrote the checkpoint ``path`` was started with (resuming it
    continues with them)."""
    return _load_fit_checkpoint(path)[2]


#: Copies of the weights training keeps: the weights, their gradients, two optimizer moments
#: (Adam) and the best epoch's weights (early stopping).
_WEIGHT_COPIES = 5


def _check_memory(sizes: Sequence[int], config: TrainConfig) -> None:
    """Refuse layer widths whose weights and training state could not fit in this machine's
    memory, before allocating them. The network refuses a single matrix that cannot be
    allocated at all, but one that can (memory is overcommitted) would leave too little for
    training, which then ends with the process killed by the operating system, without a word.
    """
    itemsize = np.dtype(config.dtype).itemsize
    counts = [(n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes)]
    activations = 4 * config.batch_size * sum(sizes)  # e, h and their gradients per layer
    needed = (_WEIGHT_COPIES * sum(counts) + activations) * itemsize
    try:
        available = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not on this system: let it try
        return
    if needed > available:
        l = int(np.argmax(counts))
        raise ValidationError(
            f"W^({l + 1}) would hold {counts[l]:,} weights ({sizes[l]} inputs -> "
            f"{sizes[l + 1]} units); with the training state the network needs about "
            f"{needed / 2**30:,.1f} GiB, more than this machine can allocate "
            f"({available / 2**30:.1f} GiB of memory): use smaller hidden layers"
        )


def _in_target_units(history: History, target_scaler: Standardizer | None) -> History:
    """``history`` with RMSEs in the target's own units, as ``evaluate`` reports them.

    The network learns a standardised target, so the trainer's RMSE counts standard
    deviations; it scales back exactly by the standard deviation. R^2 has no units, and the
    loss stays the training objective (mean squared error of the standardised target).
    """
    if target_scaler is None:
        return history
    scale = target_scaler.scale_
    assert scale is not None
    sd = float(scale[0])
    epochs = [
        {key: value * sd if key in ("rmse", "val_rmse") else value for key, value in r.items()}
        for r in history.epochs
    ]
    return replace(history, epochs=epochs)


def fit(
    data: Dataset,
    config: TrainConfig | None = None,
    *,
    validation_data: Dataset | None = None,
    callbacks: Sequence[Callback] = (),
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 1,
    resume: str | os.PathLike[str] | None = None,
) -> FittedModel:
    """Train a network on ``data`` and return it with its scaling, labels and history.

    Parameters
    ----------
    data:
        The training data (e.g. from :func:`read_dataset`).
    config:
        The settings; defaults to :class:`TrainConfig`'s.
    validation_data:
        Scored every epoch instead of a split of ``data``.
    callbacks:
        Extra callbacks (a progress bar, ...), called before the built-in ones.
    checkpoint, checkpoint_every:
        Write a resumable checkpoint there every so many epochs (atomically).
    resume:
        A checkpoint to continue from. Its settings are used, except ``config.epochs``: the
        total number of epochs to reach. The result is bit-identical to an uninterrupted run.

    Raises
    ------
    DataError
        One class only, too few rows, validation labels not seen in training.
    ValidationError
        A bad setting; a checkpoint that does not fit the data.
    DivergenceError
        The loss became non-finite; the message says what to change.
    """
    config = config or TrainConfig()
    state: dict[str, Any] | None = None
    saved_model: ModelFile | None = None
    if resume is not None:
        saved_model, state, saved_config = _load_fit_checkpoint(resume)
        config = replace(saved_config, epochs=config.epochs)
    if config.seed is None:
        entropy = np.random.SeedSequence().entropy
        assert isinstance(entropy, int)
        config = replace(config, seed=entropy % 2**63)
    _check_dataset(data, "data set")
    n_out = (data.n_classes or 0) if data.task == "classification" else 1
    _check_memory([data.n_features, *config.hidden, n_out], config)
    split_rng, init_rng, shuffle_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(3)
    )
    classification = data.task == "classification"
    X, y = data.X, data.y
    X_val: NDArray[Any] | None = None
    y_val: NDArray[Any] | None = None
    if validation_data is not None:
        if validation_data.n_features != data.n_features:
            raise DataError(
                f"validation data have {validation_data.n_features} features, training data "
                f"{data.n_features}"
            )
        X_val, y_val = validation_data.X, _validation_codes(validation_data, data)
    elif config.validation_fraction > 0:
        X, X_val, y, y_val = train_test_split(
            X, y, config.validation_fraction, seed=split_rng, stratify=classification
        )

    standardizer = target_scaler = None
    if config.standardize:
        standardizer = Standardizer().fit(X)  # training rows only: no peeking at validation
        X = standardizer.transform(X)
        X_val = None if X_val is None else standardizer.transform(X_val)
        if not classification:
            target_scaler = Standardizer().fit(y.reshape(-1, 1))
            y = target_scaler.transform(y.reshape(-1, 1)).ravel()
            y_val = None if y_val is None else target_scaler.transform(y_val.reshape(-1, 1)).ravel()

    output = "softmax" if classification else "identity"
    activations = [config.activation] * len(config.hidden) + [output]
    net = Network(
        [data.n_features, *config.hidden, n_out],
        activations,
        seed=init_rng,
        dtype=config.dtype,
        loss=default_loss(output),
    )
    options: dict[str, Any] = {"weight_decay": config.l2}
    if config.optimizer in ("momentum", "nesterov"):
        options["momentum"] = config.momentum
    optimizer = make_optimizer(config.optimizer, config.learning_rate, **options)
    steps_per_epoch = math.ceil(len(X) / min(config.batch_size, len(X)))

    preprocessing = _preprocessing(standardizer, target_scaler)
    all_callbacks: list[Callback] = list(callbacks)
    if checkpoint is not None:
        all_callbacks.append(
            CheckpointCallback(
                checkpoint,
                checkpoint_every,
                classes=data.classes,
                preprocessing=preprocessing,
                config={"train": config.to_dict()},
            )
        )
    if config.early_stopping:
        all_callbacks.append(EarlyStopping(patience=config.patience, min_delta=config.min_delta))
    trainer = Trainer(
        net,
        X,
        y,
        optimizer=optimizer,
        batch_size=config.batch_size,
        seed=shuffle_rng,
        validation_data=None if X_val is None or y_val is None else (X_val, y_val),
        schedule=_schedule(config, steps_per_epoch),
        plateau=None
        if config.plateau_patience is None
        else ReduceOnPlateau(0.1, config.plateau_patience),
        callbacks=all_callbacks,
    )
    if state is not None and saved_model is not None:
        if saved_model.preprocessing != preprocessing or list(saved_model.sizes) != net.sizes:
            raise ValidationError(
                f"the checkpoint {os.fspath(resume or '')!r} was trained on other data: "
                "resume it with the data set it was started with"
            )
        restore_trainer(trainer, saved_model, state)
    started = time.perf_counter()
    if trainer.epoch < config.epochs:
        trainer.fit(config.epochs - trainer.epoch)
    else:
        trainer.record.stopped = "completed"
        trainer.record.message = f"the checkpoint already has {trainer.epoch} epochs"
    return FittedModel(
        net=net,
        task=data.task,
        classes=data.classes,
        standardizer=standardizer,
        target_scaler=target_scaler,
        history=_in_target_units(trainer.record, target_scaler),
        config=config,
        feature_names=list(data.feature_names),
        seconds=time.perf_counter() - started,
    )
