"""Download MNIST and Fashion-MNIST with resumable transfers and SHA-256 checks.

Each file is fetched into ``<cache>/<name>/<file>.part``; an interrupted transfer resumes
with an HTTP ``Range`` request (and restarts from zero when the server ignores it). Only when
the SHA-256 of the complete part file matches the published checksum is it renamed to its
final name, atomically, so a file under its final name is always complete and verified.
Processes that download into one folder at once take turns (an exclusive ``flock`` on the
folder, where the system has one): a second one finds the file the first has verified instead of
writing into the same part file. Standard library only (``urllib``).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import numbers
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from http.client import HTTPException, HTTPResponse
from pathlib import Path

from chainrule.datasets._checks import check_int
from chainrule.errors import DownloadError, ValidationError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, downloads do not take turns
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "REMOTE_DATASETS",
    "RemoteDataset",
    "RemoteFile",
    "default_cache_dir",
    "download_file",
    "fetch",
    "sha256_of",
]

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class RemoteFile:
    """One file of a remote data set: its name, SHA-256 (hex) and size in bytes."""

    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class RemoteDataset:
    """A data set's download location and its files."""

    name: str
    base_url: str
    files: tuple[RemoteFile, ...]


_MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)

#: The published files and checksums. MNIST: the TensorFlow mirror of LeCun's files;
#: Fashion-MNIST: Zalando Research's S3 bucket. The SHA-256 values are those listed by
#: TensorFlow Datasets and torchvision (whose MD5 values agree with Zalando's README).
REMOTE_DATASETS: dict[str, RemoteDataset] = {
    "mnist": RemoteDataset(
        "mnist",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        (
            RemoteFile(
                _MNIST_FILES[0],
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                9_912_422,
            ),
            RemoteFile(
                _MNIST_FILES[1],
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                28_881,
            ),
            RemoteFile(
                _MNIST_FILES[2],
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                1_648_877,
            ),
            RemoteFile(
                _MNIST_FILES[3],
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                4_542,
            ),
        ),
    ),
    "fashion_mnist": RemoteDataset(
        "fashion_mnist",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        (
            RemoteFile(
                _MNIST_FILES[0],
                "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                26_421_880,
            ),
            RemoteFile(
                _MNIST_FILES[1],
                "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                29_515,
            ),
            RemoteFile(
                _MNIST_FILES[2],
                "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                4_422_102,
            ),
            RemoteFile(
                _MNIST_FILES[3],
                "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                5_148,
            ),
        ),
    ),
}

_HEX64 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 16
_USER_AGENT = "chainrule-datasets/0.1 (+urllib)"
#: Limit on a download whose size is not known in advance.
MAX_DOWNLOAD_BYTES = 2 * 1024**3


