"""Text no encoding holds (lone surrogates) and checkpoints whose training state is not what a
resume reads: ModelFileError (or ValidationError on save) naming the problem, never a
UnicodeEncodeError or TypeError from the standard library, and no file written on save."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors import SafetensorError
from safetensors.numpy import load_file

from chainrule.errors import ModelFileError, ValidationError
from chainrule.serialization import load_model, read_safetensors, save_model
from chainrule.serialization.checkpoint import load_checkpoint

W1 = np.arange(6, dtype=np.float32).reshape(2, 3)
MODEL: dict[str, Any] = {
    "weights": [W1],
    "activations": ["softmax"],
    "loss": "cross_entropy",
    "classes": ["a", "b"],
}


def safetensors_file(path: Path, header: dict[str, Any], data: bytes = b"") -> Path:
    """A safetensors file with this header, serialised by :func:`json.dumps` (which writes a
    lone surrogate as the valid JSON escape ``\\ud800``)."""
    raw = json.dumps(header).encode("ascii")
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_a_lone_surrogate_in_a_tensor_name_is_refused_as_by_the_reference_reader(
    tmp_path: Path,
) -> None:
    path = safetensors_file(
        tmp_path / "t.safetensors",
        {"\ud800": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}},
        b"\0" * 4,
    )
    with pytest.raises(SafetensorError, match="hex escape"):
        load_file(path)
    with pytest.raises(ModelFileError, match=r"the header holds '\\ud800', a lone surrogate"):
        read_safetensors(path)


def test_a_lone_surrogate_in_the_model_description_is_a_model_file_error(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_model(path, **MODEL)
    tensors, metadata = read_safetensors(path)
    document = json.loads(metadata["chainrule"])
    document["classes"] = ["\udc80", "b"]
    offsets = {"W1": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, W1.nbytes]}}
    metadata = {"chainrule": json.dumps(document)}  # escaped: the file itself is valid
    edited = safetensors_file(path, {"__metadata__": metadata, **offsets}, tensors["W1"].tobytes())
    assert load_file(edited)["W1"].tobytes() == W1.tobytes()  # valid safetensors, bad description
    with pytest.raises(ModelFileError, match=r"'\\udc80', a lone surrogate"):
        load_model(edited)


@pytest.mark.parametrize(
    "change",
    [
        {"classes": ["\udc80", "b"]},
        {"training": {"feature_names": ["x\ud800"]}},
        {"extra_tensors": {"opt.\udfff": np.zeros(2)}},
    ],
    ids=["class label", "training", "extra tensor name"],
)
def test_saving_a_lone_surrogate_is_a_validation_error(
    tmp_path: Path, change: dict[str, Any]
) -> None:
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValidationError, match="must be valid Unicode"):
        save_model(path, **{**MODEL, **change})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"state": {"m": {"tensor": ["x"]}}}, r"refers to a missing tensor \['x'\]"),
        ({"state": {"m": {"tensor": {"x": 1}}}}, "refers to a missing tensor"),
        ({"state": {}, "config": [1, 2]}, "training state and config must be JSON objects"),
        ({"state": {}, "config": "abc"}, "training state and config must be JSON objects"),
        ({"state": 5}, "training state and config must be JSON objects"),
    ],
)
def test_a_checkpoint_with_a_malformed_state_is_a_model_file_error(
    tmp_path: Path, training: dict[str, Any], message: str
) -> None:
    path = tmp_path / "c.safetensors"
    save_model(path, **MODEL, training=training, kind="checkpoint")
    with pytest.raises(ModelFileError, match=message):
        load_checkpoint(path)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_big_endian_weights_are_saved_as_the_numbers_they_hold(tmp_path: Path, dtype: str) -> None:
    """Byte order is how numpy holds a number, not which number: the file stores little-endian
    values that the reference safetensors reader and load_model read back equal."""
    rng = np.random.default_rng(0)
    native = [rng.normal(size=(3, 3)).astype(dtype), rng.normal(size=(1, 4)).astype(dtype)]
    swapped = [w.astype(w.dtype.newbyteorder(">")) for w in native]
    path = tmp_path / "m.safetensors"
    save_model(
        path, weights=swapped, activations=["tanh", "identity"], loss="mse", task="regression"
    )
    loaded = load_model(path)
    assert loaded.dtype == dtype
    for got, want in zip(loaded.weights, native, strict=True):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(load_file(path)["W1"], native[0])
