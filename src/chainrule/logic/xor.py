"""XOR: impossible for one threshold unit, easy for two layers, learnable by back-propagation.

The lecture: "a linear classifier cannot learn an XOR function ... but a two-layer neural net can
compute an XOR function". This module has the three halves of that story:

* :func:`hand_wired_xor`: the lecture's net ``h1 = u(0.5 - x1 - x2)``, ``h2 = u(x1 + x2 - 1.5)``,
  ``y = u(0.5 - h1 - h2)``;
* :func:`xor_learned`: a ``2-H-2`` tanh + softmax network trained by back-propagation from a
  random start, and :func:`xor_success_count` over many seeds;
* :func:`softmax_decision_unit` and :func:`xor_without_hidden_layer`: a network with no hidden
  layer decides class 1 exactly when one linear function is positive, i.e. it *is* a threshold
  unit, which :func:`~chainrule.logic.separability.separability` proves cannot compute XOR.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from chainrule.engine.network import Network
from chainrule.engine.training import Trainer
from chainrule.errors import ValidationError
from chainrule.logic.gates import Neuron, TruthTable, binary_inputs

XOR_TABLE: TruthTable = {(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0}
"""``x1 xor x2``."""

XOR_X: NDArray[np.float64] = binary_inputs(2)
"""The four inputs, in the order of :data:`XOR_TABLE`."""

XOR_Y: NDArray[np.int64] = np.array(list(XOR_TABLE.values()), dtype=np.int64)
"""Their classes."""


def hand_wired_xor() -> Network:
    """The lecture's two-layer XOR network of step units.

    ``W^(1)`` rows are the hidden units ``h1 = u(0.5 - x1 - x2)`` (neither input on) and
    ``h2 = u(x1 + x2 - 1.5)`` (both on); ``W^(2)`` is ``y = u(0.5 - h1 - h2)`` (neither).

    >>> hand_wired_xor().forward(XOR_X).ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    W1 = [[-1.0, -1.0, 0.5], [1.0, 1.0, -1.5]]
    W2 = [[-1.0, -1.0, 0.5]]
    return Network.from_weights([W1, W2], activations=["step", "step"], dtype=np.float64)


@dataclass(frozen=True)
class XorRun:
    """One training run on the four XOR points."""

    seed: int
    network: Network
    epochs: int
    """Epochs trained (training stops at the first check with every point right)."""
    accuracy: float
    """Fraction of the four points classified correctly at the end."""
    history: list[float]
    """Mean cross-entropy of each epoch."""

    @property
    def solved(self) -> bool:
        """All four points right."""
        return self.accuracy == 1.0


def xor_accuracy(net: Network) -> float:
    """Fraction of the four XOR points that ``net`` classifies correctly."""
    return float(np.mean(net.predict(XOR_X) == XOR_Y))


def _train_xor(
    net: Network, seed: int, learning_rate: float, max_epochs: int, until_solved: bool
) -> XorRun:
    """Full-batch gradient descent, checking all four points every few epochs."""
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValidationError(f"max_epochs must be an integer >= 1; got {max_epochs!r}")
    trainer = Trainer(
        net, XOR_X, XOR_Y, learning_rate=learning_rate, batch_size=None, shuffle=False
    )
    check_every = 10
    accuracy = xor_accuracy(net)
    while trainer.epoch < max_epochs and not (until_solved and accuracy == 1.0):
        trainer.fit(min(check_every, max_epochs - trainer.epoch))
        accuracy = xor_accuracy(net)
    return XorRun(seed, net, trainer.epoch, accuracy, list(trainer.history))


def xor_learned(
    seed: int,
    *,
    hidden: int = 6,
    activation: str = "tanh",
    learning_rate: float = 1.0,
    max_epochs: int = 300,
    until_solved: bool = True,
) -> XorRun:
    """Train a ``2-hidden-2`` network (``activation`` then softmax) on XOR by back-propagation.

    Initialised from ``seed`` (Glorot; He for a ReLU hidden layer), full-batch gradient descent
    ``w <- w - eta dL/dw`` on the cross-entropy ``-ln h_y^(L)``, stopped as soon as all four
    points are right (checked every 10 epochs; ``until_solved=False`` trains on) or after
    ``max_epochs``. The defaults solve XOR for every seed in 0..99 within about 50 epochs; a
    sigmoid hidden layer needs a larger rate (``learning_rate=4``) and more epochs.
    """
    net = Network([2, hidden, 2], [activation, "softmax"], seed=seed, dtype=np.float64)
    return _train_xor(net, seed, learning_rate, max_epochs, until_solved)


def xor_success_count(
    seeds: Iterable[int] = range(100),
    *,
    hidden: int = 6,
    activation: str = "tanh",
    learning_rate: float = 1.0,
    max_epochs: int = 300,
) -> int:
    """How many of ``seeds`` :func:`xor_learned` (same options) brings to 100%."""
    return sum(
        xor_learned(
            seed,
            hidden=hidden,
            activation=activation,
            learning_rate=learning_rate,
            max_epochs=max_epochs,
        ).solved
        for seed in seeds
    )


def softmax_decision_unit(net: Network) -> Neuron:
    """The threshold unit that makes the same decisions as a network with no hidden layer.

    A one-layer, two-class softmax network predicts class 1 exactly when
    ``e_1^(1) > e_0^(1)`` (softmax neurons count from 0, like the classes; ties go to class 0),
    i.e. when ``u(w . x + b) = 1`` for
    ``w = W[1, :-1] - W[0, :-1]`` and ``b = W[1, -1] - W[0, -1]``: its decision is a single
    McCulloch-Pitts unit, so it inherits that unit's limits (no XOR).
    """
    if len(net.weights) != 1 or net.activations != ["softmax"] or net.sizes[-1] != 2:
        raise ValidationError(
            "softmax_decision_unit needs a network with one softmax layer of 2 units; "
            f"got sizes {net.sizes} with activations {net.activations}"
        )
    W = net.weights[0].astype(np.float64)
    difference = W[1] - W[0]
    return Neuron(tuple(difference[:-1].tolist()), float(difference[-1]))


def xor_without_hidden_layer(
    seed: int, *, learning_rate: float = 1.0, max_epochs: int = 300
) -> XorRun:
    """Train a ``2-2`` softmax network (no hidden layer) on XOR, as :func:`xor_learned` does.

    It never gets all four points right: its accuracy stays at or below 3/4, because its
    decision is one threshold unit (:func:`softmax_decision_unit`).
    """
    net = Network([2, 2], ["softmax"], seed=seed, dtype=np.float64)
    return _train_xor(net, seed, learning_rate, max_epochs, until_solved=True)
