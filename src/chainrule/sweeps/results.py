"""The results file: one line per finished trial, appended and synced as each trial finishes.

JSON Lines (``.jsonl``) is the primary format: one :meth:`TrialResult.to_record` object per
line. ``.csv`` gives the same fields flattened into columns (lists as JSON text). Every append
is written, flushed and ``os.fsync``-ed before the next trial is looked at, so a crash or Ctrl-C
loses no finished trial. Reading back:

* a re-run skips every trial whose id is already in the file (the first record of an id wins);
* a torn last line (no newline: the process died while writing it) is ignored, and cut off
  before anything is appended, so the file is clean again (a JSON Lines record that lacks
  only its newline is complete and kept; a CSV line cannot show that it is, and is rerun);
* any other unreadable line, or one no trial writes (a hand edit: a score in quotes, a status
  misspelt), stops the sweep with :class:`ResultsFileError` naming the line; so does a record
  whose parameters are not those of its id's trial. The file is never rewritten.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import IO, Any

from chainrule._atomic import check_writable_folder
from chainrule.errors import ValidationError
from chainrule.sweeps.config import SPACE_KEYS
from chainrule.sweeps.errors import ResultsFileError
from chainrule.sweeps.trial import TrialResult

FORMATS = {".jsonl": "jsonl", ".csv": "csv"}

_TEXT = ("trial_id", "status", "dataset", "score_name", "activation", "optimizer", "error")
_INT = ("folds", "seed", "batch_size", "epochs")
_FLOAT = ("score_mean", "score_std", "loss_mean", "loss_std", "fit_time", "learning_rate", "l2")
_JSON = ("hidden_layers", "fold_scores", "fold_losses")
CSV_COLUMNS = (
    "trial_id",
    "status",
    "dataset",
    "folds",
    "seed",
    *SPACE_KEYS,
    "score_name",
    "score_mean",
    "score_std",
    "loss_mean",
    "loss_std",
    "fit_time",
    "fold_scores",
    "fold_losses",
    "error",
)


def results_format(path: Path) -> str:
    """``"jsonl"`` or ``"csv"`` from the file's extension."""
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValidationError(
            f"results file {str(path)!r} must end in .jsonl or .csv; got {path.suffix!r}"
        ) from None


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _csv_cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column in _JSON:
        return json.dumps(value)
    if column == "error":
        return " ".join(str(value).split())  # one physical line per record
    return str(value)  # floats as repr: they read back exactly


def _from_cell(column: str, text: str) -> Any:
    if column in _TEXT:
        return text if text or column != "error" else None
    if text == "":
        return None
    if column in _INT:
        return int(text)
    if column in _FLOAT:
        return float(text)
    return json.loads(text)


def format_line(result: TrialResult, fmt: str) -> str:
    """The result as one line of the file, newline included."""
    record = result.to_record()
    if fmt == "jsonl":
        return json.dumps(record, allow_nan=False) + "\n"
    flat = {**record, **record["params"]}
    return _csv_line([_csv_cell(column, flat[column]) for column in CSV_COLUMNS])


def parse_line(line: str, fmt: str) -> TrialResult:
    """The inverse of :func:`format_line`; raises ``ValueError``/``KeyError``/``TypeError``."""
    if fmt == "jsonl":
        record = json.loads(line)
        if not isinstance(record, dict):
            raise TypeError(f"expected a JSON object, got {type(record).__name__}")
        return TrialResult.from_record(record)
    cells = next(csv.reader([line]))
    if len(cells) != len(CSV_COLUMNS):
        raise ValueError(f"expected {len(CSV_COLUMNS)} columns, got {len(cells)}")
    flat = {
        column: _from_cell(column, cell) for column, cell in zip(CSV_COLUMNS, cells, strict=True)
    }
    flat["params"] = {key: flat.pop(key) for key in SPACE_KEYS}
    return TrialResult.from_record(flat)


