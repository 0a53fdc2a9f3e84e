"""Prediction's forward pass (``Network.infer``): training's numbers up to rounding, nothing kept.

``propagate`` writes into buffers that every pass of a batch size shares and keeps ``e`` and ``h``
in the layers for back-propagation. Prediction must not: two threads predicting with one model
would overwrite each other's numbers, and a large batch would leave its buffers behind.
"""

from __future__ import annotations

import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from chainrule import MLPClassifier, MLPRegressor
from chainrule.engine import Network

ARCHITECTURES = [
    ([4, 64, 3], ["relu", "softmax"]),
    ([4, 32, 16, 2], ["tanh", "leaky_relu", "sigmoid"]),
    ([4, 8, 1], ["sigmoid", "identity"]),
    ([4, 3], ["step"]),
]


@pytest.mark.parametrize(("sizes", "activations"), ARCHITECTURES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_infer_gives_the_numbers_of_propagate_and_keeps_nothing(sizes, activations, dtype) -> None:
    """Training's pass multiplies column-major ``[h, 1]``, prediction's row-major ``h`` plus the
    bias: the products add in another order, so the last bits may differ, nothing more."""
    net = Network(sizes, activations, seed=3, dtype=dtype)
    X = net.check_inputs(np.random.default_rng(0).normal(size=(37, sizes[0])))
    with np.errstate(under="ignore"):
        want = net.propagate(X).copy()
        fresh = Network.from_weights(net.weights, activations, dtype=dtype)
        got = fresh.infer(X)
    assert got.shape == want.shape and got.dtype == want.dtype and got.flags.c_contiguous
    tolerance = 1e-5 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)
    assert all(layer.e is None and layer.h_prev is None for layer in fresh.layers)
    assert all(not layer._buffers for layer in fresh.layers)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_threads_predicting_with_one_estimator_get_their_own_answers() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 20))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    clf = MLPClassifier(hidden_layer_sizes=(256,), max_iter=3, random_state=0).fit(X, y)
    batches = [rng.normal(size=(500, 20)) for _ in range(16)]  # one size: the shared buffers
    want = [clf.predict_proba(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            got = list(pool.map(clf.predict_proba, batches))
            assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_large_prediction_batch_leaves_no_memory_behind() -> None:
    rng = np.random.default_rng(1)
    reg = MLPRegressor(hidden_layer_sizes=(128,), max_iter=2, random_state=0).fit(
        rng.normal(size=(50, 8)), rng.normal(size=50)
    )
    X = rng.normal(size=(20_000, 8))
    reg.predict(X[:10])
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in (20_000, 19_999, 19_998):
            result = reg.predict(X[:n])
            del result
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1_000_000, f"{kept:,} bytes kept after three large predictions"  # 10 MB each


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "step"])
def test_a_network_trained_for_regression_predicts_values_whatever_its_output(output) -> None:
    """With the loss mse the outputs are the predictions (a sigmoid's lie in (0, 1)); with the
    output's own loss a sigmoid or step gives 0/1 decisions and a softmax the likeliest class."""
    X = np.random.default_rng(1).normal(size=(9, 4))
    for loss in ("mse", None):
        net = Network([4, 5, 2], ["tanh", output], seed=0, dtype="float64", loss=loss)
        h = net.forward(X)
        if loss == "mse":
            np.testing.assert_array_equal(net.predict(X), h)
        elif output == "softmax":
            np.testing.assert_array_equal(net.predict(X), np.argmax(h, axis=1))
        else:
            np.testing.assert_array_equal(net.predict(X), (h > 0.5).astype(int))
