"""Plain SGD taken inside the dL/dW products against the two passes it replaces.

In a network with a layer of at least ``FOLD_MIN_WEIGHTS`` weights the trainer lets each layer
take its own step (``Dense.backward(learning_rate=eta)``): a large layer adds ``-eta dL/de^T
h_prev`` to ``W`` in one BLAS call, a small one subtracts ``eta dL/dW`` after computing it,
instead of the optimizer stepping ``w <- w - eta dL/dw`` over the whole weight vector. The steps
must be the same up to rounding, keep every guarantee of the plain path (divergence undone,
bit-identical resume, no per-step allocation), and apply only where the step is plain SGD.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import SGD, Adam, Momentum, Network, Trainer, blas
from chainrule.engine.layers import FOLD_MIN_WEIGHTS
from chainrule.errors import DivergenceError, ValidationError
from chainrule.serialization.checkpoint import load_checkpoint, restore_trainer, save_checkpoint

pytestmark = pytest.mark.skipif(not blas.in_place(), reason="numpy's BLAS was not found")

SIZES = [40, 1500, 3]  # 1500 * 41 = 61,500 weights (folded) and 3 * 1501 = 4,503 (not)


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, SIZES[0]))
    return X, np.argmax(X[:, :3], axis=1)


def _trainer(dtype="float64", optimizer=None, keep_gradients=False, **kwargs):
    net = Network(SIZES, ["relu", "softmax"], seed=1, dtype=dtype)
    X, y = _data()
    defaults = {"batch_size": 16, "seed": 2}
    return Trainer(
        net,
        X,
        y,
        optimizer=optimizer or SGD(0.05),
        keep_gradients=keep_gradients,
        **(defaults | kwargs),
    )


def test_the_large_layer_folds_its_step_and_keeps_no_gradient():
    trainer = _trainer()
    large, small = trainer.net.layers
    assert large.W.size >= FOLD_MIN_WEIGHTS > small.W.size
    assert large.folds_descent and not small.folds_descent
    trainer.fit(1)
    assert not large.dL_dW.any()  # dL/dW was never written: the step was taken inside BLAS
    kept = _trainer(keep_gradients=True)
    kept.fit(1)
    assert kept.net.layers[0].dL_dW.any()


def test_a_network_of_small_layers_keeps_one_update_of_the_weight_vector():
    net = Network([100, 150, 150, 150, 10], ["tanh"] * 3 + ["softmax"], seed=0)
    assert net.weight_vector.size > FOLD_MIN_WEIGHTS  # large in all, small layer by layer
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((64, 100)), rng.integers(0, 10, 64)
    trainer = Trainer(net, X, y, optimizer=SGD(0.1), seed=0)
    assert not any(layer.folds_descent for layer in net.layers)
    trainer.fit(1)
    assert all(g.any() for g in net.gradients)


@pytest.mark.parametrize(("dtype", "rtol"), [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_folded_steps_are_the_plain_steps(dtype, rtol, shuffle):
    """Three epochs of 6 batches (the last one short: 96 = 5 * 18 + 6 with batch 18)."""
    folded = _trainer(dtype, batch_size=18, shuffle=shuffle)
    plain = _trainer(dtype, batch_size=18, shuffle=shuffle, keep_gradients=True)
    folded.fit(3)
    plain.fit(3)
    assert folded.steps == plain.steps == 18 and folded.optimizer.steps == 18
    for got, want in zip(folded.net.weights, plain.net.weights):
        assert got.dtype == np.dtype(dtype)
        scale = np.abs(want).max()
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)
    np.testing.assert_allclose(folded.history, plain.history, rtol=10 * rtol)


def test_a_layer_fed_its_input_without_the_1_folds_the_bias_too():
    """``Trainer.step`` on a plain batch: the bias column is stepped apart from the product."""
    X, y = _data(16)
    folded, plain = _trainer(), _trainer(keep_gradients=True)
    for trainer in (folded, plain):
        trainer.step(trainer.net.check_inputs(X), trainer.net.check_targets(y, 16, trainer.loss))
    for got, want in zip(folded.net.weights, plain.net.weights):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("sizes", "folds"), [([5, 40, 1000], True), ([5, 7, 3], False)])
def test_backward_with_a_rate_steps_w_and_returns_the_same_dL_dh_prev(sizes, folds):
    """One layer: ``W - eta dL/dW`` in place, and dL/dh^(l-1) from the weights before the step,
    inside BLAS's product for a large layer and after numpy's for a small one."""
    rng = np.random.default_rng(4)
    net = Network(sizes, ["tanh", "softmax"], seed=0, dtype="float64")
    assert net.layers[1].folds_descent is folds
    X, y = rng.standard_normal((11, sizes[0])), rng.integers(0, sizes[-1], 11)
    _, gradients = net.loss_and_gradients(X, y)
    before = [W.copy() for W in net.weights]
    dL_dh_plain = net.layers[1].backward(dL_de=net.layers[1].dL_de).copy()
    net.propagate(net.check_inputs(X))
    dL_de = net.loss.dL_de(net.layers[1].h, y, out=np.empty((11, sizes[-1]), order="F"))
    dL_dh_folded = net.layers[1].backward(dL_de=dL_de, learning_rate=0.3)
    assert dL_dh_folded.tobytes() == dL_dh_plain.tobytes()
    np.testing.assert_allclose(net.weights[1], before[1] - 0.3 * gradients[1], rtol=1e-13)
    np.testing.assert_array_equal(net.weights[0], before[0])  # only the layer asked moved


@pytest.mark.parametrize(
    "optimizer",
    [Momentum(0.05), Momentum(0.05, nesterov=True), Adam(0.01), SGD(0.05, weight_decay=1e-3)],
    ids=["momentum", "nesterov", "adam", "sgd-weight-decay"],
)
def test_only_plain_sgd_is_folded(optimizer):
    """Every other update needs dL/dW itself: it is stored, and it is the step's gradient."""
    trainer = _trainer(optimizer=optimizer)
    weights = [W.copy() for W in trainer.net.weights]
    trainer.step_minibatch()
    batch = trainer._order[:16]
    _, expected = Network.from_weights(weights, ["relu", "softmax"]).loss_and_gradients(
        trainer.X[batch], trainer.y[batch]
    )
    for got, want in zip(trainer.net.gradients, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("keep_gradients", [False, True])
def test_a_divergence_in_a_folded_step_is_caught_at_the_next_product(keep_gradients):
    """BLAS raises no floating-point error: weights a folded step overflowed are caught by the
    next step's first product, the step the two passes' own overflow is caught at."""
    trainer = _trainer(keep_gradients=keep_gradients)
    trainer.fit(1)
    good = [W.copy() for W in trainer.net.weights]
    trainer.optimizer.learning_rate = 1e300
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as err:
        trainer.fit(1)
    assert "training diverged in epoch 2, step 8: a floating-point error" in str(err.value)
    for got, want in zip(trainer.net.weights, good):
        assert got.tobytes() == want.tobytes()
    assert trainer.epoch == 1 and trainer.steps == 6 and not trainer.in_epoch


def test_weights_overflowed_by_an_epochs_last_folded_step_are_caught_at_its_end():
    """One step per epoch: nothing computes with the overflowed weights before the epoch's end,
    whose check names the step that made them and restores the epoch's starting weights."""
    X, y = _data()
    net = Network([40, 1000, 40], ["relu", "softmax"], seed=1, dtype="float32")
    assert all(layer.folds_descent for layer in net.layers)  # no numpy step to overflow
    trainer = Trainer(net, 1e3 * X, y, optimizer=SGD(1e-6), batch_size=96, seed=2)
    trainer.fit(1)
    good = [W.copy() for W in trainer.net.weights]
    trainer.optimizer.learning_rate = 1e38
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as err:
        trainer.fit(1)
    assert "diverged in epoch 2, step 2: the weights became non-finite" in str(err.value)
    assert err.value.step == 1  # 0-based, as for a divergence found during the step
    for got, want in zip(trainer.net.weights, good):
        assert got.tobytes() == want.tobytes()
    assert trainer.steps == 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_resumed_folded_run_is_bit_identical_to_an_uninterrupted_one(tmp_path, dtype):
    straight = _trainer(dtype)
    straight.fit(5)
    first = _trainer(dtype)
    first.fit(2)
    save_checkpoint(tmp_path / "run.ckpt.safetensors", first)
    resumed = _trainer(dtype)
    model, state, _ = load_checkpoint(tmp_path / "run.ckpt.safetensors")
    restore_trainer(resumed, model, state)
    resumed.fit(3)
    for got, want in zip(resumed.net.weights, straight.net.weights):
        assert got.tobytes() == want.tobytes()
    assert resumed.record.to_dict() == straight.record.to_dict()


def test_a_step_counted_for_an_optimizer_with_its_own_update_is_refused():
    with pytest.raises(ValidationError, match=r"takes its own steps: call step\(params, grads\)"):
        Adam(0.01).stepped()