class ResultsFile:
    """Read back, then append to, a sweep's results file.

    :meth:`read` only reads. :meth:`open` (called once the sweep is ready to run) cuts off a
    torn last line, writes the CSV header of a new file, and keeps the file open for
    :meth:`append`.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.format = results_format(self.path)
        self._keep_bytes: int | None = None  # where a torn last line starts
        self._needs_newline = False
        self._handle: IO[str] | None = None

    def check_writable(self) -> None:
        """Fail before any trial runs unless trials can be appended to this file.

        An existing file must open for appending (which changes nothing); for a new one the
        nearest existing folder on its path must take a file, as :meth:`open` creates the
        missing folders below it. Else the first finished trial, minutes into the sweep, would
        stop it with an ``OSError`` traceback.
        """
        what = f"results file {str(self.path)!r}"
        if self.path.exists():
            try:
                self.path.open("a", encoding="utf-8").close()
            except OSError as err:
                raise ValidationError(
                    f"{what} cannot be appended to: {err.strerror or err}"
                ) from None
            return
        folder = self.path.absolute().parent
        while not folder.exists():
            folder = folder.parent
        check_writable_folder(folder, what)

    def read(self) -> dict[str, TrialResult]:
        """The finished trials in the file, by id (an absent file holds none)."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as err:
            raise ResultsFileError(f"cannot read results file {str(self.path)!r}: {err}") from None
        lines = raw.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a newline
        results: dict[str, TrialResult] = {}
        for number, line in enumerate(lines, start=1):
            if number == 1 and self.format == "csv":
                if line.decode("utf-8", "replace").strip() != ",".join(CSV_COLUMNS):
                    raise ResultsFileError(
                        f"results file {str(self.path)!r} line 1 is not the sweep's CSV "
                        f"header ({','.join(CSV_COLUMNS)}); use another --results file"
                    )
                continue
            if not line.strip():
                continue
            result = self._parse(line, number)
            results.setdefault(result.trial_id, result)
        if tail.strip():
            last = self._complete_tail(tail)
            if last is None:
                self._keep_bytes = len(raw) - len(tail)  # torn by a crash: cut off on open
            else:  # a complete record that only lacks its newline
                results.setdefault(last.trial_id, last)
                self._needs_newline = True
        return results

    def _complete_tail(self, tail: bytes) -> TrialResult | None:
        """The record of a last line without its newline if it is surely complete, else None.

        A JSON object is complete only with its closing brace. A CSV line torn inside its last
        field, the error message, still has every column (``...,fold 1: lay`` of ``...,fold 1:
        layers too wide``) and would be kept, cut short, as a failed trial never rerun: a CSV
        line without its newline counts as torn, and its trial runs again.
        """
        if self.format == "csv":
            return None
        try:
            return parse_line(tail.decode("utf-8"), self.format)
        except (ValueError, KeyError, TypeError, StopIteration):
            return None

    def _parse(self, line: bytes, number: int) -> TrialResult:
        try:
            return parse_line(line.decode("utf-8"), self.format)
        except (ValueError, KeyError, TypeError, StopIteration) as err:
            raise ResultsFileError(
                f"results file {str(self.path)!r} line {number} is not a trial record "
                f"({type(err).__name__}: {err}); fix or remove that line, or use another file"
            ) from None

    def open(self) -> None:
        """Repair a torn last line, write a new CSV file's header, open for appending."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._keep_bytes is not None:
            os.truncate(self.path, self._keep_bytes)
        handle = self.path.open("a", encoding="utf-8", newline="")
        self._handle = handle
        if self._needs_newline:
            self._write("\n")
        if self.format == "csv" and handle.tell() == 0:
            self._write(_csv_line(list(CSV_COLUMNS)))

    def _write(self, text: str) -> None:
        assert self._handle is not None, "open() the results file first"
        self._handle.write(text)
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def append(self, result: TrialResult) -> None:
        """Write one finished trial and force it to disk."""
        self._write(format_line(result, self.format))

    def close(self) -> None:
        """Close the file (appends are already on disk)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
