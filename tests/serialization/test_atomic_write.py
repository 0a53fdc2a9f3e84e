"""Atomic writes: a failed or killed save leaves the previous file intact (or no file at all)."""

from __future__ import annotations

import errno
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule.serialization.safetensors_io as sio
from chainrule.errors import ModelFileError
from chainrule.serialization import load_model, read_safetensors, save_model, write_safetensors

SRC = Path(__file__).resolve().parents[2] / "src"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    return env


def save_old(path: Path) -> bytes:
    write_safetensors(path, {"old": np.arange(4.0)}, {"version": "old"})
    return path.read_bytes()


def assert_untouched(path: Path, old: bytes) -> None:
    assert path.read_bytes() == old
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary files


def new_tensors() -> dict[str, np.ndarray]:
    return {"new": np.ones((64, 64), np.float32)}


def test_failed_rename_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.safetensors"
    old = save_old(path)

    def refuse(src: str, dst: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ModelFileError, match=r"m\.safetensors.*Invalid cross-device link"):
        write_safetensors(path, new_tensors())
    assert_untouched(path, old)


def test_disk_full_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.safetensors"
    old = save_old(path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ModelFileError) as info:
        write_safetensors(path, new_tensors())
    message = str(info.value)
    assert str(path) in message and "No space left on device" in message
    assert "unchanged" in message
    assert isinstance(info.value.__cause__, OSError)
    assert_untouched(path, old)


def test_unwritable_directory_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.safetensors"
    old = save_old(path)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(ModelFileError, match=r"m\.safetensors.*Permission denied"):
        save_model(path, weights=[np.ones((1, 2))], activations=["identity"], loss="mse")
    assert_untouched(path, old)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes to read-only directories"
)
def test_read_only_directory(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    old = save_old(path)
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ModelFileError, match="Permission denied"):
            write_safetensors(path, new_tensors())
    finally:
        tmp_path.chmod(0o700)
    assert_untouched(path, old)


def test_interrupt_during_write_removes_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.safetensors"
    old = save_old(path)

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):  # not swallowed, not wrapped
        write_safetensors(path, new_tensors())
    assert_untouched(path, old)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match=r"no/such/dir/m\.safetensors.*No such file"):
        write_safetensors(tmp_path / "no" / "such" / "dir" / "m.safetensors", new_tensors())


def test_target_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "m.safetensors").mkdir()
    with pytest.raises(ModelFileError, match="Is a directory"):
        write_safetensors(tmp_path / "m.safetensors", new_tensors())
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_directory_is_fsynced_after_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real_fsync, real_open = os.fsync, os.open
    opened: dict[int, str] = {}

    def tracking_open(name: str, flags: int, *args: int) -> int:
        fd = real_open(name, flags, *args)
        opened[fd] = os.fspath(name)
        return fd

    def tracking_fsync(fd: int) -> None:
        synced.append(opened.get(fd, "<file>"))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "fsync", tracking_fsync)
    write_safetensors(tmp_path / "m.safetensors", new_tensors())
    assert synced[0].endswith(".tmp")  # the temporary file's data first ...
    assert synced[-1] == str(tmp_path)  # ... then the directory entry of the rename


