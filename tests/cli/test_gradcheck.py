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
