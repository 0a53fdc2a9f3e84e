"""Optimizers refuse, by index, what they cannot update in place, and keep torch's numbers.

A ``(3,)`` gradient for ``(2, 3)`` weights was broadcast (every row took the same step), lists
and int arrays failed deep in numpy ("cannot create weak reference to 'list' object"), a loaded
state of other shapes failed with a broadcasting error, and ``make_optimizer("sgd",
momentum=0.9)`` with Python's TypeError. The checks run once per new set of parameters: the
steps themselves are still ``torch.optim``'s.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine.optimizers import SGD, Adam, Momentum, make_optimizer
from chainrule.errors import ValidationError

torch = pytest.importorskip("torch")

MAKERS = [
    lambda: SGD(0.1),
    lambda: SGD(0.1, weight_decay=0.01),
    lambda: Momentum(0.1, 0.9),
    lambda: Momentum(0.1, 0.9, nesterov=True),
    lambda: Adam(0.1),
]


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize(
    ("params", "grads", "message"),
    [
        ([np.zeros((2, 3))], [np.ones(3)], r"grads\[0\] has shape \(3,\) but params\[0\]"),
        ([np.zeros((2, 3))], [np.ones((3, 2))], r"grads\[0\] has shape \(3, 2\)"),
        ([[0.0, 0.0]], [np.ones(2)], r"params\[0\] must be a numpy array"),
        ([np.zeros(2, dtype=int)], [np.ones(2)], r"params\[0\] has dtype int64"),
        (np.zeros(2), np.ones(2), "params must be a list of arrays"),
    ],
)
def test_what_cannot_be_updated_in_place_is_named(make, params, grads, message):
    with pytest.raises(ValidationError, match=message):
        make().step(params, grads)


def test_read_only_parameters_are_named():
    W = np.zeros(2)
    W.flags.writeable = False
    with pytest.raises(ValidationError, match=r"params\[0\] is read-only"):
        Adam().step([W], [np.ones(2)])


@pytest.mark.parametrize("make", [lambda: Momentum(0.1, 0.9), lambda: Adam(0.1)])
def test_a_loaded_state_of_other_shapes_is_refused_by_name(make):
    trained = make()
    trained.step([np.zeros(3)], [np.ones(3)])
    fresh = make()
    fresh.load_state_dict(trained.state_dict())
    with pytest.raises(ValidationError, match=r"state '(velocity|m)' holds arrays of shapes"):
        fresh.step([np.zeros((2, 2))], [np.ones((2, 2))])


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("sgd", {"momentum": 0.9}, "'sgd' has no option 'momentum'; it takes weight_decay"),
        ("nesterov", {"nesterov": False}, "'nesterov' has no option 'nesterov'"),
        ("adam", {"betas": (0.9, 0.99)}, "'adam' has no option 'betas'; it takes beta_1"),
    ],
)
def test_make_optimizer_names_an_unknown_option(name, options, message):
    with pytest.raises(ValidationError, match=message):
        make_optimizer(name, 0.1, **options)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_takes_list_gradients_and_still_matches_torch(nesterov):
    """Gradients given as nested lists (accepted by SGD and Adam) failed in Momentum's first
    step (``list.copy()``); 30 steps from lists equal ``torch.optim.SGD``'s."""
    rng = np.random.default_rng(1)
    W = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(30)]
    reference = torch.tensor(W.copy(), requires_grad=True)
    torch_sgd = torch.optim.SGD([reference], lr=0.05, momentum=0.8, nesterov=nesterov)
    ours = Momentum(0.05, 0.8, nesterov=nesterov)
    for g in grads:
        ours.step([W], [g.tolist()])
        reference.grad = torch.tensor(g)
        torch_sgd.step()
    np.testing.assert_allclose(W, reference.detach().numpy(), rtol=0, atol=1e-14)
