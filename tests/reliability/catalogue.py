"""The catalogue of malformed inputs: one table, run through every entry point it applies to.

Each :class:`Case` is one malformed (or merely awkward) input. Its ``kind`` says what it is and
therefore which entry points take it (:data:`ENTRY_POINTS`); ``make`` builds it (files go in the
folder it is given); ``error`` and ``match`` are the expected exception type and a regex its
message must match, ``error=None`` meaning the input is legitimate and must *work*.

Where an entry point's documented contract differs, ``overrides`` holds the outcome there,
keyed by an entry-point prefix (e.g. ``"estimators."``: scikit-learn's estimators accept any
hashable class label and their own array validation raises ``ValueError``, which chainrule's
``ValidationError`` also is). The playground (``web.session.*``: what a page sends, through
``parse_message`` and a session) reports every error to the page as a ``ProtocolError``, which
the tests expect there in place of ``DataError``/``ModelFileError``. ``skips`` records, with the
reason, an entry point a case does not go through, so nothing is left out silently;
``xfails`` names known, reported bugs (strict: the test fails once they are fixed).

``test_bad_input.py`` runs every (case, entry point) pair and writes the counts per entry point.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.errors import (
    ChainruleError,
    DataError,
    DivergenceError,
    ModelFileError,
    ValidationError,
)

Outcome = tuple[type[ChainruleError] | None, str]

ENTRY_POINTS: dict[str, tuple[str, ...]] = {
    # features for a network with ``n_inputs`` inputs (the targets are made valid)
    "X": (
        "engine.Network.forward",
        "engine.Network.predict",
        "engine.Network.loss_and_gradients",
        "engine.Trainer",
        "engine.train",
        "estimators.MLPClassifier.fit",
        "estimators.MLPClassifier.predict",
        "estimators.MLPRegressor.fit",
        "estimators.MLPRegressor.predict",
    ),
    # class targets for four valid XOR inputs and a 2-output softmax network
    "y": (
        "engine.Network.loss_and_gradients",
        "engine.Trainer",
        "engine.train",
        "estimators.MLPClassifier.fit",
    ),
    # hyper-parameters {learning_rate, batch_size, epochs, hidden} on XOR data
    "hyper": ("engine.train", "fit.fit", "estimators.MLPClassifier.fit", "cli.train"),
    # a data file given to the loader, to the training toolkit and to `chainrule train`
    "csv": ("datasets.load_csv", "fit.fit", "cli.train", "web.session.upload_csv"),
    "npz": ("datasets.load_npz", "fit.fit", "cli.train"),
    # a model file given to the loader, to `chainrule predict` / `evaluate` / `export`, and
    # uploaded to the playground
    "model": (
        "serialization.load_model",
        "cli.predict",
        "cli.evaluate",
        "cli.export",
        "web.session.import_model",
    ),
    # an NPZ of weight matrices given to `chainrule explain --weights` (and gradcheck)
    "weights": ("cli.explain",),
    # labelled data given to a model trained on 2 features, classes 'a' and 'b'
    "eval_csv": ("fit.read_for_model", "cli.evaluate", "cli.predict"),
    # one websocket message from the playground page
    "message": ("web.protocol.parse_message",),
}
"""Which entry points each kind of input goes through."""

WORKS: Outcome = (None, "")


@dataclass(frozen=True)
class Case:
    """One row of the catalogue (see the module docstring)."""

    id: str
    description: str
    kind: str
    make: Callable[[Path], Any]
    error: type[ChainruleError] | None
    match: str = ""
    overrides: Mapping[str, Outcome] = field(default_factory=dict)
    skips: Mapping[str, str] = field(default_factory=dict)
    xfails: Mapping[str, str] = field(default_factory=dict)
    n_inputs: int = 2
    max_seconds: float = 20.0
    cli_always: bool = False  # in the default run's CLI sample whatever the other rows

    def outcome(self, entry_point: str) -> Outcome:
        """The expected ``(error, match)`` at ``entry_point`` (the longest override wins)."""
        best = ""
        for prefix in self.overrides:
            if entry_point.startswith(prefix) and len(prefix) > len(best):
                best = prefix
        return self.overrides[best] if best else (self.error, self.match)

    def note(self, entry_point: str, table: Mapping[str, str]) -> str | None:
        for prefix, reason in table.items():
            if entry_point.startswith(prefix):
                return reason
        return None


# -- input makers ------------------------------------------------------------------------------

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 3)
XOR_Y = np.array([0, 1, 1, 0] * 3)


def xor_csv_text(labels: tuple[str, str] = ("a", "b"), rows: int = 12) -> str:
    """A small, valid CSV: two features, class labels."""
    lines = ["x1,x2,y"]
    for i in range(rows):
        x1, x2 = XOR_X[i % 4]
        lines.append(f"{x1:g},{x2:g},{labels[int(XOR_Y[i % 4])]}")
    return "\n".join(lines) + "\n"


def _array(values: Any) -> Callable[[Path], Any]:
    return lambda folder: np.array(values) if not callable(values) else values()


def _file(name: str, data: bytes | str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    return make


def _npz(name: str, **arrays: Any) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        np.savez(path, **{k: (v() if callable(v) else v) for k, v in arrays.items()})
        return path

    return make


def _with_x(value: float) -> np.ndarray:
    X = XOR_X.copy()
    X[1, 0] = value
    return X


def _noncontiguous() -> np.ndarray:
    wide = np.zeros((len(XOR_X), 4))
    wide[:, ::2] = XOR_X + 0.25
    view = wide[:, ::2]
    assert not view.flags.c_contiguous
    return view


def _readonly(values: np.ndarray) -> np.ndarray:
    array = np.array(values)
    array.setflags(write=False)
    return array


def _fortran() -> np.ndarray:
    return np.asfortranarray(XOR_X * 0.5 + 0.1)


def _wide_csv(folder: Path) -> Path:
    """One million columns, two rows: must be refused in bounded time."""
    path = folder / "wide.csv"
    row = ",".join(["1"] * 1_000_000)
    path.write_text(row + "\n" + row + "\n")
    return path


def _long_line(folder: Path) -> Path:
    path = folder / "no-newline.csv"
    path.write_text("1," * (9 * 1024 * 1024))  # 18 MB and no newline
    return path


def _npz_claiming_1e12(folder: Path) -> Path:
    """An NPZ whose X header says (10^6, 10^6) float64 (8 TB) over a few bytes of data."""
    path = folder / "huge.npz"
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(64)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", npy)
        buffer = Path(folder / "y.npy")
        np.save(buffer, np.zeros(2))
        archive.write(buffer, "y.npy")
    return path


def _damaged_zip(folder: Path) -> Path:
    """A weights NPZ whose zip directory claims format version 6.4 (zipfile cannot read it)."""
    path = folder / "damaged.npz"
    np.savez(path, W1=np.zeros((2, 3)), activations=np.array(["softmax"]))
    data = bytearray(path.read_bytes())
    data[data.find(b"PK\x01\x02") + 6] = 64
    path.write_bytes(bytes(data))
    return path


def _object_npz(folder: Path) -> Path:
    path = folder / "objects.npz"
    np.savez(path, X=np.array([[1, 2], [3, 4]], dtype=object), y=np.array([0, 1]))
    return path


def _valid_model_bytes() -> bytes:
    from tempfile import TemporaryDirectory

    from chainrule.engine.network import Network
    from chainrule.serialization import save_model

    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0)
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.safetensors"
        save_model(path, weights=net.weights, activations=net.activations, loss="cross_entropy")
        return path.read_bytes()


def _safetensors(header: dict[str, Any], data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


def _model(name: str, build: Callable[[], bytes]) -> Callable[[Path], Path]:
    return _file(name, build())


def _truncated_model() -> bytes:
    data = _valid_model_bytes()
    return data[: len(data) // 2]


def _nan_weight_model() -> bytes:
    """A model file whose W1 holds NaN, with checksums recomputed so only the NaN is wrong."""
    import hashlib

    data = _valid_model_bytes()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    body = bytearray(data[8 + n :])
    start, _ = header["W1"]["data_offsets"]
    body[start : start + 4] = np.array([np.nan], dtype="<f4").tobytes()
    document = json.loads(header["__metadata__"]["chainrule"])
    weights = [k for k in sorted(header) if k.startswith("W")]
    digest = hashlib.sha256()
    for name in sorted(weights, key=lambda k: int(k[1:])):
        a, b = header[name]["data_offsets"]
        digest.update(bytes(body[a:b]))
    document["sha256"] = digest.hexdigest()
    header["__metadata__"]["chainrule"] = json.dumps(document)
    return _safetensors(header, bytes(body))


def _message(value: Any) -> Callable[[Path], str]:
    return lambda folder: value if isinstance(value, str | bytes) else json.dumps(value)


def _settings(**changes: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "dataset": "xor",
        "n_points": 100,
        "noise": 0.1,
        "n_classes": 2,
        "train_ratio": 0.8,
        "hidden": [{"units": 4, "activation": "tanh"}],
        "output": "softmax",
        "optimizer": "sgd",
        "learning_rate": 0.1,
        "batch_size": 10,
        "l2": 0.0,
        "seed": 0,
        "speed": 1,
    }
    settings.update(changes)
    return {"type": "config", "settings": settings}


def _hyper(**values: Any) -> Callable[[Path], dict[str, Any]]:
    return lambda folder: dict(values)


# -- shared regexes ---------------------------------------------------------------------------

NON_FINITE = r"(?i)non-finite|not finite|\bNaN\b|infinity"
ESTIMATORS_ACCEPT = {"estimators.": WORKS}
"""scikit-learn's contract: class labels are any hashable values, kept as they are."""