@pytest.mark.skipif(sys.platform != "linux", reason="needs RLIMIT_FSIZE and SIGXFSZ")
def test_file_size_limit_in_subprocess(tmp_path: Path) -> None:
    # A real EFBIG from the kernel (what a full disk or quota looks like to the writer).
    path = tmp_path / "m.safetensors"
    old = save_old(path)
    script = textwrap.dedent(
        """
        import resource, signal, sys
        import numpy as np
        from chainrule.errors import ModelFileError
        from chainrule.serialization import save_model
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        weights = [np.ones((200, 201), np.float32), np.ones((2, 201), np.float32)]
        try:
            save_model(sys.argv[1], weights=weights, activations=["relu", "softmax"],
                       loss="cross_entropy")
        except ModelFileError as exc:
            print("ModelFileError:", exc)
            sys.exit(0)
        sys.exit("no error raised")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        check=False,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "File too large" in result.stdout and str(path) in result.stdout
    assert_untouched(path, old)


# A "zygote" process imports numpy and chainrule once, then forks one writer per iteration on
# request: the writer saves a 2 MB model in a loop until the zygote SIGKILLs it when told to, and
# reports how the writer died. Forking keeps 30 real kill -9 crashes well under a second each.
ZYGOTE = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from chainrule.serialization import save_model
    path = sys.argv[1]
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((512, 1025)).astype(np.float32)  # 2 MB
    W2 = rng.standard_normal((4, 513)).astype(np.float32)
    def save(target, number):
        W1[0, 0] = number
        save_model(target, weights=[W1, W2], activations=["relu", "softmax"],
                   loss="cross_entropy", training={"save": number})

    save(sys.argv[2], -1)  # warm up (first-call costs) elsewhere, so kills land inside saves
    print("ready", flush=True)
    writer = None
    for line in sys.stdin:
        command, *arg = line.split()
        if command == "start":
            zygote = os.getpid()
            writer = os.fork()
            if writer == 0:
                try:
                    number = int(arg[0]) * 1_000_000
                    while os.getppid() == zygote:  # never outlive the zygote
                        save(path, number)
                        number += 1
                finally:
                    os._exit(1)
            print("started", flush=True)
        elif command == "kill":
            os.kill(writer, signal.SIGKILL)
            _, status = os.waitpid(writer, 0)
            writer = None
            print("killed", os.WIFSIGNALED(status) and os.WTERMSIG(status), flush=True)
    if writer is not None:
        os.kill(writer, signal.SIGKILL)
        os.waitpid(writer, 0)
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")
def test_sigkill_during_save_never_leaves_a_broken_file(tmp_path: Path) -> None:
    target_dir = tmp_path / "target"
    target_dir.mkdir()
    path = target_dir / "model.safetensors"
    rnd = random.Random(20240611)
    saves_seen = set()
    with subprocess.Popen(
        [sys.executable, "-c", ZYGOTE, str(path), str(tmp_path / "warmup.safetensors")],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as zygote:
        stdin, stdout = zygote.stdin, zygote.stdout
        assert stdin is not None and stdout is not None

        def ask(command: str) -> str:
            stdin.write(command + "\n")
            stdin.flush()
            ready, _, _ = select.select([stdout], [], [], 20.0)
            assert ready, f"no answer to {command!r} within 20 s"
            return stdout.readline().strip()

        try:
            assert stdout.readline().strip() == "ready"
            for iteration in range(30):
                assert ask(f"start {iteration}") == "started"
                time.sleep(rnd.uniform(0.0, 0.05))
                # SIGKILL: no cleanup handlers, no finally blocks, maybe mid-write or mid-rename.
                assert ask("kill") == f"killed {int(signal.SIGKILL)}"
                if path.exists():
                    model = load_model(path)  # complete and consistent, checksum included
                    assert model.sizes == (1024, 512, 4)
                    assert model.training is not None
                    saves_seen.add(model.training["save"])
                for leftover in target_dir.iterdir():
                    if leftover != path:
                        # Only the writer's temporary files may be left behind by a kill.
                        name = leftover.name
                        assert name.startswith(".model.safetensors.") and name.endswith(".tmp")
        finally:
            stdin.close()  # the zygote kills a running writer, if any, and exits
            zygote.wait(timeout=30)
    # The kills landed at different points: several different complete saves were observed.
    assert path.exists() and len(saves_seen) >= 5
    # A leftover temporary file never disturbs reading the real one.
    read_safetensors(path)


def test_temp_name_is_in_target_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append(os.fspath(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    sio.write_safetensors(tmp_path / "m.safetensors", new_tensors())
    (src,) = seen
    assert Path(src).parent == tmp_path
    assert Path(src).name.startswith(".m.safetensors.") and src.endswith(".tmp")
