"""Read and write data sets as CSV and NPZ files, with errors that point at the bad cell.

A CSV file holds one sample per line: numeric feature columns and one target column (class
labels or numbers). Every error names the file, the 1-based line, the column (by name when
the file has a header, else by its position counted from 1 and its 0-based index, the one
``target`` and ``columns`` take) and what was expected versus what was found::

    data.csv, line 17, column 'x2': expected a number, got 'abc'
    plain.csv, line 3, column 2 (index 1): expected a number, got ''
"""

from __future__ import annotations

import csv
import itertools
import lzma
import math
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from numbers import Number
from pathlib import Path
from typing import BinaryIO, Literal, TextIO, TypeVar, overload

import numpy as np

from chainrule._atomic import atomic_path
from chainrule._file_kinds import known_kind, text_of, what_it_is
from chainrule.datasets._checks import check_int
from chainrule.datasets.dataset import (
    MAX_AUTO_CLASSES,
    Dataset,
    Features,
    Task,
    TaskArg,
    encode_labels,
    wrong_target_shape,
)
from chainrule.errors import DataError, ValidationError

__all__ = [
    "MAX_COLUMNS",
    "MAX_LINE_CHARS",
    "column_index",
    "default_column_names",
    "first_csv_row",
    "header_names",
    "load_csv",
    "load_npz",
    "save_csv",
]

#: Most columns a CSV file may have; wider files are refused before they are read.
MAX_COLUMNS = 100_000
#: Longest physical line accepted, in characters; guards against a file with no newlines.
MAX_LINE_CHARS = 16 * 1024 * 1024
#: Delimiters tried, in order of preference, when ``delimiter=None``.
DELIMITERS = (",", ";", "\t")
#: Largest array an NPZ file may claim, in bytes; checked from its header before loading.
MAX_NPZ_BYTES = 4 * 1024**3

#: What a damaged or exotic zip archive can raise while numpy opens or reads a member:
#: encrypted or unsupported-method members, corrupt compressed data, bad headers.
_ZIP_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
)

_SNIFF_LINES = 20
_TASKS = ("auto", "classification", "regression")

PathLike = str | os.PathLike[str]


# --------------------------------------------------------------------------------------------
# small helpers


def _check_task(task: object) -> TaskArg:
    if task not in _TASKS:
        raise ValidationError(
            f"task must be one of 'auto', 'classification', 'regression'; got {task!r}"
        )
    return task  # type: ignore[return-value]


def is_number(text: str) -> bool:
    """True when ``text`` is a number as CSV readers read one: ``float(text)`` parses, and the
    text (blanks aside) is ASCII without underscores. The test every numeric CSV field must
    pass."""
    if "_" in text or not text.strip().isascii():
        # float (and numpy, which parses text with it) also reads 1_000 and the digits of
        # other scripts, which CSV readers (numpy's loadtxt, pandas) take for text: read as
        # numbers, labels 1_2 and 12 were one class.
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _all_numbers(texts: list[str]) -> bool:
    """Whether every one of ``texts``, all of which ``float`` parses, is a number
    (:func:`is_number`); quick for plain ASCII without underscores, as nearly all are."""
    joined = "".join(texts)
    return ("_" not in joined and joined.isascii()) or all(is_number(t) for t in texts)


def _physical_lines(fh: TextIO, label: str) -> Iterator[str]:
    """Yield the lines of ``fh``, refusing any longer than :data:`MAX_LINE_CHARS`."""
    number = 0
    while True:
        line = fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
            raise DataError(
                f"{label}, line {number} is longer than {MAX_LINE_CHARS} characters; "
                "is this a CSV file?"
            )
        yield line


def _split(lines: Sequence[str], delimiter: str) -> list[list[str]]:
    """Split sample lines with ``csv`` (quotes respected), dropping blank ones."""
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error:
        return []
    return [r for r in rows if any(f.strip() for f in r)]


def _sniff(lines: Sequence[str]) -> str:
    """Choose among :data:`DELIMITERS` the one that splits the sample lines most plausibly.

    Preference: every line gives the same number (> 1) of fields; then the largest share of
    fields that read as numbers (the first line is skipped, it may be a header); then more
    fields; then the order of :data:`DELIMITERS`.
    """
    best: tuple[bool, float, int, int] | None = None
    choice = DELIMITERS[0]
    for rank, delim in enumerate(DELIMITERS):
        rows = _split(lines, delim)
        if not rows:
            continue
        widths = {len(r) for r in rows}
        consistent = len(widths) == 1 and len(rows[0]) > 1
        body = [f for r in rows[1:] for f in r] or rows[0]
        numeric = sum(is_number(f) for f in body) / len(body)
        score = (consistent, numeric, max(widths), -rank)
        if best is None or score > best:
            best, choice = score, delim
    return choice


class _RowBuffer:
    """A growing float64 matrix: rows appended one at a time, capacity doubled when full."""

    def __init__(self, n_columns: int) -> None:
        self._data = np.empty((64, n_columns), dtype=np.float64)
        self.n = 0

    def append(self, row: np.ndarray) -> None:
        if self.n == self._data.shape[0]:
            grown = np.empty((2 * self.n, self._data.shape[1]), dtype=np.float64)
            grown[: self.n] = self._data
            self._data = grown
        self._data[self.n] = row
        self.n += 1

    def array(self) -> np.ndarray:
        return np.ascontiguousarray(self._data[: self.n])


# --------------------------------------------------------------------------------------------
# CSV

Column = int | str
"""A column of a CSV file: a 0-based index (negative counts from the end) or a name."""

#: The names of a file without a header, which ``target`` and ``columns`` may use.
_DEFAULT_NAME = re.compile(r"y|x[1-9][0-9]*")

T = TypeVar("T")


def default_column_names(n_columns: int, *, target: bool = True) -> list[str]:
    """The names of the columns of a CSV file without a header, in file order.

    With a target (the default) the columns are ``x1, ..., x(n-1)`` and the last ``y``, the
    names :func:`save_csv` writes; without one every column is a feature, ``x1, ..., xn``.
    """
    if not target:
        return [f"x{j + 1}" for j in range(n_columns)]
    return [f"x{j + 1}" for j in range(n_columns - 1)] + ["y"]


def names_columns(fields: list[str]) -> bool:
    """Whether line 1's ``fields`` (from :func:`first_csv_row`) read as a header when a model's
    columns are matched by name: two of them text (a data row has one at most, its label)."""
    return sum(not is_number(field) for field in fields if field) >= min(2, len(fields))


def named_features(names: list[str] | None) -> list[str] | None:
    """Feature ``names`` when they name columns, or ``None`` when they say nothing about them:
    absent, or the ``x1, x2, ...`` that data without a header (or an NPZ file without names)
    get, whose columns count by position."""
    if names is None or names == default_column_names(len(names), target=False):
        return None
    return names


