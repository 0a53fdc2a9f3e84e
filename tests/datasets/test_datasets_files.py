"""CSV and NPZ loading: parsing rules, every error message, round trips, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.datasets import Dataset, load_csv, load_npz, save_csv
from chainrule.datasets import files as files_module
from chainrule.errors import DataError, ValidationError

TEXT_HINT = " (features are numbers: fix it, or encode categories as 0/1 columns)"
MISSING_HINT = " (a missing value: fill it in or remove the row)"


def write(tmp_path: Path, text: str, name: str = "data.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def csv_error(path: Path, **kwargs: object) -> str:
    with pytest.raises(DataError) as info:
        load_csv(path, **kwargs)  # type: ignore[arg-type]
    return str(info.value)


# ---------------------------------------------------------------------------- reading


def test_header_and_string_labels(tmp_path: Path) -> None:
    p = write(tmp_path, "x1,x2,kind\n1,2,tulip\n3,4.5,rose\n-5e-1,6,tulip\n")
    ds = load_csv(p)
    assert ds.X.dtype == np.float64 and ds.X.shape == (3, 2)
    assert ds.X.tolist() == [[1.0, 2.0], [3.0, 4.5], [-0.5, 6.0]]
    assert ds.feature_names == ["x1", "x2"] and ds.target_name == "kind"
    assert ds.classes == ["rose", "tulip"]
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [1, 0, 1]
    assert ds.task == "classification" and ds.name == "data.csv"
    assert ds.decode(np.array([0, 1, 1])).tolist() == ["rose", "tulip", "tulip"]
    assert ds.decode(ds.y).tolist() == ["tulip", "rose", "tulip"]


def test_crlf_line_endings(tmp_path: Path) -> None:
    p = write(tmp_path, "a,b,y\r\n1,2,x\r\n3,4,y\r\n")
    ds = load_csv(p)
    assert ds.X.tolist() == [[1.0, 2.0], [3.0, 4.0]] and ds.classes == ["x", "y"]
    p = write(tmp_path, "a,b,y\r\n1,2,x\r\n3,q,y\r\n", "bad.csv")
    assert csv_error(p) == f"{p}, line 3, column 'b': expected a number, got 'q'" + TEXT_HINT


def test_bom_is_skipped(tmp_path: Path) -> None:
    p = write(tmp_path, "\ufeffa,b,label\n1,2,x\n3,4,y\n")
    ds = load_csv(p)
    assert ds.feature_names == ["a", "b"]
    p = write(tmp_path, "\ufeff1,2,0\n3,4,1\n", name="nohdr.csv")
    assert load_csv(p).X.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_no_header_auto(tmp_path: Path) -> None:
    p = write(tmp_path, "1,2,0\n3,4,1\n5,6,1\n")
    ds = load_csv(p)
    assert ds.feature_names == ["x1", "x2"] and ds.target_name == "y"
    assert ds.y.tolist() == [0, 1, 1] and ds.classes == ["0", "1"]


def test_no_header_with_string_labels_is_not_mistaken_for_header(tmp_path: Path) -> None:
    p = write(tmp_path, "1,2,cat\n3,4,dog\n")
    ds = load_csv(p)
    assert ds.X.shape == (2, 2) and ds.classes == ["cat", "dog"]


def test_header_detected_when_only_target_is_text(tmp_path: Path) -> None:
    p = write(tmp_path, "1,2,label\n3,4,0\n5,6,1\n")
    ds = load_csv(p)
    assert ds.target_name == "label" and ds.feature_names == ["1", "2"]
    assert ds.X.shape == (2, 2)


def pandas_csv(path: Path, labels: np.ndarray, *, target_first: bool = False) -> Path:
    """What pandas writes for unnamed feature columns plus a named target: header ``0,1,label``."""
    pd = pytest.importorskip("pandas")
    X = np.random.default_rng(0).normal(size=(len(labels), 2))
    frame = pd.DataFrame(X).assign(label=labels)
    if target_first:
        frame = frame[["label", 0, 1]]
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("target_first", [False, True])
def test_pandas_header_with_text_labels(tmp_path: Path, target_first: bool) -> None:
    labels = np.array(["cat", "dog"] * 20)
    p = pandas_csv(tmp_path / "pd.csv", labels, target_first=target_first)
    assert p.read_text().splitlines()[0] == ("label,0,1" if target_first else "0,1,label")
    ds = load_csv(p, target=0 if target_first else -1)
    assert ds.classes == ["cat", "dog"] and ds.X.shape == (40, 2)
    assert ds.feature_names == ["0", "1"] and ds.target_name == "label"
    assert ds.decode(ds.y).tolist() == labels.tolist()


def test_pandas_header_with_numeric_labels(tmp_path: Path) -> None:
    p = pandas_csv(tmp_path / "pd.csv", np.array([0, 1, 2] * 10))
    ds = load_csv(p)
    assert ds.classes == ["0", "1", "2"] and ds.X.shape == (30, 2)
    assert ds.feature_names == ["0", "1"] and ds.target_name == "label"


@pytest.mark.parametrize(
    "first",
    [
        "0,1,cat",  # looks like pandas' header, but 'cat' is a label of other rows
        "0.5,1.5,bird",  # a class of one sample: the features are no column indices
        "1,2,bird",
        "0,2,bird",
    ],
)
def test_headerless_first_row_stays_data(tmp_path: Path, first: str) -> None:
    p = write(tmp_path, first + "\n3,4,cat\n5,6,dog\n7,8,cat\n")
    ds = load_csv(p)
    assert ds.X.shape == (4, 2) and ds.target_name == "y"
    assert ds.decode(ds.y).tolist()[0] == first.rpartition(",")[2]


@pytest.mark.parametrize("names", ["400,500", "-1,2015", "0,2"])
def test_whole_numbers_above_fractions_name_the_columns(tmp_path: Path, names: str) -> None:
    """Columns named by numbers (wavelengths, years) over measurements: before, line 1 was
    read as data, and its target's name as a class of one sample."""
    p = write(tmp_path, f"{names},label\n0.25,1.5,cat\n3.75,4,dog\n5,6.5,cat\n")
    ds = load_csv(p)
    assert ds.feature_names == names.split(",") and ds.target_name == "label"
    assert ds.classes == ["cat", "dog"]
    np.testing.assert_array_equal(ds.X, [[0.25, 1.5], [3.75, 4], [5, 6.5]])


