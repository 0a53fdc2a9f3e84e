"""CSV and NPZ files as other tools write them: lines that end with the delimiter, NPZ name
arrays that repeat a name or hold none."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import load_csv, load_npz, save_csv
from chainrule.datasets.files import first_csv_row
from chainrule.errors import DataError, ValidationError

# ---------------------------------------------------------------------------- trailing delimiter


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_delimiter_at_the_end_of_each_line_adds_no_column(tmp_path: Path, delimiter: str) -> None:
    """``a;b;label;`` (spreadsheet exports): the empty last field is no column, so the last
    real column stays the target; reading the file without it gives the same data."""
    rows = [["a", "b", "label"], ["1.5", "2", "yes"], ["3", "4.5", "no"], ["5", "6", "yes"]]
    plain = tmp_path / "plain.csv"
    plain.write_text("".join(delimiter.join(r) + "\n" for r in rows))
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("".join(delimiter.join(r) + delimiter + "\r\n" for r in rows))
    want, got = load_csv(plain), load_csv(trailing)
    assert got.feature_names == want.feature_names and got.target_name == want.target_name
    assert np.array_equal(got.X, want.X) and np.array_equal(got.y, want.y)
    assert got.classes == want.classes
    assert first_csv_row(trailing) == first_csv_row(plain)


def test_a_trailing_delimiter_without_a_header(tmp_path: Path) -> None:
    """Without a header, a text label in the last real column stays the target, not a
    feature that makes line 1 look like a header."""
    lines = ["1,2,a,", "3,4,b,", "5,6,a,"]
    path = tmp_path / "d.csv"
    path.write_text("\n".join(lines) + "\n")
    ds = load_csv(path)
    assert ds.X.tolist() == [[1, 2], [3, 4], [5, 6]] and ds.classes == ["a", "b"]
    assert ds.feature_names == ["x1", "x2"]


def test_a_value_after_a_trailing_delimiter_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label,\n1,2,yes,\n3,4,no,\n5,6,yes,oops\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 4, column 4 (index 3): got 'oops'")
    assert "line 1 ends with an empty field" in message


def test_a_missing_last_value_on_line_1_is_still_reported(tmp_path: Path) -> None:
    """An empty last cell on line 1 alone is a missing target, not a trailing delimiter."""
    path = tmp_path / "d.csv"
    path.write_text("1,2,\n3,4,1\n5,6,0\n")
    with pytest.raises(DataError, match=r"line 1, column 3 \(index 2\): expected a number"):
        load_csv(path)


# ---------------------------------------------------------------------------- NPZ names


def test_npz_feature_names_must_be_unique(tmp_path: Path) -> None:
    """Columns of one name would be matched by name to the same column later."""
    path = tmp_path / "d.npz"
    np.savez(path, X=np.eye(3), y=np.array([0, 1, 0]), feature_names=np.array(["a", "a", "c"]))
    with pytest.raises(DataError) as info:
        load_npz(path)
    assert str(info.value) == (
        f"{path}: feature_names has 'a' twice (entries 0 and 1); names must be unique"
    )
    with pytest.raises(DataError, match="feature_names has 'a' twice"):
        load_npz(path, target=None)


def test_npz_classes_must_be_unique(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.eye(3), y=np.array([0, 1, 0]), classes=np.array(["yes", "yes"]))
    with pytest.raises(DataError, match=r"d\.npz: classes has 'yes' twice \(entries 0 and 1\)"):
        load_npz(path)


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.array([0, 1, 2, 1]), r"y\[2\] = np\.int64\(2\) is no code into the 2 stored classes"),
        (np.array([0.0, 1.5, 1.0, 0.0]), r"y\[1\] = np\.float64\(1\.5\) is no code"),
        (np.array([0, -1, 1, 0]), r"y\[1\] = np\.int64\(-1\) is no code"),
    ],
)
def test_npz_codes_outside_the_stored_classes_are_refused(
    tmp_path: Path, y: np.ndarray, message: str
) -> None:
    """A stored ``classes`` names the codes in y: a code it does not name is an error, not a
    reason to drop the names and number the classes 0, 1, 2 instead."""
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((4, 2)), y=y, classes=np.array(["cat", "dog"]))
    with pytest.raises(DataError, match=message + r".*integer codes in 0\.\.1"):
        load_npz(path)
    np.savez(path, X=np.ones((4, 2)), y=np.array([0, 1, 1, 0]), classes=np.array(["cat", "dog"]))
    assert load_npz(path).classes == ["cat", "dog"]


@pytest.mark.parametrize("stored", [np.array([], dtype=str), np.array(["t", "u"])])
def test_npz_target_name_must_hold_one_name(tmp_path: Path, stored: np.ndarray) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.eye(3), y=np.array([0, 1, 0]), target_name=stored)
    with pytest.raises(DataError) as info:
        load_npz(path)
    assert str(info.value) == (
        f"{path}: target_name must hold one name; it holds {stored.size} values"
    )


# ---------------------------------------------------------------------------- encodings


def test_latin1_text_is_located_by_line_and_byte(tmp_path: Path) -> None:
    """The decoder's offset is into its read chunk; the message counts in the file's lines."""
    lines = ["a,b,label", *(f"{i},{i % 3},yes" for i in range(3000)), "1,2,caf\u00e9"]
    path = tmp_path / "latin1.csv"
    path.write_bytes("\n".join(lines).encode("latin-1"))
    with pytest.raises(DataError) as info:
        load_csv(path)
    line = len(lines)
    column = lines[-1].index("\u00e9") + 1
    assert str(info.value) == (
        f"{path} is not UTF-8 text: line {line}, byte {column} of the line (0xe9) cannot be "
        "decoded (unexpected end of data); save the file as UTF-8"
    )


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("a,b\n1,2\n".encode("utf-16"), "UTF-16 text (it starts with a byte-order mark)"),
        (gzip.compress(b"a,b\n1,2\n"), "a gzip-compressed file (decompress it first)"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(200, 256)), "a PNG image"),
    ],
)
def test_a_file_of_another_kind_is_named(tmp_path: Path, content: bytes, kind: str) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value) == f"{path} is not UTF-8 text: it is {kind}; save it as UTF-8 CSV"


def test_npz_names_stored_as_bytes_are_decoded(tmp_path: Path) -> None:
    """Names stored as bytes (dtype S, as h5py and older tools write them) read as the text
    they hold, not as "b'x1'", so that a model matches columns by their real names."""
    path = tmp_path / "d.npz"
    np.savez(
        path,
        X=np.eye(2),
        y=np.array([1, 0]),
        feature_names=np.array(["größe".encode(), b"width"]),
        classes=np.array([b"no", b"yes"]),
        target_name=np.array(b"label"),
    )
    ds = load_npz(path)
    assert ds.feature_names == ["größe", "width"] and ds.target_name == "label"
    assert ds.classes == ["no", "yes"] and ds.decode(ds.y).tolist() == ["yes", "no"]
    assert load_npz(path, target=None).feature_names == ["größe", "width"]
    np.savez(path, X=np.eye(2), y=np.array([1, 0]), feature_names=np.array([b"\xff", b"w"]))
    with pytest.raises(DataError) as info:
        load_npz(path)
    assert str(info.value).startswith(f"{path}: feature_names holds bytes that are not UTF-8")


def test_a_decimal_comma_is_named_in_the_message(tmp_path: Path) -> None:
    """A spreadsheet exported in a German or French locale: ';' between fields, ',' in
    numbers. The message says what the value is and what to do, not only that it is bad."""
    path = tmp_path / "d.csv"
    path.write_text("a;b;kind\n1.5;2.5;x\n3;4,25;y\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value) == (
        f"{path}, line 3, column 'b': expected a number, got '4,25' (a decimal comma: write "
        "numbers with a point, 1.5, e.g. by exporting the sheet in an English locale)"
    )
    path.write_text("a;b;price\n1;2;3.5\n3;4;-,5\n")
    with pytest.raises(DataError, match=r"'price': expected a number, got '-,5' \(a decimal"):
        load_csv(path, task="regression")
    path.write_text("a;b;kind\n1;2;x\n3;abc;y\n")
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value).endswith(  # plain text: the hint for a category or a typo
        "expected a number, got 'abc' (features are numbers: fix it, or encode categories as "
        "0/1 columns)"
    )


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        (
            "1,234",
            "a thousands separator or a decimal comma: write the number without "
            "separators and with a point for decimals",
        ),
        ("-12,345,678", "thousands separators: write the number without them"),
        (
            "12,3456",
            "a decimal comma: write numbers with a point, 1.5, e.g. by exporting the "
            "sheet in an English locale",
        ),
        ("male", "features are numbers: fix it, or encode categories as 0/1 columns"),
        ("NA", "a missing value: fill it in or remove the row"),
        ("?", "a missing value: fill it in or remove the row"),
        ("", "a missing value: fill it in or remove the row"),
    ],
)
def test_a_cell_that_is_no_number_is_named_for_what_it_may_be(
    tmp_path: Path, text: str, hint: str
) -> None:
    """``1,234`` is 1234 in an English sheet and 1.234 in a German one: the hint said only
    "a decimal comma"; ``12,345,678`` can only be grouping, and had no hint at all. A real
    table (a passenger list) also has categories (``male``) and missing values (empty,
    ``NA``, ``?``): the message says which the cell looks like, and what to do."""
    path = tmp_path / "d.csv"
    path.write_text(f'a;b;kind\n1.5;2.5;x\n3;"{text}";y\n')
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value) == (
        f"{path}, line 3, column 'b': expected a number, got {text!r} ({hint})"
    )


def test_a_file_that_is_no_npz_archive_is_not_called_a_pickle(tmp_path: Path) -> None:
    """np.load takes any file that is neither zip nor .npy for a pickle and suggests
    allow_pickle=True; a CSV file named .npz is told what it is instead."""
    path = tmp_path / "d.npz"
    path.write_text("a,b\n1,0\n2,1\n")
    with pytest.raises(DataError) as info:
        load_npz(path)
    message = str(info.value)
    assert message == (
        f"{path} is not a readable .npz file: it holds text, not a zip archive of .npy arrays; "
        "a CSV file must be named .csv (or .tsv, .txt)"
    )
    # np.load's own message would have suggested unpickling it
    path.write_bytes(b"\x80\x04\x95\x00binary")
    with pytest.raises(DataError) as info:
        load_npz(path)
    assert str(info.value).endswith(
        "it is a Python pickle (chainrule never unpickles), not a zip archive of .npy arrays"
    )
    path.write_bytes(b"\x00\x01\xff\xfebinary")
    with pytest.raises(DataError) as info:
        load_npz(path)
    assert str(info.value).endswith(
        "it is binary data of some other format, not a zip archive of .npy arrays"
    )
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"is not a readable \.npz file: it is empty$"):
        load_npz(path)


@pytest.mark.parametrize(
    ("classes", "first", "second"),
    [([" a", "a"], " a", "a"), (["1", "1.0"], "1", "1.0"), (["01", "1", "2"], "01", "1")],
)
def test_save_csv_refuses_classes_that_would_merge(
    tmp_path: Path, classes: list[str], first: str, second: str
) -> None:
    """save_csv promises a file load_csv reads back exactly: two classes whose labels read back
    as one (blanks stripped, numbers compared by value) were silently merged into one."""
    path = tmp_path / "d.csv"
    y = np.arange(6) % len(classes)
    with pytest.raises(ValidationError) as info:
        save_csv(path, np.arange(6.0)[:, None], y, classes=classes)
    assert str(info.value) == (
        f"class labels {first!r} and {second!r} would read back as one class (a CSV reader "
        "strips blanks around labels and compares numbers by value); rename one"
    )
    assert not path.exists()
    with pytest.raises(ValidationError, match=r"class label ' ' is empty or blank"):
        save_csv(path, np.ones((2, 1)), np.array([0, 1]), classes=["a", " "])
    # Labels that read back apart are fine, numbers by value included; unused ones are not written.
    save_csv(path, np.arange(4.0)[:, None], np.array([0, 1, 0, 1]), classes=["2", "10", "2.0"])
    back = load_csv(path)
    assert back.classes == ["2", "10"] and back.decode(back.y).tolist() == ["2", "10", "2", "10"]
