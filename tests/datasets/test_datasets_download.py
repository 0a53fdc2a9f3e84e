"""Downloads against a local HTTP server: fresh, cached, resumed, restarted, corrupt, 404."""

from __future__ import annotations

import builtins
import gzip
import hashlib
import io
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import download as download_module
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
    assert str(info.value) == (
        f"cannot download {url}: HTTP 404 Not Found; the file is not at that address: check "
        "the URL (base_url= names a mirror)"
    )
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


# ---------------------------------------------------------------------------- hardening


def test_two_downloads_of_one_file_take_turns(tmp_path, file_server) -> None:
    """A second download of the same file (another process, or thread) waits for the first
    and then finds its verified file, instead of appending to the same part file and failing
    when the first renames it away."""
    data = big_blob()
    server = file_server({"blob.gz": data})
    release = threading.Event()
    server.hold["blob.gz"] = (100_000, release)
    dest = tmp_path / "blob.gz"
    errors: list[BaseException] = []

    def download() -> None:
        try:
            download_file(server.url + "blob.gz", dest, sha256=sha(data), timeout=10)
        except BaseException as exc:  # reported by the assertions below
            errors.append(exc)

    first = threading.Thread(target=download)
    first.start()
    deadline = time.monotonic() + 10
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    second = threading.Thread(target=download)
    second.start()
    second.join(0.5)  # unfixed, the second downloads meanwhile; fixed, it waits its turn
    release.set()
    first.join(10)
    second.join(10)
    assert errors == []
    assert dest.read_bytes() == data
    assert server.requests == [("blob.gz", None)]  # the second reused the first's file
    assert not (tmp_path / "blob.gz.part").exists()


def test_a_stale_part_file_is_replaced_by_a_fresh_download(tmp_path, file_server) -> None:
    """A part left by an older file (or another mirror) fails the checksum once resumed:
    it is deleted and the whole file fetched again, rather than failing this attempt."""
    data = big_blob()
    server = file_server({"blob.gz": data})
    (tmp_path / "blob.gz.part").write_bytes(b"x" * 5000)
    dest = tmp_path / "blob.gz"
    assert download_file(server.url + "blob.gz", dest, sha256=sha(data), timeout=5) == dest
    assert dest.read_bytes() == data
    assert server.requests == [("blob.gz", "bytes=5000-"), ("blob.gz", None)]
    assert not (tmp_path / "blob.gz.part").exists()


def test_a_web_page_instead_of_the_file_keeps_the_partial_download(tmp_path, file_server) -> None:
    """A portal or error page answering 200 (text/html) is refused before it overwrites the
    part file, and the message says what came instead of the file."""
    server = file_server({"blob.gz": b"<html><body>Please log in</body></html>"}, ranges=False)
    server.content_types["blob.gz"] = "text/html; charset=utf-8"
    part = tmp_path / "blob.gz.part"
    part.write_bytes(b"kept bytes")
    url = server.url + "blob.gz"
    with pytest.raises(DownloadError) as info:
        download_file(url, tmp_path / "blob.gz", sha256="0" * 64, timeout=5)
    message = str(info.value)
    assert message.startswith(f"cannot download {url}: the server sent a web page")
    assert "text/html" in message and "check the URL" in message
    assert part.read_bytes() == b"kept bytes"
    assert not (tmp_path / "blob.gz").exists()


def test_a_part_file_that_cannot_be_written_is_no_network_error(tmp_path, file_server) -> None:
    """A local write failure (here the part path is a folder; a read-only cache or a full
    disk alike) names the file and the cure, not an interrupted transfer to resume."""
    data = big_blob(2000)
    server = file_server({"blob.gz": data})
    part = tmp_path / "blob.gz.part"
    part.mkdir()
    with pytest.raises(DownloadError) as info:
        download_file(server.url + "blob.gz", tmp_path / "blob.gz", sha256=sha(data), timeout=5)
    message = str(info.value)
    assert message.startswith(f"cannot write {part}: ")
    assert "CHAINRULE_DATA" in message and "interrupted" not in message
    assert server.requests == [("blob.gz", None)]  # a folder is no partial download