def default_cache_dir() -> Path:
    """The download cache: ``$CHAINRULE_DATA`` if set, else ``~/.cache/chainrule``."""
    env = os.environ.get("CHAINRULE_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "chainrule"


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha(value: object, what: str) -> str:
    text = value.lower() if isinstance(value, str) else ""
    if not _HEX64.fullmatch(text):
        raise ValidationError(f"{what} must be 64 hexadecimal digits (SHA-256); got {value!r}")
    return text


def fetch(
    name: str,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    *,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    progress: Progress | None = None,
    files: Collection[str] | None = None,
) -> dict[str, Path]:
    """Download (or find in the cache) the IDX files of ``"mnist"`` or ``"fashion_mnist"``.

    A file already in the cache is used when its SHA-256 matches, and fetched again when it
    does not.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}
        The data set.
    cache_dir : str, os.PathLike or None
        Where files are kept (in a sub-folder ``name``); default :func:`default_cache_dir`.
    base_url : str or None
        A mirror to fetch from (``<base_url><file>``); default the official location.
    checksums : mapping of file name to hex SHA-256, optional
        Replace the built-in checksums (for a mirror holding other files, or tests).
    timeout : float
        Seconds to wait for the server on each connection and read.
    progress : callable or None
        Called as ``progress(filename, bytes_so_far, total_or_None)`` while downloading.
    files : collection of file names, optional
        Only these of the data set's files (the test split needs only ``t10k-*``, a sixth of
        the download); default all four.

    Returns
    -------
    dict
        File name -> local path, for ``train-images-idx3-ubyte.gz``,
        ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
        ``t10k-labels-idx1-ubyte.gz`` (those of ``files``).

    Raises
    ------
    ValidationError
        For an unknown ``name``, a bad URL or a malformed checksum.
    DownloadError
        If a file cannot be downloaded or fails its checksum; names the URL or file.
    """
    if name not in REMOTE_DATASETS:
        raise ValidationError(
            f"no downloadable data set {name!r}; choose one of {', '.join(REMOTE_DATASETS)}"
        )
    remote = REMOTE_DATASETS[name]
    base = remote.base_url if base_url is None else _check_url(base_url, "base_url")
    if not base.endswith("/"):
        base += "/"
    overrides = dict(checksums or {})
    if isinstance(files, str):
        files = [files]  # one name, not its characters
    for what, names in (("checksums", overrides), ("files", files or ())):
        unknown = set(names) - {f.filename for f in remote.files}
        if unknown:
            raise ValidationError(
                f"{what} names files that {name} does not have: {sorted(unknown)}; "
                f"its files are {[f.filename for f in remote.files]}"
            )
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    folder = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"cannot create cache folder {folder}: {exc.strerror or exc}; choose a writable "
            "folder with cache_dir= or the CHAINRULE_DATA environment variable"
        ) from exc

    paths: dict[str, Path] = {}
    for spec in remote.files:
        if files is not None and spec.filename not in files:
            continue
        expected = _check_sha(overrides.get(spec.filename, spec.sha256), spec.filename)
        # The published size only bounds the download when the published checksum is used.
        max_bytes = spec.size if spec.filename not in overrides else MAX_DOWNLOAD_BYTES
        dest = folder / spec.filename
        if _cached(dest, expected):
            paths[spec.filename] = dest
            continue
        paths[spec.filename] = download_file(
            base + spec.filename,
            dest,
            sha256=expected,
            timeout=timeout,
            max_bytes=max_bytes,
            progress=progress,
        )
    return paths


def download_file(
    url: str,
    dest: str | os.PathLike[str],
    *,
    sha256: str,
    timeout: float = 60.0,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    progress: Progress | None = None,
) -> Path:
    """Download ``url`` to ``dest`` via ``dest.part``, resuming, verifying SHA-256.

    If ``dest.part`` exists, only the rest is requested (``Range: bytes=<size>-``). A ``206``
    reply is appended; a ``200`` reply (server ignored the range) restarts the file; a
    ``416`` reply means the part may already be complete, so it is checked. When the part is
    complete its SHA-256 is compared with ``sha256``: on a match it is renamed to ``dest``
    (atomically); on a mismatch it is deleted, and when it had been resumed (its first bytes
    stale, from an older file) the whole file is fetched once more. A web page (``text/html``)
    in place of the file is refused before the part is touched. Downloads into one folder
    take turns; one that finds ``dest`` already verified when its turn comes returns it.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL.
    dest : str or os.PathLike
        The final path.
    sha256 : str
        Expected hex SHA-256 of the complete file.
    timeout : float
        Seconds to wait on connect and on each read.
    max_bytes : int
        Abort (and delete the part) if the file grows beyond this.
    progress : callable or None
        ``progress(filename, bytes_so_far, total_or_None)``.

    Returns
    -------
    pathlib.Path
        ``dest``.

    Raises
    ------
    ValidationError
        If the URL is not http(s), the checksum is malformed or ``timeout`` is not > 0.
    DownloadError
        On an HTTP error, a network error (the part file is kept for resuming), a web page
        instead of the file, an oversized file, a part file that cannot be written, or a
        checksum mismatch (the part file is deleted); names the URL or the file.
    """
    expected = _check_sha(sha256, "sha256")
    check_int(max_bytes, "max_bytes", low=0)
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, numbers.Real)
        or not 0 < float(timeout) < math.inf
    ):
        raise ValidationError(f"timeout must be a number of seconds > 0; got {timeout!r}")
    _check_url(url, "url")
    final = Path(dest)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create folder {final.parent}: {exc.strerror or exc}") from exc
    with _turn(final.parent):
        # Another process may have finished this file while we waited for our turn.
        if _cached(final, expected):
            return final
        return _download(
            url, final, expected, timeout=timeout, max_bytes=max_bytes, progress=progress
        )


