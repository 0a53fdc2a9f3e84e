"""Data sources: a CSV or NPZ file or a built-in data set's name, read to train a model or for a
trained model to score or predict.

:func:`read_dataset` reads a source as a :class:`~chainrule.datasets.Dataset` (what
``chainrule train`` learns from). :func:`read_for_model` reads one in a trained model's terms:
its features, matched to the model's by name when both sides have names, and, when asked, its
targets as the model's class codes (what ``evaluate``, ``predict`` and ``plot`` need).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from chainrule.datasets import Dataset, Features, available, load, load_csv, load_npz, toy
from chainrule.datasets.dataset import Task, TaskArg
from chainrule.datasets.files import (
    column_index,
    default_column_names,
    first_csv_row,
    header_names,
    named_features,
    names_columns,
    quoted,
)
from chainrule.errors import DataError, ValidationError

if TYPE_CHECKING:
    from chainrule.fit import FittedModel

__all__ = ["read_dataset", "read_for_model", "read_like"]


CSV_SUFFIXES = (".csv", ".tsv", ".txt")
"""Suffixes of the files read as CSV (so is any existing file not named .npz or .npy)."""


MODEL_SUFFIXES = (".safetensors", ".onnx")
"""Suffixes of model files, which no reader takes for data (read as CSV text, a model file was
"not UTF-8 text: save the file as UTF-8")."""


def check_not_a_model(
    source: str | os.PathLike[str] | None, what: str = "the data source", hint: str = ""
) -> None:
    """Refuse a model file given where data are read (``MODEL`` twice on a command line, a
    model file given to :func:`read_dataset`), before any work; ``hint`` says what was probably
    meant. ``None`` (no source) passes.

    Raises
    ------
    ValidationError
        Naming ``what`` when ``source`` ends in a model file's suffix.
    """
    suffix = "" if source is None else Path(source).suffix.lower()
    if suffix in MODEL_SUFFIXES:
        raise ValidationError(
            f"{what} {os.fspath(source or '')!r} is a model file ({suffix}), not data: give a "
            f"CSV or NPZ file or a built-in data set name{hint}"
        )


def _is_csv(path: Path) -> bool:
    """Whether :func:`read_dataset` reads ``path`` as a CSV file (by extension or existence)."""
    suffix = path.suffix.lower()
    if suffix in (".npz", ".npy"):
        return False
    return suffix in CSV_SUFFIXES or path.exists()


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
    check_not_a_model(text)
    path = Path(text).expanduser()
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
    if suffix and not _is_builtin(text):
        # data.json, iris.cvs: a file name, not a data set's (none has a dot in its name)
        raise DataError(
            f"cannot read {text}: no such file, and no built-in data set has that name (see "
            "'chainrule datasets')"
        )
    # toy generators: the same points every time, so a model can be re-scored
    data = load(text, seed=0) if text in toy.__all__ else load(text)
    if task not in ("auto", data.task):
        raise DataError(f"{text} has a {data.task} target, not a {task} one")
    return data


def read_like(
    training: Dataset,
    source: str | os.PathLike[str],
    *,
    target: int | str | None = None,
    delimiter: str | None = None,
) -> Dataset:
    """More data of ``training``'s kind (validation data): its task, and its features in
    ``training``'s order, matched by name when both sides name their columns, as
    :func:`read_for_model` matches a model's.

    Read by position, a file with the same columns in another order would swap features
    without a word. Without ``target``, a CSV header that holds the training target's name
    picks that column; else the target is found as :func:`read_dataset` finds it. Columns
    count by position when either side has no names (a file without a header). A header
    that names every training feature but not the target has its one other column as the
    target, as :func:`read_for_model` finds it (by position the last column, a feature
    there, would be taken).

    Raises
    ------
    DataError
        What :func:`read_dataset` raises, and a header whose features are not the training
        data's (the message names those missing and those added).
    """
    check_not_a_model(source)
    names = named_features(training.feature_names)
    path = Path(os.fspath(source)).expanduser()
    if target is None and names is not None and _is_csv(path) and path.is_file():
        columns = header_names(first_csv_row(path, delimiter=delimiter)[0])
        extra = [c for c in columns if c not in names]
        if training.target_name in columns:
            target = training.target_name
        elif set(names) <= set(columns) and len(extra) == 1:
            target = extra[0]  # the features by name, and one other column: the target
        elif set(names) <= set(columns) and not extra:
            raise DataError(
                f"{path} has the training features but no target column (the training "
                f"target: {training.target_name!r})"
            )
    data = read_dataset(source, target=target, task=training.task, delimiter=delimiter)
    have = named_features(data.feature_names)
    if names is None or have is None or have == names:
        return data
    missing = [n for n in names if n not in have]
    added = [n for n in have if n not in names]
    if missing or added:
        lacks = f"lacks {quoted(missing)}" if missing else ""
        adds = f"adds {quoted(added)}" if added else ""
        raise DataError(
            f"{data.name}: its feature columns are not the training data's: it "
            f"{' and '.join(filter(None, (lacks, adds)))} (the training features: "
            f"{quoted(names)})"
        )
    return replace(data, X=_reorder(data.X, have, names), feature_names=list(names))


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
    header: bool,
    target: int | str | None,
    need_target: bool,
) -> tuple[NDArray[np.float64], NDArray[Any] | None]:
    """Read a CSV file whose ``columns`` name every feature of ``model``: the features are
    picked by name, in the model's order. Without ``need_target`` any other column is ignored;
    with it the one other column (or ``target``) is the target. ``columns`` are the header's
    names, or (``header=False``) the default names of a file without one, which the model's
    names are when it was trained on such a file with another target than the last (``x2, y``
    after ``--target x1``): they address the columns by position."""
    names = model.feature_names
    assert names is not None
    extra = [c for c in columns if c not in names]
    if isinstance(target, int):
        target = columns[column_index(target, columns, len(columns), str(path), "target")]
    if target is not None and target not in extra:
        why = "is one of the model's features" if target in names else "does not exist"
        raise DataError(f"{path}: target column {target!r} {why}")

    def at(name: str) -> int | str:
        return name if header else columns.index(name)

    features_at = [at(name) for name in names]
    if not need_target:
        features = load_csv(
            path, target=None, columns=features_at, header=header, delimiter=delimiter
        )
        return features.X, None
    if target is None and len(extra) > 1:
        raise DataError(
            f"{path} has columns {quoted(extra)} besides the model's features; "
            "at most one, the target, may be added"
        )
    if target is None and not extra:
        raise DataError(f"{path} has the model's features but no target column")
    data = load_csv(
        path,
        target=at(extra[0] if target is None else target),
        columns=features_at,
        header=header,
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
    names = model.named_features()
    if names is not None:
        if set(names) <= set(header_names(columns)):  # a blank name: as training named it
            return _csv_by_name(
                model,
                path,
                delimiter,
                header_names(columns),
                header=True,
                target=target,
                need_target=need_target,
            )
        if names_columns(columns):
            have = header_names(columns)  # a blank name: as training named it
            missing = [n for n in names if n not in have]  # a header without them
            shown = quoted(columns, 8)
            # a wrong separator glues line 1 into fewer fields, which hold another one
            glued = any(sep in field for field in columns for sep in ",;\t|" if sep != delimiter)
            separator = (
                f"; is {delimiter!r} the file's separator (--delimiter)?"
                if len(columns) < len(names) and (len(columns) == 1 or glued)
                else ""
            )
            raise DataError(
                f"{path} has no column {quoted(missing)}; the model was trained on columns "
                f"{quoted(names)}, and line 1, split at {delimiter!r}, names {shown}{separator}"
            )
        defaults = default_column_names(len(columns))  # line 1 is data: no header
        if set(names) <= set(defaults):
            return _csv_by_name(
                model,
                path,
                delimiter,
                defaults,
                header=False,
                target=target,
                need_target=need_target,
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
    check_not_a_model(text)
    path = Path(text).expanduser()
    if text.strip() and _is_csv(path) and not path.is_dir():
        return _csv_for_model(
            model, path, target=target, need_target=need_target, delimiter=delimiter
        )
    names = model.named_features()
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
