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

import hashlib
import itertools
import math
import os
import re
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule.datasets import Dataset, Standardizer, train_test_split
from chainrule.datasets.dataset import class_text
from chainrule.datasets.files import named_features, quoted
from chainrule.engine.activations import ACTIVATIONS, names_of
from chainrule.engine.callbacks import Callback, EarlyStopping
from chainrule.engine.losses import default_loss
from chainrule.engine.network import Network
from chainrule.engine.optimizers import make_optimizer
from chainrule.engine.schedules import InverseScaling, ReduceOnPlateau, Schedule, make_schedule
from chainrule.engine.training import History, Trainer
from chainrule.errors import DataError, ModelFileError, ValidationError
from chainrule.serialization import ModelFile, load_model, save_model
from chainrule.serialization.checkpoint import CheckpointCallback, load_checkpoint, restore_trainer
from chainrule.serialization.model_file import ClassLabel
from chainrule.sources import read_dataset, read_for_model

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
        hidden = self.hidden
        if isinstance(hidden, int) and not isinstance(hidden, bool):
            hidden = (hidden,)  # one hidden layer, as a sweep config's hidden_layers = 64
        if isinstance(hidden, str) or not isinstance(hidden, Sequence):
            raise ValidationError(
                f"hidden must be a sequence of layer widths like (64, 64); got {hidden!r}"
            )
        object.__setattr__(self, "hidden", tuple(hidden))
        for i, width in enumerate(self.hidden):
            _integer(f"hidden[{i}]", width, 1)
        if self.activation not in ACTIVATIONS:
            raise ValidationError(
                f"activation must be one of {', '.join(sorted(ACTIVATIONS))}; "
                f"got {self.activation!r}"
            )
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


def _preprocessing(
    standardizer: Standardizer | None, target_scaler: Standardizer | None
) -> dict[str, Any] | None:
    if standardizer is None:
        return None
    document = {"standardizer": standardizer.to_dict()}
    if target_scaler is not None:
        document["target_standardizer"] = target_scaler.to_dict()
    return document


def _texts(labels: Sequence[ClassLabel] | None) -> list[str] | None:
    """The text of each label (see :func:`class_text`), or ``None``."""
    return None if labels is None else [class_text(label) for label in labels]


def _label_array(labels: Sequence[ClassLabel]) -> NDArray[Any]:
    """``labels`` as an array of their own type (int, float, bool or str), as scikit-learn's
    ``classes_``; an object array when the types are mixed (numpy would make text of all)."""
    mixed = len({type(label) for label in labels}) > 1
    array: NDArray[Any] = np.asarray(labels, dtype=object if mixed else None)
    return array


def _frame_name(name: str, columns: list[str]) -> str:
    """The column of a frame with ``columns`` that holds the feature ``name``: ``name`` itself,
    or, for a column that a CSV header left blank (read as ``column J``, the index column pandas'
    ``to_csv`` writes), pandas' own name for it, ``Unnamed: J-1``, when ``pd.read_csv`` read the
    same file."""
    blank = re.fullmatch(r"column (\d+)", name)
    if name not in columns and blank and f"Unnamed: {int(blank[1]) - 1}" in columns:
        return f"Unnamed: {int(blank[1]) - 1}"
    return name