@overload
def load_csv(
    path: PathLike,
    *,
    target: Column = -1,
    columns: Sequence[Column] | None = None,
    header: bool | Literal["auto"] = "auto",
    delimiter: str | None = None,
    task: TaskArg = "auto",
    name: str | None = None,
    max_columns: int = MAX_COLUMNS,
) -> Dataset: ...


@overload
def load_csv(
    path: PathLike,
    *,
    target: None,
    columns: Sequence[Column] | None = None,
    header: bool | Literal["auto"] = "auto",
    delimiter: str | None = None,
    task: TaskArg = "auto",
    name: str | None = None,
    max_columns: int = MAX_COLUMNS,
) -> Features: ...


def load_csv(
    path: PathLike,
    *,
    target: Column | None = -1,
    columns: Sequence[Column] | None = None,
    header: bool | Literal["auto"] = "auto",
    delimiter: str | None = None,
    task: TaskArg = "auto",
    name: str | None = None,
    max_columns: int = MAX_COLUMNS,
) -> Dataset | Features:
    """Read a CSV file of numeric features and one target column into a :class:`Dataset`.

    Parameters
    ----------
    path : str or os.PathLike
        The file, UTF-8 (a byte-order mark is skipped).
    target : int, str or None
        The target column: a 0-based index (negative counts from the end; default the last
        column) or a column name from the header. A file without a header has the names
        ``x1, ..., xk`` and ``y`` for its last column (see :func:`default_column_names`): a
        name that line 1 does not hold but is one of these addresses those columns.
        ``None``: no target column, every column (or every one of ``columns``) is a feature,
        and a :class:`~chainrule.datasets.dataset.Features` record is returned.
    columns : sequence of int or str, optional
        The feature columns, in the order wanted, by index or name as ``target``; columns
        that are neither features nor the target are skipped unread (any text is fine
        there). Default: every column but the target.
    header : bool or "auto"
        Whether the first non-blank line names the columns. ``"auto"`` takes it as a header
        when it holds the names ``target`` or ``columns`` ask for, or when one of its
        non-empty feature fields is not a number. Text in the other columns alone counts if
        the next line has numbers there, or if the features read ``0, 1, ...`` (pandas' names
        for unnamed columns) or other whole numbers above rows with fractions there, and that
        text is no other row's label. Without a header the
        features are named ``x1, x2, ...`` and the target ``y``.
    delimiter : str or None
        Field separator; ``None`` picks among ``,``, ``;`` and tab from the first lines.
    task : {"auto", "classification", "regression"}
        How to read the target. ``"auto"``: text labels -> classification; numbers that are
        all integers with at most ``MAX_AUTO_CLASSES`` (100) distinct values ->
        classification; other numbers -> regression. A class label that is empty, or reads
        as a number that is not finite (``nan``, ``NaN``, ``inf``), is missing and refused;
        any other text is a class, ``NA``, ``N/A``, ``NULL`` and ``None`` included: pandas
        reads those as missing, but they may name real classes (``NA``: North America,
        Namibia; ``N/A``: not applicable). Clear them in the file to have them refused.
    name : str or None
        Name for the data set; default the file name.
    max_columns : int
        Refuse files wider than this (default 100,000) before reading them.

    Returns
    -------
    Dataset or Features
        ``X`` float64 ``(n_samples, n_features)``; for classification ``y`` holds int64 codes
        of the sorted unique labels (numbers sorted numerically, text as text) and
        ``classes`` their original text, so ``dataset.decode(predictions)`` maps back.
        With ``target=None``, the features alone.

    Raises
    ------
    DataError
        If the file cannot be read, is empty, has a header but no rows, a row with the wrong
        number of fields, a value that is not a number or not finite, or no such target
        column. The message names the file, line and column (by name, else by position
        counted from 1 and by 0-based index).
    ValidationError
        If an argument is invalid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "flowers.csv"
    >>> _ = p.write_text("length,width,kind\\n1.0,0.5,rose\\n2.0,1.5,tulip\\n")
    >>> ds = load_csv(p)
    >>> ds.X.tolist(), ds.y.tolist(), ds.classes
    ([[1.0, 0.5], [2.0, 1.5]], [0, 1], ['rose', 'tulip'])
    >>> load_csv(p, target=None, columns=["width"]).X.tolist()
    [[0.5], [1.5]]
    """
    task = _check_task(task)
    _check_column(target, "target", optional=True)
    if columns is not None:
        if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
            raise ValidationError(
                f"columns must be a non-empty list of column indices or names; got {columns!r}"
            )
        for column in columns:
            _check_column(column, "columns", optional=False)
    if header not in ("auto", True, False):
        raise ValidationError(f"header must be True, False or 'auto'; got {header!r}")
    named = [r for r in (target, *(columns or ())) if isinstance(r, str)]
    if header is False and any(not _DEFAULT_NAME.fullmatch(r) for r in named):
        bad = next(r for r in named if not _DEFAULT_NAME.fullmatch(r))
        raise ValidationError(
            f"{bad!r} names a column, but header=False says the file has no names (its "
            "columns are x1, x2, ... and y)"
        )
    if delimiter is not None and (
        not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n'
    ):
        raise ValidationError(
            f"delimiter must be a single character other than a quote or newline; got {delimiter!r}"
        )
    if isinstance(max_columns, bool) or not isinstance(max_columns, int) or max_columns < 2:
        raise ValidationError(f"max_columns must be an integer >= 2; got {max_columns!r}")

    def read(fh: TextIO, label: str) -> Dataset | Features:
        return _read_csv(
            fh,
            label,
            target=target,
            columns=columns,
            header=header,
            delimiter=delimiter,
            task=task,
            name=name or Path(label).name,
            max_columns=max_columns,
        )

    return _with_text(path, read)


def first_csv_row(path: PathLike, *, delimiter: str | None = None) -> tuple[list[str], str]:
    """The fields of a CSV file's first non-blank line, stripped, and the delimiter, split as
    :func:`load_csv` splits them (``delimiter=None``: the one it would pick): a look at the
    header, if there is one, before choosing columns.

    Raises
    ------
    DataError
        If the file cannot be read or is empty.
    """

    def read(fh: TextIO, label: str) -> tuple[list[str], str]:
        chosen, _, rows = _csv_rows(fh, label, delimiter)
        first = next(rows, None)
        if first is None:
            raise DataError(f"{label} is empty: no lines with data")
        return [f.strip() for f in first[1]], chosen

    return _with_text(path, read)


def _check_column(column: object, what: str, *, optional: bool) -> None:
    if (column is None and optional) or (
        isinstance(column, int | str) and not isinstance(column, bool)
    ):
        return
    raise ValidationError(f"{what} must be a column index (int) or name (str); got {column!r}")


def _with_text(path: PathLike, read: Callable[[TextIO, str], T]) -> T:
    """``read(fh, label)`` on the UTF-8 text of ``path`` (``~`` expanded, as pandas and the
    shell expand it), with read errors as one DataError."""
    label = os.fspath(path)
    path = os.path.expanduser(label)
    try:
        fh = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115  (closed below)
    except OSError as exc:
        raise DataError(f"cannot read {label}: {exc.strerror or exc}") from exc
    try:
        with fh:
            return read(fh, label)
    except UnicodeDecodeError as exc:
        raise DataError(_not_utf8(path, label)) from exc
    except OSError as exc:
        raise DataError(f"cannot read {label}: {exc.strerror or exc}") from exc


