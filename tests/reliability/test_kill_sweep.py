"""Faults (issue 7): the sweep process itself SIGKILLed at random moments, then rerun.

``chainrule sweep CONFIG --results R`` runs in a subprocess of its own session; it is killed
(SIGKILL: no handler runs) at seeded random moments, each time after the results file is
checked, and rerun until it completes. At the end the results file must hold exactly one
parseable line per trial of the grid, with the same scores as an uninterrupted run (fit time
aside), and no temporary file may be left. With the default local Dask cluster the killed
parent leaves its worker processes orphaned for a moment: they must exit by themselves (they
watch their parent); the whole process group is killed afterwards in any case.

``CHAINRULE_KILLS`` sets how many kills the serial run survives (default 5); the LocalCluster
run is killed once. ``CHAINRULE_KILL_SEED`` seeds the moments.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from reliability_figures import count

from chainrule.serialization import load_model
from chainrule.sweeps.results import ResultsFile

KILLS = int(os.environ.get("CHAINRULE_KILLS", "5"))
SEED = int(os.environ.get("CHAINRULE_KILL_SEED", "0"))

# 12 trials of ~0.3 s each (2 folds x 80 epochs of batch 8 on 240 points): a kill lands
# mid-trial most of the time, between two trials or in the final retraining now and then.
CONFIG = """\
dataset = { name = "xor", n_samples = 240 }
folds = 2
seed = 3

[space]
hidden_layers = [[16]]
activation = ["tanh", "relu"]
optimizer = ["adam", "sgd", "momentum"]
learning_rate = [0.05, 0.2]
l2 = [0.0]
batch_size = [8]
epochs = [80]
"""


def _argv(config: Path, results: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "chainrule",
        "sweep",
        str(config),
        "--results",
        str(results),
        *extra,
    ]


def _start(argv: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    """The sweep in a session of its own, so its Dask workers share its process group."""
    return subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _group_members(pgid: int) -> list[int]:
    """Live processes (zombies excluded) of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _wait_until_gone(pgid: int, seconds: float) -> list[int]:
    """Wait up to ``seconds`` for process group ``pgid`` to empty; what is still there."""
    deadline = time.monotonic() + seconds
    while (members := _group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return members


def _kill_group(pgid: int) -> None:
    """SIGKILL every process of the group and wait until none is left (at most 30 s)."""
    deadline = time.monotonic() + 30
    while _group_members(pgid) and time.monotonic() < deadline:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    assert _group_members(pgid) == [], f"processes of the killed sweep outlived it: {pgid}"


def _records(results: Path) -> dict[str, dict[str, Any]]:
    """The file's records by trial id, minus ``fit_time``; every line must parse, once per id."""
    lines = results.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    ids = [r["trial_id"] for r in records]
    assert len(ids) == len(set(ids)), f"a trial was written twice: {sorted(ids)}"
    return {r["trial_id"]: {k: v for k, v in r.items() if k != "fit_time"} for r in records}


def _check_after_kill(results: Path) -> tuple[int, bool]:
    """What a rerun will see: finished trials (no id twice) and whether the last line is torn."""
    if not results.exists():
        return 0, False
    raw = results.read_bytes()
    complete = raw[: raw.rfind(b"\n") + 1].decode("utf-8").splitlines()
    ids = [json.loads(line)["trial_id"] for line in complete]  # every complete line parses
    assert len(ids) == len(set(ids)), f"a trial was written twice: {sorted(ids)}"
    assert len(ResultsFile(results).read()) >= len(ids)  # the reader agrees (and does not raise)
    return len(ids), not raw.endswith(b"\n") and raw != b""


def _temporary_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.startswith(".")}


