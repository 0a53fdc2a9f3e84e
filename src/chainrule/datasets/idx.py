"""Read and write IDX files, the format MNIST and Fashion-MNIST are distributed in.

An IDX file is a 4-byte magic number ``00 00 <dtype code> <ndim>``, then ``ndim`` dimension
sizes as big-endian unsigned 32-bit integers, then the data, big-endian, C order. The files
are usually gzip-compressed; the reader recognises gzip by its first two bytes, not by the
file name. The header is validated and the claimed size checked before any data array is
allocated, so a corrupt or hostile header cannot make the reader allocate gigabytes.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO, cast

import numpy as np

from chainrule._atomic import atomic_path
from chainrule.datasets._checks import check_int
from chainrule.errors import DataError, ValidationError

__all__ = ["IDX_DTYPES", "MAX_IDX_BYTES", "read_idx", "write_idx"]

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype[np.generic]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
#: Default cap on the data an IDX file may claim, in bytes (MNIST's largest file is 47 MB).
MAX_IDX_BYTES = 1024**3
_MAX_NDIM = 16
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def _read_exactly(fh: BinaryIO, n: int) -> bytes:
    """Read ``n`` bytes or fewer at end of file, in chunks, so memory follows the real data."""
    parts: list[bytes] = []
    remaining = n
    while remaining > 0:
        chunk = fh.read(min(remaining, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not) into an array in native byte order.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    max_bytes : int
        Refuse files whose header claims more data than this, before allocating it.

    Returns
    -------
    ndarray
        Shape ``(d1, ..., d_ndim)`` from the header; dtype uint8, int8, int16, int32,
        float32 or float64 as the type code says. Writable, C-contiguous.

    Raises
    ------
    DataError
        If the file is missing or unreadable, the magic number is wrong, the type code is
        unknown, the claimed size exceeds ``max_bytes``, the data is shorter or longer than
        the dimensions say, or the gzip stream is corrupt.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a-idx1-ubyte.gz"
    >>> write_idx(p, np.arange(5, dtype=np.uint8))
    >>> read_idx(p).tolist()
    [0, 1, 2, 3, 4]
    """
    check_int(max_bytes, "max_bytes", low=0)
    label = os.fspath(path)
    try:
        with open(os.path.expanduser(label), "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            if compressed:
                with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                    return _read_stream(cast(BinaryIO, gz), label, max_bytes, file_size=None)
            return _read_stream(raw, label, max_bytes, file_size=os.fstat(raw.fileno()).st_size)
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise DataError(f"{label}: corrupt gzip data ({exc})") from exc
    except OSError as exc:
        raise DataError(f"cannot read {label}: {exc.strerror or exc}") from exc


def _read_stream(fh: BinaryIO, label: str, max_bytes: int, file_size: int | None) -> np.ndarray:
    magic = _read_exactly(fh, 4)
    if len(magic) < 4:
        raise DataError(f"{label}: truncated IDX header ({len(magic)} of 4 magic bytes)")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(f"{label}: bad magic number 0x{magic.hex()}; an IDX file starts with 00 00")
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        valid = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{label}: unknown IDX type code 0x{code:02X}; expected one of {valid}")
    if not 1 <= ndim <= _MAX_NDIM:
        raise DataError(f"{label}: IDX header claims {ndim} dimensions; expected 1..{_MAX_NDIM}")
    dim_bytes = _read_exactly(fh, 4 * ndim)
    if len(dim_bytes) < 4 * ndim:
        raise DataError(
            f"{label}: truncated IDX header ({len(dim_bytes)} of {4 * ndim} dimension bytes)"
        )
    dims = struct.unpack(f">{ndim}I", dim_bytes)
    dtype = IDX_DTYPES[code]
    n_bytes = math.prod(dims) * dtype.itemsize
    header_size = 4 + 4 * ndim
    if n_bytes > max_bytes:
        raise DataError(
            f"{label}: IDX header claims dimensions {dims} of {dtype.name}, {n_bytes} bytes, "
            f"more than the {max_bytes}-byte limit (pass max_bytes= to raise it)"
        )
    if file_size is not None and file_size - header_size != n_bytes:
        raise DataError(
            f"{label}: IDX dimensions {dims} need {n_bytes} bytes of data, but the file has "
            f"{file_size - header_size} after the {header_size}-byte header"
        )
    data = _read_exactly(fh, n_bytes)
    if len(data) != n_bytes:
        raise DataError(
            f"{label}: truncated IDX data: dimensions {dims} need {n_bytes} bytes, got {len(data)}"
        )
    if fh.read(1):
        raise DataError(f"{label}: IDX data is longer than dimensions {dims} say ({n_bytes} bytes)")
    try:
        array = np.frombuffer(data, dtype=dtype).reshape(dims)
    except ValueError as exc:  # e.g. (0, 3e9, 3e9): no data, but numpy cannot shape it
        raise DataError(f"{label}: IDX dimensions {dims} do not form an array ({exc})") from exc
    return array.astype(dtype.newbyteorder("="))


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, *, compress: bool | None = None
) -> None:
    """Write ``array`` as an IDX file, atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or os.PathLike
        Destination; replaced if it exists.
    array : ndarray
        At least 1-D, dtype uint8, int8, int16, int32, float32 or float64, each dimension
        < 2**32.
    compress : bool or None
        gzip the file; ``None`` compresses when the name ends in ``.gz``.

    Raises
    ------
    ValidationError
        If the array's dtype or shape cannot be stored in IDX.
    DataError
        If the file cannot be written.
    """
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        names = ", ".join(dt.newbyteorder("=").name for dt in IDX_DTYPES.values())
        raise ValidationError(f"IDX stores dtypes {names}; got {array.dtype}")
    if not 1 <= array.ndim <= _MAX_NDIM or any(d >= 2**32 for d in array.shape):
        raise ValidationError(
            f"IDX stores 1..{_MAX_NDIM} dimensions each < 2**32; got shape {array.shape}"
        )
    big = array.astype(native.newbyteorder(">"), copy=False)
    payload = (
        bytes([0, 0, codes[native], array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + np.ascontiguousarray(big).tobytes()
    )
    target = Path(path)
    if compress is None:
        compress = target.name.endswith(".gz")
    try:
        with atomic_path(target) as tmp:
            if compress:
                # mtime=0 so the same array always gives the same bytes (stable checksums).
                with (
                    open(tmp, "wb") as fh,
                    gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0) as gz,
                ):
                    gz.write(payload)
            else:
                tmp.write_bytes(payload)
    except OSError as exc:
        raise DataError(f"cannot write {os.fspath(path)}: {exc.strerror or exc}") from exc
