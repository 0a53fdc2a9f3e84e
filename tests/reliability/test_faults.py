"""Faults (issue 7): divergence, a full disk, a read-only folder, SIGKILL mid-training.

What ``tests/serialization`` already covers (SIGKILL while ``save_model`` writes, RLIMIT_FSIZE
on ``save_model``, a read-only folder for ``save_model``) is not repeated: here the same faults
hit the command line's ``train -o`` and ``--checkpoint`` paths and the training loop.

``CHAINRULE_KILLS`` sets how many random SIGKILLs the CLI resume test survives (default 2).
"""

from __future__ import annotations

import errno
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_figures import count

from chainrule.cli import main
from chainrule.engine.callbacks import Callback
from chainrule.engine.network import Network
from chainrule.engine.training import Trainer
from chainrule.errors import DivergenceError
from chainrule.serialization import load_model
from chainrule.serialization.checkpoint import (
    CheckpointCallback,
    load_checkpoint,
    restore_trainer,
)
from cli_helpers import chainrule

KILLS = int(os.environ.get("CHAINRULE_KILLS", "2"))


def _regression_data(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1


def _classification_csv(path: Path, n: int = 3000, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    labels = np.where(X[:, 0] * X[:, 1] + X[:, 2] > 0, "pos", "neg")
    lines = ["x1,x2,x3,y", *(f"{a:.4f},{b:.4f},{c:.4f},{t}" for (a, b, c), t in zip(X, labels))]
    path.write_text("\n".join(lines) + "\n")
    return path


def _one_error_line(result: Any, pattern: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert pattern in lines[0], lines[0]
    return lines[0]


def _no_temporary_files(folder: Path) -> None:
    leftovers = [p.name for p in folder.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


# -- divergence -------------------------------------------------------------------------------


def test_divergence_restores_the_last_finite_weights() -> None:
    """Learning rate 1e6 on a ReLU regression: stops, keeps the end of the last good epoch."""
    X, y = _regression_data()
    net = Network([3, 8, 1], ["relu", "identity"], seed=0)
    trainer = Trainer(net, X, y, learning_rate=1e-3, batch_size=16, seed=0)
    trainer.fit(2)
    snapshots = [[W.copy() for W in net.weights]]
    trainer.optimizer.learning_rate = 1e6
    with pytest.raises(DivergenceError) as info:
        trainer.fit(50, on_epoch=lambda t: snapshots.append([W.copy() for W in t.net.weights]))
    for W, good in zip(net.weights, snapshots[-1], strict=True):
        assert np.isfinite(W).all()
        np.testing.assert_array_equal(W, good)
    err = info.value
    assert err.epoch == 2 + len(snapshots) - 1 == trainer.epoch
    assert "Lower the learning rate (now 1e+06, try 100000)" in str(err)
    assert trainer.record.stopped == "diverged"
    assert all(np.isfinite(err.history))


def test_exploding_inputs_restore_the_initial_weights() -> None:
    """Inputs of 1e30 (finite in float32) overflow the loss at the first step."""
    X, y = _regression_data()
    net = Network([3, 8, 1], ["relu", "identity"], seed=0)
    initial = [W.copy() for W in net.weights]
    trainer = Trainer(net, X * 1e30, y, learning_rate=0.01, batch_size=16, seed=0)
    with pytest.raises(DivergenceError, match=r"Restored the initial weights.*standardise"):
        trainer.fit(3)
    for W, good in zip(net.weights, initial, strict=True):
        np.testing.assert_array_equal(W, good)
    assert trainer.steps == 0


def test_cli_divergence_saves_nothing_and_keeps_the_previous_files(tmp_path: Path) -> None:
    """`train --lr 1e308`: exit 2, the advice, and the earlier model and checkpoint untouched."""
    data = tmp_path / "xor.csv"
    data.write_text("x1,x2,y\n" + "0,0,a\n0,1,b\n1,0,b\n1,1,a\n" * 4)
    model, checkpoint = tmp_path / "model.safetensors", tmp_path / "ck.safetensors"
    common = ["--hidden", "4", "--validation-fraction", "0", "--optimizer", "sgd"]
    first = chainrule(
        "train",
        str(data),
        *common,
        "--epochs",
        "2",
        "--checkpoint",
        str(checkpoint),
        "-o",
        str(model),
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    before = model.read_bytes(), checkpoint.read_bytes()
    result = chainrule(
        "train",
        str(data),
        *common,
        "--lr",
        "1e308",
        "--epochs",
        "5",
        "--checkpoint",
        str(checkpoint),
        "-o",
        str(model),
        cwd=tmp_path,
    )
    line = _one_error_line(result, "training diverged")
    assert "Lower the learning rate" in line
    assert (model.read_bytes(), checkpoint.read_bytes()) == before
    for path in (model, checkpoint):
        assert all(np.isfinite(W).all() for W in load_model(path).weights)
    _no_temporary_files(tmp_path)


# -- a full disk and a read-only folder ------------------------------------------------------------


def _limit_file_size(limit: int) -> Any:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("target", ["-o", "--checkpoint"])
def test_cli_disk_full(tmp_path: Path, target: str) -> None:
    """RLIMIT_FSIZE below the file's size: a clear error, the previous file intact."""
    data = tmp_path / "xor.csv"
    data.write_text("x1,x2,y\n" + "0,0,a\n0,1,b\n1,0,b\n1,1,a\n" * 4)
    out = tmp_path / "out.safetensors"
    args = ["train", str(data), "--hidden", "4", "--epochs", "2", "--validation-fraction", "0"]
    assert chainrule(*args, target, str(out), cwd=tmp_path).returncode == 0
    previous = out.read_bytes()
    result = chainrule(
        *args,
        "--seed",
        "1",
        target,
        str(out),
        cwd=tmp_path,
        preexec_fn=_limit_file_size(len(previous) // 2),
    )
    line = _one_error_line(result, "cannot write")
    assert os.strerror(errno.EFBIG) in line
    assert out.read_bytes() == previous
    load_model(out)
    _no_temporary_files(tmp_path)


@pytest.mark.parametrize(
    ("command", "output"),
    [
        ("train", "model.safetensors"),
        ("checkpoint", "ck.safetensors"),
        ("predict", "predictions.csv"),
    ],
)
def test_cli_read_only_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    output: str,
) -> None:
    """A folder that refuses writes (EROFS, simulated: root ignores permission bits)."""
    data = tmp_path / "xor.csv"
    data.write_text("x1,x2,y\n" + "0,0,a\n0,1,b\n1,0,b\n1,1,a\n" * 4)
    folder = tmp_path / "read-only"
    folder.mkdir()
    model = tmp_path / "model.safetensors"
    train = ["train", str(data), "--hidden", "4", "--epochs", "1", "--validation-fraction", "0"]
    assert main([*train, "-o", str(model)]) == 0
    target = folder / output
    target.write_bytes(b"the previous file")
    argv = {
        "train": [*train, "-o", str(target)],
        "checkpoint": [*train, "--checkpoint", str(target)],
        "predict": ["predict", str(model), str(data), "-o", str(target)],
    }[command]
    real_open, real_replace = os.open, os.replace

    def refuse(path: Any) -> None:
        if Path(os.fspath(path)).resolve().parent == folder.resolve():
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    def guarded_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def guarded_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        refuse(dst)
        real_replace(src, dst, *args, **kwargs)

    capsys.readouterr()
    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "replace", guarded_replace)
    status = main(argv)
    monkeypatch.undo()
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, err
    assert len(err) == 1 and "Read-only file system" in err[0], err
    assert target.read_bytes() == b"the previous file"
    assert sorted(p.name for p in folder.iterdir()) == [output]


# -- SIGKILL mid-training, then resume ---------------------------------------------------------

_KILLED_RUN = """
import os, signal, sys
import numpy as np
sys.path[:0] = [{here!r}, {tests!r}]  # test_faults and the cli_helpers it imports
from test_faults import library_trainer
from chainrule.engine.callbacks import Callback
from chainrule.serialization.checkpoint import CheckpointCallback

class KillMidEpoch(Callback):
    def on_batch_end(self, trainer, loss):
        if trainer.epoch == {kill_epoch} and trainer.epoch_fraction > 0.5:
            os.kill(os.getpid(), signal.SIGKILL)

trainer = library_trainer([CheckpointCallback({checkpoint!r}), KillMidEpoch()])
trainer.fit({epochs})
"""


def library_trainer(callbacks: list[Callback]) -> Trainer:
    """The run the library kill test interrupts and resumes (same settings both times)."""
    from chainrule.engine.optimizers import make_optimizer

    X, y = _regression_data(256)
    net = Network([3, 16, 1], ["tanh", "identity"], seed=3)
    return Trainer(
        net, X, y, optimizer=make_optimizer("adam", 0.01), batch_size=8, seed=4, callbacks=callbacks
    )


def test_library_run_killed_mid_epoch_resumes_bit_identically(tmp_path: Path) -> None:
    epochs, kill_epoch = 6, 3
    checkpoint = tmp_path / "ck.safetensors"
    script = _KILLED_RUN.format(
        here=str(Path(__file__).parent),
        tests=str(Path(__file__).parent.parent),
        kill_epoch=kill_epoch,
        checkpoint=str(checkpoint),
        epochs=epochs,
    )
    killed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    model, state, _ = load_checkpoint(checkpoint)
    assert state["epoch"] == kill_epoch  # the last complete epoch before the kill
    resumed = library_trainer([CheckpointCallback(tmp_path / "ck2.safetensors")])
    restore_trainer(resumed, model, state)
    resumed.fit(epochs - kill_epoch)
    uninterrupted = library_trainer([])
    uninterrupted.fit(epochs)
    for a, b in zip(resumed.net.weights, uninterrupted.net.weights, strict=True):
        assert a.tobytes() == b.tobytes()
    assert resumed.history == uninterrupted.history
    count("kills_survived", "library Trainer (SIGKILL mid-epoch)")


def _weights(path: Path) -> list[bytes]:
    return [W.tobytes() for W in load_model(path).weights]


@pytest.mark.timeout(300)
def test_cli_train_killed_at_random_points_resumes_bit_identically(tmp_path: Path) -> None:
    """`chainrule train --checkpoint` SIGKILLed at random times; `--resume` ends identical."""
    data = _classification_csv(tmp_path / "data.csv")
    epochs = "16"
    args = [
        "train",
        str(data),
        "--epochs",
        epochs,
        "--batch-size",
        "8",
        "--hidden",
        "16",
        "--optimizer",
        "sgd",
        "--lr",
        "0.05",
        "--seed",
        "5",
    ]
    full = tmp_path / "full.safetensors"
    assert chainrule(*args, "-o", str(full), cwd=tmp_path).returncode == 0
    reference = _weights(full)
    rng = random.Random(int(os.environ.get("CHAINRULE_KILL_SEED", "0")))
    survived = attempts = 0
    while survived < KILLS and attempts < 6 * KILLS:
        attempts += 1
        run = tmp_path / f"run{attempts}"
        run.mkdir()
        checkpoint = run / "ck.safetensors"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chainrule",
                *args,
                "--checkpoint",
                str(checkpoint),
                "--checkpoint-every",
                "1",
                "-o",
                str(run / "never.safetensors"),
            ],
            cwd=run,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not checkpoint.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.25))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        if process.returncode != -signal.SIGKILL or (run / "never.safetensors").exists():
            continue  # it finished first: not a kill
        _, state, _ = load_checkpoint(checkpoint)  # whatever the moment, a loadable file
        assert 1 <= state["epoch"] <= int(epochs)
        resumed = run / "resumed.safetensors"
        result = chainrule(*args, "--resume", str(checkpoint), "-o", str(resumed), cwd=run)
        assert result.returncode == 0, result.stderr
        assert _weights(resumed) == reference, f"resumed from epoch {state['epoch']}"
        print(f"killed after epoch {state['epoch']} of {epochs}; resumed bit-identically")
        survived += 1
        count("kills_survived", "cli train --checkpoint (SIGKILL at a random time)")
    assert survived == KILLS, f"only {survived} of {attempts} runs were killed before finishing"
