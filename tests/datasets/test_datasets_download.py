"""Downloads against a local HTTP server: fresh, cached, resumed, restarted, corrupt, 404."""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import socket
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import download_file, fetch, load, read_idx
from chainrule.datasets.download import REMOTE_DATASETS, default_cache_dir
from chainrule.datasets.idx import write_idx
from chainrule.errors import DataError, DownloadError, ValidationError

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


def idx_gz(array: np.ndarray, tmp_path: Path, name: str) -> bytes:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    write_idx(path, array, compress=True)
    return path.read_bytes()


@pytest.fixture
def mnist_like(tmp_path: Path) -> dict[str, bytes]:
    """Small, valid MNIST-shaped files: 12 train and 5 test images of 28x28."""
    rng = np.random.default_rng(0)
    return {
        FILES[0]: idx_gz(rng.integers(0, 256, (12, 28, 28), dtype=np.uint8), tmp_path, FILES[0]),
        FILES[1]: idx_gz(np.arange(12, dtype=np.uint8) % 10, tmp_path, FILES[1]),
        FILES[2]: idx_gz(rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), tmp_path, FILES[2]),
        FILES[3]: idx_gz(np.array([3, 1, 4, 1, 5], dtype=np.uint8), tmp_path, FILES[3]),
    }


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def big_blob(size: int = 300_000) -> bytes:
    return np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes()


def test_fetch_downloads_verifies_and_caches(tmp_path, file_server, mnist_like) -> None:
    server = file_server(mnist_like)
    sums = {name: sha(data) for name, data in mnist_like.items()}
    seen: list[tuple[str, int, int | None]] = []
    paths = fetch(
        "mnist",
        tmp_path / "cache",
        server.url,
        checksums=sums,
        timeout=5,
        progress=lambda f, done, total: seen.append((f, done, total)),
    )
    assert set(paths) == set(FILES)
    for name, path in paths.items():
        assert path == tmp_path / "cache" / "mnist" / name
        assert path.read_bytes() == mnist_like[name]
    assert read_idx(paths[FILES[0]]).shape == (12, 28, 28)
    assert not list((tmp_path / "cache" / "mnist").glob("*.part"))
    assert seen and seen[-1][1] == seen[-1][2]
    assert len(server.requests) == 4 and all(r is None for _, r in server.requests)

    fetch("mnist", tmp_path / "cache", server.url, checksums=sums, timeout=5)
    assert len(server.requests) == 4  # all four served from the cache


def test_cached_file_with_wrong_checksum_is_fetched_again(tmp_path, file_server, mnist_like):
    server = file_server(mnist_like)
    sums = {name: sha(data) for name, data in mnist_like.items()}
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / FILES[1]).write_bytes(b"stale")
    fetch("mnist", tmp_path, server.url, checksums=sums, timeout=5)
    assert (folder / FILES[1]).read_bytes() == mnist_like[FILES[1]]


def test_resume_with_range(tmp_path, file_server) -> None:
    data = big_blob()
    server = file_server({"blob.gz": data})
    dest = tmp_path / "blob.gz"
    (tmp_path / "blob.gz.part").write_bytes(data[:100_000])
    download_file(server.url + "blob.gz", dest, sha256=sha(data), timeout=5)
    assert dest.read_bytes() == data
    assert server.requests == [("blob.gz", "bytes=100000-")]
    assert not (tmp_path / "blob.gz.part").exists()


def test_download_creates_destination_folder(tmp_path, file_server) -> None:
    data = big_blob(2000)
    server = file_server({"blob.gz": data})
    dest = tmp_path / "a" / "b" / "blob.gz"
    assert download_file(server.url + "blob.gz", dest, sha256=sha(data), timeout=5) == dest
    assert dest.read_bytes() == data


def test_server_ignoring_range_restarts(tmp_path, file_server) -> None:
    data = big_blob()
    server = file_server({"blob.gz": data}, ranges=False)
    dest = tmp_path / "blob.gz"
    (tmp_path / "blob.gz.part").write_bytes(b"x" * 5000)  # wrong bytes, must not be kept
    download_file(server.url + "blob.gz", dest, sha256=sha(data), timeout=5)
    assert dest.read_bytes() == data
    assert server.requests == [("blob.gz", "bytes=5000-")]


def test_interrupted_download_keeps_part_and_resumes(tmp_path, file_server) -> None:
    data = big_blob()
    server = file_server({"blob.gz": data})
    server.cut_after["blob.gz"] = 70_000
    dest = tmp_path / "blob.gz"
    url = server.url + "blob.gz"
    with pytest.raises(DownloadError) as info:
        download_file(url, dest, sha256=sha(data), timeout=5)
    assert url in str(info.value) and "resumes" in str(info.value)
    part = tmp_path / "blob.gz.part"
    assert part.exists() and 0 < part.stat().st_size <= 70_000
    assert not dest.exists()
    kept = part.stat().st_size
    download_file(url, dest, sha256=sha(data), timeout=5)
    assert dest.read_bytes() == data
    assert server.requests[-1] == ("blob.gz", f"bytes={kept}-")


