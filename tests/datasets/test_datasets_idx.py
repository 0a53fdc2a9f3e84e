"""IDX reader and writer: round trips, and strict validation of hostile or broken files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import idx as idx_module
from chainrule.datasets import read_idx, write_idx
from chainrule.errors import DataError, ValidationError


def header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path: Path, dtype: type, suffix: str) -> None:
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(3, 4, 5)) * 50).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == (3, 4, 5) and np.array_equal(back, array)
    assert back.flags.writeable and back.flags.c_contiguous
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_mnist_layout_bytes(tmp_path: Path) -> None:
    labels = np.array([5, 0, 4], dtype=np.uint8)
    path = tmp_path / "labels"
    write_idx(path, labels)
    assert path.read_bytes() == b"\x00\x00\x08\x01\x00\x00\x00\x03\x05\x00\x04"


def test_gzip_detected_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "plain.bin"
    write_idx(path, np.arange(4, dtype=np.int16), compress=True)
    assert read_idx(path).tolist() == [0, 1, 2, 3]
    path = tmp_path / "looks.gz"
    write_idx(path, np.arange(4, dtype=np.int16), compress=False)
    assert read_idx(path).tolist() == [0, 1, 2, 3]


def test_compressed_output_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    write_idx(a, np.arange(10, dtype=np.uint8))
    write_idx(b, np.arange(10, dtype=np.uint8))
    assert a.read_bytes() == b.read_bytes()


def test_bad_magic(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x07")
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(info.value) == f"{path}: bad magic number 0x01020801; an IDX file starts with 00 00"


def test_unknown_type_code(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(header(0x0A, (1,)) + b"\x00")
    with pytest.raises(DataError, match=r"unknown IDX type code 0x0A; expected one of 0x08"):
        read_idx(path)


def test_zero_dimensions(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes([0, 0, 8, 0]))
    with pytest.raises(DataError, match="claims 0 dimensions"):
        read_idx(path)


@pytest.mark.parametrize("data", [b"", b"\x00\x00", b"\x00\x00\x08\x02\x00\x00\x00\x01"])
def test_truncated_header(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(path)


def test_dims_inconsistent_with_file_size(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(header(0x08, (2, 3)) + bytes(5))
    with pytest.raises(DataError) as info:
        read_idx(path)
    assert str(info.value) == (
        f"{path}: IDX dimensions (2, 3) need 6 bytes of data, but the file has 5 after the "
        "12-byte header"
    )
    path.write_bytes(header(0x0C, (2,)) + bytes(9))
    with pytest.raises(DataError, match="need 8 bytes of data, but the file has 9"):
        read_idx(path)


def test_gzip_truncated_and_trailing_data(tmp_path: Path) -> None:
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(header(0x08, (10,)) + bytes(4)))
    with pytest.raises(
        DataError, match="truncated IDX data: dimensions \\(10,\\) need 10 bytes, got 4"
    ):
        read_idx(path)
    path.write_bytes(gzip.compress(header(0x08, (2,)) + bytes(3)))
    with pytest.raises(DataError, match="longer than dimensions"):
        read_idx(path)


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "f.gz"
    good = gzip.compress(header(0x08, (1000,)) + bytes(1000))
    path.write_bytes(good[:20] + b"garbage!" * 4 + good[52:])
    with pytest.raises(DataError, match="corrupt gzip data"):
        read_idx(path)
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="corrupt gzip data"):
        read_idx(path)


@pytest.mark.parametrize("compressed", [False, True])
def test_absurd_claim_refused_before_allocating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    path = tmp_path / "f"
    data = header(0x0E, (2**32 - 1, 2**32 - 1, 2**32 - 1)) + bytes(16)
    path.write_bytes(gzip.compress(data) if compressed else data)
    real_read = idx_module._read_exactly
    asked: list[int] = []

    def spy(fh, n):  # type: ignore[no-untyped-def]
        asked.append(n)
        return real_read(fh, n)

    monkeypatch.setattr(idx_module, "_read_exactly", spy)
    with pytest.raises(DataError, match=r"more than the 1073741824-byte limit"):
        read_idx(path)
    assert asked == [4, 12]  # only the header was read


def test_max_bytes_parameter(tmp_path: Path) -> None:
    path = tmp_path / "f"
    write_idx(path, np.zeros(100, dtype=np.uint8))
    with pytest.raises(DataError, match="100 bytes, more than the 99-byte limit"):
        read_idx(path, max_bytes=99)
    assert read_idx(path, max_bytes=100).shape == (100,)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cannot read .*missing"):
        read_idx(tmp_path / "missing")


def test_write_rejects_unsupported(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="IDX stores dtypes uint8, int8, int16"):
        write_idx(tmp_path / "f", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValidationError, match="dimensions"):
        write_idx(tmp_path / "f", np.array(5, dtype=np.uint8))
    with pytest.raises(DataError, match="cannot write"):
        write_idx(tmp_path / "no" / "f", np.zeros(3, dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_write_accepts_big_endian_input(tmp_path: Path) -> None:
    array = np.arange(3, dtype=">i4")
    write_idx(tmp_path / "f", array)
    assert read_idx(tmp_path / "f").tolist() == [0, 1, 2]
