"""Determinism (issue 7): same seed, same data, same version -> bit-identical weights.

Checked with one BLAS thread (``threadpoolctl.threadpool_limits(1)``): two runs, a save and
load of the model file, and a run resumed from a checkpoint (library API and ``fit``) all give
the same bytes.

What changes with more BLAS threads: a matrix product ``W^(l) [h^(l-1); 1]`` or
``dL/dW = dL/de^T h`` split over several threads adds its partial sums in an order that depends
on how the BLAS library (OpenBLAS here) partitions the work, which depends on the thread count
and on the matrix sizes. Floating-point addition is not associative, so the last bits of ``e``
and ``dL/dW`` can differ from the one-thread result, and gradient descent carries and amplifies
those differences step after step. A run with N threads is usually repeatable with the same N
on the same machine and library build, but not guaranteed to be (some BLAS kernels pick their
partition dynamically), and it is not bit-identical to a run with another thread count or
another BLAS. Seeds, shuffles and initial weights do not depend on threads at all: only the
arithmetic order does. For exact reproducibility set one thread (``OPENBLAS_NUM_THREADS=1`` or
``threadpool_limits(1)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from chainrule.datasets import load
from chainrule.engine.callbacks import EarlyStopping
from chainrule.engine.network import Network
from chainrule.engine.optimizers import make_optimizer
from chainrule.engine.training import Trainer
from chainrule.fit import TrainConfig, fit
from chainrule.serialization import load_model, save_model
from chainrule.serialization.checkpoint import load_checkpoint, restore_trainer, save_checkpoint


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


def _bytes(weights: list[np.ndarray]) -> list[bytes]:
    return [np.ascontiguousarray(W).tobytes() for W in weights]


def _trainer(dtype: str, optimizer: str) -> Trainer:
    data = load("spiral", n_samples=240, seed=1)
    net = Network([2, 24, 24, data.n_classes], ["relu", "tanh", "softmax"], seed=7, dtype=dtype)
    return Trainer(
        net,
        data.X,
        data.y,
        optimizer=make_optimizer(optimizer, 0.01),
        batch_size=16,
        seed=11,
        callbacks=[EarlyStopping(patience=50)],
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_two_runs_and_a_resume_are_bit_identical(
    tmp_path: Path, dtype: str, optimizer: str
) -> None:
    first, second = _trainer(dtype, optimizer), _trainer(dtype, optimizer)
    first.fit(6)
    second.fit(6)
    assert _bytes(first.net.weights) == _bytes(second.net.weights)
    assert first.history == second.history

    interrupted = _trainer(dtype, optimizer)
    interrupted.fit(3)
    checkpoint = tmp_path / "ck.safetensors"
    save_checkpoint(checkpoint, interrupted)
    resumed = _trainer(dtype, optimizer)
    model, state, _ = load_checkpoint(checkpoint)
    restore_trainer(resumed, model, state)
    resumed.fit(3)
    assert _bytes(resumed.net.weights) == _bytes(first.net.weights)
    assert resumed.history == first.history

    path = tmp_path / "model.safetensors"
    net = first.net
    save_model(path, weights=net.weights, activations=net.activations, loss="cross_entropy")
    loaded = load_model(path)
    assert _bytes(list(loaded.weights)) == _bytes(net.weights)
    assert [W.dtype.name for W in loaded.weights] == [dtype] * 3
    rebuilt = Network.from_weights(loaded.weights, list(loaded.activations))
    probe = np.random.default_rng(0).normal(size=(50, 2))
    assert net.forward(probe).tobytes() == rebuilt.forward(probe).tobytes()


def test_fit_is_bit_identical_across_runs_and_resume(tmp_path: Path) -> None:
    """The training toolkit: one seed drives split, initial weights and shuffles."""
    data = load("moons", n_samples=300, seed=2)
    config = TrainConfig(hidden=(16,), epochs=4, seed=3, optimizer="adam", learning_rate=0.01)
    a, b = fit(data, config), fit(data, config)
    assert _bytes(a.net.weights) == _bytes(b.net.weights)
    checkpoint = tmp_path / "ck.safetensors"
    fit(
        data,
        TrainConfig(**{**config.to_dict(), "hidden": (16,), "epochs": 2}),
        checkpoint=checkpoint,
    )
    resumed = fit(data, config, resume=checkpoint)
    assert _bytes(resumed.net.weights) == _bytes(a.net.weights)
    other = fit(data, TrainConfig(**{**config.to_dict(), "hidden": (16,), "seed": 4}))
    assert _bytes(other.net.weights) != _bytes(a.net.weights)  # the seed does matter
