"""Read and write the safetensors file format with numpy alone.

The format (https://github.com/huggingface/safetensors) is::

    [8 bytes]  N, the header length, an unsigned little-endian 64-bit integer
    [N bytes]  a UTF-8 JSON object, padded with spaces to a multiple of 8 bytes:
               {"__metadata__": {str: str},                    (optional)
                name: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
    [rest]     the byte buffer: every tensor little-endian, C order, at its data_offsets
               (relative to the start of the buffer), back to back with no gaps

Files written here are byte-for-byte what the reference library writes for the same tensors
(tensors ordered by dtype, widest first, then by name; ``__metadata__`` first), so they load with
``safetensors.numpy.load_file`` and vice versa.

The reader trusts nothing in the file: every length, offset, shape and dtype is checked against
the file's real size before anything is allocated, and every problem raises
:class:`~chainrule.errors.ModelFileError` naming the file and what is wrong. Writes are atomic:
the bytes go to a temporary file in the same directory, are flushed to disk, and the temporary file
is renamed onto the target, so a crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import struct
import sys
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from chainrule._atomic import atomic_path
from chainrule._file_kinds import what_it_is
from chainrule.errors import ModelFileError, ValidationError

__all__ = [
    "MAX_HEADER_BYTES",
    "atomic_write",
    "file_path",
    "read_safetensors",
    "safetensors_dtype",
    "utf8",
    "write_safetensors",
]

Array = npt.NDArray[Any]
PathLike = str | os.PathLike[str]

#: The reference library refuses headers longer than this; so do we (reading and writing).
MAX_HEADER_BYTES = 100_000_000

_METADATA_KEY = "__metadata__"
_MAX_NDIM = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32
_MAX_ARRAY_BYTES = int(np.iinfo(np.intp).max)
_TENSOR_FIELDS = frozenset({"dtype", "shape", "data_offsets"})

# safetensors dtype name -> little-endian numpy dtype, for every dtype numpy can represent.
# (BF16, the F8/F6/F4 formats and complex types have no numpy equivalent and are rejected.)
_ST_TO_NP: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "I16": np.dtype("<i2"),
    "U16": np.dtype("<u2"),
    "F16": np.dtype("<f2"),
    "I32": np.dtype("<i4"),
    "U32": np.dtype("<u4"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I64": np.dtype("<i8"),
    "U64": np.dtype("<u8"),
}
# numpy kind+itemsize -> safetensors dtype name.
_NP_TO_ST: dict[tuple[str, int], str] = {
    (dt.kind, dt.itemsize): name for name, dt in _ST_TO_NP.items()
}
# The reference serializer orders tensors by its Dtype enum, largest first, then by name. This is
# the enum's order restricted to the dtypes above.
_DTYPE_RANK: dict[str, int] = {
    name: rank
    for rank, name in enumerate(
        ["BOOL", "U8", "I8", "I16", "U16", "F16", "I32", "U32", "F32", "F64", "I64", "U64"]
    )
}


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def safetensors_dtype(name: str, array: Array) -> str:
    """The safetensors dtype name (``"F32"``, ...) of ``array``; ``name`` is for the message.

    Raises
    ------
    ValidationError
        For dtypes a safetensors file cannot hold in numpy terms (complex, object, str, ...).
    """
    dt = array.dtype
    st = _NP_TO_ST.get((dt.kind, dt.itemsize)) if dt.kind in "biuf" else None
    if st is None:
        supported = ", ".join(str(d) for d in _ST_TO_NP.values())
        raise ValidationError(
            f"tensor {name!r}: dtype {dt} cannot be stored in a safetensors file; "
            f"expected one of {supported}"
        )
    return st


def utf8(text: str) -> bytes:
    """``text`` encoded as UTF-8, the only encoding a safetensors header has.

    Raises
    ------
    ValidationError
        For a lone surrogate (``"\\ud800"``) in a name, a label or a metadata string: no Unicode
        character, so no UTF-8 bytes.
    """
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            "tensor names, class labels and metadata must be valid Unicode; "
            f"{exc.object[exc.start : exc.end]!r} cannot be encoded as UTF-8"
        ) from exc


def _encode_header(
    entries: list[tuple[str, str, tuple[int, ...], int, int]],
    metadata: Mapping[str, str] | None,
) -> bytes:
    header: dict[str, Any] = {}
    if metadata is not None:
        header[_METADATA_KEY] = dict(sorted(metadata.items()))
    for name, st, shape, begin, end in entries:
        header[name] = {"dtype": st, "shape": list(shape), "data_offsets": [begin, end]}
    raw = utf8(json.dumps(header, separators=(",", ":"), ensure_ascii=False))
    return raw + b" " * (-len(raw) % 8)


def _prepare(
    tensors: Mapping[str, Array], metadata: Mapping[str, str] | None
) -> tuple[bytes, list[Array]]:
    """Validate the inputs; return the padded header and the arrays in file order."""
    if not isinstance(tensors, Mapping):
        raise ValidationError(f"tensors must be a dict of name -> numpy array; got {type(tensors)}")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            raise ValidationError(f"metadata must be a dict of str -> str; got {type(metadata)}")
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise ValidationError(
                    f"metadata must map str to str; got {key!r}: {type(value).__name__}"
                )
    prepared: list[tuple[str, str, Array]] = []
    for name, array in tensors.items():
        if not isinstance(name, str) or not name:
            raise ValidationError(f"tensor names must be non-empty strings; got {name!r}")
        if name == _METADATA_KEY:
            raise ValidationError(f"{_METADATA_KEY!r} is reserved and cannot name a tensor")
        if not isinstance(array, np.ndarray):
            raise ValidationError(
                f"tensor {name!r} must be a numpy array; got {type(array).__name__}"
            )
        st = safetensors_dtype(name, array)
        # Little-endian, C order; a no-op (no copy) for the usual native contiguous arrays.
        # asarray(order="C"), not ascontiguousarray, which would turn 0-d arrays into 1-d ones.
        prepared.append((name, st, np.asarray(array, dtype=_ST_TO_NP[st], order="C")))
    prepared.sort(key=lambda item: (-_DTYPE_RANK[item[1]], item[0]))

    entries: list[tuple[str, str, tuple[int, ...], int, int]] = []
    offset = 0
    for name, st, array in prepared:
        entries.append((name, st, array.shape, offset, offset + array.nbytes))
        offset += array.nbytes
    header = _encode_header(entries, metadata)
    if len(header) > MAX_HEADER_BYTES:
        raise ValidationError(
            f"the safetensors header would be {len(header)} bytes; the format allows at most "
            f"{MAX_HEADER_BYTES} (too many tensors or too much metadata)"
        )
    return header, [array for _, _, array in prepared]


def file_path(path: object) -> str:
    """``path`` (a str, ``bytes`` or ``os.PathLike``) as a str, for a file to read or write.

    Raises
    ------
    ValidationError
        For anything else (``None``, a number, an open file object), which ``open`` would refuse
        with a bare ``TypeError``.
    """
    if not isinstance(path, str | bytes | os.PathLike):
        raise ValidationError(f"path must be a file path (a str or pathlib.Path); got {path!r:.80}")
    return os.fsdecode(path)


def atomic_write(path: PathLike, chunks: Iterable[bytes | memoryview]) -> None:
    """Write ``chunks`` to ``path`` atomically (see :func:`chainrule._atomic.atomic_path`).

    On any exception a previous file at ``path`` is left untouched. ``OSError`` (read-only
    directory, disk full, ...) becomes :class:`~chainrule.errors.ModelFileError` naming the path
    and the reason; a ``path`` that is no path (``None``) a :class:`ValidationError`.
    """
    where = file_path(path)
    try:
        with atomic_path(where) as tmp, open(tmp, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ModelFileError(
            f"cannot write {where!r}: {reason}; any previous file there is unchanged"
        ) from exc


def write_safetensors(
    path: PathLike,
    tensors: Mapping[str, Array],
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``tensors`` (and string ``metadata``) to ``path`` as a safetensors file, atomically.

    Parameters
    ----------
    path:
        The target file. Written to a temporary file in the same directory and renamed, so
        readers see either the previous file or the complete new one.
    tensors:
        Name -> array. Any shape (including 0-d and empty); dtypes bool, (u)int8/16/32/64,
        float16/32/64. Non-contiguous or big-endian arrays are converted on the way out.
    metadata:
        Optional str -> str pairs stored under ``__metadata__``.

    Raises
    ------
    ValidationError
        A name, array or metadata entry cannot be stored, or ``path`` is no file path.
    ModelFileError
        The file cannot be written (read-only directory, disk full, ...); the previous file at
        ``path``, if any, is unchanged.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "t.safetensors")
    >>> write_safetensors(p, {"W1": np.ones((2, 3), np.float32)}, {"note": "hi"})
    >>> tensors, meta = read_safetensors(p)
    >>> tensors["W1"].shape, meta
    ((2, 3), {'note': 'hi'})
    """
    header, arrays = _prepare(tensors, metadata)
    chunks: list[bytes | memoryview] = [struct.pack("<Q", len(header)), header]
    # A memoryview over each C-contiguous array: written without an extra copy.
    chunks.extend(a.reshape(-1).view(np.uint8).data for a in arrays if a.nbytes)
    atomic_write(path, chunks)


