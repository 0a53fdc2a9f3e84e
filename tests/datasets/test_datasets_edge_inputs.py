"""Defects found using the data loaders on unusual but legitimate inputs, each checked against
an independent reference where there is one: pandas for what a cell means, numpy for what a
file holds and what an array is, Python's float for the range of a number."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainrule.datasets import (
    download_file,
    fetch,
    load_csv,
    load_npz,
    read_idx,
    save_csv,
    toy,
    write_idx,
)
from chainrule.errors import DataError, ValidationError

# ------------------------------------------------------- missing class labels: one rule, one text


def _csv_and_npz_errors(tmp_path: Path, labels: list[str]) -> tuple[str, str]:
    """The messages load_csv and load_npz give for the same labels, each after its location."""
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("a,y\n" + "".join(f"1,{t}\n" for t in labels), encoding="utf-8")
    npz_path = tmp_path / "d.npz"
    np.savez(npz_path, X=np.ones((len(labels), 1)), y=np.array(labels))
    messages = []
    for load in (lambda: load_csv(csv_path), lambda: load_npz(npz_path)):
        with pytest.raises(DataError) as info:
            load()
        messages.append(str(info.value))
    csv_message, npz_message = messages
    assert csv_message.startswith(f"{csv_path}, line 3, column 'y': ")
    assert npz_message.startswith(f"{npz_path}: y[1]: ")
    return csv_message.split(": ", 1)[1], npz_message.split("y[1]: ", 1)[1]


@pytest.mark.parametrize("missing", ["", "nan", "NaN"])
def test_csv_and_npz_refuse_a_missing_label_in_the_same_words(tmp_path: Path, missing: str) -> None:
    """The empty-label check was written twice, worded "got '' (empty)" for CSV and "got an
    empty one" for NPZ; both files now give one message for one label."""
    labels = ["cat", missing, "dog"]
    csv_path = tmp_path / "ref.csv"
    csv_path.write_text("a,y\n" + "".join(f"1,{t}\n" for t in labels), encoding="utf-8")
    assert pd.read_csv(csv_path)["y"].isna().tolist() == [False, True, False]  # the reference
    csv_text, npz_text = _csv_and_npz_errors(tmp_path, labels)
    assert csv_text == npz_text
    assert npz_text.startswith(f"expected a class label, got {missing!r}, which ")
    assert npz_text.endswith("; fill in the label or remove the row")


def test_a_blank_npz_label_is_called_blank(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 1)), y=np.array(["a", "  ", "b"]))
    with pytest.raises(DataError) as info:
        load_npz(path)
    assert str(info.value).startswith(
        f"{path}: y[1]: expected a class label, got '  ', which is blank; fill in the label"
    )


def test_na_like_text_is_a_class_in_csv_and_npz_alike(tmp_path: Path) -> None:
    """'NA' may be a real class (North America): both loaders keep it, and the other words
    pandas reads as missing, as classes, the classes pandas finds with its NA words off."""
    labels = ["NA", "EU", "N/A", "None", "NULL", "NA"]
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("a,region\n" + "".join(f"1,{t}\n" for t in labels), encoding="utf-8")
    npz_path = tmp_path / "d.npz"
    np.savez(npz_path, X=np.ones((len(labels), 1)), y=np.array(labels))
    reference = sorted(set(pd.read_csv(csv_path, keep_default_na=False)["region"]))
    from_csv, from_npz = load_csv(csv_path), load_npz(npz_path)
    assert from_csv.classes == from_npz.classes == reference
    assert from_csv.decode(from_csv.y).tolist() == labels
    assert from_npz.decode(from_npz.y).tolist() == labels


# ------------------------------------------------------------- save_csv: labels that are no text


