"""Fuzzed parsers (issue 7): only the documented exception may escape, memory stays bounded.

Each fuzzer feeds hypothesis-generated input to one parser for a bounded time: the model-file
loader (``ModelFileError``), the CSV and NPZ loaders and the IDX reader (``DataError``) and the
playground's message decoder (``ProtocolError``). ``CHAINRULE_FUZZ_SECONDS`` is the total
budget shared by the fuzzers (default 15 s; ``make fuzz`` gives 600). Hypothesis is run in
rounds of fresh random examples until a fuzzer's share of the budget is spent; each
execution is counted in the figures. The tests are marked ``fuzz`` and also run, briefly, in the
default run.

Besides: a file claiming a 10^12-element tensor is refused before anything is allocated
(tracemalloc), and the package never unpickles (every ``np.load`` says ``allow_pickle=False``).
"""

from __future__ import annotations

import ast
import gzip
import io
import json
import os
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reliability_figures import count

import chainrule
from chainrule.datasets import load_csv, load_npz, read_idx
from chainrule.engine.network import Network
from chainrule.errors import DataError, ModelFileError
from chainrule.serialization import load_model, save_model

FUZZERS = 5
BUDGET = float(os.environ.get("CHAINRULE_FUZZ_SECONDS", "15")) / FUZZERS
"""Seconds each fuzzer runs."""
ROUND = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)