def test_pandas_like_header_alone_is_a_header(tmp_path: Path) -> None:
    p = write(tmp_path, "0,1,label\n")
    assert csv_error(p) == f"{p} has a header (line 1) but no data rows"


def test_pandas_like_header_names_columns_in_target_errors(tmp_path: Path) -> None:
    p = write(tmp_path, "0,1,label\n1,2,cat\n3,4,\n")
    assert csv_error(p) == (
        f"{p}, line 3, column 'label': expected a class label, got '', which is empty; "
        "fill in the label or remove the row"
    )


def test_header_true_and_false_forced(tmp_path: Path) -> None:
    p = write(tmp_path, "10,20,30\n1,2,0\n3,4,1\n")
    assert load_csv(p).X.shape == (3, 2)
    ds = load_csv(p, header=True)
    assert ds.feature_names == ["10", "20"] and ds.X.shape == (2, 2)
    assert load_csv(p, header=False).X.shape == (3, 2)


def test_blank_lines_skipped_and_line_numbers_are_physical(tmp_path: Path) -> None:
    p = write(tmp_path, "\n\na,b,y\n\n1,2,0\n  \n3,x,1\n")
    message = csv_error(p)
    assert message == f"{p}, line 7, column 'b': expected a number, got 'x'" + TEXT_HINT
    p = write(tmp_path, "a,b,y\n\n1,2,0\n\n3,4,1\n\n", name="ok.csv")
    assert load_csv(p).X.shape == (2, 2)


@pytest.mark.parametrize(
    ("delimiter", "text"),
    [
        (";", "a;b;y\n1;2;0\n3;4;1\n"),
        ("\t", "a\tb\ty\n1\t2\t0\n3\t4\t1\n"),
        (",", "a,b,y\n1,2,0\n3,4,1\n"),
    ],
)
def test_delimiter_sniffed(tmp_path: Path, delimiter: str, text: str) -> None:
    ds = load_csv(write(tmp_path, text))
    assert ds.feature_names == ["a", "b"] and ds.X.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert load_csv(write(tmp_path, text, "b.csv"), delimiter=delimiter).X.shape == (2, 2)


def test_sniffer_prefers_numeric_split_over_decimal_commas(tmp_path: Path) -> None:
    # ';' separates; ',' would also give 3 fields per line but non-numeric ones.
    p = write(tmp_path, "a;b;y\n1;2,5;0\n3;4;1\n")
    with pytest.raises(DataError, match=r"line 2, column 'b': expected a number, got '2,5'"):
        load_csv(p)


