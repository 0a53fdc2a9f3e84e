"""Columns matched by name where there are names, and a word where they are taken by position
although one side has names: a model trained on an NPZ file (no names) scoring a CSV file
whose header lists the same features in another order scored them swapped without a word, and
``FittedModel.predict`` read a DataFrame's columns by position whatever their names."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainrule.datasets import load_csv
from chainrule.errors import ValidationError
from chainrule.fit import FittedModel, TrainConfig, fit, read_dataset
from cli_helpers import chainrule

CONFIG = TrainConfig(hidden=(4,), epochs=5, validation_fraction=0.0)
RNG = np.random.default_rng(3)
X = RNG.normal([0.0, 10.0, -5.0], [1.0, 3.0, 0.5], size=(60, 3))
Y = (X[:, 0] > 0).astype(int)
NOTE_NPZ = (
    "note: {owner} features have no names (from an NPZ file or a CSV file without a header), "
    "so the columns of {path} are taken by position, not by their names 'c', 'b', 'a', 'y': "
    "they must be in the training data's order"
)


def write_csv(path: Path, header: list[str] | None, columns: np.ndarray) -> Path:
    lines = [] if header is None else [",".join(header)]
    lines += [",".join(repr(float(v)) for v in row) for row in columns.tolist()]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("columns")
    np.savez(folder / "train.npz", X=X, y=Y)
    fit(read_dataset(folder / "train.npz"), CONFIG).save(folder / "npz.safetensors")
    named = write_csv(folder / "named.csv", ["a", "b", "c", "y"], np.column_stack([X, Y]))
    fit(load_csv(named), CONFIG).save(folder / "named.safetensors")
    return {
        "folder": folder,
        "npz_model": folder / "npz.safetensors",
        "named_model": folder / "named.safetensors",
        "named": named,
        "reordered": write_csv(
            folder / "reordered.csv", ["c", "b", "a", "y"], np.column_stack([X[:, ::-1], Y])
        ),
        "headerless": write_csv(folder / "headerless.csv", None, np.column_stack([X, Y])),
    }


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_model_without_names_notes_a_header_it_does_not_read(files, command: str) -> None:
    result = chainrule(command, files["npz_model"], files["reordered"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"chainrule {command}: " + NOTE_NPZ.format(
        owner="the model's", path=files["reordered"]
    )


def test_validation_data_with_names_for_training_data_without_them_are_noted(files) -> None:
    result = chainrule(
        "train", files["folder"] / "train.npz", "--epochs", "1", "--hidden", "2",
        "--validation-data", files["reordered"],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "chainrule train: " + NOTE_NPZ.format(
        owner="the training data's", path=files["reordered"]
    )


def test_a_model_with_names_notes_a_file_without_a_header(files) -> None:
    result = chainrule("predict", files["named_model"], files["headerless"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == (
        f"chainrule predict: note: {files['headerless']} has no header, so its columns are "
        "taken by position as the model's features 'a', 'b', 'c', in this order"
    )


@pytest.mark.parametrize(
    ("model", "data"),
    [("named_model", "reordered"), ("named_model", "named"), ("npz_model", "headerless")],
)
def test_no_note_where_columns_are_matched_by_name_or_neither_has_names(
    files, model: str, data: str
) -> None:
    result = chainrule("evaluate", files[model], files[data])
    assert result.returncode == 0 and result.stderr == ""


def test_predict_picks_a_frames_columns_by_name(files) -> None:
    """The same features in another order, and the target beside them: by name, the model
    predicts as on the array in its own column order."""
    model = FittedModel.load(files["named_model"])
    expected = model.predict_proba(X)
    frame = pd.DataFrame({"y": Y, "c": X[:, 2], "a": X[:, 0], "b": X[:, 1]})
    np.testing.assert_array_equal(model.predict_proba(frame), expected)
    np.testing.assert_array_equal(model.predict(frame), model.predict(X))
    with pytest.raises(ValidationError, match=r"X has no column 'b'; the model was trained on "):
        model.predict(frame.drop(columns="b"))


def test_a_frame_with_names_for_a_model_without_them_warns(files) -> None:
    """As scikit-learn warns ("X has feature names, but ... was fitted without")."""
    model = FittedModel.load(files["npz_model"])
    frame = pd.DataFrame(X[:, ::-1], columns=["c", "b", "a"])
    with pytest.warns(
        UserWarning, match=r"without feature names, so X's columns 'c', 'b', 'a'"
    ) as caught:
        model.predict(frame)
    assert caught[0].filename == __file__  # points at the caller, not into chainrule
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(pd.DataFrame(X))  # numbered columns are no names: no warning


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (X[0], r"X must be 2-D, one row per sample of 3 features; got shape \(3,\) \(one sample"),
        (np.ones((2, 2, 3)), r"X must be 2-D, one row per sample of 3 features; got shape \(2, 2"),
        ([["1", "2", "x"]], r"X must be a table of numbers, one row per sample: could not "),
        ([[1.0, 2.0], [1.0, 2.0, 3.0]], r"X must be a table of numbers, one row per sample: "),
    ],
    ids=["one-sample", "3-D", "text", "ragged"],
)
def test_predict_names_what_is_wrong_with_x(files, X, message: str) -> None:
    """A 1-D sample read "the data have shape (3,) features"; text ended in numpy's bare
    ValueError instead of chainrule's ValidationError."""
    model = FittedModel.load(files["npz_model"])
    with pytest.raises(ValidationError, match=message):
        model.predict(X)


