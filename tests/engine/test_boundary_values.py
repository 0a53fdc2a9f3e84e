"""Values refused at the boundary are named (which matrix or target, row, column, the value),
and a refused call changes nothing.

Found by an independent review: weights given by ``set_weights`` were not checked at all (a NaN
made the first training step "diverge" with advice to lower the learning rate, and ``1e39``
became ``inf`` in float32), binary targets outside [0, 1] and non-finite targets were refused
without saying where, a single token's target had to be wrapped in a list, numpy scalars were
refused as momentum or Adam's betas, and a cross-entropy accepted outputs that are no
probabilities and "trained" on them.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import Adam, Momentum, Network, Trainer, gradcheck, trace
from chainrule.errors import ValidationError


def _net(dtype: str = "float32") -> Network:
    return Network([2, 3, 1], ["tanh", "identity"], seed=0, dtype=dtype)


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        (1e39, r"W\^\(2\) has non-finite values \(first at row 0, column 2: 1e\+39 as float32\)"),
        (np.nan, r"W\^\(2\) has non-finite values \(first at row 0, column 2: nan as float32\)"),
        (-np.inf, r"W\^\(2\) has non-finite values \(first at row 0, column 2: -inf as float32\)"),
    ],
    ids=["overflow", "nan", "-inf"],
)
def test_set_weights_refuses_a_non_finite_weight_and_changes_nothing(bad, named) -> None:
    net = _net()
    before = [W.copy() for W in net.weights]
    W2 = np.array([[0.5, -0.5, bad, 0.25]])
    with pytest.raises(ValidationError, match=named):
        net.set_weights([np.ones((3, 3)), W2])
    for got, want in zip(net.weights, before, strict=True):
        np.testing.assert_array_equal(got, want)  # W^(1), checked fine, was not copied either


def test_set_weights_copies_finite_weights_in_the_networks_dtype() -> None:
    net = _net()
    W1 = np.linspace(-1, 1, 9).reshape(3, 3)  # float64
    net.set_weights([W1, [[1, 2, 3, 4]]])  # and plain integers
    np.testing.assert_array_equal(net.weights[0], W1.astype(np.float32))
    np.testing.assert_array_equal(net.weights[1], [[1.0, 2.0, 3.0, 4.0]])
    assert all(W.dtype == np.float32 for W in net.weights)


def test_from_weights_names_a_weight_that_overflows_the_dtype() -> None:
    # under the suite's np.seterr(all="raise") the cast used to escape as FloatingPointError
    with pytest.raises(ValidationError, match=r"row 1, column 0: 1e\+39 as float32"):
        Network.from_weights([[[0.0, 0.0], [1e39, 0.0]]], ["identity"], dtype="float32")
    with pytest.raises(ValidationError, match="complex"):
        Network.from_weights([[[1 + 2j, 0.0]]], ["identity"])


def test_binary_targets_outside_0_1_are_named_by_row_and_column() -> None:
    net = Network([2, 3], ["sigmoid"], seed=0)
    y = np.array([[0, 1, 0], [1, 1, 1], [0, 1.5, 0]])
    with pytest.raises(ValidationError, match=r"in \[0, 1\].*y has 1\.5 at row 2, column 1"):
        net.loss_and_gradients(np.zeros((3, 2)), y)


@pytest.mark.parametrize(
    ("value", "shown"), [(np.nan, "nan"), (np.inf, "inf"), (1e39, r"1e\+39")], ids=str
)
def test_non_finite_targets_are_named_by_row_and_column(value, shown) -> None:
    net = Network([2, 2], ["identity"], seed=0)
    y = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, value]])
    with pytest.raises(ValidationError, match=rf"first at row 2, column 1: {shown} as float32"):
        net.loss_and_gradients(np.zeros((3, 2)), y)


def test_one_tokens_target_may_be_a_scalar() -> None:
    net = Network([2, 3, 3], ["tanh", "softmax"], seed=0, dtype="float64")
    x = np.array([0.5, -1.0])
    scalar, listed = trace(net, x, 2), trace(net, x, [2])
    assert scalar.loss == listed.loss
    # the lecture's -ln h_y, from the forward pass alone
    assert scalar.loss == pytest.approx(-np.log(net.forward(x)[0, 2]), rel=1e-14)
    for a, b in zip(scalar.layers, listed.layers, strict=True):
        np.testing.assert_array_equal(a.dL_dW, b.dL_dW)
    with pytest.raises(ValidationError, match=r"y is a single value \(2\) but X has 3 rows"):
        net.loss_and_gradients(np.zeros((3, 2)), 2)


def test_numpy_scalars_are_numbers_for_momentum_and_adam() -> None:
    mu, eta = np.float32(0.9), 0.1
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    optimizer = Momentum(eta, mu)
    optimizer.step([w], [g])
    optimizer.step([w], [g])
    # b_1 = g, w_1 = w_0 - eta b_1; b_2 = mu b_1 + g, w_2 = w_1 - eta b_2 (torch.optim.SGD)
    b2 = float(mu) * g + g
    np.testing.assert_allclose(w, np.array([1.0, -2.0]) - eta * g - eta * b2, rtol=1e-15)
    adam = Adam(0.01, np.float64(0.8), np.float32(0.99))
    assert (adam.beta_1, adam.beta_2) == (0.8, float(np.float32(0.99)))
    with pytest.raises(ValidationError, match=r"momentum must be in \[0, 1\]; got True"):
        Momentum(0.1, True)
    with pytest.raises(ValidationError, match=r"beta_2 must be in \[0, 1\); got 1.0"):
        Adam(0.1, 0.9, 1.0)


@pytest.mark.parametrize("output", ["identity", "relu", "leaky_relu", "tanh"])
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_a_cross_entropy_refuses_outputs_that_are_no_probabilities(output, loss) -> None:
    """-ln h_y of a tanh output 'trained' to a loss of 0 with nothing learnt, of a relu output
    fell below 0 without bound, of an identity output clipped to a flat value whose gradient
    finite differences disagreed with."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 2))
    y = rng.integers(0, 2, 10) if loss == "cross_entropy" else rng.integers(0, 2, (10, 2))
    net = Network([2, 3, 2], ["tanh", output], seed=0, loss="mse")
    named = rf"{loss} needs outputs h\^\(L\) that are probabilities.*{output!r}"
    with pytest.raises(ValidationError, match=named):
        net.loss_and_gradients(X, y, loss)
    with pytest.raises(ValidationError, match=named):
        Trainer(net, X, y, loss=loss)
    with pytest.raises(ValidationError, match=named):
        gradcheck(net, X, y, loss)


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("loss", ["cross_entropy", "binary_cross_entropy"])
def test_probability_outputs_keep_every_cross_entropy(output, loss) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(6, 2))
    y = rng.integers(0, 3, 6) if loss == "cross_entropy" else rng.integers(0, 2, (6, 3))
    net = Network([2, 4, 3], ["tanh", output], seed=0, dtype="float64", loss=loss)
    assert gradcheck(net, X, y).passed  # back-propagation against finite differences


