"""Download MNIST and Fashion-MNIST with resumable transfers and SHA-256 checks.

Each file is fetched into ``<cache>/<name>/<file>.part``; an interrupted transfer resumes
with an HTTP ``Range`` request (and restarts from zero when the server ignores it). Only when
the SHA-256 of the complete part file matches the published checksum is it renamed to its
final name, atomically, so a file under its final name is always complete and verified.
Standard library only (``urllib``).
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from http.client import HTTPException, HTTPResponse
from pathlib import Path

from chainrule.errors import DownloadError, ValidationError

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
    base = remote.base_url if base_url is None else base_url
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
        raise DownloadError(f"cannot create cache folder {folder}: {exc.strerror or exc}") from exc

    paths: dict[str, Path] = {}
    for spec in remote.files:
        if files is not None and spec.filename not in files:
            continue
        expected = _check_sha(overrides.get(spec.filename, spec.sha256), spec.filename)
        # The published size only bounds the download when the published checksum is used.
        max_bytes = spec.size if spec.filename not in overrides else MAX_DOWNLOAD_BYTES
        dest = folder / spec.filename
        if dest.exists() and sha256_of(dest) == expected:
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
    (atomically); on a mismatch it is deleted.

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
        If the URL is not http(s) or the checksum is malformed.
    DownloadError
        On an HTTP error, a network error (the part file is kept for resuming), an oversized
        file, or a checksum mismatch (the part file is deleted); names the URL or the file.
    """
    expected = _check_sha(sha256, "sha256")
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValidationError(f"url must start with http:// or https://; got {url!r}")
    final = Path(dest)
    part = final.with_name(final.name + ".part")
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create folder {final.parent}: {exc.strerror or exc}") from exc

    for _attempt in range(2):
        offset = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        if offset:
            request.add_header("Range", f"bytes={offset}-")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                _receive(
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
            raise DownloadError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise DownloadError(f"cannot download {url}: {exc.reason}") from exc
        except (OSError, HTTPException) as exc:
            raise DownloadError(
                f"download of {url} was interrupted ({exc!r}); {part} is kept and the next "
                "attempt resumes from it"
            ) from exc
        break

    got = _verify(part, expected)
    if got is not None:
        part.unlink()
        raise DownloadError(
            f"checksum mismatch for {final.name} from {url}: expected sha256 {expected}, "
            f"got {got}; the downloaded file was deleted"
        )
    os.replace(part, final)
    return final


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
) -> None:
    """Write ``response``'s body to ``part``: appended after a 206, from zero after a 200."""
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

    length = response.headers.get("Content-Length")
    total = offset + int(length) if length and length.isdigit() else None
    if total is not None and total > max_bytes:
        raise DownloadError(
            f"{url} is {total} bytes, more than the expected {max_bytes}; not downloading it"
        )
    written = offset
    with open(part, mode) as fh:
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
            fh.write(chunk)
            if progress is not None:
                progress(filename, written, total)
    if total is not None and written < total:
        raise DownloadError(
            f"download of {url} ended early ({written} of {total} bytes); {part} is kept "
            "and the next attempt resumes from it"
        )