@pytest.mark.parametrize(
    "y",
    [
        np.array(["a", None, "b"], dtype=object),
        pd.Series(["a", pd.NA, "b"], dtype="string"),
        pd.Series(["a", pd.NA, "b"], dtype=object),
    ],
    ids=["None", "string-NA", "object-NA"],
)
def test_save_csv_refuses_a_missing_label_instead_of_writing_a_class(
    tmp_path: Path, y: object
) -> None:
    """None and pd.NA were written as the classes 'None' and '<NA>', read back as a class."""
    assert pd.isna(pd.Series(y)).tolist() == [False, True, False]  # the reference: missing
    path = tmp_path / "d.csv"
    with pytest.raises(ValidationError, match=r"^y\[1\] is (None|<NA>), not a class label"):
        save_csv(path, np.ones((3, 1)), y)  # type: ignore[arg-type]
    assert not path.exists()


def test_save_csv_writes_bytes_labels_as_their_text(tmp_path: Path) -> None:
    """Bytes labels were written as "b'cat'"."""
    y = np.array([b"cat", b"dog", "café".encode()])
    path = tmp_path / "d.csv"
    save_csv(path, np.ones((3, 1)), y)
    expected = [v.decode("utf-8") for v in y.tolist()]
    assert pd.read_csv(path)["y"].tolist() == expected
    data = load_csv(path)
    assert data.decode(data.y).tolist() == expected


def test_save_csv_refuses_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    with pytest.raises(ValidationError, match=r"y\[1\] = b'\\xff' holds bytes that are not UTF-8"):
        save_csv(path, np.ones((2, 1)), np.array([b"a", b"\xff"]))
    assert not path.exists()


# ---------------------------------------------------------- toy data: more samples than memory

GENERATORS = [toy.xor, toy.circle, toy.gaussian, toy.spiral, toy.moons, toy.plane, toy.sine]


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda g: g.__name__)
@pytest.mark.parametrize("n_samples", [10**12, 2**62, 10**30])
def test_toy_data_too_large_for_memory_is_an_argument_error(
    generator: Callable[..., object], n_samples: int
) -> None:
    """numpy's MemoryError, ValueError ('array is too big') or OverflowError came through."""
    with pytest.raises(ValidationError, match=rf"^n_samples={n_samples:,} would need about"):
        generator(n_samples)


@pytest.mark.parametrize("generator", GENERATORS, ids=lambda g: g.__name__)
def test_toy_data_of_ordinary_size_is_still_made(generator: Callable[..., object]) -> None:
    X, y = generator(10_000, seed=0)  # type: ignore[misc]
    assert len(X) == len(y) == 10_000


# --------------------------------------------------------------------- downloads: bad arguments


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1/train data.gz", r"holds the character ' ', which a URL cannot"),
        ("http://127.0.0.1/a\tb", r"holds the character '\\t'"),
        ("http://", r"must start with http:// or https:// and name a host"),
        ("http:///x.gz", r"must start with http:// or https:// and name a host"),
        ("http://[::1/x", r"must start with http:// or https:// and name a host"),
        (5, r"must start with http:// or https:// and name a host; got 5"),
    ],
)
def test_a_bad_url_is_an_argument_error_and_writes_nothing(
    tmp_path: Path, url: object, message: str
) -> None:
    """A space was reported as an interrupted download whose part file 'is kept', though none
    was written; no host as a network problem; a non-string as an AttributeError."""
    with pytest.raises(ValidationError, match=message):
        download_file(url, tmp_path / "f.gz", sha256="0" * 64)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_a_base_url_with_a_space_is_named_as_base_url(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"^base_url 'http://my mirror/' holds"):
        fetch("mnist", tmp_path, base_url="http://my mirror/")
    with pytest.raises(ValidationError, match=r"^base_url must start with http"):
        fetch("mnist", tmp_path, base_url=5)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["10", None, 1.5, True, -1])
def test_max_bytes_must_be_an_integer(tmp_path: Path, bad: object) -> None:
    """A string or None failed with Python's TypeError about '>' deep inside."""
    npz, idx = tmp_path / "d.npz", tmp_path / "d.idx"
    np.savez(npz, X=np.ones((2, 1)), y=np.array([0, 1]))
    write_idx(idx, np.arange(3, dtype=np.uint8))
    calls = [
        lambda: load_npz(npz, max_bytes=bad),  # type: ignore[arg-type]
        lambda: read_idx(idx, max_bytes=bad),  # type: ignore[arg-type]
        lambda: download_file(
            "http://127.0.0.1/x",
            tmp_path / "x",
            sha256="0" * 64,
            max_bytes=bad,  # type: ignore[arg-type]
        ),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match=r"^max_bytes must be an integer >= 0; got"):
            call()


