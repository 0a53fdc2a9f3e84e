"""Class labels keep their type: a model trained in Python on the labels 3 and 7 (or on
booleans, or 0.5 and 2.0) predicts 3 and 7 also after a trip through its model file, as
scikit-learn's ``classes_`` keep the labels' type; labels read from files match them by text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.preprocessing import LabelEncoder

from chainrule.datasets import Dataset, load_csv
from chainrule.engine.network import Network
from chainrule.errors import DataError, ValidationError
from chainrule.fit import FittedModel, TrainConfig, fit, read_for_model
from cli_helpers import chainrule

CONFIG = TrainConfig(hidden=(4,), epochs=3, validation_fraction=0.0)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 2))
SIDE = (X[:, 0] > 0).astype(np.int64)


@pytest.mark.parametrize(
    "labels",
    [np.array([3, 7]), np.array([False, True]), np.array([0.5, 2.0]), np.array(["no", "yes"])],
    ids=["int", "bool", "float", "str"],
)
def test_predict_returns_labels_of_their_type_after_a_model_file(tmp_path: Path, labels) -> None:
    """The model file held the typed labels, but loading made text of them: "3", "7"."""
    y = labels[SIDE]
    encoder = LabelEncoder().fit(y)  # scikit-learn's classes_: the labels as given
    data = Dataset(
        X, encoder.transform(y), ["a", "b"], "y", list(encoder.classes_), "classification"
    )
    trained = fit(data, CONFIG)
    trained.save(tmp_path / "m.safetensors")
    loaded = FittedModel.load(tmp_path / "m.safetensors")
    codes = loaded.predict_codes(X)
    for model in (trained, loaded):
        predicted = model.predict(X)
        assert predicted.dtype == encoder.classes_.dtype
        np.testing.assert_array_equal(predicted, encoder.inverse_transform(codes))


def test_text_class_labels_of_old_model_files_still_load_as_text(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        "a,b,y\n" + "".join(f"{a!r},{b!r},{s}\n" for (a, b), s in zip(X.tolist(), SIDE))
    )
    model = fit(load_csv(path), CONFIG)
    model.save(tmp_path / "m.safetensors")
    loaded = FittedModel.load(tmp_path / "m.safetensors")
    assert loaded.classes == loaded.labels == ["0", "1"]
    assert loaded.predict(X).dtype.kind == "U"


def _int_label_model(tmp_path: Path) -> tuple[Path, Path, FittedModel]:
    """A model trained in Python on the labels 3 and 7, and a CSV file of the same rows."""
    data = Dataset(X, SIDE, ["a", "b"], "y", [3, 7], "classification")
    model = fit(data, CONFIG)
    model.save(tmp_path / "m.safetensors")
    csv = tmp_path / "rows.csv"
    csv.write_text(
        "a,b,y\n" + "".join(f"{a!r},{b!r},{(3, 7)[s]}\n" for (a, b), s in zip(X.tolist(), SIDE))
    )
    return tmp_path / "m.safetensors", csv, model


def test_labels_read_from_a_file_match_typed_labels(tmp_path: Path) -> None:
    """The in-memory model had the classes [3, 7]: reading a CSV for it raised TypeError
    (", ".join of ints), and "3" from the file is no 3."""
    _, csv, model = _int_label_model(tmp_path)
    _, y = read_for_model(model, csv, need_target=True)
    np.testing.assert_array_equal(y, SIDE)


def test_validation_labels_are_matched_by_text(tmp_path: Path) -> None:
    """Training labels 3 and 7 given in Python, validation labels "3" and "7" from a file:
    validation data with an unseen label raised TypeError instead of naming it."""
    _, csv, _ = _int_label_model(tmp_path)
    data = Dataset(X, SIDE, ["a", "b"], "y", [3, 7], "classification")
    scored = fit(data, CONFIG, validation_data=load_csv(csv))
    assert scored.history.epochs[-1]["val_accuracy"] == pytest.approx(
        np.mean(scored.predict(X) == np.array([3, 7])[SIDE])
    )
    other = Dataset(X[:3], np.array([0, 1, 2]), ["a", "b"], "y", [3, 7, 9], "classification")
    with pytest.raises(
        DataError, match=r"has class '9', not seen in training \(training classes: 3, 7\)"
    ):
        fit(data, CONFIG, validation_data=other)


def test_cli_writes_integer_labels_as_the_data_spell_them(tmp_path: Path) -> None:
    """Typed labels came back from predict as 3 and 7, which the CSV output wrote as 3.0."""
    model_path, csv, model = _int_label_model(tmp_path)
    result = chainrule("predict", model_path, csv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["prediction", *map(str, model.predict(X).tolist())]
    scored = chainrule("evaluate", model_path, csv)
    assert scored.returncode == 0, scored.stderr


def test_classes_that_are_not_the_labels_text_are_refused() -> None:
    """``replace(model, classes=[...])`` kept predicting the old labels without a word."""
    model = FittedModel(Network([2, 2], ["softmax"], seed=0), "classification", classes=[3, 7])
    assert (model.classes, model.labels) == (["3", "7"], [3, 7])
    with pytest.raises(ValidationError, match=r"classes \['a', 'b'\] are not the text of labels"):
        replace(model, classes=["a", "b"])
    assert replace(model, classes=["a", "b"], labels=None).predict(X[:4]).dtype.kind == "U"
