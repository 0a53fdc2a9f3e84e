"""``C <- C + alpha A B`` in one pass: the BLAS call numpy does not expose.

Gradient descent with the product that gives ``dL/dW`` is two passes over every weight in numpy:
``dL_dW = dL_de^T h_prev`` writes the gradient, then ``W -= eta * dL_dW`` reads it back. BLAS's
``gemm`` computes ``C <- alpha A B + beta C``: with ``C = W``, ``alpha = -eta`` and ``beta = 1``
the product *is* the step ``w_jk <- w_jk - eta sum_n dL/de_j h_k``, on all of BLAS's threads,
and the separate pass (one core, three arrays the size of ``W`` through memory) is gone. On
784-256-256-10 at batch 128 that pass was about 7% of a training step.

The call goes to the BLAS library numpy itself loaded (the OpenBLAS in numpy's wheels), through
``ctypes``: the same library, and so the same thread pool, as numpy's own products. A second
BLAS (scipy's has its own OpenBLAS) would start a second pool, and two pools spinning on two
cores made a step four times slower. Where numpy's BLAS cannot be identified (a numpy built on
another BLAS), :func:`add_product` computes the same with numpy, and :func:`in_place` says so:
callers that add the product only for speed then keep numpy's two passes.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]

_COL_MAJOR, _NO_TRANS, _TRANS = 102, 111, 112  # the CBLAS enums


@dataclass(frozen=True)
class _Gemm:
    """A ``cblas_?gemm`` and the largest size or leading dimension its integers hold."""

    call: Callable[..., None]
    largest: int


def add_product(C: Array, A: Array, B: Array, alpha: float) -> None:
    """``C <- C + alpha A B`` in place: in one BLAS call where :func:`in_place`, else with numpy.

    ``A`` ``(m, k)``, ``B`` ``(k, n)`` and ``C`` ``(m, n)`` share a float dtype; each may be row-
    or column-major, or a view with one contiguous axis (``W[:, :-1]``, ``h.T``). ``C`` must not
    overlap ``A`` or ``B``. BLAS may add the products in another order than numpy's ``matmul``:
    the results agree to rounding.
    """
    fits = A.shape[1] == B.shape[0] and C.shape == (A.shape[0], B.shape[1])
    if not (A.dtype == B.dtype == C.dtype) or not fits:
        raise ValueError(f"cannot add {A.dtype} {A.shape} @ {B.dtype} {B.shape} to {C.shape}")
    if not C.flags.writeable:
        raise ValueError("cannot add a product to a read-only array")
    c = _column_major(C)
    if c is not None and c[0] == _TRANS:
        add_product(C.T, B.T, A.T, alpha)  # a row-major C: (C^T += alpha B^T A^T) is the same
        return
    gemm = _gemms().get(C.dtype.char)
    if gemm is None or c is None:
        C += alpha * np.matmul(A, B)
        return
    _gemm_into(gemm, C, A, B, alpha)


def _gemm_into(gemm: _Gemm, C: Array, A: Array, B: Array, alpha: float) -> None:
    """``C <- C + alpha A B`` by ``gemm``, for a ``C`` whose columns are contiguous.

    BLAS reads any matrix with one unit stride; an operand without one is copied first. Sizes
    beyond what the library's integers hold (a 32-bit build: 2**31 - 1; ``ctypes`` would wrap
    them silently) go to numpy instead."""
    c = _column_major(C)
    assert c is not None and c[0] == _NO_TRANS
    a = _column_major(A) or _column_major(A := np.asfortranarray(A))
    b = _column_major(B) or _column_major(B := np.asfortranarray(B))
    assert a is not None and b is not None
    (m, k), n = A.shape, B.shape[1]
    if max(m, n, k, a[1], b[1], c[1]) > gemm.largest:
        C += alpha * np.matmul(A, B)
    elif m and n and k:  # BLAS's gemm on an empty matrix: nothing to add, odd leading dimensions
        gemm.call(
            _COL_MAJOR, a[0], b[0], m, n, k, alpha, _address(A), a[1], _address(B), b[1],
            1.0, _address(C), c[1],
        )  # fmt: skip


def _address(X: Array) -> int:
    """Where ``X``'s first element is. (``X.ctypes.data`` makes objects that only the cyclic
    garbage collector frees: they would pile up between its runs, three per call.)"""
    address: int = X.__array_interface__["data"][0]
    return address


def in_place() -> bool:
    """Whether :func:`add_product` runs in one BLAS call (numpy's BLAS was found)."""
    return bool(_gemms())


def _column_major(X: Array) -> tuple[int, int] | None:
    """How BLAS's column-major convention reads ``X`` ``(r, c)``: ``(no transpose, leading
    dimension)`` when its columns are contiguous, ``(transpose, ...)`` when its rows are (then
    ``X^T`` is column-major), else ``None``."""
    rows, cols = X.shape
    if X.flags.f_contiguous:  # the common cases first: a step makes three of these calls
        return _NO_TRANS, max(rows, 1)
    if X.flags.c_contiguous:
        return _TRANS, max(cols, 1)
    if any(s % X.itemsize or s < 0 for s in X.strides):
        return None
    row_stride, col_stride = (s // X.itemsize for s in X.strides)
    if (row_stride == 1 or rows == 1) and col_stride >= max(rows, 1):
        return _NO_TRANS, col_stride
    if (col_stride == 1 or cols == 1) and row_stride >= max(cols, 1):
        return _TRANS, row_stride
    return None


@functools.cache
def _gemms() -> dict[str, _Gemm]:
    """``{"f": sgemm, "d": dgemm}`` from numpy's own OpenBLAS, or ``{}`` if it is not found
    or fails a check against numpy's ``matmul``."""
    for library in _loaded_openblas():
        gemms = _openblas_gemms(library)
        if gemms and all(_agrees(gemm, char) for char, gemm in gemms.items()):
            return gemms
    return {}


def _loaded_openblas() -> Iterator[ctypes.CDLL]:
    """The OpenBLAS that numpy's wheels carry (in ``numpy.libs``, or ``numpy/.dylibs`` on macOS).

    Only that one: another OpenBLAS in the process (scipy's) has its own threads. A numpy linked
    to a system BLAS finds none here and keeps numpy's two passes. ``RTLD_NOLOAD`` opens only a
    library already loaded, never a second copy of it.
    """
    numpy_dir = Path(np.__file__).parent
    paths = [
        *sorted((numpy_dir.parent / "numpy.libs").glob("*openblas*")),
        *sorted((numpy_dir / ".dylibs").glob("*openblas*")),
    ]
    mode = getattr(os, "RTLD_NOLOAD", 0) if sys.platform != "win32" else 0
    for path in paths:
        try:
            yield ctypes.CDLL(str(path), mode=mode)
        except OSError:
            continue  # not loaded in this process, or not a library


def _openblas_gemms(library: ctypes.CDLL) -> dict[str, _Gemm]:
    """``cblas_sgemm`` and ``cblas_dgemm`` under the names OpenBLAS builds give them (scipy's
    wheels prefix ``scipy_``; 64-bit-integer builds add ``64_``), typed for their integers."""
    for prefix in ("scipy_", ""):
        for suffix in ("64_", ""):
            config = getattr(library, f"{prefix}openblas_get_config{suffix}", None)
            sgemm = getattr(library, f"{prefix}cblas_sgemm{suffix}", None)
            dgemm = getattr(library, f"{prefix}cblas_dgemm{suffix}", None)
            if config is None or sgemm is None or dgemm is None:
                continue
            config.restype = ctypes.c_char_p
            wide = suffix == "64_" or b"USE64BITINT" in (config() or b"")
            integer = ctypes.c_int64 if wide else ctypes.c_int32
            largest = 2 ** (8 * ctypes.sizeof(integer) - 1) - 1
            gemms: dict[str, _Gemm] = {}
            for char, gemm, real in (("f", sgemm, ctypes.c_float), ("d", dgemm, ctypes.c_double)):
                gemm.restype = None
                gemm.argtypes = [ctypes.c_int] * 3 + [integer] * 3 + [
                    real, ctypes.c_void_p, integer, ctypes.c_void_p, integer,
                    real, ctypes.c_void_p, integer,
                ]  # fmt: skip
                gemms[char] = _Gemm(gemm, largest)
            return gemms
    return {}


def _agrees(gemm: _Gemm, char: str) -> bool:
    """One small product through ``gemm`` (transposed and not), checked against numpy's."""
    rng = np.random.default_rng(0)
    dtype = np.dtype(char)
    A = rng.standard_normal((3, 4)).astype(dtype)
    B = np.asfortranarray(rng.standard_normal((4, 5)).astype(dtype))
    C = np.asfortranarray(rng.standard_normal((3, 5)).astype(dtype))
    expected = C - 0.5 * (A @ B)
    _gemm_into(gemm, C, A, B, -0.5)
    return bool(np.allclose(C, expected, rtol=1e-4, atol=1e-4))