def test_values_below_float32s_range_are_zero_not_an_error() -> None:
    """float64 1e-320 cast to float32 underflowed, and under np.seterr(all="raise") (this suite's,
    or a user's) check_inputs, check_targets and set_weights raised FloatingPointError."""
    assert np.geterr()["under"] == "raise"  # the suite's configuration, which users may share
    tiny = np.array([[1e-320, 5e-324], [0.5, -1e-310]])
    net = Network([2, 2], ["identity"], seed=0)  # float32, mse
    np.testing.assert_array_equal(net.check_inputs(tiny), [[0.0, 0.0], [0.5, 0.0]])
    loss, _ = net.loss_and_gradients(tiny, tiny)
    reference = Network.from_weights(net.weights, ["identity"], dtype="float64")
    flushed = np.array([[0.0, 0.0], [0.5, 0.0]])
    assert loss == pytest.approx(reference.loss_and_gradients(flushed, flushed)[0], rel=1e-6)
    net.set_weights([np.full((2, 3), 1e-320)])
    np.testing.assert_array_equal(net.weights[0], np.zeros((2, 3)))


def test_complex_targets_are_refused_not_cast() -> None:
    net = Network([2, 1], ["identity"], seed=0)
    with pytest.raises(ValidationError, match="y must hold real numbers; got dtype complex128"):
        net.loss_and_gradients(np.zeros((2, 2)), [1 + 2j, 0])