def _only_killed_writes_left(folder: Path, after_kills: set[str]) -> None:
    """No temporary file is left but those of a best-model write a SIGKILL cut short.

    Nobody is left to remove those (the results file itself is appended to, never replaced).
    """
    assert _temporary_files(folder) == after_kills
    assert all(name.startswith(".results.best.safetensors.") for name in after_kills)


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, Any], float, float]:
    """The config, the uninterrupted serial run's records and its wall time after imports."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    config = folder / "sweep.toml"
    config.write_text(CONFIG, encoding="utf-8")
    results = folder / "results.jsonl"
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import chainrule.cli, chainrule.sweeps"], check=True)
    startup = time.monotonic() - started
    started = time.monotonic()
    done = subprocess.run(
        _argv(config, results, "--scheduler", "serial"),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = time.monotonic() - started - startup
    assert done.returncode == 0, done.stderr
    records = _records(results)
    assert len(records) == 12
    print(f"uninterrupted serial sweep: {startup:.2f} s of imports, then {elapsed:.2f} s")
    return config, records, startup, elapsed


def _finished(results: Path) -> int:
    return _check_after_kill(results)[0]


@pytest.mark.timeout(180)
def test_serial_sweep_killed_at_random_moments_loses_and_duplicates_no_trial(
    tmp_path: Path, reference: tuple[Path, dict[str, Any], float, float]
) -> None:
    """Kill, rerun, kill again...; each completed round is checked, then the next one starts."""
    config, expected, startup, elapsed = reference
    rng = random.Random(SEED)
    kills = rounds = attempts = 0
    while kills < KILLS and attempts < 4 * KILLS:
        rounds += 1
        run = tmp_path / f"round{rounds}"
        run.mkdir()
        results = run / "results.jsonl"
        argv = _argv(config, results, "--scheduler", "serial")
        after_kills: set[str] = set()
        while True:  # until a run completes
            attempts += 1
            remaining = len(expected) - _finished(results)
            # Somewhere in what is left of the work (plus the final retraining), after imports.
            share = (remaining + 1) / (len(expected) + 1)
            moment = startup + rng.uniform(0.0, elapsed * share / 2)
            process = _start(argv, run)
            try:
                process.wait(timeout=moment if kills < KILLS else 120)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
            finally:
                _kill_group(process.pid)
            if process.returncode == 0:
                break
            assert process.returncode == -signal.SIGKILL
            on_disk, torn = _check_after_kill(results)
            print(f"killed at {moment:.2f} s: {on_disk} trials on disk, torn last line: {torn}")
            after_kills |= _temporary_files(run)
            kills += 1
            count("kills_survived", "sweep process (serial)")
        assert _records(results) == expected
        load_model(run / "results.best.safetensors")
        _only_killed_writes_left(run, after_kills)
    assert kills == KILLS, f"only {kills} of {attempts} runs were killed before finishing"


@pytest.mark.timeout(180)
def test_local_cluster_sweep_killed_leaves_no_worker_and_loses_no_trial(
    tmp_path: Path, reference: tuple[Path, dict[str, Any], float, float]
) -> None:
    """The default LocalCluster, killed once a trial is on disk: no worker outlives it."""
    pytest.importorskip("distributed")
    config, expected, _, _ = reference
    results = tmp_path / "results.jsonl"
    argv = _argv(config, results, "--n-workers", "2")
    process = _start(argv, tmp_path)
    try:
        deadline = time.monotonic() + 90
        while process.poll() is None and time.monotonic() < deadline:
            if results.exists() and results.stat().st_size > 0:
                break  # the cluster is up and trials are streaming in
            time.sleep(0.02)
        time.sleep(random.Random(SEED).uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        orphans = _group_members(process.pid)
        left = _wait_until_gone(process.pid, 20)  # the workers notice their parent is gone
    finally:
        _kill_group(process.pid)
    assert process.returncode == -signal.SIGKILL, "the sweep finished before it was killed"
    print(f"the killed sweep's {len(orphans)} orphaned Dask processes exited by themselves")
    assert left == [], f"Dask processes outlived the killed sweep by 20 s: {left}"
    finished, _ = _check_after_kill(results)
    assert 1 <= finished < len(expected)
    after_kill = _temporary_files(tmp_path)
    count("kills_survived", "sweep process (LocalCluster)")
    rerun = _start(argv, tmp_path)
    try:
        assert rerun.wait(timeout=120) == 0
        left = _wait_until_gone(rerun.pid, 10)
    finally:
        _kill_group(rerun.pid)
    assert left == [], f"a completed sweep left processes running: {left}"
    assert _records(results) == expected
    _only_killed_writes_left(tmp_path, after_kill)
