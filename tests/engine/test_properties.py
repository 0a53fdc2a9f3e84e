"""Properties of the engine for any architecture (hypothesis), numerical stability, the step
unit's refusal to back-propagate, the divergence guard and seeding."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.engine import ACTIVATIONS, LOSSES, Network, Trainer, train
from chainrule.engine.activations import get_activation
from chainrule.engine.losses import get_loss
from chainrule.errors import DivergenceError, GradientUndefinedError

TRAINABLE = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]
OUTPUT_FOR_LOSS = {"cross_entropy": "softmax", "binary_cross_entropy": "sigmoid", "mse": "identity"}


@st.composite
def architectures(draw):
    n_layers = draw(st.integers(1, 4))
    sizes = draw(st.lists(st.integers(1, 6), min_size=n_layers + 1, max_size=n_layers + 1))
    loss = draw(st.sampled_from(sorted(OUTPUT_FOR_LOSS)))
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    hidden = draw(
        st.lists(st.sampled_from(TRAINABLE), min_size=n_layers - 1, max_size=n_layers - 1)
    )
    return sizes, [*hidden, OUTPUT_FOR_LOSS[loss]], loss


def targets_for(loss: str, n: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    if loss == "cross_entropy":
        return rng.integers(0, n_out, size=n)
    if loss == "binary_cross_entropy":
        return rng.integers(0, 2, size=(n, n_out)).astype(np.float64)
    return rng.normal(size=(n, n_out))


@settings(max_examples=40, deadline=None)
@given(
    architectures(),
    st.integers(1, 9),
    st.sampled_from(["float32", "float64"]),
    st.integers(0, 2**16),
)
def test_shapes_and_dtypes(arch, n, dtype, seed) -> None:
    sizes, activations, loss = arch
    net = Network(sizes, activations, seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    assert [W.shape for W in net.weights] == [
        (n_out, n_in + 1) for n_in, n_out in itertools.pairwise(sizes)
    ]
    h = net.forward(X)
    assert h.shape == (n, sizes[-1])
    assert h.dtype == np.dtype(dtype)
    value, grads = net.loss_and_gradients(X, targets_for(loss, n, sizes[-1], rng), loss)
    assert np.isfinite(value)
    for W, dL_dW in zip(net.weights, grads, strict=True):
        assert dL_dW.shape == W.shape
        assert dL_dW.dtype == np.dtype(dtype)
    proba_like = net.predict(X)
    assert len(proba_like) == n


@settings(max_examples=40, deadline=None)
@given(architectures(), st.integers(1, 6), st.integers(0, 2**16))
def test_bias_column_is_the_weight_on_a_constant_input_one(arch, n, seed) -> None:
    sizes, activations, _ = arch
    rng = np.random.default_rng(seed)
    net = Network(sizes, activations, seed=seed, dtype="float64")
    for W in net.weights:
        W[:, -1] = rng.normal(size=len(W))
    X = rng.normal(size=(n, sizes[0]))
    # Augment the input with a constant 1: a network whose first W has one more column
    # (zero weights on the real 1 that the bias column would add) gives the same outputs.
    W1 = net.weights[0]
    augmented_W1 = np.hstack([W1[:, :-1], W1[:, -1:], np.zeros((len(W1), 1))])
    augmented = Network.from_weights([augmented_W1, *net.weights[1:]], activations)
    X_aug = np.hstack([X, np.ones((n, 1))])
    np.testing.assert_allclose(augmented.forward(X_aug), net.forward(X), rtol=1e-12, atol=1e-14)
    # Adding c to W[:, -1] adds exactly c to every excitation e^(1).
    shifted = net.copy()
    shifted.weights[0][:, -1] += 0.75
    e = net.weights[0][:, :-1] @ X.T  # without the bias
    identity = Network.from_weights([net.weights[0]], ["identity"])
    identity_shifted = Network.from_weights([shifted.weights[0]], ["identity"])
    np.testing.assert_allclose(identity.forward(X), e.T + net.weights[0][:, -1], rtol=1e-12)
    np.testing.assert_allclose(
        identity_shifted.forward(X) - identity.forward(X), 0.75, rtol=1e-12, atol=1e-12
    )


@settings(max_examples=20, deadline=None)
@given(architectures(), st.integers(0, 2**32 - 1), st.sampled_from(["float32", "float64"]))
def test_same_seed_gives_bit_identical_weights(arch, seed, dtype) -> None:
    sizes, activations, _ = arch
    a = Network(sizes, activations, seed=seed, dtype=dtype)
    b = Network(sizes, activations, seed=seed, dtype=dtype)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=True))
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a.weights, b.weights, strict=True))


def test_same_seed_gives_bit_identical_training() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)

    def trained(seed: int) -> list[np.ndarray]:
        net = Network([3, 5, 2], ["tanh", "softmax"], seed=seed)
        train(net, X, y, epochs=5, batch_size=4, seed=seed)
        return net.weights

    first, again, other = trained(7), trained(7), trained(8)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


EXTREMES = np.array([[-1e4, -700.0, -50.0, 0.0, 1e-8, 50.0, 700.0, 1e4]])


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_are_stable_for_large_excitations(name: str, dtype: str) -> None:
    activation = get_activation(name)
    e = EXTREMES.astype(dtype)
    # Standalone calls need the same errstate the engine's public entry points set: exp of a
    # large negative number underflows to 0, which is the exact answer, but conftest's
    # np.seterr(all="raise") would turn it into an error. Overflow and invalid still raise.
    with np.errstate(under="ignore"):
        h = activation.g(e.copy())
        assert np.all(np.isfinite(h)) and h.dtype == np.dtype(dtype)
        if name == "step":
            return
        if activation.elementwise:
            d = activation.g_prime(e, h)
        else:
            d = activation.chain(np.ones_like(h), e, h, np.empty_like(h), np.empty_like(h))
        assert np.all(np.isfinite(d))


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_networks_are_stable_for_excitations_up_to_1e4(loss: str, dtype: str) -> None:
    # Through the public API (no errstate here): every hidden activation and the output reach
    # |e| = 1e4, and the loss and its gradients stay finite, without a floating-point error.
    for hidden in TRAINABLE:
        W1 = [[1e4, 0.0], [-1e4, 0.0], [0.0, 1e4]]
        W2 = [[1e4 if hidden != "identity" else 1.0, 0.0, 0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]]
        net = Network.from_weights(
            [W1, W2], [hidden, OUTPUT_FOR_LOSS[loss]], dtype=dtype, loss=loss
        )
        X = [[1.0], [-1.0]]
        y = [1, 0] if loss == "cross_entropy" else [[0.0, 1.0], [1.0, 0.0]]
        value, grads = net.loss_and_gradients(X, y)
        assert np.isfinite(value), (hidden, value)
        assert all(np.all(np.isfinite(g)) for g in grads), hidden
        assert np.all(np.isfinite(net.forward(X)))


def test_loss_values_are_stable_for_large_excitations() -> None:
    e = np.array([[-1e4, 1e4], [1e4, -1e4]])
    with np.errstate(under="ignore"):  # as above: exp(-2e4) = 0 exactly
        # -ln softmax(e)_y = logsumexp(e) - e_y = 1e4 - (-1e4) for both rows
        assert get_loss("cross_entropy").value_from_excitation(e, np.array([0, 1])) == 2e4
        bce = get_loss("binary_cross_entropy").value_from_excitation(e, np.array([[1.0, 0.0]] * 2))
    # Row 1 gets both outputs wrong by 1e4 (softplus(1e4) = 1e4 each), row 2 both right (0).
    assert bce == pytest.approx(1e4)


def test_step_refuses_to_back_propagate_and_says_why() -> None:
    net = Network([2, 3, 2], ["step", "softmax"], seed=0)
    with pytest.raises(GradientUndefinedError) as info:
        net.loss_and_gradients([[0.5, -0.5]], [1])
    message = str(info.value)
    assert "step" in message and "0 everywhere" in message  # why
    assert "sigmoid" in message  # what to use instead
    with pytest.raises(GradientUndefinedError):
        Trainer(net, [[0.5, -0.5]], [1]).step_minibatch()


def regression_trainer(learning_rate: float) -> Trainer:
    rng = np.random.default_rng(0)
    net = Network([2, 8, 1], ["tanh", "identity"], seed=0)
    X, y = rng.normal(size=(32, 2)), rng.normal(size=(32, 1))
    return Trainer(net, X, y, learning_rate=learning_rate, batch_size=8, seed=0)


def test_divergence_restores_the_last_good_epoch() -> None:
    trainer = regression_trainer(0.01)
    trainer.fit(2)
    good = [W.copy() for W in trainer.net.weights]
    trainer.optimizer.learning_rate = 1e6
    with pytest.raises(DivergenceError) as info:
        trainer.fit(5)
    assert all(np.array_equal(a, b) for a, b in zip(good, trainer.net.weights, strict=True))
    assert info.value.epoch == 2 and len(info.value.history) == 2
    assert "learning rate" in str(info.value)


def test_divergence_in_the_first_epoch_restores_the_initial_weights() -> None:
    trainer = regression_trainer(1e6)
    initial = [W.copy() for W in trainer.net.weights]
    with pytest.raises(DivergenceError):
        trainer.fit(3)
    assert all(np.array_equal(a, b) for a, b in zip(initial, trainer.net.weights, strict=True))