# --------------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------------


class InvalidFile(Exception):
    """Internal to the serialization package: what is wrong with a file; the reader that catches
    it raises :class:`~chainrule.errors.ModelFileError` naming the file."""


def invalid(message: str) -> NoReturn:
    """Stop reading: the file is invalid for the reason ``message``."""
    raise InvalidFile(message)


def is_json_int(value: object) -> bool:
    """A JSON integer (JSON true/false arrive as bool, a subclass of int: not a length)."""
    return isinstance(value, int) and not isinstance(value, bool)


def parse_json_object(text: str, what: str) -> dict[str, Any]:
    """Parse ``text`` as strict JSON that must be an object; ``what`` names it in errors.

    Stricter than :func:`json.loads`: a key given twice, ``NaN``/``Infinity``, numbers beyond a
    float's range (``1e400``), nesting deep enough to exhaust the recursion limit, integers past
    Python's digit limit and lone surrogate escapes (``"\\ud800"``: no Unicode text, refused by the
    reference reader too) are all refused.
    """

    def unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                invalid(f"{what} has the key {key!r} twice")
            result[key] = value
        return result

    def reject_constant(token: str) -> NoReturn:
        invalid(f"{what} contains {token}, which is not valid JSON")

    def finite_float(token: str) -> float:
        # Valid JSON, but 1e400 becomes inf, which no later json.dumps (a checksum) accepts.
        value = float(token)
        if not math.isfinite(value):
            invalid(f"{what} contains the number {token[:40]}, too large for a float")
        return value

    try:
        document = json.loads(
            text,
            object_pairs_hook=unique_pairs,
            parse_constant=reject_constant,
            parse_float=finite_float,
        )
        # Valid JSON, but a string that no text encoding holds: any later encoding (a checksum,
        # a message, a file written again) would fail on it.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except InvalidFile:
        raise
    except RecursionError:
        invalid(f"{what} is not valid JSON (nested too deeply)")
    except UnicodeEncodeError as exc:
        invalid(
            f"{what} holds {exc.object[exc.start : exc.end]!r}, a lone surrogate escape, "
            "which is not valid Unicode"
        )
    except ValueError as exc:  # json.JSONDecodeError, and int-digit limits
        invalid(f"{what} is not valid JSON ({exc})")
    if not isinstance(document, dict):
        invalid(f"{what} is not a JSON object (it is a JSON {type(document).__name__})")
    return document


