"""The optimizers against ``torch.optim`` in float64: same net, weights, data order -> same weights.

Each case trains a 4-8-3 tanh/softmax network for 100 minibatch steps (data in a fixed order, 3
minibatches per epoch) with chainrule's :class:`Trainer` and with ``torch.optim`` on the same
matrices ``W^(l)`` (bias in the last column, so weight decay reaches the bias in both), then
compares every weight. The largest difference seen is printed (run with ``-s``) for the report.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from chainrule.engine.network import Network  # noqa: E402
from chainrule.engine.optimizers import make_optimizer  # noqa: E402
from chainrule.engine.training import Trainer  # noqa: E402

torch.set_num_threads(1)  # tiny tensors: threads only add contention on a shared machine

STEPS = 100

CASES = [
    ("sgd", {}, lambda p, lr, wd: torch.optim.SGD(p, lr=lr, weight_decay=wd)),
    (
        "momentum",
        {"momentum": 0.9},
        lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, weight_decay=wd),
    ),
    (
        "nesterov",
        {"momentum": 0.8},
        lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.8, nesterov=True, weight_decay=wd),
    ),
    ("adam", {}, lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd)),
    (
        "adam",
        {"beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6},
        lambda p, lr, wd: torch.optim.Adam(p, lr=lr, betas=(0.8, 0.99), eps=1e-6, weight_decay=wd),
    ),
]


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    X = rng.normal(size=(48, 4))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64) + (X[:, 3] > 1)
    return X, y


def _torch_weights(W_init, X, y, make, batch_size):
    Ws = [torch.tensor(W.copy(), dtype=torch.float64, requires_grad=True) for W in W_init]
    optimizer = make(Ws)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    n = len(X)
    for step in range(STEPS):
        start = (step * batch_size) % n
        xb, yb = Xt[start : start + batch_size], yt[start : start + batch_size]
        optimizer.zero_grad()
        h = xb
        for l, W in enumerate(Ws):
            e = h @ W[:, :-1].T + W[:, -1]  # e = W [h; 1]
            h = torch.tanh(e) if l < len(Ws) - 1 else e
        loss = torch.nn.functional.cross_entropy(h, yb)
        loss.backward()
        optimizer.step()
    return [W.detach().numpy() for W in Ws]


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize(
    ("name", "options", "make"), CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)]
)
def test_same_weights_as_torch_optim_after_100_steps(name, options, make, weight_decay):
    X, y = _data()
    lr = 0.01 if name == "adam" else 0.1
    net = Network([4, 8, 3], ["tanh", "softmax"], seed=3, dtype="float64")
    W_init = [W.copy() for W in net.weights]
    optimizer = make_optimizer(name, lr, weight_decay=weight_decay, **options)
    trainer = Trainer(net, X, y, optimizer=optimizer, batch_size=16, shuffle=False)
    for _ in range(STEPS):
        trainer.step_minibatch()
    assert trainer.steps == STEPS
    expected = _torch_weights(W_init, X, y, lambda p: make(p, lr, weight_decay), 16)
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(net.weights, expected))
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(net.weights, W_init))
    print(f"\n{name} {options} weight_decay={weight_decay}: max |difference| {difference:.3g}")
    assert moved > 1e-2  # the weights really travelled
    # 1.3e-15 measured here (the README's 2e-15); another BLAS may sum a product's terms in
    # another order, which 100 steps carry forward, so the bound leaves it two decades
    assert difference <= 1e-13


def test_explicit_permutation_matches_torch_with_shuffling():
    """With shuffling on, torch visits the data in the order chainrule's generator drew."""
    X, y = _data()
    net = Network([4, 8, 3], ["tanh", "softmax"], seed=5, dtype="float64")
    W_init = [W.copy() for W in net.weights]
    trainer = Trainer(net, X, y, optimizer=make_optimizer("adam", 0.01), batch_size=16, seed=11)
    orders = []
    for _ in range(STEPS):
        if not trainer.in_epoch:
            trainer.step_minibatch()
            orders.append(trainer._order.copy())
        else:
            trainer.step_minibatch()
    replay = np.random.default_rng(11)
    drawn = [replay.permutation(len(X)) for _ in orders]
    assert all(np.array_equal(a, b) for a, b in zip(orders, drawn))
    order = np.concatenate(drawn)
    expected = _torch_weights(
        W_init, X[order], y[order], lambda p: torch.optim.Adam(p, lr=0.01), 16
    )
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(net.weights, expected))
    assert difference <= 1e-13