# -- the table --------------------------------------------------------------------------------

CASES: tuple[Case, ...] = (
    # features -------------------------------------------------------------------------------
    Case("x-nan", "NaN in X", "X", _array(lambda: _with_x(np.nan)), ValidationError, NON_FINITE),
    Case(
        "x-posinf", "+inf in X", "X", _array(lambda: _with_x(np.inf)), ValidationError, NON_FINITE
    ),
    Case(
        "x-neginf", "-inf in X", "X", _array(lambda: _with_x(-np.inf)), ValidationError, NON_FINITE
    ),
    Case(
        "x-1e308",
        "1e308 in X: finite in float64, infinite in the network's float32",
        "X",
        _array(lambda: _with_x(1e308)),
        ValidationError,
        NON_FINITE + r"|float32",
    ),
    Case(
        "x-empty",
        "X with 0 rows",
        "X",
        _array(lambda: np.empty((0, 2))),
        ValidationError,
        r"(?i)no rows|0 sample",
    ),
    Case("x-one-sample", "a single row", "X", _array(XOR_X[:1].copy), None),
    Case(
        "x-one-feature",
        "one feature (a 1-input network)",
        "X",
        _array(XOR_X[:, :1].copy),
        None,
        n_inputs=1,
    ),
    Case(
        "x-feature-mismatch",
        "3 features for a 2-input model",
        "X",
        _array(lambda: np.ones((4, 3))),
        ValidationError,
        r"3 features.*(expects|expecting) 2",
        overrides={"estimators.MLPClassifier.fit": WORKS, "estimators.MLPRegressor.fit": WORKS},
    ),
    Case(
        "x-3d",
        "a 3-D array",
        "X",
        _array(lambda: np.zeros((4, 2, 2))),
        ValidationError,
        r"(?i)2-D|dim 3|2D",
    ),
    Case(
        "x-scalar",
        "a bare number",
        "X",
        _array(lambda: np.float64(3.0)),
        ValidationError,
        r"(?i)2-D|2D array|scalar",
    ),
    Case(
        "x-ragged",
        "a ragged nested list",
        "X",
        lambda folder: [[0.0, 1.0], [1.0]] * 2,
        ValidationError,
        r"(?i)rectangular|inhomogeneous",
    ),
    Case(
        "x-strings",
        "a non-numeric string in a numeric column",
        "X",
        _array(lambda: np.array([["0.5", "abc"], ["1", "2"]] * 2)),
        ValidationError,
        r"(?i)real numbers; got .*str|could not convert string to float: .*abc",
    ),
    Case("x-bool", "a bool array (read as 0/1)", "X", _array(lambda: XOR_X.astype(bool)), None),
    Case(
        "x-object",
        "an object array of Python numbers",
        "X",
        _array(lambda: XOR_X.astype(object)),
        ValidationError,
        r"real numbers; got .*object",
        overrides={"estimators.": WORKS},  # scikit-learn converts numeric object arrays
    ),
    Case(
        "x-complex",
        "a complex array",
        "X",
        _array(lambda: XOR_X.astype(complex)),
        ValidationError,
        r"(?i)real numbers; got .*complex|complex data not supported",
    ),
    Case("x-noncontiguous", "a strided (non-contiguous) view", "X", _array(_noncontiguous), None),
    Case("x-readonly", "a read-only array", "X", _array(lambda: _readonly(XOR_X)), None),
    Case("x-fortran", "a Fortran-ordered array", "X", _array(_fortran), None),
    Case(
        "x-int64-extreme",
        "int64 features near 2**63 (finite as floats)",
        "X",
        _array(lambda: np.array([[2**63 - 1, 0], [0, -(2**63)]] * 2)),
        None,
        skips={
            "engine.Trainer": "training on 9e18-sized inputs is the divergence test's job",
            "engine.train": "idem",
            "engine.Network.loss_and_gradients": "idem",
            "estimators.MLPClassifier.fit": "idem",
            "estimators.MLPRegressor.fit": "idem",
        },
    ),
    # targets --------------------------------------------------------------------------------
    Case(
        "y-nan",
        "NaN among the class targets",
        "y",
        _array([0, np.nan, 1, 0] * 3),
        ValidationError,
        r"(?i)integer class indices|contains NaN|= nan is not a class index",
    ),
    Case(
        "y-int64-max",
        "label 2**63 - 1",
        "y",
        _array([0, 2**63 - 1, 1, 0] * 3),
        ValidationError,
        r"9223372036854775807 is not a class index",
        overrides=ESTIMATORS_ACCEPT,
    ),
    Case(
        "y-uint64-max",
        "label 2**64 - 1 (uint64)",
        "y",
        _array(lambda: np.array([0, 2**64 - 1, 1, 0] * 3, dtype=np.uint64)),
        ValidationError,
        r"18446744073709551615 is not a class index",
        overrides=ESTIMATORS_ACCEPT,
    ),
    Case(
        "y-1e308",
        "class target 1e308 (beyond int64)",
        "y",
        _array([0, 1e308, 1, 0] * 3),
        ValidationError,
        r"1e\+308 is not a class index",
        skips={
            "estimators.": "scikit-learn's type_of_target casts 1e308 to int inside "
            "scikit-learn (FloatingPointError under the suite's np.seterr): not chainrule's"
        },
    ),
    Case(
        "y-unseen",
        "class 5 for a 2-output network",
        "y",
        _array([0, 5, 1, 0] * 3),
        ValidationError,
        r"y\[1\] = 5 is not a class index in 0\.\.1",
        overrides=ESTIMATORS_ACCEPT,
    ),
    Case(
        "y-negative",
        "class -1",
        "y",
        _array([0, -1, 1, 0] * 3),
        ValidationError,
        r"y\[1\] = -1 is not a class index",
        overrides=ESTIMATORS_ACCEPT,
    ),
    Case("y-one-class", "every target the same class", "y", _array([0] * 12), None),
    Case(
        "y-strings",
        "text labels",
        "y",
        _array(["a", "b", "b", "a"] * 3),
        ValidationError,
        r"integer class indices.*got values of dtype str",
        overrides=ESTIMATORS_ACCEPT,
    ),
    Case(
        "y-short",
        "fewer targets than rows",
        "y",
        _array([0, 1]),
        ValidationError,
        r"(?i)y has 2 rows; X has 12|inconsistent numbers of samples",
    ),
    Case("y-bool", "bool targets", "y", _array(lambda: XOR_Y.astype(bool)), None),
    Case(
        "y-readonly-strided",
        "a read-only strided view of the targets",
        "y",
        _array(lambda: _readonly(np.repeat(XOR_Y, 2))[::2]),
        None,
    ),
    # hyper-parameters -----------------------------------------------------------------------
    Case(
        "lr-zero",
        "learning rate 0",
        "hyper",
        _hyper(learning_rate=0.0),
        ValidationError,
        r"(learning_rate(_init)?|--learning-rate) must be .*(> 0|\(0)",
    ),
    Case(
        "lr-negative",
        "learning rate -0.1",
        "hyper",
        _hyper(learning_rate=-0.1),
        ValidationError,
        r"(learning_rate(_init)?|--learning-rate) must be .*(> 0|\(0)",
    ),
    Case(
        "lr-nan",
        "learning rate NaN",
        "hyper",
        _hyper(learning_rate=float("nan")),
        ValidationError,
        r"(learning_rate(_init)?|--learning-rate) must be .*got nan",
    ),
    Case(
        "lr-inf",
        "learning rate inf",
        "hyper",
        _hyper(learning_rate=float("inf")),
        ValidationError,
        r"(learning_rate(_init)?|--learning-rate) must be .*got inf",
    ),
    Case(
        "lr-huge",
        "learning rate 1e308: training diverges",
        "hyper",
        _hyper(learning_rate=1e308),
        DivergenceError,
        r"diverged.*Lower (the learning rate|learning_rate_init)",
    ),
    Case(
        "batch-larger-than-data",
        "batch size 10**6 for 12 rows (clipped)",
        "hyper",
        _hyper(batch_size=10**6),
        None,
    ),
    Case(
        "batch-zero",
        "batch size 0",
        "hyper",
        _hyper(batch_size=0),
        ValidationError,
        r"(batch_size|--batch-size) must be .*got 0|batch_size must be an integer >= 1",
    ),
    Case(
        "batch-negative",
        "batch size -5",
        "hyper",
        _hyper(batch_size=-5),
        ValidationError,
        r"(batch_size|--batch-size) must be",
    ),
    Case(
        "epochs-zero",
        "0 epochs",
        "hyper",
        _hyper(epochs=0),
        ValidationError,
        r"(epochs|max_iter) must be an integer >= 1",
    ),
    Case(
        "epochs-negative",
        "-1 epochs",
        "hyper",
        _hyper(epochs=-1),
        ValidationError,
        r"(epochs|max_iter) must be an integer >= 1",
    ),
    Case(
        "hidden-zero-width",
        "a hidden layer of width 0",
        "hyper",
        _hyper(hidden=(0,)),
        ValidationError,
        r"(?i)(hidden|sizes).*(>= 1|must be)",
    ),
    Case(
        "layers-10000",
        "10,000 hidden layers of width 2: handled quickly, bounded memory",
        "hyper",
        _hyper(hidden=(2,) * 10_000, epochs=1),
        None,
        max_seconds=60.0,
    ),
    Case(
        "hidden-width-1e12",
        "a hidden layer of 10^12 units: refused at once, no traceback",
        "hyper",
        _hyper(hidden=(10**12,)),
        ValidationError,
        r"W\^\(1\) would hold 3,000,000,000,000 weights .*more than this machine can allocate",
        cli_always=True,
    ),
    # CSV files ------------------------------------------------------------------------------
    Case("csv-empty", "an empty file", "csv", _file("empty.csv", ""), DataError, r"is empty"),
    Case(
        "csv-blank",
        "only blank lines",
        "csv",
        _file("blank.csv", "\n  \n\n"),
        DataError,
        r"is empty",
    ),
    Case(
        "csv-header-only",
        "a header and no rows",
        "csv",
        _file("head.csv", "x1,x2,y\n"),
        DataError,
        r"header \(line 1\) but no data rows",
    ),
    Case(
        "csv-bom",
        "a UTF-8 byte-order mark",
        "csv",
        _file("bom.csv", b"\xef\xbb\xbf" + xor_csv_text().encode()),
        None,
    ),
    Case(
        "csv-mixed-delimiters",
        "commas, then semicolons",
        "csv",
        _file("mixed.csv", xor_csv_text().replace("1,0,b", "1;0;b")),
        DataError,
        r"line \d+ has 1 field, expected 3",
    ),
    Case(
        "csv-truncated-line",
        "the last line cut off mid-row",
        "csv",
        _file("cut.csv", xor_csv_text() + "1,"),
        DataError,
        r"line 14 has 2 fields, expected 3",
    ),
    Case(
        "csv-truncated-quote",
        "an unterminated quote at the end",
        "csv",
        _file("quote.csv", xor_csv_text() + '1,"0'),
        DataError,
        r"malformed CSV",
    ),
    Case(
        "csv-nan",
        "nan in a feature",
        "csv",
        _file("nan.csv", xor_csv_text().replace("1,1,a", "1,nan,a", 1)),
        DataError,
        r"column 'x2': value is not finite \(nan\)",
    ),
    Case(
        "csv-inf",
        "-inf in a feature",
        "csv",
        _file("inf.csv", xor_csv_text().replace("1,1,a", "-inf,1,a", 1)),
        DataError,
        r"column 'x1': value is not finite \(-inf\)",
    ),
    Case(
        "csv-1e309",
        "1e309 (overflows to inf)",
        "csv",
        _file("big.csv", xor_csv_text().replace("1,1,a", "1e309,1,a", 1)),
        DataError,
        r"value is not finite \(1e309\)",
    ),
    Case(
        "csv-string",
        "text in a numeric column",
        "csv",
        _file("text.csv", xor_csv_text().replace("1,1,a", "1,abc,a", 1)),
        DataError,
        r"line 5, column 'x2': expected a number, got 'abc'",
    ),
    Case(
        "csv-bool-words",
        "True/False in a numeric column",
        "csv",
        _file("bool.csv", xor_csv_text().replace("1,1,a", "True,1,a", 1)),
        DataError,
        r"column 'x1': expected a number, got 'True'",
    ),
    Case(
        "csv-one-row",
        "a single data row",
        "csv",
        _file("one.csv", "x1,x2,y\n0,1,a\n"),
        DataError,
        r"1 row; training needs at least 2",
        overrides={
            "datasets.": WORKS,
            "web.": (ValidationError, r"has 1 data row; the playground takes 4"),
        },
    ),
    Case(
        "csv-one-class",
        "every row the same class",
        "csv",
        _file("oneclass.csv", xor_csv_text(("a", "a"))),
        DataError,
        r"only one class \('a'\)",
        overrides={
            "datasets.": WORKS,
            "web.": (ValidationError, r"holds only 1 class \(.a.\); the playground needs 2"),
        },
    ),
    Case(
        "csv-one-feature",
        "one feature column",
        "csv",
        _file("onefeat.csv", "x,y\n" + "".join(f"{i % 4},{'ab'[i % 2]}\n" for i in range(12))),
        None,
        overrides={"web.": (ValidationError, r"1 feature columns; the playground needs exactly 2")},
    ),
    Case(
        "csv-one-column",
        "a target and no features",
        "csv",
        _file("onecol.csv", "y\na\nb\n"),
        DataError,
        r"1 field .*at least 2 columns",
    ),
    Case(
        "csv-huge-int-labels",
        "labels 2**63-1, 2**63-2 (stay distinct)",
        "csv",
        _file(
            "bigint.csv",
            "x1,x2,y\n" + "".join(f"{i % 2},{i % 3},{2**63 - 1 - i % 2}\n" for i in range(12)),
        ),
        None,
    ),
    Case(
        "csv-not-utf8",
        "Latin-1 bytes",
        "csv",
        _file("latin1.csv", b"x1,x2,y\n1,2,caf\xe9\n"),
        DataError,
        r"is not UTF-8",
        skips={"web.": "a page sends text: the browser has decoded the file before the upload"},
    ),
    Case(
        "csv-nul-byte",
        "a NUL byte in a number",
        "csv",
        _file("nul.csv", xor_csv_text().replace("1,1,a", "1,1\x00,a", 1)),
        DataError,
        r"expected a number, got '1\\x00'",
    ),
    Case(
        "csv-1M-columns",
        "one million columns (bounded time)",
        "csv",
        _wide_csv,
        DataError,
        r"1000000 fields; at most \d+ columns",
        overrides={"web.": (ValidationError, r"message too large|upload_csv\.text is too long")},
        max_seconds=30.0,
    ),
    Case(
        "csv-no-newline",
        "18 MB without a newline",
        "csv",
        _long_line,
        DataError,
        r"longer than \d+ characters",
        overrides={"web.": (ValidationError, r"message too large|upload_csv\.text is too long")},
    ),
    Case(
        "csv-missing",
        "no such file",
        "csv",
        lambda folder: folder / "missing.csv",
        DataError,
        r"(?i)no such file",
        skips={"web.": "a page uploads the file's content: there is no path to miss"},
    ),
    # NPZ files ------------------------------------------------------------------------------
    Case("npz-no-y", "no array y", "npz", _npz("noy.npz", X=XOR_X), DataError, r"no array 'y'"),
    Case(
        "npz-3d",
        "a 3-D X",
        "npz",
        _npz("3d.npz", X=np.zeros((4, 2, 2)), y=np.zeros(4)),
        DataError,
        r"X must be a 2-D numeric array; got shape \(4, 2, 2\)",
    ),
    Case(
        "npz-nan",
        "NaN in X",
        "npz",
        _npz("nan.npz", X=lambda: _with_x(np.nan), y=XOR_Y),
        DataError,
        r"X\[1, 0\] is not finite",
    ),
    Case(
        "npz-objects",
        "a pickled object array (never unpickled)",
        "npz",
        _object_npz,
        DataError,
        r"Python objects, which are never unpickled",
    ),
    Case(
        "npz-strings",
        "a string X",
        "npz",
        _npz("str.npz", X=np.array([["a", "b"]] * 4), y=np.arange(4) % 2),
        DataError,
        r"X must be a 2-D numeric array.*<U1",
    ),
    Case(
        "npz-complex",
        "a complex X",
        "npz",
        _npz("cx.npz", X=XOR_X.astype(complex), y=XOR_Y),
        DataError,
        r"X must be a 2-D numeric array.*complex",
    ),
    Case(
        "npz-empty",
        "X with 0 rows",
        "npz",
        _npz("empty.npz", X=np.zeros((0, 2)), y=np.zeros(0)),
        DataError,
        r"has 0 row; training needs at least 2",
        overrides={"datasets.": WORKS},
    ),
    Case(
        "npz-mismatch",
        "12 rows of X, 3 targets",
        "npz",
        _npz("mismatch.npz", X=XOR_X, y=np.zeros(3)),
        DataError,
        r"y must have shape \(12,\) to match X; got \(3,\)",
    ),
    Case(
        "npz-not-zip",
        "garbage with an .npz name",
        "npz",
        _file("garbage.npz", b"PK\x03\x04garbage"),
        DataError,
        r"not a readable \.npz",
    ),
    Case(
        "npz-claims-1e12",
        "X's header claims 10^12 float64 values",
        "npz",
        _npz_claiming_1e12,
        DataError,
        r"(?i)bytes|too large|limit",
    ),
    Case(
        "npz-huge-int-labels",
        "int64 labels 2**63-1, 2**63-2 (stay distinct)",
        "npz",
        _npz("bigy.npz", X=XOR_X, y=lambda: 2**63 - 1 - (np.arange(12, dtype=np.int64) % 2)),
        None,
    ),
    Case(
        "npz-bytes-labels",
        "y as bytes that are not ASCII (found by the fuzzer)",
        "npz",
        _npz("bytes.npz", X=XOR_X, y=lambda: np.array([b"\x80", b"ok"] * 6, dtype="S2")),
        DataError,
        r"y holds bytes that are not ASCII text",
    ),
    # model files ----------------------------------------------------------------------------
    Case(
        "model-empty",
        "a 0-byte model file",
        "model",
        _file("empty.safetensors", b""),
        ModelFileError,
        r"0 bytes, too short",
    ),
    Case(
        "model-garbage",
        "text instead of a model",
        "model",
        _file("garbage.safetensors", b"hello, world"),
        ModelFileError,
        r"text file .*not a safetensors file",
    ),
    Case(
        "model-header-claims-1e12",
        "an 8-byte length of 10^12",
        "model",
        _file("big.safetensors", (10**12).to_bytes(8, "little") + b"{}"),
        ModelFileError,
        r"header claims 1000000000000 bytes, more than",
    ),
    Case(
        "model-tensor-1e12",
        "a tensor claiming 10^12 elements",
        "model",
        _model(
            "t.safetensors",
            lambda: _safetensors(
                {"W1": {"dtype": "F32", "shape": [10**6, 10**6], "data_offsets": [0, 4 * 10**12]}},
                bytes(16),
            ),
        ),
        ModelFileError,
        r"past the end|too large|more than",
    ),
    Case(
        "model-truncated",
        "a valid model cut in half",
        "model",
        _model("cut.safetensors", _truncated_model),
        ModelFileError,
        r"(?i)truncated|past the end|short|end of the data",
    ),
    Case(
        "model-nan-weights",
        "NaN weights with a matching checksum",
        "model",
        _model("nan.safetensors", _nan_weight_model),
        ModelFileError,
        r"(?i)non-finite|NaN",
    ),
    Case(
        "model-missing",
        "no such file",
        "model",
        lambda folder: folder / "none.safetensors",
        ModelFileError,
        r"(?i)no such file",
        skips={"web.": "a page uploads the file's content: there is no path to miss"},
    ),
    Case(
        "model-is-csv",
        "a CSV given as the model",
        "model",
        _file("model.csv", xor_csv_text()),
        ModelFileError,
        r"text file \(a CSV\?\).*not a safetensors file",
    ),
    # weight files -----------------------------------------------------------------------------
    Case(
        "weights-garbage",
        "text with an .npz name",
        "weights",
        _file("garbage.npz", "W1 = [[1, 2, 3]]"),
        ModelFileError,
        r"is not a readable \.npz",
    ),
    Case(
        "weights-damaged-zip",
        "a zip directory claiming format version 6.4",
        "weights",
        _damaged_zip,
        ModelFileError,
        r"is not a readable \.npz: zip file version 6\.4",
        cli_always=True,
    ),
    Case(
        "weights-no-W1",
        "matrices numbered from 2",
        "weights",
        _npz("w2.npz", W2=np.zeros((2, 3)), activations=np.array(["softmax"])),
        ModelFileError,
        r"must hold arrays W1\.\.WL numbered from 1",
    ),
    Case(
        "weights-nan",
        "a NaN weight",
        "weights",
        _npz(
            "wnan.npz", W1=np.array([[np.nan, 0, 0], [0, 0, 0]]), activations=np.array(["softmax"])
        ),
        ModelFileError,
        r"W\^\(1\) has non-finite values",
    ),
    Case(
        "weights-pickled",
        "W1 as a pickled object array (never unpickled)",
        "weights",
        _npz("wobj.npz", W1=np.array([[1, 2, 3]], dtype=object), activations=np.array(["softmax"])),
        ModelFileError,
        r"(?i)allow_pickle|not a readable",
    ),
    # data for a trained model ---------------------------------------------------------------
    Case(
        "eval-unseen-label",
        "class 'c', never seen in training",
        "eval_csv",
        _file("unseen.csv", xor_csv_text(("a", "c"))),
        DataError,
        r"class 'c', which the model never saw",
        overrides={"cli.predict": WORKS},  # prediction reads the features only
    ),
    Case(
        "eval-feature-mismatch",
        "4 columns for a 2-feature model",
        "eval_csv",
        _file("wide4.csv", "a,b,c,y\n1,2,3,a\n4,5,6,b\n"),
        DataError,
        r"has 4 columns but the model expects",
    ),
    Case(
        "eval-nan",
        "NaN in a feature",
        "eval_csv",
        _file("evnan.csv", xor_csv_text().replace("1,1,a", "nan,1,a", 1)),
        DataError,
        r"value is not finite",
    ),
    Case(
        "eval-empty", "an empty file", "eval_csv", _file("evempty.csv", ""), DataError, r"is empty"
    ),
    # playground messages --------------------------------------------------------------------
    Case(
        "msg-nan",
        "NaN literal",
        "message",
        _message('{"type": "add_point", "x": [NaN, 0], "label": 0}'),
        ValidationError,
        r"NaN is not a number JSON allows",
    ),
    Case(
        "msg-1e308",
        "coordinate 1e308",
        "message",
        _message({"type": "add_point", "x": [1e308, 0], "label": 0}),
        ValidationError,
        r"add_point\.x\[0\] must be between",
    ),
    Case(
        "msg-uint64-label",
        "label 2**64 - 1",
        "message",
        _message({"type": "add_point", "x": [0, 0], "label": 2**64 - 1}),
        ValidationError,
        r"add_point\.label must be between 0 and",
    ),
    Case(
        "msg-bool-label",
        "label true",
        "message",
        _message({"type": "add_point", "x": [0, 0], "label": True}),
        ValidationError,
        r"label must be an integer; got true",
    ),
    Case(
        "msg-deep-nesting",
        "100,000 nested arrays",
        "message",
        _message("[" * 100_000),
        ValidationError,
        r"not valid JSON",
    ),
    Case(
        "msg-oversized",
        "a 2 MB message",
        "message",
        _message(json.dumps({"type": "play", "pad": "x" * 2_000_000})),
        ValidationError,
        r"message too large",
    ),
    Case(
        "msg-binary", "a binary frame", "message", _message(b"{}"), ValidationError, r"not binary"
    ),
    Case(
        "msg-empty", "an empty message", "message", _message(""), ValidationError, r"not valid JSON"
    ),
    Case(
        "msg-unknown-type",
        "an unknown type",
        "message",
        _message({"type": "rm -rf"}),
        ValidationError,
        r"unknown message type",
    ),
    Case(
        "msg-lr-zero",
        "config with learning rate 0",
        "message",
        _message(_settings(learning_rate=0)),
        ValidationError,
        r"settings\.learning_rate must be between",
    ),
    Case(
        "msg-batch-huge",
        "config with batch size 10**9",
        "message",
        _message(_settings(batch_size=10**9)),
        ValidationError,
        r"settings\.batch_size must be between",
    ),
    Case(
        "msg-10000-layers",
        "config with 10,000 hidden layers",
        "message",
        _message(_settings(hidden=[{"units": 2, "activation": "tanh"}] * 10_000)),
        ValidationError,
        r"settings\.hidden must hold 0 to \d+ hidden layers",
    ),
)
"""Every malformed input, once."""

ids = [case.id for case in CASES]
assert len(ids) == len(set(ids)), "case ids must be unique"
assert all(case.kind in ENTRY_POINTS for case in CASES)