def _parse_header(raw: bytes) -> dict[str, Any]:
    if not raw.startswith(b"{"):
        invalid("the header does not start with '{'; not a safetensors file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        invalid(f"the header is not valid UTF-8 ({exc.reason} at byte {8 + exc.start})")
    return parse_json_object(text, "the header")


def _parse_metadata(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        invalid(f"{_METADATA_KEY!r} must be an object of strings; got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(item, str):
            invalid(f"metadata {key!r} must be a string; got {type(item).__name__}")
    return dict(value)


def _parse_entry(name: str, info: object) -> tuple[np.dtype[Any], tuple[int, ...], int, int]:
    if not isinstance(info, dict):
        invalid(f"tensor {name!r}: expected an object with dtype, shape and data_offsets")
    missing = _TENSOR_FIELDS - info.keys()
    if missing:
        invalid(f"tensor {name!r}: missing {', '.join(sorted(missing))}")
    unknown = info.keys() - _TENSOR_FIELDS
    if unknown:
        invalid(f"tensor {name!r}: unknown field(s) {', '.join(sorted(map(repr, unknown)))}")
    st = info["dtype"]
    if not isinstance(st, str) or st not in _ST_TO_NP:
        invalid(
            f"tensor {name!r}: unknown or unsupported dtype {st!r}; "
            f"expected one of {', '.join(_ST_TO_NP)}"
        )
    shape = info["shape"]
    if not isinstance(shape, list) or not all(is_json_int(d) for d in shape):
        invalid(f"tensor {name!r}: shape must be a list of integers; got {shape!r:.80}")
    if any(d < 0 for d in shape):
        invalid(f"tensor {name!r}: shape {shape} has a negative dimension")
    if len(shape) > _MAX_NDIM:
        invalid(f"tensor {name!r}: {len(shape)} dimensions; numpy supports at most {_MAX_NDIM}")
    offsets = info["data_offsets"]
    if not (
        isinstance(offsets, list) and len(offsets) == 2 and all(is_json_int(o) for o in offsets)
    ):
        invalid(f"tensor {name!r}: data_offsets must be [begin, end]; got {offsets!r:.80}")
    begin, end = offsets
    if begin < 0 or end < begin:
        invalid(f"tensor {name!r}: invalid data_offsets [{begin}, {end}]")
    return _ST_TO_NP[st], tuple(shape), begin, end


_EXPECTED = "not a safetensors file (an 8-byte header length, then a JSON header starting with '{')"


def _decode(data: bytes) -> tuple[dict[str, Array], dict[str, str]]:
    size = len(data)
    if size == 0:
        invalid(f"the file is empty (0 bytes, too short for a header), {_EXPECTED}")
    if size < 8:
        invalid(
            f"the file is {size} bytes, too short for the 8-byte header length: it is "
            f"{what_it_is(data[:200])}, {_EXPECTED}"
        )
    (header_len,) = struct.unpack_from("<Q", data, 0)
    implausible = header_len > MAX_HEADER_BYTES or (header_len > size - 8 and size > 8)
    if implausible and data[8:9] != b"{":
        # The first 8 bytes are no plausible length and no header follows: another kind of file,
        # which a "header length" of trillions of bytes would only obscure.
        invalid(f"it is {what_it_is(data[:200])}, {_EXPECTED}")
    if header_len > MAX_HEADER_BYTES:
        invalid(
            f"the header claims {header_len} bytes, more than the {MAX_HEADER_BYTES} allowed; "
            "the file is corrupt or not a safetensors file"
        )
    if header_len > size - 8:
        invalid(
            f"the file is truncated: its header should be {header_len} bytes but only "
            f"{size - 8} follow the length; it was cut short (an interrupted copy or download?)"
        )
    header = _parse_header(data[8 : 8 + header_len])
    metadata = _parse_metadata(header.pop(_METADATA_KEY, {}))

    buffer_start = 8 + header_len
    buffer_len = size - buffer_start
    entries: list[tuple[str, np.dtype[Any], tuple[int, ...], int, int]] = []
    for name, info in header.items():
        dtype, shape, begin, end = _parse_entry(name, info)
        # Python ints: no overflow however absurd the claimed shape; nothing allocated yet.
        count = 1
        extent = dtype.itemsize  # numpy's own limit counts the non-zero dimensions only
        for dim in shape:
            count *= dim
            extent *= max(dim, 1)
        nbytes = count * dtype.itemsize
        if extent > _MAX_ARRAY_BYTES:
            invalid(f"tensor {name!r}: shape {list(shape)} is too large for numpy")
        if end - begin != nbytes:
            invalid(
                f"tensor {name!r}: shape {list(shape)} of {dtype} needs {nbytes} bytes but "
                f"data_offsets [{begin}, {end}] span {end - begin}"
            )
        if end > buffer_len:
            invalid(
                f"tensor {name!r}: data_offsets [{begin}, {end}] run past the end of the data "
                f"({buffer_len} bytes); the file is truncated or corrupt"
            )
        entries.append((name, dtype, shape, begin, end))

    # Tensors must tile the buffer exactly: no overlap, no gap, nothing after the last one.
    entries.sort(key=lambda e: (e[3], e[4]))
    position = 0
    for name, _, _, begin, end in entries:
        if begin < position:
            invalid(f"tensor {name!r}: data_offsets [{begin}, {end}] overlap another tensor")
        if begin > position:
            invalid(f"tensor {name!r}: {begin - position} unused bytes before its data_offsets")
        position = end
    if position != buffer_len:
        invalid(
            f"{buffer_len - position} bytes of trailing data after the last tensor; "
            "the file is corrupt"
        )

    tensors: dict[str, Array] = {}
    native = sys.byteorder == "little"
    for name, dtype, shape, begin, end in entries:
        if begin == end:
            tensors[name] = np.zeros(shape, dtype=dtype.newbyteorder("="))
            continue
        flat = np.frombuffer(data, dtype=np.uint8, count=end - begin, offset=buffer_start + begin)
        if dtype.kind == "b" and int(flat.max()) > 1:
            invalid(f"tensor {name!r}: BOOL data holds bytes other than 0 and 1")
        # .copy(): writable, aligned, owning its memory; never a view into the file's bytes.
        array = flat.copy().view(dtype)
        if not native:  # pragma: no cover - big-endian hosts
            array = array.astype(dtype.newbyteorder("="))
        tensors[name] = array.reshape(shape)
    # Present tensors in the order the header lists them.
    ordered = {name: tensors[name] for name in header}
    return ordered, metadata


def read_safetensors(
    path: PathLike, *, max_bytes: int | None = None
) -> tuple[dict[str, Array], dict[str, str]]:
    """Read a safetensors file; return ``(tensors, metadata)``.

    Every array is a fresh, writable, native-byte-order copy; none alias each other or the file.

    Parameters
    ----------
    path:
        The file to read.
    max_bytes:
        Refuse files larger than this many bytes before reading them (``None``: no limit).

    Raises
    ------
    ValidationError
        ``path`` is no file path (``None``, a number).
    ModelFileError
        The file cannot be read or is not a valid safetensors file: truncated, trailing data,
        bad or oversized header, unknown dtype, shapes that disagree with their offsets,
        overlapping or out-of-range offsets, non-string metadata. The message names the file.
    """
    where = file_path(path)
    try:
        with open(where, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if max_bytes is not None and size > max_bytes:
                raise ModelFileError(
                    f"invalid safetensors file {where!r}: the file is {size} bytes, "
                    f"more than max_bytes={max_bytes}"
                )
            data = f.read()
    except OSError as exc:
        raise ModelFileError(f"cannot read {where!r}: {exc.strerror or exc}") from exc
    if max_bytes is not None and len(data) > max_bytes:  # it grew while we looked
        raise ModelFileError(
            f"invalid safetensors file {where!r}: the file is {len(data)} bytes, "
            f"more than max_bytes={max_bytes}"
        )
    try:
        return _decode(data)
    except InvalidFile as exc:
        raise ModelFileError(f"invalid safetensors file {where!r}: {exc}") from None
