"""chainrule's model file: round trips, validation on save, and refusal of bad files on load."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import itertools
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import chainrule
from chainrule.errors import ModelFileError, ValidationError
from chainrule.serialization import (
    ModelFile,
    load_model,
    read_safetensors,
    save_model,
    write_safetensors,
)
from chainrule.serialization.model_file import FORMAT_VERSION, _header_digest

safetensors = pytest.importorskip("safetensors")
st_numpy = pytest.importorskip("safetensors.numpy")


def make_weights(sizes: list[int], dtype: Any = np.float32, seed: int = 0) -> list[np.ndarray]:
    """Random W^(l) of shape (sizes[l], sizes[l-1] + 1): the lecture's layout, bias last."""
    rng = np.random.default_rng(seed)
    return [
        rng.standard_normal((n_out, n_in + 1)).astype(dtype)
        for n_in, n_out in itertools.pairwise(sizes)
    ]


def save_simple(path: Path, **overrides: Any) -> list[np.ndarray]:
    kwargs: dict[str, Any] = {
        "weights": make_weights([2, 3, 2]),
        "activations": ["tanh", "softmax"],
        "loss": "cross_entropy",
        "classes": ["no", "yes"],
    }
    kwargs.update(overrides)
    save_model(path, **kwargs)
    weights: list[np.ndarray] = kwargs["weights"]
    return weights


def rewrite(
    path: Path, edit_doc: Any = None, edit_tensors: Any = None, *, reseal_header: bool = True
) -> None:
    """Rewrite a model file with its JSON document and/or tensors edited. The tensors' checksums
    are not updated; the description's is, unless ``reseal_header`` is False, so that a test of
    a check on the description reaches that check."""
    tensors, metadata = read_safetensors(path)
    doc = json.loads(metadata["chainrule"])
    if edit_doc is not None:
        edit_doc(doc)
        if reseal_header and isinstance(doc, dict) and "header_sha256" in doc:
            try:
                doc["header_sha256"] = _header_digest(doc)
            except ValueError:  # inf or NaN: no valid JSON, so no digest; the file stays unsealed
                pass
    if edit_tensors is not None:
        edit_tensors(tensors)
    write_safetensors(path, tensors, {"chainrule": json.dumps(doc)})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "sizes", [[3, 1], [2, 2, 1], [4, 8, 5, 3], [1, 6, 6, 6, 2]], ids=lambda s: "-".join(map(str, s))
)
def test_round_trip(tmp_path: Path, dtype: Any, sizes: list[int]) -> None:
    path = tmp_path / "m.safetensors"
    weights = make_weights(sizes, dtype, seed=len(sizes))
    activations = ["relu"] * (len(sizes) - 2) + ["softmax"]
    classes = list(range(sizes[-1])) if sizes[-1] > 1 else ["neg", "pos"]
    preprocessing = {"kind": "standardize", "features": sizes[0]}
    training = {"epochs": 3, "learning_rate": 0.1, "history": [1.5, 0.75, 0.5]}
    extra = {
        "preprocess.mean": np.arange(sizes[0], dtype=np.float64),
        "preprocess.scale": np.ones(sizes[0], dtype=np.float64),
    }
    save_model(
        path,
        weights=weights,
        activations=activations,
        loss="cross_entropy",
        classes=classes,
        preprocessing=preprocessing,
        training=training,
        extra_tensors=extra,
    )
    model = load_model(path)
    assert isinstance(model, ModelFile)
    assert len(model.weights) == model.n_layers == len(weights)
    for got, want in zip(model.weights, weights):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    assert model.sizes == tuple(sizes)
    assert model.activations == tuple(activations)
    assert model.loss == "cross_entropy"
    assert model.dtype == np.dtype(dtype).name
    assert model.classes == tuple(classes)
    assert model.task == "classification"
    assert model.preprocessing == preprocessing
    assert model.training == training
    assert model.kind == "model"
    assert model.format_version == FORMAT_VERSION == 2
    # the version that wrote the file: the package's own, which its installed metadata reads too
    installed = importlib.metadata.version("chainrule")
    assert model.chainrule_version == chainrule.__version__ == installed
    assert set(model.extra_tensors) == set(extra)
    for name, array in extra.items():
        np.testing.assert_array_equal(model.extra_tensors[name], array)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.loss = "mse"  # type: ignore[misc]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_round_trip_property(tmp_path: Path, sizes: list[int], dtype: Any, seed: int) -> None:
    path = tmp_path / "p.safetensors"
    weights = make_weights(sizes, dtype, seed)
    save_model(path, weights=weights, activations=["sigmoid"] * len(weights), loss="mse")
    model = load_model(path)
    assert model.task == "regression" and model.classes is None
    assert model.sizes == tuple(sizes)
    for got, want in zip(model.weights, weights):
        assert got.tobytes() == want.tobytes() and got.dtype == want.dtype


