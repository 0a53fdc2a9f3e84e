"""What a sweep checks before it trusts or writes its results file, and a target of quantities.

Edited records are named by line (or by trial) instead of crashing the ranking or ranking
parameters that were never trained; a file that cannot be written is refused before the data
are loaded; records of other sweeps are said to be there; a whole-number quantity read as
classes gets the advice that fits it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sweep_helpers import read_records

import chainrule.sweeps.runner as runner
from chainrule.errors import ValidationError
from chainrule.sweeps import ResultsFileError, SweepConfigError, sweep


def finished_sweep(config: Path, results: Path) -> list[dict[str, Any]]:
    sweep(config, scheduler="serial", results=results, progress="none", output_model=False)
    return read_records(results)


def rewrite_line(results: Path, index: int, edit: dict[str, Any]) -> None:
    lines = results.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[index] = json.dumps({**json.loads(lines[index]), **edit}) + "\n"
    results.write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        ({"score_mean": "0.9"}, "score_mean of an ok trial must be a finite number; got '0.9'"),
        ({"score_mean": None}, "score_mean of an ok trial must be a finite number; got None"),
        ({"loss_mean": float("nan")}, "loss_mean of an ok trial must be a finite number; got nan"),
        ({"status": "done"}, "status must be one of ok, diverged, failed; got 'done'"),
        ({"fold_scores": [0.5]}, "fold_scores of an ok trial must list 2 finite numbers"),
        ({"status": "failed"}, "a failed trial's error must be text; got None"),
        ({"params": [4]}, "params must be a table of parameters; got [4]"),
        ({"folds": "2"}, "folds must be an integer; got '2'"),
    ],
)
def test_an_edited_record_is_named_by_its_line(
    tiny_config: Path, tmp_path: Path, edit: dict[str, Any], fragment: str
) -> None:
    """A score in quotes crashed the ranking with a TypeError traceback; a misspelt status or a
    missing score was kept and silently left out of the ranking (or ranked as 0)."""
    results = tmp_path / "r.jsonl"
    finished_sweep(tiny_config, results)
    rewrite_line(results, 1, edit)
    before = results.read_bytes()
    with pytest.raises(ResultsFileError) as info:
        sweep(tiny_config, scheduler="serial", results=results, progress="none")
    assert str(info.value).startswith(f"results file {str(results)!r} line 2 is not a trial record")
    assert fragment in str(info.value)
    assert results.read_bytes() == before
    assert not (tmp_path / "r.best.safetensors").exists()


def test_an_edited_csv_status_is_named_by_its_line(tiny_config: Path, tmp_path: Path) -> None:
    results = tmp_path / "r.csv"
    sweep(tiny_config, scheduler="serial", results=results, progress="none", output_model=False)
    lines = results.read_text(encoding="utf-8").splitlines(keepends=True)
    assert ",ok," in lines[3]
    lines[3] = lines[3].replace(",ok,", ",okay,", 1)
    results.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ResultsFileError, match=r"line 4 is not a trial record \(ValueError: "):
        sweep(tiny_config, scheduler="serial", results=results, progress="none")


def test_a_record_with_edited_parameters_is_refused_by_trial(
    tiny_config: Path, tmp_path: Path
) -> None:
    """Kept, it was reported (and could win) with an activation its id's network never had,
    and the model saved for it would have been trained with the other one."""
    results = tmp_path / "r.jsonl"
    records = finished_sweep(tiny_config, results)
    params = records[0]["params"]
    other = "relu" if params["activation"] == "tanh" else "tanh"
    rewrite_line(results, 0, {"params": {**params, "activation": other}})
    before = results.read_bytes()
    with pytest.raises(ResultsFileError) as info:
        sweep(tiny_config, scheduler="serial", results=results, progress="none")
    assert str(info.value) == (
        f"results file {str(results)!r}: the record of trial {records[0]['trial_id']} has "
        f"activation {other!r} (the trial's: {params['activation']!r}); the line was edited: "
        "fix it, or remove it to rerun the trial"
    )
    assert results.read_bytes() == before


def test_records_of_another_sweep_are_said_to_be_there_and_kept(
    tiny_config: Path, tmp_path: Path
) -> None:
    results = tmp_path / "shared.jsonl"
    other = tmp_path / "other.toml"
    other.write_text(tiny_config.read_text(encoding="utf-8").replace("seed = 3", "seed = 4"))
    finished_sweep(other, results)
    theirs = results.read_bytes()
    out = io.StringIO()
    outcome = sweep(tiny_config, scheduler="serial", results=results, progress="lines", stream=out)
    assert out.getvalue().splitlines()[0] == (
        f"{results} also holds 4 records of other sweeps (another space, data, folds, seed or "
        "dtype), left as they are"
    )
    assert outcome.computed == 4 and outcome.skipped == 0
    assert results.read_bytes().startswith(theirs)
    assert len(read_records(results)) == 8


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_results_path_in_a_folder_that_takes_no_file_is_refused_before_any_trial(
    tiny_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first finished trial stopped the sweep with an OSError traceback. /proc takes no
    new file, even from root (for whom a folder's read-only mode means nothing)."""

    def run_trial(data: Any, spec: Any) -> Any:
        raise AssertionError("a trial ran before the results file was checked")

    monkeypatch.setattr(runner, "run_trial", run_trial)
    with pytest.raises(ValidationError, match=r"^results file '/proc/runs/r\.jsonl': cannot write"):
        sweep(tiny_config, scheduler="serial", results="/proc/runs/r.jsonl")


def test_a_whole_number_quantity_read_as_classes_gets_the_advice_to_regress(
    tmp_path: Path,
) -> None:
    """'The data set is too small to sweep' was the advice for 60 rows of prices in dollars."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    price = np.round(200_000 + 30_000 * X[:, 0]).astype(int)
    rows = "".join(f"{a},{b},{p}\n" for (a, b), p in zip(X, price, strict=True))
    (tmp_path / "houses.csv").write_text("area,age,price\n" + rows, encoding="utf-8")
    config = tmp_path / "houses.toml"
    config.write_text(
        'dataset = { path = "houses.csv", target = "price" }\nfolds = 3\n[space]\nepochs = 2\n'
    )
    values, counts = np.unique(price, return_counts=True)
    with pytest.raises(SweepConfigError) as info:
        sweep(config, scheduler="serial", progress="none")
    message = str(info.value)
    assert message.endswith(
        f"{np.sum(counts == 1)} of the target's {len(values)} classes have one sample each; if "
        "the target is a quantity, not a label, set dataset.task = 'regression'"
    )
    assert "too small" not in message
    config.write_text(config.read_text().replace('"price" }', '"price", task = "regression" }'))
    outcome = sweep(config, scheduler="serial", progress="none", output_model=False)
    assert outcome.best is not None and outcome.best.score_name == "r2"