def test_quoted_fields(tmp_path: Path) -> None:
    p = write(tmp_path, 'a,"b, with comma",y\n1,2,"new york"\n3,4,"paris"\n')
    ds = load_csv(p)
    assert ds.feature_names == ["a", "b, with comma"] and ds.classes == ["new york", "paris"]


def test_target_by_name_and_index(tmp_path: Path) -> None:
    p = write(tmp_path, "label,a,b\ncat,1,2\ndog,3,4\n")
    for target in ("label", 0, -3):
        ds = load_csv(p, target=target)
        assert ds.feature_names == ["a", "b"] and ds.target_name == "label"
        assert ds.X.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_target_by_name_with_text_feature_errors(tmp_path: Path) -> None:
    p = write(tmp_path, "label,a,b\ncat,1,2\n")
    assert csv_error(p, target="b") == (
        f"{p}, line 2, column 'label': expected a number, got 'cat'" + TEXT_HINT
    )


def test_target_not_found_lists_columns(tmp_path: Path) -> None:
    p = write(tmp_path, "x1,x2,y\n1,2,0\n")
    assert csv_error(p, target="label") == (
        f"{p}: target column 'label' not found; columns: 'x1', 'x2', 'y'"
    )


def test_target_index_out_of_range(tmp_path: Path) -> None:
    p = write(tmp_path, "1,2,0\n")
    assert csv_error(p, target=3) == (
        f"{p}: target index 3 is out of range for 3 columns (valid: -3..2)"
    )


def test_target_name_requires_header(tmp_path: Path) -> None:
    p = write(tmp_path, "1,2,0\n")
    with pytest.raises(ValidationError, match="header=False"):
        load_csv(p, target="label", header=False)


def test_numeric_labels_sorted_numerically_and_decoded(tmp_path: Path) -> None:
    p = write(tmp_path, "a,y\n1,10\n2,2\n3,10\n4,-1\n")
    ds = load_csv(p)
    assert ds.classes == ["-1", "2", "10"]
    assert ds.y.tolist() == [2, 1, 2, 0]
    assert ds.decode(ds.y).tolist() == ["10", "2", "10", "-1"]


def test_integer_valued_floats_are_classes(tmp_path: Path) -> None:
    ds = load_csv(write(tmp_path, "a,y\n1,1.0\n2,0.0\n"))
    assert ds.task == "classification" and ds.classes == ["0", "1"]


def test_float_target_is_regression(tmp_path: Path) -> None:
    ds = load_csv(write(tmp_path, "a,y\n1,0.5\n2,1.25\n"))
    assert ds.task == "regression" and ds.classes is None
    assert ds.y.dtype == np.float64 and ds.y.tolist() == [0.5, 1.25]
    with pytest.raises(ValidationError, match="regression"):
        ds.decode([0])


def test_many_distinct_integers_are_regression(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i * 1000}\n" for i in range(150))
    ds = load_csv(write(tmp_path, "a,price\n" + rows))
    assert ds.task == "regression"


def test_task_forced(tmp_path: Path) -> None:
    p = write(tmp_path, "a,y\n1,0\n2,1\n3,1\n")
    ds = load_csv(p, task="regression")
    assert ds.task == "regression" and ds.y.dtype == np.float64 and ds.y.tolist() == [0, 1, 1]
    p = write(tmp_path, "a,y\n1,0.5\n2,0.25\n3,0.5\n", "f.csv")
    ds = load_csv(p, task="classification")
    assert ds.classes == ["0.25", "0.5"] and ds.y.tolist() == [1, 0, 1]
    with pytest.raises(ValidationError, match="task must be one of"):
        load_csv(p, task="clustering")  # type: ignore[arg-type]


def test_regression_target_must_be_numeric(tmp_path: Path) -> None:
    p = write(tmp_path, "a,y\n1,0.5\n2,abc\n")
    assert csv_error(p, task="regression") == (
        f"{p}, line 3, column 'y': expected a number, got 'abc'"
    )


def test_auto_task_catches_typo_in_numeric_target(tmp_path: Path) -> None:
    p = write(tmp_path, "a,y\n1,0.5\n2,1.5\n3,1.5x\n")
    message = csv_error(p)
    assert message.startswith(f"{p}, line 4, column 'y': expected a number like the other")
    assert "'1.5x'" in message and "--task classification (task='classification'" in message
    assert "fix that value" in message  # what a command-line user can do
    ds = load_csv(p, task="classification")
    assert ds.classes == ["0.5", "1.5", "1.5x"]