def test_official_library_reads_model_files(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    weights = save_simple(path, extra_tensors={"opt.adam.m.0": np.zeros((3, 3), np.float32)})
    loaded = st_numpy.load_file(str(path))
    assert set(loaded) == {"W1", "W2", "opt.adam.m.0"}
    for l, w in enumerate(weights, start=1):
        np.testing.assert_array_equal(loaded[f"W{l}"], w)
    with safetensors.safe_open(str(path), framework="np") as f:
        doc = json.loads(f.metadata()["chainrule"])
    assert doc["format"] == "chainrule-model"
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["kind"] == "model"
    assert doc["sizes"] == [2, 3, 2]
    assert doc["activations"] == ["tanh", "softmax"]
    assert doc["dtype"] == "float32"
    assert doc["classes"] == ["no", "yes"]
    # The checksum, recomputed independently: SHA-256 of the little-endian weight bytes in order.
    flat = np.concatenate([w.ravel() for w in weights]).astype("<f4")
    assert doc["sha256"] == hashlib.sha256(flat.tobytes()).hexdigest()


def test_model_written_by_official_library_loads(tmp_path: Path) -> None:
    weights = make_weights([3, 4, 1], np.float64, seed=5)
    reference = tmp_path / "ref.safetensors"
    save_simple(reference, weights=weights, classes=None, activations=["relu", "identity"])
    _, metadata = read_safetensors(reference)
    theirs = tmp_path / "theirs.safetensors"
    st_numpy.save_file({f"W{l}": w for l, w in enumerate(weights, 1)}, str(theirs), metadata)
    model = load_model(theirs)
    assert model.sizes == (3, 4, 1) and model.dtype == "float64" and model.task == "regression"
    np.testing.assert_array_equal(model.weights[1], weights[1])


def test_checkpoint_round_trip_restores_rng_and_optimizer_state(tmp_path: Path) -> None:
    path = tmp_path / "ckpt.safetensors"
    weights = make_weights([2, 4, 1], np.float64)
    rng = np.random.default_rng(1234)
    rng.standard_normal(10)
    optimizer_state = {
        f"opt.adam.{moment}.{i}": np.full(w.shape, 0.5 * i, w.dtype)
        for moment in ("m", "v")
        for i, w in enumerate(weights)
    }
    training = {
        "epoch": 7,
        "step": np.int64(700),  # numpy scalars are stored as plain JSON numbers
        "learning_rate": np.float32(0.25),
        "optimizer": {"name": "adam", "beta1": 0.9, "t": 700},
        "rng": rng.bit_generator.state,
        "history": np.array([1.0, 0.5]),
    }
    save_model(
        path,
        weights=weights,
        activations=["tanh", "sigmoid"],
        loss="binary_cross_entropy",
        classes=[0, 1],
        training=training,
        extra_tensors=optimizer_state,
        kind="checkpoint",
    )
    expected_next = rng.standard_normal(5)

    ckpt = load_model(path)
    assert ckpt.kind == "checkpoint"
    assert ckpt.training is not None
    assert ckpt.training["epoch"] == 7 and ckpt.training["step"] == 700
    assert ckpt.training["learning_rate"] == 0.25
    assert ckpt.training["history"] == [1.0, 0.5]
    restored = np.random.default_rng()
    restored.bit_generator.state = ckpt.training["rng"]
    np.testing.assert_array_equal(restored.standard_normal(5), expected_next)
    for name, array in optimizer_state.items():
        np.testing.assert_array_equal(ckpt.extra_tensors[name], array)


def test_binary_classifier_with_one_output_and_two_classes(tmp_path: Path) -> None:
    path = tmp_path / "b.safetensors"
    save_model(
        path,
        weights=make_weights([2, 1]),
        activations=["sigmoid"],
        loss="binary_cross_entropy",
        classes=np.array([3, 8]),
    )
    model = load_model(path)
    assert model.classes == (3, 8) and model.task == "classification"


def test_new_file_permissions_follow_umask_and_existing_mode_is_kept(tmp_path: Path) -> None:
    import os

    path = tmp_path / "perm.safetensors"
    save_simple(path)
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    path.chmod(0o600)
    save_simple(path)
    assert path.stat().st_mode & 0o777 == 0o600


# ---------------------------------------------------------------------------------------------
# validation on save
# ---------------------------------------------------------------------------------------------


def nan_weights() -> list[np.ndarray]:
    weights = make_weights([2, 3, 2])
    weights[1][0, :3] = np.nan
    return weights


def inf_weights() -> list[np.ndarray]:
    weights = make_weights([2, 3, 2])
    weights[0][1, 1] = -np.inf
    weights[0][0, 0] = np.nan
    return weights


SAVE_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("empty weights", {"weights": [], "activations": []}, "at least one matrix"),
    ("not a list", {"weights": np.zeros((2, 3))}, "must be a list"),
    ("1-D", {"weights": [np.zeros(3)], "activations": ["relu"]}, "W1 must be 2-D"),
    ("no bias column", {"weights": [np.zeros((2, 1))], "activations": ["relu"]}, "W1 must be 2-D"),
    ("list not array", {"weights": [[[1.0, 2.0]]], "activations": ["relu"]}, "numpy array"),
    (
        "int dtype",
        {"weights": [np.zeros((2, 3), np.int64)], "activations": ["relu"]},
        "W1 must be float32 or float64; got int64",
    ),
    (
        "float16",
        {"weights": [np.zeros((2, 3), np.float16)], "activations": ["relu"]},
        "float32 or float64",
    ),
    (
        "mixed dtypes",
        {"weights": [np.zeros((3, 3), np.float32), np.zeros((2, 4), np.float64)]},
        "W1 is float32, W2 is float64",
    ),
    (
        "shapes do not chain",
        {"weights": [np.zeros((3, 3), np.float32), np.zeros((2, 3), np.float32)]},
        "W2 has 3 columns but W1 has 3 outputs; expected 4 columns",
    ),
    ("NaN", {"weights": nan_weights()}, "refusing to save non-finite weights: W2 has 3 NaN values"),
    ("inf", {"weights": inf_weights()}, "W1 has 1 NaN and 1 infinite values"),
    ("too few activations", {"activations": ["relu"]}, "activations has 1 names but there are 2"),
    ("activation str", {"activations": "relu"}, "list of activation names"),
    ("activation empty", {"activations": ["relu", ""]}, r"activations\[1\] must be a non-empty"),
    ("loss", {"loss": ""}, "loss must be a non-empty string"),
    ("classes count", {"classes": ["a", "b", "c"]}, "classes has 3 labels but the network has 2"),
    ("classes repeated", {"classes": ["a", "a"]}, "distinct"),
    ("classes object", {"classes": [object(), 1]}, r"classes\[0\] must be a str"),
    ("classes NaN", {"classes": [float("nan"), 1.0]}, "finite"),
    ("regression classes", {"task": "regression"}, "classes must be None"),
    ("bad task", {"task": "ranking"}, "task must be one of"),
    ("bad kind", {"kind": "snapshot"}, "kind must be one of"),
    ("reserved extra", {"extra_tensors": {"W3": np.zeros(2)}}, "reserved for weights"),
    ("extra not array", {"extra_tensors": {"m": [1, 2]}}, "must be a numpy array"),
    ("extra complex", {"extra_tensors": {"m": np.zeros(2, complex)}}, "cannot be stored"),
    ("extra name", {"extra_tensors": {3: np.zeros(2)}}, "non-empty strings"),
    ("extra object", {"extra_tensors": {"m": np.array([None, 1])}}, "cannot be stored"),
    ("extra str", {"extra_tensors": {"m": np.array(["a"])}}, "cannot be stored"),
    ("classes str", {"classes": "ab"}, "list of labels or None"),
    ("classes 2-D", {"classes": np.array([["a", "b"]])}, "must be 1-D"),
    ("classes int", {"classes": 2}, "list of labels or None"),
    ("training object", {"training": {"cb": object()}}, "training must be JSON-serializable"),
    ("training NaN", {"training": {"loss": float("nan")}}, "training must be JSON-serializable"),
    ("preprocessing list", {"preprocessing": [1, 2]}, "preprocessing must be a dict"),
]