# ---------------------------------------------------------------- messages about odd CSV cells


def test_a_very_long_field_is_cut_in_the_message(tmp_path: Path) -> None:
    """A 100,000-character field was quoted whole, a message of 100 kB."""
    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + "x" * 100_000 + ",1\n2,0\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert len(message) < 500  # the path, the cut value and the hint, not 100 kB
    assert message.startswith(f"{path}, line 2, column 'a': expected a number, got 'xxx")
    assert message.endswith(
        "... (100,000 characters) (features are numbers: fix it, or encode categories as 0/1 "
        "columns)"
    )


@pytest.mark.parametrize("value", ["1e309", "-2e400", "9" * 400])
def test_a_number_beyond_float64_is_named_so(tmp_path: Path, value: str) -> None:
    """'value is not finite (1e309)' did not say why a number written with digits is not."""
    assert math.isinf(float(value))  # the reference: Python reads it as infinite
    path = tmp_path / "d.csv"
    path.write_text(f"a,y\n{value},1\n2,0\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"value is not finite \(.*\): it is beyond the range"):
        load_csv(path)


def test_nan_and_inf_as_written_get_no_range_remark(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,y\n-inf,1\n2,0\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value) == f"{path}, line 2, column 'a': value is not finite (-inf)"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("# made by a script\na,b,y\n1,2,x\n3,4,z\n", 1),
        ("a,b,y\n1,2,x\n# a note\n3,4,z\n", 3),
        ("# made by a script, v2\na,b,y\n1,2,x\n3,4,z\n", 1),
    ],
)
def test_a_comment_line_is_named_as_the_cause(tmp_path: Path, text: str, line: int) -> None:
    """A comment line was reported as a file without separators ('separate fields with ','
    ...') or a row of the wrong width, with no word of the '#'."""
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=rf"line {line} starts with '#', a comment"):
        load_csv(path)
    # the advice works: without the comment lines the file reads as numpy reads it
    path.write_text("".join(t for t in text.splitlines(True) if not t.startswith("#")))
    reference = np.genfromtxt(path, delimiter=",", names=True, dtype=None, encoding="utf-8")
    data = load_csv(path)
    assert data.X.tolist() == [[float(r["a"]), float(r["b"])] for r in reference]
    assert data.decode(data.y).tolist() == [str(r["y"]) for r in reference]


# ------------------------------------------------------------------ NPZ: X of another dimension


@pytest.mark.parametrize(
    ("X", "advice", "follow"),
    [
        (np.arange(4.0), "X.reshape(-1, 1)", lambda X: X.reshape(-1, 1)),
        (
            np.arange(16, dtype=np.uint8).reshape(4, 2, 2),
            "X.reshape(len(X), -1)",
            lambda X: X.reshape(len(X), -1),
        ),
    ],
    ids=["1-D", "images"],
)
def test_an_x_that_is_not_2d_says_how_to_reshape_it(
    tmp_path: Path, X: np.ndarray, advice: str, follow: Callable[[np.ndarray], np.ndarray]
) -> None:
    """'X must be a 2-D numeric array' said what, not how; the advice given loads."""
    y = np.array([0, 1, 0, 1])
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y)
    with pytest.raises(DataError, match=re.escape(advice)):
        load_npz(path)
    np.savez(path, X=follow(X), y=y)
    assert np.array_equal(load_npz(path).X, X.reshape(len(X), -1).astype(np.float64))


# ------------------------------------------------------------------------------ ~ in a file name


