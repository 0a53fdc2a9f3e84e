"""``chainrule train``: what is refused before training, and what the report says after it."""

from __future__ import annotations

import json
import os
import resource
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import chainrule, one_line_error

QUICK = ["--epochs", "1", "--hidden", "3"]


def test_regression_scores_are_in_the_targets_units(tmp_path: Path) -> None:
    """train's RMSE is the one evaluate reports, not that of the standardised target."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = 300 * X[:, 0] - 200 * X[:, 1] + 1000 + 20 * rng.normal(size=200)
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header="a,b,t", comments="")
    model = tmp_path / "big.safetensors"
    common = ["--validation-fraction", "0", "--epochs", "40", "--lr", "0.01"]
    trained = chainrule("train", path, *common, "--json", "-o", model)
    assert trained.returncode == 0, trained.stderr
    final = json.loads(trained.stdout)["final"]
    evaluated = json.loads(chainrule("evaluate", model, path, "--json").stdout)
    assert final["rmse"] == pytest.approx(evaluated["rmse"], rel=0.3)
    assert final["rmse"] > 10  # standard deviations would be about 0.1


def test_early_stopping_reports_the_epoch_it_keeps() -> None:
    args = ["xor", "--early-stopping", "--patience", "1", "--epochs", "100", "--lr", "0.3"]
    result = chainrule("train", *args, "--hidden", "4", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    best = report["best_epoch"]
    assert best is not None and best < report["epochs"]
    assert report["final"] == report["history"][best - 1]
    text = chainrule("train", *args, "--hidden", "4").stdout
    assert f"epoch {best} (kept)" in text
    kept = report["history"][best - 1]
    assert f"val_loss {kept['val_loss']:.4f}" in text


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="needs a read-only /sys")
def test_an_unwritable_output_folder_fails_before_training(tmp_path: Path) -> None:
    """A run that could never save its model does not train first (a million epochs here)."""
    for option in ("-o", "--checkpoint"):
        result = chainrule(
            "train", "xor", "--epochs", "1000000", option, "/sys/m.safetensors", timeout=60
        )
        assert "cannot write in the folder '/sys'" in one_line_error(result)


def test_plots_that_is_a_file_fails_before_training(tmp_path: Path) -> None:
    (tmp_path / "figures.csv").write_text("x")
    model = tmp_path / "m.safetensors"
    result = chainrule("train", "xor", *QUICK, "--plots", tmp_path / "figures.csv", "-o", model)
    assert "--plots" in one_line_error(result) and "not a directory" in result.stderr
    assert not model.exists()
    under_file = chainrule("train", "xor", *QUICK, "--plots", tmp_path / "figures.csv" / "sub")
    assert "--plots" in one_line_error(under_file)


def test_validation_data_of_the_other_task_is_refused() -> None:
    for data, validation in (("plane", "xor"), ("xor", "plane")):
        line = one_line_error(chainrule("train", data, *QUICK, "--validation-data", validation))
        assert "--validation-data" in line
        assert "classification" in line and "regression" in line


def test_resume_refuses_options_that_differ_from_the_checkpoint(tmp_path: Path) -> None:
    ckpt = tmp_path / "r.ckpt"
    started = chainrule("train", "xor", "--epochs", "1", "--hidden", "5", "--checkpoint", ckpt)
    assert started.returncode == 0, started.stderr
    conflict = chainrule(
        "train", "xor", "--resume", ckpt, "--epochs", "3", "--hidden", "7", "--optimizer", "sgd"
    )
    line = one_line_error(conflict)
    assert "--hidden (7; the checkpoint has 5)" in line
    assert "--optimizer (sgd; the checkpoint has adam)" in line
    same = chainrule("train", "xor", "--resume", ckpt, "--epochs", "2", "--hidden", "5")
    assert same.returncode == 0, same.stderr
    assert "2 epochs" in same.stdout


def _limit_memory() -> None:  # without the check, the allocation fails here, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))


def test_layers_too_large_for_memory_are_refused() -> None:
    result = chainrule("train", "xor", "--hidden", "10000000000", preexec_fn=_limit_memory)
    line = one_line_error(result)
    assert "W^(1) would hold 30,000,000,000 weights" in line and "GiB of memory" in line


def ages_csv(path: Path) -> Path:
    """Ages 18..80 (integers, dozens of distinct values) that depend on two features."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 2))
    age = np.round(49 + 20 * X[:, 0] + 10 * X[:, 1]).astype(int)
    np.savetxt(path, np.column_stack([X, age]), delimiter=";", fmt=["%.4f", "%.4f", "%d"])
    return path


