"""The network's weight vector: every ``W^(l)`` end to end, the layers computing with views of it.

The training loop hands the optimizer this one vector instead of one array per layer, which must
change nothing but the number of numpy calls: the same steps give bit-identical weights.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from chainrule.engine import SGD, Adam, Momentum, Network, Trainer
from chainrule.engine.layers import with_constant_1
from chainrule.errors import ValidationError


def _net(dtype: str = "float64") -> Network:
    return Network([3, 5, 4, 2], ["tanh", "relu", "softmax"], seed=1, dtype=dtype)


def _data(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    return rng.standard_normal((n, 3)), rng.integers(0, 2, n)


def test_the_vector_is_every_layer_column_by_column_and_the_layers_view_it() -> None:
    net = _net()
    expected = np.concatenate([W.ravel(order="F") for W in net.weights])
    np.testing.assert_array_equal(net.weight_vector, expected)
    assert net.weight_vector.size == net.n_parameters
    net.weight_vector[:] = np.arange(net.n_parameters)  # an update in place reaches the layers
    W1 = net.weights[0]
    assert W1.shape == (5, 4) and W1.flags.f_contiguous
    np.testing.assert_array_equal(W1, np.arange(20).reshape(4, 5).T)
    X, y = _data()
    _, gradients = net.loss_and_gradients(X, y)
    np.testing.assert_array_equal(
        net.gradient_vector, np.concatenate([g.ravel(order="F") for g in gradients])
    )


def test_a_layer_given_a_new_W_is_laid_out_again() -> None:
    net = _net()
    replacement = np.full((4, 6), 0.5)
    net.layers[1].W = replacement
    vector = net.weight_vector
    np.testing.assert_array_equal(vector[20:44], replacement.ravel(order="F"))
    vector[20] = 7.0
    assert net.layers[1].W[0, 0] == 7.0
    assert net.gradient_vector.shape == vector.shape


def test_a_step_right_after_a_layer_is_given_a_new_W_updates_it() -> None:
    """The gradients of the backward pass that preceded the new layout reach the optimizer."""
    net, X, y = _net(), *_data()
    W0 = np.random.default_rng(3).standard_normal((5, 4))
    net.layers[0].W = W0.copy()
    _, gradients = Network.from_weights([W0, *net.weights[1:]], net.activations).loss_and_gradients(
        X, y
    )
    trainer = Trainer(net, X, y, learning_rate=0.5, batch_size=None, shuffle=False)
    trainer.step(trainer.X, trainer.y)
    np.testing.assert_allclose(net.weights[0], W0 - 0.5 * gradients[0], rtol=1e-12)


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: SGD(0.3, weight_decay=0.01),
        lambda: Momentum(0.1, 0.9, nesterov=True, weight_decay=0.01),
        lambda: Adam(0.01, weight_decay=0.01),
    ],
    ids=["sgd", "nesterov", "adam"],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_training_through_the_vector_matches_updating_layer_by_layer(optimizer, dtype) -> None:
    """The plain path: back-propagate, then the optimizer on the list of per-layer arrays."""
    X, y = _data()
    trained, plain = _net(dtype), _net(dtype)
    trainer = Trainer(trained, X, y, optimizer=optimizer(), batch_size=8, shuffle=False)
    trainer.fit(5)
    by_layer = optimizer()
    # as the trainer's copy of X, with the constant 1 as its last column (same rounding)
    checked = with_constant_1(np.empty((len(X), X.shape[1] + 1), dtype=dtype))
    checked[:, :-1] = X
    with np.errstate(under="ignore"):
        for _ in range(5):
            for start in range(0, len(X), 8):
                plain.propagate(checked[start : start + 8], augmented=True)
                plain.back_propagate(y[start : start + 8], plain.loss)
                by_layer.step(plain.weights, plain.gradients)
    for W_trained, W_plain in zip(trained.weights, plain.weights, strict=True):
        np.testing.assert_array_equal(W_trained, W_plain)


def test_optimizer_state_that_does_not_fit_the_network_is_refused() -> None:
    X, y = _data()
    trainer = Trainer(_net(), X, y, optimizer=Adam(0.01), batch_size=8)
    trainer.fit(1)
    state = trainer.state_dict()
    state["optimizer"]["m"] = [np.zeros((5, 4)), np.zeros((4, 6)), np.zeros((2, 5))]
    resumed = Trainer(_net(), X, y, optimizer=Adam(0.01), batch_size=8)
    before = resumed.net.weight_vector.copy()
    with pytest.raises(ValidationError, match="optimizer state 'm' does not fit this network"):
        resumed.load_state_dict(state)
    np.testing.assert_array_equal(resumed.net.weight_vector, before)  # nothing half-loaded
    assert resumed.optimizer.m == []


def test_no_memory_for_the_vector_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A network that fits once but not twice while its weights are laid out: a ValidationError
    that says so, not a MemoryError traceback."""
    import chainrule.engine.network as network_module

    real_empty = np.empty

    def empty(shape, *args, **kwargs):
        if shape == 20 + 24 + 10:  # the weight vector of _net()
            raise MemoryError
        return real_empty(shape, *args, **kwargs)

    monkeypatch.setattr(network_module.np, "empty", empty)
    with pytest.raises(ValidationError, match=r"54 weights .* do not fit in memory twice"):
        _net()


@pytest.mark.parametrize(
    "duplicate",
    [copy.deepcopy, lambda net: pickle.loads(pickle.dumps(net))],
    ids=["deepcopy", "pickle"],
)
def test_a_copied_network_trains_like_the_original_and_apart_from_it(duplicate) -> None:
    """Copied array by array, the layers' views of W would become arrays that training no longer
    reaches: the copy must be rebuilt, and train exactly as :meth:`Network.copy` does."""
    X, y = _data(32)
    net = _net()
    duplicated, reference = duplicate(net), net.copy()
    before = [W.copy() for W in net.weights]
    for trained in (duplicated, reference):
        Trainer(trained, X, y, optimizer=Adam(0.05), batch_size=8, seed=0).fit(3)
    for W_dup, W_ref, W_before, W_net in zip(
        duplicated.weights, reference.weights, before, net.weights, strict=True
    ):
        np.testing.assert_array_equal(W_dup, W_ref)
        assert not np.array_equal(W_dup, W_before)
        np.testing.assert_array_equal(W_net, W_before)  # the original is untouched


def test_a_float64_W_given_to_a_float32_layer_keeps_the_network_float32() -> None:
    """Layer 1 given float64 once turned the whole network (vector, every layer) float64 at the
    next step, and a trainer made before, whose copy of the data is float32, then failed with
    numpy's "output array is not acceptable". The layer keeps its dtype: the matrix is cast."""
    X, y = _data()
    net = _net("float32")
    trainer = Trainer(net, X, y, optimizer=Adam(0.01), batch_size=5, seed=0)
    W1 = np.random.default_rng(4).standard_normal((5, 4))  # float64
    net.layers[0].W = W1
    trainer.fit(2)
    assert net.dtype == np.float32 and net.weight_vector.dtype == np.float32
    assert all(W.dtype == np.float32 for W in net.weights)
    # the same as a float32 network built with the cast matrix and trained alike
    reference = Network.from_weights(
        [W1.astype(np.float32), *_net("float32").weights[1:]], net.activations
    )
    Trainer(reference, X, y, optimizer=Adam(0.01), batch_size=5, seed=0).fit(2)
    for got, want in zip(net.weights, reference.weights, strict=True):
        np.testing.assert_array_equal(got, want)
