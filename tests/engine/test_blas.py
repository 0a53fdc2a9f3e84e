"""``blas.add_product``: ``C <- C + alpha A B`` through numpy's own BLAS, against float64 numpy."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import blas


def _layout(M, kind):
    """``M``'s values in one of the layouts the engine hands to BLAS (and one it cannot read)."""
    if kind == "row-major":
        return np.ascontiguousarray(M)
    if kind == "column-major":
        return np.asfortranarray(M)
    if kind == "row view":  # W[:, :-1] of a row-major array: rows apart by more than a row
        wide = np.zeros((M.shape[0], M.shape[1] + 3), M.dtype)
        wide[:, : M.shape[1]] = M
        return wide[:, : M.shape[1]]
    if kind == "column view":  # h[:, :-1] of a column-major array
        tall = np.zeros((M.shape[0] + 2, M.shape[1]), M.dtype, order="F")
        tall[: M.shape[0]] = M
        return tall[: M.shape[0]]
    assert kind == "no unit stride"  # every other element: BLAS cannot read it, so it is copied
    sparse = np.zeros((M.shape[0], 2 * M.shape[1]), M.dtype)
    sparse[:, ::2] = M
    return sparse[:, ::2]


LAYOUTS = ["row-major", "column-major", "row view", "column view", "no unit stride"]
WRITABLE_LAYOUTS = LAYOUTS[:4]


@pytest.fixture(params=["blas", "numpy"])
def path(request, monkeypatch):
    """Both implementations: numpy's BLAS, and numpy alone (a numpy built on another BLAS)."""
    if request.param == "numpy":
        monkeypatch.setattr(blas, "_gemms", lambda: {})
    elif not blas.in_place():
        pytest.skip("numpy's BLAS was not found on this machine")
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "shape", [(3, 4, 5), (1, 6, 2), (5, 1, 3), (4, 3, 1), (1, 1, 1), (9, 0, 2)]
)
def test_every_layout_adds_the_product(path, dtype, shape):
    rng = np.random.default_rng(sum(shape))
    m, k, n = shape
    A0, B0, C0 = (rng.standard_normal(s) for s in ((m, k), (k, n), (m, n)))
    expected = C0 - 0.37 * (A0 @ B0)  # float64
    tolerance = 1e-5 if dtype == np.float32 else 1e-13
    for a_kind in LAYOUTS:
        for b_kind in LAYOUTS:
            for c_kind in WRITABLE_LAYOUTS:
                A, B = _layout(A0.astype(dtype), a_kind), _layout(B0.astype(dtype), b_kind)
                C = _layout(C0.astype(dtype), c_kind)
                blas.add_product(C, A, B, -0.37)
                where = f"{a_kind=} {b_kind=} {c_kind=}"
                np.testing.assert_allclose(
                    C, expected, rtol=tolerance, atol=tolerance, err_msg=where
                )


def test_numpy_built_on_openblas_gets_the_one_blas_call():
    """numpy's wheels carry scipy-openblas (their build configuration says so); then its BLAS
    must be found, or the trainer would silently keep the slower two passes."""
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if config.get("name") != "scipy-openblas":
        pytest.skip(f"numpy is built on {config.get('name')}, not a wheel's scipy-openblas")
    assert blas.in_place()
    assert set(blas._gemms()) == {"f", "d"}


def test_the_blas_call_writes_into_c_itself():
    """No copy of ``C`` is updated instead: a view of ``C`` sees the sum."""
    rng = np.random.default_rng(0)
    W = np.asfortranarray(rng.standard_normal((6, 5)).astype(np.float32))
    before = W.copy()
    view = W[:, :-1]
    A, B = rng.standard_normal((6, 8)).astype(np.float32), rng.standard_normal((8, 4))
    blas.add_product(view, A, B.astype(np.float32), 2.0)
    np.testing.assert_allclose(W[:, :-1], before[:, :-1] + 2.0 * (A @ B), rtol=1e-5, atol=1e-5)
    assert W[:, -1].tobytes() == before[:, -1].tobytes()  # the column beside the view untouched


@pytest.mark.parametrize(
    ("shapes", "dtypes", "message"),
    [
        (((2, 3), (4, 5), (2, 5)), ("f", "f", "f"), r"float32 \(2, 3\) @ float32 \(4, 5\)"),
        (((2, 3), (3, 5), (2, 4)), ("f", "f", "f"), r"to \(2, 4\)"),
        (((2, 3), (3, 5), (2, 5)), ("f", "d", "f"), r"float32 \(2, 3\) @ float64 \(3, 5\)"),
    ],
)
def test_products_that_do_not_fit_are_refused(shapes, dtypes, message):
    A, B, C = (np.zeros(s, d) for s, d in zip(shapes, dtypes))
    with pytest.raises(ValueError, match=message):
        blas.add_product(C, A, B, 1.0)


def test_a_read_only_array_is_not_written():
    C = np.zeros((2, 2), np.float32, order="F")
    C.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blas.add_product(C, np.ones((2, 3), np.float32), np.ones((3, 2), np.float32), 1.0)
    assert not C.any()


class _FakeRoutine:
    """Stands for a ``ctypes`` function of a library: typed by assignment, callable."""

    def __init__(self, result=None):
        self.result, self.calls = result, []

    def __call__(self, *args):
        self.calls.append(args)
        return self.result


class _FakeOpenBLAS:
    """A library exporting OpenBLAS's names, without ``scipy_`` or ``64_``: a 32-bit build unless
    its configuration string says ``USE64BITINT``."""

    def __init__(self, config: bytes) -> None:
        self.openblas_get_config = _FakeRoutine(config)
        self.cblas_sgemm, self.cblas_dgemm = _FakeRoutine(), _FakeRoutine()


@pytest.mark.parametrize(
    ("config", "integer", "largest"),
    [
        (b"OpenBLAS 0.3.26 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64", "c_int32", 2**31 - 1),
        (b"OpenBLAS 0.3.26 USE64BITINT DYNAMIC_ARCH Haswell", "c_int64", 2**63 - 1),
    ],
)
def test_the_integer_width_and_its_largest_size_come_from_the_library(config, integer, largest):
    import ctypes

    gemms = blas._openblas_gemms(_FakeOpenBLAS(config))
    assert set(gemms) == {"f", "d"}
    for gemm in gemms.values():
        assert gemm.largest == largest
        assert gemm.call.argtypes[3] is getattr(ctypes, integer)  # m, n, k and the leading dims


def test_sizes_the_library_cannot_hold_go_to_numpy(monkeypatch):
    """A 32-bit BLAS given a dimension above 2**31 - 1 would read it wrapped (``ctypes`` does not
    check): the product goes to numpy instead, and the sum is still right. Here the limit is
    lowered to 4, so that a small product crosses it."""
    routine = _FakeRoutine()
    monkeypatch.setattr(blas, "_gemms", lambda: {"f": blas._Gemm(routine, 4)})
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((3, 5)), rng.standard_normal((5, 2))
    C0 = rng.standard_normal((3, 2))
    C = np.asfortranarray(C0.astype(np.float32))
    blas.add_product(C, A.astype(np.float32), B.astype(np.float32), -0.5)
    assert routine.calls == []  # k = 5 > 4: BLAS was not called
    np.testing.assert_allclose(C, C0 - 0.5 * A @ B, rtol=1e-5, atol=1e-5)
    small = np.asfortranarray(C0[:2, :2].astype(np.float32))
    blas.add_product(small, A[:2, :2].astype(np.float32), B[:2].astype(np.float32), -0.5)
    assert len(routine.calls) == 1  # every size and leading dimension <= 4: BLAS was called