def _check_url(url: object, what: str) -> str:
    """``url`` if it is an ``http://`` or ``https://`` URL with a host and no blank or control
    character; else a ValidationError naming ``what``. urllib would report a URL without a
    host as a network problem, and one with a space as an interrupted download."""
    wrong = ValidationError(
        f"{what} must start with http:// or https:// and name a host; got {url!r}"
    )
    if not isinstance(url, str):
        raise wrong
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise wrong from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise wrong
    bad = next((c for c in url if c.isspace() or not c.isprintable()), None)
    if bad is not None:
        raise ValidationError(
            f"{what} {url!r} holds the character {bad!r}, which a URL cannot; percent-encode "
            "it (a space is %20)"
        )
    return url


def _cached(path: Path, expected: str) -> bool:
    """Whether ``path`` is a file with SHA-256 ``expected``; a DownloadError if unreadable."""
    if not path.exists():
        return False
    try:
        return sha256_of(path) == expected
    except OSError as exc:
        raise DownloadError(
            f"cannot read the cached file {path}: {exc.strerror or exc}; remove it, or choose "
            "another cache folder (cache_dir= or the CHAINRULE_DATA environment variable)"
        ) from exc


@contextlib.contextmanager
def _turn(folder: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``folder`` (the kernel drops it if the process dies).

    Best effort: where the system or file system has no such lock, nothing is held.
    """
    fd = -1
    if fcntl is not None:
        try:
            fd = os.open(folder, os.O_RDONLY)
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            if fd >= 0:
                os.close(fd)
            fd = -1
    try:
        yield
    finally:
        if fd >= 0:
            os.close(fd)  # closing the descriptor releases the lock


def _download(
    url: str,
    final: Path,
    expected: str,
    *,
    timeout: float,
    max_bytes: int,
    progress: Progress | None,
) -> Path:
    """:func:`download_file`'s transfer, once it is this process's turn."""
    part = final.with_name(final.name + ".part")
    for _attempt in range(3):
        offset = part.stat().st_size if part.is_file() else 0
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                resumed = _receive(
                    response,
                    url,
                    part=part,
                    offset=offset,
                    max_bytes=max_bytes,
                    progress=progress,
                    filename=final.name,
                )
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:
                # Nothing left to send: the part is complete, or longer than the file.
                # Either the checksum below accepts it, or it is deleted and we retry.
                exc.close()
                if _verify(part, expected) is None:
                    os.replace(part, final)
                    return final
                part.unlink()
                continue
            exc.close()
            raise DownloadError(
                f"cannot download {url}: HTTP {exc.code} {exc.reason}{_what_to_do(exc.code)}"
            ) from exc
        except urllib.error.URLError as exc:
            raise DownloadError(
                f"cannot download {url}: {exc.reason}; check the network connection, or copy "
                f"the file into {final.parent} by other means (it is checked, then used)"
            ) from exc
        except (OSError, HTTPException) as exc:
            raise DownloadError(
                f"download of {url} was interrupted ({exc!r}); {part} is kept and the next "
                "attempt resumes from it"
            ) from exc
        got = _verify(part, expected)
        if got is None:
            os.replace(part, final)
            return final
        part.unlink()
        if resumed:
            # The kept part was stale or corrupt (from an older file, or another mirror):
            # it is gone now, so fetch the whole file once more.
            continue
        raise DownloadError(
            f"checksum mismatch for {final.name} from {url}: expected sha256 {expected}, "
            f"got {got}; the downloaded file was deleted (a mirror holding other files needs "
            "their checksums)"
        )
    raise DownloadError(  # pragma: no cover  (a fresh download ends the loop above)
        f"cannot download {url}: no complete copy after 3 attempts"
    )


def _verify(part: Path, expected: str) -> str | None:
    """``None`` if ``part`` has SHA-256 ``expected``, else its actual SHA-256."""
    got = sha256_of(part)
    return None if got == expected else got


def _receive(
    response: HTTPResponse,
    url: str,
    *,
    part: Path,
    offset: int,
    max_bytes: int,
    progress: Progress | None,
    filename: str,
) -> bool:
    """Write ``response``'s body to ``part``: appended after a 206, from zero after a 200.

    Returns whether the body was appended to bytes kept from an earlier attempt.
    """
    status = response.status
    if offset and status == 206:
        content_range = response.headers.get("Content-Range", "")
        if not content_range.startswith(f"bytes {offset}-"):
            raise DownloadError(
                f"cannot resume {url}: asked for bytes from {offset}, server sent "
                f"Content-Range {content_range!r}"
            )
        mode = "ab"
    elif status == 200:
        offset, mode = 0, "wb"  # a fresh download, or the server ignored the Range header
    else:
        raise DownloadError(f"cannot download {url}: unexpected HTTP status {status}")

    content_type = response.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() == "text/html":
        # A login page, an error page or a portal answering 200: not the file. Refused before
        # the part file is opened, so a partial download stays intact.
        raise DownloadError(
            f"cannot download {url}: the server sent a web page (Content-Type {content_type!r}), "
            "not the file; check the URL (base_url=) or the network's login page"
        )
    length = response.headers.get("Content-Length")
    total = offset + int(length) if length and length.isdigit() else None
    if total is not None and total > max_bytes:
        raise DownloadError(
            f"{url} is {total} bytes, more than the expected {max_bytes}; not downloading it"
        )
    written = offset
    # Unbuffered, so that every write error (a read-only folder, a full disk) surfaces here as
    # a local problem, not later from close() where it would read as a network error.
    try:
        fh = open(part, mode, buffering=0)  # noqa: SIM115  (closed by the with below)
    except OSError as exc:
        raise DownloadError(_cannot_write(part, exc)) from exc
    with fh:
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > max_bytes:
                fh.close()
                part.unlink()
                raise DownloadError(
                    f"{url} sent more than the expected {max_bytes} bytes; download aborted"
                )
            view = memoryview(chunk)
            try:
                while view:  # a raw write may take only part of the bytes
                    view = view[fh.write(view) :]
            except OSError as exc:
                raise DownloadError(_cannot_write(part, exc)) from exc
            if progress is not None:
                progress(filename, written, total)
    if total is not None and written < total:
        raise DownloadError(
            f"download of {url} ended early ({written} of {total} bytes); {part} is kept "
            "and the next attempt resumes from it"
        )
    return mode == "ab"


def _cannot_write(part: Path, exc: OSError) -> str:
    """The message for a part file that cannot be written (a local problem, not the network)."""
    return (
        f"cannot write {part}: {exc.strerror or exc}; choose a writable cache folder with "
        "cache_dir= or the CHAINRULE_DATA environment variable, or free some disk space"
    )


def _what_to_do(status: int) -> str:
    """Advice for an HTTP error status, after the status itself."""
    if status in (404, 410):
        return "; the file is not at that address: check the URL (base_url= names a mirror)"
    if status in (401, 403):
        return "; the server refuses it: check the URL, or download through another mirror"
    if status == 429 or status >= 500:
        return (
            "; the server failed or is busy: try again later (a partial download is kept and "
            "resumed), or use a mirror (base_url=)"
        )
    return ""
