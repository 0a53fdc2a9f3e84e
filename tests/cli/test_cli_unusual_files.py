"""The command line on files as a newcomer has them: lines that end with the delimiter,
validation data with the columns in another order, targets of tiny magnitude, NPZ files with
odd name arrays, and ``-o`` naming a device or pipe instead of a regular file."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import chainrule, one_line_error

N = 80


def write_table(path: Path, header: list[str], columns: list[list[object]], end: str = "") -> Path:
    """A CSV file of ``columns`` under ``header``; ``end`` is appended to every line."""
    lines = [header, *zip(*columns, strict=True)]
    path.write_text("".join(",".join(map(str, line)) + end + "\n" for line in lines))
    return path


@pytest.fixture(scope="module")
def table() -> dict[str, list[object]]:
    """Two features on different scales; the class depends on ``a`` only."""
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1, N).round(3)
    b = rng.normal(100, 5, N).round(3)
    return {"a": a.tolist(), "b": b.tolist(), "label": np.where(a > 0, "up", "down").tolist()}


def json_of(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout)
    return report


# ---------------------------------------------------------------------------- trailing delimiter


def test_lines_ending_with_the_delimiter_train_like_the_plain_file(
    tmp_path: Path, table: dict[str, list[object]]
) -> None:
    """``a,b,label,``: the empty last field is no column, so ``label`` stays the target and
    train, evaluate and predict see what they see in the file without trailing commas."""
    columns = [table["a"], table["b"], table["label"]]
    plain = write_table(tmp_path / "plain.csv", ["a", "b", "label"], columns)
    trailing = write_table(tmp_path / "trailing.csv", ["a", "b", "label"], columns, end=",")
    reports = []
    for data in (plain, trailing):
        model = data.with_suffix(".safetensors")
        reports.append(json_of(chainrule("train", data, "--epochs", "3", "--json", "-o", model)))
    assert reports[0]["final"] == reports[1]["final"]
    assert reports[1]["classes"] == ["down", "up"] and reports[1]["n_features"] == 2
    model = tmp_path / "trailing.safetensors"
    scores = [json_of(chainrule("evaluate", model, d, "--json")) for d in (plain, trailing)]
    assert scores[0]["accuracy"] == scores[1]["accuracy"]
    predicted = [chainrule("predict", model, d).stdout for d in (plain, trailing)]
    assert predicted[0] == predicted[1] and predicted[0].count("\n") == N + 1


# ---------------------------------------------------------------------------- --validation-data


def test_validation_data_columns_are_matched_by_name(
    tmp_path: Path, table: dict[str, list[object]]
) -> None:
    """The same validation rows with the columns in another order (target first, too) score
    the same: read by position, ``a`` and ``b`` would be swapped without a word."""
    train = write_table(tmp_path / "train.csv", ["a", "b", "label"], list(table.values()))
    same = write_table(tmp_path / "same.csv", ["a", "b", "label"], list(table.values()))
    swapped = write_table(
        tmp_path / "swapped.csv", ["label", "b", "a"], [table["label"], table["b"], table["a"]]
    )
    options = ["--epochs", "3", "--json", "--validation-data"]
    finals = [
        json_of(chainrule("train", train, *options, data))["final"] for data in (same, swapped)
    ]
    assert finals[0] == finals[1]


def test_a_target_index_names_the_validation_files_target_column(
    tmp_path: Path, table: dict[str, list[object]]
) -> None:
    """``--target 0`` is the training file's column ``label``; the validation file, matched by
    name, has ``label`` last: its column 0 (``a``) was read as the target and refused."""
    train = write_table(
        tmp_path / "train.csv", ["label", "a", "b"], [table["label"], table["a"], table["b"]]
    )
    valid = write_table(tmp_path / "valid.csv", ["a", "b", "label"], list(table.values()))
    options = ["--epochs", "3", "--json", "--validation-data", valid, "--target"]
    by_name, by_index = (json_of(chainrule("train", train, *options, t)) for t in ("label", "0"))
    assert by_index["final"] == by_name["final"] and "val_accuracy" in by_index["final"]


def test_a_validation_fraction_beside_validation_data_is_refused(
    tmp_path: Path, table: dict[str, list[object]]
) -> None:
    """The file is scored instead of a held-out share, so --validation-fraction 0.5 trained on
    every row without a word (and the model file recorded 0.5); refused before any work."""
    train = write_table(tmp_path / "train.csv", ["a", "b", "label"], list(table.values()))
    model = tmp_path / "model.safetensors"
    result = chainrule(
        "train", train, "--validation-data", train, "--validation-fraction", "0.5", "-o", model
    )
    line = one_line_error(result, "train")
    assert "--validation-data or --validation-fraction, not both" in line
    assert not model.exists()


def test_validation_data_without_a_feature_column_is_refused(
    tmp_path: Path, table: dict[str, list[object]]
) -> None:
    train = write_table(tmp_path / "train.csv", ["a", "b", "label"], list(table.values()))
    other = write_table(tmp_path / "other.csv", ["a", "c", "label"], list(table.values()))
    line = one_line_error(chainrule("train", train, "--validation-data", other), "train")
    assert "--validation-data: other.csv: its feature columns are not the training data's" in line
    assert "lacks 'b'" in line and "adds 'c'" in line


# ---------------------------------------------------------------------------- the summary


def test_the_summary_shows_a_tiny_rmse_in_its_own_units(tmp_path: Path) -> None:
    """Targets near 1e-9: the summary's RMSE is the JSON's, not 0.0000."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 2))
    target = (X @ [1.0, 2.0] * 1e-9).tolist()
    data = write_table(tmp_path / "tiny.csv", ["a", "b", "t"], [*X.T.tolist(), target])
    options = ["--epochs", "3", "--validation-fraction", "0"]
    final = json_of(chainrule("train", data, *options, "--json"))["final"]
    assert isinstance(final, dict)
    summary = chainrule("train", data, *options)
    assert summary.returncode == 0, summary.stderr
    shown = re.search(r"rmse (\S+)", summary.stdout)
    assert shown is not None, summary.stdout
    assert float(shown.group(1)) == pytest.approx(final["rmse"], rel=1e-3)


