"""Data for a saved model (``evaluate``, ``predict``): columns by name, features-only reads."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import load_csv
from chainrule.fit import TrainConfig, fit
from cli_helpers import chainrule, one_line_error

N = 120


def write_table(path: Path, header: list[str] | None, columns: list[list[object]]) -> Path:
    """A CSV file of ``columns`` (each a list of values), with ``header`` when given."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(header)
        writer.writerows(zip(*columns, strict=True))
    return path


def train_file(path: Path, target: str = "y", **options: object) -> Path:
    """Train on the CSV ``path`` in this process (fast) and save the model next to it."""
    config = TrainConfig(hidden=(8,), epochs=30, learning_rate=0.02, validation_fraction=0.0)
    model = fit(load_csv(path, target=target), config)
    out = path.with_suffix(".safetensors")
    model.save(out)
    return out


@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Heights and weights on very different scales; the class depends on the height only,
    so a model fed the columns swapped is as good as chance."""
    folder = tmp_path_factory.mktemp("columns")
    rng = np.random.default_rng(0)
    height = rng.normal(170, 10, N).round(2)
    weight = rng.normal(70, 3, N).round(2)
    label = np.where(height > 170, "tall", "short").tolist()
    return {
        "folder": folder,
        "height": height.tolist(),
        "weight": weight.tolist(),
        "label": label,
        "model": train_file(
            write_table(
                folder / "asym.csv",
                ["height", "weight", "y"],
                [height.tolist(), weight.tolist(), label],
            )
        ),
    }


def test_evaluate_and_predict_pick_the_models_columns_by_name(columns, tmp_path: Path) -> None:
    h, w, y, model = columns["height"], columns["weight"], columns["label"], columns["model"]
    straight = write_table(tmp_path / "straight.csv", ["height", "weight", "y"], [h, w, y])
    swapped = write_table(tmp_path / "swap.csv", ["weight", "height", "y"], [w, h, y])
    target_first = write_table(tmp_path / "first.csv", ["y", "weight", "height"], [y, w, h])
    no_header = write_table(tmp_path / "plain.csv", None, [h, w, y])  # by position
    reports = [
        json.loads(chainrule("evaluate", model, path, "--json").stdout)
        for path in (straight, swapped, target_first, no_header)
    ]
    assert reports[0]["accuracy"] > 0.9
    for report in reports[1:]:
        assert report["accuracy"] == reports[0]["accuracy"]
        assert report["confusion_matrix"] == reports[0]["confusion_matrix"]
    features = write_table(tmp_path / "features.csv", ["weight", "height"], [w, h])
    expected = chainrule("predict", model, straight).stdout
    assert chainrule("predict", model, features).stdout == expected
    assert chainrule("predict", model, swapped).stdout == expected


def test_a_header_without_the_models_columns_is_refused(columns, tmp_path: Path) -> None:
    h, w, y, model = columns["height"], columns["weight"], columns["label"], columns["model"]
    renamed = write_table(tmp_path / "mass.csv", ["mass", "height", "y"], [w, h, y])
    for command in ("evaluate", "predict"):
        line = one_line_error(chainrule(command, model, renamed), command)
        assert "no column 'weight'" in line and "'height', 'weight'" in line


def test_the_target_is_the_column_that_is_not_a_feature(tmp_path: Path) -> None:
    """A model trained with ``--target label`` (not the last column) needs no --target later."""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=N).round(3).tolist(), rng.normal(size=N).round(3).tolist()
    label = ["dog" if v > 0 else "cat" for v in a]
    model = train_file(
        write_table(tmp_path / "pets.csv", ["label", "a", "b"], [label, a, b]), target="label"
    )
    result = chainrule("evaluate", model, tmp_path / "pets.csv", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accuracy"] > 0.9
    wrong = chainrule("evaluate", model, tmp_path / "pets.csv", "--target", "a")
    assert "target column 'a' is one of the model's features" in one_line_error(wrong, "evaluate")


def test_predict_reads_features_only(columns, tmp_path: Path) -> None:
    """No target is needed, and one that is there is not read as the model's classes."""
    h, w, model = columns["height"], columns["weight"], columns["model"]
    expected = chainrule("predict", model, columns["folder"] / "asym.csv").stdout
    odd_labels = ["cow" if i % 2 else "1.5" for i in range(N)]  # unseen, and of the other task
    odd = write_table(tmp_path / "odd.csv", ["height", "weight", "y"], [h, w, odd_labels])
    result = chainrule("predict", model, odd)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    np.savez(tmp_path / "x.npz", X=np.column_stack([h, w]))  # no y
    from_npz = chainrule("predict", model, tmp_path / "x.npz")
    assert from_npz.returncode == 0, from_npz.stderr
    assert from_npz.stdout == expected


