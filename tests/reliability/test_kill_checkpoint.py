"""Faults (issue 7): training that checkpoints every epoch, SIGKILLed at random points many times.

A subprocess runs ``chainrule.fit.fit(..., checkpoint=CK, checkpoint_every=1)`` (resuming from
``CK`` when it exists) on a network wide enough that every checkpoint is ~4 MB, so a write takes
a measurable share of each epoch and some kills land while it is being written. After every
kill ``CK`` either does not exist yet (no epoch finished) or loads with its SHA-256 checksums
verified, and its epoch never goes back. The next process resumes from it; each chain of kills
is run to the end, and its last checkpoint's weights must be bit-identical to an uninterrupted
run's. A few kills are also resumed in this process straight away, from a copy, to the end.

A kill during a write leaves the writer's temporary file (``.CK.<random>.tmp``) behind. It is
never read; its appearance is how a mid-write kill is told. A later write of the same target
deletes it once it is a few seconds old and its lock is free (``chainrule._atomic``).

``CHAINRULE_KILLS`` sets the number of kills (default 20); ``CHAINRULE_KILL_SEED`` the moments.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_figures import count

from chainrule.fit import TrainConfig, fit, read_dataset
from chainrule.serialization.checkpoint import load_checkpoint

KILLS = int(os.environ.get("CHAINRULE_KILLS", "20"))
SEED = int(os.environ.get("CHAINRULE_KILL_SEED", "0"))
EPOCHS = 30
VERIFY_EVERY = 7  # resume every 7th kill here too (the chains check every kill)

# W1 1024x3, W2 256x1025, W3 3x257 and Adam's m and v for each: a ~4 MB checkpoint.
CONFIG: dict[str, Any] = {
    "hidden": (1024, 256),
    "batch_size": 64,
    "epochs": EPOCHS,
    "validation_fraction": 0.0,
    "l2": 0.0,
    "seed": 7,
}

_TRAIN = """
import sys
from pathlib import Path
from chainrule.fit import TrainConfig, fit, read_dataset
checkpoint = Path(sys.argv[1])
fit(
    read_dataset("spiral"),
    TrainConfig(**{config!r}),
    checkpoint=checkpoint,
    checkpoint_every=1,
    resume=checkpoint if checkpoint.exists() else None,
)
"""


def _weights(weights: Sequence[np.ndarray]) -> list[bytes]:
    return [W.tobytes() for W in weights]


def _temporary_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(".")}


@pytest.fixture(scope="module")
def uninterrupted() -> list[bytes]:
    """The weights of the run nobody interrupts."""
    return _weights(fit(read_dataset("spiral"), TrainConfig(**CONFIG)).net.weights)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino  # a new file (hence inode) at every atomic replace
    except FileNotFoundError:
        return None


class _Moments:
    """Random moments to kill at, placed by watching the run rather than by the clock.

    A wall-clock schedule drifts with the machine's load; instead each kill waits for 1 to 3
    more checkpoints, then either a random part of an epoch (as measured between the last two
    checkpoints) or the start of the next write plus up to ~2 ms. One kill in six comes at a
    random time in the first second, mostly before any checkpoint exists.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.epoch_seconds = 0.05

    def _wait(self, process: subprocess.Popen[bytes], done: Any) -> bool:
        deadline = time.monotonic() + 60
        while not done():
            if process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def kill(self, process: subprocess.Popen[bytes], folder: Path, checkpoint: Path) -> None:
        if self.rng.random() < 1 / 6:
            time.sleep(self.rng.uniform(0.0, 1.0))
        else:
            for _ in range(self.rng.randint(1, 3)):
                inode, seen = _inode(checkpoint), time.monotonic()
                if not self._wait(process, lambda: _inode(checkpoint) not in (inode, None)):
                    return  # it finished first
                if inode is not None:
                    self.epoch_seconds = time.monotonic() - seen
            if self.rng.random() < 0.5:
                time.sleep(self.rng.uniform(0.0, self.epoch_seconds))
            else:
                before = _temporary_files(folder)
                if not self._wait(process, lambda: _temporary_files(folder) - before):
                    return
                time.sleep(self.rng.uniform(0.0, 0.002))
        process.send_signal(signal.SIGKILL)


@pytest.mark.timeout(240)
def test_training_killed_at_random_points_keeps_a_loadable_checkpoint_and_resumes_bit_identically(
    tmp_path: Path, uninterrupted: list[bytes]
) -> None:
    script = _TRAIN.format(config=CONFIG)
    moments = _Moments(random.Random(SEED))
    kills = mid_write = resumed_here = chains = 0
    while kills < KILLS:
        chains += 1
        folder = tmp_path / f"chain{chains}"
        folder.mkdir()
        checkpoint = folder / "ck.safetensors"
        epoch = 0
        stale: set[str] = set()  # temporary files of writes a kill cut short
        while True:  # kill, resume, kill ... until a run completes (the last one is not killed)
            before = _temporary_files(folder)
            process = subprocess.Popen(
                [sys.executable, "-c", script, str(checkpoint)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if kills < KILLS:
                moments.kill(process, folder, checkpoint)
            _, err = process.communicate(timeout=120)
            if process.returncode == 0:
                break
            assert process.returncode == -signal.SIGKILL, err.decode()
            kills += 1
            written = _temporary_files(folder) - before
            assert all(name.startswith(".ck.safetensors.") for name in written), written
            mid_write += bool(written)
            stale |= written
            count(
                "kills_survived",
                "fit checkpoint (SIGKILL while a checkpoint was being written)"
                if written
                else "fit checkpoint (SIGKILL at a random point)",
            )
            if not checkpoint.exists():
                assert epoch == 0, f"the checkpoint of epoch {epoch} vanished"
                continue
            _, state, _ = load_checkpoint(checkpoint)  # checksums verified on load
            assert epoch <= state["epoch"] <= EPOCHS
            epoch = state["epoch"]
            if kills % VERIFY_EVERY == 0:
                copy = tmp_path / f"copy{kills}.safetensors"
                shutil.copyfile(checkpoint, copy)
                resumed = fit(read_dataset("spiral"), TrainConfig(**CONFIG), resume=copy)
                assert _weights(resumed.net.weights) == uninterrupted, f"from epoch {epoch}"
                resumed_here += 1
        model, state, _ = load_checkpoint(checkpoint)
        assert state["epoch"] == EPOCHS
        assert _weights(model.weights) == uninterrupted, f"chain {chains} ended elsewhere"
        assert _temporary_files(folder) <= stale  # the runs that ended left none of their own
    print(
        f"{kills} kills in {chains} chains ({mid_write} while a checkpoint was being written), "
        f"every chain resumed to bit-identical weights; {resumed_here} kills resumed here too"
    )
    assert resumed_here >= 1