# ---------------------------------------------------------------------------- NPZ names


def test_an_npz_file_with_an_empty_target_name_is_one_error_line(tmp_path: Path) -> None:
    data = tmp_path / "d.npz"
    np.savez(data, X=np.eye(4), y=np.array([0, 1, 0, 1]), target_name=np.array([], dtype=str))
    line = one_line_error(chainrule("train", data), "train")
    assert line.endswith("d.npz: target_name must hold one name; it holds 0 values")


def test_an_npz_file_that_names_two_columns_alike_is_refused(tmp_path: Path) -> None:
    """Matched by name, both columns ``a`` would be read from the first one."""
    data = tmp_path / "d.npz"
    names = np.array(["a", "a", "c"])
    np.savez(data, X=np.eye(3).repeat(4, axis=0), y=np.arange(12) % 2, feature_names=names)
    line = one_line_error(chainrule("train", data), "train")
    assert "feature_names has 'a' twice (entries 0 and 1)" in line


# ---------------------------------------------------------------------------- -o to a device


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory, table: dict[str, list[object]]) -> Path:
    folder = tmp_path_factory.mktemp("model")
    data = write_table(folder / "data.csv", ["a", "b", "label"], list(table.values()))
    out = folder / "model.safetensors"
    assert chainrule("train", data, "--epochs", "2", "-o", out).returncode == 0
    return out


def test_predict_into_a_link_to_a_device_writes_through_it(tmp_path: Path, model: Path) -> None:
    """``-o`` a link to ``/dev/null`` (as ``/dev/stdout`` is one): written to, not renamed
    over; as root the rename would replace the device node itself."""
    link = tmp_path / "out.csv"
    link.symlink_to(os.devnull)
    result = chainrule("predict", model, model.with_name("data.csv"), "-o", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == os.devnull


def test_predict_into_a_named_pipe_sends_the_predictions(tmp_path: Path, model: Path) -> None:
    fifo = tmp_path / "predictions.csv"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    data = model.with_name("data.csv")
    result = chainrule("predict", model, data, "--proba", "-o", fifo)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert received == [chainrule("predict", model, data, "--proba").stdout]
    rows = list(csv.reader(received[0].splitlines()))
    assert rows[0] == ["prediction", "p_down", "p_up"] and len(rows) == N + 1
    assert fifo.is_fifo()


@pytest.mark.parametrize(
    ("command", "option"),
    [("train", "-o"), ("train", "--checkpoint"), ("export", "-o")],
)
def test_a_model_file_is_not_written_over_a_device(
    tmp_path: Path, model: Path, command: str, option: str
) -> None:
    """A model file is written atomically, by a rename that would replace the device (or the
    link to it): refused before any work, the link left as it was."""
    link = tmp_path / "model.out"
    link.symlink_to(os.devnull)
    source = model.with_name("data.csv") if command == "train" else model
    line = one_line_error(chainrule(command, source, option, link), command)
    assert f"{option if option != '-o' else '--output'}: {str(link)!r} is a device or pipe" in line
    assert link.is_symlink() and os.readlink(link) == os.devnull
