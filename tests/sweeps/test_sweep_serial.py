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


REFUSED = """\
dataset = { name = "xor", n_samples = 40 }
folds = 2

[space]
hidden_layers = [[4], [1000000000000]]
epochs = [2]
"""


def test_a_configuration_chainrule_refuses_is_a_failed_trial_not_the_end_of_the_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "refused.toml"
    config.write_text(REFUSED, encoding="utf-8")
    results = tmp_path / "r.jsonl"
    outcome = sweep(config, scheduler="serial", results=results, progress="none")
    records = read_records(results)
    assert [r["status"] for r in records] == ["ok", "failed"]
    failed = records[1]
    assert failed["params"]["hidden_layers"] == [10**12]
    assert failed["error"].startswith("fold 1: W^(1) would hold 3,000,000,000,000 weights")
    assert failed["score_mean"] is None and failed["fold_scores"] == []
    assert outcome.best is not None and outcome.best.trial_id == records[0]["trial_id"]
    assert outcome.unfinished == []
    assert f"failed {failed['trial_id']}: fold 1: W^(1) would hold" in outcome.summary()
    calls = counting_run_trial(monkeypatch)
    again = sweep(config, scheduler="serial", results=results, progress="none")
    assert calls == [] and again.skipped == 2  # the same refusal is not run again


def test_ctrl_c_while_the_best_model_is_retrained_says_every_trial_is_kept(
    tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, model = tmp_path / "t.jsonl", tmp_path / "best.safetensors"

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "fit_network", interrupted)  # the retraining on all data
    with pytest.raises(SweepInterrupted) as info:
        sweep(tiny_config, scheduler="serial", results=results, progress="none", output_model=model)
    assert (info.value.kept, info.value.total) == (4, 4)
    assert len(read_records(results)) == 4 and not model.exists()
    monkeypatch.undo()
    calls = counting_run_trial(monkeypatch)
    again = sweep(
        tiny_config, scheduler="serial", results=results, progress="none", output_model=model
    )
    assert calls == [] and again.model_path == model and model.exists()


def test_ctrl_c_during_a_serial_trial_stops_the_sweep_and_records_no_cut_short_fold(
    tiny_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real SIGINT while the second trial trains. The trainer catches it (and would end that
    fold early); the sweep must stop rather than score and keep a half-trained trial."""
    import os
    import signal

    import chainrule.sweeps.trial as trial
    from chainrule.engine.callbacks import Callback

    class CtrlC(Callback):
        def on_epoch_end(self, trainer: Any, record: Any) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # as a terminal's Ctrl-C does

    built = []

    def trainer(*args: Any, **kwargs: Any) -> Any:
        built.append(1)
        if len(built) == 3:  # the second trial's first fold (2 folds a trial)
            kwargs["callbacks"] = [CtrlC()]
        return Trainer(*args, **kwargs)

    monkeypatch.setattr(trial, "Trainer", trainer)
    results = tmp_path / "t.jsonl"
    with pytest.raises(SweepInterrupted) as info:
        sweep(tiny_config, scheduler="serial", results=results, progress="none")
    assert (info.value.kept, info.value.total) == (1, 4)
    assert len(read_records(results)) == 1 and len(built) == 3
    monkeypatch.undo()
    reference = tmp_path / "r.jsonl"
    sweep(tiny_config, scheduler="serial", results=reference, progress="none", output_model=False)
    sweep(tiny_config, scheduler="serial", results=results, progress="none", output_model=False)
    assert without_time(read_records(results)) == without_time(read_records(reference))


def test_a_random_search_that_draws_a_point_twice_says_so(tmp_path: Path) -> None:
    config = tmp_path / "small.toml"
    config.write_text(
        'dataset = { name = "xor", n_samples = 40 }\nfolds = 2\n\n[search]\nmethod = "random"\n'
        "n_trials = 6\n\n[space]\nhidden_layers = [[2], [3]]\nepochs = [1]\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    outcome = sweep(config, scheduler="serial", results=tmp_path / "r.jsonl", stream=out)
    assert len(outcome.trials) == 2
    assert out.getvalue().startswith(
        "search.n_trials = 6 drew 2 distinct points of the space (a point drawn twice is one "
        "trial)\n"
    )
