"""Shared fixtures for the sweep tests: tiny configs and one real Dask cluster per module."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TINY = """\
dataset = {{ name = "xor", n_samples = 80 }}
folds = 2
seed = 3

[space]
hidden_layers = [[4]]
activation = ["tanh", "relu"]
optimizer = ["adam"]
learning_rate = [0.05, 0.2]
l2 = [0.0]
batch_size = [16]
epochs = [{epochs}]
"""


@pytest.fixture
def tiny_config(tmp_path: Path) -> Path:
    """A 4-trial grid (2 activations x 2 learning rates) on 80 XOR points, 2 folds."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY.format(epochs=10), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A real LocalCluster: 2 single-threaded worker processes on 127.0.0.1."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client
