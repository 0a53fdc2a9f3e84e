"""``chainrule predict MODEL DATA``: predictions as CSV, in the original class labels.

DATA holds the model's feature columns, with or without the target column. The output has a
``prediction`` column and, with ``--proba``, one ``p_<class>`` column per class; it goes to
stdout (also with ``-o -``) or, with ``-o``, to a file written atomically (nothing is written
on an error), or written to in place when ``-o`` names a device or pipe (``/dev/stdout``),
which renaming a file onto would replace.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray


def register(subparsers: Any) -> None:
    """Add the ``predict`` sub-command."""
    from chainrule.cli.common import add_data_arguments

    parser = subparsers.add_parser(
        "predict",
        help="predict with a model file; CSV out",
        description=(
            "Predict every row of DATA (a CSV/NPZ file or data set name with the model's "
            "features, the target column optional) with MODEL; write CSV. Only the model's "
            "features are read: other columns, the target's among them, may hold anything."
        ),
    )
    parser.add_argument("model", metavar="MODEL", help="model file")
    parser.add_argument("data", metavar="DATA", help="CSV/NPZ path or built-in data set name")
    add_data_arguments(parser, "target column to leave out, unread")
    parser.add_argument("-o", "--output", metavar="PATH", help="CSV file (default, or '-': stdout)")
    parser.add_argument("--proba", action="store_true", help="add class probabilities")
    parser.set_defaults(func=run)


#: Rows turned into CSV text at a time. The text of 300,000 rows of 50 class probabilities is
#: 300 MB, and their cells as Python strings took 2 GB at once; in chunks the predictions'
#: arrays and one chunk's text are all that is held.
CHUNK_ROWS = 10_000


def predictions_csv(
    model: Any, source: str, target: int | str | None, proba: bool, delimiter: str | None = None
) -> Iterator[str]:
    """The CSV text of the predictions (see :func:`prediction_table` for its columns), in
    chunks of :data:`CHUNK_ROWS` rows. The data are read and predicted before it returns, so
    that their errors come before anything is written."""
    from chainrule.errors import ValidationError
    from chainrule.fit import read_for_model

    if proba and model.classes is None:
        raise ValidationError("--proba needs a classification model; this one does regression")
    X, _ = read_for_model(model, source, target=target, delimiter=delimiter)
    head, parts = prediction_table(model, X, proba)
    return _csv_chunks(head, parts)


def _csv_chunks(head: list[str], parts: list[NDArray[Any]]) -> Iterator[str]:
    """The CSV text of the table ``head`` over the columns of ``parts`` side by side: the
    header, then :data:`CHUNK_ROWS` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(head)
    yield buffer.getvalue()
    for start in range(0, len(parts[0]), CHUNK_ROWS):
        buffer.seek(0)
        buffer.truncate()
        cells = [_cells(part[start : start + CHUNK_ROWS]) for part in parts]
        writer.writerows([list(itertools.chain(*row)) for row in zip(*cells, strict=True)])
        yield buffer.getvalue()


def _cells(part: NDArray[Any]) -> list[list[Any]]:
    """The CSV cells of a block of rows: floats as ``repr`` writes them (every digit that
    reads them back), integers and labels as they are."""
    if part.dtype.kind == "f":
        return [[repr(v) for v in row] for row in part.tolist()]
    rows: list[list[Any]] = part.tolist()
    return rows


def prediction_table(model: Any, X: Any, proba: bool) -> tuple[list[str], list[NDArray[Any]]]:
    """The header and the columns under it, as 2-D arrays of one row per row of ``X`` (side by
    side they make the table): a ``prediction`` column (the class label as the data spell it,
    or the value), and with ``proba`` one ``p_<class>`` column per class. A multilabel model
    (one sigmoid unit per label) decides each label on its own, so it gets a 0/1 column
    ``prediction_<label>`` per label instead (an argmax would name one label only, as if they
    excluded each other); a model with several outputs (regression) one column
    ``prediction_<j>`` per output."""
    if model.classes is None:
        values = np.asarray(model.predict(X), dtype=np.float64).reshape(len(X), -1)
        k = values.shape[1]
        return ["prediction"] if k == 1 else [f"prediction_{j + 1}" for j in range(k)], [values]
    head: list[str]
    parts: list[NDArray[Any]]
    if model.multilabel:
        head = [f"prediction_{c}" for c in model.classes]
        parts = [model.predict_codes(X).astype(np.int64)]
    else:
        head = ["prediction"]
        labels = np.array(model.classes, dtype=object)
        parts = [labels[model.predict_codes(X)].reshape(len(X), 1)]
    if proba:
        head += [f"p_{c}" for c in model.classes]
        parts.append(np.asarray(model.predict_proba(X), dtype=np.float64))
    return head, parts


NOT_CSV_SUFFIXES = (".safetensors", ".onnx", ".npz", ".npy")
"""Suffixes of model files and binary data, which ``-o`` (a CSV file) would replace."""


def check_not_an_input(output: str | None, model: str, data: str) -> None:
    """Refuse an ``-o`` that would replace the model or the data being read (the predictions
    would be written over them), or that names a model or binary data file."""
    from chainrule.cli.common import refuse_suffixes, same_file
    from chainrule.errors import ValidationError

    if output is None or output == "-":
        return
    for option, path in (("MODEL", model), ("DATA", data)):
        if same_file(output, path):
            raise ValidationError(
                f"--output {output!r} is the {option} file being read; writing the "
                "predictions there would replace it: give another file name"
            )
    refuse_suffixes(output, NOT_CSV_SUFFIXES, "--output: predict writes CSV", ".csv")


def run(args: argparse.Namespace) -> int:
    """Write the predictions."""
    from chainrule._atomic import atomic_path, check_output_path, is_stream
    from chainrule.cli.common import note_columns_by_position
    from chainrule.cli.train import parse_target
    from chainrule.errors import DataError
    from chainrule.fit import FittedModel
    from chainrule.sources import check_not_a_model

    check_output_path(args.output, "--output", stream_ok=True)
    check_not_an_input(args.output, args.model, args.data)
    check_not_a_model(args.data, "DATA", " after MODEL")
    model = FittedModel.load(args.model)
    target = parse_target(args.target)
    chunks = predictions_csv(model, args.data, target, args.proba, args.delimiter)
    note_columns_by_position(
        model.named_features(), args.data, args.delimiter, "predict", "the model's"
    )
    if args.output in (None, "-"):
        sys.stdout.writelines(chunks)
        return 0
    try:
        if is_stream(args.output):  # /dev/stdout, a pipe: written to, never replaced
            with open(args.output, "w", encoding="utf-8") as stream:
                stream.writelines(chunks)
            return 0
        with atomic_path(args.output) as tmp, open(tmp, "w", encoding="utf-8") as stream:
            stream.writelines(chunks)
    except BrokenPipeError:  # -o /dev/stdout into `| head`: as for stdout, not an error
        raise
    except OSError as err:  # read-only folder, full disk: one line, the old file kept
        raise DataError(f"cannot write {args.output}: {err.strerror or err}") from None
    return 0
