"""The safetensors reader on damaged, hostile and garbage files: ModelFileError, nothing else."""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.errors import ModelFileError
from chainrule.serialization import read_safetensors, write_safetensors
from chainrule.serialization.safetensors_io import MAX_HEADER_BYTES

FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def raw_file(header: Any, data: bytes = b"", *, pad: bool = True) -> bytes:
    """Bytes of a safetensors file with this header (a JSON value, or raw bytes) and data."""
    body = header if isinstance(header, bytes) else json.dumps(header).encode()
    if pad:
        body += b" " * (-len(body) % 8)
    return struct.pack("<Q", len(body)) + body + data


def entry(dtype: str, shape: list[Any], begin: Any, end: Any) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def read_bytes(tmp_path: Path, content: bytes) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    path = tmp_path / "f.safetensors"
    path.write_bytes(content)
    return read_safetensors(path)


def valid_file(tmp_path: Path) -> bytes:
    path = tmp_path / "valid.safetensors"
    rng = np.random.default_rng(0)
    write_safetensors(
        path,
        {
            "W1": rng.standard_normal((4, 3)).astype(np.float32),
            "W2": rng.standard_normal((2, 5)).astype(np.float32),
            "mask": np.array([True, False, True]),
            "count": np.array(7, dtype=np.int64),
        },
        {"note": "fixture"},
    )
    return path.read_bytes()


F32x2 = np.array([1.0, 2.0], "<f4").tobytes()