def test_empty_class_label(tmp_path: Path) -> None:
    p = write(tmp_path, "a,y\n1,cat\n2,\n")
    assert csv_error(p) == (
        f"{p}, line 3, column 'y': expected a class label, got '', which is empty; "
        "fill in the label or remove the row"
    )


# ---------------------------------------------------------------------------- errors


def test_error_non_number_names_file_line_column(tmp_path: Path) -> None:
    lines = ["x1,x2,y"] + [f"{i},{i},0" for i in range(15)] + ["1,abc,1"]
    p = write(tmp_path, "\n".join(lines) + "\n")
    assert csv_error(p) == f"{p}, line 17, column 'x2': expected a number, got 'abc'" + TEXT_HINT


def test_error_without_header_uses_column_position(tmp_path: Path) -> None:
    p = write(tmp_path, "1,2,0\n3,oops,1\n")
    assert csv_error(p) == (
        f"{p}, line 2, column 2 (index 1): expected a number, got 'oops'" + TEXT_HINT
    )


def test_error_empty_field(tmp_path: Path) -> None:
    p = write(tmp_path, "a,b,y\n1,,0\n")
    assert csv_error(p) == f"{p}, line 2, column 'b': expected a number, got ''" + MISSING_HINT


def test_error_first_row_missing_value_is_not_taken_for_header(tmp_path: Path) -> None:
    p = write(tmp_path, "1,,0\n3,4,1\n")
    assert csv_error(p) == (
        f"{p}, line 1, column 2 (index 1): expected a number, got ''" + MISSING_HINT
    )


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf"])
def test_error_not_finite_feature(tmp_path: Path, value: str) -> None:
    p = write(tmp_path, f"x1,x2,y\n1,2,0\n{value},2,1\n")
    assert csv_error(p) == f"{p}, line 3, column 'x1': value is not finite ({value})"


def test_error_not_finite_target(tmp_path: Path) -> None:
    p = write(tmp_path, "x1,y\n1,0.5\n2,nan\n")
    assert csv_error(p) == f"{p}, line 3, column 'y': value is not finite (nan)"


def test_error_ragged_row(tmp_path: Path) -> None:
    p = write(tmp_path, "a,b,c,y\n1,2,3,0\n1,2,3,0\n1,2,3,0\n1,2,3\n")
    assert csv_error(p) == f"{p}, line 5 has 3 fields, expected 4"
    p = write(tmp_path, "a,b,y\n1,2,0,9\n", "long.csv")
    assert csv_error(p) == f"{p}, line 2 has 4 fields, expected 3"


@pytest.mark.parametrize("text", ["", "\n\n", "   \n\t\n", "\ufeff"])
def test_error_empty_file(tmp_path: Path, text: str) -> None:
    p = write(tmp_path, text)
    assert csv_error(p) == f"{p} is empty: no lines with data"


def test_error_header_only(tmp_path: Path) -> None:
    p = write(tmp_path, "x1,x2,y\n")
    assert csv_error(p) == f"{p} has a header (line 1) but no data rows"


def test_error_single_column(tmp_path: Path) -> None:
    p = write(tmp_path, "1|2|0\n3|4|1\n")
    assert csv_error(p) == (
        f"{p}, line 1 has 1 field where a data set needs at least 2 columns, features and a "
        "target: separate fields with ',', ';' or tabs, the separators recognised (--delimiter "
        "on the command line, delimiter= in Python, takes another)"
    )
    assert csv_error(p, delimiter=";").endswith(": is the delimiter ';' the file's separator?")
    assert load_csv(p, delimiter="|").X.shape == (2, 2)


def test_error_too_many_columns(tmp_path: Path) -> None:
    p = write(tmp_path, ",".join(["1"] * 7) + "\n")
    assert csv_error(p, max_columns=6) == (
        f"{p}, line 1 has 7 fields; at most 6 columns are supported "
        "(in Python, load_csv's max_columns= raises the limit)"
    )


def test_error_line_too_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files_module, "MAX_LINE_CHARS", 50)
    p = write(tmp_path, "a,y\n" + "1" * 60 + ",0\n")
    assert csv_error(p) == f"{p}, line 2 is longer than 50 characters; is this a CSV file?"
    ok = write(tmp_path, "a,y\n" + "1" * 47 + ",0\n", "ok.csv")  # 49 characters + newline
    assert load_csv(ok).X.shape == (1, 1)