@pytest.mark.parametrize(
    ("overrides", "message"), [c[1:] for c in SAVE_ERRORS], ids=[c[0] for c in SAVE_ERRORS]
)
def test_save_validation(tmp_path: Path, overrides: dict[str, Any], message: str) -> None:
    if "weights" in overrides and "activations" not in overrides:
        weights = overrides["weights"]
        overrides = {"activations": ["relu"] * len(weights), "classes": None, **overrides}
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValidationError, match=message):
        save_simple(path, **overrides)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


# ---------------------------------------------------------------------------------------------
# refusal on load
# ---------------------------------------------------------------------------------------------


def test_plain_safetensors_file_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "plain.safetensors"
    write_safetensors(path, {"W1": np.zeros((2, 3), np.float32)}, {"other": "x"})
    with pytest.raises(ModelFileError, match=r"plain\.safetensors' is not a chainrule model file"):
        load_model(path)


def test_newer_format_version(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_simple(path)
    rewrite(path, lambda d: d.update(format_version=3, something_new={"a": 1}))
    with pytest.raises(
        ModelFileError,
        match=r"written by a newer chainrule \(format 3\); this version reads format 2",
    ):
        load_model(path)


def _set(key: str, value: Any) -> Any:
    return lambda doc: doc.__setitem__(key, value)


def _delete(key: str) -> Any:
    return lambda doc: doc.pop(key)


LOAD_ERRORS: list[tuple[str, Any, Any, str]] = [
    ("wrong format", _set("format", "keras"), None, "not a chainrule model file: its format is"),
    ("no format", _delete("format"), None, "not a chainrule model file"),
    ("version 0", _set("format_version", 0), None, "format_version 0 has no checksum"),
    ("version 1", _set("format_version", 1), None, "format_version 1 has no checksum"),
    ("version bool", _set("format_version", True), None, "'format_version' must be an integer"),
    ("version str", _set("format_version", "1"), None, "'format_version' must be an integer"),
    ("bad kind", _set("kind", "x"), None, "'kind' must be one of"),
    ("no sizes", _delete("sizes"), None, "has no 'sizes'"),
    ("sizes short", _set("sizes", [2]), None, "at least 2 positive integers"),
    ("sizes zero", _set("sizes", [2, 0, 2]), None, "at least 2 positive integers"),
    ("sizes wrong", _set("sizes", [2, 4, 2]), None, r"W1 has shape \(3, 3\); sizes \[2, 4, 2\]"),
    ("sizes longer", _set("sizes", [2, 3, 2, 2]), None, "activations for 3 layers"),
    (
        "sizes and activations longer",
        lambda d: d.update(sizes=[2, 3, 2, 2], activations=["tanh", "tanh", "softmax"]),
        None,
        "W3 missing",
    ),
    ("activations count", _set("activations", ["tanh"]), None, "1 activations for 2 layers"),
    ("activations type", _set("activations", ["tanh", 3]), None, "list of non-empty strings"),
    ("dtype", _set("dtype", "float64"), None, "W1 is float32 but the file says float64"),
    ("dtype unknown", _set("dtype", "int8"), None, "'dtype' must be 'float32' or 'float64'"),
    ("task", _set("task", "x"), None, "'task' must be one of"),
    ("classes count", _set("classes", ["a"]), None, "classes has 1 labels but the network has 2"),
    ("classes type", _set("classes", [{}, []]), None, r"classes\[0\] must be a str, int"),
    ("classes repeated", _set("classes", ["a", "a"]), None, "classes must be distinct"),
    (
        "classes of a regression",
        _set("task", "regression"),
        None,
        "classes must be None for a regression model",
    ),
    (
        "classification without probabilities",
        _set("activations", ["tanh", "identity"]),
        None,
        "a classification model needs a softmax, sigmoid, step output layer; this one is 'id",
    ),
    ("unknown activation", _set("activations", ["swish", "softmax"]), None, "'swish' is not one"),
    ("unknown loss", _set("loss", "hinge"), None, "loss 'hinge' is not one of"),
    ("classes not list", _set("classes", "ab"), None, "'classes' must be a list of labels or null"),
    ("training type", _set("training", [1]), None, "'training' must be an object or null"),
    ("sha not hex", _set("sha256", "abc"), None, "not a hex SHA-256 digest"),
    ("sha missing", _delete("sha256"), None, "has no 'sha256'"),
    ("sha wrong", _set("sha256", "0" * 64), None, "weights do not match their checksum"),
    ("header sha missing", _delete("header_sha256"), None, "has no 'header_sha256'"),
    (
        "extra W3",
        None,
        lambda t: t.__setitem__("W3", np.zeros((1, 3), np.float32)),
        "also holds W3",
    ),
    ("W2 missing", None, lambda t: t.pop("W2"), "W2 missing"),
    (
        "weights tampered",
        None,
        lambda t: t["W1"].__setitem__((0, 0), 42.0),
        "weights do not match their checksum: the file was modified or corrupted",
    ),
    (
        "weights transposed",
        None,
        lambda t: t.__setitem__("W2", t["W2"].reshape(4, 2)),
        r"W2 has shape \(4, 2\)",
    ),
    (
        "extra tensor added",
        None,
        lambda t: t.__setitem__("sneaky", np.zeros(1)),
        "extra tensors do not match their checksum",
    ),
]


@pytest.mark.parametrize(
    ("edit_doc", "edit_tensors", "message"),
    [c[1:] for c in LOAD_ERRORS],
    ids=[c[0] for c in LOAD_ERRORS],
)
def test_load_validation(tmp_path: Path, edit_doc: Any, edit_tensors: Any, message: str) -> None:
    path = tmp_path / "m.safetensors"
    save_simple(path)
    rewrite(path, edit_doc, edit_tensors)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert "m.safetensors" in str(info.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"format": "chainrule-model", "format": "x"}', "twice"),
        ('{"loss": NaN}', "not valid JSON"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_load_rejects_malformed_document(tmp_path: Path, document: str, message: str) -> None:
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {"W1": np.zeros((1, 2), np.float32)}, {"chainrule": document})
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_non_finite_weights_with_a_valid_checksum_are_refused(tmp_path: Path) -> None:
    # Written by some other tool that computed the checksum honestly over NaN weights.
    path = tmp_path / "m.safetensors"
    weights = save_simple(path)
    weights[1][1, 2] = np.nan
    digest = hashlib.sha256(b"".join(w.astype("<f4").tobytes() for w in weights)).hexdigest()
    rewrite(path, _set("sha256", digest), lambda t: t["W2"].__setitem__((1, 2), np.nan))
    with pytest.raises(ModelFileError, match="W2 has 1 NaN values"):
        load_model(path)


def test_every_data_byte_flip_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_simple(path, extra_tensors={"preprocess.mean": np.array([0.5, -0.5])})
    content = path.read_bytes()
    data_start = 8 + int.from_bytes(content[:8], "little")
    damaged_path = tmp_path / "damaged.safetensors"
    loaded = 0
    # Every bit of every data byte; a sample of the (JSON) header bytes.
    header_sample = random.Random(7).sample(range(data_start), 120)
    flips = [(p, 1 << bit) for p in range(data_start, len(content)) for bit in range(8)]
    flips += [(p, mask) for p in header_sample for mask in (0x01, 0x80)]
    for position, mask in flips:
        damaged = bytearray(content)
        damaged[position] ^= mask
        damaged_path.write_bytes(bytes(damaged))
        try:
            load_model(damaged_path)
            loaded += 1
        except ModelFileError:
            continue
        # A surviving flip can only be in the JSON header (e.g. a letter of a name).
        assert position < data_start, position
    assert loaded < len(flips)


def test_truncated_model_at_every_offset(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_simple(path)
    content = path.read_bytes()
    for cut in range(len(content)):
        path.write_bytes(content[:cut])
        with pytest.raises(ModelFileError):
            load_model(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
DOC_KEYS = [
    "format", "format_version", "kind", "chainrule_version", "sizes", "activations", "loss",
    "dtype", "classes", "task", "preprocessing", "training", "sha256", "extra_sha256",
]  # fmt: skip


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.sampled_from(DOC_KEYS), value=json_values, drop=st.booleans())
def test_fuzzed_document_fields(tmp_path: Path, key: str, value: Any, drop: bool) -> None:
    path = tmp_path / "m.safetensors"
    save_simple(path)
    rewrite(path, _delete(key) if drop else _set(key, value))
    try:
        model = load_model(path)
    except ModelFileError:
        return
    assert model.sizes == (2, 3, 2)


@pytest.mark.parametrize(
    "edit",
    [
        _set("classes", ["yes", "no"]),  # swapped labels: every prediction renamed
        _set("preprocessing", {"standardizer": {"mean": [9.857, 0.0], "scale": [1.0, 1.0]}}),
        _set("activations", ["relu", "softmax"]),
        _set("something_new", 1),
    ],
    ids=["classes swapped", "preprocessing added", "activation edited", "key added"],
)
def test_an_edited_description_is_refused(tmp_path: Path, edit: Any) -> None:
    """The description (labels, preprocessing, activations) is under a checksum too."""
    path = tmp_path / "m.safetensors"
    save_simple(path)
    rewrite(path, edit, reseal_header=False)
    with pytest.raises(ModelFileError, match="description does not match its checksum"):
        load_model(path)


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1" + "0" * 400 + ".5"])
def test_a_number_beyond_float_range_is_refused_not_a_crash(tmp_path: Path, number: str) -> None:
    """1e400 is valid JSON that Python reads as inf, which the description's checksum (strict
    JSON) cannot encode: a ModelFileError naming the number, not a ValueError traceback."""
    path = tmp_path / "m.safetensors"
    save_simple(path, training={"seconds": 1.5})
    tensors, metadata = read_safetensors(path)
    text = metadata["chainrule"]
    assert text.count('"seconds": 1.5') == 1
    write_safetensors(path, tensors, {"chainrule": text.replace("1.5", number, 1)})
    with pytest.raises(ModelFileError, match=f"contains the number {number[:40]}, too large"):
        load_model(path)


def test_activation_objects_are_saved_by_name_and_a_non_default_slope_is_refused(
    tmp_path: Path,
) -> None:
    """``net.activation_functions`` may be passed: the default objects save as their names, and
    a leaky ReLU of slope 0.3 is refused (its name would load as slope 0.01)."""
    from chainrule.engine import Network
    from chainrule.engine.activations import LeakyReLU, get_activation

    net = Network([3, 4, 2], ["leaky_relu", "softmax"], seed=0)
    path = tmp_path / "m.safetensors"
    save_model(
        path, weights=net.weights, activations=net.activation_functions, loss="cross_entropy"
    )
    assert list(load_model(path).activations) == ["leaky_relu", "softmax"]
    steep = [LeakyReLU(0.3), get_activation("softmax")]
    with pytest.raises(ValidationError, match="leaky_relu"):
        save_model(
            tmp_path / "x.safetensors", weights=net.weights, activations=steep, loss="cross_entropy"
        )
    assert not (tmp_path / "x.safetensors").exists()