def test_task_regression_trains_a_regressor_on_integers(tmp_path: Path) -> None:
    ages = ages_csv(tmp_path / "ages.csv")
    auto = chainrule("train", ages, *QUICK, "--json")
    assert json.loads(auto.stdout)["task"] == "classification"
    note = auto.stderr.strip().splitlines()
    assert len(note) == 1 and note[0].startswith("chainrule train: note: the target 'y' is read as")
    assert "use --task regression" in note[0]
    regression = chainrule("train", ages, *QUICK, "--json", "--task", "regression")
    assert regression.returncode == 0 and regression.stderr == ""
    assert json.loads(regression.stdout)["task"] == "regression"
    few = chainrule("train", "iris", *QUICK, "--task", "auto")  # three classes: no note
    assert few.returncode == 0 and few.stderr == ""
    other = chainrule("train", "iris", *QUICK, "--task", "regression")
    assert "iris has a classification target, not a regression one" in one_line_error(other)


def test_a_quantity_trained_as_classes_gets_a_note(tmp_path: Path) -> None:
    """Prices given --task classification: nearly every row its own class, said on stderr;
    the classes of a real classification target get no note."""
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(40, 2))
    path = tmp_path / "prices.csv"
    np.savetxt(path, np.column_stack([X, 10 + 3 * X[:, 0]]), delimiter=",", fmt="%.4f")
    result = chainrule("train", path, *QUICK, "--task", "classification")
    assert result.returncode == 0, result.stderr
    note = result.stderr.strip().splitlines()
    assert len(note) == 1 and "has 40 classes for 40 rows, most of them seen once" in note[0]
    assert "use --task regression" in note[0]
    iris = chainrule("train", "iris", *QUICK, "--task", "classification")
    assert iris.returncode == 0 and iris.stderr == ""


def test_text_labels_get_no_note_that_they_may_be_a_quantity(tmp_path: Path) -> None:
    """Names, most of them seen once, are no quantity: the note's advice, --task regression,
    cannot read them (it is refused), so the note would only mislead."""
    path = tmp_path / "names.csv"
    names = ["ann", "bob", "cy", "dan", "eve", "fay", "ann", "bob"]
    rows = [f"{j},{j % 3},{name}" for j, name in enumerate(names)]
    path.write_text("a,b,who\n" + "\n".join(rows) + "\n")
    result = chainrule("train", path, *QUICK, "--validation-fraction", "0")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    advice = one_line_error(chainrule("train", path, *QUICK, "--task", "regression"))
    assert "'ann'" in advice  # the first label, which is no number


def test_delimiter_and_default_names_for_a_file_without_header(tmp_path: Path) -> None:
    ages = ages_csv(tmp_path / "ages.csv")
    for options in (["--delimiter", ";"], ["--target", "y"], ["--target", "2"]):
        result = chainrule("train", ages, *QUICK, "--task", "regression", "--json", *options)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["n_features"] == 2
    comma = one_line_error(chainrule("train", ages, *QUICK, "--delimiter", ","))
    assert "has 1 field" in comma and "is the delimiter ',' the file's separator?" in comma
    missing = one_line_error(chainrule("train", ages, *QUICK, "--target", "age"))
    assert "no column 'age': line 1 holds data, not a header" in missing
    assert "'x1', 'x2', 'y'" in missing
    builtin = one_line_error(chainrule("train", "xor", *QUICK, "--delimiter", ";"))
    assert "a delimiter (';') applies only to a CSV file" in builtin


def test_data_sources_empty_or_shadowed_by_a_folder(tmp_path: Path) -> None:
    empty = one_line_error(chainrule("train", "", *QUICK))
    assert "empty data source" in empty
    (tmp_path / "xor").mkdir()
    shadowed = chainrule("train", "xor", *QUICK, cwd=tmp_path)
    assert shadowed.returncode == 0, shadowed.stderr
    assert "trained xor" in shadowed.stdout
    folder = one_line_error(chainrule("train", tmp_path, *QUICK))
    assert "is a directory, not a data file" in folder
    split = one_line_error(chainrule("train", "xor:test", *QUICK))
    assert "'xor' has no splits" in split


