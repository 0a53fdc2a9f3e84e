"""Every activation's g', every loss's dL/dh and fused dL/de, and whole random networks, checked
against central finite differences (an oracle that knows nothing of the formulas), in float64."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import ACTIVATIONS, LOSSES, Network, gradcheck
from chainrule.engine.activations import get_activation
from chainrule.engine.losses import get_loss

EPS = 1e-6
RTOL = 1e-6
ATOL = 1e-9
ELEMENTWISE = [name for name, a in ACTIVATIONS.items() if a.elementwise and name != "step"]


def central_difference(f, x: np.ndarray) -> np.ndarray:
    """d f / d x for a scalar function f of the array x, one entry at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + EPS
        plus = f(x)
        x[index] = saved - EPS
        minus = f(x)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * EPS)
    return grad


def excitations(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    # Keep clear of the kinks of relu and leaky_relu at 0, where g' is not defined.
    e = rng.uniform(-4, 4, size=shape)
    return np.where(np.abs(e) < 1e-3, 0.5, e)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_g_prime_matches_central_differences(name: str) -> None:
    activation = get_activation(name)
    e = excitations(np.random.default_rng(0), (5, 7))
    analytic = activation.g_prime(e, activation.g(e))
    # g is elementwise, so dg(e_i)/de_i is the derivative of sum(g(e)) with respect to e_i.
    numeric = central_difference(lambda x: float(activation.g(x.copy()).sum()), e.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


def test_softmax_chain_is_the_jacobian_vector_product() -> None:
    softmax = get_activation("softmax")
    rng = np.random.default_rng(1)
    e = rng.normal(size=(4, 5))
    v = rng.normal(size=(4, 5))  # an upstream dL/dh
    h = softmax.g(e)
    analytic = softmax.chain(v, e, h, out=np.empty_like(e), scratch=np.empty_like(e))
    # dL/de for L = sum(v * softmax(e)) is exactly J^T v
    numeric = central_difference(lambda x: float((v * softmax.g(x.copy())).sum()), e.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


def loss_case(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(e, h = paired g(e), y) for a batch of 6 tokens and 3 outputs."""
    loss = get_loss(name)
    e = rng.normal(size=(6, 3))
    h = get_activation(loss.pairs_with).g(e.copy())
    if name == "cross_entropy":
        y = rng.integers(0, 3, size=6)
    elif name == "binary_cross_entropy":
        y = rng.integers(0, 2, size=(6, 3)).astype(np.float64)
    else:
        y = rng.normal(size=(6, 3))
    return e, h, y


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_dL_dh_matches_central_differences(name: str) -> None:
    loss = get_loss(name)
    _, h, y = loss_case(name, np.random.default_rng(2))
    analytic = loss.dL_dh(h, y, out=np.empty_like(h))
    numeric = central_difference(lambda x: loss.value(x, y), h.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_fused_dL_de_matches_central_differences(name: str) -> None:
    loss = get_loss(name)
    e, h, y = loss_case(name, np.random.default_rng(3))
    analytic = loss.dL_de(h, y, out=np.empty_like(h))
    numeric = central_difference(lambda x: loss.value_from_excitation(x, y), e.copy())
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)
    # ...and the stable value from e is the value from h = g(e).
    assert loss.value_from_excitation(e, y) == pytest.approx(loss.value(h, y), rel=1e-12)


HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]
OUTPUTS = [
    ("softmax", "cross_entropy"),
    ("sigmoid", "binary_cross_entropy"),
    ("identity", "mse"),
    ("softmax", "mse"),
    ("tanh", "mse"),
    ("sigmoid", "mse"),
]


def random_network_case(seed: int) -> tuple[Network, np.ndarray, np.ndarray, str]:
    rng = np.random.default_rng(seed)
    n_layers = 1 + seed % 4
    sizes = [int(s) for s in rng.integers(1, 6, size=n_layers + 1)]
    output, loss = OUTPUTS[seed % len(OUTPUTS)]
    sizes[-1] = max(sizes[-1], 2) if output == "softmax" else sizes[-1]
    activations = [str(a) for a in rng.choice(HIDDEN, size=n_layers - 1)] + [output]
    net = Network(sizes, activations, seed=seed, dtype="float64")
    for W in net.weights:  # non-zero biases, so the bias column is exercised too
        W[:, -1] = rng.normal(scale=0.5, size=len(W))
    X = rng.normal(size=(7, sizes[0]))
    if loss == "cross_entropy":
        y = rng.integers(0, sizes[-1], size=7)
    elif loss == "binary_cross_entropy":
        y = rng.integers(0, 2, size=(7, sizes[-1])).astype(np.float64)
    else:
        y = rng.normal(size=(7, sizes[-1]))
    return net, X, y, loss


@pytest.mark.parametrize("seed", range(24))
def test_random_networks_pass_gradcheck(seed: int) -> None:
    net, X, y, loss = random_network_case(seed)
    report = gradcheck(net, X, y, loss, rtol=RTOL, atol=1e-8, max_checks_per_layer=None)
    assert report.passed, str(report)
    assert [c.shape for c in report.layers] == [W.shape for W in net.weights]
