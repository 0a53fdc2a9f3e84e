"""The engine's fast paths against plain textbook code written here, in float64, to 1e-12.

The engine keeps W^(l) column-major, reads the bias through the view ``W[:, -1]``, reuses buffers,
computes ``dL/de`` at a softmax output by the fused formula and reads the cross-entropy off the
softmax when that is exact. The oracle below does none of that: it appends a column of ones to
``h^(l-1)``, multiplies by a C-ordered ``W``, applies ``g'`` elementwise and differentiates the
loss the long way.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import SGD, Momentum, Network, Trainer
from chainrule.engine.layers import Dense
from chainrule.engine.losses import get_loss

G = {
    "tanh": (np.tanh, lambda e: 1 - np.tanh(e) ** 2),
    "relu": (lambda e: np.maximum(e, 0), lambda e: (e > 0).astype(float)),
    "sigmoid": (lambda e: 1 / (1 + np.exp(-e)), lambda e: np.exp(-e) / (1 + np.exp(-e)) ** 2),
    "leaky_relu": (lambda e: np.where(e > 0, e, 0.01 * e), lambda e: np.where(e > 0, 1.0, 0.01)),
    "identity": (lambda e: e, np.ones_like),
}


def plain_loss_and_gradients(weights, activations, X, y, loss):
    """The lecture, term by term: augmented inputs, e = [h, 1] W^T, full chain rule."""
    hs, es = [X], []
    for W, a in zip(weights, activations):
        h_aug = np.hstack([hs[-1], np.ones((len(X), 1))])
        e = h_aug @ W.T
        if a == "softmax":
            z = np.exp(e - e.max(axis=1, keepdims=True))
            h = z / z.sum(axis=1, keepdims=True)
        else:
            h = G[a][0](e)
        es.append(e)
        hs.append(h)
    n, h_L = len(X), hs[-1]
    if loss == "cross_entropy":
        value = -np.mean(np.log(h_L[np.arange(n), y]))
        dL_dh = np.zeros_like(h_L)
        dL_dh[np.arange(n), y] = -1 / (n * h_L[np.arange(n), y])
    elif loss == "binary_cross_entropy":
        value = -np.sum(y * np.log(h_L) + (1 - y) * np.log(1 - h_L)) / n
        dL_dh = (h_L - y) / (h_L * (1 - h_L)) / n
    else:
        value = np.mean((h_L - y) ** 2)
        dL_dh = 2 * (h_L - y) / h_L.size
    grads = [None] * len(weights)
    for l in range(len(weights) - 1, -1, -1):
        if activations[l] == "softmax":  # full Jacobian: dh_j/de_i = h_j ([i = j] - h_i)
            h = hs[l + 1]
            jacobian = h[:, :, None] * (np.eye(h.shape[1])[None] - h[:, None, :])
            dL_de = np.einsum("nj,nji->ni", dL_dh, jacobian)
        else:
            dL_de = dL_dh * G[activations[l]][1](es[l])
        h_aug = np.hstack([hs[l], np.ones((n, 1))])
        grads[l] = dL_de.T @ h_aug
        dL_dh = dL_de @ weights[l][:, :-1]
    return value, grads


CASES = [
    ([3, 5, 4, 3], ["tanh", "relu", "softmax"], "cross_entropy"),
    ([4, 6, 2], ["leaky_relu", "sigmoid"], "binary_cross_entropy"),
    ([2, 7, 3], ["sigmoid", "identity"], "mse"),
    ([5, 3], ["softmax"], "cross_entropy"),
]


def _data(sizes, loss, n, rng):
    X = rng.standard_normal((n, sizes[0]))
    if loss == "cross_entropy":
        return X, rng.integers(0, sizes[-1], n)
    if loss == "binary_cross_entropy":
        return X, rng.integers(0, 2, (n, sizes[-1])).astype(float)
    return X, rng.standard_normal((n, sizes[-1]))


@pytest.mark.parametrize(("sizes", "activations", "loss"), CASES)
@pytest.mark.parametrize("n", [1, 7, 32])
def test_loss_and_gradients_match_the_plain_formulas(sizes, activations, loss, n):
    rng = np.random.default_rng(n)
    net = Network(sizes, activations, seed=n, dtype="float64", loss=loss)
    X, y = _data(sizes, loss, n, rng)
    weights = [np.ascontiguousarray(W) for W in net.weights]
    value, grads = net.loss_and_gradients(X, y)
    want_value, want_grads = plain_loss_and_gradients(weights, activations, X, y, loss)
    assert value == pytest.approx(want_value, rel=1e-12, abs=1e-12)
    for got, want in zip(grads, want_grads):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("sizes", "activations", "loss"), CASES)
def test_sgd_training_matches_a_plain_loop(sizes, activations, loss):
    """Ten steps of the Trainer (buffers reused, batch sizes 8 and the remainder 4) vs by hand."""
    rng = np.random.default_rng(1)
    net = Network(sizes, activations, seed=3, dtype="float64", loss=loss)
    X, y = _data(sizes, loss, 20, rng)
    weights = [np.array(W, order="C") for W in net.weights]
    trainer = Trainer(net, X, y, optimizer=SGD(0.05), batch_size=8, shuffle=False)
    for step in range(10):
        start = (step % 3) * 8
        stop = min(start + 8, 20)
        _, grads = plain_loss_and_gradients(
            weights, activations, X[start:stop], y[start:stop], loss
        )
        weights = [W - 0.05 * g for W, g in zip(weights, grads)]
        trainer.step_minibatch()
    for got, want in zip(net.weights, weights):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_weights_are_column_major_and_keep_the_lecture_shape():
    net = Network([3, 4, 2], ["tanh", "softmax"], seed=0)
    for W, (n_out, n_in) in zip(net.weights, [(4, 3), (2, 4)]):
        assert W.shape == (n_out, n_in + 1)
        assert W.flags.f_contiguous
    given = [np.arange(8.0).reshape(2, 4)]
    copy = Network.from_weights(given, ["sigmoid"])
    np.testing.assert_array_equal(copy.weights[0], given[0])
    assert copy.weights[0] is not given[0]


def test_a_dense_layer_gives_the_same_numbers_for_either_memory_layout():
    """Given row-major W, a layer keeps a column-major copy; the numbers are the same."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 5))
    h_prev = rng.standard_normal((9, 4))
    dL_dh = rng.standard_normal((9, 6))
    results = []
    for layout in (np.ascontiguousarray(W), np.asfortranarray(W)):
        layer = Dense(layout, "tanh")
        assert layer.W.flags.f_contiguous
        h = layer.forward(h_prev).copy()
        dL_dh_prev = layer.backward(dL_dh.copy()).copy()
        results.append((h, dL_dh_prev, layer.dL_dW.copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # and the bias column is the sum over the batch of dL/de (h_k = 1)
    dL_de = dL_dh * (1 - np.tanh(h_prev @ W[:, :-1].T + W[:, -1]) ** 2)
    np.testing.assert_allclose(results[0][2][:, -1], dL_de.sum(axis=0), rtol=1e-12)


def test_replacing_W_rebuilds_the_views():
    layer = Dense(np.zeros((2, 3)), "identity")
    layer.W = np.asfortranarray([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    e = layer.forward(np.array([[1.0, 1.0]]))
    np.testing.assert_array_equal(e, [[6.0, 15.0]])  # w_j1 + w_j2 + w_j3 * 1
    assert layer.dL_dW.shape == (2, 3)


@pytest.mark.parametrize("activation", ["tanh", "relu", "softmax"])
def test_a_layer_given_its_input_with_the_constant_1_computes_the_same_numbers(activation):
    """``[h_prev, 1]`` (one product, bias inside) against ``h_prev`` (views of W and a separate
    bias pass), and both against the lecture's formulas written here."""
    rng = np.random.default_rng(6)
    W = rng.standard_normal((6, 5))
    h_prev = rng.standard_normal((9, 4))
    h_prev_and_1 = np.column_stack([h_prev, np.ones(9)])
    dL_dh = rng.standard_normal((9, 6))
    passes = []
    for given, augmented in ((h_prev, False), (h_prev_and_1, True)):
        layer = Dense(W, activation)
        layer.forward(given, augmented=augmented)
        assert layer.h_prev.shape == (9, 4)
        np.testing.assert_array_equal(layer.h_prev, h_prev)
        dL_dh_prev = layer.backward(dL_dh.copy())
        passes.append([a.copy() for a in (layer.e, layer.h, layer.dL_dW, dL_dh_prev)])
    e = h_prev_and_1 @ W.T
    g = Dense(W, activation).activation
    dL_de = g.chain(dL_dh, e, g.g(e.copy()), np.empty_like(e), np.empty_like(e))
    want = [e, g.g(e.copy()), dL_de.T @ h_prev_and_1, dL_de @ W[:, :-1]]
    for got in passes:
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_h_augmented_is_h_and_a_column_of_ones_through_training():
    """The constant 1 that carries each bias stays 1 however long training runs, in every
    layer's buffer and in the trainer's copy of the data, and ``h`` is a view of it."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((50, 3))
    net = Network([3, 8, 8, 2], ["relu", "tanh", "softmax"], seed=0, dtype="float64")
    trainer = Trainer(net, X, rng.integers(0, 2, 50), learning_rate=0.5, batch_size=16)
    trainer.fit(5)
    assert np.all(trainer._X_augmented[:, -1] == 1)
    np.testing.assert_array_equal(trainer.X, X)  # the trainer's copy is the data
    trainer.fit(1)
    # the last minibatch: the epoch's last tokens, in its shuffled order, with their 1
    X_batch = net.layers[0]._h_prev_augmented
    assert X_batch is not None and len(X_batch) == 50 - 3 * 16
    tokens = trainer._order[-len(X_batch) :]
    np.testing.assert_array_equal(X_batch, np.c_[X[tokens], np.ones(len(X_batch))])
    for layer in net.layers:
        assert layer.h_augmented is not None and layer.h is not None
        assert np.all(layer.h_augmented[:, -1] == 1)
        assert np.shares_memory(layer.h, layer.h_augmented)
        np.testing.assert_array_equal(layer.h_augmented[:, :-1], layer.h)
    # the next layer reads exactly that array: its e is [h, 1] W^T
    net.propagate(trainer._X_augmented[:16], augmented=True)
    for previous, layer in zip(net.layers, net.layers[1:]):
        np.testing.assert_allclose(layer.e, previous.h_augmented @ layer.W.T, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_read_off_the_softmax_equals_the_log_sum_exp(dtype):
    rng = np.random.default_rng(2)
    loss = get_loss("cross_entropy")
    e = rng.standard_normal((50, 7)).astype(dtype) * 5
    h = np.exp(e - e.max(axis=1, keepdims=True))
    h /= h.sum(axis=1, keepdims=True)
    y = rng.integers(0, 7, 50)
    fast, stable = loss.value_at_output(e, h, y), loss.value_from_excitation(e, y)
    assert fast == pytest.approx(stable, rel=1e-5 if dtype == "float32" else 1e-12)


def test_cross_entropy_falls_back_to_the_log_sum_exp_when_h_y_underflows():
    loss = get_loss("cross_entropy")
    e = np.array([[1000.0, 0.0], [0.0, 1.0]])
    with np.errstate(under="ignore"):
        h = np.exp(e - e.max(axis=1, keepdims=True))
    h /= h.sum(axis=1, keepdims=True)
    y = np.array([1, 1])
    assert h[0, 1] == 0.0  # ln 0 would be -inf
    with np.errstate(under="ignore"):  # as in the engine's callers: exp(-1000) is exactly 0
        value = loss.value_at_output(e, h, y)
    want = (1000.0 + np.log1p(np.exp(-1.0)) + 0.0) / 2
    assert value == pytest.approx(want, rel=1e-12)


def test_momentum_keeps_the_weights_layout_for_its_velocity():
    net = Network([3, 4, 2], ["tanh", "softmax"], seed=0)
    optimizer = Momentum(0.1)
    X = np.random.default_rng(0).standard_normal((6, 3))
    Trainer(net, X, [0, 1, 0, 1, 0, 1], optimizer=optimizer, batch_size=3).run_epoch()
    assert all(b.flags.f_contiguous for b in optimizer.velocity)


@pytest.mark.parametrize("name", ["tanh", "relu", "sigmoid", "leaky_relu", "identity"])
@pytest.mark.parametrize("in_place", [False, True])
def test_chain_through_g_matches_dL_dh_times_g_prime(name, in_place):
    """``chain`` reuses ``out`` for g'(e) unless ``out`` is ``dL_dh`` itself; both agree."""
    from chainrule.engine.activations import get_activation

    rng = np.random.default_rng(4)
    e = rng.standard_normal((6, 5))
    dL_dh = rng.standard_normal((6, 5))
    want = dL_dh * G[name][1](e)
    activation = get_activation(name)
    h = activation.g(e, out=np.empty_like(e))
    out = dL_dh.copy() if in_place else np.empty_like(e)
    got = activation.chain(out if in_place else dL_dh, e, h, out, np.empty_like(e))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7,), (1, 3), (5, 40), (40, 5), (3, 2, 9)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_relu_against_zeros_is_max_e_0_bit_for_bit(dtype, shape, order):
    """ReLU compares ``e`` with cached zeros laid along its contiguous axis, not with the scalar
    0 (numpy's faster loop): the same bits for every value, -0.0, inf and nan included, in
    either memory order, and the cached zeros stay zero."""
    from chainrule.engine.activations import get_activation

    rng = np.random.default_rng(5)
    e = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
    specials = np.array([-0.0, 0.0, np.inf, -np.inf, np.nan, 1e-45], dtype=dtype)
    e.reshape(-1, order="A")[: specials.size] = specials[: e.size]
    relu = get_activation("relu")
    for out in (None, np.full(shape, 7, dtype=dtype, order=order)):
        got = relu.g(e, out=out)
        want = np.maximum(e, 0)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes()
    assert relu.g(np.full(shape, -1, dtype=dtype)).tobytes() == np.zeros(shape, dtype).tobytes()
