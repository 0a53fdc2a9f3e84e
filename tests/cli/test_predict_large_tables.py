"""``chainrule predict`` on many rows: the CSV text is made and written a chunk of rows at a
time. Before, 300,000 rows of 50 class probabilities (a 300 MB file) were held at once as
Python strings, 2 GB of memory, and the whole text again before a byte was written."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from chainrule.cli import predict
from chainrule.datasets import Dataset
from chainrule.fit import FittedModel, TrainConfig, fit
from cli_helpers import chainrule


@pytest.fixture(scope="module")
def many_classes(tmp_path_factory: pytest.TempPathFactory) -> tuple[FittedModel, Path, Path]:
    """A 20-class model, its model file and an NPZ file of 6,000 rows to predict."""
    folder = tmp_path_factory.mktemp("large")
    X, y = make_classification(
        n_samples=6000,
        n_features=8,
        n_informative=8,
        n_redundant=0,
        n_classes=20,
        n_clusters_per_class=1,
        random_state=0,
    )
    classes = [f"c{k}" for k in range(20)]
    data = Dataset(X, y, [f"f{j}" for j in range(8)], "y", classes, "classification", "d")
    model = fit(data, TrainConfig(hidden=(8,), epochs=1, validation_fraction=0.0))
    model.save(folder / "m.safetensors")
    np.savez(folder / "d.npz", X=X, y=y)
    return model, folder / "m.safetensors", folder / "d.npz"


def test_the_table_comes_in_chunks_that_read_back_as_the_predictions(
    many_classes: tuple[FittedModel, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, _, data = many_classes
    monkeypatch.setattr(predict, "CHUNK_ROWS", 1000)
    chunks = list(predict.predictions_csv(model, str(data), None, proba=True))
    assert len(chunks) == 1 + 6  # the header, then 6,000 rows 1,000 at a time
    assert all(chunk.count("\n") <= 1000 for chunk in chunks)
    table = pd.read_csv(io.StringIO("".join(chunks)))
    X = np.load(data)["X"]
    assert list(table.columns) == ["prediction", *(f"p_c{k}" for k in range(20))]
    np.testing.assert_array_equal(table["prediction"], model.predict(X))
    # repr writes every digit: the float32 probabilities read back exactly
    np.testing.assert_array_equal(table.iloc[:, 1:].to_numpy(), model.predict_proba(X))


def test_memory_for_the_text_stays_below_the_size_of_the_text(
    many_classes: tuple[FittedModel, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading, predicting and writing it all take about the memory of the text (the arrays
    read and predicted take as much), not ten times it: the cells as Python strings are a
    chunk's only (a small chunk here, as 10,000 rows are in a table of millions)."""
    model, _, data = many_classes
    monkeypatch.setattr(predict, "CHUNK_ROWS", 300)
    size = 0
    tracemalloc.start()
    try:
        for chunk in predict.predictions_csv(model, str(data), None, proba=True):
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size > 2_000_000
    assert peak < 2 * size, (peak, size)


def test_a_file_and_stdout_get_the_same_chunked_table(
    many_classes: tuple[FittedModel, Path, Path], tmp_path: Path
) -> None:
    _, model_file, data = many_classes
    out = tmp_path / "p.csv"
    written = chainrule("predict", model_file, data, "--proba", "-o", out)
    printed = chainrule("predict", model_file, data, "--proba")
    assert written.returncode == printed.returncode == 0, (written.stderr, printed.stderr)
    assert written.stdout == ""
    assert out.read_text() == printed.stdout
    assert printed.stdout.count("\n") == 6001
    assert [p.name for p in tmp_path.iterdir()] == ["p.csv"]  # no temporary file left