def test_a_model_file_never_replaces_the_checkpoint(tmp_path: Path) -> None:
    """``-o run.ckpt --checkpoint run.ckpt`` (or ``--resume run.ckpt -o run.ckpt``) saved the
    model last, over the checkpoint, which could then not be resumed; refused before work."""
    same = tmp_path / "run.ckpt"
    line = one_line_error(
        chainrule(
            "train", "xor", *QUICK, "-o", same, "--checkpoint", f"./{same.name}", cwd=tmp_path
        )
    )
    assert "--output and --checkpoint name the same file" in line
    assert not same.exists()
    written = chainrule("train", "xor", *QUICK, "--checkpoint", same, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    before = same.read_bytes()
    line = one_line_error(chainrule("train", "xor", "--resume", same, "-o", same, cwd=tmp_path))
    assert "--output and --resume name the same file" in line
    assert same.read_bytes() == before
    resumed = chainrule("train", "xor", "--resume", same, "--epochs", "2", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr


def test_a_model_is_never_written_under_a_data_or_onnx_name(tmp_path: Path) -> None:
    """``-o data.csv`` replaced the training data with a model file, and ``-o model.onnx``
    wrote a safetensors file that onnxruntime cannot load; both refused before any work."""
    data = tmp_path / "data.csv"
    data.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    before = data.read_bytes()
    line = one_line_error(chainrule("train", data, *QUICK, "-o", data))
    assert "--output writes a chainrule safetensors file, not a .csv one" in line
    assert data.read_bytes() == before
    line = one_line_error(chainrule("train", data, *QUICK, "-o", tmp_path / "model.onnx"))
    assert "'chainrule export --format onnx' writes ONNX" in line
    line = one_line_error(chainrule("train", data, *QUICK, "--checkpoint", tmp_path / "c.json"))
    assert "--checkpoint writes a chainrule safetensors file, not a .json one" in line
    sweep = chainrule("sweep", tmp_path / "none.toml", "--output-model", tmp_path / "best.npz")
    assert "--output-model writes a chainrule safetensors file" in one_line_error(sweep, "sweep")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--momentum", "0.5"],
            "--momentum applies to --optimizer momentum or nesterov; the "
            "optimizer is adam (the default)",
        ),
        (["--optimizer", "sgd", "--momentum", "0.5"], "the optimizer is sgd"),
        (["--patience", "3"], "--patience applies with --early-stopping"),
    ],
)
def test_an_option_the_others_leave_unused_is_refused(options: list[str], message: str) -> None:
    """Adam and plain SGD have no momentum, and patience counts only for early stopping: these
    options trained exactly as without them, without a word."""
    assert message in one_line_error(chainrule("train", "xor", *QUICK, *options))


def test_momentum_is_taken_where_it_applies() -> None:
    finals = [
        json.loads(
            chainrule(
                "train", "xor", *QUICK, "--json", "--optimizer", "momentum", "--momentum", m
            ).stdout
        )["final"]["loss"]
        for m in ("0.1", "0.9")
    ]
    assert finals[0] != finals[1]


def test_checkpoint_every_must_be_positive_even_without_checkpoint(tmp_path: Path) -> None:
    for value in ("0", "-3"):
        result = chainrule("train", "xor", *QUICK, "--checkpoint-every", value, cwd=tmp_path)
        assert result.returncode == 2, result
        assert f"argument --checkpoint-every: expected an integer >= 1; got '{value}'" in (
            result.stderr
        )


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--epochs", "0", "must be an integer >= 1; got 0"),
        ("--lr", "-1", "must be a number > 0; got -1.0"),
        ("--batch-size", "0", "must be an integer >= 1; got 0"),
        ("--validation-fraction", "2", "must be a number >= 0 and < 1; got 2.0"),
    ],
)
def test_a_refused_setting_is_named_by_its_option(option: str, value: str, problem: str) -> None:
    """The message named TrainConfig's field (``learning_rate``), which the command line has
    no option called; it names the option now (``--lr`` is ``--learning-rate``)."""
    name = "--learning-rate" if option == "--lr" else option
    result = chainrule("train", "xor", option, value)
    assert one_line_error(result) == f"chainrule train: error: {name} {problem}"


def test_one_epoch_is_one_epoch(tmp_path: Path) -> None:
    result = chainrule("train", "xor", "--epochs", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("trained xor: 1 epoch in ")
