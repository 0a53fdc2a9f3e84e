"""What a practitioner passes as a path or as class labels.

``None`` (a config entry left empty), a number or an open file object as the path failed with a
bare ``TypeError`` from ``open`` (and ``read_safetensors(3)`` read file descriptor 3). pandas'
``Index``, ``Series`` and arrays (``df["label"].unique()`` of a string column is a
``StringArray``) were refused as class labels although a numpy array of the same labels passes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainrule.engine import Network
from chainrule.errors import ValidationError
from chainrule.serialization import load_model, read_safetensors, save_model, write_safetensors
from chainrule.serialization.onnx_export import export_onnx

NET = Network([3, 4, 2], ["tanh", "softmax"], seed=0)


def save(path: object, classes: object = None) -> None:
    save_model(
        path,  # type: ignore[arg-type]
        weights=NET.weights,
        activations=NET.activations,
        loss="cross_entropy",
        classes=classes,  # type: ignore[arg-type]
        task="classification",
    )


NOT_PATHS = {"None": None, "int": 3, "float": 1.5, "list": ["m.safetensors"]}


@pytest.mark.parametrize("path", NOT_PATHS.values(), ids=NOT_PATHS.keys())
def test_what_is_no_path_is_refused_by_every_reader_and_writer(tmp_path, monkeypatch, path):
    monkeypatch.chdir(tmp_path)
    message = r"path must be a file path \(a str or pathlib\.Path\); got "
    with pytest.raises(ValidationError, match=message):
        save(path)
    with pytest.raises(ValidationError, match=message):
        load_model(path)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=message):
        write_safetensors(path, {"a": np.ones(2)})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=message):
        read_safetensors(path)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=message):
        export_onnx(NET, path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_an_open_file_is_no_path(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    save(path)
    with open(path, "rb") as f, pytest.raises(ValidationError, match=r"got <_io\.BufferedReader"):
        load_model(f)  # type: ignore[arg-type]


def test_bytes_and_path_objects_are_paths(tmp_path) -> None:
    path = tmp_path / "m ü.safetensors"
    save(bytes(path))
    assert load_model(path).sizes == (3, 4, 2)
    assert load_model(bytes(path)).sizes == (3, 4, 2)


PANDAS_LABELS = {
    "Index": lambda: pd.Index(["cat", "dog"]),
    "Series": lambda: pd.Series([7, 3], index=[10, 20]),
    "StringArray-from-unique": lambda: pd.Series(["cat", "dog", "cat"], dtype="string").unique(),
    "Categorical": lambda: pd.Categorical(["dog", "cat"], categories=["dog", "cat"]),
    "nullable-Int64": lambda: pd.array([0, 1], dtype="Int64"),
    "bool": lambda: pd.array([False, True], dtype="boolean"),
}


@pytest.mark.parametrize("make", PANDAS_LABELS.values(), ids=PANDAS_LABELS.keys())
def test_pandas_labels_are_saved_in_their_order(tmp_path, make) -> None:
    labels = make()
    path = tmp_path / "m.safetensors"
    save(path, labels)
    assert load_model(path).classes == tuple(list(labels))  # pandas' own order and values


def test_pandas_labels_are_checked_as_a_list_is(tmp_path) -> None:
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValidationError, match="classes must be distinct"):
        save(path, pd.Series(["a", "a"]))
    with pytest.raises(ValidationError, match=r"classes\[1\] must be"):
        save(path, pd.array([0, None], dtype="Int64"))
    with pytest.raises(ValidationError, match=r"classes must be 1-D; got an array of shape"):
        save(path, pd.DataFrame({"a": [0, 1]}))
    with pytest.raises(ValidationError, match="classes must be a list of labels or None"):
        save(path, {"a", "b"})  # a set has no order
    assert list(tmp_path.iterdir()) == []