def _not_utf8(path: PathLike, label: str) -> str:
    """Why ``path`` cannot be read as UTF-8, for a message: what it is when its first bytes
    say so, else the line and byte that do not decode (the decoder reports only an offset
    into the chunk it was reading, which says nothing to the file's owner)."""
    try:
        with open(path, "rb") as fh:
            kind = known_kind(fh.read(64))
            if kind is not None:
                return f"{label} is not UTF-8 text: it is {kind}; save it as UTF-8 CSV"
            fh.seek(0)
            for number, line in enumerate(fh, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return (
                        f"{label} is not UTF-8 text: line {number}, byte {exc.start + 1} of the "
                        f"line ({line[exc.start]:#04x}) cannot be decoded ({exc.reason}); save "
                        "the file as UTF-8"
                    )
    except OSError as exc:
        return f"cannot read {label}: {exc.strerror or exc}"
    return f"{label} is not UTF-8 text; save it as UTF-8"  # pragma: no cover  (it decoded)


def _csv_rows(
    fh: TextIO, label: str, delimiter: str | None
) -> tuple[str, bool, Iterator[tuple[int, list[str]]]]:
    """The delimiter (sniffed when ``None``), whether it was sniffed, and the non-blank
    records of ``fh`` with the 1-based line each ends on."""
    lines = _physical_lines(fh, label)
    sample = list(itertools.islice(lines, _SNIFF_LINES))
    sniffed = delimiter is None
    chosen = _sniff(sample) if delimiter is None else delimiter
    reader = csv.reader(itertools.chain(sample, lines), delimiter=chosen, strict=True)

    def records() -> Iterator[tuple[int, list[str]]]:
        try:
            for record in reader:
                if any(field.strip() for field in record):
                    yield reader.line_num, record
        except csv.Error as exc:
            raise DataError(f"{label}, line {reader.line_num}: malformed CSV ({exc})") from exc

    return chosen, sniffed, _without_trailing_delimiter(records(), label)


def _without_trailing_delimiter(
    records: Iterator[tuple[int, list[str]]], label: str
) -> Iterator[tuple[int, list[str]]]:
    """``records`` without the empty last field of lines that end with the delimiter
    (``a,b,label,``), as spreadsheets and some exporters write them. That field is no column:
    counted as one it would be the default target, empty everywhere, and the real target a
    feature. The first record says whether lines end so (its last of 2 or more fields is
    blank) when the second agrees (it ends blank too, or lacks that field); a later value
    in that field is an error naming its line rather than a column quietly dropped."""
    first = next(records, None)
    if first is None:
        return
    second = next(records, None)
    head = [first] if second is None else [first, second]
    line1, fields = first
    width = len(fields)
    trailing = (
        width >= 2
        and not fields[-1].strip()
        and (
            second is None
            or len(second[1]) == width - 1
            or (len(second[1]) == width and not second[1][-1].strip())
        )
    )
    if not trailing:
        yield from itertools.chain(head, records)
        return
    for line, record in itertools.chain(head, records):
        if len(record) == width:
            if record[-1].strip():
                raise DataError(
                    f"{label}, line {line}, {_position(width - 1)}: got "
                    f"{_shown(record[-1].strip())} where line {line1} ends with an empty field, "
                    "taken for a delimiter at the end of each line; fill in that column on every "
                    "line or remove the trailing delimiters"
                )
            record = record[:-1]
        yield line, record


@dataclass(frozen=True)
class _Layout:
    """Which columns of a CSV file are read, and whether line 1 names them.

    ``header`` is ``None`` while undecided (see :func:`_decide_header`); ``names`` are the
    header's names (empty without one); ``positional`` says a name given for a file without
    a header addressed its default names.
    """

    header: bool | None
    names: list[str]
    target: int | None
    features: list[int]
    positional: bool


def _layout(
    target: Column | None,
    columns: Sequence[Column] | None,
    *,
    header: bool | Literal["auto"],
    first: tuple[int, list[str]],
    second: tuple[int, list[str]] | None,
    label: str,
) -> _Layout:
    """Decide the header and resolve ``target`` and ``columns`` to column indices."""
    first_line, fields = first
    line1 = [f.strip() for f in fields]
    defaults = default_column_names(len(fields), target=target is not None)
    named = [r for r in (target, *(columns or ())) if isinstance(r, str)]
    unnamed = [r for r in named if r not in line1]  # not in line 1: default names, or missing
    decision: bool | None
    if header != "auto":
        decision = header
    elif named and not unnamed:
        decision = True
    elif any(r not in defaults for r in unnamed):
        missing = next(r for r in unnamed if r not in defaults)
        if not any(f and not is_number(f) for f in line1):
            raise DataError(
                f"{label}: no column {missing!r}: line {first_line} holds data, not a header; "
                f"the columns of a file without a header are {quoted(defaults)}, or give a "
                "0-based index"
            )
        if any(is_number(f) for f in line1):  # numbers and text: data with class labels?
            raise DataError(
                f"{label}: no column {missing!r}: read as a header, line {first_line} names "
                f"the columns {quoted(line1)}; read as data, the columns are "
                f"{quoted(defaults)}; or give a 0-based index"
            )
        decision = True  # line 1 names columns, but not this one: reported below
    else:
        t, features = _resolve(target, columns, defaults, len(fields), label)
        decision = _decide_header(fields, second, t, features)
    names = _column_names(fields, label, first_line) if decision else []
    t, features = _resolve(target, columns, names or defaults, len(fields), label)
    return _Layout(decision, names, t, features, positional=bool(named) and not names)


def _resolve(
    target: Column | None,
    columns: Sequence[Column] | None,
    names: list[str],
    n_columns: int,
    label: str,
) -> tuple[int | None, list[int]]:
    """The indices of ``target`` and the feature ``columns`` among ``names``."""
    t = None if target is None else column_index(target, names, n_columns, label, "target")
    if columns is None:
        return t, [j for j in range(n_columns) if j != t]
    features = [column_index(c, names, n_columns, label, "feature") for c in columns]
    for i, j in enumerate(features):
        if j == t:
            raise DataError(f"{label}: {_position(j)} is the target; it cannot be a feature too")
        if j in features[:i]:
            raise DataError(f"{label}: {_position(j)} is listed twice among the columns")
    return t, features


def column_index(column: Column, names: list[str], n_columns: int, label: str, what: str) -> int:
    """The 0-based index of ``column`` (an index, or one of ``names``) in a CSV file
    ``label`` of ``n_columns`` columns; a DataError names the ``what`` column missing."""
    if isinstance(column, str):
        if column not in names:
            raise DataError(
                f"{label}: {what} column {column!r} not found; columns: {quoted(names)}"
            )
        return names.index(column)
    if not -n_columns <= column < n_columns:
        raise DataError(
            f"{label}: {what} index {column} is out of range for {n_columns} columns "
            f"(valid: {-n_columns}..{n_columns - 1})"
        )
    index = column % n_columns
    if str(column) in names and names.index(str(column)) != index:
        # a header of numbers (years, pandas' default column names after its index column)
        raise DataError(
            f"{label}: {what} {column} is ambiguous: index {column} is the column "
            f"{names[index]!r}, but another column is named {str(column)!r}; give its index, "
            f"{names.index(str(column))}, to mean that one"
        )
    return index


def _comment(line: int, fields: list[str]) -> str:
    """What to do about record ``fields`` (ending on ``line``) when it starts with ``#``, a
    comment as numpy's ``savetxt`` writes one above its rows, which a CSV reader (pandas, this
    one) takes for data: its field count is then wrong. Empty for any other record."""
    if not fields or not fields[0].lstrip().startswith("#"):
        return ""
    return (
        f"line {line} starts with '#', a comment, which is not read as one: remove the comment "
        "lines (numpy.savetxt(..., comments='') writes none)"
    )


def quoted(names: Sequence[str], most: int | None = None) -> str:
    """``'a', 'b'``: column names as messages quote them; with ``most``, only the first
    ``most`` of them and ``...`` (a wide file's header)."""
    shown = ", ".join(map(repr, names[:most]))
    return shown + (", ..." if most is not None and len(names) > most else "")


def _position(j: int) -> str:
    """A column by position, unambiguous whichever way the reader counts."""
    return f"column {j + 1} (index {j})"


def _read_csv(
    fh: TextIO,
    label: str,
    *,
    target: Column | None,
    columns: Sequence[Column] | None,
    header: bool | Literal["auto"],
    delimiter: str | None,
    task: TaskArg,
    name: str,
    max_columns: int,
) -> Dataset | Features:
    delimiter, sniffed, rows = _csv_rows(fh, label, delimiter)
    first = next(rows, None)
    if first is None:
        raise DataError(f"{label} is empty: no lines with data")
    first_line, first_fields = first
    n_columns = len(first_fields)
    if n_columns > max_columns:
        raise DataError(
            f"{label}, line {first_line} has {n_columns} fields; at most {max_columns} "
            "columns are supported (in Python, load_csv's max_columns= raises the limit)"
        )
    if n_columns < 2 and target is not None:
        how = _comment(first_line, first_fields) or (
            "separate fields with ',', ';' or tabs, the separators recognised (--delimiter on "
            "the command line, delimiter= in Python, takes another)"
            if sniffed
            else f"is the delimiter {delimiter!r} the file's separator?"
        )
        raise DataError(
            f"{label}, line {first_line} has 1 field where a data set needs at least 2 columns, "
            f"features and a target: {how}"
        )

    second = next(rows, None)
    layout = _layout(target, columns, header=header, first=first, second=second, label=label)
    # Undecided (None): line 1 is read as data for now, and becomes the header at the end if
    # its label turns out to be no other row's (see _decide_header).
    t, feature_cols = layout.target, layout.features
    label_col = t  # the column whose text is kept: the target's, or the one deciding the header
    if t is None and layout.header is None:
        label_col = _text_column(first_fields)
    column_label = _column_labels(layout.names, n_columns)

    data_rows: Iterator[tuple[int, list[str]]]
    if layout.header:
        data_rows = rows if second is None else itertools.chain([second], rows)
    else:
        data_rows = itertools.chain([first], [] if second is None else [second], rows)

    features = _RowBuffer(len(feature_cols))
    labels: list[str] = []
    line_numbers: list[int] = []
    for line, fields in data_rows:
        if len(fields) != n_columns:
            wrong = (
                f"{label}, line {line} has {len(fields)} field{'s' * (len(fields) != 1)}, "
                f"expected {n_columns}"
            )
            comment = _comment(line, fields) or _comment(first_line, first_fields)
            raise DataError(f"{wrong}; {comment}" if comment else wrong)
        features.append(_feature_row(fields, feature_cols, f"{label}, line {line}", column_label))
        if label_col is not None:
            labels.append(fields[label_col].strip())
        line_numbers.append(line)

    X = features.array()
    names = layout.names
    if (
        layout.header is None
        and labels[0] not in labels[1:]
        and _line_1_names_columns(first_fields, feature_cols, X[1:])
    ):
        names = _column_names(first_fields, label, first_line)
        X, labels, line_numbers = X[1:], labels[1:], line_numbers[1:]
        column_label = _column_labels(names, n_columns)
    if not line_numbers:
        raise DataError(f"{label} has a header (line {first_line}) but no data rows")

    # Without a header: the default names (x1, ..., y with a target, x1, ..., xn without),
    # also for a target given by index, so that the features keep the names of their places
    # (x2, y after target 0, as after target 'x1'), by which a model finds them again
    if not names and (layout.positional or t is not None):
        names = default_column_names(n_columns, target=t is not None)
    if names:
        feature_names = [names[j] for j in feature_cols]
    else:
        feature_names = default_column_names(len(feature_cols), target=False)
    if t is None:
        return Features(X=X, feature_names=feature_names, name=name)

    def where(i: int) -> str:
        return f"{label}, line {line_numbers[i]}, {column_label[t]}"

    y, classes, final_task = _encode_target(labels, task, where)
    target_name = names[t] if names else "y"
    return Dataset(
        X=X,
        y=y,
        feature_names=feature_names,
        target_name=target_name,
        classes=classes,
        task=final_task,
        name=name,
    )


def _feature_row(
    fields: list[str], feature_cols: list[int], where: str, column_label: list[str]
) -> np.ndarray:
    """The feature values of one record, or a DataError naming the bad cell."""
    values = [fields[j] for j in feature_cols]
    try:
        row = np.array(values, dtype=np.float64)
        numbers = _all_numbers(values)
    except ValueError:
        numbers = False
    if not numbers:
        j = next(j for j in feature_cols if not is_number(fields[j]))
        raise DataError(
            f"{where}, {column_label[j]}: expected a number, got {_shown(fields[j])}"
            + _number_hint(fields[j], feature=True)
        )
    if not np.all(np.isfinite(row)):
        bad = feature_cols[int(np.flatnonzero(~np.isfinite(row))[0])]
        raise DataError(f"{where}, {column_label[bad]}: {_not_finite(fields[bad])}")
    return row


#: Longest value shown whole in a message; a longer one (a line with the wrong delimiter
#: can be one field of megabytes) is cut, its length given.
_SHOWN_CHARS = 60


def _shown(text: str) -> str:
    """``text`` quoted for a message, cut after :data:`_SHOWN_CHARS` characters."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}... ({len(text):,} characters)"


def _not_finite(text: str) -> str:
    """What is wrong with a field that reads as a number that is not finite: ``nan`` or
    ``inf`` as written, or a number beyond the range of float64 (``1e309``, a long run of
    digits), which reads as infinite."""
    number = text.strip()
    shown = number if len(number) <= _SHOWN_CHARS else _shown(number)
    beyond = math.isinf(float(number)) and "inf" not in number.lower()
    return f"value is not finite ({shown})" + (
        ": it is beyond the range of float64 numbers (about 1.8e308)" if beyond else ""
    )


_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+")


_MISSING_MARKERS = frozenset({"na", "n/a", "nan", "null", "none", "missing", "?", "-", "--"})
"""Cell texts that spreadsheets and pandas write for a missing value (compared in lower case)."""


def _number_hint(text: str, *, feature: bool) -> str:
    """What to do about a cell that should hold a number: a missing value (empty, ``NA``,
    ``?``), ``1,5`` written with a decimal comma (a spreadsheet's export in many locales, with
    ``;`` between fields), ``12,345,678`` with thousands separators (``1,234`` may be either),
    or, in a feature, text such as a category (``male``), which a network cannot read: it
    multiplies numbers."""
    number = text.strip()
    if number.lower() in _MISSING_MARKERS or not number:
        return " (a missing value: fill it in or remove the row)"
    if _THOUSANDS.fullmatch(number):
        if number.count(",") > 1:
            return " (thousands separators: write the number without them)"
        return (
            " (a thousands separator or a decimal comma: write the number without separators "
            "and with a point for decimals)"
        )
    if _DECIMAL_COMMA.fullmatch(number):
        return (
            " (a decimal comma: write numbers with a point, 1.5, e.g. by exporting the sheet in "
            "an English locale)"
        )
    if feature:
        return " (features are numbers: fix it, or encode categories as 0/1 columns)"
    return ""


def _check_class_label(text: str, where: str) -> None:
    """Refuse a class label that is no label, the one rule :func:`load_csv` and
    :func:`load_npz` share: an empty or blank one, or one that reads as a number that is not
    finite (``nan``, ``NaN``, ``inf``: see :func:`_missing_number`). Any other text is a class,
    ``NA``, ``N/A`` and ``None`` included, which pandas reads as missing but which may name a
    real class (North America, not applicable). ``where`` locates the label for the message."""
    if not text.strip():
        what = "which is empty" if not text else "which is blank"
    elif _missing_number(text):
        what = "which reads as a missing value (NaN) or an infinite number, not a class"
    else:
        return
    raise DataError(
        f"{where}: expected a class label, got {_shown(text)}, {what}; fill in the label or remove "
        "the row"
    )


def _missing_number(text: str) -> bool:
    """Whether a class label reads as a number that is not finite (``nan``, ``inf``).

    Labels that are all numbers must be finite, but among text labels ``nan`` would be taken
    for one more class: it is a missing value (pandas reads it as one; labels turned into text
    with ``astype(str)`` write a missing one so), and its rows would be trained on as a class
    of their own."""
    return is_number(text) and not math.isfinite(float(text))


def _text_column(fields: list[str]) -> int:
    """The first field of line 1 that is text (one there is when the header is undecided)."""
    return next(j for j, f in enumerate(fields) if f.strip() and not is_number(f))


def _column_names(fields: list[str], label: str, line: int) -> list[str]:
    """The names in header ``fields``, checked unique; a blank one is named as
    :func:`header_names` names it."""
    names = [f.strip() for f in fields]
    seen: dict[str, int] = {}
    for j, col_name in enumerate(names):
        if not col_name:
            continue
        if col_name in seen:
            raise DataError(
                f"{label}, line {line}: column name {col_name!r} appears twice "
                f"(columns {seen[col_name] + 1} and {j + 1}, indices {seen[col_name]} and {j}); "
                "names must be unique"
            )
        seen[col_name] = j
    return header_names(names)


def header_names(fields: list[str]) -> list[str]:
    """The column names that header ``fields`` (from :func:`first_csv_row`) give the columns,
    as :func:`load_csv` names them: a blank one (the index column pandas' ``to_csv`` writes)
    is called ``column J`` (``unnamed column J`` when another column is already named that).
    What a header is matched with a model's or the training data's feature names by."""
    names = [f.strip() for f in fields]
    taken = set(names)
    for j, col_name in enumerate(names):
        if not col_name:
            blank_name = f"column {j + 1}"
            while blank_name in taken:
                blank_name = f"unnamed {blank_name}"
            names[j] = blank_name
            taken.add(blank_name)
    return names


def _column_labels(names: list[str], n_columns: int) -> list[str]:
    """How error messages name each column: ``'name'`` from the header, else its position."""
    return [f"column {n!r}" for n in names] if names else [_position(j) for j in range(n_columns)]


def _decide_header(
    first: list[str],
    second: tuple[int, list[str]] | None,
    target: int | None,
    features: list[int],
) -> bool | None:
    """Whether line 1 (``first``) is a header, by the rule documented in :func:`load_csv`.

    None means "only once the whole file is read": line 1's text is outside the features (in
    the target, or a column not read) and its features are whole numbers, as numbers naming
    columns are (pandas writes ``0, 1, ..., k-1`` for unnamed ones: ``pd.DataFrame(X).assign(
    label=y).to_csv(index=False)``). Such a line is a header when its label occurs nowhere else
    in its column, since a data row's label is a class that other rows share, and its numbers
    are pandas' or stand above fractions (see :func:`_line_1_names_columns`).
    """
    text_columns = [j for j, f in enumerate(first) if f.strip() and not is_number(f)]
    if not text_columns:
        return False
    if set(text_columns) & set(features):
        return True
    # Text only outside the features: a header if the next row has numbers there, ...
    if (
        second is not None
        and len(second[1]) == len(first)
        and all(is_number(second[1][j]) for j in text_columns)
    ):
        return True
    # ... perhaps one if the features are whole numbers, as numbers that name columns are
    # (pandas' indices 0, 1, ..., wavelengths, years): decided with the rows below.
    values = [first[j].strip() for j in features]
    return None if all(_WHOLE_NUMBER.fullmatch(v) for v in values) else False


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _line_1_names_columns(first: list[str], features: list[int], below: np.ndarray) -> bool:
    """For a line 1 left undecided by :func:`_decide_header`, whose label is no other row's
    (a data row's label is a class other rows share): whether its whole numbers name the
    columns. They do when they are pandas' ``0, 1, ..., k-1``, or when the features of the
    rows ``below`` hold fractions, which column names would not."""
    values = [first[j].strip() for j in features]
    pandas_names = values == [str(i) for i in range(len(values))]
    return pandas_names or bool(np.any(np.isfinite(below) & (below != np.round(below))))


def _encode_target(
    targets: list[str], task: TaskArg, where: Callable[[int], str]
) -> tuple[np.ndarray, list[str] | None, Task]:
    """Turn the target texts into ``(y, classes, task)``; ``where(i)`` locates row ``i``."""
    numeric: np.ndarray | None
    try:
        numeric = np.array(targets, dtype=np.float64)
    except ValueError:
        numeric = None
    if numeric is not None and not _all_numbers(targets):
        numeric = None

    if numeric is None:
        if task == "regression":
            i = next(i for i, v in enumerate(targets) if not is_number(v))
            raise DataError(
                f"{where(i)}: expected a number, got {_shown(targets[i])}"
                + _number_hint(targets[i], feature=False)
            )
        if task == "auto":
            n_numbers = sum(is_number(v) for v in targets)
            if n_numbers and n_numbers >= len(targets) / 2:
                i = next(i for i, v in enumerate(targets) if not is_number(v))
                raise DataError(
                    f"{where(i)}: expected a number like the other target values, got "
                    f"{_shown(targets[i])}; fix that value, or read the target as class labels "
                    "with --task classification (task='classification' in Python)"
                )
        for i, v in enumerate(targets):
            _check_class_label(v, where(i))
        codes, classes = encode_labels(np.array(targets))
        return codes, classes, "classification"

    finite = np.isfinite(numeric)
    if not np.all(finite):
        i = int(np.flatnonzero(~finite)[0])
        raise DataError(f"{where(i)}: {_not_finite(targets[i])}")
    if task == "regression":
        return numeric, None, "regression"
    if task == "auto":
        integral = bool(np.all(numeric == np.round(numeric)))
        if not integral or np.unique(numeric).size > MAX_AUTO_CLASSES:
            return numeric, None, "regression"
    if np.any(np.abs(numeric) >= 2.0**53):
        # float64 rounds integers this large (2**63 - 1 and 2**63 - 2 become one number):
        # keep the labels' text so that distinct classes stay distinct and keep their names,
        # sorted by their exact value as numbers are ('10' after '2'), then by text.
        codes, texts = encode_labels(np.array(targets))
        order = sorted(range(len(texts)), key=lambda c: (Decimal(texts[c]), texts[c]))
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank[codes], [texts[c] for c in order], "classification"
    codes, classes = encode_labels(numeric)
    return codes, classes, "classification"


def save_csv(
    path: PathLike,
    X: np.ndarray,
    y: np.ndarray,
    *,
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
    classes: Sequence[str] | None = None,
    delimiter: str = ",",
    header: bool = True,
) -> None:
    """Write features and targets as a CSV file that :func:`load_csv` reads back exactly.

    The file is written to a temporary name in the same folder and renamed, so it is never
    seen half-written. Numbers are written with Python's shortest round-trip ``repr``.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; replaced if it exists.
    X : ndarray of shape (n_samples, n_features)
        Finite numbers.
    y : ndarray of shape (n_samples,)
        Targets; with ``classes``, integer codes written as ``classes[y[i]]``.
    feature_names : sequence of str, optional
        Column names; default ``x1, x2, ...``.
    target_name : str
        Name of the last column, the target.
    classes : sequence of str, optional
        Original labels of the codes in ``y``.
    delimiter : str
        Field separator.
    header : bool
        Whether to write the line of names.

    Raises
    ------
    ValidationError
        If the arrays or names are inconsistent.
    DataError
        If the file cannot be written.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.dtype.kind not in "fiub":
        raise ValidationError(f"X must be a 2-D numeric array; got shape {X.shape} ({X.dtype})")
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValidationError(wrong_target_shape("y", y.shape, X.shape[0]))
    if not np.all(np.isfinite(X)):
        raise ValidationError("X must be finite; it contains nan or inf")
    names = (
        default_column_names(X.shape[1], target=False)
        if feature_names is None
        else list(feature_names)
    )
    if len(names) != X.shape[1]:
        raise ValidationError(f"feature_names has {len(names)} names for {X.shape[1]} columns of X")
    if len({*names, target_name}) != len(names) + 1:
        raise ValidationError("feature_names and target_name must be unique")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValidationError(f"delimiter must be a single character; got {delimiter!r}")

    if classes is not None:
        labels = np.array([str(c) for c in classes])
        if y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() >= len(labels))):
            raise ValidationError(
                f"with classes, y must hold integer codes in 0..{len(labels) - 1}"
            )
        y_text = [str(v) for v in labels[y]]
        _check_labels_read_back(sorted(set(y_text)))
    elif y.dtype.kind in "iub":
        y_text = [str(int(v)) for v in y]
    elif y.dtype.kind == "f":
        if not np.all(np.isfinite(y)):
            raise ValidationError("y must be finite; it contains nan or inf")
        y_text = [repr(float(v)) for v in y]
    elif y.dtype.kind in "OS":  # objects (as pandas holds text) or bytes
        y_text = [_label_text(v, i) for i, v in enumerate(y.tolist())]
        _check_labels_read_back(sorted(set(y_text)))
    else:
        y_text = [str(v) for v in y]
        _check_labels_read_back(sorted(set(y_text)))
    if header:
        first_row = [*(repr(float(v)) for v in X[0].tolist()), y_text[0]] if len(X) else None
        _check_header_read_back(names, target_name, first_row, y_text, X)

    target = Path(path)
    try:
        with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
            if header:
                writer.writerow([*names, target_name])
            for row, label in zip(X.tolist(), y_text, strict=True):
                writer.writerow([*(repr(float(v)) for v in row), label])
    except OSError as exc:
        raise DataError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from exc


