"""What save_csv writes, load_csv reads back: column names that look like numbers or carry
blanks, and numbers written the way only Python reads them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chainrule.datasets import load_csv, load_npz, save_csv
from chainrule.errors import DataError, ValidationError

names = st.sampled_from(["0", "1", "2", "400", "nan", "x", "kind", "a b", " a", "b ", ""])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    feature_names=st.lists(names, min_size=2, max_size=2, unique=True),
    target_name=names,
    text_labels=st.booleans(),
)
@example(feature_names=["400", "500"], target_name="kind", text_labels=True)  # spectra
@example(feature_names=["0", "1"], target_name="2", text_labels=False)
def test_a_header_is_read_back_as_names_or_refused(
    tmp_path: Path, feature_names: list[str], target_name: str, text_labels: bool
) -> None:
    """A header load_csv would take for a data row (no feature name that is text) used to be
    written anyway: the file read back with one sample more, the names as its values and the
    target's name as a class. Names with blanks around them read back stripped. Either the
    file reads back as written, or save_csv refuses it."""
    X = np.array([[0.5, 1.5], [2.5, 3.5], [4.5, 5.5]])
    y = np.array([0, 1, 0])
    classes = ["no", "yes"] if text_labels else None
    path = tmp_path / "d.csv"
    path.unlink(missing_ok=True)  # one folder serves every example
    try:
        save_csv(path, X, y, feature_names=feature_names, target_name=target_name, classes=classes)
    except ValidationError:
        assert not path.exists()
        return
    back = load_csv(path)
    assert np.array_equal(back.X, X)
    assert back.feature_names == feature_names and back.target_name == target_name
    expected = ["no", "yes", "no"] if text_labels else ["0", "1", "0"]
    assert back.decode(back.y).tolist() == expected


def test_a_header_of_numbers_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    with pytest.raises(ValidationError) as info:
        save_csv(
            path,
            np.ones((2, 2)),
            np.array([0, 1]),
            feature_names=["400", "500"],
            target_name="kind",
            classes=["a", "b"],
        )
    assert str(info.value) == (
        "the header '400', '500', 'kind' would read back as a data row (load_csv takes line 1 "
        "for names when a feature's name is not a number, or when whole numbers there stand "
        "above fractions); give a feature a name that is not a number, or pass header=False"
    )
    with pytest.raises(ValidationError, match=r"column name ' a' is empty or has blanks"):
        save_csv(path, np.ones((2, 2)), np.array([0, 1]), feature_names=[" a", "b"])
    assert not path.exists()
    # Without a header nothing can be mistaken, and names of numbers are fine with a text one.
    save_csv(path, np.ones((2, 2)), np.array([0, 1]), feature_names=["400", "500"], header=False)
    save_csv(path, np.ones((2, 2)), np.array([0, 1]), feature_names=["400", "500"])
    assert load_csv(path).feature_names == ["400", "500"]
    # Above fractions, whole numbers read back as the names they are.
    X = np.array([[0.25, 1.5], [3.0, 4.75]])
    save_csv(path, X, np.array([0, 1]), feature_names=["400", "500"], classes=["a", "b"])
    back = load_csv(path)
    assert back.feature_names == ["400", "500"] and back.target_name == "y"
    np.testing.assert_array_equal(back.X, X)


def test_labels_only_python_reads_as_numbers_stay_apart(tmp_path: Path) -> None:
    """``float`` reads ``1_2`` as 12 (and Arabic-Indic digits as digits): the labels ``1_2``
    and ``12`` were read as one class, named ``12``. They are two labels, as the csv module
    gives them."""
    path = tmp_path / "d.csv"
    path.write_text("a,kind\n1.5,1_2\n2.5,12\n3.5,1_2\n4.5,\u0661\n5.5,1\n", encoding="utf-8")
    with path.open(newline="", encoding="utf-8") as fh:
        reference = [row[-1] for row in csv.reader(fh)][1:]
    back = load_csv(path, task="classification")
    assert back.decode(back.y).tolist() == reference


@pytest.mark.parametrize("text", ["1_000", "\u0661", "2_5e-1"])
def test_numbers_only_python_reads_are_no_feature_values(tmp_path: Path, text: str) -> None:
    """numpy's loadtxt, the reference, reads no number there; load_csv read 1000, 1, 0.25."""
    with pytest.raises(ValueError):
        np.loadtxt(io.StringIO(f"{text},1\n"), delimiter=",")
    path = tmp_path / "d.csv"
    path.write_text(f"a,b,kind\n{text},1,x\n2,3,y\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_csv(path)
    assert str(info.value) == (
        f"{path}, line 2, column 'a': expected a number, got {text!r} (features are numbers: "
        "fix it, or encode categories as 0/1 columns)"
    )
    # Blanks around a number are fine, Unicode ones too, as numpy's loadtxt reads them.
    path.write_text("a,b,kind\n\u00a01 ,1,x\n2\u2003,3,y\n", encoding="utf-8")
    assert (
        load_csv(path).X.tolist()
        == np.loadtxt(io.StringIO("\u00a01 ,1\n2\u2003,3\n"), delimiter=",").tolist()
    )


def test_integer_labels_beyond_float_precision_sort_as_numbers(tmp_path: Path) -> None:
    """Labels of 2**53 and more keep their text (float64 would merge them) but were sorted as
    text, '10' before '2', where load_csv documents numbers sorted numerically; the same
    labels in an NPZ file as int64 were sorted numerically."""
    labels = [2, 10, 2**53 + 1, -(2**53) - 1, 2, 2**63 - 1, 2**63 - 2]
    path = tmp_path / "d.csv"
    path.write_text("a,id\n" + "".join(f"{i},{v}\n" for i, v in enumerate(labels)))
    back = load_csv(path)
    assert back.classes == [str(v) for v in sorted(set(labels))]
    assert back.decode(back.y).tolist() == [str(v) for v in labels]
    np.savez(tmp_path / "d.npz", X=np.arange(7.0)[:, None], y=np.array(labels, dtype=np.int64))
    npz = load_npz(tmp_path / "d.npz")
    assert back.classes == npz.classes and np.array_equal(back.y, npz.y)


@pytest.mark.parametrize("labels", [[" a", "a", "b"], ["x", "", "y"], ["1", "1.0", "2"]])
def test_text_labels_are_checked_as_classes_are(tmp_path: Path, labels: list[str]) -> None:
    """Labels that read back as one class, or an empty one that reads back not at all, were
    refused as ``classes`` but written as text ``y``: the same labels, as codes into classes,
    are the reference."""
    X = np.arange(6.0).reshape(3, 2)
    classes = sorted(set(labels))
    codes = np.array([classes.index(v) for v in labels])
    with pytest.raises(ValidationError) as as_classes:
        save_csv(tmp_path / "c.csv", X, codes, classes=classes)
    with pytest.raises(ValidationError) as as_text:
        save_csv(tmp_path / "t.csv", X, np.array(labels))
    assert str(as_text.value) == str(as_classes.value)
    assert not (tmp_path / "t.csv").exists()


def test_npz_text_labels_are_names_of_the_stored_classes(tmp_path: Path) -> None:
    """An NPZ file's ``classes`` were ignored when ``y`` held the labels as text: the stored
    order was lost, an unused class dropped (one output too few) and a label no class names
    accepted. The stored classes now decide, as they do for codes: the same file with ``y``
    as codes into them is the reference."""
    X = np.arange(8.0).reshape(4, 2)
    classes = np.array(["cat", "ant", "dog"])
    labels = np.array(["ant", "cat", "ant", "cat"])
    codes = np.array([list(classes).index(v) for v in labels])
    np.savez(tmp_path / "codes.npz", X=X, y=codes, classes=classes)
    np.savez(tmp_path / "text.npz", X=X, y=labels, classes=classes)
    reference, back = load_npz(tmp_path / "codes.npz"), load_npz(tmp_path / "text.npz")
    assert back.classes == reference.classes == ["cat", "ant", "dog"]
    assert np.array_equal(back.y, reference.y)
    np.savez(tmp_path / "bad.npz", X=X, y=np.array(["ant", "cat", "eel", "cat"]), classes=classes)
    with pytest.raises(DataError) as info:
        load_npz(tmp_path / "bad.npz")
    assert (
        str(info.value) == f"{tmp_path / 'bad.npz'}: y[2] = 'eel' is none of the 3 stored classes"
    )