def test_a_path_under_home_written_with_a_tilde_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'~/data.csv' was 'no such file' (the shell leaves ~ alone in --data=~/data.csv);
    pandas, the reference, expands it."""
    from chainrule.sources import read_dataset

    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "data.csv").write_text("a,b,y\n1,2,x\n3,4,z\n", encoding="utf-8")
    np.savez(tmp_path / "data.npz", X=np.eye(2), y=np.array([0, 1]))
    write_idx(tmp_path / "data.idx", np.arange(3, dtype=np.uint8))
    reference = pd.read_csv("~/data.csv")
    for data in (load_csv("~/data.csv"), read_dataset("~/data.csv")):
        assert data.X.tolist() == reference[["a", "b"]].to_numpy(dtype=float).tolist()
        assert data.decode(data.y).tolist() == reference["y"].tolist()
    assert load_npz("~/data.npz").X.tolist() == np.eye(2).tolist()
    assert read_dataset("~/data.npz").X.tolist() == np.eye(2).tolist()
    assert read_idx("~/data.idx").tolist() == [0, 1, 2]


def test_boolean_labels_are_the_same_classes_in_npz_and_csv(tmp_path: Path) -> None:
    """A bool ``y`` saved in an NPZ file and the same labels in a CSV file (as pandas writes
    them, ``True``/``False``) are the same classes, in the same order: a model trained on one
    scores the other. Before, the NPZ file's were ``'0'``/``'1'``, unseen in the CSV's terms."""
    X = np.arange(8.0).reshape(4, 2)
    y = np.array([True, False, True, True])
    np.savez(tmp_path / "b.npz", X=X, y=y)
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": y}).to_csv(tmp_path / "b.csv", index=False)
    from_npz, from_csv = load_npz(tmp_path / "b.npz"), load_csv(tmp_path / "b.csv")
    assert from_npz.classes == from_csv.classes == [str(c) for c in np.unique(y)]
    np.testing.assert_array_equal(from_npz.y, from_csv.y)
    np.testing.assert_array_equal(np.asarray(from_npz.classes)[from_npz.y], y.astype(str))


def test_several_target_columns_are_named_with_what_takes_them(tmp_path: Path) -> None:
    """A 2-D ``y`` of one row per sample is several targets: the message says so and names
    the estimators that fit them (a wrong row count keeps the plain shape message)."""
    X = np.zeros((5, 2))
    np.savez(tmp_path / "multi.npz", X=X, y=np.zeros((5, 3)))
    with pytest.raises(DataError) as err:
        load_npz(tmp_path / "multi.npz")
    assert str(err.value) == (
        f"{tmp_path / 'multi.npz'}: y must have shape (5,) to match X; got (5, 3): a data set "
        "has one target per row, and these are 3 target columns; train one model per column, "
        "or fit MLPRegressor (several values) or MLPClassifier (several labels per row) from "
        "chainrule.estimators on them"
    )
    with pytest.raises(ValidationError) as err:
        save_csv(tmp_path / "short.csv", X, np.zeros(4))
    assert str(err.value) == "y must have shape (5,) to match X; got (4,)"


def test_an_index_that_is_also_another_columns_name_is_refused(tmp_path: Path) -> None:
    """pandas writes its index first, so a frame of columns 0, 1, 2 is read with the header
    ``'', '0', '1', '2', 'y'``: ``target=2`` could be the index 2 (the column '1') or the column
    named '2'. Refused, naming both; an index whose column bears its own number is no riddle."""
    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3))
    frame["y"] = [0, 1, 0, 1]
    frame.to_csv(tmp_path / "pd.csv")
    with pytest.raises(DataError) as err:
        load_csv(tmp_path / "pd.csv", target=2)
    assert str(err.value) == (
        f"{tmp_path / 'pd.csv'}: target 2 is ambiguous: index 2 is the column '1', but another "
        "column is named '2'; give its index, 3, to mean that one"
    )
    data = load_csv(tmp_path / "pd.csv", target=3, task="regression")  # the column named '2'
    np.testing.assert_array_equal(data.y, frame[2].to_numpy())
    frame.to_csv(tmp_path / "plain.csv", index=False)  # header 0, 1, 2, y: index 2 is '2'
    plain = load_csv(tmp_path / "plain.csv", target=2, task="regression")
    np.testing.assert_array_equal(plain.y, frame[2].to_numpy())
