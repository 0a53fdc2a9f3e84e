"""Atomic writes: the target is the old file or the new one, and dead writers' leftovers go."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import pytest

from chainrule._atomic import STALE_AFTER_SECONDS, atomic_path, check_output_path
from chainrule.errors import ValidationError


def _leftover(target: Path, name: str, *, age: float) -> Path:
    path = target.parent / f".{target.name}.{name}.tmp"
    path.write_bytes(b"half a file")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_new_content_replaces_the_old_with_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.endswith(".tmp")
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing visible until the block ends
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_a_symbolic_link_stays_a_link_and_the_file_it_names_is_written(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "model.safetensors"
    real.write_text("old")
    link = tmp_path / "link.safetensors"
    link.symlink_to(real)
    with atomic_path(link) as tmp:
        assert tmp.parent == real.parent  # the rename stays on the real file's file system
        tmp.write_text("new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "real" / "new.csv")
    with atomic_path(dangling) as tmp:
        tmp.write_text("made")
    assert dangling.is_symlink() and (tmp_path / "real" / "new.csv").read_text() == "made"


def test_a_failing_block_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "model.safetensors"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_a_dead_writers_leftover_is_removed_a_live_or_fresh_one_kept(tmp_path: Path) -> None:
    target = tmp_path / "ckpt.safetensors"
    dead = _leftover(target, "dead", age=STALE_AFTER_SECONDS + 60)
    fresh = _leftover(target, "fresh", age=0)  # may belong to a writer that has not locked yet
    live = _leftover(target, "live", age=STALE_AFTER_SECONDS + 60)
    other = tmp_path / ".other.safetensors.x.tmp"  # another target's: not ours to judge
    other.write_bytes(b"")
    os.utime(other, (0, 0))
    holder = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # a writer still at work holds its lock
        with atomic_path(target) as tmp:
            tmp.write_text("new")
    finally:
        os.close(holder)
    assert not dead.exists()
    assert fresh.exists() and live.exists() and other.exists()
    assert target.read_text() == "new"


def test_an_output_inside_a_file_is_named_as_such(tmp_path: Path) -> None:
    """``-o afile/m.safetensors`` said "the folder 'afile' does not exist", though it does, as
    a file."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(ValidationError) as err:
        check_output_path(afile / "m.safetensors", "-o")
    assert (
        str(err.value) == f"-o: {str(afile)!r} is a file, not a folder; give a path inside a folder"
    )
    with pytest.raises(ValidationError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "m.safetensors", "-o")
