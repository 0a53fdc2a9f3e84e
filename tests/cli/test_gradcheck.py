"""``chainrule gradcheck`` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cli_helpers import chainrule, far_from_zero_model


def test_random_batch_passes_with_a_per_layer_report() -> None:
    result = chainrule(
        "gradcheck",
        "--sizes",
        "3,5,4,2",
        "--activations",
        "sigmoid,leaky_relu,softmax",
        "--batch",
        "6",
        "--seed",
        "2",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] and [c["layer"] for c in report["layers"]] == [1, 2, 3]
    assert max(c["max_abs_error"] for c in report["layers"]) < 1e-8


def test_data_file_and_a_failing_check_exit_1(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    data = tmp_path / "points.npz"
    np.savez(data, X=rng.normal(size=(20, 2)), y=rng.integers(0, 2, size=20))
    ok = chainrule("gradcheck", "--data", str(data), "--batch", "5")
    assert ok.returncode == 0, ok.stderr
    assert "PASSED" in ok.stdout and "    1 " in ok.stdout
    # A step this large makes the differences meaningless: the check must fail, with status 1.
    bad = chainrule(
        "gradcheck", "--data", str(data), "--eps", "0.9", "--rtol", "1e-9", "--atol", "1e-12"
    )
    assert bad.returncode == 1
    assert "FAILED" in bad.stdout and "FAIL" in bad.stdout


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file")
    for args, message in [
        (["--sizes", "2"], "at least 2 widths"),
        (["--weights", str(garbage)], "is not a readable .npz"),
        (["--sizes", "2,2", "--activations", "step", "--loss", "mse"], "derivative"),
    ]:
        result = chainrule("gradcheck", *args)
        assert result.returncode == 2, args
        assert message in result.stderr, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_model_files_data_are_standardised_first(tmp_path: Path) -> None:
    model, data = far_from_zero_model(tmp_path, 40)
    result = chainrule(
        "gradcheck", "--weights", model, "--data", data, "--dtype", "float64", "--batch", "5"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "standardised with the model's stored statistics" in result.stdout.splitlines()[0]


def _table(path: Path, header: list[str], columns: list[list[object]], sep: str = ",") -> Path:
    """A delimited text file of ``columns`` under ``header``."""
    rows = [sep.join(map(str, row)) for row in zip(*columns, strict=True)]
    path.write_text(sep.join(header) + "\n" + "\n".join(rows) + "\n")
    return path


def test_a_model_files_data_are_read_in_its_terms(tmp_path: Path) -> None:
    """With --weights MODEL, --data is read as evaluate reads it: the model's columns by name
    (a .tsv too), labels as the model's class codes, integer targets of a regressor as values.
    Read on its own, a reordered file failed on the label column, labels of one class were
    coded 0 whatever the model's classes, and integer targets became class codes 0, 1, ..."""
    from chainrule.cli.gradcheck import data_batch
    from chainrule.datasets import load_csv
    from chainrule.fit import FittedModel, TrainConfig, fit

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 30)).round(3)
    labels = np.where(a > 0, "yes", "no")
    ages = np.round(40 + 10 * a).astype(int)
    config = TrainConfig(hidden=(4,), epochs=2, validation_fraction=0.0)
    classifier = fit(load_csv(_table(tmp_path / "c.csv", ["a", "b", "l"], [a, b, labels])), config)
    regressor = fit(
        load_csv(_table(tmp_path / "r.csv", ["a", "b", "age"], [a, b, ages]), task="regression"),
        config,
    )
    classifier.save(tmp_path / "c.safetensors")
    regressor.save(tmp_path / "r.safetensors")

    yes = labels == "yes"
    reordered = _table(tmp_path / "yes.tsv", ["l", "b", "a"], [labels[yes], b[yes], a[yes]], "\t")
    X, y = data_batch(reordered, 5, FittedModel.load(tmp_path / "c.safetensors"))
    np.testing.assert_array_equal(X, np.column_stack([a[yes], b[yes]])[:5])
    np.testing.assert_array_equal(y, [["no", "yes"].index("yes")] * 5)
    X, y = data_batch(tmp_path / "r.csv", 5, FittedModel.load(tmp_path / "r.safetensors"))
    np.testing.assert_array_equal(y, ages[:5].astype(float))

    result = chainrule("gradcheck", "--weights", tmp_path / "c.safetensors", "--data", reordered)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASSED" in result.stdout
    unseen = _table(tmp_path / "unseen.csv", ["a", "b", "l"], [a[:3], b[:3], ["no", "maybe", "no"]])
    result = chainrule("gradcheck", "--weights", tmp_path / "c.safetensors", "--data", unseen)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "class 'maybe', which the model never saw" in result.stderr