def test_error_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    message = csv_error(missing)
    assert message.startswith(f"cannot read {missing}:") and "No such file" in message
    message = csv_error(tmp_path)
    assert message.startswith(f"cannot read {tmp_path}:")


def test_error_not_utf8(tmp_path: Path) -> None:
    p = write(tmp_path, "a,caf\u00e9\n1,2\n", encoding="latin-1")
    message = csv_error(p)
    assert message.startswith(f"{p} is not UTF-8 text")


def test_error_duplicate_column_names(tmp_path: Path) -> None:
    p = write(tmp_path, "a,b,a,y\n1,2,3,0\n")
    assert csv_error(p) == (
        f"{p}, line 1: column name 'a' appears twice (columns 1 and 3, indices 0 and 2); "
        "names must be unique"
    )


def test_a_blank_header_is_named_apart_from_the_given_names(tmp_path: Path) -> None:
    """A blank header is "column J"; beside a column really named that, it is no duplicate."""
    p = write(tmp_path, "a,,column 2,y\n1,2,3,0\n4,5,6,1\n")
    data = load_csv(p)
    assert data.feature_names == ["a", "unnamed column 2", "column 2"]
    np.testing.assert_array_equal(data.X, [[1, 2, 3], [4, 5, 6]])
    p = write(tmp_path, "a,,b,y\n1,2,3,0\n4,5,6,1\n")
    assert load_csv(p).feature_names == ["a", "column 2", "b"]


