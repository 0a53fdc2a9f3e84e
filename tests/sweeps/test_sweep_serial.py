"""Sweeps run in this process: streaming, resuming, interruption, the best model."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sweep_helpers import read_records, without_time

import chainrule.sweeps.runner as runner
from chainrule.datasets import load
from chainrule.engine import Network, Trainer, make_optimizer
from chainrule.serialization import load_model
from chainrule.sweeps import (
    ResultsFileError,
    SweepConfigError,
    SweepInterrupted,
    TrialResult,
    sweep,
)


def counting_run_trial(monkeypatch: pytest.MonkeyPatch, fail_after: int | None = None) -> list[str]:
    """Wrap the trial function to record which trials run (and optionally interrupt)."""
    calls: list[str] = []
    real = runner.run_trial

    def run_trial(data: Any, spec: Any) -> TrialResult:
        if fail_after is not None and len(calls) == fail_after:
            raise KeyboardInterrupt
        calls.append(spec.trial_id)
        return real(data, spec)

    monkeypatch.setattr(runner, "run_trial", run_trial)
    return calls


def test_serial_sweep_streams_every_trial_and_keeps_the_best(
    tiny_config: Path, tmp_path: Path
) -> None:
    out = io.StringIO()
    results = tmp_path / "runs" / "tiny.jsonl"
    outcome = sweep(tiny_config, scheduler="serial", results=results, progress="lines", stream=out)
    records = read_records(results)
    assert [r["trial_id"] for r in records] == [t.trial_id for t in outcome.trials]
    assert len(records) == 4 and outcome.computed == 4 and outcome.skipped == 0
    assert {(r["params"]["activation"], r["params"]["learning_rate"]) for r in records} == {
        ("tanh", 0.05), ("tanh", 0.2), ("relu", 0.05), ("relu", 0.2)
    }  # fmt: skip
    assert all(r["status"] == "ok" and len(r["fold_scores"]) == 2 for r in records)
    best = max(records, key=lambda r: (r["score_mean"], -r["loss_mean"]))
    assert outcome.best is not None and outcome.best.trial_id == best["trial_id"]
    assert out.getvalue().count("\n") == 4 and out.getvalue().startswith("[1/4] ")
    assert f"best: {best['trial_id']}" in outcome.summary()


def test_best_model_is_the_best_configuration_retrained_on_all_data(
    tiny_config: Path, tmp_path: Path
) -> None:
    outcome = sweep(tiny_config, scheduler="serial", results=tmp_path / "t.jsonl", progress="none")
    assert outcome.best is not None
    assert outcome.model_path == tmp_path / "t.best.safetensors"
    model = load_model(outcome.model_path)
    params = outcome.best.params
    assert model.training is not None and model.training["trial_id"] == outcome.best.trial_id
    assert model.activations == (params["activation"], "softmax")
    assert model.classes == ("0", "1") and model.task == "classification"
    # the replica: standardise all data with numpy, train with the seed of slot (seed, folds)
    data = load("xor", n_samples=80, seed=3)
    mean, std = data.X.mean(axis=0), data.X.std(axis=0)
    assert model.preprocessing is not None
    assert model.preprocessing["standardizer"]["mean"] == pytest.approx(mean.tolist(), rel=1e-12)
    assert model.preprocessing["standardizer"]["scale"] == pytest.approx(std.tolist(), rel=1e-12)
    rng = np.random.default_rng([3, 2])
    net = Network([2, 4, 2], [params["activation"], "softmax"], seed=rng)
    optimizer = make_optimizer("adam", params["learning_rate"], weight_decay=0.0)
    Trainer(net, (data.X - mean) / std, data.y, optimizer=optimizer, batch_size=16, seed=rng).fit(
        10
    )
    for saved, replica in zip(model.weights, net.weights, strict=True):
        np.testing.assert_allclose(saved, replica, rtol=1e-5, atol=1e-6)


def test_rerun_skips_finished_trials(
    tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "t.jsonl"
    first = sweep(tiny_config, scheduler="serial", results=results, progress="none")
    before = results.read_bytes()
    calls = counting_run_trial(monkeypatch)
    again = sweep(tiny_config, scheduler="serial", results=results, progress="none")
    assert calls == []
    assert again.computed == 0 and again.skipped == 4
    assert results.read_bytes() == before
    assert again.trials == first.trials and again.best == first.best


def test_torn_last_line_is_rerun_and_rewritten_cleanly(
    tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "t.jsonl"
    sweep(tiny_config, scheduler="serial", results=results, progress="none", output_model=False)
    lines = results.read_text(encoding="utf-8").splitlines(keepends=True)
    reference = without_time(read_records(results))
    results.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2], encoding="utf-8")
    calls = counting_run_trial(monkeypatch)
    outcome = sweep(
        tiny_config, scheduler="serial", results=results, progress="none", output_model=False
    )
    torn_id = reference[list(reference)[3]]["trial_id"]
    assert calls == [torn_id]
    assert outcome.computed == 1 and outcome.skipped == 3
    text = results.read_text(encoding="utf-8")
    assert text.startswith("".join(lines[:3])) and text.count("\n") == 4
    assert without_time(read_records(results)) == reference


def test_an_interrupted_sweep_keeps_finished_trials_and_resumes(
    tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "t.jsonl"
    counting_run_trial(monkeypatch, fail_after=2)
    with pytest.raises(KeyboardInterrupt) as info:
        sweep(tiny_config, scheduler="serial", results=results, progress="none")
    assert len(read_records(results)) == 2
    assert isinstance(info.value, SweepInterrupted)  # says what was kept, for a person
    assert (info.value.kept, info.value.total, info.value.results_path) == (2, 4, results)
    assert str(info.value) == f"2 of 4 trials kept in {results} (re-run to finish the rest)"
    monkeypatch.undo()
    calls = counting_run_trial(monkeypatch)
    outcome = sweep(tiny_config, scheduler="serial", results=results, progress="none")
    assert len(calls) == 2 and outcome.skipped == 2
    records = read_records(results)
    assert len({r["trial_id"] for r in records}) == len(records) == 4


def test_csv_results_hold_the_same_trials(tiny_config: Path, tmp_path: Path) -> None:
    as_jsonl = sweep(tiny_config, scheduler="serial", results=tmp_path / "a.jsonl", progress="none")
    as_csv = sweep(tiny_config, scheduler="serial", results=tmp_path / "a.csv", progress="none")
    assert [t.trial_id for t in as_csv.trials] == [t.trial_id for t in as_jsonl.trials]
    for a, b in zip(as_csv.trials, as_jsonl.trials, strict=True):
        assert {**a.to_record(), "fit_time": 0} == {**b.to_record(), "fit_time": 0}
    assert (tmp_path / "a.csv").read_text(encoding="utf-8").startswith("trial_id,status,")


def test_bad_input_writes_nothing(tmp_path: Path, tiny_config: Path) -> None:
    results = tmp_path / "t.jsonl"
    with pytest.raises(SweepConfigError, match="unknown key 'epochs'"):
        sweep({"dataset": "iris", "epochs": 3}, scheduler="serial", results=results)
    with pytest.raises(ValueError, match="scheduler must be an address like tcp://HOST:PORT"):
        sweep(tiny_config, scheduler="localhost", results=results)
    for timeout in (-5, 0, float("nan"), float("inf"), True, "10"):
        with pytest.raises(ValueError, match="connect_timeout must be a positive, finite"):
            sweep(tiny_config, scheduler="tcp://127.0.0.1:1", connect_timeout=timeout)  # type: ignore[arg-type]
    results.write_text("garbage\n", encoding="utf-8")
    with pytest.raises(ResultsFileError, match="line 1 is not a trial record"):
        sweep(tiny_config, scheduler="serial", results=results)
    assert results.read_text(encoding="utf-8") == "garbage\n"
    assert not (tmp_path / "t.best.safetensors").exists()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_on_a_terminal(tiny_config: Path, tmp_path: Path) -> None:
    out = Terminal()
    sweep(tiny_config, scheduler="serial", results=tmp_path / "t.jsonl", stream=out)
    text = out.getvalue()
    assert text.count("\r[") == 4 and "] 4/4  best accuracy" in text and text.endswith("\n")