def test_a_write_error_mid_download_is_reported_as_local(
    tmp_path, file_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up while writing is reported as a write error on the part file."""
    data = big_blob()
    server = file_server({"blob.gz": data})

    class FullDisk(io.FileIO):
        def write(self, b):  # type: ignore[no-untyped-def, override]
            if self.tell() >= 65536:
                raise OSError(28, "No space left on device")
            return super().write(b)

    def fake_open(file, mode="r", buffering=-1, *args, **kwargs):  # type: ignore[no-untyped-def]
        if "b" in mode and ("w" in mode or "a" in mode) and buffering == 0:
            return FullDisk(file, mode.replace("b", ""))
        return builtins.open(file, mode, buffering, *args, **kwargs)

    monkeypatch.setattr(download_module, "open", fake_open, raising=False)
    part = tmp_path / "blob.gz.part"
    with pytest.raises(DownloadError) as info:
        download_file(server.url + "blob.gz", tmp_path / "blob.gz", sha256=sha(data), timeout=5)
    assert str(info.value).startswith(f"cannot write {part}: No space left on device")


def test_a_cached_file_that_cannot_be_read_is_a_download_error(tmp_path, mnist_like) -> None:
    sums = {name: sha(data) for name, data in mnist_like.items()}
    (tmp_path / "mnist" / FILES[3]).mkdir(parents=True)
    with pytest.raises(DownloadError) as info:
        fetch("mnist", tmp_path, "http://127.0.0.1:9/", checksums=sums, files=[FILES[3]])
    message = str(info.value)
    assert message.startswith(f"cannot read the cached file {tmp_path / 'mnist' / FILES[3]}: ")
    assert "remove it" in message


def test_a_cache_folder_that_cannot_be_made_says_how_to_choose_another(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(DownloadError) as info:
        fetch("mnist", blocker, "http://127.0.0.1:9/", files=[FILES[3]])
    message = str(info.value)
    assert message.startswith(f"cannot create cache folder {blocker / 'mnist'}: ")
    assert "CHAINRULE_DATA" in message


def test_a_redirect_is_followed_and_the_range_kept(tmp_path, file_server) -> None:
    """Mirrors redirect (http -> https, or to a CDN); a resumed download keeps its Range."""
    data = big_blob()
    server = file_server({"blob.gz": data})

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(302)
            self.send_header("Location", server.url + "blob.gz")
            self.send_header("Content-Length", "0")
            self.end_headers()

    redirector = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=redirector.serve_forever, daemon=True)
    thread.start()
    try:
        (tmp_path / "blob.gz.part").write_bytes(data[:1234])
        host, port = redirector.server_address[:2]
        url = f"http://{host!s}:{port}/old/blob.gz"
        download_file(url, tmp_path / "blob.gz", sha256=sha(data), timeout=5)
    finally:
        redirector.shutdown()
        redirector.server_close()
        thread.join(5)
    assert (tmp_path / "blob.gz").read_bytes() == data
    assert server.requests == [("blob.gz", "bytes=1234-")]


@pytest.mark.parametrize(
    "labels", [np.array([3, -1, 4, 1, 5], dtype=np.int8), np.array([3, 1, 4, 1, 5.5])]
)
def test_mnist_labels_of_another_type_name_the_file(
    tmp_path: Path, mnist_like, monkeypatch: pytest.MonkeyPatch, labels: np.ndarray
) -> None:
    """Labels must be IDX ubyte as MNIST publishes them: signed ones slipped past the 0..9
    check (and failed later with no file named), float ones were truncated (5.5 -> 5)."""
    from chainrule.datasets import bundled

    paths = {}
    for name, data in mnist_like.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    write_idx(paths[FILES[3]], labels, compress=True)
    monkeypatch.setattr(bundled, "fetch", lambda *args, **kwargs: paths)
    with pytest.raises(DataError) as info:
        load("mnist:test")
    assert str(info.value) == (
        f"{paths[FILES[3]]}: expected uint8 labels (digits 0..9); got {labels.dtype}"
    )


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5", True])
def test_a_bad_timeout_is_an_argument_error(tmp_path, timeout) -> None:
    """Unchecked, -1 escaped from the socket as a bare ValueError and 0 made every read fail
    as if the network had broken."""
    with pytest.raises(ValidationError) as info:
        download_file("http://127.0.0.1:9/x", tmp_path / "x", sha256="0" * 64, timeout=timeout)
    assert str(info.value) == f"timeout must be a number of seconds > 0; got {timeout!r}"


def test_a_server_error_keeps_the_part_and_says_to_try_again(tmp_path, file_server) -> None:
    """A 500 is the server's problem: the message says to retry, and the bytes already
    received stay for the retry to resume from."""
    data = big_blob()
    server = file_server({"blob.gz": data})
    server.fail_with["blob.gz"] = 503
    part = tmp_path / "blob.gz.part"
    part.write_bytes(data[:1000])
    url = server.url + "blob.gz"
    with pytest.raises(DownloadError) as info:
        download_file(url, tmp_path / "blob.gz", sha256=sha(data), timeout=5)
    assert str(info.value) == (
        f"cannot download {url}: HTTP 503 Service Unavailable; the server failed or is busy: "
        "try again later (a partial download is kept and resumed), or use a mirror (base_url=)"
    )
    assert part.read_bytes() == data[:1000]
    download_file(url, tmp_path / "blob.gz", sha256=sha(data), timeout=5)
    assert (tmp_path / "blob.gz").read_bytes() == data
    assert server.requests == [("blob.gz", "bytes=1000-")] * 2


def test_no_network_says_how_to_get_the_files_by_hand(tmp_path, mnist_like) -> None:
    """Offline, the message names the folder where a copied file is picked up; a copy with
    the right checksum is then used without any connection."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}/"
    sums = {name: sha(data) for name, data in mnist_like.items()}
    with pytest.raises(DownloadError) as info:
        fetch("mnist", tmp_path, base, checksums=sums, timeout=5, files=[FILES[3]])
    message = str(info.value)
    assert message.startswith(f"cannot download {base}{FILES[3]}: ")
    assert message.endswith(
        f"; check the network connection, or copy the file into {tmp_path / 'mnist'} by other "
        "means (it is checked, then used)"
    )
    (tmp_path / "mnist" / FILES[3]).write_bytes(mnist_like[FILES[3]])
    paths = fetch("mnist", tmp_path, base, checksums=sums, timeout=5, files=[FILES[3]])
    assert paths[FILES[3]].read_bytes() == mnist_like[FILES[3]]