def test_complete_part_answered_416_is_verified(tmp_path, file_server) -> None:
    data = big_blob(1000)
    server = file_server({"blob.gz": data})
    (tmp_path / "blob.gz.part").write_bytes(data)
    download_file(server.url + "blob.gz", tmp_path / "blob.gz", sha256=sha(data), timeout=5)
    assert (tmp_path / "blob.gz").read_bytes() == data
    assert server.requests == [("blob.gz", "bytes=1000-")]


def test_overlong_part_answered_416_restarts(tmp_path, file_server) -> None:
    data = big_blob(1000)
    server = file_server({"blob.gz": data})
    (tmp_path / "blob.gz.part").write_bytes(data + b"junk")
    download_file(server.url + "blob.gz", tmp_path / "blob.gz", sha256=sha(data), timeout=5)
    assert (tmp_path / "blob.gz").read_bytes() == data
    assert server.requests == [("blob.gz", "bytes=1004-"), ("blob.gz", None)]


def test_checksum_mismatch_deletes_part(tmp_path, file_server, mnist_like) -> None:
    corrupted = bytearray(mnist_like[FILES[3]])
    corrupted[-10] ^= 0xFF
    server = file_server({FILES[3]: bytes(corrupted)})
    expected = sha(mnist_like[FILES[3]])
    dest = tmp_path / FILES[3]
    with pytest.raises(DownloadError) as info:
        download_file(server.url + FILES[3], dest, sha256=expected, timeout=5)
    message = str(info.value)
    assert f"checksum mismatch for {FILES[3]}" in message
    assert f"expected sha256 {expected}" in message
    assert f"got {sha(bytes(corrupted))}" in message
    assert not dest.exists() and not (tmp_path / (FILES[3] + ".part")).exists()


def test_builtin_checksums_reject_other_files(tmp_path, file_server, mnist_like) -> None:
    server = file_server(mnist_like)
    with pytest.raises(DownloadError, match=r"checksum mismatch for train-images-idx3-ubyte\.gz"):
        fetch("mnist", tmp_path, server.url, timeout=5)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_http_404_names_url(tmp_path, file_server) -> None:
    server = file_server({})
    url = server.url + "missing.gz"
    with pytest.raises(DownloadError) as info:
        download_file(url, tmp_path / "missing.gz", sha256="0" * 64, timeout=5)
    assert str(info.value) == f"cannot download {url}: HTTP 404 Not Found"
    assert list(tmp_path.iterdir()) == []


def test_connection_refused_names_url(tmp_path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.gz"
    with pytest.raises(DownloadError, match=re.escape(f"cannot download {url}:")):
        download_file(url, tmp_path / "x.gz", sha256="0" * 64, timeout=5)


def test_oversized_download_refused(tmp_path, file_server) -> None:
    data = big_blob(5000)
    server = file_server({"blob.gz": data})
    with pytest.raises(DownloadError, match="5000 bytes, more than the expected 4000"):
        download_file(
            server.url + "blob.gz",
            tmp_path / "blob.gz",
            sha256=sha(data),
            timeout=5,
            max_bytes=4000,
        )


def test_argument_errors(tmp_path) -> None:
    with pytest.raises(ValidationError, match="http:// or https://"):
        download_file("file:///etc/passwd", tmp_path / "x", sha256="0" * 64)
    with pytest.raises(ValidationError, match="64 hexadecimal digits"):
        download_file("http://127.0.0.1/x", tmp_path / "x", sha256="abc")
    with pytest.raises(ValidationError, match="no downloadable data set 'cifar'"):
        fetch("cifar", tmp_path)
    with pytest.raises(ValidationError, match="checksums names files"):
        fetch("mnist", tmp_path, checksums={"other.gz": "0" * 64})


def test_load_mnist_and_fashion_from_mirror(tmp_path, file_server, mnist_like) -> None:
    server = file_server(mnist_like)
    sums = {name: sha(data) for name, data in mnist_like.items()}
    ds = load("mnist", cache_dir=tmp_path, base_url=server.url, checksums=sums, timeout=5)
    assert ds.X.shape == (12, 784) and ds.X.dtype == np.float64
    assert 0.0 <= ds.X.min() and ds.X.max() <= 1.0
    assert ds.y.tolist() == [i % 10 for i in range(12)]
    assert ds.classes == [str(d) for d in range(10)] and ds.name == "mnist-train"
    test = load(
        "mnist",
        split="test",
        max_samples=3,
        cache_dir=tmp_path,
        base_url=server.url,
        checksums=sums,
        timeout=5,
    )
    assert test.X.shape == (3, 784) and test.y.tolist() == [3, 1, 4]
    images = read_idx(tmp_path / "mnist" / FILES[2])
    assert np.array_equal(test.X[0], images[0].reshape(-1) / 255.0)

    fashion = load(
        "fashion_mnist",
        split="test",
        cache_dir=tmp_path,
        base_url=server.url,
        checksums=sums,
        timeout=5,
    )
    assert fashion.decode(fashion.y).tolist()[:2] == ["Dress", "Trouser"]
    with pytest.raises(ValidationError, match="split must be 'train' or 'test'"):
        load("mnist", split="valid", cache_dir=tmp_path)


def test_a_split_downloads_only_its_own_two_files(tmp_path, file_server, mnist_like) -> None:
    """The test split needs the t10k files only: the 50 MB of training images stay where they
    are. The train split then fetches its two and finds nothing more to download."""
    server = file_server(mnist_like)
    sums = {name: sha(data) for name, data in mnist_like.items()}
    options = {"cache_dir": tmp_path, "base_url": server.url, "checksums": sums, "timeout": 5}
    test = load("mnist", split="test", **options)
    assert test.y.tolist() == [3, 1, 4, 1, 5]
    assert sorted(name for name, _ in server.requests) == sorted(FILES[2:])
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(FILES[2:])
    load("mnist", split="train", **options)
    load("mnist", split="test", **options)
    assert sorted(name for name, _ in server.requests) == sorted(FILES)
    only = fetch("mnist", tmp_path, server.url, checksums=sums, timeout=5, files=FILES[3])
    assert list(only) == [FILES[3]]
    with pytest.raises(ValidationError, match=r"files names files that mnist does not have"):
        fetch("mnist", tmp_path, server.url, files=["t10k-images.gz"])


def test_load_mnist_rejects_mismatched_labels(tmp_path, file_server, mnist_like) -> None:
    files = dict(mnist_like)
    files[FILES[1]] = idx_gz(np.zeros(7, dtype=np.uint8), tmp_path, "short")
    server = file_server(files)
    sums = {name: sha(data) for name, data in files.items()}
    with pytest.raises(DataError, match="expected 12 labels to match the images"):
        load("mnist", cache_dir=tmp_path, base_url=server.url, checksums=sums, timeout=5)


def test_default_cache_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "data"))
    assert default_cache_dir() == tmp_path / "data"
    monkeypatch.delenv("CHAINRULE_DATA")
    assert default_cache_dir() == Path.home() / ".cache" / "chainrule"


