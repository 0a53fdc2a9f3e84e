"""Data as users bring them, through ``chainrule train``/``predict`` and their readers: a CSV
file written by pandas' ``to_csv`` with its index column (a blank header field), a 99:1
class imbalance, and class codes too many for ``--task auto`` to read as classes. Each must
read back the same way it was trained on, or be named in a note on standard error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier

from chainrule.cli.train import data_notes
from chainrule.fit import FittedModel, TrainConfig, fit, read_dataset, read_for_model
from chainrule.sources import read_like
from cli_helpers import chainrule

CONFIG = TrainConfig(hidden=(4,), epochs=1, validation_fraction=0.0)


def _frame(n: int, seed: int, **options: object) -> pd.DataFrame:
    """``n`` rows of make_classification's features f0..f3 and a ``label`` column."""
    X, y = make_classification(n_samples=n, n_features=4, random_state=seed, **options)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)])
    frame["label"] = np.where(y == 1, "yes", "no")
    return frame


def _pandas_csv(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    """``frame`` written as pandas writes it by default: with its index as a blank-named
    first column (the rows repeated, as after ``pd.concat``, so the index repeats too)."""
    path = folder / name
    pd.concat([frame, frame.iloc[:10]]).to_csv(path)
    return path


def test_a_model_predicts_on_the_file_with_a_blank_column_name_it_was_trained_on(
    tmp_path: Path,
) -> None:
    """Training named the blank header field 'column 1'; predict looked for that name in the
    raw header (''), found none and refused the very file the model was trained on."""
    path = _pandas_csv(tmp_path, "train.csv", _frame(60, 0))
    model = fit(read_dataset(path), CONFIG)
    model.save(tmp_path / "m.safetensors")
    # the reference: the file's features by position, as pandas reads them
    features = pd.read_csv(path).drop(columns="label").to_numpy()
    expected = model.predict(features)

    X, y = read_for_model(model, path, need_target=True)
    np.testing.assert_array_equal(X, features)
    assert model.classes is not None
    np.testing.assert_array_equal(np.asarray(model.classes)[y], pd.read_csv(path)["label"])

    result = chainrule("predict", tmp_path / "m.safetensors", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[1:] == list(expected)
    loaded = FittedModel.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict(features), expected)


def test_validation_data_with_a_blank_column_name_match_the_training_file(
    tmp_path: Path,
) -> None:
    """Both files come from pandas' to_csv, the validation file with its target first and
    named otherwise: its header names every training feature (the blank one included), so the
    one other column is the target, wherever it stands."""
    train = read_dataset(_pandas_csv(tmp_path, "train.csv", _frame(60, 0)))
    frame = _frame(30, 1).rename(columns={"label": "outcome"})
    path = _pandas_csv(tmp_path, "valid.csv", frame[["outcome", "f0", "f1", "f2", "f3"]])
    validation = read_like(train, path)
    expected = pd.read_csv(path).rename(columns={"Unnamed: 0": "column 1"})
    np.testing.assert_array_equal(validation.X, expected[train.feature_names])
    assert validation.classes is not None
    np.testing.assert_array_equal(np.asarray(validation.classes)[validation.y], expected["outcome"])


def test_a_pandas_index_column_read_as_a_feature_is_noted(tmp_path: Path) -> None:
    notes = data_notes(read_dataset(_pandas_csv(tmp_path, "d.csv", _frame(60, 0))), "auto")
    assert any("index=False" in note and "row" in note for note in notes), notes
    clean = tmp_path / "clean.csv"
    _frame(60, 0).to_csv(clean, index=False)
    assert data_notes(read_dataset(clean), "auto") == []


def test_a_dominant_class_is_noted_with_the_accuracy_of_predicting_it(tmp_path: Path) -> None:
    frame = _frame(1000, 0, weights=[0.97])
    path = tmp_path / "rare.csv"
    frame.to_csv(path, index=False)
    X, y = frame.drop(columns="label"), frame["label"]
    baseline = DummyClassifier(strategy="most_frequent").fit(X, y).score(X, y)
    (note,) = data_notes(read_dataset(path), "auto")
    assert f"accuracy {baseline:.4f}" in note and "'no'" in note and "evaluate" in note
    balanced = tmp_path / "balanced.csv"
    _frame(1000, 0, weights=[0.85]).to_csv(balanced, index=False)
    assert data_notes(read_dataset(balanced), "auto") == []


@pytest.mark.parametrize("n_classes", [120, 200])
def test_many_class_codes_read_as_a_quantity_are_noted(tmp_path: Path, n_classes: int) -> None:
    """More than 100 integer codes are a regression target for --task auto, without a word
    before: the user saw an R^2 of 0.1 where classes were meant."""
    X, y = make_classification(
        n_samples=10 * n_classes,
        n_features=8,
        n_informative=8,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    path = tmp_path / "codes.csv"
    pd.DataFrame(X).assign(code=y).to_csv(path, index=False)
    data = read_dataset(path)
    assert data.task == "regression"
    (note,) = data_notes(data, "auto")
    assert f"{len(np.unique(y))} distinct" in note and "--task classification" in note
    assert data_notes(data, "regression") == []  # asked for: no note


def test_whole_number_prices_are_no_class_codes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    prices = np.round(20_000 + 5_000 * X[:, 0] + rng.normal(0, 500, 400))
    path = tmp_path / "prices.csv"
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(price=prices).to_csv(path, index=False)
    assert data_notes(read_dataset(path), "auto") == []


def test_the_notes_go_to_stderr_and_leave_json_clean(tmp_path: Path) -> None:
    path = tmp_path / "rare.csv"
    _frame(300, 0, weights=[0.95]).to_csv(path, index=False)
    result = chainrule(
        "train", path, "--epochs", "1", "--hidden", "4", "--validation-fraction", "0", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["task"] == "classification"
    assert "chainrule train: note:" in result.stderr and "accuracy 0.9" in result.stderr


def test_the_diabetes_scores_are_no_class_codes() -> None:
    """214 whole-number disease scores over 442 patients: a quantity, most values seen once."""
    from sklearn.datasets import load_diabetes

    y = load_diabetes().target
    assert np.all(y == np.round(y)) and np.unique(y).size > 100  # what makes it a close case
    assert data_notes(read_dataset("diabetes"), "auto") == []