def test_error_malformed_quotes(tmp_path: Path) -> None:
    p = write(tmp_path, 'a,b,y\n1,2,0\n1,"2"x,1\n')
    message = csv_error(p, delimiter=",")
    assert message.startswith(f"{p}, line 3: malformed CSV")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"header": "yes"}, "header must be True, False or 'auto'"),
        ({"delimiter": ";;"}, "delimiter must be a single character"),
        ({"target": 1.5}, "target must be a column index (int) or name (str)"),
        ({"target": True}, "target must be a column index (int) or name (str)"),
        ({"max_columns": 1}, "max_columns must be an integer >= 2"),
    ],
)
def test_argument_errors(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    p = write(tmp_path, "1,2,0\n")
    with pytest.raises(ValidationError) as info:
        load_csv(p, **kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


# ---------------------------------------------------------------------------- saving


def test_save_load_round_trip_with_classes(tmp_path: Path) -> None:
    X = np.array([[0.1, 1e-300], [np.pi, -2.5e10], [1 / 3, 0.0]])
    y = np.array([2, 0, 1])
    p = tmp_path / "out.csv"
    save_csv(
        p,
        X,
        y,
        feature_names=["alpha", "beta"],
        target_name="kind",
        classes=["setosa", "versicolor", "virginica"],
    )
    ds = load_csv(p)
    assert np.array_equal(ds.X, X)
    assert ds.feature_names == ["alpha", "beta"] and ds.target_name == "kind"
    assert ds.decode(ds.y).tolist() == ["virginica", "setosa", "versicolor"]


def test_save_load_regression_without_header(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    p = tmp_path / "r.csv"
    save_csv(p, X, y, header=False, delimiter=";")
    ds = load_csv(p, header=False, task="regression")
    assert np.array_equal(ds.X, X) and np.array_equal(ds.y, y)


def test_save_is_atomic_and_replaces(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("old")
    save_csv(p, np.ones((2, 1)), np.array([0, 1]))
    assert load_csv(p).X.shape == (2, 1)
    assert sorted(os.listdir(tmp_path)) == ["d.csv"]
    before = p.read_bytes()
    with pytest.raises(ValidationError, match="must be finite"):
        save_csv(p, np.array([[np.nan]]), np.array([0]))
    assert p.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["d.csv"]


def test_save_interrupted_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "d.csv"
    p.write_text("old")

    class Boom(Exception):
        pass

    def failing_writer(*args: object, **kwargs: object) -> object:
        raise Boom

    monkeypatch.setattr(files_module.csv, "writer", failing_writer)
    with pytest.raises(Boom):
        save_csv(p, np.ones((2, 1)), np.array([0, 1]))
    assert p.read_text() == "old" and sorted(os.listdir(tmp_path)) == ["d.csv"]


def test_save_errors(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    with pytest.raises(ValidationError, match="X must be a 2-D numeric array"):
        save_csv(p, np.ones(3), np.ones(3))
    with pytest.raises(ValidationError, match=r"y must have shape \(2,\)"):
        save_csv(p, np.ones((2, 1)), np.ones(3))
    with pytest.raises(ValidationError, match="feature_names has 2 names for 1 columns"):
        save_csv(p, np.ones((2, 1)), np.ones(2), feature_names=["a", "b"])
    with pytest.raises(ValidationError, match="unique"):
        save_csv(p, np.ones((2, 1)), np.ones(2), feature_names=["y"])
    with pytest.raises(ValidationError, match=r"integer codes in 0\.\.1"):
        save_csv(p, np.ones((2, 1)), np.array([0, 2]), classes=["a", "b"])
    with pytest.raises(DataError, match="cannot write"):
        save_csv(tmp_path / "no" / "dir.csv", np.ones((2, 1)), np.array([0, 1]))
    assert not p.exists()


labels = st.sampled_from(["a", "b", "c d", "é", "x,y", '"q"'])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    X=st.integers(1, 12).flatmap(
        lambda n: st.lists(
            st.lists(
                st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=2, max_size=2
            ),
            min_size=n,
            max_size=n,
        )
    ),
    data=st.data(),
)
def test_round_trip_property(tmp_path: Path, X: list[list[float]], data: st.DataObject) -> None:
    X_arr = np.array(X, dtype=np.float64)
    y_text = data.draw(st.lists(labels, min_size=len(X), max_size=len(X)))
    classes = sorted(set(y_text))
    codes = np.array([classes.index(t) for t in y_text])
    p = tmp_path / "prop.csv"
    save_csv(p, X_arr, codes, classes=classes, feature_names=["f1", "f2"], target_name="t")
    ds = load_csv(p, task="classification")
    assert np.array_equal(ds.X, X_arr)
    assert ds.decode(ds.y).tolist() == y_text


# ---------------------------------------------------------------------------- npz


def test_npz_integer_labels(tmp_path: Path) -> None:
    p = tmp_path / "d.npz"
    np.savez(p, X=np.arange(6).reshape(3, 2), y=np.array([1, 0, 1]))
    ds = load_npz(p)
    assert ds.X.dtype == np.float64 and ds.X.shape == (3, 2)
    assert ds.task == "classification" and ds.classes == ["0", "1"] and ds.y.tolist() == [1, 0, 1]
    assert ds.feature_names == ["x1", "x2"] and ds.name == "d.npz"


def test_npz_with_names_and_classes(tmp_path: Path) -> None:
    p = tmp_path / "d.npz"
    np.savez_compressed(
        p,
        X=np.ones((2, 2)),
        y=np.array([0, 2]),
        feature_names=np.array(["w", "h"]),
        target_name=np.array("kind"),
        classes=np.array(["cat", "dog", "eel"]),
    )
    ds = load_npz(p)
    assert ds.feature_names == ["w", "h"] and ds.target_name == "kind"
    assert ds.decode(ds.y).tolist() == ["cat", "eel"]


def test_npz_float_and_string_targets(tmp_path: Path) -> None:
    p = tmp_path / "r.npz"
    np.savez(p, X=np.ones((3, 1)), y=np.array([0.5, 1.5, 2.0]))
    ds = load_npz(p)
    assert ds.task == "regression" and ds.y.tolist() == [0.5, 1.5, 2.0]
    np.savez(p, X=np.ones((3, 1)), y=np.array(["b", "a", "b"]))
    ds = load_npz(p)
    assert ds.classes == ["a", "b"] and ds.y.tolist() == [1, 0, 1]
    with pytest.raises(DataError, match="task='regression' needs numeric y"):
        load_npz(p, task="regression")


def test_npz_errors(tmp_path: Path) -> None:
    p = tmp_path / "d.npz"
    np.savez(p, features=np.ones((2, 2)), y=np.ones(2))
    with pytest.raises(DataError) as info:
        load_npz(p)
    assert str(info.value) == f"{p} has no array 'X'; arrays present: 'features', 'y'"

    np.savez(p, X=np.ones((2, 2)), y=np.ones(3))
    with pytest.raises(DataError, match=r"y must have shape \(2,\) to match X; got \(3,\)"):
        load_npz(p)

    np.savez(p, X=np.array([[1.0, np.inf]]), y=np.ones(1))
    with pytest.raises(DataError, match=r"X\[0, 1\] is not finite \(inf\)"):
        load_npz(p)

    np.savez(p, X=np.ones(3), y=np.ones(3))
    with pytest.raises(DataError, match="X must be a 2-D numeric array"):
        load_npz(p)

    np.savez(p, X=np.ones((2, 2)), y=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(DataError, match="holds Python objects, which are never unpickled"):
        load_npz(p)

    np.savez(p, X=np.ones((100, 100)), y=np.ones(100))
    with pytest.raises(DataError, match="more than the 1000-byte limit"):
        load_npz(p, max_bytes=1000)

    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file at all")
    with pytest.raises(DataError, match=r"is not a readable \.npz file"):
        load_npz(bad)

    single = tmp_path / "single.npy"
    np.save(single, np.ones(3))
    with pytest.raises(DataError, match=r"single \.npy array"):
        load_npz(single)

    with pytest.raises(DataError, match="cannot read"):
        load_npz(tmp_path / "missing.npz")


@pytest.mark.parametrize(
    "content", [b"PK\x03\x04" + bytes(60), b"PK\x05\x06" + bytes(18), b"not a zip file"]
)
def test_a_damaged_npz_leaves_no_file_open(tmp_path: Path, content: bytes) -> None:
    """The error is kept (with its traceback, as a caller logging it would) while the open
    files are listed: np.load's own handle on a damaged zip would still be open."""
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_npz(damaged)
    assert info.traceback  # alive during the check
    assert str(damaged) not in [f.path for f in psutil.Process().open_files()]


def test_npz_round_trip_of_dataset_fields(tmp_path: Path) -> None:
    ds = Dataset(
        np.eye(3),
        np.array([2, 1, 0]),
        ["a", "b", "c"],
        "t",
        ["u", "v", "w"],
        "classification",
        "orig",
    )
    p = tmp_path / "ds.npz"
    np.savez(
        p,
        X=ds.X,
        y=ds.y,
        feature_names=np.array(ds.feature_names),
        target_name=np.array(ds.target_name),
        classes=np.array(ds.classes),
    )
    back = load_npz(p)
    assert np.array_equal(back.X, ds.X) and np.array_equal(back.y, ds.y)
    assert back.classes == ds.classes and back.feature_names == ds.feature_names


# ---------------------------------------------------------------------------- Dataset


def test_dataset_validation_and_decode_errors() -> None:
    with pytest.raises(ValidationError, match="X must be 2-D"):
        Dataset(np.ones(3), np.ones(3), [], "y", None, "regression")
    with pytest.raises(ValidationError, match=r"y must have shape \(2,\)"):
        Dataset(np.ones((2, 1)), np.ones(3), ["a"], "y", None, "regression")
    with pytest.raises(ValidationError, match="feature_names has 2 names for 1 columns"):
        Dataset(np.ones((2, 1)), np.ones(2), ["a", "b"], "y", None, "regression")
    with pytest.raises(ValidationError, match="classes is required"):
        Dataset(np.ones((2, 1)), np.array([0, 1]), ["a"], "y", None, "classification")
    with pytest.raises(ValidationError, match=r"codes must be in 0..1; got 0..2"):
        Dataset(np.ones((2, 1)), np.array([0, 2]), ["a"], "y", ["p", "q"], "classification")
    with pytest.raises(ValidationError, match="integer class codes"):
        Dataset(np.ones((2, 1)), np.array([0.5, 1]), ["a"], "y", ["p", "q"], "classification")
    with pytest.raises(ValidationError, match="task must be"):
        Dataset(np.ones((2, 1)), np.ones(2), ["a"], "y", None, "ranking")  # type: ignore[arg-type]
    ds = Dataset(np.ones((2, 1)), np.array([0, 1]), ["a"], "y", ["p", "q"], "classification")
    assert ds.n_samples == 2 and ds.n_features == 1 and ds.n_classes == 2
    assert ds.decode(np.array([[1, 0]])).tolist() == [["q", "p"]]
    assert ds.decode([1.0]).tolist() == ["q"]
    assert ds.decode(np.array([], dtype=np.int64)).shape == (0,)
    with pytest.raises(ValidationError, match=r"class codes must be in 0..1; got 0..5"):
        ds.decode([0, 5])
    with pytest.raises(ValidationError, match="integer class codes"):
        ds.decode([0.5])


# ---------------------------------------------------------------------------- features only


def test_features_only_reads_every_column(tmp_path: Path) -> None:
    from chainrule.datasets import Features

    named = load_csv(write(tmp_path, "a,b\n1,2\n3,4\n", "n.csv"), target=None)
    assert isinstance(named, Features) and not hasattr(named, "y")
    assert named.X.tolist() == [[1.0, 2.0], [3.0, 4.0]] and named.feature_names == ["a", "b"]
    plain = load_csv(write(tmp_path, "0.5\n1.5\n", "one.csv"), target=None)  # one column is fine
    assert plain.X.tolist() == [[0.5], [1.5]] and plain.feature_names == ["x1"]
    bad = write(tmp_path, "x\n0.5\nabc\n", "bad.csv")
    assert csv_error(bad, target=None) == (
        f"{bad}, line 3, column 'x': expected a number, got 'abc'" + TEXT_HINT
    )


def test_columns_not_read_may_hold_anything(tmp_path: Path) -> None:
    p = write(tmp_path, "a,label,b\n1,,2\n3,never seen,4\n")
    picked = load_csv(p, target=None, columns=["b", "a"])
    assert picked.X.tolist() == [[2.0, 1.0], [4.0, 3.0]] and picked.feature_names == ["b", "a"]
    headerless = write(tmp_path, "1,2,\n3,4,cat\n", "plain.csv")  # empty cell, then a label
    assert load_csv(headerless, target=None, columns=[0, 1]).X.tolist() == [[1, 2], [3, 4]]
    ds = load_csv(p, target="b", columns=["a"], task="regression")  # the rest: skipped
    assert ds.X.tolist() == [[1.0], [3.0]] and ds.y.tolist() == [2.0, 4.0]
    with pytest.raises(DataError, match=r"column 3 \(index 2\) is the target"):
        load_csv(p, target=-1, columns=[0, 2])
    with pytest.raises(DataError, match="feature column 'c' not found; columns: 'a', 'label'"):
        load_csv(p, target=None, columns=["c"])
    with pytest.raises(ValidationError, match="columns must be a non-empty list"):
        load_csv(p, target=None, columns=[])


def test_default_names_address_a_file_without_header(tmp_path: Path) -> None:
    p = write(tmp_path, "0.1257,2,0\n0.5,3,1\n0.25,4,0\n")
    by_name = load_csv(p, target="y")
    assert by_name.X.tolist() == load_csv(p).X.tolist()  # line 1 is data, not a header
    assert by_name.feature_names == ["x1", "x2"] and by_name.target_name == "y"
    first = load_csv(p, target="x1", task="regression")
    assert first.y.tolist() == [0.1257, 0.5, 0.25]
    assert first.feature_names == ["x2", "y"] and first.target_name == "x1"
    assert load_csv(p, target="y", header=False).n_samples == 3
    assert csv_error(p, target="label") == (
        f"{p}: no column 'label': line 1 holds data, not a header; the columns of a file "
        "without a header are 'x1', 'x2', 'y', or give a 0-based index"
    )
    # line 1 may be data with a class label, or a header of numbered columns: both said
    labelled = write(tmp_path, "1,2,cat\n3,4,dog\n", "labelled.csv")
    assert csv_error(labelled, target="x3") == (
        f"{labelled}: no column 'x3': read as a header, line 1 names the columns '1', '2', "
        "'cat'; read as data, the columns are 'x1', 'x2', 'y'; or give a 0-based index"
    )
    header = write(tmp_path, "a,b,c\n1,2,0\n", "h.csv")  # a header: its names count
    assert (
        csv_error(header, target="y")
        == f"{header}: target column 'y' not found; columns: 'a', 'b', 'c'"
    )


def test_first_csv_row_splits_as_the_loader(tmp_path: Path) -> None:
    from chainrule.datasets.files import first_csv_row

    assert first_csv_row(write(tmp_path, "\n a ;b;c\n1;2;3\n")) == (["a", "b", "c"], ";")
    assert first_csv_row(write(tmp_path, "a|b\n", "p.csv"), delimiter="|") == (["a", "b"], "|")
    empty = write(tmp_path, "\n\n", "e.csv")
    with pytest.raises(DataError, match="is empty"):
        first_csv_row(empty)


def test_npz_features_only_ignores_y(tmp_path: Path) -> None:
    from chainrule.datasets import Features

    p = tmp_path / "d.npz"
    np.savez(p, X=np.ones((2, 2)), y=np.array([np.nan, 1.0]), feature_names=np.array(["a", "b"]))
    features = load_npz(p, target=None)
    assert isinstance(features, Features) and features.feature_names == ["a", "b"]
    with pytest.raises(DataError, match=r"y\[0\] is not finite"):
        load_npz(p)
    np.savez(tmp_path / "x.npz", X=np.zeros((3, 1)))
    assert load_npz(tmp_path / "x.npz", target=None).X.shape == (3, 1)
    with pytest.raises(DataError, match="has no array 'y'"):
        load_npz(tmp_path / "x.npz")
