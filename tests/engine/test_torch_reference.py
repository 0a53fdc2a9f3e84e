"""PyTorch autograd and torch.optim.SGD as an independent reference, in float64.

The same weights and batch go through chainrule and through a PyTorch graph written from the
lecture's equations (``e = h_prev @ W[:, :-1].T + W[:, -1]``, ``h = g(e)``); autograd's gradients
must equal back-propagation's to 1e-10, and 50 SGD steps must leave the same weights to 1e-9.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from chainrule.engine import Network, Trainer  # noqa: E402


@pytest.fixture(autouse=True)
def _float64_on_one_thread():
    """float64 by default, one thread (tiny tensors: threads only contend on a shared 2-core
    machine), for this module's tests only: set at import, they leaked into every later test
    that uses PyTorch (the benchmarks' float32 models became float64)."""
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)


TORCH_G = {
    "identity": lambda e: e,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda e: F.leaky_relu(e, negative_slope=0.01),
    "softmax": lambda e: torch.softmax(e, dim=1),
}


def torch_loss(loss: str, e_L, h_L, y):
    """The loss as PyTorch computes it (from the logits where the pair allows it)."""
    n = h_L.shape[0]
    if loss == "cross_entropy":
        return F.cross_entropy(e_L, y)  # = -mean ln softmax(e)_y
    if loss == "binary_cross_entropy":  # summed over outputs, mean over tokens
        return F.binary_cross_entropy_with_logits(e_L, y, reduction="sum") / n
    return F.mse_loss(h_L, y)


def torch_forward(weights, activations, X):
    h = X
    e = None
    for W, activation in zip(weights, activations, strict=True):
        e = h @ W[:, :-1].T + W[:, -1]  # e_j = sum_k w_jk h_k + w_j,bias * 1
        h = TORCH_G[activation](e)
    return e, h


CASES = [
    # (hidden activations, output activation, loss)
    (["sigmoid"], "softmax", "cross_entropy"),
    (["tanh", "relu"], "softmax", "cross_entropy"),
    (["leaky_relu", "identity"], "sigmoid", "binary_cross_entropy"),
    (["relu"], "identity", "mse"),
    (["tanh", "sigmoid", "leaky_relu"], "softmax", "mse"),
    ([], "sigmoid", "mse"),
    (["identity"], "tanh", "mse"),
    ([], "softmax", "cross_entropy"),
]


def make_case(index: int, n: int = 12):
    hidden, output, loss = CASES[index]
    rng = np.random.default_rng(100 + index)
    sizes = [3] + [int(s) for s in rng.integers(2, 6, size=len(hidden))] + [3]
    net = Network(sizes, [*hidden, output], seed=index, dtype="float64", loss=loss)
    for W in net.weights:
        W[:, -1] = rng.normal(scale=0.3, size=len(W))
    X = rng.normal(size=(n, 3))
    if loss == "cross_entropy":
        y = rng.integers(0, 3, size=n)
    elif loss == "binary_cross_entropy":
        y = rng.integers(0, 2, size=(n, 3)).astype(np.float64)
    else:
        y = rng.normal(size=(n, 3))
    return net, X, y, loss


def torch_targets(loss: str, y: np.ndarray):
    return torch.tensor(y, dtype=torch.long if loss == "cross_entropy" else torch.float64)


@pytest.mark.parametrize(
    "index", range(len(CASES)), ids=lambda i: "-".join([*CASES[i][0], CASES[i][1], CASES[i][2]])
)
def test_loss_and_every_gradient_match_autograd(index: int) -> None:
    net, X, y, loss = make_case(index)
    value, grads = net.loss_and_gradients(X, y)

    weights = [torch.tensor(W, requires_grad=True) for W in net.weights]
    e_L, h_L = torch_forward(weights, net.activations, torch.tensor(X))
    reference = torch_loss(loss, e_L, h_L, torch_targets(loss, y))
    reference.backward()

    assert value == pytest.approx(reference.item(), rel=1e-10, abs=1e-12)
    for l, (ours, W) in enumerate(zip(grads, weights, strict=True), start=1):
        np.testing.assert_allclose(
            ours, W.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"dL/dW^({l})"
        )


@pytest.mark.parametrize("index", [1, 2, 3])
def test_fifty_sgd_steps_match_torch_optim_sgd(index: int) -> None:
    net, X, y, loss = make_case(index, n=32)
    batch_size, lr = 8, 0.05
    trainer = Trainer(net, X, y, learning_rate=lr, batch_size=batch_size, shuffle=False)
    for _ in range(50):
        trainer.step_minibatch()

    weights = [torch.tensor(W, requires_grad=True) for W in make_case(index, n=32)[0].weights]
    optimizer = torch.optim.SGD(weights, lr=lr)
    X_t, y_t = torch.tensor(X), torch_targets(loss, y)
    for step in range(50):
        rows = slice((step * batch_size) % len(X), (step * batch_size) % len(X) + batch_size)
        optimizer.zero_grad()
        e_L, h_L = torch_forward(weights, net.activations, X_t[rows])
        torch_loss(loss, e_L, h_L, y_t[rows]).backward()
        optimizer.step()

    assert trainer.steps == 50
    for l, (ours, W) in enumerate(zip(net.weights, weights, strict=True), start=1):
        np.testing.assert_allclose(
            ours, W.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=f"W^({l})"
        )
