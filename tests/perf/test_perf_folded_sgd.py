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
from chainrule.engine.callbacks import Callback
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


def _diverge_in_epoch_2(trainer, learning_rate):
    """Train one epoch, then one at ``learning_rate``, which must diverge and restore the first
    epoch's weights bit for bit; return the error."""
    trainer.fit(1)
    good = [W.copy() for W in trainer.net.weights]
    trainer.optimizer.learning_rate = learning_rate
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as err:
        trainer.fit(1)
    for got, want in zip(trainer.net.weights, good):
        assert got.tobytes() == want.tobytes()
    assert trainer.epoch == 1 and not trainer.in_epoch
    return err.value


def _all_folding_trainer(batch_size, callbacks=()):
    """Every layer folds (no numpy step to overflow first), on inputs large enough that a
    rate of 1e38 overflows float32 weights inside BLAS."""
    X, y = _data()
    net = Network([40, 1000, 40], ["relu", "softmax"], seed=1, dtype="float32")
    assert all(layer.folds_descent for layer in net.layers)
    return Trainer(
        net, 1e3 * X, y, optimizer=SGD(1e-6), batch_size=batch_size, seed=2, callbacks=callbacks
    )


@pytest.mark.parametrize("keep_gradients", [False, True])
def test_a_divergence_in_a_folded_step_is_caught_at_the_next_product(keep_gradients):
    """BLAS raises no floating-point error: weights a folded step overflowed are caught by the
    next step's first product, the step the two passes' own overflow is caught at."""
    trainer = _trainer(keep_gradients=keep_gradients)
    err = _diverge_in_epoch_2(trainer, 1e300)
    assert "training diverged in epoch 2, step 8: a floating-point error" in str(err)
    assert trainer.steps == 6


def test_weights_overflowed_by_an_epochs_last_folded_step_are_caught_at_its_end():
    """One step per epoch: nothing computes with the overflowed weights before the epoch's end,
    whose check names the step that made them and restores the epoch's starting weights."""
    trainer = _all_folding_trainer(batch_size=96)
    err = _diverge_in_epoch_2(trainer, 1e38)
    assert "diverged in epoch 2, step 2: the weights became non-finite" in str(err)
    assert err.step == 1  # 0-based, as for a divergence found during the step
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
        Adam(0.01).stepped([np.zeros(3)])


@pytest.mark.parametrize("augmented", [False, True])
def test_a_float64_network_steps_on_a_float32_batch_as_torch_does(augmented):
    """``Trainer.step`` given float32 data (the forward pass promotes it): the folded layer
    took the step in BLAS, which multiplies one dtype only, and raised a ValueError where the
    two passes with ``keep_gradients`` stepped. Reference: torch's autograd in float64."""
    torch = pytest.importorskip("torch")
    X, y = _data(16)
    trainer = _trainer()
    assert trainer.net.layers[0].folds_descent
    before = [W.copy() for W in trainer.net.weights]
    X_batch = X.astype(np.float32)
    if augmented:
        X_batch = np.hstack([X_batch, np.ones((16, 1), np.float32)])
    trainer.step(X_batch, y, augmented=augmented)
    # W - eta dL/dW, dL/dW of the mean cross-entropy of relu -> softmax, by autograd
    Ws = [torch.tensor(W, requires_grad=True) for W in before]
    h = torch.tensor(X.astype(np.float32).astype(np.float64))
    h = torch.relu(h @ Ws[0][:, :-1].T + Ws[0][:, -1])
    e = h @ Ws[1][:, :-1].T + Ws[1][:, -1]
    torch.nn.functional.cross_entropy(e, torch.tensor(y)).backward()
    for got, W, W_torch in zip(trainer.net.weights, before, Ws):
        assert got.dtype == np.float64
        want = W - 0.05 * W_torch.grad.numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_sgd_given_to_a_second_network_counts_that_networks_steps_alone():
    """As :meth:`Optimizer.step` does (the state belongs to the parameters): the folded steps
    on the first network were counted as the second's, 12 steps for its 6."""
    optimizer = SGD(0.05)
    first = _trainer(optimizer=optimizer)
    first.fit(1)
    second = _trainer(optimizer=optimizer)
    second.fit(1)
    assert second.steps == 6 and optimizer.steps == second.steps
    assert optimizer.state_dict()["steps"] == second.steps


class _CtrlC(Callback):
    """Ctrl-C as it arrives outside the main thread: a KeyboardInterrupt after a step."""

    def on_batch_end(self, trainer, loss):
        if trainer.epoch == 1:
            raise KeyboardInterrupt


def test_ctrl_c_after_a_folded_step_overflowed_the_weights_restores_the_good_ones():
    """The two passes raise at the overflowing step; a folded step raises nothing, and Ctrl-C
    before the next product kept the non-finite weights as "interrupted"."""
    trainer = _all_folding_trainer(batch_size=32, callbacks=[_CtrlC()])
    err = _diverge_in_epoch_2(trainer, 1e38)
    assert "diverged in epoch 2, step 4: the weights became non-finite" in str(err)
    assert trainer.record.stopped == "diverged"
    assert trainer.steps == 3