def fuzz_for(seconds: float, name: str, fuzzer: Callable[[], None]) -> None:
    """Run the hypothesis test ``fuzzer`` in rounds until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    fuzzer()  # at least one round, however small the budget
    while time.monotonic() < deadline:
        fuzzer()
    assert name  # the executions were counted by the fuzzer's body


def _expect_only(error: type[Exception], parse: Callable[[], Any]) -> Any:
    """Run ``parse``; the documented ``error`` is fine, anything else fails the test."""
    try:
        return parse()
    except error:
        return None


# -- seeds ------------------------------------------------------------------------------------


def _model_bytes(tmp: Path) -> bytes:
    net = Network([3, 4, 2], ["relu", "softmax"], seed=0)
    path = tmp / "seed.safetensors"
    save_model(
        path,
        net,
        classes=["a", "b"],
        preprocessing={"mean": [0.0, 1.0, 2.0]},
    )
    return path.read_bytes()


def _npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, X=np.arange(12.0).reshape(6, 2), y=np.array([0, 1] * 3))
    return buffer.getvalue()


mutations = st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 255)), min_size=0, max_size=8)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None, tail: bytes) -> bytes:
    out = bytearray(data)
    for position, value in edits:
        out[position % len(out)] = value
    if cut is not None:
        out = out[: cut % (len(out) + 1)]
    return bytes(out) + tail


# -- the fuzzers ------------------------------------------------------------------------------


@pytest.mark.fuzz
@pytest.mark.timeout(BUDGET + 120)
def test_fuzz_model_file_loader(tmp_path: Path) -> None:
    seed = _model_bytes(tmp_path)
    n = int.from_bytes(seed[:8], "little")
    header = json.loads(seed[8 : 8 + n])
    target = tmp_path / "fuzzed.safetensors"
    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats()
        | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=12,
    )

    @ROUND
    @given(
        mode=st.sampled_from(["bytes", "header", "random"]),
        edits=mutations,
        cut=st.none() | st.integers(0, 2**20),
        tail=st.binary(max_size=16),
        key=st.sampled_from(sorted(header)),
        field=st.sampled_from(["dtype", "shape", "data_offsets", "chainrule", "__new__"]),
        value=json_values,
        noise=st.binary(max_size=256),
    )
    def fuzzer(
        mode: str, edits: Any, cut: Any, tail: bytes, key: str, field: str, value: Any, noise: bytes
    ) -> None:
        if mode == "bytes":
            data = _mutate(seed, edits, cut, tail)
        elif mode == "header":
            edited = json.loads(json.dumps(header))
            entry = edited[key]
            if key == "__metadata__" and field == "chainrule":
                document = json.loads(entry["chainrule"])
                document[str(value)[:10] if isinstance(value, str) else "sizes"] = value
                entry["chainrule"] = json.dumps(document)
            else:
                entry[field] = value
            raw = json.dumps(edited).encode()
            data = len(raw).to_bytes(8, "little") + raw + seed[8 + n :]
        else:
            data = noise
        target.write_bytes(data)
        model = _expect_only(ModelFileError, lambda: load_model(target))
        if model is not None:
            assert all(np.isfinite(W).all() for W in model.weights)
        count("fuzz_executions", "serialization.load_model")

    fuzz_for(BUDGET, "model", fuzzer)


csv_tokens = st.sampled_from(
    [
        "0",
        "1",
        "-2.5",
        "1e308",
        "1e309",
        "nan",
        "inf",
        "-inf",
        "abc",
        "",
        " ",
        '"',
        '"a,b"',
        "\ufeff",
        "x1",
        "y",
        "True",
        "0x10",
        "1_000",
        "\x00",
        "é",
        "3.",
        ".5",
        "+1",
    ]
)


@pytest.mark.fuzz
@pytest.mark.timeout(BUDGET + 120)
def test_fuzz_csv_loader(tmp_path: Path) -> None:
    target = tmp_path / "fuzzed.csv"

    @ROUND
    @given(
        rows=st.lists(st.lists(csv_tokens, min_size=0, max_size=6), max_size=12),
        delimiters=st.lists(st.sampled_from([",", ";", "\t", " ", "|"]), min_size=1, max_size=3),
        newline=st.sampled_from(["\n", "\r\n", "\r"]),
        text=st.text(max_size=200),
        noise=st.binary(max_size=200),
        mode=st.sampled_from(["rows", "text", "bytes"]),
    )
    def fuzzer(
        rows: list[list[str]],
        delimiters: list[str],
        newline: str,
        text: str,
        noise: bytes,
        mode: str,
    ) -> None:
        body = newline.join(delimiters[i % len(delimiters)].join(r) for i, r in enumerate(rows))
        if mode == "text":
            body = text
        raw = noise if mode == "bytes" else body.encode("utf-8", "surrogatepass")
        target.write_bytes(raw)
        data = _expect_only(DataError, lambda: load_csv(target))
        if data is not None:
            assert np.isfinite(data.X).all() and len(data.X) == len(data.y) > 0
        count("fuzz_executions", "datasets.load_csv")

    fuzz_for(BUDGET, "csv", fuzzer)


@pytest.mark.fuzz
@pytest.mark.timeout(BUDGET + 120)
def test_fuzz_npz_loader(tmp_path: Path) -> None:
    seed = _npz_bytes()
    target = tmp_path / "fuzzed.npz"
    dtypes = st.sampled_from(["<f4", ">f8", "<i8", "<u8", "|b1", "<U3", "<c16", "|S2", "<m8[s]"])

    @ROUND
    @given(
        mode=st.sampled_from(["bytes", "arrays"]),
        edits=mutations,
        cut=st.none() | st.integers(0, 2**16),
        X=hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)),
        y=hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)),
    )
    def fuzzer(mode: str, edits: Any, cut: Any, X: np.ndarray, y: np.ndarray) -> None:
        if mode == "bytes":
            target.write_bytes(_mutate(seed, edits, cut, b""))
        else:
            np.savez(target, X=X, y=y)
        data = _expect_only(DataError, lambda: load_npz(target))
        if data is not None:
            assert np.isfinite(data.X).all() and len(data.X) == len(data.y)
        count("fuzz_executions", "datasets.load_npz")

    fuzz_for(BUDGET, "npz", fuzzer)


@pytest.mark.fuzz
@pytest.mark.timeout(BUDGET + 120)
def test_fuzz_idx_reader(tmp_path: Path) -> None:
    target = tmp_path / "fuzzed.idx"

    @ROUND
    @given(
        magic=st.sampled_from([b"\x00\x00", b"\x00\x01", b"\x1f\x8b", b"PK"]),
        code=st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]),
        dims=st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 6), max_size=5),
        ndim_lie=st.integers(-2, 2),
        payload=st.binary(max_size=512),
        gzipped=st.booleans(),
        edits=mutations,
    )
    def fuzzer(
        magic: bytes,
        code: int,
        dims: list[int],
        ndim_lie: int,
        payload: bytes,
        gzipped: bool,
        edits: Any,
    ) -> None:
        ndim = max(0, min(255, len(dims) + ndim_lie))
        header = magic + bytes([code, ndim]) + b"".join(struct.pack(">I", d) for d in dims)
        data = header + payload
        if gzipped:  # the reader inflates .gz files itself: damage the compressed stream
            data = _mutate(gzip.compress(data, mtime=0), edits, None, b"")
        target.write_bytes(data)
        array = _expect_only(DataError, lambda: read_idx(target))
        if array is not None:
            assert array.nbytes <= len(header + payload)
        count("fuzz_executions", "datasets.read_idx")

    fuzz_for(BUDGET, "idx", fuzzer)


@pytest.mark.fuzz
@pytest.mark.timeout(BUDGET + 120)
def test_fuzz_playground_message_decoder() -> None:
    from chainrule.web.protocol import MESSAGES, ProtocolError, parse_message

    scalars = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=True, allow_infinity=True)
        | st.text(max_size=12)
    )
    values = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
        ),
        max_leaves=30,
    )
    field_names = sorted({name for spec in MESSAGES.values() for name in spec} | {"type"})

    @ROUND
    @given(
        kind=st.sampled_from([*sorted(MESSAGES), "nope", ""]),
        fields=st.dictionaries(
            st.sampled_from(field_names) | st.text(max_size=6), values, max_size=5
        ),
        text=st.text(max_size=100),
        depth=st.integers(0, 5000),
        mode=st.sampled_from(["message", "text", "nested"]),
    )
    def fuzzer(kind: str, fields: dict[str, Any], text: str, depth: int, mode: str) -> None:
        if mode == "message":
            message = json.dumps({**fields, "type": kind})  # NaN/Infinity as JSON's extensions
        elif mode == "nested":
            message = '{"type": "predict", "points": ' + "[" * depth + "]" * depth + "}"
        else:
            message = text
        _expect_only(ProtocolError, lambda: parse_message(message))
        count("fuzz_executions", "web.protocol.parse_message")

    fuzz_for(BUDGET, "message", fuzzer)


# -- memory: huge claims are refused before allocation -------------------------------------------


def _peak_bytes(parse: Callable[[], Any], error: type[Exception]) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(error):
            parse()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("name", "make", "parse", "error"),
    [
        (
            "model file, W1 of 10^6 x 10^6",
            lambda p: p.write_bytes(
                _safetensors(
                    {
                        "W1": {
                            "dtype": "F32",
                            "shape": [10**6, 10**6],
                            "data_offsets": [0, 4 * 10**12],
                        }
                    }
                )
            ),
            load_model,
            ModelFileError,
        ),
        (
            "model file, 10^12 elements, offsets consistent with the claim",
            lambda p: p.write_bytes(
                _safetensors(
                    {"W1": {"dtype": "U8", "shape": [10**12], "data_offsets": [0, 10**12]}}
                )
            ),
            load_model,
            ModelFileError,
        ),
        (
            "IDX, 10^6 x 10^6 bytes",
            lambda p: p.write_bytes(b"\x00\x00\x08\x02" + struct.pack(">II", 10**6, 10**6)),
            read_idx,
            DataError,
        ),
        (
            "NPZ, X of 10^6 x 10^6 float64",
            lambda p: p.write_bytes(_npz_claiming((10**6, 10**6))),
            load_npz,
            DataError,
        ),
    ],
    ids=["model-1e12-past-end", "model-1e12-claimed", "idx-1e12", "npz-1e12"],
)
def test_claims_of_10e12_elements_are_refused_before_allocation(
    tmp_path: Path,
    name: str,
    make: Callable[[Path], Any],
    parse: Callable[[Path], Any],
    error: type[Exception],
) -> None:
    path = tmp_path / "claim"
    make(path)
    peak = _peak_bytes(lambda: parse(path), error)
    assert peak < 4 * 1024**2, f"{name}: {peak / 1e6:.1f} MB allocated before refusing"


def _safetensors(header: dict[str, Any]) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + bytes(64)


def _npz_claiming(shape: tuple[int, ...]) -> bytes:
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + bytes(64)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("X.npy", npy)
        y = io.BytesIO()
        np.save(y, np.zeros(2))
        archive.writestr("y.npy", y.getvalue())
    return buffer.getvalue()


# -- no pickle anywhere ---------------------------------------------------------------------------


def test_the_package_never_unpickles() -> None:
    """Every ``np.load`` passes ``allow_pickle=False``; no pickle-family loader is imported."""
    root = Path(chainrule.__file__).parent
    forbidden_modules = {"pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
    problems: list[str] = []
    loads = 0
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(root)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                for module in names:
                    if module.split(".")[0] in forbidden_modules:
                        problems.append(f"{where}:{node.lineno} imports {module}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                func = ast.unparse(node.func)
                if func in ("np.load", "numpy.load"):
                    loads += 1
                    ok = any(
                        k.arg == "allow_pickle"
                        and isinstance(k.value, ast.Constant)
                        and k.value.value is False
                        for k in node.keywords
                    )
                    if not ok:
                        problems.append(
                            f"{where}:{node.lineno} calls {func} without allow_pickle=False"
                        )
                if func in ("torch.load", "pd.read_pickle", "pandas.read_pickle"):
                    problems.append(f"{where}:{node.lineno} calls {func}")
    assert problems == []
    assert loads >= 2  # the NPZ loader and the CLI's weights file: the scan sees them
