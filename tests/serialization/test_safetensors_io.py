"""The pure-numpy safetensors reader/writer: round trips and interop with the official library."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.errors import ModelFileError, ValidationError
from chainrule.serialization import read_safetensors, write_safetensors

safetensors = pytest.importorskip("safetensors")
st_numpy = pytest.importorskip("safetensors.numpy")

DTYPES = [
    np.bool_,
    np.uint8,
    np.int8,
    np.int16,
    np.uint16,
    np.float16,
    np.int32,
    np.uint32,
    np.float32,
    np.float64,
    np.int64,
    np.uint64,
]

names = st.text(min_size=1, max_size=12).filter(lambda s: s != "__metadata__")
arrays = st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
)
tensor_dicts = st.dictionaries(names, arrays, max_size=6)
metadatas = st.none() | st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=4)

HYPOTHESIS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_same_tensors(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert set(got) == set(want)
    for name, array in want.items():
        assert got[name].dtype == array.dtype, name
        assert got[name].shape == array.shape, name
        # Bytes, not values: NaN payloads and -0.0 must survive too.
        assert got[name].tobytes() == np.ascontiguousarray(array).tobytes(), name


def test_round_trip_all_dtypes(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    tensors = {
        f"t_{np.dtype(dt).name}": (rng.standard_normal((3, 2)) * 50).astype(dt) for dt in DTYPES
    }
    tensors["scalar"] = np.array(2.5, dtype=np.float32)
    tensors["empty"] = np.zeros((0, 7), dtype=np.float64)
    tensors["nan"] = np.array([np.nan, -0.0, np.inf], dtype=np.float32)
    path = tmp_path / "all.safetensors"
    write_safetensors(path, tensors, {"a": "1", "ü": "ß"})
    got, meta = read_safetensors(path)
    assert_same_tensors(got, tensors)
    assert meta == {"a": "1", "ü": "ß"}


def test_returned_arrays_are_writable_and_independent(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    write_safetensors(path, {"a": np.arange(6.0).reshape(2, 3), "b": np.ones(4, np.float32)})
    got, _ = read_safetensors(path)
    assert all(a.flags.writeable and a.flags.c_contiguous for a in got.values())
    assert not np.shares_memory(got["a"], got["b"])
    got["a"][0, 0] = 99.0
    again, _ = read_safetensors(path)
    assert again["a"][0, 0] == 0.0


def test_non_contiguous_and_big_endian_inputs(tmp_path: Path) -> None:
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    tensors = {
        "strided": base[:, ::2],
        "transposed": base.T,
        "big_endian": np.arange(5, dtype=">i4"),
    }
    path = tmp_path / "nc.safetensors"
    write_safetensors(path, tensors)
    got, meta = read_safetensors(path)
    assert meta == {}
    for name, array in tensors.items():
        np.testing.assert_array_equal(got[name], array)
        assert got[name].dtype.isnative
    official = st_numpy.load_file(str(path))
    np.testing.assert_array_equal(official["big_endian"], np.arange(5))


def test_header_layout_is_the_documented_one(tmp_path: Path) -> None:
    path = tmp_path / "h.safetensors"
    write_safetensors(path, {"x": np.ones(3, np.float32)}, {"k": "v"})
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0
    header = json.loads(raw[8 : 8 + n])
    assert header == {
        "__metadata__": {"k": "v"},
        "x": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]},
    }
    assert raw[8 + n :] == np.ones(3, "<f4").tobytes()


@HYPOTHESIS
@given(tensors=tensor_dicts, metadata=metadatas)
def test_round_trip_property(tmp_path: Path, tensors: dict, metadata: dict | None) -> None:
    path = tmp_path / "p.safetensors"
    write_safetensors(path, tensors, metadata)
    got, meta = read_safetensors(path)
    assert_same_tensors(got, tensors)
    assert meta == (metadata or {})


@HYPOTHESIS
@given(tensors=tensor_dicts, metadata=metadatas)
def test_official_reader_loads_our_files(
    tmp_path: Path, tensors: dict, metadata: dict | None
) -> None:
    path = tmp_path / "ours.safetensors"
    write_safetensors(path, tensors, metadata)
    assert_same_tensors(st_numpy.load_file(str(path)), tensors)
    with safetensors.safe_open(str(path), framework="np") as f:
        assert (f.metadata() or {}) == (metadata or {})
        assert set(f.keys()) == set(tensors)


@HYPOTHESIS
@given(
    tensors=tensor_dicts,
    metadata=st.none() | st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=1),
)
def test_bytes_identical_to_official_writer(
    tmp_path: Path, tensors: dict, metadata: dict | None
) -> None:
    # With at most one metadata entry (the reference keeps them in a hash map), the whole file
    # must be byte-for-byte what the reference library writes: same order, padding, JSON.
    # (Except for no tensors with empty metadata: safetensors 0.8 writes the invalid JSON
    # '{},"__metadata__":{}}' there; we write '{"__metadata__":{}}'.)
    assume(tensors or metadata != {})
    path = tmp_path / "ours.safetensors"
    write_safetensors(path, tensors, metadata)
    assert path.read_bytes() == st_numpy.save(tensors, metadata=metadata)


@HYPOTHESIS
@given(tensors=tensor_dicts, metadata=metadatas)
def test_we_read_official_files(tmp_path: Path, tensors: dict, metadata: dict | None) -> None:
    assume(tensors or metadata != {})  # see test_bytes_identical_to_official_writer
    path = tmp_path / "theirs.safetensors"
    st_numpy.save_file(tensors, str(path), metadata=metadata)
    got, meta = read_safetensors(path)
    assert_same_tensors(got, tensors)
    assert meta == (metadata or {})


def test_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    write_safetensors(path, {"x": np.zeros(100, np.float64)})
    size = path.stat().st_size
    read_safetensors(path, max_bytes=size)
    with pytest.raises(ModelFileError, match=rf"{size} bytes, more than max_bytes={size - 1}"):
        read_safetensors(path, max_bytes=size - 1)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"nope\.safetensors.*No such file"):
        read_safetensors(tmp_path / "nope.safetensors")
    with pytest.raises(ModelFileError, match="Is a directory"):
        read_safetensors(tmp_path)


@pytest.mark.parametrize(
    ("tensors", "metadata", "message"),
    [
        ({"x": np.zeros(2, np.complex64)}, None, "dtype complex64 cannot be stored"),
        ({"x": np.array(["a"])}, None, "cannot be stored"),
        ({"x": np.zeros(2, np.float64).astype(object)}, None, "cannot be stored"),
        ({"x": [1.0, 2.0]}, None, "must be a numpy array"),
        ({"": np.zeros(1)}, None, "non-empty strings"),
        ({3: np.zeros(1)}, None, "non-empty strings"),
        ({"__metadata__": np.zeros(1)}, None, "reserved"),
        ({"x": np.zeros(1)}, {"k": 1}, "metadata must map str to str"),
        ({"x": np.zeros(1)}, {2: "v"}, "metadata must map str to str"),
        ({"x": np.zeros(1)}, ["k"], "metadata must be a dict"),
        ({"\ud800": np.zeros(1)}, None, "valid Unicode"),
    ],
)
def test_writer_rejects_bad_input(
    tmp_path: Path, tensors: dict, metadata: object, message: str
) -> None:
    path = tmp_path / "bad.safetensors"
    with pytest.raises(ValidationError, match=message):
        write_safetensors(path, tensors, metadata)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_writer_rejects_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="dict of name"):
        write_safetensors(tmp_path / "x", [np.zeros(1)])  # type: ignore[arg-type]
