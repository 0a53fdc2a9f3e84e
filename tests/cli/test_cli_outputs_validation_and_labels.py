"""The command line as a newcomer meets it: output paths that would replace the inputs or be
misread, ``--validation-data`` with columns in another order, ``--resume`` with validation data
added, ``explain --y`` with a model's own class labels, and a separator hint where the separator
was right."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import load_csv
from chainrule.fit import TrainConfig, fit
from cli_helpers import chainrule, one_line_error

N = 80


def write_rows(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``a, b, label`` data (text labels), a model trained on it, and ``p, q, grade`` data with
    the labels 1, 2, 3 and its model."""
    folder = tmp_path_factory.mktemp("review7")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=N).round(3), (rng.normal(size=N) * 10 + 50).round(3)
    label = np.where(a > 0, "pos", "neg")
    data = write_rows(folder / "data.csv", ["a", "b", "label"], [*zip(a, b, label, strict=True)])
    config = TrainConfig(hidden=(4,), epochs=5, validation_fraction=0.0)
    model = folder / "model.safetensors"
    fit(load_csv(data), config).save(model)
    grade = np.digitize(a, [-0.4, 0.4]) + 1
    graded = write_rows(
        folder / "grades.csv", ["p", "q", "grade"], [*zip(a, b, grade, strict=True)]
    )
    graded_model = folder / "grades.safetensors"
    fit(load_csv(graded), config).save(graded_model)
    return {
        "folder": folder,
        "data": data,
        "model": model,
        "grades": graded,
        "grades_model": graded_model,
    }


# -- output paths --------------------------------------------------------------------------


@pytest.mark.parametrize("option", ["-o", "--checkpoint"])
def test_an_output_ending_in_a_slash_is_a_folder_not_a_file(tmp_path: Path, option: str) -> None:
    """``-o models/`` wrote a file named ``models``; ``-o m.safetensors/`` replaced the file."""
    result = chainrule("train", "xor", "--epochs", "1", option, "models/", cwd=tmp_path)
    what = "--output" if option == "-o" else "--checkpoint"
    assert one_line_error(result, "train") == (
        f"chainrule train: error: {what}: 'models/' ends in '/', so it names a folder, not a "
        "file; give a file name"
    )
    assert list(tmp_path.iterdir()) == []