def _label_text(value: object, i: int) -> str:
    """The text :func:`save_csv` writes for the label ``y[i]`` of an object or bytes array:
    a string as it is, bytes decoded as UTF-8 (``str`` would write ``b'cat'``), a number as
    ``str`` writes it. Anything else, ``None`` and pandas' ``pd.NA`` above all (a missing
    label, which ``str`` would turn into a class ``'None'`` or ``'<NA>'``), is refused."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"y[{i}] = {value!r} holds bytes that are not UTF-8 text ({exc.reason}); "
                "store the labels as str"
            ) from exc
    if isinstance(value, str | Number):
        return str(value)
    raise ValidationError(
        f"y[{i}] is {value!r}, not a class label (a string or a number): a missing label? "
        "Give every row a label, or remove the rows without one"
    )


def _check_header_read_back(
    names: list[str],
    target_name: str,
    first_row: list[str] | None,
    labels: list[str],
    X: np.ndarray,
) -> None:
    """Refuse a header that :func:`load_csv` would not read back as these names: it strips
    blanks around names, and takes line 1 for a data row unless it decides (by the rule of
    :func:`_decide_header`) that the line names the columns."""
    fields = [*names, target_name]
    for text in fields:
        if not text.strip() or text != text.strip():
            raise ValidationError(
                f"column name {text!r} is empty or has blanks around it, which a CSV reader "
                "strips; give every column a name without surrounding blanks"
            )
    second = None if first_row is None else (2, first_row)
    decision = _decide_header(fields, second, len(names), list(range(len(names))))
    if decision is False or (
        decision is None
        and (
            target_name in {label.strip() for label in labels}
            or not _line_1_names_columns(fields, list(range(len(names))), X)
        )
    ):
        raise ValidationError(
            f"the header {quoted(fields)} would read back as a data row (load_csv takes line "
            "1 for names when a feature's name is not a number, or when whole numbers there "
            "stand above fractions); give a feature a name that is not a number, or pass "
            "header=False"
        )


def _check_labels_read_back(texts: list[str]) -> None:
    """Refuse class labels that :func:`load_csv` would not read back as distinct classes: it
    strips blanks around a label, and compares labels that are all numbers by value."""
    keys = [t.strip() for t in texts]
    for text, stripped in zip(texts, keys, strict=True):
        if not stripped:
            raise ValidationError(
                f"class label {text!r} is empty or blank, which a CSV file cannot hold as a "
                "label; give every class a name"
            )
        if _missing_number(stripped):
            raise ValidationError(
                f"class label {text!r} reads back as a missing value (NaN) or an infinite "
                "number, not a class; give every class a name"
            )
    as_numbers = [float(k) for k in keys] if all(is_number(k) for k in keys) else None
    seen: dict[object, str] = {}
    for i, text in enumerate(texts):
        key: object = keys[i]
        if as_numbers is not None and math.isfinite(as_numbers[i]) and abs(as_numbers[i]) < 2**53:
            key = as_numbers[i]  # as the reader compares them (larger ones keep their text)
        if key in seen:
            raise ValidationError(
                f"class labels {seen[key]!r} and {text!r} would read back as one class (a CSV "
                "reader strips blanks around labels and compares numbers by value); rename one"
            )
        seen[key] = text


# --------------------------------------------------------------------------------------------
# NPZ


def _read_npz_arrays(
    file: BinaryIO, label: str, max_bytes: int, target: str | None
) -> dict[str, np.ndarray]:
    """The arrays ``X``, ``target`` (unless ``None``) and the optional ones of an open
    ``.npz`` file, size-checked."""
    start = file.read(64)
    file.seek(0)
    if not start.startswith((b"PK", b"\x93NUMPY")):
        # np.load takes anything else for a pickle, and its message would suggest
        # loading it as a pickle, for a file that holds none (a CSV file named .npz, say).
        raise DataError(f"{label} is not a readable .npz file: {_what_it_is(start)}")
    try:
        archive = np.load(file, allow_pickle=False)
    except _ZIP_ERRORS as exc:
        raise DataError(f"{label} is not a readable .npz file: {exc}") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataError(f"{label} is a single .npy array, not an .npz archive with X and y")
    with archive:
        keys = list(archive.files)
        required = ["X"] if target is None else ["X", target]
        missing = [k for k in required if k not in keys]
        if missing:
            raise DataError(
                f"{label} has no array {missing[0]!r}; arrays present: "
                + (", ".join(repr(k) for k in keys) or "none")
            )
        arrays: dict[str, np.ndarray] = {}
        optional = ["feature_names"] + ([] if target is None else ["target_name", "classes"])
        for key in [*required, *optional]:
            if key not in keys:
                continue
            _check_npz_member(archive, key, label, max_bytes)
            try:
                arrays[key] = archive[key]
            except _ZIP_ERRORS as exc:
                raise DataError(f"{label}: array {key!r} cannot be read: {exc}") from exc
    return arrays


@overload
def load_npz(
    path: PathLike,
    *,
    target: str = "y",
    task: TaskArg = "auto",
    name: str | None = None,
    max_bytes: int = MAX_NPZ_BYTES,
) -> Dataset: ...


@overload
def load_npz(
    path: PathLike,
    *,
    target: None,
    task: TaskArg = "auto",
    name: str | None = None,
    max_bytes: int = MAX_NPZ_BYTES,
) -> Features: ...


def load_npz(
    path: PathLike,
    *,
    target: str | None = "y",
    task: TaskArg = "auto",
    name: str | None = None,
    max_bytes: int = MAX_NPZ_BYTES,
) -> Dataset | Features:
    """Read a ``.npz`` file with arrays ``X`` and ``y`` into a :class:`Dataset`.

    Never unpickles (``allow_pickle=False``): object arrays are refused. Optional arrays
    ``feature_names``, ``target_name`` and ``classes`` (strings) are used when present; with
    ``classes`` the target is a classification one and holds integer codes into it (a
    :class:`Dataset`'s ``y`` and ``classes``, saved with ``numpy.savez``) or the class names
    themselves, and a code outside ``0 .. len(classes) - 1`` or a name not among them is
    refused; the classes keep their stored order. Each array's size is read from its header
    and checked against ``max_bytes`` before loading.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    target : str or None
        The array of targets, ``"y"``; ``None``: no targets, ``X`` alone is read (a ``y``
        there is ignored, unread) and a :class:`~chainrule.datasets.dataset.Features`
        record is returned.
    task : {"auto", "classification", "regression"}
        How to read ``y``, as in :func:`load_csv`; integer, boolean and string ``y`` read as
        classes under ``"auto"``. String labels that are empty, blank or read as a number
        that is not finite (``"nan"``) are missing and refused, as in :func:`load_csv`; any
        other string (``"NA"``, ``"None"``) is a class.
    name : str or None
        Name for the data set; default the file name.
    max_bytes : int
        Largest array accepted, in bytes.

    Returns
    -------
    Dataset or Features

    Raises
    ------
    DataError
        If the file is missing, not an NPZ archive, lacks ``X`` or ``y`` (``target``), holds object
        arrays, arrays of the wrong shape, or non-finite values.
    ValidationError
        If an argument is invalid.
    """
    task = _check_task(task)
    if target is not None and (not isinstance(target, str) or target in ("X", "")):
        raise ValidationError(
            f"target must be the name of the array of targets, like 'y', or None; got {target!r}"
        )
    check_int(max_bytes, "max_bytes", low=0)
    label = os.fspath(path)
    try:
        # Opened here, not by np.load: np.load leaks its own handle when the zip is damaged.
        file = open(os.path.expanduser(label), "rb")  # noqa: SIM115  (closed by the with below)
    except OSError as exc:
        raise DataError(f"cannot read {label}: {exc.strerror or exc}") from exc
    with file:
        arrays = _read_npz_arrays(file, label, max_bytes, target)

    X = arrays["X"]
    if X.ndim != 2 or X.dtype.kind not in "fiub":
        raise DataError(
            f"{label}: X must be a 2-D numeric array; got shape {X.shape} ({X.dtype})"
            + _reshape_hint(X.shape)
        )
    if X.shape[1] == 0:
        # No feature to learn from or predict with, refused as load_csv refuses a file with a
        # target column alone. (No rows is a data set, empty: training refuses it.)
        raise DataError(
            f"{label}: X has shape {X.shape}, no feature columns; a data set needs at least "
            "one feature"
        )
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        r, c = (int(v) for v in np.argwhere(~np.isfinite(X))[0])
        raise DataError(f"{label}: X[{r}, {c}] is not finite ({X[r, c]})")
    feature_names = (
        _npz_names(arrays["feature_names"], label, "feature_names")
        if "feature_names" in arrays
        else default_column_names(X.shape[1], target=False)
    )
    if len(feature_names) != X.shape[1]:
        raise DataError(
            f"{label}: feature_names has {len(feature_names)} names for {X.shape[1]} columns"
        )
    if target is None:
        return Features(X=X, feature_names=feature_names, name=name or Path(label).name)

    y = arrays[target]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise DataError(f"{label}: {wrong_target_shape(target, y.shape, X.shape[0])}")
    target_name = target
    if "target_name" in arrays:
        stored = arrays["target_name"].reshape(-1)
        if stored.size != 1:
            raise DataError(
                f"{label}: target_name must hold one name; it holds {stored.size} values"
            )
        target_name = _npz_texts(stored, label, "target_name")[0]

    y_out: np.ndarray
    classes: list[str] | None
    final_task: Task
    if y.dtype.kind in "US":
        if task == "regression":
            raise DataError(f"{label}: task='regression' needs numeric {target}; got {y.dtype}")
        try:
            labels = y.astype(str)
        except UnicodeDecodeError as exc:  # bytes labels (dtype S) are decoded as ASCII
            raise DataError(
                f"{label}: {target} holds bytes that are not ASCII text ({exc.reason}); store the "
                "labels as str"
            ) from exc
        if "classes" in arrays:  # the labels name stored classes: keep their order and all
            classes = _npz_names(arrays["classes"], label, "classes")
            code_of = {name: code for code, name in enumerate(classes)}
            texts = labels.tolist()
            unknown = [i for i, text in enumerate(texts) if text not in code_of]
            if unknown:
                raise DataError(
                    f"{label}: {target}[{unknown[0]}] = {texts[unknown[0]]!r} is none of the "
                    f"{len(classes)} stored classes"
                )
            y_out = np.array([code_of[text] for text in texts], dtype=np.int64)
        else:
            for i, text in enumerate(labels.tolist()):
                _check_class_label(text, f"{label}: {target}[{i}]")  # as load_csv checks them
            y_out, classes = encode_labels(labels)
        final_task = "classification"
    elif y.dtype.kind in "fiub":
        yf = y.astype(np.float64)
        if not np.all(np.isfinite(yf)):
            i = int(np.flatnonzero(~np.isfinite(yf))[0])
            raise DataError(f"{label}: {target}[{i}] is not finite ({yf[i]})")
        integral = bool(np.all(yf == np.round(yf)))
        if task == "auto":
            is_class = (
                "classes" in arrays  # the file names its classes
                or y.dtype.kind in "iub"
                or (integral and np.unique(yf).size <= MAX_AUTO_CLASSES)
            )
            final_task = "classification" if is_class else "regression"
        else:
            final_task = task
        if final_task == "regression":
            y_out, classes = yf, None
        elif "classes" in arrays:
            # y holds codes into the stored class names (a Dataset's y, saved with savez)
            classes = _npz_names(arrays["classes"], label, "classes")
            outside = ~((yf == np.round(yf)) & (yf >= 0) & (yf < len(classes)))
            if outside.any():
                i = int(np.flatnonzero(outside)[0])
                raise DataError(
                    f"{label}: {target}[{i}] = {y[i]!r} is no code into the {len(classes)} "
                    f"stored classes: with classes, {target} must hold integer codes in "
                    f"0..{len(classes) - 1}"
                )
            y_out = yf.astype(np.int64)
        else:  # integers as they are: float64 would merge labels beyond 2**53
            y_out, classes = encode_labels(y if y.dtype.kind in "iub" else yf)
    else:
        raise DataError(f"{label}: {target} must hold numbers or strings; got dtype {y.dtype}")

    return Dataset(
        X=X,
        y=y_out,
        feature_names=feature_names,
        target_name=target_name,
        classes=classes,
        task=final_task,
        name=name or Path(label).name,
    )


def _reshape_hint(shape: tuple[int, ...]) -> str:
    """How to store an X of ``shape``, not 2-D, as the ``(n_samples, n_features)`` matrix an
    NPZ file needs: one value per sample is one feature; an image (or any array) per sample is
    flattened into one row, as the MNIST loader flattens its 28x28 pixels. Nothing for 2-D."""
    if len(shape) == 1:
        return "; for one feature per sample, save X.reshape(-1, 1)"
    if len(shape) > 2:
        return (
            f"; to use each sample's {'x'.join(map(str, shape[1:]))} values as features, "
            "save X.reshape(len(X), -1)"
        )
    return ""


def _npz_names(array: np.ndarray, label: str, key: str) -> list[str]:
    """The names an NPZ file's array ``key`` holds (``feature_names``, ``classes``), checked
    unique: two columns or classes of one name would be told apart by position alone, and a
    model matches columns by name."""
    names = _npz_texts(array, label, key)
    first: dict[str, int] = {}
    for i, item in enumerate(names):
        if item in first:
            raise DataError(
                f"{label}: {key} has {item!r} twice (entries {first[item]} and {i}); "
                "names must be unique"
            )
        first[item] = i
    return names


def _what_it_is(start: bytes) -> str:
    """What a file that should be an NPZ archive is, from its first bytes."""
    if not start:
        return "it is empty"
    if text_of(start) is not None:
        return (
            "it holds text, not a zip archive of .npy arrays; a CSV file must be named .csv "
            "(or .tsv, .txt)"
        )
    return f"it is {what_it_is(start)}, not a zip archive of .npy arrays"


def _npz_texts(array: np.ndarray, label: str, key: str) -> list[str]:
    """The entries of an NPZ file's array ``key`` as text; bytes (dtype ``S``, as h5py and
    Python 2 era files store names) are decoded as UTF-8 rather than shown as ``"b'x1'"``."""
    values = array.reshape(-1)
    if values.dtype.kind != "S":
        return [str(v) for v in values]
    try:
        return [bytes(v).decode("utf-8") for v in values]
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{label}: {key} holds bytes that are not UTF-8 text ({exc.reason}); store the "
            "names as str"
        ) from exc


def _check_npz_member(archive: np.lib.npyio.NpzFile, key: str, label: str, max_bytes: int) -> None:
    """Read ``key``'s ``.npy`` header and refuse it if its data would exceed ``max_bytes``."""
    fmt = np.lib.format
    if archive.zip is None:  # pragma: no cover  (only after the archive is closed)
        raise DataError(f"{label}: the archive is closed")
    try:
        with archive.zip.open(f"{key}.npy") as member:
            version = fmt.read_magic(member)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(member)
            else:
                shape, _, dtype = fmt.read_array_header_2_0(member)
    except (KeyError, *_ZIP_ERRORS) as exc:
        raise DataError(f"{label}: array {key!r} has an unreadable header: {exc}") from exc
    if dtype.hasobject:
        raise DataError(
            f"{label}: array {key!r} holds Python objects, which are never unpickled; "
            "store numbers or fixed-width strings"
        )
    n_bytes = math.prod(shape) * dtype.itemsize
    if n_bytes > max_bytes:
        raise DataError(
            f"{label}: array {key!r} claims shape {shape} ({n_bytes} bytes), more than the "
            f"{max_bytes}-byte limit"
        )