def _outside_this_module() -> int:
    """The ``stacklevel`` of a warning that points at the first caller outside this module
    (``predict``, ``predict_proba`` and ``transform`` reach the warning at different depths)."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
        level += 1
    return level


@dataclass
class FittedModel:
    """A trained network with what prediction needs: scaling, labels, history.

    ``predict``/``predict_proba`` take raw features (in the training data's units) and apply the
    stored standardisation; ``predict`` returns original class labels or target values.

    ``classes`` is the text of each class label, as data files spell them (what labels read
    from a file are matched with, and what messages and tables show); ``labels`` are the same
    labels as they were given, of their own type (int, float, bool or str), which ``predict``
    returns and the model file keeps, as scikit-learn's ``classes_``. Give either: ``labels``
    derives from ``classes`` when not given, and ``classes`` is always their text.
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
    labels: list[ClassLabel] | None = None

    def __post_init__(self) -> None:
        given = self.labels if self.labels is not None else self.classes
        if given is None:
            return
        labels = [c.item() if isinstance(c, np.generic) else c for c in given]
        texts = _texts(labels)
        if self.labels is not None and self.classes is not None and self.classes != texts:
            raise ValidationError(
                f"classes {self.classes!r:.200} are not the text of labels {labels!r:.200}; "
                "give labels alone (classes derive from them)"
            )
        self.labels = labels
        self.classes = texts

    @property
    def n_features(self) -> int:
        """The number of input features the network takes."""
        return self.net.sizes[0]

    @property
    def multilabel(self) -> bool:
        """Whether the model gives one 0/1 decision per label in :attr:`classes` (several
        sigmoid or step output units) rather than one class per row."""
        return (
            self.classes is not None
            and self.net.sizes[-1] > 1
            and self.net.activations[-1] in ("sigmoid", "step")
        )

    def named_features(self) -> list[str] | None:
        """The model's feature names, or ``None`` when they name no columns: absent, or the
        ``x1, x2, ...`` of data without names (an NPZ file, a CSV file without a header)."""
        names = self.feature_names
        return None if names is None or len(names) != self.n_features else named_features(names)

    def _by_name(self, X: ArrayLike) -> ArrayLike:
        """``X``'s features in the model's order when ``X`` names its columns (a pandas or
        polars DataFrame with text column names): read by position, a frame with the same
        columns in another order would swap features without a word. Other columns (the
        target's) are left out, as ``chainrule predict`` leaves them. A frame with names for a
        model without them is read by position, with a warning, as scikit-learn warns."""
        columns = getattr(X, "columns", None)
        if columns is None or not all(isinstance(c, str) for c in columns):
            return X
        have = list(columns)
        names = self.named_features()
        if names is None:
            if named_features(have) is not None:
                warnings.warn(
                    f"the model was trained without feature names, so X's columns "
                    f"{quoted(have, 8)} are taken by position, in the order of the training "
                    "data's columns",
                    UserWarning,
                    stacklevel=_outside_this_module(),
                )
            return X
        wanted = [_frame_name(name, have) for name in names]
        missing = [name for name, column in zip(names, wanted, strict=True) if column not in have]
        if missing:
            raise ValidationError(
                f"X has no column {', '.join(map(repr, missing))}; the model was trained on "
                f"columns {', '.join(map(repr, names))} (a frame's columns are matched by name)"
            )
        twice = [column for column in wanted if have.count(column) > 1]
        if twice:
            raise ValidationError(f"X has {have.count(twice[0])} columns named {twice[0]!r}")
        frame: Any = X  # a DataFrame: indexing by a list of names picks those columns
        selected: ArrayLike = frame[wanted]
        return selected

    def features(self, X: ArrayLike) -> NDArray[np.float64]:
        """``X``'s features as the network takes them, before standardisation: a DataFrame's
        columns picked by the model's feature names (see :meth:`_by_name`), as a 2-D float64
        array of :attr:`n_features` columns.

        Raises
        ------
        ValidationError
            If ``X`` is not 2-D, has the wrong number of features, lacks a named feature, or
            holds values that are no numbers.
        """
        selected = self._by_name(X)  # its own errors name the missing column
        try:
            array = np.asarray(selected, dtype=np.float64)
        except (TypeError, ValueError) as err:  # text ("x"), None in a list, ragged rows
            raise ValidationError(
                f"X must be a table of numbers, one row per sample: {err}"
            ) from None
        if array.ndim != 2:
            one_row = " (one sample x: [x], or x.reshape(1, -1))" if array.ndim == 1 else ""
            raise ValidationError(
                f"X must be 2-D, one row per sample of {self.n_features} features; got shape "
                f"{array.shape}{one_row}"
            )
        if array.shape[1] != self.n_features:
            n = array.shape[1]
            raise ValidationError(
                f"the data have {n} feature{'s' * (n != 1)} but the model expects {self.n_features}"
            )
        return array

    def transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """Checked, standardised inputs for the network (:meth:`features`, then the stored
        standardisation).

        Raises
        ------
        ValidationError
            As :meth:`features`, and for values that are not finite.
        """
        array = self.features(X)
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
        """Original class labels (classification), of the type they were given (see
        :attr:`labels`), or target values (regression).

        A multilabel model (several sigmoid units, one per label in :attr:`classes`) gives its
        0/1 decisions, shape ``(n, n_labels)``, as scikit-learn's multilabel ``predict`` does:
        they are no codes to look labels up with (a row ``[1, 1, 0]`` is not the labels
        ``classes[1], classes[1], classes[0]``).
        """
        out = self.predict_codes(X)
        if self.labels is None or self.multilabel:
            return out
        labels: NDArray[Any] = _label_array(self.labels)[out]
        return labels

    def save(self, path: str | os.PathLike[str], *, extra: Mapping[str, Any] | None = None) -> None:
        """Write a model file atomically (see :func:`chainrule.serialization.save_model`)."""
        assert self.net.loss is not None
        save_model(
            path,
            weights=self.net.weights,
            activations=names_of(self.net.activation_functions),
            loss=self.net.loss.name,
            classes=self.labels,
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
        training = _description(model)
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
            seconds = float(training.get("seconds", 0.0))  # save(extra=...) may have set it
        except (ValidationError, KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"the model file's description is malformed: {err}") from None
        if model.kind == "checkpoint":  # the trainer's record: RMSEs of the standardised target
            history = _in_target_units(history, target_scaler)
        if standardizer is not None and standardizer.n_features_in_ != net.sizes[0]:
            raise ModelFileError(
                f"the model's standardizer has {standardizer.n_features_in_} features, "
                f"the network {net.sizes[0]} inputs"
            )
        names = training.get("feature_names")
        if isinstance(names, list) and len(names) != net.sizes[0]:
            raise ModelFileError(
                f"the model file names {len(names)} features, the network has {net.sizes[0]} inputs"
            )
        return cls(
            net=net,
            task=model.task,
            labels=None if model.classes is None else list(model.classes),
            standardizer=standardizer,
            target_scaler=target_scaler,
            history=history,
            config=config,
            feature_names=list(names) if isinstance(names, list) else None,
            seconds=seconds,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FittedModel:
        """Load a model file written by :meth:`save` (or a checkpoint)."""
        return cls.from_file(load_model(path))


def _description(model: ModelFile) -> dict[str, Any]:
    """A model file's training description (settings, history, feature names): a model
    file's ``training`` as it is; for a checkpoint, which is also a model, what :func:`fit`
    keeps beside the trainer's state (its settings under ``"train"``, the feature names) and
    the trainer's record of the epochs. Without them a checkpoint read as a model had the
    default settings and no feature names, so its data were read by position."""
    training = dict(model.training or {})
    if model.kind != "checkpoint":
        return training
    saved, state = training.get("config"), training.get("state")
    saved = saved if isinstance(saved, dict) else {}
    record = state.get("record") if isinstance(state, dict) else None
    description = {"config": saved.get("train", {}), "feature_names": saved.get("feature_names")}
    return description if record is None else {**description, "history": record}


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
    training classes (labels must have been seen), matched by their text (see
    :func:`class_text`: the label ``1`` given in Python is the ``1`` of a CSV file). Class
    codes are no regression targets, nor numbers class labels, so data of the other task are
    refused."""
    if data.task != training.task:
        raise DataError(
            f"validation data {data.name!r} have a {data.task} target but the training data "
            f"{training.name!r} a {training.task} one"
        )
    if training.classes is None or data.classes is None:
        return data.y
    classes = [class_text(label) for label in training.classes]
    labels = [class_text(label) for label in data.classes]
    lookup = {label: code for code, label in enumerate(classes)}
    present = {labels[c] for c in np.unique(data.y)}
    unseen = [label for label in labels if label not in lookup and label in present]
    if unseen:
        raise DataError(
            f"validation data {data.name!r} has class {unseen[0]!r}, not seen in training "
            f"(training classes: {', '.join(classes)})"
        )
    mapping = np.array([lookup.get(label, -1) for label in labels])
    codes: NDArray[Any] = mapping[data.y]
    return codes


def _load_fit_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[ModelFile, dict[str, Any], dict[str, Any]]:
    """A checkpoint written by :func:`fit`: its model, trainer state and what :func:`fit`
    recorded beside them (``"train"``: the settings; ``"data"``, ``"validation"``: see
    :func:`_fingerprint`)."""
    model, state, saved = load_checkpoint(path)
    if "train" not in saved:
        raise ModelFileError(f"{os.fspath(path)!r} was not written by chainrule's fit")
    return model, state, saved


def checkpoint_config(path: str | os.PathLike[str]) -> TrainConfig:
    """The settings the run that wrote the checkpoint ``path`` was started with (resuming it
    continues with them)."""
    return TrainConfig.from_dict(_load_fit_checkpoint(path)[2]["train"])


def _fingerprint(X: NDArray[Any], y: NDArray[Any]) -> dict[str, Any]:
    """What a checkpoint records of the rows a run trains (or is scored) on, for a resumed run
    to compare: their number, their width and a SHA-256 of the values and targets (cheap next
    to an epoch of training; it catches a row changed or the rows reordered, which the
    standardisation's means and deviations need not show)."""
    digest = hashlib.sha256()
    for array in (X, y):
        values = np.ascontiguousarray(array)
        digest.update(f"{values.dtype.str}{values.shape};".encode())
        digest.update(values.data)
    return {"rows": int(X.shape[0]), "features": int(X.shape[1]), "sha256": digest.hexdigest()}


def _rows(record: Any) -> str:
    """A fingerprint's size as messages give it: ``300 rows of 3 features``."""
    if not isinstance(record, dict):
        return "unknown rows"
    return f"{record.get('rows')} rows of {record.get('features')} features"


def _difference(started: Any, now: dict[str, Any]) -> str:
    """How the rows given now differ from those a run started with, for a message."""
    if _rows(started) == _rows(now):
        return f"{_rows(now)}, as then, but other values or another row order"
    return f"{_rows(started)} then, {_rows(now)} now"


def _check_resumed_data(
    path: str | os.PathLike[str],
    saved: Mapping[str, Any],
    data: dict[str, Any],
    validation: dict[str, Any] | None,
) -> None:
    """Refuse to resume the checkpoint ``path`` on other rows than the run started with, or
    with validation data added, left out or changed: it would go on without a word with other
    data (validation data also change the rows the inputs are standardised on, and the
    history's scores would mix two validation sets). A checkpoint written before the data were
    recorded (no ``"data"``) is left to :func:`fit`'s comparison of the standardisation."""
    if "data" not in saved:
        return
    where = f"the checkpoint {os.fspath(path)!r}"
    if saved["data"] != data:
        raise ValidationError(
            f"{where} was trained on other data ({_difference(saved['data'], data)}): resume "
            "it with the data set it was started with"
        )
    started = saved.get("validation")
    if started == validation:
        return
    if started is None:
        raise ValidationError(
            f"{where} was started without validation data, but validation data are given "
            f"({_rows(validation)}): resume it without them (leave out validation_data, "
            "--validation-data), or start a new run to score on them"
        )
    if validation is None:
        raise ValidationError(
            f"{where} was started with validation data ({_rows(started)}), but none are "
            "given: resume it with the same ones (validation_data, --validation-data)"
        )
    raise ValidationError(
        f"{where} was started with other validation data ({_difference(started, validation)}): "
        "resume it with the ones it was started with"
    )


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
        total number of epochs to reach (without ``config``: the interrupted run's total). The
        result is bit-identical to an uninterrupted run.

    Raises
    ------
    DataError
        One class only, too few rows, validation labels not seen in training.
    ValidationError
        A bad setting; a checkpoint that does not fit the data.
    DivergenceError
        The loss became non-finite; the message says what to change.
    """
    if not isinstance(data, Dataset):
        raise ValidationError(
            "data must be a chainrule.datasets.Dataset, e.g. read_dataset('data.csv') or "
            "chainrule.datasets.load('iris'); for arrays X, y use chainrule.MLPClassifier or "
            f"MLPRegressor; got {type(data).__name__}"
        )
    given = config
    if config is None:
        config = TrainConfig()
    elif not isinstance(config, TrainConfig):
        raise ValidationError(
            "config must be a TrainConfig, e.g. TrainConfig(epochs=50); "
            f"got {type(config).__name__}"
        )
    state: dict[str, Any] | None = None
    saved_model: ModelFile | None = None
    saved: dict[str, Any] = {}
    if resume is not None:
        saved_model, state, saved = _load_fit_checkpoint(resume)
        saved_config = TrainConfig.from_dict(saved["train"])
        # no config: continue to the epochs the interrupted run was to reach
        config = saved_config if given is None else replace(saved_config, epochs=config.epochs)
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
                f"validation data {validation_data.name!r} have {validation_data.n_features} "
                f"feature{'s' * (validation_data.n_features != 1)}, training data "
                f"{data.name!r} {data.n_features}"
            )
        X_val, y_val = validation_data.X, _validation_codes(validation_data, data)
    recorded: dict[str, Any] = {}
    if checkpoint is not None or resume is not None:
        recorded = {
            "data": _fingerprint(X, y),
            "validation": None if X_val is None or y_val is None else _fingerprint(X_val, y_val),
        }
    if resume is not None:
        _check_resumed_data(resume, saved, recorded["data"], recorded["validation"])
    if validation_data is None and config.validation_fraction > 0:
        X, X_val, y, y_val = train_test_split(
            X, y, config.validation_fraction, seed=split_rng, stratify=classification
        )
        if classification and len(np.unique(y)) < 2:  # a class too small to split
            raise DataError(
                f"after holding out validation_fraction = {config.validation_fraction:g} of "
                f"{data.name!r} ({data.n_samples} rows), the training rows hold one class "
                "only; use more data, or validation_fraction = 0 (--validation-fraction 0)"
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
                config={
                    "train": config.to_dict(),
                    "feature_names": list(data.feature_names),
                    **recorded,
                },
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
        if (
            saved_model.preprocessing != preprocessing
            or list(saved_model.sizes) != net.sizes
            or _texts(saved_model.classes) != _texts(data.classes)
        ):  # other rows, widths or class labels (the same numbers labelled 0/1, not no/yes)
            raise ValidationError(
                f"the checkpoint {os.fspath(resume or '')!r} was trained on other data: "
                "resume it with the data set it was started with, and with validation data if "
                "and only if that run had them (they change the rows the inputs are "
                "standardised on)"
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
