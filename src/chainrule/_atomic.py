"""Atomic file writes: every file chainrule writes goes through :func:`atomic_path`.

The data go to a temporary file in the target's folder, are flushed to disk, and the file is
renamed over the target (:func:`os.replace`, atomic on one file system). A reader, or a process
killed at any instant, sees the previous file or the complete new one, never half of one.

A writer killed mid-write (SIGKILL, power loss) leaves its temporary file behind. Each writer
holds an exclusive ``flock`` on its temporary file for as long as it writes, and the kernel drops
that lock when the process dies; so before writing, :func:`atomic_path` deletes the temporary
files of the same target whose lock it can take (their writers are gone) and that are older than a
few seconds (a file created an instant ago may not be locked yet). Standard library only, so the
numpy-only engine may use it too.

:func:`check_output_path` checks, before the work, that such a file can be written at a path: the
command line for its output options, and :func:`~chainrule.sweeps.sweep` for its best model.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from chainrule.errors import ValidationError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock, so no stale-file clean-up
    fcntl = None  # type: ignore[assignment]

STALE_AFTER_SECONDS = 5.0
"""A temporary file this old whose lock is free belonged to a writer that died."""


def _temporary_prefix(target: Path) -> str:
    return f".{target.name[:100]}."


def default_file_mode(target: Path) -> int:
    """The permission bits a plain ``open(target, "w")`` would give (an existing file's own)."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        pass
    umask = 0o022
    try:  # Linux shows the umask without the racy os.umask(set)/os.umask(reset) dance
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    umask = int(line.split()[1], 8)
                    break
    except (OSError, ValueError):
        pass
    return 0o666 & ~umask


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete temporary files of ``target`` left by writers that died; return what was removed."""
    if fcntl is None:
        return []
    removed = []
    now = time.time()
    for candidate in target.parent.glob(f"{_temporary_prefix(target)}*.tmp"):
        try:
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            if now - os.fstat(fd).st_mtime < STALE_AFTER_SECONDS:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its writer lives
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block succeeds, rename it to ``path``.

    Write the whole file to the yielded path inside the block. On an exception (or Ctrl-C) the
    temporary file is removed and ``path`` is left as it was. The new file gets the permissions
    the old one had (or those of a plain ``open``). A symbolic link at ``path`` is followed: the
    file it names gets the new content. ``OSError`` (read-only folder, full disk)
    propagates for the caller to word.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> target.read_text()
    'hello'
    """
    # Through symbolic links: a link stays a link and the file it names is replaced, as a plain
    # open(path, "w") would write that file (a rename onto the link would replace the link).
    target = Path(os.path.realpath(os.fspath(path)))
    remove_stale_temporaries(target)
    mode = default_file_mode(target)
    fd, name = tempfile.mkstemp(prefix=_temporary_prefix(target), suffix=".tmp", dir=target.parent)
    tmp = Path(name)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until this writer finishes or dies
        yield tmp
        written = os.open(tmp, os.O_RDONLY)  # the block may have replaced the file: open anew
        try:
            os.fsync(written)
        finally:
            os.close(written)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        _fsync_directory(target.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        os.close(fd)


# Checking a path before the work that will write it (hours later, for a sweep).


def check_writable_folder(folder: Path, what: str) -> None:
    """Fail unless a file can be created in ``folder`` (tried: permissions say nothing to root,
    nor about read-only file systems such as ``/sys``); the trial file leaves no trace."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise ValidationError(
            f"{what}: cannot write in the folder {str(folder)!r}: {err.strerror or err}"
        ) from None


def is_stream(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an existing file that is neither a regular file nor a folder: a
    device (``/dev/null``), a pipe or a terminal, also behind a symbolic link
    (``/dev/stdout``). Such a file must be written in place: an atomic write renames a new
    file onto the path, which would replace the device or the link itself (``/dev/null``,
    for root) instead of writing to it."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_output_path(
    path: str | os.PathLike[str] | None, what: str, *, stream_ok: bool = False
) -> None:
    """Fail before any work when a file could not be written at ``path``: its folder is
    missing or not writable, or ``path`` is a folder, or (unless ``stream_ok``: the caller
    writes text there in place) a device or pipe, which a file written atomically would
    replace (see :func:`is_stream`). ``-`` is standard output: fine where ``stream_ok`` (the
    caller writes there), refused elsewhere rather than written as a file named ``-``. An empty
    name (which would read as the folder ``.``) and one ending in a slash (a folder: ``-o
    models/`` would write a file named ``models``) are refused by what they are."""
    if path is None:
        return
    text = os.fspath(path)
    if not text.strip():
        raise ValidationError(f"{what}: the file name is empty; give a file name")
    if text.endswith(("/", os.sep)) and not Path(text).is_dir():
        raise ValidationError(
            f"{what}: {text!r} ends in '/', so it names a folder, not a file; give a file name"
        )
    if text == "-":
        if stream_ok:
            return
        raise ValidationError(
            f"{what}: '-' means standard output, which cannot take this binary file; "
            "give a file name"
        )
    if is_stream(path):
        if stream_ok:
            return
        raise ValidationError(
            f"{what}: {os.fspath(path)!r} is a device or pipe, not a regular file; give a file name"
        )
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        if folder.exists():
            raise ValidationError(
                f"{what}: {str(folder)!r} is a file, not a folder; give a path inside a folder"
            )
        raise ValidationError(f"{what}: the folder {str(folder)!r} does not exist")
    if target.is_dir():
        raise ValidationError(f"{what}: {str(target)!r} is a directory; give a file name")
    check_writable_folder(folder, what)