def test_a_frame_missing_a_feature_is_named_plainly_and_one_feature_is_singular(files) -> None:
    """The missing column's message is not wrapped in "X must be a table of numbers", and a
    frame of one feature for a model of more says "1 feature"."""
    model = FittedModel.load(files["named_model"])
    names = model.named_features()
    assert names is not None and len(names) > 1
    frame = pd.DataFrame({name: [0.0, 1.0] for name in names[1:]})
    with pytest.raises(ValidationError) as err:
        model.predict(frame)
    assert str(err.value).startswith(f"X has no column {names[0]!r}; the model was trained on")
    with pytest.raises(ValidationError) as err:
        model.predict(np.zeros((2, 1)))
    assert str(err.value) == f"the data have 1 feature but the model expects {len(names)}"


def test_a_frame_read_by_pandas_finds_the_index_column_training_named_column_1(
    tmp_path: Path,
) -> None:
    """``to_csv`` writes the index under a blank header field, which training names
    ``column 1`` and ``pd.read_csv`` names ``Unnamed: 0``: the same file read by pandas must
    predict as the file itself does (it was "X has no column 'column 1'")."""
    frame = pd.DataFrame(RNG.normal(size=(40, 2)), columns=["a", "b"])
    frame["y"] = (frame["a"] > 0).astype(int)
    frame.to_csv(tmp_path / "indexed.csv")
    model = fit(load_csv(tmp_path / "indexed.csv"), CONFIG)
    assert model.feature_names == ["column 1", "a", "b"]
    read = pd.read_csv(tmp_path / "indexed.csv")
    expected = model.predict(read[["Unnamed: 0", "a", "b"]].to_numpy())
    np.testing.assert_array_equal(model.predict(read), expected)


def test_a_missing_column_message_does_not_list_the_blank_index_column(tmp_path: Path) -> None:
    """The model's ``column 1`` (pandas' index, a blank header field) is in a file written
    the same way; only the really missing feature is named."""
    frame = pd.DataFrame(RNG.normal(size=(40, 2)), columns=["a", "b"])
    frame["y"] = (frame["a"] > 0).astype(int)
    frame.to_csv(tmp_path / "train.csv")
    fit(load_csv(tmp_path / "train.csv"), CONFIG).save(tmp_path / "m.safetensors")
    frame.rename(columns={"b": "c"}).to_csv(tmp_path / "renamed.csv")
    result = chainrule("evaluate", tmp_path / "m.safetensors", tmp_path / "renamed.csv")
    assert result.returncode == 2
    assert f"{tmp_path / 'renamed.csv'} has no column 'b'; the model" in result.stderr


def test_the_note_reads_a_path_under_home_as_the_readers_do(
    files, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The readers expand ``~``; the note did not, and stayed silent for ``~/file.csv``."""
    from chainrule.cli.common import note_columns_by_position

    monkeypatch.setenv("HOME", str(files["headerless"].parent))
    note_columns_by_position(["a", "b", "c"], "~/headerless.csv", None, "predict", "the model's")
    assert capsys.readouterr().err == (
        "chainrule predict: note: ~/headerless.csv has no header, so its columns are taken by "
        "position as the model's features 'a', 'b', 'c', in this order\n"
    )