def test_predict_a_one_column_file_for_a_one_feature_model(tmp_path: Path) -> None:
    x = np.linspace(-1, 1, N).round(4).tolist()
    model = train_file(write_table(tmp_path / "sine.csv", ["x", "y"], [x, np.sin(x).tolist()]))
    expected = chainrule("predict", model, tmp_path / "sine.csv").stdout.splitlines()
    named = write_table(tmp_path / "x.csv", ["x"], [x])
    plain = write_table(tmp_path / "plain.csv", None, [x])
    for path in (named, plain):
        result = chainrule("predict", model, path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == expected
    bad = tmp_path / "bad.csv"
    bad.write_text("x\n0.5\nabc\n")
    assert "bad.csv, line 3" in one_line_error(chainrule("predict", model, bad), "predict")


def test_target_for_data_without_columns_and_npy_files_are_refused(tmp_path: Path) -> None:
    builtin = chainrule("train", "xor", "--target", "0", "--epochs", "1")
    assert "only in a CSV file" in one_line_error(builtin, "train")
    np.savez(tmp_path / "d.npz", X=np.zeros((4, 2)), y=np.array([0, 1, 0, 1]))
    npz = chainrule("train", tmp_path / "d.npz", "--target", "1", "--epochs", "1")
    assert "only in a CSV file" in one_line_error(npz, "train")
    np.save(tmp_path / "d.npy", np.zeros((4, 3)))
    npy = chainrule("train", tmp_path / "d.npy", "--epochs", "1")
    line = one_line_error(npy, "train")
    assert ".npy files are not supported" in line and ".npz" in line


def test_json_reports_write_null_for_non_finite_numbers(capsys: pytest.CaptureFixture) -> None:
    from chainrule.cli.common import print_json

    print_json({"r2": math.nan, "rmse": math.inf, "history": [{"loss": -math.inf}], "n": 3})
    assert json.loads(capsys.readouterr().out) == {
        "r2": None,
        "rmse": None,
        "history": [{"loss": None}],
        "n": 3,
    }


def test_predict_skips_empty_and_unseen_target_cells(columns, tmp_path: Path) -> None:
    """The target column is never read: empty cells and labels the model never saw are fine,
    with a header (by name) and without one (by position, --target or the last column)."""
    h, w, model = columns["height"], columns["weight"], columns["model"]
    expected = chainrule("predict", model, columns["folder"] / "asym.csv").stdout
    gaps = ["" if i % 3 else "giraffe" for i in range(N)]
    for header, path in ((["height", "weight", "y"], "named.csv"), (None, "plain.csv")):
        result = chainrule("predict", model, write_table(tmp_path / path, header, [h, w, gaps]))
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected
    first = write_table(tmp_path / "first.csv", None, [gaps, h, w])
    for target in ("0", "x1"):  # an index, or a name of the headerless columns
        result = chainrule("predict", model, first, "--target", target)
        assert result.stdout == expected, result.stderr


def test_evaluate_and_predict_take_a_delimiter(columns, tmp_path: Path) -> None:
    h, w, y, model = columns["height"], columns["weight"], columns["label"], columns["model"]
    piped = tmp_path / "piped.csv"
    piped.write_text("".join(f"{a}|{b}|{c}\n" for a, b, c in zip(h, w, y, strict=True)))
    plain = write_table(tmp_path / "plain.csv", None, [h, w, y])
    expected = json.loads(chainrule("evaluate", model, plain, "--json").stdout)
    report = json.loads(chainrule("evaluate", model, piped, "--delimiter", "|", "--json").stdout)
    assert report == {**expected, "data": str(piped)}
    predicted = chainrule("predict", model, piped, "--delimiter", "|")
    assert predicted.stdout == chainrule("predict", model, plain).stdout, predicted.stderr
    assert "piped.csv" in one_line_error(chainrule("predict", model, piped), "predict")


def test_predict_to_dash_is_standard_output_and_a_model_to_dash_is_refused(
    columns, tmp_path: Path
) -> None:
    """``-o -`` wrote a file named ``-``; for a model file it now says why not."""
    data, model = columns["folder"] / "asym.csv", columns["model"]
    expected = chainrule("predict", model, data).stdout
    to_dash = chainrule("predict", model, data, "-o", "-", cwd=tmp_path)
    assert to_dash.returncode == 0, to_dash.stderr
    assert to_dash.stdout == expected and not (tmp_path / "-").exists()
    refused = chainrule("train", data, "-o", "-", "--epochs", "1", cwd=tmp_path)
    assert one_line_error(refused, "train") == (
        "chainrule train: error: --output: '-' means standard output, which cannot take this "
        "binary file; give a file name"
    )
    assert not (tmp_path / "-").exists()


def test_a_wrong_delimiter_for_a_models_data_is_named(columns, tmp_path: Path) -> None:
    """The model's columns were reported missing beside the same names, with no word on the
    separator that had glued line 1 into one field."""
    data, model = columns["folder"] / "asym.csv", columns["model"]
    for command in ("evaluate", "predict"):
        result = chainrule(command, model, data, "--delimiter", ";")
        assert one_line_error(result, command) == (
            f"chainrule {command}: error: {data} has no column 'height', 'weight'; the model was "
            "trained on columns 'height', 'weight', and line 1, split at ';', names "
            "'height,weight,y'; is ';' the file's separator (--delimiter)?"
        )
