"""``chainrule sweep`` through the real command line, in a subprocess."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainrule.serialization import load_model
from cli_helpers import chainrule

CONFIG = """\
dataset = { name = "xor", n_samples = 80 }
folds = 2
seed = 3

[space]
hidden_layers = [[4]]
activation = ["tanh", "relu"]
learning_rate = [0.05, 0.2]
batch_size = [16]
epochs = [10]
"""


def sweep(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``chainrule sweep ARGS`` run in the folder of the first argument (the sweep file), so that
    anything written by mistake lands in the test's folder."""
    return chainrule("sweep", *args, cwd=Path(str(args[0])).parent, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.dask
def test_sweep_on_a_local_cluster_end_to_end(tmp_path: Path) -> None:
    (tmp_path / "tiny.toml").write_text(CONFIG, encoding="utf-8")
    results = tmp_path / "out" / "tiny.csv"
    run = sweep(tmp_path / "tiny.toml", "--results", results, "--n-workers", "2")
    assert run.returncode == 0, run.stderr
    with results.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and len({r["trial_id"] for r in rows}) == 4
    assert all(r["status"] == "ok" and 0 <= float(r["score_mean"]) <= 1 for r in rows)
    best = max(rows, key=lambda r: (float(r["score_mean"]), -float(r["loss_mean"])))
    assert f"best: {best['trial_id']} accuracy " in run.stdout
    assert run.stderr.count("\n") == 4 and run.stderr.startswith("[1/4] ")  # plain lines: no TTY
    model = load_model(tmp_path / "out" / "tiny.best.safetensors")
    assert model.training is not None and model.training["trial_id"] == best["trial_id"]

    before = results.read_bytes()
    again = sweep(
        tmp_path / "tiny.toml", "--results", results, "--output-model", tmp_path / "again.st"
    )
    assert again.returncode == 0, again.stderr
    assert again.stderr == "4 of 4 trials already in the results file\n"
    assert "4 trials finished (0 now, 4 from earlier runs)" in again.stdout
    assert results.read_bytes() == before


SLOW = """\
dataset = "iris"
folds = 2

[space]
hidden_layers = [[8]]
activation = ["tanh", "relu"]
learning_rate = [0.01, 0.02, 0.03]
batch_size = 2
epochs = 6
"""


@pytest.mark.dask
def test_ctrl_c_keeps_finished_trials_and_a_rerun_completes_the_rest(tmp_path: Path) -> None:
    (tmp_path / "slow.toml").write_text(SLOW, encoding="utf-8")
    results = tmp_path / "slow.results.jsonl"  # the default name
    command = [sys.executable, "-m", "chainrule", "sweep", str(tmp_path / "slow.toml")]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 90
        while not (results.exists() and results.read_bytes().count(b"\n") >= 1):
            assert time.monotonic() < deadline and process.poll() is None, "no trial finished"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: the workers get it too
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130
    kept = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert 1 <= len(kept) < 6  # every line complete, the sweep unfinished
    progress = [line for line in stderr.splitlines() if line.startswith("[")]
    assert len(progress) <= len(kept), stderr  # every trial reported finished was kept
    assert stderr == "".join(f"{line}\n" for line in progress) + (
        f"chainrule sweep: interrupted; {len(kept)} of 6 trials kept in {results} "
        "(re-run to finish the rest)\n"
    )

    rerun = sweep(  # finished in this process: trial ids do not depend on where they run
        tmp_path / "slow.toml", "--scheduler", "serial", "--output-model", tmp_path / "m.st"
    )
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stderr.startswith(f"{len(kept)} of 6 trials already in the results file\n")
    records = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
    assert records[: len(kept)] == kept
    assert len(records) == len({r["trial_id"] for r in records}) == 6
    assert load_model(tmp_path / "m.st").training is not None


def test_unknown_key_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("dataset: iris\nspace:\n  learnig_rate: [0.1]\n", encoding="utf-8")
    run = sweep(config, "--results", tmp_path / "r.jsonl")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(
        "chainrule sweep: error: unknown key 'space.learnig_rate' in bad.yaml; allowed keys in "
        "[space]: hidden_layers, activation, optimizer, learning_rate, l2, batch_size, epochs"
    )
    assert not (tmp_path / "r.jsonl").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:{port}", "localhost"])
def test_unreachable_scheduler_is_one_line_and_leaves_results_alone(
    tmp_path: Path, address: str
) -> None:
    (tmp_path / "tiny.toml").write_text(CONFIG, encoding="utf-8")
    results = tmp_path / "r.jsonl"
    partial = b'{"trial_id": "0123456789abcdef", "status": "o'  # a torn line, not to be cut
    results.write_bytes(partial)
    scheduler = address.format(port=free_port())
    run = sweep(
        tmp_path / "tiny.toml", "--results", results, "--scheduler", scheduler,
        "--connect-timeout", "2",
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr
    expected = (
        f"cannot reach the Dask scheduler at {scheduler} within 2 s"
        if "://" in scheduler
        else "scheduler must be an address like tcp://HOST:PORT, or 'serial'; got 'localhost'"
    )
    assert run.stderr.startswith(f"chainrule sweep: error: {expected}")
    assert results.read_bytes() == partial
    assert not (tmp_path / "r.best.safetensors").exists()


@pytest.mark.parametrize("value", ["-5", "0", "nan", "inf", "-inf", "soon"])
def test_connect_timeout_must_be_positive_seconds(tmp_path: Path, value: str) -> None:
    (tmp_path / "g.yaml").write_text("dataset: iris\nfolds: 2\nspace:\n  epochs: [2]\n")
    run = sweep(
        tmp_path / "g.yaml", "--scheduler", f"tcp://127.0.0.1:{free_port()}",
        f"--connect-timeout={value}",  # '=': argparse takes a lone '-inf' for an option
    )  # fmt: skip
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (
        "chainrule: error: argument --connect-timeout: expected a positive, finite number of "
        f"seconds; got {value!r} (see 'chainrule sweep --help')\n"
    )
    assert not (tmp_path / "g.results.jsonl").exists()


def test_too_few_samples_for_any_folds_gives_possible_advice(tmp_path: Path) -> None:
    (tmp_path / "two.csv").write_text("a,b,y\n0.1,0.2,0\n0.3,0.4,1\n", encoding="utf-8")
    (tmp_path / "two.toml").write_text(
        'dataset = "two.csv"\nfolds = 5\n[space]\nepochs = [2]\n', encoding="utf-8"
    )
    run = sweep(tmp_path / "two.toml", "--scheduler", "serial")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr == (
        "chainrule sweep: error: folds = 5 but class '0' has only 1 sample; cross-validation "
        "needs at least 2 samples of every class (folds >= 2), so the data set is too small to "
        "sweep\n"
    )


def test_a_best_model_path_that_cannot_be_written_is_refused_before_any_trial(
    tmp_path: Path,
) -> None:
    (tmp_path / "tiny.toml").write_text(CONFIG, encoding="utf-8")
    results = tmp_path / "r.jsonl"
    for path, fragment in [
        (tmp_path / "missing" / "m.safetensors", "the folder"),
        (tmp_path, "is a directory"),
    ]:
        run = sweep(
            tmp_path / "tiny.toml", "--scheduler", "serial", "--results", results,
            "--output-model", path,
        )  # fmt: skip
        assert run.returncode == 2, run
        assert run.stderr.startswith("chainrule sweep: error: --output-model: ")
        assert fragment in run.stderr and run.stderr.count("\n") == 1
        assert not results.exists()  # no trial ran


def test_n_workers_is_checked_as_an_option(tmp_path: Path) -> None:
    (tmp_path / "tiny.toml").write_text(CONFIG, encoding="utf-8")
    run = sweep(tmp_path / "tiny.toml", "--n-workers", "0")
    assert run.returncode == 2
    assert "argument --n-workers: expected an integer >= 1; got '0'" in run.stderr


def test_the_best_model_knows_its_columns_by_name(tmp_path: Path) -> None:
    """As a model from 'chainrule train': evaluate and predict find its features by name in a
    file whose columns come in another order."""
    rows = [(i % 7 - 3.0, (i * 5) % 11 - 5.0, "cat" if i % 2 else "dog") for i in range(40)]
    with (tmp_path / "pets.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("width", "height", "kind"), *rows])
    with (tmp_path / "shuffled.csv").open("w", newline="") as f:
        csv.writer(f).writerows([("kind", "height", "width"), *(r[::-1] for r in rows)])
    (tmp_path / "pets.toml").write_text(
        'dataset = "pets.csv"\nfolds = 2\n\n[space]\nhidden_layers = [[3]]\nepochs = [2]\n',
        encoding="utf-8",
    )
    run = sweep(tmp_path / "pets.toml", "--scheduler", "serial")
    assert run.returncode == 0, run.stderr
    model = tmp_path / "pets.results.best.safetensors"
    assert load_model(model).training["feature_names"] == ["width", "height"]
    scores = [
        json.loads(chainrule("evaluate", model, tmp_path / name, "--json").stdout)
        for name in ("pets.csv", "shuffled.csv")
    ]
    assert scores[0] == {**scores[1], "data": scores[0]["data"]}