def test_predict_to_a_folder_name_writes_nothing(files, tmp_path: Path) -> None:
    result = chainrule("predict", files["model"], files["data"], "-o", "out/", cwd=tmp_path)
    assert one_line_error(result, "predict") == (
        "chainrule predict: error: --output: 'out/' ends in '/', so it names a folder, not a "
        "file; give a file name"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_empty_output_name_is_called_empty(tmp_path: Path) -> None:
    """It was reported as "'.' is a directory", a folder the user never typed."""
    result = chainrule("train", "xor", "--epochs", "1", "-o", "", cwd=tmp_path)
    assert one_line_error(result, "train") == (
        "chainrule train: error: --output: the file name is empty; give a file name"
    )


@pytest.mark.parametrize("which, option", [("data", "DATA"), ("model", "MODEL")])
def test_predict_never_writes_over_the_files_it_reads(
    files, tmp_path: Path, which: str, option: str
) -> None:
    """``predict m data.csv -o data.csv`` replaced the data, ``-o m`` the model, with the
    predictions."""
    copies = {}
    for name in ("data", "model"):
        copies[name] = tmp_path / files[name].name
        copies[name].write_bytes(files[name].read_bytes())
    before = {name: path.read_bytes() for name, path in copies.items()}
    output = f"./{copies[which].name}"
    result = chainrule(
        "predict", copies["model"].name, copies["data"].name, "-o", output, cwd=tmp_path
    )
    assert one_line_error(result, "predict") == (
        f"chainrule predict: error: --output {output!r} is the {option} file being read; "
        "writing the predictions there would replace it: give another file name"
    )
    assert {name: path.read_bytes() for name, path in copies.items()} == before


def test_predict_refuses_a_model_or_binary_file_name(files, tmp_path: Path) -> None:
    result = chainrule(
        "predict", files["model"], files["data"], "-o", "p.safetensors", cwd=tmp_path
    )
    assert one_line_error(result, "predict") == (
        "chainrule predict: error: --output: predict writes CSV, not a .safetensors file; got "
        "'p.safetensors': give a name such as 'p.csv'"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["data.csv", "other.safetensors"])
def test_export_never_writes_an_onnx_graph_over_data_or_a_model(
    files, tmp_path: Path, name: str
) -> None:
    """``export m -o data.csv`` replaced the CSV file with a binary ONNX graph."""
    target = tmp_path / name
    target.write_text("a,b,label\n1,2,pos\n")
    result = chainrule("export", files["model"], "-o", name, cwd=tmp_path)
    suffix = Path(name).suffix
    onnx = Path(name).with_suffix(".onnx")
    assert one_line_error(result, "export") == (
        f"chainrule export: error: --output: export writes an ONNX graph, not a {suffix} file; "
        f"got {name!r}: give a name such as '{onnx}'"
    )
    assert target.read_text() == "a,b,label\n1,2,pos\n"


# -- --validation-data -------------------------------------------------------------------


def _history(result) -> list[dict[str, float]]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["history"]


def test_validation_data_with_columns_reordered_and_the_target_renamed(
    files, tmp_path: Path
) -> None:
    """Its features are matched by name, so its one other column is the target (as evaluate
    reads it); the last column, a feature, was taken as the target ("expected a number,
    got 'pos'")."""
    with open(files["data"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    reordered = write_rows(
        tmp_path / "reordered.csv",
        ["class", "b", "a"],
        [[r["label"], r["b"], r["a"]] for r in rows],
    )
    base = ["train", files["data"], "--epochs", "3", "--hidden", "4", "--json"]
    reference = _history(chainrule(*base, "--validation-data", files["data"]))
    for extra in ([], ["--target", "2"], ["--target", "-1"]):
        got = _history(chainrule(*base, *extra, "--validation-data", reordered))
        assert [e["val_loss"] for e in got] == [e["val_loss"] for e in reference]
        assert [e["val_accuracy"] for e in got] == [e["val_accuracy"] for e in reference]


def test_validation_data_without_the_target_column_says_so(files, tmp_path: Path) -> None:
    """It said the file "lacks 'a'", a column the file holds (taken as the target)."""
    with open(files["data"], newline="") as fh:
        rows = list(csv.DictReader(fh))
    features = write_rows(tmp_path / "features.csv", ["b", "a"], [[r["b"], r["a"]] for r in rows])
    result = chainrule("train", files["data"], "--epochs", "1", "--validation-data", features)
    assert one_line_error(result, "train") == (
        f"chainrule train: error: --validation-data: {features} has the training features but "
        f"no target column (the training target: 'label') (the training data {files['data'].name} "
        "are for classification)"
    )


def test_resuming_without_the_validation_data_it_started_with_is_explained(
    files, tmp_path: Path
) -> None:
    """The same data read as "trained on other data", with no word on --validation-data; the
    checkpoint now records its validation data, so the message names them."""
    checkpoint = tmp_path / "run.ckpt"
    started = chainrule(
        "train",
        files["data"],
        "--epochs",
        "2",
        "--hidden",
        "4",
        "--validation-data",
        files["data"],
        "--checkpoint",
        checkpoint,
    )
    assert started.returncode == 0, started.stderr
    saved = checkpoint.read_bytes()
    result = chainrule("train", files["data"], "--resume", checkpoint, "--epochs", "4")
    assert one_line_error(result, "train") == (
        f"chainrule train: error: the checkpoint {str(checkpoint)!r} was started with "
        f"validation data ({N} rows of 2 features), but none are given: resume it with the same "
        "ones (validation_data, --validation-data)"
    )
    assert checkpoint.read_bytes() == saved
    resumed = chainrule(
        "train", files["data"], "--resume", checkpoint, "--epochs", "4",
        "--validation-data", files["data"],
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr


# -- explain --y with a model's labels -----------------------------------------------------


def _labels(path: Path) -> list[str]:
    with open(path, newline="") as fh:
        return sorted({row["grade"] for row in csv.DictReader(fh)})


def _traced_y(model: Path, typed: str) -> list[object]:
    """The target ``explain --y TYPED`` traced, as its JSON reports it."""
    result = chainrule(
        "explain", "--weights", model, "--x", "0.5,50", "--y", typed, "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    traced: list[object] = json.loads(result.stdout)["standardization"]["y"]
    return traced


@pytest.mark.parametrize("typed", ["1", "2", "3", "3.0"])
def test_explain_reads_a_numeric_label_as_the_label_not_an_index(files, typed: str) -> None:
    """With the labels 1, 2, 3, ``--y 1`` traced the class labelled 2 (index 1), and
    ``--y 3`` was refused as out of range."""
    labels = _labels(files["grades"])
    expected = labels.index(str(int(float(typed))))
    assert _traced_y(files["grades_model"], typed) == [expected]
    table = chainrule("explain", "--weights", files["grades_model"], "--x", "0.5,50", "--y", typed)
    assert f"target y = {expected}" in table.stdout
    assert (
        f"target: the class labelled '{labels[expected]}' is y = {expected} "
        f"(the model's classes in order: {', '.join(labels)})"
    ) in table.stdout


def test_explain_refuses_a_number_that_is_no_label(files) -> None:
    result = chainrule("explain", "--weights", files["grades_model"], "--x", "0.5,50", "--y", "0")
    assert one_line_error(result, "explain") == (
        "chainrule explain: error: --y must be one of the model's class labels (1, 2, 3); got '0'"
    )


def test_explain_takes_a_text_label_or_its_index(files) -> None:
    with open(files["data"], newline="") as fh:
        labels = sorted({row["label"] for row in csv.DictReader(fh)})
    for typed, expected in [("pos", labels.index("pos")), ("neg", labels.index("neg")), ("1", 1)]:
        assert _traced_y(files["model"], typed) == [expected]


# -- the separator hint ----------------------------------------------------------------------


def test_no_separator_hint_when_line_1_was_split_right(tmp_path: Path) -> None:
    """A header of other names, split well, fewer than the model's, was asked whether ','
    is the file's separator."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3)).round(3)
    rows = [[*x, "pos" if x[0] > 0 else "neg"] for x in X]
    data = write_rows(tmp_path / "three.csv", ["a", "b", "c", "label"], rows)
    model = tmp_path / "three.safetensors"
    fit(load_csv(data), TrainConfig(hidden=(2,), epochs=1, validation_fraction=0.0)).save(model)
    other = write_rows(tmp_path / "other.csv", ["x", "label"], [[1.0, "pos"], [2.0, "neg"]])
    result = chainrule("evaluate", model, other)
    assert one_line_error(result, "evaluate") == (
        f"chainrule evaluate: error: {other} has no column 'a', 'b', 'c'; the model was trained "
        "on columns 'a', 'b', 'c', and line 1, split at ',', names 'x', 'label'"
    )


def test_explain_lists_the_labels_for_an_index_out_of_range(files) -> None:
    """``--y 2`` for a two-class model said "not a class index in 0..1", naming no label."""
    with open(files["data"], newline="") as fh:
        labels = sorted({row["label"] for row in csv.DictReader(fh)})
    result = chainrule("explain", "--weights", files["model"], "--x", "0.5,50", "--y", "2")
    assert one_line_error(result, "explain") == (
        f"chainrule explain: error: --y must be one of the model's class labels "
        f"({', '.join(labels)}) or its index 0..{len(labels) - 1}; got '2'"
    )
