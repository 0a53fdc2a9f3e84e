"""Numbers at the edges: the sigmoid's negative tail, and gradcheck with a large loss.

References: PyTorch (float64) for the sigmoid, the chain rule by hand for a saturated unit,
and a planted error that gradcheck must still see.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.engine.activations import ACTIVATIONS, Sigmoid


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_sigmoid_keeps_its_relative_precision_in_the_negative_tail(dtype) -> None:
    low = -87.0 if dtype == "float32" else -708.0  # where sigma is still a normal number
    e = np.linspace(low, 30.0, 20001).astype(dtype)
    with np.errstate(under="ignore"):
        h = ACTIVATIONS["sigmoid"].g(e.copy())
    want = torch.sigmoid(torch.from_numpy(e.astype(np.float64))).numpy()
    relative = np.abs(h - want) / want
    assert relative.max() < 8 * np.finfo(dtype).eps, e[np.argmax(relative)]


def test_the_sigmoid_saturates_without_an_error() -> None:
    e = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4, np.nan]], dtype=np.float32)
    with np.errstate(all="raise", under="ignore"):  # the training steps' errstate, stricter
        h = ACTIVATIONS["sigmoid"].g(e)
    np.testing.assert_array_equal(h, [[0.0, 0.0, 0.5, 1.0, 1.0, np.nan]])


def test_a_confidently_wrong_sigmoid_unit_still_has_its_gradient() -> None:
    """-ln sigma(e) at e = -50 is 50 (not ln of a clipped 0), and dL/de = sigma(e) - 1 = -1."""
    net = cr.Network.from_weights(
        [[[1.0, 0.0]]], ["sigmoid"], dtype="float64", loss="cross_entropy"
    )
    loss, (dL_dW,) = net.loss_and_gradients([[-50.0]], [0])
    assert loss == pytest.approx(50.0, rel=1e-12)
    np.testing.assert_allclose(dL_dW, [[50.0, -1.0]], rtol=1e-12)


def _regression_case(seed: int) -> tuple[cr.Network, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    net = cr.Network([3, 5, 2], ["tanh", "identity"], seed=seed, dtype="float64")
    return net, rng.normal(size=(6, 3)), rng.normal(size=(6, 2)) * 100  # L in the thousands


@pytest.mark.parametrize("seed", range(12))
def test_gradcheck_passes_correct_gradients_of_a_large_loss(seed) -> None:
    net, X, y = _regression_case(seed)
    assert cr.gradcheck(net, X, y).passed


def test_gradcheck_still_fails_a_wrong_gradient_of_a_large_loss() -> None:
    class OffByOnePercent(Sigmoid):
        def g_prime(self, e, h, out=None):
            d = super().g_prime(e, h, out)
            d *= 1.01
            return d

    net, X, y = _regression_case(0)
    wrong = cr.Network.from_weights(net.weights, [OffByOnePercent(), "identity"])
    assert cr.gradcheck(cr.Network.from_weights(net.weights, ["sigmoid", "identity"]), X, y).passed
    assert not cr.gradcheck(wrong, X, y).passed


_TORCH_G = {
    "identity": lambda e: e,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda e: torch.nn.functional.leaky_relu(e, 0.01),
    "softmax": lambda e: torch.softmax(e, dim=-1),
}


@pytest.mark.parametrize("name", sorted(_TORCH_G))
def test_g_and_g_prime_may_write_over_their_own_inputs(name) -> None:
    """``out=e`` (g) and ``out=h`` (g'): the leaky ReLU's g in place gave slope * e everywhere,
    the sigmoid's g' in place (1 - h)^2. References: torch's g and autograd's g'."""
    activation = ACTIVATIONS[name]
    e = np.array([[-3.0, -0.5, 0.25, 2.0], [1.5, -1.0, 0.0, 4.0]])
    torch_e = torch.from_numpy(e.copy()).requires_grad_()
    torch_h = _TORCH_G[name](torch_e)
    want_h = torch_h.detach().numpy()
    in_place = e.copy()
    assert activation.g(in_place, out=in_place) is in_place
    np.testing.assert_allclose(in_place, want_h, rtol=1e-15, atol=0)
    if not activation.elementwise:
        return
    want_g_prime = torch.autograd.grad(torch_h.sum(), torch_e)[0].numpy()
    for over in ("e", "h"):
        e_copy, h = e.copy(), want_h.copy()
        out = e_copy if over == "e" else h
        got = activation.g_prime(e_copy, h, out=out)
        np.testing.assert_allclose(got, want_g_prime, rtol=1e-12, atol=0, err_msg=over)