def test_published_checksum_table() -> None:
    assert (
        REMOTE_DATASETS["mnist"].base_url == "https://storage.googleapis.com/cvdf-datasets/mnist/"
    )
    assert REMOTE_DATASETS["fashion_mnist"].base_url == (
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
    )
    for remote in REMOTE_DATASETS.values():
        assert tuple(f.filename for f in remote.files) == FILES
        for f in remote.files:
            assert re.fullmatch(r"[0-9a-f]{64}", f.sha256) and f.size > 0
    # Spot checks against the values TensorFlow Datasets and torchvision publish.
    assert REMOTE_DATASETS["mnist"].files[0].sha256.startswith("440fcabf73cc546f")
    assert REMOTE_DATASETS["fashion_mnist"].files[0].sha256.startswith("3aede38d61863908")
    assert REMOTE_DATASETS["mnist"].files[0].size == 9_912_422


def test_gzip_payload_is_really_idx(mnist_like) -> None:
    raw = gzip.GzipFile(fileobj=io.BytesIO(mnist_like[FILES[1]])).read()
    assert raw[:4] == b"\x00\x00\x08\x01"


@pytest.fixture
def offline_mnist(tmp_path: Path, mnist_like, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mnist`` served from local files: ``fetch`` is replaced, nothing touches the network."""
    from chainrule.datasets import bundled

    for name, data in mnist_like.items():
        (tmp_path / name).write_bytes(data)
    paths = {name: tmp_path / name for name in FILES}
    monkeypatch.setattr(bundled, "fetch", lambda *args, **kwargs: paths)


@pytest.mark.usefixtures("offline_mnist")
def test_a_split_is_named_after_a_colon() -> None:
    test = load("mnist:test")
    assert test.name == "mnist-test" and test.y.tolist() == [3, 1, 4, 1, 5]
    assert load("mnist:train").n_samples == 12
    with pytest.raises(ValidationError, match="split must be 'train' or 'test'; got 'valid'"):
        load("mnist:valid")
    with pytest.raises(ValidationError, match="give the split once"):
        load("mnist:test", split="train")
    with pytest.raises(ValidationError, match="'xor' has no splits; NAME:SPLIT works for mnist"):
        load("xor:test")


@pytest.mark.usefixtures("offline_mnist")
def test_the_command_line_trains_and_scores_on_a_split(tmp_path: Path, capsys) -> None:
    """``chainrule train mnist:test``, in this process so that the download stays offline."""
    from chainrule.cli import main

    model = tmp_path / "m.safetensors"
    args = ["mnist:test", "--epochs", "1", "--validation-fraction", "0", "-o", str(model)]
    assert main(["train", *args]) == 0
    assert "trained mnist-test" in capsys.readouterr().out
    assert main(["evaluate", str(model), "mnist:test"]) == 0
    assert "mnist:test: 5 rows" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    assert "mnist:test has 10000" in capsys.readouterr().out
