"""A multilabel model file (one sigmoid unit per label) on the command line: ``predict``
crashed with a traceback (a row of decisions is no label), ``predict --proba`` named the most
probable label as if the labels excluded each other, and ``evaluate``/``plot`` read the data
as one label per row and ended in "class never seen"."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from cli_helpers import chainrule, one_line_error

LABELS = ["red", "round", "sweet"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("multilabel")
    net = cr.Network([2, 5, 3], activations=["tanh", "sigmoid"], seed=4, dtype="float64")
    model = folder / "labels.safetensors"
    cr.save_model(
        model,
        weights=net.weights,
        activations=net.activations,
        loss="binary_cross_entropy",
        classes=LABELS,
    )
    data = folder / "rows.csv"
    rows = np.random.default_rng(1).normal(size=(12, 2)) * 3
    data.write_text("u,v\n" + "".join(f"{u!r},{v!r}\n" for u, v in rows.tolist()))
    return {"model": model, "data": data, "rows": rows}


def by_hand(files: dict[str, Path]) -> np.ndarray:
    """``sigmoid(W2 [tanh(W1 [x, 1]), 1])`` from the stored weights."""
    W1, W2 = cr.load_model(files["model"]).weights
    x = np.column_stack([files["rows"], np.ones(len(files["rows"]))])
    h = np.column_stack([np.tanh(x @ W1.T), np.ones(len(x))])
    return 1 / (1 + np.exp(-(h @ W2.T)))


def read(text: str) -> list[list[str]]:
    return list(csv.reader(text.splitlines()))


def test_predict_writes_one_decision_per_label(files) -> None:
    result = chainrule("predict", files["model"], files["data"])
    assert result.returncode == 0, result.stderr
    table = read(result.stdout)
    assert table[0] == [f"prediction_{label}" for label in LABELS]
    expected = (by_hand(files) > 0.5).astype(int)
    np.testing.assert_array_equal(np.array(table[1:], dtype=int), expected)
    assert 0 < expected.sum() < expected.size  # some labels on, some off: a real check


def test_predict_proba_gives_each_labels_probability_beside_its_decision(files) -> None:
    result = chainrule("predict", files["model"], files["data"], "--proba")
    assert result.returncode == 0, result.stderr
    table = read(result.stdout)
    assert table[0] == [f"prediction_{c}" for c in LABELS] + [f"p_{c}" for c in LABELS]
    values = np.array(table[1:], dtype=float)
    p = by_hand(files)
    np.testing.assert_array_equal(values[:, :3], (p > 0.5).astype(int))
    np.testing.assert_allclose(values[:, 3:], p, rtol=1e-12)


@pytest.mark.parametrize("command", ["evaluate", "plot"])
def test_scoring_a_multilabel_model_is_refused_by_name(files, tmp_path: Path, command) -> None:
    extra = ["-o", str(tmp_path / "plots")] if command == "plot" else []
    result = chainrule(command, files["model"], files["data"], *extra)
    assert one_line_error(result, command) == (
        f"chainrule {command}: error: {files['model']} is a multilabel model: it decides each "
        f"of its labels ({', '.join(LABELS)}) on its own, while {command} reads one target "
        "label per row; 'chainrule predict' gives its decisions"
    )
    assert not (tmp_path / "plots").exists()


def test_gradcheck_data_of_a_multilabel_model_is_refused_but_a_random_batch_runs(files) -> None:
    result = chainrule("gradcheck", "--weights", files["model"], "--data", files["data"])
    assert one_line_error(result, "gradcheck") == (
        f"chainrule gradcheck: error: {files['model']} is a multilabel model: it decides each "
        f"of its labels ({', '.join(LABELS)}) on its own, while --data reads one target label "
        "per row; leave --data out to check a random batch"
    )
    assert chainrule("gradcheck", "--weights", files["model"]).returncode == 0