CASES: list[tuple[str, bytes, str]] = [
    ("empty file", b"", "too short"),
    ("7 bytes", b"\x08\x00\x00\x00\x00\x00\x00", "too short"),
    ("length past the end", struct.pack("<Q", 100) + b"{}", "only 2 follow"),
    ("length 2**64-1", struct.pack("<Q", 2**64 - 1) + b"{}      ", "more than the 100000000"),
    ("absurd length", struct.pack("<Q", MAX_HEADER_BYTES + 1) + b"{}", "more than the"),
    ("not utf-8", raw_file(b'{"\xff\xfe": 1}'), "not valid UTF-8"),
    ("not json", raw_file(b"{abc"), "not valid JSON"),
    ("json list", raw_file(b"[1, 2]"), "does not start with '{'"),
    ("leading space", raw_file(b" {}"), "does not start with '{'"),
    ("NaN constant", raw_file(b'{"x": NaN}'), "NaN, which is not valid JSON"),
    ("duplicate key", raw_file(b'{"x": {}, "x": {}}'), "key 'x' twice"),
    ("nul padding", raw_file(b"{}\0\0\0\0\0\0", pad=False), "not valid JSON"),
    ("huge integer", raw_file(b'{"x": ' + b"9" * 5000 + b"}"), "not valid JSON"),
    ("deep nesting", raw_file(b'{"x": ' + b"[" * 200_000), "not valid JSON"),
    ("entry not object", raw_file({"x": [1]}), "expected an object"),
    ("missing field", raw_file({"x": {"dtype": "F32", "shape": [2]}}, F32x2), "missing data"),
    (
        "unknown field",
        raw_file({"x": {**entry("F32", [2], 0, 8), "extra": 1}}, F32x2),
        "unknown field",
    ),
    ("unknown dtype", raw_file({"x": entry("F33", [2], 0, 8)}, F32x2), "unsupported dtype 'F33'"),
    ("BF16 unsupported", raw_file({"x": entry("BF16", [4], 0, 8)}, F32x2), "unsupported dtype"),
    ("dtype not str", raw_file({"x": entry(4, [2], 0, 8)}, F32x2), "unsupported dtype 4"),
    ("shape not list", raw_file({"x": entry("F32", 2, 0, 8)}, F32x2), "shape must be a list"),
    ("shape float", raw_file({"x": entry("F32", [2.0], 0, 8)}, F32x2), "shape must be a list"),
    ("shape bool", raw_file({"x": entry("F32", [True, 2], 0, 8)}, F32x2), "shape must be a list"),
    ("negative dim", raw_file({"x": entry("F32", [-2], 0, 8)}, F32x2), "negative dimension"),
    ("negative dims", raw_file({"x": entry("F32", [-1, -2], 0, 8)}, F32x2), "negative dimension"),
    ("65 dims", raw_file({"x": entry("F32", [1] * 65, 0, 4)}, F32x2[:4]), "dimensions"),
    ("absurd empty", raw_file({"x": entry("F32", [0, 2**62], 0, 0)}), "too large for numpy"),
    (
        "offsets 3 long",
        raw_file({"x": {**entry("F32", [2], 0, 8), "data_offsets": [0, 4, 8]}}),
        "data_offsets must be",
    ),
    ("offsets str", raw_file({"x": entry("F32", [2], "0", 8)}, F32x2), "data_offsets must be"),
    ("negative offset", raw_file({"x": entry("F32", [2], -8, 0)}, F32x2), "invalid data_offsets"),
    ("end before begin", raw_file({"x": entry("F32", [0], 8, 0)}, F32x2), "invalid data_offsets"),
    ("shape/offsets mismatch", raw_file({"x": entry("F32", [3], 0, 8)}, F32x2), "needs 12 bytes"),
    ("past the end", raw_file({"x": entry("F32", [4], 0, 16)}, F32x2), "past the end"),
    (
        "overlap",
        raw_file({"a": entry("F32", [2], 0, 8), "b": entry("F32", [1], 4, 8)}, F32x2),
        "overlap",
    ),
    (
        "gap",
        raw_file({"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)}, F32x2 + F32x2),
        "unused bytes",
    ),
    ("trailing garbage", raw_file({"x": entry("F32", [2], 0, 8)}, F32x2 + b"junk"), "trailing"),
    ("data, no tensors", raw_file({}, b"\0"), "1 bytes of trailing data"),
    ("metadata not dict", raw_file({"__metadata__": ["a"]}), "must be an object"),
    ("metadata int value", raw_file({"__metadata__": {"a": 1}}), "metadata 'a' must be a string"),
    ("metadata null", raw_file({"__metadata__": None}), "must be an object"),
    ("bool byte 2", raw_file({"x": entry("BOOL", [2], 0, 2)}, b"\x01\x02"), "other than 0 and 1"),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_crafted_corruptions(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(ModelFileError) as info:
        read_bytes(tmp_path, content)
    text = str(info.value)
    assert "f.safetensors" in text, text  # the message names the file
    assert message in text, text


def test_crafted_valid_edge_cases(tmp_path: Path) -> None:
    # The reader is strict, not paranoid: these are all valid safetensors files.
    tensors, meta = read_bytes(tmp_path, raw_file({}))
    assert tensors == {} and meta == {}
    tensors, _ = read_bytes(tmp_path, raw_file({"e": entry("F64", [0, 10**12], 0, 0)}))
    assert tensors["e"].shape == (0, 10**12)
    tensors, _ = read_bytes(tmp_path, raw_file({"s": entry("F32", [], 0, 4)}, F32x2[:4]))
    assert tensors["s"].shape == () and tensors["s"] == 1.0
    # Header entries in any order, data in any order.
    content = raw_file({"b": entry("F32", [1], 0, 4), "a": entry("F32", [1], 4, 8)}, F32x2)
    tensors, _ = read_bytes(tmp_path, content)
    assert list(tensors) == ["b", "a"] and tensors["a"][0] == 2.0


def test_claimed_huge_tensor_rejected_without_allocating(tmp_path: Path) -> None:
    n = 10**12
    content = raw_file({"big": entry("F32", [10**6, 10**6], 0, 4 * n)}, b"\0" * 64)
    path = tmp_path / "big.safetensors"
    path.write_bytes(content)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match="past the end of the data"):
            read_safetensors(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20
    assert time.perf_counter() - started < 1.0


def test_huge_element_count_with_matching_offsets_but_tiny_file(tmp_path: Path) -> None:
    # Offsets consistent with the shape, both absurd: still refused before any allocation.
    content = raw_file({"big": entry("F64", [2**40, 2**40], 0, 8 * 2**80)})
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="too large for numpy"):
            read_bytes(tmp_path, content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20


def test_truncation_at_every_offset(tmp_path: Path) -> None:
    content = valid_file(tmp_path)
    read_bytes(tmp_path, content)  # the untruncated file is fine
    for cut in range(len(content)):
        with pytest.raises(ModelFileError):
            read_bytes(tmp_path, content[:cut])


def test_appended_bytes_are_rejected(tmp_path: Path) -> None:
    content = valid_file(tmp_path)
    for extra in (b"\0", b" ", b"x" * 7, b"\0" * 1000):
        with pytest.raises(ModelFileError, match="trailing data"):
            read_bytes(tmp_path, content + extra)


def test_every_single_byte_flip(tmp_path: Path) -> None:
    # A flipped data byte is undetectable at this level (the model file adds checksums); a
    # flipped header byte must either still describe a valid file or raise ModelFileError.
    content = valid_file(tmp_path)
    outcomes = {"ok": 0, "error": 0}
    for position in range(len(content)):
        for mask in (0x01, 0x80):
            damaged = bytearray(content)
            damaged[position] ^= mask
            try:
                read_bytes(tmp_path, bytes(damaged))
                outcomes["ok"] += 1
            except ModelFileError:
                outcomes["error"] += 1
    assert outcomes["error"] > 0 and outcomes["ok"] > 0


@FUZZ
@given(content=st.binary(max_size=600))
def test_random_bytes(tmp_path: Path, content: bytes) -> None:
    try:
        read_bytes(tmp_path, content)
    except ModelFileError:
        pass


@FUZZ
@given(header=st.binary(max_size=300), data=st.binary(max_size=64))
def test_random_header_bytes_with_a_correct_length(
    tmp_path: Path, header: bytes, data: bytes
) -> None:
    try:
        read_bytes(tmp_path, raw_file(b"{" + header, data, pad=False))
    except ModelFileError:
        pass


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
dtype_names = st.sampled_from(["F32", "F64", "I64", "U8", "BOOL", "F16", "BF16", "X", ""])
small_ints = st.integers(-3, 40) | st.sampled_from([2**31, 2**63, 2**64, 10**30])
entries = st.fixed_dictionaries(
    {
        "dtype": dtype_names | json_values,
        "shape": st.lists(small_ints, max_size=4) | json_values,
        "data_offsets": st.lists(small_ints, min_size=2, max_size=2) | json_values,
    }
)
headers = st.dictionaries(
    st.text(max_size=4), entries | json_values, max_size=4
) | st.fixed_dictionaries(
    {"__metadata__": st.dictionaries(st.text(max_size=3), json_values, max_size=3)},
    optional={"t": entries},
)


@FUZZ
@given(header=headers, data=st.binary(max_size=96))
def test_structured_fuzz(tmp_path: Path, header: dict[str, Any], data: bytes) -> None:
    try:
        tensors, meta = read_bytes(tmp_path, raw_file(header, data))
    except ModelFileError:
        return
    # Whatever was accepted is exactly what the header describes and tiles the data.
    assert all(isinstance(v, str) for v in meta.values())
    assert sum(t.nbytes for t in tensors.values()) == len(data)
    for name, tensor in tensors.items():
        assert list(tensor.shape) == header[name]["shape"]
